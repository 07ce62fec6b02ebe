/* Kiln models: learners with a parameter table that fit on a frame and a
 * target column, predict on new frames with the same feature columns, and
 * save to a checksummed model file (.kmd) with their input columns.
 *
 *     kn_model *m;
 *     kn_model_new("ridge", &m);
 *     kn_model_set(m, "alpha=0.5");
 *     kn_model_fit(m, train, "strength");
 *     double *pred; size_t n;
 *     kn_model_predict(m, test, &pred, &n);      // kn_free(pred)
 *     kn_model_save(m, "model.kmd");
 *
 * Models follow the component contract (kiln/component.h): parameters by
 * "name=value" or typed struct, validation across parameters before any
 * work, clone, encode/decode. Threading: fit and set change a model;
 * predict, score and encode only read it, so a fitted model may be shared.
 *
 * Features are the feature-role columns other than the target: numeric
 * ones for every model; categorical ones only for models flagged
 * KN_MODEL_TAKES_CATEGORICAL (the trees, forests and gbdt, and bagging,
 * easy_ensemble and tuned_threshold of such a base: flags_of), the others
 * asking for them to be encoded first (`kiln prep` with onehot_encoder). A
 * missing feature value is an error naming the column and row, except for
 * models flagged KN_MODEL_TAKES_MISSING. Models are components of kind KN_COMP_MODEL;
 * `kiln help model NAME` prints a parameter table.
 */
#ifndef KILN_MODEL_H
#define KILN_MODEL_H

#include "kiln/codec.h"
#include "kiln/component.h"
#include "kiln/frame.h"
#include "kiln/param.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { KN_TASK_REGRESSION = 0, KN_TASK_CLASSIFICATION = 1 } kn_task;

/* Training or scoring data as a dense matrix. */
typedef struct kn_dataset {
    size_t n, p;
    double *x;          /* n x p, column-major: feature j of row i is x[j * n + i];
                         * NULL for models that read columns (below) */
    const double **col; /* with x NULL: p columns borrowed from the frame */
    double *y;          /* target (class index for classification), or NULL */
    double *w;          /* sample weights, or NULL */
    char **names;       /* p feature names */
    size_t n_classes;
    char **classes; /* class labels (classification), in index order */
    /* Categorical features (models with KN_MODEL_TAKES_CATEGORICAL): per
     * feature its level count (0: numeric) and level texts; such a
     * feature's values are level indices, NaN for missing or unseen
     * levels (unseen: n_levels with KN_MODEL_UNSEEN_LEVEL). NULL when no
     * feature is categorical. */
    size_t *n_levels;
    char ***levels;
    double *level_x; /* the level-index columns (owned) */
} kn_dataset;

typedef struct kn_model kn_model;

/* A fit's statistics: named scalars (deviance, AIC, ...) and, for
 * unpenalised statistical models, a coefficient table. */
#define KN_MAX_FIT_STATS 12
typedef struct kn_fit_summary {
    size_t n_stats;
    const char *stat_name[KN_MAX_FIT_STATS]; /* static strings */
    double stat[KN_MAX_FIT_STATS];
    /* p + 1 rows (the features, then the intercept), or NULL */
    const double *coef, *std_error, *z, *p_value;
} kn_fit_summary;

/* Options of one prediction call (kn_model_predict_with). A zeroed struct
 * (or NULL) predicts as kn_model_predict does. The model is not touched, so
 * threads may share one fitted model, each with its own options. */
typedef struct kn_predict_opts {
    /* Boosted models (gbdt): predict with the first `rounds` rounds
     * (staged prediction); 0: the model's predict_rounds parameter (0: all
     * rounds). Other models refuse a non-zero value (KN_ERR_UNSUPPORTED). */
    size_t rounds;
} kn_predict_opts;

/* Implementations fill it with designated initializers: fields added
 * later stay NULL/0. A model is a component (kiln/component.h): the
 * registry entry gives its name, parameter table and this vtable. */
