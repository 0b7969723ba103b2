/* embedding.c — the backward pass of an embedding lookup (the forward pass is a
 * generated loop). In: dy (n, d) and the ids (n) stored as floats. Out: dw (v, d), each
 * row the sum of the dy rows whose id names it. Deterministic: every thread owns a range
 * of table rows and adds into them in the order of the ids. */
#include <omp.h>
#include <string.h>

#include "rt_internal.h"

/* dw's rows [lo, hi): zeroed, then every dy row whose id falls in them added. */
static void rows_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t d,
                    int64_t lo, int64_t hi)
{
    if (hi > lo) memset(dw + lo * d, 0, sizeof(float) * (hi - lo) * d);
    for (int64_t i = 0; i < n; i++) {
        float id = ids[i];
        if (!(id >= (float)lo && id < (float)hi)) continue;   /* also outside [0, v) */
        float *row = dw + (int64_t)id * d;
        const float *src = dy + i * d;
        for (int64_t j = 0; j < d; j++) row[j] += src[j];
    }
}

void nnl_embedding_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t v,
                      int64_t d)
{
    if (v <= 0 || d <= 0) return;
    int nt = rt_threads_for((double)n * d, 1 << 15, v);
    if (nt <= 1) {   /* no OpenMP region for one thread: ~1 us each */
        rows_dw(dy, ids, dw, n, d, 0, v);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(v, nt, &lo, &hi);
        rows_dw(dy, ids, dw, n, d, lo, hi);
    }
}
