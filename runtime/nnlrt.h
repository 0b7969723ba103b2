/* nnlrt.h — the NNL runtime's one public header, and the ABI between code that nnlc
 * generates and the runtime (libnnlrt.a). In: a model descriptor and step functions that
 * the generated object defines. Out: instances with an arena, parameter initialization,
 * data loading, the training loop and CLI of generated executables, and the kernels the
 * generated code calls (parallel-for, GEMM, row softmax, reductions).
 * Runtime functions return a status and set a message; they never exit. */
#ifndef NNLRT_H
#define NNLRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below or a kernel signature changes. Generated objects store
 * the version they were built for in NnlModelDesc.abi_version; nnl_create refuses others.
 * (17: nnl_conv2d_maxpool's NNL_KEEP_CODES, nnl_conv2d_dw_maxpool_codes; 16: nnl_embed_sums, and nnl_embed_wt and nnl_embedding_dw_mm read its sums, not dy; 15: NnlModelDesc.finite_off, ntrain_floats; 14: nnl_reduce_sum_pro; 13: nnl_conv2d_ep, nnl_conv2d_dx_ep; 12: nnl_layer_norm_rows_dx_ep's sums; 11: the row kernels' epilogues, nnl_*_rows_ep; 10: NnlCtx.entry, nnl_conv2d_maxpool; 9: nnl_layer_norm_rows_dx's gamma; 8:
 * nnl_sgemm_batched[_ep]'s tri, nnl_softmax_rows_dx.) */
#define NNL_ABI_VERSION 17
#define NNL_MAX_RANK 8

/* ===== the context every generated function receives ===== */

/* Arena layout of an instance (all sizes and offsets count floats):
 *   [0, fixed_floats)                       parameters, gradients, optimizer state, scalars
 *   [fixed_floats, fixed + per_sample*maxB) batch-scaled tensors: a tensor whose plan offset
 *                                           is `off` (per-sample units) starts at
 *                                           fixed_floats + off * max_batch.
 * The arena is allocated once at create time, 64-byte aligned, and never resized. */
typedef struct NnlCtx {
    float *arena;
    int64_t batch;       /* rows in this call, 1 <= batch <= max_batch */
    int64_t max_batch;   /* fixed at create time */
    float lr;            /* learning rate of this step (after any schedule) */
    int64_t step;        /* optimizer steps already taken; Adam's t is step + 1 */
    uint64_t seed;       /* base seed; reserved for dropout */
    int64_t entry;       /* the entry point running: 0 forward, 1 loss, 2 grad, 3 train_step
                            (each sets it as it starts) */
    /* runtime-only fields (generated code reads the ones above by position) */
    uint64_t grad_gen;   /* bumped when the gradients are handed out (nnl_grad_data): an
                            embedding gradient then zeroes all its rows again */
} NnlCtx;

/* A generated loop body over [lo, hi). nnl_parallel_for splits [0, n) into contiguous
 * chunks, one per thread, in a fixed way for a given thread count (determinism). */
typedef void (*NnlKernelFn)(const NnlCtx *ctx, int64_t lo, int64_t hi);
/* A generated entry point: forward, loss, gradient or training step on ctx->batch rows. */
typedef void (*NnlStepFn)(NnlCtx *ctx);

/* ===== kernels called by generated code (kernels.c, gemm.c, parallel.c) ===== */

void nnl_parallel_for(NnlKernelFn fn, const NnlCtx *ctx, int64_t n);
/* nnl_parallel_for over elements that each cost `weight` plain ones (the compiler's
 * estimate: transcendental functions weigh more), threads sized by n * weight. */
void nnl_parallel_for_work(NnlKernelFn fn, const NnlCtx *ctx, int64_t n, int weight);
/* Loops of fewer elements run serially in generated code (a region costs more). */
#define NNL_PAR_MIN_ELEMS 16384
/* fn over [bounds[0], bounds[nseg]) in one parallel region, each segment
 * [bounds[s], bounds[s + 1]) split between the threads as nnl_parallel_for splits it (the
 * optimizer update, a segment a parameter: each thread takes the part of a gradient that
 * the GEMM which wrote it split the same way). */
void nnl_parallel_for_segments(NnlKernelFn fn, const NnlCtx *ctx, const int64_t *bounds, int nseg);
/* The optimizer update: nnl_parallel_for_segments, with split_fn in each thread when
 * the block is split between threads (it writes the parameters with non-temporal stores;
 * a store fence follows it on each thread). */
void nnl_update_segments(NnlKernelFn fn, NnlKernelFn split_fn, const NnlCtx *ctx, const int64_t *bounds,
                         int nseg);

/* Row-major C = alpha * op(A) @ op(B) + beta * C, op(X) = X or X^T (trans != 0).
 * op(A): (m, k), op(B): (k, n), C: (m, n); lda/ldb/ldc are row strides. */
void nnl_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
               float *c, int64_t ldc);
