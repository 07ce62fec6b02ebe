/* kiln cv: cross-validate a model (with preparation steps fitted inside each
 * fold) and print per-fold and mean +- std scores. */
#include "cli/cli.h"
#include "kiln/cv.h"
#include "kiln/stage.h"

#include <stdlib.h>
#include <string.h>

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
    kn_read_opts read;
} cv_args;

static const cli_opt cv_opts[] = {
    CLI_OPT_NEED(cv_args, data, "data", "FILE", "the data"),
    CLI_OPT_NEED(cv_args, target, "target", "COLUMN", "the column to predict"),
    CLI_OPT_NEED(cv_args, model, "model", "NAME", "the model ('kiln help models')"),
    CLI_OPT_LIST(cv_args, params, "param", "NAME=VALUE",
                 "a model parameter ('kiln help model NAME')"),
    CLI_OPT_LIST(cv_args, steps, "step", "NAME[:p=v;...]",
                 "a step fitted inside each fold ('kiln help steps')"),
    CLI_OPT_TEXT(cv_args, weight, "weight", "COLUMN", "sample weights"),
    CLI_OPT_INT(cv_args, folds, "folds", "K", "5", 2, 1e9, "number of folds"),
    CLI_OPT_FLAG(cv_args, stratify, "stratify", "stratified folds (classifiers only)"),
    CLI_OPT_FLAG(cv_args, no_stratify, "no-stratify", "plain k-fold for a classifier too"),
    CLI_OPT_FLAG(cv_args, shuffle, "shuffle", "shuffle rows first (seed 0 unless --seed)"),
    CLI_OPT_SEED(cv_args, seed, "seed", "0", "the shuffle's seed; implies --shuffle"),
    CLI_OPT_INT(cv_args, repeats, "repeats", "R", "1", 1, 1e9, "repeat with R different shuffles"),
    CLI_OPT_TEXT(cv_args, groups, "groups", "COLUMN",
                 "rows with the same value stay in one fold (= GroupKFold)"),
    CLI_OPT_FLAG(cv_args, time_series, "time-series",
                 "K test windows moving forward in time (= TimeSeriesSplit)"),
    CLI_OPT_TEXT(cv_args, order_by, "order-by", "COLUMN",
                 "with --time-series: sort rows by COLUMN first"),
    CLI_OPT_INT(cv_args, gap, "gap", "N", "0", 0, 1e15,
                "with --time-series: rows left out before each window"),
    CLI_OPT_INT(cv_args, test_rows, "test-rows", "N", NULL, 1, 1e15,
                "with --time-series: rows in each test window"),
    CLI_OPT_INT(cv_args, max_train, "max-train", "N", NULL, 1, 1e15,
                "with --time-series: at most N training rows"),
    CLI_OPT_TEXT(cv_args, ignore, "ignore", "COLUMNS", "columns that are not features (a,b)"),
    CLI_OPT_INT(cv_args, jobs, "jobs", "J", NULL, 1, 1024,
                "folds run J at a time (default: one per core, within --threads)"),
    CLI_OPT_CHOICE(cv_args, task, "task", "classification|regression",
                   "the task, for gbdt and the tree models (default: from the target)"),
    CLI_OPT_TEXT(cv_args, positive_class, "positive-class", "LABEL",
                 "the positive class of a binary target (default: the second, sorted)"),
    CLI_OPT_FLAG(cv_args, drop_missing_target, "drop-missing-target",
                 "leave out rows whose target is missing"),
    CLI_OPT_READ(cv_args, read),
    CLI_OPT_END};

