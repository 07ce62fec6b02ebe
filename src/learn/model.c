/* The generic model: the component contract (kiln/component.h) around a
 * model vtable: parameters, validation, fit, predict with per-call
 * options, clone, provenance (see kiln/model.h). The design matrix is
 * built in dataset.c, the encoding and the .kmd file are model_file.c's. */
#include "kiln/init.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "learn/learn-impl.h"
#include "learn/model-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void forget_metrics(kn_model *m)
{
    for (size_t i = 0; i < m->n_metrics; i++) kn_free(m->metric_name[i]);
    kn_free(m->metric_name);
    kn_free(m->metric_value);
    m->metric_name = NULL;
    m->metric_value = NULL;
    m->n_metrics = m->metric_rows = 0;
}

static void drop_fit_output(kn_model *m)
{
    kn_free(m->fit_output);
    m->fit_output = NULL;
    m->fit_output_rows = 0;
}

static void unfit(kn_model *m)
{
    forget_metrics(m);
    drop_fit_output(m);
    kn_free(m->saved_by);
    m->saved_by = NULL;
    kn_free(m->read_settings);
    m->read_settings = NULL;
    m->train_rows = 0;
    const kn_model_vt *vt = m->inst.comp->vt;
    if (m->state && vt->free_state) vt->free_state(m->state);
    m->state = NULL;
    for (size_t j = 0; j < m->p; j++) kn_free(m->features[j]);
    kn_free(m->features);
    kn_free(m->target);
    for (size_t c = 0; c < m->n_classes; c++) kn_free(m->classes[c]);
    kn_free(m->classes);
    m->classes = NULL;
    m->n_classes = 0;
    kn__free_levels(m->n_levels, m->levels, m->p);
    m->n_levels = NULL;
    m->levels = NULL;
    m->features = NULL;
    m->target = NULL;
    m->p = 0;
}

kn_status kn_model_new(const char *name, kn_model **out)
{
    kn_learn_register();
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, name);
    if (!c) return kn_last_status();
    kn_model *m = kn_calloc(1, sizeof *m);
    if (!m) return KN_ERR_NOMEM;
    kn_status st = kn_instance_init(&m->inst, c, ((const kn_model_vt *)c->vt)->validate);
    if (st != KN_OK) {
        kn_free(m);
        return st;
    }
    *out = m;
    return KN_OK;
}

void kn_model_free(kn_model *m)
{
    if (!m) return;
    unfit(m);
    kn_instance_release(&m->inst);
    kn_free(m);
}

kn_status kn_model_set(kn_model *m, const char *name_eq_value)
{
    kn_status st = kn_instance_set(&m->inst, name_eq_value);
    if (st != KN_OK) return st;
    const char *tp = ((const kn_model_vt *)m->inst.comp->vt)->task_param;
    size_t tl = tp ? strlen(tp) : 0;
    if (tp && !strncmp(name_eq_value, tp, tl) && name_eq_value[tl] == '=') m->task_set = 1;
    if (strncmp(name_eq_value, "predict_", 8) != 0)
        unfit(m);
    else
        drop_fit_output(m); /* the fit stays; its outputs change with predict_ parameters */
    return KN_OK;
}

kn_status kn_model_set_params(kn_model *m, const void *params, size_t size)
{
    kn_status st = kn_instance_set_params(&m->inst, params, size);
    if (st == KN_OK) unfit(m);
    return st;
}

kn_status kn_model_validate(const kn_model *m)
{
    kn_status st = kn_instance_validate(&m->inst);
    return st == KN_OK ? st : kn_fail_prefix(st, "model '%s': ", m->inst.comp->name);
}

kn_status kn_model_clone(const kn_model *m, int fitted, kn_model **out)
{
    kn_model *c = NULL;
    kn_status e = KN_OK;
    if (fitted && m->state) { /* a deep copy through the encoding: every model has one */
        unsigned char *buf = NULL;
        size_t len = 0;
        e = kn_model_encode(m, &buf, &len);
        if (e == KN_OK) e = kn_model_decode(buf, len, &c);
        kn_free(buf);
        kn_free(c ? c->saved_by : NULL); /* the source's provenance, not today's */
        if (c) c->saved_by = NULL;
        if (e == KN_OK && m->saved_by && !(c->saved_by = kn_strdup(m->saved_by))) e = KN_ERR_NOMEM;
        if (e == KN_OK) e = kn_model_set_read_settings(c, m->read_settings);
    } else {
        if (!(c = kn_calloc(1, sizeof *c))) return KN_ERR_NOMEM;
        e = kn_instance_copy(&c->inst, &m->inst);
        if (e != KN_OK) {
            kn_free(c);
            return e;
        }
    }
    if (e == KN_OK) c->task_set = m->task_set;
    if (e != KN_OK) {
        kn_model_free(c);
        return e;
    }
    *out = c;
    return KN_OK;
}

const char *kn_model_name(const kn_model *m)
{
    return m->inst.comp->name;
}

kn_task kn_model_task(const kn_model *m)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    return vt->task_of ? vt->task_of(m) : vt->task;
}

