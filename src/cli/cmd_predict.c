/* kiln predict / eval: apply a saved model to a data file, score it. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/evaluate.h"
#include "kiln/importance.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    char nv[64];
    snprintf(nv, sizeof nv, "predict_rounds=%s", rounds);
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, kn_model_name(m));
    if (!c || !kn_param_find(c->params, "predict_rounds"))
        return kn_fail(KN_ERR_INVALID,
                       "--rounds: model %s is not boosted; only gbdt predicts in "
                       "stages",
                       kn_model_name(m));
    kn_status e = kn_model_set(m, nv);
    return e == KN_OK ? e : kn_fail_prefix(e, "--rounds %s: ", rounds);
}

/* Columns "proba_<class>" with the model's class probabilities. */
static kn_status add_proba(const kn_model *m, const kn_frame *f, kn_frame *res)
{
    double *p = NULL;
    size_t n = 0, k = kn_model_n_classes(m);
    kn_status e = kn_model_predict_proba(m, f, &p, &n);
    for (size_t c = 0; e == KN_OK && c < k; c++) {
        char name[256];
        snprintf(name, sizeof name, "proba_%s", kn_model_class(m, c));
        kn_column *col;
        e = kn_frame_add_column(res, name, KN_COL_NUMERIC, &col);
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
        json_t *s = cli_scores_json(&sc);
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
        cli_print_scores(kn_model_name(m), &sc);
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
