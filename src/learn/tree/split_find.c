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

static void scan_gains(const scan_sums *c, size_t nc, const scan_consts *k, int both, double *gain0,
                       double *gain1)
{
#pragma omp simd
    for (size_t b = 0; b < nc; b++) gain0[b] = scan_gain(k, c->g[b], c->h[b], c->n[b]);
    if (both)
#pragma omp simd
        for (size_t b = 0; b < nc; b++)
            gain1[b] = scan_gain(k, c->g[b] + k->mg, c->h[b] + k->mh, c->n[b] + k->mn);
}

#ifdef KN_HAVE_AVX512
#include <immintrin.h>

/* Integers (|x| < 2^51: sums of 16-bit values over at most 2^32 rows) to
 * doubles, exactly as a conversion: the integer added to the bits of 1.5 x
 * 2^52, whose units are the mantissa's last bit, then 1.5 x 2^52 taken off. */
__attribute__((target("avx512f"))) static inline __m512d exact_f64(__m512i x)
{
    const __m512i bits = _mm512_set1_epi64(0x4338000000000000);
    return _mm512_sub_pd(_mm512_castsi512_pd(_mm512_add_epi64(x, bits)),
                         _mm512_set1_pd(6755399441055744.0));
}

/* soft_v on eight lanes: the same operations, selected by masks. */
__attribute__((target("avx512f"))) static inline __m512d soft8(__m512d g, __m512d l1)
{
    __m512d down = _mm512_sub_pd(g, l1), up = _mm512_add_pd(g, l1);
    __m512d neg = _mm512_sub_pd(_mm512_setzero_pd(), l1); /* -l1 (exact) */
    __m512d mid = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(g, neg, _CMP_LT_OQ), up);
    return _mm512_mask_mov_pd(mid, _mm512_cmp_pd_mask(g, l1, _CMP_GT_OQ), down);
}

/* scan_gain on eight candidates: the same operations in the same order
 * (the same bits), -inf where a child is too small or the lane is off. */
