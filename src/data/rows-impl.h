/* Internal: row identity (hashing and exact comparison over chosen columns),
 * shared by duplicate counting in profiles and kn_frame_dedupe. */
#ifndef KILN_ROWS_IMPL_H
#define KILN_ROWS_IMPL_H

#include "data/frame-impl.h"

/* Set dup[i] = 1 for each row equal, over `cols`, to an earlier row (keep_last
 * = 0) or to a later one (keep_last = 1); *count receives how many. Missing
 * values equal each other here, -0 equals +0. */
kn_status kn__mark_duplicates(const kn_frame *f, const size_t *cols, size_t n_cols, int keep_last,
                              unsigned char *dup, size_t *count);

#endif
