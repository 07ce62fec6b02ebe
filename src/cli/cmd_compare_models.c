/* kiln compare models: two or more models (or run specs' pipelines) on the
 * same folds, with paired significance tests (kiln/sigtest.h) and a verdict
 * in words. The cross-validation is kn_cv_run's (steps fitted inside each
 * fold); every model gets the same split, seed and metric. */
#include "cli/cli.h"
#include "cli/cli_cv.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"
#include "kiln/prep_spec.h"
#include "kiln/sigtest.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cmp_args {
    const char *data, *target, *metric, *ignore, *positive_class;
    cli_list models, specs, steps;
    int64_t folds, repeats, jobs;
    uint64_t seed;
    double test_fraction, alpha;
    int drop_missing_target;
    kn_read_opts read;
} cmp_args;

static const cli_opt cmp_opts[] = {
    CLI_OPT_NEED(cmp_args, data, "data", "FILE", "the data"),
    CLI_OPT_TEXT(cmp_args, target, "target", "COLUMN",
                 "the column to predict (default: the specs' target)"),
    CLI_OPT_LIST(cmp_args, models, "model", "NAME[:p=v;...]",
                 "a model and its parameters ('kiln help models')"),
    CLI_OPT_LIST(cmp_args, specs, "spec", "FILE.yaml",
                 "a run spec: its steps and model (its sources are not read)"),
    CLI_OPT_LIST(cmp_args, steps, "step", "NAME[:p=v;...]",
                 "a step for every --model, fitted inside each fold"),
    CLI_OPT_TEXT(cmp_args, metric, "metric", "NAME",
                 "the score compared (default: accuracy for classes, r2 otherwise)"),
    CLI_OPT_INT(cmp_args, folds, "folds", "K", "5", 2, 1000, "folds of the repeated k-fold CV"),
    CLI_OPT_INT(cmp_args, repeats, "repeats", "R", "2", 1, 1000,
                "repetitions of the k-fold CV (new shuffles)"),
    CLI_OPT_SEED(cmp_args, seed, "seed", "0", "seed of every shuffle and split"),
    CLI_OPT_NUM(cmp_args, test_fraction, "test-fraction", "F", "0.25", 0.01, 0.9,
                "classifiers: the held-out share McNemar's test is run on"),
    CLI_OPT_NUM(cmp_args, alpha, "alpha", "P", "0.05", 1e-12, 0.5,
                "the significance level of the verdicts"),
    CLI_OPT_INT(cmp_args, jobs, "jobs", "J", NULL, 1, 1024, "folds run J at a time"),
    CLI_OPT_TEXT(cmp_args, ignore, "ignore", "COLUMNS", "columns that are not features (a,b)"),
    CLI_OPT_TEXT(cmp_args, positive_class, "positive-class", "LABEL",
                 "the positive class of a binary target"),
    CLI_OPT_FLAG(cmp_args, drop_missing_target, "drop-missing-target",
                 "leave out rows whose target is missing"),
    CLI_OPT_READ(cmp_args, read),
    CLI_OPT_END};

const cli_spec compare_models_spec = {
    "compare models",
    "compare models on the same folds, with significance tests",
    "Cross-validate every --model (or --spec's pipeline) on the same folds:\n"
    "R repetitions of K-fold (stratified for classifiers, shuffled by --seed),\n"
    "then five repetitions of 2-fold, and for classifiers a held-out share\n"
    "(--test-fraction) after fitting on the rest. Prints each model's score per\n"
    "fold and mean +- std (population std), and for each pair of models:\n"
    "  corrected t   Nadeau and Bengio's corrected resampled t-test over the\n"
    "                R x K fold scores (the usual paired t-test is too\n"
    "                eager: the folds' training rows overlap);\n"
    "  5x2cv t       Dietterich's 5x2-fold paired t-test;\n"
    "  McNemar       classifiers: rows only one of the two got right on the\n"
    "                held-out rows, exact binomial p-value (and the\n"
    "                continuity-corrected chi-square); it tests accuracy,\n"
    "                whatever --metric says;\n"
    "each with its two-sided p-value and a verdict: \"A is better than B\n"
    "(p=...)\" when p < --alpha, else \"no evidence of a difference\".\n"
    "Decide by the evidence, not by the larger mean.\n",
    "  kiln compare models --data wine.csv --target class \\\n"
    "      --model logistic_regression --model 'decision_tree:max_depth=2' --step standard_scaler\n"
    "  kiln compare models --data loans.csv --spec gbdt.yaml --spec logistic.yaml --json\n",
    cmp_opts,
    0,
    cmd_compare_models};

