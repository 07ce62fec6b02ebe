/* The selection state every selector step keeps (kiln/select.h): the
 * ranking, the keep rule, transform (the kept columns pass), save and load. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/select.h"
#include "learn/select/select-impl.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn__sel_free(void *state)
{
    kn_selection *s = state;
    if (!s) return;
    for (size_t i = 0; s->name && i < s->n; i++) kn_free(s->name[i]);
    kn_free(s->name);
    kn_free(s->score);
    kn_free(s->p_value);
    kn_free(s->rank);
    kn_free(s->keep);
    kn_free((void *)s->method);
    kn_free(s);
}

static kn_selection *sel_alloc(size_t n, const char *method)
{
    kn_selection *s = kn_calloc(1, sizeof *s);
    if (!s) return NULL;
    size_t m = n ? n : 1;
    s->n = n;
    s->name = kn_calloc(m, sizeof *s->name);
    s->score = kn_malloc(m * sizeof *s->score);
    s->p_value = kn_malloc(m * sizeof *s->p_value);
    s->rank = kn_calloc(m, sizeof *s->rank);
    s->keep = kn_calloc(m, sizeof *s->keep);
    s->method = kn_strdup(method);
    if (!s->name || !s->score || !s->p_value || !s->rank || !s->keep || !s->method) {
        kn__sel_free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) s->score[i] = s->p_value[i] = NAN, s->keep[i] = 1;
    s->n_kept = n;
    return s;
}

kn_status kn__sel_new(const kn_frame *x, const size_t *cols, size_t n, const char *method,
                      kn_selection **out)
{
    kn_selection *s = sel_alloc(n, method);
    if (!s) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(s->name[i] = kn_strdup(kn_column_name(kn_frame_col(x, cols[i]))))) {
            kn__sel_free(s);
            return KN_ERR_NOMEM;
        }
    *out = s;
    return KN_OK;
}

/* qsort's context, per thread (folds fit selectors in parallel) */
static _Thread_local const kn_selection *sort_by;

static int better_first(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = sort_by->score[i], y = sort_by->score[j];
    if (isnan(x) != isnan(y)) return isnan(x) ? 1 : -1;
    if (!isnan(x) && x != y) return x > y ? -1 : 1;
    return (i < j) - (i > j); /* ties: the later column first */
}

void kn__sel_rank(kn_selection *s)
{
    size_t *order = kn_malloc((s->n ? s->n : 1) * sizeof *order);
    if (!order) { /* rank stays by position: still a valid ranking */
        for (size_t i = 0; i < s->n; i++) s->rank[i] = i + 1;
        return;
    }
    for (size_t i = 0; i < s->n; i++) order[i] = i;
    sort_by = s;
    qsort(order, s->n, sizeof *order, better_first);
    for (size_t r = 0; r < s->n; r++) s->rank[order[r]] = r + 1;
    kn_free(order);
}

kn_status kn__sel_check_rule(const kn__keep_rule *rule, const char *step)
{
    int given = (rule->k > 0) + (rule->percentile > 0) + (rule->threshold >= 0);
    if (given > 1)
        return kn_fail(KN_ERR_INVALID,
                       "%s: give one of k, percentile and threshold (got %d of them)", step, given);
    return KN_OK;
}

kn_status kn__sel_check_k(const kn__keep_rule *rule, size_t n, const char *step)
{
    if (rule->k > 0 && (size_t)rule->k > n)
        return kn_fail(KN_ERR_INVALID,
                       "%s: k=%lld is more than the %zu candidate columns: give k=%zu or less",
                       step, (long long)rule->k, n, n);
    return KN_OK;
}

kn_status kn__sel_check_k_in(const kn__keep_rule *rule, const kn_frame *x, const size_t *cols,
                             size_t n, const char *target, const char *step)
{
    if (rule->k <= 0 || (size_t)rule->k <= n) return KN_OK;
    size_t tj = SIZE_MAX, others = 0;
    const char *first = NULL;
    if (kn__sel_target(x, target, step, &tj) != KN_OK) tj = SIZE_MAX;
    for (size_t j = 0; j < kn_frame_n_cols(x); j++) {
        const kn_column *c = kn_frame_col(x, j);
        if (j == tj || kn_column_role(c) != KN_ROLE_FEATURE) continue;
        size_t i = 0;
        while (i < n && cols[i] != j) i++;
        if (i < n) continue;
        if (!others++) first = kn_column_name(c);
    }
    if (!others) return kn__sel_check_k(rule, n, step);
    return kn_fail(KN_ERR_INVALID,
                   "%s: k=%lld is more than the %zu candidate columns: give k=%zu or less; %zu "
                   "other feature%s (first: '%s') %s not candidates (by default the numeric "
                   "features: encode text columns first, e.g. onehot_encoder, to score them)",
                   step, (long long)rule->k, n, n, others, others == 1 ? "" : "s", first,
                   others == 1 ? "is" : "are");
}

