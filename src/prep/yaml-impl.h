/* Internal: reading YAML documents (libyaml's document API) with errors that
 * name the place as "what:line:column". Shared by schemas and prep specs. */
#ifndef KILN_YAML_IMPL_H
#define KILN_YAML_IMPL_H

#include "kiln/core.h"

#include <yaml.h>

typedef struct kn__yaml {
    yaml_document_t doc;
    const char *what; /* the file name, for errors */
} kn__yaml;

/* Parse text, one YAML document, into y (yaml_compose.c; free with
 * kn__yaml_free, only after success). Aliases name the latest anchor before
 * them and share its node; merge keys (<<) are applied. A syntax error, an
 * undefined or cyclic alias or a second document names its place. */
kn_status kn__yaml_load(kn__yaml *y, const char *text, size_t len, const char *what);
void kn__yaml_free(kn__yaml *y);
yaml_node_t *kn__yaml_root(kn__yaml *y);

/* KN_ERR_PARSE "what:line:column: <message>". */
kn_status kn__yaml_at(const kn__yaml *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The text of a scalar node; NULL for lists, mappings and NULL. */
const char *kn__yaml_scalar(const yaml_node_t *n);
kn_status kn__yaml_need_scalar(const kn__yaml *c, const yaml_node_t *n, const char *key,
                               const char **out);
kn_status kn__yaml_bool(const kn__yaml *c, const yaml_node_t *n, const char *key, int *out);
kn_status kn__yaml_double(const kn__yaml *c, const yaml_node_t *n, const char *key, double *out);
kn_status kn__yaml_count(const kn__yaml *c, const yaml_node_t *n, const char *key, uint64_t *out);
/* A list of scalars into a new array of new strings (*out is set even on
 * failure, holding *count strings, for the caller to free). */
kn_status kn__yaml_strings(const kn__yaml *c, const yaml_node_t *n, const char *key, char ***out,
                           size_t *count);
/* Free n strings and their array (as kn__yaml_strings makes them). */
void kn__strings_free(char **v, size_t n);
/* Items of a sequence node. */
size_t kn__yaml_len(const yaml_node_t *n);
yaml_node_t *kn__yaml_item(const kn__yaml *c, const yaml_node_t *n, size_t i);

typedef struct kn__yaml_pair {
    const char *key; /* NULL when the key is not a scalar */
    yaml_node_t *value;
    yaml_node_t *key_node;
} kn__yaml_pair;

kn__yaml_pair kn__yaml_pair_at(const kn__yaml *c, const yaml_node_pair_t *p);
/* A mapping whose keys are all text and each appears once. */
kn_status kn__yaml_check_keys(const kn__yaml *c, const yaml_node_t *n);

/* for each key/value pair of a mapping node, as `kn__yaml_pair var`. In the
 * body, `break` and `continue` both move on to the next pair; return to stop. */
#define KN__YAML_FOR_PAIRS(c, node, var)                                                           \
    for (yaml_node_pair_t *var##_p = (node)->data.mapping.pairs.start;                             \
         var##_p < (node)->data.mapping.pairs.top; var##_p++)                                      \
        for (kn__yaml_pair var = kn__yaml_pair_at(c, var##_p), *var##_once = &var; var##_once;     \
             var##_once = NULL)

#endif
