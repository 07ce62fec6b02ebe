/* Newton's method with a backtracking line search (see learn-impl.h): the
 * step solves H d = -g by Cholesky (LAPACK dposv; a gradient step when H is
 * not positive definite), halves until the objective falls by the Armijo
 * condition, and the Hessian comes with every accepted evaluation, so an
 * iteration costs one pass over the data when the full step is taken. */
#include "kiln/progress.h"
#include "kiln/ctx.h"
#include "kiln/mem.h"
#include "learn/learn-impl.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

kn_status kn__newton(kn__objective_hess fn, void *ctx, double *x, size_t q, int max_iter,
                     double tol, kn__lbfgs_result *res)
{
    double *g = kn_malloc(q * sizeof *g), *H = kn_malloc(q * q * sizeof *H);
    double *Hc = kn_malloc(q * q * sizeof *Hc), *dir = kn_malloc(q * sizeof *dir);
    double *xn = kn_malloc(q * sizeof *xn), *gn = kn_malloc(q * sizeof *gn);
    double *Hn = kn_malloc(q * q * sizeof *Hn);
    if (!g || !H || !Hc || !dir || !xn || !gn || !Hn) {
        kn_free(g), kn_free(H), kn_free(Hc), kn_free(dir), kn_free(xn), kn_free(gn), kn_free(Hn);
        return KN_ERR_NOMEM;
    }
    double f = fn(ctx, x, g, H);
    int it = 0, converged = 0;
    kn_status e = KN_OK;
    kn_progress progress;
    kn_progress_begin(&progress, "Newton", "iteration", (uint64_t)max_iter);
    while (it < max_iter) {
        kn_progress_step(&progress, 1);
        if ((e = kn_ctx_check()) != KN_OK) break;
        if (!isfinite(f)) {
            e = kn_fail(KN_ERR_RANGE, "optimiser: the objective is not finite; scale the features");
            break;
        }
        if (max_abs(g, q) <= tol) {
            converged = 1;
            break;
        }
        memcpy(Hc, H, q * q * sizeof *Hc);
        for (size_t j = 0; j < q; j++) dir[j] = -g[j];
        lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', (lapack_int)q, 1, Hc, (lapack_int)q,
                                        dir, (lapack_int)q);
        if (info != 0) /* singular (collinear features, no penalty): a gradient step */
            for (size_t j = 0; j < q; j++) dir[j] = -g[j];
        double slope = 0;
        for (size_t j = 0; j < q; j++) slope += g[j] * dir[j];
        /* the Newton decrement -slope / 2 is the decrease left: below the
         * rounding of f no step can show progress; as converged as doubles allow */
        if (info == 0 && -slope <= 8 * DBL_EPSILON * (1 + fabs(f))) {
            converged = 1;
            break;
        }
        double t = 1, fn_new = f;
        int ok = 0;
        for (int ls = 0; ls < 50; ls++, t *= 0.5) {
            for (size_t j = 0; j < q; j++) xn[j] = x[j] + t * dir[j];
            fn_new = fn(ctx, xn, gn, Hn);
            if (isfinite(fn_new) && fn_new < f && fn_new <= f + 1e-4 * t * slope) {
                ok = 1;
                break;
            }
        }
        it++;
        if (!ok) { /* no decrease left: the objective's rounding floor */
            converged = max_abs(g, q) <= fmax(tol, 1e-8 * (1 + fabs(f)));
            break;
        }
        memcpy(x, xn, q * sizeof *x);
        memcpy(g, gn, q * sizeof *g);
        memcpy(H, Hn, q * q * sizeof *H);
        f = fn_new;
    }
    kn_progress_end(&progress);
    if (e == KN_OK && max_abs(g, q) <= tol) converged = 1;
    res->iterations = it;
    res->converged = converged;
    res->f = f;
    res->grad_norm = max_abs(g, q);
    kn_free(g), kn_free(H), kn_free(Hc), kn_free(dir), kn_free(xn), kn_free(gn), kn_free(Hn);
    return e;
}
