/* Internal helpers shared by the prep steps. */
#ifndef KILN_PREP_IMPL_H
#define KILN_PREP_IMPL_H

#include "kiln/frame.h"
#include "kiln/registry.h"
#include "kiln/step.h"

/* The step components (registered in builtin.c). */
extern const kn_component kn__standard_scaler, kn__minmax_scaler, kn__robust_scaler,
    kn__maxabs_scaler, kn__simple_imputer, kn__ordinal_encoder, kn__onehot_encoder,
    kn__log1p_transform, kn__polynomial_features, kn__kbins_discretizer, kn__datetime_features,
    kn__combine_columns, kn__frequency_encoder, kn__drop_constant, kn__outlier_clip,
    kn__power_transformer, kn__pca, kn__hashing_encoder, kn__target_encoder, kn__knn_imputer,
    kn__coerce;

/* One step's name, parameters, fitted columns and state, and back. */
kn_status kn__step_encode(const kn_step *s, kn_wbuf *w);
kn_status kn__step_decode(kn_rbuf *r, kn_step **out);

/* Per-column arrays of doubles, as state: encode n values / decode exactly n. */
kn_status kn__decode_f64s(kn_rbuf *r, size_t n, double **out);

/* Read the column count a saved state starts with; it must equal n. */
kn_status kn__state_count(kn_rbuf *r, size_t n, const char *step);

/* For steps whose only state is "fitted": a marker state, and its (empty)
 * encoding, so save/load and kn_step_state() behave alike for every step. */
kn_status kn__mark_fitted(kn_step *st);
kn_status kn__stateless_save(const kn_step *st, kn_wbuf *w);
kn_status kn__stateless_load(kn_step *st, kn_rbuf *r, size_t n);

/* Indices 0..n-1 ordered by cols[] descending: steps that insert or replace
 * columns work from the rightmost, so the others keep their positions. */
void kn__order_desc(const size_t *cols, size_t n, size_t *order);

/* Non-missing values of a numeric column, sorted ascending, into a new array
 * (kn_free); *n receives their count. */
kn_status kn__sorted_values(kn_column *c, size_t rows, double **out, size_t *n);
/* The same without sorting, in the column's order. */
kn_status kn__present_values(kn_column *c, size_t rows, double **out, size_t *n);
/* Quantile q of unsorted values (reordered in place): equal to
 * kn__quantile_sorted on the sorted values, in linear expected time. */
double kn__quantile_select(double *v, size_t n, double q);
/* Quantile q in [0, 1] of sorted values, linear interpolation (numpy's default). */
double kn__quantile_sorted(const double *v, size_t n, double q);
/* sklearn's _handle_zeros_in_scale: a scale below 10 machine epsilons becomes 1. */
double kn__nonzero_scale(double scale);

/* Learned numbers per category, for steps that replace a categorical column
 * by a number per level (frequency and target encoders): per fitted column
 * the levels in sorted order with their values; `unknown` for levels not
 * seen at fit, `missing` for missing cells. */
typedef struct kn__level_values {
    size_t n;
    char **level;
    double *value;
} kn__level_values;

typedef struct kn__lv_state {
    size_t n;
    double unknown, missing;
    kn__level_values *cols;
} kn__lv_state;

kn__lv_state *kn__lv_new(size_t n_cols, double unknown, double missing);
void kn__lv_free(void *state);
/* Fill lv from column c: the levels (codes) with keep[code] > 0, valued value[code]. */
kn_status kn__lv_set(kn__level_values *lv, kn_column *c, const double *value, const double *keep);
/* Replace column pos of out by a new numeric column (same name and role); *v its cells. */
kn_status kn__lv_replace(kn_frame *out, size_t pos, double **v);
/* The vtable parts: transform, save, load. */
kn_status kn__lv_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n);
kn_status kn__lv_save(const kn_step *st, kn_wbuf *w);
kn_status kn__lv_load(kn_step *st, kn_rbuf *r, size_t n);
/* count sorted, unique level strings into v; *n counts those read. */
kn_status kn__read_sorted_levels(kn_rbuf *r, size_t count, char **v, size_t *n);

#endif
