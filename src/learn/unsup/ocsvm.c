/* one_class_svm: a one-class support vector machine with the RBF kernel,
 * fitted without a target (KN_MODEL_UNSUPERVISED), as scikit-learn's
 * OneClassSVM (libsvm's one-class formulation): minimise 1/2 a'Ka over
 * 0 <= a_i <= 1, sum a = nu x rows, by SMO with second-order working-set
 * selection (Fan, Chen and Lin, 2005), from a_i = 1 for the first
 * floor(nu x rows) rows and the remainder on the next; stop when the
 * maximal violating pair's gap is below tol. K(x, x') = exp(-gamma |x -
 * x'|^2), gamma 0 meaning scikit-learn's "scale": 1 / (features x the
 * variance of all values). rho is the mean gradient over the free a (or
 * the middle of the bounds). predict gives scikit-learn's score_samples,
 * sum_i a_i K(sv_i, x) (lower is more anomalous), or with
 * predict_output=label 1 where it is below rho (the decision function is
 * negative); the summary's stat 0, "threshold", is rho, as kiln anomaly
 * expects. The kernel matrix is kept whole up to 2,000 rows, else its rows
 * are computed as SMO needs them. Deterministic: no randomness. */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct oc_params {
    double nu, gamma, tol;
    int64_t max_iter;
    int predict_output;
} oc_params;

static const kn_param_def oc_defs[] = {
    KN_PARAM_DOUBLE(oc_params, nu, "0.5", 0, 1,
                    "upper bound on the share of training rows outside, lower bound on the "
                    "share of support vectors"),
    KN_PARAM_DOUBLE(oc_params, gamma, "0", 0, 1e300,
                    "RBF kernel exp(-gamma |x - x'|^2); 0: scikit-learn's 'scale', 1 / (features "
                    "x variance of all values)"),
    KN_PARAM_DOUBLE(oc_params, tol, "1e-3", 1e-15, 1,
                    "stop when the violating pair's gap is below"),
    KN_PARAM_INT(oc_params, max_iter, "10000000", 1, 1e15, "SMO steps at most"),
    KN_PARAM_ENUM(oc_params, predict_output, "score", "score|label",
                  "score: scikit-learn's score_samples (lower is more anomalous); label: 1 for "
                  "an anomaly, else 0"),
    KN_PARAM_END};

static kn_status oc_validate(const void *params)
{
    const oc_params *p = params;
    if (!(p->nu > 0))
        return kn_fail(KN_ERR_INVALID,
                       "one_class_svm: nu=0 leaves no support vector; give nu in (0, 1], the "
                       "share of training rows allowed outside (e.g. 0.1)");
    return KN_OK;
}

typedef struct oc_state {
    size_t p, n_sv;
    double gamma, rho;
    double *coef, *sv; /* n_sv; n_sv x p, row-major */
} oc_state;

static void oc_free(void *v)
{
    oc_state *s = v;
    if (!s) return;
    kn_free(s->coef), kn_free(s->sv);
    kn_free(s);
}

static double kern(const double *a, const double *b, size_t p, double gamma)
{
    double d = 0;
    for (size_t j = 0; j < p; j++) {
        double t = a[j] - b[j];
        d += t * t;
    }
    return exp(-gamma * d);
}

/* Row i of the kernel matrix: from the whole matrix, or computed into buf. */
static const double *krow(const double *x, size_t n, size_t p, double gamma, const double *full,
                          size_t i, double *buf)
{
    if (full) return full + i * n;
    for (size_t t = 0; t < n; t++) buf[t] = kern(x + i * p, x + t * p, p, gamma);
    return buf;
}

