/* A batch against a fixed reference without sorting the batch
 * (compare-impl.h: kn__vs_ref, kn__ref_index_make). A server tests every
 * window of every numeric input against the same stored sample: sorting
 * each window and walking it beside the sample cost 24 us a column for
 * 1,000 normal rows against 2,001 values (bench/monitor_parts). Each value
 * is placed among the sample's instead: its part of a guide of equal parts
 * of the sample's range, then the few sample values of that part compared
 * with it at once (no chain of dependent loads; a part holding more is
 * searched by halvings). One pass over the batch places each value and
 * adds it to its gap's count, ties and distance to the gap's end; one pass
 * over the gaps reads KS, the Wasserstein distance and the PSI off them.
 *
 * On gap k, [ra[k - 1], ra[k]), the sample's CDF is k / m. With `below`
 * the batch's values under the gap and `ties` those equal to ra[k - 1],
 * the batch's CDF times m mb less the sample's is lo = (below + ties) m -
 * k mb at the gap's start and hi = (below + n) m - k mb at its end, so
 * KS's numerator is the largest |lo| or |hi| (exact integers: the same
 * bits as the walk). The integral over the gap is |lo| width, plus for
 * each other value x in it (ra[k] - x) m on lo's side (their sum kept per
 * gap), unless lo and hi differ in sign: the CDFs cross inside, and those
 * few gaps are walked value by value. */
#include "core/simd.h"
#include "kiln/mem.h"
#include "learn/eval/compare-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* PARTS_MAX: 16 KB of guide, about two parts a value of the sample: a
 * normal sample of 2,001 puts at most 4-8 values in a part */
enum { PARTS_MAX = 4096, SCAN_MAX = 8 };

void kn__ref_index_free(kn__ref_index *x)
{
    if (x->pad) kn_free(x->pad - 1);
    kn_free(x->guide), kn_free(x->bin_gap);
    memset(x, 0, sizeof *x);
}

/* The part of v: monotone in v, so a part's values all lie between the
 * values of the parts before and after it. */
static inline size_t part_of(const kn__ref_index *x, double v)
{
    double t = (v - x->lo) * x->scale, top = (double)(x->parts - 1);
    t = t < top ? t : top;
    t = t >= 0 ? t : 0;
    return (size_t)t;
}

kn_status kn__ref_index_make(kn__psi_ref *r)
{
    kn__ref_index *x = &r->index;
    memset(x, 0, sizeof *x);
    const double *ra = r->ra;
    size_t m = r->ma;
    if (!m || m > INT32_MAX || !isfinite(ra[0]) || !isfinite(ra[m - 1]))
        return KN_OK; /* not ready: such a reference is sorted and walked */
    size_t parts = 1;
    while (parts < 2 * m && parts < PARTS_MAX) parts *= 2;
    double span = ra[m - 1] - ra[0], scale = (double)parts / span;
    if (!(span > 0) || !isfinite(span) || !isfinite(scale)) parts = 1, scale = 0;
    x->parts = parts, x->lo = ra[0], x->scale = scale;
    double *pad = kn_malloc((m + 1 + SCAN_MAX) * sizeof *pad);
    x->pad = pad ? pad + 1 : NULL;
    x->guide = kn_calloc(parts + 1, sizeof *x->guide);
    x->bin_gap = kn_malloc((r->k + 2) * sizeof *x->bin_gap);
    if (!x->pad || !x->guide || !x->bin_gap) {
        kn__ref_index_free(x);
        return KN_ERR_NOMEM;
    }
    pad[0] = -INFINITY;
    memcpy(x->pad, ra, m * sizeof *ra);
    for (size_t i = 0; i < SCAN_MAX; i++) x->pad[m + i] = INFINITY;
    for (size_t i = 0; i < m; i++) x->guide[part_of(x, ra[i]) + 1]++;
    uint32_t most = 0;
    for (size_t p = 1; p <= parts; p++) {
        most = x->guide[p] > most ? x->guide[p] : most;
        x->guide[p] += x->guide[p - 1];
    }
    if (most <= SCAN_MAX)
        for (x->scan = 1; x->scan < most;) x->scan *= 2;
    else
        while (((uint64_t)1 << x->steps) <= most) x->steps++;
    /* a tie-free value in gap k falls in PSI bin #{edges <= ra[k - 1]}:
     * the bins start where the gaps pass an edge (edges are sample values) */
    size_t e = 0;
    x->bin_gap[0] = 0;
    for (size_t k = 1; k <= m; k++)
        while (e < r->k && r->edges[e] <= ra[k - 1]) x->bin_gap[++e] = (uint32_t)k;
    while (e < r->k) x->bin_gap[++e] = (uint32_t)(m + 1);
    x->bin_gap[r->k + 1] = (uint32_t)(m + 1);
    x->ready = 1;
    return KN_OK;
}