kn_status kn__sel_keep(kn_selection *s, const kn__keep_rule *rule, int strict, size_t fallback_k,
                       const char *step)
{
    kn_status e = kn__sel_check_k(rule, s->n, step);
    if (e != KN_OK) return e;
    kn__sel_rank(s);
    size_t want = s->n;
    if (rule->k > 0)
        want = (size_t)rule->k;
    else if (rule->percentile > 0) {
        want = (size_t)floor((double)s->n * rule->percentile / 100);
        if (want < 1) want = 1;
    } else if (rule->threshold < 0 && fallback_k)
        want = fallback_k < s->n ? fallback_k : s->n;
    s->n_kept = 0;
    for (size_t i = 0; i < s->n; i++) {
        int keep;
        if (rule->threshold >= 0 && rule->k <= 0 && rule->percentile <= 0)
            keep = !isnan(s->score[i]) &&
                   (strict ? s->score[i] > rule->threshold : s->score[i] >= rule->threshold);
        else
            keep = s->rank[i] <= want;
        s->keep[i] = keep;
        s->n_kept += (size_t)keep;
    }
    return KN_OK;
}

kn_status kn__sel_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const kn_selection *s = kn_step_state(st);
    size_t order[n ? n : 1];
    kn__order_desc(cols, n, order); /* from the rightmost: the others keep their positions */
    for (size_t i = 0; i < n; i++)
        if (!s->keep[order[i]]) {
            kn_status e = kn_frame_remove_column(out, cols[order[i]]);
            if (e != KN_OK) return e;
        }
    return KN_OK;
}

kn_status kn__sel_apply_row(const kn_step *st, kn_step_row *row, const size_t *cols, size_t n)
{
    const kn_selection *s = kn_step_state(st);
    size_t order[n ? n : 1];
    kn__order_desc(cols, n, order);
    for (size_t i = 0; i < n; i++)
        if (!s->keep[order[i]]) kn_step_row_remove(row, cols[order[i]]);
    return KN_OK;
}

kn_status kn__sel_save(const kn_step *st, kn_wbuf *w)
{
    const kn_selection *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_str(w, s->method);
    for (size_t i = 0; i < s->n; i++) {
        kn_wbuf_str(w, s->name[i]);
        kn_wbuf_f64(w, s->score[i]);
        kn_wbuf_f64(w, s->p_value[i]);
        kn_wbuf_u64(w, s->rank[i]);
        kn_wbuf_u32(w, (uint32_t)s->keep[i]);
    }
    return KN_OK;
}

