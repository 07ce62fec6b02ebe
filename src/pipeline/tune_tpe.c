/* The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and
 * Kegl, "Algorithms for hyper-parameter optimization", NeurIPS 2011).
 *
 * The finished trials are split by loss into the best ones ("good", the
 * best tenth, at most 25, at least one) and the others. For each parameter
 * in the space's order (so a condition's choice is known before the
 * parameters it governs) two densities are fitted over the trials where the
 * parameter was active: l from the good ones and g from the others. A
 * range's density is a mixture of Gaussians truncated to the range, one at
 * each observed value (on the log scale for log ranges) with a width of the
 * larger gap to its neighbours, kept between range/min(100, n+1) and the
 * range, plus a wide prior component at the middle; a choice's is the
 * counts plus one for each value. Candidates are drawn from l and the one
 * with the largest l/g is proposed. Parameters are drawn independently of
 * each other. */
#include "kiln/mem.h"
#include "pipeline/tune-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { TPE_CANDIDATES = 24 };

typedef struct parzen {
    double *mu, *sigma; /* n components, the prior last */
    size_t n;
    double a, b; /* the (transformed) range */
} parzen;

static int cmp_double(const void *p, const void *q)
{
    double x = *(const double *)p, y = *(const double *)q;
    return (x > y) - (x < y);
}

static double phi(double z)
{
    return 0.5 * (1 + erf(z / sqrt(2.0)));
}

/* Components at v[0..n) and the prior; mu and sigma hold n + 1. */
static void parzen_fit(parzen *pz, const double *v, size_t n)
{
    double width = pz->b - pz->a;
    pz->n = n + 1;
    for (size_t i = 0; i < n; i++) pz->mu[i] = v[i];
    pz->mu[n] = 0.5 * (pz->a + pz->b);
    qsort(pz->mu, n, sizeof *pz->mu, cmp_double);
    double lo_bw = width / (double)(n + 1 < 100 ? n + 1 : 100);
    for (size_t i = 0; i < n; i++) {
        double left = pz->mu[i] - (i ? pz->mu[i - 1] : pz->a);
        double right = (i + 1 < n ? pz->mu[i + 1] : pz->b) - pz->mu[i];
        double s = left > right ? left : right;
        if (s < lo_bw) s = lo_bw;
        if (s > width) s = width;
        pz->sigma[i] = s;
    }
    pz->sigma[n] = width;
}

static double parzen_logpdf(const parzen *pz, double x)
{
    double sum = 0;
    for (size_t k = 0; k < pz->n; k++) {
        double s = pz->sigma[k], z = (x - pz->mu[k]) / s;
        double mass = phi((pz->b - pz->mu[k]) / s) - phi((pz->a - pz->mu[k]) / s);
        if (mass < 1e-12) mass = 1e-12;
        sum += exp(-0.5 * z * z) / (s * mass);
    }
    return log(sum / (double)pz->n + 1e-300);
}

static double parzen_draw(const parzen *pz, kn_rng *r)
{
    size_t k = (size_t)kn_rng_below(r, pz->n);
    for (int tries = 0; tries < 64; tries++) {
        double x = pz->mu[k] + pz->sigma[k] * kn_rng_normal(r);
        if (x >= pz->a && x <= pz->b) return x;
    }
    return pz->a + kn_rng_uniform(r) * (pz->b - pz->a);
}

/* The dim's range in the space the densities live in. */
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

static double propose_range(const kn__dim *d, const double *good, size_t ng, const double *bad,
                            size_t nb, double *buf, kn_rng *r)
{
    parzen l = {buf, buf + ng + 1, 0, 0, 0},
           g = {buf + 2 * (ng + 1), buf + 2 * (ng + 1) + nb + 1, 0, 0, 0};
    dim_range(d, &l.a, &l.b);
    g.a = l.a, g.b = l.b;
    parzen_fit(&l, good, ng);
    parzen_fit(&g, bad, nb);
    double best = NAN, best_gain = -INFINITY;
    for (int c = 0; c < TPE_CANDIDATES; c++) {
        double x = parzen_draw(&l, r);
        double gain = parzen_logpdf(&l, x) - parzen_logpdf(&g, x);
        if (gain > best_gain) best_gain = gain, best = x;
    }
    return from_space(d, best);
}

static double propose_choice(const kn__dim *d, const double *good, size_t ng, const double *bad,
                             size_t nb, double *buf, kn_rng *r)
{
    size_t k = d->n_choices;
    double *pl = buf, *pg = buf + k, sl = 0;
    for (size_t i = 0; i < k; i++) pl[i] = pg[i] = 1;
    for (size_t i = 0; i < ng; i++) pl[(size_t)good[i]] += 1;
    for (size_t i = 0; i < nb; i++) pg[(size_t)bad[i]] += 1;
    for (size_t i = 0; i < k; i++) sl += pl[i];
    double best = 0, best_gain = -INFINITY, tg = (double)(nb + k), tl = (double)(ng + k);
    for (int c = 0; c < TPE_CANDIDATES; c++) {
        double u = kn_rng_uniform(r) * sl, acc = 0;
        size_t pick = k - 1;
        for (size_t i = 0; i < k; i++)
            if ((acc += pl[i]) > u) {
                pick = i;
                break;
            }
        double gain = log(pl[pick] / tl) - log(pg[pick] / tg);
        if (gain > best_gain) best_gain = gain, best = (double)pick;
    }
    return best;
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
    ranked *rk = kn_malloc((n ? n : 1) * sizeof *rk);
    double *good = kn_malloc((n + 1) * sizeof *good), *bad = kn_malloc((n + 1) * sizeof *bad);
    size_t kmax = 2;
    for (size_t i = 0; i < sp->n; i++)
        if (sp->dim[i].n_choices > kmax) kmax = sp->dim[i].n_choices;
    double *buf = kn_malloc((4 * (n + 2) + 2 * kmax) * sizeof *buf);
    if (!rk || !good || !bad || !buf) { /* out of memory: a random draw still works */
        kn__tune_sample(sp, r, x);
        goto done;
    }
    for (size_t t = 0; t < n; t++) rk[t] = (ranked){loss[t], t};
    qsort(rk, n, sizeof *rk, by_loss);
    size_t n_good = (size_t)ceil(0.1 * (double)n);
    if (n_good > 25) n_good = 25;
    if (n_good < 1) n_good = 1;
    for (size_t i = 0; i < sp->n; i++) {
        const kn__dim *d = &sp->dim[i];
        x[i] = 0; /* parents before children: active() reads only earlier dims */
        if (!kn__tune_active(sp, x, i)) {
            x[i] = NAN;
            continue;
        }
        size_t ng = 0, nb = 0;
        for (size_t t = 0; t < n; t++) {
            double v = xs[rk[t].i][i];
            if (isnan(v)) continue;
            if (t < n_good)
                good[ng++] = d->kind == KN__DIM_CHOICE ? v : to_space(d, v);
            else
                bad[nb++] = d->kind == KN__DIM_CHOICE ? v : to_space(d, v);
        }
        x[i] = d->kind == KN__DIM_CHOICE ? propose_choice(d, good, ng, bad, nb, buf, r)
                                         : propose_range(d, good, ng, bad, nb, buf, r);
    }
done:
    kn_free(rk);
    kn_free(good);
    kn_free(bad);
    kn_free(buf);
}
