/* Row weights of a fit: sample weights times class weights, and the rows
 * of each class for class-balanced draws (learn-impl.h). */
#include "kiln/mem.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per class weight from class_weight: "none", "balanced" (scikit-learn's
 * n / (classes x rows of the class)), or "label:weight,..." (classes not
 * named weigh 1). */
static kn_status class_weights(const kn_dataset *d, const char *spec, double *cw)
{
    size_t n = d->n, k = d->n_classes;
    for (size_t c = 0; c < k; c++) cw[c] = 1;
    if (!spec || !*spec || !strcmp(spec, "none")) return KN_OK;
    if (!strcmp(spec, "balanced")) {
        double *count = kn_calloc(k, sizeof *count);
        if (!count) return KN_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) count[(size_t)d->y[i]] += 1;
        for (size_t c = 0; c < k; c++)
            if (count[c] > 0) cw[c] = (double)n / ((double)k * count[c]);
        kn_free(count);
        return KN_OK;
    }
    for (const char *p = spec; *p;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *colon = NULL;
        for (const char *q = p; q < end; q++)
            if (*q == ':') colon = q; /* the last ':' (a label may hold one) */
        char *stop = NULL;
        double v = colon ? strtod(colon + 1, &stop) : -1;
        if (!colon || colon == p || stop != end || !(v >= 0) || !isfinite(v))
            return kn_fail(KN_ERR_INVALID,
                           "class_weight=%s: give none, balanced, or label:weight pairs with "
                           "weights >= 0 separated by commas (yes:5,no:1)",
                           spec);
        size_t len = (size_t)(colon - p), c = 0;
        while (c < k && (strlen(d->classes[c]) != len || strncmp(d->classes[c], p, len))) c++;
        if (c == k)
            return kn_fail(KN_ERR_INVALID,
                           "class_weight names class '%.*s', which the target does not hold "
                           "(its classes: %s%s%s%s)",
                           (int)len, p, k ? d->classes[0] : "", k > 1 ? ", " : "",
                           k > 1 ? d->classes[1] : "", k > 2 ? ", ..." : "");
        cw[c] = v;
        p = comma ? comma + 1 : end;
    }
    return KN_OK;
}

kn_status kn__row_weights(const kn_dataset *d, const char *class_weight, double scale, double *w)
{
    size_t n = d->n, k = d->n_classes;
    double *cw = NULL;
    int weigh =
        k >= 2 && d->classes && class_weight && *class_weight && strcmp(class_weight, "none");
    if (weigh) {
        if (!(cw = kn_malloc(k * sizeof *cw))) return KN_ERR_NOMEM;
        kn_status e = class_weights(d, class_weight, cw);
        if (e != KN_OK) {
            kn_free(cw);
            return e;
        }
    }
    for (size_t i = 0; i < n; i++) {
        w[i] = scale * (d->w ? d->w[i] : 1);
        if (cw) w[i] *= cw[(size_t)d->y[i]];
    }
    kn_free(cw);
    return KN_OK;
}

kn_status kn__class_weighted(const kn_dataset *d, const char *class_weight, kn_dataset *out,
                             double **owned)
{
    *out = *d;
    *owned = NULL;
    if (!class_weight || !*class_weight || !strcmp(class_weight, "none") || d->n_classes < 2)
        return KN_OK;
    double *w = kn_malloc((d->n ? d->n : 1) * sizeof *w);
    if (!w) return KN_ERR_NOMEM;
    kn_status e = kn__row_weights(d, class_weight, 1, w);
    if (e != KN_OK) {
        kn_free(w);
        return e;
    }
    out->w = *owned = w;
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
