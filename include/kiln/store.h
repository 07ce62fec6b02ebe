/* Kiln's store: experiment tracking (runs with their parameters, metrics,
 * lineage, resources and cost) and the model registry (named models,
 * numbered versions, stages, an audit trail), in one SQLite database.
 *
 *     kn_store *s = NULL;
 *     kn_store_open(NULL, 1, &s);        // $KILN_STORE, else ./kiln-store/
 *     kn_store_add_run(s, &run, artifact_bytes, len, &run_id);
 *     kn_store_register(s, "credit", run_id, "production", &actor, &version);
 *     char *path = NULL;
 *     kn_store_resolve(s, "credit@production", &path, NULL, NULL);  // artifact file
 *
 * Layout: DIR/kiln.db (SQLite, WAL mode, busy timeout) and
 * DIR/artifacts/<BLAKE2b hex>.kiln (content-addressed). Tables: experiments,
 * runs, params, metrics, stages, sources, artifacts, models, model_versions,
 * audit, settings, api_keys, monitor_checks, monitor_rule_state, monitor_alerts
 * (kiln monitor). An artifact is written to a temporary file, fsynced and
 * renamed (and its folder fsynced) before the transaction that records it
 * commits, so a crash at any point never leaves a row pointing at a missing
 * or partial file (at worst an unreferenced artifact file).
 *
 * Several processes may write one store at once: writes take the database
 * lock (BEGIN IMMEDIATE) with a busy timeout and retry. A store whose folder
 * is read-only opens for reading (lists, run_get, resolve); a change there
 * fails naming the folder. The schema version is SQLite's user_version; a
 * store made by a newer kiln is KN_ERR_VERSION.
 *
 * Errors name the store and the fix: a store that does not exist (open
 * without create), a read-only folder, a full disk, an unknown run, model
 * or version (KN_ERR_NOT_FOUND, listing what exists), a promotion the gate
 * refuses (KN_ERR_REFUSED, with the failed check). A failed call leaves the
 * store unchanged.
 *
 * Threading: one kn_store per thread.
 */
#ifndef KILN_STORE_H
#define KILN_STORE_H

#include "kiln/core.h"
#include "kiln/sigtest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_store kn_store;

/* dir NULL: $KILN_STORE, else "kiln-store" in the working folder. create 0:
 * a missing store is KN_ERR_NOT_FOUND naming it (what read-only commands
 * want); 1: made with its tables. */
KN_API kn_status kn_store_open(const char *dir, int create, kn_store **out);
KN_API void kn_store_close(kn_store *s);
KN_API const char *kn_store_dir(const kn_store *s);

/* One metric of a run. scope: "cv" (fold >= 0: that fold's validation
 * score), "cv_mean", "cv_std", "train_mean", "train_std" (CV train scores),
 * "test" (held-out set), "baseline" (class prior / mean predictor on the
 * test set); fold -1 except for "cv". */
typedef struct kn_run_metric {
    const char *name, *scope;
    int fold;
    double value;
} kn_run_metric;

/* One stage's resources (as kiln/stage.h records them). */
typedef struct kn_run_stage {
    const char *name;
    double wall_s, cpu_s;
    uint64_t peak_rss;
} kn_run_stage;

/* One input source of a run (lineage). hash: BLAKE2b-256 hex of the bytes
 * read (files) or of the query text (SQL). */
typedef struct kn_run_source {
    const char *name, *kind, *location, *hash;
    uint64_t rows;
} kn_run_source;

typedef struct kn_run_info {
    const char *experiment; /* NULL: "default" */
    const char *status;     /* "finished" or "failed" */
    const char *error;      /* why a failed run failed, or NULL */
    double start, end;      /* Unix seconds */
    const char *spec;       /* canonical spec text, or NULL */
    const char *spec_hash;  /* hex, or NULL */
    uint64_t seed;
    const char *parent_run; /* run id, or NULL */
    const char *folds_hash; /* identifies the CV folds (split, k, seed, rows): runs with
                               the same value were scored on the same folds */
    const char *model;      /* model component name, or NULL */
    size_t n_params;
    const char *const *params; /* "name=value" (model parameters, then "step.k.name=value") */
    size_t n_metrics;
    const kn_run_metric *metrics;
    size_t n_stages;
    const kn_run_stage *stages;
    size_t n_sources;
    const kn_run_source *sources;
    uint64_t rows_in, rows_kept, rows_quarantined, rows_deduplicated;
    uint64_t model_bytes;
    const char *actor; /* NULL: the OS user */
} kn_run_info;

