/* The model-driven selector step `select_model` (kiln/select.h): recursive
 * feature elimination (with inner cross-validation to choose the count),
 * sequential forward and backward selection, and the embedded rankings
 * (coefficients, tree gain, permutation importance on validation rows).
 * Each follows scikit-learn's algorithm of the same name (RFE, RFECV,
 * SequentialFeatureSelector, SelectFromModel); inner folds are unshuffled
 * k-fold, stratified for classes, as scikit-learn's cv=5 default. */
#include "core/ctx-impl.h"
#include "kiln/evaluate.h"
#include "kiln/importance.h"
#include "kiln/mem.h"
#include "kiln/select.h"
#include "kiln/split.h"
#include "learn/select/select-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W_RFE, W_RFECV, W_FORWARD, W_BACKWARD, W_COEF, W_IMPORTANCE, W_PERMUTATION };
static const char *const wmethod_names[] = {"rfe",  "rfecv",      "forward",    "backward",
                                            "coef", "importance", "permutation"};

typedef struct wrap_params {
    kn_step_common common;
    int method;
    const char *model, *model_params;
    int64_t k;
    double percentile, threshold;
    int64_t step, folds, min_features;
    const char *metric;
    int64_t repeats;
    double valid_share;
    int64_t seed;
    const char *target;
} wrap_params;

static const kn_param_def wrap_defs[] = {
    KN_STEP_COMMON_PARAMS(wrap_params),
    KN_PARAM_ENUM(wrap_params, method, "rfe",
                  "rfe|rfecv|forward|backward|coef|importance|permutation",
                  "recursive elimination (rfecv: count by inner CV), sequential selection, or "
                  "a ranking by |coefficient|, tree gain or permutation importance"),
    KN_PARAM_STRING(wrap_params, model, "",
                    "the model (default: logistic_regression for classes, linear_regression "
                    "otherwise; random_forest for importance)"),
    KN_PARAM_STRING(wrap_params, model_params, "",
                    "the model's parameters, comma-separated name=value"),
    KN_PARAM_INT(wrap_params, k, "0", 0, 1e9,
                 "keep the k best (rfe, forward, backward: default half; 0: not this rule)"),
    KN_PARAM_DOUBLE(wrap_params, percentile, "0", 0, 100,
                    "keep this percentage of the features, best first (0: not this rule)"),
    KN_PARAM_DOUBLE(wrap_params, threshold, "-1", -1, 1e300,
                    "coef, importance, permutation: keep scores of at least this (-1: not this "
                    "rule; none given: coef keeps |coef| >= 1e-5, the others the mean or above)"),
    KN_PARAM_INT(wrap_params, step, "1", 1, 1e9, "rfe, rfecv: features removed per round"),
    KN_PARAM_INT(wrap_params, folds, "5", 2, 100, "rfecv, forward, backward: inner CV folds"),
    KN_PARAM_INT(wrap_params, min_features, "1", 1, 1e9, "rfecv: the fewest features tried"),
    KN_PARAM_STRING(wrap_params, metric, "",
                    "rfecv, forward, backward: the score (default accuracy for classes, r2 "
                    "otherwise)"),
    KN_PARAM_INT(wrap_params, repeats, "5", 1, 1e6, "permutation: shuffles per feature"),
    KN_PARAM_DOUBLE(wrap_params, valid_share, "0.25", 0.01, 0.9,
                    "permutation: share of the rows held out to measure on"),
    KN_PARAM_INT(wrap_params, seed, "0", 0, 1e15, "permutation: seed of the split and shuffles"),
    KN_PARAM_STRING(wrap_params, target, "",
                    "the target column (default: the data's target column)"),
    KN_PARAM_END};

