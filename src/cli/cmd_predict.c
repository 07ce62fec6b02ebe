/* kiln predict / eval: apply a saved model to a data file, score it. */
#include "cli/cli.h"
#include "cli/cli_predict.h"
#include "kiln/mem.h"
#include "kiln/evaluate.h"
#include "kiln/importance.h"
#include "kiln/log.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "kiln/stage.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt predict_opts[] = {
    CLI_OPT_NEED(apply_args, model, "model", "MODEL",
                 "the model: a .kiln artifact, a .kmd model file, or a registered NAME@production, "
                 "NAME@staging or NAME@vN (--store)"),
    CLI_OPT_NEED(apply_args, data, "data", "FILE", "the rows to predict"),
    CLI_OPT_NEED(apply_args, out, "out", "PREDICTIONS.csv",
                 "where the predictions go ('-': standard output)"),
    CLI_OPT_FLAG(apply_args, proba, "proba", "add a proba_<class> column per class"),
    CLI_OPT_TEXT(apply_args, keep, "keep", "COLUMNS", "copy these columns before the predictions"),
    CLI_OPT_TEXT(apply_args, rounds, "rounds", "K", "predict with the first K boosting rounds"),
    CLI_OPT_FLAG(apply_args, overwrite_input, "overwrite-input",
                 "allow --out to replace FILE or MODEL.kmd"),
    CLI_OPT_TEXT(apply_args, verify_key, "verify-key", "NAME.pub",
                 "refuse a .kiln artifact not signed with this key's secret half"),
    CLI_OPT_TEXT(apply_args, rejects, "rejects", "FILE",
                 "where rows the artifact's schema quarantines go (default FILE.invalid.csv)"),
    CLI_OPT_TEXT(apply_args, store, "store", "DIR",
                 "the store a registered --model NAME@stage is looked up in (default: "
                 "$KILN_STORE, else ./kiln-store)"),
    CLI_OPT_READ(apply_args, read),
    CLI_OPT_END};

static const cli_opt eval_opts[] = {
    CLI_OPT_NEED(apply_args, model, "model", "MODEL",
                 "the model: a .kiln artifact, a .kmd model file, or a registered NAME@production, "
                 "NAME@staging or NAME@vN (--store)"),
    CLI_OPT_NEED(apply_args, data, "data", "FILE", "labelled rows to score on"),
    CLI_OPT_TEXT(apply_args, weight, "weight", "COLUMN", "sample weights for every metric"),
    CLI_OPT_TEXT(apply_args, curves, "curves", "OUT.json",
                 "write ROC, precision-recall and calibration curves"),
    CLI_OPT_INT(apply_args, importance, "importance", "N", NULL, 1, 1000,
                "permutation importance over N shuffles per feature (5 is usual)"),
    CLI_OPT_TEXT(apply_args, rounds, "rounds", "K", "score the first K boosting rounds"),
    CLI_OPT_INT(apply_args, bootstrap, "bootstrap", "N", NULL, 10, 100000,
                "resamples of the rows for each score's 95 % interval (default 1000; fewer on "
                "more than 100,000 rows)"),
    CLI_OPT_FLAG(apply_args, no_intervals, "no-intervals", "no confidence intervals"),
    CLI_OPT_INT(apply_args, seed, "seed", "N", "0", 0, INT64_MAX, "seed of the resamples"),
    CLI_OPT_TEXT(apply_args, labels, "labels", "COLUMN",
                 "a clustering model: the column of true groups, scored by adjusted Rand index "
                 "and normalised mutual information"),
    CLI_OPT_TEXT(apply_args, slice_by, "slice-by", "COLUMN",
                 "also score the rows of each value of COLUMN (at most 100 values), and name the "
                 "worst slice"),
    CLI_OPT_TEXT(apply_args, positive_class, "positive-class", "LABEL",
                 "the positive class of a binary target (default: the second, sorted)"),
    CLI_OPT_FLAG(apply_args, drop_missing_target, "drop-missing-target",
                 "leave out rows whose target is missing"),
    CLI_OPT_TEXT(apply_args, verify_key, "verify-key", "NAME.pub",
                 "refuse a .kiln artifact not signed with this key's secret half"),
    CLI_OPT_TEXT(apply_args, rejects, "rejects", "FILE",
                 "where rows the artifact's schema quarantines go (default FILE.invalid.csv)"),
    CLI_OPT_TEXT(apply_args, store, "store", "DIR",
                 "the store a registered --model NAME@stage is looked up in (default: "
                 "$KILN_STORE, else ./kiln-store)"),
    CLI_OPT_READ(apply_args, read),
    CLI_OPT_END};

