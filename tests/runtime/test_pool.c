/* test_pool.c — nnl_maxpool2d, nnl_avgpool2d and their dx against direct loops in double:
 * windows 1x1 to whole-plane, strides equal to, below and above the window, symmetric
 * and asymmetric padding (padded cells never win a max, even over negative inputs, and
 * are not counted in averages), windows of padding only (0, no gradient), ties (the
 * first maximum in row-major order gets the gradient), odd sizes, n = 0, 1 and 3; outputs
 * overwritten and nothing written past them; identical bits on 1, 2 and 3 threads;
 * windows wider than 64 cells. */
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

static unsigned rng_state = 1;
static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* A case: shapes, with the bottom/right padding given so that p and q follow. */
typedef struct Case { int64_t n, c, h, w, kh, kw, sh, sw, pt, pb, pl, pr; } Case;

static NnlPool make_pool(const Case *t)
{
    NnlPool pl = {
        .c = t->c, .h = t->h, .w = t->w, .kh = t->kh, .kw = t->kw, .stride_h = t->sh,
        .stride_w = t->sw, .pad_top = t->pt, .pad_left = t->pl,
    };
    pl.p = (t->h + t->pt + t->pb - t->kh) / t->sh + 1;
    pl.q = (t->w + t->pl + t->pr - t->kw) / t->sw + 1;
    return pl;
}

static float *buf(int64_t n)
{
    float *p = malloc(sizeof(float) * (n + GUARD));
    for (int64_t i = 0; i < n; i++) p[i] = NAN;
    for (int i = 0; i < GUARD; i++) p[n + i] = SENTINEL;
    return p;
}

static int guard_ok(const float *p, int64_t n)
{
    for (int i = 0; i < GUARD; i++)
        if (p[n + i] != SENTINEL) return 0;
    return 1;
}

/* The definitions, in double. Max: the first strictly greater cell wins; an empty
 * window gives 0 and routes nothing. */
static void reference(const NnlPool *pl, int64_t n, const float *x, const float *dy,
                      double *ymax, double *dxmax, double *yavg, double *dxavg)
{
    int64_t planes = n * pl->c, hw = pl->h * pl->w, pq = pl->p * pl->q;
    memset(dxmax, 0, sizeof(double) * planes * hw);
    memset(dxavg, 0, sizeof(double) * planes * hw);
    for (int64_t c = 0; c < planes; c++)
        for (int64_t i = 0; i < pl->p; i++)
            for (int64_t j = 0; j < pl->q; j++) {
                int64_t best = -1, cnt = 0;
                double sum = 0;
                for (int64_t u = 0; u < pl->kh; u++)
                    for (int64_t v = 0; v < pl->kw; v++) {
                        int64_t hi = i * pl->stride_h - pl->pad_top + u;
                        int64_t wi = j * pl->stride_w - pl->pad_left + v;
                        if (hi < 0 || hi >= pl->h || wi < 0 || wi >= pl->w) continue;
                        int64_t at = c * hw + hi * pl->w + wi;
                        if (best < 0 || x[at] > x[best]) best = at;
                        sum += x[at];
                        cnt++;
                    }
                int64_t o = c * pq + i * pl->q + j;
                ymax[o] = best >= 0 ? x[best] : 0.0;
                if (best >= 0) dxmax[best] += dy[o];
                yavg[o] = cnt ? sum / cnt : 0.0;
                for (int64_t u = 0; u < pl->kh && cnt; u++)
                    for (int64_t v = 0; v < pl->kw; v++) {
                        int64_t hi = i * pl->stride_h - pl->pad_top + u;
                        int64_t wi = j * pl->stride_w - pl->pad_left + v;
                        if (hi < 0 || hi >= pl->h || wi < 0 || wi >= pl->w) continue;
                        dxavg[c * hw + hi * pl->w + wi] += (double)dy[o] / cnt;
                    }
            }
}

static double worst_err(const float *got, const double *want, int64_t n)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;   /* NaN sticks */
    }
    return worst;
}

static void describe(const Case *t, const char *data, char *out, size_t len)
{
    snprintf(out, len, "n%lld c%lld %lldx%lld window %lldx%lld stride %lld,%lld pad %lld/%lld,%lld/%lld %s",
             (long long)t->n, (long long)t->c, (long long)t->h, (long long)t->w,
             (long long)t->kh, (long long)t->kw, (long long)t->sh, (long long)t->sw,
             (long long)t->pt, (long long)t->pb, (long long)t->pl, (long long)t->pr, data);
}

