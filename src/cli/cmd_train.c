/* kiln train / predict / eval: fit a model on a data file, apply a saved model,
 * score it (regression models so far; classifiers come with their models). */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/evaluate.h"
#include "kiln/importance.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "kiln/split.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char train_usage[] =
    "usage: kiln train --data FILE --target COLUMN --model NAME [--param name=value ...]\n"
    "                  [--weight COLUMN] [--test-size F] [--stratify] [--seed S]\n"
    "                  [--ignore COLUMNS] --out MODEL.kmd\n"
    "\n"
    "Fit a model on the numeric feature columns of FILE (every column but the\n"
    "target and weight; encode categories first with 'kiln prep'). With\n"
    "--test-size F (default 0.2; 0 = none) a seeded random share F of the rows is\n"
    "held out and the model is scored on it (--stratify: the same share of every\n"
    "class). --ignore a,b leaves columns out of the features. The model file keeps\n"
    "the model, its parameters and its input columns. 'kiln help models' lists the\n"
    "models, 'kiln help model NAME' their parameters.\n"
    "\n"
    "example:\n"
    "  kiln train --data concrete.csv --target compressive_strength --model ridge \\\n"
    "      --param alpha=0.5 --out strength.kmd\n";

const char predict_usage[] =
    "usage: kiln predict --model MODEL.kmd --data FILE --out PREDICTIONS.csv [--proba]\n"
    "                    [--rounds K]\n"
    "\n"
    "Apply a saved model to FILE, which must have the model's input columns; writes\n"
    "one 'prediction' column per row, in the rows' order (the class label for\n"
    "classifiers; --proba adds a 'proba_<class>' column per class). --rounds K\n"
    "predicts with the first K boosting rounds only (gbdt: staged prediction).\n";

const char eval_usage[] =
    "usage: kiln eval --model MODEL.kmd --data FILE [--weight COLUMN] [--curves OUT.json]\n"
    "                 [--importance N] [--rounds K] [--json]\n"
    "\n"
    "Score a saved model on FILE, which must have the model's input columns and\n"
    "its target: RMSE, MAE, R^2, explained variance and median absolute error\n"
    "for regression; accuracy, balanced accuracy, macro F1, log loss and ROC-AUC\n"
    "(one-vs-rest for several classes) for classification. --weight COLUMN\n"
    "weighs every metric by that column's sample weights. --curves OUT.json writes\n"
    "the ROC curve, the precision-recall curve (with thresholds) and a 10-bin\n"
    "calibration curve of a binary classifier, ready to plot. --importance N prints\n"
    "each feature's permutation importance: the mean (and spread) fall of accuracy\n"
    "or R^2 over N shuffles of that feature's values. --rounds K scores the\n"
    "first K boosting rounds only (gbdt), to see where more rounds stop helping.\n";

/* Scores as a JSON object {"rows": n, name: value, ...}. */
static json_t *scores_json(const kn_scores *sc)
{
    json_t *j = json_pack("{s:I}", "rows", (json_int_t)sc->rows);
    for (size_t i = 0; i < sc->n; i++) json_object_set_new(j, sc->name[i], json_real(sc->value[i]));
    return j;
}

static void print_scores(const char *what, const kn_scores *s)
{
    printf("%s (%zu rows):", what, s->rows);
    for (size_t i = 0; i < s->n; i++) printf("  %s %.6g", s->name[i], s->value[i]);
    putchar('\n');
}

/* Hold out a seeded random share of the rows (per class when strata). */
static kn_status split(const kn_frame *f, double share, uint64_t seed, const char *stratify,
                       kn_frame **train, kn_frame **test)
{
    int32_t *strata = NULL;
    size_t k = 0, *parts[2] = {NULL, NULL}, sizes[2];
    double shares[2] = {1 - share, share};
    kn_status e = stratify ? kn_split_labels(f, stratify, &strata, &k) : KN_OK;
    if (e == KN_OK) e = kn_split_shares(kn_frame_n_rows(f), strata, shares, 2, seed, parts, sizes);
    if (e == KN_OK) e = kn_frame_select_rows(f, parts[0], sizes[0], train);
    if (e == KN_OK) e = kn_frame_select_rows(f, parts[1], sizes[1], test);
    kn_free(strata);
    kn_free(parts[0]);
    kn_free(parts[1]);
    return e;
}

