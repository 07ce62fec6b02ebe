/* Shared by the k-means variants (kmeans.c: seeding, Lloyd, the model;
 * kmeans_minibatch.c: mini-batch runs). The data is a row-major copy x of
 * n rows by p features (feature j of row i at x[i * p + j]), so a row's
 * features are contiguous; centres are k x p, row-major. */
#ifndef KILN_LEARN_KMEANS_IMPL_H
#define KILN_LEARN_KMEANS_IMPL_H

#include "kiln/model.h"
#include "kiln/rng.h"

#include <stddef.h>
#include <stdint.h>

/* Squared distance of row i of x to centre c. */
double kn__km_dist2(const double *x, size_t p, size_t i, const double *c);
/* The index of the centre nearest row i; its squared distance in *best. */
size_t kn__km_nearest(const double *x, size_t p, size_t i, const double *cen, size_t k,
                      double *best);
/* kmeans_seed.c: greedy k-means++ seeding of k centres from the rows of
 * x (row-major; NULL: the columns col, col[j][i] feature j of row i).
 * Distances are from a float copy of the rows (xs, n x p, (float)x; NULL:
 * made here from x; half the bytes to read per step; relative error about
 * 1e-7) to the exact rows drawn as candidates, in double. closest (n) ends as each row's squared
 * distance to its nearest seed so measured and near (n) as that seed's index (the first of equals).
 * KN_ERR_NOMEM when out of memory. */
kn_status kn__km_seed_pp(const double *x, const double *const *col, const float *xs, size_t n,
                         size_t p, size_t k, kn_rng *r, double *cen, double *closest, size_t *near);

/* kmeans_block.c: rows go in chunks of KM_CHUNK (per-chunk sums, added in
 * chunk order, so any thread count gives the same bits). Distances from
 * many rows to many points are ||x||^2 - 2 x.c + ||c||^2 by dgemm, clamped
 * at 0 (rounding: about 1e-16 of the norms, not of the distance). */
#define KM_CHUNK 4096
/* How many chunks n rows make (at least 1). */
size_t kn__km_chunks(size_t n);
/* xn[i] = squared norm of row i of x. */
void kn__km_norms(const double *x, size_t n, size_t p, double *xn);
/* cn[t] = squared norm of point t of c (m x p, row-major). */
void kn__km_point_norms(const double *c, size_t m, size_t p, double *cn);
/* d[t x ld + i] = squared distance (dgemm) of row i0 + i of x to point t
 * of c (m x p, row-major; squared norms cn), for i < len and t < m. */
void kn__km_gemm_dist(const double *x, size_t p, const double *xn, size_t i0, size_t len,
                      const double *c, const double *cn, size_t m, double *d, size_t ld);
/* Each row's nearest centre (label, by dgemm) and its exact squared
 * distance (dist). KN_ERR_NOMEM when out of memory. */
kn_status kn__km_assign(const double *x, size_t n, size_t p, const double *xn, const double *cen,
                        size_t k, size_t *label, double *dist);
/* The distances a k-means++ step computed, per chunk of rows: m[ch] rows
 * (all[ch]: the chunk's first m; else chunk offsets idx[ch x KM_CHUNK ..]),
 * their squared distances to the trials candidates, rounded to float (half
 * the bytes to write and read back; the sums add the rounded values), at
 * dist[ch x KM_CHUNK x trials ..] (m x trials, row-major). Rows left out
 * are no closer to any candidate. */
typedef struct kn__km_near {
    size_t *m;          /* chunks */
    unsigned char *all; /* chunks */
    size_t *idx;        /* n */
    float *dist;        /* n x trials */
    /* pending: candidate pt of the last ptrials became centre pc
     * (kn__km_choose) and closest, near do not hold its distances yet: the
     * next kn__km_trials applies them in its pass over the rows (the
     * k-means++ draw in the chunks it walks; kn__km_flush all). Zero in
     * a fresh one. */
    int pending;
    size_t ptrials, pt, pc;
} kn__km_near;
/* k-means++ trials (kmeans_seed.c): the squared distances from the rows
 * (x: rounded to float, n x p; the distance exact in double from there)
 * to candidates cand (trials x p) into nb, and part[chunk x trials +
 * t] = the chunk's sum over rows of min(squared distance to candidate t,
 * closest). First nb's pending update goes into closest and near. With
 * far (far[t x k + c]: squared distance of candidate t to centre c;
 * infinite for centres not chosen yet), rows that no candidate can come
 * closer to, by the triangle inequality from their nearest centre
 * near[i], are left out (cpart[ch]: the chunk's sum of closest); without,
 * every row is kept. The same bits with and without AVX-512.
 * KN_ERR_NOMEM when out of memory. */
kn_status kn__km_trials(const float *x, size_t n, size_t p, const double *cand, size_t trials,
                        double *closest, size_t *near, const double *far, size_t k,
                        const double *cpart, kn__km_near *nb, double *part);
/* Candidate t of nb's trials becomes centre c: cpart[chunk] = the
 * chunk's sum of the new closest, which is the trial's sum part[chunk x
 * trials + t]; closest = min(closest, its distance) and near = c where it
 * is smaller are left pending (applied with the next step's pass over the
 * rows instead of a pass of their own). */
void kn__km_choose(kn__km_near *nb, size_t n, size_t trials, size_t t, size_t c, const double *part,
                   double *cpart);
/* nb's pending update into closest and near, every chunk. */
void kn__km_flush(size_t n, kn__km_near *nb, double *closest, size_t *near);
/* Lloyd with Hamerly's bounds ("Making k-means even faster", 2010): ub
 * (per row) bounds the distance to its centre from above, lb the distance
 * to any other from below, half[c] is half the distance from centre c to
 * the nearest other. A row with ub <= max(lb, half[label]) (less a margin
 * of 1e-9, so rounding never decides) keeps its label untested; the others
 * are recomputed (a block with many by dgemm, a few rows directly). full:
 * recompute every row. Unless full, a row that changes cluster moves its
 * values between its chunk's sums and counts (sum, count as kn__km_sums
 * gives them; NULL: none kept). KN_ERR_NOMEM when out of memory. */
kn_status kn__km_assign_bounded(const double *x, size_t n, size_t p, const double *xn,
                                const double *cen, size_t k, size_t *label, double *ub, double *lb,
                                const double *half, int full, int *changed, double *sum,
                                size_t *count);
/* Per chunk, per centre sums and counts of the rows by label (chunks x k
 * x p and chunks x k). */
void kn__km_sums(const double *x, size_t n, size_t p, size_t k, const size_t *label, double *sum,
                 size_t *count);

typedef struct kn__km_minibatch {
    size_t batch;          /* rows per step */
    size_t max_iter;       /* passes over the data at most: max_iter x n / batch steps */
    size_t no_improvement; /* stop after this many steps without a better smoothed inertia */
    double reassign_ratio; /* a centre with fewer than this x the largest count moves */
} kn__km_minibatch;

/* One mini-batch run from stream r: seeding on a sample of the rows, then
 * steps over random batches (xn: the rows' squared norms). Writes the centres (k x p) and the steps
 * taken; returns the inertia over all rows, or NAN when out of memory. */
double kn__km_minibatch_run(const double *x, size_t n, size_t p, const double *xn, size_t k,
                            const kn__km_minibatch *o, kn_rng *r, double *cen, size_t *steps);

/* The centres (k x p, row-major) of a fitted kmeans model, or NULL.
 * Borrowed: valid while m lives and is not refitted. */
const double *kn__kmeans_centres(const kn_model *m, size_t *k, size_t *p);

#endif
