/* Distribution tails for significance tests: Student's t, Snedecor's F,
 * the binomial, through the regularized incomplete beta function I_x(a, b)
 * (its continued fraction, modified Lentz method). Pure functions of their
 * arguments, thread-safe; NaN for arguments out of their domain.
 *
 *     double p = 2 * (1 - kn_student_t_cdf(fabs(t), df));   // two-sided
 *     double q = kn_f_sf(f, 2, 175);                        // P(F > f)
 */
#ifndef KILN_DISTRIB_H
#define KILN_DISTRIB_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]. */
KN_API double kn_incbeta(double a, double b, double x);
/* Student's t cumulative distribution P(T <= t) with df degrees of freedom. */
KN_API double kn_student_t_cdf(double t, double df);
/* The upper tail P(F > f) of the F distribution with (d1, d2) degrees of freedom. */
KN_API double kn_f_sf(double f, double d1, double d2);
/* P(X <= k) for X binomial with n trials of success probability q. */
KN_API double kn_binom_cdf(double k, double n, double q);

#ifdef __cplusplus
}
#endif
#endif
