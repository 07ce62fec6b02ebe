/* Kiln metrics: the scores every model, cross-validation and the tuner
 * report, defined as scikit-learn defines them (same formulas, same edge
 * cases), all with optional sample weights (NULL = every weight 1).
 *
 * Classification takes class indices 0..k-1 (y_true, y_pred) and, for the
 * ranking and probability metrics, scores: one per row for binary problems
 * (the probability or score of class 1), or an n x k row-major matrix of
 * class probabilities.
 *
 *     double f1;
 *     kn_metric_f1(y, pred, NULL, n, 2, KN_AVG_BINARY, &f1);
 *
 * Division by zero (no predicted positives for precision, no true positives
 * for recall, ...) gives 0, as scikit-learn's zero_division default does.
 * Metrics undefined for the data (ROC-AUC with one class present, R^2 of a
 * constant target for deviance-based scores) return KN_ERR_INVALID with the
 * reason, except where scikit-learn defines a value (R^2 of a perfect
 * constant prediction is 1, else 0).
 *
 * Metrics are also registry components (kind KN_COMP_METRIC, vtable
 * kn_metric_vt): a name, a direction, the input it takes, and one uniform
 * function over kn_metric_data. Scoring (kiln/evaluate.h) computes metrics
 * by name through the registry, so one registered from outside the library
 * with kn_registry_add is used like the builtins:
 *
 *     static kn_status half(const kn_metric_data *d, double *out) { ... }
 *     static const kn_metric_vt half_vt = {.input = KN_METRIC_REGRESSION,
 *                                          .higher_is_better = 0, .compute = half};
 *     static const kn_component half_c = {KN_COMP_METRIC, "half_mae", "...", NULL, 0,
 *                                         &half_vt};
 *     kn_registry_add(&half_c);
 *     kn_metric_compute("half_mae", &data, &v);
 *
 * Builtin names (sklearn's scorer names where they exist): accuracy,
 * balanced_accuracy, precision, recall, f1 (binary: the positive class),
 * precision_macro, recall_macro, f1_macro, precision_micro, recall_micro,
 * f1_micro, precision_weighted, recall_weighted, f1_weighted, mcc,
 * cohen_kappa; roc_auc (binary, or macro one-vs-rest), roc_auc_ovr_weighted,
 * average_precision, log_loss, brier; mse, rmse, mae, mape, median_ae, r2,
 * explained_variance, poisson_deviance, gamma_deviance; silhouette (of
 * clusters: the feature rows and the labels).
 */
#ifndef KILN_METRICS_H
#define KILN_METRICS_H

#include "kiln/core.h"
#include "kiln/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_AVG_BINARY = 0,   /* the positive class (1) only */
    KN_AVG_MACRO = 1,    /* unweighted mean over classes */
    KN_AVG_MICRO = 2,    /* global counts */
    KN_AVG_WEIGHTED = 3, /* mean weighted by each class's (weighted) support */
} kn_average;

/* ---- classification: labels ---- */
KN_API kn_status kn_metric_accuracy(const int32_t *y, const int32_t *pred, const double *w,
                                    size_t n, double *out);
KN_API kn_status kn_metric_balanced_accuracy(const int32_t *y, const int32_t *pred, const double *w,
                                             size_t n, size_t k, double *out);
KN_API kn_status kn_metric_precision(const int32_t *y, const int32_t *pred, const double *w,
                                     size_t n, size_t k, kn_average avg, double *out);
KN_API kn_status kn_metric_recall(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                                  size_t k, kn_average avg, double *out);
KN_API kn_status kn_metric_f1(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                              size_t k, kn_average avg, double *out);
/* Matthews correlation coefficient (multiclass form). */
KN_API kn_status kn_metric_mcc(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                               size_t k, double *out);
KN_API kn_status kn_metric_cohen_kappa(const int32_t *y, const int32_t *pred, const double *w,
                                       size_t n, size_t k, double *out);
/* k x k, row = true class, column = predicted class (weighted counts). */
KN_API kn_status kn_metric_confusion(const int32_t *y, const int32_t *pred, const double *w,
                                     size_t n, size_t k, double *matrix);

/* ---- classification: scores and probabilities ---- */
/* Binary ROC-AUC of scores for class 1 (ties count half, as the trapezoid does). */
KN_API kn_status kn_metric_roc_auc(const int32_t *y, const double *score, const double *w, size_t n,
                                   double *out);
/* One-vs-rest ROC-AUC of an n x k probability matrix, macro or weighted by support. */
KN_API kn_status kn_metric_roc_auc_ovr(const int32_t *y, const double *proba, const double *w,
                                       size_t n, size_t k, kn_average avg, double *out);
/* Average precision (area under the precision-recall steps) of scores for class 1. */
KN_API kn_status kn_metric_average_precision(const int32_t *y, const double *score, const double *w,
                                             size_t n, double *out);
/* Log loss of an n x k probability matrix (rows renormalised, clipped to
 * [eps, 1 - eps] with eps = 2.220446049250313e-16 as sklearn 1.2 does). */
KN_API kn_status kn_metric_log_loss(const int32_t *y, const double *proba, const double *w,
                                    size_t n, size_t k, double *out);
/* Brier score of probabilities for class 1 (binary). */
KN_API kn_status kn_metric_brier(const int32_t *y, const double *score, const double *w, size_t n,
                                 double *out);

/* ---- regression ---- */
KN_API kn_status kn_metric_mse(const double *y, const double *pred, const double *w, size_t n,
                               double *out);
KN_API kn_status kn_metric_rmse(const double *y, const double *pred, const double *w, size_t n,
                                double *out);
