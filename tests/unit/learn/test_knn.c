/* learn: the k-d tree and brute force give the same neighbours (ties by
 * index), both equal to a plain scan, on random data with duplicates. */
#include "read_util.h"

#include "kiln/mem.h"
#include "kiln/rng.h"
#include "learn/neighbors/kdtree.h"

#include <math.h>

static void same_neighbours(size_t n, size_t p, size_t m, size_t k, kn_distance metric)
{
    double *x = kn_malloc(n * p * sizeof *x), *q = kn_malloc(m * p * sizeof *q);
    kn_rng rng;
    kn_rng_init(&rng, n + p);
    /* coarse values: many exact ties and duplicate rows */
    for (size_t i = 0; i < n * p; i++) x[i] = (double)kn_rng_below(&rng, 7);
    for (size_t i = 0; i < m * p; i++) q[i] = kn_rng_uniform(&rng) * 7;
    for (size_t j = 0; j < p; j++) q[j] = x[j]; /* a query exactly on a training row */
    size_t *i1 = kn_malloc(m * k * sizeof *i1), *i2 = kn_malloc(m * k * sizeof *i2);
    double *d1 = kn_malloc(m * k * sizeof *d1), *d2 = kn_malloc(m * k * sizeof *d2);
    kn__kdtree t;
    KN_CHECK(kn__kdtree_build(&t, x, n, p, 5));
    KN_CHECK(kn__knn_query(&t, x, n, p, metric, q, m, k, i1, d1));
    KN_CHECK(kn__knn_query(NULL, x, n, p, metric, q, m, k, i2, d2));
    for (size_t r = 0; r < m; r++) {
        for (size_t j = 0; j < k; j++) {
            assert_int_equal(i1[r * k + j], i2[r * k + j]);
            assert_true(d1[r * k + j] == d2[r * k + j]);
            if (j) assert_true(d1[r * k + j] >= d1[r * k + j - 1]);
        }
        /* nothing outside the list is nearer than its last entry */
        double last = d1[r * k + k - 1];
        size_t nearer = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < p; j++) {
                double dd = q[r * p + j] - x[i * p + j];
                s += metric == KN_DIST_MANHATTAN ? fabs(dd) : dd * dd;
            }
            nearer += (metric == KN_DIST_MANHATTAN ? s : sqrt(s)) < last;
        }
        assert_true(nearer < k);
    }
    assert_true(d1[0] == 0 && i1[0] == 0); /* the query on row 0 finds it first */
    kn__kdtree_free(&t);
    kn_free(x), kn_free(q), kn_free(i1), kn_free(i2), kn_free(d1), kn_free(d2);
}

/* Infinite coordinates: tree and brute force still return k neighbours. */
static void infinite_values(void **state)
{
    (void)state;
    double x[] = {0, 0, 1, 1, INFINITY, 2, 3, 3}, q[] = {INFINITY, 0, 0.5, 0.5};
    size_t idx[4];
    double dist[4];
    KN_CHECK(kn__knn_query(NULL, x, 4, 2, KN_DIST_EUCLIDEAN, q, 2, 2, idx, dist));
    for (size_t i = 0; i < 4; i++) assert_true(idx[i] < 4);
    assert_true(idx[2] <= 1 && idx[3] <= 1);
    kn__kdtree t;
    KN_CHECK(kn__kdtree_build(&t, x, 4, 2, 1));
    KN_CHECK(kn__knn_query(&t, x, 4, 2, KN_DIST_EUCLIDEAN, q, 2, 2, idx, dist));
    for (size_t i = 0; i < 4; i++) assert_true(idx[i] < 4);
    assert_true(idx[2] <= 1 && idx[3] <= 1);
    kn__kdtree_free(&t);
}

static void tree_equals_brute(void **state)
{
    (void)state;
    same_neighbours(1500, 3, 200, 7, KN_DIST_EUCLIDEAN);
    same_neighbours(900, 12, 150, 5, KN_DIST_EUCLIDEAN);
    same_neighbours(700, 4, 100, 9, KN_DIST_MANHATTAN);
    same_neighbours(30, 2, 10, 30, KN_DIST_EUCLIDEAN); /* k = n */
    /* the resamplers' case: 17 features (brute force beyond 15), k = 2, and
     * more points than a full GEMM block holds (several blocks of queries) */
    same_neighbours(5000, 17, 300, 2, KN_DIST_EUCLIDEAN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(tree_equals_brute),
                                       cmocka_unit_test(infinite_values)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
