/* Internal layout of frames and columns, shared by the data layer's readers
 * and writers so they can fill columns in place. */
#ifndef KILN_FRAME_IMPL_H
#define KILN_FRAME_IMPL_H

#include "data/dict-impl.h"
#include "kiln/frame.h"

struct kn_column {
    char *name;
    kn_col_type type;
    kn_role role;
    kn_encoding encoding;
    size_t cap; /* rows allocated */
    double *f64;
    int32_t *codes;
    int64_t *ts;  /* timestamps, and the values of int64 columns */
    kn_dict dict; /* categorical levels */
    /* string cells: start offset into text (-1 = missing) and length */
    int64_t *str_off;
    int64_t *str_len;
    char *text;
    size_t n_text, cap_text;
    /* the name given at creation, in the column's own block (one allocation
     * a column, not two: a wide frame, such as a LIBSVM file's f1..f50000,
     * makes tens of thousands); name points here until a rename */
    char name_here[];
};

struct kn_frame {
    size_t n_rows;
    size_t n_cols, cap_cols;
    kn_column **cols;
};

/* Grow a column's arrays to hold cap rows (new cells are not initialised). */
kn_status kn__column_reserve(kn_column *c, size_t cap);
/* kn_frame_add_column without the name check, for names known to be unique. */
kn_status kn__frame_add_unique(kn_frame *f, const char *name, kn_col_type type, kn_column **out);
/* Set rows [from, to) missing. */
void kn__column_fill_missing(kn_column *c, size_t from, size_t to);
/* Promote column j in place, keeping every value: numeric -> int64 (KN_ERR_TYPE,
 * with no message, unless every value is an integer of magnitude <= 2^53),
 * numeric or int64 -> categorical (each value's shortest exact text is its
 * level). Other pairs are KN_ERR_TYPE. */
kn_status kn__column_retype(kn_frame *f, size_t j, kn_col_type to);
/* Copy one cell between columns of the same type (categorical text is
 * interned into d's dictionary); KN_ERR_TYPE for different types. */
kn_status kn__column_copy_cell(kn_column *d, size_t dst_row, const kn_column *s, size_t src_row);
/* Append bytes to a string column's text; returns the start offset. */
kn_status kn__column_add_text(kn_column *c, const char *s, size_t len, int64_t *off);

#endif
