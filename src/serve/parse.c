/* The request body parsers: v1 ({"instances": [...]} or {"inputs": {...}})
 * and v2 (named input tensors) into a frame of the model's input columns.
 * Only the JSON's shape and each value's type are checked here; the
 * schema's rules are checked on the frame (infer.c). */
#include "data/parse-impl.h"
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn__serve_err_set(kn__serve_err *e, int status, const char *code, const char *field,
                       long long row, const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    e->row = row;
    e->offset = -1;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

const char *kn__serve_datatype(kn_col_type t)
{
    switch (t) {
    case KN_COL_NUMERIC:
        return "FP64";
    case KN_COL_INT64:
        return "INT64";
    default:
        return "BYTES";
    }
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Where a value sits, for messages: "instances[3].age", "inputs.age[3]". */
typedef struct place {
    const char *form; /* "instances", "inputs" */
    int by_row;       /* instances[row].name, else form.name[row] */
} place;

static void where(char *buf, size_t cap, const place *pl, const char *name, size_t row)
{
    if (pl->by_row)
        snprintf(buf, cap, "%s[%zu].%s", pl->form, row, name);
    else
        snprintf(buf, cap, "%s.%s[%zu]", pl->form, name, row);
}

static int type_error(kn__serve_err *err, const place *pl, const char *name, size_t row,
                      const json_t *v, const char *want)
{
    char at[192];
    where(at, sizeof at, pl, name, row);
    kn__serve_err_set(err, 400, "invalid_input", name, (long long)row,
                      "%s is %s, but column '%s' takes %s (or null for a missing value)", at,
                      json_kind(v), name, want);
    return -1;
}

/* Store v in row `row` of column c (type t). null stays missing. */
static int put(kn_column *c, kn_col_type t, size_t row, const json_t *v, const place *pl,
               const char *name, kn__serve_err *err)
{
    if (json_is_null(v)) return 0;
    kn_status e = KN_OK;
    switch (t) {
    case KN_COL_NUMERIC:
        if (!json_is_number(v)) return type_error(err, pl, name, row, v, "a number");
        kn_column_f64(c)[row] = json_number_value(v);
        return 0;
    case KN_COL_INT64: {
        double d = json_is_real(v) ? json_real_value(v) : 0;
        if (json_is_integer(v))
            kn_column_i64(c)[row] = (int64_t)json_integer_value(v);
        else if (json_is_real(v) && d == floor(d) && fabs(d) < 9.2e18)
            kn_column_i64(c)[row] = (int64_t)d;
        else
            return type_error(err, pl, name, row, v, "an integer");
        return 0;
    }
    case KN_COL_TIMESTAMP: {
        int64_t us;
        const char *s = json_string_value(v);
        if (!s) return type_error(err, pl, name, row, v, "an ISO-8601 date or time text");
        if (!kn__parse_timestamp(s, s + json_string_length(v), &us)) {
            char at[192];
            where(at, sizeof at, pl, name, row);
            kn__serve_err_set(err, 400, "invalid_input", name, (long long)row,
                              "%s: '%.64s' is not an ISO-8601 date or time (e.g. 2024-05-01 or "
                              "2024-05-01T12:00:00Z)",
                              at, s);
            return -1;
        }
        kn_column_ts(c)[row] = us;
        return 0;
    }
    case KN_COL_CATEGORICAL:
    case KN_COL_STRING: {
        char num[32];
        const char *s;
        size_t len;
        if (json_is_string(v)) {
            s = json_string_value(v);
            len = json_string_length(v);
        } else if (json_is_integer(v)) {
            len = (size_t)snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = num;
        } else {
            return type_error(err, pl, name, row, v, "a string");
        }
        if (t == KN_COL_STRING) {
            e = kn_column_set_str(c, row, s, len);
        } else {
            int32_t code;
            e = kn_column_intern(c, s, len, &code);
            if (e == KN_OK) kn_column_codes(c)[row] = code;
        }
        break;
    }
    }
    if (e != KN_OK) {
        kn__serve_err_set(err, e == KN_ERR_NOMEM ? 503 : 500, "internal", name, (long long)row,
                          "%s", kn_last_error());
        return -1;
    }
    return 0;
}

/* Index of name among the inputs; -2 for the target or weight (ignored);
 * -1 when unknown (err filled). *hint is where the search starts and is
 * left after the match: clients send the columns in the model's order, so
 * a row's keys are found in one comparison each. */
static long find_input(const kn__serve_inputs *in, const char *name, long long row, size_t *hint,
                       kn__serve_err *err)
{
    for (size_t k = 0, j = *hint; k < in->n; k++, j = j + 1 < in->n ? j + 1 : 0)
        if (!strcmp(in->names[j], name)) {
            *hint = j + 1 < in->n ? j + 1 : 0;
            return (long)j;
        }
    if ((in->target && !strcmp(in->target, name)) || (in->weight && !strcmp(in->weight, name)))
        return -2;
    char list[256];
    size_t k = 0;
    list[0] = 0;
    for (size_t j = 0; j < in->n && k < sizeof list - 8; j++) {
        int w = snprintf(list + k, sizeof list - k, "%s%s", j ? ", " : "", in->names[j]);
        if (w < 0 || (size_t)w >= sizeof list - k) {
            snprintf(list + k, sizeof list - k, ", ...");
            break;
        }
        k += (size_t)w;
    }
    kn__serve_err_set(err, 400, "invalid_input", name, row,
                      "unknown input column '%.64s'; the model takes %zu columns: %s", name, in->n,
                      list);
    return -1;
}

static int new_frame(const kn__serve_inputs *in, size_t n, kn_frame **out, kn__serve_err *err)
{
    kn_frame *f = NULL;
    kn_status e = kn_frame_new(&f);
    for (size_t j = 0; e == KN_OK && j < in->n; j++)
        e = kn_frame_add_column(f, in->names[j], in->types[j], NULL);
    if (e == KN_OK) e = kn_frame_resize(f, n);
    if (e != KN_OK) {
        kn_frame_free(f);
        kn__serve_err_set(err, e == KN_ERR_NOMEM ? 503 : 500, "internal", NULL, -1, "%s",
                          kn_last_error());
        return -1;
    }
    *out = f;
    return 0;
}

/* The calling thread's spare one-row frame (kn__serve_frame_done); a
 * pthread key frees it when the thread ends. */
typedef struct spare_frame {
    uint64_t uid;
    kn_frame *f;
} spare_frame;

static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_free(void *p)
{
    spare_frame *sp = p;
    kn_frame_free(sp->f);
    free(sp);
}

static void spare_init(void)
{
    if (pthread_key_create(&spare_key, spare_free)) spare_key = (pthread_key_t)-1;
}

static spare_frame *spare_of_thread(int make)
{
    pthread_once(&spare_once, spare_init);
    if (spare_key == (pthread_key_t)-1) return NULL;
    spare_frame *sp = pthread_getspecific(spare_key);
    if (!sp && make && (sp = calloc(1, sizeof *sp)) && pthread_setspecific(spare_key, sp)) {
        free(sp);
        sp = NULL;
    }
    return sp;
}

void kn__serve_frame_done(const kn__serve_inputs *in, kn_frame *f)
{
    spare_frame *sp;
    if (f && in->all_numeric && kn_frame_n_rows(f) == 1 && kn_frame_n_cols(f) == in->n &&
        (sp = spare_of_thread(1))) {
        kn_frame_free(sp->f);
        sp->uid = in->uid;
        sp->f = f;
        return;
    }
    kn_frame_free(f);
}

/* The thread's spare for these inputs, every cell missing; NULL when none. */
static kn_frame *take_spare(const kn__serve_inputs *in)
{
    spare_frame *sp = in->all_numeric ? spare_of_thread(0) : NULL;
    if (!sp || !sp->f || sp->uid != in->uid) return NULL;
    kn_frame *f = sp->f;
    sp->f = NULL;
    for (size_t j = 0; j < in->n; j++) kn_column_f64(kn_frame_col(f, j))[0] = NAN;
    return f;
}

static json_t *load_body(const char *body, size_t len, kn__serve_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root) {
        kn__serve_err_set(err, 400, "bad_json", NULL, -1, "malformed JSON at byte %d: %s",
                          je.position, je.text);
        err->offset = je.position;
        return NULL;
    }
    if (!json_is_object(root)) {
        kn__serve_err_set(err, 400, "invalid_request", NULL, -1,
                          "the body is %s; it must be a JSON object", json_kind(root));
        json_decref(root);
        return NULL;
    }
    return root;
}

static int too_many_rows(size_t n, kn__serve_err *err)
{
    if (n) return 0;
    kn__serve_err_set(err, 400, "invalid_request", NULL, -1,
                      "the request holds no rows: send at least one");
    return -1;
}

/* A required input that no value names. */
static int check_required(const kn__serve_inputs *in, const unsigned char *seen, long long row,
                          const char *form, kn__serve_err *err)
{
    for (size_t j = 0; j < in->n; j++) {
        if (!in->required[j] || seen[j]) continue;
        if (row >= 0)
            kn__serve_err_set(err, 400, "invalid_input", in->names[j], row,
                              "%s[%lld] has no '%s', a column the input schema requires (send "
                              "null for a missing value where the schema allows one)",
                              form, row, in->names[j]);
        else
            kn__serve_err_set(err, 400, "invalid_input", in->names[j], -1,
                              "the request has no input '%s', a column the input schema "
                              "requires",
                              in->names[j]);
        return -1;
    }
    return 0;
}

static int v1_instances(const kn__serve_inputs *in, const json_t *rows, kn_frame *f,
                        unsigned char *seen, kn__serve_err *err)
{
    static const place pl = {"instances", 1};
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (!json_is_object(row)) {
            kn__serve_err_set(err, 400, "invalid_request", NULL, (long long)i,
                              "instances[%zu] is %s; each instance must be an object of "
                              "column: value",
                              i, json_kind(row));
            return -1;
        }
        memset(seen, 0, in->n ? in->n : 1);
        const char *key;
        const json_t *v;
        size_t hint = 0;
        json_object_foreach((json_t *)row, key, v)
        {
            long j = find_input(in, key, (long long)i, &hint, err);
            if (j == -1) return -1;
            if (j < 0) continue;
            seen[j] = 1;
            if (put(kn_frame_col(f, (size_t)j), in->types[j], i, v, &pl, key, err)) return -1;
        }
        if (check_required(in, seen, (long long)i, "instances", err)) return -1;
    }
    return 0;
}

