/* The ensemble: key of a run spec (kiln/prep_spec.h): member pipelines,
 * each its own steps and model, combined by a vote, a mean or a stacked
 * final model. Parsed and checked here, before any data; turned into the
 * members of a pipeline (kiln/pipeline.h) by kn_prep_spec_ensemble. */
#include "core/names-impl.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"
#include "kiln/registry.h"
#include "learn/learn-impl.h"
#include "pipeline/run-impl.h"
#include "pipeline/spec-impl.h"

#include <stdint.h>
#include <string.h>

typedef const kn__yaml Y;

static const char *const methods[] = {NULL, "hard_vote", "soft_vote", "mean", "stacking"};
static const char *const ensemble_keys[] = {"method", "members", "final", "folds"};
static const char *const member_keys[] = {"steps", "model"};

/* "unknown KIND key 'K'; known: ... (did you mean 'X'?)" at node at. */
static kn_status unknown(Y *c, const yaml_node_t *at, const char *kind, const char *key,
                         const char *const *known, size_t n)
{
    kn__closest best = {NULL, SIZE_MAX};
    char list[200] = "", hint[120];
    for (size_t i = 0; i < n; i++) {
        if (!known[i]) continue;
        kn__closest_offer(&best, key, known[i]);
        if (*list) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, known[i], sizeof list - strlen(list) - 1);
    }
    return kn__yaml_at(c, at, "unknown %s '%s'; known: %s%s", kind, key, list,
                       kn__closest_hint(&best, key, hint, sizeof hint));
}

static kn_status parse_member(Y *c, const yaml_node_t *n, size_t i, kn_spec_member *m)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(
            c, n, "ensemble member %zu is a mapping: {steps: [..], model: {NAME: {..}}}", i + 1);
    kn_status e = kn__yaml_check_keys(c, n);
    const yaml_node_t *model = NULL;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "steps"))
            e = kn__spec_steps(c, kv.value, &m->steps, &m->n_steps);
        else if (!strcmp(kv.key, "model"))
            model = kv.value;
        else
            e = unknown(c, kv.key_node, "ensemble member key", kv.key, member_keys, 2);
    }
    if (e == KN_OK && !model)
        e = kn__yaml_at(c, n,
                        "ensemble member %zu has no model: each member is steps (optional) "
                        "and a model: {NAME: {..}}",
                        i + 1);
    if (e == KN_OK) e = kn__spec_model(c, model, &m->model, NULL);
    return e;
}

static kn_status parse_members(Y *c, const yaml_node_t *n, kn_spec_ensemble *x)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return kn__yaml_at(c, n, "ensemble: members takes a list: - {steps: [..], model: {..}}");
    size_t len = kn__yaml_len(n);
    if (len < 2)
        return kn__yaml_at(c, n,
                           "ensemble: members: a list of %zu member; an ensemble needs at least "
                           "two (for one pipeline, give its steps: and model: at the top)",
                           len);
    if (!(x->members = kn_calloc(len, sizeof *x->members))) return KN_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        kn_status e = parse_member(c, kn__yaml_item(c, n, i), i, &x->members[x->n_members++]);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static kn_status parse_method(Y *c, const yaml_node_t *n, kn_spec_ensemble *x)
{
    const char *t = NULL;
    kn_status e = kn__yaml_need_scalar(c, n, "method", &t);
    for (int m = 1; e == KN_OK && m <= 4; m++)
        if (!strcmp(t, methods[m])) {
            x->method = m;
            return KN_OK;
        }
    return e == KN_OK ? unknown(c, n, "ensemble method", t, methods, 5) : e;
}

