/* ir.h — the compiler's one header: the tensor graph (ir.c), sema (sema*.c, sharing sema.h), autodiff
 * (autodiff.c), rewrites (rewrite.c), fusion (fuse.c), the memory plan (plan.c), LLVM codegen (codegen.c).
 * In: the AST of lang/ast.h. Out: an object file whose descriptor and step functions
 * follow runtime/nnlrt.h. Sections follow the pipeline. */
#ifndef NNL_IR_H
#define NNL_IR_H

#include "ast.h"
#include "nnlrt.h"

/* ===== ir.c: shapes, nodes, graphs ===== */

/* A tensor shape. When `batched`, d[0] is the run-time batch dimension B (its stored
 * value is ignored); every other dimension is static. Rank 0 is a scalar. */
typedef struct Shape {
    int rank;
    bool batched;
    int64_t d[NNL_MAX_RANK];
} Shape;

/* Op kinds: how a node is lowered, and what fusion may do with it. */
enum {
    K_LEAF,    /* no code: input, label, parameter */
    K_ELEM,    /* one value per output element at the same flat index: fusable */
    K_GEMM,    /* nnl_sgemm */
    K_REDUCE,  /* nnl_reduce_sum */
    K_ROW,     /* nnl_softmax_rows */
    K_CALL,    /* another runtime kernel: pick / unpick */
    K_UPDATE,  /* optimizer update over the whole parameter block */
};

/* The primitive table: name, operands, kind. A new primitive needs a row here, a shape
 * rule (ir.c), a lowering (codegen.c), a VJP rule (autodiff.c) and a gradient check. */
