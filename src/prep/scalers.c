/* Scalers: standard (mean/std), min-max, robust (median/IQR), max-abs. Each
 * learns per column an offset a and a divisor b (or, for min-max, a factor
 * and an addend) and applies them as scikit-learn does, in the same order of
 * operations, so outputs agree to rounding. */
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <string.h>

typedef struct scaler_state {
    size_t n;
    double *a, *b; /* per fitted column */
    int multiply;  /* x * a + b (min-max); else (x - a) / b */
} scaler_state;

static void scaler_free(void *p)
{
    scaler_state *s = p;
    if (!s) return;
    kn_free(s->a);
    kn_free(s->b);
    kn_free(s);
}

static kn_status scaler_alloc(size_t n, scaler_state **out)
{
    scaler_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = n;
    s->a = kn_calloc(n ? n : 1, sizeof *s->a);
    s->b = kn_calloc(n ? n : 1, sizeof *s->b);
    if (!s->a || !s->b) {
        scaler_free(s);
        return KN_ERR_NOMEM;
    }
    *out = s;
    return KN_OK;
}

static kn_status require_numeric(const char *step, kn_column *c)
{
    if (kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE, "%s: column '%s' is %s; scalers take numeric columns", step,
                       kn_column_name(c), kn_col_type_name(kn_column_type(c)));
    return KN_OK;
}

static kn_status scaler_transform(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const scaler_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        double *x = kn_column_f64(kn_frame_col(out, cols[i]));
        double a = s->a[i], b = s->b[i];
        if (s->multiply)
            for (size_t r = 0; r < rows; r++) x[r] = x[r] * a + b;
        else
            for (size_t r = 0; r < rows; r++) x[r] = (x[r] - a) / b;
    }
    return KN_OK;
}

static kn_status scaler_transform_row(const kn_step *st, kn_step_row *row, const size_t *cols,
                                      size_t n)
{
    const scaler_state *s = kn_step_state(st);
    for (size_t i = 0; i < n; i++) {
        double *x = &row->num[cols[i]];
        *x = s->multiply ? *x * s->a[i] + s->b[i] : (*x - s->a[i]) / s->b[i];
    }
    return KN_OK;
}

static kn_status scaler_save(const kn_step *st, kn_wbuf *w)
{
    const scaler_state *s = kn_step_state(st);
    kn_wbuf_u32(w, (uint32_t)s->multiply);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_f64s(w, s->a, s->n);
    kn_wbuf_f64s(w, s->b, s->n);
    return KN_OK;
}

static kn_status scaler_load(kn_step *st, kn_rbuf *r, size_t n)
{
    scaler_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    uint32_t multiply = 0;
    kn_status e = kn_rbuf_u32(r, &multiply);
    if (e == KN_OK) e = kn__state_count(r, n, "scaler");
    s->multiply = multiply != 0;
    s->n = n;
    if (e == KN_OK) e = kn__decode_f64s(r, n, &s->a);
    if (e == KN_OK) e = kn__decode_f64s(r, n, &s->b);
    if (e != KN_OK) {
        scaler_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

/* Learn one column's (a, b) from its values; rows counts the cells. */
typedef kn_status (*scaler_learn)(const void *params, kn_column *c, size_t rows, double *a,
                                  double *b);

/* The fit of every scaler: check types, learn each column, keep the state. */
static kn_status scaler_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n,
                            int multiply, scaler_learn learn)
{
    scaler_state *s;
    if (scaler_alloc(n, &s) != KN_OK) return KN_ERR_NOMEM;
    s->multiply = multiply;
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        kn_status e = require_numeric(kn_step_name(st), c);
        if (e == KN_OK) e = learn(kn_step_params(st), c, kn_frame_n_rows(x), &s->a[i], &s->b[i]);
        if (e != KN_OK) {
            scaler_free(s);
            return e;
        }
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

/* ---- standard_scaler ---- */
typedef struct standard_params {
    kn_step_common common;
    int with_mean, with_std;
} standard_params;

static const kn_param_def standard_defs[] = {
    KN_STEP_COMMON_PARAMS(standard_params),
    KN_PARAM_BOOL(standard_params, with_mean, "true", "subtract the mean"),
    KN_PARAM_BOOL(standard_params, with_std, "true", "divide by the standard deviation (ddof 0)"),
    KN_PARAM_END};

static kn_status standard_learn(const void *params, kn_column *c, size_t rows, double *a, double *b)
{
    const standard_params *p = params;
    const double *v = kn_column_f64(c);
    double sum = 0, m2 = 0;
    size_t k = 0;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r])) {
            sum += v[r];
            k++;
        }
    double mean = k ? sum / (double)k : NAN;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r])) m2 += (v[r] - mean) * (v[r] - mean);
    *a = p->with_mean ? mean : 0;
    *b = p->with_std ? kn__nonzero_scale(k ? sqrt(m2 / (double)k) : 1) : 1;
    return KN_OK;
}

static kn_status standard_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    return scaler_fit(st, x, cols, n, 0, standard_learn);
}

static const kn_step_vt standard_vt = {.default_type = KN_COL_NUMERIC,
                                       .fit = standard_fit,
                                       .transform = scaler_transform,
                                       .transform_row = scaler_transform_row,
                                       .free_state = scaler_free,
                                       .save = scaler_save,
                                       .load = scaler_load};

/* ---- minmax_scaler ---- */
typedef struct minmax_params {
    kn_step_common common;
    double min, max;
} minmax_params;

