/* gemm.c — nnl_sgemm: row-major C = alpha * op(A) @ op(B) + beta * C. In: shapes,
 * strides, transposes. Out: C. Large products follow Goto & van de Geijn, "Anatomy of
 * High-Performance Matrix Multiplication" (TOMS 2008) as BLIS arranges it: panels of A
 * and B packed per cache block, a register-blocked microkernel (AVX-512, AVX2/FMA or
 * plain C, chosen at compile time), C split between threads in whole microtiles. Thin
 * or tiny products take a simple loop. Every element of C is computed by one thread in a
 * fixed order of k, so results do not depend on the thread count. */
#include <math.h>
#include <omp.h>
#include <string.h>
#include <unistd.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "rt_internal.h"

#if defined(__AVX512F__)
enum { MR = 14, NR = 32 };   /* 28 zmm accumulators, 2 B loads, 1 broadcast */
#elif defined(__AVX2__) && defined(__FMA__)
enum { MR = 6, NR = 16 };    /* 12 ymm accumulators */
#else
enum { MR = 4, NR = 16 };
#endif
enum {
    KC = 256,                /* k depth of a packed block: B micro-panel 32 KB in L1 */
    MC = MR * 12,            /* A block mc x kc: 168 KB, stays in L2 */
    NC = NR * 64,            /* B block kc x nc: streamed from L2/L3 */
};
enum {                            /* C's tile is prefetched (prefetch_c) when */
    PREFETCH_C_MIN_K = 64,        /* the microkernel runs this many k steps, */
    PREFETCH_C_FLOATS = 1 << 19,  /* and C is larger than an L2 (2 MB) */
};
enum { ROWS_FIRST_KC = 128 };
enum { SPLIT_K_MAX = 1 << 21 };   /* floats of the partial product gemm_split_k may keep */
enum { WIDE_B = 1 << 17 };        /* floats of a B that gemm_run splits by columns (512 KB) */
#if defined(__AVX2__) && !defined(__AVX512F__)
enum { WIDE_B_PACKED = 1 << 16 }; /* ... where each call packs it, on AVX2 (Zen 3: L2 512 KB) */
#else
enum { WIDE_B_PACKED = WIDE_B };
#endif
enum { TINY_K = 16 };            /* gemm_run: a transposed B this deep splits by columns */
enum { EPI_ROWS = 16 };           /* rows a thread at least, for a product with an
                                     epilogue split by rows */

/* ---- microkernels: acc(MR, NR) = pa(kc, MR)^T-packed @ pb(kc, NR); then
 *      c(mr, nr) = alpha * acc + beta * c, C not read when beta == 0 ---- */

#if defined(__AVX512F__)
/* B read in place (not packed) is a column of 128-byte pieces of rows ldb apart, which
 * the hardware prefetchers do not follow: each k step asks for the piece B_AHEAD rows on.
 * `gemm_bench 1 "" cold`: char GPT's batch-1 64x128x512 112 -> 122-130 GFLOP/s, the
 * LSTM's 64x512x256 58 -> 87, the same in cache; char GPT's batch-1 forward 1,084-1,094
 * -> 1,038-1,050 us, its step +2-3% (B in place at 64 rows and for small B). */
enum { B_AHEAD = 16 };
/* R rows (a compile-time constant where it is inlined): the last row panel of a product
 * whose rows are not a multiple of MR costs R rows' FMAs, not MR rows'. The sums run in
 * the same order whatever R, so C does not depend on how the rows were tiled. */
static inline __attribute__((always_inline))
void kernel_r(const int R, const int IP, const int AR, int64_t kc, const float *restrict pa, int64_t ldpa,
              const float *restrict pb, int64_t ldpb, float *restrict c, int64_t ldc, int nr, float alpha, float beta)
{
    __m512 acc[MR][2];
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    /* a packed panel is zero-padded to NR columns; B read in place is not */
    __mmask16 l0 = IP ? m0 : 0xffff, l1 = IP ? m1 : 0xffff;
    /* alpha and beta wait in memory: kept in registers through the loop they leave 30
     * zmm for its 31 values (28 sums, 2 of B, a broadcast), and GCC then spilled a sum,
     * a load and a store in every k step (the full-width copy in place, -4%) */
    volatile float scale[2] = {alpha, beta};
    #pragma GCC unroll 14
    for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        if (IP) {   /* B in place: its rows are ldpb apart, no stream to prefetch */
            _mm_prefetch((const char *)(pb + B_AHEAD * ldpb), _MM_HINT_T0);
            _mm_prefetch((const char *)(pb + B_AHEAD * ldpb + 16), _MM_HINT_T0);
        }
        __m512 b0 = _mm512_maskz_loadu_ps(l0, pb), b1 = _mm512_maskz_loadu_ps(l1, pb + 16);
        #pragma GCC unroll 14
        for (int i = 0; i < R; i++) {
            __m512 ai = _mm512_set1_ps(AR ? pa[i * ldpa] : pa[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
        pa += AR ? 1 : ldpa;
        pb += ldpb;
    }
    alpha = scale[0];
    beta = scale[1];
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    #pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
        float *row = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), r1);
        }
        _mm512_mask_storeu_ps(row, m0, r0);
        _mm512_mask_storeu_ps(row + 16, m1, r1);
    }
}

/* Products with at most 16 columns (a classifier's 10 outputs and their gradients):
 * one zmm of B per k step instead of two, so no FMA is spent on an empty half. */
enum { NR_THIN = 16 };
static void kernel_thin(int64_t kc, const float *restrict pa, const float *restrict pb,
                        float *restrict c, int64_t ldc, int mr, int nr, float alpha, float beta)
{
    __m512 acc[MR];
    #pragma GCC unroll 14
    for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(pb);
        #pragma GCC unroll 14
        for (int i = 0; i < MR; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(pa[i]), b0, acc[i]);
        pa += MR;
        pb += NR_THIN;
    }
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    #pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *row = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i]);
        if (beta != 0.0f) r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), r0);
        _mm512_mask_storeu_ps(row, m0, r0);
    }
}
#elif defined(__AVX2__) && defined(__FMA__)
enum { B_AHEAD = 16 };
/* The AVX-512 kernel_r's shape with 8-lane vectors: R rows, B packed or in place (IP),
 * A packed or its rows in place (AR). A partial tile of B in place is read masked (its
 * columns past nr may lie past the buffer); a partial tile is stored through a buffer
 * (vmaskmovps stores are slow on AMD). */
static inline __attribute__((always_inline))
void kernel_r(const int R, const int IP, const int AR, int64_t kc, const float *restrict pa, int64_t ldpa,
              const float *restrict pb, int64_t ldpb, float *restrict c, int64_t ldc, int nr, float alpha, float beta)
{
    __m256 acc[MR][2];
    __m256i l0 = rt_lanes8(nr), l1 = rt_lanes8(nr - 8);
    #pragma GCC unroll 6
    for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0, b1;
        if (IP) {   /* B in place: its rows are ldpb apart, no stream to prefetch */
            _mm_prefetch((const char *)(pb + B_AHEAD * ldpb), _MM_HINT_T0);
            b0 = nr >= NR ? _mm256_loadu_ps(pb) : _mm256_maskload_ps(pb, l0);
            b1 = nr >= NR ? _mm256_loadu_ps(pb + 8) : _mm256_maskload_ps(pb + 8, l1);
        } else {   /* (B in place with ldb = NR takes this path too: unaligned) */
            b0 = _mm256_loadu_ps(pb);
            b1 = _mm256_loadu_ps(pb + 8);
        }
        #pragma GCC unroll 6
        for (int i = 0; i < R; i++) {
            __m256 ai = _mm256_broadcast_ss(AR ? pa + i * ldpa : pa + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
        pa += AR ? 1 : ldpa;
        pb += ldpb;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    #pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        float *row = c + i * ldc, tile[NR];
        float *dst = nr >= NR ? row : tile;
        __m256 r0, r1;
        if (beta != 0.0f && nr < NR)
            for (int j = 0; j < nr; j++) tile[j] = row[j];
        if (beta != 0.0f) {   /* alpha acc + (beta c) */
            r0 = _mm256_fmadd_ps(va, acc[i][0], _mm256_mul_ps(vb, _mm256_loadu_ps(dst)));
            r1 = _mm256_fmadd_ps(va, acc[i][1], _mm256_mul_ps(vb, _mm256_loadu_ps(dst + 8)));
        } else {
            r0 = _mm256_mul_ps(va, acc[i][0]);
            r1 = _mm256_mul_ps(va, acc[i][1]);
        }
        _mm256_storeu_ps(dst, r0);
        _mm256_storeu_ps(dst + 8, r1);
        if (nr < NR)
            for (int j = 0; j < nr; j++) row[j] = tile[j];
    }
}
#endif

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
/* kernel_r's row counts below MR */
#if defined(__AVX512F__)
#define R_CASES(ip, a, w) R_CASE(1, ip, a, w) R_CASE(2, ip, a, w) R_CASE(3, ip, a, w) R_CASE(4, ip, a, w) \
    R_CASE(5, ip, a, w) R_CASE(6, ip, a, w) R_CASE(7, ip, a, w) R_CASE(8, ip, a, w) R_CASE(9, ip, a, w) \
    R_CASE(10, ip, a, w) R_CASE(11, ip, a, w) R_CASE(12, ip, a, w) R_CASE(13, ip, a, w)
#else
#define R_CASES(ip, a, w) R_CASE(1, ip, a, w) R_CASE(2, ip, a, w) R_CASE(3, ip, a, w) R_CASE(4, ip, a, w) \
    R_CASE(5, ip, a, w)
#endif
/* pa: a packed panel (ldpa == MR) or op(A)^T itself (A transposed), its k steps ldpa
 * apart, or (ar) A itself, its rows ldpa apart and its k steps contiguous; pb: a packed
 * panel (ldpb == NR) or B itself, rows ldpb apart */
static void kernel_b(int64_t kc, const float *restrict pa, int64_t ldpa, int ar, const float *restrict pb,
                     int64_t ldpb, float *restrict c, int64_t ldc, int mr, int nr, float alpha, float beta)
{
    /* one copy per row count, per B packed or in place (no prefetch test in the loop of
     * the other), per full or partial width (a full tile's loads and stores unmasked),
     * per A packed or its rows in place */
    #define R_CASE(r, ip, a, w) case r: kernel_r(r, ip, a, kc, pa, ldpa, pb, ldpb, c, ldc, w, alpha, beta); return;
    #define R_SWITCH(ip, a, w) switch (mr) { \
        R_CASES(ip, a, w) \
        default: kernel_r(MR, ip, a, kc, pa, ldpa, pb, ldpb, c, ldc, w, alpha, beta); return; }
    if (ar) {
        if (ldpb == NR) {
            if (nr == NR) R_SWITCH(0, 1, NR)
            R_SWITCH(0, 1, nr)
        }
        if (nr == NR) R_SWITCH(1, 1, NR)
        R_SWITCH(1, 1, nr)
    }
    if (ldpb == NR) {
        if (nr == NR) R_SWITCH(0, 0, NR)
        R_SWITCH(0, 0, nr)
    }
    if (nr == NR) R_SWITCH(1, 0, NR)
    R_SWITCH(1, 0, nr)
    #undef R_SWITCH
    #undef R_CASE
}

