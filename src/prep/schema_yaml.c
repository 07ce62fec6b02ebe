/* Schema YAML: parse (libyaml's document API, every node checked for its
 * kind, every key known) and load from a file. Errors name the place as
 * "what:line:column" and say what was expected. */
#include "data/io-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"
#include "kiln/schema.h"
#include "prep/schema-impl.h"
#include "prep/yaml-impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kn_status get_policy(const kn__yaml *c, const yaml_node_t *n, kn_policy *out)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(c, n, "on_violation", &s);
    if (e != KN_OK) return e;
    if (kn_policy_parse(s, out) != KN_OK)
        return kn__yaml_at(c, n, "on_violation '%s' is not one of fail, drop, quarantine", s);
    return KN_OK;
}

/* min/max of a column: a number, or an ISO-8601 time for timestamp columns. */
static kn_status get_bound(const kn__yaml *c, const yaml_node_t *n, const char *key,
                           kn_col_type type, double *out)
{
    if (type != KN_COL_TIMESTAMP) return kn__yaml_double(c, n, key, out);
    const char *s;
    kn_status e = kn__yaml_need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    int64_t us;
    if (!kn__parse_timestamp(s, s + strlen(s), &us))
        return kn__yaml_at(
            c, n, "'%s' of a timestamp column takes an ISO-8601 time (2024-05-01T12:00:00Z)", key);
    *out = (double)us;
    return KN_OK;
}

static kn_status parse_column(const kn__yaml *c, const yaml_node_t *n, kn_schema_column *col)
{
    if (n->type != YAML_MAPPING_NODE)
        return kn__yaml_at(c, n, "each column is a mapping (name: ..., type: ...)");
    col->required = 1;
    col->max_missing = 1;
    const yaml_node_t *type_node = NULL, *min_node = NULL, *max_node = NULL;
    kn_status e = kn__yaml_check_keys(c, n);
    if (e != KN_OK) return e;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (!kv.key || !kv.value) return kn__yaml_at(c, n, "a column has a key that is not text");
        const char *s;
        if (!strcmp(kv.key, "name")) {
            if ((e = kn__yaml_need_scalar(c, kv.value, "name", &s)) != KN_OK) return e;
            kn_free(col->name);
            if (!(col->name = kn_strdup(s))) return KN_ERR_NOMEM;
        } else if (!strcmp(kv.key, "type"))
            type_node = kv.value;
        else if (!strcmp(kv.key, "required"))
            e = kn__yaml_bool(c, kv.value, "required", &col->required);
        else if (!strcmp(kv.key, "unique"))
            e = kn__yaml_bool(c, kv.value, "unique", &col->unique);
        else if (!strcmp(kv.key, "max_missing")) {
            e = kn__yaml_double(c, kv.value, "max_missing", &col->max_missing);
            if (e == KN_OK && !(col->max_missing >= 0 && col->max_missing <= 1))
                return kn__yaml_at(c, kv.value, "max_missing is a fraction between 0 and 1");
        } else if (!strcmp(kv.key, "min"))
            min_node = kv.value;
        else if (!strcmp(kv.key, "max"))
            max_node = kv.value;
        else if (!strcmp(kv.key, "categories"))
            e = kn__yaml_strings(c, kv.value, "categories", &col->categories, &col->n_categories);
        else if (!strcmp(kv.key, "pattern")) {
            if ((e = kn__yaml_need_scalar(c, kv.value, "pattern", &s)) != KN_OK) return e;
            kn_free(col->pattern);
            if (!(col->pattern = kn_strdup(s))) return KN_ERR_NOMEM;
            if ((e = kn__schema_check_pattern(col->pattern)) != KN_OK)
                return kn__yaml_at(c, kv.value, "%s", kn_last_error());
        } else if (!strcmp(kv.key, "on_violation")) {
            col->has_policy = 1;
            e = get_policy(c, kv.value, &col->policy);
        } else
            return kn__yaml_at(
                c, kv.key_node,
                "unknown column key '%s'; known: name, type, required, max_missing, min, "
                "max, categories, pattern, unique, on_violation",
                kv.key);
        if (e != KN_OK) return e;
    }
    if (!col->name) return kn__yaml_at(c, n, "a column has no name (add name: ...)");
    if (!type_node)
        return kn__yaml_at(
            c, n, "column '%s' has no type (numeric, categorical, string, timestamp)", col->name);
    const char *t;
    if ((e = kn__yaml_need_scalar(c, type_node, "type", &t)) != KN_OK) return e;
    if (kn_col_type_parse(t, &col->type) != KN_OK)
        return kn__yaml_at(c, type_node,
                           "type '%s' is not one of numeric, categorical, string, timestamp", t);
    if (min_node && (e = get_bound(c, min_node, "min", col->type, &col->min)) != KN_OK) return e;
    if (max_node && (e = get_bound(c, max_node, "max", col->type, &col->max)) != KN_OK) return e;
    col->has_min = min_node != NULL;
    col->has_max = max_node != NULL;
    if ((min_node || max_node) && col->type != KN_COL_NUMERIC && col->type != KN_COL_TIMESTAMP)
        return kn__yaml_at(c, min_node ? min_node : max_node,
                           "min/max apply to numeric and timestamp columns; '%s' is not one",
                           col->name);
    if (col->has_min && col->has_max && col->min > col->max)
        return kn__yaml_at(c, min_node, "column '%s': min is above max", col->name);
    return KN_OK;
}

