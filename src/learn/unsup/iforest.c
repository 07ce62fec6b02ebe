/* isolation_forest: anomaly scores from random isolation trees (Liu, Ting
 * and Zhou, 2008), fitted without a target (KN_MODEL_UNSUPERVISED).
 *
 * Each tree draws max_samples rows without replacement and splits them on
 * a random non-constant feature at a threshold uniform between its node
 * minimum and maximum, down to depth ceil(log2(max_samples)) or one row.
 * A row's path length in a tree is the depth of the leaf it reaches plus
 * c(rows fitted in that leaf), with c(n) = 2 H(n - 1) - 2 (n - 1) / n the
 * mean path length of an unsuccessful search in a binary search tree
 * (c(1) = 0, c(2) = 1). The score is scikit-learn's score_samples:
 * -2^(-mean path / c(max_samples)), in [-1, 0); lower is more anomalous.
 * The threshold is -0.5 for contamination=auto, otherwise the
 * contamination quantile of the training scores (linear interpolation);
 * a row is an anomaly (label 1) when its score is below it.
 *
 * Trees are flat node arrays (feature, threshold or leaf path length,
 * left child; the right child follows it), grown in parallel (OpenMP),
 * tree t from its own stream (seed, t), so any thread count gives the
 * same model. Scoring runs over blocks of rows, each row summing its
 * trees in order, down each tree kept a second time as a heap of one
 * depth (make_heap: no child pointers; what is saved is the node arrays). */
#include "core/ctx-impl.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct if_params {
    int64_t n_estimators;
    const char *max_samples;
    const char *contamination;
    int64_t seed;
    int predict_output;
} if_params;

static const kn_param_def if_defs[] = {
    KN_PARAM_INT(if_params, n_estimators, "100", 1, 1000000, "trees"),
    KN_PARAM_STRING(if_params, max_samples, "auto",
                    "rows drawn per tree: auto (min(256, rows)), a count, or a share in (0, 1]"),
    KN_PARAM_STRING(if_params, contamination, "auto",
                    "expected share of anomalies, in (0, 0.5], setting the label threshold at "
                    "that quantile of the training scores; auto: threshold -0.5"),
    KN_PARAM_INT(if_params, seed, "0", 0, 1e15, "seed of the row and split draws"),
    KN_PARAM_ENUM(if_params, predict_output, "score", "score|label",
                  "what predict gives: the score (lower: more anomalous) or the label (1: "
                  "anomaly, 0: normal)"),
    KN_PARAM_END};

/* max_samples as a count (> 1 or an integer) or a share in (0, 1]; 0 for auto. */
static kn_status parse_max_samples(const char *s, double *out)
{
    *out = 0;
    if (!strcmp(s, "auto")) return KN_OK;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || (v > 1 && v != floor(v)) || v > 1e15)
        return kn_fail(KN_ERR_INVALID,
                       "isolation_forest: max_samples=%s is not auto, a whole count of rows or a "
                       "share in (0, 1]; e.g. max_samples=256",
                       s);
    *out = v;
    return KN_OK;
}

static kn_status parse_contamination(const char *s, double *out)
{
    *out = 0;
    if (!strcmp(s, "auto")) return KN_OK;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 0.5)
        return kn_fail(KN_ERR_INVALID,
                       "isolation_forest: contamination=%s is not auto or a share in (0, 0.5]; "
                       "e.g. contamination=0.05",
                       s);
    *out = v;
    return KN_OK;
}

static kn_status if_validate(const void *params)
{
    const if_params *p = params;
    double v;
    kn_status e = parse_max_samples(p->max_samples, &v);
    if (e == KN_OK) e = parse_contamination(p->contamination, &v);
    return e;
}

/* One node: feature < 0 marks a leaf, whose `value` is its path length
 * (depth + c(rows)); an inner node sends x <= value to `left`, the rest
 * to left + 1. */
typedef struct if_node {
    double value;
    int32_t feature;
    int32_t left;
} if_node;

