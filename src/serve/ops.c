/* Operational anomalies in the server (kn__ops_*): per served model and
 * for the whole server, the predict requests of each interval, the share
 * of them answered with an error and their 95th percentile latency, each
 * fed to a kiln/opsanom.h detector once per interval by a thread of its
 * own. A request costs a few relaxed atomic additions (count, errors, a
 * latency bucket); an event goes to the log, the access log (a JSON line
 * with "event": "ops_anomaly") and the webhook, and /metrics shows every
 * series' last value, baseline, z-score and its events. With a recording
 * watcher (--record-windows) each scope's interval goes to the store's
 * monitor_checks, written as kiln monitor ops --record writes one
 * (kn_opsanom_record_json). */
#include "kiln/alert.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/opsanom.h"
#include "serve/serve-impl.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* latency buckets: a quarter of an octave of microseconds each (0-3 us one
 * each, then [4, 5), [5, 6), .., [2^k (1 + j/4), 2^k (1 + (j+1)/4))) */
enum { OPS_BUCKETS = 4 * 32, OPS_SERIES = 3 };

static const char *const series_names[OPS_SERIES] = {"requests", "error_share",
                                                     "latency_p95_seconds"};

typedef struct ops_scope {
    _Atomic unsigned long long requests, errors, lat[OPS_BUCKETS];
    /* the ops thread's: the counts at the last interval's end */
    unsigned long long prev_requests, prev_errors, prev_lat[OPS_BUCKETS];
    kn_opsanom *det[OPS_SERIES];
    kn_opsanom_point last[OPS_SERIES];
    int scored[OPS_SERIES];
} ops_scope;

struct kn__ops {
    const char *const *names; /* scope i + 1: model i; scope 0: the server */
    const char *const *keys;  /* model i's records are kept under keys[i] */
    size_t n_scopes;
    double interval_s;
    int log_fd;
    char *webhook;
    kn__watch *watch; /* the ops alert rules, or NULL */
    pthread_t thread;
    int running, stop;
    pthread_mutex_t lock; /* the detectors' state (ops thread and /metrics) */
    pthread_cond_t cond;
    unsigned long long intervals;
    ops_scope *scopes;
    struct ops_pending *pending; /* the ops thread's: a tick's events (3 per scope at most) */
    /* the ops thread's: a tick's points and requests per scope, to record */
    kn_opsanom_point *rec_pts;       /* OPS_SERIES per scope */
    unsigned long long rec_requests; /* the server's requests in the interval */
    unsigned char *rec_on;           /* the scope's series have started (a first request) */
};

typedef struct ops_pending {
    size_t scope;
    int series;
    kn_opsanom_point pt;
} ops_pending;

static size_t bucket_of(unsigned long long us)
{
    if (us < 4) return (size_t)us;
    int b = 63 - __builtin_clzll(us);
    size_t i = 4 * (size_t)(b - 1) + (size_t)((us >> (b - 2)) & 3);
    return i < OPS_BUCKETS ? i : OPS_BUCKETS - 1;
}

/* The middle of bucket i, in seconds. */
static double bucket_mid_s(size_t i)
{
    if (i < 4) return ((double)i + 0.5) * 1e-6;
    double k = ldexp(1.0, (int)(i / 4) - 1); /* 2^b */
    return k * (1 + ((double)(i % 4) + 0.5) / 4) * 1e-6;
}

void kn__ops_count(kn__ops *o, long model, kn__route r, int status, unsigned long long us)
{
    if (!o || (r != KN__ROUTE_INFER && r != KN__ROUTE_PREDICT)) return;
    size_t b = bucket_of(us);
    for (int k = 0; k < 2; k++) {
        if (k && (model < 0 || (size_t)model + 1 >= o->n_scopes)) break;
        ops_scope *sc = &o->scopes[k ? (size_t)model + 1 : 0];
        atomic_fetch_add_explicit(&sc->requests, 1, memory_order_relaxed);
        if (status >= 400 || status == 0)
            atomic_fetch_add_explicit(&sc->errors, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sc->lat[b], 1, memory_order_relaxed);
    }
}

static const char *scope_name(const kn__ops *o, size_t i)
{
    return i ? o->names[i - 1] : "";
}

