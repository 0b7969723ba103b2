/* pool.c — 2-D max and average pooling in NCHW and their adjoints. In: NnlPool shapes, a
 * batch size and float tensors. Out: y or dx, overwritten. Padded cells are not cells:
 * they never win a max and are left out of an average's count; a window that covers
 * padding only (possible only when the padding is as wide as the window) gives 0 and
 * passes no gradient back. Ties go to the first maximum in row-major window order, the
 * same cell in the forward and in dx. Planes (image, channel) are split between threads
 * in contiguous chunks; each output is computed by one thread in one fixed order, so
 * results do not depend on the thread count.
 *
 * Per output row, the windows that lie wholly inside the plane in w (the interior
 * columns) share one row range and their full width, so a loop with constant trip counts
 * for the common shapes covers them; the clipped windows at the left and right edges take
 * a plain loop. Both visit cells in row-major window order. No heap memory. */
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "rt_internal.h"   /* (immintrin.h on AVX2 and AVX-512) */

enum {
    PAR_MIN = 1 << 17,       /* window taps below which a region (~3 us) costs more than it saves */
};

static int pool_threads(const NnlPool *pl, int64_t planes)
{
    return rt_threads_for((double)planes * pl->p * pl->q * pl->kh * pl->kw, PAR_MIN, planes);
}

/* Window rows [*h0, *h1) of output row i, clipped to the plane. */
static void win_rows(const NnlPool *pl, int64_t i, int64_t *h0, int64_t *h1)
{
    int64_t a = i * pl->stride_h - pl->pad_top;
    *h0 = a > 0 ? a : 0;
    *h1 = a + pl->kh < pl->h ? a + pl->kh : pl->h;
}

/* Window columns [*w0, *w1) of output column j, clipped to the plane. */
static void win_cols(const NnlPool *pl, int64_t j, int64_t *w0, int64_t *w1)
{
    int64_t b = j * pl->stride_w - pl->pad_left;
    *w0 = b > 0 ? b : 0;
    *w1 = b + pl->kw < pl->w ? b + pl->kw : pl->w;
}

