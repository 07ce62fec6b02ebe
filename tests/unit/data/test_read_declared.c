/* What a program tells the readers (kn_read_opts.decls, on_reject) and
 * kn_same_file: fitted types over inference in every format, data row
 * numbers of rows set aside, outputs that would replace inputs. */
#include "test_util.h"

#include "kiln/io.h"
#include "kiln/mem.h"

#include <math.h>

static kn_frame *read_declared(const char *suffix, const char *text, const kn_col_decl *d, size_t n,
                               const char *option)
{
    const char *path = test_write_file(suffix, text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    if (option) KN_CHECK(kn_param_set(kn_read_params(), &o, option));
    o.decls = d;
    o.n_decls = n;
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    remove(path);
    return f;
}

static kn_col_type type_of(const kn_frame *f, const char *name)
{
    size_t j;
    KN_CHECK(kn_frame_find(f, name, &j));
    return kn_column_type(kn_frame_col(f, j));
}

/* One row, codes that look like numbers, an empty column: read as declared. */
static void csv_reads_with_declared_types(void **state)
{
    (void)state;
    const kn_col_decl d[] = {{"code", KN_COL_CATEGORICAL},
                             {"colour", KN_COL_CATEGORICAL},
                             {"x", KN_COL_NUMERIC},
                             {"absent", KN_COL_CATEGORICAL}};
    kn_frame *f = read_declared(".csv", "id,code,colour,x\n7,3,,1.5\n", d, 4, NULL);
    assert_int_equal(type_of(f, "code"), KN_COL_CATEGORICAL);
    assert_int_equal(type_of(f, "colour"), KN_COL_CATEGORICAL);
    assert_int_equal(type_of(f, "x"), KN_COL_NUMERIC);
    assert_int_equal(type_of(f, "id"), KN_COL_NUMERIC); /* undeclared: inferred */
    kn_column *code = kn_frame_col(f, 1);
    assert_string_equal(kn_column_level(code, kn_column_codes(code)[0], NULL), "3");
    assert_true(kn_column_is_missing(kn_frame_col(f, 2), 0));
    kn_frame_free(f);
    /* the declarations win over the user's types= */
    f = read_declared(".csv", "code\n1\n", d, 1, "types=code:numeric");
    assert_int_equal(type_of(f, "code"), KN_COL_CATEGORICAL);
    kn_frame_free(f);
}

/* A declared numeric column with text in it: a bad row, not a new type. */
static void csv_declared_value_that_does_not_parse_is_a_bad_row(void **state)
{
    (void)state;
    const char *path = test_write_file(".csv", "x,y\n1,2\nabc,3\n", 14);
    kn_read_opts o;
    kn_read_opts_default(&o);
    const kn_col_decl d[] = {{"x", KN_COL_NUMERIC}};
    o.decls = d;
    o.n_decls = 1;
    kn_frame *f = NULL;
    KN_CHECK_FAILS(kn_frame_read(path, &o, &f, NULL), KN_ERR_PARSE, ":3:1:");
    remove(path);
}

/* Formats with their own types: an all-missing column takes the declared
 * type; a real mismatch is an error naming the column. */
static void jsonl_conforms_empty_columns_only(void **state)
{
    (void)state;
    const kn_col_decl d[] = {{"colour", KN_COL_CATEGORICAL}};
    kn_frame *f = read_declared(
        ".jsonl", "{\"colour\": null, \"x\": 1}\n{\"colour\": null, \"x\": 2}\n", d, 1, NULL);
    assert_int_equal(type_of(f, "colour"), KN_COL_CATEGORICAL);
    assert_true(kn_column_is_missing(kn_frame_col(f, 0), 1));
    kn_frame_free(f);
    const char *text = "{\"colour\": 5}\n";
    const char *path = test_write_file(".jsonl", text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.decls = d;
    o.n_decls = 1;
    KN_CHECK_FAILS(kn_frame_read(path, &o, &f, NULL), KN_ERR_TYPE, "column 'colour' is numeric");
    remove(path);
}

typedef struct seen {
    uint64_t rows[64];
    size_t n;
    int restarts;
} seen;

static void note(uint64_t data_row, void *user)
{
    seen *s = user;
    if (!data_row) {
        s->n = 0;
        s->restarts++;
        return;
    }
    if (s->n < 64) s->rows[s->n++] = data_row;
}

static void rejected(const char *suffix, const char *text, const char *option, seen *s,
                     size_t *kept)
{
    const char *path = test_write_file(suffix, text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    KN_CHECK(kn_param_set(kn_read_params(), &o, "on_bad_rows=skip"));
    if (option) KN_CHECK(kn_param_set(kn_read_params(), &o, option));
    o.on_reject = note;
    o.on_reject_user = s;
    memset(s, 0, sizeof *s);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    *kept = kn_frame_n_rows(f);
    kn_frame_free(f);
    remove(path);
}

/* Data rows (1 = the first after the header; blank lines and quoted
 * newlines do not count) of the rows set aside, in every reader. */
static void rejected_rows_are_numbered(void **state)
{
    (void)state;
    seen s;
    size_t kept;
    rejected(".csv", "a,b\n1,2\n3\n\n\"x\ny\",4\n5,6,7\n8,9\n", NULL, &s, &kept);
    assert_int_equal(kept, 3);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.rows[0], 2);
    assert_int_equal(s.rows[1], 4);
    /* many small blocks and threads: the numbers do not change */
    char text[40000];
    size_t n = (size_t)sprintf(text, "a,b\n");
    for (int i = 1; i <= 2000; i++)
        n += (size_t)sprintf(text + n, i % 250 == 0 ? "%d\n" : "%d,%d\n", i, i);
    rejected(".csv", text, "block_kib=1", &s, &kept);
    assert_int_equal(kept, 1992);
    assert_int_equal(s.n, 8);
    for (size_t i = 0; i < 8; i++) assert_int_equal(s.rows[i], 250 * (i + 1));
    /* a type promotion re-reads the file: the callback hears it start over */
    n = (size_t)sprintf(text, "a,b\n");
    for (int i = 1; i <= 30; i++) n += (size_t)sprintf(text + n, i == 3 ? "1\n" : "%d,%d\n", i, i);
    n += (size_t)sprintf(text + n, "zz,1\n");
    rejected(".csv", text, "sample_rows=5", &s, &kept);
    assert_true(s.restarts >= 2);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.rows[0], 3);
    rejected(".jsonl", "{\"a\": 1}\n\n[1]\n{\"a\": 2}\nnope\n", NULL, &s, &kept);
    assert_int_equal(kept, 2);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.rows[0], 2);
    assert_int_equal(s.rows[1], 4);
    rejected(".libsvm", "1 1:2\n1 x:2\n0 2:1\n", NULL, &s, &kept);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.rows[0], 2);
}