static json_t *coef_row_json(const kn_model *m, const double *coef, double b)
{
    json_t *f = json_object();
    for (size_t j = 0; j < kn_model_n_features(m); j++)
        json_object_set_new(f, kn_model_feature(m, j), json_real(coef[j]));
    return json_pack("{s:f, s:o}", "intercept", b, "features", f);
}

/* {"intercept": b, "features": {name: coef, ...}}; for models with one row
 * per class {"classes": {label: {"intercept": .., "features": {..}}, ..}};
 * null for models without coefficients. */
static json_t *coefficients_json(const kn_model *m)
{
    size_t p = kn_model_n_features(m), rows = kn_model_coef_rows(m);
    if (!rows) return json_null();
    double *coef = kn_malloc((p ? rows * p : 1) * sizeof *coef);
    double *b = kn_malloc(rows * sizeof *b);
    json_t *j = NULL;
    if (coef && b && kn_model_coefficients(m, coef, b) == KN_OK) {
        if (rows == 1)
            j = coef_row_json(m, coef, b[0]);
        else {
            json_t *c = json_object();
            for (size_t r = 0; r < rows; r++)
                json_object_set_new(c, kn_model_class(m, r), coef_row_json(m, coef + r * p, b[r]));
            j = json_pack("{s:o}", "classes", c);
        }
    }
    kn_free(coef);
    kn_free(b);
    return j ? j : json_null();
}

/* The fit summary (GLMs): {"deviance": .., ..., "table": [{feature, coef, ...}]}, or NULL. */
static json_t *summary_json(const kn_model *m)
{
    kn_fit_summary fs;
    if (kn_model_summary(m, &fs) != KN_OK) return NULL;
    json_t *j = json_object();
    for (size_t i = 0; i < fs.n_stats; i++)
        json_object_set_new(j, fs.stat_name[i],
                            isfinite(fs.stat[i]) ? json_real(fs.stat[i]) : json_null());
    if (fs.coef) {
        json_t *t = json_array();
        size_t p = kn_model_n_features(m);
        for (size_t r = 0; r <= p; r++) {
            json_t *row =
                json_pack("{s:s}", "term", r < p ? kn_model_feature(m, r) : "(intercept)");
            const double v[4] = {fs.coef[r], fs.std_error[r], fs.z[r], fs.p_value[r]};
            static const char *const names[4] = {"coef", "std_error", "z", "p_value"};
            for (size_t c = 0; c < 4; c++)
                json_object_set_new(row, names[c], isfinite(v[c]) ? json_real(v[c]) : json_null());
            json_array_append_new(t, row);
        }
        json_object_set_new(j, "table", t);
    }
    return j;
}

static void print_summary(const kn_model *m)
{
    kn_fit_summary fs;
    if (kn_model_summary(m, &fs) != KN_OK) return;
    printf("fit:");
    for (size_t i = 0; i < fs.n_stats; i++) printf("  %s %.6g", fs.stat_name[i], fs.stat[i]);
    putchar('\n');
    if (!fs.coef) return;
    printf("%-24s %14s %12s %9s %10s\n", "term", "coef", "std err", "z", "P>|z|");
    size_t p = kn_model_n_features(m);
    for (size_t r = 0; r <= p; r++)
        printf("%-24.24s %14.6g %12.4g %9.3f %10.4g\n",
               r < p ? kn_model_feature(m, r) : "(intercept)", fs.coef[r], fs.std_error[r], fs.z[r],
               fs.p_value[r]);
}

