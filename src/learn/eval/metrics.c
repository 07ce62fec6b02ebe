/* Point metrics of labels and of regression values (see kiln/metrics.h),
 * and the checks and means every metric shares. Every mean is NumPy's np.average: the sum of
 * value x weight over the sum of weights, both summed in NumPy's pairwise
 * order, so results agree with scikit-learn's to the last bits. */
#include "kiln/metrics.h"
#include "learn/eval/metrics-impl.h"
#include "kiln/mem.h"
#include "kiln/sum.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* np.kn__metric_average(v, weights=w) of n values (v is overwritten). */
double kn__metric_average(double *v, const double *w, size_t n)
{
    if (!w) return kn_sum_pairwise(v, n) / (double)n;
    double *ws = kn_malloc((n ? n : 1) * sizeof *ws);
    if (!ws) return NAN;
    for (size_t i = 0; i < n; i++) {
        v[i] *= w[i];
        ws[i] = w[i];
    }
    double total = kn_sum_pairwise(ws, n);
    kn_free(ws);
    return kn_sum_pairwise(v, n) / total;
}

kn_status kn__metric_check(size_t n, const double *w)
{
    if (!n) return kn_fail(KN_ERR_INVALID, "metric: no rows to score");
    if (w) {
        double total = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(w[i] >= 0) || isinf(w[i]))
                return kn_fail(KN_ERR_INVALID,
                               "metric: sample weight %g in row %zu; weights are "
                               "finite and non-negative",
                               w[i], i + 1);
            total += w[i];
        }
        if (total <= 0) return kn_fail(KN_ERR_INVALID, "metric: the sample weights sum to 0");
    }
    return KN_OK;
}

kn_status kn__metric_check_labels(const int32_t *y, const int32_t *pred, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || (size_t)y[i] >= k || (pred && (pred[i] < 0 || (size_t)pred[i] >= k)))
            return kn_fail(KN_ERR_RANGE, "metric: row %zu has class %d, outside 0..%zu", i + 1,
                           y[i] < 0 || (size_t)y[i] >= k ? y[i] : pred[i], k - 1);
    return KN_OK;
}

/* Per-row scores into a new array for kn__metric_average(); NULL on no memory. */
static double *scratch(size_t n)
{
    return kn_malloc((n ? n : 1) * sizeof(double));
}

/* The start of a per-row metric: checked rows and weights, and *v for the
 * row values (kn_free). */
kn_status kn__metric_rows_begin(size_t n, const double *w, double **v)
{
    kn_status e = kn__metric_check(n, w);
    if (e != KN_OK) return e;
    return (*v = scratch(n)) ? KN_OK : KN_ERR_NOMEM;
}

kn_status kn_metric_accuracy(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                             double *out)
{
    double *v;
    kn_status e = kn__metric_rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++) v[i] = y[i] == pred[i];
    *out = kn__metric_average(v, w, n);
    kn_free(v);
    return KN_OK;
}

kn_status kn_metric_confusion(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                              size_t k, double *m)
{
    kn_status e = kn__metric_check(n, w);
    if (e == KN_OK) e = kn__metric_check_labels(y, pred, n, k);
    if (e != KN_OK) return e;
    memset(m, 0, k * k * sizeof *m);
    for (size_t i = 0; i < n; i++) m[(size_t)y[i] * k + (size_t)pred[i]] += w ? w[i] : 1;
    return KN_OK;
}

/* Confusion matrix and, per class, whether it occurs in y or pred (the
 * label set scikit-learn averages over). */
typedef struct confusion {
    size_t k;
    double *m;
    unsigned char *present;
} confusion;

static kn_status confusion_make(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                                size_t k, confusion *c)
{
    c->k = k;
    c->m = kn_malloc((k ? k * k : 1) * sizeof *c->m);
    c->present = kn_calloc(k ? k : 1, 1);
    if (!c->m || !c->present) {
        kn_free(c->m);
        kn_free(c->present);
        return KN_ERR_NOMEM;
    }
    kn_status e = kn_metric_confusion(y, pred, w, n, k, c->m);
    for (size_t i = 0; e == KN_OK && i < n; i++) c->present[y[i]] = c->present[pred[i]] = 1;
    if (e != KN_OK) {
        kn_free(c->m);
        kn_free(c->present);
    }
    return e;
}

