/* gemm_bench.c — nnl_sgemm (runtime/gemm.c) beside OpenBLAS's cblas_sgemm and oneDNN's
 * dnnl_sgemm on square sizes 64..2048 and on the benchmark models' own GEMM shapes, at a
 * given thread count. Prints GFLOP/s of each (best of several runs after a warm-up) and
 * NNL's share of the best reference. Built by bench/run.sh with -DHAVE_OPENBLAS and
 * -DHAVE_DNNL when those are installed. Usage: gemm_bench [threads [shape-prefix [cold]]];
 * cold: each call on other copies of its operands (64 MB of them, as a model's step
 * leaves its tensors in L3 or memory), and the mean of the calls, not the best. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnlrt.h"
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef HAVE_DNNL
#include <dnnl.h>
#endif

typedef struct Shape { const char *what; int ta, tb; int64_t m, n, k; } Shape;

static const Shape shapes[] = {
    {"square", 0, 0, 64, 64, 64}, {"square", 0, 0, 128, 128, 128},
    {"square", 0, 0, 256, 256, 256}, {"square", 0, 0, 512, 512, 512},
    {"square", 0, 0, 1024, 1024, 1024}, {"square", 0, 0, 2048, 2048, 2048},
    {"mlp fwd 1", 0, 0, 128, 512, 784}, {"mlp fwd 2", 0, 0, 128, 512, 512},
    {"mlp fwd 3 (10 cols)", 0, 0, 128, 10, 512}, {"mlp dW 2", 1, 0, 512, 512, 128},
    {"mlp dX 3", 0, 1, 128, 512, 10}, {"mlp dX 2", 0, 1, 128, 512, 512},
    {"cnn dense fwd (10 cols)", 0, 0, 64, 10, 5408}, {"cnn dense dW", 1, 0, 5408, 10, 64},
    {"cnn dense dX", 0, 1, 64, 5408, 10},
    {"lstm step 32x512x128", 0, 0, 32, 512, 128},
    {"lstm input proj", 0, 0, 2048, 512, 256}, {"lstm input proj dW", 1, 0, 256, 512, 2048},
    {"lstm input proj dX", 0, 1, 2048, 256, 512}, {"lstm b1 input proj", 0, 0, 64, 512, 256},
    {"gpt b1 qkv", 0, 0, 64, 384, 128}, {"gpt b1 mlp up", 0, 0, 64, 512, 128},
    {"gpt b1 mlp down", 0, 0, 64, 128, 512},
    {"gpt qkv 2048x384x128", 0, 0, 2048, 384, 128}, {"gpt qkv dW", 1, 0, 128, 384, 2048},
    {"gpt qkv dX", 0, 1, 2048, 128, 384}, {"gpt mlp down", 0, 0, 2048, 128, 512},
    {"gpt mlp down dW", 1, 0, 512, 128, 2048}, {"gpt mlp down dX", 0, 1, 2048, 512, 128},
    {"gpt scores q k^T", 0, 1, 64, 64, 32}, {"gpt att @ v", 0, 0, 64, 32, 64},
    {"gpt d(att)", 0, 1, 64, 64, 32}, {"gpt dv = att^T dy", 1, 0, 64, 32, 64},
};

typedef void (*GemmFn)(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                       const float *b, float *c);

static void run_nnl(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *c)
{
    nnl_sgemm(ta, tb, m, n, k, 1, a, ta ? m : k, b, tb ? k : n, 0, c, n);
}
#ifdef HAVE_OPENBLAS
static void run_blas(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1, a, (int)(ta ? m : k), b, (int)(tb ? k : n), 0, c, (int)n);
}
#endif
#ifdef HAVE_DNNL
static void run_dnnl(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *c)
{
    dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1, a, ta ? m : k, b, tb ? k : n, 0, c, n);
}
#endif

static double gflops(GemmFn f, const Shape *s, const float *a, const float *b, float *c)
{
    double flop = 2.0 * s->m * s->n * s->k, best = 0;
    int reps = flop > 1e9 ? 3 : flop > 1e7 ? 20 : 200;
    f(s->ta, s->tb, s->m, s->n, s->k, a, b, c);
    for (int r = 0; r < 5; r++) {
        double t0 = omp_get_wtime();
        for (int i = 0; i < reps; i++) f(s->ta, s->tb, s->m, s->n, s->k, a, b, c);
        double g = flop * reps / (omp_get_wtime() - t0) / 1e9;
        if (g > best) best = g;
    }
    return best;
}

/* cold mode: the call rotates over copies of its operands, 64 MB of them, so that each
 * call finds its A, B and C where a model's step leaves them (written a step ago, with
 * the rest of the step's data in between: L3 or memory, not L2) */