typedef struct train_args {
    const char *data, *target, *model, *out, *weight;
    const char *params[64];
    size_t n_params;
    double test_size;
    uint64_t seed;
    int stratify;
    const char *ignore;
} train_args;

static int parse_train(int argc, char **argv, kn_read_opts *o, train_args *a)
{
    a->test_size = 0.2;
    for (int i = 1; i < argc; i++) {
        /* train's own options first: --target and --param are also reader options */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--param") && v) {
            if (a->n_params == 64) return cli_usage_error("train", "at most 64 --param");
            a->params[a->n_params++] = argv[++i];
        } else if (!strcmp(argv[i], "--data") && v)
            a->data = argv[++i];
        else if (!strcmp(argv[i], "--target") && v)
            a->target = argv[++i];
        else if (!strcmp(argv[i], "--model") && v)
            a->model = argv[++i];
        else if (!strcmp(argv[i], "--out") && v)
            a->out = argv[++i];
        else if (!strcmp(argv[i], "--weight") && v)
            a->weight = argv[++i];
        else if (!strcmp(argv[i], "--test-size") && v) {
            char *end;
            a->test_size = strtod(argv[++i], &end);
            if (*end || !(a->test_size >= 0 && a->test_size < 1))
                return cli_usage_error("train", "--test-size takes a share in [0, 1), got '%s'",
                                       argv[i]);
        } else if (!strcmp(argv[i], "--seed") && v)
            a->seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--stratify"))
            a->stratify = 1;
        else if (!strcmp(argv[i], "--ignore") && v)
            a->ignore = argv[++i];
        else {
            int r = cli_read_option(argc, argv, &i, o);
            if (r < 0) return CLI_USAGE;
            if (r == 0) return cli_usage_error("train", "unknown or incomplete option %s", argv[i]);
        }
    }
    if (!a->data || !a->target || !a->model || !a->out)
        return cli_usage_error("train", "need --data, --target, --model and --out");
    return CLI_OK;
}

int cmd_train(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    train_args a = {0};
    int rc = parse_train(argc, argv, &o, &a);
    if (rc != CLI_OK) return rc;
    kn_model *m;
    if (kn_model_new(a.model, &m) != KN_OK) {
        cli_error("%s; 'kiln help models' lists them", kn_last_error());
        return CLI_USAGE;
    }
    for (size_t k = 0; k < a.n_params; k++)
        if (kn_model_set(m, a.params[k]) != KN_OK) {
            cli_error("--param %s: %s", a.params[k], kn_last_error());
            kn_model_free(m);
            return CLI_USAGE;
        }
    kn_frame *f = NULL, *train = NULL, *test = NULL;
    kn_read_report rep;
    kn_status e = cli_read_frame(a.data, &o, &f, &rep);
    if (e == KN_OK) e = cli_ignore_columns(f, a.ignore);
    if (e == KN_OK && a.test_size > 0)
        e = split(f, a.test_size, a.seed, a.stratify ? a.target : NULL, &train, &test);
    kn_stage_begin("fit");
    if (e == KN_OK) e = kn_model_fit(m, train ? train : f, a.target, a.weight);
    kn_stage_end();
    kn_scores sc = {0};
    int scored = e == KN_OK && test && kn_frame_n_rows(test) > 1;
    if (scored) e = kn_model_score(m, test, a.weight, &sc);
    if (e == KN_OK) e = kn_model_save(m, a.out);
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "command", "train", "model",
                              a.model, "target", a.target, "out", a.out, "train_rows",
                              (json_int_t)kn_frame_n_rows(train ? train : f), "features",
                              (json_int_t)kn_model_n_features(m));
        if (scored) json_object_set_new(j, "test", scores_json(&sc));
        json_object_set_new(j, "coefficients", coefficients_json(m));
        json_t *sum = summary_json(m);
        if (sum) json_object_set_new(j, "summary", sum);
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else {
        printf("trained %s on %zu rows x %zu features; saved to %s\n", a.model,
               kn_frame_n_rows(train ? train : f), kn_model_n_features(m), a.out);
        print_summary(m);
        if (scored) print_scores("held-out test", &sc);
    }
    kn_frame_free(train);
    kn_frame_free(test);
    kn_frame_free(f);
    kn_model_free(m);
    return rc;
}

