/* Row splits for validation: hold-out and three-way splits (optionally
 * stratified) and the cross-validation schemes — k-fold, stratified k-fold,
 * group k-fold, time-series (expanding window with a gap) and their
 * repeated variants. Splits are row indices into the data, ascending within
 * each part, and depend only on n, the labels and the seed.
 *
 * Without shuffling, k-fold, stratified and group k-fold and the time-series
 * split give exactly scikit-learn's KFold, StratifiedKFold, GroupKFold (up
 * to ties among equally sized groups beyond 16 groups) and TimeSeriesSplit
 * folds, so results can be compared fold by fold. Shuffled splits use
 * Kiln's seeded generator (not NumPy's): same seed, same folds.
 */
#ifndef KILN_SPLIT_H
#define KILN_SPLIT_H

#include "kiln/core.h"
#include "kiln/frame.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_fold {
    size_t *train, n_train;
    size_t *test, n_test;
} kn_fold;

typedef struct kn_folds {
    size_t k; /* folds (times repeats) */
    kn_fold *fold;
} kn_folds;

typedef enum {
    KN_SPLIT_KFOLD = 0,
    KN_SPLIT_STRATIFIED = 1, /* labels: class of each row */
    KN_SPLIT_GROUP = 2,      /* labels: group of each row; a group never straddles folds */
    KN_SPLIT_TIME = 3,       /* rows in time order; test windows move forward */
    KN_SPLIT_AUTO = 4        /* cross-validation resolves it: stratified for a
                                classifier (as scikit-learn), k-fold otherwise */
} kn_split_kind;

typedef struct kn_split_opts {
    kn_split_kind kind;
    size_t folds;     /* k (time series: number of test windows) */
    size_t repeats;   /* k-fold and stratified: repeat with new shuffles (0 or 1: once) */
    int shuffle;      /* k-fold and stratified: shuffle before splitting */
    uint64_t seed;    /* of the shuffle */
    size_t gap;       /* time series: rows left out between train and test */
    size_t test_size; /* time series: rows per test window (0: n / (folds + 1)) */
    size_t max_train; /* time series: at most this many training rows (0: all) */
} kn_split_opts;

KN_API void kn_split_opts_default(kn_split_opts *o);

/* The folds of n rows; labels (n values, 0-based dense codes: class or
 * group index, ordered as the sorted labels) for stratified and group
 * splits, else NULL. Errors name the problem: more folds than rows, than
 * groups, or than the rows of every class; a time-series split with no
 * rows left to train on. */
KN_API kn_status kn_split_folds(size_t n, const int32_t *labels, const kn_split_opts *o,
                                kn_folds *out);
KN_API void kn_folds_free(kn_folds *f);

/* A seeded random split into parts with the given shares (summing to 1):
 * {0.8, 0.2} is a hold-out split, {0.6, 0.2, 0.2} train/validation/test.
 * With strata (class codes, NULL for none) each class is split in the same
 * proportions. Part sizes are rounded so that they add up to n; parts[i]
 * gets a new ascending index array (kn_free) of sizes[i] rows. */
KN_API kn_status kn_split_shares(size_t n, const int32_t *strata, const double *shares,
                                 size_t n_parts, uint64_t seed, size_t **parts, size_t *sizes);

/* Labels for stratified and group splits from a column of f: each row's
 * rank among the column's distinct values (numbers in numeric order, text
 * in byte order), as a new array of n codes (kn_free); *k distinct values.
 * A missing value is an error naming the row. */
KN_API kn_status kn_split_labels(const kn_frame *f, const char *column, int32_t **codes, size_t *k);

/* The balance of a class column: its k distinct values, the rows that
 * hold one, and the smallest and the largest class's counts (a warning
 * that accuracy flatters an imbalanced target reads them). As
 * kn_split_labels: a missing value is an error. */
typedef struct kn_class_balance {
    size_t k, rows, smallest, largest;
} kn_class_balance;
KN_API kn_status kn_split_class_balance(const kn_frame *f, const char *column,
                                        kn_class_balance *out);

#ifdef __cplusplus
}
#endif
#endif
