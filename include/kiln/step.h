/* Kiln steps: transformations that learn their state from training data in
 * fit and apply it unchanged in transform, so a pipeline replays at serving
 * time exactly what it learned (the contract scikit-learn's transformers
 * follow). Steps are registry components of kind KN_COMP_STEP with a
 * parameter table; `kiln help steps` lists them.
 *
 *     kn_step *s;
 *     kn_step_new("standard_scaler", &s);
 *     kn_step_set(s, "columns=age,income");   // default: every numeric feature
 *     kn_step_fit(s, train);
 *     kn_frame *out;
 *     kn_step_transform(s, test, &out);        // new frame; input untouched
 *
 * Missing values (NaN) are ignored by fit and stay missing in transform,
 * except in imputers, whose job is to fill them.
 * Steps follow the component contract (kiln/component.h): parameters by
 * "name=value" or typed struct, validation across parameters before any
 * work, clone, encode/decode (kn_steps_save).
 * Threading: a fitted step is read-only in transform and may be shared.
 */
#ifndef KILN_STEP_H
#define KILN_STEP_H

#include "kiln/codec.h"
#include "kiln/component.h"
#include "kiln/frame.h"
#include "kiln/param.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_step kn_step;

/* One row on the row path (kn_row_predictor, kiln/pipeline.h): per column
 * its type and its cell: num for numeric cells (NaN when missing), text for
 * categorical ones (the level, NULL when missing; borrowed from the input
 * frame or a step's state), i64 for timestamp and int64 ones (as the
 * frame holds them). String cells are not carried (text NULL). cap bounds
 * n; steps that insert columns use kn_step_row_insert. */
typedef struct kn_step_row {
    size_t n, cap;
    kn_col_type *type;
    double *num;
    const char **text;
    int64_t *i64;
} kn_step_row;

/* Insert count columns of type t before pos (numbers 0, texts NULL);
 * KN_ERR_INTERNAL when cap would be passed. Remove the column at pos. */
KN_API kn_status kn_step_row_insert(kn_step_row *r, size_t pos, size_t count, kn_col_type t);
KN_API void kn_step_row_remove(kn_step_row *r, size_t pos);

/* A step implementation. fit sees the selected columns of x (indices into x);
 * transform modifies `out`, a copy of the input, whose columns `cols` match
 * the fitted ones by name and type; it may replace or insert columns. fit stores what it learned
 * with kn_step_set_state(); free_state releases it. Implementations fill it
 * with designated initializers: fields added later stay NULL/0. */
typedef struct kn_step_vt {
    kn_col_type default_type; /* the columns taken when `columns` is empty (features) */
    kn_status (*fit)(kn_step *s, const kn_frame *x, const size_t *cols, size_t n);
    kn_status (*transform)(const kn_step *s, kn_frame *out, const size_t *cols, size_t n);
    void (*free_state)(void *state);
    /* Encode / decode the fitted state (n = number of fitted columns). */
    kn_status (*save)(const kn_step *s, kn_wbuf *w);
    kn_status (*load)(kn_step *s, kn_rbuf *r, size_t n);
    int names_own_columns; /* 1: the step names its inputs in its own parameters */
    /* Optional: the output for the training data itself, when it must differ
     * from transform's (target encoding fits out of fold so a row's own target
     * never leaks into its feature). `out` is a copy of x to modify. */
    kn_status (*fit_transform)(const kn_step *s, const kn_frame *x, kn_frame *out,
                               const size_t *cols, size_t n);
    /* Optional: rules across parameters (kiln/component.h), checked before
     * any work; the message names the parameters. */
    kn_validate_fn validate;
    /* Optional: transform on one row (the row path), changing the row's
     * columns as transform changes a frame's and computing each value with
     * the same operations, so results are bit-identical. It returns
     * KN_ERR_UNSUPPORTED for a row (or parameters) it leaves to transform,
     * which then reports what is wrong with it (e.g. an unknown level). */
    kn_status (*transform_row)(const kn_step *s, kn_step_row *row, const size_t *cols, size_t n);
    /* Optional: a fit-time-only step that changes the training rows
     * (resamplers: over- and under-sampling, SMOTE, cleaning). On the
     * training data only (kn_step_fit_transform: a pipeline's fit, so each
     * CV training fold and a run's training rows) *out is a new frame with
     * x's columns and the rows the step chose: copies, synthetic rows,
     * fewer rows. Everywhere else (transform, transform_row: validation,
     * test and predicted rows) the step passes rows through unchanged, so
     * its transform and transform_row must be the identity. x holds the
     * target (role KN_ROLE_TARGET); cols are the fitted columns. */
    kn_status (*resample)(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                          kn_frame **out);
} kn_step_vt;

