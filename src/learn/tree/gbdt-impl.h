/* The gradient-boosting model's shared parts (gbdt.c fits and predicts,
 * gbdt_state.c keeps the fitted trees: appending, importances, encoding). */
#ifndef KILN_GBDT_IMPL_H
#define KILN_GBDT_IMPL_H

#include "kiln/model.h"
#include "learn/tree/flat_forest.h"
#include "learn/tree/hist_tree.h"

typedef struct gbdt_params {
    int objective;
    double huber_quantile;
    int64_t n_estimators;
    double learning_rate;
    int64_t max_leaves, max_depth, min_samples_leaf;
    double min_child_weight, l2, l1, min_split_gain, max_delta_step;
    int64_t max_bins;
    double subsample, colsample;
    int64_t early_stopping_rounds;
    double validation_fraction, tol;
    const char *class_weight;
    int64_t seed;
    int importance;
    int64_t predict_rounds;
    const char *monotone;
} gbdt_params;

enum { OBJ_LOG_LOSS, OBJ_SQUARED, OBJ_POISSON, OBJ_ABSOLUTE, OBJ_HUBER };

typedef struct gbdt_state {
    size_t p, k; /* features; trees per round (1, or the classes) */
    int objective;
    double *init;   /* k initial raw scores */
    size_t n_trees; /* rounds x k, round-major */
    size_t *offset; /* n_trees + 1 offsets into nodes */
    kn__node *nodes;
    size_t rounds;
    kn__level_set *sets; /* of every categorical split, indexed by its threshold */
    size_t n_sets;
    kn__flat_forest flat; /* the trees laid out for prediction (without categorical splits) */
} gbdt_state;

/* The state's vtable parts: free, importances, encode and decode. */
void kn__gbdt_free(void *v);
kn_status kn__gbdt_importance(const kn_model *m, double *out);
kn_status kn__gbdt_save(const kn_model *m, kn_wbuf *w);
kn_status kn__gbdt_load(kn_model *m, kn_rbuf *r);
/* Appends a tree's nodes (and its level sets) to the state; *node_cap is
 * the nodes array's capacity. */
kn_status kn__gbdt_add_tree(gbdt_state *s, size_t *node_cap, const kn__tree_out *t);

#endif
