/* kn_kll: a mergeable quantile sketch (KLL: Karnin, Lang, Liberty) of a
 * stream of doubles, in bounded memory.
 *
 *     kn_kll *s = NULL;
 *     kn_kll_new(200, 1, &s);                 // k = 200, seed 1
 *     for (...) kn_kll_add(s, x);             // NaN and infinities are skipped
 *     double med = kn_kll_quantile(s, 0.5);
 *     kn_kll_merge(total, s);                 // e.g. one sketch per thread, merged on read
 *     kn_kll_free(s);
 *
 * Accuracy: the sketch keeps items in levels; an item on level h stands
 * for 2^h of the stream. A level over its capacity is sorted and every
 * other item (from a random offset) moves up. The rank of a returned
 * quantile is off by about 1.7/k of the count or less (k = 200: within
 * 0.85 %, the normalised rank error at 99 % confidence; tests/unit/core/
 * test_sketch.c checks |rank - q| <= 2/k on real columns, merged too).
 * Below about k items the sketch is exact.
 * Memory: about 3k doubles retained plus room for each level's growth; a
 * level per doubling of count/k (k = 200: about 17 KiB at a million
 * values; kn_kll_memory_bytes). The count itself is exact (kn_kll_count).
 * Determinism: the offsets come from a kn_rng seeded at kn_kll_new; the
 * same seed and the same stream give the same sketch.
 * Threading: a sketch is one thread's; merge per-thread sketches to share.
 */
#ifndef KILN_SKETCH_H
#define KILN_SKETCH_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_kll kn_kll;

/* The default k: rank error about 0.85 %. */
#define KN_KLL_DEFAULT_K 200

/* Returns a new empty sketch; free with kn_kll_free(). k: 8 to 65535
 * (larger: more accurate and more memory); KN_ERR_INVALID otherwise. */
KN_API kn_status kn_kll_new(unsigned k, uint64_t seed, kn_kll **out);
KN_API void kn_kll_free(kn_kll *s);
/* Empty the sketch (its k and memory stay). */
KN_API void kn_kll_reset(kn_kll *s);
/* Add one value; NaN and infinities are skipped. KN_ERR_NOMEM only when a
 * level must grow and cannot (then the value is dropped). */
KN_API kn_status kn_kll_add(kn_kll *s, double x);
/* Add x[0], x[stride], ... x[(n-1)*stride] in that order: the same sketch as
 * n calls of kn_kll_add, faster once the sketch samples (a value away from
 * its block's pick costs no call). KN_ERR_NOMEM: the values that could not
 * be kept are dropped, the others added. */
KN_API kn_status kn_kll_add_many(kn_kll *s, const double *x, size_t n, size_t stride);
/* Add everything in src to dst (src unchanged). The two may have different
 * k: the result keeps dst's. */
KN_API kn_status kn_kll_merge(kn_kll *dst, const kn_kll *src);
/* Returns a new copy of s; free with kn_kll_free(). */
KN_API kn_status kn_kll_copy(const kn_kll *s, kn_kll **out);
/* The number of values added (merged ones included). */
KN_API uint64_t kn_kll_count(const kn_kll *s);
/* The smallest retained value whose weighted rank reaches q * count (q in
 * [0, 1]; q = 0 the smallest value seen, q = 1 the largest); NaN when empty. */
KN_API double kn_kll_quantile(const kn_kll *s, double q);
/* Several quantiles at once (one sort): out[i] for qs[i]. KN_ERR_NOMEM
 * or KN_OK; all NaN when empty. */
KN_API kn_status kn_kll_quantiles(const kn_kll *s, const double *qs, size_t n, double *out);
/* The estimated share of values <= x (the sketch's CDF), 0 when empty. */
KN_API double kn_kll_rank(const kn_kll *s, double x);
/* Bytes held by the sketch. */
KN_API size_t kn_kll_memory_bytes(const kn_kll *s);

#ifdef __cplusplus
}
#endif
#endif
