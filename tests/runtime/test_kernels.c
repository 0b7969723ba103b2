/* test_kernels.c — nnl_parallel_for (every index once, contiguous chunks, serial when
 * nested), nnl_parallel_for_work (threads sized by n * weight), nnl_parallel_for_segments
 * (segments split apart), nnl_update_segments (its split kernel only when split), nnl_softmax_rows (against double, in place, log variant, huge and -inf
 * inputs), rt_expf (relative error, the ends, inf and NaN), nnl_reduce_sum (against double; identical bits on 1, 2, 3, 4 and 5 threads),
 * nnl_pick / nnl_unpick (labels out of range give 0), nnl_stack (1-3 threads),
 * nnl_layer_norm_rows and its adjoint (against double and central differences), the
 * causal softmax (as the masked one, bit for bit), the row kernels' epilogues (each
 * element once, after it is written, on 1-3 threads). */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static int *visits;
static int64_t chunk_lo[64], chunk_hi[64];
static int nchunks, nested_serial;

static void body(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) __atomic_add_fetch(&visits[i], 1, __ATOMIC_RELAXED);
    int c = __atomic_fetch_add(&nchunks, 1, __ATOMIC_RELAXED);
    if (c < 64) { chunk_lo[c] = lo; chunk_hi[c] = hi; }
}

static void inner_body(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    if (lo == 0 && hi == 100 && omp_get_num_threads() >= 1) __atomic_add_fetch(&nested_serial, 1, __ATOMIC_RELAXED);
}

static void outer_body(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) nnl_parallel_for(inner_body, ctx, 100);
}

static void test_parallel_for(void)
{
    NnlCtx ctx = {0};
    int64_t ns[] = {1, 2, 3, 1000, 100003};
    for (int t = 1; t <= 3; t++)
        for (int q = 0; q < 5; q++) {
            int64_t n = ns[q];
            rt_set_threads(t);
            visits = calloc(n, sizeof *visits);
            nchunks = 0;
            nnl_parallel_for(body, &ctx, n);
            int64_t bad = 0, total = 0;
            for (int64_t i = 0; i < n; i++) bad += visits[i] != 1;
            for (int c = 0; c < nchunks; c++) total += chunk_hi[c] - chunk_lo[c];
            CHECK(bad == 0, "parallel_for threads %d n %lld: %lld indices not visited once", t, (long long)n, (long long)bad);
            CHECK(total == n && nchunks <= t, "parallel_for threads %d n %lld: %d chunks", t, (long long)n, nchunks);
            free(visits);
        }
    rt_set_threads(2);
    nested_serial = 0;
    nnl_parallel_for(outer_body, &ctx, 4);
    CHECK(nested_serial == 4, "nested parallel_for not serial (%d)", nested_serial);
    nnl_parallel_for(body, &ctx, 0);   /* nothing to do */
}

/* Weighted elements: 4096 plain ones stay on one thread, 4096 of weight 8 (32768 plain
 * ones' work) are split, each index once either way. */
static void test_parallel_for_work(void)
{
    NnlCtx ctx = {0};
    rt_set_threads(2);
    for (int w = 1; w <= 8; w += 7) {
        visits = calloc(4096, sizeof *visits);
        nchunks = 0;
        nnl_parallel_for_work(body, &ctx, 4096, w);
        int64_t bad = 0;
        for (int64_t i = 0; i < 4096; i++) bad += visits[i] != 1;
        CHECK(bad == 0, "parallel_for_work weight %d: %lld indices not visited once", w, (long long)bad);
        CHECK(nchunks == (w == 1 ? 1 : 2), "parallel_for_work weight %d: %d chunks", w, nchunks);
        free(visits);
    }
}

/* The update: the plain kernel on one thread, the split kernel in every chunk on more. */
static int split_calls;
static void split_body(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    __atomic_add_fetch(&split_calls, 1, __ATOMIC_RELAXED);
    body(ctx, lo, hi);
}

static void test_update_segments(void)
{
    NnlCtx ctx = {0};
    int64_t bounds[] = {0, 17, 40000};
    for (int t = 1; t <= 3; t++) {
        rt_set_threads(t);
        visits = calloc(40000, sizeof *visits);
        nchunks = split_calls = 0;
        nnl_update_segments(body, split_body, &ctx, bounds, 2);
        int64_t bad = 0;
        for (int64_t i = 0; i < 40000; i++) bad += visits[i] != 1;
        CHECK(bad == 0, "update threads %d: %lld indices not visited once", t, (long long)bad);
        CHECK(t == 1 ? split_calls == 0 && nchunks == 1 : split_calls == nchunks && nchunks > 2,
              "update threads %d: %d chunks, %d split", t, nchunks, split_calls);
        free(visits);
    }
}

