/* test_seq.c — the runtime kernels of sequence models:
 *   nnl_sgemm_batched against a double loop, all four transpositions, on 1 and 3
 *     threads, and one matrix alone; its NNL_TRI_* hints (attention's causal products):
 *     the same bits as without where they promise them, for T = 5, 64 and 70
 *   nnl_sgemm_batched_v (attention's heads read and written in place: compiler/views.c)
 *     against nnl_sgemm_batched on contiguous copies of the heads: the same bits, all
 *     four transpositions, causal hints, 1 and 3 threads
 *   nnl_embedding_dw against a double sum, ids out of range (negative, >= v, NaN)
 *     adding nothing, identical bits on 1, 2 and 3 threads (repeated ids included)
 *   a lookup that a product reads, over its distinct ids (nnl_embed_mm with an epilogue,
 *     nnl_embed_sums, then nnl_embed_wt and nnl_embedding_dw_mm from its sums) against
 *     double sums, identical bits on 1, 2 and 3 threads, ids out of range reading zeros
 *     and adding nothing, the table gradient's row marks (rows of the call before
 *     zeroed, all after grad_gen moved), and without memory for the scratch the
 *     fallbacks (a product a position; the distinct ids found by searching), the sums
 *     the same bits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static unsigned long long seed = 88172645463325252ull;
static float rnd(void)
{
    seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
    return (float)((seed >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

/* C_i = op(A_i) op(B_i), A_i stored (ra, ca), B_i (rb, cb) */
static void test_batched(int ta, int tb, int64_t batch, int threads)
{
    int64_t m = 37, n = 29, k = 23;
    int64_t ra = ta ? k : m, ca = ta ? m : k, rb = tb ? n : k, cb = tb ? k : n;
    float *a = malloc(sizeof(float) * batch * ra * ca), *b = malloc(sizeof(float) * batch * rb * cb);
    float *c = malloc(sizeof(float) * batch * m * n);
    for (int64_t i = 0; i < batch * ra * ca; i++) a[i] = rnd();
    for (int64_t i = 0; i < batch * rb * cb; i++) b[i] = rnd();
    for (int64_t i = 0; i < batch * m * n; i++) c[i] = NAN;   /* beta 0 overwrites */
    rt_set_threads(threads);
    nnl_sgemm_batched(ta, tb, batch, m, n, k, a, ca, ra * ca, b, cb, rb * cb, c, n, m * n, NNL_TRI_NONE);
    double worst = 0;
    for (int64_t q = 0; q < batch; q++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++) {
                    float x = ta ? a[q * ra * ca + p * ca + i] : a[q * ra * ca + i * ca + p];
                    float y = tb ? b[q * rb * cb + j * cb + p] : b[q * rb * cb + p * cb + j];
                    s += (double)x * y;
                }
                double e = fabs(s - c[q * m * n + i * n + j]);
                if (!(e <= worst) && worst == worst) worst = e;   /* a NaN stays */
            }
    CHECK(worst < 1e-4, "batched gemm ta %d tb %d batch %lld threads %d: error %g", ta, tb,
          (long long)batch, threads, worst);
    free(a); free(b); free(c);
}

/* q, k: heads of one [B, T, 2 H D] tensor (q the first H D of a row, k the next), C
 * written into a [B, T, H D] tensor (heads side by side): op(q_bh) op(k_bh) through the
 * views, against the same on contiguous copies [B, H, T, D] and C permuted back. */
static void test_views(int ta, int tb, int tri, int threads)
{
    enum { B = 3, H = 4, T = 12, D = 12 };
    int64_t row = 2 * H * D;
    float *x = malloc(sizeof(float) * B * T * row), *qc = malloc(sizeof(float) * B * H * T * D);
    float *kc = malloc(sizeof(float) * B * H * T * D), *want = malloc(sizeof(float) * B * H * T * T);
    float *got = malloc(sizeof(float) * B * T * H * T);
    for (int64_t i = 0; i < B * T * row; i++) x[i] = rnd();
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) {
                    int64_t at = (((int64_t)b * H + h) * T + t) * D + d;
                    qc[at] = x[((int64_t)b * T + t) * row + h * D + d];
                    kc[at] = x[((int64_t)b * T + t) * row + H * D + h * D + d];
                }
    rt_set_threads(threads);
    /* op(A) from a stored T x D head (ta 1: D x T), op(B) the same: with T == D every
     * transposition multiplies */
    int64_t m = ta ? D : T, k = ta ? T : D, n = tb ? T : D;
    int t = m == n ? tri : NNL_TRI_NONE;
    nnl_sgemm_batched(ta, tb, B * H, m, n, k, qc, D, T * D, kc, D, T * D, want, n, m * n, t);
    for (int64_t i = 0; i < B * T * H * T; i++) got[i] = NAN;
    /* C of head h at got + b m H n + h n, rows H n apart */
    nnl_sgemm_batched_v(ta, tb, B, H, m, n, k, x, row, T * row, D, x + H * D, row, T * row, D,
                        got, H * n, m * H * n, n, NULL, NULL, t);
    int bad = 0;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    if (t == NNL_TRI_C_LOWER && j > i) continue;
                    float w = want[(((int64_t)b * H + h) * m + i) * n + j];
                    float g = got[((int64_t)b * m + i) * H * n + h * n + j];
                    if (memcmp(&w, &g, sizeof w)) bad++;
                }
    CHECK(bad == 0, "views ta %d tb %d tri %d threads %d: %d values differ", ta, tb, tri, threads, bad);
    free(x); free(qc); free(kc); free(want); free(got);
}

