/* bn_test.c — batch_norm's semantics through nnlc -c: inference uses the running
 * statistics, training the batch's (biased variance), and a training step moves the
 * running statistics by the momentum (unbiased variance), as PyTorch does. */
#include <math.h>
#include <stdio.h>

#include "bn.h"

static int fails;
#define NEAR(a, b) do { double x_ = (a), y_ = (b); if (fabs(x_ - y_) > 1e-4 * (1 + fabs(y_))) { \
    fprintf(stderr, "line %d: %s = %g, want %g\n", __LINE__, #a, x_, y_); fails++; } } while (0)

int main(void)
{
    enum { B = 4 };
    struct NnlModel *m = bn_create(B);
    int g = bn_param_index(m, "batch_norm1d_1.gamma"), be = bn_param_index(m, "batch_norm1d_1.beta");
    int rm = bn_param_index(m, "batch_norm1d_1.running_mean"), rv = bn_param_index(m, "batch_norm1d_1.running_var");
    if (g < 0 || be < 0 || rm < 0 || rv < 0) { fprintf(stderr, "parameter names\n"); return 1; }
    float gamma[2] = {2, 0.5f}, beta[2] = {1, -1}, mean[2] = {0.5f, -2}, var[2] = {4, 0.25f};
    for (int j = 0; j < 2; j++) {
        bn_param_data(m, g)[j] = gamma[j]; bn_param_data(m, be)[j] = beta[j];
        bn_param_data(m, rm)[j] = mean[j]; bn_param_data(m, rv)[j] = var[j];
    }
    float x[B * 2] = {1, 2, -1, 0, 3, -3, 0.5f, 1}, y[B * 2], t[B * 2] = {0};
    bn_forward(m, x, B, y);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < 2; j++)
            NEAR(y[i * 2 + j], (x[i * 2 + j] - mean[j]) / sqrt(var[j] + 0.001) * gamma[j] + beta[j]);
    /* training: batch statistics; loss = mean(y^2) with t = 0 */
    double bm[2] = {0}, bv[2] = {0}, loss = 0;
    for (int j = 0; j < 2; j++) {
        for (int i = 0; i < B; i++) bm[j] += x[i * 2 + j] / B;
        for (int i = 0; i < B; i++) bv[j] += (x[i * 2 + j] - bm[j]) * (x[i * 2 + j] - bm[j]) / B;
        for (int i = 0; i < B; i++) {
            double v = (x[i * 2 + j] - bm[j]) / sqrt(bv[j] + 0.001) * gamma[j] + beta[j];
            loss += v * v / (B * 2);
        }
    }
    float l;
    bn_grad(m, x, t, B, &l);
    NEAR(l, loss);
    NEAR(bn_param_data(m, rm)[0], mean[0]);   /* grad alone moves no statistic */
    bn_train_step(m, x, t, B, &l);
    NEAR(l, loss);
    for (int j = 0; j < 2; j++) {
        NEAR(bn_param_data(m, rm)[j], 0.75 * mean[j] + 0.25 * bm[j]);
        NEAR(bn_param_data(m, rv)[j], 0.75 * var[j] + 0.25 * bv[j] * B / (B - 1));
    }
    bn_destroy(m);
    if (!fails) printf("batch norm: all checks passed\n");
    return fails != 0;
}
