/* capi_test.c — a C program against the header `nnlc -c` writes (built with -Wall
 * -Wextra -Werror -std=c11): parameters by name, forward, loss, gradients and one SGD
 * step of tests/capi/linear.nnl, each compared with the same arithmetic done here. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "linear.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)
#define NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) <= 1e-5 * (1 + fabs((double)(b))))

int main(void)
{
    enum { B = 4 };
    struct NnlModel *m = linear_create(B);
    CHECK(m != NULL);
    if (!m) return 1;
    CHECK(linear_param_count(m) == LINEAR_NUM_PARAMS && LINEAR_NUM_PARAMS == 2);
    int wi = linear_param_index(m, "W"), bi = linear_param_index(m, "b");
    CHECK(wi >= 0 && bi >= 0 && wi != bi);
    CHECK(linear_param_index(m, "nope") == -1);
    CHECK(wi >= 0 && !strcmp(linear_param_name(m, wi), "W"));
    CHECK(linear_param_size(m, wi) == 6 && linear_param_size(m, bi) == 2);
    CHECK(linear_param_name(m, 99) == NULL);
    if (wi < 0 || bi < 0) return 1;

    float W[6] = {0.5f, -1, 2, 0.25f, -0.5f, 1}, bias[2] = {0.1f, -0.2f};
    memcpy(linear_param_data(m, wi), W, sizeof W);
    memcpy(linear_param_data(m, bi), bias, sizeof bias);
    float x[B * LINEAR_IN_SIZE], t[B * LINEAR_LABEL_SIZE], y[B * LINEAR_OUT_SIZE], want[B * 2];
    for (int i = 0; i < B * 3; i++) x[i] = (float)((i * 7 % 5) - 2) * 0.5f;
    for (int i = 0; i < B * 2; i++) t[i] = (float)(i % 3) - 1;
    for (int r = 0; r < B; r++)
        for (int j = 0; j < 2; j++) {
            float s = bias[j];
            for (int k = 0; k < 3; k++) s += x[r * 3 + k] * W[k * 2 + j];
            want[r * 2 + j] = s;
        }
    CHECK(linear_forward(m, x, B, y) == 0);
    for (int i = 0; i < B * 2; i++) NEAR(y[i], want[i]);
    CHECK(linear_forward(m, x, 2, y) == 0);     /* a smaller batch */
    for (int i = 0; i < 2 * 2; i++) NEAR(y[i], want[i]);
    CHECK(linear_forward(m, x, B + 1, y) != 0); /* over max_batch: an error, no crash */
    CHECK(strlen(linear_last_error(m)) > 0);

    /* loss = mean (y - t)^2 over all B*2 values; dW = 2/(2B) x^T (y - t); db = sum rows */
    double loss = 0, dW[6] = {0}, db[2] = {0};
    for (int r = 0; r < B; r++)
        for (int j = 0; j < 2; j++) {
            double e = want[r * 2 + j] - t[r * 2 + j];
            loss += e * e / (2 * B);
            for (int k = 0; k < 3; k++) dW[k * 2 + j] += 2 * e * x[r * 3 + k] / (2 * B);
            db[j] += 2 * e / (2 * B);
        }
    float l = 0;
    CHECK(linear_loss(m, x, t, B, &l) == 0);
    NEAR(l, loss);
    CHECK(linear_grad(m, x, t, B, &l) == 0);
    NEAR(l, loss);
    for (int i = 0; i < 6; i++) NEAR(linear_grad_data(m, wi)[i], dW[i]);
    for (int i = 0; i < 2; i++) NEAR(linear_grad_data(m, bi)[i], db[i]);

    CHECK(linear_step_count(m) == 0);
    CHECK(linear_train_step(m, x, t, B, &l) == 0);
    NEAR(l, loss);
    CHECK(linear_step_count(m) == 1);
    for (int i = 0; i < 6; i++) NEAR(linear_param_data(m, wi)[i], W[i] - 0.1 * dW[i]);
    for (int i = 0; i < 2; i++) NEAR(linear_param_data(m, bi)[i], bias[i] - 0.1 * db[i]);
    float l2 = 0;
    CHECK(linear_loss(m, x, t, B, &l2) == 0);
    CHECK(l2 < l);

    linear_set_threads(m, 2);
    linear_init_params(m, 7);
    float w7[6];
    memcpy(w7, linear_param_data(m, wi), sizeof w7);
    linear_init_params(m, 7);
    CHECK(!memcmp(w7, linear_param_data(m, wi), sizeof w7));   /* same seed, same values */
    CHECK(linear_param_data(m, bi)[0] == 0 && linear_param_data(m, bi)[1] == 0);   /* zeros */
    linear_destroy(m);
    if (fails) fprintf(stderr, "%d checks failed\n", fails);
    else printf("capi: all checks passed\n");
    return fails != 0;
}
