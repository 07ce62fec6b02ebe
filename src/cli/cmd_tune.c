/* kiln tune: hyperparameter search over a space file, each trial
 * cross-validated as kiln cv does; the best configuration refitted and
 * scored once on held-out rows, or a nested-CV estimate. */
#include "cli/cli_cv.h"
#include "cli/train_artifact.h"
#include "cli/tune_holdout.h"
#include "kiln/ctx.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/param.h"
#include "kiln/pipeline.h"
#include "kiln/registry.h"
#include "kiln/split.h"
#include "kiln/stage.h"
#include "kiln/store.h"
#include "kiln/tune.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tune_args {
    cv_args cv; /* first: the shared options' offsets hold */
    const char *space, *strategy, *metric, *resource, *trials_file, *resume, *out;
    int64_t trials, outer_folds;
    double max_time, max_cost, test_fraction, eta;
    int nested, prune;
} tune_args;

static const cli_opt tune_opts[] = {
    CV_OPTS_COMMON_WITH("seeds the search's trials, the held-out rows and the folds' shuffle "
                        "(implies --shuffle; group and time-series folds stay unshuffled)",
                        "trials run J at a time (default 1), sharing --threads among them"),
    CLI_OPT_NEED(tune_args, space, "space", "FILE", "the search space (YAML, see above)"),
    CLI_OPT_CHOICE(tune_args, strategy, "strategy", "random|grid|tpe|halving|hyperband",
                   "how configurations are chosen (default random)"),
    CLI_OPT_INT(tune_args, trials, "trials", "N", NULL, 0, 1e9,
                "at most N trials (default 20; grid: the whole grid; halving: first-rung "
                "configurations; hyperband: at most the first bracket's configurations, all "
                "brackets together run more, see above)"),
    CLI_OPT_NUM(tune_args, max_time, "max-time", "SECONDS", "0", 0, 1e12,
                "start no trial after SECONDS (0: no limit)"),
    CLI_OPT_NUM(tune_args, max_cost, "max-cost", "USD", "0", 0, 1e12,
                "start no trial once the trials' estimated cost reaches USD (0: no limit)"),
    CLI_OPT_TEXT(tune_args, metric, "metric", "NAME",
                 "the score to optimise (default: accuracy or rmse, the task's first)"),
    CLI_OPT_TEXT(tune_args, resource, "resource", "PARAM|rows",
                 "halving, hyperband: what grows between rungs (default n_estimators, else "
                 "rows)"),
    CLI_OPT_NUM(tune_args, eta, "eta", "F", "3", 1.5, 100,
                "halving, hyperband: rung growth factor"),
    CLI_OPT_NUM(tune_args, test_fraction, "test-fraction", "F", "0.2", 0, 0.9,
                "rows held out to score the refitted best once (0: none)"),
    CLI_OPT_FLAG(tune_args, prune, "prune",
                 "stop a trial after a fold where its running mean is worse than the median "
                 "of the earlier trials' (not halving or hyperband)"),
    CLI_OPT_FLAG(tune_args, nested, "nested",
                 "estimate the tuned model by nested CV (the search inside each outer fold)"),
    CLI_OPT_INT(tune_args, outer_folds, "outer-folds", "K", "3", 2, 1000,
                "with --nested: outer folds"),
    CLI_OPT_TEXT(tune_args, trials_file, "trials-file", "FILE",
                 "append each finished trial to FILE (JSON Lines)"),
    CLI_OPT_TEXT(tune_args, resume, "resume", "FILE",
                 "continue the search whose trials FILE holds (and append to it)"),
    CLI_OPT_TEXT(tune_args, out, "out", "FILE.kiln", "save the refitted best pipeline"),
    CLI_OPT_END};

