/* YAML reading helpers (see yaml-impl.h). */
#include "prep/yaml-impl.h"
#include "kiln/mem.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn__yaml_free(kn__yaml *y)
{
    yaml_document_delete(&y->doc);
}

yaml_node_t *kn__yaml_root(kn__yaml *y)
{
    return yaml_document_get_root_node(&y->doc);
}

void kn__strings_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) kn_free(v[i]);
    kn_free(v);
}

size_t kn__yaml_len(const yaml_node_t *n)
{
    return n->type == YAML_SEQUENCE_NODE
               ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
               : 0;
}

yaml_node_t *kn__yaml_item(const kn__yaml *c, const yaml_node_t *n, size_t i)
{
    return yaml_document_get_node((yaml_document_t *)&c->doc, n->data.sequence.items.start[i]);
}

kn_status kn__yaml_at(const kn__yaml *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kn_fail(KN_ERR_PARSE, "%s:%zu:%zu: %s", c->what, (size_t)n->start_mark.line + 1,
                   (size_t)n->start_mark.column + 1, msg);
}

const char *kn__yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

kn_status kn__yaml_need_scalar(const kn__yaml *c, const yaml_node_t *n, const char *key,
                               const char **out)
{
    *out = kn__yaml_scalar(n);
    return *out ? KN_OK
                : kn__yaml_at(c, n, "'%s' takes a single value, not a list or mapping", key);
}

kn_status kn__yaml_bool(const kn__yaml *c, const yaml_node_t *n, const char *key, int *out)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    if (!strcmp(s, "true") || !strcmp(s, "yes"))
        *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "no"))
        *out = 0;
    else
        return kn__yaml_at(c, n, "'%s' takes true or false", key);
    return KN_OK;
}

kn_status kn__yaml_double(const kn__yaml *c, const yaml_node_t *n, const char *key, double *out)
{
    const char *s;
    kn_status e = kn__yaml_need_scalar(c, n, key, &s);
    if (e != KN_OK) return e;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || isnan(v))
        return kn__yaml_at(c, n, "'%s' takes a number", key);
    *out = v;
    return KN_OK;
}

kn_status kn__yaml_count(const kn__yaml *c, const yaml_node_t *n, const char *key, uint64_t *out)
{
    double v;
    kn_status e = kn__yaml_double(c, n, key, &v);
    if (e != KN_OK) return e;
    if (v < 0 || v > 9e15 || v != floor(v))
        return kn__yaml_at(c, n, "'%s' takes a whole number of rows, 0 or more", key);
    *out = (uint64_t)v;
    return KN_OK;
}

/* A list of strings (a YAML sequence of scalars) into a new array. */
kn_status kn__yaml_strings(const kn__yaml *c, const yaml_node_t *n, const char *key, char ***out,
                           size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return kn__yaml_at(c, n, "'%s' takes a list, like [a, b]", key);
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char **v = kn_calloc(len ? len : 1, sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    *out = v;
    *count = 0;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item =
            yaml_document_get_node((yaml_document_t *)&c->doc, n->data.sequence.items.start[i]);
        const char *s = kn__yaml_scalar(item);
        if (!s) return kn__yaml_at(c, item ? item : n, "'%s' lists single values only", key);
        if (!(v[i] = kn_strdup(s))) return KN_ERR_NOMEM;
        *count = i + 1;
    }
    return KN_OK;
}

kn__yaml_pair kn__yaml_pair_at(const kn__yaml *c, const yaml_node_pair_t *p)
{
    yaml_document_t *d = (yaml_document_t *)&c->doc;
    yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
    return (kn__yaml_pair){kn__yaml_scalar(k), v, k};
}

/* A mapping whose keys are all text and each appears once. */
kn_status kn__yaml_check_keys(const kn__yaml *c, const yaml_node_t *n)
{
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        kn__yaml_pair a = kn__yaml_pair_at(c, p);
        if (!a.key || !a.value)
            return kn__yaml_at(c, a.key_node ? a.key_node : n, "a key is not text");
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(kn__yaml_pair_at(c, q).key, a.key))
                return kn__yaml_at(c, a.key_node, "key '%s' appears twice in this mapping", a.key);
    }
    return KN_OK;
}
