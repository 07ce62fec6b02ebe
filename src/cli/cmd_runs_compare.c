/* kiln runs compare RUN RUN...: parameters and metrics side by side, and
 * for runs scored on the same CV folds the corrected resampled t-test of
 * their per-fold scores (Nadeau and Bengio, 2003) with a plain verdict. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "kiln/store.h"

#include <math.h>
#include <string.h>

enum { MAX_RUNS = 8, MAX_FOLDS = 1000 };
static const double ALPHA = 0.05;

typedef struct compare_args {
    const char *store, *metric;
    const char *run[MAX_RUNS];
} compare_args;

static const cli_opt compare_opts[] = {
    CLI_OPT_ARG(compare_args, run[0], "RUN", 1, "the first run (the others are compared with it)"),
    CLI_OPT_ARG(compare_args, run[1], "RUN2", 1, "a second run"),
    CLI_OPT_ARG(compare_args, run[2], "RUN3", 0, "more runs (up to 8 in all)"),
    CLI_OPT_ARG(compare_args, run[3], "RUN4", 0, "another run"),
    CLI_OPT_ARG(compare_args, run[4], "RUN5", 0, "another run"),
    CLI_OPT_ARG(compare_args, run[5], "RUN6", 0, "another run"),
    CLI_OPT_ARG(compare_args, run[6], "RUN7", 0, "another run"),
    CLI_OPT_ARG(compare_args, run[7], "RUN8", 0, "another run"),
    CLI_OPT_TEXT(compare_args, metric, "metric", "NAME",
                 "the CV metric to test (default: the first run's first CV metric)"),
    CLI_OPT_TEXT(compare_args, store, "store", "DIR",
                 "the store (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};

static int cmd_runs_compare(int argc, char **argv);
const cli_spec runs_compare_spec = {
    "runs compare",
    "compare runs side by side",
    "Print the runs' parameters and metrics side by side (a * marks rows that\n"
    "differ). For each later run scored on the same CV folds as the first (same\n"
    "folds hash: split, k, seed and rows), test whether their per-fold scores\n"
    "differ: the corrected resampled t-test of Nadeau and Bengio (2003), which\n"
    "allows for the overlap of training sets between folds, two-sided, with a\n"
    "verdict at p < 0.05.\n",
    "  kiln runs compare r000003 r000004\n  kiln runs compare r3 r4 r5 --metric accuracy --json\n",
    compare_opts,
    0,
    cmd_runs_compare};

static const char *param_value(const kn_run_info *in, const char *name, size_t len)
{
    for (size_t i = 0; i < in->n_params; i++)
        if (!strncmp(in->params[i], name, len) && in->params[i][len] == '=')
            return in->params[i] + len + 1;
    return NULL;
}

static int metric_value(const kn_run_info *in, const char *scope, const char *name, double *v)
{
    for (size_t i = 0; i < in->n_metrics; i++)
        if (!strcmp(in->metrics[i].scope, scope) && !strcmp(in->metrics[i].name, name)) {
            *v = in->metrics[i].value;
            return 1;
        }
    return 0;
}

/* The per-fold scores of `metric`, by fold number; how many (0 if a fold
 * is missing). */
static size_t folds(const kn_run_info *in, const char *metric, double *out)
{
    size_t k = 0;
    for (size_t i = 0; i < in->n_metrics; i++) {
        const kn_run_metric *m = &in->metrics[i];
        if (strcmp(m->scope, "cv") || strcmp(m->name, metric) || m->fold < 0 ||
            m->fold >= MAX_FOLDS)
            continue;
        out[m->fold] = m->value;
        if ((size_t)m->fold + 1 > k) k = (size_t)m->fold + 1;
    }
    size_t have = 0;
    for (size_t i = 0; i < in->n_metrics; i++)
        have += !strcmp(in->metrics[i].scope, "cv") && !strcmp(in->metrics[i].name, metric);
    return have == k ? k : 0;
}

