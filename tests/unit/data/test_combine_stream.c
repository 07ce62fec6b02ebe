/* data: group-by and joins over a batch reader (kn_reader_group_by,
 * kn_file_group_by_spill, kn_join_table, kn_reader_join) against the
 * in-memory functions on the whole frame, on lending_club read in small
 * odd-sized batches, so groups, dictionaries and the direct index grow
 * across many batches: the same bytes, the same dictionaries, the same
 * reports. */
#include "read_util.h"

#include "kiln/combine.h"
#include "kiln/reader.h"

#include <stdlib.h>

static char *lc_path(void)
{
    static char path[1024];
    const char *dir = getenv("KILN_TEST_DATA");
    snprintf(path, sizeof path, "%s/lending_club.csv", dir ? dir : "tests/data");
    return path;
}

/* f written as CSV, as bytes (free with free()). */
static char *csv_bytes(const kn_frame *f)
{
    const char *path = test_write_file(".csv", "", 0);
    KN_CHECK(kn_frame_write(f, path, NULL));
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    b[n] = 0;
    fclose(fp);
    return b;
}

/* Same bytes, columns, types and dictionary sizes. */
static void assert_same(const kn_frame *a, const kn_frame *b)
{
    assert_int_equal(kn_frame_n_cols(a), kn_frame_n_cols(b));
    assert_int_equal(kn_frame_n_rows(a), kn_frame_n_rows(b));
    for (size_t j = 0; j < kn_frame_n_cols(a); j++) {
        kn_column *x = kn_frame_col((kn_frame *)a, j), *y = kn_frame_col((kn_frame *)b, j);
        assert_string_equal(kn_column_name(x), kn_column_name(y));
        assert_int_equal(kn_column_type(x), kn_column_type(y));
        if (kn_column_type(x) == KN_COL_CATEGORICAL)
            assert_int_equal(kn_column_n_levels(x), kn_column_n_levels(y));
    }
    char *p = csv_bytes(a), *q = csv_bytes(b);
    assert_string_equal(p, q);
    free(p);
    free(q);
}

static void group_by_batches_match_whole(void **state)
{
    (void)state;
    kn_frame *whole;
    KN_CHECK(kn_frame_read(lc_path(), NULL, &whole, NULL));
    kn_agg aggs[] = {{"n", KN_AGG_COUNT, NULL, NULL},
                     {"n_util", KN_AGG_COUNT, "revol_util", NULL},
                     {"n_grade", KN_AGG_COUNT, "sub_grade", NULL},
                     {"s", KN_AGG_SUM, "funded_amnt", NULL},
                     {"m", KN_AGG_MEAN, "int_rate", NULL},
                     {"lo", KN_AGG_MIN, "annual_inc", NULL},
                     {"hi", KN_AGG_MAX, "revol_util", NULL},
                     {"sd", KN_AGG_STD, "revol_util", NULL},
                     {"nu", KN_AGG_NUNIQUE, "sub_grade", NULL},
                     {"nu_rate", KN_AGG_NUNIQUE, "int_rate", NULL},
                     {"f", KN_AGG_FIRST, "emp_length", NULL},
                     {"l", KN_AGG_LAST, "sub_grade", "int_rate"},
                     {"fb", KN_AGG_FIRST, "revol_util", "annual_inc"}};
    /* a categorical key, two keys, a whole-number key (direct index), a
     * fractional key (hash table), a key with few values, a repeated key */
    const char *keys[][2] = {{"addr_state", NULL},  {"addr_state", "term"},
                             {"funded_amnt", NULL}, {"int_rate", NULL},
                             {"delinq_2yrs", NULL}, {"emp_length", "int_rate"},
                             {"term", "term"}}; /* (a repeated key column appears once) */
    size_t n_keys[] = {1, 2, 1, 1, 1, 2, 2};
    size_t batch[] = {1, 97, 1000};
    for (size_t k = 0; k < sizeof n_keys / sizeof *n_keys; k++) {
        kn_frame *want;
        size_t want_dropped, dropped;
        KN_CHECK(kn_frame_group_by(whole, keys[k], n_keys[k], aggs, 13, &want, &want_dropped));
        for (size_t b = 0; b < 3; b++) {
            if (batch[b] == 1 && k > 1) continue; /* (one-row batches: slow, two cases do) */
            kn_reader *rd;
            kn_frame *got;
            KN_CHECK(kn_reader_open(lc_path(), NULL, batch[b], &rd));
            KN_CHECK(kn_reader_group_by(rd, keys[k], n_keys[k], aggs, 13, &got, &dropped));
            kn_reader_close(rd);
            assert_same(got, want);
            assert_int_equal(dropped, want_dropped);
            kn_frame_free(got);
        }
        /* spilled: partitioned to files by key, each partition grouped */
        kn_frame *got;
        kn_read_report rep;
        KN_CHECK(kn_file_group_by_spill(lc_path(), NULL, keys[k], n_keys[k], aggs, 13, &got,
                                        &dropped, &rep));
        assert_same(got, want);
        assert_int_equal(dropped, want_dropped);
        assert_int_equal(rep.rows_kept, kn_frame_n_rows(whole));
        kn_frame_free(got);
        kn_frame_free(want);
    }
    /* the in-memory function's errors */
    kn_reader *rd;
    kn_frame *got;
    kn_agg bad[] = {{"s", KN_AGG_SUM, "sub_grade", NULL}};
    KN_CHECK(kn_reader_open(lc_path(), NULL, 100, &rd));
    KN_CHECK_FAILS(kn_reader_group_by(rd, keys[0], 1, bad, 1, &got, NULL), KN_ERR_TYPE,
                   "sum of 'sub_grade' needs a numeric column");
    kn_reader_close(rd);
    kn_frame_free(whole);
}