static const kn_param_def minmax_defs[] = {
    KN_STEP_COMMON_PARAMS(minmax_params),
    KN_PARAM_DOUBLE(minmax_params, min, "0", -1e300, 1e300, "lower end of the output range"),
    KN_PARAM_DOUBLE(minmax_params, max, "1", -1e300, 1e300, "upper end of the output range"),
    KN_PARAM_END};

static kn_status minmax_learn(const void *params, kn_column *c, size_t rows, double *a, double *b)
{
    const minmax_params *p = params;
    const double *v = kn_column_f64(c);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r])) {
            if (v[r] < lo) lo = v[r];
            if (v[r] > hi) hi = v[r];
        }
    double scale = (p->max - p->min) / kn__nonzero_scale(hi - lo);
    *a = scale;
    *b = p->min - lo * scale;
    return KN_OK;
}

static kn_status minmax_validate(const void *params)
{
    const minmax_params *p = params;
    if (!(p->min < p->max))
        return kn_fail(KN_ERR_RANGE, "min (%g) must be below max (%g)", p->min, p->max);
    return KN_OK;
}

static kn_status minmax_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    return scaler_fit(st, x, cols, n, 1, minmax_learn); /* min < max: minmax_validate */
}

static const kn_step_vt minmax_vt = {.default_type = KN_COL_NUMERIC,
                                     .fit = minmax_fit,
                                     .transform = scaler_transform,
                                     .transform_row = scaler_transform_row,
                                     .free_state = scaler_free,
                                     .save = scaler_save,
                                     .load = scaler_load,
                                     .validate = minmax_validate};

/* ---- robust_scaler ---- */
typedef struct robust_params {
    kn_step_common common;
    double q_low, q_high;
} robust_params;

static const kn_param_def robust_defs[] = {
    KN_STEP_COMMON_PARAMS(robust_params),
    KN_PARAM_DOUBLE(robust_params, q_low, "25", 0, 100, "lower percentile of the scale range"),
    KN_PARAM_DOUBLE(robust_params, q_high, "75", 0, 100, "upper percentile of the scale range"),
    KN_PARAM_END};

static kn_status robust_learn(const void *params, kn_column *c, size_t rows, double *a, double *b)
{
    const robust_params *p = params;
    double *v;
    size_t k;
    if (kn__sorted_values(c, rows, &v, &k) != KN_OK) return KN_ERR_NOMEM;
    *a = kn__quantile_sorted(v, k, 0.5);
    *b = kn__nonzero_scale(kn__quantile_sorted(v, k, p->q_high / 100) -
                           kn__quantile_sorted(v, k, p->q_low / 100));
    kn_free(v);
    return KN_OK;
}

static kn_status robust_validate(const void *params)
{
    const robust_params *p = params;
    if (!(p->q_low < p->q_high))
        return kn_fail(KN_ERR_RANGE, "q_low (%g) must be below q_high (%g)", p->q_low, p->q_high);
    return KN_OK;
}

static kn_status robust_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    return scaler_fit(st, x, cols, n, 0, robust_learn); /* q_low < q_high: robust_validate */
}

static const kn_step_vt robust_vt = {.default_type = KN_COL_NUMERIC,
                                     .fit = robust_fit,
                                     .transform = scaler_transform,
                                     .transform_row = scaler_transform_row,
                                     .free_state = scaler_free,
                                     .save = scaler_save,
                                     .load = scaler_load,
                                     .validate = robust_validate};

/* ---- maxabs_scaler ---- */
typedef struct maxabs_params {
    kn_step_common common;
} maxabs_params;

static const kn_param_def maxabs_defs[] = {KN_STEP_COMMON_PARAMS(maxabs_params), KN_PARAM_END};

static kn_status maxabs_learn(const void *params, kn_column *c, size_t rows, double *a, double *b)
{
    (void)params;
    const double *v = kn_column_f64(c);
    double m = 0;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(v[r]) && fabs(v[r]) > m) m = fabs(v[r]);
    *a = 0;
    *b = kn__nonzero_scale(m);
    return KN_OK;
}

static kn_status maxabs_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    return scaler_fit(st, x, cols, n, 0, maxabs_learn);
}

static const kn_step_vt maxabs_vt = {.default_type = KN_COL_NUMERIC,
                                     .fit = maxabs_fit,
                                     .transform = scaler_transform,
                                     .transform_row = scaler_transform_row,
                                     .free_state = scaler_free,
                                     .save = scaler_save,
                                     .load = scaler_load};

const kn_component kn__standard_scaler = {
    KN_COMP_STEP,  "standard_scaler",       "subtract the mean, divide by the standard deviation",
    standard_defs, sizeof(standard_params), &standard_vt};
const kn_component kn__minmax_scaler = {
    KN_COMP_STEP, "minmax_scaler",       "map each column's [min, max] onto [min, max] parameters",
    minmax_defs,  sizeof(minmax_params), &minmax_vt};
const kn_component kn__robust_scaler = {
    KN_COMP_STEP, "robust_scaler",       "subtract the median, divide by the interquartile range",
    robust_defs,  sizeof(robust_params), &robust_vt};
const kn_component kn__maxabs_scaler = {
    KN_COMP_STEP, "maxabs_scaler",       "divide by the largest absolute value",
    maxabs_defs,  sizeof(maxabs_params), &maxabs_vt};
