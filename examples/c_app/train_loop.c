/* train_loop.c — training driven from C: the application owns the data (IDX files read
 * here), the epoch loop and the batches, and calls the model's train_step. Replaying the
 * executable's shuffle (cnn_epoch_order with the train block's seed) and its batch size,
 * it takes exactly the steps `./model train` takes: the losses agree to the last digit.
 *
 *   nnlc -c --prefix cnn examples/mnist_cnn.nnl -o cnn.o
 *   cc -I. examples/c_app/train_loop.c cnn.o $(pkg-config --cflags --libs nnl) -lz -o train_loop
 *   ./train_loop train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz --steps 200 \
 *                --test t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz --save cnn.safetensors
 *
 * Prints `epoch,step,loss` per step (the columns of `./model train --log`), then the test
 * set's loss and accuracy (cnn_evaluate) when given, and saves a checkpoint that
 * `./model eval` and classify read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "images.h"

static int usage(void)
{
    fprintf(stderr, "usage: train_loop IMAGES LABELS [--steps N] [--epochs E] [--threads T]\n"
                    "                  [--test IMAGES LABELS] [--save CKPT]\n");
    return 2;
}

static int load_set(const char *xs, const char *ys, Images *x, Images *y)
{
    char err[512];
    if (read_idx(xs, 0, CNN_DATA_SCALE, 0, x, err, sizeof err) || read_idx(ys, 1, 1, 0, y, err, sizeof err)) {
        fprintf(stderr, "train_loop: %s\n", err);
        return -1;
    }
    if (x->per_sample != CNN_IN_SIZE || x->n != y->n) {
        fprintf(stderr, "train_loop: %s and %s: %lld images of %lld values and %lld labels; the model "
                "takes %d values\n", xs, ys, (long long)x->n, (long long)x->per_sample, (long long)y->n, CNN_IN_SIZE);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *xs = NULL, *ys = NULL, *txs = NULL, *tys = NULL, *save = NULL;
    int64_t steps = 0, epochs = CNN_EPOCHS;
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--save") && i + 1 < argc) save = argv[++i];
        else if (!strcmp(argv[i], "--test") && i + 2 < argc) {
            txs = argv[++i];
            tys = argv[++i];
        } else if (argv[i][0] == '-') return usage();
        else if (!xs) xs = argv[i];
        else if (!ys) ys = argv[i];
        else return usage();
    }
    if (!xs || !ys) return usage();
    Images x = {0, 0, NULL}, y = {0, 0, NULL};
    if (load_set(xs, ys, &x, &y)) return 1;

    int64_t bs = CNN_BATCH < x.n ? CNN_BATCH : x.n, n = x.n;
    int64_t per_epoch = (n + bs - 1) / bs;
    if (steps > 0) epochs = (steps + per_epoch - 1) / per_epoch;
    else steps = epochs * per_epoch;
    cnn_model *m = cnn_create(bs);   /* parameters from CNN_SEED, as the executable's */
    int64_t *idx = malloc(sizeof *idx * (size_t)n);
    float *bx = malloc(sizeof(float) * (size_t)(bs * CNN_IN_SIZE)), *by = malloc(sizeof(float) * (size_t)bs);
    if (!m || !idx || !bx || !by) {
        fprintf(stderr, "train_loop: out of memory\n");
        return 1;
    }
    cnn_set_threads(m, threads);
    printf("epoch,step,loss\n");
    for (int64_t e = 1; e <= epochs && cnn_step_count(m) < steps; e++) {
        if (CNN_SHUFFLE) cnn_epoch_order(idx, n, CNN_SEED, e);
        else for (int64_t i = 0; i < n; i++) idx[i] = i;
        for (int64_t lo = 0; lo < n && cnn_step_count(m) < steps; lo += bs) {
            int64_t b = n - lo < bs ? n - lo : bs;
            for (int64_t r = 0; r < b; r++) {
                memcpy(bx + r * CNN_IN_SIZE, x.x + idx[lo + r] * CNN_IN_SIZE, sizeof(float) * CNN_IN_SIZE);
                by[r] = y.x[idx[lo + r]];
            }
            float loss;
            if (cnn_train_step(m, bx, by, b, &loss) != CNN_OK) {
                fprintf(stderr, "train_loop: %s\n", cnn_last_error(m));
                return 1;
            }
            printf("%lld,%lld,%.9g\n", (long long)e, (long long)cnn_step_count(m), (double)loss);
        }
    }
    if (txs) {
        Images tx = {0, 0, NULL}, ty = {0, 0, NULL};
        float loss, acc;
        if (load_set(txs, tys, &tx, &ty)) return 1;
        if (cnn_evaluate(m, tx.x, ty.x, tx.n, &loss, &acc) != CNN_OK) {
            fprintf(stderr, "train_loop: %s\n", cnn_last_error(m));
            return 1;
        }
        fprintf(stderr, "test: loss %.4f accuracy %.4f (%lld images)\n", (double)loss, (double)acc, (long long)tx.n);
        free(tx.x);
        free(ty.x);
    }
    if (save && cnn_save(m, save) != CNN_OK) {
        fprintf(stderr, "train_loop: %s\n", cnn_last_error(m));
        return 1;
    }
    free(idx);
    free(bx);
    free(by);
    free(x.x);
    free(y.x);
    cnn_destroy(m);
    return 0;
}
