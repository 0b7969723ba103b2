/* conv_bench.c — times nnl_conv2d, nnl_conv2d_dx, nnl_conv2d_dw and nnl_maxpool2d(_dx)
 * on the layers of the Keras MNIST convnet (batch 64) and of examples/resnet_small.nnl
 * (batch 128) on 1 and 2 threads; an argument: only the layers whose name starts so. Prints ms per
 * call and GFLOP/s (2 n k (c/g) r s p q per conv kernel); asserts nothing. Each figure is
 * the best of TRIALS trials of enough calls to fill ~20 ms, so that other jobs on the
 * machine inflate it as little as possible.
 *   make build/libnnlrt.a && gcc -std=gnu11 -O2 -Iruntime -o /tmp/conv_bench \
 *       bench/conv_bench.c build/libnnlrt.a -fopenmp -lz -lm && /tmp/conv_bench */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

enum { TRIALS = 40 };

typedef struct Layer { const char *name; int64_t n; NnlConv cv; } Layer;

static float *filled(int64_t n)
{
    float *p = rt_alloc(sizeof(float) * n);
    unsigned s = 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

enum { FWD, DX, DW, MAXPOOL, MAXPOOL_DX, FWD_MAXPOOL };

static void call(int which, const Layer *l, const NnlPool *pl, float *x, float *w, float *y,
                 float *dy, float *dx, float *dw)
{
    switch (which) {
    case FWD: nnl_conv2d(&l->cv, l->n, x, w, y); break;
    case DX: nnl_conv2d_dx(&l->cv, l->n, dy, w, dx); break;
    case DW: nnl_conv2d_dw(&l->cv, l->n, x, dy, dw); break;
    case MAXPOOL: nnl_maxpool2d(pl, l->n, y, dy); break;
    case MAXPOOL_DX: nnl_maxpool2d_dx(pl, l->n, y, dy, dx); break;
    case FWD_MAXPOOL: nnl_conv2d_maxpool(&l->cv, pl, l->n, x, w, y, 1, dy); break;
    }
}

/* Best seconds per call over TRIALS trials. */
static double best_time(int which, const Layer *l, const NnlPool *pl, float *x, float *w,
                        float *y, float *dy, float *dx, float *dw)
{
    call(which, l, pl, x, w, y, dy, dx, dw);   /* warm: scratch allocated here */
    double t0 = rt_now();
    int reps = 0;
    while (rt_now() - t0 < 0.02 || reps < 2) {
        call(which, l, pl, x, w, y, dy, dx, dw);
        reps++;
    }
    double best = 1e30;
    for (int t = 0; t < TRIALS; t++) {
        t0 = rt_now();
        for (int r = 0; r < reps; r++) call(which, l, pl, x, w, y, dy, dx, dw);
        double dt = (rt_now() - t0) / reps;
        if (dt < best) best = dt;
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;   /* a prefix of the layers to run */
    static const Layer layers[] = {
        {"conv1 1->32 3x3 28x28", 64, {.c = 1, .h = 28, .w = 28, .k = 32, .r = 3, .s = 3,
         .p = 26, .q = 26, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1}},
        {"conv1, batch 1", 1, {.c = 1, .h = 28, .w = 28, .k = 32, .r = 3, .s = 3,
         .p = 26, .q = 26, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1}},
        {"rgb 3->32 3x3 32x32 pad 1", 64, {.c = 3, .h = 32, .w = 32, .k = 32, .r = 3, .s = 3,
         .p = 32, .q = 32, .stride_h = 1, .stride_w = 1, .pad_top = 1, .pad_left = 1, .dil_h = 1,
         .dil_w = 1, .groups = 1}},
        {"conv2 32->64 3x3 13x13", 64, {.c = 32, .h = 13, .w = 13, .k = 64, .r = 3, .s = 3,
         .p = 11, .q = 11, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1}},
        /* examples/resnet_small.nnl's, batch 128 (and 1) */
#define RES(name, n, ch, side, st) {name, n, {.c = (st) == 1 ? ch : ch / 2, .h = side * (st), \
         .w = side * (st), .k = ch, .r = 3, .s = 3, .p = side, .q = side, .stride_h = st, .stride_w = st, \
         .pad_top = 1, .pad_left = 1, .dil_h = 1, .dil_w = 1, .groups = 1}}
        RES("res 16->16 3x3 28x28", 128, 16, 28, 1),
        RES("res 16->16, batch 1", 1, 16, 28, 1),
        RES("res 32->32 3x3 14x14", 128, 32, 14, 1),
        RES("res 64->64 3x3 7x7", 128, 64, 7, 1),
        RES("res 16->32 3x3 stride 2", 128, 32, 14, 2),
        RES("res 32->64 3x3 stride 2", 128, 64, 7, 2),
#undef RES
    };
    static const char *kname[] = {"forward", "dx", "dw", "maxpool 2x2", "maxpool 2x2 dx",
                                  "forward+maxpool"};
    printf("%-26s %-15s %8s %10s %8s %10s\n", "layer", "kernel", "1 thr ms",
           "GFLOP/s", "2 thr ms", "GFLOP/s");
    for (int li = 0; li < (int)(sizeof layers / sizeof layers[0]); li++) {
        const Layer *l = &layers[li];
        const NnlConv *cv = &l->cv;
        if (only && strncmp(l->name, only, strlen(only))) continue;
        int64_t nx = l->n * cv->c * cv->h * cv->w, ny = l->n * cv->k * cv->p * cv->q;
        int64_t nw = cv->k * cv->c / cv->groups * cv->r * cv->s;
        NnlPool pl = {.c = cv->k, .h = cv->p, .w = cv->q, .p = cv->p / 2, .q = cv->q / 2,
                      .kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2};
        float *x = filled(nx), *w = filled(nw), *y = filled(ny), *dy = filled(ny);
        float *dx = filled(nx > ny ? nx : ny), *dw = filled(nw);
        double flops = 2.0 * l->n * cv->k * (cv->c / cv->groups) * cv->r * cv->s * cv->p * cv->q;
        for (int k = FWD; k <= FWD_MAXPOOL; k++) {
            double t[2];
            for (int th = 1; th <= 2; th++) {
                rt_set_threads(th);
                t[th - 1] = best_time(k, l, &pl, x, w, y, dy, dx, dw);
            }
            if (k <= DW || k == FWD_MAXPOOL)
                printf("%-26s %-15s %8.4f %10.1f %8.4f %10.1f\n", l->name, kname[k],
                       t[0] * 1e3, flops / t[0] * 1e-9, t[1] * 1e3, flops / t[1] * 1e-9);
            else
                printf("%-26s %-15s %8.4f %10s %8.4f %10s\n", l->name, kname[k], t[0] * 1e3,
                       "-", t[1] * 1e3, "-");
        }
        rt_free(x); rt_free(w); rt_free(y); rt_free(dy); rt_free(dx); rt_free(dw);
    }
    return 0;
}
