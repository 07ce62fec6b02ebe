/* Limited-memory BFGS for smooth unconstrained minimisation (see
 * learn-impl.h): the two-loop recursion over the last 10 (step, gradient
 * change) pairs, a line search for the strong Wolfe conditions, and the
 * stopping rules of SciPy's L-BFGS-B: the largest gradient component below
 * gtol, or a relative decrease of the objective below ftol (0: off). When no
 * step decreases the objective any more (its rounding floor), the run counts
 * as converged if the gradient is within 1e-8 of the objective's scale. */
#include "kiln/progress.h"
#include "kiln/ctx.h"
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

/* d = -H g by the two-loop recursion over the stored pairs (q: scratch). */
static void two_loop(const double *S, const double *Y, const double *rho, double *alpha,
                     size_t stored, size_t head, const double *g, double *q, double *d, size_t n)
{
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
}

/* Store the pair (xn - x, gn - g) when it has positive curvature (the
 * oldest is overwritten), then move x, g to xn, gn. */
static void accept_step(double *S, double *Y, double *rho, size_t *stored, size_t *head, double *x,
                        const double *xn, double *g, const double *gn, size_t n)
{
    size_t i = *head;
    for (size_t j = 0; j < n; j++) {
        S[i * n + j] = xn[j] - x[j];
        Y[i * n + j] = gn[j] - g[j];
    }
    double sy = dot(S + i * n, Y + i * n, n);
    if (sy > 1e-300) {
        rho[i] = 1 / sy;
        *head = (*head + 1) % MEMORY;
        if (*stored < MEMORY) (*stored)++;
    }
    memcpy(x, xn, n * sizeof *x);
    memcpy(g, gn, n * sizeof *g);
}

static kn_status not_finite(double f)
{
    return kn_fail(KN_ERR_RANGE,
                   "optimiser: the objective is not finite (%g); scale the features or "
                   "strengthen the penalty",
                   f);
}

/* phi(t) = f(x + t d) and its slope g(x + t d).d, evaluated into xn, gn. */
typedef struct line {
    kn__objective fn;
    void *ctx;
    const double *x, *d;
    double *xn, *gn;
    size_t n;
} line;

static double eval_at(const line *L, double t, double *slope)
{
    for (size_t j = 0; j < L->n; j++) L->xn[j] = L->x[j] + t * L->d[j];
    double f = L->fn(L->ctx, L->xn, L->gn);
    *slope = dot(L->gn, L->d, L->n);
    return f;
}

/* The minimiser of the cubic through (a, fa, da) and (b, fb, db), kept
 * inside the middle 80 % of [a, b]; bisection when the cubic has none. */
static double cubic_step(double a, double fa, double da, double b, double fb, double db)
{
    double lo = fmin(a, b), hi = fmax(a, b), w = hi - lo, mid = 0.5 * (a + b);
    double d1 = da + db - 3 * (fa - fb) / (a - b), disc = d1 * d1 - da * db;
    if (!isfinite(d1) || !isfinite(disc) || disc < 0) return mid;
    double d2 = copysign(sqrt(disc), b - a), den = db - da + 2 * d2;
    if (den == 0) return mid;
    double t = b - (b - a) * (db + d2 - d1) / den;
    if (!isfinite(t) || t < lo + 0.1 * w || t > hi - 0.1 * w) return mid;
    return t;
}

#define C1 1e-4 /* sufficient decrease */
#define C2 0.9  /* curvature (strong Wolfe), the usual choice for quasi-Newton */

/* A step satisfying the strong Wolfe conditions (Nocedal & Wright,
 * algorithms 3.5 and 3.6, with cubic interpolation): the curvature
 * condition keeps the pairs stored by L-BFGS informative, which plain
 * backtracking does not on ill-conditioned problems. On success the new
 * point, gradient and value are in xn, gn, *f_out; 0 when no step of
 * sufficient decrease was found (the precision floor of f). */
