/* prep: datetime_features, combine_columns, frequency_encoder. */
#include "prep_util.h"

#include "kiln/mem.h"

#include <math.h>

static const char *data = "when,a,b,c\n2024-03-02T13:45:00Z,6,3,x\n2024-03-04,1,0,y\n,2,4,x\n";

static void datetime_parts(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    kn_frame *o = fit_transform("datetime_features", NULL, f);
    const char *names[] = {"when",           "when_year", "when_month",      "when_day",
                           "when_dayofweek", "when_hour", "when_is_weekend", "a"};
    for (size_t j = 0; j < 8; j++)
        assert_string_equal(kn_column_name(kn_frame_col(o, j)), names[j]);
    /* 2024-03-02 is a Saturday (day of week 5, Monday = 0), 13:45 UTC */
    assert_true(cell(o, 1, 0) == 2024 && cell(o, 2, 0) == 3 && cell(o, 3, 0) == 2);
    assert_true(cell(o, 4, 0) == 5 && cell(o, 5, 0) == 13 && cell(o, 6, 0) == 1);
    assert_true(cell(o, 4, 1) == 0 && cell(o, 6, 1) == 0);
    assert_true(isnan(cell(o, 1, 2)));
    kn_frame_free(o);
    const char *drop[] = {"keep=false", NULL};
    o = fit_transform("datetime_features", drop, f);
    assert_string_equal(kn_column_name(kn_frame_col(o, 0)), "when_year");
    kn_frame_free(o);
    kn_frame_free(f);
}

static void combine_ratio_and_difference(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    const char *ratio[] = {"a=a", "b=b", NULL};
    kn_frame *o = fit_transform("combine_columns", ratio, f);
    size_t j;
    KN_CHECK(kn_frame_find(o, "a_over_b", &j));
    assert_true(cell(o, j, 0) == 2 && isnan(cell(o, j, 1)) && cell(o, j, 2) == 0.5);
    kn_frame_free(o);
    const char *diff[] = {"a=a", "b=b", "op=difference", "name=gap", NULL};
    o = fit_transform("combine_columns", diff, f);
    KN_CHECK(kn_frame_find(o, "gap", &j));
    assert_true(cell(o, j, 0) == 3 && cell(o, j, 2) == -2);
    kn_frame_free(o);
    kn_step *s;
    KN_CHECK(kn_step_new("combine_columns", &s));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_INVALID, "set both a= and b=");
    KN_CHECK(kn_step_set(s, "a=a"));
    KN_CHECK(kn_step_set(s, "b=c"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_TYPE, "column 'c' is not numeric");
    kn_step_free(s);
    kn_frame_free(f);
}

static void frequency_shares_and_unknowns(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    kn_frame *test = read_as(".csv", "when,a,b,c\n,1,1,z\n,1,1,y\n,1,1,\n");
    kn_step *s;
    KN_CHECK(kn_step_new("frequency_encoder", &s));
    KN_CHECK(kn_step_fit(s, f));
    kn_step *reloaded = save_and_reload(s);
    kn_frame *o, *p;
    KN_CHECK(kn_step_transform(s, f, &o));
    assert_true(fabs(cell(o, 3, 0) - 2.0 / 3) < 1e-15 && fabs(cell(o, 3, 1) - 1.0 / 3) < 1e-15);
    kn_frame_free(o);
    KN_CHECK(kn_step_transform(reloaded, test, &p));
    assert_true(cell(p, 3, 0) == 0 && fabs(cell(p, 3, 1) - 1.0 / 3) < 1e-15 &&
                isnan(cell(p, 3, 2)));
    kn_frame_free(p);
    kn_step_free(reloaded);
    kn_step_free(s);
    kn_frame_free(test);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datetime_parts),
        cmocka_unit_test(combine_ratio_and_difference),
        cmocka_unit_test(frequency_shares_and_unknowns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
