/* data: joins (type reconciliation, unmatched keys), union with aligned
 * columns, group-by aggregations, and SQLite sources on a real database file. */
#include "read_util.h"

#include "kiln/combine.h"
#include "kiln/source.h"

#include <math.h>
#include <sqlite3.h>
#include <unistd.h>

static double num(kn_frame *f, const char *col, size_t r)
{
    size_t j;
    KN_CHECK(kn_frame_find(f, col, &j));
    return kn_column_f64(kn_frame_col(f, j))[r];
}

static const char *text(kn_frame *f, const char *col, size_t r)
{
    size_t j;
    KN_CHECK(kn_frame_find(f, col, &j));
    kn_column *c = kn_frame_col(f, j);
    int32_t code = kn_column_codes(c)[r];
    return code < 0 ? NULL : kn_column_level(c, code, NULL);
}

static void join_matches_across_types(void **state)
{
    (void)state;
    /* left key numeric, right key text ("2.0" matches 2); "x" has a missing id */
    kn_frame *l = read_as(".csv", "id,v\n1,a\n2,b\n3,c\n2,d\n,e\n");
    kn_frame *r = read_as(".csv", "cid,v,w\nk1,r1,10\n2.0,r2,20\n1,r3,30\n1,r4,40\n");
    size_t j;
    KN_CHECK(kn_frame_find(r, "cid", &j));
    assert_int_equal(kn_column_type(kn_frame_col(r, j)), KN_COL_CATEGORICAL);
    const char *lk[] = {"id"}, *rk[] = {"cid"};
    kn_frame *o;
    kn_join_report rep;
    KN_CHECK(kn_frame_join(l, r, lk, rk, 1, KN_JOIN_LEFT, &o, &rep));
    /* 1 -> r3, r4; 2 -> r2; 3 -> none; 2 -> r2; missing -> none */
    assert_int_equal(kn_frame_n_rows(o), 6);
    assert_int_equal(kn_frame_n_cols(o), 4); /* id, v, v_right, w */
    assert_string_equal(text(o, "v_right", 0), "r3");
    assert_string_equal(text(o, "v_right", 1), "r4");
    assert_true(num(o, "w", 2) == 20);
    assert_null(text(o, "v_right", 3));
    assert_true(isnan(num(o, "w", 3)));
    assert_int_equal(rep.left_unmatched, 2);
    assert_int_equal(rep.right_unmatched, 1); /* k1 */
    assert_int_equal(rep.n_examples, 1);
    assert_string_equal(rep.examples[0], "3");
    kn_frame_free(o);
    KN_CHECK(kn_frame_join(l, r, lk, rk, 1, KN_JOIN_INNER, &o, &rep));
    assert_int_equal(kn_frame_n_rows(o), 4);
    assert_int_equal(rep.out_rows, 4);
    kn_frame_free(o);
    const char *bad[] = {"nope"};
    KN_CHECK_FAILS(kn_frame_join(l, r, bad, rk, 1, KN_JOIN_LEFT, &o, NULL), KN_ERR_NOT_FOUND,
                   "join: left key: ");
    kn_frame_free(l);
    kn_frame_free(r);
}

static void union_aligns_columns(void **state)
{
    (void)state;
    kn_frame *a = read_as(".csv", "x,g\n1,p\n2,q\n");
    kn_frame *b = read_as(".csv", "g,y\nr,5\n");
    KN_CHECK(kn_frame_append_aligned(a, b));
    assert_int_equal(kn_frame_n_rows(a), 3);
    assert_int_equal(kn_frame_n_cols(a), 3);
    assert_true(isnan(num(a, "x", 2)) && num(a, "y", 2) == 5 && isnan(num(a, "y", 0)));
    assert_string_equal(text(a, "g", 2), "r");
    kn_frame *c = read_as(".csv", "x\nhello\n");
    KN_CHECK_FAILS(kn_frame_append_aligned(a, c), KN_ERR_TYPE,
                   "column 'x' is numeric in one source and categorical in the other");
    assert_int_equal(kn_frame_n_rows(a), 3);
    kn_frame_free(a);
    kn_frame_free(b);
    kn_frame_free(c);
}

