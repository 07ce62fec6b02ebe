/* The run keys of a spec (see kiln/prep_spec.h): model, task, evaluation,
 * register, seed, description. */
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "pipeline/spec-impl.h"
#include "pipeline/tune-impl.h"

#include <string.h>

typedef const kn__yaml Y;

static const char *const run_keys[] = {"model", "task",        "evaluation", "register",
                                       "seed",  "description", "ignore",     "ensemble"};

int kn__spec_is_run_key(const char *key)
{
    for (size_t i = 0; i < sizeof run_keys / sizeof *run_keys; i++)
        if (!strcmp(key, run_keys[i])) return 1;
    return 0;
}

/* The model exists and takes its parameters (checked on a probe); `at`
 * names the model, `settings` its parameters (or NULL). */
static kn_status check_model(Y *c, const yaml_node_t *at, const yaml_node_t *settings,
                             kn_spec_step *m)
{
    kn_model *probe = NULL;
    if (kn_model_new(m->name, &probe) != KN_OK)
        return kn__yaml_at(c, at, "%s ('kiln help models' lists them)", kn_last_error());
    kn_status e =
        settings ? kn__spec_settings(c, settings, m->name, &m->params, &m->n_params) : KN_OK;
    for (size_t p = 0; e == KN_OK && p < m->n_params; p++)
        if (kn_model_set(probe, m->params[p]) != KN_OK)
            e = kn__yaml_at(c, settings, "model %s: %s", m->name, kn_last_error());
    if (e == KN_OK && kn_model_validate(probe) != KN_OK)
        e = kn__yaml_at(c, settings ? settings : at, "model %s: %s", m->name, kn_last_error());
    kn_model_free(probe);
    return e;
}

static kn_status parse_strategy(Y *c, const yaml_node_t *n, kn_spec_search *x)
{
    static const char *const names[] = {"random", "grid", "tpe", "halving", "hyperband"};
    static const kn_tune_strategy kinds[] = {KN_TUNE_RANDOM, KN_TUNE_GRID, KN_TUNE_TPE,
                                             KN_TUNE_HALVING, KN_TUNE_HYPERBAND};
    const char *t;
    kn_status e = kn__yaml_need_scalar(c, n, "strategy", &t);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(t, names[i])) {
            x->strategy = (int)kinds[i];
            return KN_OK;
        }
    return kn__yaml_at(c, n, "strategy '%s' is not one of random, grid, tpe, halving, hyperband",
                       t);
}

static kn_status count_in(Y *c, const yaml_node_t *n, const char *key, uint64_t lo, uint64_t hi,
                          size_t *out);

/* search: {strategy, trials, cv, metric, seed, prune, max_time, max_cost,
 * resource, eta, space} of model m,
 * whose fixed parameters the space may not name. Everything is checked
 * here, before any data is read. */
