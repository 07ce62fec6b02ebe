/* Alert rules: the YAML file, a rule's value on a check (kiln/alert.h). */
#include "kiln/alert.h"
#include "kiln/mem.h"
#include "prep/yaml-impl.h"

#include <math.h>
#include <string.h>

static const char *const column_metrics[] = {
    "psi", "ks_d",       "ks_p",    "wasserstein",    "chi2",        "chi2_p",
    "js",  "p_adjusted", "missing", "missing_change", "unseen_share"};
static const char *const check_metrics[] = {"drifted_columns", "drift",        "invalid_share",
                                            "prediction_psi",  "prediction_p", "prediction_drift",
                                            "score_psi",       "score_p",      "score_drift"};
static const char *const anomaly_metrics[] = {"anomaly_share", "anomaly_p", "anomalous",
                                              "anomalous_windows"};
static const char *const ops_metrics[] = {"ops_jump", "ops_drop", "ops_flatline", "ops_events",
                                          "ops_z"};
/* indexed by kn_live_metric; then the drop from the test score */
static const char *const feedback_metrics[] = {"live_accuracy", "live_roc_auc", "live_rmse",
                                               "live_mae", "live_drop"};
static const char *const series_names[KN_ALERT_N_SERIES] = {"requests", "errors", "latency"};
#define N_OF(a) (sizeof a / sizeof *a)

static int known(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return 1;
    return 0;
}

int kn_alert_metric_source(const char *m)
{
    if (known(column_metrics, N_OF(column_metrics), m) ||
        known(check_metrics, N_OF(check_metrics), m))
        return KN_ALERT_DRIFT;
    if (known(anomaly_metrics, N_OF(anomaly_metrics), m)) return KN_ALERT_ANOMALY;
    if (known(ops_metrics, N_OF(ops_metrics), m)) return KN_ALERT_OPS;
    if (known(feedback_metrics, N_OF(feedback_metrics), m)) return KN_ALERT_FEEDBACK;
    return -1;
}

void kn_alert_config_free(kn_alert_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_rules; i++) {
        kn_alert_rule *r = &c->rules[i];
        kn_free(r->name), kn_free(r->metric), kn_free(r->column), kn_free(r->severity);
        kn_free(r->retrain_spec), kn_free(r->retrain_data), kn_free(r->retrain_holdout);
    }
    for (size_t i = 0; i < c->n_sinks; i++) kn_free(c->sinks[i].url);
    kn_free(c->rules);
    kn_free(c->sinks);
    kn_free(c);
}

static kn_status dup_scalar(const kn__yaml *y, const yaml_node_t *n, const char *key, char **out)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(y, n, key, &s);
    if (e != KN_OK) return e;
    kn_free(*out);
    return (*out = kn_strdup(s)) ? KN_OK : KN_ERR_NOMEM;
}

static kn_status parse_condition(const kn__yaml *y, const yaml_node_t *n, kn_alert_rule *r)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(y, n, "condition", &s);
    if (e != KN_OK) return e;
    while (*s == ' ') s++;
    size_t k = 1;
    if (s[0] == '>' && s[1] == '=')
        r->op = KN_ALERT_GE, k = 2;
    else if (s[0] == '<' && s[1] == '=')
        r->op = KN_ALERT_LE, k = 2;
    else if (s[0] == '>')
        r->op = KN_ALERT_GT;
    else if (s[0] == '<')
        r->op = KN_ALERT_LT;
    else
        k = 0;
    char *end = NULL;
    double v = k ? strtod(s + k, &end) : NAN;
    while (end && *end == ' ') end++;
    if (!k || !end || end == s + k || *end || !isfinite(v))
        return kn__yaml_at(y, n,
                           "condition '%s' is a comparison and a number, e.g. \"> 0.2\" (>, >=, "
                           "<, <=)",
                           s);
    r->threshold = v;
    return KN_OK;
}

