/* Internal: binary log-loss gradients for gradient boosting, the pass
 * over every training row each round. Scores become probabilities through
 * an inline exponential (gradients are kept in single precision, so a
 * polynomial of degree 8 is accurate enough), eight rows at a time
 * with AVX-512 where the CPU has it; the portable path performs the same
 * IEEE operations in the same order, so both give the same bits. */
#ifndef KILN_LEARN_LOGLOSS_H
#define KILN_LEARN_LOGLOSS_H

#include "learn/tree/hist_tree.h" /* kn__round_even, kn__quantise */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* max(x, lo) and min(x, hi) as the SSE/AVX max and min compute them */
static inline double kn__at_least(double x, double lo)
{
    return x > lo ? x : lo;
}

static inline double kn__at_most(double x, double hi)
{
    return x < hi ? x : hi;
}

/* e^x, x clamped to [-700, 700]: x = k ln 2 + r with |r| <= ln 2 / 2, e^r
 * by its Taylor polynomial of degree 8 (relative error below 1e-9), times
 * 2^k built in the exponent bits. */
static inline double kn__exp_grad(double x)
{
    x = kn__at_least(kn__at_most(x, 700), -700);
    double k = kn__round_even(x * 1.4426950408889634); /* x / ln 2 */
    double r = x - k * 0.6931471805599453;
    double e_r =
        1 +
        r * (1 +
             r * (1. / 2 +
                  r * (1. / 6 +
                       r * (1. / 24 + r * (1. / 120 +
                                           r * (1. / 720 + r * (1. / 5040 + r * (1. / 40320))))))));
    uint64_t bits = (uint64_t)((int64_t)k + 1023) << 52;
    double two_k;
    memcpy(&two_k, &bits, sizeof two_k);
    return e_r * two_k;
}

/* The gradient and hessian of one row: raw score f, label y (0 or 1),
 * weight w. */
static inline void kn__logloss_row(double f, double y, double w, double *g, double *h)
{
    double pr = 1 / (1 + kn__exp_grad(-f));
    *g = w * (pr - y);
    *h = w * kn__at_least(pr * (1 - pr), 1e-16);
}

/* Rows [0, n) in order: g and h (single precision) from scores f, labels y
 * and weights w (NULL: 1); when q is not NULL, also quantised into q at
 * scales 1 / ig and 1 / ih (of the single-precision values); the largest
 * |g| and |h| (of the double values) raised into *g_max and *h_max. */
void kn__logloss_grads(const double *f, const double *y, const double *w, size_t n, float *g,
                       float *h, int16_t (*q)[2], double ig, double ih, double *g_max,
                       double *h_max);

#endif
