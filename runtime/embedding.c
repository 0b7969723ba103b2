/* embedding.c — the backward pass of an embedding lookup (the forward pass is a
 * generated loop). In: dy (n, d) and the ids (n) stored as floats. Out: dw (v, d), each
 * row the sum of the dy rows whose id names it. Deterministic: every thread owns a range
 * of table rows and adds into them in the order of the ids.
 *
 * A step touches few rows of a large table (text LSTM: at most 2,048 of 10,000), so
 * where the gradient is the table's own and nothing else writes it, the rows a call
 * wrote are marked and the next call zeroes only those: the table's other rows are still
 * zero from before. Zeroing the whole 10 MB table was 3.5% of the text LSTM's step. */
#include <omp.h>
#include <string.h>

#include "rt_internal.h"

/* dw's rows [lo, hi): zeroed, then every dy row whose id falls in them added. With
 * `touched` (nnl_embedding_dw_rows), only the rows it marks are zeroed unless `all`, and
 * the rows added to are marked: the rows outside the marks are zero from before. */
static void rows_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t d,
                    int64_t lo, int64_t hi, int all, unsigned char *touched)
{
    if (hi <= lo) return;
    if (!touched || all) {
        memset(dw + lo * d, 0, sizeof(float) * (hi - lo) * d);
        if (touched) memset(touched + lo, 0, (size_t)(hi - lo));
    } else {
        for (int64_t r = lo; r < hi; r++)
            if (touched[r]) {
                memset(dw + r * d, 0, sizeof(float) * d);
                touched[r] = 0;
            }
    }
    for (int64_t i = 0; i < n; i++) {
        float id = ids[i];
        if (!(id >= (float)lo && id < (float)hi)) continue;   /* also outside [0, v) */
        int64_t r = (int64_t)id;
        float *row = dw + r * d;
        const float *src = dy + i * d;
        for (int64_t j = 0; j < d; j++) row[j] += src[j];
        if (touched) touched[r] = 1;
    }
}

/* rows_dw over the whole table, each thread a range of its rows. */
static void embedding_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t v, int64_t d,
                         int all, unsigned char *touched)
{
    int nt = rt_threads_for((double)n * d, 1 << 15, v);
    if (nt <= 1) {   /* no OpenMP region for one thread: ~1 us each */
        rows_dw(dy, ids, dw, n, d, 0, v, all, touched);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(v, nt, &lo, &hi);
        rows_dw(dy, ids, dw, n, d, lo, hi, all, touched);
    }
}

void nnl_embedding_dw_rows(const float *dy, const float *ids, float *dw, int64_t n, int64_t v,
                           int64_t d, float *rows, const NnlCtx *ctx)
{
    if (v <= 0 || d <= 0) return;
    /* rows: the generation of the gradients it last saw (8 bytes, then 8 unused), then a
     * byte a table row, 1 where the last call wrote it */
    uint64_t gen;
    memcpy(&gen, rows, sizeof gen);
    embedding_dw(dy, ids, dw, n, v, d, gen != ctx->grad_gen, (unsigned char *)(rows + 4));
    memcpy(rows, &ctx->grad_gen, sizeof gen);
}

void nnl_embedding_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t v,
                      int64_t d)
{
    if (v <= 0 || d <= 0) return;
    embedding_dw(dy, ids, dw, n, v, d, 1, NULL);
}
