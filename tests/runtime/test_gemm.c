/* test_gemm.c — nnl_sgemm against a naive triple loop in double: every transpose, odd
 * and degenerate sizes (m, n or k = 1), strides wider than the rows, alpha and beta
 * cases (beta = 0 must ignore NaN garbage in C), thin products (10 columns), 1, 2, 3
 * and 5 threads bit-identical (weight gradients split along k included). nnl_sgemm_ep and nnl_sgemm_batched_ep: the epilogue sees every
 * element of C exactly once, and only once it is final (simple and packed paths, several
 * k blocks, row and column splits, batches). nnl_sgemm_kept: the same bits, its packed
 * B really read, and dropped by nnl_params_changed. nnl_sgemm_rows: A through a row
 * map, the same bits as the gathered copy's product. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static int failures;

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void check(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta,
                  int64_t pad)
{
    unsigned s = (unsigned)(m * 131 + n * 31 + k * 7 + ta * 3 + tb);
    int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
    float *a = malloc(sizeof(float) * ar * lda), *b = malloc(sizeof(float) * br * ldb);
    float *c = malloc(sizeof(float) * m * ldc), *c2 = malloc(sizeof(float) * m * ldc);
    float *c_in = malloc(sizeof(float) * m * ldc);
    double *want = malloc(sizeof(double) * m * n);
    for (int64_t i = 0; i < ar * lda; i++) a[i] = frand(&s);
    for (int64_t i = 0; i < br * ldb; i++) b[i] = frand(&s);
    for (int64_t i = 0; i < m * ldc; i++) c[i] = beta == 0.0f ? NAN : frand(&s);
    memcpy(c_in, c, sizeof(float) * m * ldc);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0;
            for (int64_t p = 0; p < k; p++)
                acc += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                       (tb ? b[j * ldb + p] : b[p * ldb + j]);
            want[i * n + j] = alpha * acc + (beta == 0.0f ? 0.0 : beta * (double)c[i * ldc + j]);
        }
    rt_set_threads(1);
    nnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    /* 2 threads; 3 and 5: halves of a split-k product with more than one thread each */
    int differ = 0;
    for (int t = 5; t >= 2; t -= t == 5 ? 2 : 1) {
        memcpy(c2, c_in, sizeof(float) * m * ldc);
        rt_set_threads(t);
        nnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
        differ |= memcmp(c, c2, sizeof(float) * m * ldc) != 0;
    }
    double worst = 0;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double err = fabs(c[i * ldc + j] - want[i * n + j]) / (1e-3 + sqrt((double)k));
            if (!(err <= worst)) worst = err;
        }
        for (int64_t j = n; j < ldc; j++)   /* padding left alone */
            if (!(c[i * ldc + j] == c2[i * ldc + j] || (isnan(c[i * ldc + j]) && isnan(c2[i * ldc + j]))))
                worst = INFINITY;
    }
    if (!(worst < 1e-5) || differ) {
        printf("FAIL ta=%d tb=%d m=%lld n=%lld k=%lld alpha=%g beta=%g pad=%lld: err %g%s\n",
               ta, tb, (long long)m, (long long)n, (long long)k, alpha, beta, (long long)pad,
               worst, differ ? " (threads differ)" : "");
        failures++;
    }
    free(a); free(b); free(c); free(c2); free(c_in); free(want);
}

/* A product of a few rows (batch-1 inference, B not transposed): each element of C is
 * its k terms added in order from zero with fused multiply-adds, alpha and beta after,
 * the same bits whatever the blocking of rows of B and columns (checked bit for bit on
 * the AVX-512 copy). */
