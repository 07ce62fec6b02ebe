/* The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and
 * Kegl, "Algorithms for hyper-parameter optimization", NeurIPS 2011), in its
 * multivariate form (Falkner, Klein and Hutter, "BOHB", ICML 2018).
 *
 * The finished trials are split by loss into the best ones ("good", the
 * best tenth, at most 25, at least one) and the others. Two densities over
 * whole configurations are fitted, l from the good trials and g from the
 * others: each a mixture with one component per trial plus a wide prior
 * component, a component being the product over the parameters of a kernel
 * at the trial's value. A range's kernel is a Gaussian truncated to the
 * range (on the log scale for log ranges) with a width of 0.2 n^(-1/(d+4))
 * of the range (Scott's rule over n trials and d parameters, as BOHB), kept
 * between range/min(100, n+2) and the range; the prior's is centred with
 * the range's width. A choice's kernel puts 1 + 1/(n+1) on the trial's value
 * and 1/(n+1) on each other one (the prior's is uniform). A parameter that
 * was inactive in a trial gets the prior's kernel in that trial's
 * component. Candidates are drawn from l, whole configurations at once, so
 * the parameters that did well together are proposed together, and the one
 * with the largest l/g is proposed; an integer candidate is rounded before
 * it is scored. Parameters are visited in the space's order, so a
 * condition's choice is known before the parameters it governs. */
#include "kiln/ctx.h"
#include "kiln/mem.h"
#include "pipeline/tune-impl.h"
#include "pipeline/tune_search-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { TPE_CANDIDATES = 24 };

/* The range of a range dim in the space the densities live in. */
static void dim_range(const kn__dim *d, double *a, double *b)
{
    double lo = d->lo, hi = d->hi;
    if (d->kind == KN__DIM_INT) lo -= 0.5, hi += 0.5;
    if (d->kind == KN__DIM_LOG || d->log) lo = log(lo), hi = log(hi);
    *a = lo;
    *b = hi;
}

static double to_space(const kn__dim *d, double v)
{
    return d->kind == KN__DIM_LOG || d->log ? log(v) : v;
}

static double from_space(const kn__dim *d, double t)
{
    double v = d->kind == KN__DIM_LOG || d->log ? exp(t) : t;
    if (d->kind == KN__DIM_INT) v = floor(v + 0.5);
    if (v < d->lo) v = d->lo;
    if (v > d->hi) v = d->hi;
    return v;
}

/* A density over configurations: the m trials' values (rows of the space's
 * n dims, transformed; NaN where inactive) and the prior. */
typedef struct mixture {
    const kn_tune_space *sp;
    const double *obs;
    size_t m;
    const double *a, *b; /* each range dim's range */
    double *sigma;       /* each range dim's kernel width */
} mixture;

static void mixture_fit(mixture *mx)
{
    const kn_tune_space *sp = mx->sp;
    double m = (double)mx->m, scott = 0.2 * pow(m > 1 ? m : 1, -1.0 / ((double)sp->n + 4));
    for (size_t i = 0; i < sp->n; i++) {
        double width = mx->b[i] - mx->a[i], s = scott * width;
        double lo = width / (m + 2 < 100 ? m + 2 : 100);
        mx->sigma[i] = s < lo ? lo : s > width ? width : s;
    }
}

/* The log of kernel (mu, s) of range [a, b] at x; mu NaN: the prior's. */
static double range_kernel(double mu, double s, double a, double b, double x)
{
    if (isnan(mu)) mu = 0.5 * (a + b), s = b - a;
    double z = (x - mu) / s;
    double mass = 0.5 * (erf((b - mu) / (s * sqrt(2.0))) - erf((a - mu) / (s * sqrt(2.0))));
    if (mass < 1e-12) mass = 1e-12;
    return -0.5 * z * z - log(s * mass * sqrt(2 * M_PI));
}

/* The log of a choice kernel at value x (mu NaN: the prior's). */
static double choice_kernel(double mu, size_t k, size_t m, double x)
{
    if (isnan(mu)) return -log((double)k);
    double w = 1.0 / (double)(m + 1);
    return log(((x == mu ? 1 : 0) + w) / (1 + (double)k * w));
}

static double mixture_logpdf(const mixture *mx, const double *x)
{
    const kn_tune_space *sp = mx->sp;
    double top = -INFINITY, sum = 0;
    /* two passes (the largest component, then the sum scaled by it) */
    for (int pass = 0; pass < 2; pass++)
        for (size_t c = 0; c <= mx->m; c++) {
            double lc = 0;
            for (size_t i = 0; i < sp->n; i++) {
                if (isnan(x[i])) continue;
                double mu = c < mx->m ? mx->obs[c * sp->n + i] : NAN;
                lc += sp->dim[i].kind == KN__DIM_CHOICE
                          ? choice_kernel(mu, sp->dim[i].n_choices, mx->m, x[i])
                          : range_kernel(mu, mx->sigma[i], mx->a[i], mx->b[i], x[i]);
            }
            if (pass == 0 && lc > top) top = lc;
            if (pass == 1) sum += exp(lc - top);
        }
    return top + log(sum / (double)(mx->m + 1));
}