/* --model M --data F [--out P]: the shared arguments of predict and eval. */
static int parse_apply(const char *cmd, int argc, char **argv, kn_read_opts *o, const char **model,
                       const char **data, const char **out, const char **weight,
                       const char **rounds)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--model") && v)
            *model = argv[++i];
        else if (!strcmp(argv[i], "--data") && v)
            *data = argv[++i];
        else if (out && !strcmp(argv[i], "--out") && v)
            *out = argv[++i];
        else if (weight && !strcmp(argv[i], "--weight") && v)
            *weight = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && v)
            *rounds = argv[++i];
        else {
            int r = cli_read_option(argc, argv, &i, o);
            if (r < 0) return CLI_USAGE;
            if (r == 0) return cli_usage_error(cmd, "unknown or incomplete option %s", argv[i]);
        }
    }
    if (!*model || !*data || (out && !*out))
        return cli_usage_error(cmd,
                               out ? "need --model, --data and --out" : "need --model and --data");
    return CLI_OK;
}

/* --rounds K: a boosted model predicts with its first K rounds. */
static kn_status limit_rounds(kn_model *m, const char *rounds)
{
    if (!rounds) return KN_OK;
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, kn_model_name(m));
    if (!c || !kn_param_find(c->params, "predict_rounds"))
        return kn_fail(KN_ERR_INVALID,
                       "--rounds: model %s is not boosted; only gbdt predicts in "
                       "stages",
                       kn_model_name(m));
    char *nv = kn_sprintf("predict_rounds=%s", rounds);
    kn_status e = nv ? kn_model_set(m, nv) : KN_ERR_NOMEM;
    kn_free(nv);
    return e == KN_OK ? e : kn_fail_prefix(e, "--rounds %s: ", rounds);
}

/* Columns "proba_<class>" with the model's class probabilities. */
static kn_status add_proba(const kn_model *m, const kn_frame *f, kn_frame *res)
{
    double *p = NULL;
    size_t n = 0, k = kn_model_n_classes(m);
    kn_status e = kn_model_predict_proba(m, f, &p, &n);
    for (size_t c = 0; e == KN_OK && c < k; c++) {
        char *name = kn_sprintf("proba_%s", kn_model_class(m, c));
        kn_column *col;
        e = name ? kn_frame_add_column(res, name, KN_COL_NUMERIC, &col) : KN_ERR_NOMEM;
        kn_free(name);
        for (size_t i = 0; e == KN_OK && i < n; i++) kn_column_f64(col)[i] = p[i * k + c];
    }
    kn_free(p);
    return e;
}

