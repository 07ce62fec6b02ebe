/* Validation of a frame against a schema: every rule checked, each violation
 * counted with example rows, and the fate of each row (kept, dropped,
 * quarantined) decided by the policy of the first rule it breaks. */
#include "data/rows-impl.h"
#include "kiln/mem.h"
#include "kiln/schema.h"
#include "prep/row-impl.h"
#include "prep/schema-impl.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int is_quantifier(char ch)
{
    return ch == '*' || ch == '+' || ch == '?' || ch == '{';
}

/* Whole-value match: the pattern is anchored at both ends. Patterns that the
 * C library's matcher can take exponential time over (stacked quantifiers
 * such as "a**" or "a+*") and very long ones are refused. */
static int compile(const char *pattern, regex_t *re, char *err, size_t cap)
{
    size_t n = strlen(pattern) + 8;
    if (n > 512 + 8) {
        snprintf(err, cap, "longer than 512 characters");
        return -1;
    }
    for (const char *p = pattern; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == '[') { /* a bracket expression: its characters are literal */
            const char *q = p + 1;
            if (*q == '^') q++;
            if (*q == ']') q++;
            while (*q && *q != ']') q++;
            if (!*q) break; /* unterminated: regcomp reports it */
            p = q;
            continue;
        }
        if ((is_quantifier(*p) || *p == '}') && is_quantifier(p[1])) {
            snprintf(err, cap,
                     "stacked quantifiers ('%c%c') can make matching take very long; "
                     "write one quantifier",
                     *p, p[1]);
            return -1;
        }
    }
    char *full = kn_malloc(n);
    if (!full) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    snprintf(full, n, "^(%s)$", pattern);
    int rc = regcomp(re, full, REG_EXTENDED | REG_NOSUB);
    kn_free(full);
    if (rc != 0) {
        regerror(rc, re, err, cap);
        return -1;
    }
    return 0;
}

kn_status kn__schema_check_pattern(const char *pattern)
{
    regex_t re;
    char err[256];
    if (compile(pattern, &re, err, sizeof err) != 0)
        return kn_fail(KN_ERR_INVALID, "pattern '%s' is not a valid POSIX extended regex: %s",
                       pattern, err);
    regfree(&re);
    return KN_OK;
}

typedef struct checker {
    const kn_schema *s;
    const kn_frame *f;
    kn_validation *v;
    size_t cap;
} checker;

