/* Greedy k-means++ seeding (kmeans-impl.h), as scikit-learn's
 * _kmeans_plusplus: the first centre a uniformly drawn row, each next one
 * the best (least total squared distance) of 2 + floor(ln k) candidates
 * drawn with probability proportional to the squared distance to the
 * nearest centre so far.
 *
 * A step computes few candidates against many rows: too thin for dgemm,
 * whose packing of the rows cost more than its arithmetic. Here a row is
 * read once and its exact squared distances, sum over features of
 * (x_j - c_j)^2 in feature order, go to all candidates at once: with
 * AVX-512 the candidates sit in the eight lanes of a register (transposed
 * once per step) and each feature of the row is broadcast, four rows in
 * flight; the portable twin does the same operations candidate by
 * candidate, so both give the same bits (no fused multiply-add: the build
 * is ISO C, -ffp-contract=off). Rows that no candidate can come closer to
 * (by the triangle inequality from their nearest centre) are left out
 * without reading them. Chunks of KM_CHUNK rows go to threads; sums over
 * rows are kept per chunk and added in chunk order, so any thread count
 * gives the same seeds. */
#include "core/simd.h"
#include "kiln/mem.h"
#include "learn/unsup/kmeans-impl.h"

#include <math.h>
#include <string.h>

#define KM_PAR_ROWS 32768 /* fewer rows: one thread (as kmeans_block.c) */
#define KM_LANES 8        /* candidates per group (one AVX-512 register) */

/* The chunk's sums over its rows, per candidate t: all rows (idx NULL):
 * sum of min(d, cl); some rows: sum of min(d - cl, 0) (the others add
 * nothing; the caller adds the chunk's sum of closest). */
static void sums_scalar(const float *d, size_t m, size_t trials, const double *cl,
                        const size_t *idx, double *sum)
{
    for (size_t t = 0; t < trials; t++) {
        double s = 0;
        for (size_t q = 0; q < m; q++) {
            double v = (double)d[q * trials + t], c = cl[idx ? idx[q] : q];
            if (idx) {
                double u = v - c;
                s += u < 0 ? u : 0;
            } else
                s += v < c ? v : c;
        }
        sum[t] = s;
    }
}

/* Rows lo + idx[q] (idx NULL: lo + q), q < m, against the candidates
 * (trials x p, row-major): squared distances into d (m x trials,
 * row-major) and the chunk's sums (sums_scalar). A distance is summed
 * feature by feature, multiply then add, as the vector kernels do. */
static void chunk_scalar(const float *x, size_t p, size_t lo, const size_t *idx, size_t m,
                         const double *cand, size_t trials, const double *cl, float *d, double *sum)
{
    for (size_t q = 0; q < m; q++) {
        const float *r = x + (lo + (idx ? idx[q] : q)) * p;
        for (size_t t = 0; t < trials; t++) {
            const double *c = cand + t * p;
            double v = 0;
            for (size_t j = 0; j < p; j++) {
                double e = (double)r[j] - c[j];
                v += e * e;
            }
            d[q * trials + t] = (float)v;
        }
    }
    sums_scalar(d, m, trials, cl, idx, sum);
}

#ifdef KN_HAVE_AVX512
#include <immintrin.h>

/* The kept rows a kernel reads next: the gaps between them defeat the
 * hardware's prefetcher. Always inlined: GCC 12 takes a separate function
 * whose only effect is a prefetch for a pure one and drops its calls (so
 * before session 21 no prefetch was ever issued). */
static inline __attribute__((always_inline)) void
prefetch_rows(const float *x, size_t p, size_t lo, const size_t *idx, size_t q, size_t m)
{
    for (size_t u = q + 16; idx && u < q + 20 && u < m; u++) {
        const char *f = (const char *)(x + (lo + idx[u]) * p);
        _mm_prefetch(f, _MM_HINT_T0);
        _mm_prefetch(f + p * sizeof *x - 1, _MM_HINT_T0);
    }
}

/* The sum's next row: v its distances, c its closest. */
__attribute__((target("avx512f"))) static inline __m512d add_row8(__m512d s, __m512d v, double c,
                                                                  int some)
{
    __m512d cv = _mm512_set1_pd(c);
    if (some) return _mm512_add_pd(s, _mm512_min_pd(_mm512_sub_pd(v, cv), _mm512_setzero_pd()));
    return _mm512_add_pd(s, _mm512_min_pd(v, cv));
}

/* The distances rounded to float: stored in the lanes of fmask, and
 * returned as doubles (what the sums add, as the portable twin does). */
