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

/* Rows copied out of metric data (score_extras.c): buffers for the arrays
 * d has, kn__take fills them with rows idx[0..m) and describes them. */
typedef struct kn__taken {
    double *y, *pred, *w, *proba;
    int32_t *yc, *pc;
} kn__taken;

kn_status kn__taken_alloc(kn__taken *b, const kn_metric_data *d, size_t m);
void kn__taken_free(kn__taken *b);
void kn__take(const kn_metric_data *d, const size_t *idx, size_t m, kn__taken *b,
              kn_metric_data *out);

/* The bootstrap (score_boot.c). Resample r draws d->n rows with
 * replacement from its own stream (seed, r), whatever the thread count.
 * The value of metric names[m] on resample r goes to vals[m * reps + r]
 * (NaN where the metric is undefined there). Builtin metrics with a
 * weighted form see a resample as a count per row: labels through their
 * confusion cells, means through per-row values, ranks through one sort of
 * the scores made here and a pass per resample; the others (and all of
 * them with plain set: the reference the fast path is tested against)
 * are recomputed on the resample's rows copied. The two differ only in
 * the order of floating-point sums. */
kn_status kn__bootstrap_scores(const kn_metric_data *d, const char *const *names, size_t k,
                               uint64_t seed, size_t reps, int plain, double *vals);
/* Percentile intervals of s's scores over o->bootstrap resamples of d
 * (level o->level, default 0.95) into s->lo, s->hi and s->level; a score
 * undefined on over a tenth of the resamples gets NaN bounds. */
kn_status kn__score_intervals(const kn_score_opts *o, const kn_metric_data *d, kn_scores *s);

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