/* Start a violation; rows are added with add_row. */
static kn_violation *add(checker *k, const char *column, const char *rule, kn_policy policy,
                         int row_rule, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static kn_violation *add(checker *k, const char *column, const char *rule, kn_policy policy,
                         int row_rule, const char *fmt, ...)
{
    kn_validation *v = k->v;
    if (v->n_violations == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 8;
        kn_violation *nv = kn_realloc(v->violations, cap * sizeof *nv);
        if (!nv) return NULL;
        v->violations = nv;
        k->cap = cap;
    }
    kn_violation *x = &v->violations[v->n_violations];
    memset(x, 0, sizeof *x);
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    x->column = column ? kn_strdup(column) : NULL;
    x->rule = kn_strdup(rule);
    x->detail = kn_strdup(buf);
    if ((column && !x->column) || !x->rule || !x->detail) {
        kn_free(x->column);
        kn_free(x->rule);
        kn_free(x->detail);
        return NULL;
    }
    x->policy = row_rule ? policy : KN_POLICY_FAIL;
    x->row_rule = row_rule;
    x->count = row_rule ? 0 : 1;
    v->n_violations++;
    if (x->policy == KN_POLICY_FAIL) v->failed = 1;
    return x;
}

static kn_status add_row(checker *k, kn_violation *x, size_t row)
{
    if (x->n_examples < KN_VIOLATION_EXAMPLES) x->examples[x->n_examples++] = row;
    x->count++;
    if (x->policy == KN_POLICY_FAIL) return KN_OK;
    kn_validation *v = k->v;
    if (!v->row_fate && !(v->row_fate = kn_calloc(v->rows ? v->rows : 1, sizeof *v->row_fate)))
        return KN_ERR_NOMEM;
    if (!v->row_fate[row]) v->row_fate[row] = (uint32_t)(x - v->violations) + 1;
    return KN_OK;
}

/* A row rule's violation record, created at the first offending row. */
typedef struct lazy {
    checker *k;
    const char *column, *rule;
    kn_policy policy;
    char detail[512];
    size_t index; /* into v->violations, valid once made */
    int made;
} lazy;

static kn_status hit(lazy *l, size_t row)
{
    if (!l->made) {
        kn_violation *x = add(l->k, l->column, l->rule, l->policy, 1, "%s", l->detail);
        if (!x) return KN_ERR_NOMEM;
        l->index = (size_t)(x - l->k->v->violations);
        l->made = 1;
    }
    return add_row(l->k, &l->k->v->violations[l->index], row);
}

static lazy rule(checker *k, const kn_schema_column *sc, const char *name, kn_policy policy)
{
    lazy l = {k, sc->name, name, policy, "", 0, 0};
    return l;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Per categorical level: allowed by the category list and the pattern. */
static kn_status level_ok(const kn_schema_column *sc, kn_column *c, const regex_t *re,
                          char **sorted, unsigned char **out)
{
    size_t n = kn_column_n_levels(c);
    unsigned char *ok = kn_malloc((n ? n : 1) * 2);
    if (!ok) return KN_ERR_NOMEM;
    for (size_t l = 0; l < n; l++) {
        const char *s = kn_column_level(c, (int32_t)l, NULL);
        ok[l] = !sc->categories ||
                bsearch(&s, sorted, sc->n_categories, sizeof *sorted, cmp_str) != NULL;
        ok[n + l] = !re || regexec(re, s, 0, NULL, 0) == 0;
    }
    *out = ok;
    return KN_OK;
}

/* Text rules (categories, pattern) on categorical and string columns. */
static kn_status check_text(checker *k, const kn_schema_column *sc, kn_column *c, kn_policy pol)
{
    if (!sc->categories && !sc->pattern) return KN_OK;
    size_t rows = kn_frame_n_rows(k->f);
    regex_t re;
    char err[256];
    if (sc->pattern && compile(sc->pattern, &re, err, sizeof err) != 0)
        return kn_fail(KN_ERR_INVALID, "column '%s': pattern: %s", sc->name, err);
    char **sorted = NULL;
    kn_status e = KN_OK;
    if (sc->categories) {
        sorted = kn_malloc(sc->n_categories * sizeof *sorted + 1);
        if (!sorted)
            e = KN_ERR_NOMEM;
        else {
            memcpy(sorted, sc->categories, sc->n_categories * sizeof *sorted);
            qsort(sorted, sc->n_categories, sizeof *sorted, cmp_str);
        }
    }
    lazy cat = rule(k, sc, "categories", pol), pat = rule(k, sc, "pattern", pol);
    snprintf(cat.detail, sizeof cat.detail, "value not among the %zu allowed categories",
             sc->n_categories);
    snprintf(pat.detail, sizeof pat.detail, "value does not match the pattern '%s'",
             sc->pattern ? sc->pattern : "");
    if (e == KN_OK && kn_column_type(c) == KN_COL_CATEGORICAL) {
        unsigned char *ok = NULL;
        e = level_ok(sc, c, sc->pattern ? &re : NULL, sorted, &ok);
        size_t n = kn_column_n_levels(c);
        const int32_t *code = kn_column_codes(c);
        for (size_t r = 0; e == KN_OK && r < rows; r++) {
            if (code[r] < 0) continue;
            if (!ok[code[r]]) e = hit(&cat, r);
            if (e == KN_OK && !ok[n + (size_t)code[r]]) e = hit(&pat, r);
        }
        kn_free(ok);
    } else if (e == KN_OK) {
        char *tmp = NULL;
        size_t tmp_cap = 0;
        for (size_t r = 0; e == KN_OK && r < rows; r++) {
            size_t len;
            const char *s = kn_column_str(c, r, &len);
            if (!s) continue;
            if (len + 1 > tmp_cap) {
                kn_free(tmp);
                tmp_cap = 2 * len + 16;
                if (!(tmp = kn_malloc(tmp_cap))) {
                    e = KN_ERR_NOMEM;
                    break;
                }
            }
            memcpy(tmp, s, len);
            tmp[len] = 0;
            const char *key = tmp;
            if (sorted && !bsearch(&key, sorted, sc->n_categories, sizeof *sorted, cmp_str))
                e = hit(&cat, r);
            if (e == KN_OK && sc->pattern && regexec(&re, tmp, 0, NULL, 0) != 0) e = hit(&pat, r);
        }
        kn_free(tmp);
    }
    kn_free(sorted);
    if (sc->pattern) regfree(&re);
    return e;
}

static double cell_value(kn_column *c, size_t r)
{
    if (kn_column_type(c) == KN_COL_NUMERIC) return kn_column_f64(c)[r];
    int64_t t = kn_column_ts(c)[r];
    return t == KN_TS_MISSING ? NAN : (double)t;
}

static kn_status check_range(checker *k, const kn_schema_column *sc, kn_column *c, kn_policy pol)
{
    if (!sc->has_min && !sc->has_max) return KN_OK;
    lazy lo = rule(k, sc, "min", pol), hi = rule(k, sc, "max", pol);
    snprintf(lo.detail, sizeof lo.detail, "value below the minimum %.17g", sc->min);
    snprintf(hi.detail, sizeof hi.detail, "value above the maximum %.17g", sc->max);
    kn_status e = KN_OK;
    for (size_t r = 0; e == KN_OK && r < kn_frame_n_rows(k->f); r++) {
        double x = cell_value(c, r);
        if (sc->has_min && x < sc->min)
            e = hit(&lo, r);
        else if (sc->has_max && x > sc->max)
            e = hit(&hi, r);
    }
    return e;
}

static kn_status check_missing(checker *k, const kn_schema_column *sc, kn_column *c, kn_policy pol)
{
    size_t rows = kn_frame_n_rows(k->f), missing = 0;
    for (size_t r = 0; r < rows; r++) missing += kn_column_is_missing(c, r) != 0;
    if (!missing) return KN_OK;
    if (sc->max_missing == 0) {
        lazy l = rule(k, sc, "missing", pol);
        snprintf(l.detail, sizeof l.detail, "missing value in a column that allows none");
        kn_status e = KN_OK;
        for (size_t r = 0; e == KN_OK && r < rows; r++)
            if (kn_column_is_missing(c, r)) e = hit(&l, r);
        return e;
    }
    double frac = (double)missing / (double)rows;
    if (frac > sc->max_missing && !add(k, sc->name, "max_missing", KN_POLICY_FAIL, 0,
                                       "%.2f%% of values are missing; the schema allows %.2f%%",
                                       100 * frac, 100 * sc->max_missing))
        return KN_ERR_NOMEM;
    return KN_OK;
}

/* Rows repeating earlier ones over the given columns (rows with a missing key skipped). */
static kn_status check_unique(checker *k, const size_t *cols, size_t n, lazy *l)
{
    size_t rows = kn_frame_n_rows(k->f), count;
    unsigned char *dup = kn_calloc(rows ? rows : 1, 1);
    if (!dup) return KN_ERR_NOMEM;
    kn_status e = kn__mark_duplicates(k->f, cols, n, 0, dup, &count);
    for (size_t r = 0; e == KN_OK && r < rows; r++) {
        if (!dup[r]) continue;
        int has_missing = 0;
        for (size_t j = 0; j < n; j++)
            has_missing |= kn_column_is_missing(kn_frame_col(k->f, cols[j]), r);
        if (!has_missing) e = hit(l, r);
    }
    kn_free(dup);
    return e;
}

static kn_status check_column(checker *k, const kn_schema_column *sc)
{
    size_t j;
    if (kn_frame_find(k->f, sc->name, &j) != KN_OK) {
        if (sc->required && !add(k, sc->name, "required", KN_POLICY_FAIL, 0,
                                 "required column '%s' is absent", sc->name))
            return KN_ERR_NOMEM;
        return KN_OK;
    }
    kn_column *c = kn_frame_col(k->f, j);
    kn_col_type t = kn_column_type(c);
    int text_alike = (t == KN_COL_STRING || t == KN_COL_CATEGORICAL) &&
                     (sc->type == KN_COL_STRING || sc->type == KN_COL_CATEGORICAL);
    if (t != sc->type && !text_alike) {
        if (!add(k, sc->name, "type", KN_POLICY_FAIL, 0,
                 "column is %s; the schema says %s (declare the type when reading, "
                 "reader option types=%s:%s, to see the offending rows)",
                 kn_col_type_name(t), kn_col_type_name(sc->type), sc->name,
                 kn_col_type_name(sc->type)))
            return KN_ERR_NOMEM;
        return KN_OK;
    }
    kn_policy pol = sc->has_policy ? sc->policy : k->s->policy;
    kn_status e = check_missing(k, sc, c, pol);
    if (e == KN_OK && (t == KN_COL_NUMERIC || t == KN_COL_TIMESTAMP))
        e = check_range(k, sc, c, pol);
    if (e == KN_OK && text_alike) e = check_text(k, sc, c, pol);
    if (e == KN_OK && sc->unique) {
        lazy l = rule(k, sc, "unique", pol);
        snprintf(l.detail, sizeof l.detail, "value repeats an earlier row's");
        e = check_unique(k, &j, 1, &l);
    }
    return e;
}

static kn_status check_table(checker *k)
{
    const kn_schema *s = k->s;
    uint64_t rows = k->v->rows;
    if ((s->min_rows && rows < s->min_rows) || (s->max_rows && rows > s->max_rows))
        if (!add(k, NULL, "rows", KN_POLICY_FAIL, 0, "%llu rows; the schema wants %llu to %llu",
                 (unsigned long long)rows, (unsigned long long)s->min_rows,
                 (unsigned long long)s->max_rows))
            return KN_ERR_NOMEM;
    if (!s->n_keys) return KN_OK;
    size_t cols[s->n_keys];
    for (size_t i = 0; i < s->n_keys; i++)
        if (kn_frame_find(k->f, s->keys[i], &cols[i]) != KN_OK) return KN_OK; /* reported */
    lazy l = {k, NULL, "keys", s->policy, "", 0, 0};
    snprintf(l.detail, sizeof l.detail, "key repeats an earlier row's");
    return check_unique(k, cols, s->n_keys, &l);
}

kn_status kn_schema_validate(const kn_schema *s, const kn_frame *f, kn_validation **out)
{
    kn_validation *v = kn_calloc(1, sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    v->rows = kn_frame_n_rows(f);
    checker k = {s, f, v, 0};
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < s->n_cols; i++) e = check_column(&k, &s->cols[i]);
    if (e == KN_OK) e = check_table(&k);
    if (e != KN_OK) {
        kn_validation_free(v);
        return e;
    }
    for (size_t r = 0; v->row_fate && r < v->rows; r++)
        if (v->row_fate[r]) {
            if (v->violations[v->row_fate[r] - 1].policy == KN_POLICY_DROP)
                v->rows_dropped++;
            else
                v->rows_quarantined++;
        }
    *out = v;
    return KN_OK;
}

void kn_validation_free(kn_validation *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n_violations; i++) {
        kn_free(v->violations[i].column);
        kn_free(v->violations[i].rule);
        kn_free(v->violations[i].detail);
    }
    kn_free(v->violations);
    kn_free(v->row_fate);
    kn_free(v);
}

kn_status kn_validation_quarantined(const kn_frame *f, const kn_validation *v,
                                    const uint64_t *data_row, kn_frame **out)
{
    size_t n = 0, *rows = kn_malloc((v->rows ? v->rows : 1) * sizeof *rows);
    if (!rows) return KN_ERR_NOMEM;
    for (size_t r = 0; r < v->rows; r++)
        if (v->row_fate && v->row_fate[r] &&
            v->violations[v->row_fate[r] - 1].policy == KN_POLICY_QUARANTINE)
            rows[n++] = r;
    kn_frame *q = NULL;
    kn_column *rc = NULL, *why = NULL;
    kn_status e = kn_frame_select_rows(f, rows, n, &q);
    if (e == KN_OK) e = kn_frame_insert_column(q, 0, "_row", KN_COL_NUMERIC, &rc);
    if (e == KN_OK) e = kn_frame_insert_column(q, 1, "_violation", KN_COL_STRING, &why);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        const kn_violation *x = &v->violations[v->row_fate[rows[i]] - 1];
        char *reason =
            kn_sprintf("%s %s: %s", x->column ? x->column : "(table)", x->rule, x->detail);
        kn_column_f64(rc)[i] = data_row ? (double)data_row[rows[i]] : (double)rows[i] + 1;
        e = reason ? kn_column_set_str(why, i, reason, strlen(reason)) : KN_ERR_NOMEM;
        kn_free(reason);
    }
    kn_free(rows);
    if (e != KN_OK) {
        kn_frame_free(q);
        return e;
    }
    *out = q;
    return KN_OK;
}

