/* The heavy loops of k-means over blocks of rows. Distances from many rows
 * to many points (centres, k-means++ candidates) go through one dgemm per
 * block: ||x||^2 - 2 x.c + ||c||^2, the row norms computed once per fit,
 * clamped at 0. A row's exact squared distance to its own centre (inertia,
 * Hamerly's upper bound) is summed directly, feature by feature. Chunks of
 * KM_CHUNK rows go to threads (OpenMP, when the rows are many and no outer
 * region is running); a chunk is always cut the same way and each dgemm
 * call covers the same rows whatever the thread count (the BLAS splits no
 * sum over features), and sums over rows are kept per chunk and added in
 * chunk order, so any thread count gives the same numbers. The BLAS picks
 * its kernel for the processor, so another machine may round differently. */
#include "kiln/mem.h"
#include "learn/unsup/kmeans-impl.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define KM_BLOCK 128      /* rows per dgemm in the assignment */
#define KM_PAR_ROWS 32768 /* fewer rows: one thread */

size_t kn__km_chunks(size_t n)
{
    return n ? (n + KM_CHUNK - 1) / KM_CHUNK : 1;
}

/* Squared distance of row r to c. */
static double row_dist(const double *x, size_t p, size_t r, const double *c)
{
    const double *xr = x + r * p;
    double d = 0;
    for (size_t j = 0; j < p; j++) {
        double t = xr[j] - c[j];
        d += t * t;
    }
    return d;
}

void kn__km_norms(const double *x, size_t n, size_t p, double *xn)
{
#pragma omp parallel for schedule(static) if (n >= KM_PAR_ROWS)
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < p; j++) s += x[i * p + j] * x[i * p + j];
        xn[i] = s;
    }
}

void kn__km_gemm_dist(const double *x, size_t p, const double *xn, size_t i0, size_t len,
                      const double *c, const double *cn, size_t m, double *d, size_t ld)
{
    if (p == 0) {
        for (size_t t = 0; t < m; t++) memset(d + t * ld, 0, len * sizeof *d);
        return;
    }
    /* D (len x m, column-major) = -2 X_rows C^T: the rows (row-major) are
     * X_rows^T column-major, and c (m x p, row-major) is C^T column-major */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)len, (int)m, (int)p, -2.0, x + i0 * p,
                (int)p, c, (int)p, 0.0, d, (int)ld);
    for (size_t t = 0; t < m; t++) {
        double *dt = d + t * ld, ct = cn[t];
        const double *xr = xn + i0;
        for (size_t i = 0; i < len; i++) {
            double v = xr[i] + dt[i] + ct;
            dt[i] = v > 0 ? v : 0;
        }
    }
}

void kn__km_point_norms(const double *c, size_t m, size_t p, double *cn)
{
    for (size_t t = 0; t < m; t++) {
        double s = 0;
        for (size_t j = 0; j < p; j++) s += c[t * p + j] * c[t * p + j];
        cn[t] = s;
    }
}

kn_status kn__km_assign(const double *x, size_t n, size_t p, const double *xn, const double *cen,
                        size_t k, size_t *label, double *dist)
{
    size_t chunks = kn__km_chunks(n);
    double *cn = kn_malloc(k * sizeof *cn);
    if (!cn) return KN_ERR_NOMEM;
    kn__km_point_norms(cen, k, p, cn);
    int nomem = 0;
#pragma omp parallel if (n >= KM_PAR_ROWS)
    {
        double *d = kn_malloc(KM_BLOCK * k * sizeof *d);
        if (!d) {
#pragma omp atomic write
            nomem = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t ch = 0; ch < chunks; ch++) {
            size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
            for (size_t i0 = lo; d && i0 < hi; i0 += KM_BLOCK) {
                size_t len = hi - i0 < KM_BLOCK ? hi - i0 : KM_BLOCK;
                kn__km_gemm_dist(x, p, xn, i0, len, cen, cn, k, d, KM_BLOCK);
                for (size_t i = 0; i < len; i++) {
                    size_t lab = 0;
                    double best = d[i];
                    for (size_t c = 1; c < k; c++)
                        if (d[c * KM_BLOCK + i] < best) best = d[c * KM_BLOCK + i], lab = c;
                    label[i0 + i] = lab;
                    dist[i0 + i] = row_dist(x, p, i0 + i, cen + lab * p);
                }
            }
        }
        kn_free(d);
    }
    kn_free(cn);
    return nomem ? KN_ERR_NOMEM : KN_OK;
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
        for (size_t i = lo; i < hi; i++) {
            double *sl = s + label[i] * p;
            const double *xi = x + i * p;
            cnt[label[i]]++;
            for (size_t j = 0; j < p; j++) sl[j] += xi[j];
        }
    }
}

