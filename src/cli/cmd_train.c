/* kiln train: fit a pipeline (today a model alone) on a data file and save
 * its model (predict and eval are in cmd_predict.c). */
#include "cli/cli.h"
#include "cli/train_artifact.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/evaluate.h"
#include "kiln/importance.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/pipeline.h"
#include "kiln/registry.h"
#include "kiln/split.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Hold out a seeded random share of the rows (per class when strata). */
static kn_status split(const kn_frame *f, double share, uint64_t seed, const char *stratify,
                       kn_frame **train, kn_frame **test)
{
    int32_t *strata = NULL;
    size_t k = 0, *parts[2] = {NULL, NULL}, sizes[2];
    double shares[2] = {1 - share, share};
    kn_status e = stratify ? kn_split_labels(f, stratify, &strata, &k) : KN_OK;
    if (e == KN_OK) e = kn_split_shares(kn_frame_n_rows(f), strata, shares, 2, seed, parts, sizes);
    if (e == KN_OK) e = kn_frame_select_rows(f, parts[0], sizes[0], train);
    if (e == KN_OK) e = kn_frame_select_rows(f, parts[1], sizes[1], test);
    kn_free(strata);
    kn_free(parts[0]);
    kn_free(parts[1]);
    return e;
}

static json_t *coef_row_json(const kn_model *m, const double *coef, double b)
{
    json_t *f = json_object();
    for (size_t j = 0; j < kn_model_n_features(m); j++)
        json_object_set_new(f, kn_model_feature(m, j), json_real(coef[j]));
    return json_pack("{s:f, s:o}", "intercept", b, "features", f);
}

/* {"intercept": b, "features": {name: coef, ...}}; for models with one row
 * per class {"classes": {label: {"intercept": .., "features": {..}}, ..}};
 * NULL for models without coefficients. */
static json_t *coefficients_json(const kn_model *m)
{
    size_t p = kn_model_n_features(m), rows = kn_model_coef_rows(m);
    if (!rows) return NULL;
    double *coef = kn_malloc((p ? rows * p : 1) * sizeof *coef);
    double *b = kn_malloc(rows * sizeof *b);
    json_t *j = NULL;
    if (coef && b && kn_model_coefficients(m, coef, b) == KN_OK) {
        if (rows == 1)
            j = coef_row_json(m, coef, b[0]);
        else {
            json_t *c = json_object();
            for (size_t r = 0; r < rows; r++)
                json_object_set_new(c, kn_model_class(m, r), coef_row_json(m, coef + r * p, b[r]));
            j = json_pack("{s:o}", "classes", c);
        }
    }
    kn_free(coef);
    kn_free(b);
    return j ? j : json_null();
}

/* {name: importance, ...} for models with feature importances (trees), else NULL. */
static json_t *importances_json(const kn_model *m)
{
    size_t p = kn_model_n_features(m);
    if (!kn_model_has_importances(m)) return NULL;
    double *imp = kn_malloc((p ? p : 1) * sizeof *imp);
    json_t *j = NULL;
    if (imp && kn_model_importances(m, imp) == KN_OK) {
        j = json_object();
        for (size_t k = 0; k < p; k++)
            json_object_set_new(j, kn_model_feature(m, k), json_real(imp[k]));
    }
    kn_free(imp);
    return j ? j : json_null();
}

/* The fit summary (GLMs): {"deviance": .., ..., "table": [{feature, coef, ...}]}, or NULL. */
static json_t *summary_json(const kn_model *m)
{
    kn_fit_summary fs;
    if (kn_model_summary(m, &fs) != KN_OK) return NULL;
    json_t *j = json_object();
    for (size_t i = 0; i < fs.n_stats; i++)
        json_object_set_new(j, fs.stat_name[i],
                            isfinite(fs.stat[i]) ? json_real(fs.stat[i]) : json_null());
    if (fs.coef) {
        json_t *t = json_array();
        size_t p = kn_model_n_features(m);
        for (size_t r = 0; r <= p; r++) {
            json_t *row =
                json_pack("{s:s}", "term", r < p ? kn_model_feature(m, r) : "(intercept)");
            const double v[4] = {fs.coef[r], fs.std_error[r], fs.z[r], fs.p_value[r]};
            static const char *const names[4] = {"coef", "std_error", "z", "p_value"};
            for (size_t c = 0; c < 4; c++)
                json_object_set_new(row, names[c], isfinite(v[c]) ? json_real(v[c]) : json_null());
            json_array_append_new(t, row);
        }
        json_object_set_new(j, "table", t);
    }
    return j;
}