static void check_in_order(int ta, int64_t m, int64_t n, int64_t k, float alpha, float beta, int64_t pad)
{
    unsigned s = (unsigned)(m * 17 + n * 5 + k + ta);
    int64_t lda = (ta ? m : k) + pad, ldb = n + pad, ldc = n + pad;
    float *a = malloc(sizeof(float) * (ta ? k : m) * lda), *b = malloc(sizeof(float) * k * ldb);
    float *c = malloc(sizeof(float) * m * ldc), *want = malloc(sizeof(float) * m * ldc);
    for (int64_t i = 0; i < (ta ? k : m) * lda; i++) a[i] = frand(&s);
    for (int64_t i = 0; i < k * ldb; i++) b[i] = frand(&s);
    for (int64_t i = 0; i < m * ldc; i++) c[i] = want[i] = frand(&s);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < k; p++) acc = fmaf(ta ? a[p * lda + i] : a[i * lda + p], b[p * ldb + j], acc);
            float r = alpha * acc;
            want[i * ldc + j] = beta != 0.0f ? fmaf(beta, want[i * ldc + j], r) : r;
        }
    int bad = 0;
    for (int t = 1; t <= 2; t++) {
        float *ct = malloc(sizeof(float) * m * ldc);
        memcpy(ct, c, sizeof(float) * m * ldc);
        rt_set_threads(t);
        nnl_sgemm(ta, 0, m, n, k, alpha, a, lda, b, ldb, beta, ct, ldc);
        bad |= memcmp(ct, want, sizeof(float) * m * ldc) != 0;
        free(ct);
    }
    if (bad) {
        printf("FAIL in order ta=%d m=%lld n=%lld k=%lld alpha=%g beta=%g\n", ta, (long long)m,
               (long long)n, (long long)k, alpha, beta);
        failures++;
    }
    free(a); free(b); free(c); free(want);
}

/* A product's first columns are the same bits as the product of those columns alone:
 * every path (A packed or its rows read in place, B packed or in place) adds each
 * element's k terms in the same order. n0 columns of n, lda and ldb padded. */
