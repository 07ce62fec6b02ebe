/* A batch against a fixed reference without sorting the batch
 * (compare-impl.h: kn__vs_ref, kn__ref_index_make). A server tests every
 * window of every numeric input against the same stored sample: sorting
 * each window and walking it beside the sample cost 24 us a column for
 * 1,000 normal rows against 2,001 values (bench/monitor_parts). Each value
 * is placed among the sample's distinct values instead: its part of a
 * guide of equal parts of the sample's range, then the few values of that
 * part compared with it at once (eight in one AVX-512 instruction, or two
 * AVX2 ones; a part of many is first halved down to eight). One pass over
 * the batch places each value and adds it to its gap's count, ties and
 * distance to the gap's end; one pass over the gaps, eight (AVX2: four)
 * side by side, reads KS, the Wasserstein distance and the PSI off them.
 * Without AVX-512 (an AMD EPYC Zen 3) the AVX2 twins halved a window's
 * numeric tests, 20 columns of 1,000 values: 1,100 -> 535 us.
 *
 * On gap j, [u[j - 1], u[j]), the sample's CDF is r / m (r = rank[j]).
 * With `below` the batch's values under the gap and `ties` those equal to
 * u[j - 1], the batch's CDF times m mb less the sample's is lo = (below +
 * ties) m - r mb at the gap's start and hi = (below + n) m - r mb at its
 * end, so KS's numerator is the largest |lo| or |hi| (exact integers: the
 * same bits as the walk). The integral over the gap is |lo| width, plus
 * for each other value x in it (u[j] - x) m on lo's side (their sum kept
 * per gap), unless lo and hi differ in sign: the CDFs cross inside, and
 * those few gaps are walked value by value. */
#include "core/simd.h"
#include "kiln/mem.h"
#include "learn/eval/compare-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* PARTS_MAX: 16 KB of guide, about two parts a distinct value: a normal
 * sample of 2,001 puts at most 4-8 values in a part */
enum { PARTS_MAX = 4096, SCAN_MAX = 8 };

void kn__ref_index_free(kn__ref_index *x)
{
    if (x->u) kn_free(x->u - 1);
    kn_free(x->rank), kn_free(x->guide), kn_free(x->bin_gap);
    memset(x, 0, sizeof *x);
}

void kn__ref_index_prefetch(const kn__ref_index *x)
{
    if (!x->ready) return;
    /* locality 2: the second-level cache, where it waits for its column
     * without pushing the column being tested out of the first */
    for (size_t i = 0; i < x->nu + SCAN_MAX; i += 8) __builtin_prefetch(x->u + i, 0, 2);
    for (size_t i = 0; i <= x->nu; i += 16) __builtin_prefetch(x->rank + i, 0, 2);
    for (size_t i = 0; i <= x->parts; i += 16) __builtin_prefetch(x->guide + i, 0, 2);
}

