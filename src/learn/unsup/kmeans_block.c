/* The heavy loops of k-means over blocks of rows: distances from many rows
 * to one centre at a time, feature by feature down the column-major copy,
 * so the inner loop runs over contiguous rows and vectorises. A row's
 * squared distance sums its features in the same order as kn__km_dist2,
 * so the results are the same bits. Chunks of KM_CHUNK rows go to threads
 * (OpenMP, when the rows are many and no outer region is running); sums
 * over rows are kept per chunk and added in chunk order, so any thread
 * count gives the same numbers. */
#include "learn/unsup/kmeans-impl.h"

#include <math.h>
#include <string.h>

/* The distance kernels are built twice, for AVX2 and for the baseline,
 * the better one picked at load (GCC and Clang on glibc). AVX2 brings no
 * fused multiply-add (a separate target), so both give the same bits. */
/* (not under ThreadSanitizer: its runtime is not up when the ifunc
 * resolver runs at load, and the process crashes) */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(KILN_SANITIZE) &&   \
    !defined(__SANITIZE_THREAD__)
#define KM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KM_CLONES
#endif

#define KM_BLOCK 128      /* rows whose distances are kept at once (their features fit L1) */
#define KM_PAR_ROWS 32768 /* fewer rows: one thread */

size_t kn__km_chunks(size_t n)
{
    return n ? (n + KM_CHUNK - 1) / KM_CHUNK : 1;
}

/* d[0 .. len) = squared distances of rows i0 .. i0 + len to centre c. */
KM_CLONES static void block_dist(const double *restrict x, size_t n, size_t p, size_t i0,
                                 size_t len, const double *restrict c, double *restrict d)
{
    for (size_t i = 0; i < len; i++) d[i] = 0;
    for (size_t j = 0; j < p; j++) {
        const double *restrict xj = x + j * n + i0;
        double cj = c[j];
#pragma omp simd
        for (size_t i = 0; i < len; i++) {
            double t = xj[i] - cj;
            d[i] += t * t;
        }
    }
}

/* The same for 4 centres c (4 x p) at once, each row's features read once:
 * d[t * KM_BLOCK + i] for centre t. */
KM_CLONES static void block_dist4(const double *restrict x, size_t n, size_t p, size_t i0,
                                  size_t len, const double *restrict c, double *restrict d)
{
    double *restrict d0 = d, *restrict d1 = d + KM_BLOCK, *restrict d2 = d + 2 * KM_BLOCK,
                     *restrict d3 = d + 3 * KM_BLOCK;
    for (size_t i = 0; i < len; i++) d0[i] = d1[i] = d2[i] = d3[i] = 0;
    for (size_t j = 0; j < p; j++) {
        const double *restrict xj = x + j * n + i0;
        double c0 = c[j], c1 = c[p + j], c2 = c[2 * p + j], c3 = c[3 * p + j];
#pragma omp simd
        for (size_t i = 0; i < len; i++) {
            double v = xj[i], t0 = v - c0, t1 = v - c1, t2 = v - c2, t3 = v - c3;
            d0[i] += t0 * t0;
            d1[i] += t1 * t1;
            d2[i] += t2 * t2;
            d3[i] += t3 * t3;
        }
    }
}

void kn__km_assign(const double *x, size_t n, size_t p, const double *cen, size_t k, size_t *label,
                   double *dist, int *changed, double *sum, size_t *count)
{
    size_t chunks = kn__km_chunks(n);
    int any = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : any) if (n >= KM_PAR_ROWS)
    for (size_t ch = 0; ch < chunks; ch++) {
        size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
        double d[4 * KM_BLOCK], best[KM_BLOCK];
        size_t lab[KM_BLOCK];
        double *s = sum ? sum + ch * k * p : NULL;
        size_t *cnt = count ? count + ch * k : NULL;
        if (s) memset(s, 0, k * p * sizeof *s);
        if (cnt) memset(cnt, 0, k * sizeof *cnt);
        for (size_t i0 = lo; i0 < hi; i0 += KM_BLOCK) {
            size_t len = hi - i0 < KM_BLOCK ? hi - i0 : KM_BLOCK;
            for (size_t i = 0; i < len; i++) {
                best[i] = INFINITY;
                lab[i] = 0;
            }
            size_t c = 0;
            for (; c + 4 <= k; c += 4) {
                block_dist4(x, n, p, i0, len, cen + c * p, d);
                for (size_t t = 0; t < 4; t++)
                    for (size_t i = 0; i < len; i++)
                        if (d[t * KM_BLOCK + i] < best[i]) {
                            best[i] = d[t * KM_BLOCK + i];
                            lab[i] = c + t;
                        }
            }
            for (; c < k; c++) {
                block_dist(x, n, p, i0, len, cen + c * p, d);
                for (size_t i = 0; i < len; i++)
                    if (d[i] < best[i]) {
                        best[i] = d[i];
                        lab[i] = c;
                    }
            }
            for (size_t i = 0; i < len; i++) {
                if (changed) any |= label[i0 + i] != lab[i];
                label[i0 + i] = lab[i];
                dist[i0 + i] = best[i];
                if (cnt) cnt[lab[i]]++;
            }
            if (s)
                for (size_t j = 0; j < p; j++) {
                    const double *xj = x + j * n + i0;
                    for (size_t i = 0; i < len; i++) s[lab[i] * p + j] += xj[i];
                }
        }
    }
    if (changed) *changed = any;
}