#define IR_OPS(X)                                                               \
    X(INPUT, 0, K_LEAF)     /* the model's input, f32[B, ...] */                 \
    X(LABEL, 0, K_LEAF)     /* the training target, f32[B, ...] */               \
    X(PARAM, 0, K_LEAF)     /* a trainable parameter, lives in the param block */\
    X(CONST, 0, K_ELEM)     /* fval broadcast to shape */                        \
    X(ADD, 2, K_ELEM) X(SUB, 2, K_ELEM) X(MUL, 2, K_ELEM) X(DIV, 2, K_ELEM)      \
    X(MAX, 2, K_ELEM)                                                           \
    X(NEG, 1, K_ELEM) X(EXP, 1, K_ELEM) X(LOG, 1, K_ELEM) X(SQRT, 1, K_ELEM)     \
    X(RELU, 1, K_ELEM) X(SIGMOID, 1, K_ELEM) X(TANH, 1, K_ELEM)                 \
    X(SOFTPLUS, 1, K_ELEM) X(ABS, 1, K_ELEM)                                    \
    X(GELU, 1, K_ELEM)      /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */\
    X(GELU_DX, 1, K_ELEM)   /* GELU's derivative at x */                         \
    X(STEP, 1, K_ELEM)      /* x > 0 ? 1 : 0, the derivative of relu */          \
    X(SIGN, 1, K_ELEM)                                                          \
    X(GE, 2, K_ELEM)        /* a >= b ? 1 : 0, the derivative of max */           \
    X(RESHAPE, 1, K_ELEM)   /* same elements, new shape: identity on flat index */\
    X(EXPAND, 1, K_ELEM)    /* broadcast in (viewed as `from`) to shape, times    \
                               scale (and / batch when div_batch) */             \
    X(MATMUL, 2, K_GEMM)    /* op(a) @ op(b), a and b flattened to 2-D */         \
    X(SUM, 1, K_REDUCE)     /* over axes [ax0, ax1), times scale (/ batch) */     \
    X(SOFTMAX, 1, K_ROW) X(LOG_SOFTMAX, 1, K_ROW) /* along the last axis; SOFTMAX \
                               with attr[0] = 1 over [.., T, T] is causal: row t \
                               over columns 0..t, 0 after */                     \
    X(NORMALIZE, 1, K_ROW)  /* (x - mean) / sqrt(var + eps) along the last axis,  \
                               eps in fval: layer norm without its scale, shift */\
    X(NORMALIZE_DX, 2, K_ROW) /* x, dy[, gamma] -> dx, NORMALIZE's adjoint at dy  \
                               (times gamma (n) when given; same eps) */          \
    X(SOFTMAX_DX, 2, K_ROW) /* y, dy -> fval y (dy - sum(dy y)), SOFTMAX's adjoint \
                               (y its output), causal as it (attr[0]) */          \
    X(PICK, 2, K_CALL)      /* x: (rows, C), label: (rows) -> (rows) */           \
    X(UNPICK, 2, K_CALL)    /* dy: (rows), label -> (rows, C), its adjoint */     \
    X(CONV2D, 2, K_CALL)    /* x (B, C, H, W), w (K, C/groups, R, S) -> (B, K, P, Q) */\
    X(CONV2D_DX, 2, K_CALL) /* dy, w -> dx: (B, C, H, W) */                      \
    X(CONV2D_DW, 2, K_CALL) /* x, dy -> dw: (K, C/groups, R, S) */               \
    X(MAXPOOL2D, 1, K_CALL) /* x (B, C, H, W) -> (B, C, P, Q) */                 \
    X(MAXPOOL2D_DX, 2, K_CALL) /* x, dy -> dx */                                 \
    X(AVGPOOL2D, 1, K_CALL) X(AVGPOOL2D_DX, 1, K_CALL) /* dy -> dx */            \
    X(CONCAT, 2, K_ELEM)    /* a, b joined along axis ax0 */                      \
    X(SLICE, 1, K_ELEM)     /* x[..., ax1 : ax1 + len, ...] along axis ax0 */      \
    X(UNSLICE, 1, K_ELEM)   /* the adjoint of SLICE: g placed at ax1, zeros around */\
    X(TAKE, 1, K_ELEM)      /* x[..., ax1, ...] of axis ax0, the axis dropped: one \
                               time step of a sequence (sema_scan.c) */          \
    X(STACK, -1, K_CALL)    /* nin operands of one shape stacked along a new axis \
                               ax0 (or joined along axis ax0 when the ranks are  \
                               equal): a scan's steps, linear in their number */ \
    X(DROPOUT, 0, K_ELEM)   /* a keep mask: 0 or 1/(1-rate) from a counter hash  \
                               of (seed, step, attr[0], index); fval = rate */   \
    X(EMA, 2, K_ELEM)       /* buffer, stat -> (1-m) buffer + m stat, written   \
                               over the buffer; fval = m; div_batch: stat times  \
                               n/(n-1), n = ax0 * batch (unbiased variance) */   \
    X(GATHER, 2, K_ELEM)    /* table (V, D), ids (...) -> (..., D): table rows;  \
                               an id outside [0, V) reads zeros */               \
    X(EMBED_DW, 2, K_CALL)  /* dy (..., D), ids (...) -> (V, D): rows summed */   \
    X(EMBED_MM, 3, K_CALL)  /* table (V, D), ids (...), w (D, K) -> (..., K):      \
                               GATHER then MATMUL, over the distinct ids once */  \
    X(EMBED_SUMS, 2, K_CALL) /* g (..., K), ids -> (..., K): g's rows summed per  \
                               distinct id (first appearances' order; the rows    \
                               past them unused), attr[0] = V: what EMBED_MM's     \
                               two adjoints read */                               \
    X(EMBED_DW_MM, 3, K_CALL) /* sums, ids, w -> (V, D): EMBED_MM's table adjoint, \
                               EMBED_DW of g w^T (as the sums' rows times w^T) */  \
    X(EMBED_WT, 3, K_CALL)  /* table, ids, sums -> (D, K): EMBED_MM's weight        \
                               adjoint, GATHER(table, ids)^T g (from the sums) */ \
    X(PERMUTE, 1, K_ELEM)   /* out axis k is in axis attr[k] */                   \
    X(BMM, 2, K_GEMM)       /* a (..., m, k) @ b (..., k, n), same leading axes,  \
                               op() per trans_a / trans_b */                     \
    X(WHERE, 3, K_ELEM)     /* c != 0 ? a : b, broadcast */                       \
    X(CAUSAL, 0, K_ELEM)    /* (..., T, T): 1 where column <= row, else 0 */      \
    X(SGD, 0, K_UPDATE) X(ADAM, 0, K_UPDATE)

typedef enum {
#define X(name, arity, kind) OP_##name,
    IR_OPS(X)
#undef X
    OP_COUNT
} Op;

