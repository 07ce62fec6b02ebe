/* The pipeline object's fields, shared by the pipeline layer's files. */
#ifndef KILN_PIPELINE_IMPL_H
#define KILN_PIPELINE_IMPL_H

#include "kiln/cv.h"
#include "kiln/pipeline.h"
#include "learn/learn-impl.h"

struct kn_pipeline {
    size_t n_steps;
    kn_step **steps;
    kn_model *model;       /* NULL: steps only */
    char *target, *weight; /* column names, or NULL */
    kn_steps_input *input; /* the columns fitted on; NULL before fit */
    int fitted;
    /* made when the pipeline is fitted or decoded (NULL when it has no
     * model, or making it failed): kn_pipeline_predict on a one-row frame
     * takes its row path */
    kn_row_predictor *row;
};

/* KN_OK unless a step of p changes the training rows (a resampler) and
 * task is regression: resamplers balance classes, so that is refused
 * (naming the step) before any work. */
kn_status kn__pipeline_resamplers_fit(const kn_pipeline *p, kn_task task);
/* Made fitted: p->fitted set, p->row made (or left NULL). */
void kn__pipeline_fitted(kn_pipeline *p);
/* p->row freed (the pipeline changes). */
void kn__pipeline_unfit(kn_pipeline *p);
/* kn_pipeline_predict_with / _proba_with on frames, never the row path. */
kn_status kn__pipeline_predict_frames(const kn_pipeline *p, const kn_frame *f,
                                      const kn_predict_opts *o, int proba, double **out, size_t *n);

/* kn_cv_run, the folds' models given fit shares (learn-impl.h) from
 * share (NULL: none): one per fold and its training rows. A search that
 * cross-validates many configurations on the same frame and folds shares
 * what the fits of one fold may share (the binned features). */
kn_status kn__cv_run_shared(const kn_frame *f, const kn_cv_spec *spec, kn__fit_share *share,
                            kn_cv_result *out);

#endif