typedef struct if_state {
    size_t p, n_trees, psi;
    double threshold, norm; /* norm = c(psi) */
    size_t *offset;         /* n_trees + 1 */
    if_node *node;
    /* made from node for scoring (make_walk), never saved: every node an
     * inner one, a leaf sending every row to itself (threshold +inf,
     * feature 0, left itself), so that a row takes exactly depth[t] steps
     * down tree t without a test; leaf[k] is node k's path length */
    if_node *walk;
    double *leaf;
    uint32_t *depth;
    /* the same trees as heaps of one depth (make_heap; NULL when the
     * deepest is past HEAP_DEPTH_MAX): node h's children at 2h + 1 (x <=
     * thr[h]) and 2h + 2, no child pointers to load; feat[h] the feature
     * times SCORE_CHUNK (its column in a chunk's copy); a leaf above the
     * last level sends its rows left (thr +inf) down to the slot of its
     * path length in hleaf. Tree t: nodes from t (2^hdepth - 1), leaf
     * slots from t 2^hdepth. */
    double *hthr, *hleaf;
    uint32_t *hfeat;
    unsigned hdepth;
} if_state;

static void if_free(void *v)
{
    if_state *s = v;
    if (!s) return;
    kn_free(s->offset);
    kn_free(s->node);
    kn_free(s->walk);
    kn_free(s->leaf);
    kn_free(s->depth);
    kn_free(s->hthr), kn_free(s->hleaf), kn_free(s->hfeat);
    kn_free(s);
}

/* s->walk, s->leaf and s->depth from s->node (children follow their
 * parent: the fit and the loader make sure of it). */
static kn_status make_walk(if_state *s)
{
    size_t total = s->offset[s->n_trees];
    s->walk = kn_malloc((total ? total : 1) * sizeof *s->walk);
    s->leaf = kn_calloc(total ? total : 1, sizeof *s->leaf);
    s->depth = kn_calloc(s->n_trees, sizeof *s->depth);
    uint32_t *at = kn_calloc(total ? total : 1, sizeof *at); /* each node's depth */
    if (!s->walk || !s->leaf || !s->depth || !at) {
        kn_free(at);
        return KN_ERR_NOMEM;
    }
    for (size_t t = 0; t < s->n_trees; t++) {
        size_t base = s->offset[t], nn = s->offset[t + 1] - base;
        for (size_t k = 0; k < nn; k++) {
            const if_node *nd = &s->node[base + k];
            if (nd->feature < 0) {
                s->walk[base + k] = (if_node){INFINITY, 0, (int32_t)k};
                s->leaf[base + k] = nd->value;
                if (at[base + k] > s->depth[t]) s->depth[t] = at[base + k];
            } else {
                s->walk[base + k] = *nd;
                at[base + (size_t)nd->left] = at[base + (size_t)nd->left + 1] = at[base + k] + 1;
            }
        }
    }
    kn_free(at);
    return KN_OK;
}

enum { SCORE_BLOCK = 16, HEAP_BLOCK = 16, SCORE_CHUNK = 256, HEAP_DEPTH_MAX = 12 };

int kn__iforest_walk;

/* Node k of tree t (s->node) at heap slot h on level `level`. */
static void heap_fill(if_state *s, size_t t, size_t k, size_t h, unsigned level)
{
    const if_node *nd = &s->node[s->offset[t] + k];
    size_t inner = ((size_t)1 << s->hdepth) - 1;
    if (level == s->hdepth) { /* the last level holds leaves only */
        s->hleaf[t * (inner + 1) + (h - inner)] = nd->value;
        return;
    }
    double *thr = s->hthr + t * inner;
    uint32_t *feat = s->hfeat + t * inner;
    if (nd->feature < 0) { /* a leaf: left to the last level (the right slots stay unused) */
        thr[h] = INFINITY, feat[h] = 0;
        heap_fill(s, t, k, 2 * h + 1, level + 1);
        return;
    }
    thr[h] = nd->value, feat[h] = (uint32_t)nd->feature * SCORE_CHUNK;
    heap_fill(s, t, (size_t)nd->left, 2 * h + 1, level + 1);
    heap_fill(s, t, (size_t)nd->left + 1, 2 * h + 2, level + 1);
}

/* s->hthr, s->hfeat, s->hleaf from s->node and s->depth (make_walk's):
 * none for a forest deeper than HEAP_DEPTH_MAX or of features past what
 * a uint32 offset holds. */