kn_status kn__spec_ensemble(Y *c, kn__yaml_pair kv, kn_prep_spec *s)
{
    const yaml_node_t *n = kv.value;
    kn_spec_ensemble *x = &s->ensemble;
    if (s->model.name)
        return kn__yaml_at(c, kv.key_node,
                           "model: and ensemble: are both given: an ensemble's "
                           "models are its members' (and stacking's final:)");
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n,
                           "ensemble takes a mapping: {method: stacking, members: [..], "
                           "final: {..}}");
    kn_status e = kn__yaml_check_keys(c, n);
    const yaml_node_t *members = NULL, *final = NULL, *folds = NULL, *method = NULL;
    KN__YAML_FOR_PAIRS(c, n, p)
    {
        if (e != KN_OK) break;
        if (!strcmp(p.key, "method"))
            method = p.value;
        else if (!strcmp(p.key, "members"))
            members = p.value;
        else if (!strcmp(p.key, "final"))
            final = p.value;
        else if (!strcmp(p.key, "folds"))
            folds = p.value;
        else
            e = unknown(c, p.key_node, "ensemble key", p.key, ensemble_keys, 4);
    }
    if (e != KN_OK) return e;
    if (!method)
        return kn__yaml_at(c, n, "ensemble needs method: hard_vote, soft_vote, mean or stacking");
    if ((e = parse_method(c, method, x)) != KN_OK) return e;
    if (!members) return kn__yaml_at(c, n, "ensemble needs members: a list of two or more");
    if ((e = parse_members(c, members, x)) != KN_OK) return e;
    int stacking = x->method == KN_ENSEMBLE_STACKING;
    if (!stacking && final)
        return kn__yaml_at(c, final,
                           "ensemble: final: is stacking's model; method %s combines "
                           "the members itself",
                           methods[x->method]);
    if (!stacking && folds)
        return kn__yaml_at(c, folds, "ensemble: folds: is stacking's; method %s has no folds",
                           methods[x->method]);
    if (stacking && !final)
        return kn__yaml_at(c, n,
                           "ensemble: stacking needs final: the model fitted on the "
                           "members' out-of-fold outputs ({logistic_regression: {}})");
    x->folds = 5;
    if (folds && (e = kn__yaml_count(c, folds, "folds", &x->folds)) != KN_OK) return e;
    if (x->folds < 2 || x->folds > 1000)
        return kn__yaml_at(c, folds, "ensemble: folds: %llu; between 2 and 1000",
                           (unsigned long long)x->folds);
    if (stacking) return kn__spec_model(c, final, &s->model, NULL);
    /* the votes and the mean: the combiner is a member_vote */
    const char *set = x->method == KN_ENSEMBLE_HARD_VOTE   ? "voting=hard"
                      : x->method == KN_ENSEMBLE_SOFT_VOTE ? "voting=soft"
                                                           : "task=regression";
    if (!(s->model.name = kn_strdup("member_vote")) ||
        !(s->model.params = kn_calloc(1, sizeof *s->model.params)) ||
        !(s->model.params[0] = kn_strdup(set)))
        return KN_ERR_NOMEM;
    s->model.n_params = 1;
    return KN_OK;
}

/* A model's task when its family fixes it (-1 when it follows the target). */
static int fixed_task(const kn_spec_step *m)
{
    kn_model *probe = NULL;
    int task = -1;
    if (kn_model_new(m->name, &probe) != KN_OK) return -1;
    for (size_t i = 0; i < m->n_params; i++) kn_model_set(probe, m->params[i]);
    if (!kn__model_vt(probe)->task_param || kn__model_task_set(probe))
        task = (int)kn_model_task(probe);
    kn_model_free(probe);
    return task;
}

static const char *task_name(int t)
{
    return t == KN_TASK_CLASSIFICATION ? "classification" : "regression";
}

kn_status kn__spec_ensemble_check(Y *c, const yaml_node_t *root, const kn_prep_spec *s)
{
    const kn_spec_ensemble *x = &s->ensemble;
    const yaml_node_t *at = root;
    KN__YAML_FOR_PAIRS(c, root, kv)
    {
        if (kv.key && !strcmp(kv.key, "ensemble")) at = kv.key_node;
    }
    /* the ensemble's task, when the spec or a fixed family decides it */
    int task =
        s->task ? strcmp(s->task, "regression") ? KN_TASK_CLASSIFICATION : KN_TASK_REGRESSION : -1;
    const char *by = "task:";
    int votes = x->method == KN_ENSEMBLE_HARD_VOTE || x->method == KN_ENSEMBLE_SOFT_VOTE;
    if (task < 0 && x->method == KN_ENSEMBLE_STACKING && (task = fixed_task(&s->model)) >= 0)
        by = "final:";
    if (task < 0 && x->method == KN_ENSEMBLE_MEAN) {
        task = KN_TASK_REGRESSION;
        by = "method: mean";
    }
    char member[64] = "";
    for (size_t i = 0; task < 0 && i < x->n_members; i++)
        if ((task = fixed_task(&x->members[i].model)) >= 0)
            snprintf(member, sizeof member, "member %zu (%s)", i + 1, x->members[i].model.name);
    if (*member) by = member;
    if (task == KN_TASK_REGRESSION && votes)
        return kn__yaml_at(c, at,
                           "ensemble: method %s votes on classes, but %s makes it a regression: "
                           "use method: mean",
                           methods[x->method], by);
    if (task == KN_TASK_CLASSIFICATION && x->method == KN_ENSEMBLE_MEAN)
        return kn__yaml_at(c, at,
                           "ensemble: method mean averages values, but %s makes it a "
                           "classification: use method: hard_vote or soft_vote",
                           by);
    for (size_t i = 0; task >= 0 && i < x->n_members; i++) {
        int t = fixed_task(&x->members[i].model);
        if (t >= 0 && t != task)
            return kn__yaml_at(c, at,
                               "ensemble: member %zu (%s) is for %s, but %s makes the "
                               "ensemble a %s",
                               i + 1, x->members[i].model.name, task_name(t), by, task_name(task));
    }
    if (s->search.space)
        return kn__yaml_at(c, at, "ensemble: a model search is not supported inside an ensemble");
    return KN_OK;
}