/* views.c: a BMM's operands (0: A, 1: B) read in place where `on`: matrix (b, h) of
 * operand q at in[q] + off + b s + h s_i, its rows ld apart (h over the second axis of
 * a rank-4 product, s_i 0 for rank 3); k, the product's inner dimension. With `out`, the
 * node is a PERMUTE of the product (its axes still in attr, its shape the permute's)
 * that the product writes directly: matrix (b, h) at the node's memory (or, with `into`,
 * that STACK's) + c_off + b sc + h sc_i, rows ldc apart; m, n, inner the product's own. */
typedef struct BmmView {
    bool on[2];
    int64_t off[2], ld[2], s[2], s_i[2];
    int64_t k;
    bool out;
    int64_t m, n, inner, c_off, ldc, sc, sc_i;
    struct Node *into;
} BmmView;

typedef struct Node Node;
struct Node {
    int id;
    Op op;
    int nin;
    Node **in;              /* nin operands: in2 below, or an array of its own (STACK) */
    Node *in2[3];
    Shape shape;
    Span span;              /* the .nnl source this node came from */
    const char *name;       /* INPUT/LABEL/PARAM name, or NULL */

    double fval;            /* CONST value; SUM/EXPAND scale */
    bool div_batch;         /* SUM/EXPAND: also divide by the run-time batch */
    int ax0, ax1;           /* SUM: reduced axes [ax0, ax1) */
    int trans_a, trans_b;   /* MATMUL */
    BmmView *view;          /* BMM: operands read in place (views.c), or NULL */
    bool filled;            /* STACK: its operands wrote themselves into it (views.c,
                               stacks.c) */
    struct Node *place_in;  /* stacks.c: stored inside this STACK's memory (the outermost
                               of nested ones): a sample's row of this node at place_off
                               floats into the STACK's row, rows place_ld floats apart */
    int64_t place_off, place_ld;
    Shape from;             /* EXPAND: the operand viewed with the output's rank */
    int param;              /* PARAM: index in Graph.params */
    int64_t attr[10];       /* CONV2D*: stride h w, pad top left bottom right, dilation h
                               w, groups. *POOL2D*: window h w, stride h w, pad top left
                               bottom right. Enum A_* below. PERMUTE: the axes. */

    /* analyses (fuse.c, plan.c) */
    int nuses;
    int kernel;             /* index in Graph.kernels */
    bool stored;            /* needs memory (used outside its kernel, pinned, ...) */
    bool pinned;            /* live for the whole step: output, loss, gradients */
    bool alias;             /* a RESHAPE sharing its operand's memory: no kernel, no copy */
    int64_t off;            /* plan: float offset (batched: per-sample units) */
    int seg;                /* entry-point segment: SEG_* */
};

enum { A_SH, A_SW, A_PT, A_PL, A_PB, A_PR, A_DH, A_DW, A_GROUPS };   /* conv */
enum { A_KH = 6, A_KW = 7 };   /* pooling: strides and padding as conv */

/* The schedule's segments, in order. A model whose layers behave differently in
 * training (batch norm, dropout) is built twice: forward and loss in inference mode,
 * then the training forward and loss, which the gradients differentiate; otherwise the
 * two training segments are empty and the gradients follow the inference loss. */
enum { SEG_FORWARD, SEG_LOSS, SEG_TFORWARD, SEG_TLOSS, SEG_GRAD, SEG_UPDATE, SEG_COUNT };
/* The entry points, as the segments each runs: forward, loss, grad, train_step. */
enum { ENTRY_FORWARD, ENTRY_LOSS, ENTRY_GRAD, ENTRY_TRAIN, ENTRY_COUNT };

typedef struct ParamInfo {
    const char *name;       /* dense_1.W */
    Shape shape;
    int init;               /* NnlInit */
    float a, b;
    int64_t fan_in, fan_out;
    Node *node, *grad;
    bool buffer;            /* not trained: batch norm's running statistics */
    int64_t offset;         /* in the parameter block: trainable ones first */
    int64_t rows_off;       /* plan: the row marks of its gradient when an embedding lookup's
                               EMBED_DW writes it alone (runtime/embedding.c), else -1 */
    Span span;
} ParamInfo;

