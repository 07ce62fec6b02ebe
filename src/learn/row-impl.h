/* Internal: the learn layer's part of the row path (kn_row_predictor,
 * src/pipeline/row_predict.c): a fitted model predicting one row that the
 * steps left in a kn_step_row, through the model's own predict functions
 * on a one-row dataset built without a frame. */
#ifndef KILN_LEARN_ROW_IMPL_H
#define KILN_LEARN_ROW_IMPL_H

#include "kiln/model.h"
#include "kiln/step.h"

/* The model's feature count (p). */
size_t kn__model_n_features(const kn_model *m);
/* Where each feature sits in `layout` (the frame the steps give, rows not
 * read) into idx (p of them). KN_ERR_UNSUPPORTED when the row path cannot
 * stand in for kn_model_predict on that layout (a feature absent or of a
 * type the model would refuse, an unfitted model). */
kn_status kn__model_row_features(const kn_model *m, const kn_frame *layout, size_t *idx);
/* The prediction (pred, may be NULL) and a classifier's k probabilities
 * (proba, may be NULL) of one row, with x (p doubles) and col (p
 * pointers) as scratch. Equal to kn_model_predict / _proba on the row as a
 * one-row frame; KN_ERR_UNSUPPORTED for a row those would refuse (a
 * missing or infinite value the model does not take), so that the caller
 * takes the frame path and its message. */
kn_status kn__model_predict_row(const kn_model *m, const kn_step_row *row, const size_t *idx,
                                double *x, const double **col, double *pred, double *proba);

#endif