/* One contender: a display name, its model, parameters and steps. */
typedef struct contender {
    char *label;
    char *model;
    const char **params;
    size_t n_params;
    const char **steps;
    size_t n_steps;
    double *cv, *cv52; /* R*K and 10 scores */
    double mean, std, ratio;
    int hib;          /* the metric: 1 higher is better */
    int *right;       /* held-out rows classified right */
    kn_pipeline *ens; /* a spec's ensemble: (members and method), or NULL */
} contender;

static void contender_free(contender *c)
{
    free(c->label);
    free(c->model);
    for (size_t i = 0; c->params && i < c->n_params; i++) free((void *)c->params[i]);
    free(c->params);
    for (size_t i = 0; c->steps && i < c->n_steps; i++) free((void *)c->steps[i]);
    free(c->steps);
    free(c->cv);
    free(c->cv52);
    free(c->right);
    kn_pipeline_free(c->ens);
}

static char *dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

/* "NAME[:p=v;p=v]" into c (steps: the shared --step list). */
static kn_status from_model_arg(const char *arg, const cli_list *steps, contender *c)
{
    char *buf = dup(arg), *colon = buf ? strchr(buf, ':') : NULL;
    if (!buf) return KN_ERR_NOMEM;
    if (colon) *colon = '\0';
    c->label = dup(arg);
    c->model = dup(buf);
    c->params = calloc(strlen(arg) + 1, sizeof *c->params);
    c->steps = calloc(steps->n + 1, sizeof *c->steps);
    kn_status e = c->label && c->model && c->params && c->steps ? KN_OK : KN_ERR_NOMEM;
    for (char *p = colon ? colon + 1 : NULL, *next; e == KN_OK && p && *p; p = next) {
        next = strchr(p, ';');
        if (next) *next++ = '\0';
        if (*p && !(c->params[c->n_params++] = dup(p))) e = KN_ERR_NOMEM;
    }
    for (size_t i = 0; e == KN_OK && i < steps->n; i++)
        if (!(c->steps[c->n_steps++] = dup(steps->v[i]))) e = KN_ERR_NOMEM;
    free(buf);
    return e;
}

/* A run spec's steps and model into c; *target the spec's target (borrowed
 * until freed: copied into c->label's spec). */
static kn_status from_spec(const char *path, uint64_t seed, contender *c, char **target)
{
    kn_prep_spec *s = NULL;
    kn_status e = kn_prep_spec_load(path, &s);
    if (e != KN_OK) return e;
    if (!s->model.name) {
        kn_prep_spec_free(s);
        return kn_fail(KN_ERR_INVALID, "%s: the spec has no model: (a run spec is needed)", path);
    }
    c->label = dup(path);
    c->model = dup(s->model.name);
    c->params = calloc(s->model.n_params + 1, sizeof *c->params);
    c->steps = calloc(s->n_steps + 1, sizeof *c->steps);
    e = c->label && c->model && c->params && c->steps ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < s->model.n_params; i++)
        if (!(c->params[c->n_params++] = dup(s->model.params[i]))) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < s->n_steps; i++) {
        const kn_spec_step *st = &s->steps[i];
        size_t len = strlen(st->name) + 2;
        for (size_t j = 0; j < st->n_params; j++) len += strlen(st->params[j]) + 1;
        char *t = malloc(len);
        if (!t) {
            e = KN_ERR_NOMEM;
            break;
        }
        strcpy(t, st->name);
        for (size_t j = 0; j < st->n_params; j++) {
            strcat(t, j ? ";" : ":");
            strcat(t, st->params[j]);
        }
        c->steps[c->n_steps++] = t;
    }
    if (e == KN_OK && s->target && !*target && !(*target = dup(s->target))) e = KN_ERR_NOMEM;
    if (e == KN_OK && s->ensemble.method) e = kn_prep_spec_ensemble(s, seed, &c->ens);
    kn_prep_spec_free(s);
    return e;
}

