/* Hyperparameter search: cross-validate many configurations of one model
 * (with the preparation steps fitted inside each fold, kiln/cv.h) and keep
 * the best.
 *
 * A search space names some of the model's parameters, each with the
 * values to try, in YAML:
 *
 *     learning_rate: {log: [0.01, 0.3]}      # log-uniform
 *     max_depth: {int: [2, 8]}               # integers, both ends included
 *     subsample: {uniform: [0.5, 1], grid: 3} # grid: points for the grid strategy
 *     objective: {choice: [squared_error, huber]}
 *     huber_quantile: {uniform: [0.5, 0.99], when: objective=huber}
 *
 * The space is checked against the model's parameter table before any
 * trial runs: an unknown parameter, a range outside the table's bounds, an
 * empty range, a log range reaching 0 or below, a choice the parameter
 * refuses, and a `when:` naming no choice of the space are errors naming
 * the file, line and column. A run spec's model may hold the same space
 * (model: {name, params, search: {.., space: {..}}}, kiln/prep_spec.h),
 * checked the same way at its place in the spec. A conditional parameter (`when: p=v`) is set
 * only in trials where choice p is v.
 *
 * Strategies: grid (every combination, in the file's order, the last
 * parameter varying fastest), random, TPE (a tree-structured Parzen
 * estimator after Bergstra et al. 2011, multivariate as BOHB: after a few
 * random trials, whole configurations are drawn from a density fitted to
 * the best trials, picked among candidates by its ratio to the density of
 * the others) and
 * successive halving (random configurations evaluated on a small resource,
 * the best third moving on to three times as much) and Hyperband (Li et
 * al. 2017: brackets s = s_max..0 of successive halving, bracket s starting
 * ceil((s_max + 1) / (s + 1) * eta^s) configurations at max / eta^s, each
 * bracket one halving run; the best at the largest resource wins).
 * Random search never repeats a configuration of a discrete space (every
 * parameter a choice or an int range): trial j draws from the stream
 * (seed, j), redraws while it repeats an earlier trial's configuration, and
 * after 64 repeats takes one uniformly from those not drawn yet (spaces of
 * up to 1,000,000 combinations; larger ones give up after 1000 draws).
 * When fewer distinct configurations exist than trials, each runs once and
 * the result says stopped 4. Configurations are drawn before any trial
 * runs, so they do not depend on jobs. Spaces with a continuous range are
 * not checked (a repeat there has probability 0).
 *
 * Reproducible: the configurations come from (seed, trial number) and, for
 * TPE, from the finished trials before the trial's batch (batches of a
 * fixed size, whatever jobs run at once), so a seed gives the same trials
 * and the same results on any number of jobs. Each trial runs in its own
 * run context (kiln/ctx.h) seeded by (seed, trial).
 *
 *     kn_tune_space *sp;
 *     kn_tune_space_load("space.yaml", "gbdt", &sp);
 *     kn_tune_opts o;
 *     kn_tune_opts_default(&o);
 *     o.strategy = KN_TUNE_TPE, o.trials = 40;
 *     kn_tune_result r;
 *     kn_tune_run(frame, &cv_spec, sp, &o, &r);  // r.trial[r.best]
 *     kn_tune_result_free(&r);
 *     kn_tune_space_free(sp);
 *
 * Pruning (prune 1; random, grid and TPE): after each fold k but the last,
 * a trial stops when the running mean of its first k folds is worse than
 * the median of the running means at fold k of the reference trials: the
 * trials with smaller ids that ran fold k (as Optuna's MedianPruner with
 * its 5 startup trials, on folds). A trial waits until every trial with a
 * smaller id has passed fold k or ended, so the decisions, and the whole
 * search, are the same on any number of jobs. A pruned trial keeps the
 * folds it ran (n_folds, its score their mean) and is never the best.
 *
 * Threading: a space is immutable once loaded and may be shared.
 */
#ifndef KILN_TUNE_H
#define KILN_TUNE_H

#include "kiln/cv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_tune_space kn_tune_space;

/* Parse a space for `model` from YAML text (what names it in errors).
 * Returns a new space; free with kn_tune_space_free(). */
KN_API kn_status kn_tune_space_parse(const char *text, size_t len, const char *what,
                                     const char *model, kn_tune_space **out);
/* The same from a file. */
KN_API kn_status kn_tune_space_load(const char *path, const char *model, kn_tune_space **out);
KN_API void kn_tune_space_free(kn_tune_space *sp);
/* Parameters of the space, in the file's order; the i-th one's name
 * (borrowed: valid while the space lives). */
KN_API size_t kn_tune_space_size(const kn_tune_space *sp);
KN_API const char *kn_tune_space_name(const kn_tune_space *sp, size_t i);
/* Whether the space holds parameter `name`. */
KN_API int kn_tune_space_has(const kn_tune_space *sp, const char *name);

typedef enum {
    KN_TUNE_RANDOM = 0,
    KN_TUNE_GRID = 1,
    KN_TUNE_TPE = 2,
    KN_TUNE_HALVING = 3,
    KN_TUNE_HYPERBAND = 4, /* brackets of successive halving (Li et al. 2017) */
} kn_tune_strategy;

typedef enum {
    KN_TRIAL_OK = 0,
    KN_TRIAL_FAILED = 1, /* the fit or a fold failed: see error */
    KN_TRIAL_PRUNED = 2, /* stopped after n_folds folds by the median rule */
} kn_trial_status;

