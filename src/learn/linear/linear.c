/* Least-squares linear models:
 *   linear_regression  ordinary least squares (minimum-norm solution when
 *                      features are collinear, as scipy's lstsq gives)
 *   ridge              least squares plus alpha * |coef|^2
 * Both centre X and y by their (weighted) means when fit_intercept and
 * scale rows by sqrt(weight). Least squares goes through LAPACK's SVD solve
 * (dgelsd) on [X; sqrt(alpha) I], never forming the normal equations, so
 * ill-conditioned data loses no more digits than it must (sklearn's
 * LinearRegression); ridge with alpha > 0 and at least as many rows as
 * features solves the normal equations by Cholesky, well conditioned by
 * alpha and one pass over the data (sklearn's Ridge solver "auto"). */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "learn/learn-impl.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

typedef struct linear_params {
    double alpha;
    int fit_intercept, solver;
} linear_params;

enum { SOLVER_AUTO, SOLVER_SVD, SOLVER_CHOLESKY };

static const kn_param_def ols_defs[] = {
    KN_PARAM_BOOL(linear_params, fit_intercept, "true", "fit an intercept (centre X and y)"),
    KN_PARAM_DOUBLE(linear_params, alpha, "0", 0, 0, "no penalty (use ridge for one)"),
    KN_PARAM_END};

static const kn_param_def ridge_defs[] = {
    KN_PARAM_DOUBLE(linear_params, alpha, "1", 0, 1e300, "L2 penalty on the coefficients"),
    KN_PARAM_BOOL(linear_params, fit_intercept, "true", "fit an intercept (centre X and y)"),
    KN_PARAM_ENUM(linear_params, solver, "auto", "auto|svd|cholesky",
                  "auto: Cholesky of X^T X + alpha I when alpha > 0 and rows >= features "
                  "(sklearn's choice), else SVD"),
    KN_PARAM_END};

typedef kn__linear_state linear_state;

void kn__linear_free(void *v)
{
    linear_state *s = v;
    if (!s) return;
    kn_free(s->coef);
    kn_free(s);
}

double kn__weighted_mean(const double *v, const double *w, size_t n)
{
    double sum = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        sum += wi * v[i];
        total += wi;
    }
    return total > 0 ? sum / total : 0;
}

/* Ridge by the normal equations: (Xc^T W Xc + alpha I) coef = Xc^T W yc,
 * one blocked pass for the Gram matrix and a Cholesky solve. */
static kn_status ridge_cholesky(const kn_model *m, const kn_dataset *d, double alpha, int centre,
                                double *xm, double *ym, double *coef)
{
    size_t p = d->p;
    double *G = kn_malloc((p ? p * p : 1) * sizeof *G);
    /* missing values turn the Gram pass's sums NaN; zero-weight blocks are
     * skipped there, so with weights the values are checked first */
    kn_status e = G ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && d->w) e = kn__refuse_missing(d);
    if (e == KN_OK) e = kn__centred_gram(d, centre, xm, ym, G, coef, NULL, NULL);
    for (size_t j = 0; e == KN_OK && j < p; j++)
        if (!isfinite(G[j * p + j]) && (e = kn__refuse_missing(d)) == KN_OK)
            e = kn_fail(KN_ERR_INVALID,
                        "%s: feature '%s' has infinite values or values too large to square; "
                        "scale it or clip it first",
                        kn_model_name(m), d->names[j]);
    for (size_t j = 0; e == KN_OK && j < p; j++) G[j * p + j] += alpha;
    lapack_int info = e == KN_OK ? LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', (lapack_int)p, 1, G,
                                                 (lapack_int)p, coef, (lapack_int)p)
                                 : 0;
    kn_free(G);
    if (e == KN_OK && info != 0)
        e = kn_fail(KN_ERR_INVALID,
                    "%s: the normal equations are not positive definite (LAPACK dposv info "
                    "%d); use solver=svd",
                    kn_model_name(m), (int)info);
    return e;
}

/* The SVD least-squares solve (dgelsd) of [sqrt(W) Xc; sqrt(alpha) I] coef
 * = [sqrt(W) yc; 0]. */
