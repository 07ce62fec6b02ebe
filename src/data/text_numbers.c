/* A text column that is numbers but for a few cells (text_numbers-impl.h). */
#include "data/text_numbers-impl.h"
#include "data/parse-impl.h"
#include "kiln/io.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whole text (blanks around it allowed) is one number that the CSV reader's
 * type inference reads as a number (not a code with leading zeros). */
static int is_number(const char *s, size_t len, double *v)
{
    const char *e = s + len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (s == e || kn__parse_double(s, e, v) != e) return 0;
    kn_num_shape shape = kn__number_shape(s, e); /* "007" is a code, not a number */
    return shape == KN_SHAPE_INT || shape == KN_SHAPE_REAL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One non-number value: counted, and kept when among the first shown. */
static void note_other(kn__text_numbers *t, const char *s, size_t len, size_t row, int first)
{
    t->others++;
    if (first) t->n_tokens++;
    size_t k = 0;
    while (k < t->shown && (strlen(t->token[k]) != (len < 39 ? len : 39) ||
                            memcmp(t->token[k], s, len < 39 ? len : 39) != 0))
        k++;
    if (k < t->shown) {
        t->token_cells[k]++;
        return;
    }
    if (!first || t->shown == KN__TEXT_NUMBERS_SHOWN) return;
    size_t n = len < 39 ? len : 39;
    memcpy(t->token[k], s, n);
    t->token[k][n] = '\0';
    t->token_cells[k] = 1;
    t->token_row[k] = row;
    t->shown++;
}

/* A cell's kind: 0 a number, 1 an ISO-8601 time, 2 other. */
static int kind_of(const char *s, size_t len, double *v)
{
    if (is_number(s, len, v)) return 0;
    int64_t ts;
    const char *e = s + len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    return s < e && kn__parse_timestamp(s, e, &ts) ? 1 : 2;
}

int kn__text_numbers_scan(const kn_column *c, size_t n_rows, kn__text_numbers *t)
{
    memset(t, 0, sizeof *t);
    kn_col_type type = kn_column_type(c);
    if (type != KN_COL_CATEGORICAL && type != KN_COL_STRING) return 0;
    size_t n_levels = type == KN_COL_CATEGORICAL ? kn_column_n_levels(c) : 0;
    double *nums = kn_malloc((n_rows ? n_rows : 1) * sizeof *nums);
    signed char *kinds = kn_malloc(n_rows ? n_rows : 1); /* per row; -1 missing */
    /* per level: its kind (-1 not looked at yet), value, and whether seen */
    signed char *level_kind = kn_malloc(n_levels ? n_levels : 1);
    double *value = kn_malloc((n_levels ? n_levels : 1) * sizeof *value);
    unsigned char *seen = kn_calloc(n_levels ? n_levels : 1, 1);
    if (!nums || !kinds || !level_kind || !value || !seen) goto done; /* no verdict */
    memset(level_kind, -1, n_levels ? n_levels : 1);
    const int32_t *codes = type == KN_COL_CATEGORICAL ? kn_column_codes((kn_column *)c) : NULL;
    uint64_t count[3] = {0, 0, 0};
    for (size_t i = 0; i < n_rows; i++) { /* pass 1: each cell's kind */
        const char *s;
        size_t len;
        double v = 0;
        kinds[i] = -1;
        if (codes) {
            int32_t k = codes[i];
            if (k < 0 || (size_t)k >= n_levels) continue;
            if (level_kind[k] < 0) {
                s = kn_column_level(c, k, &len);
                level_kind[k] = (signed char)kind_of(s, len, &value[k]);
            }
            kinds[i] = level_kind[k];
        } else {
            if (!(s = kn_column_str(c, i, &len))) continue;
            kinds[i] = (signed char)kind_of(s, len, &v);
        }
        count[kinds[i]]++;
    }
    t->times = count[1] > count[0];
    const int want = t->times ? 1 : 0;
    t->integers = 1;
    for (size_t i = 0; i < n_rows; i++) { /* pass 2: the others, and the numbers */
        if (kinds[i] < 0) continue;
        const char *s;
        size_t len;
        double v = 0;
        int first = 1;
        if (codes) {
            int32_t k = codes[i];
            s = kn_column_level(c, k, &len);
            v = value[k];
            first = !seen[k];
            seen[k] = 1;
        } else {
            s = kn_column_str(c, i, &len);
            if (kinds[i] == 0) is_number(s, len, &v);
            /* a value not among those shown counts as new (more than shown: refused anyway) */
            for (size_t k = 0; k < t->shown && first; k++)
                first = !(strlen(t->token[k]) == (len < 39 ? len : 39) &&
                          !memcmp(t->token[k], s, len < 39 ? len : 39));
        }
        t->cells++;
        if (kinds[i] != want) {
            note_other(t, s, len, i, first);
            continue;
        }
        t->numbers++;
        if (want == 0) {
            nums[t->numbers - 1] = v;
            if (t->integers && (!isfinite(v) || v != floor(v))) t->integers = 0;
        }
    }
    if (t->numbers && want == 0) {
        qsort(nums, t->numbers, sizeof *nums, cmp_double);
        for (size_t i = 0; i < t->numbers; i++) t->distinct += i == 0 || nums[i] != nums[i - 1];
    }
done:
    kn_free(nums);
    kn_free(kinds);
    kn_free(level_kind);
    kn_free(value);
    kn_free(seen);
    return t->numbers >= 5 && t->n_tokens <= 3 && t->others * 20 <= t->cells;
}

const char *kn__text_numbers_say(const kn__text_numbers *t, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < t->shown && at < cap; k++) {
        int n = t->token_cells[k] == 1
                    ? snprintf(buf + at, cap - at, "%s'%s' (1 cell, row %zu)", k ? ", " : "",
                               t->token[k], t->token_row[k] + 1)
                    : snprintf(buf + at, cap - at, "%s'%s' (%llu cells, first at row %zu)",
                               k ? ", " : "", t->token[k], (unsigned long long)t->token_cells[k],
                               t->token_row[k] + 1);
        if (n < 0) break;
        at += (size_t)n;
    }
    return buf;
}

