/* Generalised linear models: a distribution of the Tweedie family (normal,
 * Poisson, gamma, Tweedie with power p) or Bernoulli, with the identity
 * (normal), log (Poisson, gamma, Tweedie) or logit (binomial) link.
 *
 * The fit minimises what scikit-learn's GLMs minimise,
 *     sum_i w_i halfdeviance(y_i, mu_i) / sum_i w_i + alpha |coef|^2 / 2
 * (the intercept not penalised), by Newton's method with a backtracking
 * line search (the Hessian from LAPACK Cholesky; the expected Hessian where
 * the observed one may be indefinite, Tweedie p > 2) or by L-BFGS for wide
 * data. Newton converges to machine precision in a handful of iterations,
 * which the coefficient table needs.
 *
 * After the fit: deviance, null deviance, D^2, dispersion (Pearson chi^2 /
 * residual df; 1 for Poisson and binomial), log-likelihood and AIC as
 * statsmodels defines them (weights as frequency weights), and for
 * unpenalised fits (alpha = 0) standard errors from the expected
 * information, z-values and two-sided normal p-values: the summary a
 * statsmodels GLM prints.
 *
 * Models: poisson_regressor, gamma_regressor, tweedie_regressor (sklearn's
 * names and defaults, alpha = 1) and glm (any family, alpha = 0). */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/learn-impl.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

enum { FAM_NORMAL, FAM_POISSON, FAM_GAMMA, FAM_TWEEDIE, FAM_BINOMIAL };
static const char *const family_names[] = {"normal", "poisson", "gamma", "tweedie", "binomial"};

typedef struct glm_params {
    int family;
    double power, alpha;
    int fit_intercept;
    int64_t max_iter;
    double tol;
    int solver;
} glm_params;

enum { SOLVER_AUTO, SOLVER_NEWTON, SOLVER_LBFGS };

#define GLM_COMMON(tol_default)                                                                    \
    KN_PARAM_BOOL(glm_params, fit_intercept, "true", "fit an intercept (not penalised)"),          \
        KN_PARAM_INT(glm_params, max_iter, "100", 1, 100000000, "iterations at most"),             \
        KN_PARAM_DOUBLE(glm_params, tol, tol_default, 0, 1,                                        \
                        "stop when no gradient component exceeds this"),                           \
        KN_PARAM_ENUM(glm_params, solver, "auto", "auto|newton|lbfgs",                             \
                      "auto: Newton up to 1000 features, L-BFGS beyond")

static const kn_param_def sk_defs[] = {
    KN_PARAM_DOUBLE(glm_params, alpha, "1", 0, 1e300, "L2 penalty on the coefficients"),
    GLM_COMMON("1e-4"), KN_PARAM_END};

static const kn_param_def tweedie_defs[] = {
    KN_PARAM_DOUBLE(glm_params, power, "0", 0, 100,
                    "variance power: 0 normal, 1 Poisson, (1,2) compound Poisson-gamma, 2 gamma, "
                    "3 inverse Gaussian"),
    KN_PARAM_DOUBLE(glm_params, alpha, "1", 0, 1e300, "L2 penalty on the coefficients"),
    GLM_COMMON("1e-4"), KN_PARAM_END};

static const kn_param_def glm_defs[] = {
    KN_PARAM_ENUM(glm_params, family, "normal", "normal|poisson|gamma|tweedie|binomial",
                  "distribution of the target (link: identity, log, log, log, logit)"),
    KN_PARAM_DOUBLE(glm_params, power, "1.5", 1, 100, "variance power of the tweedie family"),
    KN_PARAM_DOUBLE(glm_params, alpha, "0", 0, 1e300,
                    "L2 penalty (0: none, and a coefficient table with standard errors)"),
    GLM_COMMON("1e-8"), KN_PARAM_END};

/* The distribution: a family, Tweedie's power folded into named families. */
typedef struct dist {
    int kind;
    double p;
} dist;

static double inverse_link(const dist *d, double raw)
{
    if (d->kind == FAM_NORMAL) return raw;
    if (d->kind == FAM_BINOMIAL) return 1 / (1 + exp(-raw));
    return exp(raw);
}

