/* The pipeline object (kiln/pipeline.h) on real data (cps1985: wages with
 * text columns): fit/predict equal the steps and model run by hand, one raw
 * row predicts as its frame does, errors name the column, and a pipeline
 * of steps only transforms. */
#include "test_util.h"

#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"

#include <math.h>

static kn_frame *read_data(const char *name)
{
    char path[512];
    const char *dir = getenv("KILN_TEST_DATA");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    kn_read_opts o;
    kn_read_opts_default(&o);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    return f;
}

static const char *const steps[] = {
    "onehot_encoder:columns=ethnicity,region,gender,occupation,sector,union,married",
    "standard_scaler"};

static kn_pipeline *wage_pipeline(const char *model, const char *param)
{
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    for (size_t i = 0; i < 2; i++) KN_CHECK(kn_pipeline_add_step_spec(p, steps[i]));
    KN_CHECK(kn_pipeline_set_model_spec(p, model, param ? &param : NULL, param ? 1 : 0));
    return p;
}

/* Steps and model fitted by hand give the same predictions, bit for bit. */
static void test_fit_predict_matches_parts(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    kn_pipeline *p = wage_pipeline("ridge", "alpha=1");
    KN_CHECK(kn_pipeline_set_target(p, "wage", NULL));
    kn_frame *prepared = NULL;
    KN_CHECK(kn_pipeline_fit(p, f, &prepared));
    assert_true(kn_pipeline_is_fitted(p));
    assert_int_equal(kn_pipeline_n_steps(p), 2);
    assert_non_null(kn_pipeline_input(p));
    assert_string_equal(kn_pipeline_input(p)->target, "wage");
    assert_int_equal(kn_pipeline_input(p)->n_cols, kn_frame_n_cols(f));

    /* by hand: mark the target, fit each step, fit the model */
    kn_frame *g = NULL, *h = NULL, *marked = NULL;
    KN_CHECK(kn_frame_copy(f, &marked));
    size_t j;
    KN_CHECK(kn_frame_find(marked, "wage", &j));
    kn_column_set_role(kn_frame_col(marked, j), KN_ROLE_TARGET);
    kn_step *a = NULL, *b = NULL;
    KN_CHECK(kn_step_from_spec(steps[0], &a));
    KN_CHECK(kn_step_from_spec(steps[1], &b));
    KN_CHECK(kn_step_fit_transform(a, marked, &g));
    KN_CHECK(kn_step_fit_transform(b, g, &h));
    assert_int_equal(kn_frame_n_cols(h), kn_frame_n_cols(prepared));
    kn_model *m = NULL;
    KN_CHECK(kn_model_new("ridge", &m));
    KN_CHECK(kn_model_set(m, "alpha=1"));
    KN_CHECK(kn_model_fit(m, h, "wage", NULL));

    double *want = NULL, *got = NULL;
    size_t n_want = 0, n_got = 0;
    KN_CHECK(kn_model_predict(m, h, &want, &n_want));
    KN_CHECK(kn_pipeline_predict(p, f, &got, &n_got));
    assert_int_equal(n_got, n_want);
    assert_int_equal(n_got, kn_frame_n_rows(f));
    assert_memory_equal(got, want, n_got * sizeof *got);

    /* scoring goes through the steps too */
    kn_scores sc;
    KN_CHECK(kn_pipeline_score(p, f, NULL, &sc));
    int r2 = kn_scores_find(&sc, "r2");
    assert_true(r2 >= 0);
    assert_true(sc.value[r2] > 0.2 && sc.value[r2] < 0.5); /* wages are noisy */
    kn_scores_free(&sc);

    kn_free(want);
    kn_free(got);
    kn_model_free(m);
    kn_step_free(a);
    kn_step_free(b);
    kn_frame_free(g);
    kn_frame_free(h);
    kn_frame_free(marked);
    kn_frame_free(prepared);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

/* Row i of the CSV as text, column by column. */
static void row_text(const kn_frame *f, size_t i, const char **names, char (*cells)[64],
                     const char **values)
{
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *c = kn_frame_col(f, j);
        names[j] = kn_column_name(c);
        if (kn_column_type(c) == KN_COL_NUMERIC)
            snprintf(cells[j], 64, "%.17g", kn_column_f64(c)[i]);
        else
            snprintf(cells[j], 64, "%s", kn_column_level(c, kn_column_codes(c)[i], NULL));
        values[j] = cells[j];
    }
}

