/* embedding.c — the backward pass of an embedding lookup (the forward pass is a
 * generated loop), and a lookup that a product reads with that product's adjoints (below:
 * nnl_embed_mm). In: dy (n, d) and the ids (n) stored as floats. Out: dw (v, d), each
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

/* dw's rows [lo, hi) zeroed: all of them, or with `touched` and not `all` only the rows
 * it marks (the others are zero from before); the marks cleared. */
static void clear_rows(float *dw, int64_t d, int64_t lo, int64_t hi, int all, unsigned char *touched)
{
    if (!touched || all) {
        memset(dw + lo * d, 0, sizeof(float) * (size_t)((hi - lo) * d));
        if (touched) memset(touched + lo, 0, (size_t)(hi - lo));
        return;
    }
    for (int64_t r = lo; r < hi; r++)
        if (touched[r]) {
            memset(dw + r * d, 0, sizeof(float) * (size_t)d);
            touched[r] = 0;
        }
}

/* The marks of `rows` (4 + ceil(v/4) floats of the arena, zero at first): the generation
 * of the gradients the call before saw (8 bytes, then 8 unused), then a byte a table row,
 * 1 where that call wrote it. Whether every row must be zeroed (the gradients were
 * handed out for writing since: ctx->grad_gen moved), the generation then kept. */
static int marks_stale(float *rows, const NnlCtx *ctx)
{
    uint64_t gen;
    memcpy(&gen, rows, sizeof gen);
    memcpy(rows, &ctx->grad_gen, sizeof gen);
    return gen != ctx->grad_gen;
}

/* dw's rows [lo, hi): zeroed, then every dy row whose id falls in them added. With
 * `touched` (nnl_embedding_dw_rows), only the rows it marks are zeroed unless `all`, and
 * the rows added to are marked: the rows outside the marks are zero from before. */
static void rows_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t d,
                    int64_t lo, int64_t hi, int all, unsigned char *touched)
{
    if (hi <= lo) return;
    clear_rows(dw, d, lo, hi, all, touched);
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
    embedding_dw(dy, ids, dw, n, v, d, marks_stale(rows, ctx), (unsigned char *)(rows + 4));
}

void nnl_embedding_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t v,
                      int64_t d)
{
    if (v <= 0 || d <= 0) return;
    embedding_dw(dy, ids, dw, n, v, d, 1, NULL);
}

/* ---- lookups that a product reads: y = table[ids] w ----
 * A batch of text holds each of its distinct ids several times (the text LSTM's 2,048
 * words of a batch of the spam emails: ~780 distinct ones; uniform random ids over its
 * 10,000: ~1,850), so each of the three products of such a layer runs over the distinct
 * ids (u, in the order they first appear) instead of the positions (n):
 *   forward   P = table[distinct] w, each position's row of y copied from P (in the
 *             product's epilogue, block by block while P is in cache);
 *   sums      S (u x k): the rows of dy summed per id (nnl_embed_sums, a value of the
 *             graph that both adjoints read: EMBED_SUMS);
 *   table     dtable[distinct] = S w^T;
 *   weight    dw = table[distinct]^T S.
 * table[distinct] is never gathered: the products pack its rows from the table through
 * the list of distinct ids (nnl_sgemm_rows). The sums run in the order of the positions
 * on any thread count; the products are gemm.c's. An id outside [0, v) reads zeros (as
 * the lookup) and adds nothing. Without memory for the scratch, each kernel finds the
 * distinct ids by searching the positions before (first_at) instead. */

static __thread RtScratch look_map, look_buf;
static __thread int64_t look_map_ready;   /* ints of look_map set to -1 */

typedef struct Lookup {
    int32_t *map, *slot, *uniq;   /* map: a table row's slot, -1 where none */
    int32_t *head, *next;         /* lookup_chains: a slot's first position, a position's
                                     next one of the same slot (-1: none) */
    unsigned char *first;         /* 1 where a position holds its id first */
    float *t;                     /* min(n, v) x t_cols floats */
    int64_t u;                    /* distinct ids */
    int64_t bad;                  /* positions whose id is outside the table */
} Lookup;

/* The table row an id names, -1 outside [0, v) (NaN too). */
static int64_t id_row(float id, int64_t v)
{
    return id >= 0.0f && id < (float)v ? (int64_t)id : -1;
}

/* The distinct ids of ids (n) and scratch beside them (t_cols floats a distinct id:
 * there are at most min(n, v)); 0 without memory. */
