/* Derived columns:
 *   datetime_features  adds <col>_year, _month, _day, _dayofweek (Monday 0),
 *                      _hour and _is_weekend for each timestamp column (UTC)
 *   combine_columns    adds a / b (op=ratio) or a - b (op=difference) as a new
 *                      column (a zero divisor gives a missing value)
 *   frequency_encoder  replaces each category by its share of the fitted rows
 *                      (a level unseen at fit gets 0; missing stays missing) */
#include "data/text_numbers-impl.h"
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- datetime_features ---- */
typedef struct dt_params {
    kn_step_common common;
    int keep;
} dt_params;

static const kn_param_def dt_defs[] = {
    {"columns", KN_PARAM_T_STRING, offsetof(dt_params, common.columns), "", 0, 0, NULL,
     "columns to expand, comma-separated (default: every timestamp feature)", NULL},
    KN_PARAM_BOOL(dt_params, keep, "true", "keep the timestamp column itself"),
    KN_PARAM_END};

static kn_status dt_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        kn__text_numbers t;
        char said[256];
        /* dates in a second format, or a marker, made the reader type it as text */
        if (kn_column_type(c) != KN_COL_TIMESTAMP &&
            kn__text_numbers_scan(c, kn_frame_n_rows(x), &t) && t.times && t.others)
            return kn_fail(KN_ERR_TYPE,
                           "datetime_features: column '%s' is %s, not a timestamp, only because "
                           "%llu of its %llu values %s not an ISO-8601 date or time "
                           "(YYYY-MM-DD[Thh:mm[:ss]]): %s; write %s so (or read a marker as "
                           "missing with --missing)",
                           kn_column_name(c), kn_col_type_name(kn_column_type(c)),
                           (unsigned long long)t.others, (unsigned long long)t.cells,
                           t.others == 1 ? "is" : "are",
                           kn__text_numbers_say(&t, said, sizeof said),
                           t.others == 1 ? "it" : "them");
        if (kn_column_type(c) != KN_COL_TIMESTAMP)
            return kn_fail(KN_ERR_TYPE, "datetime_features: column '%s' is %s, not a timestamp",
                           kn_column_name(c), kn_col_type_name(kn_column_type(c)));
    }
    return kn__mark_fitted(st);
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static void civil(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static kn_status dt_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const dt_params *p = kn_step_params(st);
    static const char *const parts[] = {"year", "month", "day", "dayofweek", "hour", "is_weekend"};
    size_t rows = kn_frame_n_rows(out);
    /* rightmost first, so inserting never moves a column still to do */
    size_t order[n ? n : 1];
    kn__order_desc(cols, n, order);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k], pos = cols[i];
        kn_column *c = kn_frame_col(out, pos);
        const int64_t *ts = kn_column_ts(c);
        kn_column *d[6];
        for (int q = 0; q < 6; q++) {
            char *name = kn_sprintf("%s_%s", kn_column_name(c), parts[q]);
            kn_status e =
                name ? kn_frame_insert_column(out, pos + 1 + (size_t)q, name, KN_COL_NUMERIC, &d[q])
                     : KN_ERR_NOMEM;
            kn_free(name);
            if (e != KN_OK) return kn_fail_prefix(e, "datetime_features: ");
        }
        for (size_t r = 0; r < rows; r++) {
            if (ts[r] == KN_TS_MISSING) {
                for (int q = 0; q < 6; q++) kn_column_f64(d[q])[r] = NAN;
                continue;
            }
            int64_t secs = ts[r] >= 0 ? ts[r] / 1000000 : -((-ts[r] + 999999) / 1000000);
            int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
            int64_t y;
            int m, dd;
            civil(days, &y, &m, &dd);
            int dow = (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday (3) */
            kn_column_f64(d[0])[r] = (double)y;
            kn_column_f64(d[1])[r] = m;
            kn_column_f64(d[2])[r] = dd;
            kn_column_f64(d[3])[r] = dow;
            kn_column_f64(d[4])[r] = (double)((secs - days * 86400) / 3600);
            kn_column_f64(d[5])[r] = dow >= 5;
        }
        if (!p->keep) {
            kn_status e = kn_frame_remove_column(out, pos);
            if (e != KN_OK) return e;
        }
    }
    return KN_OK;
}

static kn_status dt_apply_row(const kn_step *st, kn_step_row *row, const size_t *cols, size_t n)
{
    const dt_params *p = kn_step_params(st);
    size_t order[n ? n : 1];
    kn__order_desc(cols, n, order);
    for (size_t k = 0; k < n; k++) {
        size_t pos = cols[order[k]];
        int64_t ts = row->i64[pos];
        kn_status e = kn_step_row_insert(row, pos + 1, 6, KN_COL_NUMERIC);
        if (e != KN_OK) return e;
        double *d = row->num + pos + 1;
        if (ts == KN_TS_MISSING) {
            for (int q = 0; q < 6; q++) d[q] = NAN;
        } else { /* dt_apply's arithmetic */
            int64_t secs = ts >= 0 ? ts / 1000000 : -((-ts + 999999) / 1000000);
            int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
            int64_t y;
            int m, dd;
            civil(days, &y, &m, &dd);
            int dow = (int)(((days % 7) + 7 + 3) % 7);
            d[0] = (double)y;
            d[1] = m;
            d[2] = dd;
            d[3] = dow;
            d[4] = (double)((secs - days * 86400) / 3600);
            d[5] = dow >= 5;
        }
        if (!p->keep) kn_step_row_remove(row, pos);
    }
    return KN_OK;
}

static const kn_step_vt dt_vt = {.transform_row = dt_apply_row,
                                 .default_type = KN_COL_TIMESTAMP,
                                 .fit = dt_fit,
                                 .transform = dt_apply,
                                 .free_state = kn_free,
                                 .save = kn__stateless_save,
                                 .load = kn__stateless_load};