static void print_summary(const kn_model *m)
{
    kn_fit_summary fs;
    if (kn_model_summary(m, &fs) != KN_OK) return;
    printf("fit:");
    for (size_t i = 0; i < fs.n_stats; i++) printf("  %s %.6g", fs.stat_name[i], fs.stat[i]);
    putchar('\n');
    if (!fs.coef) return;
    printf("%-24s %14s %12s %9s %10s\n", "term", "coef", "std err", "z", "P>|z|");
    size_t p = kn_model_n_features(m);
    for (size_t r = 0; r <= p; r++)
        printf("%-24.24s %14.6g %12.4g %9.3f %10.4g\n",
               r < p ? kn_model_feature(m, r) : "(intercept)", fs.coef[r], fs.std_error[r], fs.z[r],
               fs.p_value[r]);
}

typedef struct train_args {
    const char *data, *target, *model, *out, *weight, *sign_key;
    cli_list params;
    double test_size;
    uint64_t seed;
    int stratify, drop_missing_target;
    const char *ignore;
    const char *task;
    const char *positive_class;
    kn_read_opts read;
} train_args;

static const char *task_name(const kn_model *m)
{
    return kn_model_task(m) == KN_TASK_CLASSIFICATION ? "classification" : "regression";
}

static const cli_opt train_opts[] = {
    CLI_OPT_NEED(train_args, data, "data", "FILE", "the data to fit on"),
    CLI_OPT_NEED(train_args, target, "target", "COLUMN", "the column to predict"),
    CLI_OPT_NEED(train_args, model, "model", "NAME", "the model ('kiln help models')"),
    CLI_OPT_NEED(train_args, out, "out", "MODEL.kmd",
                 "where the model is saved (NAME.kiln: as an artifact)"),
    CLI_OPT_TEXT(train_args, sign_key, "sign-key", "NAME.key",
                 "sign the .kiln artifact with this secret key ('kiln keygen')"),
    CLI_OPT_LIST(train_args, params, "param", "NAME=VALUE",
                 "a model parameter ('kiln help model NAME')"),
    CLI_OPT_TEXT(train_args, weight, "weight", "COLUMN", "sample weights"),
    CLI_OPT_NUM(train_args, test_size, "test-size", "F", "0.2", 0, 1,
                "share of rows held out for scoring (0 = none; below 1)"),
    CLI_OPT_FLAG(train_args, stratify, "stratify", "hold out the same share of every class"),
    CLI_OPT_SEED(train_args, seed, "seed", "0", "seed of the hold-out split"),
    CLI_OPT_TEXT(train_args, ignore, "ignore", "COLUMNS", "columns that are not features (a,b)"),
    CLI_OPT_CHOICE(train_args, task, "task", "classification|regression",
                   "the task, for gbdt and the tree models (default: from the target)"),
    CLI_OPT_TEXT(train_args, positive_class, "positive-class", "LABEL",
                 "the positive class of a binary target (default: the second, sorted)"),
    CLI_OPT_FLAG(train_args, drop_missing_target, "drop-missing-target",
                 "leave out rows whose target is missing"),
    CLI_OPT_READ(train_args, read),
    CLI_OPT_END};

