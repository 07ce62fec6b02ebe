/* data: int64 columns and identifier-like numbers. Integers a double cannot
 * hold (beyond 2^53) stay exact, leading zeros and integers beyond int64 are
 * text; promotion after the sampled rows, .kfr versions, keys, group-by. */
#include "read_util.h"

#include "data/frame-impl.h"
#include "data/parse-impl.h"
#include "kiln/combine.h"
#include "kiln/kfr.h"

#include <math.h>

static kn_num_shape shape(const char *s)
{
    return kn__number_shape(s, s + strlen(s));
}

static void number_shapes(void **state)
{
    (void)state;
    assert_int_equal(shape("0"), KN_SHAPE_INT);
    assert_int_equal(shape("-0"), KN_SHAPE_INT);
    assert_int_equal(shape("12"), KN_SHAPE_INT);
    assert_int_equal(shape("9007199254740992"), KN_SHAPE_INT); /* 2^53: exact */
    assert_int_equal(shape("9007199254740993"), KN_SHAPE_BIGINT);
    assert_int_equal(shape("-9007199254740993"), KN_SHAPE_BIGINT);
    assert_int_equal(shape("9223372036854775807"), KN_SHAPE_BIGINT);
    assert_int_equal(shape("-9223372036854775807"), KN_SHAPE_BIGINT);
    assert_int_equal(shape("-9223372036854775808"), KN_SHAPE_TEXT); /* INT64_MIN is missing */
    assert_int_equal(shape("9223372036854775808"), KN_SHAPE_TEXT);
    assert_int_equal(shape("123456789012345678901234"), KN_SHAPE_TEXT);
    assert_int_equal(shape("00123"), KN_SHAPE_TEXT);
    assert_int_equal(shape("-007"), KN_SHAPE_TEXT);
    assert_int_equal(shape("00.5"), KN_SHAPE_TEXT);
    assert_int_equal(shape("0.5"), KN_SHAPE_REAL);
    assert_int_equal(shape("1e20"), KN_SHAPE_REAL);
    assert_int_equal(shape("12345678901234567890.5"), KN_SHAPE_REAL);
}

static void int64_text(void **state)
{
    (void)state;
    int64_t v;
    const char *s = "9223372036854775807";
    assert_true(kn__parse_int64(s, s + strlen(s), 0, &v) && v == INT64_MAX);
    s = "-9007199254740993";
    assert_true(kn__parse_int64(s, s + strlen(s), 0, &v) && v == -9007199254740993LL);
    s = "007";
    assert_false(kn__parse_int64(s, s + 3, 0, &v));
    assert_true(kn__parse_int64(s, s + 3, 1, &v) && v == 7);
    s = "18446744073709551617"; /* wraps a 64-bit accumulator */
    assert_false(kn__parse_int64(s, s + strlen(s), 0, &v));
    s = "12a";
    assert_false(kn__parse_int64(s, s + 3, 0, &v));
    char buf[48];
    assert_int_equal(kn__format_int64(INT64_MIN + 1, buf), 20);
    assert_string_equal(buf, "-9223372036854775807");
    kn__format_int64(0, buf);
    assert_string_equal(buf, "0");
    /* whole doubles up to 2^53 print in full, never "9e+15" */
    kn__format_double(9e15, buf, sizeof buf);
    assert_string_equal(buf, "9000000000000000");
    kn__format_double(1e16, buf, sizeof buf);
    assert_string_equal(buf, "1e+16");
}

