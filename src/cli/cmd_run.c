/* kiln run: a spec end to end (kiln/run.h), recorded in the store
 * (kiln/store.h) and registered when the spec says so. */
#include "cli/cli_run.h"
#include "kiln/artifact.h"
#include "kiln/io.h"
#include "kiln/json.h"
#include "kiln/mem.h"
#include "kiln/run.h"
#include "kiln/stage.h"
#include "kiln/store.h"
#include "kiln/tempfile.h"
#include "kiln/tune.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct run_args {
    const char *spec, *store, *out, *sign_key, *experiment, *parent;
    uint64_t seed;
    int64_t jobs;
    int no_store, overwrite_input;
} run_args;

static const cli_opt run_opts[] = {
    CLI_OPT_ARG(run_args, spec, "SPEC", 1, "the spec (YAML)"),
    CLI_OPT_SEED(run_args, seed, "seed", "0", "seed of splits and models (default: the spec's)"),
    CLI_OPT_TEXT(run_args, store, "store", "DIR",
                 "the store to record the run in (default: $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_FLAG(run_args, no_store, "no-store", "do not record the run (then --out is needed)"),
    CLI_OPT_TEXT(run_args, out, "out", "FILE.kiln", "also write the artifact to FILE.kiln"),
    CLI_OPT_TEXT(run_args, sign_key, "sign-key", "KEY",
                 "sign the artifact with this secret key ('kiln keygen')"),
    CLI_OPT_TEXT(run_args, experiment, "experiment", "NAME", "the experiment (default: default)"),
    CLI_OPT_TEXT(run_args, parent, "parent", "RUN", "the run this one derives from (lineage)"),
    CLI_OPT_FLAG(run_args, overwrite_input, "overwrite-input",
                 "let an output of the spec replace one of its inputs"),
    CLI_OPT_INT(run_args, jobs, "jobs", "N", "1", 1, 1024,
                "model: search: trials at a time, each on one thread (capped at --threads); "
                "the same results on any N"),
    CLI_OPT_END};

const cli_spec run_spec = {
    "run",
    "run a spec end to end: data, validation, steps, model, CV, test, artifact, registry",
    "Run SPEC: read and combine its sources, validate them (rows the schema\n"
    "quarantines go to a side file), deduplicate, hold out the test rows, cross-\n"
    "validate the pipeline (steps + model) on the training rows with the steps\n"
    "fitted inside each training fold, fit it on all training rows and score it\n"
    "once on the test rows beside a baseline (class prior or mean). The result is\n"
    "one artifact (.kiln: spec, input schema, reference profile, fitted pipeline,\n"
    "metrics, lineage), recorded with the run's parameters, metrics, lineage,\n"
    "resources and estimated cost in the store, and registered as the next\n"
    "version of the spec's register: name. Prints a line per stage as it ends\n"
    "and a summary. A failed run leaves the store as it was.\n"
    "\n"
    "A run spec is a prep spec (sources, frame, schema, rejects, dedupe, steps:\n"
    "'kiln help prep') with these keys (examples/*.yaml show them in use):\n"
    "  target: COLUMN             ignore: [COLUMNS]   (not features: IDs, free text)\n"
    "  task: classification|regression                (default: from the model/target)\n"
    "  model: {NAME: {PARAM: VALUE, ...}}             ('kiln help models')\n"
    "    or a search over its parameters (the best trial's are refitted and tested):\n"
    "  model: {name: NAME, params: {PARAM: VALUE},    (params fixed in every trial)\n"
    "         search: {strategy: random|grid|tpe|halving|hyperband, trials: 20,\n"
    "                  cv: FOLDS, metric: NAME, seed: N, prune: false,\n"
    "                  max_time: SECONDS, max_cost: USD,   (budgets: no trial starts after)\n"
    "                  resource: PARAM|rows, eta: 3,       (halving, hyperband: as\n"
    "                                                       kiln tune's)\n"
    "                  space: {learning_rate: {log: [0.01, 0.3]},\n"
    "                          max_depth: {int: [2, 8]}}}}\n"
    "         (the space as 'kiln help tune' writes it, checked before any data is\n"
    "         read; each trial is cross-validated on the training rows with the steps\n"
    "         inside its folds; the artifact keeps every trial and the choice;\n"
    "         --jobs N runs N trials at a time, each on one thread, with the same\n"
    "         trials and results as one at a time; max_cost prices CPU and memory\n"
    "         hours as kiln tune does)\n"
    "  evaluation:\n"
    "    cv: {folds: 5, split: kfold|stratified|group|time_series, shuffle: true,\n"
    "         groups: COL, order_by: COL, gap: N}     (or false; default 5 folds)\n"
    "         (k-fold and stratified folds take the rows shuffled by the run's seed\n"
    "         unless shuffle: false, so a file sorted by class or time does not\n"
    "         give misleading folds; group and time-series folds are never shuffled)\n"
    "    metrics: [roc_auc, ...]                      ('kiln help metrics')\n"
    "    positive_class: LABEL\n"
    "    test: {fraction: 0.2} | {by: COL, from: VALUE} | {source: NAME} | false\n"
    "    bootstrap: 1000        (resamples for the test scores' 95 % intervals; 0: none)\n"
    "    slice_by: COL          (test scores per value of COL; the worst slice named)\n"
    "    learning_curve: N      (CV at N training sizes, 10 % to 100 %: the report draws it)\n"
    "    validation_curve: {param: NAME, values: [V, ...]}   (CV at each value; drawn too)\n"
    "  register: {name: NAME, stage: none|staging|production}\n"
    "  seed: N                    description: TEXT   (the model card's intended use)\n",
    "  kiln run examples/credit.yaml\n"
    "  kiln run spec.yaml --seed 7 --store /srv/kiln-store --json\n",
    run_opts,
    0,
    cmd_run};

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The run's metrics in the store's shape. */
static kn_run_metric *run_metrics(const kn_run_output *r, size_t *n)
{
    size_t cap = 3 * r->test.n + r->baseline.n + 1;
    if (r->has_cv) cap += r->cv.n_scores * (r->cv.k + 4);
    kn_run_metric *m = kn_calloc(cap, sizeof *m);
    if (!m) return NULL;
    *n = 0;
    if (r->has_cv)
        for (size_t s = 0; s < r->cv.n_scores; s++) {
            for (size_t f = 0; f < r->cv.k; f++)
                m[(*n)++] = (kn_run_metric){r->cv.name[s], "cv", (int)f,
                                            r->cv.score[f * r->cv.n_scores + s]};
            m[(*n)++] = (kn_run_metric){r->cv.name[s], "cv_mean", -1, r->cv.mean[s]};
            m[(*n)++] = (kn_run_metric){r->cv.name[s], "cv_std", -1, r->cv.std[s]};
            if (!r->cv.has_train) continue;
            m[(*n)++] = (kn_run_metric){r->cv.name[s], "train_mean", -1, r->cv.train_mean[s]};
            m[(*n)++] = (kn_run_metric){r->cv.name[s], "train_std", -1, r->cv.train_std[s]};
        }
    for (size_t s = 0; s < r->test.n; s++)
        m[(*n)++] = (kn_run_metric){r->test.name[s], "test", -1, r->test.value[s]};
    for (size_t s = 0; s < r->baseline.n; s++)
        m[(*n)++] = (kn_run_metric){r->baseline.name[s], "baseline", -1, r->baseline.value[s]};
    return m;
}

static kn_run_stage *run_stages(size_t *n)
{
    *n = kn_stage_count();
    kn_run_stage *st = kn_calloc(*n ? *n : 1, sizeof *st);
    for (size_t i = 0; st && i < *n; i++) {
        const kn_stage_record *rec = kn_stage_get(i);
        st[i] = (kn_run_stage){rec->name, rec->wall_s, rec->cpu_s, rec->peak_rss_bytes};
    }
    return st;
}

typedef struct recorded {
    char *run_id;
    int version;
    int replaced; /* the version the stage held before, now archived (0: none) */
    double cost;
    kn_prices prices;
} recorded;

/* Record the run (finished or failed) and register it when asked. */
static kn_status record(const run_args *a, const kn_prep_spec *s, const kn_run_output *r,
                        kn_status outcome, double start, recorded *out)
{
    kn_store *st = NULL;
    kn_status e = kn_store_open(a->store, 1, &st);
    if (e != KN_OK) return e;
    size_t n_metrics = 0, n_stages = 0;
    kn_run_metric *metrics = run_metrics(r, &n_metrics);
    kn_run_stage *stages = run_stages(&n_stages);
    /* the model's parameters, then each step as "step.K=NAME" and its
       parameters as "step.K.PARAM=VALUE" */
    size_t n_params = s->model.n_params + r->n_chosen;
    for (size_t k = 0; k < s->n_steps; k++) n_params += 1 + s->steps[k].n_params;
    char **params = kn_calloc(n_params + 1, sizeof *params);
    size_t np = 0;
    /* the search's choice replaces a fixed value of the same name (halving's
       n_estimators) and follows the fixed ones */
    for (size_t i = 0; params && i < s->model.n_params; i++) {
        const char *kv = s->model.params[i];
        size_t len = strcspn(kv, "=");
        for (size_t c = 0; c < r->n_chosen; c++)
            if (!strncmp(r->chosen[c], kv, len) && r->chosen[c][len] == '=') kv = r->chosen[c];
        params[np++] = kn_strdup(kv);
    }
    for (size_t c = 0; params && c < r->n_chosen; c++) {
        size_t len = strcspn(r->chosen[c], "="), i = 0;
        while (i < s->model.n_params &&
               !(!strncmp(s->model.params[i], r->chosen[c], len) && s->model.params[i][len] == '='))
            i++;
        if (i == s->model.n_params) params[np++] = kn_strdup(r->chosen[c]);
    }
    for (size_t k = 0; params && k < s->n_steps; k++) {
        params[np++] = kn_sprintf("step.%zu=%s", k + 1, s->steps[k].name);
        for (size_t i = 0; i < s->steps[k].n_params; i++)
            params[np++] = kn_sprintf("step.%zu.%s", k + 1, s->steps[k].params[i]);
    }
    for (size_t i = 0; params && i < np; i++)
        if (!params[i]) e = KN_ERR_NOMEM;
    kn_run_source *sources = kn_calloc(r->n_sources + 1, sizeof *sources);
    for (size_t i = 0; sources && i < r->n_sources; i++)
        sources[i] = (kn_run_source){r->sources[i].name, r->sources[i].kind, r->sources[i].location,
                                     r->sources[i].hash, r->sources[i].rows};
    if (!metrics || !stages || !sources || !params) e = KN_ERR_NOMEM;
    kn_run_info info = {0};
    info.experiment = a->experiment;
    info.status = outcome == KN_OK ? "finished" : "failed";
    info.error = outcome == KN_OK ? NULL : kn_last_error();
    info.start = start;
    info.end = now_s();
    info.spec = s->text;
    info.spec_hash = r->spec_hash;
    info.seed = r->seed;
    info.parent_run = a->parent;
    info.folds_hash = r->has_cv ? r->folds_hash : NULL;
    info.model = s->model.name;
    info.n_params = np;
    info.params = (const char *const *)params;
    info.n_metrics = n_metrics;
    info.metrics = metrics;
    info.n_stages = n_stages;
    info.stages = stages;
    info.n_sources = r->n_sources;
    info.sources = sources;
    if (r->prep) {
        info.rows_in = r->prep->rows_in;
        info.rows_kept = r->prep->frame ? kn_frame_n_rows(r->prep->frame) : 0;
        info.rows_quarantined = r->prep->rows_quarantined;
        info.rows_deduplicated = r->prep->duplicates_removed;
    }
    info.model_bytes = r->artifact_len;
    if (e == KN_OK) e = kn_store_prices(st, &out->prices);
    out->cost = kn_run_cost(&out->prices, stages, n_stages, r->artifact_len);
    if (e == KN_OK)
        e = kn_store_add_run(st, &info, outcome == KN_OK ? r->artifact_bytes : NULL,
                             outcome == KN_OK ? r->artifact_len : 0, &out->run_id);
    if (e == KN_OK && outcome == KN_OK && s->register_name) {
        /* the version first (stage none), then its stage through the gate: a
           refusal leaves a version the user can look at and promote */
        kn_gate_opts g;
        kn_gate_opts_default(&g);
        e = kn_store_register(st, s->register_name, out->run_id, "none", &g, &out->version);
        if (e != KN_OK)
            e = kn_fail_prefix(e, "run %s is recorded, but registering it as '%s' failed: ",
                               out->run_id, s->register_name);
        else if (strcmp(s->register_stage, "none")) {
            /* the version the stage holds now: a stage holds one version, so
               it is archived by this promotion (the summary says so) */
            char ref[300];
            int held = 0;
            snprintf(ref, sizeof ref, "%s@%s", s->register_name, s->register_stage);
            if (strcmp(s->register_stage, "archived") &&
                kn_store_resolve(st, ref, NULL, &held, NULL) != KN_OK)
                kn_clear_error(), held = 0;
            e = kn_store_promote(st, s->register_name, out->version, s->register_stage, &g);
            if (e == KN_OK && held && held != out->version) out->replaced = held;
            if (e != KN_OK)
                e = kn_fail_prefix(e,
                                   "run %s is recorded as %s v%d (stage none), but the gate kept "
                                   "it out of %s: ",
                                   out->run_id, s->register_name, out->version, s->register_stage);
        }
    }
    for (size_t i = 0; params && i < np; i++) kn_free(params[i]);
    kn_free(params);
    kn_free(metrics);
    kn_free(stages);
    kn_free(sources);
    kn_store_close(st);
    return e;
}

kn_status cli_run_record(const char *store, const char *experiment, const char *parent,
                         const kn_prep_spec *s, const kn_run_output *r, double start, char **run_id)
{
    run_args a = {0};
    a.store = store;
    a.experiment = experiment;
    a.parent = parent;
    recorded rec = {0};
    kn_status e = record(&a, s, r, KN_OK, start, &rec);
    if (e != KN_OK) {
        kn_free(rec.run_id);
        rec.run_id = NULL;
    }
    *run_id = rec.run_id;
    return e;
}

static const char *trial_status(kn_trial_status st)
{
    return st == KN_TRIAL_OK ? "ok" : st == KN_TRIAL_PRUNED ? "pruned" : "failed";
}

/* The search: its settings, the best trial and the next best few. */
static void print_search(const kn_prep_spec *s, const kn_run_output *r)
{
    const kn_tune_result *t = &r->search;
    const kn_tune_trial *b = &t->trial[t->best];
    printf("search    %s, %zu trials, %s (%s is better), seed %llu\n",
           kn_tune_strategy_name((kn_tune_strategy)s->search.strategy), t->n, t->metric,
           t->higher_is_better ? "higher" : "lower", (unsigned long long)r->search_seed);
    if (t->stopped)
        printf("          stopped after %zu trials: %s\n", t->n,
               t->stopped == 4   ? "the space holds no more distinct configurations"
               : t->stopped == 3 ? "search: max_cost reached"
               : t->stopped == 2 ? "interrupted"
                                 : "search: max_time reached");
    /* the five best finished trials, best first (ties: the earlier trial);
     * halving and hyperband choose the best among the trials at the largest
     * resource, so only those are ranked: a trial on a smaller resource may
     * score better (fewer rounds, fewer rows) and was never a candidate */
    int shown[5] = {0};
    size_t n_shown = 0, smaller = 0;
    for (size_t i = 0; i < t->n; i++)
        smaller += t->trial[i].status == KN_TRIAL_OK && t->trial[i].resource != b->resource;
    for (; n_shown < 5; n_shown++) {
        int pick = -1;
        for (size_t i = 0; i < t->n; i++) {
            int taken = 0;
            for (size_t k = 0; k < n_shown; k++) taken |= shown[k] == (int)i;
            if (taken || t->trial[i].status != KN_TRIAL_OK || !isfinite(t->trial[i].score) ||
                t->trial[i].resource != b->resource)
                continue;
            double d = t->trial[i].score - (pick < 0 ? 0 : t->trial[pick].score);
            if (pick < 0 || (t->higher_is_better ? d > 0 : d < 0)) pick = (int)i;
        }
        if (pick < 0) break;
        shown[n_shown] = pick;
        const kn_tune_trial *x = &t->trial[pick];
        printf("  trial %-4zu %.4f ± %.4f ", x->id, x->score, x->std);
        for (size_t i = 0; i < x->n_params; i++) printf(" %s", x->params[i]);
        if (x->resource > 0 && s->search.strategy == KN_TUNE_HYPERBAND)
            printf("  (bracket %zu, rung %zu, resource %.4g)", x->bracket, x->rung, x->resource);
        else if (x->resource > 0)
            printf("  (rung %zu, resource %.4g)", x->rung, x->resource);
        printf("%s\n", x == b ? "   <- best" : "");
    }
    size_t other = 0;
    for (size_t i = 0; i < t->n; i++) other += t->trial[i].status != KN_TRIAL_OK;
    if (other) printf("  (%zu trials pruned or failed)\n", other);
    if (smaller)
        printf("  (%zu trials on a smaller resource than %.4g not ranked: the best is chosen at "
               "the largest; 'kiln inspect' lists every trial)\n",
               smaller, b->resource);
    printf("          the model below uses the best trial's parameters:");
    for (size_t i = 0; i < r->n_chosen; i++) printf(" %s", r->chosen[i]);
    printf("\n");
}

/* The search as JSON: settings, every trial (with its timing) and the best. */
static json_t *search_json(const kn_prep_spec *s, const kn_run_output *r)
{
    const kn_tune_result *t = &r->search;
    json_t *trials = json_array();
    for (size_t i = 0; i < t->n; i++) {
        const kn_tune_trial *x = &t->trial[i];
        json_t *params = json_object();
        for (size_t k = 0; k < x->n_params; k++) {
            const char *eq = strchr(x->params[k], '=');
            char *name = kn_sprintf("%.*s", (int)(eq - x->params[k]), x->params[k]);
            if (name) json_object_set_new(params, name, json_string(eq + 1));
            kn_free(name);
        }
        json_t *o =
            json_pack("{s:I, s:o, s:s, s:o, s:o, s:f}", "trial", (json_int_t)x->id, "params",
                      params, "status", trial_status(x->status), "score", cli_json_num(x->score),
                      "std", cli_json_num(x->std), "seconds", x->seconds);
        if (o && x->resource > 0) { /* halving, hyperband */
            if (s->search.strategy == KN_TUNE_HYPERBAND)
                json_object_set_new(o, "bracket", json_integer((json_int_t)x->bracket));
            json_object_set_new(o, "rung", json_integer((json_int_t)x->rung));
            json_object_set_new(o, "resource", json_real(x->resource));
        }
        json_array_append_new(trials, o);
    }
    json_t *chosen = json_object();
    for (size_t k = 0; k < r->n_chosen; k++) {
        const char *eq = strchr(r->chosen[k], '=');
        char *name = kn_sprintf("%.*s", (int)(eq - r->chosen[k]), r->chosen[k]);
        if (name) json_object_set_new(chosen, name, json_string(eq + 1));
        kn_free(name);
    }
    const kn_tune_trial *b = &t->trial[t->best];
    return json_pack(
        "{s:s, s:s, s:b, s:I, s:s, s:f, s:o, s:{s:I, s:o, s:o, s:o}}", "strategy",
        kn_tune_strategy_name((kn_tune_strategy)s->search.strategy), "metric", t->metric,
        "higher_is_better", t->higher_is_better, "seed", (json_int_t)r->search_seed, "stopped",
        t->stopped == 4   ? "space-exhausted"
        : t->stopped == 3 ? "max-cost"
        : t->stopped == 2 ? "interrupted"
        : t->stopped == 1 ? "max-time"
                          : "no",
        "cost", t->cost, "trials", trials, "best", "trial", (json_int_t)b->id, "params", chosen,
        "score", cli_json_num(b->score), "std", cli_json_num(b->std));
}

static void print_summary(const run_args *a, const kn_prep_spec *s, const kn_run_output *r,
                          const recorded *rec, const char *store_dir)
{
    char b1[32], b2[32], b3[32], b4[32];
    const kn_prep_result *p = r->prep;
    printf("\nkiln run %s (seed %llu, %s, model %s)\n", s->path, (unsigned long long)r->seed,
           r->task, s->model.name);
    printf("data      %s rows in, %s kept, %s quarantined, ",
           cli_thousands(p->rows_in, b1, sizeof b1),
           cli_thousands(kn_frame_n_rows(p->frame), b2, sizeof b2),
           cli_thousands(p->rows_quarantined, b3, sizeof b3));
    if (p->rows_dropped) /* a schema's on_violation: drop (not in the quarantine file) */
        printf("%s dropped, ", cli_thousands(p->rows_dropped, b3, sizeof b3));
    printf("%s duplicates removed\n", cli_thousands(p->duplicates_removed, b4, sizeof b4));
    printf("split     %s training rows, %s test rows\n",
           cli_thousands(r->rows_train, b1, sizeof b1), cli_thousands(r->rows_test, b2, sizeof b2));
    if (r->has_split_check) {
        const kn_compare_report *c = &r->split_check;
        if (!c->n_flagged)
            printf("          the test rows look like the training rows (%zu columns compared)\n",
                   c->n_cols);
        else {
            printf("          %zu of %zu columns differ between training and test rows:",
                   c->n_flagged, c->n_cols);
            /* the five that moved most (by PSI) */
            int shown[5] = {0};
            size_t n_shown = 0;
            for (; n_shown < 5; n_shown++) {
                int best = -1;
                for (size_t i = 0; i < c->n_cols; i++) {
                    int taken = 0;
                    for (size_t k = 0; k < n_shown; k++) taken |= shown[k] == (int)i;
                    if (c->cols[i].flagged && !taken &&
                        (best < 0 || c->cols[i].psi > c->cols[best].psi))
                        best = (int)i;
                }
                if (best < 0) break;
                shown[n_shown] = best;
                const kn_compare_col *x = &c->cols[best];
                printf("%s %s (%s %.3g, PSI %.3g)", n_shown ? "," : "", x->name,
                       strcmp(x->test, "ks") ? "V" : "D", x->effect, x->psi);
            }
            printf("\n          (the test score may not carry over; 'kiln compare' shows each "
                   "column)\n");
        }
    }
    if (r->n_chosen) print_search(s, r);
    if (r->has_cv) {
        static const char *const splits[] = {"k-fold", "stratified", "group", "time-series", ""};
        /* how rows reach the folds: shuffled by the run's seed, or in the
         * file's order (which a sorted file makes misleading) */
        char order[96] = "";
        if (r->cv.split == KN_SPLIT_KFOLD || r->cv.split == KN_SPLIT_STRATIFIED)
            snprintf(order, sizeof order,
                     s->eval.shuffle ? ", rows shuffled by seed %llu"
                                     : ", rows in file order (shuffle: false)",
                     (unsigned long long)r->seed);
        printf("cv        %zu folds (%s%s):\n", r->cv.k,
               (unsigned)r->cv.split < 5 ? splits[r->cv.split] : "?", order);
        for (size_t m = 0; m < r->cv.n_scores; m++) {
            printf("  %-22s %.4f ± %.4f  [", r->cv.name[m], r->cv.mean[m], r->cv.std[m]);
            for (size_t f = 0; f < r->cv.k; f++)
                printf("%s%.4f", f ? " " : "", r->cv.score[f * r->cv.n_scores + m]);
            printf("]");
            if (r->cv.has_train) printf("  train %.4f", r->cv.train_mean[m]);
            printf("  baseline %.4f\n", r->cv.baseline_mean[m]); /* on each fold's test rows */
        }
        if (r->cv.has_train) printf("fit       %s\n", r->cv.verdict_text);
    }
    if (r->has_test) {
        printf("test      %s rows:\n", cli_thousands(r->rows_test, b1, sizeof b1));
        for (size_t i = 0; i < r->test.n; i++) {
            int b = kn_scores_find(&r->baseline, r->test.name[i]);
            printf("  %-22s %.4f", r->test.name[i], r->test.value[i]);
            if (r->test.lo && isfinite(r->test.lo[i]))
                printf(" [%.4f, %.4f]", r->test.lo[i], r->test.hi[i]);
            if (b >= 0) printf("   baseline %.4f", r->baseline.value[b]);
            printf("\n");
        }
        if (r->test.positive_class) printf("  (positive class: %s)\n", r->test.positive_class);
        if (r->test.lo)
            printf("  (%.0f %% bootstrap intervals over the test rows)\n", 100 * r->test.level);
        if (r->test.worst >= 0 && r->test.n) {
            const kn_scores *w = &r->test.slices[r->test.worst].scores;
            printf("  worst slice: %s = %s (%zu rows): %s %.4f, overall %.4f\n", s->eval.slice_by,
                   r->test.slices[r->test.worst].value, w->rows, r->test.name[0], w->value[0],
                   r->test.value[0]);
        }
    }
    printf("artifact  %s", cli_bytes(r->artifact_len, b1, sizeof b1));
    if (a->out) printf(", written to %s", a->out);
    if (a->sign_key) printf(", signed");
    printf("\nstages\n");
    cli_print_stages(stdout);
    if (rec) {
        printf("cost      $%.6f estimated (%.4g per core-hour, %.4g per GB-hour, %.4g per "
               "GB-month)\n",
               rec->cost, rec->prices.core_hour, rec->prices.gb_hour, rec->prices.gb_month);
        printf("run       %s in %s\n", rec->run_id, store_dir);
        if (s->register_name && rec->replaced)
            printf("model     %s v%d (stage %s; v%d left %s for archived%s)\n", s->register_name,
                   rec->version, s->register_stage, rec->replaced, s->register_stage,
                   strcmp(s->register_stage, "production")
                       ? ""
                       : ": kiln models rollback returns to it");
        else if (s->register_name)
            printf("model     %s v%d (stage %s)\n", s->register_name, rec->version,
                   s->register_stage);
    }
}

static json_t *run_json(const run_args *a, const kn_prep_spec *s, const kn_run_output *r,
                        const recorded *rec, const char *store_dir)
{
    const kn_prep_result *p = r->prep;
    json_t *j = json_pack(
        "{s:s, s:s, s:I, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "command", "run", "spec",
        s->path, "seed", (json_int_t)r->seed, "task", r->task, "model", s->model.name, "rows", "in",
        (json_int_t)p->rows_in, "kept", (json_int_t)kn_frame_n_rows(p->frame), "quarantined",
        (json_int_t)p->rows_quarantined, "dropped", (json_int_t)p->rows_dropped, "deduplicated",
        (json_int_t)p->duplicates_removed, "train", (json_int_t)r->rows_train);
    json_object_set_new(json_object_get(j, "rows"), "test", json_integer((json_int_t)r->rows_test));
    if (r->has_cv) {
        json_t *folds = json_array(), *mean = json_object(), *std = json_object();
        for (size_t f = 0; f < r->cv.k; f++) {
            json_t *fo = json_object();
            for (size_t m = 0; m < r->cv.n_scores; m++)
                json_object_set_new(fo, r->cv.name[m],
                                    cli_json_num(r->cv.score[f * r->cv.n_scores + m]));
            json_array_append_new(folds, fo);
        }
        for (size_t m = 0; m < r->cv.n_scores; m++) {
            json_object_set_new(mean, r->cv.name[m], cli_json_num(r->cv.mean[m]));
            json_object_set_new(std, r->cv.name[m], cli_json_num(r->cv.std[m]));
        }
        json_t *cv =
            json_pack("{s:I, s:o, s:o, s:o, s:b}", "k", (json_int_t)r->cv.k, "folds", folds, "mean",
                      mean, "std", std, "shuffled",
                      (r->cv.split == KN_SPLIT_KFOLD || r->cv.split == KN_SPLIT_STRATIFIED) &&
                          s->eval.shuffle);
        if (r->cv.has_train) {
            json_t *train = json_object();
            for (size_t m = 0; m < r->cv.n_scores; m++)
                json_object_set_new(train, r->cv.name[m],
                                    json_pack("{s:o, s:o}", "mean",
                                              cli_json_num(r->cv.train_mean[m]), "std",
                                              cli_json_num(r->cv.train_std[m])));
            json_object_set_new(cv, "train", train);
            json_t *base = json_object(); /* the training class prior / mean, per fold */
            for (size_t m = 0; m < r->cv.n_scores; m++)
                json_object_set_new(base, r->cv.name[m], cli_json_num(r->cv.baseline_mean[m]));
            json_object_set_new(cv, "baseline", base);
            json_object_set_new(cv, "verdict",
                                json_pack("{s:s, s:s}", "fit", kn_fit_verdict_name(r->cv.verdict),
                                          "evidence", r->cv.verdict_text));
        }
        json_object_set_new(j, "cv", cv);
    }
    if (r->n_chosen) json_object_set_new(j, "search", search_json(s, r));
    if (r->has_split_check) {
        json_t *differ = json_array();
        for (size_t i = 0; i < r->split_check.n_cols; i++)
            if (r->split_check.cols[i].flagged)
                json_array_append_new(differ, json_string(r->split_check.cols[i].name));
        json_object_set_new(j, "representativeness",
                            json_pack("{s:I, s:o}", "columns_compared",
                                      (json_int_t)r->split_check.n_cols, "differing", differ));
    }
    if (r->has_test) {
        json_object_set_new(j, "test", cli_scores_json(&r->test));
        json_object_set_new(j, "baseline", cli_scores_json(&r->baseline));
        cli_scores_meaning_json(j, r->test.roc_auc_average, r->test.positive_class);
    }
    char hex[65];
    kn_artifact_hash_hex(r->artifact_bytes, r->artifact_len, hex);
    json_object_set_new(j, "artifact",
                        json_pack("{s:I, s:s, s:s?, s:b}", "bytes", (json_int_t)r->artifact_len,
                                  "hash", hex, "file", a->out, "signed", a->sign_key != NULL));
    if (rec) {
        json_object_set_new(j, "run_id", json_string(rec->run_id));
        json_object_set_new(j, "store", json_string(store_dir));
        json_object_set_new(j, "cost", cli_json_num(rec->cost));
        if (s->register_name)
            json_object_set_new(
                j, "registered",
                json_pack("{s:s, s:i, s:s, s:o}", "name", s->register_name, "version", rec->version,
                          "stage", s->register_stage, "replaced",
                          rec->replaced ? json_integer(rec->replaced) : json_null()));
    }
    json_object_set_new(j, "stages", cli_stages_json());
    return j;
}

static kn_status write_out(const char *path, const kn_run_output *r)
{
    char *tmp = kn_temp_path(path);
    FILE *fp = tmp ? fopen(tmp, "wb") : NULL;
    int ok = fp && fwrite(r->artifact_bytes, 1, r->artifact_len, fp) == r->artifact_len;
    int err = errno;
    if (fp && fclose(fp) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    if (ok) return kn_temp_commit(tmp, path);
    kn_temp_discard(tmp);
    return kn_fail(KN_ERR_IO, "%s: cannot write the artifact there (%s); nothing was recorded",
                   path, strerror(err));
}

/* --out may be none of the run's inputs (the spec, its schema, a file or
 * SQLite source) unless --overwrite-input, and never the store's database. */
static int refuse_outputs(const run_args *a, const kn_prep_spec *s, const char *store_dir)
{
    if (!a->out) return CLI_OK;
    const char **ins = kn_calloc(s->n_sources + 2, sizeof *ins);
    if (!ins) return CLI_FAIL;
    size_t n = 0;
    ins[n++] = a->spec;
    if (s->schema) ins[n++] = s->schema;
    for (size_t i = 0; i < s->n_sources; i++)
        if (s->sources[i].kind == KN_SOURCE_FILE || s->sources[i].kind == KN_SOURCE_SQLITE)
            ins[n++] = s->sources[i].location;
    const char *outs[] = {a->out};
    int rc = cli_refuse_overwrite("run", outs, 1, ins, n, a->overwrite_input);
    kn_free(ins);
    char *db = kn_sprintf("%s/kiln.db", store_dir);
    if (rc == CLI_OK && db && kn_same_file(a->out, db))
        rc =
            cli_usage_error("run", "--out %s is the store's database; choose another path", a->out);
    kn_free(db);
    return rc;
}

/* The store must be usable before the work starts: an existing store opens
 * (a folder, a Kiln store, writable); a new one needs a writable parent. */
static int check_store(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        char *parent = kn_strdup(dir), *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash) *slash = 0;
        const char *p = !parent ? "." : slash ? (parent[0] ? parent : "/") : ".";
        int ok = access(p, W_OK) == 0;
        if (!ok)
            cli_error("cannot create the store %s: %s is not writable (%s); choose another "
                      "--store DIR",
                      dir, p, strerror(errno));
        kn_free(parent);
        return ok ? CLI_OK : CLI_FAIL;
    }
    if (!S_ISDIR(st.st_mode)) {
        cli_error("--store %s is a file, not a store folder; choose another --store DIR", dir);
        return CLI_FAIL;
    }
    kn_store *k = NULL;
    kn_status e = kn_store_open(dir, 0, &k);
    kn_store_close(k);
    if (e == KN_ERR_NOT_FOUND) return CLI_OK; /* an empty folder becomes the store */
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    if (access(dir, W_OK) != 0) {
        cli_error("the store %s is read-only (%s); the run could not be recorded: choose another "
                  "--store DIR",
                  dir, strerror(errno));
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cmd_run(int argc, char **argv)
{
    run_args a = {0};
    uint64_t given = 0;
    int rc = cli_parse(&run_spec, argc, argv, &a, &given);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (a.no_store && !a.out)
        return cli_usage_error("run", "--no-store keeps nothing unless --out FILE.kiln is given");
    if (a.no_store && a.store) return cli_usage_error("run", "choose --store DIR or --no-store");
    unsigned char key[KN_ARTIFACT_SECRET_KEY_BYTES];
    if (a.sign_key && kn_artifact_key_load(a.sign_key, 1, key) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    kn_prep_spec *s = NULL;
    if (kn_prep_spec_load(a.spec, &s) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    if (!s->model.name) {
        cli_error("%s: the spec has no model: to train; add model: {gbdt: {}} (and evaluation:, "
                  "register:), or run a prep-only spec with `kiln prep %s`",
                  a.spec, a.spec);
        kn_prep_spec_free(s);
        return CLI_FAIL;
    }
    const char *store_dir = a.store                ? a.store
                            : getenv("KILN_STORE") ? getenv("KILN_STORE")
                                                   : "kiln-store";
    if ((rc = refuse_outputs(&a, s, store_dir)) != CLI_OK ||
        (!a.no_store && (rc = check_store(store_dir)) != CLI_OK)) {
        kn_prep_spec_free(s);
        return rc;
    }
    cli_spec_context = 1; /* library messages name the spec's keys */
    kn_run_opts o;
    kn_run_opts_default(&o);
    o.seed_set = cli_given(&run_spec, given, "seed");
    o.seed = a.seed;
    o.threads = cli.threads;
    o.secret_key = a.sign_key ? key : NULL;
    o.overwrite_input = a.overwrite_input;
    o.parent_run = a.parent;
    o.jobs = a.jobs;
    kn_prices prices; /* of search: max_cost (as kiln tune's: $KILN_PRICE_CORE_HOUR, ...) */
    if (kn_store_prices(NULL, &prices) == KN_OK) {
        o.core_hour = prices.core_hour;
        o.gb_hour = prices.gb_hour;
    }
    double start = now_s();
    kn_run_output *r = NULL;
    kn_status e = kn_run_spec(s, &o, &r);
    char *why = e != KN_OK ? kn_strdup(kn_last_error()) : NULL;
    if (e == KN_OK && a.out) e = write_out(a.out, r);
    recorded rec = {0};
    kn_status se = KN_OK;
    if (!a.no_store && e == KN_OK) { /* a failed run leaves the store as it was */
        kn_stage_begin("store");
        se = record(&a, s, r, e, start, &rec);
        kn_stage_end();
    }
    if (e != KN_OK)
        cli_error("%s", why ? why : kn_last_error());
    else if (se != KN_OK) {
        cli_error("%s", kn_last_error());
        if (a.out) fprintf(stderr, "kiln: the artifact was written to %s\n", a.out);
    } else if (cli.json)
        rc = cli_emit_json(run_json(&a, s, r, a.no_store ? NULL : &rec, store_dir));
    else {
        print_summary(&a, s, r, a.no_store ? NULL : &rec, store_dir);
        if (!a.no_store && s->register_name)
            printf("\nnext:\n  %s predict --model %s%s%s --data NEW.csv --store %s --out "
                   "scored.csv\n"
                   "  %s runs list --store %s\n  %s report %s --store %s --out report.html\n",
                   cli.program, s->register_name, strcmp(s->register_stage, "none") ? "@" : "",
                   strcmp(s->register_stage, "none") ? s->register_stage : "", store_dir,
                   cli.program, store_dir, cli.program, rec.run_id, store_dir);
    }
    if (e != KN_OK || se != KN_OK) rc = CLI_FAIL;
    memset(key, 0, sizeof key);
    kn_free(why);
    kn_free(rec.run_id);
    kn_run_output_free(r);
    kn_prep_spec_free(s);
    return rc;
}
