/* Row weights of a fit: sample weights times class weights, and the rows
 * of each class for class-balanced draws (learn-impl.h). */
#include "kiln/mem.h"
#include "learn/learn-impl.h"

#include <string.h>

kn_status kn__row_weights(const kn_dataset *d, int balanced, double scale, double *w)
{
    size_t n = d->n, k = d->n_classes;
    double *count = NULL;
    if (balanced && k >= 2) {
        if (!(count = kn_calloc(k, sizeof *count))) return KN_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) count[(size_t)d->y[i]] += 1;
    }
    for (size_t i = 0; i < n; i++) {
        w[i] = scale * (d->w ? d->w[i] : 1);
        /* scikit-learn's "balanced": n / (classes x rows of the row's class) */
        if (count) w[i] *= (double)n / ((double)k * count[(size_t)d->y[i]]);
    }
    kn_free(count);
    return KN_OK;
}

kn_status kn__class_rows(const kn_dataset *d, size_t k, uint32_t **rows, size_t **start,
                         size_t *n_min)
{
    size_t n = d->n, *at = kn_calloc(k + 1, sizeof *at), *fill = kn_malloc(k * sizeof *fill);
    uint32_t *r = kn_malloc((n ? n : 1) * sizeof *r);
    if (!at || !fill || !r) {
        kn_free(at), kn_free(fill), kn_free(r);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) at[(size_t)d->y[i] + 1]++;
    *n_min = n;
    for (size_t c = 0; c < k; c++) {
        if (at[c + 1] && at[c + 1] < *n_min) *n_min = at[c + 1];
        at[c + 1] += at[c];
    }
    memcpy(fill, at, k * sizeof *fill);
    for (size_t i = 0; i < n; i++) r[fill[(size_t)d->y[i]]++] = (uint32_t)i;
    kn_free(fill);
    *rows = r;
    *start = at;
    return KN_OK;
}
