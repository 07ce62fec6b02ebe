/* Tree models on the CART grower (cart.h): decision_tree, random_forest
 * (Breiman 2001: bootstrap rows, features drawn per node) and extra_trees
 * (Geurts et al. 2006: random thresholds, no bootstrap by default).
 *
 * Trees are grown in parallel (OpenMP), tree t from its own random stream
 * (seed, t), so the forest is the same whatever the thread count. The
 * forest predicts the mean of its trees (class shares, or values). With
 * oob_score, each row is predicted by the trees whose bootstrap left it
 * out, and the out-of-bag accuracy (or R^2) is reported and kept in the
 * fit summary. Importance: each tree's impurity decrease per feature,
 * normalised, averaged over trees (scikit-learn's feature_importances_).
 *
 * Missing values and categorical features are taken as they are (cart.h
 * says how trees split them). The model file holds the trees' nodes (a
 * split's missing_left is written only where missing values reached it in
 * training: missing_seen; elsewhere it is derived again on load, as the
 * side of the child with more rows) and, only when some split is
 * categorical, a section after the trees: u32 2 (its version), u64 the
 * number of level sets, then each set's four u64 words. Files without it
 * (every file before categorical splits) load as they are. */
#include "kiln/progress.h"
#include "core/ctx-impl.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/tree/cart.h"
#include "learn/tree/flat_forest.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct forest_params {
    int criterion, splitter;
    int64_t n_estimators, max_depth, min_samples_split, min_samples_leaf;
    double min_impurity_decrease, ccp_alpha;
    const char *max_features;
    const char *class_weight;
    int bootstrap, oob_score;
    double max_samples;
    int64_t max_bins, binned_from_rows, seed;
} forest_params;

enum { KIND_TREE, KIND_FOREST, KIND_EXTRA, KIND_BALANCED };

#define CRITERIA "gini|entropy|squared_error|absolute_error"
#define CRITERION_DOC                                                                              \
    "gini, entropy: classification; squared_error, absolute_error (median leaves): regression"
#define COMMON_DEFS(max_features_default, max_features_doc)                                        \
    KN_PARAM_INT(forest_params, max_depth, "0", 0, 100000, "depth at most (0: no limit)"),         \
        KN_PARAM_INT(forest_params, min_samples_split, "2", 2, 1e15,                               \
                     "rows a node needs to be split"),                                             \
        KN_PARAM_INT(forest_params, min_samples_leaf, "1", 1, 1e15, "rows per leaf at least"),     \
        KN_PARAM_DOUBLE(forest_params, min_impurity_decrease, "0", 0, 1e300,                       \
                        "a split must decrease the weighted impurity by at least this"),           \
        KN_PARAM_STRING(forest_params, max_features, max_features_default, max_features_doc),      \
        KN_PARAM_DOUBLE(forest_params, ccp_alpha, "0", 0, 1e300,                                   \
                        "minimal cost-complexity pruning: subtrees whose effective alpha is at "   \
                        "most this become leaves"),                                                \
        KN__CLASS_WEIGHT(forest_params),                                                           \
        KN_PARAM_INT(forest_params, seed, "0", 0, 1e15, "seed of the feature and row draws")

#define FEATURES_DOC                                                                               \
    "features tried per node: all, sqrt, log2, a count (3) or a share (0.5); auto: sqrt for "      \
    "classification, all for regression"

static const kn_param_def tree_defs[] = {
    KN_PARAM_ENUM(forest_params, criterion, "gini", CRITERIA, CRITERION_DOC),
    KN_PARAM_ENUM(forest_params, splitter, "best", "best|random",
                  "best: the best threshold of each feature; random: one drawn at random"),
    COMMON_DEFS("all", FEATURES_DOC),
    KN_PARAM_INT(forest_params, max_bins, "0", 0, 255,
                 "0: exact thresholds; 2..255: thresholds between quantile bins only"),
    KN_PARAM_END};

#define FOREST_DEFS(bootstrap_default)                                                             \
    KN_PARAM_INT(forest_params, n_estimators, "100", 1, 1000000, "trees"),                         \
        KN_PARAM_ENUM(forest_params, criterion, "gini", CRITERIA, CRITERION_DOC),                  \
        COMMON_DEFS("auto", FEATURES_DOC),                                                         \
        KN_PARAM_BOOL(forest_params, bootstrap, bootstrap_default,                                 \
                      "grow each tree on a bootstrap sample of the rows"),                         \
        KN_PARAM_DOUBLE(forest_params, max_samples, "1", 1e-9, 1,                                  \
                        "bootstrap sample size as a share of the rows"),                           \
        KN_PARAM_BOOL(forest_params, oob_score, "false",                                           \
                      "score each row with the trees that did not see it (needs bootstrap)")

