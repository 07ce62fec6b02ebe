/* Column statistics, duplicate rows and warnings for `kiln describe`. */
#include "kiln/profile.h"
#include "core/ctx-impl.h"
#include "data/frame-impl.h"
#include "data/rows-impl.h"
#include "data/sort-impl.h"
#include "data/text_numbers-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Order-preserving keys of int64 values (exact, unlike their doubles). */
static uint64_t i64_key(int64_t x)
{
    return (uint64_t)x ^ 0x8000000000000000ull;
}

static double key_value(uint64_t k, int is_int)
{
    return is_int ? (double)(int64_t)(k ^ 0x8000000000000000ull) : kn__key_f64(k);
}

static double quantile(const uint64_t *sorted_keys, size_t n, double q, int is_int)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double a = key_value(sorted_keys[lo], is_int), b = key_value(sorted_keys[hi], is_int);
    return a + (b - a) * (pos - (double)lo);
}

/* Numeric (and timestamp and int64, as doubles) statistics; int64 keys are
 * sorted as integers so distinct counts and extremes stay exact. */
static kn_status profile_numeric(const kn_column *c, size_t rows, kn_col_profile *p)
{
    uint64_t *keys = kn_malloc((rows ? rows : 1) * sizeof *keys);
    uint64_t *tmp = kn_malloc((rows ? rows : 1) * sizeof *tmp);
    if (!keys || !tmp) {
        kn_free(keys);
        kn_free(tmp);
        return KN_ERR_NOMEM;
    }
    size_t n = 0;
    double sum = 0;
    int integer = 1;
    const int is_int = c->type == KN_COL_INT64;
    for (size_t i = 0; i < rows; i++) {
        double v;
        if (c->type == KN_COL_NUMERIC) {
            v = c->f64[i];
            if (isnan(v)) continue;
        } else {
            if (c->ts[i] == KN_TS_MISSING) continue;
            v = (double)c->ts[i];
        }
        keys[n++] = is_int ? i64_key(c->ts[i]) : kn__f64_key(v);
        p->infinite += isinf(v) != 0;
        sum += v;
        if (integer && v != floor(v)) integer = 0;
    }
    p->count = n;
    p->integer_valued = integer && n > 0;
    if (n) {
        double mean = sum / (double)n, m2 = 0, m3 = 0;
        for (size_t i = 0; i < n; i++) {
            double d = key_value(keys[i], is_int) - mean;
            m2 += d * d;
            m3 += d * d * d;
        }
        p->mean = mean;
        p->std = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
        double var = m2 / (double)n;
        p->skew = (n > 2 && var > 0) ? (m3 / (double)n) / pow(var, 1.5) *
                                           sqrt((double)n * (double)(n - 1)) / (double)(n - 2)
                                     : 0;
        kn__sort_u64_pairs(keys, NULL, tmp, NULL, n);
        p->min = key_value(keys[0], is_int);
        p->max = key_value(keys[n - 1], is_int);
        if (is_int) {
            p->min_i64 = (int64_t)(keys[0] ^ 0x8000000000000000ull);
            p->max_i64 = (int64_t)(keys[n - 1] ^ 0x8000000000000000ull);
        }
        p->p1 = quantile(keys, n, 0.01, is_int);
        p->p25 = quantile(keys, n, 0.25, is_int);
        p->p50 = quantile(keys, n, 0.50, is_int);
        p->p75 = quantile(keys, n, 0.75, is_int);
        p->p99 = quantile(keys, n, 0.99, is_int);
        uint64_t distinct = 1;
        for (size_t i = 1; i < n; i++)
            distinct += is_int ? keys[i] != keys[i - 1]
                               : kn__key_f64(keys[i]) != kn__key_f64(keys[i - 1]); /* -0 == +0 */
        p->distinct = distinct;
    } else {
        p->mean = p->std = p->min = p->max = p->p1 = p->p25 = p->p50 = p->p75 = p->p99 = NAN;
    }
    kn_free(keys);
    kn_free(tmp);
    return KN_OK;
}