/* p relative to dir (the alert file's folder) unless absolute (a new string). */
static kn_status dup_path(const kn__yaml *y, const yaml_node_t *n, const char *key, const char *dir,
                          char **out)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(y, n, key, &s);
    if (e != KN_OK) return e;
    if (!s[0]) return kn__yaml_at(y, n, "'%s' names a file", key);
    kn_free(*out);
    *out = s[0] == '/' || !dir ? kn_strdup(s) : kn_sprintf("%s/%s", dir, s);
    return *out ? KN_OK : KN_ERR_NOMEM;
}

/* retrain: {spec: FILE, data: FILE, holdout: FILE, margin: X} */
static kn_status parse_retrain(const kn__yaml *y, const yaml_node_t *n, const char *dir,
                               kn_alert_rule *r)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(y, n,
                           "rule '%s': retrain is a mapping: {spec: FILE, holdout: FILE, "
                           "data: FILE, margin: 0.01}",
                           r->name ? r->name : "?");
    kn_status e = kn__yaml_check_keys(y, n);
    if (e != KN_OK) return e;
    r->retrain_margin = 0.01;
    KN__YAML_FOR_PAIRS(y, n, kv)
    {
        if (!kv.key || !kv.value) return kn__yaml_at(y, n, "retrain has a key that is not text");
        if (!strcmp(kv.key, "spec"))
            e = dup_path(y, kv.value, "spec", dir, &r->retrain_spec);
        else if (!strcmp(kv.key, "data"))
            e = dup_path(y, kv.value, "data", dir, &r->retrain_data);
        else if (!strcmp(kv.key, "holdout"))
            e = dup_path(y, kv.value, "holdout", dir, &r->retrain_holdout);
        else if (!strcmp(kv.key, "margin")) {
            e = kn__yaml_double(y, kv.value, "margin", &r->retrain_margin);
            if (e == KN_OK && !(r->retrain_margin >= 0 && isfinite(r->retrain_margin)))
                return kn__yaml_at(y, kv.value, "margin is a number, 0 or more");
        } else
            return kn__yaml_at(y, kv.key_node,
                               "unknown key '%s' in retrain; the keys are spec, data, holdout, "
                               "margin",
                               kv.key);
        if (e != KN_OK) return e;
    }
    if (!r->retrain_spec || !r->retrain_holdout)
        return kn__yaml_at(y, n,
                           "retrain needs spec: (the pipeline spec to run) and holdout: (labelled "
                           "rows both versions are scored on)");
    return KN_OK;
}

