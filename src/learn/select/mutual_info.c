/* Mutual information by k nearest neighbours (kiln/select.h): Kraskov,
 * Stoegbauer and Grassberger (2004) for a continuous target, Ross (2014)
 * for a discrete one, as scikit-learn's mutual_info_regression and
 * mutual_info_classif compute them: features (and a numeric target)
 * scaled by their standard deviation and jittered by 1e-10 of their mean
 * magnitude; distances in the max norm; a neighbour counts when it is
 * strictly closer than the k-th one. Everything is one-dimensional per
 * axis, so sorted arrays and binary search replace trees. */
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "kiln/select.h"
#include "learn/select/select-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* digamma by recurrence up to 6, then its asymptotic series */
static double digamma(double x)
{
    double r = 0;
    while (x < 6) r -= 1 / x, x += 1;
    double f = 1 / (x * x);
    return r + log(x) - 0.5 / x -
           f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Values of sorted s (n) within r of v: |s[i] - v| <= r, computed as that
 * difference (not as v - r, v + r, whose rounding would move the edges). */
static size_t within(const double *s, size_t n, double v, double r)
{
    size_t lo = 0, hi = n; /* first with s >= v or v - s <= r */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s[m] < v && v - s[m] > r)
            lo = m + 1;
        else
            hi = m;
    }
    size_t a = lo;
    hi = n; /* first with s > v and s - v > r */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (!(s[m] > v && s[m] - v > r))
            lo = m + 1;
        else
            hi = m;
    }
    return lo - a;
}

