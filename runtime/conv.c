/* conv.c — 2-D convolution in NCHW (nnl_conv2d) and its adjoints in the input
 * (nnl_conv2d_dx) and the weights (nnl_conv2d_dw). In: NnlConv shapes, a batch size and
 * float tensors. Out: y, dx or dw, overwritten. Each (image, group) becomes one nnl_sgemm
 * on an im2col matrix (Chellapilla, Puri & Simard, "High Performance Convolutional Neural
 * Networks for Document Processing", 2006): y = W col, dx = col2im(W^T dy), dw = sum over
 * images of dy col^T. How fast a product runs is gemm.c's business, with these
 * exceptions on AVX-512 and AVX2: the forward and dw of thin filters at unit stride (at
 * most THIN_TAPS weights a filter: a first layer) run as direct loops here (thin_tile,
 * thin_dw), and so does a forward whose 2x2 max pooling follows (nnl_conv2d_maxpool);
 * other filters at strides up to 3 take the flat path (flat_tile, flat_dw: the input
 * read in place from zero-bordered phase planes by a GEMM-like tile, no column matrix;
 * on AVX2, filters in whole blocks of 16 are tiled by output position: pos_tile), as do
 * their input gradients at stride 1 (on AVX2 at strides up to 3 too, where the input
 * channels come in blocks of 16: one stride-1 product a phase, pos_dx_of); other dw of
 * thin groups (a side under 16),
 * which nnl_sgemm would take one latency-bound dot product at a time, go to
 * gemm_nt_thin. nnl_conv2d_ep and nnl_conv2d_dx_ep run an epilogue on each (image,
 * group) unit's output as soon as it is computed.
 *
 * Scratch: one column matrix (cg r s, p q) per thread (for thin filters with padding, a
 * zero-bordered copy of the input instead; for the flat path its padded planes, flat
 * outputs and packed weights) and, for dw, the partial sums of up to NSLOT -
 * 1 batch slices on the calling thread. Both are thread-local, grow to the
 * largest size asked for and are kept for the whole run (like gemm.c's pack buffers), so
 * a training step that repeats its shapes allocates nothing. When an allocation fails we
 * fall back to direct loops (or, for dw's partials, to one slice), never to an exit: the
 * same sums, rounded differently.
 *
 * Threads: (image, group) units are split in contiguous chunks between threads, each
 * GEMM then running serially; with fewer units than threads (batch-1 inference) units run
 * in turn and each GEMM and im2col (the flat path: its tiles) is split instead. Every y
 * and dx element is computed by one GEMM (one tile) with the same arguments either way,
 * and nnl_sgemm's results do not depend on its thread count, so y and dx are identical
 * on any thread count. dw sums over the
 * batch: the batch is cut into a number of slices that depends on the shapes only, each
 * slice summed in image order into its own partial, the partials added in slice order;
 * dw is therefore identical on any thread count too. */
#include <omp.h>
#include <string.h>

#include "rt_internal.h"   /* (immintrin.h on AVX2 and AVX-512) */

enum {
    PAR_FLOPS = 1 << 18,     /* below this a parallel region (~3 us) costs more than it saves: ~6 us
                                of work (at 1 << 20 the Keras CNN's batch-1 convolution, 389k
                                FLOPs, ran on one thread: 14.6 -> 11.5 us a forward on Zen 3) */
    NSLOT = 16,              /* dw: at most this many batch slices */
    SLOT_CAP = 1 << 22,      /* dw: floats of partial sums we are willing to keep */
    THIN_TAPS = 32,          /* direct forward and dw up to this many weights a filter */
};

typedef struct Geom {
    int64_t cg, kg;          /* input channels and filters per group */
    int64_t rows;            /* cg r s: rows of a column matrix, columns of W_g */
    int64_t hw, pq;          /* input and output plane sizes */
    int identity;            /* 1x1, stride 1, no padding: the column matrix is x_g */
} Geom;

static Geom geom(const NnlConv *cv)
{
    Geom g;
    g.cg = cv->c / cv->groups;
    g.kg = cv->k / cv->groups;
    g.rows = g.cg * cv->r * cv->s;
    g.hw = cv->h * cv->w;
    g.pq = cv->p * cv->q;
    g.identity = cv->r == 1 && cv->s == 1 && cv->stride_h == 1 && cv->stride_w == 1 &&
                 cv->pad_top == 0 && cv->pad_left == 0 && cv->p == cv->h && cv->q == cv->w;
    return g;
}

/* ---- scratch, kept per thread for the whole run (rt_scratch) ---- */

static __thread RtScratch col_scratch;     /* this thread's column matrix */
static __thread RtScratch slot_scratch;    /* dw partials, shared with the caller's team */
static __thread RtScratch dy_scratch;      /* one image's output gradient (pooled dw) */

static int conv_threads(double flops)
{
    return rt_threads_for(flops, PAR_FLOPS, INT64_MAX);
}