const cli_spec train_spec = {
    "train",
    "fit a model on a data file and save it",
    "Fit a model on the feature columns of FILE (every column but the target and\n"
    "weight). gbdt and the tree models take text columns and missing values as\n"
    "they are; other models need them encoded or imputed first ('kiln prep'). With\n"
    "--test-size F (default 0.2; 0 = none) a seeded random share F of the rows is\n"
    "held out and the model is scored on it (--stratify: the same share of every\n"
    "class). --ignore a,b leaves columns out of the features. The model file keeps\n"
    "the model, its parameters and its input columns. 'kiln help models' lists the\n"
    "models, 'kiln help model NAME' their parameters. --drop-missing-target\n"
    "leaves out rows whose target is missing (otherwise they are an error).\n"
    "Binary classifiers are scored with precision, recall and f1 of a positive\n"
    "class: --positive-class LABEL, by default the second label in sorted order;\n"
    "the output names it.\n"
    "\n"
    "--out NAME.kiln writes an artifact instead of a .kmd model: the fitted\n"
    "pipeline, the input schema (each column's type, whether it may be missing,\n"
    "the categories of text columns, as seen in FILE), the lineage (FILE's\n"
    "BLAKE2b hash and row count, the seed, the Kiln version), the held-out\n"
    "scores and predictions; --sign-key NAME.key signs it (kiln keygen). Set\n"
    "KILN_DETERMINISTIC_TIME=1 to leave out the creation time, so the same data\n"
    "and seed give a byte-identical file. 'kiln predict' checks new rows against\n"
    "the schema before scoring them.\n"
    "\n"
    "The task: a classifier refuses a target that looks continuous (non-integer\n"
    "values, or over 50 distinct values making up over 5 % of the rows); gbdt and\n"
    "the tree models, which do both, follow the target unless --task (or their\n"
    "objective / criterion parameter) says otherwise, and print their choice.\n",
    "  kiln train --data concrete.csv --target compressive_strength --model ridge \\\n"
    "      --param alpha=0.5 --out strength.kmd\n",
    train_opts,
    0,
    cmd_train};

static int parse_train(int argc, char **argv, kn_read_opts *o, train_args *a)
{
    int rc = cli_parse(&train_spec, argc, argv, a, NULL);
    if (rc) return rc;
    if (a->sign_key && !cli_out_is_artifact(a->out))
        return cli_usage_error("train", "--sign-key signs artifacts: give --out a NAME.kiln");
    if (a->test_size >= 1)
        return cli_usage_error("train", "--test-size %g: must be below 1 (a share of the rows)",
                               a->test_size);
    *o = a->read;
    return CLI_OK;
}

/* The training part of a hold-out split that holds one class: refused with
 * the class and the split named (the fit's own message would blame the
 * data, not the split). */
static kn_status one_class_left(const kn_frame *train, const train_args *a)
{
    size_t j, n = kn_frame_n_rows(train);
    if (kn_frame_find(train, a->target, &j) != KN_OK || n == 0) return KN_OK;
    kn_column *c = kn_frame_col(train, j);
    if (kn_column_type(c) != KN_COL_CATEGORICAL && kn_column_type(c) != KN_COL_NUMERIC)
        return KN_OK;
    for (size_t i = 1; i < n; i++) {
        if (kn_column_is_missing(c, i) || kn_column_is_missing(c, 0)) return KN_OK; /* told later */
        if (kn_column_type(c) == KN_COL_NUMERIC ? kn_column_f64(c)[i] != kn_column_f64(c)[0]
                                                : kn_column_codes(c)[i] != kn_column_codes(c)[0])
            return KN_OK;
    }
    char buf[40];
    const char *label = buf;
    if (kn_column_type(c) == KN_COL_NUMERIC)
        snprintf(buf, sizeof buf, "%.17g", kn_column_f64(c)[0]);
    else
        label = kn_column_level(c, kn_column_codes(c)[0], NULL);
    return kn_fail(KN_ERR_INVALID,
                   "the training part of the --test-size %g split (seed %llu, %zu rows) holds a "
                   "single class of '%s' ('%s'); %s",
                   a->test_size, (unsigned long long)a->seed, n, a->target, label,
                   a->stratify ? "lower --test-size so each class keeps rows for training"
                               : "add --stratify (each class keeps its share in both parts) or "
                                 "lower --test-size");
}

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --positive-class on a text target: a label no row holds is refused
 * before the fit (not after it), with the classes named as the scoring
 * would name them. Numeric targets are checked when scoring. */
