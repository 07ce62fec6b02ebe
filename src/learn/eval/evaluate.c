/* A model's target on a frame and its task's standard scores (see
 * kiln/evaluate.h). */
#include "kiln/evaluate.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "learn/eval/score-impl.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

kn_status kn_model_targets(const kn_model *m, const kn_frame *f, double **out)
{
    return kn__model_targets_unseen(m, f, 0, out, NULL);
}

kn_status kn__model_targets_unseen(const kn_model *m, const kn_frame *f, int unseen, double **out,
                                   size_t *n_unseen)
{
    char **extra = NULL; /* names of the unseen classes, in order of appearance */
    size_t n_extra = 0;
    size_t n = kn_frame_n_rows(f), j;
    const char *target = kn_model_target(m);
    if (kn_frame_find(f, target, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND,
                       "the data has no target column '%s'; scoring compares the model's "
                       "predictions with each row's true '%s', so give labelled rows (rows "
                       "without it are for kiln predict)",
                       target, target);
    kn_column *c = kn_frame_col(f, j);
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    if (!classify && kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE, "target '%s' is not numeric", target);
    double *y = kn_malloc((n ? n : 1) * sizeof *y);
    if (!y) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        if (kn_column_is_missing(c, i)) {
            e = kn_fail(KN_ERR_INVALID, "target '%s', row %zu is missing; %s", target, i + 1,
                        KN__MISSING_TARGET_FIX);
            break;
        }
        if (!classify) {
            y[i] = kn_column_f64(c)[i];
            continue;
        }
        char buf[40] = "";
        const char *t = buf;
        if (kn_column_type(c) == KN_COL_NUMERIC)
            snprintf(buf, sizeof buf, "%.17g", kn_column_f64(c)[i]);
        else
            t = kn_column_level(c, kn_column_codes(c)[i], NULL);
        size_t q = 0, k = kn_model_n_classes(m);
        while (q < k && strcmp(kn_model_class(m, q), t)) q++;
        if (q == k && unseen) {
            size_t u = 0;
            while (u < n_extra && strcmp(extra[u], t)) u++;
            if (u == n_extra) {
                char **grown = kn_realloc(extra, (n_extra + 1) * sizeof *extra);
                char *name = grown ? kn_strdup(t) : NULL;
                if (grown) extra = grown;
                if (!name) {
                    e = KN_ERR_NOMEM;
                    break;
                }
                extra[n_extra++] = name;
            }
            q = k + u;
        } else if (q == k)
            e = kn_fail(KN_ERR_INVALID, "row %zu has class '%s', which the model never saw", i + 1,
                        t);
        y[i] = (double)q;
    }
    if (e == KN_OK && n_extra && unseen == 1)
        kn_log(KN_LOG_WARN,
               "%zu class%s of '%s' the model never saw (first: '%s'): %s rows count as wrong; "
               "log loss and ROC-AUC, undefined for them, are left out",
               n_extra, n_extra > 1 ? "es" : "", target, extra[0], n_extra > 1 ? "their" : "its");
    for (size_t u = 0; u < n_extra; u++) kn_free(extra[u]);
    kn_free(extra);
    if (e != KN_OK) {
        kn_free(y);
        return e;
    }
    if (n_unseen) *n_unseen = n_extra;
    *out = y;
    return KN_OK;
}

