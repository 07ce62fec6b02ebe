/* ARFF (Weka) reader and writer: @relation, @attribute (numeric, real,
 * integer, {nominal}, string, date), @data with dense or sparse rows,
 * '?' missing, % comments, values quoted with ' or ". */
#include "data/frame-impl.h"
#include "data/io-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct arff_cursor {
    const char *p, *end;
    const char *line_start;
    uint64_t line;
} arff_cursor;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void skip_ws(const char **p, const char *end)
{
    while (*p < end && is_ws(**p)) (*p)++;
}

/* One token: quoted ('..' or "..", backslash escapes) or up to a delimiter in `stops`.
 * Copies the unquoted text into out (cap bytes). Returns 0 on a bad token. */
static int token(const char **p, const char *end, const char *stops, char *out, size_t cap,
                 int *quoted)
{
    skip_ws(p, end);
    size_t n = 0;
    *quoted = 0;
    if (*p < end && (**p == '\'' || **p == '"')) {
        char q = *(*p)++;
        *quoted = 1;
        while (*p < end && **p != q) {
            char c = *(*p)++;
            if (c == '\\' && *p < end) c = *(*p)++;
            if (c == '\n') return 0;
            if (n + 1 < cap) out[n++] = c;
        }
        if (*p >= end) return 0;
        (*p)++;
    } else {
        while (*p < end && !strchr(stops, **p) && **p != '\n') {
            if (n + 1 < cap) out[n++] = **p;
            (*p)++;
        }
        while (n && is_ws(out[n - 1])) n--;
    }
    out[n] = '\0';
    return 1;
}

static kn_status parse_header(kn_frame *f, arff_cursor *c, const char *path)
{
    char word[1024], name[1024];
    for (;;) {
        if (c->p >= c->end)
            return kn_fail(KN_ERR_PARSE, "%s:%llu:1: no @data section; an ARFF file needs one",
                           path, (unsigned long long)c->line);
        const char *ls = c->p;
        c->line_start = ls;
        const char *le = memchr(ls, '\n', (size_t)(c->end - ls));
        if (!le) le = c->end;
        const char *s = ls;
        skip_ws(&s, le);
        c->p = le < c->end ? le + 1 : le;
        uint64_t line = c->line++;
        if (s == le || *s == '%') continue;
        int q;
        if (!token(&s, le, " \t", word, sizeof word, &q))
            return kn_fail(KN_ERR_PARSE, "%s:%llu:1: bad header line", path,
                           (unsigned long long)line);
        if (!strcasecmp(word, "@relation")) continue;
        if (!strcasecmp(word, "@data")) return KN_OK;
        if (strcasecmp(word, "@attribute") != 0)
            return kn_fail(KN_ERR_PARSE,
                           "%s:%llu:1: expected @relation, @attribute or @data, found '%s'", path,
                           (unsigned long long)line, word);
        if (!token(&s, le, " \t{", name, sizeof name, &q) || !name[0])
            return kn_fail(KN_ERR_PARSE, "%s:%llu:%ld: @attribute needs a name", path,
                           (unsigned long long)line, (long)(s - ls) + 1);
        skip_ws(&s, le);
        kn_column *col;
        kn_status st;
        if (s < le && *s == '{') {
            s++;
            if ((st = kn_frame_add_column(f, name, KN_COL_CATEGORICAL, &col)) != KN_OK)
                return kn_fail_prefix(st, "%s:%llu: ", path, (unsigned long long)line);
            for (;;) {
                skip_ws(&s, le);
                if (s < le && *s == '}') break;
                if (!token(&s, le, ",}", word, sizeof word, &q))
                    return kn_fail(KN_ERR_PARSE, "%s:%llu:%ld: bad nominal value", path,
                                   (unsigned long long)line, (long)(s - ls) + 1);
                int32_t code;
                if (kn_column_intern(col, word, strlen(word), &code) != KN_OK) return KN_ERR_NOMEM;
                skip_ws(&s, le);
                if (s < le && *s == ',')
                    s++;
                else if (s < le && *s == '}')
                    break;
                else
                    return kn_fail(KN_ERR_PARSE,
                                   "%s:%llu:%ld: unterminated nominal list; close it with }", path,
                                   (unsigned long long)line, (long)(s - ls) + 1);
            }
            continue;
        }
        if (!token(&s, le, " \t", word, sizeof word, &q))
            return kn_fail(KN_ERR_PARSE, "%s:%llu: bad attribute type", path,
                           (unsigned long long)line);
        kn_col_type t;
        if (!strcasecmp(word, "numeric") || !strcasecmp(word, "real") ||
            !strcasecmp(word, "integer"))
            t = KN_COL_NUMERIC;
        else if (!strcasecmp(word, "string"))
            t = KN_COL_STRING;
        else if (!strcasecmp(word, "date"))
            t = KN_COL_TIMESTAMP;
        else
            return kn_fail(KN_ERR_PARSE,
                           "%s:%llu: attribute '%s' has unsupported type '%s'; use numeric, real, "
                           "integer, string, date or {a,b,...}",
                           path, (unsigned long long)line, name, word);
        if ((st = kn_frame_add_column(f, name, t, NULL)) != KN_OK)
            return kn_fail_prefix(st, "%s:%llu: ", path, (unsigned long long)line);
    }
}

