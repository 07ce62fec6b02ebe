/* Internal to the serve layer (src/serve/): the loaded model, the request
 * body parsers (callable without a server: tests/fuzz/serve_body_fuzz.c),
 * the response text buffer, the served versions (refcounted snapshots
 * swapped under traffic), shadow scoring and the metrics. */
#ifndef KILN_SERVE_IMPL_H
#define KILN_SERVE_IMPL_H

#include "kiln/alert.h"
#include "kiln/ctx.h"
#include "kiln/drift_ref.h"
#include "kiln/frame.h"
#include "kiln/inputanom.h"
#include "kiln/pipeline.h"
#include "kiln/schema.h"
#include "kiln/serve.h"

#include <pthread.h>
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
/* s (n bytes) as a Prometheus label value, without its quotes: backslash,
 * double quote and newline escaped. */
void kn__sbuf_prom_label(kn__sbuf *b, const char *s, size_t n);
/* s (n bytes) as a JSON string with its quotes; bytes that are not UTF-8
 * (or a character cut short) become U+FFFD. */
void kn__sbuf_json_str(kn__sbuf *b, const char *s, size_t n);
/* A double as JSON: shortest round-trip text; NaN and infinities as null. */
void kn__sbuf_json_num(kn__sbuf *b, double v);
/* A Prometheus sample's value and its line's end: shortest round-trip
 * text, NaN when v is not finite. */
void kn__sbuf_prom_value(kn__sbuf *b, double v);
/* The text (NUL-terminated; the caller owns it, free()), or NULL when out
 * of memory. The buffer is left empty. */
char *kn__sbuf_take(kn__sbuf *b, size_t *len);
void kn__sbuf_free(kn__sbuf *b);
/* A time (nanoseconds since 1970, UTC) as "2026-12-06T10:40:00.123456Z"
 * into out (at least 40 bytes), the form of every serve log line. */
void kn__serve_utc(int64_t ns, char *out, size_t n);
/* Now, in nanoseconds since 1970 (CLOCK_REALTIME). */
int64_t kn__serve_now_ns(void);

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
    uint64_t uid;    /* unique to this loaded version (keys the per-thread spare frame) */
    int all_numeric; /* every input numeric: a one-row frame can be reused as it is */
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
/* The outputs a v2 request names ("outputs": [{"name": ..}, ..]); n 0: all. */
typedef struct kn__serve_outputs {
    size_t n;
    char **names;
} kn__serve_outputs;
void kn__serve_outputs_free(kn__serve_outputs *o);
int kn__serve_parse_v2(const kn__serve_inputs *in, const char *body, size_t len, kn_frame **out,
                       char **id, kn__serve_outputs *outputs, kn__serve_err *err);
/* kn__serve_parse_v1 through jansson alone: kn__serve_parse_v1 reads the
 * common one-flat-row body itself and leaves every other body to this
 * (the tests check that both give the same frame). */
/* A request's frame is done with: a one-row frame of all-numeric inputs is
 * kept as the calling thread's spare, which the next one-row request of the
 * same version fills in place of building a frame; any other is freed.
 * The spare is freed when its thread ends. */
void kn__serve_frame_done(const kn__serve_inputs *in, kn_frame *f);
int kn__serve_parse_v1_json(const kn__serve_inputs *in, const char *body, size_t len,
                            kn_frame **out, kn__serve_err *err);

/* ---- live statistics of the rows a model receives (livestats.c) ---- */
typedef struct kn__livestats kn__livestats;
/* ---- delayed labels joined to recent predictions (feedback.c) ---- */
typedef struct kn__feedback kn__feedback;
/* ---- windowed drift of the inputs (drift.c) ---- */
typedef struct kn__drift kn__drift;
/* ---- the monitoring thread: store and alert rules (watch.c) ---- */
typedef struct kn__watch kn__watch;
struct kn__serve_slot;
/* ---- input anomalies of the drift windows (anomwin.c) ---- */
typedef struct kn__anomwin kn__anomwin;

