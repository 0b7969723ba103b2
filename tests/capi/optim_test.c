/* optim_test.c — each optimizer's update in generated code against a reference written
 * here from the formulas (and the descriptor's settings): three steps, every parameter,
 * on 1, 2 and 3 threads (the update split between threads runs its own kernel), whose
 * final parameters must be the same bits. Built once per tests/capi/opt_*.nnl with
 * -DDESC=<prefix>_desc. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnlrt.h"

extern const NnlModelDesc DESC;

/* Three steps on this many threads; the final parameters into out (P floats). */
static int run(int threads, float *out)
{
    const NnlModelDesc *d = &DESC;
    const NnlOptim *o = &d->train.optim;
    enum { B = 4 };
    NnlModel *m = nnl_create(d, B, NULL);
    nnl_set_threads(m, threads);
    nnl_init_params(m, 3);
    int64_t P = 0;
    for (int i = 0; i < d->nparams; i++) P += d->params[i].size;
    double *p = calloc(P, sizeof *p), *g = calloc(P, sizeof *g), *s1 = calloc(P, sizeof *s1), *s2 = calloc(P, sizeof *s2);
    float x[B * 3], y[B * 2], l;
    for (int i = 0; i < B * 3; i++) x[i] = (float)sin(i + 1.0);
    for (int i = 0; i < B * 2; i++) y[i] = (float)cos(i * 2.0);
    int bad = 0;
    for (int step = 1; step <= 3; step++) {
        nnl_grad(m, x, y, B, &l);
        int64_t k = 0;
        for (int i = 0; i < d->nparams; i++)
            for (int64_t j = 0; j < d->params[i].size; j++, k++) {
                p[k] = nnl_param_data(m, i)[j];
                g[k] = nnl_grad_data(m, i)[j];
            }
        double scale = 1;
        if (d->train.clip_norm > 0) {
            double ss = 0;
            for (k = 0; k < P; k++) ss += g[k] * g[k];
            double q = d->train.clip_norm / (sqrt(ss) + 1e-6);
            scale = q < 1 ? q : 1;
            if (step == 1 && scale >= 1) { fprintf(stderr, "the clip test does not clip\n"); return 1; }
        }
        for (k = 0; k < P; k++) {
            double gr = g[k] * scale, wd = o->weight_decay, u;
            if (o->kind != NNL_OPT_ADAMW) gr += wd * p[k];
            if (o->kind == NNL_OPT_ADAM || o->kind == NNL_OPT_ADAMW) {
                s1[k] = o->beta1 * s1[k] + (1 - o->beta1) * gr;
                s2[k] = o->beta2 * s2[k] + (1 - o->beta2) * gr * gr;
                u = s1[k] / (1 - pow(o->beta1, step)) / (sqrt(s2[k] / (1 - pow(o->beta2, step))) + o->eps);
                if (o->kind == NNL_OPT_ADAMW) u += wd * p[k];
            } else if (o->kind == NNL_OPT_RMSPROP) {
                s1[k] = o->beta2 * s1[k] + (1 - o->beta2) * gr * gr;
                u = gr / (sqrt(s1[k]) + o->eps);
                if (o->momentum) u = s2[k] = o->momentum * s2[k] + u;
            } else {
                u = o->momentum ? (s1[k] = o->momentum * s1[k] + gr) : gr;
            }
            p[k] -= o->lr * u;
        }
        nnl_train_step(m, x, y, B, &l);
        k = 0;
        for (int i = 0; i < d->nparams; i++)
            for (int64_t j = 0; j < d->params[i].size; j++, k++) {
                double got = nnl_param_data(m, i)[j];
                if (fabs(got - p[k]) > 1e-5 * (1 + fabs(p[k]))) {
                    if (bad++ < 5) fprintf(stderr, "step %d %s[%lld]: %.7g, want %.7g\n", step, d->params[i].name, (long long)j, got, p[k]);
                    p[k] = got;
                }
            }
    }
    printf("optimizer %d, %d threads: %s\n", o->kind, threads, bad ? "WRONG" : "matches the reference");
    int64_t at = 0;
    for (int i = 0; i < d->nparams; i++)
        for (int64_t j = 0; j < d->params[i].size; j++) out[at++] = nnl_param_data(m, i)[j];
    nnl_destroy(m);
    free(p), free(g), free(s1), free(s2);   /* make sanitize checks leaks */
    return bad != 0;
}

int main(void)
{
    int64_t P = 0;
    for (int i = 0; i < DESC.nparams; i++) P += DESC.params[i].size;
    float *one = malloc(P * sizeof *one), *more = malloc(P * sizeof *more);
    int bad = run(1, one);
    for (int t = 2; t <= 3; t++) {
        bad |= run(t, more);
        if (memcmp(one, more, P * sizeof *one)) {
            fprintf(stderr, "%d threads: other parameters than on one thread\n", t);
            bad = 1;
        }
    }
    free(one), free(more);
    return bad;
}
