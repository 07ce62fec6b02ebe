/* kiln select: fit one feature selector (kiln/select.h) on a file and print
 * its ranking of the features and what it keeps. */
#include "cli/cli.h"
#include "kiln/select.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct select_args {
    const char *data, *target, *method, *columns, *model, *metric, *ignore, *task;
    cli_list params, steps;
    int64_t k, folds, step, n_neighbors, repeats;
    double percentile, threshold, max_corr;
    uint64_t seed;
    int drop_missing_target;
    kn_read_opts read;
} select_args;

#define FILTERS "f_test|chi2|mutual_info|pearson|spearman|variance|redundancy|cfs"
#define WRAPPERS "rfe|rfecv|forward|backward|coef|importance|permutation"

static const cli_opt select_opts[] = {
    CLI_OPT_NEED(select_args, data, "data", "FILE", "the data"),
    CLI_OPT_NEED(select_args, target, "target", "COLUMN", "the column to predict"),
    CLI_OPT_NEED(select_args, method, "method", "NAME", "the selector: " FILTERS "|" WRAPPERS),
    CLI_OPT_INT(select_args, k, "k", "N", "0", 0, 1e9, "keep the N best"),
    CLI_OPT_NUM(select_args, percentile, "percentile", "P", "0", 0, 100, "keep the best P percent"),
    CLI_OPT_NUM(select_args, threshold, "threshold", "X", "-1", -1, 1e300,
                "keep features scoring at least X (variance: above X)"),
    CLI_OPT_TEXT(select_args, columns, "columns", "LIST",
                 "candidate columns (names, type:T, match:RE, -X; default: every numeric "
                 "feature)"),
    CLI_OPT_TEXT(select_args, model, "model", "NAME",
                 "model of rfe, rfecv, forward, backward, coef, importance, permutation"),
    CLI_OPT_LIST(select_args, params, "param", "NAME=VALUE", "a parameter of that model"),
    CLI_OPT_TEXT(select_args, metric, "metric", "NAME",
                 "rfecv, forward, backward: the inner-CV score (default accuracy or r2)"),
    CLI_OPT_INT(select_args, folds, "folds", "K", "5", 2, 100,
                "rfecv, forward, backward: inner CV folds"),
    CLI_OPT_INT(select_args, step, "rfe-step", "N", "1", 1, 1e9,
                "rfe, rfecv: features removed per "
                "round"),
    CLI_OPT_INT(select_args, n_neighbors, "n-neighbors", "N", "3", 1, 1e6,
                "mutual_info: neighbours counted"),
    CLI_OPT_INT(select_args, repeats, "repeats", "N", "5", 1, 1e6,
                "permutation: shuffles per feature"),
    CLI_OPT_NUM(select_args, max_corr, "max-corr", "R", "0.9", 0, 1,
                "redundancy: |r| above which one of two features goes"),
    CLI_OPT_CHOICE(select_args, task, "task", "auto|classification|regression",
                   "filters: the target's kind (default: categorical = classes)"),
    CLI_OPT_SEED(select_args, seed, "seed", "0", "mutual_info jitter; permutation split"),
    CLI_OPT_LIST(select_args, steps, "step", "NAME[:p=v;...]",
                 "a preparation step fitted before the selector (e.g. standard_scaler)"),
    CLI_OPT_TEXT(select_args, ignore, "ignore", "COLUMNS", "columns that are not features (a,b)"),
    CLI_OPT_FLAG(select_args, drop_missing_target, "drop-missing-target",
                 "leave out rows whose target is missing"),
    CLI_OPT_READ(select_args, read),
    CLI_OPT_END};

const cli_spec select_spec = {
    "select",
    "rank the features and show which a selector keeps",
    "Fit one feature selector on the file and print, best first, each\n"
    "candidate feature's score (and p-value where the method has one) and\n"
    "whether it is kept. The same selectors are steps ('select:method=f_test;k=5',\n"
    "'select_model:method=rfe;k=5') for --step of kiln cv, tune, curve and\n"
    "compare models and for a run spec's steps: fitted inside each fold, and\n"
    "saved with the model by kiln run; 'kiln help steps' lists their parameters.\n"
    "Filters (step select): f_test (ANOVA F for classes, the regression F test\n"
    "otherwise), chi2 (non-negative features), mutual_info (k-nearest-neighbour\n"
    "estimate, as scikit-learn), pearson and spearman (|r|), variance, and\n"
    "the set searches redundancy (drop one of each pair with |r| > --max-corr,\n"
    "keeping the one more related to the target) and cfs (correlation-based\n"
    "merit, greedy forward). Model-driven (step select_model): rfe, rfecv\n"
    "(count by inner CV), forward and backward sequential selection, and the\n"
    "rankings coef (|coefficient|, e.g. of lasso), importance (tree gain) and\n"
    "permutation (permutation importance on held-out rows).\n"
    "Keep rule: --k, --percentile or --threshold (one); none given, the\n"
    "filters keep the best half (variance: variance > 0), rfe, forward and\n"
    "backward half, coef |coef| >= 1e-5, importance and permutation the\n"
    "mean or above.\n",
    "  kiln select --data wine.csv --target class --method mutual_info --k 5\n"
    "  kiln select --data concrete.csv --target compressive_strength --method rfe \\\n"
    "      --model linear_regression --k 3 --json\n"
    "  kiln cv --data wine.csv --target class --model logistic_regression \\\n"
    "      --step standard_scaler --step 'select:method=f_test;k=5'\n",
    select_opts,
    0,
    cmd_select};