/* A raw row predicts as its row of the frame, probabilities included. */
static void test_predict_row(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_step_spec(
        p, "onehot_encoder:columns=ethnicity,region,gender,occupation,sector,married;"
           "handle_unknown=ignore"));
    KN_CHECK(kn_pipeline_add_step_spec(p, "standard_scaler"));
    KN_CHECK(kn_pipeline_set_model_spec(p, "logistic_regression", NULL, 0));
    KN_CHECK(kn_pipeline_set_target(p, "union", NULL));
    KN_CHECK(kn_pipeline_fit(p, f, NULL));
    const kn_model *m = kn_pipeline_model(p);
    assert_int_equal(kn_model_n_classes(m), 2);
    double *pred = NULL, *proba = NULL;
    size_t n = 0;
    KN_CHECK(kn_pipeline_predict(p, f, &pred, &n));
    KN_CHECK(kn_pipeline_predict_proba(p, f, &proba, &n));
    size_t cols = kn_frame_n_cols(f);
    const char *names[16], *values[16];
    char cells[16][64];
    assert_true(cols <= 16);
    for (size_t i = 0; i < n; i += 37) {
        row_text(f, i, names, cells, values);
        double y = -1, pr[2];
        KN_CHECK(kn_pipeline_predict_row(p, names, values, cols, &y, pr));
        assert_true(y == pred[i]);
        assert_true(fabs(pr[0] - proba[2 * i]) < 1e-12);
        assert_true(fabs(pr[1] - proba[2 * i + 1]) < 1e-12);
    }
    /* without the target, columns in reverse order: the same prediction */
    row_text(f, 5, names, cells, values);
    const char *rn[16], *rv[16];
    size_t k = 0;
    for (size_t j = cols; j-- > 0;)
        if (strcmp(names[j], "union")) rn[k] = names[j], rv[k++] = values[j];
    double y = -1;
    KN_CHECK(kn_pipeline_predict_row(p, rn, rv, k, &y, NULL));
    assert_true(y == pred[5]);
    /* a value left out is missing: the model (no imputer here) names it */
    KN_CHECK_FAILS(kn_pipeline_predict_row(p, rn + 1, rv + 1, k - 1, &y, NULL), KN_ERR_INVALID,
                   rn[0]);
    /* errors name the column */
    const char *bad_name[1] = {"salary"}, *bad_value[1] = {"12"};
    KN_CHECK_FAILS(kn_pipeline_predict_row(p, bad_name, bad_value, 1, &y, NULL), KN_ERR_INVALID,
                   "'salary'");
    const char *age[1] = {"age"}, *word[1] = {"forty"};
    KN_CHECK_FAILS(kn_pipeline_predict_row(p, age, word, 1, &y, NULL), KN_ERR_PARSE,
                   "column 'age': 'forty'");
    kn_free(pred);
    kn_free(proba);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

/* Steps only: transform new data; predicting is refused. A step that fails
 * is named with its position. */
