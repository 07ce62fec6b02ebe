#include "prep/prep-impl.h"
#include "kiln/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

kn_status kn__present_values(kn_column *c, size_t rows, double **out, size_t *n)
{
    const double *x = kn_column_f64(c);
    double *v = kn_malloc((rows ? rows : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < rows; i++)
        if (!isnan(x[i])) v[k++] = x[i];
    *out = v;
    *n = k;
    return KN_OK;
}

kn_status kn__sorted_values(kn_column *c, size_t rows, double **out, size_t *n)
{
    kn_status e = kn__present_values(c, rows, out, n);
    if (e == KN_OK) qsort(*out, *n, sizeof **out, cmp_double);
    return e;
}

double kn__quantile_sorted(const double *v, size_t n, double q)
{
    if (!n) return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos, hi = lo + 1 < n ? lo + 1 : lo;
    double t = pos - (double)lo, d = v[hi] - v[lo];
    /* numpy's lerp: from the nearer end, so results match it to the last bit */
    return t >= 0.5 ? v[hi] - d * (1 - t) : v[lo] + d * t;
}

double kn__nonzero_scale(double scale)
{
    return scale < 10 * DBL_EPSILON ? 1.0 : scale;
}

kn_status kn__decode_f64s(kn_rbuf *r, size_t n, double **out)
{
    double *v = kn_malloc((n ? n : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status st = kn_rbuf_bytes(r, v, n * sizeof *v);
    if (st != KN_OK) {
        kn_free(v);
        return st;
    }
    *out = v;
    return KN_OK;
}

void kn__order_desc(const size_t *cols, size_t n, size_t *order)
{
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && cols[order[k]] > cols[order[k - 1]]; k--) {
            size_t t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
}

kn_status kn__state_count(kn_rbuf *r, size_t n, const char *step)
{
    uint64_t stored = 0;
    kn_status e = kn_rbuf_u64(r, &stored);
    if (e == KN_OK && stored != n)
        return kn_fail(KN_ERR_CORRUPT, "%s: %s state holds %llu columns, the step %zu", r->what,
                       step, (unsigned long long)stored, n);
    return e;
}

kn_status kn__mark_fitted(kn_step *st)
{
    int *marker = kn_malloc(sizeof *marker);
    if (!marker) return KN_ERR_NOMEM;
    *marker = 1;
    kn_step_set_state(st, marker);
    return KN_OK;
}

kn_status kn__stateless_save(const kn_step *st, kn_wbuf *w)
{
    (void)st;
    (void)w;
    return KN_OK;
}

kn_status kn__stateless_load(kn_step *st, kn_rbuf *r, size_t n)
{
    (void)r;
    (void)n;
    return kn__mark_fitted(st);
}

/* Rearrange v so that v[k] is the k-th smallest, smaller-or-equal values
 * before it and greater-or-equal after (quickselect, median-of-three pivots). */
static void nth_element(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        /* order v[lo], v[mid], v[hi]; the median becomes the pivot */
        if (v[mid] < v[lo]) swap_d(&v[mid], &v[lo]);
        if (v[hi] < v[lo]) swap_d(&v[hi], &v[lo]);
        if (v[hi] < v[mid]) swap_d(&v[hi], &v[mid]);
        double pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                swap_d(&v[i], &v[j]);
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return; /* between j and i: equal to the pivot */
    }
}

double kn__quantile_select(double *v, size_t n, double q)
{
    if (!n) return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    nth_element(v, n, lo);
    double a = v[lo], b = a;
    if (lo + 1 < n) {
        b = v[lo + 1];
        for (size_t i = lo + 2; i < n; i++)
            if (v[i] < b) b = v[i];
    }
    double t = pos - (double)lo, d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t; /* as kn__quantile_sorted */
}