const cli_spec predict_spec = {
    "predict",
    "apply a saved model to a data file",
    "Apply a saved model to FILE, which must have the model's input columns; writes\n"
    "one 'prediction' column per row, in the rows' order (the class label for\n"
    "classifiers; --proba adds a 'proba_<class>' column per class; a regressor\n"
    "has no probabilities). FILE is read with the column types the model was\n"
    "fitted with, so a one-row file, an empty column or category codes that look\n"
    "like numbers read as they did at fit time. --keep id,region copies those\n"
    "columns (they need not be features) before the predictions, text unchanged.\n"
    "When the reader sets rows aside (--on-bad-rows skip or quarantine), a first\n"
    "column 'row' gives each prediction's data row in FILE (1 = the first row\n"
    "after the header), so every prediction can be traced; quarantined rows are\n"
    "in the quarantine file with their line numbers. --out - writes the CSV to\n"
    "standard output. --rounds K predicts with the first K boosting rounds only\n"
    "(gbdt: staged prediction). --out may not be FILE or MODEL.kmd unless\n"
    "--overwrite-input is given.\n"
    "\n"
    "MODEL may be a .kiln artifact (kiln train --out NAME.kiln, kiln run): FILE is\n"
    "then read with the pipeline's input types and checked against the artifact's\n"
    "input schema first; rows that break it are reported (how many, the first\n"
    "few with their row and reason) and, by the schema's policy, quarantined\n"
    "into --rejects (default FILE.invalid.csv) or dropped, never scored; a 'row'\n"
    "column then traces each prediction. Then the pipeline's steps and model run\n"
    "on the raw rows. --verify-key NAME.pub refuses an artifact that is not\n"
    "signed, or not signed with that key's secret half (kiln keygen).\n",
    "  kiln predict --model m.kmd --data new.csv --keep id --out - | head\n"
    "  kiln predict --model m.kiln --data new.csv --proba --verify-key team.pub --out p.csv\n",
    predict_opts,
    1,
    cmd_predict};
