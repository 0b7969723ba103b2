/* kernels.c — the small kernels generated code calls: row softmax and log-softmax, a
 * deterministic sum over one axis, and pick/unpick (the gather behind cross-entropy with
 * class-index labels). In: row-major float tensors. Out: the same. Rows or outputs are
 * split between threads when the work is large; no result depends on the split. */
#include <math.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif
#include <omp.h>
#include <string.h>

#include "rt_internal.h"

/* Elements below which a region costs more than it saves. An empty region of two
 * threads costs ~0.7 us here and a barrier ~0.3 us (2026-12-06, Intel, libgomp spinning);
 * at 1 << 15 char GPT's batch-1 softmax (4 x 64 x 64, 12 us on one thread) and layer
 * norms (64 x 128, 3.3 us) stayed serial: at 1 << 13 its batch-1 forward on two threads
 * 692-706 -> 655-668 us. */
enum { PAR_MIN = 1 << 13 };

static int threads_for(int64_t work, int64_t units)
{
    return rt_threads_for((double)work, PAR_MIN, units);
}

/* Sums over the batch rows: in fixed blocks of SUM_BLOCK rows on any thread count (so
 * that the sums do not depend on it), each block's rows added in order into a partial row
 * (its first row copied), then the partials added in block order. reduce_rows sums so,
 * and layer norm's adjoint adds the rows it makes into the same partials as it goes. */
enum { SUM_BLOCK = 64 };

static int64_t ceil_blocks(int64_t rows) { return (rows + SUM_BLOCK - 1) / SUM_BLOCK; }

/* y[i] = scale * (the nb partial rows of part added in order), i in [lo, hi) */
static void sum_blocks(const float *part, int64_t nb, int64_t inner, float scale, float *y, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) y[i] = part[i];
    for (int64_t b = 1; b < nb; b++)
        for (int64_t i = lo; i < hi; i++) y[i] += part[b * inner + i];
    for (int64_t i = lo; i < hi; i++) y[i] *= scale;
}

static __thread RtScratch rows_scratch;   /* partial sums: reduce_rows, layer norm's adjoint */

static void stack_range(float *y, const float *const *xs, int64_t steps, int64_t inner, int64_t lo,
                        int64_t hi)
{
    for (int64_t o = lo; o < hi; o++)
        for (int64_t t = 0; t < steps; t++)
            memcpy(y + (o * steps + t) * inner, xs[t] + o * inner, (size_t)inner * sizeof *y);
}

void nnl_stack(float *y, const float *const *xs, int64_t steps, int64_t outer, int64_t inner)
{
    int nt = rt_threads_for((double)outer * steps * inner, NNL_PAR_MIN_ELEMS, outer);
    if (nt <= 1) {   /* no OpenMP region for one thread: ~1 us each */
        stack_range(y, xs, steps, inner, 0, outer);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(outer, nt, &lo, &hi);
        stack_range(y, xs, steps, inner, lo, hi);
    }
}

/* A sum in a fixed order that vectorizes: 16 running sums, then those added in order. */
static float sum16(const float *v, int64_t n)
{
    float acc[16] = {0};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) acc[l] += v[j + l];
    for (; j < n; j++) acc[j & 15] += v[j];
    float s = 0;
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

#if !defined(RT_VEC)   /* else softmax_rows */
/* The largest of v[0..n) that is not NaN (-inf when none), in 16 lanes that vectorize:
 * the one-at-a-time loop was a chain of dependent maxss, 4 cycles an element, most of a
 * softmax over attention's rows of 64 (char GPT: 820 us a layer). The same value as
 * that loop: max does not depend on the order. */
static float max16(const float *v, int64_t n)
{
    float acc[16];
    int64_t j = 0;
    for (int l = 0; l < 16; l++) acc[l] = -INFINITY;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
    for (; j < n; j++) acc[j & 15] = v[j] > acc[j & 15] ? v[j] : acc[j & 15];
    float m = -INFINITY;
    for (int l = 0; l < 16; l++) m = acc[l] > m ? acc[l] : m;
    return m;
}
#endif

#if defined(RT_VEC)
/* rt_expf on VL lanes, the same steps (its multiply-adds fused, as GCC fuses them in
 * rt_expf) and values */
static inline Vf vf_exp(Vf x)
{
#if defined(__AVX512F__)
    #define V(op) _mm512_##op##_ps
#else
    #define V(op) _mm256_##op##_ps
#endif
    const Vf hi = vf_set1(88.72283935546875f), magic = vf_set1(12582912.0f);
    Vf xc = V(max)(V(min)(x, hi), vf_set1(-104.0f));   /* NaN -> hi */
    Vf n = V(sub)(vf_fma(xc, vf_set1(1.44269504088896341f), magic), magic);
    Vf r = V(fnmadd)(n, vf_set1(0.693359375f), xc);
    r = V(fnmadd)(n, vf_set1(-2.12194440e-4f), r);
    Vf p = vf_set1(1.9875691500e-4f);
    p = vf_fma(p, r, vf_set1(1.3981999507e-3f));
    p = vf_fma(p, r, vf_set1(8.3334519073e-3f));
    p = vf_fma(p, r, vf_set1(4.1665795894e-2f));
    p = vf_fma(p, r, vf_set1(1.6666665459e-1f));
    p = vf_fma(p, r, vf_set1(5.0000001201e-1f));
    p = V(add)(vf_fma(p, vf_mul(r, r), r), vf_set1(1.0f));
#if defined(__AVX512F__)
    /* p 2^n in one rounding, as rt_expf's p 2^n1 2^n2 (the same bits for every float x,
     * checked over all 2^32) in one instruction instead of eight: softmax's rows of
     * attention's 1..64 keys are bound by the exponentials, 4.7 -> 3.3 ns a vector */
    __m512 y = _mm512_scalef_ps(p, n);
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), _mm512_set1_ps(INFINITY));
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
#else
    __m256i ni = _mm256_cvtps_epi32(n), n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
#endif
    #undef V
}

/* row[j] = 0 for j in [from, all): the causal rows' masked columns */
static inline void zero_from(float *row, int64_t from, int64_t all)
{
    int64_t j = from;
    for (; j + VL <= all; j += VL) vf_storeu(row + j, vf_zero());
    if (j < all) vf_store(row + j, vm_lanes(all - j), vf_zero());
}