/* ties: x drawn from {-4, -3, -2, -1}: many equal maxima, and all below a padded 0. */
static void check_case(const Case *t, int ties)
{
    char name[256];
    describe(t, ties ? "(negative ties)" : "(random)", name, sizeof name);
    NnlPool pl = make_pool(t);
    int64_t n = t->n, nx = n * t->c * t->h * t->w, ny = n * t->c * pl.p * pl.q;
    float *x = malloc(sizeof(float) * (nx + 1)), *dy = malloc(sizeof(float) * (ny + 1));
    for (int64_t i = 0; i < nx; i++) x[i] = ties ? (float)(int)(2.0f * frand() - 2.0f) - 1.0f : frand();
    for (int64_t i = 0; i < nx && ties; i++) if (x[i] > -1.0f || x[i] < -4.0f) x[i] = -1.0f;
    for (int64_t i = 0; i < ny; i++) dy[i] = frand();
    double *ymax = malloc(sizeof(double) * (ny + 1)), *yavg = malloc(sizeof(double) * (ny + 1));
    double *dxmax = malloc(sizeof(double) * (nx + 1)), *dxavg = malloc(sizeof(double) * (nx + 1));
    reference(&pl, n, x, dy, ymax, dxmax, yavg, dxavg);

    static const int threads[3] = {1, 2, 3};
    float *y[3], *dx[3], *ya[3], *dxa[3];
    for (int r = 0; r < 3; r++) {
        y[r] = buf(ny); dx[r] = buf(nx); ya[r] = buf(ny); dxa[r] = buf(nx);
        rt_set_threads(threads[r]);
        nnl_maxpool2d(&pl, n, x, y[r]);
        nnl_maxpool2d_dx(&pl, n, x, dy, dx[r]);
        nnl_avgpool2d(&pl, n, x, ya[r]);
        nnl_avgpool2d_dx(&pl, n, dy, dxa[r]);
    }
    int exact = 1;
    for (int64_t i = 0; i < ny; i++) exact &= y[0][i] == ymax[i];
    double e1 = worst_err(dx[0], dxmax, nx), e2 = worst_err(ya[0], yavg, ny);
    double e3 = worst_err(dxa[0], dxavg, nx);
    CHECK(exact, "%s: max differs", name);
    CHECK(e1 < 1e-6 && e2 < 1e-6 && e3 < 1e-6, "%s: error max dx %g avg %g avg dx %g", name, e1, e2, e3);
    for (int r = 0; r < 3; r++) {
        CHECK(guard_ok(y[r], ny) && guard_ok(dx[r], nx) && guard_ok(ya[r], ny) && guard_ok(dxa[r], nx),
              "%s: written past the end (threads %d)", name, threads[r]);
        if (r == 0) continue;
        CHECK(memcmp(y[0], y[r], sizeof(float) * ny) == 0 && memcmp(dx[0], dx[r], sizeof(float) * nx) == 0 &&
              memcmp(ya[0], ya[r], sizeof(float) * ny) == 0 && memcmp(dxa[0], dxa[r], sizeof(float) * nx) == 0,
              "%s: results differ on %d threads", name, threads[r]);
    }
    for (int r = 0; r < 3; r++) { free(y[r]); free(dx[r]); free(ya[r]); free(dxa[r]); }
    free(x); free(dy); free(ymax); free(yavg); free(dxmax); free(dxavg);
}

/* Hand-made ties: a 2x3 plane of equal values under a 2x2 window with stride 1. */
static void check_ties_by_hand(void)
{
    Case t = {1, 1, 2, 3, 2, 2, 1, 1, 0, 0, 0, 0};
    NnlPool pl = make_pool(&t);   /* p = 1, q = 2 */
    float x[6] = {5, 5, 5, 5, 5, 5}, dy[2] = {1, 10}, y[2], dx[6];
    nnl_maxpool2d(&pl, 1, x, y);
    nnl_maxpool2d_dx(&pl, 1, x, dy, dx);
    static const float want[6] = {1, 10, 0, 0, 0, 0};
    CHECK(y[0] == 5 && y[1] == 5 && memcmp(dx, want, sizeof want) == 0,
          "ties: dx %g %g %g / %g %g %g, expected 1 10 0 / 0 0 0", dx[0], dx[1], dx[2], dx[3], dx[4], dx[5]);
}

int main(void)
{
    /* n, c, h, w, kh, kw, sh, sw, pt, pb, pl, pr */
    static const Case cases[] = {
        {3, 4, 26, 26, 2, 2, 2, 2, 0, 0, 0, 0},       /* Keras MNIST: 2x2 stride 2 */
        {3, 3, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0},         /* odd: the last row and column dropped */
        {2, 2, 5, 71, 2, 2, 2, 2, 0, 0, 0, 0},        /* wide: 16-window blocks and a tail */
        {1, 2, 11, 10, 3, 3, 2, 2, 1, 1, 1, 1},       /* ResNet stem: 3x3 stride 2 pad 1 */
        {3, 2, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1},         /* stride < window, pad 1 */
        {3, 2, 8, 7, 2, 2, 1, 1, 0, 1, 0, 1},         /* 'same', even window: pad 0/1 */
        {3, 2, 9, 8, 3, 2, 1, 2, 0, 2, 1, 0},         /* asymmetric everything */
        {3, 2, 11, 10, 2, 2, 3, 3, 0, 0, 0, 0},       /* stride > window: unread cells */
        {3, 2, 5, 6, 5, 6, 1, 1, 0, 0, 0, 0},         /* global pooling */
        {2, 2, 10, 9, 9, 8, 1, 1, 0, 0, 0, 0},        /* windows of more than 64 cells */
        {1, 3, 4, 5, 1, 1, 1, 1, 0, 0, 0, 0},         /* 1x1 */
        {3, 2, 4, 4, 2, 2, 1, 1, 2, 0, 2, 0},         /* pad = window: empty windows */
        {4, 16, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1},      /* large enough for several threads */
        {0, 3, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0},         /* n = 0 */
    };
    int nc = sizeof cases / sizeof cases[0];
    for (int i = 0; i < nc; i++) {
        check_case(&cases[i], 0);
        check_case(&cases[i], 1);
    }
    check_ties_by_hand();
    printf("%d pool cases, %d failed checks\n", 2 * nc + 1, failures);
    return failures != 0;
}