static kn_status make_heap(if_state *s)
{
    unsigned depth = 0;
    for (size_t t = 0; t < s->n_trees; t++) depth = s->depth[t] > depth ? s->depth[t] : depth;
    if (depth > HEAP_DEPTH_MAX || s->p > UINT32_MAX / SCORE_CHUNK) return KN_OK;
    size_t inner = ((size_t)1 << depth) - 1, nt = s->n_trees;
    s->hdepth = depth;
    s->hthr = kn_calloc(nt * inner + 1, sizeof *s->hthr);
    s->hfeat = kn_calloc(nt * inner + 1, sizeof *s->hfeat);
    s->hleaf = kn_calloc(nt * (inner + 1), sizeof *s->hleaf);
    if (!s->hthr || !s->hfeat || !s->hleaf) return KN_ERR_NOMEM;
    for (size_t t = 0; t < nt; t++) heap_fill(s, t, 0, 0, 0);
    return KN_OK;
}

/* Mean path length of an unsuccessful search among n rows. */
static double avg_path(size_t n)
{
    if (n <= 1) return 0;
    if (n == 2) return 1;
    double m = (double)(n - 1);
    return 2.0 * (log(m) + 0.5772156649015329) - 2.0 * m / (double)n;
}

typedef struct if_tree {
    if_node *node;
    size_t n, cap;
} if_tree;

/* Grows tree t on psi rows of d: its own buffers, its own stream. */
typedef struct if_work {
    uint32_t *rows; /* psi sampled rows, then node partitions */
    double *x;      /* psi x p sample, column-major */
    uint32_t *perm; /* p feature order */
    uint8_t *seen;  /* n flags, cleared after each draw (rejection sampling) */
    uint32_t *all;  /* n indices (partial shuffle when psi is over half of n) */
} if_work;

static kn_status push_node(if_tree *t, if_node nd, size_t *at)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        if_node *v = kn_realloc(t->node, cap * sizeof *v);
        if (!v) return KN_ERR_NOMEM;
        t->node = v;
        t->cap = cap;
    }
    *at = t->n;
    t->node[t->n++] = nd;
    return KN_OK;
}

static void draw_rows(const kn_dataset *d, size_t psi, kn_rng *r, if_work *w)
{
    size_t n = d->n;
    if (psi * 2 > n) {
        for (size_t i = 0; i < n; i++) w->all[i] = (uint32_t)i;
        for (size_t i = 0; i < psi; i++) {
            size_t j = i + (size_t)kn_rng_below(r, n - i);
            uint32_t tmp = w->all[i];
            w->all[i] = w->all[j];
            w->all[j] = tmp;
            w->rows[i] = w->all[i];
        }
        return;
    }
    for (size_t i = 0; i < psi;) {
        uint32_t j = (uint32_t)kn_rng_below(r, n);
        if (w->seen[j]) continue;
        w->seen[j] = 1;
        w->rows[i++] = j;
    }
    for (size_t i = 0; i < psi; i++) w->seen[w->rows[i]] = 0;
}

typedef struct if_pending {
    size_t node, lo, hi, depth;
} if_pending;

