/* Flattened trees and lockstep batch prediction (flat_forest.h). */
#include "learn/tree/flat_forest.h"

#include "core/simd.h"
#include "kiln/mem.h"
#include "core/ctx-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LANES 16  /* rows walked together */
#define BLOCK 256 /* rows per task: their feature values stay in cache */
/* rows per task of the coded walk: a byte per value leaves room for more,
 * and longer runs down each column read faster */
#define CODED_BLOCK 1024
/* the deepest tree the coded walk lays out complete (2^depth leaves) */
#define COMPLETE_DEPTH 10

void kn__flat_free(kn__flat_forest *f)
{
    kn_free(f->root);
    kn_free(f->depth);
    kn_free(f->node);
    kn_free(f->missing_left);
    kn_free(f->leaf);
    kn_free(f->coded);
    kn_free(f->coded_at);
    kn_free(f->coded_leaf);
    kn_free(f->used);
    kn_free(f->cut_at);
    kn_free(f->cuts);
    memset(f, 0, sizeof *f);
}

/* Depth of tree t (nodes in creation order: children after parents). */
static size_t tree_depth(const kn__node *t, size_t n_nodes, uint8_t *d)
{
    size_t deepest = 0;
    d[0] = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        if (t[i].feature < 0) continue;
        d[t[i].left] = d[t[i].left + 1] = (uint8_t)(d[i] + 1);
        if ((size_t)d[i] + 1 > deepest) deepest = (size_t)d[i] + 1;
    }
    return deepest;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The number of cuts[0 .. n) below v (branch-free binary search); 255
 * for a missing v. */
static inline uint8_t rank_of(const double *cuts, size_t n, double v)
{
    if (v != v) return 255;
    if (n == 0) return 0;
    const double *b = cuts;
    while (n > 1) {
        size_t half = n / 2;
        b = b[half] < v ? b + half : b;
        n -= half;
    }
    return (uint8_t)((size_t)(b - cuts) + (*b < v));
}

/* Tree t laid out complete (flat_forest.h) from its packed nodes: node k's
 * children at 2k + 1 and 2k + 2; a leaf above the full depth becomes nodes
 * that send every row left (rank 255, missing values left too) down to a
 * leaf holding its values. */
static void lay_complete(const kn__flat_forest *f, size_t t, const size_t *packed, uint32_t *inner,
                         double *leaves)
{
    size_t depth = f->depth[t], first_leaf = ((size_t)1 << depth) - 1, w = f->width, top = 0;
    struct {
        int32_t node;
        size_t k, d;
    } stack[COMPLETE_DEPTH + 2]; /* depth first: one pending sibling per level */
    stack[top++].node = f->root[t];
    stack[0].k = stack[0].d = 0;
    while (top) {
        --top;
        int32_t i = stack[top].node;
        size_t k = stack[top].k, d = stack[top].d;
        const kn__pnode *nd = &f->node[i];
        if (nd->next != i) {
            inner[k] = (uint32_t)packed[i];
            stack[top].node = nd->next + 1, stack[top].k = 2 * k + 2, stack[top++].d = d + 1;
            stack[top].node = nd->next, stack[top].k = 2 * k + 1, stack[top++].d = d + 1;
            continue;
        }
        for (; d < depth; d++, k = 2 * k + 1) inner[k] = 1u << 8 | 255;
        memcpy(leaves + (k - first_leaf) * w, f->leaf + (size_t)i * w, w * sizeof *leaves);
    }
}

/* The coded layout (flat_forest.h) when every feature the trees test has
 * at most 254 distinct thresholds; otherwise none (KN_OK either way). A
 * threshold of +inf is no cut: its rank 255, like a leaf's, is never
 * exceeded, and missing values still go their own way. */