/* Interior columns [*lo, *hi): windows with 0 <= j sw - pl and j sw - pl + kw <= w. */
static void interior(const NnlPool *pl, int64_t *lo, int64_t *hi)
{
    int64_t sw = pl->stride_w, a = (pl->pad_left + sw - 1) / sw;
    int64_t room = pl->w + pl->pad_left - pl->kw;
    int64_t b = room < 0 ? 0 : room / sw + 1;
    if (b > pl->q) b = pl->q;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* ---- the interior windows of one output row: n windows of `rows` x kw cells whose
 *      top-left cells lie sw apart from x (a plane row pointer). Always inlined, so that
 *      the calls with common window widths and strides get constant trip counts ---- */

#define ROW static inline __attribute__((always_inline)) void

ROW row_max(float *restrict y, const float *restrict x, int64_t n, int64_t rows, int64_t w,
            int64_t kw, int64_t sw)
{
    for (int64_t j = 0; j < n; j++) {
        const float *c = x + j * sw;
        float m = c[0];
        for (int64_t a = 0; a < rows; a++)
            for (int64_t v = 0; v < kw; v++) m = c[a * w + v] > m ? c[a * w + v] : m;
        y[j] = m;
    }
}

/* dy[j] added to the first maximum of window j; x is the plane, off the first window's
 * top-left cell. The maximum is found as in the forward, then the first cell equal to
 * it from a bit mask: no branch on the data (a select per cell compiles to branches
 * that random inputs mispredict, 20x slower). A NaN first cell matches nothing and
 * keeps the first cell, as in the forward. */
ROW row_argmax(float *restrict dx, const float *restrict dy, const float *restrict x,
               int64_t off, int64_t n, int64_t rows, int64_t w, int64_t kw, int64_t sw)
{
    for (int64_t j = 0; j < n; j++) {
        const float *c = x + off + j * sw;
        float m = c[0];
        for (int64_t a = 0; a < rows; a++)
            for (int64_t v = 0; v < kw; v++) m = c[a * w + v] > m ? c[a * w + v] : m;
        int64_t at = 0;
        if (rows * kw <= 64) {
            uint64_t hit = 0;
            for (int64_t a = 0; a < rows; a++)
                for (int64_t v = 0; v < kw; v++)
                    hit |= (uint64_t)(c[a * w + v] == m) << (a * kw + v);
            int64_t k = hit ? __builtin_ctzll(hit) : 0;
            at = k / kw * w + k % kw;
        } else {
            for (int64_t k = rows * kw - 1; k >= 0; k--)
                if (c[k / kw * w + k % kw] == m) at = k / kw * w + k % kw;
        }
        dx[off + j * sw + at] += dy[j];
    }
}

ROW row_avg(float *restrict y, const float *restrict x, int64_t n, int64_t rows, int64_t w,
            int64_t kw, int64_t sw)
{
    float cnt = (float)(rows * kw);
    for (int64_t j = 0; j < n; j++) {
        const float *c = x + j * sw;
        float s = 0.0f;
        for (int64_t a = 0; a < rows; a++)
            for (int64_t v = 0; v < kw; v++) s += c[a * w + v];
        y[j] = s / cnt;
    }
}

ROW row_spread(float *restrict dx, const float *restrict dy, int64_t n, int64_t rows,
               int64_t w, int64_t kw, int64_t sw)
{
    float cnt = (float)(rows * kw);
    for (int64_t j = 0; j < n; j++) {
        float *c = dx + j * sw, g = dy[j] / cnt;
        for (int64_t a = 0; a < rows; a++)
            for (int64_t v = 0; v < kw; v++) c[a * w + v] += g;
    }
}

/* CALL(rows, kw, sw) with constants for the common windows when they are whole (2x2
 * stride 2, 3x3 stride 1 or 2). */
#define BY_SHAPE(pl, rows, CALL) \
    do { \
        int64_t r_ = (rows), kw_ = (pl)->kw, sw_ = (pl)->stride_w; \
        if (r_ == 2 && kw_ == 2 && sw_ == 2) CALL(2, 2, 2); \
        else if (r_ == 3 && kw_ == 3 && sw_ == 2) CALL(3, 3, 2); \
        else if (r_ == 3 && kw_ == 3 && sw_ == 1) CALL(3, 3, 1); \
        else CALL(r_, kw_, sw_); \
    } while (0)

/* ---- one plane each: x (h, w), y and dy (p, q), dx (h, w) ---- */

/* j over the edge columns [0, lo) and [hi, q). */
#define FOR_EDGE(j, lo, hi, q) for (int64_t j = (lo) > 0 ? 0 : (hi); j < (q); j = j + 1 == (lo) ? (hi) : j + 1)

typedef void (*PlaneFn)(const NnlPool *pl, const float *x, const float *dy, float *out);

/* The first maximum of the clipped window (rows [h0, h1), columns of output j) as an
 * index into the plane; -1 when the window is empty. */
static int64_t edge_argmax(const NnlPool *pl, const float *x, int64_t h0, int64_t h1,
                           int64_t j)
{
    int64_t w0, w1, best = -1;
    win_cols(pl, j, &w0, &w1);
    if (h0 >= h1 || w0 >= w1) return -1;
    float m = x[h0 * pl->w + w0];
    best = h0 * pl->w + w0;
    for (int64_t a = h0; a < h1; a++)
        for (int64_t b = w0; b < w1; b++)
            if (x[a * pl->w + b] > m) {
                m = x[a * pl->w + b];
                best = a * pl->w + b;
            }
    return best;
}

static void max_plane(const NnlPool *pl, const float *x, const float *dy, float *y)
{
    int64_t lo, hi;
    interior(pl, &lo, &hi);
    for (int64_t i = 0; i < pl->p; i++) {
        int64_t h0, h1;
        win_rows(pl, i, &h0, &h1);
        float *yr = y + i * pl->q;
        FOR_EDGE (j, lo, hi, pl->q) {
            int64_t at = edge_argmax(pl, x, h0, h1, j);
            yr[j] = at >= 0 ? x[at] : 0.0f;
        }
        if (h0 >= h1) {
            for (int64_t j = lo; j < hi; j++) yr[j] = 0.0f;
            continue;
        }
        const float *x0 = x + h0 * pl->w + lo * pl->stride_w - pl->pad_left;
#define CALL(rows, kw, sw) row_max(yr + lo, x0, hi - lo, rows, pl->w, kw, sw)
        BY_SHAPE(pl, h1 - h0, CALL);
#undef CALL
    }
}

/* dx = 0, then dy of every window added to its first maximum. */
static void max_dx_plane(const NnlPool *pl, const float *x, const float *dy, float *dx)
{
    int64_t lo, hi;
    interior(pl, &lo, &hi);
    memset(dx, 0, sizeof(float) * pl->h * pl->w);
    for (int64_t i = 0; i < pl->p; i++) {
        int64_t h0, h1;
        win_rows(pl, i, &h0, &h1);
        const float *dyr = dy + i * pl->q;
        FOR_EDGE (j, lo, hi, pl->q) {
            int64_t at = edge_argmax(pl, x, h0, h1, j);
            if (at >= 0) dx[at] += dyr[j];
        }
        if (h0 >= h1) continue;
        int64_t off = h0 * pl->w + lo * pl->stride_w - pl->pad_left;
#define CALL(rows, kw, sw) row_argmax(dx, dyr + lo, x, off, hi - lo, rows, pl->w, kw, sw)
        BY_SHAPE(pl, h1 - h0, CALL);
#undef CALL
    }
}

static void avg_plane(const NnlPool *pl, const float *x, const float *dy, float *y)
{
    int64_t lo, hi;
    interior(pl, &lo, &hi);
    for (int64_t i = 0; i < pl->p; i++) {
        int64_t h0, h1;
        win_rows(pl, i, &h0, &h1);
        float *yr = y + i * pl->q;
        FOR_EDGE (j, lo, hi, pl->q) {
            int64_t w0, w1;
            win_cols(pl, j, &w0, &w1);
            float s = 0.0f;
            for (int64_t a = h0; a < h1; a++)
                for (int64_t b = w0; b < w1; b++) s += x[a * pl->w + b];
            yr[j] = h1 > h0 && w1 > w0 ? s / (float)((h1 - h0) * (w1 - w0)) : 0.0f;
        }
        if (h0 >= h1) {
            for (int64_t j = lo; j < hi; j++) yr[j] = 0.0f;
            continue;
        }
        const float *x0 = x + h0 * pl->w + lo * pl->stride_w - pl->pad_left;
#define CALL(rows, kw, sw) row_avg(yr + lo, x0, hi - lo, rows, pl->w, kw, sw)
        BY_SHAPE(pl, h1 - h0, CALL);
#undef CALL
    }
}

/* dx = 0, then dy / count of every window added to each of its cells. */
static void avg_dx_plane(const NnlPool *pl, const float *x, const float *dy, float *dx)
{
    int64_t lo, hi;
    interior(pl, &lo, &hi);
    memset(dx, 0, sizeof(float) * pl->h * pl->w);
    for (int64_t i = 0; i < pl->p; i++) {
        int64_t h0, h1;
        win_rows(pl, i, &h0, &h1);
        const float *dyr = dy + i * pl->q;
        FOR_EDGE (j, lo, hi, pl->q) {
            int64_t w0, w1;
            win_cols(pl, j, &w0, &w1);
            if (h0 >= h1 || w0 >= w1) continue;
            float g = dyr[j] / (float)((h1 - h0) * (w1 - w0));
            for (int64_t a = h0; a < h1; a++)
                for (int64_t b = w0; b < w1; b++) dx[a * pl->w + b] += g;
        }
        if (h0 >= h1) continue;
        float *d0 = dx + h0 * pl->w + lo * pl->stride_w - pl->pad_left;
#define CALL(rows, kw, sw) row_spread(d0, dyr + lo, hi - lo, rows, pl->w, kw, sw)
        BY_SHAPE(pl, h1 - h0, CALL);
#undef CALL
    }
}

/* ---- 2x2 windows, stride 2, no padding (the classic CNN's pooling): the windows tile
 *      the plane, so dx is written once per cell instead of zeroed and scattered into;
 *      a last odd row or column belongs to no window and gets 0 ---- */

static int is_2x2(const NnlPool *pl)
{
    return pl->kh == 2 && pl->kw == 2 && pl->stride_h == 2 && pl->stride_w == 2 &&
           pl->pad_top == 0 && pl->pad_left == 0 && 2 * pl->p <= pl->h && 2 * pl->q <= pl->w;
}

#if defined(__AVX512F__)
/* The cells of windows j .. j + n - 1 (n <= 16) of the row pair r0, r1: a and b the
 * even and odd columns of r0, c and d of r1, a window a lane; their maximum in
 * row_max's order (max_ps(x, m) is x > m ? x : m). */
static inline __m512 windows16(const float *r0, const float *r1, int64_t j, int64_t n,
                               __m512 *a, __m512 *b, __m512 *c, __m512 *d)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    __mmask16 mlo = (__mmask16)(n >= 8 ? 0xffff : (1u << 2 * n) - 1);
    __mmask16 mhi = (__mmask16)(n <= 8 ? 0 : (1u << (2 * n - 16)) - 1);
    __m512 u0 = _mm512_maskz_loadu_ps(mlo, r0 + 2 * j), u1 = _mm512_maskz_loadu_ps(mhi, r0 + 2 * j + 16);
    __m512 v0 = _mm512_maskz_loadu_ps(mlo, r1 + 2 * j), v1 = _mm512_maskz_loadu_ps(mhi, r1 + 2 * j + 16);
    *a = _mm512_permutex2var_ps(u0, even, u1);
    *b = _mm512_permutex2var_ps(u0, odd, u1);
    *c = _mm512_permutex2var_ps(v0, even, v1);
    *d = _mm512_permutex2var_ps(v0, odd, v1);
    __m512 m = _mm512_max_ps(*b, *a);
    m = _mm512_max_ps(*c, m);
    return _mm512_max_ps(*d, m);
}
#endif