/* An event: a log line, an access log line and the webhook. */
static void report(kn__ops *o, size_t scope, int series, const kn_opsanom_point *pt,
                   const char *when)
{
    const char *model = scope_name(o, scope), *kind = kn_opsanom_event_name(pt->event);
    kn_log(KN_LOG_WARN, "serve: operational anomaly: %s of %s: %s (%.6g, expected %.6g, z %.3g)",
           series_names[series], *model ? model : "the server", kind, pt->value, pt->expected,
           pt->z);
    kn__sbuf b = {0};
    kn__sbuf_printf(&b, "{\"time\":\"%s\",\"event\":\"ops_anomaly\",\"model\":", when);
    kn__sbuf_json_str(&b, model, strlen(model));
    kn__sbuf_printf(&b, ",\"series\":\"%s\",\"kind\":\"%s\",\"value\":", series_names[series],
                    kind);
    kn__sbuf_json_num(&b, pt->value);
    kn__sbuf_puts(&b, ",\"expected\":");
    kn__sbuf_json_num(&b, pt->expected);
    kn__sbuf_puts(&b, ",\"z\":");
    kn__sbuf_json_num(&b, pt->z);
    kn__sbuf_puts(&b, ",\"interval_s\":");
    kn__sbuf_json_num(&b, o->interval_s);
    kn__sbuf_puts(&b, "}\n");
    if (b.oom || !b.p) {
        kn__sbuf_free(&b);
        return;
    }
    if (o->log_fd >= 0 && write(o->log_fd, b.p, b.len) < 0) {
        /* a full disk must not stop the server */
    }
    if (o->webhook) {
        b.p[b.len - 1] = 0; /* the line without its newline */
        int tries = 0;
        if (kn_webhook_post(o->webhook, b.p, 2, 0.2, 2, &tries) != KN_OK)
            kn_log(KN_LOG_WARN, "serve: operational anomaly not delivered: %s", kn_last_error());
    }
    kn__sbuf_free(&b);
}

/* The interval just scored, for the alert rules on the ops series: per
 * series the scopes in an event of each kind and the largest |z|, and the
 * events going on (as kiln monitor ops --alerts has them). */
static void alert_inputs(kn__ops *o)
{
    static const char *const alert_series[OPS_SERIES] = {"requests", "errors", "latency"};
    kn_alert_inputs in;
    kn_alert_inputs_init(&in);
    in.has_ops = 1;
    kn__sbuf b = {0};
    kn__sbuf_puts(&b, "[");
    size_t n = 0;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->n_scopes; i++)
        for (int s = 0; s < OPS_SERIES; s++) {
            const kn_opsanom_point *pt = &o->scopes[i].last[s];
            if (!o->scopes[i].scored[s]) continue;
            if (!isnan(pt->z) && (isnan(in.ops_abs_z[s]) || fabs(pt->z) > in.ops_abs_z[s]))
                in.ops_abs_z[s] = fabs(pt->z);
            if (pt->event == KN_OPSANOM_NONE) continue;
            in.ops_in_event[s][pt->event] += 1;
            const char *model = scope_name(o, i);
            kn__sbuf_puts(&b, n++ ? ",{\"model\":" : "{\"model\":");
            kn__sbuf_json_str(&b, model, strlen(model));
            kn__sbuf_printf(&b, ",\"series\":\"%s\",\"kind\":\"%s\",\"value\":", alert_series[s],
                            kn_opsanom_event_name(pt->event));
            kn__sbuf_json_num(&b, pt->value);
            kn__sbuf_puts(&b, ",\"expected\":");
            kn__sbuf_json_num(&b, pt->expected);
            kn__sbuf_puts(&b, ",\"z\":");
            kn__sbuf_json_num(&b, pt->z);
            kn__sbuf_puts(&b, "}");
        }
    pthread_mutex_unlock(&o->lock);
    kn__sbuf_puts(&b, "]");
    kn__watch_ops_submit(o->watch, &in, b.oom ? "[]" : b.p);
    kn__sbuf_free(&b);
}

/* The interval just scored (number k, starting at start_s), each scope
 * whose series have started, to the store through the watcher: the
 * server's with every scope's events going on, a model's with its own. */