static kn_status cv_scores(const kn_frame *f, const cmp_args *a, const char *target,
                           const char *metric, contender *c, size_t folds, size_t repeats,
                           double **out, double *mean, double *std, double *ratio)
{
    kn_cv_spec s = {.model = c->model,
                    .params = c->params,
                    .n_params = c->n_params,
                    .steps = c->steps,
                    .n_steps = c->n_steps,
                    .target = target,
                    .threads = (int)a->jobs,
                    .positive_class = a->positive_class,
                    .metrics = &metric,
                    .n_metrics = 1,
                    .skip_train_scores = 1,
                    .ensemble = c->ens};
    kn_split_opts_default(&s.split);
    s.split.kind = KN_SPLIT_AUTO;
    s.split.folds = folds;
    s.split.repeats = repeats;
    s.split.shuffle = 1;
    s.split.seed = a->seed;
    kn_cv_result r = {0};
    kn_status e = kn_cv_run(f, &s, &r);
    if (e != KN_OK) return kn_fail_prefix(e, "%s: ", c->label);
    double *v = malloc(r.k * sizeof *v), tr = 0, te = 0;
    if (!v) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < r.k; i++) {
        v[i] = r.score[i * r.n_scores];
        tr += (double)r.n_train[i];
        te += (double)r.n_test[i];
    }
    if (e == KN_OK) {
        *out = v;
        if (mean) *mean = r.mean[0], *std = r.std[0];
        if (ratio) *ratio = te / tr;
        c->hib = r.higher_is_better[0];
    }
    kn_cv_result_free(&r);
    return e;
}

/* Fit c on train, and mark which test rows it classifies right. */
static kn_status heldout(const kn_frame *train, const kn_frame *test, const char *target,
                         contender *c)
{
    kn_pipeline *p = NULL;
    double *pred = NULL;
    size_t n = 0, j = 0;
    kn_status e = kn_pipeline_new(&p);
    for (size_t i = 0; e == KN_OK && i < c->n_steps; i++)
        e = kn_pipeline_add_step_spec(p, c->steps[i]);
    if (e == KN_OK) e = kn_pipeline_set_model_spec(p, c->model, c->params, c->n_params);
    for (size_t i = 0; e == KN_OK && c->ens && i < kn_pipeline_n_members(c->ens); i++) {
        kn_pipeline *m = NULL; /* a spec's ensemble: copies of its members */
        e = kn_pipeline_clone(kn_pipeline_member(c->ens, i), 0, &m);
        if (e == KN_OK) e = kn_pipeline_add_member(p, m);
    }
    if (e == KN_OK && c->ens) /* (a vote's model: the same member_vote again) */
        e = kn_pipeline_set_ensemble(p, kn_pipeline_ensemble(c->ens), kn_pipeline_folds(c->ens),
                                     kn_pipeline_seed(c->ens));
    if (e == KN_OK) e = kn_pipeline_set_target(p, target, NULL);
    if (e == KN_OK) e = kn_pipeline_fit(p, train, NULL);
    if (e == KN_OK) e = kn_pipeline_predict(p, test, &pred, &n);
    if (e == KN_OK) e = kn_frame_find(test, target, &j);
    if (e == KN_OK && !(c->right = calloc(n ? n : 1, sizeof *c->right))) e = KN_ERR_NOMEM;
    const kn_model *m = e == KN_OK ? kn_pipeline_model(p) : NULL;
    kn_column *t = e == KN_OK ? kn_frame_col(test, j) : NULL;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        const char *label = kn_model_class(m, (size_t)pred[i]);
        if (kn_column_type(t) == KN_COL_CATEGORICAL) {
            int32_t code = kn_column_codes(t)[i];
            c->right[i] = code >= 0 && !strcmp(kn_column_level(t, code, NULL), label);
        } else
            c->right[i] = strtod(label, NULL) == kn_column_f64(t)[i];
    }
    kn_free(pred);
    kn_pipeline_free(p);
    return e == KN_OK ? KN_OK : kn_fail_prefix(e, "%s: held-out fit: ", c->label);
}

/* The verdict of a test on "a - b" (positive: a better). */
static void verdict(char *buf, size_t len, const char *a, const char *b, double diff, double p,
                    double alpha)
{
    if (p < alpha && diff != 0)
        snprintf(buf, len, "%s is better than %s (p=%.3g)", diff > 0 ? a : b, diff > 0 ? b : a, p);
    else
        snprintf(buf, len, "no evidence of a difference (p=%.3g)", p);
}

static int task_is_classification(const kn_frame *f, const char *target, const contender *c)
{
    kn_model *m = NULL;
    int cls = 0;
    if (kn_model_new(c->model, &m) != KN_OK) return 0;
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < c->n_params; i++) e = kn_model_set(m, c->params[i]);
    if (e == KN_OK && kn_model_choose_task(m, f, target, NULL) == KN_OK)
        cls = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    kn_model_free(m);
    return cls;
}

