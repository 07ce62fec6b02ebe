/* The builtin metrics as registry components (kiln/metrics.h): each one a
 * uniform function over kn_metric_data around the metric functions of
 * metrics.c and metrics_rank.c, with its name, direction and input. */
#include "kiln/init.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "learn/learn-impl.h"

#include <string.h>

/* ---- labels ---- */

static kn_status accuracy(const kn_metric_data *d, double *out)
{
    return kn_metric_accuracy(d->y_class, d->pred_class, d->w, d->n, out);
}

static kn_status balanced_accuracy(const kn_metric_data *d, double *out)
{
    return kn_metric_balanced_accuracy(d->y_class, d->pred_class, d->w, d->n, d->k, out);
}

static kn_status mcc(const kn_metric_data *d, double *out)
{
    return kn_metric_mcc(d->y_class, d->pred_class, d->w, d->n, d->k, out);
}

static kn_status cohen_kappa(const kn_metric_data *d, double *out)
{
    return kn_metric_cohen_kappa(d->y_class, d->pred_class, d->w, d->n, d->k, out);
}

typedef kn_status (*prf_fn)(const int32_t *, const int32_t *, const double *, size_t, size_t,
                            kn_average, double *);

/* Precision, recall or F1 of the positive class: labels made 0/1 (1: the
 * positive class), so the other classes, seen or not, count as negative. */
static kn_status prf_binary(const kn_metric_data *d, prf_fn fn, const char *name, double *out)
{
    if (d->positive < 0)
        return kn_fail(KN_ERR_INVALID,
                       "metric %s is for two classes (of the positive class); with %zu classes "
                       "use %s_macro, %s_micro or %s_weighted",
                       name, d->k, name, name, name);
    size_t n = d->n;
    int32_t *t = kn_malloc((n ? n : 1) * sizeof *t), *q = kn_malloc((n ? n : 1) * sizeof *q);
    kn_status e = t && q ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        t[i] = d->y_class[i] == d->positive;
        q[i] = d->pred_class[i] == d->positive;
    }
    if (e == KN_OK) e = fn(t, q, d->w, n, 2, KN_AVG_BINARY, out);
    kn_free(t);
    kn_free(q);
    return e;
}

#define PRF(name, fn)                                                                              \
    static kn_status name(const kn_metric_data *d, double *out)                                    \
    {                                                                                              \
        return prf_binary(d, fn, #name, out);                                                      \
    }                                                                                              \
    static kn_status name##_macro(const kn_metric_data *d, double *out)                            \
    {                                                                                              \
        return fn(d->y_class, d->pred_class, d->w, d->n, d->k, KN_AVG_MACRO, out);                 \
    }                                                                                              \
    static kn_status name##_micro(const kn_metric_data *d, double *out)                            \
    {                                                                                              \
        return fn(d->y_class, d->pred_class, d->w, d->n, d->k, KN_AVG_MICRO, out);                 \
    }                                                                                              \
    static kn_status name##_weighted(const kn_metric_data *d, double *out)                         \
    {                                                                                              \
        return fn(d->y_class, d->pred_class, d->w, d->n, d->k, KN_AVG_WEIGHTED, out);              \
    }
PRF(precision, kn_metric_precision)
PRF(recall, kn_metric_recall)
PRF(f1, kn_metric_f1)

/* ---- scores ---- */

/* The positive class's probabilities and 0/1 labels (binary metrics of
 * scores). */
static kn_status positive_scores(const kn_metric_data *d, const char *name, int32_t **t,
                                 double **p1)
{
    *t = NULL;
    *p1 = NULL;
    if (d->positive < 0 || d->k_model != 2)
        return kn_fail(KN_ERR_INVALID, "metric %s is for two classes", name);
    size_t n = d->n;
    *t = kn_malloc((n ? n : 1) * sizeof **t);
    *p1 = kn_malloc((n ? n : 1) * sizeof **p1);
    if (!*t || !*p1) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        (*t)[i] = d->y_class[i] == d->positive;
        (*p1)[i] = d->proba[2 * i + (size_t)d->positive];
    }
    return KN_OK;
}

/* A binary metric of the positive class's scores (fn: kn_metric_roc_auc,
 * kn_metric_average_precision, kn_metric_brier). */