size_t kn__ref_index_bytes(const kn__ref_index *x)
{
    return x->ready ? (x->nu + 1 + SCAN_MAX) * sizeof(double) +
                          (x->nu + 1 + x->parts + 1) * sizeof(uint32_t)
                    : 0; /* bin_gap: counted with the PSI bins */
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
    size_t nu = 1;
    for (size_t i = 1; i < m; i++) nu += ra[i] != ra[i - 1];
    size_t parts = 1;
    while (parts < 2 * nu && parts < PARTS_MAX) parts *= 2;
    double span = ra[m - 1] - ra[0], scale = (double)parts / span;
    if (!(span > 0) || !isfinite(span) || !isfinite(scale)) parts = 1, scale = 0;
    x->nu = nu, x->parts = parts, x->lo = ra[0], x->scale = scale;
    double *u = kn_malloc((nu + 1 + SCAN_MAX) * sizeof *u);
    x->u = u ? u + 1 : NULL;
    x->rank = kn_malloc((nu + 1) * sizeof *x->rank);
    x->guide = kn_calloc(parts + 1, sizeof *x->guide);
    x->bin_gap = kn_malloc((r->k + 2) * sizeof *x->bin_gap);
    if (!x->u || !x->rank || !x->guide || !x->bin_gap) {
        kn__ref_index_free(x);
        return KN_ERR_NOMEM;
    }
    u[0] = -INFINITY;
    x->rank[0] = 0;
    for (size_t i = 0, j = 0; i < m; i++) {
        if (i + 1 < m && ra[i + 1] == ra[i]) continue;
        x->u[j] = ra[i];
        x->rank[++j] = (uint32_t)(i + 1);
    }
    for (size_t i = 0; i < SCAN_MAX; i++) x->u[nu + i] = INFINITY;
    for (size_t j = 0; j < nu; j++) x->guide[part_of(x, x->u[j]) + 1]++;
    uint32_t most = 0;
    for (size_t p = 1; p <= parts; p++) {
        most = x->guide[p] > most ? x->guide[p] : most;
        x->guide[p] += x->guide[p - 1];
    }
    if (most <= SCAN_MAX) {
        for (x->scan = 1; x->scan < most;) x->scan *= 2;
    } else { /* halvings of 2^(steps + 2) .. 8 leave eight to compare */
        x->scan = SCAN_MAX;
        while (((uint64_t)SCAN_MAX << x->steps) <= most) x->steps++;
    }
    /* a tie-free value in gap j falls in PSI bin #{edges <= u[j - 1]}:
     * the bins start where the gaps pass an edge (edges are sample values) */
    size_t e = 0;
    x->bin_gap[0] = 0;
    for (size_t j = 1; j <= nu; j++)
        while (e < r->k && r->edges[e] <= x->u[j - 1]) x->bin_gap[++e] = (uint32_t)j;
    while (e < r->k) x->bin_gap[++e] = (uint32_t)(nu + 1);
    x->bin_gap[r->k + 1] = (uint32_t)(nu + 1);
    x->ready = 1;
    return KN_OK;
}

/* Where the place of v (#{u <= v}) lies: at or past the returned index
 * and less than `scan` past it. The distinct values of the parts before
 * v's are below it and those of the parts after it above (part_of is
 * monotone); a part of many is halved first: step up when the value at
 * the step is not above v (arithmetic on the comparisons, not a branch). */
static inline size_t window_of(const kn__ref_index *x, double v)
{
    size_t p = part_of(x, v), lo = x->guide[p];
    if (x->steps) {
        size_t hi = x->guide[p + 1];
        for (unsigned s = x->steps + 2; s >= 3; s--) {
            size_t step = (size_t)1 << s, nk = lo + step, at = nk - 1 < hi ? nk - 1 : lo;
            lo += step * ((size_t)(nk <= hi) & (size_t)(x->u[at] <= v)); /* `at` in bounds */
        }
    }
    return lo;
}

/* #{u <= v} for v finite: the values <= v among `scan` from its window
 * (the padding's +inf past the end) */
#define PLACE_SCAN(S)                                                                              \
    static inline size_t place_##S(const kn__ref_index *x, double v)                               \
    {                                                                                              \
        size_t lo = window_of(x, v), j = 0;                                                        \
        const double *w = x->u + lo;                                                               \
        _Pragma("GCC unroll 8") for (size_t i = 0; i < S; i++) j += w[i] <= v;                     \
        return lo + j;                                                                             \
    }
PLACE_SCAN(1)
PLACE_SCAN(2)
PLACE_SCAN(4)
/* eight by halvings (three dependent loads, fewer instructions than eight
 * compares): the place lies in [lo, lo + 8) */
static inline size_t place_8(const kn__ref_index *x, double v)
{
    size_t lo = window_of(x, v);
    const double *u = x->u;
    lo += 4 * (size_t)(u[lo + 3] <= v);
    lo += 2 * (size_t)(u[lo + 1] <= v);
    return lo + (size_t)(u[lo] <= v);
}