/* Outputs o in [0, n_out) whose tap o * stride + off falls inside [0, len): [*lo, *hi). */
static void span(int64_t len, int64_t n_out, int64_t stride, int64_t off, int64_t *lo,
                 int64_t *hi)
{
    int64_t a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t b = len - off <= 0 ? 0 : (len - off + stride - 1) / stride;
    if (b > n_out) b = n_out;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* ---- im2col and its adjoint ---- */

/* One row of a column matrix and its adjoint: dst[j] = src[j sw] for j in [j0, j1), 0
 * elsewhere in [0, q); and dst[j sw] += src[j]. Rows are short (q outputs), so plain
 * loops the compiler can unroll beat memcpy calls; always inlined so that sw = 1 gives
 * unit-stride loops. */
static inline __attribute__((always_inline)) void
gather_row(float *restrict dst, const float *restrict src, int64_t j0, int64_t j1,
           int64_t q, int64_t sw)
{
    for (int64_t j = 0; j < j0; j++) dst[j] = 0.0f;
    for (int64_t j = j0; j < j1; j++) dst[j] = src[j * sw];
    for (int64_t j = j1; j < q; j++) dst[j] = 0.0f;
}

static inline __attribute__((always_inline)) void
scatter_row(float *restrict dst, const float *restrict src, int64_t j0, int64_t j1,
            int64_t sw)
{
    for (int64_t j = j0; j < j1; j++) dst[j * sw] += src[j];
}

/* x: (cg, h, w) -> rows of channels [c0, c1) of col: (cg r s, p q), row (c, u, v) holding
 * x[c, i sh - pt + u dh, j sw - pl + v dw] at column (i, j), 0 where that is padding. */
static void im2col(const NnlConv *cv, const float *x, int64_t c0, int64_t c1, float *col)
{
    int64_t H = cv->h, W = cv->w, P = cv->p, Q = cv->q, sh = cv->stride_h, sw = cv->stride_w;
    for (int64_t c = c0; c < c1; c++)
        for (int64_t u = 0; u < cv->r; u++) {
            int64_t oh = u * cv->dil_h - cv->pad_top, i0, i1;
            span(H, P, sh, oh, &i0, &i1);
            for (int64_t v = 0; v < cv->s; v++) {
                int64_t ow = v * cv->dil_w - cv->pad_left, j0, j1;
                span(W, Q, sw, ow, &j0, &j1);
                float *d = col + ((c * cv->r + u) * cv->s + v) * P * Q;
                const float *src = x + (c * H + i0 * sh + oh) * W + ow;
                memset(d, 0, sizeof(float) * i0 * Q);
                if (sw == 1)
                    for (int64_t i = i0; i < i1; i++, src += sh * W) gather_row(d + i * Q, src, j0, j1, Q, 1);
                else
                    for (int64_t i = i0; i < i1; i++, src += sh * W) gather_row(d + i * Q, src, j0, j1, Q, sw);
                memset(d + i1 * Q, 0, sizeof(float) * (P - i1) * Q);
            }
        }
}

/* The adjoint of im2col on channels [c0, c1): dx (cg, h, w) = 0, then every entry of
 * col: (cg r s, p q) added to the cell it was copied from, rows in order. */
static void col2im(const NnlConv *cv, const float *col, int64_t c0, int64_t c1, float *dx)
{
    int64_t H = cv->h, W = cv->w, P = cv->p, Q = cv->q, sh = cv->stride_h, sw = cv->stride_w;
    memset(dx + c0 * H * W, 0, sizeof(float) * (c1 - c0) * H * W);
    for (int64_t c = c0; c < c1; c++)
        for (int64_t u = 0; u < cv->r; u++) {
            int64_t oh = u * cv->dil_h - cv->pad_top, i0, i1;
            span(H, P, sh, oh, &i0, &i1);
            for (int64_t v = 0; v < cv->s; v++) {
                int64_t ow = v * cv->dil_w - cv->pad_left, j0, j1;
                span(W, Q, sw, ow, &j0, &j1);
                const float *d = col + ((c * cv->r + u) * cv->s + v) * P * Q;
                float *dst = dx + (c * H + i0 * sh + oh) * W + ow;
                if (sw == 1)
                    for (int64_t i = i0; i < i1; i++, dst += sh * W) scatter_row(dst, d + i * Q, j0, j1, 1);
                else
                    for (int64_t i = i0; i < i1; i++, dst += sh * W) scatter_row(dst, d + i * Q, j0, j1, sw);
            }
        }
}

/* im2col / col2im of a whole group, split over channels between nt threads (1: serial). */
static void im2col_par(const NnlConv *cv, const Geom *g, const float *x, float *col, int nt)
{
    if (nt <= 1) {
        im2col(cv, x, 0, g->cg, col);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(g->cg, nt, &lo, &hi);
        im2col(cv, x, lo, hi, col);
    }
}

static void col2im_par(const NnlConv *cv, const Geom *g, const float *col, float *dx, int nt)
{
    if (nt <= 1) {
        col2im(cv, col, 0, g->cg, dx);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(g->cg, nt, &lo, &hi);
        col2im(cv, col, lo, hi, dx);
    }
}

/* ---- direct loops: the fallback when scratch cannot be allocated ---- */

/* Calls body(x index, y index, w index) for every tap of one group that reads x. */
#define FOR_EACH_TAP(cv, g, body) \
    for (int64_t kk = 0; kk < (g)->kg; kk++) \
        for (int64_t i = 0; i < (cv)->p; i++) \
            for (int64_t j = 0; j < (cv)->q; j++) \
                for (int64_t c = 0; c < (g)->cg; c++) \
                    for (int64_t u = 0; u < (cv)->r; u++) { \
                        int64_t hi = i * (cv)->stride_h - (cv)->pad_top + u * (cv)->dil_h; \
                        if (hi < 0 || hi >= (cv)->h) continue; \
                        for (int64_t v = 0; v < (cv)->s; v++) { \
                            int64_t wi = j * (cv)->stride_w - (cv)->pad_left + v * (cv)->dil_w; \
                            if (wi < 0 || wi >= (cv)->w) continue; \
                            int64_t xi = (c * (cv)->h + hi) * (cv)->w + wi; \
                            int64_t yi = (kk * (cv)->p + i) * (cv)->q + j; \
                            int64_t ti = ((kk * (g)->cg + c) * (cv)->r + u) * (cv)->s + v; \
                            body; \
                        } \
                    }

/* x: (cg, h, w), w: (kg, cg, r, s) -> y: (kg, p, q). */
static void direct_fwd(const NnlConv *cv, const Geom *g, const float *x, const float *w,
                       float *y)
{
    memset(y, 0, sizeof(float) * g->kg * g->pq);
    FOR_EACH_TAP(cv, g, y[yi] += x[xi] * w[ti]);
}

/* dy: (kg, p, q), w: (kg, cg, r, s) -> dx: (cg, h, w). */
static void direct_dx(const NnlConv *cv, const Geom *g, const float *dy, const float *w,
                      float *dx)
{
    memset(dx, 0, sizeof(float) * g->cg * g->hw);
    FOR_EACH_TAP(cv, g, dx[xi] += dy[yi] * w[ti]);
}

/* x: (cg, h, w), dy: (kg, p, q) -> dw: (kg, cg, r, s) = beta dw + the image's share. */
static void direct_dw(const NnlConv *cv, const Geom *g, const float *x, const float *dy,
                      float *dw, float beta)
{
    int64_t ws = g->kg * g->rows;
    for (int64_t e = 0; e < ws; e++) dw[e] = beta == 0.0f ? 0.0f : beta * dw[e];
    FOR_EACH_TAP(cv, g, dw[ti] += x[xi] * dy[yi]);
}

/* ---- strides 1-3 without a column matrix (the "flat" path) ---- */

/* A stride-1 convolution whose filters are not thin, as a product read in place (with a
 * stride, the same over phase planes: flat_shape below): the
 * input is copied once into zero-bordered planes hp x wp (hp = p + (r - 1) dh, wp = q +
 * (s - 1) dw), and output (i, j) of a plane is then "flat" position f = i wp + j, which
 * reads tap (c, u, v) at xp + c hp wp + u dh wp + v dw + f: for every tap, consecutive
 * outputs read consecutive inputs. A tile of FB filters x 2 vectors of positions loads 2
 * vectors of the input a tap and broadcasts FB weights (packed [tap][F] a block of F <=
 * FB filters: flat_block): the GEMM
 * microkernel's work with the input as its B, never copied into a column matrix and
 * packed again (im2col for 16 filters spent as long packing as multiplying). Positions
 * j >= q of a padded row are computed and dropped (2 of 30 at 28 x 28). The tiles write
 * a flat buffer, whose rows are then copied out q at a time.
 *
 * The input gradient of a stride-1 convolution is the same computation on the output
 * gradient with the filters flipped and transposed (dx[c, i, j] = sum over k, u, v of
 * W[k, c, r-1-u, s-1-v] dyp[k, i + u dh, j + v dw], dy padded by (r - 1) dh - pad_top
 * above), and its weight gradient dw^T (taps x filters) = sum over positions of the
 * tap's inputs times the output gradient transposed (positions x filters): FT taps x 2
 * vectors of filters, a broadcast a tap and 2 loads a position, no horizontal sums.
 * Every output sums its taps (dw: its positions) in a fixed order, from zero. */
#if defined(RT_VEC)
#define FLAT_VEC 1
#if defined(__AVX512F__)
enum { FB = 12, FT = 12 };   /* 24 accumulators, 2 loads, a broadcast: 27 of 32 zmm */
#define FLAT_CASES(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#else
enum { FB = 6, FT = 6 };     /* 12 accumulators, 2 loads, a broadcast: 15 of 16 ymm */
#define FLAT_CASES(X) X(1) X(2) X(3) X(4) X(5)
#endif
enum { FLAT_T = 2 * VL };    /* positions a tile */
enum { POS_F = 2 * VL, POS_P = 6 };   /* the positions path's tile: POS_P positions x POS_F filters */
enum { POS_ON = VL == 8 };            /* ... taken on AVX2 only (pos_of says why) */

enum { FLAT_RS_MAX = 128 };   /* taps a filter plane (r s) at most */

typedef struct Flat {
    int64_t cin, hin, win;          /* one group's input planes */
    int64_t cout, p, q;             /* its output planes */
    int64_t r, s, dh, dw, sh, sw;   /* taps, dilation and stride */
    int64_t pad_top, pad_left;      /* input row a - pad_top at padded row a (may be < 0) */
    int64_t hp, wp, plane, taps;    /* a padded (phase) plane; cin r s */
    int64_t fv, fpad;               /* flat positions holding outputs; rounded up to tiles */
    int64_t cstride;                /* floats from one channel's planes to the next's */
    int64_t off[FLAT_RS_MAX];       /* tap (u, v) of a channel: at off[u s + v] + flat position */
    int pos;                        /* computed by positions (pos_of), not flat positions */
    int64_t psh, psw;               /* output (i, j) at padded row i psh, column j psw: 1, or
                                       the stride in one plain plane (plain_of) */
} Flat;

/* With a stride, the flat tile's padded input is cut into sh x sw phase planes, phase
 * (a, b) holding padded rows a, a + sh, ... and columns b, b + sw, ...: output (i, j)'s
 * tap (u, v) is row i + u dh / sh, column j + v dw / sw of phase (u dh % sh, v dw % sw),
 * so that consecutive outputs read consecutive inputs again. Stride 1 is one phase. (dw
 * and the positions path read each output's input by itself: one plain plane, plain_of.) */
static Flat flat_shape(int64_t cin, int64_t hin, int64_t win, int64_t cout, int64_t p, int64_t q,
                       int64_t r, int64_t s, int64_t dh, int64_t dw, int64_t sh, int64_t sw,
                       int64_t pad_top, int64_t pad_left)
{
    Flat f = {.cin = cin, .hin = hin, .win = win, .cout = cout, .p = p, .q = q, .r = r, .s = s, .dh = dh,
              .dw = dw, .sh = sh, .sw = sw, .pad_top = pad_top, .pad_left = pad_left, .psh = 1, .psw = 1};
    f.hp = p + (r - 1) * dh / sh;
    f.wp = q + (s - 1) * dw / sw;
    f.plane = f.hp * f.wp;
    f.cstride = sh * sw * f.plane;
    f.taps = cin * r * s;
    f.fv = (p - 1) * f.wp + q;
    f.fpad = (f.fv + FLAT_T - 1) / FLAT_T * FLAT_T;
    for (int64_t u = 0; u < r && r * s <= FLAT_RS_MAX; u++)
        for (int64_t v = 0; v < s; v++)
            f.off[u * s + v] = (u * dh % sh * sw + v * dw % sw) * f.plane + u * dh / sh * f.wp + v * dw / sw;
    return f;
}

/* A strided forward's (or dw's) input as one zero-bordered plane, not phase planes:
 * output (i, j) reads from padded row i sh, column j sw on (the positions path and dw
 * read each position's input by itself, so they need no phases). */
static void plain_of(const NnlConv *cv, const Geom *g, Flat *f)
{
    *f = flat_shape(g->cg, cv->h, cv->w, g->kg, (cv->p - 1) * cv->stride_h + 1, (cv->q - 1) * cv->stride_w + 1,
                    cv->r, cv->s, cv->dil_h, cv->dil_w, 1, 1, cv->pad_top, cv->pad_left);
    f->p = cv->p;
    f->q = cv->q;
    f->psh = cv->stride_h;
    f->psw = cv->stride_w;
}

/* The forward of one group (dx 0) or its input gradient (dx 1, stride 1), as a Flat. */
static void flat_of(const NnlConv *cv, const Geom *g, int dx, Flat *f)
{
    if (!dx)
        *f = flat_shape(g->cg, cv->h, cv->w, g->kg, cv->p, cv->q, cv->r, cv->s, cv->dil_h, cv->dil_w,
                        cv->stride_h, cv->stride_w, cv->pad_top, cv->pad_left);
    else
        *f = flat_shape(g->kg, cv->p, cv->q, g->cg, cv->h, cv->w, cv->r, cv->s, cv->dil_h, cv->dil_w, 1, 1,
                        (cv->r - 1) * cv->dil_h - cv->pad_top, (cv->s - 1) * cv->dil_w - cv->pad_left);
}

/* An input gradient at a stride that the positions path takes (pos_dx_of): on AVX2,
 * the input channels in whole blocks of POS_F, no padding cut off above or left. */
static int pos_dx_ok(const NnlConv *cv, const Geom *g)
{
    return POS_ON && g->cg % POS_F == 0 && cv->pad_top >= 0 && cv->pad_left >= 0;
}

/* The forward and dw take the flat path at strides up to 3, the input gradient at
 * stride 1, or up to 3 where the positions path takes it (pos_dx_of; elsewhere a strided
 * one's adjoint reads dy at a stride: the column matrix's way). */
static int flat_path(const NnlConv *cv, const Geom *g, int dx)
{
    int64_t st = dx && !pos_dx_ok(cv, g) ? 1 : 3;
    return cv->stride_h <= st && cv->stride_w <= st && !g->identity && g->rows > THIN_TAPS &&
           cv->r * cv->s <= FLAT_RS_MAX;
}

static __thread RtScratch flat_in_scratch;    /* a padded input (+ dw: dy transposed) */
static __thread RtScratch flat_out_scratch;   /* flat outputs; dw: taps x filters sums */
static __thread RtScratch flat_w_scratch;     /* packed weights, shared with the caller's team */

/* the padded input, FLAT_T zeros, and with a stride one padded row (flat_pad) */
static size_t flat_in_floats(const Flat *f)
{
    return (size_t)(f->cin * f->cstride + FLAT_T + (f->sh > 1 || f->sw > 1 ? f->sw * f->wp : 0));
}

/* n floats from src to dst a vector at a time, the last vector ending at n (overlapping
 * the one before: no masks, no call) when n >= VL. */
static inline void flat_copy(float *restrict dst, const float *restrict src, int64_t n)
{
    if (n < VL) {
        for (int64_t j = 0; j < n; j++) dst[j] = src[j];
        return;
    }
    for (int64_t j = 0; j + VL <= n; j += VL) vf_storeu(dst + j, vf_loadu(src + j));
    vf_storeu(dst + n - VL, vf_loadu(src + n - VL));
}

/* The padded layout this thread's flat_in_scratch last had: its borders (and the tail)
 * are still zero when the next input has the same in the same allocation (address and
 * capacity: a buffer that grew is a new one, even at the same address), and only the
 * inside is copied. */
static __thread struct {
    const float *p;
    size_t cap;
    int64_t cin, hin, win, hp, wp, pad_top, pad_left;
} flat_zeroed;

/* x (cin, hin, win) into zero-bordered planes xp (cin, hp, wp), plus FLAT_T zeros that
 * the last tile's loads may reach. */
static void flat_pad(const Flat *f, const float *x, float *xp)
{
    if (f->sh > 1 || f->sw > 1) {   /* phase planes, written whole (and the cache forgotten) */
        flat_zeroed.p = NULL;
        int64_t pw = f->sw * f->wp, t0, t1;   /* a padded row's columns; those that lie in x */
        float *tmp = xp + f->cin * f->cstride + FLAT_T;   /* one padded row (flat_in_floats) */
        span(f->win, pw, 1, -f->pad_left, &t0, &t1);
        for (int64_t c = 0; c < f->cin; c++)
            for (int64_t a = 0; a < f->sh; a++)
                for (int64_t i = 0; i < f->hp; i++) {
                    float *row = xp + c * f->cstride + a * f->sw * f->plane + i * f->wp;
                    int64_t hi = i * f->sh + a - f->pad_top;
                    if (hi < 0 || hi >= f->hin || t0 >= t1) {
                        for (int64_t b = 0; b < f->sw; b++) memset(row + b * f->plane, 0, sizeof(float) * f->wp);
                        continue;
                    }
                    const float *xr = x + (c * f->hin + hi) * f->win - f->pad_left;   /* padded column 0 */
                    if (f->sw == 2) {   /* both phases in one loop the compiler vectorizes with shuffles */
                        float *restrict e = row, *restrict o = row + f->plane;
                        int64_t e0, e1, o0, o1;   /* the columns of each phase that lie in x */
                        span(f->win, f->wp, 2, -f->pad_left, &e0, &e1);
                        span(f->win, f->wp, 2, 1 - f->pad_left, &o0, &o1);
                        int64_t lo = e0 > o0 ? e0 : o0, hi2 = e1 < o1 ? e1 : o1;
                        for (int64_t j = 0; j < lo; j++) {   /* (a column or two at the borders) */
                            e[j] = j >= e0 ? xr[2 * j] : 0.0f;
                            o[j] = j >= o0 ? xr[2 * j + 1] : 0.0f;
                        }
                        for (int64_t j = hi2 > lo ? hi2 : lo; j < f->wp; j++) {
                            e[j] = j < e1 ? xr[2 * j] : 0.0f;
                            o[j] = j < o1 ? xr[2 * j + 1] : 0.0f;
                        }
                        for (int64_t j = lo; j < hi2; j++) {
                            e[j] = xr[2 * j];
                            o[j] = xr[2 * j + 1];
                        }
                        continue;
                    }
                    /* other strides: the padded row, then its columns dealt out */
                    memset(tmp, 0, sizeof(float) * t0);
                    flat_copy(tmp + t0, xr + t0, t1 - t0);
                    memset(tmp + t1, 0, sizeof(float) * (pw - t1));
                    for (int64_t b = 0; b < f->sw; b++)
                        for (int64_t j = 0; j < f->wp; j++) row[b * f->plane + j] = tmp[j * f->sw + b];
                }
        memset(xp + f->cin * f->cstride, 0, sizeof(float) * FLAT_T);
        return;
    }
    int64_t j0, j1, a0, a1;   /* the columns and rows of the padded planes that lie in x */
    span(f->win, f->wp, 1, -f->pad_left, &j0, &j1);
    span(f->hin, f->hp, 1, -f->pad_top, &a0, &a1);
    if (j0 >= j1) a0 = a1 = 0;
    int same = flat_zeroed.p == xp && flat_zeroed.cap == flat_in_scratch.cap && flat_zeroed.cin == f->cin && flat_zeroed.hin == f->hin &&
               flat_zeroed.win == f->win && flat_zeroed.hp == f->hp && flat_zeroed.wp == f->wp &&
               flat_zeroed.pad_top == f->pad_top && flat_zeroed.pad_left == f->pad_left;
    if (!same) {
        memset(xp, 0, sizeof(float) * (size_t)(f->cin * f->cstride + FLAT_T));
        flat_zeroed.p = xp;
        flat_zeroed.cap = flat_in_scratch.cap;
        flat_zeroed.cin = f->cin;
        flat_zeroed.hin = f->hin;
        flat_zeroed.win = f->win;
        flat_zeroed.hp = f->hp;
        flat_zeroed.wp = f->wp;
        flat_zeroed.pad_top = f->pad_top;
        flat_zeroed.pad_left = f->pad_left;
    }
    for (int64_t c = 0; c < f->cin; c++)
        for (int64_t a = a0; a < a1; a++)
            flat_copy(xp + (c * f->hp + a) * f->wp + j0,
                      x + (c * f->hin + a - f->pad_top) * f->win + j0 - f->pad_left, j1 - j0);
}
#endif

/* ---- thin filters, direct: the forward (also with 2x2 max pooling) and dw ---- */

/* Filters of at most THIN_TAPS weights (cg r s: a first layer's 1 or 3 channels) make a
 * GEMM with k <= 32, which spends its time packing, writing the column matrix and storing
 * C rather than in FMAs. With unit strides, output (i, j) reads tap (c, u, v) at a
 * constant distance from x + i ld + j, so 16 outputs of a row read one (masked) load a
 * tap. A forward tile is 2 output rows x 32 columns x 6 filters: per tap 4 loads, 6
 * weights broadcast into registers and 24 FMAs (with a broadcast load an FMA, the loads
 * bound the loop to half the FMA rate on the Intel machine). Each output sums its taps in
 * tap order, from zero, one FMA a tap. An input with padding is first copied into
 * zero-bordered planes (flat_pad: the flat path's layout at stride 1, in its scratch);
 * one without is read in place.
 *
 * nnl_conv2d_maxpool runs the same tiles and, for a 2x2 stride-2 pooling, takes each
 * window's maximum from the tile's registers (in the cell order of nnl_maxpool2d) while
 * the convolution's output is stored: the same bits as nnl_conv2d then nnl_maxpool2d,
 * without reading the convolution's output back. */
/* The thin loops' tiles (rt_internal.h's vectors): a forward tile is TILE_V vectors of
 * a row wide and TILE_F filters deep; dw takes DW_F filters at a time: the accumulators,
 * the row's input vectors and one weight fill the 32 (AVX-512) or 16 (AVX2) registers. */
#if defined(__AVX512F__)
#define THIN_VEC 1
enum { TILE_V = 2, TILE_F = 6, TILE_F_TAIL = 6, DW_F = 3 };
#elif defined(RT_VEC)
#define THIN_VEC 1
enum { TILE_V = 1, TILE_F = 6, TILE_F_TAIL = 4, DW_F = 1 };   /* (an AVX2 mask takes a register) */
#endif

static int thin_direct(const NnlConv *cv, const Geom *g)
{
#if defined(THIN_VEC)
    return !g->identity && g->rows <= THIN_TAPS && cv->stride_h == 1 && cv->stride_w == 1;
#else
    (void)cv; (void)g;
    return 0;
#endif
}

static int pool_2x2(const NnlConv *cv, const NnlPool *pl)
{
    return pl->kh == 2 && pl->kw == 2 && pl->stride_h == 2 && pl->stride_w == 2 && pl->pad_top == 0 &&
           pl->pad_left == 0 && pl->c == cv->k && pl->h == cv->p && pl->w == cv->q &&
           2 * pl->p <= cv->p && 2 * pl->q <= cv->q;
}

#if defined(THIN_VEC)
/* One group's input as the tiles read it: tap t of output (i, j) at x + shift[t] + i ld + j. */
typedef struct Thin { const float *x; int64_t ld, taps, shift[THIN_TAPS]; } Thin;

/* The layout of one group's input x (cg, h, w): in place, or copied into the flat path's
 * zero-bordered planes (the same layout at stride 1: flat_pad) in this thread's scratch.
 * 0 when that scratch cannot be had. */
static int thin_input(const NnlConv *cv, const Geom *g, const float *x, Thin *th)
{
    Flat f;
    flat_of(cv, g, 0, &f);
    int in_place = cv->pad_top == 0 && cv->pad_left == 0 && f.wp <= cv->w && f.hp <= cv->h;
    int64_t ld = in_place ? cv->w : f.wp, plane = in_place ? g->hw : f.plane;
    th->ld = ld;
    th->taps = g->rows;
    for (int64_t t = 0; t < g->rows; t++) {
        int64_t c = t / (cv->r * cv->s), u = t / cv->s % cv->r, v = t % cv->s;
        th->shift[t] = c * plane + u * cv->dil_h * ld + v * cv->dil_w;
    }
    if (in_place) {
        th->x = x;
        return 1;
    }
    float *xp = rt_scratch(&flat_in_scratch, flat_in_floats(&f));
    if (!xp) return 0;
    flat_pad(&f, x, xp);
    th->x = xp;
    return 1;
}

/* The 2x2 windows over two output rows of TILE_V vectors each (r0, r1), in
 * nnl_maxpool2d's order (a, b; c, d), stored to the VL * TILE_V / 2 pooled columns at
 * dst, the first n of them. */
static inline __attribute__((always_inline)) void
pool_windows(const Vf *r0, const Vf *r1, float *dst, uint8_t *codes, int64_t n)
{
#if defined(__AVX512F__)
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    __m512 a = _mm512_permutex2var_ps(r0[0], even, r0[1]), b = _mm512_permutex2var_ps(r0[0], odd, r0[1]);
    __m512 c = _mm512_permutex2var_ps(r1[0], even, r1[1]), d = _mm512_permutex2var_ps(r1[0], odd, r1[1]);
    __m512 mx = _mm512_max_ps(d, _mm512_max_ps(c, _mm512_max_ps(b, a)));
    _mm512_mask_storeu_ps(dst, rt_lanes16(n), mx);
    if (codes) {   /* rt_win_max_code's cell: b, c, d where not an earlier one */
        __mmask16 ea = _mm512_cmp_ps_mask(a, mx, _CMP_EQ_OQ), eb = _mm512_cmp_ps_mask(b, mx, _CMP_EQ_OQ);
        __mmask16 ec = _mm512_cmp_ps_mask(c, mx, _CMP_EQ_OQ), ed = _mm512_cmp_ps_mask(d, mx, _CMP_EQ_OQ);
        __m512i cv = _mm512_maskz_mov_epi32((__mmask16)(~ea & eb), _mm512_set1_epi32(1));
        cv = _mm512_mask_mov_epi32(cv, (__mmask16)(~ea & ~eb & ec), _mm512_set1_epi32(2));
        cv = _mm512_mask_mov_epi32(cv, (__mmask16)(~ea & ~eb & ~ec & ed), _mm512_set1_epi32(3));
        _mm_mask_storeu_epi8(codes, rt_lanes16(n), _mm512_cvtepi32_epi8(cv));
    }
#else
    const __m256i split = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);   /* evens | odds */
    __m256 ab = _mm256_permutevar8x32_ps(r0[0], split), cd = _mm256_permutevar8x32_ps(r1[0], split);
    __m128 a = _mm256_castps256_ps128(ab), b = _mm256_extractf128_ps(ab, 1);
    __m128 c = _mm256_castps256_ps128(cd), d = _mm256_extractf128_ps(cd, 1);
    __m128 mx = _mm_max_ps(d, _mm_max_ps(c, _mm_max_ps(b, a)));
    if (codes) {   /* (rt_win_max_code's rule on the lanes' equalities) */
        int ea = _mm_movemask_ps(_mm_cmpeq_ps(a, mx)), eb = _mm_movemask_ps(_mm_cmpeq_ps(b, mx));
        int ec = _mm_movemask_ps(_mm_cmpeq_ps(c, mx)), ed = _mm_movemask_ps(_mm_cmpeq_ps(d, mx));
        for (int64_t j = 0; j < 4 && j < n; j++)
            codes[j] = (uint8_t)(ea >> j & 1 ? 0 : eb >> j & 1 ? 1 : ec >> j & 1 ? 2 : ed >> j & 1 ? 3 : 0);
    }
    if (n >= 4) {
        _mm_storeu_ps(dst, mx);
    } else {   /* (vmaskmovps stores are slow on AMD: ~10x a plain store on Zen 3) */
        float v[4];
        _mm_storeu_ps(v, mx);
        for (int64_t j = 0; j < n; j++) dst[j] = v[j];
    }
#endif
}

