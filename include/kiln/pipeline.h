/* Kiln pipelines: what is fitted, saved, served and searched as one unit:
 * the input record of the frame it was fitted on (column names and types),
 * preparation steps (kiln/step.h) applied in order, and a model
 * (kiln/model.h). Either part may be absent: a pipeline of steps only
 * prepares data (`kiln prep`), one of a model only is what `kiln train`
 * fits.
 *
 *     kn_pipeline *p = NULL;
 *     kn_pipeline_new(&p);
 *     kn_pipeline_add_step_spec(p, "simple_imputer:strategy=median");
 *     kn_pipeline_set_model_spec(p, "ridge", (const char *[]){"alpha=0.5"}, 1);
 *     kn_pipeline_set_target(p, "price", NULL);
 *     kn_pipeline_fit(p, train, NULL);
 *     kn_pipeline_predict(p, new_rows, &pred, &n);   // kn_free(pred)
 *
 * Fitting marks the target and weight columns as such (steps leave them
 * alone and pass them through), fits each step on the output of the one
 * before and the model on the last output. Prediction applies the fitted
 * steps to new rows (which need not hold the target) and the model to
 * their output.
 *
 * Every call runs in the calling thread's run context (kiln/ctx.h: its
 * memory budget, stage records, sinks and cancel flag); a fit checks the
 * cancel flag before each step and the model (which check it in their own
 * loops) and returns KN_ERR_CANCELLED.
 *
 * Threading: a fitted pipeline is read-only for transform, predict, score,
 * encode and clone, so any number of threads may call them on one pipeline
 * at once (tests/unit/pipeline/test_pipeline_threads.c runs them under
 * ThreadSanitizer). Adding parts, setting the target and fitting change it:
 * one thread, with no concurrent readers.
 */
#ifndef KILN_PIPELINE_H
#define KILN_PIPELINE_H

#include "kiln/evaluate.h"
#include "kiln/model.h"
#include "kiln/schema.h"
#include "kiln/step.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_pipeline kn_pipeline;

KN_API kn_status kn_pipeline_new(kn_pipeline **out);
KN_API void kn_pipeline_free(kn_pipeline *p);

/* Append a step (taken: the pipeline frees it, also when this fails), or
 * one from a spec "name:param=value;..." (kn_step_from_spec). */
KN_API kn_status kn_pipeline_add_step(kn_pipeline *p, kn_step *s);
KN_API kn_status kn_pipeline_add_step_spec(kn_pipeline *p, const char *spec);
/* Set the model (taken, replacing one set before), or a new model `name`
 * with n parameters "name=value". */
KN_API kn_status kn_pipeline_set_model(kn_pipeline *p, kn_model *m);
KN_API kn_status kn_pipeline_set_model_spec(kn_pipeline *p, const char *name,
                                            const char *const *params, size_t n);
/* The target and weight columns (copied; weight may be NULL). A pipeline
 * with a model needs a target before it is fitted. */
KN_API kn_status kn_pipeline_set_target(kn_pipeline *p, const char *target, const char *weight);

/* Fit every step, then the model, on f. When prepared is not NULL it
 * receives f after the steps (the frame the model was fitted on; new,
 * kn_frame_free). Refitting a fitted pipeline starts again from f. */
KN_API kn_status kn_pipeline_fit(kn_pipeline *p, const kn_frame *f, kn_frame **prepared);
KN_API int kn_pipeline_is_fitted(const kn_pipeline *p);

/* f after the fitted steps (new frame); for a pipeline with members, the
 * frame its model reads: the members' outputs on that (below). */
KN_API kn_status kn_pipeline_transform(const kn_pipeline *p, const kn_frame *f, kn_frame **out);
/* The model's predictions for every row of f after the steps (a new array
 * of n values, kn_free; class indices for classifiers, kn_model_class
 * gives the label), and a classifier's n x k probabilities. */
KN_API kn_status kn_pipeline_predict(const kn_pipeline *p, const kn_frame *f, double **out,
                                     size_t *n);
KN_API kn_status kn_pipeline_predict_proba(const kn_pipeline *p, const kn_frame *f, double **out,
                                           size_t *n);
/* kn_pipeline_predict / _proba with per-call prediction options (o may be
 * NULL; e.g. gbdt's rounds). Read-only, like the others. */
KN_API kn_status kn_pipeline_predict_with(const kn_pipeline *p, const kn_frame *f,
                                          const kn_predict_opts *o, double **out, size_t *n);
KN_API kn_status kn_pipeline_predict_proba_with(const kn_pipeline *p, const kn_frame *f,
                                                const kn_predict_opts *o, double **out, size_t *n);
