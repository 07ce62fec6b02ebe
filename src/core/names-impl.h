/* Internal: "did you mean" for a misspelt name (a column, a parameter): the
 * closest candidate by edit distance, suggested when it is close enough. */
#ifndef KILN_CORE_NAMES_IMPL_H
#define KILN_CORE_NAMES_IMPL_H

#include <stddef.h>

/* Optimal string alignment distance (edits and swaps of neighbours) without
 * case, at most 64 characters of each name compared. */
size_t kn__name_distance(const char *a, const char *b);

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
