/* Paired significance tests for comparing two models on the same rows, so
 * a choice rests on evidence rather than on the larger mean:
 *
 *   kn_paired_ttest   the corrected resampled t-test (Nadeau and Bengio
 *                     2003) over the scores of (repeated) k-fold CV: d =
 *                     a - b per fold, t = mean(d) / sqrt((1/k +
 *                     test_train_ratio) var(d)), k - 1 degrees of freedom
 *                     (test_train_ratio: a fold's test rows over its
 *                     training rows, 1/(k-1) for k-fold). The correction
 *                     accounts for the folds' overlapping training rows.
 *   kn_ttest_5x2cv    Dietterich's (1998) 5x2-fold paired t-test: five
 *                     repetitions of 2-fold CV, t = d(1,1) / sqrt(mean
 *                     s_i^2), s_i^2 the variance of repetition i's two
 *                     differences, 5 degrees of freedom.
 *   kn_mcnemar        McNemar's test for two classifiers on one test set,
 *                     from the rows only A got right (b) and only B got
 *                     right (c): the exact binomial p-value (b of b + c
 *                     under p = 1/2, two-sided) and the chi-square
 *                     statistic with continuity correction, (|b - c| -
 *                     1)^2 / (b + c), with its p-value (1 degree).
 *
 * Every p-value is two-sided; equal scores give t 0 and p 1.
 *
 *     kn_paired_test t;
 *     kn_paired_ttest(a, b, 10, 1.0 / 9, &t);   // t.p_value
 */
#ifndef KILN_SIGTEST_H
#define KILN_SIGTEST_H

#include "kiln/core.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_paired_test {
    size_t k; /* differences */
    double mean_diff, sd_diff, t, p_value;
    double df;
} kn_paired_test;

KN_API kn_status kn_paired_ttest(const double *a, const double *b, size_t k,
                                 double test_train_ratio, kn_paired_test *out);
/* a, b: 10 scores each, repetition-major (a[2 * i + j]: repetition i, fold j). */
KN_API kn_status kn_ttest_5x2cv(const double *a, const double *b, kn_paired_test *out);

typedef struct kn_mcnemar_test {
    size_t a_only, b_only; /* rows only A, only B classified right */
    double statistic;      /* chi-square with continuity correction (0 when b + c = 0) */
    double p_chi2;         /* its p-value, 1 degree of freedom */
    double p_exact;        /* exact binomial p-value */
} kn_mcnemar_test;

KN_API kn_status kn_mcnemar(size_t a_only, size_t b_only, kn_mcnemar_test *out);

#ifdef __cplusplus
}
#endif
#endif
