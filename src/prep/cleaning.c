/* Cleaning steps:
 *   drop_constant  removes columns that were constant at fit (or, with
 *                  min_share < 1, whose most frequent value covered at least
 *                  that share of the non-missing rows: near-constant)
 *   outlier_clip   learns fences per numeric column, from the interquartile
 *                  range (method=iqr: [q1 - k*IQR, q3 + k*IQR]) or the mean
 *                  and standard deviation (method=zscore: mean +- k*std), and
 *                  either clips values to them (action=clip), adds a 0/1
 *                  "<column>_outlier" column (action=flag), or drops the
 *                  training rows outside them (action=drop: in fit_transform
 *                  only, with the count logged; new data passes unchanged). */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- drop_constant ---- */
typedef struct dropc_params {
    kn_step_common common;
    double min_share;
} dropc_params;

static const kn_param_def dropc_defs[] = {
    {"columns", KN_PARAM_T_STRING, offsetof(dropc_params, common.columns), "", 0, 0, NULL,
     "columns to consider, comma-separated (default: every numeric feature)", NULL},
    KN_PARAM_DOUBLE(dropc_params, min_share, "1", 0.5, 1,
                    "drop when the most frequent value covers this share of the values"),
    KN_PARAM_END};

typedef struct dropc_state {
    size_t n;
    int *drop;
} dropc_state;

static void dropc_free(void *p)
{
    dropc_state *s = p;
    if (s) kn_free(s->drop);
    kn_free(s);
}

static double top_share_numeric(kn_column *c, size_t rows)
{
    double *v;
    size_t k;
    if (kn__sorted_values(c, rows, &v, &k) != KN_OK) return -1;
    size_t best = 0;
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && v[j] == v[i]) j++;
        if (j - i > best) best = j - i;
        i = j;
    }
    kn_free(v);
    return k ? (double)best / (double)k : 1;
}

static double top_share_categorical(kn_column *c, size_t rows)
{
    size_t nl = kn_column_n_levels(c), k = 0, best = 0;
    uint64_t *count = kn_calloc(nl + 1, sizeof *count);
    if (!count) return -1;
    const int32_t *codes = kn_column_codes(c);
    for (size_t r = 0; r < rows; r++)
        if (codes[r] >= 0) {
            count[codes[r]]++;
            k++;
        }
    for (size_t l = 0; l < nl; l++)
        if (count[l] > best) best = count[l];
    kn_free(count);
    return k ? (double)best / (double)k : 1;
}

static kn_status dropc_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const dropc_params *p = kn_step_params(st);
    dropc_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->drop = kn_calloc(n + 1, sizeof *s->drop))) {
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        double share;
        if (kn_column_type(c) == KN_COL_NUMERIC)
            share = top_share_numeric(c, kn_frame_n_rows(x));
        else if (kn_column_type(c) == KN_COL_CATEGORICAL)
            share = top_share_categorical(c, kn_frame_n_rows(x));
        else {
            dropc_free(s);
            return kn_fail(KN_ERR_TYPE,
                           "drop_constant: column '%s' is %s; it takes numeric and "
                           "categorical columns",
                           kn_column_name(c), kn_col_type_name(kn_column_type(c)));
        }
        if (share < 0) {
            dropc_free(s);
            return KN_ERR_NOMEM;
        }
        s->drop[i] = share >= p->min_share;
        if (s->drop[i])
            kn_log(KN_LOG_INFO, "drop_constant: dropping '%s' (top value covers %.1f%%)",
                   kn_column_name(c), 100 * share);
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static kn_status dropc_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const dropc_state *s = kn_step_state(st);
    size_t order[n ? n : 1];
    kn__order_desc(cols, n, order);
    for (size_t k = 0; k < n; k++)
        if (s->drop[order[k]]) {
            kn_status e = kn_frame_remove_column(out, cols[order[k]]);
            if (e != KN_OK) return e;
        }
    return KN_OK;
}

static kn_status dropc_save(const kn_step *st, kn_wbuf *w)
{
    const dropc_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    for (size_t i = 0; i < s->n; i++) kn_wbuf_u32(w, (uint32_t)s->drop[i]);
    return KN_OK;
}

