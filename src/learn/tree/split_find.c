/* A leaf's best split from its histogram, for the tree grower
 * (grower-impl.h): numeric features bin by bin, categorical ones by sets
 * of levels. */
#include "learn/tree/grower-impl.h"

#include "core/simd.h"
#include "core/threads.h"
#include "kiln/mem.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

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

/* soft(): every operation done, then selected (a conditional operation
 * would stop the vectoriser: it may trap) */
static inline __attribute__((always_inline)) double soft_v(double g, double l1)
{
    double down = g - l1, up = g + l1, mid = g < -l1 ? up : 0;
    return g > l1 ? down : mid;
}

/* One candidate's gain (-inf when a child is too small); the conditions
 * combined with & (every comparison made), for the same reason. */
static inline __attribute__((always_inline)) double scan_gain(const scan_consts *k, double lg,
                                                              double lh, double ln)
{
    double rh = k->H - lh, rn = k->N - ln;
    int ok = (ln >= k->min_n) & (ln > 0) & (lh * k->hs >= k->min_h) & (rn >= k->min_n) & (rn > 0) &
             (rh * k->hs >= k->min_h);
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
void kn__best_split(const grower *gr, leaf *lf)
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
