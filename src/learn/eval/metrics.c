/* Metrics (see kiln/metrics.h). Every mean is NumPy's np.average: the sum of
 * value x weight over the sum of weights, both summed in NumPy's pairwise
 * order, so results agree with scikit-learn's to the last bits. */
#include "kiln/metrics.h"
#include "kiln/mem.h"
#include "kiln/sum.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* np.average(v, weights=w) of n values (v is overwritten). */
static double average(double *v, const double *w, size_t n)
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

static kn_status check(size_t n, const double *w)
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

static kn_status check_labels(const int32_t *y, const int32_t *pred, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || (size_t)y[i] >= k || (pred && (pred[i] < 0 || (size_t)pred[i] >= k)))
            return kn_fail(KN_ERR_RANGE, "metric: row %zu has class %d, outside 0..%zu", i + 1,
                           y[i] < 0 || (size_t)y[i] >= k ? y[i] : pred[i], k - 1);
    return KN_OK;
}

/* Per-row scores into a new array for average(); NULL on no memory. */
static double *scratch(size_t n)
{
    return kn_malloc((n ? n : 1) * sizeof(double));
}

/* The start of a per-row metric: checked rows and weights, and *v for the
 * row values (kn_free). */
static kn_status rows_begin(size_t n, const double *w, double **v)
{
    kn_status e = check(n, w);
    if (e != KN_OK) return e;
    return (*v = scratch(n)) ? KN_OK : KN_ERR_NOMEM;
}

kn_status kn_metric_accuracy(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                             double *out)
{
    double *v;
    kn_status e = rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++) v[i] = y[i] == pred[i];
    *out = average(v, w, n);
    kn_free(v);
    return KN_OK;
}

kn_status kn_metric_confusion(const int32_t *y, const int32_t *pred, const double *w, size_t n,
                              size_t k, double *m)
{
    kn_status e = check(n, w);
    if (e == KN_OK) e = check_labels(y, pred, n, k);
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

/* ---- ranking ---- */

typedef struct scored {
    double s;
    size_t i;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Cumulative weighted positives and negatives at each distinct score, from
 * the highest (sklearn's _binary_clf_curve; rows of weight 0 left out, as
 * sklearn does), and the score there when thr is not NULL. */
static kn_status clf_curve_at(const unsigned char *pos, const double *score, const double *w,
                              size_t n, double **tps, double **fps, double **thr, size_t *points)
{
    scored *o = kn_malloc((n ? n : 1) * sizeof *o);
    double *t = kn_malloc((n ? n : 1) * sizeof *t), *f = kn_malloc((n ? n : 1) * sizeof *f);
    double *th = thr ? kn_malloc((n ? n : 1) * sizeof *th) : NULL;
    if (!o || !t || !f || (thr && !th)) {
        kn_free(o), kn_free(t), kn_free(f), kn_free(th);
        return KN_ERR_NOMEM;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i])) {
            kn_free(o), kn_free(t), kn_free(f), kn_free(th);
            return kn_fail(KN_ERR_INVALID, "metric: the score of row %zu is NaN", i + 1);
        }
        if (!w || w[i] != 0) o[kept++] = (scored){score[i], i};
    }
    qsort(o, kept, sizeof *o, by_score_desc);
    double tp = 0, fp = 0;
    size_t m = 0;
    for (size_t r = 0; r < kept; r++) {
        double wi = w ? w[o[r].i] : 1;
        if (pos[o[r].i])
            tp += wi;
        else
            fp += wi;
        if (r + 1 == kept || o[r + 1].s != o[r].s) {
            t[m] = tp;
            f[m] = fp;
            if (th) th[m] = o[r].s;
            m++;
        }
    }
    kn_free(o);
    if (m == 0) {
        kn_free(t), kn_free(f), kn_free(th);
        return kn_fail(KN_ERR_INVALID, "metric: no rows of non-zero weight");
    }
    *tps = t;
    *fps = f;
    if (thr) *thr = th;
    *points = m;
    return KN_OK;
}

static kn_status clf_curve(const unsigned char *pos, const double *score, const double *w, size_t n,
                           double **tps, double **fps, size_t *points)
{
    return clf_curve_at(pos, score, w, n, tps, fps, NULL, points);
}