static kn_status parse_rule(const kn__yaml *y, const yaml_node_t *n, const char *dir,
                            kn_alert_rule *r)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(y, n, "each rule is a mapping (name:, metric:, condition:, ...)");
    kn_status e = kn__yaml_check_keys(y, n);
    if (e != KN_OK) return e;
    const yaml_node_t *metric = NULL, *cond = NULL, *series = NULL;
    r->for_windows = 1;
    r->series = -1;
    KN__YAML_FOR_PAIRS(y, n, kv)
    {
        uint64_t u = 0;
        if (!kv.key || !kv.value) return kn__yaml_at(y, n, "a rule has a key that is not text");
        if (!strcmp(kv.key, "name"))
            e = dup_scalar(y, kv.value, "name", &r->name);
        else if (!strcmp(kv.key, "metric")) {
            e = dup_scalar(y, kv.value, "metric", &r->metric);
            metric = kv.value;
        } else if (!strcmp(kv.key, "column"))
            e = dup_scalar(y, kv.value, "column", &r->column);
        else if (!strcmp(kv.key, "series")) {
            const char *sv;
            e = kn__yaml_need_scalar(y, kv.value, "series", &sv);
            for (int k = 0; e == KN_OK && k < KN_ALERT_N_SERIES; k++)
                if (!strcmp(sv, series_names[k])) r->series = k;
            if (e == KN_OK && r->series < 0)
                return kn__yaml_at(y, kv.value,
                                   "series '%s' is not one of requests, errors, latency", sv);
            series = kv.value;
        } else if (!strcmp(kv.key, "severity")) {
            e = dup_scalar(y, kv.value, "severity", &r->severity);
            if (e == KN_OK && strcmp(r->severity, "info") && strcmp(r->severity, "warning") &&
                strcmp(r->severity, "critical"))
                return kn__yaml_at(y, kv.value,
                                   "severity '%s' is not one of info, warning, critical",
                                   r->severity);
        } else if (!strcmp(kv.key, "condition")) {
            e = parse_condition(y, kv.value, r);
            cond = kv.value;
        } else if (!strcmp(kv.key, "for")) {
            e = kn__yaml_count(y, kv.value, "for", &u);
            if (e == KN_OK && (u < 1 || u > 1000000))
                return kn__yaml_at(y, kv.value, "'for' is a number of windows, 1 or more");
            r->for_windows = (int64_t)u;
        } else if (!strcmp(kv.key, "window")) {
            e = kn__yaml_count(y, kv.value, "window", &u);
            if (e == KN_OK && u < 1)
                return kn__yaml_at(y, kv.value, "'window' is a number of rows, 1 or more");
            r->window_rows = (int64_t)u;
        } else if (!strcmp(kv.key, "retrain"))
            e = parse_retrain(y, kv.value, dir, r);
        else
            return kn__yaml_at(y, kv.key_node,
                               "unknown key '%s' in a rule; the keys are name, metric, column, "
                               "series, condition, for, window, severity, retrain",
                               kv.key);
        if (e != KN_OK) return e;
    }
    if (!r->name) return kn__yaml_at(y, n, "a rule needs a name");
    if (!metric || !cond)
        return kn__yaml_at(y, n, "rule '%s' needs a metric and a condition", r->name);
    int col = known(column_metrics, N_OF(column_metrics), r->metric);
    int source = kn_alert_metric_source(r->metric);
    if (source < 0)
        return kn__yaml_at(y, metric,
                           "rule '%s': no metric '%s'; the metrics are psi, ks_d, ks_p, "
                           "wasserstein, chi2, chi2_p, js, p_adjusted, missing, missing_change, "
                           "unseen_share (per column), drifted_columns, drift, invalid_share, "
                           "prediction_psi, prediction_p, prediction_drift, score_psi, score_p, "
                           "score_drift (kiln monitor check), "
                           "anomaly_share, anomaly_p, anomalous, anomalous_windows (check "
                           "--anomalies), ops_jump, ops_drop, ops_flatline, ops_events, ops_z "
                           "(kiln monitor ops), live_accuracy, live_roc_auc, live_rmse, "
                           "live_mae, live_drop (live scores from feedback labels)",
                           r->name, r->metric);
    r->source = (kn_alert_source)source;
    if (series && r->source != KN_ALERT_OPS)
        return kn__yaml_at(y, series,
                           "rule '%s': series selects an ops_* metric's series; '%s' has none, "
                           "drop series",
                           r->name, r->metric);
    if (!col && r->column)
        return kn__yaml_at(y, metric, "rule '%s': '%s' is a metric of the whole check; drop column",
                           r->name, r->metric);
    if (!r->severity && !(r->severity = kn_strdup("warning"))) return KN_ERR_NOMEM;
    return KN_OK;
}

