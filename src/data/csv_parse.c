/* The per-thread CSV record parser: the hot loop of ingest. Each part of a
 * block is parsed by one thread straight into the frame's column arrays at
 * rows row0...; categorical cells get part-local codes (remapped by the
 * driver), string cells part-local text offsets (rebased by the driver). */
#include "data/csv_reader-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int kn__csv_missing_token(const csv_reader *r, const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (n == 0) return CSV_EMPTY;
    if (n > r->miss_max || !(r->miss_first[(unsigned char)*s] >> (n & 31) & 1))
        return CSV_NOT_MISSING;
    const unsigned char c = (unsigned char)*s;
    for (uint32_t i = r->miss_from[c]; i < r->miss_from[c + 1]; i++) {
        size_t k = r->miss_order[i];
        if (r->miss_len[k] == n && memcmp(r->miss[k], s, n) == 0) return (int)k;
    }
    return CSV_NOT_MISSING;
}

int kn__csv_number_text_fmt(const csv_reader *r, const char *s, const char *e, char *buf,
                            size_t cap, const char **ns, const char **ne)
{
    const char tsep = r->tsep, dec = r->dec;
    const char *p = s;
    size_t k = 0;
    if ((size_t)(e - s) >= cap) return 0;
    if (p < e && (*p == '+' || *p == '-')) buf[k++] = *p++;
    while (p < e && (unsigned)(*p - '0') <= 9) {
        buf[k++] = *p++;
        if (tsep && p < e && *p == tsep) p++; /* one, as pandas' float parser */
    }
    if (p < e && *p == dec) {
        buf[k++] = '.';
        p++;
        while (p < e && (unsigned)(*p - '0') <= 9) buf[k++] = *p++;
    }
    for (; p < e; p++) { /* an exponent, or a word such as nan or inf */
        if ((*p == '.' && dec != '.') || (tsep && *p == tsep)) return 0;
        buf[k++] = *p;
    }
    *ns = buf;
    *ne = buf + k;
    return 1;
}

int kn__csv_is_missing(const csv_reader *r, const char *s, const char *e)
{
    return kn__csv_missing_token(r, s, e) != CSV_NOT_MISSING;
}

/* Token k seen in column j of the current row (counted when the row is kept). */
static void token_seen(const csv_reader *r, csv_part *p, size_t j, int k)
{
    p->row_tokens[p->n_row_tokens++] = j * r->n_miss + (size_t)k;
}