static kn_status build_coded(kn__flat_forest *f, size_t total)
{
    size_t p = 0; /* features up to the last tested one (leaves point to themselves) */
    for (size_t i = 0; i < total; i++)
        if (f->node[i].next != (int32_t)i && (size_t)f->node[i].feature / LANES + 1 > p)
            p = (size_t)f->node[i].feature / LANES + 1;
    size_t *slot = kn_calloc(p + 1, sizeof *slot), *count = NULL, used = 0;
    if (!slot) return KN_ERR_NOMEM;
    for (size_t i = 0; i < total; i++) /* slot: 1 + the feature's place among those tested */
        if (f->node[i].next != (int32_t)i) slot[f->node[i].feature / LANES] = 1;
    for (size_t j = 0; j < p; j++)
        if (slot[j]) slot[j] = ++used;
    kn_status e = KN_OK;
    if (used * LANES >= (size_t)1 << 23) goto done; /* too many to code */
    count = kn_calloc((total > used ? total : used) + 1, sizeof *count);
    f->used = kn_malloc((used ? used : 1) * sizeof *f->used);
    f->cut_at = kn_calloc(used + 1, sizeof *f->cut_at);
    f->cuts = kn_malloc((total ? total : 1) * sizeof *f->cuts);
    f->coded_at = kn_malloc((f->n_trees + 1) * sizeof *f->coded_at);
    if (!count || !f->used || !f->cut_at || !f->cuts || !f->coded_at) {
        e = KN_ERR_NOMEM;
        goto done;
    }
    for (size_t j = 0; j < p; j++)
        if (slot[j]) f->used[slot[j] - 1] = j;
    /* thresholds by slot, then sorted and deduplicated */
    for (size_t i = 0; i < total; i++)
        if (f->node[i].threshold != INFINITY) count[slot[f->node[i].feature / LANES]]++;
    for (size_t k = 0; k < used; k++) count[k + 1] += count[k];
    for (size_t i = 0; i < total; i++)
        if (f->node[i].threshold != INFINITY)
            f->cuts[count[slot[f->node[i].feature / LANES] - 1]++] = f->node[i].threshold;
    size_t kept = 0, from = 0, ok = 1;
    for (size_t k = 0; k < used; k++) {
        size_t to = count[k]; /* (now the end of slot k's thresholds) */
        qsort(f->cuts + from, to - from, sizeof *f->cuts, by_value);
        f->cut_at[k] = kept;
        for (size_t i = from; i < to; i++)
            if (kept == f->cut_at[k] || f->cuts[i] != f->cuts[kept - 1])
                f->cuts[kept++] = f->cuts[i];
        if (kept - f->cut_at[k] > 254) ok = 0;
        from = to;
    }
    f->cut_at[used] = kept;
    for (size_t i = 0; ok && i < total; i++) { /* each node packed, in count's place */
        const kn__pnode *nd = &f->node[i];
        uint32_t rank = 255, at = 0, ml = f->missing_left[i];
        if (nd->next != (int32_t)i) {
            size_t k = slot[nd->feature / LANES] - 1;
            at = (uint32_t)(k * LANES);
            if (nd->threshold != INFINITY)
                rank =
                    rank_of(f->cuts + f->cut_at[k], f->cut_at[k + 1] - f->cut_at[k], nd->threshold);
        }
        count[i] = (size_t)(at << 9 | ml << 8 | rank);
    }
    size_t inner = 0;
    for (size_t t = 0; ok && t < f->n_trees; t++) {
        if (f->depth[t] > COMPLETE_DEPTH) ok = 0;
        f->coded_at[t] = inner;
        inner += ((size_t)1 << f->depth[t]) - 1;
    }
    if (ok) {
        f->coded_at[f->n_trees] = inner;
        f->coded = kn_calloc(inner ? inner : 1, sizeof *f->coded);
        f->coded_leaf = kn_calloc((inner + f->n_trees) * f->width, sizeof *f->coded_leaf);
        if (!f->coded || !f->coded_leaf) e = KN_ERR_NOMEM;
        for (size_t t = 0; e == KN_OK && t < f->n_trees; t++)
            lay_complete(f, t, count, f->coded + f->coded_at[t],
                         f->coded_leaf + (f->coded_at[t] + t) * f->width);
        if (e == KN_OK) f->n_used = used;
    }
done:
    if (e != KN_OK || !f->n_used) { /* the raw walk */
        kn_free(f->coded), kn_free(f->coded_at), kn_free(f->coded_leaf);
        kn_free(f->used), kn_free(f->cut_at), kn_free(f->cuts);
        f->coded = NULL, f->coded_at = NULL, f->coded_leaf = NULL;
        f->used = NULL, f->cut_at = NULL, f->cuts = NULL;
    }
    kn_free(slot);
    kn_free(count);
    return e;
}