/* The integral of |i m - c| over gap j (c = rank[j] mb) walked over its
 * values xs[0..n), sorted here (a gap holds a few); i starts at the values
 * below the gap. */
static double walk_gap(const double *u, size_t j, double c, double i, double fm, double *xs,
                       size_t n)
{
    for (size_t a = 1; a < n; a++) { /* insertion sort */
        double t = xs[a];
        size_t at = a;
        for (; at > 0 && xs[at - 1] > t; at--) xs[at] = xs[at - 1];
        xs[at] = t;
    }
    double x = u[j - 1], sum = 0;
    for (size_t s = 0; s < n; s++, i++) {
        if (xs[s] > x) sum += fabs(c - i * fm) * (xs[s] - x), x = xs[s];
    }
    return sum + fabs(c - i * fm) * (u[j] - x);
}

/* The PSI bin of gap j: its last bin starting at or before it. */
static size_t bin_of_gap(const kn__psi_ref *r, size_t j)
{
    size_t b = 0;
    while (b + 1 <= r->k && r->index.bin_gap[b + 1] <= j) b++;
    return b;
}

/* The per-gap sums of a batch: n its values in gap j, ties those equal to
 * u[j - 1], d the sum of their distances u[j] - x to the gap's end (ties
 * aside; for gap nu, above the sample, x - u[nu - 1]). */
typedef struct gaps {
    uint32_t *n, *ties, *below; /* nu + 2 each; below: the values in gaps < j */
    double *d;                  /* nu + 1 */
    size_t n_ties;
} gaps;

/* Value v, present, in gap j (TIE: equal to the gap's start): its count,
 * tie and distance to the gap's end (above the sample: from its last
 * value), in the placing loops' locals. */
#define COUNT_IN_GAP(j, v, TIE)                                                                    \
    do {                                                                                           \
        int tie_ = (TIE);                                                                          \
        double d_ = (j) == nu ? (v)-u[nu - 1] : u[j] - (v);                                        \
        gn[j]++;                                                                                   \
        gt[j] += (uint32_t)tie_;                                                                   \
        n_ties += (size_t)tie_;                                                                    \
        gd[j] += tie_ ? 0 : d_;                                                                    \
        n_present++;                                                                               \
    } while (0)

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
        size_t j = PLACE(x, v);                                                                    \
        at[i] = (uint32_t)j;                                                                       \
        COUNT_IN_GAP(j, v, u[j - 1] == v);                                                         \
    }

#ifdef KN_HAVE_AVX512
#include <immintrin.h>

/* The loop of place()'s SIMD twins; the statements given set le and eq,
 * the masks of the window's 8 values (u + lo) <= v and == v. The index's
 * fields are in locals: the stores to the counts could alias them, and GCC
 * would load them again for every value. */
#define PLACE_SIMD(...)                                                                            \
    const kn__ref_index ix = *x;                                                                   \
    const double *u = ix.u, top = (double)(ix.parts - 1);                                          \
    const uint32_t *guide = ix.guide;                                                              \
    uint32_t *gn = g->n, *gt = g->ties;                                                            \
    double *gd = g->d;                                                                             \
    size_t n_present = 0, n_ties = 0, nu = ix.nu;                                                  \
    for (size_t i = 0; i < nb; i++) {                                                              \
        double v = b[i];                                                                           \
        if (isnan(v)) {                                                                            \
            at[i] = UINT32_MAX;                                                                    \
            continue;                                                                              \
        }                                                                                          \
        if (!isfinite(v)) return 0;                                                                \
        double t = (v - ix.lo) * ix.scale;                                                         \
        t = t < top ? t : top;                                                                     \
        t = t >= 0 ? t : 0;                                                                        \
        size_t lo = ix.steps ? window_of(&ix, v) : guide[(size_t)t];                               \
        unsigned le, eq;                                                                           \
        __VA_ARGS__;                                                                               \
        size_t j = lo + (size_t)__builtin_popcount(le);                                            \
        at[i] = (uint32_t)j;                                                                       \
        /* without halvings the window holds v's part, so any value equal                          \
         * to v; after them, u[lo - 1] may be */                                                   \
        COUNT_IN_GAP(j, v, ix.steps ? u[j - 1] == v : eq != 0);                                    \
    }                                                                                              \
    *mb = n_present;                                                                               \
    g->n_ties = n_ties;                                                                            \
    return 1;

