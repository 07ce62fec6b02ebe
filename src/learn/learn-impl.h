/* Internal: the model components (registered in builtin.c). */
#ifndef KILN_LEARN_IMPL_H
#define KILN_LEARN_IMPL_H

#include "kiln/registry.h"

extern const kn_component kn__linear_regression, kn__ridge, kn__logistic_regression,
    kn__gaussian_nb;

/* A smooth objective: its value at x, and its gradient into grad. */
typedef double (*kn__objective)(void *ctx, const double *x, double *grad);

typedef struct kn__lbfgs_result {
    int iterations, converged;
    double f, grad_norm; /* final value and largest gradient component */
} kn__lbfgs_result;

/* Minimise fn from x (updated in place) by L-BFGS: stops when no gradient
 * component exceeds gtol, the relative decrease falls below ftol, or after
 * max_iter iterations (res->converged tells which). */
kn_status kn__lbfgs(kn__objective fn, void *ctx, double *x, size_t n, int max_iter, double gtol,
                    double ftol, kn__lbfgs_result *res);

#endif
