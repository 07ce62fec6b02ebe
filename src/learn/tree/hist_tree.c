/* The histogram tree grower (hist_tree.h): leaves grown best-first,
 * rows partitioned per split; histograms in hist_build.c, split search in
 * split_find.c. */
#include "learn/tree/grower-impl.h"

#include "core/simd.h"
#include "core/threads.h"
#include "kiln/mem.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static double leaf_value(const grower *gr, const leaf *lf, const float *g, const float *h)
{
    double G = 0, H = 0;
    for (uint32_t k = lf->begin; k < lf->end; k++) G += g[gr->rows[k]], H += h[gr->rows[k]];
    double den = H + gr->par->l2;
    double w = den > 0 ? -soft(G, gr->par->l1) / den : 0, cap = gr->par->max_delta_step;
    if (cap > 0) w = fmin(fmax(w, -cap), cap);
    return fmin(fmax(w, lf->lo), lf->hi) * gr->par->shrinkage;
}

#ifdef KN_HAVE_AVX512
#include <immintrin.h>

/* split_rows on a feature column (numeric split), sixteen rows at a time:
 * their codes gathered (as dwords: the column array has 3 bytes of slack
 * after it), compared with the split's bin, and the left and the right rows
 * compressed into lo and hi. */
__attribute__((target("avx512f"))) static uint32_t split_col16(const uint32_t *rows, uint32_t a,
                                                               uint32_t b, const uint8_t *col,
                                                               const split *s, uint32_t *lo,
                                                               uint32_t *hi)
{
    const __m512i low = _mm512_set1_epi32(255), bin = _mm512_set1_epi32(s->bin);
    uint32_t nl = 0, nr = 0;
    for (uint32_t k = a; k < b; k += 16) {
        __mmask16 in = b - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (b - k)) - 1);
        __m512i r = _mm512_maskz_loadu_epi32(in, rows + k);
        __m512i c =
            _mm512_and_si512(_mm512_mask_i32gather_epi32(low, in, r, (const void *)col, 1), low);
        /* code <= bin: left (the missing code 255 is above every bin) */
        __mmask16 left = _mm512_mask_cmple_epu32_mask(in, c, bin);
        if (s->missing_left) left |= _mm512_mask_cmpeq_epi32_mask(in, c, low);
        __mmask16 right = (__mmask16)(in & ~left);
        unsigned cl = (unsigned)__builtin_popcount(left), cr = (unsigned)__builtin_popcount(right);
        _mm512_mask_storeu_epi32(lo + nl, (__mmask16)((1u << cl) - 1),
                                 _mm512_maskz_compress_epi32(left, r));
        _mm512_mask_storeu_epi32(hi + nr, (__mmask16)((1u << cr) - 1),
                                 _mm512_maskz_compress_epi32(right, r));
        nl += cl;
        nr += cr;
    }
    return nl;
}
#endif

/* Stable partition of rows[a, b) into lo (left rows) and hi (right
 * rows); returns the left count. The split becomes a table of the side
 * of every code (missing included), so a row costs a load, a table look-up
 * and two stores, without branches. */
static uint32_t split_rows(const grower *gr, const split *s, uint32_t a, uint32_t b, uint32_t *lo,
                           uint32_t *hi)
{
    size_t p = gr->d->p, f = (size_t)s->feature;
    const uint8_t *codes = gr->d->codes + f;
    if (gr->d->codes_by_feature) { /* the feature's own column: a small array */
        codes = gr->d->codes_by_feature + f * gr->d->n;
        p = 1;
    }
    uint8_t left_of[256];
    for (unsigned c = 0; c < 256; c++)
        left_of[c] = (uint8_t)(c == KN__BIN_MISSING ? s->missing_left
                               : s->categorical     ? kn__level_in(&s->set, c)
                                                    : c <= s->bin);
    const uint32_t *rows = gr->rows;
    uint32_t nl = 0, nr = 0;
#ifdef KN_HAVE_AVX512
    if (p == 1 && !s->categorical && gr->avx512) return split_col16(rows, a, b, codes, s, lo, hi);
#endif
    if (p == 1)
        for (uint32_t k = a; k < b; k++) {
            if (k + PREFETCH < b) __builtin_prefetch(codes + rows[k + PREFETCH]);
            uint32_t r = rows[k], left = left_of[codes[r]];
            lo[nl] = r;
            hi[nr] = r;
            nl += left;
            nr += left ^ 1;
        }
    else
        for (uint32_t k = a; k < b; k++) {
            if (k + PREFETCH < b) __builtin_prefetch(codes + (size_t)rows[k + PREFETCH] * p);
            uint32_t r = rows[k], left = left_of[codes[(size_t)r * p]];
            lo[nl] = r;
            hi[nr] = r;
            nl += left;
            nr += left ^ 1;
        }
    return nl;
}

