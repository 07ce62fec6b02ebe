/* Internal: exact k-nearest-neighbour search over n points of dimension p
 * (row-major), by a k-d tree (median splits on the widest dimension, leaves
 * of at most leaf_size points) or by brute force through BLAS (distances
 * from |a|^2 + |b|^2 - 2 a.b in blocks, the chosen ones recomputed exactly).
 * Neighbours come sorted by distance, ties by training index, so every
 * method returns the same list. */
#ifndef KILN_LEARN_KDTREE_H
#define KILN_LEARN_KDTREE_H

#include "kiln/core.h"

#include <stddef.h>

/* Beyond this many features a k-d tree prunes little and brute force wins
 * (lending_club's 17 scaled columns, 2-NN of every row: 1.2 CPU s by the
 * tree, 0.3 s by brute force). */
#define KN__KDTREE_MAX_DIM 15

typedef enum { KN_DIST_EUCLIDEAN = 0, KN_DIST_MANHATTAN = 1 } kn_distance;

typedef struct kn__kdnode {
    size_t start, end;  /* points idx[start, end) */
    size_t left, right; /* children (0: leaf) */
    size_t dim;
    double split;
} kn__kdnode;

typedef struct kn__kdtree {
    const double *x; /* borrowed: n x p row-major */
    size_t n, p;
    size_t *idx;
    kn__kdnode *node;
    size_t n_nodes;
} kn__kdtree;

kn_status kn__kdtree_build(kn__kdtree *t, const double *x, size_t n, size_t p, size_t leaf_size);
void kn__kdtree_free(kn__kdtree *t);

/* The k nearest training points of each of the m queries (row-major m x p):
 * indices and distances into nb_idx / nb_dist (m x k, row-major). k <= n.
 * tree NULL: brute force. Parallel over queries (OpenMP). */
kn_status kn__knn_query(const kn__kdtree *tree, const double *x, size_t n, size_t p,
                        kn_distance metric, const double *q, size_t m, size_t k, size_t *nb_idx,
                        double *nb_dist);

#endif