static void csv_types(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "id,code,x\n9007199254740993,00123,1\n"
                                  "9007199254740992,0,2\n12,7,3\n");
    kn_column *id = kn_frame_col(f, 0), *code = kn_frame_col(f, 1);
    assert_int_equal(kn_column_type(id), KN_COL_INT64);
    assert_true(kn_column_i64(id)[0] == 9007199254740993LL);
    assert_true(kn_column_i64(id)[1] == 9007199254740992LL);
    assert_true(kn_column_i64(id)[2] == 12);
    assert_int_equal(kn_column_type(code), KN_COL_CATEGORICAL);
    size_t len;
    assert_string_equal(kn_column_level(code, kn_column_codes(code)[0], &len), "00123");
    assert_int_equal(kn_column_type(kn_frame_col(f, 2)), KN_COL_NUMERIC);
    assert_true(kn_column_number(id, 2) == 12.0);
    kn_frame_free(f);
}

/* Values after the sampled rows promote the column and the file is re-read. */
static void promotion_after_the_sample(void **state)
{
    (void)state;
    char text[4096] = "id,code,mix\n";
    for (int i = 0; i < 50; i++) strcat(text, "5,5,5\n");
    strcat(text, "9007199254740993,0042,9007199254740993\n7,7,1.5\n");
    const char *path = test_write_file(".csv", text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.sample_rows = 10;
    kn_frame *f;
    kn_read_report rep;
    KN_CHECK(kn_frame_read(path, &o, &f, &rep));
    remove(path);
    assert_true(rep.type_restarts >= 1);
    kn_column *id = kn_frame_col(f, 0), *code = kn_frame_col(f, 1), *mix = kn_frame_col(f, 2);
    assert_int_equal(kn_column_type(id), KN_COL_INT64);
    assert_true(kn_column_i64(id)[50] == 9007199254740993LL);
    assert_int_equal(kn_column_type(code), KN_COL_CATEGORICAL);
    size_t len;
    assert_string_equal(kn_column_level(code, kn_column_codes(code)[50], &len), "0042");
    /* a fraction next to an integer beyond 2^53: no double holds both, so text */
    assert_int_equal(kn_column_type(mix), KN_COL_CATEGORICAL);
    assert_string_equal(kn_column_level(mix, kn_column_codes(mix)[50], &len), "9007199254740993");
    assert_string_equal(kn_column_level(mix, kn_column_codes(mix)[51], &len), "1.5");
    kn_frame_free(f);
}

static void declared_types(void **state)
{
    (void)state;
    const char *text = "id,n\n007,9007199254740993\n";
    const char *path = test_write_file(".csv", text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.types = "id:int64,n:numeric";
    kn_frame *f;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    remove(path);
    /* declared: leading zeros read as the number, and numeric accepts rounding */
    assert_true(kn_column_i64(kn_frame_col(f, 0))[0] == 7);
    assert_true(kn_column_f64(kn_frame_col(f, 1))[0] == 9007199254740992.0);
    kn_frame_free(f);
}

static uint16_t kfr_major(const kn_frame *f)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-test-%d-v.kfr", (int)getpid());
    KN_CHECK(kn_frame_write(f, path, NULL));
    FILE *fp = fopen(path, "rb");
    unsigned char head[12];
    assert_int_equal(fread(head, 1, 12, fp), 12);
    fclose(fp);
    kn_frame *g;
    KN_CHECK(kn_frame_read(path, NULL, &g, NULL));
    remove(path);
    assert_int_equal(kn_frame_n_cols(g), kn_frame_n_cols(f));
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *a = kn_frame_col(f, j), *b = kn_frame_col(g, j);
        assert_int_equal(kn_column_type(a), kn_column_type(b));
        if (kn_column_type(a) == KN_COL_INT64)
            for (size_t i = 0; i < kn_frame_n_rows(f); i++)
                assert_true(kn_column_i64(a)[i] == kn_column_i64(b)[i]);
    }
    kn_frame_free(g);
    return (uint16_t)(head[8] | head[9] << 8);
}

static void kfr_versions(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "id,x\n9007199254740993,1\n,2\n");
    assert_true(kn_column_is_missing(kn_frame_col(f, 0), 1));
    assert_int_equal(kfr_major(f), KN_KFR_MAJOR); /* 2: an int64 column */
    kn_frame_free(f);
    f = read_as(".csv", "id,x\n12,1\n");
    assert_int_equal(kfr_major(f), 1); /* still readable by kiln that reads 1.x */
    kn_frame_free(f);
}