#if !defined(__AVX512F__) && defined(__AVX2__)
/* windows16 with 8 lanes, for 8 whole windows j .. j + 7. The lanes hold windows 0, 1, 4,
 * 5 | 2, 3, 6, 7 (vshufps works within 128-bit halves): swap_mid puts them in order, and
 * interleaving two such vectors (vunpcklps, vunpckhps) gives columns in order. */
static inline __m256 swap_mid(__m256 v) { return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8)); }

static inline __m256 windows8(const float *r0, const float *r1, int64_t j, __m256 *a, __m256 *b,
                              __m256 *c, __m256 *d)
{
    __m256 u0 = _mm256_loadu_ps(r0 + 2 * j), u1 = _mm256_loadu_ps(r0 + 2 * j + 8);
    __m256 v0 = _mm256_loadu_ps(r1 + 2 * j), v1 = _mm256_loadu_ps(r1 + 2 * j + 8);
    *a = _mm256_shuffle_ps(u0, u1, _MM_SHUFFLE(2, 0, 2, 0));
    *b = _mm256_shuffle_ps(u0, u1, _MM_SHUFFLE(3, 1, 3, 1));
    *c = _mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0));
    *d = _mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1));
    __m256 m = _mm256_max_ps(*b, *a);
    m = _mm256_max_ps(*c, m);
    return _mm256_max_ps(*d, m);
}
#endif