static void join_batches_match_whole(void **state)
{
    (void)state;
    kn_frame *whole;
    KN_CHECK(kn_frame_read(lc_path(), NULL, &whole, NULL));
    /* text keys (a repeated one, a missing one, one no row has), whole
     * numbers, numbers with a fraction */
    kn_frame *states = read_as(".csv", "state,pop,name\nCA,1.5,a\nNY,2,b\nCA,3,c\nZZ,4,d\n,5,e\n"
                                       "TX,6,f\nWA,7,g\n");
    kn_frame *amounts = read_as(".csv", "funded_amnt,band\n16100,x\n10000,y\n35000,z\n5000,w\n");
    kn_frame *rates = read_as(".csv", "int_rate,r\n13.99,p\n7,q\n10.99,s\n11.5,t\n");
    kn_frame *amounts_frac = read_as(".csv", "funded_amnt,band\n16100,x\n10000.5,y\n5000,w\n");
    struct {
        kn_frame *right;
        const char *lk, *rk;
    } cases[] = {{states, "addr_state", "state"},
                 {amounts, "funded_amnt", "funded_amnt"},
                 {rates, "int_rate", "int_rate"},
                 {amounts_frac, "funded_amnt", "funded_amnt"},
                 {states, "term", "state"}}; /* nothing matches */
    kn_join_kind kinds[] = {KN_JOIN_INNER, KN_JOIN_LEFT, KN_JOIN_SEMI, KN_JOIN_ANTI};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (size_t k = 0; k < 4; k++) {
            const char *lk[] = {cases[c].lk}, *rk[] = {cases[c].rk};
            kn_frame *want, *got;
            kn_join_report wr, gr;
            KN_CHECK(kn_frame_join(whole, cases[c].right, lk, rk, 1, kinds[k], &want, &wr));
            kn_reader *rd;
            kn_join_table *t;
            KN_CHECK(kn_reader_open(lc_path(), NULL, 333, &rd));
            KN_CHECK(
                kn_join_table_new(cases[c].right, rk, kn_reader_schema(rd), lk, 1, kinds[k], &t));
            KN_CHECK(kn_reader_join(rd, &t, 1, &got));
            kn_join_table_report(t, &gr);
            assert_same(got, want);
            assert_int_equal(gr.left_rows, wr.left_rows);
            assert_int_equal(gr.right_rows, wr.right_rows);
            assert_int_equal(gr.out_rows, wr.out_rows);
            assert_int_equal(gr.left_unmatched, wr.left_unmatched);
            assert_int_equal(gr.right_unmatched, wr.right_unmatched);
            assert_int_equal(gr.n_examples, wr.n_examples);
            for (size_t e = 0; e < gr.n_examples; e++)
                assert_string_equal(gr.examples[e], wr.examples[e]);
            kn_join_table_free(t);
            kn_reader_close(rd);
            kn_frame_free(want);
            kn_frame_free(got);
        }
    /* two joins in a chain: the second keys on a column the first added */
    kn_frame *bands = read_as(".csv", "band,weight\nx,1\ny,2\nz,3\n");
    const char *lk1[] = {"funded_amnt"}, *lk2[] = {"band"};
    kn_frame *mid, *want, *got, *schema1;
    KN_CHECK(kn_frame_join(whole, amounts, lk1, lk1, 1, KN_JOIN_LEFT, &mid, NULL));
    KN_CHECK(kn_frame_join(mid, bands, lk2, lk2, 1, KN_JOIN_INNER, &want, NULL));
    kn_reader *rd;
    kn_join_table *t[2];
    KN_CHECK(kn_reader_open(lc_path(), NULL, 500, &rd));
    KN_CHECK(kn_join_table_new(amounts, lk1, kn_reader_schema(rd), lk1, 1, KN_JOIN_LEFT, &t[0]));
    KN_CHECK(kn_join_table_probe(t[0], kn_reader_schema(rd), &schema1));
    KN_CHECK(kn_join_table_new(bands, lk2, schema1, lk2, 1, KN_JOIN_INNER, &t[1]));
    KN_CHECK(kn_reader_join(rd, t, 2, &got));
    assert_same(got, want);
    KN_CHECK_FAILS(kn_join_table_new(bands, lk2, schema1, lk2, 1, KN_JOIN_FULL, &t[0]),
                   KN_ERR_INVALID, "inner, left, semi or anti");
    kn_join_table_free(t[0]);
    kn_join_table_free(t[1]);
    kn_reader_close(rd);
    kn_frame_free(schema1);
    kn_frame_free(mid);
    kn_frame_free(want);
    kn_frame_free(got);
    kn_frame_free(bands);
    kn_frame_free(states);
    kn_frame_free(amounts);
    kn_frame_free(rates);
    kn_frame_free(amounts_frac);
    kn_frame_free(whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(group_by_batches_match_whole),
                                       cmocka_unit_test(join_batches_match_whole)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
