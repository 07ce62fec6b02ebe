/* Row-by-row frame building for SQL sources (see builder-impl.h). */
#include "data/builder-impl.h"
#include "data/frame-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

kn_status kn__builder_begin(kn__builder *b, const char *source, size_t n, kn__column_info info,
                            void *result)
{
    memset(b, 0, sizeof *b);
    b->source = source;
    b->fixed = kn_malloc(n ? n : 1);
    kn_status e = b->fixed ? kn_frame_new(&b->f) : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < n; j++) {
        const char *name;
        kn_col_type type = KN_COL_NUMERIC;
        b->fixed[j] = (unsigned char)info(result, j, &name, &type);
        e = kn_frame_add_column(b->f, name, b->fixed[j] ? type : KN_COL_NUMERIC, NULL);
        if (e == KN_ERR_INVALID)
            e = kn_fail(KN_ERR_INVALID,
                        "%s: the result has two columns named '%s'; give them "
                        "distinct names (AS ...) in the query",
                        source, name);
    }
    return e;
}

kn_status kn__builder_row(kn__builder *b)
{
    b->row = kn_frame_n_rows(b->f);
    return kn_frame_resize(b->f, b->row + 1);
}

/* Give an untyped column (missing so far) its type. */
static kn_status settle(kn__builder *b, size_t j, kn_col_type t)
{
    b->fixed[j] = 1;
    kn_column *c = kn_frame_col(b->f, j);
    if (kn_column_type(c) == t) return KN_OK;
    char *name = kn_strdup(kn_column_name(c));
    if (!name) return KN_ERR_NOMEM;
    kn_status e = kn_frame_remove_column(b->f, j);
    if (e == KN_OK) e = kn_frame_insert_column(b->f, j, name, t, NULL);
    kn_free(name);
    return e;
}

kn_status kn__builder_number(kn__builder *b, size_t j, double v)
{
    if (!b->fixed[j]) {
        kn_status e = settle(b, j, KN_COL_NUMERIC);
        if (e != KN_OK) return e;
    }
    kn_column *c = kn_frame_col(b->f, j);
    char buf[40];
    switch (kn_column_type(c)) {
    case KN_COL_NUMERIC:
        kn_column_f64(c)[b->row] = v;
        return KN_OK;
    case KN_COL_INT64:
        if (v == nearbyint(v) && fabs(v) <= KN_F64_EXACT_INT) {
            kn_column_i64(c)[b->row] = (int64_t)v;
            return KN_OK;
        }
        /* a fraction among integers a double cannot hold: keep both as text */
        if (kn__column_retype(b->f, j, KN_COL_CATEGORICAL) != KN_OK) return KN_ERR_NOMEM;
        return kn__builder_number(b, j, v);
    case KN_COL_TIMESTAMP:
        return kn_fail(KN_ERR_TYPE,
                       "%s: column '%s', row %zu: a number in a time column; "
                       "select it as text (ISO-8601) or a timestamp",
                       b->source, kn_column_name(c), b->row + 1);
    default: {
        int len = kn__format_double(v, buf, sizeof buf);
        return kn__builder_text(b, j, buf, (size_t)len);
    }
    }
}

kn_status kn__builder_int64(kn__builder *b, size_t j, int64_t v)
{
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if (mag <= (1ull << 53)) return kn__builder_number(b, j, (double)v);
    if (!b->fixed[j]) {
        kn_status e = settle(b, j, KN_COL_INT64);
        if (e != KN_OK) return e;
    }
    kn_column *c = kn_frame_col(b->f, j);
    kn_status e = KN_OK;
    if (kn_column_type(c) == KN_COL_NUMERIC) {
        e = kn__column_retype(b->f, j, KN_COL_INT64);
        if (e == KN_ERR_TYPE) e = kn__column_retype(b->f, j, KN_COL_CATEGORICAL);
    }
    if (e == KN_OK && kn_column_type(c) == KN_COL_INT64) {
        if (v != KN_I64_MISSING) {
            kn_column_i64(c)[b->row] = v;
            return KN_OK;
        }
        e = kn__column_retype(b->f, j, KN_COL_CATEGORICAL); /* INT64_MIN marks missing */
    }
    if (e != KN_OK) return e;
    if (kn_column_type(c) == KN_COL_TIMESTAMP) return kn__builder_number(b, j, (double)v);
    char buf[24];
    int len = kn__format_int64(v, buf);
    return kn__builder_text(b, j, buf, (size_t)len);
}

/* Number text in a numeric or int64 column: exact by its shape. */
static kn_status number_text(kn__builder *b, size_t j, const char *s, size_t len, double v)
{
    int64_t x;
    switch (kn__number_shape(s, s + len)) {
    case KN_SHAPE_INT:
    case KN_SHAPE_REAL:
        return kn__builder_number(b, j, v);
    case KN_SHAPE_BIGINT:
        if (kn__parse_int64(s, s + len, 0, &x)) return kn__builder_int64(b, j, x);
        break;
    case KN_SHAPE_TEXT:
        break;
    }
    kn_status e = kn__column_retype(b->f, j, KN_COL_CATEGORICAL);
    return e == KN_OK ? kn__builder_text(b, j, s, len) : e;
}

kn_status kn__builder_text(kn__builder *b, size_t j, const char *s, size_t len)
{
    if (!b->fixed[j]) {
        kn_status e = settle(b, j, KN_COL_CATEGORICAL);
        if (e != KN_OK) return e;
    }
    kn_column *c = kn_frame_col(b->f, j);
    double v;
    int64_t ts;
    switch (kn_column_type(c)) {
    case KN_COL_INT64:
        if (len && kn__parse_double(s, s + len, &v) == s + len) return number_text(b, j, s, len, v);
        return kn_fail(KN_ERR_TYPE,
                       "%s: column '%s', row %zu: '%.*s' is not an integer; CAST the "
                       "column in the query or fix the value",
                       b->source, kn_column_name(c), b->row + 1, (int)(len > 60 ? 60 : len), s);
    case KN_COL_NUMERIC:
        if (len && kn__parse_double(s, s + len, &v) == s + len) return number_text(b, j, s, len, v);
        return kn_fail(KN_ERR_TYPE,
                       "%s: column '%s', row %zu: '%.*s' is not a number; CAST the "
                       "column in the query or fix the value",
                       b->source, kn_column_name(c), b->row + 1, (int)(len > 60 ? 60 : len), s);
    case KN_COL_TIMESTAMP:
        if (kn__parse_timestamp(s, s + len, &ts)) {
            kn_column_ts(c)[b->row] = ts;
            return KN_OK;
        }
        return kn_fail(KN_ERR_TYPE, "%s: column '%s', row %zu: '%.*s' is not an ISO-8601 time",
                       b->source, kn_column_name(c), b->row + 1, (int)(len > 60 ? 60 : len), s);
    case KN_COL_CATEGORICAL:
        return kn_column_intern(c, s, len, &kn_column_codes(c)[b->row]);
    case KN_COL_STRING:
        return kn_column_set_str(c, b->row, s, len);
    }
    return KN_ERR_INTERNAL;
}

kn_frame *kn__builder_finish(kn__builder *b)
{
    kn_frame *f = b->f;
    b->f = NULL;
    return f;
}

void kn__builder_free(kn__builder *b)
{
    kn_frame_free(b->f);
    kn_free(b->fixed);
    b->f = NULL;
    b->fixed = NULL;
}