static kn_status parse_search(Y *c, const yaml_node_t *n, const kn_spec_step *m, kn_spec_search *x)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n,
                           "search takes {strategy: tpe, trials: 30, space: {learning_rate: "
                           "{log: [0.01, 0.3]}}}");
    kn_status e = kn__yaml_check_keys(c, n);
    const yaml_node_t *space = NULL, *trials = NULL, *resource = NULL, *eta = NULL;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        const char *k = kv.key;
        if (!strcmp(k, "strategy"))
            e = parse_strategy(c, kv.value, x);
        else if (!strcmp(k, "trials")) {
            trials = kv.value;
            uint64_t v = 0;
            e = kn__yaml_count(c, kv.value, k, &v);
            if (e == KN_OK && (v < 1 || v > 1000000))
                e = kn__yaml_at(c, kv.value,
                                "trials: %llu is outside 1..1000000: a search needs at least "
                                "one trial",
                                (unsigned long long)v);
            x->trials = (size_t)v;
        } else if (!strcmp(k, "cv"))
            e = count_in(c, kv.value, "cv (the search's folds)", 2, 1000, &x->folds);
        else if (!strcmp(k, "metric")) {
            e = kn__spec_text(c, kv.value, k, &x->metric);
            if (e == KN_OK && kn_registry_find(KN_COMP_METRIC, x->metric) == NULL)
                e = kn__yaml_at(c, kv.value, "%s ('kiln help metrics' lists them)",
                                kn_last_error());
        } else if (!strcmp(k, "seed")) {
            x->has_seed = 1;
            e = kn__yaml_count(c, kv.value, k, &x->seed);
        } else if (!strcmp(k, "prune"))
            e = kn__yaml_bool(c, kv.value, k, &x->prune);
        else if (!strcmp(k, "max_time") || !strcmp(k, "max_cost")) {
            double v = 0;
            e = kn__yaml_double(c, kv.value, k, &v);
            if (e == KN_OK && !(v > 0 && v <= 1e12))
                e = kn__yaml_at(c, kv.value,
                                "%s: %g is outside (0, 1e12]: give %s (leave the key out for no "
                                "limit)",
                                k, v,
                                k[4] == 't' ? "seconds, e.g. max_time: 600"
                                            : "US dollars, e.g. max_cost: 0.5");
            if (k[4] == 't')
                x->max_time = v;
            else
                x->max_cost = v;
        } else if (!strcmp(k, "resource")) {
            resource = kv.value;
            e = kn__spec_text(c, kv.value, k, &x->resource);
        } else if (!strcmp(k, "eta")) {
            eta = kv.value;
            e = kn__yaml_double(c, kv.value, k, &x->eta);
            if (e == KN_OK && !(x->eta >= 1.5 && x->eta <= 100))
                e = kn__yaml_at(c, kv.value,
                                "eta: %g is outside [1.5, 100]: the factor between halving's (and "
                                "hyperband's) "
                                "rungs, e.g. eta: 3",
                                x->eta);
        } else if (!strcmp(k, "space"))
            space = kv.value;
        else
            e = kn__yaml_at(c, kv.key_node,
                            "unknown search key '%s'; known: strategy, trials, cv, metric, seed, "
                            "prune, max_time, max_cost, resource, eta, space",
                            k);
    }
    if (e != KN_OK) return e;
    int grows = x->strategy == KN_TUNE_HALVING || x->strategy == KN_TUNE_HYPERBAND;
    if ((resource || eta) && !grows)
        return kn__yaml_at(c, resource ? resource : eta,
                           "%s goes with strategy: halving or hyperband (what grows between "
                           "its rungs)",
                           resource ? "resource" : "eta");
    if (resource && strcmp(x->resource, "rows")) {
        const kn_component *mc = kn_registry_find(KN_COMP_MODEL, m->name);
        const kn_param_def *d = mc ? kn_param_find(mc->params, x->resource) : NULL;
        if (mc && (!d || d->type != KN_PARAM_T_INT))
            return kn__yaml_at(c, resource,
                               "resource: '%s' is not an integer parameter of %s: give one that "
                               "grows the fit (n_estimators, max_iter, ...) or rows",
                               x->resource, m->name);
    }
    if (!space)
        return kn__yaml_at(c, n,
                           "search needs space: {PARAM: VALUES, ..}, e.g. space: {max_depth: "
                           "{int: [2, 8]}}");
    if (x->prune && grows)
        return kn__yaml_at(c, n, "prune: goes with random, grid and tpe, not halving or hyperband");
    if (!trials && x->strategy != KN_TUNE_GRID) x->trials = 20;
    e = kn__tune_space_from_node(c, space, m->name, &x->space);
    if (e != KN_OK) return e;
    /* halving's resource grows between rungs: it is not searched too */
    const char *grown = !grows        ? NULL
                        : x->resource ? (strcmp(x->resource, "rows") ? x->resource : NULL)
                                      : "n_estimators";
    KN__YAML_FOR_PAIRS(c, space, kv)
    {
        if (e == KN_OK && grown && !strcmp(kv.key, grown))
            e = kn__yaml_at(c, kv.key_node,
                            "%s is %s's resource (it grows between the rungs up to its "
                            "value in params:, else its default): take it out of the space",
                            grown, kn_tune_strategy_name((kn_tune_strategy)x->strategy));
    }
    if (e != KN_OK) return e;
    /* a fixed parameter is not searched too */
    KN__YAML_FOR_PAIRS(c, space, kv)
    {
        if (e != KN_OK) break;
        size_t len = strlen(kv.key);
        for (size_t p = 0; e == KN_OK && p < m->n_params; p++)
            if (!strncmp(m->params[p], kv.key, len) && m->params[p][len] == '=')
                e = kn__yaml_at(c, kv.key_node,
                                "%s is searched and also fixed in params: (%s); drop one of them",
                                kv.key, m->params[p]);
    }
    /* grid search needs grid: points on every range */
    for (size_t d = 0; e == KN_OK && x->strategy == KN_TUNE_GRID && d < x->space->n; d++)
        if (x->space->dim[d].kind != KN__DIM_CHOICE && !x->space->dim[d].grid) {
            const yaml_node_t *at = space;
            KN__YAML_FOR_PAIRS(c, space, kv)
            {
                if (!strcmp(kv.key, x->space->dim[d].name)) at = kv.value;
            }
            e = kn__yaml_at(c, at,
                            "%s: strategy: grid needs grid: N, the points of this range "
                            "(e.g. {log: [0.01, 0.3], grid: 4})",
                            x->space->dim[d].name);
        }
    return e;
}