/* How a served version's windows are made (the slot's, for every version). */
typedef struct kn__drift_cfg {
    size_t window, slide; /* rows per window; rows between windows' ends (0: window) */
    kn__watch *watch;     /* finished windows go there, or NULL */
    const char *key;      /* the model as recorded and alerted on (the slot's ref, else its
                             name; borrowed: outlives every version) */
    const struct kn__serve_slot *slot; /* the slot (whether a version is its canary) */
    int anomalies;                /* score each window's rows for input anomalies (anomwin.c) */
    double anomaly_alpha;         /* their per-window level */
    size_t anomaly_rows;          /* the most rows of a window scored (0: all) */
    double anomaly_contamination; /* the forest's threshold: this share of the reference past it */
    uint64_t anomaly_seed;        /* the forest's seed */
} kn__drift_cfg;

/* A window over this share of rows refused counts as drifted (as kiln
 * monitor check --max-invalid's default). */
#define KN__DRIFT_MAX_INVALID 0.01

/* One finished drift window, for the monitoring thread. */
typedef struct kn__watch_window {
    const char *model, *version;
    const struct kn__serve_slot *slot; /* the version's slot (borrowed), or NULL */
    int canary;                        /* the slot's canary when it ended (the alert scope) */
    unsigned long long window;         /* 1, 2, ... of the version (the tested ones) */
    unsigned long long end_row;        /* the rows the version received up to its end */
    size_t window_rows, slide, rows;   /* rows: in the window (valid and invalid) */
    size_t invalid;                    /* rows of refused requests */
    int drift;            /* an input or the predictions drifted, or too many invalid */
    kn_drift_report cols; /* the inputs tested */
    kn_drift_col pred;    /* the predictions (pred_tested) */
    int pred_tested;
    kn_drift_col score; /* a classifier's scores (score_tested; kn_drift_class_score) */
    int score_tested;
    int anom_tested;                         /* input anomalies scored (anom) */
    kn_inputanom_window anom;                /* the window's test */
    unsigned long long anom_flagged_windows; /* of the version so far, this one included */
} kn__watch_window;

/* ---- a loaded model ---- */
typedef struct kn__serve_model {
    char *name, *version, *path;
    kn_pipeline *p;
    const kn_model *m; /* borrowed from p */
    kn_schema *schema; /* the input schema as a request is checked against it, or NULL */
    kn__serve_inputs in;
    size_t n_classes;     /* 0 for regression */
    double test_score[4]; /* the artifact's test scores by kn_live_metric (NaN: none) */
    double load_s;
    char *metadata; /* the v2 metadata body, built at load */
    size_t metadata_len;
    kn__livestats *live;   /* or NULL (--no-live-stats); freed with the model */
    kn__feedback *fb;      /* or NULL (--feedback-ring 0); freed with the model */
    kn__drift *drift;      /* or NULL (no --drift-window); freed with the model */
    kn_drift_ref *ref;     /* the artifact's drift reference (KN_ART_REFERENCE), or NULL */
    kn_frame *ref_rows;    /* the artifact's sample of its training rows (KN_ART_REFERENCE_ROWS;
                              what the input-anomaly forest fits on), or NULL */
    double *heldout_pred;  /* the artifact's held-out predictions (KN_ART_HELDOUT: numbers, or
                              class indices), or NULL */
    double *heldout_score; /* a classifier's: their scores (kn_drift_class_score), or NULL */
    size_t n_heldout;
    /* the one-row predictor (kn_row_predict) of p and schema, made by the
     * first one-row request (infer.c); freed with the model */
    _Atomic(kn_row_predictor *) rows;
} kn__serve_model;

/* Load path as a model (see kn_server_add_model); public_key (or NULL)
 * as kn_artifact_read's. */
kn_status kn__serve_model_load(const char *name, const char *version, const char *path,
                               const unsigned char *public_key, kn__serve_model *out);
void kn__serve_model_free(kn__serve_model *m);

/* Check rows against the model's schema, predict them and write the
 * response body into b: v1 {"predictions": ..}, or v2 {"model_name", ..,
 * "outputs"} (those named in outputs, when it names any: a name that is
 * not one of the model's outputs is refused before predicting). Returns 0,
 * or -1 with *err filled. */
