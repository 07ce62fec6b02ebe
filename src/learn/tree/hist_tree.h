/* Internal: one regression tree grown on binned features from gradients
 * and hessians (second-order gain, as XGBoost and LightGBM), and the flat
 * tree layout that predicts raw rows.
 *
 * Growth is best-first: the leaf whose best split gains most is split
 * next, until max_leaves leaves or no split gains more than
 * min_split_gain; max_depth bounds every path. With max_leaves 0 and a
 * depth limit this grows the same tree as depth-wise growth, and is done
 * that way: all splittable leaves split together, level by level.
 *
 * Histograms hold integer sums: gradients and hessians are quantised to 16
 * bits per tree (scaled by their largest magnitude or a bound the caller
 * gives; hessians to 11 bits on narrow data, whose rows are first summed in
 * packed 8-byte bins), so rows can be summed
 * in parallel in any order and the tree does not depend on the thread
 * count. Leaf values are computed from the exact (double) sums of their
 * rows. The larger child's histogram is the parent's minus the smaller
 * child's. Missing values have their own bin; each split learns the side
 * they go to.
 *
 * Monotone constraints (as XGBoost's): a split on a constrained feature
 * must order its children's values the constraint's way, and bounds their
 * subtrees at the midpoint of the two values, so no later split can undo
 * the order; every leaf value is clamped to its bounds. */
#ifndef KILN_LEARN_HIST_TREE_H
#define KILN_LEARN_HIST_TREE_H

#include "kiln/codec.h"
#include "learn/tree/bins.h"

#include <stdint.h>

typedef struct kn__node {
    double threshold; /* x <= threshold goes left; categorical: the index of
                       * the set of levels that go left */
    double value;     /* leaf value (internal nodes: what they would predict) */
    double gain;      /* the split's gain (0 for leaves) */
    int32_t feature;  /* -1 for a leaf */
    int32_t left;     /* children at left and left + 1 */
    uint32_t count;   /* training rows that reached the node */
    uint8_t bin;      /* the same split on codes: code <= bin goes left */
    uint8_t missing_left;
    uint8_t categorical;  /* the split is a set of levels (codes) */
    uint8_t missing_seen; /* CART trees: missing values reached the split in training
                           * (else missing_left is the larger child's side) */
} kn__node;

/* A set of levels (bin codes 0..254) of a categorical split. */
typedef struct kn__level_set {
    uint64_t bits[4];
} kn__level_set;

static inline int kn__level_in(const kn__level_set *s, unsigned code)
{
    return (int)(s->bits[code >> 6] >> (code & 63) & 1);
}

typedef struct kn__grow_params {
    size_t max_leaves; /* 0: no limit */
    size_t max_depth;  /* 0: no limit */
    size_t min_samples_leaf;
    double min_child_weight; /* least hessian sum per leaf */
    double l1, l2, min_split_gain;
    double max_delta_step; /* |leaf value| before shrinkage at most (0: no limit) */
    double shrinkage;      /* leaf values are multiplied by it (the learning rate) */
} kn__grow_params;

/* The rows to learn from: n x p codes (row-major), bins for thresholds. */
typedef struct kn__grow_data {
    size_t n, p;
    const uint8_t *codes;
    const kn__bins *bins;
    const uint8_t *feature_allowed; /* p flags, or NULL for every feature */
    /* p monotone constraints (+1: the prediction never falls as the feature
     * grows, -1: never rises, 0: free), or NULL for none */
    const int8_t *monotone;
    /* p level counts (0: numeric), or NULL: categorical features split by
     * sets of levels, found as LightGBM does (levels ordered by gradient
     * over hessian, the best prefix of that order) */
    const size_t *n_levels;
    /* Optional scratch kept between trees (fresh pages cost page faults):
     * n quantised gradient pairs and 2 n row indices; NULL: allocated per
     * tree. */
    int16_t (*scratch_q)[2];
    uint32_t *scratch_rows;
    /* Optional: the largest |gradient| and |hessian| of the tree's rows,
     * when the caller found them on its way (known_max non-zero). */
    int known_max;
    double g_max, h_max;
    /* Optional: scratch_q already holds the rows' quantised gradients and
     * hessians, at the scales kn__quant_scales gave for bounds on them. */
    int quantised;
    double g_scale, h_scale;
    /* Optional: the codes again, feature-major (feature j's n codes at
     * j * n): partitions read one feature of scattered rows, which then
     * comes from a small array instead of the whole matrix. It must have
     * 3 readable bytes after its n * p codes. */
    const uint8_t *codes_by_feature;
} kn__grow_data;

