/* Header detection and column type inference from a sample of records.
 * Types form a small lattice: unknown < integer < real (numeric),
 * integer < big integer (int64), unknown < timestamp, and anything else
 * joins to categorical: real with big integer too (no double holds both
 * exactly), and identifier-like numbers (leading zeros, integers beyond
 * int64) are text from the start. Columns with no value in the sample start
 * numeric; a later value that does not fit promotes the column and the
 * driver re-reads (safe promotion). Declared types override inference. */
#include "data/csv_reader-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <stdio.h>
#include <string.h>

enum { T_UNKNOWN = 0, T_INT = 1, T_REAL = 2, T_BIG = 3, T_TS = 4, T_CAT = 5, T_IDENT = 6 };

static int classify(const csv_reader *r, const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    double v;
    char nbuf[CSV_NUMBER_TEXT_MAX];
    const char *ns, *ne;
    if (kn__csv_number_text(r, s, e, nbuf, sizeof nbuf, &ns, &ne) &&
        kn__parse_double(ns, ne, &v) == ne)
        switch (kn__number_shape(ns, ne)) {
        case KN_SHAPE_INT:
            return T_INT;
        case KN_SHAPE_REAL:
            return T_REAL;
        case KN_SHAPE_BIGINT:
            return T_BIG;
        case KN_SHAPE_TEXT:
            return T_IDENT;
        }
    int64_t t;
    if (kn__parse_timestamp(s, e, &t)) return T_TS;
    return T_CAT;
}

static int join(int a, int b)
{
    if (a == T_IDENT) a = T_CAT;
    if (b == T_IDENT) b = T_CAT;
    if (a == T_UNKNOWN) return b;
    if (b == T_UNKNOWN || a == b) return a;
    if (a > b) {
        int t = a;
        a = b;
        b = t;
    }
    if (a == T_INT && (b == T_REAL || b == T_BIG)) return b;
    return T_CAT;
}

/* Fields of the record at *p (content copied, unescaped); advances *p. */
static kn_status record_fields(const char **p, const char *end, char delim, char ***out, size_t *n)
{
    size_t cap = 16, k = 0;
    char **v = kn_malloc(cap * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    const char *s = *p;
    for (;;) {
        csv_field f;
        const char *next;
        if (kn__csv_scan_field(s, end, delim, &f, &next) != CSV_SCAN_OK) {
            /* let the parser report it with its position */
            f.start = f.end = s;
            f.escaped = 0;
            next = s;
            while (next < end && *next != delim && !csv_is_record_end(next, end)) next++;
        }
        if (k == cap) {
            cap *= 2;
            char **w = kn_realloc(v, cap * sizeof *w);
            if (!w) goto nomem;
            v = w;
        }
        char *t = kn_malloc((size_t)(f.end - f.start) + 1);
        if (!t) goto nomem;
        size_t len = kn__csv_unescape(&f, t);
        t[len] = '\0';
        v[k++] = t;
        if (next < end && *next == delim) {
            s = next + 1;
            continue;
        }
        if (next < end && *next == '\r') next++;
        if (next < end && *next == '\n') next++;
        *p = next;
        break;
    }
    *out = v;
    *n = k;
    return KN_OK;
nomem:
    for (size_t i = 0; i < k; i++) kn_free(v[i]);
    kn_free(v);
    return KN_ERR_NOMEM;
}

static void free_fields(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) kn_free(v[i]);
    kn_free(v);
}

/* One "name:type" (or "?name:type": only when the file has the column) of
 * the types option (item is modified). */
static kn_status declare_one(csv_reader *r, int *types, char *item)
{
    int optional = item[0] == '?';
    item += optional;
    char *colon = strrchr(item, ':');
    if (!colon)
        return kn_fail(KN_ERR_INVALID,
                       "types: '%s' should be name:type (e.g. age:numeric,city:categorical)", item);
    *colon = '\0';
    kn_col_type t;
    if (kn_col_type_parse(colon + 1, &t) != KN_OK)
        return kn_fail_prefix(KN_ERR_INVALID, "types: column '%s': ", item);
    size_t j = 0;
    while (j < r->ncols && strcmp(r->cols[j].name, item) != 0) j++;
    if (j == r->ncols)
        return optional
                   ? KN_OK
                   : kn_fail(KN_ERR_NOT_FOUND, "types: %s has no column named '%s'", r->path, item);
    r->cols[j].type = t;
    r->cols[j].declared = 1;
    types[j] = -1;
    return KN_OK;
}