int kn__serve_infer(const kn__serve_model *m, const kn_frame *rows, int v2, const char *id,
                    const kn__serve_outputs *outputs, kn__sbuf *b, kn__serve_err *err);

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
/* ---- a served model's versions (swap.c) ----
 * A snapshot is one loaded version, immutable once published and shared by
 * the requests that use it: a request takes a reference when it starts
 * (kn__serve_slot_get) and drops it when its response is done
 * (kn__serve_snap_put); the last reference frees it. */
typedef struct kn__serve_snap {
    kn__serve_model m;
    _Atomic long refs;
    char hash[65];   /* BLAKE2b of the artifact file */
    size_t series;   /* its metrics series (model, version) */
    int reg_version; /* the registry's version number, 0 for a file */
} kn__serve_snap;

typedef enum { KN__SNAP_MAIN, KN__SNAP_CANARY, KN__SNAP_SHADOW, KN__N_SNAP } kn__snap_role;

/* The counters of one served name (reloads, rollbacks, shadow results). */
typedef enum {
    KN__EV_RELOAD_OK,
    KN__EV_RELOAD_UNCHANGED,
    KN__EV_RELOAD_REFUSED,
    KN__EV_ROLLBACK_OK,
    KN__EV_ROLLBACK_REFUSED,
    KN__EV_SHADOW_AGREE,
    KN__EV_SHADOW_DISAGREE,
    KN__EV_SHADOW_ERROR,
    KN__EV_SHADOW_DROPPED,
    KN__N_EV
} kn__serve_event;

/* A served name: where its versions come from and the ones serving now.
 * Requests read the snapshot pointers without a lock (the guard below);
 * reload and rollback, the writers, take `lock` one at a time. */
typedef struct kn__serve_slot {
    char *name;
    char *ref, *path;      /* the main version's source: a registry ref or a file (one is set) */
    int tracks_production; /* ref is NAME@production: rollback moves the registry too */
    const unsigned char *verify_key; /* every version must be signed with it, or NULL */
    _Atomic(kn__serve_snap *) snap[KN__N_SNAP];
    unsigned canary_bp;                    /* the canary's share of requests, in 1/10000 */
    size_t live_shards;                    /* live statistics: shards of each version's (0: none) */
    size_t feedback_rows, feedback_window; /* each version's kn__feedback (0: none) */
    size_t feedback_shards;                /* its shards: the pool's threads */
    kn__watch *feedback_watch;             /* where its closed windows go (alert rules), or NULL */
    kn__drift_cfg drift;                   /* each version's kn__drift (window 0: none) */
    _Atomic unsigned long long routed;     /* requests routed so far (the canary split) */
    /* the readers' guard: a reader counts itself in acq[epoch & 1] while it
     * loads a pointer and takes its reference; a writer swaps the pointer,
     * flips the epoch and waits for the old half to empty before it drops
     * the old snapshot's reference */
    _Atomic unsigned epoch;
    _Atomic unsigned long long acq[2];
    _Atomic unsigned long long events[KN__N_EV];
    pthread_mutex_t lock;
    /* under lock: */
    kn__serve_snap *prev; /* the version served before the main one (rollback) */
    int pinned;           /* rolled back: polling leaves it alone until a reload */
    char refused[65];     /* the artifact the last reload refused: polling skips it */
    char (*hashes)[65];   /* a file's artifacts seen so far: version i + 1 */
    size_t n_hashes;
} kn__serve_slot;

struct kn__serve_metrics;

/* Take a reference to the slot's snapshot in that role, or NULL when none. */
kn__serve_snap *kn__serve_slot_get(kn__serve_slot *sl, kn__snap_role role);
/* Drop a reference (NULL: nothing); the last one frees the snapshot. */
void kn__serve_snap_put(kn__serve_snap *sn);
/* Publish nw in role (the caller's reference moves in with it) and return
 * the version it replaced with the slot's reference, once no reader can
 * still be between reading the old pointer and taking its reference.
 * Under sl->lock (one writer at a time). */
kn__serve_snap *kn__serve_slot_swap(kn__serve_slot *sl, kn__snap_role role, kn__serve_snap *nw);

/* Make a slot serving name from a registry ref (resolved in the store at
 * store_dir) or a file (path), loading its first version. */
kn_status kn__serve_slot_init(kn__serve_slot *sl, struct kn__serve_metrics *mt,
                              const char *store_dir, const char *name, const char *ref,
                              const char *path, const char *version,
                              const unsigned char *verify_key);
