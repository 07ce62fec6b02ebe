/* Running a spec end to end (`kiln run SPEC.yaml`): the spec's sources are
 * read, combined, validated and deduplicated (kiln/prep_spec.h), the test
 * rows are held out (a fraction, stratified for a classifier; a time cut;
 * or a separate source), the pipeline (steps + model) is cross-validated on
 * the training rows with the steps fitted inside each training fold, then
 * fitted on all training rows and scored once on the untouched test rows,
 * beside a baseline (class prior or mean). The result is an artifact
 * (kiln/artifact.h) with the spec, the input schema, the reference profile,
 * the fitted pipeline, the metrics, the lineage and the held-out
 * predictions.
 *
 *     kn_prep_spec *s; kn_prep_spec_load("credit.yaml", &s);
 *     kn_run_opts o; kn_run_opts_default(&o);
 *     kn_run_output *r = NULL;
 *     kn_run_spec(s, &o, &r);       // r->artifact_bytes: the .kiln file
 *
 * A spec whose model has a search: (kiln/prep_spec.h) runs it on the
 * training rows after the hold-out (kn_tune_run: each trial cross-validated
 * with the steps inside its folds); the best trial's parameters join the
 * model's for the CV, the refit and the test, and the artifact's metrics
 * keep the trials ("search": every trial's parameters and fold scores, the
 * best; no timings, so the bytes stay reproducible).
 *
 * Each part is a stage in the run context's records ("sources",
 * "validate", "dedupe", "lineage", "split", "search", "cv", "fit", "test",
 * "artifact"). Deterministic: the same spec, data and seed give the same
 * artifact bytes on any number of threads.
 */
#ifndef KILN_RUN_H
#define KILN_RUN_H

#include "kiln/artifact.h"
#include "kiln/compare.h"
#include "kiln/cv.h"
#include "kiln/prep_spec.h"
#include "kiln/tune.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_run_opts {
    int seed_set; /* seed overrides the spec's seed: */
    uint64_t seed;
    int64_t threads;                 /* 0: one per core */
    const unsigned char *secret_key; /* sign the artifact (KN_ARTIFACT_SECRET_KEY_BYTES), or NULL */
    int overwrite_input;             /* as kn_prep_options */
    const char *parent_run;          /* recorded in the lineage, or NULL */
    /* model: search: trials at a time (0 or 1: one); each trial's folds
     * then run on one thread, so jobs trials take jobs threads (capped at
     * threads); the same trials and results on any jobs */
    int64_t jobs;
    double core_hour, gb_hour; /* prices of search: max_cost's estimate (kiln/store.h's
                                  kn_prices; 0: no cost, max_cost then never reached) */
} kn_run_opts;

KN_API void kn_run_opts_default(kn_run_opts *o);

/* One input source as the lineage records it. */
typedef struct kn_run_lineage_source {
    char *name, *kind, *location;
    char hash[65]; /* BLAKE2b-256 hex of the bytes read (file) or of the query / URL text */
    uint64_t rows;
} kn_run_lineage_source;

typedef struct kn_run_output {
    kn_prep_result *prep; /* sources, joins, validation, dedupe counts; prep->frame is
                             the kept rows before the steps */
    const char *task;     /* "classification" or "regression" (static) */
    uint64_t seed;
    uint64_t rows_train, rows_test;
    int has_cv;
    kn_cv_result cv; /* on the training rows */
    char folds_hash[65];
    int has_test;
    kn_scores test, baseline; /* on the test rows */
    int has_split_check;
    kn_compare_report split_check; /* the test rows against the training rows, per column */
    int has_search;
    kn_tune_result search; /* the model's search on the training rows (has_search) */
    uint64_t search_seed;  /* the seed it ran with */
    size_t n_chosen;       /* the best trial's parameters as "name=value" (owned), */
    char **chosen;         /* the model's from the search on */
    kn_pipeline *pipeline; /* fitted on all training rows */
    size_t n_sources;
    kn_run_lineage_source *sources;
    char spec_hash[65];
    kn_artifact *artifact;
    unsigned char *artifact_bytes; /* the encoded artifact (signed when a key was given) */
    size_t artifact_len;
} kn_run_output;

/* Run s (which has a model). *out is set (kn_run_output_free) whether or
 * not the run succeeded, so a caller can report how far it got. */
KN_API kn_status kn_run_spec(const kn_prep_spec *s, const kn_run_opts *o, kn_run_output **out);
KN_API void kn_run_output_free(kn_run_output *r);

/* The test rows and the training rows of the run that wrote artifact a,
 * rebuilt from what the artifact keeps: its spec, its lineage (each source
 * read again where the run read it, a relative path from the current
 * folder, and checked against the content hash the run recorded; the run's
 * seed) and its task, through the run's own data reading and split: the
 * same rows, raw (before the steps), what kn_pipeline_score takes. *test
 * and *train, each when not NULL, receive a new frame (kn_frame_free);
 * *recipe, when not NULL, a new string (kn_free) saying what they were
 * rebuilt from ("spec, seed 4, data conc.csv at BLAKE2b 3f2a9c01d7e4").
 * KN_ERR_NOT_FOUND, the message saying why, when they cannot be had: an
 * artifact without a spec or lineage (kiln train writes no spec), a run
 * without test rows (when test is wanted), a source that is not a file (a
 * query's rows are not hashed) or reads incrementally (since:), a file gone
 * or changed since, or a rebuild with other row counts than the run's. */
KN_API kn_status kn_run_test_rows(const kn_artifact *a, kn_frame **train, kn_frame **test,
                                  char **recipe);

#ifdef __cplusplus
}
#endif
#endif