static void kernel(int64_t kc, const float *restrict pa, const float *restrict pb,
                   float *restrict c, int64_t ldc, int mr, int nr, float alpha, float beta)
{
    kernel_b(kc, pa, MR, 0, pb, NR, c, ldc, mr, nr, alpha, beta);
}
#undef R_CASES
#else
static void kernel(int64_t kc, const float *restrict pa, const float *restrict pb,
                   float *restrict c, int64_t ldc, int mr, int nr, float alpha, float beta)
{
    float acc[MR][NR] = {{0}};
    for (int64_t p = 0; p < kc; p++, pa += MR, pb += NR)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += pa[i] * pb[j];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float v = alpha * acc[i][j];
            c[i * ldc + j] = beta != 0.0f ? v + beta * c[i * ldc + j] : v;
        }
}
#endif

#if !defined(__AVX512F__)
enum { NR_THIN = NR };
#define kernel_thin kernel
#endif

/* B read where it lies instead of packed: when its rows are contiguous and a thread's
 * share has at most 5 row panels (70 rows), packing B costs more than it saves (an LSTM
 * step's 32 rows: packing the 128x512 recurrent weight was a quarter of the product's
 * time, 124 -> 200 GFLOP/s without it; a sequence of 64 tokens at batch 1, 4 -> 5
 * panels: the LSTM's input projection 64x512x256 148-156 -> 165-167 GFLOP/s, char GPT's
 * 64x512x128 154 -> 169, bench/gemm_bench.c). With more rows the packed panel's L1
 * locality wins: 10 panels made 128x512x512 faster alone (94% -> 100% of oneDNN) but the
 * MLP's step on two threads 20% slower, and 1024^2 fell from 92% to 76%. AVX-512 kernels
 * only. */
#if defined(__AVX512F__)
enum { IN_PLACE = 1, DIRECT_B_ROWS = 5 * MR, DIRECT_B_FLOATS = 16384, TC_N = MR };
#elif defined(__AVX2__) && defined(__FMA__)
/* On Zen 3 B in place lost at 32 and 64 rows (the LSTM step 71 -> 63 GFLOP/s, its
 * batch-1 input projection 82 -> 69): by rows only A's (ROWS_A) */
enum { IN_PLACE = 1, DIRECT_B_ROWS = 0, DIRECT_B_FLOATS = 16384, TC_N = 2 * MR };
#else
enum { IN_PLACE = 0, DIRECT_B_ROWS = 0, DIRECT_B_FLOATS = 0, TC_N = 0 };
#endif
/* A's rows in place (gemm_packed's rows_a) up to this many rows and 64 columns */
enum { ROWS_A = 70 };
#if !defined(__AVX512F__) && !(defined(__AVX2__) && defined(__FMA__))
/* (only ever called with packed panels: IN_PLACE is 0) */
static void kernel_b(int64_t kc, const float *restrict pa, int64_t ldpa, int ar, const float *restrict pb,
                     int64_t ldpb, float *restrict c, int64_t ldc, int mr, int nr, float alpha, float beta)
{
    (void)ldpa;
    (void)ar;
    (void)ldpb;
    kernel(kc, pa, pb, c, ldc, mr, nr, alpha, beta);
}
#endif

/* ---- packing ---- */

/* `rows` rows of `len` floats, src + p * ld each (src + map[p] ld with a row map), cut
 * into panels of W columns as the microkernel reads them: dst[panel][p][W], the last
 * panel zero-padded. The source is read row by row as it lies (not down a column of
 * panels, rows KBs apart); W is a constant where this is inlined, so each piece is
 * copied in registers, not by a call. */
static inline __attribute__((always_inline))
void pack_rows(const int W, const float *base, int64_t ld, const int32_t *map, int64_t rows, int64_t len,
               float *restrict dst)
{
    enum { AHEAD = 8 };   /* rows through a map are scattered: ask for the row AHEAD on */
    for (int64_t p = 0; p < rows; p++) {
        const float *src = base + (map ? (int64_t)map[p] : p) * ld;
        if (map && p + AHEAD < rows)
            for (int64_t j = 0; j < len; j += 16) __builtin_prefetch(base + (int64_t)map[p + AHEAD] * ld + j);
        float *d = dst + p * W;
        int64_t j = 0;
        for (; j + W <= len; j += W, d += W * rows) memcpy(d, src + j, sizeof(float) * W);
        if (j < len) {
            int q = 0;
            for (; j + q < len; q++) d[q] = src[j + q];
            for (; q < W; q++) d[q] = 0.0f;
        }
    }
}

/* The row of A (as stored: op(A)'s rows, or its columns where transposed) numbered r:
 * a + r lda, or with a row map a + arow[r] lda (gather-free lookups: nnl_sgemm_rows). */
static const float *a_row(const float *a, int64_t lda, const int32_t *arow, int64_t r)
{
    return a + (arow ? (int64_t)arow[r] : r) * lda;
}

