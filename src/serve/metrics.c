/* The server's metrics: relaxed atomic counters bumped once per request
 * (no lock), one set per model version (a series, made when the version
 * loads), written out in the Prometheus text format on GET /metrics. */
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <stdlib.h>
#include <string.h>

static const int status_codes[KN__N_STATUS] = {200, 400, 401, 403, 404, 405,
                                               409, 413, 429, 500, 503, 0};
static const char *const route_names[KN__N_ROUTES] = {"v2_health_live",    "v2_health_ready",
                                                      "v2_model_metadata", "v2_model_ready",
                                                      "v2_infer",          "v1_predict",
                                                      "metrics",           "admin",
                                                      "v2_feedback",       "other"};
/* upper bounds of the latency buckets, microseconds (+Inf after) */
static const unsigned long long bucket_us[KN__N_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};

static size_t status_index(int status)
{
    for (size_t i = 0; i + 1 < KN__N_STATUS; i++)
        if (status_codes[i] == status) return i;
    return KN__N_STATUS - 1;
}

static kn__serve_series *series_new(const char *model, const char *version)
{
    kn__serve_series *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->model = strdup(model);
    s->version = strdup(version);
    if (!s->model || !s->version) {
        free(s->model);
        free(s->version);
        free(s);
        return NULL;
    }
    return s;
}

kn_status kn__serve_metrics_init(kn__serve_metrics *mt)
{
    memset(mt, 0, sizeof *mt);
    kn__serve_lock_init(&mt->lock);
    mt->series[0] = series_new("", "");
    if (!mt->series[0]) {
        pthread_mutex_destroy(&mt->lock);
        return kn_fail(KN_ERR_NOMEM, "no memory for the metrics");
    }
    atomic_store(&mt->n_series, 1);
    return KN_OK;
}

void kn__serve_metrics_free(kn__serve_metrics *mt)
{
    size_t n = atomic_load(&mt->n_series);
    for (size_t i = 0; i < n; i++) {
        free(mt->series[i]->model);
        free(mt->series[i]->version);
        free(mt->series[i]);
    }
    atomic_store(&mt->n_series, 0);
    pthread_mutex_destroy(&mt->lock);
}

size_t kn__serve_metrics_series(kn__serve_metrics *mt, const char *model, const char *version)
{
    pthread_mutex_lock(&mt->lock);
    size_t n = atomic_load(&mt->n_series), i = 1;
    while (i < n &&
           (strcmp(mt->series[i]->model, model) || strcmp(mt->series[i]->version, version)))
        i++;
    if (i == n) {
        kn__serve_series *s = n < KN__MAX_SERIES ? series_new(model, version) : NULL;
        if (s) {
            mt->series[n] = s;
            atomic_store(&mt->n_series, n + 1); /* published after the series */
        } else {
            i = 0;
        }
    }
    pthread_mutex_unlock(&mt->lock);
    return i;
}