static const kn_param_def forest_defs[] = {
    FOREST_DEFS("true"),
    KN_PARAM_INT(forest_params, max_bins, "255", 0, 255,
                 "thresholds between at most this many quantile bins per feature (fast); 0: "
                 "exact thresholds between distinct values (scikit-learn's)"),
    KN_PARAM_INT(forest_params, binned_from_rows, "20000", 0, 1e15,
                 "bins are used from this many rows on; smaller data gets exact thresholds "
                 "(cheap there, and a little more accurate)"),
    KN_PARAM_END};

/* thresholds are drawn at random: no bins */
static const kn_param_def extra_defs[] = {FOREST_DEFS("false"), KN_PARAM_END};

typedef struct forest_state {
    size_t p, k, width; /* features; classes (0: regression); values per node */
    size_t n_trees;
    size_t *offset; /* n_trees + 1 */
    kn__node *nodes;
    double *value;       /* width per node */
    kn__level_set *sets; /* of the categorical splits: their threshold indexes it */
    size_t n_sets;
    int has_oob;
    double oob_score;
    kn__flat_forest flat; /* empty when a tree is too deep to flatten */
} forest_state;

static void forest_free(void *v)
{
    forest_state *s = v;
    if (!s) return;
    kn_free(s->offset);
    kn_free(s->nodes);
    kn_free(s->value);
    kn_free(s->sets);
    kn__flat_free(&s->flat);
    kn_free(s);
}

static kn_task forest_task(const kn_model *m)
{
    const forest_params *par = kn_model_params(m);
    return par->criterion >= KN__CRIT_SQUARED ? KN_TASK_REGRESSION : KN_TASK_CLASSIFICATION;
}

/* max_features as a count in 1..p. */
static kn_status features_per_node(const char *spec, int kind, int regression, size_t p,
                                   size_t *out)
{
    double v = 0;
    char *end = NULL;
    if (!strcmp(spec, "auto")) spec = kind == KIND_TREE || regression ? "all" : "sqrt";
    if (!strcmp(spec, "all"))
        v = (double)p;
    else if (!strcmp(spec, "sqrt"))
        v = floor(sqrt((double)p));
    else if (!strcmp(spec, "log2"))
        v = floor(log2((double)p));
    else {
        v = strtod(spec, &end);
        if (!*spec || *end || !(v > 0) || (strchr(spec, '.') && v > 1) ||
            (!strchr(spec, '.') && (v != floor(v) || v > (double)p)))
            return kn_fail(KN_ERR_INVALID,
                           "max_features=%s: give all, sqrt, log2, a count from 1 to %zu, or "
                           "a share in (0, 1] such as 0.5",
                           spec, p);
        if (strchr(spec, '.')) v = floor(v * (double)p);
    }
    *out = v < 1 ? 1 : (size_t)v;
    return KN_OK;
}

/* The leaf row i reaches in tree t, reading feature j at col[j][i]. */
static size_t leaf_of(const forest_state *s, size_t t, const double *const *col, size_t i)
{
    return s->offset[t] + (size_t)kn__tree_leaf_raw(s->nodes + s->offset[t], s->sets, col, i);
}

typedef struct fit_ctx {
    const char *name; /* the model's, for progress */
    const forest_params *par;
    const kn_dataset *d;
    const kn__cart_data *cd;
    const kn__cart_params *cp;
    const double *base_w; /* sample weight x class weight */
    size_t n_draw;        /* bootstrap draws per tree; 0: no bootstrap */
    kn__cart_tree *trees;
    uint8_t *out_of_bag; /* n_trees x ceil(n / 8) bits, with oob_score */
    /* balanced_random_forest: the rows of class c are by_class[start[c] ..
     * start[c + 1]); each tree draws n_min of each class */
    const uint32_t *by_class;
    const size_t *start;
    size_t n_min;
} fit_ctx;

/* A class-balanced draw (imbalanced-learn's BalancedRandomForestClassifier):
 * n_min rows of each class without replacement, then (bootstrap) a
 * bootstrap of max_samples x those rows; count[i] = copies of row i. tmp
 * and sel hold n rows. */