/* Segments: every index once; on one thread one call for everything, on more no chunk
 * crossing a segment boundary and each segment in at most one chunk per thread. */
static void test_parallel_for_segments(void)
{
    NnlCtx ctx = {0};
    int64_t bounds[] = {0, 16, 17, 5000, 5001, 40000};
    int nseg = 5;
    for (int t = 1; t <= 3; t++) {
        rt_set_threads(t);
        visits = calloc(40000, sizeof *visits);
        nchunks = 0;
        nnl_parallel_for_segments(body, &ctx, bounds, nseg);
        int64_t bad = 0;
        for (int64_t i = 0; i < 40000; i++) bad += visits[i] != 1;
        CHECK(bad == 0, "segments threads %d: %lld indices not visited once", t, (long long)bad);
        int crossing = 0, per_seg[5] = {0};
        for (int c = 0; c < nchunks && c < 64; c++) {
            int s = 0;
            while (s < nseg && chunk_lo[c] >= bounds[s + 1]) s++;
            if (s == nseg || chunk_hi[c] > bounds[s + 1]) crossing++;
            else per_seg[s]++;
        }
        if (t == 1) CHECK(nchunks == 1, "segments on one thread: %d calls", nchunks);
        else CHECK(!crossing, "segments threads %d: %d chunks cross a boundary", t, crossing);
        for (int s = 0; s < nseg && t > 1; s++)
            CHECK(per_seg[s] <= t, "segments threads %d: segment %d in %d chunks", t, s, per_seg[s]);
        free(visits);
    }
    bounds[1] = 0;   /* an empty first segment, and nothing at all */
    nnl_parallel_for_segments(body, &ctx, bounds, 0);
}

static void test_softmax(void)
{
    int64_t shapes[][2] = {{1, 1}, {3, 10}, {7, 1000}, {4096, 33}};
    for (int s = 0; s < 4; s++) {
        int64_t rows = shapes[s][0], cols = shapes[s][1];
        float *x = malloc(sizeof(float) * rows * cols), *y = malloc(sizeof(float) * rows * cols);
        for (int64_t i = 0; i < rows * cols; i++) x[i] = (float)((i * 37) % 101) * 0.25f - 12.0f + (s == 2 ? 900.0f : 0.0f);
        for (int lg = 0; lg < 2; lg++) {
            nnl_softmax_rows(x, y, rows, cols, lg);
            double worst = 0;
            for (int64_t r = 0; r < rows; r++) {
                double mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < cols; j++) mx = fmax(mx, x[r * cols + j]);
                for (int64_t j = 0; j < cols; j++) sum += exp(x[r * cols + j] - mx);
                for (int64_t j = 0; j < cols; j++) {
                    double p = exp(x[r * cols + j] - mx) / sum;
                    double want = lg ? log(p) : p, got = y[r * cols + j];
                    double err = fabs(got - want) / (lg ? 1 + fabs(want) : 1e-7 + want);
                    if (!(err <= worst)) worst = err;
                }
            }
            CHECK(worst < 1e-5, "softmax %lldx%lld log=%d: rel err %g", (long long)rows, (long long)cols, lg, worst);
        }
        /* in place equals out of place */
        nnl_softmax_rows(x, y, rows, cols, 0);
        nnl_softmax_rows(x, x, rows, cols, 0);
        CHECK(!memcmp(x, y, sizeof(float) * rows * cols), "in-place softmax differs");
        free(x); free(y);
    }
    float z[3] = {-INFINITY, 0.0f, -INFINITY}, p[3];
    nnl_softmax_rows(z, p, 1, 3, 0);
    CHECK(p[0] == 0 && p[1] == 1 && p[2] == 0, "softmax with -inf: %g %g %g", p[0], p[1], p[2]);
    /* causal (flag 2) over 3 matrices of 70x70 (more than 64 columns: a vector tail), on
     * 1 and 3 threads and in place: the same bits as the softmax of the scores with the
     * later columns set to -inf, and exactly 0 there */
    enum { T = 70, M = 3 };
    float *sc = malloc(sizeof(float) * M * T * T), *masked = malloc(sizeof(float) * M * T * T);
    float *want = malloc(sizeof(float) * M * T * T), *got = malloc(sizeof(float) * M * T * T);
    for (int64_t i = 0; i < M * T * T; i++) {
        sc[i] = (float)sin(i * 0.37) * 4;
        masked[i] = i % T > i / T % T ? -INFINITY : sc[i];
    }
    nnl_softmax_rows(masked, want, M * T, T, 0);
    for (int threads = 1; threads <= 3; threads += 2) {
        omp_set_num_threads(threads);
        nnl_softmax_rows(sc, got, M * T, T, 2);
        CHECK(!memcmp(got, want, sizeof(float) * M * T * T), "causal softmax differs from the masked one (%d threads)", threads);
    }
    omp_set_num_threads(1);
    memcpy(got, sc, sizeof(float) * M * T * T);
    nnl_softmax_rows(got, got, M * T, T, 2);
    CHECK(!memcmp(got, want, sizeof(float) * M * T * T), "causal softmax in place differs");
    nnl_softmax_rows(sc, got, M * T, T, 3);   /* the log variant ignores the causal flag */
    nnl_softmax_rows(sc, want, M * T, T, 1);
    CHECK(!memcmp(got, want, sizeof(float) * M * T * T), "log_softmax with flag 2 differs");
    free(sc); free(masked); free(want); free(got);
}

