/* power_transformer: the Yeo-Johnson transform, which makes a skewed column
 * more Gaussian-like for any sign of value:
 *     x >= 0:  ((x + 1)^l - 1) / l        (log1p(x)        when l = 0)
 *     x <  0:  -((1 - x)^(2 - l) - 1) / (2 - l)   (-log1p(-x) when l = 2)
 * Per column, l maximises the Gaussian log-likelihood of the transformed
 * values, found with Brent's method from the pair (-2, 2); then, by default,
 * the result is standardised (mean 0, variance 1). The likelihood sums in
 * NumPy's pairwise order so l agrees with scikit-learn's PowerTransformer. */
#include "kiln/brent.h"
#include "kiln/mem.h"
#include "kiln/step.h"
#include "kiln/sum.h"
#include "prep/prep-impl.h"

#include <float.h>
#include <math.h>

typedef struct power_params {
    kn_step_common common;
    int standardize;
} power_params;

static const kn_param_def power_defs[] = {
    KN_STEP_COMMON_PARAMS(power_params),
    KN_PARAM_BOOL(power_params, standardize, "true", "scale the result to mean 0 and variance 1"),
    KN_PARAM_END};

typedef struct power_state {
    size_t n;
    double *lambda, *mean, *scale; /* per fitted column; mean 0, scale 1 unless standardised */
} power_state;

static void power_free(void *p)
{
    power_state *s = p;
    if (!s) return;
    kn_free(s->lambda);
    kn_free(s->mean);
    kn_free(s->scale);
    kn_free(s);
}

static double yeo_johnson(double x, double l)
{
    if (x >= 0) return fabs(l) < DBL_EPSILON ? log1p(x) : (pow(x + 1, l) - 1) / l;
    return fabs(l - 2) > DBL_EPSILON ? -(pow(-x + 1, 2 - l) - 1) / (2 - l) : -log1p(-x);
}

/* The negative log-likelihood of l over one column's non-missing values. */
typedef struct likelihood {
    const double *x;
    double *work;
    size_t n;
    double log_sum; /* sum of sign(x) log1p(|x|), which does not depend on l */
} likelihood;

static double neg_log_likelihood(double l, void *ctx)
{
    likelihood *lk = ctx;
    size_t n = lk->n;
    for (size_t i = 0; i < n; i++) lk->work[i] = yeo_johnson(lk->x[i], l);
    double mean = kn_sum_pairwise(lk->work, n) / (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = lk->work[i] - mean;
        lk->work[i] = d * d;
    }
    double var = kn_sum_pairwise(lk->work, n) / (double)n;
    if (var < DBL_MIN) return INFINITY; /* constant after transform: reject l */
    double loglike = -(double)n / 2 * log(var);
    loglike += (l - 1) * lk->log_sum;
    return -loglike;
}

static kn_status fit_lambda(const kn_step *st, kn_column *c, size_t rows, double *lambda)
{
    const double *v = kn_column_f64(c);
    double *x = kn_malloc(2 * (rows ? rows : 1) * sizeof *x);
    if (!x) return KN_ERR_NOMEM;
    likelihood lk = {x, x + rows, 0, 0};
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r])) x[lk.n++] = v[r];
    if (lk.n < 2) {
        kn_free(x);
        return kn_fail(KN_ERR_RANGE,
                       "%s: column '%s' has %zu non-missing value(s); fitting the power "
                       "needs at least 2",
                       kn_step_name(st), kn_column_name(c), lk.n);
    }
    for (size_t i = 0; i < lk.n; i++)
        lk.work[i] = x[i] > 0 ? log1p(x[i]) : x[i] < 0 ? -log1p(-x[i]) : 0;
    lk.log_sum = kn_sum_pairwise(lk.work, lk.n);
    kn_brent_result res;
    kn_status e = kn_brent_minimize(neg_log_likelihood, &lk, -2, 2, &res);
    kn_free(x);
    if (e != KN_OK)
        return kn_fail_prefix(e, "%s: column '%s': ", kn_step_name(st), kn_column_name(c));
    *lambda = res.x;
    return KN_OK;
}

/* Mean and standard deviation (ddof 0) of the transformed column, as the
 * standard scaler learns them. */
static void fit_scale(const double *v, size_t rows, double l, double *mean, double *scale)
{
    double sum = 0, m2 = 0;
    size_t k = 0;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r])) {
            sum += yeo_johnson(v[r], l);
            k++;
        }
    double mu = sum / (double)k;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r])) {
            double d = yeo_johnson(v[r], l) - mu;
            m2 += d * d;
        }
    *mean = mu;
    *scale = kn__nonzero_scale(sqrt(m2 / (double)k));
}

static kn_status power_alloc(size_t n, power_state **out)
{
    power_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = n;
    s->lambda = kn_calloc(n ? n : 1, sizeof *s->lambda);
    s->mean = kn_calloc(n ? n : 1, sizeof *s->mean);
    s->scale = kn_calloc(n ? n : 1, sizeof *s->scale);
    if (!s->lambda || !s->mean || !s->scale) {
        power_free(s);
        return KN_ERR_NOMEM;
    }
    *out = s;
    return KN_OK;
}

static kn_status power_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const power_params *p = kn_step_params(st);
    size_t rows = kn_frame_n_rows(x);
    power_state *s;
    if (power_alloc(n, &s) != KN_OK) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        kn_status e = KN_OK;
        if (kn_column_type(c) != KN_COL_NUMERIC)
            e = kn_fail(KN_ERR_TYPE, "%s: column '%s' is %s; it takes numeric columns",
                        kn_step_name(st), kn_column_name(c), kn_col_type_name(kn_column_type(c)));
        if (e == KN_OK) e = fit_lambda(st, c, rows, &s->lambda[i]);
        if (e != KN_OK) {
            power_free(s);
            return e;
        }
        s->mean[i] = 0;
        s->scale[i] = 1;
        if (p->standardize)
            fit_scale(kn_column_f64(c), rows, s->lambda[i], &s->mean[i], &s->scale[i]);
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static kn_status power_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const power_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        double *v = kn_column_f64(kn_frame_col(out, cols[i]));
        double l = s->lambda[i], mean = s->mean[i], scale = s->scale[i];
        for (size_t r = 0; r < rows; r++)
            if (!isnan(v[r])) v[r] = (yeo_johnson(v[r], l) - mean) / scale;
    }
    return KN_OK;
}

static kn_status power_save(const kn_step *st, kn_wbuf *w)
{
    const power_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_f64s(w, s->lambda, s->n);
    kn_wbuf_f64s(w, s->mean, s->n);
    kn_wbuf_f64s(w, s->scale, s->n);
    return KN_OK;
}

static kn_status power_load(kn_step *st, kn_rbuf *r, size_t n)
{
    power_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = n;
    kn_status e = kn__state_count(r, n, "power_transformer");
    if (e == KN_OK) e = kn__decode_f64s(r, n, &s->lambda);
    if (e == KN_OK) e = kn__decode_f64s(r, n, &s->mean);
    if (e == KN_OK) e = kn__decode_f64s(r, n, &s->scale);
    if (e != KN_OK) {
        power_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt power_vt = {.default_type = KN_COL_NUMERIC,
                                    .fit = power_fit,
                                    .transform = power_apply,
                                    .free_state = power_free,
                                    .save = power_save,
                                    .load = power_load};

const kn_component kn__power_transformer = {
    KN_COMP_STEP,
    "power_transformer",
    "Yeo-Johnson power transform (lambda by maximum likelihood)",
    power_defs,
    sizeof(power_params),
    &power_vt};