static void balanced_draw(const fit_ctx *c, kn_rng *rng, uint32_t *count, uint32_t *tmp,
                          uint32_t *sel)
{
    size_t m = 0, k = c->d->n_classes;
    memset(count, 0, c->d->n * sizeof *count);
    for (size_t cl = 0; cl < k; cl++) {
        size_t nc = c->start[cl + 1] - c->start[cl];
        memcpy(tmp, c->by_class + c->start[cl], nc * sizeof *tmp);
        for (size_t r = 0; r < c->n_min; r++) { /* the first n_min of a shuffle */
            size_t j = r + (size_t)kn_rng_below(rng, nc - r);
            uint32_t v = tmp[r];
            tmp[r] = tmp[j];
            tmp[j] = v;
            sel[m++] = tmp[r];
        }
    }
    if (!c->par->bootstrap) {
        for (size_t i = 0; i < m; i++) count[sel[i]] = 1;
        return;
    }
    size_t draws = (size_t)fmax(1, round(c->par->max_samples * (double)m));
    for (size_t i = 0; i < draws; i++) count[sel[kn_rng_below(rng, m)]]++;
}

/* Tree t: its rows and weights, then the grower. */
static kn_status grow_one(const fit_ctx *c, size_t t, uint32_t *rows, double *w, uint32_t *count,
                          uint32_t *sel)
{
    size_t n = c->d->n, m = 0;
    kn_rng rng;
    kn_rng_init_stream(&rng, (uint64_t)c->par->seed, 2 * t);
    if (c->by_class)
        balanced_draw(c, &rng, count, rows, sel);
    else if (c->n_draw) {
        memset(count, 0, n * sizeof *count);
        for (size_t i = 0; i < c->n_draw; i++) count[kn_rng_below(&rng, n)]++;
    }
    for (size_t i = 0; i < n; i++) {
        double wi = c->base_w[i] * (c->n_draw || c->by_class ? count[i] : 1);
        if (c->out_of_bag && !count[i]) c->out_of_bag[t * ((n + 7) / 8) + i / 8] |= 1u << (i % 8);
        if (!(wi > 0)) continue;
        w[i] = wi;
        rows[m++] = (uint32_t)i;
    }
    if (m == 0) return kn_fail(KN_ERR_INVALID, "tree %zu: no rows of positive weight", t + 1);
    return kn__cart_grow(c->cd, c->cp, rows, m, w, kn_rng_next(&rng), &c->trees[t]);
}

static kn_status grow_all(const fit_ctx *c, size_t n_trees)
{
    size_t n = c->d->n;
    kn_status first = KN_OK;
    int failed = 0;
    size_t next = 0;
    kn_progress progress;
    kn_progress_begin(&progress, c->name, "tree", n_trees);
    kn_ctx *ctx = kn_ctx_current(); /* the trees grow in the caller's context */
#pragma omp parallel if (n_trees > 1)
    {
        kn_ctx *prev = kn__ctx_swap(ctx);
        uint32_t *rows = kn_malloc(n * sizeof *rows), *count = kn_malloc(n * sizeof *count);
        double *w = kn_malloc(n * sizeof *w);
        uint32_t *sel = c->by_class ? kn_malloc(n * sizeof *sel) : NULL;
        /* trees handed out one at a time (as schedule(dynamic, 1) would),
         * but a failure or cancellation ends the loop at once instead of
         * skipping every tree left */
        for (;;) {
            size_t t;
            int stop;
#pragma omp atomic capture
            t = next++;
#pragma omp atomic read
            stop = failed;
            if (stop || t >= n_trees) break;
            kn_status e = kn_ctx_check();
            if (e == KN_OK)
                e = rows && count && w && (sel || !c->by_class)
                        ? grow_one(c, t, rows, w, count, sel)
                        : KN_ERR_NOMEM;
            kn_progress_step(&progress, 1);
            if (e != KN_OK) {
#pragma omp critical(forest_fail)
                {
                    if (!failed) first = e;
                    failed = 1;
                }
            }
        }
        kn_free(rows), kn_free(count), kn_free(w), kn_free(sel);
        kn__ctx_swap(prev);
    }
    kn_progress_end(&progress);
    /* a worker's message stays on its thread: say here why the trees stopped */
    if (first == KN_ERR_CANCELLED) return kn_ctx_check();
    return first;
}