/* Stable partition of the leaf's rows by its split; returns the first
 * right row. With par, large leaves split in parallel chunks, each chunk's
 * rows into scratch, then copied to their places in chunk order (the same
 * order whatever the thread count). A leaf's scratch is its own part of
 * gr->tmp, so disjoint leaves may be partitioned at once. */
static uint32_t partition(grower *gr, const leaf *lf, int par)
{
    uint32_t a = lf->begin, m = lf->end - lf->begin;
    int parts = par && m >= 65536 && gr->threads > 1 ? gr->threads : 1;
    uint32_t nl[64] = {0}, nr[64] = {0};
    if (parts > 64) parts = 64;
    uint32_t *lo = gr->tmp + 2 * (size_t)a, *hi = lo + m;
    if (parts == 1) { /* outside any region (a region of one still pays for its barriers) */
        uint32_t left = split_rows(gr, &lf->best, a, a + m, lo, hi);
        memcpy(gr->rows + a, lo, left * sizeof *lo);
        memcpy(gr->rows + a + left, hi, (m - left) * sizeof *hi);
        return a + left;
    }
    int team = 1;
#pragma omp parallel num_threads(parts)
    {
        /* the team may be smaller than asked for: chunk by its size */
        int nt = omp_get_num_threads(), t = nt > 1 ? omp_get_thread_num() : 0;
        if (t == 0) team = nt;
        uint32_t c0 = (uint32_t)((uint64_t)m * (uint64_t)t / (uint64_t)nt);
        uint32_t c1 = (uint32_t)((uint64_t)m * (uint64_t)(t + 1) / (uint64_t)nt);
        nl[t] = split_rows(gr, &lf->best, a + c0, a + c1, lo + c0, hi + c0);
        nr[t] = (c1 - c0) - nl[t];
#pragma omp barrier
        uint32_t left_at = a, right_at = a;
        for (int s = 0; s < nt; s++) right_at += nl[s];
        for (int s = 0; s < t; s++) left_at += nl[s], right_at += nr[s];
        memcpy(gr->rows + left_at, lo + c0, nl[t] * sizeof *lo);
        memcpy(gr->rows + right_at, hi + c0, nr[t] * sizeof *hi);
    }
    uint32_t total = 0;
    for (int s = 0; s < team; s++) total += nl[s];
    return a + total;
}

/* How many low bits of a packed hessian-and-count sum hold the count, for
 * m rows. */
static unsigned count_bits_for(size_t m)
{
    unsigned bits = 1;
    while (bits < 40 && ((uint64_t)1 << bits) <= m) bits++;
    return bits;
}

/* Whether d's histograms are built a feature at a time (wide data). */
static int is_wide(const kn__grow_data *d)
{
    return d->p >= WIDE && d->codes_by_feature;
}

/* Gradients to 16-bit integers scaled by the bound; hessians likewise,
 * to 11 bits when packed bins sum them (narrow data), and capped so that a
 * bin's hessian sum and row count share 64 bits. */
void kn__quant_scales(const kn__grow_data *d, size_t m, double g_max, double h_max, double *g_scale,
                      double *h_scale)
{
    unsigned bits = count_bits_for(m);
    double hq_max = fmin(is_wide(d) ? 32767 : PACK_HQ,
                         floor((double)(UINT64_MAX >> bits) / (double)(m ? m : 1)));
    *g_scale = g_max > 0 ? g_max / 32767 : 1;
    *h_scale = h_max > 0 ? h_max / fmax(hq_max, 1) : 1;
}

/* The tree's quantisation: at the caller's scales when it quantised the
 * rows already, else scaled by the largest magnitudes. */