/* rt_expf (and compiler/codegen.c's fast_exp, the same function) against exp in
 * double: every 97th float in [-100, 100], the ends, infinities and NaN. */
/* nnl_layer_norm_rows against double; nnl_layer_norm_rows_dx against the adjoint of the
 * double normalization by central differences of sum(w y); rows of 5, 128 and 300
 * features (more than a 256-float chunk of the sums); the same bits on 1 and 3 threads. */
static double ln_ref(const float *x, int64_t n, double eps, int64_t j)
{
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int64_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    return (x[j] - m) / sqrt(v / n + eps);
}

/* nnl_softmax_rows_dx against central differences of sum(w softmax(x)) in double, plain
 * and scaled, on 1 and 3 threads (same bits) and in place over dy; causal (flag 2): the
 * masked softmax's adjoint over columns 0..t, exactly 0 after. */
static double sm_ref(const float *x, int64_t cols, const float *w)
{
    double mx = -INFINITY, sum = 0, dot = 0;
    for (int64_t j = 0; j < cols; j++) mx = fmax(mx, x[j]);
    for (int64_t j = 0; j < cols; j++) sum += exp(x[j] - mx);
    for (int64_t j = 0; j < cols; j++) dot += w[j] * exp(x[j] - mx) / sum;
    return dot;
}

static void test_softmax_dx(void)
{
    static const int64_t ncols[] = {5, 64, 300};
    for (int c = 0; c < 3; c++) {
        int64_t rows = 37, cols = ncols[c], n = rows * cols;
        float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n), *w = malloc(sizeof(float) * n);
        float *dx = malloc(sizeof(float) * n), *dx3 = malloc(sizeof(float) * n);
        for (int64_t i = 0; i < n; i++) {
            x[i] = (float)(sin(i * 0.7) * 3);
            w[i] = (float)cos(i * 1.3);
        }
        nnl_softmax_rows(x, y, rows, cols, 0);
        omp_set_num_threads(1);
        nnl_softmax_rows_dx(y, w, dx, rows, cols, 0.5f, 0);
        omp_set_num_threads(3);
        nnl_softmax_rows_dx(y, w, dx3, rows, cols, 0.5f, 0);
        omp_set_num_threads(1);
        CHECK(!memcmp(dx, dx3, sizeof(float) * n), "softmax dx %lld cols: bits differ on 3 threads", (long long)cols);
        memcpy(dx3, w, sizeof(float) * n);
        nnl_softmax_rows_dx(y, dx3, dx3, rows, cols, 0.5f, 0);
        CHECK(!memcmp(dx, dx3, sizeof(float) * n), "softmax dx %lld cols: in place differs", (long long)cols);
        double worst = 0;
        for (int64_t r = 0; r < rows; r++) {
            float *xr = x + r * cols;
            for (int64_t j = 0; j < cols; j += 3) {   /* 0.5 d sum(w softmax(x)) / d x_j */
                float keep = xr[j], h = 1e-2f;
                xr[j] = keep + h;
                double up = sm_ref(xr, cols, w + r * cols);
                xr[j] = keep - h;
                double down = sm_ref(xr, cols, w + r * cols);
                xr[j] = keep;
                double fd = 0.5 * (up - down) / (2.0 * (double)h), e = fabs(dx[r * cols + j] - fd);
                if (e > worst) worst = e;
            }
        }
        CHECK(worst < 1e-4, "softmax dx %lld cols: abs err %g against differences", (long long)cols, worst);
        free(x); free(y); free(w); free(dx); free(dx3);
    }
    enum { T = 70, M = 3 };   /* causal over 3 matrices of 70x70: as the masked one */
    float *sc = malloc(sizeof(float) * M * T * T), *masked = malloc(sizeof(float) * M * T * T);
    float *y = malloc(sizeof(float) * M * T * T), *w = malloc(sizeof(float) * M * T * T);
    float *want = malloc(sizeof(float) * M * T * T), *got = malloc(sizeof(float) * M * T * T);
    for (int64_t i = 0; i < M * T * T; i++) {
        sc[i] = (float)sin(i * 0.37) * 4;
        masked[i] = i % T > i / T % T ? -INFINITY : sc[i];
        w[i] = (float)cos(i * 0.91);
    }
    nnl_softmax_rows(masked, y, M * T, T, 0);
    nnl_softmax_rows_dx(y, w, want, M * T, T, 1.0f, 0);
    nnl_softmax_rows_dx(y, w, got, M * T, T, 1.0f, 2);
    double worst = 0;
    int zeros = 1;
    for (int64_t i = 0; i < M * T * T; i++) {
        if (i % T > i / T % T) zeros &= got[i] == 0.0f;
        else if (fabs(got[i] - want[i]) > worst) worst = fabs(got[i] - want[i]);
    }
    CHECK(zeros, "causal softmax dx: not 0 past the diagonal");
    CHECK(worst < 1e-6, "causal softmax dx: %g from the masked one", worst);
    free(sc); free(masked); free(y); free(w); free(want); free(got);
}

