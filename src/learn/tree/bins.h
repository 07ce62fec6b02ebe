/* Internal: features quantised into at most 255 bins for the histogram
 * tree learners (LightGBM / scikit-learn HistGradientBoosting style).
 *
 * Feature j has n_bins[j] bins for its values and a code for missing
 * values, KN__BIN_MISSING (255). Bin b holds the values in
 * (edge[b - 1], edge[b]]: a split "bin <= b" is the split "x <= edge[b]"
 * on the raw value, so a tree grown on codes predicts raw rows with the
 * same thresholds. With at most max_bins distinct values the edges are the
 * midpoints between them (exact splits); with more, quantiles of a
 * seeded sample of rows. A categorical feature (kn_dataset's n_levels)
 * has a bin per level: level index l falls in bin l. */
#ifndef KILN_LEARN_BINS_H
#define KILN_LEARN_BINS_H

#include "kiln/model.h"

#include <stdint.h>

#define KN__BIN_MISSING 255
#define KN__MAX_BINS 255
#define KN__EDGE_STRIDE 256 /* edges per feature, padded with +inf */

typedef struct kn__bins {
    size_t p;
    uint16_t *n_bins; /* per feature, 1..max_bins */
    double *edges;    /* p x KN__EDGE_STRIDE: edges[j * KN__EDGE_STRIDE + b]; from the
                       * last bin's (n_bins[j] - 1) on, +inf */
} kn__bins;

/* Edges of every feature of d from at most sample_rows rows (all when
 * d->n is smaller), drawn with seed. */
kn_status kn__bins_fit(kn__bins *b, const kn_dataset *d, size_t max_bins, size_t sample_rows,
                       uint64_t seed);
void kn__bins_free(kn__bins *b);

/* The codes of d's rows: n x p, row-major (row i's codes at out + i * p). */
kn_status kn__bins_apply(const kn__bins *b, const kn_dataset *d, uint8_t **out);

/* The code of one value of feature j. */
uint8_t kn__bin_of(const kn__bins *b, size_t j, double v);

#endif