static void quantise(grower *gr, size_t m, const float *g, const float *h)
{
    const kn__grow_data *d = gr->d;
    gr->count_bits = count_bits_for(m);
    gr->count_mask = ((uint64_t)1 << gr->count_bits) - 1;
    if (d->quantised) {
        gr->gs = d->g_scale;
        gr->hs = d->h_scale;
        return;
    }
    double gmax = d->g_max, hmax = d->h_max;
#pragma omp parallel for reduction(max : gmax, hmax) schedule(static) if (m > 50000)
    for (size_t k = 0; k < (d->known_max ? 0 : m); k++) {
        uint32_t r = gr->rows[k];
        double ga = fabs(g[r]), ha = fabs(h[r]); /* (fmax is a library call) */
        gmax = ga > gmax ? ga : gmax;
        hmax = ha > hmax ? ha : hmax;
    }
    kn__quant_scales(d, m, gmax, hmax, &gr->gs, &gr->hs);
    double ig = 1 / gr->gs, ih = 1 / gr->hs;
#pragma omp parallel for schedule(static) if (m > 50000)
    for (size_t k = 0; k < m; k++) {
        uint32_t r = gr->rows[k];
        gr->q[r][0] = kn__quantise(g[r], ig);
        gr->q[r][1] = kn__quantise(h[r], ih);
    }
}

void kn__tree_out_free(kn__tree_out *t)
{
    kn_free(t->nodes);
    kn_free(t->leaves);
    kn_free(t->sets);
    memset(t, 0, sizeof *t);
}

/* A split leaf's two children; small: whether the right one is the
 * smaller (its histogram is built, the larger's is the parent's minus it). */
typedef struct child {
    leaf left, right;
    int small;
    int split_later; /* the split searches wait for the level's other large leaves */
} child;

/* The split of leaf lf into the node record: its children at nodes left
 * and left + 1. */
static kn_status set_node(const grower *gr, const leaf *lf, kn__tree_out *out, int32_t left)
{
    kn__node *nd = &out->nodes[lf->node];
    nd->feature = lf->best.feature;
    nd->bin = lf->best.bin;
    nd->missing_left = lf->best.missing_left;
    nd->threshold = gr->d->bins->edges[(size_t)lf->best.feature * KN__EDGE_STRIDE + lf->best.bin];
    if (lf->best.categorical) { /* the threshold indexes the tree's level sets */
        kn__level_set *sets = kn_realloc(out->sets, (out->n_sets + 1) * sizeof *sets);
        if (!sets) return KN_ERR_NOMEM;
        out->sets = sets;
        sets[out->n_sets] = lf->best.set;
        nd->categorical = 1;
        nd->bin = 0;
        nd->threshold = (double)out->n_sets++;
    }
    nd->gain = lf->best.gain;
    nd->left = left;
    return KN_OK;
}

/* Partitions pl's rows and describes its children (their histograms not
 * yet built). */
static child make_children(grower *gr, leaf *pl, int par)
{
    uint32_t mid = partition(gr, pl, par);
    int32_t node = gr->out_nodes[pl->node].left;
    child c = {.left = {.node = node,
                        .begin = pl->begin,
                        .end = mid,
                        .depth = pl->depth + 1,
                        .g = pl->best.lg,
                        .h = pl->best.lh,
                        .n = pl->best.ln},
               .right = {.node = node + 1,
                         .begin = mid,
                         .end = pl->end,
                         .depth = pl->depth + 1,
                         .g = pl->g - pl->best.lg,
                         .h = pl->h - pl->best.lh,
                         .n = pl->n - pl->best.ln}};
    c.left.lo = c.right.lo = pl->lo;
    c.left.hi = c.right.hi = pl->hi;
    int mono = gr->d->monotone && !pl->best.categorical ? gr->d->monotone[pl->best.feature] : 0;
    if (mono) { /* the subtrees stay on their side of the midpoint */
        double between = (weight(gr, c.left.g, c.left.h, pl->lo, pl->hi) +
                          weight(gr, c.right.g, c.right.h, pl->lo, pl->hi)) /
                         2;
        if (mono > 0)
            c.left.hi = c.right.lo = between;
        else
            c.left.lo = c.right.hi = between;
    }
    c.small = c.left.end - c.left.begin > c.right.end - c.right.begin;
    /* the larger child takes over the parent's histogram */
    (c.small ? &c.left : &c.right)->hist = pl->hist;
    return c;
}

/* The smaller child's histogram built, the larger's by subtraction, and
 * both children's best splits. */
static int final_children(const grower *gr, const child *c)
{
    return gr->par->max_depth && c->left.depth >= gr->par->max_depth;
}

/* One child's best split; the larger child's histogram first becomes the
 * parent's minus the smaller's. */