__attribute__((target("avx512f"))) static inline __m512d gain8(const scan_consts *k, __m512d lg,
                                                               __m512d lh, __m512d ln, __mmask8 on)
{
    const __m512d H = _mm512_set1_pd(k->H), N = _mm512_set1_pd(k->N), hs = _mm512_set1_pd(k->hs);
    const __m512d min_n = _mm512_set1_pd(k->min_n), min_h = _mm512_set1_pd(k->min_h);
    const __m512d l2 = _mm512_set1_pd(k->l2), zero = _mm512_setzero_pd();
    __m512d rh = _mm512_sub_pd(H, lh), rn = _mm512_sub_pd(N, ln);
    __m512d lhs = _mm512_mul_pd(lh, hs), rhs = _mm512_mul_pd(rh, hs);
    __mmask8 ok =
        on & _mm512_cmp_pd_mask(ln, min_n, _CMP_GE_OQ) & _mm512_cmp_pd_mask(ln, zero, _CMP_GT_OQ) &
        _mm512_cmp_pd_mask(lhs, min_h, _CMP_GE_OQ) & _mm512_cmp_pd_mask(rn, min_n, _CMP_GE_OQ) &
        _mm512_cmp_pd_mask(rn, zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(rhs, min_h, _CMP_GE_OQ);
    const __m512d gs = _mm512_set1_pd(k->gs), l1 = _mm512_set1_pd(k->l1);
    __m512d GL = soft8(_mm512_mul_pd(lg, gs), l1);
    __m512d GR = soft8(_mm512_mul_pd(_mm512_sub_pd(_mm512_set1_pd(k->G), lg), gs), l1);
    __m512d a = _mm512_div_pd(_mm512_mul_pd(GL, GL), _mm512_add_pd(lhs, l2));
    __m512d b = _mm512_div_pd(_mm512_mul_pd(GR, GR), _mm512_add_pd(rhs, l2));
    __m512d gain = _mm512_sub_pd(_mm512_add_pd(a, b), _mm512_set1_pd(k->parent));
    return _mm512_mask_mov_pd(_mm512_set1_pd(-INFINITY), ok, gain);
}

/* The numeric scan of scan_feature, eight bins at a time: the bins' sums
 * summed up in registers (integers: exact) and the empty bins compressed
 * out, every candidate's gain, then the first candidate (bin by bin,
 * missing values right before left) of the largest gain, when it beats
 * *top: its bin into *bin, its side of the missing values into *ml.
 * Returns whether one did. */
__attribute__((target("avx512f"))) static int scan16(const hbin *hj, size_t nb, unsigned bits,
                                                     uint64_t count_mask, const scan_consts *k,
                                                     int both, double *top, uint8_t *bin, int *ml)
{
    /* (8 lanes of slack: whole vectors are stored past the last bin) */
    int64_t pg[KN__MAX_BINS + 8];
    uint64_t phn[KN__MAX_BINS + 8];
    int32_t at_bin[KN__MAX_BINS + 16];
    double gain[2][KN__MAX_BINS + 8];
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    const __m512i last = _mm512_set1_epi64(7), zero = _mm512_setzero_si512();
    __m512i cg = zero, chn = zero;
    __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0);
    size_t nc = 0;
    for (size_t b = 0; b < nb; b += 8) {
        size_t v = nb - b < 8 ? nb - b : 8; /* bins past nb (the missing slot) stay out */
        __mmask8 lo = (__mmask8)((1u << 2 * (v < 4 ? v : 4)) - 1);
        __mmask8 hi = (__mmask8)((1u << 2 * (v > 4 ? v - 4 : 0)) - 1);
        __m512i A = _mm512_maskz_loadu_epi64(lo, (const void *)(hj + b));
        __m512i B = _mm512_maskz_loadu_epi64(hi, (const void *)(hj + b + 4));
        __m512i g = _mm512_permutex2var_epi64(A, even, B);
        __m512i hn = _mm512_permutex2var_epi64(A, odd, B);
        __mmask8 filled = _mm512_test_epi64_mask(hn, hn);
        /* inclusive prefix sums within the eight lanes, plus the carry */
        g = _mm512_add_epi64(g, _mm512_alignr_epi64(g, zero, 7));
        hn = _mm512_add_epi64(hn, _mm512_alignr_epi64(hn, zero, 7));
        g = _mm512_add_epi64(g, _mm512_alignr_epi64(g, zero, 6));
        hn = _mm512_add_epi64(hn, _mm512_alignr_epi64(hn, zero, 6));
        g = _mm512_add_epi64(g, _mm512_alignr_epi64(g, zero, 4));
        hn = _mm512_add_epi64(hn, _mm512_alignr_epi64(hn, zero, 4));
        g = _mm512_add_epi64(g, cg);
        hn = _mm512_add_epi64(hn, chn);
        cg = _mm512_permutexvar_epi64(last, g);
        chn = _mm512_permutexvar_epi64(last, hn);
        _mm512_storeu_si512((void *)(pg + nc), _mm512_maskz_compress_epi64(filled, g));
        _mm512_storeu_si512((void *)(phn + nc), _mm512_maskz_compress_epi64(filled, hn));
        _mm512_storeu_si512((void *)(at_bin + nc), _mm512_maskz_compress_epi32(filled, idx));
        idx = _mm512_add_epi32(idx, _mm512_set1_epi32(8));
        nc += (size_t)__builtin_popcount(filled);
    }
    const __m512i mask = _mm512_set1_epi64((long long)count_mask);
    const __m512d mg = _mm512_set1_pd(k->mg), mh = _mm512_set1_pd(k->mh);
    const __m512d mn = _mm512_set1_pd(k->mn);
    __m512d most = _mm512_set1_pd(-INFINITY);
    for (size_t i = 0; i < nc; i += 8) {
        __mmask8 on = (__mmask8)(nc - i >= 8 ? 0xff : (1u << (nc - i)) - 1);
        __m512i h = _mm512_maskz_loadu_epi64(on, (const void *)(phn + i));
        __m512d lg = exact_f64(_mm512_maskz_loadu_epi64(on, (const void *)(pg + i)));
        __m512d lh = exact_f64(_mm512_srli_epi64(h, bits));
        __m512d ln = exact_f64(_mm512_and_si512(h, mask));
        __m512d g0 = gain8(k, lg, lh, ln, on);
        _mm512_storeu_pd(gain[0] + i, g0);
        most = _mm512_max_pd(g0, most); /* (a NaN gain never wins: most is kept) */
        if (both) {
            __m512d g1 =
                gain8(k, _mm512_add_pd(lg, mg), _mm512_add_pd(lh, mh), _mm512_add_pd(ln, mn), on);
            _mm512_storeu_pd(gain[1] + i, g1);
            most = _mm512_max_pd(g1, most);
        }
    }
    double m = _mm512_reduce_max_pd(most);
    if (!(m > *top)) return 0;
    /* the first candidate with the largest gain, as a strict sequential
     * comparison picks it */
    const __m512d mv = _mm512_set1_pd(m);
    for (size_t i = 0; i < nc; i += 8) {
        __mmask8 e0 = _mm512_cmp_pd_mask(_mm512_loadu_pd(gain[0] + i), mv, _CMP_EQ_OQ);
        __mmask8 e1 = both ? _mm512_cmp_pd_mask(_mm512_loadu_pd(gain[1] + i), mv, _CMP_EQ_OQ) : 0;
        if (!(e0 | e1)) continue;
        unsigned u = (unsigned)__builtin_ctz((unsigned)(e0 | e1));
        *top = m;
        *bin = (uint8_t)at_bin[i + u];
        *ml = !(e0 >> u & 1);
        return 1;
    }
    return 0;
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
    size_t nb = gr->d->bins->n_bins[j];
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
    int both = mn > 0, at_ml = 0;
    double top = best->gain;
    uint8_t at_bin = 0;
#ifdef KN_HAVE_AVX512
    if (gr->avx512) {
        if (!scan16(hj, nb, gr->count_bits, gr->count_mask, &k, both, &top, &at_bin, &at_ml))
            return;
    } else
#endif
    {
        scan_sums c;
        size_t nc = 0;
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
        double gain[2][KN__MAX_BINS];
        scan_gains(&c, nc, &k, both, gain[0], gain[1]);
        int at = -1;
        for (size_t i = 0; i < nc; i++)
            for (int ml = 0; ml <= both; ml++)
                if (gain[ml][i] > top) top = gain[ml][i], at = (int)i, at_ml = ml;
        if (at < 0) return;
        at_bin = c.bin[at];
    }
    /* the winner's sums again, as integers */
    int64_t lg = 0;
    uint64_t lhn = 0;
    for (int b = 0; b <= at_bin; b++) lg += hj[b].g, lhn += hj[b].hn;
    int64_t lh = (int64_t)(lhn >> gr->count_bits), ln = (int64_t)(lhn & gr->count_mask);
    *best = (split){.gain = top,
                    .feature = (int32_t)j,
                    .bin = at_bin,
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