/* op(A)[i0:i0+mc, p0:p0+kc] -> panels of MR rows: dst[panel][p][MR], zero-padded. */
static void pack_a(int ta, const float *a, int64_t lda, const int32_t *arow, int64_t i0, int64_t mc,
                   int64_t p0, int64_t kc, float *restrict dst)
{
    if (ta) {          /* A(i, p) = a[p * lda + i] (a[arow[p] * lda + i]) */
        if (arow) pack_rows(MR, a + i0, lda, arow + p0, kc, mc, dst);
        else pack_rows(MR, a + p0 * lda + i0, lda, NULL, kc, mc, dst);
        return;
    }
    for (int64_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {   /* A(i, p) = a[i * lda + p] */
        int mr = mc - ir < MR ? (int)(mc - ir) : MR;
        const float *rows[MR];
        for (int i = 0; i < MR; i++) rows[i] = a_row(a, lda, arow, i0 + ir + (i < mr ? i : 0)) + p0;
        int64_t p = 0;
#if defined(RT_VEC)
        /* VL values of p at a time: MR rows loaded (zeros past the last row of a ragged
         * panel), transposed in registers, each p's MR values stored (the microkernel's
         * layout): a whole vector where the lanes past MR land on the next p's slot, which
         * its own store then writes (no masked store: slow on AMD), else only MR lanes.
         * On Zen 3 (AVX2) the scalar loop was 2.6% of the MLP's step. */
        for (; p + VL <= kc; p += VL) {
            Vf r[VL];
            for (int i = 0; i < VL; i++) r[i] = i < MR && i < mr ? vf_loadu(rows[i] + p) : vf_zero();
            vf_transpose(r);
            for (int q = 0; q < VL; q++) {
                if ((p + q) * MR + VL <= kc * MR) vf_storeu(dst + (p + q) * MR, r[q]);
                else vf_store(dst + (p + q) * MR, vm_lanes(MR), r[q]);
            }
        }
#endif
        for (; p < kc; p++) {
            float *d = dst + p * MR;
            for (int i = 0; i < MR; i++) d[i] = i < mr ? rows[i][p] : 0.0f;
        }
    }
}

/* op(B)[p0:p0+kc, j0:j0+nc] -> panels of w (NR or NR_THIN) columns: dst[panel][p][w], zero-padded. */
static void pack_b(int tb, const float *b, int64_t ldb, int64_t p0, int64_t kc,
                   int64_t j0, int64_t nc, int w, float *restrict dst)
{
    if (!tb) {         /* B(p, j) = b[p * ldb + j] */
        if (w == NR) pack_rows(NR, b + p0 * ldb + j0, ldb, NULL, kc, nc, dst);
        else pack_rows(NR_THIN, b + p0 * ldb + j0, ldb, NULL, kc, nc, dst);
        return;
    }
    for (int64_t jr = 0; jr < nc; jr += w, dst += w * kc) {   /* B(p, j) = b[j * ldb + p] */
        int nr = nc - jr < w ? (int)(nc - jr) : w;
        int64_t p = 0;
#if defined(RT_VEC)
        /* VL columns by VL values of p at a time, transposed in registers; columns
         * past nr are zeros (w is a multiple of VL) */
        for (; p + VL <= kc; p += VL)
            for (int jv = 0; jv < w; jv += VL) {
                Vf r[VL];
                for (int j = 0; j < VL; j++)
                    r[j] = jv + j < nr ? vf_loadu(b + (j0 + jr + jv + j) * ldb + p0 + p) : vf_zero();
                vf_transpose(r);
                for (int q = 0; q < VL; q++) vf_storeu(dst + (p + q) * w + jv, r[q]);
            }
        /* the last kc % VL values of p the same way, loaded under a mask: a product
         * whose k is a few classes (a 10-class layer's input gradient, 64 x 5408 x 10)
         * packed all of B one float at a time, as long as its multiplications took */
        if (p < kc) {
            Vm m = vm_lanes(kc - p);
            for (int jv = 0; jv < w; jv += VL) {
                Vf r[VL];
                for (int j = 0; j < VL; j++)
                    r[j] = jv + j < nr ? vf_load(m, b + (j0 + jr + jv + j) * ldb + p0 + p) : vf_zero();
                vf_transpose(r);
                for (int q = 0; q < kc - p; q++) vf_storeu(dst + (p + q) * w + jv, r[q]);
            }
            p = kc;
        }
#endif
        for (int j = 0; j < w; j++) {
            if (j >= nr) {
                for (int64_t q = p; q < kc; q++) dst[q * w + j] = 0.0f;
                continue;
            }
            const float *src = b + (j0 + jr + j) * ldb + p0;
            for (int64_t q = p; q < kc; q++) dst[q * w + j] = src[q];
        }
    }
}

/* C's tile is read or written only after the microkernel's k loop: asking for its
 * lines before the loop (up to 3 a row when C is not 64-byte aligned) makes them arrive
 * during it instead of stalling after it. That pays where C lies beyond L2 (square 2048
 * on one thread: +14%); where C is in cache, or the k loop too short to hide the
 * prefetches, they only cost (-3% to -15%). Kept out of the microkernel, whose
 * registers it would take. */
static void prefetch_c(const float *c, int64_t ldc, int mr)
{
    for (int i = 0; i < mr; i++, c += ldc) {
        for (int j = 0; j < NR; j += 16) __builtin_prefetch(c + j, 0, 3);
        __builtin_prefetch(c + NR - 1, 0, 3);
    }
}

/* Per-thread buffers, kept for the whole run (rt_scratch) */
static __thread RtScratch pack_scratch;    /* packed A and B blocks */
static __thread RtScratch split_scratch;   /* the partial products of gemm_split_k */

static float *pack_space(size_t floats) { return rt_scratch(&pack_scratch, floats); }

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* p within [0, kc] */
static int64_t clamp_k(int64_t p, int64_t kc) { return p < 0 ? 0 : p < kc ? p : kc; }

/* A GEMM's epilogue: a generated elementwise kernel (bias, activation, residual add) run
 * over each block of C as soon as the block is final, while it is still in cache, instead
 * of in a pass of its own afterwards. fn(ctx, lo, hi) takes flat indices: C[i, j] is
 * element base + i * n + j of the kernel's iteration space (C contiguous, ldc == n). */
typedef struct Epi {
    NnlKernelFn fn;
    const NnlCtx *ctx;
    int64_t base, n;
} Epi;

/* The epilogue over C[i0:i1, j0:j1]: one range when the rows are whole, else a row each. */
static void epi_run(const Epi *e, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    if (!e || i0 >= i1 || j0 >= j1) return;
    if (j0 == 0 && j1 == e->n) e->fn(e->ctx, e->base + i0 * e->n, e->base + i1 * e->n);
    else
        for (int64_t i = i0; i < i1; i++) e->fn(e->ctx, e->base + i * e->n + j0, e->base + i * e->n + j1);
}

/* One thread's share: the whole blocked product for its block of C, whose rows and
 * columns start at row0, col0 of the whole product. tri (NNL_TRI_*): the microtiles wholly
 * right of the diagonal skipped (C_LOWER), or each row panel's k range cut to where its
 * rows of op(A) are not zero (A_LOWER: p <= i, A_UPPER: p >= i; the terms left out are
 * zeros, so C is the same). Attention's causal products, 64 x 64 a head. kb: all of
 * op(B) packed before (kept_b), kb_npad its columns padded to NR, or NULL. */
static int gemm_packed(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const int32_t *arow, const float *b, int64_t ldb,
                       float beta, float *c, int64_t ldc, const Epi *e, int64_t row0, int64_t col0,
                       int tri, const float *kb, int64_t kb_npad)
{
    /* even block sizes so that no block is a sliver */
    int w = n <= NR_THIN ? NR_THIN : NR;   /* the microkernel's width */
    int64_t kc_max = ceil_div(k, ceil_div(k, KC));
    int64_t mc_max = ceil_div(ceil_div(m, ceil_div(m, MC)), MR) * MR;
    int64_t nc_max = ceil_div(ceil_div(n, ceil_div(n, NC)), w) * w;
    int64_t a_floats = (kc_max * mc_max + 15) & ~(int64_t)15;   /* pb 64-byte aligned */
    float *pa = pack_space((size_t)(a_floats + kc_max * nc_max));
    if (!pa) return -1;
    float *pb = pa + a_floats;
    int direct_b = !kb && IN_PLACE && !tb && w == NR && (m <= DIRECT_B_ROWS || k * n <= DIRECT_B_FLOATS);
    int direct_a = IN_PLACE && !arow && ta && w == NR && m * k <= DIRECT_B_FLOATS;   /* A as small */
    /* A's rows read in place where few rows meet at most 64 columns (attention's
     * per-head products: 64 x 64 x 32, 64 x 32 x 64), whose packing was a third of their
     * time; the microkernel broadcasts each row's k step from the row itself. Wider
     * products reuse a packed panel across their columns and gained nothing. char GPT's
     * batched products 11.8 -> 10.7 ms a step, batch-1 69 -> 54 us (one thread); on Zen
     * 3's AVX2 64x64x32 60 -> 71 GFLOP/s, 64x32x64 63 -> 89. */
    int rows_a = IN_PLACE && !arow && !ta && w == NR && m <= ROWS_A && n <= 64;
    int pf_c = kc_max >= PREFETCH_C_MIN_K && m * n >= PREFETCH_C_FLOATS;
    if (w != NR) tri = NNL_TRI_NONE;   /* the thin kernel has no k offsets */
    /* The microtiles of a block in the order C lies in memory (a row panel across all
     * column panels) where the A and B micro-panels fit L1 together (kc <= ROWS_FIRST_KC:
     * 16 + 7 KB) and B is packed (read in place, its panel stays in L1 down the rows):
     * C's rows are then written as streams the L2 prefetcher follows. Down the column
     * panels first (Goto's order, which keeps B's micro-panel in L1 when it is larger),
     * a block of 168 rows wrote 128 bytes of each row in turn, every line a demand miss
     * when C was not in cache. `gemm_bench 1 gpt cold` (operands rotated over 64 MB, as a
     * step leaves them): 2048x512x128 with B transposed 109-110 -> 142-143 GFLOP/s (oneDNN
     * 140-144), the same in cache; in char GPT's step (--profile 3) its k = 128 forward
     * products 17.5 -> 16.0-16.3 ms. With kc = 256 rows first was 2-4% slower. */
    int rows_first = kc_max <= ROWS_FIRST_KC && !direct_b;
    for (int64_t jc = 0; jc < n; jc += nc_max) {
        int64_t nc = n - jc < nc_max ? n - jc : nc_max;
        for (int64_t pc = 0; pc < k; pc += kc_max) {
            int64_t kc = k - pc < kc_max ? k - pc : kc_max;
            float bet = pc == 0 ? beta : 1.0f;
            if (kb) pb = (float *)kb + pc * kb_npad + (col0 + jc) * kc;   /* packed before (kept_b) */
            else if (!direct_b) pack_b(tb, b, ldb, pc, kc, jc, nc, w, pb);
            for (int64_t ic = 0; ic < m; ic += mc_max) {
                int64_t mc = m - ic < mc_max ? m - ic : mc_max;
                if (!direct_a && !rows_a) pack_a(ta, a, lda, arow, ic, mc, pc, kc, pa);
                int64_t n_jr = ceil_div(nc, w), n_ir = ceil_div(mc, MR);
                for (int64_t t = 0; t < n_jr * n_ir; t++) {
                    int64_t jr = (rows_first ? t % n_jr : t / n_ir) * w, ir = (rows_first ? t / n_jr : t % n_ir) * MR;
                    int nr = nc - jr < w ? (int)(nc - jr) : w;
                    int mr = mc - ir < MR ? (int)(mc - ir) : MR;
                    float *ct = c + (ic + ir) * ldc + jc + jr;
                    int64_t gi = row0 + ic + ir, p0 = 0, p1 = kc;   /* the tile's first row */
                    if (tri == NNL_TRI_C_LOWER && col0 + jc + jr >= gi + mr) continue;
                    if (tri == NNL_TRI_A_LOWER) p1 = clamp_k(gi + mr - pc, kc);
                    if (tri == NNL_TRI_A_UPPER) p0 = clamp_k(gi - pc, kc);
                    if (pf_c && bet != 0.0f) prefetch_c(ct, ldc, mr);
                    if (rows_a) {
                        int64_t lb = direct_b ? ldb : NR;
                        kernel_b(p1 - p0, a + (ic + ir) * lda + pc + p0, lda, 1,
                                 (direct_b ? b + pc * ldb + jc + jr : pb + jr * kc) + p0 * lb, lb,
                                 ct, ldc, mr, nr, alpha, bet);
                    } else if (direct_a || direct_b || tri) {
                        int64_t la = direct_a ? lda : MR, lb = direct_b ? ldb : NR;
                        kernel_b(p1 - p0, (direct_a ? a + pc * lda + ic + ir : pa + ir * kc) + p0 * la, la, 0,
                                 (direct_b ? b + pc * ldb + jc + jr : pb + jr * kc) + p0 * lb, lb,
                                 ct, ldc, mr, nr, alpha, bet);
                    } else
                        (w == NR ? kernel : kernel_thin)(kc, pa + ir * kc, pb + jr * kc, ct, ldc, mr, nr, alpha, bet);
                }
                if (pc + kc >= k)   /* this block of C is final */
                    epi_run(e, row0 + ic, row0 + ic + mc, col0 + jc, col0 + jc + nc);
            }
        }
    }
    return 0;
}

#if defined(__AVX512F__)
/* The thin product over rows of A that lie contiguously (not transposed), as dot
 * products: ROWS rows of C (1 or 2) and NI <= TC_N columns, 16 values of k a vector,
 * each A vector used NI times and each column of B (a row of bt, n x k) ROWS times; no
 * packing of A at all, which is what a thin product mostly reads. k runs in blocks of
 * DOT_KB whose slice of bt stays in L1; the per-lane partial sums wait in `part`
 * between blocks and are summed across lanes once, in a fixed order. */
enum { DOT_KB = 512 };
static inline __attribute__((always_inline))
void dot_rows(const int NI, const int ROWS, int64_t p0, int64_t kb, int first, int last,
              const float *a, int64_t lda, const float *bt, int64_t ldbt, float *part,
              float *c, int64_t ldc, float alpha, float beta)
{
    __m512 acc[2][TC_N];
    #pragma GCC unroll 14
    for (int i = 0; i < NI; i++)
        for (int r = 0; r < ROWS; r++)
            acc[r][i] = first ? _mm512_setzero_ps() : _mm512_load_ps(part + (r * TC_N + i) * 16);
    int64_t p = p0, end = p0 + kb;
    for (; p + 16 <= end; p += 16) {
        __m512 a0 = _mm512_loadu_ps(a + p), a1 = ROWS > 1 ? _mm512_loadu_ps(a + lda + p) : a0;
        #pragma GCC unroll 14
        for (int i = 0; i < NI; i++) {
            __m512 bv = _mm512_loadu_ps(bt + i * ldbt + p);
            acc[0][i] = _mm512_fmadd_ps(a0, bv, acc[0][i]);
            if (ROWS > 1) acc[1][i] = _mm512_fmadd_ps(a1, bv, acc[1][i]);
        }
    }
    if (p < end) {   /* the last few values of k, masked */
        __mmask16 mk = (__mmask16)((1u << (end - p)) - 1);
        __m512 a0 = _mm512_maskz_loadu_ps(mk, a + p), a1 = ROWS > 1 ? _mm512_maskz_loadu_ps(mk, a + lda + p) : a0;
        #pragma GCC unroll 14
        for (int i = 0; i < NI; i++) {
            __m512 bv = _mm512_maskz_loadu_ps(mk, bt + i * ldbt + p);
            acc[0][i] = _mm512_fmadd_ps(a0, bv, acc[0][i]);
            if (ROWS > 1) acc[1][i] = _mm512_fmadd_ps(a1, bv, acc[1][i]);
        }
    }
    #pragma GCC unroll 14
    for (int i = 0; i < NI; i++)
        for (int r = 0; r < ROWS; r++) {
            if (!last) {
                _mm512_store_ps(part + (r * TC_N + i) * 16, acc[r][i]);
                continue;
            }
            float v = alpha * _mm512_reduce_add_ps(acc[r][i]);
            float *cp = c + r * ldc + i;
            *cp = beta != 0.0f ? fmaf(beta, *cp, v) : v;
        }
}

/* C[0:m, 0:n] for n <= TC_N; part: 2 * TC_N * 16 floats per pair of rows, 64-byte aligned */
static void dot_thin(int64_t m, int n, int64_t k, const float *a, int64_t lda, const float *bt,
                     int64_t ldbt, float *part, float *c, int64_t ldc, float alpha, float beta)
{
    for (int64_t p0 = 0; p0 < k || p0 == 0; p0 += DOT_KB) {
        int64_t kb = k - p0 < DOT_KB ? k - p0 : DOT_KB;
        int first = p0 == 0, last = p0 + kb >= k;
        for (int64_t j = 0; j < m; j += 2) {
            const float *aj = a + j * lda;
            float *pj = part + j / 2 * (2 * TC_N * 16), *cj = c + j * ldc;
            #define N_CASE(nn) case nn:                                                              \
                if (j + 1 < m) dot_rows(nn, 2, p0, kb, first, last, aj, lda, bt, ldbt, pj, cj, ldc, alpha, beta); \
                else dot_rows(nn, 1, p0, kb, first, last, aj, lda, bt, ldbt, pj, cj, ldc, alpha, beta); \
                break;
            switch (n) {
            N_CASE(1) N_CASE(2) N_CASE(3) N_CASE(4) N_CASE(5) N_CASE(6) N_CASE(7)
            N_CASE(8) N_CASE(9) N_CASE(10) N_CASE(11) N_CASE(12) N_CASE(13) N_CASE(14)
            }
            #undef N_CASE
        }
    }
}
#elif defined(__AVX2__) && defined(__FMA__)
/* dot_rows with 8 lanes, one row of C at a time (TC_N = 12 accumulators of 16 registers) */
enum { DOT_KB = 512 };
static inline __attribute__((always_inline))
void dot_row8(const int NI, int64_t p0, int64_t kb, int first, int last, const float *a,
              const float *bt, int64_t ldbt, float *part, float *c, float alpha, float beta)
{
    __m256 acc[TC_N];
    #pragma GCC unroll 12
    for (int i = 0; i < NI; i++) acc[i] = first ? _mm256_setzero_ps() : _mm256_load_ps(part + i * 8);
    int64_t p = p0, end = p0 + kb;
    for (; p + 8 <= end; p += 8) {
        __m256 a0 = _mm256_loadu_ps(a + p);
        #pragma GCC unroll 12
        for (int i = 0; i < NI; i++) acc[i] = _mm256_fmadd_ps(a0, _mm256_loadu_ps(bt + i * ldbt + p), acc[i]);
    }
    if (p < end) {   /* the last few values of k, masked */
        __m256i mk = rt_lanes8(end - p);
        __m256 a0 = _mm256_maskload_ps(a + p, mk);
        #pragma GCC unroll 12
        for (int i = 0; i < NI; i++) acc[i] = _mm256_fmadd_ps(a0, _mm256_maskload_ps(bt + i * ldbt + p, mk), acc[i]);
    }
    #pragma GCC unroll 12
    for (int i = 0; i < NI; i++) {
        if (!last) {
            _mm256_store_ps(part + i * 8, acc[i]);
            continue;
        }
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        float v = alpha * _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
        c[i] = beta != 0.0f ? fmaf(beta, c[i], v) : v;
    }
}

/* C[0:m, 0:n] for n <= TC_N; part: TC_N * 8 floats per row, 32-byte aligned */
static void dot_thin(int64_t m, int n, int64_t k, const float *a, int64_t lda, const float *bt,
                     int64_t ldbt, float *part, float *c, int64_t ldc, float alpha, float beta)
{
    for (int64_t p0 = 0; p0 < k || p0 == 0; p0 += DOT_KB) {
        int64_t kb = k - p0 < DOT_KB ? k - p0 : DOT_KB;
        int first = p0 == 0, last = p0 + kb >= k;
        for (int64_t j = 0; j < m; j++) {
            const float *aj = a + j * lda;
            float *pj = part + j * (TC_N * 8), *cj = c + j * ldc;
            switch (n) {
            #define N_CASE(nn) case nn: dot_row8(nn, p0, kb, first, last, aj, bt, ldbt, pj, cj, alpha, beta); break;
            N_CASE(1) N_CASE(2) N_CASE(3) N_CASE(4) N_CASE(5) N_CASE(6)
            N_CASE(7) N_CASE(8) N_CASE(9) N_CASE(10) N_CASE(11) N_CASE(12)
            #undef N_CASE
            }
        }
    }
}
#endif

/* Products with at most TC_N columns (a classifier's 10 outputs, their weight gradient)
 * computed as C^T = op(B)^T op(A)^T: C's columns are the rows of one row panel and C's
 * rows are the vector lanes, so no FMA is spent on a 16-wide vector with 10 useful lanes
 * (62% of the FMAs). A tile of C^T sums all of k in a buffer and goes to C transposed
 * once. op(B)^T is packed whole, once; op(A)^T a panel at a time, each used once. */
enum { TC_KC = 4096, TC_ROWS = (TC_N + MR - 1) / MR * MR };
static int gemm_packed_t(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                         const float *a, int64_t lda, const float *b, int64_t ldb,
                         float beta, float *c, int64_t ldc, const Epi *e, int64_t row0, int64_t col0)
{
#if defined(RT_VEC)
    if (!ta) {   /* A's rows contiguous: dot products, NR rows of C at a time */
        const float *bt = b;
        int64_t ldbt = ldb;
        float *part = pack_space((size_t)(((tb ? 0 : n * k) + 15) / 16 * 16 + NR * TC_N * VL));
        if (!part) return -1;
        if (!tb) {   /* bt = op(B)^T, n x k */
            float *t = part;
            int64_t p = 0;
            for (; p + VL <= k; p += VL)   /* VL rows of B transposed in registers */
                for (int64_t i0 = 0; i0 < n; i0 += VL) {
                    Vm mn = vm_lanes(n - i0);
                    Vf r[VL];
                    for (int q = 0; q < VL; q++) r[q] = vf_load(mn, b + (p + q) * ldb + i0);
                    vf_transpose(r);
                    for (int64_t i = i0; i < n && i < i0 + VL; i++) vf_storeu(t + i * k + p, r[i - i0]);
                }
            for (; p < k; p++)
                for (int64_t i = 0; i < n; i++) t[i * k + p] = b[p * ldb + i];
            bt = t;
            ldbt = k;
            part += (n * k + 15) / 16 * 16;
        }
        for (int64_t j = 0; j < m; j += NR) {
            int64_t rows = m - j < NR ? m - j : NR;
            dot_thin(rows, (int)n, k, a + j * lda, lda, bt, ldbt, part, c + j * ldc, ldc, alpha, beta);
            epi_run(e, row0 + j, row0 + j + rows, col0, col0 + n);
        }
        return 0;
    }
#endif
    int64_t kc_max = ceil_div(k, ceil_div(k, TC_KC));
    int64_t npad = ceil_div(n, MR) * MR;
    int64_t a_floats = (k * npad + 15) & ~(int64_t)15;   /* pb 64-byte aligned */
    float *pa = pack_space((size_t)(a_floats + kc_max * NR));
    if (!pa) return -1;
    float *pb = pa + a_floats;
    _Alignas(64) float tile[TC_ROWS > 0 ? TC_ROWS * NR : 1];
    int direct = IN_PLACE && ta;    /* op(A)^T's rows are A's rows: read in place */
    for (int64_t pc = 0; pc < k; pc += kc_max) {
        int64_t kc = k - pc < kc_max ? k - pc : kc_max;
        pack_a(!tb, b, ldb, NULL, 0, n, pc, kc, pa + pc * npad);
    }
    for (int64_t jr = 0; jr < m; jr += NR) {          /* NR rows of C */
        int nr = m - jr < NR ? (int)(m - jr) : NR;
        for (int64_t pc = 0; pc < k; pc += kc_max) {
            int64_t kc = k - pc < kc_max ? k - pc : kc_max;
            const float *bp = pb;
            int64_t ldpb = NR;
            if (direct) { bp = a + pc * lda + jr; ldpb = lda; }
            else pack_b(!ta, a, lda, pc, kc, jr, nr, NR, pb);
            for (int64_t ir = 0; ir < n; ir += MR) {
                int mr = n - ir < MR ? (int)(n - ir) : MR;
                kernel_b(kc, pa + pc * npad + ir * kc, MR, 0, bp, ldpb, tile + ir * NR, NR, mr, nr, alpha,
                         pc == 0 ? 0.0f : 1.0f);
            }
        }
#if defined(__AVX512F__)
        /* the tile's columns are C's rows: VL x VL blocks transposed in registers, each
         * row of C stored under a mask of its n lanes (one float at a time, this copy was
         * a third of a 10-class layer's weight gradient, 5408 x 10 x 64; kept so on AVX2,
         * whose masked stores are slow on AMD) */
        for (int64_t i0 = 0; i0 < n; i0 += VL) {
            Vm mi = vm_lanes(n - i0);
            for (int j0 = 0; j0 < nr; j0 += VL) {
                Vf r[VL];
                for (int q = 0; q < VL; q++) r[q] = i0 + q < n ? vf_loadu(tile + (i0 + q) * NR + j0) : vf_zero();
                vf_transpose(r);
                for (int q = 0; q < VL && j0 + q < nr; q++) {
                    float *cr = c + (jr + j0 + q) * ldc + i0;
                    vf_store(cr, mi, beta == 0.0f ? r[q] : vf_fma(vf_set1(beta), vf_load(mi, cr), r[q]));
                }
            }
        }
#else
        for (int j = 0; j < nr; j++) {
            float *cr = c + (jr + j) * ldc;
            if (beta == 0.0f)
                for (int64_t i = 0; i < n; i++) cr[i] = tile[i * NR + j];
            else
                for (int64_t i = 0; i < n; i++) cr[i] = fmaf(beta, cr[i], tile[i * NR + j]);
        }
#endif
        epi_run(e, row0 + jr, row0 + jr + nr, col0, col0 + n);
    }
    return 0;
}

#if defined(RT_VEC)
/* One row of C with N <= 16 columns when B is N contiguous columns (ldb == N) and the
 * row of A is contiguous: VL values of k cover VL N floats of B, N whole vectors, each
 * multiplied by the A values its lanes belong to (lane l of vector t is B's element
 * VL t + l: row (VL t + l) / N, column (VL t + l) % N), gathered from VL A values by
 * one permute. No masked lanes and no broadcasts: a batch-1 classifier layer (5408 x 10)
 * 2.7 -> 0.7 us (AVX-512), 23.9 -> 4.1 us on Zen 3's AVX2 (from the plain loop). The
 * lanes are summed per column in a fixed order at the end. */
static inline __attribute__((always_inline))
void flat_row(const int N, int64_t k, const float *ar, const float *b, float *cr, float alpha, float beta)
{
    Vi idx[16];
    Vf acc[16];
    #pragma GCC unroll 16
    for (int t = 0; t < N; t++) {
        int lane[VL];
        for (int l = 0; l < VL; l++) lane[l] = (VL * t + l) / N;
        idx[t] = vi_loadu(lane);
        acc[t] = vf_zero();
    }
    int64_t p = 0;
    for (; p + VL <= k; p += VL) {
        Vf av = vf_loadu(ar + p);
        const float *bp = b + p * N;
        #pragma GCC unroll 16
        for (int t = 0; t < N; t++) acc[t] = vf_fma(vf_permute(idx[t], av), vf_loadu(bp + VL * t), acc[t]);
    }
    float lanes[VL * 16], out[16];
    #pragma GCC unroll 16
    for (int t = 0; t < N; t++) vf_storeu(lanes + VL * t, acc[t]);
    for (int j = 0; j < N; j++) {
        float sum = 0.0f;
        for (int q = j; q < VL * N; q += N) sum += lanes[q];
        out[j] = sum;
    }
    for (; p < k; p++)   /* the last few values of k */
        for (int j = 0; j < N; j++) out[j] = fmaf(ar[p], b[p * N + j], out[j]);
    for (int j = 0; j < N; j++) cr[j] = beta != 0.0f ? fmaf(beta, cr[j], alpha * out[j]) : alpha * out[j];
}

static void flat_rows(int n, int64_t i0, int64_t i1, int64_t k, const float *a, int64_t lda,
                      const float *b, float *c, int64_t ldc, float alpha, float beta)
{
    for (int64_t i = i0; i < i1; i++) {
        const float *ar = a + i * lda;
        float *cr = c + i * ldc;
        switch (n) {
        #define N_CASE(nn) case nn: flat_row(nn, k, ar, b, cr, alpha, beta); break;
        N_CASE(1) N_CASE(2) N_CASE(3) N_CASE(4) N_CASE(5) N_CASE(6) N_CASE(7) N_CASE(8)
        N_CASE(9) N_CASE(10) N_CASE(11) N_CASE(12) N_CASE(13) N_CASE(14) N_CASE(15) N_CASE(16)
        #undef N_CASE
        }
    }
}
#endif

/* The simple path for C[i0:i1, j0:j1]: thin shapes, tiny products, and the fallback when
 * pack buffers cannot be allocated. */
static void gemm_simple(int ta, int tb, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                        int64_t k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c, int64_t ldc, int thin)
{
    /* thin: the whole product has at most 16 columns and B is not transposed (decided on
     * the whole product, not a thread's share, so the order of the sums never depends on
     * the thread count) */
    (void)thin;
    enum { JB = 256, L = 8 };
    float acc[JB];
#if defined(RT_VEC)
    if (thin && !ta && j0 == 0 && ldb == j1 && k >= 64) {
        flat_rows((int)j1, i0, i1, k, a, lda, b, c, ldc, alpha, beta);
        return;
    }
#endif
#if defined(__AVX512F__)
    if (thin) {
        /* C rows of at most 16 (a classifier's 10 outputs at batch 1): one masked vector
         * per row of B, four partial sums over p (p mod 4) added in a fixed order */
        __mmask16 mask = (__mmask16)((1u << (j1 - j0)) - 1);
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
        for (int64_t i = i0; i < i1; i++) {
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            int64_t p = 0;
            #define AIP(p) _mm512_set1_ps(ta ? a[(p) * lda + i] : a[i * lda + (p)])
            #define BROW(p) _mm512_maskz_loadu_ps(mask, b + (p) * ldb + j0)
            for (; p + 4 <= k; p += 4) {
                s0 = _mm512_fmadd_ps(AIP(p), BROW(p), s0);
                s1 = _mm512_fmadd_ps(AIP(p + 1), BROW(p + 1), s1);
                s2 = _mm512_fmadd_ps(AIP(p + 2), BROW(p + 2), s2);
                s3 = _mm512_fmadd_ps(AIP(p + 3), BROW(p + 3), s3);
            }
            for (; p < k; p++) s0 = _mm512_fmadd_ps(AIP(p), BROW(p), s0);
            #undef AIP
            #undef BROW
            __m512 r = _mm512_mul_ps(va, _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
            float *cr = c + i * ldc + j0;
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask, cr), r);
            _mm512_mask_storeu_ps(cr, mask, r);
        }
        return;
    }
#endif
#if defined(RT_VEC)
    if (!tb) {
        /* a few rows (batch-1 inference), bound by reading B: B streams past row after
         * row as it lies in memory, ROWS_AT_ONCE rows a pass, into a row of sums (up to
         * SUMS columns) kept in L1. Each column's sum takes its k terms in order from
         * zero, as the register-blocked loop did, so C is the same bits. Reading 128
         * columns of every row at a time (512 bytes of each 2 KB row) the prefetchers
         * kept ahead of less: MLP 784-512-512-10 batch-1, one thread, 76-78 -> 67-69 us
         * (AVX-512); on Zen 3's AVX2, where the plain loop below ran, 66 -> 40 us. */
        enum { SUMS = 1024, ROWS_AT_ONCE = 8 };
        float sums[SUMS] __attribute__((aligned(64)));
        Vf va = vf_set1(alpha), vb = vf_set1(beta);
        for (int64_t i = i0; i < i1; i++) {
            const float *ar = ta ? a + i : a + i * lda;
            int64_t as = ta ? lda : 1;
            float *cr = c + i * ldc;
            for (int64_t jb = j0; jb < j1; jb += SUMS) {
                int64_t nb = j1 - jb < SUMS ? j1 - jb : SUMS, full = nb & ~(int64_t)(VL - 1);
                Vm tail = vm_lanes(nb - full);
                for (int64_t j = 0; j < nb; j += VL) vf_storeu(sums + j, vf_zero());
                int64_t p = 0;
                for (; p + ROWS_AT_ONCE <= k; p += ROWS_AT_ONCE) {
                    Vf av[ROWS_AT_ONCE];
                    #pragma GCC unroll 8
                    for (int r = 0; r < ROWS_AT_ONCE; r++) av[r] = vf_set1(ar[(p + r) * as]);
                    const float *br = b + p * ldb + jb;
                    int64_t j = 0;
                    for (; j < full; j += VL) {
                        Vf s = vf_loadu(sums + j);
                        #pragma GCC unroll 8
                        for (int r = 0; r < ROWS_AT_ONCE; r++) s = vf_fma(av[r], vf_loadu(br + r * ldb + j), s);
                        vf_storeu(sums + j, s);
                    }
                    if (j < nb) {
                        Vf s = vf_loadu(sums + j);
                        #pragma GCC unroll 8
                        for (int r = 0; r < ROWS_AT_ONCE; r++) s = vf_fma(av[r], vf_load(tail, br + r * ldb + j), s);
                        vf_storeu(sums + j, s);
                    }
                }
                for (; p < k; p++) {
                    Vf av = vf_set1(ar[p * as]);
                    const float *br = b + p * ldb + jb;
                    for (int64_t j = 0; j < nb; j += VL) {
                        Vf bv = j < full ? vf_loadu(br + j) : vf_load(tail, br + j);
                        vf_storeu(sums + j, vf_fma(av, bv, vf_loadu(sums + j)));
                    }
                }
                for (int64_t j = 0; j < nb; j += VL) {
                    Vf r = vf_mul(va, vf_loadu(sums + j));
                    float *cj = cr + jb + j;
                    if (j < full) {
                        if (beta != 0.0f) r = vf_fma(vb, vf_loadu(cj), r);
                        vf_storeu(cj, r);
                    } else {
                        if (beta != 0.0f) r = vf_fma(vb, vf_load(tail, cj), r);
                        vf_store(cj, tail, r);
                    }
                }
            }
        }
        return;
    }
#endif
    for (int64_t i = i0; i < i1; i++) {
        for (int64_t jb = j0; jb < j1; jb += JB) {
            int nb = j1 - jb < JB ? (int)(j1 - jb) : JB;
            if (!tb) {           /* acc[j] += A(i, p) * B(p, j), rows of B contiguous */
                for (int j = 0; j < nb; j++) acc[j] = 0.0f;
                for (int64_t p = 0; p < k; p++) {
                    float aip = ta ? a[p * lda + i] : a[i * lda + p];
                    const float *br = b + p * ldb + jb;
                    for (int j = 0; j < nb; j++) acc[j] += aip * br[j];
                }
            } else {             /* dot products along k, L fixed partial sums */
                for (int j = 0; j < nb; j++) {
                    const float *bc = b + (jb + j) * ldb;
                    float s[L] = {0};
                    int64_t p = 0;
                    if (!ta) {
                        const float *ar = a + i * lda;
                        for (; p + L <= k; p += L)
                            for (int l = 0; l < L; l++) s[l] += ar[p + l] * bc[p + l];
                    }
                    for (; p < k; p++) s[0] += (ta ? a[p * lda + i] : a[i * lda + p]) * bc[p];
                    acc[j] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
                }
            }
            float *cr = c + i * ldc + jb;
            if (beta == 0.0f)
                for (int j = 0; j < nb; j++) cr[j] = alpha * acc[j];
            else
                for (int j = 0; j < nb; j++) cr[j] = alpha * acc[j] + beta * cr[j];
        }
    }
}

