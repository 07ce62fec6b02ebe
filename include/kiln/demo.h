/* Kiln's embedded demo dataset: a synthetic customer-churn table that shows
 * off every column type and the data problems `kiln describe` reports
 * (missing values, a skewed amount, an ID column, a constant column,
 * duplicate rows). Deterministic for a given seed.
 *
 *     kn_frame *f;
 *     kn_demo_frame(20000, 42, &f);
 */
#ifndef KILN_DEMO_H
#define KILN_DEMO_H

#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Returns a new frame of `rows` rows; free with kn_frame_free(). */
KN_API kn_status kn_demo_frame(size_t rows, uint64_t seed, kn_frame **out);

#ifdef __cplusplus
}
#endif
#endif
