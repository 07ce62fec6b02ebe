/* The monitoring report (kiln/report.h): a model's recorded checks and
 * alerts from the store as one self-contained HTML page with inline SVG. */
#include "kiln/mem.h"
#include "kiln/report.h"
#include "report/report-impl.h"
#include "report/svg-impl.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SHOWN_COLUMNS = 8 };

typedef struct series_set {
    size_t n, cap;   /* checks */
    json_t *results; /* array of the checks' JSON */
    double *time;    /* per check */
    kn_status e;
} series_set;

static int on_check(const kn_monitor_check *c, void *user)
{
    series_set *s = user;
    json_t *j = json_loads(c->result, 0, NULL);
    if (!j) j = json_object();
    if (json_array_append_new(s->results, j) != 0) {
        s->e = KN_ERR_NOMEM;
        return 1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        double *t = kn_realloc(s->time, cap * sizeof *t);
        if (!t) {
            s->e = KN_ERR_NOMEM;
            return 1;
        }
        s->time = t;
        s->cap = cap;
    }
    s->time[s->n++] = c->time;
    return 0;
}

typedef struct alert_rows {
    kn__text *t;
    size_t n;
} alert_rows;

static void put_time(kn__text *t, double v)
{
    if (!(v > 0)) {
        kn__text_put(t, "&ndash;");
        return;
    }
    char buf[32];
    time_t secs = (time_t)v;
    struct tm tm;
    if (gmtime_r(&secs, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
        kn__text_put(t, buf);
}

static int on_alert(const kn_alert_incident *a, void *user)
{
    alert_rows *r = user;
    kn__text *t = r->t;
    r->n++;
    kn__text_printf(t, "<tr><td>%lld</td><td>", (long long)a->id);
    kn__text_esc(t, a->rule);
    kn__text_put(t, "</td><td>");
    kn__text_esc(t, a->scope ? a->scope : "main");
    kn__text_put(t, "</td><td>");
    kn__text_esc(t, a->severity);
    kn__text_put(t, "</td><td>");
    put_time(t, a->opened);
    kn__text_put(t, "</td><td>");
    put_time(t, a->closed);
    kn__text_printf(t, "</td><td>%s</td><td><code>",
                    a->delivered > 0 ? "delivered" : "undelivered");
    kn__text_esc(t, a->detail);
    kn__text_put(t, "</code></td></tr>\n");
    return 0;
}

static const char *str_of(const json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

/* The value of key in the column named col of a check (NaN when absent). */
static double col_value(const json_t *check, const char *col, const char *key)
{
    const json_t *cols = json_object_get(check, "columns");
    for (size_t i = 0; i < json_array_size(cols); i++) {
        const json_t *c = json_array_get(cols, i);
        if (!strcmp(str_of(json_object_get(c, "column")), col)) {
            const json_t *v = json_object_get(c, key);
            return json_is_number(v) ? json_number_value(v) : NAN;
        }
    }
    return NAN;
}

typedef struct ranked {
    const char *name;
    double worst;
} ranked;

static int by_worst(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->worst != b->worst) return (a->worst < b->worst) - (a->worst > b->worst);
    return strcmp(a->name, b->name);
}

static kn_status drift_section(kn__text *t, const series_set *s)
{
    size_t n = s->n, m = 0;
    const json_t *first = json_array_get(s->results, 0);
    const json_t *cols = json_object_get(first, "columns");
    size_t k = json_array_size(cols);
    ranked *r = kn_calloc(k + 1, sizeof *r);
    double *x = kn_malloc((n + 1) * sizeof *x),
           *ys = kn_malloc((n * SHOWN_COLUMNS + 1) * sizeof *ys);
    kn__svg_series *sr = kn_calloc(SHOWN_COLUMNS + 1, sizeof *sr);
    if (!r || !x || !ys || !sr) {
        kn_free(r), kn_free(x), kn_free(ys), kn_free(sr);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < k; j++) {
        const char *name = json_string_value(json_object_get(json_array_get(cols, j), "column"));
        if (!name) continue;
        double worst = 0;
        for (size_t i = 0; i < n; i++) {
            double v = col_value(json_array_get(s->results, i), name, "psi");
            if (v > worst) worst = v;
        }
        r[m++] = (ranked){name, worst};
    }
    qsort(r, m, sizeof *r, by_worst);
    size_t shown = m < SHOWN_COLUMNS ? m : SHOWN_COLUMNS;
    for (size_t i = 0; i < n; i++) x[i] = (double)(i + 1);
    for (size_t c = 0; c < shown; c++) {
        for (size_t i = 0; i < n; i++) {
            double v = col_value(json_array_get(s->results, i), r[c].name, "psi");
            ys[c * n + i] = isnan(v) ? 0 : v;
        }
        sr[c] = (kn__svg_series){r[c].name, x, ys + c * n, n, 0, n == 1};
    }
    kn__text_put(t, "<section id=\"drift\"><h2>Drift over time</h2>\n<p>The PSI of the ");
    kn__text_printf(t,
                    "%zu input column%s that moved most, check by check (a check or one "
                    "window of one). The table below lists every column.</p>\n",
                    shown, shown == 1 ? "" : "s");
    kn__svg_plot p = {"PSI per column over checks",
                      {"check", 0, 0, KN__SVG_INTEGER},
                      {"PSI", 0, 0, KN__SVG_NONNEG},
                      0,
                      0,
                      0,
                      NULL,
                      0};
    kn__svg_lines(t, &p, sr, shown);
    kn__text_put(t, "<table><thead><tr><th>column</th><th>worst PSI</th><th>checks drifted</th>"
                    "</tr></thead><tbody>\n");
    for (size_t c = 0; c < m; c++) {
        size_t drifted = 0;
        for (size_t i = 0; i < n; i++) {
            const json_t *d = json_object_get(json_array_get(s->results, i), "drifted");
            for (size_t q = 0; q < json_array_size(d); q++)
                drifted += !strcmp(str_of(json_array_get(d, q)), r[c].name);
        }
        kn__text_put(t, "<tr><td>");
        kn__text_esc(t, r[c].name);
        kn__text_put(t, "</td><td>");
        kn__text_fixed(t, r[c].worst, 4);
        kn__text_printf(t, "</td><td>%zu of %zu</td></tr>\n", drifted, n);
    }
    kn__text_put(t, "</tbody></table></section>\n");
    /* predictions, and a classifier's scores (ys + n: SHOWN_COLUMNS >= 2 rows of room) */
    size_t scored = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *res = json_array_get(s->results, i);
        const json_t *v = json_object_get(json_object_get(res, "prediction"), "psi"),
                     *sv = json_object_get(json_object_get(res, "score"), "psi");
        ys[i] = json_is_number(v) ? json_number_value(v) : 0;
        ys[n + i] = json_is_number(sv) ? json_number_value(sv) : 0;
        scored += json_is_number(sv);
    }
    kn__text_put(t, "<section id=\"predictions\"><h2>Predictions over time</h2>\n<p>The PSI of "
                    "the model's predictions on each check against its held-out predictions");
    kn__text_put(t, scored ? " (a classifier's predicted classes), and of its scores (the "
                             "positive class's probability, the top class's for more classes)."
                             "</p>\n"
                           : ".</p>\n");
    kn__svg_series ps[2] = {{"predictions", x, ys, n, 0, n == 1},
                            {"scores", x, ys + n, n, 0, n == 1}};
    kn__svg_plot pp = {"prediction PSI over checks",
                       {"check", 0, 0, KN__SVG_INTEGER},
                       {"PSI", 0, 0, KN__SVG_NONNEG},
                       0,
                       0,
                       0,
                       NULL,
                       0};
    kn__svg_lines(t, &pp, ps, scored ? 2 : 1);
    kn__text_put(t, "</section>\n");
    kn_free(r), kn_free(x), kn_free(ys), kn_free(sr);
    return KN_OK;
}

/* ---- input anomalies and operational series ----
 * Which records hold what: a drift check has "columns"; a window of kiln
 * serve also "anomalies" (an object, or null when not scored); a window of
 * kiln monitor anomalies --record holds the test itself at the top level
 * ("anomalous_rows", "share", "flagged"); an interval of kiln monitor ops
 * --record or kiln serve --ops-interval --record-windows "interval_start_s"
 * and "events" (and, since the report draws them, "series": the recorded
 * scope's values, later also their baselines, kiln/opsanom.h); a window of
 * live scores (kiln monitor feedback --record, kiln serve's feedback
 * windows with --record-windows) "live" (kiln/livescore.h). */

static const json_t *anomaly_of(const json_t *r)
{
    const json_t *a = json_object_get(r, "anomalies");
    if (json_is_object(a)) return a;
    if (!json_object_get(r, "columns") && json_is_number(json_object_get(r, "anomalous_rows")) &&
        json_is_number(json_object_get(r, "share")))
        return r;
    return NULL;
}

static int is_ops(const json_t *r)
{
    return !json_object_get(r, "columns") && json_is_array(json_object_get(r, "events")) &&
           json_is_number(json_object_get(r, "interval_start_s"));
}

static double num_of(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static kn_status anomaly_section(kn__text *t, const series_set *s)
{
    size_t n = 0, n_flagged = 0;
    for (size_t i = 0; i < s->n; i++) n += anomaly_of(json_array_get(s->results, i)) != NULL;
    if (!n) return KN_OK;
    double *x = kn_malloc(4 * n * sizeof *x), ref = NAN;
    if (!x) return KN_ERR_NOMEM;
    double *y = x + n, *fx = y + n, *fy = fx + n;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const json_t *a = anomaly_of(json_array_get(s->results, i));
        if (!a) continue;
        x[k] = (double)(k + 1);
        y[k] = num_of(a, "share");
        if (isfinite(num_of(a, "reference_share"))) ref = num_of(a, "reference_share");
        if (json_is_true(json_object_get(a, "flagged")))
            fx[n_flagged] = x[k], fy[n_flagged++] = y[k];
        k++;
    }
    kn__text_put(t, "<section id=\"anomalies\"><h2>Input anomalies over time</h2>\n<p>The share "
                    "of each window's rows that the isolation forest fitted on the model's "
                    "training rows finds anomalous (kiln serve's windows, kiln monitor anomalies "
                    "--record), window by window; a window is flagged when that share is well "
                    "over the reference's (dashed). ");
    kn__text_printf(t, "%zu of %zu windows flagged.</p>\n", n_flagged, n);
    kn__svg_series sr[2] = {{"anomalous share", x, y, n, 0, n == 1},
                            {"flagged", fx, fy, n_flagged, 0, 1}};
    kn__svg_plot p = {"anomalous share per window",
                      {"window", 0, 0, KN__SVG_INTEGER},
                      {"anomalous share", 0, 0, KN__SVG_NONNEG},
                      0,
                      isfinite(ref),
                      ref,
                      "reference share",
                      0};
    kn__svg_lines(t, &p, sr, n_flagged ? 2 : 1);
    kn__text_put(t, "</section>\n");
    kn_free(x);
    return KN_OK;
}

static const char *const ops_series[3][3] = {
    {"requests", "requests per interval", "requests"},
    {"error_share", "share of requests answered with an error", "error share"},
    {"latency_p95_seconds", "95th percentile latency (seconds)", "p95 latency (s)"}};

/* Whether an interval's events hold one of series `name` in scope. */
static int has_event(const json_t *r, const char *scope, const char *name)
{
    const json_t *ev = json_object_get(r, "events");
    for (size_t i = 0; i < json_array_size(ev); i++) {
        const json_t *e = json_array_get(ev, i);
        if (!strcmp(str_of(json_object_get(e, "series")), name) &&
            !strcmp(str_of(json_object_get(e, "model")), scope))
            return 1;
    }
    return 0;
}

static kn_status ops_section(kn__text *t, const series_set *s)
{
    size_t n = 0;
    double t0 = NAN;
    for (size_t i = 0; i < s->n; i++) {
        const json_t *r = json_array_get(s->results, i);
        if (!is_ops(r)) continue;
        if (!n) t0 = num_of(r, "interval_start_s");
        n++;
    }
    if (!n) return KN_OK;
    double *x = kn_malloc(6 * n * sizeof *x);
    if (!x) return KN_ERR_NOMEM;
    double *y = x + n, *ex = y + n, *ey = ex + n, *bx = ey + n, *by = bx + n;
    size_t events = 0;
    for (size_t i = 0; i < s->n; i++) {
        const json_t *r = json_array_get(s->results, i);
        events += is_ops(r) ? json_array_size(json_object_get(r, "events")) : 0;
    }
    kn__text_put(t, "<section id=\"ops\"><h2>Operational series</h2>\n<p>");
    kn__text_printf(t,
                    "%zu recorded interval%s (kiln monitor ops --record, kiln serve "
                    "--ops-interval --record-windows): the requests, the share answered with an "
                    "error and the 95th percentile latency per interval, hours since the first, "
                    "with the baseline they were scored against where recorded; the intervals "
                    "in a jump, drop or flat-line of a series are marked (%zu event "
                    "observation%s in all).</p>\n",
                    n, n == 1 ? "" : "s", events, events == 1 ? "" : "s");
    for (int q = 0; q < 3; q++) {
        size_t m = 0, me = 0, mb = 0;
        for (size_t i = 0; i < s->n; i++) {
            const json_t *r = json_array_get(s->results, i);
            if (!is_ops(r)) continue;
            const json_t *sv = json_object_get(r, "series");
            /* a record without "series" (older): its requests are the server's */
            double v = sv ? num_of(sv, ops_series[q][0]) : q == 0 ? num_of(r, "requests") : NAN;
            if (!isfinite(v)) continue;
            x[m] = (num_of(r, "interval_start_s") - t0) / 3600;
            y[m] = v;
            double b = num_of(json_object_get(sv, "expected"), ops_series[q][0]);
            if (isfinite(b)) bx[mb] = x[m], by[mb++] = b;
            if (has_event(r, sv ? str_of(json_object_get(sv, "scope")) : "", ops_series[q][0]))
                ex[me] = x[m], ey[me++] = v;
            m++;
        }
        if (!m) {
            kn__text_printf(t, "<p>No %s recorded.</p>\n", ops_series[q][1]);
            continue;
        }
        kn__svg_series sr[3] = {{ops_series[q][2], x, y, m, 0, m == 1}};
        size_t ns = 1;
        if (mb) sr[ns++] = (kn__svg_series){"baseline", bx, by, mb, 0, mb == 1};
        if (me) sr[ns++] = (kn__svg_series){"event", ex, ey, me, 0, 1};
        kn__svg_plot p = {ops_series[q][1],
                          {"hours", 0, 0, 0},
                          {ops_series[q][2], 0, 0, KN__SVG_NONNEG},
                          0,
                          0,
                          0,
                          NULL,
                          0};
        kn__svg_lines(t, &p, sr, ns);
    }
    kn__text_put(t, "</section>\n");
    kn_free(x);
    return KN_OK;
}

/* The live scores' windows (kn_live_record_json), version by version:
 * the headline metric per window against the version's test score. */
static kn_status live_section(kn__text *t, const series_set *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += json_is_object(json_object_get(json_array_get(s->results, i), "live"));
    kn__text_put(t, "<section id=\"live\"><h2>Live metric over time</h2>\n");
    if (!n) {
        kn__text_put(t, "<p>No window of live scores was recorded (kiln serve --feedback-ring "
                        "with --record-windows, or kiln monitor feedback --record).</p>"
                        "</section>\n");
        return KN_OK;
    }
    double *x = kn_malloc(2 * n * sizeof *x);
    if (!x) return KN_ERR_NOMEM;
    double *y = x + n;
    kn__text_printf(t,
                    "<p>%zu recorded window%s of predictions joined to their true labels, per "
                    "model version and scope: the headline metric window by window, against "
                    "the version's test score (dashed) where the artifact has one.</p>\n",
                    n, n == 1 ? "" : "s");
    /* each (version, scope) once, in the order first recorded */
    for (size_t i = 0; i < s->n; i++) {
        const json_t *li = json_object_get(json_array_get(s->results, i), "live");
        if (!json_is_object(li)) continue;
        const char *ver = str_of(json_object_get(li, "version")),
                   *scope = str_of(json_object_get(li, "scope")),
                   *metric = str_of(json_object_get(li, "metric"));
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++) {
            const json_t *lk = json_object_get(json_array_get(s->results, k), "live");
            seen = json_is_object(lk) && !strcmp(str_of(json_object_get(lk, "version")), ver) &&
                   !strcmp(str_of(json_object_get(lk, "scope")), scope);
        }
        if (seen) continue;
        size_t m = 0;
        double test = NAN;
        for (size_t k = i; k < s->n; k++) {
            const json_t *lk = json_object_get(json_array_get(s->results, k), "live");
            if (!json_is_object(lk) || strcmp(str_of(json_object_get(lk, "version")), ver) ||
                strcmp(str_of(json_object_get(lk, "scope")), scope))
                continue;
            double v = num_of(lk, "value");
            if (isfinite(num_of(lk, "test"))) test = num_of(lk, "test");
            if (!isfinite(v)) continue;
            x[m] = num_of(lk, "window"), y[m++] = v;
        }
        char title[200];
        snprintf(title, sizeof title, "version %s%s%s: live %s per window", ver,
                 strcmp(scope, "main") && strcmp(scope, ver) ? ", " : "",
                 strcmp(scope, "main") && strcmp(scope, ver) ? scope : "", metric);
        if (!m) {
            kn__text_put(t, "<p>");
            kn__text_esc(t, title);
            kn__text_put(t, ": no window could be scored.</p>\n");
            continue;
        }
        kn__svg_series sr[1] = {{metric, x, y, m, 0, m == 1}};
        kn__svg_plot p = {title,
                          {"window", 0, 0, KN__SVG_INTEGER},
                          {metric, 0, 0, 0},
                          0,
                          isfinite(test),
                          test,
                          "test score",
                          0};
        kn__svg_lines(t, &p, sr, 1);
    }
    kn__text_put(t, "</section>\n");
    kn_free(x);
    return KN_OK;
}

