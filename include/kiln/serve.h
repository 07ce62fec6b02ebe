/* Kiln's model server: fitted pipelines from .kiln artifacts behind HTTP,
 * on libmicrohttpd (epoll, an internal pool of threads), swapped for new
 * versions under traffic without dropping a request.
 *
 *     kn_serve_opts o;
 *     kn_serve_opts_default(&o);             // 127.0.0.1:8080, a thread per core
 *     o.store = "kiln-store";                // where registry refs resolve
 *     o.poll_s = 30;                         // follow the registry's production version
 *     kn_server *s = NULL;
 *     kn_server_new(&o, &s);
 *     kn_server_add_model(s, "credit", &(kn_serve_source){.ref = "credit@production"});
 *     kn_server_add_canary(s, "credit", &(kn_serve_source){.ref = "credit@v4"}, 0.10);
 *     kn_server_start(s);                    // listening
 *     ...                                    // until SIGTERM; SIGHUP: kn_server_reload
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
 *                                                  -> {"model_version": .., "outputs":
 *                                                  [{"name": "prediction", ..},
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
 *   GET  /admin/models[/{name}]                    each model's source, the version serving,
 *                                                  the one before, canary and shadow
 *   POST /admin/models/{name}/reload               re-read the source; check; swap
 *   POST /admin/models/{name}/rollback             back to the version served before
 *
 * Rows are raw: every request runs the whole pipeline, the artifact's input
 * schema first (types, required columns, categories, ranges, values that
 * may not be missing), then the steps and the model. Errors have one shape,
 * {"error": {"code": .., "message": .., "field": .., "row": ..}} (field and
 * row when one is to blame; "offset", the byte, for malformed JSON):
 * 400 bad input, 404 unknown route, model or version, 405 wrong method,
 * 409 a reload or rollback refused, 413 a body over max_body, 431 a header
 * block over max_header, 500 an internal failure. A request never brings
 * the server down. Every answer from a model carries the version that
 * answered in the header X-Model-Version (and v2 bodies in
 * "model_version"). Every admin route starts with /admin/.
 *
 * Versions. A served name holds its version as a refcounted immutable
 * snapshot: a request takes a reference when its headers are in and drops
 * it when its response is done, so a swap never touches a request in
 * flight; the old version is freed when its last request finishes.
 * Versions are numbered by the registry (a ref: "3"), or for a file by the
 * distinct artifacts this name has served (1, 2, ...; the same bytes keep
 * their number).
 *
 * Reload (the admin route, kn_server_reload, SIGHUP in kiln serve, and the
 * poller every poll_s seconds for registry refs) re-reads the source: the
 * ref re-resolved in the store, or the file. The same artifact (by hash) is
 * "unchanged". A new one is loaded and checked before it takes traffic; it
 * is refused, and the old version keeps serving, when it does not load (a
 * damaged or missing file, no model, unsigned or signed with another key
 * when verify_key is set) or is incompatible: a request valid
 * for the old version must stay valid and get an answer of the same shape,
 * so the task (classifier or regressor) and the class labels must match,
 * every input column of the old version must be an input of the new one
 * with the same datatype (an unknown column is a 400), and the new one may
 * not require a column the old one did not. The poller skips an artifact
 * it has refused once and a model that was rolled back (until a reload).
 *
 * Rollback returns to the version served before the current one. For a
 * NAME@production ref the registry is the truth the poller follows, so the
 * registry rolls back too (kn_store_rollback): the registry's production
 * version must be the one served (else 409: reload first), its rollback
 * target is loaded and checked, then the registry moves, then the server
 * swaps; server and registry agree and the poller goes on. For any other
 * source the server swaps back to its previous version and pins the model
 * (the poller leaves it alone until the next reload).
 *
 * Canary: share (0..1) of a model's predict and infer requests go to the
 * canary version, the rest to the main one; request k (counted per model)
 * goes to the canary when floor((k + 1) * share) passes floor(k * share),
 * so N requests send floor(N * share) to it, deterministically. A request
 * naming a version (/versions/{v}) gets that version. Shadow: after a
 * request is answered, a background thread scores the same body with the
 * shadow version (a bounded queue: when full, the request is not
 * shadowed); one JSON line per request goes to shadow_log (request_id,
 * model, version, shadow_version, output, shadow_output or shadow_error,
 * agree: the same labels, or regression values within 1e-6 relative), and
 * /metrics counts agree, disagree, error and dropped. Canary and shadow
 * must be compatible with the main version; they are fixed at start.
 *
 * Auth: clients send "Authorization: Bearer KEY", a key of the store made
 * by kn_store_key_create (kiln keys create). Every path under /admin/
 * needs a key of role admin; with require_key every route but
 * /v2/health/live|ready needs a key of either role (without it those routes
 * are open, but a key that is sent is still checked). A missing, malformed,
 * unknown or revoked key is 401 with "WWW-Authenticate: Bearer", a predict
 * key on an admin route 403, a key over its rate (its own, else rate_limit;
 * a token bucket holding one second's worth) 429 with "Retry-After:
 * seconds". The keys are read at start and again within about a second of
 * any change to the store (a revocation takes effect without a restart).
 * tls_cert and tls_key turn on HTTPS (GnuTLS); plain HTTP is then refused.
 *
 * The prediction log (prediction_log): a JSON line per kept row, {"time",
 * "request_id" (the response's X-Request-Id), "row" (in the request's
 * batch), "model", "version", "inputs": {col: value}, "output" (the row's
 * element of a v1 "predictions")}; rows are kept by a hash of
 * (prediction_seed, request id, row) under prediction_sample, and written
 * by a thread of the server's within about 50 ms (all by kn_server_free).
 *
 * Threading: requests run on the pool's threads at once and read the
 * versions without a lock; reloads and rollbacks of one model take its
 * lock in turn; counters are atomics. kn_server_reload and
 * kn_server_rollback may be called from any thread once the server runs;
 * the other calls on a kn_server are one thread's (the one that made it).
 */
