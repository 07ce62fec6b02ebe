/* "Did you mean" for a misspelt name (a column, an option, a parameter):
 * how far two names are apart, and whether a candidate is close enough to
 * suggest. Every suggestion Kiln makes (kn_frame_did_you_mean, unknown
 * keys and options) uses these, so they agree.
 *
 *     size_t best = SIZE_MAX; const char *hint = NULL;
 *     for (size_t i = 0; i < n; i++) {
 *         size_t d = kn_name_distance(typed, known[i]);
 *         if (d < best) best = d, hint = known[i];
 *     }
 *     if (hint && kn_name_is_close(typed, best)) printf("did you mean %s?\n", hint);
 *
 * Pure functions: any thread. */
#ifndef KILN_NAMES_H
#define KILN_NAMES_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Optimal string alignment distance between a and b (insertions,
 * deletions, substitutions and swaps of neighbours, each 1), letters
 * compared without case, at most 64 characters of each compared. */
KN_API size_t kn_name_distance(const char *a, const char *b);
/* Whether a candidate at `distance` from `wanted` is worth suggesting: at
 * most 1 for names of up to 5 characters, 2 for longer ones. */
KN_API int kn_name_is_close(const char *wanted, size_t distance);

#ifdef __cplusplus
}
#endif
#endif
