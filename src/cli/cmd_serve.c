/* kiln serve: registered models or artifact files behind HTTP (the Open
 * Inference Protocol and the v1 predict form; kiln/serve.h). */
#include "cli/cli.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/serve.h"

#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct serve_args {
    const char *store, *host, *access_log, *shadow_log, *verify_key;
    cli_list models, canaries, shadows;
    int64_t port, max_body, max_header, max_connections, timeout;
    double poll;
    const char *tls_cert, *tls_key; /* auth.c */
    int require_key;
    double rate_limit;
    const char *prediction_log; /* observing: live statistics, the prediction log */
    double sample;
    uint64_t sample_seed;
    int no_live_stats;
    int64_t feedback_ring, feedback_window; /* delayed labels */
    int64_t drift_window, drift_slide;
    int record_windows;
    int no_anomalies; /* input anomalies per drift window */
    double anomaly_alpha;
    int64_t anomaly_rows;
    double anomaly_contamination;
    int64_t anomaly_seed;
    double retrain_grace;
    const char *alerts;
    double ops_interval; /* operational anomalies */
    const char *ops_webhook;
} serve_args;

static const cli_opt serve_opts[] = {
    CLI_OPT_LIST(serve_args, models, "model", "NAME[@STAGE|@vN]|NAME=FILE",
                 "a model to serve: a registered one (NAME@production, NAME@staging, NAME@v3; "
                 "NAME alone: production, else the latest) or an artifact file as NAME"),
    CLI_OPT_LIST(serve_args, canaries, "canary", "NAME@vN=P%|NAME=FILE=P%",
                 "send P% of model NAME's predict requests to this version (the rest to the "
                 "main one)"),
    CLI_OPT_LIST(serve_args, shadows, "shadow", "NAME@vN|NAME=FILE",
                 "score model NAME's requests again with this version in the background "
                 "(logged and compared, never returned)"),
    CLI_OPT_TEXT(serve_args, shadow_log, "shadow-log", "FILE",
                 "append one JSON line per shadowed request (request id, both versions, both "
                 "outputs, agree)"),
    CLI_OPT_NUM(serve_args, poll, "poll", "SECONDS", "30", 0, 86400,
                "re-resolve registered models this often and swap in a new version (0: never)"),
    CLI_OPT_TEXT(serve_args, verify_key, "verify-key", "NAME.pub",
                 "refuse an artifact not signed with this key's secret half (at start and on "
                 "every reload)"),
    CLI_OPT_TEXT(serve_args, store, "store", "DIR",
                 "the store of registered models and API keys (default $KILN_STORE, else "
                 "./kiln-store)"),
    CLI_OPT_INT(serve_args, port, "port", "N", "8080", 0, 65535,
                "the port to listen on (0: any free one, printed at start)"),
    CLI_OPT_TEXT(serve_args, host, "host", "ADDR",
                 "the address to listen on, numeric (default 127.0.0.1; 0.0.0.0 for every "
                 "interface)"),
    CLI_OPT_INT(serve_args, max_body, "max-body", "BYTES", "1048576", 1, 1073741824,
                "the largest request body; larger ones get 413"),
    CLI_OPT_INT(serve_args, max_header, "max-header", "BYTES", "32768", 1024, 1048576,
                "the largest request line and headers; larger ones get 431"),
    CLI_OPT_INT(serve_args, max_connections, "max-connections", "N", "1024", 1, 65536,
                "open connections at once"),
    CLI_OPT_INT(serve_args, timeout, "timeout", "SECONDS", "30", 1, 3600,
                "close a connection idle this long (slow clients cannot hold a thread)"),
    CLI_OPT_TEXT(serve_args, access_log, "access-log", "FILE",
                 "append one JSON line per request (time, request id, method, path, status, "
                 "latency, rows, key)"),
    CLI_OPT_FLAG(serve_args, require_key, "require-key",
                 "every route but /v2/health/* needs an API key ('kiln keys create'); /admin/ "
                 "routes always need an admin key"),
    CLI_OPT_NUM(serve_args, rate_limit, "rate-limit", "N", "0", 0, 1e9,
                "requests per second per API key without its own --rate (0: no limit); over "
                "it: 429 with Retry-After"),
    CLI_OPT_TEXT(serve_args, tls_cert, "tls-cert", "FILE",
                 "serve HTTPS with this PEM certificate (with --tls-key)"),
    CLI_OPT_TEXT(serve_args, tls_key, "tls-key", "FILE", "the PEM private key of --tls-cert"),
    CLI_OPT_FLAG(serve_args, no_live_stats, "no-live-stats",
                 "no per-input statistics (kiln_feature_*) in /metrics"),
    CLI_OPT_TEXT(serve_args, prediction_log, "prediction-log", "FILE",
                 "append one JSON line per predicted row (time, request id, model, version, "
                 "inputs, output)"),
    CLI_OPT_NUM(serve_args, sample, "sample", "FRACTION", "1", 0, 1,
                "the share of rows --prediction-log keeps (sampled by request id and row)"),
    CLI_OPT_SEED(serve_args, sample_seed, "sample-seed", "0", "the seed of --sample's choice"),
    CLI_OPT_INT(serve_args, feedback_ring, "feedback-ring", "N", "65536", 0, 1 << 30,
                "predicted rows kept per version for POST .../feedback to join labels to "
                "(0: no feedback)"),
    CLI_OPT_INT(serve_args, feedback_window, "feedback-window", "N", "1000", 1, 1e8,
                "labels per window of the live score (kiln_feedback_* in /metrics)"),
    CLI_OPT_INT(serve_args, drift_window, "drift-window", "N", "0", 0, 1e7,
                "drift tests of the inputs and predictions per window of N rows against the "
                "artifact's reference (kiln_drift_* in /metrics; 0: off)"),
    CLI_OPT_INT(serve_args, drift_slide, "drift-slide", "M", "0", 0, 1e7,
                "sliding windows: test the last --drift-window rows every M rows (1 to N; 0: "
                "every N rows, tumbling)"),
    CLI_OPT_FLAG(serve_args, no_anomalies, "no-anomalies",
                 "do not score each drift window's rows for input anomalies (kiln_anomaly_*)"),
    CLI_OPT_NUM(serve_args, anomaly_alpha, "anomaly-alpha", "P", "0.001", 1e-12, 0.5,
                "flag a drift window whose anomalous share is over the reference's at this "
                "level (per window)"),
    CLI_OPT_INT(serve_args, anomaly_rows, "anomaly-rows", "N", "256", 0, 1e7,
                "score at most about N rows of a drift window for input anomalies: a larger "
                "window is scored on a systematic sample of its rows (0: every row)"),
    CLI_OPT_NUM(serve_args, anomaly_contamination, "anomaly-contamination", "F", "0.01", 1e-6, 0.5,
                "the input-anomaly forest's threshold: this share of the reference rows is past "
                "it (as kiln monitor anomalies --contamination)"),
    CLI_OPT_INT(serve_args, anomaly_seed, "anomaly-seed", "S", "0", 0, 1e15,
                "the seed of the input-anomaly forest (as kiln monitor anomalies --seed)"),
    CLI_OPT_NUM(serve_args, retrain_grace, "retrain-grace", "SECONDS", "60", 0, 86400,
                "on stop, how long a running retrain: child may take to end before it is sent "
                "SIGTERM (SIGKILL 10 s later); its incident is delivered with the outcome"),
    CLI_OPT_FLAG(serve_args, record_windows, "record-windows",
                 "record each finished drift window, --ops-interval interval and feedback "
                 "window in the store's monitoring tables, as kiln monitor check --record, kiln "
                 "monitor ops --record and kiln monitor feedback --record do, and keep the alert "
                 "incidents there (kiln monitor alerts, kiln monitor report read them)"),
    CLI_OPT_TEXT(serve_args, alerts, "alerts", "FILE",
                 "alert rules and sinks (YAML, as kiln monitor check --alerts) evaluated on "
                 "each finished drift window, --ops-interval interval and feedback window"),
    CLI_OPT_NUM(serve_args, ops_interval, "ops-interval", "SECONDS", "0", 0, 86400,
                "watch each model's and the server's requests, error share and p95 latency "
                "per interval of SECONDS for jumps, drops and flat-lines (kiln_ops_* in "
                "/metrics, events in the log and --access-log; 0: off)"),
    CLI_OPT_TEXT(serve_args, ops_webhook, "ops-webhook", "URL",
                 "also POST each operational anomaly event (JSON) to URL (with --ops-interval)"),
    CLI_OPT_END};

