/* pool.c — 2-D max and average pooling in NCHW and their adjoints. In: NnlPool shapes, a
 * batch size and float tensors. Out: y or dx, overwritten. Padded cells are not cells:
 * they never win a max and are left out of an average's count; a window that covers
 * padding only (possible only when the padding is as wide as the window) gives 0 and
 * passes no gradient back. Ties go to the first maximum in row-major window order, the
 * same cell in the forward and in dx. Planes (image, channel) are split between threads
 * in contiguous chunks; each output is computed by one thread in one fixed order, so
 * results do not depend on the thread count. No scratch memory. */
#include <omp.h>
#include <string.h>

#include "rt_internal.h"

enum { PAR_MIN = 1 << 15 };   /* window taps below which a region costs more than it saves */

static int pool_threads(const NnlPool *pl, int64_t planes)
{
    double work = (double)planes * pl->p * pl->q * pl->kh * pl->kw;
    if (work < PAR_MIN || omp_in_parallel()) return 1;
    int nt = rt_threads();
    return nt > planes ? (int)planes : nt;
}

/* The window of output (i, j) clipped to the plane: rows [*h0, *h1), columns [*w0, *w1). */
static void window(const NnlPool *pl, int64_t i, int64_t j, int64_t *h0, int64_t *h1,
                   int64_t *w0, int64_t *w1)
{
    int64_t a = i * pl->stride_h - pl->pad_top, b = j * pl->stride_w - pl->pad_left;
    *h0 = a > 0 ? a : 0;
    *h1 = a + pl->kh < pl->h ? a + pl->kh : pl->h;
    *w0 = b > 0 ? b : 0;
    *w1 = b + pl->kw < pl->w ? b + pl->kw : pl->w;
}

/* The first maximum of window (i, j) of plane x: (h, w) as an index, -1 when empty. */
static int64_t argmax(const NnlPool *pl, const float *x, int64_t i, int64_t j)
{
    int64_t h0, h1, w0, w1, best = -1;
    window(pl, i, j, &h0, &h1, &w0, &w1);
    float m = 0.0f;
    for (int64_t a = h0; a < h1; a++)
        for (int64_t b = w0; b < w1; b++) {
            int64_t at = a * pl->w + b;
            if (best < 0 || x[at] > m) {
                m = x[at];
                best = at;
            }
        }
    return best;
}

/* Cells of window (i, j) inside the plane. */
static int64_t count(const NnlPool *pl, int64_t i, int64_t j)
{
    int64_t h0, h1, w0, w1;
    window(pl, i, j, &h0, &h1, &w0, &w1);
    return h1 > h0 && w1 > w0 ? (h1 - h0) * (w1 - w0) : 0;
}

/* ---- one plane each: x (h, w), y and dy (p, q), dx (h, w) ---- */

typedef void (*PlaneFn)(const NnlPool *pl, const float *x, const float *dy, float *out);

static void max_plane(const NnlPool *pl, const float *x, const float *dy, float *y)
{
    for (int64_t i = 0; i < pl->p; i++)
        for (int64_t j = 0; j < pl->q; j++) {
            int64_t at = argmax(pl, x, i, j);
            y[i * pl->q + j] = at >= 0 ? x[at] : 0.0f;
        }
}

/* dx = 0, then dy of every window added to its first maximum. */
static void max_dx_plane(const NnlPool *pl, const float *x, const float *dy, float *dx)
{
    memset(dx, 0, sizeof(float) * pl->h * pl->w);
    for (int64_t i = 0; i < pl->p; i++)
        for (int64_t j = 0; j < pl->q; j++) {
            int64_t at = argmax(pl, x, i, j);
            if (at >= 0) dx[at] += dy[i * pl->q + j];
        }
}

static void avg_plane(const NnlPool *pl, const float *x, const float *dy, float *y)
{
    for (int64_t i = 0; i < pl->p; i++)
        for (int64_t j = 0; j < pl->q; j++) {
            int64_t h0, h1, w0, w1, n = count(pl, i, j);
            window(pl, i, j, &h0, &h1, &w0, &w1);
            float s = 0.0f;
            for (int64_t a = h0; a < h1; a++)
                for (int64_t b = w0; b < w1; b++) s += x[a * pl->w + b];
            y[i * pl->q + j] = n > 0 ? s / (float)n : 0.0f;
        }
}

/* dx = 0, then dy / count of every window added to each of its cells. */
static void avg_dx_plane(const NnlPool *pl, const float *x, const float *dy, float *dx)
{
    memset(dx, 0, sizeof(float) * pl->h * pl->w);
    for (int64_t i = 0; i < pl->p; i++)
        for (int64_t j = 0; j < pl->q; j++) {
            int64_t h0, h1, w0, w1, n = count(pl, i, j);
            if (n == 0) continue;
            window(pl, i, j, &h0, &h1, &w0, &w1);
            float g = dy[i * pl->q + j] / (float)n;
            for (int64_t a = h0; a < h1; a++)
                for (int64_t b = w0; b < w1; b++) dx[a * pl->w + b] += g;
        }
}

/* fn on every (image, channel) plane; out_plane: floats per plane of out. */
static void pool_run(PlaneFn fn, const NnlPool *pl, int64_t n, const float *x,
                     const float *dy, float *out, int64_t out_plane)
{
    int64_t planes = n * pl->c, hw = pl->h * pl->w, pq = pl->p * pl->q;
    if (planes <= 0) return;
    int nt = pool_threads(pl, planes);
    #pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int64_t lo, hi;
        rt_chunk(planes, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
        for (int64_t c = lo; c < hi; c++)
            fn(pl, x ? x + c * hw : NULL, dy ? dy + c * pq : NULL, out + c * out_plane);
    }
}

void nnl_maxpool2d(const NnlPool *pl, int64_t n, const float *x, float *y)
{
    pool_run(max_plane, pl, n, x, NULL, y, pl->p * pl->q);
}

void nnl_maxpool2d_dx(const NnlPool *pl, int64_t n, const float *x, const float *dy, float *dx)
{
    pool_run(max_dx_plane, pl, n, x, dy, dx, pl->h * pl->w);
}

void nnl_avgpool2d(const NnlPool *pl, int64_t n, const float *x, float *y)
{
    pool_run(avg_plane, pl, n, x, NULL, y, pl->p * pl->q);
}

void nnl_avgpool2d_dx(const NnlPool *pl, int64_t n, const float *dy, float *dx)
{
    pool_run(avg_dx_plane, pl, n, NULL, dy, dx, pl->h * pl->w);
}