static kn_status wrap_validate(const void *params)
{
    const wrap_params *p = params;
    kn__keep_rule rule = {p->k, p->percentile, p->threshold};
    kn_status e = kn__sel_check_rule(&rule, "select_model");
    if (e == KN_OK && p->method == W_RFECV && (p->k > 0 || p->percentile > 0 || p->threshold >= 0))
        e = kn_fail(KN_ERR_INVALID, "select_model: rfecv chooses the count by cross-validation; "
                                    "drop k, percentile and threshold (min_features bounds it)");
    if (e == KN_OK && p->threshold >= 0 && p->method <= W_BACKWARD)
        e = kn_fail(KN_ERR_INVALID,
                    "select_model: threshold goes with coef, importance and permutation; %s "
                    "keeps k features",
                    wmethod_names[p->method]);
    return e;
}

/* What every fit needs. */
typedef struct wctx {
    const wrap_params *p;
    const kn_frame *x;
    const size_t *cols; /* candidates in x */
    size_t n;           /* candidates */
    size_t target;      /* in x */
    const char *target_name;
    kn_model *tpl; /* unfitted template */
    int classes;
    const char *metric;
    size_t *buf; /* n + 1 column indices */
} wctx;

/* A clone of the template fitted on the rows of f (x's columns) and the
 * candidates in mask. */
static kn_status fit_subset(const wctx *c, const kn_frame *f, const int *mask, kn_model **out)
{
    size_t m = 0;
    for (size_t j = 0; j < c->n; j++)
        if (mask[j]) c->buf[m++] = c->cols[j];
    c->buf[m++] = c->target;
    kn_frame *sub = NULL;
    kn_model *model = NULL;
    kn_status e = kn_frame_select_cols(f, c->buf, m, &sub);
    if (e == KN_OK) e = kn_model_clone(c->tpl, 0, &model);
    if (e == KN_OK) e = kn_model_fit(model, sub, c->target_name, NULL);
    kn_frame_free(sub);
    if (e != KN_OK) {
        kn_model_free(model);
        return e;
    }
    *out = model;
    return KN_OK;
}

/* The score of model (fitted on mask) on the rows of f, signed so that
 * higher is better. */
static kn_status score_on(const wctx *c, const kn_model *m, const kn_frame *f, double *out)
{
    kn_score_opts o = {.metrics = &c->metric, .n_metrics = 1};
    kn_scores s = {0};
    kn_status e = kn_model_score_with(m, f, &o, &s);
    if (e == KN_OK && s.n != 1) e = kn_fail(KN_ERR_INTERNAL, "select_model: no score");
    if (e == KN_OK) *out = s.higher_is_better[0] ? s.value[0] : -s.value[0];
    kn_scores_free(&s);
    return e;
}

/* The candidate index of the model's feature j. */
static size_t candidate_of(const wctx *c, const char *name)
{
    for (size_t j = 0; j < c->n; j++)
        if (!strcmp(kn_column_name(kn_frame_col(c->x, c->cols[j])), name)) return j;
    return c->n;
}

/* |coefficient| (summed over a multi-class model's rows) or gain
 * importance per candidate in mask (others 0). */
