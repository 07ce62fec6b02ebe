/* Limited-memory BFGS for smooth unconstrained minimisation (see
 * learn-impl.h): the two-loop recursion over the last 10 (step, gradient
 * change) pairs, a backtracking line search on the Armijo condition, and the
 * stopping rules of SciPy's L-BFGS-B: the largest gradient component below
 * gtol, or a relative decrease of the objective below ftol (0: off). When no
 * step decreases the objective any more (its rounding floor), the run counts
 * as converged if the gradient is within 1e-8 of the objective's scale. */
#include "kiln/mem.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

#define MEMORY 10

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

kn_status kn__lbfgs(kn__objective fn, void *ctx, double *x, size_t n, int max_iter, double gtol,
                    double ftol, kn__lbfgs_result *res)
{
    double *mem = kn_malloc((2 * MEMORY * n + 5 * n + 2 * MEMORY + 1) * sizeof *mem);
    if (!mem) return KN_ERR_NOMEM;
    double *S = mem, *Y = S + MEMORY * n, *g = Y + MEMORY * n, *d = g + n, *xn = d + n,
           *gn = xn + n, *q = gn + n, *rho = q + n, *alpha = rho + MEMORY;
    size_t stored = 0, head = 0;
    double f = fn(ctx, x, g);
    int iter = 0, converged = 0;
    kn_status e = KN_OK;
    while (iter < max_iter) {
        if (!isfinite(f)) {
            e = kn_fail(KN_ERR_RANGE,
                        "optimiser: the objective is not finite (%g); scale the "
                        "features or strengthen the penalty",
                        f);
            break;
        }
        if (max_abs(g, n) <= gtol) {
            converged = 1;
            break;
        }
        /* d = -H g by the two-loop recursion */
        memcpy(q, g, n * sizeof *q);
        for (size_t k = 0; k < stored; k++) {
            size_t i = (head + MEMORY - 1 - k) % MEMORY;
            alpha[i] = rho[i] * dot(S + i * n, q, n);
            for (size_t j = 0; j < n; j++) q[j] -= alpha[i] * Y[i * n + j];
        }
        double gamma = 1;
        if (stored) {
            size_t last = (head + MEMORY - 1) % MEMORY;
            gamma = dot(S + last * n, Y + last * n, n) / dot(Y + last * n, Y + last * n, n);
        }
        for (size_t j = 0; j < n; j++) q[j] *= gamma;
        for (size_t k = stored; k-- > 0;) {
            size_t i = (head + MEMORY - 1 - k) % MEMORY;
            double beta = rho[i] * dot(Y + i * n, q, n);
            for (size_t j = 0; j < n; j++) q[j] += S[i * n + j] * (alpha[i] - beta);
        }
        for (size_t j = 0; j < n; j++) d[j] = -q[j];
        double slope = dot(g, d, n);
        if (slope >= 0) { /* not a descent direction: restart from the gradient */
            for (size_t j = 0; j < n; j++) d[j] = -g[j];
            slope = dot(g, d, n);
            stored = 0;
        }
        double t = iter == 0 && !stored ? fmin(1.0, 1.0 / fmax(max_abs(g, n), 1e-300)) : 1.0;
        double fn_new = f;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (size_t j = 0; j < n; j++) xn[j] = x[j] + t * d[j];
            fn_new = fn(ctx, xn, gn);
            if (isfinite(fn_new) && fn_new <= f + 1e-4 * t * slope) {
                ok = 1;
                break;
            }
            t *= 0.5;
        }
        iter++;
        if (!ok) { /* no decrease possible: the precision floor of f */
            converged = max_abs(g, n) <= fmax(gtol, 1e-8 * (1 + fabs(f)));
            break;
        }
        size_t i = head;
        for (size_t j = 0; j < n; j++) {
            S[i * n + j] = xn[j] - x[j];
            Y[i * n + j] = gn[j] - g[j];
        }
        double sy = dot(S + i * n, Y + i * n, n);
        if (sy > 1e-300) {
            rho[i] = 1 / sy;
            head = (head + 1) % MEMORY;
            if (stored < MEMORY) stored++;
        }
        double f_old = f;
        memcpy(x, xn, n * sizeof *x);
        memcpy(g, gn, n * sizeof *g);
        f = fn_new;
        if (ftol > 0 && (f_old - f) / fmax(fmax(fabs(f_old), fabs(f)), 1) <= ftol) {
            converged = 1;
            break;
        }
    }
    if (e == KN_OK && max_abs(g, n) <= gtol) converged = 1;
    res->iterations = iter;
    res->f = f;
    res->grad_norm = max_abs(g, n);
    res->converged = converged;
    kn_free(mem);
    return e;
}
