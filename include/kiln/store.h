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
 * audit, settings. An artifact is written to a temporary file, fsynced and
 * renamed (and its folder fsynced) before the transaction that records it
 * commits, so a crash at any point never leaves a row pointing at a missing
 * or partial file (at worst an unreferenced artifact file).
 *
 * Several processes may write one store at once: writes take the database
 * lock with a busy timeout and retry.
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
 * peak memory over the run's wall time, per GB-month of stored artifact.
 * Defaults (settings table, or $KILN_PRICE_CORE_HOUR, $KILN_PRICE_GB_HOUR,
 * $KILN_PRICE_GB_MONTH): 0.048, 0.0065, 0.023 (USD, a typical cloud
 * on-demand price). */
typedef struct kn_prices {
    double core_hour, gb_hour, gb_month;
} kn_prices;
KN_API kn_status kn_store_prices(kn_store *s, kn_prices *out);
/* The estimated cost of a run's resources: sum of CPU seconds, peak RSS
 * over wall time, one month of storing artifact_bytes. NULL s: defaults. */
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
 * rollback), "archived", "none". Every
 * change is appended to the audit table (actor, time, what, run). The
 * gate's failure is KN_ERR_REFUSED naming the check and the figures. */
KN_API kn_status kn_store_promote(kn_store *s, const char *name, int version, const char *stage,
                                  const kn_gate_opts *o);
/* Production returns to the version that was in production before. */
KN_API kn_status kn_store_rollback(kn_store *s, const char *name, const kn_gate_opts *o);

/* "NAME@production", "NAME@staging", "NAME@v3", "NAME" (production, else the
 * latest version) -> the artifact file (new string), its version and run id
 * (either out may be NULL). */
KN_API kn_status kn_store_resolve(kn_store *s, const char *ref, char **artifact_path,
                                  int *version, char **run_id);

#ifdef __cplusplus
}
#endif
#endif
