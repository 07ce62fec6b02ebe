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
 * and cand (n + p) are scratch. */
void kn__km_seed_pp(const double *x, size_t n, size_t p, size_t k, kn_rng *r, double *cen,
                    double *closest, double *cand);

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
