/* Prep spec YAML: parse and check (see kiln/prep_spec.h). */
#include "data/io-impl.h"
#include "kiln/mem.h"
#include "kiln/prep_spec.h"
#include "pipeline/spec-impl.h"
#include "prep/yaml-impl.h"

#include <stdio.h>
#include <string.h>

typedef const kn__yaml Y;

/* dir/p unless p is absolute (a new string). */
static char *resolve(const char *dir, const char *p)
{
    if (p[0] == '/' || !strcmp(dir, ".")) return kn_strdup(p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *s = kn_malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, p);
    return s;
}

const char *kn__spec_at(const kn_prep_spec *s, kn_spec_mark m, char *buf, size_t cap)
{
    if (m.line)
        snprintf(buf, cap, "%s:%zu:%zu", s->path, m.line, m.column);
    else
        snprintf(buf, cap, "%s", s->path);
    return buf;
}

kn_status kn__spec_text(Y *c, const yaml_node_t *n, const char *key, char **out)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    kn_free(*out);
    return (*out = kn_strdup(s)) ? KN_OK : KN_ERR_NOMEM;
}

static kn_status get_path(Y *c, const yaml_node_t *n, const char *key, const char *dir, char **out)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    kn_free(*out);
    return (*out = resolve(dir, s)) ? KN_OK : KN_ERR_NOMEM;
}

/* A setting as "key=value" text (a new string): a scalar, or a list joined
 * with commas. */
static kn_status param_text(Y *c, const yaml_node_t *n, const char *key, char **out)
{
    const char *s = kn__yaml_scalar(n);
    if (s) return (*out = kn_sprintf("%s=%s", key, s)) ? KN_OK : KN_ERR_NOMEM;
    if (n->type != YAML_SEQUENCE_NODE)
        return kn__yaml_at(c, n, "'%s' takes a value or a list of values", key);
    size_t need = strlen(key) + 2;
    for (size_t i = 0; i < kn__yaml_len(n); i++) {
        const char *t = kn__yaml_scalar(kn__yaml_item(c, n, i));
        if (!t) return kn__yaml_at(c, n, "'%s' lists single values only", key);
        need += strlen(t) + 1;
    }
    char *buf = kn_malloc(need);
    if (!buf) return KN_ERR_NOMEM;
    size_t used = (size_t)snprintf(buf, need, "%s=", key);
    for (size_t i = 0; i < kn__yaml_len(n); i++)
        used += (size_t)snprintf(buf + used, need - used, "%s%s", i ? "," : "",
                                 kn__yaml_scalar(kn__yaml_item(c, n, i)));
    *out = buf;
    return KN_OK;
}

/* A mapping of settings into "name=value" strings. */
kn_status kn__spec_settings(Y *c, const yaml_node_t *n, const char *key, char ***out, size_t *count)
{
    *count = 0;
    if (n->type == YAML_SCALAR_NODE && !*kn__yaml_scalar(n)) return KN_OK; /* empty */
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "'%s' takes a mapping of settings, like {name: value}", key);
    kn_status e = kn__yaml_check_keys(c, n);
    if (e != KN_OK) return e;
    size_t len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (!(*out = kn_calloc(len ? len : 1, sizeof **out))) return KN_ERR_NOMEM;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if ((e = param_text(c, kv.value, kv.key, &(*out)[*count])) != KN_OK) return e;
        ++*count;
    }
    return KN_OK;
}

/* "op", "op column" or "op column by order". */
static kn_status parse_agg(Y *c, const yaml_node_t *n, const char *name, kn_agg *a)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(c, n, name, &s);
    if (e != KN_OK) return e;
    char buf[512], *words[4] = {0};
    int k = 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *w = strtok(buf, " \t"); w && k < 4; w = strtok(NULL, " \t")) words[k++] = w;
    kn_agg_op op;
    if (!k || kn_agg_op_parse(words[0], &op) != KN_OK || (k == 3) || k > 4 ||
        (k == 4 && strcmp(words[2], "by")))
        return kn__yaml_at(c, n,
                           "aggregation '%s' reads 'OP [COLUMN] [by ORDER]' with OP one of count, "
                           "sum, mean, min, max, std, nunique, first, last",
                           s);
    a->op = op;
    a->name = kn_strdup(name);
    a->column = k > 1 ? kn_strdup(words[1]) : NULL;
    a->order_by = k == 4 ? kn_strdup(words[3]) : NULL;
    if (!a->name || (k > 1 && !a->column) || (k == 4 && !a->order_by)) return KN_ERR_NOMEM;
    if (!a->column && op != KN_AGG_COUNT)
        return kn__yaml_at(c, n, "aggregation '%s' needs a column", s);
    return KN_OK;
}

