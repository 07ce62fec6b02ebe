/* Drift: has a batch of new rows moved away from the reference rows (the
 * training data)? What `kiln monitor check` runs per column and on the
 * model's predictions. Unlike kiln/compare.h (a quick representativeness
 * check) every test here matches scipy.stats to 1e-9, and a column is
 * flagged by thresholds that follow the sample sizes.
 *
 *     kn_drift_opts o;
 *     kn_drift_opts_default(&o);
 *     kn_drift_report r;
 *     kn_drift_frames(train, batch, &o, &r);   // r.cols[i].drifted, .why
 *     kn_drift_report_free(&r);
 *
 * Numeric columns (int64 and timestamps too), on the present values:
 *   - Kolmogorov-Smirnov D and its p-value as scipy.stats.ks_2samp's
 *     default (method "auto"): exact (lattice paths, D rounded to a
 *     multiple of 1/lcm(n1, n2)) when both samples have at most 10,000
 *     values, else the distribution of the one-sample statistic with
 *     n = round(n1 n2 / (n1 + n2)) (kn_kstwo_sf);
 *   - the Wasserstein-1 distance (scipy.stats.wasserstein_distance);
 *   - the PSI over the reference's deciles plus a missing bin (as kiln/compare.h).
 * Categorical and text columns, over the values of both samples and a
 * missing bin: the chi-square test of homogeneity of the 2 x k table
 * (scipy.stats.chi2_contingency, Yates' correction when k = 2), the
 * Jensen-Shannon distance of the two shares (natural log,
 * scipy.spatial.distance.jensenshannon), the PSI, and the values of the
 * batch the reference never holds (unseen).
 * Every column: the share of missing cells on both sides.
 *
 * A column drifts when any of:
 *   "distribution": its p-value (KS or chi-square), Benjamini-Hochberg
 *       adjusted over the columns tested, is under alpha AND its PSI is
 *       over the PSI threshold: max(min_psi, (1/n1 + 1/n2) * the chi-square
 *       (1 - alpha) quantile with bins - 1 degrees of freedom), the PSI a
 *       sample of these sizes from one distribution stays under with
 *       probability 1 - alpha (PSI ~ (1/n1 + 1/n2) chi2(bins - 1));
 *   "missing": the missing share changed by at least missing_change and
 *       by more than 3 standard errors (two proportions, pooled);
 *   "unseen": values the reference never holds make at least
 *       unseen_share of the batch's present cells.
 */
#ifndef KILN_DRIFT_H
#define KILN_DRIFT_H

#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_drift_opts {
    double alpha;          /* false discovery rate over the columns (default 0.01) */
    double min_psi;        /* the least PSI threshold (default 0.02) */
    size_t bins;           /* PSI bins of a numeric column (default 10) */
    double missing_change; /* missing-share change that counts (default 0.05) */
    double unseen_share;   /* share of unseen values that counts (default 0.01) */
    /* the KS p-value is exact (lattice paths: time and memory grow with the
     * product of the sample sizes) as scipy's ks_2samp(method='auto') chooses,
     * both sides under 10,000 values; a non-zero cap also sends products over
     * it to the asymptotic distribution (kiln serve's windows: 200,000) */
    size_t ks_exact_cells; /* default 0: scipy's rule alone */
} kn_drift_opts;

/* The ks_exact_cells of kiln serve's windows and of kiln monitor check
 * against the artifact's reference (no --reference): one computation, so
 * the same rows give the same figures, bit for bit, in both. */
enum { KN_DRIFT_WINDOW_EXACT_CELLS = 200000 };

KN_API void kn_drift_opts_default(kn_drift_opts *o);

enum { KN_DRIFT_UNSEEN_SHOWN = 5 };

typedef struct kn_drift_col {
    char *name;
    int categorical;                 /* 1: chi-square + JS; 0: KS + Wasserstein */
    size_t n_ref, n_cur;             /* cells (rows) on each side */
    double missing_ref, missing_cur; /* shares of missing cells */
    double ks_d, ks_p;               /* numeric; NaN otherwise */
    double wasserstein;              /* numeric; NaN otherwise */
    double chi2, chi2_p;             /* categorical; NaN otherwise */
    size_t chi2_df;
    double js; /* categorical; NaN otherwise */
    double psi, psi_threshold;
    double p, p_adjusted;                       /* ks_p or chi2_p, and its BH adjustment */
    size_t unseen;                              /* distinct batch values the reference lacks */
    double unseen_frac;                         /* their share of the batch's present cells */
    char *unseen_values[KN_DRIFT_UNSEEN_SHOWN]; /* the first few (sorted) */
    double score; /* how far it moved, for ranking: max(PSI, D or JS) */
    int drifted;
    const char *why; /* "distribution", "missing", "unseen" (static), NULL */
} kn_drift_col;

typedef struct kn_drift_report {
    size_t n_cols, n_drifted;
    kn_drift_col *cols; /* the reference's columns the batch holds, in its order */
} kn_drift_report;

/* Test every column of ref that cur holds (by name); a column whose kinds
 * (numeric, text) differ is an error naming it; a column with no present
 * value on either side is left out. */