/* nnl_sgemm with C contiguous (ldc = n) and an epilogue: ep(ep_ctx, lo, hi), a loop
 * kernel over C's flat indices, runs on each block of C as soon as it is final (on the
 * thread that computed it), instead of in a pass of its own after the product. */
void nnl_sgemm_ep(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                  float *c, NnlKernelFn ep, const NnlCtx *ep_ctx);
/* nnl_sgemm (with an epilogue where ep is not NULL: then ldc = n) whose B the caller
 * names by key (nonzero): B's values at every product naming it by the same key, on this
 * thread, until nnl_params_changed, are the same, so it is packed once for them all (an
 * RNN's recurrent weight, multiplied at every step). */
void nnl_sgemm_kept(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                    float *c, int64_t ldc, NnlKernelFn ep, const NnlCtx *ep_ctx, int64_t key);
/* Ends what nnl_sgemm_kept may assume of B's values: each optimizer update and every
 * entry point's run that follows a change of the parameters (or whose parameters the
 * caller may write: nnl_param_data) call it. */
void nnl_params_changed(void);

/* What a batched product may skip (a hint: NNL_TRI_NONE computes all of C): C_LOWER,
 * only C[i][j] with j <= i is read afterwards (tiles right of the diagonal may be left as
 * they were); A_LOWER, op(A)[i][p] is 0 for p > i; A_UPPER, 0 for p < i. Attention's
 * causal scores and the products with its softmax and the softmax's adjoint. */
enum { NNL_TRI_NONE = 0, NNL_TRI_C_LOWER = 1, NNL_TRI_A_LOWER = 2, NNL_TRI_A_UPPER = 3 };
/* nnl_sgemm on each of `batch` matrices: A + i sa, B + i sb, C + i sc, alpha 1, beta 0.
 * Parallel over the matrices (each one serial), or over one matrix when batch is 1. */
void nnl_sgemm_batched(int trans_a, int trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                       const float *a, int64_t lda, int64_t sa, const float *b, int64_t ldb,
                       int64_t sb, float *c, int64_t ldc, int64_t sc, int tri);
/* nnl_sgemm_batched with each C contiguous (ldc = n, sc = m n) and an epilogue over the
 * flat indices of all of them (matrix i's from i m n), as nnl_sgemm_ep. */
void nnl_sgemm_batched_ep(int trans_a, int trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                          const float *a, int64_t lda, int64_t sa, const float *b, int64_t ldb,
                          int64_t sb, float *c, NnlKernelFn ep, const NnlCtx *ep_ctx, int tri);
/* Both: outer x inner matrices, matrix (o, j) at A + o sa + j sa_i, B + o sb + j sb_i,
 * C + o sc + j sc_i (heads of attention read and written where they lie in the tensor of
 * all heads); with an epilogue (ep not NULL) C must be contiguous: ldc = n, sc_i = m n,
 * sc = inner m n. */
void nnl_sgemm_batched_v(int trans_a, int trans_b, int64_t outer, int64_t inner, int64_t m, int64_t n,
                         int64_t k, const float *a, int64_t lda, int64_t sa, int64_t sa_i, const float *b,
                         int64_t ldb, int64_t sb, int64_t sb_i, float *c, int64_t ldc, int64_t sc,
                         int64_t sc_i, NnlKernelFn ep, const NnlCtx *ep_ctx, int tri);