static kn_status parse_aggs(Y *c, const yaml_node_t *n, kn_spec_source *src)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "aggregate takes a mapping {output: OP COLUMN}");
    kn_status e = kn__yaml_check_keys(c, n);
    if (e != KN_OK) return e;
    size_t len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (!(src->aggs = kn_calloc(len ? len : 1, sizeof *src->aggs))) return KN_ERR_NOMEM;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if ((e = parse_agg(c, kv.value, kv.key, &src->aggs[src->n_aggs++])) != KN_OK) return e;
    }
    return KN_OK;
}

static const char source_keys[] = "file, sqlite, path, postgres, uri, url, group, by, aggregate, "
                                  "read, since, timeout, retries, fallback";

static kn_status source_field(Y *c, kn__yaml_pair kv, const char *dir, kn_spec_source *src,
                              int *kinds)
{
    const char *k = kv.key;
    const yaml_node_t *v = kv.value;
    if (!strcmp(k, "file")) {
        (*kinds)++;
        src->kind = KN_SOURCE_FILE;
        return get_path(c, v, k, dir, &src->location);
    }
    if (!strcmp(k, "sqlite") || !strcmp(k, "postgres")) {
        (*kinds)++;
        src->kind = !strcmp(k, "sqlite") ? KN_SOURCE_SQLITE : KN_SOURCE_POSTGRES;
        return kn__spec_text(c, v, k, &src->query);
    }
    if (!strcmp(k, "url")) {
        (*kinds)++;
        src->kind = KN_SOURCE_HTTP;
        return kn__spec_text(c, v, k, &src->location);
    }
    if (!strcmp(k, "group")) {
        (*kinds)++;
        src->kind = KN_SOURCE_GROUP;
        return kn__spec_text(c, v, k, &src->location);
    }
    if (!strcmp(k, "path")) return get_path(c, v, k, dir, &src->location);
    if (!strcmp(k, "uri")) return kn__spec_text(c, v, k, &src->location);
    if (!strcmp(k, "by")) return kn__yaml_strings(c, v, k, &src->by, &src->n_by);
    if (!strcmp(k, "aggregate")) return parse_aggs(c, v, src);
    if (!strcmp(k, "read")) return kn__spec_settings(c, v, k, &src->read, &src->n_read);
    if (!strcmp(k, "since")) return kn__spec_text(c, v, k, &src->since);
    if (!strcmp(k, "fallback")) return kn__spec_text(c, v, k, &src->fallback);
    if (!strcmp(k, "timeout")) {
        kn_status e = kn__yaml_double(c, v, k, &src->timeout_s);
        if (e == KN_OK && !(src->timeout_s > 0 && src->timeout_s <= 3600))
            return kn__yaml_at(c, v, "timeout is in seconds, above 0 and at most 3600");
        return e;
    }
    if (!strcmp(k, "retries")) {
        uint64_t r;
        kn_status e = kn__yaml_count(c, v, k, &r);
        if (e == KN_OK && r > 20) return kn__yaml_at(c, v, "retries: at most 20");
        src->retries = (int)r;
        return e;
    }
    return kn__yaml_at(c, kv.key_node, "unknown source key '%s'; known: %s", k, source_keys);
}

static kn_status parse_source(Y *c, const char *name, const yaml_node_t *n, const char *dir,
                              kn_spec_source *src)
{
    src->timeout_s = 30;
    src->retries = 2;
    if (!(src->name = kn_strdup(name))) return KN_ERR_NOMEM;
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(
            c, n, "source '%s' is a mapping (file: ..., or sqlite:/postgres:/url:/group:)", name);
    kn_status e = kn__yaml_check_keys(c, n);
    int kinds = 0;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e == KN_OK) e = source_field(c, kv, dir, src, &kinds);
    }
    if (e != KN_OK) return e;
    if (kinds != 1)
        return kn__yaml_at(
            c, n, "source '%s' needs exactly one of file, sqlite, postgres, url, group", name);
    if (src->kind == KN_SOURCE_SQLITE && !src->location)
        return kn__yaml_at(c, n, "sqlite source '%s' needs path: (the database file)", name);
    if (src->kind == KN_SOURCE_GROUP && (!src->n_by || !src->n_aggs))
        return kn__yaml_at(c, n, "group source '%s' needs by: [..] and aggregate: {..}", name);
    return KN_OK;
}

