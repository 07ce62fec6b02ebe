#include "kiln/param.h"
#include "core/format-impl.h"
#include "core/intern-impl.h"
#include "core/names-impl.h"
#include "kiln/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *kn_param_type_name(kn_param_type t)
{
    switch (t) {
    case KN_PARAM_T_BOOL:
        return "bool";
    case KN_PARAM_T_INT:
        return "int";
    case KN_PARAM_T_DOUBLE:
        return "double";
    case KN_PARAM_T_STRING:
        return "string";
    case KN_PARAM_T_ENUM:
        return "choice";
    case KN_PARAM_T_CHAR:
        return "char";
    }
    return "?";
}

const kn_param_def *kn_param_find(const kn_param_def *defs, const char *name)
{
    for (const kn_param_def *d = defs; d->name; d++)
        if (strcmp(d->name, name) == 0) return d;
    size_t len = strlen(name);
    for (const kn_param_def *d = defs; d->name; d++)
        for (const char *a = d->aka; a && *a;) {
            const char *bar = strchr(a, '|');
            size_t n = bar ? (size_t)(bar - a) : strlen(a);
            if (n == len && !strncmp(a, name, len)) return d;
            a = bar ? bar + 1 : a + n;
        }
    return NULL;
}

/* Index of `value` in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *value)
{
    int i = 0;
    size_t vlen = strlen(value);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vlen && strncmp(p, value, len) == 0) return i;
        i++;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

static kn_status parse_char(const char *value, char *out)
{
    static const struct {
        const char *name;
        char c;
    } names[] = {{"tab", '\t'},  {"\\t", '\t'},  {"comma", ','}, {"semicolon", ';'}, {"pipe", '|'},
                 {"space", ' '}, {"colon", ':'}, {"none", '\0'}, {"auto", '\0'},     {NULL, '\0'}};
    for (int i = 0; names[i].name; i++)
        if (strcasecmp(value, names[i].name) == 0) {
            *out = names[i].c;
            return KN_OK;
        }
    if (strlen(value) == 1) {
        *out = value[0];
        return KN_OK;
    }
    return KN_ERR_INVALID;
}

kn_status kn_param_set_value(const kn_param_def *defs, void *obj, const char *name,
                             const char *value)
{
    const kn_param_def *d = kn_param_find(defs, name);
    if (!d) {
        char list[512] = "";
        size_t used = 0;
        for (const kn_param_def *e = defs; e->name && used < sizeof list - 1; e++) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", e->name);
            if (n < 0) break;
            used += (size_t)n;
        }
        kn__closest c = {NULL, SIZE_MAX};
        for (const kn_param_def *e = defs; e->name; e++) kn__closest_offer(&c, name, e->name);
        char hint[160];
        return kn_fail(KN_ERR_INVALID, "unknown parameter '%s'%s; known parameters: %s", name,
                       kn__closest_hint(&c, name, hint, sizeof hint), list);
    }
    char *base = (char *)obj + d->offset;
    char *end = NULL;
    switch (d->type) {
    case KN_PARAM_T_BOOL: {
        int v;
        if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1") ||
            !strcasecmp(value, "on"))
            v = 1;
        else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0") ||
                 !strcasecmp(value, "off"))
            v = 0;
        else
            return kn_fail(KN_ERR_TYPE, "parameter '%s' expects true or false, got '%s'", name,
                           value);
        memcpy(base, &v, sizeof v);
        return KN_OK;
    }
    case KN_PARAM_T_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end || errno)
            return kn_fail(KN_ERR_TYPE, "parameter '%s' expects an integer, got '%s'", name, value);
        if ((double)v < d->min || (double)v > d->max)
            return kn_fail(KN_ERR_RANGE, "parameter '%s' = %lld is out of range [%.17g, %.17g]",
                           name, v, d->min, d->max);
        int64_t x = v;
        memcpy(base, &x, sizeof x);
        return KN_OK;
    }
    case KN_PARAM_T_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || errno || isnan(v))
            return kn_fail(KN_ERR_TYPE, "parameter '%s' expects a number, got '%s'", name, value);
        if (v < d->min || v > d->max)
            return kn_fail(KN_ERR_RANGE, "parameter '%s' = %s is out of range [%.17g, %.17g]", name,
                           value, d->min, d->max);
        memcpy(base, &v, sizeof v);
        return KN_OK;
    }
    case KN_PARAM_T_STRING: {
        const char *text = kn__intern(value, strlen(value));
        if (!text) return KN_ERR_NOMEM;
        memcpy(base, &text, sizeof text);
        return KN_OK;
    }
    case KN_PARAM_T_ENUM: {
        int i = choice_index(d->choices, value);
        /* a yes|no choice (CSV header: auto|yes|no) takes a bool's spellings too */
        if (i < 0 && (!strcasecmp(value, "true") || !strcasecmp(value, "on")))
            i = choice_index(d->choices, "yes");
        if (i < 0 && (!strcasecmp(value, "false") || !strcasecmp(value, "off")))
            i = choice_index(d->choices, "no");
        if (i < 0)
            return kn_fail(KN_ERR_INVALID, "parameter '%s' must be one of %s, got '%s'", name,
                           d->choices, value);
        memcpy(base, &i, sizeof i);
        return KN_OK;
    }
    case KN_PARAM_T_CHAR: {
        char c;
        if (parse_char(value, &c) != KN_OK)
            return kn_fail(KN_ERR_INVALID,
                           "parameter '%s' expects one character (or tab, comma, semicolon, "
                           "pipe, space, auto), got '%s'",
                           name, value);
        *base = c;
        return KN_OK;
    }
    }
    return kn_fail(KN_ERR_INTERNAL, "parameter '%s' has an unknown type", name);
}