const char *kn__text_numbers_missing(const kn__text_numbers *t, char *buf, size_t cap)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    int n = snprintf(buf, cap, "%s", o.missing ? o.missing : "");
    for (size_t k = 0; k < t->shown && n >= 0 && (size_t)n < cap; k++) {
        /* a token with a comma or a blank cannot be listed in one value */
        if (strchr(t->token[k], ',')) continue;
        n += snprintf(buf + n, cap - (size_t)n, "%s%s", n ? "," : "", t->token[k]);
    }
    return buf;
}

/* Digits with ',' (and '.') between them, at least one ',': "1,234.5",
 * "12,5", "1.234,5". */
static int comma_number(const char *s, size_t len)
{
    const char *e = s + len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (s < e && (*s == '-' || *s == '+')) s++;
    if (s == e || (unsigned)(*s - '0') > 9 || (unsigned)(e[-1] - '0') > 9) return 0;
    int commas = 0;
    for (const char *p = s; p < e; p++) {
        if ((unsigned)(*p - '0') <= 9) continue;
        if (*p != ',' && *p != '.') return 0;
        if ((unsigned)(p[1] - '0') > 9) return 0; /* two separators in a row */
        commas += *p == ',';
    }
    return commas > 0;
}

int kn__text_comma_numbers(const kn_column *c, size_t n_rows, char example[40], size_t *row)
{
    if (kn_column_type(c) != KN_COL_CATEGORICAL && kn_column_type(c) != KN_COL_STRING) return 0;
    const int32_t *codes =
        kn_column_type(c) == KN_COL_CATEGORICAL ? kn_column_codes((kn_column *)c) : NULL;
    size_t cells = 0, with_comma = 0;
    double v;
    for (size_t i = 0; i < n_rows; i++) {
        const char *s;
        size_t len;
        if (codes) {
            if (codes[i] < 0) continue;
            s = kn_column_level(c, codes[i], &len);
        } else if (!(s = kn_column_str(c, i, &len))) {
            continue;
        }
        cells++;
        if (comma_number(s, len)) {
            if (!with_comma++) {
                size_t n = len < 39 ? len : 39;
                memcpy(example, s, n);
                example[n] = '\0';
                *row = i;
            }
        } else if (!is_number(s, len, &v)) {
            return 0; /* text, not numbers */
        }
    }
    return cells >= 5 && with_comma > 0;
}