kn_status kn__flat_build(kn__flat_forest *f, const kn__node *nodes, const size_t *offset,
                         size_t n_trees, const double *values, size_t width, size_t groups)
{
    memset(f, 0, sizeof *f);
    size_t total = offset[n_trees] - offset[0], biggest = 1;
    for (size_t t = 0; t < n_trees; t++)
        if (offset[t + 1] - offset[t] > biggest) biggest = offset[t + 1] - offset[t];
    if (total >= INT32_MAX) return kn_fail(KN_ERR_INVALID, "too many tree nodes to flatten");
    f->n_trees = n_trees;
    f->width = width;
    f->groups = groups;
    f->root = kn_malloc((n_trees ? n_trees : 1) * sizeof *f->root);
    f->depth = kn_malloc(n_trees ? n_trees : 1);
    f->node = kn_malloc((total ? total : 1) * sizeof *f->node);
    f->missing_left = kn_malloc(total ? total : 1);
    f->leaf = kn_malloc((total ? total * width : 1) * sizeof *f->leaf);
    uint8_t *d = kn_malloc(biggest);
    if (!f->root || !f->depth || !f->node || !f->missing_left || !f->leaf || !d) {
        kn_free(d);
        kn__flat_free(f);
        return KN_ERR_NOMEM;
    }
    for (size_t t = 0; t < n_trees; t++) {
        size_t o = offset[t] - offset[0], nn = offset[t + 1] - offset[t];
        const kn__node *tr = nodes + offset[t];
        size_t depth = tree_depth(tr, nn, d);
        if (depth > 255) {
            kn_free(d);
            kn__flat_free(f);
            return kn_fail(KN_ERR_INVALID, "a tree deeper than 255 levels");
        }
        f->root[t] = (int32_t)o;
        f->depth[t] = (uint8_t)depth;
        for (size_t i = 0; i < nn; i++) {
            kn__pnode *p = &f->node[o + i];
            if (tr[i].feature >= 0) {
                p->threshold = tr[i].threshold;
                if ((size_t)tr[i].feature > INT32_MAX / LANES) {
                    kn_free(d);
                    kn__flat_free(f);
                    return kn_fail(KN_ERR_INVALID, "too many features to flatten");
                }
                p->feature = tr[i].feature * LANES;
                p->next = (int32_t)o + tr[i].left;
                f->missing_left[o + i] = tr[i].missing_left;
            } else { /* stays put: nothing exceeds +inf, missing values go "left" to itself */
                p->threshold = INFINITY;
                p->feature = 0;
                p->next = (int32_t)(o + i);
                f->missing_left[o + i] = 1;
            }
            for (size_t c = 0; c < width; c++)
                f->leaf[(o + i) * width + c] =
                    values ? values[(offset[t] + i) * width + c] : tr[i].value;
        }
    }
    kn_free(d);
    kn_status e = build_coded(f, total);
    if (e != KN_OK) kn__flat_free(f);
    return e;
}

/* Eight rows down one tree; NAN_AWARE: the block holds missing values. */
#define WALK(NAN_AWARE)                                                                            \
    for (unsigned s = 0; s < steps; s++)                                                           \
        _Pragma("GCC unroll 16") for (size_t u = 0; u < LANES; u++)                                \
        {                                                                                          \
            const kn__pnode *nd = &node[at[u]];                                                    \
            double v = x[nd->feature + (int32_t)u];                                                \
            int right = v > nd->threshold;                                                         \
            if (NAN_AWARE) right |= (v != v) & !f->missing_left[at[u]];                            \
            at[u] = nd->next + right;                                                              \
        }