const cli_spec eval_spec = {
    "eval",
    "score a saved model on labelled data",
    "Score a saved model on FILE, which must have the model's input columns and\n"
    "its target (read with the types the model was fitted with): RMSE, MAE, R^2,\n"
    "explained variance and median absolute error\n"
    "for regression; accuracy, balanced accuracy, macro F1, log loss and ROC-AUC\n"
    "for classification (roc_auc_average says how: binary, or macro-ovr, the\n"
    "unweighted mean of each class against the rest, for several classes); a\n"
    "binary classifier adds precision, recall and F1 of its positive class\n"
    "(--positive-class LABEL; default the second label in sorted order; the\n"
    "output names it). --weight COLUMN weighs every metric by that column's\n"
    "sample weights. --drop-missing-target leaves out rows whose target is\n"
    "missing. --curves OUT.json writes the ROC curve, the precision-recall curve\n"
    "(with thresholds) and a 10-bin calibration curve, ready to plot: of the\n"
    "positive class for a binary classifier, of each class against the rest\n"
    "(one set per class, labelled) for several classes. --importance N prints\n"
    "each feature's permutation importance, most important first: the mean (and\n"
    "spread) fall of accuracy or R^2 over N shuffles of that feature's values.\n"
    "--rounds K scores the first K boosting rounds only (gbdt), to see where more\n"
    "rounds stop helping.\n"
    "\n"
    "MODEL may be a .kiln artifact: FILE is checked against its input schema\n"
    "first (as kiln predict does) and the rows kept are scored through the\n"
    "whole pipeline; --verify-key NAME.pub checks its signature. The positive\n"
    "class defaults to the one the artifact's metrics name. --curves,\n"
    "--importance and --rounds are for .kmd models.\n"
    "\n"
    "A clustering model (kmeans, from kiln cluster --save) needs no target: FILE's\n"
    "rows go to their nearest centre and eval reports the inertia (sum of squared\n"
    "distances to it, scikit-learn's -KMeans.score) and the silhouette score (up\n"
    "to 20,000 rows); --labels COLUMN compares the clusters with those true groups\n"
    "(adjusted Rand index and normalised mutual information, as scikit-learn's\n"
    "adjusted_rand_score and normalized_mutual_info_score).\n",
    "  kiln eval --model m.kiln --data labelled.csv\n"
    "  kiln eval --model clusters.kmd --data wine.csv --labels class\n",
    eval_opts,
    1,
    cmd_eval};

/* --model as a file: a .kiln artifact (*artifact 1) or a .kmd model, whose
 * path goes into *path (kn_free). CLI_OK, or an error printed. */
static int resolve(const char *cmd, const apply_args *a, char **path, int *artifact)
{
    if (cli_resolve_model(a->model, path) != KN_OK) {
        cli_error("%s: %s", cmd, kn_last_error());
        return CLI_FAIL;
    }
    *artifact = cli_is_artifact(*path);
    if (!*artifact && (a->verify_key || a->rejects)) {
        kn_free(*path);
        return cli_usage_error(cmd, "%s applies to .kiln artifacts; %s is a .kmd model",
                               a->verify_key ? "--verify-key" : "--rejects", a->model);
    }
    return CLI_OK;
}

/* The options of predict or eval, by their tables. */
static int parse_apply(const char *cmd, int argc, char **argv, kn_read_opts *o, apply_args *a)
{
    int predict = !strcmp(cmd, "predict");
    int rc = cli_parse(predict ? &predict_spec : &eval_spec, argc, argv, a, NULL);
    if (rc) return rc;
    *o = a->read;
    cli_store_dir = a->store;
    if (predict && cli.json && !strcmp(a->out, "-"))
        return cli_usage_error(cmd, "--json and --out - would both write to standard output; "
                                    "give --out a file");
    const char *ins[2] = {a->data, a->model}, *outs[3] = {a->out, a->curves, a->rejects};
    return cli_refuse_overwrite(cmd, outs, 3, ins, 2, predict ? a->overwrite_input : -1);
}

/* --rounds K: a boosted model predicts with its first K rounds (per call:
 * the model is not changed). */
kn_status parse_rounds(const kn_model *m, const char *rounds, kn_predict_opts *po)
{
    memset(po, 0, sizeof *po);
    if (!rounds) return KN_OK;
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, kn_model_name(m));
    if (!c || !kn_param_find(c->params, "predict_rounds"))
        return kn_fail(KN_ERR_INVALID,
                       "--rounds: model %s is not boosted; only gbdt predicts in "
                       "stages",
                       kn_model_name(m));
    char *end;
    errno = 0;
    long long k = strtoll(rounds, &end, 10);
    if (end == rounds || *end || errno || k < 0)
        return kn_fail(KN_ERR_INVALID, "--rounds %s: give a whole number of rounds >= 0 (0: all)",
                       rounds);
    po->rounds = (size_t)k;
    return KN_OK;
}

/* Is every class label the text "%.17g" gives its number? Then a numeric
 * target column maps to the labels exactly (as when the model was fitted on
 * a numeric target). */
