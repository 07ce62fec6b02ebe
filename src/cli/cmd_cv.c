/* kiln cv: cross-validate a model (with preparation steps fitted inside each
 * fold) and print per-fold and mean +- std scores. */
#include "cli/cli.h"
#include "kiln/cv.h"
#include "kiln/stage.h"

#include <stdlib.h>
#include <string.h>

const char cv_usage[] =
    "usage: kiln cv --data FILE --target COLUMN --model NAME [--param name=value ...]\n"
    "               [--step NAME:param=value;... ...] [--weight COLUMN]\n"
    "               [--folds K] [--stratify | --no-stratify] [--shuffle] [--seed S]\n"
    "               [--repeats R]\n"
    "               [--groups COLUMN] [--time-series [--order-by COLUMN] [--gap N]\n"
    "                [--test-rows N] [--max-train N]] [--ignore COLUMNS] [--jobs J] [--json]\n"
    "               [--task classification|regression] [--positive-class LABEL]\n"
    "               [--drop-missing-target]\n"
    "\n"
    "Cross-validate: split the rows into K folds (default 5), and for each fold fit\n"
    "the --step preparation steps (as in 'kiln prep') and the model on the other\n"
    "folds and score it on this one, so nothing about the test rows leaks into\n"
    "training. Prints each fold's scores and their mean +- std (population std,\n"
    "as scikit-learn's cross_validate reports it). Folds run in parallel.\n"
    "\n"
    "  (default)      classifiers: stratified, each fold keeps the class\n"
    "                 proportions (= StratifiedKFold, scikit-learn's default for\n"
    "                 classifiers); regressors: k-fold over the rows in order\n"
    "                 (= KFold)\n"
    "  --stratify     stratified (classifiers only)\n"
    "  --no-stratify  plain k-fold for a classifier too\n"
    "  --shuffle      shuffle rows first (seed 0 unless --seed)\n"
    "  --seed S       the shuffle's seed; implies --shuffle\n"
    "  --repeats R    repeat with R different shuffles\n"
    "  --groups C     rows with the same value of C stay in one fold (= GroupKFold)\n"
    "  --ignore a,b   columns that are not features (ids, notes)\n"
    "  --jobs J       folds run J at a time (default: one per core, at most the\n"
    "                 --threads budget; each fold's model then runs on one thread)\n"
    "  --task T       classification or regression, for gbdt and the tree models\n"
    "                 (default: from the target, printed)\n"
    "  --positive-class L  the class that precision, recall and f1 of a binary\n"
    "                 target call positive (default: the second label, sorted)\n"
    "  --drop-missing-target  leave out rows whose target is missing\n"
    "  --time-series  K test windows moving forward in time, each trained on all\n"
    "                 earlier rows (= TimeSeriesSplit); --order-by C sorts rows by\n"
    "                 C first, --gap N leaves N rows out before each window,\n"
    "                 --test-rows N sets the window, --max-train N caps training\n"
    "\n"
    "example:\n"
    "  kiln cv --data wine.csv --target class --model logistic_regression \\\n"
    "      --step standard_scaler --folds 5 --stratify\n";

typedef struct cv_args {
    const char *data, *ignore;
    int drop_missing_target;
    const char *params[64], *steps[64];
    kn_cv_spec spec;
} cv_args;

static int parse_size(const char *opt, const char *v, size_t lo, size_t *out)
{
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || x < (long long)lo)
        return cli_usage_error("cv", "%s takes a whole number >= %zu, got '%s'", opt, lo, v);
    *out = (size_t)x;
    return CLI_OK;
}