int cmd_compare_models(int argc, char **argv)
{
    cmp_args a = {0};
    int rc = cli_parse(&compare_models_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    size_t n = a.models.n + a.specs.n;
    if (n < 2)
        return cli_usage_error("compare models",
                               "give two or more models to compare (--model NAME, --spec "
                               "FILE.yaml; got %zu)",
                               n);
    if (a.specs.n && a.steps.n)
        return cli_usage_error("compare models", "--step goes with --model; a --spec brings its "
                                                 "own steps");
    contender *c = calloc(n, sizeof *c);
    char *target = a.target ? dup(a.target) : NULL;
    kn_frame *f = NULL, *train = NULL, *test = NULL;
    kn_status e = c ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < a.models.n; i++)
        e = from_model_arg(a.models.v[i], &a.steps, &c[i]);
    for (size_t i = 0; e == KN_OK && i < a.specs.n; i++)
        e = from_spec(a.specs.v[i], (uint64_t)a.seed, &c[a.models.n + i], &target);
    if (e == KN_OK && !target)
        e = kn_fail(KN_ERR_INVALID, "compare models: name the target (--target COLUMN)");
    cv_args ca = {.data = a.data, .ignore = a.ignore, .drop_missing_target = a.drop_missing_target};
    ca.spec.target = target;
    kn_read_opts o = a.read;
    if (e == KN_OK) e = cli_cv_frame(&ca, &o, &f);
    int classes = e == KN_OK && task_is_classification(f, target, &c[0]);
    const char *metric = a.metric ? a.metric : classes ? "accuracy" : "r2";
    size_t k = (size_t)a.folds, reps = (size_t)a.repeats;
    kn_stage_begin("compare");
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        e = cv_scores(f, &a, target, metric, &c[i], k, reps, &c[i].cv, &c[i].mean, &c[i].std,
                      &c[i].ratio);
        if (e == KN_OK)
            e = cv_scores(f, &a, target, metric, &c[i], 2, 5, &c[i].cv52, NULL, NULL, NULL);
    }
    size_t n_test = 0;
    if (e == KN_OK && classes) { /* one held-out share, stratified */
        int32_t *labels = NULL;
        size_t nl = 0, *parts[2] = {NULL, NULL}, sizes[2];
        double shares[2] = {1 - a.test_fraction, a.test_fraction};
        e = kn_split_labels(f, target, &labels, &nl);
        if (e == KN_OK)
            e = kn_split_shares(kn_frame_n_rows(f), labels, shares, 2, a.seed, parts, sizes);
        if (e == KN_OK) e = kn_frame_select_rows(f, parts[0], sizes[0], &train);
        if (e == KN_OK) e = kn_frame_select_rows(f, parts[1], sizes[1], &test);
        n_test = e == KN_OK ? sizes[1] : 0;
        for (size_t i = 0; e == KN_OK && i < n; i++) e = heldout(train, test, target, &c[i]);
        kn_free(labels), kn_free(parts[0]), kn_free(parts[1]);
    }
    kn_stage_end();
    if (e != KN_OK) {
        cli_error("compare models: %s", kn_last_error());
        rc = CLI_FAIL;
        goto done;
    }
    size_t kk = k * reps;
    json_t *jm = json_array(), *jc = json_array();
    if (!cli.json) {
        printf("%s on %s (target %s), %zu x %zu-fold CV, seed %llu\n", metric, a.data, target, reps,
               k, (unsigned long long)a.seed);
        printf("%-32s %20s  %s\n", "model", "mean +- std", "per fold");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *folds = json_array(), *f52 = json_array();
        for (size_t j = 0; j < kk; j++) json_array_append_new(folds, json_real(c[i].cv[j]));
        for (size_t j = 0; j < 10; j++) json_array_append_new(f52, json_real(c[i].cv52[j]));
        json_array_append_new(jm, json_pack("{s:s, s:o, s:o, s:o, s:o, s:f}", "name", c[i].label,
                                            "mean", cli_json_num(c[i].mean), "std",
                                            cli_json_num(c[i].std), "folds", folds, "folds_5x2",
                                            f52, "test_train_ratio", c[i].ratio));
        if (!cli.json) {
            char ms[64];
            snprintf(ms, sizeof ms, "%.4f +- %.4f", c[i].mean, c[i].std);
            printf("%-32s %20s ", c[i].label, ms);
            for (size_t j = 0; j < kk; j++) printf(" %.4f", c[i].cv[j]);
            putchar('\n');
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const char *A = c[i].label, *B = c[j].label;
            kn_paired_test nb, t52;
            char v1[512], v2[512], v3[512] = "";
            kn_status e1 =
                kn_paired_ttest(c[i].cv, c[j].cv, kk, (c[i].ratio + c[j].ratio) / 2, &nb);
            kn_status e2 = e1 == KN_OK ? kn_ttest_5x2cv(c[i].cv52, c[j].cv52, &t52) : e1;
            if (e2 != KN_OK) {
                cli_error("compare models: %s vs %s: %s", A, B, kn_last_error());
                rc = CLI_FAIL;
                continue;
            }
            verdict(v1, sizeof v1, A, B, c[i].hib ? nb.mean_diff : -nb.mean_diff, nb.p_value,
                    a.alpha);
            verdict(v2, sizeof v2, A, B, c[i].hib ? t52.t : -t52.t, t52.p_value, a.alpha);
            json_t *tests = json_pack(
                "{s:{s:o, s:f, s:o, s:o, s:s}, s:{s:o, s:f, s:o, s:s}}", "corrected_t", "t",
                cli_json_num(nb.t), "df", nb.df, "mean_diff", cli_json_num(nb.mean_diff), "p",
                cli_json_num(nb.p_value), "verdict", v1, "t_5x2cv", "t", cli_json_num(t52.t), "df",
                t52.df, "p", cli_json_num(t52.p_value), "verdict", v2);
            kn_mcnemar_test mc = {0};
            if (classes) {
                size_t only_a = 0, only_b = 0;
                for (size_t r = 0; r < n_test; r++) {
                    only_a += (size_t)(c[i].right[r] && !c[j].right[r]);
                    only_b += (size_t)(!c[i].right[r] && c[j].right[r]);
                }
                kn_mcnemar(only_a, only_b, &mc);
                verdict(v3, sizeof v3, A, B, (double)only_a - (double)only_b, mc.p_exact, a.alpha);
                json_object_set_new(tests, "mcnemar",
                                    json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:s}", "metric",
                                              "accuracy", "test_rows", (json_int_t)n_test, "a_only",
                                              (json_int_t)only_a, "b_only", (json_int_t)only_b,
                                              "statistic", cli_json_num(mc.statistic), "p_chi2",
                                              cli_json_num(mc.p_chi2), "p",
                                              cli_json_num(mc.p_exact), "verdict", v3));
            }
            json_array_append_new(jc, json_pack("{s:s, s:s, s:o}", "a", A, "b", B, "tests", tests));
            if (!cli.json) {
                printf("\n%s vs %s\n", A, B);
                printf("  corrected t  t=%-8.3f df=%-3.0f p=%-10.4g %s\n", nb.t, nb.df, nb.p_value,
                       v1);
                printf("  5x2cv t      t=%-8.3f df=%-3.0f p=%-10.4g %s\n", t52.t, t52.df,
                       t52.p_value, v2);
                if (classes)
                    printf("  McNemar      %zu vs %zu of %zu held-out rows right only by one; "
                           "p=%.4g (chi2 %.3f, p=%.4g) %s\n",
                           mc.a_only, mc.b_only, n_test, mc.p_exact, mc.statistic, mc.p_chi2, v3);
                if (classes && strcmp(metric, "accuracy"))
                    printf(
                        "               (McNemar counts rows right and wrong: it tests accuracy, "
                        "not %s)\n",
                        metric);
            }
        }
    if (cli.json) {
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:o, s:o}", "command",
                      "compare models", "input", a.data, "target", target, "metric", metric,
                      "folds", (json_int_t)k, "repeats", (json_int_t)reps, "seed",
                      (json_int_t)a.seed, "alpha", a.alpha, "models", jm, "comparisons", jc);
        json_object_set_new(j, "stages", cli_stages_json());
        if (cli_emit_json(j) != CLI_OK) rc = CLI_FAIL;
    } else {
        json_decref(jm);
        json_decref(jc);
    }
done:
    for (size_t i = 0; c && i < n; i++) contender_free(&c[i]);
    free(c);
    free(target);
    kn_frame_free(f), kn_frame_free(train), kn_frame_free(test);
    return rc;
}
