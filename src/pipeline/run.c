/* Running a spec end to end (see kiln/run.h): data -> test hold-out -> CV on
 * the training rows -> final fit -> one score on the test rows -> artifact. */
#include "data/parse-impl.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "kiln/tune.h"
#include "pipeline/pipeline-impl.h"
#include "pipeline/run-impl.h"
#include "pipeline/spec-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn_run_opts_default(kn_run_opts *o)
{
    memset(o, 0, sizeof *o);
}

/* The model's parameters: the spec's, then the run's seed as the model's
 * `seed` when it has one and the spec does not set it. */
static kn_status model_params(kn__run_state *w)
{
    const kn_prep_spec *s = w->s;
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, s->model.name);
    int has_seed = 0, spec_sets = 0;
    for (const kn_param_def *d = c ? c->params : NULL; d && d->name; d++)
        if (!strcmp(d->name, "seed")) has_seed = 1;
    for (size_t p = 0; p < s->model.n_params; p++)
        if (!strncmp(s->model.params[p], "seed=", 5)) spec_sets = 1;
    w->params = kn_calloc(s->model.n_params + 1, sizeof *w->params);
    if (!w->params) return KN_ERR_NOMEM;
    for (size_t p = 0; p < s->model.n_params; p++)
        if (!(w->params[w->n_params++] = kn_strdup(s->model.params[p]))) return KN_ERR_NOMEM;
    if (has_seed && !spec_sets &&
        !(w->params[w->n_params++] =
              kn_sprintf("seed=%llu", (unsigned long long)(w->r->seed % 1000000000000000ull))))
        return KN_ERR_NOMEM;
    return KN_OK;
}

/* The model of the spec with its parameters and task (new). */
static kn_status new_model(const kn__run_state *w, kn_model **out)
{
    const kn_prep_spec *s = w->s;
    kn_model *m = NULL;
    kn_status e = kn_model_new(s->model.name, &m);
    for (size_t p = 0; e == KN_OK && p < w->n_params; p++) e = kn_model_set(m, w->params[p]);
    if (e == KN_OK && s->task)
        e = kn_model_set_task(m, strcmp(s->task, "regression") ? KN_TASK_CLASSIFICATION
                                                               : KN_TASK_REGRESSION);
    if (e != KN_OK) {
        kn_model_free(m);
        return kn_fail_prefix(e, "model %s: ", s->model.name);
    }
    *out = m;
    return KN_OK;
}

/* A step of the spec as "name:param=value;..." (what kn_cv_spec takes). */
static char *step_text(const kn_spec_step *st)
{
    size_t need = strlen(st->name) + 2;
    for (size_t p = 0; p < st->n_params; p++) need += strlen(st->params[p]) + 1;
    char *t = kn_malloc(need);
    if (!t) return NULL;
    size_t used = (size_t)snprintf(t, need, "%s", st->name);
    for (size_t p = 0; p < st->n_params; p++)
        used += (size_t)snprintf(t + used, need - used, "%s%s", p ? ";" : ":", st->params[p]);
    return t;
}

/* Rows of f whose column `by` is at or after `from` (the test set of a time
 * cut); the others are the training rows. */
static kn_status time_cut(const kn_prep_spec *s, const kn_frame *f, size_t *train, size_t *nt,
                          size_t *test, size_t *ns)
{
    size_t j;
    char hint[160], at[4200];
    if (kn_frame_find(f, s->eval.test_by, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "%s: evaluation: test: by: the frame has no column '%s'%s",
                       kn__spec_at(s, s->test_by_at, at, sizeof at), s->eval.test_by,
                       kn_frame_did_you_mean(f, s->eval.test_by, hint, sizeof hint));
    kn_column *c = kn_frame_col(f, j);
    double cut;
    char *end;
    int64_t us;
    const char *from = s->eval.test_from;
    if (kn_column_type(c) == KN_COL_NUMERIC) {
        cut = strtod(from, &end);
        if (!*from || *end)
            return kn_fail(KN_ERR_INVALID,
                           "%s: evaluation: test: from '%s' is not a number "
                           "(column '%s' is numeric)",
                           s->path, from, s->eval.test_by);
    } else if (kn_column_type(c) == KN_COL_TIMESTAMP) {
        if (!kn__parse_timestamp(from, from + strlen(from), &us))
            return kn_fail(KN_ERR_INVALID,
                           "%s: evaluation: test: from '%s' is not a time (ISO-8601, e.g. "
                           "2024-06-01)",
                           s->path, from);
        cut = (double)us;
    } else
        return kn_fail(KN_ERR_TYPE,
                       "%s: evaluation: test: by: column '%s' is not numeric or a time", s->path,
                       s->eval.test_by);
    *nt = *ns = 0;
    for (size_t r = 0; r < kn_frame_n_rows(f); r++) {
        double v = kn_column_type(c) == KN_COL_NUMERIC   ? kn_column_f64(c)[r]
                   : kn_column_ts(c)[r] == KN_TS_MISSING ? NAN
                                                         : (double)kn_column_ts(c)[r];
        if (v >= cut)
            test[(*ns)++] = r;
        else
            train[(*nt)++] = r; /* a missing time trains */
    }
    return KN_OK;
}

/* Source i's reader options (its read: settings) into o. */
static kn_status source_read_opts(const kn_spec_source *src, kn_read_opts *o)
{
    kn_read_opts_default(o);
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < src->n_read; i++)
        e = kn_param_set(kn_read_params(), o, src->read[i]);
    return e;
}

