/* Internal: build a frame row by row from a source that delivers typed or
 * textual cells (SQL results). Columns may start untyped; the first non-null
 * value settles the type. Text is converted to the column's type, and a
 * value that does not convert is an error naming the source, column and row. */
#ifndef KILN_BUILDER_IMPL_H
#define KILN_BUILDER_IMPL_H

#include "kiln/frame.h"

typedef struct kn__builder {
    kn_frame *f;
    size_t row;           /* the current row (rows added so far - 1) */
    unsigned char *fixed; /* per column: 1 when its type is settled */
    const char *source;   /* for errors */
} kn__builder;

/* Column j of a result: its name, and its type when known (return 1) or 0
 * when the first non-null value will settle it. */
typedef int (*kn__column_info)(void *result, size_t j, const char **name, kn_col_type *type);

/* n columns described by info(result, j, ...). */
kn_status kn__builder_begin(kn__builder *b, const char *source, size_t n, kn__column_info info,
                            void *result);
/* Start a new row (all cells missing until set). */
kn_status kn__builder_row(kn__builder *b);
kn_status kn__builder_number(kn__builder *b, size_t j, double v);
/* An integer: numeric while every value is exact as a double (|v| <= 2^53);
 * a larger one makes the column int64 (or, next to fractions, text), so
 * identifiers stay exact. */
kn_status kn__builder_int64(kn__builder *b, size_t j, int64_t v);
kn_status kn__builder_text(kn__builder *b, size_t j, const char *s, size_t len);
/* Hand over the frame (the builder is then empty). */
kn_frame *kn__builder_finish(kn__builder *b);
void kn__builder_free(kn__builder *b);

#endif
