/* JSON Lines: one JSON object per line (jansson parses each line). Keys
 * become columns in order of first appearance; numbers and booleans are
 * numeric, integers beyond 2^53 int64 (exact; next to fractions the column
 * keeps each number's JSON text as a category; integers beyond int64 are
 * refused by jansson, naming the line), strings categorical (timestamp when every value is
 * ISO-8601), null or an absent key is missing; nested arrays and objects are kept as their JSON
 * text in a string column. */
#include "data/frame-impl.h"
#include "data/io-impl.h"
#include "data/json-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

enum { J_UNKNOWN = 0, J_INT = 1, J_REAL = 2, J_BIG = 3, J_TS = 4, J_CAT = 5, J_STR = 6 };

static int value_kind(json_t *v)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x == INT64_MIN) return J_CAT; /* INT64_MIN marks missing int64 cells */
        uint64_t mag = x < 0 ? -(uint64_t)x : (uint64_t)x;
        return mag > (1ull << 53) ? J_BIG : J_INT;
    }
    if (json_is_boolean(v)) return J_INT;
    if (json_is_real(v)) return J_REAL;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        int64_t t;
        return kn__parse_timestamp(s, s + json_string_length(v), &t) ? J_TS : J_CAT;
    }
    if (json_is_null(v)) return J_UNKNOWN;
    return J_STR;
}

static int join(int a, int b)
{
    if (a == J_UNKNOWN) return b;
    if (b == J_UNKNOWN || a == b) return a;
    if (a == J_STR || b == J_STR) return J_STR;
    if (a > b) {
        int t = a;
        a = b;
        b = t;
    }
    if (a == J_INT && (b == J_REAL || b == J_BIG)) return b;
    return J_CAT;
}

typedef struct jl_key {
    char *name;
    int kind;
} jl_key;

static kn_status store(kn_column *c, size_t i, json_t *v)
{
    if (json_is_null(v)) return KN_OK;
    switch (c->type) {
    case KN_COL_NUMERIC:
        c->f64[i] = json_is_boolean(v) ? (json_is_true(v) ? 1 : 0) : json_number_value(v);
        return KN_OK;
    case KN_COL_INT64:
        c->ts[i] = json_is_boolean(v) ? json_is_true(v) : (int64_t)json_integer_value(v);
        return KN_OK;
    case KN_COL_TIMESTAMP: {
        const char *s = json_string_value(v);
        kn__parse_timestamp(s, s + json_string_length(v), &c->ts[i]);
        return KN_OK;
    }
    case KN_COL_CATEGORICAL:
        if (json_is_string(v))
            return kn__dict_intern(&c->dict, json_string_value(v), json_string_length(v),
                                   &c->codes[i]);
        /* a number in a text column keeps its JSON text */
        __attribute__((fallthrough));
    case KN_COL_STRING: {
        if (json_is_string(v))
            return kn_column_set_str(c, i, json_string_value(v), json_string_length(v));
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        if (!text) return kn_fail(KN_ERR_NOMEM, "out of memory encoding JSON");
        kn_status s = c->type == KN_COL_STRING
                          ? kn_column_set_str(c, i, text, strlen(text))
                          : kn__dict_intern(&c->dict, text, strlen(text), &c->codes[i]);
        free(text);
        return s;
    }
    }
    return KN_OK;
}

