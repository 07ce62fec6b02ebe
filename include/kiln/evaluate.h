/* Scoring a fitted model on a frame that holds its target: the target as
 * the model sees it, and the standard metrics of the model's task (the ones
 * `kiln eval`, `kiln train --test-size` and `kiln cv` print).
 *
 *     kn_scores s;
 *     kn_model_score(m, test, NULL, &s);   // s.name[i], s.value[i]
 */
#ifndef KILN_EVALUATE_H
#define KILN_EVALUATE_H

#include "kiln/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KN_MAX_SCORES 8

typedef struct kn_scores {
    size_t rows, n;
    const char *name[KN_MAX_SCORES]; /* static strings */
    double value[KN_MAX_SCORES];
    int higher_is_better[KN_MAX_SCORES];
} kn_scores;

/* The target column of f as the model sees it: numeric values for
 * regression, class indices for classification (a class the model never
 * saw, a missing or non-numeric target is an error naming the row). A new
 * array of kn_frame_n_rows(f) values; kn_free. */
KN_API kn_status kn_model_targets(const kn_model *m, const kn_frame *f, double **y);

/* Regression: rmse, mae, r2, explained_variance, median_ae. Classification:
 * accuracy, balanced_accuracy, f1_macro, and from probabilities log_loss
 * and roc_auc (binary) or roc_auc_ovr (macro one-vs-rest). weight names a
 * column of sample weights (NULL: none). */
KN_API kn_status kn_model_score(const kn_model *m, const kn_frame *f, const char *weight,
                                kn_scores *out);

/* The index of `name` in s, or -1. */
KN_API int kn_scores_find(const kn_scores *s, const char *name);

#ifdef __cplusplus
}
#endif
#endif