/* A separate source as the test set: read with its reader settings and the
 * spec's schema (rows the schema rejects are left out), and as new data for
 * the model is read (kiln predict): with the training rows' column types,
 * a missing token a level of a text column only where it is one in the
 * training rows (kiln/io.h: kn_read_settings), so that the held-out
 * predictions are kiln predict's on the same file. */
static kn_status read_test_source(kn__run_state *w, kn_frame **out)
{
    const kn_prep_spec *s = w->s;
    const kn_spec_source *src = NULL;
    for (size_t i = 0; i < s->n_sources; i++)
        if (!strcmp(s->sources[i].name, s->eval.test_source)) src = &s->sources[i];
    if (!src || src->kind != KN_SOURCE_FILE)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "%s: evaluation: test: source '%s' must be a file source", s->path,
                       s->eval.test_source);
    const kn_frame *train = w->r->prep->frame;
    size_t p = kn_frame_n_cols(train), len = 0;
    kn_read_opts ro, tro;
    char *text = NULL;
    kn_col_decl *decls = kn_malloc((p ? p : 1) * sizeof *decls);
    kn_status e = decls ? source_read_opts(src, &ro) : KN_ERR_NOMEM;
    if (e == KN_OK && s->n_sources) e = source_read_opts(&s->sources[0], &tro);
    if (e == KN_OK && s->n_sources) e = kn_read_settings_format(&tro, train, &text, &len);
    for (size_t j = 0; e == KN_OK && j < p; j++) {
        kn_column *c = kn_frame_col((kn_frame *)train, j);
        decls[j] = (kn_col_decl){kn_column_name(c), kn_column_type(c)};
    }
    kn_read_settings rs = {text, len};
    if (e == KN_OK) {
        ro.decls = decls;
        ro.n_decls = p;
        if (text && strstr(text, "\ntoken_levels=listed\n")) {
            ro.token_is_level = kn_read_settings_token_level;
            ro.token_is_level_user = &rs;
        }
    }
    kn_frame *f = NULL;
    if (e == KN_OK) e = kn_frame_read(src->location, &ro, &f, NULL);
    kn_free(decls);
    kn_free(text);
    if (e != KN_OK || !s->schema) {
        if (e != KN_OK) return kn_fail_prefix(e, "test source '%s': ", src->name);
        *out = f;
        return KN_OK;
    }
    kn_schema *schema = NULL;
    kn_validation *v = NULL;
    e = kn_schema_load(s->schema, &schema);
    if (e == KN_OK) e = kn_schema_validate(schema, f, &v);
    size_t n = kn_frame_n_rows(f), nk = 0;
    size_t *keep = e == KN_OK ? kn_malloc((n ? n : 1) * sizeof *keep) : NULL;
    if (e == KN_OK && !keep) e = KN_ERR_NOMEM;
    for (size_t r = 0; e == KN_OK && r < n; r++)
        if (!v->row_fate || !v->row_fate[r]) keep[nk++] = r;
    if (e == KN_OK && v->failed)
        e = kn_fail(KN_ERR_INVALID,
                    "test source '%s' fails the schema %s; `kiln validate` lists "
                    "every rule",
                    src->name, s->schema);
    if (e == KN_OK) e = kn_frame_select_rows(f, keep, nk, out);
    kn_free(keep);
    kn_validation_free(v);
    kn_schema_free(schema);
    kn_frame_free(f);
    return e;
}