/* place()'s AVX-512 twin: a window's 8 values compared with v in one
 * instruction. The same gaps, counts and sums. */
__attribute__((target("avx512f,popcnt"))) static int
place_avx512(const kn__ref_index *x, const double *b, size_t nb, uint32_t *at, gaps *g, size_t *mb)
{
    PLACE_SIMD(__m512d w = _mm512_loadu_pd(u + lo), vv = _mm512_set1_pd(v);
               le = _mm512_cmp_pd_mask(w, vv, _CMP_LE_OQ);
               eq = _mm512_cmp_pd_mask(w, vv, _CMP_EQ_OQ))
}

/* place()'s AVX2 twin (a CPU without AVX-512): the window's 8 values in
 * two compares of four. The same gaps, counts and sums. */
__attribute__((target("avx2,popcnt"))) static int
place_avx2(const kn__ref_index *x, const double *b, size_t nb, uint32_t *at, gaps *g, size_t *mb)
{
    PLACE_SIMD(__m256d vv = _mm256_set1_pd(v), w0 = _mm256_loadu_pd(u + lo),
               w1 = _mm256_loadu_pd(u + lo + 4);
               le = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(w0, vv, _CMP_LE_OQ)) |
                    (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(w1, vv, _CMP_LE_OQ)) << 4;
               eq = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(w0, vv, _CMP_EQ_OQ)) |
                    (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(w1, vv, _CMP_EQ_OQ)))
}
#endif

static int place(const kn__ref_index *x, const double *b, size_t nb, uint32_t *at, gaps *g,
                 size_t *mb)
{
#ifdef KN_HAVE_AVX512
    if (kn__simd_avx512()) return place_avx512(x, b, nb, at, g, mb);
    if (kn__simd_avx2()) return place_avx2(x, b, nb, at, g, mb);
#endif
    const double *u = x->u;
    uint32_t *gn = g->n, *gt = g->ties;
    double *gd = g->d;
    size_t n_present = 0, n_ties = 0, nu = x->nu;
    switch (x->scan) {
    case 1:
        PLACE_ALL(place_1) break;
    case 2:
        PLACE_ALL(place_2) break;
    case 4:
        PLACE_ALL(place_4) break;
    default:
        PLACE_ALL(place_8) break;
    }
    *mb = n_present;
    g->n_ties = n_ties;
    return 1;
}

/* The gaps 1 .. nu - 1 of a batch placed in g (below made): KS's largest
 * numerator into *most, the integrals of the gaps where the CDFs do not
 * cross added to *sum, those where they do listed; returns how many.
 * Without branches: whether the CDFs cross in a gap, or lo's sign, is a
 * coin flip to the predictor where they run close. */