static kn_status on_positive(const kn_metric_data *d, const char *name,
                             kn_status (*fn)(const int32_t *, const double *, const double *,
                                             size_t, double *),
                             double *out)
{
    int32_t *t;
    double *p1;
    kn_status e = positive_scores(d, name, &t, &p1);
    if (e == KN_OK) e = fn(t, p1, d->w, d->n, out);
    kn_free(t);
    kn_free(p1);
    return e;
}

static kn_status roc_auc(const kn_metric_data *d, double *out)
{
    if (d->positive < 0)
        return kn_metric_roc_auc_ovr(d->y_class, d->proba, d->w, d->n, d->k_model, KN_AVG_MACRO,
                                     out);
    return on_positive(d, "roc_auc", kn_metric_roc_auc, out);
}

static kn_status roc_auc_ovr_weighted(const kn_metric_data *d, double *out)
{
    return kn_metric_roc_auc_ovr(d->y_class, d->proba, d->w, d->n, d->k_model, KN_AVG_WEIGHTED,
                                 out);
}

static kn_status average_precision(const kn_metric_data *d, double *out)
{
    return on_positive(d, "average_precision", kn_metric_average_precision, out);
}

static kn_status brier(const kn_metric_data *d, double *out)
{
    return on_positive(d, "brier", kn_metric_brier, out);
}

static kn_status log_loss(const kn_metric_data *d, double *out)
{
    return kn_metric_log_loss(d->y_class, d->proba, d->w, d->n, d->k_model, out);
}

/* ---- regression ---- */

#define REGRESSION(name)                                                                           \
    static kn_status name(const kn_metric_data *d, double *out)                                    \
    {                                                                                              \
        return kn_metric_##name(d->y, d->pred, d->w, d->n, out);                                   \
    }
REGRESSION(mse)
REGRESSION(rmse)
REGRESSION(mae)
REGRESSION(mape)
REGRESSION(median_ae)
REGRESSION(r2)
REGRESSION(explained_variance)

static kn_status poisson_deviance(const kn_metric_data *d, double *out)
{
    return kn_metric_tweedie_deviance(d->y, d->pred, d->w, d->n, 1, out);
}

static kn_status gamma_deviance(const kn_metric_data *d, double *out)
{
    return kn_metric_tweedie_deviance(d->y, d->pred, d->w, d->n, 2, out);
}

/* ---- clusters ---- */

static kn_status silhouette(const kn_metric_data *d, double *out)
{
    if (d->w)
        return kn_fail(KN_ERR_INVALID, "metric silhouette takes no sample weights; leave them out");
    return kn_metric_silhouette(d->x, d->n, d->p, d->pred_class, d->k, out);
}

/* ---- the table ---- */

#define VT(fn, in, hi)                                                                             \
    static const kn_metric_vt fn##_vt = {.input = in, .higher_is_better = hi, .compute = fn};
#define L(fn) VT(fn, KN_METRIC_LABELS, 1)
#define PRF_VTS(fn) L(fn) L(fn##_macro) L(fn##_micro) L(fn##_weighted)
L(accuracy)
L(balanced_accuracy)
PRF_VTS(precision)
PRF_VTS(recall)
PRF_VTS(f1)
L(mcc)
L(cohen_kappa)
VT(roc_auc, KN_METRIC_SCORES, 1)
VT(roc_auc_ovr_weighted, KN_METRIC_SCORES, 1)
VT(average_precision, KN_METRIC_SCORES, 1)
VT(log_loss, KN_METRIC_SCORES, 0)
VT(brier, KN_METRIC_SCORES, 0)
VT(mse, KN_METRIC_REGRESSION, 0)
VT(rmse, KN_METRIC_REGRESSION, 0)
VT(mae, KN_METRIC_REGRESSION, 0)
VT(mape, KN_METRIC_REGRESSION, 0)
VT(median_ae, KN_METRIC_REGRESSION, 0)
VT(r2, KN_METRIC_REGRESSION, 1)
VT(explained_variance, KN_METRIC_REGRESSION, 1)
VT(poisson_deviance, KN_METRIC_REGRESSION, 0)
VT(gamma_deviance, KN_METRIC_REGRESSION, 0)
VT(silhouette, KN_METRIC_CLUSTERS, 1)

#define C(fn, doc)                                                                                 \
    {                                                                                              \
        KN_COMP_METRIC, #fn, doc, NULL, 0, &fn##_vt                                                \
    }
