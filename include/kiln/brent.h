/* One-dimensional minimisation: bracket a minimum by golden-ratio growth from
 * two starting points, then Brent's method (parabolic interpolation guarded by
 * golden-section steps). The arithmetic follows the classic formulation that
 * SciPy's optimize.brent also uses, step for step, so a caller that needs to
 * agree with a scikit-learn fit (PowerTransformer's lambda) lands on the same
 * point, not merely a nearby one.
 *
 *     static double f(double x, void *ctx) { return (x - 1) * (x - 1); }
 *     kn_brent_result r;
 *     kn_brent_minimize(f, NULL, -2, 2, &r);   // r.x == 1 (within tol)
 */
#ifndef KILN_BRENT_H
#define KILN_BRENT_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef double (*kn_brent_fn)(double x, void *ctx);

typedef struct kn_brent_result {
    double x, fx;
    int iterations;  /* Brent iterations after bracketing */
    int evaluations; /* calls of f, bracketing included */
} kn_brent_result;

/* Minimise f from the starting pair (xa, xb): relative tolerance 1.48e-8,
 * at most 500 iterations. KN_ERR_RANGE when no bracket is found (f keeps
 * falling for 1000 growth steps, or returns NaN). */
KN_API kn_status kn_brent_minimize(kn_brent_fn f, void *ctx, double xa, double xb,
                                   kn_brent_result *out);

#ifdef __cplusplus
}
#endif
#endif
