/* prep: drop_constant and outlier_clip. */
#include "prep_util.h"

#include "kiln/mem.h"

#include <math.h>

static void drop_constant_columns(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b,c,d\n1,5,x,1\n2,5,x,1\n3,5,x,1\n4,,x,2\n");
    const char *all[] = {"columns=a,b,c,d", NULL};
    kn_frame *o = fit_transform("drop_constant", all, f);
    assert_int_equal(kn_frame_n_cols(o), 2); /* b (missing ignored) and c dropped */
    assert_string_equal(kn_column_name(kn_frame_col(o, 0)), "a");
    assert_string_equal(kn_column_name(kn_frame_col(o, 1)), "d");
    kn_frame_free(o);
    const char *near[] = {"columns=a,d", "min_share=0.75", NULL};
    o = fit_transform("drop_constant", near, f);
    assert_int_equal(kn_frame_n_cols(o), 3); /* d: 3 of 4 values are 1 */
    kn_frame_free(o);
    kn_frame_free(f);
}

static void outliers_clipped_or_flagged(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "x\n1\n2\n3\n4\n100\n\n");
    /* q1 2, q3 4, IQR 2: fences -1 and 7 */
    kn_frame *o = fit_transform("outlier_clip", NULL, f);
    assert_true(cell(o, 0, 4) == 7 && cell(o, 0, 0) == 1);
    kn_frame_free(o);
    const char *flag[] = {"action=flag", NULL};
    o = fit_transform("outlier_clip", flag, f);
    size_t j;
    KN_CHECK(kn_frame_find(o, "x_outlier", &j));
    assert_true(cell(o, j, 4) == 1 && cell(o, j, 0) == 0 && cell(o, 0, 4) == 100);
    kn_frame_free(o);
    kn_step *s;
    KN_CHECK(kn_step_new("outlier_clip", &s));
    KN_CHECK(kn_step_set(s, "method=zscore"));
    KN_CHECK(kn_step_set(s, "k=1"));
    KN_CHECK(kn_step_fit(s, f));
    kn_step *reloaded = save_and_reload(s);
    kn_frame *a, *b;
    KN_CHECK(kn_step_transform(s, f, &a));
    KN_CHECK(kn_step_transform(reloaded, f, &b));
    /* mean 22, population std 39.00...: 100 clipped to mean + std */
    double mean = 22, sd = sqrt((441 + 400 + 361 + 324 + 6084) / 5.0);
    assert_true(fabs(cell(a, 0, 4) - (mean + sd)) < 1e-12 && cell(a, 0, 4) == cell(b, 0, 4));
    kn_frame_free(a);
    kn_frame_free(b);
    kn_step_free(reloaded);
    kn_step_free(s);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drop_constant_columns),
        cmocka_unit_test(outliers_clipped_or_flagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
