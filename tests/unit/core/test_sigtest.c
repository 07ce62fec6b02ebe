/* core: distribution tails (kiln/distrib.h) and the paired tests
 * (kiln/sigtest.h), checked against scipy.stats 1.10 values. */
#include "test_util.h"

#include "kiln/distrib.h"
#include "kiln/sigtest.h"

#include <math.h>

static int close_rel(double got, double want, double tol)
{
    return fabs(got - want) <= tol * fmax(fabs(want), 1e-300);
}

static void tails_match_scipy(void **state)
{
    (void)state;
    assert_true(close_rel(kn_f_sf(3.2, 2, 175), 0.043158567535128686, 1e-12));
    assert_true(close_rel(kn_f_sf(233.92567, 2, 175), 3.598784387813369e-50, 1e-9));
    assert_true(kn_f_sf(0, 3, 10) == 1 && kn_f_sf(INFINITY, 3, 10) == 0);
    assert_true(isnan(kn_f_sf(1, 0, 10)));
    assert_true(close_rel(kn_binom_cdf(3, 20, 0.5), 0.0012884140014648438, 1e-12));
    assert_true(close_rel(kn_binom_cdf(7, 10, 0.3), 0.9984096136, 1e-10));
    assert_true(kn_binom_cdf(-1, 10, 0.5) == 0 && kn_binom_cdf(10, 10, 0.5) == 1);
}

static void five_by_two_matches_scipy(void **state)
{
    (void)state;
    const double a[10] = {.9, .92, .88, .91, .93, .9, .89, .94, .92, .9};
    const double b[10] = {.85, .9, .86, .88, .9, .87, .88, .9, .9, .86};
    kn_paired_test t;
    KN_CHECK(kn_ttest_5x2cv(a, b, &t));
    assert_true(close_rel(t.t, 3.2969023669789395, 1e-12));
    assert_true(close_rel(t.p_value, 0.021548912909897234, 1e-10));
    assert_true(t.df == 5);
    KN_CHECK(kn_ttest_5x2cv(a, a, &t));
    assert_true(t.t == 0 && t.p_value == 1);
}

static void mcnemar_matches_scipy(void **state)
{
    (void)state;
    kn_mcnemar_test m;
    KN_CHECK(kn_mcnemar(2, 10, &m));
    /* binomtest(2, 12, 0.5).pvalue; chi2.sf((|2 - 10| - 1)^2 / 12, 1) */
    assert_true(close_rel(m.p_exact, 0.03857421875, 1e-12));
    assert_true(close_rel(m.statistic, 49.0 / 12, 1e-15));
    assert_true(close_rel(m.p_chi2, 0.04330814281079206, 1e-12));
    KN_CHECK(kn_mcnemar(0, 0, &m));
    assert_true(m.p_exact == 1 && m.p_chi2 == 1 && m.statistic == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tails_match_scipy),
        cmocka_unit_test(five_by_two_matches_scipy),
        cmocka_unit_test(mcnemar_matches_scipy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
