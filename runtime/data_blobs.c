/* data_blobs.c — a synthetic data set: n samples of `classes` Gaussian blobs in in_size
 * dimensions, the same for the same seed. In: n, classes, spread, seed. Out: points and
 * their blob index as the label. The centres sit evenly on a circle in the first two
 * dimensions with neighbours 4 apart (two classes in 2-D: clearly separable at spread
 * 1), plus an offset in [-1, 1] in any further dimension. The centres depend only on
 * classes and dimensions, not on the seed, so a train and a test set drawn with two
 * seeds come from one distribution. */
#include <math.h>
#include <stdio.h>

#include "rt_internal.h"

int rt_load_blobs(const NnlDataSpec *spec, const RtDataNeeds *need, RtDataset *ds,
                  char *err, size_t errlen)
{
    const char *name = spec->name ? spec->name : "blobs";
    int classes = spec->classes > 0 ? spec->classes : 2;
    float spread = spec->spread > 0.0f ? spec->spread : 1.0f;
    float scale = spec->scale != 0.0f ? spec->scale : 1.0f;
    int64_t d = need->in_size;
    if (spec->n < 1 || d < 1) {
        snprintf(err, errlen, "%s: blobs need n >= 1 samples and an input of at least one value", name);
        return -1;
    }
    if (need->label_size != 1) {
        snprintf(err, errlen, "%s: blobs give one class index per sample, but the model's label "
                 "has %lld values", name, (long long)need->label_size);
        return -1;
    }
    if (need->task == NNL_TASK_MULTICLASS && classes > need->classes) {
        snprintf(err, errlen, "%s: %d blobs, but the model's output has only %lld classes",
                 name, classes, (long long)need->classes);
        return -1;
    }
    if (need->task == NNL_TASK_BINARY && classes != 2) {
        snprintf(err, errlen, "%s: a binary task needs 2 blobs, not %d", name, classes);
        return -1;
    }
    float *centre = rt_calloc((size_t)classes * d, sizeof(float));
    if (!centre) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    RtRng r;
    rt_rng_seed(&r, rt_mix_seed(0x626c6f6273u, (uint64_t)classes));   /* "blobs" */
    double radius = classes > 1 ? 2.0 / sin(M_PI / classes) : 0.0;
    double turn = 2 * M_PI * rt_rng_uniform_double(&r);
    for (int k = 0; k < classes; k++) {
        double angle = turn + 2 * M_PI * k / classes;
        float *c = centre + (int64_t)k * d;
        if (d == 1) c[0] = 4.0f * k - 2.0f * (classes - 1);
        else {
            c[0] = (float)(radius * cos(angle));
            c[1] = (float)(radius * sin(angle));
        }
        for (int64_t j = 2; j < d; j++) c[j] = 2.0f * rt_rng_uniform(&r) - 1.0f;
    }
    if (rt_data_alloc(ds, spec->n, d, 1, name, err, errlen) < 0) {
        rt_free(centre);
        return -1;
    }
    rt_rng_seed(&r, spec->seed);
    for (int64_t i = 0; i < spec->n; i++) {
        int k = (int)rt_rng_below(&r, (uint64_t)classes);
        for (int64_t j = 0; j < d; j++)
            ds->x[i * d + j] = (centre[(int64_t)k * d + j] + spread * rt_rng_normal(&r)) * scale;
        ds->y[i] = (float)k;
    }
    rt_free(centre);
    return 0;
}