static int is_filter(const char *m)
{
    static const char *const f[] = {"f_test",   "chi2",     "mutual_info", "pearson",
                                    "spearman", "variance", "redundancy",  "cfs"};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!strcmp(m, f[i])) return 1;
    return 0;
}

static int is_wrapper(const char *m)
{
    static const char *const w[] = {"rfe",  "rfecv",      "forward",    "backward",
                                    "coef", "importance", "permutation"};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (!strcmp(m, w[i])) return 1;
    return 0;
}

static kn_status set(kn_step *s, const char *name, const char *value)
{
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof buf, "%s=%s", name, value) >= sizeof buf)
        return kn_fail(KN_ERR_INVALID, "select: --%s is too long", name);
    return kn_step_set(s, buf);
}

/* The selector step from the options; given: which were given. */
static kn_status make_step(const select_args *a, uint64_t given, kn_step **out)
{
    int filter = is_filter(a->method);
    kn_step *s = NULL;
    kn_status e = kn_step_new(filter ? "select" : "select_model", &s);
    char num[64];
    if (e == KN_OK) e = set(s, "method", a->method);
    if (e == KN_OK && a->columns) e = set(s, "columns", a->columns);
    snprintf(num, sizeof num, "%lld", (long long)a->k);
    if (e == KN_OK && a->k > 0) e = set(s, "k", num);
    snprintf(num, sizeof num, "%.17g", a->percentile);
    if (e == KN_OK && a->percentile > 0) e = set(s, "percentile", num);
    snprintf(num, sizeof num, "%.17g", a->threshold);
    if (e == KN_OK && a->threshold >= 0) e = set(s, "threshold", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)a->seed);
    if (e == KN_OK) e = set(s, "seed", num);
    if (filter) {
        snprintf(num, sizeof num, "%lld", (long long)a->n_neighbors);
        if (e == KN_OK) e = set(s, "n_neighbors", num);
        snprintf(num, sizeof num, "%.17g", a->max_corr);
        if (e == KN_OK && cli_given(&select_spec, given, "max-corr")) e = set(s, "max_corr", num);
        if (e == KN_OK && a->task) e = set(s, "task", a->task);
        if (e == KN_OK && (a->model || a->params.n || a->metric))
            e = kn_fail(KN_ERR_INVALID,
                        "select: --method %s is a filter; --model, --param and "
                        "--metric go with the model-driven methods (" WRAPPERS ")",
                        a->method);
    } else {
        size_t len = 1;
        for (size_t i = 0; i < a->params.n; i++) len += strlen(a->params.v[i]) + 1;
        char *mp = calloc(len, 1);
        if (!mp) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < a->params.n; i++) {
            if (i) strcat(mp, ",");
            strcat(mp, a->params.v[i]);
        }
        if (e == KN_OK && a->params.n) e = set(s, "model_params", mp);
        free(mp);
        if (e == KN_OK && a->model) e = set(s, "model", a->model);
        if (e == KN_OK && a->metric) e = set(s, "metric", a->metric);
        snprintf(num, sizeof num, "%lld", (long long)a->folds);
        if (e == KN_OK) e = set(s, "folds", num);
        snprintf(num, sizeof num, "%lld", (long long)a->step);
        if (e == KN_OK) e = set(s, "step", num);
        snprintf(num, sizeof num, "%lld", (long long)a->repeats);
        if (e == KN_OK) e = set(s, "repeats", num);
    }
    if (e == KN_OK) e = kn_step_validate(s);
    if (e != KN_OK) {
        kn_step_free(s);
        return e;
    }
    *out = s;
    return KN_OK;
}

static int by_rank(const void *x, const void *y, void *sel)
{
    const kn_selection *s = sel;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (s->rank[a] > s->rank[b]) - (s->rank[a] < s->rank[b]);
}

