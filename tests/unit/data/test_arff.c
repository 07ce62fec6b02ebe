/* data: the ARFF reader. */
#include "read_util.h"

#include "test_util.h"

#include "kiln/demo.h"
#include "kiln/io.h"
#include "kiln/profile.h"

#include <math.h>

static void arff_dense_and_sparse(void **state)
{
    (void)state;
    kn_frame *f = read_as(
        ".arff", "% comment\n@RELATION r\n@attribute 'a b' numeric\n@attribute c {x, 'y z'}\n"
                 "@attribute s string\n@attribute d date\n@data\n1.5,x,'it\\'s',2020-01-01\n"
                 "?,'y z',?,?\n{0 7, 1 'y z'}\n");
    assert_int_equal(kn_frame_n_rows(f), 3);
    assert_string_equal(kn_column_name(kn_frame_col(f, 0)), "a b");
    assert_true(kn_column_f64(kn_frame_col(f, 0))[0] == 1.5);
    assert_true(isnan(kn_column_f64(kn_frame_col(f, 0))[1]));
    assert_true(kn_column_f64(kn_frame_col(f, 0))[2] == 7);
    assert_int_equal(kn_column_codes(kn_frame_col(f, 1))[1], 1);
    assert_string_equal(kn_column_level(kn_frame_col(f, 1), 1, NULL), "y z");
    size_t len;
    kn_column_str(kn_frame_col(f, 2), 0, &len);
    assert_int_equal(len, 4); /* backslash escapes: it's */
    assert_true(kn_column_ts(kn_frame_col(f, 3))[0] == 1577836800LL * 1000000);
    kn_frame_free(f);
    const char *msg =
        fails_as(".arff", "@relation r\n@attribute a numeric\n@attribute c {x}\n@data\n1,x\n2,q\n",
                 KN_ERR_PARSE);
    assert_non_null(
        strstr(msg, ".arff:6:3: value is not among the attribute's declared nominal values"));
    msg = fails_as(".arff", "@relation r\n@attribute a numeric\n", KN_ERR_PARSE);
    assert_non_null(strstr(msg, "no @data section"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arff_dense_and_sparse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
