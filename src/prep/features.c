/* Feature engineering steps on numeric columns:
 *   log1p_transform      x -> log(1 + x) (x <= -1 is an error naming the value)
 *   polynomial_features  adds products of the selected columns up to degree 2
 *                        ("a^2", "a*b"), in scikit-learn's PolynomialFeatures
 *                        order; interaction_only keeps only "a*b" terms. */
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static kn_status require_numeric(const kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        if (kn_column_type(c) != KN_COL_NUMERIC)
            return kn_fail(KN_ERR_TYPE, "%s: column '%s' is %s; it takes numeric columns",
                           kn_step_name(st), kn_column_name(c),
                           kn_col_type_name(kn_column_type(c)));
    }
    return KN_OK;
}

/* ---- log1p_transform ---- */
typedef struct log1p_params {
    kn_step_common common;
} log1p_params;

static const kn_param_def log1p_defs[] = {KN_STEP_COMMON_PARAMS(log1p_params), KN_PARAM_END};

static kn_status log1p_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    kn_status e = require_numeric(st, x, cols, n);
    return e == KN_OK ? kn__mark_fitted(st) : e;
}

static kn_status log1p_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(out, cols[i]);
        double *x = kn_column_f64(c);
        for (size_t r = 0; r < rows; r++) {
            if (x[r] <= -1)
                return kn_fail(KN_ERR_RANGE,
                               "%s: column '%s', row %zu: %g is <= -1, where log1p is undefined; "
                               "shift or clip the column first",
                               kn_step_name(st), kn_column_name(c), r + 1, x[r]);
            x[r] = log1p(x[r]);
        }
    }
    return KN_OK;
}

static const kn_step_vt log1p_vt = {.default_type = KN_COL_NUMERIC,
                                    .fit = log1p_fit,
                                    .transform = log1p_apply,
                                    .free_state = kn_free,
                                    .save = kn__stateless_save,
                                    .load = kn__stateless_load};

/* ---- polynomial_features ---- */
typedef struct poly_params {
    kn_step_common common;
    int interaction_only;
} poly_params;

static const kn_param_def poly_defs[] = {
    KN_STEP_COMMON_PARAMS(poly_params),
    KN_PARAM_BOOL(poly_params, interaction_only, "false", "only products of distinct columns"),
    KN_PARAM_END};

static kn_status poly_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    kn_status e = require_numeric(st, x, cols, n);
    return e == KN_OK ? kn__mark_fitted(st) : e;
}

static kn_status poly_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const poly_params *p = kn_step_params(st);
    size_t rows = kn_frame_n_rows(out);
    /* the products go after the last selected column, in scikit-learn's order */
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        if (cols[i] + 1 > at) at = cols[i] + 1;
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + (size_t)p->interaction_only; k < n; k++) {
            kn_column *a = kn_frame_col(out, cols[i]), *b = kn_frame_col(out, cols[k]);
            char *name = i == k ? kn_sprintf("%s^2", kn_column_name(a))
                                : kn_sprintf("%s*%s", kn_column_name(a), kn_column_name(b));
            kn_column *d;
            kn_status e =
                name ? kn_frame_insert_column(out, at++, name, KN_COL_NUMERIC, &d) : KN_ERR_NOMEM;
            kn_free(name);
            if (e != KN_OK) return kn_fail_prefix(e, "%s: ", kn_step_name(st));
            const double *x = kn_column_f64(a), *y = kn_column_f64(b);
            double *z = kn_column_f64(d);
            for (size_t r = 0; r < rows; r++) z[r] = x[r] * y[r];
        }
    return KN_OK;
}

static const kn_step_vt poly_vt = {.default_type = KN_COL_NUMERIC,
                                   .fit = poly_fit,
                                   .transform = poly_apply,
                                   .free_state = kn_free,
                                   .save = kn__stateless_save,
                                   .load = kn__stateless_load};

const kn_component kn__log1p_transform = {
    KN_COMP_STEP, "log1p_transform",    "x -> log(1 + x), for skewed positive columns",
    log1p_defs,   sizeof(log1p_params), &log1p_vt};
const kn_component kn__polynomial_features = {KN_COMP_STEP,
                                              "polynomial_features",
                                              "add squares and pairwise products of the "
                                              "selected columns (degree 2)",
                                              poly_defs,
                                              sizeof(poly_params),
                                              &poly_vt};
