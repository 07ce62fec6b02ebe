/* The corrected resampled paired t-test (Nadeau and Bengio, 2003) and the
 * Student t distribution it needs, through the regularized incomplete beta
 * function (evaluated by its continued fraction with the modified Lentz
 * method). */
#include "kiln/store.h"

#include <math.h>

/* The continued fraction of I_x(a, b) (converges fast for x < (a+1)/(a+b+2)):
 * 1 / (1 + d1 / (1 + d2 / (1 + ...))) with
 * d(2m+1) = -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)), d(2m) = m(b-m)x / ((a+2m-1)(a+2m)). */
static double beta_fraction(double a, double b, double x)
{
    /* Lentz's method on 1 + 1/(1 + d1/(1 + d2/(1 + ...))): the leading 1
     * keeps every partial denominator away from zero; the answer is f - 1. */
    const double tiny = 1e-300, eps = 1e-16;
    double f = 1, c = 1, d = 0;
    for (int i = 0; i <= 400; i++) {
        double m = (double)(i / 2), num;
        if (i == 0)
            num = 1;
        else if (i % 2 == 0)
            num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        else
            num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + num * d;
        if (fabs(d) < tiny) d = tiny;
        d = 1 / d;
        c = 1 + num / c;
        if (fabs(c) < tiny) c = tiny;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1) < eps) break;
    }
    return f - 1;
}

double kn_incbeta(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return NAN;
    if (x == 0 || x == 1) return x;
    /* x^a (1-x)^b / (a B(a, b)), in logarithms */
    double front = exp(a * log(x) + b * log1p(-x) - (lgamma(a) + lgamma(b) - lgamma(a + b)));
    if (x < (a + 1) / (a + b + 2)) return front / a * beta_fraction(a, b, x);
    return 1 - front / b * beta_fraction(b, a, 1 - x);
}

double kn_student_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return t > 0 ? 1 : 0;
    /* P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2) */
    double tail = 0.5 * kn_incbeta(df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1 - tail : tail;
}

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