/* Load a canary or shadow version into the slot (before start). */
kn_status kn__serve_slot_side(kn__serve_slot *sl, struct kn__serve_metrics *mt,
                              const char *store_dir, kn__snap_role role, const char *ref,
                              const char *path, double share);
void kn__serve_slot_free(kn__serve_slot *sl);

/* What a reload or rollback did, as the admin routes answer it. */
typedef struct kn__serve_outcome {
    int status;         /* HTTP: 200 done or unchanged, 409 refused, 500/503 failed */
    const char *result; /* "reloaded", "unchanged", "rolled_back", "refused" */
    char version[32];   /* serving now */
    char previous[32];  /* served before ("" when nothing changed) */
    char reason[600];   /* why it was refused */
} kn__serve_outcome;

/* Re-read the main version's source (the ref re-resolved, or the file),
 * check the new version and publish it; `only_if_newer`: the poller's
 * form, which does nothing when the registry's version is the one served
 * or the slot is pinned. */
void kn__serve_slot_reload(kn__serve_slot *sl, struct kn__serve_metrics *mt, const char *store_dir,
                           int only_if_newer, kn__serve_outcome *out);
/* Back to the version served before (see kiln/serve.h). */
void kn__serve_slot_rollback(kn__serve_slot *sl, struct kn__serve_metrics *mt,
                             const char *store_dir, kn__serve_outcome *out);

/* Why a new version cannot replace the old one without breaking a client
 * (see kiln/serve.h): 0 compatible, or -1 with why filled. */
int kn__serve_model_compatible(const kn__serve_model *old, const kn__serve_model *nw, char *why,
                               size_t n);

/* ---- shadow scoring (shadow.c) ----
 * A background thread scores the requests of models with a shadow version
 * after their answer is queued: the queue is bounded, and a request that
 * finds it full is not shadowed (counted as dropped). */
typedef struct kn__serve_shadow kn__serve_shadow;
kn_status kn__serve_shadow_start(const char *log_path, kn_ctx *ctx, kn__serve_shadow **out);
/* Hand over one answered request: main and shadow are references the job
 * keeps (put when scored), body (malloc'd) becomes the job's, answer is
 * the v1 body given (copied; NULL: scored again). Never blocks. */
void kn__serve_shadow_submit(kn__serve_shadow *sh, kn__serve_slot *sl, unsigned long long id,
                             kn__serve_snap *main, kn__serve_snap *shadow, char *body, size_t len,
                             int v2, const char *answer, size_t answer_len);
/* Score what is queued, then stop the thread. NULL: nothing. */
void kn__serve_shadow_stop(kn__serve_shadow *sh);

/* ---- metrics ---- */
typedef enum {
    KN__ROUTE_LIVE,
    KN__ROUTE_READY,
    KN__ROUTE_MODEL, /* metadata */
    KN__ROUTE_MODEL_READY,
    KN__ROUTE_INFER,   /* v2 */
    KN__ROUTE_PREDICT, /* v1 */
    KN__ROUTE_METRICS,
    KN__ROUTE_ADMIN,
    KN__ROUTE_FEEDBACK, /* v2 delayed labels */
    KN__ROUTE_OTHER,
    KN__N_ROUTES
} kn__route;

enum { KN__N_STATUS = 12, KN__N_BUCKETS = 14, KN__MAX_SERIES = 1024 };

/* The counters of one (model, version); series 0 is "no model". */
typedef struct kn__serve_series {
    char *model, *version;
    _Atomic unsigned long long requests[KN__N_ROUTES][KN__N_STATUS];
    _Atomic unsigned long long rows;
    _Atomic unsigned long long latency[KN__N_BUCKETS + 1];
    _Atomic unsigned long long latency_sum_us, latency_count;
    _Atomic unsigned long long load_us; /* the latest load of this version */
} kn__serve_series;

typedef struct kn__serve_metrics {
    /* series are added (under lock) as versions load and never removed;
     * n_series is published after the series it counts */
    kn__serve_series *series[KN__MAX_SERIES];
    _Atomic size_t n_series;
    pthread_mutex_t lock;
    _Atomic unsigned long long latency[KN__N_BUCKETS + 1]; /* every request */
    _Atomic unsigned long long latency_sum_us, latency_count;
    _Atomic long long in_flight;
} kn__serve_metrics;

