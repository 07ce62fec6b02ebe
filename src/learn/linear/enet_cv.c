/* lasso_cv and elastic_net_cv: the penalty chosen by k-fold cross-validation
 * along a regularisation path, as scikit-learn's LassoCV / ElasticNetCV:
 * n_alphas values from the full data's alpha_max down to alpha_max * eps
 * (log-spaced; the grid ignores sample weights, as sklearn's), each fold's
 * training rows centred on their own means and
 * fitted along the whole grid with warm starts, the (weighted) mean squared
 * error on the fold's test rows averaged over folds, and the model refitted
 * on all rows at the alpha with the lowest mean error (the first on a tie).
 * Folds are sklearn's KFold without shuffling. The fit summary reports the
 * chosen alpha and its cross-validated MSE. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/split.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

typedef struct cv_params {
    double l1_ratio;
    int64_t n_alphas;
    double eps;
    int64_t folds;
    int fit_intercept;
    int64_t max_iter;
    double tol;
} cv_params;

#define CV_COMMON                                                                                  \
    KN_PARAM_INT(cv_params, n_alphas, "100", 1, 100000, "penalties tried along the path"),         \
        KN_PARAM_DOUBLE(cv_params, eps, "1e-3", 1e-12, 1, "smallest alpha / largest alpha"),       \
        KN_PARAM_INT(cv_params, folds, "5", 2, 1000, "k of the k-fold split (in row order)"),      \
        KN_PARAM_BOOL(cv_params, fit_intercept, "true", "fit an intercept (centre X and y)"),      \
        KN_PARAM_INT(cv_params, max_iter, "1000", 1, 100000000, "coordinate descent epochs"),      \
        KN_PARAM_DOUBLE(cv_params, tol, "1e-4", 0, 1,                                              \
                        "stop when the duality gap is below tol * |y - mean|^2")

static const kn_param_def lasso_cv_defs[] = {
    KN_PARAM_DOUBLE(cv_params, l1_ratio, "1", 1, 1, "fixed at 1 (elastic_net_cv mixes)"), CV_COMMON,
    KN_PARAM_END};
static const kn_param_def enet_cv_defs[] = {
    KN_PARAM_DOUBLE(cv_params, l1_ratio, "0.5", 0.001, 1, "share of L1 in the penalty"), CV_COMMON,
    KN_PARAM_END};

typedef struct cv_state {
    kn__linear_state lin; /* first: the linear predict/coefficients read it */
    double alpha, mse;
} cv_state;

static void cv_free(void *v)
{
    cv_state *s = v;
    if (!s) return;
    kn_free(s->lin.coef);
    kn_free(s);
}

/* The rows idx[0..m) of d as a new dataset (features, target, weights). */
static kn_status subset(const kn_dataset *d, const size_t *idx, size_t m, kn_dataset *out)
{
    memset(out, 0, sizeof *out);
    out->n = m;
    out->p = d->p;
    out->x = kn_malloc((m * d->p > 0 ? m * d->p : 1) * sizeof *out->x);
    out->y = kn_malloc((m ? m : 1) * sizeof *out->y);
    out->w = d->w ? kn_malloc((m ? m : 1) * sizeof *out->w) : NULL;
    if (!out->x || !out->y || (d->w && !out->w)) return KN_ERR_NOMEM;
    for (size_t j = 0; j < d->p; j++)
        for (size_t i = 0; i < m; i++) out->x[j * m + i] = d->x[j * d->n + idx[i]];
    for (size_t i = 0; i < m; i++) {
        out->y[i] = d->y[idx[i]];
        if (d->w) out->w[i] = d->w[idx[i]];
    }
    return KN_OK;
}

static void subset_free(kn_dataset *s)
{
    kn_free(s->x);
    kn_free(s->y);
    kn_free(s->w);
}

/* Add each alpha's test MSE of fold f to mse[a]. */
static kn_status fold_errors(const kn_dataset *d, const kn_fold *fo, const cv_params *par,
                             const double *alphas, double *mse)
{
    size_t A = (size_t)par->n_alphas, p = d->p;
    kn_dataset tr = {0}, te = {0};
    kn__enet_data e = {0};
    double *coefs = kn_malloc(A * (p ? p : 1) * sizeof *coefs);
    kn_status st = coefs ? subset(d, fo->train, fo->n_train, &tr) : KN_ERR_NOMEM;
    if (st == KN_OK) st = subset(d, fo->test, fo->n_test, &te);
    if (st == KN_OK) st = kn__enet_prepare(&tr, par->fit_intercept, -1, &e);
    if (st == KN_OK)
        st = kn__enet_path(&e, alphas, A, par->l1_ratio, (int)par->max_iter, par->tol, coefs);
    for (size_t a = 0; st == KN_OK && a < A; a++) {
        const double *c = coefs + a * p;
        double b = e.ym, sum = 0, wsum = 0;
        for (size_t j = 0; j < p; j++) b -= e.xm[j] * c[j];
        for (size_t i = 0; i < te.n; i++) {
            double pred = b, w = te.w ? te.w[i] : 1;
            for (size_t j = 0; j < p; j++) pred += te.x[j * te.n + i] * c[j];
            sum += w * (te.y[i] - pred) * (te.y[i] - pred);
            wsum += w;
        }
        mse[a] += sum / wsum;
    }
    kn__enet_data_free(&e);
    subset_free(&tr);
    subset_free(&te);
    kn_free(coefs);
    return st;
}

