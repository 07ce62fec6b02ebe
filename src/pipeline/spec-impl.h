/* Shared by the spec parser's files (spec_parse.c, spec_model.c) and the
 * runs that report a spec's place (spec_run.c, run.c). */
#ifndef KILN_PIPELINE_SPEC_IMPL_H
#define KILN_PIPELINE_SPEC_IMPL_H

#include "kiln/prep_spec.h"
#include "prep/yaml-impl.h"

/* Where node n starts, as a spec mark. */
static inline kn_spec_mark kn__spec_mark(const yaml_node_t *n)
{
    return (kn_spec_mark){(size_t)n->start_mark.line + 1, (size_t)n->start_mark.column + 1};
}
/* "path:line:column" of mark m in spec s into buf ("path" when m is not
 * known); returns buf. */
const char *kn__spec_at(const kn_prep_spec *s, kn_spec_mark m, char *buf, size_t cap);

/* A scalar as a new string in *out (replacing what it held). */
kn_status kn__spec_text(const kn__yaml *c, const yaml_node_t *n, const char *key, char **out);
/* A mapping of settings as "name=value" strings (a list value joined by
 * commas). */
kn_status kn__spec_settings(const kn__yaml *c, const yaml_node_t *n, const char *key, char ***out,
                            size_t *count);
/* The run keys (model, task, evaluation, register, seed, description):
 * 1 when key is one of them. */
int kn__spec_is_run_key(const char *key);
kn_status kn__spec_run_field(const kn__yaml *c, kn__yaml_pair kv, kn_prep_spec *s);
/* Checks across keys once the whole spec is read. */
kn_status kn__spec_run_check(const kn__yaml *c, const yaml_node_t *root, kn_prep_spec *s);
void kn__spec_run_free(kn_prep_spec *s);
/* model: as the spec takes it (a search only where x is not NULL). */
kn_status kn__spec_model(const kn__yaml *c, const yaml_node_t *n, kn_spec_step *m,
                         kn_spec_search *x);
/* steps: a list of steps, each probed. */
kn_status kn__spec_steps(const kn__yaml *c, const yaml_node_t *n, kn_spec_step **steps,
                         size_t *n_steps);
/* ensemble: (spec_ensemble.c): members, method, final, folds; sets the
 * spec's model to the combiner. */
kn_status kn__spec_ensemble(const kn__yaml *c, kn__yaml_pair kv, kn_prep_spec *s);
/* Checks across keys (task:, the members' tasks) once the spec is read. */
kn_status kn__spec_ensemble_check(const kn__yaml *c, const yaml_node_t *root,
                                  const kn_prep_spec *s);
void kn__spec_ensemble_free(kn_spec_ensemble *e);

#endif
