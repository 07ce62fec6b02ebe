/* The histogram tree grower (hist_tree.h). */
#include "learn/tree/hist_tree.h"

#include "core/simd.h"
#include "core/threads.h"
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
typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef union hbin {
    struct {
        int64_t g;
        uint64_t hn;
    };
    u64x2 v; /* both at once: one load and one store per row and feature */
} hbin;

/* Narrow data first sums rows into packed bins, half the size of hbin
 * (the whole histogram of 20 features fits the first-level cache): one
 * 64-bit word holds the sums of up to 2^PACK_ROWS_LOG rows, the gradient
 * offset to be positive (q + 32768, 16 bits a row), the hessian (at most
 * PACK_HQ a row) and the count, in fields wide enough not to carry into
 * each other. Every 2^PACK_ROWS_LOG rows the packed bins are added into
 * the hbin histogram and cleared. */
typedef uint64_t pbin;
#define PACK_ROWS_LOG 12
#define PACK_ROWS (1u << PACK_ROWS_LOG)
#define PACK_G_BITS (16 + PACK_ROWS_LOG)         /* 28 */
#define PACK_H_BITS (11 + PACK_ROWS_LOG)         /* 23 */
#define PACK_N_SHIFT (PACK_G_BITS + PACK_H_BITS) /* the count: the top 13 bits */
#define PACK_HQ 2047                             /* 11-bit hessians */

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
    pbin **packed; /* per-thread packed bins (narrow data) */
    int threads;
    u64x2 *ordered;            /* wide data: a node's histogram increments in its row order */
    const kn__node *out_nodes; /* the tree's nodes */
    int avx512;                /* partitions may take the AVX-512 path */
    int level;                 /* omp_get_level() where the tree is grown */
} grower;

/* Leaves of this many rows are split by every thread together; smaller
 * ones each by one thread. */
#define LARGE 65536

/* From this many features on, histograms are built feature by feature. */
#define WIDE 64

/* A parallel region pays for waking its team (and for a descheduled
 * thread on a busy machine) only above this much work: row-feature
 * updates of histograms, or bins scanned by split searches. Below it the
 * calling thread works alone: small data fits faster on one thread. */
#define PAR_HIST_WORK 200000
#define PAR_SPLIT_WORK 262144

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
static void build_hist_by_feature(grower *gr, uint32_t b, uint32_t e, hbin *out, int par)
{
    size_t p = gr->d->p, n = gr->d->n, m = e - b;
    const uint32_t *rows = gr->rows + b;
    unsigned bits = gr->count_bits;
    u64x2 *inc = gr->ordered + b; /* disjoint leaves use disjoint parts */
    for (size_t k = 0; k < m; k++)
        inc[k] = (u64x2){(uint64_t)(int64_t)gr->q[rows[k]][0],
                         ((uint64_t)(uint16_t)gr->q[rows[k]][1] << bits) | 1};
    /* features four at a time: a row's index and increment are read once
     * for four histograms (16 KB, still in the first-level cache) */
    size_t quads = (p + 3) / 4;
#pragma omp parallel for schedule(dynamic, 1) if (par && m * p >= PAR_HIST_WORK && gr->threads > 1)
    for (size_t q = 0; q < quads; q++) {
        size_t j0 = 4 * q, nj = p - j0 < 4 ? p - j0 : 4;
        memset(out + j0 * NB, 0, nj * NB * sizeof *out);
        const uint8_t *c[4];
        hbin *h[4];
        size_t live = 0;
        for (size_t j = j0; j < j0 + nj; j++)
            if (!gr->d->feature_allowed || gr->d->feature_allowed[j]) {
                c[live] = gr->d->codes_by_feature + j * n;
                h[live++] = out + j * NB;
            }
        if (live == 4)
            for (size_t k = 0; k < m; k++) {
                uint32_t r = rows[k];
                u64x2 v = inc[k];
                h[0][c[0][r]].v += v;
                h[1][c[1][r]].v += v;
                h[2][c[2][r]].v += v;
                h[3][c[3][r]].v += v;
            }
        else
            for (size_t l = 0; l < live; l++)
                for (size_t k = 0; k < m; k++) h[l][c[l][rows[k]]].v += inc[k];
    }
}