static void check_columns_alone(int tb, int64_t m, int64_t n, int64_t n0, int64_t k)
{
    unsigned s = (unsigned)(m * 7 + n * 3 + k + tb);
    int64_t lda = k + 3, ldb = tb ? k + 1 : n + 5;
    float *a = malloc(sizeof(float) * m * lda), *b = malloc(sizeof(float) * (tb ? n : k) * ldb);
    float *c = malloc(sizeof(float) * m * n), *c0 = malloc(sizeof(float) * m * n0);
    for (int64_t i = 0; i < m * lda; i++) a[i] = frand(&s);
    for (int64_t i = 0; i < (tb ? n : k) * ldb; i++) b[i] = frand(&s);
    rt_set_threads(1);
    nnl_sgemm(0, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
    nnl_sgemm(0, tb, m, n0, k, 1.0f, a, lda, b, ldb, 0.0f, c0, n0);
    int bad = 0;
    for (int64_t i = 0; i < m; i++) bad |= memcmp(c + i * n, c0 + i * n0, sizeof(float) * n0) != 0;
    if (bad) {
        printf("FAIL columns alone tb=%d m=%lld n=%lld n0=%lld k=%lld\n", tb, (long long)m, (long long)n,
               (long long)n0, (long long)k);
        failures++;
    }
    free(a); free(b); free(c); free(c0);
}

/* An epilogue kernel: y[i] = 2 C[i] + 1, counting the visits of each element. The
 * "ctx" the runtime passes back is this struct. */
typedef struct EpTest { const float *c; float *y; int *visits; } EpTest;

static void ep_kernel(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    const EpTest *t = (const EpTest *)(const void *)ctx;
    for (int64_t i = lo; i < hi; i++) {
        t->y[i] = 2.0f * t->c[i] + 1.0f;
        t->visits[i]++;
    }
}

static void check_ep(int ta, int tb, int64_t batch, int64_t m, int64_t n, int64_t k, int threads)
{
    unsigned s = (unsigned)(batch * 7 + m * 131 + n * 31 + k + ta * 3 + tb);
    int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n, total = batch * m * n;
    float *a = malloc(sizeof(float) * batch * ar * ac), *b = malloc(sizeof(float) * batch * br * bc);
    float *c = malloc(sizeof(float) * total), *c0 = malloc(sizeof(float) * total);
    float *y = malloc(sizeof(float) * total);
    int *visits = calloc((size_t)total, sizeof(int));
    for (int64_t i = 0; i < batch * ar * ac; i++) a[i] = frand(&s);
    for (int64_t i = 0; i < batch * br * bc; i++) b[i] = frand(&s);
    rt_set_threads(threads);
    nnl_sgemm_batched(ta, tb, batch, m, n, k, a, ac, ar * ac, b, bc, br * bc, c0, n, m * n, NNL_TRI_NONE);
    EpTest t = {c, y, visits};
    if (batch == 1) nnl_sgemm_ep(ta, tb, m, n, k, 1.0f, a, ac, b, bc, 0.0f, c, ep_kernel, (const NnlCtx *)(void *)&t);
    else nnl_sgemm_batched_ep(ta, tb, batch, m, n, k, a, ac, ar * ac, b, bc, br * bc, c, ep_kernel,
                              (const NnlCtx *)(void *)&t, NNL_TRI_NONE);
    int bad = memcmp(c, c0, sizeof(float) * total) != 0;
    for (int64_t i = 0; i < total && !bad; i++)
        if (visits[i] != 1 || y[i] != 2.0f * c0[i] + 1.0f) bad = 1;
    if (bad) {
        printf("FAIL epilogue ta=%d tb=%d batch=%lld m=%lld n=%lld k=%lld threads=%d\n", ta, tb,
               (long long)batch, (long long)m, (long long)n, (long long)k, threads);
        failures++;
    }
    free(a); free(b); free(c); free(c0); free(y); free(visits);
}

/* nnl_sgemm_kept: the same bits as nnl_sgemm (its B packed once, read by later products
 * naming the same key), also on `threads` threads (split by rows and by columns); a B
 * changed behind the key's back still reads as the packed copy (so the copy is really
 * used), and after nnl_params_changed the product sees the new B. Keys from `key` up:
 * more keys than slots fall back to packing as usual. */
static void check_kept(int ta, int tb, int64_t m, int64_t n, int64_t k, int64_t pad, int threads,
                       int64_t key, int stale_check)
{
    unsigned s = (unsigned)(m * 7 + n * 13 + k * 17 + tb);
    int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    int64_t lda = ac + pad, ldb = bc + pad;
    float *a = malloc(sizeof(float) * ar * lda), *b = malloc(sizeof(float) * br * ldb);
    float *c0 = malloc(sizeof(float) * m * n), *c = malloc(sizeof(float) * m * n);
    float *y = malloc(sizeof(float) * m * n);
    int *visits = calloc((size_t)(m * n), sizeof(int));
    for (int64_t i = 0; i < ar * lda; i++) a[i] = frand(&s);
    for (int64_t i = 0; i < br * ldb; i++) b[i] = frand(&s);
    rt_set_threads(threads);
    nnl_params_changed();
    nnl_sgemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.0f, c0, n);
    int bad = 0;
    for (int rep = 0; rep < 2; rep++) {   /* packs, then reads the packed copy */
        nnl_sgemm_kept(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.0f, c, n, NULL, NULL, key);
        bad |= memcmp(c, c0, sizeof(float) * m * n) != 0;
    }
    EpTest t = {c, y, visits};
    nnl_sgemm_kept(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.0f, c, n, ep_kernel, (const NnlCtx *)(void *)&t, key);
    for (int64_t i = 0; i < m * n; i++)
        if (c[i] != c0[i] || visits[i] != 1 || y[i] != 2.0f * c0[i] + 1.0f) bad = 1;
    for (int64_t i = 0; i < br * ldb; i++) b[i] = -2.0f * b[i];
    if (stale_check) {   /* B changed without telling: the packed copy still answers */
        nnl_sgemm_kept(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.0f, c, n, NULL, NULL, key);
        bad |= memcmp(c, c0, sizeof(float) * m * n) != 0;
    }
    nnl_params_changed();
    nnl_sgemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.0f, c0, n);
    nnl_sgemm_kept(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.0f, c, n, NULL, NULL, key);
    bad |= memcmp(c, c0, sizeof(float) * m * n) != 0;
    if (bad) {
        printf("FAIL kept ta=%d tb=%d m=%lld n=%lld k=%lld threads=%d key=%lld\n", ta, tb, (long long)m,
               (long long)n, (long long)k, threads, (long long)key);
        failures++;
    }
    free(a); free(b); free(c0); free(c); free(y); free(visits);
}

