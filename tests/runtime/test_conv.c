/* test_conv.c — nnl_conv2d, nnl_conv2d_dx and nnl_conv2d_dw against direct loops in
 * double over strides 1-3, symmetric, asymmetric ('same'-style) and no padding, dilation,
 * groups (1, 2, depthwise), 1x1, odd sizes, kernels wider than the input, batches of 0, 1,
 * 3 and 20; the adjoint identity <conv(x), dy> = <x, dx(dy)> = <w, dw(x, dy)>; outputs
 * overwritten (NaN garbage before) and nothing written past them; identical bits on 1, 2
 * and 3 threads and on a repeated call; correct results when scratch allocation fails
 * (each fallback of the column matrix and of the flat path: check_alloc_failure);
 * epilogues (nnl_conv2d_ep, nnl_conv2d_dx_ep) run once on every output element, after it;
 * nnl_conv2d_dw_maxpool equal to nnl_maxpool2d_dx then nnl_conv2d_dw, bit for bit, and
 * close to it when its buffer cannot be allocated; nnl_conv2d_maxpool equal to nnl_conv2d
 * then nnl_maxpool2d, bit for bit, with and without keeping the convolution's output, on
 * its tiled path (thin filters, 2x2 windows) and the others, and when the padded input's
 * scratch cannot be allocated; nnl_conv2d_maxpool's window codes (NNL_KEEP_CODES) the cells
 * nnl_maxpool2d_dx picks, ties included, and nnl_conv2d_dw_maxpool_codes the bits of
 * nnl_conv2d_dw_maxpool. The flat path's two tilings (flat positions, and output
 * positions where the filters come in blocks of 16 on AVX2) are both among the cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

enum { GUARD = 16 };
static const float SENTINEL = 12345.0f;

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* A case: shapes, with the bottom/right padding given so that p and q follow. */
typedef struct Case {
    int64_t n, c, h, w, k, r, s, sh, sw, pt, pb, pl, pr, dh, dw, groups;
} Case;

static NnlConv make_conv(const Case *t)
{
    NnlConv cv = {
        .c = t->c, .h = t->h, .w = t->w, .k = t->k, .r = t->r, .s = t->s,
        .stride_h = t->sh, .stride_w = t->sw, .pad_top = t->pt, .pad_left = t->pl,
        .dil_h = t->dh, .dil_w = t->dw, .groups = t->groups,
    };
    cv.p = (t->h + t->pt + t->pb - t->dh * (t->r - 1) - 1) / t->sh + 1;
    cv.q = (t->w + t->pl + t->pr - t->dw * (t->s - 1) - 1) / t->sw + 1;
    return cv;
}

/* Buffers with GUARD sentinels after the end; garbage (NaN) inside when asked. */
static float *buf(int64_t n, int nan_fill)
{
    float *p = malloc(sizeof(float) * (n + GUARD));
    for (int64_t i = 0; i < n; i++) p[i] = nan_fill ? NAN : 0.0f;
    for (int i = 0; i < GUARD; i++) p[n + i] = SENTINEL;
    return p;
}

static int guard_ok(const float *p, int64_t n)
{
    for (int i = 0; i < GUARD; i++)
        if (p[n + i] != SENTINEL) return 0;
    return 1;
}

/* The definition, in double: y, dx, dw and the sums of |terms| behind each entry. */
static void reference(const NnlConv *cv, int64_t n, const float *x, const float *w,
                      const float *dy, double *y, double *ym, double *dx, double *dxm,
                      double *dw, double *dwm)
{
    int64_t cg = cv->c / cv->groups, kg = cv->k / cv->groups;
    memset(y, 0, sizeof(double) * n * cv->k * cv->p * cv->q);
    memset(ym, 0, sizeof(double) * n * cv->k * cv->p * cv->q);
    memset(dx, 0, sizeof(double) * n * cv->c * cv->h * cv->w);
    memset(dxm, 0, sizeof(double) * n * cv->c * cv->h * cv->w);
    memset(dw, 0, sizeof(double) * cv->k * cg * cv->r * cv->s);
    memset(dwm, 0, sizeof(double) * cv->k * cg * cv->r * cv->s);
    for (int64_t b = 0; b < n; b++)
        for (int64_t k = 0; k < cv->k; k++)
            for (int64_t i = 0; i < cv->p; i++)
                for (int64_t j = 0; j < cv->q; j++)
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t u = 0; u < cv->r; u++)
                            for (int64_t v = 0; v < cv->s; v++) {
                                int64_t hi = i * cv->stride_h - cv->pad_top + u * cv->dil_h;
                                int64_t wi = j * cv->stride_w - cv->pad_left + v * cv->dil_w;
                                if (hi < 0 || hi >= cv->h || wi < 0 || wi >= cv->w) continue;
                                int64_t ch = (k / kg) * cg + c;
                                int64_t xi = ((b * cv->c + ch) * cv->h + hi) * cv->w + wi;
                                int64_t yi = ((b * cv->k + k) * cv->p + i) * cv->q + j;
                                int64_t ti = ((k * cg + c) * cv->r + u) * cv->s + v;
                                double xv = x[xi], wv = w[ti], gv = dy[yi];
                                y[yi] += xv * wv;   ym[yi] += fabs(xv * wv);
                                dx[xi] += gv * wv;  dxm[xi] += fabs(gv * wv);
                                dw[ti] += xv * gv;  dwm[ti] += fabs(xv * gv);
                            }
}

