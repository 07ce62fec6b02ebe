/* CSV reader edge cases: exact parsed values or the exact error location. */
#include "test_util.h"

#include "kiln/io.h"
#include "kiln/mem.h"

#include <math.h>

static kn_frame *read_text(const char *text, const char *opts[], kn_read_report *rep)
{
    const char *path = test_write_file(".csv", text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    for (int i = 0; opts && opts[i]; i++) KN_CHECK(kn_param_set(kn_read_params(), &o, opts[i]));
    kn_frame *f = NULL;
    kn_read_report local;
    KN_CHECK(kn_frame_read(path, &o, &f, rep ? rep : &local));
    remove(path);
    return f;
}

/* Read expecting failure; returns the message. */
static const char *read_fails(const char *text, const char *opts[], kn_status want)
{
    const char *path = test_write_file(".csv", text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    for (int i = 0; opts && opts[i]; i++) KN_CHECK(kn_param_set(kn_read_params(), &o, opts[i]));
    kn_frame *f = NULL;
    kn_status s = kn_frame_read(path, &o, &f, NULL);
    remove(path);
    if (s != want)
        fail_msg("expected %s, got %s: %s", kn_status_name(want), kn_status_name(s),
                 kn_last_error());
    return kn_last_error();
}

static const char *cat(kn_frame *f, size_t j, size_t i)
{
    kn_column *c = kn_frame_col(f, j);
    int32_t code = kn_column_codes(c)[i];
    return code < 0 ? NULL : kn_column_level(c, code, NULL);
}

static double num(kn_frame *f, size_t j, size_t i)
{
    return kn_column_f64(kn_frame_col(f, j))[i];
}

static void basic_types_and_missing(void **state)
{
    (void)state;
    kn_frame *f =
        read_text("id,x,name,when\n1,1.5,ann,2024-01-02\n2,,bob,\n3,-2e3,NA,2024-01-02T03:04:05Z\n",
                  NULL, NULL);
    assert_int_equal(kn_frame_n_rows(f), 3);
    assert_int_equal(kn_frame_n_cols(f), 4);
    assert_int_equal(kn_column_type(kn_frame_col(f, 0)), KN_COL_NUMERIC);
    assert_int_equal(kn_column_type(kn_frame_col(f, 2)), KN_COL_CATEGORICAL);
    assert_int_equal(kn_column_type(kn_frame_col(f, 3)), KN_COL_TIMESTAMP);
    assert_string_equal(kn_column_name(kn_frame_col(f, 1)), "x");
    assert_true(num(f, 1, 0) == 1.5);
    assert_true(isnan(num(f, 1, 1)));
    assert_true(num(f, 1, 2) == -2000);
    assert_string_equal(cat(f, 2, 0), "ann");
    assert_null(cat(f, 2, 2));
    int64_t *ts = kn_column_ts(kn_frame_col(f, 3));
    assert_true(ts[0] == 1704153600LL * 1000000);
    assert_true(ts[1] == KN_TS_MISSING);
    assert_true(ts[2] == (1704153600LL + 3 * 3600 + 4 * 60 + 5) * 1000000);
    kn_frame_free(f);
}

static void quotes_commas_newlines_crlf_bom(void **state)
{
    (void)state;
    kn_frame *f = read_text("\xef\xbb\xbf"
                            "a,b\r\n\"x,y\",1\r\n\"he said \"\"hi\"\"\",2\r\n\"two\nlines\",3\r\n",
                            NULL, NULL);
    assert_int_equal(kn_frame_n_rows(f), 3);
    assert_string_equal(kn_column_name(kn_frame_col(f, 0)), "a"); /* BOM stripped */
    assert_string_equal(cat(f, 0, 0), "x,y");
    assert_string_equal(cat(f, 0, 1), "he said \"hi\"");
    assert_string_equal(cat(f, 0, 2), "two\nlines");
    assert_true(num(f, 1, 0) == 1 && num(f, 1, 1) == 2 && num(f, 1, 2) == 3);
    kn_frame_free(f);
}

static void empty_file_and_header_only(void **state)
{
    (void)state;
    const char *msg = read_fails("", NULL, KN_ERR_PARSE);
    assert_non_null(strstr(msg, "the file is empty"));
    kn_frame *f = read_text("a,b,c\n", NULL, NULL);
    assert_int_equal(kn_frame_n_rows(f), 0);
    assert_int_equal(kn_frame_n_cols(f), 3);
    assert_string_equal(kn_column_name(kn_frame_col(f, 2)), "c");
    kn_frame_free(f);
}

static void ragged_rows_fail_with_location(void **state)
{
    (void)state;
    const char *msg = read_fails("a,b,c\n1,2,3\n4,5\n", NULL, KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".csv:3:4: expected 3 fields, found 2"));
    msg = read_fails("a,b\n1,2\n3,4,5\n", NULL, KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".csv:3:4: expected 2 fields, found 3"));
}

