/* core: the KLL quantile sketch against exact quantiles of real columns
 * (tests/data/lending_club.csv, 9,857 rows): every quantile's rank within
 * 2/k of the asked one (k = 200: 1 %), alone and merged from four
 * sketches; the count exact; memory bounded; same seed, same answers;
 * kn_kll_add_many the same sketch as one kn_kll_add per value. */
#include "test_util.h"

#include "kiln/frame.h"
#include "kiln/io.h"
#include "kiln/sketch.h"

#include <math.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The distance of q from the exact rank interval of v among sorted x. */
static double rank_error(const double *x, size_t n, double v, double q)
{
    size_t lo = 0, hi = 0;
    while (lo < n && x[lo] < v) lo++;
    hi = lo;
    while (hi < n && x[hi] <= v) hi++;
    double a = (double)lo / (double)n, b = (double)hi / (double)n;
    return q < a ? a - q : q > b ? q - b : 0;
}

static const double qs[] = {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};
enum { NQ = sizeof qs / sizeof qs[0] };

/* The non-missing values of a numeric column of lending_club.csv. */
static double *column(const char *name, size_t *n)
{
    const char *dir = getenv("KILN_TEST_DATA");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/lending_club.csv", dir);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, NULL, &f, NULL));
    size_t j = 0;
    KN_CHECK(kn_frame_find(f, name, &j));
    const kn_column *c = kn_frame_col(f, j);
    double *x = malloc(kn_frame_n_rows(f) * sizeof *x);
    assert_non_null(x);
    *n = 0;
    for (size_t i = 0; i < kn_frame_n_rows(f); i++) {
        double v = kn_column_number(c, i);
        if (!isnan(v)) x[(*n)++] = v;
    }
    kn_frame_free(f);
    return x;
}

static void check(const kn_kll *s, const double *sorted, size_t n, const char *what)
{
    double est[NQ];
    KN_CHECK(kn_kll_quantiles(s, qs, NQ, est));
    double worst = 0;
    for (size_t i = 0; i < NQ; i++) {
        double e = rank_error(sorted, n, est[i], qs[i]);
        if (e > worst) worst = e;
        if (e > 2.0 / KN_KLL_DEFAULT_K)
            fail_msg("%s: quantile %g is %g, rank error %g > %g", what, qs[i], est[i], e,
                     2.0 / KN_KLL_DEFAULT_K);
        assert_true(est[i] == kn_kll_quantile(s, qs[i]));
    }
    print_message("%s: n %zu, worst rank error %.4f\n", what, n, worst);
    assert_true(kn_kll_quantile(s, 0) == sorted[0]);
    assert_true(kn_kll_quantile(s, 1) == sorted[n - 1]);
    /* the CDF at the median: within the same error of the exact share */
    double v = sorted[n / 2];
    size_t hi = 0;
    while (hi < n && sorted[hi] <= v) hi++;
    assert_true(fabs(kn_kll_rank(s, v) - (double)hi / (double)n) <= 2.0 / KN_KLL_DEFAULT_K);
}

static void sketch_matches_exact_quantiles(void **state)
{
    (void)state;
    const char *cols[] = {"annual_inc", "int_rate", "revol_util", "funded_amnt", "total_bal_il"};
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
        size_t n = 0;
        double *x = column(cols[c], &n);
        assert_true(n > 5000);
        /* alone, in file order */
        kn_kll *s = NULL;
        KN_CHECK(kn_kll_new(KN_KLL_DEFAULT_K, 1, &s));
        for (size_t i = 0; i < n; i++) KN_CHECK(kn_kll_add(s, x[i]));
        assert_int_equal(kn_kll_count(s), n);
        assert_true(kn_kll_memory_bytes(s) < 64 * 1024);
        /* merged from four sketches of interleaved quarters (per-thread shards) */
        kn_kll *part[4], *all = NULL;
        KN_CHECK(kn_kll_new(KN_KLL_DEFAULT_K, 99, &all));
        for (int p = 0; p < 4; p++)
            KN_CHECK(kn_kll_new(KN_KLL_DEFAULT_K, (uint64_t)p + 2, &part[p]));
        for (size_t i = 0; i < n; i++) KN_CHECK(kn_kll_add(part[i % 4], x[i]));
        for (int p = 0; p < 4; p++) KN_CHECK(kn_kll_merge(all, part[p]));
        assert_int_equal(kn_kll_count(all), n);
        kn_kll *copy = NULL;
        KN_CHECK(kn_kll_copy(all, &copy));
        qsort(x, n, sizeof *x, cmp);
        char what[128];
        snprintf(what, sizeof what, "%s, one sketch", cols[c]);
        check(s, x, n, what);
        snprintf(what, sizeof what, "%s, four merged", cols[c]);
        check(all, x, n, what);
        assert_true(kn_kll_quantile(copy, 0.5) == kn_kll_quantile(all, 0.5));
        for (int p = 0; p < 4; p++) kn_kll_free(part[p]);
        kn_kll_free(all);
        kn_kll_free(copy);
        kn_kll_free(s);
        free(x);
    }
}