/* Scores of the model on f after the steps (f holds the target; o may be
 * NULL: no weights, the default positive class). */
KN_API kn_status kn_pipeline_score(const kn_pipeline *p, const kn_frame *f, const kn_score_opts *o,
                                   kn_scores *out);
/* One metric (a registered name) of p on f, as kn_pipeline_score gives it,
 * with the positive class (NULL: the default), and the rows it scored:
 * what compares two versions on the same rows (kiln monitor retrain's
 * holdout, the registry's gate on the candidate's test rows). */
KN_API kn_status kn_pipeline_score_one(const kn_pipeline *p, const kn_frame *f, const char *metric,
                                       const char *positive_class, double *value, size_t *rows);

/* Predict one row of raw text values, as a request or a CSV line gives
 * them: value i belongs to the input column names[i] (any order; columns
 * the pipeline was not fitted on are an error naming them, fitted ones that
 * are absent or NULL or "" are missing). Values are read with the fitted
 * column types: a number that does not parse is an error naming the column
 * and the value. *prediction receives the prediction (a class index for
 * classifiers); proba, when not NULL, the k class probabilities of a
 * classifier (kn_model_n_classes). */
KN_API kn_status kn_pipeline_predict_row(const kn_pipeline *p, const char *const *names,
                                         const char *const *values, size_t n, double *prediction,
                                         double *proba);

/* A prepared one-row predictor: what a server calls per request. Made once
 * from a fitted pipeline with a model (and, optionally, the input schema a
 * row must meet), it predicts one row of a frame laid out as the
 * pipeline's input (the fitted input columns without the target and
 * weight, in their recorded order and fitted types): the schema's rules
 * checked on the row without a report, the steps applied to the row in
 * place without frame copies, and the model's own predict run on a
 * one-row dataset built without a frame, with no allocation per row for
 * rows up to 256 columns wide. Results are bit-identical to
 * kn_schema_validate + kn_pipeline_predict / _proba on the row as a
 * one-row frame: whatever the row path does not cover (a step or a column
 * type without it, another layout, a row that a rule or a step refuses)
 * takes that frame path, with its messages.
 *
 *     kn_row_predictor *rp;
 *     kn_row_predictor_new(p, schema, &rp);         // p and schema borrowed
 *     kn_validation *bad = NULL;
 *     kn_row_predict(rp, rows, 0, &y, proba, &bad); // per request
 *
 * Threading: read-only once made; any number of threads may predict with
 * one predictor at once. */
typedef struct kn_row_predictor kn_row_predictor;

/* Returns a new predictor for p (fitted, with a model) and schema (may be
 * NULL: no checks); both are borrowed and must outlive it. Free with
 * kn_row_predictor_free. */
KN_API kn_status kn_row_predictor_new(const kn_pipeline *p, const kn_schema *schema,
                                      kn_row_predictor **out);
KN_API void kn_row_predictor_free(kn_row_predictor *rp);
/* 1 when rows of the input layout take the row path, 0 when every row
 * takes the frame path (a step, column type or model without it). */
KN_API int kn_row_predictor_fast(const kn_row_predictor *rp);
/* Row `row` of f: *prediction (may be NULL; a class index for classifiers)
 * and proba (may be NULL; a classifier's k probabilities). A row that
 * breaks the schema gives KN_ERR_INVALID naming the column and rule, and
 * *report (when not NULL) receives kn_schema_validate's report on the row
 * alone (new, kn_validation_free; NULL otherwise). */
KN_API kn_status kn_row_predict(const kn_row_predictor *rp, const kn_frame *f, size_t row,
                                double *prediction, double *proba, kn_validation **report);

/* Ensembles of pipelines. A pipeline may hold members: whole pipelines,
 * each with its own steps and model, fitted on the rows after the
 * enclosing pipeline's own steps (with its target and weight). Its model
 * then combines what the members give, and kn_pipeline_transform gives the
 * frame that model reads: one column per member output (below), beside
 * the target and weight columns when the rows hold them.
 *   - KN_ENSEMBLE_HARD_VOTE / SOFT_VOTE (classification) and MEAN
 *     (regression): the members are fitted on all the rows and the model
 *     is a member_vote (made by kn_pipeline_set_ensemble): the most voted
 *     class (ties: the first class), the largest mean probability, or the
 *     mean value.
 *   - KN_ENSEMBLE_STACKING: the model (kn_pipeline_set_model: the final
 *     model) is fitted on the members' out-of-fold outputs over `folds`
 *     folds (stratified for a classifier, shuffled by `seed`), then the
 *     members are fitted again on all the rows (scikit-learn's
 *     StackingClassifier / StackingRegressor).
 * A classifier member's outputs are its k class probabilities (the second
 * class's alone for two classes when stacking, as scikit-learn drops the
 * first), or with a hard vote its class index; a regressor's its value.
 * Columns are named "member<i>:<class>" or "member<i>". A fit refuses
 * fewer than two members, a member without a model or of the other task,
 * and a vote of the wrong task, before fitting anything.
 *
 *     kn_pipeline_add_member(p, scaled_logistic);   // p takes them
 *     kn_pipeline_add_member(p, one_hot_tree);
 *     kn_pipeline_set_model_spec(p, "logistic_regression", NULL, 0);
 *     kn_pipeline_set_ensemble(p, KN_ENSEMBLE_STACKING, 5, seed);
 *
 * Members' one-row predictions take the frame path (kn_row_predictor_new
 * refuses such a pipeline). */
