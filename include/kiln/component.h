/* Kiln component instances: what every configurable component (a model, a
 * step) holds and does the same way, written once. A kn_model and a kn_step
 * each embed one kn_instance; the kind adds its own fitted state.
 *
 * The contract of a component (registered with kn_registry_add):
 *   - a parameter table over a typed params struct (kiln/param.h); an
 *     instance starts at the table's defaults and is set by "name=value"
 *     (kn_instance_set) or from a whole typed struct (kn_instance_set_params,
 *     which checks each field against the table);
 *   - an optional validate hook (the kind's vtable: kn_model_vt.validate,
 *     kn_step_vt.validate) for rules across parameters ("oob_score=true
 *     needs bootstrap=true"). It runs before any work (fit calls it first,
 *     and kn_instance_set_params) and its message names both parameters;
 *   - clone: an unfitted copy has the same parameters (kn_instance_copy);
 *     a fitted copy is made by the kind (kn_model_clone, kn_step_clone) from
 *     its clone slot, or else by encoding and decoding its state, so every
 *     component can be cloned;
 *   - encode/decode of the parameters as counted "name=value" texts (how
 *     .kmd, .kst and artifacts store them, so a renamed or added parameter
 *     stays readable); the kind encodes its fitted state after them;
 *   - free. Optional slots of a kind (importances, coefficients,
 *     probabilities, summary) stay optional.
 *
 *     kn_instance in;
 *     kn_instance_init(&in, kn_registry_find(KN_COMP_MODEL, "ridge"), NULL);
 *     kn_instance_set(&in, "alpha=0.5");
 *     ... in.params is the typed struct ...
 *     kn_instance_release(&in);
 *
 * Threading: an instance is modified only by the thread that owns it;
 * const functions may run on a shared instance.
 */
#ifndef KILN_COMPONENT_H
#define KILN_COMPONENT_H

#include "kiln/codec.h"
#include "kiln/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A rule across parameters: KN_OK, or an error (kn_fail) naming the
 * parameters involved. Takes the component's typed params struct. */
typedef kn_status (*kn_validate_fn)(const void *params);

typedef struct kn_instance {
    const kn_component *comp; /* borrowed from the registry */
    void *params;             /* comp->params_size bytes, owned */
    kn_validate_fn validate;  /* may be NULL */
} kn_instance;

/* Fills `in` with c's defaults (in->params is new; release with
 * kn_instance_release). validate may be NULL. */
KN_API kn_status kn_instance_init(kn_instance *in, const kn_component *c, kn_validate_fn validate);
/* Frees in->params (nothing for a zeroed instance). */
KN_API void kn_instance_release(kn_instance *in);
/* One parameter from "name=value"; errors start "<kind> '<name>': ". */
KN_API kn_status kn_instance_set(kn_instance *in, const char *name_eq_value);
/* Every parameter from a typed struct (size must be the component's
 * params_size): each field is checked against the table (range, choice;
 * strings are kept by Kiln, see kiln/param.h), then the validate hook
 * runs. On failure nothing changes. */
KN_API kn_status kn_instance_set_params(kn_instance *in, const void *params, size_t size);
/* The validate hook's verdict on the current parameters (KN_OK without one). */
KN_API kn_status kn_instance_validate(const kn_instance *in);
/* dst (uninitialised) becomes an instance of the same component with the
 * same parameters; release it with kn_instance_release. */
KN_API kn_status kn_instance_copy(kn_instance *dst, const kn_instance *src);
/* Parameters as u64 count, then one "name=value" string each. */
KN_API kn_status kn_instance_encode_params(const kn_instance *in, kn_wbuf *w);
/* Reads what kn_instance_encode_params wrote into an initialised instance. */
KN_API kn_status kn_instance_decode_params(kn_instance *in, kn_rbuf *r);

#ifdef __cplusplus
}
#endif
#endif