static void confusion_free(confusion *c)
{
    kn_free(c->m);
    kn_free(c->present);
}

static double row_sum(const confusion *c, size_t i)
{
    double s = 0;
    for (size_t j = 0; j < c->k; j++) s += c->m[i * c->k + j];
    return s;
}

static double col_sum(const confusion *c, size_t j)
{
    double s = 0;
    for (size_t i = 0; i < c->k; i++) s += c->m[i * c->k + j];
    return s;
}

kn_status kn_metric_balanced_accuracy(const int32_t *y, const int32_t *pred, const double *w,
                                      size_t n, size_t k, double *out)
{
    confusion c;
    kn_status e = confusion_make(y, pred, w, n, k, &c);
    if (e != KN_OK) return e;
    double sum = 0;
    size_t classes = 0;
    for (size_t i = 0; i < k; i++) {
        double t = row_sum(&c, i);
        if (!c.present[i] || t == 0) continue; /* a class only predicted: left out */
        sum += c.m[i * k + i] / t;
        classes++;
    }
    confusion_free(&c);
    *out = classes ? sum / (double)classes : 0;
    return KN_OK;
}

typedef enum { PRECISION, RECALL, F1 } prf_kind;

static double ratio(double a, double b)
{
    return b == 0 ? 0 : a / b;
}

static double prf_value(prf_kind kind, double tp, double pred_sum, double true_sum)
{
    double p = ratio(tp, pred_sum), r = ratio(tp, true_sum);
    if (kind == PRECISION) return p;
    if (kind == RECALL) return r;
    double denom = p + r;
    return 2 * p * r / (denom == 0 ? 1 : denom);
}

static kn_status prf(const int32_t *y, const int32_t *pred, const double *w, size_t n, size_t k,
                     kn_average avg, prf_kind kind, double *out)
{
    confusion c;
    kn_status e = confusion_make(y, pred, w, n, k, &c);
    if (e != KN_OK) return e;
    if (avg == KN_AVG_BINARY) {
        if (k > 2) {
            confusion_free(&c);
            return kn_fail(KN_ERR_INVALID,
                           "metric: average=binary needs 2 classes, not %zu; use "
                           "macro, micro or weighted",
                           k);
        }
        *out = prf_value(kind, c.m[k * 1 + 1], col_sum(&c, 1), row_sum(&c, 1));
    } else if (avg == KN_AVG_MICRO) {
        double tp = 0, ps = 0, ts = 0;
        for (size_t i = 0; i < k; i++)
            if (c.present[i]) {
                tp += c.m[i * k + i];
                ps += col_sum(&c, i);
                ts += row_sum(&c, i);
            }
        *out = prf_value(kind, tp, ps, ts);
    } else {
        double sum = 0, weight = 0;
        size_t classes = 0;
        for (size_t i = 0; i < k; i++) {
            if (!c.present[i]) continue;
            double v = prf_value(kind, c.m[i * k + i], col_sum(&c, i), row_sum(&c, i));
            double support = row_sum(&c, i);
            sum += avg == KN_AVG_WEIGHTED ? v * support : v;
            weight += support;
            classes++;
        }
        *out = avg == KN_AVG_WEIGHTED ? ratio(sum, weight) : sum / (double)classes;
    }
    confusion_free(&c);
    return KN_OK;
}

kn_status kn_metric_precision(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                              size_t k, kn_average avg, double *out)
{
    return prf(y, pred, w, n, k, avg, PRECISION, out);
}

kn_status kn_metric_recall(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                           size_t k, kn_average avg, double *out)
{
    return prf(y, pred, w, n, k, avg, RECALL, out);
}

kn_status kn_metric_f1(const int32_t *y, const int32_t *pred, const double *w, size_t n, size_t k,
                       kn_average avg, double *out)
{
    return prf(y, pred, w, n, k, avg, F1, out);
}

