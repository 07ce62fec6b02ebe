/* kiln serve's request bodies (src/serve/parse.c) and text buffer
 * (src/serve/buf.c), without a server: each value type reaches the frame
 * with the column's type, v1 rows and columns and v2 tensors ([n] and
 * [n, 1]) give the same frame, the target is accepted and ignored, and
 * each kind of bad body is a 4xx naming the field, the row or the byte. */
#include "test_util.h"

#include "serve/serve-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *names[] = {"x", "c", "s", "t", "i"};
static kn_col_type types[] = {KN_COL_NUMERIC, KN_COL_CATEGORICAL, KN_COL_STRING, KN_COL_TIMESTAMP,
                              KN_COL_INT64};
static unsigned char required[] = {1, 0, 0, 0, 0};
static const kn__serve_inputs in = {5, names, types, required, "y", NULL};

static kn_frame *v1(const char *body)
{
    kn__serve_err e = {0};
    kn_frame *f = NULL;
    if (kn__serve_parse_v1(&in, body, strlen(body), &f, &e)) fail_msg("%s", e.message);
    return f;
}

static kn__serve_err v1_fails(const char *body)
{
    kn__serve_err e = {0};
    kn_frame *f = NULL;
    assert_int_equal(kn__serve_parse_v1(&in, body, strlen(body), &f, &e), -1);
    assert_null(f);
    assert_true(e.message[0] && e.code);
    return e;
}

static void check_rows(kn_frame *f)
{
    assert_int_equal(kn_frame_n_rows(f), 2);
    assert_int_equal(kn_frame_n_cols(f), 5);
    assert_true(kn_column_f64(kn_frame_col(f, 0))[0] == 1.5);
    assert_true(isnan(kn_column_f64(kn_frame_col(f, 0))[1]));
    size_t len;
    kn_column *c = kn_frame_col(f, 1);
    assert_string_equal(kn_column_level(c, kn_column_codes(c)[0], &len), "a");
    assert_string_equal(kn_column_level(c, kn_column_codes(c)[1], &len), "7");
    assert_true(kn_column_is_missing(kn_frame_col(f, 2), 0));
    assert_memory_equal(kn_column_str(kn_frame_col(f, 2), 1, &len), "free", 4);
    assert_true(kn_column_ts(kn_frame_col(f, 3))[0] == 1714521600000000LL); /* 2024-05-01 */
    assert_true(kn_column_is_missing(kn_frame_col(f, 3), 1));
    assert_true(kn_column_i64(kn_frame_col(f, 4))[1] == 9007199254740993LL);
    kn_frame_free(f);
}

static void test_forms_agree(void **state)
{
    (void)state;
    check_rows(v1("{\"instances\": [{\"x\": 1.5, \"c\": \"a\", \"t\": \"2024-05-01\", \"y\": 1},"
                  " {\"x\": null, \"c\": 7, \"s\": \"free\", \"i\": 9007199254740993}]}"));
    check_rows(v1("{\"inputs\": {\"x\": [1.5, null], \"c\": [\"a\", 7], \"s\": [null, \"free\"],"
                  " \"t\": [\"2024-05-01\", null], \"i\": [null, 9007199254740993]}}"));
    const char *body = "{\"id\": \"r\", \"inputs\": ["
                       "{\"name\": \"x\", \"datatype\": \"FP64\", \"shape\": [2, 1], \"data\": "
                       "[[1.5], [null]]},"
                       "{\"name\": \"c\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": "
                       "[\"a\", 7]},"
                       "{\"name\": \"s\", \"data\": [null, \"free\"]},"
                       "{\"name\": \"t\", \"data\": [\"2024-05-01\", null]},"
                       "{\"name\": \"i\", \"datatype\": \"INT64\", \"data\": [null, "
                       "9007199254740993]}]}";
    kn__serve_err e = {0};
    kn_frame *f = NULL;
    char *id = NULL;
    assert_int_equal(kn__serve_parse_v2(&in, body, strlen(body), &f, &id, &e), 0);
    assert_string_equal(id, "r");
    free(id);
    check_rows(f);
}

static void test_bad_bodies(void **state)
{
    (void)state;
    kn__serve_err e = v1_fails("{\"instances\": [{\"x\": 1}, {\"x\": \"1\"}]}");
    assert_int_equal(e.status, 400);
    assert_string_equal(e.field, "x");
    assert_int_equal(e.row, 1);
    e = v1_fails("{\"instances\": [{\"x\": 1}, {\"c\": \"a\"}]}"); /* x required */
    assert_string_equal(e.field, "x");
    assert_int_equal(e.row, 1);
    e = v1_fails("{\"instances\": [{\"x\": 1, \"t\": \"May 1st\"}]}");
    assert_string_equal(e.field, "t");
    e = v1_fails("{\"instances\": [{\"x\": 1, \"i\": 1.5}]}");
    assert_string_equal(e.field, "i");
    e = v1_fails("{\"instances\": [{\"x\": 1, \"z\": 1}]}");
    assert_string_equal(e.field, "z");
    assert_non_null(strstr(e.message, "unknown input column"));
    e = v1_fails("{\"instances\": [{\"x\": 1}");
    assert_string_equal(e.code, "bad_json");
    assert_int_equal(e.offset, 23); /* the end of the body */
    e = v1_fails("{\"instances\": []}");
    assert_non_null(strstr(e.message, "no rows"));
    e = v1_fails("{\"inputs\": {\"x\": [1, 2], \"c\": [\"a\"]}}");
    assert_string_equal(e.field, "c");
    e = v1_fails("{\"instances\": [{\"x\": 1}], \"inputs\": {}}");
    assert_string_equal(e.code, "invalid_request");
    e = v1_fails("[{\"x\": 1}]");
    assert_non_null(strstr(e.message, "an array"));

    kn_frame *f = NULL;
    char *id = NULL;
    const char *bad[] = {
        "{\"inputs\": [{\"name\": \"x\", \"shape\": [3], \"data\": [1, 2]}]}",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"BYTES\", \"data\": [1]}]}",
        "{\"inputs\": [{\"name\": \"x\", \"data\": [1]}, {\"name\": \"x\", \"data\": [1]}]}",
        "{\"inputs\": [{\"name\": \"x\", \"data\": [1]}, {\"name\": \"c\", \"data\": [\"a\", "
        "\"b\"]}]}",
        "{\"inputs\": [{\"name\": \"c\", \"data\": [\"a\"]}]}", /* x required */
        "{\"inputs\": [{\"name\": \"x\", \"data\": [1]}], \"id\": 3}",
    };
    const char *field[] = {"x", "x", "x", "c", "x", "id"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        kn__serve_err e2 = {0};
        assert_int_equal(kn__serve_parse_v2(&in, bad[k], strlen(bad[k]), &f, &id, &e2), -1);
        assert_null(f);
        assert_null(id);
        assert_int_equal(e2.status, 400);
        assert_string_equal(e2.field, field[k]);
    }
}

static void test_json_text(void **state)
{
    (void)state;
    kn__sbuf b = {0};
    kn__sbuf_json_str(&b, "a\"b\\c\n\x01\xc3\xa9\xff\xe2\x82", 12);
    kn__sbuf_puts(&b, " ");
    kn__sbuf_json_num(&b, 0.1);
    kn__sbuf_puts(&b, " ");
    kn__sbuf_json_num(&b, NAN);
    size_t len = 0;
    char *text = kn__sbuf_take(&b, &len);
    assert_string_equal(text, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\\ufffd\\ufffd\" 0.1 null");
    assert_int_equal(len, strlen(text));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_agree),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_json_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