static void sketch_is_bounded_and_seeded(void **state)
{
    (void)state;
    kn_kll *a = NULL, *b = NULL;
    KN_CHECK(kn_kll_new(KN_KLL_DEFAULT_K, 7, &a));
    KN_CHECK(kn_kll_new(KN_KLL_DEFAULT_K, 7, &b));
    /* a million values 0..999999 in a scrambled order */
    size_t big = 0;
    for (uint64_t i = 0; i < 1000000; i++) {
        double v = (double)((i * 7919) % 1000000);
        KN_CHECK(kn_kll_add(a, v));
        KN_CHECK(kn_kll_add(b, v));
        if (i == 100000) big = kn_kll_memory_bytes(a);
    }
    /* memory grows with the number of levels only (a level per doubling) */
    print_message("memory: %zu bytes at 100,000 values, %zu at 1,000,000\n", big,
                  kn_kll_memory_bytes(a));
    assert_true(kn_kll_memory_bytes(a) < big + big / 4);
    assert_true(kn_kll_memory_bytes(a) < 24 * 1024);
    for (size_t i = 0; i < NQ; i++) {
        double v = kn_kll_quantile(a, qs[i]);
        assert_true(v == kn_kll_quantile(b, qs[i]));
        assert_true(fabs(v / 1e6 - qs[i]) <= 2.0 / KN_KLL_DEFAULT_K);
    }
    /* non-finite values are skipped; an empty sketch answers NaN */
    KN_CHECK(kn_kll_add(a, NAN));
    KN_CHECK(kn_kll_add(a, INFINITY));
    assert_int_equal(kn_kll_count(a), 1000000);
    kn_kll_reset(a);
    assert_int_equal(kn_kll_count(a), 0);
    assert_true(isnan(kn_kll_quantile(a, 0.5)));
    assert_true(kn_kll_rank(a, 1) == 0);
    /* small streams are exact */
    for (int i = 1; i <= 100; i++) KN_CHECK(kn_kll_add(a, i));
    assert_true(kn_kll_quantile(a, 0.5) == 50);
    assert_true(kn_kll_quantile(a, 0.25) == 25);
    kn_kll *c = NULL;
    KN_CHECK_FAILS(kn_kll_new(3, 1, &c), KN_ERR_INVALID, "k is 3");
    kn_kll_free(a);
    kn_kll_free(b);
}

/* kn_kll_add_many in runs of every length up to 200 (strided, with NaN and
 * infinities among the values) gives the sketch kn_kll_add gives value by
 * value: the same count, extremes, retained items (every quantile and the
 * memory), through the levels' growth and into sampling. */
static void many_is_one_at_a_time(void **state)
{
    (void)state;
    kn_kll *a = NULL, *b = NULL;
    KN_CHECK(kn_kll_new(64, 3, &a));
    KN_CHECK(kn_kll_new(64, 3, &b));
    enum { STRIDE = 3, RUN = 200 };
    static double x[RUN * STRIDE];
    uint64_t r = 88172645463325252u;
    for (size_t step = 0; step < 6000; step++) {
        size_t n = step % (RUN + 1);
        for (size_t i = 0; i < n * STRIDE; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            double u = (double)(r >> 11) * 0x1p-53;
            x[i] = r % 97 == 0 ? NAN : r % 89 == 0 ? -INFINITY : 1e3 * u * u - 300;
        }
        for (size_t i = 0; i < n; i++) KN_CHECK(kn_kll_add(a, x[i * STRIDE]));
        KN_CHECK(kn_kll_add_many(b, x, n, STRIDE));
        if (step % 500) continue;
        assert_int_equal(kn_kll_count(a), kn_kll_count(b));
        assert_int_equal(kn_kll_memory_bytes(a), kn_kll_memory_bytes(b));
        for (int q = 0; q <= 100; q++) {
            double u = kn_kll_quantile(a, q / 100.0), v = kn_kll_quantile(b, q / 100.0);
            assert_true(u == v || (isnan(u) && isnan(v))); /* NaN: empty */
        }
    }
    print_message("%llu values\n", (unsigned long long)kn_kll_count(a));
    assert_true(kn_kll_count(a) > 500000); /* far into sampling at k = 64 */
    kn_kll_free(a);
    kn_kll_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sketch_matches_exact_quantiles),
        cmocka_unit_test(sketch_is_bounded_and_seeded),
        cmocka_unit_test(many_is_one_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
