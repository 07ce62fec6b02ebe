/* Internal: what Kiln's demo generators (demo.c, demo_credit.c) share:
 * a frame built from a column table, categorical levels interned in a fixed
 * order, and exact copies of earlier rows (the duplicates a demo plants). */
#ifndef KILN_DEMO_IMPL_H
#define KILN_DEMO_IMPL_H

#include "kiln/frame.h"

typedef struct kn__demo_col {
    const char *name;
    kn_col_type type;
    kn_role role;
} kn__demo_col;

/* A new frame of `rows` rows (every cell missing) with the n columns of
 * `cols`, their roles set; cols_out[j] gets column j (borrowed from the frame).
 * Free with kn_frame_free(). */
kn_status kn__demo_frame_new(const kn__demo_col *cols, size_t n, size_t rows, kn_frame **out,
                             kn_column **cols_out);
/* Intern the n levels of `levels` into c in order; codes[k] gets level k's code. */
kn_status kn__demo_levels(kn_column *c, const char *const *levels, size_t n, int32_t *codes);
/* Copy row src over row dst in every numeric, categorical and timestamp column. */
void kn__demo_copy_row(kn_frame *f, size_t dst, size_t src);

#endif