const char *kn_model_kind(const kn_model *m)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    if (vt->flags & KN_MODEL_UNSUPERVISED)
        return vt->flags & KN_MODEL_CLUSTERS ? "cluster" : "anomaly";
    return kn_model_task(m) == KN_TASK_CLASSIFICATION ? "classification" : "regression";
}

const void *kn_model_params(const kn_model *m)
{
    return m->inst.params;
}

const void *kn_model_state(const kn_model *m)
{
    return m->state;
}

void kn_model_set_state(kn_model *m, void *state)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    if (m->state && vt->free_state) vt->free_state(m->state);
    m->state = state;
}

size_t kn_model_n_features(const kn_model *m)
{
    return m->p;
}

const char *kn_model_feature(const kn_model *m, size_t j)
{
    return j < m->p ? m->features[j] : NULL;
}

size_t kn_model_feature_levels(const kn_model *m, size_t j)
{
    return m->n_levels && j < m->p ? m->n_levels[j] : 0;
}

const char *kn_model_target(const kn_model *m)
{
    return m->target;
}

void kn__warn_not_converged(const char *model, int iterations, int64_t max_iter, double grad,
                            double tol)
{
    if (iterations >= max_iter)
        kn_log(KN_LOG_WARN,
               "%s did not converge: it used all max_iter=%lld iterations (largest gradient "
               "%.3g > tol %g); raise max_iter (e.g. model parameter max_iter=%lld) or "
               "standardise the features",
               model, (long long)max_iter, grad, tol, (long long)max_iter * 10);
    else
        kn_log(KN_LOG_WARN,
               "%s did not converge: its line search stalled after %d of max_iter=%lld "
               "iterations (largest gradient %.3g > tol %g); more iterations will not help: "
               "standardise the features, or raise tol",
               model, iterations, (long long)max_iter, grad, tol);
}

int kn__model_task_set(const kn_model *m)
{
    return m->task_set;
}

const kn_model_vt *kn__model_vt(const kn_model *m)
{
    return (const kn_model_vt *)m->inst.comp->vt;
}

void kn__model_keep_fit_output(kn_model *m, int keep)
{
    m->keep_fit_output = keep != 0;
    if (!keep) drop_fit_output(m);
}

int kn__model_wants_fit_output(const kn_model *m)
{
    return m->keep_fit_output;
}

void kn__model_set_fit_output(kn_model *m, double *v, size_t n)
{
    drop_fit_output(m);
    m->fit_output = v;
    m->fit_output_rows = n;
}

const double *kn__model_fit_output(const kn_model *m, size_t *n)
{
    *n = m->fit_output_rows;
    return m->fit_output;
}

unsigned kn__model_flags(const kn_model *m)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    return vt->flags | (vt->flags_of ? vt->flags_of(m) : 0u);
}

kn_status kn_model_fit(kn_model *m, const kn_frame *f, const char *target, const char *weight)
{
    unfit(m);
    const kn_model_vt *vt = m->inst.comp->vt;
    int unsup = (vt->flags & KN_MODEL_UNSUPERVISED) != 0;
    if (!target && !unsup)
        return kn_fail(KN_ERR_INVALID, "model '%s': name the target column", m->inst.comp->name);
    if (target && unsup)
        return kn_fail(KN_ERR_INVALID,
                       "model '%s' is unsupervised and takes no target; leave '%s' out of the "
                       "features instead (kiln anomaly --ignore %s)",
                       m->inst.comp->name, target, target);
    size_t jt;
    char hint[160];
    kn_dataset *d;
    kn_status e = kn_model_validate(m); /* rules across parameters, before any work */
    if (e != KN_OK) return e;
    if (target && kn_frame_find(f, target, &jt) != KN_OK) /* before its absence misleads */
        return kn_fail(KN_ERR_NOT_FOUND, "target column '%s' is not in the data%s", target,
                       kn_frame_did_you_mean(f, target, hint, sizeof hint));
    if (!unsup) e = kn_model_choose_task(m, f, target, NULL);
    if (e != KN_OK) return e;
    e = kn__build_dataset(f, target, weight, NULL, 0, kn_model_task(m), kn__model_flags(m), NULL,
                          &d);
    if (e != KN_OK) return kn_fail_prefix(e, "model '%s': ", m->inst.comp->name);
    if (d->n < 2)
        e = kn_fail(KN_ERR_INVALID, "model '%s': needs at least 2 rows", m->inst.comp->name);
    if (e == KN_OK) e = vt->fit(m, d);
    if (e == KN_OK) {
        m->target = kn_strdup(target ? target : "");
        m->train_rows = d->n;
        m->features = d->names;
        m->p = d->p;
        m->classes = d->classes;
        m->n_classes = d->n_classes;
        m->n_levels = d->n_levels;
        m->levels = d->levels;
        d->n_levels = NULL;
        d->levels = NULL;
        d->names = NULL;
        d->p = 0;
        d->classes = NULL;
        d->n_classes = 0;
        if (!m->target) e = KN_ERR_NOMEM;
    }
    kn_dataset_free(d);
    if (e != KN_OK) unfit(m);
    return e;
}

