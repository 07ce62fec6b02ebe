/* prep: scalers, exact values on small frames (parity with scikit-learn on
 * real data is tests/integration/test_prep_parity.sh). */
#include "prep_util.h"

#include <math.h>

static const char *data = "x,k\n1,5\n2,5\n,5\n4,5\n8,5\n";

static void standard(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    kn_frame *o = fit_transform("standard_scaler", NULL, f);
    /* x: mean 3.75, population std sqrt(7.1875); NaN stays; constant k -> 0 (scale 1) */
    double sd = sqrt(7.1875);
    assert_true(fabs(cell(o, 0, 0) - (1 - 3.75) / sd) < 1e-15);
    assert_true(isnan(cell(o, 0, 2)));
    assert_true(cell(o, 1, 0) == 0 && cell(o, 1, 4) == 0);
    kn_frame_free(o);
    kn_frame_free(f);
}

static void minmax_robust_maxabs(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    kn_frame *o = fit_transform("minmax_scaler", NULL, f);
    assert_true(cell(o, 0, 0) == 0 && cell(o, 0, 4) == 1 && fabs(cell(o, 0, 1) - 1.0 / 7) < 1e-15);
    assert_true(cell(o, 1, 0) == 0); /* constant column: range 0 -> scale 1 */
    kn_frame_free(o);
    const char *range[] = {"min=-1", "max=1", NULL};
    o = fit_transform("minmax_scaler", range, f);
    assert_true(fabs(cell(o, 0, 0) + 1) < 1e-15 && fabs(cell(o, 0, 4) - 1) < 1e-15);
    kn_frame_free(o);
    /* robust: sorted 1,2,4,8 -> median 3, q25 1.75, q75 5 -> IQR 3.25 */
    o = fit_transform("robust_scaler", NULL, f);
    assert_true(fabs(cell(o, 0, 4) - (8 - 3) / 3.25) < 1e-15);
    assert_true(cell(o, 1, 0) == 0);
    kn_frame_free(o);
    o = fit_transform("maxabs_scaler", NULL, f);
    assert_true(cell(o, 0, 3) == 0.5 && cell(o, 1, 0) == 1);
    kn_frame_free(o);
    kn_step *s;
    KN_CHECK(kn_step_new("minmax_scaler", &s));
    KN_CHECK(kn_step_set(s, "min=2"));
    KN_CHECK(kn_step_set(s, "max=1"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_RANGE, "min (2) must be below max (1)");
    kn_step_free(s);
    kn_frame_free(f);
}

/* Fit on train, transform other data: the learned values are used, not refitted. */
static void fit_once_apply_to_new_data(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "x\n0\n10\n");
    kn_frame *test = read_as(".csv", "x\n20\n-10\n");
    kn_step *s;
    KN_CHECK(kn_step_new("minmax_scaler", &s));
    KN_CHECK(kn_step_fit(s, train));
    kn_frame *o;
    KN_CHECK(kn_step_transform(s, test, &o));
    assert_true(cell(o, 0, 0) == 2 && cell(o, 0, 1) == -1);
    kn_frame_free(o);
    kn_step_free(s);
    kn_frame_free(train);
    kn_frame_free(test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standard),
        cmocka_unit_test(minmax_robust_maxabs),
        cmocka_unit_test(fit_once_apply_to_new_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
