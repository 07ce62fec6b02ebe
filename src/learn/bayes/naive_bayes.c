/* gaussian_nb: Gaussian naive Bayes, as scikit-learn's GaussianNB computes
 * it: per class the (weighted) mean and variance of each feature, every
 * variance plus var_smoothing times the largest feature variance of the
 * whole training set (unweighted, as sklearn), and class priors from the (weighted) class counts.
 * A row's class scores are log prior + sum of Gaussian log densities; the
 * probabilities are their softmax. */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

typedef struct nb_params {
    double var_smoothing;
    const char *class_weight;
} nb_params;

static const kn_param_def nb_defs[] = {
    KN_PARAM_DOUBLE(nb_params, var_smoothing, "1e-9", 0, 1,
                    "share of the largest feature variance added to every variance"),
    KN__CLASS_WEIGHT(nb_params), KN_PARAM_END};

typedef struct nb_state {
    size_t k, p;
    double *mean, *var; /* k x p, row-major */
    double *log_prior;  /* k */
} nb_state;

static void nb_free(void *v)
{
    nb_state *s = v;
    if (!s) return;
    kn_free(s->mean);
    kn_free(s->var);
    kn_free(s->log_prior);
    kn_free(s);
}

static nb_state *nb_alloc(size_t k, size_t p)
{
    nb_state *s = kn_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->k = k;
    s->p = p;
    s->mean = kn_calloc(k * p + 1, sizeof *s->mean);
    s->var = kn_calloc(k * p + 1, sizeof *s->var);
    s->log_prior = kn_calloc(k + 1, sizeof *s->log_prior);
    if (!s->mean || !s->var || !s->log_prior) {
        nb_free(s);
        return NULL;
    }
    return s;
}

static kn_status nb_fit_rows(kn_model *m, const kn_dataset *d)
{
    const nb_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, k = d->n_classes;
    nb_state *s = nb_alloc(k, p);
    double *wsum = kn_calloc(k + 1, sizeof *wsum);
    if (!s || !wsum) {
        nb_free(s);
        kn_free(wsum);
        return KN_ERR_NOMEM;
    }
    double total = 0, max_var = 0;
    for (size_t i = 0; i < n; i++) {
        double w = d->w ? d->w[i] : 1;
        wsum[(size_t)d->y[i]] += w;
        total += w;
    }
    for (size_t j = 0; j < p; j++) {
        const double *x = d->x + j * n;
        double mu = 0, v = 0; /* the smoothing scale: unweighted, as sklearn's np.var(X) */
        for (size_t i = 0; i < n; i++) mu += x[i];
        mu /= (double)n;
        for (size_t i = 0; i < n; i++) v += (x[i] - mu) * (x[i] - mu);
        max_var = fmax(max_var, v / (double)n);
        for (size_t i = 0; i < n; i++)
            s->mean[(size_t)d->y[i] * p + j] += (d->w ? d->w[i] : 1) * x[i];
        for (size_t c = 0; c < k; c++) s->mean[c * p + j] /= wsum[c];
        for (size_t i = 0; i < n; i++) {
            double dv = x[i] - s->mean[(size_t)d->y[i] * p + j];
            s->var[(size_t)d->y[i] * p + j] += (d->w ? d->w[i] : 1) * dv * dv;
        }
        for (size_t c = 0; c < k; c++) s->var[c * p + j] /= wsum[c];
    }
    double eps = par->var_smoothing * max_var;
    for (size_t c = 0; c < k; c++) {
        s->log_prior[c] = log(wsum[c] / total);
        for (size_t j = 0; j < p; j++) s->var[c * p + j] += eps;
    }
    kn_free(wsum);
    for (size_t q = 0; q < k * p; q++)
        if (!(s->var[q] > 0)) {
            nb_free(s);
            return kn_fail(KN_ERR_INVALID,
                           "gaussian_nb: feature '%s' is constant within class "
                           "%zu and var_smoothing is 0; raise var_smoothing",
                           d->names[q % p], q / p);
        }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The fit with class_weight applied to the rows' weights. */
static kn_status nb_fit(kn_model *m, const kn_dataset *d)
{
    const nb_params *par = kn_model_params(m);
    kn_dataset dw;
    double *w = NULL;
    kn_status e = kn__class_weighted(d, par->class_weight, &dw, &w);
    if (e == KN_OK) e = nb_fit_rows(m, &dw);
    kn_free(w);
    return e;
}

/* Joint log likelihood, n x k row-major. */
static void jll(const nb_state *s, const kn_dataset *d, double *out)
{
    size_t n = d->n, p = s->p, k = s->k;
    for (size_t c = 0; c < k; c++) {
        double norm = 0;
        for (size_t j = 0; j < p; j++) norm += log(2.0 * 3.141592653589793 * s->var[c * p + j]);
        for (size_t i = 0; i < n; i++) out[i * k + c] = s->log_prior[c] - 0.5 * norm;
        for (size_t j = 0; j < p; j++) {
            const double *x = d->x + j * n;
            double mu = s->mean[c * p + j], v = s->var[c * p + j];
            for (size_t i = 0; i < n; i++) out[i * k + c] -= 0.5 * (x[i] - mu) * (x[i] - mu) / v;
        }
    }
}

void kn__softmax_rows(double *v, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++) {
        double *row = v + i * k, mx = -INFINITY, sum = 0;
        for (size_t c = 0; c < k; c++) mx = fmax(mx, row[c]);
        for (size_t c = 0; c < k; c++) sum += exp(row[c] - mx);
        /* sum >= 1: the largest score contributes exp(0) */
        // cppcheck-suppress invalidFunctionArg
        double lse = mx + log(sum);
        for (size_t c = 0; c < k; c++) row[c] = exp(row[c] - lse);
    }
}