/* The adjoint of an embedding lookup: dy: (n, d), ids: (n) -> dw: (v, d), dw[j] = sum of
 * dy[i] over ids[i] == j, in the order of i (the same sums on any thread count); ids
 * outside [0, v) add nothing. */
void nnl_embedding_dw(const float *dy, const float *ids, float *dw, int64_t n, int64_t v,
                      int64_t d);
/* nnl_embedding_dw into a gradient that nothing else writes, with `rows` (4 + ceil(v/4)
 * floats of the arena, zero at first): the marks of the rows the call before wrote. Only
 * those rows are zeroed, not the table, unless ctx->grad_gen moved since (the gradients
 * were handed out for writing): then every row is. The same sums as nnl_embedding_dw. */
void nnl_embedding_dw_rows(const float *dy, const float *ids, float *dw, int64_t n, int64_t v,
                           int64_t d, float *rows, const NnlCtx *ctx);
/* A lookup that a product reads, y = table[ids] w (table: (v, d), ids: (n), w: (d, k)),
 * its products taken over the distinct ids only (runtime/embedding.c): y: (n, k), then
 * ep over y's flat indices (ep may be NULL); ids outside [0, v) read zeros. */
void nnl_embed_mm(const float *table, const float *ids, const float *w, float *y, int64_t n, int64_t v,
                  int64_t d, int64_t k, NnlKernelFn ep, const NnlCtx *ep_ctx);
/* What both its adjoints read: s (n, k), row q the sum of the rows dy[i] (dy: (n, k))
 * whose id is the q-th distinct id of ids in the order they first appear (ids outside
 * [0, v) left out), summed in the order of i; the rows past the distinct ids are left
 * as they were. */
void nnl_embed_sums(const float *dy, const float *ids, float *s, int64_t n, int64_t v, int64_t k);
/* Its weight's gradient from those sums: dw (d, k) = table[ids]^T dy, as
 * table[distinct]^T s. */
void nnl_embed_wt(const float *table, const float *ids, const float *s, float *dw, int64_t n, int64_t v,
                  int64_t d, int64_t k);
/* Its table's gradient from those sums: dw (v, d), dw[j] = (sum of dy[i] over ids[i] ==
 * j) w^T, the row of s for j times w^T; every other row zero. rows: as
 * nnl_embedding_dw_rows, or NULL (every row of dw written). */
void nnl_embedding_dw_mm(const float *s, const float *ids, const float *w, float *dw, int64_t n, int64_t v,
                         int64_t d, int64_t k, float *rows, const NnlCtx *ctx);

/* A stack along a middle axis: y (outer, steps, inner), xs[t] (outer, inner),
 * y[o, t, :] = xs[t][o, :]; split by o between threads (each thread copies the batch
 * rows it wrote in the kernels before). */
void nnl_stack(float *y, const float *const *xs, int64_t steps, int64_t outer, int64_t inner);

/* x, y: (rows, cols). y = softmax(x) or log_softmax(x) along cols. y may equal x.
 * flags: 1 log_softmax; 2 a causal softmax over rows (..., T, T), cols = T: row t over
 * its columns 0..t, the rest 0. */
void nnl_softmax_rows(const float *x, float *y, int64_t rows, int64_t cols, int flags);
/* Softmax's adjoint: y = softmax(x) (rows, cols), dy -> dx = scale y (dy - sum(dy y))
 * along cols; flags & 2: causal as nnl_softmax_rows (row t over columns 0..t, dx 0 after).
 * dx may be y or dy. */
void nnl_softmax_rows_dx(const float *y, const float *dy, float *dx, int64_t rows, int64_t cols,
                         float scale, int flags);
/* Layer norm's normalization of each row of x (rows, cols): y = (x - mean) r with
 * r = 1 / sqrt(var + eps), mean and (biased) variance over the row; and its adjoint at
 * g = dy gamma (gamma (cols), or NULL: g = dy), dx = r (g - mean(g) - y mean(g y)), mean
 * and r recomputed from x. */