#ifndef KILN_SERVE_H
#define KILN_SERVE_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_serve_opts {
    const char *host;         /* address to bind, numeric IPv4 or IPv6 (default "127.0.0.1") */
    int port;                 /* default 8080; 0 picks a free one (kn_server_port) */
    int threads;              /* pool size; 0 = the number of online cores */
    size_t max_body;          /* request body limit in bytes (default 1 MiB): 413 past it */
    unsigned max_connections; /* open connections at once (default 1024) */
    unsigned timeout_s;       /* idle connection timeout in seconds (default 30) */
    const char *access_log;   /* JSON Lines file appended per request, or NULL */
    size_t max_header;        /* request line and headers, bytes (default 32 KiB): 431 past it */
    const char *store;        /* the store registry refs resolve in and whose API keys are
                                 accepted (NULL: $KILN_STORE, else ./kiln-store); no store
                                 there: no keys */
    double poll_s;            /* re-resolve registry refs this often, seconds (0: never) */
    const char *shadow_log;   /* JSON Lines file of shadow results, or NULL */
    const unsigned char *verify_key; /* a public key (KN_ARTIFACT_PUBLIC_KEY_BYTES, copied):
                                        every version loaded must be signed with its secret
                                        half, at start and on reload; or NULL */
    /* who may call (see "Auth" above) */
    int require_key;                /* the model and metrics routes need a key too */
    double rate_limit;              /* requests per second per key without its own rate; 0: none */
    const char *tls_cert, *tls_key; /* PEM files: HTTPS only (both or neither) */
    int live_stats;                 /* per-input statistics in /metrics (default 1) */
    const char *prediction_log;     /* JSON Lines file, a line per predicted row, or NULL */
    double prediction_sample;       /* the share of rows logged, 0 to 1 (default 1) */
    uint64_t prediction_seed;       /* which rows: a function of (seed, request id, row) */
    size_t feedback_rows;           /* delayed labels: predicted rows kept per version to join
                                       labels to (default 65536; 0: no feedback route) */
    size_t feedback_window;         /* labels per window of the live score (default 1000) */
    size_t drift_window;     /* rows per window of the inputs' drift tests, the first window the
                                reference (0: off, the default) */
    double ops_interval_s;   /* operational anomalies: seconds per interval of the request
                                count, error share and p95 latency series (0: off, the default) */
    const char *ops_webhook; /* POST each operational anomaly event here as JSON, or NULL */
    size_t drift_slide;      /* sliding windows: a window of drift_window rows ends every
                                drift_slide rows (1 to drift_window; 0: drift_window, tumbling) */
    int record_windows;      /* record each finished window in the store's monitoring tables
                                (monitor_checks; alert incidents too), off the request path */
    const char *alerts;      /* a YAML file of alert rules and sinks (kiln/alert.h), evaluated
                                on each finished window and operational interval, or NULL */
    const char *retrain_exe; /* a kiln binary: a rule's retrain: action runs `EXE monitor
                                retrain` as a child process when its incident opens (NULL:
                                rules with retrain: are refused) */
    int anomalies;           /* with drift_window: score each window's rows for input anomalies
                                (kiln/inputanom.h; the forest fitted at load on the artifact's
                                sample of its training rows) on the monitoring thread (default 1) */
    double anomaly_alpha;    /* a window is flagged when its anomalous share is over the
                                reference's at this level, per window (default 0.001) */
    size_t anomaly_rows;     /* the most rows of a window scored for input anomalies: a larger
                                window is scored on a systematic sample of its rows (every
                                ceil(window / anomaly_rows)-th row the server receives), which
                                bounds the forest's cost per window (default 256; 0: every
                                row) */
    double anomaly_contamination; /* the input-anomaly forest's threshold: this share of the
                                     reference rows is past it (default 0.01) */
    uint64_t anomaly_seed;        /* the input-anomaly forest's seed (default 0) */
    double retrain_grace_s;       /* on stop, how long a running retrain: child may take to end
                                     before it is sent SIGTERM (then SIGKILL 10 s later); its
                                     incident is delivered with the outcome (default 60) */
} kn_serve_opts;