/* A configuration drawn from mx into x (transformed; integers rounded). */
static void mixture_draw(const mixture *mx, kn_rng *r, double *x)
{
    const kn_tune_space *sp = mx->sp;
    size_t c = (size_t)kn_rng_below(r, mx->m + 1);
    for (size_t i = 0; i < sp->n; i++) {
        const kn__dim *d = &sp->dim[i];
        x[i] = 0; /* parents before children: active() reads only earlier dims */
        if (!kn__tune_active(sp, x, i)) {
            x[i] = NAN;
            continue;
        }
        double mu = c < mx->m ? mx->obs[c * sp->n + i] : NAN;
        if (d->kind == KN__DIM_CHOICE) {
            double w = 1.0 / (double)(mx->m + 1), k = (double)d->n_choices;
            if (!isnan(mu) && kn_rng_uniform(r) * (1 + k * w) < 1)
                x[i] = mu;
            else
                x[i] = (double)kn_rng_below(r, d->n_choices);
            continue;
        }
        double a = mx->a[i], b = mx->b[i], s = mx->sigma[i], t = NAN;
        if (isnan(mu)) mu = 0.5 * (a + b), s = b - a;
        for (int tries = 0; tries < 64 && isnan(t); tries++) {
            double v = mu + s * kn_rng_normal(r);
            if (v >= a && v <= b) t = v;
        }
        if (isnan(t)) t = a + kn_rng_uniform(r) * (b - a);
        x[i] = d->kind == KN__DIM_INT ? to_space(d, from_space(d, t)) : t;
    }
}

typedef struct ranked {
    double loss;
    size_t i;
} ranked;

static int by_loss(const void *p, const void *q)
{
    const ranked *x = p, *y = q;
    if (x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void kn__tpe_propose(const kn_tune_space *sp, const double *const *xs, const double *loss, size_t n,
                     kn_rng *r, double *x)
{
    size_t d = sp->n;
    ranked *rk = kn_malloc((n ? n : 1) * sizeof *rk);
    /* obs n x d, then a, b, the two sigmas, a candidate and the best: 6 x d */
    double *buf = kn_malloc((n * d + 6 * d + 1) * sizeof *buf);
    if (!rk || !buf) { /* out of memory: a random draw still works */
        kn__tune_sample(sp, r, x);
        goto done;
    }
    for (size_t t = 0; t < n; t++) rk[t] = (ranked){loss[t], t};
    qsort(rk, n, sizeof *rk, by_loss);
    size_t n_good = (size_t)ceil(0.1 * (double)n);
    if (n_good > 25) n_good = 25;
    if (n_good < 1) n_good = 1;
    if (n_good > n) n_good = n;
    double *obs = buf, *a = obs + n * d, *b = a + d, *cand = b + 3 * d, *best = cand + d;
    for (size_t i = 0; i < d; i++) {
        const kn__dim *dm = &sp->dim[i];
        if (dm->kind == KN__DIM_CHOICE)
            a[i] = 0, b[i] = 1;
        else
            dim_range(dm, &a[i], &b[i]);
        for (size_t t = 0; t < n; t++) {
            double v = xs[rk[t].i][i];
            obs[t * d + i] = isnan(v) || dm->kind == KN__DIM_CHOICE ? v : to_space(dm, v);
        }
    }
    mixture l = {sp, obs, n_good, a, b, b + d},
            g = {sp, obs + n_good * d, n - n_good, a, b, b + 2 * d};
    mixture_fit(&l);
    mixture_fit(&g);
    double best_gain = -INFINITY;
    for (int c = 0; c < TPE_CANDIDATES; c++) {
        mixture_draw(&l, r, cand);
        double gain = mixture_logpdf(&l, cand) - mixture_logpdf(&g, cand);
        if (c == 0 || gain > best_gain) best_gain = gain, memcpy(best, cand, d * sizeof *best);
    }
    for (size_t i = 0; i < d; i++) {
        const kn__dim *dm = &sp->dim[i];
        x[i] = isnan(best[i]) || dm->kind == KN__DIM_CHOICE ? best[i] : from_space(dm, best[i]);
    }
done:
    kn_free(rk);
    kn_free(buf);
}

/* TPE search: batches of --batch trials, the first --startup drawn at
 * random, the next proposed from the finished trials. */
kn_status kn__tune_tpe(kn__tune_search *s)
{
    size_t batch = s->o->batch ? s->o->batch : 2, startup = s->o->startup ? s->o->startup : 10;
    kn_status e = KN_OK;
    for (size_t next = 0;
         e == KN_OK && next < s->o->trials && !s->res->stopped && !kn_ctx_cancelled(s->parent);) {
        size_t m = s->o->trials - next < batch ? s->o->trials - next : batch;
        /* the finished OK trials so far (ids below next) */
        size_t n = 0;
        const double **xs = kn_malloc((s->res->n + 1) * sizeof *xs);
        double *loss = kn_malloc((s->res->n + 1) * sizeof *loss);
        kn_tune_trial *b = kn__tune_new_batch(s, m);
        if (!xs || !loss || !b) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < s->res->n; i++)
            if (s->res->trial[i].status != KN_TRIAL_FAILED) { /* pruned: by its folds */
                xs[n] = s->res->trial[i].x;
                loss[n++] = kn__tune_loss(s, &s->res->trial[i]);
            }
        for (size_t j = 0; e == KN_OK && j < m; j++) {
            kn_rng r;
            b[j].id = next + j;
            kn_rng_init_stream(&r, s->o->seed, b[j].id);
            if (b[j].id < startup || n < 2)
                kn__tune_sample(s->sp, &r, b[j].x);
            else
                kn__tpe_propose(s->sp, xs, loss, n, &r, b[j].x);
        }
        size_t before = s->res->n;
        if (e == KN_OK) e = kn__tune_run_batch(s, b, m);
        kn__tune_free_batch(b, m);
        kn_free(xs);
        kn_free(loss);
        if (e == KN_OK && s->res->n - before < m) break; /* a budget stopped it */
        next += m;
    }
    return e;
}
