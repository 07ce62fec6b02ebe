/* Batch readers (kiln/reader.h): every format read in small batches gives,
 * appended, the frame of a whole read; promotions and bad rows after the
 * first window follow the documented rules. */
#include "test_util.h"

#include "kiln/frame.h"
#include "kiln/reader.h"

#include <stdint.h>

/* Bytes of a file (a static buffer per call; tests read small files). */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) fail_msg("cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, fp) != (size_t)n) fail_msg("cannot read %s", path);
    fclose(fp);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

/* Same columns, types, roles, levels in the same order, codes and bytes
 * written as CSV. */
static void assert_same_frame(const kn_frame *a, const kn_frame *b)
{
    assert_int_equal(kn_frame_n_rows(a), kn_frame_n_rows(b));
    assert_int_equal(kn_frame_n_cols(a), kn_frame_n_cols(b));
    for (size_t j = 0; j < kn_frame_n_cols(a); j++) {
        kn_column *x = kn_frame_col(a, j), *y = kn_frame_col(b, j);
        assert_string_equal(kn_column_name(x), kn_column_name(y));
        assert_int_equal(kn_column_type(x), kn_column_type(y));
        assert_int_equal(kn_column_role(x), kn_column_role(y));
        if (kn_column_type(x) != KN_COL_CATEGORICAL) continue;
        assert_int_equal(kn_column_n_levels(x), kn_column_n_levels(y));
        for (size_t l = 0; l < kn_column_n_levels(x); l++)
            assert_string_equal(kn_column_level(x, (int32_t)l, NULL),
                                kn_column_level(y, (int32_t)l, NULL));
        assert_memory_equal(kn_column_codes(x), kn_column_codes(y),
                            kn_frame_n_rows(a) * sizeof(int32_t));
    }
    const char *pa = test_write_file(".a.csv", "", 0), *pb = test_write_file(".b.csv", "", 0);
    KN_CHECK(kn_frame_write(a, pa, "csv"));
    KN_CHECK(kn_frame_write(b, pb, "csv"));
    size_t na, nb;
    char *ba = slurp(pa, &na), *bb = slurp(pb, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
    remove(pa);
    remove(pb);
}

/* Read path by batches of batch_rows; returns the batches appended, and the
 * number of batches in *n_batches. Every batch has the schema's columns. */
static kn_frame *read_batches(const char *path, const kn_read_opts *o, size_t batch_rows,
                              size_t *n_batches)
{
    kn_reader *rd;
    KN_CHECK(kn_reader_open(path, o, batch_rows, &rd));
    const kn_frame *schema = kn_reader_schema(rd);
    assert_int_equal(kn_frame_n_rows(schema), 0);
    kn_frame *all;
    KN_CHECK(kn_frame_copy(schema, &all));
    kn_frame *b;
    *n_batches = 0;
    for (;;) {
        KN_CHECK(kn_reader_next(rd, &b));
        if (!b) break;
        assert_true(kn_frame_n_rows(b) >= 1 && kn_frame_n_rows(b) <= batch_rows);
        assert_int_equal(kn_frame_n_cols(b), kn_frame_n_cols(schema));
        for (size_t j = 0; j < kn_frame_n_cols(b); j++)
            assert_int_equal(kn_column_type(kn_frame_col(b, j)),
                             kn_column_type(kn_frame_col(schema, j)));
        KN_CHECK(kn_frame_append(all, b));
        kn_frame_free(b);
        ++*n_batches;
    }
    KN_CHECK(kn_reader_next(rd, &b)); /* done stays done */
    assert_null(b);
    assert_int_equal(kn_reader_report(rd)->rows_kept, kn_frame_n_rows(all));
    kn_reader_close(rd);
    return all;
}

/* A CSV of n rows: numbers, a categorical column whose level "late" first
 * appears at row late_at, timestamps, int64s beyond a double, quoted fields
 * with delimiters and newlines, missing cells and tokens ("NA" is missing
 * everywhere, as the file uses it in a number column; "None" is a frequent
 * level of `status`, a token kept as a level). */
static const char *make_csv(size_t n, size_t late_at)
{
    size_t cap = n * 96 + 64, len = 0;
    char *t = malloc(cap);
    len += (size_t)snprintf(t, cap, "x,level,when,big,note,target,status\n");
    for (size_t i = 0; i < n; i++) {
        const char *lv = i == late_at ? "late" : (i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "NA");
        len += (size_t)snprintf(t + len, cap - len,
                                "%s,%s,2024-01-%02zuT%02zu:00:00,%llu,\"n%zu%s\",%zu,%s\n",
                                i % 11 == 0   ? ""
                                : i % 13 == 0 ? "NA"
                                : i % 2       ? "1.5"
                                              : "-2e3",
                                lv, i % 28 + 1, i % 24, 9007199254740993ULL + i, i % 50,
                                i % 17 == 0 ? ", with\nnewline" : "", i % 2,
                                i % 2          ? "None"
                                : i == late_at ? "late2"
                                               : "ok");
    }
    const char *path = test_write_file(".csv", t, len);
    free(t);
    return path;
}

static void opts_small(kn_read_opts *o)
{
    kn_read_opts_default(o);
    o->block_kib = 1; /* windows of 1 KiB per thread: many of them */
    o->threads = 2;
}

static void test_csv_batches_equal_whole(void **state)
{
    (void)state;
    const char *path = make_csv(600, 530);
    kn_read_opts o;
    opts_small(&o);
    KN_CHECK(kn_param_set(kn_read_params(), &o, "target=target"));
    kn_frame *whole;
    KN_CHECK(kn_frame_read(path, &o, &whole, NULL));
    assert_int_equal(kn_frame_n_rows(whole), 600);
    size_t sizes[] = {7, 1, 1000, 0};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t nb;
        kn_frame *all = read_batches(path, &o, sizes[s] ? sizes[s] : KN_READER_BATCH_ROWS, &nb);
        if (sizes[s] == 7) assert_true(nb >= 600 / 7);
        if (sizes[s] == 1000) assert_true(nb > 1); /* one batch per window */
        assert_same_frame(whole, all);
        kn_frame_free(all);
    }
    /* the level of a late batch was added at the end of the dictionary */
    size_t j;
    KN_CHECK(kn_frame_find(whole, "level", &j));
    assert_string_equal(kn_column_level(kn_frame_col(whole, j), 2, NULL), "late");
    KN_CHECK(kn_frame_find(whole, "status", &j));
    assert_int_equal(kn_column_n_levels(kn_frame_col(whole, j)), 3);
    assert_string_equal(kn_column_level(kn_frame_col(whole, j), 1, NULL), "None");
    /* the whole read's defaults too (one window) */
    kn_read_opts d;
    kn_read_opts_default(&d);
    size_t nb;
    kn_frame *all = read_batches(path, &d, 7, &nb), *w2;
    KN_CHECK(kn_frame_read(path, &d, &w2, NULL));
    assert_same_frame(w2, all);
    kn_frame_free(all);
    kn_frame_free(w2);
    kn_frame_free(whole);
    remove(path);
}

/* The schema is known before the first batch. */
static void test_schema_up_front(void **state)
{
    (void)state;
    const char *path = make_csv(50, 40);
    kn_reader *rd;
    KN_CHECK(kn_reader_open(path, NULL, 7, &rd));
    const kn_frame *s = kn_reader_schema(rd);
    assert_int_equal(kn_frame_n_cols(s), 7);
    assert_string_equal(kn_column_name(kn_frame_col(s, 1)), "level");
    assert_int_equal(kn_column_type(kn_frame_col(s, 0)), KN_COL_NUMERIC);
    assert_int_equal(kn_column_type(kn_frame_col(s, 1)), KN_COL_CATEGORICAL);
    assert_int_equal(kn_column_type(kn_frame_col(s, 2)), KN_COL_TIMESTAMP);
    assert_int_equal(kn_column_type(kn_frame_col(s, 3)), KN_COL_INT64);
    kn_reader_close(rd);
    kn_reader_close(NULL);
    remove(path);
}

/* Every other format: written from the CSV's frame, read by batches of 7. */
static void test_formats_batches_equal_whole(void **state)
{
    (void)state;
    const char *csv = make_csv(200, 180);
    kn_frame *src;
    KN_CHECK(kn_frame_read(csv, NULL, &src, NULL));
    /* LIBSVM holds numbers only: a frame of the numeric columns */
    size_t num[2];
    KN_CHECK(kn_frame_find(src, "x", &num[0]));
    KN_CHECK(kn_frame_find(src, "target", &num[1]));
    kn_frame *numeric;
    KN_CHECK(kn_frame_select_cols(src, num, 2, &numeric));
    struct {
        const char *ext;
        const kn_frame *f;
    } formats[] = {{".kfr", src}, {".arff", src}, {".jsonl", src}, {".libsvm", numeric}};
    for (size_t k = 0; k < sizeof formats / sizeof *formats; k++) {
        const char *path = test_write_file(formats[k].ext, "", 0);
        KN_CHECK(kn_frame_write(formats[k].f, path, NULL));
        kn_read_opts o;
        kn_read_opts_default(&o);
        if (strcmp(formats[k].ext, ".libsvm") == 0)
            KN_CHECK(kn_param_set(kn_read_params(), &o, "target=label"));
        kn_frame *whole;
        KN_CHECK(kn_frame_read(path, &o, &whole, NULL));
        size_t nb;
        kn_frame *all = read_batches(path, &o, 7, &nb);
        assert_int_equal(nb, (kn_frame_n_rows(whole) + 6) / 7);
        assert_same_frame(whole, all);
        kn_frame_free(all);
        kn_frame_free(whole);
        remove(path);
    }
    kn_frame_free(numeric);
    kn_frame_free(src);
    remove(csv);
}

/* A number column whose text value comes after the first window: the whole
 * read re-reads; a batch read fails naming the line, column and fix. In the
 * first window, the batch read re-reads it too. */
static void test_late_promotion(void **state)
{
    (void)state;
    size_t n = 400, late = 350;
    char *t = malloc(n * 16 + 16);
    size_t len = (size_t)sprintf(t, "id,x\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(t + len, "%zu,%s\n", i, i == late ? "abc" : "1.25");
    const char *path = test_write_file(".csv", t, len);
    free(t);
    kn_read_opts o;
    opts_small(&o);
    KN_CHECK(kn_param_set(kn_read_params(), &o, "sample_rows=5"));
    kn_frame *whole;
    kn_read_report rep;
    KN_CHECK(kn_frame_read(path, &o, &whole, &rep));
    assert_int_equal(rep.type_restarts, 1);
    assert_int_equal(kn_column_type(kn_frame_col(whole, 1)), KN_COL_CATEGORICAL);
    kn_reader *rd;
    KN_CHECK(kn_reader_open(path, &o, 7, &rd));
    kn_frame *b;
    kn_status s;
    while ((s = kn_reader_next(rd, &b)) == KN_OK && b) kn_frame_free(b);
    assert_int_equal(s, KN_ERR_TYPE);
    char want[64];
    snprintf(want, sizeof want, ":%zu:", late + 2); /* the header is line 1 */
    if (!strstr(kn_last_error(), want) || !strstr(kn_last_error(), "column 'x'") ||
        !strstr(kn_last_error(), "reader option types=x:categorical"))
        fail_msg("message: %s", kn_last_error());
    /* and stays failed */
    KN_CHECK_FAILS(kn_reader_next(rd, &b), KN_ERR_TYPE, want);
    assert_null(b);
    kn_reader_close(rd);
    /* with the default window the value is in the first one: re-read */
    kn_read_opts d;
    kn_read_opts_default(&d);
    KN_CHECK(kn_param_set(kn_read_params(), &d, "sample_rows=5"));
    size_t nb;
    kn_frame *all = read_batches(path, &d, 7, &nb);
    assert_same_frame(whole, all);
    kn_frame_free(all);
    /* declared, the batch read needs no re-read */
    KN_CHECK(kn_param_set(kn_read_params(), &o, "types=x:categorical"));
    all = read_batches(path, &o, 7, &nb);
    assert_same_frame(whole, all);
    kn_frame_free(all);
    kn_frame_free(whole);
    remove(path);
}

/* A malformed row after many batches: the same message, with the file's
 * line, as the whole read; skipped rows are counted the same. */
static void test_bad_row_lines(void **state)
{
    (void)state;
    size_t n = 1500, bad = 1400;
    char *t = malloc(n * 16 + 16);
    size_t len = (size_t)sprintf(t, "a,b\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(t + len, i == bad ? "%zu,%zu,extra\n" : "%zu,%zu\n", i, i % 5);
    const char *path = test_write_file(".csv", t, len);
    free(t);
    kn_read_opts o;
    opts_small(&o);
    kn_frame *f = NULL;
    assert_int_not_equal(kn_frame_read(path, &o, &f, NULL), KN_OK);
    char whole_msg[1024];
    snprintf(whole_msg, sizeof whole_msg, "%s", kn_last_error());
    char want[32];
    snprintf(want, sizeof want, ":%zu:", bad + 2);
    if (!strstr(whole_msg, want)) fail_msg("message: %s", whole_msg);
    kn_reader *rd;
    KN_CHECK(kn_reader_open(path, &o, 7, &rd));
    kn_frame *b;
    kn_status s;
    size_t rows = 0;
    while ((s = kn_reader_next(rd, &b)) == KN_OK && b) {
        rows += kn_frame_n_rows(b);
        kn_frame_free(b);
    }
    assert_int_not_equal(s, KN_OK);
    assert_string_equal(kn_last_error(), whole_msg);
    assert_true(rows < bad);
    kn_reader_close(rd);
    /* skipped: same rows as the whole read */
    KN_CHECK(kn_param_set(kn_read_params(), &o, "on_bad_rows=skip"));
    kn_read_report rep;
    KN_CHECK(kn_frame_read(path, &o, &f, &rep));
    size_t nb;
    kn_frame *all = read_batches(path, &o, 7, &nb);
    assert_same_frame(f, all);
    kn_frame_free(all);
    kn_frame_free(f);
    remove(path);
}

/* The repository's real data sets, in windows of 4 KiB per thread and
 * batches of 7 rows, and as .kfr. */
static void test_real_data(void **state)
{
    (void)state;
    const char *dir = getenv("KILN_TEST_DATA");
    if (!dir) skip();
    const char *files[] = {"lending_club.csv", "cps1985.csv", "house_votes84.csv", "vehicle.csv"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        kn_read_opts o;
        kn_read_opts_default(&o);
        o.block_kib = 4;
        o.threads = 2;
        kn_frame *whole;
        KN_CHECK(kn_frame_read(path, &o, &whole, NULL));
        size_t nb;
        kn_frame *all = read_batches(path, &o, 7, &nb);
        assert_true(nb >= kn_frame_n_rows(whole) / 7);
        assert_same_frame(whole, all);
        kn_frame_free(all);
        const char *kfr = test_write_file(".kfr", "", 0);
        KN_CHECK(kn_frame_write(whole, kfr, NULL));
        all = read_batches(kfr, NULL, 7, &nb);
        assert_same_frame(whole, all);
        kn_frame_free(all);
        remove(kfr);
        kn_frame_free(whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_batches_equal_whole),
        cmocka_unit_test(test_schema_up_front),
        cmocka_unit_test(test_formats_batches_equal_whole),
        cmocka_unit_test(test_late_promotion),
        cmocka_unit_test(test_bad_row_lines),
        cmocka_unit_test(test_real_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