/* A numeric attribute's value that a double would not keep (an integer
 * beyond 2^53, leading zeros): the column becomes int64 or, failing that,
 * text (levels open to any value: *open). Returns a reason on failure. */
static const char *promote(kn_frame *f, size_t j, kn_num_shape shape, unsigned char *open)
{
    kn_status st = KN_ERR_TYPE;
    if (shape == KN_SHAPE_BIGINT) st = kn__column_retype(f, j, KN_COL_INT64);
    if (st == KN_ERR_TYPE) {
        st = kn__column_retype(f, j, KN_COL_CATEGORICAL);
        *open = 1;
    }
    return st == KN_OK ? NULL : "out of memory";
}

/* Store one textual value into row i of column j. Returns a reason on failure.
 * open[j]: the column's levels are not declared (a promoted numeric one). */
static const char *set_value(kn_frame *f, size_t j, unsigned char *open, size_t i, const char *v,
                             int quoted)
{
    if (!quoted && strcmp(v, "?") == 0) return NULL; /* already missing */
    kn_column *col = kn_frame_col(f, j);
    const char *e = v + strlen(v);
    const char *why;
    switch (kn_column_type(col)) {
    case KN_COL_NUMERIC: {
        double d;
        if (kn__parse_double(v, e, &d) != e) return "not a number";
        kn_num_shape shape = kn__number_shape(v, e);
        if (shape == KN_SHAPE_INT || shape == KN_SHAPE_REAL) {
            kn_column_f64(col)[i] = d;
            return NULL;
        }
        if ((why = promote(f, j, shape, &open[j]))) return why;
        return set_value(f, j, open, i, v, quoted);
    }
    case KN_COL_INT64: {
        int64_t x;
        if (kn__parse_int64(v, e, 0, &x)) {
            kn_column_i64(col)[i] = x;
            return NULL;
        }
        double d;
        if (kn__parse_double(v, e, &d) != e) return "not a number";
        if ((why = promote(f, j, KN_SHAPE_TEXT, &open[j]))) return why;
        return set_value(f, j, open, i, v, quoted);
    }
    case KN_COL_CATEGORICAL: {
        int32_t code = kn_column_find_level(col, v, strlen(v));
        if (code < 0 && open[j] && kn_column_intern(col, v, strlen(v), &code) != KN_OK)
            return "out of memory";
        if (code < 0) return "value is not among the attribute's declared nominal values";
        kn_column_codes(col)[i] = code;
        return NULL;
    }
    case KN_COL_STRING:
        return kn_column_set_str(col, i, v, strlen(v)) == KN_OK ? NULL : "out of memory";
    case KN_COL_TIMESTAMP: {
        int64_t t;
        if (!kn__parse_timestamp(v, v + strlen(v), &t)) return "not an ISO-8601 date";
        kn_column_ts(col)[i] = t;
        return NULL;
    }
    }
    return "unknown type";
}

