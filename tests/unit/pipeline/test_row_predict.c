/* The one-row predictor (kn_row_predict, kiln/pipeline.h) against the
 * frame path on real data: for each pipeline (every step with a row path:
 * the four scalers, one-hot in its forms, ordinal, the imputer; the model
 * families: linear, logistic, gbdt on one-hot and on native categories,
 * multi-class and regression, random forest, decision tree, naive Bayes,
 * k-NN), every row's prediction and probabilities are bit-identical to
 * kn_pipeline_predict / _proba on the whole frame and to the frame path on
 * the row alone (kn_pipeline_predict on a one-row frame takes the row
 * path, and agrees too). Rows the row path
 * leaves to the frame path (an unknown level, a missing value the model
 * refuses, a row that breaks the schema) give the frame path's error. */
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

/* f without its column `name` (a new frame). */
static kn_frame *without(const kn_frame *f, const char *name)
{
    kn_frame *g = NULL;
    size_t j;
    KN_CHECK(kn_frame_copy(f, &g));
    KN_CHECK(kn_frame_find(g, name, &j));
    KN_CHECK(kn_frame_remove_column(g, j));
    return g;
}

static kn_pipeline *fit(const kn_frame *f, const char *const *steps, const char *model,
                        const char *param, const char *target)
{
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    for (size_t i = 0; steps[i]; i++) KN_CHECK(kn_pipeline_add_step_spec(p, steps[i]));
    KN_CHECK(kn_pipeline_set_model_spec(p, model, param ? &param : NULL, param ? 1 : 0));
    KN_CHECK(kn_pipeline_set_target(p, target, NULL));
    KN_CHECK(kn_pipeline_fit(p, f, NULL));
    return p;
}

/* a and b equal: in every bit, or (exact 0) within a few units in the last
 * place (BLAS kernels sum in an order that depends on the row count) */
static void same(const char *model, size_t r, const char *what, double a, double b, int exact)
{
    if (exact ? !memcmp(&a, &b, sizeof a) : fabs(a - b) <= 1e-13 * fmax(1, fabs(b))) return;
    fail_msg("%s, row %zu, %s: row path %.17g, frame path %.17g", model, r, what, a, b);
}

/* Every row of x (the first CHECKED_ROWS) through the row path equals the
 * frame path's answer on that row alone in every bit, and its answer on
 * the whole of x in every bit for tree models (else to rounding). */
#ifdef KILN_SANITIZED /* the same paths on fewer rows: the release build checks 600 */
#define CHECKED_ROWS 120
#else
#define CHECKED_ROWS 600
#endif
static void check_rows(const kn_pipeline *p, const kn_frame *x, const kn_schema *schema)
{
    kn_row_predictor *rp = NULL;
    KN_CHECK(kn_row_predictor_new(p, schema, &rp));
    assert_int_equal(kn_row_predictor_fast(rp), 1);
    const kn_model *m = kn_pipeline_model(p);
    size_t k = kn_model_task(m) == KN_TASK_CLASSIFICATION ? kn_model_n_classes(m) : 0, n = 0;
    double *want = NULL, *want_p = NULL, proba[64];
    KN_CHECK(kn_pipeline_predict(p, x, &want, &n));
    if (k) KN_CHECK(kn_pipeline_predict_proba(p, x, &want_p, &n));
    assert_true(k < 64);
    const char *name = kn_model_name(m);
    int tree =
        !strcmp(name, "gbdt") || !strcmp(name, "random_forest") || !strcmp(name, "decision_tree");
    for (size_t r = 0; r < n && r < CHECKED_ROWS; r++) {
        double y = -1, *one_y = NULL, *one_p = NULL;
        size_t got;
        kn_frame *one = NULL, *prepared = NULL;
        KN_CHECK(kn_frame_select_rows(x, &r, 1, &one));
        /* the frame path on the row alone: steps, then the model */
        KN_CHECK(kn_pipeline_transform(p, one, &prepared));
        KN_CHECK(kn_model_predict(m, prepared, &one_y, &got));
        if (k) KN_CHECK(kn_model_predict_proba(m, prepared, &one_p, &got));
        /* kn_pipeline_predict on a one-row frame takes the row path */
        double *via = NULL;
        KN_CHECK(kn_pipeline_predict(p, one, &via, &got));
        same(name, r, "kn_pipeline_predict (one row)", via[0], one_y[0], 1);
        kn_free(via);
        if (k) {
            KN_CHECK(kn_pipeline_predict_proba(p, one, &via, &got));
            for (size_t c = 0; c < k; c++)
                same(name, r, "kn_pipeline_predict_proba (one row)", via[c], one_p[c], 1);
            kn_free(via);
        }
        kn_frame_free(prepared);
        KN_CHECK(kn_row_predict(rp, x, r, &y, k ? proba : NULL, NULL));
        same(name, r, "prediction (alone)", y, one_y[0], 1);
        same(name, r, "prediction", y, want[r], tree || k);
        for (size_t c = 0; c < k; c++) {
            same(name, r, "probability (alone)", proba[c], one_p[c], 1);
            same(name, r, "probability", proba[c], want_p[r * k + c], tree);
        }
        /* the prediction alone, and the probabilities alone */
        double y2 = -1;
        KN_CHECK(kn_row_predict(rp, x, r, &y2, NULL, NULL));
        assert_memory_equal(&y2, &y, sizeof y2);
        if (k) {
            double p2[64];
            KN_CHECK(kn_row_predict(rp, x, r, NULL, p2, NULL));
            assert_memory_equal(p2, proba, k * sizeof *proba);
        }
        kn_free(one_y);
        kn_free(one_p);
        kn_frame_free(one);
    }
    kn_free(want);
    kn_free(want_p);
    kn_row_predictor_free(rp);
}