void kn__serve_metrics_count(kn__serve_metrics *mt, kn__route r, size_t series, int status,
                             unsigned long long latency_us)
{
    kn__serve_series *s = mt->series[series];
    atomic_fetch_add_explicit(&s->requests[r][status_index(status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < KN__N_BUCKETS && latency_us > bucket_us[b]) b++;
    atomic_fetch_add_explicit(&mt->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mt->latency_sum_us, latency_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&mt->latency_count, 1, memory_order_relaxed);
    if (!series) return;
    atomic_fetch_add_explicit(&s->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->latency_sum_us, latency_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->latency_count, 1, memory_order_relaxed);
}

/* A label value: backslash, quote and newline escaped. */
static void label(kn__sbuf *b, const char *s)
{
    kn__sbuf_prom_label(b, s, strlen(s));
}

static void head(kn__sbuf *b, const char *name, const char *type, const char *help)
{
    kn__sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long long load(const _Atomic unsigned long long *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void series_labels(kn__sbuf *b, const kn__serve_series *s)
{
    kn__sbuf_puts(b, "model=\"");
    label(b, s->model);
    kn__sbuf_puts(b, "\",version=\"");
    label(b, s->version);
    kn__sbuf_puts(b, "\"");
}

static void requests(kn__serve_series *const *series, size_t n, kn__sbuf *b, const char *name,
                     int errors_only)
{
    for (size_t r = 0; r < KN__N_ROUTES; r++)
        for (size_t m = 0; m < n; m++)
            for (size_t s = 0; s < KN__N_STATUS; s++) {
                unsigned long long v = load(&series[m]->requests[r][s]);
                if (!v || (errors_only && status_codes[s] && status_codes[s] < 400)) continue;
                kn__sbuf_printf(b, "%s{route=\"%s\",", name, route_names[r]);
                series_labels(b, series[m]);
                if (status_codes[s])
                    kn__sbuf_printf(b, ",status=\"%d\"} %llu\n", status_codes[s], v);
                else
                    kn__sbuf_printf(b, ",status=\"other\"} %llu\n", v);
            }
}

static void histogram(kn__sbuf *b, const char *name, const kn__serve_series *s,
                      const _Atomic unsigned long long *latency,
                      const _Atomic unsigned long long *sum,
                      const _Atomic unsigned long long *count)
{
    unsigned long long cum = 0;
    for (size_t i = 0; i <= KN__N_BUCKETS; i++) {
        cum += load(&latency[i]);
        kn__sbuf_printf(b, "%s_bucket{", name);
        if (s) {
            series_labels(b, s);
            kn__sbuf_puts(b, ",");
        }
        if (i < KN__N_BUCKETS)
            kn__sbuf_printf(b, "le=\"%g\"} %llu\n", (double)bucket_us[i] * 1e-6, cum);
        else
            kn__sbuf_printf(b, "le=\"+Inf\"} %llu\n", cum);
    }
    kn__sbuf_printf(b, "%s_sum", name);
    if (s) {
        kn__sbuf_puts(b, "{");
        series_labels(b, s);
        kn__sbuf_puts(b, "}");
    }
    kn__sbuf_printf(b, " %.6f\n%s_count", (double)load(sum) * 1e-6, name);
    if (s) {
        kn__sbuf_puts(b, "{");
        series_labels(b, s);
        kn__sbuf_puts(b, "}");
    }
    kn__sbuf_printf(b, " %llu\n", load(count));
}

static void slot_event(kn__sbuf *b, const char *name, const kn__serve_slot *sl, const char *key,
                       const char *value, kn__serve_event ev)
{
    kn__sbuf_printf(b, "%s{model=\"", name);
    label(b, sl->name);
    kn__sbuf_printf(b, "\",%s=\"%s\"} %llu\n", key, value, load(&sl->events[ev]));
}

void kn__serve_metrics_text(kn__serve_metrics *mt, kn__serve_slot *slots, size_t n_slots,
                            kn__sbuf *b)
{
    size_t n = atomic_load(&mt->n_series);
    kn__serve_series *const *series = mt->series;
    head(b, "kiln_serve_requests_total", "counter",
         "Requests answered, by route, model, version and HTTP status.");
    requests(series, n, b, "kiln_serve_requests_total", 0);
    head(b, "kiln_serve_errors_total", "counter",
         "Requests answered with an error status (4xx, 5xx), by route, model, version and "
         "status.");
    requests(series, n, b, "kiln_serve_errors_total", 1);
    head(b, "kiln_serve_request_duration_seconds", "histogram",
         "Time from a request's first byte to its response's last.");
    histogram(b, "kiln_serve_request_duration_seconds", NULL, mt->latency, &mt->latency_sum_us,
              &mt->latency_count);
    head(b, "kiln_serve_model_request_duration_seconds", "histogram",
         "Time from a request's first byte to its response's last, by the model version that "
         "answered.");
    for (size_t m = 1; m < n; m++)
        histogram(b, "kiln_serve_model_request_duration_seconds", series[m], series[m]->latency,
                  &series[m]->latency_sum_us, &series[m]->latency_count);
    head(b, "kiln_serve_rows_predicted_total", "counter", "Rows predicted, by model and version.");
    for (size_t m = 1; m < n; m++) {
        kn__sbuf_puts(b, "kiln_serve_rows_predicted_total{");
        series_labels(b, series[m]);
        kn__sbuf_printf(b, "} %llu\n", load(&series[m]->rows));
    }
    head(b, "kiln_serve_model_load_seconds", "gauge",
         "Seconds the latest load of each model version's artifact took.");
    for (size_t m = 1; m < n; m++) {
        kn__sbuf_puts(b, "kiln_serve_model_load_seconds{");
        series_labels(b, series[m]);
        kn__sbuf_printf(b, "} %.6f\n", (double)load(&series[m]->load_us) * 1e-6);
    }
    head(b, "kiln_serve_model_version_info", "gauge",
         "The versions serving now: main (most requests), canary (its share), shadow (scores "
         "in the background).");
    static const char *const roles[KN__N_SNAP] = {"main", "canary", "shadow"};
    for (size_t i = 0; i < n_slots; i++)
        for (int r = 0; r < KN__N_SNAP; r++) {
            kn__serve_snap *sn = kn__serve_slot_get(&slots[i], (kn__snap_role)r);
            if (!sn) continue;
            kn__sbuf_puts(b, "kiln_serve_model_version_info{");
            series_labels(b, series[sn->series]);
            kn__sbuf_printf(b, ",role=\"%s\"} 1\n", roles[r]);
            kn__serve_snap_put(sn);
        }
    head(b, "kiln_serve_reloads_total", "counter",
         "Reloads by model and result: reloaded (a new version took traffic), unchanged (the "
         "source had not changed), refused (the new version could not load or was "
         "incompatible; the old one kept serving).");
    for (size_t i = 0; i < n_slots; i++) {
        slot_event(b, "kiln_serve_reloads_total", &slots[i], "result", "reloaded",
                   KN__EV_RELOAD_OK);
        slot_event(b, "kiln_serve_reloads_total", &slots[i], "result", "unchanged",
                   KN__EV_RELOAD_UNCHANGED);
        slot_event(b, "kiln_serve_reloads_total", &slots[i], "result", "refused",
                   KN__EV_RELOAD_REFUSED);
    }
    head(b, "kiln_serve_rollbacks_total", "counter", "Rollbacks by model and result.");
    for (size_t i = 0; i < n_slots; i++) {
        slot_event(b, "kiln_serve_rollbacks_total", &slots[i], "result", "rolled_back",
                   KN__EV_ROLLBACK_OK);
        slot_event(b, "kiln_serve_rollbacks_total", &slots[i], "result", "refused",
                   KN__EV_ROLLBACK_REFUSED);
    }
    head(b, "kiln_serve_shadow_requests_total", "counter",
         "Requests scored by a shadow version, by model and result: agree, disagree (another "
         "label, or a regression value off by more than 1e-6 relative), error (the shadow "
         "refused the rows), dropped (the shadow queue was full).");
    for (size_t i = 0; i < n_slots; i++) {
        if (!atomic_load(&slots[i].snap[KN__SNAP_SHADOW])) continue;
        slot_event(b, "kiln_serve_shadow_requests_total", &slots[i], "result", "agree",
                   KN__EV_SHADOW_AGREE);
        slot_event(b, "kiln_serve_shadow_requests_total", &slots[i], "result", "disagree",
                   KN__EV_SHADOW_DISAGREE);
        slot_event(b, "kiln_serve_shadow_requests_total", &slots[i], "result", "error",
                   KN__EV_SHADOW_ERROR);
        slot_event(b, "kiln_serve_shadow_requests_total", &slots[i], "result", "dropped",
                   KN__EV_SHADOW_DROPPED);
    }
    head(b, "kiln_serve_in_flight_requests", "gauge", "Requests being answered now.");
    kn__sbuf_printf(b, "kiln_serve_in_flight_requests %lld\n",
                    (long long)atomic_load_explicit(&mt->in_flight, memory_order_relaxed));
    /* the live statistics of every version serving now (main, canary, shadow) */
    kn__serve_snap **snaps = kn_calloc(n_slots * KN__N_SNAP + 1, sizeof *snaps);
    const kn__serve_model **models = kn_calloc(n_slots * KN__N_SNAP + 1, sizeof *models);
    size_t k = 0;
    for (size_t i = 0; snaps && models && i < n_slots; i++)
        for (int role = 0; role < KN__N_SNAP; role++)
            if ((snaps[k] = kn__serve_slot_get(&slots[i], (kn__snap_role)role)))
                models[k] = &snaps[k]->m, k++;
    if (!snaps || !models)
        b->oom = 1;
    else
        kn__livestats_text(models, k, b), kn__feedback_text(models, k, b),
            kn__drift_text(models, k, b), kn__anomwin_text(models, k, b);
    for (size_t i = 0; i < k; i++) kn__serve_snap_put(snaps[i]);
    kn_free(snaps);
    kn_free((void *)models);
}
