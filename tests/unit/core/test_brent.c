/* core: Brent's minimiser, checked against SciPy's optimize.brent on the same
 * function and starting pair (same point, iterations and calls). */
#include "test_util.h"

#include "kiln/brent.h"

#include <math.h>

static double cubic_cos(double t, void *ctx)
{
    (void)ctx;
    return (t - 1) * (t - 1) * (t + 3) + cos(t);
}

static double falls_forever(double t, void *ctx)
{
    (void)ctx;
    return -t;
}

static void same_steps_as_scipy(void **state)
{
    (void)state;
    kn_brent_result r;
    KN_CHECK(kn_brent_minimize(cubic_cos, NULL, -2, 2, &r));
    /* scipy.optimize.brent(f, brack=(-2, 2), full_output=True) */
    assert_true(r.x == 1.1074896902560414);
    assert_true(fabs(r.fx - 0.49436666799619466) < 1e-15);
    assert_int_equal(r.iterations, 11);
    assert_int_equal(r.evaluations, 14);
}

static void no_minimum_is_an_error(void **state)
{
    (void)state;
    kn_brent_result r;
    KN_CHECK_FAILS(kn_brent_minimize(falls_forever, NULL, -2, 2, &r), KN_ERR_RANGE,
                   "no minimum found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_steps_as_scipy),
        cmocka_unit_test(no_minimum_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