const cli_spec tune_spec = {
    "tune",
    "search hyperparameters by cross-validation (grid, random, TPE, halving, hyperband)",
    "Search a model's hyperparameters: each trial cross-validates one configuration\n"
    "as 'kiln cv' does (the --step steps fitted inside each fold), and the best\n"
    "mean score wins. The space file maps parameters to their values:\n"
    "\n"
    "    learning_rate: {log: [0.01, 0.3]}       # log-uniform\n"
    "    max_depth: {int: [2, 8]}                # integers, ends included\n"
    "    subsample: {uniform: [0.5, 1], grid: 3} # grid: its points for --strategy grid\n"
    "    objective: {choice: [squared_error, huber]}\n"
    "    huber_quantile: {uniform: [0.5, 0.99], when: objective=huber}\n"
    "\n"
    "and is checked against the model's parameters before any trial runs. By\n"
    "default a --test-fraction of the rows (stratified for a classifier) is held\n"
    "out first: the search sees only the rest, the best configuration is refitted\n"
    "on all of it and scored once on the held-out rows, the honest estimate.\n"
    "With --time-series the held-out rows are the last in time (after --gap\n"
    "rows), with --groups whole groups, and --nested's outer folds split the same\n"
    "way; the --groups and --order-by columns are no features of the refit.\n"
    "--nested runs the whole search inside each of --outer-folds folds instead.\n"
    "\n"
    "Strategies: random (default), grid (every combination), tpe (a tree-\n"
    "structured Parzen estimator: 10 random trials, then configurations drawn,\n"
    "all parameters together, where the best tenth of the trials lie), halving\n"
    "(successive halving: --trials random configurations on a small resource, the\n"
    "best 1/eta of each rung go on with eta times more n_estimators or rows; a\n"
    "share of rows is a seeded random sample of each fold's training rows) and\n"
    "hyperband (Li et al. 2017: brackets of halving, s = s_max..0, where s_max + 1\n"
    "is the rungs halving would run --trials configurations on; bracket s starts\n"
    "ceil((s_max + 1) / (s + 1) * eta^s) configurations at the largest resource /\n"
    "eta^s, so --trials bounds the first bracket's; the best at the largest\n"
    "resource, over all brackets, wins).\n"
    "--seed seeds the folds' shuffle and the search: the same seed gives the same\n"
    "trials and the same results for any --jobs (with --time-series or --groups it\n"
    "seeds the search and which groups are held out; those folds are never\n"
    "shuffled).\n"
    "With rows held out (--test-fraction, default 0.2) the k-fold and stratified\n"
    "folds over the rest are shuffled too (seed 0 unless --seed), as the held-out\n"
    "rows are drawn at random: folds in file order misjudge a sorted file.\n"
    "--jobs runs trials at a time (each trial's folds then on one thread).\n"
    "--max-time stops starting trials; SIGINT or SIGTERM lets the running trials\n"
    "finish and reports those done (a second one stops at once). With --trials-file\n"
    "each finished trial is appended as a JSON line; --resume FILE reads them back\n"
    "and runs only the missing trials (random and tpe: a larger --trials extends\n"
    "the search).\n"
    "\n"
    "--prune (off by default: every trial is then fully cross-validated) stops a\n"
    "trial after fold k when the mean of its first k fold scores is worse than the\n"
    "median of the same mean over the trials with smaller numbers that ran fold k\n"
    "(at least 5 of them; never after the last fold). A trial waits for the\n"
    "smaller-numbered ones to pass fold k, so pruning gives the same trials on any\n"
    "--jobs. A pruned trial is listed as pruned with the folds it ran, and is never\n"
    "the best.\n"
    "\n"
    "Each trial's cost is estimated as a run's is: its CPU hours at the core-hour\n"
    "price plus memory GB-hours at the GB-hour price ($KILN_PRICE_CORE_HOUR,\n"
    "$KILN_PRICE_GB_HOUR, as for the store's runs). --max-cost starts no trial once\n"
    "the finished trials' costs reach USD (like --max-time, it depends on the\n"
    "machine, so it is not reproducible).\n",
    "  kiln tune --data train.csv --target y --model gbdt --space space.yaml \\\n"
    "      --strategy tpe --trials 50 --folds 5 --seed 1\n"
    "  kiln tune --data train.csv --target y --model gbdt --space grid.yaml \\\n"
    "      --strategy grid --jobs 2 --trials-file trials.jsonl --json\n",
    tune_opts,
    0,
    cmd_tune};

/* ---- the trials file: a header line, then one line per trial ---- */

typedef struct trials_sink {
    FILE *fp;
    const char *path;
    int hyperband; /* each line has its bracket */
} trials_sink;

static json_t *trial_json(const kn_tune_trial *t, int with_verdict, int hyperband)
{
    json_t *params = json_object();
    for (size_t i = 0; i < t->n_params; i++) {
        const char *eq = strchr(t->params[i], '=');
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - t->params[i]), t->params[i]);
        json_object_set_new(params, name, json_string(eq + 1));
    }
    const char *status = t->status == KN_TRIAL_OK       ? "ok"
                         : t->status == KN_TRIAL_PRUNED ? "pruned"
                                                        : "failed";
    json_t *j =
        json_pack("{s:I, s:o, s:s, s:o, s:o, s:o, s:f}", "trial", (json_int_t)t->id, "params",
                  params, "status", status, "score", cli_json_num(t->score), "std",
                  cli_json_num(t->std), "train", cli_json_num(t->train), "seconds", t->seconds);
    json_object_set_new(j, "baseline", cli_json_num(t->baseline));
    json_object_set_new(j, "cpu_seconds", json_real(t->cpu_seconds));
    json_object_set_new(j, "cost", json_real(t->cost));
    if (t->resource > 0) {
        if (hyperband) json_object_set_new(j, "bracket", json_integer((json_int_t)t->bracket));
        json_object_set_new(j, "rung", json_integer((json_int_t)t->rung));
        json_object_set_new(j, "resource", json_real(t->resource));
    }
    if (t->error) json_object_set_new(j, "error", json_string(t->error));
    if (t->fold_score) {
        json_t *folds = json_array();
        for (size_t i = 0; i < t->n_folds; i++)
            json_array_append_new(folds, cli_json_num(t->fold_score[i]));
        json_object_set_new(j, "folds", folds);
    }
    if (with_verdict && t->verdict_text && *t->verdict_text)
        json_object_set_new(j, "verdict",
                            json_pack("{s:s, s:s}", "fit", kn_fit_verdict_name(t->verdict),
                                      "evidence", t->verdict_text));
    return j;
}

static json_t *header_json(const tune_args *a)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I}", "kiln_tune", 1, "model",
                     a->cv.spec.model, "target", a->cv.spec.target, "strategy",
                     a->strategy ? a->strategy : "random", "space", a->space, "seed",
                     (json_int_t)a->cv.seed, "trials", (json_int_t)a->trials);
}

/* The header with what changes the trials beyond header_json's keys. */
static json_t *header_json_full(const tune_args *a)
{
    json_t *h = header_json(a);
    json_object_set_new(h, "prune", json_boolean(a->prune));
    return h;
}

/* The best trial's verdict, as the trials file keeps it. */
static kn_status read_verdict(const json_t *v, kn_tune_trial *t)
{
    const char *fit = json_string_value(json_object_get(v, "fit"));
    const char *why = json_string_value(json_object_get(v, "evidence"));
    if (!fit || !why) return KN_OK;
    const kn_fit_verdict all[] = {KN_FIT_UNKNOWN, KN_FIT_FINE, KN_FIT_OVER, KN_FIT_UNDER};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!strcmp(fit, kn_fit_verdict_name(all[i]))) t->verdict = all[i];
    char *text = kn_strdup(why);
    if (!text) return KN_ERR_NOMEM;
    kn_free(t->verdict_text);
    t->verdict_text = text;
    return KN_OK;
}