static kn_status grow_tree(const kn_dataset *d, size_t psi, uint64_t seed, size_t t, if_work *w,
                           if_tree *out)
{
    size_t p = d->p, max_depth = 0;
    while (((size_t)1 << max_depth) < psi) max_depth++;
    kn_rng r;
    kn_rng_init_stream(&r, seed, t);
    draw_rows(d, psi, &r, w);
    for (size_t j = 0; j < p; j++) {
        const double *col = kn_dataset_column(d, j);
        for (size_t i = 0; i < psi; i++) w->x[j * psi + i] = col[w->rows[i]];
    }
    /* rows[] now indexes the sample: 0..psi-1 */
    for (size_t i = 0; i < psi; i++) w->rows[i] = (uint32_t)i;
    if_pending stack[64 + 1];
    size_t top = 0, root;
    out->n = 0;
    kn_status e = push_node(out, (if_node){0, -1, 0}, &root);
    if (e != KN_OK) return e;
    stack[top++] = (if_pending){root, 0, psi, 0};
    while (top) {
        if_pending nd = stack[--top];
        size_t cnt = nd.hi - nd.lo;
        int32_t feat = -1;
        double thr = 0;
        if (nd.depth < max_depth && cnt > 1) {
            for (size_t j = 0; j < p; j++) w->perm[j] = (uint32_t)j;
            for (size_t k = 0; k < p && feat < 0; k++) {
                size_t pick = k + (size_t)kn_rng_below(&r, p - k);
                uint32_t f = w->perm[pick];
                w->perm[pick] = w->perm[k];
                w->perm[k] = f;
                const double *x = w->x + (size_t)f * psi;
                double lo = x[w->rows[nd.lo]], hi = lo;
                for (size_t i = nd.lo + 1; i < nd.hi; i++) {
                    double v = x[w->rows[i]];
                    if (v < lo) lo = v;
                    if (v > hi) hi = v;
                }
                if (hi > lo) {
                    feat = (int32_t)f;
                    thr = lo + kn_rng_uniform(&r) * (hi - lo);
                    if (thr >= hi) thr = lo;
                }
            }
        }
        if (feat < 0) {
            out->node[nd.node].feature = -1;
            out->node[nd.node].value = (double)nd.depth + avg_path(cnt);
            continue;
        }
        const double *x = w->x + (size_t)feat * psi;
        size_t a = nd.lo, b = nd.hi;
        while (a < b) {
            if (x[w->rows[a]] <= thr)
                a++;
            else {
                uint32_t tmp = w->rows[a];
                w->rows[a] = w->rows[--b];
                w->rows[b] = tmp;
            }
        }
        size_t left, right;
        e = push_node(out, (if_node){0, -1, 0}, &left);
        if (e == KN_OK) e = push_node(out, (if_node){0, -1, 0}, &right);
        if (e != KN_OK) return e;
        out->node[nd.node] = (if_node){thr, feat, (int32_t)left};
        stack[top++] = (if_pending){right, a, nd.hi, nd.depth + 1};
        stack[top++] = (if_pending){left, nd.lo, a, nd.depth + 1};
    }
    return KN_OK;
}

static size_t sample_size(const if_params *par, size_t n)
{
    double v;
    (void)parse_max_samples(par->max_samples, &v); /* validated before the fit */
    size_t psi = v == 0                                    ? 256
                 : v <= 1 && strchr(par->max_samples, '.') ? (size_t)(v * (double)n)
                                                           : (size_t)v;
    if (psi > n) psi = n;
    if (psi < 1) psi = 1;
    return psi;
}

/* Tree `tree` (s->walk's, depth steps) for SCORE_BLOCK rows from i0 of the
 * columns col, side by side (their loads overlap), each row taking the
 * full depth (a leaf keeps a row where it is): adds each row's path length
 * to sum[0 .. m). */
static void tree_block(const if_node *tree, const double *leaf, uint32_t depth,
                       const double *const *col, size_t i0, size_t m, double *sum)
{
    int32_t at[SCORE_BLOCK] = {0};
    if (m == SCORE_BLOCK) /* a constant count: unrolled, at[] in registers */
        for (uint32_t step = 0; step < depth; step++)
            for (size_t r = 0; r < SCORE_BLOCK; r++) {
                const if_node *nd = tree + at[r];
                at[r] = nd->left + (col[nd->feature][i0 + r] > nd->value ? 1 : 0);
            }
    else
        for (uint32_t step = 0; step < depth; step++)
            for (size_t r = 0; r < m; r++) {
                const if_node *nd = tree + at[r];
                at[r] = nd->left + (col[nd->feature][i0 + r] > nd->value ? 1 : 0);
            }
    for (size_t r = 0; r < m; r++) sum[r] += leaf[at[r]];
}

/* The same for the heap of tree t (depth steps) and rows r0 .. r0 + m of
 * a chunk's copy x (x[f SCORE_CHUNK + r]): per step and row three loads
 * (threshold, feature, value), no child pointer and no column pointer. */