typedef enum {
    KN_ENSEMBLE_NONE = 0,
    KN_ENSEMBLE_HARD_VOTE = 1,
    KN_ENSEMBLE_SOFT_VOTE = 2,
    KN_ENSEMBLE_MEAN = 3,
    KN_ENSEMBLE_STACKING = 4
} kn_ensemble_method;

/* Adds a member; p takes it (freed on failure too). */
KN_API kn_status kn_pipeline_add_member(kn_pipeline *p, kn_pipeline *member);
/* The combining method; for the votes and the mean also p's model (a new
 * member_vote); folds and seed are the stacking's (folds 0: 5). */
KN_API kn_status kn_pipeline_set_ensemble(kn_pipeline *p, kn_ensemble_method method, size_t folds,
                                          uint64_t seed);
KN_API kn_ensemble_method kn_pipeline_ensemble(const kn_pipeline *p);
/* The stacking's folds and seed (as kn_pipeline_set_ensemble set them). */
KN_API size_t kn_pipeline_folds(const kn_pipeline *p);
KN_API uint64_t kn_pipeline_seed(const kn_pipeline *p);
KN_API size_t kn_pipeline_n_members(const kn_pipeline *p);
/* Member i (borrowed; valid while p lives), or NULL. */
KN_API const kn_pipeline *kn_pipeline_member(const kn_pipeline *p, size_t i);

/* A new pipeline with p's parts: fitted 0, unfitted copies of the steps,
 * the members and the model with their parameters and the same target and weight (what
 * each CV fold or search trial fits); fitted 1, a deep copy of a fitted p
 * (made through its encoding). Free with kn_pipeline_free. */
KN_API kn_status kn_pipeline_clone(const kn_pipeline *p, int fitted, kn_pipeline **out);

/* A fitted pipeline's encoding in memory (the artifact writes it into its
 * file): u32 format version, target and weight, the steps with the input
 * record (kn_steps_encode), and the model's encoding (kn_model_encode)
 * when it has one; format 2 (written only for a pipeline with members;
 * others stay format 1) then adds u32 method, u64 folds, u64 seed, u64
 * members and each member's encoding (u64 length, bytes). Deterministic: the same pipeline gives
 * the same bytes. *buf is new; free with kn_free(). */
KN_API kn_status kn_pipeline_encode(const kn_pipeline *p, unsigned char **buf, size_t *len);
/* Returns a new fitted pipeline from an encoding; every length and count
 * is checked, so damaged bytes are KN_ERR_CORRUPT (a newer format
 * KN_ERR_VERSION), never a crash. `what` names the source in errors. */
KN_API kn_status kn_pipeline_decode(const void *buf, size_t len, const char *what,
                                    kn_pipeline **out);

/* The parts (borrowed; valid while p lives and is not refitted). */
KN_API size_t kn_pipeline_n_steps(const kn_pipeline *p);
KN_API const kn_step *kn_pipeline_step(const kn_pipeline *p, size_t i);
/* The steps as an array (for kn_steps_save_with_input). */
KN_API kn_step *const *kn_pipeline_steps(const kn_pipeline *p);
/* NULL when the pipeline has no model. The second form lets the owner
 * change the fitted model (e.g. record held-out scores with
 * kn_model_record_metrics) before the pipeline is shared. */
KN_API const kn_model *kn_pipeline_model(const kn_pipeline *p);
KN_API kn_model *kn_pipeline_model_edit(kn_pipeline *p);
/* The columns the pipeline was fitted on (NULL before fit). */
KN_API const kn_steps_input *kn_pipeline_input(const kn_pipeline *p);
KN_API const char *kn_pipeline_target(const kn_pipeline *p);
KN_API const char *kn_pipeline_weight(const kn_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