static double link(const dist *d, double mu)
{
    if (d->kind == FAM_NORMAL) return mu;
    if (d->kind == FAM_BINOMIAL) return log(mu / (1 - mu));
    return log(mu);
}

/* Half the unit deviance up to terms free of raw, its first derivative in
 * raw, and a positive second derivative (observed, or expected where the
 * observed one can be negative). */
static double half_loss(const dist *d, double y, double raw, double *g, double *h)
{
    double p = d->p;
    switch (d->kind) {
    case FAM_NORMAL:
        *g = raw - y;
        *h = 1;
        return 0.5 * (raw - y) * (raw - y);
    case FAM_POISSON: {
        double mu = exp(raw);
        *g = mu - y;
        *h = mu;
        return mu - y * raw;
    }
    case FAM_GAMMA: {
        double e = y * exp(-raw);
        *g = 1 - e;
        *h = e;
        return raw + e;
    }
    case FAM_BINOMIAL: {
        double s = 1 / (1 + exp(-raw));
        *g = s - y;
        *h = s * (1 - s);
        return (raw > 0 ? raw + log1p(exp(-raw)) : log1p(exp(raw))) - y * raw;
    }
    default: { /* Tweedie, p not 0, 1, 2 */
        double a = exp((2 - p) * raw), b = y * exp((1 - p) * raw);
        *g = a - b;
        *h = (2 - p) * a - (1 - p) * b;
        if (!(*h > 0)) *h = a; /* expected information: mu^(2-p) */
        return a / (2 - p) - b / (1 - p);
    }
    }
}

/* Unit deviance d(y, mu) (sklearn/statsmodels form). */
static double unit_deviance(const dist *d, double y, double mu)
{
    double p = d->p;
    switch (d->kind) {
    case FAM_NORMAL:
        return (y - mu) * (y - mu);
    case FAM_POISSON:
        return 2 * ((y > 0 ? y * log(y / mu) : 0) - y + mu);
    case FAM_GAMMA:
        return 2 * (log(mu / y) + y / mu - 1);
    case FAM_BINOMIAL:
        return 2 *
               ((y > 0 ? y * log(y / mu) : 0) + (y < 1 ? (1 - y) * log((1 - y) / (1 - mu)) : 0));
    default:
        return 2 * (pow(fmax(y, 0), 2 - p) / ((1 - p) * (2 - p)) - y * pow(mu, 1 - p) / (1 - p) +
                    pow(mu, 2 - p) / (2 - p));
    }
}

static double variance(const dist *d, double mu)
{
    switch (d->kind) {
    case FAM_NORMAL:
        return 1;
    case FAM_POISSON:
        return mu;
    case FAM_GAMMA:
        return mu * mu;
    case FAM_BINOMIAL:
        return mu * (1 - mu);
    default:
        return pow(mu, d->p);
    }
}

/* The target values the distribution allows; an error names the first
 * offending row. */
static kn_status check_target(const kn_model *m, const dist *d, const kn_dataset *ds)
{
    double sum = 0;
    for (size_t i = 0; i < ds->n; i++) {
        double y = ds->y[i];
        const char *need = NULL;
        if ((d->kind == FAM_POISSON || (d->kind == FAM_TWEEDIE && d->p < 2)) && y < 0)
            need = "y >= 0";
        else if ((d->kind == FAM_GAMMA || (d->kind == FAM_TWEEDIE && d->p >= 2)) && !(y > 0))
            need = "y > 0";
        else if (d->kind == FAM_BINOMIAL && !(y >= 0 && y <= 1))
            need = "0 <= y <= 1";
        if (need)
            return kn_fail(KN_ERR_INVALID, "%s: target row %zu is %g; the %s family needs %s",
                           kn_model_name(m), i + 1, y, family_names[d->kind], need);
        sum += y;
    }
    if (d->kind != FAM_NORMAL && !(sum > 0))
        return kn_fail(KN_ERR_INVALID, "%s: every target value is 0; nothing to fit",
                       kn_model_name(m));
    return KN_OK;
}

typedef struct glm_problem {
    const kn_dataset *ds;
    dist d;
    const double *wn; /* weights normalised to sum 1 */
    double alpha;
    int intercept;
    double *raw, *g1, *h1; /* per row: linear predictor, dloss, d2loss */
    double *work;          /* n x (p + 1): the Hessian's scaled rows (Newton) */
} glm_problem;