static kn_status apply_declared(csv_reader *r, int *types)
{
    const char *spec = r->o->types;
    while (*spec) {
        const char *comma = strchr(spec, ',');
        size_t len = comma ? (size_t)(comma - spec) : strlen(spec);
        char *item = kn_strndup(spec, len);
        if (!item) return KN_ERR_NOMEM;
        kn_status e = declare_one(r, types, item);
        kn_free(item);
        if (e != KN_OK) return e;
        spec += len + (comma ? 1 : 0);
    }
    return KN_OK;
}

/* Types a program declares (opts.decls): over inference and `types`;
 * columns the file lacks are ignored. */
static void apply_program_decls(csv_reader *r, int *types)
{
    for (size_t d = 0; d < r->o->n_decls; d++) {
        const kn_col_decl *x = &r->o->decls[d];
        for (size_t j = 0; j < r->ncols; j++)
            if (!strcmp(r->cols[j].name, x->name)) {
                r->cols[j].type = x->type;
                r->cols[j].declared = 1;
                types[j] = -1;
                break;
            }
    }
}

kn_status kn__csv_infer(csv_reader *r, const char *buf, size_t len, int at_eof,
                        const char **data_start)
{
    const char *end = buf + len, *p = buf;
    char **first = NULL;
    size_t n_first = 0;
    kn_status st = record_fields(&p, end, r->delim, &first, &n_first);
    if (st != KN_OK) return st;
    const char *after_first = p;
    r->ncols = n_first;
    int *types = kn_calloc(n_first, sizeof *types);
    r->cols = kn_calloc(n_first, sizeof *r->cols);
    if (!types || !r->cols) {
        st = KN_ERR_NOMEM;
        goto done;
    }
    /* sample the records after the first */
    int64_t sampled = 0;
    while (p < end && sampled < r->o->sample_rows) {
        const char *rec = p;
        int complete;
        const char *next = kn__csv_next_record(rec, end, r->delim, &complete);
        if (!complete && !at_eof) break;
        size_t j = 0;
        const char *s = rec;
        if (!csv_is_record_end(s, end)) {
            for (; j < n_first; j++) {
                csv_field f;
                const char *fn;
                if (kn__csv_scan_field(s, next, r->delim, &f, &fn) != CSV_SCAN_OK) break;
                if (!kn__csv_is_missing(r, f.start, f.end) || f.quoted)
                    types[j] =
                        join(types[j], f.quoted && f.start == f.end ? T_UNKNOWN
                                                                    : classify(r, f.start, f.end));
                if (fn < next && *fn == r->delim)
                    s = fn + 1;
                else
                    break;
            }
            sampled++;
        }
        p = next;
    }
    /* header: absent only when every non-empty field of the first record is a number or time */
    int has_header;
    if (r->o->header == KN_HEADER_YES)
        has_header = 1;
    else if (r->o->header == KN_HEADER_NO)
        has_header = 0;
    else {
        int all_values = 1, any = 0;
        for (size_t j = 0; j < n_first; j++) {
            if (!first[j][0]) continue;
            any = 1;
            int c = classify(r, first[j], first[j] + strlen(first[j]));
            if (c == T_CAT) all_values = 0;
        }
        has_header = !(any && all_values);
    }
    for (size_t j = 0; j < n_first; j++) {
        char name[64];
        const char *nm = first[j];
        if (!has_header || !nm[0]) {
            snprintf(name, sizeof name, "V%zu", j + 1);
            nm = name;
        }
        /* unique names: a repeated name gets .1, .2, ... */
        char *unique = kn_strdup(nm);
        for (int k = 1; unique; k++) {
            size_t i = 0;
            while (i < j && strcmp(r->cols[i].name, unique) != 0) i++;
            if (i == j) break;
            kn_free(unique);
            size_t need = strlen(nm) + 16;
            unique = kn_malloc(need);
            if (unique) snprintf(unique, need, "%s.%d", nm, k);
        }
        if (!unique) {
            st = KN_ERR_NOMEM;
            goto done;
        }
        r->cols[j].name = unique;
        if (!has_header && first[j][0]) {
            int c = classify(r, first[j], first[j] + strlen(first[j]));
            if (!kn__csv_is_missing(r, first[j], first[j] + strlen(first[j])))
                types[j] = join(types[j], c);
        }
    }
    st = apply_declared(r, types);
    if (st != KN_OK) goto done;
    apply_program_decls(r, types);
    for (size_t j = 0; j < n_first; j++) {
        if (types[j] < 0) continue; /* declared */
        r->cols[j].type = types[j] == T_TS    ? KN_COL_TIMESTAMP
                          : types[j] == T_CAT ? KN_COL_CATEGORICAL
                          : types[j] == T_BIG ? KN_COL_INT64
                                              : KN_COL_NUMERIC;
    }
    *data_start = has_header ? after_first : buf;
done:
    kn_free(types);
    free_fields(first, n_first);
    return st;
}