/* G rows at a time: their lane sums added across lanes side by side, G independent
 * chains of VL - 1 dependent adds where one row's were a chain of its own after the other's */
enum { ROWS_G = 4 };

/* v's VL lanes per row q < G added in order (as sum16 adds its running sums), the rows'
 * chains interleaved */
static inline void lanes_sums(const Vf *v, int G, float *out)
{
    float acc[ROWS_G][VL];
    for (int q = 0; q < G; q++) {
        vf_storeu(acc[q], v[q]);
        out[q] = 0;
    }
    for (int l = 0; l < VL; l++)
        for (int q = 0; q < G; q++) out[q] += acc[q][l];
}
#endif

#if defined(RT_VEC)
/* Rows r .. r + G of softmax_range, the rows' steps side by side: a row of attention's
 * 64 keys is a few vectors, and its max's and sum's reductions across lanes, its
 * reciprocal and the passes after them were chains the next row waited behind. Lane j %
 * VL adds column j, the lanes then added in order (the log variant's in blocks of 256
 * columns, as the loop below): the same sums as the scalar loops, with no scalar tail
 * (masked lanes instead), which rows of attention's 1..64 keys mostly are. */
static inline __attribute__((always_inline))
void softmax_rows(const int G, const float *x, float *y, int64_t r, int64_t all, int log_variant, int causal)
{
    int64_t cols[ROWS_G];
    Vf vm[ROWS_G], vs[ROWS_G];
    float mx[ROWS_G], sum[ROWS_G], part[ROWS_G];
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * all;
        int64_t j = 0;
        cols[q] = causal ? (r + q) % all + 1 : all;
        vm[q] = vf_set1(-INFINITY);
        for (; j + VL <= cols[q]; j += VL) vm[q] = vf_max(vf_loadu(xr + j), vm[q]);
        if (j < cols[q]) vm[q] = vf_max(vf_load_fill(vm_lanes(cols[q] - j), xr + j, -INFINITY), vm[q]);
    }
    for (int q = 0; q < G; q++) {
        mx[q] = vf_hmax(vm[q]);
        if (mx[q] == -INFINITY) mx[q] = 0.0f;      /* all -inf: keep exp finite */
    }
    int64_t block = log_variant ? 256 : all;   /* (causal: never the log variant) */
    for (int q = 0; q < G; q++) sum[q] = 0.0f;
    for (int64_t j0 = 0; j0 < all; j0 += block) {
        for (int q = 0; q < G; q++) {
            const float *xr = x + (r + q) * all;
            float *yr = y + (r + q) * all;
            int64_t end = cols[q] - j0 < block ? cols[q] : j0 + block, j = j0;
            Vf vmx = vf_set1(mx[q]);
            vs[q] = vf_zero();
            for (; j + VL <= end; j += VL) {
                Vf v = vf_exp(vf_sub(vf_loadu(xr + j), vmx));
                if (!log_variant) vf_storeu(yr + j, v);
                vs[q] = vf_add(vs[q], v);
            }
            if (j < end) {
                Vm m = vm_lanes(end - j);
                Vf v = vf_exp(vf_sub(vf_load(m, xr + j), vmx));
                if (!log_variant) vf_store(yr + j, m, v);
                vs[q] = vf_add_lanes(vs[q], m, v);
            }
        }
        lanes_sums(vs, G, part);
        for (int q = 0; q < G; q++) sum[q] += part[q];
    }
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * all;
        float *yr = y + (r + q) * all;
        int64_t j = 0;
        Vm m = vm_lanes(cols[q] % VL);
        if (log_variant) {
            Vf vl = vf_set1(mx[q] + logf(sum[q]));
            for (; j + VL <= cols[q]; j += VL) vf_storeu(yr + j, vf_sub(vf_loadu(xr + j), vl));
            if (j < cols[q]) vf_store(yr + j, m, vf_sub(vf_load(m, xr + j), vl));
        } else {
            Vf inv = vf_set1(1.0f / sum[q]);
            for (; j + VL <= cols[q]; j += VL) vf_storeu(yr + j, vf_mul(vf_loadu(yr + j), inv));
            if (j < cols[q]) vf_store(yr + j, m, vf_mul(vf_load(m, yr + j), inv));
        }
        zero_from(yr, cols[q], all);   /* causal: the masked columns */
    }
}

/* Rows r .. r + G of softmax_dx_range, side by side as softmax_rows's */
static inline __attribute__((always_inline))
void softmax_dx_rows(const int G, const float *y, const float *dy, float *dx, int64_t r, int64_t all,
                     float scale, int causal)
{
    int64_t cols[ROWS_G];
    Vf vs[ROWS_G];
    float sum[ROWS_G];
    for (int q = 0; q < G; q++) {
        const float *yr = y + (r + q) * all, *gr = dy + (r + q) * all;
        int64_t j = 0;
        cols[q] = causal ? (r + q) % all + 1 : all;
        vs[q] = vf_zero();
        for (; j + VL <= cols[q]; j += VL) vs[q] = vf_fma(vf_loadu(gr + j), vf_loadu(yr + j), vs[q]);
        if (j < cols[q]) {
            Vm m = vm_lanes(cols[q] - j);
            vs[q] = vf_fma(vf_load(m, gr + j), vf_load(m, yr + j), vs[q]);
        }
    }
    lanes_sums(vs, G, sum);
    Vf vsc = vf_set1(scale);
    for (int q = 0; q < G; q++) {
        const float *yr = y + (r + q) * all, *gr = dy + (r + q) * all;
        float *dr = dx + (r + q) * all;
        Vf vsum = vf_set1(sum[q]);
        int64_t j = 0;
        for (; j + VL <= cols[q]; j += VL)
            vf_storeu(dr + j, vf_mul(vf_mul(vf_loadu(yr + j), vf_sub(vf_loadu(gr + j), vsum)), vsc));
        if (j < cols[q]) {
            Vm m = vm_lanes(cols[q] - j);
            vf_store(dr + j, m, vf_mul(vf_mul(vf_load(m, yr + j), vf_sub(vf_load(m, gr + j), vsum)), vsc));
        }
        zero_from(dr, cols[q], all);
    }
}
#endif


