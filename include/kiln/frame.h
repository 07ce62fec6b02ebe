/* kn_frame: Kiln's columnar table.
 *
 * A frame has n_rows rows and named, typed columns:
 *   KN_COL_NUMERIC      double per row; missing = NaN
 *   KN_COL_CATEGORICAL  int32 code per row into the column's dictionary of
 *                       levels (first-seen order); missing = -1
 *   KN_COL_STRING       free text per row; missing = no value
 *   KN_COL_TIMESTAMP    int64 microseconds since 1970-01-01T00:00:00Z (UTC);
 *                       missing = KN_TS_MISSING
 *   KN_COL_INT64        exact int64 per row; missing = KN_I64_MISSING. Readers
 *                       give it to integer columns a double cannot hold
 *                       exactly (a value beyond +-2^53); ordinary integers
 *                       stay numeric (see docs/ARCHITECTURE.md)
 * Each column has a role (feature, target, weight, id, time, ignore).
 *
 *     kn_frame *f;
 *     kn_frame_new(&f);
 *     kn_column *age;
 *     kn_frame_add_column(f, "age", KN_COL_NUMERIC, &age);
 *     kn_frame_resize(f, 3);                  // new cells are missing
 *     kn_column_f64(age)[0] = 42;
 *     kn_frame_free(f);
 *
 * Ownership: columns belong to their frame; pointers to columns and to
 * their data are borrowed and stay valid until the frame is resized, a
 * column is added or removed, or the frame is freed.
 * Threading: a frame may be read from many threads; writes need one writer.
 */
#ifndef KILN_FRAME_H
#define KILN_FRAME_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_COL_NUMERIC = 0,
    KN_COL_CATEGORICAL = 1,
    KN_COL_STRING = 2,
    KN_COL_TIMESTAMP = 3,
    KN_COL_INT64 = 4,
} kn_col_type;

typedef enum {
    KN_ROLE_FEATURE = 0,
    KN_ROLE_TARGET = 1,
    KN_ROLE_WEIGHT = 2,
    KN_ROLE_ID = 3,
    KN_ROLE_TIME = 4,
    KN_ROLE_IGNORE = 5,
} kn_role;

/* How a categorical column is meant: as is, or as one 0/1 indicator per
 * level (the compact form of one-hot encoding). Writers of text formats
 * expand one-hot columns into "<name>_<level>" 0/1 columns (all 0 for a
 * missing code); .kfr keeps them compact. */
typedef enum {
    KN_ENC_PLAIN = 0,
    KN_ENC_ONEHOT = 1,
} kn_encoding;

#define KN_TS_MISSING INT64_MIN
/* The missing int64 cell; the value INT64_MIN itself is read as text. */
#define KN_I64_MISSING INT64_MIN
/* Integers of magnitude up to 2^53 are exact in a double. */
#define KN_F64_EXACT_INT 9007199254740992.0

typedef struct kn_frame kn_frame;
typedef struct kn_column kn_column;

/* Returns a new empty frame; free with kn_frame_free(). */
KN_API kn_status kn_frame_new(kn_frame **out);
KN_API void kn_frame_free(kn_frame *f);

KN_API size_t kn_frame_n_rows(const kn_frame *f);
KN_API size_t kn_frame_n_cols(const kn_frame *f);
/* Borrowed: valid until the column is removed or moved (kn_frame_take_column)
 * or the frame is freed. NULL when j is out of range. */
KN_API kn_column *kn_frame_col(const kn_frame *f, size_t j);
/* Index of the column named `name`; KN_ERR_NOT_FOUND naming the columns otherwise. */
KN_API kn_status kn_frame_find(const kn_frame *f, const char *name, size_t *j);
/* A "did you mean" hint for a column name that is not in f: " (did you
 * mean 'NAME'?)" naming the column closest to `name` (optimal string
 * alignment distance, letters compared without case: at most 1 for names
 * of up to 5 characters, 2 otherwise; the first closest in column order),
 * or "" when none is that close. Written into buf (cap bytes); returns buf. */
KN_API const char *kn_frame_did_you_mean(const kn_frame *f, const char *name, char *buf,
                                         size_t cap);

/* Adds a column with n_rows missing cells. Fails if the name is taken.
 * *out (may be NULL) is borrowed. */
KN_API kn_status kn_frame_add_column(kn_frame *f, const char *name, kn_col_type type,
                                     kn_column **out);
KN_API kn_status kn_frame_remove_column(kn_frame *f, size_t j);
/* Give column j a new name (which must not be taken). */
KN_API kn_status kn_frame_rename_column(kn_frame *f, size_t j, const char *name);
/* Like kn_frame_add_column, but the new column goes at index pos (columns from
 * pos on shift right by one). */
KN_API kn_status kn_frame_insert_column(kn_frame *f, size_t pos, const char *name, kn_col_type type,
                                        kn_column **out);
/* Set the row count of every column; new cells are missing. */
KN_API kn_status kn_frame_resize(kn_frame *f, size_t n_rows);
/* Make room for n_rows without changing the row count. */
KN_API kn_status kn_frame_reserve(kn_frame *f, size_t n_rows);

