/* Internal to the serve layer (src/serve/): the loaded model, the request
 * body parsers (callable without a server: tests/fuzz/serve_body_fuzz.c),
 * the response text buffer and the metrics. */
#ifndef KILN_SERVE_IMPL_H
#define KILN_SERVE_IMPL_H

#include "kiln/frame.h"
#include "kiln/pipeline.h"
#include "kiln/schema.h"
#include "kiln/serve.h"

#include <stdatomic.h>
#include <stddef.h>

/* ---- text buffer (response bodies, log lines) ----
 * Grows with plain malloc/realloc, because libmicrohttpd frees a response
 * body it is handed (MHD_RESPMEM_MUST_FREE) with free(). Out of memory is
 * remembered in oom and later appends do nothing. */
typedef struct kn__sbuf {
    char *p;
    size_t len, cap;
    int oom;
} kn__sbuf;

void kn__sbuf_add(kn__sbuf *b, const char *s, size_t n);
void kn__sbuf_puts(kn__sbuf *b, const char *s);
void kn__sbuf_printf(kn__sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s (n bytes) as a JSON string with its quotes; bytes that are not UTF-8
 * (or a character cut short) become U+FFFD. */
void kn__sbuf_json_str(kn__sbuf *b, const char *s, size_t n);
/* A double as JSON: shortest round-trip text; NaN and infinities as null. */
void kn__sbuf_json_num(kn__sbuf *b, double v);
/* The text (NUL-terminated; the caller owns it, free()), or NULL when out
 * of memory. The buffer is left empty. */
char *kn__sbuf_take(kn__sbuf *b, size_t *len);
void kn__sbuf_free(kn__sbuf *b);

/* ---- what a request may send ----
 * The columns of a model's input: the pipeline's fitted columns other than
 * its target and weight, with their types, and whether the schema requires
 * them. The target and weight are accepted in a request and ignored. */
typedef struct kn__serve_inputs {
    size_t n;
    char **names;
    kn_col_type *types;
    unsigned char *required;
    const char *target, *weight; /* or NULL */
} kn__serve_inputs;

/* What was wrong with a request: HTTP status, error code, message, and the
 * field, row (0-based, in the request's batch) and byte offset to blame
 * (empty / -1 when none). */
typedef struct kn__serve_err {
    int status;
    const char *code;
    char message[512];
    char field[128];
    long long row, offset;
} kn__serve_err;

void kn__serve_err_set(kn__serve_err *e, int status, const char *code, const char *field,
                       long long row, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The KServe v2 datatype of a column type: "FP64", "INT64" or "BYTES". */
const char *kn__serve_datatype(kn_col_type t);

/* Parse a request body into a frame of in's columns (in their order; a
 * column the request leaves out is missing in every row). v1: {"instances":
 * [{col: value}, ..]} or {"inputs": {col: [values]}}; v2: {"inputs":
 * [{"name", "datatype", "shape", "data"}], "id"?}. *id (v2; may be NULL)
 * receives the request's id as a new string (free()) or NULL. Returns 0,
 * or -1 with *err filled (and *out NULL). Never crashes on any bytes. */
int kn__serve_parse_v1(const kn__serve_inputs *in, const char *body, size_t len, kn_frame **out,
                       kn__serve_err *err);
int kn__serve_parse_v2(const kn__serve_inputs *in, const char *body, size_t len, kn_frame **out,
                       char **id, kn__serve_err *err);

/* ---- a loaded model ---- */
typedef struct kn__serve_model {
    char *name, *version, *path;
    kn_pipeline *p;
    const kn_model *m; /* borrowed from p */
    kn_schema *schema; /* the input schema as a request is checked against it, or NULL */
    kn__serve_inputs in;
    size_t n_classes; /* 0 for regression */
    double load_s;
    char *metadata; /* the v2 metadata body, built at load */
    size_t metadata_len;
} kn__serve_model;

/* Load path as a model (see kn_server_add_model). */
kn_status kn__serve_model_load(const char *name, const char *version, const char *path,
                               kn__serve_model *out);
void kn__serve_model_free(kn__serve_model *m);

/* Check rows against the model's schema, predict them and write the
 * response body into b: v1 {"predictions": ..}, or v2 {"model_name", ..,
 * "outputs"}. Returns 0, or -1 with *err filled. */
int kn__serve_infer(const kn__serve_model *m, const kn_frame *rows, int v2, const char *id,
                    kn__sbuf *b, kn__serve_err *err);

/* ---- who may call (auth.c) ----
 * The API keys of the server's store, read again when the store changes
 * (a thread, once a second), the per-key token buckets, the TLS files. */
typedef struct kn__auth kn__auth;
typedef struct kn__auth_verdict {
    int status; /* 0: let in; 401, 403 or 429 */
    int why;
    unsigned retry_after; /* 429: seconds */
    int64_t key_id;       /* the key sent, 0 when none */
    double rate;          /* the key's rate */
} kn__auth_verdict;

/* Read the TLS files, open the store and its keys (none when there is no
 * store, unless require_key), start the thread that re-reads them. */
kn_status kn__auth_new(const kn_serve_opts *o, kn__auth **out);
void kn__auth_free(kn__auth *a);
/* Whether a request to path with this Authorization header (NULL: none)
 * may go on: 0, or the status (401, 403, 429) with *v filled. /admin/...
 * always needs an admin key; other routes but health need a key under
 * require_key; a key that is sent is always checked and rate-limited.
 * Thread-safe; never blocks on the store. */
int kn__auth_check(kn__auth *a, const char *path, const char *authorization, kn__auth_verdict *v);
/* The error body of a refusal, and its headers (WWW-Authenticate on 401,
 * Retry-After on 429; none for a verdict that let the request in). */
void kn__auth_error(const kn__auth_verdict *v, const char *path, kn__serve_err *e);
struct MHD_Response;
void kn__auth_headers(const kn__auth_verdict *v, struct MHD_Response *res);
/* TLS: 1 with the PEM texts and their files (borrowed, valid while a
 * lives), or 0 when TLS is off. */
int kn__auth_tls(const kn__auth *a, const char **cert, const char **key, const char **cert_file,
                 const char **key_file);

/* ---- metrics ---- */
typedef enum {
    KN__ROUTE_LIVE,
    KN__ROUTE_READY,
    KN__ROUTE_MODEL, /* metadata */
    KN__ROUTE_MODEL_READY,
    KN__ROUTE_INFER,   /* v2 */
    KN__ROUTE_PREDICT, /* v1 */
    KN__ROUTE_METRICS,
    KN__ROUTE_OTHER,
    KN__N_ROUTES
} kn__route;

enum { KN__N_STATUS = 11, KN__N_BUCKETS = 14 };

typedef struct kn__serve_metrics {
    size_t n_models;
    /* [route][model + 1 (0: none)][status class index] */
    _Atomic unsigned long long *requests;
    _Atomic unsigned long long *rows;                      /* [model] */
    _Atomic unsigned long long latency[KN__N_BUCKETS + 1]; /* cumulative on output */
    _Atomic unsigned long long latency_sum_us, latency_count;
    _Atomic long long in_flight;
} kn__serve_metrics;

kn_status kn__serve_metrics_init(kn__serve_metrics *mt, size_t n_models);
void kn__serve_metrics_free(kn__serve_metrics *mt);
/* Count one answered request. model -1: none. */
void kn__serve_metrics_count(kn__serve_metrics *mt, kn__route r, long model, int status,
                             unsigned long long latency_us);
/* The Prometheus text of every metric into b. */
void kn__serve_metrics_text(const kn__serve_metrics *mt, const kn__serve_model *models,
                            kn__sbuf *b);

#endif
