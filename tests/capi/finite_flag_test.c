/* finite_flag_test.c — the generated update's finiteness flag, which runtime/nancheck.c
 * reads instead of the trained values after a step: a clean step leaves it 0 and passes
 * the guard; a step whose update takes one value of U (tests/capi/finite_flag.nnl, read
 * by no loss) to Inf, the loss finite, sets it, and the guard names that value. Each
 * position of U's first and last 40 values and around the middle (the two threads'
 * split), on 1 thread (the scalar kernel) and 2 (the split kernels' vector loops, heads
 * and tails). Built with finite_flag.nnl as ff_desc. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

extern const NnlModelDesc ff_desc;

enum { B = 8, NU = 20011 };
static float x[B * 3], y[B * 5];

int main(void)
{
    for (int i = 0; i < B * 3; i++) x[i] = (float)((i % 7) - 3) * 0.25f;
    for (int i = 0; i < B * 5; i++) y[i] = (float)(i % 3);
    if (ff_desc.finite_off <= 0 || ff_desc.ntrain_floats < 15 + NU) {
        fprintf(stderr, "no finiteness flag in the descriptor (finite_off %lld, ntrain %lld)\n",
                (long long)ff_desc.finite_off, (long long)ff_desc.ntrain_floats);
        return 1;
    }
    int bad = 0, cases = 0;
    for (int threads = 1; threads <= 2; threads++) {
        NnlModel *m = nnl_create(&ff_desc, B, NULL);
        if (!m) return 2;
        nnl_set_threads(m, threads);
        nnl_init_params(m, 3);
        int u = nnl_param_index(m, "U");
        RtNanGuard g;
        char err[200], why[400];
        if (u < 0 || rt_nan_guard_init(&g, m, RT_NAN_STOP, err, sizeof err)) return 2;
        for (int q = 0; q < NU; q++) {
            if (q == 40) q = NU / 2 - 40;
            if (q == NU / 2 + 40) q = NU - 40;
            float loss;
            float *uv = nnl_param_data(m, u);
            nnl_set_lr(m, 1e-2f);   /* a clean step: the flag 0, the guard quiet */
            if (nnl_train_step(m, x, y, B, &loss)) return 2;
            int32_t flag;
            memcpy(&flag, m->arena + ff_desc.finite_off, sizeof flag);
            rt_set_threads(threads);
            if (flag || rt_nan_after(&g, m, why, sizeof why)) {
                fprintf(stderr, "%d threads: a clean step flagged (%d): %s\n", threads, (int)flag, why);
                bad = 1;
                break;
            }
            /* U[q] = 2e38, lr -1: the decay doubles it to Inf, the rest of U stays 0 */
            uv = nnl_param_data(m, u);
            uv[q] = 2e38f;
            nnl_set_lr(m, -1.0f);
            if (nnl_train_step(m, x, y, B, &loss)) return 2;
            memcpy(&flag, m->arena + ff_desc.finite_off, sizeof flag);
            rt_set_threads(threads);
            char want[64];
            snprintf(want, sizeof want, "the parameter U[%d] is inf", q);
            cases++;
            if (!flag || !isfinite(loss) || !rt_nan_after(&g, m, why, sizeof why) || !strstr(why, want)) {
                fprintf(stderr, "%d threads, U[%d]: flag %d, loss %g, guard: %s\n", threads, q, (int)flag, loss, why);
                bad = 1;
                break;
            }
            uv = nnl_param_data(m, u);
            uv[q] = 0;
            nnl_init_params(m, 3);   /* W back where it started (lr -1 moved it) */
        }
        rt_nan_guard_free(&g);
        nnl_destroy(m);
    }
    if (!bad) printf("finite flag: clean steps 0, %d overflowing values flagged and named (1 and 2 threads)\n", cases);
    return bad;
}