/* x, y: (rows, cols). Max-subtracted: y = exp(x - max) / sum, or x - max - log(sum).
 * Entries of -inf (masked out) give 0 and add nothing. Causal (not the log variant):
 * the rows are (..., T, T) with cols = T, and row t is a softmax over its columns
 * 0..t, the later ones 0 (attention's mask, without computing what it masks). */
static void softmax_range(const float *x, float *y, int64_t r0, int64_t r1, int64_t cols,
                          int log_variant, int causal)
{
    int64_t all = cols;
#if defined(RT_VEC)
    for (; r0 + ROWS_G <= r1; r0 += ROWS_G) softmax_rows(ROWS_G, x, y, r0, all, log_variant, causal);
    for (; r0 < r1; r0++) softmax_rows(1, x, y, r0, all, log_variant, causal);
#else
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * all;
        float *yr = y + r * all;
        if (causal) {
            cols = r % all + 1;
            for (int64_t j = cols; j < all; j++) yr[j] = 0.0f;
        }
        float mx = max16(xr, cols);
        if (mx == -INFINITY) mx = 0.0f;      /* all -inf: keep exp finite */
        if (log_variant) {                   /* y may be x: the exponentials go to buf */
            float buf[256], sum = 0;
            for (int64_t j0 = 0; j0 < cols; j0 += 256) {
                int64_t n = cols - j0 < 256 ? cols - j0 : 256;
                for (int64_t j = 0; j < n; j++) buf[j] = rt_expf(xr[j0 + j] - mx);
                sum += sum16(buf, n);
            }
            float lse = mx + logf(sum);
            for (int64_t j = 0; j < cols; j++) yr[j] = xr[j] - lse;
        } else {
            for (int64_t j = 0; j < cols; j++) yr[j] = rt_expf(xr[j] - mx);
            float inv = 1.0f / sum16(yr, cols);
            for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
        }
    }
#endif
}

/* Softmax's adjoint on rows [r0, r1): dx = scale y (dy - sum(dy y)), the sum in 16 lanes
 * added in order as sum16; causal: row t over its columns 0..t, 0 after. dx may be y or
 * dy (each element is read before it is written, the sum before any). */
static void softmax_dx_range(const float *y, const float *dy, float *dx, int64_t r0, int64_t r1,
                             int64_t all, float scale, int causal)
{
#if defined(RT_VEC)
    for (; r0 + ROWS_G <= r1; r0 += ROWS_G) softmax_dx_rows(ROWS_G, y, dy, dx, r0, all, scale, causal);
    for (; r0 < r1; r0++) softmax_dx_rows(1, y, dy, dx, r0, all, scale, causal);
#else
    for (int64_t r = r0; r < r1; r++) {
        const float *yr = y + r * all, *gr = dy + r * all;
        float *dr = dx + r * all;
        int64_t cols = causal ? r % all + 1 : all;
        float acc[16] = {0}, sum = 0;
        for (int64_t j = 0; j < cols; j++) acc[j & 15] += gr[j] * yr[j];
        for (int l = 0; l < 16; l++) sum += acc[l];
        for (int64_t j = 0; j < cols; j++) dr[j] = yr[j] * (gr[j] - sum) * scale;
        for (int64_t j = cols; j < all; j++) dr[j] = 0.0f;
    }
#endif
}

/* A row's mean and 1 / sqrt(var + eps), two passes over it (in L1: a layer is a few
 * hundred features), each a sum in 16 fixed lanes (sum16). */
static void row_stats(const float *xr, int64_t cols, float eps, float *buf, float *mean, float *r)
{
    float m = 0, v = 0;
    for (int64_t j0 = 0; j0 < cols; j0 += 256) {
        int64_t n = cols - j0 < 256 ? cols - j0 : 256;
        m += sum16(xr + j0, n);
    }
    m /= (float)cols;
    for (int64_t j0 = 0; j0 < cols; j0 += 256) {
        int64_t n = cols - j0 < 256 ? cols - j0 : 256;
        for (int64_t j = 0; j < n; j++) buf[j] = (xr[j0 + j] - m) * (xr[j0 + j] - m);
        v += sum16(buf, n);
    }
    *mean = m;
    *r = 1.0f / sqrtf(v / (float)cols + eps);
}

#if defined(__AVX512F__)

/* Rows r .. r + G of layer_norm_range (cols <= 256: one block of sum16), in registers:
 * the sums of x, then of (x - mean)^2, in 16 lanes as row_stats, its squares not stored
 * and read back; then the normalization or its adjoint. The same operations in the same
 * order as the loops (char GPT trains to the same bits); in cache, 256 rows of 128, one
 * thread: the forward 9.9 -> 7.2 us, the adjoint 20.1 -> 15.3 (from memory they are bound
 * by reading it: 2048 rows 88 -> 80-85 us, 167 -> 149-153). */