static kn_status parse_sources(Y *c, const yaml_node_t *n, const char *dir, kn_prep_spec *s)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "sources takes a mapping of named sources");
    kn_status e = kn__yaml_check_keys(c, n);
    if (e != KN_OK) return e;
    size_t len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (!(s->sources = kn_calloc(len ? len : 1, sizeof *s->sources))) return KN_ERR_NOMEM;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e == KN_OK) e = parse_source(c, kv.key, kv.value, dir, &s->sources[s->n_sources++]);
    }
    return e;
}

static kn_status parse_join(Y *c, const yaml_node_t *n, kn_spec_join *j)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "a join is {with: SOURCE, on: [KEY], right_on: [KEY], how: left}");
    kn_status e = kn__yaml_check_keys(c, n);
    size_t n_right = 0;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "with"))
            e = kn__spec_text(c, kv.value, "with", &j->with);
        else if (!strcmp(kv.key, "on"))
            e = kn__yaml_strings(c, kv.value, "on", &j->on, &j->n_keys);
        else if (!strcmp(kv.key, "right_on")) {
            e = kn__yaml_strings(c, kv.value, "right_on", &j->right_on, &n_right);
            if (e != KN_OK) {
                kn__strings_free(j->right_on, n_right);
                j->right_on = NULL;
            }
        } else if (!strcmp(kv.key, "how")) {
            const char *h;
            e = kn__yaml_need_scalar(c, kv.value, "how", &h);
            if (e == KN_OK && !strcmp(h, "inner"))
                j->how = KN_JOIN_INNER;
            else if (e == KN_OK && !strcmp(h, "left"))
                j->how = KN_JOIN_LEFT;
            else if (e == KN_OK && !strcmp(h, "semi"))
                j->how = KN_JOIN_SEMI;
            else if (e == KN_OK && !strcmp(h, "anti"))
                j->how = KN_JOIN_ANTI;
            else if (e == KN_OK && !strcmp(h, "right"))
                j->how = KN_JOIN_RIGHT;
            else if (e == KN_OK && !strcmp(h, "full"))
                j->how = KN_JOIN_FULL;
            else if (e == KN_OK)
                e = kn__yaml_at(c, kv.value,
                                "how '%s' is not inner, left, right, full, semi or anti", h);
        } else
            e = kn__yaml_at(c, kv.key_node, "unknown join key '%s'; known: with, on, right_on, how",
                            kv.key);
    }
    if (e == KN_OK && (!j->with || !j->n_keys))
        e = kn__yaml_at(c, n, "a join needs with: and on: [..]");
    if (e != KN_OK || (j->right_on && n_right != j->n_keys)) {
        /* freed here: the spec frees right_on as n_keys long */
        kn__strings_free(j->right_on, n_right);
        j->right_on = NULL;
        if (e != KN_OK) return e;
        return kn__yaml_at(c, n, "right_on lists %s keys than on",
                           n_right < j->n_keys ? "fewer" : "more");
    }
    if (!j->right_on) {
        if (!(j->right_on = kn_calloc(j->n_keys, sizeof *j->right_on))) return KN_ERR_NOMEM;
        for (size_t i = 0; i < j->n_keys; i++)
            if (!(j->right_on[i] = kn_strdup(j->on[i]))) return KN_ERR_NOMEM;
    }
    return KN_OK;
}

