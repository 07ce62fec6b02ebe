/* data: the JSON Lines reader. */
#include "read_util.h"

#include "test_util.h"

#include "kiln/demo.h"
#include "kiln/io.h"
#include "kiln/profile.h"

#include <math.h>

static void jsonl_schema_union(void **state)
{
    (void)state;
    kn_frame *f = read_as(".jsonl", "{\"a\":1,\"b\":\"x\",\"t\":\"2020-01-01T00:00:01Z\"}\n\n{"
                                    "\"a\":null,\"c\":true,\"b\":\"y\",\"n\":[1,2]}\n");
    assert_int_equal(kn_frame_n_rows(f), 2);
    assert_int_equal(kn_frame_n_cols(f), 5);
    size_t j;
    KN_CHECK(kn_frame_find(f, "c", &j));
    assert_true(isnan(kn_column_f64(kn_frame_col(f, j))[0]));
    assert_true(kn_column_f64(kn_frame_col(f, j))[1] == 1);
    KN_CHECK(kn_frame_find(f, "t", &j));
    assert_true(kn_column_ts(kn_frame_col(f, j))[0] == 1577836801LL * 1000000);
    KN_CHECK(kn_frame_find(f, "n", &j));
    size_t len;
    const char *s = kn_column_str(kn_frame_col(f, j), 1, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(s, "[1,2]", 5);
    assert_true(isnan(kn_column_f64(kn_frame_col(f, 0))[1]));
    kn_frame_free(f);
    const char *msg = fails_as(".jsonl", "{\"a\":1}\n{\"a\":\n", KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".jsonl:2:"));
    assert_non_null(strstr(msg, "invalid JSON"));
    msg = fails_as(".jsonl", "[1,2]\n", KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".jsonl:1:1: each line must be a JSON object"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonl_schema_union),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