kn_status kn__serve_metrics_init(kn__serve_metrics *mt);
void kn__serve_metrics_free(kn__serve_metrics *mt);
/* The series of (model, version), made on first use; 0 (the "no model"
 * series) when the table is full. */
size_t kn__serve_metrics_series(kn__serve_metrics *mt, const char *model, const char *version);
/* Count one answered request in a series. */
void kn__serve_metrics_count(kn__serve_metrics *mt, kn__route r, size_t series, int status,
                             unsigned long long latency_us);
/* The Prometheus text of every metric into b. */
void kn__serve_metrics_text(kn__serve_metrics *mt, kn__serve_slot *slots, size_t n_slots,
                            kn__sbuf *b);

/* ---- observing: live statistics and the prediction log ----
 * A small number per thread (0, 1, ..., in the order threads first ask):
 * the shard a request thread writes to. */
unsigned kn__serve_thread_slot(void);
/* A mutex that spins a little before it sleeps (lock.c): for the locks
 * request threads take on every row (drift ring, feedback ring, live
 * statistics, metrics). */
void kn__serve_lock_init(pthread_mutex_t *mu);

/* New statistics of the input columns in (borrowed: in must outlive
 * them) in n_shards shards (one per request thread). */
kn_status kn__livestats_new(const kn__serve_inputs *in, size_t n_shards, kn__livestats **out);
void kn__livestats_free(kn__livestats *ls);
/* Count the rows of a request (a frame of the model's input columns, in
 * their order, as the body parsers make it). ls NULL: nothing. No
 * allocation once every column's sketch has grown to its size. */
void kn__livestats_add(kn__livestats *ls, const kn_frame *rows);
/* The kiln_feature_* families of every model with statistics into b. */
void kn__livestats_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b);

/* Delayed labels (feedback.c): the version's last `rows` predicted rows
 * (rounded up to a power of two; also the last that many request ids of
 * the server) and its score per tumbling window of `window` joined labels.
 * Request threads record, each into its shard (n_shards: the request
 * threads; each holds rows / n_shards, rounded up to a power of two); the
 * feedback route joins; /metrics reads. None allocates after _new. */
kn_status kn__feedback_new(const kn__serve_model *m, size_t rows, size_t window, size_t n_shards,
                           kn__feedback **out);
void kn__feedback_free(kn__feedback *fb);
/* Where a closed window's scores go for the alert rules: the watcher, the
 * model as alerted on (borrowed: outlives the version) and its slot (which
 * says whether the version is the canary). */
void kn__feedback_watch(kn__feedback *fb, kn__watch *w, const char *key,
                        const struct kn__serve_slot *slot);
/* The memory fb holds (fixed at _new); 0 for NULL. */
size_t kn__feedback_bytes(const kn__feedback *fb);
/* The request this thread predicts now (0: none; nothing is recorded). */
void kn__feedback_begin(unsigned long long request_id);
/* Record the predictions (and a classifier's n x n_classes probabilities)
 * of this thread's request in m->fb (NULL: nothing). */
void kn__feedback_rows(const kn__serve_model *m, const double *pred, const double *proba, size_t n);
/* Join a label to the prediction of (request id, row): a classifier's
 * label as text, a regression's as number. 1 joined (the window counts
 * it, and scores itself when full), 2 the prediction was joined to a label
 * before (the first label counts; this one is counted as a duplicate and
 * changes nothing else), 0 no such prediction is held. */
int kn__feedback_join(kn__feedback *fb, const kn__serve_model *m, unsigned long long rid,
                      unsigned long long row, const char *text, double number);
/* Count n labels that matched nothing. */
void kn__feedback_unknown(kn__feedback *fb, size_t n);
/* Score the window filling now (after a request's labels). */
void kn__feedback_done(kn__feedback *fb);
/* The kiln_feedback_* families of every model with feedback into b. */
void kn__feedback_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b);

