/* monitor: alert rules (kiln/alert.h): what a rule's metric measures on a
 * window's inputs, for drift, input anomaly and operational metrics; the
 * old kn_alert_value gives what kn_alert_measure gives on a drift check;
 * a metric a window did not measure is NaN and never fires; the parser
 * knows every metric's source, checks series, and names the metrics of
 * each command when one does not exist. */
#include "test_util.h"

#include "kiln/alert.h"

#include <math.h>
#include <string.h>

static kn_alert_config *parse(const char *yaml)
{
    kn_alert_config *c = NULL;
    KN_CHECK(kn_alert_config_parse(yaml, strlen(yaml), "t/alerts.yaml", &c));
    return c;
}

static void test_sources_and_series(void **state)
{
    (void)state;
    kn_alert_config *c =
        parse("rules:\n"
              "  - {name: a, metric: psi, condition: \"> 0.2\"}\n"
              "  - {name: b, metric: anomaly_share, condition: \"> 0.05\"}\n"
              "  - {name: c, metric: ops_jump, series: errors, condition: \"> 0\"}\n"
              "  - {name: d, metric: ops_events, condition: \">= 1\"}\n");
    assert_int_equal(c->rules[0].source, KN_ALERT_DRIFT);
    assert_int_equal(c->rules[1].source, KN_ALERT_ANOMALY);
    assert_int_equal(c->rules[2].source, KN_ALERT_OPS);
    assert_int_equal(c->rules[2].series, KN_ALERT_SERIES_ERRORS);
    assert_int_equal(c->rules[3].series, -1);
    kn_alert_config_free(c);
    assert_int_equal(kn_alert_metric_source("anomalous_windows"), KN_ALERT_ANOMALY);
    assert_int_equal(kn_alert_metric_source("ops_z"), KN_ALERT_OPS);
    assert_int_equal(kn_alert_metric_source("drifted_columns"), KN_ALERT_DRIFT);
    assert_int_equal(kn_alert_metric_source("accuracy_drop"), -1);
}

static void test_bad_rules(void **state)
{
    (void)state;
    kn_alert_config *c = NULL;
    const char *unknown = "rules:\n  - {name: x, metric: ops_jumps, condition: \"> 0\"}\n";
    KN_CHECK_FAILS(kn_alert_config_parse(unknown, strlen(unknown), "t/a.yaml", &c), KN_ERR_PARSE,
                   "no metric 'ops_jumps'");
    assert_non_null(strstr(kn_last_error(), "anomaly_share, anomaly_p, anomalous"));
    assert_non_null(strstr(kn_last_error(), "ops_jump, ops_drop, ops_flatline, ops_events"));
    const char *series = "rules:\n  - {name: x, metric: ops_drop, series: disk, condition: "
                         "\"> 0\"}\n";
    KN_CHECK_FAILS(kn_alert_config_parse(series, strlen(series), "t/a.yaml", &c), KN_ERR_PARSE,
                   "series 'disk' is not one of requests, errors, latency");
    const char *stray = "rules:\n  - {name: x, metric: psi, series: errors, condition: \"> 0\"}\n";
    KN_CHECK_FAILS(kn_alert_config_parse(stray, strlen(stray), "t/a.yaml", &c), KN_ERR_PARSE,
                   "series selects an ops_* metric's series");
    const char *column = "rules:\n  - {name: x, metric: anomaly_share, column: a, condition: "
                         "\"> 0\"}\n";
    KN_CHECK_FAILS(kn_alert_config_parse(column, strlen(column), "t/a.yaml", &c), KN_ERR_PARSE,
                   "drop column");
    assert_null(c);
}

static void test_measure(void **state)
{
    (void)state;
    kn_alert_config *c =
        parse("rules:\n"
              "  - {name: psi, metric: psi, condition: \"> 0.2\"}\n"
              "  - {name: share, metric: anomaly_share, condition: \"> 0.05\"}\n"
              "  - {name: wins, metric: anomalous_windows, condition: \">= 2\"}\n"
              "  - {name: err, metric: ops_jump, series: errors, condition: \"> 0\"}\n"
              "  - {name: any, metric: ops_events, condition: \"> 0\"}\n"
              "  - {name: z, metric: ops_z, condition: \"> 5\"}\n"
              "  - {name: flat, metric: ops_flatline, condition: \"> 0\"}\n");
    kn_drift_col cols[2];
    memset(cols, 0, sizeof cols);
    char a[] = "a", b[] = "b";
    cols[0].name = a, cols[1].name = b;
    cols[0].psi = 0.1, cols[1].psi = 0.3;
    kn_drift_report rep = {2, 1, cols};
    kn_alert_inputs in;
    kn_alert_inputs_init(&in);
    double v = 0;
    const char *col = NULL;
    /* nothing measured: NaN everywhere, nothing fires */
    for (size_t i = 0; i < c->n_rules; i++) {
        KN_CHECK(kn_alert_measure(&c->rules[i], &in, &v, &col));
        assert_true(isnan(v));
        assert_false(kn_alert_fires(&c->rules[i], v));
    }
    in.cols = &rep;
    KN_CHECK(kn_alert_measure(&c->rules[0], &in, &v, &col));
    assert_true(v == 0.3 && col && !strcmp(col, "b"));
    double old = 0;
    const char *old_col = NULL;
    KN_CHECK(kn_alert_value(&c->rules[0], &rep, NULL, 0, &old, &old_col));
    assert_true(old == v && old_col == col);
    in.anomaly_share = 0.088, in.anomalous_windows = 1;
    KN_CHECK(kn_alert_measure(&c->rules[1], &in, &v, &col));
    assert_true(v == 0.088 && !col && kn_alert_fires(&c->rules[1], v));
    KN_CHECK(kn_alert_measure(&c->rules[2], &in, &v, &col));
    assert_true(v == 1 && !kn_alert_fires(&c->rules[2], v));
    /* ops: the server's and a model's error share jump; latency drops */
    in.has_ops = 1;
    in.ops_in_event[KN_ALERT_SERIES_ERRORS][KN_OPSANOM_JUMP] = 2;
    in.ops_in_event[KN_ALERT_SERIES_LATENCY][KN_OPSANOM_DROP] = 1;
    in.ops_abs_z[KN_ALERT_SERIES_REQUESTS] = 0.5;
    in.ops_abs_z[KN_ALERT_SERIES_ERRORS] = 21;
    KN_CHECK(kn_alert_measure(&c->rules[3], &in, &v, &col));
    assert_true(v == 2 && col && !strcmp(col, "errors"));
    KN_CHECK(kn_alert_measure(&c->rules[4], &in, &v, &col));
    assert_true(v == 3 && col && !strcmp(col, "errors"));
    KN_CHECK(kn_alert_measure(&c->rules[5], &in, &v, &col));
    assert_true(v == 21 && col && !strcmp(col, "errors") && kn_alert_fires(&c->rules[5], v));
    KN_CHECK(kn_alert_measure(&c->rules[6], &in, &v, &col));
    assert_true(v == 0 && !col && !kn_alert_fires(&c->rules[6], v));
    kn_alert_config_free(c);
}