static kn_status weights_of(const kn_frame *f, const char *weight, double **out)
{
    size_t j, n = kn_frame_n_rows(f);
    *out = NULL;
    if (!weight) return KN_OK;
    if (kn_frame_find(f, weight, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "the data has no weight column '%s'", weight);
    kn_column *c = kn_frame_col(f, j);
    if (kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE, "weight column '%s' is not numeric", weight);
    const double *v = kn_column_f64(c);
    for (size_t i = 0; i < n; i++)
        if (!(v[i] >= 0) || isinf(v[i]))
            return kn_fail(KN_ERR_INVALID,
                           "weight '%s', row %zu is %g; weights must be finite and >= 0", weight,
                           i + 1, v[i]);
    *out = kn_malloc((n ? n : 1) * sizeof **out);
    if (!*out) return KN_ERR_NOMEM;
    memcpy(*out, v, n * sizeof **out);
    return KN_OK;
}

kn_status kn_scores_add(kn_scores *s, const char *name, double value, int higher_is_better)
{
    size_t n = s->n + 1;
    const char **nm = kn_realloc((void *)s->name, n * sizeof *nm);
    if (nm) s->name = nm;
    double *v = nm ? kn_realloc(s->value, n * sizeof *v) : NULL;
    if (v) s->value = v;
    int *h = v ? kn_realloc(s->higher_is_better, n * sizeof *h) : NULL;
    if (!h) return KN_ERR_NOMEM;
    s->higher_is_better = h;
    s->name[s->n] = name;
    s->value[s->n] = value;
    s->higher_is_better[s->n++] = higher_is_better;
    return KN_OK;
}

void kn_scores_free(kn_scores *s)
{
    if (!s) return;
    kn_free((void *)s->name);
    kn_free(s->value);
    kn_free(s->higher_is_better);
    kn_free(s->lo);
    kn_free(s->hi);
    for (size_t i = 0; i < s->n_slices; i++) {
        kn_free(s->slices[i].value);
        kn_scores_free(&s->slices[i].scores);
    }
    kn_free(s->slices);
    kn_free(s->class_precision); /* one block for the four per-class arrays */
    memset(s, 0, sizeof *s);
    s->positive = -1;
    s->worst = -1;
}

/* "'a', 'b' and 'c'" (at most 20 labels, then "..."): a model's classes for
 * a message. A new string; kn_free. */
static char *class_list(const kn_model *m)
{
    size_t k = kn_model_n_classes(m), len = 16;
    for (size_t q = 0; q < k && q < 20; q++) len += strlen(kn_model_class(m, q)) + 8;
    char *s = kn_malloc(len);
    if (!s) return NULL;
    size_t at = 0;
    for (size_t q = 0; q < k && q < 20; q++)
        at += (size_t)snprintf(s + at, len - at, "%s'%s'",
                               q == 0       ? ""
                               : q + 1 == k ? " and "
                                            : ", ",
                               kn_model_class(m, q));
    if (k > 20) snprintf(s + at, len - at, ", ...");
    return s;
}

kn_status kn_model_positive_class(const kn_model *m, const char *label, size_t *index)
{
    size_t k = kn_model_n_classes(m);
    if (kn_model_task(m) != KN_TASK_CLASSIFICATION)
        return kn_fail(KN_ERR_INVALID,
                       "a positive class is for binary classifiers; %s is a regression model",
                       kn_model_name(m));
    /* a model that decides for its own positive class (tuned_threshold's
     * positive_class=) is scored for that class; another one asked for is an
     * error, never scores of a class the model was not tuned for */
    const kn_model_vt *vt = kn__model_vt(m);
    const char *own = k == 2 && vt->own_positive ? vt->own_positive(m) : NULL;
    if (own) {
        size_t o = 1;
        if (*own)
            for (o = 0; o < 2 && strcmp(kn_model_class(m, o), own); o++) continue;
        if (o < 2 && label && strcmp(label, kn_model_class(m, o)))
            return kn_fail(
                KN_ERR_INVALID,
                "positive class '%s' contradicts model '%s', which tunes its decisions "
                "for '%s' (its parameter positive_class%s): set positive_class=%s on the "
                "model "
                "(scoring then follows it) or leave the positive class out",
                label, kn_model_name(m), kn_model_class(m, o),
                *own ? "" : " unset: the second of the sorted labels", label);
        if (o < 2 && !label) label = kn_model_class(m, o);
    }
    if (k == 2 && !label) {
        *index = 1;
        return KN_OK;
    }
    char *list = class_list(m);
    if (!list) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    size_t q = 0;
    while (q < k && strcmp(kn_model_class(m, q), label ? label : "")) q++;
    if (k != 2)
        e = kn_fail(KN_ERR_INVALID,
                    "positive class '%s': target '%s' has %zu classes (%s); a positive class is "
                    "for two classes (several classes are scored one-vs-rest, each in turn)",
                    label ? label : "", kn_model_target(m), k, list);
    else if (q == k)
        e = kn_fail(KN_ERR_INVALID,
                    "positive class '%s' is not a class of target '%s'; its classes are %s", label,
                    kn_model_target(m), list);
    kn_free(list);
    if (e == KN_OK) *index = q;
    return e;
}

/* The default sets, in output order. Scores of probabilities are left out
 * when undefined for the data (one class present, no probabilities); the
 * other scores' errors fail the scoring. */
typedef struct default_metric {
    const char *name;
    int binary_only;
} default_metric;

static const default_metric regression_set[] = {
    {"rmse", 0}, {"mae", 0}, {"r2", 0}, {"explained_variance", 0}, {"median_ae", 0}};
static const default_metric classification_set[] = {
    {"accuracy", 0}, {"balanced_accuracy", 0}, {"f1_macro", 0}, {"precision", 1}, {"recall", 1},
    {"f1", 1},       {"log_loss", 0},          {"roc_auc", 0}};

/* One metric by name into s; with optional, an undefined score of
 * probabilities is left out instead of failing. */
static kn_status score_one(const char *name, const kn_metric_data *d, int optional, kn_scores *s)
{
    const kn_component *c = kn_metric_find(name);
    if (!c) return kn_last_status();
    const kn_metric_vt *vt = c->vt;
    double v;
    kn_status e = kn_metric_compute(c->name, d, &v);
    if (e != KN_OK) return optional && vt->input == KN_METRIC_SCORES ? KN_OK : e;
    if (!strcmp(c->name, "roc_auc")) s->roc_auc_average = d->positive >= 0 ? "binary" : "macro-ovr";
    return kn_scores_add(s, c->name, v, vt->higher_is_better);
}

/* The metrics of o (or the task's default set) on d. */
static kn_status score_set(const kn_score_opts *o, int classify, const kn_metric_data *d,
                           kn_scores *s)
{
    kn_status e = KN_OK;
    if (o->metrics) {
        for (size_t i = 0; e == KN_OK && i < o->n_metrics; i++)
            e = score_one(o->metrics[i], d, 0, s);
        return e;
    }
    const default_metric *set = classify ? classification_set : regression_set;
    size_t n = classify ? sizeof classification_set / sizeof *classification_set
                        : sizeof regression_set / sizeof *regression_set;
    for (size_t i = 0; e == KN_OK && i < n; i++)
        if (!set[i].binary_only || d->positive >= 0) e = score_one(set[i].name, d, 1, s);
    return e;
}

/* Does o name a metric of probabilities (or is it the default set)? */
static int wants_proba(const kn_score_opts *o)
{
    if (!o->metrics) return 1;
    for (size_t i = 0; i < o->n_metrics; i++) {
        const kn_component *c = kn_metric_find(o->metrics[i]);
        if (c && ((const kn_metric_vt *)c->vt)->input == KN_METRIC_SCORES) return 1;
    }
    return 0;
}

/* The per-class table of s (kn_scores.class_*) from the confusion matrix
 * over k classes (the model's k_model first). */
static kn_status per_class(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                           size_t k, size_t k_model, kn_scores *s)
{
    double *cm = kn_malloc((k ? k * k : 1) * sizeof *cm);
    double *t = kn_malloc((k_model ? 4 * k_model : 1) * sizeof *t);
    kn_status e = cm && t ? kn_metric_confusion(y, pred, w, n, k, cm) : KN_ERR_NOMEM;
    for (size_t c = 0; e == KN_OK && c < k_model; c++) {
        double tp = cm[c * k + c], actual = 0, predicted = 0;
        for (size_t j = 0; j < k; j++) {
            actual += cm[c * k + j];
            predicted += cm[j * k + c];
        }
        double prec = predicted > 0 ? tp / predicted : 0, rec = actual > 0 ? tp / actual : 0;
        t[c] = prec;
        t[k_model + c] = rec;
        t[2 * k_model + c] = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        t[3 * k_model + c] = actual;
    }
    kn_free(cm);
    if (e != KN_OK) {
        kn_free(t);
        return e;
    }
    s->n_classes = k_model;
    s->class_precision = t;
    s->class_recall = t + k_model;
    s->class_f1 = t + 2 * k_model;
    s->class_support = t + 3 * k_model;
    return KN_OK;
}

/* proba: the rows' probabilities, or NULL (the model gives none, or o's
 * scores need none). */
static kn_status score_classifier(const kn_model *m, const double *y, const double *pred,
                                  const double *proba, const double *w, size_t n, size_t n_unseen,
                                  const kn_score_opts *o, const kn__slices *sl, kn_scores *s)
{
    /* classes the model never saw count as classes of their own, which it
     * never predicts: their rows are wrong, their recall and F1 zero (as
     * scikit-learn's metrics over the union of labels) */
    size_t k = kn_model_n_classes(m), pos = 1;
    int32_t *yi = kn_malloc((n ? n : 1) * sizeof *yi), *pi = kn_malloc((n ? n : 1) * sizeof *pi);
    kn_status e = yi && pi ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && (k == 2 || o->positive_class))
        e = kn_model_positive_class(m, o->positive_class, &pos);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        yi[i] = (int32_t)y[i];
        pi[i] = (int32_t)pred[i];
    }
    /* probabilities: models without them skip these scores; classes the
     * model never saw leave them undefined */
    int has_proba = e == KN_OK && !n_unseen && proba;
    if (e == KN_OK && k == 2) {
        s->positive = (int)pos;
        s->positive_class = kn_model_class(m, pos);
    }
    kn_metric_data d = {.n = n,
                        .w = w,
                        .y_class = yi,
                        .pred_class = pi,
                        .k = k + n_unseen,
                        .proba = has_proba ? proba : NULL,
                        .k_model = k,
                        .positive = k == 2 ? (int)pos : -1};
    if (e == KN_OK) e = score_set(o, 1, &d, s);
    if (e == KN_OK) e = kn__score_extras(o, &d, sl, s);
    if (e == KN_OK) e = per_class(yi, pi, w, n, k + n_unseen, k, s);
    kn_free(yi);
    kn_free(pi);
    return e;
}