/* ---- one row (prep/row-impl.h) ---- */

typedef struct row_rule {
    const kn_schema_column *sc;
    size_t col;       /* in the layout */
    char **sorted;    /* the categories, sorted, or NULL */
    regex_t re;       /* when sc->pattern */
    int text, ranged; /* categorical cells checked as text; a min or max */
} row_rule;

struct kn__row_check {
    int never;   /* a column or table rule that a one-row frame breaks whatever it holds */
    size_t n;    /* rules */
    row_rule *r; /* the schema's columns present in the layout */
};

void kn__row_check_free(kn__row_check *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        kn_free(c->r[i].sorted);
        if (c->r[i].sc->pattern) regfree(&c->r[i].re);
    }
    kn_free(c->r);
    kn_free(c);
}

/* Prepare sc on layout column j: its rules as check_column applies them
 * to one row; c->never when the column alone fails. */
static kn_status row_rule_new(kn__row_check *c, const kn_schema_column *sc, const kn_frame *layout,
                              size_t j)
{
    kn_col_type t = kn_column_type(kn_frame_col(layout, j));
    int text_alike = (t == KN_COL_STRING || t == KN_COL_CATEGORICAL) &&
                     (sc->type == KN_COL_STRING || sc->type == KN_COL_CATEGORICAL);
    if ((t != sc->type && !text_alike) || (t == KN_COL_STRING && (sc->categories || sc->pattern))) {
        c->never = 1; /* a type violation, or text rules the row check leaves to validate */
        return KN_OK;
    }
    row_rule *r = &c->r[c->n];
    memset(r, 0, sizeof *r);
    r->sc = sc;
    r->col = j;
    r->ranged = (t == KN_COL_NUMERIC || t == KN_COL_TIMESTAMP) && (sc->has_min || sc->has_max);
    r->text = t == KN_COL_CATEGORICAL && (sc->categories || sc->pattern);
    if (r->text && sc->categories) {
        if (!(r->sorted = kn_malloc(sc->n_categories * sizeof *r->sorted + 1))) return KN_ERR_NOMEM;
        memcpy(r->sorted, sc->categories, sc->n_categories * sizeof *r->sorted);
        qsort(r->sorted, sc->n_categories, sizeof *r->sorted, cmp_str);
    }
    char err[256];
    if (sc->pattern && (!r->text || compile(sc->pattern, &r->re, err, sizeof err) != 0)) {
        kn_free(r->sorted);
        c->never = 1; /* validate reports the bad pattern */
        return KN_OK;
    }
    c->n++;
    return KN_OK;
}