static int lookup_begin(Lookup *L, const float *ids, int64_t n, int64_t v, int64_t t_cols)
{
    if (look_map.cap < (size_t)v) look_map_ready = 0;
    L->map = (int32_t *)rt_scratch(&look_map, (size_t)v);   /* an int a float */
    int64_t most = n < v ? n : v;
    /* slot, uniq, head, next, first */
    size_t ints = (size_t)(2 * n + 2 * most + (n + 3) / 4 + 15) / 16 * 16;
    float *buf = rt_scratch(&look_buf, ints + (size_t)(most * t_cols));
    if (!L->map || !buf) return 0;
    for (; look_map_ready < v; look_map_ready++) L->map[look_map_ready] = -1;
    L->slot = (int32_t *)buf;
    L->uniq = L->slot + n;
    L->head = L->uniq + most;
    L->next = L->head + most;
    L->first = (unsigned char *)(L->next + n);
    L->t = buf + ints;
    L->u = 0;
    L->bad = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = id_row(ids[i], v);
        L->first[i] = 0;
        L->slot[i] = -1;
        if (r < 0) {
            L->bad++;
            continue;
        }
        if (L->map[r] < 0) {
            L->map[r] = (int32_t)L->u;
            L->uniq[L->u++] = (int32_t)r;
            L->first[i] = 1;
        }
        L->slot[i] = L->map[r];
    }
    return 1;
}

/* head and next: each distinct id's positions in order, as a chain. */
static void lookup_chains(Lookup *L, int64_t n)
{
    for (int64_t q = 0; q < L->u; q++) L->head[q] = -1;
    for (int64_t i = n - 1; i >= 0; i--) {   /* from the last: head[q], the earliest so far */
        int32_t q = L->slot[i];
        if (q < 0) continue;
        L->next[i] = L->head[q];
        L->head[q] = (int32_t)i;
    }
}

static void lookup_end(Lookup *L)
{
    for (int64_t q = 0; q < L->u; q++) L->map[L->uniq[q]] = -1;
}

/* Without scratch: position i's row, where no position before it names that row; else -1. */
static int64_t first_at(const float *ids, int64_t i, int64_t v)
{
    int64_t r = id_row(ids[i], v);
    for (int64_t j = 0; r >= 0 && j < i; j++)
        if (id_row(ids[j], v) == r) return -1;
    return r;
}

/* S's columns [j0, j1): each distinct id's rows of dy summed in the order of i. */
static void sum_cols(const Lookup *L, const float *dy, float *s, int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    for (int64_t i = 0; i < n; i++) {
        if (L->slot[i] < 0) continue;
        const float *src = dy + i * k;
        float *dst = s + (int64_t)L->slot[i] * k;
        if (L->first[i]) memcpy(dst + j0, src + j0, sizeof(float) * (size_t)(j1 - j0));
        else
            for (int64_t j = j0; j < j1; j++) dst[j] += src[j];
    }
}

/* s (u x k): dy's rows summed per distinct id, threads splitting the columns. */
static void lookup_sums(const Lookup *L, const float *dy, float *s, int64_t n, int64_t k)
{
    int64_t lines = (k + 15) / 16;   /* 16 columns (a cache line) at a time */
    int nt = rt_threads_for((double)n * k, 1 << 15, lines);
    if (nt <= 1) {
        sum_cols(L, dy, s, n, k, 0, k);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(lines, nt, &lo, &hi);
        if (lo < hi) sum_cols(L, dy, s, n, k, lo * 16, hi * 16 < k ? hi * 16 : k);
    }
}

void nnl_embed_sums(const float *dy, const float *ids, float *s, int64_t n, int64_t v, int64_t k)
{
    if (n <= 0 || k <= 0) return;
    Lookup L;
    if (!lookup_begin(&L, ids, n, v, 0)) {   /* each distinct id's rows found by a search */
        int64_t q = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t r = first_at(ids, i, v);
            if (r < 0) continue;
            float *dst = s + q++ * k;
            memcpy(dst, dy + i * k, sizeof(float) * (size_t)k);
            for (int64_t j = i + 1; j < n; j++)
                if (id_row(ids[j], v) == r)
                    for (int64_t c = 0; c < k; c++) dst[c] += dy[j * k + c];
        }
        return;
    }
    lookup_sums(&L, dy, s, n, k);
    lookup_end(&L);
}

/* The product's epilogue (gemm.c runs it on each block of P as soon as the block is
 * final, while it is in cache): the block's part of each position's row of y copied
 * from it, along the slot's chain of positions, then the caller's epilogue over those
 * elements of y. The flat range [lo, hi) of P is one row's columns or whole rows. */
typedef struct Spread {
    const Lookup *L;
    const float *p;
    float *y;
    int64_t k;
    NnlKernelFn ep;
    const NnlCtx *ep_ctx;
} Spread;

static void spread_block(const NnlCtx *ctx, int64_t lo, int64_t hi)
{
    const Spread *s = (const Spread *)(const void *)ctx;
    int64_t k = s->k;
    while (lo < hi) {
        int64_t q = lo / k, j0 = lo - q * k, j1 = hi - q * k < k ? hi - q * k : k;
        for (int32_t i = s->L->head[q]; i >= 0; i = s->L->next[i]) {
            memcpy(s->y + i * k + j0, s->p + lo, sizeof(float) * (size_t)(j1 - j0));
            if (s->ep) s->ep(s->ep_ctx, i * k + j0, i * k + j1);
        }
        lo += j1 - j0;
    }
}