/* gemm_simple's plain loop for an A read through a row map (nnl_sgemm_rows): the
 * product's fallback where pack buffers cannot be allocated, and tiny products. */
static void gemm_mapped(int ta, int tb, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t k, float alpha,
                        const float *a, int64_t lda, const int32_t *arow, const float *b, int64_t ldb,
                        float beta, float *c, int64_t ldc)
{
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < k; p++)
                acc += (ta ? a_row(a, lda, arow, p)[i] : a_row(a, lda, arow, i)[p]) *
                       (tb ? b[j * ldb + p] : b[p * ldb + j]);
            float *cij = c + i * ldc + j;
            *cij = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cij;
        }
}

static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

/* Where row i0 of op(A) and column j0 of op(B) start. */
static const float *ta_offset(int ta, const float *a, int64_t lda, int64_t i0)
{
    return ta ? a + i0 : a + i0 * lda;
}

static const float *tb_offset(int tb, const float *b, int64_t ldb, int64_t j0)
{
    return tb ? b + j0 * ldb : b + j0;
}

/* C = alpha op(A) op(B) + beta C on this thread alone; simple, tc and thin as gemm_run
 * decided them for the whole product. */
static void gemm_serial(int simple, int tc, int thin, int trans_a, int trans_b, int64_t m, int64_t n,
                        int64_t k, float alpha, const float *a, int64_t lda, const int32_t *arow,
                        const float *b, int64_t ldb, float beta, float *c, int64_t ldc, const Epi *e, int tri,
                        const float *kb, int64_t kb_npad)
{
    if (simple || (tc ? gemm_packed_t(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, e, 0, 0)
                      : gemm_packed(trans_a, trans_b, m, n, k, alpha, a, lda, arow, b, ldb, beta, c, ldc, e, 0, 0,
                                    tri, kb, kb_npad)) < 0) {
        if (arow) gemm_mapped(trans_a, trans_b, 0, m, 0, n, k, alpha, a, lda, arow, b, ldb, beta, c, ldc);
        else gemm_simple(trans_a, trans_b, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc, thin);
        epi_run(e, 0, m, 0, n);
    }
}

