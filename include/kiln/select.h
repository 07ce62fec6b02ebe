/* Feature selection: score each candidate feature, keep the best. Every
 * selector is a step (kiln/step.h), so it is fitted inside cross-validation
 * folds, saved with a pipeline and applied at predict time; the kept
 * columns pass through, the others are removed.
 *
 *   select        filters, scored against the target one feature at a time
 *                 (method=): variance (VarianceThreshold), pearson and
 *                 spearman (|r| with the target; a binary class as 0/1),
 *                 f_test (ANOVA F: f_classif for a class target,
 *                 f_regression for a numeric one), chi2 (non-negative
 *                 features, class target), mutual_info (the k-nearest-
 *                 neighbour estimator of Kraskov et al. 2004 and Ross 2014,
 *                 as mutual_info_classif / mutual_info_regression), and two
 *                 searches over feature sets: redundancy (drop one of each
 *                 pair correlated above max_corr, keeping the one more
 *                 related to the target) and cfs (Hall's correlation-based
 *                 merit, greedy forward).
 *   select_model  driven by a model (model=, model_params=): rfe (recursive
 *                 elimination by |coefficient| or tree gain importance),
 *                 rfecv (the count chosen by inner cross-validation),
 *                 forward and backward sequential selection (inner CV
 *                 score of metric=), and embedded rankings: coef (L1 /
 *                 elastic-net coefficients), importance (tree gain) and
 *                 permutation (permutation importance on validation rows).
 *
 * What is kept: the k best (k=), the best percentile (percentile=), or
 * those scoring at least threshold= (variance: above it); rfe keeps k
 * (default half), the searches choose their own set.
 *
 *     kn_step *s;
 *     kn_step_from_spec("select:method=f_test;k=5", &s);
 *     kn_step_fit(s, train);                 // train's target column has the target role
 *     const kn_selection *sel;
 *     kn_step_selection(s, &sel);            // sel->name[i], sel->score[i], sel->keep[i]
 *
 * The scoring functions below take plain arrays: x column-major (feature j
 * at x + j * n), no missing values. Threading: a fitted selector is
 * read-only; the scorers are reentrant.
 */
#ifndef KILN_SELECT_H
#define KILN_SELECT_H

#include "kiln/step.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A fitted selector's ranking of its candidate features (in the order of
 * its columns). Borrowed from the step: valid until it is freed or refitted. */
typedef struct kn_selection {
    const char *method; /* the method's name (static) */
    size_t n;           /* candidate features */
    char **name;
    double *score;   /* higher is better: the method's statistic (F, chi2, MI, |r|,
                        variance; redundancy and cfs: relevance, |r| or eta; coef:
                        sum of |coefficients|; importance; permutation: the mean
                        score fall); rfe, rfecv: 1 / scikit-learn's ranking_;
                        forward, backward: the inner-CV score of the set at the
                        feature's round (NaN for features never moved) */
    double *p_value; /* NaN where the method has none */
    size_t *rank;    /* 1 = best; ties in score share no rank (later column first, as
                        scikit-learn's SelectKBest keeps them) */
    int *keep;       /* 1: kept */
    size_t n_kept;
} kn_selection;

/* The ranking of a fitted selector step; KN_ERR_INVALID for another step or
 * an unfitted one. */
KN_API kn_status kn_step_selection(const kn_step *s, const kn_selection **out);

/* chi2 of non-negative features against classes y[i] in [0, k) (scikit-
 * learn's chi2): score and p-value per feature. A negative value fails. */
KN_API kn_status kn_select_chi2(const double *x, size_t n, size_t p, const int32_t *y, size_t k,
                                double *score, double *p_value);
/* One-way ANOVA F per feature across classes y in [0, k) (f_classif). */
KN_API kn_status kn_select_f_classif(const double *x, size_t n, size_t p, const int32_t *y,
                                     size_t k, double *score, double *p_value);
/* The F test of the univariate linear regression on each feature (f_regression). */
KN_API kn_status kn_select_f_regression(const double *x, size_t n, size_t p, const double *y,
                                        double *score, double *p_value);
/* Mutual information (nats) of each continuous feature with the target:
 * classes y_class in [0, k) when y_class is not NULL, else the numeric
 * y. Values are scaled by their standard deviation and jittered by 1e-10
 * of their mean magnitude from seed (breaking ties, as scikit-learn does),
 * then counted among n_neighbors neighbours. */
KN_API kn_status kn_select_mutual_info(const double *x, size_t n, size_t p, const double *y,
                                       const int32_t *y_class, size_t k, size_t n_neighbors,
                                       uint64_t seed, double *mi);

#ifdef __cplusplus
}
#endif
#endif