static int v1_columns(const kn__serve_inputs *in, const json_t *cols, size_t n, kn_frame *f,
                      unsigned char *seen, kn__serve_err *err)
{
    static const place pl = {"inputs", 0};
    const char *key;
    const json_t *v;
    size_t hint = 0;
    json_object_foreach((json_t *)cols, key, v)
    {
        long j = find_input(in, key, -1, &hint, err);
        if (j == -1) return -1;
        if (j < 0) continue;
        seen[j] = 1;
        for (size_t i = 0; i < n; i++)
            if (put(kn_frame_col(f, (size_t)j), in->types[j], i, json_array_get(v, i), &pl, key,
                    err))
                return -1;
    }
    return check_required(in, seen, -1, "inputs", err);
}

/* The rows of a column-wise v1 body: every value an array of one length. */
static int v1_column_rows(const json_t *cols, size_t *n, kn__serve_err *err)
{
    const char *key, *first = NULL;
    const json_t *v;
    json_object_foreach((json_t *)cols, key, v)
    {
        if (!json_is_array(v)) {
            kn__serve_err_set(err, 400, "invalid_request", key, -1,
                              "inputs.%.64s is %s; column-wise inputs are arrays of values", key,
                              json_kind(v));
            return -1;
        }
        if (!first) {
            first = key;
            *n = json_array_size(v);
        } else if (json_array_size(v) != *n) {
            kn__serve_err_set(err, 400, "invalid_request", key, -1,
                              "inputs.%.64s has %zu values but inputs.%.64s has %zu: every "
                              "column needs one value per row",
                              key, json_array_size(v), first, *n);
            return -1;
        }
    }
    if (!first) *n = 0;
    return 0;
}