/* nnl_sgemm_rows: A read through a row map (a lookup's table rows, repeated and out of
 * order) against nnl_sgemm on the rows gathered into a copy: the same bits on the packed
 * paths (several k blocks, split by rows or columns, a weight gradient split along k)
 * and on 1, 2 and 3 threads; within rounding of the copy's product on the tiny ones
 * (the map's plain loop). Its epilogue sees each element of C once, after it is final. */
static void check_rows(int ta, int tb, int64_t m, int64_t n, int64_t k, int threads, int exact)
{
    unsigned s = (unsigned)(m * 3 + n * 5 + k * 11 + ta * 2 + tb);
    int64_t mapped = ta ? k : m, width = ta ? m : k, table_rows = 2 * mapped + 7;
    int64_t br = tb ? n : k, bc = tb ? k : n;
    float *table = malloc(sizeof(float) * table_rows * width), *g = malloc(sizeof(float) * mapped * width);
    float *b = malloc(sizeof(float) * br * bc), *c0 = malloc(sizeof(float) * m * n);
    float *c = malloc(sizeof(float) * m * n), *y = malloc(sizeof(float) * m * n);
    int *visits = calloc((size_t)(m * n), sizeof(int));
    int32_t *map = malloc(sizeof(int32_t) * mapped);
    for (int64_t i = 0; i < table_rows * width; i++) table[i] = frand(&s);
    for (int64_t i = 0; i < br * bc; i++) b[i] = frand(&s);
    for (int64_t r = 0; r < mapped; r++) {
        map[r] = (int32_t)((r * 7 + 3) % table_rows);
        if (r % 5 == 4) map[r] = map[r - 2];   /* a row twice */
        memcpy(g + r * width, table + (int64_t)map[r] * width, sizeof(float) * width);
    }
    rt_set_threads(threads);
    nnl_sgemm(ta, tb, m, n, k, 0.5f, g, width, b, bc, 0.0f, c0, n);
    EpTest t = {c, y, visits};
    for (int64_t i = 0; i < m * n; i++) c[i] = NAN;   /* beta 0 ignores what C held */
    nnl_sgemm_rows(ta, tb, m, n, k, 0.5f, table, width, map, b, bc, 0.0f, c, ep_kernel, (const NnlCtx *)(void *)&t);
    int bad = 0;
    for (int64_t i = 0; i < m * n; i++) {
        if (exact ? c[i] != c0[i] : !(fabsf(c[i] - c0[i]) <= 1e-5f * (float)k)) bad = 1;
        if (visits[i] != 1 || y[i] != 2.0f * c[i] + 1.0f) bad = 1;
    }
    nnl_sgemm_rows(ta, tb, m, n, k, 0.5f, table, width, map, b, bc, 0.0f, y, NULL, NULL);
    bad |= memcmp(y, c, sizeof(float) * m * n) != 0;   /* without the epilogue, the same */
    if (bad) {
        printf("FAIL rows ta=%d tb=%d m=%lld n=%lld k=%lld threads=%d\n", ta, tb, (long long)m, (long long)n,
               (long long)k, threads);
        failures++;
    }
    free(table); free(g); free(b); free(c0); free(c); free(y); free(visits); free(map);
}