static kn_status oc_fit(kn_model *m, const kn_dataset *d)
{
    const oc_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p;
    if (n == 0) return kn_fail(KN_ERR_INVALID, "one_class_svm: no rows to fit on");
    int whole = n <= 2000;
    double *x = kn_malloc((n * p + 1) * sizeof *x), *a = kn_calloc(n, sizeof *a);
    double *g = kn_calloc(n, sizeof *g), *bi = kn_malloc(n * sizeof *bi);
    double *bj = kn_malloc(n * sizeof *bj), *full = whole ? kn_malloc(n * n * sizeof *full) : NULL;
    oc_state *s = kn_calloc(1, sizeof *s);
    kn_status e = x && a && g && bi && bj && s && (!whole || full) ? KN_OK : KN_ERR_NOMEM;
    if (e != KN_OK) goto done;
    double mean = 0, ss = 0;
    for (size_t j = 0; j < p; j++) {
        const double *col = kn_dataset_column(d, j);
        for (size_t i = 0; i < n; i++) x[i * p + j] = col[i], mean += col[i];
    }
    size_t cells = n * p;
    mean /= (double)(cells > 0 ? cells : 1);
    for (size_t v = 0; v < cells; v++) ss += (x[v] - mean) * (x[v] - mean);
    double var = cells > 0 ? ss / (double)cells : 0;
    double gamma = par->gamma > 0 ? par->gamma : (var > 0 ? 1 / ((double)p * var) : 1);
    if (whole)
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t <= i; t++)
                full[i * n + t] = full[t * n + i] = kern(x + i * p, x + t * p, p, gamma);
    double nl = par->nu * (double)n;
    size_t na = (size_t)nl;
    for (size_t i = 0; i < na && i < n; i++) a[i] = 1;
    if (na < n) a[na] = nl - (double)na;
    for (size_t i = 0; i < n; i++) /* gradient K a */
        if (a[i] > 0) {
            const double *q = krow(x, n, p, gamma, full, i, bi);
            for (size_t t = 0; t < n; t++) g[t] += a[i] * q[t];
        }
    const double tau = 1e-12;
    for (int64_t it = 0; it < par->max_iter; it++) {
        double gmax = -INFINITY, gmax2 = -INFINITY, best = INFINITY;
        size_t i = SIZE_MAX, j = SIZE_MAX;
        for (size_t t = 0; t < n; t++)
            if (a[t] < 1 && -g[t] >= gmax) gmax = -g[t], i = t;
        if (i == SIZE_MAX) break;
        const double *qi = krow(x, n, p, gamma, full, i, bi);
        for (size_t t = 0; t < n; t++) {
            if (a[t] <= 0) continue;
            double diff = gmax + g[t];
            if (g[t] >= gmax2) gmax2 = g[t];
            if (diff > 0) {
                double quad = 2 - 2 * qi[t], obj = -(diff * diff) / (quad > 0 ? quad : tau);
                if (obj <= best) best = obj, j = t;
            }
        }
        if (gmax + gmax2 < par->tol || j == SIZE_MAX) break;
        const double *qj = krow(x, n, p, gamma, full, j, bj);
        double quad = 2 - 2 * qi[j];
        if (quad <= 0) quad = tau;
        double oi = a[i], oj = a[j], delta = (g[i] - g[j]) / quad, sum = oi + oj;
        a[i] -= delta;
        a[j] += delta;
        if (sum > 1) {
            if (a[i] > 1) a[i] = 1, a[j] = sum - 1;
        } else if (a[j] < 0)
            a[j] = 0, a[i] = sum;
        if (sum > 1) {
            if (a[j] > 1) a[j] = 1, a[i] = sum - 1;
        } else if (a[i] < 0)
            a[i] = 0, a[j] = sum;
        double di = a[i] - oi, dj = a[j] - oj;
        for (size_t t = 0; t < n; t++) g[t] += qi[t] * di + qj[t] * dj;
    }
    double ub = INFINITY, lb = -INFINITY, sum_free = 0;
    size_t n_free = 0, n_sv = 0;
    for (size_t t = 0; t < n; t++) {
        if (a[t] >= 1)
            lb = g[t] > lb ? g[t] : lb;
        else if (a[t] <= 0)
            ub = g[t] < ub ? g[t] : ub;
        else
            sum_free += g[t], n_free++;
        n_sv += a[t] > 0;
    }
    s->rho = n_free ? sum_free / (double)n_free : (ub + lb) / 2;
    s->p = p;
    s->gamma = gamma;
    s->coef = kn_malloc((n_sv + 1) * sizeof *s->coef);
    s->sv = kn_malloc((n_sv * p + 1) * sizeof *s->sv);
    if (!s->coef || !s->sv) {
        e = KN_ERR_NOMEM;
        goto done;
    }
    for (size_t t = 0; t < n; t++)
        if (a[t] > 0) {
            s->coef[s->n_sv] = a[t];
            memcpy(s->sv + s->n_sv * p, x + t * p, p * sizeof *x);
            s->n_sv++;
        }