static inline __attribute__((always_inline))
void layer_norm_rows16(const int G, const float *x, const float *dy, const float *gamma, float *y, int64_t r,
                       int64_t cols, float eps, float *pg, float *pb, int64_t r0)
{
    __m512 acc[ROWS_G], acc2[ROWS_G], vm[ROWS_G], vr[ROWS_G];
    float m[ROWS_G], v[ROWS_G];
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols;
        acc[q] = _mm512_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16) {
            __mmask16 k = rt_lanes16(cols - j);
            acc[q] = _mm512_mask_add_ps(acc[q], k, acc[q], _mm512_maskz_loadu_ps(k, xr + j));
        }
    }
    lanes_sums(acc, G, m);
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols;
        m[q] = (0.0f + m[q]) / (float)cols;
        vm[q] = _mm512_set1_ps(m[q]);
        acc2[q] = _mm512_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16) {
            __mmask16 k = rt_lanes16(cols - j);
            __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + j), vm[q]);
            acc2[q] = _mm512_mask_add_ps(acc2[q], k, acc2[q], _mm512_mul_ps(d, d));
        }
    }
    lanes_sums(acc2, G, v);
    for (int q = 0; q < G; q++) vr[q] = _mm512_set1_ps(1.0f / sqrtf((0.0f + v[q]) / (float)cols + eps));
    if (!dy) {
        for (int q = 0; q < G; q++) {
            const float *xr = x + (r + q) * cols;
            float *yr = y + (r + q) * cols;
            for (int64_t j = 0; j < cols; j += 16) {
                __mmask16 k = rt_lanes16(cols - j);
                __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + j), vm[q]), vr[q]);
                _mm512_mask_storeu_ps(yr + j, k, xh);
            }
        }
        return;
    }
    float sg[ROWS_G], sgy[ROWS_G];   /* sum(g), sum(g xhat), g = dy (gamma) */
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols, *gr = dy + (r + q) * cols;
        acc[q] = acc2[q] = _mm512_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16) {
            __mmask16 k = rt_lanes16(cols - j);
            __m512 g = _mm512_maskz_loadu_ps(k, gr + j);
            if (gamma) g = _mm512_mul_ps(g, _mm512_maskz_loadu_ps(k, gamma + j));
            __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + j), vm[q]), vr[q]);
            acc[q] = _mm512_mask_add_ps(acc[q], k, acc[q], g);
            acc2[q] = _mm512_mask_add_ps(acc2[q], k, acc2[q], _mm512_mul_ps(g, xh));
        }
    }
    lanes_sums(acc, G, sg);
    lanes_sums(acc2, G, sgy);
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols, *gr = dy + (r + q) * cols;
        float *yr = y + (r + q) * cols;
        __m512 va = _mm512_set1_ps((0.0f + sg[q]) / (float)cols), vb = _mm512_set1_ps((0.0f + sgy[q]) / (float)cols);
        for (int64_t j = 0; j < cols; j += 16) {
            __mmask16 k = rt_lanes16(cols - j);
            __m512 d = _mm512_maskz_loadu_ps(k, gr + j), g = d;
            if (gamma) g = _mm512_mul_ps(g, _mm512_maskz_loadu_ps(k, gamma + j));
            __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + j), vm[q]), vr[q]);
            _mm512_mask_storeu_ps(yr + j, k, _mm512_mul_ps(vr[q], _mm512_fnmadd_ps(xh, vb, _mm512_sub_ps(g, va))));
            if (!pg) continue;
            /* the sums' partial rows (ln_block_sums): dy xhat rounded, then added (a masked
             * add, which the compiler does not fuse with the product as it may a plain one) */
            __m512 p = _mm512_mul_ps(d, xh);
            if (r + q == r0) {
                _mm512_mask_storeu_ps(pg + j, k, p);
                _mm512_mask_storeu_ps(pb + j, k, d);
            } else {
                _mm512_mask_storeu_ps(pg + j, k, _mm512_mask_add_ps(p, k, _mm512_maskz_loadu_ps(k, pg + j), p));
                _mm512_mask_storeu_ps(pb + j, k, _mm512_mask_add_ps(d, k, _mm512_maskz_loadu_ps(k, pb + j), d));
            }
        }
    }
}
#endif

#if !defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
/* v[q][0..1]'s 16 lanes per row q < G added in order (sum16's order), chains interleaved */
static inline void lanes_sums16(__m256 (*v)[2], int G, float *out)
{
    float acc[ROWS_G][16];
    for (int q = 0; q < G; q++) {
        _mm256_storeu_ps(acc[q], v[q][0]);
        _mm256_storeu_ps(acc[q] + 8, v[q][1]);
        out[q] = 0;
    }
    for (int l = 0; l < 16; l++)
        for (int q = 0; q < G; q++) out[q] += acc[q][l];
}

/* layer_norm_rows16 on AVX2 for rows of a multiple of 16 columns (up to 256): 16 lanes
 * as two vectors, the sums in sum16's order */
static inline __attribute__((always_inline))
void layer_norm_rows8(const int G, const float *x, const float *dy, const float *gamma, float *y, int64_t r,
                      int64_t cols, float eps, float *pg, float *pb, int64_t r0)
{
    __m256 acc[ROWS_G][2], acc2[ROWS_G][2], vm[ROWS_G], vr[ROWS_G];
    float m[ROWS_G], v[ROWS_G];
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols;
        acc[q][0] = acc[q][1] = _mm256_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16)
            for (int h = 0; h < 2; h++) acc[q][h] = _mm256_add_ps(acc[q][h], _mm256_loadu_ps(xr + j + 8 * h));
    }
    lanes_sums16(acc, G, m);
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols;
        m[q] = (0.0f + m[q]) / (float)cols;
        vm[q] = _mm256_set1_ps(m[q]);
        acc2[q][0] = acc2[q][1] = _mm256_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16)
            for (int h = 0; h < 2; h++) {
                __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + j + 8 * h), vm[q]);
                acc2[q][h] = _mm256_add_ps(acc2[q][h], _mm256_mul_ps(d, d));
            }
    }
    lanes_sums16(acc2, G, v);
    for (int q = 0; q < G; q++) vr[q] = _mm256_set1_ps(1.0f / sqrtf((0.0f + v[q]) / (float)cols + eps));
    if (!dy) {
        for (int q = 0; q < G; q++) {
            const float *xr = x + (r + q) * cols;
            float *yr = y + (r + q) * cols;
            for (int64_t j = 0; j < cols; j += 8)
                _mm256_storeu_ps(yr + j, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vm[q]), vr[q]));
        }
        return;
    }
    float sg[ROWS_G], sgy[ROWS_G];   /* sum(g), sum(g xhat), g = dy (gamma) */
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols, *gr = dy + (r + q) * cols;
        acc[q][0] = acc[q][1] = acc2[q][0] = acc2[q][1] = _mm256_setzero_ps();
        for (int64_t j = 0; j < cols; j += 16)
            for (int h = 0; h < 2; h++) {
                __m256 g = _mm256_loadu_ps(gr + j + 8 * h);
                if (gamma) g = _mm256_mul_ps(g, _mm256_loadu_ps(gamma + j + 8 * h));
                __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j + 8 * h), vm[q]), vr[q]);
                acc[q][h] = _mm256_add_ps(acc[q][h], g);
                acc2[q][h] = _mm256_add_ps(acc2[q][h], _mm256_mul_ps(g, xh));
            }
    }
    lanes_sums16(acc, G, sg);
    lanes_sums16(acc2, G, sgy);
    for (int q = 0; q < G; q++) {
        const float *xr = x + (r + q) * cols, *gr = dy + (r + q) * cols;
        float *yr = y + (r + q) * cols;
        __m256 va = _mm256_set1_ps((0.0f + sg[q]) / (float)cols), vb = _mm256_set1_ps((0.0f + sgy[q]) / (float)cols);
        for (int64_t j = 0; j < cols; j += 8) {
            __m256 d = _mm256_loadu_ps(gr + j), g = d;
            if (gamma) g = _mm256_mul_ps(g, _mm256_loadu_ps(gamma + j));
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vm[q]), vr[q]);
            _mm256_storeu_ps(yr + j, _mm256_mul_ps(vr[q], _mm256_fnmadd_ps(xh, vb, _mm256_sub_ps(g, va))));
            if (!pg) continue;
            /* the sums' partial rows (ln_block_sums): dy xhat rounded, then added (GCC
             * fuses a plain vector product into the add after it: the barrier keeps it) */
            __m256 p = _mm256_mul_ps(d, xh);
            __asm__("" : "+x"(p));
            if (r + q == r0) {
                _mm256_storeu_ps(pg + j, p);
                _mm256_storeu_ps(pb + j, d);
            } else {
                _mm256_storeu_ps(pg + j, _mm256_add_ps(_mm256_loadu_ps(pg + j), p));
                _mm256_storeu_ps(pb + j, _mm256_add_ps(_mm256_loadu_ps(pb + j), d));
            }
        }
    }
}
#endif

