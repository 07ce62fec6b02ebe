/* prep: the generic step contract: registry, parameters, column selection,
 * fit before transform, schema checks at transform time. */
#include "prep_util.h"

#include <math.h>

static void unknown_step_and_parameter(void **state)
{
    (void)state;
    kn_step *s;
    KN_CHECK_FAILS(kn_step_new("nope_scaler", &s), KN_ERR_NOT_FOUND, "no step named 'nope_scaler'");
    KN_CHECK(kn_step_new("standard_scaler", &s));
    assert_string_equal(kn_step_name(s), "standard_scaler");
    KN_CHECK_FAILS(kn_step_set(s, "with_median=true"), KN_ERR_INVALID,
                   "step 'standard_scaler': unknown parameter 'with_median'");
    KN_CHECK_FAILS(kn_step_set(s, "with_mean=sometimes"), KN_ERR_TYPE, "true or false");
    kn_step_free(s);
    kn_step_free(NULL);
}

static void transform_needs_fit_and_same_schema(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "a,b,c\n1,2,x\n3,4,y\n");
    kn_frame *other = read_as(".csv", "a,c\n1,x\n");
    kn_frame *retyped = read_as(".csv", "a,b,c\n1,q,x\n");
    kn_step *s;
    kn_frame *out = NULL;
    KN_CHECK(kn_step_new("minmax_scaler", &s));
    KN_CHECK_FAILS(kn_step_transform(s, train, &out), KN_ERR_INVALID, "is not fitted");
    KN_CHECK(kn_step_fit(s, train));
    assert_true(kn_step_is_fitted(s));
    KN_CHECK_FAILS(kn_step_transform(s, other, &out), KN_ERR_NOT_FOUND,
                   "fitted on column 'b', which the data to transform lacks");
    KN_CHECK_FAILS(kn_step_transform(s, retyped, &out), KN_ERR_TYPE,
                   "column 'b' was numeric at fit time but is categorical now");
    KN_CHECK(kn_step_set(s, "max=2")); /* a new parameter unfits */
    assert_false(kn_step_is_fitted(s));
    kn_step_free(s);
    kn_frame_free(train);
    kn_frame_free(other);
    kn_frame_free(retyped);
}

static void column_selection(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b,c,y\n1,10,x,0\n3,30,y,1\n");
    size_t j;
    KN_CHECK(kn_frame_find(f, "y", &j));
    kn_column_set_role(kn_frame_col(f, j), KN_ROLE_TARGET);
    /* default: numeric features only (not the target, not categorical) */
    kn_frame *out = fit_transform("maxabs_scaler", NULL, f);
    assert_true(cell(out, 0, 1) == 1 && cell(out, 1, 0) == 10.0 / 30);
    assert_true(cell(out, 3, 1) == 1); /* target untouched */
    kn_frame_free(out);
    const char *only_b[] = {"columns=b", NULL};
    out = fit_transform("maxabs_scaler", only_b, f);
    assert_true(cell(out, 0, 0) == 1 && cell(out, 1, 0) == 10.0 / 30);
    kn_frame_free(out);
    /* input frames are never modified */
    assert_true(cell(f, 0, 0) == 1);
    kn_step *s;
    KN_CHECK(kn_step_new("maxabs_scaler", &s));
    KN_CHECK(kn_step_set(s, "columns=b,zz"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_NOT_FOUND, "columns: no column named 'zz'");
    KN_CHECK(kn_step_set(s, "columns=c"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_TYPE, "column 'c' is categorical");
    kn_step_free(s);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_step_and_parameter),
        cmocka_unit_test(transform_needs_fit_and_same_schema),
        cmocka_unit_test(column_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
