/* The filter selector step `select` (kiln/select.h): one score per
 * candidate feature against the target, then a keep rule; or a search over
 * feature sets from correlations (redundancy, cfs). */
#include "kiln/mem.h"
#include "kiln/select.h"
#include "kiln/split.h"
#include "learn/select/select-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { M_F_TEST, M_CHI2, M_MI, M_PEARSON, M_SPEARMAN, M_VARIANCE, M_REDUNDANCY, M_CFS };
static const char *const method_names[] = {"f_test",   "chi2",     "mutual_info", "pearson",
                                           "spearman", "variance", "redundancy",  "cfs"};
enum { T_AUTO, T_CLASS, T_REG };

typedef struct filter_params {
    kn_step_common common;
    int method;
    int64_t k;
    double percentile, threshold;
    int task;
    int64_t n_neighbors, seed;
    double max_corr;
    const char *target;
} filter_params;

static const kn_param_def filter_defs[] = {
    KN_STEP_COMMON_PARAMS(filter_params),
    KN_PARAM_ENUM(filter_params, method, "f_test",
                  "f_test|chi2|mutual_info|pearson|spearman|variance|redundancy|cfs",
                  "the score: ANOVA/regression F, chi2, mutual information, |r|, variance; "
                  "or a set search (redundancy, cfs)"),
    KN_PARAM_INT(filter_params, k, "0", 0, 1e9, "keep the k best (0: not this rule)"),
    KN_PARAM_DOUBLE(filter_params, percentile, "0", 0, 100,
                    "keep this percentage of the features, best first (0: not this rule)"),
    KN_PARAM_DOUBLE(filter_params, threshold, "-1", -1, 1e300,
                    "keep features scoring at least this (variance: above it; -1: not this "
                    "rule). No rule: variance keeps variance > 0, the scores keep the best half"),
    KN_PARAM_ENUM(filter_params, task, "auto", "auto|classification|regression",
                  "the target's kind (auto: a categorical target is classes, a numeric one "
                  "continuous; chi2 always takes classes)"),
    KN_PARAM_INT(filter_params, n_neighbors, "3", 1, 1e6, "mutual_info: neighbours counted"),
    KN_PARAM_INT(filter_params, seed, "0", 0, 1e15, "mutual_info: seed of the tie-breaking jitter"),
    KN_PARAM_DOUBLE(filter_params, max_corr, "0.9", 0, 1,
                    "redundancy: the |r| above which one of two features goes"),
    KN_PARAM_STRING(filter_params, target, "",
                    "the target column (default: the data's target column)"),
    KN_PARAM_END};

static kn_status filter_validate(const void *params)
{
    const filter_params *p = params;
    kn__keep_rule rule = {p->k, p->percentile, p->threshold};
    kn_status e = kn__sel_check_rule(&rule, "select");
    if (e == KN_OK && (p->method == M_REDUNDANCY || p->method == M_CFS) &&
        (p->k > 0 || p->percentile > 0 || p->threshold >= 0))
        e = kn_fail(KN_ERR_INVALID,
                    "select: method=%s chooses its own set; drop k, percentile and threshold",
                    method_names[p->method]);
    if (e == KN_OK && p->method == M_CHI2 && p->task == T_REG)
        e = kn_fail(KN_ERR_INVALID, "select: chi2 scores features against classes; with "
                                    "task=regression use f_test or mutual_info");
    return e;
}

/* The target as numbers (t) and, for classes, codes (y, k). */
typedef struct target {
    double *t;
    int32_t *y;
    size_t k;
    int classes;
} target;

static void target_free(target *t)
{
    kn_free(t->t);
    kn_free(t->y);
}

static kn_status read_target(const kn_frame *x, const filter_params *p, target *out)
{
    size_t j, n = kn_frame_n_rows(x);
    kn_status e = kn__sel_target(x, p->target, "select", &j);
    if (e != KN_OK) return e;
    kn_column *c = kn_frame_col(x, j);
    int categorical = kn_column_type(c) == KN_COL_CATEGORICAL;
    if (!categorical && kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE, "select: target '%s' is %s; give a numeric or categorical one",
                       kn_column_name(c), kn_col_type_name(kn_column_type(c)));
    out->classes = p->method == M_CHI2 || p->task == T_CLASS || (p->task == T_AUTO && categorical);
    if (categorical && p->task == T_REG)
        return kn_fail(KN_ERR_TYPE,
                       "select: target '%s' is categorical; task=regression needs a "
                       "numeric one",
                       kn_column_name(c));
    if (out->classes) {
        e = kn_split_labels(x, kn_column_name(c), &out->y, &out->k);
        if (e != KN_OK) return kn_fail_prefix(e, "select: ");
        if (out->k < 2)
            return kn_fail(KN_ERR_INVALID, "select: target '%s' has a single class",
                           kn_column_name(c));
    }
    if (!(out->t = kn_malloc((n ? n : 1) * sizeof *out->t))) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        out->t[i] = out->classes ? (double)out->y[i] : kn_column_f64(c)[i];
        if (isnan(out->t[i]))
            return kn_fail(KN_ERR_INVALID,
                           "select: target '%s', row %zu is missing: drop those "
                           "rows first",
                           kn_column_name(c), i + 1);
    }
    return KN_OK;
}