typedef struct kn_model_vt {
    kn_task task;
    kn_status (*fit)(kn_model *m, const kn_dataset *d);
    /* One value per row: the prediction (a class index for classifiers). */
    kn_status (*predict)(const kn_model *m, const kn_dataset *d, double *out);
    /* Classifiers: n x k class probabilities, row-major. */
    kn_status (*predict_proba)(const kn_model *m, const kn_dataset *d, double *out);
    void (*free_state)(void *state);
    kn_status (*save)(const kn_model *m, kn_wbuf *w);
    kn_status (*load)(kn_model *m, kn_rbuf *r);
    /* Optional: rows x p coefficients (row-major) and rows intercepts,
     * rows = coef_rows(m) (1 when coef_rows is NULL); NULL when none. */
    kn_status (*coefficients)(const kn_model *m, double *out, double *intercept);
    /* Optional: fit statistics (pointers borrowed from the model's state). */
    kn_status (*summary)(const kn_model *m, kn_fit_summary *out);
    /* Optional: coefficient rows (one per class for multinomial and
     * one-vs-rest models). */
    size_t (*coef_rows)(const kn_model *m);
    /* KN_MODEL_* bits, below. */
    unsigned flags;
    /* Optional: the task when it depends on the parameters (e.g. the
     * objective); task above otherwise. */
    kn_task (*task_of)(const kn_model *m);
    /* Optional, for a family with both tasks: the parameter that chooses
     * the task and its value for each (trees: "criterion", "gini",
     * "squared_error"). While the user leaves it alone, the task follows
     * the target (kn_model_choose_task). */
    const char *task_param, *classify_value, *regress_value;
    /* Optional: the model to name for the other task ("knn_regressor"). */
    const char *other_task_model;
    /* Optional: p feature importances (tree models: each feature's share of
     * the impurity decrease or gain, summing to 1). Not coefficients: a
     * model has one, the other or neither. */
    kn_status (*importances)(const kn_model *m, double *out);
    /* Optional: rules across parameters (kiln/component.h), checked before
     * any work; the message names the parameters. */
    kn_validate_fn validate;
    /* Optional: prediction with per-call options (o never NULL); when set
     * it serves kn_model_predict* in place of predict (proba 0) and
     * predict_proba (proba 1). It must not change the model. */
    kn_status (*predict_with)(const kn_model *m, const kn_dataset *d, const kn_predict_opts *o,
                              int proba, double *out);
    /* Optional, for a binary classifier whose decisions favour one class
     * (tuned_threshold): the label its parameters name as positive, "" for
     * the default (the second of the sorted labels). Scoring then takes
     * that class as positive (kn_model_positive_class), and a different one
     * asked for is an error rather than scores of the other class. */
    const char *(*own_positive)(const kn_model *m);
    /* Optional: KN_MODEL_* bits added to flags by the parameters, for a
     * model that wraps another (bagging, tuned_threshold): the input bits
     * of its base (TAKES_CATEGORICAL, TAKES_MISSING, UNSEEN_LEVEL), so it
     * takes the columns its base takes. The same parameters give the same
     * bits at fit and at predict. */
    unsigned (*flags_of)(const kn_model *m);
} kn_model_vt;

/* fit and predict read features through kn_dataset_column and get the
 * frame's columns borrowed (x NULL), saving a copy */
#define KN_MODEL_READS_COLUMNS 1u
/* missing feature values (NaN) are taken, not refused */
#define KN_MODEL_TAKES_MISSING 2u
/* categorical feature columns are taken as level indices (kn_dataset's
 * n_levels), not refused */
#define KN_MODEL_TAKES_CATEGORICAL 4u
/* with READS_COLUMNS: fit is not preceded by a scan for missing feature
 * values; the model's own pass notices them (sums turn NaN) and refuses
 * them with kn__refuse_missing. Predict still scans. */
#define KN_MODEL_FINDS_MISSING 8u
/* with TAKES_CATEGORICAL: when predicting, a level the fit did not see is
 * the index n_levels (one past the fitted ones), not NaN, so that the
 * model can tell it from a missing value */
#define KN_MODEL_UNSEEN_LEVEL 16u
/* a classifier's predict is the first largest of its predict_proba
 * (kn__argmax_rows): one row's prediction and probabilities come from one
 * pass (the row path, kn_row_predict) */
#define KN_MODEL_PREDICT_ARGMAX 32u
/* unsupervised (isolation_forest, kmeans): fitted without a target. kn_model_fit
 * takes target NULL (and refuses one); every numeric feature-role column
 * is a feature; the saved target name is "". kn_model_choose_task refuses
 * such a model, so commands built around a target (train, cv) name
 * 'kiln anomaly' or 'kiln cluster' instead. The task is the vtable's (a score per row). */