typedef struct kn__leaf_rows {
    int32_t node;
    uint32_t begin, end; /* rows[begin, end) of the grown partition */
} kn__leaf_rows;

typedef struct kn__tree_out {
    kn__node *nodes;
    size_t n_nodes;
    kn__level_set *sets; /* of the categorical splits */
    size_t n_sets;
    kn__leaf_rows *leaves;
    size_t n_leaves;
} kn__tree_out;

/* Grows one tree from rows[0..m) (reordered in place: each leaf's rows end
 * up contiguous) with gradients g and hessians h (indexed by row). */
kn_status kn__grow_tree(const kn__grow_data *d, const kn__grow_params *par, uint32_t *rows,
                        size_t m, const float *g, const float *h, kn__tree_out *out);

/* The scales (one unit of the quantised value) of the gradients and
 * hessians of a tree of m rows of d, when |g| <= g_max and |h| <= h_max. */
void kn__quant_scales(const kn__grow_data *d, size_t m, double g_max, double h_max, double *g_scale,
                      double *h_scale);

/* x rounded to the nearest integer, ties to even (lrint's result in the
 * default rounding mode, |x| < 2^51), without a library call: adding
 * 1.5 * 2^52 leaves no bits below the units. */
static inline double kn__round_even(double x)
{
    const double b = 6755399441055744.0; /* IEEE arithmetic keeps (x + b) - b */
    return (x + b) - b;
}

/* A value quantised at scale 1 / inv (|x * inv| <= 32767). */
static inline int16_t kn__quantise(double x, double inv)
{
    return (int16_t)kn__round_even(x * inv);
}
void kn__tree_out_free(kn__tree_out *t);

/* A node in a model file: KN__NODE_BYTES bytes. */
#define KN__NODE_BYTES 40
void kn__node_write(kn_wbuf *w, const kn__node *nd);
kn_status kn__node_read(kn_rbuf *r, kn__node *nd);
/* A loaded tree must be walkable: children after their parent, inside the
 * tree, features below p. */
kn_status kn__tree_check(const kn_rbuf *r, const kn__node *t, size_t n_nodes, size_t p);

/* The leaf a raw row (x_j = col[j][i]) or a coded row reaches; sets: the
 * level sets the categorical splits index. */
static inline int32_t kn__tree_leaf_raw(const kn__node *t, const kn__level_set *sets,
                                        const double *const *col, size_t i)
{
    int32_t at = 0;
    while (t[at].feature >= 0) {
        const kn__node *nd = &t[at];
        double v = col[nd->feature][i];
        int right = v != v            ? !nd->missing_left
                    : nd->categorical ? !kn__level_in(&sets[(size_t)nd->threshold], (unsigned)v)
                                      : v > nd->threshold;
        at = nd->left + right;
    }
    return at;
}

static inline int32_t kn__tree_leaf_codes(const kn__node *t, const kn__level_set *sets,
                                          const uint8_t *c)
{
    int32_t at = 0;
    while (t[at].feature >= 0) {
        const kn__node *nd = &t[at];
        uint8_t v = c[nd->feature];
        int right = v == KN__BIN_MISSING ? !nd->missing_left
                    : nd->categorical    ? !kn__level_in(&sets[(size_t)nd->threshold], v)
                                         : v > nd->bin;
        at = nd->left + right;
    }
    return at;
}

#endif