kn_status kn_model_score(const kn_model *m, const kn_frame *f, const char *weight, kn_scores *out)
{
    kn_score_opts o = {.weight = weight};
    return kn_model_score_with(m, f, &o, out);
}

kn_status kn_model_score_with(const kn_model *m, const kn_frame *f, const kn_score_opts *o,
                              kn_scores *out)
{
    kn__slices sl = {0};
    memset(out, 0, sizeof *out);
    out->positive = out->worst = -1;
    kn_status e = o->slice_by ? kn__slices_of(f, o->slice_by, &sl) : KN_OK;
    if (e == KN_OK) e = kn__model_score_sliced(m, f, o, o->slice_by ? &sl : NULL, out);
    kn__slices_free(&sl);
    return e;
}

/* The model's predictions of f's rows and, for a classifier whose scores
 * in o need them, its probabilities (*proba NULL when it gives none): from
 * given (its outputs on f's rows: probabilities, or a regressor's
 * predictions) when not NULL, else predicted. A classifier whose
 * prediction is the first largest probability (KN_MODEL_PREDICT_ARGMAX)
 * predicts once: the argmax of the probabilities is its prediction. */
static kn_status model_outputs(const kn_model *m, const kn_frame *f, const kn_score_opts *o,
                               const double *given, double **pred, double **proba, size_t *n)
{
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION, want = classify && wants_proba(o);
    size_t k = kn_model_n_classes(m), rows = kn_frame_n_rows(f), np = 0;
    *pred = *proba = NULL;
    if (given || (want && (kn__model_vt(m)->flags & KN_MODEL_PREDICT_ARGMAX))) {
        double *v = NULL;
        kn_status e = KN_OK;
        if (given) {
            size_t cells = rows * (classify ? k : 1);
            if (!(v = kn_malloc((cells ? cells : 1) * sizeof *v))) return KN_ERR_NOMEM;
            memcpy(v, given, cells * sizeof *v);
        } else
            e = kn_model_predict_proba_with(m, f, o->predict, &v, &rows);
        if (e != KN_OK) return e;
        *n = rows;
        if (!classify) {
            *pred = v;
            return KN_OK;
        }
        if (!(*pred = kn_malloc((rows ? rows : 1) * sizeof **pred))) {
            kn_free(v);
            return KN_ERR_NOMEM;
        }
        kn__argmax_rows(v, rows, k, *pred);
        if (want)
            *proba = v;
        else
            kn_free(v);
        return KN_OK;
    }
    kn_status e = kn_model_predict_with(m, f, o->predict, pred, n);
    if (e == KN_OK && want && kn_model_predict_proba_with(m, f, o->predict, proba, &np) != KN_OK)
        *proba = NULL;
    return e;
}

