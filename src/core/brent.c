/* Bracketing and Brent's minimiser (see kiln/brent.h). Comparisons and the
 * order of floating-point operations are kept as in the textbook algorithm
 * (Brent 1973; Press et al., "Numerical Recipes", mnbrak/brent) so results are
 * reproducible against other implementations of it. */
#include "kiln/brent.h"

#include <math.h>

#define GOLD 1.618034    /* growth ratio of the bracket search */
#define CGOLD 0.3819660  /* golden-section fraction */
#define TINY_DENOM 1e-21 /* guards the parabola through three points */
#define GROW_LIMIT 110.0 /* largest parabolic jump, in bracket widths */
#define BRACKET_STEPS 1000
#define TOL 1.48e-8
#define MIN_TOL 1.0e-11
#define MAX_ITER 500

typedef struct bracket {
    double xa, xb, xc, fa, fb, fc;
    int calls;
} bracket;

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Grow (xa, xb) downhill until f(xb) is below both f(xa) and f(xc). */
static kn_status find_bracket(kn_brent_fn f, void *ctx, double xa, double xb, bracket *out)
{
    double fa = f(xa, ctx), fb = f(xb, ctx);
    if (fa < fb) {
        swap(&xa, &xb);
        swap(&fa, &fb);
    }
    double xc = xb + GOLD * (xb - xa), fc = f(xc, ctx);
    int calls = 3, steps = 0;
    while (fc < fb) {
        double t1 = (xb - xa) * (fb - fc), t2 = (xb - xc) * (fb - fa), val = t2 - t1;
        double denom = fabs(val) < TINY_DENOM ? 2.0 * TINY_DENOM : 2.0 * val;
        double w = xb - ((xb - xc) * t2 - (xb - xa) * t1) / denom;
        double wlim = xb + GROW_LIMIT * (xc - xb), fw;
        if (++steps > BRACKET_STEPS || !isfinite(xc))
            return kn_fail(KN_ERR_RANGE,
                           "minimiser: no minimum found (the function keeps "
                           "decreasing past %g)",
                           xc);
        if ((w - xc) * (xb - w) > 0.0) { /* parabola vertex between xb and xc */
            fw = f(w, ctx);
            calls++;
            if (fw < fc) {
                xa = xb;
                xb = w;
                fa = fb;
                fb = fw;
                goto done;
            }
            if (fw > fb) {
                xc = w;
                fc = fw;
                goto done;
            }
            w = xc + GOLD * (xc - xb);
            fw = f(w, ctx);
            calls++;
        } else if ((w - wlim) * (wlim - xc) >= 0.0) { /* vertex beyond the limit */
            w = wlim;
            fw = f(w, ctx);
            calls++;
        } else if ((w - wlim) * (xc - w) > 0.0) { /* vertex between xc and the limit */
            fw = f(w, ctx);
            calls++;
            if (fw < fc) {
                xb = xc;
                xc = w;
                w = xc + GOLD * (xc - xb);
                fb = fc;
                fc = fw;
                fw = f(w, ctx);
                calls++;
            }
        } else {
            w = xc + GOLD * (xc - xb);
            fw = f(w, ctx);
            calls++;
        }
        xa = xb;
        xb = xc;
        xc = w;
        fa = fb;
        fb = fc;
        fc = fw;
    }
done:
    if (isnan(fa) || isnan(fb) || isnan(fc))
        return kn_fail(KN_ERR_RANGE, "minimiser: the function returned NaN near %g", xb);
    *out = (bracket){xa, xb, xc, fa, fb, fc, calls};
    return KN_OK;
}

kn_status kn_brent_minimize(kn_brent_fn f, void *ctx, double xa, double xb, kn_brent_result *out)
{
    bracket br = {0};
    kn_status e = find_bracket(f, ctx, xa, xb, &br);
    if (e != KN_OK) return e;
    double x = br.xb, w = br.xb, v = br.xb, fx = br.fb, fw = br.fb, fv = br.fb;
    double a = br.xa < br.xc ? br.xa : br.xc, b = br.xa < br.xc ? br.xc : br.xa;
    double deltax = 0.0, rat = 0.0;
    int iter = 0, calls = br.calls;
    while (iter < MAX_ITER) {
        double tol1 = TOL * fabs(x) + MIN_TOL, tol2 = 2.0 * tol1, xmid = 0.5 * (a + b);
        if (fabs(x - xmid) < (tol2 - 0.5 * (b - a))) break;
        if (fabs(deltax) <= tol1) { /* golden-section step */
            deltax = x >= xmid ? a - x : b - x;
            rat = CGOLD * deltax;
        } else { /* try a parabola through x, w, v */
            double t1 = (x - w) * (fx - fv), t2 = (x - v) * (fx - fw);
            double p = (x - v) * t2 - (x - w) * t1;
            t2 = 2.0 * (t2 - t1);
            if (t2 > 0.0) p = -p;
            t2 = fabs(t2);
            double dx_prev = deltax;
            deltax = rat;
            if (p > t2 * (a - x) && p < t2 * (b - x) && fabs(p) < fabs(0.5 * t2 * dx_prev)) {
                rat = p * 1.0 / t2;
                double u = x + rat;
                if ((u - a) < tol2 || (b - u) < tol2) rat = xmid - x >= 0 ? tol1 : -tol1;
            } else {
                deltax = x >= xmid ? a - x : b - x;
                rat = CGOLD * deltax;
            }
        }
        double u = fabs(rat) < tol1 ? (rat >= 0 ? x + tol1 : x - tol1) : x + rat;
        double fu = f(u, ctx);
        calls++;
        if (fu > fx) {
            if (u < x)
                a = u;
            else
                b = u;
            if (fu <= fw || w == x) {
                v = w;
                w = u;
                fv = fw;
                fw = fu;
            } else if (fu <= fv || v == x || v == w) {
                v = u;
                fv = fu;
            }
        } else {
            if (u >= x)
                a = x;
            else
                b = x;
            v = w;
            w = x;
            x = u;
            fv = fw;
            fw = fx;
            fx = fu;
        }
        iter++;
    }
    *out = (kn_brent_result){x, fx, iter, calls};
    return KN_OK;
}
