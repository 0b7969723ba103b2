/* two_models.c — three objects in one program: tests/capi/linear.nnl (prefix lin), the
 * CNN of examples/mnist_cnn.nnl (prefix cnn) and the same CNN compiled with --inference
 * (prefix cnn_inf). Checks that the prefixes keep them apart, that the inference object
 * reads the training object's checkpoint (optimizer state and all) and computes the same
 * outputs to the bit, checkpoints round-trip, evaluate agrees with loss, and that each
 * failure returns its status code with a message. C99, -Wall -Wextra -Werror -pedantic. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnn.h"
#include "cnn_inf.h"
#include "lin.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

enum { B = 8 };

int main(int argc, char **argv)
{
    const char *ckpt = argc > 1 ? argv[1] : "cnn.safetensors";
    const char *other = argc > 2 ? argv[2] : "lin.safetensors";
    static float x[B * CNN_IN_SIZE], y[B], out[B * CNN_OUT_SIZE], out2[B * CNN_OUT_SIZE];
    for (int i = 0; i < B * CNN_IN_SIZE; i++) x[i] = (float)((i * 37) % 256) / 255.0f;
    for (int i = 0; i < B; i++) y[i] = (float)(i % 10);

    cnn_model *m = cnn_create(B);
    cnn_inf_model *inf = cnn_inf_create(B);
    lin_model *l = lin_create(4);
    CHECK(m && inf && l);
    if (!m || !inf || !l) return 1;
    CHECK(CNN_IN_SIZE == CNN_INF_IN_SIZE && CNN_NUM_PARAMS == CNN_INF_NUM_PARAMS);

    /* train a little, save, and read it back into the inference object */
    float loss = 0, before = 0;
    CHECK(cnn_loss(m, x, y, B, &before) == CNN_OK);
    for (int s = 0; s < 5; s++) CHECK(cnn_train_step(m, x, y, B, &loss) == CNN_OK);
    CHECK(cnn_step_count(m) == 5);
    CHECK(cnn_save(m, ckpt) == CNN_OK);
    CHECK(cnn_inf_load(inf, ckpt) == CNN_INF_OK);
    CHECK(cnn_forward(m, x, B, out) == CNN_OK);
    CHECK(cnn_inf_forward(inf, x, B, out2) == CNN_INF_OK);
    CHECK(memcmp(out, out2, sizeof out) == 0);

    /* evaluate over more rows than max_batch agrees with the per-batch losses */
    float l1 = 0, l2 = 0, acc = -1, ev = 0;
    static float x2[2 * B * CNN_IN_SIZE], y2[2 * B];
    memcpy(x2, x, sizeof x);
    memcpy(x2 + B * CNN_IN_SIZE, x, sizeof x);
    memcpy(y2, y, sizeof y);
    memcpy(y2 + B, y, sizeof y);
    CHECK(cnn_loss(m, x, y, B, &l1) == CNN_OK);
    CHECK(cnn_inf_loss(inf, x, y, B, &l2) == CNN_INF_OK);
    CHECK(l1 == l2 && l1 < before);
    CHECK(cnn_evaluate(m, x2, y2, 2 * B, &ev, &acc) == CNN_OK);
    CHECK(fabsf(ev - l1) <= 1e-6f * (1 + l1) && acc >= 0 && acc <= 1);

    /* a fresh training instance continues from the checkpoint: step count and all */
    cnn_model *m2 = cnn_create(B);
    CHECK(m2 && cnn_load(m2, ckpt) == CNN_OK && cnn_step_count(m2) == 5);
    float la = 0, lb = 0;
    CHECK(cnn_train_step(m, x, y, B, &la) == CNN_OK && cnn_train_step(m2, x, y, B, &lb) == CNN_OK);
    CHECK(la == lb);
    CHECK(memcmp(cnn_param_data(m, 0), cnn_param_data(m2, 0), sizeof(float) * (size_t)cnn_param_size(m, 0)) == 0);
    cnn_destroy(m2);

    /* the linear model beside them */
    float lx[4 * LIN_IN_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, ly[4 * LIN_OUT_SIZE];
    CHECK(lin_forward(l, lx, 4, ly) == LIN_OK);
    CHECK(lin_save(l, other) == LIN_OK);

    /* status codes and messages */
    CHECK(cnn_inf_load(inf, "/nonexistent/x.safetensors") == CNN_INF_ERR_IO);
    CHECK(strstr(cnn_inf_last_error(inf), "/nonexistent/x.safetensors") != NULL);
    CHECK(cnn_inf_load(inf, other) == CNN_INF_ERR_FORMAT);
    CHECK(strlen(cnn_inf_last_error(inf)) > 0);
    CHECK(cnn_inf_forward(inf, x, B, out2) == CNN_INF_OK);
    CHECK(memcmp(out, out2, sizeof out) == 0);   /* a failed load changed nothing */
    CHECK(cnn_forward(m, x, B + 1, out) == CNN_ERR_BATCH);
    CHECK(cnn_forward(m, x, 0, out) == CNN_ERR_BATCH);
    CHECK(cnn_forward(m, NULL, B, out) == CNN_ERR_ARG);
    CHECK(cnn_save(m, "/nonexistent/dir/x.safetensors") == CNN_ERR_IO);
    CHECK(cnn_param_index(m, "dense_1.W") >= 0 && cnn_param_index(m, "dense_1.X") == -1);
    CHECK(cnn_param_data(m, CNN_NUM_PARAMS) == NULL && cnn_param_size(m, -1) == -1);

    cnn_destroy(m);
    cnn_inf_destroy(inf);
    lin_destroy(l);
    if (fails) fprintf(stderr, "%d checks failed\n", fails);
    else printf("two_models: 3 objects, all checks passed\n");
    return fails != 0;
}
