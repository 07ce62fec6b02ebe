/* kiln runs list|show|compare: the runs recorded in the store. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "kiln/store.h"

#include <math.h>
#include <string.h>

static json_t *str(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- runs list ---- */

typedef struct list_args {
    const char *store, *experiment;
    int64_t limit;
} list_args;

static const cli_opt list_opts[] = {
    CLI_OPT_TEXT(list_args, experiment, "experiment", "NAME", "only this experiment's runs"),
    CLI_OPT_INT(list_args, limit, "limit", "N", "50", 0, 1e9, "the latest N runs (0: all)"),
    CLI_OPT_TEXT(list_args, store, "store", "DIR",
                 "the store (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};

static int cmd_runs_list(int argc, char **argv);
static const cli_spec list_spec = {
    "runs list",
    "list the latest runs",
    "List the latest runs in the store, newest first: id, experiment, status, start\n"
    "time (UTC), model, headline metric (the first held-out metric, else the first\n"
    "CV mean) and estimated cost.\n",
    "  kiln runs list\n  kiln runs list --experiment credit --limit 10 --json\n",
    list_opts,
    0,
    cmd_runs_list};

typedef struct list_state {
    json_t *arr;
    int n;
} list_state;

static int print_run(const kn_run_summary *r, void *user)
{
    list_state *ls = user;
    if (ls->arr) {
        json_t *m = r->metric ? json_pack("{s:s, s:s, s:o}", "name", r->metric, "scope",
                                          r->metric_scope, "value", cli_json_num(r->metric_value))
                              : json_null();
        json_array_append_new(
            ls->arr, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", r->id,
                               "experiment", r->experiment, "status", r->status, "model",
                               str(r->model), "start", cli_json_num(r->start), "end",
                               cli_json_num(r->end), "metric", m, "cost", cli_json_num(r->cost)));
    } else {
        char t[32], metric[96] = "-";
        if (r->metric)
            snprintf(metric, sizeof metric, "%s %s %.4f", r->metric_scope, r->metric,
                     r->metric_value);
        if (!ls->n)
            printf("%-8s  %-16s  %-8s  %-19s  %-16s  %-28s  %s\n", "RUN", "EXPERIMENT", "STATUS",
                   "STARTED (UTC)", "MODEL", "METRIC", "COST (USD)");
        printf("%-8s  %-16s  %-8s  %-19s  %-16s  %-28s  %.6f\n", r->id, r->experiment, r->status,
               cli_store_time(r->start, t, sizeof t), r->model ? r->model : "-", metric, r->cost);
    }
    ls->n++;
    return 0;
}

static int cmd_runs_list(int argc, char **argv)
{
    list_args a = {0};
    int rc = cli_parse(&list_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    kn_stage_begin("store");
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    uint64_t total = 0;
    list_state ls = {cli.json ? json_array() : NULL, 0};
    if (kn_store_runs_count(s, a.experiment, &total) ||
        kn_store_runs_list(s, a.experiment, (size_t)a.limit, print_run, &ls)) {
        json_decref(ls.arr);
        return cli_store_fail(s);
    }
    kn_stage_end();
    if (cli.json) {
        rc = cli_emit_json(json_pack("{s:s, s:s, s:o, s:I, s:o, s:o}", "command", "runs list",
                                     "store", kn_store_dir(s), "experiment", str(a.experiment),
                                     "total", (json_int_t)total, "runs", ls.arr, "stages",
                                     cli_stages_json()));
    } else if (!total) {
        printf("no runs in store %s yet ('kiln run SPEC' records one)\n", kn_store_dir(s));
    } else {
        printf("%d of %llu runs in store %s\n", ls.n, (unsigned long long)total, kn_store_dir(s));
    }
    kn_store_close(s);
    return rc;
}

/* ---- runs show ---- */

typedef struct show_args {
    const char *store, *run;
} show_args;

static const cli_opt show_opts[] = {
    CLI_OPT_ARG(show_args, run, "RUN", 1, "the run (r000012, 12, or latest)"),
    CLI_OPT_TEXT(show_args, store, "store", "DIR",
                 "the store (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};

static int cmd_runs_show(int argc, char **argv);
static const cli_spec show_spec = {
    "runs show",
    "show one run",
    "Show everything recorded about a run: status, times, spec hash, seed, parent,\n"
    "parameters, metrics (per fold and final), rows, stages with their resources,\n"
    "sources with their hashes, the artifact and the estimated cost.\n",
    "  kiln runs show latest\n  kiln runs show r000012 --json\n",
    show_opts,
    0,
    cmd_runs_show};

json_t *cli_run_json(const kn_run_record *r)
{
    const kn_run_info *in = &r->info;
    json_t *params = json_object(), *metrics = json_array(), *stages = json_array(),
           *sources = json_array();
    for (size_t i = 0; i < in->n_params; i++) {
        const char *eq = strchr(in->params[i], '=');
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - in->params[i]), in->params[i]);
        json_object_set_new(params, name, json_string(eq + 1));
    }
    for (size_t i = 0; i < in->n_metrics; i++) {
        const kn_run_metric *m = &in->metrics[i];
        json_t *o = json_pack("{s:s, s:s, s:o}", "name", m->name, "scope", m->scope, "value",
                              cli_json_num(m->value));
        if (!strcmp(m->scope, "cv")) json_object_set_new(o, "fold", json_integer(m->fold + 1));
        json_array_append_new(metrics, o);
    }
    for (size_t i = 0; i < in->n_stages; i++)
        json_array_append_new(stages, json_pack("{s:s, s:o, s:o, s:I}", "name", in->stages[i].name,
                                                "wall_s", cli_json_num(in->stages[i].wall_s),
                                                "cpu_s", cli_json_num(in->stages[i].cpu_s),
                                                "peak_rss", (json_int_t)in->stages[i].peak_rss));
    for (size_t i = 0; i < in->n_sources; i++) {
        const kn_run_source *x = &in->sources[i];
        json_array_append_new(sources,
                              json_pack("{s:o, s:o, s:o, s:o, s:I}", "name", str(x->name), "kind",
                                        str(x->kind), "location", str(x->location), "hash",
                                        str(x->hash), "rows", (json_int_t)x->rows));
    }
    json_t *rows =
        json_pack("{s:I, s:I, s:I, s:I}", "in", (json_int_t)in->rows_in, "kept",
                  (json_int_t)in->rows_kept, "quarantined", (json_int_t)in->rows_quarantined,
                  "deduplicated", (json_int_t)in->rows_deduplicated);
    json_t *art = r->artifact_path
                      ? json_pack("{s:s, s:s, s:I}", "path", r->artifact_path, "hash",
                                  r->artifact_hash, "bytes", (json_int_t)r->artifact_bytes)
                      : json_null();
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "id", r->id,
                  "experiment", in->experiment, "status", in->status, "error", str(in->error),
                  "start", cli_json_num(in->start), "end", cli_json_num(in->end), "spec_hash",
                  str(in->spec_hash), "seed", (json_int_t)in->seed, "parent_run",
                  str(in->parent_run), "folds_hash", str(in->folds_hash), "model", str(in->model));
    json_object_set_new(o, "actor", str(in->actor));
    json_object_set_new(o, "parameters", params);
    json_object_set_new(o, "metrics", metrics);
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "model_bytes", json_integer((json_int_t)in->model_bytes));
    json_object_set_new(o, "run_stages", stages);
    json_object_set_new(o, "sources", sources);
    json_object_set_new(o, "artifact", art);
    json_object_set_new(o, "cost", cli_json_num(r->cost));
    json_object_set_new(o, "spec", str(in->spec));
    return o;
}