/* Out-of-bag score: accuracy or R^2 over the rows some tree left out. */
static kn_status out_of_bag(forest_state *s, const fit_ctx *c)
{
    const kn_dataset *d = c->d;
    size_t n = d->n, W = s->width, bytes = (n + 7) / 8, scored = 0;
    double *acc = kn_calloc(n * W, sizeof *acc), *pred = kn_malloc(n * sizeof *pred);
    uint32_t *votes = kn_calloc(n, sizeof *votes);
    kn_status e = acc && pred && votes ? KN_OK : KN_ERR_NOMEM;
    const double *const *col = c->cd->col;
    if (e == KN_OK) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < s->n_trees; t++) {
                if (!(c->out_of_bag[t * bytes + i / 8] >> (i % 8) & 1)) continue;
                size_t leaf = leaf_of(s, t, col, i);
                for (size_t v = 0; v < W; v++) acc[i * W + v] += s->value[leaf * W + v];
                votes[i]++;
            }
        double hits = 0, ss_res = 0, ss_tot = 0, mean = 0;
        for (size_t i = 0; i < n; i++)
            if (votes[i]) {
                scored++;
                mean += d->y[i];
            }
        mean = scored ? mean / (double)scored : 0;
        for (size_t i = 0; i < n; i++) {
            if (!votes[i]) continue;
            if (s->k) {
                kn__argmax_rows(acc + i * W, 1, W, &pred[i]);
                hits += pred[i] == d->y[i];
            } else {
                double r = acc[i] / votes[i] - d->y[i];
                ss_res += r * r;
                ss_tot += (d->y[i] - mean) * (d->y[i] - mean);
            }
        }
        if (scored == 0)
            kn_log(KN_LOG_WARN, "oob_score: every row was in every bootstrap sample; use more "
                                "trees");
        else {
            s->has_oob = 1;
            s->oob_score = s->k ? hits / (double)scored : 1 - ss_res / ss_tot;
            kn_log(KN_LOG_INFO, "out-of-bag %s %.6f over %zu rows", s->k ? "accuracy" : "R^2",
                   s->oob_score, scored);
        }
    }
    kn_free(acc), kn_free(pred), kn_free(votes);
    return e;
}

/* The trees' nodes and values gathered into the state. */
static kn_status gather(forest_state *s, kn__cart_tree *trees, size_t n_trees)
{
    size_t total = 0;
    s->offset = kn_malloc((n_trees + 1) * sizeof *s->offset);
    if (!s->offset) return KN_ERR_NOMEM;
    for (size_t t = 0; t < n_trees; t++) {
        s->offset[t] = total;
        total += trees[t].n_nodes;
    }
    s->offset[n_trees] = total;
    s->n_trees = n_trees;
    s->nodes = kn_malloc(total * sizeof *s->nodes);
    s->value = kn_malloc(total * s->width * sizeof *s->value);
    if (!s->nodes || !s->value) return KN_ERR_NOMEM;
    size_t n_sets = 0;
    for (size_t t = 0; t < n_trees; t++) n_sets += trees[t].n_sets;
    if (n_sets && !(s->sets = kn_malloc(n_sets * sizeof *s->sets))) return KN_ERR_NOMEM;
    for (size_t t = 0; t < n_trees; t++) {
        kn__node *nd = s->nodes + s->offset[t];
        memcpy(nd, trees[t].nodes, trees[t].n_nodes * sizeof *s->nodes);
        memcpy(s->value + s->offset[t] * s->width, trees[t].value,
               trees[t].n_nodes * s->width * sizeof *s->value);
        if (!trees[t].n_sets) continue; /* the tree's level sets join the forest's */
        memcpy(s->sets + s->n_sets, trees[t].sets, trees[t].n_sets * sizeof *s->sets);
        for (size_t i = 0; i < trees[t].n_nodes; i++)
            if (nd[i].feature >= 0 && nd[i].categorical) nd[i].threshold += (double)s->n_sets;
        s->n_sets += trees[t].n_sets;
    }
    return KN_OK;
}

/* The flat layout, unless a tree is deeper than it allows or a split is
 * categorical (prediction then walks the nodes). */
static kn_status flatten(forest_state *s)
{
    if (s->n_sets) return KN_OK;
    kn_status e = kn__flat_build(&s->flat, s->nodes, s->offset, s->n_trees, s->value, s->width, 1);
    if (e == KN_ERR_INVALID) {
        kn_clear_error();
        return KN_OK;
    }
    return e;
}

/* Which feature columns hold missing values (*out NULL when none does);
 * categorical features must have at most KN__MAX_BINS levels (a level set
 * holds them and the index of an unseen one). */
static kn_status scan_columns(const kn_model *m, const kn_dataset *d, const double *const *col,
                              uint8_t **out)
{
    size_t n = d->n, p = d->p;
    int any = 0;
    *out = NULL;
    for (size_t j = 0; d->n_levels && j < p; j++)
        if (d->n_levels[j] > KN__MAX_BINS)
            return kn_fail(KN_ERR_INVALID,
                           "%s: categorical feature '%s' has %zu levels; trees split at most %d "
                           "(group the rare levels, or encode it, e.g. the step "
                           "target_encoder)",
                           kn_model_name(m), d->names[j], d->n_levels[j], KN__MAX_BINS);
    uint8_t *hm = kn_calloc(p ? p : 1, 1);
    if (!hm) return KN_ERR_NOMEM;
    for (size_t j = 0; j < p; j++) {
        if (d->n_levels && d->n_levels[j]) continue; /* (their missing values: any level set) */
        int miss = 0;
        for (size_t i = 0; i < n; i++) miss |= col[j][i] != col[j][i];
        hm[j] = (uint8_t)miss;
        any |= miss;
    }
    if (any)
        *out = hm;
    else
        kn_free(hm);
    return KN_OK;
}

