/* What kiln/compare.h and kiln/drift.h share (compare.c): the sorted
 * present values of a column, the KS distance over sorted samples, the
 * PSI over counts, a chi-square test of homogeneity and the
 * Benjamini-Hochberg adjustment. */
#ifndef KILN_COMPARE_IMPL_H
#define KILN_COMPARE_IMPL_H

#include "kiln/compare.h"
#include "kiln/drift.h"

/* The present (non-NaN) values of v, sorted, into a new array (kn_free);
 * *m receives their count. NULL when out of memory. */
double *kn__sorted_present(const double *v, size_t n, size_t *m);
/* The KS distance D over sorted non-empty a and b, ties stepped over together. */
double kn__ks_sorted(const double *a, size_t na, const double *b, size_t nb);
/* The same D into *ks and the Wasserstein distance (the integral of the
 * CDFs' gap) into *w, in one walk over both. */
void kn__ks_wasserstein_sorted(const double *a, size_t na, const double *b, size_t nb, double *ks,
                               double *w);
/* The p-value of a KS distance d between ma and mb present values, as
 * kn_ks_2samp_auto: exact (d rounded to the lattice, into *d_out) up to
 * 10,000 values a side, else kstwo (ks_dist.c). */
kn_status kn__ks_p(double d, size_t ma, size_t mb, size_t exact_cells, double *d_out, double *p);
/* sum (c - r) ln(c / r) over the shares r[i] / nr and c[i] / nc, each
 * floored at 1e-4. */
double kn__psi(const double *r, const double *c, size_t k, double nr, double nc);
/* The PSI of a numeric column over the reference's quantile edges (bins
 * of them, ties merged) plus a bin for missing cells: ra and rb the sorted
 * present values (ma, mb > 0) of na and nb cells. *n_bins receives the
 * bins that can hold a count (the missing one only when either side has
 * one). */
kn_status kn__psi_sorted(const double *ra, size_t ma, size_t na, const double *rb, size_t mb,
                         size_t nb, size_t bins, double *psi, size_t *n_bins);
/* The same with the reference given as a sorted sample ra of ma of its
 * present values, standing for na_present present values among na cells:
 * its bin counts are scaled by na_present / ma. */
kn_status kn__psi_sample(const double *ra, size_t ma, size_t na_present, size_t na,
                         const double *rb, size_t mb, size_t nb, size_t bins, double *psi,
                         size_t *n_bins);
/* kn__psi_sample in two halves: the reference's edges and bin counts once
 * (a server tests every window against the same reference), then any
 * batch against them; the same numbers as kn__psi_sample. */
/* What places a batch's values among a sorted sample's (vs_ref.c): the
 * sample's nu distinct values u, padded (u[-1] = -inf, u[nu ..] = +inf),
 * and rank[j] = #{sample <= u[j - 1]} (rank[0] = 0, rank[nu] = m): the
 * gaps [u[j - 1], u[j]) are the sample's gaps of positive width, the
 * sample's CDF rank[j] / m on gap j; a guide of the range cut in equal
 * parts, each with the number of distinct values in the parts before it,
 * so a search looks only within one part (`steps` halvings, then `scan`
 * values compared at once); and the first gap of each PSI bin. Built only
 * for a finite sample. */
typedef struct kn__ref_index {
    int ready;
    size_t nu;
    double *u;       /* u[-1 .. nu + 8) (allocated from u - 1) */
    uint32_t *rank;  /* nu + 1 */
    uint32_t *guide; /* parts + 1 */
    size_t parts;
    double lo, scale;  /* part of x: (x - lo) scale, clamped to [0, parts - 1] */
    unsigned steps;    /* halvings, then */
    unsigned scan;     /* 1, 2, 4 or 8 values compared */
    uint32_t *bin_gap; /* per PSI bin (k + 1), its first gap; then nu + 1 */
} kn__ref_index;
typedef struct kn__psi_ref {
    size_t bins, k, na; /* k distinct edges; na the reference's cells */
    double *edges, *cr; /* k edges; k + 2 counts (the last: missing) */
    const double *ra;   /* the sorted sample (borrowed: it outlives the bins) */
    size_t ma;
    kn__ref_index index;
} kn__psi_ref;
kn_status kn__ref_index_make(kn__psi_ref *r);
void kn__ref_index_free(kn__ref_index *x);
/* Prefetch x's values, ranks, guide and bin starts into the L2 (no wait). */
void kn__ref_index_prefetch(const kn__ref_index *x);
/* The bytes x holds (its values, ranks and guide; 0 when not ready). */
size_t kn__ref_index_bytes(const kn__ref_index *x);
kn_status kn__psi_ref_make(const double *ra, size_t ma, size_t na_present, size_t na, size_t bins,
                           kn__psi_ref *out);
kn_status kn__psi_with_ref(const kn__psi_ref *r, const double *rb, size_t mb, size_t nb,
                           double *psi, size_t *n_bins);
void kn__psi_ref_free(kn__psi_ref *r);
/* KS, Wasserstein and the PSI of the present values of b (nb cells, NaN
 * missing, in any order) against the reference of r, without sorting b:
 * each value is placed among the reference's sorted sample by a search
 * (r's index), and the distances come from the counts and distances per
 * gap between the sample's values (vs_ref.c). *ks is D over the sample, as
 * kn__ks_wasserstein_sorted gives it (the same bits), *w the Wasserstein
 * distance (the same up to rounding: summed in another order), *psi and
 * *n_bins as kn__psi_with_ref. *mb receives the present values. *done is
 * 0 (nothing else set) when a value of b or of the sample is infinite
 * or b has no present value: then sort and walk. */
kn_status kn__vs_ref(const kn__psi_ref *r, const double *b, size_t nb, size_t *mb, double *ks,
                     double *w, double *psi, size_t *n_bins, int *done);
/* kn_drift_numbers_sample with the reference's PSI bins made already
 * (pr, NULL: made here). */
kn_status kn__drift_numbers_sample_psi(const char *name, const double *sample, size_t m,
                                       size_t n_present, size_t na, const double *b, size_t nb,
                                       const kn_drift_opts *o, const kn__psi_ref *pr,
                                       kn_drift_col *out, int *tested);
/* The values of a categorical or text column in two frames: per distinct
 * value (sorted by bytes) its count in a (r) and in b (c) and its text
 * (borrowed from the columns); missing cells, when either side has one,
 * are the last entry, with value NULL. */
typedef struct kn_text_counts {
    size_t k;
    double *r, *c;
    const char **value;
    size_t *len;
} kn_text_counts;
kn_status kn__text_counts(kn_column *a, size_t na, kn_column *b, size_t nb, kn_text_counts *out);
void kn__text_counts_free(kn_text_counts *t);
/* The chi-square statistic of homogeneity of two rows of counts over k
 * values (values with no count on either side left out); *df receives the
 * degrees of freedom (values used - 1). yates: apply Yates' continuity
 * correction when df is 1 (scipy.stats.chi2_contingency's default). */
double kn__chi2_homogeneity(const double *r, const double *c, size_t k, int yates, size_t *df);
/* Replace p[i] (n of them) by its Benjamini-Hochberg adjusted value. */
kn_status kn__bh_adjust(double *p, size_t n);

#endif
