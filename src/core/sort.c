/* Sorting doubles (core/sort-impl.h). From 64 to 16,384 values, a bucket
 * sort by value (one bucket a value, spread over [min, max]), each bucket
 * then sorted by insertion: 15 against 55 ns a value for introsort on a
 * drift window's 1,000 fresh normal values (no comparison whose outcome
 * is a coin flip to the branch predictor); a bucket that gets many values
 * (skewed data, an outlier) is introsorted, so the worst case stays
 * n log n. Above 16,384 values the scatter misses the cache and gains
 * nothing. Otherwise, or when min or max is not finite, or the buffers
 * cannot be had: introsort, quicksort with a median of three, insertion
 * sort for short runs, heapsort when the recursion gets deep. (A
 * least-significant-byte radix sort was slower than introsort at 1,000
 * values.) */
#include "core/sort-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

enum { BUCKET_MIN = 64, BUCKET_MAX = 16384, BUCKET_INSERTION_MAX = 32 };

#define SHORT_RUN 16

static void insertion(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

static void sift_down(double *v, size_t root, size_t n)
{
    double x = v[root];
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) break;
        if (c + 1 < n && v[c + 1] > v[c]) c++;
        if (!(v[c] > x)) break;
        v[root] = v[c];
        root = c;
    }
    v[root] = x;
}

static void heapsort(double *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) sift_down(v, i, n);
    for (size_t end = n; end-- > 1;) {
        double t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

static inline void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

static void introsort(double *v, size_t n, int depth)
{
    while (n > SHORT_RUN) {
        if (depth-- == 0) {
            heapsort(v, n);
            return;
        }
        /* median of the first, middle and last as the pivot, left at v[0] */
        size_t mid = n / 2;
        if (v[mid] < v[0]) swap(&v[mid], &v[0]);
        if (v[n - 1] < v[0]) swap(&v[n - 1], &v[0]);
        if (v[n - 1] < v[mid]) swap(&v[n - 1], &v[mid]);
        swap(&v[0], &v[mid]);
        double p = v[0];
        /* Hoare partition: [1, i) <= p, (j, n) >= p; runs of equal keys split
         * evenly, so many ties cannot make it quadratic */
        size_t i = 1, j = n - 1;
        for (;;) {
            while (i <= j && v[i] < p) i++;
            while (j >= i && v[j] > p) j--;
            if (i >= j) break;
            swap(&v[i++], &v[j--]);
        }
        swap(&v[0], &v[j]);
        /* recurse into the smaller side, loop on the larger */
        size_t left = j, right = n - j - 1;
        if (left < right) {
            introsort(v, left, depth);
            v += j + 1;
            n = right;
        } else {
            introsort(v + j + 1, right, depth);
            n = left;
        }
    }
    insertion(v, n);
}

static void introsort_all(double *v, size_t n)
{
    int depth = 0;
    for (size_t k = n; k > 1; k >>= 1) depth += 2;
    introsort(v, n, depth);
}

/* The bucket sort; 0 (v untouched) when it does not apply. A value's
 * bucket (x - lo) * scale is monotone in x (rounding is), so sorted
 * buckets in order are the sorted values. */
static int bucket_sort(double *v, size_t n)
{
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    if (!isfinite(hi - lo) || !(hi > lo)) return 0;
    size_t *start = kn_calloc(n + 1, sizeof *start);
    double *tmp = kn_malloc(n * sizeof *tmp);
    uint32_t *bucket = kn_malloc(n * sizeof *bucket);
    if (!start || !tmp || !bucket) {
        kn_free(start), kn_free(tmp), kn_free(bucket);
        return 0;
    }
    double scale = (double)(n - 1) / (hi - lo);
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)((v[i] - lo) * scale);
        b = b < n ? b : n - 1;
        bucket[i] = (uint32_t)b;
        start[b + 1]++;
    }
    for (size_t b = 0; b < n; b++) start[b + 1] += start[b];
    for (size_t i = 0; i < n; i++) tmp[start[bucket[i]]++] = v[i];
    /* start[b] is now bucket b's end */
    memcpy(v, tmp, n * sizeof *v);
    for (size_t b = 0, from = 0; b < n; from = start[b++]) {
        size_t len = start[b] - from;
        if (len > BUCKET_INSERTION_MAX)
            introsort_all(v + from, len);
        else if (len > 1)
            insertion(v + from, len);
    }
    kn_free(start), kn_free(tmp), kn_free(bucket);
    return 1;
}

void kn__sort_doubles(double *v, size_t n)
{
    if (n >= BUCKET_MIN && n <= BUCKET_MAX && bucket_sort(v, n)) return;
    introsort_all(v, n);
}
