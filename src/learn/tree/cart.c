/* The CART grower (cart.h): nodes split depth-first, then pruned by cost
 * complexity; split search in cart_split.c. */
#include "learn/tree/cart-impl.h"

#include "kiln/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* partition on a categorical feature or one with missing values. */
static uint32_t partition_general(grower *g, uint32_t b0, uint32_t e0, const best_split *s)
{
    size_t j = (size_t)s->feature, p = g->d->p;
    int binned = g->par->splitter == KN__SPLIT_BINNED && !s->categorical;
    const double *x = g->d->col[j];
    uint32_t i = b0, k = e0;
    while (i < k) {
        uint32_t r = g->rows[i];
        double v = x[r];
        int left = v != v           ? s->miss == MISS_LEFT
                   : s->categorical ? kn__level_in(&s->set, (unsigned)v)
                   : binned         ? g->d->codes[(size_t)r * p + j] <= s->bin
                                    : v <= s->threshold;
        if (left)
            i++;
        else {
            g->rows[i] = g->rows[--k];
            g->rows[k] = r;
        }
    }
    return i;
}

/* Rows going left first; returns the first right row. Numeric features
 * without missing values (most splits) take this loop, which has no
 * per-row test of the value's kind; the rest partition_general's. */
static uint32_t partition(grower *g, uint32_t b0, uint32_t e0, const best_split *s)
{
    size_t j = (size_t)s->feature, p = g->d->p;
    if (s->categorical || (g->d->has_missing && g->d->has_missing[j]))
        return partition_general(g, b0, e0, s);
    int binned = g->par->splitter == KN__SPLIT_BINNED;
    uint32_t i = b0, k = e0;
    while (i < k) {
        uint32_t r = g->rows[i];
        int left =
            binned ? g->d->codes[(size_t)r * p + j] <= s->bin : g->d->col[j][r] <= s->threshold;
        if (left)
            i++;
        else {
            g->rows[i] = g->rows[--k];
            g->rows[k] = r;
        }
    }
    return i;
}

static kn_status reserve(grower *g, size_t more)
{
    if (g->n_nodes + more <= g->cap) return KN_OK;
    size_t cap = 2 * (g->n_nodes + more), W = g->S - 1;
    kn__node *nodes = kn_realloc(g->nodes, cap * sizeof *nodes);
    if (nodes) g->nodes = nodes;
    double *value = kn_realloc(g->value, cap * W * sizeof *value);
    if (value) g->value = value;
    double *imp = kn_realloc(g->imp, cap * sizeof *imp);
    if (imp) g->imp = imp;
    double *wsum = kn_realloc(g->wsum, cap * sizeof *wsum);
    if (wsum) g->wsum = wsum;
    if (!nodes || !value || !imp || !wsum) return KN_ERR_NOMEM;
    g->cap = cap;
    return KN_OK;
}

/* Fills node i from its rows (stats, value, impurity); returns the sum
 * w y^2 for regression. */
static void describe(grower *g, int32_t i, uint32_t b0, uint32_t e0)
{
    double median = 0;
    double imp = kn__cart_node_impurity(g, b0, e0, g->total, &median);
    kn__node *nd = &g->nodes[i];
    size_t W = g->S - 1;
    memset(nd, 0, sizeof *nd);
    nd->feature = -1;
    nd->count = e0 - b0;
    g->wsum[i] = g->total[0];
    g->imp[i] = imp;
    for (size_t c = 0; c < W; c++)
        g->value[(size_t)i * W + c] = g->total[0] > 0 ? g->total[1 + c] / g->total[0] : 0;
    if (g->par->criterion ==
        KN__CRIT_ABSOLUTE) /* the median (the rows stay ranked for the split) */
        g->value[i] = median;
    nd->value = g->value[(size_t)i * W];
}

