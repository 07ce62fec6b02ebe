/* kiln curve learning|validation: cross-validated scores against the
 * training set's size, or against one parameter's values, with the train
 * score beside the validation score at every point. */
#include "cli/cli_cv.h"
#include "kiln/log.h"
#include "kiln/model.h"
#include "kiln/mem.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt curve_opts[] = {
    CV_OPTS_COMMON,
    CLI_OPT_TEXT(cv_args, sizes, "sizes", "F1,F2,..",
                 "learning: shares of each fold's training rows (0 < F <= 1), or row counts "
                 "(default 0.1,0.325,0.55,0.775,1, as scikit-learn's learning_curve)"),
    CLI_OPT_TEXT(cv_args, range, "range", "PARAM=V1,V2,..",
                 "validation: the parameter and its values, e.g. max_depth=1,2,4,8,16"),
    CLI_OPT_TEXT(cv_args, metric, "metric", "NAME",
                 "the score to draw (default: the task's first, accuracy or rmse)"),
    CLI_OPT_END};

const cli_spec curve_spec = {
    "curve",
    "learning and validation curves (train beside validation scores)",
    "kiln curve learning: cross-validate the model at growing training-set\n"
    "sizes (each fold fitted on the first rows of its training rows, as\n"
    "scikit-learn's learning_curve) and print the mean train and validation\n"
    "score at each size: a validation score still rising at the full size says\n"
    "more rows would help; train and validation meeting low says the model is\n"
    "too simple. With --shuffle (or --seed) each size is a seeded random share\n"
    "of the fold's training rows instead of its first rows (needed when the\n"
    "file is sorted by class).\n"
    "kiln curve validation --range PARAM=V1,V2,..: cross-validate once per value\n"
    "of one parameter: train rising while validation falls is over-fitting; the\n"
    "best value by validation score is named.\n"
    "Every option of 'kiln cv' applies (folds, split, steps, --jobs).\n",
    "  kiln curve learning --data wine.csv --target class --model gbdt --seed 1\n"
    "  kiln curve validation --data wine.csv --target class --model decision_tree \\\n"
    "      --range max_depth=1,2,4,8,16\n",
    curve_opts,
    0,
    cmd_curve};

typedef struct point {
    char label[64]; /* the size or the parameter's value */
    double rows;    /* mean training rows over the folds */
    double train, train_std, valid, valid_std, fit_s;
    kn_fit_verdict verdict;
} point;

/* "0.1,0.5,1" or "100,200" into sizes (learning). */
static int parse_sizes(const char *text, double **out, size_t *n)
{
    const char *def = "0.1,0.325,0.55,0.775,1";
    const char *p = text ? text : def;
    double *v = kn_calloc(strlen(p) + 1, sizeof *v);
    if (!v) return CLI_FAIL;
    size_t k = 0;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !(x > 0) || (x > 1 && x != floor(x))) {
            kn_free(v);
            return cli_usage_error("curve",
                                   "--sizes takes shares above 0 up to 1 or whole row counts, "
                                   "comma-separated (e.g. 0.1,0.5,1), not '%s'",
                                   text);
        }
        v[k++] = x;
        p = *end ? end + 1 : end;
    }
    *out = v;
    *n = k;
    return CLI_OK;
}

/* The metric's index in r, or -1. */
static int metric_at(const kn_cv_result *r, const char *name)
{
    for (size_t m = 0; m < r->n_scores; m++)
        if (!name || !strcmp(r->name[m], name)) return (int)m;
    return -1;
}

static void fill(point *pt, const kn_cv_result *r, int m)
{
    double rows = 0, fit = 0;
    for (size_t i = 0; i < r->k; i++) rows += (double)r->n_train[i], fit += r->fit_seconds[i];
    pt->rows = rows / (double)r->k;
    pt->fit_s = fit / (double)r->k;
    pt->train = r->train_mean[m];
    pt->train_std = r->train_std[m];
    pt->valid = r->mean[m];
    pt->valid_std = r->std[m];
    pt->verdict = r->verdict;
}

