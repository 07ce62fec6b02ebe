/* Schema inference from a frame (through its profile) and YAML output. */
#include "data/dict-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"
#include "kiln/profile.h"
#include "kiln/schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Categories of a categorical column: its levels that occur, in dictionary
 * (first appearance) order. */
static kn_status take_levels(kn_column *c, size_t rows, kn_schema_column *sc)
{
    size_t n = kn_column_n_levels(c);
    char *seen = kn_calloc(n ? n : 1, 1);
    if (!seen) return KN_ERR_NOMEM;
    const int32_t *code = kn_column_codes(c);
    size_t used = 0;
    for (size_t r = 0; r < rows; r++)
        if (code[r] >= 0 && !seen[code[r]]) {
            seen[code[r]] = 1;
            used++;
        }
    sc->categories = kn_calloc(used ? used : 1, sizeof *sc->categories);
    kn_status e = sc->categories ? KN_OK : KN_ERR_NOMEM;
    for (size_t l = 0; e == KN_OK && l < n; l++)
        if (seen[l]) {
            size_t len;
            const char *s = kn_column_level(c, (int32_t)l, &len);
            if (!(sc->categories[sc->n_categories++] = kn_strndup(s, len))) e = KN_ERR_NOMEM;
        }
    kn_free(seen);
    return e;
}

/* The distinct values of a string column, in order of first appearance. */
static kn_status take_strings(const kn_column *c, size_t rows, kn_schema_column *sc)
{
    kn_dict d;
    kn__dict_init(&d);
    kn_status e = KN_OK;
    for (size_t r = 0; e == KN_OK && r < rows; r++) {
        size_t len;
        int32_t code;
        const char *t = kn_column_str(c, r, &len);
        if (t) e = kn__dict_intern(&d, t, len, &code);
    }
    if (e == KN_OK && !(sc->categories = kn_calloc(d.n ? d.n : 1, sizeof *sc->categories)))
        e = KN_ERR_NOMEM;
    for (size_t l = 0; e == KN_OK && l < d.n; l++) {
        size_t len;
        const char *t = kn__dict_get(&d, (int32_t)l, &len);
        if (!(sc->categories[sc->n_categories++] = kn_strndup(t, len))) e = KN_ERR_NOMEM;
    }
    kn__dict_free(&d);
    return e;
}

/* Why a column gets no value rule, or NULL when it gets one. Text columns
 * keep their levels unless they look like free text or an identifier: more
 * levels than max_categories and more than half of the values seen once,
 * so that new data would bring mostly new values. */
static const char *why_unconstrained(const kn_col_profile *cp, size_t max_categories, char *buf,
                                     size_t cap)
{
    int text = cp->type == KN_COL_CATEGORICAL || cp->type == KN_COL_STRING;
    if (!cp->count) {
        snprintf(buf, cap, "no values: %s not recorded", text ? "levels" : "range");
        return buf;
    }
    if (!text || cp->distinct <= max_categories || cp->singletons * 2 <= cp->count) return NULL;
    snprintf(buf, cap,
             "free text / identifier: %llu distinct of %llu values, %llu seen once; levels not "
             "recorded",
             (unsigned long long)cp->distinct, (unsigned long long)cp->count,
             (unsigned long long)cp->singletons);
    return buf;
}

kn_status kn_schema_infer(const kn_frame *f, size_t max_categories, kn_schema **out)
{
    kn_profile *p;
    kn_status e = kn_profile_compute(f, &p);
    if (e != KN_OK) return e;
    kn_schema *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->cols = kn_calloc(p->n_cols ? p->n_cols : 1, sizeof *s->cols))) {
        kn_free(s);
        kn_profile_free(p);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; e == KN_OK && j < p->n_cols; j++) {
        const kn_col_profile *cp = &p->cols[j];
        kn_schema_column *sc = &s->cols[j];
        s->n_cols = j + 1;
        if (!(sc->name = kn_strdup(cp->name))) {
            e = KN_ERR_NOMEM;
            break;
        }
        sc->type = cp->type;
        sc->required = 1;
        /* the observed share, rounded up to a whole percent */
        sc->max_missing = fmin(1, ceil(cp->missing_frac * 100) / 100);
        if (cp->count && (cp->type == KN_COL_NUMERIC || cp->type == KN_COL_TIMESTAMP)) {
            sc->has_min = sc->has_max = 1;
            sc->min = cp->min;
            sc->max = cp->max;
        }
        char why[160];
        if (why_unconstrained(cp, max_categories, why, sizeof why)) {
            if (!(sc->unconstrained = kn_strdup(why))) e = KN_ERR_NOMEM;
        } else if (cp->type == KN_COL_CATEGORICAL)
            e = take_levels(kn_frame_col(f, j), kn_frame_n_rows(f), sc);
        else if (cp->type == KN_COL_STRING)
            e = take_strings(kn_frame_col(f, j), kn_frame_n_rows(f), sc);
        sc->unique = cp->likely_id;
    }
    kn_profile_free(p);
    if (e != KN_OK) {
        kn_schema_free(s);
        return e;
    }
    *out = s;
    return KN_OK;
}

/* The bytes of a character that cannot stand raw in a YAML scalar and
 * read back as itself: 2 or 3, else 0; its code point in *cp. YAML reads
 * NEL, LS and PS as line breaks and drops the byte-order mark; libyaml
 * refuses the other C1 controls (U+0080 to U+009F) and U+FFFE, U+FFFF. */