/* The coded walk's step: right when the rank exceeds the node's. */
#define WALK_CODED(NAN_AWARE)                                                                      \
    for (unsigned s = 0; s < steps; s++)                                                           \
        _Pragma("GCC unroll 16") for (size_t u = 0; u < LANES; u++)                                \
        {                                                                                          \
            uint32_t nd = tree[at[u]];                                                             \
            unsigned c = x[(nd >> 9) + u];                                                         \
            uint32_t right = c > (nd & 255);                                                       \
            if (NAN_AWARE) right = c == 255 ? !(nd >> 8 & 1) : right;                              \
            at[u] = 2 * at[u] + 1 + right;                                                         \
        }

#ifdef KN_HAVE_AVX512
#include <immintrin.h>

/* The coded walk of one tree for a block's m rows, sixteen rows in one
 * AVX-512 register: each step gathers the sixteen nodes and then the
 * sixteen rank bytes they test (as dwords: the buffer has 3 bytes of
 * slack), and the leaf values are gathered and added to o[0 .. m) under a
 * mask. Width-1 leaves only. The same steps as WALK_CODED. */
#define GROUPS16 4 /* groups of sixteen rows in flight: hides the gathers' latency */

/* The child of sixteen rows at nodes nd (their rank bytes c). */
__attribute__((target("avx512f"))) static inline __m512i child16(__m512i at, __m512i nd, __m512i c,
                                                                 int missing)
{
    const __m512i one = _mm512_set1_epi32(1), low = _mm512_set1_epi32(255);
    __mmask16 right = _mm512_cmpgt_epu32_mask(c, _mm512_and_si512(nd, low));
    if (missing) {
        __mmask16 miss = _mm512_cmpeq_epi32_mask(c, low);
        __mmask16 go_left = _mm512_test_epi32_mask(nd, _mm512_set1_epi32(256));
        right = (__mmask16)((right & ~miss) | (miss & ~go_left));
    }
    at = _mm512_add_epi32(_mm512_add_epi32(at, at), one);
    return _mm512_mask_add_epi32(at, right, at, one);
}

/* One step of sixteen rows: their node (from registers t0, t1 while the
 * rows are among the first 31 nodes, else gathered), the rank byte it
 * tests, the child. */
__attribute__((target("avx512f"))) static inline __m512i step16(__m512i at, const uint32_t *tree,
                                                                int near, __m512i t0, __m512i t1,
                                                                const uint8_t *x, int missing)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i nd = near ? _mm512_permutex2var_epi32(t0, at, t1)
                      : _mm512_i32gather_epi32(at, (const void *)tree, 4);
    __m512i off = _mm512_add_epi32(_mm512_srli_epi32(nd, 9), lane);
    __m512i c =
        _mm512_and_si512(_mm512_i32gather_epi32(off, (const void *)x, 1), _mm512_set1_epi32(255));
    return child16(at, nd, c, missing);
}

/* The first step: every row at the root, whose slot's sixteen rank bytes
 * are one load. */
__attribute__((target("avx512f"))) static inline __m512i root16(uint32_t root, const uint8_t *x,
                                                                int missing)
{
    __m512i c =
        _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(x + (root >> 9))));
    return child16(_mm512_setzero_si512(), _mm512_set1_epi32((int)root), c, missing);
}

/* o[0 .. lanes) += the leaf values of the sixteen rows at nodes at. */
__attribute__((target("avx512f"))) static inline void
add_leaves16(__m512i at, uint32_t first_leaf, const double *leaf, size_t lanes, double *o)
{
    __m512i idx = _mm512_sub_epi32(at, _mm512_set1_epi32((int)first_leaf));
    __mmask8 lo = (__mmask8)(lanes >= 8 ? 0xff : (1u << lanes) - 1);
    __mmask8 hi = (__mmask8)(lanes >= 16 ? 0xff : lanes > 8 ? (1u << (lanes - 8)) - 1 : 0);
    __m512d vlo = _mm512_i32gather_pd(_mm512_castsi512_si256(idx), leaf, 8);
    __m512d vhi = _mm512_i32gather_pd(_mm512_extracti64x4_epi64(idx, 1), leaf, 8);
    _mm512_mask_storeu_pd(o, lo, _mm512_add_pd(_mm512_maskz_loadu_pd(lo, o), vlo));
    _mm512_mask_storeu_pd(o + 8, hi, _mm512_add_pd(_mm512_maskz_loadu_pd(hi, o + 8), vhi));
}