#define KN_MODEL_UNSUPERVISED 64u
/* with UNSUPERVISED: predict gives a cluster index (kmeans); without it an
 * unsupervised model scores anomalies (isolation_forest) */
#define KN_MODEL_CLUSTERS 128u

/* Returns a new unfitted model with default parameters; free with
 * kn_model_free(). */
KN_API kn_status kn_model_new(const char *name, kn_model **out);
KN_API void kn_model_free(kn_model *m);
/* Sets one parameter; the model must be fitted again, except for
 * parameters named predict_* (they change only prediction, e.g. gbdt's
 * predict_rounds, kept because saved models carry it: prefer
 * kn_predict_opts, which leaves a shared model alone). */
KN_API kn_status kn_model_set(kn_model *m, const char *name_eq_value);
/* Sets every parameter from the model's typed params struct (`size` =
 * sizeof it): each field is checked against the parameter table, then the
 * rules across parameters; on failure nothing changes. Unfits the model. */
KN_API kn_status kn_model_set_params(kn_model *m, const void *params, size_t size);
/* The rules across parameters (the vtable's validate): KN_OK, or an error
 * naming the parameters. kn_model_fit runs it before any work. */
KN_API kn_status kn_model_validate(const kn_model *m);
/* Returns a new model with m's parameters: fitted 0, unfitted; fitted 1, a
 * deep copy of a fitted m (state, features, classes, provenance), made
 * through the model's encoding, so every model supports it. Free with
 * kn_model_free(). */
KN_API kn_status kn_model_clone(const kn_model *m, int fitted, kn_model **out);
KN_API const char *kn_model_name(const kn_model *m);
KN_API kn_task kn_model_task(const kn_model *m);
/* What the model does, for people: "classification", "regression",
 * "cluster" or "anomaly" (unsupervised models). Static text. */
KN_API const char *kn_model_kind(const kn_model *m);

/* Sets the task explicitly: a family with both tasks takes the task's
 * value of its task parameter; a model of one task fails for the other,
 * naming the model to use instead. */
KN_API kn_status kn_model_set_task(kn_model *m, kn_task task);

/* Decides m's task for the target column of f before any work
 * (kn_model_fit calls it). A text target is classified; a numeric target
 * looks continuous when it holds a non-integer value, or more than 50
 * distinct values that make up more than 5 % of the rows. A family with
 * both tasks whose task parameter was not set takes the target's task
 * and logs its choice; then *chosen (when not NULL) receives the
 * "name=value" that fixes it (static), else NULL. A classifier of a
 * continuous target, or a regressor of a text target, fails naming the
 * model or option to use instead. */
KN_API kn_status kn_model_choose_task(kn_model *m, const kn_frame *f, const char *target,
                                      const char **chosen);

/* Fit on f with `target` (and `weight`, may be NULL, a column of weights);
 * target NULL for a model flagged KN_MODEL_UNSUPERVISED. */
KN_API kn_status kn_model_fit(kn_model *m, const kn_frame *f, const char *target,
                              const char *weight);
/* Predictions for every row of f (a new array of n values; kn_free); for
 * classifiers the class index (kn_model_class gives its label). */
KN_API kn_status kn_model_predict(const kn_model *m, const kn_frame *f, double **out, size_t *n);
/* Classifiers: n x k probabilities (a new row-major array; kn_free). */
KN_API kn_status kn_model_predict_proba(const kn_model *m, const kn_frame *f, double **out,
                                        size_t *n);
/* kn_model_predict and kn_model_predict_proba with per-call options (o may
 * be NULL). Read-only: m may be shared between threads. */
KN_API kn_status kn_model_predict_with(const kn_model *m, const kn_frame *f,
                                       const kn_predict_opts *o, double **out, size_t *n);
KN_API kn_status kn_model_predict_proba_with(const kn_model *m, const kn_frame *f,
                                             const kn_predict_opts *o, double **out, size_t *n);
/* The classes a classifier learned (sorted labels; 0 for regressors). */
KN_API size_t kn_model_n_classes(const kn_model *m);
KN_API const char *kn_model_class(const kn_model *m, size_t c);
/* The fitted feature columns and the target's name (borrowed). */
KN_API size_t kn_model_n_features(const kn_model *m);
KN_API const char *kn_model_feature(const kn_model *m, size_t j);
/* Levels of categorical feature j as fitted (0 for a numeric feature). */
KN_API size_t kn_model_feature_levels(const kn_model *m, size_t j);
KN_API const char *kn_model_target(const kn_model *m);
/* Coefficient rows of a fitted model: 0 when it has none, 1 for one linear
 * predictor, the number of classes for multinomial and one-vs-rest models
 * (row c belongs to class c). */