/* theta: p coefficients, then the intercept. Fills raw, g1, h1. */
static double glm_objective(void *ctx, const double *theta, double *grad)
{
    glm_problem *pr = ctx;
    const kn_dataset *ds = pr->ds;
    size_t n = ds->n, p = ds->p;
    double b = pr->intercept ? theta[p] : 0, f = 0, gb = 0;
    for (size_t i = 0; i < n; i++) pr->raw[i] = b;
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)p, 1.0, ds->x, (int)n, theta, 1, 1.0,
                pr->raw, 1);
    for (size_t i = 0; i < n; i++) {
        f += pr->wn[i] * half_loss(&pr->d, ds->y[i], pr->raw[i], &pr->g1[i], &pr->h1[i]);
        pr->g1[i] *= pr->wn[i];
        gb += pr->g1[i];
    }
    cblas_dgemv(CblasColMajor, CblasTrans, (int)n, (int)p, 1.0, ds->x, (int)n, pr->g1, 1, 0.0, grad,
                1);
    double pen = 0;
    for (size_t j = 0; j < p; j++) {
        pen += theta[j] * theta[j];
        grad[j] += pr->alpha * theta[j];
    }
    grad[p] = pr->intercept ? gb : 0;
    return f + 0.5 * pr->alpha * pen;
}

/* X1 = [X, 1] scaled row-wise by sqrt(s_i): X1^T diag(s) X1 into H (q x q,
 * column-major, full), q = p + 1. work: n x q. */
static void weighted_gram(const kn_dataset *ds, const double *s, double *work, double *H)
{
    size_t n = ds->n, p = ds->p, q = p + 1;
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++) work[j * n + i] = ds->x[j * n + i] * sqrt(s[i]);
    for (size_t i = 0; i < n; i++) work[p * n + i] = sqrt(s[i]);
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)n, 1.0, work, (int)n, 0.0, H,
                (int)q);
    for (size_t c = 0; c < q; c++)
        for (size_t r = c + 1; r < q; r++) H[c * q + r] = H[r * q + c];
}

/* The objective with its Hessian X1^T diag(wn h) X1 + alpha on the
 * coefficients (the intercept pinned at 0 when not fitted). */
static double glm_objective_hess(void *ctx, const double *theta, double *grad, double *H)
{
    glm_problem *pr = ctx;
    const kn_dataset *ds = pr->ds;
    size_t n = ds->n, p = ds->p, q = p + 1;
    double f = glm_objective(ctx, theta, grad);
    if (!H) return f;
    for (size_t i = 0; i < n; i++) pr->h1[i] *= pr->wn[i];
    weighted_gram(ds, pr->h1, pr->work, H);
    for (size_t j = 0; j < p; j++) H[j * q + j] += pr->alpha;
    if (!pr->intercept) {
        for (size_t j = 0; j < q; j++) H[p * q + j] = H[j * q + p] = 0;
        H[p * q + p] = 1;
    }
    return f;
}

enum { ST_DEVIANCE, ST_NULL_DEVIANCE, ST_D2, ST_DISPERSION, ST_LLF, ST_AIC, ST_DF_RESID, ST_N };
static const char *const stat_names[] = {"deviance",       "null_deviance", "d2",      "dispersion",
                                         "log_likelihood", "aic",           "df_resid"};

typedef struct glm_state {
    size_t p;
    int kind;
    double power;
    double intercept, *coef;
    double stat[ST_N];
    int iterations, converged;
    double grad_norm;
    int has_table;
    double *se, *z, *pv, *coef_full; /* p + 1 each when has_table */
} glm_state;

static void glm_free(void *v)
{
    glm_state *s = v;
    if (!s) return;
    kn_free(s->coef);
    kn_free(s->se);
    kn_free(s->z);
    kn_free(s->pv);
    kn_free(s->coef_full);
    kn_free(s);
}

