/* Registration of Kiln's builtin components, one call per layer: readers and
 * writers (data), preparation steps (prep), models (learn). Each registers
 * the layers below it first, once per process (thread-safe, idempotent), so
 * the registry lists components in layer order whatever is used first.
 *
 *     kn_init();   // every layer; the kiln binary calls it first thing
 *
 * A layer's own entry points register their layer on first use
 * (kn_frame_read, kn_step_new, kn_model_new), so simple callers need not
 * call anything; call kn_init() before listing the registry
 * (kn_registry_count/at) to see every builtin. The core registers nothing:
 * it knows no layer above it.
 */
#ifndef KILN_INIT_H
#define KILN_INIT_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

KN_API void kn_data_register(void);
KN_API void kn_prep_register(void);
KN_API void kn_learn_register(void);
/* Every layer's components (defined in the top library layer, pipeline). */
KN_API void kn_init(void);

#ifdef __cplusplus
}
#endif
#endif
