/* prep: one-hot and ordinal encoders: sorted levels, missing values, unknown
 * levels at transform time (parity with scikit-learn on real data is
 * tests/integration/test_encoder_parity.sh). */
#include "prep_util.h"

#include <math.h>

static kn_step *fitted(const char *name, const char *set, kn_frame *train)
{
    kn_step *s;
    KN_CHECK(kn_step_new(name, &s));
    if (set) KN_CHECK(kn_step_set(s, set));
    KN_CHECK(kn_step_fit(s, train));
    return s;
}

static void onehot_layout_and_unknowns(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "x,c\n1,red\n2,blue\n3,\n");
    kn_frame *test = read_as(".csv", "x,c\n4,green\n5,blue\n");
    kn_step *s = fitted("onehot_encoder", NULL, train);
    kn_frame *o;
    KN_CHECK(kn_step_transform(s, train, &o));
    /* c replaced in place by c_blue, c_red (sorted), c_nan (missing seen at fit) */
    assert_int_equal(kn_frame_n_cols(o), 4);
    assert_string_equal(kn_column_name(kn_frame_col(o, 1)), "c_blue");
    assert_string_equal(kn_column_name(kn_frame_col(o, 3)), "c_nan");
    assert_true(cell(o, 2, 0) == 1 && cell(o, 1, 1) == 1 && cell(o, 3, 2) == 1 &&
                cell(o, 1, 2) == 0);
    kn_frame_free(o);
    KN_CHECK_FAILS(kn_step_transform(s, test, &o), KN_ERR_INVALID,
                   "onehot_encoder: column 'c', row 1: 'green' was not seen at fit time");
    kn_step_free(s);
    s = fitted("onehot_encoder", "handle_unknown=ignore", train);
    KN_CHECK(kn_step_transform(s, test, &o));
    assert_true(cell(o, 1, 0) == 0 && cell(o, 2, 0) == 0 && cell(o, 3, 0) == 0);
    assert_true(cell(o, 1, 1) == 1);
    kn_frame_free(o);
    kn_step_free(s);
    kn_frame_free(train);
    kn_frame_free(test);
}

static void ordinal_codes_and_unknowns(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "c\nm\ns\nl\n\n");
    kn_frame *test = read_as(".csv", "c\nxl\ns\n");
    kn_step *s = fitted("ordinal_encoder", NULL, train);
    kn_frame *o;
    KN_CHECK(kn_step_transform(s, train, &o));
    assert_int_equal(kn_column_type(kn_frame_col(o, 0)), KN_COL_NUMERIC);
    assert_string_equal(kn_column_name(kn_frame_col(o, 0)), "c");
    assert_true(cell(o, 0, 0) == 1 && cell(o, 0, 1) == 2 && cell(o, 0, 2) == 0); /* l, m, s */
    kn_frame_free(o);
    o = NULL;
    KN_CHECK_FAILS(kn_step_transform(s, test, &o), KN_ERR_INVALID, "'xl' was not seen at fit time");
    kn_step_free(s);
    s = fitted("ordinal_encoder", "handle_unknown=use_encoded_value", train);
    KN_CHECK(kn_step_transform(s, test, &o));
    assert_true(cell(o, 0, 0) == -1 && cell(o, 0, 1) == 2);
    kn_frame_free(o);
    kn_step_free(s);
    KN_CHECK(kn_step_new("onehot_encoder", &s));
    KN_CHECK(kn_step_set(s, "columns=c"));
    kn_frame *num = read_as(".csv", "c\n1\n2\n");
    KN_CHECK_FAILS(kn_step_fit(s, num), KN_ERR_TYPE, "encoders take categorical columns");
    kn_step_free(s);
    kn_frame_free(num);
    kn_frame_free(train);
    kn_frame_free(test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(onehot_layout_and_unknowns),
        cmocka_unit_test(ordinal_codes_and_unknowns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