static int wolfe_search(kn__objective fn, void *ctx, const double *x, const double *d, size_t n,
                        double f0, double slope0, double t, double *xn, double *gn, double *f_out)
{
    line L = {fn, ctx, x, d, xn, gn, n};
    double t_prev = 0, f_prev = f0, s_prev = slope0;
    double lo = 0, f_lo = f0, s_lo = slope0, hi = 0, f_hi = 0, s_hi = 0;
    int bracketed = 0;
    for (int i = 0; i < 40 && !bracketed; i++) {
        double s, f = eval_at(&L, t, &s);
        if (!isfinite(f) || f > f0 + C1 * t * slope0 || (i > 0 && f >= f_prev)) {
            lo = t_prev, f_lo = f_prev, s_lo = s_prev, hi = t, f_hi = f, s_hi = s;
            bracketed = 1;
        } else if (fabs(s) <= -C2 * slope0) {
            *f_out = f;
            return 1;
        } else if (s >= 0) {
            lo = t, f_lo = f, s_lo = s, hi = t_prev, f_hi = f_prev, s_hi = s_prev;
            bracketed = 1;
        } else {
            t_prev = t, f_prev = f, s_prev = s;
            t *= 4;
        }
    }
    if (!bracketed) { /* still descending after 40 expansions: take the last point */
        double s, f = eval_at(&L, t_prev, &s);
        *f_out = f;
        return t_prev > 0 && isfinite(f);
    }
    for (int j = 0; j < 60; j++) {
        if (fabs(hi - lo) <= 1e-16 * fmax(fabs(lo), fabs(hi))) break;
        t = cubic_step(lo, f_lo, s_lo, hi, f_hi, s_hi);
        double s, f = eval_at(&L, t, &s);
        if (!isfinite(f) || f > f0 + C1 * t * slope0 || f >= f_lo) {
            hi = t, f_hi = f, s_hi = s;
        } else {
            if (fabs(s) <= -C2 * slope0) {
                *f_out = f;
                return 1;
            }
            if (s * (hi - lo) >= 0) hi = lo, f_hi = f_lo, s_hi = s_lo;
            lo = t, f_lo = f, s_lo = s;
        }
    }
    /* the interval collapsed: the best point of sufficient decrease, if any */
    if (lo <= 0) return 0;
    double s;
    *f_out = eval_at(&L, lo, &s);
    return isfinite(*f_out) && *f_out < f0;
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
    kn_progress progress;
    kn_progress_begin(&progress, "L-BFGS", "iteration", (uint64_t)max_iter);
    while (iter < max_iter) {
        kn_progress_step(&progress, 1);
        if ((e = kn_ctx_check()) != KN_OK) break;
        if (!isfinite(f)) {
            e = not_finite(f);
            break;
        }
        if (max_abs(g, n) <= gtol) {
            converged = 1;
            break;
        }
        two_loop(S, Y, rho, alpha, stored, head, g, q, d, n);
        double slope = dot(g, d, n);
        if (slope >= 0) { /* not a descent direction: restart from the gradient */
            for (size_t j = 0; j < n; j++) d[j] = -g[j];
            slope = dot(g, d, n);
            stored = 0;
        }
        double t0 = iter == 0 && !stored ? fmin(1.0, 1.0 / fmax(max_abs(g, n), 1e-300)) : 1.0;
        double fn_new = f;
        int ok = wolfe_search(fn, ctx, x, d, n, f, slope, t0, xn, gn, &fn_new);
        iter++;
        if (!ok) { /* no decrease possible: the precision floor of f */
            converged = max_abs(g, n) <= fmax(gtol, 1e-8 * (1 + fabs(f)));
            break;
        }
        accept_step(S, Y, rho, &stored, &head, x, xn, g, gn, n);
        double f_old = f;
        f = fn_new;
        if (ftol > 0 && (f_old - f) / fmax(fmax(fabs(f_old), fabs(f)), 1) <= ftol) {
            converged = 1;
            break;
        }
    }
    kn_progress_end(&progress);
    if (e == KN_OK && max_abs(g, n) <= gtol) converged = 1;
    res->iterations = iter;
    res->f = f;
    res->grad_norm = max_abs(g, n);
    res->converged = converged;
    kn_free(mem);
    return e;
}