static kn_status parse_sink(const kn__yaml *y, const yaml_node_t *n, kn_alert_sink *s)
{
    s->retries = 5;
    s->backoff_s = 0.5;
    s->timeout_s = 5;
    const char *text = kn__yaml_scalar(n);
    if (text && !strcmp(text, "log")) {
        s->kind = KN_SINK_LOG;
        return KN_OK;
    }
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(y, n, "a sink is 'log' or a mapping with webhook: URL");
    kn_status e = kn__yaml_check_keys(y, n);
    if (e != KN_OK) return e;
    KN__YAML_FOR_PAIRS(y, n, kv)
    {
        uint64_t u = 0;
        if (!kv.key || !kv.value) return kn__yaml_at(y, n, "a sink has a key that is not text");
        if (!strcmp(kv.key, "webhook")) {
            s->kind = KN_SINK_WEBHOOK;
            e = dup_scalar(y, kv.value, "webhook", &s->url);
            if (e == KN_OK && strncmp(s->url, "http://", 7) && strncmp(s->url, "https://", 8))
                return kn__yaml_at(y, kv.value, "webhook '%s' is not an http:// or https:// URL",
                                   s->url);
        } else if (!strcmp(kv.key, "retries")) {
            e = kn__yaml_count(y, kv.value, "retries", &u);
            if (e == KN_OK && u > 100) return kn__yaml_at(y, kv.value, "retries is 0 to 100");
            s->retries = (int)u;
        } else if (!strcmp(kv.key, "backoff")) {
            e = kn__yaml_double(y, kv.value, "backoff", &s->backoff_s);
            if (e == KN_OK && !(s->backoff_s >= 0 && s->backoff_s <= 600))
                return kn__yaml_at(y, kv.value, "backoff is 0 to 600 seconds");
        } else if (!strcmp(kv.key, "timeout")) {
            e = kn__yaml_double(y, kv.value, "timeout", &s->timeout_s);
            if (e == KN_OK && !(s->timeout_s > 0 && s->timeout_s <= 600))
                return kn__yaml_at(y, kv.value, "timeout is over 0, up to 600 seconds");
        } else
            return kn__yaml_at(y, kv.key_node,
                               "unknown key '%s' in a sink; the keys are webhook, retries, "
                               "backoff, timeout",
                               kv.key);
        if (e != KN_OK) return e;
    }
    if (!s->url) return kn__yaml_at(y, n, "a sink mapping needs webhook: URL");
    return KN_OK;
}

kn_status kn_alert_config_parse(const char *text, size_t len, const char *what,
                                kn_alert_config **out)
{
    *out = NULL;
    kn__yaml y;
    kn_status e = kn__yaml_load(&y, text, len, what);
    if (e != KN_OK) return e;
    kn_alert_config *c = kn_calloc(1, sizeof *c);
    yaml_node_t *root = kn__yaml_root(&y);
    const char *slash = strrchr(what, '/');
    char *dir = slash ? kn_strndup(what, (size_t)(slash - what) + (slash == what)) : NULL;
    if (!c) {
        e = KN_ERR_NOMEM;
        goto done;
    }
    if (!root || root->type != YAML_MAPPING_NODE) {
        e = kn_fail(KN_ERR_PARSE, "%s: an alert file is a mapping with rules: and sinks:", what);
        goto done;
    }
    if ((e = kn__yaml_check_keys(&y, root)) != KN_OK) goto done;
    KN__YAML_FOR_PAIRS(&y, root, kv)
    {
        if (e != KN_OK) break;
        int rules = kv.key && !strcmp(kv.key, "rules"), sinks = kv.key && !strcmp(kv.key, "sinks");
        if (!rules && !sinks) {
            e = kn__yaml_at(
                &y, kv.key_node,
                "unknown key '%s'; an alert file has rules: and sinks:", kv.key ? kv.key : "");
            break;
        }
        if (kv.value->type != YAML_SEQUENCE_NODE) {
            e = kn__yaml_at(&y, kv.value, "'%s' is a list", kv.key);
            break;
        }
        size_t n = kn__yaml_len(kv.value);
        if (rules) {
            c->rules = kn_calloc(n ? n : 1, sizeof *c->rules);
            if (!c->rules) e = KN_ERR_NOMEM;
            for (size_t i = 0; e == KN_OK && i < n; i++) {
                c->n_rules++;
                e = parse_rule(&y, kn__yaml_item(&y, kv.value, i), dir, &c->rules[i]);
                for (size_t j = 0; e == KN_OK && j < i; j++)
                    if (!strcmp(c->rules[j].name, c->rules[i].name))
                        e = kn__yaml_at(&y, kn__yaml_item(&y, kv.value, i),
                                        "two rules are named '%s'; names identify alerts",
                                        c->rules[i].name);
            }
        } else {
            c->sinks = kn_calloc(n ? n : 1, sizeof *c->sinks);
            if (!c->sinks) e = KN_ERR_NOMEM;
            for (size_t i = 0; e == KN_OK && i < n; i++) {
                c->n_sinks++;
                e = parse_sink(&y, kn__yaml_item(&y, kv.value, i), &c->sinks[i]);
            }
        }
    }
    if (e == KN_OK && !c->n_rules)
        e = kn_fail(KN_ERR_PARSE, "%s: no rules: give at least one under rules:", what);
done:
    kn_free(dir);
    kn__yaml_free(&y);
    if (e != KN_OK)
        kn_alert_config_free(c);
    else
        *out = c;
    return e;
}

