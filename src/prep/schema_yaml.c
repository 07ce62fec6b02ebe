/* Schema YAML: parse (libyaml's document API, every node checked for its
 * kind, every key known) and load from a file. Errors name the place as
 * "what:line:column" and say what was expected. */
#include "data/io-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"
#include "kiln/schema.h"
#include "prep/schema-impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct ctx {
    yaml_document_t doc;
    const char *what;
} ctx;

static kn_status at(const ctx *c, const yaml_node_t *n, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return kn_fail(KN_ERR_PARSE, "%s:%zu:%zu: %s", c->what, (size_t)n->start_mark.line + 1,
                   (size_t)n->start_mark.column + 1, msg);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static kn_status need_scalar(const ctx *c, const yaml_node_t *n, const char *key, const char **out)
{
    *out = scalar(n);
    return *out ? KN_OK : at(c, n, "'%s' takes a single value, not a list or mapping", key);
}

static kn_status get_bool(const ctx *c, const yaml_node_t *n, const char *key, int *out)
{
    const char *s;
    kn_status e = need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    if (!strcmp(s, "true") || !strcmp(s, "yes"))
        *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "no"))
        *out = 0;
    else
        return at(c, n, "'%s' takes true or false", key);
    return KN_OK;
}

static kn_status get_double(const ctx *c, const yaml_node_t *n, const char *key, double *out)
{
    const char *s;
    kn_status e = need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || isnan(v)) return at(c, n, "'%s' takes a number", key);
    *out = v;
    return KN_OK;
}

static kn_status get_count(const ctx *c, const yaml_node_t *n, const char *key, uint64_t *out)
{
    double v;
    kn_status e = get_double(c, n, key, &v);
    if (e != KN_OK) return e;
    if (v < 0 || v > 9e15 || v != floor(v))
        return at(c, n, "'%s' takes a whole number of rows, 0 or more", key);
    *out = (uint64_t)v;
    return KN_OK;
}

static kn_status get_policy(const ctx *c, const yaml_node_t *n, kn_policy *out)
{
    const char *s;
    kn_status e = need_scalar(c, n, "on_violation", &s);
    if (e != KN_OK) return e;
    if (kn_policy_parse(s, out) != KN_OK)
        return at(c, n, "on_violation '%s' is not one of fail, drop, quarantine", s);
    return KN_OK;
}

/* A list of strings (a YAML sequence of scalars) into a new array. */
static kn_status get_strings(const ctx *c, const yaml_node_t *n, const char *key, char ***out,
                             size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE) return at(c, n, "'%s' takes a list, like [a, b]", key);
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char **v = kn_calloc(len ? len : 1, sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    *out = v;
    *count = 0;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item =
            yaml_document_get_node((yaml_document_t *)&c->doc, n->data.sequence.items.start[i]);
        const char *s = scalar(item);
        if (!s) return at(c, item ? item : n, "'%s' lists single values only", key);
        if (!(v[i] = kn_strdup(s))) return KN_ERR_NOMEM;
        *count = i + 1;
    }
    return KN_OK;
}

/* min/max of a column: a number, or an ISO-8601 time for timestamp columns. */
static kn_status get_bound(const ctx *c, const yaml_node_t *n, const char *key, kn_col_type type,
                           double *out)
{
    if (type != KN_COL_TIMESTAMP) return get_double(c, n, key, out);
    const char *s;
    kn_status e = need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    int64_t us;
    if (!kn__parse_timestamp(s, s + strlen(s), &us))
        return at(c, n, "'%s' of a timestamp column takes an ISO-8601 time (2024-05-01T12:00:00Z)",
                  key);
    *out = (double)us;
    return KN_OK;
}

typedef struct pair {
    const char *key;
    yaml_node_t *value;
    yaml_node_t *key_node;
} pair;

static pair pair_at(const ctx *c, const yaml_node_pair_t *p)
{
    yaml_document_t *d = (yaml_document_t *)&c->doc;
    yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
    return (pair){scalar(k), v, k};
}

/* A mapping whose keys are all text and each appears once. */
static kn_status check_keys(const ctx *c, const yaml_node_t *n)
{
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        pair a = pair_at(c, p);
        if (!a.key || !a.value)
            return at(c, a.key_node ? a.key_node : n, "a key is not text%s", "");
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(pair_at(c, q).key, a.key))
                return at(c, a.key_node, "key '%s' appears twice in this mapping", a.key);
    }
    return KN_OK;
}

