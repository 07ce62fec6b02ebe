/* kiln monitor: alert rules per window, incidents, sinks, the store
 * (cli_monitor.h), and `kiln monitor alerts`. */
#include "cli/cli_monitor.h"
#include "cli/cli_retrain.h"
#include "kiln/incident.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/names.h"
#include "kiln/report.h"
#include "kiln/store.h"
#include "kiln/tempfile.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cli_alerting {
    kn_alert_config *c;
    kn_store *s;
    char *model;
    const char *cmd;   /* "monitor check", "monitor ops": names the command in messages */
    kn_incidents *inc; /* streaks, incidents, sinks (kiln/incident.h) */
    const char *scope; /* of the windows now (borrowed), or NULL */
};

void cli_alerts_set_scope(cli_alerting *al, const char *scope)
{
    if (al) al->scope = scope && *scope ? scope : NULL;
}

int cli_alerts_check_columns(const cli_alerting *al, const char *const *names, size_t n)
{
    for (size_t i = 0; al && al->c && i < al->c->n_rules; i++) {
        const char *col = al->c->rules[i].column, *hint = NULL;
        size_t j = 0, best = SIZE_MAX;
        while (col && j < n && strcmp(names[j], col)) j++;
        for (size_t k = 0; col && j == n && k < n; k++) {
            size_t d = kn_name_distance(col, names[k]);
            if (d < best) best = d, hint = names[k];
        }
        if (col && j == n)
            return cli_usage_error(al->cmd,
                                   "--alerts: rule '%s' watches column '%s', which is not an "
                                   "input column of the model%s%s%s",
                                   al->c->rules[i].name, col,
                                   hint && kn_name_is_close(col, best) ? " (did you mean '" : "",
                                   hint && kn_name_is_close(col, best) ? hint : "",
                                   hint && kn_name_is_close(col, best) ? "'?)" : "");
    }
    return CLI_OK;
}

kn_store *cli_alerts_store(const cli_alerting *al)
{
    return al ? al->s : NULL;
}

typedef struct last_rec {
    const char *data, *key;
    int found;
    double value;
} last_rec;

static int on_recorded(const kn_monitor_check *c, void *user)
{
    last_rec *l = user;
    if (!c->data || strcmp(c->data, l->data)) return 0;
    json_t *j = json_loads(c->result, 0, NULL);
    json_t *v = json_object_get(j, l->key);
    if (json_is_number(v) && (!l->found || json_number_value(v) > l->value)) {
        l->found = 1;
        l->value = json_number_value(v);
    }
    json_decref(j);
    return 0;
}

kn_status cli_alerts_last_recorded(const cli_alerting *al, const char *data, const char *key,
                                   int *found, double *value)
{
    last_rec l = {data, key, 0, 0};
    kn_status e = al && al->s ? kn_store_monitor_checks(al->s, al->model, on_recorded, &l) : KN_OK;
    *found = l.found;
    *value = l.value;
    return e;
}

void cli_alerts_close(cli_alerting *al)
{
    if (!al) return;
    kn_incidents_free(al->inc);
    kn_alert_config_free(al->c);
    kn_store_close(al->s);
    kn_free(al->model);
    kn_free(al);
}

