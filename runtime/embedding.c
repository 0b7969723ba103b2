/* embedding.c — the backward pass of an embedding lookup (the forward pass is a
 * generated loop). In: dy (n, d) and the ids (n) stored as floats. Out: dw (v, d), each
 * row the sum of the dy rows whose id names it. Deterministic: every thread owns a range
 * of table rows and adds into them in the order of the ids. */
#include <omp.h>
#include <string.h>

#include "rt_internal.h"

void nnl_embedding_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t v,
                      int64_t d)
{
    if (v <= 0 || d <= 0) return;
    int nt = rt_threads();
    if (omp_in_parallel() || n * d < (1 << 15)) nt = 1;
    if (nt > v) nt = (int)v;
    #pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int64_t lo, hi;
        rt_chunk(v, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
        if (hi > lo) memset(dw + lo * d, 0, sizeof(float) * (hi - lo) * d);
        for (int64_t i = 0; i < n; i++) {
            float id = ids[i];
            if (!(id >= (float)lo && id < (float)hi)) continue;   /* also outside [0, v) */
            float *row = dw + (int64_t)id * d;
            const float *src = dy + i * d;
            for (int64_t j = 0; j < d; j++) row[j] += src[j];
        }
    }
}
