/* learn: row splits — exact folds of small cases (the rows sklearn's
 * splitters give), every row tested once, stratified shares, seeds. */
#include "read_util.h"

#include "kiln/mem.h"
#include "kiln/split.h"

#include <string.h>

static void expect_rows(const size_t *got, size_t n, const size_t *want, size_t m)
{
    assert_int_equal(n, m);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i], want[i]);
}

/* KFold(3) over 7 rows: test blocks of 3, 2, 2 in row order. */
static void kfold_blocks(void **state)
{
    (void)state;
    kn_split_opts o;
    kn_split_opts_default(&o);
    o.folds = 3;
    kn_folds f;
    KN_CHECK(kn_split_folds(7, NULL, &o, &f));
    assert_int_equal(f.k, 3);
    expect_rows(f.fold[0].test, f.fold[0].n_test, (size_t[]){0, 1, 2}, 3);
    expect_rows(f.fold[1].test, f.fold[1].n_test, (size_t[]){3, 4}, 2);
    expect_rows(f.fold[2].train, f.fold[2].n_train, (size_t[]){0, 1, 2, 3, 4}, 5);
    kn_folds_free(&f);
    o.folds = 8;
    KN_CHECK_FAILS(kn_split_folds(7, NULL, &o, &f), KN_ERR_INVALID, "8 folds for 7 rows");
}

/* StratifiedKFold(2) on y = 1 1 0 0 0 1 0 1 (classes in order of first
 * appearance: 1 then 0): sklearn gives test folds [0 1 2 3] and [4 5 6 7]. */
static void stratified_like_sklearn(void **state)
{
    (void)state;
    int32_t y[] = {1, 1, 0, 0, 0, 1, 0, 1};
    kn_split_opts o;
    kn_split_opts_default(&o);
    o.kind = KN_SPLIT_STRATIFIED;
    o.folds = 2;
    kn_folds f;
    KN_CHECK(kn_split_folds(8, y, &o, &f));
    expect_rows(f.fold[0].test, f.fold[0].n_test, (size_t[]){0, 1, 2, 3}, 4);
    expect_rows(f.fold[1].test, f.fold[1].n_test, (size_t[]){4, 5, 6, 7}, 4);
    kn_folds_free(&f);
    /* shuffled and repeated: each repeat tests every row exactly once */
    o.shuffle = 1;
    o.repeats = 3;
    o.seed = 11;
    KN_CHECK(kn_split_folds(8, y, &o, &f));
    assert_int_equal(f.k, 6);
    for (size_t r = 0; r < 3; r++) {
        int seen[8] = {0};
        for (size_t k = 0; k < 2; k++) {
            const kn_fold *fo = &f.fold[r * 2 + k];
            int ones = 0;
            for (size_t i = 0; i < fo->n_test; i++) {
                seen[fo->test[i]]++;
                ones += y[fo->test[i]];
            }
            assert_int_equal(ones, 2); /* 2 of each class per fold */
        }
        for (size_t i = 0; i < 8; i++) assert_int_equal(seen[i], 1);
    }
    kn_folds_free(&f);
    int32_t rare[] = {0, 0, 0, 0, 1};
    o.repeats = 1;
    KN_CHECK_FAILS(kn_split_folds(5, rare, &o, &f), KN_ERR_INVALID, "a class has only 1 rows");
}

/* GroupKFold(2): groups of sizes 3, 1, 2, 2 -> largest first to the
 * lightest fold: g0 -> 0, then g2 (2 rows, ties by higher index) -> 1, g3 -> 1,
 * g1 -> 0. */
static void group_never_straddles(void **state)
{
    (void)state;
    int32_t g[] = {0, 0, 0, 1, 2, 2, 3, 3};
    kn_split_opts o;
    kn_split_opts_default(&o);
    o.kind = KN_SPLIT_GROUP;
    o.folds = 2;
    kn_folds f;
    KN_CHECK(kn_split_folds(8, g, &o, &f));
    expect_rows(f.fold[0].test, f.fold[0].n_test, (size_t[]){0, 1, 2, 3}, 4);
    expect_rows(f.fold[1].test, f.fold[1].n_test, (size_t[]){4, 5, 6, 7}, 4);
    kn_folds_free(&f);
}