/* statsmodels' log-likelihood of the fitted means (NaN for Tweedie). */
static double log_likelihood(const dist *d, const kn_dataset *ds, const double *mu, double scale,
                             double sw)
{
    double llf = 0, ssr = 0;
    for (size_t i = 0; i < ds->n; i++) {
        double y = ds->y[i], w = ds->w ? ds->w[i] : 1, m = mu[i];
        switch (d->kind) {
        case FAM_NORMAL:
            ssr += w * (y - m) * (y - m);
            break;
        case FAM_POISSON:
            llf += w * ((y > 0 ? y * log(m) : 0) - m - lgamma(y + 1));
            break;
        case FAM_GAMMA: {
            double ws = 1 / scale;
            llf += w * (ws * log(ws * y / m) - ws * y / m - lgamma(ws) - log(y));
            break;
        }
        case FAM_BINOMIAL:
            llf += w * ((y > 0 ? y * log(m) : 0) + (y < 1 ? (1 - y) * log(1 - m) : 0));
            break;
        default:
            return NAN;
        }
    }
    if (d->kind == FAM_NORMAL) /* with the ML scale SSR / n */
        llf = -0.5 * sw * (log(2 * M_PI * ssr / sw) + 1);
    return llf;
}

/* Deviances, dispersion, AIC and (alpha = 0) the coefficient table. */
static kn_status fit_statistics(const glm_problem *pr, const double *theta, glm_state *s)
{
    const kn_dataset *ds = pr->ds;
    const dist *d = &pr->d;
    size_t n = ds->n, p = ds->p, q = p + 1;
    double sw = 0, ybar = 0, dev = 0, null_dev = 0, chi2 = 0;
    double *mu = kn_malloc((n ? n : 1) * sizeof *mu);
    if (!mu) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        double w = ds->w ? ds->w[i] : 1;
        sw += w;
        ybar += w * ds->y[i];
        mu[i] = inverse_link(d, pr->raw[i]);
    }
    ybar = pr->intercept ? ybar / sw : inverse_link(d, 0);
    size_t perfect = 0; /* binomial rows fitted at their class (separation) */
    for (size_t i = 0; i < n; i++) {
        double w = ds->w ? ds->w[i] : 1, y = ds->y[i];
        if (d->kind == FAM_BINOMIAL && w > 0 && fabs(y - mu[i]) < 1e-10 && (y == 0 || y == 1))
            perfect++;
        dev += w * unit_deviance(d, y, mu[i]);
        null_dev += w * unit_deviance(d, y, ybar);
        chi2 += w * (y - mu[i]) * (y - mu[i]) / variance(d, mu[i]);
    }
    size_t k = p + (pr->intercept ? 1 : 0);
    double df = sw - (double)k;
    double scale = d->kind == FAM_POISSON || d->kind == FAM_BINOMIAL ? 1 : chi2 / df;
    double llf = log_likelihood(d, ds, mu, scale, sw);
    s->stat[ST_DEVIANCE] = dev;
    s->stat[ST_NULL_DEVIANCE] = null_dev;
    s->stat[ST_D2] = null_dev > 0 ? 1 - dev / null_dev : NAN;
    s->stat[ST_DISPERSION] = scale;
    s->stat[ST_LLF] = llf;
    s->stat[ST_AIC] = -2 * llf + 2 * (double)k;
    s->stat[ST_DF_RESID] = df;
    kn_status e = KN_OK;
    if (pr->alpha == 0 && df > 0) {
        /* expected information X1^T diag(w (dmu/deta)^2 / V(mu)) X1 */
        double *wt = kn_malloc(n * sizeof *wt), *H = kn_malloc(q * q * sizeof *H);
        double *work = kn_malloc(n * q * sizeof *work);
        s->se = kn_malloc(q * sizeof *s->se);
        s->z = kn_malloc(q * sizeof *s->z);
        s->pv = kn_malloc(q * sizeof *s->pv);
        s->coef_full = kn_malloc(q * sizeof *s->coef_full);
        if (!wt || !H || !work || !s->se || !s->z || !s->pv || !s->coef_full) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < n; i++) {
            double w = ds->w ? ds->w[i] : 1, m = mu[i];
            double dmu = d->kind == FAM_NORMAL ? 1 : d->kind == FAM_BINOMIAL ? m * (1 - m) : m;
            wt[i] = w * dmu * dmu / variance(d, m);
        }
        if (e == KN_OK) {
            weighted_gram(ds, wt, work, H);
            size_t qq = pr->intercept ? q : p; /* without an intercept: the p x p block */
            lapack_int info =
                LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)qq, H, (lapack_int)q);
            if (info == 0)
                info = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)qq, H, (lapack_int)q);
            for (size_t j = 0; j < q; j++) {
                s->coef_full[j] = j < p ? theta[j] : pr->intercept ? theta[p] : 0;
                double var = info == 0 && j < qq ? H[j * q + j] * scale : NAN;
                s->se[j] = var >= 0 ? sqrt(var) : NAN;
                s->z[j] = s->coef_full[j] / s->se[j];
                s->pv[j] = erfc(fabs(s->z[j]) / M_SQRT2);
            }
            if (info != 0 && !perfect)
                kn_log(KN_LOG_WARN,
                       "glm: the information matrix is singular (collinear features); no "
                       "standard errors. One-hot columns sum to 1 like the intercept: encode "
                       "with 'onehot_encoder:drop=first' (one level per column is the "
                       "baseline)");
            s->has_table = 1;
        }
        kn_free(wt), kn_free(H), kn_free(work);
    }
    /* separation: the likelihood keeps rising as coefficients grow, so the
     * fit stops somewhere along the way (statsmodels diverges) */
    if (perfect)
        kn_log(KN_LOG_WARN,
               "glm: %zu of %zu rows are fitted at their class (probability within 1e-10): a "
               "feature or combination of features separates the classes, so the coefficients "
               "grow without bound and neither they nor their standard errors are estimates. "
               "Leave out the feature that decides the target, or penalise the fit (--param "
               "alpha=0.01, or logistic_regression)",
               perfect, n);
    kn_free(mu);
    return e;
}

