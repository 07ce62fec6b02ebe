/* Cross-validation: fit a model (and the preparation steps before it) on
 * the training rows of each fold and score it on the fold's test rows. The
 * steps are fitted inside each fold, never on rows the fold tests on, so no
 * statistic of the test rows leaks into training. Folds run in parallel
 * (OpenMP, one fold per thread); the result is the same for any thread
 * count.
 *
 *     kn_cv_spec s = {.model = "ridge", .target = "y"};
 *     kn_split_opts_default(&s.split);
 *     kn_cv_result r;
 *     kn_cv_run(frame, &s, &r);   // r.score[fold * r.n_scores + i], r.mean, r.std
 *     kn_cv_result_free(&r);
 */
#ifndef KILN_CV_H
#define KILN_CV_H

#include "kiln/evaluate.h"
#include "kiln/split.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called after each fold, in fold order (fold 0 first; never two at once
 * for one run, whatever the thread count), with the fold's score on the
 * first metric and that metric's direction. Return nonzero to stop: no
 * further fold starts, folds already running are discarded, and kn_cv_run
 * returns KN_OK with the folds up to this one (r.k = fold + 1, r.stopped
 * 1). The callback may block (kiln/tune.h waits for other trials). Not
 * called for a failed fold. */
typedef int (*kn_cv_fold_fn)(size_t fold, size_t k, double score, int higher_is_better, void *user);

typedef struct kn_cv_spec {
    const char *model;
    const char *const *params; /* "name=value" */
    size_t n_params;
    const char *const *steps; /* "step:param=value;..." fitted inside each fold */
    size_t n_steps;
    const char *target, *weight; /* weight may be NULL */
    const char *groups;          /* column of groups (group k-fold) */
    const char *order_by;        /* column that orders rows (time-series split) */
    kn_split_opts split;         /* stratified: by the target's classes; auto:
                                    stratified for classifiers, k-fold otherwise */
    int threads;                 /* 0: one per core */
    const char *task;            /* "classification" or "regression"; NULL: the model's
                                    own, or for a family with both tasks the target's */
    const char *positive_class;  /* binary: the positive class (kn_score_opts) */
    const char *const *metrics;  /* metric names to compute (kn_score_opts); NULL: the
                                    task's default set */
    size_t n_metrics;
    int skip_train_scores; /* 1: do not score each fold's model on its training rows */
    /* A learning curve's point: fit each fold on the first rows of its
     * training rows, in row order (as sklearn's learning_curve takes
     * train[:n]): train_rows of them, or (train_rows 0) the share
     * train_fraction of them, rounded down, at least 1. Both 0: all. */
    size_t train_rows;
    double train_fraction;
    int shuffle_train_rows; /* 1: each fold's training rows in a seeded random order
                               (split.seed, the fold), so a share is a random sample */
    kn_cv_fold_fn on_fold;  /* NULL: none */
    void *fold_user;
    /* NULL, or a pipeline whose members and ensemble method (kiln/pipeline.h)
     * every fold's pipeline copies, unfitted; `model` then names the model
     * that combines them (member_vote, or the stacking's final model) */
    const struct kn_pipeline *ensemble;
} kn_cv_spec;

/* How a model fits, judged from its cross-validated scores (kn_fit_diagnose). */
typedef enum {
    KN_FIT_UNKNOWN, /* the scores cannot tell (missing, or a baseline already perfect) */
    KN_FIT_FINE,
    KN_FIT_OVER,  /* likely over-fitting */
    KN_FIT_UNDER, /* likely under-fitting */
} kn_fit_verdict;

