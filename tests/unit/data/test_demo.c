/* data: the demo generators: the credit-default table's size, defaults,
 * dirt (missing cells, duplicates, impossible values) and determinism. */
#include "test_util.h"

#include "kiln/demo.h"

#include <math.h>
#include <string.h>

static kn_column *col(const kn_frame *f, const char *name)
{
    size_t j;
    KN_CHECK(kn_frame_find(f, name, &j));
    return kn_frame_col(f, j);
}

static double missing_share(const kn_frame *f, const char *name)
{
    kn_column *c = col(f, name);
    size_t n = kn_frame_n_rows(f), k = 0;
    for (size_t i = 0; i < n; i++) k += kn_column_is_missing(c, i) != 0;
    return (double)k / (double)n;
}

static void credit_shape_and_dirt(void **state)
{
    (void)state;
    const size_t n = 50000;
    kn_frame *f;
    KN_CHECK(kn_demo_credit(n, 42, &f));
    assert_int_equal(kn_frame_n_rows(f), n);
    assert_int_equal(kn_frame_n_cols(f), 17);
    assert_int_equal(kn_column_role(col(f, "id")), KN_ROLE_ID);
    assert_int_equal(kn_column_role(col(f, "default")), KN_ROLE_TARGET);
    assert_int_equal(kn_column_n_levels(col(f, "purpose")), 10);

    const double *y = kn_column_f64(col(f, "default"));
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(y[i] == 0 || y[i] == 1);
        pos += y[i] == 1;
    }
    double share = (double)pos / (double)n;
    assert_true(share >= 0.06 && share <= 0.10);

    double m;
    assert_true((m = missing_share(f, "employment_years")) >= 0.03 && m <= 0.05);
    assert_true((m = missing_share(f, "income")) >= 0.02 && m <= 0.04);
    assert_true((m = missing_share(f, "debt_to_income")) >= 0.015 && m <= 0.035);
    assert_true((m = missing_share(f, "home_ownership")) >= 0.01 && m <= 0.03);
    assert_true(missing_share(f, "age") == 0 && missing_share(f, "credit_score") == 0);

    /* two years of applications, in id order */
    const int64_t *t = kn_column_ts(col(f, "application_date"));
    const int64_t day = 86400LL * 1000000;
    assert_true(t[0] >= 1672531200LL * 1000000 && t[n - 1] < 1735689600LL * 1000000);
    assert_true(t[n - 1] - t[0] > 700 * day);

    size_t removed;
    kn_frame *g;
    KN_CHECK(kn_frame_dedupe(f, NULL, 0, 0, &g, &removed));
    kn_frame_free(g);
    assert_true(removed >= n * 3 / 1000 && removed <= n * 7 / 1000);

    const double *inc = kn_column_f64(col(f, "income")), *age = kn_column_f64(col(f, "age"));
    const double *score = kn_column_f64(col(f, "credit_score"));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += inc[i] < 0 || age[i] > 120 || score[i] > 850;
    assert_true(bad >= n * 2 / 1000 && bad <= n * 4 / 1000);
    kn_frame_free(f);
}

/* Same columns and the same bytes in every cell. */
static int same_frame(const kn_frame *a, const kn_frame *b)
{
    size_t n = kn_frame_n_rows(a);
    if (n != kn_frame_n_rows(b) || kn_frame_n_cols(a) != kn_frame_n_cols(b)) return 0;
    for (size_t j = 0; j < kn_frame_n_cols(a); j++) {
        kn_column *x = kn_frame_col(a, j), *y = kn_frame_col(b, j);
        if (strcmp(kn_column_name(x), kn_column_name(y)) != 0) return 0;
        switch (kn_column_type(x)) {
        case KN_COL_NUMERIC:
            if (memcmp(kn_column_f64(x), kn_column_f64(y), n * sizeof(double)) != 0) return 0;
            break;
        case KN_COL_CATEGORICAL:
            if (memcmp(kn_column_codes(x), kn_column_codes(y), n * sizeof(int32_t)) != 0) return 0;
            break;
        case KN_COL_TIMESTAMP:
            if (memcmp(kn_column_ts(x), kn_column_ts(y), n * sizeof(int64_t)) != 0) return 0;
            break;
        default:
            return 0;
        }
    }
    return 1;
}

static void credit_deterministic(void **state)
{
    (void)state;
    kn_frame *a, *b, *c;
    KN_CHECK(kn_demo_credit(5000, 7, &a));
    KN_CHECK(kn_demo_credit(5000, 7, &b));
    KN_CHECK(kn_demo_credit(5000, 8, &c));
    assert_true(same_frame(a, b));
    assert_false(same_frame(a, c));
    kn_frame_free(a);
    kn_frame_free(b);
    kn_frame_free(c);
    /* tiny tables work too (the duplicates look back at most i rows) */
    KN_CHECK(kn_demo_credit(1, 1, &a));
    assert_int_equal(kn_frame_n_rows(a), 1);
    kn_frame_free(a);
    KN_CHECK(kn_demo_credit(0, 1, &a));
    assert_int_equal(kn_frame_n_rows(a), 0);
    kn_frame_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credit_shape_and_dirt),
        cmocka_unit_test(credit_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
