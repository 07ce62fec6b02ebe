/* data: the LIBSVM reader. */
#include "read_util.h"

#include "test_util.h"

#include "kiln/demo.h"
#include "kiln/io.h"
#include "kiln/profile.h"

#include <math.h>

static void libsvm_dense_columns(void **state)
{
    (void)state;
    kn_frame *f = read_as(".svm", "1 1:0.5 3:2\n# only a comment\n-1 qid:7 2:1e-3 # tail\n");
    assert_int_equal(kn_frame_n_rows(f), 2);
    assert_int_equal(kn_frame_n_cols(f), 5); /* label, qid, f1..f3 */
    assert_string_equal(kn_column_name(kn_frame_col(f, 4)), "f3");
    assert_true(kn_column_f64(kn_frame_col(f, 0))[1] == -1);
    assert_true(kn_column_f64(kn_frame_col(f, 1))[1] == 7);
    assert_true(kn_column_f64(kn_frame_col(f, 2))[0] == 0.5);
    assert_true(kn_column_f64(kn_frame_col(f, 3))[0] == 0);
    assert_true(kn_column_f64(kn_frame_col(f, 3))[1] == 1e-3);
    assert_int_equal(kn_column_role(kn_frame_col(f, 0)), KN_ROLE_TARGET);
    kn_frame_free(f);
    const char *msg = fails_as(".svm", "1 1:2\n0 2:1 1:3\n", KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".svm:2:7: feature indices must increase along a line"));
    msg = fails_as(".svm", "1 1:2\nx 1:1\n", KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".svm:2:1: the label is not a number"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libsvm_dense_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