/* C's rows [r0, r1) += the partial product's (n columns, contiguous): one flat loop where
 * C's rows are contiguous too (a 10-class layer's weight gradient, 5408 x 10: row by row
 * its 10 columns were a vector and a masked or scalar tail, 17% of the product). */
static void add_part(float *c, int64_t ldc, const float *part, int64_t n, int64_t r0, int64_t r1)
{
    if (ldc == n) {
        float *restrict cf = c + r0 * n;
        const float *restrict pf = part + r0 * n;
        for (int64_t i = 0; i < (r1 - r0) * n; i++) cf[i] += pf[i];
        return;
    }
    for (int64_t i = r0; i < r1; i++)
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] += part[i * n + j];
}

/* A weight gradient C = alpha A^T B + beta C whose k is the batch, as two halves of k on
 * any thread count (so that C does not depend on it): the first half multiplied into C,
 * the second into a partial product added after. With two threads or more each half has
 * its own threads, which split its C by rows: thread t then reads the batch rows it
 * wrote in the kernels before. Split along C instead, each thread would read half its A
 * from the other core and leave A's lines in both caches, so that the next kernel writing
 * them waits on invalidations (see PERFORMANCE.md's findings). */
static void gemm_split_k(int simple, int tc, int thin, int64_t m, int64_t n, int64_t k, float alpha,
                         const float *a, int64_t lda, const int32_t *arow, const float *b, int64_t ldb,
                         float beta, float *c, int64_t ldc, const Epi *e, int nt, float *part)
{
    int64_t kh = k / 2;
    /* A's rows from kh on (A is transposed: its rows are along k) */
    const float *a2 = arow ? a : a + kh * lda;
    const int32_t *arow2 = arow ? arow + kh : NULL;
    if (nt <= 1) {
        gemm_serial(simple, tc, thin, 1, 0, m, n, kh, alpha, a, lda, arow, b, ldb, beta, c, ldc, NULL,
                    NNL_TRI_NONE, NULL, 0);
        gemm_serial(simple, tc, thin, 1, 0, m, n, k - kh, alpha, a2, lda, arow2, b + kh * ldb, ldb,
                    0.0f, part, n, NULL, NNL_TRI_NONE, NULL, 0);
        add_part(c, ldc, part, n, 0, m);
        epi_run(e, 0, m, 0, n);
        return;
    }
    int64_t unit = tc ? NR : 1;   /* the rows of C^T a tc product's threads take */
    #pragma omp parallel num_threads(rt_threads())
    {
        int t = omp_get_thread_num(), parts = omp_get_num_threads() < nt ? omp_get_num_threads() : nt;
        int half = parts / 2, g = t >= half, gsize = g ? parts - half : half;
        int64_t lo, hi, r0, r1;
        if (parts < 2) {   /* OpenMP gave one thread: the serial order above */
            if (t == 0)
                gemm_split_k(simple, tc, thin, m, n, k, alpha, a, lda, arow, b, ldb, beta, c, ldc, e, 1, part);
        } else {
            if (t < parts) {
                rt_chunk(ceil_div(m, unit), gsize, t - (g ? half : 0), &lo, &hi);
                int64_t i0 = lo * unit, i1 = hi * unit < m ? hi * unit : m, k0 = g ? kh : 0;
                if (i0 < i1)
                    gemm_serial(simple, tc, thin, 1, 0, i1 - i0, n, g ? k - kh : kh, alpha,
                                (g ? a2 : a) + i0, lda, g ? arow2 : arow, b + k0 * ldb, ldb, g ? 0.0f : beta,
                                g ? part + i0 * n : c + i0 * ldc, g ? n : ldc, NULL, NNL_TRI_NONE, NULL, 0);
            }
            #pragma omp barrier
            rt_share(m, nt, &r0, &r1);
            add_part(c, ldc, part, n, r0, r1);
            epi_run(e, r0, r1, 0, n);
        }
    }
}