kn_status kn__model_score_sliced(const kn_model *m, const kn_frame *f, const kn_score_opts *o,
                                 const kn__slices *sl, kn_scores *out)
{
    return kn__model_score_outputs(m, f, o, sl, NULL, out);
}

kn_status kn__model_score_outputs(const kn_model *m, const kn_frame *f, const kn_score_opts *o,
                                  const kn__slices *sl, const double *given, kn_scores *out)
{
    memset(out, 0, sizeof *out);
    out->positive = out->worst = -1;
    double *pred = NULL, *proba = NULL, *y = NULL, *w = NULL;
    size_t n = 0;
    kn_status e = KN_OK;
    if (o->positive_class) { /* refused before any work */
        size_t pos;
        e = kn_model_positive_class(m, o->positive_class, &pos);
    }
    for (size_t i = 0; e == KN_OK && o->metrics && i < o->n_metrics; i++) /* names, too */
        if (!kn_metric_find(o->metrics[i])) e = kn_last_status();
    if (e == KN_OK) e = model_outputs(m, f, o, given, &pred, &proba, &n);
    size_t n_unseen = 0;
    if (e == KN_OK) e = kn__model_targets_unseen(m, f, 1, &y, &n_unseen);
    if (e == KN_OK) e = weights_of(f, o->weight, &w);
    out->rows = n;
    if (e == KN_OK && kn_model_task(m) == KN_TASK_REGRESSION) {
        kn_metric_data d = {.n = n, .w = w, .y = y, .pred = pred, .positive = -1};
        e = score_set(o, 0, &d, out);
        if (e == KN_OK) e = kn__score_extras(o, &d, sl, out);
    } else if (e == KN_OK)
        e = score_classifier(m, y, pred, proba, w, n, n_unseen, o, sl, out);
    kn_free(pred);
    kn_free(proba);
    kn_free(y);
    kn_free(w);
    if (e != KN_OK) kn_scores_free(out);
    return e;
}

int kn_scores_find(const kn_scores *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->name[i], name)) return (int)i;
    return -1;
}
