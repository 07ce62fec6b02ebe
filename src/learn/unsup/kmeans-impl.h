/* Shared by the k-means variants (kmeans.c: seeding, Lloyd, the model;
 * kmeans_minibatch.c: mini-batch runs). The data is a column-major copy x
 * of n rows by p features (feature j of row i at x[j * n + i]); centres
 * are k x p, row-major. */
#ifndef KILN_LEARN_KMEANS_IMPL_H
#define KILN_LEARN_KMEANS_IMPL_H

#include "kiln/model.h"
#include "kiln/rng.h"

#include <stddef.h>
#include <stdint.h>

/* Squared distance of row i of x to centre c. */
double kn__km_dist2(const double *x, size_t n, size_t p, size_t i, const double *c);
/* The index of the centre nearest row i; its squared distance in *best. */
size_t kn__km_nearest(const double *x, size_t n, size_t p, size_t i, const double *cen, size_t k,
                      double *best);
/* Greedy k-means++ seeding of k centres from the rows of x; closest (n)
 * is scratch. KN_ERR_NOMEM when out of memory. */
kn_status kn__km_seed_pp(const double *x, size_t n, size_t p, size_t k, kn_rng *r, double *cen,
                         double *closest);

/* kmeans_block.c: rows go in chunks of KM_CHUNK (per-chunk sums, added in
 * chunk order, so any thread count gives the same bits). */
#define KM_CHUNK 4096
/* How many chunks n rows make (at least 1). */
size_t kn__km_chunks(size_t n);
/* Each row's nearest centre (label) and squared distance (dist); *changed
 * (when not NULL) says whether a label changed. With sum (chunks x k x p)
 * and count (chunks x k), each chunk's per-centre sums of its rows. */
void kn__km_assign(const double *x, size_t n, size_t p, const double *cen, size_t k, size_t *label,
                   double *dist, int *changed, double *sum, size_t *count);
/* k-means++ trials: part[chunk x trials + t] = sum over the chunk's rows of
 * min(squared distance to candidate t of cand (trials x p), closest);
 * near[i] is row i's nearest centre so far and far[t x k + c] the squared
 * distance from candidate t to centre c, which spare rows the candidate cannot come
 * closer to (triangle inequality; the sums are the same bits). */
void kn__km_trials(const double *x, size_t n, size_t p, const double *cand, size_t trials,
                   const double *closest, const size_t *near, const double *far, size_t k,
                   double *part);
/* closest = min(closest, squared distance to c), near = idx where c is
 * nearer (far: c's squared distance to each centre, as above; NULL: the first
 * centre, every row set); part[chunk] = the chunk's sum of closest. */
void kn__km_closest(const double *x, size_t n, size_t p, const double *c, size_t idx,
                    double *closest, size_t *near, const double *far, double *part);
/* Lloyd with Hamerly's bounds ("Making k-means even faster", 2010): ub
 * (per row) bounds the distance to its centre from above, lb the distance
 * to any other from below, half[c] is half the distance from centre c to
 * the nearest other. A row with ub <= max(lb, half[label]) (less a margin
 * of 1e-9, so rounding never decides) keeps its label untested; the others
 * are recomputed. Labels are those of plain Lloyd. full: recompute every
 * row. Rows longer than KM_MAX_ROW features always go a block at a time. */
#define KM_MAX_ROW 256
void kn__km_assign_bounded(const double *x, size_t n, size_t p, const double *cen, size_t k,
                           size_t *label, double *ub, double *lb, const double *half, int full,
                           int *changed);
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
 * steps over random batches. Writes the centres (k x p) and the steps
 * taken; returns the inertia over all rows, or NAN when out of memory. */
double kn__km_minibatch_run(const double *x, size_t n, size_t p, size_t k,
                            const kn__km_minibatch *o, kn_rng *r, double *cen, size_t *steps);

/* The centres (k x p, row-major) of a fitted kmeans model, or NULL.
 * Borrowed: valid while m lives and is not refitted. */
const double *kn__kmeans_centres(const kn_model *m, size_t *k, size_t *p);

#endif