/* dy xhat of a row (xhat = (x - mean) rs), stored: not inlined, so that the sums below add
 * the rounded products as a sum over stored dy * xhat does (no multiply-add formed) */
static __attribute__((noinline)) void dy_xhat(const float *xr, const float *gr, float mean, float rs, int64_t n,
                                              float *out)
{
    for (int64_t j = 0; j < n; j++) out[j] = gr[j] * ((xr[j] - mean) * rs);
}

/* Rows [r0, r1) (one block of SUM_BLOCK) of layer norm's adjoint: their dy xhat and dy
 * added in row order into pg and pb (row r0 copied), the partial sums reduce_rows makes
 * of the gradients of gamma and beta, made while the rows are in cache. */
static void ln_block_sums(const float *x, const float *dy, const float *stats, int64_t r0, int64_t r1,
                          int64_t cols, float *pg, float *pb)
{
    float buf[256];
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * cols, *gr = dy + r * cols;
        float mean = stats[2 * (r - r0)], rs = stats[2 * (r - r0) + 1];
        for (int64_t j0 = 0; j0 < cols; j0 += 256) {
            int64_t n = cols - j0 < 256 ? cols - j0 : 256;
            dy_xhat(xr + j0, gr + j0, mean, rs, n, buf);
            float *g = pg + j0, *b = pb + j0;
            if (r == r0)
                for (int64_t j = 0; j < n; j++) g[j] = buf[j], b[j] = gr[j0 + j];
            else
                for (int64_t j = 0; j < n; j++) g[j] += buf[j], b[j] += gr[j0 + j];
        }
    }
}

/* Rows [r0, r1): the normalization (dy NULL) or its adjoint (dy given) at dy gamma
 * (gamma (cols) or NULL: the product layer norm's scale puts on xhat's gradient, formed
 * here instead of stored; equal to dy gamma stored and read up to rounding, as the
 * compiler may fuse the product into the subtraction after it). pg, pb (or NULL): the
 * rows, one block of SUM_BLOCK from r0, added into partial sums as ln_block_sums adds. */
static void layer_norm_range(const float *x, const float *dy, const float *gamma, float *y, int64_t r0,
                             int64_t r1, int64_t cols, float eps, float *pg, float *pb)
{
#if defined(__AVX512F__)
    if (cols <= 256) {   /* (rows of a few hundred features, as layer norm's are) */
        int64_t r = r0;
        for (; r + ROWS_G <= r1; r += ROWS_G) layer_norm_rows16(ROWS_G, x, dy, gamma, y, r, cols, eps, pg, pb, r0);
        for (; r < r1; r++) layer_norm_rows16(1, x, dy, gamma, y, r, cols, eps, pg, pb, r0);
        return;
    }
#elif defined(__AVX2__) && defined(__FMA__)
    if (cols <= 256 && cols % 16 == 0) {
        int64_t r = r0;
        for (; r + ROWS_G <= r1; r += ROWS_G) layer_norm_rows8(ROWS_G, x, dy, gamma, y, r, cols, eps, pg, pb, r0);
        for (; r < r1; r++) layer_norm_rows8(1, x, dy, gamma, y, r, cols, eps, pg, pb, r0);
        return;
    }
#endif
    float buf[256], gbuf[256], stats[2 * SUM_BLOCK];
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols, mean, rs;
        row_stats(xr, cols, eps, buf, &mean, &rs);
        if (pg) stats[2 * (r - r0)] = mean, stats[2 * (r - r0) + 1] = rs;
        if (!dy) {
            for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - mean) * rs;
            continue;
        }
        const float *gr = dy + r * cols;
        float sg = 0, sgy = 0;   /* sum(g), sum(g xhat), g = dy (gamma) */
        for (int64_t j0 = 0; j0 < cols; j0 += 256) {
            int64_t n = cols - j0 < 256 ? cols - j0 : 256;
            const float *gc = gr + j0;
            if (gamma) {
                for (int64_t j = 0; j < n; j++) gbuf[j] = gr[j0 + j] * gamma[j0 + j];
                gc = gbuf;
            }
            sg += sum16(gc, n);
            for (int64_t j = 0; j < n; j++) buf[j] = gc[j] * ((xr[j0 + j] - mean) * rs);
            sgy += sum16(buf, n);
        }
        float a = sg / (float)cols, b = sgy / (float)cols;
        for (int64_t j = 0; j < cols; j++) {
            float g = gamma ? gr[j] * gamma[j] : gr[j];
            yr[j] = rs * (g - a - (xr[j] - mean) * rs * b);
        }
    }
    if (pg) ln_block_sums(x, dy, stats, r0, r1, cols, pg, pb);
}