static kn_status importances(const wctx *c, const kn_model *m, double *imp)
{
    size_t p = kn_model_n_features(m), rows = kn_model_coef_rows(m);
    for (size_t j = 0; j < c->n; j++) imp[j] = 0;
    double *v = kn_calloc((rows ? rows : 1) * (p ? p : 1) + rows + 1, sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    if (rows)
        e = kn_model_coefficients(m, v, v + rows * p);
    else if (kn_model_has_importances(m))
        e = kn_model_importances(m, v), rows = 1;
    else
        e = kn_fail(KN_ERR_UNSUPPORTED,
                    "select_model: model '%s' has neither coefficients nor importances: use "
                    "method=permutation, forward or backward, or a linear or tree model",
                    kn_model_name(m));
    for (size_t j = 0; e == KN_OK && j < p; j++) {
        size_t at = candidate_of(c, kn_model_feature(m, j));
        if (at == c->n) continue;
        for (size_t r = 0; r < rows; r++) imp[at] += fabs(v[r * p + j]);
    }
    kn_free(v);
    return e;
}

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int by_v(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* RFE on the rows of train down to `stop` features: ranking (1 = kept,
 * then by elimination, later is better); with test, path[i] the score of
 * the i-th set (n, n - step, ..., stop) on it. */
static kn_status rfe(const wctx *c, const kn_frame *train, const kn_frame *test, size_t stop,
                     size_t *ranking, double *path, size_t *n_path)
{
    int *mask = kn_malloc(c->n * sizeof *mask);
    double *imp = kn_malloc(c->n * sizeof *imp);
    keyed *order = kn_malloc(c->n * sizeof *order);
    kn_status e = mask && imp && order ? KN_OK : KN_ERR_NOMEM;
    size_t alive = c->n, np = 0;
    for (size_t j = 0; e == KN_OK && j < c->n; j++) mask[j] = 1, ranking[j] = 1;
    while (e == KN_OK) {
        kn_model *m = NULL;
        e = fit_subset(c, train, mask, &m);
        if (e == KN_OK && test) e = score_on(c, m, test, &path[np++]);
        if (e == KN_OK && alive > stop) e = importances(c, m, imp);
        kn_model_free(m);
        if (e != KN_OK || alive <= stop) break;
        size_t q = 0;
        for (size_t j = 0; j < c->n; j++)
            if (mask[j]) order[q++] = (keyed){imp[j], j};
        qsort(order, q, sizeof *order, by_v);
        size_t drop = (size_t)c->p->step < alive - stop ? (size_t)c->p->step : alive - stop;
        for (size_t t = 0; t < drop; t++) mask[order[t].i] = 0;
        alive -= drop;
        for (size_t j = 0; j < c->n; j++)
            if (!mask[j]) ranking[j]++;
    }
    if (n_path) *n_path = np;
    kn_free(mask), kn_free(imp), kn_free(order);
    return e;
}

/* s from RFE's ranking (scikit-learn's ranking_: 1 kept, then 2 for the
 * last eliminated, ...): score = 1 / ranking_; rank unique, by ranking_
 * and then by position. */
static void set_rfe_ranking(kn_selection *s, const size_t *ranking, size_t kept)
{
    size_t next = 1, top = 1;
    for (size_t j = 0; j < s->n; j++) top = ranking[j] > top ? ranking[j] : top;
    for (size_t r = 1; r <= top; r++)
        for (size_t j = 0; j < s->n; j++)
            if (ranking[j] == r) s->rank[j] = next++;
    for (size_t j = 0; j < s->n; j++) {
        s->keep[j] = ranking[j] == 1;
        s->score[j] = 1.0 / (double)ranking[j];
    }
    s->n_kept = kept;
}

/* The inner folds over x's rows. */
static kn_status inner_folds(const wctx *c, kn_folds *folds)
{
    int32_t *labels = NULL;
    size_t k = 0;
    kn_split_opts o;
    kn_split_opts_default(&o);
    o.kind = c->classes ? KN_SPLIT_STRATIFIED : KN_SPLIT_KFOLD;
    o.folds = (size_t)c->p->folds;
    o.shuffle = 0;
    kn_status e = c->classes ? kn_split_labels(c->x, c->target_name, &labels, &k) : KN_OK;
    if (e == KN_OK) e = kn_split_folds(kn_frame_n_rows(c->x), labels, &o, folds);
    kn_free(labels);
    return e;
}

/* Mean inner-CV score of the candidates in mask. */
static kn_status cv_score(const wctx *c, const kn_folds *folds, const int *mask, double *out)
{
    double sum = 0;
    kn_status e = KN_OK;
    for (size_t f = 0; e == KN_OK && f < folds->k; f++) {
        kn_frame *tr = NULL, *te = NULL;
        kn_model *m = NULL;
        double s = 0;
        const kn_fold *fd = &folds->fold[f];
        e = kn_frame_select_rows(c->x, fd->train, fd->n_train, &tr);
        if (e == KN_OK) e = kn_frame_select_rows(c->x, fd->test, fd->n_test, &te);
        if (e == KN_OK) e = fit_subset(c, tr, mask, &m);
        if (e == KN_OK) e = score_on(c, m, te, &s);
        sum += s;
        kn_model_free(m), kn_frame_free(tr), kn_frame_free(te);
    }
    *out = sum / (double)folds->k;
    return e;
}

/* RFECV: the mean fold score along each fold's elimination path picks the
 * count (the fewest features among equal bests); then RFE on all rows. */
static kn_status rfecv(const wctx *c, kn_selection *s)
{
    size_t stop = (size_t)c->p->min_features < c->n ? (size_t)c->p->min_features : c->n;
    size_t steps = c->n, np = 0;
    kn_folds folds = {0};
    double *sum = kn_calloc(steps + 1, sizeof *sum), *path = kn_malloc((steps + 1) * sizeof *path);
    size_t *rank = kn_malloc(c->n * sizeof *rank);
    kn_status e = sum && path && rank ? inner_folds(c, &folds) : KN_ERR_NOMEM;
    for (size_t f = 0; e == KN_OK && f < folds.k; f++) {
        kn_frame *tr = NULL, *te = NULL;
        const kn_fold *fd = &folds.fold[f];
        e = kn_frame_select_rows(c->x, fd->train, fd->n_train, &tr);
        if (e == KN_OK) e = kn_frame_select_rows(c->x, fd->test, fd->n_test, &te);
        if (e == KN_OK) e = rfe(c, tr, te, stop, rank, path, &np);
        for (size_t i = 0; e == KN_OK && i < np; i++) sum[i] += path[i];
        kn_frame_free(tr), kn_frame_free(te);
    }
    size_t best = 0;
    for (size_t i = 1; e == KN_OK && i < np; i++)
        if (sum[i] >= sum[best]) best = i; /* the last of equal bests: fewest features */
    size_t count = c->n - best * (size_t)c->p->step;
    if (count < stop) count = stop;
    if (e == KN_OK) e = rfe(c, c->x, NULL, count, rank, NULL, NULL);
    if (e == KN_OK) set_rfe_ranking(s, rank, count);
    kn_folds_free(&folds);
    kn_free(sum), kn_free(path), kn_free(rank);
    return e;
}

/* Sequential selection: each round adds (forward) or removes (backward)
 * the feature whose set scores best in inner CV; score = that set's mean
 * CV score at the feature's round. */
static kn_status sequential(const wctx *c, kn_selection *s, size_t k, int forward)
{
    kn_folds folds = {0};
    int *mask = kn_malloc(c->n * sizeof *mask), *trial = kn_malloc(c->n * sizeof *trial);
    kn_status e = mask && trial ? inner_folds(c, &folds) : KN_ERR_NOMEM;
    size_t rounds = forward ? k : c->n - k;
    for (size_t j = 0; e == KN_OK && j < c->n; j++) mask[j] = !forward, s->rank[j] = 0;
    for (size_t r = 0; e == KN_OK && r < rounds; r++) {
        size_t best = c->n;
        double best_score = -INFINITY;
        for (size_t j = 0; e == KN_OK && j < c->n; j++) {
            if (mask[j] != !forward) continue;
            memcpy(trial, mask, c->n * sizeof *trial);
            trial[j] = forward;
            double sc = 0;
            e = cv_score(c, &folds, trial, &sc);
            if (e == KN_OK && (best == c->n || sc > best_score)) best = j, best_score = sc;
        }
        if (e != KN_OK) break;
        mask[best] = forward;
        s->score[best] = best_score;
        /* forward: entry order; backward: the first removed ranks last */
        s->rank[best] = forward ? r + 1 : c->n - r;
    }
    /* the rest: backward's kept set, or forward's never-added, by position */
    for (size_t j = 0, next = forward ? k + 1 : 1; e == KN_OK && j < c->n; j++)
        if (!s->rank[j]) s->rank[j] = next++;
    for (size_t j = 0; e == KN_OK && j < c->n; j++) s->keep[j] = mask[j];
    s->n_kept = k;
    kn_folds_free(&folds);
    kn_free(mask), kn_free(trial);
    return e;
}

/* Permutation importance of a model fitted on a seeded share of the rows,
 * measured on the rest. */
static kn_status permutation(const wctx *c, kn_selection *s)
{
    size_t n = kn_frame_n_rows(c->x), *parts[2] = {NULL, NULL}, sizes[2];
    int32_t *labels = NULL;
    size_t k = 0;
    double shares[2] = {1 - c->p->valid_share, c->p->valid_share};
    kn_status e = c->classes ? kn_split_labels(c->x, c->target_name, &labels, &k) : KN_OK;
    if (e == KN_OK) e = kn_split_shares(n, labels, shares, 2, (uint64_t)c->p->seed, parts, sizes);
    kn_frame *tr = NULL, *va = NULL;
    kn_model *m = NULL;
    int *all = kn_malloc(c->n * sizeof *all);
    double *mean = kn_malloc(c->n * sizeof *mean), *sd = kn_malloc(c->n * sizeof *sd);
    if (e == KN_OK && (!all || !mean || !sd)) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < c->n; j++) all[j] = 1;
    if (e == KN_OK) e = kn_frame_select_rows(c->x, parts[0], sizes[0], &tr);
    if (e == KN_OK) e = kn_frame_select_rows(c->x, parts[1], sizes[1], &va);
    if (e == KN_OK) e = fit_subset(c, tr, all, &m);
    if (e == KN_OK && kn_model_n_features(m) != c->n)
        e = kn_fail(KN_ERR_UNSUPPORTED, "select_model: permutation needs one model feature per "
                                        "candidate column");
    if (e == KN_OK)
        e = kn_permutation_importance(m, va, (size_t)c->p->repeats, (uint64_t)c->p->seed, mean, sd);
    for (size_t j = 0; e == KN_OK && j < c->n; j++) {
        size_t at = candidate_of(c, kn_model_feature(m, j));
        if (at < c->n) s->score[at] = mean[j];
    }
    kn_model_free(m), kn_frame_free(tr), kn_frame_free(va);
    kn_free(parts[0]), kn_free(parts[1]), kn_free(labels);
    kn_free(all), kn_free(mean), kn_free(sd);
    return e;
}

/* The template model: named or the default for the task and method. */
static kn_status make_model(const wrap_params *p, int classes, kn_model **out)
{
    const char *name = p->model[0]                 ? p->model
                       : p->method == W_IMPORTANCE ? "random_forest"
                       : classes                   ? "logistic_regression"
                                                   : "linear_regression";
    kn_model *m = NULL;
    kn_status e = kn_model_new(name, &m);
    char *buf = e == KN_OK ? kn_strdup(p->model_params) : NULL;
    if (e == KN_OK && !buf) e = KN_ERR_NOMEM;
    for (char *t = buf, *next; e == KN_OK && t && *t; t = next) {
        next = strchr(t, ',');
        if (next) *next++ = '\0';
        if (*t) e = kn_model_set(m, t);
    }
    kn_free(buf);
    if (e != KN_OK) {
        kn_model_free(m);
        return kn_fail_prefix(e, "select_model: model_params: ");
    }
    *out = m;
    return KN_OK;
}

static kn_status wrap_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const wrap_params *p = kn_step_params(st);
    kn__keep_rule rule = {p->k, p->percentile, p->threshold};
    kn_status e = kn__sel_check_k_in(&rule, x, cols, n, p->target, "select_model");
    if (e != KN_OK) return e;
    if (n == 0) return kn_fail(KN_ERR_INVALID, "select_model: no candidate columns");
    wctx c = {.p = p, .x = x, .cols = cols, .n = n};
    e = kn__sel_target(x, p->target, "select_model", &c.target);
    if (e != KN_OK) return e;
    kn_column *tc = kn_frame_col(x, c.target);
    c.target_name = kn_column_name(tc);
    kn_selection *s = NULL;
    double *m = NULL;
    c.buf = kn_malloc((n + 1) * sizeof *c.buf);
    if (!c.buf) return KN_ERR_NOMEM;
    e = kn__sel_matrix(x, cols, n, "select_model", &m); /* numeric, nothing missing */
    kn_free(m);
    if (e == KN_OK) e = kn__sel_new(x, cols, n, wmethod_names[p->method], &s);
    /* classes: a categorical target, or whatever the model classifies */
    if (e == KN_OK) {
        c.classes = kn_column_type(tc) == KN_COL_CATEGORICAL;
        e = make_model(p, c.classes, &c.tpl);
    }
    if (e == KN_OK) e = kn_model_choose_task(c.tpl, x, c.target_name, NULL);
    if (e == KN_OK) c.classes = kn_model_task(c.tpl) == KN_TASK_CLASSIFICATION;
    c.metric = p->metric[0] ? p->metric : c.classes ? "accuracy" : "r2";
    size_t half = n / 2 ? n / 2 : 1, k = p->k > 0 ? (size_t)p->k : half;
    if (p->percentile > 0) {
        k = (size_t)floor((double)n * p->percentile / 100);
        if (k < 1) k = 1;
    }
    /* the inner fits' info lines (hundreds of "converged") stay out; the
     * step logs its kept set once it is done */
    kn__log_quiet_info(1);
    if (e == KN_OK && p->method == W_RFE) {
        size_t *rank = kn_malloc(n * sizeof *rank);
        e = rank ? rfe(&c, x, NULL, k, rank, NULL, NULL) : KN_ERR_NOMEM;
        if (e == KN_OK) set_rfe_ranking(s, rank, k);
        kn_free(rank);
    } else if (e == KN_OK && p->method == W_RFECV)
        e = rfecv(&c, s);
    else if (e == KN_OK && (p->method == W_FORWARD || p->method == W_BACKWARD))
        e = sequential(&c, s, k, p->method == W_FORWARD);
    else if (e == KN_OK) { /* embedded rankings */
        if (p->method == W_PERMUTATION)
            e = permutation(&c, s);
        else {
            int *all = kn_malloc(n * sizeof *all);
            kn_model *fit = NULL;
            e = all ? KN_OK : KN_ERR_NOMEM;
            for (size_t j = 0; e == KN_OK && j < n; j++) all[j] = 1;
            if (e == KN_OK) e = fit_subset(&c, x, all, &fit);
            if (e == KN_OK) e = importances(&c, fit, s->score);
            kn_model_free(fit);
            kn_free(all);
        }
        if (e == KN_OK && rule.k <= 0 && rule.percentile <= 0 && rule.threshold < 0) {
            double mean = 0;
            for (size_t j = 0; j < n; j++) mean += s->score[j];
            rule.threshold = p->method == W_COEF ? 1e-5 : mean / (double)n;
            if (rule.threshold < 0) rule.threshold = 0;
        }
        if (e == KN_OK) e = kn__sel_keep(s, &rule, 0, 0, "select_model");
    }
    kn__log_quiet_info(-1);
    kn_model_free(c.tpl);
    kn_free(c.buf);
    if (e != KN_OK) {
        kn__sel_free(s);
        return e;
    }
    kn__sel_log(s, "select_model", x, p->target);
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt wrap_vt = {.default_type = KN_COL_NUMERIC,
                                   .fit = wrap_fit,
                                   .transform = kn__sel_apply,
                                   .free_state = kn__sel_free,
                                   .save = kn__sel_save,
                                   .load = kn__sel_load,
                                   .validate = wrap_validate,
                                   .transform_row = kn__sel_apply_row};

const kn_component kn__select_model = {
    KN_COMP_STEP,
    "select_model",
    "keep the features a model finds useful (RFE, RFECV, sequential forward/backward, "
    "coefficients, tree gain, permutation importance)",
    wrap_defs,
    sizeof(wrap_params),
    &wrap_vt};
