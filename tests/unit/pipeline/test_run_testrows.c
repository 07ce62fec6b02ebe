/* kn_run_test_rows: a run's test rows rebuilt from its artifact are the
 * rows the run scored (real runs on the test data: a stratified fraction
 * of a classifier's rows, a fraction of a regression's, a separate test
 * source): the same count, the held-out section's truths in the same order,
 * and the recorded test score to the bit, and the training rows' count; and where they cannot be
 * had (no spec, no test rows, a file changed or gone), KN_ERR_NOT_FOUND saying why. */
#include "test_util.h"

#include "kiln/artifact.h"
#include "kiln/frame.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/pipeline.h"
#include "kiln/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *data_dir(void)
{
    const char *d = getenv("KILN_TEST_DATA");
    return d ? d : "tests/data";
}

/* Copy a test data file to a temporary one (removed at exit). */
static const char *copy_data(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *buf = kn_malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    const char *out = test_write_file(".csv", buf, n);
    kn_free(buf);
    return out;
}

/* Run spec text; returns the output (kn_run_output_free). */
static kn_run_output *run(const char *spec)
{
    kn_prep_spec *s = NULL;
    KN_CHECK(kn_prep_spec_parse(spec, strlen(spec), "/tmp/testrows.yaml", &s));
    kn_run_opts o;
    kn_run_opts_default(&o);
    o.threads = 1;
    kn_run_output *r = NULL;
    KN_CHECK(kn_run_spec(s, &o, &r));
    kn_prep_spec_free(s);
    return r;
}

/* The rebuilt rows are the run's: count, truths in order, the score. */
static void check_same(const kn_run_output *r, const char *target, const char *metric)
{
    kn_frame *f = NULL, *tr = NULL;
    char *recipe = NULL;
    KN_CHECK(kn_run_test_rows(r->artifact, &tr, &f, &recipe));
    assert_int_equal(kn_frame_n_rows(f), r->rows_test);
    assert_int_equal(kn_frame_n_rows(tr), r->rows_train);
    kn_frame_free(tr);
    assert_non_null(strstr(recipe, "spec, seed "));
    size_t len = 0;
    const void *hb = kn_artifact_get(r->artifact, KN_ART_HELDOUT, &len);
    assert_non_null(hb);
    kn_heldout h;
    KN_CHECK(kn_heldout_decode(hb, len, "test", &h));
    assert_int_equal(h.n, kn_frame_n_rows(f));
    size_t j = 0;
    KN_CHECK(kn_frame_find(f, target, &j));
    kn_column *c = kn_frame_col(f, j);
    const kn_model *m = kn_pipeline_model(r->pipeline);
    char buf[64];
    for (size_t i = 0; i < h.n; i++) {
        if (h.classification) {
            size_t n = 0;
            const char *s = kn_column_type(c) == KN_COL_CATEGORICAL
                                ? kn_column_level(c, kn_column_codes(c)[i], &n)
                                : kn_column_str(c, i, &n);
            snprintf(buf, sizeof buf, "%.*s", (int)n, s);
            assert_string_equal(buf, kn_model_class(m, (size_t)h.y[i]));
        } else {
            assert_true(kn_column_number(c, i) == h.y[i]);
        }
    }
    double v = NAN, want = NAN;
    size_t rows = 0;
    KN_CHECK(kn_pipeline_score_one(r->pipeline, f, metric, NULL, &v, &rows));
    for (size_t i = 0; i < r->test.n; i++)
        if (!strcmp(r->test.name[i], metric)) want = r->test.value[i];
    assert_int_equal(rows, r->rows_test);
    assert_true(v == want);
    kn_heldout_free(&h);
    kn_free(recipe);
    kn_frame_free(f);
}

static void stratified_classifier(void **state)
{
    (void)state;
    char *spec = kn_sprintf("sources:\n  d: {file: %s}\ntarget: class\nmodel:\n  gbdt: "
                            "{n_estimators: 5}\nevaluation:\n  metrics: [accuracy]\n  test: "
                            "{fraction: 0.3}\nseed: 11\n",
                            copy_data("wine.csv"));
    kn_run_output *r = run(spec);
    check_same(r, "class", "accuracy");
    kn_run_output_free(r);
    kn_free(spec);
}

static void regression_and_changes(void **state)
{
    (void)state;
    const char *path = copy_data("concrete.csv");
    char *spec = kn_sprintf("sources:\n  d: {file: %s}\ntarget: compressive_strength\nmodel:\n  "
                            "gbdt: {n_estimators: 5}\nevaluation:\n  metrics: [rmse]\n  test: "
                            "{fraction: 0.25}\nseed: 4\n",
                            path);
    kn_run_output *r = run(spec);
    check_same(r, "compressive_strength", "rmse");
    kn_frame *f = NULL;
    /* the file changed since the run */
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("540,0,0,162,2.5,1040,676,28,79.99\n", fp);
    fclose(fp);
    KN_CHECK_FAILS(kn_run_test_rows(r->artifact, NULL, &f, NULL), KN_ERR_NOT_FOUND,
                   "changed since the run");
    /* gone */
    remove(path);
    KN_CHECK_FAILS(kn_run_test_rows(r->artifact, NULL, &f, NULL), KN_ERR_NOT_FOUND,
                   "which the run read, cannot be read here");
    assert_null(f);
    /* an artifact without a spec (kiln train's) */
    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_new(&a));
    size_t len = 0;
    const char *lin = kn_artifact_get(r->artifact, KN_ART_LINEAGE, &len);
    KN_CHECK(kn_artifact_set(a, KN_ART_LINEAGE, lin, len));
    KN_CHECK_FAILS(kn_run_test_rows(a, NULL, &f, NULL), KN_ERR_NOT_FOUND, "keeps no spec");
    kn_artifact_free(a);
    kn_run_output_free(r);
    kn_free(spec);
}

static void test_source_and_none(void **state)
{
    (void)state;
    const char *fit = copy_data("concrete.csv"), *hold = copy_data("concrete.csv");
    char *spec = kn_sprintf("sources:\n  d: {file: %s}\n  h: {file: %s}\nframe: {from: d}\n"
                            "target: compressive_strength\nmodel:\n  gbdt: {n_estimators: 3}\n"
                            "evaluation:\n  metrics: [mae]\n  test: {source: h}\nseed: 2\n",
                            fit, hold);
    kn_run_output *r = run(spec);
    check_same(r, "compressive_strength", "mae");
    kn_run_output_free(r);
    kn_free(spec);
    /* a run without test rows */
    spec = kn_sprintf("sources:\n  d: {file: %s}\ntarget: compressive_strength\nmodel:\n  "
                      "gbdt: {n_estimators: 3}\nevaluation:\n  test: false\nseed: 2\n",
                      fit);
    r = run(spec);
    kn_frame *f = NULL;
    KN_CHECK_FAILS(kn_run_test_rows(r->artifact, NULL, &f, NULL), KN_ERR_NOT_FOUND,
                   "held out no test rows");
    kn_frame *tr = NULL; /* its training rows are all the rows */
    KN_CHECK(kn_run_test_rows(r->artifact, &tr, NULL, NULL));
    assert_int_equal(kn_frame_n_rows(tr), 1030);
    assert_int_equal(r->rows_train, 1030);
    kn_frame_free(tr);
    kn_run_output_free(r);
    kn_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stratified_classifier),
        cmocka_unit_test(regression_and_changes),
        cmocka_unit_test(test_source_and_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