void nnl_layer_norm_rows(const float *x, float *y, int64_t rows, int64_t cols, float eps);
void nnl_layer_norm_rows_dx(const float *x, const float *dy, const float *gamma, float *dx, int64_t rows,
                            int64_t cols, float eps);
/* The four above with an epilogue (ep NULL: none): ep(ep_ctx, lo, hi) over flat indices
 * of the output, run on each few rows a thread has just written (the elementwise loop
 * that reads them: layer norm's scale and shift). */
void nnl_softmax_rows_ep(const float *x, float *y, int64_t rows, int64_t cols, int flags, NnlKernelFn ep,
                         const NnlCtx *ep_ctx);
void nnl_softmax_rows_dx_ep(const float *y, const float *dy, float *dx, int64_t rows, int64_t cols, float scale,
                            int flags, NnlKernelFn ep, const NnlCtx *ep_ctx);
void nnl_layer_norm_rows_ep(const float *x, float *y, int64_t rows, int64_t cols, float eps, NnlKernelFn ep,
                            const NnlCtx *ep_ctx);
/* ... and with dgamma, dbeta (or NULL): scale_g times the sum of dy xhat and scale_b
 * times the sum of dy over the rows, gamma's and beta's gradients, summed as
 * nnl_reduce_sum sums over rows (the same bits), from the rows while they are in cache. */
void nnl_layer_norm_rows_dx_ep(const float *x, const float *dy, const float *gamma, float *dx, int64_t rows,
                               int64_t cols, float eps, NnlKernelFn ep, const NnlCtx *ep_ctx, float *dgamma,
                               float scale_g, float *dbeta, float scale_b);

/* x: (outer, r, inner) -> y: (outer, inner), y = scale * sum over r. Summation order is
 * fixed (independent of the thread count). */
void nnl_reduce_sum(const float *x, float *y, int64_t outer, int64_t r, int64_t inner,
                    float scale);
/* ... with a prologue: pro(pro_ctx, lo, hi) computes x's flat indices [lo, hi) (the loop
 * that makes x), run on each block of x just before the block is summed, every index
 * once; the same sums as the loop then nnl_reduce_sum. pro NULL: none. */
void nnl_reduce_sum_pro(const float *x, float *y, int64_t outer, int64_t r, int64_t inner, float scale,
                        NnlKernelFn pro, const NnlCtx *pro_ctx);

/* x: (rows, cols), labels: (rows) class indices stored as floats -> y: (rows),
 * y[i] = x[i, labels[i]]. A label outside [0, cols) yields 0 (checked at load time). */
void nnl_pick(const float *x, const float *labels, float *y, int64_t rows, int64_t cols);
/* The adjoint of nnl_pick: dx: (rows, cols) all zero but dx[i, labels[i]] = dy[i]. */
void nnl_unpick(const float *dy, const float *labels, float *dx, int64_t rows, int64_t cols);

/* 2-D convolution, NCHW: x (n, c, h, w), weights (k, c / groups, r, s), y (n, k, p, q)
 * with p = (h + pad_top + pad_bottom - dil_h (r - 1) - 1) / stride_h + 1 (q alike);
 * y[n, k, i, j] = sum over c, u, v of x[n, c, i sh - pt + u dh, j sw - pl + v dw] w[k, c, u, v]
 * (cross-correlation, as every framework computes it). The bottom/right padding is
 * implied by p and q. The batch size comes per call: the rest is fixed at compile time. */
typedef struct NnlConv {
    int64_t c, h, w, k, r, s, p, q;
    int64_t stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, groups;
} NnlConv;
void nnl_conv2d(const NnlConv *cv, int64_t n, const float *x, const float *wt, float *y);
/* dx = the adjoint of nnl_conv2d in x (overwritten), dw = in the weights (overwritten). */
void nnl_conv2d_dx(const NnlConv *cv, int64_t n, const float *dy, const float *wt, float *dx);
void nnl_conv2d_dw(const NnlConv *cv, int64_t n, const float *x, const float *dy, float *dw);
/* nnl_conv2d and nnl_conv2d_dx with an epilogue: ep(ep_ctx, lo, hi) run over the flat
 * indices [lo, hi) of the output, on each (image, group) block of it as soon as that
 * block is computed (a bias, an activation, a residual add while the block is in cache);
 * ep NULL: none. */
