/* Internal: trees flattened for batch prediction (Asadi et al. 2014;
 * QuickScorer's lesson that pointer chasing is the cost). Every tree is
 * walked a fixed number of steps, its depth: a leaf points to itself and
 * its test always says "stay", so sixteen rows go down a tree in lockstep
 * without branches, their loads overlapping. Nodes are 16 bytes.
 *
 * Coded walk: when no feature has more than 254 distinct thresholds in
 * the whole forest (always so for trees grown on bins), each value is
 * first replaced by its rank among its feature's thresholds (a byte; 255
 * for missing), and nodes compare ranks: x <= threshold k exactly when
 * rank(x) <= k. Nodes shrink to 8 bytes, rows to a byte per feature, and
 * a step is an integer compare. */
#ifndef KILN_LEARN_FLAT_FOREST_H
#define KILN_LEARN_FLAT_FOREST_H

#include "learn/tree/hist_tree.h"

typedef struct kn__pnode {
    double threshold; /* right when x > threshold; +inf for leaves */
    int32_t feature;  /* times 8: the offset in a group of 8 interleaved rows */
    int32_t next;     /* the left child (the right is next + 1); a leaf: itself */
} kn__pnode;

typedef struct kn__flat_forest {
    size_t n_trees, width, groups;
    int32_t *root;
    uint8_t *depth;
    kn__pnode *node;
    uint8_t *missing_left; /* per node: missing values go left (leaves: 1) */
    double *leaf;          /* width values per node (meaningful at leaves) */
    /* the coded walk, or NULLs: the n_used features the trees test, in
     * slots (feature used[k] in slot k, its thresholds ascending at
     * cuts[cut_at[k] .. cut_at[k + 1])); tree t complete, its 2^depth - 1
     * nodes at coded[coded_at[t] ..] (slot * 16 << 9 | missing left << 8 |
     * the threshold's rank), its 2^depth leaves' width values each at
     * coded_leaf[(coded_at[t] + t) * width ..] */
    size_t n_used, *used, *cut_at;
    double *cuts;
    uint32_t *coded;
    size_t *coded_at;
    double *coded_leaf;
} kn__flat_forest;

/* Flattens n_trees trees (tree t's nodes at nodes[offset[t] .. offset[t +
 * 1])). Leaf values: width per node from values (indexed like nodes), or,
 * with values NULL and width 1, the nodes' own values. Tree t adds its
 * leaf's values to output columns (t % groups) * width .. + width. */
kn_status kn__flat_build(kn__flat_forest *f, const kn__node *nodes, const size_t *offset,
                         size_t n_trees, const double *values, size_t width, size_t groups);
void kn__flat_free(kn__flat_forest *f);

/* Adds every tree's leaf values for rows [0, n) (feature j < p of row i
 * at col[j][i]) into out (groups * width columns of n, column-major).
 * Fails only for want of memory (a block buffer per thread). */
kn_status kn__flat_predict(const kn__flat_forest *f, const double *const *col, size_t p, size_t n,
                           double *out);

#endif