static size_t gaps_scalar(const kn__ref_index *x, size_t from, size_t m, size_t mb, const gaps *g,
                          uint32_t *list, double *most_io, double *sum_io)
{
    const uint32_t *below = g->below, *ties = g->ties, *rank = x->rank;
    const double *u = x->u;
    double fm = (double)m, fmb = (double)mb, most = *most_io, sum = *sum_io;
    size_t n_cross = 0;
    for (size_t j = from; j < x->nu; j++) {
        double c = (double)rank[j] * fmb, lo = (double)(below[j] + ties[j]) * fm - c,
               hi = (double)below[j + 1] * fm - c, width = u[j] - u[j - 1];
        double gk = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
        most = gk > most ? gk : most;
        int cross = (lo < 0) & (hi > 0);
        list[n_cross] = (uint32_t)j;
        n_cross += (size_t)cross;
        double in = fabs(lo) * width + (lo >= 0 ? fm : -fm) * g->d[j];
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
gaps_avx512(const kn__ref_index *x, size_t m, size_t mb, const gaps *g, uint32_t *list,
            double *most_io, double *sum_io)
{
    const uint32_t *below = g->below, *ties = g->ties, *rank = x->rank;
    const double *u = x->u;
    size_t nu = x->nu, n_cross = 0;
    const __m512d fm = _mm512_set1_pd((double)m), fmb = _mm512_set1_pd((double)mb),
                  zero = _mm512_setzero_pd();
    __m512d most = _mm512_set1_pd(*most_io), sum = zero;
    for (size_t j = 1; j < nu; j += 8) {
        __mmask8 in = (__mmask8)(nu - j >= 8 ? 0xff : (1u << (nu - j)) - 1);
        __m256i bl = _mm256_maskz_loadu_epi32(in, below + j),
                bh = _mm256_maskz_loadu_epi32(in, below + j + 1),
                t = _mm256_maskz_loadu_epi32(in, ties + j),
                rk = _mm256_maskz_loadu_epi32(in, rank + j);
        __m512d c = _mm512_mul_pd(_mm512_cvtepu32_pd(rk), fmb),
                lo = _mm512_sub_pd(_mm512_mul_pd(_mm512_cvtepu32_pd(_mm256_add_epi32(bl, t)), fm),
                                   c),
                hi = _mm512_sub_pd(_mm512_mul_pd(_mm512_cvtepu32_pd(bh), fm), c),
                width = _mm512_sub_pd(_mm512_maskz_loadu_pd(in, u + j),
                                      _mm512_maskz_loadu_pd(in, u + j - 1)),
                fd = _mm512_mul_pd(fm, _mm512_maskz_loadu_pd(in, g->d + j));
        __m512d alo = _mm512_abs_pd(lo);
        most = _mm512_mask_max_pd(most, in, most, _mm512_max_pd(alo, _mm512_abs_pd(hi)));
        __mmask8 down = _mm512_cmp_pd_mask(lo, zero, _CMP_LT_OQ);
        __mmask8 cross = (__mmask8)(_mm512_mask_cmp_pd_mask(down, hi, zero, _CMP_GT_OQ) & in);
        __m512d v =
            _mm512_add_pd(_mm512_mul_pd(alo, width), _mm512_mask_sub_pd(fd, down, zero, fd));
        sum = _mm512_mask_add_pd(sum, (__mmask8)(in & ~cross), sum, v);
        for (unsigned c8 = cross; c8; c8 &= c8 - 1)
            list[n_cross++] = (uint32_t)(j + (size_t)__builtin_ctz(c8));
    }
    *most_io = _mm512_reduce_max_pd(most);
    *sum_io += _mm512_reduce_add_pd(sum);
    return n_cross;
}

/* gaps_scalar's AVX2 twin, four gaps side by side, the last few by
 * gaps_scalar: the same KS numerator and crossings; the integrals summed
 * in four lanes (Wasserstein the same up to rounding). */
__attribute__((target("avx2"))) static size_t gaps_avx2(const kn__ref_index *x, size_t m, size_t mb,
                                                        const gaps *g, uint32_t *list,
                                                        double *most_io, double *sum_io)
{
    const uint32_t *below = g->below, *ties = g->ties, *rank = x->rank;
    const double *u = x->u;
    size_t nu = x->nu, n_cross = 0, j = 1;
    const __m256d fm = _mm256_set1_pd((double)m), fmb = _mm256_set1_pd((double)mb),
                  zero = _mm256_setzero_pd(), sign = _mm256_set1_pd(-0.0);
    __m256d most = _mm256_set1_pd(*most_io), sum = zero;
    /* the counts and ranks are below 2^31 (kn__vs_ref): a signed convert */
    for (; j + 4 <= nu; j += 4) {
        __m128i bl = _mm_loadu_si128((const __m128i *)(const void *)(below + j)),
                bh = _mm_loadu_si128((const __m128i *)(const void *)(below + j + 1)),
                t = _mm_loadu_si128((const __m128i *)(const void *)(ties + j)),
                rk = _mm_loadu_si128((const __m128i *)(const void *)(rank + j));
        __m256d c = _mm256_mul_pd(_mm256_cvtepi32_pd(rk), fmb),
                lo = _mm256_sub_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm_add_epi32(bl, t)), fm), c),
                hi = _mm256_sub_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(bh), fm), c),
                width = _mm256_sub_pd(_mm256_loadu_pd(u + j), _mm256_loadu_pd(u + j - 1)),
                fd = _mm256_mul_pd(fm, _mm256_loadu_pd(g->d + j));
        __m256d alo = _mm256_andnot_pd(sign, lo), ahi = _mm256_andnot_pd(sign, hi);
        most = _mm256_max_pd(most, _mm256_max_pd(alo, ahi));
        __m256d down = _mm256_cmp_pd(lo, zero, _CMP_LT_OQ),
                cross = _mm256_and_pd(down, _mm256_cmp_pd(hi, zero, _CMP_GT_OQ));
        /* lo's side: +fd where lo >= 0, -fd below (the sign bit flipped) */
        __m256d v =
            _mm256_add_pd(_mm256_mul_pd(alo, width), _mm256_xor_pd(fd, _mm256_and_pd(down, sign)));
        sum = _mm256_add_pd(sum, _mm256_andnot_pd(cross, v));
        for (unsigned c4 = (unsigned)_mm256_movemask_pd(cross); c4; c4 &= c4 - 1)
            list[n_cross++] = (uint32_t)(j + (size_t)__builtin_ctz(c4));
    }
    double lanes[4], top[4];
    _mm256_storeu_pd(lanes, sum);
    _mm256_storeu_pd(top, most);
    double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    double mx = fmax(fmax(top[0], top[1]), fmax(top[2], top[3]));
    *sum_io += s;
    *most_io = mx;
    return n_cross + gaps_scalar(x, j, m, mb, g, list + n_cross, most_io, sum_io);
}
#endif

