/* kiln serve: registered models or artifact files behind HTTP (the Open
 * Inference Protocol and the v1 predict form; kiln/serve.h). */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/serve.h"
#include "kiln/store.h"

#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct serve_args {
    const char *store, *host, *access_log;
    cli_list models;
    int64_t port, max_body, max_connections, timeout;
    const char *prediction_log; /* observing: live statistics, the prediction log */
    double sample;
    uint64_t sample_seed;
    int no_live_stats;
} serve_args;

static const cli_opt serve_opts[] = {
    CLI_OPT_LIST(serve_args, models, "model", "NAME[@STAGE|@vN]|NAME=FILE",
                 "a model to serve: a registered one (NAME@production, NAME@staging, NAME@v3; "
                 "NAME alone: production, else the latest) or an artifact file as NAME"),
    CLI_OPT_TEXT(serve_args, store, "store", "DIR",
                 "the store of registered models (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_INT(serve_args, port, "port", "N", "8080", 0, 65535,
                "the port to listen on (0: any free one, printed at start)"),
    CLI_OPT_TEXT(serve_args, host, "host", "ADDR",
                 "the address to listen on, numeric (default 127.0.0.1; 0.0.0.0 for every "
                 "interface)"),
    CLI_OPT_INT(serve_args, max_body, "max-body", "BYTES", "1048576", 1, 1073741824,
                "the largest request body; larger ones get 413"),
    CLI_OPT_INT(serve_args, max_connections, "max-connections", "N", "1024", 1, 65536,
                "open connections at once"),
    CLI_OPT_INT(serve_args, timeout, "timeout", "SECONDS", "30", 1, 3600,
                "close a connection idle this long (slow clients cannot hold a thread)"),
    CLI_OPT_TEXT(serve_args, access_log, "access-log", "FILE",
                 "append one JSON line per request (time, request id, method, path, status, "
                 "latency, rows)"),
    CLI_OPT_FLAG(serve_args, no_live_stats, "no-live-stats",
                 "no per-input statistics (kiln_feature_*) in /metrics"),
    CLI_OPT_TEXT(serve_args, prediction_log, "prediction-log", "FILE",
                 "append one JSON line per predicted row (time, request id, model, version, "
                 "inputs, output)"),
    CLI_OPT_NUM(serve_args, sample, "sample", "FRACTION", "1", 0, 1,
                "the share of rows --prediction-log keeps (sampled by request id and row)"),
    CLI_OPT_SEED(serve_args, sample_seed, "sample-seed", "0", "the seed of --sample's choice"),
    CLI_OPT_END};

const cli_spec serve_spec = {
    "serve",
    "serve models over HTTP (Open Inference Protocol)",
    "Serve models over HTTP: each --model is loaded once at start (a missing or\n"
    "damaged artifact stops the start with the reason). Routes (KServe v2 REST):\n"
    "GET /v2/health/live, /v2/health/ready, /v2/models/NAME[/versions/V] (inputs\n"
    "and outputs), /v2/models/NAME/ready; POST /v2/models/NAME/infer (one tensor\n"
    "per input column); POST /v1/models/NAME:predict with {\"instances\": [{col:\n"
    "value, ...}]} or {\"inputs\": {col: [values]}}; GET /metrics (Prometheus).\n"
    "Rows are raw: the artifact's input schema checks them (400 naming the field\n"
    "and row), then the pipeline's steps and model run. --threads N sets the\n"
    "pool (default: a thread per core). SIGTERM or SIGINT stops taking\n"
    "connections, lets the requests in flight finish, and exits 0.\n"
    "/metrics also shows live statistics of each model's inputs (count, missing,\n"
    "mean, stddev, quantiles, top categories; --no-live-stats: off).\n"
    "--prediction-log FILE appends a JSON line per predicted row (time, request\n"
    "id, row, model, version, inputs, output); --sample F keeps that share of rows.\n",
    "  kiln serve --model credit@production --store kiln-store\n"
    "  kiln serve --model churn=churn.kiln --port 9000 --access-log access.jsonl\n"
    "  curl -d '{\"instances\": [{\"age\": 41, ...}]}' localhost:8080/v1/models/credit:predict\n",
    serve_opts,
    0,
    cmd_serve};

/* main() tunes malloc for batch commands (kn_mem_tune_process: big
 * buffers stay in the heap for reuse). A server wants the opposite: a
 * large request body is mapped and handed back when freed, so the
 * resident size stays flat however big the bodies were. */
