/* The histogram tree grower (hist_tree.h). */
#include "learn/hist_tree.h"

#include "kiln/mem.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define NB 256      /* histogram slots per feature: the bins and the missing code */
#define PREFETCH 16 /* rows ahead whose codes and gradients are fetched early */

/* A bin's sums: the quantised gradients, and the quantised hessians and
 * the row count packed into one word (h << count_bits | n), so a row costs
 * two additions. */
typedef struct hbin {
    int64_t g;
    uint64_t hn;
} hbin;

typedef struct split {
    double gain;
    int32_t feature; /* -1: none */
    uint8_t bin, missing_left, categorical;
    int64_t lg, lh, ln; /* the left child's sums */
    kn__level_set set;  /* categorical: the levels going left */
} split;

/* Categorical splits (as LightGBM's and scikit-learn's): levels with fewer
 * rows than CAT_SUPPORT stay with the rest; the others are ordered by
 * gradient over (hessian + CAT_SMOOTH), so small levels do not jump to the
 * ends of the order. */
#define CAT_SUPPORT 10
#define CAT_SMOOTH 10.0

typedef struct leaf {
    int32_t node;
    uint32_t begin, end, depth;
    int64_t g, h, n; /* quantised sums */
    double lo, hi;   /* bounds on the leaf's value (monotone constraints) */
    hbin *hist;      /* NULL once the leaf is final */
    split best;
} leaf;

typedef struct grower {
    const kn__grow_data *d;
    const kn__grow_params *par;
    uint32_t *rows;
    int16_t (*q)[2]; /* quantised gradient and hessian by row */
    double gs, hs;   /* their scales */
    unsigned count_bits;
    uint64_t count_mask;
    uint32_t *tmp; /* partition scratch */
    hbin **spare;  /* per-thread histogram buffers */
    int threads;
    int16_t (*ordered)[2]; /* wide data: a node's q in its row order */
} grower;

/* From this many features on, histograms are built feature by feature. */
#define WIDE 64

static double soft(double g, double l1)
{
    return g > l1 ? g - l1 : g < -l1 ? g + l1 : 0;
}

static double score(const grower *gr, int64_t g, int64_t h)
{
    double G = soft((double)g * gr->gs, gr->par->l1);
    return G * G / ((double)h * gr->hs + gr->par->l2);
}

/* The unshrunk value of a leaf with these sums, within [lo, hi]. */
static double weight(const grower *gr, int64_t g, int64_t h, double lo, double hi)
{
    double den = (double)h * gr->hs + gr->par->l2;
    double w = den > 0 ? -soft((double)g * gr->gs, gr->par->l1) / den : 0;
    return fmin(fmax(w, lo), hi);
}

/* How much a leaf with value w lowers the loss (score() at the optimum). */
static double score_at(const grower *gr, int64_t g, int64_t h, double w)
{
    double G = soft((double)g * gr->gs, gr->par->l1);
    return -(2 * G * w + ((double)h * gr->hs + gr->par->l2) * w * w);
}

/* Wide data: one feature at a time, so its 4 KB histogram stays in the
 * first-level cache while the node's rows are read (from the small
 * feature-major column; the gradients gathered once into row order);
 * features in parallel, each summed in row order (integers: exact). */
static void build_hist_by_feature(grower *gr, uint32_t b, uint32_t e, hbin *out)
{
    size_t p = gr->d->p, n = gr->d->n, m = e - b;
    const uint32_t *rows = gr->rows + b;
    unsigned bits = gr->count_bits;
    int16_t(*qo)[2] = gr->ordered;
    for (size_t k = 0; k < m; k++) {
        qo[k][0] = gr->q[rows[k]][0];
        qo[k][1] = gr->q[rows[k]][1];
    }
#pragma omp parallel for schedule(dynamic, 4) if (m * p >= 200000 && gr->threads > 1)
    for (size_t j = 0; j < p; j++) {
        hbin *h = out + j * NB;
        memset(h, 0, NB * sizeof *h);
        if (gr->d->feature_allowed && !gr->d->feature_allowed[j]) continue;
        const uint8_t *c = gr->d->codes_by_feature + j * n;
        for (size_t k = 0; k < m; k++) {
            hbin *x = h + c[rows[k]];
            x->g += qo[k][0];
            x->hn += ((uint64_t)(uint16_t)qo[k][1] << bits) | 1;
        }
    }
}