/* A trial line's per-fold scores. */
static kn_status read_folds(const json_t *folds, kn_tune_trial *t)
{
    size_t n = json_array_size(folds);
    if (!n) return KN_OK;
    double *v = kn_malloc(n * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(folds, i);
        v[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    kn_status e = kn_tune_trial_set_folds(t, v, n);
    kn_free(v);
    return e;
}

/* Read a trials file back: the header must match this search; a last line
 * cut short (a kill mid-write) is left out. */
static kn_status read_trials(const tune_args *a, const kn_tune_space *sp, kn_tune_trial **out,
                             size_t *n, char **metric, int *hib, long *whole)
{
    FILE *fp = fopen(a->resume, "r");
    if (!fp) return kn_fail(KN_ERR_IO, "%s: cannot open the trials file to resume", a->resume);
    char *line = NULL;
    size_t cap = 0, lineno = 0, have = 0, room = 0;
    ssize_t len;
    *whole = 0;
    kn_status e = KN_OK;
    kn_tune_trial *v = NULL;
    json_t *want = header_json(a);
    while (e == KN_OK && (len = getline(&line, &cap, fp)) > 0) {
        lineno++;
        if (line[len - 1] != '\n') break; /* cut short */
        *whole = ftell(fp);
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        if (!j) {
            e = kn_fail(KN_ERR_PARSE, "%s:%zu: not JSON: %s", a->resume, lineno, err.text);
            break;
        }
        if (lineno == 1) {
            const char *keys[] = {"kiln_tune", "model", "target", "strategy", "seed", "trials"};
            /* random and TPE trials do not depend on the budget: it may grow */
            int grow =
                !a->strategy || !strcmp(a->strategy, "random") || !strcmp(a->strategy, "tpe");
            for (size_t k = 0; e == KN_OK && k < sizeof keys / sizeof *keys; k++)
                if (!(grow && !strcmp(keys[k], "trials")) &&
                    !json_equal(json_object_get(j, keys[k]), json_object_get(want, keys[k])))
                    e = kn_fail(KN_ERR_INVALID,
                                "%s: written by another search (its %s differs): resume with "
                                "the same --model, --target, --strategy, --trials and --seed",
                                a->resume, keys[k]);
            if (e == KN_OK && json_is_true(json_object_get(j, "prune")) != a->prune)
                e = kn_fail(KN_ERR_INVALID,
                            "%s: written by a search %s --prune: resume it %s --prune", a->resume,
                            a->prune ? "without" : "with", a->prune ? "without" : "with");
            json_decref(j);
            continue;
        }
        json_t *params = json_object_get(j, "params");
        const char *key;
        json_t *val;
        size_t np = 0;
        char **kv = kn_calloc(json_object_size(params) + 1, sizeof *kv);
        if (!kv) e = KN_ERR_NOMEM;
        json_object_foreach(params, key, val)
        {
            if (e != KN_OK || !json_is_string(val)) continue;
            size_t l = strlen(key) + strlen(json_string_value(val)) + 2;
            if (!(kv[np] = kn_malloc(l))) {
                e = KN_ERR_NOMEM;
                continue;
            }
            snprintf(kv[np++], l, "%s=%s", key, json_string_value(val));
        }
        json_t *id = json_object_get(j, "trial");
        if (e == KN_OK && (!json_is_integer(id) || !json_is_object(params)))
            e = kn_fail(KN_ERR_PARSE, "%s:%zu: a trial line needs \"trial\" and \"params\"",
                        a->resume, lineno);
        if (e == KN_OK && have == room) {
            room = room ? room * 2 : 16;
            kn_tune_trial *t = kn_realloc(v, room * sizeof *t);
            if (!t)
                e = KN_ERR_NOMEM;
            else
                v = t;
        }
        const char *status = json_string_value(json_object_get(j, "status"));
        if (e == KN_OK) {
            json_t *sc = json_object_get(j, "score");
            e = kn_tune_trial_from_text(
                sp, (size_t)json_integer_value(id), (const char *const *)kv, np,
                json_is_number(sc) ? json_number_value(sc) : NAN,
                json_number_value(json_object_get(j, "std")),
                json_is_number(json_object_get(j, "train"))
                    ? json_number_value(json_object_get(j, "train"))
                    : NAN,
                json_number_value(json_object_get(j, "seconds")),
                status && !strcmp(status, "ok") ? KN_TRIAL_OK : KN_TRIAL_FAILED,
                (size_t)json_integer_value(json_object_get(j, "rung")),
                json_number_value(json_object_get(j, "resource")), &v[have]);
            if (e == KN_OK) {
                if (status && !strcmp(status, "pruned")) v[have].status = KN_TRIAL_PRUNED;
                v[have].bracket = (size_t)json_integer_value(json_object_get(j, "bracket"));
                v[have].cpu_seconds = json_number_value(json_object_get(j, "cpu_seconds"));
                v[have].cost = json_number_value(json_object_get(j, "cost"));
                json_t *base = json_object_get(j, "baseline"); /* absent before session 19 */
                v[have].baseline = json_is_number(base) ? json_number_value(base) : NAN;
                e = read_folds(json_object_get(j, "folds"), &v[have]);
                if (e != KN_OK) kn_tune_trial_release(&v[have]);
            }
            if (e != KN_OK)
                e = kn_fail_prefix(e, "%s:%zu: ", a->resume, lineno);
            else
                e = read_verdict(json_object_get(j, "verdict"), &v[have++]);
        }
        const char *m = json_string_value(json_object_get(j, "metric"));
        if (e == KN_OK && m && !*metric) {
            if (!(*metric = kn_strdup(m))) e = KN_ERR_NOMEM;
            *hib = json_is_true(json_object_get(j, "higher_is_better"));
        }
        for (size_t i = 0; kv && i < np; i++) kn_free(kv[i]);
        kn_free(kv);
        json_decref(j);
    }
    json_decref(want);
    free(line);
    fclose(fp);
    if (e != KN_OK) {
        for (size_t i = 0; i < have; i++) kn_tune_trial_release(&v[i]);
        kn_free(v);
        return e;
    }
    *out = v;
    *n = have;
    return KN_OK;
}

/* The metric rides on each trial line (the result's, once known). */
static const kn_tune_result *live_result;

static kn_status on_trial_line(const kn_tune_trial *t, void *user)
{
    trials_sink *s = user;
    if (!s->fp) return KN_OK;
    json_t *j = trial_json(t, 1, s->hyperband);
    if (live_result && live_result->metric) {
        json_object_set_new(j, "metric", json_string(live_result->metric));
        json_object_set_new(j, "higher_is_better", json_boolean(live_result->higher_is_better));
    }
    char *line = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (!line) return KN_ERR_NOMEM;
    int bad = fprintf(s->fp, "%s\n", line) < 0 || fflush(s->fp) != 0;
    free(line);
    return bad ? kn_fail(KN_ERR_IO, "%s: cannot write a trial", s->path) : KN_OK;
}

/* ---- signals: the first SIGINT/SIGTERM cancels, a second one kills ---- */

static struct sigaction old_int, old_term;

static void on_stop(int sig)
{
    kn_ctx_cancel(kn_ctx_default());
    static const char msg[] = "kiln: tune: stopping after the running trials (again to stop at "
                              "once)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    sigaction(sig, sig == SIGINT ? &old_int : &old_term, NULL);
}

static void catch_stop(int on)
{
    if (!on) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

/* ---- refit and held-out scoring ---- */

/* The parameter halving grew, as the search chose it (kn_tune_opts.resource):
 * --resource, else n_estimators where the model has it; NULL for rows (and
 * for the other strategies). */
static const char *refit_resource(const tune_args *a, kn_tune_strategy strategy)
{
    if (strategy != KN_TUNE_HALVING && strategy != KN_TUNE_HYPERBAND) return NULL;
    if (a->resource) return strcmp(a->resource, "rows") ? a->resource : NULL;
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, a->cv.spec.model);
    return c && kn_param_find(c->params, "n_estimators") ? "n_estimators" : NULL;
}

/* The best configuration's pipeline, unfitted: the steps, the model with
 * --param then the trial's parameters (and the halving resource). */
static kn_status best_pipeline(const tune_args *a, const kn_tune_trial *best, const char *resource,
                               const kn_frame *f, kn_pipeline **out)
{
    const kn_cv_spec *s = &a->cv.spec;
    size_t np = 0;
    const char **params = kn_malloc((s->n_params + best->n_params + 1) * sizeof *params);
    char res_kv[96];
    if (!params) return KN_ERR_NOMEM;
    for (size_t i = 0; i < s->n_params; i++) params[np++] = s->params[i];
    for (size_t i = 0; i < best->n_params; i++) params[np++] = best->params[i];
    if (resource && best->resource > 0) {
        snprintf(res_kv, sizeof res_kv, "%s=%.0f", resource, best->resource);
        params[np++] = res_kv;
    }
    kn_pipeline *p = NULL;
    kn_status e = kn_pipeline_new(&p);
    for (size_t i = 0; e == KN_OK && i < s->n_steps; i++)
        e = kn_pipeline_add_step_spec(p, s->steps[i]);
    if (e == KN_OK) e = kn_pipeline_set_model_spec(p, s->model, params, np);
    if (e == KN_OK) e = kn_pipeline_set_target(p, s->target, s->weight);
    if (e == KN_OK) {
        kn_model *m = kn_pipeline_model_edit(p);
        if (s->task)
            e = kn_model_set_task(m, !strcmp(s->task, "classification") ? KN_TASK_CLASSIFICATION
                                                                        : KN_TASK_REGRESSION);
        else
            e = kn_model_choose_task(m, f, s->target, NULL);
    }
    kn_free(params);
    if (e != KN_OK) {
        kn_pipeline_free(p);
        return e;
    }
    *out = p;
    return KN_OK;
}

/* Split f into training and held-out rows (stratified for a classifier);
 * with --time-series the last rows in time, with --groups whole groups
 * (how: which, for the output; "" for a random draw). */
static kn_status holdout(const tune_args *a, const kn_frame *f, double fraction, uint64_t seed,
                         int classify, kn_frame **train, kn_frame **test, char *how, size_t how_len)
{
    how[0] = '\0';
    if (a->cv.spec.split.kind == KN_SPLIT_TIME)
        return tune_holdout_time(f, a->cv.spec.order_by, a->cv.spec.split.gap, fraction, train,
                                 test, how, how_len);
    if (a->cv.spec.groups)
        return tune_holdout_groups(f, a->cv.spec.groups, fraction, seed, train, test, how, how_len);
    size_t n = kn_frame_n_rows(f), *parts[2] = {NULL, NULL}, sizes[2] = {0, 0};
    int32_t *strata = NULL;
    size_t k = 0;
    kn_status e = classify ? kn_split_labels(f, a->cv.spec.target, &strata, &k) : KN_OK;
    double shares[2] = {1 - fraction, fraction};
    if (e == KN_OK) e = kn_split_shares(n, strata, shares, 2, seed, parts, sizes);
    if (e == KN_OK && (!sizes[0] || !sizes[1]))
        e = kn_fail(KN_ERR_INVALID,
                    "--test-fraction %g of %zu rows leaves %s: use more rows or another fraction",
                    fraction, n, sizes[1] ? "no training rows" : "no held-out rows");
    if (e == KN_OK) e = kn_frame_select_rows(f, parts[0], sizes[0], train);
    if (e == KN_OK) e = kn_frame_select_rows(f, parts[1], sizes[1], test);
    kn_free(strata);
    kn_free(parts[0]);
    kn_free(parts[1]);
    return e;
}

/* Fit the best pipeline on train; its score on test (the search's metric)
 * and the baseline's (the training rows' class prior or mean) beside it. */
static kn_status refit_score(const tune_args *a, const kn_tune_result *r, const char *resource,
                             const kn_frame *train, const kn_frame *test, kn_pipeline **fitted,
                             double *score, kn_scores *scores, double *baseline)
{
    kn_pipeline *p = NULL;
    kn_status e = best_pipeline(a, &r->trial[r->best], resource, train, &p);
    if (e == KN_OK) e = kn_pipeline_fit(p, train, NULL);
    const char *metrics[1] = {r->metric};
    kn_score_opts so = {.weight = a->cv.spec.weight,
                        .positive_class = a->cv.spec.positive_class,
                        .metrics = metrics,
                        .n_metrics = 1};
    *score = *baseline = NAN;
    if (e == KN_OK && test) e = kn_pipeline_score(p, test, &so, scores);
    if (e == KN_OK && test && scores->n) *score = scores->value[0];
    kn_scores base = {0};
    if (e == KN_OK && test && scores->n)
        e = kn_model_score_baseline(kn_pipeline_model(p), train, test, a->cv.spec.weight, scores,
                                    &base);
    if (e == KN_OK && base.n) *baseline = base.value[0];
    base.positive_class = NULL; /* borrowed from the model */
    kn_scores_free(&base);
    if (e != KN_OK || !fitted)
        kn_pipeline_free(p);
    else
        *fitted = p;
    return e;
}

/* ---- output ---- */

static void print_trials(const tune_args *a, const kn_tune_result *r, size_t n_space,
                         const kn_tune_space *sp)
{
    printf("%s on %s (target %s): %s search, %zu trial%s, %s (%s)\n", a->cv.spec.model, a->cv.data,
           a->cv.spec.target, a->strategy ? a->strategy : "random", r->n, r->n == 1 ? "" : "s",
           r->metric ? r->metric : "?",
           r->higher_is_better ? "higher is better" : "lower is better");
    printf("%5s", "trial");
    int halving = a->strategy && !strcmp(a->strategy, "halving");
    int hyperband = a->strategy && !strcmp(a->strategy, "hyperband");
    if (hyperband) printf(" %7s", "bracket");
    if (halving || hyperband) printf(" %4s %9s", "rung", "resource");
    for (size_t d = 0; d < n_space; d++) printf(" %14.14s", kn_tune_space_name(sp, d));
    printf(" %22s %10s %8s %9s\n", "score mean +- std", "train", "fit s", "cost $");
    for (size_t i = 0; i < r->n; i++) {
        const kn_tune_trial *t = &r->trial[i];
        printf("%5zu", t->id);
        if (hyperband) printf(" %7zu", t->bracket);
        if (halving || hyperband) printf(" %4zu %9.4g", t->rung, t->resource);
        for (size_t d = 0; d < n_space; d++) {
            const char *name = kn_tune_space_name(sp, d), *v = "-";
            size_t len = strlen(name);
            for (size_t p = 0; p < t->n_params; p++)
                if (!strncmp(t->params[p], name, len) && t->params[p][len] == '=')
                    v = t->params[p] + len + 1;
            char buf[32];
            char *end = NULL;
            double x = strtod(v, &end);
            if (end != v && !*end && strchr(v, '.'))
                snprintf(buf, sizeof buf, "%.4g", x);
            else
                snprintf(buf, sizeof buf, "%s", v);
            printf(" %14.14s", buf);
        }
        char ms[64];
        if (t->status == KN_TRIAL_OK)
            snprintf(ms, sizeof ms, "%.4f +- %.4f", t->score, t->std);
        else if (t->status == KN_TRIAL_PRUNED)
            snprintf(ms, sizeof ms, "%.4f pruned after %zu", t->score, t->n_folds);
        else
            snprintf(ms, sizeof ms, "failed");
        printf(" %22s %10.4f %8.2f %9.2g%s\n", ms, t->train, t->seconds, t->cost,
               i == r->best ? "  <- best" : "");
    }
    for (size_t i = 0; i < r->n; i++)
        if (r->trial[i].status == KN_TRIAL_FAILED && r->trial[i].error)
            printf("trial %zu failed: %s\n", r->trial[i].id, r->trial[i].error);
}

static void print_best(const kn_tune_result *r)
{
    const kn_tune_trial *b = &r->trial[r->best];
    printf("best: trial %zu, %s %.4f +- %.4f (train %.4f, baseline %.4f):", b->id, r->metric,
           b->score, b->std, b->train, b->baseline);
    for (size_t p = 0; p < b->n_params; p++) printf(" %s", b->params[p]);
    if (b->resource > 0) printf(" (resource %.4g)", b->resource);
    putchar('\n');
    if (b->verdict_text && *b->verdict_text) printf("fit: %s\n", b->verdict_text);
}

static json_t *result_json(const tune_args *a, const kn_tune_result *r)
{
    json_t *trials = json_array();
    int hb = a->strategy && !strcmp(a->strategy, "hyperband");
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(trials, trial_json(&r->trial[i], 0, hb));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:o}", "command", "tune", "input",
                          a->cv.data, "model", a->cv.spec.model, "target", a->cv.spec.target,
                          "strategy", a->strategy ? a->strategy : "random", "metric",
                          r->metric ? json_string(r->metric) : json_null(), "higher_is_better",
                          r->higher_is_better, "trials", trials);
    json_object_set_new(j, "stopped",
                        json_string(r->stopped == 4   ? "space-exhausted"
                                    : r->stopped == 3 ? "max-cost"
                                    : r->stopped == 2 ? "interrupted"
                                    : r->stopped == 1 ? "max-time"
                                                      : "no"));
    json_object_set_new(j, "cost", json_real(r->cost));
    json_object_set_new(j, "best",
                        r->best == SIZE_MAX ? json_null() : trial_json(&r->trial[r->best], 1, hb));
    return j;
}

