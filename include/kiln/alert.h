/* Alert rules for kiln monitor: which drift figures raise an alert, for
 * how long, how loud, and where it goes.
 *
 *     kn_alert_config *c = NULL;
 *     kn_alert_config_parse(text, len, "alerts.yaml", &c);
 *     double v; const char *col;
 *     kn_alert_value(&c->rules[0], &report, &pred, invalid_share, &v, &col);
 *     if (kn_alert_fires(&c->rules[0], v)) kn_webhook_post(url, json, 5, 0.2, 2, &tries);
 *     kn_alert_config_free(c);
 *
 * The file (YAML):
 *
 *   rules:
 *     - name: int_rate_moved          # unique; names the alert
 *       metric: psi                   # see below
 *       column: int_rate              # column metrics; left out: the worst column
 *       condition: "> 0.2"            # >, >=, <, <= and a number
 *       for: 2                        # consecutive windows (or checks) it must hold; default 1
 *       window: 500                   # rows per window (kiln monitor check --window); optional
 *       severity: critical            # info, warning (default) or critical
 *       retrain:                      # optional: kiln monitor retrain when an incident opens
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
 * prediction_psi, prediction_p, prediction_drift (0 or 1).
 * An unknown metric, condition or key is an error naming its line.
 */
#ifndef KILN_ALERT_H
#define KILN_ALERT_H

#include "kiln/drift.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { KN_ALERT_GT = 0, KN_ALERT_GE = 1, KN_ALERT_LT = 2, KN_ALERT_LE = 3 } kn_alert_op;

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

/* The rule's metric on a check: the columns' report, the predictions'
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