/* The paired test of run a against run b; a JSON object and a line for people. */
static json_t *paired(const kn_run_record *a, const kn_run_record *b, const char *metric,
                      char *line, size_t cap)
{
    static double fa[MAX_FOLDS], fb[MAX_FOLDS];
    const char *fha = a->info.folds_hash, *fhb = b->info.folds_hash;
    json_t *o = json_pack("{s:s, s:s, s:s}", "a", a->id, "b", b->id, "metric", metric);
    const char *skip = NULL;
    size_t ka = folds(&a->info, metric, fa), kb = folds(&b->info, metric, fb);
    if (!fha || !fhb || strcmp(fha, fhb))
        skip = "scored on different CV folds (folds hash differs), so their fold scores do not "
               "pair";
    else if (!ka || !kb)
        skip = "one of them has no per-fold CV scores of this metric";
    else if (ka != kb || ka < 2)
        skip = "they have different numbers of folds";
    if (skip) {
        snprintf(line, cap, "%s vs %s on %s: not tested: %s", a->id, b->id, metric, skip);
        json_object_set_new(o, "skipped", json_string(skip));
        return o;
    }
    kn_paired_test t;
    if (kn_paired_ttest(fa, fb, ka, 1.0 / (double)(ka - 1), &t)) {
        snprintf(line, cap, "%s vs %s on %s: not tested: %s", a->id, b->id, metric,
                 kn_last_error());
        json_object_set_new(o, "skipped", json_string(kn_last_error()));
        return o;
    }
    const kn_component *c = kn_metric_find(metric);
    kn_clear_error();
    int known = c != NULL, higher = c ? ((const kn_metric_vt *)c->vt)->higher_is_better : 1;
    const char *verdict;
    char text[256];
    if (t.p_value >= ALPHA || t.mean_diff == 0) {
        verdict = "no clear difference";
        snprintf(text, sizeof text,
                 "no clear difference: a gap this size arises by chance across these folds");
    } else {
        int a_better = (t.mean_diff > 0) == (higher != 0);
        verdict = !known ? "different" : a_better ? "a better" : "b better";
        if (known)
            snprintf(text, sizeof text, "%s is better: the gap is unlikely to be chance",
                     a_better ? a->id : b->id);
        else
            snprintf(text, sizeof text, "the runs differ (unlikely to be chance)");
    }
    snprintf(line, cap,
             "%s vs %s on %s over %zu folds: mean difference %+.4g, t = %.3f (df %.0f), p = %.3g: "
             "%s",
             a->id, b->id, metric, t.k, t.mean_diff, t.t, t.df, t.p_value, text);
    json_object_set_new(o, "test", json_string("corrected resampled t-test (Nadeau-Bengio)"));
    json_object_set_new(o, "folds", json_integer((json_int_t)t.k));
    json_object_set_new(o, "mean_difference", cli_json_num(t.mean_diff));
    json_object_set_new(o, "t", cli_json_num(t.t));
    json_object_set_new(o, "df", cli_json_num(t.df));
    json_object_set_new(o, "p_value", cli_json_num(t.p_value));
    json_object_set_new(o, "verdict", json_string(verdict));
    return o;
}

static int seen_name(const kn_run_record *const *r, size_t upto_run, size_t upto_i,
                     const char *scope, const char *name)
{
    /* whether (scope, name) appears in an earlier run or earlier in this one */
    for (size_t j = 0; j <= upto_run; j++) {
        const kn_run_info *in = &r[j]->info;
        size_t n = j == upto_run ? upto_i : in->n_metrics;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(in->metrics[i].scope, scope) && !strcmp(in->metrics[i].name, name))
                return 1;
    }
    return 0;
}

static int seen_param(const kn_run_record *const *r, size_t upto_run, size_t upto_i, const char *p,
                      size_t len)
{
    for (size_t j = 0; j <= upto_run; j++) {
        const kn_run_info *in = &r[j]->info;
        size_t n = j == upto_run ? upto_i : in->n_params;
        for (size_t i = 0; i < n; i++)
            if (!strncmp(in->params[i], p, len) && in->params[i][len] == '=') return 1;
    }
    return 0;
}

