/* Grid search (kiln/tune.h): every combination of the dims' grid values
 * (choices, an int range's values, or grid: N points of a range), the last
 * dim fastest, a conditional dim collapsed where it is inactive; run as
 * one batch by the driver (tune.c). */
#include "kiln/core.h"
#include "kiln/mem.h"
#include "pipeline/tune-impl.h"
#include "pipeline/tune_search-impl.h"

#include <math.h>
#include <string.h>

enum { GRID_MAX = 1000000, INT_GRID_MAX = 1000 };

/* The values of dim d on the grid into v (at most cap); their count. */
static kn_status grid_values(const kn__dim *d, double *v, size_t cap, size_t *n)
{
    *n = 0;
    if (d->kind == KN__DIM_CHOICE) {
        for (size_t k = 0; k < d->n_choices && *n < cap; k++) v[(*n)++] = (double)k;
        return KN_OK;
    }
    if (d->kind == KN__DIM_INT && !d->grid) {
        if (d->hi - d->lo + 1 > INT_GRID_MAX)
            return kn_fail(KN_ERR_INVALID,
                           "grid search: %s: int: [%g, %g] has more than %d values; give grid: N "
                           "points",
                           d->name, d->lo, d->hi, INT_GRID_MAX);
        for (double x = d->lo; x <= d->hi && *n < cap; x++) v[(*n)++] = x;
        return KN_OK;
    }
    if (!d->grid)
        return kn_fail(KN_ERR_INVALID,
                       "grid search: %s is a continuous range: give its points, e.g. {%s: [%g, "
                       "%g], grid: 5}, or search it with --strategy random or tpe",
                       d->name, d->kind == KN__DIM_LOG ? "log" : "uniform", d->lo, d->hi);
    for (size_t k = 0; k < d->grid && *n < cap; k++) {
        double u = (double)k / (double)(d->grid - 1), x;
        if (d->kind == KN__DIM_LOG || d->log)
            x = exp(log(d->lo) + u * (log(d->hi) - log(d->lo)));
        else
            x = d->lo + u * (d->hi - d->lo);
        if (d->kind == KN__DIM_INT) x = floor(x + 0.5);
        /* the ends exactly as given (exp(log(0.01)) is 0.010000000000000004) */
        if (k == 0) x = d->lo;
        if (k + 1 == d->grid) x = d->hi;
        if (*n && v[*n - 1] == x) continue;
        v[(*n)++] = x;
    }
    return KN_OK;
}

kn_status kn__tune_grid(kn__tune_search *s)
{
    const kn_tune_space *sp = s->sp;
    size_t nd = sp->n, total = 1;
    size_t *len = kn_calloc(nd ? nd : 1, sizeof *len), *at = kn_calloc(nd ? nd : 1, sizeof *at);
    double **vals = kn_calloc(nd ? nd : 1, sizeof *vals);
    kn_status e = len && at && vals ? KN_OK : KN_ERR_NOMEM;
    for (size_t d = 0; e == KN_OK && d < nd; d++) {
        size_t cap = sp->dim[d].kind == KN__DIM_CHOICE ? sp->dim[d].n_choices
                     : sp->dim[d].grid                 ? sp->dim[d].grid
                                                       : INT_GRID_MAX;
        if (!(vals[d] = kn_malloc(cap * sizeof **vals))) e = KN_ERR_NOMEM;
        if (e == KN_OK) e = grid_values(&sp->dim[d], vals[d], cap, &len[d]);
        if (e == KN_OK && (total *= len[d]) > GRID_MAX)
            e = kn_fail(KN_ERR_INVALID,
                        "grid search: the grid has more than %d points: use fewer grid: points "
                        "or --strategy random",
                        GRID_MAX);
    }
    /* every combination, the last dim fastest; a conditional dim's values
     * collapse where it is inactive, so keep the first of equal configs */
    double *xs = e == KN_OK ? kn_malloc(total * (nd ? nd : 1) * sizeof *xs) : NULL;
    size_t m = 0;
    if (e == KN_OK && !xs) e = KN_ERR_NOMEM;
    for (size_t c = 0; e == KN_OK && c < total; c++) {
        double *x = xs + m * nd;
        for (size_t d = 0; d < nd; d++) x[d] = vals[d][at[d]];
        for (size_t d = 0; d < nd; d++)
            if (!kn__tune_active(sp, x, d)) x[d] = NAN;
        int dup = 0;
        for (size_t p = 0; p < m && !dup; p++) dup = kn__tune_same_x(sp, xs + p * nd, x);
        if (!dup) m++;
        for (size_t d = nd; d-- > 0;) {
            if (++at[d] < len[d]) break;
            at[d] = 0;
        }
    }
    if (e == KN_OK && s->o->trials && s->o->trials < m) m = s->o->trials;
    kn_tune_trial *b = e == KN_OK ? kn__tune_new_batch(s, m) : NULL;
    if (e == KN_OK && !b) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < m; j++) {
        b[j].id = j;
        memcpy(b[j].x, xs + j * nd, nd * sizeof *xs);
    }
    if (e == KN_OK) e = kn__tune_run_batch(s, b, m);
    kn__tune_free_batch(b, m);
    kn_free(xs);
    for (size_t d = 0; vals && d < nd; d++) kn_free(vals[d]);
    kn_free(vals);
    kn_free(len);
    kn_free(at);
    return e;
}