/* Largest |got - want| relative to the sum of |terms| (plus a floor for empty sums). */
static double worst_err(const float *got, const double *want, const double *mag, int64_t n)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (mag[i] + 1e-30);
        if (got[i] == want[i]) e = 0;
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;   /* NaN sticks */
    }
    return worst;
}

static double dot(const float *a, const float *b, int64_t n, double *mag)
{
    double s = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        s += (double)a[i] * b[i];
        m += fabs((double)a[i] * b[i]);
    }
    *mag = m;
    return s;
}

static void describe(const Case *t, char *out, size_t len)
{
    snprintf(out, len, "n%lld c%lld %lldx%lld k%lld %lldx%lld stride %lld,%lld pad %lld/%lld,%lld/%lld "
             "dil %lld,%lld groups %lld", (long long)t->n, (long long)t->c, (long long)t->h,
             (long long)t->w, (long long)t->k, (long long)t->r, (long long)t->s,
             (long long)t->sh, (long long)t->sw, (long long)t->pt, (long long)t->pb,
             (long long)t->pl, (long long)t->pr, (long long)t->dh, (long long)t->dw,
             (long long)t->groups);
}

/* Runs the three kernels on `threads` threads into fresh NaN-filled buffers. */
static void run(const NnlConv *cv, int64_t n, int threads, const float *x, const float *w,
                const float *dy, float *y, float *dx, float *dw)
{
    rt_set_threads(threads);
    nnl_conv2d(cv, n, x, w, y);
    nnl_conv2d_dx(cv, n, dy, w, dx);
    nnl_conv2d_dw(cv, n, x, dy, dw);
}

static void check_case(const Case *t)
{
    char name[256];
    describe(t, name, sizeof name);
    NnlConv cv = make_conv(t);
    int64_t n = t->n, cg = t->c / t->groups;
    int64_t nx = n * t->c * t->h * t->w, ny = n * t->k * cv.p * cv.q, nw = t->k * cg * t->r * t->s;
    unsigned s = (unsigned)(nx * 7 + ny * 13 + nw * 31);
    float *x = buf(nx, 0), *w = buf(nw, 0), *dy = buf(ny, 0);
    for (int64_t i = 0; i < nx; i++) x[i] = frand(&s);
    for (int64_t i = 0; i < nw; i++) w[i] = frand(&s);
    for (int64_t i = 0; i < ny; i++) dy[i] = frand(&s);
    double *ry = malloc(sizeof(double) * (ny + 1)), *rym = malloc(sizeof(double) * (ny + 1));
    double *rdx = malloc(sizeof(double) * (nx + 1)), *rdxm = malloc(sizeof(double) * (nx + 1));
    double *rdw = malloc(sizeof(double) * (nw + 1)), *rdwm = malloc(sizeof(double) * (nw + 1));
    reference(&cv, n, x, w, dy, ry, rym, rdx, rdxm, rdw, rdwm);

    float *y[4], *dx[4], *dw[4];
    static const int threads[4] = {1, 2, 3, 2};   /* the last: a repeated call */
    for (int r = 0; r < 4; r++) {
        y[r] = buf(ny, 1); dx[r] = buf(nx, 1); dw[r] = buf(nw, 1);
        run(&cv, n, threads[r], x, w, dy, y[r], dx[r], dw[r]);
    }
    double ey = worst_err(y[0], ry, rym, ny), edx = worst_err(dx[0], rdx, rdxm, nx);
    double edw = worst_err(dw[0], rdw, rdwm, nw);
    CHECK(ey < 1e-5 && edx < 1e-5 && edw < 1e-5, "%s: error y %g dx %g dw %g", name, ey, edx, edw);
    for (int r = 0; r < 4; r++) {
        CHECK(guard_ok(y[r], ny) && guard_ok(dx[r], nx) && guard_ok(dw[r], nw),
              "%s: written past the end (threads %d)", name, threads[r]);
        if (r == 0) continue;
        CHECK(memcmp(y[0], y[r], sizeof(float) * ny) == 0, "%s: y differs on %d threads", name, threads[r]);
        CHECK(memcmp(dx[0], dx[r], sizeof(float) * nx) == 0, "%s: dx differs on %d threads", name, threads[r]);
        CHECK(memcmp(dw[0], dw[r], sizeof(float) * nw) == 0, "%s: dw differs on %d threads", name, threads[r]);
    }
    /* <conv(x), dy> = <x, dx(dy)> = <w, dw(x, dy)> */
    double m1, m2, m3;
    double a1 = dot(y[0], dy, ny, &m1), a2 = dot(x, dx[0], nx, &m2), a3 = dot(w, dw[0], nw, &m3);
    double mag = fmax(m1, fmax(m2, m3)) + 1e-30;
    CHECK(fabs(a1 - a2) / mag < 1e-5 && fabs(a1 - a3) / mag < 1e-5,
          "%s: adjoint identity: <y,dy> %.9g <x,dx> %.9g <w,dw> %.9g", name, a1, a2, a3);
    for (int r = 0; r < 4; r++) { free(y[r]); free(dx[r]); free(dw[r]); }
    free(x); free(w); free(dy);
    free(ry); free(rym); free(rdx); free(rdxm); free(rdw); free(rdwm);
}