static void record(kn__ops *o, unsigned long long k, double start_s)
{
    json_t *all = json_array(), *own = json_array();
    for (size_t i = 0; all && own && i < o->n_scopes; i++)
        for (int s = 0; s < OPS_SERIES; s++) {
            const kn_opsanom_point *pt = &o->rec_pts[i * OPS_SERIES + s];
            if (!o->rec_on[i] || pt->event == KN_OPSANOM_NONE) continue;
            json_array_append_new(all, kn_opsanom_event_json(scope_name(o, i), s, pt));
        }
    for (size_t q = 0; all && own && q < o->n_scopes; q++) {
        size_t i = (q + 1) % o->n_scopes; /* the models, then the server */
        if (!o->rec_on[i]) continue;
        json_array_clear(own);
        for (size_t e = 0; i && e < json_array_size(all); e++) {
            json_t *ev = json_array_get(all, e);
            if (!strcmp(json_string_value(json_object_get(ev, "model")), scope_name(o, i)))
                json_array_append(own, ev);
        }
        json_t *events = i ? own : all;
        json_t *r = kn_opsanom_record_json((int64_t)k, start_s, o->rec_requests, scope_name(o, i),
                                           &o->rec_pts[i * OPS_SERIES], events);
        char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
        if (text)
            kn__watch_ops_record(o->watch, i ? o->keys[i - 1] : "(server)", o->rec_requests,
                                 json_array_size(events) > 0, text);
        else
            kn_log(KN_LOG_WARN, "serve: operational interval %llu not recorded: out of memory", k);
        free(text);
        json_decref(r);
    }
    json_decref(all);
    json_decref(own);
}

/* One interval's end: each scope's counts since the last, scored. */
static void tick(kn__ops *o)
{
    int64_t now = kn__serve_now_ns();
    char when[40];
    kn__serve_utc(now, when, sizeof when);
    size_t slot = kn_opsanom_hour_of_day(now / 1000000000);
    ops_pending *ev = o->pending;
    size_t n_ev = 0;
    int rec = o->rec_pts != NULL;
    pthread_mutex_lock(&o->lock);
    unsigned long long interval = ++o->intervals;
    for (size_t i = 0; i < o->n_scopes; i++) {
        ops_scope *sc = &o->scopes[i];
        unsigned long long req = atomic_load_explicit(&sc->requests, memory_order_relaxed);
        unsigned long long err = atomic_load_explicit(&sc->errors, memory_order_relaxed);
        unsigned long long lat[OPS_BUCKETS], n_lat = 0;
        for (size_t k = 0; k < OPS_BUCKETS; k++) {
            lat[k] = atomic_load_explicit(&sc->lat[k], memory_order_relaxed);
            n_lat += lat[k] - sc->prev_lat[k];
        }
        double n = (double)(req - sc->prev_requests), e = (double)(err - sc->prev_errors);
        double p95 = NAN;
        for (size_t k = 0, cum = 0; n_lat && k < OPS_BUCKETS; k++) {
            cum += lat[k] - sc->prev_lat[k];
            if ((double)cum >= 0.95 * (double)n_lat) {
                p95 = bucket_mid_s(k);
                break;
            }
        }
        /* a series starts at its first request (not at the server's start) */
        double value[OPS_SERIES] = {req ? n : NAN, n > 0 ? e / n : NAN, p95};
        for (int s = 0; s < OPS_SERIES; s++) {
            kn_opsanom_update(sc->det[s], value[s], n, slot, &sc->last[s]);
            sc->scored[s] |= !isnan(value[s]);
            if (sc->last[s].onset) ev[n_ev++] = (ops_pending){i, s, sc->last[s]};
            if (rec) o->rec_pts[i * OPS_SERIES + s] = sc->last[s];
        }
        if (rec) o->rec_on[i] = req > 0;
        if (rec && i == 0) o->rec_requests = req - sc->prev_requests;
        sc->prev_requests = req;
        sc->prev_errors = err;
        memcpy(sc->prev_lat, lat, sizeof lat);
    }
    pthread_mutex_unlock(&o->lock);
    for (size_t q = 0; q < n_ev; q++) report(o, ev[q].scope, ev[q].series, &ev[q].pt, when);
    if (rec) record(o, interval, (double)now / 1e9 - o->interval_s);
    if (kn__watch_wants_ops(o->watch)) alert_inputs(o);
}