static void group_by_aggregates(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "cust,amount,t,tag\n"
                                  "a,10,2024-01-03,x\nb,5,2024-01-01,y\na,,2024-01-05,x\n"
                                  "a,30,2024-01-02,z\n,7,2024-01-01,x\nb,1,2024-01-04,\n");
    const char *by[] = {"cust"};
    kn_agg aggs[] = {
        {"n", KN_AGG_COUNT, NULL, NULL},         {"n_amount", KN_AGG_COUNT, "amount", NULL},
        {"total", KN_AGG_SUM, "amount", NULL},   {"avg", KN_AGG_MEAN, "amount", NULL},
        {"lo", KN_AGG_MIN, "amount", NULL},      {"sd", KN_AGG_STD, "amount", NULL},
        {"tags", KN_AGG_NUNIQUE, "tag", NULL},   {"latest", KN_AGG_LAST, "amount", "t"},
        {"first_tag", KN_AGG_FIRST, "tag", "t"}, {"last_t", KN_AGG_MAX, "t", NULL}};
    kn_frame *o;
    size_t dropped;
    KN_CHECK(kn_frame_group_by(f, by, 1, aggs, 10, &o, &dropped));
    assert_int_equal(dropped, 1);
    assert_int_equal(kn_frame_n_rows(o), 2);
    assert_string_equal(text(o, "cust", 0), "a");
    assert_true(num(o, "n", 0) == 3 && num(o, "n_amount", 0) == 2 && num(o, "total", 0) == 40);
    assert_true(num(o, "avg", 0) == 20 && num(o, "lo", 0) == 10);
    assert_true(fabs(num(o, "sd", 0) - sqrt(200)) < 1e-12);
    assert_true(num(o, "tags", 0) == 2 && num(o, "tags", 1) == 1);
    /* a's latest non-missing amount by t: 10 on 01-03 (01-05 has none) */
    assert_true(num(o, "latest", 0) == 10 && num(o, "latest", 1) == 1);
    assert_string_equal(text(o, "first_tag", 0), "z");
    assert_true(isnan(num(o, "sd", 1)) == 0 && num(o, "n", 1) == 2);
    size_t j;
    KN_CHECK(kn_frame_find(o, "last_t", &j));
    assert_int_equal(kn_column_type(kn_frame_col(o, j)), KN_COL_TIMESTAMP);
    kn_frame_free(o);
    kn_agg bad = {"s", KN_AGG_SUM, "tag", NULL};
    KN_CHECK_FAILS(kn_frame_group_by(f, by, 1, &bad, 1, &o, NULL), KN_ERR_TYPE,
                   "sum of 'tag' needs a numeric column");
    kn_frame_free(f);
}

static void sqlite_source_types(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-test-%d.db", (int)getpid());
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t(id INTEGER, name TEXT, born DATE, score REAL, x);"
                                  "INSERT INTO t VALUES(1, 'ann', '2001-02-03', 1.5, NULL);"
                                  "INSERT INTO t VALUES(2, NULL, NULL, NULL, 'late text');"
                                  "INSERT INTO t VALUES(3, 'bo', '2003-04-05T06:07:08Z', 2, 'z');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    kn_frame *f;
    KN_CHECK(kn_sqlite_query(path, "SELECT * FROM t ORDER BY id", &f));
    assert_int_equal(kn_frame_n_rows(f), 3);
    kn_col_type want[] = {KN_COL_NUMERIC, KN_COL_CATEGORICAL, KN_COL_TIMESTAMP, KN_COL_NUMERIC,
                          KN_COL_CATEGORICAL};
    for (size_t j = 0; j < 5; j++) assert_int_equal(kn_column_type(kn_frame_col(f, j)), want[j]);
    assert_true(num(f, "score", 0) == 1.5 && isnan(num(f, "score", 1)));
    assert_string_equal(text(f, "x", 1), "late text");
    assert_null(text(f, "x", 0));
    assert_true(kn_column_ts(kn_frame_col(f, 2))[0] == 981158400LL * 1000000);
    kn_frame_free(f);
    KN_CHECK_FAILS(kn_sqlite_query(path, "SELECT nope FROM t", &f), KN_ERR_INVALID,
                   "the query failed: no such column: nope");
    /* untyped expressions: the first non-null value decides */
    KN_CHECK(kn_sqlite_query(path, "SELECT 'abc' AS n UNION ALL SELECT 1", &f));
    assert_string_equal(text(f, "n", 1), "1");
    kn_frame_free(f);
    KN_CHECK_FAILS(kn_sqlite_query(path, "SELECT 1 AS n UNION ALL SELECT 'x1'", &f), KN_ERR_TYPE,
                   "column 'n', row 2: 'x1' is not a number; CAST the column");
    remove(path);
    KN_CHECK_FAILS(kn_sqlite_query("/nonexistent/x.db", "SELECT 1", &f), KN_ERR_IO,
                   "sqlite source /nonexistent/x.db: cannot open");
}