int main(void)
{
    static const int64_t sizes[] = {1, 2, 3, 7, 13, 15, 16, 17, 31, 33, 64, 100, 129};
    int ns = sizeof sizes / sizeof sizes[0], cases = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int x = 0; x < ns; x++)
                for (int y = 0; y < ns; y++)
                    for (int z = 0; z < ns; z += 3) {
                        check(ta, tb, sizes[x], sizes[y], sizes[(z + x) % ns], 1.0f, 0.0f, (x + y) % 3 == 0 ? 5 : 0);
                        cases++;
                    }
    static const float ab[][2] = {{1, 1}, {0.5f, -2}, {-1.5f, 0}, {0, 0.5f}, {2, 0}};
    for (int i = 0; i < 5; i++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                check(ta, tb, 37, 45, 29, ab[i][0], ab[i][1], 3);
                check(ta, tb, 200, 170, 300, ab[i][0], ab[i][1], 1);
                check(ta, tb, 5, 300, 70, ab[i][0], ab[i][1], 2);
                check(ta, tb, 300, 9, 70, ab[i][0], ab[i][1], 0);
                cases += 4;
            }
    check(0, 0, 513, 515, 600, 1.0f, 1.0f, 0);         /* several k blocks, beta 1 */
    check(1, 1, 400, 1100, 20, 1.0f, 0.0f, 0);         /* several n blocks */
    check(0, 0, 300, 2100, 300, 1.0f, 0.5f, 1);        /* B packed row by row, several n
                                                          blocks; C's tiles prefetched */
    check(0, 1, 1, 1, 1000, 1.0f, 0.0f, 0);
    check(0, 0, 500, 530, 128, 1.0f, 0.5f, 1);        /* kc <= 128, B packed: row panels first */
    check(0, 0, 40, 515, 600, 1.0f, 1.0f, 3);          /* B read in place: ragged n, k blocks */
    check(1, 0, 32, 2100, 130, 0.5f, 0.0f, 1);         /* ... several n blocks */
    check(0, 0, 56, 32, 64, 1.0f, 0.0f, 0);            /* ... one full panel */
    check(0, 0, 32, 512, 128, 0.5f, -2.0f, 0);         /* ... full-width tiles (unmasked), alpha, beta */
    check(1, 0, 32, 512, 128, -1.0f, 0.0f, 0);         /* ... and A read transposed */
    check(0, 0, 65, 100, 300, 1.0f, 0.5f, 2);          /* ... five row panels, the last ragged */
    for (int ta = 0; ta < 2; ta++)                    /* thin, as C^T: odd rows, k tails, beta */
        for (int tb = 0; tb < 2; tb++) {
            check(ta, tb, 97, 13, 530, 1.0f, 0.5f, 2);
            check(ta, tb, 65, 14, 1029, -1.0f, 0.0f, 1);
            check(ta, tb, 33, 1, 700, 2.0f, 1.0f, 0);
        }
    check(0, 0, 64, 64, 0, 1.0f, 0.5f, 0);             /* k = 0: C = beta * C */
    for (int ta = 0; ta < 2; ta++)                     /* thin C with several k blocks */
        for (int tb = 0; tb < 2; tb++) {
            check(ta, tb, 64, 10, 1100, 1.0f, ta ? 1.0f : 0.0f, tb);
            check(ta, tb, 700, 10, 64, 1.0f, 0.0f, 1);
        }
    check(0, 0, 1, 20, 30000, 1.0f, 0.0f, 0);          /* batch 1, split in column strips */
    for (int n = 1; n <= 16; n++)                      /* batch 1, B's columns contiguous */
        check(0, 0, n % 3 + 1, n, 5408 + n, n % 2 ? 1.0f : -0.5f, n % 4 ? 0.0f : 1.5f, 0);
    check(1, 0, 2, 10, 30000, 1.0f, 0.0f, 0);
    cases += 16;