/* Record a run and, when artifact is not NULL, its artifact bytes
 * (content-addressed, durable before the row commits). *run_id receives
 * the new run's id ("r" + 6+ digits, increasing; new string, kn_free) and
 * may be NULL. */
KN_API kn_status kn_store_add_run(kn_store *s, const kn_run_info *run, const void *artifact,
                                  size_t artifact_len, char **run_id);

/* Record n runs without artifacts in one transaction (imports, benches):
 * all or none. */
KN_API kn_status kn_store_add_runs(kn_store *s, const kn_run_info *runs, size_t n);

/* A recorded run, read back: info's strings and arrays are owned by the
 * record (kn_run_record_free). */
typedef struct kn_run_record {
    char *id;
    kn_run_info info;
    char *artifact_path; /* absolute path of the artifact file, or NULL */
    char *artifact_hash; /* hex, or NULL */
    uint64_t artifact_bytes;
    double cost; /* estimated, at the prices when it was recorded */
} kn_run_record;
/* run_id may be "latest" (the newest run). */
KN_API kn_status kn_store_run_get(kn_store *s, const char *run_id, kn_run_record **out);
KN_API void kn_run_record_free(kn_run_record *r);

/* Prices for the cost estimate: per core-hour of CPU time, per GB-hour of
 * peak memory over the run's wall time, per GB-month of stored artifact
 * (GB = 10^9 bytes). Built-in 0.048, 0.0065, 0.023 (USD, a typical cloud
 * on-demand price); the settings table's price.core_hour, price.gb_hour,
 * price.gb_month replace them, and $KILN_PRICE_CORE_HOUR,
 * $KILN_PRICE_GB_HOUR, $KILN_PRICE_GB_MONTH replace those. */
typedef struct kn_prices {
    double core_hour, gb_hour, gb_month;
} kn_prices;
KN_API kn_status kn_store_prices(kn_store *s, kn_prices *out);
/* The estimated cost of a run's resources: sum of CPU seconds, peak RSS
 * over wall time per stage, one month of storing artifact_bytes. NULL p:
 * the built-in prices. */
KN_API double kn_run_cost(const kn_prices *p, const kn_run_stage *stages, size_t n,
                          uint64_t artifact_bytes);

/* Registry. Register the artifact of run_id as the next version of model
 * `name` (made on first use) in stage "none", "staging" or "production"
 * (production passes the gate of kn_store_promote first); *version gets
 * its number (1, 2, ...). */
typedef struct kn_gate_opts {
    double metric_margin; /* held-out metric may be worse than production's by this
                             much (absolute; default 0.01) */
    double latency_ms;    /* single-row prediction budget (default 50 ms) */
    int force;            /* skip the gate; needs reason */
    const char *reason;
    const char *actor; /* NULL: the OS user */
} kn_gate_opts;
KN_API void kn_gate_opts_default(kn_gate_opts *o);

KN_API kn_status kn_store_register(kn_store *s, const char *name, const char *run_id,
                                   const char *stage, const kn_gate_opts *o, int *version);
/* Move a version to a stage: "staging", "production" (the gate: input schema
 * compatible with the current production version, held-out metric no worse
 * than production's by more than the margin, single-row latency within the
 * budget; the version it replaces moves to "archived" and is remembered for
 * rollback), "archived", "none". The production version moves to another
 * stage only with o->force (else KN_ERR_REFUSED: the model would have no
 * production version). Every
 * change is appended to the audit table (actor, time, what, run). The
 * gate's failure is KN_ERR_REFUSED naming the check and the figures. */
KN_API kn_status kn_store_promote(kn_store *s, const char *name, int version, const char *stage,
                                  const kn_gate_opts *o);
