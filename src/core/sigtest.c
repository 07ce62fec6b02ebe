/* Paired significance tests (kiln/sigtest.h); the distributions they need
 * are in distrib.c. */
#include "kiln/sigtest.h"
#include "kiln/distrib.h"

#include <math.h>

kn_status kn_paired_ttest(const double *a, const double *b, size_t k, double test_train_ratio,
                          kn_paired_test *out)
{
    if (k < 2)
        return kn_fail(KN_ERR_INVALID, "a paired test needs scores on 2 or more folds (got %zu)",
                       k);
    if (!(test_train_ratio >= 0) || !isfinite(test_train_ratio))
        return kn_fail(KN_ERR_INVALID, "paired test: test/train ratio %g is not a number >= 0",
                       test_train_ratio);
    double mean = 0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i]))
            return kn_fail(KN_ERR_INVALID, "paired test: fold %zu has no finite score", i);
        mean += a[i] - b[i];
    }
    mean /= (double)k;
    double ss = 0;
    for (size_t i = 0; i < k; i++) {
        double d = a[i] - b[i] - mean;
        ss += d * d;
    }
    double var = ss / (double)(k - 1);
    out->k = k;
    out->mean_diff = mean;
    out->sd_diff = sqrt(var);
    out->df = (double)(k - 1);
    double se = sqrt((1.0 / (double)k + test_train_ratio) * var);
    if (se == 0) { /* every fold differs by the same amount */
        out->t = mean == 0 ? 0 : (mean > 0 ? INFINITY : -INFINITY);
        out->p_value = mean == 0 ? 1 : 0;
        return KN_OK;
    }
    out->t = mean / se;
    out->p_value = kn_incbeta(out->df / 2, 0.5, out->df / (out->df + out->t * out->t));
    return KN_OK;
}

kn_status kn_ttest_5x2cv(const double *a, const double *b, kn_paired_test *out)
{
    double var = 0, first = 0, sum = 0, ss = 0;
    for (size_t i = 0; i < 5; i++) {
        double d1 = a[2 * i] - b[2 * i], d2 = a[2 * i + 1] - b[2 * i + 1];
        if (!isfinite(d1) || !isfinite(d2))
            return kn_fail(KN_ERR_INVALID, "5x2cv test: repetition %zu has no finite score", i + 1);
        double m = (d1 + d2) / 2;
        var += (d1 - m) * (d1 - m) + (d2 - m) * (d2 - m);
        if (i == 0) first = d1;
        sum += d1 + d2;
    }
    out->k = 10;
    out->df = 5;
    out->mean_diff = sum / 10;
    for (size_t i = 0; i < 10; i++) {
        double d = a[i] - b[i] - out->mean_diff;
        ss += d * d;
    }
    out->sd_diff = sqrt(ss / 9);
    if (var == 0) {
        out->t = first == 0 ? 0 : (first > 0 ? INFINITY : -INFINITY);
        out->p_value = first == 0 ? 1 : 0;
        return KN_OK;
    }
    out->t = first / sqrt(var / 5);
    out->p_value = kn_incbeta(2.5, 0.5, 5 / (5 + out->t * out->t));
    return KN_OK;
}

kn_status kn_mcnemar(size_t a_only, size_t b_only, kn_mcnemar_test *out)
{
    double b = (double)a_only, c = (double)b_only, n = b + c;
    out->a_only = a_only;
    out->b_only = b_only;
    if (n == 0) {
        out->statistic = 0;
        out->p_chi2 = out->p_exact = 1;
        return KN_OK;
    }
    double d = fabs(b - c) - 1;
    if (d < 0) d = 0;
    out->statistic = d * d / n;
    out->p_chi2 = erfc(sqrt(out->statistic / 2)); /* chi-square sf, 1 degree */
    double p = 2 * kn_binom_cdf(b < c ? b : c, n, 0.5);
    out->p_exact = p > 1 ? 1 : p;
    return KN_OK;
}