static kn_status auc_of(const unsigned char *pos, const double *score, const double *w, size_t n,
                        double *out)
{
    double *t, *f;
    size_t m;
    kn_status e = clf_curve(pos, score, w, n, &t, &f, &m);
    if (e != KN_OK) return e;
    double P = t[m - 1], N = f[m - 1];
    if (P <= 0 || N <= 0) {
        kn_free(t);
        kn_free(f);
        return kn_fail(KN_ERR_INVALID, "metric: only one class present; ROC-AUC is not defined");
    }
    /* trapezoids over (fpr, tpr), starting from (0, 0) */
    double *terms = kn_malloc(m * sizeof *terms);
    if (!terms) {
        kn_free(t);
        kn_free(f);
        return KN_ERR_NOMEM;
    }
    double px = 0, py = 0;
    for (size_t i = 0; i < m; i++) {
        double x = f[i] / N, yv = t[i] / P;
        terms[i] = (x - px) * (yv + py) / 2;
        px = x;
        py = yv;
    }
    *out = kn_sum_pairwise(terms, m);
    kn_free(terms);
    kn_free(t);
    kn_free(f);
    return KN_OK;
}

kn_status kn_metric_roc_auc(const int32_t *y, const double *score, const double *w, size_t n,
                            double *out)
{
    kn_status e = check(n, w);
    if (e == KN_OK) e = check_labels(y, NULL, n, 2);
    if (e != KN_OK) return e;
    unsigned char *pos = kn_malloc(n);
    if (!pos) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) pos[i] = y[i] == 1;
    e = auc_of(pos, score, w, n, out);
    kn_free(pos);
    return e;
}

kn_status kn_metric_roc_auc_ovr(const int32_t *y, const double *proba, const double *w, size_t n,
                                size_t k, kn_average avg, double *out)
{
    kn_status e = check(n, w);
    if (e == KN_OK) e = check_labels(y, NULL, n, k);
    if (e != KN_OK) return e;
    if (avg != KN_AVG_MACRO && avg != KN_AVG_WEIGHTED)
        return kn_fail(KN_ERR_INVALID, "metric: one-vs-rest ROC-AUC averages macro or weighted");
    unsigned char *pos = kn_malloc(n);
    double *col = kn_malloc(n * sizeof *col);
    if (!pos || !col) {
        kn_free(pos);
        kn_free(col);
        return KN_ERR_NOMEM;
    }
    double sum = 0, weight = 0;
    for (size_t c = 0; c < k && e == KN_OK; c++) {
        double support = 0, auc = 0;
        for (size_t i = 0; i < n; i++) {
            pos[i] = (size_t)y[i] == c;
            col[i] = proba[i * k + c];
            if (pos[i]) support += w ? w[i] : 1;
        }
        e = auc_of(pos, col, w, n, &auc);
        sum += avg == KN_AVG_WEIGHTED ? auc * support : auc;
        weight += support;
    }
    kn_free(pos);
    kn_free(col);
    if (e == KN_OK) *out = avg == KN_AVG_WEIGHTED ? sum / weight : sum / (double)k;
    return e;
}

kn_status kn_metric_average_precision(const int32_t *y, const double *score, const double *w,
                                      size_t n, double *out)
{
    kn_status e = check(n, w);
    if (e == KN_OK) e = check_labels(y, NULL, n, 2);
    if (e != KN_OK) return e;
    unsigned char *pos = kn_malloc(n);
    if (!pos) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) pos[i] = y[i] == 1;
    double *t, *f;
    size_t m;
    e = clf_curve(pos, score, w, n, &t, &f, &m);
    kn_free(pos);
    if (e != KN_OK) return e;
    double P = t[m - 1], ap = 0, prev_recall = 0;
    if (P > 0)
        for (size_t i = 0; i < m; i++) {
            double recall = t[i] / P, precision = t[i] / (t[i] + f[i]);
            ap += (recall - prev_recall) * precision;
            prev_recall = recall;
        }
    kn_free(t);
    kn_free(f);
    *out = ap; /* no positives: sklearn's curve gives 0 */
    return KN_OK;
}

kn_status kn_metric_log_loss(const int32_t *y, const double *proba, const double *w, size_t n,
                             size_t k, double *out)
{
    double *v = NULL;
    kn_status e = check_labels(y, NULL, n, k);
    if (e == KN_OK) e = rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    const double eps = DBL_EPSILON;
    for (size_t i = 0; i < n; i++) {
        double sum = 0, mine = 0;
        for (size_t c = 0; c < k; c++) {
            double p = fmin(fmax(proba[i * k + c], eps), 1 - eps);
            sum += p;
            if ((size_t)y[i] == c) mine = p;
        }
        v[i] = -log(mine / sum);
    }
    *out = average(v, w, n);
    kn_free(v);
    return KN_OK;
}