static void *ops_main(void *arg)
{
    kn__ops *o = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&o->lock);
    while (!o->stop) {
        long long ns = (long long)(o->interval_s * 1e9);
        next.tv_sec += (time_t)(ns / 1000000000LL);
        next.tv_nsec += (long)(ns % 1000000000LL);
        if (next.tv_nsec >= 1000000000L) next.tv_sec++, next.tv_nsec -= 1000000000L;
        while (!o->stop && pthread_cond_timedwait(&o->cond, &o->lock, &next) != ETIMEDOUT) {
        }
        if (o->stop) break;
        pthread_mutex_unlock(&o->lock);
        tick(o);
        pthread_mutex_lock(&o->lock);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

void kn__ops_stop(kn__ops *o)
{
    if (!o) return;
    if (o->running) {
        pthread_mutex_lock(&o->lock);
        o->stop = 1;
        pthread_cond_broadcast(&o->cond);
        pthread_mutex_unlock(&o->lock);
        pthread_join(o->thread, NULL);
    }
    for (size_t i = 0; o->scopes && i < o->n_scopes; i++)
        for (int s = 0; s < OPS_SERIES; s++) kn_opsanom_free(o->scopes[i].det[s]);
    kn_free(o->scopes);
    kn_free(o->pending);
    kn_free(o->rec_pts), kn_free(o->rec_on);
    kn_free(o->webhook);
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->cond);
    kn_free(o);
}

kn_status kn__ops_start(const char *const *names, const char *const *keys, size_t n_models,
                        double interval_s, int log_fd, const char *webhook, kn__watch *watch,
                        kn__ops **out)
{
    *out = NULL;
    if (!(interval_s >= 0.05 && interval_s <= 86400))
        return kn_fail(KN_ERR_INVALID,
                       "the operational anomaly interval %g s is not 0.05 to 86400 seconds",
                       interval_s);
    kn__ops *o = kn_calloc(1, sizeof *o);
    if (!o) return KN_ERR_NOMEM;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&o->cond);
    pthread_cond_init(&o->cond, &ca);
    pthread_condattr_destroy(&ca);
    o->names = names;
    o->keys = keys;
    o->n_scopes = n_models + 1;
    o->interval_s = interval_s;
    o->log_fd = log_fd;
    o->watch = watch;
    o->scopes = kn_calloc(o->n_scopes, sizeof *o->scopes);
    o->pending = kn_calloc(o->n_scopes * OPS_SERIES, sizeof *o->pending);
    int rec = kn__watch_records(watch);
    if (rec) {
        o->rec_pts = kn_calloc(o->n_scopes * OPS_SERIES, sizeof *o->rec_pts);
        o->rec_on = kn_calloc(o->n_scopes, 1);
    }
    kn_status e = o->scopes && o->pending && (!rec || (o->rec_pts && o->rec_on)) &&
                          (!webhook || (o->webhook = kn_strdup(webhook)))
                      ? KN_OK
                      : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < o->n_scopes; i++)
        for (int s = 0; e == KN_OK && s < OPS_SERIES; s++) {
            kn_opsanom_params p;
            kn_opsanom_default_params(&p);
            p.kind = s == 0 ? KN_OPSANOM_COUNT : s == 1 ? KN_OPSANOM_SHARE : KN_OPSANOM_LEVEL;
            if (s) p.flat_intervals = 0; /* a flat-line is no traffic: the count's */
            if (s == 2) /* a bucket is a quarter octave wide; under 1 ms is no news */
                p.min_rel = 0.25, p.min_sd = 0.001;
            e = kn_opsanom_new(&p, &o->scopes[i].det[s]);
        }
    if (e == KN_OK) {
        if (pthread_create(&o->thread, NULL, ops_main, o))
            e = kn_fail(KN_ERR_IO, "cannot start the operational anomaly thread");
        else
            o->running = 1;
    }
    if (e != KN_OK) {
        kn__ops_stop(o);
        return e;
    }
    *out = o;
    return KN_OK;
}

