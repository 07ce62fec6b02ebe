/* Internal layout of frames and columns, shared by the data layer's readers
 * and writers so they can fill columns in place. */
#ifndef KILN_FRAME_IMPL_H
#define KILN_FRAME_IMPL_H

#include "data/dict-impl.h"
#include "kiln/frame.h"

#define KN__COL_NAME_HERE 24

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
    kn_column *next_spare; /* a removed column's slot: the next free one */
    /* the name given at creation when it is shorter than this (a LIBSVM
     * file's f1..f100000 are), in the column's slot; name points here until
     * a rename, and a longer name has a block of its own */
    char name_here[KN__COL_NAME_HERE];
};

/* Slots for a frame's column structs, allocated a block at a time. */
typedef struct kn__col_block kn__col_block;

struct kn_frame {
    size_t n_rows;
    size_t n_cols, cap_cols;
    kn_column **cols;
    /* The columns' structs are slots of blocks the frame owns
     * (data/frame_slots.c): a wide frame, such as a LIBSVM file's 57,906
     * columns, makes ~120 allocations for them, not 57,906. A removed or
     * moved column's slot goes on the spare list. (A view, a kn_frame on
     * the stack over another frame's columns, has neither.) */
    kn__col_block *blocks;
    kn_column *spare;
};

/* A zeroed slot for a new column of f (NULL when out of memory); a slot
 * given back (a removed or moved column's) is taken again first. */
kn_column *kn__col_slot_get(kn_frame *f);
void kn__col_slot_put(kn_frame *f, kn_column *c);
/* Free f's blocks of slots (the columns' own arrays are freed before). */
void kn__col_blocks_free(kn_frame *f);
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