const cli_spec cv_spec = {
    "cv",
    "cross-validate a model (steps fitted inside each fold)",
    "Cross-validate: split the rows into K folds (default 5), and for each fold fit\n"
    "the --step preparation steps (as in 'kiln prep') and the model on the other\n"
    "folds and score it on this one, so nothing about the test rows leaks into\n"
    "training. Prints each fold's scores and their mean +- std (population std,\n"
    "as scikit-learn's cross_validate reports it), the same scores of each fold's\n"
    "model on its own training rows, the baseline's (the training rows' class\n"
    "prior or mean), and a verdict with its evidence: over-fitting (train far\n"
    "above validation, beyond the folds' spread), under-fitting (both barely\n"
    "beat the baseline) or fine. Folds run in parallel.\n"
    "\n"
    "The split: by default a classifier gets stratified folds, each keeping the\n"
    "class proportions (= StratifiedKFold, scikit-learn's default for\n"
    "classifiers), and a regressor k-fold over the rows in order (= KFold);\n"
    "--stratify, --no-stratify, --groups and --time-series choose one. With\n"
    "--time-series each test window is trained on all earlier rows. --jobs\n"
    "folds run at once, each fold's model then on one thread.\n",
    "  kiln cv --data wine.csv --target class --model logistic_regression \\\n"
    "      --step standard_scaler --folds 5 --stratify\n",
    cv_opts,
    0,
    cmd_cv};

static int parse_cv(int argc, char **argv, kn_read_opts *o, cv_args *a)
{
    kn_cv_spec *s = &a->spec;
    kn_split_opts_default(&s->split);
    s->split.kind = KN_SPLIT_AUTO;
    uint64_t given = 0;
    int rc = cli_parse(&cv_spec, argc, argv, a, &given);
    if (rc) return rc;
    *o = a->read;
    int stratify = a->stratify, no_stratify = a->no_stratify, time_series = a->time_series,
        seeded = cli_given(&cv_spec, given, "seed");
    s->target = a->target;
    s->model = a->model;
    s->weight = a->weight;
    s->groups = a->groups;
    if (s->groups) s->split.kind = KN_SPLIT_GROUP;
    s->order_by = a->order_by;
    s->task = a->task;
    s->positive_class = a->positive_class;
    s->split.folds = (size_t)a->folds;
    s->split.repeats = (size_t)a->repeats;
    s->split.gap = (size_t)a->gap;
    s->split.test_size = (size_t)a->test_rows;
    s->split.max_train = (size_t)a->max_train;
    s->split.seed = a->seed;
    s->split.shuffle = a->shuffle;
    s->threads = (int)a->jobs;
    s->n_params = a->params.n;
    s->n_steps = a->steps.n;
    if (stratify + no_stratify + time_series + (s->groups != NULL) > 1)
        return cli_usage_error("cv", "choose one of --stratify, --no-stratify, --groups and "
                                     "--time-series");
    if (stratify) s->split.kind = KN_SPLIT_STRATIFIED;
    if (no_stratify) s->split.kind = KN_SPLIT_KFOLD;
    if (time_series) s->split.kind = KN_SPLIT_TIME;
    /* a seed only seeds the shuffle: given alone it asks for one (a sorted
     * file split in order gives folds that miss classes) */
    if (seeded && (time_series || s->groups))
        return cli_usage_error("cv",
                               "--seed seeds the shuffle of k-fold and stratified splits; "
                               "%s folds are not shuffled: drop --seed",
                               time_series ? "time-series" : "group");
    if (seeded) s->split.shuffle = 1;
    if (s->split.shuffle && (time_series || s->groups))
        return cli_usage_error("cv", "--shuffle goes with k-fold and stratified splits, not %s",
                               time_series ? "--time-series" : "--groups");
    if (s->order_by && !time_series)
        return cli_usage_error("cv", "--order-by goes with --time-series");
    s->params = a->params.v;
    s->steps = a->steps.v;
    return CLI_OK;
}

static const char *split_name(kn_split_kind kind)
{
    static const char *const kinds[] = {"kfold", "stratified", "group", "time_series", "auto"};
    return (unsigned)kind < sizeof kinds / sizeof *kinds ? kinds[kind] : "?";
}

