/* Internal: a profile as a JSON tree (jansson), for embedding in CLI output. */
#ifndef KILN_PROFILE_IMPL_H
#define KILN_PROFILE_IMPL_H

#include "kiln/profile.h"

#include <jansson.h>

/* A new reference; NULL when out of memory. */
json_t *kn__profile_json(const kn_profile *p);

#endif