/* The histogram of rows[b, e): in parallel over row ranges for large
 * nodes, each thread into its own buffer, then added (integers: exact). */
static void build_hist(grower *gr, uint32_t b, uint32_t e, hbin *out)
{
    if (gr->ordered) {
        build_hist_by_feature(gr, b, e, out);
        return;
    }
    size_t p = gr->d->p, m = e - b;
    const uint8_t *codes = gr->d->codes;
    int parts = m * p >= 200000 && gr->threads > 1 ? gr->threads : 1;
#pragma omp parallel num_threads(parts) if (parts > 1)
    {
        int t = parts > 1 ? omp_get_thread_num() : 0;
        hbin *hist = t == 0 ? out : gr->spare[t];
        memset(hist, 0, p * NB * sizeof *hist);
        uint32_t lo = b + (uint32_t)(m * (size_t)t / (size_t)parts);
        uint32_t hi = b + (uint32_t)(m * (size_t)(t + 1) / (size_t)parts);
        for (uint32_t k = lo; k < hi; k++) {
            uint32_t r = gr->rows[k];
            if (k + PREFETCH < hi) { /* rows are scattered: fetch ahead */
                uint32_t ahead = gr->rows[k + PREFETCH];
                __builtin_prefetch(codes + (size_t)ahead * p);
                __builtin_prefetch(&gr->q[ahead]);
            }
            const uint8_t *c = codes + (size_t)r * p;
            int64_t qg = gr->q[r][0];
            uint64_t qhn = ((uint64_t)(uint16_t)gr->q[r][1] << gr->count_bits) | 1;
            hbin *hj = hist;
            for (size_t j = 0; j < p; j++, hj += NB) {
                hbin *x = hj + c[j];
                x->g += qg;
                x->hn += qhn;
            }
        }
#pragma omp barrier
        /* add the other threads' buffers, features split among threads */
        if (parts > 1) {
            size_t j0 = p * (size_t)t / (size_t)parts, j1 = p * (size_t)(t + 1) / (size_t)parts;
            for (int s = 1; s < parts; s++)
                for (size_t i = j0 * NB; i < j1 * NB; i++) {
                    out[i].g += gr->spare[s][i].g;
                    out[i].hn += gr->spare[s][i].hn;
                }
        }
    }
}

/* Whether a child with these sums may exist. */
static int child_ok(const grower *gr, int64_t h, int64_t n)
{
    return (size_t)n >= gr->par->min_samples_leaf && n > 0 &&
           (double)h * gr->hs >= gr->par->min_child_weight;
}

typedef struct level_key {
    double key;
    int bin;
} level_key;

static int by_key(const void *a, const void *b)
{
    const level_key *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->bin - y->bin;
}

/* The sets of the first 1..most levels of order (from its top end when
 * from_top), missing values on either side. */
static void level_prefixes(const grower *gr, const leaf *lf, size_t j, double parent,
                           const level_key *order, size_t C, size_t most, int from_top, split *best)
{
    const hbin *hj = lf->hist + j * NB, *mis = hj + KN__BIN_MISSING;
    int64_t mh = (int64_t)(mis->hn >> gr->count_bits), mn = (int64_t)(mis->hn & gr->count_mask);
    int64_t cg = 0;
    uint64_t chn = 0;
    kn__level_set set = {{0}};
    for (size_t k = 0; k < most; k++) {
        int bin = order[from_top ? C - 1 - k : k].bin;
        const hbin *x = hj + bin;
        cg += x->g, chn += x->hn;
        set.bits[bin >> 6] |= (uint64_t)1 << (bin & 63);
        int64_t ch = (int64_t)(chn >> gr->count_bits), cn = (int64_t)(chn & gr->count_mask);
        for (int ml = 0; ml <= (mn > 0); ml++) {
            int64_t lg = cg + (ml ? mis->g : 0), lh = ch + (ml ? mh : 0), ln = cn + (ml ? mn : 0);
            if (!child_ok(gr, lh, ln) || !child_ok(gr, lf->h - lh, lf->n - ln)) continue;
            double gain = score(gr, lg, lh) + score(gr, lf->g - lg, lf->h - lh) - parent;
            if (gain > best->gain)
                *best = (split){.gain = gain,
                                .feature = (int32_t)j,
                                .missing_left = (uint8_t)ml,
                                .categorical = 1,
                                .lg = lg,
                                .lh = lh,
                                .ln = ln,
                                .set = set};
        }
    }
}

