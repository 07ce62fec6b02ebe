/* Alert rules for kiln monitor: which drift figures raise an alert, for
 * how long, how loud, and where it goes.
 *
 *     kn_alert_config *c = NULL;
 *     kn_alert_config_parse(text, len, "alerts.yaml", &c);
 *     kn_alert_inputs in;
 *     kn_alert_inputs_init(&in);
 *     in.cols = &report;                      // what the window measured
 *     double v; const char *col;
 *     kn_alert_measure(&c->rules[0], &in, &v, &col);
 *     if (kn_alert_fires(&c->rules[0], v)) kn_webhook_post(url, json, 5, 0.2, 2, &tries);
 *     kn_alert_config_free(c);
 *
 * The file (YAML):
 *
 *   rules:
 *     - name: int_rate_moved          # unique; names the alert
 *       metric: psi                   # see below
 *       column: int_rate              # column metrics; left out: the worst column
 *       series: errors                # ops metrics: requests, errors or latency; left out: any
 *       condition: "> 0.2"            # >, >=, <, <= and a number
 *       for: 2                        # consecutive windows (or checks) it must hold; default 1
 *       window: 500                   # rows per window (kiln monitor check --window); optional
 *       severity: critical            # info, warning (default) or critical
 *       retrain:                      # optional: kiln monitor retrain when an incident opens
 *                                     #   (kiln serve: a child process, one per model at once)
 *         spec: retrain.yaml          #   the pipeline spec to run (relative paths: this
 *         data: fresh.csv             #   file's folder); data replaces its one source
 *         holdout: holdout.csv        #   labelled rows both versions are scored on
 *         margin: 0.01                #   staging must beat production by this much
 *   sinks:
 *     - log                           # a line on standard error
 *     - webhook: http://127.0.0.1:9000/alerts
 *       retries: 5                    # after the first attempt (default 5)
 *       backoff: 0.2                  # seconds before the first retry, doubled each time
 *       timeout: 2                    # seconds per attempt
 *
 * Column metrics (over the model's input columns; without `column` the
 * largest value, the smallest for p-values): psi, ks_d, ks_p, wasserstein,
 * chi2, chi2_p, js, p_adjusted, missing (the batch's missing share),
 * missing_change (its change from the reference, absolute), unseen_share.
 * Check metrics: drifted_columns, drift (0 or 1), invalid_share,
 * prediction_psi, prediction_p (the predictions: values, or a classifier's
 * classes), prediction_drift (0 or 1: they or a classifier's scores
 * drifted), score_psi, score_p, score_drift (a classifier's scores,
 * kn_drift_class_score).
 * Input anomaly metrics (kiln monitor check --anomalies, kiln monitor
 * anomalies on a prediction log), per window:
 * anomaly_share (the window's share of anomalous rows), anomaly_p (its
 * binomial p-value against the reference's share), anomalous (0 or 1:
 * the window flagged), anomalous_windows (the windows flagged so far in
 * the check, this one included).
 * Operational metrics (kiln monitor ops), per interval, over the series
 * `series` selects (every scope watched: the server and each model):
 * ops_jump, ops_drop, ops_flatline (how many of them are in an event of
 * that kind during the interval), ops_events (in an event of any kind),
 * ops_z (the largest |z| of them).
 * Feedback metrics (kiln serve's POST .../feedback, evaluated when a window
 * of --feedback-window labels closes, per version; kiln monitor feedback
 * --alerts, per --window of joined labels): live_accuracy, live_roc_auc
 * (classifiers; ROC-AUC for binary ones), live_rmse, live_mae (regressions)
 * are the window's live score; live_drop is the artifact's test score
 * minus the live score of the window's headline metric (accuracy for a
 * classifier, RMSE for a regression; kiln monitor feedback: its --metric),
 * the other way round for a lower-is-better metric (RMSE, MAE), so that
 * "> margin" means worse by more than the margin for every metric (NaN:
 * the artifact records no test score for it). Example: alert when live
 * accuracy falls 0.05 below the test score:
 *     - {name: worse_live, metric: live_drop, condition: "> 0.05"}
 * An unknown metric, condition or key is an error naming its line.
 */
#ifndef KILN_ALERT_H
#define KILN_ALERT_H

#include "kiln/drift.h"
#include "kiln/livescore.h"
#include "kiln/opsanom.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { KN_ALERT_GT = 0, KN_ALERT_GE = 1, KN_ALERT_LT = 2, KN_ALERT_LE = 3 } kn_alert_op;

/* What a rule's metric is measured on: a drift check, the input
 * anomalies of its windows, the operational series of an access log, or
 * the live score of a window of feedback labels. */
typedef enum {
    KN_ALERT_DRIFT = 0,
    KN_ALERT_ANOMALY = 1,
    KN_ALERT_OPS = 2,
    KN_ALERT_FEEDBACK = 3
} kn_alert_source;
enum { KN_ALERT_N_LIVE = 4 }; /* the live metrics, indexed by kn_live_metric */

