/* Lasso and elastic net by coordinate descent. They minimise what
 * scikit-learn's Lasso and ElasticNet minimise,
 *     sum_i w_i (y_i - x_i.coef - b)^2 / (2 sum_i w_i)
 *       + alpha l1_ratio |coef|_1 + alpha (1 - l1_ratio) |coef|^2 / 2
 * on X and y centred by their weighted means (the intercept then follows),
 * rows scaled by sqrt(w). Each epoch updates every coefficient in turn (or
 * in a seeded random order) by soft thresholding against the running
 * residual; after an epoch whose largest change is below tol times the
 * largest coefficient, the duality gap is computed and the fit stops once
 * it is below tol * |y|^2 — the stopping rule of sklearn's cd_fast, so the
 * same tol gives the same answer. A path (kn__enet_path) walks a decreasing
 * grid of alphas from the smallest one that zeroes every coefficient, each
 * fit starting from the previous solution. */
#include "kiln/progress.h"
#include "kiln/ctx.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

kn_status kn__enet_prepare(const kn_dataset *d, int fit_intercept, int gram, kn__enet_data *e)
{
    size_t n = d->n, p = d->p;
    memset(e, 0, sizeof *e);
    e->n = n;
    e->p = p;
    if (gram < 0) gram = n >= 2 * p && p <= 4096 && p > 0;
    e->xm = kn_calloc(p ? p : 1, sizeof *e->xm);
    e->norm2 = kn_calloc(p ? p : 1, sizeof *e->norm2);
    if (!e->xm || !e->norm2) {
        kn__enet_data_free(e);
        return KN_ERR_NOMEM;
    }
    if (gram) {
        e->gram = kn_malloc(p * p * sizeof *e->gram);
        e->xy = kn_malloc(p * sizeof *e->xy);
        kn_status st = e->gram && e->xy ? kn__centred_gram(d, fit_intercept, e->xm, &e->ym, e->gram,
                                                           e->xy, &e->yy, &e->sw)
                                        : KN_ERR_NOMEM;
        if (st != KN_OK) {
            kn__enet_data_free(e);
            return st;
        }
        for (size_t j = 0; j < p; j++) e->norm2[j] = e->gram[j * p + j];
        return KN_OK;
    }
    e->ym = fit_intercept ? kn__weighted_mean(d->y, d->w, n) : 0;
    for (size_t i = 0; i < n; i++) e->sw += d->w ? d->w[i] : 1;
    for (size_t j = 0; fit_intercept && j < p; j++)
        e->xm[j] = kn__weighted_mean(d->x + j * n, d->w, n);
    e->x = kn_malloc((n * p > 0 ? n * p : 1) * sizeof *e->x);
    e->y = kn_malloc((n ? n : 1) * sizeof *e->y);
    if (!e->x || !e->y) {
        kn__enet_data_free(e);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < p; j++) {
        const double *src = d->x + j * n;
        double *dst = e->x + j * n, m = e->xm[j];
        for (size_t i = 0; i < n; i++) {
            dst[i] = (src[i] - m) * (d->w ? sqrt(d->w[i]) : 1);
            e->norm2[j] += dst[i] * dst[i];
        }
    }
    for (size_t i = 0; i < n; i++) e->y[i] = (d->y[i] - e->ym) * (d->w ? sqrt(d->w[i]) : 1);
    return KN_OK;
}

