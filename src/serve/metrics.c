/* The server's metrics: relaxed atomic counters bumped once per request
 * (no lock), written out in the Prometheus text format on GET /metrics. */
#include "serve/serve-impl.h"

#include <stdlib.h>
#include <string.h>

static const int status_codes[KN__N_STATUS] = {200, 400, 404, 405, 413, 500, 503, 0};
static const char *const route_names[KN__N_ROUTES] = {
    "v2_health_live", "v2_health_ready", "v2_model_metadata", "v2_model_ready",
    "v2_infer",       "v1_predict",      "metrics",           "other"};
/* upper bounds of the latency buckets, microseconds (+Inf after) */
static const unsigned long long bucket_us[KN__N_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};

static size_t status_index(int status)
{
    for (size_t i = 0; i + 1 < KN__N_STATUS; i++)
        if (status_codes[i] == status) return i;
    return KN__N_STATUS - 1;
}

kn_status kn__serve_metrics_init(kn__serve_metrics *mt, size_t n_models)
{
    memset(mt, 0, sizeof *mt);
    mt->n_models = n_models;
    mt->requests =
        calloc((size_t)KN__N_ROUTES * (n_models + 1) * KN__N_STATUS, sizeof *mt->requests);
    mt->rows = calloc(n_models ? n_models : 1, sizeof *mt->rows);
    if (!mt->requests || !mt->rows) {
        kn__serve_metrics_free(mt);
        return kn_fail(KN_ERR_NOMEM, "no memory for the metrics");
    }
    return KN_OK;
}

void kn__serve_metrics_free(kn__serve_metrics *mt)
{
    free((void *)mt->requests);
    free((void *)mt->rows);
    mt->requests = NULL;
    mt->rows = NULL;
}

void kn__serve_metrics_count(kn__serve_metrics *mt, kn__route r, long model, int status,
                             unsigned long long latency_us)
{
    size_t cell = ((size_t)r * (mt->n_models + 1) + (size_t)(model + 1)) * KN__N_STATUS +
                  status_index(status);
    atomic_fetch_add_explicit(&mt->requests[cell], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < KN__N_BUCKETS && latency_us > bucket_us[b]) b++;
    atomic_fetch_add_explicit(&mt->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mt->latency_sum_us, latency_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&mt->latency_count, 1, memory_order_relaxed);
}

/* A label value: backslash, quote and newline escaped. */
static void label(kn__sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            kn__sbuf_add(b, "\\", 1), kn__sbuf_add(b, s, 1);
        else if (*s == '\n')
            kn__sbuf_add(b, "\\n", 2);
        else
            kn__sbuf_add(b, s, 1);
    }
}

static void head(kn__sbuf *b, const char *name, const char *type, const char *help)
{
    kn__sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long long load(const _Atomic unsigned long long *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void requests(const kn__serve_metrics *mt, const kn__serve_model *models, kn__sbuf *b,
                     const char *name, int errors_only)
{
    for (size_t r = 0; r < KN__N_ROUTES; r++)
        for (size_t m = 0; m <= mt->n_models; m++)
            for (size_t s = 0; s < KN__N_STATUS; s++) {
                unsigned long long v =
                    load(&mt->requests[(r * (mt->n_models + 1) + m) * KN__N_STATUS + s]);
                if (!v || (errors_only && status_codes[s] && status_codes[s] < 400)) continue;
                kn__sbuf_printf(b, "%s{route=\"%s\",model=\"", name, route_names[r]);
                if (m) label(b, models[m - 1].name);
                kn__sbuf_puts(b, "\",version=\"");
                if (m) label(b, models[m - 1].version);
                if (status_codes[s])
                    kn__sbuf_printf(b, "\",status=\"%d\"} %llu\n", status_codes[s], v);
                else
                    kn__sbuf_printf(b, "\",status=\"other\"} %llu\n", v);
            }
}

void kn__serve_metrics_text(const kn__serve_metrics *mt, const kn__serve_model *models, kn__sbuf *b)
{
    head(b, "kiln_serve_requests_total", "counter",
         "Requests answered, by route, model, version and HTTP status.");
    requests(mt, models, b, "kiln_serve_requests_total", 0);
    head(b, "kiln_serve_errors_total", "counter",
         "Requests answered with an error status (4xx, 5xx), by route, model, version and "
         "status.");
    requests(mt, models, b, "kiln_serve_errors_total", 1);
    head(b, "kiln_serve_request_duration_seconds", "histogram",
         "Time from a request's first byte to its response's last.");
    unsigned long long cum = 0;
    for (size_t i = 0; i <= KN__N_BUCKETS; i++) {
        cum += load(&mt->latency[i]);
        if (i < KN__N_BUCKETS)
            kn__sbuf_printf(b, "kiln_serve_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                            (double)bucket_us[i] * 1e-6, cum);
        else
            kn__sbuf_printf(b, "kiln_serve_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                            cum);
    }
    kn__sbuf_printf(b, "kiln_serve_request_duration_seconds_sum %.6f\n",
                    (double)load(&mt->latency_sum_us) * 1e-6);
    kn__sbuf_printf(b, "kiln_serve_request_duration_seconds_count %llu\n",
                    load(&mt->latency_count));
    head(b, "kiln_serve_rows_predicted_total", "counter", "Rows predicted, by model and version.");
    for (size_t m = 0; m < mt->n_models; m++) {
        kn__sbuf_puts(b, "kiln_serve_rows_predicted_total{model=\"");
        label(b, models[m].name);
        kn__sbuf_puts(b, "\",version=\"");
        label(b, models[m].version);
        kn__sbuf_printf(b, "\"} %llu\n", load(&mt->rows[m]));
    }
    head(b, "kiln_serve_model_load_seconds", "gauge",
         "Seconds it took to load each model's artifact.");
    for (size_t m = 0; m < mt->n_models; m++) {
        kn__sbuf_puts(b, "kiln_serve_model_load_seconds{model=\"");
        label(b, models[m].name);
        kn__sbuf_puts(b, "\",version=\"");
        label(b, models[m].version);
        kn__sbuf_printf(b, "\"} %.6f\n", models[m].load_s);
    }
    head(b, "kiln_serve_in_flight_requests", "gauge", "Requests being answered now.");
    kn__sbuf_printf(b, "kiln_serve_in_flight_requests %lld\n",
                    (long long)atomic_load_explicit(&mt->in_flight, memory_order_relaxed));
    kn__livestats_text(models, mt->n_models, b);
}