KN_API kn_status kn_drift_frames(const kn_frame *ref, const kn_frame *cur, const kn_drift_opts *o,
                                 kn_drift_report *out);
/* One column pair (a of ref, b of cur), as kn_drift_frames does it before
 * the adjustment over columns (p_adjusted = p). *tested is 0 when there
 * was nothing to compare. */
KN_API kn_status kn_drift_column(kn_column *a, size_t na, kn_column *b, size_t nb,
                                 const kn_drift_opts *o, kn_drift_col *out, int *tested);
/* The same for arrays: numbers (NaN: missing; KS, Wasserstein, PSI), or
 * counts of k values in the reference (r) and the batch (c; chi-square,
 * JS, PSI). name is copied. */
KN_API kn_status kn_drift_numbers(const char *name, const double *a, size_t na, const double *b,
                                  size_t nb, const kn_drift_opts *o, kn_drift_col *out,
                                  int *tested);
/* kn_drift_numbers with the reference given as a sorted sample of m of
 * its n_present present values among na cells (kiln/drift_ref.h): D and
 * Wasserstein against the sample, the PSI's reference bins scaled from it,
 * while the p-value, the PSI threshold and the missing share use the
 * reference's own counts. With m = n_present it equals kn_drift_numbers on
 * those values. */
KN_API kn_status kn_drift_numbers_sample(const char *name, const double *sample, size_t m,
                                         size_t n_present, size_t na, const double *b, size_t nb,
                                         const kn_drift_opts *o, kn_drift_col *out, int *tested);
/* A numeric reference prepared once for many batches (a server's windows,
 * kiln monitor check --window): its present values sorted, the PSI's bins
 * and the index that places a batch's values among them
 * (kn_drift_numbers_sample with the whole reference as its sample).
 * kn_drift_numbers_vs gives kn_drift_numbers' D, p-value and PSI to the
 * bit and its Wasserstein distance to 1e-12 (another order of summation),
 * without sorting the reference or the batch. a: na cells, NaN missing;
 * o: its bins (NULL: the defaults). */
typedef struct kn_drift_numref kn_drift_numref;
KN_API kn_status kn_drift_numref_new(const double *a, size_t na, const kn_drift_opts *o,
                                     kn_drift_numref **out);
KN_API void kn_drift_numref_free(kn_drift_numref *r);
/* The memory r holds. */
KN_API size_t kn_drift_numref_bytes(const kn_drift_numref *r);
KN_API kn_status kn_drift_numbers_vs(const char *name, const kn_drift_numref *r, const double *b,
                                     size_t nb, const kn_drift_opts *o, kn_drift_col *out,
                                     int *tested);
KN_API kn_status kn_drift_counts(const char *name, const double *r, const double *c, size_t k,
                                 const kn_drift_opts *o, kn_drift_col *out);
/* A classifier's score of one row, from its k class probabilities (row-major,
 * the model's class order): two classes, the second's (the positive class,
 * as kiln eval's ROC-AUC takes it); more, the largest (the top class's:
 * how sure the model is). NaN when k < 2. kiln monitor check and kiln serve
 * --drift-window test these beside the predicted classes: a shift can move
 * every score while few predicted classes change. */
KN_API double kn_drift_class_score(const double *proba, size_t k);
/* The name the score's test carries ("(score)"; the classes': "(prediction)"). */
#define KN_DRIFT_SCORE_NAME "(score)"
/* kn_drift_decide over the prediction tests that ran (pred: the values or
 * the predicted classes; score: a classifier's scores), a family of their
 * own: Benjamini-Hochberg over these one or two, apart from the inputs'.
 * What kiln monitor check and kiln serve's windows both call. */
KN_API kn_status kn_drift_decide_predictions(kn_drift_col *pred, int pred_tested,
                                             kn_drift_col *score, int score_tested,
                                             const kn_drift_opts *o);
/* Set p_adjusted (BH over the n columns) and drifted / why on each. */
KN_API kn_status kn_drift_decide(kn_drift_col *cols, size_t n, const kn_drift_opts *o,
                                 size_t *n_drifted);
KN_API void kn_drift_col_free(kn_drift_col *c);
KN_API void kn_drift_report_free(kn_drift_report *r);

/* The pieces, on plain arrays (NaN values are skipped).
 * scipy.stats.ks_2samp(a, b) (two-sided, method "auto"): D and p. */
KN_API kn_status kn_ks_2samp_auto(const double *a, size_t na, const double *b, size_t nb, double *d,
                                  double *p);
/* P(D_n >= d) of the one-sample two-sided KS statistic
 * (scipy.stats.kstwo.sf(d, n)). */
KN_API double kn_kstwo_sf(double d, double n);
/* scipy.stats.wasserstein_distance(a, b); NaN when either is empty. */
KN_API kn_status kn_wasserstein(const double *a, size_t na, const double *b, size_t nb,
                                double *out);
/* scipy.spatial.distance.jensenshannon(p, q) for k non-negative weights
 * each (normalised here). */
KN_API double kn_js_distance(const double *p, const double *q, size_t k);
/* The (1 - a) quantile of the chi-square distribution with df degrees of freedom. */
KN_API double kn_chi2_isf(double a, double df);

#ifdef __cplusplus
}
#endif
#endif
