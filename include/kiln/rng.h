/* Kiln's seeded random number generator: xoshiro256** seeded through
 * splitmix64. Same seed gives the same stream on every platform. There is no
 * global generator: a kn_rng is passed explicitly, and per-task streams are
 * derived from (seed, task id) with kn_rng_init_stream so results do not
 * depend on the thread count.
 *
 *     kn_rng r;
 *     kn_rng_init(&r, 42);
 *     double u = kn_rng_uniform(&r);   // [0, 1)
 *
 * Threading: a kn_rng is plain data; do not share one between threads.
 */
#ifndef KILN_RNG_H
#define KILN_RNG_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_rng {
    uint64_t s[4];
} kn_rng;

KN_API void kn_rng_init(kn_rng *r, uint64_t seed);
/* An independent stream for task `stream` under `seed`. */
KN_API void kn_rng_init_stream(kn_rng *r, uint64_t seed, uint64_t stream);
KN_API uint64_t kn_rng_next(kn_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
KN_API double kn_rng_uniform(kn_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n > 0. */
KN_API uint64_t kn_rng_below(kn_rng *r, uint64_t n);
/* Standard normal (Box-Muller; one value per call, deterministic). */
KN_API double kn_rng_normal(kn_rng *r);

#ifdef __cplusplus
}
#endif
#endif
