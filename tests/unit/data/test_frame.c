/* data: frames: select rows and columns, append, errors. */
#include "read_util.h"

#include "test_util.h"

#include "kiln/demo.h"
#include "kiln/io.h"
#include "kiln/profile.h"

#include <math.h>

static void frame_select_append(void **state)
{
    (void)state;
    kn_frame *f;
    KN_CHECK(kn_demo_frame(100, 1, &f));
    size_t rows[] = {5, 5, 0};
    kn_frame *g;
    KN_CHECK(kn_frame_select_rows(f, rows, 3, &g));
    assert_int_equal(kn_frame_n_rows(g), 3);
    assert_true(kn_column_f64(kn_frame_col(g, 0))[0] == kn_column_f64(kn_frame_col(f, 0))[5]);
    assert_int_equal(kn_column_codes(kn_frame_col(g, 4))[2],
                     kn_column_codes(kn_frame_col(f, 4))[0]);
    KN_CHECK(kn_frame_append(g, f));
    assert_int_equal(kn_frame_n_rows(g), 103);
    assert_true(kn_column_f64(kn_frame_col(g, 3))[103 - 1] ==
                kn_column_f64(kn_frame_col(f, 3))[99]);
    size_t cols[] = {4, 0};
    kn_frame *h;
    KN_CHECK(kn_frame_select_cols(f, cols, 2, &h));
    assert_string_equal(kn_column_name(kn_frame_col(h, 0)), "plan");
    assert_int_equal(kn_frame_n_rows(h), 100);
    KN_CHECK_FAILS(kn_frame_append(h, f), KN_ERR_INVALID,
                   "cannot append a frame of 9 columns to one of 2");
    KN_CHECK_FAILS(kn_frame_add_column(h, "plan", KN_COL_NUMERIC, NULL), KN_ERR_INVALID,
                   "appears twice");
    size_t j;
    KN_CHECK_FAILS(kn_frame_find(h, "nope", &j), KN_ERR_NOT_FOUND,
                   "columns are: plan, customer_id");
    assert_true(kn_frame_memory_bytes(f) > 100 * 8 * 5);
    kn_frame_free(f);
    kn_frame_free(g);
    kn_frame_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_select_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
