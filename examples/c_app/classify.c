/* classify.c — a C application that embeds the Fashion-MNIST CNN of examples/mnist_cnn.nnl:
 * it links the object `nnlc -c` writes, loads a checkpoint that `./model train` saved,
 * classifies images from an IDX or .npy file and prints, per image, its index, the
 * predicted class and that class's probability. Its probabilities equal those of
 * `./model predict` bit for bit: the same code computes them, in batches of the same
 * size, and softmax (when the model outputs logits) is the runtime's own.
 *
 *   nnlc -c --prefix cnn examples/mnist_cnn.nnl -o cnn.o        # writes cnn.o and cnn.h
 *   cc -I. examples/c_app/classify.c cnn.o $(pkg-config --cflags --libs nnl) -lz -o classify
 *   ./classify cnn.safetensors t10k-images-idx3-ubyte.gz -n 10
 *
 * Options: -n N (the first N images), --raw FILE (the probabilities, N x 10 float32),
 * --threads T. The model is any classifier compiled with prefix cnn. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "images.h"
#include "nnlrt.h"

/* As `./model predict`: rows already probabilities (a softmax output) stay as they are,
 * anything else gets the runtime's softmax. */
static void to_probabilities(float *out, int64_t n, int64_t k)
{
    int probs = 1;
    for (int64_t i = 0; i < n && probs; i++) {
        double sum = 0;
        for (int64_t j = 0; j < k; j++) {
            probs = probs && out[i * k + j] >= 0;
            sum += out[i * k + j];
        }
        probs = probs && fabs(sum - 1) < 1e-3;
    }
    if (!probs) nnl_softmax_rows(out, out, n, k, 0);
}

static int usage(void)
{
    fprintf(stderr, "usage: classify [-n N] [--raw OUT.f32] [--threads T] CHECKPOINT IMAGES(.idx[.gz]|.npy)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *ckpt = NULL, *images = NULL, *raw = NULL;
    int64_t limit = 0;
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) limit = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--raw") && i + 1 < argc) raw = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (argv[i][0] == '-') return usage();
        else if (!ckpt) ckpt = argv[i];
        else if (!images) images = argv[i];
        else return usage();
    }
    if (!ckpt || !images) return usage();

    char err[512];
    Images im = {0, 0, NULL};
    if (read_images(images, CNN_DATA_SCALE, limit, &im, err, sizeof err)) {
        fprintf(stderr, "classify: %s\n", err);
        return 1;
    }
    if (im.per_sample != CNN_IN_SIZE) {
        fprintf(stderr, "classify: %s: %lld values per image, the model takes %d\n", images,
                (long long)im.per_sample, CNN_IN_SIZE);
        return 1;
    }
    /* the batch `./model predict` uses by default: the train block's */
    int64_t bs = CNN_BATCH > 0 ? CNN_BATCH : 32;
    cnn_model *m = cnn_create(bs);
    if (!m) {
        fprintf(stderr, "classify: out of memory\n");
        return 1;
    }
    cnn_set_threads(m, threads);
    if (cnn_load(m, ckpt) != CNN_OK) {
        fprintf(stderr, "classify: %s\n", cnn_last_error(m));
        cnn_destroy(m);
        return 1;
    }
    float *out = malloc(sizeof(float) * (size_t)(im.n * CNN_OUT_SIZE));
    if (!out) return 1;
    for (int64_t lo = 0; lo < im.n; lo += bs) {
        int64_t b = im.n - lo < bs ? im.n - lo : bs;
        if (cnn_forward(m, im.x + lo * CNN_IN_SIZE, b, out + lo * CNN_OUT_SIZE) != CNN_OK) {
            fprintf(stderr, "classify: %s\n", cnn_last_error(m));
            return 1;
        }
    }
    to_probabilities(out, im.n, CNN_OUT_SIZE);
    for (int64_t i = 0; i < im.n; i++) {
        const float *p = out + i * CNN_OUT_SIZE;
        int best = 0;
        for (int j = 1; j < CNN_OUT_SIZE; j++)
            if (p[j] > p[best]) best = j;
        printf("%lld %d %.9g\n", (long long)i, best, (double)p[best]);
    }
    if (raw) {
        FILE *f = fopen(raw, "wb");
        if (!f || fwrite(out, sizeof(float), (size_t)(im.n * CNN_OUT_SIZE), f) != (size_t)(im.n * CNN_OUT_SIZE) ||
            fclose(f) != 0) {
            fprintf(stderr, "classify: cannot write %s\n", raw);
            return 1;
        }
    }
    free(out);
    free(im.x);
    cnn_destroy(m);
    return 0;
}