static void max2_plane(const NnlPool *pl, const float *x, const float *dy, float *y)
{
    (void)dy;
    int64_t w = pl->w, q = pl->q;
    for (int64_t i = 0; i < pl->p; i++) {
        const float *r0 = x + 2 * i * w, *r1 = r0 + w;
        float *yr = y + i * q;
        int64_t j = 0;
#if defined(__AVX512F__)
        for (; j < q; j += 16) {   /* 16 windows at a time, the last block masked */
            int64_t n = q - j < 16 ? q - j : 16;
            __m512 a, b, c, d;
            _mm512_mask_storeu_ps(yr + j, (__mmask16)((1u << n) - 1), windows16(r0, r1, j, n, &a, &b, &c, &d));
        }
#elif defined(__AVX2__)
        for (; j + 8 <= q; j += 8) {   /* 8 windows at a time, the rest below */
            __m256 a, b, c, d;
            _mm256_storeu_ps(yr + j, swap_mid(windows8(r0, r1, j, &a, &b, &c, &d)));
        }
#endif
        for (; j < q; j++) {   /* the order of row_max: a, b, c, d */
            float m = r0[2 * j];
            m = r0[2 * j + 1] > m ? r0[2 * j + 1] : m;
            m = r1[2 * j] > m ? r1[2 * j] : m;
            m = r1[2 * j + 1] > m ? r1[2 * j + 1] : m;
            yr[j] = m;
        }
    }
}