/* The series of the operational metrics (the rule's `series:`). */
typedef enum {
    KN_ALERT_SERIES_REQUESTS = 0,
    KN_ALERT_SERIES_ERRORS = 1, /* the share of requests answered with an error */
    KN_ALERT_SERIES_LATENCY = 2
} kn_alert_series;
enum { KN_ALERT_N_SERIES = 3 };

typedef struct kn_alert_rule {
    char *name, *metric, *column; /* column NULL: every column */
    char *severity;
    kn_alert_op op;
    double threshold;
    int64_t for_windows, window_rows; /* window_rows 0: not set */
    /* retrain: the action when an incident opens (retrain_spec NULL: none);
     * paths as given, or relative to the alert file's folder. */
    char *retrain_spec, *retrain_data, *retrain_holdout; /* data NULL: the spec's sources */
    double retrain_margin;
    kn_alert_source source; /* what the metric needs (from the metric) */
    int series;             /* ops metrics: a kn_alert_series, or -1: any */
} kn_alert_rule;

typedef enum { KN_SINK_LOG = 0, KN_SINK_WEBHOOK = 1 } kn_alert_sink_kind;

typedef struct kn_alert_sink {
    kn_alert_sink_kind kind;
    char *url;
    int retries;
    double backoff_s, timeout_s;
} kn_alert_sink;

typedef struct kn_alert_config {
    size_t n_rules, n_sinks;
    kn_alert_rule *rules;
    kn_alert_sink *sinks;
} kn_alert_config;

/* Returns a new config from YAML text; free with kn_alert_config_free.
 * `what` names the file in errors ("what:line:column: ..."). */
KN_API kn_status kn_alert_config_parse(const char *text, size_t len, const char *what,
                                       kn_alert_config **out);
KN_API void kn_alert_config_free(kn_alert_config *c);

/* What one window (or interval) measured; what a source did not measure
 * stays as kn_alert_inputs_init left it, and its metrics are NaN. */
typedef struct kn_alert_inputs {
    const kn_drift_report *cols; /* drift: the columns' report (NULL: none) */
    const kn_drift_col *pred;    /* drift: the predictions' result (NULL: none) */
    double invalid_share;        /* drift: the share of rows breaking the schema */
    /* input anomalies (NaN: not measured) */
    double anomaly_share, anomaly_p, anomalous, anomalous_windows;
    /* operational: has_ops 1 when measured; per series, how many scopes
     * are in an event of each kind (indexed by kn_opsanom_event: none,
     * jump, drop, flatline; [0] unused) and their largest |z| (NaN: none) */
    int has_ops;
    double ops_in_event[KN_ALERT_N_SERIES][KN_OPSANOM_N_EVENTS];
    double ops_abs_z[KN_ALERT_N_SERIES];
    /* feedback: the window's live scores and the artifact's test scores
     * (indexed by kn_live_metric; NaN: not measured, none recorded), and
     * the headline metric live_drop compares (a kn_live_metric, -1: none) */
    double live[KN_ALERT_N_LIVE], live_test[KN_ALERT_N_LIVE];
    int live_metric;
    /* drift: a classifier's scores' result (kn_drift_class_score; NULL: none) */
    const kn_drift_col *score;
} kn_alert_inputs;

/* Everything unmeasured: pointers NULL, numbers NaN, has_ops 0,
 * live_metric -1. */
KN_API void kn_alert_inputs_init(kn_alert_inputs *in);

/* The rule's metric on what a window measured. *column receives the
 * column the value comes from (borrowed from in->cols), the series name
 * (static) for ops metrics, NULL otherwise. A named column the report
 * lacks is KN_ERR_NOT_FOUND naming it. NaN when there is nothing to
 * measure (a source not measured included). */
KN_API kn_status kn_alert_measure(const kn_alert_rule *r, const kn_alert_inputs *in, double *value,
                                  const char **column);

/* The metric's source, or -1 for a metric that does not exist. */
KN_API int kn_alert_metric_source(const char *metric);

/* kn_alert_measure of a drift check alone (kept for its callers).
 * The rule's metric on a check: the columns' report, the predictions'
 * result (pred may be NULL) and the share of rows breaking the schema.
 * *column receives the column the value comes from (borrowed from the
 * report; NULL for check metrics). A named column the report lacks is
 * KN_ERR_NOT_FOUND naming it. NaN when there is nothing to measure. */
KN_API kn_status kn_alert_value(const kn_alert_rule *r, const kn_drift_report *cols,
                                const kn_drift_col *pred, double invalid_share, double *value,
                                const char **column);
/* 1 when value meets the rule's condition (never for NaN). */
KN_API int kn_alert_fires(const kn_alert_rule *r, double value);

/* HTTP POST of a JSON body to url (Content-Type: application/json), with
 * up to `retries` retries after a failed attempt (no connection, a timeout,
 * an HTTP status of 500 or more, or 429), waiting backoff_s, then twice as
 * long each time. *attempts receives the attempts made. KN_OK on a 2xx
 * answer, else KN_ERR_IO naming the url and the last failure. */
KN_API kn_status kn_webhook_post(const char *url, const char *json, int retries, double backoff_s,
                                 double timeout_s, int *attempts);

#ifdef __cplusplus
}
#endif
#endif
