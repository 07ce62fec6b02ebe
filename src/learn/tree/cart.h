/* Internal: one CART tree (Breiman et al. 1984) grown depth-first on an
 * impurity criterion, the learner under decision_tree, random_forest and
 * extra_trees.
 *
 * Splits, per node, over max_features features drawn at random (at least
 * one of them not constant in the node):
 *   - exact: the node's values sorted, every boundary between distinct
 *     values tried, the threshold halfway (as scikit-learn's "best");
 *   - binned: boundaries between quantile bins (bins.h) only, found from
 *     a per-node histogram of the codes (small nodes sort their codes) —
 *     the random forest default, an order of magnitude less work;
 *   - random: one threshold drawn uniformly between the feature's node
 *     minimum and maximum (extra trees, Geurts et al. 2006).
 * The split with the best impurity decrease wins; ties keep the first
 * found. Absolute error (regression): leaves predict the weighted median,
 * splits minimise the children's summed absolute deviations (ranked.h);
 * it takes the exact and random splitters. Rows carry weights (sample weight x class weight x
 * bootstrap count). After growth, minimal cost-complexity pruning with ccp_alpha.
 *
 * Missing values (NaN; features flagged in has_missing), as scikit-learn's
 * trees since 1.4: each candidate split is tried with the node's missing
 * rows on the left and on the right, and also as "every present value left,
 * the missing right"; the better is kept (nodes' missing_left, with
 * missing_seen set). A split that saw no missing value sends them, at
 * prediction, to the child with more training rows (count), strictly more
 * on the left for left. Features without missing values run the plain code.
 *
 * Categorical features (n_levels[j] > 0, values level indices 0..L-1, L at
 * most 255): the node's present levels are ordered by their mean target
 * (regression), or by their share of the node's most frequent class
 * (classification: for two classes the optimal order, Breiman et al. 1984,
 * Fisher 1958; for more a heuristic), and every prefix of that order is a
 * candidate left set (random splitter: one prefix drawn at random). The
 * split stores the left set as a level set (threshold: its index in the
 * tree's sets, categorical set); levels absent from the node, and index L
 * (a level unseen in training), go to the child with more rows. */
#ifndef KILN_LEARN_CART_H
#define KILN_LEARN_CART_H

#include "learn/tree/bins.h"
#include "learn/tree/hist_tree.h"

enum { KN__CRIT_GINI, KN__CRIT_ENTROPY, KN__CRIT_SQUARED, KN__CRIT_ABSOLUTE };
enum { KN__SPLIT_EXACT, KN__SPLIT_BINNED, KN__SPLIT_RANDOM };

typedef struct kn__cart_params {
    int criterion, splitter;
    size_t max_depth; /* 0: no limit */
    size_t min_samples_split, min_samples_leaf;
    size_t max_features; /* features tried per node, 1..p */
    double min_impurity_decrease, ccp_alpha;
} kn__cart_params;

typedef struct kn__cart_data {
    size_t n, p;
    size_t k;                 /* classes; 0 for regression */
    const double *const *col; /* p columns of n raw values */
    const double *y;          /* class index or target, by row */
    const uint8_t *codes;     /* binned splitter: n x p codes (row-major) */
    const kn__bins *bins;
    const uint8_t *has_missing; /* p flags: the column holds NaN; or NULL (none does) */
    const size_t *n_levels;     /* p level counts (0: numeric), or NULL */
} kn__cart_data;

/* nodes[i].gain is the weighted impurity decrease of the split (for
 * importance); value holds width values per node: class shares
 * (classification, width k) or the weighted mean (width 1). */
typedef struct kn__cart_tree {
    kn__node *nodes;
    double *value;
    size_t n_nodes, width;
    kn__level_set *sets; /* of the categorical splits (their threshold indexes it) */
    size_t n_sets;
} kn__cart_tree;

/* Grows a tree on rows[0, m) (reordered in place) with weights w (by
 * row; rows of weight 0 should be left out), drawing features and random
 * thresholds from seed. */
kn_status kn__cart_grow(const kn__cart_data *d, const kn__cart_params *par, uint32_t *rows,
                        size_t m, const double *w, uint64_t seed, kn__cart_tree *out);
void kn__cart_tree_free(kn__cart_tree *t);

#endif
