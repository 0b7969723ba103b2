/* conv_pool_test.c — tests/capi/conv_pool.nnl, whose convolutions run in their poolings'
 * kernels: the forward (which leaves c unwritten and must write d, read again by a slice)
 * against the definition in double, on 1 and 2 threads and row by row; and the gradients
 * of inputs x2 after a gradient of x1 and a forward of x2 equal, bit for bit, to those of
 * a fresh model's first call (the gradient entry point must not use the c of x1; that it
 * writes c right, tests/grad/conv_pool_dw.nnl's finite differences check). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnlrt.h"

extern const NnlModelDesc cp_desc;

enum { B = 3, C = 2, H = 9, W = 11, K = 5, P = 4, Q = 5, NX = C * H * W, NY = K * P * Q, NW = K * C * 9 };

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static float uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * 0x1.0p-53) * 2.0f - 1.0f;
}

/* conv2d(x, w, padding: 1) of one image at (k, i, j), in double */
static double conv(const float *x, const float *w, int k, int i, int j)
{
    double s = 0;
    for (int c = 0; c < C; c++)
        for (int u = 0; u < 3; u++)
            for (int v = 0; v < 3; v++) {
                int a = i + u - 1, b = j + v - 1;
                if (a >= 0 && a < H && b >= 0 && b < W) s += (double)w[((k * C + c) * 3 + u) * 3 + v] * x[(c * H + a) * W + b];
            }
    return s;
}

static double pool(const float *x, const float *w, int k, int i, int j)
{
    double m = conv(x, w, k, 2 * i, 2 * j);
    for (int e = 1; e < 4; e++) m = fmax(m, conv(x, w, k, 2 * i + e / 2, 2 * j + e % 2));
    return m;
}

static int param(NnlModel *m, const char *name)
{
    int i = nnl_param_index(m, name);
    if (i < 0) { fprintf(stderr, "no parameter %s\n", name); exit(1); }
    return i;
}

int main(void)
{
    const char *err = NULL;
    NnlModel *m = nnl_create(&cp_desc, B, &err), *fresh = nnl_create(&cp_desc, B, &err);
    if (!m || !fresh) { fprintf(stderr, "create: %s\n", err ? err : "?"); return 1; }
    nnl_init_params(m, 7);
    nnl_init_params(fresh, 7);
    static float x1[B * NX], x2[B * NX], label[B * NY], y[B * NY], y2[B * NY], y1[NY];
    for (int i = 0; i < B * NX; i++) x1[i] = uniform(), x2[i] = uniform();
    for (int i = 0; i < B * NY; i++) label[i] = uniform();
    const float *Wt = nnl_param_data(m, param(m, "W")), *Vt = nnl_param_data(m, param(m, "V"));
    int bad = 0;

    /* the forward against the definition: pool(c) + pool(d) * d[:, :, 1:5, 2:7] */
    nnl_set_threads(m, 1);
    if (nnl_forward(m, x2, B, y)) { fprintf(stderr, "forward: %s\n", nnl_last_error(m)); return 1; }
    double worst = 0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < K; k++)
            for (int i = 0; i < P; i++)
                for (int j = 0; j < Q; j++) {
                    const float *x = x2 + b * NX;
                    double d = conv(x, Vt, k, i + 1, j + 2);
                    double want = pool(x, Wt, k, i, j) + pool(x, Vt, k, i, j) * d;
                    double e = fabs(y[((b * K + k) * P + i) * Q + j] - want) / (1 + fabs(want));
                    if (e > worst) worst = e;
                }
    if (worst > 1e-5) { fprintf(stderr, "forward: error %g against the definition\n", worst); bad++; }
    nnl_set_threads(m, 2);
    nnl_forward(m, x2, B, y2);
    if (memcmp(y, y2, sizeof y)) { fprintf(stderr, "forward: 2 threads differ from 1\n"); bad++; }
    for (int b = 0; b < B; b++) {
        nnl_forward(m, x2 + b * NX, 1, y1);
        if (memcmp(y1, y + b * NY, sizeof y1)) { fprintf(stderr, "forward: row %d alone differs\n", b); bad++; }
    }

    /* gradients of x2 after a gradient of x1 and a forward of x2, against a fresh model's */
    float l, lf;
    nnl_set_threads(m, 1);
    if (nnl_grad(m, x1, label, B, &l) || nnl_forward(m, x2, B, y) || nnl_grad(m, x2, label, B, &l) ||
        nnl_grad(fresh, x2, label, B, &lf)) {
        fprintf(stderr, "grad: %s\n", nnl_last_error(m));
        return 1;
    }
    const char *names[2] = {"W", "V"};
    for (int p = 0; p < 2; p++)
        if (memcmp(nnl_grad_data(m, param(m, names[p])), nnl_grad_data(fresh, param(fresh, names[p])),
                   sizeof(float) * NW)) {
            fprintf(stderr, "grad: %s's gradient depends on the calls before\n", names[p]);
            bad++;
        }
    if (l != lf) { fprintf(stderr, "grad: loss %g, fresh model's %g\n", (double)l, (double)lf); bad++; }
    nnl_destroy(m);
    nnl_destroy(fresh);
    if (!bad) printf("conv_pool: forward right, gradients independent of earlier calls\n");
    return bad != 0;
}