kn_status kn_param_set(const kn_param_def *defs, void *obj, const char *name_eq_value)
{
    const char *eq = strchr(name_eq_value, '=');
    if (!eq || eq == name_eq_value)
        return kn_fail(KN_ERR_INVALID, "expected name=value, got '%s'", name_eq_value);
    char *name = kn_strndup(name_eq_value, (size_t)(eq - name_eq_value));
    if (!name) return KN_ERR_NOMEM;
    kn_status e = kn_param_set_value(defs, obj, name, eq + 1);
    kn_free(name);
    return e;
}

kn_status kn_param_defaults(const kn_param_def *defs, void *obj)
{
    for (const kn_param_def *d = defs; d->name; d++) {
        kn_status s = kn_param_set_value(defs, obj, d->name, d->def);
        if (s != KN_OK)
            return kn_fail_prefix(KN_ERR_INTERNAL,
                                  "bad default for '%s' in a parameter table: ", d->name);
    }
    return KN_OK;
}

/* The value as text into buf (cap bytes, may be 0); returns the length it
 * needs (without the NUL), as snprintf does, or -1 (message set) for a bad
 * table entry or value. */
static int value_text(const kn_param_def *d, const void *obj, char *buf, size_t cap)
{
    const char *base = (const char *)obj + d->offset;
    switch (d->type) {
    case KN_PARAM_T_BOOL: {
        int v;
        memcpy(&v, base, sizeof v);
        return snprintf(buf, cap, "%s", v ? "true" : "false");
    }
    case KN_PARAM_T_INT: {
        int64_t v;
        memcpy(&v, base, sizeof v);
        return snprintf(buf, cap, "%" PRId64, v);
    }
    case KN_PARAM_T_DOUBLE: {
        double v;
        memcpy(&v, base, sizeof v);
        return kn__format_shortest(v, buf, cap);
    }
    case KN_PARAM_T_STRING: {
        const char *v;
        memcpy(&v, base, sizeof v);
        return snprintf(buf, cap, "%s", v ? v : "");
    }
    case KN_PARAM_T_ENUM: {
        int v;
        memcpy(&v, base, sizeof v);
        const char *p = d->choices;
        for (int i = 0; i < v && p; i++) {
            p = strchr(p, '|');
            if (p) p++;
        }
        if (!p || v < 0) {
            kn_fail(KN_ERR_INTERNAL, "parameter '%s' holds a bad choice", d->name);
            return -1;
        }
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        return snprintf(buf, cap, "%.*s", (int)len, p);
    }
    case KN_PARAM_T_CHAR:
        if (*base == '\t') return snprintf(buf, cap, "tab");
        if (*base == '\0') return snprintf(buf, cap, "auto");
        return snprintf(buf, cap, "%c", *base);
    }
    kn_fail(KN_ERR_INTERNAL, "parameter '%s' has an unknown type", d->name);
    return -1;
}

kn_status kn_param_get_text(const kn_param_def *d, const void *obj, char *buf, size_t cap)
{
    int n = value_text(d, obj, buf, cap);
    if (n < 0) return kn_last_status();
    if ((size_t)n >= cap)
        return kn_fail(KN_ERR_RANGE, "parameter '%s' needs %d bytes of text, %zu given", d->name,
                       n + 1, cap);
    return KN_OK;
}

char *kn_param_format(const kn_param_def *d, const void *obj)
{
    int n = value_text(d, obj, NULL, 0);
    if (n < 0) return NULL;
    size_t name_len = strlen(d->name), cap = name_len + 1 + (size_t)n + 1;
    char *out = kn_malloc(cap);
    if (!out) return NULL;
    memcpy(out, d->name, name_len);
    out[name_len] = '=';
    value_text(d, obj, out + name_len + 1, (size_t)n + 1);
    return out;
}