/* The word keys (codes, integers, double bits; direct index or hash) give
 * what the canonical text gives: the same join against a text key, and
 * groups by value (-0 with 0) in order of first appearance. */
static void word_keys_match_text_keys(void **state)
{
    (void)state;
    const char *csv[] = {"k,v\n3,1\n-0,2\n0,3\n1.5,4\n1e15,5\n3,6\n1.5,7\n,8\n1e15,9\n",
                         "k,v\n3,1\n-0,2\n0,3\n7,4\n1e15,5\n3,6\n7,7\n,8\n1e15,9\n",
                         "k,v\n3,1\n-0,2\n0,3\n7,4\n9,5\n3,6\n7,7\n,8\n9,9\n"};
    const char *by[] = {"k"};
    kn_agg sum = {"s", KN_AGG_SUM, "v", NULL};
    for (int i = 0; i < 3; i++) { /* double bits, integers hashed, integers direct */
        kn_frame *f = read_as(".csv", csv[i]), *g;
        size_t dropped;
        KN_CHECK(kn_frame_group_by(f, by, 1, &sum, 1, &g, &dropped));
        assert_int_equal(kn_frame_n_rows(g), 4);
        assert_int_equal(dropped, 1);
        double want[] = {7, 5, 11, 14};
        for (size_t r = 0; r < 4; r++) assert_true(num(g, "s", r) == want[r]);
        assert_true(num(g, "k", 1) == 0);
        /* joined with numeric keys (words) and with text keys (canonical text) */
        kn_frame *rn = read_as(".csv", "k,w\n0,10\n3,30\n1.5,15\n3,31\n");
        kn_frame *rt = read_as(".csv", "k,w\n0,10\n3,30\n1.5,15\n3,31\nzz,0\n");
        kn_frame *a, *b;
        kn_join_report ra, rb;
        KN_CHECK(kn_frame_join(f, rn, by, by, 1, KN_JOIN_LEFT, &a, &ra));
        KN_CHECK(kn_frame_join(f, rt, by, by, 1, KN_JOIN_LEFT, &b, &rb));
        assert_int_equal(kn_frame_n_rows(a), kn_frame_n_rows(b));
        assert_int_equal(ra.left_unmatched, rb.left_unmatched);
        assert_int_equal(ra.n_examples, rb.n_examples);
        for (size_t r = 0; r < kn_frame_n_rows(a); r++) {
            double x = num(a, "w", r), y = num(b, "w", r);
            assert_true(x == y || (isnan(x) && isnan(y)));
            assert_true(num(a, "v", r) == num(b, "v", r));
        }
        kn_frame_free(a);
        kn_frame_free(b);
        kn_frame_free(rn);
        kn_frame_free(rt);
        kn_frame_free(g);
        kn_frame_free(f);
    }
    /* categorical keys with different dictionaries meet by text */
    kn_frame *l = read_as(".csv", "k,v\na,1\nb,2\nc,3\na,4\n");
    kn_frame *r = read_as(".csv", "k,w\nc,30\nzz,0\na,10\n");
    kn_frame *o;
    kn_join_report rep;
    KN_CHECK(kn_frame_join(l, r, by, by, 1, KN_JOIN_SEMI, &o, &rep));
    assert_int_equal(kn_frame_n_rows(o), 3);
    assert_int_equal(kn_frame_n_cols(o), 2);
    assert_true(num(o, "v", 2) == 4);
    assert_int_equal(rep.right_unmatched, 1);
    assert_string_equal(rep.examples[0], "b");
    kn_frame_free(o);
    KN_CHECK(kn_frame_join(l, r, by, by, 1, KN_JOIN_INNER, &o, &rep));
    assert_int_equal(kn_frame_n_rows(o), 3);
    assert_true(num(o, "w", 1) == 30);
    kn_frame_free(o);
    kn_frame_free(l);
    kn_frame_free(r);
}