/* F filters from k, R output rows from i, the VL * TILE_V columns from j0 (lanes m[],
 * all of them unless TAIL: masked loads are slower, and an AVX2 mask takes a register):
 * acc[f][r][b], stored to y (kg, p, q) unless y is NULL; with py (and R = 2), the
 * windows over rows i, i + 1 of each filter's 2x2 pooling, to py (kg, p2, q2) at pooled
 * row i / 2. */
static inline __attribute__((always_inline)) void
thin_tile(const Thin *th, const float *w, int64_t k, int64_t i, int64_t j0, const Vm *m,
          const int TAIL, int F, int R, float *y, int64_t p, int64_t q, float *py, uint8_t *pc, int64_t pq2,
          int64_t q2)
{
    Vf acc[TILE_F][2][TILE_V];
    #pragma GCC unroll 6
    for (int f = 0; f < F; f++)
        #pragma GCC unroll 2
        for (int r = 0; r < R; r++)
            #pragma GCC unroll 2
            for (int b = 0; b < TILE_V; b++) acc[f][r][b] = vf_zero();
    const float *xb = th->x + i * th->ld + j0;
    for (int64_t t = 0; t < th->taps; t++) {
        const float *src = xb + th->shift[t];
        Vf v[2][TILE_V];
        #pragma GCC unroll 2
        for (int r = 0; r < R; r++)   /* (masked lanes are never read) */
            #pragma GCC unroll 2
            for (int b = 0; b < TILE_V; b++)
                v[r][b] = TAIL ? vf_load(m[b], src + r * th->ld + b * VL) : vf_loadu(src + r * th->ld + b * VL);
        #pragma GCC unroll 6
        for (int f = 0; f < F; f++) {
            Vf wf = vf_set1(w[(k + f) * th->taps + t]);
            __asm__("" : "+v"(wf));   /* in a register: not folded into each FMA */
            #pragma GCC unroll 2
            for (int r = 0; r < R; r++)
                #pragma GCC unroll 2
                for (int b = 0; b < TILE_V; b++) acc[f][r][b] = vf_fma(wf, v[r][b], acc[f][r][b]);
        }
    }
    #pragma GCC unroll 6
    for (int f = 0; f < F; f++) {
        float *yf = y ? y + ((k + f) * p + i) * q + j0 : NULL;
        #pragma GCC unroll 2
        for (int r = 0; r < R && yf; r++)
            #pragma GCC unroll 2
            for (int b = 0; b < TILE_V; b++)
                if (TAIL) vf_store(yf + r * q + b * VL, m[b], acc[f][r][b]);
                else vf_storeu(yf + r * q + b * VL, acc[f][r][b]);
        if (py && R == 2)
            pool_windows(acc[f][0], acc[f][1], py + (k + f) * pq2 + i / 2 * q2 + j0 / 2,
                         pc ? pc + (k + f) * pq2 + i / 2 * q2 + j0 / 2 : NULL, q2 - j0 / 2);
    }
}

/* Rows i, i + 1 (i alone when i + 1 = i1) of all kg filters at columns j0..: tiles of F
 * filters, then 2, then 1. */