static kn_status cv_fit(kn_model *m, const kn_dataset *d)
{
    const cv_params *par = kn_model_params(m);
    size_t A = (size_t)par->n_alphas, p = d->p;
    double *alphas = kn_malloc(A * sizeof *alphas), *mse = kn_calloc(A, sizeof *mse);
    cv_state *s = kn_calloc(1, sizeof *s);
    kn__enet_data all = {0};
    kn_folds folds = {0};
    kn_split_opts o;
    kn_split_opts_default(&o);
    o.folds = (size_t)par->folds;
    double amax = 0;
    kn_status st = alphas && mse && s ? KN_OK : KN_ERR_NOMEM;
    if (st == KN_OK && !(s->lin.coef = kn_calloc(p ? p : 1, sizeof *s->lin.coef)))
        st = KN_ERR_NOMEM;
    if (st == KN_OK) st = kn__enet_prepare(d, par->fit_intercept, -1, &all);
    if (st == KN_OK && d->w) { /* sklearn's grid ignores sample weights */
        kn_dataset plain = *d;
        kn__enet_data un;
        plain.w = NULL;
        st = kn__enet_prepare(&plain, par->fit_intercept, -1, &un);
        if (st == KN_OK) amax = kn__enet_alpha_max(&un, par->l1_ratio);
        kn__enet_data_free(&un);
    } else if (st == KN_OK)
        amax = kn__enet_alpha_max(&all, par->l1_ratio);
    if (st == KN_OK) {
        if (!(amax > 0))
            st = kn_fail(KN_ERR_INVALID,
                         "%s: the target does not vary with any feature "
                         "(every alpha gives zero coefficients)",
                         kn_model_name(m));
        else
            kn__enet_alpha_grid(amax, par->eps, A, alphas);
    }
    if (st == KN_OK) st = kn_split_folds(d->n, NULL, &o, &folds);
    for (size_t f = 0; st == KN_OK && f < folds.k; f++)
        st = fold_errors(d, &folds.fold[f], par, alphas, mse);
    size_t best = 0;
    for (size_t a = 1; st == KN_OK && a < A; a++)
        if (mse[a] < mse[best]) best = a;
    if (st == KN_OK) { /* refit on every row at the chosen alpha, from zero */
        kn__enet_result r;
        st = kn__enet_cd(&all, alphas[best], par->l1_ratio, (int)par->max_iter, par->tol, NULL,
                         s->lin.coef, &r);
        if (st == KN_OK && !r.converged)
            kn_log(KN_LOG_WARN, "%s: the refit did not converge in %d epochs; raise max_iter",
                   kn_model_name(m), r.iterations);
    }
    if (st == KN_OK) {
        s->lin.p = p;
        s->lin.intercept = all.ym;
        for (size_t j = 0; j < p; j++) s->lin.intercept -= all.xm[j] * s->lin.coef[j];
        s->alpha = alphas[best];
        s->mse = mse[best] / (double)folds.k;
        kn_log(KN_LOG_INFO, "%s: alpha %.6g chosen from %zu by %zu-fold CV (MSE %.6g)",
               kn_model_name(m), s->alpha, A, folds.k, s->mse);
        kn_model_set_state(m, s);
        s = NULL;
    }
    cv_free(s);
    kn__enet_data_free(&all);
    kn_folds_free(&folds);
    kn_free(alphas);
    kn_free(mse);
    return st;
}

static kn_status cv_summary(const kn_model *m, kn_fit_summary *out)
{
    const cv_state *s = kn_model_state(m);
    out->n_stats = 2;
    out->stat_name[0] = "alpha";
    out->stat[0] = s->alpha;
    out->stat_name[1] = "cv_mse";
    out->stat[1] = s->mse;
    return KN_OK;
}

static kn_status cv_save(const kn_model *m, kn_wbuf *w)
{
    const cv_state *s = kn_model_state(m);
    kn_status e = kn__linear_save(m, w);
    kn_wbuf_f64(w, s->alpha);
    kn_wbuf_f64(w, s->mse);
    return e;
}

static kn_status cv_load(kn_model *m, kn_rbuf *r)
{
    kn_status e = kn__linear_load(m, r); /* a plain linear state, then moved into ours */
    if (e != KN_OK) return e;
    const kn__linear_state *lin = kn_model_state(m);
    cv_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->lin = *lin;
    ((kn__linear_state *)lin)->coef = NULL; /* now owned by s */
    e = kn_rbuf_f64(r, &s->alpha);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->mse);
    kn_model_set_state(m, s); /* frees the emptied linear state */
    return e;
}

static const kn_model_vt cv_vt = {.task = KN_TASK_REGRESSION,
                                  .fit = cv_fit,
                                  .predict = kn__linear_predict,
                                  .free_state = cv_free,
                                  .save = cv_save,
                                  .load = cv_load,
                                  .coefficients = kn__linear_coefficients,
                                  .summary = cv_summary};

const kn_component kn__lasso_cv = {
    KN_COMP_MODEL, "lasso_cv",        "lasso with alpha chosen by k-fold CV along the path",
    lasso_cv_defs, sizeof(cv_params), &cv_vt};
const kn_component kn__elastic_net_cv = {
    KN_COMP_MODEL, "elastic_net_cv",  "elastic net with alpha chosen by k-fold CV along the path",
    enet_cv_defs,  sizeof(cv_params), &cv_vt};