static void print_points(const char *kind, const cv_args *a, const char *metric, const point *pt,
                         size_t n, const char *param, int best)
{
    printf("%s curve: %s on %s (target %s), %s\n", kind, a->spec.model, a->data, a->spec.target,
           metric);
    printf("%-16s %10s %20s %20s %9s  %s\n", param ? param : "size", "train rows", "train",
           "validation", "fit s", "fit");
    for (size_t i = 0; i < n; i++) {
        char t[48], v[48];
        snprintf(t, sizeof t, "%.4g +- %.2g", pt[i].train, pt[i].train_std);
        snprintf(v, sizeof v, "%.4g +- %.2g", pt[i].valid, pt[i].valid_std);
        printf("%-16s %10.0f %20s %20s %9.3f  %s%s\n", pt[i].label, pt[i].rows, t, v, pt[i].fit_s,
               kn_fit_verdict_name(pt[i].verdict), best == (int)i ? "  <- best" : "");
    }
}

/* Every --range value set on the model with the --param values, before the
 * data is read: a parameter the model lacks or a value out of its range is
 * an error naming it, not a failure after the first points' folds. */
static int check_range(const cv_args *a, const char *param, const char *values)
{
    const char *v = values;
    for (;;) {
        size_t len = strcspn(v, ",");
        char *kv = kn_sprintf("%s=%.*s", param, (int)len, v);
        kn_model *m = NULL;
        kn_status e = kv ? kn_model_new(a->spec.model, &m) : KN_ERR_NOMEM;
        for (size_t k = 0; e == KN_OK && k < a->spec.n_params; k++)
            e = kn_model_set(m, a->spec.params[k]);
        if (e == KN_OK) e = kn_model_set(m, kv);
        if (e == KN_OK) e = kn_model_validate(m);
        kn_model_free(m);
        if (e != KN_OK) {
            cli_error("curve: --range %s: %s (checked before reading the data)", kv ? kv : param,
                      kn_last_error());
            kn_free(kv);
            return CLI_FAIL;
        }
        kn_free(kv);
        if (!v[len]) return CLI_OK;
        v += len + 1;
    }
}

