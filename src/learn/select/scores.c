/* The univariate scores of feature selection (kiln/select.h): chi2, the
 * ANOVA and regression F tests, and the correlations the filters use. The
 * sums follow scikit-learn's order of operations (sklearn.feature_selection
 * ._univariate_selection) so the statistics agree to rounding. */
#include "kiln/compare.h"
#include "kiln/distrib.h"
#include "kiln/mem.h"
#include "kiln/select.h"
#include "learn/select/select-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

kn_status kn_select_chi2(const double *x, size_t n, size_t p, const int32_t *y, size_t k,
                         double *score, double *p_value)
{
    if (k < 2) return kn_fail(KN_ERR_INVALID, "chi2 needs a target of 2 or more classes");
    double *count = kn_calloc(k, sizeof *count), *obs = kn_calloc(k, sizeof *obs);
    if (!count || !obs) {
        kn_free(count), kn_free(obs);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) count[y[i]]++;
    kn_status e = KN_OK;
    for (size_t j = 0; j < p && e == KN_OK; j++) {
        const double *v = x + j * n;
        double total = 0;
        memset(obs, 0, k * sizeof *obs);
        for (size_t i = 0; i < n; i++) {
            if (v[i] < 0) {
                e = kn_fail(KN_ERR_INVALID,
                            "chi2 takes non-negative features (counts, frequencies, 0/1); "
                            "feature %zu, row %zu is %g: use f_test or mutual_info, or a "
                            "minmax_scaler step first",
                            j + 1, i + 1, v[i]);
                break;
            }
            obs[y[i]] += v[i];
            total += v[i];
        }
        double chi = 0;
        for (size_t c = 0; c < k; c++) {
            double expect = count[c] / (double)n * total, d = obs[c] - expect;
            chi += d * d / expect;
        }
        score[j] = chi;
        p_value[j] = kn_chi2_sf(chi, (double)(k - 1));
    }
    kn_free(count);
    kn_free(obs);
    return e;
}

kn_status kn_select_f_classif(const double *x, size_t n, size_t p, const int32_t *y, size_t k,
                              double *score, double *p_value)
{
    if (k < 2) return kn_fail(KN_ERR_INVALID, "the F test needs a target of 2 or more classes");
    if (n <= k)
        return kn_fail(KN_ERR_INVALID, "the F test needs more rows (%zu) than classes (%zu)", n, k);
    double *count = kn_calloc(2 * k, sizeof *count), *sum = count + k;
    if (!count) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) count[y[i]]++;
    for (size_t j = 0; j < p; j++) {
        const double *v = x + j * n;
        double ss = 0, all = 0, between = 0;
        memset(sum, 0, k * sizeof *sum);
        for (size_t i = 0; i < n; i++) {
            ss += v[i] * v[i];
            sum[y[i]] += v[i];
        }
        for (size_t c = 0; c < k; c++) all += sum[c];
        double sq_all = all * all, total = ss - sq_all / (double)n;
        for (size_t c = 0; c < k; c++)
            if (count[c] > 0) between += sum[c] * sum[c] / count[c];
        between -= sq_all / (double)n;
        double within = total - between, dfb = (double)(k - 1), dfw = (double)(n - k);
        score[j] = (between / dfb) / (within / dfw);
        p_value[j] = kn_f_sf(score[j], dfb, dfw);
    }
    kn_free(count);
    return KN_OK;
}

double kn__sel_pearson(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= (double)n, mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double da = a[i] - ma, db = b[i] - mb;
        sab += da * db, saa += da * da, sbb += db * db;
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa) / sqrt(sbb) : 0;
}

kn_status kn_select_f_regression(const double *x, size_t n, size_t p, const double *y,
                                 double *score, double *p_value)
{
    if (n < 3) return kn_fail(KN_ERR_INVALID, "the F test needs 3 or more rows (got %zu)", n);
    double df = (double)(n - 2);
    for (size_t j = 0; j < p; j++) {
        double r = kn__sel_pearson(x + j * n, y, n), r2 = r * r;
        score[j] = r2 / (1 - r2) * df;
        p_value[j] = kn_f_sf(score[j], 1, df);
    }
    return KN_OK;
}

double kn__sel_pearson_p(double r, size_t n)
{
    if (n < 3) return NAN;
    double df = (double)(n - 2), r2 = r * r;
    if (r2 >= 1) return 0;
    return kn_f_sf(r2 / (1 - r2) * df, 1, df); /* = the two-sided t test of r */
}

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int by_value(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

kn_status kn__sel_ranks(const double *v, size_t n, double *rank)
{
    keyed *k = kn_malloc((n ? n : 1) * sizeof *k);
    if (!k) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) k[i] = (keyed){v[i], i};
    qsort(k, n, sizeof *k, by_value);
    for (size_t i = 0; i < n;) { /* ties share their average rank (scipy's rankdata) */
        size_t j = i + 1;
        while (j < n && k[j].v == k[i].v) j++;
        double avg = 0.5 * (double)(i + j + 1);
        for (size_t t = i; t < j; t++) rank[k[t].i] = avg;
        i = j;
    }
    kn_free(k);
    return KN_OK;
}

double kn__sel_eta(const double *v, size_t n, const int32_t *y, size_t k, double *sum, double *cnt)
{
    memset(sum, 0, k * sizeof *sum);
    memset(cnt, 0, k * sizeof *cnt);
    double all = 0;
    for (size_t i = 0; i < n; i++) sum[y[i]] += v[i], cnt[y[i]]++, all += v[i];
    double mean = all / (double)n, total = 0, between = 0;
    for (size_t i = 0; i < n; i++) total += (v[i] - mean) * (v[i] - mean);
    for (size_t c = 0; c < k; c++)
        if (cnt[c] > 0) {
            double d = sum[c] / cnt[c] - mean;
            between += cnt[c] * d * d;
        }
    return total > 0 ? sqrt(between / total) : 0;
}
