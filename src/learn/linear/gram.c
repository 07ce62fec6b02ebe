/* The weighted moments of the features and the target in one pass over
 * the data: means, the centred Gram matrix Xc^T W Xc, Xc^T W yc and
 * yc^T W yc (ridge's normal equations, the lasso's precomputed Gram).
 *
 * Each block of rows is copied next to its target (q = p + 1 columns),
 * centred by its own weighted means while it is in cache, scaled by
 * sqrt(weight) and multiplied out by BLAS dsyrk. Blocks are merged in row
 * order by the pairwise update of Chan, Golub and LeVeque,
 *     M = Ma + Mb + (Wa Wb / W) (mb - ma)(mb - ma)^T,
 * so centring costs no separate pass for the means and loses no digits
 * to cancellation when means are large. Blocks are grouped in chunks whose
 * boundaries depend only on n and p; the chunks run in parallel and are
 * merged in order, so the result does not depend on the thread count. */
#include "kiln/mem.h"
#include "core/ctx-impl.h"
#include "learn/learn-impl.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define BLOCK_BYTES (1u << 20) /* a block of rows, all q columns: stays in L2 */
#define BLOCK_MAX 8192
#define BLOCK_MIN 256
#define CHUNKS 32               /* chunks to balance over threads */
#define PARTS_BYTES (64u << 20) /* what the chunk results may take together */

/* A block's or chunk's moments, laid out as [w, mean (q), M (q x q, upper)]. */
static size_t moments_width(size_t q)
{
    return 1 + q + q * q;
}

/* acc += part (both moments of consecutive rows; part after acc). */
static void merge_moments(double *acc, const double *part, size_t q)
{
    double wa = acc[0], wb = part[0], w = wa + wb;
    if (!(wb > 0)) return;
    double *ma = acc + 1, *Ma = acc + 1 + q;
    const double *mb = part + 1, *Mb = part + 1 + q;
    double f = wa * wb / w, g = wb / w;
    for (size_t c = 0; c < q; c++) {
        double dc = f * (mb[c] - ma[c]);
        for (size_t r = 0; r <= c; r++) Ma[c * q + r] += Mb[c * q + r] + dc * (mb[r] - ma[r]);
    }
    for (size_t j = 0; j < q; j++) ma[j] += g * (mb[j] - ma[j]);
    acc[0] = w;
}

/* Two doubles in one SSE2 register (GCC/Clang vector extension): -O2's
 * vectoriser leaves these loops scalar. */
typedef double f64x2 __attribute__((vector_size(16)));

static inline f64x2 load2(const double *v)
{
    f64x2 r;
    memcpy(&r, v, sizeof r);
    return r;
}

static inline void store2(double *v, f64x2 r)
{
    memcpy(v, &r, sizeof r);
}

/* sum w_i z_i (w NULL: sum z_i), in four running pairs. */
static double column_sum(const double *restrict z, const double *restrict w, size_t m)
{
    f64x2 s0 = {0, 0}, s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    if (w)
        for (; i + 8 <= m; i += 8) {
            s0 += load2(w + i) * load2(z + i);
            s1 += load2(w + i + 2) * load2(z + i + 2);
            s2 += load2(w + i + 4) * load2(z + i + 4);
            s3 += load2(w + i + 6) * load2(z + i + 6);
        }
    else
        for (; i + 8 <= m; i += 8) {
            s0 += load2(z + i);
            s1 += load2(z + i + 2);
            s2 += load2(z + i + 4);
            s3 += load2(z + i + 6);
        }
    f64x2 s = (s0 + s1) + (s2 + s3);
    double sum = s[0] + s[1];
    for (; i < m; i++) sum += (w ? w[i] : 1) * z[i];
    return sum;
}