static kn_status split_node(grower *g, pending pn)
{
    const kn__cart_params *par = g->par;
    uint32_t b0 = pn.begin, e0 = pn.end, m = e0 - b0;
    describe(g, pn.node, b0, e0);
    if ((par->max_depth && pn.depth >= par->max_depth) || m < par->min_samples_split ||
        m < 2 * par->min_samples_leaf || g->imp[pn.node] <= DBL_EPSILON)
        return KN_OK;
    best_split s = kn__cart_find_split(g, b0, e0);
    if (s.feature < 0) return KN_OK;
    uint32_t mid = partition(g, b0, e0, &s);
    if (mid == b0 || mid == e0) return KN_OK; /* cannot happen: both sides hold rows */
    double med;
    double il = kn__cart_node_impurity(g, b0, mid, g->left, &med);
    double ir = kn__cart_node_impurity(g, mid, e0, g->total, &med);
    double W = g->wsum[pn.node], wl = g->left[0], wr = g->total[0];
    double decrease = W * g->imp[pn.node] - wl * il - wr * ir;
    if (decrease / g->wsum[0] + DBL_EPSILON < par->min_impurity_decrease) return KN_OK;
    kn_status e = reserve(g, 2);
    if (e != KN_OK) return e;
    int left_larger = mid - b0 > e0 - mid;
    if (s.categorical) { /* levels absent here (or unseen) go to the larger child */
        if (g->n_sets == g->cap_sets) {
            size_t cap = g->cap_sets ? 2 * g->cap_sets : 8;
            kn__level_set *sets = kn_realloc(g->sets, cap * sizeof *sets);
            if (!sets) return KN_ERR_NOMEM;
            g->sets = sets;
            g->cap_sets = cap;
        }
        for (size_t q = 0; left_larger && q < 4; q++) s.set.bits[q] |= ~s.present.bits[q];
        g->sets[g->n_sets] = s.set;
        s.threshold = (double)g->n_sets++;
    }
    kn__node *nd = &g->nodes[pn.node];
    nd->feature = s.feature;
    nd->threshold = s.threshold;
    nd->bin = s.bin;
    nd->categorical = s.categorical;
    nd->missing_seen = s.miss != MISS_NONE;
    nd->missing_left = s.miss == MISS_NONE ? left_larger : s.miss == MISS_LEFT;
    nd->gain = decrease;
    nd->left = (int32_t)g->n_nodes;
    g->n_nodes += 2;
    g->stack[g->n_stack++] = (pending){nd->left + 1, mid, e0, pn.depth + 1};
    g->stack[g->n_stack++] = (pending){nd->left, b0, mid, pn.depth + 1};
    return KN_OK;
}

/* Minimal cost-complexity pruning: while the weakest link's effective
 * alpha, (R(t) - R(T_t)) / (leaves(T_t) - 1) with R the weighted
 * impurity, is at most ccp_alpha, its subtree becomes a leaf. */
static kn_status prune(grower *g)
{
    size_t n = g->n_nodes;
    double *r_sub = kn_malloc(n * sizeof *r_sub), *leaves = kn_malloc(n * sizeof *leaves);
    if (!r_sub || !leaves) {
        kn_free(r_sub), kn_free(leaves);
        return KN_ERR_NOMEM;
    }
    for (;;) {
        double best = INFINITY;
        size_t weakest = 0;
        for (size_t i = n; i-- > 0;) { /* children come after their parent */
            const kn__node *nd = &g->nodes[i];
            double r = g->wsum[i] / g->wsum[0] * g->imp[i];
            if (nd->feature < 0) {
                r_sub[i] = r;
                leaves[i] = 1;
                continue;
            }
            r_sub[i] = r_sub[nd->left] + r_sub[nd->left + 1];
            leaves[i] = leaves[nd->left] + leaves[nd->left + 1];
            double alpha = (r - r_sub[i]) / (leaves[i] - 1);
            if (alpha < best) {
                best = alpha;
                weakest = i;
            }
        }
        if (!(best <= g->par->ccp_alpha)) break;
        g->nodes[weakest].feature = -1;
        g->nodes[weakest].gain = 0;
    }
    kn_free(r_sub), kn_free(leaves);
    /* the tree without the unreachable nodes, renumbered in order */
    int32_t *map = kn_malloc(n * sizeof *map);
    if (!map) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) map[i] = -1;
    map[0] = 0;
    size_t kept = 0, W = g->S - 1;
    for (size_t i = 0; i < n; i++) {
        if (map[i] < 0) continue;
        map[i] = (int32_t)kept;
        if (g->nodes[i].feature >= 0) map[g->nodes[i].left] = map[g->nodes[i].left + 1] = 0;
        g->nodes[kept] = g->nodes[i];
        memmove(g->value + kept * W, g->value + i * W, W * sizeof *g->value);
        g->wsum[kept] = g->wsum[i];
        g->imp[kept] = g->imp[i];
        kept++;
    }
    /* children keep their relative order, so a pair stays adjacent */
    for (size_t i = 0; i < kept; i++)
        if (g->nodes[i].feature >= 0) g->nodes[i].left = map[g->nodes[i].left];
    g->n_nodes = kept;
    kn_free(map);
    return KN_OK;
}