/* ---- combine_columns ---- */
typedef struct combine_params {
    kn_step_common common;
    const char *a, *b, *name;
    int op;
} combine_params;

static const kn_param_def combine_defs[] = {
    KN_STEP_COMMON_PARAMS(combine_params),
    KN_PARAM_STRING(combine_params, a, "", "first column (numerator or minuend)"),
    KN_PARAM_STRING(combine_params, b, "", "second column (denominator or subtrahend)"),
    KN_PARAM_ENUM(combine_params, op, "ratio", "ratio|difference", "a / b, or a - b"),
    KN_PARAM_STRING(combine_params, name, "", "new column name (default: a_over_b or a_minus_b)"),
    KN_PARAM_END};

static kn_status combine_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    (void)cols;
    (void)n;
    const combine_params *p = kn_step_params(st);
    const char *names[2] = {p->a, p->b};
    for (int k = 0; k < 2; k++) {
        size_t j;
        if (!names[k][0])
            return kn_fail(KN_ERR_INVALID, "combine_columns: set both a= and b= (the columns)");
        if (kn_frame_find(x, names[k], &j) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "combine_columns: ");
        if (kn_column_type(kn_frame_col(x, j)) != KN_COL_NUMERIC)
            return kn_fail(KN_ERR_TYPE, "combine_columns: column '%s' is not numeric", names[k]);
    }
    return kn__mark_fitted(st);
}

static kn_status combine_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    (void)cols;
    (void)n;
    const combine_params *p = kn_step_params(st);
    size_t ja, jb;
    if (kn_frame_find(out, p->a, &ja) != KN_OK || kn_frame_find(out, p->b, &jb) != KN_OK)
        return kn_fail_prefix(KN_ERR_NOT_FOUND, "combine_columns: ");
    if (kn_column_type(kn_frame_col(out, ja)) != KN_COL_NUMERIC ||
        kn_column_type(kn_frame_col(out, jb)) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE, "combine_columns: '%s' and '%s' must be numeric", p->a, p->b);
    char *name = p->name[0] ? kn_strdup(p->name)
                            : kn_sprintf("%s_%s_%s", p->a, p->op ? "minus" : "over", p->b);
    kn_column *d;
    kn_status e = name ? kn_frame_add_column(out, name, KN_COL_NUMERIC, &d) : KN_ERR_NOMEM;
    kn_free(name);
    if (e != KN_OK) return kn_fail_prefix(e, "combine_columns: ");
    const double *x = kn_column_f64(kn_frame_col(out, ja)),
                 *y = kn_column_f64(kn_frame_col(out, jb));
    double *z = kn_column_f64(d);
    for (size_t r = 0; r < kn_frame_n_rows(out); r++)
        z[r] = p->op ? x[r] - y[r] : (y[r] == 0 ? NAN : x[r] / y[r]);
    return KN_OK;
}

static const kn_step_vt combine_vt = {.default_type = KN_COL_NUMERIC,
                                      .fit = combine_fit,
                                      .transform = combine_apply,
                                      .free_state = kn_free,
                                      .save = kn__stateless_save,
                                      .load = kn__stateless_load,
                                      .names_own_columns = 1};

/* ---- frequency_encoder ---- */
typedef struct freq_params {
    kn_step_common common;
} freq_params;

static const kn_param_def freq_defs[] = {KN_STEP_COMMON_PARAMS_CATEGORICAL(freq_params),
                                         KN_PARAM_END};

static kn_status freq_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    /* unknown levels had no share of the fitted rows: 0; missing stays missing */
    kn__lv_state *s = kn__lv_new(n, 0, NAN);
    if (!s) return KN_ERR_NOMEM;
    size_t rows = kn_frame_n_rows(x);
    kn_status e = KN_OK;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        if (kn_column_type(c) != KN_COL_CATEGORICAL) {
            e = kn_fail(KN_ERR_TYPE, "frequency_encoder: column '%s' is not categorical",
                        kn_column_name(c));
            break;
        }
        size_t nl = kn_column_n_levels(c);
        double *count = kn_calloc(2 * nl + 1, sizeof *count), *share = count + nl;
        if (!count) {
            e = KN_ERR_NOMEM;
            break;
        }
        const int32_t *codes = kn_column_codes(c);
        for (size_t r = 0; r < rows; r++)
            if (codes[r] >= 0) count[codes[r]] += 1;
        for (size_t l = 0; l < nl; l++) share[l] = count[l] / (rows ? (double)rows : 1);
        e = kn__lv_set(&s->cols[i], c, share, count);
        kn_free(count);
    }
    if (e != KN_OK) {
        kn__lv_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt freq_vt = {.default_type = KN_COL_CATEGORICAL,
                                   .fit = freq_fit,
                                   .transform = kn__lv_apply,
                                   .free_state = kn__lv_free,
                                   .save = kn__lv_save,
                                   .load = kn__lv_load};

const kn_component kn__datetime_features = {KN_COMP_STEP,
                                            "datetime_features",
                                            "add year, month, day, day of week, hour and "
                                            "is-weekend columns for timestamps (UTC)",
                                            dt_defs,
                                            sizeof(dt_params),
                                            &dt_vt};
const kn_component kn__combine_columns = {
    KN_COMP_STEP, "combine_columns",      "add the ratio or the difference of two numeric columns",
    combine_defs, sizeof(combine_params), &combine_vt};
const kn_component kn__frequency_encoder = {
    KN_COMP_STEP, "frequency_encoder", "replace each category by its share of the fitted rows",
    freq_defs,    sizeof(freq_params), &freq_vt};
