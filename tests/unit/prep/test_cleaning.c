/* prep: drop_constant and outlier_clip. */
#include "prep_util.h"

#include <string.h>

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

/* coerce: text to numbers and times with failures missing (or an error naming
 * the row), numbers to text in their shortest form, times to epoch seconds. */
static void coerce_types(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,t,n\n1,2024-01-01,0.1\n2.5,bad,2\nzz,1970-01-02,\n");
    size_t j;
    KN_CHECK(kn_frame_find(f, "a", &j));
    assert_int_equal(kn_column_type(kn_frame_col(f, j)), KN_COL_CATEGORICAL);
    const char *to_num[] = {"columns=a", NULL};
    kn_frame *o = fit_transform("coerce", to_num, f);
    assert_int_equal(kn_column_type(kn_frame_col(o, 0)), KN_COL_NUMERIC);
    assert_true(cell(o, 0, 0) == 1 && cell(o, 0, 1) == 2.5 && isnan(cell(o, 0, 2)));
    kn_frame_free(o);
    const char *to_ts[] = {"columns=t", "to=timestamp", NULL};
    o = fit_transform("coerce", to_ts, f);
    int64_t *ts = kn_column_ts(kn_frame_col(o, 1));
    assert_true(ts[0] == 1704067200LL * 1000000 && ts[1] == KN_TS_MISSING &&
                ts[2] == 86400000000LL);
    const char *back[] = {"columns=t", "to=numeric", NULL};
    kn_frame *secs = fit_transform("coerce", back, o);
    assert_true(cell(secs, 1, 2) == 86400);
    kn_frame_free(secs);
    kn_frame_free(o);
    const char *to_text[] = {"columns=n", "to=string", NULL};
    o = fit_transform("coerce", to_text, f);
    size_t len;
    const char *s = kn_column_str(kn_frame_col(o, 2), 0, &len);
    assert_true(len == 3 && !memcmp(s, "0.1", 3) && !kn_column_str(kn_frame_col(o, 2), 2, &len));
    kn_frame_free(o);
    kn_step *st;
    KN_CHECK(kn_step_new("coerce", &st));
    KN_CHECK_FAILS(kn_step_fit(st, f), KN_ERR_INVALID, "name the columns to convert");
    KN_CHECK(kn_step_set(st, "columns=a"));
    KN_CHECK(kn_step_set(st, "on_error=fail"));
    KN_CHECK(kn_step_fit(st, f));
    KN_CHECK_FAILS(kn_step_transform(st, f, &o), KN_ERR_PARSE,
                   "coerce: column 'a', row 3: 'zz' is not a number");
    kn_step_free(st);
    kn_frame_free(f);
}

/* action=drop: fit_transform removes the training rows outside the fences;
 * transform leaves new data as it is. */
static void outlier_drop_training_rows(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "x,k\n1,a\n2,b\n3,c\n4,d\n100,e\n,f\n");
    kn_step *s;
    KN_CHECK(kn_step_new("outlier_clip", &s));
    KN_CHECK(kn_step_set(s, "action=drop"));
    kn_frame *o;
    KN_CHECK(kn_step_fit_transform(s, f, &o));
    assert_int_equal(kn_frame_n_rows(o), 5); /* 100 went; the missing row stays */
    assert_true(cell(o, 0, 3) == 4 && isnan(cell(o, 0, 4)));
    assert_string_equal(
        kn_column_level(kn_frame_col(o, 1), kn_column_codes(kn_frame_col(o, 1))[4], NULL), "f");
    kn_frame_free(o);
    KN_CHECK(kn_step_transform(s, f, &o));
    assert_int_equal(kn_frame_n_rows(o), 6);
    assert_true(cell(o, 0, 4) == 100);
    kn_frame_free(o);
    kn_step_free(s);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coerce_types),
        cmocka_unit_test(outlier_drop_training_rows),
        cmocka_unit_test(drop_constant_columns),
        cmocka_unit_test(outliers_clipped_or_flagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
