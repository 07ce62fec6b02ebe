/* kiln tune's held-out rows and nested outer folds when the folds say the
 * rows are not exchangeable: with --time-series the held-out rows are the
 * last in time (the search never trains on rows after them), with --groups
 * they are whole groups (no group on both sides). */
#include "cli/tune_holdout.h"
#include "kiln/cv.h"
#include "kiln/mem.h"
#include "kiln/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kn_status tune_time_order(const kn_frame *f, const char *column, size_t **order)
{
    if (column) return kn_cv_time_order(f, column, order);
    size_t n = kn_frame_n_rows(f);
    size_t *o = kn_malloc((n ? n : 1) * sizeof *o);
    if (!o) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) o[i] = i; /* the file's order */
    *order = o;
    return KN_OK;
}

static int by_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Frames of the rows in idx (sorted first, so a frame keeps the file's order). */
static kn_status take(const kn_frame *f, size_t *idx, size_t m, kn_frame **out)
{
    qsort(idx, m, sizeof *idx, by_index);
    return kn_frame_select_rows(f, idx, m, out);
}

kn_status tune_holdout_time(const kn_frame *f, const char *order_by, size_t gap, double fraction,
                            kn_frame **train, kn_frame **test, char *how, size_t how_len)
{
    size_t n = kn_frame_n_rows(f), *order = NULL;
    size_t n_test = (size_t)floor(fraction * (double)n + 0.5);
    if (n_test < 1) n_test = 1;
    if (n_test + gap >= n)
        return kn_fail(KN_ERR_INVALID,
                       "--test-fraction %g of %zu rows%s leaves no earlier rows to search on: "
                       "use more rows or a smaller fraction",
                       fraction, n, gap ? " and the --gap" : "");
    kn_status e = tune_time_order(f, order_by, &order);
    size_t n_train = n - n_test - gap;
    if (e == KN_OK) e = take(f, order, n_train, train);
    if (e == KN_OK) e = take(f, order + n - n_test, n_test, test);
    kn_free(order);
    if (e == KN_OK)
        snprintf(how, how_len, "the last %zu rows by %s%s", n_test,
                 order_by ? order_by : "file order", gap ? ", after the gap" : "");
    return e;
}

kn_status tune_holdout_groups(const kn_frame *f, const char *groups, double fraction, uint64_t seed,
                              kn_frame **train, kn_frame **test, char *how, size_t how_len)
{
    size_t n = kn_frame_n_rows(f), k = 0;
    int32_t *code = NULL;
    kn_status e = kn_split_labels(f, groups, &code, &k);
    if (e != KN_OK) return e;
    if (k < 2) {
        kn_free(code);
        return kn_fail(KN_ERR_INVALID,
                       "--groups %s holds one group: whole groups cannot be held out (use "
                       "--test-fraction 0)",
                       groups);
    }
    size_t *rows = kn_calloc(k, sizeof *rows), *perm = kn_malloc(k * sizeof *perm);
    char *out = kn_calloc(k, 1);
    size_t *tr = kn_malloc((n ? n : 1) * sizeof *tr), *te = kn_malloc((n ? n : 1) * sizeof *te);
    if (!rows || !perm || !out || !tr || !te) e = KN_ERR_NOMEM;
    size_t want = (size_t)floor(fraction * (double)n + 0.5), got = 0, n_out = 0, ntr = 0, nte = 0;
    if (e == KN_OK) {
        for (size_t i = 0; i < n; i++) rows[code[i]]++;
        /* the groups in a seeded order; held out until they hold the share
         * (at least one group, never all) */
        kn_rng r;
        kn_rng_init_stream(&r, seed, 0x686f6c646f7574ull); /* "holdout" */
        for (size_t g = 0; g < k; g++) perm[g] = g;
        for (size_t g = k; g > 1; g--) {
            size_t j = (size_t)kn_rng_below(&r, g), t = perm[g - 1];
            perm[g - 1] = perm[j];
            perm[j] = t;
        }
        for (size_t g = 0; g + 1 < k && (n_out == 0 || got < want); g++) {
            out[perm[g]] = 1;
            got += rows[perm[g]];
            n_out++;
        }
        for (size_t i = 0; i < n; i++) {
            if (out[code[i]])
                te[nte++] = i;
            else
                tr[ntr++] = i;
        }
        e = kn_frame_select_rows(f, tr, ntr, train);
        if (e == KN_OK) e = kn_frame_select_rows(f, te, nte, test);
        if (e == KN_OK)
            snprintf(how, how_len, "%zu of the %zu groups of %s, whole", n_out, k, groups);
    }
    kn_free(code), kn_free(rows), kn_free(perm), kn_free(out), kn_free(tr), kn_free(te);
    return e;
}