/* model: NAME, model: {NAME: {param: value, ...}}, or model: {name: NAME,
 * params: {..}, search: {..}} (search only where x is not NULL). The model
 * must exist and take the parameters (checked on a probe); a search's space
 * is checked too. */
kn_status kn__spec_model(Y *c, const yaml_node_t *n, kn_spec_step *m, kn_spec_search *x)
{
    const char *plain = kn__yaml_scalar(n);
    if (plain) {
        if (!*plain) return kn__yaml_at(c, n, "model: names a model ('kiln help models')");
        if (!(m->name = kn_strdup(plain))) return KN_ERR_NOMEM;
        return check_model(c, n, NULL, m);
    }
    int named = 0;
    if (n->type == YAML_MAPPING_NODE) {
        KN__YAML_FOR_PAIRS(c, n, kv)
        {
            if (kv.key && !strcmp(kv.key, "name")) named = 1;
        }
    }
    if (!named) {
        if (n->type != YAML_MAPPING_NODE ||
            n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
            return kn__yaml_at(c, n,
                               "model is one name with its parameters: model: {gbdt: "
                               "{n_estimators: 200}}, or {name: gbdt, params: {..}, search: "
                               "{..}}");
        kn__yaml_pair kv = kn__yaml_pair_at(c, n->data.mapping.pairs.start);
        if (!kv.key) return kn__yaml_at(c, n, "a model name is text");
        if (!(m->name = kn_strdup(kv.key))) return KN_ERR_NOMEM;
        return check_model(c, kv.key_node, kv.value, m);
    }
    kn_status e = kn__yaml_check_keys(c, n);
    const yaml_node_t *name = NULL, *params = NULL, *search = NULL;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "name"))
            name = kv.value;
        else if (!strcmp(kv.key, "params"))
            params = kv.value;
        else if (!strcmp(kv.key, "search") && x)
            search = kv.value;
        else
            e = kn__yaml_at(c, kv.key_node, "unknown model key '%s'; known: name, params%s", kv.key,
                            x ? ", search" : " (an ensemble's models take no search)");
    }
    if (e == KN_OK) e = kn__spec_text(c, name, "name", &m->name);
    if (e == KN_OK && !*m->name)
        e = kn__yaml_at(c, name, "name: names a model ('kiln help models')");
    if (e == KN_OK) e = check_model(c, name, params, m);
    if (e == KN_OK && search) e = parse_search(c, search, m, x);
    return e;
}

static kn_status parse_split(Y *c, const yaml_node_t *n, kn_spec_eval *v)
{
    static const char *const names[] = {"kfold", "stratified", "group", "time_series", "auto"};
    static const kn_split_kind kinds[] = {KN_SPLIT_KFOLD, KN_SPLIT_STRATIFIED, KN_SPLIT_GROUP,
                                          KN_SPLIT_TIME, KN_SPLIT_AUTO};
    const char *t;
    kn_status e = kn__yaml_need_scalar(c, n, "split", &t);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(t, names[i])) {
            v->split = kinds[i];
            return KN_OK;
        }
    return kn__yaml_at(c, n, "split '%s' is not one of kfold, stratified, group, time_series, auto",
                       t);
}

static kn_status count_in(Y *c, const yaml_node_t *n, const char *key, uint64_t lo, uint64_t hi,
                          size_t *out)
{
    uint64_t v;
    kn_status e = kn__yaml_count(c, n, key, &v);
    if (e != KN_OK) return e;
    if (v < lo || v > hi)
        return kn__yaml_at(c, n, "%s: %llu is outside %llu..%llu", key, (unsigned long long)v,
                           (unsigned long long)lo, (unsigned long long)hi);
    *out = (size_t)v;
    return KN_OK;
}