/* Squared distance of row r to c, read down the columns. */
static double row_dist(const double *x, size_t n, size_t p, size_t r, const double *c)
{
    double d = 0;
    for (size_t j = 0; j < p; j++) {
        double t = x[j * n + r] - c[j];
        d += t * t;
    }
    return d;
}

/* Rows i0 .. i0 + len whose squared distance to a point at squared
 * distance far[] from their nearest centre may be below closest: by the
 * triangle inequality it is not when far >= 4 closest (a margin of 1e-8 so
 * rounding never decides). Their offsets into pending; returns how many. */
static size_t may_be_closer(const double *closest, const size_t *near, const double *far, size_t i0,
                            size_t len, size_t *pending)
{
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (far[near[i0 + i]] < 4 * closest[i0 + i] * (1 + 1e-8)) pending[m++] = i;
    }
    return m;
}

void kn__km_trials(const double *x, size_t n, size_t p, const double *cand, size_t trials,
                   const double *closest, const size_t *near, const double *far, size_t k,
                   double *part)
{
    size_t chunks = kn__km_chunks(n);
#pragma omp parallel for schedule(dynamic, 1) if (n >= KM_PAR_ROWS)
    for (size_t ch = 0; ch < chunks; ch++) {
        size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
        double d[KM_BLOCK];
        size_t pending[KM_BLOCK];
        for (size_t t = 0; t < trials; t++) part[ch * trials + t] = 0;
        for (size_t i0 = lo; i0 < hi; i0 += KM_BLOCK) {
            size_t len = hi - i0 < KM_BLOCK ? hi - i0 : KM_BLOCK;
            const double *cl = closest + i0;
            for (size_t t = 0; t < trials; t++) {
                const double *c = cand + t * p;
                size_t m = may_be_closer(closest, near, far + t * k, i0, len, pending);
                if (m * 2 >= len) /* many: the whole block, vectorised */
                    block_dist(x, n, p, i0, len, c, d);
                else {
                    for (size_t i = 0; i < len; i++) d[i] = INFINITY; /* not closer */
                    for (size_t q = 0; q < m; q++)
                        d[pending[q]] = row_dist(x, n, p, i0 + pending[q], c);
                }
                double s = part[ch * trials + t];
                for (size_t i = 0; i < len; i++) s += d[i] < cl[i] ? d[i] : cl[i];
                part[ch * trials + t] = s;
            }
        }
    }
}

void kn__km_closest(const double *x, size_t n, size_t p, const double *c, size_t idx,
                    double *closest, size_t *near, const double *far, double *part)
{
    size_t chunks = kn__km_chunks(n);
#pragma omp parallel for schedule(dynamic, 1) if (n >= KM_PAR_ROWS)
    for (size_t ch = 0; ch < chunks; ch++) {
        size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
        double d[KM_BLOCK], s = 0;
        size_t pending[KM_BLOCK];
        for (size_t i0 = lo; i0 < hi; i0 += KM_BLOCK) {
            size_t len = hi - i0 < KM_BLOCK ? hi - i0 : KM_BLOCK;
            size_t m = far ? may_be_closer(closest, near, far, i0, len, pending) : len;
            if (m * 2 >= len)
                block_dist(x, n, p, i0, len, c, d);
            else {
                for (size_t i = 0; i < len; i++) d[i] = INFINITY;
                for (size_t q = 0; q < m; q++)
                    d[pending[q]] = row_dist(x, n, p, i0 + pending[q], c);
            }
            for (size_t i = 0; i < len; i++) {
                double *cl = &closest[i0 + i];
                if (!far || d[i] < *cl) {
                    *cl = d[i];
                    near[i0 + i] = idx;
                }
                s += *cl;
            }
        }
        part[ch] = s;
    }
}

/* ---- Lloyd with Hamerly's bounds ---- */

