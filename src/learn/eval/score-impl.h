/* Internal to scoring (src/learn/eval/) and the pipeline's scoring: the
 * slices of a frame's rows and what kn_score_opts adds to plain scores. */
#ifndef KILN_SCORE_IMPL_H
#define KILN_SCORE_IMPL_H

#include "kiln/evaluate.h"
#include "kiln/metrics.h"

/* The rows of a frame by the values of one column: row[r] indexes
 * values[] (text; "(missing)" for missing cells; numbers in increasing
 * order, other values in order of appearance). At most
 * KN_SLICE_MAX_VALUES values, else an error naming the column. */
typedef struct kn__slices {
    size_t n;
    char **values;
    int *row;
} kn__slices;

kn_status kn__slices_of(const kn_frame *f, const char *column, kn__slices *out);
void kn__slices_free(kn__slices *s);

/* What o asks beyond s's scores of d: bootstrap intervals of each score
 * (o->bootstrap) and, with sl, the scores of each slice (kiln/evaluate.h). */
kn_status kn__score_extras(const kn_score_opts *o, const kn_metric_data *d, const kn__slices *sl,
                           kn_scores *s);

/* kn_model_score_with, with the rows' slices given (sl: NULL for none,
 * else as long as f) instead of o->slice_by: a pipeline slices its raw
 * rows before its steps run. */
kn_status kn__model_score_sliced(const kn_model *m, const kn_frame *f, const kn_score_opts *o,
                                 const kn__slices *sl, kn_scores *out);
/* kn__model_score_sliced with the model's outputs on f's rows given (as
 * its predict_proba gives them for a classifier, its predict for a
 * regressor; NULL: predicted), e.g. the training outputs a fit left
 * (kn__model_fit_output). */
kn_status kn__model_score_outputs(const kn_model *m, const kn_frame *f, const kn_score_opts *o,
                                  const kn__slices *sl, const double *given, kn_scores *out);

#endif