static void bad_quote_and_number_locations(void **state)
{
    (void)state;
    const char *msg = read_fails("a,b\n1,\"abc\"x\n", NULL, KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".csv:2:8: unexpected text after a closing quote in column 'b'"));
    msg = read_fails("a,b\n1,\"never closed\n2,3\n", NULL, KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".csv:2:3: unterminated quoted field in column 'b'"));
    const char *opts[] = {"types=a:numeric", NULL};
    msg = read_fails("a,b\n1,x\n2,y\nzz,z\n", opts, KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".csv:4:1: cannot parse 'zz' as a number in numeric column 'a'"));
}

static void invalid_utf8_is_rejected(void **state)
{
    (void)state;
    const char *msg = read_fails("a,b\nok,1\nbad\xff\xfe,2\n", NULL, KN_ERR_PARSE);
    assert_non_null(strstr(msg, ".csv:3:1: invalid UTF-8 in column 'a'"));
}

static void skip_and_quarantine_count_everything(void **state)
{
    (void)state;
    const char *opts[] = {"on_bad_rows=skip", NULL};
    kn_read_report rep;
    kn_frame *f = read_text("a,b\n1,2\n3\n5,6\n7,8,9\n", opts, &rep);
    assert_int_equal(kn_frame_n_rows(f), 2);
    assert_true(num(f, 0, 1) == 5);
    assert_int_equal(rep.rows_read, 4);
    assert_int_equal(rep.rows_kept, 2);
    assert_int_equal(rep.rows_skipped, 2);
    assert_int_equal(rep.rows_quarantined, 0);
    kn_frame_free(f);

    const char *qpath = "/tmp/kiln-test-quarantine.csv";
    char q[128];
    snprintf(q, sizeof q, "quarantine=%s", qpath);
    const char *opts2[] = {"on_bad_rows=quarantine", q, NULL};
    f = read_text("a,b\n1,2\n3\n5,\"x\"\"y\"\n\"a\nb\",1,2\n", opts2, &rep);
    assert_int_equal(rep.rows_read, 4);
    assert_int_equal(rep.rows_kept, 2);
    assert_int_equal(rep.rows_quarantined, 2);
    assert_string_equal(rep.quarantine_path, qpath);
    kn_frame_free(f);
    FILE *fp = fopen(qpath, "rb");
    assert_non_null(fp);
    char buf[512] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    assert_string_equal(buf, "line,reason,row\n"
                             "3,\"expected 2 fields, found 1\",\"3\"\n"
                             "5,\"expected 2 fields, found 3\",\"\"\"a\nb\"\",1,2\"\n");
    remove(qpath);
}

static void huge_field_and_many_blocks(void **state)
{
    (void)state;
    /* a 3 MB quoted field, read with 1 KiB blocks: the buffer must grow */
    size_t big = 3 << 20;
    char *text = malloc(big + 64);
    strcpy(text, "a,b\n1,\"");
    size_t n = strlen(text);
    for (size_t i = 0; i < big; i++) text[n++] = (char)('a' + i % 26);
    memcpy(text + n, "\"\n2,x\n", 7);
    const char *opts[] = {"block_kib=1", "threads=2", "types=b:string", NULL};
    kn_frame *f = read_text(text, opts, NULL);
    free(text);
    assert_int_equal(kn_frame_n_rows(f), 2);
    size_t len;
    const char *s = kn_column_str(kn_frame_col(f, 1), 0, &len);
    assert_int_equal(len, big);
    assert_true(s[0] == 'a' && s[big - 1] == (char)('a' + (big - 1) % 26));
    s = kn_column_str(kn_frame_col(f, 1), 1, &len);
    assert_int_equal(len, 1);
    assert_true(s[0] == 'x');
    kn_frame_free(f);
}