/* A row kernel's call: which kernel, its operands, and the epilogue (compiler/fuse.c's
 * mark_epilogues: the elementwise loop that reads its output, or NULL). */
typedef struct RowJob {
    enum { ROW_SOFTMAX, ROW_SOFTMAX_DX, ROW_NORM } kind;
    const float *x, *dy, *gamma;   /* softmax_dx: x is y */
    float *y;
    int64_t cols;
    float f;                       /* softmax_dx: scale; layer norm: eps */
    int log_variant, causal;
    NnlKernelFn ep;
    const NnlCtx *ep_ctx;
    float *sum_g, *sum_b;          /* layer norm's adjoint: gamma's and beta's gradients (the
                                      sums of dy xhat and of dy over the rows), or NULL */
    float scale_g, scale_b;        /* and their scales */
    float *part;                   /* their blocks' partial sums (sum_blocks) */
} RowJob;

static void job_range(const RowJob *j, int64_t r0, int64_t r1)
{
    switch (j->kind) {
    case ROW_SOFTMAX: softmax_range(j->x, j->y, r0, r1, j->cols, j->log_variant, j->causal); break;
    case ROW_SOFTMAX_DX: softmax_dx_range(j->x, j->dy, j->y, r0, r1, j->cols, j->f, j->causal); break;
    case ROW_NORM: layer_norm_range(j->x, j->dy, j->gamma, j->y, r0, r1, j->cols, j->f, NULL, NULL); break;
    }
}

/* Rows at a time when there is an epilogue: ~16 KB of output, in L1 when the loop reads
 * it back (char GPT's layer norm, 128 columns: 32 rows). */
enum { EPI_FLOATS = 4096 };

/* Rows [r0, r1) of j, and the epilogue on each block of them as soon as it is written:
 * the loop reads the rows in cache instead of in a pass of its own from memory (char
 * GPT's layer-norm scale and shift, the residual add of its gradient). */
static void job_rows(const RowJob *j, int64_t r0, int64_t r1)
{
    if (!j->ep) {
        job_range(j, r0, r1);
        return;
    }
    int64_t step = j->cols < EPI_FLOATS ? EPI_FLOATS / j->cols : 1;
    for (int64_t r = r0; r < r1; r += step) {
        int64_t e = r1 - r < step ? r1 : r + step;
        job_range(j, r, e);
        j->ep(j->ep_ctx, r * j->cols, e * j->cols);
    }
}

/* Blocks [b0, b1) of layer norm's adjoint with its sums (j->sum_g): each block's rows,
 * the epilogue on them, their partial sums. */
static void job_blocks(const RowJob *j, int64_t rows, int64_t b0, int64_t b1)
{
    int64_t nb = ceil_blocks(rows);
    for (int64_t b = b0; b < b1; b++) {
        int64_t r0 = b * SUM_BLOCK, r1 = rows - r0 < SUM_BLOCK ? rows : r0 + SUM_BLOCK;
        layer_norm_range(j->x, j->dy, j->gamma, j->y, r0, r1, j->cols, j->f, j->part + b * j->cols,
                         j->part + (nb + b) * j->cols);
        if (j->ep) j->ep(j->ep_ctx, r0 * j->cols, r1 * j->cols);
    }
}

/* All rows of j, split between threads from PAR_MIN elements of work; with sums, split
 * by whole blocks, and the partial sums added after. */
static void run_rows(const RowJob *j, int64_t rows, int64_t work)
{
    if (rows <= 0 || j->cols <= 0) return;
    int nt = threads_for(work, rows);
    int64_t nb = ceil_blocks(rows), cols = j->cols;
    if (nt <= 1) {   /* no OpenMP region for one thread: ~1 us each */
        if (!j->sum_g) {
            job_rows(j, 0, rows);
            return;
        }
        job_blocks(j, rows, 0, nb);
        sum_blocks(j->part, nb, cols, j->scale_g, j->sum_g, 0, cols);
        sum_blocks(j->part + nb * cols, nb, cols, j->scale_b, j->sum_b, 0, cols);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        if (!j->sum_g) {
            rt_share(rows, nt, &lo, &hi);
            if (lo < hi) job_rows(j, lo, hi);
        } else {
            rt_share(nb, nt, &lo, &hi);
            if (lo < hi) job_blocks(j, rows, lo, hi);
            #pragma omp barrier
            rt_share(cols, nt, &lo, &hi);
            sum_blocks(j->part, nb, cols, j->scale_g, j->sum_g, lo, hi);
            sum_blocks(j->part + nb * cols, nb, cols, j->scale_b, j->sum_b, lo, hi);
        }
    }
}

void nnl_softmax_rows_ep(const float *x, float *y, int64_t rows, int64_t cols, int flags, NnlKernelFn ep,
                         const NnlCtx *ep_ctx)
{
    int lg = flags & 1;
    RowJob j = {.kind = ROW_SOFTMAX, .x = x, .y = y, .cols = cols, .log_variant = lg,
                .causal = !lg && (flags & 2), .ep = ep, .ep_ctx = ep_ctx};
    run_rows(&j, rows, rows * cols);
}

void nnl_softmax_rows(const float *x, float *y, int64_t rows, int64_t cols, int flags)
{
    nnl_softmax_rows_ep(x, y, rows, cols, flags, NULL, NULL);
}

void nnl_softmax_rows_dx_ep(const float *y, const float *dy, float *dx, int64_t rows, int64_t cols, float scale,
                            int flags, NnlKernelFn ep, const NnlCtx *ep_ctx)
{
    RowJob j = {.kind = ROW_SOFTMAX_DX, .x = y, .dy = dy, .y = dx, .cols = cols, .f = scale,
                .causal = flags & 2, .ep = ep, .ep_ctx = ep_ctx};
    run_rows(&j, rows, rows * cols);
}

void nnl_softmax_rows_dx(const float *y, const float *dy, float *dx, int64_t rows, int64_t cols,
                         float scale, int flags)
{
    nnl_softmax_rows_dx_ep(y, dy, dx, rows, cols, scale, flags, NULL, NULL);
}