static json_t *result_json(const cv_args *a, const kn_cv_result *r)
{
    json_t *folds = json_array(), *mean = json_object(), *std = json_object();
    for (size_t i = 0; i < r->k; i++) {
        json_t *fo = json_pack("{s:I, s:I, s:I, s:f}", "fold", (json_int_t)(i + 1), "train_rows",
                               (json_int_t)r->n_train[i], "test_rows", (json_int_t)r->n_test[i],
                               "fit_seconds", r->fit_seconds[i]);
        json_t *tr = json_object();
        for (size_t m = 0; m < r->n_scores; m++) {
            json_object_set_new(fo, r->name[m], cli_json_num(r->score[i * r->n_scores + m]));
            json_object_set_new(tr, r->name[m], cli_json_num(r->train_score[i * r->n_scores + m]));
        }
        json_object_set_new(fo, "train", tr);
        json_array_append_new(folds, fo);
    }
    json_t *train = json_object(), *baseline = json_object();
    for (size_t m = 0; m < r->n_scores; m++) {
        json_object_set_new(mean, r->name[m], cli_json_num(r->mean[m]));
        json_object_set_new(std, r->name[m], cli_json_num(r->std[m]));
        json_object_set_new(train, r->name[m],
                            json_pack("{s:o, s:o}", "mean", cli_json_num(r->train_mean[m]), "std",
                                      cli_json_num(r->train_std[m])));
        json_object_set_new(baseline, r->name[m], cli_json_num(r->baseline_mean[m]));
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "command", "cv", "input",
                          a->data, "model", a->spec.model, "target", a->spec.target, "split",
                          split_name(r->split), "shuffle", a->spec.split.shuffle, "folds", folds,
                          "mean", mean, "std", std);
    json_object_set_new(j, "train", train);
    json_object_set_new(j, "baseline", baseline);
    json_object_set_new(j, "verdict",
                        json_pack("{s:s, s:s}", "fit", kn_fit_verdict_name(r->verdict), "evidence",
                                  r->verdict_text));
    cli_scores_meaning_json(j, r->roc_auc_average, r->positive_class);
    return j;
}

static void print_result(const cv_args *a, const kn_cv_result *r)
{
    printf("%s, %zu folds (%s%s) on %s (target %s)\n", a->spec.model, r->k, split_name(r->split),
           a->spec.split.shuffle ? ", shuffled" : "", a->data, a->spec.target);
    printf("%-5s %8s %8s", "fold", "train", "test");
    for (size_t m = 0; m < r->n_scores; m++) printf(" %18s", r->name[m]);
    printf(" %9s\n", "fit s");
    for (size_t i = 0; i < r->k; i++) {
        printf("%-5zu %8zu %8zu", i + 1, r->n_train[i], r->n_test[i]);
        for (size_t m = 0; m < r->n_scores; m++) printf(" %18.6g", r->score[i * r->n_scores + m]);
        printf(" %9.3f\n", r->fit_seconds[i]);
    }
    printf("%-23s", "mean +- std");
    for (size_t m = 0; m < r->n_scores; m++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.4g +- %.2g", r->mean[m], r->std[m]);
        printf(" %18s", buf);
    }
    putchar('\n');
    printf("%-23s", "train mean +- std");
    for (size_t m = 0; m < r->n_scores; m++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.4g +- %.2g", r->train_mean[m], r->train_std[m]);
        printf(" %18s", buf);
    }
    putchar('\n');
    printf("%-23s", "baseline (prior/mean)");
    for (size_t m = 0; m < r->n_scores; m++) printf(" %18.4g", r->baseline_mean[m]);
    putchar('\n');
    printf("fit: %s\n", r->verdict_text);
    if (r->roc_auc_average || r->positive_class) {
        printf("scores:");
        cli_print_scores_meaning(r->roc_auc_average, r->positive_class);
        putchar('\n');
    }
}

int cmd_cv(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    cv_args a = {0};
    int rc = parse_cv(argc, argv, &o, &a);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_frame *f = NULL;
    kn_read_report rep;
    kn_cv_result r = {0};
    kn_status e = cli_read_frame(a.data, &o, &f, &rep);
    if (e == KN_OK) e = cli_ignore_columns(f, a.ignore);
    if (e == KN_OK) e = cli_target_rows(&f, a.spec.target, a.drop_missing_target);
    if (e == KN_OK) e = cli_refuse_infinite(f, a.spec.target);
    kn_stage_begin("cv");
    if (e == KN_OK) e = kn_cv_run(f, &a.spec, &r);
    kn_stage_end();
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = e == KN_ERR_NOT_FOUND && strstr(kn_last_error(), "no model named") ? CLI_USAGE
                                                                                : CLI_FAIL;
    } else if (cli.json) {
        json_t *j = result_json(&a, &r);
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else
        print_result(&a, &r);
    kn_cv_result_free(&r);
    kn_frame_free(f);
    return rc;
}