/* One trial: a configuration cross-validated. Strings owned by the result. */
typedef struct kn_tune_trial {
    size_t id;     /* 0-based, in the order trials are proposed */
    double *x;     /* kn_tune_space_size values: the value (a choice's index),
                      NaN where a conditional parameter is inactive */
    char **params; /* the active parameters as "name=value" */
    size_t n_params;
    kn_trial_status status;
    double score, std;      /* mean and population std over folds, first metric */
    double train, baseline; /* the mean train score and the baseline's */
    double seconds;         /* wall time of the whole trial */
    double cpu_seconds;     /* its CPU time: the process's with one job, the trial's
                               thread's with more (each trial then runs on one) */
    double cost;            /* estimated at opts' prices: CPU hours x core_hour + the
                               process's RSS GB (shared by jobs) x wall hours x gb_hour */
    size_t rung;            /* halving, hyperband: the rung (0 first, in its bracket);
                               0 otherwise */
    double resource;        /* halving, hyperband: n_estimators (or the resource
                               parameter), or the share of rows; 0 otherwise */
    kn_fit_verdict verdict;
    char *verdict_text; /* kn_fit_diagnose's sentence ("" without train scores) */
    char *error;        /* KN_TRIAL_FAILED: the message */
    double *fold_score; /* n_folds scores of the first metric, by fold (NULL: unknown) */
    size_t n_folds;
    size_t bracket; /* hyperband: the bracket's s (s_max first; its rungs 0..s start at
                       resource max / eta^s); 0 otherwise */
} kn_tune_trial;

/* Called once per finished trial, in the order trials finish, never two at
 * once. A non-OK return stops the search with that status. */
typedef kn_status (*kn_tune_trial_fn)(const kn_tune_trial *t, void *user);

typedef struct kn_tune_opts {
    kn_tune_strategy strategy;
    size_t trials;             /* at most this many trials (grid: 0 = every combination;
                                  halving: the first rung's configurations; hyperband:
                                  s_max is the largest s with eta^s <= trials, so the
                                  first bracket's configurations) */
    double max_seconds;        /* start no trial after this long (0: no limit) */
    double max_cost;           /* start no trial once the finished trials' cost (resumed ones
                                  included) reaches this (0: no limit); neither budget
                                  stops the first trial of a search */
    double core_hour, gb_hour; /* prices of the cost estimate (kiln/store.h's kn_prices) */
    int jobs;                  /* trials at a time (0: one); threads are shared among them */
    int threads;               /* all trials together (0: one per core) */
    uint64_t seed;
    size_t batch;         /* TPE: trials proposed together (0: 2) */
    size_t startup;       /* TPE: random trials first (0: 10) */
    const char *resource; /* halving, hyperband: a model parameter (n_estimators) or
                             "rows"; NULL: n_estimators when the model has it, else rows */
    double eta;           /* halving, hyperband: the factor between rungs (0: 3) */
    int prune;            /* 1: the median rule stops bad trials early (not halving or
                             hyperband) */
    /* Resume: finished trials of an earlier run of the same search (same
     * space, strategy and seed), as kn_tune_trial_from_text made them;
     * borrowed. Their ids are not run again. */
    const kn_tune_trial *prior;
    size_t n_prior;
    const char *prior_metric; /* the earlier run's metric and direction (borrowed) */
    int prior_higher_is_better;
    kn_tune_trial_fn on_trial;
    void *user;
} kn_tune_opts;

KN_API void kn_tune_opts_default(kn_tune_opts *o);
KN_API const char *kn_tune_strategy_name(kn_tune_strategy s);

typedef struct kn_tune_result {
    kn_tune_trial *trial; /* n, by id (prior trials included) */
    size_t n;
    size_t best;        /* index of the best OK trial (SIZE_MAX: none) */
    const char *metric; /* the score's metric (borrowed: registered, or opts' prior_metric);
                           NULL when no trial ran */
    int higher_is_better;
    int stopped; /* 1: the time budget ran out; 2: cancelled; 3: the cost budget ran out;
                    4: random search ran out of new configurations (below) */
    double cost; /* the trials' estimated cost, summed */
} kn_tune_result;

/* Run the search: each trial is kn_cv_run(f, cv) with cv's params followed
 * by the trial's (the search's win over a fixed one). cv->metrics[0] (or
 * the task's first default metric) is the score. A space that does not
 * suit the strategy (a range without grid: points for grid search) is an
 * error before any trial. A cancelled run context (kn_ctx_cancel on the
 * caller's) starts no more trials and returns KN_OK with stopped 2 and
 * the finished trials. Fills *out; free with kn_tune_result_free. */
KN_API kn_status kn_tune_run(const kn_frame *f, const kn_cv_spec *cv, const kn_tune_space *sp,
                             const kn_tune_opts *o, kn_tune_result *out);
KN_API void kn_tune_result_free(kn_tune_result *r);

/* A trial read back (resume): its id, parameters as "name=value" texts and
 * scores. The values are checked against the space. Fills *out (bracket 0:
 * a Hyperband trial's is set in out->bracket after); free its contents with
 * kn_tune_trial_release. */
KN_API kn_status kn_tune_trial_from_text(const kn_tune_space *sp, size_t id,
                                         const char *const *params, size_t n_params, double score,
                                         double std, double train, double seconds,
                                         kn_trial_status status, size_t rung, double resource,
                                         kn_tune_trial *out);
KN_API void kn_tune_trial_release(kn_tune_trial *t);
/* Give t (e.g. read back) its per-fold scores: a copy of n values. */
KN_API kn_status kn_tune_trial_set_folds(kn_tune_trial *t, const double *score, size_t n);

#ifdef __cplusplus
}
#endif
#endif