/* for each key/value pair of a mapping node, as `pair var` */
#define FOR_PAIRS(c, node, var)                                                                    \
    for (yaml_node_pair_t *var##_p = (node)->data.mapping.pairs.start;                             \
         var##_p < (node)->data.mapping.pairs.top; var##_p++)                                      \
        for (int var##_once = 1; var##_once;)                                                      \
            for (pair var = pair_at(c, var##_p); var##_once; var##_once = 0)

static kn_status parse_column(const ctx *c, const yaml_node_t *n, kn_schema_column *col)
{
    if (n->type != YAML_MAPPING_NODE)
        return at(c, n, "each column is a mapping (name: ..., type: ...)%s", "");
    col->required = 1;
    col->max_missing = 1;
    const yaml_node_t *type_node = NULL, *min_node = NULL, *max_node = NULL;
    kn_status e = check_keys(c, n);
    if (e != KN_OK) return e;
    FOR_PAIRS(c, n, kv)
    {
        if (!kv.key || !kv.value) return at(c, n, "a column has a key that is not text%s", "");
        const char *s;
        if (!strcmp(kv.key, "name")) {
            if ((e = need_scalar(c, kv.value, "name", &s)) != KN_OK) return e;
            kn_free(col->name);
            if (!(col->name = kn_strdup(s))) return KN_ERR_NOMEM;
        } else if (!strcmp(kv.key, "type"))
            type_node = kv.value;
        else if (!strcmp(kv.key, "required"))
            e = get_bool(c, kv.value, "required", &col->required);
        else if (!strcmp(kv.key, "unique"))
            e = get_bool(c, kv.value, "unique", &col->unique);
        else if (!strcmp(kv.key, "max_missing")) {
            e = get_double(c, kv.value, "max_missing", &col->max_missing);
            if (e == KN_OK && !(col->max_missing >= 0 && col->max_missing <= 1))
                return at(c, kv.value, "max_missing is a fraction between 0 and 1%s", "");
        } else if (!strcmp(kv.key, "min"))
            min_node = kv.value;
        else if (!strcmp(kv.key, "max"))
            max_node = kv.value;
        else if (!strcmp(kv.key, "categories"))
            e = get_strings(c, kv.value, "categories", &col->categories, &col->n_categories);
        else if (!strcmp(kv.key, "pattern")) {
            if ((e = need_scalar(c, kv.value, "pattern", &s)) != KN_OK) return e;
            kn_free(col->pattern);
            if (!(col->pattern = kn_strdup(s))) return KN_ERR_NOMEM;
            if ((e = kn__schema_check_pattern(col->pattern)) != KN_OK)
                return at(c, kv.value, "%s", kn_last_error());
        } else if (!strcmp(kv.key, "on_violation")) {
            col->has_policy = 1;
            e = get_policy(c, kv.value, &col->policy);
        } else
            return at(c, kv.key_node,
                      "unknown column key '%s'; known: name, type, required, max_missing, min, "
                      "max, categories, pattern, unique, on_violation",
                      kv.key);
        if (e != KN_OK) return e;
    }
    if (!col->name) return at(c, n, "a column has no name (add name: ...)%s", "");
    if (!type_node)
        return at(c, n, "column '%s' has no type (numeric, categorical, string, timestamp)",
                  col->name);
    const char *t;
    if ((e = need_scalar(c, type_node, "type", &t)) != KN_OK) return e;
    if (kn_col_type_parse(t, &col->type) != KN_OK)
        return at(c, type_node, "type '%s' is not one of numeric, categorical, string, timestamp",
                  t);
    if (min_node && (e = get_bound(c, min_node, "min", col->type, &col->min)) != KN_OK) return e;
    if (max_node && (e = get_bound(c, max_node, "max", col->type, &col->max)) != KN_OK) return e;
    col->has_min = min_node != NULL;
    col->has_max = max_node != NULL;
    if ((min_node || max_node) && col->type != KN_COL_NUMERIC && col->type != KN_COL_TIMESTAMP)
        return at(c, min_node ? min_node : max_node,
                  "min/max apply to numeric and timestamp columns; '%s' is not one", col->name);
    if (col->has_min && col->has_max && col->min > col->max)
        return at(c, min_node, "column '%s': min is above max", col->name);
    return KN_OK;
}

static kn_status parse_rows(const ctx *c, const yaml_node_t *n, kn_schema *s)
{
    if (n->type != YAML_MAPPING_NODE) return at(c, n, "rows takes {min: N, max: N}%s", "");
    kn_status e = check_keys(c, n);
    if (e != KN_OK) return e;
    FOR_PAIRS(c, n, kv)
    {
        if (!kv.key || !kv.value) return at(c, n, "rows takes {min: N, max: N}%s", "");
        if (!strcmp(kv.key, "min"))
            e = get_count(c, kv.value, "min", &s->min_rows);
        else if (!strcmp(kv.key, "max"))
            e = get_count(c, kv.value, "max", &s->max_rows);
        else
            return at(c, kv.key_node, "unknown key '%s' under rows; known: min, max", kv.key);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static kn_status parse_columns(const ctx *c, const yaml_node_t *n, kn_schema *s)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return at(c, n, "columns takes a list of column mappings (- name: ...)%s", "");
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
                return at(c, item, "column '%s' is declared twice", s->cols[i].name);
    }
    return KN_OK;
}

static kn_status parse_root(const ctx *c, const yaml_node_t *root, kn_schema *s)
{
    if (!root || root->type != YAML_MAPPING_NODE)
        return kn_fail(KN_ERR_PARSE,
                       "%s: a schema is a YAML mapping with 'columns:' (see "
                       "`kiln schema infer DATA` for an example)",
                       c->what);
    kn_status e = check_keys(c, root);
    if (e != KN_OK) return e;
    int have_columns = 0;
    FOR_PAIRS(c, root, kv)
    {
        if (!kv.key || !kv.value) return at(c, root, "a top-level key is not text%s", "");
        if (!strcmp(kv.key, "version")) {
            double v;
            if ((e = get_double(c, kv.value, "version", &v)) != KN_OK) return e;
            if (v != 1)
                return at(c, kv.value, "schema version %s is not supported (this Kiln reads 1)",
                          scalar(kv.value));
        } else if (!strcmp(kv.key, "rows"))
            e = parse_rows(c, kv.value, s);
        else if (!strcmp(kv.key, "keys"))
            e = get_strings(c, kv.value, "keys", &s->keys, &s->n_keys);
        else if (!strcmp(kv.key, "on_violation"))
            e = get_policy(c, kv.value, &s->policy);
        else if (!strcmp(kv.key, "columns")) {
            have_columns = 1;
            e = parse_columns(c, kv.value, s);
        } else
            return at(c, kv.key_node,
                      "unknown key '%s'; known: version, rows, keys, on_violation, columns",
                      kv.key);
        if (e != KN_OK) return e;
    }
    if (!have_columns) return at(c, root, "the schema has no 'columns:' list%s", "");
    for (size_t k = 0; k < s->n_keys; k++) {
        size_t j = 0;
        while (j < s->n_cols && strcmp(s->cols[j].name, s->keys[k])) j++;
        if (j == s->n_cols)
            return at(c, root, "key column '%s' is not among the columns", s->keys[k]);
    }
    return KN_OK;
}

kn_status kn_schema_parse(const char *text, size_t len, const char *what, kn_schema **out)
{
    ctx c = {.what = what ? what : "schema"};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return KN_ERR_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &c.doc)) {
        kn_status e = kn_fail(
            KN_ERR_PARSE, "%s:%zu:%zu: YAML: %s", c.what, (size_t)parser.problem_mark.line + 1,
            (size_t)parser.problem_mark.column + 1, parser.problem ? parser.problem : "unreadable");
        yaml_parser_delete(&parser);
        return e;
    }
    yaml_parser_delete(&parser);
    kn_schema *s = kn_calloc(1, sizeof *s);
    kn_status e = s ? parse_root(&c, yaml_document_get_root_node(&c.doc), s) : KN_ERR_NOMEM;
    yaml_document_delete(&c.doc);
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

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) kn_free(v[i]);
    kn_free(v);
}

void kn_schema_free(kn_schema *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_cols; i++) {
        kn_free(s->cols[i].name);
        free_strings(s->cols[i].categories, s->cols[i].n_categories);
        kn_free(s->cols[i].pattern);
    }
    kn_free(s->cols);
    free_strings(s->keys, s->n_keys);
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