/* ---- v1, one flat row, without a JSON tree ----
 * The request a client sends most, {"instances": [{"col": scalar, ..}]},
 * read in one pass: ASCII keys and strings without escapes, JSON numbers,
 * null. Anything else (another shape, an escape, a byte above 127, a
 * duplicate or unknown key, a value of another type, a required column
 * left out, a number jansson would refuse) goes to the jansson parser,
 * which reads it or says what is wrong. The values reach the frame as
 * put() stores jansson's values. */

typedef struct lex {
    const char *p, *end;
} lex;

static void ws(lex *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

static int eat(lex *x, char c)
{
    ws(x);
    if (x->p == x->end || *x->p != c) return 0;
    x->p++;
    return 1;
}

/* A string without escapes: *s, *n its bytes (the quotes left out). */
static int str_token(lex *x, const char **s, size_t *n)
{
    if (!eat(x, '"')) return 0;
    const char *b = x->p;
    while (x->p < x->end && *x->p != '"') {
        unsigned char c = (unsigned char)*x->p;
        if (c < 0x20 || c >= 0x80 || c == '\\') return 0;
        x->p++;
    }
    if (x->p == x->end) return 0;
    *s = b;
    *n = (size_t)(x->p - b);
    x->p++;
    return 1;
}

/* One value: kind 'n' (null), 's' (string), 'i' (integer), 'r' (real),
 * with its text; 0 for anything else. */
static int value_token(lex *x, char *kind, const char **s, size_t *n)
{
    ws(x);
    if (x->p == x->end) return 0;
    if (*x->p == '"') {
        *kind = 's';
        return str_token(x, s, n);
    }
    if ((size_t)(x->end - x->p) >= 4 && !memcmp(x->p, "null", 4)) {
        x->p += 4;
        *kind = 'n';
        return 1;
    }
    /* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *b = x->p, *q = x->p, *e = x->end;
    int real = 0;
    if (q < e && *q == '-') q++;
    if (q < e && *q == '0')
        q++;
    else if (q < e && *q >= '1' && *q <= '9')
        while (q < e && *q >= '0' && *q <= '9') q++;
    else
        return 0;
    if (q < e && *q == '.') {
        real = 1;
        if (++q == e || *q < '0' || *q > '9') return 0;
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        real = 1;
        if (++q < e && (*q == '+' || *q == '-')) q++;
        if (q == e || *q < '0' || *q > '9') return 0;
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    *kind = real ? 'r' : 'i';
    *s = b;
    *n = (size_t)(q - b);
    x->p = q;
    return 1;
}

/* The number as jansson reads it (strtoll for an integer, strtod for a
 * real); 0 where jansson refuses it (too big). */
static int number_of(char kind, const char *s, size_t n, long long *i, double *d)
{
    char buf[64];
    if (n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    errno = 0;
    if (kind == 'i') {
        *i = strtoll(buf, NULL, 10);
        *d = (double)*i;
        return errno != ERANGE;
    }
    if (kn__parse_double(buf, buf + n, d) == buf + n) return !isinf(*d); /* strtod's value */
    *d = strtod(buf, NULL);
    return !(errno == ERANGE && (*d == HUGE_VAL || *d == -HUGE_VAL));
}

typedef struct cell {
    char kind;
    const char *s;
    size_t n;
} cell;

/* Index of the input named s (n bytes), from *hint on; -2 for the target
 * or weight; -1 when unknown. */
static long input_of(const kn__serve_inputs *in, const char *s, size_t n, size_t *hint)
{
    for (size_t k = 0, j = *hint; k < in->n; k++, j = j + 1 < in->n ? j + 1 : 0)
        if (!strncmp(in->names[j], s, n) && !in->names[j][n]) {
            *hint = j + 1 < in->n ? j + 1 : 0;
            return (long)j;
        }
    if ((in->target && !strncmp(in->target, s, n) && !in->target[n]) ||
        (in->weight && !strncmp(in->weight, s, n) && !in->weight[n]))
        return -2;
    return -1;
}

/* Store a cell as put() stores jansson's value; 0 to leave the body to jansson. */
static int put_cell(kn_column *c, kn_col_type t, const cell *v)
{
    long long i = 0;
    double d = 0;
    if (v->kind == 'n') return 1;
    if (t == KN_COL_NUMERIC) {
        if (v->kind == 's' || !number_of(v->kind, v->s, v->n, &i, &d)) return 0;
        kn_column_f64(c)[0] = d;
        return 1;
    }
    if (t != KN_COL_CATEGORICAL && t != KN_COL_STRING) return 0;
    char num[32];
    const char *s = v->s;
    size_t len = v->n;
    if (v->kind == 'r') return 0;
    if (v->kind == 'i') {
        if (!number_of('i', v->s, v->n, &i, &d)) return 0;
        len = (size_t)snprintf(num, sizeof num, "%lld", i);
        s = num;
    }
    if (t == KN_COL_STRING) return kn_column_set_str(c, 0, s, len) == KN_OK;
    int32_t code;
    if (kn_column_intern(c, s, len, &code) != KN_OK) return 0;
    kn_column_codes(c)[0] = code;
    return 1;
}

enum { ONE_ROW_COLS = 512 }; /* inputs the one-row reader takes */

static int v1_one_row(const kn__serve_inputs *in, const char *body, size_t len, kn_frame **out)
{
    lex x = {body, body + len};
    const char *key;
    size_t n;
    cell cells[ONE_ROW_COLS];
    unsigned char seen[ONE_ROW_COLS];
    if (in->n > ONE_ROW_COLS) return 0;
    memset(seen, 0, in->n);
    if (!eat(&x, '{') || !str_token(&x, &key, &n) || n != 9 || memcmp(key, "instances", 9) ||
        !eat(&x, ':') || !eat(&x, '[') || !eat(&x, '{'))
        return 0;
    size_t hint = 0;
    ws(&x);
    if (x.p < x.end && *x.p == '}')
        x.p++;
    else
        for (;;) {
            cell v;
            if (!str_token(&x, &key, &n) || !eat(&x, ':') || !value_token(&x, &v.kind, &v.s, &v.n))
                return 0;
            long j = input_of(in, key, n, &hint);
            if (j == -1 || (j >= 0 && seen[j])) return 0;
            if (j >= 0) {
                seen[j] = 1;
                cells[j] = v;
            }
            if (eat(&x, ',')) continue;
            if (!eat(&x, '}')) return 0;
            break;
        }
    if (!eat(&x, ']') || !eat(&x, '}')) return 0;
    ws(&x);
    if (x.p != x.end) return 0;
    for (size_t j = 0; j < in->n; j++)
        if (in->required[j] && !seen[j]) return 0;
    kn_frame *f = take_spare(in);
    kn__serve_err err;
    if (!f && new_frame(in, 1, &f, &err)) return 0;
    for (size_t j = 0; j < in->n; j++)
        if (seen[j] && !put_cell(kn_frame_col(f, j), in->types[j], &cells[j])) {
            kn_frame_free(f);
            return 0;
        }
    *out = f;
    return 1;
}

int kn__serve_parse_v1(const kn__serve_inputs *in, const char *body, size_t len, kn_frame **out,
                       kn__serve_err *err)
{
    *out = NULL;
    if (v1_one_row(in, body, len, out)) return 0;
    return kn__serve_parse_v1_json(in, body, len, out, err);
}

int kn__serve_parse_v1_json(const kn__serve_inputs *in, const char *body, size_t len,
                            kn_frame **out, kn__serve_err *err)
{
    *out = NULL;
    json_t *root = load_body(body, len, err);
    if (!root) return -1;
    const json_t *rows = json_object_get(root, "instances"),
                 *cols = json_object_get(root, "inputs");
    kn_frame *f = NULL;
    unsigned char *seen = NULL;
    size_t n = 0;
    int rc = -1;
    if ((rows != NULL) == (cols != NULL)) {
        kn__serve_err_set(err, 400, "invalid_request", NULL, -1,
                          "the body needs one of \"instances\" (an array of row objects) or "
                          "\"inputs\" (an object of column arrays)%s",
                          rows ? ", not both" : "");
        goto done;
    }
    if (rows && !json_is_array(rows)) {
        kn__serve_err_set(err, 400, "invalid_request", "instances", -1,
                          "\"instances\" is %s; it must be an array of row objects",
                          json_kind(rows));
        goto done;
    }
    if (cols && !json_is_object(cols)) {
        kn__serve_err_set(err, 400, "invalid_request", "inputs", -1,
                          "\"inputs\" is %s; it must be an object of column arrays",
                          json_kind(cols));
        goto done;
    }
    if (rows)
        n = json_array_size(rows);
    else if (v1_column_rows(cols, &n, err))
        goto done;
    if (too_many_rows(n, err)) goto done;
    seen = calloc(in->n ? in->n : 1, 1);
    if (!seen) {
        kn__serve_err_set(err, 503, "internal", NULL, -1, "out of memory");
        goto done;
    }
    if (new_frame(in, n, &f, err)) goto done;
    rc = rows ? v1_instances(in, rows, f, seen, err) : v1_columns(in, cols, n, f, seen, err);
done:
    free(seen);
    json_decref(root);
    if (rc) {
        kn_frame_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

/* ---- v2 ---- */

static int datatype_fits(kn_col_type t, const char *dt)
{
    if (!strcmp(dt, "BYTES")) return t != KN_COL_NUMERIC && t != KN_COL_INT64;
    if (t != KN_COL_NUMERIC && t != KN_COL_INT64) return 0;
    if (t == KN_COL_INT64) return !strncmp(dt, "INT", 3) || !strncmp(dt, "UINT", 4);
    return !strncmp(dt, "FP", 2) || !strncmp(dt, "INT", 3) || !strncmp(dt, "UINT", 4);
}

/* The number of values a v2 tensor holds (its data array flattened when
 * the shape is [n, 1]), checked against its shape. */
static int tensor_rows(const json_t *t, const char *name, size_t *n, kn__serve_err *err)
{
    const json_t *data = json_object_get(t, "data"), *shape = json_object_get(t, "shape");
    if (!json_is_array(data)) {
        kn__serve_err_set(err, 400, "invalid_request", name, -1,
                          "input '%.64s' has %s \"data\"; it must be an array of values", name,
                          data ? json_kind(data) : "no");
        return -1;
    }
    *n = json_array_size(data);
    if (!shape) return 0;
    unsigned long long prod = 1;
    size_t i;
    const json_t *d;
    int ok = json_is_array(shape) && json_array_size(shape) >= 1;
    json_array_foreach(shape, i, d)
    {
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > (1 << 30)) {
            ok = 0;
            break;
        }
        prod *= (unsigned long long)json_integer_value(d);
        if (prod > (1ull << 40)) ok = 0;
        if (i >= 1 && json_integer_value(d) != 1) ok = 0; /* one value per row */
    }
    if (ok && prod == *n) return 0;
    kn__serve_err_set(err, 400, "invalid_request", name, -1,
                      "input '%.64s': \"shape\" must be [n] or [n, 1] with n the number of "
                      "values in \"data\" (%zu)",
                      name, *n);
    return -1;
}

/* A value of a tensor: data[i], or data[i][0] when the rows are nested. */
static const json_t *tensor_value(const json_t *data, size_t i)
{
    const json_t *v = json_array_get(data, i);
    if (json_is_array(v) && json_array_size(v) == 1) v = json_array_get(v, 0);
    return v;
}

void kn__serve_outputs_free(kn__serve_outputs *o)
{
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) free(o->names[i]);
    free(o->names);
    memset(o, 0, sizeof *o);
}

/* "outputs": [{"name": ..}, ..] into o (absent: all). */
static int requested_outputs(const json_t *outputs, kn__serve_outputs *o, kn__serve_err *err)
{
    if (!outputs) return 0;
    if (!json_is_array(outputs)) {
        kn__serve_err_set(err, 400, "invalid_request", "outputs", -1,
                          "\"outputs\" is %s; it must be an array of {\"name\": ..}, or left out "
                          "for all of them",
                          json_kind(outputs));
        return -1;
    }
    size_t n = json_array_size(outputs), i;
    const json_t *t;
    if (!(o->names = calloc(n ? n : 1, sizeof *o->names))) {
        kn__serve_err_set(err, 503, "internal", NULL, -1, "out of memory");
        return -1;
    }
    json_array_foreach(outputs, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (!json_is_object(t) || !name) {
            kn__serve_err_set(err, 400, "invalid_request", "outputs", -1,
                              "outputs[%zu] must be an object with a \"name\" (a string)", i);
            return -1;
        }
        if (!(o->names[o->n] = strdup(name))) {
            kn__serve_err_set(err, 503, "internal", NULL, -1, "out of memory");
            return -1;
        }
        o->n++;
    }
    return 0;
}

int kn__serve_parse_v2(const kn__serve_inputs *in, const char *body, size_t len, kn_frame **out,
                       char **id, kn__serve_outputs *outputs, kn__serve_err *err)
{
    static const place pl = {"inputs", 0};
    *out = NULL;
    if (id) *id = NULL;
    json_t *root = load_body(body, len, err);
    if (!root) return -1;
    const json_t *inputs = json_object_get(root, "inputs"), *jid = json_object_get(root, "id");
    kn_frame *f = NULL;
    unsigned char *seen = NULL;
    size_t n = 0, i, hint = 0;
    const json_t *t;
    int rc = -1;
    if (!json_is_array(inputs)) {
        kn__serve_err_set(err, 400, "invalid_request", "inputs", -1,
                          "the body needs \"inputs\": an array of tensors {\"name\", "
                          "\"datatype\", \"shape\", \"data\"}, one per column");
        goto done;
    }
    if (jid && !json_is_string(jid)) {
        kn__serve_err_set(err, 400, "invalid_request", "id", -1,
                          "\"id\" is %s; it must be a string", json_kind(jid));
        goto done;
    }
    if (outputs && requested_outputs(json_object_get(root, "outputs"), outputs, err)) goto done;
    json_array_foreach(inputs, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        const json_t *dt = json_object_get(t, "datatype");
        size_t rows;
        if (!json_is_object(t) || !name) {
            kn__serve_err_set(err, 400, "invalid_request", NULL, -1,
                              "inputs[%zu] must be an object with a \"name\" (a string)", i);
            goto done;
        }
        if (dt && !json_is_string(dt)) {
            kn__serve_err_set(err, 400, "invalid_request", name, -1,
                              "input '%.64s': \"datatype\" must be a string such as FP64 or "
                              "BYTES",
                              name);
            goto done;
        }
        if (tensor_rows(t, name, &rows, err)) goto done;
        if (i == 0) {
            n = rows;
        } else if (rows != n) {
            kn__serve_err_set(err, 400, "invalid_request", name, -1,
                              "input '%.64s' has %zu values but the first input has %zu: "
                              "every input needs one value per row",
                              name, rows, n);
            goto done;
        }
    }
    if (too_many_rows(n, err)) goto done;
    seen = calloc(in->n ? in->n : 1, 1);
    if (!seen) {
        kn__serve_err_set(err, 503, "internal", NULL, -1, "out of memory");
        goto done;
    }
    if (new_frame(in, n, &f, err)) goto done;
    json_array_foreach(inputs, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *dt = json_string_value(json_object_get(t, "datatype"));
        const json_t *data = json_object_get(t, "data");
        long j = find_input(in, name, -1, &hint, err);
        if (j == -1) goto done;
        if (j < 0) continue;
        if (seen[j]) {
            kn__serve_err_set(err, 400, "invalid_request", name, -1, "input '%.64s' is given twice",
                              name);
            goto done;
        }
        seen[j] = 1;
        if (dt && !datatype_fits(in->types[j], dt)) {
            kn__serve_err_set(err, 400, "invalid_input", name, -1,
                              "input '%.64s' has datatype %.16s, but the column is %s: send %s",
                              name, dt, kn_col_type_name(in->types[j]),
                              kn__serve_datatype(in->types[j]));
            goto done;
        }
        for (size_t r = 0; r < n; r++)
            if (put(kn_frame_col(f, (size_t)j), in->types[j], r, tensor_value(data, r), &pl, name,
                    err))
                goto done;
    }
    if (check_required(in, seen, -1, "inputs", err)) goto done;
    if (id && jid) {
        *id = strdup(json_string_value(jid));
        if (!*id) {
            kn__serve_err_set(err, 503, "internal", NULL, -1, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    free(seen);
    json_decref(root);
    if (rc) {
        kn_frame_free(f);
        if (id) {
            free(*id);
            *id = NULL;
        }
        kn__serve_outputs_free(outputs);
        return -1;
    }
    *out = f;
    return 0;
}