/* Arrays sized by k and n_scores, owned: free with kn_cv_result_free. */
typedef struct kn_cv_result {
    size_t k, n_scores;
    const char **name;           /* n_scores metric names (registered: valid for the process) */
    int *higher_is_better;       /* n_scores */
    double *score;               /* k x n_scores */
    double *mean;                /* n_scores, over folds */
    double *std;                 /* n_scores, population standard deviation (as sklearn) */
    size_t *n_train, *n_test;    /* rows per fold */
    double *fit_seconds;         /* per fold: steps and model */
    kn_split_kind split;         /* the split used (auto resolved) */
    const char *roc_auc_average; /* as kn_scores (static string) */
    char *positive_class;        /* binary: the positive class's label; NULL otherwise */
    /* Each fold's model scored on its own training rows (has_train; NaN
     * where a score is undefined there), and the baseline (the training
     * rows' class prior or mean, as kn_run's) on the fold's test rows. */
    int has_train;
    double *train_score, *train_mean, *train_std; /* k x n_scores, n_scores, n_scores */
    double *baseline_score, *baseline_mean;       /* k x n_scores, n_scores */
    /* From the first metric: over- or under-fitting, with its evidence as a
     * sentence (kn_fit_diagnose); KN_FIT_UNKNOWN and "" without train scores. */
    kn_fit_verdict verdict;
    char verdict_text[640];
    int stopped;      /* 1: on_fold stopped the run after fold k (of k_planned) */
    size_t k_planned; /* the split's folds */
    /* with has_train: the baseline fitted on each fold's training rows
     * scored on those same rows, mean over folds (n_scores) */
    double *train_baseline_mean;
} kn_cv_result;

KN_API kn_status kn_cv_run(const kn_frame *f, const kn_cv_spec *s, kn_cv_result *out);
KN_API void kn_cv_result_free(kn_cv_result *r);
/* The rows of f in the order of column (numeric or timestamp; ties keep
 * the file's order; a missing value refused): *order, n row indices
 * (kn_free). The time-series folds' order. */
KN_API kn_status kn_cv_time_order(const kn_frame *f, const char *column, size_t **order);

/* The verdict on one metric's scores: the mean train score, the mean
 * validation score and its spread over the folds, and the baseline's.
 * Scores are put on one scale first: a model's "skill" is how far it goes
 * from the baseline (0) towards a perfect score (1; a perfect score is 1
 * for a metric where higher is better, 0 otherwise, as for every built-in
 * metric).
 *   over-fitting: the train score beats the validation score by more than
 *     twice the folds' spread, and the train skill exceeds the validation
 *     skill by more than 0.25;
 *   under-fitting: train and validation skill both under 0.10 (the model
 *     barely beats a constant even on the rows it was fitted on);
 *   fine otherwise.
 * The noise guard of kn_fit_judge (below) applies too: this is
 * kn_fit_judge with the train baseline unknown.
 * `why` (len bytes) receives the verdict with its evidence and a hint. */
KN_API kn_fit_verdict kn_fit_diagnose(const char *metric, double train, double valid,
                                      double valid_std, double baseline, int higher_is_better,
                                      char *why, size_t len);
/* The evidence of kn_fit_judge: kn_fit_diagnose's, and the baseline's
 * score on the training rows (the constant fitted on them, scored there;
 * NaN: unknown). */
typedef struct kn_fit_evidence {
    const char *metric;
    double train, valid, valid_std, baseline, train_baseline;
    int higher_is_better;
} kn_fit_evidence;

/* kn_fit_diagnose with two guards for small or noisy data:
 *   the model learnt nothing on its own rows: with train_baseline known,
 *     the train skill is measured from it (the constant's score on the
 *     same rows); under 0.10 there (a constant model, say a tree that
 *     cannot split 14 rows) the train-validation gap is the constant's own
 *     gap, not over-fitting: no over-fitting verdict, and under-fitting
 *     when the validation skill is under 0.10 too;
 *   the folds disagree: when the validation scores' spread exceeds 0.25 on
 *     the skill scale (a quarter of the way from the baseline to a perfect
 *     score, as happens at tiny training sizes), a gap that would mean
 *     over-fitting gives "unknown" with the spread as its evidence.
 * Otherwise the rules of kn_fit_diagnose. */
KN_API kn_fit_verdict kn_fit_judge(const kn_fit_evidence *ev, char *why, size_t len);
/* "fine", "over-fitting", "under-fitting" or "unknown". */
KN_API const char *kn_fit_verdict_name(kn_fit_verdict v);

#ifdef __cplusplus
}
#endif
#endif
