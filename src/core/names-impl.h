/* Internal: "did you mean" for a misspelt name (a column, a parameter): the
 * closest candidate by kn_name_distance (kiln/names.h), suggested when
 * kn_name_is_close. */
#ifndef KILN_CORE_NAMES_IMPL_H
#define KILN_CORE_NAMES_IMPL_H

#include <stddef.h>

/* The closest candidate so far: start with {NULL, SIZE_MAX}, offer each. */
typedef struct kn__closest {
    const char *name;
    size_t distance;
} kn__closest;
void kn__closest_offer(kn__closest *c, const char *wanted, const char *candidate);

/* " (did you mean 'X'?)" into buf when the closest is within 1 edit of
 * wanted (2 for names over 5 characters), else "". Returns buf. */
const char *kn__closest_hint(const kn__closest *c, const char *wanted, char *buf, size_t cap);

#endif