/* ---- B packed once for many products (nnl_sgemm_kept) ----
 * An RNN multiplies its recurrent weight (or the transposed copy its backward reads) at
 * every step: 64 products of 32 x 512 x 128 in the LSTM's forward, as many in its
 * backward, each of which packed all of B again (on two threads each thread all of it).
 * A B the compiler names by a key (nonzero; the same value at every product that names
 * it until the parameters next change) is packed once into a buffer kept for it, in
 * gemm_packed's layout over all of B's columns, and the products read it there. Entries
 * are per calling thread and hold while kept_epoch stands: nnl_params_changed moves it on
 * at an entry point's run (unless the model's parameters are settled since its last run:
 * rt_run) and after each optimizer update, so a packed copy never outlives the values it
 * was made from; a forward that only inference runs keeps its weights so from call to
 * call. On Zen 3 (AVX2, which packs these B) the LSTM step's per-step products 8.3 ->
 * 6.8 ms a step on one thread, 6.5 -> 4.3 on two (--profile); AVX-512 reads a B this
 * size in place, as before. */
enum { KEPT_SLOTS = 32, KEPT_MAX_FLOATS = 1 << 24 };   /* 64 MB a thread at most */
typedef struct Kept {
    const float *b;
    int64_t key, ldb, k, n;
    int tb;
    uint64_t epoch;
    RtScratch buf;
} Kept;
static __thread Kept kept[KEPT_SLOTS];
static uint64_t kept_epoch = 1;   /* one for all threads: a change anywhere drops them all */