/* The best set of levels of categorical feature j to send left: the
 * well-supported levels ordered by gradient over hessian, and the sets
 * of the first levels from either end of that order, up to half of them,
 * tried (with missing values on either side). */
static void best_level_set(const grower *gr, const leaf *lf, size_t j, double parent, split *best)
{
    const hbin *hj = lf->hist + j * NB;
    size_t nb = gr->d->bins->n_bins[j], C = 0;
    level_key order[KN__MAX_BINS] = {{0}};
    for (size_t b = 0; b < nb; b++) {
        uint64_t n = hj[b].hn & gr->count_mask;
        if (n < CAT_SUPPORT) continue;
        double H = (double)(hj[b].hn >> gr->count_bits) * gr->hs;
        order[C++] = (level_key){(double)hj[b].g * gr->gs / (H + CAT_SMOOTH), (int)b};
    }
    qsort(order, C, sizeof *order, by_key);
    size_t most = C > 1 ? (C + 1) / 2 : C;
    for (int from_top = 0; from_top < 2; from_top++)
        level_prefixes(gr, lf, j, parent, order, C, most, from_top, best);
}

/* The best split of a leaf from its histogram (ties: the lower feature,
 * then the lower bin, then missing values to the right). */
static void best_split(const grower *gr, leaf *lf)
{
    const kn__grow_data *d = gr->d;
    split best = {.gain = -INFINITY, .feature = -1};
    const int8_t *mono = d->monotone;
    double parent = mono ? score_at(gr, lf->g, lf->h, weight(gr, lf->g, lf->h, lf->lo, lf->hi))
                         : score(gr, lf->g, lf->h);
    for (size_t j = 0; j < d->p; j++) {
        if (d->feature_allowed && !d->feature_allowed[j]) continue;
        if (d->n_levels && d->n_levels[j]) {
            if (!mono) best_level_set(gr, lf, j, parent, &best);
            continue; /* (with monotone constraints, categorical features do not split) */
        }
        int c = mono ? mono[j] : 0;
        const hbin *hj = lf->hist + j * NB, *mis = hj + KN__BIN_MISSING;
        size_t nb = d->bins->n_bins[j];
        int64_t mh = (int64_t)(mis->hn >> gr->count_bits), mn = (int64_t)(mis->hn & gr->count_mask);
        int64_t cg = 0;
        uint64_t chn = 0;
        for (size_t b = 0; b < nb; b++) {
            cg += hj[b].g, chn += hj[b].hn;
            int64_t ch = (int64_t)(chn >> gr->count_bits), cn = (int64_t)(chn & gr->count_mask);
            for (int ml = 0; ml <= (mn > 0); ml++) {
                int64_t lg = cg + (ml ? mis->g : 0), lh = ch + (ml ? mh : 0);
                int64_t ln = cn + (ml ? mn : 0);
                if (!child_ok(gr, lh, ln) || !child_ok(gr, lf->h - lh, lf->n - ln)) continue;
                double gain;
                if (mono) { /* the children's values, clamped and in order */
                    int64_t rg = lf->g - lg, rh = lf->h - lh;
                    double wl = weight(gr, lg, lh, lf->lo, lf->hi);
                    double wr = weight(gr, rg, rh, lf->lo, lf->hi);
                    if ((c > 0 && wl > wr) || (c < 0 && wl < wr)) continue;
                    gain = score_at(gr, lg, lh, wl) + score_at(gr, rg, rh, wr) - parent;
                } else
                    gain = score(gr, lg, lh) + score(gr, lf->g - lg, lf->h - lh) - parent;
                if (gain > best.gain)
                    best = (split){.gain = gain,
                                   .feature = (int32_t)j,
                                   .bin = (uint8_t)b,
                                   .missing_left = (uint8_t)ml,
                                   .lg = lg,
                                   .lh = lh,
                                   .ln = ln};
            }
        }
    }
    lf->best = best;
}