kn_status kn_metric_brier(const int32_t *y, const double *score, const double *w, size_t n,
                          double *out)
{
    double *v = NULL;
    kn_status e = check_labels(y, NULL, n, 2);
    if (e == KN_OK) e = rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++) v[i] = (y[i] - score[i]) * (y[i] - score[i]);
    *out = average(v, w, n);
    kn_free(v);
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
    kn_status e = rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++) v[i] = fn(y[i], pred[i]);
    *out = average(v, w, n);
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
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

kn_status kn_metric_median_ae(const double *y, const double *pred, const double *w, size_t n,
                              double *out)
{
    kn_status e = check(n, w);
    if (e != KN_OK) return e;
    scored *v = kn_malloc(n * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) v[i] = (scored){fabs(y[i] - pred[i]), i};
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
    *my = average(v, w, n);
    for (size_t i = 0; i < n; i++) v[i] = y[i] - pred[i];
    *md = average(v, w, n);
    return KN_OK;
}

/* 1 - num/den with sklearn's finite-value rule. */
static double one_minus(double num, double den)
{
    if (den == 0) return num == 0 ? 1 : 0;
    return 1 - num / den;
}

kn_status kn_metric_r2(const double *y, const double *pred, const double *w, size_t n, double *out)
{
    double *v;
    kn_status e = rows_begin(n, w, &v);
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
    double *v;
    kn_status e = rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    double my, md;
    means(y, pred, w, n, &my, &md, v);
    for (size_t i = 0; i < n; i++) {
        double d = y[i] - pred[i] - md;
        v[i] = d * d;
    }
    double num = average(v, w, n);
    for (size_t i = 0; i < n; i++) v[i] = (y[i] - my) * (y[i] - my);
    double den = average(v, w, n);
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
    kn_status e = check(n, w);
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
    *out = average(v, w, n);
    kn_free(v);
    return KN_OK;
}

void kn_curve_free(kn_curve *c)
{
    kn_free(c->x);
    kn_free(c->y);
    kn_free(c->threshold);
    memset(c, 0, sizeof *c);
}

static kn_status curve_alloc(kn_curve *c, size_t n, int thresholds)
{
    memset(c, 0, sizeof *c);
    c->x = kn_malloc((n ? n : 1) * sizeof *c->x);
    c->y = kn_malloc((n ? n : 1) * sizeof *c->y);
    c->threshold = thresholds ? kn_malloc((n ? n : 1) * sizeof *c->threshold) : NULL;
    if (!c->x || !c->y || (thresholds && !c->threshold)) {
        kn_curve_free(c);
        return KN_ERR_NOMEM;
    }
    return KN_OK;
}

/* The positive-class mask of binary labels (checked). */
static kn_status positives(const int32_t *y, const double *w, size_t n, unsigned char **pos)
{
    kn_status e = check(n, w);
    if (e == KN_OK) e = check_labels(y, NULL, n, 2);
    if (e != KN_OK) return e;
    *pos = kn_malloc(n ? n : 1);
    if (!*pos) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) (*pos)[i] = y[i] == 1;
    return KN_OK;
}

kn_status kn_metric_roc_curve(const int32_t *y, const double *score, const double *w, size_t n,
                              int drop_intermediate, kn_curve *out)
{
    unsigned char *pos = NULL;
    double *t = NULL, *f = NULL, *th = NULL;
    size_t m = 0;
    kn_status e = positives(y, w, n, &pos);
    if (e == KN_OK) e = clf_curve_at(pos, score, w, n, &t, &f, &th, &m);
    kn_free(pos);
    if (e != KN_OK) return e;
    /* keep a point only where the curve bends (sklearn's second differences) */
    unsigned char *keep = kn_malloc(m);
    if (!keep) e = KN_ERR_NOMEM;
    for (size_t i = 0; keep && i < m; i++)
        keep[i] = !drop_intermediate || m <= 2 || i == 0 || i == m - 1 ||
                  (f[i + 1] - f[i]) - (f[i] - f[i - 1]) != 0 ||
                  (t[i + 1] - t[i]) - (t[i] - t[i - 1]) != 0;
    size_t kept = 0;
    for (size_t i = 0; keep && i < m; i++)
        if (keep[i]) {
            t[kept] = t[i], f[kept] = f[i], th[kept] = th[i];
            kept++;
        }
    kn_free(keep);
    if (e == KN_OK) e = curve_alloc(out, kept + 1, 1);
    if (e == KN_OK) {
        double P = t[kept - 1], N = f[kept - 1];
        out->n = kept + 1;
        out->x[0] = N > 0 ? 0 : NAN;
        out->y[0] = P > 0 ? 0 : NAN;
        out->threshold[0] = th[0] + 1;
        for (size_t i = 0; i < kept; i++) {
            out->x[i + 1] = N > 0 ? f[i] / N : NAN;
            out->y[i + 1] = P > 0 ? t[i] / P : NAN;
            out->threshold[i + 1] = th[i];
        }
    }
    kn_free(t), kn_free(f), kn_free(th);
    return e;
}

