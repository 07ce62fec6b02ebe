/* Shared by kiln cv and kiln curve: the cross-validation options (what to
 * fit, the split, the threads) and their parsing into a kn_cv_spec. */
#ifndef KILN_CLI_CV_H
#define KILN_CLI_CV_H

#include "cli/cli.h"
#include "kiln/cv.h"

typedef struct cv_args {
    const char *data, *ignore;
    int drop_missing_target;
    cli_list params, steps;
    kn_cv_spec spec;
    /* as given, before they are put in spec */
    const char *target, *model, *weight, *groups, *order_by, *task, *positive_class;
    int64_t folds, repeats, gap, test_rows, max_train, jobs;
    uint64_t seed;
    int stratify, no_stratify, shuffle, time_series;
    /* set before cli_cv_parse by a command whose --seed also seeds its own
     * work (kiln tune's search): --seed is then taken with group and
     * time-series folds too, which it leaves unshuffled */
    int seed_seeds_more;
    kn_read_opts read;
    /* kiln curve */
    const char *sizes, *range, *metric;
    /* kiln cv: --metrics, comma-separated */
    const char *metrics;
} cv_args;

/* The options of the commands (a cli_opt table's entries). */
#define CV_OPTS_COMMON                                                                             \
    CV_OPTS_COMMON_WITH("the shuffle's seed; implies --shuffle",                                   \
                        "folds run J at a time (default: one per core, within --threads)")
/* The same with the help of --seed and --jobs for a command that gives
 * them more to do (kiln tune). */
#define CV_OPTS_COMMON_WITH(seed_help, jobs_help)                                                  \
    CLI_OPT_NEED(cv_args, data, "data", "FILE", "the data"),                                       \
        CLI_OPT_NEED(cv_args, target, "target", "COLUMN", "the column to predict"),                \
        CLI_OPT_NEED(cv_args, model, "model", "NAME", "the model ('kiln help models')"),           \
        CLI_OPT_LIST(cv_args, params, "param", "NAME=VALUE",                                       \
                     "a model parameter ('kiln help model NAME')"),                                \
        CLI_OPT_LIST(cv_args, steps, "step", "NAME[:p=v;...]",                                     \
                     "a step fitted inside each fold ('kiln help steps')"),                        \
        CLI_OPT_TEXT(cv_args, weight, "weight", "COLUMN",                                          \
                     "sample weights, of the fits and of every score (weighted "                   \
                     "metrics; cross_val_score's are not); not a feature"),                        \
        CLI_OPT_INT(cv_args, folds, "folds", "K", "5", 2, 1e9, "number of folds"),                 \
        CLI_OPT_FLAG(cv_args, stratify, "stratify", "stratified folds (classifiers only)"),        \
        CLI_OPT_FLAG(cv_args, no_stratify, "no-stratify", "plain k-fold for a classifier too"),    \
        CLI_OPT_FLAG(cv_args, shuffle, "shuffle", "shuffle rows first (seed 0 unless --seed)"),    \
        CLI_OPT_SEED(cv_args, seed, "seed", "0", seed_help),                                       \
        CLI_OPT_INT(cv_args, repeats, "repeats", "R", "1", 1, 1e9,                                 \
                    "repeat with R different shuffles"),                                           \
        CLI_OPT_TEXT(cv_args, groups, "groups", "COLUMN",                                          \
                     "rows with the same value stay in one fold (= GroupKFold); not a "            \
                     "feature"),                                                                   \
        CLI_OPT_FLAG(cv_args, time_series, "time-series",                                          \
                     "K test windows moving forward in time (= TimeSeriesSplit)"),                 \
        CLI_OPT_TEXT(cv_args, order_by, "order-by", "COLUMN",                                      \
                     "with --time-series: sort rows by COLUMN first (not a feature)"),             \
        CLI_OPT_INT(cv_args, gap, "gap", "N", "0", 0, 1e15,                                        \
                    "with --time-series: rows left out before each window"),                       \
        CLI_OPT_INT(cv_args, test_rows, "test-rows", "N", NULL, 1, 1e15,                           \
                    "with --time-series: rows in each test window"),                               \
        CLI_OPT_INT(cv_args, max_train, "max-train", "N", NULL, 1, 1e15,                           \
                    "with --time-series: at most N training rows"),                                \
        CLI_OPT_TEXT(cv_args, ignore, "ignore", "COLUMNS", "columns that are not features (a,b)"), \
        CLI_OPT_INT(cv_args, jobs, "jobs", "J", NULL, 1, 1024, jobs_help),                         \
        CLI_OPT_CHOICE(cv_args, task, "task", "classification|regression",                         \
                       "the task, for gbdt and the tree models (default: from the target)"),       \
        CLI_OPT_TEXT(cv_args, positive_class, "positive-class", "LABEL",                           \
                     "the positive class of a binary target (default: the second, sorted)"),       \
        CLI_OPT_FLAG(cv_args, drop_missing_target, "drop-missing-target",                          \
                     "leave out rows whose target is missing"),                                    \
        CLI_OPT_READ(cv_args, read)

/* Parse argv by spec (whose options hold CV_OPTS_COMMON) into a->spec and
 * *o. Returns as cli_parse. */
int cli_cv_parse(const cli_spec *spec, int argc, char **argv, kn_read_opts *o, cv_args *a);
/* Read a->data for cross-validation: --ignore, rows without a target, and
 * infinite targets, as kiln cv does. */
kn_status cli_cv_frame(const cv_args *a, kn_read_opts *o, kn_frame **f);

/* Is model a clustering one (kmeans)? Then kiln cv runs cli_cv_clusters
 * on the frame (cli_cv_cluster.c): --target names the true groups. */
int cli_cv_is_clusters(const char *model);
int cli_cv_clusters(const cv_args *a, const kn_frame *f);

#endif