void nnl_layer_norm_rows_ep(const float *x, float *y, int64_t rows, int64_t cols, float eps, NnlKernelFn ep,
                            const NnlCtx *ep_ctx)
{
    RowJob j = {.kind = ROW_NORM, .x = x, .y = y, .cols = cols, .f = eps, .ep = ep, .ep_ctx = ep_ctx};
    run_rows(&j, rows, rows * cols);
}

void nnl_layer_norm_rows(const float *x, float *y, int64_t rows, int64_t cols, float eps)
{
    nnl_layer_norm_rows_ep(x, y, rows, cols, eps, NULL, NULL);
}

/* The sums of layer norm's adjoint (nnl_layer_norm_rows_dx_ep) without the memory for
 * partial sums: the rows in order (their order of addition, not the blocks'). */
static void ln_sums_apart(const float *x, const float *dy, int64_t rows, int64_t cols, float eps, float *dg,
                          float scale_g, float *db, float scale_b)
{
    float buf[256], mean, rs;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols, *gr = dy + r * cols;
        row_stats(xr, cols, eps, buf, &mean, &rs);
        for (int64_t j0 = 0; j0 < cols; j0 += 256) {
            int64_t n = cols - j0 < 256 ? cols - j0 : 256;
            dy_xhat(xr + j0, gr + j0, mean, rs, n, buf);
            for (int64_t j = 0; j < n; j++) {
                dg[j0 + j] = r ? dg[j0 + j] + buf[j] : buf[j];
                db[j0 + j] = r ? db[j0 + j] + gr[j0 + j] : gr[j0 + j];
            }
        }
    }
    for (int64_t j = 0; j < cols; j++) dg[j] *= scale_g, db[j] *= scale_b;
}

void nnl_layer_norm_rows_dx_ep(const float *x, const float *dy, const float *gamma, float *dx, int64_t rows,
                               int64_t cols, float eps, NnlKernelFn ep, const NnlCtx *ep_ctx, float *dgamma,
                               float scale_g, float *dbeta, float scale_b)
{
    RowJob j = {.kind = ROW_NORM, .x = x, .dy = dy, .gamma = gamma, .y = dx, .cols = cols, .f = eps,
                .ep = ep, .ep_ctx = ep_ctx};
    if (dgamma && dbeta && rows > 0 && cols > 0) {
        j.part = rt_scratch(&rows_scratch, (size_t)(2 * ceil_blocks(rows) * cols));
        if (!j.part) {   /* out of memory: the sums as the reduction computes them */
            run_rows(&j, rows, 2 * rows * cols);
            ln_sums_apart(x, dy, rows, cols, eps, dgamma, scale_g, dbeta, scale_b);
            return;
        }
        j.sum_g = dgamma, j.sum_b = dbeta, j.scale_g = scale_g, j.scale_b = scale_b;
    }
    run_rows(&j, rows, 3 * rows * cols);
}

void nnl_layer_norm_rows_dx(const float *x, const float *dy, const float *gamma, float *dx, int64_t rows,
                            int64_t cols, float eps)
{
    nnl_layer_norm_rows_dx_ep(x, dy, gamma, dx, rows, cols, eps, NULL, NULL, NULL, 1.0f, NULL, 1.0f);
}

/* Outputs [lo, hi) of the flattened (outer, inner) result. Each output sums its r terms
 * in one fixed order: sequentially when inner > 1 (vectorized across inner), in 16
 * fixed lanes combined pairwise when inner == 1. */
static void reduce_range(const float *x, float *y, int64_t r, int64_t inner, float scale,
                         int64_t lo, int64_t hi)
{
    if (inner == 1) {
        for (int64_t o = lo; o < hi; o++) {
            const float *xo = x + o * r;
            float s[16] = {0};
            int64_t i = 0;
            for (; i + 16 <= r; i += 16)
                for (int l = 0; l < 16; l++) s[l] += xo[i + l];
            for (int l = 0; i < r; i++, l++) s[l] += xo[i];
            for (int w = 8; w >= 1; w /= 2)
                for (int l = 0; l < w; l++) s[l] += s[l + w];
            y[o] = scale * s[0];
        }
        return;
    }
    int64_t idx = lo;
    while (idx < hi) {
        int64_t o = idx / inner, i0 = idx % inner;
        int64_t i1 = inner < i0 + (hi - idx) ? inner : i0 + (hi - idx);
        float *yo = y + o * inner;
        const float *xo = x + o * r * inner;
        for (int64_t i = i0; i < i1; i++) yo[i] = r > 0 ? xo[i] : 0.0f;   /* r == 0: x is empty */
        for (int64_t k = 1; k < r; k++) {
            const float *xk = xo + k * inner;
            for (int64_t i = i0; i < i1; i++) yo[i] += xk[i];
        }
        if (scale != 1.0f)
            for (int64_t i = i0; i < i1; i++) yo[i] *= scale;
        idx += i1 - i0;
    }
}


/* A reduction's prologue (compiler/fuse.c's mark_prologues): the generated loop that
 * computes x, run on each block of x just before the block is summed, so that the sum
 * reads it from cache instead of from memory. NULL: x is already there. */
typedef struct Pro { NnlKernelFn fn; const NnlCtx *ctx; } Pro;

static void pro_run(const Pro *p, int64_t lo, int64_t hi)
{
    if (p && lo < hi) p->fn(p->ctx, lo, hi);
}

/* Rows [r0, r1) of x (one SUM_BLOCK block) added in order into prow's columns [lo, hi),
 * the first row copied: reduce_range's sums. With a prologue, the rows are computed
 * PRO_CHUNK floats at a time just before they are added, so that they are read back from
 * L1 or L2: a whole block (64 rows of 12,544 in the ResNet's batch norm, 3.2 MB) went to
 * L3 and came back. The same additions in the same order. */
enum { PRO_CHUNK = 16384 };
static void block_rows(const float *x, float *prow, int64_t r0, int64_t r1, int64_t inner, int64_t lo,
                       int64_t hi, const Pro *pro)
{
    int64_t w = hi - lo, step = !pro ? r1 - r0 : w < PRO_CHUNK ? PRO_CHUNK / w : 1;
    for (int64_t c0 = r0; c0 < r1; c0 += step) {
        int64_t c1 = r1 - c0 < step ? r1 : c0 + step;
        if (pro && w == inner) pro_run(pro, c0 * inner, c1 * inner);
        for (int64_t i = c0; pro && w < inner && i < c1; i++) pro_run(pro, i * inner + lo, i * inner + hi);
        for (int64_t k = c0; k < c1; k++) {
            const float *xk = x + k * inner;
            if (k == r0) memcpy(prow + lo, xk + lo, sizeof(float) * (size_t)w);
            else for (int64_t i = lo; i < hi; i++) prow[i] += xk[i];
        }
    }
}

