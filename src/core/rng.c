/* xoshiro256** (Blackman & Vigna) with splitmix64 seeding. */
#include "kiln/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void kn_rng_init(kn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void kn_rng_init_stream(kn_rng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream id through splitmix so neighbouring ids are unrelated. */
    uint64_t x = stream;
    kn_rng_init(r, seed ^ splitmix64(&x));
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t kn_rng_next(kn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double kn_rng_uniform(kn_rng *r)
{
    return (double)(kn_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t kn_rng_below(kn_rng *r, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)kn_rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = -n % n;
        while (lo < threshold) {
            m = (unsigned __int128)kn_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double kn_rng_normal(kn_rng *r)
{
    double u1 = kn_rng_uniform(r);
    double u2 = kn_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
