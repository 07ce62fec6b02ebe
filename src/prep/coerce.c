/* coerce: change the type of named columns, with every failed conversion
 * reported. Text to numeric parses each value (a failure becomes missing, or
 * with on_error=fail stops at the first one with its row); text to timestamp
 * parses ISO-8601; numbers become text in their shortest exact form and
 * timestamps ISO-8601 text; between numbers and timestamps the unit is the
 * second since 1970-01-01 UTC. Failures are counted and logged as a warning
 * naming the column, the count and the first offending value and row. */
#include "data/parse-impl.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct coerce_params {
    kn_step_common common;
    int to;
    int on_error;
} coerce_params;

static const kn_param_def coerce_defs[] = {
    {"columns", KN_PARAM_T_STRING, offsetof(coerce_params, common.columns), "", 0, 0, NULL,
     "columns to convert (names, type:T, match:REGEX; required)", NULL},
    KN_PARAM_ENUM(coerce_params, to, "numeric", "numeric|categorical|string|timestamp|int64",
                  "the type to convert to"),
    KN_PARAM_ENUM(coerce_params, on_error, "missing", "missing|fail",
                  "a value that does not convert: make it missing (counted), or fail"),
    KN_PARAM_END};

static kn_status coerce_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    (void)x;
    (void)cols;
    const coerce_params *p = kn_step_params(st);
    if (!p->common.columns[0] || !n)
        return kn_fail(KN_ERR_INVALID, "coerce: name the columns to convert (columns=a,b)");
    return kn__mark_fitted(st);
}

/* The text of cell r of a categorical or string column; NULL when missing. */
static const char *text_of(kn_column *c, size_t r, size_t *len)
{
    if (kn_column_type(c) == KN_COL_STRING) return kn_column_str(c, r, len);
    int32_t code = kn_column_codes(c)[r];
    return code < 0 ? NULL : kn_column_level(c, code, len);
}

typedef struct failures {
    size_t count, first_row;
    char first[64];
} failures;

static void failed(failures *f, size_t r, const char *s, size_t len)
{
    if (!f->count++) {
        f->first_row = r;
        snprintf(f->first, sizeof f->first, "%.*s", (int)(len > 60 ? 60 : len), s);
    }
}

/* Fill column d (type `to`) from column c, row by row. */
static kn_status convert(const coerce_params *p, kn_column *c, kn_column *d, size_t rows,
                         failures *f)
{
    kn_col_type from = kn_column_type(c), to = kn_column_type(d);
    char buf[48];
    for (size_t r = 0; r < rows; r++) {
        if (kn_column_is_missing(c, r)) continue;
        size_t len = 0;
        const char *s = NULL;
        if (from == KN_COL_NUMERIC) {
            double v = kn_column_f64(c)[r];
            if (to == KN_COL_TIMESTAMP) {
                kn_column_ts(d)[r] = (int64_t)llround(v * 1e6);
                continue;
            }
            len = (size_t)kn__format_double(v, buf, sizeof buf);
            s = buf;
        } else if (from == KN_COL_INT64) {
            int64_t x = kn_column_i64(c)[r];
            if (to == KN_COL_NUMERIC) {
                kn_column_f64(d)[r] = (double)x; /* nearest double beyond 2^53 */
                continue;
            }
            len = (size_t)kn__format_int64(x, buf);
            s = buf;
            if (to == KN_COL_TIMESTAMP) { /* seconds, when they fit in microseconds */
                if (x > INT64_MAX / 1000000 || x < -(INT64_MAX / 1000000))
                    failed(f, r, s, len);
                else
                    kn_column_ts(d)[r] = x * 1000000;
                continue;
            }
        } else if (from == KN_COL_TIMESTAMP) {
            int64_t t = kn_column_ts(c)[r];
            if (to == KN_COL_NUMERIC) {
                kn_column_f64(d)[r] = (double)t / 1e6;
                continue;
            }
            len = (size_t)kn__format_timestamp(t, buf, sizeof buf);
            s = buf;
        } else
            s = text_of(c, r, &len);
        kn_status e = KN_OK;
        double v;
        int64_t t;
        switch (to) {
        case KN_COL_NUMERIC:
            if (len && kn__parse_double(s, s + len, &v) == s + len)
                kn_column_f64(d)[r] = v;
            else
                failed(f, r, s, len);
            break;
        case KN_COL_TIMESTAMP:
            if (kn__parse_timestamp(s, s + len, &t))
                kn_column_ts(d)[r] = t;
            else
                failed(f, r, s, len);
            break;
        case KN_COL_CATEGORICAL:
            e = kn_column_intern(d, s, len, &kn_column_codes(d)[r]);
            break;
        case KN_COL_STRING:
            e = kn_column_set_str(d, r, s, len);
            break;
        case KN_COL_INT64:
            if (kn__parse_int64(s, s + len, 1, &t))
                kn_column_i64(d)[r] = t;
            else if (len && kn__parse_double(s, s + len, &v) == s + len && v == nearbyint(v) &&
                     fabs(v) <= KN_F64_EXACT_INT)
                kn_column_i64(d)[r] = (int64_t)v;
            else
                failed(f, r, s, len);
            break;
        }
        if (e != KN_OK) return e;
        if (f->count && p->on_error) return KN_ERR_PARSE;
    }
    return KN_OK;
}

static kn_status coerce_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const coerce_params *p = kn_step_params(st);
    kn_col_type to = (kn_col_type)p->to;
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(out, cols[i]), *d;
        if (kn_column_type(c) == to) continue;
        char *name = kn_strdup(kn_column_name(c));
        if (!name) return KN_ERR_NOMEM;
        failures f = {0, 0, ""};
        kn_status e = kn_frame_insert_column(out, cols[i] + 1, "\x01kiln-coerce", to, &d);
        if (e == KN_OK) {
            kn_column_set_role(d, kn_column_role(c));
            e = convert(p, c, d, rows, &f);
        }
        if (e == KN_ERR_PARSE)
            e = kn_fail(KN_ERR_PARSE, "coerce: column '%s', row %zu: '%s' is not %s", name,
                        f.first_row + 1, f.first,
                        to == KN_COL_NUMERIC ? "a number"
                        : to == KN_COL_INT64 ? "an integer"
                                             : "an ISO-8601 time");
        else if (e == KN_OK && f.count)
            kn_log(KN_LOG_WARN,
                   "coerce: column '%s': %zu value%s did not convert to %s and %s now missing "
                   "(first: '%s' in row %zu)",
                   name, f.count, f.count == 1 ? "" : "s", kn_col_type_name(to),
                   f.count == 1 ? "is" : "are", f.first, f.first_row + 1);
        if (e == KN_OK) e = kn_frame_remove_column(out, cols[i]);
        if (e == KN_OK) e = kn_frame_rename_column(out, cols[i], name);
        kn_free(name);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static const kn_step_vt coerce_vt = {.default_type = KN_COL_NUMERIC,
                                     .fit = coerce_fit,
                                     .transform = coerce_apply,
                                     .free_state = kn_free,
                                     .save = kn__stateless_save,
                                     .load = kn__stateless_load};

const kn_component kn__coerce = {KN_COMP_STEP,
                                 "coerce",
                                 "convert columns to another type, counting values that fail",
                                 coerce_defs,
                                 sizeof(coerce_params),
                                 &coerce_vt};
