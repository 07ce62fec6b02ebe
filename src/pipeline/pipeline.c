/* The pipeline object (see kiln/pipeline.h): its parts, fit, transform and
 * predict. One-row prediction from raw values is in predict_row.c. */
#include "pipeline/pipeline-impl.h"
#include "learn/eval/score-impl.h"
#include "kiln/ctx.h"
#include "kiln/mem.h"

#include <string.h>

kn_status kn_pipeline_new(kn_pipeline **out)
{
    *out = kn_calloc(1, sizeof **out);
    return *out ? KN_OK : KN_ERR_NOMEM;
}

void kn_pipeline_free(kn_pipeline *p)
{
    if (!p) return;
    kn__pipeline_unfit(p);
    for (size_t i = 0; i < p->n_steps; i++) kn_step_free(p->steps[i]);
    kn_free(p->steps);
    kn_model_free(p->model);
    kn__ensemble_free(p);
    kn_steps_input_free(p->input);
    kn_free(p->target);
    kn_free(p->weight);
    kn_free(p);
}

kn_status kn_pipeline_add_step(kn_pipeline *p, kn_step *s)
{
    kn_step **grown = kn_realloc(p->steps, (p->n_steps + 1) * sizeof *grown);
    if (!grown) {
        kn_step_free(s);
        return KN_ERR_NOMEM;
    }
    p->steps = grown;
    p->steps[p->n_steps++] = s;
    kn__pipeline_unfit(p);
    return KN_OK;
}

kn_status kn_pipeline_add_step_spec(kn_pipeline *p, const char *spec)
{
    kn_step *s = NULL;
    kn_status e = kn_step_from_spec(spec, &s);
    return e == KN_OK ? kn_pipeline_add_step(p, s) : e;
}

kn_status kn_pipeline_set_model(kn_pipeline *p, kn_model *m)
{
    kn__pipeline_unfit(p);
    kn_model_free(p->model);
    p->model = m;
    return KN_OK;
}

kn_status kn_pipeline_set_model_spec(kn_pipeline *p, const char *name, const char *const *params,
                                     size_t n)
{
    kn_model *m = NULL;
    kn_status e = kn_model_new(name, &m);
    for (size_t i = 0; e == KN_OK && i < n; i++) e = kn_model_set(m, params[i]);
    if (e != KN_OK) {
        kn_model_free(m);
        return e;
    }
    return kn_pipeline_set_model(p, m);
}

kn_status kn_pipeline_set_target(kn_pipeline *p, const char *target, const char *weight)
{
    char *t = target ? kn_strdup(target) : NULL, *w = weight ? kn_strdup(weight) : NULL;
    if ((target && !t) || (weight && !w)) {
        kn_free(t);
        kn_free(w);
        return KN_ERR_NOMEM;
    }
    kn_free(p->target);
    kn_free(p->weight);
    p->target = t;
    p->weight = w;
    kn__pipeline_unfit(p);
    return KN_OK;
}

/* The role `name` must have in f for the steps, if f has that column. */
static int needs_role(const kn_frame *f, const char *name, kn_role role)
{
    size_t j;
    return name && kn_frame_find(f, name, &j) == KN_OK &&
           kn_column_role(kn_frame_col(f, j)) != role;
}

static void set_role(kn_frame *f, const char *name, kn_role role)
{
    size_t j;
    if (name && kn_frame_find(f, name, &j) == KN_OK) kn_column_set_role(kn_frame_col(f, j), role);
}

/* f with the target and weight columns marked, so that steps leave them
 * alone: f itself (*copy NULL) when they already are, else a marked copy
 * (*copy, to free). */