/* Adds rows[b, e) (at most PACK_ROWS) into the packed bins pk. */
static void add_packed(const grower *gr, uint32_t b, uint32_t e, pbin *pk)
{
    size_t p = gr->d->p;
    const uint8_t *codes = gr->d->codes;
    for (uint32_t k = b; k < e; k++) {
        uint32_t r = gr->rows[k];
        if (k + PREFETCH < e) {
            uint32_t ahead = gr->rows[k + PREFETCH];
            __builtin_prefetch(codes + (size_t)ahead * p);
            __builtin_prefetch(&gr->q[ahead]);
        }
        const uint8_t *c = codes + (size_t)r * p;
        pbin add = (pbin)(gr->q[r][0] + 32768) | (pbin)(uint16_t)gr->q[r][1] << PACK_G_BITS |
                   (pbin)1 << PACK_N_SHIFT;
        pbin *pj = pk;
        size_t j = 0;
        for (; j + 4 <= p; j += 4, pj += 4 * NB) {
            pj[c[j]] += add;
            pj[NB + c[j + 1]] += add;
            pj[2 * NB + c[j + 2]] += add;
            pj[3 * NB + c[j + 3]] += add;
        }
        for (; j < p; j++, pj += NB) pj[c[j]] += add;
    }
}

/* Adds the packed bins into hist and clears them. */
static void flush_packed(const grower *gr, pbin *pk, hbin *hist)
{
    const pbin gmask = ((pbin)1 << PACK_G_BITS) - 1, hmask = ((pbin)1 << PACK_H_BITS) - 1;
    unsigned bits = gr->count_bits;
    for (size_t i = 0, nb = gr->d->p * NB; i < nb; i++) {
        pbin v = pk[i];
        uint64_t n = v >> PACK_N_SHIFT, h = v >> PACK_G_BITS & hmask;
        int64_t g = (int64_t)(v & gmask) - 32768 * (int64_t)n;
        hist[i].v += (u64x2){(uint64_t)g, h << bits | n};
    }
    memset(pk, 0, gr->d->p * NB * sizeof *pk);
}

/* The histogram of rows[b, e): when par, in parallel over row ranges for
 * large nodes, each thread into its own buffer, then added (integers:
 * exact); without par, by the calling thread alone. */
