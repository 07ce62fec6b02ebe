/* Quantile binning for the histogram tree learners (bins.h). */
#include "learn/tree/bins.h"

#include "kiln/mem.h"
#include "core/ctx-impl.h"
#include "kiln/rng.h"
#include "learn/tree/radix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sorts v[0, m) (no NaN) through radix.h; tmp holds 2 m keys. */
static void radix_sort(double *v, size_t m, uint64_t *tmp)
{
    for (size_t i = 0; i < m; i++) tmp[i] = kn__sortable(v[i]);
    const uint64_t *sorted = kn__radix_sort(tmp, NULL, m, tmp + m, NULL) ? tmp + m : tmp;
    for (size_t i = 0; i < m; i++) v[i] = kn__unsortable(sorted[i]);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Edges from m sorted values: midpoints between distinct values when there
 * are at most max_bins of them, else midpoint-interpolated quantiles; the
 * last edge is +inf. Returns the number of edges (>= 1). */
static size_t edges_of(const double *v, size_t m, size_t max_bins, double *edges)
{
    size_t distinct = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || v[i] != v[i - 1]) distinct++;
    size_t k = 0;
    if (distinct <= max_bins) {
        for (size_t i = 1; i < m; i++)
            if (v[i] != v[i - 1]) edges[k++] = v[i - 1] + (v[i] - v[i - 1]) / 2;
    } else
        for (size_t q = 1; q < max_bins; q++) {
            double pos = (double)q / (double)max_bins * (double)(m - 1);
            size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
            double e = v[lo] + (v[hi] - v[lo]) / 2;
            if (k == 0 || e > edges[k - 1]) edges[k++] = e;
        }
    edges[k++] = INFINITY;
    return k;
}

kn_status kn__bins_fit(kn__bins *b, const kn_dataset *d, size_t max_bins, size_t sample_rows,
                       uint64_t seed)
{
    memset(b, 0, sizeof *b);
    if (max_bins < 2 || max_bins > KN__MAX_BINS)
        return kn_fail(KN_ERR_INVALID, "max_bins must be within 2..%d", KN__MAX_BINS);
    size_t n = d->n, p = d->p, m = n < sample_rows ? n : sample_rows;
    size_t *rows = NULL;
    if (m < n) { /* a partial Fisher-Yates shuffle, then in row order */
        rows = kn_malloc(n * sizeof *rows);
        if (!rows) return KN_ERR_NOMEM;
        kn_rng rng;
        kn_rng_init(&rng, seed);
        for (size_t i = 0; i < n; i++) rows[i] = i;
        for (size_t i = 0; i < m; i++) {
            size_t j = i + (size_t)kn_rng_below(&rng, n - i), t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
        }
        qsort(rows, m, sizeof *rows, cmp_size);
    }
    for (size_t j = 0; d->n_levels && j < p; j++)
        if (d->n_levels[j] > KN__MAX_BINS) {
            kn_free(rows);
            return kn_fail(KN_ERR_INVALID,
                           "categorical feature '%s' has %zu levels; trees split at most %d "
                           "(encode it first, e.g. the step target_encoder)",
                           d->names[j], d->n_levels[j], KN__MAX_BINS);
        }
    b->p = p;
    b->n_bins = kn_calloc(p ? p : 1, sizeof *b->n_bins);
    b->edges = kn_malloc((p ? p : 1) * KN__EDGE_STRIDE * sizeof *b->edges);
    kn_status e = b->n_bins && b->edges ? KN_OK : KN_ERR_NOMEM;
    kn_ctx *run = kn_ctx_current(); /* workers' scratch is the caller's */
#pragma omp parallel if (p > 1 && m > 10000)
    {
        double *v = e == KN_OK ? kn__malloc_in(run, (m ? m : 1) * sizeof *v) : NULL;
        uint64_t *keys = v ? kn__malloc_in(run, (m ? 2 * m : 1) * sizeof *keys) : NULL;
        if (!keys) {
            kn_free(v);
            v = NULL;
        }
#pragma omp for schedule(dynamic)
        for (size_t j = 0; j < p; j++) {
            if (!v) continue;
            double *ej = b->edges + j * KN__EDGE_STRIDE;
            if (d->n_levels && d->n_levels[j]) { /* a bin per level: index l in bin l */
                size_t L = d->n_levels[j];
                for (size_t t = 0; t < KN__EDGE_STRIDE; t++)
                    ej[t] = t + 1 < L ? (double)t + 0.5 : INFINITY;
                b->n_bins[j] = (uint16_t)L;
                continue;
            }
            const double *x = kn_dataset_column(d, j);
            size_t k = 0;
            for (size_t i = 0; i < m; i++) {
                double t = x[rows ? rows[i] : i];
                if (!isnan(t)) v[k++] = t;
            }
            radix_sort(v, k, keys);
            b->n_bins[j] = (uint16_t)edges_of(v, k, max_bins, ej);
            for (size_t t = b->n_bins[j]; t < KN__EDGE_STRIDE; t++) ej[t] = INFINITY;
        }
        if (e == KN_OK && !v) {
#pragma omp atomic write
            e = KN_ERR_NOMEM;
        }
        kn_free(v);
        kn_free(keys);
    }
    kn_free(rows);
    if (e != KN_OK) kn__bins_free(b);
    return e;
}

void kn__bins_free(kn__bins *b)
{
    kn_free(b->n_bins);
    kn_free(b->edges);
    memset(b, 0, sizeof *b);
}

/* The first edge >= v, branch-free over the 256 padded edges. */
uint8_t kn__bin_of(const kn__bins *b, size_t j, double v)
{
    if (isnan(v)) return KN__BIN_MISSING;
    const double *e = b->edges + j * KN__EDGE_STRIDE;
    size_t lo = 0;
    for (size_t step = KN__EDGE_STRIDE / 2; step; step >>= 1) lo += e[lo + step - 1] < v ? step : 0;
    return (uint8_t)lo;
}

kn_status kn__bins_apply(const kn__bins *b, const kn_dataset *d, uint8_t **out)
{
    size_t n = d->n, p = d->p;
    uint8_t *c = kn_malloc(n * p > 0 ? n * p : 1);
    if (!c) return KN_ERR_NOMEM;
        /* blocks of rows in parallel; within a block column by column, so each
         * column's slice is read in order */
#pragma omp parallel for schedule(static) if (n * p > 100000)
    for (size_t i0 = 0; i0 < n; i0 += 4096) {
        size_t i1 = i0 + 4096 < n ? i0 + 4096 : n;
        for (size_t j = 0; j < p; j++) {
            const double *x = kn_dataset_column(d, j);
            for (size_t i = i0; i < i1; i++) c[i * p + j] = kn__bin_of(b, j, x[i]);
        }
    }
    *out = c;
    return KN_OK;
}
