/* Kiln prep specs: sources -> one frame -> validation -> cleaning -> steps,
 * described in YAML and run by `kiln prep SPEC.yaml`.
 *
 *     sources:
 *       customers:
 *         postgres: SELECT id, segment, signup FROM customers
 *         uri: postgresql://kiln@127.0.0.1:5432/shop   # default: $KILN_PG_URI
 *       orders:
 *         file: orders.csv                       # relative to the spec's folder
 *         read: {on_bad_rows: quarantine}        # reader options (kiln help readers)
 *         since: ts                              # incremental: only rows after the watermark
 *       events:
 *         sqlite: SELECT * FROM events
 *         path: events.db
 *       prices:
 *         url: https://example.org/prices.csv
 *         timeout: 10                            # seconds per attempt
 *         retries: 3
 *         fallback: prices_copy                  # another source used if this one fails
 *       per_customer:
 *         group: orders                          # aggregate another source
 *         by: [customer_id]
 *         aggregate: {n_orders: count, total: sum amount, last_total: last amount by ts}
 *     frame:
 *       from: customers
 *       union: [more_customers]                  # appended, columns aligned by name
 *       join:
 *         - {with: per_customer, on: [id], right_on: [customer_id], how: left}
 *                                                # how: inner, left, right, full, semi, anti
 *       sort: {by: [state, amount], descending: [amount], nulls: last}   # stable; nulls:
 * first|last schema: schema.yaml                        # validation (its policies apply) rejects:
 * rejects.csv                       # rows the schema quarantines dedupe: {keys: [id], keep: first}
 * # or: dedupe: true (whole rows) target: churned                            # never transformed by
 * a step; passes # through to the output unchanged steps:
 *       - simple_imputer: {strategy: median}
 *       - onehot_encoder: {columns: [segment], handle_unknown: ignore}
 *     profile: reference.json                    # profile of the frame before the steps,
 *                                                # kept for later drift checks
 *     output: prepared.csv
 *     save: steps.kst                            # for `kiln transform`
 *
 * A run spec (`kiln run SPEC.yaml`, kiln/run.h) adds a model, its evaluation
 * and where to register the result; output and save are then optional:
 *
 *     target: default
 *     ignore: [id]                               # columns that are not features
 *     task: classification                       # optional: the model's, else the target's
 *     model:                                     # one model: name and parameters
 *       gbdt: {n_estimators: 200, learning_rate: 0.1}
 *     # or a search over some parameters (the space as kiln/tune.h's):
 *     # model:
 *     #   name: gbdt
 *     #   params: {n_estimators: 200}            # fixed in every trial
 *     #   search:
 *     #     strategy: tpe                        # random (default), grid, tpe, halving
 *     #     trials: 30                           # default 20 (grid: the whole grid)
 *     #     cv: 5                                # folds (default: the evaluation's)
 *     #     metric: roc_auc                      # default: the evaluation's first
 *     #     seed: 7                              # default: the run's seed
 *     #     prune: false
 *     #     max_time: 600                        # budgets (default: none); also max_cost
 *     #     resource: n_estimators               # halving: a parameter or rows; eta: 3
 *     #     space: {learning_rate: {log: [0.01, 0.3]}, max_depth: {int: [2, 8]}}
 *     evaluation:
 *       cv: {folds: 5, split: stratified, shuffle: true}   # split: kfold, stratified,
 *                                                # group (groups: COL), time_series
 *                                                # (order_by: COL, gap: N); default: auto
 *       metrics: [roc_auc, log_loss, accuracy]   # default: the task's set
 *       positive_class: "1"
 *       test: {fraction: 0.2}                    # held out (stratified for a classifier);
 *                                                # or {by: ts, from: "2024-06-01"}: rows
 *                                                # at or after the cut; or {source: NAME}
 *     register: {name: credit, stage: production}   # stage: none (default), staging,
 *                                                # production; or register: credit
 *     seed: 42                                   # splits and models (--seed overrides)
 *     description: what the model is for         # the model card's intended use
 *
 * In place of model:, an ensemble of pipelines (kiln/pipeline.h), each
 * member its own steps and model, fitted on the rows after the spec's
 * steps (docs/SPEC.md):
 *
 *     ensemble:
 *       method: stacking                         # hard_vote, soft_vote (classes),
 *                                                # mean (regression), stacking
 *       members:                                 # two or more
 *         - steps: [standard_scaler]
 *           model: {logistic_regression: {C: 1.0}}
 *         - steps: [{ordinal_encoder: {}}]
 *           model: {decision_tree: {max_depth: 6}}
 *       final: {logistic_regression: {}}         # stacking only (required)
 *       folds: 5                                 # stacking's out-of-fold folds
 *
 * Steps are fitted inside each training fold; the final pipeline is fitted
 * on all training rows and scored once on the held-out test rows. With a
 * search, each trial is cross-validated on the training rows (steps inside
 * its folds, as `kiln tune`), and the best trial's parameters are the
 * model's from then on. A bad space fails at parse time, before any data.
 *
 * No output (output, save, profile, rejects, state) may be one of the spec's
 * inputs (the spec, the schema, a file or SQLite source), compared as files
 * (device and inode), unless kn_prep_options.overwrite_input is set.
 *
 * A group: over a file source, and the frame when from: is a file source with
 * only inner, left, semi and anti joins (no union), read that file by batches
 * (memory for the groups, or for the output and one batch; the same result),
 * unless another part of the spec needs it whole (a union, a join's right
 * side, a fallback, since:) or kn_prep_options.in_memory is set. A group-by
 * whose groups outgrow the memory budget reads the file again, spilling its
 * rows to temporary files by key (kn_file_group_by_spill).
 *
 * Incremental sources keep their watermark (the largest `since` value read)
 * in the state file (state:, default <output>.state) after a successful run;
 * the next run reads only rows above it.
 *
 * YAML anchors and aliases work as in the YAML spec (`read: &r {...}` then
 * `read: *r`), as do merge keys (`<<: *defaults`); a file holds one document.
 */