static kn_status dropc_load(kn_step *st, kn_rbuf *r, size_t n)
{
    kn_status e = kn__state_count(r, n, "drop_constant");
    if (e != KN_OK) return e;
    dropc_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->drop = kn_calloc(n + 1, sizeof *s->drop))) {
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    s->n = n;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        uint32_t v = 0;
        e = kn_rbuf_u32(r, &v);
        s->drop[i] = v != 0;
    }
    if (e != KN_OK) {
        dropc_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt dropc_vt = {.default_type = KN_COL_NUMERIC,
                                    .fit = dropc_fit,
                                    .transform = dropc_apply,
                                    .free_state = dropc_free,
                                    .save = dropc_save,
                                    .load = dropc_load};

/* ---- outlier_clip ---- */
typedef struct outlier_params {
    kn_step_common common;
    int method;
    double k;
    int action;
} outlier_params;

static const kn_param_def outlier_defs[] = {
    KN_STEP_COMMON_PARAMS(outlier_params),
    KN_PARAM_ENUM(outlier_params, method, "iqr", "iqr|zscore",
                  "fences from the interquartile range or from mean and std"),
    KN_PARAM_DOUBLE(outlier_params, k, "1.5", 0, 1e6,
                    "fence width: IQRs beyond the quartiles, or standard deviations"),
    KN_PARAM_ENUM(outlier_params, action, "clip", "clip|flag|drop",
                  "clip values to the fences, add a 0/1 <column>_outlier column, or drop the "
                  "training rows outside them (new data passes unchanged)"),
    KN_PARAM_END};

typedef struct fences {
    size_t n;
    double *lo, *hi;
} fences;

static void fences_free(void *p)
{
    fences *s = p;
    if (!s) return;
    kn_free(s->lo);
    kn_free(s->hi);
    kn_free(s);
}

static kn_status outlier_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const outlier_params *p = kn_step_params(st);
    fences *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = n;
    s->lo = kn_calloc(n + 1, sizeof *s->lo);
    s->hi = kn_calloc(n + 1, sizeof *s->hi);
    kn_status e = s->lo && s->hi ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        if (kn_column_type(c) != KN_COL_NUMERIC) {
            e = kn_fail(KN_ERR_TYPE, "outlier_clip: column '%s' is not numeric", kn_column_name(c));
            break;
        }
        double *v;
        size_t k;
        if ((e = kn__sorted_values(c, kn_frame_n_rows(x), &v, &k)) != KN_OK) break;
        if (p->method == 0) {
            double q1 = kn__quantile_sorted(v, k, 0.25), q3 = kn__quantile_sorted(v, k, 0.75);
            s->lo[i] = q1 - p->k * (q3 - q1);
            s->hi[i] = q3 + p->k * (q3 - q1);
        } else {
            double sum = 0, m2 = 0;
            for (size_t r = 0; r < k; r++) sum += v[r];
            double mean = k ? sum / (double)k : NAN;
            for (size_t r = 0; r < k; r++) m2 += (v[r] - mean) * (v[r] - mean);
            double sd = k ? sqrt(m2 / (double)k) : NAN;
            s->lo[i] = mean - p->k * sd;
            s->hi[i] = mean + p->k * sd;
        }
        kn_free(v);
    }
    if (e != KN_OK) {
        fences_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static kn_status outlier_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const outlier_params *p = kn_step_params(st);
    const fences *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(out, cols[i]);
        double *x = kn_column_f64(c), lo = s->lo[i], hi = s->hi[i];
        if (p->action == 2) continue; /* drop: only training rows, in fit_transform */
        if (p->action == 0) {
            for (size_t r = 0; r < rows; r++)
                if (x[r] < lo)
                    x[r] = lo;
                else if (x[r] > hi)
                    x[r] = hi;
            continue;
        }
        char *name = kn_sprintf("%s_outlier", kn_column_name(c));
        kn_column *d;
        kn_status e = name ? kn_frame_add_column(out, name, KN_COL_NUMERIC, &d) : KN_ERR_NOMEM;
        kn_free(name);
        if (e != KN_OK) return kn_fail_prefix(e, "outlier_clip: ");
        for (size_t r = 0; r < rows; r++)
            kn_column_f64(d)[r] = isnan(x[r]) ? NAN : (x[r] < lo || x[r] > hi);
    }
    return KN_OK;
}

/* Training output: with action=drop, the rows outside some fence go (counted). */
static kn_status outlier_fit_transform(const kn_step *st, const kn_frame *x, kn_frame *out,
                                       const size_t *cols, size_t n)
{
    (void)x;
    const outlier_params *p = kn_step_params(st);
    if (p->action != 2) return outlier_apply(st, out, cols, n);
    const fences *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out), kept = 0;
    size_t *keep = kn_malloc((rows ? rows : 1) * sizeof *keep);
    if (!keep) return KN_ERR_NOMEM;
    for (size_t r = 0; r < rows; r++) {
        int outside = 0;
        for (size_t i = 0; i < n && !outside; i++) {
            double v = kn_column_f64(kn_frame_col(out, cols[i]))[r];
            outside = v < s->lo[i] || v > s->hi[i];
        }
        if (!outside) keep[kept++] = r;
    }
    kn_status e = kn_frame_keep_rows(out, keep, kept);
    kn_free(keep);
    if (e == KN_OK && kept < rows)
        kn_log(KN_LOG_WARN,
               "outlier_clip: %zu of %zu training rows were outside the fences and "
               "were dropped",
               rows - kept, rows);
    return e;
}

static kn_status outlier_save(const kn_step *st, kn_wbuf *w)
{
    const fences *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_f64s(w, s->lo, s->n);
    kn_wbuf_f64s(w, s->hi, s->n);
    return KN_OK;
}

static kn_status outlier_load(kn_step *st, kn_rbuf *r, size_t n)
{
    kn_status e = kn__state_count(r, n, "outlier");
    if (e != KN_OK) return e;
    fences *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = n;
    e = kn__decode_f64s(r, n, &s->lo);
    if (e == KN_OK) e = kn__decode_f64s(r, n, &s->hi);
    if (e != KN_OK) {
        fences_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt outlier_vt = {.default_type = KN_COL_NUMERIC,
                                      .fit = outlier_fit,
                                      .transform = outlier_apply,
                                      .free_state = fences_free,
                                      .save = outlier_save,
                                      .load = outlier_load,
                                      .fit_transform = outlier_fit_transform};

const kn_component kn__drop_constant = {
    KN_COMP_STEP, "drop_constant",      "remove columns that are constant (or nearly) at fit",
    dropc_defs,   sizeof(dropc_params), &dropc_vt};
const kn_component kn__outlier_clip = {
    KN_COMP_STEP, "outlier_clip",         "clip or flag values beyond IQR or z-score fences",
    outlier_defs, sizeof(outlier_params), &outlier_vt};