static void print_run_record(const kn_run_record *r)
{
    const kn_run_info *in = &r->info;
    char t0[32], t1[32];
    printf("run %s  (experiment %s, %s%s%s)\n", r->id, in->experiment, in->status,
           in->error ? ": " : "", in->error ? in->error : "");
    printf("  started %s UTC, ended %s UTC (%.1f s), by %s\n",
           cli_store_time(in->start, t0, sizeof t0), cli_store_time(in->end, t1, sizeof t1),
           in->end - in->start, in->actor ? in->actor : "-");
    printf("  model %s, seed %llu, spec %s, parent %s\n", in->model ? in->model : "-",
           (unsigned long long)in->seed, in->spec_hash ? in->spec_hash : "-",
           in->parent_run ? in->parent_run : "-");
    printf("  rows: %llu in, %llu kept, %llu quarantined, %llu deduplicated\n",
           (unsigned long long)in->rows_in, (unsigned long long)in->rows_kept,
           (unsigned long long)in->rows_quarantined, (unsigned long long)in->rows_deduplicated);
    if (in->n_params) printf("parameters:\n");
    for (size_t i = 0; i < in->n_params; i++) printf("  %s\n", in->params[i]);
    if (in->n_metrics) printf("metrics:\n");
    for (size_t i = 0; i < in->n_metrics; i++) {
        const kn_run_metric *m = &in->metrics[i];
        if (!strcmp(m->scope, "cv"))
            printf("  %-10s %-20s fold %d  %.6g\n", m->scope, m->name, m->fold + 1, m->value);
        else
            printf("  %-10s %-20s %.6g\n", m->scope, m->name, m->value);
    }
    if (in->n_stages) printf("stages:\n");
    for (size_t i = 0; i < in->n_stages; i++) {
        char b[32];
        printf("  %-16s wall %.2f s  cpu %.2f s  peak %s\n", in->stages[i].name,
               in->stages[i].wall_s, in->stages[i].cpu_s,
               cli_bytes(in->stages[i].peak_rss, b, sizeof b));
    }
    if (in->n_sources) printf("sources:\n");
    for (size_t i = 0; i < in->n_sources; i++) {
        const kn_run_source *x = &in->sources[i];
        printf("  %s (%s %s): %llu rows, blake2b %s\n", x->name ? x->name : "-",
               x->kind ? x->kind : "-", x->location ? x->location : "-",
               (unsigned long long)x->rows, x->hash ? x->hash : "-");
    }
    if (r->artifact_path) {
        char b[32];
        printf("artifact: %s (%s)\n", r->artifact_path, cli_bytes(r->artifact_bytes, b, sizeof b));
    }
    printf("estimated cost: %.6f USD\n", r->cost);
}

