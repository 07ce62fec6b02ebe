#include "kiln/registry.h"
#include "core/registry-impl.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_COMPONENTS 256

static const kn_component *table[MAX_COMPONENTS];
static size_t n_table;
static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;

static void ensure_builtins(void)
{
    pthread_once(&builtins_once, kn__register_builtins);
}

const char *kn_component_kind_name(kn_component_kind kind)
{
    switch (kind) {
    case KN_COMP_READER:
        return "reader";
    case KN_COMP_WRITER:
        return "writer";
    case KN_COMP_STEP:
        return "step";
    case KN_COMP_MODEL:
        return "model";
    case KN_COMP_METRIC:
        return "metric";
    }
    return "component";
}

/* Adds without triggering builtin registration (used by the builtin list itself). */
kn_status kn__registry_add_builtin(const kn_component *c)
{
    for (size_t i = 0; i < n_table; i++)
        if (table[i]->kind == c->kind && strcmp(table[i]->name, c->name) == 0)
            return kn_fail(KN_ERR_INVALID, "a %s named '%s' is already registered",
                           kn_component_kind_name(c->kind), c->name);
    if (n_table == MAX_COMPONENTS)
        return kn_fail(KN_ERR_RANGE, "component registry is full (%d entries)", MAX_COMPONENTS);
    table[n_table++] = c;
    return KN_OK;
}

kn_status kn_registry_add(const kn_component *c)
{
    ensure_builtins();
    return kn__registry_add_builtin(c);
}

const kn_component *kn_registry_find(kn_component_kind kind, const char *name)
{
    ensure_builtins();
    for (size_t i = 0; i < n_table; i++)
        if (table[i]->kind == kind && strcmp(table[i]->name, name) == 0) return table[i];
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n_table && used < sizeof list - 1; i++) {
        if (table[i]->kind != kind) continue;
        int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", table[i]->name);
        if (n < 0) break;
        used += (size_t)n;
    }
    kn_fail(KN_ERR_NOT_FOUND, "no %s named '%s'; known: %s", kn_component_kind_name(kind), name,
            used ? list : "(none)");
    return NULL;
}

size_t kn_registry_count(void)
{
    ensure_builtins();
    return n_table;
}

const kn_component *kn_registry_at(size_t i)
{
    ensure_builtins();
    return i < n_table ? table[i] : NULL;
}