static void test_embedding_dw(void)
{
    enum { N = 3000, V = 50, D = 24 };
    float *dy = malloc(sizeof(float) * N * D), ids[N], dw[3][V * D];
    for (int i = 0; i < N * D; i++) dy[i] = rnd();
    for (int i = 0; i < N; i++) ids[i] = (float)((unsigned)(rnd() * 1e6) % (V + 3)) - 1;   /* -1 .. V+1 */
    ids[5] = NAN;
    ids[6] = 2.5f;   /* truncates to 2, as the forward lookup does */
    for (int t = 0; t < 3; t++) {
        rt_set_threads(t + 1);
        memset(dw[t], 0xff, sizeof dw[t]);   /* every row is written, used or not */
        nnl_embedding_dw(dy, ids, dw[t], N, V, D);
    }
    CHECK(!memcmp(dw[0], dw[1], sizeof dw[0]) && !memcmp(dw[0], dw[2], sizeof dw[0]),
          "embedding_dw differs between 1, 2 and 3 threads");
    double worst = 0;
    for (int v = 0; v < V; v++)
        for (int j = 0; j < D; j++) {
            double s = 0;
            for (int i = 0; i < N; i++)
                if (ids[i] >= 0 && ids[i] < V && (int)ids[i] == v) s += dy[i * D + j];
            double e = fabs(s - dw[0][v * D + j]);
            if (!(e <= worst) && worst == worst) worst = e;   /* a NaN stays */
        }
    CHECK(worst < 1e-3, "embedding_dw: error %g", worst);
    free(dy);
}

/* an epilogue: y[i] = 2 y[i] + 1 over y's flat indices (ctx is y) */
static void ep_affine(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    float *y = (float *)ctx;
    for (int64_t i = lo; i < hi; i++) y[i] = 2 * y[i] + 1;
}

enum { EN = 700, EV = 40, ED = 24, EK = 37 };

/* the worst error of the three kernels' outputs against double sums over the positions */
static double embed_mm_error(const float *table, const float *ids, const float *w, const float *dy,
                             const float *y, const float *dw, const float *dt)
{
    double worst = 0, e;
    /* (a NaN, once seen, stays the worst) */
    #define WORSE(got, want) (e = fabs((double)(got) - (want)), worst = e <= worst || worst != worst ? worst : e)
    for (int i = 0; i < EN; i++) {
        int ok = ids[i] >= 0 && ids[i] < EV;
        for (int j = 0; j < EK; j++) {
            double s = 0;
            for (int p = 0; ok && p < ED; p++) s += (double)table[(int)ids[i] * ED + p] * w[p * EK + j];
            WORSE(y[i * EK + j], 2 * s + 1);
        }
    }
    for (int p = 0; p < ED; p++)
        for (int j = 0; j < EK; j++) {
            double s = 0;
            for (int i = 0; i < EN; i++)
                if (ids[i] >= 0 && ids[i] < EV) s += (double)table[(int)ids[i] * ED + p] * dy[i * EK + j];
            WORSE(dw[p * EK + j], s);
        }
    for (int v = 0; v < EV; v++)
        for (int p = 0; p < ED; p++) {
            double s = 0;
            for (int i = 0; i < EN; i++)
                if (ids[i] >= 0 && ids[i] < EV && (int)ids[i] == v)
                    for (int j = 0; j < EK; j++) s += (double)dy[i * EK + j] * w[p * EK + j];
            WORSE(dt[v * ED + p], s);
        }
    #undef WORSE
    return worst;
}

