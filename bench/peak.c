/* peak.c — the machine's fp32 FMA peak, to state NNL's speed as a share of it: each
 * thread runs independent chains of vector FMAs (enough to hide FMA latency on every
 * core we know: latency 4-5 cycles x 2 FMA pipes) for a fixed count and reports GFLOP/s.
 * The chains and the two operands fit in registers: 16 chains of ymm spilled three to
 * the stack and read 58 of Zen 3's 78 GFLOP/s. Built with -march=native; AVX-512
 * when the compiler targets it, else AVX2/FMA. Usage: peak [threads] */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define VLEN 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
enum { CHAINS = 16 };   /* of 32 registers */
#else
typedef __m256 vec;
#define VLEN 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
enum { CHAINS = 12 };   /* of 16 registers */
#endif

static float run(long iters)
{
    vec acc[CHAINS], a = SET1(0.999999f), b = SET1(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = SET1((float)i);
    for (long it = 0; it < iters; it++) {
        #pragma GCC unroll 16
        for (int i = 0; i < CHAINS; i++) acc[i] = FMA(acc[i], a, b);
    }
    for (int i = 1; i < CHAINS; i++) acc[0] = ADD(acc[0], acc[i]);
    float out[VLEN];
    STORE(out, acc[0]);
    return out[0];
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    long iters = 200000000L / CHAINS;
    float sink = 0;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = omp_get_wtime();
        #pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += run(iters);
        double t = omp_get_wtime() - t0;
        double gflops = (double)threads * iters * CHAINS * VLEN * 2 / t / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("peak threads %d vector_bits %d gflops %.1f (sink %g)\n", threads, VLEN * 32, best, sink);
    return 0;
}