/* Indices of the KN_PROFILE_TOP largest counts (ties: lower index first). */
static size_t top_indices(const uint64_t *counts, size_t n, size_t *idx)
{
    size_t k = 0;
    for (; k < KN_PROFILE_TOP; k++) {
        size_t best = SIZE_MAX;
        for (size_t l = 0; l < n; l++) {
            if (!counts[l] || (best != SIZE_MAX && counts[l] <= counts[best])) continue;
            int picked = 0;
            for (size_t t = 0; t < k; t++) picked |= idx[t] == l;
            if (!picked) best = l;
        }
        if (best == SIZE_MAX) break;
        idx[k] = best;
    }
    return k;
}

/* Categorical and string columns: counts per distinct value. */
static kn_status profile_text(const kn_column *c, size_t rows, kn_col_profile *p)
{
    kn_dict local;
    const kn_dict *d = &c->dict;
    kn__dict_init(&local);
    int32_t *codes = NULL;
    kn_status st = KN_OK;
    if (c->type == KN_COL_STRING) {
        /* intern the strings to count them */
        codes = kn_malloc((rows ? rows : 1) * sizeof *codes);
        if (!codes) return KN_ERR_NOMEM;
        for (size_t i = 0; i < rows && st == KN_OK; i++) {
            size_t len;
            const char *t = kn_column_str(c, i, &len);
            codes[i] = -1;
            if (t) st = kn__dict_intern(&local, t, len, &codes[i]);
        }
        d = &local;
    }
    uint64_t *counts = st == KN_OK ? kn_calloc(d->n ? d->n : 1, sizeof *counts) : NULL;
    if (!counts) {
        kn_free(codes);
        kn__dict_free(&local);
        return KN_ERR_NOMEM;
    }
    const int32_t *cc = codes ? codes : c->codes;
    for (size_t i = 0; i < rows; i++)
        if (cc[i] >= 0) {
            counts[cc[i]]++;
            p->count++;
        }
    for (size_t l = 0; l < d->n; l++) {
        p->distinct += counts[l] > 0;
        p->singletons += counts[l] == 1;
    }
    size_t idx[KN_PROFILE_TOP];
    p->n_top = top_indices(counts, d->n, idx);
    for (size_t t = 0; t < p->n_top && st == KN_OK; t++) {
        size_t len;
        const char *text = kn__dict_get(d, (int32_t)idx[t], &len);
        p->top[t].value = kn_strndup(text, len);
        p->top[t].count = counts[idx[t]];
        if (!p->top[t].value) st = KN_ERR_NOMEM;
    }
    p->mean = p->std = p->min = p->max = p->p1 = p->p25 = p->p50 = p->p75 = p->p99 = NAN;
    kn_free(counts);
    kn_free(codes);
    kn__dict_free(&local);
    return st;
}

/* Rows equal (cell by cell) to an earlier row. */
static kn_status count_duplicates(const kn_frame *f, uint64_t *out)
{
    size_t n = f->n_rows;
    *out = 0;
    if (n < 2 || f->n_cols == 0) return KN_OK;
    unsigned char *dup = kn_calloc(n, 1);
    size_t *cols = kn_malloc(f->n_cols * sizeof *cols);
    kn_status st = dup && cols ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; j < f->n_cols && cols; j++) cols[j] = j;
    size_t count = 0;
    if (st == KN_OK) st = kn__mark_duplicates(f, cols, f->n_cols, 0, dup, &count);
    *out = count;
    kn_free(dup);
    kn_free(cols);
    return st;
}