void kn__enet_data_free(kn__enet_data *e)
{
    kn_free(e->x);
    kn_free(e->y);
    kn_free(e->xm);
    kn_free(e->norm2);
    kn_free(e->gram);
    kn_free(e->xy);
    memset(e, 0, sizeof *e);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

double kn__enet_alpha_max(const kn__enet_data *e, double l1_ratio)
{
    double m = 0;
    for (size_t j = 0; j < e->p; j++)
        m = fmax(m, fabs(e->gram ? e->xy[j] : dot(e->x + j * e->n, e->y, e->n)));
    return m / (e->sw * fmax(l1_ratio, 1e-3));
}

/* The duality gap of the problem scaled by sum w (sklearn's form). */
static double duality_gap(const kn__enet_data *e, const double *coef, const double *R, double l1,
                          double l2)
{
    size_t n = e->n;
    double dual_norm = 0, r2 = dot(R, R, n), w2 = dot(coef, coef, e->p), l1n = 0;
    for (size_t j = 0; j < e->p; j++) {
        dual_norm = fmax(dual_norm, fabs(dot(e->x + j * n, R, n) - l2 * coef[j]));
        l1n += fabs(coef[j]);
    }
    double c = 1, gap = r2;
    if (dual_norm > l1) {
        c = l1 / dual_norm;
        gap = 0.5 * (r2 + r2 * c * c);
    }
    return gap + l1 * l1n - c * dot(R, e->y, n) + 0.5 * l2 * (1 + c * c) * w2;
}

/* The duality gap from the Gram quantities (H = G coef). */
static double duality_gap_gram(const kn__enet_data *e, const double *coef, const double *H,
                               double l1, double l2)
{
    size_t p = e->p;
    double dual_norm = 0, wH = 0, qw = 0, w2 = 0, l1n = 0;
    for (size_t j = 0; j < p; j++) {
        dual_norm = fmax(dual_norm, fabs(e->xy[j] - H[j] - l2 * coef[j]));
        wH += coef[j] * H[j];
        qw += e->xy[j] * coef[j];
        w2 += coef[j] * coef[j];
        l1n += fabs(coef[j]);
    }
    double r2 = e->yy + wH - 2 * qw, c = 1, gap = r2;
    if (dual_norm > l1) {
        c = l1 / dual_norm;
        gap = 0.5 * (r2 + r2 * c * c);
    }
    return gap + l1 * l1n - c * (e->yy - qw) + 0.5 * l2 * (1 + c * c) * w2;
}

/* One coordinate's soft-thresholded update. The running state is the
 * residual R = y - X coef (n values), or with the Gram matrix H = G coef (p
 * values); rho = x_j . (y - X coef) + coef_j |x_j|^2 either way. */
static double update(const kn__enet_data *e, size_t j, double *state, double *coef, double l1,
                     double l2)
{
    size_t n = e->n, p = e->p;
    double old = coef[j], nj = e->norm2[j];
    const double *col = e->gram ? e->gram + j * p : e->x + j * n;
    double rho = (e->gram ? e->xy[j] - state[j] : dot(col, state, n)) + old * nj;
    double w = fmax(fabs(rho) - l1, 0) / (nj + l2);
    w = rho < 0 ? -w : w;
    if (w != old) {
        if (e->gram)
            for (size_t r = 0; r < p; r++) state[r] += (w - old) * col[r];
        else
            for (size_t i = 0; i < n; i++) state[i] -= (w - old) * col[i];
    }
    coef[j] = w;
    return w - old;
}

kn_status kn__enet_cd(const kn__enet_data *e, double alpha, double l1_ratio, int max_iter,
                      double tol, kn_rng *random_order, double *coef, kn__enet_result *res)
{
    size_t n = e->n, p = e->p, m = e->gram ? p : n;
    double *state = kn_calloc(m ? m : 1, sizeof *state);
    size_t *order = kn_malloc((p ? p : 1) * sizeof *order);
    if (!state || !order) {
        kn_free(state);
        kn_free(order);
        return KN_ERR_NOMEM;
    }
    double l1 = alpha * l1_ratio * e->sw, l2 = alpha * (1 - l1_ratio) * e->sw;
    double gap_tol = tol * (e->gram ? e->yy : dot(e->y, e->y, n)), gap = INFINITY;
    if (!e->gram) memcpy(state, e->y, n * sizeof *state);
    for (size_t j = 0; j < p; j++) {
        order[j] = j;
        if (coef[j] == 0) continue;
        const double *col = e->gram ? e->gram + j * p : e->x + j * n;
        for (size_t i = 0; i < m; i++) state[i] += (e->gram ? 1 : -1) * coef[j] * col[i];
    }
    int it = 0;
    kn_status st = KN_OK;
    kn_progress progress;
    kn_progress_begin(&progress, "coordinate descent", "epoch", (uint64_t)max_iter);
    for (; it < max_iter; it++) {
        kn_progress_step(&progress, 1);
        if ((st = kn_ctx_check()) != KN_OK) break;
        double w_max = 0, dw_max = 0;
        if (random_order)
            for (size_t j = p; j > 1; j--) {
                size_t r = (size_t)kn_rng_below(random_order, j), t = order[j - 1];
                order[j - 1] = order[r];
                order[r] = t;
            }
        for (size_t jj = 0; jj < p; jj++) {
            size_t j = order[jj];
            if (e->norm2[j] == 0) continue;
            dw_max = fmax(dw_max, fabs(update(e, j, state, coef, l1, l2)));
            w_max = fmax(w_max, fabs(coef[j]));
        }
        if (w_max == 0 || dw_max / w_max < tol || it == max_iter - 1) {
            gap = e->gram ? duality_gap_gram(e, coef, state, l1, l2)
                          : duality_gap(e, coef, state, l1, l2);
            if (gap < gap_tol) {
                it++;
                break;
            }
        }
    }
    kn_progress_end(&progress);
    res->iterations = it;
    res->gap = gap;
    res->gap_tol = gap_tol;
    res->converged = gap < gap_tol;
    kn_free(state);
    kn_free(order);
    return st;
}

kn_status kn__enet_path(const kn__enet_data *e, const double *alphas, size_t n_alphas,
                        double l1_ratio, int max_iter, double tol, double *coefs)
{
    double *w = kn_calloc(e->p ? e->p : 1, sizeof *w);
    if (!w) return KN_ERR_NOMEM;
    kn_status st = KN_OK;
    for (size_t a = 0; st == KN_OK && a < n_alphas; a++) {
        kn__enet_result r;
        st = kn__enet_cd(e, alphas[a], l1_ratio, max_iter, tol, NULL, w, &r);
        memcpy(coefs + a * e->p, w, e->p * sizeof *w);
    }
    kn_free(w);
    return st;
}

void kn__enet_alpha_grid(double alpha_max, double eps, size_t n_alphas, double *alphas)
{
    /* numpy.logspace(log10(alpha_max * eps), log10(alpha_max), n)[::-1], with
     * numpy.linspace's roundings: start + i * step, the last point exact */
    double hi = log10(alpha_max), lo = log10(alpha_max * eps);
    double step = n_alphas > 1 ? (hi - lo) / (double)(n_alphas - 1) : 0;
    for (size_t a = 0; a < n_alphas; a++) {
        size_t i = n_alphas - 1 - a;
        alphas[a] = pow(10, i == n_alphas - 1 ? hi : lo + (double)i * step);
    }
}

typedef struct enet_params {
    double alpha, l1_ratio;
    int fit_intercept;
    int64_t max_iter;
    double tol;
    int selection;
    int64_t seed;
} enet_params;

#define ENET_COMMON                                                                                \
    KN_PARAM_BOOL(enet_params, fit_intercept, "true", "fit an intercept (centre X and y)"),        \
        KN_PARAM_INT(enet_params, max_iter, "1000", 1, 100000000, "coordinate descent epochs"),    \
        KN_PARAM_DOUBLE(enet_params, tol, "1e-4", 0, 1,                                            \
                        "stop when the duality gap is below tol * |y - mean|^2"),                  \
        KN_PARAM_ENUM(enet_params, selection, "cyclic", "cyclic|random",                           \
                      "coordinate order per epoch (random: seeded shuffle)"),                      \
        KN_PARAM_INT(enet_params, seed, "0", 0, 1e15, "seed of the random order")

static const kn_param_def lasso_defs[] = {
    KN_PARAM_DOUBLE(enet_params, alpha, "1", 0, 1e300, "L1 penalty strength"),
    KN_PARAM_DOUBLE(enet_params, l1_ratio, "1", 1, 1, "fixed at 1 (use elastic_net to mix)"),
    ENET_COMMON, KN_PARAM_END};

static const kn_param_def enet_defs[] = {
    KN_PARAM_DOUBLE(enet_params, alpha, "1", 0, 1e300, "penalty strength"),
    KN_PARAM_DOUBLE(enet_params, l1_ratio, "0.5", 0, 1, "share of L1 in the penalty (1: lasso)"),
    ENET_COMMON, KN_PARAM_END};

static kn_status enet_fit(kn_model *m, const kn_dataset *d)
{
    const enet_params *par = kn_model_params(m);
    kn__enet_data e;
    kn_status st = kn__enet_prepare(d, par->fit_intercept, -1, &e);
    if (st != KN_OK) return st;
    kn__linear_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->coef = kn_calloc(d->p ? d->p : 1, sizeof *s->coef))) st = KN_ERR_NOMEM;
    kn_rng rng;
    kn_rng_init(&rng, (uint64_t)par->seed);
    kn__enet_result r = {0};
    if (st == KN_OK)
        st = kn__enet_cd(&e, par->alpha, par->l1_ratio, (int)par->max_iter, par->tol,
                         par->selection ? &rng : NULL, s->coef, &r);
    if (st == KN_OK) {
        s->p = d->p;
        s->intercept = e.ym;
        size_t nonzero = 0;
        for (size_t j = 0; j < d->p; j++) {
            s->intercept -= e.xm[j] * s->coef[j];
            nonzero += s->coef[j] != 0;
        }
        if (!r.converged)
            kn_log(KN_LOG_WARN,
                   "%s did not converge in %d epochs (duality gap %.3g > %.3g); raise max_iter "
                   "or tol, or standardise the features",
                   kn_model_name(m), r.iterations, r.gap, r.gap_tol);
        else
            kn_log(KN_LOG_INFO,
                   "%s converged in %d epochs (duality gap %.3g), %zu of %zu "
                   "coefficients non-zero",
                   kn_model_name(m), r.iterations, r.gap, nonzero, d->p);
        kn_model_set_state(m, s);
        s = NULL;
    }
    kn__linear_free(s);
    kn__enet_data_free(&e);
    return st;
}

static const kn_model_vt enet_vt = {.task = KN_TASK_REGRESSION,
                                    .fit = enet_fit,
                                    .predict = kn__linear_predict,
                                    .free_state = kn__linear_free,
                                    .save = kn__linear_save,
                                    .load = kn__linear_load,
                                    .coefficients = kn__linear_coefficients};

const kn_component kn__lasso = {KN_COMP_MODEL,
                                "lasso",
                                "least squares with an L1 penalty (coordinate descent)",
                                lasso_defs,
                                sizeof(enet_params),
                                &enet_vt};
const kn_component kn__elastic_net = {
    KN_COMP_MODEL, "elastic_net",       "least squares with L1 + L2 penalties (coordinate descent)",
    enet_defs,     sizeof(enet_params), &enet_vt};