/* n = 0: nothing to compute, dw is zero, y and dx untouched. */
static void check_empty(void)
{
    Case t = {0, 2, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};   /* w: (1, 2, 3, 3) */
    NnlConv cv = make_conv(&t);
    float x[1] = {1}, dy[1] = {1}, y[1] = {7}, dx[1] = {7}, w[18], dw[18 + GUARD];
    for (int i = 0; i < 18; i++) w[i] = 1.0f;
    for (int i = 0; i < 18 + GUARD; i++) dw[i] = i < 18 ? NAN : SENTINEL;
    nnl_conv2d(&cv, 0, x, w, y);
    nnl_conv2d_dx(&cv, 0, dy, w, dx);
    nnl_conv2d_dw(&cv, 0, x, dy, dw);
    int zero = 1;
    for (int i = 0; i < 18; i++) zero &= dw[i] == 0.0f;
    CHECK(zero && guard_ok(dw, 18) && y[0] == 7 && dx[0] == 7, "n = 0: dw not zero or y/dx touched");
}

/* The n-th allocation of a call failing must fall back to another way with the same
 * results: dw's partials (one slice), the column matrix (direct loops), the flat path's
 * packed weights or dw sums (the column matrix), its padded input (the column matrix,
 * unit by unit). Each case is larger than every one before, so the scratch cached so
 * far does not cover it; one thread, so the order of allocations is fixed. Runs first,
 * while nothing is cached. fail[]: the allocation of the dw, forward and dx calls that
 * fails (0: none). */
