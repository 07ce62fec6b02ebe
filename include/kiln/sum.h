/* Summation in NumPy's order: blocks of up to 128 values summed in eight
 * lanes, halves above that. A statistic that must agree with NumPy to the
 * last bit (an optimiser's objective, a metric checked against scikit-learn)
 * sums this way; the error also grows like log n, not n. */
#ifndef KILN_SUM_H
#define KILN_SUM_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

KN_API double kn_sum_pairwise(const double *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