__attribute__((target("avx512f"))) static inline __m512d store_row8(float *dst, __m512d a,
                                                                    __m256i fmask)
{
    __m256 f = _mm512_cvtpd_ps(a);
    _mm256_maskstore_ps(dst, fmask, f);
    return _mm512_cvtps_pd(f);
}

/* chunk_scalar's operations, lane by lane: ct holds the candidates
 * transposed in groups of eight (group g, feature j, lane l at
 * ct[(g x p + j) x 8 + l]; lanes past trials are zero and never stored).
 * Four rows in flight. */
__attribute__((target("avx512f"))) static void chunk_avx512(const float *x, size_t p, size_t lo,
                                                            const size_t *idx, size_t m,
                                                            const double *ct, size_t trials,
                                                            const double *cl, float *d, double *sum)
{
    int some = idx != NULL;
    for (size_t g = 0; g * KM_LANES < trials; g++) {
        const double *cg = ct + g * p * KM_LANES;
        size_t t0 = g * KM_LANES, w = trials - t0 < KM_LANES ? trials - t0 : KM_LANES;
        __mmask8 mask = (__mmask8)((1u << w) - 1);
        __m256i fmask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)w),
                                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m512d s = _mm512_setzero_pd();
        size_t q = 0;
        for (; q + 4 <= m; q += 4) {
            prefetch_rows(x, p, lo, idx, q, m);
            size_t i0 = idx ? idx[q] : q, i1 = idx ? idx[q + 1] : q + 1;
            size_t i2 = idx ? idx[q + 2] : q + 2, i3 = idx ? idx[q + 3] : q + 3;
            const float *r0 = x + (lo + i0) * p, *r1 = x + (lo + i1) * p;
            const float *r2 = x + (lo + i2) * p, *r3 = x + (lo + i3) * p;
            __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t j = 0; j < p; j++) {
                __m512d c = _mm512_loadu_pd(cg + j * KM_LANES);
                __m512d e0 = _mm512_sub_pd(_mm512_set1_pd((double)r0[j]), c);
                __m512d e1 = _mm512_sub_pd(_mm512_set1_pd((double)r1[j]), c);
                __m512d e2 = _mm512_sub_pd(_mm512_set1_pd((double)r2[j]), c);
                __m512d e3 = _mm512_sub_pd(_mm512_set1_pd((double)r3[j]), c);
                a0 = _mm512_add_pd(a0, _mm512_mul_pd(e0, e0));
                a1 = _mm512_add_pd(a1, _mm512_mul_pd(e1, e1));
                a2 = _mm512_add_pd(a2, _mm512_mul_pd(e2, e2));
                a3 = _mm512_add_pd(a3, _mm512_mul_pd(e3, e3));
            }
            a0 = store_row8(d + q * trials + t0, a0, fmask);
            a1 = store_row8(d + (q + 1) * trials + t0, a1, fmask);
            a2 = store_row8(d + (q + 2) * trials + t0, a2, fmask);
            a3 = store_row8(d + (q + 3) * trials + t0, a3, fmask);
            s = add_row8(s, a0, cl[i0], some);
            s = add_row8(s, a1, cl[i1], some);
            s = add_row8(s, a2, cl[i2], some);
            s = add_row8(s, a3, cl[i3], some);
        }
        for (; q < m; q++) {
            size_t i = idx ? idx[q] : q;
            const float *r = x + (lo + i) * p;
            __m512d a = _mm512_setzero_pd();
            for (size_t j = 0; j < p; j++) {
                __m512d c = _mm512_loadu_pd(cg + j * KM_LANES);
                __m512d e = _mm512_sub_pd(_mm512_set1_pd((double)r[j]), c);
                a = _mm512_add_pd(a, _mm512_mul_pd(e, e));
            }
            a = store_row8(d + q * trials + t0, a, fmask);
            s = add_row8(s, a, cl[i], some);
        }
        _mm512_mask_storeu_pd(sum + t0, mask, s);
    }
}

/* The sum's next row, four lanes. */
__attribute__((target("avx2"))) static inline __m256d add_row4(__m256d s, __m256d v, double c,
                                                               int some)
{
    __m256d cv = _mm256_set1_pd(c);
    if (some) return _mm256_add_pd(s, _mm256_min_pd(_mm256_sub_pd(v, cv), _mm256_setzero_pd()));
    return _mm256_add_pd(s, _mm256_min_pd(v, cv));
}