size_t kn_model_n_classes(const kn_model *m)
{
    return m->n_classes;
}

const char *kn_model_class(const kn_model *m, size_t c)
{
    return c < m->n_classes ? m->classes[c] : NULL;
}

static kn_status apply(const kn_model *m, const kn_frame *f, const kn_predict_opts *o, int proba,
                       double **out, size_t *n)
{
    const char *name = m->inst.comp->name;
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", name);
    const kn_model_vt *vt = m->inst.comp->vt;
    if (proba && !vt->predict_proba)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' gives no probabilities", name);
    if (o && o->rounds && !vt->predict_with)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "model %s is not boosted; only gbdt predicts in stages (rounds)", name);
    kn_dataset *d;
    kn_status e = kn__build_dataset(f, NULL, NULL, (const char *const *)m->features, m->p,
                                    kn_model_task(m), kn__model_flags(m), m, &d);
    if (e != KN_OK) return kn_fail_prefix(e, "predict: ");
    size_t width = proba ? m->n_classes : 1;
    double *v = kn_malloc((d->n ? d->n * width : 1) * sizeof *v);
    kn_predict_opts none = {0};
    if (!v)
        e = KN_ERR_NOMEM;
    else if (vt->predict_with)
        e = vt->predict_with(m, d, o ? o : &none, proba, v);
    else
        e = proba ? vt->predict_proba(m, d, v) : vt->predict(m, d, v);
    if (e == KN_OK) {
        *out = v;
        *n = d->n;
    } else
        kn_free(v);
    kn_dataset_free(d);
    return e;
}

kn_status kn_model_predict(const kn_model *m, const kn_frame *f, double **out, size_t *n)
{
    return apply(m, f, NULL, 0, out, n);
}

kn_status kn_model_predict_proba(const kn_model *m, const kn_frame *f, double **out, size_t *n)
{
    return apply(m, f, NULL, 1, out, n);
}

kn_status kn_model_predict_with(const kn_model *m, const kn_frame *f, const kn_predict_opts *o,
                                double **out, size_t *n)
{
    return apply(m, f, o, 0, out, n);
}

kn_status kn_model_predict_proba_with(const kn_model *m, const kn_frame *f,
                                      const kn_predict_opts *o, double **out, size_t *n)
{
    return apply(m, f, o, 1, out, n);
}

kn_status kn_model_summary(const kn_model *m, kn_fit_summary *out)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    memset(out, 0, sizeof *out);
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->inst.comp->name);
    if (!vt->summary)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' has no fit summary", m->inst.comp->name);
    return vt->summary(m, out);
}

size_t kn_model_coef_rows(const kn_model *m)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    if (!m->state || !vt->coefficients) return 0;
    return vt->coef_rows ? vt->coef_rows(m) : 1;
}

kn_status kn_model_coefficients(const kn_model *m, double *coef, double *intercept)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->inst.comp->name);
    if (!vt->coefficients)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' has no coefficients", m->inst.comp->name);
    return vt->coefficients(m, coef, intercept);
}

int kn_model_has_importances(const kn_model *m)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    return m->state && vt->importances;
}

kn_status kn_model_importances(const kn_model *m, double *out)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->inst.comp->name);
    if (!vt->importances)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' has no feature importances",
                       m->inst.comp->name);
    return vt->importances(m, out);
}

size_t kn_model_train_rows(const kn_model *m)
{
    return m->train_rows;
}

kn_status kn_model_set_read_settings(kn_model *m, const char *text)
{
    char *copy = NULL;
    if (text && !(copy = kn_strdup(text))) return KN_ERR_NOMEM;
    kn_free(m->read_settings);
    m->read_settings = copy;
    return KN_OK;
}

const char *kn_model_read_settings(const kn_model *m)
{
    return m->read_settings;
}

const char *kn_model_saved_by(const kn_model *m)
{
    return m->saved_by;
}

kn_status kn_model_record_metrics(kn_model *m, size_t rows, const char *const *names,
                                  const double *values, size_t n)
{
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->inst.comp->name);
    forget_metrics(m);
    m->metric_name = kn_calloc(n ? n : 1, sizeof *m->metric_name);
    m->metric_value = kn_calloc(n ? n : 1, sizeof *m->metric_value);
    kn_status e = m->metric_name && m->metric_value ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        m->metric_value[i] = values[i];
        m->n_metrics = i + 1;
        if (!(m->metric_name[i] = kn_strdup(names[i]))) e = KN_ERR_NOMEM;
    }
    if (e != KN_OK) {
        forget_metrics(m);
        return e;
    }
    m->metric_rows = rows;
    return KN_OK;
}

size_t kn_model_n_metrics(const kn_model *m)
{
    return m->n_metrics;
}

size_t kn_model_metric_rows(const kn_model *m)
{
    return m->metric_rows;
}

const char *kn_model_metric(const kn_model *m, size_t i, double *value)
{
    if (i >= m->n_metrics) return NULL;
    if (value) *value = m->metric_value[i];
    return m->metric_name[i];
}