/* frame.sort: {by: [..], descending: [..], nulls: first|last} */
static kn_status parse_sort(Y *c, const yaml_node_t *n, kn_prep_spec *s)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "sort takes {by: [..], descending: [..], nulls: first|last}");
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "by") && !s->sort_by)
            e = kn__yaml_strings(c, kv.value, "by", &s->sort_by, &s->n_sort);
        else if (!strcmp(kv.key, "descending") && !s->sort_desc)
            e = kn__yaml_strings(c, kv.value, "descending", &s->sort_desc, &s->n_sort_desc);
        else if (!strcmp(kv.key, "nulls")) {
            const char *v;
            e = kn__yaml_need_scalar(c, kv.value, "nulls", &v);
            if (e == KN_OK && (!strcmp(v, "first") || !strcmp(v, "last")))
                s->sort_nulls_first = !strcmp(v, "first");
            else if (e == KN_OK)
                e = kn__yaml_at(c, kv.value, "nulls '%s' is not first or last", v);
        } else
            e = kn__yaml_at(c, kv.key_node, "unknown sort key '%s'; known: by, descending, nulls",
                            kv.key);
    }
    if (e == KN_OK && !s->n_sort) e = kn__yaml_at(c, n, "sort needs by: [column, ..]");
    for (size_t i = 0; e == KN_OK && i < s->n_sort_desc; i++) {
        int found = 0;
        for (size_t k = 0; k < s->n_sort; k++) found |= !strcmp(s->sort_desc[i], s->sort_by[k]);
        if (!found)
            e = kn__yaml_at(c, n,
                            "sort: descending names '%s', which is not in by: [..]; list it "
                            "there too",
                            s->sort_desc[i]);
    }
    return e;
}

static kn_status parse_frame(Y *c, const yaml_node_t *n, kn_prep_spec *s)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "frame takes {from: SOURCE, union: [..], join: [..]}");
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "from"))
            e = kn__spec_text(c, kv.value, "from", &s->from);
        else if (!strcmp(kv.key, "union"))
            e = kn__yaml_strings(c, kv.value, "union", &s->unions, &s->n_unions);
        else if (!strcmp(kv.key, "join")) {
            if (kv.value->type != YAML_SEQUENCE_NODE)
                return kn__yaml_at(c, kv.value, "join takes a list of joins");
            size_t len = kn__yaml_len(kv.value);
            if (!(s->joins = kn_calloc(len ? len : 1, sizeof *s->joins))) return KN_ERR_NOMEM;
            for (size_t i = 0; e == KN_OK && i < len; i++)
                e = parse_join(c, kn__yaml_item(c, kv.value, i), &s->joins[s->n_joins++]);
        } else if (!strcmp(kv.key, "sort"))
            e = parse_sort(c, kv.value, s);
        else
            e = kn__yaml_at(c, kv.key_node,
                            "unknown frame key '%s'; known: from, union, join, sort", kv.key);
    }
    return e;
}

static kn_status parse_dedupe(Y *c, const yaml_node_t *n, kn_prep_spec *s)
{
    if (n->type == YAML_SCALAR_NODE) return kn__yaml_bool(c, n, "dedupe", &s->dedupe);
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "dedupe takes true or {keys: [..], keep: first|last}");
    s->dedupe = 1;
    kn_status e = kn__yaml_check_keys(c, n);
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (e != KN_OK) break;
        if (!strcmp(kv.key, "keys"))
            e = kn__yaml_strings(c, kv.value, "keys", &s->dedupe_keys, &s->n_dedupe_keys);
        else if (!strcmp(kv.key, "keep")) {
            const char *k;
            e = kn__yaml_need_scalar(c, kv.value, "keep", &k);
            if (e == KN_OK && strcmp(k, "first") && strcmp(k, "last"))
                e = kn__yaml_at(c, kv.value, "keep '%s' is not first or last", k);
            s->keep_last = e == KN_OK && !strcmp(k, "last");
        } else
            e = kn__yaml_at(c, kv.key_node, "unknown dedupe key '%s'; known: keys, keep", kv.key);
    }
    return e;
}