kn_status kn__run_split_test(kn__run_state *w, int classify)
{
    const kn_prep_spec *s = w->s;
    const kn_frame *f = w->r->prep->frame;
    size_t n = kn_frame_n_rows(f), *parts[2] = {NULL, NULL}, sizes[2] = {n, 0};
    kn_status e = KN_OK;
    if (s->eval.test_source) {
        e = read_test_source(w, &w->test);
        if (e != KN_OK) return e;
        parts[0] = kn_malloc((n ? n : 1) * sizeof(size_t));
        if (!parts[0]) return KN_ERR_NOMEM;
        for (size_t r = 0; r < n; r++) parts[0][r] = r;
    } else if (s->eval.test_by) {
        parts[0] = kn_malloc((n ? n : 1) * sizeof(size_t));
        parts[1] = kn_malloc((n ? n : 1) * sizeof(size_t));
        e = parts[0] && parts[1] ? time_cut(s, f, parts[0], &sizes[0], parts[1], &sizes[1])
                                 : KN_ERR_NOMEM;
    } else if (s->eval.test_fraction > 0) {
        int32_t *strata = NULL;
        size_t k = 0;
        if (classify) e = kn_split_labels(f, s->target, &strata, &k);
        double shares[2] = {1 - s->eval.test_fraction, s->eval.test_fraction};
        if (e == KN_OK) e = kn_split_shares(n, strata, shares, 2, w->r->seed, parts, sizes);
        kn_free(strata);
        /* the folds keep groups apart or time in order; a random draw does not */
        int time = s->eval.split == KN_SPLIT_TIME;
        if (e == KN_OK && s->eval.cv && (time || s->eval.groups || s->eval.split == KN_SPLIT_GROUP))
            kn_log(KN_LOG_WARN,
                   "%s: evaluation: the test rows are a random %g of the rows, but the cv "
                   "folds are %s: %s, so the test score may be more hopeful than the folds'; "
                   "%s",
                   s->path, s->eval.test_fraction, time ? "time-series" : "by group",
                   time ? "the final model trains on rows after test rows"
                        : "test rows may share groups with training rows",
                   time ? "hold out the latest rows (test: {by: COLUMN, from: VALUE})"
                        : "hold out whole groups as a separate source (test: {source: NAME})");
    } else {
        parts[0] = kn_malloc((n ? n : 1) * sizeof(size_t));
        if (!parts[0]) return KN_ERR_NOMEM;
        for (size_t r = 0; r < n; r++) parts[0][r] = r;
    }
    if (e == KN_OK && !sizes[0])
        e = kn_fail(KN_ERR_INVALID,
                    "%s: evaluation: no training rows are left after the test "
                    "hold-out",
                    s->path);
    if (e == KN_OK && (s->eval.test_by || s->eval.test_fraction > 0) && !sizes[1])
        e = kn_fail(KN_ERR_INVALID, "%s: evaluation: the test hold-out has no rows%s", s->path,
                    s->eval.test_by ? " (no row is at or after the cut)" : "");
    if (e == KN_OK) e = kn_frame_select_rows(f, parts[0], sizes[0], &w->train);
    if (e == KN_OK && parts[1] && sizes[1] && !w->test)
        e = kn_frame_select_rows(f, parts[1], sizes[1], &w->test);
    kn_free(parts[0]);
    kn_free(parts[1]);
    if (e == KN_OK) {
        w->r->rows_train = kn_frame_n_rows(w->train);
        w->r->rows_test = w->test ? kn_frame_n_rows(w->test) : 0;
    }
    return e;
}

/* The CV of the spec's pipeline on the training rows; steps (n_steps
 * strings) are made here and freed with free_steps. */
static kn_status cv_spec(const kn__run_state *w, kn_cv_spec *c, char ***steps)
{
    const kn_prep_spec *s = w->s;
    *steps = kn_calloc(s->n_steps ? s->n_steps : 1, sizeof **steps);
    if (!*steps) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < s->n_steps; i++)
        if (!((*steps)[i] = step_text(&s->steps[i]))) e = KN_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    c->model = s->model.name;
    c->params = (const char *const *)w->params;
    c->n_params = w->n_params;
    c->steps = (const char *const *)*steps;
    c->n_steps = s->n_steps;
    c->target = s->target;
    c->groups = s->eval.groups;
    c->order_by = s->eval.order_by;
    kn_split_opts_default(&c->split);
    c->split.kind = s->eval.split;
    c->split.folds = s->eval.folds;
    c->split.repeats = s->eval.repeats;
    c->split.gap = s->eval.gap;
    c->split.shuffle = s->eval.shuffle;
    c->split.seed = w->r->seed;
    c->threads = (int)w->o->threads;
    c->task = s->task;
    c->positive_class = s->eval.positive_class;
    c->metrics = (const char *const *)s->eval.metrics;
    c->n_metrics = s->eval.n_metrics;
    c->ensemble = w->ens;
    return e;
}