/* Row i's nearest and second-nearest centre, from scratch. */
static void row_nearest2(const double *x, size_t p, size_t i, const double *cen, size_t k,
                         size_t *lab, double *b1, double *b2)
{
    const double *row = x + i * p;
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

/* Row r (of the chunk whose sums and counts are s, cnt) moves from
 * cluster `from` to `to`. */
static void move_row(const double *x, size_t p, size_t r, size_t from, size_t to, double *s,
                     size_t *cnt)
{
    for (size_t j = 0; j < p; j++) {
        s[from * p + j] -= x[r * p + j];
        s[to * p + j] += x[r * p + j];
    }
    cnt[from]--;
    cnt[to]++;
}

kn_status kn__km_assign_bounded(const double *x, size_t n, size_t p, const double *xn,
                                const double *cen, size_t k, size_t *label, double *ub, double *lb,
                                const double *half, int full, int *changed, double *sum,
                                size_t *count)
{
    size_t chunks = kn__km_chunks(n);
    double *cn = kn_malloc(k * sizeof *cn);
    if (!cn) return KN_ERR_NOMEM;
    kn__km_point_norms(cen, k, p, cn);
    int any = 0, nomem = 0;
#pragma omp parallel if (n >= KM_PAR_ROWS)
    {
        double *d = kn_malloc(KM_BLOCK * k * sizeof *d);
        size_t pending[KM_BLOCK];
        if (!d) {
#pragma omp atomic write
            nomem = 1;
        }
#pragma omp for schedule(dynamic, 1) reduction(| : any)
        for (size_t ch = 0; ch < chunks; ch++) {
            size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < n ? lo + KM_CHUNK : n;
            double *s = sum && !full ? sum + ch * k * p : NULL;
            size_t *cnt = s ? count + ch * k : NULL;
            for (size_t i0 = lo; d && i0 < hi; i0 += KM_BLOCK) {
                size_t len = hi - i0 < KM_BLOCK ? hi - i0 : KM_BLOCK, m = 0;
                if (full)
                    for (size_t i = 0; i < len; i++) pending[m++] = i;
                else
                    for (size_t i = 0; i < len; i++) {
                        size_t r = i0 + i, a = label[r];
                        /* a margin far above rounding: a row near a tie is recomputed */
                        double bound = (lb[r] > half[a] ? lb[r] : half[a]) * (1 - 1e-9);
                        if (ub[r] <= bound) continue;
                        ub[r] = sqrt(row_dist(x, p, r, cen + a * p));
                        if (ub[r] > bound) pending[m++] = i;
                    }
                if (m == 0) continue;
                if (m * 4 >= len) { /* many: the whole block by one dgemm */
                    kn__km_gemm_dist(x, p, xn, i0, len, cen, cn, k, d, KM_BLOCK);
                    for (size_t q = 0; q < m; q++) {
                        size_t i = pending[q], r = i0 + i, l = 0;
                        double b1 = d[i], b2 = INFINITY;
                        for (size_t c = 1; c < k; c++) {
                            double v = d[c * KM_BLOCK + i];
                            if (v < b1) {
                                b2 = b1;
                                b1 = v;
                                l = c;
                            } else if (v < b2)
                                b2 = v;
                        }
                        if (label[r] != l) {
                            any = 1;
                            if (s) move_row(x, p, r, label[r], l, s, cnt);
                            label[r] = l;
                        }
                        ub[r] = sqrt(row_dist(x, p, r, cen + l * p));
                        lb[r] = sqrt(b2);
                    }
                } else
                    for (size_t q = 0; q < m; q++) {
                        size_t r = i0 + pending[q], l;
                        double e1, e2;
                        row_nearest2(x, p, r, cen, k, &l, &e1, &e2);
                        if (label[r] != l) {
                            any = 1;
                            if (s) move_row(x, p, r, label[r], l, s, cnt);
                            label[r] = l;
                        }
                        ub[r] = sqrt(e1);
                        lb[r] = sqrt(e2);
                    }
            }
        }
        kn_free(d);
    }
    kn_free(cn);
    *changed = any;
    return nomem ? KN_ERR_NOMEM : KN_OK;
}