static kn_status positive_class_known(const kn_frame *f, const train_args *a)
{
    size_t j;
    if (!a->positive_class || kn_frame_find(f, a->target, &j) != KN_OK) return KN_OK;
    kn_column *c = kn_frame_col(f, j);
    if (kn_column_type(c) != KN_COL_CATEGORICAL) return KN_OK;
    size_t levels = kn_column_n_levels(c), k = 0, n = kn_frame_n_rows(f);
    char *used = kn_calloc(levels + 1, 1);
    const char **names = kn_malloc((levels + 1) * sizeof *names);
    kn_status e = used && names ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++)
        if (kn_column_codes(c)[i] >= 0) used[kn_column_codes(c)[i]] = 1;
    int found = 0;
    for (size_t l = 0; e == KN_OK && l < levels; l++)
        if (used[l]) {
            names[k] = kn_column_level(c, (int32_t)l, NULL);
            found |= !strcmp(names[k++], a->positive_class);
        }
    if (e == KN_OK && !found && k == 2) {
        qsort(names, k, sizeof *names, by_bytes);
        e = kn_fail(KN_ERR_INVALID,
                    "positive class '%s' is not a class of target '%s'; its classes are '%s' "
                    "and '%s'",
                    a->positive_class, a->target, names[0], names[1]);
    }
    kn_free(used);
    kn_free(names);
    return e;
}

/* A classifier whose smallest class holds under 20 % of the rows: the
 * held-out accuracy flatters a model that always answers the largest class
 * (kiln cv and kiln run warn the same way). */
static void warn_imbalanced(const kn_frame *f, const char *target)
{
    kn_class_balance cb;
    if (kn_split_class_balance(f, target, &cb) != KN_OK) {
        kn_clear_error();
        return;
    }
    if (cb.k >= 2 && cb.rows && (double)cb.smallest < 0.2 * (double)cb.rows)
        kn_log(KN_LOG_WARN,
               "the smallest class of '%s' holds %.1f %% of the rows: always answering the "
               "largest class scores an accuracy of %.3f; judge the held-out scores by "
               "balanced_accuracy, roc_auc or the positive class's recall instead",
               target, 100.0 * (double)cb.smallest / (double)cb.rows,
               (double)cb.largest / (double)cb.rows);
}

