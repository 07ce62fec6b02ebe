/* prep: one-hot and ordinal encoders: sorted levels, missing values, unknown
 * levels at transform time (parity with scikit-learn on real data is
 * tests/integration/test_encoder_parity.sh). */
#include "prep_util.h"

#include <math.h>

static kn_step *fitted(const char *name, const char *set, kn_frame *train)
{
    kn_step *s;
    KN_CHECK(kn_step_new(name, &s));
    if (set) KN_CHECK(kn_step_set(s, set));
    KN_CHECK(kn_step_fit(s, train));
    return s;
}

static void onehot_layout_and_unknowns(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "x,c\n1,red\n2,blue\n3,\n");
    kn_frame *test = read_as(".csv", "x,c\n4,green\n5,blue\n");
    kn_step *s = fitted("onehot_encoder", NULL, train);
    kn_frame *o;
    KN_CHECK(kn_step_transform(s, train, &o));
    /* c replaced in place by c_blue, c_red (sorted), c_nan (missing seen at fit) */
    assert_int_equal(kn_frame_n_cols(o), 4);
    assert_string_equal(kn_column_name(kn_frame_col(o, 1)), "c_blue");
    assert_string_equal(kn_column_name(kn_frame_col(o, 3)), "c_nan");
    assert_true(cell(o, 2, 0) == 1 && cell(o, 1, 1) == 1 && cell(o, 3, 2) == 1 &&
                cell(o, 1, 2) == 0);
    kn_frame_free(o);
    KN_CHECK_FAILS(kn_step_transform(s, test, &o), KN_ERR_INVALID,
                   "onehot_encoder: column 'c', row 1: 'green' was not seen at fit time");
    kn_step_free(s);
    s = fitted("onehot_encoder", "handle_unknown=ignore", train);
    KN_CHECK(kn_step_transform(s, test, &o));
    assert_true(cell(o, 1, 0) == 0 && cell(o, 2, 0) == 0 && cell(o, 3, 0) == 0);
    assert_true(cell(o, 1, 1) == 1);
    kn_frame_free(o);
    kn_step_free(s);
    kn_frame_free(train);
    kn_frame_free(test);
}

static void ordinal_codes_and_unknowns(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "c\nm\ns\nl\n\n");
    kn_frame *test = read_as(".csv", "c\nxl\ns\n");
    kn_step *s = fitted("ordinal_encoder", NULL, train);
    kn_frame *o;
    KN_CHECK(kn_step_transform(s, train, &o));
    assert_int_equal(kn_column_type(kn_frame_col(o, 0)), KN_COL_NUMERIC);
    assert_string_equal(kn_column_name(kn_frame_col(o, 0)), "c");
    assert_true(cell(o, 0, 0) == 1 && cell(o, 0, 1) == 2 && cell(o, 0, 2) == 0); /* l, m, s */
    kn_frame_free(o);
    o = NULL;
    KN_CHECK_FAILS(kn_step_transform(s, test, &o), KN_ERR_INVALID, "'xl' was not seen at fit time");
    kn_step_free(s);
    s = fitted("ordinal_encoder", "handle_unknown=use_encoded_value", train);
    KN_CHECK(kn_step_transform(s, test, &o));
    assert_true(cell(o, 0, 0) == -1 && cell(o, 0, 1) == 2);
    kn_frame_free(o);
    kn_step_free(s);
    KN_CHECK(kn_step_new("onehot_encoder", &s));
    KN_CHECK(kn_step_set(s, "columns=c"));
    kn_frame *num = read_as(".csv", "c\n1\n2\n");
    KN_CHECK_FAILS(kn_step_fit(s, num), KN_ERR_TYPE, "encoders take categorical columns");
    kn_step_free(s);
    kn_frame_free(num);
    kn_frame_free(train);
    kn_frame_free(test);
}