int cmd_curve(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    cv_args a = {0};
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        int rc = cli_cv_parse(&curve_spec, argc, argv, &o, &a);
        return rc < 0 ? CLI_OK : rc;
    }
    if (argc < 2 || argv[1][0] == '-')
        return cli_usage_error("curve", "say which curve: kiln curve learning|validation ...");
    const char *kind = argv[1];
    int learning = !strcmp(kind, "learning");
    if (!learning && strcmp(kind, "validation"))
        return cli_usage_error("curve", "unknown curve '%s'; choose learning or validation", kind);
    int rc = cli_cv_parse(&curve_spec, argc - 1, argv + 1, &o, &a);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (learning && a.range) return cli_usage_error("curve", "--range is for the validation curve");
    if (!learning && a.sizes) return cli_usage_error("curve", "--sizes is for the learning curve");
    if (!learning && (!a.range || !strchr(a.range, '=') || a.range[0] == '='))
        return cli_usage_error("curve", "the validation curve needs --range PARAM=V1,V2,..");
    double *sizes = NULL;
    size_t n = 0;
    char *values = NULL, *param = NULL;
    if (learning) {
        if ((rc = parse_sizes(a.sizes, &sizes, &n)) != CLI_OK) return rc;
    } else {
        param = kn_sprintf("%.*s", (int)(strchr(a.range, '=') - a.range), a.range);
        values = kn_strdup(strchr(a.range, '=') + 1);
        if (!param || !values) {
            kn_free(param), kn_free(values);
            return CLI_FAIL;
        }
        for (const char *p = values; *p; p++) n += *p == ',';
        n++;
        if ((rc = check_range(&a, param, values)) != CLI_OK) {
            kn_free(param), kn_free(values);
            return rc;
        }
    }
    /* --shuffle (or --seed): each size a seeded random share of the rows */
    a.spec.shuffle_train_rows = learning && a.spec.split.shuffle;
    if (a.metric) {
        a.spec.metrics = &a.metric;
        a.spec.n_metrics = 1;
    }
    point *pt = kn_calloc(n, sizeof *pt);
    const char **params = kn_calloc(a.spec.n_params + 1, sizeof *params);
    char **kv = kn_calloc(n, sizeof *kv);
    kn_frame *f = NULL;
    kn_status e = pt && params && kv ? cli_cv_frame(&a, &o, &f) : KN_ERR_NOMEM;
    const char *metric = NULL;
    int higher_is_better = 1;
    char *next = values;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        kn_cv_spec s = a.spec;
        if (learning) {
            s.train_rows = sizes[i] > 1 ? (size_t)sizes[i] : 0;
            s.train_fraction = sizes[i] <= 1 ? sizes[i] : 0;
            snprintf(pt[i].label, sizeof pt[i].label, "%g", sizes[i]);
        } else { /* the given parameters, then PARAM=value (the last one set wins) */
            char *comma = strchr(next, ',');
            if (comma) *comma = 0;
            snprintf(pt[i].label, sizeof pt[i].label, "%s", next);
            if (!(kv[i] = kn_sprintf("%s=%s", param, next))) e = KN_ERR_NOMEM;
            next = comma ? comma + 1 : next + strlen(next);
            for (size_t j = 0; j < a.spec.n_params; j++) params[j] = a.spec.params[j];
            params[a.spec.n_params] = kv[i];
            s.params = params;
            s.n_params = a.spec.n_params + 1;
        }
        kn_cv_result r = {0};
        kn_log(KN_LOG_INFO, "%s curve: point %zu of %zu (%s %s)", kind, i + 1, n,
               learning ? "size" : param, pt[i].label);
        kn_stage_begin("cv");
        if (e == KN_OK) e = kn_cv_run(f, &s, &r);
        kn_stage_end();
        int m = e == KN_OK ? metric_at(&r, a.metric) : -1;
        if (e == KN_OK && m < 0) e = kn_fail(KN_ERR_INVALID, "no score to draw");
        if (e == KN_OK) {
            metric = r.name[m]; /* registered names live for the process */
            fill(&pt[i], &r, m);
            higher_is_better = r.higher_is_better[m];
        }
        kn_cv_result_free(&r);
    }
    int best = -1; /* validation: the value with the best validation score */
    for (size_t j = 0; e == KN_OK && !learning && j < n; j++)
        if (best < 0 ||
            (higher_is_better ? pt[j].valid > pt[best].valid : pt[j].valid < pt[best].valid))
            best = (int)j;
    if (e != KN_OK) {
        cli_error("curve: %s", kn_last_error());
        rc = e == KN_ERR_NOT_FOUND && strstr(kn_last_error(), "no model named") ? CLI_USAGE
                                                                                : CLI_FAIL;
    } else if (cli.json) {
        json_t *points = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *p =
                json_pack("{s:f, s:{s:o, s:o}, s:{s:o, s:o}, s:f, s:s}", "train_rows", pt[i].rows,
                          "train", "mean", cli_json_num(pt[i].train), "std",
                          cli_json_num(pt[i].train_std), "validation", "mean",
                          cli_json_num(pt[i].valid), "std", cli_json_num(pt[i].valid_std),
                          "fit_seconds", pt[i].fit_s, "fit", kn_fit_verdict_name(pt[i].verdict));
            if (learning)
                json_object_set_new(p, "size", json_real(sizes[i]));
            else
                json_object_set_new(p, "value", json_string(pt[i].label));
            json_array_append_new(points, p);
        }
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "command", "curve", "curve", kind, "model",
                      a.spec.model, "target", a.spec.target, "metric", metric, "points", points);
        if (!learning) {
            json_object_set_new(j, "param", json_string(param));
            json_object_set_new(j, "best", json_string(pt[best].label));
        }
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else {
        print_points(learning ? "learning" : "validation", &a, metric, pt, n, param, best);
        if (learning && n > 1) {
            const point *last = &pt[n - 1], *prev = &pt[n - 2];
            double gain = fabs(last->valid - prev->valid);
            printf("%s\n", gain <= last->valid_std
                               ? "the last step in size moved the validation score less than "
                                 "the folds' spread: more rows would likely help little"
                               : "the validation score still moves with more rows: more data "
                                 "would likely help");
        }
    }
    for (size_t i = 0; kv && i < n; i++) kn_free(kv[i]);
    kn_free(kv);
    kn_free(params);
    kn_free(pt);
    kn_free(sizes);
    kn_free(values);
    kn_free(param);
    kn_frame_free(f);
    return rc;
}
