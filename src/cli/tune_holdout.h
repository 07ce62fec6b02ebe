/* kiln tune: held-out rows and outer folds for time-series and group splits
 * (tune_holdout.c). A random draw of rows would train the search on rows
 * after the held-out ones, or put one group on both sides. */
#ifndef KILN_CLI_TUNE_HOLDOUT_H
#define KILN_CLI_TUNE_HOLDOUT_H

#include "kiln/frame.h"
#include "kiln/split.h"

#include <stddef.h>
#include <stdint.h>

/* The rows of f in time order: by column (numeric or timestamp, stable;
 * a missing value is an error naming the row), or the file's order when
 * column is NULL. A new array of n row indices (kn_free). */
kn_status tune_time_order(const kn_frame *f, const char *column, size_t **order);

/* Hold out the last round(fraction * n) rows in time order (at least one);
 * the search gets the rows before them, less the gap rows just before. how:
 * a few words for the output ("the last 60 rows by t"). */
kn_status tune_holdout_time(const kn_frame *f, const char *order_by, size_t gap, double fraction,
                            kn_frame **train, kn_frame **test, char *how, size_t how_len);

/* Hold out whole groups of the column, drawn in a seeded order until they
 * hold round(fraction * n) rows (at least one group, never all). */
kn_status tune_holdout_groups(const kn_frame *f, const char *groups, double fraction, uint64_t seed,
                              kn_frame **train, kn_frame **test, char *how, size_t how_len);

#endif