kn_status kn__arff_read(const char *path, const kn_read_opts *o, kn_frame **out,
                        kn_read_report *rep)
{
    char *buf;
    size_t len;
    kn_status st = kn__read_input(path, &buf, &len, rep);
    if (st != KN_OK) return st;
    kn_frame *f;
    if ((st = kn_frame_new(&f)) != KN_OK) {
        kn_free(buf);
        return st;
    }
    arff_cursor c = {buf, buf + len, buf, 1};
    kn_rejects rj;
    char *val = NULL;
    unsigned char *open = NULL;
    if ((st = parse_header(f, &c, path)) != KN_OK) goto done;
    if (kn_frame_n_cols(f) == 0) {
        st = kn_fail(KN_ERR_PARSE, "%s: no @attribute before @data", path);
        goto done;
    }
    if ((st = kn__rejects_open(&rj, path, o, rep)) != KN_OK) goto done;
    size_t ncols = kn_frame_n_cols(f);
    val = kn_malloc(len + 1);
    open = kn_calloc(ncols, 1);
    if (!val || !open) {
        st = KN_ERR_NOMEM;
        goto close;
    }
    while (c.p < c.end && st == KN_OK) {
        const char *ls = c.p, *le = memchr(ls, '\n', (size_t)(c.end - ls));
        if (!le) le = c.end;
        c.p = le < c.end ? le + 1 : le;
        uint64_t line = c.line++;
        const char *s = ls;
        skip_ws(&s, le);
        if (s == le || *s == '%') continue;
        size_t row = kn_frame_n_rows(f);
        if ((st = kn_frame_resize(f, row + 1)) != KN_OK) break;
        const char *why = NULL, *at = s;
        int q;
        if (*s == '{') { /* sparse: {index value, ...}; absent numeric = 0 */
            for (size_t j = 0; j < ncols; j++) {
                kn_column *col = kn_frame_col(f, j);
                if (kn_column_type(col) == KN_COL_NUMERIC)
                    kn_column_f64(col)[row] = 0;
                else if (kn_column_type(col) == KN_COL_INT64)
                    kn_column_i64(col)[row] = 0;
                else if (open[j]) /* a promoted numeric attribute: absent is "0" */
                    why = set_value(f, j, open, row, "0", 1);
                else if (kn_column_type(col) == KN_COL_CATEGORICAL && kn_column_n_levels(col))
                    kn_column_codes(col)[row] = 0;
            }
            s++;
            while (!why) {
                skip_ws(&s, le);
                if (s < le && *s == '}') break;
                at = s;
                char *e;
                long idx = strtol(s, &e, 10);
                if (e == s || idx < 0 || (size_t)idx >= ncols) {
                    why = "bad sparse index";
                    break;
                }
                s = e;
                if (!token(&s, le, ",}", val, len + 1, &q)) {
                    why = "bad quoted value";
                    break;
                }
                why = set_value(f, (size_t)idx, open, row, val, q);
                skip_ws(&s, le);
                if (s < le && *s == ',')
                    s++;
                else if (!(s < le && *s == '}'))
                    why = why ? why : "unterminated sparse row; close it with }";
            }
        } else {
            for (size_t j = 0; j < ncols && !why; j++) {
                at = s;
                if (!token(&s, le, ",", val, len + 1, &q)) {
                    why = "unterminated quoted value";
                    break;
                }
                why = set_value(f, j, open, row, val, q);
                skip_ws(&s, le);
                if (j + 1 < ncols) {
                    if (s < le && *s == ',')
                        s++;
                    else if (!why) {
                        why = "too few values for the declared attributes";
                        at = s;
                    }
                } else if (!why && s < le && *s != '%') {
                    why = "more values than declared attributes";
                    at = s;
                }
            }
        }
        if (why) {
            kn_frame_resize(f, row);
            char reason[256];
            snprintf(reason, sizeof reason, "%s", why);
            const char *re = le;
            while (re > ls && re[-1] == '\r') re--;
            st = kn__rejects_add(&rj, line, (uint64_t)(at - ls) + 1, line, rep->rows_read + 1,
                                 reason, ls, (size_t)(re - ls));
            continue;
        }
        rep->rows_read++;
    }
close:
    if (kn__rejects_close(&rj) != KN_OK && st == KN_OK) st = KN_ERR_IO;
done:
    kn_free(val);
    kn_free(open);
    kn_free(buf);
    if (st != KN_OK) {
        kn_frame_free(f);
        return st;
    }
    *out = f;
    return KN_OK;
}