static void test_embed_mm(void)
{
    float *table = malloc(sizeof(float) * EV * ED), *w = malloc(sizeof(float) * ED * EK),
          *dy = malloc(sizeof(float) * EN * EK), *y = malloc(sizeof(float) * 4 * EN * EK), ids[EN], ids_b[EN];
    static float dw[4][ED * EK], dt[4][EV * ED], sums[4][EN * EK];
    for (int i = 0; i < EV * ED; i++) table[i] = rnd();
    for (int i = 0; i < ED * EK; i++) w[i] = rnd();
    for (int i = 0; i < EN * EK; i++) dy[i] = rnd();
    for (int i = 0; i < EN; i++) ids[i] = (float)((unsigned)(rnd() * 1e6) % (EV + 3)) - 1;   /* -1 .. EV+1 */
    memset(y, 0xff, sizeof(float) * 4 * EN * EK);   /* every row is written, ids in the table or not */
    ids[5] = NAN;
    ids[6] = 2.5f;   /* truncates to 2, as the lookup does */
    /* [3]: the fallbacks, each kernel's scratch refused (the first calls on this thread) */
    rt_set_threads(1);
    for (int f = 0; f < 4; f++) {
        rt_alloc_fail_after(1);
        if (f == 0) nnl_embed_mm(table, ids, w, y + 3 * EN * EK, EN, EV, ED, EK, ep_affine,
                                 (const NnlCtx *)(y + 3 * EN * EK));
        if (f == 1) nnl_embed_sums(dy, ids, sums[3], EN, EV, EK);
        if (f == 2) nnl_embed_wt(table, ids, sums[3], dw[3], EN, EV, ED, EK);
        if (f == 3) {
            memset(dt[3], 0xff, sizeof dt[3]);
            nnl_embedding_dw_mm(sums[3], ids, w, dt[3], EN, EV, ED, EK, NULL, NULL);
        }
    }
    rt_alloc_fail_after(0);
    for (int t = 0; t < 3; t++) {
        rt_set_threads(t + 1);
        float *yt = y + t * EN * EK;
        nnl_embed_mm(table, ids, w, yt, EN, EV, ED, EK, ep_affine, (const NnlCtx *)yt);
        nnl_embed_sums(dy, ids, sums[t], EN, EV, EK);
        memset(dw[t], 0xff, sizeof dw[t]);
        nnl_embed_wt(table, ids, sums[t], dw[t], EN, EV, ED, EK);
        memset(dt[t], 0xff, sizeof dt[t]);   /* every row is written, used or not */
        nnl_embedding_dw_mm(sums[t], ids, w, dt[t], EN, EV, ED, EK, NULL, NULL);
    }
    int distinct = 0;   /* the rows of the sums that are defined */
    for (int i = 0; i < EN; i++) {
        int first = ids[i] >= 0 && ids[i] < EV;
        for (int j = 0; j < i && first; j++) first = !(ids[j] >= 0 && ids[j] < EV && (int)ids[j] == (int)ids[i]);
        distinct += first;
    }
    size_t sum_bytes = sizeof(float) * (size_t)(distinct * EK);
    CHECK(!memcmp(sums[0], sums[1], sum_bytes) && !memcmp(sums[0], sums[2], sum_bytes) &&
          !memcmp(sums[0], sums[3], sum_bytes), "embed_sums differs between 1, 2 and 3 threads and its fallback");
    CHECK(!memcmp(y, y + EN * EK, sizeof(float) * EN * EK) && !memcmp(y, y + 2 * EN * EK, sizeof(float) * EN * EK),
          "embed_mm differs between 1, 2 and 3 threads");
    CHECK(!memcmp(dw[0], dw[1], sizeof dw[0]) && !memcmp(dw[0], dw[2], sizeof dw[0]),
          "embed_wt differs between 1, 2 and 3 threads");
    CHECK(!memcmp(dt[0], dt[1], sizeof dt[0]) && !memcmp(dt[0], dt[2], sizeof dt[0]),
          "embedding_dw_mm differs between 1, 2 and 3 threads");
    double e = embed_mm_error(table, ids, w, dy, y, dw[0], dt[0]);
    CHECK(e < 1e-3, "embed_mm and its adjoints: error %g", e);
    e = embed_mm_error(table, ids, w, dy, y + 3 * EN * EK, dw[3], dt[3]);
    CHECK(e < 1e-3, "embed_mm and its adjoints without scratch: error %g", e);
    /* row marks: after a call on ids, one on ids_b (rows 20.. only) must leave the rows
     * only ids touched zero, as a call on ids_b alone into a zero table does */
    for (int i = 0; i < EN; i++) ids_b[i] = (float)(20 + i * 7 % (EV - 20));
    float rows[4 + (EV + 3) / 4] = {0};
    NnlCtx ctx = {0};
    static float marked[EV * ED], want[EV * ED];
    for (int t = 1; t <= 2; t++) {
        rt_set_threads(t);
        memset(want, 0, sizeof want);
        nnl_embed_sums(dy, ids_b, sums[1], EN, EV, EK);
        nnl_embedding_dw_mm(sums[1], ids_b, w, want, EN, EV, ED, EK, NULL, NULL);
        memset(marked, 0, sizeof marked);
        memset(rows, 0, sizeof rows);
        ctx.grad_gen = 0;
        nnl_embedding_dw_mm(sums[0], ids, w, marked, EN, EV, ED, EK, rows, &ctx);
        nnl_embedding_dw_mm(sums[1], ids_b, w, marked, EN, EV, ED, EK, rows, &ctx);
        CHECK(!memcmp(marked, want, sizeof want), "embedding_dw_mm, %d threads: rows of the call before kept", t);
        for (int i = 0; i < EV * ED; i++) marked[i] = 1e3f + (float)i;   /* written by a caller: */
        ctx.grad_gen++;                                                 /* every row zeroed again */
        nnl_embedding_dw_mm(sums[1], ids_b, w, marked, EN, EV, ED, EK, rows, &ctx);
        CHECK(!memcmp(marked, want, sizeof want), "embedding_dw_mm, %d threads: written rows kept", t);
    }
    free(table); free(w); free(dy); free(y);
}