static void dedupe_join_group_exact(void **state)
{
    (void)state;
    kn_frame *l = read_as(".csv", "id,v\n9007199254740992,a\n9007199254740993,b\n"
                                  "9007199254740993,c\n");
    kn_frame *r = read_as(".csv", "key,w\n9007199254740993,x\n9007199254740994,y\n");
    kn_frame *g;
    size_t removed, key = 0;
    KN_CHECK(kn_frame_dedupe(l, &key, 1, 0, &g, &removed));
    assert_int_equal(removed, 1);
    kn_frame_free(g);
    const char *lk = "id", *rk = "key";
    kn_join_report rep;
    KN_CHECK(kn_frame_join(l, r, &lk, &rk, 1, KN_JOIN_INNER, &g, &rep));
    assert_int_equal(kn_frame_n_rows(g), 2); /* rows b and c, not a */
    assert_true(kn_column_i64(kn_frame_col(g, 0))[0] == 9007199254740993LL);
    kn_frame_free(g);
    /* text keys meet int64 keys by exact value (not through a double) */
    kn_frame *t = read_as(".csv", "key,w\nnone,p\n9007199254740992,q\n");
    assert_int_equal(kn_column_type(kn_frame_col(t, 0)), KN_COL_CATEGORICAL);
    KN_CHECK(kn_frame_join(l, t, &lk, &rk, 1, KN_JOIN_INNER, &g, &rep));
    assert_int_equal(kn_frame_n_rows(g), 1);
    assert_true(kn_column_i64(kn_frame_col(g, 0))[0] == 9007199254740992LL);
    kn_frame_free(g);
    kn_frame_free(t);
    kn_agg aggs[2] = {{"n", KN_AGG_COUNT, NULL, NULL}, {"top", KN_AGG_MAX, "id", NULL}};
    const char *by = "v";
    KN_CHECK(kn_frame_group_by(l, &by, 1, aggs, 2, &g, NULL));
    assert_int_equal(kn_column_type(kn_frame_col(g, 2)), KN_COL_INT64);
    assert_true(kn_column_i64(kn_frame_col(g, 2))[1] == 9007199254740993LL);
    kn_frame_free(g);
    const char *byid = "id";
    KN_CHECK(kn_frame_group_by(l, &byid, 1, aggs, 1, &g, NULL));
    assert_int_equal(kn_frame_n_rows(g), 2);
    kn_frame_free(g);
    kn_frame_free(l);
    kn_frame_free(r);
}

static void retype_keeps_values(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b\n1,1.5\n,2\n");
    KN_CHECK(kn__column_retype(f, 0, KN_COL_INT64));
    assert_true(kn_column_i64(kn_frame_col(f, 0))[0] == 1);
    assert_true(kn_column_is_missing(kn_frame_col(f, 0), 1));
    assert_int_equal(kn__column_retype(f, 1, KN_COL_INT64), KN_ERR_TYPE); /* 1.5 */
    KN_CHECK(kn__column_retype(f, 1, KN_COL_CATEGORICAL));
    size_t len;
    kn_column *b = kn_frame_col(f, 1);
    assert_string_equal(kn_column_level(b, kn_column_codes(b)[0], &len), "1.5");
    assert_string_equal(kn_column_level(b, kn_column_codes(b)[1], &len), "2");
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(number_shapes),
        cmocka_unit_test(int64_text),
        cmocka_unit_test(csv_types),
        cmocka_unit_test(promotion_after_the_sample),
        cmocka_unit_test(declared_types),
        cmocka_unit_test(kfr_versions),
        cmocka_unit_test(dedupe_join_group_exact),
        cmocka_unit_test(retype_keeps_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