/* The first cell equal to the maximum takes dy, the others 0; none equal (a NaN first
 * cell): the first, as row_argmax. The cells' choice made from x's windows, or (x NULL)
 * read from their codes (rt_maxpool2d_codes_planes, the same choice). */
static void max2_dx_choose(const NnlPool *pl, const float *x, const uint8_t *code, const float *dy, float *dx)
{
    int64_t w = pl->w, q = pl->q;
    for (int64_t i = 0; i < pl->p; i++) {
        const float *r0 = x ? x + 2 * i * w : NULL, *r1 = x ? r0 + w : NULL;
        const uint8_t *cr = code ? code + i * q : NULL;
        float *d0 = dx + 2 * i * w, *d1 = d0 + w;
        const float *g = dy + i * q;
        int64_t j = 0;
#if defined(__AVX512F__)
        /* 16 windows at a time, masks of the first hit */
        const __m512i lo_ix = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i hi_ix = _mm512_add_epi32(lo_ix, _mm512_set1_epi32(8));
        for (; j < q; j += 16) {   /* the last block masked */
            int64_t n = q - j < 16 ? q - j : 16;
            __mmask16 m1 = (__mmask16)((1u << n) - 1), mlo = (__mmask16)(n >= 8 ? 0xffff : (1u << 2 * n) - 1);
            __mmask16 mhi = (__mmask16)(n <= 8 ? 0 : (1u << (2 * n - 16)) - 1);
            __mmask16 ta, tb, tc, td;
            if (cr) {
                __m512i cv = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m1, cr + j));
                ta = _mm512_cmpeq_epi32_mask(cv, _mm512_setzero_si512());
                tb = _mm512_cmpeq_epi32_mask(cv, _mm512_set1_epi32(1));
                tc = _mm512_cmpeq_epi32_mask(cv, _mm512_set1_epi32(2));
                td = _mm512_cmpeq_epi32_mask(cv, _mm512_set1_epi32(3));
            } else {
                __m512 a, b, c, d, m = windows16(r0, r1, j, n, &a, &b, &c, &d);
                __mmask16 ea = _mm512_cmp_ps_mask(a, m, _CMP_EQ_OQ), eb = _mm512_cmp_ps_mask(b, m, _CMP_EQ_OQ);
                __mmask16 ec = _mm512_cmp_ps_mask(c, m, _CMP_EQ_OQ), ed = _mm512_cmp_ps_mask(d, m, _CMP_EQ_OQ);
                ta = ea | (__mmask16)~(eb | ec | ed);
                tb = (__mmask16)(~ea & eb);
                tc = (__mmask16)(~ea & ~eb & ec);
                td = (__mmask16)(~ea & ~eb & ~ec & ed);
            }
            __m512 gv = _mm512_maskz_loadu_ps(m1, g + j);
            __m512 za = _mm512_maskz_mov_ps(ta, gv), zb = _mm512_maskz_mov_ps(tb, gv);
            __m512 zc = _mm512_maskz_mov_ps(tc, gv), zd = _mm512_maskz_mov_ps(td, gv);
            _mm512_mask_storeu_ps(d0 + 2 * j, mlo, _mm512_permutex2var_ps(za, lo_ix, zb));
            _mm512_mask_storeu_ps(d0 + 2 * j + 16, mhi, _mm512_permutex2var_ps(za, hi_ix, zb));
            _mm512_mask_storeu_ps(d1 + 2 * j, mlo, _mm512_permutex2var_ps(zc, lo_ix, zd));
            _mm512_mask_storeu_ps(d1 + 2 * j + 16, mhi, _mm512_permutex2var_ps(zc, hi_ix, zd));
        }