/* The coded walk of one tree for a block's m rows, sixteen rows in one
 * AVX-512 register and GROUPS16 registers in flight: each step gathers the
 * nodes and then the rank bytes they test (as dwords: the buffer has 3
 * bytes of slack); the leaf values are gathered and added to o[0 .. m)
 * under a mask. Width-1 leaves only. The same steps as WALK_CODED. */
__attribute__((target("avx512f"))) static void walk16(const uint32_t *tree, unsigned steps,
                                                      const uint8_t *xb, size_t p, size_t m,
                                                      int missing, const double *leaf,
                                                      uint32_t first_leaf, double *o)
{
    size_t r = 0, span = GROUPS16 * LANES;
    /* the top five levels (31 nodes) in two registers: steps 1-4 need no
     * node gather */
    unsigned near = steps >= 5 ? 5 : 0;
    __m512i t0 = near ? _mm512_loadu_si512((const void *)tree) : _mm512_setzero_si512();
    /* (nodes 16-30 only: a depth-5 tree has no node 31 to read) */
    __m512i t1 = near ? _mm512_maskz_loadu_epi32(0x7fff, tree + 16) : t0;
    for (; r + span <= m; r += span) {
        __m512i at[GROUPS16];
        for (size_t g = 0; g < GROUPS16; g++)
            at[g] =
                steps ? root16(tree[0], xb + (r + g * LANES) * p, missing) : _mm512_setzero_si512();
        for (unsigned s = 1; s < steps; s++)
            for (size_t g = 0; g < GROUPS16; g++)
                at[g] = step16(at[g], tree, s < near, t0, t1, xb + (r + g * LANES) * p, missing);
        for (size_t g = 0; g < GROUPS16; g++)
            add_leaves16(at[g], first_leaf, leaf, LANES, o + r + g * LANES);
    }
    for (; r < m; r += LANES) {
        __m512i at = steps ? root16(tree[0], xb + r * p, missing) : _mm512_setzero_si512();
        for (unsigned s = 1; s < steps; s++)
            at = step16(at, tree, s < near, t0, t1, xb + r * p, missing);
        add_leaves16(at, first_leaf, leaf, m - r < LANES ? m - r : LANES, o + r);
    }
}

/* pos + step in the lanes whose threshold (clo for rows 0-7, chi for rows
 * 8-15) is below the value (lo, hi). */
__attribute__((target("avx512f"))) static inline __m512i
add_below16(__m512i pos, __m512d clo, __m512d chi, __m512d lo, __m512d hi, int step)
{
    __mmask16 below = (__mmask16)(_mm512_cmp_pd_mask(clo, lo, _CMP_LT_OQ) |
                                  _mm512_cmp_pd_mask(chi, hi, _CMP_LT_OQ) << 8);
    return _mm512_mask_add_epi32(pos, below, pos, _mm512_set1_epi32(step));
}

/* Up to this many thresholds, ranking counts the thresholds below each
 * value with broadcast compares instead of a binary search of gathers. */
#define RANK_LINEAR 64

/* Ranks of v[0 .. rows) among cut[0 .. nc) (as rank_of; rows a multiple of LANES), sixteen
 * rows at a time: the binary search in lockstep with the thresholds
 * gathered (or, for few thresholds, a count); each group's sixteen codes to dst + group * stride.
 * Returns whether any value was missing. */