/* The whole of a small text file (new, kn_free; NUL-terminated). */
static kn_status read_text(const char *path, char **text, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return kn_fail(KN_ERR_IO, "%s: cannot open it: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = kn_malloc(cap);
    kn_status e = buf ? KN_OK : KN_ERR_NOMEM;
    while (e == KN_OK) {
        if (n + 1 >= cap) {
            char *b = cap < (1u << 24) ? kn_realloc(buf, cap * 2) : NULL;
            if (!b) {
                e = kn_fail(KN_ERR_INVALID, "%s: too long for an alert file (16 MiB at most)",
                            path);
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) break;
    }
    if (e == KN_OK && ferror(fp)) e = kn_fail(KN_ERR_IO, "%s: cannot read it", path);
    fclose(fp);
    if (e != KN_OK) {
        kn_free(buf);
        return e;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return KN_OK;
}

int cli_alerts_check_sources(const cli_alerting *al, int anomalies)
{
    int ops = !strcmp(al->cmd, "monitor ops"), log = !strcmp(al->cmd, "monitor anomalies");
    int feedback = !strcmp(al->cmd, "monitor feedback");
    for (size_t i = 0; al->c && i < al->c->n_rules; i++) {
        const kn_alert_rule *r = &al->c->rules[i];
        if (feedback != (r->source == KN_ALERT_FEEDBACK))
            return cli_usage_error(al->cmd,
                                   feedback ? "--alerts: rule '%s': metric '%s' is not a live "
                                              "score; kiln monitor feedback takes live_accuracy, "
                                              "live_roc_auc, live_rmse, live_mae, live_drop"
                                            : "--alerts: rule '%s': metric '%s' is a live score "
                                              "of feedback labels; watch it with kiln monitor "
                                              "feedback --alerts (or kiln serve --alerts)",
                                   r->name, r->metric);
        if (feedback) continue;
        if (log && r->source != KN_ALERT_ANOMALY)
            return cli_usage_error(al->cmd,
                                   "--alerts: rule '%s': metric '%s' is not measured on a "
                                   "prediction log's inputs; kiln monitor anomalies takes "
                                   "anomaly_share, anomaly_p, anomalous, anomalous_windows (%s)",
                                   r->name, r->metric,
                                   r->source == KN_ALERT_OPS
                                       ? "ops_* metrics: kiln monitor ops --log ACCESS_LOG"
                                       : "drift metrics: kiln monitor check --data BATCH");
        if (log) continue;
        if (ops && r->source != KN_ALERT_OPS)
            return cli_usage_error(al->cmd,
                                   "--alerts: rule '%s': metric '%s' is one of kiln monitor "
                                   "check; kiln monitor ops takes ops_jump, ops_drop, "
                                   "ops_flatline, ops_events, ops_z",
                                   r->name, r->metric);
        if (ops && r->window_rows)
            return cli_usage_error(al->cmd,
                                   "--alerts: rule '%s' has window: (rows of a check); kiln "
                                   "monitor ops has intervals (--interval): drop window",
                                   r->name);
        if (!ops && r->source == KN_ALERT_OPS)
            return cli_usage_error(al->cmd,
                                   "--alerts: rule '%s': metric '%s' is one of an access log's "
                                   "series; watch it with kiln monitor ops --log FILE --alerts",
                                   r->name, r->metric);
        if (!ops && r->source == KN_ALERT_ANOMALY && !anomalies)
            return cli_usage_error(al->cmd,
                                   "--alerts: rule '%s' watches '%s', which needs --anomalies",
                                   r->name, r->metric);
    }
    return CLI_OK;
}

/* The log sink: a line on standard error. */
static void log_sink(const char *json, void *user)
{
    (void)user;
    fprintf(stderr, "kiln: alert: %s\n", json);
}

int cli_alerts_open(const char *cmd, const char *file, int record, const char *model,
                    int64_t *window, cli_alerting **out)
{
    *out = NULL;
    cli_alerting *al = kn_calloc(1, sizeof *al);
    if (!al || !(al->model = kn_strdup(model))) {
        kn_free(al);
        cli_error("%s: out of memory", cmd);
        return CLI_ERROR;
    }
    al->cmd = cmd;
    if (file) {
        char *text = NULL;
        size_t len = 0;
        kn_status e = read_text(file, &text, &len);
        if (e == KN_OK) e = kn_alert_config_parse(text, len, file, &al->c);
        kn_free(text);
        if (e != KN_OK) {
            cli_alerts_close(al);
            return cli_usage_error(cmd, "--alerts: %s", kn_last_error());
        }
        size_t n = al->c->n_rules;
        for (size_t i = 0; i < n; i++) {
            int64_t rw = al->c->rules[i].window_rows;
            if (!rw) continue;
            if (*window && *window != rw) {
                int rc = cli_usage_error(cmd,
                                         "--alerts: rule '%s' has window %lld rows, the check "
                                         "%lld; give the rules one window, or no --window",
                                         al->c->rules[i].name, (long long)rw, (long long)*window);
                cli_alerts_close(al);
                return rc;
            }
            *window = rw;
        }
    }
    for (size_t i = 0; al->c && i < al->c->n_rules; i++) {
        const kn_alert_rule *r = &al->c->rules[i];
        if (!r->retrain_spec) continue;
        const char *why = !strcmp(cmd, "monitor feedback")
                              ? "kiln monitor feedback does not run (kiln serve --alerts and "
                                "kiln monitor check --record do)"
                          : !strcmp(cmd, "monitor ops")
                              ? "kiln monitor ops does not take (its --model names a served "
                                "model, not NAME@STAGE of the store); retrain from kiln monitor "
                                "check's or kiln monitor anomalies' rules"
                          : !record ? "needs --record (the store keeps the incident, so that one "
                                      "incident retrains once)"
                          : access(model, F_OK) == 0
                              ? "needs --model NAME@STAGE of the store, not a file (the "
                                "retrain registers a version of NAME)"
                              : NULL;
        if (why) {
            int rc =
                cli_usage_error(cmd, "--alerts: rule '%s' has retrain:, which %s", r->name, why);
            cli_alerts_close(al);
            return rc;
        }
    }
    if (record && kn_store_open(cli_store_dir, 1, &al->s) != KN_OK) {
        cli_error("%s: --record: %s", cmd, kn_last_error());
        cli_alerts_close(al);
        return CLI_ERROR;
    }
    kn_incident_opts io;
    kn_incident_opts_init(&io);
    io.store = al->s;
    io.log_sink = log_sink;
    if (kn_incidents_new(al->c, &io, &al->inc) != KN_OK) {
        cli_error("%s: out of memory", cmd);
        cli_alerts_close(al);
        return CLI_ERROR;
    }
    *out = al;
    return CLI_OK;
}

/* A rule's retrain: action on its open incident (one per incident: the
 * store's claim skips the later windows); what happened goes into detail. */
static void retrain_action(cli_alerting *al, const kn_alert_rule *r, json_t *detail)
{
    const char *at = strchr(al->model, '@');
    char *name = at ? kn_strndup(al->model, (size_t)(at - al->model)) : kn_strdup(al->model);
    char *key = kn_sprintf("rule %s, incident %lld", r->name,
                           (long long)json_integer_value(json_object_get(detail, "incident")));
    char *trigger = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    if (!name || !key || !trigger) {
        cli_error("%s: retrain of rule '%s': out of memory", al->cmd, r->name);
        kn_free(name), kn_free(key), free(trigger);
        return;
    }
    cli_retrain_req q = {0};
    q.model = name;
    q.spec = r->retrain_spec;
    q.data = r->retrain_data;
    q.holdout = r->retrain_holdout;
    q.margin = r->retrain_margin;
    q.key = key;
    q.trigger = trigger;
    q.stale_s = 24 * 3600.0;
    json_t *res = NULL;
    cli_retrain_outcome o = cli_retrain(al->s, cli_store_dir, &q, &res);
    if (o == CLI_RETRAIN_FAILED)
        cli_error("%s: rule '%s': retrain failed: %s", al->cmd, r->name, kn_last_error());
    else if (o != CLI_RETRAIN_SKIPPED && !cli.quiet)
        fprintf(stderr, "kiln: rule '%s': retrain %lld of '%s' %s: %s\n", r->name,
                (long long)json_integer_value(json_object_get(res, "retrain")), name,
                json_string_value(json_object_get(res, "outcome")),
                json_string_value(json_object_get(res, "reason")));
    json_object_set_new(detail, "retrain", res);
    kn_free(name), kn_free(key), free(trigger);
}

kn_status cli_alerts_window(cli_alerting *al, size_t k, const char *data, uint64_t window_rows,
                            uint64_t rows, int drift, json_t *result, const kn_alert_inputs *in,
                            json_t *extra, json_t **alerts, int *alerting)
{
    *alerts = json_array();
    *alerting = 0;
    kn_status e = KN_OK;
    if (al->s) {
        char *text = json_dumps(result, JSON_COMPACT);
        e = text
                ? kn_store_monitor_add(al->s, al->model, data, window_rows, rows, drift, text, NULL)
                : KN_ERR_NOMEM;
        free(text);
    }
    for (size_t i = 0; e == KN_OK && al->c && i < al->c->n_rules; i++) {
        const kn_alert_rule *r = &al->c->rules[i];
        double v = NAN;
        const char *column = NULL;
        e = kn_alert_measure(r, in, &v, &column);
        if (e != KN_OK) break;
        int fires = kn_alert_fires(r, v);
        json_t *detail = kn_incident_detail(r, al->model, v, column, (int64_t)k, data);
        if (!detail) {
            e = KN_ERR_NOMEM;
            break;
        }
        if (in->cols) {
            json_t *drifted = json_array();
            for (size_t j = 0; j < in->cols->n_cols; j++)
                if (in->cols->cols[j].drifted)
                    json_array_append_new(drifted, json_string(in->cols->cols[j].name));
            json_object_set_new(detail, "drifted_columns", drifted);
        }
        if (r->source == KN_ALERT_OPS || r->source == KN_ALERT_FEEDBACK)
            json_object_del(detail, "column");
        if (r->source == KN_ALERT_OPS)
            json_object_set_new(detail, "series", column ? json_string(column) : json_null());
        if (extra) json_object_update(detail, extra);
        kn_incident_step st;
        e = kn_incidents_observe(al->inc, i, al->model, al->scope, fires, (int64_t)k, detail, &st);
        /* the retrain first, so that the alert the sinks get carries its
         * result (new version, holdout scores, promoted or not and why) */
        if (e == KN_OK && st.open && al->s && r->retrain_spec) retrain_action(al, r, detail);
        if (e == KN_OK && st.send && al->c->n_sinks) {
            int ok = 0, tries = 0;
            e = kn_incidents_deliver(al->inc, i, al->model, al->scope, detail, &ok, &tries);
            if (e == KN_OK && !ok)
                cli_error("%s: alert not delivered: %s%s", al->cmd, kn_last_error(),
                          al->s ? " (the store keeps it undelivered; the next check with --record "
                                  "retries)"
                                : " (sent again with the next window while the incident is open)");
        }
        json_object_set_new(detail, "firing", json_boolean(fires));
        json_object_set_new(detail, "open", json_boolean(st.open));
        json_object_set_new(detail, "new", json_boolean(st.opened));
        json_array_append_new(*alerts, detail);
        *alerting |= st.open;
    }
    return e;
}

/* ---- kiln monitor alerts ---- */

typedef struct alerts_args {
    const char *store, *model;
    int64_t limit;
} alerts_args;
static const cli_opt alerts_opts[] = {
    CLI_OPT_TEXT(alerts_args, model, "model", "NAME",
                 "only this model's alerts (as checked), of every scope; NAME#SCOPE: of one "
                 "scope (e.g. credit@production#canary)"),
    CLI_OPT_INT(alerts_args, limit, "limit", "N", "50", 0, 1e9, "the latest N (0: all)"),
    CLI_OPT_TEXT(alerts_args, store, "store", "DIR",
                 "the store (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};
static int cmd_monitor_alerts(int argc, char **argv);
const cli_spec monitor_alerts_spec = {
    "monitor alerts",
    "the alert incidents kiln monitor check --record kept",
    "The alert incidents in the store, newest first: the rule, the model as\n"
    "checked, the scope of its windows (main; kiln serve's canary; kiln monitor\n"
    "feedback's model version), its severity, when it opened, was last seen and\n"
    "closed (UTC), whether a sink took it, and what it measured.\n",
    "  kiln monitor alerts --model credit@production\n",
    alerts_opts,
    0,
    cmd_monitor_alerts};

typedef struct alerts_seen {
    json_t *arr;     /* --json: the incidents */
    size_t n;        /* incidents listed */
    char names[512]; /* the models of the store's incidents (nothing matched) */
} alerts_seen;

static int on_alert(const kn_alert_incident *a, void *user)
{
    alerts_seen *seen = user;
    json_t *arr = seen->arr;
    char t1[32], t2[32];
    seen->n++;
    if (arr) {
        json_t *detail = json_loads(a->detail, 0, NULL);
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:o, s:o, s:I, s:o}", "id",
                           (json_int_t)a->id, "model", a->model, "scope",
                           a->scope ? a->scope : "main", "rule", a->rule, "severity", a->severity,
                           "opened", a->opened, "last_seen", a->last_seen, "closed",
                           a->closed > 0 ? json_real(a->closed) : json_null(), "delivered",
                           a->delivered > 0 ? json_real(a->delivered) : json_null(), "attempts",
                           (json_int_t)a->attempts, "detail", detail ? detail : json_null()));
        return 0;
    }
    printf("%6lld  %-20s %-24s %-8s %-8s %s  %s  %s\n", (long long)a->id, a->rule, a->model,
           a->scope ? a->scope : "main", a->severity, cli_store_time(a->opened, t1, sizeof t1),
           a->closed > 0 ? cli_store_time(a->closed, t2, sizeof t2) : "open               ",
           a->delivered > 0 ? "delivered" : "undelivered");
    return 0;
}

/* The distinct models of the store's incidents, into seen->names. */
static int on_alert_model(const kn_alert_incident *a, void *user)
{
    alerts_seen *seen = user;
    size_t len = strlen(seen->names), m = strlen(a->model);
    for (const char *p = seen->names; *p;) { /* "a, b, c" */
        const char *end = strstr(p, ", ");
        size_t k = end ? (size_t)(end - p) : strlen(p);
        if (k == m && !memcmp(p, a->model, m)) return 0;
        p += k + (end ? 2 : 0);
    }
    if (len + m + 8 < sizeof seen->names)
        snprintf(seen->names + len, sizeof seen->names - len, "%s%s", len ? ", " : "", a->model);
    return 0;
}

static int cmd_monitor_alerts(int argc, char **argv)
{
    alerts_args a = {0};
    int rc = cli_parse(&monitor_alerts_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    json_t *arr = cli.json ? json_array() : NULL;
    alerts_seen seen = {.arr = arr};
    if (!arr)
        printf("%6s  %-20s %-24s %-8s %-8s %-19s  %-19s  %s\n", "id", "rule", "model", "scope",
               "severity", "opened", "closed", "delivery");
    if (kn_store_alerts(s, a.model, (size_t)a.limit, on_alert, &seen) != KN_OK) {
        json_decref(arr);
        return cli_store_fail(s);
    }
    /* the model as checked or served ("credit@production"), not its name
     * alone: an empty list would look like a model without alerts */
    if (a.model && !seen.n && kn_store_alerts(s, NULL, 0, on_alert_model, &seen) == KN_OK &&
        seen.names[0])
        kn_log(KN_LOG_WARN,
               "monitor alerts: no alert of '%s'; the store's alerts are of: %s (--model takes "
               "the model as kiln monitor check or kiln serve named it, e.g. NAME@production)",
               a.model, seen.names);
    if (arr)
        rc = cli_emit_json(json_pack("{s:s, s:o}", "command", "monitor alerts", "alerts", arr));
    kn_store_close(s);
    return rc;
}

/* ---- kiln monitor report ---- */

typedef struct report_args {
    const char *store, *model, *out;
} report_args;
static const cli_opt report_opts[] = {
    CLI_OPT_NEED(report_args, model, "model", "NAME",
                 "the model as kiln monitor check --record or kiln serve named it"),
    CLI_OPT_NEED(report_args, out, "out", "FILE", "where the HTML goes"),
    CLI_OPT_TEXT(report_args, store, "store", "DIR",
                 "the store (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};
static int cmd_monitor_report(int argc, char **argv);
const cli_spec monitor_report_spec = {
    "monitor report",
    "the monitoring report: drift and alerts over time (HTML)",
    "Write one self-contained HTML page (inline SVG, no scripts) from the checks\n"
    "and alerts kept for a model by kiln monitor check --record, kiln serve\n"
    "--record-windows (the model as served: NAME@production, or NAME for a\n"
    "file), kiln monitor anomalies --record and kiln monitor ops --record: the\n"
    "PSI of the columns that moved most over the checks, every column's worst\n"
    "PSI and how many checks found it drifted, the predictions' PSI over the\n"
    "checks, the anomalous share per window, the operational series (requests,\n"
    "error share, p95 latency, with their baselines), and the alert history.\n",
    "  kiln monitor report --model credit@production --out monitor.html\n",
    report_opts,
    0,
    cmd_monitor_report};

static int cmd_monitor_report(int argc, char **argv)
{
    report_args a = {0};
    int rc = cli_parse(&monitor_report_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    char *html = NULL, *tmp = NULL;
    size_t len = 0;
    kn_status e = kn_report_monitor(s, a.model, &html, &len);
    if (e == KN_OK && !(tmp = kn_temp_path(a.out))) e = kn_fail(KN_ERR_NOMEM, "out of memory");
    if (e == KN_OK) {
        FILE *fp = fopen(tmp, "wb");
        int ok = fp && fwrite(html, 1, len, fp) == len && fflush(fp) == 0;
        if (fp && fclose(fp) != 0) ok = 0;
        if (!ok) {
            e = kn_fail(KN_ERR_IO, "%s: cannot write the report: %s", a.out, strerror(errno));
            kn_temp_discard(tmp);
        } else
            e = kn_temp_commit(tmp, a.out);
    }
    kn_free(html);
    if (e != KN_OK) {
        cli_error("monitor report: %s", kn_last_error());
        kn_store_close(s);
        return CLI_FAIL;
    }
    kn_store_close(s);
    if (cli.json)
        return cli_emit_json(json_pack("{s:s, s:s, s:s}", "command", "monitor report", "model",
                                       a.model, "out", a.out));
    printf("monitor report: wrote %s\n", a.out);
    return CLI_OK;
}
