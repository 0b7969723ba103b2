/* embed_grad_test.c — an embedding table's gradient after steps on other ids: the
 * runtime zeroes only the rows the step before wrote (nnl_embedding_dw_rows), so a
 * model that took a step on ids A and then one on ids B must hold, after B, the very
 * bits of a fresh model's gradient on B alone: A's rows zero, B's summed. Also after the
 * caller wrote into every row (nnl_grad_data hands them out writable), and on 1 and 2
 * threads (the table's rows split between threads). Built with tests/capi/embed_grad.nnl
 * as embed_grad_desc. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnlrt.h"

extern const NnlModelDesc embed_grad_desc;

enum { B = 256, T = 8, V = 50, D = 16, OUT = T * 4 };
static float ids_a[B * T], ids_b[B * T], y[B * OUT];

static NnlModel *model(int threads)
{
    NnlModel *m = nnl_create(&embed_grad_desc, B, NULL);
    if (!m) exit(2);
    nnl_set_threads(m, threads);
    nnl_init_params(m, 7);
    return m;
}

static int table_index(NnlModel *m)
{
    for (int i = 0; i < nnl_param_count(m); i++)
        if (nnl_param_info(m, i)->size == V * D) return i;
    fprintf(stderr, "no %dx%d table among the parameters\n", V, D);
    exit(2);
}

static int check(const char *what, const float *got, const float *want)
{
    if (!memcmp(got, want, sizeof(float) * V * D)) return 0;
    for (int r = 0; r < V; r++)
        for (int j = 0; j < D; j++)
            if (memcmp(&got[r * D + j], &want[r * D + j], sizeof(float))) {
                fprintf(stderr, "%s: table row %d col %d: %g, want %g\n", what, r, j, got[r * D + j],
                        want[r * D + j]);
                return 1;
            }
    return 1;
}

int main(void)
{
    /* A: rows 0..24 and an id outside the table; B: rows 20..49 (20..24 in both) */
    for (int i = 0; i < B * T; i++) {
        ids_a[i] = i % 97 == 0 ? 60 : (float)(i * 7 % 25);
        ids_b[i] = (float)(20 + i * 11 % 30);
    }
    for (int i = 0; i < B * OUT; i++) y[i] = (float)sin(i * 0.37);
    int bad = 0;
    static float want[V * D], got[V * D];
    float l;
    for (int threads = 1; threads <= 2; threads++) {
        NnlModel *fresh = model(threads), *m = model(threads);
        int t = table_index(m);
        nnl_grad(fresh, ids_b, y, B, &l);
        memcpy(want, nnl_grad_data(fresh, t), sizeof want);
        int zero_rows = 0, nonzero_rows = 0;
        for (int r = 0; r < V; r++) {
            int nz = 0;
            for (int j = 0; j < D; j++) nz |= want[r * D + j] != 0;
            if (r < 20) zero_rows += !nz;
            else nonzero_rows += nz;
        }
        if (zero_rows != 20 || nonzero_rows != 30) {
            fprintf(stderr, "B alone: %d of rows 0..19 zero, %d of 20..49 not: the test proves nothing\n",
                    zero_rows, nonzero_rows);
            return 1;
        }
        nnl_grad(m, ids_a, y, B, &l);
        nnl_grad(m, ids_b, y, B, &l);
        memcpy(got, nnl_grad_data(m, t), sizeof got);
        char what[64];
        snprintf(what, sizeof what, "A then B, %d thread%s", threads, threads > 1 ? "s" : "");
        bad |= check(what, got, want);
        /* the caller writes into every row; the next step must not keep any of it */
        float *g = nnl_grad_data(m, t);
        for (int k = 0; k < V * D; k++) g[k] = 1e3f + (float)k;
        nnl_grad(m, ids_b, y, B, &l);
        memcpy(got, nnl_grad_data(m, t), sizeof got);
        snprintf(what, sizeof what, "written, then B, %d thread%s", threads, threads > 1 ? "s" : "");
        bad |= check(what, got, want);
        nnl_destroy(fresh);
        nnl_destroy(m);
    }
    if (!bad) printf("embedding gradient: rows of the step before zeroed (1 and 2 threads)\n");
    return bad;
}
