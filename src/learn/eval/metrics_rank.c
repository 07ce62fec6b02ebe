/* Metrics of scores and probabilities (see kiln/metrics.h): the ranking
 * metrics (ROC-AUC, average precision), log loss and Brier, and the curves
 * (ROC, precision-recall, calibration) that share the ranking code. */
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/sum.h"
#include "learn/eval/metrics-impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranking ---- */

static int by_score_desc(const void *a, const void *b)
{
    const kn__scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Cumulative weighted positives and negatives at each distinct score, from
 * the highest (sklearn's _binary_clf_curve; rows of weight 0 left out, as
 * sklearn does), and the score there when thr is not NULL. */
static kn_status clf_curve_at(const unsigned char *pos, const double *score, const double *w,
                              size_t n, double **tps, double **fps, double **thr, size_t *points)
{
    kn__scored *o = kn_malloc((n ? n : 1) * sizeof *o);
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
        if (!w || w[i] != 0) o[kept++] = (kn__scored){score[i], i};
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
    kn_status e = kn__metric_check(n, w);
    if (e == KN_OK) e = kn__metric_check_labels(y, NULL, n, 2);
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
    kn_status e = kn__metric_check(n, w);
    if (e == KN_OK) e = kn__metric_check_labels(y, NULL, n, k);
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
    kn_status e = kn__metric_check(n, w);
    if (e == KN_OK) e = kn__metric_check_labels(y, NULL, n, 2);
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
    kn_status e = kn__metric_check_labels(y, NULL, n, k);
    if (e == KN_OK) e = kn__metric_rows_begin(n, w, &v);
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
    *out = kn__metric_average(v, w, n);
    kn_free(v);
    return KN_OK;
}

kn_status kn_metric_brier(const int32_t *y, const double *score, const double *w, size_t n,
                          double *out)
{
    double *v = NULL;
    kn_status e = kn__metric_check_labels(y, NULL, n, 2);
    if (e == KN_OK) e = kn__metric_rows_begin(n, w, &v);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++) v[i] = (y[i] - score[i]) * (y[i] - score[i]);
    *out = kn__metric_average(v, w, n);
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
    kn_status e = kn__metric_check(n, w);
    if (e == KN_OK) e = kn__metric_check_labels(y, NULL, n, 2);
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
    kn_status e = kn__metric_check(n, NULL);
    if (e == KN_OK) e = kn__metric_check_labels(y, NULL, n, 2);
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