static inline __attribute__((always_inline)) void
thin_cols(const Thin *th, const float *w, int64_t kg, int64_t i, int64_t i1, int64_t j0, const Vm *m,
          const int TAIL, const int F, float *y, int64_t p, int64_t q, float *pyi, uint8_t *pci, int64_t pq2,
          int64_t q2)
{
    int64_t k = 0;
    if (i + 1 < i1) {
        for (; k + F <= kg; k += F) thin_tile(th, w, k, i, j0, m, TAIL, F, 2, y, p, q, pyi, pci, pq2, q2);
        for (; k + 2 <= kg; k += 2) thin_tile(th, w, k, i, j0, m, TAIL, 2, 2, y, p, q, pyi, pci, pq2, q2);
        for (; k < kg; k++) thin_tile(th, w, k, i, j0, m, TAIL, 1, 2, y, p, q, pyi, pci, pq2, q2);
    } else {
        for (; k + F <= kg; k += F) thin_tile(th, w, k, i, j0, m, TAIL, F, 1, y, p, q, NULL, NULL, 0, 0);
        for (; k + 2 <= kg; k += 2) thin_tile(th, w, k, i, j0, m, TAIL, 2, 1, y, p, q, NULL, NULL, 0, 0);
        for (; k < kg; k++) thin_tile(th, w, k, i, j0, m, TAIL, 1, 1, y, p, q, NULL, NULL, 0, 0);
    }
}

/* Output rows [i0, i1) (i0 even) of all kg filters into y (unless NULL); with py, the
 * pooled rows of their complete row pairs below p2, and with pc their window codes. */
static void thin_rows(const NnlConv *cv, const Geom *g, const Thin *th, const float *w, float *y,
                      float *py, uint8_t *pc, int64_t p2, int64_t q2, int64_t i0, int64_t i1)
{
    int64_t p = cv->p, q = cv->q, kg = g->kg, pq2 = p2 * q2;
    for (int64_t i = i0; i < i1; i += 2) {
        float *pyi = py && i + 1 < i1 && i / 2 < p2 ? py : NULL;
        uint8_t *pci = pyi ? pc : NULL;
        for (int64_t j0 = 0; j0 < q; j0 += VL * TILE_V) {
            Vm m[TILE_V];
            for (int b = 0; b < TILE_V; b++) m[b] = vm_lanes(q - j0 - b * VL);
            if (j0 + VL * TILE_V <= q) thin_cols(th, w, kg, i, i1, j0, m, 0, TILE_F, y, p, q, pyi, pci, pq2, q2);
            else thin_cols(th, w, kg, i, i1, j0, m, 1, TILE_F_TAIL, y, p, q, pyi, pci, pq2, q2);
        }
    }
}

/* dw (kg, taps) of taps [t0, t0 + T) and filters [k, k + F) (T = 9 or 1, F = DW_F or 1)
 * = beta dw + dy (kg, p, q) correlated with each tap's inputs: VL outputs of a row a
 * step, one load of dy a filter and of x a tap feeding F FMAs; each sum over its lanes
 * at the end (a fixed tree). */
static inline __attribute__((always_inline)) void
thin_dw_block(const NnlConv *cv, const Thin *th, const float *dy, int64_t k, int F, int64_t t0,
              int T, float *dw, int64_t rows, float beta)
{
    Vf acc[DW_F][9];
    #pragma GCC unroll 3
    for (int f = 0; f < F; f++)
        #pragma GCC unroll 9
        for (int t = 0; t < T; t++) acc[f][t] = vf_zero();
    int64_t p = cv->p, q = cv->q;
    const int64_t *shift = th->shift + t0;
    Vm m = vm_lanes(q % VL);
    for (int64_t i = 0; i < p; i++)
        for (int64_t j0 = 0; j0 < q; j0 += VL) {
            int full = j0 + VL <= q;   /* (masked loads are slower) */
            Vf g[DW_F];
            #pragma GCC unroll 3
            for (int f = 0; f < F; f++) {
                const float *d = dy + ((k + f) * p + i) * q + j0;
                g[f] = full ? vf_loadu(d) : vf_load(m, d);
            }
            const float *xb = th->x + i * th->ld + j0;
            #pragma GCC unroll 9
            for (int t = 0; t < T; t++) {
                Vf v = full ? vf_loadu(xb + shift[t]) : vf_load(m, xb + shift[t]);
                #pragma GCC unroll 3
                for (int f = 0; f < F; f++) acc[f][t] = vf_fma(g[f], v, acc[f][t]);
            }
        }
    #pragma GCC unroll 3
    for (int f = 0; f < F; f++)
        #pragma GCC unroll 9
        for (int t = 0; t < T; t++) {
            float sum = vf_sum(acc[f][t]), *d = dw + (k + f) * rows + t0 + t;
            *d = beta == 0.0f ? sum : sum + beta * *d;
        }
}

/* One group's dw (kg, cg r s) = beta dw + dy (kg, p, q) correlated with x (cg, h, w),
 * direct: the tiles' input layout, taps 9 at a time (the rest one at a time) and filters
 * DW_F at a time, instead of im2col and a product with k = p q. 0 when the padded
 * input's scratch cannot be had: nothing written. */
static int thin_dw(const NnlConv *cv, const Geom *g, const float *x, const float *dy, float *dw,
                   float beta)
{
    Thin th;
    if (!thin_input(cv, g, x, &th)) return 0;
    int64_t t0 = 0;
    for (; t0 + 9 <= g->rows; t0 += 9) {
        int64_t k = 0;
        for (; k + DW_F <= g->kg; k += DW_F) thin_dw_block(cv, &th, dy, k, DW_F, t0, 9, dw, g->rows, beta);
        for (; k < g->kg; k++) thin_dw_block(cv, &th, dy, k, 1, t0, 9, dw, g->rows, beta);
    }
    for (; t0 < g->rows; t0++) {
        int64_t k = 0;
        for (; k + DW_F <= g->kg; k += DW_F) thin_dw_block(cv, &th, dy, k, DW_F, t0, 1, dw, g->rows, beta);
        for (; k < g->kg; k++) thin_dw_block(cv, &th, dy, k, 1, t0, 1, dw, g->rows, beta);
    }
    return 1;
}
#endif

/* One group: y (kg, p, q) unless NULL and, with py, its 2x2 pooling (kg, p2, q2) and
 * with pc the pooling's window codes (kg, p2, q2); the output's row pairs split between
 * nt threads (1: serial). 0 when the padded input's scratch cannot be had: nothing
 * written. */
static int thin_fwd(const NnlConv *cv, const Geom *g, const float *x, const float *w, float *y,
                    float *py, uint8_t *pc, int64_t p2, int64_t q2, int nt)
{
#if defined(THIN_VEC)
    Thin th;
    if (!thin_input(cv, g, x, &th)) return 0;
    if (nt <= 1) {
        thin_rows(cv, g, &th, w, y, py, pc, p2, q2, 0, cv->p);
        return 1;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share((cv->p + 1) / 2, nt, &lo, &hi);
        thin_rows(cv, g, &th, w, y, py, pc, p2, q2, 2 * lo, 2 * hi < cv->p ? 2 * hi : cv->p);
    }
    return 1;
#else
    (void)cv; (void)g; (void)x; (void)w; (void)y; (void)py; (void)pc; (void)p2; (void)q2; (void)nt;
    return 0;
#endif
}

/* ---- the flat path's tiles ---- */

#if defined(FLAT_VEC)

static size_t flat_w_floats(const Flat *f) { return (size_t)(f->cout * f->taps); }

/* The filters of the block from filter k0: FB, but when FB would leave 1-3 (a block of
 * 2-6 accumulators keeps the FMA pipes half idle), the last two blocks share the rest,
 * the second of 4: 32 filters on AVX2 as 6 6 6 6 4 4, not 6 6 6 6 6 2. */
static int64_t flat_block(int64_t cout, int64_t k0)
{
    int64_t rest = cout - k0;
    return rest <= FB ? rest : rest - FB >= 4 ? FB : rest - 4;
}

/* Filter k's tap t of w: w is (cout, taps), or with flip the forward's (cin, cout, r, s),
 * whose W[k', c, r-1-u, s-1-v] is filter c's tap (k', u, v). */
static inline float flat_w_at(const Flat *f, const float *w, int flip, int64_t k, int64_t t)
{
    int64_t rs = f->r * f->s, c = t / rs, uv = t % rs;
    return flip ? w[(c * f->cout + k) * rs + rs - 1 - uv] : w[k * f->taps + t];
}

/* Weights w (cout, taps) into blocks of filters (flat_block), [tap][F] each at wp + k0
 * taps; for the positions path (f->pos) blocks of POS_F filters, [tap][POS_F] each. */
static void flat_pack_w(const Flat *f, const float *w, int flip, float *wp)
{
    for (int64_t k0 = 0, nf; k0 < f->cout; k0 += nf) {
        nf = f->pos ? POS_F : flat_block(f->cout, k0);
        for (int64_t t = 0; t < f->taps; t++)
            for (int64_t e = 0; e < nf; e++) wp[k0 * f->taps + t * nf + e] = flat_w_at(f, w, flip, k0 + e, t);
    }
}

/* F filters' FLAT_T positions from xb (the tile's first position in the padded input):
 * acc[f][b] = sum over taps of w[t][f] x[tap + b VL ..], stored to yb + f ldy. */
static inline __attribute__((always_inline)) void
flat_tile(const int F, const Flat *fl, const float *xb, const float *w, float *yb, int64_t ldy)
{
    Vf acc[FB][2];
    #pragma GCC unroll 12
    for (int e = 0; e < F; e++) acc[e][0] = acc[e][1] = vf_zero();
    int64_t rs = fl->r * fl->s;
    for (int64_t c = 0; c < fl->cin; c++, xb += fl->cstride)
        for (int64_t t = 0; t < rs; t++, w += F) {
            const float *src = xb + fl->off[t];
            {
                Vf b0 = vf_loadu(src), b1 = vf_loadu(src + VL);
                __asm__("" : "+v"(b0), "+v"(b1));   /* loaded once, not into each FMA */
                #pragma GCC unroll 12
                for (int e = 0; e < F; e++) {
                    Vf we = vf_set1(w[e]);
                    acc[e][0] = vf_fma(we, b0, acc[e][0]);
                    acc[e][1] = vf_fma(we, b1, acc[e][1]);
                }
            }
        }
    #pragma GCC unroll 12
    for (int e = 0; e < F; e++) {
        vf_storeu(yb + e * ldy, acc[e][0]);
        vf_storeu(yb + e * ldy + VL, acc[e][1]);
    }
}

/* Tiles [t0, t1) (FLAT_T positions each) of every filter into yf (cout, fpad). */
static void flat_tiles(const Flat *f, const float *xp, const float *wp, float *yf, int64_t t0, int64_t t1)
{
    for (int64_t t = t0; t < t1; t++)
        for (int64_t k0 = 0, nf; k0 < f->cout; k0 += nf) {
            const float *xb = xp + t * FLAT_T, *w = wp + k0 * f->taps;
            float *yb = yf + k0 * f->fpad + t * FLAT_T;
            switch (nf = flat_block(f->cout, k0)) {
            #define FLAT_CASE(n) case n: flat_tile(n, f, xb, w, yb, f->fpad); break;
            FLAT_CASES(FLAT_CASE)
            #undef FLAT_CASE
            default: flat_tile(FB, f, xb, w, yb, f->fpad); break;
            }
        }
}

/* Output rows [e0, e1) of (cout p) rows: y (cout, p, q) from the flat yf (cout, fpad)
 * (a memcpy call a row was 9% of a 16-filter 28 x 28 forward). */
static void flat_rows_out(const Flat *f, const float *yf, float *y, int64_t e0, int64_t e1)
{
    int64_t q = f->q;
    for (int64_t e = e0; e < e1; e++) {
        const float *src = yf + e / f->p * f->fpad + e % f->p * f->wp;
        flat_copy(y + e * q, src, q);
    }
}