static void check(const char *data, const char *const *steps, const char *model, const char *param,
                  const char *target)
{
    kn_frame *f = read_data(data);
    kn_pipeline *p = fit(f, steps, model, param, target);
    kn_frame *x = without(f, target);
    check_rows(p, x, NULL);
    kn_frame_free(x);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

static const char *const cps_onehot[] = {
    "onehot_encoder:columns=ethnicity,region,occupation,union,sector,married;"
    "handle_unknown=ignore",
    "standard_scaler", NULL};

static void test_logistic_onehot_scaler(void **state)
{
    (void)state;
    check("cps1985.csv", cps_onehot, "logistic_regression", "C=0.5", "gender");
}

static void test_gbdt_onehot(void **state)
{
    (void)state;
    check("cps1985.csv", cps_onehot, "gbdt", "n_estimators=60", "gender");
}

static void test_forest_tree_bayes_knn(void **state)
{
    (void)state;
    check("cps1985.csv", cps_onehot, "random_forest", "n_estimators=20", "gender");
    check("cps1985.csv", cps_onehot, "decision_tree", "max_depth=6", "gender");
    check("cps1985.csv", cps_onehot, "gaussian_nb", NULL, "gender");
    check("cps1985.csv", cps_onehot, "knn_classifier", "n_neighbors=7", "gender");
}

static void test_gbdt_multiclass_ordinal_minmax(void **state)
{
    (void)state;
    static const char *const steps[] = {
        "ordinal_encoder:columns=ethnicity,region,gender,union,sector,married", "minmax_scaler",
        NULL};
    check("cps1985.csv", steps, "gbdt", "n_estimators=25", "occupation");
}

static void test_gbdt_native_categories(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    check("cps1985.csv", none, "gbdt", "n_estimators=40", "gender");
}

static void test_regression(void **state)
{
    (void)state;
    static const char *const steps[] = {"robust_scaler", NULL};
    static const char *const steps2[] = {"maxabs_scaler", NULL};
    check("concrete.csv", steps, "gbdt", "n_estimators=50", "compressive_strength");
    check("concrete.csv", steps2, "ridge", "alpha=0.5", "compressive_strength");
}

static void test_onehot_forms_and_imputer(void **state)
{
    (void)state;
    /* categorical cells missing: imputed (most frequent, with indicators) */
    static const char *const votes[] = {
        "simple_imputer:columns=V1,V2,V3,V4,V5,V6,V7,V8;strategy=most_frequent;add_indicator=true",
        "onehot_encoder:handle_unknown=ignore;drop=first", NULL};
    check("house_votes84.csv", votes, "logistic_regression", NULL, "Class");
    /* missing cells left for one-hot's "nan" column; infrequent levels */
    static const char *const lc[] = {
        "onehot_encoder:columns=term,sub_grade,addr_state,verification_status,emp_length;"
        "handle_unknown=ignore;min_frequency=30",
        "simple_imputer:strategy=median", "standard_scaler", NULL};
    check("lending_club.csv", lc, "gbdt", "n_estimators=30", "Class");
    check("lending_club.csv", lc, "random_forest", "n_estimators=10", "Class");
}

/* Rows the row path leaves to the frame path fail as it does. */
static void test_refused_rows(void **state)
{
    (void)state;
    static const char *const strict[] = {
        "onehot_encoder:columns=region",
        "ordinal_encoder:columns=ethnicity,occupation,sector,union,"
        "married",
        NULL};
    kn_frame *f = read_data("cps1985.csv");
    size_t keep[] = {0, 1, 2}, j;
    kn_frame *small = NULL;
    KN_CHECK(kn_frame_select_rows(f, keep, 3, &small));
    kn_frame *x = without(small, "gender");
    kn_pipeline *p = fit(f, strict, "logistic_regression", NULL, "gender");
    kn_row_predictor *rp = NULL;
    KN_CHECK(kn_row_predictor_new(p, NULL, &rp));
    assert_int_equal(kn_row_predictor_fast(rp), 1);
    double y, *v = NULL;
    size_t n;
    /* a level one-hot did not see at fit, handle_unknown=error */
    KN_CHECK(kn_frame_find(x, "region", &j));
    int32_t code;
    KN_CHECK(kn_column_intern(kn_frame_col(x, j), "atlantis", 8, &code));
    kn_column_codes(kn_frame_col(x, j))[1] = code;
    kn_status e = kn_row_predict(rp, x, 1, &y, NULL, NULL);
    assert_int_equal(e, KN_ERR_INVALID);
    assert_non_null(strstr(kn_last_error(), "atlantis"));
    /* a missing number, which logistic regression refuses */
    KN_CHECK(kn_frame_find(x, "age", &j));
    kn_column_f64(kn_frame_col(x, j))[2] = NAN;
    KN_CHECK_FAILS(kn_row_predict(rp, x, 2, &y, NULL, NULL), KN_ERR_INVALID, "age");
    /* row 0 untouched still predicts, as the frame path does */
    KN_CHECK(kn_row_predict(rp, x, 0, &y, NULL, NULL));
    kn_frame *one = NULL;
    KN_CHECK(kn_frame_select_rows(x, keep, 1, &one));
    KN_CHECK(kn_pipeline_predict(p, one, &v, &n));
    assert_memory_equal(&y, v, sizeof y);
    kn_free(v);
    kn_frame_free(one);
    kn_row_predictor_free(rp);
    kn_pipeline_free(p);
    kn_frame_free(x);
    kn_frame_free(small);
    kn_frame_free(f);
}

/* With a schema: rows within it predict (bit-identical), a row outside
 * fails naming the column and rule, with kn_schema_validate's report. */
static void test_schema(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    kn_frame *x = without(f, "gender");
    kn_schema *s = NULL;
    KN_CHECK(kn_schema_infer(x, 20, &s));
    s->min_rows = s->max_rows = 0; /* the table rules mean nothing for one row */
    kn_pipeline *p = fit(f, cps_onehot, "gbdt", "n_estimators=20", "gender");
    check_rows(p, x, s);
    kn_row_predictor *rp = NULL;
    KN_CHECK(kn_row_predictor_new(p, s, &rp));
    size_t j;
    KN_CHECK(kn_frame_find(x, "age", &j));
    kn_column_f64(kn_frame_col(x, j))[4] = 1e6;
    double y;
    kn_validation *v = NULL;
    KN_CHECK_FAILS(kn_row_predict(rp, x, 4, &y, NULL, &v), KN_ERR_INVALID, "age");
    assert_non_null(v);
    assert_true(v->n_violations >= 1);
    assert_string_equal(v->violations[0].column, "age");
    assert_string_equal(v->violations[0].rule, "max");
    kn_validation_free(v);
    /* the next row is fine */
    KN_CHECK(kn_row_predict(rp, x, 5, &y, NULL, &v));
    assert_null(v);
    kn_row_predictor_free(rp);
    kn_pipeline_free(p);
    kn_schema_free(s);
    kn_frame_free(x);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logistic_onehot_scaler),
        cmocka_unit_test(test_gbdt_onehot),
        cmocka_unit_test(test_forest_tree_bayes_knn),
        cmocka_unit_test(test_gbdt_multiclass_ordinal_minmax),
        cmocka_unit_test(test_gbdt_native_categories),
        cmocka_unit_test(test_regression),
        cmocka_unit_test(test_onehot_forms_and_imputer),
        cmocka_unit_test(test_refused_rows),
        cmocka_unit_test(test_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