/* Feedback metrics: the live scores as given, live_drop the test score
 * minus the live one (the other way round for RMSE), so "> margin" means
 * worse for both; NaN without a test score or a headline; a feedback
 * metric never reads a drift check. */
static void test_feedback(void **state)
{
    (void)state;
    kn_alert_config *c = parse("rules:\n"
                               "  - {name: a, metric: live_accuracy, condition: \"< 0.8\"}\n"
                               "  - {name: b, metric: live_drop, condition: \"> 0.05\"}\n"
                               "  - {name: c, metric: live_rmse, condition: \"> 3\"}\n");
    for (size_t i = 0; i < 3; i++) assert_int_equal(c->rules[i].source, KN_ALERT_FEEDBACK);
    assert_int_equal(kn_alert_metric_source("live_mae"), KN_ALERT_FEEDBACK);
    assert_int_equal(kn_alert_metric_source("live_auc"), -1);
    kn_alert_inputs in;
    kn_alert_inputs_init(&in);
    double v = 0;
    const char *col = "x";
    KN_CHECK(kn_alert_measure(&c->rules[1], &in, &v, &col));
    assert_true(isnan(v) && !col); /* nothing measured */
    in.live[KN_LIVE_ACCURACY] = 0.75;
    in.live[KN_LIVE_ROC_AUC] = 0.9;
    in.live_metric = KN_LIVE_ACCURACY;
    KN_CHECK(kn_alert_measure(&c->rules[1], &in, &v, &col));
    assert_true(isnan(v)); /* no test score */
    in.live_test[KN_LIVE_ACCURACY] = 0.85;
    KN_CHECK(kn_alert_measure(&c->rules[0], &in, &v, &col));
    assert_true(v == 0.75 && kn_alert_fires(&c->rules[0], v));
    KN_CHECK(kn_alert_measure(&c->rules[1], &in, &v, &col));
    assert_true(fabs(v - 0.1) < 1e-15 && kn_alert_fires(&c->rules[1], v));
    in.live[KN_LIVE_ACCURACY] = 0.9; /* better than the test: a negative drop */
    KN_CHECK(kn_alert_measure(&c->rules[1], &in, &v, &col));
    assert_true(fabs(v + 0.05) < 1e-15 && !kn_alert_fires(&c->rules[1], v));
    /* lower is better: RMSE 5 against a test RMSE of 4 is worse by 1 */
    kn_alert_inputs_init(&in);
    in.live[KN_LIVE_RMSE] = 5, in.live_test[KN_LIVE_RMSE] = 4, in.live_metric = KN_LIVE_RMSE;
    KN_CHECK(kn_alert_measure(&c->rules[1], &in, &v, &col));
    assert_true(v == 1 && kn_alert_fires(&c->rules[1], v));
    KN_CHECK(kn_alert_measure(&c->rules[2], &in, &v, &col));
    assert_true(v == 5 && kn_alert_fires(&c->rules[2], v));
    kn_alert_config_free(c);
    /* an unknown live metric names its line and the live metrics */
    const char *bad = "rules:\n  - {name: a, metric: psi, condition: \"> 1\"}\n"
                      "  - {name: x, metric: live_f1, condition: \"< 0.5\"}\n";
    KN_CHECK_FAILS(kn_alert_config_parse(bad, strlen(bad), "t/a.yaml", &c), KN_ERR_PARSE,
                   "t/a.yaml:3");
    assert_non_null(strstr(kn_last_error(), "no metric 'live_f1'"));
    assert_non_null(strstr(kn_last_error(), "live_rmse, live_mae, live_drop"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources_and_series),
        cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_measure),
        cmocka_unit_test(test_feedback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