static kn_status marked(const kn_pipeline *p, const kn_frame *f, const kn_frame **use,
                        kn_frame **copy)
{
    *copy = NULL;
    *use = f;
    if (!p->n_steps ||
        (!needs_role(f, p->target, KN_ROLE_TARGET) && !needs_role(f, p->weight, KN_ROLE_WEIGHT)))
        return KN_OK;
    kn_status e = kn_frame_copy(f, copy);
    if (e != KN_OK) return e;
    set_role(*copy, p->target, KN_ROLE_TARGET);
    set_role(*copy, p->weight, KN_ROLE_WEIGHT);
    *use = *copy;
    return KN_OK;
}

/* Prefix a step's error with its position (and its name, unless the
 * message starts with it). */
static kn_status name_step(kn_status e, size_t k, const char *name)
{
    size_t len = strlen(name);
    if (!strncmp(kn_last_error(), name, len) && kn_last_error()[len] == ':')
        return kn_fail_prefix(e, "step %zu: ", k + 1);
    return kn_fail_prefix(e, "step %zu (%s): ", k + 1, name);
}

/* Apply steps [0, n) to f: fit them first when `fit`. *out is a new frame. */
static kn_status run_steps(kn_step *const *steps, size_t n, const kn_frame *f, int fit,
                           kn_frame **out)
{
    kn_frame *cur = NULL;
    kn_status e = KN_OK;
    *out = NULL;
    for (size_t k = 0; e == KN_OK && k < n; k++) {
        kn_frame *next = NULL;
        const kn_frame *in = cur ? cur : f;
        if (fit && (e = kn_ctx_check()) != KN_OK) break; /* a cancelled run fits no more */
        e = fit ? kn_step_fit_transform(steps[k], in, &next)
                : kn_step_transform(steps[k], in, &next);
        if (e != KN_OK) e = name_step(e, k, kn_step_name(steps[k]));
        kn_frame_free(cur);
        cur = next;
    }
    if (e == KN_OK && !cur) e = kn_frame_copy(f, &cur);
    if (e != KN_OK) {
        kn_frame_free(cur);
        return e;
    }
    *out = cur;
    return KN_OK;
}

kn_status kn__pipeline_resamplers_fit(const kn_pipeline *p, kn_task task)
{
    for (size_t k = 0; task == KN_TASK_REGRESSION && k < p->n_steps; k++)
        if (kn_step_changes_rows(p->steps[k]))
            return kn_fail(KN_ERR_INVALID,
                           "step %zu (%s) resamples the rows of each class, but the model is a "
                           "regressor of '%s': resampling needs a class target (remove the step, "
                           "or set task=classification for a target of class labels)",
                           k + 1, kn_step_name(p->steps[k]), p->target ? p->target : "?");
    return KN_OK;
}

kn_status kn_pipeline_fit(kn_pipeline *p, const kn_frame *f, kn_frame **prepared)
{
    if (prepared) *prepared = NULL;
    if (p->model && !p->target)
        return kn_fail(KN_ERR_INVALID, "the pipeline's model '%s' needs a target column",
                       kn_model_name(p->model));
    kn__pipeline_unfit(p);
    kn_steps_input_free(p->input);
    p->input = NULL;
    const kn_frame *use = NULL;
    kn_frame *copy = NULL, *out = NULL;
    kn_status e = marked(p, f, &use, &copy);
    int resamples = 0;
    for (size_t k = 0; k < p->n_steps; k++) resamples |= kn_step_changes_rows(p->steps[k]);
    if (e == KN_OK && p->model && resamples) { /* a regressor's rows are not resampled */
        e = kn_model_choose_task(p->model, use, p->target, NULL);
        if (e == KN_OK) e = kn__pipeline_resamplers_fit(p, kn_model_task(p->model));
    }
    if (e == KN_OK) e = kn_steps_input_of(use, &p->input);
    if (e == KN_OK && p->input && p->target && !p->input->target &&
        !(p->input->target = kn_strdup(p->target)))
        e = KN_ERR_NOMEM;
    /* without steps the model reads f itself: no copy unless asked for */
    if (e == KN_OK && (p->n_steps || prepared)) e = run_steps(p->steps, p->n_steps, use, 1, &out);
    if (e == KN_OK && p->model) e = kn_ctx_check();
    if (e == KN_OK && p->n_members) /* the members on the steps' output, the model on theirs */
        e = kn__ensemble_fit(p, out ? out : use);
    else if (e == KN_OK && p->model)
        e = kn_model_fit(p->model, out ? out : use, p->target, p->weight);
    kn_frame_free(copy);
    if (e != KN_OK) {
        kn_frame_free(out);
        return e;
    }
    kn__pipeline_fitted(p);
    if (prepared)
        *prepared = out;
    else
        kn_frame_free(out);
    return KN_OK;
}

