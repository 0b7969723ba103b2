/* threads_test.c — instances are independent: two POSIX threads, each owning an instance
 * of the CNN (examples/mnist_cnn.nnl, prefix cnn) and one running its parallel loops on
 * 1 OpenMP thread and the other on 2, train on the same batches and must end with exactly the parameters,
 * losses and outputs that one thread gets running the same work alone. Built as C99 with
 * -Wall -Wextra -Werror -pedantic. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"

enum { B = 16, STEPS = 6 };

typedef struct Job {
    float x[B * CNN_IN_SIZE], y[B];
    float losses[STEPS], out[B * CNN_OUT_SIZE];
    float *params;          /* every parameter, back to back */
    int threads;            /* OpenMP threads of this instance's loops */
    int status;
} Job;

static void fill(Job *j, unsigned seed)
{
    for (int i = 0; i < B * CNN_IN_SIZE; i++) {
        seed = seed * 1103515245u + 12345u;
        j->x[i] = (float)((seed >> 16) & 255) / 255.0f;
    }
    for (int i = 0; i < B; i++) j->y[i] = (float)(i % CNN_OUT_SIZE);
}

static void *work(void *arg)
{
    Job *j = arg;
    cnn_model *m = cnn_create(B);
    j->status = -1;
    if (!m) return NULL;
    cnn_set_threads(m, j->threads);
    for (int s = 0; s < STEPS; s++)
        if (cnn_train_step(m, j->x, j->y, B, &j->losses[s]) != CNN_OK) goto out;
    if (cnn_forward(m, j->x, B, j->out) != CNN_OK) goto out;
    int64_t total = 0;
    for (int i = 0; i < cnn_param_count(m); i++) total += cnn_param_size(m, i);
    j->params = malloc(sizeof(float) * (size_t)total);
    if (!j->params) goto out;
    for (int i = 0, at = 0; i < cnn_param_count(m); i++) {
        memcpy(j->params + at, cnn_param_data(m, i), sizeof(float) * (size_t)cnn_param_size(m, i));
        at += (int)cnn_param_size(m, i);
    }
    j->status = 0;
out:
    cnn_destroy(m);
    return NULL;
}

static int64_t param_floats(void)
{
    cnn_model *m = cnn_create(1);
    int64_t total = 0;
    for (int i = 0; m && i < cnn_param_count(m); i++) total += cnn_param_size(m, i);
    cnn_destroy(m);
    return total;
}

int main(void)
{
    static Job alone[2], both[2];
    for (int k = 0; k < 2; k++) {
        fill(&alone[k], 7u + (unsigned)k);
        fill(&both[k], 7u + (unsigned)k);
        alone[k].threads = both[k].threads = k + 1;
    }
    work(&alone[0]);   /* one thread, one job after the other */
    work(&alone[1]);
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        if (pthread_create(&t[k], NULL, work, &both[k]) != 0) return 1;
    for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
    int64_t n = param_floats();
    int bad = 0;
    for (int k = 0; k < 2; k++) {
        if (alone[k].status || both[k].status) {
            fprintf(stderr, "job %d failed\n", k);
            return 1;
        }
        bad |= memcmp(alone[k].losses, both[k].losses, sizeof alone[k].losses) != 0;
        bad |= memcmp(alone[k].out, both[k].out, sizeof alone[k].out) != 0;
        bad |= memcmp(alone[k].params, both[k].params, sizeof(float) * (size_t)n) != 0;
        printf("job %d: loss %.6f -> %.6f\n", k, (double)both[k].losses[0], (double)both[k].losses[STEPS - 1]);
    }
    /* the two jobs saw different data: had they shared state, they would agree */
    bad |= memcmp(both[0].params, both[1].params, sizeof(float) * (size_t)n) == 0;
    if (bad) {
        fprintf(stderr, "two threads differ from one\n");
        return 1;
    }
    printf("threads: 2 instances in 2 threads (1 and 2 OpenMP threads) match 1 thread bit for bit (%lld parameters)\n", (long long)n);
    for (int k = 0; k < 2; k++) {
        free(alone[k].params);
        free(both[k].params);
    }
    return 0;
}