/* KS's numerator, the Wasserstein integral (times m mb) and the PSI counts
 * of the batch b placed in g (mb present values): see the top. slot:
 * mb of room (the values of the gaps where the CDFs cross, each gap's in
 * its place of the sorted order); list: nu of room (those gaps). */
static void distances(const kn__psi_ref *r, const double *b, size_t nb, const uint32_t *at,
                      size_t mb, gaps *g, double *slot, uint32_t *list, double *most_out,
                      double *sum_out, double *cc)
{
    const kn__ref_index *x = &r->index;
    const double *u = x->u;
    const uint32_t *n = g->n, *ties = g->ties;
    uint32_t *below = g->below;
    size_t m = r->ma, nu = x->nu, n_cross = 0;
    double fm = (double)m, fmb = (double)mb, most = 0, sum = 0;
    below[0] = 0;
    for (size_t j = 0; j <= nu; j++) below[j + 1] = below[j] + n[j];
#ifdef KN_HAVE_AVX512
    if (kn__simd_avx512())
        n_cross = gaps_avx512(x, m, mb, g, list, &most, &sum);
    else if (kn__simd_avx2())
        n_cross = gaps_avx2(x, m, mb, g, list, &most, &sum);
    else
#endif
        n_cross = gaps_scalar(x, 1, m, mb, g, list, &most, &sum);
    double g0 = (double)n[0] * fm, gm = fabs((double)(below[nu] + ties[nu]) * fm - fm * fmb);
    most = g0 > most ? g0 : most;
    most = gm > most ? gm : most;
    sum += fm * g->d[0] + fm * g->d[nu]; /* below and above the sample */
    if (n_cross) {                       /* the crossing gaps' values, each in its gap's place */
        uint32_t *fill = g->ties;
        memset(fill, 0, (nu + 2) * sizeof *fill);
        for (size_t s = 0; s < n_cross; s++) fill[list[s]] = 1;
        for (size_t i = 0; i < nb; i++) {
            size_t j = at[i];
            if (j != UINT32_MAX && fill[j]) slot[below[j] + fill[j]++ - 1] = b[i];
        }
        for (size_t s = 0; s < n_cross; s++) { /* in any order: each gap's own */
            size_t j = list[s];
            sum += walk_gap(u, j, (double)x->rank[j] * fmb, (double)below[j], fm, slot + below[j],
                            fill[j] - 1);
        }
    }
    /* PSI: a value v falls in bin #{edges < v}: gap j's bin, one less for a
     * tie with an edge (the edges are values of the sample) */
    for (size_t bn = 0; bn <= r->k; bn++)
        cc[bn] = (double)(below[x->bin_gap[bn + 1]] - below[x->bin_gap[bn]]);
    for (size_t i = 0; g->n_ties && i < nb; i++) {
        size_t j = at[i];
        if (j == UINT32_MAX || !j || u[j - 1] != b[i]) continue;
        size_t bn = bin_of_gap(r, j);
        if (bn && r->edges[bn - 1] == u[j - 1]) cc[bn]--, cc[bn - 1]++;
    }
    *most_out = most, *sum_out = sum;
}

