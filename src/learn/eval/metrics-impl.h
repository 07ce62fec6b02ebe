/* Internal: what the metric files share (metrics.c, metrics_rank.c). */
#ifndef KILN_METRICS_IMPL_H
#define KILN_METRICS_IMPL_H

#include "kiln/core.h"

#include <stddef.h>
#include <stdint.h>

/* A value and its row, for sorting. */
typedef struct kn__scored {
    double s;
    size_t i;
} kn__scored;

/* np.average(v, weights=w) of n values (v is overwritten); NaN when out of
 * memory. */
double kn__metric_average(double *v, const double *w, size_t n);
/* KN_OK for n > 0 rows and finite, non-negative weights of positive sum. */
kn_status kn__metric_check(size_t n, const double *w);
/* Every class index (of y, and of pred when not NULL) within 0..k-1. */
kn_status kn__metric_check_labels(const int32_t *y, const int32_t *pred, size_t n, size_t k);
/* kn__metric_check, then *v: n doubles for the row values (kn_free). */
kn_status kn__metric_rows_begin(size_t n, const double *w, double **v);

#endif
