/* Internal: an ascending in-place sort of doubles without qsort's call per
 * comparison (monitoring sorts a window of every input per window, the
 * quantile sketch a level per compaction: qsort was 5 % of a served
 * request's time with drift windows on). */
#ifndef KILN_CORE_SORT_IMPL_H
#define KILN_CORE_SORT_IMPL_H

#include <stddef.h>

/* v[0..n) ascending. NaN must not occur (callers drop missing values
 * first); equal values keep no particular order (not stable: doubles that
 * compare equal are interchangeable; -0.0 may come before or after 0.0). */
void kn__sort_doubles(double *v, size_t n);

#endif