static kn_status dist_of(const kn_model *m, const glm_params *par, int kind, dist *d)
{
    d->kind = kind;
    d->p = par->power;
    if (kind == FAM_TWEEDIE) {
        if (par->power == 0)
            d->kind = FAM_NORMAL;
        else if (par->power == 1)
            d->kind = FAM_POISSON;
        else if (par->power == 2)
            d->kind = FAM_GAMMA;
        else if (par->power < 1)
            return kn_fail(KN_ERR_INVALID,
                           "%s: no Tweedie distribution has power in (0, 1) (got %g); use 0, "
                           "1 or more",
                           kn_model_name(m), par->power);
    }
    return KN_OK;
}

static kn_status glm_fit_kind(kn_model *m, const kn_dataset *ds, int kind)
{
    const glm_params *par = kn_model_params(m);
    dist d;
    kn_status e = dist_of(m, par, kind, &d);
    if (e == KN_OK) e = check_target(m, &d, ds);
    if (e != KN_OK) return e;
    size_t n = ds->n, p = ds->p, q = p + 1;
    double *wn = kn_malloc(n * sizeof *wn), *theta = kn_calloc(q, sizeof *theta);
    double *raw = kn_malloc(n * sizeof *raw), *g1 = kn_malloc(n * sizeof *g1);
    double *h1 = kn_malloc(n * sizeof *h1);
    glm_state *s = kn_calloc(1, sizeof *s);
    e = wn && theta && raw && g1 && h1 && s ? KN_OK : KN_ERR_NOMEM;
    double sw = 0, ybar = 0;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        wn[i] = ds->w ? ds->w[i] : 1;
        sw += wn[i];
        ybar += wn[i] * ds->y[i];
    }
    for (size_t i = 0; e == KN_OK && i < n; i++) wn[i] /= sw;
    /* start from the intercept-only fit: link(mean y) */
    if (e == KN_OK && par->fit_intercept) theta[p] = link(&d, ybar / sw);
    glm_problem pr = {ds, d, wn, par->alpha, par->fit_intercept, raw, g1, h1, NULL};
    kn__lbfgs_result res = {0};
    int use_newton = par->solver == SOLVER_NEWTON || (par->solver == SOLVER_AUTO && p <= 1000);
    if (e == KN_OK && use_newton && !(pr.work = kn_malloc(n * q * sizeof *pr.work)))
        e = KN_ERR_NOMEM;
    if (e == KN_OK && use_newton)
        e = kn__newton(glm_objective_hess, &pr, theta, q, (int)par->max_iter, par->tol, &res);
    kn_free(pr.work);
    if (e == KN_OK && !use_newton)
        e = kn__lbfgs(glm_objective, &pr, theta, q, (int)par->max_iter, par->tol, 0, &res);
    double *grad = e == KN_OK ? kn_malloc(q * sizeof *grad) : NULL;
    if (e == KN_OK && !grad) e = KN_ERR_NOMEM;
    if (e == KN_OK) glm_objective(&pr, theta, grad); /* raw at the solution */
    kn_free(grad);
    if (e == KN_OK && !(s->coef = kn_malloc((p ? p : 1) * sizeof *s->coef))) e = KN_ERR_NOMEM;
    if (e == KN_OK) {
        memcpy(s->coef, theta, p * sizeof *theta);
        s->p = p;
        s->kind = d.kind;
        s->power = d.p;
        s->intercept = par->fit_intercept ? theta[p] : 0;
        s->iterations = res.iterations;
        s->converged = res.converged;
        s->grad_norm = res.grad_norm;
        e = fit_statistics(&pr, theta, s);
    }
    if (e == KN_OK) {
        if (!res.converged)
            kn__warn_not_converged(kn_model_name(m), res.iterations, par->max_iter, res.grad_norm,
                                   par->tol);
        else
            kn_log(KN_LOG_INFO,
                   "%s (%s) converged in %d iterations (largest gradient %.3g); deviance %.6g, "
                   "null deviance %.6g",
                   kn_model_name(m), family_names[d.kind], res.iterations, res.grad_norm,
                   s->stat[ST_DEVIANCE], s->stat[ST_NULL_DEVIANCE]);
        kn_model_set_state(m, s);
        s = NULL;
    }
    glm_free(s);
    kn_free(wn), kn_free(theta), kn_free(raw), kn_free(g1), kn_free(h1);
    return e;
}