/* Softmax and its adjoint over many rows give each row the same bits as over that row
 * alone (the kernels run several rows' steps side by side): plain, log and causal, 37
 * rows (not a multiple of the rows taken together) of 20, 64 and 300 columns. */
static void test_softmax_rows_alone(void)
{
    static const int64_t ncols[] = {20, 64, 300};
    for (int c = 0; c < 3; c++) {
        int64_t rows = 37, cols = ncols[c], n = rows * cols;
        float *x = malloc(sizeof(float) * n), *w = malloc(sizeof(float) * n);
        float *all = malloc(sizeof(float) * n), *one = malloc(sizeof(float) * n);
        for (int64_t i = 0; i < n; i++) {
            x[i] = (float)(sin(i * 0.61) * 5);
            w[i] = (float)cos(i * 0.83);
        }
        for (int flags = 0; flags < 3; flags++) {   /* plain, log, causal (rows of a cols x cols) */
            nnl_softmax_rows(x, all, rows, cols, flags);
            for (int64_t r = 0; r < rows; r++) {
                if (flags == 2) {   /* a causal row alone: the matrix's rows up to it */
                    int64_t r0 = r - r % cols;
                    nnl_softmax_rows(x + r0 * cols, one + r0 * cols, r - r0 + 1, cols, flags);
                } else
                    nnl_softmax_rows(x + r * cols, one + r * cols, 1, cols, flags);
            }
            CHECK(!memcmp(all, one, sizeof(float) * n), "softmax flags %d, %lld cols: rows differ alone",
                  flags, (long long)cols);
            if (flags == 1) continue;
            nnl_softmax_rows(x, all, rows, cols, 0);   /* y for the adjoint */
            float *dx_all = malloc(sizeof(float) * n), *dx_one = malloc(sizeof(float) * n);
            nnl_softmax_rows_dx(all, w, dx_all, rows, cols, 0.5f, flags);
            for (int64_t r = 0; r < rows; r++) {
                int64_t r0 = flags == 2 ? r - r % cols : r;
                nnl_softmax_rows_dx(all + r0 * cols, w + r0 * cols, dx_one + r0 * cols, r - r0 + 1, cols, 0.5f, flags);
            }
            CHECK(!memcmp(dx_all, dx_one, sizeof(float) * n), "softmax dx flags %d, %lld cols: rows differ alone",
                  flags, (long long)cols);
            free(dx_all); free(dx_one);
        }
        free(x); free(w); free(all); free(one);
    }
}