/* ---- the positions path: POS_P output positions x POS_F filters a tile ----
 * Where the filters come in whole blocks of POS_F (16 on AVX2), the flat path's padded
 * planes are read by output position instead of by flat position: a tile broadcasts each
 * of its POS_P positions' input at a tap and multiplies it by two vectors of weights
 * (packed [tap][POS_F] a block), the GEMM microkernel's work again with the positions as
 * its rows. So the padding columns of each padded row are not computed, nor the last
 * partial tile of a plane (a 7 x 7 output took 64 flat positions for 49, a 14 x 14 one 224
 * for 196), and no block of filters is short (32 filters were 6 6 6 6 4 4). A tile may
 * start anywhere: its positions' offsets are computed per tile. The tiles write [filter
 * block][position][POS_F], transposed into y VL x VL at a time. Every output sums the
 * same taps in the same order as on the flat path, from zero: the same bits. */

/* flat_of, or where the filters come in whole blocks of POS_F the positions path's
 * Flat: AVX2 (VL 8, POS_ON) only, the one width measured (the AVX-512 flat tile is 12 filters x
 * 32 positions, and nothing here ran on AVX-512). A strided forward reads one padded
 * plane, not phase planes: its output (i, j) starts at padded row i sh, column j sw. */
static void pos_of(const NnlConv *cv, const Geom *g, int dx, Flat *f)
{
    flat_of(cv, g, dx, f);
    if (!POS_ON || f->cout % POS_F) return;
    if (!dx && (cv->stride_h > 1 || cv->stride_w > 1)) plain_of(cv, g, f);
    f->pos = 1;
}

/* R positions (at xp + base[i]) x POS_F filters over every tap, w [tap][POS_F]; the
 * sums stored to out [R][POS_F]. */
static inline __attribute__((always_inline)) void
pos_tile(const int R, const Flat *f, const float *xp, const int64_t *base, const float *w, float *out)
{
    Vf acc[POS_P][2];
    const float *bp[POS_P];
    #pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        acc[i][0] = acc[i][1] = vf_zero();
        bp[i] = xp + base[i];
    }
    int64_t rs = f->r * f->s;
    for (int64_t c = 0; c < f->cin; c++) {
        for (int64_t t = 0; t < rs; t++, w += POS_F) {
            Vf w0 = vf_loadu(w), w1 = vf_loadu(w + VL);
            int64_t o = f->off[t];
            #pragma GCC unroll 6
            for (int i = 0; i < R; i++) {
                Vf xv = vf_set1(bp[i][o]);
                acc[i][0] = vf_fma(w0, xv, acc[i][0]);
                acc[i][1] = vf_fma(w1, xv, acc[i][1]);
            }
        }
        #pragma GCC unroll 6
        for (int i = 0; i < R; i++) bp[i] += f->cstride;
    }
    #pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        vf_storeu(out + i * POS_F, acc[i][0]);
        vf_storeu(out + i * POS_F + VL, acc[i][1]);
    }
}

/* Tiles [u0, u1) of (cout / POS_F filter blocks) x (pqp / POS_P position tiles), a
 * block's tiles in a row (its weights stay in cache), into ot [block][pqp][POS_F]. */
static void pos_tiles(const Flat *f, const float *xp, const float *wp, float *ot, int64_t pqp, int64_t u0,
                      int64_t u1)
{
    int64_t pq = f->p * f->q, npt = pqp / POS_P;
    for (int64_t u = u0; u < u1; u++) {
        int64_t kt = u / npt, p0 = u % npt * POS_P, base[POS_P];
        int R = pq - p0 < POS_P ? (int)(pq - p0) : POS_P;
        for (int i = 0; i < R; i++) base[i] = (p0 + i) / f->q * f->psh * f->wp + (p0 + i) % f->q * f->psw;
        const float *w = wp + kt * POS_F * f->taps;
        float *o = ot + (kt * pqp + p0) * POS_F;
        switch (R) {
        case 1: pos_tile(1, f, xp, base, w, o); break;
        case 2: pos_tile(2, f, xp, base, w, o); break;
        case 3: pos_tile(3, f, xp, base, w, o); break;
        case 4: pos_tile(4, f, xp, base, w, o); break;
        case 5: pos_tile(5, f, xp, base, w, o); break;
        default: pos_tile(POS_P, f, xp, base, w, o); break;
        }
    }
}

/* Blocks [u0, u1) of (cout / VL filters) x (VL positions) of y (cout, p q) from ot. */
static void pos_out(const Flat *f, const float *ot, int64_t pqp, float *y, int64_t u0, int64_t u1)
{
    int64_t pq = f->p * f->q, nb = (pq + VL - 1) / VL;
    for (int64_t u = u0; u < u1; u++) {
        int64_t k0 = u / nb * VL, p0 = u % nb * VL;
        const float *src = ot + (k0 / POS_F * pqp + p0) * POS_F + k0 % POS_F;
        float *dst = y + k0 * pq + p0;
        if (p0 + VL <= pq) {
            Vf r[VL];
            for (int i = 0; i < VL; i++) r[i] = vf_loadu(src + i * POS_F);
            vf_transpose(r);
            for (int e = 0; e < VL; e++) vf_storeu(dst + e * pq, r[e]);
        } else
            for (int e = 0; e < VL; e++)
                for (int64_t i = 0; i < pq - p0; i++) dst[e * pq + i] = src[i * POS_F + e];
    }
}

/* flat_conv on the positions path (f->pos). */
static int pos_conv(const Flat *f, const float *x, const float *wp, float *y, int nt)
{
    int64_t pq = f->p * f->q, pqp = (pq + POS_P - 1) / POS_P * POS_P;
    float *xp = rt_scratch(&flat_in_scratch, flat_in_floats(f));
    float *ot = xp ? rt_scratch(&flat_out_scratch, (size_t)(f->cout * pqp)) : NULL;
    if (!ot) return 0;
    flat_pad(f, x, xp);
    int64_t tiles = f->cout / POS_F * (pqp / POS_P), blocks = f->cout / VL * ((pq + VL - 1) / VL);
    if (nt <= 1) {
        pos_tiles(f, xp, wp, ot, pqp, 0, tiles);
        pos_out(f, ot, pqp, y, 0, blocks);
        return 1;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(tiles, nt, &lo, &hi);
        pos_tiles(f, xp, wp, ot, pqp, lo, hi);
        #pragma omp barrier
        rt_share(blocks, nt, &lo, &hi);
        pos_out(f, ot, pqp, y, lo, hi);
    }
    return 1;
}

/* One group: y (cout, p, q) = the convolution of x (cin, hin, win) with the packed
 * weights wp, tiles split between nt threads (1: serial). 0 when scratch is refused:
 * nothing written. */
static int flat_conv(const Flat *f, const float *x, const float *wp, float *y, int nt)
{
    if (f->pos) return pos_conv(f, x, wp, y, nt);
    float *xp = rt_scratch(&flat_in_scratch, flat_in_floats(f));
    float *yf = xp ? rt_scratch(&flat_out_scratch, (size_t)(f->cout * f->fpad)) : NULL;
    if (!yf) return 0;
    flat_pad(f, x, xp);
    int64_t tiles = f->fpad / FLAT_T;
    if (nt <= 1) {
        flat_tiles(f, xp, wp, yf, 0, tiles);
        flat_rows_out(f, yf, y, 0, f->cout * f->p);
        return 1;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(tiles, nt, &lo, &hi);
        flat_tiles(f, xp, wp, yf, lo, hi);
        #pragma omp barrier
        rt_share(f->cout * f->p, nt, &lo, &hi);
        flat_rows_out(f, yf, y, lo, hi);
    }
    return 1;
}

/* ---- the weight gradient: dw^T (taps, coutp) += sum over positions ---- */

static int64_t flat_coutp(const Flat *f) { return (f->cout + VL - 1) / VL * VL; }

/* Scratch for flat_dw (this thread's): the padded input, then dy transposed. */
static float *flat_dw_space(const Flat *f)
{
    return rt_scratch(&flat_in_scratch, flat_in_floats(f) + (size_t)(f->p * f->q * flat_coutp(f)));
}

/* T taps from t0 x NV vectors of filters from j0: acc[t][b] += sum over outputs (i, j)
 * of x[tap t, (i, j)] dyt[(i, j), j0 + b VL ..]. */
static inline __attribute__((always_inline)) void
flat_dw_tile(const int T, const int NV, const Flat *f, const float *xp, const float *dyt, int64_t ld,
             int64_t t0, int64_t j0, float *acct)
{
    const float *xt[FT];
    Vf acc[FT][2];
    int64_t rs = f->r * f->s, c = t0 / rs, uv = t0 % rs;   /* tap t0's */
    #pragma GCC unroll 12
    for (int t = 0; t < T; t++) {
        xt[t] = xp + c * f->cstride + f->off[uv];
        if (++uv == rs) uv = 0, c++;
        #pragma GCC unroll 2
        for (int b = 0; b < NV; b++) acc[t][b] = vf_loadu(acct + (t0 + t) * ld + j0 + b * VL);
    }
    for (int64_t i = 0; i < f->p; i++) {
        const float *d = dyt + i * f->q * ld + j0;
        int64_t xo = i * f->psh * f->wp;
        for (int64_t j = 0; j < f->q; j++, d += ld, xo += f->psw) {
            Vf b0 = vf_loadu(d), b1 = NV > 1 ? vf_loadu(d + VL) : b0;
            #pragma GCC unroll 12
            for (int t = 0; t < T; t++) {
                Vf a = vf_set1(xt[t][xo]);
                acc[t][0] = vf_fma(a, b0, acc[t][0]);
                if (NV > 1) acc[t][1] = vf_fma(a, b1, acc[t][1]);
            }
        }
    }
    #pragma GCC unroll 12
    for (int t = 0; t < T; t++)
        #pragma GCC unroll 2
        for (int b = 0; b < NV; b++) vf_storeu(acct + (t0 + t) * ld + j0 + b * VL, acc[t][b]);
}

/* dy (cout, pq) -> dyt (pq, ld), columns cout..ld zero: VL x VL blocks transposed in
 * registers, the rest (a partial block of filters or positions) element by element. */
static void flat_dy_t(const float *dy, int64_t cout, int64_t pq, float *dyt, int64_t ld)
{
    int64_t kv = cout / VL * VL, ev = pq / VL * VL;
    for (int64_t k = 0; k < kv; k += VL)
        for (int64_t e = 0; e < ev; e += VL) {
            Vf r[VL];
            for (int i = 0; i < VL; i++) r[i] = vf_loadu(dy + (k + i) * pq + e);
            vf_transpose(r);
            for (int i = 0; i < VL; i++) vf_storeu(dyt + (e + i) * ld + k, r[i]);
        }
    for (int64_t e = 0; e < pq; e++) {
        float *row = dyt + e * ld;
        for (int64_t k = e < ev ? kv : 0; k < cout; k++) row[k] = dy[k * pq + e];
        for (int64_t k = cout; k < ld; k++) row[k] = 0.0f;
    }
}

/* One image of one group: acct (taps, coutp) = (first ? 0 : acct) + x's taps times dy
 * (cout, p, q); space from flat_dw_space. */
static void flat_dw(const Flat *f, const float *x, const float *dy, float *acct, int first, float *space)
{
    int64_t ld = flat_coutp(f), pq = f->p * f->q;
    float *xp = space, *dyt = space + flat_in_floats(f);
    flat_pad(f, x, xp);
    flat_dy_t(dy, f->cout, pq, dyt, ld);
    if (first) memset(acct, 0, sizeof(float) * f->taps * ld);
    for (int64_t j0 = 0; j0 < ld; j0 += 2 * VL) {
        int nv = ld - j0 >= 2 * VL ? 2 : 1;
        for (int64_t t0 = 0; t0 < f->taps; t0 += FT) {
            int64_t nt = f->taps - t0 < FT ? f->taps - t0 : FT;
            switch (nt + (nv == 1 ? 100 : 0)) {
            #define FLAT_CASE(n) case n: flat_dw_tile(n, 2, f, xp, dyt, ld, t0, j0, acct); break; \
                                 case n + 100: flat_dw_tile(n, 1, f, xp, dyt, ld, t0, j0, acct); break;
            FLAT_CASES(FLAT_CASE)
            #undef FLAT_CASE
            case 100 + FT: flat_dw_tile(FT, 1, f, xp, dyt, ld, t0, j0, acct); break;
            default: flat_dw_tile(FT, 2, f, xp, dyt, ld, t0, j0, acct); break;
            }
        }
    }
}