/* The metric of one column; lower_is_worse for p-values. */
static double col_metric(const kn_drift_col *c, const char *m, int *lower_is_worse)
{
    *lower_is_worse = 0;
    if (!strcmp(m, "psi")) return c->psi;
    if (!strcmp(m, "ks_d")) return c->ks_d;
    if (!strcmp(m, "wasserstein")) return c->wasserstein;
    if (!strcmp(m, "chi2")) return c->chi2;
    if (!strcmp(m, "js")) return c->js;
    if (!strcmp(m, "missing")) return c->missing_cur;
    if (!strcmp(m, "missing_change")) return fabs(c->missing_cur - c->missing_ref);
    if (!strcmp(m, "unseen_share")) return c->unseen_frac;
    *lower_is_worse = 1;
    if (!strcmp(m, "ks_p")) return c->ks_p;
    if (!strcmp(m, "chi2_p")) return c->chi2_p;
    return c->p_adjusted; /* p_adjusted */
}

void kn_alert_inputs_init(kn_alert_inputs *in)
{
    memset(in, 0, sizeof *in);
    in->invalid_share = NAN;
    in->anomaly_share = in->anomaly_p = in->anomalous = in->anomalous_windows = NAN;
    for (int s = 0; s < KN_ALERT_N_SERIES; s++) in->ops_abs_z[s] = NAN;
    for (int m = 0; m < KN_ALERT_N_LIVE; m++) in->live[m] = in->live_test[m] = NAN;
    in->live_metric = -1;
}

kn_status kn_alert_value(const kn_alert_rule *r, const kn_drift_report *cols,
                         const kn_drift_col *pred, double invalid_share, double *value,
                         const char **column)
{
    kn_alert_inputs in;
    kn_alert_inputs_init(&in);
    in.cols = cols;
    in.pred = pred;
    in.invalid_share = invalid_share;
    return kn_alert_measure(r, &in, value, column);
}

/* An ops metric over the rule's series: the scopes in an event of the
 * metric's kind (any kind: ops_events), or the largest |z|. */
static double ops_value(const kn_alert_rule *r, const kn_alert_inputs *in, const char **column)
{
    const char *m = r->metric;
    int kind = !strcmp(m, "ops_jump")       ? KN_OPSANOM_JUMP
               : !strcmp(m, "ops_drop")     ? KN_OPSANOM_DROP
               : !strcmp(m, "ops_flatline") ? KN_OPSANOM_FLATLINE
                                            : KN_OPSANOM_NONE; /* ops_events, ops_z */
    int z = !strcmp(m, "ops_z");
    double v = z ? NAN : 0, best = NAN;
    for (int s = 0; s < KN_ALERT_N_SERIES; s++) {
        if (r->series >= 0 && s != r->series) continue;
        double x = z ? in->ops_abs_z[s] : 0;
        for (int k = 1; !z && k < KN_OPSANOM_N_EVENTS; k++)
            if (kind == KN_OPSANOM_NONE || k == kind) x += in->ops_in_event[s][k];
        if (isnan(x)) continue;
        if (x > 0 && (isnan(best) || x > best)) best = x, *column = series_names[s];
        v = z ? (isnan(v) || x > v ? x : v) : v + x;
    }
    if (r->series >= 0) *column = series_names[r->series];
    return v;
}

/* A live score, or live_drop: the test score minus the live one (the
 * live one minus the test score for a lower-is-better metric), so that a
 * larger value is worse either way. */