/* compact one-hot: one coded column that expands (and writes) exactly like the dense form */
static void onehot_compact_expands_to_dense(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "g,x\nb,1\na,2\n,3\nb,4\n");
    kn_frame *test = read_as(".csv", "g,x\nc,1\na,2\n,3\n");
    const char *dense[] = {"handle_unknown=ignore", NULL};
    const char *compact[] = {"handle_unknown=ignore", "compact=compact", NULL};
    kn_step *sd, *sc;
    KN_CHECK(kn_step_new("onehot_encoder", &sd));
    KN_CHECK(kn_step_new("onehot_encoder", &sc));
    for (int i = 0; dense[i]; i++) KN_CHECK(kn_step_set(sd, dense[i]));
    for (int i = 0; compact[i]; i++) KN_CHECK(kn_step_set(sc, compact[i]));
    KN_CHECK(kn_step_fit(sd, train));
    KN_CHECK(kn_step_fit(sc, train));
    kn_frame *d, *c, *wide;
    KN_CHECK(kn_step_transform(sd, test, &d));
    KN_CHECK(kn_step_transform(sc, test, &c));
    assert_int_equal(kn_frame_n_cols(c), 2);
    kn_column *g = kn_frame_col(c, 0);
    assert_int_equal(kn_column_encoding(g), KN_ENC_ONEHOT);
    assert_int_equal(kn_column_n_levels(g), 3);  /* a, b, nan */
    assert_int_equal(kn_column_codes(g)[0], -1); /* unknown 'c': all zeros */
    assert_true(kn_frame_has_onehot(c) && !kn_frame_has_onehot(d));
    KN_CHECK(kn_frame_expand_onehot(c, &wide));
    assert_true(frames_equal(wide, d)); /* g_a, g_b, g_nan, x */
    /* .kfr keeps the compact form */
    const char *path = "/tmp/kiln-test-onehot.kfr";
    KN_CHECK(kn_frame_write(c, path, NULL));
    kn_frame *back;
    KN_CHECK(kn_frame_read(path, NULL, &back, NULL));
    remove(path);
    assert_int_equal(kn_column_encoding(kn_frame_col(back, 0)), KN_ENC_ONEHOT);
    assert_true(frames_equal(back, c));
    KN_CHECK_FAILS(kn_column_set_encoding(kn_frame_col(back, 1), KN_ENC_ONEHOT), KN_ERR_TYPE,
                   "only categorical columns can be one-hot");
    kn_frame_free(back);
    kn_frame_free(wide);
    kn_frame_free(c);
    kn_frame_free(d);
    kn_step_free(sd);
    kn_step_free(sc);
    kn_frame_free(train);
    kn_frame_free(test);
}

/* MurmurHash3 of "term=term_36" is -476685805 (column 13 of 32, sign -), of
 * "addr_state=CT" 2121556141 (column 13, sign +): they cancel; a missing cell adds nothing. */
static void hashing_places_and_signs(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "term,addr_state,x\nterm_36,CT,1\nterm_36,,2\n");
    const char *set[] = {"n_features=32", NULL};
    kn_frame *o = fit_transform("hashing_encoder", set, f);
    assert_int_equal(kn_frame_n_cols(o), 33); /* hash0..hash31, x */
    assert_string_equal(kn_column_name(kn_frame_col(o, 13)), "hash13");
    assert_true(cell(o, 13, 0) == 0 && cell(o, 13, 1) == -1);
    double total = 0;
    for (size_t j = 0; j < 32; j++) total += fabs(cell(o, j, 0));
    assert_true(total == 0);
    assert_true(cell(o, 32, 1) == 2);
    kn_frame_free(o);
    const char *unsigned_set[] = {"n_features=32", "alternate_sign=false", NULL};
    o = fit_transform("hashing_encoder", unsigned_set, f);
    assert_true(cell(o, 13, 0) == 2);
    kn_frame_free(o);
    kn_frame_free(f);
}

/* prior 0.6; smoothing 2: a -> (2 + 1.2) / 5, b -> 1.2 / 3, c -> 2.2 / 3. With 5
 * folds of 5 rows each row is its own fold: it is encoded from the other four. */
static void target_encoding_out_of_fold(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "g,y\na,1\na,0\na,1\nb,0\nc,1\n");
    kn_frame *test = read_as(".csv", "g,y\na,\nb,\nc,\nd,\n,\n");
    kn_step *s;
    KN_CHECK(kn_step_new("target_encoder", &s));
    KN_CHECK_FAILS(kn_step_fit(s, train), KN_ERR_INVALID, "name the target column");
    KN_CHECK(kn_step_set(s, "target=y"));
    KN_CHECK(kn_step_set(s, "smoothing=2"));
    kn_frame *o;
    KN_CHECK(kn_step_fit_transform(s, train, &o));
    const double oof[] = {(1 + 2 * 0.5) / 4, (2 + 2 * 0.75) / 4, (1 + 2 * 0.5) / 4, 0.75, 0.5};
    for (size_t r = 0; r < 5; r++)
        if (fabs(cell(o, 0, r) - oof[r]) > 1e-15)
            fail_msg("row %zu: %g, want %g", r, cell(o, 0, r), oof[r]);
    kn_frame_free(o);
    kn_step *back = save_and_reload(s);
    const double want[] = {3.2 / 5, 1.2 / 3, 2.2 / 3, 0.6, 0.6};
    KN_CHECK(kn_step_transform(back, test, &o));
    assert_int_equal(kn_column_type(kn_frame_col(o, 0)), KN_COL_NUMERIC);
    for (size_t r = 0; r < 5; r++) assert_true(fabs(cell(o, 0, r) - want[r]) < 1e-15);
    kn_frame_free(o);
    kn_step_free(back);
    kn_step_free(s);
    kn_frame_free(train);
    kn_frame_free(test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(onehot_layout_and_unknowns),
        cmocka_unit_test(ordinal_codes_and_unknowns),
        cmocka_unit_test(onehot_compact_expands_to_dense),
        cmocka_unit_test(hashing_places_and_signs),
        cmocka_unit_test(target_encoding_out_of_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