/* ---- the command ---- */

static kn_status run_search(const tune_args *a, const kn_frame *f, const kn_tune_space *sp,
                            kn_tune_opts *o, kn_tune_result *r)
{
    kn_status e = kn_tune_run(f, &a->cv.spec, sp, o, r);
    if (e != KN_OK || r->best != SIZE_MAX || r->stopped) return e;
    /* halving over rows: the first rung's share may be what failed (a
     * resampler or a fold split short of rows), which the error's own
     * words do not say */
    char rung[256] = "";
    double share = r->n ? r->trial[0].resource : 0;
    if (share > 0 && share < 1 && r->trial[0].rung == 0)
        snprintf(rung, sizeof rung,
                 " (halving's first rung fits on %.3g %% of each fold's training rows: fewer "
                 "--trials or a smaller --eta start it on more)",
                 100 * share);
    return kn_fail(KN_ERR_INVALID, "no trial succeeded%s%s%s", r->n ? "; the first failure: " : "",
                   r->n && r->trial[0].error ? r->trial[0].error : "", rung);
}

static int nested_cv(tune_args *a, const kn_frame *f, const kn_tune_space *sp, kn_tune_opts *o,
                     int classify)
{
    /* the outer folds split as the inner ones do: time-series windows (the
     * outer test rows after the search's), whole groups, else shuffled */
    kn_split_opts so = a->cv.spec.split;
    int time = so.kind == KN_SPLIT_TIME, group = a->cv.spec.groups != NULL;
    so.kind = time       ? KN_SPLIT_TIME
              : group    ? KN_SPLIT_GROUP
              : classify ? KN_SPLIT_STRATIFIED
                         : KN_SPLIT_KFOLD;
    so.folds = (size_t)a->outer_folds;
    so.repeats = 1;
    so.shuffle = !time && !group;
    so.test_size = so.max_train = 0; /* --test-rows, --max-train: the inner windows' */
    int32_t *labels = NULL;
    size_t k = 0, *order = NULL;
    kn_folds folds = {0};
    kn_status e = group               ? kn_split_labels(f, a->cv.spec.groups, &labels, &k)
                  : classify && !time ? kn_split_labels(f, a->cv.spec.target, &labels, &k)
                                      : KN_OK;
    if (e == KN_OK && time) e = tune_time_order(f, a->cv.spec.order_by, &order);
    if (e == KN_OK) e = kn_split_folds(kn_frame_n_rows(f), labels, &so, &folds);
    for (size_t i = 0; e == KN_OK && order && i < folds.k; i++) {
        kn_fold *fo = &folds.fold[i];
        for (size_t r = 0; r < fo->n_train; r++) fo->train[r] = order[fo->train[r]];
        for (size_t r = 0; r < fo->n_test; r++) fo->test[r] = order[fo->test[r]];
    }
    kn_free(order);
    kn_free(labels);
    double *score = kn_calloc(folds.k ? folds.k : 1, sizeof *score);
    json_t *outer = json_array();
    const char *metric = NULL;
    if (e == KN_OK && !score) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < folds.k; i++) {
        kn_frame *train = NULL, *test = NULL;
        kn_tune_result r = {0};
        kn_scores sc = {0};
        double outer_baseline = NAN;
        e = kn_frame_select_rows(f, folds.fold[i].train, folds.fold[i].n_train, &train);
        if (e == KN_OK)
            e = kn_frame_select_rows(f, folds.fold[i].test, folds.fold[i].n_test, &test);
        if (e == KN_OK) e = run_search(a, train, sp, o, &r);
        if (e == KN_OK && r.best == SIZE_MAX)
            e = kn_fail(KN_ERR_CANCELLED, "the nested search was stopped in outer fold %zu", i + 1);
        if (e == KN_OK)
            e = refit_score(a, &r, refit_resource(a, o->strategy), train, test, NULL, &score[i],
                            &sc, &outer_baseline);
        if (e == KN_OK) {
            metric = r.metric;
            json_t *b = trial_json(&r.trial[r.best], 0, o->strategy == KN_TUNE_HYPERBAND);
            json_object_set_new(b, "outer_fold", json_integer((json_int_t)(i + 1)));
            json_object_set_new(b, "outer_score", cli_json_num(score[i]));
            json_object_set_new(b, "outer_baseline", cli_json_num(outer_baseline));
            json_array_append_new(outer, b);
            if (!cli.json) {
                printf("outer fold %zu: best inner %s %.4f, outer %.4f (baseline %.4f):", i + 1,
                       r.metric, r.trial[r.best].score, score[i], outer_baseline);
                for (size_t p = 0; p < r.trial[r.best].n_params; p++)
                    printf(" %s", r.trial[r.best].params[p]);
                putchar('\n');
            }
        }
        kn_scores_free(&sc);
        kn_tune_result_free(&r);
        kn_frame_free(train);
        kn_frame_free(test);
    }
    int rc = CLI_OK;
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    } else {
        double mean = 0, var = 0;
        for (size_t i = 0; i < folds.k; i++) mean += score[i] / (double)folds.k;
        for (size_t i = 0; i < folds.k; i++)
            var += (score[i] - mean) * (score[i] - mean) / (double)folds.k;
        if (cli.json) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "command", "tune",
                                  "input", a->cv.data, "model", a->cv.spec.model, "strategy",
                                  a->strategy ? a->strategy : "random", "metric",
                                  metric ? metric : "?", "nested_mean", cli_json_num(mean),
                                  "nested_std", cli_json_num(sqrt(var)), "outer", outer);
            outer = NULL;
            rc = cli_emit_json(j);
        } else
            printf("nested CV (%zu outer folds): %s %.4f +- %.4f\n", folds.k, metric ? metric : "?",
                   mean, sqrt(var));
    }
    json_decref(outer);
    kn_free(score);
    kn_folds_free(&folds);
    return rc;
}

