/* data: missing tokens in CSV text columns. A frequent token stays a level
 * (in first-appearance order, whatever the thread count), a rare one or one
 * the file uses in a number column is missing, quoted tokens are text, and
 * the report counts what each token did per column. */
#include "read_util.h"

#include <stdio.h>

/* 40 rows: status "None" in every 4th (10 cells), "x" a number column with
 * one "null", "s" a string column (declared) with "NA" in 20 rows. */
static char *make_text(void)
{
    static char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "status,x,s\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s,%s,%s\n",
                              i % 4 == 1 ? "None" : (i % 2 ? "b" : "a"), i == 5 ? "null" : "1.5",
                              i % 2 ? "NA" : "\"NA\"");
    return text;
}

static kn_frame *read_with(const char *text, int threads, int always, const char *types,
                           kn_read_report *rep)
{
    const char *path = test_write_file(".csv", text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.threads = threads;
    o.block_kib = 1;
    o.missing_in_text = always;
    o.types = types;
    kn_frame *f;
    KN_CHECK(kn_frame_read(path, &o, &f, rep));
    remove(path);
    return f;
}

static const kn_token_note *find_note(const kn_read_report *rep, const char *col, const char *tok)
{
    for (size_t i = 0; i < rep->n_token_notes; i++)
        if (!strcmp(rep->token_notes[i].column, col) && !strcmp(rep->token_notes[i].token, tok))
            return &rep->token_notes[i];
    fail_msg("no note for %s/%s", col, tok);
    return NULL;
}

static void frequent_token_is_a_level(void **state)
{
    (void)state;
    const char *text = make_text();
    for (int threads = 1; threads <= 3; threads++) {
        kn_read_report rep;
        kn_frame *f = read_with(text, threads, KN_MISSING_IN_TEXT_AUTO, "s:string", &rep);
        kn_column *status = kn_frame_col(f, 0), *s = kn_frame_col(f, 2);
        assert_int_equal(kn_column_n_levels(status), 3);
        size_t len;
        /* first-appearance order: a (row 0), None (row 1), b (row 3) */
        assert_string_equal(kn_column_level(status, 0, &len), "a");
        assert_string_equal(kn_column_level(status, 1, &len), "None");
        assert_string_equal(kn_column_level(status, 2, &len), "b");
        assert_int_equal(kn_column_codes(status)[1], 1);
        assert_int_equal(kn_column_codes(status)[3], 2);
        const kn_token_note *n = find_note(&rep, "status", "None");
        assert_true(n->kept && n->cells == 10);
        n = find_note(&rep, "x", "null");
        assert_true(!n->kept && n->cells == 1);
        /* "s": 20 unquoted NA (half the cells) stay text; quoted ones always were */
        n = find_note(&rep, "s", "NA");
        assert_true(n->kept && n->cells == 20);
        for (size_t i = 0; i < 40; i++) {
            const char *t = kn_column_str(s, i, &len);
            assert_non_null(t);
            assert_memory_equal(t, "NA", 2);
        }
        assert_int_equal(rep.n_token_notes, 3);
        kn_frame_free(f);
    }
}

static void told_otherwise(void **state)
{
    (void)state;
    kn_read_report rep;
    kn_frame *f = read_with(make_text(), 2, KN_MISSING_IN_TEXT_ALWAYS, "s:string", &rep);
    kn_column *status = kn_frame_col(f, 0), *s = kn_frame_col(f, 2);
    assert_int_equal(kn_column_n_levels(status), 2);
    assert_true(kn_column_is_missing(status, 1));
    assert_true(kn_column_is_missing(s, 1));  /* unquoted NA */
    assert_false(kn_column_is_missing(s, 0)); /* quoted "NA" is text */
    assert_false(find_note(&rep, "status", "None")->kept);
    kn_frame_free(f);
}

static void rare_or_marker_token_is_missing(void **state)
{
    (void)state;
    /* "None" is 1 of 50 cells in "a" (below 10 cells), and "NA" marks missing in "n" */
    char text[4096];
    size_t k = (size_t)snprintf(text, sizeof text, "a,b,n\n");
    for (int i = 0; i < 50; i++)
        k += (size_t)snprintf(text + k, sizeof text - k, "%s,%s,%s\n", i == 3 ? "None" : "x",
                              i % 2 ? "NA" : "y", i % 10 ? "1" : "NA");
    kn_read_report rep;
    kn_frame *f = read_with(text, 1, KN_MISSING_IN_TEXT_AUTO, "", &rep);
    assert_true(kn_column_is_missing(kn_frame_col(f, 0), 3));
    assert_true(kn_column_is_missing(kn_frame_col(f, 1), 1));
    assert_int_equal(kn_column_n_levels(kn_frame_col(f, 1)), 1);
    assert_false(find_note(&rep, "a", "None")->kept);
    assert_false(find_note(&rep, "b", "NA")->kept);
    assert_int_equal(find_note(&rep, "n", "NA")->cells, 5);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frequent_token_is_a_level),
        cmocka_unit_test(told_otherwise),
        cmocka_unit_test(rare_or_marker_token_is_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
