/* prep: kbins_discretizer edges, new data outside the fitted range, save/load. */
#include "prep_util.h"

#include "kiln/mem.h"

#include <math.h>

static void uniform_and_quantile_bins(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "x,k\n0,1\n1,1\n2,1\n3,1\n4,1\n10,1\n,1\n");
    const char *uni[] = {"strategy=uniform", "n_bins=2", NULL};
    kn_frame *o = fit_transform("kbins_discretizer", uni, f);
    /* edges 0, 5, 10: values below 5 in bin 0; constant k: one bin */
    assert_true(cell(o, 0, 4) == 0 && cell(o, 0, 5) == 1 && isnan(cell(o, 0, 6)));
    assert_true(cell(o, 1, 0) == 0);
    kn_frame_free(o);
    const char *q[] = {"n_bins=2", NULL};
    o = fit_transform("kbins_discretizer", q, f);
    /* median of 0,1,2,3,4,10 is 2.5 */
    assert_true(cell(o, 0, 2) == 0 && cell(o, 0, 3) == 1);
    kn_frame_free(o);
    kn_frame_free(f);
}

static void fitted_edges_apply_to_new_data_and_survive_saving(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "x\n0\n10\n20\n30\n");
    kn_frame *test = read_as(".csv", "x\n-5\n15\n99\n");
    kn_step *s;
    KN_CHECK(kn_step_new("kbins_discretizer", &s));
    KN_CHECK(kn_step_set(s, "strategy=uniform"));
    KN_CHECK(kn_step_set(s, "n_bins=3"));
    KN_CHECK(kn_step_fit(s, train));
    kn_step *reloaded = save_and_reload(s);
    kn_frame *a, *b;
    KN_CHECK(kn_step_transform(s, test, &a));
    KN_CHECK(kn_step_transform(reloaded, test, &b));
    for (size_t i = 0; i < 3; i++) assert_true(cell(a, 0, i) == cell(b, 0, i));
    assert_true(cell(a, 0, 0) == 0 && cell(a, 0, 1) == 1 && cell(a, 0, 2) == 2);
    kn_frame_free(a);
    kn_frame_free(b);
    kn_step_free(reloaded);
    kn_step_free(s);
    kn_frame_free(train);
    kn_frame_free(test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uniform_and_quantile_bins),
        cmocka_unit_test(fitted_edges_apply_to_new_data_and_survive_saving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
