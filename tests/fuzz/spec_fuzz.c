/* libFuzzer harness for the spec YAML parser (prep and run specs): any input
 * parses or fails with a message; a parsed spec is consistent: every
 * referenced source exists, it has an output or a model, a model has a
 * target, a registered model has a stage. */
#include "kiln/prep_spec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int has_source(const kn_prep_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_sources; i++)
        if (!strcmp(s->sources[i].name, name)) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kn_prep_spec *s;
    if (kn_prep_spec_parse((const char *)data, size, "fuzz/spec.yaml", &s) != KN_OK) return 0;
    if ((!s->output && !s->model.name) || !s->from || !has_source(s, s->from)) abort();
    if (s->model.name && !s->target) abort();
    if (s->register_name && !s->register_stage) abort();
    if (s->eval.test_source && !has_source(s, s->eval.test_source)) abort();
    for (size_t j = 0; j < s->n_joins; j++)
        if (!has_source(s, s->joins[j].with) || !s->joins[j].n_keys || !s->joins[j].right_on)
            abort();
    kn_prep_spec_free(s);
    return 0;
}
