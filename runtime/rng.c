/* rng.c — the runtime's one random generator: xoshiro256** (Blackman & Vigna, "Scrambled
 * linear pseudorandom number generators", 2018) seeded through splitmix64, with uniform
 * floats, Box-Muller normals and unbiased bounded integers. Deterministic everywhere:
 * no global state, no time, no thread-dependent draws. */
#include <math.h>

#include "rt_internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rt_rng_seed(RtRng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rt_rng_next(RtRng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

float rt_rng_uniform(RtRng *r)
{
    return (float)(rt_rng_next(r) >> 40) * 0x1.0p-24f;
}

double rt_rng_uniform_double(RtRng *r)
{
    return (double)(rt_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Box & Muller 1958; one of the pair is dropped so every draw consumes two words. */
float rt_rng_normal(RtRng *r)
{
    double u1 = 1.0 - rt_rng_uniform_double(r);     /* (0, 1]: log is finite */
    double u2 = rt_rng_uniform_double(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* Lemire's rejection on the top bits would be faster; plain rejection is enough here. */
uint64_t rt_rng_below(RtRng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do x = rt_rng_next(r); while (x >= limit);
    return x % n;
}

uint64_t rt_mix_seed(uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);
    splitmix64(&x);
    return splitmix64(&x);
}
