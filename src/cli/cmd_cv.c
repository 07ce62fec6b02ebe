/* kiln cv: cross-validate a model (with preparation steps fitted inside each
 * fold) and print per-fold and mean +- std scores. */
#include "cli/cli_cv.h"
#include "kiln/mem.h"
#include "kiln/registry.h"
#include "kiln/stage.h"

#include <stdlib.h>
#include <string.h>

static const cli_opt cv_opts[] = {
    CV_OPTS_COMMON,
    CLI_OPT_TEXT(cv_args, metrics, "metrics", "LIST",
                 "the scores, comma-separated, the first judged by the verdict "
                 "(e.g. average_precision,recall; 'kiln help metrics'; default: the task's set)"),
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
    "the rows go to the folds in file order unless --seed S (or --shuffle)\n"
    "shuffles them, as scikit-learn's splitters do without shuffle=True; the\n"
    "header says which (a file sorted by class or time needs the shuffle;\n"
    "'kiln run' shuffles by default, seeded by the spec's seed);\n"
    "--stratify, --no-stratify, --groups and --time-series choose one. With\n"
    "--time-series each test window is trained on all earlier rows. --jobs\n"
    "folds run at once, each fold's model then on one thread.\n"
    "\n"
    "A clustering model (kmeans) has no target: --target then names a column of\n"
    "true groups, never a feature. Each fold's model is fitted on the other\n"
    "folds' rows and its inertia (sum of squared distances to the nearest centre)\n"
    "and silhouette score (up to 20,000 rows) are reported on the held-out rows,\n"
    "with the agreement of its clusters with the true groups (adjusted Rand index,\n"
    "normalised mutual information), and the same on its own training rows. Folds:\n"
    "k-fold by default; --stratify keeps the groups' proportions; no --step.\n",
    "  kiln cv --data wine.csv --target class --model logistic_regression \\\n"
    "      --step standard_scaler --folds 5 --stratify\n"
    "  kiln cv --data wine_std.csv --target class --model kmeans --param n_clusters=3\n",
    cv_opts,
    0,
    cmd_cv};

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
    /* k-fold and stratified folds: shuffled, or in the file's order (said,
     * since a file sorted by class or time makes such folds misleading) */
    int orderable = r->split == KN_SPLIT_KFOLD || r->split == KN_SPLIT_STRATIFIED;
    printf("%s, %zu folds (%s%s) on %s (target %s%s%s)\n", a->spec.model, r->k,
           split_name(r->split),
           a->spec.split.shuffle ? ", shuffled"
           : orderable           ? ", rows in file order: --seed S shuffles"
                                 : "",
           a->data, a->spec.target, a->spec.weight ? "; every score weighted by " : "",
           a->spec.weight ? a->spec.weight : "");
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

/* --metrics a,b: the names into spec (borrowing *names, a copy of list). */
static kn_status split_metrics(const char *list, char **names, const char ***metrics,
                               kn_cv_spec *spec)
{
    size_t n = 1;
    for (const char *c = list; *c; c++) n += *c == ',';
    if (!(*names = kn_strdup(list)) || !(*metrics = kn_calloc(n, sizeof **metrics)))
        return kn_fail(KN_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (char *t = *names, *next; t; t = next) {
        if ((next = strchr(t, ','))) *next++ = '\0';
        while (*t == ' ') t++;
        for (char *end = t + strlen(t); end > t && end[-1] == ' ';) *--end = '\0';
        if (!*t)
            return kn_fail(KN_ERR_INVALID,
                           "--metrics '%s': an empty name; give names separated by commas, "
                           "e.g. --metrics average_precision,recall",
                           list);
        if (!kn_registry_find(KN_COMP_METRIC, t))
            return kn_fail(KN_ERR_NOT_FOUND,
                           "--metrics: no metric named '%s'; 'kiln help metrics' lists them", t);
        (*metrics)[k++] = t;
    }
    spec->metrics = *metrics;
    spec->n_metrics = k;
    return KN_OK;
}

int cmd_cv(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    cv_args a = {0};
    int rc = cli_cv_parse(&cv_spec, argc, argv, &o, &a);
    if (rc) return rc < 0 ? CLI_OK : rc;
    char *names = NULL;
    const char **metrics = NULL;
    if (a.metrics && cli_cv_is_clusters(a.spec.model))
        return cli_usage_error(cv_spec.name,
                               "--metrics goes with a model of a target; %s's "
                               "scores are inertia, silhouette, ARI and NMI",
                               a.spec.model);
    if (a.metrics && split_metrics(a.metrics, &names, &metrics, &a.spec) != KN_OK) {
        kn_free(metrics);
        kn_free(names);
        return cli_usage_error(cv_spec.name, "%s", kn_last_error());
    }
    kn_frame *f = NULL;
    kn_cv_result r = {0};
    kn_status e = cli_cv_frame(&a, &o, &f);
    if (e == KN_OK && cli_cv_is_clusters(a.spec.model)) {
        kn_stage_begin("cv");
        rc = cli_cv_clusters(&a, f);
        kn_stage_end();
        kn_frame_free(f);
        return rc;
    }
    kn_stage_begin("cv");
    if (e == KN_OK) e = kn_cv_run(f, &a.spec, &r);
    kn_stage_end();
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        /* a level only one fold holds: in file order, a file grouped by that
         * column makes such folds (cps1985 by occupation); say so */
        if (strstr(kn_last_error(), "was not seen at fit time") && !a.spec.split.shuffle &&
            !a.spec.groups && a.spec.split.kind != KN_SPLIT_TIME)
            fprintf(stderr, "kiln: note: the folds took the rows in file order (no --seed): a file "
                            "sorted or grouped by that column puts some of its levels in one fold "
                            "only; --seed S shuffles the rows first (as a kiln run spec does)\n");
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
    kn_free(metrics);
    kn_free(names);
    return rc;
}