static void free_steps(kn_spec_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kn_free(steps[i].name);
        kn__strings_free(steps[i].params, steps[i].n_params);
    }
    kn_free(steps);
}

void kn__spec_ensemble_free(kn_spec_ensemble *x)
{
    for (size_t i = 0; i < x->n_members; i++) {
        free_steps(x->members[i].steps, x->members[i].n_steps);
        kn_free(x->members[i].model.name);
        kn__strings_free(x->members[i].model.params, x->members[i].model.n_params);
    }
    kn_free(x->members);
    memset(x, 0, sizeof *x);
}

/* One member pipeline of the spec: its steps and its model, the model
 * given the run's seed when it has a seed the spec leaves unset. */
static kn_status member_pipeline(const kn_spec_member *m, uint64_t seed, kn_pipeline **out)
{
    kn_pipeline *p = NULL;
    kn_model *model = NULL;
    kn_status e = kn_pipeline_new(&p);
    for (size_t k = 0; e == KN_OK && k < m->n_steps; k++) {
        kn_step *st = NULL;
        e = kn_step_new(m->steps[k].name, &st);
        for (size_t i = 0; e == KN_OK && i < m->steps[k].n_params; i++)
            e = kn_step_set(st, m->steps[k].params[i]);
        if (e != KN_OK)
            kn_step_free(st);
        else
            e = kn_pipeline_add_step(p, st);
    }
    if (e == KN_OK) e = kn_model_new(m->model.name, &model);
    int spec_seed = 0;
    for (size_t i = 0; e == KN_OK && i < m->model.n_params; i++) {
        e = kn_model_set(model, m->model.params[i]);
        spec_seed |= !strncmp(m->model.params[i], "seed=", 5);
    }
    const kn_component *comp = e == KN_OK ? kn_registry_find(KN_COMP_MODEL, m->model.name) : NULL;
    if (e == KN_OK && !spec_seed && comp && kn_param_find(comp->params, "seed")) {
        char kv[40];
        snprintf(kv, sizeof kv, "seed=%llu", (unsigned long long)(seed % 1000000000000000ull));
        e = kn_model_set(model, kv);
    }
    if (e == KN_OK) {
        e = kn_pipeline_set_model(p, model);
        model = NULL;
    }
    kn_model_free(model);
    if (e != KN_OK) {
        kn_pipeline_free(p);
        return e;
    }
    *out = p;
    return KN_OK;
}

kn_status kn_prep_spec_ensemble(const kn_prep_spec *s, uint64_t seed, kn_pipeline **out)
{
    const kn_spec_ensemble *x = &s->ensemble;
    if (!x->method)
        return kn_fail(KN_ERR_INVALID, "%s: the spec has no ensemble: (its model is '%s')", s->path,
                       s->model.name ? s->model.name : "none");
    kn_pipeline *p = NULL;
    kn_status e = kn_pipeline_new(&p);
    for (size_t i = 0; e == KN_OK && i < x->n_members; i++) {
        kn_pipeline *m = NULL;
        e = member_pipeline(&x->members[i], seed, &m);
        if (e == KN_OK)
            e = kn_pipeline_add_member(p, m);
        else
            e = kn_fail_prefix(e, "%s: ensemble member %zu: ", s->path, i + 1);
    }
    if (e == KN_OK) e = kn_pipeline_set_ensemble(p, (kn_ensemble_method)x->method, x->folds, seed);
    if (e != KN_OK) {
        kn_pipeline_free(p);
        return e;
    }
    *out = p;
    return KN_OK;
}