/* store_row8 for two four-lane halves. */
__attribute__((target("avx2"))) static inline void store_row4(float *dst, __m256d *lo4,
                                                              __m256d *hi4, __m256i fmask)
{
    __m128 l = _mm256_cvtpd_ps(*lo4), h = _mm256_cvtpd_ps(*hi4);
    _mm256_maskstore_ps(dst, fmask, _mm256_insertf128_ps(_mm256_castps128_ps256(l), h, 1));
    *lo4 = _mm256_cvtps_pd(l);
    *hi4 = _mm256_cvtps_pd(h);
}

/* chunk_avx512's operations in two four-lane registers per group of
 * eight candidates, two rows in flight. */
__attribute__((target("avx2"))) static void chunk_avx2(const float *x, size_t p, size_t lo,
                                                       const size_t *idx, size_t m,
                                                       const double *ct, size_t trials,
                                                       const double *cl, float *d, double *sum)
{
    int some = idx != NULL;
    for (size_t g = 0; g * KM_LANES < trials; g++) {
        const double *cg = ct + g * p * KM_LANES;
        size_t t0 = g * KM_LANES, w = trials - t0 < KM_LANES ? trials - t0 : KM_LANES;
        __m256d sl = _mm256_setzero_pd(), sh = sl;
        __m256i fmask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)w),
                                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        double tmp[KM_LANES];
        for (size_t q = 0; q < m; q += 2) {
            prefetch_rows(x, p, lo, idx, q, m);
            int two = q + 1 < m;
            size_t i0 = idx ? idx[q] : q, i1 = two ? (idx ? idx[q + 1] : q + 1) : i0;
            const float *r0 = x + (lo + i0) * p, *r1 = x + (lo + i1) * p;
            __m256d l0 = _mm256_setzero_pd(), h0 = l0, l1 = l0, h1 = l0;
            for (size_t j = 0; j < p; j++) {
                __m256d cl4 = _mm256_loadu_pd(cg + j * KM_LANES);
                __m256d ch4 = _mm256_loadu_pd(cg + j * KM_LANES + 4);
                __m256d x0 = _mm256_set1_pd((double)r0[j]), x1 = _mm256_set1_pd((double)r1[j]);
                __m256d e = _mm256_sub_pd(x0, cl4);
                l0 = _mm256_add_pd(l0, _mm256_mul_pd(e, e));
                e = _mm256_sub_pd(x0, ch4);
                h0 = _mm256_add_pd(h0, _mm256_mul_pd(e, e));
                e = _mm256_sub_pd(x1, cl4);
                l1 = _mm256_add_pd(l1, _mm256_mul_pd(e, e));
                e = _mm256_sub_pd(x1, ch4);
                h1 = _mm256_add_pd(h1, _mm256_mul_pd(e, e));
            }
            store_row4(d + q * trials + t0, &l0, &h0, fmask);
            sl = add_row4(sl, l0, cl[i0], some);
            sh = add_row4(sh, h0, cl[i0], some);
            if (two) {
                store_row4(d + (q + 1) * trials + t0, &l1, &h1, fmask);
                sl = add_row4(sl, l1, cl[i1], some);
                sh = add_row4(sh, h1, cl[i1], some);
            }
        }
        _mm256_storeu_pd(tmp, sl);
        _mm256_storeu_pd(tmp + 4, sh);
        memcpy(sum + t0, tmp, w * sizeof *tmp);
    }
}
#endif

/* The chosen candidate's distances (kn__km_choose) into closest and near
 * for chunk ch's rows; doing it again changes nothing. */
static void apply_chunk(const kn__km_near *nb, size_t ch, double *closest, size_t *near)
{
    if (!nb->pending) return;
    size_t lo = ch * KM_CHUNK, m = nb->m[ch], tr = nb->ptrials, c = nb->pc;
    const float *d = nb->dist + lo * tr + nb->pt;
    const size_t *idx = nb->all[ch] ? NULL : nb->idx + lo;
    for (size_t q = 0; q < m; q++) { /* no branch: whether it is closer is a coin toss */
        size_t i = lo + (idx ? idx[q] : q);
        double v = (double)d[q * tr], o = closest[i];
        int lt = v < o;
        closest[i] = lt ? v : o;
        near[i] = lt ? c : near[i];
    }
}