KN_API kn_status kn_metric_mae(const double *y, const double *pred, const double *w, size_t n,
                               double *out);
/* Mean absolute percentage error, |y| floored at machine epsilon (sklearn). */
KN_API kn_status kn_metric_mape(const double *y, const double *pred, const double *w, size_t n,
                                double *out);
/* Median absolute error (weighted: the weighted median, as sklearn >= 1.1). */
KN_API kn_status kn_metric_median_ae(const double *y, const double *pred, const double *w, size_t n,
                                     double *out);
KN_API kn_status kn_metric_r2(const double *y, const double *pred, const double *w, size_t n,
                              double *out);
KN_API kn_status kn_metric_explained_variance(const double *y, const double *pred, const double *w,
                                              size_t n, double *out);
/* Mean Tweedie deviance with power p (0 normal, 1 Poisson, 2 Gamma, else Tweedie);
 * y and pred must lie in the power's domain (errors name the first bad row). */
KN_API kn_status kn_metric_tweedie_deviance(const double *y, const double *pred, const double *w,
                                            size_t n, double power, double *out);

/* ---- clusters ---- */
/* scikit-learn's silhouette_score (Euclidean) of the cluster labels
 * (0..k-1) of n rows of p features, x column-major (feature j of row i at
 * x[j * n + i]): needs from 2 to n - 1 clusters in use. Exact, so its cost
 * grows with n squared. */
KN_API kn_status kn_metric_silhouette(const double *x, size_t n, size_t p, const int32_t *label,
                                      size_t k, double *out);
/* Agreement of a clustering pred (labels 0..kb-1) with true groups truth
 * (0..ka-1) over n rows: scikit-learn's adjusted_rand_score (1 for the
 * same partition, about 0 for a random one, negative below chance) and
 * normalized_mutual_info_score (arithmetic mean of the two entropies; 1
 * when neither labelling splits the rows). The label numbers themselves do
 * not matter, only which rows share one. */
KN_API kn_status kn_metric_adjusted_rand(const int32_t *truth, size_t ka, const int32_t *pred,
                                         size_t kb, size_t n, double *out);
KN_API kn_status kn_metric_nmi(const int32_t *truth, size_t ka, const int32_t *pred, size_t kb,
                               size_t n, double *out);

/* ---- curves (binary: y in {0, 1}, score of class 1) ---- */
typedef struct kn_curve {
    size_t n;          /* points */
    double *x, *y;     /* ROC: fpr, tpr; PR: recall, precision; calibration: mean
                          predicted probability, observed share of class 1 */
    double *threshold; /* score at each point (NULL for calibration) */
} kn_curve;
KN_API void kn_curve_free(kn_curve *c);
/* sklearn's roc_curve: starts at (0, 0) with threshold max + 1; with
 * drop_intermediate, points on a straight segment are left out. */
KN_API kn_status kn_metric_roc_curve(const int32_t *y, const double *score, const double *w,
                                     size_t n, int drop_intermediate, kn_curve *out);
/* sklearn's precision_recall_curve: thresholds ascending, ending at
 * (recall 0, precision 1) whose threshold is NaN. */
KN_API kn_status kn_metric_pr_curve(const int32_t *y, const double *score, const double *w,
                                    size_t n, kn_curve *out);
/* sklearn's calibration_curve: bins of equal width on [0, 1] or (quantile)
 * equal counts; one point per non-empty bin. */
KN_API kn_status kn_metric_calibration_curve(const int32_t *y, const double *prob, size_t n,
                                             size_t bins, int quantile, kn_curve *out);

/* ---- metrics as components ---- */
typedef enum {
    KN_METRIC_LABELS = 0,     /* classification: true and predicted class indices */
    KN_METRIC_SCORES = 1,     /* classification: class probabilities (and labels) */
    KN_METRIC_REGRESSION = 2, /* regression: true and predicted values */
    KN_METRIC_CLUSTERS = 3,   /* clustering: the feature rows (x, p) and the labels (pred_class) */
} kn_metric_input;

/* What a metric is computed on (fields that its input does not use may be
 * NULL). Borrowed by the metric for the call. */
typedef struct kn_metric_data {
    size_t n;
    const double *w; /* sample weights; NULL: every weight 1 */
    /* regression */
    const double *y, *pred;
    /* classification: class indices 0..k-1; k counts the model's classes
     * and then any class the data holds that the model never saw */
    const int32_t *y_class, *pred_class;
    size_t k;
    /* n x k_model class probabilities (row-major), NULL when the model has
     * none (or the data holds classes it never saw) */
    const double *proba;
    size_t k_model;
    /* binary (k_model 2): the positive class's index; else -1 */
    int positive;
    /* clustering (KN_METRIC_CLUSTERS): n x p features, column-major; the
     * clusters in pred_class (0..k-1) */
    const double *x;
    size_t p;
} kn_metric_data;

typedef struct kn_metric_vt {
    kn_metric_input input;
    int higher_is_better;
    /* The metric of d into *out; errors say why it is undefined. */
    kn_status (*compute)(const kn_metric_data *d, double *out);
} kn_metric_vt;

/* The registered metric named `name` (builtins are registered by
 * kn_learn_register, which this calls), or NULL with kn_last_error()
 * listing the known ones. Borrowed: valid for the process. */
KN_API const kn_component *kn_metric_find(const char *name);
/* Computes the registered metric `name` on d. A metric whose input the
 * data lacks (no probabilities, a regression metric for classes) fails
 * naming the metric. */
KN_API kn_status kn_metric_compute(const char *name, const kn_metric_data *d, double *out);

#ifdef __cplusplus
}
#endif
#endif