/* v / std(v) (population; 1 when 0), plus 1e-10 * max(1, mean |v|) noise. */
static void scale_jitter(const double *v, size_t n, kn_rng *rng, double *out)
{
    double m = 0, ss = 0, mag = 0;
    for (size_t i = 0; i < n; i++) m += v[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    double sd = sqrt(ss / (double)n);
    if (!(sd > 0)) sd = 1;
    for (size_t i = 0; i < n; i++) out[i] = v[i] / sd, mag += fabs(out[i]);
    mag /= (double)n;
    double amp = 1e-10 * (mag > 1 ? mag : 1);
    for (size_t i = 0; i < n; i++) out[i] += amp * kn_rng_normal(rng);
}

typedef struct pt {
    double x, y;
} pt;

static int by_x(const void *a, const void *b)
{
    const pt *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* Continuous x and y (KSG estimator 1). work: 3n doubles, pts n points. */
static double mi_cc(const double *x, const double *y, size_t n, size_t k, double *work, pt *pts)
{
    double *sx = work, *sy = work + n, *best = work + 2 * n; /* best: k distances */
    for (size_t i = 0; i < n; i++) pts[i] = (pt){x[i], y[i]}, sx[i] = x[i], sy[i] = y[i];
    qsort(pts, n, sizeof *pts, by_x);
    qsort(sx, n, sizeof *sx, by_double);
    qsort(sy, n, sizeof *sy, by_double);
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nb = 0, l = i, r = i + 1;
        int go_l = i > 0, go_r = r < n;
        while (go_l || go_r) {
            /* the nearer side in x next; stop a side once its dx reaches the k-th distance */
            int left = go_l && (!go_r || pts[i].x - pts[l - 1].x <= pts[r].x - pts[i].x);
            const pt *q = left ? &pts[l - 1] : &pts[r];
            double dx = fabs(q->x - pts[i].x);
            if (nb == k && dx >= best[k - 1]) break;
            double d = fmax(dx, fabs(q->y - pts[i].y));
            if (nb < k || d < best[k - 1]) {
                size_t at = nb < k ? nb++ : k - 1;
                while (at > 0 && best[at - 1] > d) best[at] = best[at - 1], at--;
                best[at] = d;
            }
            if (left)
                go_l = --l > 0;
            else
                go_r = ++r < n;
        }
        double rad = nextafter(best[k - 1], 0);
        double nx = (double)within(sx, n, pts[i].x, rad) - 1;
        double ny = (double)within(sy, n, pts[i].y, rad) - 1;
        acc += digamma(nx + 1) + digamma(ny + 1);
    }
    double mi = digamma((double)n) + digamma((double)k) - acc / (double)n;
    return mi > 0 ? mi : 0;
}

/* Continuous c, classes y in [0, kc) (Ross). work: 2n doubles; order: n indices. */
static double mi_cd(const double *c, const int32_t *y, size_t n, size_t kc, size_t k,
                    const double *count, double *work, size_t *order)
{
    double *grp = work, *all = work + n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (count[y[i]] > 1) all[m++] = c[i];
    if (m == 0) return 0;
    qsort(all, m, sizeof *all, by_double);
    double acc_k = 0, acc_label = 0, acc_m = 0;
    for (size_t cl = 0; cl < kc; cl++) {
        if (count[cl] <= 1) continue;
        size_t g = 0;
        for (size_t i = 0; i < n; i++)
            if (y[i] == (int32_t)cl) grp[g++] = c[i];
        qsort(grp, g, sizeof *grp, by_double);
        size_t kk = k < g - 1 ? k : g - 1;
        for (size_t s = 0; s < g; s++) {
            size_t l = s, r = s + 1;
            double d = 0;
            for (size_t t = 0; t < kk; t++) { /* the kk-th nearest in one dimension */
                int left = l > 0 && (r >= g || grp[s] - grp[l - 1] <= grp[r] - grp[s]);
                d = left ? grp[s] - grp[--l] : grp[r++] - grp[s];
            }
            double rad = nextafter(d, 0);
            acc_k += digamma((double)kk);
            acc_label += digamma(count[cl]);
            acc_m += digamma((double)within(all, m, grp[s], rad));
        }
    }
    (void)order;
    double dm = (double)m;
    double mi = digamma(dm) + acc_k / dm - acc_label / dm - acc_m / dm;
    return mi > 0 ? mi : 0;
}

kn_status kn_select_mutual_info(const double *x, size_t n, size_t p, const double *y,
                                const int32_t *y_class, size_t k, size_t n_neighbors, uint64_t seed,
                                double *mi)
{
    if (n_neighbors < 1)
        return kn_fail(KN_ERR_INVALID, "mutual_info: n_neighbors must be 1 or more");
    if (n <= n_neighbors)
        return kn_fail(KN_ERR_INVALID,
                       "mutual_info: %zu rows; the estimator needs more rows than n_neighbors "
                       "(%zu)",
                       n, n_neighbors);
    double *work = kn_malloc(5 * n * sizeof *work), *count = NULL, *ty = work + 4 * n;
    pt *pts = kn_malloc(n * sizeof *pts);
    size_t *order = kn_malloc(n * sizeof *order);
    if (y_class) count = kn_calloc(k ? k : 1, sizeof *count);
    if (!work || !pts || !order || (y_class && !count)) {
        kn_free(work), kn_free(pts), kn_free(order), kn_free(count);
        return KN_ERR_NOMEM;
    }
    kn_rng rng;
    kn_rng_init_stream(&rng, seed, 0); /* stream 0: the target; j + 1: feature j */
    if (y_class)
        for (size_t i = 0; i < n; i++) count[y_class[i]]++;
    else
        scale_jitter(y, n, &rng, ty);
    double *tx = work + 3 * n;
    for (size_t j = 0; j < p; j++) {
        kn_rng_init_stream(&rng, seed, j + 1);
        scale_jitter(x + j * n, n, &rng, tx);
        mi[j] = y_class ? mi_cd(tx, y_class, n, k, n_neighbors, count, work, order)
                        : mi_cc(tx, ty, n, n_neighbors, work, pts);
    }
    kn_free(work), kn_free(pts), kn_free(order), kn_free(count);
    return KN_OK;
}