/* A running statistic to update after the gradients: buffer = (1-m) buffer + m stat. */
typedef struct EmaUpdate {
    Node *buffer, *stat;    /* a buffer PARAM; stat of the buffer's shape */
    double momentum;
    bool unbiased;          /* stat times n/(n-1), n = count * batch */
    int64_t count;
    Span span;
} EmaUpdate;

typedef struct Kernel {
    int kind;               /* K_ELEM etc. */
    int seg;
    PtrVec nodes;           /* in order; for non-elementwise kernels exactly one */
    Shape shape;            /* the iteration space of an elementwise kernel */
    int epilogue;           /* a GEMM's or a row kernel's: the elementwise kernel it runs on
                               its blocks of output, or -1 */
    int host;               /* that elementwise kernel's: the kernel that runs it, or -1; the
                               sums below and their product's: their layer norm's adjoint */
    Node *sum_g, *sum_b;    /* a layer norm's adjoint's: the sums over the rows it computes
                               as it goes, gamma's (of dy xhat) and beta's (of dy), or NULL */
    int sum_copy[2];        /* and the loops reshaping them into the gradients, run after, or -1 */
    int prologue;           /* a reduction's: the elementwise kernel before it that computes
                               its operand, which it runs block by block, or -1 */
} Kernel;

typedef struct Graph {
    Arena *arena;
    PtrVec nodes;           /* topological order */
    PtrVec params;          /* ParamInfo* */
    Node *input, *label, *output, *loss;   /* output, loss: inference mode */
    Node *t_output, *t_loss;                /* the training graph's (== when one graph) */
    int seg_end[SEG_COUNT]; /* nodes [seg_end[s-1], seg_end[s]) belong to segment s */
    PtrVec kernels;         /* fuse.c */
    PtrVec emas;            /* EmaUpdate*: sema asks, autodiff appends them to the update */
    /* plan.c: sizes in floats */
    int64_t fixed_floats, per_sample_floats, param_off, grad_off, nparam_floats,
            state_off, state_floats, loss_off;
    int64_t ntrain_floats;  /* the trainable prefix of the parameter block */
    int64_t clip_off;       /* the update's gradient scale, when clip_norm > 0 */
    int64_t finite_off;     /* the update's flag (an int32): not 0 when a trainable gradient
                               or a new parameter value was NaN or Inf; 0 when no update */
    /* from the source */
    const char *model_name, *source;
    Span model_span;
    NnlTrain train;
    bool has_train;
    bool inference;         /* nnlc --inference: forward and loss only, no gradients,
                             * optimizer state or update (ir_drop_training) */
} Graph;

extern const char *const ir_op_names[];
unsigned ir_entry_segments(const Graph *g, int entry);   /* bit s: runs segment s */
/* A pass's new node order: out, where old node i's place is start[i] (start[nodes.len]:
 * out.len); the segments follow, the ids are renumbered. */
void ir_set_order(Graph *g, PtrVec out, const int *start);
/* Keeps the inference forward and loss only (before autodiff): the object an application
 * deploys needs neither the training graph nor gradients nor the optimizer. */
void ir_drop_training(Graph *g);
/* Whether the graph has a backward pass and an optimizer update to generate. */
bool ir_trains(const Graph *g);
/* Whether elementwise r reads its operands at its own flat index (so an operand of r's
 * shape is read at exactly the element r writes). */
bool ir_same_index(const Node *r);
extern const int ir_op_arity[], ir_op_kind[];

Graph *ir_new_graph(Arena *a);
Node *ir_node(Graph *g, Op op, Span at, Shape shape);
Node *ir_unary(Graph *g, Op op, Node *x, Span at);
/* Elementwise binary op with broadcasting; NULL after a diagnostic when shapes clash. */
Node *ir_binary(Graph *g, Op op, Node *a, Node *b, Span at);
Node *ir_const(Graph *g, double v, Span at);
Node *ir_reshape(Graph *g, Node *x, Shape to, Span at);
Node *ir_sum(Graph *g, Node *x, int ax0, int ax1, bool keepdims, double scale,
             bool div_batch, Span at);
Node *ir_expand(Graph *g, Node *x, Shape from, Shape to, double scale, bool div_batch,
                Span at);
Node *ir_matmul(Graph *g, Node *a, Node *b, int ta, int tb, Shape out, Span at);
/* A node of op with the given operands, shape and attributes (no shape rule): the
 * backward ops of autodiff. */
