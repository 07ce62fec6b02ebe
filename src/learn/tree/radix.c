/* Radix sort (radix.h). */
#include "learn/tree/radix.h"

int kn__radix_sort(uint64_t *keys, uint32_t *rows, size_t m, uint64_t *tmp, uint32_t *tmp_rows)
{
    uint64_t *a = keys, *b = tmp, all_or = 0, all_and = ~(uint64_t)0;
    uint32_t *ra = rows, *rb = tmp_rows;
    for (size_t i = 0; i < m; i++) {
        all_or |= a[i];
        all_and &= a[i];
    }
    int swapped = 0;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if (!((all_or ^ all_and) >> shift & 0xff)) continue; /* the same byte everywhere */
        size_t count[257] = {0};
        for (size_t i = 0; i < m; i++) count[(a[i] >> shift & 0xff) + 1]++;
        for (int d = 0; d < 256; d++) count[d + 1] += count[d];
        for (size_t i = 0; i < m; i++) {
            size_t at = count[a[i] >> shift & 0xff]++;
            b[at] = a[i];
            if (ra) rb[at] = ra[i];
        }
        uint64_t *t = a;
        a = b;
        b = t;
        uint32_t *tr = ra;
        ra = rb;
        rb = tr;
        swapped = !swapped;
    }
    return swapped;
}