/* Production returns to the version that was in production before. */
KN_API kn_status kn_store_rollback(kn_store *s, const char *name, const kn_gate_opts *o);

/* "NAME@production", "NAME@staging", "NAME@v3", "NAME" (production, else the
 * latest version) -> the artifact file (new string, kn_free), its version
 * and run id (new string, kn_free); each out may be NULL. An unknown model
 * or version is KN_ERR_NOT_FOUND listing what exists. */
KN_API kn_status kn_store_resolve(kn_store *s, const char *ref, char **artifact_path, int *version,
                                  char **run_id);
/* Move a version to "archived" (kn_store_promote with that stage). */
KN_API kn_status kn_store_archive(kn_store *s, const char *name, int version,
                                  const kn_gate_opts *o);

/* ---- listing ----
 * Each list calls fn once per row, newest first where rows have an age; the
 * row and its strings are borrowed for the call. fn returns nonzero to stop
 * early (not an error). */

/* A run in a list: its headline metric is the first "test" metric
 * recorded, else the first "cv_mean" one (metric NULL when neither). */
typedef struct kn_run_summary {
    const char *id, *experiment, *status, *model;
    double start, end, cost;
    const char *metric, *metric_scope;
    double metric_value;
} kn_run_summary;
typedef int (*kn_run_summary_fn)(const kn_run_summary *r, void *user);
/* The latest `limit` runs (0: all), of one experiment when not NULL. */
KN_API kn_status kn_store_runs_list(kn_store *s, const char *experiment, size_t limit,
                                    kn_run_summary_fn fn, void *user);
KN_API kn_status kn_store_runs_count(kn_store *s, const char *experiment, uint64_t *n);

typedef struct kn_registered_model {
    const char *name;
    int versions;            /* how many */
    int latest;              /* newest version number */
    int production, staging; /* version in that stage, 0 when none */
    double created, updated; /* Unix seconds: first version, last change */
} kn_registered_model;
typedef int (*kn_registered_model_fn)(const kn_registered_model *m, void *user);
KN_API kn_status kn_store_models_list(kn_store *s, kn_registered_model_fn fn, void *user);

typedef struct kn_model_version {
    const char *model;
    int version;
    const char *stage; /* "none", "staging", "production", "archived" */
    const char *run_id;
    const char *artifact_hash; /* hex, or NULL */
    double created;
    int replaced; /* the production version this one replaced (rollback's
                     target while this one is in production), 0 when none */
} kn_model_version;
typedef int (*kn_model_version_fn)(const kn_model_version *v, void *user);
/* Newest version first; unknown name: KN_ERR_NOT_FOUND listing the models. */
KN_API kn_status kn_store_versions(kn_store *s, const char *name, kn_model_version_fn fn,
                                   void *user);

/* The audit trail: one row per change to the registry (register, promote,
 * archive, rollback, forced promotions with their reason). */
typedef struct kn_audit_entry {
    int64_t id;
    double time;
    const char *actor, *action, *model;
    int version;
    const char *run_id;                /* or NULL */
    const char *from_stage, *to_stage; /* or NULL */
    const char *reason;                /* --reason, or NULL */
    const char *detail;                /* what the gate measured, or NULL */
} kn_audit_entry;
typedef int (*kn_audit_fn)(const kn_audit_entry *e, void *user);
/* Newest first; model NULL: every model; limit 0: all. */
KN_API kn_status kn_store_audit(kn_store *s, const char *model, size_t limit, kn_audit_fn fn,
                                void *user);

/* ---- lineage ---- */

/* BLAKE2b-256 hex of a file's bytes (what sources record as their hash). */
KN_API kn_status kn_store_file_hash(const char *path, char hex[65]);
/* The runs that read a source with this hash, newest first, and the model
 * versions made from each (model NULL and version 0 when none: fn is
 * called once per run and version). */
typedef struct kn_data_use {
    const char *run_id, *source, *location;
    uint64_t rows;
    const char *model; /* or NULL */
    int version;
    const char *stage;
} kn_data_use;
typedef int (*kn_data_use_fn)(const kn_data_use *u, void *user);
KN_API kn_status kn_store_data_uses(kn_store *s, const char *hash, kn_data_use_fn fn, void *user);

