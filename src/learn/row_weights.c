/* Row weights of a fit: sample weights times class weights (learn-impl.h). */
#include "kiln/mem.h"
#include "learn/learn-impl.h"

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