Node *ir_op2(Graph *g, Op op, Node *a, Node *b, Shape shape, const int64_t *attr, Span at);
/* conv2d and pooling with their shape rules; NULL after a diagnostic. attr as Node.attr. */
Node *ir_conv2d(Graph *g, Node *x, Node *w, const int64_t *attr, Span at);
Node *ir_pool2d(Graph *g, Op op, Node *x, const int64_t *attr, Span at);
/* concat along axis; slice [start, start + len) of axis; unslice: len -> full along axis */
Node *ir_concat(Graph *g, Node *a, Node *b, int axis, Span at);
Node *ir_slice(Graph *g, Op op, Node *x, int axis, int64_t start, int64_t len, Span at);
/* take: x with axis fixed at index at and dropped; stack: n operands of one shape
 * (CONST ones materialized) along a new axis, f32[B, ...] -> f32[B, ..., n, ...], or
 * when join, end to end along an existing one (d -> n d; the same memory layout) */
Node *ir_take(Graph *g, Node *x, int axis, int64_t at, Span where);
Node *ir_stack(Graph *g, Node **xs, int n, int axis, bool join, Span at);
/* permute: out axis k is x's axis perm[k] (the batch stays axis 0). */
Node *ir_permute(Graph *g, Node *x, const int *perm, Span at);
/* batched matmul: a (..., m, k), b (..., k, n) with equal leading axes, op() per ta/tb;
 * NULL after a diagnostic. */
Node *ir_bmm(Graph *g, Node *a, Node *b, int ta, int tb, Span at);
/* c != 0 ? a : b, broadcast over all three; NULL after a diagnostic. */
Node *ir_where(Graph *g, Node *c, Node *a, Node *b, Span at);
/* gather rows of table (V, D) at ids (...) -> (..., D) */
Node *ir_gather(Graph *g, Node *table, Node *ids, Span at);
/* a node of three operands and the given shape (no shape rule): EMBED_MM's adjoints,
 * EMBED_DW_MM and EMBED_WT (autodiff.c; EMBED_MM itself is rewrite.c's, in place) */
Node *ir_op3(Graph *g, Op op, Node *a, Node *b, Node *c, Shape shape, Span at);

Shape shape_make(bool batched, int rank, const int64_t *d);
Shape shape_scalar(void);
int64_t shape_numel_static(Shape s);   /* product of static dims (batch excluded) */
bool shape_eq(Shape a, Shape b);
bool shape_broadcast(Shape a, Shape b, Shape *out);
const char *shape_str(Arena *a, Shape s);   /* f32[B, 10] */
void ir_print(FILE *out, const Graph *g, int upto);   /* --emit=ir / grad */

/* ===== sema.c: names, layer instances, shapes -> forward graph and loss ===== */

typedef struct SemaOptions {
    const char *model;      /* which model; NULL: the trained one, else the only one */
    const char *stdlib_dir; /* where `use std.nn` finds stdlib/nn.nnl */
} SemaOptions;

/* Checks the program and builds the forward graph, the loss (when a train block names
 * the model) and the training configuration. NULL after diagnostics. */
Graph *sema_program(Arena *a, Ast *prog, const SemaOptions *opt);

/* ===== rewrite.c: cheaper forms of the same values ===== */

/* max_pool2d(relu(x + per-channel b)) -> relu(max_pool2d(x) + b), in place. Before
 * autodiff. */
void rewrite_graph(Graph *g);

/* ===== autodiff.c: reverse mode ===== */

/* Appends the backward pass (one VJP rule per primitive) and the optimizer update to g.
 * Needs: g->loss. Leaves: kernels and plan stale. */
void ad_differentiate(Graph *g);
/* remat.c: the gradient pass recomputes cheap elementwise forward values from operands in
 * memory anyway, instead of the forward storing them (-O1 and up; exact). */
void remat_graph(Graph *g);
/* remat.c: the other way round for a derivative that costs a tanh or an exp: the
 * training forward's loop computes it beside the value (GELU's) and stores it, the
 * gradient reads it (-O1 and up, before remat_graph; exact). */
void precompute_derivatives(Graph *g);
/* remat.c: within a segment, an elementwise value that a later loop of its shape reads
 * is computed again there from values in memory anyway, when that costs at most one
 * array read more, instead of being stored (fuse_graph, -O1 and up; exact). */