/* #{ra <= v}, v finite: the sample's values of the parts before v's are
 * below it and those of the parts after it above (part_of is monotone),
 * so counting the values <= v among the first `scan` from its part's
 * start counts them all (the padding's +inf past the end). */
#define PLACE_SCAN(S)                                                                              \
    static inline size_t place_##S(const kn__ref_index *x, double v)                               \
    {                                                                                              \
        const double *at = x->pad + x->guide[part_of(x, v)];                                       \
        size_t k = 0;                                                                              \
        _Pragma("GCC unroll 8") for (size_t j = 0; j < S; j++) k += at[j] <= v;                    \
        return (size_t)(at - x->pad) + k;                                                          \
    }
PLACE_SCAN(1)
PLACE_SCAN(2)
PLACE_SCAN(4)
PLACE_SCAN(8)

/* The same by halvings within the part, for a part of many values: step
 * up when the value at the step is not above v (arithmetic on the
 * comparisons, not a branch: GCC made `cond ? nk : lo` a jump,
 * mispredicted half the time). */
static inline size_t place_halving(const kn__ref_index *x, double v)
{
    size_t p = part_of(x, v), lo = x->guide[p], hi = x->guide[p + 1];
    for (unsigned s = x->steps; s-- > 0;) {
        size_t step = (size_t)1 << s, nk = lo + step;
        lo += step * ((size_t)(nk <= hi) & (size_t)(x->pad[nk - 1] <= v));
    }
    return lo;
}

/* The integral of |j m - c| over gap k (c = k mb) walked over its values
 * xs[0..n), sorted here (a gap holds a few); j starts at the values below
 * the gap. */
static double walk_gap(const double *ra, size_t k, double c, double j, double fm, double *xs,
                       size_t n)
{
    for (size_t i = 1; i < n; i++) { /* insertion sort */
        double t = xs[i];
        size_t at = i;
        for (; at > 0 && xs[at - 1] > t; at--) xs[at] = xs[at - 1];
        xs[at] = t;
    }
    double x = ra[k - 1], sum = 0;
    for (size_t s = 0; s < n; s++, j++) {
        if (xs[s] > x) sum += fabs(c - j * fm) * (xs[s] - x), x = xs[s];
    }
    return sum + fabs(c - j * fm) * (ra[k] - x);
}

/* The PSI bin of gap k: its last bin starting at or before it. */
static size_t bin_of_gap(const kn__psi_ref *r, size_t k)
{
    size_t b = 0;
    while (b + 1 <= r->k && r->index.bin_gap[b + 1] <= k) b++;
    return b;
}

/* The per-gap sums of a batch: n its values in gap k, ties those equal to
 * ra[k - 1], d the sum of their distances m (ra[k] - x) to the gap's end
 * (ties aside; for gap m, above the sample, (x - ra[m - 1])). */
typedef struct gaps {
    uint32_t *n, *ties, *below; /* m + 2 each; below: the values in gaps < k */
    double *d;                  /* m + 1 */
    size_t n_ties;
} gaps;

/* Places the batch b (nb cells): at[i] the gap of value i (UINT32_MAX:
 * missing); the counts and distances into g (zeros). 0: an infinite
 * value (nothing placed). */
#define PLACE_ALL(PLACE)                                                                           \
    for (size_t i = 0; i < nb; i++) {                                                              \
        double v = b[i];                                                                           \
        if (isnan(v)) {                                                                            \
            at[i] = UINT32_MAX;                                                                    \
            continue;                                                                              \
        }                                                                                          \
        if (!isfinite(v)) return 0;                                                                \
        size_t k = PLACE(x, v);                                                                    \
        at[i] = (uint32_t)k;                                                                       \
        int tie = pad[k - 1] == v;                                                                 \
        double d = k == m ? v - pad[m - 1] : pad[k] - v;                                           \
        g->n[k]++;                                                                                 \
        g->ties[k] += (uint32_t)tie;                                                               \
        g->n_ties += (size_t)tie;                                                                  \
        g->d[k] += tie ? 0 : d;                                                                    \
        n_present++;                                                                               \
    }