/* TimeSeriesSplit(3, gap=1) on 10 rows: test windows of 2 at 4, 6, 8. */
static void time_series_windows(void **state)
{
    (void)state;
    kn_split_opts o;
    kn_split_opts_default(&o);
    o.kind = KN_SPLIT_TIME;
    o.folds = 3;
    o.gap = 1;
    kn_folds f;
    KN_CHECK(kn_split_folds(10, NULL, &o, &f));
    expect_rows(f.fold[0].train, f.fold[0].n_train, (size_t[]){0, 1, 2}, 3);
    expect_rows(f.fold[0].test, f.fold[0].n_test, (size_t[]){4, 5}, 2);
    expect_rows(f.fold[2].train, f.fold[2].n_train, (size_t[]){0, 1, 2, 3, 4, 5, 6}, 7);
    expect_rows(f.fold[2].test, f.fold[2].n_test, (size_t[]){8, 9}, 2);
    kn_folds_free(&f);
    o.max_train = 2;
    KN_CHECK(kn_split_folds(10, NULL, &o, &f));
    expect_rows(f.fold[2].train, f.fold[2].n_train, (size_t[]){5, 6}, 2);
    kn_folds_free(&f);
}

/* Three-way stratified shares: every class split 60/20/20, parts disjoint,
 * same seed same parts. */
static void shares_stratified(void **state)
{
    (void)state;
    enum { N = 100 };
    int32_t y[N];
    for (size_t i = 0; i < N; i++) y[i] = i % 4 == 0; /* 25 of class 1 */
    double shares[3] = {0.6, 0.2, 0.2};
    size_t *parts[3], sizes[3], *again[3], sizes2[3];
    KN_CHECK(kn_split_shares(N, y, shares, 3, 7, parts, sizes));
    KN_CHECK(kn_split_shares(N, y, shares, 3, 7, again, sizes2));
    assert_int_equal(sizes[0] + sizes[1] + sizes[2], N);
    int seen[N] = {0};
    for (size_t p = 0; p < 3; p++) {
        size_t ones = 0;
        assert_int_equal(sizes[p], sizes2[p]);
        assert_memory_equal(parts[p], again[p], sizes[p] * sizeof **parts);
        for (size_t i = 0; i < sizes[p]; i++) {
            seen[parts[p][i]]++;
            ones += (size_t)y[parts[p][i]];
            if (i) assert_true(parts[p][i] > parts[p][i - 1]);
        }
        assert_int_equal(ones, p == 0 ? 15 : 5);
        kn_free(parts[p]);
        kn_free(again[p]);
    }
    for (size_t i = 0; i < N; i++) assert_int_equal(seen[i], 1);
    double bad[2] = {0.5, 0.4};
    KN_CHECK_FAILS(kn_split_shares(N, NULL, bad, 2, 1, parts, sizes), KN_ERR_INVALID,
                   "add up to 1");
}

/* Labels from a column: ranks of sorted text or numbers; the classes' balance. */
static void labels_sorted(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "g,v\nb,3\na,1\nc,3\na,2\n");
    int32_t *codes;
    size_t k;
    KN_CHECK(kn_split_labels(f, "g", &codes, &k));
    assert_int_equal(k, 3);
    assert_memory_equal(codes, ((int32_t[]){1, 0, 2, 0}), 4 * sizeof *codes);
    kn_free(codes);
    KN_CHECK(kn_split_labels(f, "v", &codes, &k));
    assert_int_equal(k, 3);
    assert_memory_equal(codes, ((int32_t[]){2, 0, 2, 1}), 4 * sizeof *codes);
    kn_free(codes);
    KN_CHECK_FAILS(kn_split_labels(f, "zz", &codes, &k), KN_ERR_NOT_FOUND, "'zz'");
    /* the classes' balance: three classes, the smallest one row, the largest two */
    kn_class_balance cb;
    KN_CHECK(kn_split_class_balance(f, "g", &cb));
    assert_int_equal(cb.k, 3);
    assert_int_equal(cb.rows, 4);
    assert_int_equal(cb.smallest, 1);
    assert_int_equal(cb.largest, 2);
    KN_CHECK_FAILS(kn_split_class_balance(f, "zz", &cb), KN_ERR_NOT_FOUND, "'zz'");
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kfold_blocks),          cmocka_unit_test(stratified_like_sklearn),
        cmocka_unit_test(group_never_straddles), cmocka_unit_test(time_series_windows),
        cmocka_unit_test(shares_stratified),     cmocka_unit_test(labels_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