static kn_status parse_rows(const kn__yaml *c, const yaml_node_t *n, kn_schema *s)
{
    if (n->type != YAML_MAPPING_NODE) return kn__yaml_at(c, n, "rows takes {min: N, max: N}");
    kn_status e = kn__yaml_check_keys(c, n);
    if (e != KN_OK) return e;
    KN__YAML_FOR_PAIRS(c, n, kv)
    {
        if (!kv.key || !kv.value) return kn__yaml_at(c, n, "rows takes {min: N, max: N}");
        if (!strcmp(kv.key, "min"))
            e = kn__yaml_count(c, kv.value, "min", &s->min_rows);
        else if (!strcmp(kv.key, "max"))
            e = kn__yaml_count(c, kv.value, "max", &s->max_rows);
        else
            return kn__yaml_at(c, kv.key_node, "unknown key '%s' under rows; known: min, max",
                               kv.key);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static kn_status parse_columns(const kn__yaml *c, const yaml_node_t *n, kn_schema *s)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return kn__yaml_at(c, n, "columns takes a list of column mappings (- name: ...)");
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (!(s->cols = kn_calloc(len ? len : 1, sizeof *s->cols))) return KN_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item =
            yaml_document_get_node((yaml_document_t *)&c->doc, n->data.sequence.items.start[i]);
        s->n_cols = i + 1;
        kn_status e = item ? parse_column(c, item, &s->cols[i]) : KN_ERR_PARSE;
        if (e != KN_OK) return e;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->cols[j].name, s->cols[i].name))
                return kn__yaml_at(c, item, "column '%s' is declared twice", s->cols[i].name);
    }
    return KN_OK;
}

static kn_status parse_root(const kn__yaml *c, const yaml_node_t *root, kn_schema *s)
{
    if (!root || root->type != YAML_MAPPING_NODE)
        return kn_fail(KN_ERR_PARSE,
                       "%s: a schema is a YAML mapping with 'columns:' (see "
                       "`kiln schema infer DATA` for an example)",
                       c->what);
    kn_status e = kn__yaml_check_keys(c, root);
    if (e != KN_OK) return e;
    int have_columns = 0;
    KN__YAML_FOR_PAIRS(c, root, kv)
    {
        if (!kv.key || !kv.value) return kn__yaml_at(c, root, "a top-level key is not text");
        if (!strcmp(kv.key, "version")) {
            double v;
            if ((e = kn__yaml_double(c, kv.value, "version", &v)) != KN_OK) return e;
            if (v != 1)
                return kn__yaml_at(c, kv.value,
                                   "schema version %s is not supported (this Kiln reads 1)",
                                   kn__yaml_scalar(kv.value));
        } else if (!strcmp(kv.key, "rows"))
            e = parse_rows(c, kv.value, s);
        else if (!strcmp(kv.key, "keys"))
            e = kn__yaml_strings(c, kv.value, "keys", &s->keys, &s->n_keys);
        else if (!strcmp(kv.key, "on_violation"))
            e = get_policy(c, kv.value, &s->policy);
        else if (!strcmp(kv.key, "columns")) {
            have_columns = 1;
            e = parse_columns(c, kv.value, s);
        } else
            return kn__yaml_at(
                c, kv.key_node,
                "unknown key '%s'; known: version, rows, keys, on_violation, columns", kv.key);
        if (e != KN_OK) return e;
    }
    if (!have_columns) return kn__yaml_at(c, root, "the schema has no 'columns:' list");
    for (size_t k = 0; k < s->n_keys; k++) {
        size_t j = 0;
        while (j < s->n_cols && strcmp(s->cols[j].name, s->keys[k])) j++;
        if (j == s->n_cols)
            return kn__yaml_at(c, root, "key column '%s' is not among the columns", s->keys[k]);
    }
    return KN_OK;
}

kn_status kn_schema_parse(const char *text, size_t len, const char *what, kn_schema **out)
{
    kn__yaml c;
    kn_status e = kn__yaml_load(&c, text, len, what ? what : "schema");
    if (e != KN_OK) return e;
    kn_schema *s = kn_calloc(1, sizeof *s);
    e = s ? parse_root(&c, kn__yaml_root(&c), s) : KN_ERR_NOMEM;
    kn__yaml_free(&c);
    if (e != KN_OK) {
        kn_schema_free(s);
        return e;
    }
    *out = s;
    return KN_OK;
}

kn_status kn_schema_load(const char *path, kn_schema **out)
{
    char *text;
    size_t len;
    kn_status e = kn__slurp(path, &text, &len);
    if (e != KN_OK) return e;
    e = kn_schema_parse(text, len, path, out);
    kn_free(text);
    return e;
}

void kn_schema_free(kn_schema *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_cols; i++) {
        kn_free(s->cols[i].name);
        kn__strings_free(s->cols[i].categories, s->cols[i].n_categories);
        kn_free(s->cols[i].pattern);
        kn_free(s->cols[i].unconstrained);
    }
    kn_free(s->cols);
    kn__strings_free(s->keys, s->n_keys);
    kn_free(s);
}

const char *kn_policy_name(kn_policy p)
{
    return p == KN_POLICY_DROP ? "drop" : p == KN_POLICY_QUARANTINE ? "quarantine" : "fail";
}

kn_status kn_policy_parse(const char *name, kn_policy *p)
{
    static const char *names[] = {"fail", "drop", "quarantine"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, names[i])) {
            *p = (kn_policy)i;
            return KN_OK;
        }
    return kn_fail(KN_ERR_INVALID, "policy '%s' is not one of fail, drop, quarantine", name);
}