static void child_split(const grower *gr, child *c, int right)
{
    leaf *l = right ? &c->right : &c->left;
    if (right == c->small) { /* (c->small: the right one is the smaller) */
        kn__best_split(gr, l);
        return;
    }
    const hbin *small = (right ? &c->left : &c->right)->hist;
    for (size_t i = 0, n = gr->d->p * NB; i < n; i++) l->hist[i].v -= small[i].v;
    kn__best_split(gr, l);
}

/* The smaller child's histogram built; with splits, the larger's by
 * subtraction and both children's best splits too. */
static void grow_children(grower *gr, child *c, int par, int splits)
{
    if (final_children(gr, c)) { /* leaves for good */
        c->left.best.feature = c->right.best.feature = -1;
        return;
    }
    leaf *small = c->small ? &c->right : &c->left;
    kn__build_hist(gr, small->begin, small->end, small->hist, par);
    if (!splits) return;
    child_split(gr, c, 0);
    child_split(gr, c, 1);
}

kn_status kn__grow_tree(const kn__grow_data *d, const kn__grow_params *par, uint32_t *rows,
                        size_t m, const float *g, const float *h, kn__tree_out *out)
{
    memset(out, 0, sizeof *out);
    size_t p = d->p, cap = par->max_leaves ? par->max_leaves : m > 0 ? m : 1;
    if (par->max_depth && par->max_depth < 31 && ((size_t)1 << par->max_depth) < cap)
        cap = (size_t)1 << par->max_depth;
    grower gr = {
        .d = d, .par = par, .rows = rows, .threads = kn__threads_here(), .level = omp_get_level()};
    /* (gathers index rows as signed 32-bit integers) */
    gr.avx512 = d->codes_by_feature && d->n < ((size_t)1 << 31) && kn__simd_avx512();
    leaf *lv = kn_calloc(cap, sizeof *lv);
    out->nodes = kn_calloc(2 * cap, sizeof *out->nodes);
    gr.out_nodes = out->nodes;
    gr.q = d->scratch_q ? d->scratch_q : kn_malloc((d->n ? d->n : 1) * sizeof *gr.q);
    gr.tmp = d->scratch_rows ? d->scratch_rows : kn_malloc((m ? 2 * m : 1) * sizeof *gr.tmp);
    gr.spare = kn_calloc((size_t)gr.threads, sizeof *gr.spare);
    int wide = is_wide(d);
    if (wide) gr.ordered = kn_malloc((m ? m : 1) * sizeof *gr.ordered);
    kn_status e = lv && out->nodes && gr.q && gr.tmp && gr.spare && (!wide || gr.ordered)
                      ? KN_OK
                      : KN_ERR_NOMEM;
    gr.packed = wide ? NULL : kn_calloc((size_t)gr.threads, sizeof *gr.packed);
    if (!wide && !gr.packed) e = KN_ERR_NOMEM;
    for (int t = 0; e == KN_OK && !wide && t < gr.threads; t++) { /* row-parallel buffers */
        if (t > 0 && !(gr.spare[t] = kn_malloc(p * NB * sizeof(hbin)))) e = KN_ERR_NOMEM;
        if (!(gr.packed[t] = kn_calloc(p * NB, sizeof(pbin)))) e = KN_ERR_NOMEM;
    }
    size_t n_leaves = 0, n_nodes = 0;
    if (e == KN_OK) {
        quantise(&gr, m, g, h);
        lv[0] = (leaf){.node = 0, .begin = 0, .end = (uint32_t)m, .lo = -INFINITY, .hi = INFINITY};
        if (!(lv[0].hist = kn_malloc(p * NB * sizeof(hbin)))) e = KN_ERR_NOMEM;
        n_leaves = n_nodes = 1;
    }
    if (e == KN_OK) {
        kn__build_hist(&gr, 0, (uint32_t)m, lv[0].hist, 1);
        uint64_t hn = 0;
        for (size_t b = 0; b < NB; b++) /* every row lands in one bin of feature 0 */
            lv[0].g += lv[0].hist[b].g, hn += lv[0].hist[b].hn;
        lv[0].h = (int64_t)(hn >> gr.count_bits);
        lv[0].n = (int64_t)(hn & gr.count_mask);
        kn__best_split(&gr, &lv[0]);
    }
    /* Without a binding leaf limit, best-first growth splits every leaf
     * that can split, whatever the order: such leaves split together, a
     * level at a time, in parallel over leaves once there are enough of
     * them (each by one thread, into its own rows, scratch and
     * histogram). With a leaf limit, the best leaf splits alone. */
    int all_at_once = !par->max_leaves || (par->max_depth && par->max_depth < 31 &&
                                           ((size_t)1 << par->max_depth) <= par->max_leaves);
    size_t *batch = kn_malloc(cap * sizeof *batch);
    child *kids = kn_malloc(cap * sizeof *kids);
    if (!batch || !kids) e = KN_ERR_NOMEM;
    while (e == KN_OK && n_leaves < cap) {
        size_t nb = 0, pick = n_leaves;
        for (size_t i = 0; i < n_leaves && n_leaves + nb < cap; i++) {
            const leaf *l = &lv[i];
            if (!l->hist || l->best.feature < 0 || !(l->best.gain > par->min_split_gain)) continue;
            if (par->max_depth && l->depth >= par->max_depth) continue;
            if (all_at_once)
                batch[nb++] = i;
            else if (pick == n_leaves || l->best.gain > lv[pick].best.gain)
                pick = i;
        }
        if (!all_at_once && pick < n_leaves) batch[nb++] = pick;
        if (nb == 0) break;
        for (size_t k = 0; e == KN_OK && k < nb; k++) {
            e = set_node(&gr, &lv[batch[k]], out, (int32_t)n_nodes);
            n_nodes += 2;
        }
        if (e != KN_OK) break;
        /* large leaves one after another, each by every thread; the rest
         * in parallel, one leaf per thread (sizes vary too much to share
         * out large leaves whole) */
        size_t n_small = 0, small_rows = 0;
        for (size_t k = 0; k < nb; k++) {
            size_t rows_k = lv[batch[k]].end - lv[batch[k]].begin;
            n_small += rows_k < LARGE;
            small_rows += rows_k < LARGE ? rows_k : 0;
        }
        int by_leaf = n_small >= 2 && gr.threads > 1 && small_rows * p >= PAR_HIST_WORK;
        for (size_t k = 0; k < nb; k++)
            if (lv[batch[k]].end - lv[batch[k]].begin >= LARGE || !by_leaf)
                kids[k] = make_children(&gr, &lv[batch[k]], 1);
        /* (regions only where they run in parallel: one of one thread
         * still pays for its barriers, system calls at every split) */
        if (by_leaf) {
#pragma omp parallel for schedule(dynamic, 1)
            for (size_t k = 0; k < nb; k++)
                if (lv[batch[k]].end - lv[batch[k]].begin < LARGE)
                    kids[k] = make_children(&gr, &lv[batch[k]], 0);
        }
        for (size_t k = 0; e == KN_OK && k < nb; k++) { /* the smaller child gets a new one */
            leaf *small = kids[k].small ? &kids[k].right : &kids[k].left;
            if (par->max_depth && small->depth >= par->max_depth) continue; /* no more splits */
            if (!(small->hist = kn_malloc(p * NB * sizeof(hbin)))) e = KN_ERR_NOMEM;
        }
        if (e != KN_OK) {
            for (size_t k = 0; k < nb; k++)
                kn_free(kids[k].small ? kids[k].right.hist : kids[k].left.hist);
            break;
        }
        /* large leaves: histograms by every thread, one leaf after another,
         * then all their children's split searches in parallel */
        for (size_t k = 0; k < nb; k++) {
            kids[k].split_later = (kids[k].right.end - kids[k].left.begin >= LARGE || !by_leaf);
            if (kids[k].split_later) grow_children(&gr, &kids[k], 1, 0);
            kids[k].split_later &= !final_children(&gr, &kids[k]);
        }
        size_t n_later = 0;
        for (size_t k = 0; k < nb; k++) n_later += kids[k].split_later;
        int split_par = gr.threads > 1 && 2 * n_later * p * NB >= PAR_SPLIT_WORK;
        if (split_par) {
#pragma omp parallel for schedule(dynamic, 1)
            for (size_t j = 0; j < 2 * nb; j++)
                if (kids[j / 2].split_later) child_split(&gr, &kids[j / 2], (int)(j % 2));
        } else
            for (size_t j = 0; j < 2 * nb; j++)
                if (kids[j / 2].split_later) child_split(&gr, &kids[j / 2], (int)(j % 2));
        if (by_leaf) {
#pragma omp parallel for schedule(dynamic, 1)
            for (size_t k = 0; k < nb; k++)
                if (kids[k].right.end - kids[k].left.begin < LARGE)
                    grow_children(&gr, &kids[k], 0, 1);
        }
        for (size_t k = 0; k < nb; k++) {
            leaf *pl = &lv[batch[k]], *nl = &lv[n_leaves++];
            *pl = kids[k].left;
            *nl = kids[k].right;
            /* a leaf that cannot split frees its histogram now */
            for (leaf *l = pl; l; l = l == pl ? nl : NULL)
                if (l->best.feature < 0 || (par->max_depth && l->depth >= par->max_depth)) {
                    kn_free(l->hist);
                    l->hist = NULL;
                }
        }
    }
    kn_free(batch);
    kn_free(kids);
    if (e == KN_OK && !(out->leaves = kn_malloc(n_leaves * sizeof *out->leaves))) e = KN_ERR_NOMEM;
        /* leaves hold disjoint rows: their values in parallel, each summed in order */
#pragma omp parallel for schedule(dynamic) if (e == KN_OK && m > 50000)
    for (size_t i = 0; i < n_leaves; i++) {
        if (e == KN_OK) {
            kn__node *nd = &out->nodes[lv[i].node];
            nd->feature = -1;
            nd->value = leaf_value(&gr, &lv[i], g, h);
            out->leaves[i] = (kn__leaf_rows){lv[i].node, lv[i].begin, lv[i].end};
        }
        kn_free(lv[i].hist);
    }
    /* row counts, from the leaves up (children come after their parent) */
    for (size_t i = 0; e == KN_OK && i < n_leaves; i++)
        out->nodes[lv[i].node].count = lv[i].end - lv[i].begin;
    for (size_t i = n_nodes; e == KN_OK && i-- > 0;)
        if (out->nodes[i].feature >= 0)
            out->nodes[i].count =
                out->nodes[out->nodes[i].left].count + out->nodes[out->nodes[i].left + 1].count;
    for (int t = 1; gr.spare && t < gr.threads; t++) kn_free(gr.spare[t]);
    kn_free(gr.spare);
    for (int t = 0; gr.packed && t < gr.threads; t++) kn_free(gr.packed[t]);
    kn_free(gr.packed);
    kn_free(gr.ordered);
    if (!d->scratch_q) kn_free(gr.q);
    if (!d->scratch_rows) kn_free(gr.tmp);
    kn_free(lv);
    if (e != KN_OK) {
        kn__tree_out_free(out);
        return e;
    }
    out->n_nodes = n_nodes;
    out->n_leaves = n_leaves;
    return KN_OK;
}