kn_status kn_metric_mcc(const int32_t *y, const int32_t *pred, const double *w, size_t n, size_t k,
                        double *out)
{
    confusion c;
    kn_status e = confusion_make(y, pred, w, n, k, &c);
    if (e != KN_OK) return e;
    double correct = 0, total = 0, tp_dot = 0, pp = 0, tt = 0;
    for (size_t i = 0; i < k; i++) {
        double t = row_sum(&c, i), p = col_sum(&c, i);
        correct += c.m[i * k + i];
        total += p;
        tp_dot += t * p;
        pp += p * p;
        tt += t * t;
    }
    confusion_free(&c);
    double cov_ytyp = correct * total - tp_dot, cov_ypyp = total * total - pp,
           cov_ytyt = total * total - tt;
    *out = cov_ypyp * cov_ytyt == 0 ? 0 : cov_ytyp / sqrt(cov_ytyt * cov_ypyp);
    return KN_OK;
}

kn_status kn_metric_cohen_kappa(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                                size_t k, double *out)
{
    confusion c;
    kn_status e = confusion_make(y, pred, w, n, k, &c);
    if (e != KN_OK) return e;
    double total = 0, observed = 0, expected = 0;
    for (size_t i = 0; i < k; i++) total += col_sum(&c, i);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            if (i == j) continue;
            observed += c.m[i * k + j];
            expected += col_sum(&c, i) * row_sum(&c, j) / total;
        }
    confusion_free(&c);
    *out = 1 - observed / expected;
    return KN_OK;
}

/* ---- regression ---- */

typedef double (*per_row)(double y, double p);

static double sq(double y, double p)
{
    return (y - p) * (y - p);
}

static double ab(double y, double p)
{
    return fabs(y - p);
}

static double ape(double y, double p)
{
    return fabs(y - p) / fmax(fabs(y), DBL_EPSILON);
}

static kn_status mean_of(per_row fn, const double *y, const double *pred, const double *w, size_t n,
                         double *out)
{
    double *v;
    kn_status e = kn__metric_rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++) v[i] = fn(y[i], pred[i]);
    *out = kn__metric_average(v, w, n);
    kn_free(v);
    return KN_OK;
}

kn_status kn_metric_mse(const double *y, const double *pred, const double *w, size_t n, double *out)
{
    return mean_of(sq, y, pred, w, n, out);
}

kn_status kn_metric_rmse(const double *y, const double *pred, const double *w, size_t n,
                         double *out)
{
    kn_status e = mean_of(sq, y, pred, w, n, out);
    if (e == KN_OK) *out = sqrt(*out);
    return e;
}

kn_status kn_metric_mae(const double *y, const double *pred, const double *w, size_t n, double *out)
{
    return mean_of(ab, y, pred, w, n, out);
}

kn_status kn_metric_mape(const double *y, const double *pred, const double *w, size_t n,
                         double *out)
{
    return mean_of(ape, y, pred, w, n, out);
}

