/* Scoring a fitted model on a frame that holds its target: the target as
 * the model sees it, and the standard metrics of the model's task (the ones
 * `kiln eval`, `kiln train --test-size` and `kiln cv` print).
 *
 *     kn_scores s;
 *     kn_model_score(m, test, NULL, &s);   // s.name[i], s.value[i]
 *     kn_scores_free(&s);
 *
 * Scores are registered metrics (kiln/metrics.h), computed by name
 * through the registry: the task's default set, or the metrics named in
 * kn_score_opts (any number, builtin or registered from outside).
 */
#ifndef KILN_EVALUATE_H
#define KILN_EVALUATE_H

#include "kiln/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_scores_slice kn_scores_slice;

/* Any number of named scores, in the order computed. Arrays owned by the
 * struct: free with kn_scores_free (a zeroed struct is empty). */
typedef struct kn_scores {
    size_t rows, n;
    const char **name; /* the metrics' registered names (valid for the process) */
    double *value;
    int *higher_is_better;
    /* How roc_auc averages: "binary" (the positive class's scores) or
     * "macro-ovr" (unweighted mean of each class against the rest, as
     * sklearn's roc_auc_score(multi_class="ovr", average="macro")); NULL
     * when there is no roc_auc. Static string. */
    const char *roc_auc_average;
    /* Binary classifiers: the class that precision, recall, f1, roc_auc and
     * the curves call positive, and its index; NULL and -1 otherwise.
     * Borrowed from the model: valid while it lives. */
    const char *positive_class;
    int positive;
    /* With kn_score_opts.bootstrap: each score's percentile interval at
     * `level` over that many resamples of the rows (NaN where a resample
     * leaves the score undefined too often); NULL otherwise. */
    double *lo, *hi, level;
    /* With kn_score_opts.slice_by: the scores of each value's rows (with
     * their own intervals), in the column's order of values; `worst`
     * indexes the slice with the worst first score among slices of at
     * least KN_SLICE_MIN_ROWS rows (all slices when none is that big), -1
     * when none has one. */
    size_t n_slices;
    kn_scores_slice *slices;
    int worst;
    /* Classifiers: per class of the model (its order; a class the model
     * never saw is left out) the precision, recall and F1 of that class
     * against the rest, and its support (weighted count of its rows), as
     * scikit-learn's classification_report (0 where undefined: no rows
     * predicted, no rows of the class). n_classes 0 for regression. */
    size_t n_classes;
    double *class_precision, *class_recall, *class_f1, *class_support;
} kn_scores;

/* One slice of sliced scores: the value (text; "(missing)" for missing
 * cells) and its rows' scores. */
struct kn_scores_slice {
    char *value;
    kn_scores scores;
};

#define KN_SLICE_MIN_ROWS 20

/* Options of kn_model_score_with. */
typedef struct kn_score_opts {
    const char *weight;         /* column of sample weights; NULL: none */
    const char *positive_class; /* binary: the positive class's label; NULL: the
                                   model's second class (labels in sorted order) */
    /* Registered metric names to compute, in this order (an error in one
     * fails the call); NULL: the task's default set (below). */
    const char *const *metrics;
    size_t n_metrics;
    const kn_predict_opts *predict; /* per-call prediction options; NULL: none */
    /* Confidence intervals: resamples of the rows with replacement (0:
     * none), their seed, and the level (0: 0.95). Same seed, same bounds. */
    size_t bootstrap;
    uint64_t seed;
    double level;
    /* Scores per value of this column of the frame (a categorical, text,
     * integer or boolean column, or a numeric one of at most
     * KN_SLICE_MAX_VALUES distinct values), or NULL. The column need not be
     * an input of the model. */
    const char *slice_by;
} kn_score_opts;

#define KN_SLICE_MAX_VALUES 100

/* The default number of bootstrap resamples for `rows` rows: 1000, or on
 * big data as many as keep the rows drawn near 10^8 (at least 100). */
KN_API size_t kn_bootstrap_default(size_t rows);

/* The target column of f as the model sees it: numeric values for
 * regression, class indices for classification (a class the model never
 * saw, a missing or non-numeric target is an error naming the row). A new
 * array of kn_frame_n_rows(f) values; kn_free. */
KN_API kn_status kn_model_targets(const kn_model *m, const kn_frame *f, double **y);

/* The default set. Regression: rmse, mae, r2, explained_variance,
 * median_ae. Classification: accuracy, balanced_accuracy, f1_macro; binary
 * also precision, recall and f1 of the positive class; from probabilities
 * log_loss and roc_auc (binary, or macro one-vs-rest for several classes:
 * see roc_auc_average), left out when undefined for the data. weight
 * names a column of sample weights (NULL: none). *out is new: free with
 * kn_scores_free. */
KN_API kn_status kn_model_score(const kn_model *m, const kn_frame *f, const char *weight,
                                kn_scores *out);
/* kn_model_score with options. A positive_class that is not one of the
 * model's classes, or given to a model of more than two classes, is an
 * error naming the classes. */
KN_API kn_status kn_model_score_with(const kn_model *m, const kn_frame *f, const kn_score_opts *o,
                                     kn_scores *out);
/* The index of a binary classifier's positive class: `label`'s, or 1 when
 * label is NULL. Errors name the model's classes. */
KN_API kn_status kn_model_positive_class(const kn_model *m, const char *label, size_t *index);

/* The baseline a model is judged against: a constant predictor fitted on
 * `train` with m's target (the class prior, its majority class as the
 * label, for a classifier; the mean for a regressor), scored on `test`
 * with each metric of `like` (m's own scores there: names, positive class)
 * that is defined for a constant. `weight` (a column, or NULL) weighs both.
 * A test class the training rows never held counts as wrong, as for m. */
KN_API kn_status kn_model_score_baseline(const kn_model *m, const kn_frame *train,
                                         const kn_frame *test, const char *weight,
                                         const kn_scores *like, kn_scores *out);
/* The index of `name` in s, or -1. */
KN_API int kn_scores_find(const kn_scores *s, const char *name);
/* Appends one score (name borrowed: it must outlive s). */
KN_API kn_status kn_scores_add(kn_scores *s, const char *name, double value, int higher_is_better);
/* Frees the arrays and empties s (rows and the meaning fields too). */
KN_API void kn_scores_free(kn_scores *s);

#ifdef __cplusplus
}
#endif
#endif
