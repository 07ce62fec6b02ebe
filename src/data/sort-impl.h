/* Internal: LSD radix sorts for numeric arrays (profiles, quantiles, hashing). */
#ifndef KILN_SORT_IMPL_H
#define KILN_SORT_IMPL_H

#include "kiln/core.h"

#include <string.h>

/* Order-preserving map between doubles (no NaN) and unsigned keys. */
static inline uint64_t kn__f64_key(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

static inline double kn__key_f64(uint64_t k)
{
    uint64_t u = (k >> 63) ? (k & 0x7fffffffffffffffull) : ~k;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
/* Sort n uint64 keys ascending, stably, carrying a parallel uint64 payload
 * (val may be NULL). tmpk and tmpv (when val is given) hold n each. From
 * 65,536 keys, called outside a parallel region, the passes run on the
 * calling team; the result is the same on any team. */
void kn__sort_u64_pairs(uint64_t *key, uint64_t *val, uint64_t *tmpk, uint64_t *tmpv, size_t n);

#endif