/* dw (cout, taps) = acct^T. */
static void flat_dw_out(const Flat *f, const float *acct, float *dw)
{
    int64_t ld = flat_coutp(f);
    for (int64_t k = 0; k < f->cout; k++)
        for (int64_t t = 0; t < f->taps; t++) dw[k * f->taps + t] = acct[t * ld + k];
}
#endif

/* ---- dw of thin groups ---- */

/* c (m, n) = beta c + a (m, k) @ b (n, k)^T, for dw when a side is under 16 (the first
 * layer's cg r s = 9, depthwise kg = 1): nnl_sgemm takes such products one dot product
 * at a time, latency-bound on a single chain of partial sums. Here a TM x TN block of
 * dot products runs at once, each in L lanes over k (lane l takes p = l mod L), lanes
 * and the k mod L tail summed in a fixed order. */
typedef float Lanes __attribute__((vector_size(64)));   /* 16 floats, GCC vector extension */

static void gemm_nt_thin(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                         const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    enum { TM = 8, TN = 3, L = 16 };
    for (int64_t i0 = 0; i0 < m; i0 += TM)
        for (int64_t j0 = 0; j0 < n; j0 += TN) {
            int tm = m - i0 < TM ? (int)(m - i0) : TM, tn = n - j0 < TN ? (int)(n - j0) : TN;
            const float *ar[TM], *br[TN];
            for (int t = 0; t < TM; t++) ar[t] = a + (i0 + (t < tm ? t : 0)) * lda;
            for (int t = 0; t < TN; t++) br[t] = b + (j0 + (t < tn ? t : 0)) * ldb;
            Lanes acc[TM][TN] = {{{0}}};
            float tail[TM][TN] = {{0}};
            int64_t p = 0;
            for (; p + L <= k; p += L) {
                Lanes av[TM], bv[TN];
                for (int t = 0; t < TM; t++) memcpy(&av[t], ar[t] + p, sizeof(Lanes));
                for (int t = 0; t < TN; t++) memcpy(&bv[t], br[t] + p, sizeof(Lanes));
                for (int ti = 0; ti < TM; ti++)
                    for (int tj = 0; tj < TN; tj++) acc[ti][tj] += av[ti] * bv[tj];
            }
            for (; p < k; p++)
                for (int ti = 0; ti < TM; ti++)
                    for (int tj = 0; tj < TN; tj++) tail[ti][tj] += ar[ti][p] * br[tj][p];
            for (int ti = 0; ti < tm; ti++)
                for (int tj = 0; tj < tn; tj++) {
                    float lane[L];
                    memcpy(lane, &acc[ti][tj], sizeof lane);
                    for (int w = L / 2; w >= 1; w /= 2)
                        for (int l = 0; l < w; l++) lane[l] += lane[l + w];
                    float sum = lane[0] + tail[ti][tj], *cij = c + (i0 + ti) * ldc + j0 + tj;
                    *cij = beta == 0.0f ? sum : sum + beta * *cij;
                }
        }
}

/* ---- one (image, group) unit; col is scratch of rows x pq floats, or NULL ---- */

/* A unit of the forward or of dx: image i, group gr. a: x or dy, b: the weights. */
typedef void (*UnitFn)(const NnlConv *cv, const Geom *g, int64_t i, int64_t gr,
                       const float *a, const float *b, float *out, float *col, int nt);

/* y_g (kg, pq) = W_g (kg, rows) @ col (rows, pq). */
static void fwd_unit(const NnlConv *cv, const Geom *g, int64_t i, int64_t gr,
                     const float *x, const float *w, float *y, float *col, int nt)
{
    x += (i * cv->c + gr * g->cg) * g->hw;
    w += gr * g->kg * g->rows;
    y += (i * cv->k + gr * g->kg) * g->pq;
    if (thin_direct(cv, g) && thin_fwd(cv, g, x, w, y, NULL, NULL, 0, 0, nt)) return;
    if (!g->identity && !col) {
        direct_fwd(cv, g, x, w, y);
        return;
    }
    if (!g->identity) im2col_par(cv, g, x, col, nt);
    nnl_sgemm(0, 0, g->kg, g->pq, g->rows, 1.0f, w, g->rows, g->identity ? x : col, g->pq,
              0.0f, y, g->pq);
}

/* dx_g (cg, h, w) = col2im(W_g^T (rows, kg) @ dy_g (kg, pq)). */
static void dx_unit(const NnlConv *cv, const Geom *g, int64_t i, int64_t gr,
                    const float *dy, const float *w, float *dx, float *col, int nt)
{
    dy += (i * cv->k + gr * g->kg) * g->pq;
    w += gr * g->kg * g->rows;
    dx += (i * cv->c + gr * g->cg) * g->hw;
    if (g->identity) {
        nnl_sgemm(1, 0, g->rows, g->pq, g->kg, 1.0f, w, g->rows, dy, g->pq, 0.0f, dx, g->pq);
    } else if (!col) {
        direct_dx(cv, g, dy, w, dx);
    } else {
        nnl_sgemm(1, 0, g->rows, g->pq, g->kg, 1.0f, w, g->rows, dy, g->pq, 0.0f, col, g->pq);
        col2im_par(cv, g, col, dx, nt);
    }
}

/* dw_g (kg, rows) = beta dw_g + dy_g (kg, pq) @ col^T (pq, rows), for image i, group gr. */
static void dw_unit(const NnlConv *cv, const Geom *g, int64_t i, int64_t gr, const float *x,
                    const float *dy, float *dw, float beta, float *col, int nt)
{
    x += (i * cv->c + gr * g->cg) * g->hw;
    dy += (i * cv->k + gr * g->kg) * g->pq;
    dw += gr * g->kg * g->rows;
#if defined(THIN_VEC)
    if (thin_direct(cv, g) && thin_dw(cv, g, x, dy, dw, beta)) return;
#endif
    if (!g->identity && !col) {
        direct_dw(cv, g, x, dy, dw, beta);
        return;
    }
    if (!g->identity) im2col_par(cv, g, x, col, nt);
    const float *b = g->identity ? x : col;
    if (g->kg < 16 || g->rows < 16)
        gemm_nt_thin(g->kg, g->rows, g->pq, dy, g->pq, b, g->pq, beta, dw, g->rows);
    else
        nnl_sgemm(0, 1, g->kg, g->rows, g->pq, 1.0f, dy, g->pq, b, g->pq, beta, dw, g->rows);
}

/* ---- entry points ---- */

/* The column scratch a thread needs; NULL for 1x1 convolutions or when allocation fails. */
static float *col_space(const Geom *g)
{
    return g->identity ? NULL : rt_scratch(&col_scratch, (size_t)(g->rows * g->pq));
}

static double conv_flops(const NnlConv *cv, const Geom *g, int64_t n)
{
    return 2.0 * n * cv->k * g->rows * g->pq;
}

/* A convolution's epilogue (fuse.c's mark_epilogues: its bias, activation, a residual
 * add): a generated elementwise kernel run over each (image, group) unit's output as
 * soon as the unit is computed, while it is in cache. fn(ctx, lo, hi) takes flat
 * indices of the output; a unit's are [t size, (t + 1) size). */
typedef struct ConvEpi { NnlKernelFn fn; const NnlCtx *ctx; int64_t size; } ConvEpi;

static void epi_unit(const ConvEpi *e, int64_t t)
{
    if (e) e->fn(e->ctx, t * e->size, (t + 1) * e->size);
}

/* Every (image, group) unit of the forward or dx once: contiguous chunks of units per
 * thread, each GEMM serial; or, with fewer units than threads, units in turn, each split. */
static void run_units(UnitFn fn, const NnlConv *cv, int64_t n, const float *a,
                      const float *b, float *out, const ConvEpi *e)
{
    if (n <= 0) return;
    Geom g = geom(cv);
    int64_t groups = cv->groups, units = n * groups;
    int nt = conv_threads(conv_flops(cv, &g, n));
    int cols = fn != fwd_unit || !thin_direct(cv, &g);   /* (the thin forward needs none) */
    if (units < nt || nt <= 1) {   /* (no OpenMP region for one thread: ~1 us each) */
        float *col = cols ? col_space(&g) : NULL;
        for (int64_t t = 0; t < units; t++) {
            fn(cv, &g, t / groups, t % groups, a, b, out, col, nt);
            epi_unit(e, t);
        }
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(units, nt, &lo, &hi);
        float *col = lo < hi && cols ? col_space(&g) : NULL;
        for (int64_t t = lo; t < hi; t++) {
            fn(cv, &g, t / groups, t % groups, a, b, out, col, 1);
            epi_unit(e, t);
        }
    }
}

#if defined(FLAT_VEC)
/* ---- strided input gradients on the positions path ----
 * dx[c, a, b] sums W[k, c, u, v] dy[k, i, j] over the (k, u, v, i, j) with a = i sh + u dh -
 * pad_top and b = j sw + v dw - pad_left. So dx's positions fall into sh x sw phases by
 * (a + pad_top) mod sh and (b + pad_left) mod sw; the positions of a phase all read the
 * taps u whose u dh has that remainder mod sh (and v so), at dy row (a + pad_top) / sh -
 * u dh / sh (both rounded down; column likewise). A phase is then a stride-1
 * convolution of dy, zero-bordered above and left, with its own taps, tiled by
 * position (pos_tiles); its sums are scattered into dx. A phase without taps is zero.
 * Every output sums its taps in (k, u, v) order from zero. */
enum { POS_PHASES = 9 };   /* strides up to 3 */
typedef struct PosDx {
    Flat pad;                   /* dy's zero-bordered planes (flat_pad; cin kg channels) */
    Flat ph[POS_PHASES];        /* each phase as pos_tiles reads it (p x q: its positions) */
    int64_t a0[POS_PHASES], b0[POS_PHASES];   /* its first row and column of dx */
    int64_t base[POS_PHASES];   /* the padded dy offset of its first position */
    int64_t wo[POS_PHASES];     /* its packed weights' offset */
    int nph;
    int64_t pqp;                /* the largest phase's positions, whole tiles */
} PosDx;

/* The taps (of n, dilation dil) that a phase of remainder rem mod stride reads, into
 * out; how many. */
static int64_t phase_taps(int64_t n, int64_t dil, int64_t stride, int64_t rem, int64_t *out)
{
    int64_t m = 0;
    for (int64_t u = 0; u < n; u++)
        if (u * dil % stride == rem) out[m++] = u;
    return m;
}

static void pos_dx_of(const NnlConv *cv, const Geom *g, PosDx *d)
{
    int64_t sh = cv->stride_h, sw = cv->stride_w, dh = cv->dil_h, dw = cv->dil_w;
    int64_t pt = (cv->r - 1) * dh / sh, pl = (cv->s - 1) * dw / sw;   /* dy's border */
    Flat *pf = &d->pad;
    *pf = (Flat){.cin = g->kg, .hin = cv->p, .win = cv->q, .cout = g->cg, .r = 1, .s = 1, .dh = 1, .dw = 1,
                 .sh = 1, .sw = 1, .pad_top = pt, .pad_left = pl};
    pf->hp = (cv->h - 1 + cv->pad_top) / sh + pt + 1;
    pf->wp = (cv->w - 1 + cv->pad_left) / sw + pl + 1;
    pf->plane = pf->hp * pf->wp;
    pf->cstride = pf->plane;
    d->nph = 0;
    d->pqp = 0;
    int64_t wo = 0;
    for (int64_t ra = 0; ra < sh; ra++)
        for (int64_t rb = 0; rb < sw; rb++) {
            int i = d->nph++;
            Flat *f = &d->ph[i];
            *f = *pf;
            int64_t us[FLAT_RS_MAX], vs[FLAT_RS_MAX];
            int64_t nu = phase_taps(cv->r, dh, sh, ra, us), nv = phase_taps(cv->s, dw, sw, rb, vs);
            f->r = nu;
            f->s = nv;
            for (int64_t x = 0; x < nu; x++)
                for (int64_t y = 0; y < nv; y++)
                    f->off[x * nv + y] = (pt - us[x] * dh / sh) * pf->wp + pl - vs[y] * dw / sw;
            f->taps = f->cin * nu * nv;
            int64_t a0 = ((ra - cv->pad_top) % sh + sh) % sh, b0 = ((rb - cv->pad_left) % sw + sw) % sw;
            f->p = a0 < cv->h ? (cv->h - 1 - a0) / sh + 1 : 0;
            f->q = b0 < cv->w ? (cv->w - 1 - b0) / sw + 1 : 0;
            f->psh = f->psw = 1;
            f->pos = 1;
            d->a0[i] = a0;
            d->b0[i] = b0;
            d->base[i] = (a0 + cv->pad_top) / sh * pf->wp + (b0 + cv->pad_left) / sw;
            d->wo[i] = wo;
            wo += f->cout * f->taps;
            int64_t pqp = (f->p * f->q + POS_P - 1) / POS_P * POS_P;
            if (pqp > d->pqp) d->pqp = pqp;
        }
}

