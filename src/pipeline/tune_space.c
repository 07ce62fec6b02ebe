/* Search spaces (kiln/tune.h): parsed from YAML and checked against the
 * model's parameter table before any trial runs; random draws. */
#include "core/names-impl.h"
#include "data/io-impl.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "pipeline/tune-impl.h"
#include "prep/yaml-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef const kn__yaml Y;

void kn_tune_space_free(kn_tune_space *sp)
{
    if (!sp) return;
    for (size_t i = 0; i < sp->n; i++) {
        kn_free(sp->dim[i].name);
        kn__strings_free(sp->dim[i].choices, sp->dim[i].n_choices);
    }
    kn_free(sp->dim);
    kn_free(sp->model);
    kn_free(sp);
}

size_t kn_tune_space_size(const kn_tune_space *sp)
{
    return sp ? sp->n : 0;
}

const char *kn_tune_space_name(const kn_tune_space *sp, size_t i)
{
    return sp && i < sp->n ? sp->dim[i].name : NULL;
}

int kn_tune_space_has(const kn_tune_space *sp, const char *name)
{
    for (size_t i = 0; sp && i < sp->n; i++)
        if (!strcmp(sp->dim[i].name, name)) return 1;
    return 0;
}

/* The table's names, "a, b, c", for an unknown-parameter error. */
static void param_names(const kn_param_def *defs, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (const kn_param_def *d = defs; d && d->name && used + 1 < cap; d++) {
        int w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", d->name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* The model accepts name=value (its table's type, bounds and choices). */
static kn_status probe_value(Y *c, const yaml_node_t *at, kn_model *probe, const char *name,
                             const char *value)
{
    size_t len = strlen(name) + strlen(value) + 2;
    char *kv = kn_malloc(len);
    if (!kv) return KN_ERR_NOMEM;
    snprintf(kv, len, "%s=%s", name, value);
    kn_status e = kn_model_set(probe, kv);
    kn_free(kv);
    if (e != KN_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", kn_last_error());
        return kn__yaml_at(c, at, "%s: %s", name, msg);
    }
    return KN_OK;
}

/* [lo, hi] of a range, checked: numbers, not empty, inside the table's bounds. */
static kn_status parse_range(Y *c, const yaml_node_t *n, kn__dim *d, const kn_param_def *def,
                             const char *kind, const char *model)
{
    if (n->type != YAML_SEQUENCE_NODE || kn__yaml_len(n) != 2)
        return kn__yaml_at(c, n, "%s: %s: is two numbers, low and high: %s: [1, 10]", d->name, kind,
                           kind);
    double v[2];
    for (size_t i = 0; i < 2; i++) {
        const yaml_node_t *it = kn__yaml_item(c, n, i);
        const char *t = kn__yaml_scalar(it);
        char *end = NULL;
        v[i] = t ? strtod(t, &end) : NAN;
        if (!t || end == t || *end || !isfinite(v[i]))
            return kn__yaml_at(c, it, "%s: %s: '%s' is not a finite number", d->name, kind,
                               t ? t : "(not a number)");
        if (d->kind == KN__DIM_INT && v[i] != floor(v[i]))
            return kn__yaml_at(c, it, "%s: int: %g is not an integer", d->name, v[i]);
    }
    d->lo = v[0];
    d->hi = v[1];
    int discrete = d->kind == KN__DIM_INT;
    if (discrete ? d->lo > d->hi : d->lo >= d->hi)
        return kn__yaml_at(c, n, "%s: %s: [%g, %g] is an empty range: give the low end first%s",
                           d->name, kind, d->lo, d->hi,
                           discrete ? "" : " (for one value use choice: [v])");
    if ((d->kind == KN__DIM_LOG || d->log) && d->lo <= 0)
        return kn__yaml_at(c, n,
                           "%s: log: [%g, %g] reaches %s: a log range needs a low end above 0 "
                           "(or use uniform:)",
                           d->name, d->lo, d->hi, d->lo == 0 ? "0" : "below 0");
    if (d->lo < def->min || d->hi > def->max)
        return kn__yaml_at(c, n,
                           "%s: [%g, %g] is out of the parameter's bounds [%g, %g] ('kiln help "
                           "model %s')",
                           d->name, d->lo, d->hi, def->min, def->max, model);
    return KN_OK;
}

static kn_status parse_when(Y *c, const yaml_node_t *n, kn_tune_space *sp, kn__dim *d)
{
    const char *t = kn__yaml_scalar(n);
    const char *eq = t ? strchr(t, '=') : NULL;
    if (!eq || eq == t || !eq[1])
        return kn__yaml_at(c, n,
                           "%s: when: is PARAM=VALUE, a choice of the space: when: "
                           "objective=huber",
                           d->name);
    size_t plen = (size_t)(eq - t);
    for (size_t p = 0; p + 1 < sp->n; p++) { /* the ones above d */
        kn__dim *q = &sp->dim[p];
        if (strlen(q->name) != plen || strncmp(q->name, t, plen)) continue;
        if (q->kind != KN__DIM_CHOICE)
            return kn__yaml_at(
                c, n, "%s: when: %s is a range; a condition needs a choice:", d->name, q->name);
        for (size_t k = 0; k < q->n_choices; k++)
            if (!strcmp(q->choices[k], eq + 1)) {
                d->parent = p;
                d->when = k;
                return KN_OK;
            }
        return kn__yaml_at(c, n, "%s: when: '%s' is not one of %s's choices", d->name, eq + 1,
                           q->name);
    }
    return kn__yaml_at(c, n,
                       "%s: when: '%.*s' is not a choice of the space declared above this "
                       "parameter",
                       d->name, (int)plen, t);
}

static kn_status parse_dim(Y *c, kn__yaml_pair kv, kn_tune_space *sp, const kn_param_def *defs,
                           kn_model *probe)
{
    kn__dim *d = &sp->dim[sp->n];
    memset(d, 0, sizeof *d);
    d->parent = SIZE_MAX;
    if (!kv.key) return kn__yaml_at(c, kv.key_node, "a parameter name is text");
    if (!(d->name = kn_strdup(kv.key))) return KN_ERR_NOMEM;
    sp->n++; /* owned from here */
    const kn_param_def *def = kn_param_find(defs, kv.key);
    if (!def) {
        char names[2048], hint[160];
        param_names(defs, names, sizeof names);
        kn__closest near = {NULL, SIZE_MAX};
        for (const kn_param_def *p = defs; p->name; p++) kn__closest_offer(&near, kv.key, p->name);
        /* select.k, select__k: a step's parameter, as scikit-learn's grids name them */
        int step_like = strchr(kv.key, '.') || strstr(kv.key, "__");
        return kn__yaml_at(c, kv.key_node, "%s has no parameter '%s'%s; its parameters: %s%s",
                           sp->model, kv.key, kn__closest_hint(&near, kv.key, hint, sizeof hint),
                           names,
                           step_like ? " (a space searches the model's parameters only, not a "
                                       "step's: fix the step's value with --step, one search "
                                       "per value)"
                                     : "");
    }
    const yaml_node_t *n = kv.value;
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n,
                           "%s: give its values as {choice: [a, b]}, {int: [lo, hi]}, "
                           "{uniform: [lo, hi]} or {log: [lo, hi]}",
                           d->name);
    kn_status e = kn__yaml_check_keys(c, n);
    if (e != KN_OK) return e;
    const yaml_node_t *values = NULL, *when = NULL, *grid = NULL;
    const char *kind = NULL;
    KN__YAML_FOR_PAIRS(c, n, p)
    {
        if (!strcmp(p.key, "when"))
            when = p.value;
        else if (!strcmp(p.key, "grid"))
            grid = p.value;
        else if (!strcmp(p.key, "choice") || !strcmp(p.key, "int") || !strcmp(p.key, "uniform") ||
                 !strcmp(p.key, "log")) {
            if (kind)
                return kn__yaml_at(c, p.key_node,
                                   "%s: one of choice, int, uniform, log; not both "
                                   "%s and %s",
                                   d->name, kind, p.key);
            kind = p.key;
            values = p.value;
        } else
            return kn__yaml_at(c, p.key_node,
                               "%s: unknown key '%s' (choice, int, uniform, log, grid, when)",
                               d->name, p.key);
    }
    if (!kind)
        return kn__yaml_at(c, n,
                           "%s: give choice: [..], int: [lo, hi], uniform: [lo, hi] or "
                           "log: [lo, hi]",
                           d->name);
    int numeric = def->type == KN_PARAM_T_INT || def->type == KN_PARAM_T_DOUBLE;
    d->param_int = def->type == KN_PARAM_T_INT;
    if (!strcmp(kind, "choice")) {
        d->kind = KN__DIM_CHOICE;
        if (values->type != YAML_SEQUENCE_NODE || kn__yaml_len(values) == 0)
            return kn__yaml_at(c, values, "%s: choice: is a list of one or more values", d->name);
        e = kn__yaml_strings(c, values, "choice", &d->choices, &d->n_choices);
        for (size_t k = 0; e == KN_OK && k < d->n_choices; k++)
            e = probe_value(c, kn__yaml_item(c, values, k), probe, d->name, d->choices[k]);
        if (e != KN_OK) return e;
    } else {
        if (!numeric)
            return kn__yaml_at(c, n, "%s is a %s parameter: give its values as choice: [..]",
                               d->name, kn_param_type_name(def->type));
        if (!strcmp(kind, "int"))
            d->kind = KN__DIM_INT;
        else if (!strcmp(kind, "uniform"))
            d->kind = KN__DIM_UNIFORM;
        else
            d->kind = KN__DIM_LOG;
        if (d->kind == KN__DIM_UNIFORM && d->param_int)
            return kn__yaml_at(c, n, "%s is an integer parameter: use int: [lo, hi] (or log:)",
                               d->name);
        if (d->kind == KN__DIM_LOG && d->param_int) d->kind = KN__DIM_INT, d->log = 1;
        e = parse_range(c, values, d, def, d->log ? "log" : kind, sp->model);
        if (e != KN_OK) return e;
        char lo[64], hi[64];
        kn__tune_value_text(d, d->lo, lo, sizeof lo);
        kn__tune_value_text(d, d->hi, hi, sizeof hi);
        e = probe_value(c, values, probe, d->name, lo);
        if (e == KN_OK) e = probe_value(c, values, probe, d->name, hi);
        if (e != KN_OK) return e;
    }
    if (grid) {
        uint64_t g = 0;
        e = kn__yaml_count(c, grid, "grid", &g);
        if (e != KN_OK) return e;
        if (g < 2 || d->kind == KN__DIM_CHOICE)
            return kn__yaml_at(c, grid, "%s: grid: is a count of 2 or more points of a range",
                               d->name);
        d->grid = (size_t)g;
    }
    if (when) return parse_when(c, when, sp, d);
    return KN_OK;
}

kn_status kn__tune_space_from_node(const kn__yaml *c, const yaml_node_t *root, const char *model,
                                   kn_tune_space **out)
{
    const kn_component *comp = kn_registry_find(KN_COMP_MODEL, model ? model : "");
    if (!comp) return kn_last_status();
    kn_status e = KN_OK;
    kn_tune_space *sp = kn_calloc(1, sizeof *sp);
    kn_model *probe = NULL;
    if (!sp || !(sp->model = kn_strdup(model))) e = KN_ERR_NOMEM;
    if (e == KN_OK && (!root || root->type != YAML_MAPPING_NODE ||
                       root->data.mapping.pairs.top == root->data.mapping.pairs.start))
        e = root ? kn__yaml_at(c, root,
                               "a search space maps each parameter to its values, e.g. "
                               "max_depth: {int: [2, 8]}")
                 : kn_fail(KN_ERR_PARSE,
                           "%s: the search space is empty: name a parameter "
                           "and its values, e.g. max_depth: {int: [2, 8]}",
                           c->what);
    if (e == KN_OK) e = kn__yaml_check_keys(c, root);
    if (e == KN_OK) e = kn_model_new(model, &probe);
    if (e == KN_OK) {
        size_t n = (size_t)(root->data.mapping.pairs.top - root->data.mapping.pairs.start);
        if (!(sp->dim = kn_calloc(n, sizeof *sp->dim))) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK) {
        KN__YAML_FOR_PAIRS(c, root, kv)
        {
            if (e != KN_OK) break; /* (moves on to the next pair: stop at the first error) */
            e = parse_dim(c, kv, sp, comp->params, probe);
        }
    }
    kn_model_free(probe);
    if (e != KN_OK) {
        kn_tune_space_free(sp);
        return e;
    }
    *out = sp;
    return KN_OK;
}

kn_status kn_tune_space_parse(const char *text, size_t len, const char *what, const char *model,
                              kn_tune_space **out)
{
    if (!what) what = "search space";
    if (!kn_registry_find(KN_COMP_MODEL, model ? model : "")) return kn_last_status();
    kn__yaml y;
    kn_status e = kn__yaml_load(&y, text, len, what);
    if (e != KN_OK) return e;
    e = kn__tune_space_from_node(&y, kn__yaml_root(&y), model, out);
    kn__yaml_free(&y);
    return e;
}

kn_status kn_tune_space_load(const char *path, const char *model, kn_tune_space **out)
{
    char *text;
    size_t len;
    kn_status e = kn__slurp(path, &text, &len);
    if (e != KN_OK) return e;
    e = kn_tune_space_parse(text, len, path, model, out);
    kn_free(text);
    return e;
}

int kn__tune_active(const kn_tune_space *sp, const double *x, size_t i)
{
    for (size_t d = i; sp->dim[d].parent != SIZE_MAX; d = sp->dim[d].parent)
        if (x[sp->dim[d].parent] != (double)sp->dim[d].when) return 0;
    return 1;
}

void kn__tune_sample(const kn_tune_space *sp, kn_rng *r, double *x)
{
    for (size_t i = 0; i < sp->n; i++) {
        const kn__dim *d = &sp->dim[i];
        double u = kn_rng_uniform(r), v;
        switch (d->kind) {
        case KN__DIM_CHOICE:
            v = (double)(size_t)(u * (double)d->n_choices);
            break;
        case KN__DIM_INT:
            if (d->log) /* lo >= 1: the cells [k - 0.5, k + 0.5) on a log scale */
                v = floor(exp(log(d->lo - 0.5) + u * (log(d->hi + 0.5) - log(d->lo - 0.5))) + 0.5);
            else
                v = d->lo + floor(u * (d->hi - d->lo + 1));
            if (v < d->lo) v = d->lo;
            if (v > d->hi) v = d->hi;
            break;
        case KN__DIM_LOG:
            v = exp(log(d->lo) + u * (log(d->hi) - log(d->lo)));
            break;
        default:
            v = d->lo + u * (d->hi - d->lo);
            break;
        }
        if (d->kind == KN__DIM_CHOICE && v >= (double)d->n_choices) v = (double)d->n_choices - 1;
        x[i] = v;
    }
    /* parents come before their children: clear inactive ones in order */
    for (size_t i = 0; i < sp->n; i++)
        if (!kn__tune_active(sp, x, i)) x[i] = NAN;
}

void kn__tune_value_text(const kn__dim *d, double v, char *buf, size_t cap)
{
    if (d->kind == KN__DIM_CHOICE)
        snprintf(buf, cap, "%s", d->choices[(size_t)v]);
    else if (d->kind == KN__DIM_INT || d->param_int)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.17g", v);
}