void nnl_params_changed(void) { __atomic_add_fetch(&kept_epoch, 1, __ATOMIC_RELAXED); }

/* op(B) (k x n) packed whole for key, packing it if this epoch has not; NULL where no
 * slot is free (the product then packs as it always does). No allocation once a key has
 * a slot: a slot is refilled only by a B that fits it. */
static const float *kept_b(int64_t key, int tb, const float *b, int64_t ldb, int64_t k, int64_t n,
                           int64_t *npad)
{
    uint64_t epoch = __atomic_load_n(&kept_epoch, __ATOMIC_RELAXED);
    Kept *s = NULL;
    for (int i = 0; i < KEPT_SLOTS && !s; i++) {
        Kept *q = &kept[i];
        if (q->key == key && q->b == b && q->ldb == ldb && q->k == k && q->n == n && q->tb == tb) s = q;
    }
    *npad = ceil_div(n, NR) * NR;
    if (s && s->epoch == epoch) return s->buf.p;
    for (int i = 0; i < KEPT_SLOTS && !s; i++)   /* a free slot, else a stale one as large */
        if (!kept[i].key) s = &kept[i];
    for (int i = 0; i < KEPT_SLOTS && !s; i++)
        if (kept[i].epoch != epoch && kept[i].buf.cap >= (size_t)(k * *npad)) s = &kept[i];
    if (!s) return NULL;
    size_t held = 0;
    for (int i = 0; i < KEPT_SLOTS; i++) held += kept[i].buf.cap;
    if (s->buf.cap < (size_t)(k * *npad) && held - s->buf.cap + (size_t)(k * *npad) > KEPT_MAX_FLOATS) return NULL;
    float *p = rt_scratch(&s->buf, (size_t)(k * *npad));
    if (!p) return NULL;
    int64_t kc_max = ceil_div(k, ceil_div(k, KC));   /* gemm_packed's blocks of k */
    for (int64_t pc = 0; pc < k; pc += kc_max) {
        int64_t kc = k - pc < kc_max ? k - pc : kc_max;
        pack_b(tb, b, ldb, pc, kc, 0, n, NR, p + pc * *npad);
    }
    *s = (Kept){b, key, ldb, k, n, tb, epoch, s->buf};
    return p;
}

/* Floats of a B from which gemm_run splits a plain product by columns: WIDE_B (half of
 * the 1 MB L2 of the AMD EPYC where it was measured) or, on AVX-512, this CPU's L2 where
 * that is larger. On the Xeon with 2 MB of L2 a core, the MLP's 128x512x784 and
 * 128x512x512 ran faster split by rows, each thread packing all of B from its own L2:
 * two threads, gemm_bench 303-310 -> 329 GFLOP/s (cold: 244 -> 293), and in the MLP's
 * step (--profile) 445 -> 367 us and 302 -> 253 us, the step 1,797 -> 1,677 us. On AVX2
 * (Zen 3, L2 512 KB) as measured there: WIDE_B, or WIDE_B_PACKED for a B each call packs. */
static int64_t wide_b(int packed)
{
#if defined(__AVX512F__)
    static int64_t l2_floats;   /* 0: not read yet */
    int64_t f = __atomic_load_n(&l2_floats, __ATOMIC_RELAXED);
    if (!f) {
        long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        f = l2 > 0 ? l2 / (long)sizeof(float) : 1;
        __atomic_store_n(&l2_floats, f, __ATOMIC_RELAXED);
    }
    (void)packed;
    return f > WIDE_B ? f : WIDE_B;
#else
    return packed ? WIDE_B_PACKED : WIDE_B;
#endif
}

/* nnl_sgemm with an epilogue (e may be NULL): e runs over every block of C that a thread
 * finished, on that thread. key: B's key for kept_b, or 0. */