#ifndef KILN_PREP_SPEC_H
#define KILN_PREP_SPEC_H

#include "kiln/combine.h"
#include "kiln/io.h"
#include "kiln/schema.h"
#include "kiln/split.h"
#include "kiln/step.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_SOURCE_FILE,
    KN_SOURCE_SQLITE,
    KN_SOURCE_POSTGRES,
    KN_SOURCE_HTTP,
    KN_SOURCE_GROUP,
} kn_source_kind;

typedef struct kn_spec_source {
    char *name;
    kn_source_kind kind;
    char *location; /* file path, SQLite path, PostgreSQL URI (may be NULL), URL, or
                       the grouped source's name */
    char *query;    /* SQL */
    size_t n_read;
    char **read; /* reader settings "name=value" */
    char *since; /* watermark column, or NULL */
    double timeout_s;
    int retries;
    char *fallback; /* source name, or NULL */
    size_t n_by;
    char **by;
    size_t n_aggs;
    kn_agg *aggs; /* names, columns and orders owned by the spec */
} kn_spec_source;

typedef struct kn_spec_join {
    char *with;
    size_t n_keys;
    char **on, **right_on;
    kn_join_kind how;
} kn_spec_join;

typedef struct kn_spec_step {
    char *name;
    size_t n_params;
    char **params; /* "name=value" */
} kn_spec_step;

/* ensemble: of a run spec: one member pipeline. */
typedef struct kn_spec_member {
    size_t n_steps;
    kn_spec_step *steps;
    kn_spec_step model;
} kn_spec_member;

/* ensemble: of a run spec; the model that combines the members is the
 * spec's model (stacking's final:, else member_vote). */
typedef struct kn_spec_ensemble {
    int method; /* kn_ensemble_method (kiln/pipeline.h); 0: no ensemble */
    size_t n_members;
    kn_spec_member *members;
    uint64_t folds; /* stacking: 5 unless given */
} kn_spec_ensemble;