static void free_steps(const kn_prep_spec *s, char **steps)
{
    for (size_t i = 0; steps && i < s->n_steps; i++) kn_free(steps[i]);
    kn_free(steps);
}

static kn_status run_cv(kn__run_state *w)
{
    kn_cv_spec c;
    char **steps = NULL;
    kn_status e = cv_spec(w, &c, &steps);
    if (e == KN_OK) e = kn_cv_run(w->train, &c, &w->r->cv);
    if (e == KN_OK) {
        w->r->has_cv = 1;
        e = kn__run_folds_hash(w);
    }
    free_steps(w->s, steps);
    return e;
}

/* The best trial's parameters (and the halving resource it reached, when
 * that is a model parameter) into r->chosen and after the model's
 * parameters in w->params: the model of the CV, the refit and the test. */
static kn_status take_best(kn__run_state *w)
{
    kn_run_output *r = w->r;
    const kn_tune_trial *b = &r->search.trial[r->search.best];
    const kn_component *comp = kn_registry_find(KN_COMP_MODEL, w->s->model.name);
    const char *grown = w->s->search.resource; /* as kn_tune_run chose it */
    if (grown && !strcmp(grown, "rows")) grown = NULL;
    if (!w->s->search.resource && comp && kn_param_find(comp->params, "n_estimators"))
        grown = "n_estimators";
    int resource =
        (w->s->search.strategy == KN_TUNE_HALVING || w->s->search.strategy == KN_TUNE_HYPERBAND) &&
        b->resource > 0 && grown;
    size_t n = b->n_params + (size_t)resource;
    if (!(r->chosen = kn_calloc(n ? n : 1, sizeof *r->chosen))) return KN_ERR_NOMEM;
    for (size_t i = 0; i < b->n_params; i++)
        if (!(r->chosen[r->n_chosen++] = kn_strdup(b->params[i]))) return KN_ERR_NOMEM;
    if (resource && !(r->chosen[r->n_chosen++] = kn_sprintf("%s=%.0f", grown, b->resource)))
        return KN_ERR_NOMEM;
    char **p = kn_realloc(w->params, (w->n_params + n + 1) * sizeof *p);
    if (!p) return KN_ERR_NOMEM;
    w->params = p;
    for (size_t i = 0; i < r->n_chosen; i++)
        if (!(w->params[w->n_params++] = kn_strdup(r->chosen[i]))) return KN_ERR_NOMEM;
    return KN_OK;
}

/* The model's search on the training rows, as `kiln tune` runs it: each
 * trial the spec's pipeline cross-validated (steps inside its folds) with
 * the search's folds and metric; the best trial's parameters are then the
 * model's. Reproducible: seeded by the search's seed (else the run's), the
 * same trials and results on any number of jobs (kiln/tune.h); the budgets
 * max_time and max_cost depend on timing, as kiln tune's do. */
static kn_status run_search(kn__run_state *w)
{
    const kn_spec_search *x = &w->s->search;
    kn_run_output *r = w->r;
    kn_cv_spec c;
    char **steps = NULL;
    kn_status e = cv_spec(w, &c, &steps);
    const char *metric[1] = {x->metric};
    if (x->metric) {
        c.metrics = metric;
        c.n_metrics = 1;
    }
    if (x->folds) c.split.folds = x->folds;
    c.threads = 0; /* the search shares the threads among its trials */
    kn_tune_opts o;
    kn_tune_opts_default(&o);
    o.strategy = (kn_tune_strategy)x->strategy;
    o.trials = x->trials;
    o.jobs = w->o->jobs > 1 ? (int)w->o->jobs : 1;
    o.threads = (int)w->o->threads;
    o.max_seconds = x->max_time;
    o.max_cost = x->max_cost;
    o.core_hour = w->o->core_hour;
    o.gb_hour = w->o->gb_hour;
    o.seed = r->search_seed = x->has_seed ? x->seed : r->seed;
    o.prune = x->prune;
    o.resource = x->resource;
    o.eta = x->eta;
    if (e == KN_OK) {
        e = kn_tune_run(w->train, &c, x->space, &o, &r->search);
        r->has_search = 1; /* (freed whatever it holds) */
    }
    if (e == KN_OK && r->search.best == SIZE_MAX) {
        const char *why = NULL;
        for (size_t i = 0; i < r->search.n && !why; i++) why = r->search.trial[i].error;
        e = kn_fail(KN_ERR_INVALID,
                    "%s: model: search: none of its %zu trials finished%s%s%s: check the space "
                    "and the data",
                    w->s->path, r->search.n, why ? " (the first failure: " : "", why ? why : "",
                    why ? ")" : "");
    }
    if (e == KN_OK) e = take_best(w);
    free_steps(w->s, steps);
    return e;
}