static void gemm_run(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const int32_t *arow, const float *b, int64_t ldb,
                     float beta, float *c, int64_t ldc, const Epi *e, int tri, int64_t key)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        epi_run(e, 0, m, 0, n);
        return;
    }
    double flops = 2.0 * m * n * k;
    int simple = m < 16 || n < 4 || flops < 2.0 * 32 * 32 * 32;
    int thin = !trans_b && n <= 16;
    int tc = !simple && !arow && n <= TC_N && m >= NR;   /* decided on the whole product */
    /* two threads are worth it above ~6 us of work, estimated at 150 GFLOP/s, plus B
     * streamed at 60 GB/s for a few rows (a batch-1 layer is bound by reading its
     * weights); a thread more for each 3 us more. An empty region of two threads takes
     * only 0.7 us (Zen 3 VM, 2026-12-07), but a product split between two cores costs
     * more than that: with the threshold at 3 us the text LSTM's batch-1 forward (its
     * per-step products, ~5 us each) took 350-525 us against 390-400. */
    double est_us = flops / 150e3 + (m < 16 ? 4.0 * (double)k * n / 60e3 : 0.0);
    int nt = rt_threads_for(est_us, 6.0, INT64_MAX);
    /* a weight gradient over the batch whose C is small beside its operands: split k */
    float *part;
    if (trans_a && !trans_b && 2 * n < k && k >= 16 && m * n <= SPLIT_K_MAX &&
        (part = rt_scratch(&split_scratch, (size_t)(m * n)))) {
        if (nt > m) nt = (int)m;
        gemm_split_k(simple, tc, thin, m, n, k, alpha, a, lda, arow, b, ldb, beta, c, ldc, e, nt, part);
        return;
    }
    /* split C into whole microtiles (or 16-column strips): by rows when every thread gets
     * two row tiles or more, so that a thread's rows are the batch rows it wrote and will
     * read in the kernels around (every kernel splits the batch the same way, and data
     * another core wrote costs up to 3x to read), else along the longer side. A plain
     * product whose B is wider than A is tall and takes half an L2 or more (a layer's
     * weights beside a smaller batch) is split by columns too: split by rows, every
     * thread would pack all of B, streamed from L3 (MLP 128x512x784 on two threads: 177
     * -> 262 GFLOP/s, bench/gemm_bench.c). Smaller B stay split by rows: char GPT's
     * batch-1 forward, 64x384x128 and the like, took 15% longer split by columns
     * (AVX-512, which reads a B that size in place). On AVX-512 the line is this CPU's L2
     * where that is larger than WIDE_B (wide_b). On AVX2, with half of Zen 3's L2
     * (WIDE_B_PACKED) and B packed by the call (not kept, not in place): 32x512x128 on
     * two threads 103.8-105.7 -> 115.8-116.9 GFLOP/s (oneDNN 109-123), char GPT's
     * batch-1 forward the same.
     * A product with an epilogue stays split by rows down to EPI_ROWS rows a thread:
     * split by columns, its epilogue ran a call per row of each thread's block, and the
     * loop's values came out split by columns between the cores where the next kernels
     * read them by rows (the LSTM's per-step products, 32 rows: its step on two threads
     * 2,315-2,395 -> 2,670-2,693 samples/s). */
    int64_t unit_m = simple ? 1 : tc ? NR : MR, unit_n = simple ? 16 : NR;
    int b_in_place = IN_PLACE && !trans_b && (m <= DIRECT_B_ROWS || k * n <= DIRECT_B_FLOATS);
    int wide = !trans_a && !trans_b && n > m && k * n >= wide_b(!key && !b_in_place);
    /* a transposed B times a k of a few classes (a 10-class layer's input gradient,
     * 64 x 5408 x 10): transposing B into panels costs as much as the multiplications,
     * and split by rows each thread packed all of it. Split by columns, the MNIST CNN's
     * on two threads 55-61 -> 48-49 us (Xeon AVX-512, --profile). */
    int tiny_k = trans_b && k <= TINY_K;
    int split_n = (m / unit_m < 2 * nt || wide || tiny_k) && n / unit_n >= m / unit_m;
    if (split_n && e && !wide && m >= EPI_ROWS * nt) split_n = 0;
    int64_t units = split_n ? ceil_div(n, unit_n) : ceil_div(m, unit_m);
    if (nt > units) nt = (int)units;
    /* rows: exactly the batch rows the elementwise kernels give each thread (the flat
     * index split evenly), not whole microtiles: a panel of r < MR rows costs r rows */
    if (!split_n && !simple && !tc) {
        units = m;
        unit_m = 1;
    }
    /* B packed once (kept_b) where gemm_packed would pack it: not read in place (AVX-512
     * reads B in place for a few rows), all panels NR wide */
    const float *kb = NULL;
    int64_t kb_npad = 0;
    if (key && !simple && !tc && tri == NNL_TRI_NONE && n > NR_THIN && !b_in_place)
        kb = kept_b(key, trans_b, b, ldb, k, n, &kb_npad);
    if (nt == 1) {   /* no OpenMP region at all: its fixed cost is a batch-1 layer's time */
        gemm_serial(simple, tc, thin, trans_a, trans_b, m, n, k, alpha, a, lda, arow, b, ldb, beta, c, ldc, e,
                    tri, kb, kb_npad);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi, i0 = 0, i1 = m, j0 = 0, j1 = n;
        rt_share(units, nt, &lo, &hi);
        if (split_n) { j0 = lo * unit_n; j1 = hi * unit_n < n ? hi * unit_n : n; }
        else         { i0 = lo * unit_m; i1 = hi * unit_m < m ? hi * unit_m : m; }
        if (i0 < i1 && j0 < j1) {
            /* a row map moves instead of A where op(A)'s rows are A's */
            const float *ap = arow && !trans_a ? a : ta_offset(trans_a, a, lda, i0);
            const int32_t *arp = arow && !trans_a ? arow + i0 : arow;
            const float *bp = tb_offset(trans_b, b, ldb, j0);
            float *cp = c + i0 * ldc + j0;
            if (simple || (tc ? gemm_packed_t(trans_a, trans_b, i1 - i0, j1 - j0, k, alpha, ap, lda, bp, ldb,
                                              beta, cp, ldc, e, i0, j0)
                              : gemm_packed(trans_a, trans_b, i1 - i0, j1 - j0, k, alpha, ap, lda, arp, bp, ldb,
                                            beta, cp, ldc, e, i0, j0, tri, kb, kb_npad)) < 0) {
                if (arp)
                    gemm_mapped(trans_a, trans_b, 0, i1 - i0, 0, j1 - j0, k, alpha, ap, lda, arp, bp, ldb, beta,
                                cp, ldc);
                else
                    gemm_simple(trans_a, trans_b, 0, i1 - i0, 0, j1 - j0, k, alpha, ap, lda,
                                bp, ldb, beta, cp, ldc, thin);
                epi_run(e, i0, i1, j0, j1);
            }
        }
    }
}

void nnl_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
               float *c, int64_t ldc)
{
    gemm_run(trans_a, trans_b, m, n, k, alpha, a, lda, NULL, b, ldb, beta, c, ldc, NULL, NNL_TRI_NONE, 0);
}

void nnl_sgemm_rows(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const int32_t *arow, const float *b, int64_t ldb,
                    float beta, float *c, NnlKernelFn ep, const NnlCtx *ep_ctx)
{
    Epi e = {ep, ep_ctx, 0, n};
    gemm_run(trans_a, trans_b, m, n, k, alpha, a, lda, arow, b, ldb, beta, c, n, ep ? &e : NULL, NNL_TRI_NONE, 0);
}

void nnl_sgemm_ep(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                  float *c, NnlKernelFn ep, const NnlCtx *ep_ctx)
{
    Epi e = {ep, ep_ctx, 0, n};
    gemm_run(trans_a, trans_b, m, n, k, alpha, a, lda, NULL, b, ldb, beta, c, n, ep ? &e : NULL, NNL_TRI_NONE, 0);
}

void nnl_sgemm_kept(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                    float *c, int64_t ldc, NnlKernelFn ep, const NnlCtx *ep_ctx, int64_t key)
{
    Epi e = {ep, ep_ctx, 0, n};
    gemm_run(trans_a, trans_b, m, n, k, alpha, a, lda, NULL, b, ldb, beta, c, ldc, ep ? &e : NULL, NNL_TRI_NONE,
             key);
}

/* rows of len floats, ld apart, asked for into L2, where they are few (at most 64 KB:
 * a larger operand would push the current one out) */
static void prefetch_rows(const float *p, int64_t ld, int64_t rows, int64_t len)
{
    if (rows * len > 1 << 14) return;
    for (int64_t r = 0; r < rows; r++, p += ld)
        for (int64_t j = 0; j < len; j += 16) __builtin_prefetch(p + j, 0, 2);
}

/* Matrix i = o inner + j of `batch` (a multiple of inner) at A + o sa + j sa_i (and so
 * for B, C): attention's heads read in place from the tensor of all heads (compiler/
 * views.c). */
static void batched(int trans_a, int trans_b, int64_t batch, int64_t inner, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, int64_t sa, int64_t sa_i, const float *b, int64_t ldb,
                    int64_t sb, int64_t sb_i, float *c, int64_t ldc, int64_t sc, int64_t sc_i,
                    NnlKernelFn ep, const NnlCtx *ep_ctx, int tri)
{
    /* matrix i's epilogue starts at flat index i m n (C contiguous: ldc == n) */
    #define AT(p, s, s_i, i) ((p) + ((i) / inner) * (s) + ((i) % inner) * (s_i))
    #define ONE(i) do {                                                                    \
        Epi e = {ep, ep_ctx, (i) * m * n, n};                                              \
        gemm_run(trans_a, trans_b, m, n, k, 1.0f, AT(a, sa, sa_i, i), lda, NULL, AT(b, sb, sb_i, i), ldb, \
                 0.0f, AT(c, sc, sc_i, i), ldc, ep ? &e : NULL, tri, 0);                   \
    } while (0)
    /* one matrix: gemm_run splits it; little work (~6 us, as gemm_run) or one thread:
     * the matrices in turn, with no OpenMP region (~1 us even for one thread) */
    /* the next matrix's operands asked into L2 before this one: attention's per-head
     * slices are rows 1.5 KB apart in the projections (views.c), which the prefetchers do
     * not fetch ahead, and each product (64 x 32 x 64) is ~1.5 us of work against an L3
     * latency per row. char GPT's attention products 10.4-10.7 -> 9.1-9.7 ms a step
     * (one thread, --profile) */
    #define NEXT(i) do {                                                                   \
        prefetch_rows(AT(a, sa, sa_i, i), lda, trans_a ? k : m, trans_a ? m : k);          \
        prefetch_rows(AT(b, sb, sb_i, i), ldb, trans_b ? n : k, trans_b ? k : n);          \
    } while (0)
    int nt = batch == 1 ? 1 : rt_threads_for(2.0 * m * n * k * batch, 1e6, batch);
    if (nt <= 1) {
        for (int64_t i = 0; i < batch; i++) {
            if (i + 1 < batch) NEXT(i + 1);
            ONE(i);
        }
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(batch, nt, &lo, &hi);
        for (int64_t i = lo; i < hi; i++) {   /* inside the region: each one serial */
            if (i + 1 < hi) NEXT(i + 1);
            ONE(i);
        }
    }
    #undef NEXT
    #undef ONE
    #undef AT
}

void nnl_sgemm_batched(int trans_a, int trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                       const float *a, int64_t lda, int64_t sa, const float *b, int64_t ldb,
                       int64_t sb, float *c, int64_t ldc, int64_t sc, int tri)
{
    batched(trans_a, trans_b, batch, 1, m, n, k, a, lda, sa, 0, b, ldb, sb, 0, c, ldc, sc, 0, NULL, NULL, tri);
}

void nnl_sgemm_batched_ep(int trans_a, int trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                          const float *a, int64_t lda, int64_t sa, const float *b, int64_t ldb,
                          int64_t sb, float *c, NnlKernelFn ep, const NnlCtx *ep_ctx, int tri)
{
    batched(trans_a, trans_b, batch, 1, m, n, k, a, lda, sa, 0, b, ldb, sb, 0, c, n, m * n, 0, ep, ep_ctx, tri);
}

void nnl_sgemm_batched_v(int trans_a, int trans_b, int64_t outer, int64_t inner, int64_t m, int64_t n,
                         int64_t k, const float *a, int64_t lda, int64_t sa, int64_t sa_i, const float *b,
                         int64_t ldb, int64_t sb, int64_t sb_i, float *c, int64_t ldc, int64_t sc,
                         int64_t sc_i, NnlKernelFn ep, const NnlCtx *ep_ctx, int tri)
{
    batched(trans_a, trans_b, outer * inner, inner, m, n, k, a, lda, sa, sa_i, b, ldb, sb, sb_i, c, ldc, sc,
            sc_i, ep, ep_ctx, tri);
}