/* cv: {folds, split, shuffle, repeats, groups, order_by, gap}, or cv: false. */
static kn_status parse_cv(Y *c, const yaml_node_t *n, kn_spec_eval *v)
{
    if (n->type == YAML_SCALAR_NODE) return kn__yaml_bool(c, n, "cv", &v->cv);
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "cv takes {folds: 5, split: stratified, shuffle: true} or false");
    v->cv = 1;
    const yaml_node_t *shuffle = NULL;
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        const char *k = kv.key;
        if (!strcmp(k, "folds"))
            e = count_in(c, kv.value, k, 2, 1000, &v->folds);
        else if (!strcmp(k, "repeats"))
            e = count_in(c, kv.value, k, 1, 100, &v->repeats);
        else if (!strcmp(k, "gap"))
            e = count_in(c, kv.value, k, 0, (uint64_t)1 << 40, &v->gap);
        else if (!strcmp(k, "split"))
            e = parse_split(c, kv.value, v);
        else if (!strcmp(k, "shuffle")) {
            shuffle = kv.value;
            e = kn__yaml_bool(c, kv.value, k, &v->shuffle);
        } else if (!strcmp(k, "groups"))
            e = kn__spec_text(c, kv.value, k, &v->groups);
        else if (!strcmp(k, "order_by"))
            e = kn__spec_text(c, kv.value, k, &v->order_by);
        else
            e = kn__yaml_at(c, kv.key_node,
                            "unknown cv key '%s'; known: folds, split, shuffle, repeats, groups, "
                            "order_by, gap",
                            k);
    }
    if (e != KN_OK) return e;
    if (v->split == KN_SPLIT_GROUP && !v->groups)
        return kn__yaml_at(c, n, "split: group needs groups: COLUMN");
    if (v->groups && v->split == KN_SPLIT_AUTO) v->split = KN_SPLIT_GROUP;
    if (v->split == KN_SPLIT_TIME && !v->order_by)
        return kn__yaml_at(c, n, "split: time_series needs order_by: COLUMN (the time order)");
    /* k-fold and stratified folds are shuffled unless shuffle: false; group
     * and time-series folds never are */
    if (v->split == KN_SPLIT_GROUP || v->split == KN_SPLIT_TIME) {
        if (shuffle && v->shuffle)
            return kn__yaml_at(c, shuffle,
                               "shuffle: true goes with k-fold and stratified splits; %s folds "
                               "keep their %s: drop shuffle",
                               v->split == KN_SPLIT_GROUP ? "group" : "time-series",
                               v->split == KN_SPLIT_GROUP ? "groups whole" : "time order");
        v->shuffle = 0;
    }
    return KN_OK;
}

/* test: {fraction: 0.2} | {by: COL, from: VALUE} | {source: NAME} | false. */
static kn_status parse_test(Y *c, const yaml_node_t *n, kn_prep_spec *s)
{
    kn_spec_eval *v = &s->eval;
    if (n->type == YAML_SCALAR_NODE) {
        int on;
        kn_status e = kn__yaml_bool(c, n, "test", &on);
        if (e == KN_OK && on)
            return kn__yaml_at(c, n,
                               "test takes {fraction: 0.2}, {by: COLUMN, from: VALUE}, "
                               "{source: NAME} or false");
        v->test_fraction = 0;
        return e;
    }
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(
            c, n, "test takes {fraction: 0.2}, {by: COLUMN, from: VALUE} or {source: NAME}");
    v->test_fraction = 0;
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        const char *k = kv.key;
        if (!strcmp(k, "fraction")) {
            e = kn__yaml_double(c, kv.value, k, &v->test_fraction);
            if (e == KN_OK && !(v->test_fraction > 0 && v->test_fraction < 1))
                e = kn__yaml_at(c, kv.value,
                                "fraction is a share of the rows, above 0 and below 1");
        } else if (!strcmp(k, "by")) {
            e = kn__spec_text(c, kv.value, k, &v->test_by);
            s->test_by_at = kn__spec_mark(kv.value);
        } else if (!strcmp(k, "from"))
            e = kn__spec_text(c, kv.value, k, &v->test_from);
        else if (!strcmp(k, "source"))
            e = kn__spec_text(c, kv.value, k, &v->test_source);
        else
            e = kn__yaml_at(c, kv.key_node,
                            "unknown test key '%s'; known: fraction, by, from, source", k);
    }
    if (e != KN_OK) return e;
    int ways = (v->test_fraction > 0) + (v->test_by || v->test_from) + (v->test_source != NULL);
    if (ways != 1)
        return kn__yaml_at(c, n,
                           "test is one of {fraction: F}, {by: COLUMN, from: VALUE}, "
                           "{source: NAME}");
    if (!v->test_by != !v->test_from)
        return kn__yaml_at(c, n, "a time cut needs both by: COLUMN and from: VALUE");
    return KN_OK;
}