const kn_component kn__metrics[] = {
    C(accuracy, "share of rows predicted right"),
    C(balanced_accuracy, "mean recall over the classes"),
    C(precision, "binary: precision of the positive class"),
    C(precision_macro, "precision, unweighted mean over the classes"),
    C(precision_micro, "precision of the global counts"),
    C(precision_weighted, "precision, mean weighted by class support"),
    C(recall, "binary: recall of the positive class"),
    C(recall_macro, "recall, unweighted mean over the classes"),
    C(recall_micro, "recall of the global counts"),
    C(recall_weighted, "recall, mean weighted by class support"),
    C(f1, "binary: F1 of the positive class"),
    C(f1_macro, "F1, unweighted mean over the classes"),
    C(f1_micro, "F1 of the global counts"),
    C(f1_weighted, "F1, mean weighted by class support"),
    C(mcc, "Matthews correlation coefficient"),
    C(cohen_kappa, "Cohen's kappa"),
    C(roc_auc, "area under the ROC curve (binary, or macro one-vs-rest)"),
    C(roc_auc_ovr_weighted, "one-vs-rest ROC-AUC weighted by class support"),
    C(average_precision, "binary: area under the precision-recall steps"),
    C(log_loss, "mean negative log-likelihood of the true class"),
    C(brier, "binary: mean squared error of the positive class's probability"),
    C(mse, "mean squared error"),
    C(rmse, "root mean squared error"),
    C(mae, "mean absolute error"),
    C(mape, "mean absolute percentage error"),
    C(median_ae, "median absolute error"),
    C(r2, "coefficient of determination"),
    C(explained_variance, "explained variance score"),
    C(poisson_deviance, "mean Poisson deviance"),
    C(gamma_deviance, "mean Gamma deviance"),
    C(silhouette, "clusters: mean silhouette of the rows (Euclidean; exact, rows squared)"),
};
const size_t kn__n_metrics = sizeof kn__metrics / sizeof *kn__metrics;

const kn_component *kn_metric_find(const char *name)
{
    kn_learn_register();
    return kn_registry_find(KN_COMP_METRIC, name);
}

static const char *input_name(kn_metric_input in)
{
    return in == KN_METRIC_REGRESSION ? "regression values"
           : in == KN_METRIC_SCORES   ? "class probabilities"
           : in == KN_METRIC_CLUSTERS ? "feature rows and cluster labels (kiln cluster)"
                                      : "class labels";
}

kn_status kn_metric_compute(const char *name, const kn_metric_data *d, double *out)
{
    const kn_component *c = kn_metric_find(name);
    if (!c) return kn_last_status();
    const kn_metric_vt *vt = c->vt;
    if (!vt || !vt->compute)
        return kn_fail(KN_ERR_INVALID, "metric %s has no function to compute it", name);
    int have = vt->input == KN_METRIC_REGRESSION ? d->y && d->pred
               : vt->input == KN_METRIC_SCORES   ? d->y_class && d->proba
               : vt->input == KN_METRIC_CLUSTERS ? d->x && d->pred_class
                                                 : d->y_class && d->pred_class;
    int classes = d->y_class != NULL, numbers = d->y != NULL && !classes;
    if (!have && vt->input == KN_METRIC_REGRESSION && classes)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "metric %s is for regression, but the target holds classes; choose a "
                       "classification metric, e.g. accuracy, balanced_accuracy, f1_macro, "
                       "roc_auc or log_loss ('kiln help metrics' lists them)",
                       name);
    if (!have && (vt->input == KN_METRIC_LABELS || vt->input == KN_METRIC_SCORES) && numbers)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "metric %s is for classification, but the target is numeric "
                       "(regression); choose a regression metric, e.g. rmse, mae or r2 ('kiln "
                       "help metrics' lists them)",
                       name);
    if (!have && vt->input == KN_METRIC_SCORES && classes && d->pred_class)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "metric %s needs class probabilities, which this model does not give; "
                       "choose a metric of predicted labels (e.g. accuracy or f1_macro) or a "
                       "model with probabilities",
                       name);
    if (!have)
        return kn_fail(KN_ERR_UNSUPPORTED, "metric %s needs %s, which this scoring lacks", name,
                       input_name(vt->input));
    kn_status e = vt->compute(d, out);
    return e == KN_OK ? e : kn_fail_prefix(e, "metric %s: ", name);
}
