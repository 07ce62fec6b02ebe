/* The component table. The core registers nothing itself: each layer adds
 * its own builtins (kiln/init.h). A lock guards the table, since layers may
 * register from different threads while others look components up. */
#include "kiln/registry.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_COMPONENTS 256

static const kn_component *table[MAX_COMPONENTS];
static size_t n_table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

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

static kn_status add_locked(const kn_component *c)
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
    pthread_mutex_lock(&lock);
    kn_status e = add_locked(c);
    pthread_mutex_unlock(&lock);
    return e;
}

const kn_component *kn_registry_find(kn_component_kind kind, const char *name)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_table; i++)
        if (table[i]->kind == kind && strcmp(table[i]->name, name) == 0) {
            const kn_component *c = table[i];
            pthread_mutex_unlock(&lock);
            return c;
        }
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n_table && used < sizeof list - 1; i++) {
        if (table[i]->kind != kind) continue;
        int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", table[i]->name);
        if (n < 0) break;
        used += (size_t)n;
    }
    pthread_mutex_unlock(&lock);
    kn_fail(KN_ERR_NOT_FOUND, "no %s named '%s'; known: %s", kn_component_kind_name(kind), name,
            used ? list : "(none)");
    return NULL;
}

size_t kn_registry_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = n_table;
    pthread_mutex_unlock(&lock);
    return n;
}

const kn_component *kn_registry_at(size_t i)
{
    pthread_mutex_lock(&lock);
    const kn_component *c = i < n_table ? table[i] : NULL;
    pthread_mutex_unlock(&lock);
    return c;
}