kn_status kn_metric_pr_curve(const int32_t *y, const double *score, const double *w, size_t n,
                             kn_curve *out)
{
    unsigned char *pos = NULL;
    double *t = NULL, *f = NULL, *th = NULL;
    size_t m = 0;
    kn_status e = positives(y, w, n, &pos);
    if (e == KN_OK) e = clf_curve_at(pos, score, w, n, &t, &f, &th, &m);
    kn_free(pos);
    if (e == KN_OK) e = curve_alloc(out, m + 1, 1);
    if (e == KN_OK) {
        /* from the lowest threshold up, then the (recall 0, precision 1) end */
        double P = t[m - 1];
        out->n = m + 1;
        for (size_t r = 0; r < m; r++) {
            size_t i = m - 1 - r;
            double all = t[i] + f[i];
            out->y[r] = all != 0 ? t[i] / all : 0;
            out->x[r] = P != 0 ? t[i] / P : 1;
            out->threshold[r] = th[i];
        }
        out->y[m] = 1;
        out->x[m] = 0;
        out->threshold[m] = NAN;
    }
    kn_free(t), kn_free(f), kn_free(th);
    return e;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

kn_status kn_metric_calibration_curve(const int32_t *y, const double *prob, size_t n, size_t bins,
                                      int quantile, kn_curve *out)
{
    kn_status e = check(n, NULL);
    if (e == KN_OK) e = check_labels(y, NULL, n, 2);
    if (e != KN_OK) return e;
    if (bins < 1) return kn_fail(KN_ERR_INVALID, "metric: a calibration curve needs >= 1 bin");
    for (size_t i = 0; i < n; i++)
        if (!(prob[i] >= 0 && prob[i] <= 1))
            return kn_fail(KN_ERR_INVALID, "metric: probability of row %zu is %g, outside [0, 1]",
                           i + 1, prob[i]);
    double *edge = kn_malloc((bins + 1) * sizeof *edge), *sorted = NULL;
    double *sum = kn_calloc(bins, sizeof *sum), *hit = kn_calloc(bins, sizeof *hit);
    double *cnt = kn_calloc(bins, sizeof *cnt);
    e = edge && sum && hit && cnt ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && quantile) {
        /* numpy.percentile, linear interpolation */
        if (!(sorted = kn_malloc(n * sizeof *sorted))) e = KN_ERR_NOMEM;
        if (e == KN_OK) {
            memcpy(sorted, prob, n * sizeof *sorted);
            qsort(sorted, n, sizeof *sorted, cmp_double);
            for (size_t b = 0; b <= bins; b++) { /* the same roundings as NumPy */
                double pct = (b == bins ? 1.0 : (double)b * (1.0 / (double)bins)) * 100;
                double pos = pct / 100 * (double)(n - 1);
                size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
                double t = pos - (double)lo, diff = sorted[hi] - sorted[lo];
                edge[b] = t >= 0.5 ? sorted[hi] - diff * (1 - t) : sorted[lo] + diff * t;
            }
        }
    } else if (e == KN_OK)
        for (size_t b = 0; b <= bins; b++) /* numpy.linspace(0, 1, bins + 1) */
            edge[b] = b == bins ? 1.0 : (double)b * (1.0 / (double)bins);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        size_t b = 0; /* inner edges strictly below the value (searchsorted, left) */
        while (b + 1 < bins && edge[b + 1] < prob[i]) b++;
        sum[b] += prob[i];
        hit[b] += y[i] == 1;
        cnt[b]++;
    }
    size_t used = 0;
    for (size_t b = 0; e == KN_OK && b < bins; b++) used += cnt[b] > 0;
    if (e == KN_OK) e = curve_alloc(out, used, 0);
    if (e == KN_OK) {
        out->n = 0;
        for (size_t b = 0; b < bins; b++) {
            if (cnt[b] == 0) continue;
            out->x[out->n] = sum[b] / cnt[b];
            out->y[out->n] = hit[b] / cnt[b];
            out->n++;
        }
    }
    kn_free(edge), kn_free(sorted), kn_free(sum), kn_free(hit), kn_free(cnt);
    return e;
}