kn_status kn__km_trials(const float *x, size_t n, size_t p, const double *cand, size_t trials,
                        double *closest, size_t *near, const double *far, size_t k,
                        const double *cpart, kn__km_near *nb, double *part)
{
    size_t chunks = kn__km_chunks(n), groups = (trials + KM_LANES - 1) / KM_LANES;
    int vec = 0; /* 2: AVX-512, 1: AVX2, 0: the portable twin */
#ifdef KN_HAVE_AVX512
    vec = kn__simd_avx512() ? 2 : kn__simd_avx2() ? 1 : 0;
#endif
    /* fmin[a]: the least squared distance from centre a to a candidate */
    double *ct = kn_calloc(groups * p * KM_LANES + 1, sizeof *ct);
    double *fmin = kn_malloc((far ? k : 1) * sizeof *fmin);
    if (!ct || !fmin) {
        kn_free(ct), kn_free(fmin);
        return KN_ERR_NOMEM;
    }
    for (size_t t = 0; t < trials; t++)
        for (size_t j = 0; j < p; j++)
            ct[((t / KM_LANES) * p + j) * KM_LANES + t % KM_LANES] = cand[t * p + j];
    /* another step's layout: its distances lie where this step writes */
    if (nb->pending && nb->ptrials != trials) kn__km_flush(n, nb, closest, near);
    for (size_t a = 0; far && a < k; a++) {
        double f = far[a];
        for (size_t t = 1; t < trials; t++) f = far[t * k + a] < f ? far[t * k + a] : f;
        fmin[a] = f;
    }
#pragma omp parallel for schedule(dynamic, 1) if (n >= KM_PAR_ROWS)
    for (size_t ch = 0; ch < chunks; ch++) {
        size_t lo = ch * KM_CHUNK, len = lo + KM_CHUNK < n ? KM_CHUNK : n - lo, m = len;
        size_t *idx = NULL;
        double *cl = closest + lo;
        /* the pending update first, while the chunk's rows come into cache */
        apply_chunk(nb, ch, closest, near);
        if (far) {
            /* by the triangle inequality a point at squared distance f from
             * the row's nearest centre is no closer than it when f >= 4
             * closest (a margin above the float rounding of closest, so
             * rounding never decides) */
            idx = nb->idx + lo;
            m = 0;
            for (size_t i = 0; i < len; i++) {
                idx[m] = i;
                m += fmin[near[lo + i]] < 4 * cl[i] * (1 + 1e-6);
            }
        }
        float *d = nb->dist + lo * trials;
        double *s = part + ch * trials;
#ifdef KN_HAVE_AVX512
        if (vec == 2)
            chunk_avx512(x, p, lo, idx, m, ct, trials, cl, d, s);
        else if (vec == 1)
            chunk_avx2(x, p, lo, idx, m, ct, trials, cl, d, s);
        else
#endif
            chunk_scalar(x, p, lo, idx, m, cand, trials, cl, d, s);
        if (far)
            for (size_t t = 0; t < trials; t++) s[t] += cpart[ch];
        nb->m[ch] = m;
        nb->all[ch] = !far;
    }
    nb->pending = 0;
    kn_free(ct), kn_free(fmin);
    return KN_OK;
}

void kn__km_choose(kn__km_near *nb, size_t n, size_t trials, size_t t, size_t c, const double *part,
                   double *cpart)
{
    size_t chunks = kn__km_chunks(n);
    nb->pending = 1;
    nb->ptrials = trials;
    nb->pt = t;
    nb->pc = c;
    /* the trial's sum is the chunk's sum of the new closest */
    for (size_t ch = 0; ch < chunks; ch++) cpart[ch] = part[ch * trials + t];
}

void kn__km_flush(size_t n, kn__km_near *nb, double *closest, size_t *near)
{
    size_t chunks = kn__km_chunks(n);
#pragma omp parallel for schedule(static) if (n >= KM_PAR_ROWS)
    for (size_t ch = 0; ch < chunks; ch++) apply_chunk(nb, ch, closest, near);
    nb->pending = 0;
}

/* A row drawn with probability proportional to w (total sum; part[ch]:
 * chunk ch's share, so the walk skips whole chunks): closest, brought up
 * to date (nb's pending update) in the chunks walked. */
static size_t draw_weighted(kn_rng *r, const kn__km_near *nb, double *w, size_t *near, size_t n,
                            const double *part, double sum)
{
    double u = kn_rng_uniform(r) * sum, acc = 0;
    size_t chunks = kn__km_chunks(n);
    for (size_t ch = 0; ch < chunks; ch++) {
        if (acc + part[ch] <= u && ch + 1 < chunks) {
            acc += part[ch];
            continue;
        }
        size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
        apply_chunk(nb, ch, w, near);
        for (size_t i = lo; i < hi; i++) {
            acc += w[i];
            if (acc > u) return i;
        }
        for (size_t i = hi; i-- > lo;) /* rounding: the chunk's last row with weight */
            if (w[i] > 0) return i;
    }
    for (size_t ch = 0; ch < chunks; ch++) apply_chunk(nb, ch, w, near);
    for (size_t i = n; i-- > 0;)
        if (w[i] > 0) return i;
    return n - 1;
}