kn_status kn__vs_ref(const kn__psi_ref *r, const double *b, size_t nb, size_t *mb_out, double *ks,
                     double *w, double *psi, size_t *n_bins, int *done)
{
    *done = 0;
    const kn__ref_index *x = &r->index;
    size_t m = r->ma, nu = x->nu, mb = 0;
    /* the numerators must be exact in a double */
    if (!x->ready || nb > INT32_MAX || (double)m * (double)nb >= 9007199254740992.0) return KN_OK;
    /* one allocation: the per-gap sums and counts (zeroed), then room:
     * doubles d (nu + 1), slot (nb), cc (k + 2); uint32 n, ties (nu + 2
     * each), below (nu + 2), at (nb), list (nu) */
    size_t nd = (nu + 1) + nb + (r->k + 2), n32 = 3 * (nu + 2) + nb + nu;
    char *block = kn_malloc(nd * sizeof(double) + n32 * sizeof(uint32_t));
    kn_status e = block ? KN_OK : KN_ERR_NOMEM;
    if (e != KN_OK) return e;
    double *d = (double *)(void *)block, *slot = d + (nu + 1), *cc = slot + nb;
    uint32_t *counts = (uint32_t *)(void *)(cc + (r->k + 2)), *at = counts + 3 * (nu + 2),
             *list = at + nb;
    memset(d, 0, (nu + 1) * sizeof *d);
    memset(counts, 0, 2 * (nu + 2) * sizeof *counts);
    gaps g = {counts, counts + (nu + 2), counts + 2 * (nu + 2), d, 0};
    /* the placement reads the values and the guide at random: ask for all
     * of their lines at once (a server's window finds them out of cache) */
    for (size_t i = 0; i < nu; i += 8) __builtin_prefetch(x->u + i);
    for (size_t i = 0; i <= x->parts; i += 16) __builtin_prefetch(x->guide + i);
    if (!place(x, b, nb, at, &g, &mb) || !mb) goto out; /* +-inf: the walk knows widths */
    double most = 0, sum = 0;
    distances(r, b, nb, at, mb, &g, slot, list, &most, &sum, cc);
    cc[r->k + 1] = (double)(nb - mb); /* missing */
    double cells = (double)m * (double)mb;
    *ks = most / cells;
    *w = sum / cells;
    *psi = kn__psi(r->cr, cc, r->k + 2, (double)r->na, (double)nb);
    *n_bins = r->k + 1 + (r->cr[r->k + 1] + cc[r->k + 1] > 0);
    *mb_out = mb;
    *done = 1;
out:
    kn_free(block);
    return e;
}