void kn__node_write(kn_wbuf *w, const kn__node *nd)
{
    kn_wbuf_f64(w, nd->threshold);
    kn_wbuf_f64(w, nd->value);
    kn_wbuf_f64(w, nd->gain);
    kn_wbuf_u32(w, (uint32_t)nd->feature);
    kn_wbuf_u32(w, (uint32_t)nd->left);
    kn_wbuf_u32(w, nd->count);
    kn_wbuf_u32(w, (uint32_t)nd->bin | (uint32_t)nd->missing_left << 8 |
                       (uint32_t)nd->categorical << 9 | (uint32_t)nd->missing_seen << 10);
}

kn_status kn__node_read(kn_rbuf *r, kn__node *nd)
{
    uint32_t f = 0, l = 0, c = 0, bits = 0;
    kn_status e = kn_rbuf_f64(r, &nd->threshold);
    if (e == KN_OK) e = kn_rbuf_f64(r, &nd->value);
    if (e == KN_OK) e = kn_rbuf_f64(r, &nd->gain);
    if (e == KN_OK) e = kn_rbuf_u32(r, &f);
    if (e == KN_OK) e = kn_rbuf_u32(r, &l);
    if (e == KN_OK) e = kn_rbuf_u32(r, &c);
    if (e == KN_OK) e = kn_rbuf_u32(r, &bits);
    nd->feature = (int32_t)f;
    nd->left = (int32_t)l;
    nd->count = c;
    nd->bin = (uint8_t)bits;
    nd->missing_left = (bits >> 8 & 1) != 0;
    nd->categorical = (bits >> 9 & 1) != 0;
    nd->missing_seen = (bits >> 10 & 1) != 0;
    return e;
}

kn_status kn__tree_check(const kn_rbuf *r, const kn__node *t, size_t n_nodes, size_t p)
{
    for (size_t i = 0; i < n_nodes; i++) {
        if (t[i].feature < 0) continue;
        if ((size_t)t[i].feature >= p || t[i].left <= (int32_t)i ||
            (size_t)t[i].left + 1 >= n_nodes)
            return kn_fail(KN_ERR_CORRUPT, "%s: tree node %zu is malformed", r->what, i);
    }
    return KN_OK;
}