KN_API void kn_serve_opts_default(kn_serve_opts *o);

typedef struct kn_server kn_server;

/* Returns a new server with no models and not listening; free with
 * kn_server_free(). Opens the access log (append) when set. */
KN_API kn_status kn_server_new(const kn_serve_opts *o, kn_server **out);
/* Where a version comes from, one of: a registry ref ("credit@production",
 * "credit@staging", "credit@v3", "credit"), resolved in opts.store and
 * re-resolved on reload; or an artifact file, re-read on reload. */
typedef struct kn_serve_source {
    const char *ref;
    const char *path;
} kn_serve_source;

/* Serve model `name` from src: the pipeline, its input schema and the load
 * time. Only before kn_server_start. A missing, damaged or model-less
 * artifact is an error naming the file; a second model of the same name is
 * KN_ERR_INVALID. A ref names the registry model `name`. */
KN_API kn_status kn_server_add_model(kn_server *s, const char *name, const kn_serve_source *src);
/* Send share (over 0, under 1) of name's requests to the version at src.
 * Only before start; it must differ from and be compatible with the main
 * version (a ref names the same registry model). */
KN_API kn_status kn_server_add_canary(kn_server *s, const char *name, const kn_serve_source *src,
                                      double share);
/* Score name's requests again with the version at src in the background
 * (opts.shadow_log). Only before start; as a canary. */
KN_API kn_status kn_server_add_shadow(kn_server *s, const char *name, const kn_serve_source *src);
/* Reload model name (NULL: every model), or roll it back (see above). The
 * outcome of each, {"models": [{"model", "result": "reloaded" | "unchanged" |
 * "rolled_back" | "refused", "version" (serving now), "previous", "error"}]},
 * goes to *report when not NULL (a new string; free with free()). Returns
 * KN_OK, KN_ERR_NOT_FOUND for an unknown name, or KN_ERR_REFUSED when one
 * was refused (its old version serves on). */
KN_API kn_status kn_server_reload(kn_server *s, const char *name, char **report);
KN_API kn_status kn_server_rollback(kn_server *s, const char *name, char **report);
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