static kn_tune_strategy strategy_of(const char *s)
{
    if (!s || !strcmp(s, "random")) return KN_TUNE_RANDOM;
    if (!strcmp(s, "grid")) return KN_TUNE_GRID;
    if (!strcmp(s, "tpe")) return KN_TUNE_TPE;
    if (!strcmp(s, "hyperband")) return KN_TUNE_HYPERBAND;
    return KN_TUNE_HALVING;
}

int cmd_tune(int argc, char **argv)
{
    kn_read_opts ro;
    kn_read_opts_default(&ro);
    tune_args a = {0};
    a.trials = -1;
    a.cv.seed_seeds_more = 1; /* the search's trials, with any folds */
    int rc = cli_cv_parse(&tune_spec, argc, argv, &ro, &a.cv);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_tune_strategy strategy = strategy_of(a.strategy);
    /* the held-out rows are drawn at random; the folds over the rest are too
     * (as scikit-learn's train_test_split hands shuffled rows to the search):
     * folds in file order on a sorted file gave a CV score far from the
     * held-out one (concrete: rmse 9.5 +- 3.9 against 4.0) */
    if (a.test_fraction > 0 && a.cv.spec.split.kind != KN_SPLIT_TIME && !a.cv.spec.groups)
        a.cv.spec.split.shuffle = 1;
    if (a.trials == 0)
        return cli_usage_error("tune", "--trials 0: a search needs at least one trial");
    if (a.metric && !kn_registry_find(KN_COMP_METRIC, a.metric)) /* before any trial fails on it */
        return cli_usage_error("tune",
                               "--metric: no metric named '%s'; 'kiln help metrics' lists "
                               "them",
                               a.metric);
    if (a.trials < 0) a.trials = strategy == KN_TUNE_GRID ? 0 : 20;
    if (a.resume && a.trials_file && strcmp(a.resume, a.trials_file))
        return cli_usage_error("tune", "--resume FILE appends to FILE: drop --trials-file");
    if (a.nested && (a.resume || a.trials_file || a.out))
        return cli_usage_error("tune", "--nested runs a search per outer fold: it takes no "
                                       "--trials-file, --resume or --out");
    if (a.out && !cli_out_is_artifact(a.out))
        return cli_usage_error("tune", "--out %s: the refitted pipeline is saved as NAME.kiln",
                               a.out);
    if ((a.resource || a.eta != 3) && strategy != KN_TUNE_HALVING && strategy != KN_TUNE_HYPERBAND)
        return cli_usage_error("tune",
                               "--resource and --eta go with --strategy halving or hyperband");
    if (a.prune && (strategy == KN_TUNE_HALVING || strategy == KN_TUNE_HYPERBAND))
        return cli_usage_error("tune",
                               "--prune goes with random, grid and tpe; %s stops bad "
                               "configurations by its rungs",
                               a.strategy);
    if (a.resource && strcmp(a.resource, "rows")) {
        const kn_component *c = kn_registry_find(KN_COMP_MODEL, a.cv.spec.model);
        const kn_param_def *d = c ? kn_param_find(c->params, a.resource) : NULL;
        if (c && (!d || d->type != KN_PARAM_T_INT))
            return cli_usage_error("tune",
                                   "--resource %s: not an integer parameter of %s; give one that "
                                   "grows the fit (n_estimators, max_iter, ...) or rows",
                                   a.resource, a.cv.spec.model);
    }
    /* the space: checked before the data is read */
    kn_tune_space *sp = NULL;
    kn_status e = kn_tune_space_load(a.space, a.cv.spec.model, &sp);
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        return e == KN_ERR_NOT_FOUND && strstr(kn_last_error(), "model") ? CLI_USAGE : CLI_FAIL;
    }
    for (size_t i = 0; i < a.cv.spec.n_params; i++)
        for (size_t d = 0; d < kn_tune_space_size(sp); d++) {
            const char *name = kn_tune_space_name(sp, d);
            size_t len = strlen(name);
            if (!strncmp(a.cv.spec.params[i], name, len) && a.cv.spec.params[i][len] == '=') {
                rc = cli_usage_error("tune", "--param %s: %s is searched (in %s); drop one of them",
                                     a.cv.spec.params[i], name, a.space);
                kn_tune_space_free(sp);
                return rc;
            }
        }
    const char *grown = refit_resource(&a, strategy); /* halving's, hyperband's */
    if (grown && kn_tune_space_has(sp, grown)) {
        rc = cli_usage_error("tune",
                             "%s is %s's resource (it grows between the rungs up to --param "
                             "%s=N, else its default): take it out of %s",
                             grown, a.strategy, grown, a.space);
        kn_tune_space_free(sp);
        return rc;
    }
    const char *metric_v[1] = {a.metric};
    if (a.metric) {
        a.cv.spec.metrics = metric_v;
        a.cv.spec.n_metrics = 1;
    }
    int jobs = (int)a.cv.jobs;
    a.cv.spec.threads = 0;
    kn_tune_opts o;
    kn_tune_opts_default(&o);
    o.strategy = strategy;
    o.trials = (size_t)a.trials;
    o.max_seconds = a.max_time;
    o.max_cost = a.max_cost;
    kn_prices prices;
    kn_store_prices(NULL, &prices);
    o.core_hour = prices.core_hour;
    o.gb_hour = prices.gb_hour;
    o.jobs = jobs > 0 ? jobs : 1;
    o.seed = a.cv.seed;
    o.resource = a.resource;
    o.eta = a.eta;
    o.prune = a.prune;
    kn_tune_trial *prior = NULL;
    size_t n_prior = 0;
    char *prior_metric = NULL;
    kn_frame *f = NULL, *train = NULL, *test = NULL;
    char how[160] = "";
    kn_tune_result r = {0};
    kn_scores sc = {0};
    kn_pipeline *fitted = NULL;
    trials_sink sink = {NULL, a.resume ? a.resume : a.trials_file, strategy == KN_TUNE_HYPERBAND};
    double test_score = NAN, test_baseline = NAN;
    if (a.resume) {
        long whole = 0;
        e = read_trials(&a, sp, &prior, &n_prior, &prior_metric, &o.prior_higher_is_better, &whole);
        /* a line cut short by a kill is dropped before appending */
        if (e == KN_OK && truncate(a.resume, whole) != 0)
            e = kn_fail(KN_ERR_IO, "%s: cannot drop its unfinished last line", a.resume);
        if (e == KN_OK && whole == 0)
            e = kn_fail(KN_ERR_INVALID, "%s: not a trials file (no header line)", a.resume);
        o.prior = prior;
        o.n_prior = n_prior;
        o.prior_metric = prior_metric;
    }
    if (e == KN_OK) e = cli_cv_frame(&a.cv, &ro, &f);
    /* the groups and order columns are no features of the trials' folds
     * (kn_cv_run takes them out): nor of the refit, scored and saved */
    const char *not_features[2] = {a.cv.spec.groups, a.cv.spec.order_by};
    for (size_t i = 0, j; e == KN_OK && i < 2; i++)
        if (not_features[i] && kn_frame_find(f, not_features[i], &j) == KN_OK)
            kn_column_set_role(kn_frame_col(f, j), KN_ROLE_IGNORE);
    int classify = 0;
    if (e == KN_OK) { /* the task, as the refit will see it */
        kn_pipeline *probe = NULL;
        kn_tune_trial none = {0};
        e = best_pipeline(&a, &none, NULL, f, &probe);
        if (e == KN_OK)
            classify = kn_model_task(kn_pipeline_model(probe)) == KN_TASK_CLASSIFICATION;
        kn_pipeline_free(probe);
    }
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
        goto done;
    }
    if (a.nested) {
        catch_stop(1);
        rc = nested_cv(&a, f, sp, &o, classify);
        catch_stop(0);
        goto done;
    }
    if (a.test_fraction > 0)
        e = holdout(&a, f, a.test_fraction, a.cv.seed, classify, &train, &test, how, sizeof how);
    if (e == KN_OK && sink.path) {
        sink.fp = fopen(sink.path, a.resume ? "a" : "w");
        if (!sink.fp) e = kn_fail(KN_ERR_IO, "%s: cannot open the trials file", sink.path);
        if (e == KN_OK && !a.resume) {
            json_t *h = header_json_full(&a);
            char *line = json_dumps(h, JSON_COMPACT);
            json_decref(h);
            if (!line || fprintf(sink.fp, "%s\n", line) < 0 || fflush(sink.fp))
                e = kn_fail(KN_ERR_IO, "%s: cannot write", sink.path);
            free(line);
        }
    }
    o.on_trial = on_trial_line;
    o.user = &sink;
    live_result = &r;
    kn_stage_begin("tune");
    catch_stop(1);
    if (e == KN_OK) e = run_search(&a, train ? train : f, sp, &o, &r);
    catch_stop(0);
    kn_stage_end();
    live_result = NULL;
    const char *resource = refit_resource(&a, strategy);
    if (e == KN_OK && r.best != SIZE_MAX && r.stopped != 2) {
        kn_stage_begin("refit");
        e = refit_score(&a, &r, resource, train ? train : f, test, a.out ? &fitted : NULL,
                        &test_score, &sc, &test_baseline);
        kn_stage_end();
    }
    if (e == KN_OK && fitted) {
        cli_train_record rec = {.out = a.out,
                                .data = a.cv.data,
                                .target = a.cv.spec.target,
                                .weight = a.cv.spec.weight,
                                .positive_class = a.cv.spec.positive_class,
                                .seed = a.cv.seed,
                                .rows_in = kn_frame_n_rows(f),
                                .rows_train = kn_frame_n_rows(train ? train : f),
                                .rows_test = test ? kn_frame_n_rows(test) : 0,
                                .scores = test ? &sc : NULL,
                                .read = &ro};
        e = cli_write_train_artifact(fitted, train ? train : f, train ? train : f, test, &rec);
    }
    if (sink.fp && fclose(sink.fp) && e == KN_OK)
        e = kn_fail(KN_ERR_IO, "%s: cannot close the trials file", sink.path);
    sink.fp = NULL;
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *j = result_json(&a, &r);
        if (test)
            json_object_set_new(
                j, "test",
                json_pack("{s:I, s:o, s:o, s:s}", "rows", (json_int_t)kn_frame_n_rows(test),
                          "score", cli_json_num(test_score), "baseline",
                          cli_json_num(test_baseline), "rows_are", how[0] ? how : "a random draw"));
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else {
        print_trials(&a, &r, kn_tune_space_size(sp), sp);
        if (r.best != SIZE_MAX) print_best(&r);
        if (r.stopped)
            printf("stopped: %s after %zu trials\n",
                   r.stopped == 4   ? "the space holds no more distinct configurations"
                   : r.stopped == 3 ? "--max-cost reached"
                   : r.stopped == 2 ? "interrupted"
                                    : "--max-time reached",
                   r.n);
        if (test && !isnan(test_score))
            printf("held-out: %s %.4f on %zu rows (%s%srefitted on %zu rows); baseline "
                   "(prior/mean) %.4f\n",
                   r.metric, test_score, kn_frame_n_rows(test), how, how[0] ? "; " : "",
                   kn_frame_n_rows(train), test_baseline);
        if (fitted) printf("wrote %s\n", a.out);
    }
    if (e == KN_OK && r.stopped == 2) rc = 130;
done:
    if (sink.fp) fclose(sink.fp);
    kn_scores_free(&sc);
    kn_pipeline_free(fitted);
    kn_tune_result_free(&r);
    for (size_t i = 0; i < n_prior; i++) kn_tune_trial_release(&prior[i]);
    kn_free(prior);
    kn_free(prior_metric);
    kn_frame_free(train);
    kn_frame_free(test);
    kn_frame_free(f);
    kn_tune_space_free(sp);
    return rc;
}