/* ---- API keys (kiln serve) ----
 * A key is the text "kiln_<id>_<secret>": id the row's number (so a
 * server finds the row without scanning), secret 32 random bytes as 64 hex
 * digits. It is shown once, by kn_store_key_create; the store keeps only a
 * random 16-byte salt and BLAKE2b-256 of the secret with that salt and the
 * personalisation "kiln api key" (BLAKE2b's parameter block). Every create
 * and revoke is appended to the audit table ("key create", "key revoke").
 * A read-only store made before keys existed (schema 1) has none. */
enum { KN_KEY_SECRET_BYTES = 32, KN_KEY_SALT_BYTES = 16, KN_KEY_HASH_BYTES = 32 };

typedef struct kn_api_key {
    int64_t id;
    const char *name;        /* label, or NULL */
    const char *role;        /* "predict" or "admin" */
    double rate;             /* requests per second, 0: the server's default */
    double created, revoked; /* Unix seconds; revoked 0: in force */
    const char *created_by, *revoked_by;
    const unsigned char *salt; /* KN_KEY_SALT_BYTES */
    const unsigned char *hash; /* KN_KEY_HASH_BYTES */
} kn_api_key;
typedef int (*kn_api_key_fn)(const kn_api_key *k, void *user);

/* Make a key of role "predict" or "admin" (name and actor may be NULL;
 * rate 0: the server's default). *key receives the key text (new string,
 * kn_free; shown once, not recoverable) and *id its number (may be NULL). */
KN_API kn_status kn_store_key_create(kn_store *s, const char *role, const char *name, double rate,
                                     const char *actor, char **key, int64_t *id);
/* Revoke key id (an unknown id is KN_ERR_NOT_FOUND; a revoked one stays
 * revoked: KN_ERR_INVALID). */
KN_API kn_status kn_store_key_revoke(kn_store *s, int64_t id, const char *actor);
/* Every key, revoked ones too, by id. */
KN_API kn_status kn_store_keys_list(kn_store *s, kn_api_key_fn fn, void *user);
/* A number that changes when another connection commits to the store
 * (SQLite's data_version): a cheap test of whether to read the keys again. */
KN_API kn_status kn_store_data_version(kn_store *s, uint64_t *v);
/* Split key text (len bytes, not terminated) into its id and secret:
 * 0, or -1 when it is not a well-formed key. */
KN_API int kn_api_key_parse(const char *text, size_t len, int64_t *id,
                            unsigned char secret[KN_KEY_SECRET_BYTES]);
/* Whether secret is key k's: its hash under k's salt, compared in
 * constant time. */
KN_API int kn_api_key_matches(const kn_api_key *k, const unsigned char secret[KN_KEY_SECRET_BYTES]);

/* Comparing runs: kn_paired_ttest (kiln/sigtest.h). */

/* ---- monitoring (kiln monitor) ----
 * A check's result (JSON text, as `kiln monitor check --json` prints it) is
 * appended to monitor_checks. An alert rule is observed once per check
 * window: `firing` extends its streak of consecutive firing windows (kept
 * per model and rule across calls), anything else resets it. When the
 * streak reaches for_windows an incident opens (one row of monitor_alerts,
 * out->opened 1); while it stays open later firings only update its
 * last_seen and detail, so one incident is one alert however long it
 * lasts; the first window that does not fire closes it. out->incident is
 * the open incident's id (0: none) and out->undelivered 1 while no sink
 * has confirmed it (kn_store_alert_delivered), so a later check retries a
 * delivery that failed.
 *
 * Streaks and incidents are per model, scope and rule: a scope is a stream
 * of windows of its own ("main", the default; kiln serve's "canary"; kiln
 * monitor feedback's model versions), so a canary's windows never prolong
 * or close the main version's incident. kn_store_alert_observe is
 * kn_store_alert_observe_scoped with scope "main". (Schema 3 kept the
 * scope in the model text, "MODEL#SCOPE"; opening such a store writable
 * moves it to the scope column.) */
