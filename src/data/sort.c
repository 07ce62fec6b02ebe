#include "data/sort-impl.h"

#include <string.h>

void kn__sort_u64_pairs(uint64_t *key, uint64_t *val, uint64_t *tmpk, uint64_t *tmpv, size_t n)
{
    /* Four passes of 16 bits, ping-ponging between the arrays and the scratch
     * buffers; a pass whose digit is the same for every key is skipped. */
    static _Thread_local size_t count[65536];
    uint64_t *a = key, *b = tmpk, *va = val, *vb = tmpv;
    for (int pass = 0; pass < 4; pass++) {
        int shift = pass * 16;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++) count[(a[i] >> shift) & 0xffff]++;
        if (n && count[(a[0] >> shift) & 0xffff] == n) continue;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t pos = count[(a[i] >> shift) & 0xffff]++;
            b[pos] = a[i];
            if (va) vb[pos] = va[i];
        }
        uint64_t *t = a;
        a = b;
        b = t;
        t = va;
        va = vb;
        vb = t;
    }
    if (a != key) {
        memcpy(key, a, n * sizeof *key);
        if (val) memcpy(val, va, n * sizeof *val);
    }
}