/* Parameters every step has, first in its params struct. */
typedef struct kn_step_common {
    /* comma-separated: names, "type:T" (feature columns of type T), "match:REGEX"
     * (feature columns whose name matches), each with a leading '-' to take
     * columns out; "" = every feature column of the step's default type */
    const char *columns; /* a string parameter (see kiln/param.h) */
} kn_step_common;

#define KN_STEP_COMMON_PARAMS(T)                                                                   \
    {                                                                                              \
        "columns", KN_PARAM_T_STRING, KN__PARAM_FIELD(T, common.columns, const char *), "", 0, 0,  \
            NULL,                                                                                  \
            "columns: names, type:T, match:REGEX, -X to exclude (default: every numeric feature)", \
            NULL                                                                                   \
    }
#define KN_STEP_COMMON_PARAMS_CATEGORICAL(T)                                                       \
    {                                                                                              \
        "columns", KN_PARAM_T_STRING, KN__PARAM_FIELD(T, common.columns, const char *), "", 0, 0,  \
            NULL,                                                                                  \
            "columns: names, type:T, match:REGEX, -X to exclude (default: every categorical "      \
            "feature)",                                                                            \
            NULL                                                                                   \
    }

/* Returns a new unfitted step with default parameters; free with kn_step_free(). */
KN_API kn_status kn_step_new(const char *name, kn_step **out);
KN_API void kn_step_free(kn_step *s);
/* Set a parameter from "name=value" (errors name the parameter). Unfits the step. */
KN_API kn_status kn_step_set(kn_step *s, const char *name_eq_value);
/* Set every parameter from the step's typed params struct (`size` =
 * sizeof it): fields checked against the table, then the rules across
 * parameters; on failure nothing changes. Unfits the step. */
KN_API kn_status kn_step_set_params(kn_step *s, const void *params, size_t size);
/* The rules across parameters (the vtable's validate): KN_OK, or an error
 * naming the parameters. kn_step_fit runs it before any work. */
KN_API kn_status kn_step_validate(const kn_step *s);
/* Returns a new step with s's parameters: fitted 0, unfitted; fitted 1, a
 * deep copy of a fitted s (columns and state, through the step's encoding,
 * so every step supports it). Free with kn_step_free(). */
KN_API kn_status kn_step_clone(const kn_step *s, int fitted, kn_step **out);
/* A new step from "name" or "name:param=value;param=value" (the form of
 * `kiln prep --step`); errors name the step or the parameter. */
KN_API kn_status kn_step_from_spec(const char *spec, kn_step **out);
KN_API kn_status kn_step_fit(kn_step *s, const kn_frame *x);
/* Fit on x and return x transformed, as a pipeline does on training data.
 * Equal to kn_step_fit then kn_step_transform, except for steps that must not
 * see a row's own target (target_encoder), which encode out of fold. */
KN_API kn_status kn_step_fit_transform(kn_step *s, const kn_frame *x, kn_frame **out);
/* Returns a new frame; free with kn_frame_free(). Fails if the step is not
 * fitted, or a fitted column is absent from `in` or has another type. A
 * fitted column that is entirely missing in `in` (which a reader types as
 * numeric) is taken as an all-missing column of the fitted type: imputers
 * fill it, scalers leave it missing, one-hot gives zeros (or its "nan"
 * column) with handle_unknown=ignore. */