__attribute__((target("avx512f"))) static int rank16(const double *cut, size_t nc, const double *v,
                                                     uint8_t *dst, size_t stride, size_t rows)
{
    __mmask16 any_missing = 0;
    for (size_t i = 0; i < rows; i += LANES, dst += stride) {
        __m512d lo = _mm512_loadu_pd(v + i), hi = _mm512_loadu_pd(v + i + 8);
        __mmask16 miss = (__mmask16)(_mm512_cmp_pd_mask(lo, lo, _CMP_UNORD_Q) |
                                     _mm512_cmp_pd_mask(hi, hi, _CMP_UNORD_Q) << 8);
        __m512i pos = _mm512_setzero_si512();
        if (nc <= RANK_LINEAR) /* few thresholds: count those below, no gathers */
            for (size_t t = 0; t < nc; t++)
                pos = add_below16(pos, _mm512_set1_pd(cut[t]), _mm512_set1_pd(cut[t]), lo, hi, 1);
        else {
            for (size_t len = nc; len > 1;) {
                int half = (int)(len / 2);
                __m512i at = _mm512_add_epi32(pos, _mm512_set1_epi32(half));
                pos = add_below16(pos, _mm512_i32gather_pd(_mm512_castsi512_si256(at), cut, 8),
                                  _mm512_i32gather_pd(_mm512_extracti64x4_epi64(at, 1), cut, 8), lo,
                                  hi, half);
                len -= (size_t)half;
            }
            pos = add_below16(pos, _mm512_i32gather_pd(_mm512_castsi512_si256(pos), cut, 8),
                              _mm512_i32gather_pd(_mm512_extracti64x4_epi64(pos, 1), cut, 8), lo,
                              hi, 1);
        }
        pos = _mm512_mask_mov_epi32(pos, miss, _mm512_set1_epi32(255));
        _mm_storeu_si128((__m128i *)(void *)dst, _mm512_cvtepi32_epi8(pos));
        any_missing |= miss;
    }
    return any_missing != 0;
}
#endif

/* predict_block on ranks: the block's rows ranked into groups of LANES
 * bytes per feature. */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC's straight-line vectoriser packs the lanes' steps into vector
 * registers and back, with spills: slower than plain scalar code */
__attribute__((optimize("no-tree-slp-vectorize")))
#endif
static void
predict_block_coded(const kn__flat_forest *f, const double *const *col, size_t n, size_t i0,
                    size_t i1, int avx512, uint8_t *xb, double *out)
{
    /* the rows walked: m rounded up to whole groups of LANES (a short block,
     * as one row is, ranks no more) */
    size_t w = f->width, m = i1 - i0, p = f->n_used, mr = (m + LANES - 1) / LANES * LANES;
    int missing = 0;
    double v[CODED_BLOCK];
    uint32_t pos[CODED_BLOCK];
    for (size_t j = 0; j < p; j++) { /* rank_of for the block's values in lockstep */
        const double *cut = f->cuts + f->cut_at[j];
        size_t nc = f->cut_at[j + 1] - f->cut_at[j];
        for (size_t i = 0; i < mr; i++) {
            v[i] = col[f->used[j]][i0 + (i < m ? i : m - 1)]; /* the tail repeats a row */
            pos[i] = 0;
        }
#ifdef KN_HAVE_AVX512
        if (avx512) {
            missing |= rank16(cut, nc, v, xb + j * LANES, LANES * p, mr);
            continue;
        }
#endif
        for (size_t len = nc; len > 1;) {
            uint32_t half = (uint32_t)(len / 2);
            for (size_t i = 0; i < mr; i++) pos[i] += cut[pos[i] + half] < v[i] ? half : 0;
            len -= half;
        }
        for (size_t i = 0; i < mr; i++) {
            uint8_t c = v[i] != v[i] ? 255 : nc ? (uint8_t)(pos[i] + (cut[pos[i]] < v[i])) : 0;
            xb[(i / LANES) * LANES * p + j * LANES + i % LANES] = c;
            missing |= c == 255;
        }
    }
    for (size_t t = 0; t < f->n_trees; t++) {
        const uint32_t *tree = f->coded + f->coded_at[t];
        unsigned steps = f->depth[t];
        const double *leaf = f->coded_leaf + (f->coded_at[t] + t) * w;
        uint32_t first_leaf = ((uint32_t)1 << steps) - 1;
        double *o = out + (t % f->groups) * w * n;
#ifdef KN_HAVE_AVX512
        if (avx512 && w == 1) {
            walk16(tree, steps, xb, p, m, missing, leaf, first_leaf, o + i0);
            continue;
        }
#else
        (void)avx512;
#endif
        for (size_t r = 0; r < m; r += LANES) {
            const uint8_t *x = xb + r * p;
            uint32_t at[LANES] = {0};
            if (missing) {
                WALK_CODED(1)
            } else {
                WALK_CODED(0)
            }
            size_t lanes = m - r < LANES ? m - r : LANES;
            for (size_t u = 0; u < lanes; u++)
                for (size_t c = 0; c < w; c++)
                    o[c * n + i0 + r + u] += leaf[(size_t)(at[u] - first_leaf) * w + c];
        }
    }
}