/* a_i = sq_i (z_i - mu) (sq NULL: z_i - mu). */
static void centre_column(const double *restrict z, const double *restrict sq, double mu, size_t m,
                          double *restrict a)
{
    f64x2 vmu = {mu, mu};
    size_t i = 0;
    if (sq)
        for (; i + 2 <= m; i += 2) store2(a + i, load2(sq + i) * (load2(z + i) - vmu));
    else
        for (; i + 2 <= m; i += 2) store2(a + i, load2(z + i) - vmu);
    for (; i < m; i++) a[i] = (sq ? sq[i] : 1) * (z[i] - mu);
}

/* The moments of rows [r0, r0 + m) into part, through scratch a (m x q)
 * and sq (m). */
static void block_moments(const kn_dataset *d, int centre, size_t r0, size_t m, double *a,
                          double *sq, double *part)
{
    size_t p = d->p, q = p + 1;
    const double *w = d->w ? d->w + r0 : NULL;
    double total = 0, *mean = part + 1, *M = part + 1 + q;
    if (w)
        for (size_t i = 0; i < m; i++) {
            sq[i] = sqrt(w[i]);
            total += w[i];
        }
    else
        total = (double)m;
    memset(part, 0, moments_width(q) * sizeof *part);
    if (!(total > 0)) return; /* rows of weight zero add nothing */
    part[0] = total;
    for (size_t j = 0; j < q; j++) {
        const double *z = (j < p ? kn_dataset_column(d, j) : d->y) + r0;
        double mu = centre ? column_sum(z, w, m) / total : 0;
        mean[j] = mu;
        centre_column(z, w ? sq : NULL, mu, m, a + j * m);
    }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)m, 1.0, a, (int)m, 0.0, M,
                (int)q);
}

kn_status kn__centred_gram(const kn_dataset *d, int centre, double *xm, double *ym, double *G,
                           double *xy, double *yy, double *sw)
{
    size_t n = d->n, p = d->p, q = p + 1, width = moments_width(q);
    size_t rows = BLOCK_BYTES / (q * sizeof(double));
    rows = rows > BLOCK_MAX ? BLOCK_MAX : rows < BLOCK_MIN ? BLOCK_MIN : rows;
    size_t blocks = n ? (n + rows - 1) / rows : 1;
    size_t chunks = blocks < CHUNKS ? blocks : CHUNKS;
    size_t most = PARTS_BYTES / (width * sizeof(double));
    if (chunks > most) chunks = most ? most : 1;
    size_t per_chunk = (blocks + chunks - 1) / chunks;
    chunks = (blocks + per_chunk - 1) / per_chunk;
    double *parts = kn_calloc(chunks * width, sizeof *parts);
    if (!parts) return KN_ERR_NOMEM;
    int failed = 0;
    kn_ctx *run = kn_ctx_current(); /* workers' scratch is the caller's */
#pragma omp parallel if (chunks > 1)
    {
        double *a = kn__malloc_in(run, (rows * q + rows) * sizeof *a);
        double *block = kn__malloc_in(run, width * sizeof *block);
        if (!a || !block) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (size_t c = 0; c < chunks; c++)
            for (size_t b = c * per_chunk; a && block && b < (c + 1) * per_chunk && b < blocks;
                 b++) {
                size_t r0 = b * rows, m = n - r0 < rows ? n - r0 : rows;
                block_moments(d, centre, r0, m, a, a + rows * q, block);
                merge_moments(parts + c * width, block, q);
            }
        kn_free(a);
        kn_free(block);
    }
    for (size_t c = 1; !failed && c < chunks; c++) merge_moments(parts, parts + c * width, q);
    if (!failed) {
        const double *mean = parts + 1, *M = parts + 1 + q;
        for (size_t c = 0; c < p; c++) {
            for (size_t r = 0; r <= c; r++) G[c * p + r] = G[r * p + c] = M[c * q + r];
            xy[c] = M[p * q + c];
            xm[c] = mean[c];
        }
        *ym = mean[p];
        if (yy) *yy = M[p * q + p];
        if (sw) *sw = parts[0];
    }
    kn_free(parts);
    return failed ? KN_ERR_NOMEM : KN_OK;
}