/* evaluation: of a run spec. */
typedef struct kn_spec_eval {
    int given;           /* the spec has evaluation: (else the defaults below) */
    int cv;              /* 0: no cross-validation */
    kn_split_kind split; /* KN_SPLIT_AUTO unless given */
    size_t folds, repeats, gap;
    int shuffle;
    char *groups, *order_by; /* group and time-series splits */
    size_t n_metrics;
    char **metrics; /* metric names; none: the task's set */
    char *positive_class;
    double test_fraction;      /* 0: no fraction hold-out */
    char *test_by, *test_from; /* time cut: rows with test_by >= test_from are the test set */
    char *test_source;         /* a separate source is the test set */
    int bootstrap_given;       /* bootstrap: N resamples for the test scores' intervals */
    size_t bootstrap;          /* (0: none; not given: 1000, fewer on big test sets) */
    char *slice_by;            /* slice_by: COLUMN, test scores per value, or NULL */
    size_t learning_curve;     /* learning_curve: N training sizes (CV at each); 0: none */
    char *curve_param;         /* validation_curve: {param, values}: CV at each value */
    size_t n_curve_values;
    char **curve_values;
} kn_spec_eval;

/* model: {name: NAME, params: {..}, search: {..}}: a hyperparameter search
 * (kiln/tune.h) run before the evaluation; its best configuration is what
 * the run cross-validates, refits and tests. */
typedef struct kn_spec_search {
    struct kn_tune_space *space; /* NULL: no search */
    int strategy;                /* a kn_tune_strategy (default random) */
    size_t trials;               /* at most this many (grid: 0 = the whole grid) */
    size_t folds;                /* the search's CV folds (0: the evaluation's) */
    char *metric;                /* the score (NULL: the evaluation's first, else the task's) */
    int has_seed;                /* seed: seeds the search (else the run's seed) */
    uint64_t seed;
    int prune; /* 1: the median rule stops bad trials early */
    /* budgets (0: none): start no trial after max_time seconds, or once the
     * finished trials' estimated cost reaches max_cost (kn_run_opts' prices) */
    double max_time, max_cost;
    /* halving (as kiln tune's --resource and --eta): what grows between
     * rungs, a model parameter or "rows" (NULL: n_estimators where the model
     * has it, else rows), and the factor between rungs (0: 3) */
    char *resource;
    double eta;
} kn_spec_search;

/* A place in the spec file: 1-based line and column (0: not known, as in a
 * spec built in code). */
typedef struct kn_spec_mark {
    size_t line, column;
} kn_spec_mark;

typedef struct kn_prep_spec {
    char *path, *dir; /* the spec file and its folder (relative paths start there) */
    size_t n_sources;
    kn_spec_source *sources;
    char *from;
    size_t n_unions;
    char **unions;
    size_t n_joins;
    kn_spec_join *joins;
    size_t n_sort, n_sort_desc; /* frame.sort: by, descending (names among by) */
    char **sort_by, **sort_desc;
    int sort_nulls_first;
    char *schema;  /* path, or NULL */
    char *rejects; /* path, or NULL (default <output>.rejects.csv) */
    int dedupe, keep_last;
    size_t n_dedupe_keys;
    char **dedupe_keys;
    size_t n_steps;
    kn_spec_step *steps;
    char *output, *save, *state;
    char *profile; /* reference profile (JSON) of the frame before the steps, or NULL */
    char *target;  /* the column a model will learn (never transformed), or NULL */
    char *text;    /* the spec's text as read (the artifact's canonical spec) */
    size_t text_len;
    /* Run keys (kiln/run.h); absent in a prep-only spec (model.name NULL). */
    kn_spec_step model;    /* the model's name and "name=value" parameters */
    kn_spec_search search; /* the model's search: (search.space NULL: none) */
    char *task;            /* "classification", "regression" or NULL */
    kn_spec_eval eval;     /* evaluation: */
    char *register_name;   /* register: {name, stage}; NULL: not registered */
    char *register_stage;  /* "none", "staging" or "production" */
    int has_seed;
    uint64_t seed;
    char *description; /* intended use, for the model card */
    size_t n_ignore;
    char **ignore; /* columns that are not features (IDs, free text): kept, never learned from */
    kn_spec_ensemble ensemble; /* ensemble: (method 0: none) */
    /* Where the column names that only the data can check sit in the spec,
     * so a name not in the data is reported at file:line:column as the
     * parser's errors are. */
    kn_spec_mark target_at, test_by_at, slice_by_at;
    kn_spec_mark *ignore_at; /* n_ignore of them, or NULL */
} kn_prep_spec;

