/* kiln serve's request bodies (src/serve/parse.c) and text buffer
 * (src/serve/buf.c), without a server: each value type reaches the frame
 * with the column's type, v1 rows and columns and v2 tensors ([n] and
 * [n, 1]) give the same frame, the target is accepted and ignored, and
 * each kind of bad body is a 4xx naming the field, the row or the byte. */
#include "test_util.h"

#include "serve/serve-impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *names[] = {"x", "c", "s", "t", "i"};
static kn_col_type types[] = {KN_COL_NUMERIC, KN_COL_CATEGORICAL, KN_COL_STRING, KN_COL_TIMESTAMP,
                              KN_COL_INT64};
static unsigned char required[] = {1, 0, 0, 0, 0};
static const kn__serve_inputs in = {5, names, types, required, "y", NULL, 0, 0};

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
    assert_int_equal(kn__serve_parse_v2(&in, body, strlen(body), &f, &id, NULL, &e), 0);
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
        assert_int_equal(kn__serve_parse_v2(&in, bad[k], strlen(bad[k]), &f, &id, NULL, &e2), -1);
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

/* Two frames hold the same cells (numbers in every bit). */
static void same_frames(const kn_frame *a, const kn_frame *b, const char *body)
{
    assert_int_equal(kn_frame_n_rows(a), kn_frame_n_rows(b));
    assert_int_equal(kn_frame_n_cols(a), kn_frame_n_cols(b));
    for (size_t j = 0; j < kn_frame_n_cols(a); j++)
        for (size_t r = 0; r < kn_frame_n_rows(a); r++) {
            kn_column *x = kn_frame_col(a, j), *y = kn_frame_col(b, j);
            size_t lx = 0, ly = 0;
            const char *sx = NULL, *sy = NULL;
            if (kn_column_is_missing(x, r) != kn_column_is_missing(y, r))
                fail_msg("%s: column %zu: missing in one frame only", body, j);
            if (kn_column_is_missing(x, r)) continue;
            switch (kn_column_type(x)) {
            case KN_COL_NUMERIC:
                if (memcmp(&kn_column_f64(x)[r], &kn_column_f64(y)[r], sizeof(double)))
                    fail_msg("%s: column %zu: %.17g vs %.17g", body, j, kn_column_f64(x)[r],
                             kn_column_f64(y)[r]);
                break;
            case KN_COL_CATEGORICAL:
                sx = kn_column_level(x, kn_column_codes(x)[r], &lx);
                sy = kn_column_level(y, kn_column_codes(y)[r], &ly);
                break;
            case KN_COL_STRING:
                sx = kn_column_str(x, r, &lx);
                sy = kn_column_str(y, r, &ly);
                break;
            case KN_COL_TIMESTAMP:
                assert_true(kn_column_ts(x)[r] == kn_column_ts(y)[r]);
                break;
            case KN_COL_INT64:
                assert_true(kn_column_i64(x)[r] == kn_column_i64(y)[r]);
            }
            if (sx && (lx != ly || memcmp(sx, sy, lx)))
                fail_msg("%s: column %zu: '%.*s' vs '%.*s'", body, j, (int)lx, sx, (int)ly, sy);
        }
}

/* The one-row reader (kn__serve_parse_v1 without jansson for the common
 * body) gives jansson's frame, or jansson's error, on every body. */