kn_status kn__row_check_new(const kn_schema *s, const kn_frame *layout, kn__row_check **out)
{
    kn__row_check *c = kn_calloc(1, sizeof *c);
    if (!c || !(c->r = kn_calloc(s->n_cols ? s->n_cols : 1, sizeof *c->r))) {
        kn_free(c);
        return KN_ERR_NOMEM;
    }
    c->never = (s->min_rows && 1 < s->min_rows) || (s->max_rows && 1 > s->max_rows);
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < s->n_cols && !c->never; i++) {
        size_t j;
        if (kn_frame_find(layout, s->cols[i].name, &j) != KN_OK)
            c->never = s->cols[i].required;
        else
            e = row_rule_new(c, &s->cols[i], layout, j);
    }
    if (e != KN_OK) {
        kn__row_check_free(c);
        return e;
    }
    *out = c;
    return KN_OK;
}

int kn__row_check_pass(const kn__row_check *c, const kn_frame *f, size_t row)
{
    if (c->never) return 0;
    for (size_t i = 0; i < c->n; i++) {
        const row_rule *r = &c->r[i];
        const kn_schema_column *sc = r->sc;
        kn_column *col = kn_frame_col(f, r->col);
        if (kn_column_is_missing(col, row)) {
            /* one row: a missing fraction of 1 */
            if (sc->max_missing == 0 || 1.0 > sc->max_missing) return 0;
            continue;
        }
        if (r->ranged) {
            double x = cell_value(col, row);
            if ((sc->has_min && x < sc->min) || (sc->has_max && x > sc->max)) return 0;
        }
        if (r->text) {
            const char *s = kn_column_level(col, kn_column_codes(col)[row], NULL);
            if (r->sorted && !bsearch(&s, r->sorted, sc->n_categories, sizeof *r->sorted, cmp_str))
                return 0;
            if (sc->pattern && regexec(&r->re, s, 0, NULL, 0) != 0) return 0;
        }
    }
    return 1;
}