KN_API kn_status kn_step_transform(const kn_step *s, const kn_frame *in, kn_frame **out);
KN_API const char *kn_step_name(const kn_step *s);
KN_API int kn_step_is_fitted(const kn_step *s);
/* 1 when s changes the training rows at fit time (a resampler: the
 * vtable's resample); its transform passes rows through unchanged. */
KN_API int kn_step_changes_rows(const kn_step *s);

/* Save fitted steps to one file (.kst: magic, version, each step's name,
 * parameters, fitted columns and state, then (format 3) the input record
 * below, BLAKE2b-256 checksum), written to a
 * temporary name and renamed. Loading checks the checksum and every length:
 * a damaged file is KN_ERR_CORRUPT, never a crash. kn_steps_load returns a
 * new array of new steps (free each with kn_step_free, the array with kn_free). */
KN_API kn_status kn_steps_save(kn_step *const *steps, size_t n, const char *path);
KN_API kn_status kn_steps_load(const char *path, kn_step ***steps, size_t *n);

/* What saved steps expect of their input: the target column (passed through
 * unchanged, never transformed; NULL when none was named) and the name and
 * type of every column of the frame the first step was fitted on, so that
 * new data is read with the fitted types (kn_read_opts.decls) rather than
 * types guessed again from a few rows. */
typedef struct kn_steps_input {
    char *target;
    size_t n_cols;
    char **names;
    kn_col_type *types;
} kn_steps_input;

/* Returns a new record of f's columns, the target being f's column with the
 * target role (if any); free with kn_steps_input_free(). */
KN_API kn_status kn_steps_input_of(const kn_frame *f, kn_steps_input **out);
KN_API void kn_steps_input_free(kn_steps_input *in);
/* kn_steps_save, recording `in` (may be NULL) after the steps (format 3). */
KN_API kn_status kn_steps_save_with_input(kn_step *const *steps, size_t n, const kn_steps_input *in,
                                          const char *path);
/* kn_steps_load, and *in receives the recorded input: a new record
 * (kn_steps_input_free), or NULL when the file has none (saved without it,
 * or before format 3). */
KN_API kn_status kn_steps_load_with_input(const char *path, kn_step ***steps, size_t *n,
                                          kn_steps_input **in);

/* kn_steps_save_with_input, also recording the reader settings the input
 * was read with (read: kn_read_settings_format's text, kiln/io.h; NULL:
 * the default settings) so that new data is read the same way (format 4;
 * kn_steps_save_with_input records the default settings). */
KN_API kn_status kn_steps_save_with_read(kn_step *const *steps, size_t n, const kn_steps_input *in,
                                         const char *read, const char *path);
/* kn_steps_load_with_input, and *read receives the recorded reader
 * settings: a new text (kn_free), or NULL for a file saved before format 4
 * (read new data for it with the settings of that time: pass a
 * kn_read_settings with a NULL text to kn_read_settings_apply). read may be
 * NULL. */
KN_API kn_status kn_steps_load_with_read(const char *path, kn_step ***steps, size_t *n,
                                         kn_steps_input **in, char **read);

/* The payload of a steps file without the container: the fitted steps and
 * the input record (`in` may be NULL), appended to w; and back from r
 * (with_input: r holds an input record after the steps, as format 3 and
 * later write it). For other containers that hold steps (pipelines). */
KN_API kn_status kn_steps_encode(kn_step *const *steps, size_t n, const kn_steps_input *in,
                                 kn_wbuf *w);
KN_API kn_status kn_steps_decode(kn_rbuf *r, int with_input, kn_step ***steps, size_t *n,
                                 kn_steps_input **in);

/* For implementations. Borrowed pointers, valid until the step is freed or refitted. */
KN_API const void *kn_step_params(const kn_step *s);
KN_API const void *kn_step_state(const kn_step *s);
/* Take ownership of a fitted state (freed with the vtable's free_state). */
KN_API void kn_step_set_state(kn_step *s, void *state);

#ifdef __cplusplus
}
#endif
#endif
