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

/* ---- live statistics of the rows a model receives (livestats.c) ---- */
typedef struct kn__livestats kn__livestats;

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
    kn__livestats *live; /* or NULL (--no-live-stats); freed with the model */
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

enum { KN__N_STATUS = 8, KN__N_BUCKETS = 14 };

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

/* ---- observing: live statistics and the prediction log ----
 * A small number per thread (0, 1, ..., in the order threads first ask):
 * the shard a request thread writes to. */
unsigned kn__serve_thread_slot(void);

/* New statistics of the input columns in (borrowed: in must outlive
 * them) in n_shards shards (one per request thread). */
kn_status kn__livestats_new(const kn__serve_inputs *in, size_t n_shards, kn__livestats **out);
void kn__livestats_free(kn__livestats *ls);
/* Count the rows of a request (a frame of the model's input columns, in
 * their order, as the body parsers make it). ls NULL: nothing. No
 * allocation once every column's sketch has grown to its size. */
void kn__livestats_add(kn__livestats *ls, const kn_frame *rows);
/* The kiln_feature_* families of every model with statistics into b. */
void kn__livestats_text(const kn__serve_model *models, size_t n_models, kn__sbuf *b);

/* The sampled prediction log (predlog.c): JSON Lines, one line per row
 * logged; request threads append to per-thread buffers, a writer thread
 * writes them out every 50 ms. */
typedef struct kn__predlog kn__predlog;
/* Open (append) path; sample: the share of rows logged, 0 to 1; the
 * rows kept are a function of (seed, request id, row). */
kn_status kn__predlog_open(const char *path, double sample, uint64_t seed, kn__predlog **out);
/* Write what is buffered, stop the writer and close. NULL: nothing. */
void kn__predlog_close(kn__predlog *pl);
/* The log and request id of the request this thread answers now (pl
 * NULL: none); kn__predlog_rows logs to it. */
void kn__predlog_begin(kn__predlog *pl, unsigned long long request_id);
/* The rows of this thread's request and their predictions (and a
 * classifier's probabilities, n x n_classes), as infer has them. */
void kn__predlog_rows(const kn__serve_model *m, const kn_frame *rows, const double *pred,
                      const double *proba, size_t n);

#endif