kn_status kn__spec_steps(Y *c, const yaml_node_t *n, kn_spec_step **steps, size_t *n_steps)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return kn__yaml_at(c, n, "steps takes a list: - step_name: {param: value}");
    size_t len = kn__yaml_len(n);
    if (!(*steps = kn_calloc(len ? len : 1, sizeof **steps))) return KN_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *item = kn__yaml_item(c, n, i);
        kn_spec_step *st = &(*steps)[(*n_steps)++];
        const char *plain = kn__yaml_scalar(item);
        if (plain) { /* - standard_scaler */
            if (!(st->name = kn_strdup(plain))) return KN_ERR_NOMEM;
            kn_step *probe;
            if (kn_step_new(st->name, &probe) != KN_OK)
                return kn__yaml_at(c, item, "%s ('kiln help steps' lists them)", kn_last_error());
            kn_step_free(probe);
            continue;
        }
        if (item->type != YAML_MAPPING_NODE ||
            item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
            return kn__yaml_at(c, item, "each step is one name with its settings: - name: {..}");
        kn__yaml_pair kv = kn__yaml_pair_at(c, item->data.mapping.pairs.start);
        if (!kv.key) return kn__yaml_at(c, item, "a step name is text");
        if (!(st->name = kn_strdup(kv.key))) return KN_ERR_NOMEM;
        kn_status e = kn__spec_settings(c, kv.value, kv.key, &st->params, &st->n_params);
        if (e != KN_OK) return e;
        /* the step must exist and take these settings */
        kn_step *probe;
        if (kn_step_new(st->name, &probe) != KN_OK)
            return kn__yaml_at(c, kv.key_node, "%s ('kiln help steps' lists them)",
                               kn_last_error());
        for (size_t p = 0; e == KN_OK && p < st->n_params; p++)
            if (kn_step_set(probe, st->params[p]) != KN_OK)
                e = kn__yaml_at(c, kv.value, "%s", kn_last_error());
        kn_step_free(probe);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static kn_status top_field(Y *c, kn__yaml_pair kv, kn_prep_spec *s)
{
    const char *k = kv.key, *dir = s->dir;
    if (!strcmp(k, "sources")) return parse_sources(c, kv.value, dir, s);
    if (!strcmp(k, "frame")) return parse_frame(c, kv.value, s);
    if (!strcmp(k, "schema")) return get_path(c, kv.value, k, dir, &s->schema);
    if (!strcmp(k, "rejects")) return get_path(c, kv.value, k, dir, &s->rejects);
    if (!strcmp(k, "dedupe")) return parse_dedupe(c, kv.value, s);
    if (!strcmp(k, "steps")) return kn__spec_steps(c, kv.value, &s->steps, &s->n_steps);
    if (!strcmp(k, "output")) return get_path(c, kv.value, k, dir, &s->output);
    if (!strcmp(k, "save")) return get_path(c, kv.value, k, dir, &s->save);
    if (!strcmp(k, "state")) return get_path(c, kv.value, k, dir, &s->state);
    if (!strcmp(k, "profile")) return get_path(c, kv.value, k, dir, &s->profile);
    if (!strcmp(k, "target")) {
        const char *t;
        kn_status e = kn__yaml_need_scalar(c, kv.value, "target", &t);
        if (e == KN_OK && !t[0]) e = kn__yaml_at(c, kv.value, "target names a column");
        if (e == KN_OK && !(s->target = kn_strdup(t))) e = KN_ERR_NOMEM;
        s->target_at = kn__spec_mark(kv.value);
        return e;
    }
    if (kn__spec_is_run_key(k)) return kn__spec_run_field(c, kv, s);
    return kn__yaml_at(c, kv.key_node,
                       "unknown key '%s'; known: sources, frame, schema, rejects, dedupe, "
                       "target, steps, profile, output, save, state, model, task, evaluation, "
                       "register, seed, description, ensemble",
                       k);
}

static const kn_spec_source *find_source(const kn_prep_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_sources; i++)
        if (!strcmp(s->sources[i].name, name)) return &s->sources[i];
    return NULL;
}

/* Every name refers to a declared source; `from` defaults to the only source. */
static kn_status check_names(Y *c, const yaml_node_t *root, kn_prep_spec *s)
{
    if (!s->n_sources) return kn__yaml_at(c, root, "the spec has no sources:");
    if (!s->output && !s->model.name)
        return kn__yaml_at(c, root,
                           "the spec has no output: (the file to write) and no model: (to train)");
    if (!s->from) {
        if (s->n_sources != 1)
            return kn__yaml_at(c, root,
                               "with several sources, say which one the frame starts "
                               "from (frame: {from: NAME})");
        if (!(s->from = kn_strdup(s->sources[0].name))) return KN_ERR_NOMEM;
    }
    const char *refs[256];
    size_t n = 0;
    refs[n++] = s->from;
    for (size_t i = 0; i < s->n_unions && n < 256; i++) refs[n++] = s->unions[i];
    for (size_t i = 0; i < s->n_joins && n < 256; i++) refs[n++] = s->joins[i].with;
    for (size_t i = 0; i < s->n_sources && n < 256; i++) {
        if (s->sources[i].fallback) refs[n++] = s->sources[i].fallback;
        if (s->sources[i].kind == KN_SOURCE_GROUP && n < 256) refs[n++] = s->sources[i].location;
    }
    for (size_t i = 0; i < n; i++)
        if (!find_source(s, refs[i]))
            return kn__yaml_at(c, root, "'%s' is not one of the sources", refs[i]);
    return KN_OK;
}