static kn_status forest_fit_kind(kn_model *m, const kn_dataset *d, int kind)
{
    const forest_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, k = forest_task(m) == KN_TASK_CLASSIFICATION ? d->n_classes : 0;
    if (n > UINT32_MAX)
        return kn_fail(KN_ERR_INVALID, "%s: at most 2^32 - 1 rows", kn_model_name(m));
    int bootstrap = kind != KIND_TREE && par->bootstrap; /* (forest_validate: oob needs it) */
    kn__cart_params cp = {.criterion = par->criterion,
                          .splitter = kind == KIND_EXTRA                   ? KN__SPLIT_RANDOM
                                      : kind == KIND_TREE && par->splitter ? KN__SPLIT_RANDOM
                                      : par->max_bins && n >= (size_t)par->binned_from_rows &&
                                              par->criterion != KN__CRIT_ABSOLUTE
                                          ? KN__SPLIT_BINNED
                                          : KN__SPLIT_EXACT,
                          .max_depth = (size_t)par->max_depth,
                          .min_samples_split = (size_t)par->min_samples_split,
                          .min_samples_leaf = (size_t)par->min_samples_leaf,
                          .min_impurity_decrease = par->min_impurity_decrease,
                          .ccp_alpha = par->ccp_alpha};
    kn_status e = features_per_node(par->max_features, kind, k == 0, p, &cp.max_features);
    if (e != KN_OK) return e;
    size_t n_trees = kind == KIND_TREE ? 1 : (size_t)par->n_estimators;
    forest_state *s = kn_calloc(1, sizeof *s);
    double *base_w = kn_malloc((n ? n : 1) * sizeof *base_w);
    const double **col = kn_malloc((p ? p : 1) * sizeof *col);
    kn__cart_tree *trees = kn_calloc(n_trees, sizeof *trees);
    uint8_t *codes = NULL, *oob = NULL, *has_missing = NULL;
    kn__bins bins = {0};
    if (!s || !base_w || !col || !trees) e = KN_ERR_NOMEM;
    if (e == KN_OK) {
        s->p = p;
        s->k = k;
        s->width = k ? k : 1;
        for (size_t j = 0; j < p; j++) col[j] = kn_dataset_column(d, j);
        e = kn__row_weights(d, k ? par->class_weight : NULL, 1, base_w);
    }
    if (e == KN_OK) e = scan_columns(m, d, col, &has_missing);
    if (e == KN_OK && cp.splitter == KN__SPLIT_BINNED) {
        e = kn__bins_fit(&bins, d, (size_t)par->max_bins, 200000, (uint64_t)par->seed);
        if (e == KN_OK) e = kn__bins_apply(&bins, d, &codes);
    }
    if (e == KN_OK && par->oob_score && !(oob = kn_calloc(n_trees * ((n + 7) / 8), 1)))
        e = KN_ERR_NOMEM;
    kn__cart_data cd = {.n = n,
                        .p = p,
                        .k = k,
                        .col = col,
                        .y = d->y,
                        .codes = codes,
                        .bins = &bins,
                        .has_missing = has_missing,
                        .n_levels = d->n_levels};
    fit_ctx c = {.name = kn_model_name(m),
                 .par = par,
                 .d = d,
                 .cd = &cd,
                 .cp = &cp,
                 .base_w = base_w,
                 .n_draw = bootstrap ? (size_t)fmax(1, round(par->max_samples * (double)n)) : 0,
                 .trees = trees,
                 .out_of_bag = oob};
    uint32_t *by_class = NULL;
    size_t *start = NULL;
    if (e == KN_OK && kind == KIND_BALANCED && k < 2)
        e = kn_fail(KN_ERR_INVALID,
                    "%s balances classes: it needs a class target and a classification "
                    "criterion (gini or entropy)",
                    kn_model_name(m));
    if (e == KN_OK && kind == KIND_BALANCED) e = kn__class_rows(d, k, &by_class, &start, &c.n_min);
    c.by_class = by_class;
    c.start = start;
    if (e == KN_OK) e = grow_all(&c, n_trees);
    kn_free(by_class), kn_free(start);
    if (e == KN_OK) e = gather(s, trees, n_trees);
    if (e == KN_OK && oob) e = out_of_bag(s, &c);
    if (e == KN_OK) e = flatten(s);
    for (size_t t = 0; trees && t < n_trees; t++) kn__cart_tree_free(&trees[t]);
    kn_free(trees), kn_free(base_w), kn_free(col), kn_free(codes), kn_free(oob);
    kn_free(has_missing);
    kn__bins_free(&bins);
    if (e != KN_OK) {
        forest_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status tree_fit(kn_model *m, const kn_dataset *d)
{
    return forest_fit_kind(m, d, KIND_TREE);
}

static kn_status random_forest_fit(kn_model *m, const kn_dataset *d)
{
    return forest_fit_kind(m, d, KIND_FOREST);
}

static kn_status extra_trees_fit(kn_model *m, const kn_dataset *d)
{
    return forest_fit_kind(m, d, KIND_EXTRA);
}

static kn_status balanced_forest_fit(kn_model *m, const kn_dataset *d)
{
    return forest_fit_kind(m, d, KIND_BALANCED);
}

/* The mean of the trees' values: n x width, row-major. */
static kn_status mean_values(const forest_state *s, const kn_dataset *d, double *out)
{
    size_t n = d->n, W = s->width;
    const double **col = kn_malloc((s->p ? s->p : 1) * sizeof *col);
    double *sum = kn_calloc(n ? n * W : 1, sizeof *sum);
    kn_status e = col && sum ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < s->p; j++) col[j] = kn_dataset_column(d, j);
    if (e == KN_OK && s->flat.n_trees)
        e = kn__flat_predict(&s->flat, col, s->p, n, sum); /* column-major */
    else if (e == KN_OK) {
#pragma omp parallel for schedule(static) if (n * s->n_trees > 100000)
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < s->n_trees; t++) {
                size_t leaf = leaf_of(s, t, col, i);
                for (size_t v = 0; v < W; v++) sum[v * n + i] += s->value[leaf * W + v];
            }
    }
    for (size_t i = 0; e == KN_OK && i < n; i++)
        for (size_t v = 0; v < W; v++) out[i * W + v] = sum[v * n + i] / (double)s->n_trees;
    kn_free(col), kn_free(sum);
    return e;
}