#if defined(RT_ISA_v4) || defined(RT_ISA_v3)
    /* a few rows: k not a multiple of the rows of B taken at once, columns in several
     * blocks of sums, ragged last vectors, A transposed, beta */
    check(0, 0, 3, 2100, 37, 1.0f, 0.5f, 1);
    check(1, 0, 2, 1030, 19, -1.0f, 0.0f, 3);
    cases += 2;
#if defined(RT_ISA_v4)   /* (AVX2's copy is plain C: its multiply-adds are the compiler's) */
    check_in_order(0, 1, 512, 784, 1.0f, 0.0f, 0);
    check_in_order(0, 1, 1100, 13, 0.5f, 2.0f, 5);
    check_in_order(1, 3, 47, 64, 1.0f, 1.0f, 1);
    check_in_order(0, 2, 2049, 9, -2.0f, 0.0f, 0);
    cases += 4;
#endif
    for (int tb = 0; tb < 2; tb++) {   /* attention's per-head shapes beside wider products */
        check_columns_alone(tb, 64, 300, 64, 32);
        check_columns_alone(tb, 64, 300, 32, 64);
        check_columns_alone(tb, 37, 200, 50, 130);
        check_columns_alone(tb, 70, 128, 40, 300);
        cases += 4;
    }
#endif
    for (int threads = 1; threads <= 3; threads++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                check_ep(ta, tb, 1, 9, 7, 5, threads);        /* the simple path */
                check_ep(ta, tb, 1, 200, 130, 70, threads);   /* packed, split by rows */
                check_ep(ta, tb, 1, 300, 90, 600, threads);   /* several k blocks */
                check_ep(ta, tb, 1, 20, 1100, 40, threads);   /* several n blocks, column split */
                check_ep(ta, tb, 1, 32, 512, 128, threads);   /* few rows, kept split by rows */
                check_ep(ta, tb, 1, 64, 10, 300, threads);    /* thin */
                check_ep(ta, tb, 1, 16, 16, 0, threads);      /* k = 0 */
                check_ep(ta, tb, 6, 64, 64, 32, threads);     /* batched */
                check_ep(ta, tb, 1, 128, 128, 128, threads);  /* batch of one */
                cases += 8;
            }
    for (int threads = 1; threads <= 3; threads++)
        for (int ta = 0; ta < 2; ta++) {
            /* B transposed is packed on every level (no B in place): the packed copy is used */
            check_kept(ta, 1, 32, 512, 128, 0, threads, 1, 1);      /* an LSTM step, split by rows */
            check_kept(ta, 1, 32, 128, 512, 3, threads, 2, 1);      /* its backward: two k blocks */
            check_kept(ta, 1, 20, 1100, 300, 1, threads, 3, 1);     /* several n blocks, column split */
            check_kept(ta, 1, 100, 515, 600, 2, threads, 4, 1);     /* ragged n and k blocks */
            check_kept(ta, 0, 100, 515, 600, 2, threads, 5, 0);     /* a fifth key: a stale slot */
            check_kept(ta, 0, 32, 512, 128, 0, threads, 1, 0);      /* AVX-512 reads this B in place */
            check_kept(ta, 0, 7, 10, 30, 0, threads, 2, 0);         /* too small to pack */
            cases += 7;
        }
    for (int threads = 1; threads <= 3; threads++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                check_rows(ta, tb, 200, 130, 300, threads, 1);   /* packed: two k blocks */
                check_rows(ta, tb, 40, 515, 70, threads, 1);     /* few rows: split by columns */
                check_rows(ta, tb, 5, 3, 4, threads, 0);         /* the plain loop */
                cases += 3;
            }
    for (int threads = 1; threads <= 3; threads++) {
        check_rows(1, 0, 48, 64, 900, threads, 1);   /* a weight gradient: k split in halves */
        check_rows(0, 0, 300, 512, 256, threads, 1); /* the text LSTM's lookup, ragged rows */
        cases += 2;
    }
    printf("%d gemm cases, %d failed\n", cases, failures);
    return failures != 0;
}
