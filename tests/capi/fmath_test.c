/* fmath_test.c — the elementwise functions nnlc computes without libm (codegen.c's
 * fast_tanh, fast_exp, and sigmoid through fast_exp) against libm in double, over a sweep
 * of [-12, 12], random floats of every magnitude and the edge cases: the error in ulps of
 * the float nearest the true value, |tanh| <= 1, tanh odd bit for bit, 0 <= sigmoid <= 1,
 * infinities and NaN. The bounds are the ones codegen.c's comments promise. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmath.h"

enum { N = 1024, B = 256, HALF = N * B / 2 };

/* the distance from y to the true value t in ulps of the float nearest t (the ulp below
 * for a power of two, never less than the smallest subnormal) */
static double ulps(float y, double t)
{
    float tf = (float)t;   /* inf where t is past FLT_MAX */
    if (isinf(tf) || isinf(y)) return y == tf ? 0 : INFINITY;
    double ulp = fabs((double)tf - (double)nextafterf(tf, 0.0f));
    if (tf == 0 || ulp < FLT_TRUE_MIN) ulp = FLT_TRUE_MIN;
    return fabs((double)y - t) / ulp;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static float xs[N * B], ys[3 * N * B];

int main(void)
{
    static const float edge[] = {0, 1e-30f, 1e-10f, 1e-5f, 0.0625f, 0.06249999f, 0.5f, 1, 4, 8.99f, 9,
                                 9.01f, 20, 87, 88.72f, 88.73f, 89, 100, 103.9f, 104, 110, 1e30f};
    int ne = (int)(sizeof edge / sizeof edge[0]), i = 0;
    for (int k = 0; k < ne; k++) xs[i++] = edge[k];
    xs[i++] = INFINITY;
    xs[i++] = NAN;
    for (; i < HALF / 2; i++) xs[i] = 12.0f * (float)i / (HALF / 2);   /* a sweep of [0, 12) */
    for (; i < HALF; i++) {                          /* random floats of every magnitude */
        uint32_t u = next() % 0x7f800000u;
        memcpy(&xs[i], &u, 4);
    }
    for (i = 0; i < HALF; i++) xs[HALF + i] = -xs[i];
    fmath_model *m = fmath_create(B);
    if (!m || fmath_forward(m, xs, B, ys)) return 1;
    double worst[3] = {0, 0, 0};
    float at[3] = {0, 0, 0};
    int bad = 0;
    for (i = 0; i < N * B; i++) {
        int b = i / N, j = i % N;
        float x = xs[i], th = ys[b * 3 * N + j], ex = ys[b * 3 * N + N + j], sg = ys[b * 3 * N + 2 * N + j];
        if (isnan(x)) {
            if (!isnan(th) || !isnan(ex) || !isnan(sg)) bad++, fprintf(stderr, "NaN in: tanh %g exp %g sigmoid %g\n", th, ex, sg);
            continue;
        }
        double e[3] = {ulps(th, tanh(x)), ulps(ex, exp(x)), x >= -87 ? ulps(sg, 1 / (1 + exp(-(double)x))) : 0};
        for (int f = 0; f < 3; f++)
            if (e[f] > worst[f]) worst[f] = e[f], at[f] = x;
        if (!(fabsf(th) <= 1) || !(sg >= 0 && sg <= 1)) {
            if (bad++ < 5) fprintf(stderr, "x = %.9g: tanh %.9g, sigmoid %.9g out of range\n", x, th, sg);
        }
        if (i < HALF) {
            float thn = ys[(i + HALF) / N * 3 * N + (i + HALF) % N];
            if (thn != -th && bad++ < 5) fprintf(stderr, "tanh(%.9g) = %.9g but tanh(-x) = %.9g\n", x, th, thn);
        }
    }
    static const char *name[3] = {"tanh", "exp", "sigmoid"};
    static const double bound[3] = {6, 2, 3};
    for (int f = 0; f < 3; f++) {
        printf("%s: at most %.2f ulp (at %.9g)\n", name[f], worst[f], at[f]);
        if (worst[f] > bound[f]) bad++, fprintf(stderr, "%s: %.2f ulp at %.9g, more than %g\n", name[f], worst[f], at[f], bound[f]);
    }
    fmath_destroy(m);
    return bad != 0;
}