/* A sum over the batch (outer == 1) in blocks of SUM_BLOCK rows (sum_blocks), part holding
 * a partial row per block. Threads take whole blocks (thread t then reads the batch rows
 * it wrote in the kernels before), then split the columns to add the partials; with fewer
 * blocks than threads each takes a range of columns through every block. */
static void reduce_rows(const float *x, float *y, int64_t r, int64_t inner, float scale, int nt,
                        float *part, const Pro *pro)
{
    int64_t nb = ceil_blocks(r);
    #define BLOCK(b, lo, hi) block_rows(x, part + (b) * inner, (b) * SUM_BLOCK, \
                                        r - (b) * SUM_BLOCK < SUM_BLOCK ? r : (b) * SUM_BLOCK + SUM_BLOCK, \
                                        inner, lo, hi, pro)
    if (nt <= 1) {
        for (int64_t b = 0; b < nb; b++) BLOCK(b, 0, inner);
        sum_blocks(part, nb, inner, scale, y, 0, inner);
        return;
    }
    if (nb < nt) {   /* too few blocks to share (a batch of 64: one): split the columns */
        #pragma omp parallel num_threads(rt_threads())
        {
            int64_t lo, hi;
            rt_share((inner + 15) / 16, nt, &lo, &hi);   /* whole cache lines of y */
            lo = lo * 16 < inner ? lo * 16 : inner;
            hi = hi * 16 < inner ? hi * 16 : inner;
            for (int64_t b = 0; b < nb && lo < hi; b++) BLOCK(b, lo, hi);
            sum_blocks(part, nb, inner, scale, y, lo, hi);
        }
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(nb, nt, &lo, &hi);
        for (int64_t b = lo; b < hi; b++) BLOCK(b, 0, inner);
        #pragma omp barrier
        rt_share(inner, nt, &lo, &hi);
        sum_blocks(part, nb, inner, scale, y, lo, hi);
    }
    #undef BLOCK
}

/* Outputs [lo, hi) of a sum over each row of r (inner == 1), their rows computed by the
 * prologue PRO_FLOATS of x at a time just before they are summed. */
enum { PRO_FLOATS = 4096 };
static void reduce_range_pro(const float *x, float *y, int64_t r, float scale, int64_t lo, int64_t hi,
                             const Pro *pro)
{
    int64_t step = r > 0 && r < PRO_FLOATS ? PRO_FLOATS / r : 1;
    for (int64_t o0 = lo; o0 < hi; o0 += step) {
        int64_t o1 = hi - o0 < step ? hi : o0 + step;
        pro_run(pro, o0 * r, o1 * r);
        reduce_range(x, y, r, 1, scale, o0, o1);
    }
}

void nnl_reduce_sum_pro(const float *x, float *y, int64_t outer, int64_t r, int64_t inner, float scale,
                        NnlKernelFn pro_fn, const NnlCtx *pro_ctx)
{
    int64_t outs = outer * inner;
    Pro pro = {pro_fn, pro_ctx}, *p = pro_fn ? &pro : NULL;
    if (outs <= 0) {
        pro_run(p, 0, outer * r * inner);   /* (empty: outer or inner is 0) */
        return;
    }
    int nt = threads_for(outs * (r > 0 ? r : 1) * (p ? 2 : 1), outs);
    float *part;
    if (outer == 1 && inner > 1 && r >= 8 && (part = rt_scratch(&rows_scratch, (size_t)(ceil_blocks(r) * inner)))) {
        reduce_rows(x, y, r, inner, scale, nt, part, p);
        return;
    }
    if (p && inner > 1) {   /* x's rows of an output range are not contiguous: the loop first */
        nnl_parallel_for(pro_fn, pro_ctx, outer * r * inner);
        p = NULL;
    }
    if (nt <= 1) {
        if (p) reduce_range_pro(x, y, r, scale, 0, outs, p);
        else reduce_range(x, y, r, inner, scale, 0, outs);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(outs, nt, &lo, &hi);
        if (p) reduce_range_pro(x, y, r, scale, lo, hi, p);
        else reduce_range(x, y, r, inner, scale, lo, hi);
    }
}

void nnl_reduce_sum(const float *x, float *y, int64_t outer, int64_t r, int64_t inner,
                    float scale)
{
    nnl_reduce_sum_pro(x, y, outer, r, inner, scale, NULL, NULL);
}

/* A float label to a column, or -1 when it is not one (NaN, negative, >= cols). */
static int64_t label_col(float l, int64_t cols)
{
    return l >= 0.0f && l < (float)cols ? (int64_t)l : -1;
}

void nnl_pick(const float *x, const float *labels, float *y, int64_t rows, int64_t cols)
{
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = label_col(labels[i], cols);
        y[i] = j >= 0 ? x[i * cols + j] : 0.0f;
    }
}

/* dx rows [lo, hi): zero but for dy at each row's label. */
static void unpick_rows(const float *dy, const float *labels, float *dx, int64_t cols, int64_t lo, int64_t hi)
{
    if (hi > lo) memset(dx + lo * cols, 0, sizeof(float) * (hi - lo) * cols);
    for (int64_t i = lo; i < hi; i++) {
        int64_t j = label_col(labels[i], cols);
        if (j >= 0) dx[i * cols + j] = dy[i];
    }
}

void nnl_unpick(const float *dy, const float *labels, float *dx, int64_t rows, int64_t cols)
{
    if (rows <= 0 || cols <= 0) return;
    int nt = threads_for(rows * cols, rows);
    if (nt <= 1) {   /* no OpenMP region for one thread: ~1 us each */
        unpick_rows(dy, labels, dx, cols, 0, rows);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(rows, nt, &lo, &hi);
        unpick_rows(dy, labels, dx, cols, lo, hi);
    }
}
