/* A drift reference: what kiln/drift.h's tests need of the training rows,
 * kept small enough to travel in the artifact (KN_ART_REFERENCE, see
 * kiln/artifact.h), so `kiln monitor check` and `kiln serve --drift-window`
 * compare new rows with the training rows without the training file.
 *
 *     kn_drift_ref *r = NULL;
 *     kn_drift_ref_build(train, names, n_names, &r);     // the input columns
 *     kn_drift_ref_encode(r, &buf, &len);                 // deterministic bytes
 *     ...
 *     kn_drift_ref_decode(buf, len, "m.kiln", &r);
 *     kn_drift_ref_frames(r, batch, &opts, &report);      // as kn_drift_frames
 *     kn_drift_ref_free(r);
 *
 * Per numeric column (numbers, integers, timestamps): the count of cells,
 * of present values, and a sorted sample of at most KN_DRIFT_REF_SAMPLE of
 * the present values: all of them when there are no more, else the order
 * statistics at ranks floor(i (n - 1) / (KN_DRIFT_REF_SAMPLE - 1)), i = 0 ..
 * KN_DRIFT_REF_SAMPLE - 1 (the least and the greatest value, and the
 * reference's deciles exactly). The tests then run on the sample
 * (kn_drift_numbers_sample): D, Wasserstein and the PSI's reference shares
 * move by about 1 / KN_DRIFT_REF_SAMPLE at most; the p-value, the PSI
 * threshold and the missing share use the full counts. A column with no more
 * present values than the sample holds gives exactly what the rows give.
 * Per text column (categorical, string): the count of each value, exact, for
 * at most KN_DRIFT_REF_LEVELS values (the most frequent; ties by bytes); the
 * cells of the rest are one "other" count, to which a batch's values
 * outside the kept ones go (such a column reports no unseen values).
 *
 * A reference may also hold the model's predictions on the reference rows
 * (role KN_DRIFT_REF_PREDICTION: numeric for regression, the class labels
 * as text for classification, "(prediction)"; and a classifier's scores,
 * numeric, "(score)"), for artifacts without held-out predictions.
 *
 * Encoding (little-endian, kiln/codec.h): u32 version (1), u64 rows, u32
 * columns; per column: string name, u32 kind (0 numeric, 1 text), u32 role
 * (0 input, 1 prediction), u64 cells; numeric: u64 present, u64 m, m f64
 * (sorted, finite or infinite, no NaN); text: u64 missing, u64 other, u64 k,
 * k x (string value, u64 count), values in increasing byte order. Counts
 * add up to the cells; decoding checks every one (KN_ERR_CORRUPT naming the
 * source).
 *
 * Threading: a reference is read-only after build or decode; any number of
 * threads may test against one at once.
 */
#ifndef KILN_DRIFT_REF_H
#define KILN_DRIFT_REF_H

#include "kiln/drift.h"
#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { KN_DRIFT_REF_SAMPLE = 2001, KN_DRIFT_REF_LEVELS = 1000 };

typedef enum { KN_DRIFT_REF_INPUT = 0, KN_DRIFT_REF_PREDICTION = 1 } kn_drift_ref_role;

typedef struct kn_drift_ref kn_drift_ref;

/* Returns a new reference of the columns of f named in names (all of f's
 * columns when names is NULL); free with kn_drift_ref_free(). A name f
 * lacks is an error naming it. */
KN_API kn_status kn_drift_ref_build(const kn_frame *f, const char *const *names, size_t n_names,
                                    kn_drift_ref **out);
/* Add the model's predictions on the reference rows: n numbers
 * (regression, classes NULL) or class indices into classes[0..k). */
KN_API kn_status kn_drift_ref_add_predictions(kn_drift_ref *r, const double *y, size_t n,
                                              const char *const *classes, size_t k);
/* Add a classifier's scores on the reference rows (kn_drift_class_score of
 * each row): a numeric column KN_DRIFT_SCORE_NAME of role
 * KN_DRIFT_REF_PREDICTION. A reference written before scores has none: its
 * readers test the predicted classes alone. */
KN_API kn_status kn_drift_ref_add_scores(kn_drift_ref *r, const double *score, size_t n);
KN_API void kn_drift_ref_free(kn_drift_ref *r);

/* *buf new (kn_free). Deterministic: the same reference gives the same bytes. */
KN_API kn_status kn_drift_ref_encode(const kn_drift_ref *r, unsigned char **buf, size_t *len);
/* Returns a new reference; free with kn_drift_ref_free(). `what` names the
 * source in errors. */
KN_API kn_status kn_drift_ref_decode(const void *buf, size_t len, const char *what,
                                     kn_drift_ref **out);

/* The rows the reference was built from; its columns (inputs and
 * predictions); column j's name (borrowed: valid while r lives), whether
 * it is text, its role; its values kept (sample or distinct values). */
KN_API size_t kn_drift_ref_rows(const kn_drift_ref *r);
KN_API size_t kn_drift_ref_n_cols(const kn_drift_ref *r);
KN_API const char *kn_drift_ref_name(const kn_drift_ref *r, size_t j);
KN_API int kn_drift_ref_text(const kn_drift_ref *r, size_t j);
KN_API kn_drift_ref_role kn_drift_ref_col_role(const kn_drift_ref *r, size_t j);
KN_API size_t kn_drift_ref_kept(const kn_drift_ref *r, size_t j);
/* Column j of role `role` named name, or -1. */
KN_API long kn_drift_ref_find(const kn_drift_ref *r, const char *name, kn_drift_ref_role role);

/* A numeric column: its cells, present values and sorted sample (borrowed). */
KN_API const double *kn_drift_ref_sample(const kn_drift_ref *r, size_t j, size_t *m,
                                         size_t *n_present, size_t *cells);
/* A text column: its k kept values in byte order (borrowed; NUL-terminated,
 * with their lengths) with their counts, the missing cells and the other
 * cells. */
KN_API void kn_drift_ref_levels(const kn_drift_ref *r, size_t j, size_t *k,
                                const char *const **values, const size_t **lens,
                                const uint64_t **counts, uint64_t *missing, uint64_t *other);

/* Ask the CPU for what testing numeric column j reads of the reference
 * (its sorted sample's index), into the second-level cache, without
 * waiting: a server tests a window's columns in turn and finds each one's
 * out of cache, so it asks for the next column's while testing one. Does
 * nothing for a text column or one without an index. */
KN_API void kn_drift_ref_prefetch(const kn_drift_ref *r, size_t j);

/* Test column j against a batch: n numbers (NaN: missing) for a numeric
 * column; a batch column of n rows of either kind (a kind that differs from
 * the reference's is an error naming the column). As kn_drift_numbers /
 * kn_drift_column: p_adjusted = p, *tested 0 when there was nothing to
 * compare. */
KN_API kn_status kn_drift_ref_numbers(const kn_drift_ref *r, size_t j, const double *b, size_t n,
                                      const kn_drift_opts *o, kn_drift_col *out, int *tested);
KN_API kn_status kn_drift_ref_column(const kn_drift_ref *r, size_t j, kn_column *b, size_t n,
                                     const kn_drift_opts *o, kn_drift_col *out, int *tested);
/* kn_drift_frames with the reference's input columns for ref. */
KN_API kn_status kn_drift_ref_frames(const kn_drift_ref *r, const kn_frame *cur,
                                     const kn_drift_opts *o, kn_drift_report *out);

#ifdef __cplusplus
}
#endif
#endif
