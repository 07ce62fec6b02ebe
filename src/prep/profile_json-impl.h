/* Internal: profiles as JSON (jansson). The data layer computes profiles
 * (kiln/profile.h); writing them for people and machines is done here, by
 * their users: the prep run's reference profile and `kiln describe --json`. */
#ifndef KILN_PROFILE_JSON_IMPL_H
#define KILN_PROFILE_JSON_IMPL_H

#include "kiln/profile.h"

#include <jansson.h>

/* A new reference; NULL when out of memory. */
json_t *kn__profile_json(const kn_profile *p);

/* Write the profile as JSON (the "profile" object of `kiln describe --json`)
 * to path, through a temporary name. */
kn_status kn__profile_save_json(const kn_profile *p, const char *path);

#endif
