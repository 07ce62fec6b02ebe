/* Kiln component registry: one table maps a kind and a name ("reader",
 * "csv") to the component's vtable and parameter table. Adding a component
 * is one new file and one line in its layer's list (src/<layer>/register.c;
 * kiln/init.h), or kn_registry_add from outside the library.
 *
 *     const kn_component *c = kn_registry_find(KN_COMP_READER, "csv");
 *     if (!c) puts(kn_last_error());  // names the known ones
 *
 * Threading: a lock guards the table; any thread may add or look up.
 */
#ifndef KILN_REGISTRY_H
#define KILN_REGISTRY_H

#include "kiln/core.h"
#include "kiln/param.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_COMP_READER = 0,
    KN_COMP_WRITER = 1,
    KN_COMP_STEP = 2,
    KN_COMP_MODEL = 3,
    KN_COMP_METRIC = 4,
} kn_component_kind;

typedef struct kn_component {
    kn_component_kind kind;
    const char *name;
    const char *doc;            /* one line */
    const kn_param_def *params; /* may be NULL */
    size_t params_size;         /* sizeof the params struct */
    const void *vt;             /* kind-specific vtable */
} kn_component;

/* Register one component (the pointer must stay valid for the process). */
KN_API kn_status kn_registry_add(const kn_component *c);
/* The component, or NULL with kn_last_error() listing the known names. */
KN_API const kn_component *kn_registry_find(kn_component_kind kind, const char *name);
/* Number of registered components and the i-th one (in registration order). */
KN_API size_t kn_registry_count(void);
KN_API const kn_component *kn_registry_at(size_t i);
/* "reader", "writer", "step", "model", "metric". */
KN_API const char *kn_component_kind_name(kn_component_kind kind);

#ifdef __cplusplus
}
#endif
#endif