static void test_layer_norm(void)
{
    static const int64_t ncols[] = {5, 128, 300};
    const float eps = 1e-5f;
    for (int c = 0; c < 3; c++) {
        int64_t rows = 37, cols = ncols[c], n = rows * cols;
        float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n), *w = malloc(sizeof(float) * n);
        float *dx = malloc(sizeof(float) * n), *dx3 = malloc(sizeof(float) * n), *y3 = malloc(sizeof(float) * n);
        for (int64_t i = 0; i < n; i++) {
            x[i] = (float)(sin(i * 0.7) * 3 + (i % cols == 0 ? 5 : 0));
            w[i] = (float)cos(i * 1.3);
        }
        omp_set_num_threads(1);
        nnl_layer_norm_rows(x, y, rows, cols, eps);
        nnl_layer_norm_rows_dx(x, w, NULL, dx, rows, cols, eps);
        omp_set_num_threads(3);
        nnl_layer_norm_rows(x, y3, rows, cols, eps);
        nnl_layer_norm_rows_dx(x, w, NULL, dx3, rows, cols, eps);
        omp_set_num_threads(1);
        CHECK(!memcmp(y, y3, sizeof(float) * n) && !memcmp(dx, dx3, sizeof(float) * n),
              "layer norm %lld cols: bits differ on 3 threads", (long long)cols);
        {   /* with gamma: as dy gamma formed first and passed as dy (to rounding: the
             * compiler may fuse the product into what follows), in place the same bits */
            float *gamma = malloc(sizeof(float) * cols), *wg = malloc(sizeof(float) * n);
            float *dg = malloc(sizeof(float) * n), *dw = malloc(sizeof(float) * n);
            for (int64_t j = 0; j < cols; j++) gamma[j] = 0.5f + (float)j / (float)cols;
            for (int64_t i = 0; i < n; i++) wg[i] = w[i] * gamma[i % cols];
            nnl_layer_norm_rows_dx(x, w, gamma, dg, rows, cols, eps);
            nnl_layer_norm_rows_dx(x, wg, NULL, dw, rows, cols, eps);
            double dev = 0;
            for (int64_t i = 0; i < n; i++) dev = fmax(dev, fabs(dg[i] - dw[i]) / (1e-3 + fabs(dw[i])));
            CHECK(dev < 1e-5, "layer norm dx %lld cols: with gamma %g from dy gamma", (long long)cols, dev);
            memcpy(dw, dg, sizeof(float) * n);
            memcpy(dg, w, sizeof(float) * n);   /* in place over dy */
            nnl_layer_norm_rows_dx(x, dg, gamma, dg, rows, cols, eps);
            CHECK(!memcmp(dg, dw, sizeof(float) * n), "layer norm dx %lld cols: in place differs", (long long)cols);
            free(gamma); free(wg); free(dg); free(dw);
        }
        double worst = 0, worst_dx = 0;
        for (int64_t r = 0; r < rows; r++) {
            float *xr = x + r * cols;
            for (int64_t j = 0; j < cols; j++) {
                double e = fabs(y[r * cols + j] - ln_ref(xr, cols, eps, j));
                if (e > worst) worst = e;
            }
            for (int64_t j = 0; j < cols; j += 7) {   /* d sum(w y) / d x_j */
                float keep = xr[j], h = 1e-2f;
                double up = 0, down = 0;
                xr[j] = keep + h;
                for (int64_t i = 0; i < cols; i++) up += w[r * cols + i] * ln_ref(xr, cols, eps, i);
                xr[j] = keep - h;
                for (int64_t i = 0; i < cols; i++) down += w[r * cols + i] * ln_ref(xr, cols, eps, i);
                xr[j] = keep;
                double fd = (up - down) / (2.0 * (double)h), e = fabs(dx[r * cols + j] - fd) / (1 + fabs(fd));
                if (e > worst_dx) worst_dx = e;
            }
        }
        CHECK(worst < 1e-5, "layer norm %lld cols: abs err %g", (long long)cols, worst);
        CHECK(worst_dx < 2e-3, "layer norm dx %lld cols: rel err %g against differences", (long long)cols, worst_dx);
        free(x); free(y); free(w); free(dx); free(dx3); free(y3);
    }
}

static void test_expf(void)
{
    double worst = 0;
    for (float x = -100.0f; x <= 100.0f; x = nextafterf(x, INFINITY) + (fabsf(x) > 1e-3f ? fabsf(x) * 97 * 1.2e-7f : 1e-6f)) {
        double want = exp((double)x), got = rt_expf(x);
        if (want < FLT_MIN) {   /* subnormal or 0: within a few of the smallest subnormal */
            CHECK(fabs(got - want) <= 4 * 1.4013e-45, "expf(%g) = %g, not %g", x, got, want);
            continue;
        }
        if (want > FLT_MAX) { CHECK(isinf(got) && got > 0, "expf(%g) = %g, not inf", x, got); continue; }
        double err = fabs(got - want) / want;
        if (err > worst) worst = err;
    }
    CHECK(worst < 3e-7, "rt_expf: worst relative error %g", worst);
    CHECK(rt_expf(0.0f) == 1.0f, "rt_expf(0) = %g", rt_expf(0.0f));
    CHECK(rt_expf(-INFINITY) == 0.0f, "rt_expf(-inf) = %g", rt_expf(-INFINITY));
    CHECK(isinf(rt_expf(INFINITY)), "rt_expf(inf) = %g", rt_expf(INFINITY));
    CHECK(isnan(rt_expf(NAN)), "rt_expf(nan) = %g", rt_expf(NAN));
}