/* Row i of the data (x row-major, else the columns col) into out. */
static void get_row(const double *x, const double *const *col, size_t p, size_t i, double *out)
{
    if (x)
        memcpy(out, x + i * p, p * sizeof *out);
    else
        for (size_t j = 0; j < p; j++) out[j] = col[j][i];
}

kn_status kn__km_seed_pp(const double *x, const double *const *col, const float *xs, size_t n,
                         size_t p, size_t k, kn_rng *r, double *cen, double *closest, size_t *near)
{
    size_t trials = 2 + (size_t)log((double)k), chunks = kn__km_chunks(n);
    double *part = kn_malloc(chunks * (trials + 1) * sizeof *part), *cpart = part + chunks * trials;
    double *cand = kn_malloc((trials * p + 1) * sizeof *cand);
    double *far = kn_malloc(trials * k * sizeof *far);
    kn__km_near nb = {kn_malloc(chunks * sizeof *nb.m),
                      kn_malloc(chunks * sizeof *nb.all),
                      kn_malloc(n * sizeof *nb.idx),
                      kn_malloc(n * trials * sizeof *nb.dist),
                      0,
                      0,
                      0,
                      0};
    float *own = xs ? NULL : kn_malloc((n * p + 1) * sizeof *own);
    kn_status e = part && cand && far && nb.m && nb.all && nb.idx && nb.dist && (xs || own)
                      ? KN_OK
                      : KN_ERR_NOMEM;
    if (e != KN_OK) goto done;
    if (!xs) {
#pragma omp parallel for schedule(static) if (n >= KM_PAR_ROWS)
        for (size_t ch = 0; ch < chunks; ch++) {
            size_t lo = ch * KM_CHUNK * p,
                   hi = lo + KM_CHUNK * p < n * p ? lo + KM_CHUNK * p : n * p;
            for (size_t v = lo; v < hi; v++) own[v] = (float)x[v];
        }
        xs = own;
    }
    for (size_t v = 0; v < trials * k; v++) far[v] = INFINITY; /* centres still to come */
    size_t first = (size_t)kn_rng_below(r, n);
    get_row(x, col, p, first, cen);
#pragma omp parallel for schedule(static) if (n >= KM_PAR_ROWS)
    for (size_t i = 0; i < n; i++) closest[i] = INFINITY; /* first touch: in parallel */
    e = kn__km_trials(xs, n, p, cen, 1, closest, NULL, NULL, k, NULL, &nb, part);
    if (e != KN_OK) goto done;
    kn__km_choose(&nb, n, 1, 0, 0, part, cpart);
    double pot = 0;
    for (size_t ch = 0; ch < chunks; ch++) pot += cpart[ch];
    for (size_t c = 1; c < k; c++) {
        for (size_t t = 0; t < trials; t++) {
            size_t pick = pot > 0 ? draw_weighted(r, &nb, closest, near, n, cpart, pot)
                                  : (size_t)kn_rng_below(r, n);
            get_row(x, col, p, pick, cand + t * p);
            for (size_t a = 0; a < c; a++) /* exact: it decides which rows are left out */
                far[t * k + a] = kn__km_dist2(cand + t * p, p, 0, cen + a * p);
        }
        e = kn__km_trials(xs, n, p, cand, trials, closest, near, far, k, cpart, &nb, part);
        if (e != KN_OK) goto done;
        size_t best = 0;
        double best_pot = INFINITY;
        for (size_t t = 0; t < trials; t++) {
            double s = 0;
            for (size_t ch = 0; ch < chunks; ch++) s += part[ch * trials + t];
            if (s < best_pot) {
                best_pot = s;
                best = t;
            }
        }
        memcpy(cen + c * p, cand + best * p, p * sizeof *cen);
        kn__km_choose(&nb, n, trials, best, c, part, cpart);
        pot = 0;
        for (size_t ch = 0; ch < chunks; ch++) pot += cpart[ch];
    }
    kn__km_flush(n, &nb, closest, near); /* the last centre's distances */
done:
    kn_free(part), kn_free(cand), kn_free(far), kn_free(own);
    kn_free(nb.m), kn_free(nb.all), kn_free(nb.idx), kn_free(nb.dist);
    return e;
}