/* Each phase's weights, [block of POS_F input channels][tap (k, u, v)][POS_F], from the
 * forward's w (kg, cg, r, s) of one group. */
static void pos_dx_pack(const NnlConv *cv, const PosDx *d, const float *w, float *wp)
{
    int64_t rs = cv->r * cv->s, cg = d->pad.cout;
    for (int i = 0; i < d->nph; i++) {   /* (phase i: remainders i / sw and i % sw) */
        const Flat *f = &d->ph[i];
        int64_t us[FLAT_RS_MAX], vs[FLAT_RS_MAX], prs = f->r * f->s;
        phase_taps(cv->r, cv->dil_h, cv->stride_h, i / cv->stride_w, us);
        phase_taps(cv->s, cv->dil_w, cv->stride_w, i % cv->stride_w, vs);
        float *o = wp + d->wo[i];
        for (int64_t c0 = 0; c0 < cg; c0 += POS_F)
            for (int64_t t = 0; t < f->taps; t++) {
                int64_t k = t / prs, uv = us[t % prs / f->s] * cv->s + vs[t % f->s];
                for (int64_t e = 0; e < POS_F; e++)
                    o[(c0 / POS_F * f->taps + t) * POS_F + e] = w[(k * cg + c0 + e) * rs + uv];
            }
    }
}

/* Channels [c0, c1) of phase i's positions in dx from its sums ot (zero without taps). */
static void pos_dx_scatter(const NnlConv *cv, const PosDx *d, int i, const float *ot, int64_t pqp, float *dx,
                           int64_t c0, int64_t c1)
{
    const Flat *f = &d->ph[i];
    int64_t hw = cv->h * cv->w, sh = cv->stride_h, sw = cv->stride_w;
    float *o = dx + d->a0[i] * cv->w + d->b0[i];
    for (int64_t c = c0; c < c1; c++) {
        const float *src = ot + c / POS_F * pqp * POS_F + c % POS_F;
        for (int64_t a = 0; a < f->p; a++)
            for (int64_t b = 0; b < f->q; b++)
                o[c * hw + a * sh * cv->w + b * sw] = f->taps ? src[(a * f->q + b) * POS_F] : 0.0f;
    }
}

/* One unit's dx (cg, h, w) from its dy (kg, p, q) and the packed weights; each phase's
 * tiles split between nt threads (1: serial). 0 when scratch is refused: nothing
 * written. */
static int pos_dx_unit(const NnlConv *cv, const PosDx *d, const float *dy, const float *wp, float *dx, int nt)
{
    const Flat *pf = &d->pad;
    float *xp = rt_scratch(&flat_in_scratch, flat_in_floats(pf));
    float *ot = xp ? rt_scratch(&flat_out_scratch, (size_t)(pf->cout * d->pqp)) : NULL;
    if (!ot) return 0;
    flat_pad(pf, dy, xp);
    for (int i = 0; i < d->nph; i++) {
        const Flat *f = &d->ph[i];
        int64_t pq = f->p * f->q, pqp = (pq + POS_P - 1) / POS_P * POS_P, tiles = f->taps ? f->cout / POS_F * (pqp / POS_P) : 0;
        if (!pq) continue;
        const float *x0 = xp + d->base[i], *w0 = wp + d->wo[i];
        if (nt <= 1) {
            pos_tiles(f, x0, w0, ot, pqp, 0, tiles);
            pos_dx_scatter(cv, d, i, ot, pqp, dx, 0, f->cout);
            continue;
        }
        #pragma omp parallel num_threads(rt_threads())
        {
            int64_t lo, hi;
            rt_share(tiles, nt, &lo, &hi);
            pos_tiles(f, x0, w0, ot, pqp, lo, hi);
            #pragma omp barrier
            rt_share(f->cout, nt, &lo, &hi);
            pos_dx_scatter(cv, d, i, ot, pqp, dx, lo, hi);
        }
    }
    return 1;
}

/* The flat path's units of one call: each by flat_conv on f, or (d not NULL) by
 * pos_dx_unit on d's phases, with weights packed a group at wp + group * per. */
typedef struct FlatJob {
    const NnlConv *cv;
    const Flat *f;
    const PosDx *d;
    const float *a, *wp;
    float *out;
    int64_t per, in_size, out_size;
} FlatJob;

static int flat_unit(const FlatJob *j, int64_t t, int nt)
{
    const float *a = j->a + t * j->in_size, *wp = j->wp + t % j->cv->groups * j->per;
    float *o = j->out + t * j->out_size;
    return j->d ? pos_dx_unit(j->cv, j->d, a, wp, o, nt) : flat_conv(j->f, a, wp, o, nt);
}

/* Every (image, group) unit of j, split between threads as run_units splits them; a
 * unit whose scratch is refused takes fn's way (w: the weights as given). */
static void flat_units(UnitFn fn, const FlatJob *j, const Geom *g, const float *w, int64_t n, const ConvEpi *e)
{
    const NnlConv *cv = j->cv;
    int64_t units = n * cv->groups;
    int nt = conv_threads(conv_flops(cv, g, n));
    if (units < nt || nt <= 1) {
        for (int64_t t = 0; t < units; t++) {
            if (!flat_unit(j, t, nt)) fn(cv, g, t / cv->groups, t % cv->groups, j->a, w, j->out, col_space(g), nt);
            epi_unit(e, t);
        }
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(units, nt, &lo, &hi);
        for (int64_t t = lo; t < hi; t++) {
            if (!flat_unit(j, t, 1)) fn(cv, g, t / cv->groups, t % cv->groups, j->a, w, j->out, col_space(g), 1);
            epi_unit(e, t);
        }
    }
}

/* The forward (dx 0) or the input gradient (dx 1) of every (image, group) unit by the
 * flat path (a strided input gradient: by phases, pos_dx_of). 0 when the packed
 * weights' scratch is refused (nothing written). */
static int run_flat(UnitFn fn, const NnlConv *cv, int64_t n, const float *a, const float *w,
                    float *out, int dx, const ConvEpi *e)
{
    Geom g = geom(cv);
    Flat f;
    PosDx d;
    int phases = dx && (cv->stride_h > 1 || cv->stride_w > 1);
    if (phases) pos_dx_of(cv, &g, &d);
    else pos_of(cv, &g, dx, &f);
    size_t per = phases ? (size_t)(g.cg * g.kg * cv->r * cv->s) : flat_w_floats(&f);
    float *wp = rt_scratch(&flat_w_scratch, per * (size_t)cv->groups);
    if (!wp) return 0;
    for (int64_t gr = 0; gr < cv->groups; gr++) {
        if (phases) pos_dx_pack(cv, &d, w + gr * g.kg * g.rows, wp + gr * per);
        else flat_pack_w(&f, w + gr * g.kg * g.rows, dx, wp + gr * per);
    }
    FlatJob j = {cv, &f, phases ? &d : NULL, a, wp, out, (int64_t)per, dx ? g.kg * g.pq : g.cg * g.hw,
                 dx ? g.cg * g.hw : g.kg * g.pq};
    flat_units(fn, &j, &g, w, n, e);
    return 1;
}
#endif

/* The forward (dx 0: fn fwd_unit) or the input gradient (dx 1: dx_unit) of every unit,
 * the flat path's way where it applies, with an epilogue ep (or NULL). */
static void run_conv(UnitFn fn, int dx, const NnlConv *cv, int64_t n, const float *a, const float *w,
                     float *out, NnlKernelFn ep, const NnlCtx *ep_ctx)
{
    Geom g = geom(cv);
    ConvEpi e = {ep, ep_ctx, dx ? g.cg * g.hw : g.kg * g.pq}, *pe = ep ? &e : NULL;
#if defined(FLAT_VEC)
    if (n > 0 && flat_path(cv, &g, dx) && run_flat(fn, cv, n, a, w, out, dx, pe)) return;
#endif
    run_units(fn, cv, n, a, w, out, pe);
}

void nnl_conv2d_ep(const NnlConv *cv, int64_t n, const float *x, const float *wt, float *y,
                   NnlKernelFn ep, const NnlCtx *ep_ctx)
{
    run_conv(fwd_unit, 0, cv, n, x, wt, y, ep, ep_ctx);
}

void nnl_conv2d(const NnlConv *cv, int64_t n, const float *x, const float *wt, float *y)
{
    nnl_conv2d_ep(cv, n, x, wt, y, NULL, NULL);
}

/* Output (k, oh, ow) of image xi's convolution, summed directly: the window codes' last
 * resort when not even one image's output can be had in memory (another order of sums
 * than nnl_conv2d's, so its bits may differ). */
static float conv_at(const NnlConv *cv, const Geom *g, const float *xi, const float *wt, int64_t k,
                     int64_t oh, int64_t ow)
{
    const float *xg = xi + k / g->kg * g->cg * g->hw, *wk = wt + k * g->rows;
    float sum = 0.0f;
    for (int64_t c = 0; c < g->cg; c++)
        for (int64_t u = 0; u < cv->r; u++)
            for (int64_t v = 0; v < cv->s; v++) {
                int64_t ih = oh * cv->stride_h - cv->pad_top + u * cv->dil_h;
                int64_t iw = ow * cv->stride_w - cv->pad_left + v * cv->dil_w;
                if (ih >= 0 && ih < cv->h && iw >= 0 && iw < cv->w)
                    sum += wk[(c * cv->r + u) * cv->s + v] * xg[(c * cv->h + ih) * cv->w + iw];
            }
    return sum;
}

static __thread RtScratch codes_scratch;   /* one image's convolution output (window codes) */

/* Image i's pooling and window codes where the tiles could not run, for group gr (its
 * planes' yi, ci) or with gr < 0 for all groups (the image's): the convolution into this
 * thread's scratch first (nnl_conv2d's unit for a group, nnl_conv2d for the image), else
 * each window's cells summed directly. */
static void codes_fallback(const NnlConv *cv, const NnlPool *pl, const Geom *g, int64_t i, int64_t gr,
                           const float *x, const float *wt, float *yi, uint8_t *ci, int nt)
{
    int64_t k0 = gr < 0 ? 0 : gr * g->kg, nk = gr < 0 ? cv->k : g->kg;
    NnlPool some = *pl;
    some.c = nk;
    const float *xi = x + i * cv->c * g->hw;
    float *b = rt_scratch(&codes_scratch, (size_t)(cv->k * g->pq));
    if (b) {
        if (gr < 0) nnl_conv2d(cv, 1, xi, wt, b);
        else fwd_unit(cv, g, 0, gr, xi, wt, b, NULL, nt);
        rt_maxpool2d_codes_planes(&some, nk, b + k0 * g->pq, yi, ci);
        return;
    }
    for (int64_t k = 0; k < nk; k++)
        for (int64_t a = 0; a < pl->p; a++)
            for (int64_t c = 0; c < pl->q; c++) {
                int64_t kk = k0 + k, o = (k * pl->p + a) * pl->q + c;
                float v[4];
                for (int t = 0; t < 4; t++) v[t] = conv_at(cv, g, xi, wt, kk, 2 * a + t / 2, 2 * c + t % 2);
                yi[o] = rt_win_max_code(v[0], v[1], v[2], v[3], &ci[o]);
            }
}

/* Images [i0, i1) of the fused forward: each group's tiles (cy stored if keep is 1, the
 * window codes in its place if NNL_KEEP_CODES), or (the scratch refused) nnl_conv2d's
 * unit and nnl_maxpool2d's planes (codes_fallback for codes). */
