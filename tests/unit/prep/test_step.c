/* prep: the generic step contract: registry, parameters, column selection,
 * fit before transform, schema checks at transform time. */
#include "prep_util.h"

#include "kiln/mem.h"

#include <math.h>

static void unknown_step_and_parameter(void **state)
{
    (void)state;
    kn_step *s;
    KN_CHECK_FAILS(kn_step_new("nope_scaler", &s), KN_ERR_NOT_FOUND, "no step named 'nope_scaler'");
    KN_CHECK(kn_step_new("standard_scaler", &s));
    assert_string_equal(kn_step_name(s), "standard_scaler");
    KN_CHECK_FAILS(kn_step_set(s, "with_median=true"), KN_ERR_INVALID,
                   "step 'standard_scaler': unknown parameter 'with_median'");
    KN_CHECK_FAILS(kn_step_set(s, "with_mean=sometimes"), KN_ERR_TYPE, "true or false");
    kn_step_free(s);
    kn_step_free(NULL);
}

static void transform_needs_fit_and_same_schema(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "a,b,c\n1,2,x\n3,4,y\n");
    kn_frame *other = read_as(".csv", "a,c\n1,x\n");
    kn_frame *retyped = read_as(".csv", "a,b,c\n1,q,x\n");
    kn_step *s;
    kn_frame *out = NULL;
    KN_CHECK(kn_step_new("minmax_scaler", &s));
    KN_CHECK_FAILS(kn_step_transform(s, train, &out), KN_ERR_INVALID, "is not fitted");
    KN_CHECK(kn_step_fit(s, train));
    assert_true(kn_step_is_fitted(s));
    KN_CHECK_FAILS(kn_step_transform(s, other, &out), KN_ERR_NOT_FOUND,
                   "fitted on column 'b', which the data to transform lacks");
    KN_CHECK_FAILS(kn_step_transform(s, retyped, &out), KN_ERR_TYPE,
                   "column 'b' was numeric at fit time but is categorical now");
    KN_CHECK(kn_step_set(s, "max=2")); /* a new parameter unfits */
    assert_false(kn_step_is_fitted(s));
    kn_step_free(s);
    kn_frame_free(train);
    kn_frame_free(other);
    kn_frame_free(retyped);
}