kn_status kn_prep_spec_parse(const char *text, size_t len, const char *path, kn_prep_spec **out)
{
    kn__yaml c;
    kn_status e = kn__yaml_load(&c, text, len, path);
    if (e != KN_OK) return e;
    kn_prep_spec *s = kn_calloc(1, sizeof *s);
    if (!s) {
        kn__yaml_free(&c);
        return KN_ERR_NOMEM;
    }
    s->path = kn_strdup(path);
    /* evaluation defaults: 5-fold CV and a fifth of the rows held out */
    s->eval.cv = 1;
    s->eval.split = KN_SPLIT_AUTO;
    s->eval.folds = 5;
    s->eval.repeats = 1;
    s->eval.shuffle = 1; /* k-fold and stratified folds shuffled by the run's seed */
    s->eval.test_fraction = 0.2;
    const char *slash = strrchr(path, '/');
    s->dir = slash ? kn_strndup(path, (size_t)(slash - path)) : kn_strdup(".");
    if (s->dir && !s->dir[0]) {
        kn_free(s->dir);
        s->dir = kn_strdup("/");
    }
    const yaml_node_t *root = kn__yaml_root(&c);
    if (!s->path || !s->dir)
        e = KN_ERR_NOMEM;
    else if (!root || root->type != YAML_MAPPING_NODE)
        e = kn_fail(KN_ERR_PARSE,
                    "%s: a spec is a YAML mapping with sources: and output: or model:", path);
    else
        e = kn__yaml_check_keys(&c, root);
    if (e == KN_OK) {
        KN__YAML_FOR_PAIRS(&c, root, kv)
        {
            if (e == KN_OK) e = top_field(&c, kv, s);
        }
    }
    if (e == KN_OK) e = check_names(&c, root, s);
    if (e == KN_OK) e = kn__spec_run_check(&c, root, s);
    if (e == KN_OK && !(s->text = kn_strndup(text, len))) e = KN_ERR_NOMEM;
    s->text_len = len;
    kn__yaml_free(&c);
    if (e != KN_OK) {
        kn_prep_spec_free(s);
        return e;
    }
    *out = s;
    return KN_OK;
}

kn_status kn_prep_spec_load(const char *path, kn_prep_spec **out)
{
    char *text;
    size_t len;
    kn_status e = kn__slurp(path, &text, &len);
    if (e != KN_OK) return e;
    e = kn_prep_spec_parse(text, len, path, out);
    kn_free(text);
    return e;
}

void kn_prep_spec_free(kn_prep_spec *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_sources; i++) {
        kn_spec_source *src = &s->sources[i];
        kn_free(src->name);
        kn_free(src->location);
        kn_free(src->query);
        kn__strings_free(src->read, src->n_read);
        kn_free(src->since);
        kn_free(src->fallback);
        kn__strings_free(src->by, src->n_by);
        for (size_t a = 0; a < src->n_aggs; a++) {
            kn_free((char *)src->aggs[a].name);
            kn_free((char *)src->aggs[a].column);
            kn_free((char *)src->aggs[a].order_by);
        }
        kn_free(src->aggs);
    }
    kn_free(s->sources);
    for (size_t i = 0; i < s->n_joins; i++) {
        kn_free(s->joins[i].with);
        kn__strings_free(s->joins[i].on, s->joins[i].n_keys);
        kn__strings_free(s->joins[i].right_on, s->joins[i].n_keys);
    }
    kn_free(s->joins);
    for (size_t i = 0; i < s->n_steps; i++) {
        kn_free(s->steps[i].name);
        kn__strings_free(s->steps[i].params, s->steps[i].n_params);
    }
    kn_free(s->steps);
    kn__strings_free(s->unions, s->n_unions);
    kn__strings_free(s->dedupe_keys, s->n_dedupe_keys);
    kn__strings_free(s->sort_by, s->n_sort);
    kn__strings_free(s->sort_desc, s->n_sort_desc);
    kn_free(s->path);
    kn_free(s->dir);
    kn_free(s->from);
    kn_free(s->schema);
    kn_free(s->rejects);
    kn_free(s->output);
    kn_free(s->save);
    kn_free(s->state);
    kn_free(s->profile);
    kn_free(s->target);
    kn_free(s->ignore_at);
    kn__spec_run_free(s);
    kn_free(s);
}