#ifdef KN_HAVE_AVX512
#include <immintrin.h>

/* place()'s AVX-512 twin for a sample of at most 8 values a part: the 8
 * values from a part's start compared with v in one instruction; v ties
 * with the sample when one of them equals it (an equal value is in v's
 * part). The same gaps, counts and sums. */
__attribute__((target("avx512f,popcnt"))) static int place_avx512(const kn__ref_index *x, size_t m,
                                                                  const double *b, size_t nb,
                                                                  uint32_t *at, gaps *g, size_t *mb)
{
    const double *pad = x->pad;
    size_t n_present = 0;
    for (size_t i = 0; i < nb; i++) {
        double v = b[i];
        if (isnan(v)) {
            at[i] = UINT32_MAX;
            continue;
        }
        if (!isfinite(v)) return 0;
        size_t s = x->guide[part_of(x, v)];
        __m512d w = _mm512_loadu_pd(pad + s), vv = _mm512_set1_pd(v);
        unsigned le = _mm512_cmp_pd_mask(w, vv, _CMP_LE_OQ),
                 eq = _mm512_cmp_pd_mask(w, vv, _CMP_EQ_OQ);
        size_t k = s + (size_t)__builtin_popcount(le);
        at[i] = (uint32_t)k;
        double d = k == m ? v - pad[m - 1] : pad[k] - v;
        g->n[k]++;
        g->ties[k] += eq != 0;
        g->n_ties += eq != 0;
        g->d[k] += eq ? 0 : d;
        n_present++;
    }
    *mb = n_present;
    return 1;
}
#endif

static int place(const kn__ref_index *x, size_t m, const double *b, size_t nb, uint32_t *at,
                 gaps *g, size_t *mb)
{
    const double *pad = x->pad;
    size_t n_present = 0;
#ifdef KN_HAVE_AVX512
    if (x->scan && kn__simd_avx512()) return place_avx512(x, m, b, nb, at, g, mb);
#endif
    switch (x->scan) {
    case 1:
        PLACE_ALL(place_1) break;
    case 2:
        PLACE_ALL(place_2) break;
    case 4:
        PLACE_ALL(place_4) break;
    case 8:
        PLACE_ALL(place_8) break;
    default:
        PLACE_ALL(place_halving) break;
    }
    *mb = n_present;
    return 1;
}

/* The gaps 1 .. m - 1 of a batch placed in g (below made): KS's largest
 * numerator into *most, the integrals of the gaps where the CDFs do not
 * cross added to *sum, those where they do listed; returns how many.
 * Without branches: whether the CDFs cross in a gap, or lo's sign, is a
 * coin flip to the predictor where they run close. */
static size_t gaps_scalar(const double *pad, size_t m, size_t mb, const gaps *g, uint32_t *list,
                          double *most_io, double *sum_io)
{
    const uint32_t *below = g->below, *ties = g->ties;
    double fm = (double)m, fmb = (double)mb, most = *most_io, sum = *sum_io;
    size_t n_cross = 0;
    for (size_t k = 1; k < m; k++) {
        double c = (double)k * fmb, lo = (double)(below[k] + ties[k]) * fm - c,
               hi = (double)below[k + 1] * fm - c, width = pad[k] - pad[k - 1];
        double gk = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
        gk = width > 0 ? gk : 0; /* an empty gap has no point of either CDF */
        most = gk > most ? gk : most;
        int cross = (lo < 0) & (hi > 0);
        list[n_cross] = (uint32_t)k;
        n_cross += (size_t)cross;
        double in = fabs(lo) * width + (lo >= 0 ? fm : -fm) * g->d[k];
        sum += cross ? 0 : in; /* a tie is in lo already */
    }
    *most_io = most, *sum_io = sum;
    return n_cross;
}

#ifdef KN_HAVE_AVX512
/* gaps_scalar's AVX-512 twin, eight gaps side by side: the same KS
 * numerator and crossings; the integrals summed in eight lanes (another
 * order: Wasserstein the same up to rounding). */