static void column_selection(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b,c,y\n1,10,x,0\n3,30,y,1\n");
    size_t j;
    KN_CHECK(kn_frame_find(f, "y", &j));
    kn_column_set_role(kn_frame_col(f, j), KN_ROLE_TARGET);
    /* default: numeric features only (not the target, not categorical) */
    kn_frame *out = fit_transform("maxabs_scaler", NULL, f);
    assert_true(cell(out, 0, 1) == 1 && cell(out, 1, 0) == 10.0 / 30);
    assert_true(cell(out, 3, 1) == 1); /* target untouched */
    kn_frame_free(out);
    const char *only_b[] = {"columns=b", NULL};
    out = fit_transform("maxabs_scaler", only_b, f);
    assert_true(cell(out, 0, 0) == 1 && cell(out, 1, 0) == 10.0 / 30);
    kn_frame_free(out);
    /* input frames are never modified */
    assert_true(cell(f, 0, 0) == 1);
    kn_step *s;
    KN_CHECK(kn_step_new("maxabs_scaler", &s));
    KN_CHECK(kn_step_set(s, "columns=b,zz"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_NOT_FOUND, "columns: no column named 'zz'");
    KN_CHECK(kn_step_set(s, "columns=c"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_TYPE, "column 'c' is categorical");
    KN_CHECK(kn_step_set(s, "columns=b,b"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_INVALID, "columns lists 'b' twice");
    KN_CHECK(kn_step_set(s, "columns=type:decimal"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_INVALID, "'type:decimal' names no type");
    /* selectors: by type and by pattern, with exclusions; the target is never picked */
    const char *sel[][2] = {{"type:numeric", "ab"},
                            {"type:numeric,-a", "b"},
                            {"match:^[ab]$", "ab"},
                            {"match:.,-match:^a", "bc"},
                            {"b,type:categorical", "bc"}};
    for (size_t k = 0; k < 5; k++) {
        char set[64];
        snprintf(set, sizeof set, "columns=%s", sel[k][0]);
        kn_step *d;
        KN_CHECK(kn_step_new("drop_constant", &d));
        KN_CHECK(kn_step_set(d, set));
        KN_CHECK(kn_step_set(d, "min_share=0.5")); /* every column is "constant" enough */
        KN_CHECK(kn_step_fit(d, f));
        kn_frame *o;
        KN_CHECK(kn_step_transform(d, f, &o));
        /* the columns left are those not selected */
        char left[8] = "", *w = left;
        for (size_t c = 0; c < kn_frame_n_cols(o); c++)
            *w++ = kn_column_name(kn_frame_col(o, c))[0];
        *w = '\0';
        char want[8] = "", *q = want;
        for (const char *x = "abcy"; *x; x++)
            if (!strchr(sel[k][1], *x)) *q++ = *x;
        *q = '\0';
        if (strcmp(left, want)) fail_msg("%s: left %s, want %s", sel[k][0], left, want);
        kn_frame_free(o);
        kn_step_free(d);
    }
    kn_step_free(s);
    kn_frame_free(f);
}

/* Fit on train, save, load, transform new data: identical to the in-memory steps. */
static void save_load_replays_exactly(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "a,b,c\n1,10,x\n,20,y\n3,,x\n7,40,\n");
    kn_frame *test = read_as(".csv", "a,b,c\n5,,y\n,15,z\n2,25,x\n");
    const char *specs[][3] = {{"simple_imputer", "strategy=median", "add_indicator=true"},
                              {"power_transformer", NULL, NULL},
                              {"robust_scaler", "q_low=10", "q_high=90"},
                              {"onehot_encoder", "handle_unknown=ignore", NULL},
                              {"standard_scaler", NULL, NULL},
                              {"pca", "columns=a,b", "n_components=1"}};
    kn_step *steps[6];
    kn_frame *f = train;
    for (int k = 0; k < 6; k++) {
        KN_CHECK(kn_step_new(specs[k][0], &steps[k]));
        for (int p = 1; p < 3 && specs[k][p]; p++) KN_CHECK(kn_step_set(steps[k], specs[k][p]));
        KN_CHECK(kn_step_fit(steps[k], f));
        kn_frame *g;
        KN_CHECK(kn_step_transform(steps[k], f, &g));
        if (f != train) kn_frame_free(f);
        f = g;
    }
    kn_frame_free(f);
    const char *path = "/tmp/kiln-test-steps.kst";
    KN_CHECK(kn_steps_save(steps, 6, path));
    kn_step **loaded;
    size_t n;
    KN_CHECK(kn_steps_load(path, &loaded, &n));
    assert_int_equal(n, 6);
    kn_frame *x = test, *y = test;
    for (int k = 0; k < 6; k++) {
        kn_frame *gx, *gy;
        KN_CHECK(kn_step_transform(steps[k], x, &gx));
        KN_CHECK(kn_step_transform(loaded[k], y, &gy));
        if (x != test) kn_frame_free(x);
        if (y != test) kn_frame_free(y);
        x = gx;
        y = gy;
    }
    assert_true(frames_equal(x, y));
    /* pc1 (from a, b), c_x, c_y, c_nan, a_missing, b_missing */
    assert_int_equal(kn_frame_n_cols(x), 6);
    assert_string_equal(kn_column_name(kn_frame_col(x, 0)), "pc1");
    kn_frame_free(x);
    kn_frame_free(y);
    for (int k = 0; k < 6; k++) {
        kn_step_free(steps[k]);
        kn_step_free(loaded[k]);
    }
    kn_free(loaded);
    /* damage: one flipped byte, or a cut file, is a clear error */
    FILE *fp = fopen(path, "rb");
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    buf[len / 2] ^= 4;
    const char *bad = test_write_file(".kst", buf, len);
    KN_CHECK_FAILS(kn_steps_load(bad, &loaded, &n), KN_ERR_CORRUPT, "checksum mismatch");
    buf[len / 2] ^= 4;
    bad = test_write_file(".kst", buf, len - 9);
    KN_CHECK_FAILS(kn_steps_load(bad, &loaded, &n), KN_ERR_CORRUPT, "truncated");
    remove(path);
    kn_frame_free(train);
    kn_frame_free(test);
}

/* Columns entirely missing at transform time, as documented in step.h. */
static void all_missing_columns_at_transform(void **state)
{
    (void)state;
    kn_frame *train = read_as(".csv", "a,c\n1,x\n3,y\n");
    kn_frame *empty = read_as(".csv", "a,c\n,\n,\n");
    const char *specs[][2] = {{"simple_imputer", NULL},
                              {"standard_scaler", NULL},
                              {"onehot_encoder", "handle_unknown=ignore"}};
    for (int k = 0; k < 3; k++) {
        kn_step *s;
        KN_CHECK(kn_step_new(specs[k][0], &s));
        if (specs[k][1]) KN_CHECK(kn_step_set(s, specs[k][1]));
        KN_CHECK(kn_step_fit(s, train));
        kn_frame *o;
        KN_CHECK(kn_step_transform(s, empty, &o));
        if (k == 0) assert_true(cell(o, 0, 0) == 2 && cell(o, 0, 1) == 2); /* the fitted mean */
        if (k == 1) assert_true(isnan(cell(o, 0, 0)));
        if (k == 2) {
            assert_int_equal(kn_frame_n_cols(o), 3); /* a, c_x, c_y */
            assert_true(cell(o, 1, 0) == 0 && cell(o, 2, 1) == 0);
        }
        kn_frame_free(o);
        kn_step_free(s);
    }
    kn_frame_free(train);
    kn_frame_free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_missing_columns_at_transform),
        cmocka_unit_test(unknown_step_and_parameter),
        cmocka_unit_test(transform_needs_fit_and_same_schema),
        cmocka_unit_test(column_selection),
        cmocka_unit_test(save_load_replays_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