static double leaf_value(const grower *gr, const leaf *lf, const double *g, const double *h)
{
    double G = 0, H = 0;
    for (uint32_t k = lf->begin; k < lf->end; k++) G += g[gr->rows[k]], H += h[gr->rows[k]];
    double den = H + gr->par->l2;
    double w = den > 0 ? -soft(G, gr->par->l1) / den : 0;
    return fmin(fmax(w, lf->lo), lf->hi) * gr->par->shrinkage;
}

/* Stable partition of rows[a, b) into lo (left rows) and hi (right
 * rows); returns the left count. */
static uint32_t split_rows(const grower *gr, const split *s, uint32_t a, uint32_t b, uint32_t *lo,
                           uint32_t *hi)
{
    size_t p = gr->d->p, f = (size_t)s->feature;
    const uint8_t *codes = gr->d->codes;
    if (gr->d->codes_by_feature) { /* the feature's own column: a small array */
        codes = gr->d->codes_by_feature + f * gr->d->n;
        p = 1;
        f = 0;
    }
    uint32_t nl = 0, nr = 0;
    if (s->categorical) {
        kn__level_set set = s->set;
        set.bits[3] = (set.bits[3] & ~((uint64_t)1 << 63)) | (uint64_t)s->missing_left << 63;
        for (uint32_t k = a; k < b; k++) {
            uint32_t r = gr->rows[k];
            if (k + PREFETCH < b)
                __builtin_prefetch(codes + (size_t)gr->rows[k + PREFETCH] * p + f);
            int left = kn__level_in(&set, codes[(size_t)r * p + f]); /* code 255: missing */
            lo[nl] = r;
            hi[nr] = r;
            nl += (uint32_t)left;
            nr += (uint32_t)!left;
        }
        return nl;
    }
    for (uint32_t k = a; k < b; k++) {
        uint32_t r = gr->rows[k];
        if (k + PREFETCH < b) __builtin_prefetch(codes + (size_t)gr->rows[k + PREFETCH] * p + f);
        uint8_t c = codes[(size_t)r * p + f];
        int left = c == KN__BIN_MISSING ? s->missing_left : c <= s->bin;
        lo[nl] = r;
        hi[nr] = r;
        nl += (uint32_t)left;
        nr += (uint32_t)!left;
    }
    return nl;
}

/* Stable partition of the leaf's rows by its split; returns the first
 * right row. Large leaves split in parallel chunks, each chunk's rows into
 * scratch, then copied to their places in chunk order (the same order
 * whatever the thread count). */
static uint32_t partition(grower *gr, const leaf *lf)
{
    uint32_t a = lf->begin, m = lf->end - lf->begin;
    int parts = m >= 65536 && gr->threads > 1 ? gr->threads : 1;
    uint32_t nl[64] = {0}, nr[64] = {0};
    if (parts > 64) parts = 64;
    uint32_t *lo = gr->tmp, *hi = gr->tmp + m;
#pragma omp parallel num_threads(parts) if (parts > 1)
    {
        int t = parts > 1 ? omp_get_thread_num() : 0;
        uint32_t c0 = (uint32_t)((uint64_t)m * (uint64_t)t / (uint64_t)parts);
        uint32_t c1 = (uint32_t)((uint64_t)m * (uint64_t)(t + 1) / (uint64_t)parts);
        nl[t] = split_rows(gr, &lf->best, a + c0, a + c1, lo + c0, hi + c0);
        nr[t] = (c1 - c0) - nl[t];
#pragma omp barrier
        uint32_t left_at = a, right_at = a;
        for (int s = 0; s < parts; s++) right_at += nl[s];
        for (int s = 0; s < t; s++) left_at += nl[s], right_at += nr[s];
        memcpy(gr->rows + left_at, lo + c0, nl[t] * sizeof *lo);
        memcpy(gr->rows + right_at, hi + c0, nr[t] * sizeof *hi);
    }
    uint32_t total = 0;
    for (int s = 0; s < parts; s++) total += nl[s];
    return a + total;
}