static void check_alloc_failure(void)
{
    static const struct { Case t; int fail[3]; const char *what; } cases[] = {
        {{3, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1}, "dw partials (thin filters)"},
        /* (stride 4: the column matrix's way, not the flat path) */
        {{3, 4, 37, 37, 6, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1, 1}, {2, 1, 1}, "column matrix"},
        {{2, 5, 45, 41, 2, 3, 3, 4, 4, 0, 0, 0, 0, 1, 1, 1}, {1, 1, 1}, "... for y, dx and dw"},
        /* flat (stride 1, 36+ taps): dw's allocations are its partials, the sums (taps x
         * filters), the padded input (each slice tries again), then the column matrix
         * when one of those is refused; the
         * forward's and dx's the packed weights, the padded input, the flat output, of
         * the first unit (those still too small: checked with prints in the fallbacks) */
        {{3, 6, 14, 14, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {2, 1, 1}, "flat: sums, weights"},
        {{3, 7, 15, 15, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 2, 0}, "flat: dw's input, y's output"},
        {{2, 4, 12, 12, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 2}, "flat: dx's padded input"},
        /* the positions path (48 filters): the packed weights, then its output (the
         * padded input is cached from the case before) */
        {{2, 5, 20, 20, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {0, 2, 0}, "positions: y's output"},
        /* a strided input gradient in phases: its padded dy (1024 x 5 x 5, larger than
         * all scratch so far, dw's included) */
        {{2, 16, 8, 8, 1024, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1}, "positions: strided dx's padded dy"},
    };
    for (int ci = 0; ci < (int)(sizeof cases / sizeof cases[0]); ci++) {
        const Case *t = &cases[ci].t;
        NnlConv cv = make_conv(t);
        int64_t n = t->n, nx = n * t->c * t->h * t->w, ny = n * t->k * cv.p * cv.q;
        int64_t nw = t->k * t->c * t->r * t->s;
        unsigned s = 99u + ci;
        float *x = buf(nx, 0), *w = buf(nw, 0), *dy = buf(ny, 0);
        float *y = buf(ny, 1), *dx = buf(nx, 1), *dw = buf(nw, 1);
        for (int64_t i = 0; i < nx; i++) x[i] = frand(&s);
        for (int64_t i = 0; i < nw; i++) w[i] = frand(&s);
        for (int64_t i = 0; i < ny; i++) dy[i] = frand(&s);
        double *ry = malloc(sizeof(double) * ny), *rym = malloc(sizeof(double) * ny);
        double *rdx = malloc(sizeof(double) * nx), *rdxm = malloc(sizeof(double) * nx);
        double *rdw = malloc(sizeof(double) * nw), *rdwm = malloc(sizeof(double) * nw);
        reference(&cv, n, x, w, dy, ry, rym, rdx, rdxm, rdw, rdwm);
        rt_set_threads(1);
        rt_alloc_fail_after(cases[ci].fail[0]);
        nnl_conv2d_dw(&cv, n, x, dy, dw);
        rt_alloc_fail_after(cases[ci].fail[1]);
        nnl_conv2d(&cv, n, x, w, y);
        rt_alloc_fail_after(cases[ci].fail[2]);
        nnl_conv2d_dx(&cv, n, dy, w, dx);
        rt_alloc_fail_after(0);
        double ey = worst_err(y, ry, rym, ny), edx = worst_err(dx, rdx, rdxm, nx);
        double edw = worst_err(dw, rdw, rdwm, nw);
        CHECK(ey < 1e-5 && edx < 1e-5 && edw < 1e-5, "allocation failure case %d (%s): error y %g dx %g dw %g",
              ci, cases[ci].what, ey, edx, edw);
        CHECK(guard_ok(y, ny) && guard_ok(dx, nx) && guard_ok(dw, nw), "allocation failure case %d: wrote past the end", ci);
        free(x); free(w); free(dy); free(y); free(dx); free(dw);
        free(ry); free(rym); free(rdx); free(rdxm); free(rdw); free(rdwm);
    }
}

/* nnl_conv2d_dw_maxpool(x, cy, pdy) against nnl_conv2d_dw(x, nnl_maxpool2d_dx(cy, pdy)):
 * the same bits on 1, 2 and 3 threads, for 2x2 and overlapping 3x3 stride-2 windows with
 * padding, groups, and batches that take one slice or several. fail_at > 0: that
 * allocation fails (the per-image buffer), and the direct fallback must agree to 1e-5. */
static void check_pooled(const Case *t, int64_t kh, int64_t sh, int64_t pad, int fail_at)
{
    NnlConv cv = make_conv(t);
    NnlPool pl = {.c = t->k, .h = cv.p, .w = cv.q, .kh = kh, .kw = kh, .stride_h = sh, .stride_w = sh,
                  .pad_top = pad, .pad_left = pad};
    pl.p = (cv.p + 2 * pad - kh) / sh + 1;
    pl.q = (cv.q + 2 * pad - kh) / sh + 1;
    int64_t n = t->n, nx = n * t->c * t->h * t->w, ny = n * t->k * cv.p * cv.q;
    int64_t npy = n * t->k * pl.p * pl.q, nw = t->k * (t->c / t->groups) * t->r * t->s;
    unsigned s = 7u + (unsigned)(n * 31 + kh);
    float *x = buf(nx, 0), *cy = buf(ny, 0), *pdy = buf(npy, 0), *dy = buf(ny, 1);
    float *want = buf(nw, 1), *got = buf(nw, 1);
    for (int64_t i = 0; i < nx; i++) x[i] = frand(&s);
    for (int64_t i = 0; i < ny; i++) cy[i] = frand(&s);
    for (int64_t i = 0; i < npy; i++) pdy[i] = frand(&s);
    char what[200];
    describe(t, what, sizeof what);
    for (int threads = 1; threads <= 3; threads++) {
        rt_set_threads(threads);
        nnl_maxpool2d_dx(&pl, n, cy, pdy, dy);
        nnl_conv2d_dw(&cv, n, x, dy, want);
        if (fail_at) rt_alloc_fail_after(fail_at);
        nnl_conv2d_dw_maxpool(&cv, &pl, n, x, cy, pdy, got);
        rt_alloc_fail_after(0);
        if (fail_at) {
            double worst = 0;
            for (int64_t i = 0; i < nw; i++) {
                double e = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
                if (e > worst) worst = e;
            }
            CHECK(worst < 1e-5, "pooled dw, buffer refused, %s: error %g", what, worst);
            break;
        }
        CHECK(!memcmp(got, want, sizeof(float) * nw) && guard_ok(got, nw),
              "pooled dw %s, pool %lld stride %lld pad %lld, %d threads: not the unfused bits", what,
              (long long)kh, (long long)sh, (long long)pad, threads);
    }
    free(x); free(cy); free(pdy); free(dy); free(want); free(got);
}

/* nnl_conv2d_maxpool(x) against nnl_conv2d then nnl_maxpool2d: the same bits in cy and
 * y (keep_cy 1) and in y (keep_cy 0), nothing past either, on 1, 2 and 3 threads; kh/sh:
 * the pooling's window and stride (2, 2: the tiled path where the filters are thin).
 * fail_at > 0: that allocation fails in one fused call, made first (nothing cached). */
static void check_conv_pool(const Case *t, int64_t kh, int64_t sh, int fail_at)
{
    NnlConv cv = make_conv(t);
    NnlPool pl = {.c = t->k, .h = cv.p, .w = cv.q, .kh = kh, .kw = kh, .stride_h = sh, .stride_w = sh};
    pl.p = (cv.p - kh) / sh + 1;
    pl.q = (cv.q - kh) / sh + 1;
    int64_t n = t->n, nx = n * t->c * t->h * t->w, ny = n * t->k * cv.p * cv.q;
    int64_t npy = n * t->k * pl.p * pl.q, nw = t->k * (t->c / t->groups) * t->r * t->s;
    unsigned s = 11u + (unsigned)(nx + 3 * kh);
    float *x = buf(nx, 0), *w = buf(nw, 0), *cy = buf(ny, 1), *py = buf(npy, 1);
    float *cy2 = buf(ny, 1), *py2 = buf(npy, 1);
    for (int64_t i = 0; i < nx; i++) x[i] = frand(&s);
    for (int64_t i = 0; i < nw; i++) w[i] = frand(&s);
    char what[200];
    describe(t, what, sizeof what);
    rt_set_threads(1);
    if (fail_at) {   /* the fused call first, while its scratch is not cached */
        rt_alloc_fail_after(fail_at);
        nnl_conv2d_maxpool(&cv, &pl, n, x, w, cy2, 1, py2);
        rt_alloc_fail_after(0);
    }
    nnl_conv2d(&cv, n, x, w, cy);
    nnl_maxpool2d(&pl, n, cy, py);
    for (int threads = 1; threads <= 3; threads++)
        for (int keep = 1; keep >= 0; keep--) {
            rt_set_threads(threads);
            if (!fail_at) {
                for (int64_t i = 0; i < ny; i++) cy2[i] = NAN;
                for (int64_t i = 0; i < npy; i++) py2[i] = NAN;
                nnl_conv2d_maxpool(&cv, &pl, n, x, w, cy2, keep, py2);
            }
            CHECK(!memcmp(py, py2, sizeof(float) * npy) && guard_ok(py2, npy) && guard_ok(cy2, ny),
                  "conv+pool %s, pool %lld stride %lld, keep %d, %d threads: pooled output not the unfused bits",
                  what, (long long)kh, (long long)sh, keep, threads);
            CHECK(!keep || !memcmp(cy, cy2, sizeof(float) * ny),
                  "conv+pool %s, pool %lld stride %lld, %d threads: convolution output not the unfused bits",
                  what, (long long)kh, (long long)sh, threads);
        }
    free(x); free(w); free(cy); free(py); free(cy2); free(py2);
}

/* nnl_conv2d_maxpool keeping window codes (NNL_KEEP_CODES) against nnl_conv2d then
 * nnl_maxpool2d: y the same bits, each code the cell nnl_maxpool2d_dx routes to (the first
 * equal to the maximum, by row-major order), nothing written past the codes in cy's
 * memory; nnl_conv2d_dw_maxpool_codes the bits of nnl_conv2d_dw_maxpool on cy; on 1, 2
 * and 3 threads. ties: small integers for x and w, so that windows often tie. fail_at > 0:
 * that allocation fails in one codes call, made first (the padded input's scratch of the
 * tiles, or the image's output buffer where there are no tiles: then each window is
 * summed directly, y to 1e-5 and the codes as long as no window nearly ties). */
static void check_codes(const Case *t, int ties, int fail_at)
{
    NnlConv cv = make_conv(t);
    NnlPool pl = {.c = t->k, .h = cv.p, .w = cv.q, .kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2};
    pl.p = (cv.p - 2) / 2 + 1;
    pl.q = (cv.q - 2) / 2 + 1;
    int64_t n = t->n, nx = n * t->c * t->h * t->w, ny = n * t->k * cv.p * cv.q;
    int64_t npy = n * t->k * pl.p * pl.q, nw = t->k * (t->c / t->groups) * t->r * t->s;
    unsigned s = 13u + (unsigned)(nx + 5 * ties);
    float *x = buf(nx, 0), *w = buf(nw, 0), *cy = buf(ny, 1), *py = buf(npy, 1), *pdy = buf(npy, 0);
    float *cc = buf(ny, 1), *py2 = buf(npy, 1), *want = buf(nw, 1), *got = buf(nw, 1);
    uint8_t *codes = (uint8_t *)cc, *wantc = malloc((size_t)npy + 1);
    for (int64_t i = 0; i < nx; i++) x[i] = ties ? (float)((int)(frand(&s) * 3.0f)) : frand(&s);
    for (int64_t i = 0; i < nw; i++) w[i] = ties ? (float)((int)(frand(&s) * 3.0f)) : frand(&s);
    for (int64_t i = 0; i < npy; i++) pdy[i] = frand(&s);
    char what[200];
    describe(t, what, sizeof what);
    rt_set_threads(1);
    if (fail_at) {
        rt_alloc_fail_after(fail_at);
        nnl_conv2d_maxpool(&cv, &pl, n, x, w, cc, NNL_KEEP_CODES, py2);
        rt_alloc_fail_after(0);
    }
    nnl_conv2d(&cv, n, x, w, cy);
    nnl_maxpool2d(&pl, n, cy, py);
    int64_t nties = 0;
    for (int64_t pc = 0; pc < n * t->k; pc++)
        for (int64_t a = 0; a < pl.p; a++)
            for (int64_t b = 0; b < pl.q; b++) {
                const float *r0 = cy + (pc * cv.p + 2 * a) * cv.q + 2 * b, *r1 = r0 + cv.q;
                float v[4] = {r0[0], r0[1], r1[0], r1[1]}, m = v[0];
                for (int e = 1; e < 4; e++) m = v[e] > m ? v[e] : m;
                int c = 0, eq = 0;
                while (c < 4 && v[c] != m) c++;
                for (int e = 0; e < 4; e++) eq += v[e] == m;
                nties += eq > 1;
                wantc[(pc * pl.p + a) * pl.q + b] = (uint8_t)(c < 4 ? c : 0);
            }
    CHECK(!ties || nties > npy / 50, "codes %s: only %lld of %lld windows tie", what, (long long)nties, (long long)npy);
    if (fail_at) {
        double worst = 0;
        for (int64_t i = 0; i < npy; i++) {
            double e = fabs((double)py2[i] - py[i]) / (1.0 + fabs(py[i]));
            if (!(e <= worst)) worst = e;
        }
        CHECK(worst < 1e-5 && !memcmp(codes, wantc, (size_t)npy), "codes %s, allocation %d refused: y error %g, codes %s",
              what, fail_at, worst, memcmp(codes, wantc, (size_t)npy) ? "differ" : "equal");
    }
    for (int threads = 1; threads <= 3; threads++) {
        rt_set_threads(threads);
        for (int64_t i = 0; i < ny; i++) cc[i] = NAN;
        for (int64_t i = 0; i < npy; i++) py2[i] = NAN;
        nnl_conv2d_maxpool(&cv, &pl, n, x, w, cc, NNL_KEEP_CODES, py2);
        int64_t past = 0;
        for (int64_t i = (npy + 3) / 4; i < ny; i++) past += !isnan(cc[i]);
        CHECK(!memcmp(py, py2, sizeof(float) * npy) && guard_ok(py2, npy) && guard_ok(cc, ny) && past == 0,
              "codes %s, %d threads: pooled output not the unfused bits, or %lld floats written past the codes",
              what, threads, (long long)past);
        CHECK(!memcmp(codes, wantc, (size_t)npy), "codes %s, ties %d, %d threads: not the cells nnl_maxpool2d_dx picks",
              what, ties, threads);
        nnl_conv2d_dw_maxpool(&cv, &pl, n, x, cy, pdy, want);
        nnl_conv2d_dw_maxpool_codes(&cv, &pl, n, x, codes, pdy, got);
        CHECK(!memcmp(got, want, sizeof(float) * nw) && guard_ok(got, nw),
              "codes %s, ties %d, %d threads: dw from the codes not nnl_conv2d_dw_maxpool's bits", what, ties, threads);
    }
    free(x); free(w); free(cy); free(py); free(pdy); free(cc); free(py2); free(want); free(got); free(wantc);
}

/* nnl_conv2d_ep / nnl_conv2d_dx_ep: the epilogue sees each output element once, after
 * it is final (it maps v to 2 v + 1 and counts its calls per element), on 1 and 2
 * threads, for a batch split between threads (each image's whole) and a batch of one
 * (its convolution split, the epilogue after it), on the flat path and on the GEMM's. */
typedef struct EpiCount { float *y; unsigned char *seen; } EpiCount;

static void epi_twice_plus_one(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    const EpiCount *e = (const EpiCount *)ctx;
    for (int64_t i = lo; i < hi; i++) {
        e->y[i] = 2.0f * e->y[i] + 1.0f;
        e->seen[i]++;
    }
}

static void check_epilogue(const Case *t)
{
    NnlConv cv = make_conv(t);
    int64_t n = t->n, nx = n * t->c * t->h * t->w, ny = n * t->k * cv.p * cv.q;
    int64_t nw = t->k * t->c / t->groups * t->r * t->s;
    unsigned s = 31u;
    float *x = buf(nx, 0), *w = buf(nw, 0), *dy = buf(ny, 0);
    for (int64_t i = 0; i < nx; i++) x[i] = frand(&s);
    for (int64_t i = 0; i < nw; i++) w[i] = frand(&s);
    for (int64_t i = 0; i < ny; i++) dy[i] = frand(&s);
    for (int dx = 0; dx < 2; dx++) {
        int64_t no = dx ? nx : ny;
        float *plain = buf(no, 1), *got = buf(no, 1);
        unsigned char *seen = calloc((size_t)no, 1);
        EpiCount e = {got, seen};
        for (int th = 1; th <= 2; th++) {
            rt_set_threads(th);
            memset(seen, 0, (size_t)no);
            if (dx) {
                nnl_conv2d_dx(&cv, n, dy, w, plain);
                nnl_conv2d_dx_ep(&cv, n, dy, w, got, epi_twice_plus_one, (const NnlCtx *)&e);
            } else {
                nnl_conv2d(&cv, n, x, w, plain);
                nnl_conv2d_ep(&cv, n, x, w, got, epi_twice_plus_one, (const NnlCtx *)&e);
            }
            int64_t bad = 0;
            for (int64_t i = 0; i < no; i++) bad += seen[i] != 1 || got[i] != 2.0f * plain[i] + 1.0f;
            CHECK(bad == 0 && guard_ok(got, no), "n%lld c%lld k%lld %s epilogue, %d threads: %lld elements wrong",
                  (long long)n, (long long)t->c, (long long)t->k, dx ? "dx" : "forward", th, (long long)bad);
        }
        free(plain); free(got); free(seen);
    }
    free(x); free(w); free(dy);
}

int main(void)
{
    {   /* first, while nothing is cached and small enough to leave check_alloc_failure
         * its allocations: the unfused reference caches the partials and the column
         * matrix, so the pooled call's one allocation is its per-image buffer */
        Case tiny = {2, 2, 6, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        check_pooled(&tiny, 2, 2, 0, 1);
    }
    check_alloc_failure();
    {   /* window codes with no tiles (144 taps) and the image's buffer refused, first (not
         * cached yet): each window summed directly */
        Case gemm = {2, 16, 12, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        check_codes(&gemm, 0, 1);
    }
    {
        static const Case epi[] = {
            {5, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* flat */
            {1, 16, 20, 20, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* flat, batch 1 split */
            {8, 6, 19, 19, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2},     /* the GEMM's, groups */
            {1, 3, 30, 30, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* thin, batch 1 split */
        };
        for (int i = 0; i < 4; i++) check_epilogue(&epi[i]);
    }
    {   /* the padded input's scratch refused: the unfused path (its planes, 3 x 66 x 66,
         * larger than every padded input before, the largest 24 x 22 x 22 above, so that
         * the scratch cached so far does not cover it: checked with a print) */
        Case padded = {2, 3, 64, 64, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        check_conv_pool(&padded, 2, 2, 1);
        Case larger = {2, 3, 80, 80, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};   /* ... for the codes */
        check_codes(&larger, 0, 1);
    }
    {
        /* n, c, h, w, k, r, s, sh, sw, pt, pb, pl, pr, dh, dw, groups */
        static const Case fused[] = {
            {1, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},    /* the Keras CNN's, batch 1 */
            {3, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},    /* ... batch 3 */
            {2, 3, 11, 37, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* padded; odd p, q; 5 filters; 2 column blocks */
            {2, 2, 12, 9, 7, 3, 2, 1, 1, 2, 0, 0, 3, 2, 3, 1},      /* dilation, asymmetric padding */
            {1, 4, 10, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},     /* groups 2 */
            {1, 3, 64, 64, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* batch 1 split between threads */
            {2, 16, 12, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* 144 taps: the GEMM */
            {2, 3, 12, 12, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     /* stride 2: the GEMM */
            {2, 3, 6, 6, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},       /* 1x1: the GEMM */
        };
        for (int i = 0; i < (int)(sizeof fused / sizeof fused[0]); i++) {
            check_conv_pool(&fused[i], 2, 2, 0);
            check_codes(&fused[i], 0, 0);
            check_codes(&fused[i], 1, 0);
            check_conv_pool(&fused[i], 3, 2, 0);   /* overlapping windows: unfused */
        }
    }
    {
        Case pooled[] = {
            {3, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},    /* the Keras CNN's */
            {20, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},      /* several slices */
            {3, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},       /* groups 2 */
        };
        for (int i = 0; i < 3; i++) {
            check_pooled(&pooled[i], 2, 2, 0, 0);
            check_pooled(&pooled[i], 3, 2, 1, 0);
        }
    }
    /* n, c, h, w, k, r, s, sh, sw, pt, pb, pl, pr, dh, dw, groups */
    static const Case cases[] = {
        {1, 3, 7, 9, 5, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},       /* valid, n = 1 */
        {3, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* pad 1 */
        {3, 3, 11, 8, 4, 3, 2, 2, 2, 1, 1, 1, 0, 1, 1, 1},      /* stride 2, odd, r != s */
        {3, 2, 8, 7, 3, 2, 2, 1, 1, 0, 1, 0, 1, 1, 1, 1},       /* 'same', even kernel: pad 0/1 */
        {3, 3, 9, 10, 4, 4, 4, 2, 2, 1, 2, 1, 2, 1, 1, 1},      /* 'same', stride 2: pad 1/2 */
        {1, 2, 9, 8, 3, 5, 3, 2, 1, 2, 1, 0, 2, 1, 1, 1},       /* pad top 2 bottom 1, n = 1 */
        {3, 3, 10, 11, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},     /* dilation 2 */
        {3, 2, 12, 9, 3, 3, 2, 2, 1, 1, 0, 0, 3, 2, 3, 1},      /* dilation, stride, asymmetric */
        {3, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},       /* groups 2 */
        {3, 6, 9, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1, 2},       /* groups 2, stride, dilation */
        {3, 5, 8, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},       /* depthwise */
        {1, 4, 7, 7, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4},       /* depthwise x2, n = 1 */
        {3, 6, 5, 7, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},       /* 1x1 */
        {1, 6, 5, 7, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2},       /* 1x1, groups, n = 1 */
        {3, 6, 5, 7, 4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},       /* 1x1 stride 2 */
        {3, 3, 4, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* 1x1 with padding */
        {3, 3, 4, 5, 2, 1, 1, 1, 1, 1, -1, 0, 0, 1, 1, 1},      /* 1x1, p = h but shifted */
        {3, 2, 10, 11, 3, 2, 2, 3, 3, 0, 0, 0, 0, 1, 1, 1},     /* stride 3 > kernel: unread rows */
        {3, 2, 2, 3, 3, 3, 5, 1, 1, 1, 2, 2, 1, 1, 1, 1},       /* kernel wider than the input */
        {3, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},    /* Keras MNIST, first layer */
        {3, 16, 12, 10, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* k != c */
        {20, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},      /* 16 dw slices of 1-2 images */
        {9, 256, 3, 3, 256, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},   /* big weights: fewer slices */
        {1, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* n = 1, flat tiles split */
        /* the flat path (stride 1, more than 32 taps): */
        {3, 8, 11, 13, 14, 3, 3, 1, 1, 2, 0, 1, 3, 2, 1, 2},    /* groups, dilation, asymmetric padding */
        {3, 5, 9, 8, 6, 3, 3, 1, 1, 1, -1, 0, 2, 1, 1, 1},      /* a row of the input unread */
        {3, 8, 6, 5, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},      /* rows shorter than a vector */
        {2, 3, 7, 7, 40, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},      /* 5x5, dx of 40 x 25 taps */
        {17, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* examples/resnet_small.nnl's */
        /* ... with a stride (the forward and dw in phase planes, dx the GEMM's) */
        {5, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   /* resnet_small's down blocks */
        {3, 5, 13, 11, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     /* odd sizes */
        {2, 4, 17, 16, 6, 3, 3, 3, 3, 1, 2, 0, 1, 2, 2, 1},     /* stride 3, dilation 2 */
        {3, 6, 10, 9, 5, 3, 3, 2, 1, 1, 0, 1, 1, 1, 1, 1},      /* strides 2 and 1 */
        {3, 8, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2},       /* groups */
        {2, 2, 11, 12, 8, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 1},     /* 5x5, padding 2 */
        {1, 32, 20, 20, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   /* batch 1, tiles split */
        /* the positions path (filters, and dx's input channels, in whole blocks of 16 on
         * AVX2): planes that are no multiple of a tile (6) or of a transposed block (8) */
        {3, 16, 5, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* 35 positions */
        {2, 16, 2, 2, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* 4 positions: one short tile */
        {2, 32, 12, 11, 32, 3, 3, 1, 1, 2, 0, 1, 3, 2, 1, 2},   /* groups of 16, dilation, asymmetric */
        {2, 16, 10, 11, 48, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1},   /* strides 3 and 2 */
        /* ... strided input gradients in phases (16 input channels a group) */
        {2, 16, 11, 10, 8, 2, 2, 3, 3, 0, 0, 0, 0, 1, 1, 1},    /* stride 3 > kernel: phases without taps */
        {2, 32, 13, 12, 16, 3, 3, 2, 2, 2, 1, 1, 2, 2, 1, 2},   /* groups, dilation, asymmetric */
        {1, 16, 9, 16, 16, 5, 3, 3, 2, 2, 2, 1, 1, 1, 2, 1},    /* 5x3, strides 3 and 2, n = 1 */
    };
    int nc = sizeof cases / sizeof cases[0];
    for (int i = 0; i < nc; i++) check_case(&cases[i]);
    check_empty();
    printf("%d conv cases, %d failed checks\n", nc + 4 + 21, failures);
    return failures != 0;
}
