/* Cross-validation (see kiln/cv.h): folds from kiln/split.h; each fold
 * fits a fresh pipeline (the spec's steps and model) on its training rows
 * and scores its test rows. A fold's failure is reported with its number
 * after every fold has finished. */
#include "kiln/cv.h"
#include "core/ctx-impl.h"
#include "core/threads.h"
#include "learn/eval/score-impl.h"
#include "learn/learn-impl.h"
#include "pipeline/pipeline-impl.h"
#include "kiln/pipeline.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "kiln/step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this share of the rows the smallest class makes accuracy flatter
 * (the headline warning); the fit verdict then judges by balanced accuracy. */
#define MINORITY_SHARE 0.2

void kn_cv_result_free(kn_cv_result *r)
{
    kn_free((void *)r->name);
    kn_free(r->higher_is_better);
    kn_free(r->mean);
    kn_free(r->std);
    kn_free(r->score);
    kn_free(r->n_train);
    kn_free(r->n_test);
    kn_free(r->fit_seconds);
    kn_free(r->train_score);
    kn_free(r->train_mean);
    kn_free(r->train_std);
    kn_free(r->baseline_score);
    kn_free(r->baseline_mean);
    kn_free(r->train_baseline_mean);
    kn_free(r->positive_class);
    memset(r, 0, sizeof *r);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct fold_out {
    kn_status status;
    char *error;                       /* the fold thread's message */
    kn_scores scores, train, baseline; /* on the test rows, the training rows; the baseline's */
    kn_scores train_baseline;          /* the baseline's on the training rows */
    char *positive; /* the positive class's label (binary), copied from the model */
    double seconds;
} fold_out;

/* The folds' template pipeline: the spec's steps and model, unfitted (a
 * bad step or parameter is reported once, before any fold). */
static kn_status fold_pipeline(const kn_cv_spec *s, kn_pipeline **out)
{
    kn_pipeline *p = NULL;
    kn_status e = kn_pipeline_new(&p);
    for (size_t i = 0; e == KN_OK && i < s->n_steps; i++)
        e = kn_pipeline_add_step_spec(p, s->steps[i]);
    if (e == KN_OK) e = kn_pipeline_set_model_spec(p, s->model, s->params, s->n_params);
    if (e == KN_OK && s->ensemble) e = kn__ensemble_copy(s->ensemble, p);
    if (e == KN_OK) e = kn_pipeline_set_target(p, s->target, s->weight);
    if (e != KN_OK) {
        kn_pipeline_free(p);
        return e;
    }
    *out = p;
    return KN_OK;
}

/* The fitted pipeline's scores on its own training rows: from the
 * outputs the model's fit left on them when it could (a pipeline without
 * steps fits its model on `train` itself; the outputs are the bits
 * predicting would give), else predicted. */
static kn_status score_train(const kn_pipeline *p, const kn_frame *train, const kn_score_opts *so,
                             kn_scores *out)
{
    size_t rows = 0;
    const double *given =
        p->model && !p->n_steps && !p->n_members ? kn__model_fit_output(p->model, &rows) : NULL;
    if (!given || rows != kn_frame_n_rows(train)) return kn_pipeline_score(p, train, so, out);
    return kn__model_score_outputs(p->model, train, so, NULL, given, out);
}

/* Fit a fresh copy of the template on `train`; score it on `test`. */
static kn_status run_fold(const kn_frame *train, const kn_frame *test, const kn_pipeline *tpl,
                          const kn_cv_spec *s, kn__fit_share *share, fold_out *out)
{
    kn_pipeline *p = NULL;
    double t0 = now_seconds();
    kn_status e = kn_pipeline_clone(tpl, 0, &p);
    /* (without steps or members the model fits the fold's own rows) */
    int own_rows = e == KN_OK && p->model && !p->n_steps && !p->n_members;
    if (own_rows && !s->skip_train_scores) kn__model_keep_fit_output(p->model, 1);
    if (own_rows) kn__model_use_fit_share(p->model, share);
    if (e == KN_OK) e = kn_pipeline_fit(p, train, NULL);
    out->seconds = now_seconds() - t0;
    kn_score_opts so = {.weight = s->weight,
                        .positive_class = s->positive_class,
                        .metrics = s->metrics,
                        .n_metrics = s->n_metrics};
    if (e == KN_OK) e = kn_pipeline_score(p, test, &so, &out->scores);
    if (e == KN_OK && !s->skip_train_scores) e = score_train(p, train, &so, &out->train);
    if (e == KN_OK)
        e = kn_model_score_baseline(kn_pipeline_model(p), train, test, s->weight, &out->scores,
                                    &out->baseline);
    if (e == KN_OK && !s->skip_train_scores) /* what the verdict measures train skill from */
        e = kn_model_score_baseline(kn_pipeline_model(p), train, train, s->weight, &out->train,
                                    &out->train_baseline);
    if (e == KN_OK && out->scores.positive_class &&
        !(out->positive = kn_strdup(out->scores.positive_class)))
        e = KN_ERR_NOMEM;
    /* borrowed from the model */
    out->scores.positive_class = out->train.positive_class = out->baseline.positive_class = NULL;
    out->train_baseline.positive_class = NULL;
    kn_pipeline_free(p);
    return e;
}

static int by_key(const void *a, const void *b)
{
    const double *x = a, *y = b; /* (key, row) pairs: stable by row on ties */
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

kn_status kn_cv_time_order(const kn_frame *f, const char *column, size_t **order)
{
    size_t j, n = kn_frame_n_rows(f);
    char hint[160];
    if (kn_frame_find(f, column, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "order column '%s' is not in the data%s", column,
                       kn_frame_did_you_mean(f, column, hint, sizeof hint));
    kn_column *c = kn_frame_col(f, j);
    kn_col_type t = kn_column_type(c);
    if (t != KN_COL_NUMERIC && t != KN_COL_TIMESTAMP)
        return kn_fail(KN_ERR_TYPE, "order column '%s' is %s; give a numeric or timestamp column",
                       column, kn_col_type_name(t));
    double *pairs = kn_malloc((n ? 2 * n : 1) * sizeof *pairs);
    size_t *o = kn_malloc((n ? n : 1) * sizeof *o);
    if (!pairs || !o) {
        kn_free(pairs), kn_free(o);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (kn_column_is_missing(c, i)) {
            kn_free(pairs), kn_free(o);
            return kn_fail(KN_ERR_INVALID, "order column '%s', row %zu is missing", column, i + 1);
        }
        pairs[2 * i] = t == KN_COL_NUMERIC ? kn_column_f64(c)[i] : (double)kn_column_ts(c)[i];
        pairs[2 * i + 1] = (double)i;
    }
    qsort(pairs, n, 2 * sizeof *pairs, by_key);
    for (size_t i = 0; i < n; i++) o[i] = (size_t)pairs[2 * i + 1];
    kn_free(pairs);
    *order = o;
    return KN_OK;
}

/* The folds of s->split over f, as row indices of f. */
static kn_status make_folds(const kn_frame *f, const kn_cv_spec *s, kn_folds *folds)
{
    size_t n = kn_frame_n_rows(f), k = 0, *order = NULL;
    int32_t *labels = NULL;
    kn_status e = KN_OK;
    if (s->split.kind == KN_SPLIT_STRATIFIED) e = kn_split_labels(f, s->target, &labels, &k);
    if (s->split.kind == KN_SPLIT_GROUP) {
        if (!s->groups)
            return kn_fail(KN_ERR_INVALID,
                           "group k-fold needs a column of groups (cv option groups)");
        e = kn_split_labels(f, s->groups, &labels, &k);
    }
    if (e == KN_OK && s->split.kind == KN_SPLIT_TIME && s->order_by)
        e = kn_cv_time_order(f, s->order_by, &order);
    if (e == KN_OK) e = kn_split_folds(n, labels, &s->split, folds);
    for (size_t i = 0; e == KN_OK && s->shuffle_train_rows && i < folds->k; i++) {
        kn_fold *fo = &folds->fold[i];
        kn_rng g;
        kn_rng_init_stream(&g, s->split.seed, i);
        for (size_t r = fo->n_train; r > 1; r--) {
            size_t j = (size_t)kn_rng_below(&g, r), t = fo->train[r - 1];
            fo->train[r - 1] = fo->train[j];
            fo->train[j] = t;
        }
    }
    for (size_t i = 0; e == KN_OK && order && i < folds->k; i++) {
        kn_fold *fo = &folds->fold[i];
        for (size_t r = 0; r < fo->n_train; r++) fo->train[r] = order[fo->train[r]];
        for (size_t r = 0; r < fo->n_test; r++) fo->test[r] = order[fo->test[r]];
    }
    kn_free(labels);
    kn_free(order);
    return e;
}

/* f with the target, weight, groups and order columns taken out of the
 * features (so that steps leave them alone). */
static kn_status mark_roles(const kn_frame *f, const kn_cv_spec *s, kn_frame **out)
{
    kn_status e = kn_frame_copy(f, out);
    size_t j;
    if (e == KN_OK && kn_frame_find(*out, s->target, &j) == KN_OK)
        kn_column_set_role(kn_frame_col(*out, j), KN_ROLE_TARGET);
    if (e == KN_OK && s->weight && kn_frame_find(*out, s->weight, &j) == KN_OK)
        kn_column_set_role(kn_frame_col(*out, j), KN_ROLE_WEIGHT);
    if (e == KN_OK && s->groups && kn_frame_find(*out, s->groups, &j) == KN_OK)
        kn_column_set_role(kn_frame_col(*out, j), KN_ROLE_ID);
    if (e == KN_OK && s->order_by && kn_frame_find(*out, s->order_by, &j) == KN_OK)
        kn_column_set_role(kn_frame_col(*out, j), KN_ROLE_TIME);
    return e;
}

/* The training rows a fold fits on: all n, or a learning curve's share. */
static size_t fold_train_rows(const kn_cv_spec *s, size_t n)
{
    size_t m = s->train_rows ? s->train_rows
               : s->train_fraction > 0 && s->train_fraction < 1
                   ? (size_t)floor(s->train_fraction * (double)n)
                   : n;
    return m > n ? n : m < 1 && n ? 1 : m;
}

/* Mean and population standard deviation (as sklearn) of k values a
 * stride apart. */
static void mean_std(const double *v, size_t stride, size_t k, double *mean, double *std)
{
    double sum = 0, ss = 0;
    for (size_t i = 0; i < k; i++) sum += v[i * stride];
    *mean = sum / (double)k;
    for (size_t i = 0; i < k; i++) {
        double d = v[i * stride] - *mean;
        ss += d * d;
    }
    *std = sqrt(ss / (double)k);
}

/* The first k folds' results into r. */
/* The train/validation/baseline evidence of metric m, for kn_fit_judge. */
static kn_fit_evidence evidence_of(const kn_cv_result *r, size_t m)
{
    return (kn_fit_evidence){r->name[m],
                             r->train_mean[m],
                             r->mean[m],
                             r->std[m],
                             r->baseline_mean[m],
                             r->train_baseline_mean[m],
                             r->higher_is_better[m]};
}

static kn_status collect(const kn_cv_spec *s, const kn_folds *folds, size_t k, fold_out *fo,
                         kn_cv_result *r)
{
    for (size_t i = 0; i < k; i++)
        if (fo[i].status != KN_OK)
            return kn_fail(fo[i].status, "cross-validation fold %zu of %zu: %s", i + 1, k,
                           fo[i].error ? fo[i].error : "failed");
    r->k = k;
    r->k_planned = folds->k;
    r->stopped = k < folds->k;
    r->n_scores = fo[0].scores.n;
    r->roc_auc_average = fo[0].scores.roc_auc_average;
    if (fo[0].positive && !(r->positive_class = kn_strdup(fo[0].positive))) return KN_ERR_NOMEM;
    size_t ns = r->n_scores ? r->n_scores : 1;
    r->name = kn_calloc(ns, sizeof *r->name);
    r->higher_is_better = kn_calloc(ns, sizeof *r->higher_is_better);
    r->mean = kn_calloc(ns, sizeof *r->mean);
    r->std = kn_calloc(ns, sizeof *r->std);
    if (!r->name || !r->higher_is_better || !r->mean || !r->std) return KN_ERR_NOMEM;
    for (size_t m = 0; m < r->n_scores; m++) {
        r->name[m] = fo[0].scores.name[m];
        r->higher_is_better[m] = fo[0].scores.higher_is_better[m];
    }
    r->score = kn_calloc(k * (r->n_scores ? r->n_scores : 1), sizeof *r->score);
    r->n_train = kn_malloc(k * sizeof *r->n_train);
    r->n_test = kn_malloc(k * sizeof *r->n_test);
    r->fit_seconds = kn_malloc(k * sizeof *r->fit_seconds);
    size_t cells = k * (r->n_scores ? r->n_scores : 1);
    r->train_score = kn_malloc(cells * sizeof *r->train_score);
    r->baseline_score = kn_malloc(cells * sizeof *r->baseline_score);
    r->train_mean = kn_calloc(ns, sizeof *r->train_mean);
    r->train_std = kn_calloc(ns, sizeof *r->train_std);
    r->baseline_mean = kn_calloc(ns, sizeof *r->baseline_mean);
    r->train_baseline_mean = kn_calloc(ns, sizeof *r->train_baseline_mean);
    double *tb = kn_malloc(cells * sizeof *tb);
    if (!r->score || !r->n_train || !r->n_test || !r->fit_seconds || !r->train_score ||
        !r->baseline_score || !r->train_mean || !r->train_std || !r->baseline_mean ||
        !r->train_baseline_mean || !tb) {
        kn_free(tb);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        r->n_train[i] = fold_train_rows(s, folds->fold[i].n_train);
        r->n_test[i] = folds->fold[i].n_test;
        r->fit_seconds[i] = fo[i].seconds;
        /* a score a fold could not compute (e.g. roc_auc on one class) is NaN */
        for (size_t m = 0; m < r->n_scores; m++) {
            int at = kn_scores_find(&fo[i].scores, r->name[m]);
            r->score[i * r->n_scores + m] = at < 0 ? NAN : fo[i].scores.value[at];
            at = kn_scores_find(&fo[i].train, r->name[m]);
            r->train_score[i * r->n_scores + m] = at < 0 ? NAN : fo[i].train.value[at];
            at = kn_scores_find(&fo[i].baseline, r->name[m]);
            r->baseline_score[i * r->n_scores + m] = at < 0 ? NAN : fo[i].baseline.value[at];
            at = kn_scores_find(&fo[i].train_baseline, r->name[m]);
            tb[i * r->n_scores + m] = at < 0 ? NAN : fo[i].train_baseline.value[at];
        }
    }
    double ignored;
    for (size_t m = 0; m < r->n_scores; m++) {
        mean_std(r->score + m, r->n_scores, k, &r->mean[m], &r->std[m]);
        mean_std(r->train_score + m, r->n_scores, k, &r->train_mean[m], &r->train_std[m]);
        mean_std(r->baseline_score + m, r->n_scores, k, &r->baseline_mean[m], &ignored);
        mean_std(tb + m, r->n_scores, k, &r->train_baseline_mean[m], &ignored);
    }
    kn_free(tb);
    r->has_train = !s->skip_train_scores;
    if (r->n_scores && r->has_train) {
        /* accuracy on data where the largest class holds 80 % or more (the
         * accuracy warning's line) would call a class-weighted model that
         * beats chance on every class "under-fitting": judge by balanced
         * accuracy there when it was scored */
        size_t b = 0; /* balanced accuracy's place, when accuracy is the headline */
        if (!strcmp(r->name[0], "accuracy"))
            for (size_t m = 1; m < r->n_scores; m++)
                if (!strcmp(r->name[m], "balanced_accuracy")) b = m;
        size_t v = r->baseline_mean[0] >= 1 - MINORITY_SHARE ? b : 0;
        kn_fit_evidence ev = evidence_of(r, v);
        r->verdict = kn_fit_judge(&ev, r->verdict_text, sizeof r->verdict_text);
        /* a model built for imbalance (balanced ensembles, class weights)
         * gives up rows of the largest class for the others: accuracy under
         * the constant's is not under-fitting when balanced accuracy shows
         * it learnt (EasyEnsemble on letter_imbalanced, largest class 78 %:
         * accuracy 0.66, balanced accuracy 0.46 against 0.14) */
        if (b && !v && r->verdict == KN_FIT_UNDER) {
            char text[460]; /* a verdict's text, with room for the note below */
            kn_fit_evidence eb = evidence_of(r, b);
            kn_fit_verdict vb = kn_fit_judge(&eb, text, sizeof text);
            if (vb == KN_FIT_FINE || vb == KN_FIT_OVER) {
                r->verdict = vb;
                snprintf(r->verdict_text, sizeof r->verdict_text,
                         "%s (judged by balanced_accuracy: accuracy %.4g is at or under the "
                         "constant's %.4g because the model gives up rows of the largest class "
                         "for the others)",
                         text, r->mean[0], r->baseline_mean[0]);
            }
        }
        size_t used = strlen(r->verdict_text);
        if (v && used < sizeof r->verdict_text)
            snprintf(r->verdict_text + used, sizeof r->verdict_text - used,
                     " (judged by balanced_accuracy: always answering the largest class "
                     "scores an accuracy of %.4g)",
                     r->baseline_mean[0]);
    }
    return KN_OK;
}

/* The model's task for this target (an explicit s->task, else the model's
 * choice from the target); *task_kv receives the task parameter to give
 * every fold's model ("" when the parameters already fix it). Unknown
 * models and parameters, and classifiers of continuous targets, fail
 * here, before any fold. */
static kn_status resolve_task(const kn_cv_spec *s, const kn_frame *f, char *task_kv, size_t len,
                              kn_task *task)
{
    kn_model *probe = NULL;
    const char *chosen = NULL;
    kn_status e = kn_model_new(s->model, &probe);
    for (size_t i = 0; e == KN_OK && i < s->n_params; i++) e = kn_model_set(probe, s->params[i]);
    if (e == KN_OK && s->task) {
        kn_task want =
            !strcmp(s->task, "classification") ? KN_TASK_CLASSIFICATION : KN_TASK_REGRESSION;
        if (strcmp(s->task, "classification") && strcmp(s->task, "regression"))
            e = kn_fail(KN_ERR_INVALID, "task must be classification or regression, got '%s'",
                        s->task);
        if (e == KN_OK) e = kn_model_set_task(probe, want);
        const kn_model_vt *vt = kn__model_vt(probe);
        if (e == KN_OK && vt->task_param) kn__task_setting(vt, want, task_kv, len);
    }
    if (e == KN_OK) e = kn_model_choose_task(probe, f, s->target, &chosen);
    if (e == KN_OK && chosen) snprintf(task_kv, len, "%s", chosen);
    *task = e == KN_OK ? kn_model_task(probe) : KN_TASK_REGRESSION;
    kn_model_free(probe);
    return e;
}

/* A fold whose training rows hold one class cannot fit a classifier:
 * refused before any fold runs, with the fold, the class and the split's
 * fix named (the fit's own message would blame the data). */
static kn_status one_class_folds(const kn_frame *f, const kn_cv_spec *s, const kn_folds *folds)
{
    int32_t *lab = NULL;
    size_t k = 0, j;
    if (kn_split_labels(f, s->target, &lab, &k) != KN_OK) return KN_OK; /* the folds tell */
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && k > 1 && i < folds->k; i++) {
        const kn_fold *fd = &folds->fold[i];
        size_t r = 1, n_train = fold_train_rows(s, fd->n_train);
        while (r < n_train && lab[fd->train[r]] == lab[fd->train[0]]) r++;
        if (n_train == 0 || r < n_train) continue;
        kn_column *c = kn_frame_find(f, s->target, &j) == KN_OK ? kn_frame_col(f, j) : NULL;
        char buf[40] = "?";
        const char *label = buf;
        if (c && kn_column_type(c) == KN_COL_NUMERIC)
            snprintf(buf, sizeof buf, "%.17g", kn_column_f64(c)[fd->train[0]]);
        else if (c && kn_column_type(c) == KN_COL_CATEGORICAL)
            label = kn_column_level(c, kn_column_codes(c)[fd->train[0]], NULL);
        const char *fix = n_train < fd->n_train
                              ? "the first rows of the fold's training rows hold one class: "
                                "shuffle them (kiln curve --shuffle) so each size is a random "
                                "share, or start from a larger size"
                          : s->split.kind == KN_SPLIT_TIME
                              ? "the earliest rows hold one class: use fewer folds (split "
                                "option folds), or a stratified split if the rows need not "
                                "stay in time order"
                          : s->split.kind == KN_SPLIT_GROUP
                              ? "its groups hold one class: use groups that mix classes, or "
                                "the stratified split kind"
                          : s->split.kind == KN_SPLIT_STRATIFIED
                              ? "the other classes have too few rows for this many folds: use "
                                "fewer folds (split option folds)"
                              : "the rows are probably sorted by class: use the stratified split "
                                "kind (the default for classifiers) or split option shuffle";
        e = kn_fail(KN_ERR_INVALID,
                    "cross-validation fold %zu of %zu: its %zu training rows hold a single "
                    "class of '%s' ('%s'), and a classifier needs two; %s",
                    i + 1, folds->k, n_train, s->target, label, fix);
    }
    kn_free(lab);
    return e;
}

/* Accuracy as the headline (first) metric of a classifier whose smallest
 * class holds under 20 % of the rows flatters a model that always answers
 * the largest class: say so (a warning, not an error). */
static void warn_accuracy_headline(const kn_frame *f, const kn_cv_spec *s)
{
    if (s->n_metrics && strcmp(s->metrics[0], "accuracy")) return;
    kn_class_balance cb;
    if (kn_split_class_balance(f, s->target, &cb) != KN_OK) {
        kn_clear_error();
        return;
    }
    if (cb.k >= 2 && cb.rows && (double)cb.smallest < MINORITY_SHARE * (double)cb.rows)
        kn_log(KN_LOG_WARN,
               "accuracy is the headline metric, but the smallest class holds %.1f %% of the "
               "rows: always answering the largest class scores %.3f; judge by "
               "balanced_accuracy, average_precision (PR-AUC) or recall per class instead",
               100.0 * (double)cb.smallest / (double)cb.rows, (double)cb.largest / (double)cb.rows);
}

/* The on_fold reports: folds reach the callback in fold order, each once
 * every fold before it has finished. */
typedef struct fold_report {
#ifdef _OPENMP
    omp_lock_t lock;
#endif
    unsigned char *done; /* k: finished */
    size_t next;         /* the next fold to report */
    size_t used;         /* folds kept: k, or the fold that stopped the run + 1 */
    int stop;
} fold_report;

/* Fold i finished (fo[i] filled): report it and any later finished folds. */
static void report_fold(const kn_cv_spec *s, fold_report *rep, const fold_out *fo, size_t k,
                        size_t i)
{
#ifdef _OPENMP
    omp_set_lock(&rep->lock);
#endif
    rep->done[i] = 1;
    while (!rep->stop && rep->next < k && rep->done[rep->next]) {
        const fold_out *o = &fo[rep->next];
        if (o->status != KN_OK || !o->scores.n) { /* the run fails, or has nothing to say */
            rep->next = k;
            break;
        }
        if (s->on_fold(rep->next, k, o->scores.value[0], o->scores.higher_is_better[0],
                       s->fold_user)) {
            rep->used = rep->next + 1;
#pragma omp atomic write
            rep->stop = 1;
        }
        rep->next++;
    }
#ifdef _OPENMP
    omp_unset_lock(&rep->lock);
#endif
}

/* The fit share of fold i of folds (its index, size and rows as the key),
 * or NULL. */
static kn__fit_share *fold_share(kn__fit_share *share, const kn_fold *fd, size_t i, size_t n_train)
{
    if (!share) return NULL;
    uint64_t key[3] = {i, n_train, 0xcbf29ce484222325u};
    for (size_t r = 0; r < n_train; r++) key[2] = (key[2] ^ fd->train[r]) * 0x100000001b3u;
    return kn__fit_share_child(share, key, sizeof key);
}

kn_status kn_cv_run(const kn_frame *f_in, const kn_cv_spec *spec, kn_cv_result *out)
{
    return kn__cv_run_shared(f_in, spec, NULL, out);
}

kn_status kn__cv_run_shared(const kn_frame *f_in, const kn_cv_spec *spec, kn__fit_share *share,
                            kn_cv_result *out)
{
    memset(out, 0, sizeof *out);
    kn_cv_spec resolved = *spec, *s = &resolved;
    if (!s->model || !s->target)
        return kn_fail(KN_ERR_INVALID, "cross-validation needs a model and a target");
    /* every column the spec names is in the data (a misspelt one named with
     * the closest header), before any work */
    const char *const named[4] = {s->target, s->weight, s->groups, s->order_by};
    static const char *const role[4] = {"target", "weight", "groups", "order"};
    for (size_t i = 0; i < 4; i++) {
        size_t j;
        char hint[160];
        if (named[i] && kn_frame_find(f_in, named[i], &j) != KN_OK)
            return kn_fail(KN_ERR_NOT_FOUND, "%s column '%s' is not in the data%s", role[i],
                           named[i], kn_frame_did_you_mean(f_in, named[i], hint, sizeof hint));
    }
    /* the task, decided once on all rows (every fold fits the same one) */
    char task_kv[128] = "";
    kn_task task;
    kn_status e = resolve_task(s, f_in, task_kv, sizeof task_kv, &task);
    if (e != KN_OK) return e;
    const char **params = NULL;
    if (*task_kv) { /* the folds' models get the task parameter set */
        if (!(params = kn_malloc((s->n_params + 1) * sizeof *params))) return KN_ERR_NOMEM;
        for (size_t i = 0; i < s->n_params; i++) params[i] = s->params[i];
        params[s->n_params++] = task_kv;
        s->params = params;
    }
    if (s->split.kind == KN_SPLIT_AUTO)
        s->split.kind = task == KN_TASK_CLASSIFICATION ? KN_SPLIT_STRATIFIED : KN_SPLIT_KFOLD;
    if (s->split.kind == KN_SPLIT_STRATIFIED && task == KN_TASK_REGRESSION) {
        kn_free(params);
        return kn_fail(KN_ERR_INVALID,
                       "stratified folds need classes; '%s' is a regressor of a continuous "
                       "target: use plain k-fold (with a shuffle) instead",
                       s->model);
    }
    kn_frame *f = NULL;
    kn_folds folds = {0};
    kn_pipeline *tpl = NULL;
    e = fold_pipeline(s, &tpl);
    if (e == KN_OK) e = kn__pipeline_resamplers_fit(tpl, task); /* before any fold */
    if (e == KN_OK && tpl->n_members) e = kn__ensemble_check(tpl, task);
    if (e == KN_OK) e = mark_roles(f_in, s, &f);
    if (e == KN_OK) e = make_folds(f, s, &folds);
    if (e == KN_OK && task == KN_TASK_CLASSIFICATION) e = one_class_folds(f, s, &folds);
    if (e == KN_OK && task == KN_TASK_CLASSIFICATION && !s->train_rows &&
        !(s->train_fraction > 0)) /* (once, not per point of a curve) */
        warn_accuracy_headline(f, s);
    fold_out *fo = e == KN_OK ? kn_calloc(folds.k, sizeof *fo) : NULL;
    if (e == KN_OK && !fo) e = KN_ERR_NOMEM;
    if (e == KN_OK) {
        /* folds at a time: never more than the thread budget (each fold's
         * fit then runs on one thread: nested regions stay inactive), nor
         * more than there are folds */
        int budget = kn__threads_here(), threads = s->threads > 0 ? s->threads : budget;
        if (threads > budget) {
            kn_log(KN_LOG_INFO, "%d folds at a time would oversubscribe %d threads: running %d",
                   threads, budget, budget);
            threads = budget;
        }
        if ((size_t)threads > folds.k) threads = (int)folds.k;
        if (threads < 1) threads = 1;
        size_t done = 0;
        fold_report rep = {.used = folds.k};
        if (s->on_fold && !(rep.done = kn_calloc(folds.k, 1))) e = KN_ERR_NOMEM;
#ifdef _OPENMP
        if (rep.done) omp_init_lock(&rep.lock);
#endif
        kn_ctx *ctx = kn_ctx_current(); /* the folds run in the caller's context */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (size_t i = 0; i < folds.k; i++) {
            kn_ctx *prev = kn__ctx_swap(ctx);
            kn_frame *train = NULL, *test = NULL;
            kn_fold *fd = &folds.fold[i];
            kn_status st = kn_ctx_check(); /* a cancelled run starts no more folds */
            int stopped;
#pragma omp atomic read
            stopped = rep.stop;
            if (stopped || e != KN_OK) { /* after the fold that stopped it: skipped */
                kn__ctx_swap(prev);
                continue;
            }
            size_t n_train = fold_train_rows(s, fd->n_train);
            if (st == KN_OK) st = kn_frame_select_rows(f, fd->train, n_train, &train);
            if (st == KN_OK) st = kn_frame_select_rows(f, fd->test, fd->n_test, &test);
            if (st == KN_OK)
                st = run_fold(train, test, tpl, s, fold_share(share, fd, i, n_train), &fo[i]);
            fo[i].status = st;
            if (st != KN_OK) fo[i].error = kn_strdup(kn_last_error());
            kn_frame_free(train);
            kn_frame_free(test);
            size_t now;
#pragma omp atomic capture
            now = ++done;
            if (st == KN_OK && fo[i].scores.n)
                kn_log(KN_LOG_INFO, "fold %zu/%zu done (%zu of %zu): %s %.6g in %.2f s", i + 1,
                       folds.k, now, folds.k, fo[i].scores.name[0], fo[i].scores.value[0],
                       fo[i].seconds);
            if (rep.done) report_fold(s, &rep, fo, folds.k, i);
            kn__ctx_swap(prev);
        }
#ifdef _OPENMP
        if (rep.done) omp_destroy_lock(&rep.lock);
#endif
        kn_free(rep.done);
        if (e == KN_OK) e = collect(s, &folds, rep.used, fo, out);
        out->split = s->split.kind;
    }
    for (size_t i = 0; fo && i < folds.k; i++) {
        kn_free(fo[i].error), kn_free(fo[i].positive);
        kn_scores_free(&fo[i].scores);
        kn_scores_free(&fo[i].train);
        kn_scores_free(&fo[i].baseline);
        kn_scores_free(&fo[i].train_baseline);
    }
    kn_free(fo);
    kn_folds_free(&folds);
    kn_frame_free(f);
    kn_pipeline_free(tpl);
    kn_free(params);
    if (e != KN_OK) kn_cv_result_free(out);
    return e;
}