/* Windowed drift (drift.c): the inputs of m and its predictions in
 * windows of `window` rows ending every `slide` rows (slide = window:
 * tumbling), each tested as kiln/drift.h does against m->ref, the
 * artifact's reference of its training rows, when it holds every input;
 * else (an artifact written before references) against the first window.
 * The predictions against the artifact's held-out predictions, else the
 * reference's, else the first window's. Rows of requests refused for their
 * schema take their place in the windows as invalid rows. Request threads
 * add without a lock; the one that ends a window hands it to watch's
 * thread (when set; else tests it itself); /metrics reads. m must outlive the drift (it does: the
 * model frees it). */
kn_status kn__drift_new(const kn__serve_model *m, const kn__drift_cfg *cfg, kn__drift **out);
void kn__drift_free(kn__drift *d);
size_t kn__drift_bytes(const kn__drift *d);
/* Whether this thread answers a request now (kn__drift_add counts only
 * then: shadow scoring runs kn__serve_infer too). */
void kn__drift_begin(int on);
/* Count the rows of a request (the model's input columns in order) and
 * their predictions (NULL: none) and a classifier's n x n_classes
 * probabilities (NULL: none; each row's kn_drift_class_score is kept).
 * d NULL: nothing. */
void kn__drift_add(kn__drift *d, const kn_frame *rows, const double *pred, const double *proba);
/* The version whose model d belongs to: the monitoring thread keeps it
 * alive while it tests a window of d. */
void kn__drift_set_owner(kn__drift *d, struct kn__serve_snap *owner);
/* The monitoring thread's part: copy the window that ends at row `end`
 * (windows come in order), test it, publish the results for /metrics and
 * hand them over in *out (cols and pred: the caller's to free): 1, or 0
 * when it was given up (its rows were overwritten: the server stops). */
int kn__drift_run(kn__drift *d, unsigned long long end, kn__watch_window *out);
/* Count n rows refused for breaking the input schema. d NULL: nothing. */
void kn__drift_invalid(kn__drift *d, size_t n);
/* The input-anomaly scoring of d's windows (on or off), or NULL (d NULL,
 * or --no-anomalies). */
kn__anomwin *kn__drift_anomwin(const kn__drift *d);
/* The kiln_drift_* families of every model with drift into b. */
void kn__drift_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b);

/* Input anomalies per drift window (anomwin.c): an isolation forest fitted
 * once here on m->ref_rows (kiln/inputanom.h); without them, or when it
 * cannot be fitted, *out still comes back, off (kn__anomwin_on 0), and
 * the log says why. alpha: the per-window level of the test. */
kn_status kn__anomwin_new(const kn__serve_model *m, size_t window, size_t max_rows, double alpha,
                          double contamination, uint64_t seed, kn__anomwin **out);
void kn__anomwin_free(kn__anomwin *w);
int kn__anomwin_on(const kn__anomwin *w);
/* The window-sized memory w holds once a window was scored (the forest
 * aside); 0 for NULL or off. */
size_t kn__anomwin_bytes(const kn__anomwin *w);
/* The monitoring thread's part, in two steps, so that the drift's copy
 * of the window is handed back to the requests before the forest runs.
 * _take copies what it needs of a copied window (rings[j]: input j's ring
 * of `window` values, NaN missing, for the numeric inputs; valid: the
 * ring's flags; end_row: the rows into the ring when it was copied, the
 * last in slot (end_row - 1) mod window): the rows new since the last
 * window, each row taken once. _score then scores them, tests the whole
 * window, publishes for /metrics and fills out's anom_* (out may be
 * NULL). w NULL or off: nothing. One thread calls both, in turn. */
void kn__anomwin_take(kn__anomwin *w, const double *const *rings, const unsigned char *valid,
                      unsigned long long end_row);
void kn__anomwin_score(kn__anomwin *w, kn__watch_window *out);
/* The kiln_anomaly_* families of every model scoring them into b. */
void kn__anomwin_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b);

/* The monitoring thread (watch.c): finished windows queue to it (bounded,
 * never blocking; a full queue drops and counts); it records each in the
 * store's monitoring tables (store_dir, when record) and evaluates the
 * alert rules of cfg (taken over; NULL: none) with their sinks. Stopping
 * works off the queue first. */