#elif defined(__AVX2__)
        for (; j + 8 <= q; j += 8) {   /* 8 windows at a time (the rest below), in windows8's lane order */
            __m256 ta, tb, tc, td;
            if (cr) {
                int64_t c8;
                memcpy(&c8, cr + j, 8);
                __m256i ci = _mm256_castps_si256(swap_mid(_mm256_castsi256_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(c8)))));
                ta = _mm256_castsi256_ps(_mm256_cmpeq_epi32(ci, _mm256_setzero_si256()));
                tb = _mm256_castsi256_ps(_mm256_cmpeq_epi32(ci, _mm256_set1_epi32(1)));
                tc = _mm256_castsi256_ps(_mm256_cmpeq_epi32(ci, _mm256_set1_epi32(2)));
                td = _mm256_castsi256_ps(_mm256_cmpeq_epi32(ci, _mm256_set1_epi32(3)));
            } else {   /* masks of the first hit */
                __m256 a, b, c, d, m = windows8(r0, r1, j, &a, &b, &c, &d);
                __m256 ea = _mm256_cmp_ps(a, m, _CMP_EQ_OQ), eb = _mm256_cmp_ps(b, m, _CMP_EQ_OQ);
                __m256 ec = _mm256_cmp_ps(c, m, _CMP_EQ_OQ), ed = _mm256_cmp_ps(d, m, _CMP_EQ_OQ);
                __m256 ab = _mm256_or_ps(ea, eb), abc = _mm256_or_ps(ab, ec);
                ta = _mm256_or_ps(ea, _mm256_xor_ps(_mm256_or_ps(_mm256_or_ps(eb, ec), ed),
                                                    _mm256_castsi256_ps(_mm256_set1_epi32(-1))));
                tb = _mm256_andnot_ps(ea, eb);
                tc = _mm256_andnot_ps(ab, ec);
                td = _mm256_andnot_ps(abc, ed);
            }
            __m256 gv = swap_mid(_mm256_loadu_ps(g + j));   /* in the windows' lane order */
            __m256 za = _mm256_and_ps(ta, gv), zb = _mm256_and_ps(tb, gv);
            __m256 zc = _mm256_and_ps(tc, gv), zd = _mm256_and_ps(td, gv);
            _mm256_storeu_ps(d0 + 2 * j, _mm256_unpacklo_ps(za, zb));
            _mm256_storeu_ps(d0 + 2 * j + 8, _mm256_unpackhi_ps(za, zb));
            _mm256_storeu_ps(d1 + 2 * j, _mm256_unpacklo_ps(zc, zd));
            _mm256_storeu_ps(d1 + 2 * j + 8, _mm256_unpackhi_ps(zc, zd));
        }
#endif
        for (; j < q; j++) {
            /* masks, not branches: random data mispredicts every branch on it */
            uint32_t ta, tb, tc, td, gj, out;
            if (cr) {
                ta = -(uint32_t)(cr[j] == 0);
                tb = -(uint32_t)(cr[j] == 1);
                tc = -(uint32_t)(cr[j] == 2);
                td = -(uint32_t)(cr[j] == 3);
            } else {
                float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
                float m = a;
                m = b > m ? b : m;
                m = c > m ? c : m;
                m = d > m ? d : m;
                uint32_t ea = -(uint32_t)(a == m), eb = -(uint32_t)(b == m), ec = -(uint32_t)(c == m);
                uint32_t ed = -(uint32_t)(d == m);
                ta = ea | ~(eb | ec | ed);
                tb = ~ea & eb;
                tc = ~ea & ~eb & ec;
                td = ~ea & ~eb & ~ec & ed;
            }
            memcpy(&gj, &g[j], 4);
            out = gj & ta; memcpy(&d0[2 * j], &out, 4);
            out = gj & tb; memcpy(&d0[2 * j + 1], &out, 4);
            out = gj & tc; memcpy(&d1[2 * j], &out, 4);
            out = gj & td; memcpy(&d1[2 * j + 1], &out, 4);
        }
        if (w > 2 * q) d0[w - 1] = d1[w - 1] = 0.0f;
    }
    if (pl->h > 2 * pl->p) memset(dx + (pl->h - 1) * w, 0, sizeof(float) * w);
}

