/* embed_mm_test.c — a lookup that a product reads, as one EMBED_MM over the distinct ids
 * of a batch (compiler/rewrite.c, runtime/embedding.c), against the same model built
 * with the lookup and the product apart (NNLC_NO_EMBED_MM=1): the same outputs, and the
 * same parameters after 30 training steps up to the order of the sums of the gradients;
 * the EMBED_MM build trains to the same bits on 1, 2 and 3 threads. The ids repeat and
 * some lie outside the table. Built with tests/capi/embed_mm.nnl as em_desc (EMBED_MM)
 * and eg_desc (gather and product). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnlrt.h"

extern const NnlModelDesc em_desc, eg_desc;

enum { B = 48, T = 10, V = 30, STEPS = 30 };
static float ids[STEPS][B * T], lab[STEPS][B];

static NnlModel *model(const NnlModelDesc *d, int threads)
{
    NnlModel *m = nnl_create(d, B, NULL);
    if (!m) exit(2);
    nnl_set_threads(m, threads);
    nnl_init_params(m, 11);
    return m;
}

/* every parameter of m, back to back, into p (room for all): their count */
static int64_t params(NnlModel *m, float *p)
{
    int64_t n = 0;
    for (int i = 0; i < nnl_param_count(m); i++) {
        int64_t size = nnl_param_info(m, i)->size;
        if (p) memcpy(p + n, nnl_param_data(m, i), sizeof(float) * (size_t)size);
        n += size;
    }
    return n;
}

static void train(NnlModel *m, float *losses)
{
    for (int s = 0; s < STEPS; s++)
        if (nnl_train_step(m, ids[s], lab[s], B, &losses[s])) {
            fprintf(stderr, "train step: %s\n", nnl_last_error(m));
            exit(1);
        }
}

int main(void)
{
    unsigned seed = 12345;
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < B * T; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) % 1000;
            /* a few ids repeat often (as words do), some fall outside the table */
            ids[s][i] = r < 500 ? (float)(r % 4) : r < 980 ? (float)(r % V) : (float)V + 1.5f;
        }
        for (int i = 0; i < B; i++) lab[s][i] = (float)((int)ids[s][i * T] % 3);
    }
    int bad = 0;
    NnlModel *a = model(&em_desc, 1), *b = model(&eg_desc, 1);
    int64_t np = params(a, NULL);
    if (np != params(b, NULL)) {
        fprintf(stderr, "the two builds have different parameters\n");
        return 1;
    }
    float *pa = malloc(sizeof(float) * (size_t)np), *pb = malloc(sizeof(float) * (size_t)np);
    static float ya[B * 3], yb[B * 3], la[STEPS], lb[STEPS], lt[STEPS];
    if (!pa || !pb || nnl_forward(a, ids[0], B, ya) || nnl_forward(b, ids[0], B, yb)) return 2;
    for (int i = 0; i < B * 3; i++)
        if (!(fabsf(ya[i] - yb[i]) <= 1e-5f * (1 + fabsf(yb[i])))) {
            fprintf(stderr, "forward row %d: %g, apart %g\n", i / 3, ya[i], yb[i]);
            bad = 1;
            break;
        }
    train(a, la);
    train(b, lb);
    params(a, pa);
    params(b, pb);
    double worst = 0;
    for (int64_t i = 0; i < np; i++) {
        double e = fabs((double)pa[i] - pb[i]) / (1 + fabs(pb[i]));
        if (!(e <= worst) && worst == worst) worst = e;   /* a NaN stays */
    }
    if (!(worst < 1e-3) || !(fabsf(la[STEPS - 1] - lb[STEPS - 1]) < 1e-3f)) {
        fprintf(stderr, "after %d steps: parameters %g apart, losses %g and %g\n", STEPS, worst, la[STEPS - 1],
                lb[STEPS - 1]);
        bad = 1;
    }
    if (!(lb[STEPS - 1] < 0.9f * lb[0])) {
        fprintf(stderr, "loss %g -> %g: the model does not learn, the test proves little\n", lb[0], lb[STEPS - 1]);
        bad = 1;
    }
    for (int threads = 2; threads <= 3; threads++) {
        NnlModel *t = model(&em_desc, threads);
        train(t, lt);
        params(t, pb);
        if (memcmp(lt, la, sizeof la) || memcmp(pa, pb, sizeof(float) * (size_t)np)) {
            fprintf(stderr, "EMBED_MM trains differently on %d threads\n", threads);
            bad = 1;
        }
        nnl_destroy(t);
    }
    if (!bad)
        printf("embed_mm: outputs as apart, parameters %.2g apart after %d steps (loss %.4f -> %.4f), "
               "the same bits on 1, 2 and 3 threads\n", worst, STEPS, la[0], la[STEPS - 1]);
    nnl_destroy(a);
    nnl_destroy(b);
    free(pa);
    free(pb);
    return bad;
}
