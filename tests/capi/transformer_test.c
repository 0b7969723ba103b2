/* transformer_test.c — the forward values of std.nn's Embedding and TransformerBlock
 * (tests/capi/transformer.nnl) against a plain C recomputation in double: layer norm,
 * the fused q/k/v projection split into 2 heads of 8 (the head permutes run in blocks of
 * a row), causal softmax attention, q k^T (a transposed batched product), the output
 * projection, the GELU MLP and both residuals. Ids outside [0, 7) embed as
 * zeros. Parameters are the seeded initial ones, biases and norms set to non-trivial
 * values here. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "transformer.h"

enum { T = 5, D = 16, H = 2, DH = 8, F = 32, V = 7, B = 3 };

static float *param(struct NnlModel *m, const char *name)
{
    int i = tfm_param_index(m, name);
    if (i < 0) { fprintf(stderr, "no parameter %s\n", name); return NULL; }
    return tfm_param_data(m, i);
}

/* y = x @ W + b, x (T, n), W (n, k) */
static void dense(const double *x, int n, const float *w, const float *b, int k, double *y)
{
    for (int t = 0; t < T; t++)
        for (int j = 0; j < k; j++) {
            double s = b[j];
            for (int i = 0; i < n; i++) s += x[t * n + i] * w[i * k + j];
            y[t * k + j] = s;
        }
}

static void layer_norm(const double *x, const float *g, const float *b, double *y)
{
    for (int t = 0; t < T; t++) {
        double m = 0, v = 0;
        for (int i = 0; i < D; i++) m += x[t * D + i] / D;
        for (int i = 0; i < D; i++) v += (x[t * D + i] - m) * (x[t * D + i] - m) / D;
        for (int i = 0; i < D; i++) y[t * D + i] = (x[t * D + i] - m) / sqrt(v + 1e-5) * g[i] + b[i];
    }
}

int main(void)
{
    struct NnlModel *m = tfm_create(B);
    if (!m) return 1;
    static const char *const names[] = {
        "embedding_1.table", "transformer_block_1.ln1.gamma", "transformer_block_1.ln1.beta",
        "transformer_block_1.attn.qkv.W", "transformer_block_1.attn.qkv.b", "transformer_block_1.attn.proj.W",
        "transformer_block_1.attn.proj.b", "transformer_block_1.ln2.gamma", "transformer_block_1.ln2.beta",
        "transformer_block_1.up.W", "transformer_block_1.up.b", "transformer_block_1.down.W",
        "transformer_block_1.down.b",
    };
    float *p[13];
    for (int i = 0; i < 13; i++)
        if (!(p[i] = param(m, names[i]))) return 1;
    /* biases and norms are zeros and ones at first: make them matter */
    int sizes[13] = {0, D, D, 0, 3 * D, 0, D, D, D, 0, F, 0, D};
    for (int i = 0; i < 13; i++)
        for (int j = 0; j < sizes[i]; j++) p[i][j] += 0.1f * (float)((j * 7 + i * 3) % 11 - 5);
    float ids[B * T] = {0, 3, 6, 2, 2,   5, 1, 9, 4, -1,   6, 6, 0, 1, 3};
    float y[B * T * D];
    if (tfm_forward(m, ids, B, y)) { fprintf(stderr, "%s\n", tfm_last_error(m)); return 1; }
    double worst = 0;
    for (int b = 0; b < B; b++) {
        double e[T * D], n1[T * D], qkv[T * 3 * D], o[T * D], a[T * D], h1[T * D], n2[T * D], u[T * F], out[T * D];
        for (int t = 0; t < T; t++) {
            float id = ids[b * T + t];
            for (int i = 0; i < D; i++) e[t * D + i] = id >= 0 && id < V ? p[0][(int)id * D + i] : 0;
        }
        layer_norm(e, p[1], p[2], n1);
        dense(n1, D, p[3], p[4], 3 * D, qkv);
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                double s[T], mx = -1e300, z = 0;
                for (int r = 0; r <= t; r++) {
                    s[r] = 0;
                    for (int j = 0; j < DH; j++) s[r] += qkv[t * 3 * D + h * DH + j] * qkv[r * 3 * D + D + h * DH + j];
                    s[r] /= sqrt(DH);
                    if (s[r] > mx) mx = s[r];
                }
                for (int r = 0; r <= t; r++) z += s[r] = exp(s[r] - mx);
                for (int j = 0; j < DH; j++) {
                    double acc = 0;
                    for (int r = 0; r <= t; r++) acc += s[r] / z * qkv[r * 3 * D + 2 * D + h * DH + j];
                    o[t * D + h * DH + j] = acc;
                }
            }
        dense(o, D, p[5], p[6], D, a);
        for (int i = 0; i < T * D; i++) h1[i] = e[i] + a[i];
        layer_norm(h1, p[7], p[8], n2);
        dense(n2, D, p[9], p[10], F, u);
        for (int i = 0; i < T * F; i++)
            u[i] = 0.5 * u[i] * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (u[i] + 0.044715 * u[i] * u[i] * u[i])));
        dense(u, F, p[11], p[12], D, out);
        for (int i = 0; i < T * D; i++) {
            double err = fabs(h1[i] + out[i] - y[b * T * D + i]);
            if (!(err <= worst)) worst = err;
        }
    }
    tfm_destroy(m);
    printf("transformer block: largest difference from the C reference %.3g\n", worst);
    return !(worst < 1e-4);
}