static int yaml_special(const unsigned char *q, unsigned *cp)
{
    if (q[0] == 0xc2 && q[1] >= 0x80 && q[1] <= 0x9f) {
        *cp = q[1];
        return 2;
    }
    if ((q[0] == 0xe2 && q[1] == 0x80 && (q[2] == 0xa8 || q[2] == 0xa9)) ||
        (q[0] == 0xef && ((q[1] == 0xbb && q[2] == 0xbf) || (q[1] == 0xbf && q[2] >= 0xbe)))) {
        *cp = (q[0] & 0x0fu) << 12 | (q[1] & 0x3fu) << 6 | (q[2] & 0x3fu);
        return 3;
    }
    return 0;
}

/* A YAML scalar that reads back as exactly s: single-quoted when printable,
 * double-quoted with escapes otherwise. */
static void put_quoted(FILE *fp, const char *s)
{
    int printable = 1;
    unsigned cp;
    for (const unsigned char *q = (const unsigned char *)s; *q; q++)
        if (*q < 0x20 || *q == 0x7f || yaml_special(q, &cp)) printable = 0;
    if (printable) {
        fputc('\'', fp);
        for (const char *q = s; *q; q++) {
            if (*q == '\'') fputc('\'', fp);
            fputc(*q, fp);
        }
        fputc('\'', fp);
        return;
    }
    fputc('"', fp);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        int special = yaml_special(q, &cp);
        if (special) {
            if (cp == 0x85)
                fputs("\\N", fp);
            else if (cp == 0x2028 || cp == 0x2029)
                fputs(cp == 0x2028 ? "\\L" : "\\P", fp);
            else
                fprintf(fp, "\\u%04X", cp);
            q += special - 1;
        } else if (*q == '"' || *q == '\\')
            fprintf(fp, "\\%c", *q);
        else if (*q < 0x20 || *q == 0x7f)
            fprintf(fp, "\\x%02x", *q);
        else
            fputc(*q, fp);
    }
    fputc('"', fp);
}

static void put_bound(FILE *fp, const char *key, kn_col_type type, double v)
{
    if (type == KN_COL_TIMESTAMP) {
        char buf[48];
        kn__format_timestamp((int64_t)v, buf, sizeof buf);
        fprintf(fp, "    %s: '%s'\n", key, buf);
    } else {
        fprintf(fp, "    %s: ", key);
        kn__put_double(fp, v);
        fputc('\n', fp);
    }
}

static void put_column(FILE *fp, const kn_schema_column *c)
{
    if (c->unconstrained) { /* a comment: one line */
        fputs("  # ", fp);
        for (const char *q = c->unconstrained; *q; q++)
            fputc(*q == '\n' || *q == '\r' ? ' ' : *q, fp);
        fputc('\n', fp);
    }
    fputs("  - name: ", fp);
    put_quoted(fp, c->name);
    fprintf(fp, "\n    type: %s\n", kn_col_type_name(c->type));
    if (!c->required) fputs("    required: false\n", fp);
    if (c->max_missing < 1) {
        fputs("    max_missing: ", fp);
        kn__put_double(fp, c->max_missing);
        fputc('\n', fp);
    }
    if (c->has_min) put_bound(fp, "min", c->type, c->min);
    if (c->has_max) put_bound(fp, "max", c->type, c->max);
    if (c->categories) {
        fputs("    categories: [", fp);
        for (size_t i = 0; i < c->n_categories; i++) {
            if (i) fputs(", ", fp);
            put_quoted(fp, c->categories[i]);
        }
        fputs("]\n", fp);
    }
    if (c->pattern) {
        fputs("    pattern: ", fp);
        put_quoted(fp, c->pattern);
        fputc('\n', fp);
    }
    if (c->unique) fputs("    unique: true\n", fp);
    if (c->has_policy) fprintf(fp, "    on_violation: %s\n", kn_policy_name(c->policy));
}

kn_status kn_schema_to_yaml(const kn_schema *s, const char *comment, char **out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return KN_ERR_NOMEM;
    if (comment) fprintf(fp, "# %s\n", comment);
    fputs("version: 1\n", fp);
    if (s->min_rows || s->max_rows) {
        fputs("rows: {", fp);
        if (s->min_rows) fprintf(fp, "min: %llu", (unsigned long long)s->min_rows);
        if (s->max_rows)
            fprintf(fp, "%smax: %llu", s->min_rows ? ", " : "", (unsigned long long)s->max_rows);
        fputs("}\n", fp);
    }
    if (s->n_keys) {
        fputs("keys: [", fp);
        for (size_t i = 0; i < s->n_keys; i++) {
            if (i) fputs(", ", fp);
            put_quoted(fp, s->keys[i]);
        }
        fputs("]\n", fp);
    }
    fprintf(fp, "on_violation: %s\ncolumns:\n", kn_policy_name(s->policy));
    for (size_t j = 0; j < s->n_cols; j++) put_column(fp, &s->cols[j]);
    if (fclose(fp) != 0) {
        free(buf);
        return KN_ERR_NOMEM;
    }
    *out = kn_strndup(buf, len);
    free(buf);
    return *out ? KN_OK : KN_ERR_NOMEM;
}
