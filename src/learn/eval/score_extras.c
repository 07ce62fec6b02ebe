/* What kn_score_opts adds to scores (kiln/evaluate.h): the scores of each
 * slice of the rows by the values of a column, with the worst slice named,
 * and bootstrap confidence intervals (score_boot.c) of both. */
#include "kiln/evaluate.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "learn/eval/score-impl.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- slices of the rows by a column's values ---- */

static int find_value(char **values, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(values[i], v)) return (int)i;
    return -1;
}

static int by_number(const void *a, const void *b)
{
    double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
    return (x > y) - (x < y);
}

void kn__slices_free(kn__slices *s)
{
    for (size_t i = 0; i < s->n; i++) kn_free(s->values[i]);
    kn_free(s->values);
    kn_free(s->row);
    memset(s, 0, sizeof *s);
}

kn_status kn__slices_of(const kn_frame *f, const char *column, kn__slices *out)
{
    memset(out, 0, sizeof *out);
    size_t j, n = kn_frame_n_rows(f);
    char hint[160];
    if (kn_frame_find(f, column, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "slice column '%s' is not in the data%s", column,
                       kn_frame_did_you_mean(f, column, hint, sizeof hint));
    kn_column *c = kn_frame_col(f, j);
    kn_col_type t = kn_column_type(c);
    out->row = kn_malloc((n ? n : 1) * sizeof *out->row);
    out->values = kn_calloc(KN_SLICE_MAX_VALUES + 1, sizeof *out->values);
    if (!out->row || !out->values) {
        kn__slices_free(out);
        return KN_ERR_NOMEM;
    }
    kn_status e = KN_OK;
    for (size_t r = 0; e == KN_OK && r < n; r++) {
        char buf[40];
        const char *v = buf;
        size_t len = 0;
        if (kn_column_is_missing(c, r))
            v = "(missing)";
        else if (t == KN_COL_CATEGORICAL)
            v = kn_column_level(c, kn_column_codes(c)[r], NULL);
        else if (t == KN_COL_STRING) {
            const char *s = kn_column_str(c, r, &len);
            snprintf(buf, sizeof buf, "%.*s", (int)(len < 39 ? len : 39), s);
            if (len >= 40) {
                e = kn_fail(KN_ERR_INVALID,
                            "slice column '%s', row %zu: a value of %zu bytes; slice by a column "
                            "of short labels",
                            column, r + 1, len);
                break;
            }
        } else
            snprintf(buf, sizeof buf, "%.17g", kn_column_number(c, r));
        int at = find_value(out->values, out->n, v);
        if (at < 0) {
            if (out->n == KN_SLICE_MAX_VALUES) {
                e = kn_fail(KN_ERR_INVALID,
                            "slice column '%s' has more than %d distinct values; slice by a "
                            "column of fewer (bin a numeric one first, e.g. a prep step)",
                            column, KN_SLICE_MAX_VALUES);
                break;
            }
            if (!(out->values[out->n] = kn_strdup(v))) {
                e = KN_ERR_NOMEM;
                break;
            }
            at = (int)out->n++;
        }
        out->row[r] = at;
    }
    /* numbers in increasing order, not in order of appearance */
    if (e == KN_OK && t != KN_COL_CATEGORICAL && t != KN_COL_STRING && out->n > 1) {
        char **sorted = kn_malloc(out->n * sizeof *sorted);
        int *to = kn_malloc(out->n * sizeof *to);
        e = sorted && to ? KN_OK : KN_ERR_NOMEM;
        if (e == KN_OK) {
            memcpy(sorted, out->values, out->n * sizeof *sorted);
            qsort(sorted, out->n, sizeof *sorted, by_number);
            for (size_t i = 0; i < out->n; i++) to[i] = find_value(sorted, out->n, out->values[i]);
            for (size_t r = 0; r < n; r++) out->row[r] = to[out->row[r]];
            memcpy(out->values, sorted, out->n * sizeof *sorted);
        }
        kn_free(sorted);
        kn_free(to);
    }
    if (e != KN_OK) kn__slices_free(out);
    return e;
}

/* ---- rows taken from metric data ---- */

void kn__taken_free(kn__taken *b)
{
    kn_free(b->y), kn_free(b->pred), kn_free(b->w), kn_free(b->proba);
    kn_free(b->yc), kn_free(b->pc);
    memset(b, 0, sizeof *b);
}

kn_status kn__taken_alloc(kn__taken *b, const kn_metric_data *d, size_t m)
{
    memset(b, 0, sizeof *b);
    size_t n = m ? m : 1;
    int ok = 1;
    if (d->y) ok &= !!(b->y = kn_malloc(n * sizeof *b->y));
    if (d->pred) ok &= !!(b->pred = kn_malloc(n * sizeof *b->pred));
    if (d->w) ok &= !!(b->w = kn_malloc(n * sizeof *b->w));
    if (d->proba) ok &= !!(b->proba = kn_malloc(n * d->k_model * sizeof *b->proba));
    if (d->y_class) ok &= !!(b->yc = kn_malloc(n * sizeof *b->yc));
    if (d->pred_class) ok &= !!(b->pc = kn_malloc(n * sizeof *b->pc));
    if (!ok) kn__taken_free(b);
    return ok ? KN_OK : KN_ERR_NOMEM;
}

void kn__take(const kn_metric_data *d, const size_t *idx, size_t m, kn__taken *b,
              kn_metric_data *out)
{
    *out = *d;
    out->n = m;
    for (size_t i = 0; i < m; i++) {
        size_t r = idx[i];
        if (d->y) b->y[i] = d->y[r];
        if (d->pred) b->pred[i] = d->pred[r];
        if (d->w) b->w[i] = d->w[r];
        if (d->y_class) b->yc[i] = d->y_class[r];
        if (d->pred_class) b->pc[i] = d->pred_class[r];
        if (d->proba)
            memcpy(b->proba + i * d->k_model, d->proba + r * d->k_model,
                   d->k_model * sizeof *b->proba);
    }
    out->y = d->y ? b->y : NULL;
    out->pred = d->pred ? b->pred : NULL;
    out->w = d->w ? b->w : NULL;
    out->y_class = d->y_class ? b->yc : NULL;
    out->pred_class = d->pred_class ? b->pc : NULL;
    out->proba = d->proba ? b->proba : NULL;
}

/* ---- bootstrap intervals (the resamples: score_boot.c) ---- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) sorted, interpolated linearly (numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    double at = q * (double)(n - 1);
    size_t i = (size_t)at;
    if (i + 1 >= n) return v[n - 1];
    return v[i] + (at - (double)i) * (v[i + 1] - v[i]);
}

kn_status kn__score_intervals(const kn_score_opts *o, const kn_metric_data *d, kn_scores *s)
{
    size_t reps = o->bootstrap, k = s->n;
    double level = o->level > 0 && o->level < 1 ? o->level : 0.95;
    s->level = level;
    s->lo = kn_malloc((k ? k : 1) * sizeof *s->lo);
    s->hi = kn_malloc((k ? k : 1) * sizeof *s->hi);
    double *vals = kn_malloc((k ? k : 1) * (reps ? reps : 1) * sizeof *vals);
    kn_status e = s->lo && s->hi && vals ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn__bootstrap_scores(d, s->name, k, o->seed, reps, 0, vals);
    for (size_t m = 0; e == KN_OK && m < k; m++) {
        double *v = vals + m * reps;
        size_t ok = 0;
        for (size_t r = 0; r < reps; r++)
            if (isfinite(v[r])) v[ok++] = v[r];
        /* a score undefined on many resamples (a class missing from
           them) has no honest interval */
        if (ok < 2 || (double)ok < 0.9 * (double)reps) {
            s->lo[m] = s->hi[m] = NAN;
            continue;
        }
        qsort(v, ok, sizeof *v, by_value);
        s->lo[m] = quantile(v, ok, (1 - level) / 2);
        s->hi[m] = quantile(v, ok, 1 - (1 - level) / 2);
    }
    kn_free(vals);
    return e;
}

