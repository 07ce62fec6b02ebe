/* data: duplicate rows, exact or by key columns, keeping the first or the last. */
#include "read_util.h"

#include <math.h>

static const char *data = "k,v,t\na,1,x\nb,2,y\na,1,x\na,3,z\n,,\n,,\n";

static void exact_rows_keep_first(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    kn_frame *g;
    size_t removed;
    KN_CHECK(kn_frame_dedupe(f, NULL, 0, 0, &g, &removed));
    assert_int_equal(removed, 2); /* row 3 repeats row 1; the two all-missing rows are equal */
    assert_int_equal(kn_frame_n_rows(g), 4);
    assert_true(kn_column_f64(kn_frame_col(g, 1))[2] == 3);
    assert_true(isnan(kn_column_f64(kn_frame_col(g, 1))[3]));
    kn_frame_free(g);
    kn_frame_free(f);
}

static void key_columns_keep_last(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    size_t key = 0;
    kn_frame *g;
    size_t removed;
    KN_CHECK(kn_frame_dedupe(f, &key, 1, 1, &g, &removed));
    /* by k: a (rows 1, 3, 4) keeps row 4; b stays; missing keys (rows 5, 6) keep row 6 */
    assert_int_equal(removed, 3);
    assert_int_equal(kn_frame_n_rows(g), 3);
    assert_true(kn_column_f64(kn_frame_col(g, 1))[0] == 2); /* order kept: b, a(3), missing */
    assert_true(kn_column_f64(kn_frame_col(g, 1))[1] == 3);
    kn_frame_free(g);
    key = 9;
    KN_CHECK_FAILS(kn_frame_dedupe(f, &key, 1, 0, &g, NULL), KN_ERR_RANGE, "out of range");
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_rows_keep_first),
        cmocka_unit_test(key_columns_keep_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