__attribute__((target("avx512f,avx512vl,avx512dq"))) static size_t
gaps_avx512(const double *pad, size_t m, size_t mb, const gaps *g, uint32_t *list, double *most_io,
            double *sum_io)
{
    const uint32_t *below = g->below, *ties = g->ties;
    const __m512d fm = _mm512_set1_pd((double)m), fmb = _mm512_set1_pd((double)mb),
                  zero = _mm512_setzero_pd(), step = _mm512_set1_pd(8);
    __m512d most = _mm512_set1_pd(*most_io), sum = zero, kk = _mm512_set_pd(8, 7, 6, 5, 4, 3, 2, 1);
    size_t n_cross = 0;
    for (size_t k = 1; k < m; k += 8, kk = _mm512_add_pd(kk, step)) {
        __mmask8 in = (__mmask8)(m - k >= 8 ? 0xff : (1u << (m - k)) - 1);
        __m256i bl = _mm256_maskz_loadu_epi32(in, below + k),
                bh = _mm256_maskz_loadu_epi32(in, below + k + 1),
                t = _mm256_maskz_loadu_epi32(in, ties + k);
        __m512d c = _mm512_mul_pd(kk, fmb),
                lo = _mm512_sub_pd(_mm512_mul_pd(_mm512_cvtepu32_pd(_mm256_add_epi32(bl, t)), fm),
                                   c),
                hi = _mm512_sub_pd(_mm512_mul_pd(_mm512_cvtepu32_pd(bh), fm), c),
                width = _mm512_sub_pd(_mm512_maskz_loadu_pd(in, pad + k),
                                      _mm512_maskz_loadu_pd(in, pad + k - 1)),
                d = _mm512_maskz_loadu_pd(in, g->d + k);
        __m512d alo = _mm512_abs_pd(lo), gk = _mm512_max_pd(alo, _mm512_abs_pd(hi));
        __mmask8 wide = _mm512_mask_cmp_pd_mask(in, width, zero, _CMP_GT_OQ);
        most = _mm512_mask_max_pd(most, wide, most, gk);
        __mmask8 cross =
            _mm512_mask_cmp_pd_mask(_mm512_cmp_pd_mask(lo, zero, _CMP_LT_OQ), hi, zero, _CMP_GT_OQ);
        __mmask8 down = _mm512_cmp_pd_mask(lo, zero, _CMP_LT_OQ);
        __m512d sd = _mm512_mask_sub_pd(_mm512_mul_pd(fm, d), down, zero, _mm512_mul_pd(fm, d));
        __m512d v = _mm512_add_pd(_mm512_mul_pd(alo, width), sd);
        cross &= in;
        sum = _mm512_mask_add_pd(sum, (__mmask8)(in & ~cross), sum, v);
        for (unsigned c8 = cross; c8; c8 &= c8 - 1)
            list[n_cross++] = (uint32_t)(k + (size_t)__builtin_ctz(c8));
    }
    *most_io = _mm512_reduce_max_pd(most);
    *sum_io += _mm512_reduce_add_pd(sum);
    return n_cross;
}
#endif

/* KS's numerator, the Wasserstein integral (times m mb) and the PSI counts
 * of the batch b placed in g (mb present values): see the top. slot:
 * mb of room (the values of the gaps where the CDFs cross, each gap's in
 * its place of the sorted order); list: m of room (those gaps). */