int kn_pipeline_is_fitted(const kn_pipeline *p)
{
    return p->fitted;
}

static kn_status need_fitted(const kn_pipeline *p, const char *what)
{
    if (!p->fitted)
        return kn_fail(KN_ERR_INVALID, "%s needs a fitted pipeline; fit it first", what);
    return KN_OK;
}

static kn_status need_model(const kn_pipeline *p, const char *what)
{
    kn_status e = need_fitted(p, what);
    if (e == KN_OK && !p->model)
        e = kn_fail(KN_ERR_INVALID, "%s needs a model; this pipeline has steps only", what);
    return e;
}

/* The frame the model sees for f: f itself without steps or members (*own
 * NULL), else f after the steps and the members' outputs on that (*own, to
 * free). */
static kn_status model_input(const kn_pipeline *p, const kn_frame *f, const kn_frame **use,
                             kn_frame **own)
{
    *own = NULL;
    *use = f;
    if (!p->n_steps && !p->n_members) return KN_OK;
    kn_frame *x = NULL;
    kn_status e = p->n_steps ? run_steps(p->steps, p->n_steps, f, 0, &x) : KN_OK;
    if (e == KN_OK && p->n_members) {
        e = kn__ensemble_outputs(p, x ? x : f, own);
        kn_frame_free(x);
    } else
        *own = x;
    if (e == KN_OK) *use = *own;
    return e;
}

kn_status kn_pipeline_transform(const kn_pipeline *p, const kn_frame *f, kn_frame **out)
{
    kn_status e = need_fitted(p, "transforming");
    if (e != KN_OK || !p->n_members)
        return e == KN_OK ? run_steps(p->steps, p->n_steps, f, 0, out) : e;
    const kn_frame *use = NULL;
    e = model_input(p, f, &use, out); /* a pipeline with members: what its model reads */
    return e;
}

void kn__pipeline_fitted(kn_pipeline *p)
{
    kn__pipeline_unfit(p);
    p->fitted = 1;
    /* without it, one-row frames take the frame path: nothing is lost */
    if (p->model && !p->n_members && kn_row_predictor_new(p, NULL, &p->row) != KN_OK) p->row = NULL;
}

void kn__pipeline_unfit(kn_pipeline *p)
{
    kn_row_predictor_free(p->row);
    p->row = NULL;
    p->fitted = 0;
}

kn_status kn__pipeline_predict_frames(const kn_pipeline *p, const kn_frame *f,
                                      const kn_predict_opts *o, int proba, double **out, size_t *n)
{
    const kn_frame *use = NULL;
    kn_frame *own = NULL;
    kn_status e = need_model(p, "predicting");
    if (e == KN_OK) e = model_input(p, f, &use, &own);
    if (e == KN_OK)
        e = proba ? kn_model_predict_proba_with(p->model, use, o, out, n)
                  : kn_model_predict_with(p->model, use, o, out, n);
    kn_frame_free(own);
    return e;
}

/* A one-row frame through p->row (same answers and errors as the frames),
 * else the frame path. */