KN_API size_t kn_model_coef_rows(const kn_model *m);
/* rows x p coefficients (row-major) and rows intercepts, rows as above. */
KN_API kn_status kn_model_coefficients(const kn_model *m, double *coef, double *intercept);

/* 1 when a fitted model has feature importances (tree models), else 0. */
KN_API int kn_model_has_importances(const kn_model *m);
/* p importances (kn_model_n_features), in feature order, into out. */
KN_API kn_status kn_model_importances(const kn_model *m, double *out);

/* Fit statistics, for models that have them (KN_ERR_UNSUPPORTED otherwise). */
KN_API kn_status kn_model_summary(const kn_model *m, kn_fit_summary *out);

/* Provenance, saved with the model (format 3; 0 / NULL for older files):
 * the rows it was fitted on, the Kiln version that wrote a loaded file
 * (borrowed; NULL for a model not loaded from a file), and scores recorded
 * with kn_model_record_metrics (e.g. `kiln train`'s held-out scores) with
 * the rows they were computed on. Refitting forgets them. */
KN_API size_t kn_model_train_rows(const kn_model *m);
KN_API const char *kn_model_saved_by(const kn_model *m);
/* Replaces the recorded scores with n named values (names copied). */
KN_API kn_status kn_model_record_metrics(kn_model *m, size_t rows, const char *const *names,
                                         const double *values, size_t n);
KN_API size_t kn_model_n_metrics(const kn_model *m);
KN_API size_t kn_model_metric_rows(const kn_model *m);
/* Name of recorded score i (borrowed), its value in *value; NULL past the end. */
KN_API const char *kn_model_metric(const kn_model *m, size_t i, double *value);

/* The reader settings the training data was read with (kiln/io.h:
 * kn_read_settings_format's text), which a .kmd file keeps (format 4) so
 * that new data for the model is read as the training data was
 * (kn_read_settings_apply). set copies text (NULL: none recorded); the
 * getter's text is borrowed, valid until the model is refitted or freed,
 * NULL when none was recorded (a file before format 4, a model never
 * given one). Not part of kn_model_encode's bytes (an artifact keeps its
 * own READ section). */
KN_API kn_status kn_model_set_read_settings(kn_model *m, const char *text);
KN_API const char *kn_model_read_settings(const kn_model *m);

/* .kmd: the container (container.h) holding the model name, parameters,
 * target, feature names, fitted state, (format 3) provenance and (format
 * 4) the reader settings. */
KN_API kn_status kn_model_save(const kn_model *m, const char *path);
KN_API kn_status kn_model_load(const char *path, kn_model **out);
/* A fitted model's encoding in memory, for embedding (artifacts): u32
 * format version, then exactly the payload a .kmd file holds after its
 * version (kn_model_save is a file wrapper around it). *buf is new; free
 * with kn_free(). */
KN_API kn_status kn_model_encode(const kn_model *m, unsigned char **buf, size_t *len);
/* Returns a new model from an encoding (any format version this Kiln
 * reads; a newer one is KN_ERR_VERSION, damage KN_ERR_CORRUPT); free with
 * kn_model_free(). */
KN_API kn_status kn_model_decode(const void *buf, size_t len, kn_model **out);

/* The dataset of f's features (in the order of `names` when not NULL) and,
 * when target is not NULL, its target: numeric for regression; for
 * classification the index of each row's class among the sorted distinct
 * labels (the text of a categorical target, the value of a numeric one).
 * Free with kn_dataset_free. */
KN_API kn_status kn_dataset_from_frame(const kn_frame *f, const char *target, const char *weight,
                                       const char *const *names, size_t n_names, kn_task task,
                                       kn_dataset **out);
KN_API void kn_dataset_free(kn_dataset *d);

/* Feature j's n values, whether the dataset is dense or borrowed. */
static inline const double *kn_dataset_column(const kn_dataset *d, size_t j)
{
    return d->x ? d->x + j * d->n : d->col[j];
}

/* For implementations. */
KN_API const void *kn_model_params(const kn_model *m);
KN_API const void *kn_model_state(const kn_model *m);
KN_API void kn_model_set_state(kn_model *m, void *state);

#ifdef __cplusplus
}
#endif
#endif