/* |r| or eta of each feature with the target: what redundancy and cfs call
 * relevance. */
static kn_status relevance(const double *m, size_t n, size_t p, const target *t, double *rel)
{
    double *scratch = t->classes ? kn_malloc(2 * t->k * sizeof *scratch) : NULL;
    if (t->classes && !scratch) return KN_ERR_NOMEM;
    for (size_t j = 0; j < p; j++)
        rel[j] = t->classes ? kn__sel_eta(m + j * n, n, t->y, t->k, scratch, scratch + t->k)
                            : fabs(kn__sel_pearson(m + j * n, t->t, n));
    kn_free(scratch);
    return KN_OK;
}

/* |r| between every two features: p x p. */
static double *feature_corr(const double *m, size_t n, size_t p)
{
    double *c = kn_malloc((p ? p * p : 1) * sizeof *c);
    if (!c) return NULL;
    for (size_t a = 0; a < p; a++) {
        c[a * p + a] = 1;
        for (size_t b = a + 1; b < p; b++)
            c[a * p + b] = c[b * p + a] = fabs(kn__sel_pearson(m + a * n, m + b * n, n));
    }
    return c;
}

typedef struct pair {
    double r;
    size_t a, b;
} pair;

static int by_r_desc(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->r != q->r) return p->r > q->r ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Drop one of each pair above max_corr, most correlated pairs first,
 * keeping the more relevant (on a tie the earlier column). */
static kn_status redundancy(kn_selection *s, const double *m, size_t n, double max_corr)
{
    size_t p = s->n, np = 0;
    double *c = feature_corr(m, n, p);
    pair *pairs = kn_malloc((p ? p * p : 1) * sizeof *pairs);
    if (!c || !pairs) {
        kn_free(c), kn_free(pairs);
        return KN_ERR_NOMEM;
    }
    for (size_t a = 0; a < p; a++)
        for (size_t b = a + 1; b < p; b++)
            if (c[a * p + b] > max_corr) pairs[np++] = (pair){c[a * p + b], a, b};
    qsort(pairs, np, sizeof *pairs, by_r_desc);
    kn__sel_rank(s);
    for (size_t i = 0; i < np; i++) {
        size_t a = pairs[i].a, b = pairs[i].b;
        if (!s->keep[a] || !s->keep[b]) continue;
        s->keep[s->score[b] > s->score[a] ? a : b] = 0;
    }
    s->n_kept = 0;
    for (size_t j = 0; j < p; j++) s->n_kept += (size_t)s->keep[j];
    kn_free(c), kn_free(pairs);
    return KN_OK;
}

/* Hall's merit of a set: k mean(r_cf) / sqrt(k + k (k - 1) mean(r_ff)),
 * greedy forward while it grows. rank: the order of entry, then the rest
 * by relevance. */
static kn_status cfs(kn_selection *s, const double *m, size_t n)
{
    size_t p = s->n, chosen = 0;
    double *c = feature_corr(m, n, p), merit = 0, sum_cf = 0, sum_ff = 0;
    if (!c) return KN_ERR_NOMEM;
    kn__sel_rank(s); /* by relevance: the order for the rest */
    for (size_t j = 0; j < p; j++) s->keep[j] = 0;
    for (;;) {
        size_t best = p;
        double best_merit = merit, best_ff = 0;
        for (size_t j = 0; j < p; j++) {
            if (s->keep[j]) continue;
            double ff = 0;
            for (size_t i = 0; i < p; i++)
                if (s->keep[i]) ff += c[i * p + j];
            double kk = (double)(chosen + 1), den = kk + 2 * (sum_ff + ff);
            double mj = den > 0 ? (sum_cf + s->score[j]) / sqrt(den) : 0;
            if (mj > best_merit + 1e-12) best = j, best_merit = mj, best_ff = ff;
        }
        if (best == p) break;
        s->keep[best] = 1;
        sum_cf += s->score[best];
        sum_ff += best_ff;
        merit = best_merit;
        chosen++;
        /* entry order first: move best to rank `chosen` */
        size_t old = s->rank[best];
        for (size_t j = 0; j < p; j++)
            if (!s->keep[j] && s->rank[j] < old && s->rank[j] >= chosen) s->rank[j]++;
        s->rank[best] = chosen;
    }
    s->n_kept = chosen;
    kn_free(c);
    return KN_OK;
}