/* One block of rows [i0, i1) through every tree. The block's rows are
 * first copied into groups of eight, interleaved (feature j of the group's
 * row u at x[j * 8 + u]): a lane's value is one load from the node's
 * feature offset, and the eight lanes share one base register. Blocks
 * without missing values skip the missing-value test. */
static void predict_block(const kn__flat_forest *f, const double *const *col, size_t p, size_t n,
                          size_t i0, size_t i1, double *xb, double *out)
{
    const kn__pnode *node = f->node;
    size_t w = f->width, m = i1 - i0, mr = (m + LANES - 1) / LANES * LANES; /* whole groups */
    int missing = 0;
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < mr; i++) {
            double v = col[j][i0 + (i < m ? i : m - 1)]; /* the tail repeats a row */
            xb[(i / LANES) * LANES * p + j * LANES + i % LANES] = v;
            missing |= v != v;
        }
    for (size_t t = 0; t < f->n_trees; t++) {
        int32_t root = f->root[t];
        unsigned steps = f->depth[t];
        double *o = out + (t % f->groups) * w * n;
        for (size_t r = 0; r < m; r += LANES) {
            const double *x = xb + r * p;
            int32_t at[LANES];
            for (size_t u = 0; u < LANES; u++) at[u] = root;
            if (missing) {
                WALK(1)
            } else {
                WALK(0)
            }
            size_t lanes = m - r < LANES ? m - r : LANES;
            for (size_t u = 0; u < lanes; u++)
                for (size_t c = 0; c < w; c++)
                    o[c * n + i0 + r + u] += f->leaf[(size_t)at[u] * w + c];
        }
    }
}

/* Below this many rows (and, coded, with few features used) the walks go
 * row by row, tree by tree, in scalar code: a lockstep block of one row
 * would rank and walk sixteen lanes (serving predicts one row). */
#define FEW_ROWS 8
#define FEW_USED 1024
#define FEW_TREES 8

/* The coded walk of rows [0, n) one at a time: the same ranks (rank_of),
 * steps (WALK_CODED with the missing-value test) and leaf sums, in the
 * same tree order, as the block walk. */
