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
    /* an ensemble (kiln/pipeline.h, ensemble.c): members fitted on the
     * output of the steps; the model combines their outputs */
    kn_ensemble_method method; /* KN_ENSEMBLE_NONE: no members */
    size_t n_members, folds;
    kn_pipeline **members;
    uint64_t seed;
};

/* ensemble.c. Fits p's members on x (the output of p's steps, roles
 * marked) and then p's model on their (out-of-fold, for stacking)
 * outputs. */
kn_status kn__ensemble_fit(kn_pipeline *p, const kn_frame *x);
/* The frame p's model reads for x (the output of p's steps): the members'
 * outputs, and x's target and weight columns when it has them. New. */
kn_status kn__ensemble_outputs(const kn_pipeline *p, const kn_frame *x, kn_frame **out);
/* Before any work: p's members and method agree with task (at least two
 * members, each with a model that can take task; a vote of classes only
 * for a classification, the mean only for a regression). */
kn_status kn__ensemble_check(const kn_pipeline *p, kn_task task);
/* to gets unfitted copies of from's members and from's method, folds and
 * seed (not its model). */
kn_status kn__ensemble_copy(const kn_pipeline *from, kn_pipeline *to);
/* The members' part of the encoding (format 2), and its reading. */
kn_status kn__ensemble_encode(const kn_pipeline *p, kn_wbuf *w);
kn_status kn__ensemble_decode(kn_rbuf *r, kn_pipeline *p);
void kn__ensemble_free(kn_pipeline *p);

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