static void test_steps_only_and_errors(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_step_spec(p, "standard_scaler:columns=age,experience"));
    double *y = NULL;
    size_t n = 0;
    kn_frame *out = NULL;
    KN_CHECK_FAILS(kn_pipeline_transform(p, f, &out), KN_ERR_INVALID, "fit it first");
    KN_CHECK(kn_pipeline_fit(p, f, NULL));
    KN_CHECK(kn_pipeline_transform(p, f, &out));
    size_t j;
    KN_CHECK(kn_frame_find(out, "age", &j));
    double sum = 0;
    for (size_t i = 0; i < kn_frame_n_rows(out); i++) sum += kn_column_f64(kn_frame_col(out, j))[i];
    assert_true(fabs(sum) < 1e-9);
    KN_CHECK_FAILS(kn_pipeline_predict(p, f, &y, &n), KN_ERR_INVALID, "steps only");
    kn_frame_free(out);
    kn_pipeline_free(p);

    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_step_spec(p, "standard_scaler:columns=age"));
    KN_CHECK(kn_pipeline_add_step_spec(p, "standard_scaler:columns=region"));
    KN_CHECK(kn_pipeline_set_model_spec(p, "ridge", NULL, 0));
    KN_CHECK_FAILS(kn_pipeline_fit(p, f, NULL), KN_ERR_INVALID, "needs a target");
    KN_CHECK(kn_pipeline_set_target(p, "wage", NULL));
    kn_status e = kn_pipeline_fit(p, f, NULL);
    assert_int_not_equal(e, KN_OK);
    assert_non_null(strstr(kn_last_error(), "step 2: standard_scaler"));
    assert_false(kn_pipeline_is_fitted(p));
    kn_pipeline_free(p);
    kn_frame_free(f);
}

/* Encoding is deterministic and round-trips; clones fit and predict alike;
 * damaged encodings are errors, never crashes. */
static void test_encode_clone(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    kn_pipeline *p = wage_pipeline("gbdt", "n_estimators=25");
    KN_CHECK(kn_pipeline_set_target(p, "wage", NULL));
    unsigned char *buf = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    KN_CHECK_FAILS(kn_pipeline_encode(p, &buf, &len), KN_ERR_INVALID, "not fitted");
    kn_pipeline *fresh = NULL;
    KN_CHECK(kn_pipeline_clone(p, 0, &fresh)); /* before fit: the template */
    KN_CHECK(kn_pipeline_fit(p, f, NULL));
    KN_CHECK(kn_pipeline_encode(p, &buf, &len));
    KN_CHECK(kn_pipeline_encode(p, &again, &len2));
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);

    double *want = NULL, *got = NULL;
    size_t n = 0;
    KN_CHECK(kn_pipeline_predict(p, f, &want, &n));
    kn_pipeline *back = NULL, *copy = NULL;
    KN_CHECK(kn_pipeline_decode(buf, len, "test", &back));
    assert_true(kn_pipeline_is_fitted(back));
    assert_string_equal(kn_pipeline_target(back), "wage");
    KN_CHECK(kn_pipeline_predict(back, f, &got, &n));
    assert_memory_equal(got, want, n * sizeof *got);
    kn_free(got);
    /* a decoded pipeline encodes to the same bytes */
    kn_free(again);
    KN_CHECK(kn_pipeline_encode(back, &again, &len2));
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);
    /* fitted clone: same predictions; unfitted clone fitted anew: same too */
    KN_CHECK(kn_pipeline_clone(p, 1, &copy));
    KN_CHECK(kn_pipeline_predict(copy, f, &got, &n));
    assert_memory_equal(got, want, n * sizeof *got);
    kn_free(got);
    assert_false(kn_pipeline_is_fitted(fresh));
    KN_CHECK(kn_pipeline_fit(fresh, f, NULL));
    KN_CHECK(kn_pipeline_predict(fresh, f, &got, &n));
    assert_memory_equal(got, want, n * sizeof *got);
    kn_free(got);
    /* every truncation and a flipped count fail cleanly */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 16) {
        kn_pipeline *bad = NULL;
        assert_int_not_equal(kn_pipeline_decode(buf, cut, "cut", &bad), KN_OK);
        assert_null(bad);
    }
    kn_pipeline *bad = NULL;
    buf[0] = 9; /* a newer format */
    KN_CHECK_FAILS(kn_pipeline_decode(buf, len, "newer", &bad), KN_ERR_VERSION, "newer");
    kn_free(want);
    kn_free(buf);
    kn_free(again);
    kn_pipeline_free(p);
    kn_pipeline_free(back);
    kn_pipeline_free(copy);
    kn_pipeline_free(fresh);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_predict_matches_parts),
        cmocka_unit_test(test_predict_row),
        cmocka_unit_test(test_steps_only_and_errors),
        cmocka_unit_test(test_encode_clone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
