/* data: missing tokens in CSV text columns. A frequent token stays a level
 * (in first-appearance order, whatever the thread count), a rare one or one
 * the file uses in a number column is missing, quoted tokens are text, and
 * the report counts what each token did per column. */
#include "read_util.h"
#include "kiln/mem.h"

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

/* Settings recorded at training (kn_read_settings_format) and replayed on new
 * data: a token that was a level of a text column is one in a file where it
 * is rare, and one that was missing is missing where it is frequent; the
 * names are escaped (a tab and a % in a column's name); given settings stay;
 * a thing recorded before settings were reads with the old list. */
static void levels_as_at_training(void **state)
{
    (void)state;
    kn_read_report rep;
    /* training: status keeps None (10 cells of 40); "n/a" is missing there */
    char train[8192];
    size_t n = (size_t)snprintf(train, sizeof train, "status,\"a\tb%%\",x\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(train + n, sizeof train - n, "%s,%s,1\n",
                              i % 4 == 1 ? "None" : (i == 6 ? "n/a" : "b"), i % 4 ? "u" : "NA");
    kn_frame *f = read_with(train, 1, KN_MISSING_IN_TEXT_AUTO, "", &rep);
    kn_read_opts o;
    kn_read_opts_default(&o);
    char *text = NULL;
    size_t len = 0;
    KN_CHECK(kn_read_settings_format(&o, f, &text, &len));
    kn_frame_free(f);
    assert_non_null(strstr(text, "token_levels=listed\n"));
    assert_non_null(strstr(text, "level=None\tstatus\n"));
    assert_non_null(strstr(text, "level=NA\ta%09b%25\n"));
    assert_null(strstr(text, "level=n/a"));
    /* new data: None once (rare), n/a in 20 of 40 rows (frequent) */
    char fresh[8192];
    n = (size_t)snprintf(fresh, sizeof fresh, "status,\"a\tb%%\",x\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(fresh + n, sizeof fresh - n, "%s,%s,1\n",
                              i == 3 ? "None" : (i % 2 ? "n/a" : "b"), i == 7 ? "NA" : "u");
    const char *path = test_write_file(".csv", fresh, strlen(fresh));
    kn_read_settings rs = {text, len};
    for (int threads = 1; threads <= 3; threads += 2) {
        kn_read_opts_default(&o);
        o.threads = threads;
        o.block_kib = 1;
        KN_CHECK(kn_read_settings_apply(&rs, &o, 0));
        assert_non_null(o.token_is_level);
        KN_CHECK(kn_frame_read(path, &o, &f, &rep));
        kn_column *st = kn_frame_col(f, 0), *ab = kn_frame_col(f, 1);
        size_t l;
        assert_string_equal(kn_column_level(st, kn_column_codes(st)[3], &l), "None");
        assert_int_equal(kn_column_codes(st)[1], -1); /* n/a: missing, however often */
        assert_string_equal(kn_column_name(ab), "a\tb%");
        assert_string_equal(kn_column_level(ab, kn_column_codes(ab)[7], &l), "NA");
        kn_frame_free(f);
    }
    remove(path);
    /* a setting the caller gave stays; the others are the recorded ones */
    kn_read_opts_default(&o);
    KN_CHECK(kn_param_set(kn_read_params(), &o, "missing_in_text=always"));
    uint64_t given = kn_read_settings_given(&o);
    KN_CHECK(kn_param_set(kn_read_params(), &o, "delimiter=;"));
    KN_CHECK(kn_read_settings_apply(&rs, &o, given));
    assert_int_equal(o.missing_in_text, KN_MISSING_IN_TEXT_ALWAYS);
    assert_int_equal(o.delimiter, 0); /* recorded: auto */
    /* recorded before settings were: the old missing list */
    kn_read_opts_default(&o);
    KN_CHECK(kn_read_settings_apply(NULL, &o, 0));
    assert_string_equal(o.missing, KN_READ_MISSING_V1);
    assert_null(o.token_is_level);
    kn_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frequent_token_is_a_level),
        cmocka_unit_test(told_otherwise),
        cmocka_unit_test(rare_or_marker_token_is_missing),
        cmocka_unit_test(levels_as_at_training),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