int cmd_predict(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    const char *model = NULL, *data = NULL, *out = NULL;
    int proba = 0;
    for (int i = 1; i < argc; i++) /* --proba: taken out before the shared parser */
        if (!strcmp(argv[i], "--proba")) {
            proba = 1;
            memmove(argv + i, argv + i + 1, (size_t)(argc - i) * sizeof *argv);
            argc--;
            break;
        }
    const char *rounds = NULL;
    int rc = parse_apply("predict", argc, argv, &o, &model, &data, &out, NULL, &rounds);
    if (rc != CLI_OK) return rc;
    kn_model *m = NULL;
    kn_frame *f = NULL, *res = NULL;
    kn_read_report rep;
    double *pred = NULL;
    size_t n = 0;
    kn_column *c;
    kn_status e = kn_model_load(model, &m);
    if (e == KN_OK) e = limit_rounds(m, rounds);
    if (e == KN_OK) e = cli_read_frame(data, &o, &f, &rep);
    kn_stage_begin("predict");
    if (e == KN_OK) e = kn_model_predict(m, f, &pred, &n);
    kn_stage_end();
    int classify = m && kn_model_task(m) == KN_TASK_CLASSIFICATION;
    if (e == KN_OK) e = kn_frame_new(&res);
    if (e == KN_OK)
        e = kn_frame_add_column(res, "prediction", classify ? KN_COL_CATEGORICAL : KN_COL_NUMERIC,
                                &c);
    if (e == KN_OK) e = kn_frame_resize(res, n);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        c = kn_frame_col(res, 0);
        if (!classify) {
            kn_column_f64(c)[i] = pred[i];
            continue;
        }
        const char *label = kn_model_class(m, (size_t)pred[i]);
        e = kn_column_intern(c, label, strlen(label), &kn_column_codes(c)[i]);
    }
    if (e == KN_OK && classify && proba) e = add_proba(m, f, res);
    if (e == KN_OK) e = kn_frame_write(res, out, NULL);
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:I, s:o}", "command", "predict", "out", out,
                                     "rows", (json_int_t)n, "stages", cli_stages_json()));
    else if (!cli.quiet)
        fprintf(stderr, "wrote %zu predictions to %s\n", n, out);
    kn_free(pred);
    kn_frame_free(res);
    kn_frame_free(f);
    kn_model_free(m);
    return rc;
}

static json_t *curve_json(const kn_curve *c, const char *x, const char *y, int thresholds)
{
    json_t *j = json_object(), *xs = json_array(), *ys = json_array(), *ts = json_array();
    for (size_t i = 0; i < c->n; i++) {
        json_array_append_new(xs, json_real(c->x[i]));
        json_array_append_new(ys, json_real(c->y[i]));
        if (thresholds)
            json_array_append_new(ts, isfinite(c->threshold[i]) ? json_real(c->threshold[i])
                                                                : json_null());
    }
    json_object_set_new(j, x, xs);
    json_object_set_new(j, y, ys);
    if (thresholds)
        json_object_set_new(j, "threshold", ts);
    else
        json_decref(ts);
    return j;
}

/* ROC, precision-recall and calibration curves of a binary classifier on f,
 * as JSON into path. */
static kn_status write_curves(const kn_model *m, const kn_frame *f, const char *weight,
                              const char *path)
{
    if (kn_model_task(m) != KN_TASK_CLASSIFICATION || kn_model_n_classes(m) != 2)
        return kn_fail(KN_ERR_UNSUPPORTED, "--curves: curves are for binary classifiers");
    double *y = NULL, *proba = NULL, *p1 = NULL, *w = NULL;
    int32_t *yi = NULL;
    size_t n = 0, j;
    kn_curve roc = {0}, pr = {0}, cal = {0};
    kn_status e = kn_model_targets(m, f, &y);
    if (e == KN_OK) e = kn_model_predict_proba(m, f, &proba, &n);
    if (e == KN_OK && weight && kn_frame_find(f, weight, &j) == KN_OK)
        w = kn_column_f64(kn_frame_col(f, j));
    if (e == KN_OK) {
        yi = kn_malloc((n ? n : 1) * sizeof *yi);
        p1 = kn_malloc((n ? n : 1) * sizeof *p1);
        if (!yi || !p1) e = KN_ERR_NOMEM;
    }
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        yi[i] = (int32_t)y[i];
        p1[i] = proba[2 * i + 1];
    }
    if (e == KN_OK) e = kn_metric_roc_curve(yi, p1, w, n, 1, &roc);
    if (e == KN_OK) e = kn_metric_pr_curve(yi, p1, w, n, &pr);
    if (e == KN_OK) e = kn_metric_calibration_curve(yi, p1, n, 10, 0, &cal);
    if (e == KN_OK) {
        json_t *doc = json_pack("{s:s, s:o, s:o, s:o}", "positive_class", kn_model_class(m, 1),
                                "roc", curve_json(&roc, "fpr", "tpr", 1), "precision_recall",
                                curve_json(&pr, "recall", "precision", 1), "calibration",
                                curve_json(&cal, "mean_predicted", "fraction_positive", 0));
        if (json_dump_file(doc, path, JSON_INDENT(1)) != 0)
            e = kn_fail(KN_ERR_IO, "--curves: cannot write %s", path);
        json_decref(doc);
    }
    kn_curve_free(&roc), kn_curve_free(&pr), kn_curve_free(&cal);
    kn_free(y), kn_free(proba), kn_free(p1), kn_free(yi);
    return e;
}