static void same_file_by_inode(void **state)
{
    (void)state;
    const char *p = test_write_file(".csv", "a\n1\n", 4);
    char dotted[300], link[300];
    snprintf(dotted, sizeof dotted, "/tmp/./%s", p + 5);
    snprintf(link, sizeof link, "%s.link", p);
    remove(link);
    assert_int_equal(symlink(p, link), 0);
    assert_true(kn_same_file(p, p));
    assert_true(kn_same_file(dotted, p));
    assert_true(kn_same_file(link, p));
    assert_false(kn_same_file("-", p));
    assert_false(kn_same_file(p, "/tmp/kiln-no-such-file.csv"));
    assert_false(kn_same_file(NULL, p));
    const char *other = test_write_file(".csv", "a\n1\n", 4);
    assert_false(kn_same_file(other, p));
    /* a quarantine file that is the input would truncate it before the read */
    kn_read_opts o;
    kn_read_opts_default(&o);
    char q[320];
    snprintf(q, sizeof q, "quarantine=%s", link);
    KN_CHECK(kn_param_set(kn_read_params(), &o, "on_bad_rows=quarantine"));
    KN_CHECK(kn_param_set(kn_read_params(), &o, q));
    kn_frame *f = NULL;
    KN_CHECK_FAILS(kn_frame_read(p, &o, &f, NULL), KN_ERR_INVALID, "is the input");
    FILE *fp = fopen(p, "rb");
    char buf[8] = {0};
    assert_int_equal(fread(buf, 1, sizeof buf, fp), 4);
    fclose(fp);
    remove(link);
    remove(p);
    remove(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_reads_with_declared_types),
        cmocka_unit_test(csv_declared_value_that_does_not_parse_is_a_bad_row),
        cmocka_unit_test(jsonl_conforms_empty_columns_only),
        cmocka_unit_test(rejected_rows_are_numbered),
        cmocka_unit_test(same_file_by_inode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