static void predict_few_coded(const kn__flat_forest *f, const double *const *col, size_t n,
                              double *out)
{
    size_t w = f->width;
    uint8_t rank[FEW_USED];
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < f->n_used; k++)
            rank[k] = rank_of(f->cuts + f->cut_at[k], f->cut_at[k + 1] - f->cut_at[k],
                              col[f->used[k]][i]);
        for (size_t t0 = 0; t0 < f->n_trees; t0 += FEW_TREES) {
            /* FEW_TREES trees walked together (their loads overlap), their
             * leaves then added in tree order */
            size_t nt = f->n_trees - t0 < FEW_TREES ? f->n_trees - t0 : FEW_TREES;
            uint32_t at[FEW_TREES] = {0};
            unsigned most = 0;
            for (size_t u = 0; u < nt; u++)
                if (f->depth[t0 + u] > most) most = f->depth[t0 + u];
            for (unsigned s = 0; s < most; s++)
                for (size_t u = 0; u < nt; u++) {
                    if (s >= f->depth[t0 + u]) continue;
                    uint32_t nd = f->coded[f->coded_at[t0 + u] + at[u]];
                    unsigned c = rank[nd >> 13]; /* the slot: (slot * 16 << 9) >> 13 */
                    uint32_t right = c == 255 ? !(nd >> 8 & 1) : c > (nd & 255);
                    at[u] = 2 * at[u] + 1 + right;
                }
            for (size_t u = 0; u < nt; u++) {
                size_t t = t0 + u;
                const double *leaf = f->coded_leaf + (f->coded_at[t] + t) * w;
                double *o = out + (t % f->groups) * w * n;
                uint32_t first_leaf = ((uint32_t)1 << f->depth[t]) - 1;
                for (size_t c = 0; c < w; c++)
                    o[c * n + i] += leaf[(size_t)(at[u] - first_leaf) * w + c];
            }
        }
    }
}

/* The plain walk (WALK with the missing-value test) of rows [0, n) one at
 * a time, FEW_TREES trees together, leaves added in tree order. */
static void predict_few(const kn__flat_forest *f, const double *const *col, size_t n, double *out)
{
    const kn__pnode *node = f->node;
    size_t w = f->width;
    for (size_t i = 0; i < n; i++)
        for (size_t t0 = 0; t0 < f->n_trees; t0 += FEW_TREES) {
            size_t nt = f->n_trees - t0 < FEW_TREES ? f->n_trees - t0 : FEW_TREES;
            int32_t at[FEW_TREES];
            unsigned most = 0;
            for (size_t u = 0; u < nt; u++) {
                at[u] = f->root[t0 + u];
                if (f->depth[t0 + u] > most) most = f->depth[t0 + u];
            }
            for (unsigned s = 0; s < most; s++)
                for (size_t u = 0; u < nt; u++) {
                    if (s >= f->depth[t0 + u]) continue;
                    const kn__pnode *nd = &node[at[u]];
                    double v = col[nd->feature / LANES][i];
                    int right = v > nd->threshold;
                    right |= (v != v) & !f->missing_left[at[u]];
                    at[u] = nd->next + right;
                }
            for (size_t u = 0; u < nt; u++) {
                double *o = out + ((t0 + u) % f->groups) * w * n;
                for (size_t c = 0; c < w; c++) o[c * n + i] += f->leaf[(size_t)at[u] * w + c];
            }
        }
}

kn_status kn__flat_predict(const kn__flat_forest *f, const double *const *col, size_t p, size_t n,
                           double *out)
{
    if (f->coded && n < FEW_ROWS && f->n_used <= FEW_USED) {
        predict_few_coded(f, col, n, out);
        return KN_OK;
    }
    if (!f->coded && n < FEW_ROWS) {
        predict_few(f, col, n, out);
        return KN_OK;
    }
    int failed = 0, avx512 = f->coded && kn__simd_avx512();
    kn_ctx *run = kn_ctx_current(); /* workers' scratch is the caller's */
#pragma omp parallel if (n * f->n_trees > 100000)
    {
        size_t block = f->coded ? CODED_BLOCK : BLOCK;
        void *xb = f->coded ? kn__malloc_in(run, CODED_BLOCK * f->n_used + 4) /* (walk16's slack) */
                            : kn__malloc_in(run, BLOCK * (p ? p : 1) * sizeof(double));
        if (!xb) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (size_t i0 = 0; i0 < n; i0 += block)
            if (xb && f->coded)
                predict_block_coded(f, col, n, i0, i0 + block < n ? i0 + block : n, avx512, xb,
                                    out);
            else if (xb)
                predict_block(f, col, p, n, i0, i0 + block < n ? i0 + block : n, xb, out);
        kn_free(xb);
    }
    return failed ? KN_ERR_NOMEM : KN_OK;
}
