/* Permutation importance (Breiman 2001; scikit-learn's
 * permutation_importance): how much a fitted model's score falls when one
 * feature's values are shuffled across the rows, which breaks the
 * feature's link to the target and keeps its distribution. Works for any
 * model; the score is accuracy for classifiers and R^2 for regressors
 * (scikit-learn's defaults), measured on f (which holds the target).
 *
 *     double mean[p], std[p];
 *     kn_permutation_importance(m, test, 5, 0, mean, std);
 */
#ifndef KILN_IMPORTANCE_H
#define KILN_IMPORTANCE_H

#include "kiln/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* For each of the model's kn_model_n_features features: the mean and the
 * standard deviation (population) over `repeats` shuffles of the score's
 * fall. Shuffles come from seed, feature by feature, so results do not
 * depend on the thread count. */
KN_API kn_status kn_permutation_importance(const kn_model *m, const kn_frame *f, size_t repeats,
                                           uint64_t seed, double *mean, double *std);
/* The same, predicting with per-call options (po may be NULL). */
KN_API kn_status kn_permutation_importance_with(const kn_model *m, const kn_frame *f,
                                                const kn_predict_opts *po, size_t repeats,
                                                uint64_t seed, double *mean, double *std);

#ifdef __cplusplus
}
#endif
#endif