/* Keep only the given rows (strictly ascending indices), in place. */
KN_API kn_status kn_frame_keep_rows(kn_frame *f, const size_t *rows, size_t n);
/* Returns a new frame with the same columns and rows (a deep copy). */
KN_API kn_status kn_frame_copy(const kn_frame *f, kn_frame **out);
/* Returns a new frame with the given rows (indices may repeat) or columns. */
KN_API kn_status kn_frame_select_rows(const kn_frame *f, const size_t *rows, size_t n,
                                      kn_frame **out);
KN_API kn_status kn_frame_select_cols(const kn_frame *f, const size_t *cols, size_t n,
                                      kn_frame **out);
/* Appends src's rows to dst. Columns are matched by name and must have the
 * same types; categorical codes are remapped into dst's dictionaries. */
KN_API kn_status kn_frame_append(kn_frame *dst, const kn_frame *src);
/* Returns a new frame without duplicate rows: rows equal over the key columns
 * (all columns when keys is NULL), keeping the first occurrence or, with
 * keep_last, the last; surviving rows keep their order. Missing values count
 * as equal to each other. *removed (may be NULL) receives how many went. */
KN_API kn_status kn_frame_dedupe(const kn_frame *f, const size_t *keys, size_t n_keys,
                                 int keep_last, kn_frame **out, size_t *removed);
/* Appends src's rows to dst, aligning columns by name: a column only in src
 * is added (missing in dst's earlier rows), one only in dst is missing in the
 * new rows; a column with different types is an error naming it and both
 * types. On failure dst is unchanged. */
KN_API kn_status kn_frame_append_aligned(kn_frame *dst, const kn_frame *src);
/* Move column j of src to the end of dst under `name` (both frames must have
 * the same row count; the name must be free in dst). The column's values
 * move; kn_frame_col(dst, ...) gives its new handle. */
KN_API kn_status kn_frame_take_column(kn_frame *dst, kn_frame *src, size_t j, const char *name);
/* 1 when some column is one-hot encoded (compact). */
KN_API int kn_frame_has_onehot(const kn_frame *f);
/* A new frame with every one-hot column expanded in place into one numeric
 * 0/1 column per level, named "<column>_<level>". */
KN_API kn_status kn_frame_expand_onehot(const kn_frame *f, kn_frame **out);
/* Bytes held by the frame's columns (data, dictionaries, text). */
KN_API size_t kn_frame_memory_bytes(const kn_frame *f);

/* Column accessors. Data pointers are borrowed (see above) and NULL when the
 * column is of another type. */
KN_API const char *kn_column_name(const kn_column *c);
KN_API kn_col_type kn_column_type(const kn_column *c);
KN_API kn_role kn_column_role(const kn_column *c);
KN_API void kn_column_set_role(kn_column *c, kn_role role);
KN_API kn_encoding kn_column_encoding(const kn_column *c);
/* KN_ERR_TYPE unless c is categorical (or the encoding is plain). */
KN_API kn_status kn_column_set_encoding(kn_column *c, kn_encoding e);
KN_API double *kn_column_f64(kn_column *c);
KN_API int32_t *kn_column_codes(kn_column *c);
KN_API int64_t *kn_column_ts(kn_column *c);
KN_API int64_t *kn_column_i64(kn_column *c);
/* The value of a numeric or int64 cell as a double (NaN when missing; an
 * int64 beyond 2^53 rounds to the nearest double: for models and
 * statistics, where exactness is not needed). NaN for other types. */
KN_API double kn_column_number(const kn_column *c, size_t row);
KN_API int kn_column_is_missing(const kn_column *c, size_t row);

/* Categorical levels: count, text of a code (borrowed; NUL-terminated), and
 * the code of a text, adding it when new. */
KN_API size_t kn_column_n_levels(const kn_column *c);
KN_API const char *kn_column_level(const kn_column *c, int32_t code, size_t *len);
KN_API kn_status kn_column_intern(kn_column *c, const char *s, size_t len, int32_t *code);
/* -1 when absent. */
KN_API int32_t kn_column_find_level(const kn_column *c, const char *s, size_t len);

/* String cells: text of a row (borrowed, not NUL-terminated) or NULL when
 * missing; setting copies the bytes (NULL sets missing). */
KN_API const char *kn_column_str(const kn_column *c, size_t row, size_t *len);
KN_API kn_status kn_column_set_str(kn_column *c, size_t row, const char *s, size_t len);

/* A timestamp as ISO-8601 UTC ("2024-05-01", "2024-05-01T12:00:00Z", with
 * .ffffff when needed) into buf (40 bytes suffice). Returns the length. */
KN_API int kn_timestamp_format(int64_t us, char *buf, size_t cap);

/* "numeric", "categorical", "string", "timestamp", "int64" and the inverse. */
KN_API const char *kn_col_type_name(kn_col_type t);
KN_API kn_status kn_col_type_parse(const char *name, kn_col_type *t);
KN_API const char *kn_role_name(kn_role r);
KN_API kn_status kn_role_parse(const char *name, kn_role *r);

#ifdef __cplusplus
}
#endif
#endif