int cmd_train(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    train_args a = {0};
    int rc = parse_train(argc, argv, &o, &a);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (cli_refuse_overwrite("train", &a.out, 1, &a.data, 1, -1) != CLI_OK) return CLI_USAGE;
    kn_pipeline *p = NULL;
    if (kn_pipeline_new(&p) != KN_OK || kn_pipeline_set_target(p, a.target, a.weight) != KN_OK) {
        cli_error("%s", kn_last_error());
        kn_pipeline_free(p);
        return CLI_FAIL;
    }
    kn_model *m = NULL;
    if (kn_model_new(a.model, &m) != KN_OK) {
        cli_error("%s; 'kiln help models' lists them", kn_last_error());
        kn_pipeline_free(p);
        return CLI_USAGE;
    }
    kn_pipeline_set_model(p, m); /* p owns m from here */
    for (size_t k = 0; k < a.params.n; k++)
        if (kn_model_set(m, a.params.v[k]) != KN_OK) {
            cli_error("--param %s: %s", a.params.v[k], kn_last_error());
            kn_pipeline_free(p);
            return CLI_USAGE;
        }
    if (kn_model_validate(m) != KN_OK) { /* rules across parameters, before any work */
        cli_error("%s", kn_last_error());
        kn_pipeline_free(p);
        return CLI_FAIL;
    }
    kn_frame *f = NULL, *train = NULL, *test = NULL;
    kn_read_report rep;
    kn_status e = cli_read_frame(a.data, &o, &f, &rep);
    if (e == KN_OK) e = cli_ignore_columns(f, a.ignore);
    if (e == KN_OK) e = cli_target_rows(&f, a.target, a.drop_missing_target);
    if (e == KN_OK) e = cli_refuse_infinite(f, a.target);
    /* the task, from all rows (before the hold-out split) */
    if (e == KN_OK && a.task)
        e = kn_model_set_task(m, strcmp(a.task, "classification") ? KN_TASK_REGRESSION
                                                                  : KN_TASK_CLASSIFICATION);
    if (e == KN_OK) e = kn_model_choose_task(m, f, a.target, NULL);
    if (e == KN_OK && kn_model_task(m) == KN_TASK_CLASSIFICATION) e = positive_class_known(f, &a);
    if (e == KN_OK && a.test_size > 0)
        e = split(f, a.test_size, a.seed, a.stratify ? a.target : NULL, &train, &test);
    if (e == KN_OK && train && kn_model_task(m) == KN_TASK_CLASSIFICATION)
        e = one_class_left(train, &a);
    kn_stage_begin("fit");
    if (e == KN_OK) e = kn_pipeline_fit(p, train ? train : f, NULL);
    kn_stage_end();
    kn_scores sc = {0};
    int scored = e == KN_OK && test && kn_frame_n_rows(test) > 1;
    kn_score_opts so = {.weight = a.weight, .positive_class = a.positive_class};
    if (e == KN_OK && a.positive_class && !scored) { /* still checked: a typo is not ignored */
        size_t pos;
        e = kn_model_positive_class(m, a.positive_class, &pos);
    }
    if (scored && kn_model_task(m) == KN_TASK_CLASSIFICATION) warn_imbalanced(f, a.target);
    if (scored) e = kn_pipeline_score(p, test, &so, &sc);
    if (scored && e == KN_OK) e = kn_model_record_metrics(m, sc.rows, sc.name, sc.value, sc.n);
    if (e == KN_OK && cli_out_is_artifact(a.out)) {
        cli_train_record r = {a.out,
                              a.data,
                              a.target,
                              a.weight,
                              a.positive_class,
                              a.sign_key,
                              a.seed,
                              kn_frame_n_rows(f),
                              kn_frame_n_rows(train ? train : f),
                              test ? kn_frame_n_rows(test) : 0,
                              scored ? &sc : NULL,
                              &o};
        e = cli_write_train_artifact(p, f, train ? train : f, test, &r);
    } else if (e == KN_OK) {
        /* the reader settings, so that predict and eval read new data as
         * this data was read (format 4 .kmd files) */
        e = cli_model_keep_read(m, &o, f);
        if (e == KN_OK) e = kn_model_save(m, a.out);
    }
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "command", "train", "input",
                      a.data, "model", a.model, "task", task_name(m), "target", a.target, "output",
                      a.out, "train_rows", (json_int_t)kn_frame_n_rows(train ? train : f),
                      "features", (json_int_t)kn_model_n_features(m));
        if (scored) json_object_set_new(j, "test", cli_scores_json(&sc));
        json_t *coef = coefficients_json(m), *imp = importances_json(m);
        if (coef) json_object_set_new(j, "coefficients", coef);
        if (imp) json_object_set_new(j, "importances", imp);
        json_t *sum = summary_json(m);
        if (sum) json_object_set_new(j, "summary", sum);
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else {
        printf("trained %s (%s) on %zu rows x %zu features; saved to %s\n", a.model, task_name(m),
               kn_frame_n_rows(train ? train : f), kn_model_n_features(m), a.out);
        print_summary(m);
        if (scored) cli_print_scores("held-out test", &sc);
    }
    kn_scores_free(&sc);
    kn_frame_free(train);
    kn_frame_free(test);
    kn_frame_free(f);
    kn_pipeline_free(p);
    return rc;
}
