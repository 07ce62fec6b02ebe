/* report: the HTML report of artifacts made by real runs (kn_run_spec on
 * the test data), its curves against the recorded metrics, and its
 * determinism. */
#include "test_util.h"

#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/report.h"
#include "kiln/run.h"
#include "report/report-impl.h"

#include <jansson.h>
#include <math.h>

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

/* Run a spec over a file of the test data; returns the decoded artifact. */
static kn_artifact *run(const char *data, const char *body)
{
    const char *dir = getenv("KILN_TEST_DATA");
    if (!dir) dir = "tests/data";
    char *spec = kn_sprintf("sources:\n  d: {file: %s/%s}\n%s", dir, data, body);
    assert_non_null(spec);
    kn_prep_spec *s = NULL;
    KN_CHECK(kn_prep_spec_parse(spec, strlen(spec), "/tmp/report-test.yaml", &s));
    kn_run_opts o;
    kn_run_opts_default(&o);
    o.threads = 1;
    kn_run_output *r = NULL;
    KN_CHECK(kn_run_spec(s, &o, &r));
    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_decode(r->artifact_bytes, r->artifact_len, "test", NULL, &a));
    kn_run_output_free(r);
    kn_prep_spec_free(s);
    kn_free(spec);
    return a;
}

static char *render(const kn_artifact *a, const kn_report_opts *o)
{
    char *html = NULL;
    size_t len = 0;
    KN_CHECK(kn_report_render(a, o, &html, &len));
    assert_int_equal(strlen(html), len);
    return html;
}

/* Every figure is an <svg> with non-zero width, height and a viewBox; no
 * scripts; no numbers that did not print. */
static size_t check_figures(const char *html)
{
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "nan"));
    assert_int_equal(count(html, "<svg "), count(html, "</svg>"));
    size_t n = 0;
    for (const char *p = html; (p = strstr(p, "<svg ")); p++, n++) {
        const char *end = strchr(p, '>');
        double w = 0, h = 0, vw = 0, vh = 0;
        const char *wa = strstr(p, " width=\""), *ha = strstr(p, " height=\""),
                   *va = strstr(p, " viewBox=\"0 0 ");
        assert_true(wa && wa < end && ha && ha < end && va && va < end);
        assert_int_equal(sscanf(wa, " width=\"%lf\"", &w), 1);
        assert_int_equal(sscanf(ha, " height=\"%lf\"", &h), 1);
        assert_int_equal(sscanf(va, " viewBox=\"0 0 %lf %lf\"", &vw, &vh), 2);
        assert_true(w > 0 && h > 0 && vw == w && vh == h);
    }
    return n;
}

static double metric(const kn_artifact *a, const char *scope, const char *name)
{
    size_t len = 0;
    const char *text = kn_artifact_get(a, KN_ART_METRICS, &len);
    assert_non_null(text);
    json_t *j = json_loadb(text, len, 0, NULL);
    assert_non_null(j);
    json_t *v = json_object_get(json_object_get(j, scope), name);
    double out = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return out;
}

static void binary_curves_match_the_recorded_scores(void **state)
{
    (void)state;
    kn_artifact *a =
        run("lending_club.csv", "target: Class\n"
                                "description: Screens loan applications for bad loans <& more>.\n"
                                "model:\n  gbdt: {n_estimators: 30}\n"
                                "evaluation:\n  cv: {folds: 3}\n"
                                "  metrics: [roc_auc, average_precision, accuracy]\n"
                                "  positive_class: bad\n  test: {fraction: 0.25}\nseed: 7\n");
    /* the ROC curve the report draws, from the held-out predictions */
    size_t hl = 0;
    const void *hb = kn_artifact_get(a, KN_ART_HELDOUT, &hl);
    assert_non_null(hb);
    kn_heldout h;
    KN_CHECK(kn_heldout_decode(hb, hl, "test", &h));
    assert_true(h.classification && h.k == 2 && h.proba);
    size_t pos = strcmp(h.classes[0], "bad") == 0 ? 0 : 1;
    int32_t *y = malloc(h.n * sizeof *y);
    double *score = malloc(h.n * sizeof *score);
    for (size_t i = 0; i < h.n; i++) {
        y[i] = (size_t)h.y[i] == pos;
        score[i] = h.proba[i * 2 + pos];
    }
    kn_curve roc = {0};
    KN_CHECK(kn_metric_roc_curve(y, score, NULL, h.n, 1, &roc));
    double auc = kn__report_auc(&roc), recorded = metric(a, "test", "roc_auc");
    assert_true(isfinite(recorded));
    if (fabs(auc - recorded) > 1e-9) fail_msg("curve AUC %.17g, recorded %.17g", auc, recorded);
    kn_curve full = {0}; /* every threshold kept: the same area */
    KN_CHECK(kn_metric_roc_curve(y, score, NULL, h.n, 0, &full));
    assert_true(fabs(kn__report_auc(&full) - recorded) < 1e-9);
    kn_curve_free(&roc);
    kn_curve_free(&full);
    free(y);
    free(score);

    kn_report_opts o;
    kn_report_opts_default(&o);
    o.source = "lc.kiln";
    char *html = render(a, &o), *again = render(a, &o);
    assert_string_equal(html, again); /* same artifact, same bytes */
    /* ROC, PR, confusion, calibration, importance, one CV figure per metric */
    size_t strips = count(html, "aria-label=\"distribution of ");
    assert_true(strips >= 15); /* the numeric columns of the profile */
    assert_int_equal(check_figures(html), 5 + 3 + strips);
    assert_non_null(strstr(html, "<h3>ROC curve</h3>"));
    assert_non_null(strstr(html, "<h3>Precision-recall curve</h3>"));
    assert_non_null(strstr(html, "<h3>Confusion matrix</h3>"));
    assert_non_null(strstr(html, "<h3>Calibration</h3>"));
    assert_non_null(strstr(html, "aria-label=\"Feature importance\""));
    /* the AUC in the legend is the recorded one, as the report prints it */
    char buf[48], want[80];
    snprintf(want, sizeof want, "bad (AUC %s)", kn__fmt_num(recorded, buf, sizeof buf));
    assert_non_null(strstr(html, want));
    /* the model card: intended use escaped, metrics with the baseline */
    assert_non_null(strstr(html, "Screens loan applications for bad loans &lt;&amp; more&gt;."));
    assert_non_null(strstr(html, "<th>baseline</th>"));
    assert_non_null(strstr(html, "Classes seen in training (2)"));
    assert_non_null(strstr(html, "lending_club.csv"));
    /* no run record: resources say where they come from */
    assert_non_null(strstr(html, "Resources and cost are kept in the store"));
    /* a run record adds them */
    kn_run_stage st[2] = {{"cv", 1.5, 2.75, 50u << 20}, {"fit", 0.25, 0.5, 60u << 20}};
    kn_run_record rec;
    memset(&rec, 0, sizeof rec);
    rec.id = "r000042";
    rec.info.stages = st;
    rec.info.n_stages = 2;
    rec.cost = 0.000123;
    o.run = &rec;
    char *with_run = render(a, &o);
    assert_non_null(strstr(with_run, "<td>cv</td><td class=\"n\">1.500</td>"));
    assert_non_null(strstr(with_run, "$0.000123"));
    assert_non_null(strstr(with_run, "r000042"));
    kn_free(with_run);
    kn_free(html);
    kn_free(again);
    kn_heldout_free(&h);
    kn_artifact_free(a);
}