/* Is [s, e) missing? Notes the token it is in column j. */
static int missing_counted(const csv_reader *r, csv_part *p, size_t j, const char *s, const char *e)
{
    int k = kn__csv_missing_token(r, s, e);
    if (k >= 0) token_seen(r, p, j, k);
    return k != CSV_NOT_MISSING;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Field content with quotes unescaped (into the part's scratch when needed). */
static int field_text(csv_part *p, const csv_field *f, const char **s, const char **e)
{
    if (!f->escaped) {
        *s = f->start;
        *e = f->end;
        return 1;
    }
    size_t need = (size_t)(f->end - f->start);
    if (need > p->cap_scratch) {
        size_t cap = need < 256 ? 256 : need * 2;
        char *b = kn_realloc(p->scratch, cap);
        if (!b) return 0;
        p->scratch = b;
        p->cap_scratch = cap;
    }
    size_t n = kn__csv_unescape(f, p->scratch);
    *s = p->scratch;
    *e = p->scratch + n;
    return 1;
}

static int add_bad(csv_part *p, const char *rec, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static int add_bad(csv_part *p, const char *rec, const char *at, const char *fmt, ...)
{
    if (p->n_bad == p->cap_bad) {
        size_t cap = p->cap_bad ? p->cap_bad * 2 : 16;
        csv_bad *b = kn_realloc(p->bad, cap * sizeof *b);
        if (!b) return 0;
        p->bad = b;
        p->cap_bad = cap;
    }
    csv_bad *b = &p->bad[p->n_bad++];
    b->start = rec;
    b->at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->reason, sizeof b->reason, fmt, ap);
    va_end(ap);
    return 1;
}

static int text_add(csv_part *p, const char *s, size_t n, int64_t *off)
{
    if (p->n_text + n > p->cap_text) {
        size_t cap = p->cap_text ? p->cap_text * 2 : 65536;
        while (cap < p->n_text + n) cap *= 2;
        char *t = kn_realloc(p->text, cap);
        if (!t) return 0;
        p->text = t;
        p->cap_text = cap;
    }
    memcpy(p->text + p->n_text, s, n);
    *off = (int64_t)p->n_text;
    p->n_text += n;
    return 1;
}

/* Short printable excerpt of a value for messages. */
static void excerpt(const char *s, const char *e, char *buf, size_t cap)
{
    size_t n = (size_t)(e - s);
    if (n > 40) n = 40;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        buf[k++] = (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
    buf[k] = '\0';
    if ((size_t)(e - s) > 40 && k + 4 < cap) strcat(buf, "...");
}

/* The reason a value of a declared column is refused: "cannot parse 'v'
 * as <what> in <where> column 'name'". */
static void refuse_value(const char *fs, const char *fe, const char *what, const char *where,
                         const char *name, char *why, size_t cap)
{
    char ex[48];
    excerpt(fs, fe, ex, sizeof ex);
    snprintf(why, cap, "cannot parse '%s' as %s in %scolumn '%s'", ex, what, where, name);
}

/* A number in an inferred numeric column whose text a double would not
 * keep (kn__number_shape): asks for the column's promotion and gives NaN
 * for now (the file is read again). Otherwise returns v. */
/* Column j needs a wider type (CSV_BUMP_* bit) because of the value at `at`;
 * the part keeps the first such place (a batch read names it). Rare path. */
static void want_bump(csv_reader *r, csv_part *p, size_t j, int bit, const char *at)
{
    atomic_fetch_or(&r->cols[j].bump, bit);
    if (!p->bump_at) {
        p->bump_at = at;
        p->bump_col = j;
    }
}

static double keep_as_number(csv_reader *r, csv_part *p, size_t j, const char *s, const char *e,
                             double v)
{
    switch (kn__number_shape(s, e)) {
    case KN_SHAPE_INT:
    case KN_SHAPE_REAL:
        return v;
    case KN_SHAPE_BIGINT:
        want_bump(r, p, j, CSV_BUMP_INT64, s);
        return NAN;
    case KN_SHAPE_TEXT:
        want_bump(r, p, j, CSV_BUMP_TEXT, s);
        return NAN;
    }
    return v;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s)) (*s)++;
    while (*e > *s && is_space((*e)[-1])) (*e)--;
}

/* The parser, made twice (numfmt a constant in each): without the
 * thousands/decimal options the hot loop is what it was before them. */
static inline __attribute__((always_inline)) void parse_part(csv_reader *r, csv_part *p,
                                                             const int numfmt)
{
    const char delim = r->delim;
    const size_t ncols = r->ncols;
    const char *s = p->begin, *const end = p->end;
    size_t row = p->row0;
    kn_column **cols = r->f->cols;
    /* a part ending in '\n' stops every digit scan before its end */
    const int sentinel = end > s && end[-1] == '\n';
    p->written = 0;
    p->n_text = 0;
    p->bump_at = NULL;

    while (s < end) {
        const char *rec = s;
        if (*s == '\n') { /* blank line */
            s++;
            continue;
        }
        if (*s == '\r' && (s + 1 == end || s[1] == '\n')) {
            s += (s + 1 < end) ? 2 : 1;
            continue;
        }
        const char *bad_at = NULL;
        char why[200];
        for (size_t j = 0; j < ncols; j++) {
            kn_column *c = cols[j];
            csv_field fld;
            const char *next;
            if (c->type == KN_COL_NUMERIC && !numfmt) {
                double v;
                /* hot path: a plain number followed by the delimiter */
                const char *q =
                    sentinel ? kn__parse_double_sentinel(s, &v) : kn__parse_double_fast(s, end, &v);
                if (q && q < end && *q == delim && j + 1 < ncols) {
                    c->f64[row] = v;
                    s = q + 1;
                    continue;
                }
                if (csv_is_record_end(s, end) || *s == delim) {
                    c->f64[row] = NAN;
                    goto field_done;
                }
                next = q ? q : kn__parse_double(s, end, &v);
                if (next && (next == end || *next == delim || csv_is_record_end(next, end))) {
                    if (v != v) missing_counted(r, p, j, s, next); /* "NaN" may be a token */
                    if (!q && !r->cols[j].declared) v = keep_as_number(r, p, j, s, next, v);
                    c->f64[row] = v;
                    s = next;
                    goto field_done;
                }
            }
            if (c->type == KN_COL_CATEGORICAL && sentinel) {
                /* hot path: an unquoted ASCII level followed by the delimiter or '\n' */
                const char *fe = s;
                unsigned char high = 0;
                while (*fe != delim && *fe != '\n' && *fe != '\r' && *fe != '"')
                    high |= (unsigned char)*fe++;
                if (fe > s && !(high & 0x80) && (*fe == delim || *fe == '\n') &&
                    !kn__csv_is_missing(r, s, fe)) {
                    int32_t code;
                    if (kn__dict_intern(&p->dicts[j], s, (size_t)(fe - s), &code) != KN_OK)
                        goto nomem;
                    c->codes[row] = code;
                    s = fe;
                    goto field_done;
                }
            }
            /* General path: scan the field, then interpret it. */
            csv_scan_status st = kn__csv_scan_field(s, end, delim, &fld, &next);
            if (st != CSV_SCAN_OK) {
                bad_at = next;
                snprintf(why, sizeof why, "%s in column '%s'",
                         st == CSV_SCAN_UNTERMINATED ? "unterminated quoted field"
                                                     : "unexpected text after a closing quote",
                         c->name);
                break;
            }
            const char *fs, *fe;
            if (!field_text(p, &fld, &fs, &fe)) goto nomem;
            switch (c->type) {
            case KN_COL_NUMERIC: {
                trim(&fs, &fe);
                double v = NAN;
                if (!missing_counted(r, p, j, fs, fe)) {
                    char nbuf[CSV_NUMBER_TEXT_MAX];
                    const char *ns, *ne, *q = NULL;
                    if (kn__csv_number_text(r, fs, fe, nbuf, sizeof nbuf, &ns, &ne))
                        q = kn__parse_double(ns, ne, &v);
                    if (q == ne && !r->cols[j].declared) v = keep_as_number(r, p, j, ns, ne, v);
                    if (q != ne) {
                        if (r->cols[j].declared) {
                            bad_at = fld.start;
                            refuse_value(fs, fe, "a number", "numeric ", c->name, why, sizeof why);
                            break;
                        }
                        want_bump(r, p, j, CSV_BUMP_TEXT, fs);
                        v = NAN;
                    }
                }
                c->f64[row] = v;
                break;
            }
            case KN_COL_CATEGORICAL: {
                int k = fld.quoted ? CSV_NOT_MISSING : kn__csv_missing_token(r, fs, fe);
                if (k != CSV_NOT_MISSING) {
                    if (k >= 0) token_seen(r, p, j, k);
                    c->codes[row] = k >= 0 && r->tokens_as_levels ? -2 - k : -1;
                    break;
                }
                if (fs == fe) {
                    c->codes[row] = -1;
                    break;
                }
                if (!kn__utf8_valid((const unsigned char *)fs, (size_t)(fe - fs))) {
                    bad_at = fld.start;
                    snprintf(why, sizeof why, "invalid UTF-8 in column '%s'", c->name);
                    break;
                }
                int32_t code;
                if (kn__dict_intern(&p->dicts[j], fs, (size_t)(fe - fs), &code) != KN_OK)
                    goto nomem;
                c->codes[row] = code;
                break;
            }
            case KN_COL_STRING: {
                int k = fld.quoted ? CSV_NOT_MISSING : kn__csv_missing_token(r, fs, fe);
                if (k != CSV_NOT_MISSING) {
                    if (k >= 0) token_seen(r, p, j, k);
                    c->str_off[row] = k >= 0 && r->tokens_as_levels ? -2 - k : -1;
                    c->str_len[row] = 0;
                    break;
                }
                if (!kn__utf8_valid((const unsigned char *)fs, (size_t)(fe - fs))) {
                    bad_at = fld.start;
                    snprintf(why, sizeof why, "invalid UTF-8 in column '%s'", c->name);
                    break;
                }
                int64_t off;
                if (!text_add(p, fs, (size_t)(fe - fs), &off)) goto nomem;
                c->str_off[row] = off;
                c->str_len[row] = fe - fs;
                break;
            }
            case KN_COL_TIMESTAMP: {
                trim(&fs, &fe);
                int64_t t = KN_TS_MISSING;
                if (!missing_counted(r, p, j, fs, fe) && !kn__parse_timestamp(fs, fe, &t)) {
                    if (r->cols[j].declared) {
                        bad_at = fld.start;
                        refuse_value(fs, fe, "an ISO-8601 timestamp", "", c->name, why, sizeof why);
                        break;
                    }
                    want_bump(r, p, j, CSV_BUMP_TEXT, fs);
                    t = KN_TS_MISSING;
                }
                c->ts[row] = t;
                break;
            }
            case KN_COL_INT64: {
                trim(&fs, &fe);
                int64_t v = KN_I64_MISSING;
                char nbuf[CSV_NUMBER_TEXT_MAX];
                const char *ns, *ne;
                if (!missing_counted(r, p, j, fs, fe) &&
                    !(kn__csv_number_text(r, fs, fe, nbuf, sizeof nbuf, &ns, &ne) &&
                      kn__parse_int64(ns, ne, r->cols[j].declared, &v))) {
                    if (r->cols[j].declared) {
                        bad_at = fld.start;
                        refuse_value(fs, fe, "a 64-bit integer", "int64 ", c->name, why,
                                     sizeof why);
                        break;
                    }
                    want_bump(r, p, j, CSV_BUMP_TEXT, fs);
                    v = KN_I64_MISSING;
                }
                c->ts[row] = v;
                break;
            }
            }
            if (bad_at) break;
            s = next;
        field_done:
            if (j + 1 < ncols) {
                if (s < end && *s == delim) {
                    s++;
                } else {
                    bad_at = s;
                    snprintf(why, sizeof why, "expected %zu fields, found %zu", ncols,
                             kn__csv_count_fields(rec, end, delim));
                    break;
                }
            }
        }
        if (!bad_at && s < end && *s == delim) {
            bad_at = s;
            snprintf(why, sizeof why, "expected %zu fields, found %zu", ncols,
                     kn__csv_count_fields(rec, end, delim));
        }
        if (bad_at) {
            p->n_row_tokens = 0;
            if (!add_bad(p, rec, bad_at, "%s", why)) goto nomem;
            p->bad[p->n_bad - 1].kept_before = row - p->row0;
            int complete;
            s = kn__csv_next_record(rec, end, delim, &complete);
            continue;
        }
        if (s < end && *s == '\r') s++;
        if (s < end && *s == '\n') s++;
        for (size_t t = 0; t < p->n_row_tokens; t++) p->tokens[p->row_tokens[t]]++;
        p->n_row_tokens = 0;
        row++;
    }
    p->written = row - p->row0;
    return;
nomem:
    p->written = row - p->row0;
    p->status = KN_ERR_NOMEM;
    snprintf(p->message, sizeof p->message, "%s", kn_last_error());
}

void kn__csv_parse_part(csv_reader *r, csv_part *p)
{
    if (r->numfmt)
        parse_part(r, p, 1); /* thousands/decimal options: numbers take the general path */
    else
        parse_part(r, p, 0);
}