kn_status kn_report_monitor(kn_store *s, const char *model, char **html, size_t *len)
{
    *html = NULL;
    series_set set = {0, 0, json_array(), NULL, KN_OK};
    kn__text t = {0};
    if (!set.results) return KN_ERR_NOMEM;
    kn_status e = kn_store_monitor_checks(s, model, on_check, &set);
    if (e == KN_OK) e = set.e;
    if (e == KN_OK && !set.n)
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "the store %s holds no checks of '%s': record some with kiln monitor check "
                    "--model %s ... --record (the model as given there)",
                    kn_store_dir(s), model, model);
    if (e != KN_OK) goto done;
    kn__text_put(&t, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>Kiln monitoring: ");
    kn__text_esc(&t, model);
    kn__text_printf(&t,
                    "</title>\n<style>%s</style></head><body>\n<h1>Monitoring: ", kn__report_css);
    kn__text_esc(&t, model);
    kn__text_put(&t, "</h1>\n<p>");
    kn__text_printf(&t, "%zu recorded check%s, from ", set.n, set.n == 1 ? "" : "s");
    put_time(&t, set.time[0]);
    kn__text_put(&t, " to ");
    put_time(&t, set.time[set.n - 1]);
    kn__text_put(&t, " (UTC).</p>\n");
    /* the drift checks (with columns) apart from anomaly windows and ops intervals */
    series_set drift = {0, 0, json_array(), NULL, KN_OK};
    for (size_t i = 0; drift.results && i < set.n; i++) {
        json_t *r = json_array_get(set.results, i);
        if (json_is_array(json_object_get(r, "columns")) &&
            json_array_append(drift.results, r) == 0)
            drift.n++;
    }
    e = !drift.results ? KN_ERR_NOMEM : drift.n ? drift_section(&t, &drift) : KN_OK;
    json_decref(drift.results);
    if (e == KN_OK && !drift.n)
        kn__text_put(&t, "<section id=\"drift\"><h2>Drift over time</h2>\n<p>No drift check "
                         "was recorded.</p></section>\n");
    if (e == KN_OK) e = anomaly_section(&t, &set);
    if (e == KN_OK) e = ops_section(&t, &set);
    if (e != KN_OK) goto done;
    e = live_section(&t, &set);
    if (e != KN_OK) goto done;
    kn__text_put(&t, "<section id=\"alerts\"><h2>Alert history</h2>\n<table><thead><tr>"
                     "<th>id</th><th>rule</th><th>scope</th><th>severity</th><th>opened</th>"
                     "<th>closed</th>"
                     "<th>delivery</th><th>last measured</th></tr></thead><tbody>\n");
    alert_rows ar = {&t, 0};
    e = kn_store_alerts(s, model, 0, on_alert, &ar);
    kn__text_put(&t, "</tbody></table>\n");
    if (!ar.n) kn__text_put(&t, "<p>No alert was raised.</p>\n");
    kn__text_put(&t, "</section>\n</body></html>\n");
    if (e == KN_OK && t.failed) e = kn_fail(KN_ERR_NOMEM, "out of memory writing the report");
done:
    json_decref(set.results);
    kn_free(set.time);
    if (e != KN_OK) {
        kn__text_free(&t);
        return e;
    }
    *html = t.p;
    if (len) *len = t.len;
    return KN_OK;
}
