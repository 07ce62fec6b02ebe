/* Kiln's model server: fitted pipelines from .kiln artifacts behind HTTP,
 * on libmicrohttpd (epoll, an internal pool of threads).
 *
 *     kn_serve_opts o;
 *     kn_serve_opts_default(&o);             // 127.0.0.1:8080, a thread per core
 *     kn_server *s = NULL;
 *     kn_server_new(&o, &s);
 *     kn_server_add_model(s, "credit", "3", "store/artifacts/ab12...kiln");
 *     kn_server_start(s);                    // listening
 *     ...                                    // until SIGTERM
 *     kn_server_drain(s, 30.0);              // no new requests; in-flight ones finish
 *     kn_server_free(s);
 *
 * Routes (the Open Inference Protocol, KServe v2 REST, and the v1 form):
 *
 *   GET  /v2/health/live, /v2/health/ready
 *   GET  /v2/models/{name}[/versions/{v}]          metadata: inputs (name, datatype
 *                                                  FP64 | INT64 | BYTES, shape [-1]),
 *                                                  outputs
 *   GET  /v2/models/{name}[/versions/{v}]/ready
 *   POST /v2/models/{name}[/versions/{v}]/infer    {"inputs": [{"name": col, "datatype": ..,
 *                                                  "shape": [n], "data": [n values]}, ..]}
 *                                                  -> {"outputs": [{"name": "prediction", ..},
 *                                                  {"name": "proba_<class>", ..}, ..]}
 *   POST /v1/models/{name}:predict                 {"instances": [{col: value, ..}, ..]} or
 *                                                  {"inputs": {col: [values], ..}}
 *                                                  -> {"predictions": [value | {"label": ..,
 *                                                  "probabilities": {class: p, ..}}, ..]}
 *   GET  /metrics                                  Prometheus text format; with
 *                                                  live_stats, per model and input:
 *                                                  kiln_feature_count, _missing, _mean,
 *                                                  _stddev, _quantile{quantile=..},
 *                                                  _category_count{value=..} (top 20),
 *                                                  _category_other
 *
 * Rows are raw: every request runs the whole pipeline, the artifact's input
 * schema first (types, required columns, categories, ranges, values that
 * may not be missing), then the steps and the model. Errors have one shape,
 * {"error": {"code": .., "message": .., "field": .., "row": ..}} (field and
 * row when one is to blame; "offset", the byte, for malformed JSON):
 * 400 bad input, 404 unknown route, model or version, 405 wrong method,
 * 413 a body over max_body, 500 an internal failure. A request never
 * brings the server down.
 *
 * The prediction log (prediction_log): a JSON line per kept row, {"time",
 * "request_id" (the response's X-Request-Id), "row" (in the request's
 * batch), "model", "version", "inputs": {col: value}, "output" (the row's
 * element of a v1 "predictions")}; rows are kept by a hash of
 * (prediction_seed, request id, row) under prediction_sample, and written
 * by a thread of the server's within about 50 ms (all by kn_server_free).
 *
 * Threading: the models are loaded before start and read-only afterwards;
 * requests run on the pool's threads at once; counters are atomics. Calls
 * on a kn_server itself are one thread's (the one that made it).
 */
#ifndef KILN_SERVE_H
#define KILN_SERVE_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_serve_opts {
    const char *host;           /* address to bind, numeric IPv4 or IPv6 (default "127.0.0.1") */
    int port;                   /* default 8080; 0 picks a free one (kn_server_port) */
    int threads;                /* pool size; 0 = the number of online cores */
    size_t max_body;            /* request body limit in bytes (default 1 MiB): 413 past it */
    unsigned max_connections;   /* open connections at once (default 1024) */
    unsigned timeout_s;         /* idle connection timeout in seconds (default 30) */
    const char *access_log;     /* JSON Lines file appended per request, or NULL */
    int live_stats;             /* per-input statistics in /metrics (default 1) */
    const char *prediction_log; /* JSON Lines file, a line per predicted row, or NULL */
    double prediction_sample;   /* the share of rows logged, 0 to 1 (default 1) */
    uint64_t prediction_seed;   /* which rows: a function of (seed, request id, row) */
} kn_serve_opts;

KN_API void kn_serve_opts_default(kn_serve_opts *o);

typedef struct kn_server kn_server;

/* Returns a new server with no models and not listening; free with
 * kn_server_free(). Opens the access log (append) when set. */
KN_API kn_status kn_server_new(const kn_serve_opts *o, kn_server **out);
/* Load the artifact at path as model `name` with `version` (text, e.g.
 * the registry's "3"; NULL: "1"): the pipeline, its input schema and the
 * load time. Only before kn_server_start. A missing, damaged or
 * model-less artifact is an error naming the file; a second model of
 * the same name is KN_ERR_INVALID. */
KN_API kn_status kn_server_add_model(kn_server *s, const char *name, const char *version,
                                     const char *path);
/* Listen and serve on the pool's threads (returns at once). */
KN_API kn_status kn_server_start(kn_server *s);
/* The port listened on (after start). */
KN_API int kn_server_port(const kn_server *s);
/* Stop accepting connections and wait until the requests in flight have
 * been answered, at most timeout_s seconds. Returns the number of requests
 * still in flight when it gave up (0: drained). */
KN_API unsigned kn_server_drain(kn_server *s, double timeout_s);
/* Stop (closing every connection) and free. NULL is a no-op. */
KN_API void kn_server_free(kn_server *s);

#ifdef __cplusplus
}
#endif
#endif