static void test_one_row_reader(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"instances\": [{\"x\": 1.5, \"c\": \"a\", \"s\": \"free\"}]}",
        "{\"instances\":[{\"x\":-0,\"c\":-0,\"s\":12}]}",
        " \n{ \"instances\" :\t[ { \"c\" : 7 , \"x\" : 2e3 , \"y\": 1 } ] }\r\n ",
        "{\"instances\": [{\"x\": 0.1, \"y\": \"yes\", \"t\": null, \"i\": null}]}",
        "{\"instances\": [{\"x\": 1e-320}]}",
        "{\"instances\": [{\"x\": 123456789012345678}]}",
        "{\"instances\": [{\"x\": 4.9406564584124654e-324, \"c\": \"\"}]}",
        "{\"instances\": [{\"x\": 1e400}]}",
        "{\"instances\": [{\"x\": 99999999999999999999}]}",
        "{\"instances\": [{\"x\": 1E+2, \"c\": 1.5}]}",
        "{\"instances\": [{\"x\": \"1\"}]}",
        "{\"instances\": [{\"x\": true}]}",
        "{\"instances\": [{\"x\": 1, \"x\": 2}]}",
        "{\"instances\": [{\"x\": 1, \"zz\": 2}]}",
        "{\"instances\": [{\"c\": \"a\"}]}",
        "{\"instances\": [{}]}",
        "{\"instances\": [{\"x\": 1, \"c\": \"caf\\u00e9\"}]}",
        "{\"instances\": [{\"x\": 1, \"c\": \"caf\xc3\xa9\"}]}",
        "{\"instances\": [{\"x\": 1, \"c\": \"\xff\"}]}",
        "{\"instances\": [{\"x\": 1}]} x",
        "{\"instances\": [{\"x\": 1}], \"other\": 1}",
        "{\"instances\": [{\"x\": 1}, {\"x\": 2}]}",
        "{\"instances\": [{\"x\": 01}]}",
        "{\"instances\": [{\"x\": 1.}]}",
        "{\"instances\": [{\"x\": -}]}",
        "{\"instances\": [{\"x\": [1]}]}",
        "{\"instances\": [{\"x\": 1, \"y\": {\"a\": 1}}]}",
        "{\"instances\": [{\"x\": 1, \"t\": \"2024-05-01\", \"i\": 5}]}",
        "{\"instances\": [{\"x\": 1,}]}",
        "{\"instances\": [{\"x\" 1}]}",
        "{\"instances\": [{\"x\": 1}",
        "{\"instances\": {\"x\": 1}}",
        "{\"inputs\": {\"x\": [1]}}",
        "{\"instances\": [{\"x\": nul}]}",
        "{\"instances\": [{\"x\": 1, \"s\": -12, \"c\": 9223372036854775807}]}",
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        const char *b = bodies[i];
        kn__serve_err e1 = {0}, e2 = {0};
        kn_frame *f1 = NULL, *f2 = NULL;
        int r1 = kn__serve_parse_v1(&in, b, strlen(b), &f1, &e1);
        int r2 = kn__serve_parse_v1_json(&in, b, strlen(b), &f2, &e2);
        if (r1 != r2)
            fail_msg("%s: %d vs jansson %d (%s)", b, r1, r2, r1 ? e1.message : e2.message);
        if (r1 == 0)
            same_frames(f1, f2, b);
        else {
            assert_int_equal(e1.status, e2.status);
            assert_string_equal(e1.message, e2.message);
        }
        kn_frame_free(f1);
        kn_frame_free(f2);
    }
}

/* The per-thread spare frame (kn__serve_frame_done): a one-row frame of
 * all-numeric inputs comes back for the next request of the same version
 * with every cell reset (a column the request leaves out is missing, not
 * the last request's value); another version's request builds its own.
 * Run on a thread of its own, whose end frees the spare. Returns what was
 * wrong, or NULL. */
static char *num_names[] = {"a", "b"};
static kn_col_type num_types[] = {KN_COL_NUMERIC, KN_COL_NUMERIC};
static unsigned char num_required[] = {0, 0};
static const kn__serve_inputs num_in = {2, num_names, num_types, num_required, NULL, NULL, 7, 1};

static kn_frame *parse_num(const kn__serve_inputs *inputs, const char *body)
{
    kn__serve_err e = {0};
    kn_frame *f = NULL;
    return kn__serve_parse_v1(inputs, body, strlen(body), &f, &e) ? NULL : f;
}

static double cell(kn_frame *f, size_t j)
{
    return kn_column_f64(kn_frame_col(f, j))[0];
}

static void *spare_thread(void *arg)
{
    (void)arg;
    kn_frame *f = parse_num(&num_in, "{\"instances\": [{\"a\": 1.5, \"b\": 2}]}");
    if (!f || cell(f, 0) != 1.5 || cell(f, 1) != 2) return "first row";
    kn__serve_frame_done(&num_in, f);
    kn_frame *g = parse_num(&num_in, "{\"instances\": [{\"a\": -3e2}]}");
    if (g != f) return "the spare frame was not reused";
    if (cell(g, 0) != -300 || !isnan(cell(g, 1))) return "the reused frame kept an old value";
    kn__serve_frame_done(&num_in, g);
    kn__serve_inputs other = num_in;
    other.uid = 8;
    kn_frame *h = parse_num(&other, "{\"instances\": [{\"b\": 0.25}]}");
    if (!h || h == g) return "another version took this version's spare";
    if (!isnan(cell(h, 0)) || cell(h, 1) != 0.25) return "another version's row";
    kn__serve_frame_done(&other, h); /* replaces (frees) g */
    kn__serve_frame_done(&in,
                         parse_num(&in, "{\"instances\": [{\"x\": 1}]}")); /* not numeric: freed */
    return NULL;
}

static void test_spare_frame(void **state)
{
    (void)state;
    pthread_t t;
    void *why = NULL;
    assert_int_equal(pthread_create(&t, NULL, spare_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &why), 0);
    if (why) fail_msg("%s", (const char *)why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_agree), cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_json_text),   cmocka_unit_test(test_one_row_reader),
        cmocka_unit_test(test_spare_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
