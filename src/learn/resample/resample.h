/* Internal: what the resampling steps share (random over- and under-
 * sampling in resample.c, the SMOTE family in smote.c, cleaning in
 * clean.c). Each is a prep step (kiln/step.h) with the vtable's `resample`:
 * it changes the training rows at fit time only and passes every other
 * row through. They live in learn/ because they search neighbours with the
 * k-d tree (learn/neighbors/kdtree.h). */
#ifndef KILN_LEARN_RESAMPLE_H
#define KILN_LEARN_RESAMPLE_H

#include "kiln/frame.h"
#include "kiln/param.h"
#include "kiln/step.h"

#include <stdint.h>

/* One parameter struct for every resampler; each table shows the fields
 * that step uses. */
typedef struct kn__rs_params {
    kn_step_common common;
    const char *sampling_strategy;
    int64_t k_neighbors, m_neighbors, n_neighbors;
    int kind_sel;
    int64_t seed;
} kn__rs_params;

enum { KN__RS_OVER, KN__RS_UNDER, KN__RS_CLEAN };

/* The training rows as a resampler sees them: the class of each row (an
 * index among the sorted labels), counts per class, and (with features)
 * the fitted numeric columns row-major, n x p. */
typedef struct kn__rs_data {
    size_t n, k, p;
    int32_t *y;
    size_t *count;
    char **label; /* the classes' labels, for messages and strategies */
    double *x;    /* NULL unless asked for */
    const char *step;
} kn__rs_data;

/* Reads x's target (role KN_ROLE_TARGET) as classes and, with features, the
 * numeric columns cols[0..n_cols) (missing values refused). A target that
 * is not a class label (a number with a fraction) or has one class is an
 * error naming the step. */
kn_status kn__rs_data_read(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n_cols,
                           int features, kn__rs_data *d);
void kn__rs_data_free(kn__rs_data *d);

/* The rows per class wanted after resampling (`want[c]`, or -1: class c
 * untouched) from the step's sampling_strategy: auto, minority, majority,
 * not_minority, not_majority, all, a ratio in (0, 1] (two classes: the
 * minority's count over the majority's after resampling), or explicit
 * counts "label:count,...". kind is KN__RS_OVER, _UNDER or _CLEAN (clean:
 * want[c] = 0 marks the classes cleaned). */
kn_status kn__rs_targets(const kn__rs_data *d, const char *strategy, int kind, int64_t *want);

/* *out = x's rows idx[0..m) (repeats allowed) followed by n_new copies of
 * rows base[0..n_new) whose fitted numeric columns become syn (n_new x p,
 * row-major); cat_codes (n_new x n_cat, may be NULL) sets the categorical
 * columns cat_cols. */
kn_status kn__rs_build(const kn_frame *x, const size_t *idx, size_t m, const size_t *cols, size_t p,
                       const size_t *base, const double *syn, size_t n_new, const size_t *cat_cols,
                       size_t n_cat, const int32_t *cat_codes, kn_frame **out);

/* The k nearest neighbours of each query row among the points (row-major,
 * dimension p), skipping the query's own index self[i] (self NULL: skip
 * nothing): nb is m x k. Exact, ties by index (the k-d tree). */
kn_status kn__rs_neighbours(const double *points, size_t n_points, size_t p, const double *q,
                            size_t m, const size_t *self, size_t k, size_t *nb);

/* Steps' shared pieces. */
kn_status kn__rs_fit(kn_step *s, const kn_frame *x, const size_t *cols, size_t n);
kn_status kn__rs_identity(const kn_step *s, kn_frame *out, const size_t *cols, size_t n);
kn_status kn__rs_identity_row(const kn_step *s, kn_step_row *row, const size_t *cols, size_t n);

#define KN__RS_STRATEGY(d, doc) KN_PARAM_STRING(kn__rs_params, sampling_strategy, d, doc)
#define KN__RS_SEED KN_PARAM_INT(kn__rs_params, seed, "0", 0, 1e15, "seed of the random draws")

/* A resampler's step table: fitted for the record, identity on frames and
 * rows (predict time), and fn on the training rows. */
#define KN__RS_VT(name, fn)                                                                        \
    static const kn_step_vt name = {.default_type = KN_COL_NUMERIC,                                \
                                    .fit = kn__rs_fit,                                             \
                                    .transform = kn__rs_identity,                                  \
                                    .free_state = kn_free,                                         \
                                    .transform_row = kn__rs_identity_row,                          \
                                    .save = kn__stateless_save,                                    \
                                    .load = kn__stateless_load,                                    \
                                    .resample = fn}

#endif
