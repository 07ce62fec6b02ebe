/* Distribution tails (kiln/distrib.h). */
#include "kiln/distrib.h"

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

double kn_f_sf(double f, double d1, double d2)
{
    if (isnan(f) || !(d1 > 0) || !(d2 > 0)) return NAN;
    if (f <= 0) return 1;
    if (isinf(f)) return 0;
    /* P(F > f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2) */
    return kn_incbeta(d2 / 2, d1 / 2, d2 / (d2 + d1 * f));
}

double kn_binom_cdf(double k, double n, double q)
{
    if (isnan(k) || !(n >= 0) || !(q >= 0) || !(q <= 1)) return NAN;
    k = floor(k);
    if (k < 0) return 0;
    if (k >= n) return 1;
    /* P(X <= k) = I_{1-q}(n - k, k + 1) */
    return kn_incbeta(n - k, k + 1, 1 - q);
}