static kn_status least_squares_svd(const kn_model *m, const kn_dataset *d, double alpha,
                                   const double *xm, double ym, double *coef)
{
    size_t n = d->n, p = d->p, rows = n + (alpha > 0 ? p : 0);
    double *a = kn_calloc(rows * p, sizeof *a), *b = kn_calloc(rows > p ? rows : p, sizeof *b);
    double *sv = kn_malloc(p * sizeof *sv);
    kn_status e = a && b && sv ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) b[i] = (d->w ? sqrt(d->w[i]) : 1) * (d->y[i] - ym);
    for (size_t j = 0; e == KN_OK && j < p; j++) {
        const double *xj = kn_dataset_column(d, j);
        for (size_t i = 0; i < n; i++)
            a[j * rows + i] = (d->w ? sqrt(d->w[i]) : 1) * (xj[i] - xm[j]);
    }
    for (size_t j = 0; e == KN_OK && alpha > 0 && j < p; j++) a[j * rows + n + j] = sqrt(alpha);
    if (e == KN_OK) {
        lapack_int rank;
        lapack_int info =
            LAPACKE_dgelsd(LAPACK_COL_MAJOR, (lapack_int)rows, (lapack_int)p, 1, a,
                           (lapack_int)rows, b, (lapack_int)(rows > p ? rows : p), sv, -1.0, &rank);
        if (info != 0)
            e = kn_fail(KN_ERR_INVALID,
                        "%s: the least-squares solve failed (LAPACK dgelsd info %d)",
                        kn_model_name(m), (int)info);
        else
            memcpy(coef, b, p * sizeof *b);
    }
    kn_free(a), kn_free(b), kn_free(sv);
    return e;
}

static kn_status linear_fit(kn_model *m, const kn_dataset *d)
{
    const linear_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p;
    double *xm = kn_calloc(p, sizeof *xm), ym = 0;
    linear_state *s = kn_calloc(1, sizeof *s);
    kn_status e = xm && s ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && !(s->coef = kn_calloc(p, sizeof *s->coef))) e = KN_ERR_NOMEM;
    int cholesky = par->alpha > 0 &&
                   (par->solver == SOLVER_CHOLESKY || (par->solver == SOLVER_AUTO && n >= p));
    if (e == KN_OK && !cholesky && par->fit_intercept) { /* (the Cholesky pass takes its own) */
        ym = kn__weighted_mean(d->y, d->w, n);
#pragma omp parallel for schedule(static) if (n * p > 100000)
        for (size_t j = 0; j < p; j++) xm[j] = kn__weighted_mean(kn_dataset_column(d, j), d->w, n);
    }
    if (e == KN_OK && !cholesky) e = kn__refuse_missing(d); /* (Cholesky: in its pass) */
    if (e == KN_OK)
        e = cholesky ? ridge_cholesky(m, d, par->alpha, par->fit_intercept, xm, &ym, s->coef)
                     : least_squares_svd(m, d, par->alpha, xm, ym, s->coef);
    if (e == KN_OK) {
        s->p = p;
        s->intercept = ym;
        for (size_t j = 0; j < p; j++) s->intercept -= xm[j] * s->coef[j];
        kn_model_set_state(m, s);
        s = NULL;
    }
    kn__linear_free(s);
    kn_free(xm);
    return e;
}

kn_status kn__linear_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const linear_state *s = kn_model_state(m);
    for (size_t i = 0; i < d->n; i++) out[i] = s->intercept;
    for (size_t j = 0; j < s->p; j++) {
        const double *x = kn_dataset_column(d, j);
        double c = s->coef[j];
        for (size_t i = 0; i < d->n; i++) out[i] += c * x[i];
    }
    return KN_OK;
}

kn_status kn__linear_coefficients(const kn_model *m, double *coef, double *intercept)
{
    const linear_state *s = kn_model_state(m);
    memcpy(coef, s->coef, s->p * sizeof *coef);
    *intercept = s->intercept;
    return KN_OK;
}

kn_status kn__linear_save(const kn_model *m, kn_wbuf *w)
{
    const linear_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_f64(w, s->intercept);
    kn_wbuf_f64s(w, s->coef, s->p);
    return KN_OK;
}

kn_status kn__linear_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p = 0;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK && p != kn_model_n_features(m))
        return kn_fail(KN_ERR_CORRUPT, "%s: %llu coefficients for %zu features", r->what,
                       (unsigned long long)p, kn_model_n_features(m));
    if (e != KN_OK) return e;
    linear_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = (size_t)p;
    s->coef = kn_malloc((p ? p : 1) * sizeof *s->coef);
    e = s->coef ? kn_rbuf_f64(r, &s->intercept) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->coef, (size_t)p * sizeof *s->coef);
    if (e != KN_OK) {
        kn__linear_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt linear_vt = {.task = KN_TASK_REGRESSION,
                                      .fit = linear_fit,
                                      .predict = kn__linear_predict,
                                      .free_state = kn__linear_free,
                                      .save = kn__linear_save,
                                      .load = kn__linear_load,
                                      .coefficients = kn__linear_coefficients,
                                      .flags = KN_MODEL_READS_COLUMNS | KN_MODEL_FINDS_MISSING};

const kn_component kn__linear_regression = {
    KN_COMP_MODEL, "linear_regression",   "ordinary least squares (minimum-norm, through SVD)",
    ols_defs,      sizeof(linear_params), &linear_vt};
const kn_component kn__ridge = {
    KN_COMP_MODEL,         "ridge",   "least squares with an L2 penalty (alpha)", ridge_defs,
    sizeof(linear_params), &linear_vt};
