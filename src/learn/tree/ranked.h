/* Internal: sums of absolute deviations from the weighted median, for the
 * absolute-error CART criterion. A node's rows are ranked by target once;
 * a Fenwick tree over the ranks holds a growing set (the left child while
 * a split point moves right), and the node's prefix sums minus the tree
 * give the rest (the right child). Each child's median and deviation then
 * cost O(log^2 m) per split point instead of a pass over its rows. */
#ifndef KILN_LEARN_RANKED_H
#define KILN_LEARN_RANKED_H

#include "kiln/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct kn__ranked {
    size_t m, cap;
    double *y;        /* m targets in rank order */
    double *cw, *cwy; /* the node's prefix sums of w and w y by rank (m + 1) */
    double *fw, *fwy; /* Fenwick trees of the growing set (1-based, m + 1) */
    uint32_t *order;  /* scratch: the rows being ranked */
} kn__ranked;

kn_status kn__ranked_init(kn__ranked *r, size_t cap);
void kn__ranked_free(kn__ranked *r);

/* Ranks rows[0, m) by target (ties by row) and empties the growing set;
 * rank_of[row] receives each row's rank. */
void kn__ranked_node(kn__ranked *r, const uint32_t *rows, size_t m, const double *y,
                     const double *w, uint32_t *rank_of);

/* Empties the growing set. */
void kn__ranked_clear(kn__ranked *r);

/* Adds the row of this rank (weight w) to the growing set. */
void kn__ranked_add(kn__ranked *r, uint32_t rank, double w);

/* The growing set's (rest 0) or the rest's (rest 1) weighted median
 * (scikit-learn's: the first target whose cumulative weight reaches half,
 * or the mean of it and the next when exactly half) and sum of
 * w |y - median|. */
double kn__ranked_deviation(const kn__ranked *r, int rest, double *median);

/* Of the whole node. */
double kn__ranked_node_deviation(const kn__ranked *r, double *median);

#endif