kn_status kn__sel_load(kn_step *st, kn_rbuf *r, size_t n)
{
    uint64_t count = 0;
    char *method = NULL;
    kn_status e = kn_rbuf_u64(r, &count);
    if (e == KN_OK && count != n)
        return kn_fail(KN_ERR_CORRUPT, "%s: state for %llu columns, fitted on %zu",
                       kn_step_name(st), (unsigned long long)count, n);
    if (e == KN_OK) e = kn_rbuf_str(r, &method);
    if (e != KN_OK) return e;
    kn_selection *s = sel_alloc(n, method);
    kn_free(method);
    if (!s) return KN_ERR_NOMEM;
    s->n_kept = 0;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        uint64_t rank = 0;
        uint32_t keep = 0;
        e = kn_rbuf_str(r, &s->name[i]);
        if (e == KN_OK) e = kn_rbuf_f64(r, &s->score[i]);
        if (e == KN_OK) e = kn_rbuf_f64(r, &s->p_value[i]);
        if (e == KN_OK) e = kn_rbuf_u64(r, &rank);
        if (e == KN_OK) e = kn_rbuf_u32(r, &keep);
        s->rank[i] = (size_t)rank;
        s->keep[i] = keep != 0;
        s->n_kept += keep != 0;
    }
    if (e != KN_OK) {
        kn__sel_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

kn_status kn_step_selection(const kn_step *s, const kn_selection **out)
{
    const char *name = kn_step_name(s);
    if (strcmp(name, "select") && strcmp(name, "select_model"))
        return kn_fail(KN_ERR_INVALID,
                       "step '%s' is not a feature selector (select, "
                       "select_model)",
                       name);
    if (!kn_step_is_fitted(s))
        return kn_fail(KN_ERR_INVALID, "%s: the step is not fitted: fit it first", name);
    *out = kn_step_state(s);
    return KN_OK;
}

kn_status kn__sel_target(const kn_frame *x, const char *name, const char *step, size_t *j)
{
    if (name && name[0]) {
        if (kn_frame_find(x, name, j) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "%s: target: ", step);
        return KN_OK;
    }
    for (*j = 0; *j < kn_frame_n_cols(x); (*j)++)
        if (kn_column_role(kn_frame_col(x, *j)) == KN_ROLE_TARGET) return KN_OK;
    return kn_fail(KN_ERR_INVALID,
                   "%s: a selector scores features against the target: name it (--target, "
                   "or the step's target=COLUMN)",
                   step);
}

kn_status kn__sel_matrix(const kn_frame *x, const size_t *cols, size_t n, const char *step,
                         double **out)
{
    size_t rows = kn_frame_n_rows(x);
    double *m = kn_malloc((rows && n ? rows * n : 1) * sizeof *m);
    if (!m) return KN_ERR_NOMEM;
    for (size_t j = 0; j < n; j++) {
        kn_column *c = kn_frame_col(x, cols[j]);
        if (kn_column_type(c) != KN_COL_NUMERIC) {
            kn_free(m);
            return kn_fail(KN_ERR_TYPE,
                           "%s: column '%s' is %s; it scores numeric features (encode "
                           "categorical ones first, e.g. a onehot_encoder step)",
                           step, kn_column_name(c), kn_col_type_name(kn_column_type(c)));
        }
        const double *v = kn_column_f64(c);
        for (size_t i = 0; i < rows; i++) {
            if (isnan(v[i])) {
                kn_free(m);
                return kn_fail(KN_ERR_INVALID,
                               "%s: column '%s', row %zu is missing: impute first (a "
                               "simple_imputer step before the selector)",
                               step, kn_column_name(c), i + 1);
            }
            m[j * rows + i] = v[i];
        }
    }
    *out = m;
    return KN_OK;
}

/* Features of x that were not candidates (the target left out): they pass
 * through unscored; the first one's name into *first. */
static size_t passing_through(const kn_selection *s, const kn_frame *x, const char *target,
                              const char *step, const char **first)
{
    size_t tj = SIZE_MAX, others = 0;
    if (kn__sel_target(x, target, step, &tj) != KN_OK) tj = SIZE_MAX; /* (the fit found it) */
    *first = NULL;
    for (size_t j = 0; j < kn_frame_n_cols(x); j++) {
        const kn_column *c = kn_frame_col(x, j);
        if (j == tj || kn_column_role(c) != KN_ROLE_FEATURE) continue;
        size_t i = 0;
        while (i < s->n && strcmp(s->name[i], kn_column_name(c)) != 0) i++;
        if (i < s->n) continue;
        if (!others++) *first = kn_column_name(c);
    }
    return others;
}

void kn__sel_log(const kn_selection *s, const char *step, const kn_frame *x, const char *target)
{
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < s->n && used < sizeof names - 1; i++)
        if (s->keep[i]) {
            int w =
                snprintf(names + used, sizeof names - used, "%s%s", used ? "," : "", s->name[i]);
            if (w < 0) break;
            used += (size_t)w;
        }
    if (used >= sizeof names - 1) memcpy(names + sizeof names - 4, "...", 4);
    const char *first;
    size_t others = passing_through(s, x, target, step, &first);
    if (others)
        kn_log(KN_LOG_INFO,
               "%s (%s): kept %zu of %zu candidate features: %s; %zu other feature%s (first: "
               "'%s'), not among its columns, pass%s through unscored",
               step, s->method, s->n_kept, s->n, names, others, others == 1 ? "" : "s", first,
               others == 1 ? "es" : "");
    else
        kn_log(KN_LOG_INFO, "%s (%s): kept %zu of %zu features: %s", step, s->method, s->n_kept,
               s->n, names);
}