static void grower_free(grower *g)
{
    kn_free(g->nodes), kn_free(g->value), kn_free(g->imp), kn_free(g->wsum);
    kn_free(g->stack), kn_free(g->sorted), kn_free(g->total), kn_free(g->left);
    kn_free(g->hist), kn_free(g->hist_n), kn_free(g->feat), kn_free(g->rank_of);
    kn_free(g->rkeys), kn_free(g->rrows);
    kn_free(g->miss), kn_free(g->miss_st), kn_free(g->lvl), kn_free(g->lvl_n), kn_free(g->lvl_pos);
    kn_free(g->sets);
    kn__ranked_free(&g->ranked);
}

kn_status kn__cart_grow(const kn__cart_data *d, const kn__cart_params *par, uint32_t *rows,
                        size_t m, const double *w, uint64_t seed, kn__cart_tree *out)
{
    memset(out, 0, sizeof *out);
    if (m == 0 || m > UINT32_MAX) return kn_fail(KN_ERR_INVALID, "a tree needs 1 to 2^32-1 rows");
    grower g = {.d = d, .par = par, .w = w, .rows = rows, .S = 1 + (d->k ? d->k : 1)};
    kn_rng_init(&g.rng, seed);
    /* depth-first: at most one pending node per level and side */
    g.stack = kn_malloc((m + 1) * sizeof *g.stack);
    g.sorted = kn_malloc(m * sizeof *g.sorted);
    g.total = kn_malloc(g.S * sizeof *g.total);
    g.left = kn_malloc(g.S * sizeof *g.left);
    g.hist = kn_malloc(KN__MAX_BINS * g.S * sizeof *g.hist);
    g.hist_n = kn_malloc(KN__MAX_BINS * sizeof *g.hist_n);
    g.feat = kn_malloc((d->p ? d->p : 1) * sizeof *g.feat);
    g.miss = kn_malloc(m * sizeof *g.miss);
    g.miss_st = kn_malloc(g.S * sizeof *g.miss_st);
    g.lvl = kn_malloc(KN__MAX_BINS * g.S * sizeof *g.lvl);
    g.lvl_n = kn_malloc(KN__MAX_BINS * sizeof *g.lvl_n);
    g.lvl_pos = kn_malloc(KN__MAX_BINS * sizeof *g.lvl_pos);
    if (!g.miss || !g.miss_st || !g.lvl || !g.lvl_n || !g.lvl_pos) {
        grower_free(&g);
        return KN_ERR_NOMEM;
    }
    if (par->splitter == KN__SPLIT_EXACT || (par->splitter == KN__SPLIT_BINNED && d->has_missing)) {
        g.rkeys = kn_malloc(2 * m * sizeof *g.rkeys);
        g.rrows = kn_malloc(2 * m * sizeof *g.rrows);
        if (!g.rkeys || !g.rrows) {
            grower_free(&g);
            return KN_ERR_NOMEM;
        }
    }
    if (par->criterion == KN__CRIT_ABSOLUTE) {
        g.rank_of = kn_malloc((d->n ? d->n : 1) * sizeof *g.rank_of);
        if (!g.rank_of || kn__ranked_init(&g.ranked, m) != KN_OK) {
            grower_free(&g);
            return KN_ERR_NOMEM;
        }
    }
    kn_status e = g.stack && g.sorted && g.total && g.left && g.hist && g.hist_n && g.feat
                      ? reserve(&g, 1)
                      : KN_ERR_NOMEM;
    if (e == KN_OK) {
        for (size_t j = 0; j < d->p; j++) g.feat[j] = j;
        g.n_nodes = 1;
        g.stack[g.n_stack++] = (pending){0, 0, (uint32_t)m, 0};
    }
    while (e == KN_OK && g.n_stack) e = split_node(&g, g.stack[--g.n_stack]);
    if (e == KN_OK && par->ccp_alpha > 0) e = prune(&g);
    if (e == KN_OK) {
        out->nodes = g.nodes;
        out->value = g.value;
        out->n_nodes = g.n_nodes;
        out->width = g.S - 1;
        out->sets = g.sets;
        out->n_sets = g.n_sets;
        g.nodes = NULL;
        g.value = NULL;
        g.sets = NULL;
    }
    grower_free(&g);
    return e;
}

void kn__cart_tree_free(kn__cart_tree *t)
{
    kn_free(t->nodes);
    kn_free(t->value);
    kn_free(t->sets);
    memset(t, 0, sizeof *t);
}
