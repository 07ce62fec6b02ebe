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
} kn_cv_spec;

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
} kn_cv_result;

KN_API kn_status kn_cv_run(const kn_frame *f, const kn_cv_spec *s, kn_cv_result *out);
KN_API void kn_cv_result_free(kn_cv_result *r);

#ifdef __cplusplus
}
#endif
#endif
