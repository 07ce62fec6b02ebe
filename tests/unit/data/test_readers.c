/* ARFF, LIBSVM, JSON Lines and .kfr: exact values, exact error locations,
 * lossless round trips; frames and profiles. */
#include "test_util.h"

#include "kiln/demo.h"
#include "kiln/io.h"
#include "kiln/profile.h"

#include <math.h>

static kn_frame *read_as(const char *suffix, const char *text)
{
    const char *path = test_write_file(suffix, text, strlen(text));
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, NULL, &f, NULL));
    remove(path);
    return f;
}

static const char *fails_as(const char *suffix, const char *text, kn_status want)
{
    const char *path = test_write_file(suffix, text, strlen(text));
    kn_frame *f = NULL;
    kn_status s = kn_frame_read(path, NULL, &f, NULL);
    remove(path);
    if (s != want)
        fail_msg("expected %s, got %s (%s)", kn_status_name(want), kn_status_name(s),
                 kn_last_error());
    return kn_last_error();
}

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

static void kfr_round_trip_is_exact_and_deterministic(void **state)
{
    (void)state;
    kn_frame *f;
    KN_CHECK(kn_demo_frame(3000, 7, &f));
    kn_column *s;
    KN_CHECK(kn_frame_add_column(f, "note", KN_COL_STRING, &s));
    KN_CHECK(kn_column_set_str(s, 3, "hello, \"world\"\n", 15));
    const char *a = "/tmp/kiln-test-a.kfr", *b = "/tmp/kiln-test-b.kfr";
    KN_CHECK(kn_frame_write(f, a, NULL));
    KN_CHECK(kn_frame_write(f, b, NULL));
    char *ba, *bb;
    size_t la, lb;
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    fseek(fa, 0, SEEK_END);
    la = (size_t)ftell(fa);
    rewind(fa);
    fseek(fb, 0, SEEK_END);
    lb = (size_t)ftell(fb);
    rewind(fb);
    ba = malloc(la);
    bb = malloc(lb);
    assert_int_equal(fread(ba, 1, la, fa), la);
    assert_int_equal(fread(bb, 1, lb, fb), lb);
    fclose(fa);
    fclose(fb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la); /* same frame, same bytes */
    kn_frame *g;
    KN_CHECK(kn_frame_read(a, NULL, &g, NULL));
    assert_int_equal(kn_frame_n_rows(g), 3000);
    assert_int_equal(kn_frame_n_cols(g), kn_frame_n_cols(f));
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *x = kn_frame_col(f, j), *y = kn_frame_col(g, j);
        assert_string_equal(kn_column_name(x), kn_column_name(y));
        assert_int_equal(kn_column_type(x), kn_column_type(y));
        assert_int_equal(kn_column_role(x), kn_column_role(y));
        for (size_t i = 0; i < 3000; i++) {
            switch (kn_column_type(x)) {
            case KN_COL_NUMERIC:
                assert_memory_equal(&kn_column_f64(x)[i], &kn_column_f64(y)[i], 8);
                break;
            case KN_COL_CATEGORICAL:
                assert_int_equal(kn_column_codes(x)[i], kn_column_codes(y)[i]);
                break;
            case KN_COL_TIMESTAMP:
                assert_true(kn_column_ts(x)[i] == kn_column_ts(y)[i]);
                break;
            case KN_COL_STRING: {
                size_t l1, l2;
                const char *s1 = kn_column_str(x, i, &l1), *s2 = kn_column_str(y, i, &l2);
                assert_true((s1 == NULL) == (s2 == NULL));
                assert_int_equal(l1, l2);
                if (s1) assert_memory_equal(s1, s2, l1);
                break;
            }
            }
        }
    }
    kn_frame_free(g);
    /* flip one byte: checksum error; truncate: clear error; newer major: version error */
    ba[100] ^= 1;
    const char *bad = test_write_file(".kfr", ba, la);
    KN_CHECK_FAILS(kn_frame_read(bad, NULL, &g, NULL), KN_ERR_CORRUPT, "checksum mismatch");
    ba[100] ^= 1;
    bad = test_write_file(".kfr", ba, la / 2);
    KN_CHECK_FAILS(kn_frame_read(bad, NULL, &g, NULL), KN_ERR_CORRUPT, "truncated");
    ba[8] = 9;
    bad = test_write_file(".kfr", ba, la);
    KN_CHECK_FAILS(kn_frame_read(bad, NULL, &g, NULL), KN_ERR_VERSION,
                   "newer than this kiln reads");
    free(ba);
    free(bb);
    remove(a);
    remove(b);
    kn_frame_free(f);
}

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

static void profile_values(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "id,x,c,k\n1,1,a,z\n2,2,a,z\n3,3,b,z\n4,4,a,z\n5,,c,z\n6,100,a,"
                                  "z\n7,7,b,z\n8,8,a,z\n9,9,a,z\n10,10,b,z\n10,10,b,z\n");
    kn_profile *p;
    KN_CHECK(kn_profile_compute(f, &p));
    assert_int_equal(p->rows, 11);
    assert_int_equal(p->duplicate_rows, 1);
    const kn_col_profile *x = &p->cols[1];
    assert_int_equal(x->missing, 1);
    assert_true(x->min == 1 && x->max == 100);
    assert_true(x->p50 == 7.5); /* numpy linear: sorted 1,2,3,4,7,8,9,10,10,100 */
    assert_true(fabs(x->p25 - 3.25) < 1e-12);
    assert_true(fabs(x->mean - 15.4) < 1e-12);
    assert_int_equal(x->distinct, 9);
    assert_int_equal(p->cols[2].n_top, 3);
    assert_string_equal(p->cols[2].top[0].value, "a");
    assert_int_equal(p->cols[2].top[0].count, 6);
    assert_true(p->cols[3].constant);
    int skew_warned = 0, dup_warned = 0;
    for (size_t w = 0; w < p->n_warnings; w++) {
        skew_warned |= strstr(p->warnings[w], "'x' is highly skewed") != NULL;
        dup_warned |= strstr(p->warnings[w], "1 duplicate rows") != NULL;
    }
    assert_true(skew_warned && dup_warned);
    kn_profile_free(p);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arff_dense_and_sparse),
        cmocka_unit_test(libsvm_dense_columns),
        cmocka_unit_test(jsonl_schema_union),
        cmocka_unit_test(kfr_round_trip_is_exact_and_deterministic),
        cmocka_unit_test(frame_select_append),
        cmocka_unit_test(profile_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
