/* LSD radix sort of 64-bit keys with a payload (sort-impl.h): passes of
 * 16-bit digits (11-bit below 65,536 keys), ping-ponging between the arrays
 * and the scratch buffers; a pass whose digit is the same for every key is
 * skipped. The counters are sized to the call (no per-thread block). Large inputs run each
 * pass on the calling team: every thread counts the digits of its own slice
 * of rows, the slices' offsets follow digit by digit and slice by slice, and
 * every thread scatters its slice to them, so the order (a stable sort's
 * only one) does not depend on the team. */
#include "data/sort-impl.h"
#include "kiln/mem.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define DIGITS 65536
/* Below this many keys one thread sorts. */
#define PARALLEL_MIN 65536
/* One thread sorts fewer keys than this with 11-bit digits (six passes,
 * 16 KiB of counters on the stack); from it on with 16-bit ones (four
 * passes, 512 KiB of counters on the heap, for this call only). */
#define WIDE_MIN 65536
#define NARROW_BITS 11

/* LSD passes of `bits`-bit digits, counters count[0 .. 2^bits). */
static void sort_passes(uint64_t *key, uint64_t *val, uint64_t *tmpk, uint64_t *tmpv, size_t n,
                        int bits, size_t *count)
{
    size_t digits = (size_t)1 << bits;
    uint64_t mask = digits - 1;
    uint64_t *a = key, *b = tmpk, *va = val, *vb = tmpv;
    for (int shift = 0; shift < 64; shift += bits) {
        memset(count, 0, digits * sizeof *count);
        for (size_t i = 0; i < n; i++) count[(a[i] >> shift) & mask]++;
        if (n && count[(a[0] >> shift) & mask] == n) continue;
        size_t sum = 0;
        for (size_t d = 0; d < digits; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t pos = count[(a[i] >> shift) & mask]++;
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

/* A stable LSD sort gives the one stable order whatever its digit width,
 * so the two widths (and the team's passes) give the same bytes. */
static void sort_serial(uint64_t *key, uint64_t *val, uint64_t *tmpk, uint64_t *tmpv, size_t n)
{
    if (n >= WIDE_MIN) {
        size_t *count = kn_malloc(DIGITS * sizeof *count);
        if (count) {
            sort_passes(key, val, tmpk, tmpv, n, 16, count);
            kn_free(count);
            return;
        }
        /* no memory for the wide counters: the narrow ones need none */
    }
    size_t count[(size_t)1 << NARROW_BITS];
    sort_passes(key, val, tmpk, tmpv, n, NARROW_BITS, count);
}

/* One pass of thread t of a team of nt over its slice of a (values va) into
 * b (vb); cnt holds nt rows of DIGITS counters. Returns 1 when the pass
 * moved the keys, 0 when every key had one digit (nothing moved). */
static int pass_team(const uint64_t *a, const uint64_t *va, uint64_t *b, uint64_t *vb, size_t n,
                     int shift, size_t *cnt, int t, int nt, int *skip)
{
    size_t lo = n * (size_t)t / (size_t)nt, hi = n * (size_t)(t + 1) / (size_t)nt;
    size_t *c = cnt + (size_t)t * DIGITS;
    memset(c, 0, DIGITS * sizeof *c);
    for (size_t i = lo; i < hi; i++) c[(a[i] >> shift) & 0xffff]++;
#pragma omp barrier
#pragma omp single
    {
        /* offsets digit by digit, each digit's slices in team order */
        size_t d0 = (a[0] >> shift) & 0xffff, sum = 0, first = 0;
        for (int s = 0; s < nt; s++) first += cnt[(size_t)s * DIGITS + d0];
        *skip = first == n;
        for (size_t d = 0; !*skip && d < DIGITS; d++)
            for (int s = 0; s < nt; s++) {
                size_t x = cnt[(size_t)s * DIGITS + d];
                cnt[(size_t)s * DIGITS + d] = sum;
                sum += x;
            }
    }
    /* the implied barrier of single publishes *skip and the offsets */
    if (*skip) return 0;
    for (size_t i = lo; i < hi; i++) {
        size_t pos = c[(a[i] >> shift) & 0xffff]++;
        b[pos] = a[i];
        if (va) vb[pos] = va[i];
    }
    return 1;
}

void kn__sort_u64_pairs(uint64_t *key, uint64_t *val, uint64_t *tmpk, uint64_t *tmpv, size_t n)
{
    int threads = 1;
#ifdef _OPENMP
    if (n >= PARALLEL_MIN && !omp_in_parallel()) threads = omp_get_max_threads();
#endif
    size_t *cnt = threads > 1 ? kn_malloc((size_t)threads * DIGITS * sizeof *cnt) : NULL;
    if (!cnt) { /* one thread, or no memory for the team's counters */
        sort_serial(key, val, tmpk, tmpv, n);
        return;
    }
    uint64_t *a = key, *b = tmpk, *va = val, *vb = tmpv;
    int skip = 0;
#pragma omp parallel num_threads(threads)
    {
        int t = 0, nt = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        nt = omp_get_num_threads();
#endif
        /* every thread keeps its own view of the ping-pong pointers, moved
         * in step (all see the same skip) */
        uint64_t *pa = a, *pb = b, *pva = va, *pvb = vb;
        for (int pass = 0; pass < 4; pass++) {
            if (!pass_team(pa, pva, pb, pvb, n, pass * 16, cnt, t, nt, &skip)) {
#pragma omp barrier
                continue;
            }
            uint64_t *x = pa;
            pa = pb;
            pb = x;
            x = pva;
            pva = pvb;
            pvb = x;
#pragma omp barrier
        }
#pragma omp single
        {
            a = pa;
            va = pva;
        }
    }
    if (a != key) {
        memcpy(key, a, n * sizeof *key);
        if (val) memcpy(val, va, n * sizeof *val);
    }
    kn_free(cnt);
}