/* The tri hints on T x T products (k = T for the A hints, 32 for C_LOWER): A_LOWER / A_UPPER
 * with op(A) zero above / below the diagonal give the same C bit for bit as NNL_TRI_NONE;
 * C_LOWER the same C on and below the diagonal. Both transpositions of A, 1 and 3
 * threads, 6 matrices and one alone (split between threads: tiles offset from 0, 0). */
static void test_tri(int64_t t, int ta, int tri, int64_t batch, int threads)
{
    int64_t m = t, n = tri == NNL_TRI_C_LOWER ? t : 24, k = tri == NNL_TRI_C_LOWER ? 32 : t;
    float *a = malloc(sizeof(float) * batch * m * k), *b = malloc(sizeof(float) * batch * k * n);
    float *want = malloc(sizeof(float) * batch * m * n), *got = malloc(sizeof(float) * batch * m * n);
    for (int64_t q = 0; q < batch; q++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t p = 0; p < k; p++) {   /* op(A)[i][p], stored transposed when ta */
                float v = rnd();
                if ((tri == NNL_TRI_A_LOWER && p > i) || (tri == NNL_TRI_A_UPPER && p < i)) v = 0;
                a[q * m * k + (ta ? p * m + i : i * k + p)] = v;
            }
    for (int64_t i = 0; i < batch * k * n; i++) b[i] = rnd();
    rt_set_threads(threads);
    nnl_sgemm_batched(ta, 0, batch, m, n, k, a, ta ? m : k, m * k, b, n, k * n, want, n, m * n, NNL_TRI_NONE);
    nnl_sgemm_batched(ta, 0, batch, m, n, k, a, ta ? m : k, m * k, b, n, k * n, got, n, m * n, tri);
    int bad = 0;
    for (int64_t q = 0; q < batch; q++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                int64_t x = q * m * n + i * n + j;
                if ((tri != NNL_TRI_C_LOWER || j <= i) && memcmp(&got[x], &want[x], sizeof(float))) bad++;
            }
    CHECK(!bad, "tri %d T=%lld ta=%d batch %lld, %d threads: %d values differ", tri, (long long)t, ta,
          (long long)batch, threads, bad);
    free(a); free(b); free(want); free(got);
}

int main(void)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            test_batched(ta, tb, 7, 1);
            test_batched(ta, tb, 7, 3);
            test_batched(ta, tb, 1, 2);
        }
    static const int64_t ts[] = {5, 64, 70};
    for (int ti = 0; ti < 3; ti++)
        for (int tri = NNL_TRI_C_LOWER; tri <= NNL_TRI_A_UPPER; tri++)
            for (int ta = 0; ta < 2; ta++) {
                test_tri(ts[ti], ta, tri, 6, 1);
                test_tri(ts[ti], ta, tri, 6, 3);
                test_tri(ts[ti], ta, tri, 1, 2);
            }
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int th = 1; th <= 3; th += 2) {
                test_views(ta, tb, NNL_TRI_NONE, th);
                test_views(ta, tb, NNL_TRI_C_LOWER, th);
            }
    test_embedding_dw();
    test_embed_mm();
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