/* nunique groups by the keys and its column together: 64 key columns make
 * 65 word columns, which the word keys hold. */
static void nunique_over_64_keys(void **state)
{
    (void)state;
    char csv[2048];
    size_t used = 0;
    for (int j = 0; j < 64; j++) used += (size_t)snprintf(csv + used, sizeof csv - used, "c%d,", j);
    used += (size_t)snprintf(csv + used, sizeof csv - used, "v\n");
    int v[] = {1, 1, 1, 1, 4, 5};
    for (int r = 0; r < 6; r++) {
        for (int j = 0; j < 64; j++)
            used += (size_t)snprintf(csv + used, sizeof csv - used, "%d,", (r % 2) * (j + 1));
        used += (size_t)snprintf(csv + used, sizeof csv - used, "%d\n", v[r]);
    }
    kn_frame *f = read_as(".csv", csv), *g;
    char names[64][16];
    const char *by[64];
    for (int j = 0; j < 64; j++) {
        snprintf(names[j], sizeof names[j], "c%d", j);
        by[j] = names[j];
    }
    kn_agg nu = {"nu", KN_AGG_NUNIQUE, "v", NULL};
    KN_CHECK(kn_frame_group_by(f, by, 64, &nu, 1, &g, NULL));
    assert_int_equal(kn_frame_n_rows(g), 2);
    assert_true(num(g, "nu", 0) == 2 && num(g, "nu", 1) == 2); /* {1, 4} and {1, 5} */
    kn_frame_free(g);
    kn_frame_free(f);
}

/* The radix sort over word keys (categorical c) and the merge sort over
 * free text (string s, the same texts) give the same stable order. */
static void sort_radix_matches_merge(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "id,c,x\n0,b,1\n1,,2\n2,a,2\n3,b,1\n4,ab,\n5,a,3\n6,,2\n"
                                  "7,b,5\n8,a,\n9,ab,2\n");
    size_t jc;
    kn_column *sc;
    KN_CHECK(kn_frame_find(f, "c", &jc));
    KN_CHECK(kn_frame_add_column(f, "s", KN_COL_STRING, &sc));
    for (size_t r = 0; r < kn_frame_n_rows(f); r++) {
        const char *t = text(f, "c", r);
        if (t) KN_CHECK(kn_column_set_str(sc, r, t, strlen(t)));
    }
    static const size_t want[2][10] = {
        {1, 6, 8, 5, 2, 4, 9, 7, 0, 3},  /* nulls first: c ascending, x descending */
        {5, 2, 8, 9, 4, 7, 0, 3, 1, 6}}; /* nulls last */
    for (int nf = 0; nf < 2; nf++) {
        kn_sort_key byc[] = {{"c", 0}, {"x", 1}}, bys[] = {{"s", 0}, {"x", 1}};
        kn_frame *a, *b;
        KN_CHECK(kn_frame_sort(f, byc, 2, !nf, &a));
        KN_CHECK(kn_frame_sort(f, bys, 2, !nf, &b));
        for (size_t r = 0; r < 10; r++) {
            assert_true(num(a, "id", r) == (double)want[nf][r]);
            assert_true(num(b, "id", r) == (double)want[nf][r]);
        }
        kn_frame_free(a);
        kn_frame_free(b);
    }
    kn_frame *o;
    kn_sort_key bad[] = {{"nope", 0}};
    KN_CHECK_FAILS(kn_frame_sort(f, bad, 1, 0, &o), KN_ERR_NOT_FOUND, "sort: no column 'nope'");
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(join_matches_across_types), cmocka_unit_test(union_aligns_columns),
        cmocka_unit_test(group_by_aggregates),       cmocka_unit_test(word_keys_match_text_keys),
        cmocka_unit_test(sqlite_source_types),       cmocka_unit_test(sort_radix_matches_merge),
        cmocka_unit_test(nunique_over_64_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