/* retrain_exe: the kiln binary a rule's retrain: runs (`monitor retrain`), or NULL;
 * grace_s: how long kn__watch_stop waits for a running one before stopping it.
 * slots (n_slots, borrowed for the call): the served models; with record,
 * the open incidents of their rules with retrain: that no retrain was
 * started for (a server stopped before it started one) are picked up:
 * their retrains run first, once each (the store's claim per incident). */
kn_status kn__watch_start(const char *store_dir, int record, kn_alert_config *cfg,
                          const char *retrain_exe, double grace_s, const kn__serve_slot *slots,
                          size_t n_slots, kn__watch **out);
void kn__watch_stop(kn__watch *w);
/* Queue the test of d's window that ends at row `end` (kn__drift_run) for the thread,
 * keeping owner (a version's snapshot, or NULL) alive meanwhile: 1
 * queued, 0 dropped (full queue, stopping, out of memory). Never blocks. */
struct kn__serve_snap;
int kn__watch_drift_submit(kn__watch *w, kn__drift *d, struct kn__serve_snap *owner,
                           unsigned long long end);
/* Whether a rule watches the operational series (ops metrics). */
int kn__watch_wants_ops(const kn__watch *w);
/* A window of feedback labels of a version closed (live and test by
 * kn_live_metric, NaN: none; headline: the metric live_drop compares):
 * queued for the rules on feedback metrics, when there are any, and for
 * the store (kn_live_record_json) when the watcher records. */
void kn__watch_feedback_submit(kn__watch *w, const char *model, const char *version, int canary,
                               unsigned long long window, uint64_t window_rows, const double *live,
                               const double *test, int headline);
/* An operational interval's inputs (has_ops, ops_in_event, ops_abs_z) and
 * the events going on (a JSON array's text), for the ops rules. */
void kn__watch_ops_submit(kn__watch *w, const kn_alert_inputs *in, const char *events);
/* Whether w records in the store (--record-windows). */
int kn__watch_records(const kn__watch *w);
/* Queue an operational interval's record (kiln/opsanom.h's JSON text, as
 * kiln monitor ops --record writes it) for the store's monitor_checks
 * under model (rows: the server's requests in it; drift: an event went
 * on). Never blocks; a full queue drops and counts. */
void kn__watch_ops_record(kn__watch *w, const char *model, uint64_t rows, int drift,
                          const char *result);
/* The kiln_watch_* and kiln_alert_* families into b. NULL: nothing. */
void kn__watch_text(kn__watch *w, kn__sbuf *b);

/* Operational anomalies (ops.c): per served model (names[i], borrowed:
 * they must outlive ops) and for the whole server, the predict requests
 * per interval, their error share and p95 latency, scored once per
 * interval_s by a thread of ops' own (kiln/opsanom.h); events go to the
 * log, to log_fd (the access log, or -1) and to webhook (or NULL); each
 * interval's events go to watch's ops rules (watch NULL: none), and when
 * watch records, each scope's interval goes to the store: a model's under
 * keys[i] (its ref or name, as its drift windows; borrowed likewise), the
 * server's under "(server)". */
typedef struct kn__ops kn__ops;
kn_status kn__ops_start(const char *const *names, const char *const *keys, size_t n_models,
                        double interval_s, int log_fd, const char *webhook, kn__watch *watch,
                        kn__ops **out);
/* Count one answered request of route r to model (the slot, or -1). o
 * NULL, or a route other than infer and predict: nothing. Lock-free. */
void kn__ops_count(kn__ops *o, long model, kn__route r, int status, unsigned long long us);
/* The kiln_ops_* families into b. NULL: nothing. */
void kn__ops_text(kn__ops *o, kn__sbuf *b);
/* Stop the thread and free. NULL: nothing. */
void kn__ops_stop(kn__ops *o);

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

/* The alert rules file of kiln serve --alerts (new config, or an error
 * naming the file and line; retrain: is refused), and whether the server
 * measures what each rule watches: drift metrics need drift windows, ops_*
 * the ops interval, a rule's column must be an input of a served model,
 * anomaly metrics are refused. */
kn_status kn__serve_alerts_read(const char *path, kn_alert_config **out);
kn_status kn__serve_alerts_check(const kn_alert_config *c, const char *path, const kn_serve_opts *o,
                                 kn__serve_slot *slots, size_t n_slots);

#endif