static void test_reduce(void)
{
    int64_t shapes[][3] = {{1, 1, 1}, {1, 1000, 1}, {3, 5, 7}, {64, 300, 1}, {2, 700, 129}, {1, 3000, 64},
                           {5, 0, 3}, {1, 64, 5408}, {1, 9, 40000}};
    for (int s = 0; s < 9; s++) {
        int64_t o = shapes[s][0], r = shapes[s][1], in = shapes[s][2];
        float *x = malloc(sizeof(float) * (o * r * in + 1)), *y1 = malloc(sizeof(float) * o * in), *y2 = malloc(sizeof(float) * o * in);
        for (int64_t i = 0; i < o * r * in; i++) x[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.4f;
        rt_set_threads(1);
        nnl_reduce_sum(x, y1, o, r, in, 0.5f);
        for (int t = 2; t <= 5; t++) {   /* 3, 5: a half of the rows on more than one thread */
            rt_set_threads(t);
            nnl_reduce_sum(x, y2, o, r, in, 0.5f);
            CHECK(!memcmp(y1, y2, sizeof(float) * o * in), "reduce %lldx%lldx%lld differs between 1 and %d threads", (long long)o, (long long)r, (long long)in, t);
        }
        double worst = 0;
        for (int64_t a = 0; a < o; a++)
            for (int64_t c = 0; c < in; c++) {
                double sum = 0;
                for (int64_t k = 0; k < r; k++) sum += x[(a * r + k) * in + c];
                double err = fabs(y1[a * in + c] - 0.5 * sum);
                if (!(err <= worst)) worst = err;
            }
        CHECK(worst < 1e-4, "reduce %lldx%lldx%lld: err %g", (long long)o, (long long)r, (long long)in, worst);
        free(x); free(y1); free(y2);
    }
}

static void test_pick(void)
{
    float x[12] = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23};
    float labels[4] = {2, 0, 3, 9}, y[4], dy[4] = {1, 2, 3, 4}, dx[16];
    nnl_pick(x, labels, y, 3, 4);
    CHECK(y[0] == 2 && y[1] == 10 && y[2] == 23, "pick: %g %g %g", y[0], y[1], y[2]);
    float xx[8] = {1, 2, 3, 4, 5, 6, 7, 8}, lab2[2] = {-1, 4}, y2[2] = {9, 9};
    nnl_pick(xx, lab2, y2, 2, 4);
    CHECK(y2[0] == 0 && y2[1] == 0, "pick with bad labels: %g %g", y2[0], y2[1]);
    for (int i = 0; i < 16; i++) dx[i] = NAN;
    nnl_unpick(dy, labels, dx, 4, 4);
    float want[16] = {0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0};
    CHECK(!memcmp(dx, want, sizeof want), "unpick");
    /* big enough to go parallel */
    int64_t rows = 5000, cols = 10;
    float *bx = malloc(sizeof(float) * rows * cols), *bl = malloc(sizeof(float) * rows), *bdy = malloc(sizeof(float) * rows);
    for (int64_t i = 0; i < rows; i++) { bl[i] = (float)(i % cols); bdy[i] = (float)i; }
    nnl_unpick(bdy, bl, bx, rows, cols);
    int64_t bad = 0;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) bad += bx[i * cols + j] != (j == i % cols ? (float)i : 0.0f);
    CHECK(bad == 0, "big unpick: %lld wrong", (long long)bad);
    free(bx); free(bl); free(bdy);
}

/* nnl_stack: y[o, t, :] = xs[t][o, :], every element once, on 1, 2 and 3 threads (split
 * by o: 40 rows of 3 x 700 floats are above the loops' threshold). */
static void test_stack(void)
{
    enum { OUTER = 40, STEPS = 3, INNER = 700 };
    float *x[STEPS], *y = malloc(sizeof(float) * OUTER * STEPS * INNER);
    for (int t = 0; t < STEPS; t++) {
        x[t] = malloc(sizeof(float) * OUTER * INNER);
        for (int64_t i = 0; i < OUTER * INNER; i++) x[t][i] = (float)(t * 1000000 + i);
    }
    for (int th = 1; th <= 3; th++) {
        rt_set_threads(th);
        for (int64_t i = 0; i < OUTER * STEPS * INNER; i++) y[i] = NAN;
        nnl_stack(y, (const float *const *)x, STEPS, OUTER, INNER);
        int64_t bad = 0;
        for (int64_t o = 0; o < OUTER; o++)
            for (int t = 0; t < STEPS; t++)
                for (int64_t r = 0; r < INNER; r++)
                    bad += y[(o * STEPS + t) * INNER + r] != x[t][o * INNER + r];
        CHECK(bad == 0, "stack on %d threads: %lld wrong", th, (long long)bad);
    }
    for (int t = 0; t < STEPS; t++) free(x[t]);
    free(y);
}

/* The row kernels' epilogues (nnl_*_rows_ep): run on every output element once, after
 * the kernel wrote it (the epilogue reads the output), on 1-3 threads, for rows that are
 * not a multiple of a block and rows longer than one. */
typedef struct EpiProbe { const float *y; float *out; int *visits; } EpiProbe;

static void epi_probe(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    const EpiProbe *p = (const EpiProbe *)ctx;
    for (int64_t i = lo; i < hi; i++) {
        p->out[i] = p->y[i] * 3.0f + 1.0f;
        __atomic_add_fetch(&p->visits[i], 1, __ATOMIC_RELAXED);
    }
}