static int cmd_runs_show(int argc, char **argv)
{
    show_args a = {0};
    int rc = cli_parse(&show_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    kn_run_record *r = NULL;
    if (kn_store_run_get(s, a.run, &r)) return cli_store_fail(s);
    if (cli.json) {
        json_t *o = cli_run_json(r);
        json_object_set_new(o, "command", json_string("runs show"));
        json_object_set_new(o, "store", json_string(kn_store_dir(s)));
        json_object_set_new(o, "stages", cli_stages_json());
        rc = cli_emit_json(o);
    } else {
        print_run_record(r);
    }
    kn_run_record_free(r);
    kn_store_close(s);
    return rc;
}

static const cli_spec *const subs[] = {&list_spec, &show_spec, &runs_compare_spec};

typedef struct runs_args {
    const char *sub;
} runs_args;
static const cli_opt runs_opts[] = {
    CLI_OPT_ARG(runs_args, sub, "list|show|compare", 1, "the subcommand"), CLI_OPT_END};

const cli_spec runs_spec = {
    "runs",
    "list, show and compare tracked runs",
    "The runs recorded in the store (--store DIR, else $KILN_STORE, else\n"
    "./kiln-store):\n"
    "  kiln runs list [--experiment E] [--limit 50]   the latest runs\n"
    "  kiln runs show RUN                              one run in full\n"
    "  kiln runs compare RUN RUN... [--metric M]       side by side, with a paired test\n"
    "'kiln runs SUB --help' explains each.\n",
    "  kiln runs list\n  kiln runs compare r000003 r000004\n",
    runs_opts,
    0,
    cmd_runs};

int cmd_runs(int argc, char **argv)
{
    return cli_subcommand(&runs_spec, subs, sizeof subs / sizeof *subs, argc, argv);
}