static void conv_pool_images(const NnlConv *cv, const NnlPool *pl, const Geom *g, int64_t i0,
                             int64_t i1, const float *x, const float *wt, float *cy, int keep,
                             float *y, int nt)
{
    int64_t p2q2 = pl->p * pl->q;
    uint8_t *codes = keep == NNL_KEEP_CODES ? (uint8_t *)cy : NULL;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t gr = 0; gr < cv->groups; gr++) {
            const float *xi = x + (i * cv->c + gr * g->cg) * g->hw;
            const float *wg = wt + gr * g->kg * g->rows;
            float *cyi = cy + (i * cv->k + gr * g->kg) * g->pq, *yi = y + (i * cv->k + gr * g->kg) * p2q2;
            uint8_t *ci = codes ? codes + (i * cv->k + gr * g->kg) * p2q2 : NULL;
            if (thin_fwd(cv, g, xi, wg, keep == 1 ? cyi : NULL, yi, ci, pl->p, pl->q, nt)) continue;
            if (ci) {
                codes_fallback(cv, pl, g, i, gr, x, wt, yi, ci, nt);
                continue;
            }
            fwd_unit(cv, g, i, gr, x, wt, cy, NULL, nt);
            NnlPool one = *pl;
            one.c = g->kg;
            nnl_maxpool2d(&one, 1, cyi, yi);
        }
}

void nnl_conv2d_maxpool(const NnlConv *cv, const NnlPool *pl, int64_t n, const float *x,
                        const float *wt, float *cy, int keep_cy, float *y)
{
    Geom g = geom(cv);
    if (n <= 0) return;
    if (keep_cy == NNL_KEEP_CODES && !thin_direct(cv, &g)) {   /* (no tiles: image by image) */
        for (int64_t i = 0; i < n; i++)
            codes_fallback(cv, pl, &g, i, -1, x, wt, y + i * cv->k * pl->p * pl->q,
                           (uint8_t *)cy + i * cv->k * pl->p * pl->q, 1);
        return;
    }
    if (!thin_direct(cv, &g) || !pool_2x2(cv, pl)) {
        nnl_conv2d(cv, n, x, wt, cy);
        nnl_maxpool2d(pl, n, cy, y);
        return;
    }
    int nt = conv_threads(conv_flops(cv, &g, n));
    if (n < nt || nt <= 1) {
        conv_pool_images(cv, pl, &g, 0, n, x, wt, cy, keep_cy, y, nt);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(n, nt, &lo, &hi);
        conv_pool_images(cv, pl, &g, lo, hi, x, wt, cy, keep_cy, y, 1);
    }
}

void nnl_conv2d_dx_ep(const NnlConv *cv, int64_t n, const float *dy, const float *wt, float *dx,
                      NnlKernelFn ep, const NnlCtx *ep_ctx)
{
    run_conv(dx_unit, 1, cv, n, dy, wt, dx, ep, ep_ctx);
}

void nnl_conv2d_dx(const NnlConv *cv, int64_t n, const float *dy, const float *wt, float *dx)
{
    nnl_conv2d_dx_ep(cv, n, dy, wt, dx, NULL, NULL);
}

/* The output gradient of a max-pooled convolution, when dw comes from the pooled one:
 * cy the convolution's output, pdy the pooled gradient (nnl_conv2d_dw_maxpool). */
typedef struct Pooled { const NnlPool *pl; const float *cy, *pdy; const uint8_t *codes; } Pooled;

/* dw += the weight gradient of image i's dy, routed through the pooling window by window
 * without a buffer: the fallback when dy_scratch cannot be had (slower, and summed in
 * another order). beta 0: dw overwritten. */
static void dw_pooled_direct(const NnlConv *cv, const Geom *g, const Pooled *po, int64_t i,
                             const float *x, float *dw, float beta)
{
    const NnlPool *pl = po->pl;
    if (beta == 0.0f) memset(dw, 0, sizeof(float) * cv->k * g->rows);
    x += i * cv->c * g->hw;
    for (int64_t kk = 0; kk < cv->k; kk++) {
        const float *cy = po->codes ? NULL : po->cy + (i * cv->k + kk) * g->pq;
        const float *pdy = po->pdy + (i * cv->k + kk) * pl->p * pl->q;
        const uint8_t *code = po->codes ? po->codes + (i * cv->k + kk) * pl->p * pl->q : NULL;
        const float *xg = x + kk / g->kg * g->cg * g->hw;
        float *dwk = dw + kk * g->rows;
        for (int64_t a = 0; a < pl->p; a++)
            for (int64_t b = 0; b < pl->q; b++) {
                int64_t at = code ? (2 * a + code[a * pl->q + b] / 2) * cv->q + 2 * b + code[a * pl->q + b] % 2
                                  : rt_maxpool2d_argmax(pl, cy, a, b);
                if (at < 0) continue;
                float gv = pdy[a * pl->q + b];
                int64_t oh = at / cv->q, ow = at % cv->q;
                for (int64_t c = 0; c < g->cg; c++)
                    for (int64_t u = 0; u < cv->r; u++)
                        for (int64_t v = 0; v < cv->s; v++) {
                            int64_t ih = oh * cv->stride_h - cv->pad_top + u * cv->dil_h;
                            int64_t iw = ow * cv->stride_w - cv->pad_left + v * cv->dil_w;
                            if (ih < 0 || ih >= cv->h || iw < 0 || iw >= cv->w) continue;
                            dwk[(c * cv->r + u) * cv->s + v] += gv * xg[(c * cv->h + ih) * cv->w + iw];
                        }
            }
    }
}

/* Image i's convolution-output gradient from its pooled one into buf (k, p, q) */
static void pooled_dy(const NnlConv *cv, const Geom *g, const Pooled *po, int64_t i, float *buf)
{
    int64_t p2q2 = po->pl->p * po->pl->q;
    if (po->codes) rt_maxpool2d_dx_codes_planes(po->pl, cv->k, po->codes + i * cv->k * p2q2, po->pdy + i * cv->k * p2q2, buf);
    else rt_maxpool2d_dx_planes(po->pl, cv->k, po->cy + i * cv->k * g->pq, po->pdy + i * cv->k * p2q2, buf);
}

/* Images [i0, i1) summed in order into acc: (k, cg, r, s), overwritten. With po, each
 * image's dy is first made from the pooled gradient into this thread's buffer. */
static void dw_images(const NnlConv *cv, const Geom *g, int64_t i0, int64_t i1,
                      const float *x, const float *dy, const Pooled *po, float *acc, float *col, int nt)
{
    float *buf = po ? rt_scratch(&dy_scratch, (size_t)(cv->k * g->pq)) : NULL;
#if defined(FLAT_VEC)
    if (flat_path(cv, g, 0) && (!po || buf) && i0 < i1) {   /* sums (taps, filters) a group, then dw */
        Flat f;
        plain_of(cv, g, &f);   /* (strided: one plain plane, read at the stride) */
        size_t per = (size_t)(f.taps * flat_coutp(&f));
        float *acct = rt_scratch(&flat_out_scratch, per * (size_t)cv->groups);
        float *space = acct ? flat_dw_space(&f) : NULL;
        if (space) {
            for (int64_t i = i0; i < i1; i++) {
                const float *xi = x + i * cv->c * g->hw, *dyi = dy ? dy + i * cv->k * g->pq : NULL;
                if (po) {
                    pooled_dy(cv, g, po, i, buf);
                    dyi = buf;
                }
                for (int64_t gr = 0; gr < cv->groups; gr++)
                    flat_dw(&f, xi + gr * g->cg * g->hw, dyi + gr * g->kg * g->pq, acct + gr * per, i == i0, space);
            }
            for (int64_t gr = 0; gr < cv->groups; gr++) flat_dw_out(&f, acct + gr * per, acc + gr * g->kg * g->rows);
            return;
        }
        if (!col) col = col_space(g);   /* (the flat path's callers ask for none: conv_dw) */
    }
#endif
    for (int64_t i = i0; i < i1; i++) {
        float beta = i > i0 ? 1.0f : 0.0f;
        if (po && !buf) {
            dw_pooled_direct(cv, g, po, i, x, acc, beta);
            continue;
        }
        const float *xi = x, *dyi = dy;
        int64_t at = i;
        if (po) {   /* image i's (k, p, q) gradient, then its dw as image 0 of (xi, buf) */
            pooled_dy(cv, g, po, i, buf);
            xi = x + i * cv->c * g->hw;
            dyi = buf;
            at = 0;
        }
        for (int64_t gr = 0; gr < cv->groups; gr++) dw_unit(cv, g, at, gr, xi, dyi, acc, beta, col, nt);
    }
}

/* Slices [s0, s1) of n images: slice 0's dw into dw, slice s's into part[s - 1]. */
static void dw_slices(const NnlConv *cv, const Geom *g, int64_t s0, int64_t s1, int64_t slices,
                      int64_t n, const float *x, const float *dy, const Pooled *po, float *dw,
                      float *part, int64_t wsize, float *col)
{
    for (int64_t s = s0; s < s1; s++) {
        int64_t i0, i1;
        rt_chunk(n, (int)slices, (int)s, &i0, &i1);
        dw_images(cv, g, i0, i1, x, dy, po, s == 0 ? dw : part + (s - 1) * wsize, col, 1);
    }
}

/* dw[e0:e1] += the other slices' parts, in slice order. */
static void sum_slices(float *dw, const float *part, int64_t slices, int64_t wsize, int64_t e0, int64_t e1)
{
    for (int64_t s = 1; s < slices; s++) {
        const float *ps = part + (s - 1) * wsize;
        for (int64_t e = e0; e < e1; e++) dw[e] += ps[e];
    }
}

static void conv_dw(const NnlConv *cv, int64_t n, const float *x, const float *dy, const Pooled *po,
                    float *dw)
{
    Geom g = geom(cv);
    int64_t wsize = cv->k * g.rows;
    if (n <= 0) {
        memset(dw, 0, sizeof(float) * wsize);
        return;
    }
    /* slices: a function of the shapes alone, so that dw is the same on any thread count */
    int64_t slices = n < NSLOT ? n : NSLOT, cap = 1 + SLOT_CAP / (wsize > 0 ? wsize : 1);
    if (slices > cap) slices = cap;
    float *part = NULL;   /* (slices - 1, wsize): slice 0 sums straight into dw */
    if (slices > 1 && !(part = rt_scratch(&slot_scratch, (size_t)((slices - 1) * wsize))))
        slices = 1;
    int nt = conv_threads(conv_flops(cv, &g, n));
    /* The column matrix, for all but the flat path (which asks for it only if its own
     * scratch is refused): a matrix allocated and never touched would have its pages
     * first touched by a later, smaller convolution in the next step. */
    int cols = 1;
#if defined(FLAT_VEC)
    cols = !flat_path(cv, &g, 0);
#endif
    if (slices == 1) {     /* images in turn, each GEMM and im2col split between threads */
        dw_images(cv, &g, 0, n, x, dy, po, dw, cols ? col_space(&g) : NULL, nt);
        return;
    }
    if (nt > slices) nt = (int)slices;
    if (nt <= 1) {   /* the same slices and sums in turn, without an OpenMP region */
        dw_slices(cv, &g, 0, slices, slices, n, x, dy, po, dw, part, wsize, cols ? col_space(&g) : NULL);
        sum_slices(dw, part, slices, wsize, 0, wsize);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t s0, s1, e0, e1;
        rt_share(slices, nt, &s0, &s1);
        dw_slices(cv, &g, s0, s1, slices, n, x, dy, po, dw, part, wsize, s0 < s1 && cols ? col_space(&g) : NULL);
        #pragma omp barrier
        rt_share(wsize, nt, &e0, &e1);
        sum_slices(dw, part, slices, wsize, e0, e1);
    }
}

void nnl_conv2d_dw(const NnlConv *cv, int64_t n, const float *x, const float *dy, float *dw)
{
    conv_dw(cv, n, x, dy, NULL, dw);
}

void nnl_conv2d_dw_maxpool(const NnlConv *cv, const NnlPool *pl, int64_t n, const float *x,
                           const float *cy, const float *pdy, float *dw)
{
    Pooled po = {pl, cy, pdy, NULL};
    conv_dw(cv, n, x, NULL, &po, dw);
}

void nnl_conv2d_dw_maxpool_codes(const NnlConv *cv, const NnlPool *pl, int64_t n, const float *x,
                                 const uint8_t *codes, const float *pdy, float *dw)
{
    Pooled po = {pl, NULL, pdy, codes};
    conv_dw(cv, n, x, NULL, &po, dw);
}