/* validation_curve: {param: NAME, values: [V, ...]}. */
static kn_status parse_validation_curve(Y *c, const yaml_node_t *n, kn_spec_eval *v)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "validation_curve takes {param: NAME, values: [1, 2, 4]}");
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "param"))
            e = kn__spec_text(c, kv.value, kv.key, &v->curve_param);
        else if (!strcmp(kv.key, "values"))
            e = kn__yaml_strings(c, kv.value, kv.key, &v->curve_values, &v->n_curve_values);
        else
            e = kn__yaml_at(c, kv.key_node,
                            "unknown validation_curve key '%s'; known: param, values", kv.key);
    }
    if (e == KN_OK && (!v->curve_param || v->n_curve_values < 2))
        e = kn__yaml_at(c, n, "validation_curve needs param: NAME and at least 2 values");
    return e;
}

static kn_status parse_eval(Y *c, const yaml_node_t *n, kn_prep_spec *s)
{
    kn_spec_eval *v = &s->eval;
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "evaluation takes {cv: {..}, metrics: [..], test: {..}}");
    v->given = 1;
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        const char *k = kv.key;
        if (!strcmp(k, "cv"))
            e = parse_cv(c, kv.value, v);
        else if (!strcmp(k, "test"))
            e = parse_test(c, kv.value, s);
        else if (!strcmp(k, "positive_class"))
            e = kn__spec_text(c, kv.value, k, &v->positive_class);
        else if (!strcmp(k, "slice_by")) {
            e = kn__spec_text(c, kv.value, k, &v->slice_by);
            s->slice_by_at = kn__spec_mark(kv.value);
        } else if (!strcmp(k, "bootstrap")) {
            v->bootstrap_given = 1;
            e = count_in(c, kv.value, k, 0, 100000, &v->bootstrap);
        } else if (!strcmp(k, "learning_curve"))
            e = count_in(c, kv.value, k, 2, 50, &v->learning_curve);
        else if (!strcmp(k, "validation_curve"))
            e = parse_validation_curve(c, kv.value, v);
        else if (!strcmp(k, "metrics")) {
            e = kn__yaml_strings(c, kv.value, k, &v->metrics, &v->n_metrics);
            for (size_t i = 0; e == KN_OK && i < v->n_metrics; i++)
                if (kn_registry_find(KN_COMP_METRIC, v->metrics[i]) == NULL)
                    e = kn__yaml_at(c, kv.value, "%s ('kiln help metrics' lists them)",
                                    kn_last_error());
        } else
            e = kn__yaml_at(c, kv.key_node,
                            "unknown evaluation key '%s'; known: cv, metrics, test, "
                            "positive_class, bootstrap, slice_by, learning_curve, "
                            "validation_curve",
                            k);
    }
    return e;
}

/* register: NAME, or {name: NAME, stage: none|staging|production}. */
static kn_status parse_register(Y *c, const yaml_node_t *n, kn_prep_spec *s)
{
    const char *plain = kn__yaml_scalar(n);
    if (plain) {
        if (!*plain) return kn__yaml_at(c, n, "register: names the model");
        return (s->register_name = kn_strdup(plain)) ? KN_OK : KN_ERR_NOMEM;
    }
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "register takes NAME or {name: NAME, stage: production}");
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "name"))
            e = kn__spec_text(c, kv.value, "name", &s->register_name);
        else if (!strcmp(kv.key, "stage")) {
            e = kn__spec_text(c, kv.value, "stage", &s->register_stage);
            if (e == KN_OK && strcmp(s->register_stage, "none") &&
                strcmp(s->register_stage, "staging") && strcmp(s->register_stage, "production"))
                e = kn__yaml_at(c, kv.value, "stage '%s' is not none, staging or production",
                                s->register_stage);
        } else
            e = kn__yaml_at(c, kv.key_node, "unknown register key '%s'; known: name, stage",
                            kv.key);
    }
    if (e == KN_OK && !s->register_name) e = kn__yaml_at(c, n, "register needs name: MODEL_NAME");
    return e;
}