/* Many small blocks and several threads give exactly the single-thread result. */
static void threads_and_blocks_do_not_change_results(void **state)
{
    (void)state;
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    n += (size_t)sprintf(text + n, "x,c,q\n");
    for (int i = 0; i < 20000; i++) {
        if (i % 97 == 0) n += (size_t)sprintf(text + n, "\n"); /* blank lines */
        n += (size_t)sprintf(text + n, "%d.%03d,k%d,\"v\n%d\"\n", i, i % 1000, (i * 7) % 13, i % 5);
    }
    text[n] = 0;
    const char *one[] = {"threads=1", NULL};
    const char *many[] = {"threads=3", "block_kib=7", NULL};
    kn_frame *a = read_text(text, one, NULL), *b = read_text(text, many, NULL);
    free(text);
    assert_int_equal(kn_frame_n_rows(a), 20000);
    assert_int_equal(kn_frame_n_rows(b), 20000);
    for (size_t i = 0; i < 20000; i++) {
        assert_true(num(a, 0, i) == num(b, 0, i));
        assert_int_equal(kn_column_codes(kn_frame_col(a, 1))[i],
                         kn_column_codes(kn_frame_col(b, 1))[i]);
        assert_string_equal(cat(a, 2, i), cat(b, 2, i));
    }
    assert_true(num(a, 0, 12345) == 12345.345);
    assert_string_equal(cat(a, 1, 0), "k0");
    assert_int_equal(kn_column_n_levels(kn_frame_col(a, 1)), 13);
    kn_frame_free(a);
    kn_frame_free(b);
}

static void type_promotion_rereads(void **state)
{
    (void)state;
    /* the sample (2 rows) sees numbers; a later text value promotes the column */
    const char *opts[] = {"sample_rows=2", "block_kib=1", NULL};
    kn_read_report rep;
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    n += (size_t)sprintf(text + n, "a,b\n");
    for (int i = 0; i < 2000; i++) n += (size_t)sprintf(text + n, "%d,%d\n", i, i);
    n += (size_t)sprintf(text + n, "oops,1\n");
    kn_frame *f = read_text(text, opts, &rep);
    free(text);
    assert_int_equal(rep.type_restarts, 1);
    assert_int_equal(kn_column_type(kn_frame_col(f, 0)), KN_COL_CATEGORICAL);
    assert_int_equal(kn_column_type(kn_frame_col(f, 1)), KN_COL_NUMERIC);
    assert_string_equal(cat(f, 0, 5), "5");
    assert_string_equal(cat(f, 0, 2000), "oops");
    kn_frame_free(f);
}

static void delimiters_headers_missing_tokens(void **state)
{
    (void)state;
    kn_frame *f = read_text("a;b;c\n1;2,5;x\n3;4;y\n", NULL, NULL);
    assert_int_equal(kn_frame_n_cols(f), 3);
    assert_int_equal(kn_column_type(kn_frame_col(f, 1)), KN_COL_CATEGORICAL);
    kn_frame_free(f);
    f = read_text("1\t2\n3\t4\n", NULL, NULL); /* no header: all numbers */
    assert_int_equal(kn_frame_n_rows(f), 2);
    assert_string_equal(kn_column_name(kn_frame_col(f, 1)), "V2");
    assert_true(num(f, 1, 0) == 2);
    kn_frame_free(f);
    const char *opts[] = {"header=no", "delimiter=|", "missing=-,?", NULL};
    f = read_text("x|-\n?|5\n", opts, NULL);
    assert_string_equal(kn_column_name(kn_frame_col(f, 0)), "V1");
    assert_null(cat(f, 0, 1));
    assert_true(isnan(num(f, 1, 0)) && num(f, 1, 1) == 5);
    kn_frame_free(f);
    f = read_text("a,a,\n1,2,3\n", NULL, NULL); /* duplicate and empty names */
    assert_string_equal(kn_column_name(kn_frame_col(f, 1)), "a.1");
    assert_string_equal(kn_column_name(kn_frame_col(f, 2)), "V3");
    kn_frame_free(f);
}

static void no_trailing_newline_and_exact_floats(void **state)
{
    (void)state;
    /* (an integer literal beyond int64 would be identifier text: the long
     * significand is written with an exponent to stay a number) */
    kn_frame *f = read_text("v\n0.1\n1e-320\n123456789012345678901234567890e0\n2.2250738585072011e-"
                            "308\n-0\n0.30000000000000004",
                            NULL, NULL);
    assert_int_equal(kn_frame_n_rows(f), 6);
    const char *txt[] = {"0.1",
                         "1e-320",
                         "123456789012345678901234567890e0",
                         "2.2250738585072011e-308",
                         "-0",
                         "0.30000000000000004"};
    for (int i = 0; i < 6; i++) {
        double want = strtod(txt[i], NULL), got = num(f, 0, (size_t)i);
        assert_memory_equal(&want, &got, sizeof want);
    }
    kn_frame_free(f);
}