kn_status kn__jsonl_read(const char *path, const kn_read_opts *o, kn_frame **out,
                         kn_read_report *rep)
{
    char *buf;
    size_t len;
    kn_status st = kn__read_input(path, &buf, &len, rep);
    if (st != KN_OK) return st;
    kn_rejects rj;
    jl_key *keys = NULL;
    size_t n_keys = 0, cap_keys = 0, n_good = 0;
    char *good = NULL; /* per line: 1 if it is a valid object */
    size_t n_lines = 0;
    kn_frame *f = NULL;
    if ((st = kn__rejects_open(&rj, path, o, rep)) != KN_OK) goto done;
    for (const char *p = buf; p < buf + len; n_lines++) {
        const char *le = memchr(p, '\n', (size_t)(buf + len - p));
        p = le ? le + 1 : buf + len;
    }
    good = kn_calloc(n_lines ? n_lines : 1, 1);
    if (!good) {
        st = KN_ERR_NOMEM;
        goto close;
    }
    /* pass 1: schema */
    size_t li = 0;
    for (const char *p = buf, *end = buf + len; p < end && st == KN_OK; li++) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        if (!le) le = end;
        const char *s = p, *e = le;
        p = le < end ? le + 1 : le;
        while (s < e && (*s == ' ' || *s == '\t')) s++;
        while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
        if (s == e) continue;
        json_error_t err;
        json_t *obj = json_loadb(s, (size_t)(e - s), JSON_DECODE_ANY, &err);
        const char *why = NULL;
        char reason[300];
        uint64_t col = 1;
        if (!obj) {
            snprintf(reason, sizeof reason, "invalid JSON: %s", err.text);
            why = reason;
            col = (uint64_t)(err.position > 0 ? err.position : 1);
        } else if (!json_is_object(obj)) {
            why = "each line must be a JSON object";
        }
        if (why) {
            json_decref(obj);
            st = kn__rejects_add(&rj, li + 1, col, li + 1, n_good + rep->rows_read + 1, why, s,
                                 (size_t)(e - s));
            continue;
        }
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
        {
            size_t j = 0;
            while (j < n_keys && strcmp(keys[j].name, k) != 0) j++;
            if (j == n_keys) {
                if (n_keys == cap_keys) {
                    size_t nc = cap_keys ? cap_keys * 2 : 16;
                    jl_key *nk = kn_realloc(keys, nc * sizeof *nk);
                    if (!nk) {
                        st = KN_ERR_NOMEM;
                        break;
                    }
                    keys = nk;
                    cap_keys = nc;
                }
                keys[n_keys].name = kn_strdup(k);
                keys[n_keys].kind = J_UNKNOWN;
                if (!keys[n_keys].name) {
                    st = KN_ERR_NOMEM;
                    break;
                }
                n_keys++;
            }
            keys[j].kind = join(keys[j].kind, value_kind(v));
        }
        json_decref(obj);
        good[li] = 1;
        n_good++;
    }
    if (st != KN_OK) goto close;
    if ((st = kn_frame_new(&f)) != KN_OK) goto close;
    for (size_t j = 0; j < n_keys && st == KN_OK; j++) {
        int k = keys[j].kind;
        kn_col_type t = k == J_TS    ? KN_COL_TIMESTAMP
                        : k == J_BIG ? KN_COL_INT64
                        : k == J_CAT ? KN_COL_CATEGORICAL
                        : k == J_STR ? KN_COL_STRING
                                     : KN_COL_NUMERIC;
        st = kn_frame_add_column(f, keys[j].name, t, NULL);
    }
    if (st == KN_OK) st = kn_frame_resize(f, n_good);
    /* pass 2: values */
    li = 0;
    size_t row = 0;
    for (const char *p = buf, *end = buf + len; p < end && st == KN_OK; li++) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        if (!le) le = end;
        const char *s = p;
        p = le < end ? le + 1 : le;
        if (!good[li]) continue;
        json_t *obj = json_loadb(s, (size_t)(le - s), JSON_DECODE_ANY, NULL);
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
        {
            size_t j;
            if (kn_frame_find(f, k, &j) == KN_OK) st = store(f->cols[j], row, v);
            if (st != KN_OK) break;
        }
        json_decref(obj);
        row++;
        rep->rows_read++;
    }
close:
    if (kn__rejects_close(&rj) != KN_OK && st == KN_OK) st = KN_ERR_IO;
done:
    for (size_t j = 0; j < n_keys; j++) kn_free(keys[j].name);
    kn_free(keys);
    kn_free(good);
    kn_free(buf);
    if (st != KN_OK) {
        kn_frame_free(f);
        return st;
    }
    *out = f;
    return KN_OK;
}

kn_status kn__jsonl_write(const kn_frame *f, const char *path)
{
    kn_outfile out;
    kn_status s = kn__outfile_open(&out, path);
    if (s != KN_OK) return s;
    char buf[64];
    for (size_t i = 0; i < f->n_rows && s == KN_OK; i++) {
        json_t *obj = json_object();
        for (size_t j = 0; j < f->n_cols; j++) {
            const kn_column *c = f->cols[j];
            json_t *v;
            size_t len;
            const char *t;
            if (kn_column_is_missing(c, i)) {
                v = json_null();
            } else {
                switch (c->type) {
                case KN_COL_NUMERIC: {
                    double x = c->f64[i];
                    /* whole numbers as integers: an identifier reads back as it was */
                    v = !isfinite(x) ? json_null()
                        : x == nearbyint(x) && fabs(x) <= KN_F64_EXACT_INT
                            ? json_integer((json_int_t)x)
                            : json_real(x);
                    break;
                }
                case KN_COL_INT64:
                    v = json_integer((json_int_t)c->ts[i]);
                    break;
                case KN_COL_CATEGORICAL:
                    t = kn__dict_get(&c->dict, c->codes[i], &len);
                    v = json_stringn(t, len);
                    break;
                case KN_COL_STRING:
                    t = kn_column_str(c, i, &len);
                    v = json_stringn(t, len);
                    break;
                default:
                    kn__format_timestamp(c->ts[i], buf, sizeof buf);
                    v = json_string(buf);
                    break;
                }
            }
            json_object_set_new(obj, c->name, v);
        }
        if (kn__json_write(obj, out.fp, 0) != 0) s = kn_fail(KN_ERR_IO, "writing %s failed", path);
        fputc('\n', out.fp);
        json_decref(obj);
    }
    if (s != KN_OK) {
        kn__outfile_abort(&out);
        return s;
    }
    return kn__outfile_commit(&out);
}