static kn_status forest_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const forest_state *s = kn_model_state(m);
    if (!s->k)
        return kn_fail(KN_ERR_UNSUPPORTED, "%s: a regression tree gives no probabilities",
                       kn_model_name(m));
    return mean_values(s, d, out);
}

static kn_status forest_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const forest_state *s = kn_model_state(m);
    if (!s->k) return mean_values(s, d, out);
    double *pr = kn_malloc((d->n ? d->n * s->k : 1) * sizeof *pr);
    kn_status e = pr ? mean_values(s, d, pr) : KN_ERR_NOMEM;
    if (e == KN_OK) kn__argmax_rows(pr, d->n, s->k, out);
    kn_free(pr);
    return e;
}

/* Impurity importance: per tree the decrease per feature over the total,
 * averaged over trees, normalised to sum 1. */
static kn_status forest_importance(const kn_model *m, double *out)
{
    const forest_state *s = kn_model_state(m);
    double *one = kn_malloc((s->p ? s->p : 1) * sizeof *one);
    if (!one) return KN_ERR_NOMEM;
    memset(out, 0, s->p * sizeof *out);
    for (size_t t = 0; t < s->n_trees; t++) {
        double total = 0;
        memset(one, 0, s->p * sizeof *one);
        for (size_t i = s->offset[t]; i < s->offset[t + 1]; i++)
            if (s->nodes[i].feature >= 0) {
                one[s->nodes[i].feature] += s->nodes[i].gain;
                total += s->nodes[i].gain;
            }
        for (size_t j = 0; total > 0 && j < s->p; j++) out[j] += one[j] / total;
    }
    double sum = 0;
    for (size_t j = 0; j < s->p; j++) sum += out[j];
    for (size_t j = 0; sum > 0 && j < s->p; j++) out[j] /= sum;
    kn_free(one);
    return KN_OK;
}

static kn_status forest_summary(const kn_model *m, kn_fit_summary *out)
{
    const forest_state *s = kn_model_state(m);
    size_t nodes = s->offset[s->n_trees], leaves = 0;
    for (size_t i = 0; i < nodes; i++) leaves += s->nodes[i].feature < 0;
    out->n_stats = 0;
    out->stat_name[out->n_stats] = "trees";
    out->stat[out->n_stats++] = (double)s->n_trees;
    out->stat_name[out->n_stats] = "leaves";
    out->stat[out->n_stats++] = (double)leaves;
    if (s->has_oob) {
        out->stat_name[out->n_stats] = s->k ? "oob_accuracy" : "oob_r2";
        out->stat[out->n_stats++] = s->oob_score;
    }
    return KN_OK;
}