void remat_loops(Graph *g);
/* hoist.c: a leaf that several products of a segment read transposed is transposed once
 * in that segment, the products reading the copy as it lies (-O1 and up; exact). */
void hoist_transposes(Graph *g);
/* views.c: a BMM whose operand is a slice / reshape / permute of a stored tensor reads
 * that tensor in place through strides; the layout nodes go (-O1 and up; exact). */
void views_graph(Graph *g);

/* ===== fuse.c: kernels ===== */

/* Groups nodes into kernels: chains of elementwise nodes of one shape become one loop.
 * Sets Node.kernel, Node.stored, Graph.kernels. remat: remat_loops after the schedule's
 * own moves, and those moves once more after it. */
void fuse_graph(Graph *g, bool remat);
void fuse_print(FILE *out, const Graph *g);
/* n is computed inside another node's call kernel and never reaches memory (a max
 * pooling's adjoint inside its convolution's weight gradient). */
bool fuse_folded(const Graph *g, const Node *n);
/* A convolution kept as its max pooling's window codes (nnl_conv2d_maxpool's NNL_KEEP_CODES) */
bool fuse_pool_codes(const Graph *g, const Node *cv);
/* n may run the elementwise loop after it as its epilogue: a product (a lookup's too,
 * EMBED_MM), or a row kernel (softmax, log-softmax, layer norm and their adjoints). */
bool fuse_epilogue_host(const Node *n);
/* Kernel index i as the memory plan sees it: an epilogue runs within its host's kernel. */
int fuse_step(const Graph *g, int i);
/* stacks.c: a STACK along axis 1 whose operands are values elementwise loops store (or
 * such STACKs) has them written into its memory where it puts them (Node.place_in), and
 * copies nothing (-O1 and up, after fuse_graph; exact). */
void stacks_graph(Graph *g);
/* Kernel i as one line of --emit=fused (malloc'd; NULL without memory), at most
 * max_nodes nodes, with " (line L)" of its first node when with_line. */
char *fuse_kernel_desc(const Graph *g, int i, int max_nodes, bool with_line);

/* ===== plan.c: static memory plan ===== */

/* Assigns arena offsets from liveness over the kernel schedule. Needs fuse_graph. */
void plan_graph(Graph *g);
void plan_print(FILE *out, const Graph *g);

/* ===== codegen.c: LLVM ===== */

typedef struct CgOptions {
    const char *prefix;     /* C symbol prefix */
    int opt_level;          /* 0..3 */
    bool main;              /* define main() calling nnl_cli_main */
    const char *emit;       /* "llvm", "asm" or NULL (object) */
    const char *out_path;   /* object / text output */
    bool debug;             /* -g: DWARF line tables from the nodes' spans (debuginfo.c) */
    const char *triple;     /* --target: an LLVM triple, NULL for the host's */
    const char *cpu;        /* --cpu: an LLVM CPU name, NULL for the host's (with its features) */
    void **obj_buf;         /* non-NULL: the object is returned here (malloc'd), *obj_len bytes */
    size_t *obj_len;
    /* nparts > 1 (executables and shared libraries): the object may be written as up to
     * nparts objects part_paths[0..], compiled on as many threads; *parts_written says how
     * many were (1: out_path alone). */
    int nparts;
    const char *const *part_paths;
    int *parts_written;
} CgOptions;

/* Lowers the planned graph to an LLVM module and writes it. 0 on success. */
int cg_emit(Graph *g, const CgOptions *opt);
/* Writes the C header of the object's API. 0 on success. */
int cg_write_header(Graph *g, const char *prefix, const char *path);

/* ===== targets.c ===== */

/* Whether LLVM knows cpu for triple (checked for x86-64 and AArch64 only; "native" is). */
bool target_cpu_known(const char *triple, const char *cpu);
void target_print_cpus(FILE *out, const char *triple);   /* the known ones, wrapped */

/* ===== jit.c ===== */

/* Links an object (from cg_emit's obj_buf) into this process with LLVM's ORC JIT and
 * runs nnl_cli_main on its descriptor P_desc with argv. Returns the CLI's status. */
int jit_run(const void *obj, size_t len, const char *prefix, int argc, char **argv);

#endif