static void build_hist(grower *gr, uint32_t b, uint32_t e, hbin *out, int par)
{
    if (gr->ordered) {
        build_hist_by_feature(gr, b, e, out, par);
        return;
    }
    size_t p = gr->d->p, m = e - b;
    const uint8_t *codes = gr->d->codes;
    int parts = par && m * p >= PAR_HIST_WORK && gr->threads > 1 ? gr->threads : 1;
    /* the calling thread's packed bins: its number in the grower's own
     * team of leaves, 0 outside it (a fit may run inside an outer team,
     * cross-validation's, whose numbers are not the grower's) */
    int caller = omp_get_level() > gr->level ? omp_get_thread_num() : 0;
#pragma omp parallel num_threads(parts) if (parts > 1)
    {
        /* the team may be smaller than asked for: share rows by its size */
        int nt = parts > 1 ? omp_get_num_threads() : 1;
        int t = nt > 1 ? omp_get_thread_num() : 0;
        hbin *hist = t == 0 ? out : gr->spare[t];
        memset(hist, 0, p * NB * sizeof *hist);
        uint32_t lo = b + (uint32_t)(m * (size_t)t / (size_t)nt);
        uint32_t hi = b + (uint32_t)(m * (size_t)(t + 1) / (size_t)nt);
        /* packing pays for its flushes on nodes of a few thousand rows */
        if (hi - lo >= PACK_ROWS / 2) {
            pbin *pk = gr->packed[nt > 1 ? t : caller];
            for (uint32_t c0 = lo; c0 < hi; c0 += PACK_ROWS) {
                add_packed(gr, c0, hi - c0 < PACK_ROWS ? hi : c0 + PACK_ROWS, pk);
                flush_packed(gr, pk, hist);
            }
            lo = hi;
        }
        for (uint32_t k = lo; k < hi; k++) {
            uint32_t r = gr->rows[k];
            if (k + PREFETCH < hi) { /* rows are scattered: fetch ahead */
                uint32_t ahead = gr->rows[k + PREFETCH];
                __builtin_prefetch(codes + (size_t)ahead * p);
                __builtin_prefetch(&gr->q[ahead]);
            }
            const uint8_t *c = codes + (size_t)r * p;
            u64x2 add = {(uint64_t)(int64_t)gr->q[r][0],
                         ((uint64_t)(uint16_t)gr->q[r][1] << gr->count_bits) | 1};
            hbin *hj = hist;
            size_t j = 0;
            for (; j + 4 <= p; j += 4, hj += 4 * NB) { /* fewer instructions per feature */
                hj[c[j]].v += add;
                hj[NB + c[j + 1]].v += add;
                hj[2 * NB + c[j + 2]].v += add;
                hj[3 * NB + c[j + 3]].v += add;
            }
            for (; j < p; j++, hj += NB) hj[c[j]].v += add;
        }
#pragma omp barrier
        /* add the other threads' buffers, features split among threads */
        if (nt > 1) {
            size_t j0 = p * (size_t)t / (size_t)nt, j1 = p * (size_t)(t + 1) / (size_t)nt;
            for (int s = 1; s < nt; s++)
                for (size_t i = j0 * NB; i < j1 * NB; i++) out[i].v += gr->spare[s][i].v;
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

/* A numeric feature's candidate splits without monotone constraints, bin
 * by bin: the left child's sums up to each bin as doubles (exact: integer
 * sums below 2^53), then every candidate's gain with missing values right
 * (gain[0]) and left (gain[1]), -inf where a child is too small. The gain
 * loop has no branches and vectorises; its arithmetic is score()'s,
 * operation for operation, so the gains are the same bits as score() gives
 * (no contraction into fused multiply-adds in ISO C mode). */
typedef struct scan_sums {
    double g[KN__MAX_BINS], h[KN__MAX_BINS], n[KN__MAX_BINS];
    uint8_t bin[KN__MAX_BINS];
} scan_sums;

typedef struct scan_consts {
    double G, H, N;    /* the leaf's sums */
    double mg, mh, mn; /* the missing values' sums */
    double gs, hs, l1, l2, min_n, min_h, parent;
} scan_consts;

static inline __attribute__((always_inline)) double soft_v(double g, double l1)
{
    return g > l1 ? g - l1 : g < -l1 ? g + l1 : 0;
}

/* One candidate's gain (-inf when a child is too small). */
static inline __attribute__((always_inline)) double scan_gain(const scan_consts *k, double lg,
                                                              double lh, double ln)
{
    double rh = k->H - lh, rn = k->N - ln;
    int ok = ln >= k->min_n && ln > 0 && lh * k->hs >= k->min_h && rn >= k->min_n && rn > 0 &&
             rh * k->hs >= k->min_h;
    double GL = soft_v(lg * k->gs, k->l1), GR = soft_v((k->G - lg) * k->gs, k->l1);
    double gain = GL * GL / (lh * k->hs + k->l2) + GR * GR / (rh * k->hs + k->l2) - k->parent;
    return ok ? gain : -INFINITY;
}

static inline __attribute__((always_inline)) void scan_gains_body(const scan_sums *c, size_t nc,
                                                                  const scan_consts *k, int both,
                                                                  double *gain0, double *gain1)
{
#pragma omp simd
    for (size_t b = 0; b < nc; b++) gain0[b] = scan_gain(k, c->g[b], c->h[b], c->n[b]);
    if (both)
#pragma omp simd
        for (size_t b = 0; b < nc; b++)
            gain1[b] = scan_gain(k, c->g[b] + k->mg, c->h[b] + k->mh, c->n[b] + k->mn);
}

static void scan_gains(const scan_sums *c, size_t nc, const scan_consts *k, int both, double *gain0,
                       double *gain1)
{
    scan_gains_body(c, nc, k, both, gain0, gain1);
}

#ifdef KN_HAVE_AVX512
__attribute__((target("avx512f"))) static void scan_gains16(const scan_sums *c, size_t nc,
                                                            const scan_consts *k, int both,
                                                            double *gain0, double *gain1)
{
    scan_gains_body(c, nc, k, both, gain0, gain1);
}
#endif

/* The best split of numeric feature j (no monotone constraint) into *best,
 * when better; candidates in score()'s order: bin by bin, missing values
 * right before left. Empty bins are left out (such a bin repeats the split
 * before it, with the same gain, which the strict comparison never
 * prefers), so a small leaf scans only the bins its rows fill. */
static void scan_feature(const grower *gr, const leaf *lf, size_t j, double parent, split *best)
{
    const hbin *hj = lf->hist + j * NB, *mis = hj + KN__BIN_MISSING;
    size_t nb = gr->d->bins->n_bins[j], nc = 0;
    scan_sums c;
    int64_t cg = 0;
    uint64_t chn = 0;
    for (size_t b = 0; b < nb; b++) { /* (branch-free: an empty bin is overwritten) */
        cg += hj[b].g, chn += hj[b].hn;
        c.g[nc] = (double)cg;
        c.h[nc] = (double)(int64_t)(chn >> gr->count_bits);
        c.n[nc] = (double)(int64_t)(chn & gr->count_mask);
        c.bin[nc] = (uint8_t)b;
        nc += hj[b].hn != 0;
    }
    int64_t mh = (int64_t)(mis->hn >> gr->count_bits), mn = (int64_t)(mis->hn & gr->count_mask);
    scan_consts k = {.G = (double)lf->g,
                     .H = (double)lf->h,
                     .N = (double)lf->n,
                     .mg = (double)mis->g,
                     .mh = (double)mh,
                     .mn = (double)mn,
                     .gs = gr->gs,
                     .hs = gr->hs,
                     .l1 = gr->par->l1,
                     .l2 = gr->par->l2,
                     .min_n = (double)gr->par->min_samples_leaf,
                     .min_h = gr->par->min_child_weight,
                     .parent = parent};
    int both = mn > 0;
    double gain[2][KN__MAX_BINS];
#ifdef KN_HAVE_AVX512
    if (gr->avx512)
        scan_gains16(&c, nc, &k, both, gain[0], gain[1]);
    else
#endif
        scan_gains(&c, nc, &k, both, gain[0], gain[1]);
    int at = -1, at_ml = 0;
    double top = best->gain;
    for (size_t i = 0; i < nc; i++)
        for (int ml = 0; ml <= both; ml++)
            if (gain[ml][i] > top) top = gain[ml][i], at = (int)i, at_ml = ml;
    if (at < 0) return;
    /* the winner's sums again, as integers */
    int64_t lg = 0;
    uint64_t lhn = 0;
    for (int b = 0; b <= c.bin[at]; b++) lg += hj[b].g, lhn += hj[b].hn;
    int64_t lh = (int64_t)(lhn >> gr->count_bits), ln = (int64_t)(lhn & gr->count_mask);
    *best = (split){.gain = top,
                    .feature = (int32_t)j,
                    .bin = c.bin[at],
                    .missing_left = (uint8_t)at_ml,
                    .lg = lg + (at_ml ? mis->g : 0),
                    .lh = lh + (at_ml ? mh : 0),
                    .ln = ln + (at_ml ? mn : 0)};
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
        if (!mono) {
            scan_feature(gr, lf, j, parent, &best);
            continue;
        }
        int c = mono[j];
        const hbin *hj = lf->hist + j * NB, *mis = hj + KN__BIN_MISSING;
        size_t nb = d->bins->n_bins[j];
        int64_t mh = (int64_t)(mis->hn >> gr->count_bits), mn = (int64_t)(mis->hn & gr->count_mask);
        int64_t cg = 0;
        uint64_t chn = 0;
        for (size_t b = 0; b < nb; b++) {
            if (!hj[b].hn) continue; /* no rows: the same split as the bin before */
            cg += hj[b].g, chn += hj[b].hn;
            int64_t ch = (int64_t)(chn >> gr->count_bits), cn = (int64_t)(chn & gr->count_mask);
            for (int ml = 0; ml <= (mn > 0); ml++) {
                int64_t lg = cg + (ml ? mis->g : 0), lh = ch + (ml ? mh : 0);
                int64_t ln = cn + (ml ? mn : 0);
                if (!child_ok(gr, lh, ln) || !child_ok(gr, lf->h - lh, lf->n - ln)) continue;
                /* the children's values, clamped and in order */
                int64_t rg = lf->g - lg, rh = lf->h - lh;
                double wl = weight(gr, lg, lh, lf->lo, lf->hi);
                double wr = weight(gr, rg, rh, lf->lo, lf->hi);
                if ((c > 0 && wl > wr) || (c < 0 && wl < wr)) continue;
                double gain = score_at(gr, lg, lh, wl) + score_at(gr, rg, rh, wr) - parent;
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
    int team = 1;
#pragma omp parallel num_threads(parts) if (parts > 1)
    {
        /* the team may be smaller than asked for: chunk by its size */
        int nt = parts > 1 ? omp_get_num_threads() : 1;
        int t = nt > 1 ? omp_get_thread_num() : 0;
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
        best_split(gr, l);
        return;
    }
    const hbin *small = (right ? &c->left : &c->right)->hist;
    for (size_t i = 0, n = gr->d->p * NB; i < n; i++) l->hist[i].v -= small[i].v;
    best_split(gr, l);
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
    build_hist(gr, small->begin, small->end, small->hist, par);
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
        build_hist(&gr, 0, (uint32_t)m, lv[0].hist, 1);
        uint64_t hn = 0;
        for (size_t b = 0; b < NB; b++) /* every row lands in one bin of feature 0 */
            lv[0].g += lv[0].hist[b].g, hn += lv[0].hist[b].hn;
        lv[0].h = (int64_t)(hn >> gr.count_bits);
        lv[0].n = (int64_t)(hn & gr.count_mask);
        best_split(&gr, &lv[0]);
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
#pragma omp parallel for schedule(dynamic, 1) if (by_leaf)
        for (size_t k = 0; k < nb; k++)
            if (lv[batch[k]].end - lv[batch[k]].begin < LARGE && by_leaf)
                kids[k] = make_children(&gr, &lv[batch[k]], 0);
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
#pragma omp parallel for schedule(dynamic, 1) if (split_par)
        for (size_t j = 0; j < 2 * nb; j++)
            if (kids[j / 2].split_later) child_split(&gr, &kids[j / 2], (int)(j % 2));
#pragma omp parallel for schedule(dynamic, 1) if (by_leaf)
        for (size_t k = 0; k < nb; k++)
            if (kids[k].right.end - kids[k].left.begin < LARGE && by_leaf)
                grow_children(&gr, &kids[k], 0, 1);
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