/* x rounded to the nearest integer, ties to even (lrint's result in the
 * default rounding mode, |x| < 2^51), without a library call: adding
 * 1.5 * 2^52 leaves no bits below the units. */
static inline double round_even(double x)
{
    const double b = 6755399441055744.0; /* IEEE arithmetic keeps (x + b) - b */
    return (x + b) - b;
}

/* Gradients to 16-bit integers scaled by the largest magnitude; hessians
 * likewise, capped so that a bin's hessian sum and row count share 64 bits. */
static void quantise(grower *gr, size_t m, const double *g, const double *h)
{
    double gmax = 0, hmax = 0;
#pragma omp parallel for reduction(max : gmax, hmax) schedule(static) if (m > 50000)
    for (size_t k = 0; k < m; k++) {
        uint32_t r = gr->rows[k];
        gmax = fmax(gmax, fabs(g[r]));
        hmax = fmax(hmax, fabs(h[r]));
    }
    unsigned bits = 1;
    while (bits < 40 && ((uint64_t)1 << bits) <= m) bits++;
    gr->count_bits = bits;
    gr->count_mask = ((uint64_t)1 << bits) - 1;
    double hq_max = fmin(32767, floor((double)(UINT64_MAX >> bits) / (double)(m ? m : 1)));
    gr->gs = gmax > 0 ? gmax / 32767 : 1;
    gr->hs = hmax > 0 ? hmax / fmax(hq_max, 1) : 1;
    double ig = 1 / gr->gs, ih = 1 / gr->hs;
#pragma omp parallel for schedule(static) if (m > 50000)
    for (size_t k = 0; k < m; k++) {
        uint32_t r = gr->rows[k];
        gr->q[r][0] = (int16_t)round_even(g[r] * ig);
        gr->q[r][1] = (int16_t)round_even(h[r] * ih);
    }
}

void kn__tree_out_free(kn__tree_out *t)
{
    kn_free(t->nodes);
    kn_free(t->leaves);
    kn_free(t->sets);
    memset(t, 0, sizeof *t);
}