/* One point of a curve: the first metric's train and validation mean and
 * spread over the folds, appended to the arrays of o. */
static void curve_point(json_t *o, const kn_cv_result *r, double x)
{
    double v[5] = {x, r->has_train ? r->train_mean[0] : NAN, r->has_train ? r->train_std[0] : NAN,
                   r->mean[0], r->std[0]};
    static const char *const keys[5] = {"x", "train", "train_std", "validation", "validation_std"};
    for (size_t i = 0; i < 5; i++)
        json_array_append_new(json_object_get(o, keys[i]),
                              isfinite(v[i]) ? json_real(v[i]) : json_null());
}

static json_t *curve_new(const char *x_name)
{
    return json_pack("{s:s, s:[], s:[], s:[], s:[], s:[]}", "x_name", x_name, "x", "train",
                     "train_std", "validation", "validation_std");
}

/* Learning curve: CV with a seeded random share of each fold's training
 * rows (shares evenly from 0.1 to 1); validation curve: CV at each value of
 * one parameter (the spec's and the run's parameters, then that one). */
static kn_status run_curves(kn__run_state *w)
{
    const kn_spec_eval *v = &w->s->eval;
    kn_cv_spec c;
    char **steps = NULL, **params = NULL;
    kn_status e = cv_spec(w, &c, &steps);
    json_t *learn = NULL, *valid = NULL;
    const char *metric = NULL;
    if (e == KN_OK && v->learning_curve) learn = curve_new("training rows");
    for (size_t i = 0; e == KN_OK && i < v->learning_curve; i++) {
        kn_cv_result r = {0};
        c.train_fraction = 0.1 + 0.9 * (double)i / (double)(v->learning_curve - 1);
        c.shuffle_train_rows = 1; /* each share a seeded random sample of the fold's rows */
        e = kn_cv_run(w->train, &c, &r);
        if (e == KN_OK) {
            double rows = 0;
            for (size_t f = 0; f < r.k; f++) rows += (double)r.n_train[f] / (double)r.k;
            curve_point(learn, &r, rows);
            metric = r.name[0];
            kn_cv_result_free(&r);
        }
    }
    c.train_fraction = 0;
    c.shuffle_train_rows = 0;
    if (e == KN_OK && v->curve_param) {
        valid = curve_new(v->curve_param);
        params = kn_calloc(w->n_params + 1, sizeof *params);
        if (!params) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < w->n_params; i++) params[i] = w->params[i];
        c.params = (const char *const *)params;
        c.n_params = w->n_params + 1;
        json_object_set_new(valid, "values", json_array());
    }
    for (size_t i = 0; e == KN_OK && valid && i < v->n_curve_values; i++) {
        char *kv = kn_sprintf("%s=%s", v->curve_param, v->curve_values[i]);
        kn_cv_result r = {0};
        e = kv ? KN_OK : KN_ERR_NOMEM;
        params[w->n_params] = kv;
        if (e == KN_OK) e = kn_cv_run(w->train, &c, &r);
        if (e == KN_OK) {
            char *end = NULL;
            double x = strtod(v->curve_values[i], &end);
            curve_point(valid, &r, end != v->curve_values[i] && !*end ? x : (double)i);
            json_array_append_new(json_object_get(valid, "values"),
                                  json_string(v->curve_values[i]));
            metric = r.name[0];
            kn_cv_result_free(&r);
        }
        kn_free(kv);
    }
    if (e == KN_OK) {
        w->curves =
            json_pack("{s:s?, s:o, s:o}", "metric", metric, "learning", learn ? learn : json_null(),
                      "validation", valid ? valid : json_null());
        learn = valid = NULL;
    }
    json_decref(learn);
    json_decref(valid);
    kn_free(params);
    free_steps(w->s, steps);
    return e;
}

static kn_status fit_final(kn__run_state *w)
{
    const kn_prep_spec *s = w->s;
    kn_pipeline *p = NULL;
    kn_status e = kn_pipeline_new(&p);
    if (e == KN_OK) e = kn_pipeline_set_target(p, s->target, NULL);
    for (size_t k = 0; e == KN_OK && k < s->n_steps; k++) {
        kn_step *st = NULL;
        e = kn_step_new(s->steps[k].name, &st);
        for (size_t i = 0; e == KN_OK && i < s->steps[k].n_params; i++)
            e = kn_step_set(st, s->steps[k].params[i]);
        if (e != KN_OK) {
            kn_step_free(st);
            e = kn_fail_prefix(e, "step %zu (%s): ", k + 1, s->steps[k].name);
        } else
            e = kn_pipeline_add_step(p, st);
    }
    kn_model *m = NULL;
    if (e == KN_OK) e = new_model(w, &m);
    if (e == KN_OK) e = kn_pipeline_set_model(p, m);
    if (e == KN_OK && w->ens) e = kn__ensemble_copy(w->ens, p);
    if (e == KN_OK) e = kn_pipeline_fit(p, w->train, NULL);
    if (e != KN_OK) {
        kn_pipeline_free(p);
        return e;
    }
    w->r->pipeline = p;
    return KN_OK;
}

