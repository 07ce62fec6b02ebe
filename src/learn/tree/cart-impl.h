/* The CART grower's shared parts (cart.c grows and prunes, cart_split.c
 * finds a node's best split): its types and limits. */
#ifndef KILN_CART_IMPL_H
#define KILN_CART_IMPL_H

#include "kiln/rng.h"
#include "learn/tree/cart.h"
#include "learn/tree/ranked.h"

/* Values closer than this count as equal (the exact splitter's candidate
 * boundaries, and constant features), as scikit-learn's trees do. */
#define FEATURE_EPS 1e-7
/* Below this many rows a binned node sorts its codes instead of filling
 * a 255-bin histogram. */
#define SMALL_NODE 32

typedef struct keyed {
    double key;
    uint32_t row;
} keyed;

/* A node waiting to be split. */
typedef struct pending {
    int32_t node;
    uint32_t begin, end, depth;
} pending;

/* How a split treats missing values: none reached it, or they go right
 * or left. */
enum { MISS_NONE, MISS_RIGHT, MISS_LEFT };
/* What the sorted keys are: raw values, bin codes, or positions of levels
 * in the node's order. */
enum { KEY_EXACT, KEY_BINNED, KEY_LEVEL };

typedef struct best_split {
    double proxy, threshold;
    int32_t feature; /* -1: none */
    uint8_t bin, miss, categorical;
    kn__level_set set, present; /* categorical: the left levels, the node's levels */
} best_split;

typedef struct grower {
    const kn__cart_data *d;
    const kn__cart_params *par;
    const double *w;
    uint32_t *rows;
    size_t S; /* stats per row set: [0] weight, then k class weights or sum w y */
    kn_rng rng;
    /* the tree */
    kn__node *nodes;
    double *value, *imp, *wsum; /* per node: values, impurity, weight */
    size_t n_nodes, cap;
    pending *stack;
    size_t n_stack;
    /* scratch */
    keyed *sorted;
    double *total, *left, *hist;
    uint32_t *hist_n;
    size_t *feat;
    /* absolute error: the node's rows ranked by target */
    kn__ranked ranked;
    uint32_t *rank_of; /* by row */
    /* exact splits of large nodes: radix-sort scratch (2 m each) */
    uint64_t *rkeys;
    uint32_t *rrows;
    /* missing values: the node's missing rows of a feature, their stats */
    uint32_t *miss;
    double *miss_st;
    /* categorical features: stats and rows per level, each level's place */
    double *lvl;
    uint32_t *lvl_n, *lvl_pos;
    /* the level sets of the tree's categorical splits */
    kn__level_set *sets;
    size_t n_sets, cap_sets;
} grower;

/* The best split of rows[b0, e0) over features drawn at random: at least
 * max_features of them, and more while every one drawn was constant. */
best_split kn__cart_find_split(grower *g, uint32_t b0, uint32_t e0);
/* The impurity of rows[b, e), their stats into st; for the absolute error
 * criterion also their weighted median into *median (else untouched). */
double kn__cart_node_impurity(grower *g, uint32_t b, uint32_t e, double *st, double *median);

#endif
