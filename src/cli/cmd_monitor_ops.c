/* kiln monitor ops: operational anomalies in a served model's access log
 * (kiln serve --access-log), found after the fact with the detectors the
 * server runs live (--ops-interval, kiln/opsanom.h): per interval, for the
 * whole server and each model, the predict requests, the share answered
 * with an error and the 95th percentile latency. */
#include "cli/cli_monitor.h"
#include "kiln/mem.h"
#include "kiln/opsanom.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ops_args {
    const char *log, *model, *alerts, *store;
    double interval, threshold;
    int record;
} ops_args;

static const cli_opt ops_opts[] = {
    CLI_OPT_NEED(ops_args, log, "log", "FILE", "the access log (kiln serve --access-log)"),
    CLI_OPT_NUM(ops_args, interval, "interval", "SECONDS", "60", 0.05, 86400,
                "the length of an interval (as kiln serve --ops-interval)"),
    CLI_OPT_TEXT(ops_args, model, "model", "NAME",
                 "only this model's series (default: the server's and every model's)"),
    CLI_OPT_NUM(ops_args, threshold, "threshold", "Z", "5", 1, 100,
                "standard deviations from the baseline that make a jump or a drop"),
    CLI_OPT_TEXT(ops_args, alerts, "alerts", "FILE",
                 "alert rules on ops_* metrics and their sinks (YAML, as monitor check's)"),
    CLI_OPT_FLAG(ops_args, record, "record",
                 "keep each interval and the alerts in the store (incidents then last across "
                 "runs; intervals recorded before are not observed again)"),
    CLI_OPT_TEXT(ops_args, store, "store", "DIR",
                 "the store for --record (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};

static int cmd_monitor_ops(int argc, char **argv);
const cli_spec monitor_ops_spec = {
    "monitor ops",
    "operational anomalies (requests, errors, latency) in an access log",
    "Replay the access log of kiln serve (--access-log) through the detectors\n"
    "kiln serve --ops-interval runs live. The predict requests (v1 :predict,\n"
    "v2 /infer) are put in intervals of --interval seconds (aligned to the\n"
    "clock, from the first request's to the last's, empty ones included); per\n"
    "interval, for the server and for each model: the request count, the\n"
    "share answered with an error (4xx, 5xx) and the 95th percentile latency.\n"
    "Each series is scored against an EWMA baseline with an hour-of-day term:\n"
    "a value over --threshold standard deviations above it is a jump, below a\n"
    "drop; a request count stuck 3 intervals far from it (no traffic) a\n"
    "flat-line. The first 12 intervals of a series only teach the baseline.\n"
    "Lines without a request (the server's own event lines) are skipped.\n"
    "--alerts FILE evaluates alert rules per interval (the file of kiln monitor\n"
    "check --alerts; metrics ops_jump, ops_drop, ops_flatline: the series in\n"
    "an event of that kind, ops_events: of any kind, ops_z: the largest |z|;\n"
    "series: requests|errors|latency picks one series, else any), over the\n"
    "server's and every model's series (with --model, that model's): an\n"
    "incident opens after `for` intervals and is sent once to the sinks.\n"
    "--record keeps each interval (its requests and events) in the store's\n"
    "monitoring tables under the model (--model, else \"(server)\") and the\n"
    "log's path, with the rules' streaks and incidents, as kiln monitor check\n"
    "--record does: an incident spans runs and is sent once, and one a sink\n"
    "did not take is sent by the next run. The detectors still learn from the\n"
    "whole log, but an interval recorded before is not observed again (a\n"
    "replayed or grown log alerts once), and the log's last interval, which\n"
    "may still be filling, waits for a later run.\n"
    "Exit 0: no event; 1: an event or an alert; 2: usage (a bad alert file\n"
    "too); 3: a log that cannot be read.\n",
    "  kiln monitor ops --log access.jsonl --interval 60\n"
    "  kiln monitor ops --log access.jsonl --interval 300 --model credit --json\n"
    "  kiln monitor ops --log access.jsonl --interval 60 --alerts rules.yaml\n"
    "  kiln monitor ops --log access.jsonl --interval 60 --alerts rules.yaml --record\n",
    ops_opts,
    0,
    cmd_monitor_ops};

enum { SERIES = 3 };
static const char *const series_names[SERIES] = {"requests", "error_share", "latency_p95_seconds"};

typedef struct req {
    int64_t interval;
    size_t scope; /* 1 + the model's index */
    int error;
    double latency_s;
} req;

typedef struct ops_state {
    char **models;
    size_t n_models, cap_models;
    req *reqs;
    size_t n_reqs, cap_reqs;
} ops_state;

int cli_parse_utc(const char *s, double *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || s[n] != 'Z')
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    *out = (double)timegm(&tm) + sec;
    return 0;
}

static int predict_path(const char *p)
{
    size_t n = strlen(p);
    const char *q = strchr(p, '?');
    if (q) n = (size_t)(q - p);
    return (n > 8 && !strncmp(p + n - 8, ":predict", 8)) ||
           (n > 6 && !strncmp(p + n - 6, "/infer", 6));
}

static kn_status add_model(ops_state *st, const char *name, size_t *scope)
{
    for (size_t i = 0; i < st->n_models; i++)
        if (!strcmp(st->models[i], name)) return *scope = i + 1, KN_OK;
    if (st->n_models == st->cap_models) {
        size_t cap = st->cap_models ? 2 * st->cap_models : 8;
        char **m = kn_realloc(st->models, cap * sizeof *m);
        if (!m) return KN_ERR_NOMEM;
        st->models = m;
        st->cap_models = cap;
    }
    if (!(st->models[st->n_models] = kn_strdup(name))) return KN_ERR_NOMEM;
    *scope = ++st->n_models;
    return KN_OK;
}

static kn_status read_log(const char *path, double interval, ops_state *st)
{
    FILE *f = fopen(path, "r");
    if (!f) return kn_fail(KN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    kn_status e = KN_OK;
    while (e == KN_OK && getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        if (!j || !json_is_object(j)) {
            json_decref(j);
            e = kn_fail(KN_ERR_PARSE,
                        "%s:%zu: not a JSON object (%s); give kiln serve's "
                        "--access-log file",
                        path, lineno, j ? "another JSON value" : err.text);
            break;
        }
        const char *when = json_string_value(json_object_get(j, "time"));
        const char *p = json_string_value(json_object_get(j, "path"));
        json_t *status = json_object_get(j, "status"), *lat = json_object_get(j, "latency_us");
        double t = 0;
        if (!p || !json_is_integer(status) || !json_is_integer(lat)) { /* not a request line */
            json_decref(j);
            continue;
        }
        if (!when || cli_parse_utc(when, &t)) {
            json_decref(j);
            e = kn_fail(KN_ERR_PARSE,
                        "%s:%zu: \"time\" is not a UTC time like 2026-12-06T10:40:00.123456Z", path,
                        lineno);
            break;
        }
        if (predict_path(p)) {
            const char *model = json_string_value(json_object_get(j, "model"));
            size_t scope = 0;
            if (model) e = add_model(st, model, &scope);
            if (e == KN_OK && st->n_reqs == st->cap_reqs) {
                size_t c = st->cap_reqs ? 2 * st->cap_reqs : 1024;
                req *r = kn_realloc(st->reqs, c * sizeof *r);
                if (!r) e = KN_ERR_NOMEM;
                if (r) st->reqs = r, st->cap_reqs = c;
            }
            if (e == KN_OK) {
                json_int_t s = json_integer_value(status);
                st->reqs[st->n_reqs++] =
                    (req){(int64_t)floor(t / interval), scope, s >= 400 || s == 0,
                          (double)json_integer_value(lat) * 1e-6};
            }
        }
        json_decref(j);
    }
    free(line);
    if (ferror(f) && e == KN_OK) e = kn_fail(KN_ERR_IO, "cannot read %s", path);
    fclose(f);
    return e;
}

static int by_interval(const void *x, const void *y)
{
    const req *a = x, *b = y;
    return (a->interval > b->interval) - (a->interval < b->interval);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The detectors of one scope (the server's or a model's). */
typedef struct scope {
    kn_opsanom *det[SERIES];
    int seen; /* a series starts at its first request */
    double *lat;
    size_t n, errors, n_lat;
} scope;

/* A scored point of one scope's series k for the alert rules: the events
 * going on by kind and the largest |z|, and the event into going. */
static void ops_observe(kn_alert_inputs *in, json_t *going, int k, const char *model,
                        const kn_opsanom_point *pt)
{
    if (!isnan(pt->z) && (isnan(in->ops_abs_z[k]) || fabs(pt->z) > in->ops_abs_z[k]))
        in->ops_abs_z[k] = fabs(pt->z);
    if (pt->event == KN_OPSANOM_NONE) return;
    in->ops_in_event[k][pt->event] += 1;
    json_array_append_new(going, kn_opsanom_event_json(model, k, pt));
}

/* The alert rules on interval k (1-based) starting at at (seconds): the
 * incidents it opens go into opened; *n_alerting counts the intervals
 * with one open. */
static kn_status ops_alerts(cli_alerting *al, const char *log, size_t k, double at,
                            uint64_t requests, const char *scope_name,
                            const kn_opsanom_point *points, const kn_alert_inputs *in,
                            json_t *going, json_t *opened, size_t *n_alerting)
{
    char when[48], day[32];
    time_t ts = (time_t)floor(at);
    struct tm tm;
    gmtime_r(&ts, &tm);
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when, sizeof when, "%s.%03dZ", day, (int)floor((at - (double)ts) * 1000 + 0.5) % 1000);
    json_t *extra = json_pack("{s:s, s:f, s:O}", "interval_start", when, "interval_start_s", at,
                              "events", going),
           *alerts = NULL;
    /* what --record keeps of the interval: the recorded scope's series
     * (the --model's, else the server's; kiln monitor report draws them),
     * written as kiln serve --ops-interval --record-windows writes its own */
    json_t *result = kn_opsanom_record_json((int64_t)k, at, requests, scope_name, points, going);
    int alerting = 0;
    kn_status e = extra && result
                      ? cli_alerts_window(al, k, log, 0, requests, json_array_size(going) > 0,
                                          result, in, extra, &alerts, &alerting)
                      : KN_ERR_NOMEM;
    json_decref(result);
    for (size_t i = 0; e == KN_OK && i < json_array_size(alerts); i++) {
        json_t *x = json_array_get(alerts, i);
        if (json_is_true(json_object_get(x, "new"))) json_array_append(opened, x);
    }
    *n_alerting += (size_t)alerting;
    json_decref(alerts);
    json_decref(extra);
    return e;
}

static int cmd_monitor_ops(int argc, char **argv)
{
    ops_args a = {0};
    int rc = cli_parse(&monitor_ops_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    ops_state st = {0};
    scope *sc = NULL;
    json_t *events = json_array(), *opened = json_array();
    size_t n_events = 0, n_scopes = 0, n_alerting = 0;
    int64_t first = 0, last = -1, no_window = 0;
    size_t n_recorded = 0, n_before = 0, n_pending = 0;
    int found = 0;
    double last_at = 0;
    cli_alerting *al = NULL;
    kn_status e = KN_OK;
    cli_store_dir = a.store;
    if ((a.alerts || a.record) &&
        ((rc = cli_alerts_open("monitor ops", a.alerts, a.record, a.model ? a.model : "(server)",
                               &no_window, &al)) ||
         (rc = cli_alerts_check_sources(al, 0))))
        goto done;
    e = read_log(a.log, a.interval, &st);
    if (e == KN_OK && a.record)
        e = cli_alerts_last_recorded(al, a.log, "interval_start_s", &found, &last_at);
    if (e == KN_OK && a.model) {
        size_t k = 0;
        while (k < st.n_models && strcmp(st.models[k], a.model)) k++;
        if (k == st.n_models) {
            char have[256] = "";
            for (size_t i = 0, used = 0; i < st.n_models && used + 64 < sizeof have; i++)
                used += (size_t)snprintf(have + used, sizeof have - used, "%s%s", i ? ", " : "",
                                         st.models[i]);
            cli_error("monitor ops: --model %s: %s has no predict request of that model (%s%s)",
                      a.model, a.log, st.n_models ? "its models: " : "it has none", have);
            rc = CLI_ERROR;
            goto done;
        }
    }
    if (e == KN_OK) {
        n_scopes = st.n_models + 1;
        sc = kn_calloc(n_scopes, sizeof *sc);
        if (!sc) e = KN_ERR_NOMEM;
    }
    for (size_t i = 0; e == KN_OK && i < n_scopes; i++) {
        sc[i].lat = kn_malloc((st.n_reqs ? st.n_reqs : 1) * sizeof *sc[i].lat);
        if (!sc[i].lat) e = KN_ERR_NOMEM;
        for (int s = 0; e == KN_OK && s < SERIES; s++) {
            kn_opsanom_params p; /* as kiln serve --ops-interval's */
            kn_opsanom_default_params(&p);
            p.threshold = a.threshold;
            p.kind = s == 0 ? KN_OPSANOM_COUNT : s == 1 ? KN_OPSANOM_SHARE : KN_OPSANOM_LEVEL;
            if (s) p.flat_intervals = 0;
            if (s == 2) p.min_rel = 0.25, p.min_sd = 0.001;
            e = kn_opsanom_new(&p, &sc[i].det[s]);
        }
    }
    if (e != KN_OK) {
        cli_error("monitor ops: %s", kn_last_error());
        rc = CLI_ERROR;
        goto done;
    }
    qsort(st.reqs, st.n_reqs, sizeof *st.reqs, by_interval); /* stable enough: counts only */
    if (st.n_reqs) first = st.reqs[0].interval, last = st.reqs[st.n_reqs - 1].interval;
    for (int64_t t = first, k = 0; t <= last; t++) {
        for (size_t i = 0; i < n_scopes; i++) sc[i].n = sc[i].errors = sc[i].n_lat = 0;
        for (; k < (int64_t)st.n_reqs && st.reqs[k].interval == t; k++) {
            const req *r = &st.reqs[k];
            size_t in[2] = {0, r->scope};
            for (int w = 0; w < (r->scope ? 2 : 1); w++) {
                scope *s = &sc[in[w]];
                s->n++, s->errors += (size_t)r->error, s->seen = 1;
                s->lat[s->n_lat++] = r->latency_s;
            }
        }
        int64_t start_s = (int64_t)floor((double)t * a.interval);
        size_t slot = kn_opsanom_hour_of_day(start_s);
        kn_alert_inputs in;
        kn_alert_inputs_init(&in);
        in.has_ops = 1;
        json_t *going = al ? json_array() : NULL; /* the events going on, for the alerts */
        kn_opsanom_point kept[SERIES];            /* the recorded scope's points */
        for (int k2 = 0; k2 < SERIES; k2++)
            kept[k2] = (kn_opsanom_point){NAN, NAN, NAN, NAN, KN_OPSANOM_NONE, 0};
        for (size_t i = 0; i < n_scopes; i++) {
            scope *s = &sc[i];
            double p95 = NAN;
            if (s->n_lat) { /* nearest rank */
                qsort(s->lat, s->n_lat, sizeof *s->lat, cmp_double);
                size_t r = (size_t)ceil(0.95 * (double)s->n_lat);
                p95 = s->lat[r ? r - 1 : 0];
            }
            double n = (double)s->n;
            double v[SERIES] = {s->seen ? n : NAN, n > 0 ? (double)s->errors / n : NAN, p95};
            int keep = a.model ? i && !strcmp(st.models[i - 1], a.model) : i == 0;
            for (int k2 = 0; k2 < SERIES; k2++) {
                kn_opsanom_point pt;
                kn_opsanom_update(s->det[k2], v[k2], n, slot, &pt);
                if (keep) kept[k2] = pt;
                const char *model = i ? st.models[i - 1] : "";
                if (a.model && strcmp(model, a.model)) continue;
                if (going) ops_observe(&in, going, k2, model, &pt);
                if (!pt.onset) continue;
                n_events++;
                char when[48], day[32];
                double at = (double)t * a.interval;
                time_t ts = (time_t)floor(at);
                struct tm tm;
                gmtime_r(&ts, &tm);
                strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(when, sizeof when, "%s.%03dZ", day,
                         (int)floor((at - (double)ts) * 1000 + 0.5) % 1000);
                json_array_append_new(
                    events, json_pack("{s:s, s:f, s:s, s:s, s:s, s:o, s:o, s:o}", "interval_start",
                                      when, "interval_start_s", at, "model", model, "series",
                                      series_names[k2], "kind", kn_opsanom_event_name(pt.event),
                                      "value", cli_json_num(pt.value), "expected",
                                      cli_json_num(pt.expected), "z", cli_json_num(pt.z)));
            }
        }
        double start = (double)t * a.interval;
        int before = a.record && found && start <= last_at, pending = a.record && t == last;
        n_before += (size_t)before;
        n_pending += (size_t)(pending && !before);
        if (al && (before || pending))
            json_decref(going);
        else if (al) {
            n_recorded += a.record;
            e = ops_alerts(al, a.log, (size_t)(t - first + 1), start, (uint64_t)sc[0].n,
                           a.model ? a.model : "", kept, &in, going, opened, &n_alerting);
            json_decref(going);
            if (e != KN_OK) goto done;
        }
    }
    size_t n_intervals = st.n_reqs ? (size_t)(last - first + 1) : 0;
    if (cli.json) {
        json_t *models = json_array();
        for (size_t i = 0; i < st.n_models; i++)
            json_array_append_new(models, json_string(st.models[i]));
        json_t *j =
            json_pack("{s:s, s:s, s:f, s:f, s:I, s:I, s:o, s:I, s:O}", "command", "monitor ops",
                      "log", a.log, "interval_s", a.interval, "threshold", a.threshold, "requests",
                      (json_int_t)st.n_reqs, "intervals", (json_int_t)n_intervals, "models", models,
                      "n_events", (json_int_t)n_events, "events", events);
        if (al) {
            json_object_set_new(j, "intervals_alerting", json_integer((json_int_t)n_alerting));
            json_object_set(j, "alerts_opened", opened);
        }
        if (a.record)
            json_object_set_new(j, "recorded",
                                json_pack("{s:I, s:I, s:I}", "intervals", (json_int_t)n_recorded,
                                          "recorded_before", (json_int_t)n_before, "pending",
                                          (json_int_t)n_pending));
        if (cli_emit_json(j) != CLI_OK) rc = CLI_ERROR;
    } else {
        printf("%zu predict requests of %zu model%s in %zu intervals of %g s\n", st.n_reqs,
               st.n_models, st.n_models == 1 ? "" : "s", n_intervals, a.interval);
        for (size_t i = 0; i < json_array_size(events); i++) {
            json_t *ev = json_array_get(events, i);
            const char *m = json_string_value(json_object_get(ev, "model"));
            printf("%s  %-12s %-20s %-8s value %.6g, expected %.6g, z %.3g\n",
                   json_string_value(json_object_get(ev, "interval_start")), *m ? m : "(server)",
                   json_string_value(json_object_get(ev, "series")),
                   json_string_value(json_object_get(ev, "kind")),
                   json_number_value(json_object_get(ev, "value")),
                   json_number_value(json_object_get(ev, "expected")),
                   json_number_value(json_object_get(ev, "z")));
        }
        printf("%zu event%s\n", n_events, n_events == 1 ? "" : "s");
        if (al)
            printf("%zu alert incident%s opened; %zu interval%s with an open alert\n",
                   json_array_size(opened), json_array_size(opened) == 1 ? "" : "s", n_alerting,
                   n_alerting == 1 ? "" : "s");
        if (a.record)
            printf("recorded %zu interval%s (%zu recorded before; %zu pending: the log's last, "
                   "which may still be filling)\n",
                   n_recorded, n_recorded == 1 ? "" : "s", n_before, n_pending);
    }
    if (rc == CLI_OK && (n_events || n_alerting)) rc = CLI_FAIL;
done:
    if (e != KN_OK && rc == CLI_OK) {
        cli_error("monitor ops: %s", kn_last_error());
        rc = CLI_ERROR;
    }
    json_decref(events);
    json_decref(opened);
    cli_alerts_close(al);
    for (size_t i = 0; sc && i < n_scopes; i++) {
        for (int s = 0; s < SERIES; s++) kn_opsanom_free(sc[i].det[s]);
        kn_free(sc[i].lat);
    }
    kn_free(sc);
    for (size_t i = 0; i < st.n_models; i++) kn_free(st.models[i]);
    kn_free(st.models);
    kn_free(st.reqs);
    return rc;
}
