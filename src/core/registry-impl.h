/* Internal: the builtin component list lives in the topmost layer of the
 * library (it names components of every layer) and is called once by the
 * registry on first use. */
#ifndef KILN_REGISTRY_IMPL_H
#define KILN_REGISTRY_IMPL_H

#include "kiln/registry.h"

void kn__register_builtins(void);
/* Adds one component without the first-use hook; for kn__register_builtins. */
kn_status kn__registry_add_builtin(const kn_component *c);

#endif