static kn_status forest_save(const kn_model *m, kn_wbuf *w)
{
    const forest_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u64(w, s->n_trees);
    kn_wbuf_u32(w, (uint32_t)s->has_oob);
    kn_wbuf_f64(w, s->oob_score);
    for (size_t t = 0; t < s->n_trees; t++) {
        kn_wbuf_u64(w, s->offset[t + 1] - s->offset[t]);
        for (size_t i = s->offset[t]; i < s->offset[t + 1]; i++) {
            kn__node nd = s->nodes[i]; /* missing_left is derived where none were seen */
            if (!nd.missing_seen) nd.missing_left = 0;
            kn__node_write(w, &nd);
        }
        kn_wbuf_f64s(w, s->value + s->offset[t] * s->width,
                     (s->offset[t + 1] - s->offset[t]) * s->width);
    }
    if (s->n_sets) { /* the level sets' section (version 2) */
        kn_wbuf_u32(w, 2);
        kn_wbuf_u64(w, s->n_sets);
        for (size_t i = 0; i < s->n_sets; i++)
            for (int b = 0; b < 4; b++) kn_wbuf_u64(w, s->sets[i].bits[b]);
    }
    return KN_OK;
}

/* After loading: the level sets' section, if any; each categorical split
 * checked against it and its feature. */
static kn_status load_sets(const kn_model *m, kn_rbuf *r, forest_state *s)
{
    uint32_t version = 0;
    uint64_t n_sets = 0;
    kn_status e = KN_OK;
    if (kn_rbuf_left(r)) {
        e = kn_rbuf_u32(r, &version);
        if (e == KN_OK && version != 2)
            return kn_fail(KN_ERR_VERSION,
                           "%s: tree section version %u is newer than this kiln reads (2); "
                           "upgrade kiln",
                           r->what, version);
        if (e == KN_OK) e = kn_rbuf_u64(r, &n_sets);
        if (e == KN_OK && (n_sets == 0 || n_sets > kn_rbuf_left(r) / 32))
            e = kn_fail(KN_ERR_CORRUPT, "%s: bad count of level sets", r->what);
        if (e == KN_OK && !(s->sets = kn_malloc(n_sets * sizeof *s->sets))) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < n_sets; i++)
            for (int b = 0; e == KN_OK && b < 4; b++) e = kn_rbuf_u64(r, &s->sets[i].bits[b]);
        if (e != KN_OK) return e;
        s->n_sets = (size_t)n_sets;
    }
    for (size_t i = 0; i < s->offset[s->n_trees]; i++) {
        kn__node *nd = &s->nodes[i];
        if (nd->feature < 0) continue;
        size_t L = kn_model_feature_levels(m, (size_t)nd->feature);
        if (nd->categorical &&
            (!(nd->threshold >= 0 && nd->threshold < (double)s->n_sets) ||
             nd->threshold != floor(nd->threshold) || L == 0 || L > KN__MAX_BINS))
            return kn_fail(KN_ERR_CORRUPT, "%s: a categorical split without its level set",
                           r->what);
        if (!nd->categorical && L)
            return kn_fail(KN_ERR_CORRUPT, "%s: a threshold split on categorical feature %d",
                           r->what, nd->feature + 1);
    }
    return KN_OK;
}