static void memory_limit_fails_cleanly(void **state)
{
    (void)state;
    size_t cap = 4 << 20, n = 0;
    char *text = malloc(cap);
    n += (size_t)sprintf(text + n, "a,b\n");
    while (n < cap - 64) n += (size_t)sprintf(text + n, "1.5,2.5\n");
    const char *path = test_write_file(".csv", text, n);
    free(text);
    kn_mem_set_limit(kn_mem_live() + (2 << 20));
    kn_frame *f = NULL;
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.block_kib = 64;
    kn_status s = kn_frame_read(path, &o, &f, NULL);
    kn_mem_set_limit(0);
    remove(path);
    assert_int_equal(s, KN_ERR_NOMEM);
    assert_null(f);
    assert_non_null(strstr(kn_last_error(), "memory limit exceeded"));
}

/* thousands/decimal (pandas' thousands=, decimal=): the separator after a
 * digit of the integer part is dropped, only the decimal mark is the
 * point; the same values with 1 or 2 threads and small windows. */
static void thousands_and_decimal(void **state)
{
    (void)state;
    const char *text = "a;b;c\n1.234,5;x;1.2\n2.000.000;y;-0,5\n\"3,25\";z;7\n12;w;,5\n";
    const double a[] = {1234.5, 2000000, 3.25, 12}, c[] = {12, -0.5, 7, 0.5};
    /* (1.2: thousands '.' dropped, 12) */
    const char *one[] = {"thousands=.", "decimal=,", "threads=1", NULL};
    const char *two[] = {"thousands=.", "decimal=,", "threads=2", "block_kib=1", NULL};
    const char **sets[] = {one, two};
    for (int k = 0; k < 2; k++) {
        kn_frame *f = read_text(text, sets[k], NULL);
        assert_int_equal(kn_column_type(kn_frame_col(f, 0)), KN_COL_NUMERIC);
        assert_int_equal(kn_column_type(kn_frame_col(f, 2)), KN_COL_NUMERIC);
        for (size_t i = 0; i < 4; i++) {
            assert_true(num(f, 0, i) == a[i]);
            assert_true(num(f, 2, i) == c[i]);
        }
        kn_frame_free(f);
    }
    /* with decimal ',' a '.' is text (no thousands given), as in pandas */
    const char *dec[] = {"decimal=,", NULL};
    kn_frame *f = read_text("a;b\n1,5;x\n1.5;y\n", dec, NULL);
    assert_int_equal(kn_column_type(kn_frame_col(f, 0)), KN_COL_CATEGORICAL);
    assert_string_equal(cat(f, 0, 1), "1.5");
    kn_frame_free(f);
    /* a doubled separator is not a number (pandas' float parser) */
    const char *th[] = {"thousands=.", "decimal=,", NULL};
    f = read_text("a;b\n1..2;x\n3;y\n", th, NULL);
    assert_int_equal(kn_column_type(kn_frame_col(f, 0)), KN_COL_CATEGORICAL);
    kn_frame_free(f);
    /* without the options nothing changes: 1,5 is text in a ';' file */
    f = read_text("a;b\n1,5;x\n2;y\n", NULL, NULL);
    assert_int_equal(kn_column_type(kn_frame_col(f, 0)), KN_COL_CATEGORICAL);
    kn_frame_free(f);
    const char *same[] = {"thousands=,", "decimal=,", NULL};
    assert_non_null(strstr(read_fails("a\n1\n", same, KN_ERR_INVALID), "both ','"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_types_and_missing),
        cmocka_unit_test(quotes_commas_newlines_crlf_bom),
        cmocka_unit_test(empty_file_and_header_only),
        cmocka_unit_test(ragged_rows_fail_with_location),
        cmocka_unit_test(bad_quote_and_number_locations),
        cmocka_unit_test(invalid_utf8_is_rejected),
        cmocka_unit_test(skip_and_quarantine_count_everything),
        cmocka_unit_test(huge_field_and_many_blocks),
        cmocka_unit_test(threads_and_blocks_do_not_change_results),
        cmocka_unit_test(type_promotion_rereads),
        cmocka_unit_test(delimiters_headers_missing_tokens),
        cmocka_unit_test(no_trailing_newline_and_exact_floats),
        cmocka_unit_test(memory_limit_fails_cleanly),
        cmocka_unit_test(thousands_and_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