static int labels_are_numbers(const kn_model *m)
{
    for (size_t c = 0; c < kn_model_n_classes(m); c++) {
        const char *label = kn_model_class(m, c);
        char *end, buf[40];
        double v = strtod(label, &end);
        if (!*label || *end) return 0;
        snprintf(buf, sizeof buf, "%.17g", v);
        if (strcmp(buf, label)) return 0;
    }
    return 1;
}

/* A comma list's next name into buf ("" at the end); returns the rest. */
static const char *next_name(const char *list, char *buf, size_t cap)
{
    size_t len = strcspn(list, ",");
    snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), list);
    return list[len] ? list + len + 1 : list + len;
}

/* The reader declarations of the model's input: each feature with the kind
 * it was fitted with (categorical when it has fitted levels), the target
 * when `target` (numeric for a regressor; categorical for a classifier
 * whose labels are not number texts), and the --keep columns as text (they
 * pass through unchanged) unless they are features. Names borrowed from m
 * and keep_names. A new array of *n entries; kn_free. */
static kn_col_decl *model_decls(const kn_model *m, int target, char (*keep_names)[256],
                                size_t n_keep, size_t *n)
{
    size_t p = kn_model_n_features(m), k = 0;
    kn_col_decl *d = kn_malloc((p + n_keep + 1) * sizeof *d);
    if (!d) return NULL;
    for (size_t j = 0; j < p; j++)
        d[k++] = (kn_col_decl){kn_model_feature(m, j),
                               kn_model_feature_levels(m, j) ? KN_COL_CATEGORICAL : KN_COL_NUMERIC};
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    if (target && kn_model_target(m) && (!classify || !labels_are_numbers(m)))
        d[k++] = (kn_col_decl){kn_model_target(m), classify ? KN_COL_CATEGORICAL : KN_COL_NUMERIC};
    for (size_t i = 0; i < n_keep; i++) {
        size_t j = 0;
        while (j < p && strcmp(kn_model_feature(m, j), keep_names[i])) j++;
        if (j == p) d[k++] = (kn_col_decl){keep_names[i], KN_COL_STRING};
    }
    *n = k;
    return d;
}

