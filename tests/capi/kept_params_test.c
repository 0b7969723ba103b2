/* kept_params_test.c — a forward's weights stay packed from one forward call to the next
 * (runtime/gemm.c kept_b, NnlModel.params_settled) only while nothing writes them: after
 * a checkpoint load, new initial values, a training step or a write through
 * kp_param_data, the next forward gives the same bits as a fresh instance holding the
 * same parameters. In: tests/capi/kept_params.nnl compiled with `nnlc -c --prefix kp`;
 * argv[1], a scratch directory. On one thread and on two. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp.h"

enum { B = 96 };
static float x[B * KP_IN_SIZE], lab[B * KP_OUT_SIZE];
static int failures;

static void forward(kp_model *m, float *y)
{
    if (kp_forward(m, x, B, y)) {
        fprintf(stderr, "forward: %s\n", kp_last_error(m));
        exit(1);
    }
}

/* m's forward against a fresh instance loaded from m's checkpoint */
static void same_as_fresh(kp_model *m, const char *path, const char *what, int threads)
{
    static float y[B * KP_OUT_SIZE], want[B * KP_OUT_SIZE];
    forward(m, y);
    if (kp_save(m, path)) {
        fprintf(stderr, "save: %s\n", kp_last_error(m));
        exit(1);
    }
    kp_model *f = kp_create(B);
    kp_set_threads(f, threads);
    if (!f || kp_load(f, path)) {
        fprintf(stderr, "load into a fresh instance failed\n");
        exit(1);
    }
    forward(f, want);
    kp_destroy(f);
    if (memcmp(y, want, sizeof y)) {
        printf("FAIL after %s (%d threads): the forward used stale weights\n", what, threads);
        failures++;
    }
}

int main(int argc, char **argv)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/kept.ckpt", argc > 1 ? argv[1] : ".");
    for (int j = 0; j < B * KP_IN_SIZE; j++) x[j] = (float)sin(0.37 * j);
    for (int j = 0; j < B * KP_OUT_SIZE; j++) lab[j] = (float)cos(0.11 * j);
    for (int threads = 1; threads <= 2; threads++) {
        static float y1[B * KP_OUT_SIZE], y2[B * KP_OUT_SIZE];
        kp_model *m = kp_create(B), *a = kp_create(B);
        if (!m || !a) return 1;
        kp_set_threads(m, threads);
        kp_set_threads(a, threads);
        kp_init_params(a, 1);
        forward(a, y1);
        forward(a, y2);   /* from the kept weights */
        if (memcmp(y1, y2, sizeof y1)) {
            printf("FAIL two forwards differ (%d threads)\n", threads);
            failures++;
        }
        if (kp_save(a, path)) return 1;
        kp_init_params(m, 2);
        forward(m, y2);               /* m's weights packed */
        if (kp_load(m, path)) return 1;
        forward(m, y2);
        if (memcmp(y1, y2, sizeof y1)) {
            printf("FAIL after a load (%d threads): the forward used stale weights\n", threads);
            failures++;
        }
        kp_init_params(m, 3);
        same_as_fresh(m, path, "kp_init_params", threads);
        float loss;
        if (kp_train_step(m, x, lab, B, &loss)) return 1;
        same_as_fresh(m, path, "a training step", threads);
        forward(m, y2);
        float *w = kp_param_data(m, 0);
        for (int64_t k = 0; k < kp_param_size(m, 0); k++) w[k] *= 0.5f;
        same_as_fresh(m, path, "a write through kp_param_data", threads);
        for (int64_t k = 0; k < kp_param_size(m, 0); k++) w[k] *= -1.0f;   /* the pointer kept */
        same_as_fresh(m, path, "a second write through the same pointer", threads);
        kp_destroy(m);
        kp_destroy(a);
    }
    remove(path);
    printf("kept_params: %s\n", failures ? "FAILED" : "forwards follow every change of the weights");
    return failures != 0;
}