enum { COLD_BYTES = 64 << 20, COLD_MAX_SETS = 64 };

#define ALIGN16(x) (((size_t)(x) + 15) & ~(size_t)15)

static double gflops_cold(GemmFn f, const Shape *s, const float *a0, const float *b0, float *c0)
{
    (void)a0, (void)b0, (void)c0;
    double flop = 2.0 * s->m * s->n * s->k, t = 0;
    /* each operand 64-byte aligned, as the models' arena places every tensor */
    size_t na = ALIGN16(s->m * s->k), nb = ALIGN16(s->k * s->n), nc = ALIGN16(s->m * s->n);
    size_t set = (na + nb + nc) * sizeof(float);
    int sets = (int)(COLD_BYTES / set), reps = flop > 1e9 ? 8 : 40;
    if (sets < 2) sets = 2;
    if (sets > COLD_MAX_SETS) sets = COLD_MAX_SETS;
    float *buf = aligned_alloc(64, set * (size_t)sets);
    if (!buf) return 0;
    for (size_t i = 0; i < set / sizeof(float) * (size_t)sets; i++) buf[i] = (float)(i % 17) / 17;
    for (int r = -sets; r < reps; r++) {   /* a round over the sets first, untimed */
        float *a = buf + (size_t)((r + sets) % sets) * (na + nb + nc), *b = a + na, *c = b + nb;
        double t0 = omp_get_wtime();
        f(s->ta, s->tb, s->m, s->n, s->k, a, b, c);
        if (r >= 0) t += omp_get_wtime() - t0;
    }
    free(buf);
    return flop * reps / t / 1e9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    omp_set_num_threads(threads);
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(threads);
#endif
    size_t big = 2048 * 2048 + 5408 * 64;
    /* 64-byte aligned like every tensor of a model's arena (compiler/plan.c): B read in
     * place by the small-m kernels and C's rows then start on cache lines */
    float *a = aligned_alloc(64, big * sizeof *a), *b = aligned_alloc(64, big * sizeof *b),
          *c = aligned_alloc(64, big * sizeof *c);
    for (size_t i = 0; i < big; i++) { a[i] = (float)(i % 17) / 17; b[i] = (float)(i % 13) / 13; c[i] = 0; }
    printf("%-26s %5s %5s %5s %9s %9s %9s %7s   (GFLOP/s, %d thread%s)\n", "shape", "m", "n", "k",
           "nnl", "openblas", "onednn", "nnl/ref", threads, threads == 1 ? "" : "s");
    const char *only = argc > 2 && *argv[2] ? argv[2] : NULL;   /* a prefix of the shapes to run */
    int cold = argc > 3 && !strcmp(argv[3], "cold");
    double (*measure)(GemmFn, const Shape *, const float *, const float *, float *) = cold ? gflops_cold : gflops;
    if (cold) printf("(cold: each call on other copies of its operands, 64 MB in all; the mean)\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const Shape *s = &shapes[i];
        if (only && strncmp(s->what, only, strlen(only))) continue;
        double g = measure(run_nnl, s, a, b, c), gb = 0, gd = 0;
#ifdef HAVE_OPENBLAS
        gb = measure(run_blas, s, a, b, c);
#endif
#ifdef HAVE_DNNL
        gd = measure(run_dnnl, s, a, b, c);
#endif
        double ref = gb > gd ? gb : gd;
        char share[16] = "-";
        if (ref > 0) snprintf(share, sizeof share, "%.0f%%", 100 * g / ref);
        printf("%-26s %5lld %5lld %5lld %9.1f %9.1f %9.1f %7s\n", s->what, (long long)s->m,
               (long long)s->n, (long long)s->k, g, gb, gd, share);
    }
    free(a); free(b); free(c);
    return 0;
}