/* One score of the final pipeline on the test rows, the baseline beside
 * it, and the held-out predictions the report draws. */
static kn_status score_test(kn__run_state *w)
{
    const kn_prep_spec *s = w->s;
    const kn_pipeline *p = w->r->pipeline;
    const kn_model *m = kn_pipeline_model(p);
    kn_score_opts so = {0};
    so.positive_class = s->eval.positive_class;
    so.metrics = (const char *const *)s->eval.metrics;
    so.n_metrics = s->eval.n_metrics;
    so.slice_by = s->eval.slice_by;
    so.seed = w->r->seed;
    so.bootstrap = s->eval.bootstrap_given ? s->eval.bootstrap
                                           : kn_bootstrap_default(kn_frame_n_rows(w->test));
    kn_status e = kn_pipeline_score(p, w->test, &so, &w->r->test);
    if (e != KN_OK) return kn_fail_prefix(e, "test rows: ");
    w->r->has_test = 1;
    kn_heldout *h = &w->heldout;
    size_t n = 0, np = 0;
    h->classification = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    e = kn_model_targets(m, w->test, &h->y);
    if (e == KN_OK) e = kn_pipeline_predict(p, w->test, &h->pred, &n);
    if (e == KN_OK && h->classification) {
        h->k = kn_model_n_classes(m);
        e = kn_pipeline_predict_proba(p, w->test, &h->proba, &np);
        h->classes = kn_calloc(h->k, sizeof *h->classes);
        if (e == KN_OK && !h->classes) e = KN_ERR_NOMEM;
        for (size_t c = 0; e == KN_OK && c < h->k; c++)
            if (!(h->classes[c] = kn_strdup(kn_model_class(m, c)))) e = KN_ERR_NOMEM;
    }
    h->n = n;
    if (e == KN_OK)
        e = kn_model_score_baseline(m, w->train, w->test, NULL, &w->r->test, &w->r->baseline);
    return e;
}

typedef kn_status (*part_fn)(kn__run_state *);

/* "stage NAME: what it did (seconds)" for the last stage record. */
static void log_stage(const char *name, const kn__run_state *w)
{
    const kn_stage_record *rec = kn_stage_count() ? kn_stage_get(kn_stage_count() - 1) : NULL;
    double t = rec ? rec->wall_s : 0;
    const kn_run_output *r = w->r;
    if (!strcmp(name, "split"))
        kn_log(KN_LOG_INFO, "split: %llu training rows, %llu test rows (%.2f s)",
               (unsigned long long)r->rows_train, (unsigned long long)r->rows_test, t);
    else if (!strcmp(name, "search") && r->n_chosen)
        kn_log(KN_LOG_INFO, "search: %zu trials, best trial %zu: %s %.4f ± %.4f (%.2f s)",
               r->search.n, r->search.trial[r->search.best].id, r->search.metric,
               r->search.trial[r->search.best].score, r->search.trial[r->search.best].std, t);
    else if (!strcmp(name, "cv") && r->has_cv && r->cv.n_scores)
        kn_log(KN_LOG_INFO, "cv: %zu folds, %s %.4f ± %.4f (%.2f s)", r->cv.k, r->cv.name[0],
               r->cv.mean[0], r->cv.std[0], t);
    else if (!strcmp(name, "test") && r->test.n)
        kn_log(KN_LOG_INFO, "test: %s %.4f on %llu rows (%.2f s)", r->test.name[0],
               r->test.value[0], (unsigned long long)r->rows_test, t);
    else if (!strcmp(name, "artifact"))
        kn_log(KN_LOG_INFO, "artifact: %zu bytes (%.2f s)", r->artifact_len, t);
    else
        kn_log(KN_LOG_INFO, "%s: done (%.2f s)", name, t);
}

/* A part of the run as a stage, with a progress line when it ends. */
static kn_status part(const char *name, part_fn fn, kn__run_state *w)
{
    kn_stage_begin(name);
    kn_status e = fn(w);
    kn_stage_end();
    if (e == KN_OK) log_stage(name, w);
    return e;
}