static kn_status forest_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p = 0, k = 0, n_trees = 0;
    uint32_t has_oob = 0;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u64(r, &n_trees);
    if (e == KN_OK) e = kn_rbuf_u32(r, &has_oob);
    if (e != KN_OK) return e;
    /* k sizes every prediction row; it must be the model's class count (0:
     * regression), as predict_proba's output is sized from that. */
    if (p != kn_model_n_features(m) || k != kn_model_n_classes(m) || has_oob > 1 ||
        n_trees > kn_rbuf_left(r) / KN__NODE_BYTES)
        return kn_fail(KN_ERR_CORRUPT, "%s: bad tree model header", r->what);
    forest_state *s = kn_calloc(1, sizeof *s);
    kn__cart_tree *trees = kn_calloc(n_trees ? n_trees : 1, sizeof *trees);
    e = s && trees ? kn_rbuf_f64(r, &s->oob_score) : KN_ERR_NOMEM;
    if (s) {
        s->p = (size_t)p;
        s->k = (size_t)k;
        s->width = k ? (size_t)k : 1;
        s->has_oob = (int)has_oob;
    }
    for (size_t t = 0; e == KN_OK && t < n_trees; t++) {
        size_t nn = 0;
        e = kn_rbuf_count(r, KN__NODE_BYTES + 8 * s->width, &nn);
        if (e == KN_OK && nn == 0) e = kn_fail(KN_ERR_CORRUPT, "%s: an empty tree", r->what);
        if (e != KN_OK) break;
        trees[t].n_nodes = nn;
        trees[t].nodes = kn_calloc(nn, sizeof *trees[t].nodes);
        trees[t].value = kn_malloc(nn * s->width * sizeof *trees[t].value);
        if (!trees[t].nodes || !trees[t].value) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < nn; i++) e = kn__node_read(r, &trees[t].nodes[i]);
        for (size_t v = 0; e == KN_OK && v < nn * s->width; v++)
            e = kn_rbuf_f64(r, &trees[t].value[v]);
        if (e == KN_OK) e = kn__tree_check(r, trees[t].nodes, nn, s->p);
        for (size_t i = 0; e == KN_OK && i < nn; i++) { /* where no missing value was seen */
            kn__node *nd = &trees[t].nodes[i];
            if (nd->feature >= 0 && !nd->missing_seen)
                nd->missing_left =
                    trees[t].nodes[nd->left].count > trees[t].nodes[nd->left + 1].count;
        }
    }
    if (e == KN_OK) e = gather(s, trees, (size_t)n_trees);
    if (e == KN_OK) e = load_sets(m, r, s);
    if (e == KN_OK) e = flatten(s);
    for (size_t t = 0; trees && t < n_trees; t++) kn__cart_tree_free(&trees[t]);
    kn_free(trees);
    if (e != KN_OK) {
        forest_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* Rules across parameters, before any work (a decision tree has neither
 * parameter: both stay false). */
static kn_status forest_validate(const void *params)
{
    const forest_params *par = params;
    if (par->oob_score && !par->bootstrap)
        return kn_fail(KN_ERR_INVALID,
                       "oob_score=true needs bootstrap=true (out-of-bag rows exist only when "
                       "each tree draws a bootstrap sample)");
    return KN_OK;
}

#define TREE_VT(fit_fn)                                                                            \
    {                                                                                              \
        .task = KN_TASK_CLASSIFICATION, .fit = fit_fn, .predict = forest_predict,                  \
        .predict_proba = forest_proba, .free_state = forest_free, .save = forest_save,             \
        .load = forest_load, .importances = forest_importance, .summary = forest_summary,          \
        .flags = KN_MODEL_READS_COLUMNS | KN_MODEL_TAKES_MISSING | KN_MODEL_TAKES_CATEGORICAL |    \
                 KN_MODEL_UNSEEN_LEVEL,                                                            \
        .task_of = forest_task, .task_param = "criterion", .classify_value = "gini",               \
        .regress_value = "squared_error", .validate = forest_validate                              \
    }

static const kn_model_vt tree_vt = TREE_VT(tree_fit);
static const kn_model_vt random_forest_vt = TREE_VT(random_forest_fit);
static const kn_model_vt extra_trees_vt = TREE_VT(extra_trees_fit);
/* a classifier only: no task parameter follows the target */
static const kn_model_vt balanced_forest_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = balanced_forest_fit,
    .predict = forest_predict,
    .predict_proba = forest_proba,
    .free_state = forest_free,
    .save = forest_save,
    .load = forest_load,
    .importances = forest_importance,
    .summary = forest_summary,
    .flags = KN_MODEL_READS_COLUMNS | KN_MODEL_TAKES_MISSING | KN_MODEL_TAKES_CATEGORICAL |
             KN_MODEL_UNSEEN_LEVEL,
    .validate = forest_validate};

const kn_component kn__decision_tree = {
    KN_COMP_MODEL,
    "decision_tree",
    "CART decision tree (gini, entropy or squared error; exact splits; cost-complexity "
    "pruning; missing values and text columns native)",
    tree_defs,
    sizeof(forest_params),
    &tree_vt};

const kn_component kn__random_forest = {
    KN_COMP_MODEL,
    "random_forest",
    "random forest: bootstrap trees on binned or exact splits, out-of-bag score; missing "
    "values and text columns native",
    forest_defs,
    sizeof(forest_params),
    &random_forest_vt};

const kn_component kn__extra_trees = {
    KN_COMP_MODEL,
    "extra_trees",
    "extremely randomised trees: random thresholds, all rows; missing values and text "
    "columns native",
    extra_defs,
    sizeof(forest_params),
    &extra_trees_vt};

const kn_component kn__balanced_random_forest = {
    KN_COMP_MODEL,
    "balanced_random_forest",
    "random forest for imbalanced classes: each tree on a class-balanced draw (every class "
    "under-sampled to the smallest, then bootstrapped)",
    forest_defs,
    sizeof(forest_params),
    &balanced_forest_vt};
