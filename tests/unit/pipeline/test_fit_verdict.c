/* The fit verdict (kiln/cv.h, kn_fit_judge): a model that learnt on its
 * rows and loses it on unseen rows is over-fitting; a constant model (its
 * train score no better than the constant's on the same rows) is never
 * called over-fitting, however far its train score sits from validation;
 * a gap the folds' spread drowns (over 0.25 of the baseline-to-perfect
 * range) gives "unknown"; the old entry point keeps its rules. */
#include "test_util.h"

#include "kiln/cv.h"

#include <math.h>
#include <string.h>

static void test_over_when_learnt(void **state)
{
    (void)state;
    char why[640];
    /* accuracy: train 1 against a constant's 0.4 on the same rows, validation
     * 0.6 +- 0.03 against a baseline of 0.4 */
    kn_fit_evidence ev = {"accuracy", 1.0, 0.6, 0.03, 0.4, 0.4, 1};
    assert_int_equal(kn_fit_judge(&ev, why, sizeof why), KN_FIT_OVER);
    assert_non_null(strstr(why, "over-fitting: train accuracy 1"));
}

static void test_constant_is_not_over(void **state)
{
    (void)state;
    char why[640];
    /* rmse (lower is better) of a constant on 14 rows: train 11.68 is the
     * constant's own rmse there (11.68), validation 20.96 +- 4 against a
     * baseline of 20.9: the old rule saw a train skill of 0.44 */
    kn_fit_evidence ev = {"rmse", 11.68, 20.96, 4.0, 20.9, 11.68, 0};
    kn_fit_verdict v = kn_fit_judge(&ev, why, sizeof why);
    assert_int_equal(v, KN_FIT_UNDER);
    assert_non_null(strstr(why, "no better than a constant on the same rows"));
    /* without the train baseline it was (and through kn_fit_diagnose still is)
     * the gap rule's over-fitting */
    assert_int_equal(kn_fit_diagnose("rmse", 11.68, 20.96, 4.0, 20.9, 0, why, sizeof why),
                     KN_FIT_OVER);
    /* the constant's gap with a validation skill above 0.10: fine, not over */
    kn_fit_evidence fine = {"accuracy", 0.8, 0.55, 0.02, 0.4, 0.8, 1};
    assert_int_equal(kn_fit_judge(&fine, why, sizeof why), KN_FIT_FINE);
    assert_non_null(strstr(why, "so the gap is not over-fitting"));
}

static void test_noisy_gap_is_unknown(void **state)
{
    (void)state;
    char why[640];
    /* train 1, validation 0.55 +- 0.2 on a baseline of 0.4: the spread is a
     * third of the way from the baseline to a perfect score, and the gap
     * (0.45) is more than twice it */
    kn_fit_evidence ev = {"accuracy", 1.0, 0.55, 0.2, 0.4, 0.4, 1};
    assert_int_equal(kn_fit_judge(&ev, why, sizeof why), KN_FIT_UNKNOWN);
    assert_non_null(strstr(why, "too noisy to tell over-fitting"));
    /* the same gap with a spread of 0.1 (a sixth of the range) is judged */
    ev.valid_std = 0.1;
    assert_int_equal(kn_fit_judge(&ev, why, sizeof why), KN_FIT_OVER);
}

static void test_unknown_inputs(void **state)
{
    (void)state;
    char why[640];
    kn_fit_evidence ev = {"accuracy", NAN, 0.6, 0.03, 0.4, 0.4, 1};
    assert_int_equal(kn_fit_judge(&ev, why, sizeof why), KN_FIT_UNKNOWN);
    kn_fit_evidence perfect = {"accuracy", 1, 1, 0, 1, 1, 1};
    assert_int_equal(kn_fit_judge(&perfect, why, sizeof why), KN_FIT_UNKNOWN);
    assert_non_null(strstr(why, "the baseline already scores perfectly"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_over_when_learnt),
        cmocka_unit_test(test_constant_is_not_over),
        cmocka_unit_test(test_noisy_gap_is_unknown),
        cmocka_unit_test(test_unknown_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