/* Indices of s's features, best first (insertion sort: a few hundred at most). */
static void order_by_rank(const kn_selection *s, size_t *o)
{
    for (size_t i = 0; i < s->n; i++) {
        size_t j = i;
        o[i] = i;
        while (j > 0 && by_rank(&o[j - 1], &o[j], (void *)s) > 0) {
            size_t t = o[j];
            o[j] = o[j - 1];
            o[j - 1] = t;
            j--;
        }
    }
}

int cmd_select(int argc, char **argv)
{
    select_args a = {0};
    uint64_t given = 0;
    int rc = cli_parse(&select_spec, argc, argv, &a, &given);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (!is_filter(a.method) && !is_wrapper(a.method))
        return cli_usage_error(
            "select", "unknown method '%s'; the methods are " FILTERS "|" WRAPPERS, a.method);
    kn_read_opts o = a.read;
    kn_read_report rep;
    kn_frame *f = NULL, *cur = NULL;
    kn_step *sel = NULL;
    const kn_selection *s = NULL;
    size_t j;
    kn_status e = make_step(&a, given, &sel);
    if (e == KN_OK) e = cli_read_frame(a.data, &o, &f, &rep);
    if (e == KN_OK) e = cli_ignore_columns(f, a.ignore);
    if (e == KN_OK) e = cli_target_rows(&f, a.target, a.drop_missing_target);
    if (e == KN_OK) e = kn_frame_find(f, a.target, &j);
    if (e == KN_OK) kn_column_set_role(kn_frame_col(f, j), KN_ROLE_TARGET);
    for (size_t i = 0; e == KN_OK && i < a.steps.n; i++) { /* steps before the selector */
        kn_step *st = NULL;
        kn_frame *next = NULL;
        e = kn_step_from_spec(a.steps.v[i], &st);
        if (e == KN_OK) e = kn_step_fit_transform(st, cur ? cur : f, &next);
        kn_step_free(st);
        kn_frame_free(cur);
        cur = next;
    }
    if (e == KN_OK) e = kn_step_fit(sel, cur ? cur : f);
    if (e == KN_OK) e = kn_step_selection(sel, &s);
    if (e != KN_OK) {
        const char *msg = kn_last_error(); /* the step's own messages start "select: " */
        cli_error("%s%s", strncmp(msg, "select", 6) == 0 ? "" : "select: ", msg);
        kn_step_free(sel), kn_frame_free(f), kn_frame_free(cur);
        return CLI_FAIL;
    }
    size_t *order = malloc((s->n ? s->n : 1) * sizeof *order);
    if (!order) {
        cli_error("select: out of memory");
        kn_step_free(sel), kn_frame_free(f), kn_frame_free(cur);
        return CLI_FAIL;
    }
    order_by_rank(s, order);
    if (cli.json) {
        json_t *feats = json_array(), *kept = json_array();
        for (size_t i = 0; i < s->n; i++) {
            size_t at = order[i];
            json_array_append_new(
                feats, json_pack("{s:s, s:I, s:o, s:o, s:b}", "feature", s->name[at], "rank",
                                 (json_int_t)s->rank[at], "score", cli_json_num(s->score[at]),
                                 "p_value", cli_json_num(s->p_value[at]), "kept", s->keep[at]));
            if (s->keep[at]) json_array_append_new(kept, json_string(s->name[at]));
        }
        json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "command", "select",
                                "input", a.data, "target", a.target, "method", s->method,
                                "candidates", (json_int_t)s->n, "n_kept", (json_int_t)s->n_kept,
                                "kept", kept, "features", feats);
        json_object_set_new(out, "stages", cli_stages_json());
        if (cli_emit_json(out) != CLI_OK) rc = CLI_FAIL;
    } else {
        printf("%s on %s (target %s): %zu of %zu features kept\n", s->method, a.data, a.target,
               s->n_kept, s->n);
        int any_p = 0; /* methods without p-values get no p-value column */
        for (size_t i = 0; i < s->n; i++) any_p |= !isnan(s->p_value[i]);
        if (any_p)
            printf("%5s  %-28s %14s %12s  %s\n", "rank", "feature", "score", "p-value", "");
        else
            printf("%5s  %-28s %14s  %s\n", "rank", "feature", "score", "");
        for (size_t i = 0; i < s->n; i++) {
            size_t at = order[i];
            printf("%5zu  %-28s %14.6g", s->rank[at], s->name[at], s->score[at]);
            if (any_p && isnan(s->p_value[at]))
                printf(" %12s", "-");
            else if (any_p)
                printf(" %12.4g", s->p_value[at]);
            printf("  %s\n", s->keep[at] ? "kept" : "");
        }
    }
    free(order);
    kn_step_free(sel);
    kn_frame_free(f);
    kn_frame_free(cur);
    return rc;
}