static kn_status glm_predict(const kn_model *m, const kn_dataset *ds, double *out)
{
    const glm_state *s = kn_model_state(m);
    dist d = {s->kind, s->power};
    for (size_t i = 0; i < ds->n; i++) out[i] = s->intercept;
    if (ds->n && s->p)
        cblas_dgemv(CblasColMajor, CblasNoTrans, (int)ds->n, (int)s->p, 1.0, ds->x, (int)ds->n,
                    s->coef, 1, 1.0, out, 1);
    for (size_t i = 0; i < ds->n; i++) out[i] = inverse_link(&d, out[i]);
    return KN_OK;
}

static kn_status glm_coefficients(const kn_model *m, double *coef, double *intercept)
{
    const glm_state *s = kn_model_state(m);
    memcpy(coef, s->coef, s->p * sizeof *coef);
    *intercept = s->intercept;
    return KN_OK;
}

static kn_status glm_summary(const kn_model *m, kn_fit_summary *out)
{
    const glm_state *s = kn_model_state(m);
    for (size_t i = 0; i < ST_N; i++) {
        out->stat_name[i] = stat_names[i];
        out->stat[i] = s->stat[i];
    }
    out->stat_name[ST_N] = "iterations";
    out->stat[ST_N] = s->iterations;
    out->n_stats = ST_N + 1;
    if (s->has_table) {
        out->coef = s->coef_full;
        out->std_error = s->se;
        out->z = s->z;
        out->p_value = s->pv;
    }
    return KN_OK;
}

static kn_status glm_save(const kn_model *m, kn_wbuf *w)
{
    const glm_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u32(w, (uint32_t)s->kind);
    kn_wbuf_f64(w, s->power);
    kn_wbuf_f64(w, s->intercept);
    kn_wbuf_f64s(w, s->coef, s->p);
    kn_wbuf_f64s(w, s->stat, ST_N);
    kn_wbuf_u32(w, (uint32_t)s->iterations);
    kn_wbuf_u32(w, (uint32_t)s->converged);
    kn_wbuf_f64(w, s->grad_norm);
    kn_wbuf_u32(w, (uint32_t)s->has_table);
    if (s->has_table) {
        kn_wbuf_f64s(w, s->coef_full, s->p + 1);
        kn_wbuf_f64s(w, s->se, s->p + 1);
        kn_wbuf_f64s(w, s->z, s->p + 1);
        kn_wbuf_f64s(w, s->pv, s->p + 1);
    }
    return KN_OK;
}