static void heap_block(const double *thr, const uint32_t *feat, const double *leaf, unsigned depth,
                       const double *x, size_t m, double *sum)
{
    uint32_t at[HEAP_BLOCK] = {0};
    if (m == HEAP_BLOCK) /* unrolled: at[] in registers */
        for (unsigned step = 0; step < depth; step++)
            _Pragma("GCC unroll 32") for (size_t r = 0; r < HEAP_BLOCK; r++)
            {
                uint32_t h = at[r];
                at[r] = 2 * h + 1 + (x[feat[h] + r] > thr[h] ? 1 : 0);
            }
    else
        for (unsigned step = 0; step < depth; step++)
            for (size_t r = 0; r < m; r++) {
                uint32_t h = at[r];
                at[r] = 2 * h + 1 + (x[feat[h] + r] > thr[h] ? 1 : 0);
            }
    uint32_t inner = ((uint32_t)1 << depth) - 1;
    for (size_t r = 0; r < m; r++) sum[r] += leaf[at[r] - inner];
}

/* Scores rows of d into out (sklearn's score_samples). Rows go in chunks
 * of SCORE_CHUNK (the chunks in parallel): each tree is walked by all of a
 * chunk's rows before the next tree, so its nodes stay in the cache (a
 * forest of 100 trees of 256 rows is about 500 KB as heaps). A row's walk
 * down a tree is a chain of dependent loads; SCORE_BLOCK rows walk side by
 * side so that their loads overlap, and every row takes the full depth
 * (a leaf sends its rows on to the last level), which spares a test per
 * row and step. A chunk's rows are first copied feature by feature, so a
 * node's feature is an offset into the copy. Each row still adds its
 * trees' path lengths in tree order: the same bits as walking s->walk
 * (what a forest deeper than the heaps take). */