static void max2_dx_plane(const NnlPool *pl, const float *x, const float *dy, float *dx)
{
    max2_dx_choose(pl, x, NULL, dy, dx);
}

/* ---- window codes: a 2x2 pooling's choices kept as one byte a window instead of the
 *      plane they were made from (nnl_conv2d_maxpool's NNL_KEEP_CODES): the cell, 0..3
 *      in row-major order, that max2_dx_plane gives the window's gradient ---- */

void rt_maxpool2d_codes_planes(const NnlPool *pl, int64_t planes, const float *x, float *y, uint8_t *codes)
{
    int64_t w = pl->w, q = pl->q;
    for (int64_t pc = 0; pc < planes; pc++)
        for (int64_t i = 0; i < pl->p; i++) {
            const float *r0 = x + (pc * pl->h + 2 * i) * w, *r1 = r0 + w;
            float *yr = y + (pc * pl->p + i) * q;
            uint8_t *cr = codes + (pc * pl->p + i) * q;
            for (int64_t j = 0; j < q; j++)
                yr[j] = rt_win_max_code(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1], &cr[j]);
        }
}

void rt_maxpool2d_dx_codes_planes(const NnlPool *pl, int64_t planes, const uint8_t *codes, const float *dy,
                                  float *dx)
{
    int64_t hw = pl->h * pl->w, pq = pl->p * pl->q;
    for (int64_t c = 0; c < planes; c++) max2_dx_choose(pl, NULL, codes + c * pq, dy + c * pq, dx + c * hw);
}

/* fn on every (image, channel) plane; out_plane: floats per plane of out. */
static void pool_run(PlaneFn fn, const NnlPool *pl, int64_t n, const float *x,
                     const float *dy, float *out, int64_t out_plane)
{
    int64_t planes = n * pl->c, hw = pl->h * pl->w, pq = pl->p * pl->q;
    if (planes <= 0) return;
    int nt = pool_threads(pl, planes);
    if (nt <= 1) {   /* no OpenMP region for one thread: ~1 us each */
        for (int64_t c = 0; c < planes; c++)
            fn(pl, x ? x + c * hw : NULL, dy ? dy + c * pq : NULL, out + c * out_plane);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(planes, nt, &lo, &hi);
        for (int64_t c = lo; c < hi; c++)
            fn(pl, x ? x + c * hw : NULL, dy ? dy + c * pq : NULL, out + c * out_plane);
    }
}

void nnl_maxpool2d(const NnlPool *pl, int64_t n, const float *x, float *y)
{
    pool_run(is_2x2(pl) ? max2_plane : max_plane, pl, n, x, NULL, y, pl->p * pl->q);
}

void nnl_maxpool2d_dx(const NnlPool *pl, int64_t n, const float *x, const float *dy, float *dx)
{
    pool_run(is_2x2(pl) ? max2_dx_plane : max_dx_plane, pl, n, x, dy, dx, pl->h * pl->w);
}

void rt_maxpool2d_dx_planes(const NnlPool *pl, int64_t planes, const float *x, const float *dy, float *dx)
{
    PlaneFn fn = is_2x2(pl) ? max2_dx_plane : max_dx_plane;
    int64_t hw = pl->h * pl->w, pq = pl->p * pl->q;
    for (int64_t c = 0; c < planes; c++) fn(pl, x + c * hw, dy + c * pq, dx + c * hw);
}

int64_t rt_maxpool2d_argmax(const NnlPool *pl, const float *x, int64_t i, int64_t j)
{
    int64_t h0, h1;
    win_rows(pl, i, &h0, &h1);
    return edge_argmax(pl, x, h0, h1, j);
}

void nnl_avgpool2d(const NnlPool *pl, int64_t n, const float *x, float *y)
{
    pool_run(avg_plane, pl, n, x, NULL, y, pl->p * pl->q);
}

void nnl_avgpool2d_dx(const NnlPool *pl, int64_t n, const float *dy, float *dx)
{
    pool_run(avg_dx_plane, pl, n, NULL, dy, dx, pl->h * pl->w);
}
