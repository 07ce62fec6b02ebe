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
 */
#ifndef KILN_METRICS_H
#define KILN_METRICS_H

#include "kiln/core.h"

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

#ifdef __cplusplus
}
#endif
#endif