/* The pseudo-gradient of f + lambda |x[0..m)|_1: the gradient plus the
 * penalty's slope, at zero the side that descends (0 when neither does). */
static void pseudo_gradient(const double *x, const double *g, size_t n, size_t m, double lambda,
                            double *pg)
{
    for (size_t j = 0; j < n; j++) {
        if (j >= m || x[j] != 0) {
            pg[j] = j >= m ? g[j] : g[j] + (x[j] > 0 ? lambda : -lambda);
            continue;
        }
        double right = g[j] + lambda, left = g[j] - lambda;
        pg[j] = right < 0 ? right : left > 0 ? left : 0;
    }
}

static double l1_norm(const double *x, size_t m)
{
    double s = 0;
    for (size_t j = 0; j < m; j++) s += fabs(x[j]);
    return s;
}

kn_status kn__owlqn(kn__objective fn, void *ctx, double *x, size_t n, size_t m, double lambda,
                    int max_iter, double gtol, kn__lbfgs_result *res)
{
    double *mem = kn_malloc((2 * MEMORY * n + 7 * n + 2 * MEMORY + 1) * sizeof *mem);
    if (!mem) return KN_ERR_NOMEM;
    double *S = mem, *Y = S + MEMORY * n, *g = Y + MEMORY * n, *d = g + n, *xn = d + n,
           *gn = xn + n, *q = gn + n, *pg = q + n, *orth = pg + n, *rho = orth + n,
           *alpha = rho + MEMORY;
    size_t stored = 0, head = 0;
    double f = fn(ctx, x, g), F = f + lambda * l1_norm(x, m);
    int iter = 0, converged = 0;
    kn_status e = KN_OK;
    pseudo_gradient(x, g, n, m, lambda, pg);
    kn_progress progress;
    kn_progress_begin(&progress, "L-BFGS", "iteration", (uint64_t)max_iter);
    while (iter < max_iter) {
        kn_progress_step(&progress, 1);
        if ((e = kn_ctx_check()) != KN_OK) break;
        if (!isfinite(F)) {
            e = not_finite(F);
            break;
        }
        if (max_abs(pg, n) <= gtol) {
            converged = 1;
            break;
        }
        two_loop(S, Y, rho, alpha, stored, head, pg, q, d, n);
        /* keep the direction in the orthant the pseudo-gradient descends into */
        for (size_t j = 0; j < n; j++) {
            if (d[j] * pg[j] >= 0) d[j] = 0;
            orth[j] = x[j] != 0 ? (x[j] > 0 ? 1 : -1) : (pg[j] < 0 ? 1 : pg[j] > 0 ? -1 : 0);
        }
        double t = iter == 0 && !stored ? fmin(1.0, 1.0 / fmax(max_abs(pg, n), 1e-300)) : 1.0;
        double Fn = F, fn_new = f;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++, t *= 0.5) {
            double decrease = 0;
            for (size_t j = 0; j < n; j++) {
                double v = x[j] + t * d[j];
                if (j < m && v * orth[j] <= 0) v = 0; /* stay in the orthant */
                xn[j] = v;
                decrease += pg[j] * (v - x[j]);
            }
            fn_new = fn(ctx, xn, gn);
            Fn = fn_new + lambda * l1_norm(xn, m);
            if (isfinite(Fn) && Fn < F && Fn <= F + 1e-4 * decrease) {
                ok = 1;
                break;
            }
        }
        iter++;
        if (!ok) { /* the rounding floor of the objective */
            converged = max_abs(pg, n) <= fmax(gtol, 1e-8 * (1 + fabs(F)));
            break;
        }
        accept_step(S, Y, rho, &stored, &head, x, xn, g, gn, n);
        f = fn_new;
        F = Fn;
        pseudo_gradient(x, g, n, m, lambda, pg);
    }
    kn_progress_end(&progress);
    if (e == KN_OK && max_abs(pg, n) <= gtol) converged = 1;
    res->iterations = iter;
    res->f = F;
    res->grad_norm = max_abs(pg, n);
    res->converged = converged;
    kn_free(mem);
    return e;
}
