/* Input anomalies: an isolation forest fitted on a sample of a model's
 * training rows (the reference) scores new rows; per window, the share of
 * rows past the reference's threshold is tested against the reference's
 * own share. kiln monitor check --anomalies, kiln monitor anomalies (a
 * prediction log) and kiln serve (each drift window, on the monitoring
 * thread) share it.
 *
 *     kn_inputanom *a = NULL;
 *     kn_inputanom_fit(ref, decls, n_decls, 0.01, 0, &a);   // ref: KN_ART_REFERENCE_ROWS
 *     double *s = NULL; size_t n = 0;
 *     kn_inputanom_score(a, window_rows, &s, &n);            // columns found by name
 *     kn_inputanom_window w;
 *     kn_inputanom_test(a, n, kn_inputanom_count(a, s, n), KN_INPUTANOM_BETA_BINOMIAL,
 *                       0.001, &w);
 *     if (w.flagged) ...
 *     kn_free(s);
 *     kn_inputanom_free(a);
 *
 * The forest (100 trees, seeded) takes the numeric inputs among decls that
 * the reference holds values of; a missing or non-finite cell, in the
 * reference or a scored row, is that column's reference median. Its
 * threshold is the `contamination` quantile of the reference rows' scores
 * (linear between order statistics; a lower score is more anomalous); a row
 * is anomalous when its score is under it.
 *
 * The window test: p = P(X >= k) for a window of n rows with k anomalous,
 * X either binomial(n, the reference share, at least 1 / (n_ref + 1)), or
 * (KN_INPUTANOM_BETA_BINOMIAL) beta-binomial with the reference count's
 * posterior, Beta(k_ref + 1/2, n_ref - k_ref + 1/2) (Jeffreys prior): a
 * reference of 1,000 rows knows its share only roughly, and a binomial at
 * that share would take the uncertainty for an anomaly in large windows.
 * A window is flagged when its share is over the reference's and p is
 * under alpha (the caller's per-window level).
 *
 * Threading: a fitted kn_inputanom is read-only; score and test it from
 * any number of threads at once. Same reference, parameters and rows: the
 * same scores, bit for bit.
 */
#ifndef KILN_INPUTANOM_H
#define KILN_INPUTANOM_H

#include "kiln/frame.h"
#include "kiln/io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_inputanom kn_inputanom;

typedef enum { KN_INPUTANOM_BINOMIAL = 0, KN_INPUTANOM_BETA_BINOMIAL = 1 } kn_inputanom_test_kind;

/* One window's test. */
typedef struct kn_inputanom_window {
    size_t rows, anomalous_rows;
    double share, reference_share, p;
    int flagged;
} kn_inputanom_window;

/* Returns a new detector fitted on ref (at least 16 rows; the numeric
 * columns among decls with values in ref); free with kn_inputanom_free().
 * No such column, or too few rows: KN_ERR_INVALID saying so. */
KN_API kn_status kn_inputanom_fit(const kn_frame *ref, const kn_col_decl *decls, size_t n_decls,
                                  double contamination, uint64_t seed, kn_inputanom **out);
KN_API void kn_inputanom_free(kn_inputanom *a);

/* Score the rows of f, whose columns are found by name (every scored
 * column must be there; numeric or int64). *scores: a new array of *n
 * scores (kn_free). */
KN_API kn_status kn_inputanom_score(const kn_inputanom *a, const kn_frame *f, double **scores,
                                    size_t *n);
/* How many of n scores are anomalous (under the threshold). */
KN_API size_t kn_inputanom_count(const kn_inputanom *a, const double *scores, size_t n);
/* Test a window of n rows with k anomalous at level alpha into *out. */
KN_API void kn_inputanom_test(const kn_inputanom *a, size_t n, size_t k,
                              kn_inputanom_test_kind test, double alpha, kn_inputanom_window *out);

/* What was fitted (the column names are the detector's own copies). */
KN_API size_t kn_inputanom_n_cols(const kn_inputanom *a);
KN_API const char *kn_inputanom_col(const kn_inputanom *a, size_t j);
KN_API double kn_inputanom_threshold(const kn_inputanom *a);
KN_API double kn_inputanom_reference_share(const kn_inputanom *a);
/* Reference rows, and those of them past the threshold. */
KN_API size_t kn_inputanom_reference_rows(const kn_inputanom *a, size_t *anomalous);
KN_API double kn_inputanom_contamination(const kn_inputanom *a);
KN_API uint64_t kn_inputanom_seed(const kn_inputanom *a);

#ifdef __cplusplus
}
#endif
#endif
