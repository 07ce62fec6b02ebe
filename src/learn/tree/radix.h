/* Internal: least-significant-digit radix sort of doubles (no NaN), a byte
 * per pass, skipping the bytes every key shares (most of them for small
 * integers such as pixel values or counts): several times faster than
 * qsort on the large sorts of tree learning (the binning sample, exact
 * splits of large nodes). Stable. */
#ifndef KILN_LEARN_RADIX_H
#define KILN_LEARN_RADIX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A double's bits as an unsigned key in the value's order: negative values
 * have every bit flipped, the others the sign bit. */
static inline uint64_t kn__sortable(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u >> 63 ? ~u : u | (uint64_t)1 << 63;
}

static inline double kn__unsortable(uint64_t k)
{
    uint64_t u = k >> 63 ? k & ~((uint64_t)1 << 63) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Sorts keys[0, m) (from kn__sortable) and, when rows is not NULL, the
 * rows alongside. tmp holds m keys, tmp_rows m rows (with rows). The
 * result may end up in the scratch arrays: returns 1 when it did (keys
 * then in tmp, rows in tmp_rows), 0 when it is in place. */
int kn__radix_sort(uint64_t *keys, uint32_t *rows, size_t m, uint64_t *tmp, uint32_t *tmp_rows);

#endif