void kn__argmax_rows(const double *v, size_t n, size_t k, double *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t c = 1; c < k; c++)
            if (v[i * k + c] > v[i * k + best]) best = c;
        out[i] = (double)best;
    }
}

static kn_status nb_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const nb_state *s = kn_model_state(m);
    jll(s, d, out);
    kn__softmax_rows(out, d->n, s->k);
    return KN_OK;
}

static kn_status nb_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const nb_state *s = kn_model_state(m);
    double *j = kn_malloc((d->n ? d->n * s->k : 1) * sizeof *j);
    if (!j) return KN_ERR_NOMEM;
    jll(s, d, j);
    kn__argmax_rows(j, d->n, s->k, out);
    kn_free(j);
    return KN_OK;
}

static kn_status nb_save(const kn_model *m, kn_wbuf *w)
{
    const nb_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_f64s(w, s->mean, s->k * s->p);
    kn_wbuf_f64s(w, s->var, s->k * s->p);
    kn_wbuf_f64s(w, s->log_prior, s->k);
    return KN_OK;
}

static kn_status nb_load(kn_model *m, kn_rbuf *r)
{
    uint64_t k = 0, p = 0;
    kn_status e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u64(r, &p);
    if (e == KN_OK && (k != kn_model_n_classes(m) || p != kn_model_n_features(m)))
        return kn_fail(KN_ERR_CORRUPT, "%s: naive Bayes state does not match the model's shape",
                       r->what);
    if (e != KN_OK) return e;
    nb_state *s = nb_alloc((size_t)k, (size_t)p);
    if (!s) return KN_ERR_NOMEM;
    e = kn_rbuf_bytes(r, s->mean, (size_t)(k * p) * 8);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->var, (size_t)(k * p) * 8);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->log_prior, (size_t)k * 8);
    for (size_t q = 0; e == KN_OK && q < k * p; q++)
        if (!(s->var[q] > 0))
            e = kn_fail(KN_ERR_CORRUPT, "%s: a variance is not positive", r->what);
    if (e != KN_OK) {
        nb_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt nb_vt = {.task = KN_TASK_CLASSIFICATION,
                                  .fit = nb_fit,
                                  .predict = nb_predict,
                                  .predict_proba = nb_proba,
                                  .free_state = nb_free,
                                  .save = nb_save,
                                  .load = nb_load};

const kn_component kn__gaussian_nb = {
    KN_COMP_MODEL, "gaussian_nb",     "Gaussian naive Bayes (per-class means and variances)",
    nb_defs,       sizeof(nb_params), &nb_vt};
