/* The silhouette score (Rousseeuw, 1987), as scikit-learn's
 * silhouette_score with the Euclidean metric: for each row, a = its mean
 * distance to the other rows of its cluster, b = the least mean distance
 * to the rows of another cluster, s = (b - a) / max(a, b), 0 for a row
 * alone in its cluster; the score is the mean of s. Exact: every pair's
 * distance is computed, so the cost grows with rows squared. Rows are
 * spread over threads (OpenMP), each row's s kept apart and summed in
 * order, so any thread count gives the same bits. */
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

kn_status kn_metric_silhouette(const double *x, size_t n, size_t p, const int32_t *label, size_t k,
                               double *out)
{
    size_t *size = kn_calloc(k ? k : 1, sizeof *size);
    double *s = kn_malloc((n ? n : 1) * sizeof *s);
    if (!size || !s) {
        kn_free(size), kn_free(s);
        return KN_ERR_NOMEM;
    }
    kn_status e = KN_OK;
    size_t used = 0;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        if (label[i] < 0 || (size_t)label[i] >= k)
            e = kn_fail(KN_ERR_INVALID, "silhouette: row %zu has cluster %d, outside 0..%zu", i + 1,
                        (int)label[i], k ? k - 1 : 0);
        else
            used += size[label[i]]++ == 0;
    }
    if (e == KN_OK && (used < 2 || used >= n))
        e = kn_fail(KN_ERR_INVALID,
                    "silhouette: needs from 2 to rows - 1 clusters; %zu rows are in %zu", n, used);
    int nomem = 0;
    if (e == KN_OK) {
#pragma omp parallel
        {
            double *sum = kn_malloc(k * sizeof *sum);
            if (!sum) {
#pragma omp atomic write
                nomem = 1;
            }
#pragma omp for schedule(dynamic, 16)
            for (size_t i = 0; i < n; i++) {
                s[i] = 0;
                if (!sum) continue;
                memset(sum, 0, k * sizeof *sum);
                for (size_t m = 0; m < n; m++) {
                    double d2 = 0;
                    for (size_t j = 0; j < p; j++) {
                        double d = x[j * n + i] - x[j * n + m];
                        d2 += d * d;
                    }
                    sum[label[m]] += sqrt(d2);
                }
                size_t own = (size_t)label[i];
                if (size[own] < 2) continue;
                double a = sum[own] / (double)(size[own] - 1), b = INFINITY;
                for (size_t c = 0; c < k; c++)
                    if (c != own && size[c] && sum[c] / (double)size[c] < b)
                        b = sum[c] / (double)size[c];
                double mx = a > b ? a : b;
                s[i] = mx > 0 ? (b - a) / mx : 0;
            }
            kn_free(sum);
        }
        if (nomem) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK) {
        double total = 0;
        for (size_t i = 0; i < n; i++) total += s[i];
        *out = total / (double)n;
    }
    kn_free(size), kn_free(s);
    return e;
}
