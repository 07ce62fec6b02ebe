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

/* Column structs live in slots of blocks the frame owns: many columns, long
 * and short names, removal (the slot is reused), a move to another frame
 * (the struct is copied into a slot of the other frame), and the values and
 * names survive each (ASan checks the slots are neither lost nor used
 * after their frame is freed). */
static void frame_column_slots(void **state)
{
    (void)state;
    kn_frame *f, *g;
    KN_CHECK(kn_frame_new(&f));
    KN_CHECK(kn_frame_new(&g));
    KN_CHECK(kn_frame_resize(f, 3));
    KN_CHECK(kn_frame_resize(g, 3));
    char name[64];
    for (int j = 0; j < 5000; j++) {
        /* every 7th name is longer than a slot holds */
        snprintf(name, sizeof name, j % 7 ? "c%d" : "a_column_name_longer_than_its_slot_%d", j);
        kn_column *c;
        KN_CHECK(kn_frame_add_column(f, name, KN_COL_NUMERIC, &c));
        for (int i = 0; i < 3; i++) kn_column_f64(c)[i] = j * 10 + i;
    }
    assert_int_equal(kn_frame_n_cols(f), 5000);
    assert_string_equal(kn_column_name(kn_frame_col(f, 4999)), "c4999");
    assert_string_equal(kn_column_name(kn_frame_col(f, 4998)),
                        "a_column_name_longer_than_its_slot_4998");
    /* removed columns' slots are taken again by new columns */
    KN_CHECK(kn_frame_remove_column(f, 1));
    KN_CHECK(kn_frame_remove_column(f, 0));
    KN_CHECK(kn_frame_add_column(f, "again", KN_COL_CATEGORICAL, NULL));
    assert_int_equal(kn_frame_n_cols(f), 4999);
    assert_string_equal(kn_column_name(kn_frame_col(f, 0)), "c2");
    assert_true(kn_column_f64(kn_frame_col(f, 0))[2] == 22);
    /* moves: a short name kept, a short one renamed long, a long one renamed short */
    KN_CHECK(kn_frame_take_column(g, f, 0, "c2"));
    KN_CHECK(kn_frame_take_column(g, f, 4, "moved_under_a_name_longer_than_a_slot"));
    KN_CHECK(kn_frame_take_column(g, f, 4, "short"));
    assert_int_equal(kn_frame_n_cols(f), 4996);
    assert_string_equal(kn_column_name(kn_frame_col(g, 0)), "c2");
    assert_string_equal(kn_column_name(kn_frame_col(g, 1)),
                        "moved_under_a_name_longer_than_a_slot");
    assert_string_equal(kn_column_name(kn_frame_col(g, 2)), "short");
    assert_true(kn_column_f64(kn_frame_col(g, 1))[1] == 71); /* was a_column_..._7 */
    assert_true(kn_column_f64(kn_frame_col(g, 2))[0] == 80); /* was c8 */
    assert_string_equal(kn_column_name(kn_frame_col(f, 4)), "c9");
    kn_frame_free(f);
    /* g's columns outlive the frame they came from */
    KN_CHECK(kn_frame_resize(g, 1000));
    assert_true(kn_column_f64(kn_frame_col(g, 0))[1] == 21);
    size_t j;
    KN_CHECK(kn_frame_find(g, "short", &j));
    assert_int_equal(j, 2);
    kn_frame_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_select_append),
        cmocka_unit_test(frame_column_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