static kn_status add_warning(kn_profile *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static kn_status add_warning(kn_profile *p, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = kn_realloc(p->warnings, (p->n_warnings + 1) * sizeof *w);
    if (!w) return KN_ERR_NOMEM;
    p->warnings = w;
    if (!(w[p->n_warnings] = kn_strdup(buf))) return KN_ERR_NOMEM;
    p->n_warnings++;
    return KN_OK;
}

static int name_says_id(const char *name)
{
    size_t n = strlen(name);
    if (n >= 2 && (name[n - 2] == 'i' || name[n - 2] == 'I') &&
        (name[n - 1] == 'd' || name[n - 1] == 'D'))
        return n == 2 || name[n - 3] == '_' || name[n - 3] == '-' || name[n - 3] == ' ' ||
               (name[n - 2] == 'I' && name[n - 3] >= 'a' && name[n - 3] <= 'z');
    return 0;
}

/* The warning of a text column that is numbers but for a few cells, or
 * NULL (a new string; free with kn_free()). */
static char *text_numbers_warning(const kn_column *c, size_t rows)
{
    kn__text_numbers t;
    char example[40], buf[1024];
    size_t row;
    if (kn__text_comma_numbers(c, rows, example, &row)) {
        /* the example's last mark: a ',' after a '.', or not followed by
         * three digits, is a decimal comma; else ',' groups thousands */
        const char *comma = strrchr(example, ','), *dot = strchr(example, '.');
        int decimal_comma = comma && (dot ? dot < comma : strlen(comma + 1) != 3);
        const char *fix =
            decimal_comma ? (dot ? "--thousands . --decimal ," : "--decimal ,") : "--thousands ,";
        const char *spec = decimal_comma
                               ? (dot ? "{thousands: '.', decimal: ','}" : "{decimal: ','}")
                               : "{thousands: ','}";
        snprintf(buf, sizeof buf,
                 "column '%s' is text, but its values are numbers written with commas (e.g. "
                 "'%s', row %zu): read them as numbers with %s (in a spec's source: read: %s), "
                 "as pandas' thousands= and decimal=",
                 kn_column_name(c), example, row + 1, fix, spec);
        return kn_strdup(buf);
    }
    if (!kn__text_numbers_scan(c, rows, &t) || !t.others) return NULL; /* declared text */
    char said[256], miss[256];
    if (t.times)
        snprintf(buf, sizeof buf,
                 "column '%s' is text, not a timestamp, only because %llu of its %llu values "
                 "%s not an ISO-8601 date or time (YYYY-MM-DD[Thh:mm[:ss]]): %s; rewrite %s so "
                 "(a missing-value marker: read it as missing with --missing)",
                 kn_column_name(c), (unsigned long long)t.others, (unsigned long long)t.cells,
                 t.others == 1 ? "is" : "are", kn__text_numbers_say(&t, said, sizeof said),
                 t.others == 1 ? "it" : "them");
    else
        snprintf(buf, sizeof buf,
                 "column '%s' is text only because %llu of its %llu values %s not a number: "
                 "%s. A missing-value marker? Read it as missing (--missing '%s', or in a "
                 "spec read: {missing: ...}); else correct the cell%s",
                 kn_column_name(c), (unsigned long long)t.others, (unsigned long long)t.cells,
                 t.others == 1 ? "is" : "are", kn__text_numbers_say(&t, said, sizeof said),
                 kn__text_numbers_missing(&t, miss, sizeof miss), t.others == 1 ? "" : "s");
    return kn_strdup(buf);
}

static kn_status warnings(kn_profile *p, char **numbers_text)
{
    kn_status st = KN_OK;
    for (size_t j = 0; j < p->n_cols && st == KN_OK; j++) {
        const kn_col_profile *c = &p->cols[j];
        if (numbers_text[j]) st = add_warning(p, "%s", numbers_text[j]);
        if (st != KN_OK) break;
        if (p->rows && c->missing_frac > 0.2)
            st = add_warning(p, "column '%s' is %.1f%% missing", c->name, 100 * c->missing_frac);
        if (st == KN_OK && c->constant && p->rows)
            st = add_warning(p, "column '%s' is constant: it carries no information", c->name);
        if (st == KN_OK && c->likely_id)
            st = add_warning(p,
                             "column '%s' looks like an ID (unique per row); exclude it from "
                             "features",
                             c->name);
        else if (st == KN_OK && (c->type == KN_COL_CATEGORICAL || c->type == KN_COL_STRING) &&
                 c->count >= 20 && (c->distinct > 1000 || c->distinct * 2 > c->count))
            st = add_warning(p, "column '%s' has high cardinality (%llu distinct values)", c->name,
                             (unsigned long long)c->distinct);
        if (st == KN_OK && c->infinite)
            st = add_warning(p,
                             "column '%s' has %llu infinite value%s (inf or -inf); its mean, std "
                             "and skew are not finite",
                             c->name, (unsigned long long)c->infinite, c->infinite == 1 ? "" : "s");
        /* a 0/1 column (a flag, a binary target) is skewed by its class balance,
           which no transform changes */
        if (st == KN_OK && c->type == KN_COL_NUMERIC && fabs(c->skew) > 2 && c->count > 2 &&
            c->distinct > 2)
            st = add_warning(p,
                             "column '%s' is highly skewed (skew %.2f); consider a log or "
                             "power transform",
                             c->name, c->skew);
    }
    if (st == KN_OK && p->duplicate_rows)
        st = add_warning(p, "%llu duplicate rows (%.1f%%)", (unsigned long long)p->duplicate_rows,
                         100.0 * (double)p->duplicate_rows / (double)p->rows);
    return st;
}

kn_status kn_profile_compute(const kn_frame *f, kn_profile **out)
{
    kn_profile *p = kn_calloc(1, sizeof *p);
    if (!p) return KN_ERR_NOMEM;
    p->rows = f->n_rows;
    p->n_cols = f->n_cols;
    p->cols = kn_calloc(f->n_cols ? f->n_cols : 1, sizeof *p->cols);
    if (!p->cols) {
        kn_free(p);
        return KN_ERR_NOMEM;
    }
    char **numbers_text = kn_calloc(f->n_cols ? f->n_cols : 1, sizeof *numbers_text);
    if (!numbers_text) {
        kn_free(p->cols);
        kn_free(p);
        return KN_ERR_NOMEM;
    }
    int failed = 0;
    char message[512] = "";
    kn_ctx *run = kn_ctx_current(); /* columns are profiled in the caller's context */
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t j = 0; j < f->n_cols; j++) {
        kn_ctx *prev = kn__ctx_swap(run);
        const kn_column *c = f->cols[j];
        kn_col_profile *cp = &p->cols[j];
        cp->name = kn_strdup(c->name);
        cp->type = c->type;
        cp->role = c->role;
        kn_status st = cp->name ? KN_OK : KN_ERR_NOMEM;
        if (st == KN_OK)
            st = (c->type == KN_COL_NUMERIC || c->type == KN_COL_TIMESTAMP ||
                  c->type == KN_COL_INT64)
                     ? profile_numeric(c, f->n_rows, cp)
                     : profile_text(c, f->n_rows, cp);
        if (st != KN_OK) {
#pragma omp critical(kn_profile_error)
            {
                failed = 1;
                snprintf(message, sizeof message, "%s", kn_last_error());
            }
            kn__ctx_swap(prev);
            continue;
        }
        cp->missing = f->n_rows - cp->count;
        cp->missing_frac = f->n_rows ? (double)cp->missing / (double)f->n_rows : 0;
        cp->constant = cp->distinct <= 1;
        cp->likely_id =
            f->n_rows >= 10 && cp->distinct == f->n_rows &&
            (c->type == KN_COL_CATEGORICAL || c->type == KN_COL_STRING || c->type == KN_COL_INT64 ||
             (c->type == KN_COL_NUMERIC && cp->integer_valued)) &&
            (c->type != KN_COL_NUMERIC || name_says_id(c->name) ||
             cp->max - cp->min == (double)(f->n_rows - 1));
        /* numbers but for a few cells: a measurement mistyped, not an ID */
        numbers_text[j] = text_numbers_warning(c, f->n_rows);
        if (numbers_text[j]) cp->likely_id = 0;
        kn__ctx_swap(prev);
    }
    kn_status st = failed ? kn_fail(KN_ERR_NOMEM, "%s", message) : KN_OK;
    if (st == KN_OK) st = count_duplicates(f, &p->duplicate_rows);
    if (st == KN_OK) st = warnings(p, numbers_text);
    for (size_t j = 0; j < f->n_cols; j++) kn_free(numbers_text[j]);
    kn_free(numbers_text);
    if (st != KN_OK) {
        kn_profile_free(p);
        return st;
    }
    *out = p;
    return KN_OK;
}

void kn_profile_free(kn_profile *p)
{
    if (!p) return;
    for (size_t j = 0; j < p->n_cols; j++) {
        kn_free(p->cols[j].name);
        for (size_t t = 0; t < p->cols[j].n_top; t++) kn_free(p->cols[j].top[t].value);
    }
    kn_free(p->cols);
    for (size_t w = 0; w < p->n_warnings; w++) kn_free(p->warnings[w]);
    kn_free(p->warnings);
    kn_free(p);
}