static void tune_malloc_for_serving(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    const char *t = getenv("GLIBC_TUNABLES");
    if ((t && strstr(t, "glibc.malloc.")) || getenv("MALLOC_MMAP_THRESHOLD_") ||
        getenv("MALLOC_TRIM_THRESHOLD_"))
        return;
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
#endif
}

/* Load one --model value into s. */
static int add_model(kn_server *s, kn_store **store, const char *store_dir, const char *ref)
{
    const char *eq = strchr(ref, '=');
    char *name = NULL, *path = NULL, version[24] = "1";
    kn_status e = KN_OK;
    if (eq) {
        name = kn_sprintf("%.*s", (int)(eq - ref), ref);
        path = kn_strdup(eq + 1);
        if (!name || !path) e = KN_ERR_NOMEM;
    } else {
        int v = 0;
        const char *at = strchr(ref, '@');
        name = at ? kn_sprintf("%.*s", (int)(at - ref), ref) : kn_strdup(ref);
        if (!name) e = KN_ERR_NOMEM;
        if (e == KN_OK && !*store) e = kn_store_open(store_dir, 0, store);
        if (e == KN_OK) e = kn_store_resolve(*store, ref, &path, &v, NULL);
        snprintf(version, sizeof version, "%d", v);
    }
    if (e == KN_OK && !name[0])
        e = kn_fail(KN_ERR_INVALID, "--model %s: the name before '%c' is empty", ref,
                    eq ? '=' : '@');
    if (e == KN_OK) e = kn_server_add_model(s, name, version, path);
    if (e != KN_OK) cli_error("serve: --model %s: %s", ref, kn_last_error());
    kn_free(name);
    kn_free(path);
    return e == KN_OK ? CLI_OK : CLI_FAIL;
}

int cmd_serve(int argc, char **argv)
{
    serve_args a = {0};
    int rc = cli_parse(&serve_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (!a.models.n)
        return cli_usage_error("serve", "give at least one --model (NAME@production or "
                                        "NAME=FILE.kiln)");
    /* the signals that stop the server wait for sigwait below, in this
     * thread; the pool's threads (made after this) inherit the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    tune_malloc_for_serving();
    kn_serve_opts o;
    kn_serve_opts_default(&o);
    if (a.host) o.host = a.host;
    o.port = (int)a.port;
    o.threads = (int)cli.threads;
    o.max_body = (size_t)a.max_body;
    o.max_connections = (unsigned)a.max_connections;
    o.timeout_s = (unsigned)a.timeout;
    o.access_log = a.access_log;
    o.live_stats = !a.no_live_stats;
    o.prediction_log = a.prediction_log;
    o.prediction_sample = a.sample;
    o.prediction_seed = a.sample_seed;
    kn_server *s = NULL;
    kn_store *store = NULL;
    if (kn_server_new(&o, &s) != KN_OK) {
        cli_error("serve: %s", kn_last_error());
        return CLI_FAIL;
    }
    rc = CLI_OK;
    for (size_t i = 0; rc == CLI_OK && i < a.models.n; i++)
        rc = add_model(s, &store, a.store, a.models.v[i]);
    kn_store_close(store);
    if (rc == CLI_OK && kn_server_start(s) != KN_OK) {
        cli_error("serve: %s", kn_last_error());
        rc = CLI_FAIL;
    }
    if (rc != CLI_OK) {
        kn_server_free(s);
        return rc;
    }
    if (cli.json) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:[]}", "command", "serve", "host", o.host, "port",
                              kn_server_port(s), "models");
        for (size_t i = 0; i < a.models.n; i++)
            json_array_append_new(json_object_get(j, "models"), json_string(a.models.v[i]));
        char *text = json_dumps(j, JSON_COMPACT);
        if (text) printf("%s\n", text);
        free(text);
        json_decref(j);
        fflush(stdout);
    } else if (!cli.quiet) {
        fprintf(stderr, "kiln serve: listening on http://%s:%d with %zu model(s)\n", o.host,
                kn_server_port(s), a.models.n);
    }
    int sig = 0;
    sigwait(&stop, &sig);
    if (!cli.quiet && !cli.json)
        fprintf(stderr, "kiln serve: %s: finishing the requests in flight\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    unsigned left = kn_server_drain(s, 30.0);
    if (left) cli_error("serve: %u request(s) still in flight after 30 s; closing them", left);
    kn_server_free(s);
    return CLI_OK;
}