done:
    kn_free(x), kn_free(a), kn_free(g), kn_free(bi), kn_free(bj), kn_free(full);
    if (e != KN_OK) {
        oc_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status oc_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const oc_state *s = kn_model_state(m);
    const oc_params *par = kn_model_params(m);
    size_t n = d->n, p = s->p;
    double *row = kn_malloc((p + 1) * sizeof *row);
    if (!row) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++) row[j] = kn_dataset_column(d, j)[i];
        double v = 0;
        for (size_t q = 0; q < s->n_sv; q++)
            v += s->coef[q] * kern(s->sv + q * p, row, p, s->gamma);
        out[i] = par->predict_output ? (double)(v - s->rho < 0) : v;
    }
    kn_free(row);
    return KN_OK;
}

static kn_status oc_summary(const kn_model *m, kn_fit_summary *out)
{
    const oc_state *s = kn_model_state(m);
    memset(out, 0, sizeof *out);
    out->n_stats = 3;
    out->stat_name[0] = "threshold";
    out->stat[0] = s->rho;
    out->stat_name[1] = "support_vectors";
    out->stat[1] = (double)s->n_sv;
    out->stat_name[2] = "gamma";
    out->stat[2] = s->gamma;
    return KN_OK;
}

static kn_status oc_save(const kn_model *m, kn_wbuf *w)
{
    const oc_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->n_sv);
    kn_wbuf_f64(w, s->gamma);
    kn_wbuf_f64(w, s->rho);
    kn_wbuf_f64s(w, s->coef, s->n_sv);
    kn_wbuf_f64s(w, s->sv, s->n_sv * s->p);
    return kn_wbuf_status(w);
}

static kn_status oc_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p, n_sv;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &n_sv);
    if (e != KN_OK) return e;
    if (p != kn_model_n_features(m) || n_sv > kn_rbuf_left(r) / 8 / (p + 1))
        return kn_fail(KN_ERR_CORRUPT, "%s: one-class SVM header is damaged", r->what);
    oc_state *s = kn_calloc(1, sizeof *s);
    if (s) s->coef = kn_malloc((n_sv + 1) * sizeof *s->coef);
    if (s && s->coef) s->sv = kn_malloc((n_sv * p + 1) * sizeof *s->sv);
    if (!s || !s->coef || !s->sv) {
        oc_free(s);
        return KN_ERR_NOMEM;
    }
    s->p = p;
    s->n_sv = n_sv;
    e = kn_rbuf_f64(r, &s->gamma);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->rho);
    for (size_t v = 0; e == KN_OK && v < n_sv; v++) e = kn_rbuf_f64(r, &s->coef[v]);
    for (size_t v = 0; e == KN_OK && v < n_sv * p; v++) e = kn_rbuf_f64(r, &s->sv[v]);
    if (e != KN_OK) {
        oc_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt oc_vt = {.task = KN_TASK_REGRESSION,
                                  .fit = oc_fit,
                                  .predict = oc_predict,
                                  .free_state = oc_free,
                                  .save = oc_save,
                                  .load = oc_load,
                                  .summary = oc_summary,
                                  .flags = KN_MODEL_READS_COLUMNS | KN_MODEL_UNSUPERVISED,
                                  .validate = oc_validate};

const kn_component kn__one_class_svm = {
    KN_COMP_MODEL,
    "one_class_svm",
    "one-class SVM with the RBF kernel (nu, gamma), as scikit-learn's OneClassSVM: anomaly "
    "scores fitted without a target ('kiln anomaly --method one_class_svm')",
    oc_defs,
    sizeof(oc_params),
    &oc_vt};