void nnl_conv2d_ep(const NnlConv *cv, int64_t n, const float *x, const float *wt, float *y,
                   NnlKernelFn ep, const NnlCtx *ep_ctx);
void nnl_conv2d_dx_ep(const NnlConv *cv, int64_t n, const float *dy, const float *wt, float *dx,
                      NnlKernelFn ep, const NnlCtx *ep_ctx);

/* 2-D pooling, NCHW: x (n, c, h, w) -> y (n, c, p, q), window kh x kw, strides and
 * top/left padding as above; padded cells never win a max and are left out of an
 * average (count_include_pad = false). */
typedef struct NnlPool {
    int64_t c, h, w, p, q, kh, kw, stride_h, stride_w, pad_top, pad_left;
} NnlPool;
void nnl_maxpool2d(const NnlPool *pl, int64_t n, const float *x, float *y);
/* dx (overwritten): dy routed to the first maximum of each window (x and y as forward). */
void nnl_maxpool2d_dx(const NnlPool *pl, int64_t n, const float *x, const float *dy, float *dx);
void nnl_avgpool2d(const NnlPool *pl, int64_t n, const float *x, float *y);
void nnl_avgpool2d_dx(const NnlPool *pl, int64_t n, const float *dy, float *dx);
/* nnl_conv2d_dw(cv, n, x, dy, dw) with dy = nnl_maxpool2d_dx(pl, n, cy, pdy): the weight
 * gradient of a convolution whose output cy is max-pooled, from the pooled gradient pdy,
 * without dy in memory (each image's is made in a per-thread buffer just before its
 * weight gradient). The same bits as the two calls. */
void nnl_conv2d_dw_maxpool(const NnlConv *cv, const NnlPool *pl, int64_t n, const float *x,
                           const float *cy, const float *pdy, float *dw);
/* cy = nnl_conv2d(x, wt) and y = nnl_maxpool2d(cy), the same bits, in one pass where the
 * pooling is 2x2 with stride 2 and the filters are thin (conv.c). keep_cy 0: nothing
 * reads cy afterwards, which is then memory the call may leave unwritten.
 * NNL_KEEP_CODES (2x2 windows, stride 2, no padding only): cy's memory holds instead the
 * pooling's window codes, one byte a window in y's order (n c p q bytes): the cell (0..3,
 * row-major) that nnl_maxpool2d_dx gives the window's gradient, which
 * nnl_conv2d_dw_maxpool_codes reads in place of cy. */
enum { NNL_KEEP_CODES = 2 };
void nnl_conv2d_maxpool(const NnlConv *cv, const NnlPool *pl, int64_t n, const float *x,
                        const float *wt, float *cy, int keep_cy, float *y);
/* nnl_conv2d_dw_maxpool from the window codes nnl_conv2d_maxpool kept: the same bits. */
void nnl_conv2d_dw_maxpool_codes(const NnlConv *cv, const NnlPool *pl, int64_t n, const float *x,
                                 const uint8_t *codes, const float *pdy, float *dw);

/* ===== the model descriptor a generated object defines ===== */

typedef enum {
    NNL_INIT_ZEROS, NNL_INIT_ONES, NNL_INIT_CONST,    /* const: a */
    NNL_INIT_UNIFORM,                                 /* U[a, b] */
    NNL_INIT_NORMAL,                                  /* N(a, b^2) */
    NNL_INIT_GLOROT_UNIFORM, NNL_INIT_GLOROT_NORMAL,  /* Glorot & Bengio 2010 */
    NNL_INIT_HE_UNIFORM, NNL_INIT_HE_NORMAL,          /* He et al. 2015 */
} NnlInit;

typedef struct NnlParam {
    const char *name;                /* "dense_1.W": layer instance, dot, parameter */
    int rank;
    int64_t shape[NNL_MAX_RANK];
    int64_t offset;                  /* floats from the start of the parameter block */
    int64_t size;                    /* product of shape */
    int init;                        /* NnlInit */
    float a, b;
    int64_t fan_in, fan_out;
} NnlParam;