static void test_row_epilogues(void)
{
    static const int64_t shapes[][2] = {{77, 64}, {70, 128}, {5, 5000}, {1, 3}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int64_t rows = shapes[si][0], cols = shapes[si][1], n = rows * cols;
        float *x = malloc(sizeof(float) * n), *dy = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * cols);
        float *want = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
        int *visits = malloc(sizeof(int) * n);
        for (int64_t i = 0; i < n; i++) {
            x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
            dy[i] = (float)((i * 53) % 97) / 48.0f - 1.0f;
        }
        for (int64_t j = 0; j < cols; j++) g[j] = 1.0f + 0.01f * (float)j;
        EpiProbe probe = {y, out, visits};
        const NnlCtx *pc = (const NnlCtx *)&probe;
        for (int kind = 0; kind < 4; kind++)
            for (int th = 1; th <= 3; th++) {
                rt_set_threads(th);
                int flags = cols == 64 ? 2 : 0;   /* causal where rows are (.., T, T) */
                switch (kind) {
                case 0: nnl_softmax_rows(x, want, rows, cols, flags); break;
                case 1: nnl_softmax_rows_dx(x, dy, want, rows, cols, 0.5f, flags); break;
                case 2: nnl_layer_norm_rows(x, want, rows, cols, 1e-5f); break;
                default: nnl_layer_norm_rows_dx(x, dy, g, want, rows, cols, 1e-5f); break;
                }
                memset(visits, 0, sizeof(int) * n);
                for (int64_t i = 0; i < n; i++) y[i] = out[i] = NAN;
                switch (kind) {
                case 0: nnl_softmax_rows_ep(x, y, rows, cols, flags, epi_probe, pc); break;
                case 1: nnl_softmax_rows_dx_ep(x, dy, y, rows, cols, 0.5f, flags, epi_probe, pc); break;
                case 2: nnl_layer_norm_rows_ep(x, y, rows, cols, 1e-5f, epi_probe, pc); break;
                default: nnl_layer_norm_rows_dx_ep(x, dy, g, y, rows, cols, 1e-5f, epi_probe, pc, NULL, 1, NULL, 1); break;
                }
                int64_t bad = 0, twice = 0;
                for (int64_t i = 0; i < n; i++) {
                    float e = want[i] * 3.0f + 1.0f;
                    bad += memcmp(&y[i], &want[i], sizeof(float)) != 0 || memcmp(&out[i], &e, sizeof(float)) != 0;
                    twice += visits[i] != 1;
                }
                CHECK(bad == 0 && twice == 0, "row kernel %d with an epilogue, %lldx%lld on %d threads: %lld wrong, "
                      "%lld not visited once", kind, (long long)rows, (long long)cols, th, (long long)bad,
                      (long long)twice);
            }
        free(x); free(dy); free(g); free(want); free(y); free(out); free(visits);
    }
}

/* nnl_layer_norm_rows_dx_ep's sums: gamma's gradient (dy xhat summed over the rows, xhat
 * stored by nnl_layer_norm_rows) and beta's (dy summed) the same bits as nnl_reduce_sum
 * makes of them, dx the same as without the sums, on 1-3 threads, for row counts around
 * a block's 64, with an epilogue or not. */
static void test_layer_norm_sums(void)
{
    static const int64_t shapes[][2] = {{1, 8}, {7, 5}, {64, 128}, {70, 128}, {200, 300}, {130, 2}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int64_t rows = shapes[si][0], cols = shapes[si][1], n = rows * cols;
        float *x = malloc(sizeof(float) * n), *dy = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * cols);
        float *xh = malloc(sizeof(float) * n), *prod = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
        float *dx = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
        float *wg = malloc(sizeof(float) * cols), *wb = malloc(sizeof(float) * cols);
        float *sg = malloc(sizeof(float) * cols), *sb = malloc(sizeof(float) * cols);
        int *visits = malloc(sizeof(int) * n);
        for (int64_t i = 0; i < n; i++) {
            x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f + 0.001f * (float)(i / cols);
            dy[i] = (float)((i * 53) % 97) / 48.0f - 1.0f;
        }
        for (int64_t j = 0; j < cols; j++) g[j] = 1.0f + 0.01f * (float)j;
        EpiProbe probe = {dx, out, visits};
        for (int th = 1; th <= 3; th++)
            for (int with_ep = 0; with_ep < 2; with_ep++) {
                rt_set_threads(th);
                nnl_layer_norm_rows(x, xh, rows, cols, 1e-5f);
                for (int64_t i = 0; i < n; i++) prod[i] = dy[i] * xh[i];
                nnl_reduce_sum(prod, wg, 1, rows, cols, 0.5f);
                nnl_reduce_sum(dy, wb, 1, rows, cols, 1.0f);
                nnl_layer_norm_rows_dx(x, dy, g, want, rows, cols, 1e-5f);
                memset(visits, 0, sizeof(int) * n);
                nnl_layer_norm_rows_dx_ep(x, dy, g, dx, rows, cols, 1e-5f, with_ep ? epi_probe : NULL,
                                          (const NnlCtx *)&probe, sg, 0.5f, sb, 1.0f);
                int64_t bad = memcmp(dx, want, sizeof(float) * n) != 0, sums = 0, twice = 0;
                for (int64_t j = 0; j < cols; j++)
                    sums += memcmp(&sg[j], &wg[j], sizeof(float)) != 0 || memcmp(&sb[j], &wb[j], sizeof(float)) != 0;
                for (int64_t i = 0; i < n && with_ep; i++) twice += visits[i] != 1;
                CHECK(!bad && !sums && !twice, "layer norm sums %lldx%lld on %d threads (epilogue %d): dx %s, "
                      "%lld of %lld sums differ, %lld not visited once", (long long)rows, (long long)cols, th,
                      with_ep, bad ? "differs" : "same", (long long)sums, (long long)cols, (long long)twice);
            }
        free(x); free(dy); free(g); free(xh); free(prod); free(want); free(dx); free(out);
        free(wg); free(wb); free(sg); free(sb); free(visits);
    }
}