static int cmd_runs_compare(int argc, char **argv)
{
    compare_args a = {0};
    int rc = cli_parse(&runs_compare_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    kn_stage_begin("store");
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    kn_run_record *r[MAX_RUNS] = {0};
    size_t n = 0;
    for (; n < MAX_RUNS && a.run[n]; n++)
        if (kn_store_run_get(s, a.run[n], &r[n])) {
            for (size_t j = 0; j < n; j++) kn_run_record_free(r[j]);
            return cli_store_fail(s);
        }
    const kn_run_record *const *rr = (const kn_run_record *const *)r;
    const char *metric = a.metric;
    for (size_t i = 0; !metric && i < r[0]->info.n_metrics; i++)
        if (!strcmp(r[0]->info.metrics[i].scope, "cv")) metric = r[0]->info.metrics[i].name;
    if (a.metric) { /* a metric the runs do not hold is a mistake, not "not tested" */
        int held = 0;
        for (size_t j = 0; j < n && !held; j++)
            for (size_t i = 0; i < r[j]->info.n_metrics && !held; i++)
                held = !strcmp(r[j]->info.metrics[i].name, a.metric);
        if (!held) {
            rc = cli_usage_error("runs compare",
                                 "--metric %s: none of these runs has that metric (they have "
                                 "e.g. %s); 'kiln runs show RUN' lists them",
                                 a.metric,
                                 r[0]->info.n_metrics ? r[0]->info.metrics[0].name : "none");
            for (size_t j = 0; j < n; j++) kn_run_record_free(r[j]);
            kn_store_close(s);
            return rc;
        }
    }

    json_t *params = json_object(), *metrics = json_array(), *tests = json_array(),
           *ids = json_array();
    for (size_t j = 0; j < n; j++) json_array_append_new(ids, json_string(r[j]->id));
    if (!cli.json) {
        printf("%-28s", "");
        for (size_t j = 0; j < n; j++) printf("  %-14s", r[j]->id);
        printf("\n%-28s", "model");
        for (size_t j = 0; j < n; j++) printf("  %-14s", r[j]->info.model ? r[j]->info.model : "-");
        printf("\n");
    }
    /* parameters, in order of first appearance */
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < r[j]->info.n_params; i++) {
            const char *p = r[j]->info.params[i];
            size_t len = (size_t)(strchr(p, '=') - p);
            if (seen_param(rr, j, i, p, len)) continue;
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)len, p);
            json_t *vals = json_array();
            int differ = 0;
            const char *first = param_value(&r[0]->info, p, len);
            for (size_t k = 0; k < n; k++) {
                const char *v = param_value(&r[k]->info, p, len);
                json_array_append_new(vals, v ? json_string(v) : json_null());
                differ |= !v != !first || (v && first && strcmp(v, first));
            }
            json_object_set_new(params, name, vals);
            if (!cli.json) {
                printf("%c %-26.26s", differ ? '*' : ' ', name);
                for (size_t k = 0; k < n; k++) {
                    const char *v = param_value(&r[k]->info, p, len);
                    printf("  %-14.14s", v ? v : "-");
                }
                printf("\n");
            }
        }
    /* metrics other than per-fold ones */
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < r[j]->info.n_metrics; i++) {
            const kn_run_metric *m = &r[j]->info.metrics[i];
            if (!strcmp(m->scope, "cv") || seen_name(rr, j, i, m->scope, m->name)) continue;
            json_t *vals = json_array();
            double v0 = NAN;
            int has0 = metric_value(&r[0]->info, m->scope, m->name, &v0), differ = 0;
            char label[128];
            snprintf(label, sizeof label, "%s %s", m->scope, m->name);
            if (!cli.json) printf("  %-26.26s", label);
            for (size_t k = 0; k < n; k++) {
                double v = NAN;
                int has = metric_value(&r[k]->info, m->scope, m->name, &v);
                differ |= has != has0 || (has && v != v0);
                json_array_append_new(vals, has ? cli_json_num(v) : json_null());
                if (!cli.json) {
                    if (has)
                        printf("  %-14.6g", v);
                    else
                        printf("  %-14s", "-");
                }
            }
            if (!cli.json) printf("\n");
            (void)differ;
            json_array_append_new(metrics, json_pack("{s:s, s:s, s:o}", "scope", m->scope, "name",
                                                     m->name, "values", vals));
        }
    if (!cli.json) {
        printf("  %-26s", "cost (USD)");
        for (size_t k = 0; k < n; k++) printf("  %-14.6f", r[k]->cost);
        printf("\n\n");
    }
    if (!metric && !cli.json) printf("no CV scores recorded: no paired test\n");
    for (size_t j = 1; metric && j < n; j++) {
        char line[512];
        json_array_append_new(tests, paired(r[0], r[j], metric, line, sizeof line));
        if (!cli.json) printf("%s\n", line);
    }
    kn_stage_end();
    if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "command",
                                     "runs compare", "store", kn_store_dir(s), "runs", ids,
                                     "parameters", params, "metrics", metrics, "tests", tests,
                                     "stages", cli_stages_json()));
    else {
        json_decref(ids);
        json_decref(params);
        json_decref(metrics);
        json_decref(tests);
    }
    for (size_t j = 0; j < n; j++) kn_run_record_free(r[j]);
    kn_store_close(s);
    return rc;
}