static int by_value(const void *a, const void *b)
{
    const kn__scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

kn_status kn_metric_median_ae(const double *y, const double *pred, const double *w, size_t n,
                              double *out)
{
    kn_status e = kn__metric_check(n, w);
    if (e != KN_OK) return e;
    kn__scored *v = kn_malloc(n * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) v[i] = (kn__scored){fabs(y[i] - pred[i]), i};
    qsort(v, n, sizeof *v, by_value);
    if (!w) /* np.median */
        *out = n % 2 ? v[n / 2].s : (v[n / 2 - 1].s + v[n / 2].s) / 2;
    else { /* sklearn's _weighted_percentile at 50: first cumulative weight >= half */
        double total = 0, cum = 0;
        for (size_t i = 0; i < n; i++) total += w[v[i].i];
        double half = 0.5 * total;
        size_t at = n - 1;
        for (size_t i = 0; i < n; i++) {
            cum += w[v[i].i];
            if (cum >= half) {
                at = i;
                break;
            }
        }
        *out = v[at].s;
    }
    kn_free(v);
    return KN_OK;
}

/* np.average of y, and of (y - pred), into *my and *md. */
static kn_status means(const double *y, const double *pred, const double *w, size_t n, double *my,
                       double *md, double *v)
{
    for (size_t i = 0; i < n; i++) v[i] = y[i];
    *my = kn__metric_average(v, w, n);
    for (size_t i = 0; i < n; i++) v[i] = y[i] - pred[i];
    *md = kn__metric_average(v, w, n);
    return KN_OK;
}

/* 1 - num/den with sklearn's finite-value rule. */
static double one_minus(double num, double den)
{
    if (den == 0) return num == 0 ? 1 : 0;
    return 1 - num / den;
}

/* R^2 and explained variance compare with the spread of y, which fewer than
 * two rows do not have: NaN, as scikit-learn gives (with a warning), never
 * a made-up 0 or 1. */
kn_status kn_metric_r2(const double *y, const double *pred, const double *w, size_t n, double *out)
{
    if (n < 2) {
        *out = NAN;
        return KN_OK;
    }
    double *v;
    kn_status e = kn__metric_rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    double my, md;
    means(y, pred, w, n, &my, &md, v);
    for (size_t i = 0; i < n; i++) v[i] = (w ? w[i] : 1) * (y[i] - pred[i]) * (y[i] - pred[i]);
    double num = kn_sum_pairwise(v, n);
    for (size_t i = 0; i < n; i++) v[i] = (w ? w[i] : 1) * (y[i] - my) * (y[i] - my);
    double den = kn_sum_pairwise(v, n);
    kn_free(v);
    *out = one_minus(num, den);
    return KN_OK;
}

kn_status kn_metric_explained_variance(const double *y, const double *pred, const double *w,
                                       size_t n, double *out)
{
    if (n < 2) {
        *out = NAN;
        return KN_OK;
    }
    double *v;
    kn_status e = kn__metric_rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    double my, md;
    means(y, pred, w, n, &my, &md, v);
    for (size_t i = 0; i < n; i++) {
        double d = y[i] - pred[i] - md;
        v[i] = d * d;
    }
    double num = kn__metric_average(v, w, n);
    for (size_t i = 0; i < n; i++) v[i] = (y[i] - my) * (y[i] - my);
    double den = kn__metric_average(v, w, n);
    kn_free(v);
    *out = one_minus(num, den);
    return KN_OK;
}

kn_status kn_metric_tweedie_deviance(const double *y, const double *pred, const double *w, size_t n,
                                     double power, double *out)
{
    double p = power;
    if (p > 0 && p < 1)
        return kn_fail(KN_ERR_INVALID,
                       "metric: Tweedie power %g is undefined; use p <= 0 or "
                       "p >= 1",
                       p);
    kn_status e = kn__metric_check(n, w);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++) {
        int bad = (p < 0 && !(pred[i] > 0)) || (p >= 1 && p < 2 && !(y[i] >= 0 && pred[i] > 0)) ||
                  (p >= 2 && !(y[i] > 0 && pred[i] > 0));
        if (bad)
            return kn_fail(KN_ERR_RANGE,
                           "metric: row %zu: y = %g, prediction %g lie outside the domain of the "
                           "Tweedie deviance with power %g",
                           i + 1, y[i], pred[i], p);
    }
    double *v = scratch(n);
    if (!v) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        double t = y[i], m = pred[i];
        if (p == 0)
            v[i] = (t - m) * (t - m);
        else if (p == 1)
            v[i] = 2 * ((t == 0 ? 0 : t * log(t / m)) - t + m);
        else if (p == 2)
            v[i] = 2 * (log(m / t) + t / m - 1);
        else
            v[i] = 2 * (pow(p < 0 ? fmax(t, 0) : t, 2 - p) / ((1 - p) * (2 - p)) -
                        t * pow(m, 1 - p) / (1 - p) + pow(m, 2 - p) / (2 - p));
    }
    *out = kn__metric_average(v, w, n);
    kn_free(v);
    return KN_OK;
}