typedef struct kn_alert_step {
    int64_t incident;
    int opened, undelivered, closed;
    int64_t streak;
    double since; /* when the open incident opened */
} kn_alert_step;
KN_API kn_status kn_store_monitor_add(kn_store *s, const char *model, const char *data,
                                      uint64_t window_rows, uint64_t rows, int drift,
                                      const char *result_json, int64_t *id);
KN_API kn_status kn_store_alert_observe(kn_store *s, const char *model, const char *rule,
                                        const char *severity, int firing, int64_t for_windows,
                                        const char *detail, kn_alert_step *out);
/* scope NULL or "": "main". */
KN_API kn_status kn_store_alert_observe_scoped(kn_store *s, const char *model, const char *scope,
                                               const char *rule, const char *severity, int firing,
                                               int64_t for_windows, const char *detail,
                                               kn_alert_step *out);
/* Record the delivery attempts (HTTP requests) made for an incident; ok 1
 * marks it delivered. */
KN_API kn_status kn_store_alert_delivered(kn_store *s, int64_t incident, int ok, int attempts);
/* The recorded checks of a model (as checked: the --model text), oldest
 * first; result is the window's JSON. */
typedef struct kn_monitor_check {
    int64_t id;
    double time;
    const char *model, *data, *result;
    uint64_t window_rows, rows;
    int drift;
} kn_monitor_check;
typedef int (*kn_monitor_check_fn)(const kn_monitor_check *c, void *user);
KN_API kn_status kn_store_monitor_checks(kn_store *s, const char *model, kn_monitor_check_fn fn,
                                         void *user);
/* The incidents, newest first (at most limit; 0: all): of model (every
 * scope; "MODEL#SCOPE": that scope's only), or of every model (NULL). */
typedef struct kn_alert_incident {
    int64_t id;
    const char *model, *rule, *severity, *detail;
    double opened, last_seen, closed, delivered; /* 0: not (yet) */
    int64_t attempts;
    const char *scope; /* "main", "canary", a version */
} kn_alert_incident;
typedef int (*kn_alert_incident_fn)(const kn_alert_incident *a, void *user);
KN_API kn_status kn_store_alerts(kn_store *s, const char *model, size_t limit,
                                 kn_alert_incident_fn fn, void *user);

/* ---- retraining (kiln monitor retrain) ----
 * A retrain is a run of a spec on fresh data, registered to staging and
 * promoted only through the gate; each step is an audit row of the model:
 * "retrain trigger" (reason: the rule and incident that fired it, or "by
 * hand"), then rows its caller appends with kn_store_retrain_step ("retrain
 * run", "retrain compare", ...; detail starts "retrain N", N the trigger
 * row's id) beside the registry's own "register" and "promote" rows, and
 * one end row: "retrain promoted", "retrain refused" or "retrain failed".
 *
 * kn_store_retrain_begin claims a retrain of the model in one transaction:
 * it appends the trigger row (*retrain: its id) unless a retrain of the
 * model is under way (the model's latest trigger row has no end row after
 * it and is younger than stale_s seconds; an older one counts as
 * abandoned) or, with key not NULL, a trigger row with that key exists
 * (one retrain per incident). Then *retrain is 0 and *why (new string,
 * kn_free) says which retrain holds it. An unknown model is
 * KN_ERR_NOT_FOUND listing the models. */
KN_API kn_status kn_store_retrain_begin(kn_store *s, const char *model, const char *key,
                                        const char *detail, double stale_s, const char *actor,
                                        int64_t *retrain, char **why);
/* The trigger row of model's retrain with this key (e.g. "rule R,
 * incident N"): *retrain its id, 0 when none was started for the key. An
 * unknown model is KN_ERR_NOT_FOUND listing the models. */
KN_API kn_status kn_store_retrain_keyed(kn_store *s, const char *model, const char *key,
                                        int64_t *retrain);
/* Append a step of retrain (the trigger row's id): action starts with
 * "retrain " (not the trigger); version 0 and run_id NULL when none. */
KN_API kn_status kn_store_retrain_step(kn_store *s, const char *model, int64_t retrain,
                                       const char *action, int version, const char *run_id,
                                       const char *reason, const char *detail, const char *actor);

#ifdef __cplusplus
}
#endif
#endif