static kn_status score_rows(const if_state *s, const kn_dataset *d, double *out)
{
    size_t n = d->n, p = s->p, n_chunks = (n + SCORE_CHUNK - 1) / SCORE_CHUNK;
    size_t inner = s->hthr ? ((size_t)1 << s->hdepth) - 1 : 0;
    const double **col = kn_malloc((p ? p : 1) * sizeof *col);
    if (!col) return KN_ERR_NOMEM;
    for (size_t j = 0; j < p; j++) col[j] = kn_dataset_column(d, j);
#pragma omp parallel if (n * s->n_trees > 100000)
    {
        /* the chunk's copy: without room, this thread walks the columns */
        double *x =
            s->hthr && !kn__iforest_walk ? kn_malloc((p ? p : 1) * SCORE_CHUNK * sizeof *x) : NULL;
#pragma omp for schedule(static)
        for (size_t c = 0; c < n_chunks; c++) {
            size_t c0 = c * SCORE_CHUNK, cn = n - c0 < SCORE_CHUNK ? n - c0 : SCORE_CHUNK;
            double sum[SCORE_CHUNK] = {0};
            if (x) {
                for (size_t j = 0; j < p; j++)
                    memcpy(x + j * SCORE_CHUNK, col[j] + c0, cn * sizeof *x);
                for (size_t t = 0; t < s->n_trees; t++)
                    for (size_t b0 = 0; b0 < cn; b0 += HEAP_BLOCK)
                        heap_block(s->hthr + t * inner, s->hfeat + t * inner,
                                   s->hleaf + t * (inner + 1), s->hdepth, x + b0,
                                   cn - b0 < HEAP_BLOCK ? cn - b0 : HEAP_BLOCK, sum + b0);
            } else {
                for (size_t t = 0; t < s->n_trees; t++)
                    for (size_t b0 = 0; b0 < cn; b0 += SCORE_BLOCK)
                        tree_block(s->walk + s->offset[t], s->leaf + s->offset[t], s->depth[t], col,
                                   c0 + b0, cn - b0 < SCORE_BLOCK ? cn - b0 : SCORE_BLOCK,
                                   sum + b0);
            }
            for (size_t r = 0; r < cn; r++)
                out[c0 + r] = -exp2(-(sum[r] / (double)s->n_trees) / s->norm);
        }
        kn_free(x);
    }
    kn_free((void *)col);
    return KN_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static kn_status if_fit(kn_model *m, const kn_dataset *d)
{
    const if_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, n_trees = (size_t)par->n_estimators;
    if (n > UINT32_MAX)
        return kn_fail(KN_ERR_INVALID, "isolation_forest: at most %u rows", (unsigned)UINT32_MAX);
    size_t psi = sample_size(par, n);
    if_tree *trees = kn_calloc(n_trees, sizeof *trees);
    if (!trees) return KN_ERR_NOMEM;
    kn_status first = KN_OK;
    int failed = 0;
    kn_ctx *ctx = kn_ctx_current();
#pragma omp parallel if (n_trees > 1)
    {
        kn_ctx *prev = kn__ctx_swap(ctx);
        if_work w = {kn_malloc(psi * sizeof *w.rows), kn_malloc(psi * (p ? p : 1) * sizeof *w.x),
                     kn_malloc((p ? p : 1) * sizeof *w.perm), psi * 2 > n ? NULL : kn_calloc(n, 1),
                     psi * 2 > n ? kn_malloc(n * sizeof *w.all) : NULL};
        int ok = w.rows && w.x && w.perm && (w.seen || w.all);
#pragma omp for schedule(dynamic, 1)
        for (size_t t = 0; t < n_trees; t++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            kn_status e = ok ? kn_ctx_check() : KN_ERR_NOMEM;
            if (e == KN_OK) e = grow_tree(d, psi, (uint64_t)par->seed, t, &w, &trees[t]);
            if (e != KN_OK) {
#pragma omp critical(iforest_fail)
                {
                    if (!failed) first = e;
                    failed = 1;
                }
            }
        }
        kn_free(w.rows), kn_free(w.x), kn_free(w.perm), kn_free(w.seen), kn_free(w.all);
        kn__ctx_swap(prev);
    }
    if_state *s = NULL;
    size_t total = 0;
    for (size_t t = 0; t < n_trees; t++) total += trees[t].n;
    if (first == KN_OK) {
        s = kn_calloc(1, sizeof *s);
        if (s) {
            s->offset = kn_malloc((n_trees + 1) * sizeof *s->offset);
            s->node = kn_malloc(total * sizeof *s->node);
        }
        if (!s || !s->offset || !s->node) first = KN_ERR_NOMEM;
    }
    if (first == KN_OK) {
        s->p = p;
        s->n_trees = n_trees;
        s->psi = psi;
        s->norm = avg_path(psi) > 0 ? avg_path(psi) : 1;
        s->offset[0] = 0;
        for (size_t t = 0; t < n_trees; t++) {
            memcpy(s->node + s->offset[t], trees[t].node, trees[t].n * sizeof *s->node);
            s->offset[t + 1] = s->offset[t] + trees[t].n;
        }
        first = make_walk(s);
        if (first == KN_OK) first = make_heap(s);
        double q;
        (void)parse_contamination(par->contamination, &q);
        s->threshold = -0.5;
        if (q > 0 && first == KN_OK) {
            double *sc = kn_malloc(n * sizeof *sc);
            if (!sc)
                first = KN_ERR_NOMEM;
            else if ((first = score_rows(s, d, sc)) == KN_OK) {
                qsort(sc, n, sizeof *sc, cmp_double);
                double pos = q * (double)(n - 1), lo = floor(pos);
                size_t i = (size_t)lo;
                s->threshold = i + 1 < n ? sc[i] + (pos - lo) * (sc[i + 1] - sc[i]) : sc[i];
            }
            kn_free(sc);
        }
    }
    for (size_t t = 0; t < n_trees; t++) kn_free(trees[t].node);
    kn_free(trees);
    if (first != KN_OK) {
        if_free(s);
        return first == KN_ERR_CANCELLED ? kn_ctx_check() : first;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status if_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const if_state *s = kn_model_state(m);
    const if_params *par = kn_model_params(m);
    kn_status e = score_rows(s, d, out);
    if (e != KN_OK) return e;
    if (par->predict_output == 1)
        for (size_t i = 0; i < d->n; i++) out[i] = out[i] < s->threshold ? 1.0 : 0.0;
    return KN_OK;
}

static kn_status if_summary(const kn_model *m, kn_fit_summary *out)
{
    const if_state *s = kn_model_state(m);
    memset(out, 0, sizeof *out);
    out->n_stats = 3;
    out->stat_name[0] = "threshold";
    out->stat[0] = s->threshold;
    out->stat_name[1] = "max_samples";
    out->stat[1] = (double)s->psi;
    out->stat_name[2] = "trees";
    out->stat[2] = (double)s->n_trees;
    return KN_OK;
}

static kn_status if_save(const kn_model *m, kn_wbuf *w)
{
    const if_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->n_trees);
    kn_wbuf_u64(w, s->psi);
    kn_wbuf_f64(w, s->threshold);
    for (size_t t = 0; t < s->n_trees; t++) {
        kn_wbuf_u64(w, s->offset[t + 1] - s->offset[t]);
        for (size_t k = s->offset[t]; k < s->offset[t + 1]; k++) {
            kn_wbuf_f64(w, s->node[k].value);
            kn_wbuf_u32(w, (uint32_t)s->node[k].feature);
            kn_wbuf_u32(w, (uint32_t)s->node[k].left);
        }
    }
    return kn_wbuf_status(w);
}

static kn_status if_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p, n_trees, psi;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &n_trees);
    if (e == KN_OK) e = kn_rbuf_u64(r, &psi);
    if (e != KN_OK) return e;
    if (p != kn_model_n_features(m) || n_trees == 0 || n_trees > kn_rbuf_left(r) / 8 || psi == 0)
        return kn_fail(KN_ERR_CORRUPT, "%s: isolation forest header is damaged", r->what);
    if_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = p;
    s->n_trees = n_trees;
    s->psi = psi;
    s->norm = avg_path(psi) > 0 ? avg_path(psi) : 1;
    s->offset = kn_calloc(n_trees + 1, sizeof *s->offset);
    e = s->offset ? kn_rbuf_f64(r, &s->threshold) : KN_ERR_NOMEM;
    size_t cap = 0;
    for (size_t t = 0; e == KN_OK && t < n_trees; t++) {
        uint64_t nn;
        e = kn_rbuf_u64(r, &nn);
        if (e == KN_OK && (nn == 0 || nn > kn_rbuf_left(r) / 16))
            e = kn_fail(KN_ERR_CORRUPT, "%s: isolation tree %zu is damaged", r->what, t);
        if (e != KN_OK) break;
        size_t base = s->offset[t];
        if (base + nn > cap) {
            size_t nc = (base + nn) * 2;
            if_node *v = kn_realloc(s->node, nc * sizeof *v);
            if (!v) {
                e = KN_ERR_NOMEM;
                break;
            }
            s->node = v;
            cap = nc;
        }
        for (size_t k = 0; e == KN_OK && k < nn; k++) {
            uint32_t f = 0, l = 0;
            e = kn_rbuf_f64(r, &s->node[base + k].value);
            if (e == KN_OK) e = kn_rbuf_u32(r, &f);
            if (e == KN_OK) e = kn_rbuf_u32(r, &l);
            int32_t fi = (int32_t)f;
            if (e == KN_OK && (fi >= 0 && ((uint64_t)fi >= p || l <= k || (uint64_t)l + 1 >= nn)))
                e = kn_fail(KN_ERR_CORRUPT, "%s: isolation tree %zu has a bad node", r->what, t);
            if (e == KN_OK && fi < 0) fi = -1;
            s->node[base + k].feature = fi;
            s->node[base + k].left = (int32_t)l;
        }
        s->offset[t + 1] = base + nn;
    }
    if (e == KN_OK) e = make_walk(s);
    if (e == KN_OK) e = make_heap(s);
    if (e != KN_OK) {
        if_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt if_vt = {.task = KN_TASK_REGRESSION,
                                  .fit = if_fit,
                                  .predict = if_predict,
                                  .free_state = if_free,
                                  .save = if_save,
                                  .load = if_load,
                                  .summary = if_summary,
                                  .flags = KN_MODEL_READS_COLUMNS | KN_MODEL_UNSUPERVISED,
                                  .validate = if_validate};

const kn_component kn__isolation_forest = {
    KN_COMP_MODEL,
    "isolation_forest",
    "isolation forest: anomaly scores from random isolation trees, fitted without a target "
    "('kiln anomaly')",
    if_defs,
    sizeof(if_params),
    &if_vt};