void kn__km_sums(const double *x, size_t n, size_t p, size_t k, const size_t *label, double *sum,
                 size_t *count)
{
    size_t chunks = kn__km_chunks(n);
#pragma omp parallel for schedule(dynamic, 1) if (n >= KM_PAR_ROWS)
    for (size_t ch = 0; ch < chunks; ch++) {
        size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
        double *s = sum + ch * k * p;
        size_t *cnt = count + ch * k;
        memset(s, 0, k * p * sizeof *s);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = lo; i < hi; i++) cnt[label[i]]++;
        for (size_t j = 0; j < p; j++) {
            const double *xj = x + j * n;
            for (size_t i = lo; i < hi; i++) s[label[i] * p + j] += xj[i];
        }
    }
}

/* Row i's nearest and second-nearest centre, from scratch. */
static void row_nearest2(const double *x, size_t n, size_t p, size_t i, const double *cen, size_t k,
                         double *row, size_t *lab, double *b1, double *b2)
{
    for (size_t j = 0; j < p; j++) row[j] = x[j * n + i];
    double d1 = INFINITY, d2 = INFINITY;
    size_t l = 0;
    for (size_t c = 0; c < k; c++) {
        const double *cc = cen + c * p;
        double d = 0;
        for (size_t j = 0; j < p; j++) {
            double t = row[j] - cc[j];
            d += t * t;
        }
        if (d < d1) {
            d2 = d1;
            d1 = d;
            l = c;
        } else if (d < d2)
            d2 = d;
    }
    *lab = l;
    *b1 = d1;
    *b2 = d2;
}

void kn__km_assign_bounded(const double *x, size_t n, size_t p, const double *cen, size_t k,
                           size_t *label, double *ub, double *lb, const double *half, int full,
                           int *changed)
{
    size_t chunks = kn__km_chunks(n);
    int any = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : any) if (n >= KM_PAR_ROWS)
    for (size_t ch = 0; ch < chunks; ch++) {
        size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
        double d[4 * KM_BLOCK], b1[KM_BLOCK], b2[KM_BLOCK], row[KM_MAX_ROW];
        size_t lab[KM_BLOCK], pending[KM_BLOCK];
        for (size_t i0 = lo; i0 < hi; i0 += KM_BLOCK) {
            size_t len = hi - i0 < KM_BLOCK ? hi - i0 : KM_BLOCK, m = 0;
            if (full)
                m = len;
            else
                for (size_t i = 0; i < len; i++) {
                    size_t r = i0 + i, a = label[r];
                    /* a margin far above rounding: a row near a tie is recomputed */
                    double bound = (lb[r] > half[a] ? lb[r] : half[a]) * (1 - 1e-9);
                    if (ub[r] <= bound) continue;
                    double t = 0;
                    for (size_t j = 0; j < p; j++) {
                        double v = x[j * n + r] - cen[a * p + j];
                        t += v * v;
                    }
                    ub[r] = sqrt(t);
                    if (ub[r] > bound) pending[m++] = i;
                }
            if (m == 0) continue;
            if (m * 4 >= len || p > KM_MAX_ROW) { /* many: the whole block at once */
                for (size_t i = 0; i < len; i++) b1[i] = b2[i] = INFINITY, lab[i] = 0;
                size_t c = 0;
                for (; c + 4 <= k; c += 4) {
                    block_dist4(x, n, p, i0, len, cen + c * p, d);
                    for (size_t t = 0; t < 4; t++)
                        for (size_t i = 0; i < len; i++) {
                            double v = d[t * KM_BLOCK + i];
                            if (v < b1[i]) {
                                b2[i] = b1[i];
                                b1[i] = v;
                                lab[i] = c + t;
                            } else if (v < b2[i])
                                b2[i] = v;
                        }
                }
                for (; c < k; c++) {
                    block_dist(x, n, p, i0, len, cen + c * p, d);
                    for (size_t i = 0; i < len; i++)
                        if (d[i] < b1[i]) {
                            b2[i] = b1[i];
                            b1[i] = d[i];
                            lab[i] = c;
                        } else if (d[i] < b2[i])
                            b2[i] = d[i];
                }
                if (full || m == len)
                    for (size_t i = 0; i < len; i++) pending[i] = i;
                m = full ? len : m;
                for (size_t q = 0; q < m; q++) {
                    size_t i = pending[q], r = i0 + i;
                    any |= label[r] != lab[i];
                    label[r] = lab[i];
                    ub[r] = sqrt(b1[i]);
                    lb[r] = sqrt(b2[i]);
                }
            } else
                for (size_t q = 0; q < m; q++) {
                    size_t r = i0 + pending[q], l;
                    double e1, e2;
                    row_nearest2(x, n, p, r, cen, k, row, &l, &e1, &e2);
                    any |= label[r] != l;
                    label[r] = l;
                    ub[r] = sqrt(e1);
                    lb[r] = sqrt(e2);
                }
        }
    }
    *changed = any;
}