void note_rejected(uint64_t data_row, void *user)
{
    rejected_rows *r = user;
    if (!data_row) { /* the read starts over */
        r->n = 0;
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        uint64_t *v = kn_realloc(r->v, cap * sizeof *v);
        if (!v) {
            r->nomem = 1;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = data_row;
}

/* Read the data with the model's types, telling which rows were set aside. */
static kn_status read_for_model(const kn_model *m, const char *path, kn_read_opts *o, int target,
                                char (*keep_names)[256], size_t n_keep, kn_frame **f,
                                rejected_rows *rej)
{
    /* as the training data was read, where the model file recorded how
     * (a .kmd before format 4, or from kiln cluster or anomaly: the
     * options given here) */
    const char *text = kn_model_read_settings(m);
    kn_read_settings rs = {text, text ? strlen(text) : 0};
    kn_status e = text ? cli_read_as_trained(target ? "eval" : "predict", NULL, &rs, o) : KN_OK;
    if (e != KN_OK) return e;
    size_t n_decls = 0;
    kn_col_decl *decls = model_decls(m, target, keep_names, n_keep, &n_decls);
    if (!decls) return KN_ERR_NOMEM;
    o->decls = decls;
    o->n_decls = n_decls;
    o->on_reject = note_rejected;
    o->on_reject_user = rej;
    kn_read_report rep;
    e = cli_read_frame(path, o, f, &rep);
    o->decls = NULL;
    o->n_decls = 0;
    if (o->token_is_level_user == &rs) { /* (rs ends here) */
        o->token_is_level = NULL;
        o->token_is_level_user = NULL;
    }
    kn_free(decls);
    if (e == KN_OK && rej->nomem) e = KN_ERR_NOMEM;
    return e;
}

/* Column "row" (first): each kept row's 1-based data row in the input. */
static kn_status add_row_numbers(kn_frame *res, const rejected_rows *rej)
{
    kn_column *c;
    kn_status e = kn_frame_insert_column(res, 0, "row", KN_COL_NUMERIC, &c);
    if (e != KN_OK) return e;
    double *v = kn_column_f64(c);
    uint64_t row = 1;
    size_t k = 0;
    for (size_t i = 0; i < kn_frame_n_rows(res); i++, row++) {
        while (k < rej->n && rej->v[k] == row) k++, row++;
        v[i] = (double)row;
    }
    return KN_OK;
}

/* The --keep columns of f, copied in the order given. */
kn_status keep_columns(const kn_frame *f, char (*names)[256], size_t n, kn_frame **out)
{
    size_t idx[256];
    for (size_t i = 0; i < n; i++) {
        if (kn_frame_find(f, names[i], &idx[i]) != KN_OK)
            return kn_fail(KN_ERR_NOT_FOUND, "--keep: the data has no column '%s'", names[i]);
        if (!strcmp(names[i], "prediction") || !strcmp(names[i], "row") ||
            !strncmp(names[i], "proba_", 6))
            return kn_fail(KN_ERR_INVALID,
                           "--keep: column '%s' has the name of an output column; rename it "
                           "in the data",
                           names[i]);
        for (size_t k = 0; k < i; k++)
            if (idx[k] == idx[i])
                return kn_fail(KN_ERR_INVALID, "--keep lists '%s' twice", names[i]);
    }
    return kn_frame_select_cols(f, idx, n, out);
}

/* Columns "proba_<class>" with the model's class probabilities. */
static kn_status add_proba(const kn_model *m, const kn_predict_opts *po, const kn_frame *f,
                           kn_frame *res)
{
    double *p = NULL;
    size_t n = 0, k = kn_model_n_classes(m);
    kn_status e = kn_model_predict_proba_with(m, f, po, &p, &n);
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

/* Column "prediction": the value, or the class label of a classifier. */
kn_status add_predictions(const kn_model *m, const double *pred, kn_frame *res)
{
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    kn_column *c;
    kn_status e =
        kn_frame_add_column(res, "prediction", classify ? KN_COL_CATEGORICAL : KN_COL_NUMERIC, &c);
    for (size_t i = 0; e == KN_OK && i < kn_frame_n_rows(res); i++) {
        if (!classify) {
            kn_column_f64(c)[i] = pred[i];
            continue;
        }
        const char *label = kn_model_class(m, (size_t)pred[i]);
        e = kn_column_intern(c, label, strlen(label), &kn_column_codes(c)[i]);
    }
    return e;
}

/* --keep a,b into names; at most 256. */
int split_keep(const char *keep, char (*names)[256], size_t *n)
{
    *n = 0;
    for (const char *p = keep; p && *p;) {
        if (*n == 256) return cli_usage_error("predict", "--keep takes at most 256 columns");
        p = next_name(p, names[*n], 256);
        if (!names[*n][0]) return cli_usage_error("predict", "--keep has an empty column name");
        (*n)++;
    }
    return CLI_OK;
}

int cmd_predict(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    apply_args a = {0};
    int rc = parse_apply("predict", argc, argv, &o, &a);
    if (rc < 0) return CLI_OK;
    static char keep_names[256][256];
    size_t n_keep = 0;
    if (rc == CLI_OK) rc = split_keep(a.keep, keep_names, &n_keep);
    char *path = NULL;
    int artifact = 0;
    if (rc == CLI_OK) rc = resolve("predict", &a, &path, &artifact);
    if (rc != CLI_OK) return rc;
    if (artifact) {
        rc = predict_artifact(path, &a, &o, keep_names, n_keep);
        kn_free(path);
        return rc;
    }
    kn_model *m = NULL;
    kn_frame *f = NULL, *res = NULL;
    rejected_rows rej = {0};
    double *pred = NULL;
    size_t n = 0;
    kn_predict_opts po;
    kn_status e = kn_model_load(path, &m);
    kn_free(path);
    if (e == KN_OK && a.proba && kn_model_task(m) != KN_TASK_CLASSIFICATION)
        e = kn_fail(KN_ERR_INVALID,
                    "--proba: %s is a regression model (it predicts values, not classes), "
                    "so it has no class probabilities; drop --proba",
                    a.model);
    if (e == KN_OK) e = parse_rounds(m, a.rounds, &po);
    if (e == KN_OK) e = read_for_model(m, a.data, &o, 0, keep_names, n_keep, &f, &rej);
    kn_stage_begin("predict");
    if (e == KN_OK) e = kn_model_predict_with(m, f, &po, &pred, &n);
    kn_stage_end();
    if (e == KN_OK) e = keep_columns(f, keep_names, n_keep, &res);
    if (e == KN_OK && kn_frame_n_rows(res) != n) e = kn_frame_resize(res, n);
    if (e == KN_OK) e = add_predictions(m, pred, res);
    if (e == KN_OK && a.proba) e = add_proba(m, &po, f, res);
    if (e == KN_OK && rej.n) e = add_row_numbers(res, &rej);
    int to_stdout = !strcmp(a.out, "-");
    if (e == KN_OK) e = kn_frame_write(res, a.out, to_stdout ? "csv" : NULL);
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "command", "predict",
                                     "input", a.data, "model_file", a.model, "output", a.out,
                                     "rows", (json_int_t)n, "rows_set_aside", (json_int_t)rej.n,
                                     "stages", cli_stages_json()));
    else if (!cli.quiet) {
        fprintf(stderr, "wrote %zu predictions to %s\n", n, to_stdout ? "standard output" : a.out);
        if (rej.n)
            fprintf(stderr,
                    "%zu input row(s) set aside by the reader have no prediction; the "
                    "'row' column gives each prediction's data row\n",
                    rej.n);
    }
    kn_free(rej.v);
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

/* The ROC, precision-recall and calibration curves of class `pos` against
 * the rest, as {"roc": .., "precision_recall": .., "calibration": ..}; NULL
 * with the error when a curve is undefined (the class is absent). */
static json_t *curves_of(const double *y, const double *proba, const double *w, size_t n, size_t k,
                         size_t pos, kn_status *err)
{
    int32_t *yi = kn_malloc((n ? n : 1) * sizeof *yi);
    double *p1 = kn_malloc((n ? n : 1) * sizeof *p1);
    kn_curve roc = {0}, pr = {0}, cal = {0};
    kn_status e = yi && p1 ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        yi[i] = (size_t)y[i] == pos;
        p1[i] = proba[k * i + pos];
    }
    if (e == KN_OK) e = kn_metric_roc_curve(yi, p1, w, n, 1, &roc);
    if (e == KN_OK) e = kn_metric_pr_curve(yi, p1, w, n, &pr);
    if (e == KN_OK) e = kn_metric_calibration_curve(yi, p1, n, 10, 0, &cal);
    json_t *j = e == KN_OK ? json_pack("{s:o, s:o, s:o}", "roc", curve_json(&roc, "fpr", "tpr", 1),
                                       "precision_recall",
                                       curve_json(&pr, "recall", "precision", 1), "calibration",
                                       curve_json(&cal, "mean_predicted", "fraction_positive", 0))
                           : NULL;
    kn_curve_free(&roc), kn_curve_free(&pr), kn_curve_free(&cal);
    kn_free(yi), kn_free(p1);
    *err = e;
    return j;
}

/* ROC, precision-recall and calibration curves of a classifier on f, as
 * JSON into path: of the positive class for two classes, else of each
 * class against the rest ({"average": "one-vs-rest", "classes": [{"class":
 * label, "roc": .., ...}, ...]}). */
static kn_status write_curves(const kn_model *m, const kn_predict_opts *po, const kn_frame *f,
                              const char *weight, const char *positive, const char *path)
{
    if (kn_model_task(m) != KN_TASK_CLASSIFICATION)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "--curves: curves are for classifiers; %s is a regression model",
                       kn_model_name(m));
    double *y = NULL, *proba = NULL, *w = NULL;
    size_t n = 0, j, k = kn_model_n_classes(m), pos = 1;
    json_t *doc = NULL;
    kn_status e = k == 2 ? kn_model_positive_class(m, positive, &pos) : KN_OK;
    if (e == KN_OK) e = kn_model_targets(m, f, &y);
    if (e == KN_OK) e = kn_model_predict_proba_with(m, f, po, &proba, &n);
    if (e == KN_OK && weight && kn_frame_find(f, weight, &j) == KN_OK)
        w = kn_column_f64(kn_frame_col(f, j));
    if (e == KN_OK && k == 2) {
        json_t *c = curves_of(y, proba, w, n, k, pos, &e);
        if (c) {
            doc = json_pack("{s:s}", "positive_class", kn_model_class(m, pos));
            json_object_update(doc, c);
            json_decref(c);
        }
    } else if (e == KN_OK) {
        json_t *classes = json_array();
        for (size_t q = 0; e == KN_OK && q < k; q++) {
            json_t *c = curves_of(y, proba, w, n, k, q, &e);
            if (!c)
                e = kn_fail_prefix(e,
                                   "--curves: class '%s' against the rest: ", kn_model_class(m, q));
            else {
                json_t *one = json_pack("{s:s}", "class", kn_model_class(m, q));
                json_object_update(one, c);
                json_decref(c);
                json_array_append_new(classes, one);
            }
        }
        doc = json_pack("{s:s, s:o}", "average", "one-vs-rest", "classes", classes);
    }
    if (e == KN_OK && cli_write_json_file(doc, path) != 0)
        e = kn_fail(KN_ERR_IO, "--curves: cannot write %s", path);
    json_decref(doc);
    kn_free(y), kn_free(proba);
    return e;
}