void nnl_embed_mm(const float *table, const float *ids, const float *w, float *y, int64_t n, int64_t v,
                  int64_t d, int64_t k, NnlKernelFn ep, const NnlCtx *ep_ctx)
{
    if (n <= 0 || k <= 0) return;
    Lookup L;
    if (!lookup_begin(&L, ids, n, v, k)) {   /* a product a position */
        for (int64_t i = 0; i < n; i++) {
            int64_t r = id_row(ids[i], v);
            if (r >= 0 && d > 0)
                nnl_sgemm(0, 0, 1, k, d, 1.0f, table + r * d, d, w, k, 0.0f, y + i * k, k);
            else memset(y + i * k, 0, sizeof(float) * (size_t)k);
        }
        if (ep) ep(ep_ctx, 0, n * k);
        return;
    }
    for (int64_t i = 0; L.bad > 0 && i < n; i++)   /* ids outside the table: zeros */
        if (L.slot[i] < 0) {
            memset(y + i * k, 0, sizeof(float) * (size_t)k);
            if (ep) ep(ep_ctx, i * k, (i + 1) * k);
        }
    if (L.u > 0) {
        lookup_chains(&L, n);
        Spread sp = {&L, L.t, y, k, ep, ep_ctx};
        nnl_sgemm_rows(0, 0, L.u, k, d, 1.0f, table, d, L.uniq, w, k, 0.0f, L.t, spread_block,
                       (const NnlCtx *)(const void *)&sp);
    }
    lookup_end(&L);
}

void nnl_embed_wt(const float *table, const float *ids, const float *s, float *dw, int64_t n, int64_t v,
                  int64_t d, int64_t k)
{
    if (d <= 0 || k <= 0) return;
    Lookup L;
    if (n <= 0 || !lookup_begin(&L, ids, n, v, 0)) {   /* an outer product a distinct id */
        memset(dw, 0, sizeof(float) * (size_t)(d * k));
        for (int64_t i = 0, q = 0; i < n; i++) {
            int64_t r = first_at(ids, i, v);
            if (r < 0) continue;
            const float *x = table + r * d, *sq = s + q++ * k;
            for (int64_t p = 0; p < d; p++)
                for (int64_t j = 0; j < k; j++) dw[p * k + j] += x[p] * sq[j];
        }
        return;
    }
    if (L.u > 0) nnl_sgemm_rows(1, 0, d, k, L.u, 1.0f, table, d, L.uniq, s, k, 0.0f, dw, NULL, NULL);
    else memset(dw, 0, sizeof(float) * (size_t)(d * k));
    lookup_end(&L);
}

/* dw's rows [lo, hi) zeroed (all, or those `touched` marks, the marks then cleared), then
 * the rows of p (u x d) written to their ids' rows among them, and marked. */
static void put_rows(float *dw, int64_t d, int64_t lo, int64_t hi, int all, unsigned char *touched,
                     const Lookup *L, const float *p)
{
    clear_rows(dw, d, lo, hi, all, touched);
    for (int64_t q = 0; L && q < L->u; q++) {
        int64_t r = L->uniq[q];
        if (r < lo || r >= hi) continue;
        memcpy(dw + r * d, p + q * d, sizeof(float) * (size_t)d);
        if (touched) touched[r] = 1;
    }
}

static void embed_dw_mm(const float *s, const float *ids, const float *w, float *dw, int64_t n, int64_t v,
                        int64_t d, int64_t k, int all, unsigned char *touched)
{
    Lookup L;
    if (n <= 0 || k <= 0) {   /* no positions, or products over nothing: zeros */
        put_rows(dw, d, 0, v, all, touched, NULL, NULL);
        return;
    }
    if (!lookup_begin(&L, ids, n, v, d)) {   /* each distinct id's row of S w^T written */
        put_rows(dw, d, 0, v, all, touched, NULL, NULL);
        for (int64_t i = 0, q = 0; i < n; i++) {
            int64_t r = first_at(ids, i, v);
            if (r < 0) continue;
            const float *sq = s + q++ * k;
            for (int64_t j = 0; j < d; j++) {
                float acc = 0.0f;
                for (int64_t c = 0; c < k; c++) acc += sq[c] * w[j * k + c];
                dw[r * d + j] = acc;
            }
            if (touched) touched[r] = 1;
        }
        return;
    }
    if (L.u > 0) nnl_sgemm(0, 1, L.u, d, k, 1.0f, s, k, w, k, 0.0f, L.t, d);
    int nt = rt_threads_for((double)L.u * d, 1 << 15, v);
    if (nt <= 1) {
        put_rows(dw, d, 0, v, all, touched, &L, L.t);
    } else {
        #pragma omp parallel num_threads(rt_threads())
        {
            int64_t lo, hi;
            rt_share(v, nt, &lo, &hi);
            if (lo < hi) put_rows(dw, d, lo, hi, all, touched, &L, L.t);
        }
    }
    lookup_end(&L);
}

void nnl_embedding_dw_mm(const float *s, const float *ids, const float *w, float *dw, int64_t n, int64_t v,
                         int64_t d, int64_t k, float *rows, const NnlCtx *ctx)
{
    if (v <= 0 || d <= 0) return;
    if (!rows) embed_dw_mm(s, ids, w, dw, n, v, d, k, 1, NULL);
    else embed_dw_mm(s, ids, w, dw, n, v, d, k, marks_stale(rows, ctx), (unsigned char *)(rows + 4));
}