kn_status kn__spec_run_field(Y *c, kn__yaml_pair kv, kn_prep_spec *s)
{
    const char *k = kv.key;
    if (!strcmp(k, "model")) {
        if (s->ensemble.method)
            return kn__yaml_at(c, kv.key_node,
                               "model: and ensemble: are both given: an ensemble's "
                               "models are its members' (and stacking's final:)");
        return kn__spec_model(c, kv.value, &s->model, &s->search);
    }
    if (!strcmp(k, "ensemble")) return kn__spec_ensemble(c, kv, s);
    if (!strcmp(k, "evaluation")) return parse_eval(c, kv.value, s);
    if (!strcmp(k, "register")) return parse_register(c, kv.value, s);
    if (!strcmp(k, "description")) return kn__spec_text(c, kv.value, k, &s->description);
    if (!strcmp(k, "ignore")) {
        kn_status e = kn__yaml_strings(c, kv.value, k, &s->ignore, &s->n_ignore);
        if (e == KN_OK && !(s->ignore_at = kn_calloc(s->n_ignore + 1, sizeof *s->ignore_at)))
            e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < s->n_ignore; i++)
            s->ignore_at[i] = kn__spec_mark(kn__yaml_item(c, kv.value, i));
        return e;
    }
    if (!strcmp(k, "seed")) {
        s->has_seed = 1;
        return kn__yaml_count(c, kv.value, k, &s->seed);
    }
    /* task */
    kn_status e = kn__spec_text(c, kv.value, k, &s->task);
    if (e == KN_OK && strcmp(s->task, "classification") && strcmp(s->task, "regression"))
        e = kn__yaml_at(c, kv.value, "task '%s' is not classification or regression", s->task);
    return e;
}

kn_status kn__spec_run_check(Y *c, const yaml_node_t *root, kn_prep_spec *s)
{
    if (!s->model.name) {
        static const char *const need_model[] = {"evaluation", "register", "task", "ignore"};
        const void *set[] = {s->eval.given ? s : NULL, s->register_name, s->task, s->ignore};
        for (size_t i = 0; i < 4; i++)
            if (set[i])
                return kn__yaml_at(c, root, "%s: needs a model: (model: {gbdt: {}})",
                                   need_model[i]);
        return KN_OK;
    }
    if (!s->target) return kn__yaml_at(c, root, "a spec with a model needs target: COLUMN");
    if (s->ensemble.method) {
        kn_status e = kn__spec_ensemble_check(c, root, s);
        if (e != KN_OK) return e;
    }
    if (!s->register_stage && s->register_name && !(s->register_stage = kn_strdup("none")))
        return KN_ERR_NOMEM;
    if (s->eval.curve_param) { /* the parameter and every value, before any work */
        kn_model *m = NULL;
        kn_status e = kn_model_new(s->model.name, &m);
        for (size_t i = 0; e == KN_OK && i < s->eval.n_curve_values; i++) {
            char *kv = kn_sprintf("%s=%s", s->eval.curve_param, s->eval.curve_values[i]);
            e = kv ? kn_model_set(m, kv) : KN_ERR_NOMEM;
            kn_free(kv);
        }
        kn_model_free(m);
        if (e == KN_ERR_NOMEM) return e;
        if (e != KN_OK)
            return kn__yaml_at(c, root, "evaluation: validation_curve: %s", kn_last_error());
    }
    if (s->eval.test_source) {
        size_t i = 0;
        while (i < s->n_sources && strcmp(s->sources[i].name, s->eval.test_source)) i++;
        if (i == s->n_sources)
            return kn__yaml_at(c, root, "evaluation: test: source '%s' is not one of the sources",
                               s->eval.test_source);
    }
    return KN_OK;
}

void kn__spec_run_free(kn_prep_spec *s)
{
    kn_free(s->model.name);
    kn__spec_ensemble_free(&s->ensemble);
    kn_tune_space_free(s->search.space);
    kn_free(s->search.metric);
    kn_free(s->search.resource);
    kn__strings_free(s->model.params, s->model.n_params);
    kn_free(s->task);
    kn_spec_eval *v = &s->eval;
    kn_free(v->groups);
    kn_free(v->order_by);
    kn__strings_free(v->metrics, v->n_metrics);
    kn_free(v->positive_class);
    kn_free(v->slice_by);
    kn_free(v->curve_param);
    kn__strings_free(v->curve_values, v->n_curve_values);
    kn_free(v->test_by);
    kn_free(v->test_from);
    kn_free(v->test_source);
    kn_free(s->register_name);
    kn_free(s->register_stage);
    kn_free(s->description);
    kn__strings_free(s->ignore, s->n_ignore);
    kn_free(s->text);
}