/* SGD (momentum), Adam (Kingma & Ba 2015), AdamW (decoupled weight decay, Loshchilov &
 * Hutter 2019), RMSprop (Hinton; rho is kept in beta2). */
typedef enum { NNL_OPT_SGD, NNL_OPT_ADAM, NNL_OPT_ADAMW, NNL_OPT_RMSPROP } NnlOptKind;

/* The learning rate at a step: lr times a linear warm-up over the first `warmup` steps,
 * times the schedule: STEP multiplies by gamma every `every` epochs, EXPONENTIAL by
 * gamma each epoch, COSINE anneals to min_lr over all planned steps (Loshchilov &
 * Hutter 2017). Computed by nnl_schedule_lr; the CLI sets it before every step. */
typedef enum { NNL_SCHED_CONSTANT, NNL_SCHED_STEP, NNL_SCHED_EXPONENTIAL, NNL_SCHED_COSINE } NnlSchedKind;
typedef struct NnlSchedule {
    int kind;                        /* NnlSchedKind */
    int64_t warmup, every;
    float gamma, min_lr;
} NnlSchedule;

typedef struct NnlOptim {
    int kind;                        /* NnlOptKind */
    float lr, momentum, beta1, beta2, eps, weight_decay;
} NnlOptim;

typedef enum {
    NNL_DATA_NONE,
    NNL_DATA_IDX,        /* path: images (u8, any rank >= 1 per sample), path2: labels (u8) */
    NNL_DATA_CSV,        /* path: CSV with a header; target: label column name */
    NNL_DATA_BLOBS,      /* n samples of `classes` Gaussian blobs in in_size dims */
    NNL_DATA_NPY,        /* path: features (N, input...) .npy, path2: labels (N[, label]) .npy */
    NNL_DATA_TEXT,       /* path: a text file, tokenized (runtime/data_text.c): plain text cut
                          * into windows, or `label<TAB>text` lines; see the TEXT fields */
} NnlDataKind;

/* How TEXT data is split into tokens: Unicode characters, or lower-cased words. */
typedef enum { NNL_TOK_CHAR, NNL_TOK_WORD } NnlTokens;

typedef struct NnlDataSpec {
    int kind;                        /* NnlDataKind */
    const char *name;                /* "fashion.train", for messages */
    const char *path, *path2;        /* relative paths resolve against --data DIR, else
                                      * against base_dir */
    const char *base_dir;            /* the .nnl file's directory at compile time */
    const char *target;              /* CSV label column */
    float scale;                     /* features are multiplied by this (1 = none) */
    int64_t n;                       /* BLOBS: samples */
    int classes;                     /* BLOBS: number of blobs */
    float spread;                    /* BLOBS: standard deviation around each centre */
    uint64_t seed;                   /* BLOBS: generator seed */
    float from, to;                  /* the samples [from n, to n) of the source, in file
                                      * order: a validation split (0 and 1: all) */
    int normalize;                   /* standardize each feature by the training set's
                                      * mean and standard deviation */
    /* TEXT: token ids lie in [0, vocab): 0 pads, 1 is the unknown token, the rest are
     * the training file's tokens by frequency. Plain text (labelled 0) gives samples of
     * `window` tokens starting every `stride` tokens, labelled by the `window` tokens
     * one further; labelled text gives one sample of `length` ids a line (left-padded,
     * cut after `length`) with its class: the index of its label in the comma-separated
     * `labels`, or the label itself as an integer when labels is NULL. */
    int tokens;                      /* NnlTokens */
    int labelled;
    int64_t vocab, window, stride, length;
    const char *labels;
} NnlDataSpec;

/* How outputs and labels are read for metrics. */
typedef enum {
    NNL_TASK_MULTICLASS, /* output: (classes) logits or probabilities; label: class index */
    NNL_TASK_BINARY,     /* output: (1); label: 0/1; positive when output > threshold */
    NNL_TASK_REGRESSION, /* output and label: (label_size) real vectors */
} NnlTask;