/* Parse a spec from YAML (errors name file:line:column). `path` names the
 * spec and fixes the folder relative paths start from. */
KN_API kn_status kn_prep_spec_parse(const char *text, size_t len, const char *path,
                                    kn_prep_spec **out);
KN_API kn_status kn_prep_spec_load(const char *path, kn_prep_spec **out);
KN_API void kn_prep_spec_free(kn_prep_spec *s);
struct kn_pipeline;
/* A run spec's ensemble: (ensemble.method not 0) as a new pipeline holding
 * its members, unfitted, and its method (kiln/pipeline.h), without steps
 * or target: what kn_cv_spec.ensemble takes. Member models with a `seed`
 * parameter the spec leaves unset get `seed`. Free with kn_pipeline_free. */
KN_API kn_status kn_prep_spec_ensemble(const kn_prep_spec *s, uint64_t seed,
                                       struct kn_pipeline **out);

/* What a run did, for reports. */
typedef struct kn_prep_source_report {
    char *name;
    char *used;    /* the source actually read (a fallback's name when it stepped in) */
    uint64_t rows; /* rows it gave */
    uint64_t rows_before_since; /* rows read before the watermark filter */
    kn_read_report read;        /* for file and HTTP sources */
    char *watermark;            /* the new watermark, or NULL */
    char *error;                /* why a failed source failed (its fallback was used) */
} kn_prep_source_report;

typedef struct kn_prep_result {
    kn_frame *frame; /* the prepared frame */
    size_t n_sources;
    kn_prep_source_report *sources;
    size_t n_joins;
    kn_join_report *joins;
    kn_validation *validation; /* NULL without a schema */
    uint64_t rows_in;          /* rows of the combined frame before validation */
    uint64_t rows_dropped, rows_quarantined, duplicates_removed;
    uint64_t rows_dropped_by_steps; /* training rows a step removed (outlier_clip action=drop) */
    struct kn_pipeline *pipeline;   /* the fitted steps (kiln/pipeline.h; no model) */
} kn_prep_result;

typedef struct kn_prep_options {
    const char *since; /* override every incremental source's watermark (NULL: the state) */
    int full;          /* ignore watermarks: read everything */
    int64_t threads;
    int overwrite_input; /* let an output replace an input file (refused otherwise) */
    int data_only;       /* stop after validation, dedupe and profile: no steps fitted, no
                            output written (what `kiln run` builds on) */
    int in_memory;       /* read every source whole: no group-by or join over a file read
                            by batches (the path before streaming; for comparisons) */
    int write_nothing;   /* with data_only: no rejects file, no profile either (reading a
                            run's rows again: kn_run_test_rows) */
} kn_prep_options;

/* Run the spec: read the sources, combine them, validate, dedupe, fit and
 * apply the steps; write the output, the rejects, the fitted steps and the
 * watermarks. Returns a new result (kn_prep_result_free) whether or not a
 * rule failed; a failed rule is KN_ERR_INVALID naming it. */
KN_API kn_status kn_prep_run(const kn_prep_spec *s, const kn_prep_options *opts,
                             kn_prep_result **out);
KN_API void kn_prep_result_free(kn_prep_result *r);

#ifdef __cplusplus
}
#endif
#endif