/* nnl_reduce_sum_pro: the prologue computes every index of x once (x[i] from src[i]),
 * and the sums are nnl_reduce_sum's bits over the x the loop would have stored, on 1-3
 * threads, on each of its paths: rows of the trailing axes (inner 1) in blocks, the
 * batch's rows in SUM_BLOCK blocks (outer 1; with fewer blocks than threads, by columns),
 * and the loop first for the others. */
typedef struct ProProbe { const float *src; float *x; unsigned char *seen; } ProProbe;

static void pro_probe(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    const ProProbe *p = (const ProProbe *)ctx;
    for (int64_t i = lo; i < hi; i++) {
        p->x[i] = 2.0f * p->src[i] - 0.25f;
        p->seen[i]++;
    }
}

static void test_reduce_prologue(void)
{
    int64_t shapes[][3] = {{37, 100, 1}, {128 * 16, 784, 1}, {3, 5000, 1}, {1, 300, 33}, {1, 200, 1},
                           {1, 5, 40}, {6, 7, 8}, {5, 0, 3}, {0, 4, 4}, {2, 3, 0},
                           {1, 64, 5408}, {1, 100, 3001}};   /* fewer blocks than threads */
    for (int s = 0; s < 12; s++) {
        int64_t o = shapes[s][0], r = shapes[s][1], in = shapes[s][2], n = o * r * in, outs = o * in;
        float *src = malloc(sizeof(float) * (n + 1)), *x = malloc(sizeof(float) * (n + 1));
        float *want = malloc(sizeof(float) * (outs + 1)), *got = malloc(sizeof(float) * (outs + 1));
        unsigned char *seen = calloc((size_t)n + 1, 1);
        for (int64_t i = 0; i < n; i++) {
            src[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.4f;
            x[i] = 2.0f * src[i] - 0.25f;
        }
        rt_set_threads(1);
        nnl_reduce_sum(x, want, o, r, in, 0.5f);
        memset(x, 0, sizeof(float) * (n + 1));
        ProProbe p = {src, x, seen};
        for (int t = 1; t <= 3; t++) {
            rt_set_threads(t);
            memset(seen, 0, (size_t)n + 1);
            nnl_reduce_sum_pro(x, got, o, r, in, 0.5f, pro_probe, (const NnlCtx *)&p);
            int64_t bad = 0;
            for (int64_t i = 0; i < n; i++) bad += seen[i] != 1 || x[i] != 2.0f * src[i] - 0.25f;
            CHECK(bad == 0 && !memcmp(want, got, sizeof(float) * outs),
                  "reduce with prologue %lldx%lldx%lld, %d threads: %lld values not computed once, sums %s",
                  (long long)o, (long long)r, (long long)in, t, (long long)bad,
                  memcmp(want, got, sizeof(float) * outs) ? "differ" : "equal");
        }
        free(src); free(x); free(want); free(got); free(seen);
    }
}

int main(void)
{
    test_parallel_for();
    test_parallel_for_work();
    test_parallel_for_segments();
    test_update_segments();
    test_softmax();
    test_softmax_dx();
    test_softmax_rows_alone();
    test_layer_norm();
    test_row_epilogues();
    test_layer_norm_sums();
    test_expf();
    test_reduce();
    test_reduce_prologue();
    test_pick();
    test_stack();
    printf("%d failed\n", failures);
    return failures != 0;
}