enum { /* NnlTrain.metrics bits */
    NNL_METRIC_ACCURACY = 1 << 0,
    NNL_METRIC_MSE = 1 << 1,
    NNL_METRIC_MAE = 1 << 2,
    NNL_METRIC_PRECISION = 1 << 3,   /* classifiers: macro average and per class */
    NNL_METRIC_RECALL = 1 << 4,
    NNL_METRIC_F1 = 1 << 5,
    NNL_METRIC_AUC = 1 << 6,         /* binary outputs: ROC-AUC */
    NNL_METRIC_CONFUSION = 1 << 7,   /* the confusion matrix, printed by eval */
};

typedef struct NnlTrain {
    int64_t epochs, batch;
    int shuffle;
    uint64_t seed;
    NnlOptim optim;
    int task;                        /* NnlTask */
    float threshold;                 /* BINARY: 0 for logits, 0.5 for probabilities */
    unsigned metrics;                /* NNL_METRIC_* reported on the evaluation sets */
    NnlDataSpec data;                /* the training set (kind NONE when absent) */
    NnlDataSpec eval;                /* `evaluate on`: kind NONE when absent */
    int eval_every_epoch;
    NnlSchedule schedule;
    float clip_norm;                 /* > 0: gradients scaled to this global L2 norm at most */
    const char *checkpoint;          /* where train saves, relative to the working
                                      * directory; NULL: <model name lowercased>.safetensors */
} NnlTrain;

typedef struct NnlModelDesc {
    int abi_version;                 /* NNL_ABI_VERSION */
    const char *name;                /* the model's name in the .nnl file */
    const char *source;              /* the .nnl file it was compiled from */

    int in_rank;                     /* per-sample shapes: the batch dimension is implied */
    int64_t in_shape[NNL_MAX_RANK], in_size;
    int out_rank;
    int64_t out_shape[NNL_MAX_RANK], out_size;
    int64_t label_size;              /* floats per sample; 1 for class indices */

    int64_t fixed_floats, per_sample_floats;           /* the arena, see NnlCtx */
    int64_t input_off, label_off, output_off;          /* batch region, per-sample units */
    int64_t loss_off;                                  /* fixed region: one float */
    int64_t param_off, grad_off, nparam_floats;        /* fixed region: contiguous blocks */
    int nparams;
    const NnlParam *params;

    NnlStepFn forward;               /* input -> output */
    NnlStepFn loss;                  /* input, label -> output, loss */
    NnlStepFn grad;                  /* ... and gradients in the gradient block */
    NnlStepFn train_step;            /* ... and the optimizer update of the parameters */
    /* Optimizer state (Adam's moments, SGD's velocity): [state_off, state_off+state_floats)
     * in the fixed region, zeroed by nnl_create and nnl_init_params; the generated
     * train_step owns its layout. */
    int64_t state_off, state_floats;

    NnlTrain train;

    /* What the entry points run, for `./model bench --profile`: kernel i is
     * kernels[i](ctx), shown as kernel_desc[i] (a line of --emit=fused), and entry point
     * e (0 forward, 1 loss, 2 grad, 3 train_step) runs it, in the order of i, when bit e
     * of kernel_entries[i] is set: calling those in order is what the entry point does. */
    int nkernels;
    const NnlStepFn *kernels;
    const char *const *kernel_desc;
    const unsigned char *kernel_entries;

    /* train_step's update sets the int32 at arena float finite_off (fixed region) to 1
     * where a gradient or a new value of the first ntrain_floats of the parameter block
     * (the trained parameters; buffers follow) is NaN or Inf, else 0; finite_off 0: no
     * such flag (runtime/nancheck.c then reads every value). */
    int64_t finite_off, ntrain_floats;
} NnlModelDesc;

/* The learning rate of the step after `step` steps taken, in epoch `epoch` (0-based) of
 * a run planned to take `total` steps (schedule.c). */
float nnl_schedule_lr(const NnlTrain *t, float base_lr, int64_t step, int64_t epoch, int64_t total);
/* The sum of squares of x[0..n), in double, in a fixed order (the clip norm). */
double nnl_sum_squares(const float *x, int64_t n);