int cmd_eval(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    const char *model = NULL, *data = NULL, *weight = NULL, *curves = NULL, *importance = NULL;
    for (int i = 1; i + 1 < argc; i++) /* --curves F, --importance N: taken out first */
        if (!strcmp(argv[i], "--curves") || !strcmp(argv[i], "--importance")) {
            *(argv[i][2] == 'c' ? &curves : &importance) = argv[i + 1];
            memmove(argv + i, argv + i + 2, (size_t)(argc - i - 1) * sizeof *argv);
            argc -= 2;
            i--;
        }
    long repeats = 0;
    if (importance) {
        char *end;
        repeats = strtol(importance, &end, 10);
        if (*end || repeats < 1 || repeats > 1000)
            return cli_usage_error("eval",
                                   "--importance %s: give the shuffles per feature, 1 to "
                                   "1000 (5 is usual)",
                                   importance);
    }
    const char *rounds = NULL;
    int rc = parse_apply("eval", argc, argv, &o, &model, &data, NULL, &weight, &rounds);
    if (rc != CLI_OK) return rc;
    kn_model *m = NULL;
    kn_frame *f = NULL;
    kn_read_report rep;
    kn_scores sc;
    kn_status e = kn_model_load(model, &m);
    if (e == KN_OK) e = limit_rounds(m, rounds);
    if (e == KN_OK) e = cli_read_frame(data, &o, &f, &rep);
    if (e == KN_OK) e = kn_model_score(m, f, weight, &sc);
    if (e == KN_OK && curves) e = write_curves(m, f, weight, curves);
    size_t p = m ? kn_model_n_features(m) : 0;
    double *imp = repeats ? kn_calloc(2 * (p ? p : 1), sizeof *imp) : NULL;
    if (e == KN_OK && repeats) {
        kn_stage_begin("importance");
        e = imp ? kn_permutation_importance(m, f, (size_t)repeats, 0, imp, imp + p) : KN_ERR_NOMEM;
        kn_stage_end();
    }
    if (e != KN_OK) {
        cli_error("eval: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *s = scores_json(&sc);
        json_object_set_new(s, "command", json_string("eval"));
        json_object_set_new(s, "model", json_string(kn_model_name(m)));
        if (weight) json_object_set_new(s, "weight", json_string(weight));
        if (repeats) {
            json_t *pi = json_object();
            for (size_t j = 0; j < p; j++)
                json_object_set_new(pi, kn_model_feature(m, j),
                                    json_pack("{s:f, s:f}", "mean", imp[j], "std", imp[p + j]));
            json_object_set_new(s, "permutation_importance", pi);
        }
        rc = cli_emit_json(s);
    } else {
        print_scores(kn_model_name(m), &sc);
        if (repeats) {
            printf("permutation importance (%s fall, %ld shuffles):\n",
                   kn_model_task(m) == KN_TASK_CLASSIFICATION ? "accuracy" : "R^2", repeats);
            for (size_t j = 0; j < p; j++)
                printf("  %-32s %10.6f +- %.6f\n", kn_model_feature(m, j), imp[j], imp[p + j]);
        }
    }
    kn_free(imp);
    kn_frame_free(f);
    kn_model_free(m);
    return rc;
}
