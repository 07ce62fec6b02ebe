/* Weighted medians over ranked targets (ranked.h). */
#include "learn/tree/ranked.h"

#include "kiln/mem.h"

#include <stdlib.h>
#include <string.h>

kn_status kn__ranked_init(kn__ranked *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
    r->y = kn_malloc((cap ? cap : 1) * sizeof *r->y);
    r->cw = kn_malloc((cap + 1) * sizeof *r->cw);
    r->cwy = kn_malloc((cap + 1) * sizeof *r->cwy);
    r->fw = kn_malloc((cap + 1) * sizeof *r->fw);
    r->fwy = kn_malloc((cap + 1) * sizeof *r->fwy);
    r->order = kn_malloc((cap ? cap : 1) * sizeof *r->order);
    if (r->y && r->cw && r->cwy && r->fw && r->fwy && r->order) return KN_OK;
    kn__ranked_free(r);
    return KN_ERR_NOMEM;
}

void kn__ranked_free(kn__ranked *r)
{
    kn_free(r->y), kn_free(r->cw), kn_free(r->cwy), kn_free(r->fw), kn_free(r->fwy);
    kn_free(r->order);
    memset(r, 0, sizeof *r);
}

/* qsort has no context argument: the targets being ranked */
static _Thread_local const double *ranking_y;

static int by_target(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double u = ranking_y[x], v = ranking_y[y];
    if (u != v) return u < v ? -1 : 1;
    return (x > y) - (x < y);
}

void kn__ranked_node(kn__ranked *r, const uint32_t *rows, size_t m, const double *y,
                     const double *w, uint32_t *rank_of)
{
    r->m = m;
    memcpy(r->order, rows, m * sizeof *rows);
    ranking_y = y;
    qsort(r->order, m, sizeof *r->order, by_target);
    r->cw[0] = r->cwy[0] = 0;
    for (size_t k = 0; k < m; k++) {
        uint32_t row = r->order[k];
        rank_of[row] = (uint32_t)k;
        r->y[k] = y[row];
        r->cw[k + 1] = r->cw[k] + w[row];
        r->cwy[k + 1] = r->cwy[k] + w[row] * y[row];
    }
    kn__ranked_clear(r);
}

void kn__ranked_clear(kn__ranked *r)
{
    memset(r->fw, 0, (r->m + 1) * sizeof *r->fw);
    memset(r->fwy, 0, (r->m + 1) * sizeof *r->fwy);
}

void kn__ranked_add(kn__ranked *r, uint32_t rank, double w)
{
    double wy = w * r->y[rank];
    for (size_t i = (size_t)rank + 1; i <= r->m; i += i & (~i + 1)) {
        r->fw[i] += w;
        r->fwy[i] += wy;
    }
}

/* Sums of w and w y over ranks [0, k] of the chosen set (-1: the node). */
static void prefix(const kn__ranked *r, int set, size_t k, double *sw, double *swy)
{
    double a = 0, b = 0;
    if (set >= 0)
        for (size_t i = k + 1; i > 0; i -= i & (~i + 1)) {
            a += r->fw[i];
            b += r->fwy[i];
        }
    if (set == 0) {
        *sw = a;
        *swy = b;
    } else {
        *sw = r->cw[k + 1] - a;
        *swy = r->cwy[k + 1] - b;
    }
}

/* The first rank whose prefix weight of the set reaches (strict: passes) half. */
static size_t first_reaching(const kn__ranked *r, int set, double half, int strict)
{
    size_t lo = 0, hi = r->m - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double sw, swy;
        prefix(r, set, mid, &sw, &swy);
        if (strict ? sw > half : sw >= half)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static double deviation(const kn__ranked *r, int set, double *median)
{
    double W, WY;
    *median = 0;
    if (r->m == 0) return 0;
    prefix(r, set, r->m - 1, &W, &WY);
    if (!(W > 0)) return 0;
    size_t k = first_reaching(r, set, W / 2, 0);
    double A, B;
    prefix(r, set, k, &A, &B);
    double med = r->y[k];
    if (A == W / 2 && k + 1 < r->m) /* exactly half: the mean with the next target */
        med = (med + r->y[first_reaching(r, set, W / 2, 1)]) / 2;
    *median = med;
    /* below and at rank k: med - y; above: y - med */
    return med * A - B + (WY - B) - med * (W - A);
}

double kn__ranked_deviation(const kn__ranked *r, int rest, double *median)
{
    return deviation(r, rest ? 1 : 0, median);
}

double kn__ranked_node_deviation(const kn__ranked *r, double *median)
{
    return deviation(r, -1, median);
}