kn_status kn__grow_tree(const kn__grow_data *d, const kn__grow_params *par, uint32_t *rows,
                        size_t m, const double *g, const double *h, kn__tree_out *out)
{
    memset(out, 0, sizeof *out);
    size_t p = d->p, cap = par->max_leaves ? par->max_leaves : m > 0 ? m : 1;
    if (par->max_depth && par->max_depth < 31 && ((size_t)1 << par->max_depth) < cap)
        cap = (size_t)1 << par->max_depth;
    grower gr = {.d = d, .par = par, .rows = rows, .threads = omp_get_max_threads()};
    leaf *lv = kn_calloc(cap, sizeof *lv);
    out->nodes = kn_calloc(2 * cap, sizeof *out->nodes);
    gr.q = d->scratch_q ? d->scratch_q : kn_malloc((d->n ? d->n : 1) * sizeof *gr.q);
    gr.tmp = d->scratch_rows ? d->scratch_rows : kn_malloc((m ? 2 * m : 1) * sizeof *gr.tmp);
    gr.spare = kn_calloc((size_t)gr.threads, sizeof *gr.spare);
    int wide = p >= WIDE && d->codes_by_feature;
    if (wide) gr.ordered = kn_malloc((m ? m : 1) * sizeof *gr.ordered);
    kn_status e = lv && out->nodes && gr.q && gr.tmp && gr.spare && (!wide || gr.ordered)
                      ? KN_OK
                      : KN_ERR_NOMEM;
    for (int t = 1; e == KN_OK && !wide && t < gr.threads; t++) /* row-parallel buffers */
        if (!(gr.spare[t] = kn_malloc(p * NB * sizeof(hbin)))) e = KN_ERR_NOMEM;
    size_t n_leaves = 0, n_nodes = 0;
    if (e == KN_OK) {
        quantise(&gr, m, g, h);
        lv[0] = (leaf){.node = 0, .begin = 0, .end = (uint32_t)m, .lo = -INFINITY, .hi = INFINITY};
        if (!(lv[0].hist = kn_malloc(p * NB * sizeof(hbin)))) e = KN_ERR_NOMEM;
        n_leaves = n_nodes = 1;
    }
    if (e == KN_OK) {
        build_hist(&gr, 0, (uint32_t)m, lv[0].hist);
        uint64_t hn = 0;
        for (size_t b = 0; b < NB; b++) /* every row lands in one bin of feature 0 */
            lv[0].g += lv[0].hist[b].g, hn += lv[0].hist[b].hn;
        lv[0].h = (int64_t)(hn >> gr.count_bits);
        lv[0].n = (int64_t)(hn & gr.count_mask);
        best_split(&gr, &lv[0]);
    }
    while (e == KN_OK && n_leaves < cap) {
        size_t pick = n_leaves;
        for (size_t i = 0; i < n_leaves; i++) {
            const leaf *l = &lv[i];
            if (!l->hist || l->best.feature < 0 || !(l->best.gain > par->min_split_gain)) continue;
            if (par->max_depth && l->depth >= par->max_depth) continue;
            if (pick == n_leaves || l->best.gain > lv[pick].best.gain) pick = i;
        }
        if (pick == n_leaves) break;
        leaf *pl = &lv[pick], *nl = &lv[n_leaves];
        kn__node *nd = &out->nodes[pl->node];
        nd->feature = pl->best.feature;
        nd->bin = pl->best.bin;
        nd->missing_left = pl->best.missing_left;
        nd->threshold = d->bins->edges[(size_t)pl->best.feature * KN__EDGE_STRIDE + pl->best.bin];
        if (pl->best.categorical) { /* the threshold indexes the tree's level sets */
            kn__level_set *sets = kn_realloc(out->sets, (out->n_sets + 1) * sizeof *sets);
            if (!sets) {
                e = KN_ERR_NOMEM;
                break;
            }
            out->sets = sets;
            sets[out->n_sets] = pl->best.set;
            nd->categorical = 1;
            nd->bin = 0;
            nd->threshold = (double)out->n_sets++;
        }
        nd->gain = pl->best.gain;
        nd->left = (int32_t)n_nodes;
        uint32_t mid = partition(&gr, pl);
        leaf left = {.node = (int32_t)n_nodes,
                     .begin = pl->begin,
                     .end = mid,
                     .depth = pl->depth + 1,
                     .g = pl->best.lg,
                     .h = pl->best.lh,
                     .n = pl->best.ln};
        leaf right = {.node = (int32_t)n_nodes + 1,
                      .begin = mid,
                      .end = pl->end,
                      .depth = pl->depth + 1,
                      .g = pl->g - pl->best.lg,
                      .h = pl->h - pl->best.lh,
                      .n = pl->n - pl->best.ln};
        left.lo = right.lo = pl->lo;
        left.hi = right.hi = pl->hi;
        int c = d->monotone && !pl->best.categorical ? d->monotone[pl->best.feature] : 0;
        if (c) { /* the subtrees stay on their side of the midpoint */
            double between = (weight(&gr, left.g, left.h, pl->lo, pl->hi) +
                              weight(&gr, right.g, right.h, pl->lo, pl->hi)) /
                             2;
            if (c > 0)
                left.hi = right.lo = between;
            else
                left.lo = right.hi = between;
        }
        n_nodes += 2;
        /* the smaller child is built, the larger is the parent minus it */
        leaf *small = left.end - left.begin <= right.end - right.begin ? &left : &right;
        leaf *large = small == &left ? &right : &left;
        large->hist = pl->hist;
        if (!(small->hist = kn_malloc(p * NB * sizeof(hbin)))) {
            e = KN_ERR_NOMEM;
            break;
        }
        build_hist(&gr, small->begin, small->end, small->hist);
        for (size_t i = 0; i < p * NB; i++) {
            large->hist[i].g -= small->hist[i].g;
            large->hist[i].hn -= small->hist[i].hn;
        }
        best_split(&gr, &left);
        best_split(&gr, &right);
        *pl = left;
        *nl = right;
        n_leaves++;
        /* a leaf that cannot split frees its histogram now */
        for (leaf *l = pl; l; l = l == pl ? nl : NULL)
            if (l->best.feature < 0 || (par->max_depth && l->depth >= par->max_depth)) {
                kn_free(l->hist);
                l->hist = NULL;
            }
    }
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
                       (uint32_t)nd->categorical << 9);
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
