/* Internal: the prep layer's part of the row path (kn_row_predictor,
 * src/pipeline/row_predict.c): a step's fitted columns in a known layout,
 * one step on one row, and a schema's row rules checked on one row. */
#ifndef KILN_ROW_IMPL_H
#define KILN_ROW_IMPL_H

#include "kiln/schema.h"
#include "kiln/step.h"

/* The number of columns s was fitted on. */
size_t kn__step_n_fitted(const kn_step *s);
/* The fitted columns' indices in `layout` (a frame of the columns the step
 * will see, rows not read) into cols (kn__step_n_fitted of them). Returns
 * KN_ERR_UNSUPPORTED when the row path cannot stand in for transform on
 * that layout: a column absent, of another type, or the step has no
 * transform_row. */
kn_status kn__step_row_columns(const kn_step *s, const kn_frame *layout, size_t *cols);
/* transform_row of s on row (cols from kn__step_row_columns). */
kn_status kn__step_transform_row(const kn_step *s, kn_step_row *row, const size_t *cols);

/* A schema's rules prepared for rows of one layout. */
typedef struct kn__row_check kn__row_check;
/* Returns a new check of s on rows laid out as `layout` (columns and
 * types; rows not read); free with kn__row_check_free. */
kn_status kn__row_check_new(const kn_schema *s, const kn_frame *layout, kn__row_check **out);
void kn__row_check_free(kn__row_check *c);
/* 1 when row r of f (laid out as at kn__row_check_new) alone passes every
 * rule kn_schema_validate checks on a one-row frame, 0 when it may not
 * (kn_schema_validate then tells what is wrong). */
int kn__row_check_pass(const kn__row_check *c, const kn_frame *f, size_t r);

#endif