static const char *first_flagged(const kn_run_output *r)
{
    for (size_t i = 0; i < r->split_check.n_cols; i++)
        if (r->split_check.cols[i].flagged) return r->split_check.cols[i].name;
    return "";
}

static kn_status split_part(kn__run_state *w)
{
    kn_model *m = NULL;
    kn_status e = new_model(w, &m);
    if (e == KN_OK) e = kn_model_choose_task(m, w->r->prep->frame, w->s->target, NULL);
    if (e != KN_OK && w->s->ensemble.method == KN_ENSEMBLE_MEAN)
        e = kn_fail_prefix(e,
                           "%s: ensemble method mean averages values (hard_vote or soft_vote "
                           "for classes): ",
                           w->s->path);
    int classify = e == KN_OK && kn_model_task(m) == KN_TASK_CLASSIFICATION;
    if (e == KN_OK) w->r->task = classify ? "classification" : "regression";
    if (e == KN_OK && w->ens) { /* members and method against the task, before any fit */
        e = kn_pipeline_set_model(w->ens, m);
        m = NULL;
        if (e == KN_OK) e = kn_pipeline_set_target(w->ens, w->s->target, NULL);
        if (e == KN_OK)
            e = kn__ensemble_check(w->ens, classify ? KN_TASK_CLASSIFICATION : KN_TASK_REGRESSION);
        if (e != KN_OK) e = kn_fail_prefix(e, "%s: ", w->s->path);
    }
    kn_model_free(m);
    if (e == KN_OK) e = kn__run_split_test(w, classify);
    /* the slice column, before any model is fitted on these rows */
    size_t j;
    char hint[160], at[4200];
    if (e == KN_OK && w->s->eval.slice_by && w->test &&
        kn_frame_find(w->test, w->s->eval.slice_by, &j) != KN_OK)
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "%s: evaluation: slice_by: the test rows have no column '%s'%s; name a "
                    "column of the data",
                    kn__spec_at(w->s, w->s->slice_by_at, at, sizeof at), w->s->eval.slice_by,
                    kn_frame_did_you_mean(w->test, w->s->eval.slice_by, hint, sizeof hint));
    /* do the test rows look like the training rows? (a warning, not an error) */
    if (e == KN_OK && w->test && kn_frame_n_rows(w->test) && kn_frame_n_rows(w->train)) {
        e = kn_compare_frames(w->train, w->test, NULL, &w->r->split_check);
        w->r->has_split_check = e == KN_OK;
    }
    if (e == KN_OK && w->r->split_check.n_flagged)
        kn_log(KN_LOG_WARN,
               "%zu of %zu columns differ between the training and the test rows (first: '%s'): "
               "the test score may not carry over to rows like the training rows",
               w->r->split_check.n_flagged, w->r->split_check.n_cols, first_flagged(w->r));
    return e;
}