static double feedback_value(const char *m, const kn_alert_inputs *in)
{
    if (strcmp(m, "live_drop")) {
        for (int i = 0; i < KN_ALERT_N_LIVE; i++)
            if (!strcmp(m, feedback_metrics[i])) return in->live[i];
        return NAN;
    }
    int h = in->live_metric;
    if (h < 0 || h >= KN_ALERT_N_LIVE) return NAN;
    double live = in->live[h], test = in->live_test[h];
    if (isnan(live) || isnan(test)) return NAN;
    return kn_live_metric_lower_better((kn_live_metric)h) ? live - test : test - live;
}

kn_status kn_alert_measure(const kn_alert_rule *r, const kn_alert_inputs *in, double *value,
                           const char **column)
{
    *value = NAN;
    *column = NULL;
    const char *m = r->metric;
    const kn_drift_report *cols = in->cols;
    const kn_drift_col *pred = in->pred, *score = in->score;
    double invalid_share = in->invalid_share;
    switch (kn_alert_metric_source(m)) {
    case KN_ALERT_ANOMALY:
        *value = !strcmp(m, "anomaly_share") ? in->anomaly_share
                 : !strcmp(m, "anomaly_p")   ? in->anomaly_p
                 : !strcmp(m, "anomalous")   ? in->anomalous
                                             : in->anomalous_windows;
        return KN_OK;
    case KN_ALERT_OPS:
        if (in->has_ops) *value = ops_value(r, in, column);
        return KN_OK;
    case KN_ALERT_FEEDBACK:
        *value = feedback_value(m, in);
        return KN_OK;
    case KN_ALERT_DRIFT:
        break;
    default:
        return kn_fail(KN_ERR_INVALID, "alert rule '%s': no metric '%s'", r->name, m);
    }
    if (!cols) return KN_OK;
    if (!strcmp(m, "drifted_columns")) *value = (double)cols->n_drifted;
    if (!strcmp(m, "drift"))
        *value = cols->n_drifted || (pred && pred->drifted) || (score && score->drifted) ||
                         invalid_share > 0
                     ? 1
                     : 0;
    if (!strcmp(m, "invalid_share")) *value = invalid_share;
    if (!strcmp(m, "prediction_psi")) *value = pred ? pred->psi : NAN;
    if (!strcmp(m, "prediction_p")) *value = pred ? pred->p : NAN;
    /* the predictions drifted: the classes (the values), or a classifier's scores */
    if (!strcmp(m, "prediction_drift"))
        *value = pred ? (pred->drifted || (score && score->drifted)) : NAN;
    if (!strcmp(m, "score_psi")) *value = score ? score->psi : NAN;
    if (!strcmp(m, "score_p")) *value = score ? score->p : NAN;
    if (!strcmp(m, "score_drift")) *value = score ? score->drifted : NAN;
    if (known(check_metrics, N_OF(check_metrics), m)) return KN_OK;
    int found = 0;
    for (size_t i = 0; i < cols->n_cols; i++) {
        const kn_drift_col *c = &cols->cols[i];
        if (r->column && strcmp(r->column, c->name)) continue;
        found = 1;
        int low = 0;
        double v = col_metric(c, m, &low);
        if (isnan(v)) continue;
        if (isnan(*value) || (low ? v < *value : v > *value)) {
            *value = v;
            *column = c->name;
        }
    }
    if (r->column && !found)
        return kn_fail(KN_ERR_NOT_FOUND,
                       "alert rule '%s' watches column '%s', which the check does not hold "
                       "(not an input column of the model, or nothing to compare)",
                       r->name, r->column);
    return KN_OK;
}

int kn_alert_fires(const kn_alert_rule *r, double v)
{
    if (isnan(v)) return 0;
    switch (r->op) {
    case KN_ALERT_GT:
        return v > r->threshold;
    case KN_ALERT_GE:
        return v >= r->threshold;
    case KN_ALERT_LT:
        return v < r->threshold;
    case KN_ALERT_LE:
        return v <= r->threshold;
    }
    return 0;
}