const cli_spec serve_spec = {
    "serve",
    "serve models over HTTP (Open Inference Protocol)",
    "Serve models over HTTP: each --model is loaded at start (a missing or\n"
    "damaged artifact stops the start with the reason). Routes (KServe v2 REST):\n"
    "GET /v2/health/live, /v2/health/ready, /v2/models/NAME[/versions/V] (inputs\n"
    "and outputs), /v2/models/NAME/ready; POST /v2/models/NAME/infer (one tensor\n"
    "per input column; \"outputs\": [{\"name\": \"proba_1\"}] returns those alone);\n"
    "POST /v1/models/NAME:predict with {\"instances\": [{col:\n"
    "value, ...}]} or {\"inputs\": {col: [values]}}; GET /metrics (Prometheus).\n"
    "Rows are raw: the artifact's input schema checks them (400 naming the field\n"
    "and row), then the pipeline's steps and model run. --threads N sets the\n"
    "pool (default: a thread per core). SIGTERM or SIGINT stops taking\n"
    "connections, lets the requests in flight finish, and exits 0.\n"
    "\n"
    "Versions are swapped without dropping a request (each request finishes on\n"
    "the version it started on). POST /admin/models/NAME/reload re-reads the\n"
    "source (the registry ref re-resolved, or the file); SIGHUP reloads every\n"
    "model; --poll re-resolves registered models every SECONDS (default 30) and\n"
    "picks up a new version, e.g. after kiln models promote. A new version is\n"
    "loaded and checked first: one that does not load, or is incompatible (another\n"
    "task or classes, an input column dropped or retyped, a newly required\n"
    "column), is refused with the reason (409) and the old one keeps serving.\n"
    "POST /admin/models/NAME/rollback returns to the version served before; for\n"
    "NAME@production it rolls the registry back too, so polling agrees (the\n"
    "registry must be at the version served); otherwise polling leaves the model\n"
    "alone until the next reload. GET /admin/models shows what serves. Answers\n"
    "carry X-Model-Version. /metrics counts requests, rows and latency per model\n"
    "version, load seconds, reloads, rollbacks and shadow agreement.\n"
    "\n"
    "API keys (kiln keys) of the store are checked on 'Authorization: Bearer\n"
    "KEY': /admin/ routes always need an admin key (401 without a key, 403 with\n"
    "a predict key); with --require-key every other route but health needs a\n"
    "key too (/metrics included). A revoked key is refused within ~2 s. With\n"
    "--tls-cert and --tls-key the server speaks HTTPS only.\n"
    "\n"
    "/metrics also shows live statistics of each model's inputs (count, missing,\n"
    "mean, stddev, quantiles, top categories; --no-live-stats: off).\n"
    "--prediction-log FILE appends a JSON line per predicted row (time, request\n"
    "id, row, model, version, inputs, output; written every 50 ms from buffers per\n"
    "thread, so not in request order); --sample F keeps that share of rows.\n"
    "POST /v2/models/NAME/feedback {\"labels\": [{\"request_id\": 17, \"label\": \"yes\"}]}\n"
    "joins true labels to the recent predictions (X-Request-Id; \"row\" for a batch's\n"
    "later rows) and scores each --feedback-window of them, in the order they come,\n"
    "per version in /metrics (kiln_feedback_accuracy, _roc_auc, _rmse, _mae);\n"
    "unknown ids are counted and named, and a prediction labelled again keeps its\n"
    "first label (the rest: duplicates).\n"
    "--ops-interval SECONDS scores each model's (and the server's) predict requests\n"
    "per interval, their error share and p95 latency against an EWMA baseline with\n"
    "an hour-of-day term: a jump, a drop or a flat-line (no traffic) is an event,\n"
    "logged, written to --access-log and POSTed to --ops-webhook (kiln_ops_*);\n"
    "--record-windows keeps each interval in the store (the server's series under\n"
    "(server), each model's under its ref or name), as kiln monitor ops --record.\n"
    "--drift-window N tests each version's inputs and predictions per window of N\n"
    "rows (a classifier's predicted classes and its scores, column \"(score)\", as\n"
    "kiln monitor check; --drift-slide M: the last N rows every M rows);\n"
    "--record-windows keeps each window in the store (and each --feedback-window\n"
    "of labels' live scores),\n"
    "--alerts FILE runs kiln monitor check's alert rules\n"
    "on each window (and ops_* rules on each --ops-interval, live_* rules on each\n"
    "--feedback-window of labels), on a thread of their own: log and webhook sinks,\n"
    "one delivery per incident, per rule and scope (main, canary); a rule's retrain:\n"
    "runs this binary's kiln monitor retrain as a child process (one per model at a\n"
    "time; on stop it gets --retrain-grace seconds, then SIGTERM), and its incident\n"
    "is delivered with the result. With --record-windows an incident left open\n"
    "without a retrain by an earlier run (stopped first, or another retrain of the\n"
    "model ran) has its retrain run at start, once per incident. Each window's\n"
    "rows are also scored for input anomalies on that thread (--no-anomalies:\n"
    "off), as kiln monitor anomalies does: an isolation forest fitted at load on\n"
    "the artifact's sample of its training rows (none in an older artifact:\n"
    "scoring is off, the log says so), and the window's anomalous share tested against the\n"
    "reference's (beta-binomial, --anomaly-alpha per window): kiln_anomaly_* in\n"
    "/metrics, rules on anomaly_share, anomaly_p, anomalous, anomalous_windows. A\n"
    "window of more than --anomaly-rows rows is scored on a systematic sample of\n"
    "about that many (which bounds the forest's cost per window).\n",
    "  kiln serve --model credit@production --store kiln-store\n"
    "  kiln serve --model churn=churn.kiln --port 9000 --access-log access.jsonl\n"
    "  kiln serve --model credit@production --canary credit@v4=10% --shadow credit@v5 \\\n"
    "      --shadow-log shadow.jsonl\n"
    "  kiln serve --model credit --require-key --rate-limit 100 --tls-cert c.pem --tls-key k.pem\n"
    "  kiln serve --model credit@production --ops-interval 60 --access-log access.jsonl\n"
    "  kiln serve --model credit@production --drift-window 1000 --drift-slide 250 \\\n"
    "      --record-windows --alerts alerts.yaml\n"
    "  curl -X POST -H 'Authorization: Bearer KEY' localhost:8080/admin/models/credit/reload\n"
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

/* A --model, --canary or --shadow value: NAME=FILE or a registry ref
 * NAME[@...], with "=P%" at the end for a canary. */
typedef struct model_value {
    char *name, *path, *ref;
    double share;
} model_value;

static void model_value_free(model_value *v)
{
    kn_free(v->name);
    kn_free(v->path);
    kn_free(v->ref);
}

static kn_status parse_value(const char *opt, const char *text, int with_share, model_value *v)
{
    memset(v, 0, sizeof *v);
    char *t = kn_strdup(text);
    if (!t) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    if (with_share) {
        char *eq = strrchr(t, '='), *end = NULL;
        double p = eq ? strtod(eq + 1, &end) : 0;
        if (!eq || end == eq + 1 || strcmp(end, "%") || !(p > 0 && p < 100))
            e = kn_fail(KN_ERR_INVALID,
                        "--%s %s: end it with =P%% for the share of requests, over 0 and under "
                        "100 (e.g. credit@v4=10%%)",
                        opt, text);
        else
            *eq = 0, v->share = p / 100;
    }
    const char *eq = strchr(t, '=');
    if (e == KN_OK && eq) {
        v->name = kn_sprintf("%.*s", (int)(eq - t), t);
        v->path = kn_strdup(eq + 1);
        if (!v->name || !v->path) e = KN_ERR_NOMEM;
    } else if (e == KN_OK) {
        const char *at = strchr(t, '@');
        v->name = at ? kn_sprintf("%.*s", (int)(at - t), t) : kn_strdup(t);
        v->ref = kn_strdup(t);
        if (!v->name || !v->ref) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK && !v->name[0])
        e = kn_fail(KN_ERR_INVALID, "--%s %s: the name before '%c' is empty", opt, text,
                    eq ? '=' : '@');
    kn_free(t);
    if (e != KN_OK) model_value_free(v);
    return e;
}

/* Load one --model (role 0), --canary (1) or --shadow (2) value into s. */
static int add_value(kn_server *s, int role, const char *text)
{
    static const char *const opts[] = {"model", "canary", "shadow"};
    model_value v;
    kn_status e = parse_value(opts[role], text, role == 1, &v);
    if (e == KN_OK) {
        kn_serve_source src = {.ref = v.ref, .path = v.path};
        e = role == 0   ? kn_server_add_model(s, v.name, &src)
            : role == 1 ? kn_server_add_canary(s, v.name, &src, v.share)
                        : kn_server_add_shadow(s, v.name, &src);
        model_value_free(&v);
        if (e != KN_OK) cli_error("serve: --%s %s: %s", opts[role], text, kn_last_error());
    } else {
        cli_error("serve: %s", kn_last_error());
    }
    return e == KN_OK ? CLI_OK : CLI_FAIL;
}

/* SIGHUP: reload every model and say what happened. */
static void reload_all(kn_server *s)
{
    char *report = NULL;
    kn_status e = kn_server_reload(s, NULL, &report);
    if (cli.json && report)
        printf("%s\n", report), fflush(stdout);
    else if (!cli.quiet && report)
        fprintf(stderr, "kiln serve: SIGHUP: %s\n", report);
    if (e != KN_OK && e != KN_ERR_REFUSED) cli_error("serve: SIGHUP: %s", kn_last_error());
    free(report);
}

int cmd_serve(int argc, char **argv)
{
    serve_args a = {0};
    int rc = cli_parse(&serve_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (!a.models.n)
        return cli_usage_error("serve", "give at least one --model (NAME@production or "
                                        "NAME=FILE.kiln)");
    if (a.shadow_log && !a.shadows.n)
        return cli_usage_error("serve", "--shadow-log is the log of --shadow versions; give "
                                        "--shadow NAME@vN too");
    /* the signals that stop the server wait for sigwait below, in this
     * thread; the pool's threads (made after this) inherit the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
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
    o.max_header = (size_t)a.max_header;
    o.store = a.store;
    o.poll_s = a.poll;
    o.shadow_log = a.shadow_log;
    o.require_key = a.require_key;
    o.rate_limit = a.rate_limit;
    o.tls_cert = a.tls_cert;
    o.tls_key = a.tls_key;
    unsigned char pk[KN_ARTIFACT_PUBLIC_KEY_BYTES];
    if (a.verify_key) {
        if (kn_artifact_key_load(a.verify_key, 0, pk) != KN_OK) {
            cli_error("serve: --verify-key %s: %s", a.verify_key, kn_last_error());
            return CLI_FAIL;
        }
        o.verify_key = pk;
    }
    o.live_stats = !a.no_live_stats;
    o.prediction_log = a.prediction_log;
    o.prediction_sample = a.sample;
    o.prediction_seed = a.sample_seed;
    o.feedback_rows = (size_t)a.feedback_ring;
    o.feedback_window = (size_t)a.feedback_window;
    o.drift_window = (size_t)a.drift_window;
    if (a.drift_slide && !a.drift_window)
        return cli_usage_error("serve", "--drift-slide needs --drift-window N (the rows of a "
                                        "window; M rows slide it)");
    if (a.drift_slide > a.drift_window)
        return cli_usage_error("serve",
                               "--drift-slide %lld is over --drift-window %lld: a window of N "
                               "rows is tested every M rows, M from 1 to N",
                               (long long)a.drift_slide, (long long)a.drift_window);
    if (a.record_windows && !a.drift_window && !(a.ops_interval > 0) && !a.feedback_ring)
        return cli_usage_error("serve", "--record-windows records drift windows, operational "
                                        "intervals and feedback windows: give --drift-window N, "
                                        "--ops-interval SECONDS or --feedback-ring N");
    o.drift_slide = (size_t)a.drift_slide;
    o.record_windows = a.record_windows;
    o.anomalies = !a.no_anomalies;
    o.anomaly_alpha = a.anomaly_alpha;
    o.anomaly_rows = (size_t)a.anomaly_rows;
    o.retrain_grace_s = a.retrain_grace;
    o.anomaly_contamination = a.anomaly_contamination;
    o.anomaly_seed = (uint64_t)a.anomaly_seed;
    o.alerts = a.alerts;
    /* retrain: actions run this binary's kiln monitor retrain (the retrain
     * is the command line's: kiln run, the registry, the gate) */
    static char self[4096];
    if (!self[0] && !realpath("/proc/self/exe", self)) self[0] = 0;
    o.retrain_exe = self[0] ? self : NULL;
    if (a.ops_interval > 0 && a.ops_interval < 0.05)
        return cli_usage_error("serve", "--ops-interval %g: give 0.05 seconds or more (0: off)",
                               a.ops_interval);
    if (a.ops_webhook && !(a.ops_interval > 0))
        return cli_usage_error("serve", "--ops-webhook needs --ops-interval SECONDS (the events "
                                        "it sends are found per interval)");
    o.ops_interval_s = a.ops_interval;
    o.ops_webhook = a.ops_webhook;
    kn_server *s = NULL;
    if (kn_server_new(&o, &s) != KN_OK) {
        cli_error("serve: %s", kn_last_error());
        return CLI_FAIL;
    }
    rc = CLI_OK;
    for (size_t i = 0; rc == CLI_OK && i < a.models.n; i++) rc = add_value(s, 0, a.models.v[i]);
    for (size_t i = 0; rc == CLI_OK && i < a.canaries.n; i++) rc = add_value(s, 1, a.canaries.v[i]);
    for (size_t i = 0; rc == CLI_OK && i < a.shadows.n; i++) rc = add_value(s, 2, a.shadows.v[i]);
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
        fprintf(stderr, "kiln serve: listening on %s://%s:%d with %zu model(s)\n",
                o.tls_cert ? "https" : "http", o.host, kn_server_port(s), a.models.n);
    }
    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) reload_all(s);
    if (!cli.quiet && !cli.json)
        fprintf(stderr, "kiln serve: %s: finishing the requests in flight\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    unsigned left = kn_server_drain(s, 30.0);
    if (left) cli_error("serve: %u request(s) still in flight after 30 s; closing them", left);
    kn_server_free(s);
    return CLI_OK;
}