static void distances(const kn__psi_ref *r, const double *b, size_t nb, const uint32_t *at,
                      size_t mb, gaps *g, double *slot, uint32_t *list, double *most_out,
                      double *sum_out, double *cc)
{
    const kn__ref_index *x = &r->index;
    const double *pad = x->pad;
    const uint32_t *n = g->n, *ties = g->ties;
    uint32_t *below = g->below;
    size_t m = r->ma, n_cross = 0;
    double fm = (double)m, fmb = (double)mb, most = 0, sum = 0;
    below[0] = 0;
    for (size_t k = 0; k <= m; k++) below[k + 1] = below[k] + n[k];
#ifdef KN_HAVE_AVX512
    if (kn__simd_avx512())
        n_cross = gaps_avx512(pad, m, mb, g, list, &most, &sum);
    else
#endif
        n_cross = gaps_scalar(pad, m, mb, g, list, &most, &sum);
    uint32_t bk = below[m];
    double g0 = (double)n[0] * fm, gm = fabs((double)(bk + ties[m]) * fm - fm * fmb);
    most = g0 > most ? g0 : most;
    most = gm > most ? gm : most;
    sum += fm * g->d[0] + fm * g->d[m]; /* below and above the sample */
    if (n_cross) {                      /* the crossing gaps' values, each in its gap's place */
        uint32_t *fill = g->ties;
        memset(fill, 0, (m + 2) * sizeof *fill);
        for (size_t s = 0; s < n_cross; s++) fill[list[s]] = 1;
        for (size_t i = 0; i < nb; i++) {
            size_t k = at[i];
            if (k != UINT32_MAX && fill[k]) slot[below[k] + fill[k]++ - 1] = b[i];
        }
        for (size_t s = 0; s < n_cross; s++) { /* in any order: each gap's own */
            size_t k = list[s];
            sum += walk_gap(pad, k, (double)k * fmb, (double)below[k], fm, slot + below[k],
                            fill[k] - 1);
        }
    }
    /* PSI: a value x falls in bin #{edges < x}: gap k's bin, one less for a
     * tie with an edge (the edges are values of the sample) */
    for (size_t bn = 0; bn <= r->k; bn++)
        cc[bn] = (double)(below[x->bin_gap[bn + 1]] - below[x->bin_gap[bn]]);
    for (size_t i = 0; g->n_ties && i < nb; i++) {
        size_t k = at[i];
        if (k == UINT32_MAX || !k || pad[k - 1] != b[i]) continue;
        size_t bn = bin_of_gap(r, k);
        if (bn && r->edges[bn - 1] == pad[k - 1]) cc[bn]--, cc[bn - 1]++;
    }
    *most_out = most, *sum_out = sum;
}

kn_status kn__vs_ref(const kn__psi_ref *r, const double *b, size_t nb, size_t *mb_out, double *ks,
                     double *w, double *psi, size_t *n_bins, int *done)
{
    *done = 0;
    const kn__ref_index *x = &r->index;
    size_t m = r->ma, mb = 0;
    /* the numerators must be exact in a double */
    if (!x->ready || nb > INT32_MAX || (double)m * (double)nb >= 9007199254740992.0) return KN_OK;
    /* one block: the per-gap counts and sums (zeros), then room */
    size_t cells = 3 * (m + 2) * sizeof(uint32_t) + (m + 1) * sizeof(double);
    cells = (cells + 7) / 8 * 8;
    char *block = kn_calloc(1, cells);
    double *cc = kn_calloc(r->k + 2, sizeof *cc), *slot = kn_malloc((nb ? nb : 1) * sizeof *slot);
    uint32_t *at = kn_malloc((nb ? nb : 1) * sizeof *at), *list = kn_malloc(m * sizeof *list);
    kn_status e = block && cc && slot && at && list ? KN_OK : KN_ERR_NOMEM;
    if (e != KN_OK) goto out;
    gaps g = {(uint32_t *)(void *)block, (uint32_t *)(void *)block + (m + 2),
              (uint32_t *)(void *)block + 2 * (m + 2), NULL, 0};
    g.d = (double *)(void *)(block + (cells - (m + 1) * sizeof(double)));
    /* the placement reads the sample and the guide at random: ask for all
     * of their lines at once (a server's window finds them out of cache) */
    for (size_t i = 0; i < m; i += 8) __builtin_prefetch(x->pad + i);
    for (size_t i = 0; i <= x->parts; i += 16) __builtin_prefetch(x->guide + i);
    if (!place(x, m, b, nb, at, &g, &mb) || !mb) goto out; /* +-inf: the walk knows widths */
    double most = 0, sum = 0;
    distances(r, b, nb, at, mb, &g, slot, list, &most, &sum, cc);
    cc[r->k + 1] = (double)(nb - mb); /* missing */
    double cells_ab = (double)m * (double)mb;
    *ks = most / cells_ab;
    *w = sum / cells_ab;
    *psi = kn__psi(r->cr, cc, r->k + 2, (double)r->na, (double)nb);
    *n_bins = r->k + 1 + (r->cr[r->k + 1] + cc[r->k + 1] > 0);
    *mb_out = mb;
    *done = 1;
out:
    kn_free(block), kn_free(cc), kn_free(slot), kn_free(at), kn_free(list);
    return e;
}
