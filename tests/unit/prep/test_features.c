/* prep: log1p_transform, polynomial_features, power_transformer and pca. */
#include "prep_util.h"

#include <math.h>

static void log1p_values_and_domain(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "x,k\n0,1\n1,1\n,1\n"); /* a blank line would be skipped */
    kn_frame *o = fit_transform("log1p_transform", NULL, f);
    assert_true(cell(o, 0, 0) == 0 && cell(o, 0, 1) == log1p(1.0) && isnan(cell(o, 0, 2)));
    kn_frame_free(o);
    kn_frame *bad = read_as(".csv", "x,k\n-1,1\n");
    kn_step *s;
    KN_CHECK(kn_step_new("log1p_transform", &s));
    KN_CHECK(kn_step_fit(s, f));
    KN_CHECK_FAILS(kn_step_transform(s, bad, &o), KN_ERR_RANGE,
                   "column 'x', row 1: -1 is <= -1, where log1p is undefined");
    kn_step_free(s);
    kn_frame_free(bad);
    kn_frame_free(f);
}

static void polynomial_order_and_names(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b,c\n2,3,x\n");
    kn_frame *o = fit_transform("polynomial_features", NULL, f);
    const char *names[] = {"a", "b", "a^2", "a*b", "b^2", "c"};
    assert_int_equal(kn_frame_n_cols(o), 6);
    for (size_t j = 0; j < 6; j++)
        assert_string_equal(kn_column_name(kn_frame_col(o, j)), names[j]);
    assert_true(cell(o, 2, 0) == 4 && cell(o, 3, 0) == 6 && cell(o, 4, 0) == 9);
    kn_frame_free(o);
    const char *inter[] = {"interaction_only=true", NULL};
    o = fit_transform("polynomial_features", inter, f);
    assert_int_equal(kn_frame_n_cols(o), 4);
    assert_string_equal(kn_column_name(kn_frame_col(o, 2)), "a*b");
    kn_frame_free(o);
    kn_frame_free(f);
}

/* Expected values: scipy.optimize.brent on the Yeo-Johnson likelihood with
 * C-library math (the method tests/integration/test_prep_parity.sh uses). */
static void power_lambda_and_values(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "x\n-2\n-1\n0\n1\n3\n8\n20\n\n");
    const char *raw[] = {"standardize=false", NULL};
    kn_frame *o = fit_transform("power_transformer", raw, f);
    const double want[] = {-3.2066390819114328, -1.3198937676307056, 0.0,
                           0.7720289422793369,  1.726200763544822,   3.131900877751043,
                           5.024616399002997};
    for (size_t i = 0; i < 7; i++) assert_true(fabs(cell(o, 0, i) - want[i]) < 1e-13);
    kn_frame_free(o);
    o = fit_transform("power_transformer", NULL, f);
    double sum = 0, sq = 0;
    for (size_t i = 0; i < 7; i++) sum += cell(o, 0, i);
    for (size_t i = 0; i < 7; i++) sq += cell(o, 0, i) * cell(o, 0, i);
    assert_true(fabs(sum) < 1e-12 && fabs(sq / 7 - 1) < 1e-12);
    kn_frame_free(o);
    kn_frame_free(f);
    kn_frame *one = read_as(".csv", "x\n5\n\n");
    kn_step *s;
    KN_CHECK(kn_step_new("power_transformer", &s));
    KN_CHECK_FAILS(kn_step_fit(s, one), KN_ERR_RANGE, "has 1 non-missing value(s)");
    kn_step_free(s);
    kn_frame_free(one);
}

/* Points on the line y = 2x: one component along (1, 2)/sqrt(5) carries all
 * the variance; the largest score (last row) is positive. */
static void pca_on_a_line(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "x,y,k\n1,2,a\n2,4,b\n4,8,c\n");
    const char *one[] = {"n_components=1", "prefix=comp", NULL};
    kn_frame *o = fit_transform("pca", one, f);
    assert_int_equal(kn_frame_n_cols(o), 2);
    assert_string_equal(kn_column_name(kn_frame_col(o, 0)), "comp1");
    const double want[] = {-4 * sqrt(5) / 3, -sqrt(5) / 3, 5 * sqrt(5) / 3};
    for (size_t i = 0; i < 3; i++) assert_true(fabs(cell(o, 0, i) - want[i]) < 1e-12);
    kn_frame_free(o);
    kn_frame *gap = read_as(".csv", "x,y\n1,2\n,4\n4,8\n");
    kn_step *s;
    KN_CHECK(kn_step_new("pca", &s));
    KN_CHECK_FAILS(kn_step_fit(s, gap), KN_ERR_INVALID, "column 'x', row 2 is missing");
    KN_CHECK(kn_step_fit(s, f));
    KN_CHECK_FAILS(kn_step_transform(s, gap, &o), KN_ERR_INVALID, "put simple_imputer before it");
    kn_step_free(s);
    kn_frame_free(gap);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log1p_values_and_domain),
        cmocka_unit_test(polynomial_order_and_names),
        cmocka_unit_test(power_lambda_and_values),
        cmocka_unit_test(pca_on_a_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