static void labels(kn__sbuf *b, const char *name, const kn__ops *o, size_t i, int s)
{
    const char *m = scope_name(o, i);
    kn__sbuf_printf(b, "%s{model=\"", name);
    kn__sbuf_prom_label(b, m, strlen(m));
    kn__sbuf_printf(b, "\",series=\"%s\"", series_names[s]);
}

static void gauge(kn__sbuf *b, const char *name, const kn__ops *o, size_t i, int s, double v)
{
    labels(b, name, o, i, s);
    kn__sbuf_puts(b, "} ");
    if (isnan(v))
        kn__sbuf_puts(b, "NaN");
    else if (isinf(v))
        kn__sbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else
        kn__sbuf_printf(b, "%.17g", v);
    kn__sbuf_puts(b, "\n");
}

void kn__ops_text(kn__ops *o, kn__sbuf *b)
{
    if (!o) return;
    static const char *const fam[4][2] = {
        {"kiln_ops_value",
         "The last interval's value of each operational series (requests, "
         "error_share, latency_p95_seconds), per model (model=\"\": the server)."},
        {"kiln_ops_expected",
         "The baseline's value for the last interval (EWMA level + hour-of-day "
         "term)."},
        {"kiln_ops_zscore", "How far the last interval's value is from the baseline, in "
                            "standard deviations (NaN while learning)."},
        {"kiln_ops_anomaly", "1 while the series is in an event (jump, drop, flatline), else 0."}};
    pthread_mutex_lock(&o->lock);
    for (int f = 0; f < 4; f++) {
        kn__sbuf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", fam[f][0], fam[f][1], fam[f][0]);
        for (size_t i = 0; i < o->n_scopes; i++)
            for (int s = 0; s < OPS_SERIES; s++) {
                const kn_opsanom_point *pt = &o->scopes[i].last[s];
                double v = f == 0   ? pt->value
                           : f == 1 ? pt->expected
                           : f == 2 ? pt->z
                                    : (double)(pt->event != KN_OPSANOM_NONE);
                if (!o->scopes[i].scored[s]) v = f == 3 ? 0 : NAN;
                gauge(b, fam[f][0], o, i, s, v);
            }
    }
    kn__sbuf_puts(b, "# HELP kiln_ops_events_total Operational anomaly events started, by model, "
                     "series and kind.\n# TYPE kiln_ops_events_total counter\n");
    for (size_t i = 0; i < o->n_scopes; i++)
        for (int s = 0; s < OPS_SERIES; s++) {
            uint64_t ev[KN_OPSANOM_N_EVENTS];
            kn_opsanom_events(o->scopes[i].det[s], ev);
            for (int k = 1; k < KN_OPSANOM_N_EVENTS; k++) {
                labels(b, "kiln_ops_events_total", o, i, s);
                kn__sbuf_printf(b, ",kind=\"%s\"} %llu\n",
                                kn_opsanom_event_name((kn_opsanom_event)k),
                                (unsigned long long)ev[k]);
            }
        }
    size_t bytes = sizeof *o + o->n_scopes * (sizeof *o->scopes + OPS_SERIES * sizeof *o->pending);
    if (o->rec_pts) /* recording: a tick's points per scope */
        bytes += o->n_scopes * (OPS_SERIES * sizeof *o->rec_pts + 1);
    for (size_t i = 0; i < o->n_scopes; i++)
        for (int s = 0; s < OPS_SERIES; s++) bytes += kn_opsanom_bytes(o->scopes[i].det[s]);
    kn__sbuf_printf(b,
                    "# HELP kiln_ops_memory_bytes The memory the operational anomaly counters "
                    "and detectors hold (fixed at start).\n# TYPE kiln_ops_memory_bytes gauge\n"
                    "kiln_ops_memory_bytes %zu\n",
                    bytes);
    kn__sbuf_printf(b,
                    "# HELP kiln_ops_intervals_total Intervals the operational series have been "
                    "scored over.\n# TYPE kiln_ops_intervals_total counter\n"
                    "kiln_ops_intervals_total %llu\n# HELP kiln_ops_interval_seconds The length "
                    "of an interval.\n# TYPE kiln_ops_interval_seconds gauge\n"
                    "kiln_ops_interval_seconds %.17g\n",
                    o->intervals, o->interval_s);
    pthread_mutex_unlock(&o->lock);
}
