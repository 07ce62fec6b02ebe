/* Do two samples of a table come from the same distribution? Column by
 * column, a reference frame (the training rows) against another (the test
 * rows, a new batch), so a user sees before trusting a score when the rows
 * it was measured on do not look like the rows it was fitted on.
 *
 *     kn_compare_opts o;
 *     kn_compare_opts_default(&o);
 *     kn_compare_report r;
 *     kn_compare_frames(train, test, &o, &r);   // r.cols[i].flagged
 *     kn_compare_report_free(&r);
 *
 * Numeric columns (and int64, timestamps): the two-sample Kolmogorov-Smirnov
 * statistic D with its asymptotic p-value (Stephens' correction to the
 * Kolmogorov distribution; exact small-sample p-values are not computed),
 * and the population stability index (PSI) over the reference's deciles.
 * Categorical and text columns: the chi-square test of homogeneity over the
 * values of both samples, Cramér's V, and the PSI over the values' shares.
 * Missing cells are a bin (a value) of their own in the PSI and the
 * chi-square test; KS compares the present values. PSI floors each share at
 * 1e-4. A column is flagged when its p-value, adjusted for the number of
 * columns tested (Benjamini-Hochberg), is under alpha AND the difference is
 * large enough to matter (D, V or PSI at least min_effect): on big samples a
 * tiny difference is significant but harmless.
 */
#ifndef KILN_COMPARE_H
#define KILN_COMPARE_H

#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_compare_opts {
    double alpha;      /* false discovery rate over the columns (default 0.01) */
    double min_effect; /* D, Cramér's V or PSI needed to flag (default 0.1) */
    size_t bins;       /* PSI bins of a numeric column (default 10: deciles) */
} kn_compare_opts;

KN_API void kn_compare_opts_default(kn_compare_opts *o);

typedef struct kn_compare_col {
    char *name;
    const char *test; /* "ks" or "chi2" (static) */
    double statistic; /* D, or the chi-square statistic */
    double effect;    /* D, or Cramér's V */
    double p, p_adjusted;
    double psi;
    size_t n_ref, n_cur; /* cells compared (KS: present ones) */
    int flagged;
} kn_compare_col;

typedef struct kn_compare_report {
    size_t n_cols, n_flagged;
    kn_compare_col *cols; /* the columns both frames hold, in the reference's order */
} kn_compare_report;

/* Compare every column `ref` and `cur` both hold (by name; a column whose
 * types differ is an error naming it). Columns with no present value on
 * either side are left out. */
KN_API kn_status kn_compare_frames(const kn_frame *ref, const kn_frame *cur,
                                   const kn_compare_opts *o, kn_compare_report *out);
KN_API void kn_compare_report_free(kn_compare_report *r);

/* The pieces, for callers with plain arrays. NaN values are skipped by KS. */
KN_API void kn_ks_2samp(const double *a, size_t na, const double *b, size_t nb, double *d,
                        double *p);
/* The upper tail of the chi-square distribution with df degrees of freedom. */
KN_API double kn_chi2_sf(double x, double df);

#ifdef __cplusplus
}
#endif
#endif