size_t kn_bootstrap_default(size_t rows)
{
    if (rows <= 100000) return 1000;
    size_t b = (size_t)(1e8 / (double)rows);
    return b < 100 ? 100 : b;
}

/* ---- both ---- */

kn_status kn__score_extras(const kn_score_opts *o, const kn_metric_data *d, const kn__slices *sl,
                           kn_scores *s)
{
    s->worst = -1;
    kn_status e = o->bootstrap ? kn__score_intervals(o, d, s) : KN_OK;
    if (e != KN_OK || !sl || !sl->n) return e;
    s->slices = kn_calloc(sl->n, sizeof *s->slices);
    size_t *idx = kn_malloc((d->n ? d->n : 1) * sizeof *idx);
    kn__taken b = {0};
    if (!s->slices || !idx || kn__taken_alloc(&b, d, d->n) != KN_OK) {
        kn_free(idx);
        return KN_ERR_NOMEM;
    }
    s->n_slices = sl->n;
    for (size_t v = 0; e == KN_OK && v < sl->n; v++) {
        kn_scores_slice *out = &s->slices[v];
        out->scores.positive = s->positive;
        out->scores.worst = -1;
        if (!(out->value = kn_strdup(sl->values[v]))) {
            e = KN_ERR_NOMEM;
            break;
        }
        size_t m = 0;
        for (size_t r = 0; r < d->n; r++)
            if (sl->row[r] == (int)v) idx[m++] = r;
        kn_metric_data dv;
        kn__take(d, idx, m, &b, &dv);
        out->scores.rows = m;
        out->scores.roc_auc_average = s->roc_auc_average;
        out->scores.positive_class = s->positive_class;
        /* the overall scores' metrics, each where the slice defines it */
        for (size_t i = 0; e == KN_OK && i < s->n; i++) {
            double val;
            if (kn_metric_compute(s->name[i], &dv, &val) != KN_OK) val = NAN;
            e = kn_scores_add(&out->scores, s->name[i], val, s->higher_is_better[i]);
        }
        if (e == KN_OK && o->bootstrap && m) e = kn__score_intervals(o, &dv, &out->scores);
    }
    kn__taken_free(&b);
    kn_free(idx);
    if (e != KN_OK || !s->n) return e;
    /* the worst slice by the first score, among the big enough ones */
    for (int pass = 0; pass < 2 && s->worst < 0; pass++)
        for (size_t v = 0; v < s->n_slices; v++) {
            const kn_scores *x = &s->slices[v].scores;
            if (!isfinite(x->value[0]) || (pass == 0 && x->rows < KN_SLICE_MIN_ROWS)) continue;
            double worse = s->higher_is_better[0] ? -x->value[0] : x->value[0];
            if (s->worst < 0) {
                s->worst = (int)v;
                continue;
            }
            const kn_scores *w = &s->slices[s->worst].scores;
            if (worse > (s->higher_is_better[0] ? -w->value[0] : w->value[0])) s->worst = (int)v;
        }
    return KN_OK;
}