static int parse_cv(int argc, char **argv, kn_read_opts *o, cv_args *a)
{
    kn_cv_spec *s = &a->spec;
    kn_split_opts_default(&s->split);
    int rc = CLI_OK, stratify = 0, no_stratify = 0, time_series = 0, seeded = 0;
    s->split.kind = KN_SPLIT_AUTO;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL, *opt = argv[i];
        if (!strcmp(opt, "--param") && v) {
            if (s->n_params == 64) return cli_usage_error("cv", "at most 64 --param");
            a->params[s->n_params++] = argv[++i];
        } else if (!strcmp(opt, "--step") && v) {
            if (s->n_steps == 64) return cli_usage_error("cv", "at most 64 --step");
            a->steps[s->n_steps++] = argv[++i];
        } else if (!strcmp(opt, "--data") && v)
            a->data = argv[++i];
        else if (!strcmp(opt, "--target") && v)
            s->target = argv[++i];
        else if (!strcmp(opt, "--model") && v)
            s->model = argv[++i];
        else if (!strcmp(opt, "--weight") && v)
            s->weight = argv[++i];
        else if (!strcmp(opt, "--ignore") && v)
            a->ignore = argv[++i];
        else if (!strcmp(opt, "--groups") && v) {
            s->groups = argv[++i];
            s->split.kind = KN_SPLIT_GROUP;
        } else if (!strcmp(opt, "--order-by") && v)
            s->order_by = argv[++i];
        else if (!strcmp(opt, "--folds") && v)
            rc = parse_size(opt, argv[++i], 2, &s->split.folds);
        else if (!strcmp(opt, "--repeats") && v)
            rc = parse_size(opt, argv[++i], 1, &s->split.repeats);
        else if (!strcmp(opt, "--gap") && v)
            rc = parse_size(opt, argv[++i], 0, &s->split.gap);
        else if (!strcmp(opt, "--test-rows") && v)
            rc = parse_size(opt, argv[++i], 1, &s->split.test_size);
        else if (!strcmp(opt, "--max-train") && v)
            rc = parse_size(opt, argv[++i], 1, &s->split.max_train);
        else if (!strcmp(opt, "--seed") && v) {
            rc = cli_parse_seed("cv", argv[++i], &s->split.seed);
            seeded = 1;
        } else if (!strcmp(opt, "--jobs") && v) {
            size_t t = 0;
            rc = parse_size(opt, argv[++i], 1, &t);
            s->threads = (int)t;
        } else if (!strcmp(opt, "--stratify"))
            stratify = 1;
        else if (!strcmp(opt, "--no-stratify"))
            no_stratify = 1;
        else if (!strcmp(opt, "--task") && v) {
            s->task = argv[++i];
            if (strcmp(s->task, "classification") && strcmp(s->task, "regression"))
                return cli_usage_error("cv", "--task takes classification or regression, got '%s'",
                                       s->task);
        } else if (!strcmp(opt, "--positive-class") && v)
            s->positive_class = argv[++i];
        else if (!strcmp(opt, "--drop-missing-target"))
            a->drop_missing_target = 1;
        else if (!strcmp(opt, "--shuffle"))
            s->split.shuffle = 1;
        else if (!strcmp(opt, "--time-series"))
            time_series = 1;
        else {
            int r = cli_read_option(argc, argv, &i, o);
            if (r < 0) return CLI_USAGE;
            if (r == 0) return cli_usage_error("cv", "unknown or incomplete option %s", opt);
        }
    }
    if (rc != CLI_OK) return rc;
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
    if (!a->data || !s->target || !s->model)
        return cli_usage_error("cv", "need --data, --target and --model");
    s->params = a->params;
    s->steps = a->steps;
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
        for (size_t m = 0; m < r->n_scores; m++)
            json_object_set_new(fo, r->name[m], json_real(r->score[i * r->n_scores + m]));
        json_array_append_new(folds, fo);
    }
    for (size_t m = 0; m < r->n_scores; m++) {
        json_object_set_new(mean, r->name[m], json_real(r->mean[m]));
        json_object_set_new(std, r->name[m], json_real(r->std[m]));
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "command", "cv", "input",
                          a->data, "model", a->spec.model, "target", a->spec.target, "split",
                          split_name(r->split), "shuffle", a->spec.split.shuffle, "folds", folds,
                          "mean", mean, "std", std);
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
    if (rc != CLI_OK) return rc;
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