static kn_status filter_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const filter_params *p = kn_step_params(st);
    kn__keep_rule rule = {p->k, p->percentile, p->threshold};
    kn_status e = kn__sel_check_k_in(&rule, x, cols, n, p->target, "select");
    if (e != KN_OK) return e;
    size_t rows = kn_frame_n_rows(x);
    if (rows < 2) return kn_fail(KN_ERR_INVALID, "select: %zu rows; it needs 2 or more", rows);
    target t = {0};
    kn_selection *s = NULL;
    double *m = NULL, *work = NULL;
    e = p->method == M_VARIANCE ? KN_OK : read_target(x, p, &t);
    if (e == KN_OK) e = kn__sel_matrix(x, cols, n, "select", &m);
    if (e == KN_OK) e = kn__sel_new(x, cols, n, method_names[p->method], &s);
    if (e == KN_OK && p->method == M_CHI2 && t.k >= 2)
        e = kn_select_chi2(m, rows, n, t.y, t.k, s->score, s->p_value);
    else if (e == KN_OK && p->method == M_F_TEST)
        e = t.classes ? kn_select_f_classif(m, rows, n, t.y, t.k, s->score, s->p_value)
                      : kn_select_f_regression(m, rows, n, t.t, s->score, s->p_value);
    else if (e == KN_OK && p->method == M_MI)
        e = kn_select_mutual_info(m, rows, n, t.t, t.classes ? t.y : NULL, t.k,
                                  (size_t)p->n_neighbors, (uint64_t)p->seed, s->score);
    else if (e == KN_OK && (p->method == M_PEARSON || p->method == M_SPEARMAN)) {
        if (t.classes && t.k > 2)
            e = kn_fail(KN_ERR_INVALID,
                        "select: %s correlates with a numeric or binary target; this one has "
                        "%zu classes: use f_test or mutual_info",
                        method_names[p->method], t.k);
        if (e == KN_OK && p->method == M_SPEARMAN) {
            work = kn_malloc(rows * sizeof *work);
            e = work ? kn__sel_ranks(t.t, rows, work) : KN_ERR_NOMEM;
            if (e == KN_OK) memcpy(t.t, work, rows * sizeof *work);
            for (size_t j = 0; e == KN_OK && j < n; j++) {
                e = kn__sel_ranks(m + j * rows, rows, work);
                memcpy(m + j * rows, work, rows * sizeof *work);
            }
        }
        for (size_t j = 0; e == KN_OK && j < n; j++) {
            double r = kn__sel_pearson(m + j * rows, t.t, rows);
            s->score[j] = fabs(r);
            s->p_value[j] = kn__sel_pearson_p(r, rows);
        }
    } else if (e == KN_OK && p->method == M_VARIANCE)
        for (size_t j = 0; j < n; j++) {
            const double *v = m + j * rows;
            double mean = 0, ss = 0;
            for (size_t i = 0; i < rows; i++) mean += v[i];
            mean /= (double)rows;
            for (size_t i = 0; i < rows; i++) ss += (v[i] - mean) * (v[i] - mean);
            s->score[j] = ss / (double)rows;
        }
    else if (e == KN_OK) { /* redundancy, cfs */
        e = relevance(m, rows, n, &t, s->score);
        if (e == KN_OK)
            e = p->method == M_CFS ? cfs(s, m, rows) : redundancy(s, m, rows, p->max_corr);
    }
    if (e == KN_OK && p->method != M_CFS && p->method != M_REDUNDANCY) {
        if (p->method == M_VARIANCE && rule.k <= 0 && rule.percentile <= 0 && rule.threshold < 0)
            rule.threshold = 0;
        size_t half = n / 2 ? n / 2 : 1;
        e = kn__sel_keep(s, &rule, p->method == M_VARIANCE, half, "select");
    }
    kn_free(m), kn_free(work);
    target_free(&t);
    if (e != KN_OK) {
        kn__sel_free(s);
        return e;
    }
    kn__sel_log(s, "select", x, p->target);
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt filter_vt = {.default_type = KN_COL_NUMERIC,
                                     .fit = filter_fit,
                                     .transform = kn__sel_apply,
                                     .free_state = kn__sel_free,
                                     .save = kn__sel_save,
                                     .load = kn__sel_load,
                                     .validate = filter_validate,
                                     .transform_row = kn__sel_apply_row};

const kn_component kn__select_filter = {
    KN_COMP_STEP,
    "select",
    "keep the features that score best against the target (F, chi2, mutual information, "
    "correlation, variance, redundancy, CFS)",
    filter_defs,
    sizeof(filter_params),
    &filter_vt};