static kn_status read_f64s(kn_rbuf *r, size_t n, double **out)
{
    *out = kn_malloc((n ? n : 1) * sizeof **out);
    return *out ? kn_rbuf_bytes(r, *out, n * sizeof **out) : KN_ERR_NOMEM;
}

static kn_status glm_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p = 0;
    uint32_t kind = 0, it = 0, conv = 0, table = 0;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK && p != kn_model_n_features(m))
        return kn_fail(KN_ERR_CORRUPT, "%s: %llu coefficients for %zu features", r->what,
                       (unsigned long long)p, kn_model_n_features(m));
    glm_state *s = e == KN_OK ? kn_calloc(1, sizeof *s) : NULL;
    if (e == KN_OK && !s) e = KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_rbuf_u32(r, &kind);
    if (e == KN_OK && kind > FAM_BINOMIAL)
        e = kn_fail(KN_ERR_CORRUPT, "%s: unknown GLM family %u", r->what, kind);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->power);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->intercept);
    if (e == KN_OK) e = read_f64s(r, (size_t)p, &s->coef);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->stat, sizeof s->stat);
    if (e == KN_OK) e = kn_rbuf_u32(r, &it);
    if (e == KN_OK) e = kn_rbuf_u32(r, &conv);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->grad_norm);
    if (e == KN_OK) e = kn_rbuf_u32(r, &table);
    if (e == KN_OK && table) {
        e = read_f64s(r, (size_t)p + 1, &s->coef_full);
        if (e == KN_OK) e = read_f64s(r, (size_t)p + 1, &s->se);
        if (e == KN_OK) e = read_f64s(r, (size_t)p + 1, &s->z);
        if (e == KN_OK) e = read_f64s(r, (size_t)p + 1, &s->pv);
    }
    if (e != KN_OK) {
        glm_free(s);
        return e;
    }
    s->p = (size_t)p;
    s->kind = (int)kind;
    s->iterations = (int)it;
    s->converged = conv != 0;
    s->has_table = table != 0;
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status poisson_fit(kn_model *m, const kn_dataset *d)
{
    return glm_fit_kind(m, d, FAM_POISSON);
}
static kn_status gamma_fit(kn_model *m, const kn_dataset *d)
{
    return glm_fit_kind(m, d, FAM_GAMMA);
}
static kn_status tweedie_fit(kn_model *m, const kn_dataset *d)
{
    return glm_fit_kind(m, d, FAM_TWEEDIE);
}
static kn_status any_fit(kn_model *m, const kn_dataset *d)
{
    const glm_params *par = kn_model_params(m);
    return glm_fit_kind(m, d, par->family);
}

#define GLM_VT(fit_fn)                                                                             \
    {                                                                                              \
        .task = KN_TASK_REGRESSION, .fit = fit_fn, .predict = glm_predict, .free_state = glm_free, \
        .save = glm_save, .load = glm_load, .coefficients = glm_coefficients,                      \
        .summary = glm_summary                                                                     \
    }
static const kn_model_vt poisson_vt = GLM_VT(poisson_fit), gamma_vt = GLM_VT(gamma_fit),
                         tweedie_vt = GLM_VT(tweedie_fit), glm_vt = GLM_VT(any_fit);

const kn_component kn__poisson_regressor = {
    KN_COMP_MODEL, "poisson_regressor", "Poisson GLM with log link, L2 penalty (counts)",
    sk_defs,       sizeof(glm_params),  &poisson_vt};
const kn_component kn__gamma_regressor = {
    KN_COMP_MODEL, "gamma_regressor",  "gamma GLM with log link, L2 penalty (positive targets)",
    sk_defs,       sizeof(glm_params), &gamma_vt};
const kn_component kn__tweedie_regressor = {
    KN_COMP_MODEL, "tweedie_regressor", "Tweedie GLM (power p), log link for p > 0",
    tweedie_defs,  sizeof(glm_params),  &tweedie_vt};
const kn_component kn__glm = {KN_COMP_MODEL,
                              "glm",
                              "generalised linear model (any family) with deviance, AIC and a "
                              "coefficient table",
                              glm_defs,
                              sizeof(glm_params),
                              &glm_vt};