static kn_status predict(const kn_pipeline *p, const kn_frame *f, const kn_predict_opts *o,
                         int proba, double **out, size_t *n)
{
    size_t k = p->model ? kn_model_n_classes(p->model) : 0;
    if (!p->fitted || !p->row || kn_frame_n_rows(f) != 1 || (o && o->rounds) || (proba && !k) ||
        !kn_row_predictor_fast(p->row))
        return kn__pipeline_predict_frames(p, f, o, proba, out, n);
    double *v = kn_malloc((proba ? k : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = kn_row_predict(p->row, f, 0, proba ? NULL : v, proba ? v : NULL, NULL);
    if (e != KN_OK) {
        kn_free(v);
        return e;
    }
    *out = v;
    *n = 1;
    return KN_OK;
}

kn_status kn_pipeline_predict_with(const kn_pipeline *p, const kn_frame *f,
                                   const kn_predict_opts *o, double **out, size_t *n)
{
    return predict(p, f, o, 0, out, n);
}

kn_status kn_pipeline_predict(const kn_pipeline *p, const kn_frame *f, double **out, size_t *n)
{
    return kn_pipeline_predict_with(p, f, NULL, out, n);
}

kn_status kn_pipeline_predict_proba_with(const kn_pipeline *p, const kn_frame *f,
                                         const kn_predict_opts *o, double **out, size_t *n)
{
    return predict(p, f, o, 1, out, n);
}

kn_status kn_pipeline_predict_proba(const kn_pipeline *p, const kn_frame *f, double **out,
                                    size_t *n)
{
    return kn_pipeline_predict_proba_with(p, f, NULL, out, n);
}

kn_status kn_pipeline_score(const kn_pipeline *p, const kn_frame *f, const kn_score_opts *o,
                            kn_scores *out)
{
    const kn_frame *use = NULL;
    kn_frame *own = NULL;
    memset(out, 0, sizeof *out);
    out->positive = out->worst = -1;
    kn_status e = need_model(p, "scoring");
    if (e == KN_OK) e = model_input(p, f, &use, &own);
    kn_score_opts none = {0};
    /* slices come from the raw rows: the steps may drop or encode the column */
    kn__slices sl = {0};
    if (e == KN_OK && o && o->slice_by) e = kn__slices_of(f, o->slice_by, &sl);
    if (e == KN_OK)
        e = kn__model_score_sliced(p->model, use, o ? o : &none, o && o->slice_by ? &sl : NULL,
                                   out);
    kn__slices_free(&sl);
    kn_frame_free(own);
    return e;
}

kn_status kn_pipeline_score_one(const kn_pipeline *p, const kn_frame *f, const char *metric,
                                const char *positive_class, double *value, size_t *rows)
{
    const char *const metrics[] = {metric};
    kn_score_opts so = {0};
    so.metrics = metrics;
    so.n_metrics = 1;
    so.positive_class = positive_class;
    kn_scores sc = {0};
    kn_status e = kn_pipeline_score(p, f, &so, &sc);
    if (e == KN_OK && sc.n != 1) e = kn_fail(KN_ERR_INTERNAL, "scoring gave no %s", metric);
    if (e == KN_OK) {
        *value = sc.value[0];
        *rows = sc.rows;
    }
    kn_scores_free(&sc);
    return e;
}

size_t kn_pipeline_n_steps(const kn_pipeline *p)
{
    return p->n_steps;
}

const kn_step *kn_pipeline_step(const kn_pipeline *p, size_t i)
{
    return i < p->n_steps ? p->steps[i] : NULL;
}

kn_step *const *kn_pipeline_steps(const kn_pipeline *p)
{
    return p->steps;
}

const kn_model *kn_pipeline_model(const kn_pipeline *p)
{
    return p->model;
}

kn_model *kn_pipeline_model_edit(kn_pipeline *p)
{
    return p->model;
}

const kn_steps_input *kn_pipeline_input(const kn_pipeline *p)
{
    return p->input;
}

const char *kn_pipeline_target(const kn_pipeline *p)
{
    return p->target;
}

const char *kn_pipeline_weight(const kn_pipeline *p)
{
    return p->weight;
}