static void multiclass_and_regression(void **state)
{
    (void)state;
    kn_artifact *a = run("vehicle.csv", "target: Class\nmodel:\n  gbdt: {n_estimators: 10}\n"
                                        "evaluation:\n  cv: false\n  test: {fraction: 0.3}\n");
    char *html = render(a, NULL);
    check_figures(html);
    assert_non_null(strstr(html, "Each class against the rest"));
    assert_non_null(strstr(html, "No cross-validation in this run."));
    assert_non_null(strstr(html, "mean confidence"));
    assert_int_equal(count(html, "(AUC "), 4); /* one curve per class */
    kn_free(html);
    kn_artifact_free(a);

    a = run("concrete.csv", "target: compressive_strength\nmodel:\n  linear_regression: {}\n"
                            "evaluation:\n  cv: {folds: 4}\n  test: {fraction: 0.2}\n");
    html = render(a, NULL);
    /* residuals, importance, 3 CV metrics, a strip per column (9) */
    assert_int_equal(check_figures(html), 2 + 1 + 3 + 9);
    assert_non_null(strstr(html, "<h3>Residuals against predictions</h3>"));
    assert_non_null(strstr(html, "|coefficient|"));
    assert_null(strstr(html, "ROC curve"));
    assert_non_null(strstr(html, "Numeric ranges of the training data"));
    assert_non_null(strstr(html, "The spec gives no description"));
    kn_free(html);
    kn_artifact_free(a);
}

static void sections_without_data_say_so(void **state)
{
    (void)state;
    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_new(&a));
    char *html = render(a, NULL);
    assert_int_equal(check_figures(html), 0);
    assert_non_null(strstr(html, "No held-out predictions in this artifact"));
    assert_non_null(strstr(html, "reports no feature importances"));
    assert_non_null(strstr(html, "No data profile in this artifact."));
    assert_non_null(strstr(html, "No lineage recorded."));
    kn_free(html);
    const char *bad = "{\"task\": ";
    KN_CHECK(kn_artifact_set(a, KN_ART_METRICS, bad, strlen(bad)));
    html = NULL;
    KN_CHECK_FAILS(kn_report_render(a, NULL, &html, NULL), KN_ERR_CORRUPT, "metrics section");
    assert_null(html);
    KN_CHECK_FAILS(kn_report_write(a, NULL, "/tmp/report-test-never.html"), KN_ERR_CORRUPT,
                   "not JSON");
    assert_int_equal(access("/tmp/report-test-never.html", F_OK), -1);
    kn_artifact_free(a);
}

static void writes_through_a_temporary_file(void **state)
{
    (void)state;
    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_new(&a));
    const char *m = "{\"task\": \"regression\", \"positive_class\": null, \"cv\": null, "
                    "\"test\": null, \"baseline\": null, \"rows\": {\"in\": 10, \"kept\": 8, "
                    "\"quarantined\": 1, \"deduplicated\": 1, \"train\": 8, \"test\": 0}}";
    KN_CHECK(kn_artifact_set(a, KN_ART_METRICS, m, strlen(m)));
    char path[64];
    snprintf(path, sizeof path, "/tmp/report-test-%d.html", (int)getpid());
    KN_CHECK(kn_report_write(a, NULL, path));
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    assert_non_null(strstr(buf, "<td>rows quarantined by the schema&#39;s policies</td>"
                                "<td class=\"n\">1</td><td class=\"n\">10.0%</td>"));
    unlink(path);
    KN_CHECK_FAILS(kn_report_write(a, NULL, "/dev/full"), KN_ERR_IO, "/dev/full");
    KN_CHECK_FAILS(kn_report_write(a, NULL, "/nonexistent-dir/r.html"), KN_ERR_IO,
                   "/nonexistent-dir/r.html");
    kn_artifact_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binary_curves_match_the_recorded_scores),
        cmocka_unit_test(multiclass_and_regression),
        cmocka_unit_test(sections_without_data_say_so),
        cmocka_unit_test(writes_through_a_temporary_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