static void write_quoted(FILE *fp, const char *s, size_t n)
{
    fputc('\'', fp);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\') fputc('\\', fp);
        if (s[i] == '\n') {
            fputs("\\n", fp);
            continue;
        }
        fputc(s[i], fp);
    }
    fputc('\'', fp);
}

kn_status kn__arff_write(const kn_frame *f, const char *path)
{
    kn_outfile out;
    kn_status s = kn__outfile_open(&out, path);
    if (s != KN_OK) return s;
    FILE *fp = out.fp;
    fputs("@relation kiln\n\n", fp);
    for (size_t j = 0; j < f->n_cols; j++) {
        const kn_column *c = f->cols[j];
        fputs("@attribute ", fp);
        write_quoted(fp, c->name, strlen(c->name));
        switch (c->type) {
        case KN_COL_NUMERIC:
            fputs(" numeric\n", fp);
            break;
        case KN_COL_INT64:
            fputs(" integer\n", fp);
            break;
        case KN_COL_STRING:
            fputs(" string\n", fp);
            break;
        case KN_COL_TIMESTAMP:
            fputs(" date \"yyyy-MM-dd'T'HH:mm:ss\"\n", fp);
            break;
        case KN_COL_CATEGORICAL:
            fputs(" {", fp);
            for (size_t l = 0; l < c->dict.n; l++) {
                size_t len;
                const char *t = kn__dict_get(&c->dict, (int32_t)l, &len);
                if (l) fputc(',', fp);
                write_quoted(fp, t, len);
            }
            fputs("}\n", fp);
            break;
        }
    }
    fputs("\n@data\n", fp);
    for (size_t i = 0; i < f->n_rows; i++) {
        for (size_t j = 0; j < f->n_cols; j++) {
            const kn_column *c = f->cols[j];
            if (j) fputc(',', fp);
            if (kn_column_is_missing(c, i)) {
                fputc('?', fp);
                continue;
            }
            size_t len;
            const char *t;
            switch (c->type) {
            case KN_COL_NUMERIC:
                kn__put_double(fp, c->f64[i]);
                break;
            case KN_COL_INT64:
                kn__put_int64(fp, c->ts[i]);
                break;
            case KN_COL_CATEGORICAL:
                t = kn__dict_get(&c->dict, c->codes[i], &len);
                write_quoted(fp, t, len);
                break;
            case KN_COL_STRING:
                t = kn_column_str(c, i, &len);
                write_quoted(fp, t, len);
                break;
            case KN_COL_TIMESTAMP:
                fputc('\'', fp);
                kn__put_timestamp(fp, c->ts[i]);
                fputc('\'', fp);
                break;
            }
        }
        fputc('\n', fp);
    }
    return kn__outfile_commit(&out);
}