/* ===== instances (instance.c): what the C API of a generated object wraps ===== */

typedef struct NnlModel NnlModel;

/* NULL only when memory runs out or the ABI differs; then *err (if given) says why. */
NnlModel *nnl_create(const NnlModelDesc *d, int64_t max_batch, const char **err);
void nnl_destroy(NnlModel *m);
/* Fills every parameter by its initializer from one seeded generator (same seed, same
 * parameters, on any thread count), and zeroes optimizer state and the step count. */
void nnl_init_params(NnlModel *m, uint64_t seed);
void nnl_set_threads(NnlModel *m, int threads);   /* 0: OpenMP's default */
int64_t nnl_max_batch(const NnlModel *m);

/* What every instance function returns: NNL_OK, or a negative code with
 * nnl_last_error(m) saying why in one line. */
typedef enum {
    NNL_OK = 0,
    NNL_ERR_ARG = -1,            /* a NULL pointer, an index or a size out of range */
    NNL_ERR_BATCH = -2,          /* batch outside [1, max_batch] */
    NNL_ERR_IO = -3,             /* a file could not be opened, read or written */
    NNL_ERR_FORMAT = -4,         /* a checkpoint that is damaged or belongs to another model */
    NNL_ERR_NOMEM = -5,          /* out of memory */
    NNL_ERR_UNSUPPORTED = -6,    /* the entry point is not in this object (nnlc --inference) */
} NnlStatus;

/* Each returns NNL_OK or a negative NnlStatus with nnl_last_error(m) set.
 * x: (batch, in_size), y: (batch, label_size), out: (batch, out_size). */
int nnl_forward(NnlModel *m, const float *x, int64_t batch, float *out);
int nnl_loss(NnlModel *m, const float *x, const float *y, int64_t batch, float *loss);
int nnl_grad(NnlModel *m, const float *x, const float *y, int64_t batch, float *loss);
int nnl_train_step(NnlModel *m, const float *x, const float *y, int64_t batch, float *loss);
void nnl_set_lr(NnlModel *m, float lr);
int64_t nnl_step_count(const NnlModel *m);

int nnl_param_count(const NnlModel *m);
const NnlParam *nnl_param_info(const NnlModel *m, int i);
int nnl_param_index(const NnlModel *m, const char *name);   /* -1 when absent */
float *nnl_param_data(NnlModel *m, int i);                   /* live, writable */
float *nnl_grad_data(NnlModel *m, int i);                    /* after nnl_grad; writable */
const char *nnl_last_error(const NnlModel *m);

/* ===== what C applications add to an instance (api.c) ===== */

/* Parameters, optimizer state and step count from a safetensors checkpoint written by
 * `./model train` or nnl_save; m is unchanged on error (NNL_ERR_IO, NNL_ERR_FORMAT). */
int nnl_load(NnlModel *m, const char *path);
/* Writes them atomically (a temporary file renamed over path). */
int nnl_save(NnlModel *m, const char *path);
/* The loss entry over n rows in batches of at most max_batch: *loss the mean loss, and
 * *accuracy (classifiers; NaN for regression) the fraction of rows whose prediction is
 * the label. x: (n, in_size), y: (n, label_size). Either result pointer may be NULL. */
int nnl_evaluate(NnlModel *m, const float *x, const float *y, int64_t n, float *loss,
                 float *accuracy);
/* idx: (n) the order in which `./model train` visits the n training rows in epoch
 * `epoch` (1-based) when the train block says `shuffle`: a Fisher-Yates shuffle seeded by
 * (seed, epoch) alone. Replaying it from C reproduces the executable's training. */
void nnl_epoch_order(int64_t *idx, int64_t n, uint64_t seed, int64_t epoch);
uint64_t nnl_seed(const NnlModel *m);    /* the seed of the last nnl_init_params */

/* ===== the CLI of a generated executable (cli.c) ===== */

/* `./model train|eval|predict|--help ...`: the main() of every generated executable. */
int nnl_cli_main(const NnlModelDesc *d, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