/* Feature indices by decreasing mean importance; ties keep column order. */
static void importance_order(const double *mean, size_t p, size_t *order)
{
    for (size_t j = 0; j < p; j++) {
        size_t at = j;
        while (at > 0 && mean[order[at - 1]] < mean[j]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = j;
    }
}

/* Intervals by default (kn_bootstrap_default resamples), unless
 * --bootstrap N or --no-intervals says otherwise. */
void eval_score_opts(const apply_args *a, size_t rows, kn_score_opts *so)
{
    so->slice_by = a->slice_by;
    so->seed = (uint64_t)a->seed;
    if (a->no_intervals) return;
    so->bootstrap = a->bootstrap ? (size_t)a->bootstrap : kn_bootstrap_default(rows);
    if (!a->bootstrap && so->bootstrap < 1000) {
        kn_log(KN_LOG_INFO, "intervals from %zu resamples of the %zu rows (--bootstrap N for more)",
               so->bootstrap, rows);
    }
}

int cmd_eval(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    const char *model = NULL, *data = NULL, *weight = NULL, *curves = NULL;
    apply_args a = {0};
    int rc = parse_apply("eval", argc, argv, &o, &a);
    if (rc) return rc < 0 ? CLI_OK : rc;
    char *path = NULL;
    int artifact = 0;
    if ((rc = resolve("eval", &a, &path, &artifact)) != CLI_OK) return rc;
    if (artifact && a.labels) {
        kn_free(path);
        return cli_usage_error("eval",
                               "--labels is for .kmd clustering models (kiln cluster "
                               "--save); %s is a .kiln artifact scored against its target",
                               a.model);
    }
    if (artifact) {
        rc = eval_artifact(path, &a, &o);
        kn_free(path);
        return rc;
    }
    long repeats = (long)a.importance;
    curves = a.curves;
    kn_predict_opts po = {0};
    kn_score_opts so = {.weight = a.weight, .positive_class = a.positive_class, .predict = &po};
    model = a.model, data = a.data, weight = a.weight;
    kn_model *m = NULL;
    kn_frame *f = NULL;
    rejected_rows rej = {0};
    kn_scores sc = {0};
    kn_status e = kn_model_load(path, &m);
    kn_free(path);
    if (e == KN_OK && !strcmp(kn_model_kind(m), "cluster")) {
        rc = eval_clusters(m, &a, &o);
        kn_model_free(m);
        return rc;
    }
    if (e == KN_OK && a.labels)
        e = kn_fail(KN_ERR_INVALID,
                    "--labels is for clustering models (kmeans); %s is scored against its "
                    "target %s: drop --labels",
                    a.model, kn_model_target(m) ? kn_model_target(m) : "");
    if (e == KN_OK) e = parse_rounds(m, a.rounds, &po);
    if (e == KN_OK) e = read_for_model(m, data, &o, 1, NULL, 0, &f, &rej);
    if (e == KN_OK) e = cli_target_rows(&f, kn_model_target(m), a.drop_missing_target);
    if (e == KN_OK) eval_score_opts(&a, kn_frame_n_rows(f), &so);
    if (e == KN_OK) e = kn_model_score_with(m, f, &so, &sc);
    if (e == KN_OK && curves) e = write_curves(m, &po, f, weight, a.positive_class, curves);
    size_t p = m ? kn_model_n_features(m) : 0;
    double *imp = repeats ? kn_calloc(2 * (p ? p : 1), sizeof *imp) : NULL;
    size_t *order = repeats ? kn_calloc(p ? p : 1, sizeof *order) : NULL;
    if (repeats && !order) e = KN_ERR_NOMEM;
    if (e == KN_OK && repeats) {
        kn_stage_begin("importance");
        e = imp ? kn_permutation_importance_with(m, f, &po, (size_t)repeats, 0, imp, imp + p)
                : KN_ERR_NOMEM;
        kn_stage_end();
        if (e == KN_OK) importance_order(imp, p, order);
    }
    if (e != KN_OK) {
        cli_error("eval: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *s = cli_scores_json(&sc);
        json_object_set_new(s, "command", json_string("eval"));
        json_t *pc = cli_per_class_json(m, &sc);
        if (pc) json_object_set_new(s, "per_class", pc);
        json_object_set_new(s, "model", json_string(kn_model_name(m)));
        json_object_set_new(s, "input", json_string(data));
        json_object_set_new(s, "model_file", json_string(model));
        if (weight) json_object_set_new(s, "weight", json_string(weight));
        if (repeats) {
            json_t *pi = json_object(); /* most important first */
            for (size_t r = 0; r < p; r++)
                json_object_set_new(
                    pi, kn_model_feature(m, order[r]),
                    json_pack("{s:f, s:f}", "mean", imp[order[r]], "std", imp[p + order[r]]));
            json_object_set_new(s, "permutation_importance", pi);
        }
        json_object_set_new(s, "stages", cli_stages_json());
        rc = cli_emit_json(s);
    } else {
        cli_print_scores_sliced(kn_model_name(m), &sc, a.slice_by);
        cli_print_per_class(m, &sc);
        if (repeats) {
            printf("permutation importance (%s fall, %ld shuffles):\n",
                   kn_model_task(m) == KN_TASK_CLASSIFICATION ? "accuracy" : "R^2", repeats);
            for (size_t r = 0; r < p; r++)
                printf("  %-32s %10.6f +- %.6f\n", kn_model_feature(m, order[r]), imp[order[r]],
                       imp[p + order[r]]);
        }
    }
    kn_scores_free(&sc);
    kn_free(imp);
    kn_free(order);
    kn_free(rej.v);
    kn_frame_free(f);
    kn_model_free(m);
    return rc;
}