kn_status kn_run_spec(const kn_prep_spec *s, const kn_run_opts *o, kn_run_output **out)
{
    kn_run_opts defaults;
    if (!o) {
        kn_run_opts_default(&defaults);
        o = &defaults;
    }
    kn_run_output *r = kn_calloc(1, sizeof *r);
    if (!r) return KN_ERR_NOMEM;
    *out = r;
    if (!s->model.name)
        return kn_fail(KN_ERR_INVALID,
                       "%s: the spec has no model: to train (`kiln prep` runs a prep-only spec)",
                       s->path);
    r->seed = o->seed_set ? o->seed : s->has_seed ? s->seed : 0;
    kn_artifact_hash_hex(s->text ? s->text : "", s->text ? s->text_len : 0, r->spec_hash);
    kn_prep_options po = {NULL, 0, o->threads, o->overwrite_input, 1, 0, 0};
    kn__run_state w = {s, o, r, NULL, NULL, {0}, 0, NULL, NULL, NULL};
    kn_status e = model_params(&w);
    if (e == KN_OK && s->ensemble.method) e = kn_prep_spec_ensemble(s, r->seed, &w.ens);
    if (e == KN_OK) e = kn_prep_run(s, &po, &r->prep);
    if (e == KN_OK)
        kn_log(KN_LOG_INFO,
               "data: %llu rows in, %llu kept, %llu quarantined, %llu dropped, %llu duplicates "
               "removed",
               (unsigned long long)r->prep->rows_in,
               (unsigned long long)kn_frame_n_rows(r->prep->frame),
               (unsigned long long)r->prep->rows_quarantined,
               (unsigned long long)r->prep->rows_dropped,
               (unsigned long long)r->prep->duplicates_removed);
    if (e == KN_OK) {
        size_t j;
        char hint[160], at[4200];
        if (kn_frame_find(r->prep->frame, s->target, &j) != KN_OK)
            e = kn_fail(KN_ERR_NOT_FOUND, "%s: target: the frame has no column '%s'%s",
                        kn__spec_at(s, s->target_at, at, sizeof at), s->target,
                        kn_frame_did_you_mean(r->prep->frame, s->target, hint, sizeof hint));
        /* rows without a target: said here, with the data's row and the spec's fix
           (inside a fold the row would be the fold's, and the fix a CLI option) */
        size_t n = kn_frame_n_rows(r->prep->frame), missing = 0, first = 0;
        for (size_t i = 0; e == KN_OK && i < n; i++)
            if (kn_column_is_missing(kn_frame_col(r->prep->frame, j), i) && !missing++)
                first = i + 1;
        if (e == KN_OK && missing)
            e = kn_fail(KN_ERR_INVALID,
                        "%s: target: '%s' is missing in %zu of %zu rows (first: row %zu); a "
                        "model cannot learn from or be scored on them: drop them with a schema "
                        "rule (schema: FILE holding columns: [{name: %s, type: %s, max_missing: "
                        "0, on_violation: drop}])",
                        kn__spec_at(s, s->target_at, at, sizeof at), s->target, missing, n, first,
                        s->target,
                        kn_col_type_name(kn_column_type(kn_frame_col(r->prep->frame, j))));
    }
    for (size_t i = 0; e == KN_OK && i < s->n_ignore; i++) {
        size_t j;
        char hint[160], at[4200];
        kn_spec_mark m = s->ignore_at ? s->ignore_at[i] : (kn_spec_mark){0, 0};
        if (kn_frame_find(r->prep->frame, s->ignore[i], &j) != KN_OK)
            e = kn_fail(KN_ERR_NOT_FOUND, "%s: ignore: the frame has no column '%s'%s",
                        kn__spec_at(s, m, at, sizeof at), s->ignore[i],
                        kn_frame_did_you_mean(r->prep->frame, s->ignore[i], hint, sizeof hint));
        else
            kn_column_set_role(kn_frame_col(r->prep->frame, j), KN_ROLE_IGNORE);
    }
    /* the cv's groups and order columns are no features of the folds'
     * models (kn_cv_run takes them out): nor of the final one, whose test
     * score would otherwise be another model's (a missing one: the cv part
     * names it) */
    const char *not_features[2] = {s->eval.groups, s->eval.order_by};
    for (size_t i = 0, j; e == KN_OK && s->eval.cv && i < 2; i++)
        if (not_features[i] && kn_frame_find(r->prep->frame, not_features[i], &j) == KN_OK)
            kn_column_set_role(kn_frame_col(r->prep->frame, j), KN_ROLE_IGNORE);
    if (e == KN_OK) e = part("lineage", kn__run_lineage, &w);
    if (e == KN_OK) e = part("split", split_part, &w);
    if (e == KN_OK && s->search.space) e = part("search", run_search, &w);
    if (e == KN_OK && s->eval.cv) e = part("cv", run_cv, &w);
    if (e == KN_OK && (s->eval.learning_curve || s->eval.curve_param))
        e = part("curves", run_curves, &w);
    if (e == KN_OK) e = part("fit", fit_final, &w);
    if (e == KN_OK && w.test) e = part("test", score_test, &w);
    if (e == KN_OK) e = part("artifact", kn__run_artifact, &w);
    kn_frame_free(w.train);
    kn_frame_free(w.test);
    kn_heldout_free(&w.heldout);
    json_decref(w.curves);
    kn_pipeline_free(w.ens);
    for (size_t i = 0; i < w.n_params; i++) kn_free(w.params[i]);
    kn_free(w.params);
    return e;
}

void kn_run_output_free(kn_run_output *r)
{
    if (!r) return;
    kn_prep_result_free(r->prep);
    if (r->has_cv) kn_cv_result_free(&r->cv);
    kn_scores_free(&r->test);
    kn_scores_free(&r->baseline);
    kn_compare_report_free(&r->split_check);
    if (r->has_search) kn_tune_result_free(&r->search);
    for (size_t i = 0; i < r->n_chosen; i++) kn_free(r->chosen[i]);
    kn_free(r->chosen);
    kn_pipeline_free(r->pipeline);
    for (size_t i = 0; i < r->n_sources; i++) {
        kn_free(r->sources[i].name);
        kn_free(r->sources[i].kind);
        kn_free(r->sources[i].location);
    }
    kn_free(r->sources);
    kn_artifact_free(r->artifact);
    kn_free(r->artifact_bytes);
    kn_free(r);
}
