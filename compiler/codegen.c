/* codegen.c — LLVM. In: the fused, planned graph. Out: an LLVM module written as an
 * object file (or .ll / .s text) that defines, under the C prefix P:
 *   one function per distinct loop, `void P_kN(const int64_t *kargs, int64_t lo,
 *   int64_t hi)` (kargs: the NnlCtx pointer, then the offsets the loop reads and
 *   writes, so identical loops of an unrolled recurrence share one function), one
 *   launcher per kernel,
 *   the entry points P_forward / P_loss / P_grad / P_train_step (prefixes of one
 *   schedule), the descriptor `const NnlModelDesc P_desc`, the C API of the header
 *   (header.c) as thin wrappers around the runtime, and, for executables, main().
 * Elementwise kernels are loops over the flat index of their iteration space; operands
 * of another shape are read through their broadcast index. Everything else is a call
 * into the runtime (GEMM, reductions, row softmax, pick). Needs: fuse_graph, plan_graph. */
#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cgsplit.h"
#include "debuginfo.h"
#include "ir.h"
#include "nnlrt.h"

/* Below this many elements a loop runs on the calling thread: waking the team costs
 * more than the work. */
#define PAR_MIN_ELEMS NNL_PAR_MIN_ELEMS

typedef struct Cg {
    Graph *g;
    const CgOptions *opt;
    LLVMContextRef cx;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    LLVMTypeRef i1, i32, i64, f32, f64, ptr, vd;
    LLVMTypeRef ctx_t;              /* NnlCtx */
    LLVMTypeRef param_t;            /* NnlParam */
    LLVMTypeRef kernel_fn_t;        /* void (ptr, i64, i64) */
    LLVMTypeRef step_fn_t;          /* void (ptr) */
    LLVMValueRef *launch;           /* per kernel: void launch(ptr ctx) */
    PtrVec loop_sigs;               /* char *: signatures of the loop functions made */
    PtrVec loop_fns;                /* LLVMValueRef each, same order */
    LLVMValueRef entry[ENTRY_COUNT];
    LLVMValueRef desc;
    CgDebug *dbg;                   /* -g */
    Span at;                        /* the kernel being generated: where its code came from */
} Cg;

/* The values every kernel reads from the context at entry. */
typedef struct Frame {
    LLVMValueRef ctx, arena, batch, max_batch, lr, step, seed;
} Frame;

static const char *sym(Cg *c, const char *suffix)
{
    return arena_printf(c->g->arena, "%s_%s", c->opt->prefix, suffix);
}

static LLVMValueRef i64c(Cg *c, int64_t v) { return LLVMConstInt(c->i64, (unsigned long long)v, 1); }
static LLVMValueRef i32c(Cg *c, int v) { return LLVMConstInt(c->i32, (unsigned long long)v, 1); }
static LLVMValueRef f32c(Cg *c, double v) { return LLVMConstReal(c->f32, v); }

/* Declares (once) an external function. */
static LLVMValueRef extern_fn(Cg *c, const char *name, LLVMTypeRef ret, LLVMTypeRef *args, int n)
{
    LLVMValueRef f = LLVMGetNamedFunction(c->m, name);
    if (!f) f = LLVMAddFunction(c->m, name, LLVMFunctionType(ret, args, n, 0));
    return f;
}

/* A private constant array of n values of type t; a null pointer when n is 0. */
static LLVMValueRef const_array(Cg *c, const char *name, LLVMTypeRef t, LLVMValueRef *v, int n)
{
    if (!n) return LLVMConstNull(c->ptr);
    LLVMValueRef arr = LLVMConstArray2(t, v, n);
    LLVMValueRef gv = LLVMAddGlobal(c->m, LLVMTypeOf(arr), sym(c, name));
    LLVMSetInitializer(gv, arr);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    return gv;
}

static LLVMValueRef cstruct(Cg *c, LLVMValueRef *v, int n)
{
    return LLVMConstStructInContext(c->cx, v, n, 0);
}

static LLVMValueRef call(Cg *c, LLVMValueRef f, LLVMValueRef *args, int n)
{
    return LLVMBuildCall2(c->b, LLVMGlobalGetValueType(f), f, args, n, "");
}

/* A call of an LLVM intrinsic overloaded on type t (llvm.exp.f32, llvm.copysign.f32,
 * llvm.sqrt.f64, ...) with n arguments. */
static LLVMValueRef intrinsic(Cg *c, const char *name, LLVMTypeRef t, LLVMValueRef *args, unsigned n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->m, id, &t, 1);
    LLVMTypeRef ft = LLVMIntrinsicGetType(c->cx, id, &t, 1);
    return LLVMBuildCall2(c->b, ft, f, args, n, "");
}

static LLVMValueRef intrinsic1t(Cg *c, const char *name, LLVMTypeRef t, LLVMValueRef x)
{
    return intrinsic(c, name, t, &x, 1);
}

static LLVMValueRef intrinsic1(Cg *c, const char *name, LLVMValueRef x) { return intrinsic1t(c, name, c->f32, x); }

/* a b + d as llvm.fmuladd: one fused multiply-add where the target has a fast one (x86-64
 * from v3, aarch64), a multiply and an add where not (no libm call, as llvm.fma would be
 * on baseline x86-64). The choice is the target's alone, not the optimization level's,
 * so -O0 and -O2 compute the same bits. For the polynomials of fast_exp and fast_tanh,
 * whose dependent multiply-add chains bound GELU's and the LSTM cell's loops. */
static LLVMValueRef muladd(Cg *c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef d)
{
    LLVMValueRef args[3] = {a, b, d};
    return intrinsic(c, "llvm.fmuladd.f32", c->f32, args, 3);
}

static LLVMValueRef libm1(Cg *c, const char *name, LLVMValueRef x)
{
    LLVMValueRef f = extern_fn(c, name, c->f32, &c->f32, 1);
    return call(c, f, &x, 1);
}

static LLVMValueRef ctx_field(Cg *c, LLVMValueRef ctx, int i, LLVMTypeRef t, const char *name)
{
    LLVMValueRef p = LLVMBuildStructGEP2(c->b, c->ctx_t, ctx, i, "");
    return LLVMBuildLoad2(c->b, t, p, name);
}

static Frame frame_load(Cg *c, LLVMValueRef ctx)
{
    Frame f = {.ctx = ctx};
    f.arena = ctx_field(c, ctx, 0, c->ptr, "arena");
    f.batch = ctx_field(c, ctx, 1, c->i64, "batch");
    f.max_batch = ctx_field(c, ctx, 2, c->i64, "max_batch");
    f.lr = ctx_field(c, ctx, 3, c->f32, "lr");
    f.step = ctx_field(c, ctx, 4, c->i64, "step");
    f.seed = ctx_field(c, ctx, 5, c->i64, "seed");
    return f;
}

/* The address of a node's first element: fixed tensors at their offset, batch-scaled
 * ones at fixed_floats + off * max_batch. */
static LLVMValueRef node_ptr(Cg *c, Frame *f, Node *n)
{
    LLVMValueRef off = i64c(c, n->off);
    if (n->shape.batched)
        off = LLVMBuildAdd(c->b, i64c(c, c->g->fixed_floats),
                           LLVMBuildMul(c->b, off, f->max_batch, ""), "");
    return LLVMBuildGEP2(c->b, c->f32, f->arena, &off, 1, n->name ? n->name : "");
}

/* Elements of a shape at run time: static dims times the batch. */
static LLVMValueRef numel(Cg *c, Frame *f, Shape s)
{
    LLVMValueRef n = i64c(c, shape_numel_static(s));
    return s.batched ? LLVMBuildMul(c->b, n, f->batch, "") : n;
}

/* Product of dims [lo, hi) of s at run time (the batch at axis 0). */
static LLVMValueRef dims_prod(Cg *c, Frame *f, Shape s, int lo, int hi)
{
    int64_t p = 1;
    bool has_batch = false;
    for (int k = lo; k < hi; k++) {
        if (k == 0 && s.batched) has_batch = true;
        else p *= s.d[k];
    }
    LLVMValueRef v = i64c(c, p);
    return has_batch ? LLVMBuildMul(c->b, v, f->batch, "") : v;
}

/* ----- elementwise kernels ----- */

/* The flat index into an operand viewed as `from` (the kernel's rank, dims 1 where it
 * broadcasts) of the kernel's flat index i over `to`. */
static LLVMValueRef bcast_index(Cg *c, LLVMValueRef i, Shape from, Shape to)
{
    bool same = true, scalar = true;
    for (int k = 0; k < to.rank; k++) {
        bool fb = from.batched && k == 0, tb = to.batched && k == 0;
        int64_t fd = fb ? -1 : from.d[k], td = tb ? -1 : to.d[k];
        if (fd != td) same = false;
        if (fb || fd != 1) scalar = false;
    }
    if (same) return i;
    if (scalar) return i64c(c, 0);
    LLVMValueRef idx = i64c(c, 0);
    int64_t to_stride = 1, from_stride = 1;
    for (int k = to.rank - 1; k >= 0; k--) {
        bool fb = from.batched && k == 0;
        int64_t td = to.d[k];
        if (fb || from.d[k] != 1) {
            LLVMValueRef coord = LLVMBuildUDiv(c->b, i, i64c(c, to_stride), "");
            if (k > 0) coord = LLVMBuildURem(c->b, coord, i64c(c, td), "");
            idx = LLVMBuildAdd(c->b, idx, LLVMBuildMul(c->b, coord, i64c(c, from_stride), ""), "");
            if (k > 0) from_stride *= from.d[k];
        }
        if (k > 0) to_stride *= td;
    }
    return idx;
}

/* An operand of shape s as the kernel's rank: leading 1s (numpy alignment). */
static Shape aligned(Shape s, Shape to)
{
    Shape r = {.rank = to.rank};
    int lead = to.rank - s.rank;
    for (int k = 0; k < to.rank; k++) r.d[k] = k < lead ? 1 : s.d[k - lead];
    r.batched = s.batched && lead == 0;
    if (r.batched) r.d[0] = -1;
    return r;
}

typedef struct Loop {
    Frame f;
    LLVMValueRef i;
    LLVMValueRef *val;     /* per node id: its value in this iteration, or NULL */
    LLVMValueRef *base;    /* per node id: hoisted base pointer, or NULL */
    LLVMValueRef *imm;     /* per node id: a TAKE's position, passed at launch, or NULL */
    int inner_axes;        /* > 0: i runs inside blocks of the last inner_axes axes */
    LLVMValueRef start;    /* the flat index where i's block starts */
    LLVMValueRef block_i;  /* with blocks: the block's index */
    int64_t block;         /* with blocks: their size */
    LLVMValueRef hoist;    /* with blocks: the branch into the inner loop, before which
                            * what depends on the block alone is built once a block */
} Loop;

static LLVMValueRef load_at(Cg *c, Loop *L, Node *x, LLVMValueRef idx)
{
    if (!L->base[x->id]) return NULL;
    LLVMValueRef p = LLVMBuildGEP2(c->b, c->f32, L->base[x->id], &idx, 1, "");
    return LLVMBuildLoad2(c->b, c->f32, p, "");
}

/* How an operand viewed as `from` is read over the last `axes` axes of `to`: 1 the
 * same (contiguous), 2 constant (broadcast), 3 both (those axes are all 1), 0 neither. */
static int block_mode(Shape from, Shape to, int axes)
{
    int mode = 3;
    for (int k = to.rank - 1; k >= to.rank - axes; k--) {
        if (to.d[k] == 1) continue;
        if (from.d[k] == to.d[k]) mode &= 1;
        else if (from.d[k] == 1) mode &= 2;
        else return 0;
    }
    return mode;
}

/* The index of an operand viewed as `from` at the loop's i: inside a block where it is
 * contiguous or constant, from the block's start (loop-invariant: hoisted out of the
 * inner loop) plus the offset in the block; else computed from i. */
static LLVMValueRef operand_index(Cg *c, Loop *L, Shape from, Shape to)
{
    int mode = L->inner_axes ? block_mode(from, to, L->inner_axes) : 0;
    if (!mode) return bcast_index(c, L->i, from, to);
    LLVMValueRef at = bcast_index(c, L->start, from, to);
    if (mode & 2) return at;
    return LLVMBuildAdd(c->b, at, LLVMBuildSub(c->b, L->i, L->start, ""), "");
}

/* Operand x of n: its value in this iteration when it is in the loop, else a load. One
 * constant over the block (a bias, batch norm's mean and scale: broadcast along the
 * block's axes) is loaded once a block, before the inner loop: LLVM cannot move the load
 * there itself when the loop stores (the output might alias it, as far as it knows), and
 * a load it leaves in the loop keeps the loop scalar, which a loop updating its operand
 * in place (a convolution's epilogue) was. */
static LLVMValueRef operand(Cg *c, Loop *L, Node *n, Node *x, Shape from)
{
    if (x->op == OP_CONST) return f32c(c, x->fval);
    if (L->val[x->id]) return L->val[x->id];
    bool hoist = L->inner_axes && L->hoist && (block_mode(from, n->shape, L->inner_axes) & 2);
    LLVMBasicBlockRef here = LLVMGetInsertBlock(c->b);
    if (hoist) LLVMPositionBuilderBefore(c->b, L->hoist);
    LLVMValueRef v = load_at(c, L, x, operand_index(c, L, from, n->shape));
    if (hoist) LLVMPositionBuilderAtEnd(c->b, here);
    return v;
}

static LLVMValueRef sel(Cg *c, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b,
                        LLVMValueRef t, LLVMValueRef f)
{
    return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, p, a, b, ""), t, f, "");
}

/* Dropout's keep mask at flat index i: splitmix64's finalizer (Steele et al. 2014) over
 * (seed, step, the node's stream, i), so a mask depends on nothing but those: the same
 * on any thread count, recomputed (not stored) by the backward pass. */
static LLVMValueRef dropout_mask(Cg *c, Loop *L, Node *n)
{
    LLVMBuilderRef b = c->b;
    LLVMValueRef z = LLVMBuildXor(b, L->f.seed, LLVMBuildMul(b, L->f.step, i64c(c, (int64_t)0x9E3779B97F4A7C15ull), ""), "");
    z = LLVMBuildXor(b, z, i64c(c, (int64_t)((uint64_t)n->attr[0] * 0xC2B2AE3D27D4EB4Full)), "");
    z = LLVMBuildAdd(b, z, LLVMBuildMul(b, L->i, i64c(c, (int64_t)0x165667B19E3779F9ull), ""), "");
    z = LLVMBuildMul(b, LLVMBuildXor(b, z, LLVMBuildLShr(b, z, i64c(c, 30), ""), ""), i64c(c, (int64_t)0xBF58476D1CE4E5B9ull), "");
    z = LLVMBuildMul(b, LLVMBuildXor(b, z, LLVMBuildLShr(b, z, i64c(c, 27), ""), ""), i64c(c, (int64_t)0x94D049BB133111EBull), "");
    z = LLVMBuildXor(b, z, LLVMBuildLShr(b, z, i64c(c, 31), ""), "");
    LLVMValueRef u = LLVMBuildFMul(b, LLVMBuildUIToFP(b, LLVMBuildLShr(b, z, i64c(c, 40), ""), c->f32, ""),
                                   f32c(c, 1.0 / 16777216.0), "");
    return sel(c, LLVMRealOGE, u, f32c(c, n->fval), f32c(c, 1.0 / (1.0 - n->fval)), f32c(c, 0));
}

/* Loads along one axis k: i = (o, j, r) with r < inner, j < n->shape.d[k].
 *   CONCAT:  j < na ? a[o, j, r] : b[o, j - na, r]
 *   SLICE:   x[o, at + j, r]
 *   UNSLICE: at <= j < at + len ? g[o, j - at, r] : 0 */
/* How many trailing axes of a loop's blocks an axis op can take with its operands read
 * contiguously inside a block (Loop.inner_axes): a slice can span its axis (it reads a
 * run of the operand's row), a concat or unslice only the axes after it (the operand
 * changes along it), a take its output's axes from the taken one on, a gather the last
 * axis (a table row); -1: not an axis op. */
static int axis_block_limit(Node *n)
{
    switch (n->op) {
    case OP_SLICE: return n->shape.rank - n->ax0;
    case OP_UNSLICE: case OP_CONCAT: return n->shape.rank - 1 - n->ax0;
    case OP_TAKE: return n->shape.rank - n->ax0;
    case OP_GATHER: return 1;   /* a row of the table */
    case OP_PERMUTE: {          /* the trailing axes it leaves in place */
        int r = n->shape.rank, k = 0;
        while (k < r && n->attr[r - 1 - k] == r - 1 - k) k++;
        return k == r ? -1 : k;
    }
    default: return -1;
    }
}

/* The flat index an axis op computes from i: inside a block that its limit allows, from
 * the block's start (loop-invariant, hoisted) plus i - start, so that the inner loop
 * reads contiguously and vectorizes; else from i. */
static LLVMValueRef axis_i(Cg *c, Loop *L, Node *n, LLVMValueRef *delta)
{
    if (L->inner_axes && L->start && L->inner_axes <= axis_block_limit(n)) {
        *delta = LLVMBuildSub(c->b, L->i, L->start, "");
        return L->start;
    }
    *delta = NULL;
    return L->i;
}

static LLVMValueRef plus(Cg *c, LLVMValueRef v, LLVMValueRef delta)
{
    return delta ? LLVMBuildAdd(c->b, v, delta, "") : v;
}

static LLVMValueRef elem_axis(Cg *c, Loop *L, Node *n)
{
    LLVMBuilderRef b = c->b;
    int k = n->ax0;
    int64_t inner = 1;
    for (int q = k + 1; q < n->shape.rank; q++) inner *= n->shape.d[q];
    int64_t full = n->shape.d[k];
    LLVMValueRef delta, i = axis_i(c, L, n, &delta);
    LLVMValueRef r = LLVMBuildURem(b, i, i64c(c, inner), "");
    LLVMValueRef oj = LLVMBuildUDiv(b, i, i64c(c, inner), "");
    LLVMValueRef j = LLVMBuildURem(b, oj, i64c(c, full), ""), o = LLVMBuildUDiv(b, oj, i64c(c, full), "");
    /* the flat index of (o, j', r) in an operand with m cells along the axis */
    #define AT(m, jj) plus(c, LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, o, i64c(c, m), ""), jj, ""), i64c(c, inner), ""), r, ""), delta)
    Node *x = n->in[0];
    int64_t nx = x->shape.d[k];
    if (n->op == OP_SLICE) return load_at(c, L, x, AT(nx, LLVMBuildAdd(b, j, i64c(c, n->ax1), "")));
    if (n->op == OP_UNSLICE) {
        LLVMValueRef jj = LLVMBuildSub(b, j, i64c(c, n->ax1), "");
        LLVMValueRef in = LLVMBuildICmp(b, LLVMIntULT, jj, i64c(c, nx), "");   /* unsigned: j < at wraps */
        LLVMValueRef v = load_at(c, L, x, AT(nx, LLVMBuildSelect(b, in, jj, i64c(c, 0), "")));
        return LLVMBuildSelect(b, in, v, f32c(c, 0), "");
    }
    Node *y = n->in[1];
    int64_t ny = y->shape.d[k];
    LLVMValueRef first = LLVMBuildICmp(b, LLVMIntULT, j, i64c(c, nx), "");
    LLVMValueRef ja = LLVMBuildSelect(b, first, j, i64c(c, 0), "");
    LLVMValueRef jb = LLVMBuildSelect(b, first, i64c(c, 0), LLVMBuildSub(b, j, i64c(c, nx), ""), "");
    LLVMValueRef va = x->op == OP_CONST ? f32c(c, x->fval) : load_at(c, L, x, AT(nx, ja));
    LLVMValueRef vb = y->op == OP_CONST ? f32c(c, y->fval) : load_at(c, L, y, AT(ny, jb));
    #undef AT
    return LLVMBuildSelect(b, first, va, vb, "");
}

/* GATHER: i = (r, j), j < D: table[ids[r], j] when 0 <= ids[r] < V, else 0. */
static LLVMValueRef elem_gather(Cg *c, Loop *L, Node *n)
{
    LLVMBuilderRef b = c->b;
    Node *table = n->in[0], *ids = n->in[1];
    int64_t d = table->shape.d[1], v = table->shape.d[0];
    LLVMValueRef delta, i = axis_i(c, L, n, &delta);
    /* in blocks of a row: the row's id read once a block, before the inner loop (LLVM
     * cannot move the load there itself: the output might alias the ids) */
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
    if (delta) LLVMPositionBuilderBefore(b, L->hoist);
    LLVMValueRef r = LLVMBuildUDiv(b, i, i64c(c, d), ""), j = LLVMBuildURem(b, i, i64c(c, d), "");
    LLVMValueRef id = load_at(c, L, ids, r);
    LLVMValueRef in = LLVMBuildAnd(b, LLVMBuildFCmp(b, LLVMRealOGE, id, f32c(c, 0), ""),
                                   LLVMBuildFCmp(b, LLVMRealOLT, id, f32c(c, (double)v), ""), "");
    LLVMValueRef row = LLVMBuildSelect(b, in, LLVMBuildFPToSI(b, id, c->i64, ""), i64c(c, 0), "");
    LLVMValueRef base = LLVMBuildAdd(b, LLVMBuildMul(b, row, i64c(c, d), ""), j, "");
    if (delta) LLVMPositionBuilderAtEnd(b, here);
    LLVMValueRef val = load_at(c, L, table, plus(c, base, delta));
    return LLVMBuildSelect(b, in, val, f32c(c, 0), "");
}

/* PERMUTE: the output's coordinates of i, read at the input's strides of axis perm[k]. */
static LLVMValueRef elem_permute(Cg *c, Loop *L, Node *n)
{
    LLVMBuilderRef b = c->b;
    Node *x = n->in[0];
    int r = n->shape.rank;
    int64_t in_stride[NNL_MAX_RANK], st = 1;
    for (int k = r - 1; k >= 0; k--) {
        in_stride[k] = st;
        if (k > 0 || !x->shape.batched) st *= x->shape.d[k];
    }
    /* in blocks of the trailing axes it keeps: the block's start mapped, then contiguous */
    LLVMValueRef delta, i = axis_i(c, L, n, &delta);
    LLVMValueRef idx = i64c(c, 0);
    int64_t out_stride = 1;
    for (int k = r - 1; k >= 0; k--) {
        LLVMValueRef coord = LLVMBuildUDiv(b, i, i64c(c, out_stride), "");
        if (k > 0) coord = LLVMBuildURem(b, coord, i64c(c, n->shape.d[k]), "");
        idx = LLVMBuildAdd(b, idx, LLVMBuildMul(b, coord, i64c(c, in_stride[n->attr[k]]), ""), "");
        if (k > 0) out_stride *= n->shape.d[k];
    }
    return load_at(c, L, x, plus(c, idx, delta));
}

/* CAUSAL: (..., T, T), 1 where the column is at most the row. */
static LLVMValueRef elem_causal(Cg *c, Loop *L, Node *n)
{
    LLVMBuilderRef b = c->b;
    int64_t t = n->shape.d[n->shape.rank - 1];
    LLVMValueRef col = LLVMBuildURem(b, L->i, i64c(c, t), "");
    LLVMValueRef row = LLVMBuildURem(b, LLVMBuildUDiv(b, L->i, i64c(c, t), ""), i64c(c, t), "");
    return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntULE, col, row, ""), f32c(c, 1), f32c(c, 0), "");
}

/* e^x on f32 without a libm call, branch-free so that loops over it vectorize (LLVM
 * would call expf once per lane): x = n ln2 + r with n = round(x log2 e) and
 * |r| <= ln2 / 2 (ln2 in two parts, Cody and Waite), e^r by Cephes' degree-6 polynomial,
 * times 2^n as two powers of two put into exponent bits (each normal, so results down to
 * the subnormals are right). Within 2 ulp of expf; +inf above 88.72, NaN stays NaN.
 * runtime/rt_internal.h's rt_expf is the same function for the runtime's kernels. */
static LLVMValueRef fast_exp(Cg *c, LLVMValueRef x)
{
    LLVMBuilderRef b = c->b;
    LLVMValueRef hi = f32c(c, 88.72283935546875), lo = f32c(c, -104.0);
    LLVMValueRef xc = sel(c, LLVMRealOLT, x, hi, x, hi);   /* NaN -> hi: fptosi below stays defined */
    xc = sel(c, LLVMRealOGT, xc, lo, xc, lo);
    /* round to nearest by adding and subtracting 1.5 * 2^23 */
    LLVMValueRef magic = f32c(c, 12582912.0);
    LLVMValueRef t = LLVMBuildFAdd(b, LLVMBuildFMul(b, xc, f32c(c, 1.44269504088896341), ""), magic, "");
    LLVMValueRef n = LLVMBuildFSub(b, t, magic, "");
    LLVMValueRef r = LLVMBuildFSub(b, xc, LLVMBuildFMul(b, n, f32c(c, 0.693359375), ""), "");
    r = LLVMBuildFSub(b, r, LLVMBuildFMul(b, n, f32c(c, -2.12194440e-4), ""), "");
    static const double k[6] = {1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1};
    LLVMValueRef p = f32c(c, k[0]);
    for (int q = 1; q < 6; q++) p = muladd(c, p, r, f32c(c, k[q]));
    LLVMValueRef r2 = LLVMBuildFMul(b, r, r, "");
    p = LLVMBuildFAdd(b, muladd(c, p, r2, r), f32c(c, 1), "");
    LLVMValueRef ni = LLVMBuildFPToSI(b, n, c->i32, "");
    LLVMValueRef n1 = LLVMBuildAShr(b, ni, i32c(c, 1), ""), n2 = LLVMBuildSub(b, ni, n1, "");
    #define POW2(e) LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, e, i32c(c, 127), ""), i32c(c, 23), ""), c->f32, "")
    LLVMValueRef y = LLVMBuildFMul(b, LLVMBuildFMul(b, p, POW2(n1), ""), POW2(n2), "");
    #undef POW2
    y = sel(c, LLVMRealOGT, x, hi, f32c(c, INFINITY), y);
    return sel(c, LLVMRealUNO, x, x, x, y);
}

/* tanh(x) without libm's tanhf (a call per element through expm1f, half the time of a
 * transformer's step in GELU): x P(x^2) / Q(x^2), a rational approximation of degree 4
 * over 4 in x^2 (fitted here: iteratively reweighted least squares for the relative error,
 * 2e-8 in exact arithmetic), on x clamped to +-9 (beyond, tanh rounds to +-1) and the
 * result clamped to +-1 (rounding could pass it by an ulp). Within 5.5 ulp of tanh over
 * every float, with fused multiply-adds or without, odd exactly, NaN stays NaN;
 * 15 operations and a division where exp's reduction, polynomial and scaling took 45. */
static LLVMValueRef fast_tanh(Cg *c, LLVMValueRef x)
{
    LLVMBuilderRef b = c->b;
    static const double p[5] = {1, 0.133810699, 0.00349564035, 2.06099066e-05, 1.33557423e-08};
    static const double q[5] = {1, 0.467143863, 0.0258771833, 0.000328571856, 7.77701359e-07};
    LLVMValueRef lim = f32c(c, 9), nlim = f32c(c, -9), one = f32c(c, 1), mone = f32c(c, -1);
    LLVMValueRef xc = sel(c, LLVMRealOGT, x, lim, lim, x);   /* NaN compares false: kept */
    xc = sel(c, LLVMRealOLT, xc, nlim, nlim, xc);
    LLVMValueRef t = LLVMBuildFMul(b, xc, xc, "");
    LLVMValueRef pn = f32c(c, p[4]), qn = f32c(c, q[4]);
    for (int k = 3; k >= 0; k--) {
        pn = muladd(c, pn, t, f32c(c, p[k]));
        qn = muladd(c, qn, t, f32c(c, q[k]));
    }
    LLVMValueRef y = LLVMBuildFDiv(b, LLVMBuildFMul(b, xc, pn, ""), qn, "");
    y = sel(c, LLVMRealOGT, y, one, one, y);
    return sel(c, LLVMRealOLT, y, mone, mone, y);
}

/* GELU, the tanh form, at x: with t = tanh(u), u = c0 (x + c1 x^3) = x (c0 + c0 c1 x^2),
 * the value 0.5 x (1 + t) and (dx) the derivative 0.5 (1 + t) + 0.5 x (1 - t^2) c0 (1 +
 * 3 c1 x^2). Both build x^2, u, t and 0.5 x alike, so a loop computing the two (the
 * training forward, compiler/remat.c) computes tanh once. 9 operations and a tanh for
 * the value where the composition of primitives took 7 and the derivative that autodiff
 * made of it 19. */
static LLVMValueRef gelu(Cg *c, LLVMValueRef x, bool dx)
{
    LLVMBuilderRef b = c->b;
    const double c0 = 0.79788456080286536, c1 = 0.044715;   /* sqrt(2/pi) */
    LLVMValueRef x2 = LLVMBuildFMul(b, x, x, "");
    LLVMValueRef t = fast_tanh(c, LLVMBuildFMul(b, x, muladd(c, x2, f32c(c, c0 * c1), f32c(c, c0)), ""));
    LLVMValueRef hx = LLVMBuildFMul(b, x, f32c(c, 0.5), "");
    if (!dx) return muladd(c, hx, t, hx);
    LLVMValueRef s = muladd(c, LLVMBuildFNeg(b, t, ""), t, f32c(c, 1));           /* 1 - t^2 */
    LLVMValueRef du = muladd(c, x2, f32c(c, 3 * c0 * c1), f32c(c, c0));
    LLVMValueRef h = muladd(c, t, f32c(c, 0.5), f32c(c, 0.5));                     /* 0.5 (1 + t) */
    return muladd(c, LLVMBuildFMul(b, hx, s, ""), du, h);
}

/* One element of n. */
static LLVMValueRef elem(Cg *c, Loop *L, Node *n)
{
    LLVMBuilderRef b = c->b;
    if (n->op == OP_DROPOUT) return dropout_mask(c, L, n);
    if (n->op == OP_RESHAPE) {   /* same elements in the same order */
        Node *x = n->in[0];
        if (x->op == OP_CONST) return f32c(c, x->fval);
        return L->val[x->id] ? L->val[x->id] : load_at(c, L, x, L->i);
    }
    if (n->op == OP_CONCAT || n->op == OP_SLICE || n->op == OP_UNSLICE) return elem_axis(c, L, n);
    if (n->op == OP_TAKE) {   /* i = (o, r), r < inner: x[o, at, r] */
        Node *x = n->in[0];
        int64_t inner = 1, m = x->shape.d[n->ax0];
        for (int q = n->ax0 + 1; q < x->shape.rank; q++) inner *= x->shape.d[q];
        LLVMValueRef delta, i = axis_i(c, L, n, &delta);
        LLVMValueRef o = LLVMBuildUDiv(b, i, i64c(c, inner), ""), r = LLVMBuildURem(b, i, i64c(c, inner), "");
        LLVMValueRef at = L->imm && L->imm[n->id] ? L->imm[n->id] : i64c(c, n->ax1);
        LLVMValueRef row = LLVMBuildAdd(b, LLVMBuildMul(b, o, i64c(c, m), ""), at, "");
        return load_at(c, L, x, plus(c, LLVMBuildAdd(b, LLVMBuildMul(b, row, i64c(c, inner), ""), r, ""), delta));
    }
    if (n->op == OP_GATHER) return elem_gather(c, L, n);
    if (n->op == OP_PERMUTE) return elem_permute(c, L, n);
    if (n->op == OP_CAUSAL) return elem_causal(c, L, n);
    if (n->op == OP_EXPAND) {
        Node *x = n->in[0];
        LLVMValueRef v = x->op == OP_CONST ? f32c(c, x->fval)
                       : L->val[x->id] ? L->val[x->id]
                       : load_at(c, L, x, operand_index(c, L, n->from, n->shape));
        if (n->fval != 1) v = LLVMBuildFMul(b, v, f32c(c, n->fval), "");
        if (n->div_batch) v = LLVMBuildFDiv(b, v, LLVMBuildSIToFP(b, L->f.batch, c->f32, ""), "");
        return v;
    }
    LLVMValueRef x = operand(c, L, n, n->in[0], aligned(n->in[0]->shape, n->shape));
    LLVMValueRef y = n->nin > 1 ? operand(c, L, n, n->in[1], aligned(n->in[1]->shape, n->shape)) : NULL;
    LLVMValueRef zero = f32c(c, 0), one = f32c(c, 1);
    if (n->op == OP_WHERE) {
        LLVMValueRef z = operand(c, L, n, n->in[2], aligned(n->in[2]->shape, n->shape));
        return sel(c, LLVMRealUNE, x, zero, y, z);
    }
    if (n->op == OP_EMA) {   /* (1 - m) buffer + m stat (n / (n - 1)) */
        LLVMValueRef st = LLVMBuildFMul(b, y, f32c(c, n->fval), "");
        if (n->div_batch) {
            LLVMValueRef cnt = LLVMBuildSIToFP(b, LLVMBuildMul(b, L->f.batch, i64c(c, n->ax0), ""), c->f32, "");
            LLVMValueRef den = LLVMBuildFSub(b, cnt, one, "");
            den = sel(c, LLVMRealOGT, den, zero, den, one);
            st = LLVMBuildFMul(b, st, LLVMBuildFDiv(b, cnt, den, ""), "");
        }
        return LLVMBuildFAdd(b, LLVMBuildFMul(b, x, f32c(c, 1 - n->fval), ""), st, "");
    }
    switch (n->op) {
    case OP_ADD: return LLVMBuildFAdd(b, x, y, "");
    case OP_SUB: return LLVMBuildFSub(b, x, y, "");
    case OP_MUL: return LLVMBuildFMul(b, x, y, "");
    case OP_DIV: return LLVMBuildFDiv(b, x, y, "");
    case OP_MAX: return sel(c, LLVMRealOGE, x, y, x, y);
    case OP_GE: return sel(c, LLVMRealOGE, x, y, one, zero);
    case OP_NEG: return LLVMBuildFNeg(b, x, "");
    case OP_EXP: return fast_exp(c, x);
    case OP_LOG: return intrinsic1(c, "llvm.log.f32", x);
    case OP_SQRT: return intrinsic1(c, "llvm.sqrt.f32", x);
    case OP_ABS: return intrinsic1(c, "llvm.fabs.f32", x);
    case OP_RELU: return sel(c, LLVMRealOGT, x, zero, x, zero);
    case OP_STEP: return sel(c, LLVMRealOGT, x, zero, one, zero);
    case OP_SIGN: return sel(c, LLVMRealOGT, x, zero, one, sel(c, LLVMRealOLT, x, zero, f32c(c, -1), zero));
    case OP_SIGMOID: /* 1 / (1 + e^-x) */
        return LLVMBuildFDiv(b, one, LLVMBuildFAdd(b, one, fast_exp(c, LLVMBuildFNeg(b, x, "")), ""), "");
    case OP_TANH: return fast_tanh(c, x);
    case OP_GELU: case OP_GELU_DX: return gelu(c, x, n->op == OP_GELU_DX);
    case OP_SOFTPLUS: { /* max(x, 0) + log1p(e^-|x|): no overflow for large |x| */
        LLVMValueRef ax = intrinsic1(c, "llvm.fabs.f32", x);
        LLVMValueRef t = libm1(c, "log1pf", fast_exp(c, LLVMBuildFNeg(b, ax, "")));
        return LLVMBuildFAdd(b, sel(c, LLVMRealOGT, x, zero, x, zero), t, "");
    }
    default:
        diag(DIAG_ERROR, n->span, "internal error in codegen: %s is not elementwise", ir_op_names[n->op]);
        return zero;
    }
}

static LLVMValueRef new_kernel_fn(Cg *c, int index, LLVMValueRef *ctx, LLVMValueRef *lo, LLVMValueRef *hi)
{
    LLVMValueRef fn = LLVMAddFunction(c->m, sym(c, arena_printf(c->g->arena, "k%d", index)), c->kernel_fn_t);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    /* Never inlined into a launcher: the loops of an unrolled recurrence share this one
     * function, and inlining it would copy it into every time step's launcher again. */
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->cx, noinline, 0));
    LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->cx, fn, "entry"));
    cg_dbg_function(c->dbg, fn, c->b, c->at);
    *ctx = LLVMGetParam(fn, 0);
    *lo = LLVMGetParam(fn, 1);
    *hi = LLVMGetParam(fn, 2);
    return fn;
}

static int loop_weight(const Kernel *k);

/* for (i = lo; i < hi; i++) body: returns i, leaves the builder in the body block;
 * loop_end closes it. */
typedef struct ForLoop { LLVMBasicBlockRef head, body, exit; LLVMValueRef i; } ForLoop;

static LLVMValueRef sel_i64(Cg *c, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b,
                            LLVMValueRef t, LLVMValueRef f)
{
    return LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, p, a, b, ""), t, f, "");
}

static ForLoop loop_begin(Cg *c, LLVMValueRef fn, LLVMValueRef lo, LLVMValueRef hi)
{
    ForLoop l;
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
    l.head = LLVMAppendBasicBlockInContext(c->cx, fn, "head");
    l.body = LLVMAppendBasicBlockInContext(c->cx, fn, "body");
    l.exit = LLVMAppendBasicBlockInContext(c->cx, fn, "exit");
    LLVMBuildBr(c->b, l.head);
    LLVMPositionBuilderAtEnd(c->b, l.head);
    l.i = LLVMBuildPhi(c->b, c->i64, "i");
    LLVMAddIncoming(l.i, &lo, &pre, 1);
    LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, l.i, hi, ""), l.body, l.exit);
    LLVMPositionBuilderAtEnd(c->b, l.body);
    return l;
}

static LLVMValueRef loop_end(Cg *c, ForLoop *l)   /* returns the back edge */
{
    LLVMValueRef next = LLVMBuildAdd(c->b, l->i, i64c(c, 1), "");
    LLVMBasicBlockRef from = LLVMGetInsertBlock(c->b);
    LLVMAddIncoming(l->i, &next, &from, 1);
    LLVMValueRef br = LLVMBuildBr(c->b, l->head);
    LLVMPositionBuilderAtEnd(c->b, l->exit);
    return br;
}

/* Asks LLVM to interleave the loop closed by back-edge br `count` times (llvm.loop
 * metadata: a self-referencing node with llvm.loop.interleave.count). */
static void loop_interleave(Cg *c, LLVMValueRef br, unsigned count)
{
    LLVMMetadataRef tmp = LLVMTemporaryMDNode(c->cx, NULL, 0);
    LLVMMetadataRef ops[2] = {LLVMMDStringInContext2(c->cx, "llvm.loop.interleave.count", 26),
                              LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(c->cx), count, 0))};
    LLVMMetadataRef self[2] = {tmp, LLVMMDNodeInContext2(c->cx, ops, 2)};
    LLVMMetadataRef id = LLVMMDNodeInContext2(c->cx, self, 2);
    LLVMMetadataReplaceAllUsesWith(tmp, id);
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(c->cx, "llvm.loop", 9), LLVMMetadataAsValue(c->cx, id));
}

/* Whether a and b lie at one place: the same node, or an epilogue's value written over
 * its product (plan.c's epilogue_in_place), which then share a slot, so that LLVM sees
 * one pointer: with two equal ones it would check them at run time, find them
 * overlapping and take the scalar loop. */
static bool same_memory(const Node *a, const Node *b)
{
    return a == b || (a->off == b->off && a->shape.batched == b->shape.batched && a->op != OP_CONST &&
                      b->op != OP_CONST && !a->place_in && !b->place_in);
}

/* Whether the forward segment runs only for inference (the training step has a forward
 * of its own, or there is no training). */
static bool forward_only_infers(const Graph *g)
{
    return g->inference || !g->has_train || !(ir_entry_segments(g, ENTRY_TRAIN) & 1u << SEG_FORWARD);
}

/* Whether loop kernel k is vectorized 512 bits wide where the target has them (LLVM's
 * x86 default is 256, as their clock costs the training step's loops as much as they
 * save): the loops of a forward that only inference runs, which are most of a batch-1
 * call's loops, in GEMM epilogues (bias, GELU, residual adds). char GPT's batch-1 forward
 * 890-897 -> 862-871 us on one thread, 563-571 -> 541-558 on two (alternated builds, four
 * times each). A model whose training step runs the same forward (no dropout, batch
 * norm or GELU in it) keeps 256. */
static bool wide_vectors(Cg *c, const Kernel *k)
{
    return k->seg == SEG_FORWARD && forward_only_infers(c->g) && !getenv("NNLC_NO_WIDE_LOOPS");
}

/* The memory an elementwise kernel touches, as slots: the stored nodes it writes and
 * the operands it reads from other kernels, in order of first use; and its immediates:
 * the TAKE nodes, whose time step is a launch argument too. Its signature is
 * everything its code depends on but those slots' offsets and steps, so the many
 * identical loops of an unrolled recurrence share one function, each launch passing its
 * own (KArgs below) — LLVM optimizes each loop once, not once per time step. */
static char *elem_signature(Cg *c, Kernel *k, Node **slots, int *nslots, Node **imms, int *nimms)
{
    Graph *g = c->g;
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    #define PUT(...) do {                                                         \
        int need_ = snprintf(NULL, 0, __VA_ARGS__);                              \
        while (len + need_ + 1 > cap) buf = realloc(buf, cap *= 2);             \
        if (!buf) abort();                                                       \
        len += snprintf(buf + len, cap - len, __VA_ARGS__);                      \
    } while (0)
    *nslots = *nimms = 0;
    #define SLOT(x) do {                                                          \
        int j_ = 0;                                                              \
        while (j_ < *nslots && !same_memory(slots[j_], (x))) j_++;              \
        if (j_ == *nslots) slots[(*nslots)++] = (x);                            \
        PUT("s%d%s", j_, shape_str(g->arena, (x)->shape));                     \
        if ((x)->place_in) PUT(" in rows %lld apart", (long long)(x)->place_ld); \
    } while (0)
    PUT("%s%s|", shape_str(g->arena, k->shape), wide_vectors(c, k) ? " zmm" : "");
    for (int j = 0; j < k->nodes.len; j++) {
        Node *n = k->nodes.items[j];
        int ax1 = n->ax1;
        if (n->op == OP_TAKE) {
            imms[(*nimms)++] = n;
            ax1 = -1;
        }
        PUT("%d %s ax%d,%d f%a b%d t%d%d %s", n->op, shape_str(g->arena, n->shape), n->ax0, ax1, n->fval,
            n->div_batch, n->trans_a, n->trans_b, shape_str(g->arena, n->from));
        for (int q = 0; q < 10; q++) PUT(",%lld", (long long)n->attr[q]);
        if (n->stored) { PUT(" w"); SLOT(n); }
        for (int q = 0; q < n->nin; q++) {
            Node *x = n->in[q];
            if (x->op == OP_CONST) PUT(" c%a%s", x->fval, shape_str(g->arena, x->shape));
            else if (x->kernel == n->kernel) {
                int pos = 0;
                while (pos < j && k->nodes.items[pos] != x) pos++;
                PUT(" l%d", pos);
            } else SLOT(x);
        }
        PUT(";");
    }
    #undef SLOT
    #undef PUT
    return buf;
}

/* A loop kernel's argument: the context, then one offset per slot (KArgs). */
static LLVMValueRef slot_base(Cg *c, Frame *f, Node *n, LLVMValueRef off)
{
    if (n->shape.batched)
        off = LLVMBuildAdd(c->b, i64c(c, c->g->fixed_floats), LLVMBuildMul(c->b, off, f->max_batch, ""), "");
    return LLVMBuildGEP2(c->b, c->f32, f->arena, &off, 1, "");
}

/* Where a value stored inside a STACK (stacks.c) puts flat index i: its row (the
 * sample) place_ld floats apart, the rest of the row contiguous. A row is a block
 * where the loop runs in blocks of whole rows; else it is divided out of i. */
static LLVMValueRef placed_index(Cg *c, Loop *L, Node *n)
{
    LLVMBuilderRef b = c->b;
    int64_t rs = 1;
    for (int k = 1; k < n->shape.rank; k++) rs *= n->shape.d[k];
    LLVMValueRef row, col;
    if (L->inner_axes && L->block == rs) {
        row = L->block_i;
        col = LLVMBuildSub(b, L->i, L->start, "");
    } else {
        row = LLVMBuildUDiv(b, L->i, i64c(c, rs), "");
        col = LLVMBuildSub(b, L->i, LLVMBuildMul(b, row, i64c(c, rs), ""), "");
    }
    return LLVMBuildAdd(b, LLVMBuildMul(b, row, i64c(c, n->place_ld), ""), col, "");
}

static LLVMValueRef gen_elem_kernel(Cg *c, int index, Kernel *k, Node **slots, int nslots, Node **imms,
                                    int nimms)
{
    Graph *g = c->g;
    LLVMValueRef kargs, lo, hi;
    LLVMValueRef fn = new_kernel_fn(c, index, &kargs, &lo, &hi);
    if (wide_vectors(c, k)) {
        LLVMAttributeRef at = LLVMCreateStringAttribute(c->cx, "prefer-vector-width", 19, "512", 3);
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, at);
    }
    LLVMValueRef zero = i64c(c, 0);
    LLVMValueRef ctx = LLVMBuildLoad2(c->b, c->ptr, LLVMBuildGEP2(c->b, c->i64, kargs, &zero, 1, ""), "ctx");
    Loop L = {.f = frame_load(c, ctx)};
    L.val = calloc(g->nodes.len, sizeof *L.val);
    L.base = calloc(g->nodes.len, sizeof *L.base);
    /* base pointers of everything the loop reads from memory or writes, hoisted */
    for (int j = 0; j < nslots; j++) {
        LLVMValueRef at = i64c(c, 1 + j);
        LLVMValueRef off = LLVMBuildLoad2(c->b, c->i64, LLVMBuildGEP2(c->b, c->i64, kargs, &at, 1, ""), "");
        L.base[slots[j]->id] = slot_base(c, &L.f, slots[j], off);
    }
    for (int j = 0; j < k->nodes.len; j++) {   /* nodes that share a slot (same_memory) */
        Node *n = k->nodes.items[j];
        for (int q = -1; q < n->nin; q++) {
            Node *x = q < 0 ? n : n->in[q];
            if (L.base[x->id] || x->op == OP_CONST || (q >= 0 && x->kernel == n->kernel) || (q < 0 && !n->stored))
                continue;
            for (int s = 0; s < nslots; s++)
                if (same_memory(slots[s], x)) L.base[x->id] = L.base[slots[s]->id];
        }
    }
    L.imm = calloc(g->nodes.len, sizeof *L.imm);
    for (int j = 0; j < nimms; j++) {
        LLVMValueRef at = i64c(c, 1 + nslots + j);
        L.imm[imms[j]->id] = LLVMBuildLoad2(c->b, c->i64, LLVMBuildGEP2(c->b, c->i64, kargs, &at, 1, ""), "");
    }
    /* a value stored inside a STACK (stacks.c): its base moved to its place in the
     * STACK's first row, passed at launch after the immediates (so the steps of a
     * recurrence still share the loop) */
    bool placed = false;
    for (int j = 0, q = 0; j < nslots; j++) {
        if (!slots[j]->place_in) continue;
        LLVMValueRef at = i64c(c, 1 + nslots + nimms + q++);
        LLVMValueRef po = LLVMBuildLoad2(c->b, c->i64, LLVMBuildGEP2(c->b, c->i64, kargs, &at, 1, ""), "");
        L.base[slots[j]->id] = LLVMBuildGEP2(c->b, c->f32, L.base[slots[j]->id], &po, 1, "");
        placed = true;
    }
    /* A kernel that reads a broadcast operand (a per-channel bias of f32[B, C, H, W])
     * runs in blocks of the trailing axes over which every such operand is contiguous
     * or constant (H x W): its index is then computed once a block, not divided out of
     * every i, and the inner loop vectorizes. */
    int64_t block = 1;
    bool blocks = placed;  /* a broadcast or an axis op reads better in blocks, and a
                              value in a STACK is stored a row at a time */
    L.inner_axes = k->shape.rank - (k->shape.batched ? 1 : 0);
    for (int j = 0; j < k->nodes.len; j++) {
        Node *n = k->nodes.items[j];
        int lim = axis_block_limit(n);
        if (lim > 0 && L.inner_axes > lim) L.inner_axes = lim;
        if (lim > 0) blocks = true;
        for (int q = 0; q < n->nin; q++) {
            Node *x = n->in[q];
            if (x->op == OP_CONST || x->kernel == n->kernel || n->op == OP_RESHAPE || lim >= 0)
                continue;
            Shape from = n->op == OP_EXPAND ? n->from : aligned(x->shape, n->shape);
            if (shape_eq(from, n->shape)) continue;
            blocks = true;
            while (L.inner_axes > 0 && !block_mode(from, n->shape, L.inner_axes)) L.inner_axes--;
        }
    }
    for (int a = k->shape.rank - L.inner_axes; a < k->shape.rank; a++) block *= k->shape.d[a];
    if (!blocks || block < 8) L.inner_axes = 0;
    ForLoop fo = {0}, fl;
    if (L.inner_axes) {   /* blocks [o block, (o + 1) block) clipped to [lo, hi) */
        LLVMValueRef nb = i64c(c, block);
        LLVMValueRef olo = LLVMBuildSDiv(c->b, lo, nb, "");
        LLVMValueRef ohi = LLVMBuildSDiv(c->b, LLVMBuildAdd(c->b, hi, i64c(c, block - 1), ""), nb, "");
        fo = loop_begin(c, fn, olo, ohi);
        L.block_i = fo.i;
        L.block = block;
        L.start = LLVMBuildMul(c->b, fo.i, nb, "start");
        LLVMValueRef end = LLVMBuildAdd(c->b, L.start, nb, "");
        LLVMValueRef j0 = sel_i64(c, LLVMIntSGT, lo, L.start, lo, L.start);
        LLVMValueRef j1 = sel_i64(c, LLVMIntSLT, hi, end, hi, end);
        LLVMBasicBlockRef outer = LLVMGetInsertBlock(c->b);
        fl = loop_begin(c, fn, j0, j1);
        L.hoist = LLVMGetBasicBlockTerminator(outer);
    } else {
        fl = loop_begin(c, fn, lo, hi);
    }
    L.i = fl.i;
    for (int j = 0; j < k->nodes.len; j++) {
        Node *n = k->nodes.items[j];
        cg_dbg_at(c->dbg, c->b, n->span);
        LLVMValueRef v = elem(c, &L, n);
        L.val[n->id] = v;
        if (n->stored) {
            LLVMValueRef idx = n->place_in ? placed_index(c, &L, n) : L.i;
            LLVMValueRef p = LLVMBuildGEP2(c->b, c->f32, L.base[n->id], &idx, 1, "");
            LLVMBuildStore(c->b, v, p);
        }
    }
    LLVMValueRef back = loop_end(c, &fl);
    /* a loop with exp, tanh, sigmoid or GELU: each element is a long chain of dependent
     * multiply-adds and a division, and LLVM left such bodies at one vector an iteration;
     * two side by side overlap their chains (Zen 3, one thread: the LSTM cell's loops
     * 1,188-1,470 -> 963-1,220 us a step, char GPT's products with GELU epilogues
     * 15.6-18.7 -> 15.0-15.8 ms; the same values: each element is computed as before) */
    if (loop_weight(k) > 1 && !getenv("NNLC_NO_INTERLEAVE")) loop_interleave(c, back, 2);
    if (L.inner_axes) loop_end(c, &fo);
    LLVMBuildRetVoid(c->b);
    free(L.val);
    free(L.base);
    free(L.imm);
    return fn;
}

static LLVMValueRef new_launcher(Cg *c, int index, Frame *f);
static void launch_loop(Cg *c, Frame *f, LLVMValueRef fn, LLVMValueRef n, int weight);
static int loop_weight(const Kernel *k);

/* The loop function of kernel k, made or shared with an identical earlier one, and what
 * its launch passes it (KArgs: {ctx, offsets of k's slots, its immediates, the places
 * of its slots that lie inside a STACK}). */
typedef struct LoopFn {
    LLVMValueRef fn;
    Node **slots, **imms;
    int nslots, nimms;
} LoopFn;

static LoopFn loop_fn(Cg *c, int index, Kernel *k)
{
    LoopFn l = {0};
    for (int j = 0; j < k->nodes.len; j++) l.nslots += 1 + ((Node *)k->nodes.items[j])->nin;
    l.slots = malloc((l.nslots + 1) * sizeof *l.slots);
    l.imms = malloc((k->nodes.len + 1) * sizeof *l.imms);
    if (!l.slots || !l.imms) abort();
    char *sig = elem_signature(c, k, l.slots, &l.nslots, l.imms, &l.nimms);
    for (int i = 0; i < c->loop_sigs.len && !l.fn; i++)
        if (!strcmp(c->loop_sigs.items[i], sig)) l.fn = c->loop_fns.items[i];
    if (!l.fn) {
        l.fn = gen_elem_kernel(c, index, k, l.slots, l.nslots, l.imms, l.nimms);
        vec_push(c->g->arena, &c->loop_sigs, arena_strdup(c->g->arena, sig));
        vec_push(c->g->arena, &c->loop_fns, l.fn);
    }
    free(sig);
    return l;
}

/* KArgs of l on the current launcher's stack; frees l's lists. */
static LLVMValueRef loop_kargs(Cg *c, Frame *f, LoopFn *l)
{
    int nplaced = 0;
    for (int j = 0; j < l->nslots; j++) nplaced += l->slots[j]->place_in != NULL;
    LLVMTypeRef at = LLVMArrayType2(c->i64, 1 + l->nslots + l->nimms + nplaced);
    LLVMValueRef kargs = LLVMBuildAlloca(c->b, at, "kargs");
    LLVMValueRef zero = i64c(c, 0);
    LLVMBuildStore(c->b, f->ctx, LLVMBuildGEP2(c->b, c->i64, kargs, &zero, 1, ""));
    for (int j = 0; j < l->nslots; j++) {
        LLVMValueRef i = i64c(c, 1 + j);
        LLVMBuildStore(c->b, i64c(c, l->slots[j]->off), LLVMBuildGEP2(c->b, c->i64, kargs, &i, 1, ""));
    }
    for (int j = 0; j < l->nimms; j++) {
        LLVMValueRef i = i64c(c, 1 + l->nslots + j);
        LLVMBuildStore(c->b, i64c(c, l->imms[j]->ax1), LLVMBuildGEP2(c->b, c->i64, kargs, &i, 1, ""));
    }
    for (int j = 0, q = 0; j < l->nslots; j++) {   /* a value's place in its STACK */
        if (!l->slots[j]->place_in) continue;
        LLVMValueRef i = i64c(c, 1 + l->nslots + l->nimms + q++);
        LLVMBuildStore(c->b, i64c(c, l->slots[j]->place_off), LLVMBuildGEP2(c->b, c->i64, kargs, &i, 1, ""));
    }
    free(l->slots);
    free(l->imms);
    l->slots = l->imms = NULL;
    return kargs;
}

/* A loop kernel and its launcher. */
static void gen_loop_kernel(Cg *c, int index, Kernel *k)
{
    LoopFn l = loop_fn(c, index, k);
    Frame f;
    c->launch[index] = new_launcher(c, index, &f);
    Frame kf = f;
    kf.ctx = loop_kargs(c, &f, &l);
    launch_loop(c, &kf, l.fn, numel(c, &f, k->shape), loop_weight(k));
}

/* ----- the optimizer update: one loop over the whole parameter block ----- */

/* The update's operands, read at a kernel's entry: the parameter, gradient and state
 * blocks, and the scalars its formula needs (clip and c1, c2 NULL where unused). */
typedef struct {
    LLVMValueRef pp, gp, s1, s2, lr, clip, c1, c2, flag;
} UpdateArgs;

static UpdateArgs update_args(Cg *c, Frame *f)
{
    Graph *g = c->g;
    const NnlOptim *o = &g->train.optim;
    LLVMBuilderRef b = c->b;
    UpdateArgs u = {.lr = f->lr};
    LLVMValueRef poff = i64c(c, g->param_off), goff = i64c(c, g->grad_off), coff = i64c(c, g->clip_off);
    LLVMValueRef s1off = i64c(c, g->state_off), s2off = i64c(c, g->state_off + g->nparam_floats);
    u.pp = LLVMBuildGEP2(b, c->f32, f->arena, &poff, 1, "params");
    u.gp = LLVMBuildGEP2(b, c->f32, f->arena, &goff, 1, "grads");
    u.s1 = LLVMBuildGEP2(b, c->f32, f->arena, &s1off, 1, "m");
    u.s2 = LLVMBuildGEP2(b, c->f32, f->arena, &s2off, 1, "v");
    LLVMValueRef foff = i64c(c, g->finite_off);
    u.flag = LLVMBuildGEP2(b, c->f32, f->arena, &foff, 1, "finite");
    if (g->train.clip_norm > 0)
        u.clip = LLVMBuildLoad2(b, c->f32, LLVMBuildGEP2(b, c->f32, f->arena, &coff, 1, ""), "clip");
    if (o->kind == NNL_OPT_ADAM || o->kind == NNL_OPT_ADAMW) {
        /* 1 / (1 - beta^t), in double */
        LLVMValueRef t = LLVMBuildSIToFP(b, LLVMBuildAdd(b, f->step, i64c(c, 1), ""), c->f64, "t");
        LLVMTypeRef pt[2] = {c->f64, c->f64};
        LLVMValueRef pw = extern_fn(c, "pow", c->f64, pt, 2);
        LLVMValueRef a1[2] = {LLVMConstReal(c->f64, o->beta1), t}, a2[2] = {LLVMConstReal(c->f64, o->beta2), t};
        LLVMValueRef one = LLVMConstReal(c->f64, 1);
        u.c1 = LLVMBuildFPTrunc(b, LLVMBuildFDiv(b, one, LLVMBuildFSub(b, one, call(c, pw, a1, 2), ""), ""), c->f32, "c1");
        u.c2 = LLVMBuildFPTrunc(b, LLVMBuildFDiv(b, one, LLVMBuildFSub(b, one, call(c, pw, a2, 2), ""), ""), c->f32, "c2");
    }
    return u;
}

/* Scalar x as a value of type t: x itself, or x in every lane of vector type t. */
static LLVMValueRef lanes(Cg *c, LLVMTypeRef t, LLVMValueRef x)
{
    if (LLVMGetTypeKind(t) != LLVMVectorTypeKind) return x;
    LLVMValueRef v = LLVMBuildInsertElement(c->b, LLVMGetUndef(t), x, i32c(c, 0), "");
    LLVMTypeRef mt = LLVMVectorType(c->i32, LLVMGetVectorSize(t));
    return LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(t), LLVMConstNull(mt), "");
}

/* A load or store of type t at p + i (p a float pointer), aligned to 4 bytes only. */
static LLVMValueRef update_load(Cg *c, LLVMTypeRef t, LLVMValueRef p, LLVMValueRef i, const char *name)
{
    LLVMValueRef l = LLVMBuildLoad2(c->b, t, LLVMBuildGEP2(c->b, c->f32, p, &i, 1, ""), name);
    LLVMSetAlignment(l, 4);
    return l;
}

static LLVMValueRef update_store(Cg *c, LLVMValueRef v, LLVMValueRef p, LLVMValueRef i)
{
    LLVMValueRef s = LLVMBuildStore(c->b, v, LLVMBuildGEP2(c->b, c->f32, p, &i, 1, ""));
    LLVMSetAlignment(s, 4);
    return s;
}

/* Constant k in every lane of int32 vector type it. */
static LLVMValueRef splat_i32(Cg *c, LLVMTypeRef it, LLVMValueRef k)
{
    unsigned n = LLVMGetVectorSize(it);
    LLVMValueRef *v = malloc(n * sizeof *v);
    if (!v) abort();
    for (unsigned q = 0; q < n; q++) v[q] = k;
    LLVMValueRef r = LLVMConstVector(v, n);
    free(v);
    return r;
}

/* x's bits (f32 or a vector of them) as int32, the sign bit set exactly where x is NaN
 * or Inf: the exponent field plus one carries into it only when the field is all ones. */
static LLVMValueRef nonfinite_bits(Cg *c, LLVMTypeRef t, LLVMValueRef x)
{
    bool vec = LLVMGetTypeKind(t) == LLVMVectorTypeKind;
    LLVMTypeRef it = vec ? LLVMVectorType(c->i32, LLVMGetVectorSize(t)) : c->i32;
    LLVMValueRef e = LLVMConstInt(c->i32, 0x7f800000u, 0), one = LLVMConstInt(c->i32, 0x00800000u, 0);
    if (vec) {
        e = splat_i32(c, it, e);
        one = splat_i32(c, it, one);
    }
    LLVMValueRef bits = LLVMBuildBitCast(c->b, x, it, "");
    return LLVMBuildAdd(c->b, LLVMBuildAnd(c->b, bits, e, ""), one, "");
}

/* The update of the elements at i, of type t (f32, or a vector of f32 for as many
 * elements); returns the store of the new parameters, and in *bad nonfinite_bits of the
 * gradient (as read) and of the new parameter, or'ed. Per element, with g scaled by the
 * clip factor when clipping:
 *   SGD:     g += wd p; v = mu v + g (momentum); p -= lr v
 *   Adam:    g += wd p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *            p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps), t = step + 1
 *   AdamW:   Adam without the L2 term, and p -= lr wd p besides (decoupled)
 *   RMSprop: g += wd p; v = rho v + (1-rho) g^2; s = g / (sqrt(v) + eps);
 *            b = mu b + s (momentum); p -= lr b */
static LLVMValueRef update_elems(Cg *c, const UpdateArgs *u, LLVMValueRef i, LLVMTypeRef t, LLVMValueRef *bad)
{
    const NnlOptim *o = &c->g->train.optim;
    bool adam = o->kind == NNL_OPT_ADAM || o->kind == NNL_OPT_ADAMW, rms = o->kind == NNL_OPT_RMSPROP;
    LLVMBuilderRef b = c->b;
#define K(v) lanes(c, t, f32c(c, (v)))
    LLVMValueRef p = update_load(c, t, u->pp, i, "p"), gr = update_load(c, t, u->gp, i, "g"), g0 = gr;
    if (u->clip) gr = LLVMBuildFMul(b, gr, lanes(c, t, u->clip), "");
    if (o->weight_decay != 0 && o->kind != NNL_OPT_ADAMW)
        gr = LLVMBuildFAdd(b, gr, LLVMBuildFMul(b, K(o->weight_decay), p, ""), "");
    LLVMValueRef step;
    if (adam) {
        LLVMValueRef m = update_load(c, t, u->s1, i, "m"), v = update_load(c, t, u->s2, i, "v");
        m = LLVMBuildFAdd(b, LLVMBuildFMul(b, K(o->beta1), m, ""), LLVMBuildFMul(b, K(1 - o->beta1), gr, ""), "");
        v = LLVMBuildFAdd(b, LLVMBuildFMul(b, K(o->beta2), v, ""),
                          LLVMBuildFMul(b, K(1 - o->beta2), LLVMBuildFMul(b, gr, gr, ""), ""), "");
        update_store(c, m, u->s1, i);
        update_store(c, v, u->s2, i);
        LLVMValueRef den = LLVMBuildFAdd(b, intrinsic1t(c, "llvm.sqrt.f32", t, LLVMBuildFMul(b, v, lanes(c, t, u->c2), "")),
                                         K(o->eps), "");
        step = LLVMBuildFDiv(b, LLVMBuildFMul(b, m, lanes(c, t, u->c1), ""), den, "");
        if (o->kind == NNL_OPT_ADAMW && o->weight_decay != 0)
            step = LLVMBuildFAdd(b, step, LLVMBuildFMul(b, K(o->weight_decay), p, ""), "");
    } else if (rms) {
        LLVMValueRef v = update_load(c, t, u->s1, i, "v");
        v = LLVMBuildFAdd(b, LLVMBuildFMul(b, K(o->beta2), v, ""),
                          LLVMBuildFMul(b, K(1 - o->beta2), LLVMBuildFMul(b, gr, gr, ""), ""), "");
        update_store(c, v, u->s1, i);
        step = LLVMBuildFDiv(b, gr, LLVMBuildFAdd(b, intrinsic1t(c, "llvm.sqrt.f32", t, v), K(o->eps), ""), "");
        if (o->momentum != 0) {
            step = LLVMBuildFAdd(b, LLVMBuildFMul(b, K(o->momentum), update_load(c, t, u->s2, i, ""), ""), step, "");
            update_store(c, step, u->s2, i);
        }
    } else if (o->momentum != 0) {
        step = LLVMBuildFAdd(b, LLVMBuildFMul(b, K(o->momentum), update_load(c, t, u->s1, i, ""), ""), gr, "");
        update_store(c, step, u->s1, i);
    } else {
        step = gr;
    }
#undef K
    LLVMValueRef np = LLVMBuildFSub(b, p, LLVMBuildFMul(b, lanes(c, t, u->lr), step, ""), "");
    *bad = LLVMBuildOr(b, nonfinite_bits(c, t, g0), nonfinite_bits(c, t, np), "bad");
    return update_store(c, np, u->pp, i);
}

/* An or of nonfinite_bits over a loop: acc, a slot in the kernel's entry block (a phi
 * once LLVM promotes it, so the loop stays vectorizable), and at the end, where any
 * value's sign bit is set, 1 stored to the update's flag (any thread may store it). */
static LLVMValueRef flag_acc(Cg *c, LLVMTypeRef it)
{
    LLVMValueRef acc = LLVMBuildAlloca(c->b, it, "bad");
    LLVMBuildStore(c->b, LLVMConstNull(it), acc);
    return acc;
}

static void flag_or(Cg *c, LLVMTypeRef it, LLVMValueRef acc, LLVMValueRef bad)
{
    LLVMBuildStore(c->b, LLVMBuildOr(c->b, LLVMBuildLoad2(c->b, it, acc, ""), bad, ""), acc);
}

static void flag_report(Cg *c, LLVMValueRef fn, LLVMTypeRef it, LLVMValueRef acc, LLVMValueRef flag)
{
    LLVMValueRef v = LLVMBuildLoad2(c->b, it, acc, "");
    if (LLVMGetTypeKind(it) == LLVMVectorTypeKind) v = intrinsic1t(c, "llvm.vector.reduce.or", it, v);
    LLVMBasicBlockRef set = LLVMAppendBasicBlockInContext(c->cx, fn, "not_finite");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->cx, fn, "reported");
    LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, v, i32c(c, 0), ""), set, done);
    LLVMPositionBuilderAtEnd(c->b, set);
    LLVMValueRef st = LLVMBuildStore(c->b, i32c(c, 1), flag);
    LLVMSetOrdering(st, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(st, 4);
    LLVMBuildBr(c->b, done);
    LLVMPositionBuilderAtEnd(c->b, done);
}

/* The update kernel over [lo, hi) of the trainable block. */
static LLVMValueRef gen_update_kernel(Cg *c, int index, Kernel *k)
{
    LLVMValueRef ctx, lo, hi, bad;
    LLVMValueRef fn = new_kernel_fn(c, index, &ctx, &lo, &hi);
    Frame f = frame_load(c, ctx);
    UpdateArgs u = update_args(c, &f);
    LLVMValueRef acc = flag_acc(c, c->i32);
    ForLoop fl = loop_begin(c, fn, lo, hi);
    update_elems(c, &u, fl.i, c->f32, &bad);
    flag_or(c, c->i32, acc, bad);
    loop_end(c, &fl);
    flag_report(c, fn, c->i32, acc, u.flag);
    LLVMBuildRetVoid(c->b);
    (void)k;
    return fn;
}

/* The update kernel a thread runs when the block is split between threads: the new
 * parameters written with non-temporal stores, which take the lines out of every cache.
 * Both threads read every weight in the GEMMs of a step, so each line of a parameter is
 * in both cores' caches when the update writes it; an ordinary store first waits for the
 * other core to drop its copy (the MLP's update: 438 us a step on two threads against
 * 289 on one), a non-temporal one does not (201 us), at the cost of the next forward
 * reading the weights from memory. Whole aligned vectors of 16 in the middle, the scalar
 * kernel at either end. */
static LLVMValueRef gen_update_split_kernel(Cg *c, int index, LLVMValueRef scalar)
{
    LLVMBuilderRef b = c->b;
    LLVMValueRef ctx, lo, hi;
    LLVMValueRef fn = new_kernel_fn(c, index, &ctx, &lo, &hi);
    const char *name = sym(c, arena_printf(c->g->arena, "k%d_split", index));
    LLVMSetValueName2(fn, name, strlen(name));
    Frame f = frame_load(c, ctx);
    UpdateArgs u = update_args(c, &f);
    enum { W = 16 };
    /* a: the first element at or after lo whose parameter is 64-byte aligned; e: the end of
     * the whole vectors from a */
    LLVMValueRef at_lo = LLVMBuildPtrToInt(b, LLVMBuildGEP2(b, c->f32, u.pp, &lo, 1, ""), c->i64, "");
    LLVMValueRef skip = LLVMBuildAnd(b, LLVMBuildLShr(b, LLVMBuildNeg(b, at_lo, ""), i64c(c, 2), ""),
                                     i64c(c, W - 1), "");
    LLVMValueRef a = LLVMBuildAdd(b, lo, skip, "");
    a = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, a, hi, ""), a, hi, "a");
    LLVMValueRef nvec = LLVMBuildSDiv(b, LLVMBuildSub(b, hi, a, ""), i64c(c, W), "nvec");
    LLVMValueRef e = LLVMBuildAdd(b, a, LLVMBuildMul(b, nvec, i64c(c, W), ""), "e");
    LLVMValueRef head[3] = {ctx, lo, a}, tail[3] = {ctx, e, hi};
    LLVMBuildCall2(b, c->kernel_fn_t, scalar, head, 3, "");
    LLVMTypeRef vt = LLVMVectorType(c->f32, W), it = LLVMVectorType(c->i32, W);
    LLVMValueRef acc = flag_acc(c, it), bad;
    ForLoop fl = loop_begin(c, fn, i64c(c, 0), nvec);
    LLVMValueRef i = LLVMBuildAdd(b, a, LLVMBuildMul(b, fl.i, i64c(c, W), ""), "");
    LLVMValueRef st = update_elems(c, &u, i, vt, &bad);
    flag_or(c, it, acc, bad);
    LLVMSetAlignment(st, 4 * W);
    LLVMMetadataRef one = LLVMValueAsMetadata(i32c(c, 1));
    LLVMSetMetadata(st, LLVMGetMDKindIDInContext(c->cx, "nontemporal", 11),
                    LLVMMetadataAsValue(c->cx, LLVMMDNodeInContext2(c->cx, &one, 1)));
    loop_end(c, &fl);
    flag_report(c, fn, it, acc, u.flag);
    LLVMBuildCall2(b, c->kernel_fn_t, scalar, tail, 3, "");
    LLVMBuildRetVoid(b);
    return fn;
}

/* The clip factor min(1, clip_norm / |g|) over the whole trainable gradient block, into
 * its arena slot before the update loop reads it (PyTorch's clip_grad_norm_). */
static void gen_clip(Cg *c, Frame *f)
{
    Graph *g = c->g;
    LLVMBuilderRef b = c->b;
    LLVMValueRef goff = i64c(c, g->grad_off), coff = i64c(c, g->clip_off);
    LLVMTypeRef pt[2] = {c->ptr, c->i64};
    LLVMValueRef a[2] = {LLVMBuildGEP2(b, c->f32, f->arena, &goff, 1, ""), i64c(c, g->ntrain_floats)};
    LLVMValueRef ss = call(c, extern_fn(c, "nnl_sum_squares", c->f64, pt, 2), a, 2);
    LLVMValueRef norm = intrinsic1t(c, "llvm.sqrt.f64", c->f64, ss);
    LLVMValueRef lim = LLVMConstReal(c->f64, g->train.clip_norm);
    LLVMValueRef q = LLVMBuildFDiv(b, lim, LLVMBuildFAdd(b, norm, LLVMConstReal(c->f64, 1e-6), ""), "");
    LLVMValueRef fct = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, q, LLVMConstReal(c->f64, 1), ""), q,
                                       LLVMConstReal(c->f64, 1), "");
    LLVMBuildStore(b, LLVMBuildFPTrunc(b, fct, c->f32, ""), LLVMBuildGEP2(b, c->f32, f->arena, &coff, 1, ""));
}

/* ----- launchers: one per kernel, called from the entry points ----- */

/* Launchers stay functions of their own: inlined, a model with thousands of kernels (an
 * unrolled recurrence) makes entry points so large that LLVM's optimizer takes minutes. */
static LLVMValueRef new_launcher(Cg *c, int index, Frame *f)
{
    LLVMValueRef fn = LLVMAddFunction(c->m, sym(c, arena_printf(c->g->arena, "launch%d", index)), c->step_fn_t);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->cx, noinline, 0));
    /* A launcher only computes pointers and calls a kernel: there is nothing to optimize
     * that would show beside the kernel, and an unrolled recurrence has hundreds of them,
     * so LLVM leaves them as they are (compile time). */
    unsigned optnone = LLVMGetEnumAttributeKindForName("optnone", 7);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->cx, optnone, 0));
    LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->cx, fn, "entry"));
    cg_dbg_function(c->dbg, fn, c->b, c->at);
    *f = frame_load(c, LLVMGetParam(fn, 0));
    return fn;
}

/* The work of one element of an elementwise kernel, in units of a plain arithmetic
 * element (what NNL_PAR_MIN_ELEMS counts): 1, and WEIGHT_TRANSCENDENTAL more for each
 * exp, tanh, sigmoid, log or softplus (tens of instructions each, where an add is one).
 * An LSTM cell's loop over 32x128 elements, five of them a value, takes ~24 us on one
 * thread: as much as 16384 plain elements take several times over. */
enum { WEIGHT_TRANSCENDENTAL = 4 };
static int loop_weight(const Kernel *k)
{
    int w = 1;
    for (int i = 0; i < k->nodes.len; i++) {
        switch (((Node *)k->nodes.items[i])->op) {
        case OP_EXP: case OP_TANH: case OP_SIGMOID: case OP_LOG: case OP_SOFTPLUS: case OP_GELU:
        case OP_GELU_DX:
            w += WEIGHT_TRANSCENDENTAL;
            break;
        default:
            break;
        }
    }
    return w;
}

/* n elements of loop kernel fn, each of the given weight (loop_weight): serial below
 * PAR_MIN_ELEMS plain elements of work, else nnl_parallel_for (nnl_parallel_for_work when
 * weight > 1). */
static void launch_loop(Cg *c, Frame *f, LLVMValueRef fn, LLVMValueRef n, int weight)
{
    LLVMValueRef self = LLVMGetBasicBlockParent(LLVMGetInsertBlock(c->b));
    LLVMBasicBlockRef ser = LLVMAppendBasicBlockInContext(c->cx, self, "serial");
    LLVMBasicBlockRef par = LLVMAppendBasicBlockInContext(c->cx, self, "parallel");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->cx, self, "done");
    int64_t min_n = (PAR_MIN_ELEMS + weight - 1) / weight;
    LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, n, i64c(c, min_n), ""), ser, par);
    LLVMPositionBuilderAtEnd(c->b, ser);
    LLVMValueRef a[3] = {f->ctx, i64c(c, 0), n};
    LLVMBuildCall2(c->b, c->kernel_fn_t, fn, a, 3, "");
    LLVMBuildBr(c->b, done);
    LLVMPositionBuilderAtEnd(c->b, par);
    if (weight > 1) {
        LLVMTypeRef pt[4] = {c->ptr, c->ptr, c->i64, c->i32};
        LLVMValueRef pa[4] = {fn, f->ctx, n, i32c(c, weight)};
        call(c, extern_fn(c, "nnl_parallel_for_work", c->vd, pt, 4), pa, 4);
    } else {
        LLVMTypeRef pt[3] = {c->ptr, c->ptr, c->i64};
        LLVMValueRef pa[3] = {fn, f->ctx, n};
        call(c, extern_fn(c, "nnl_parallel_for", c->vd, pt, 3), pa, 3);
    }
    LLVMBuildBr(c->b, done);
    LLVMPositionBuilderAtEnd(c->b, done);
}

/* The update over the trainable block: serial when small, else split parameter by
 * parameter (nnl_update_segments), so that each thread updates the half of a gradient
 * that the GEMM which wrote it left in its own cache, with split_fn. */
static void launch_update(Cg *c, Frame *f, LLVMValueRef fn, LLVMValueRef split_fn)
{
    Graph *g = c->g;
    int64_t n = g->ntrain_floats;
    if (n < PAR_MIN_ELEMS) {
        LLVMValueRef a[3] = {f->ctx, i64c(c, 0), i64c(c, n)};
        LLVMBuildCall2(c->b, c->kernel_fn_t, fn, a, 3, "");
        return;
    }
    LLVMValueRef *b = malloc((g->params.len + 1) * sizeof *b);
    if (!b) abort();
    int nseg = 0;
    for (int i = 0; i < g->params.len; i++) {
        ParamInfo *p = g->params.items[i];
        if (!p->buffer) b[nseg++] = i64c(c, p->offset);
    }
    b[nseg] = i64c(c, n);
    LLVMValueRef bounds = const_array(c, "update_segments", c->i64, b, nseg + 1);
    free(b);
    LLVMTypeRef pt[5] = {c->ptr, c->ptr, c->ptr, c->ptr, c->i32};
    LLVMValueRef pf = extern_fn(c, "nnl_update_segments", c->vd, pt, 5);
    LLVMValueRef pa[5] = {fn, split_fn, f->ctx, bounds, i32c(c, nseg)};
    call(c, pf, pa, 5);
}

/* A 2-D view of a node for GEMM: rows = all leading axes, cols = the last axis. */
static void view2d(Cg *c, Frame *f, Node *x, LLVMValueRef *rows, int64_t *cols)
{
    int r = x->shape.rank;
    *cols = x->shape.d[r - 1];
    *rows = dims_prod(c, f, x->shape, 0, r - 1);
}

/* y = op(a) @ op(b) */
/* y = op(a) @ op(b); with an epilogue (ep: its loop function and KArgs), nnl_sgemm_ep. */
/* The key nnl_sgemm_kept knows a product's B by (its node's id + 1), where B is the B of
 * other products too, the same way round: a recurrent weight, or its transposed copy, at
 * every step of an RNN, packed once for all of them (its values do not change in a run
 * of the step; the runtime drops the packed copy when the parameters are updated). 0:
 * B used by fewer products, packed by each as usual (the first product packs a kept B
 * whole on one thread: for two uses, about what it saves). And a parameter that a
 * forward only inference runs multiplies: the runtime keeps its packed copy from one
 * call to the next while nothing writes the parameters (NnlModel.params_settled), so
 * that a batch-1 call packs no weights (char GPT batch-1 1,510 -> 1,378-1,403 us one
 * thread, 896-915 -> 818-874 two, Zen 3). NNLC_NO_KEPT=1 in nnlc's environment: none
 * kept (tests/e2e/kept.sh compares). */
enum { KEPT_MIN_USES = 3 };
static int64_t kept_key(const Graph *g, const Node *n)
{
    if (getenv("NNLC_NO_KEPT")) return 0;
    if (n->seg == SEG_FORWARD && n->in[1]->op == OP_PARAM && forward_only_infers(g)) return (int64_t)n->in[1]->id + 1;
    int uses = 0;
    for (int i = 0; i < g->nodes.len && uses < KEPT_MIN_USES; i++) {
        const Node *u = g->nodes.items[i];
        if (u->op == OP_MATMUL && u->nin == 2 && u->in[1] == n->in[1] && u->trans_b == n->trans_b) uses++;
    }
    return uses >= KEPT_MIN_USES ? (int64_t)n->in[1]->id + 1 : 0;
}

static void gen_gemm(Cg *c, Frame *f, Node *n, LLVMValueRef ep, LLVMValueRef ep_args)
{
    Node *a = n->in[0], *bb = n->in[1];
    LLVMValueRef ra, rb;
    int64_t ca, cb;
    view2d(c, f, a, &ra, &ca);
    view2d(c, f, bb, &rb, &cb);
    LLVMValueRef m = n->trans_a ? i64c(c, ca) : ra, k = n->trans_a ? ra : i64c(c, ca);
    LLVMValueRef nn = n->trans_b ? rb : i64c(c, cb);
    LLVMTypeRef pt[14] = {c->i32, c->i32, c->i64, c->i64, c->i64, c->f32, c->ptr, c->i64,
                          c->ptr, c->i64, c->f32, c->ptr, c->i64, c->ptr};
    LLVMValueRef pa = node_ptr(c, f, a), lda = i64c(c, ca);
    if (a->place_in) {   /* A's rows inside a STACK (stacks.c; never transposed) */
        LLVMValueRef po = i64c(c, a->place_off);
        pa = LLVMBuildGEP2(c->b, c->f32, pa, &po, 1, "");
        lda = i64c(c, a->place_ld);
    }
    LLVMValueRef args[14] = {i32c(c, n->trans_a), i32c(c, n->trans_b), m, nn, k, f32c(c, 1),
                             pa, lda, node_ptr(c, f, bb), i64c(c, cb),
                             f32c(c, 0), node_ptr(c, f, n), nn, NULL};
    int64_t key = kept_key(c->g, n);
    if (key) {   /* ..., c, ldc, ep, ep_args, key */
        LLVMTypeRef kt[16];
        LLVMValueRef ka[16];
        memcpy(kt, pt, 13 * sizeof *kt);
        memcpy(ka, args, 13 * sizeof *ka);
        kt[13] = kt[14] = c->ptr;
        kt[15] = c->i64;
        ka[13] = ep ? ep : LLVMConstNull(c->ptr);
        ka[14] = ep ? ep_args : LLVMConstNull(c->ptr);
        ka[15] = i64c(c, key);
        call(c, extern_fn(c, "nnl_sgemm_kept", c->vd, kt, 16), ka, 16);
    } else if (ep) {   /* ..., c, ep, ep_args: C contiguous */
        pt[12] = c->ptr;
        args[12] = ep;
        args[13] = ep_args;
        call(c, extern_fn(c, "nnl_sgemm_ep", c->vd, pt, 14), args, 14);
    } else {
        call(c, extern_fn(c, "nnl_sgemm", c->vd, pt, 13), args, 13);
    }
}

/* Whether every reader of v (a BMM's product, or an elementwise value of its shape
 * computed from it) reads only its lower triangle: a causal softmax, a causal softmax's
 * adjoint as its dy, or elementwise values of the same shape read only so in turn. */
static bool lower_only(const Graph *g, const Node *v, int depth)
{
    if (v->pinned || depth > 8) return false;
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *u = g->nodes.items[i];
        for (int k = 0; k < u->nin; k++) {
            if (u->in[k] != v) continue;
            if (u->op == OP_SOFTMAX && u->attr[0]) continue;
            if (u->op == OP_SOFTMAX_DX && u->attr[0] && k == 1) continue;
            bool elementwise = false;
            switch (u->op) {
            case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MAX: case OP_NEG: case OP_EXP:
            case OP_LOG: case OP_SQRT: case OP_RELU: case OP_SIGMOID: case OP_TANH: case OP_SOFTPLUS:
            case OP_GELU: case OP_GELU_DX: case OP_ABS: case OP_STEP: case OP_SIGN: case OP_GE: case OP_WHERE:
                elementwise = shape_eq(u->shape, v->shape);
                break;
            default: break;
            }
            if (!elementwise || !lower_only(g, u, depth + 1)) return false;
        }
    }
    return true;
}

/* The runtime's NNL_TRI_* hint for a BMM n: its A the output of a causal softmax or of
 * its adjoint (0 past the diagonal), or its product read only below the diagonal. */
static int bmm_triangle(const Graph *g, const Node *n)
{
    const Node *a = n->in[0];
    int r = n->shape.rank;
    if ((a->op == OP_SOFTMAX || a->op == OP_SOFTMAX_DX) && a->attr[0])
        return n->trans_a ? NNL_TRI_A_UPPER : NNL_TRI_A_LOWER;
    if (n->shape.d[r - 1] == n->shape.d[r - 2] && !(n->view && n->view->out) && lower_only(g, n, 0))
        return NNL_TRI_C_LOWER;
    return NNL_TRI_NONE;
}

/* y = op(a) @ op(b) for each of the matrices along the leading axes of a (..., ra, ca)
 * and b (..., rb, cb); y (..., m, n): one nnl_sgemm_batched_v, each matrix contiguous
 * and all leading axes outer. With a view (views.c) the operands it names are read in
 * place and C may be written through a permute; the product's first axis is then outer
 * and its second (of four) inner. */
static void gen_bmm(Cg *c, Frame *f, Node *n, LLVMValueRef ep, LLVMValueRef ep_args)
{
    static const BmmView contiguous;
    const BmmView *v = n->view ? n->view : &contiguous;
    const Node *a = n->in[0];
    int r = n->shape.rank;
    int64_t m = v->out ? v->m : n->shape.d[r - 2], nn = v->out ? v->n : n->shape.d[r - 1];
    int64_t k = n->view ? v->k : a->shape.d[n->trans_a ? r - 2 : r - 1];
    int64_t inner = v->out ? v->inner : n->view && r == 4 ? n->shape.d[1] : 1;
    int64_t rows[2] = {n->trans_a ? k : m, n->trans_b ? nn : k}, cols[2] = {n->trans_a ? m : k, n->trans_b ? k : nn};
    LLVMTypeRef I = c->i64, P = c->ptr;
    LLVMTypeRef pt[22] = {c->i32, c->i32, I, I, I, I, I, P, I, I, I, P, I, I, I, P, I, I, I, P, P, c->i32};
    LLVMValueRef args[22] = {i32c(c, n->trans_a), i32c(c, n->trans_b),
                             dims_prod(c, f, n->shape, 0, n->view ? 1 : r - 2), i64c(c, inner),
                             i64c(c, m), i64c(c, nn), i64c(c, k)};
    for (int q = 0; q < 2; q++) {
        LLVMValueRef p = node_ptr(c, f, n->in[q]);
        if (v->on[q]) p = LLVMBuildGEP2(c->b, c->f32, p, (LLVMValueRef[]){i64c(c, v->off[q])}, 1, "");
        args[7 + 4 * q] = p;
        args[8 + 4 * q] = i64c(c, v->on[q] ? v->ld[q] : cols[q]);
        args[9 + 4 * q] = i64c(c, v->on[q] ? v->s[q] : inner * rows[q] * cols[q]);
        args[10 + 4 * q] = i64c(c, v->on[q] ? v->s_i[q] : rows[q] * cols[q]);
    }
    LLVMValueRef cp = node_ptr(c, f, v->into ? v->into : n);
    if (v->out) cp = LLVMBuildGEP2(c->b, c->f32, cp, (LLVMValueRef[]){i64c(c, v->c_off)}, 1, "");
    args[15] = cp;
    args[16] = i64c(c, v->out ? v->ldc : nn);
    args[17] = i64c(c, v->out ? v->sc : inner * m * nn);
    args[18] = i64c(c, v->out ? v->sc_i : m * nn);
    args[19] = ep ? ep : LLVMConstNull(P);   /* (C contiguous then: mark_epilogues) */
    args[20] = ep ? ep_args : LLVMConstNull(P);
    args[21] = i32c(c, bmm_triangle(c->g, n));
    call(c, extern_fn(c, "nnl_sgemm_batched_v", c->vd, pt, 22), args, 22);
}

/* EMBED_DW: dy (..., D), ids (...) -> dw (V, D); EMBED_DW_MM: sums (..., K), ids, w (D, K)
 * -> dw (V, D). When it is a table's gradient and nothing else writes that, the runtime
 * zeroes only the rows the step before wrote (row marks in the arena, see plan.c)
 * instead of the whole table. */
static void gen_embed_dw(Cg *c, Frame *f, Node *n)
{
    Node *dy = n->in[0], *ids = n->in[1];
    int64_t rows_off = -1;
    for (int i = 0; i < c->g->params.len; i++) {
        ParamInfo *p = c->g->params.items[i];
        if (p->grad == n) rows_off = p->rows_off;
    }
    LLVMValueRef rows = LLVMConstNull(c->ptr);
    if (rows_off >= 0) {
        LLVMValueRef off = i64c(c, rows_off);
        rows = LLVMBuildGEP2(c->b, c->f32, f->arena, &off, 1, "rows");
    }
    LLVMValueRef nids = dims_prod(c, f, ids->shape, 0, ids->shape.rank);
    if (n->op == OP_EMBED_DW_MM) {   /* dy, ids, w, dw, n, v, d, k, rows, ctx */
        Node *w = n->in[2];
        LLVMTypeRef pt[10] = {c->ptr, c->ptr, c->ptr, c->ptr, c->i64, c->i64, c->i64, c->i64, c->ptr, c->ptr};
        LLVMValueRef args[10] = {node_ptr(c, f, dy), node_ptr(c, f, ids), node_ptr(c, f, w), node_ptr(c, f, n),
                                 nids, i64c(c, n->shape.d[0]), i64c(c, n->shape.d[1]),
                                 i64c(c, w->shape.d[1]), rows, f->ctx};
        call(c, extern_fn(c, "nnl_embedding_dw_mm", c->vd, pt, 10), args, 10);
        return;
    }
    LLVMTypeRef pt[8] = {c->ptr, c->ptr, c->ptr, c->i64, c->i64, c->i64, c->ptr, c->ptr};
    LLVMValueRef args[8] = {node_ptr(c, f, dy), node_ptr(c, f, ids), node_ptr(c, f, n), nids,
                            i64c(c, n->shape.d[0]), i64c(c, n->shape.d[1]), rows, f->ctx};
    if (rows_off < 0) call(c, extern_fn(c, "nnl_embedding_dw", c->vd, pt, 6), args, 6);
    else call(c, extern_fn(c, "nnl_embedding_dw_rows", c->vd, pt, 8), args, 8);
}

/* EMBED_SUMS: g (..., K), ids (...) -> sums (..., K), V = attr[0]. */
static void gen_embed_sums(Cg *c, Frame *f, Node *n)
{
    Node *gy = n->in[0], *ids = n->in[1];
    LLVMValueRef nids = dims_prod(c, f, ids->shape, 0, ids->shape.rank);
    /* g, ids, s, n, v, k */
    LLVMTypeRef pt[6] = {c->ptr, c->ptr, c->ptr, c->i64, c->i64, c->i64};
    LLVMValueRef args[6] = {node_ptr(c, f, gy), node_ptr(c, f, ids), node_ptr(c, f, n), nids,
                            i64c(c, n->attr[0]), i64c(c, gy->shape.d[gy->shape.rank - 1])};
    call(c, extern_fn(c, "nnl_embed_sums", c->vd, pt, 6), args, 6);
}

/* EMBED_MM: table (V, D), ids (...), w (D, K) -> (..., K), with an epilogue (ep: its loop
 * function and KArgs) or not; EMBED_WT: table, ids, sums (..., K) -> (D, K). */
static void gen_embed_mm(Cg *c, Frame *f, Node *n, LLVMValueRef ep, LLVMValueRef ep_args)
{
    Node *table = n->in[0], *ids = n->in[1], *x = n->in[2];
    LLVMValueRef nids = dims_prod(c, f, ids->shape, 0, ids->shape.rank);
    LLVMValueRef v = i64c(c, table->shape.d[0]), d = i64c(c, table->shape.d[1]);
    if (n->op == OP_EMBED_WT) {   /* table, ids, g, dw, n, v, d, k */
        LLVMTypeRef pt[8] = {c->ptr, c->ptr, c->ptr, c->ptr, c->i64, c->i64, c->i64, c->i64};
        LLVMValueRef args[8] = {node_ptr(c, f, table), node_ptr(c, f, ids), node_ptr(c, f, x), node_ptr(c, f, n),
                                nids, v, d, i64c(c, n->shape.d[1])};
        call(c, extern_fn(c, "nnl_embed_wt", c->vd, pt, 8), args, 8);
        return;
    }
    /* table, ids, w, y, n, v, d, k, ep, ep_args */
    LLVMTypeRef pt[10] = {c->ptr, c->ptr, c->ptr, c->ptr, c->i64, c->i64, c->i64, c->i64, c->ptr, c->ptr};
    LLVMValueRef args[10] = {node_ptr(c, f, table), node_ptr(c, f, ids), node_ptr(c, f, x), node_ptr(c, f, n),
                             nids, v, d, i64c(c, x->shape.d[1]), ep ? ep : LLVMConstNull(c->ptr),
                             ep ? ep_args : LLVMConstNull(c->ptr)};
    call(c, extern_fn(c, "nnl_embed_mm", c->vd, pt, 10), args, 10);
}

/* A SUM's scale: its constant, over the batch size when it is a mean over the batch. */
static LLVMValueRef sum_scale(Cg *c, Frame *f, const Node *n)
{
    LLVMValueRef scale = f32c(c, n->fval);
    if (n->div_batch) scale = LLVMBuildFDiv(c->b, scale, LLVMBuildSIToFP(c->b, f->batch, c->f32, ""), "");
    return scale;
}

/* A sum; with a prologue (pro: the loop computing its operand, and its KArgs),
 * nnl_reduce_sum_pro. */
static void gen_reduce(Cg *c, Frame *f, Node *n, LLVMValueRef pro, LLVMValueRef pro_args)
{
    Node *x = n->in[0];
    Shape s = x->shape;
    LLVMValueRef scale = sum_scale(c, f, n);
    LLVMTypeRef pt[8] = {c->ptr, c->ptr, c->i64, c->i64, c->i64, c->f32, c->ptr, c->ptr};
    LLVMValueRef args[8] = {node_ptr(c, f, x), node_ptr(c, f, n), dims_prod(c, f, s, 0, n->ax0),
                            dims_prod(c, f, s, n->ax0, n->ax1), dims_prod(c, f, s, n->ax1, s.rank), scale,
                            pro, pro_args};
    int na = pro ? 8 : 6;
    call(c, extern_fn(c, pro ? "nnl_reduce_sum_pro" : "nnl_reduce_sum", c->vd, pt, na), args, na);
}

/* A row kernel; with an epilogue (ep: its loop function and KArgs) the runtime runs the
 * loop on each few rows as soon as they are written (fuse.c's mark_epilogues). */
static void gen_rows(Cg *c, Frame *f, Node *n, LLVMValueRef ep, LLVMValueRef ep_args)
{
    Node *x = n->in[0];
    int64_t cols = x->shape.d[x->shape.rank - 1];
    LLVMValueRef rows = dims_prod(c, f, x->shape, 0, x->shape.rank - 1);
    int na = 0;
    LLVMTypeRef pt[13];
    LLVMValueRef args[13];
    #define ARG(t, v) (pt[na] = (t), args[na++] = (v))
    const char *fn;
    if (n->op == OP_NORMALIZE || n->op == OP_NORMALIZE_DX) {   /* x[, dy, gamma], out, rows, cols, eps */
        ARG(c->ptr, node_ptr(c, f, x));
        if (n->op == OP_NORMALIZE_DX) {   /* dy, gamma (or NULL) */
            ARG(c->ptr, node_ptr(c, f, n->in[1]));
            ARG(c->ptr, n->nin > 2 ? node_ptr(c, f, n->in[2]) : LLVMConstNull(c->ptr));
        }
        ARG(c->ptr, node_ptr(c, f, n));
        ARG(c->i64, rows);
        ARG(c->i64, i64c(c, cols));
        ARG(c->f32, f32c(c, n->fval));
        fn = n->op == OP_NORMALIZE ? "nnl_layer_norm_rows_ep" : "nnl_layer_norm_rows_dx_ep";
    } else if (n->op == OP_SOFTMAX_DX) {   /* y, dy, dx, rows, cols, scale, causal */
        ARG(c->ptr, node_ptr(c, f, x));
        ARG(c->ptr, node_ptr(c, f, n->in[1]));
        ARG(c->ptr, node_ptr(c, f, n));
        ARG(c->i64, rows);
        ARG(c->i64, i64c(c, cols));
        ARG(c->f32, f32c(c, n->fval));
        ARG(c->i32, i32c(c, n->attr[0] ? 2 : 0));
        fn = "nnl_softmax_rows_dx_ep";
    } else {   /* x, y, rows, cols, flags */
        ARG(c->ptr, node_ptr(c, f, x));
        ARG(c->ptr, node_ptr(c, f, n));
        ARG(c->i64, rows);
        ARG(c->i64, i64c(c, cols));
        ARG(c->i32, i32c(c, (n->op == OP_LOG_SOFTMAX) | (n->attr[0] ? 2 : 0)));
        fn = "nnl_softmax_rows_ep";
    }
    ARG(c->ptr, ep ? ep : LLVMConstNull(c->ptr));
    ARG(c->ptr, ep ? ep_args : LLVMConstNull(c->ptr));
    if (n->op == OP_NORMALIZE_DX) {   /* the sums it makes as it goes (fuse.c's mark_norm_sums) */
        const Kernel *k = c->g->kernels.items[n->kernel];
        Node *sums[2] = {k->sum_g, k->sum_b};
        for (int q = 0; q < 2; q++) {
            ARG(c->ptr, sums[q] ? node_ptr(c, f, sums[q]) : LLVMConstNull(c->ptr));
            ARG(c->f32, sums[q] ? sum_scale(c, f, sums[q]) : f32c(c, 1));
        }
    }
    #undef ARG
    call(c, extern_fn(c, fn, c->vd, pt, na), args, na);
}

/* PICK: x (rows, C), labels (rows) -> (rows); UNPICK: dy (rows), labels -> (rows, C). */
static void gen_pick(Cg *c, Frame *f, Node *n)
{
    bool pick = n->op == OP_PICK;
    Node *wide = pick ? n->in[0] : n;
    int64_t cols = wide->shape.d[wide->shape.rank - 1];
    LLVMValueRef rows = dims_prod(c, f, wide->shape, 0, wide->shape.rank - 1);
    LLVMTypeRef pt[5] = {c->ptr, c->ptr, c->ptr, c->i64, c->i64};
    LLVMValueRef fn = extern_fn(c, pick ? "nnl_pick" : "nnl_unpick", c->vd, pt, 5);
    LLVMValueRef args[5] = {node_ptr(c, f, n->in[0]), node_ptr(c, f, n->in[1]), node_ptr(c, f, n),
                            rows, i64c(c, cols)};
    call(c, fn, args, 5);
}

/* A private constant of n i64 fields: the NnlConv / NnlPool a kernel call points at. */
static LLVMValueRef i64_struct(Cg *c, const int64_t *v, int n)
{
    LLVMValueRef f[16];
    for (int i = 0; i < n; i++) f[i] = i64c(c, v[i]);
    LLVMValueRef init = cstruct(c, f, n);
    LLVMValueRef gv = LLVMAddGlobal(c->m, LLVMTypeOf(init), "shape");
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    return gv;
}

/* conv2d and its two adjoints: x (B, C, H, W), w (K, C/g, R, S), y (B, K, P, Q). */
/* struct NnlPool of pooling node n (forward or adjoint) */
static LLVMValueRef pool_struct(Cg *c, Node *n)
{
    bool fwd = n->op == OP_MAXPOOL2D || n->op == OP_AVGPOOL2D;
    Node *x = fwd ? n->in[0] : n, *y = fwd ? n : n->op == OP_MAXPOOL2D_DX ? n->in[1] : n->in[0];
    const int64_t *t = n->attr;
    /* struct NnlPool { c, h, w, p, q, kh, kw, stride h w, pad top left } */
    int64_t pl[11] = {x->shape.d[1], x->shape.d[2], x->shape.d[3], y->shape.d[2], y->shape.d[3],
                      t[A_KH], t[A_KW], t[A_SH], t[A_SW], t[A_PT], t[A_PL]};
    return i64_struct(c, pl, 11);
}

/* struct NnlConv of convolution node n (forward or adjoint) */
static LLVMValueRef conv_struct(Cg *c, Node *n)
{
    Node *a = n->in[0], *b = n->in[1];
    Node *x = n->op == OP_CONV2D_DX ? n : a, *w = n->op == OP_CONV2D_DW ? n : b;
    Node *y = n->op == OP_CONV2D ? n : n->op == OP_CONV2D_DX ? a : b;
    const int64_t *t = n->attr;
    /* struct NnlConv { c, h, w, k, r, s, p, q, stride h w, pad top left, dilation h w, groups } */
    int64_t cv[15] = {x->shape.d[1], x->shape.d[2], x->shape.d[3], w->shape.d[0], w->shape.d[2],
                      w->shape.d[3], y->shape.d[2], y->shape.d[3], t[A_SH], t[A_SW], t[A_PT], t[A_PL],
                      t[A_DH], t[A_DW], t[A_GROUPS]};
    return i64_struct(c, cv, 15);
}

/* A convolution, its input gradient or its weight gradient; the first two with an
 * epilogue (ep: its loop function and KArgs) through nnl_conv2d_ep / nnl_conv2d_dx_ep. */
static void gen_conv(Cg *c, Frame *f, Node *n, LLVMValueRef ep, LLVMValueRef ep_args)
{
    Node *a = n->in[0], *b = n->in[1];
    if (ep) {
        LLVMTypeRef pt[7] = {c->ptr, c->i64, c->ptr, c->ptr, c->ptr, c->ptr, c->ptr};
        LLVMValueRef args[7] = {conv_struct(c, n), f->batch, node_ptr(c, f, a), node_ptr(c, f, b),
                                node_ptr(c, f, n), ep, ep_args};
        call(c, extern_fn(c, n->op == OP_CONV2D ? "nnl_conv2d_ep" : "nnl_conv2d_dx_ep", c->vd, pt, 7), args, 7);
        return;
    }
    const char *fn = n->op == OP_CONV2D ? "nnl_conv2d" : n->op == OP_CONV2D_DX ? "nnl_conv2d_dx" : "nnl_conv2d_dw";
    if (fuse_folded(c->g, b)) {   /* dy is a max pooling's adjoint, folded in (fuse.c) */
        LLVMTypeRef pt[7] = {c->ptr, c->ptr, c->i64, c->ptr, c->ptr, c->ptr, c->ptr};
        LLVMValueRef args[7] = {conv_struct(c, n), pool_struct(c, b), f->batch, node_ptr(c, f, a),
                                node_ptr(c, f, b->in[0]), node_ptr(c, f, b->in[1]), node_ptr(c, f, n)};
        call(c, extern_fn(c, fuse_pool_codes(c->g, b->in[0]) ? "nnl_conv2d_dw_maxpool_codes" : "nnl_conv2d_dw_maxpool",
                          c->vd, pt, 7), args, 7);
        return;
    }
    LLVMTypeRef pt[5] = {c->ptr, c->i64, c->ptr, c->ptr, c->ptr};
    LLVMValueRef args[5] = {conv_struct(c, n), f->batch, node_ptr(c, f, a), node_ptr(c, f, b), node_ptr(c, f, n)};
    call(c, extern_fn(c, fn, c->vd, pt, 5), args, 5);
}

/* pooling: x (B, C, H, W) -> y (B, C, P, Q), and the adjoints into dx (shape of x) */
static void gen_pool(Cg *c, Frame *f, Node *n)
{
    Node *cv = n->in[0];
    if (n->op == OP_MAXPOOL2D && cv->op == OP_CONV2D && fuse_folded(c->g, cv)) {
        /* the convolution it pools, folded in (fuse.c). Its output is kept for its other
         * readers; when all of them lie past the loss (the pooling's adjoint), the forward
         * and loss entry points need not write it. */
        bool early = false;
        for (int i = cv->id + 1; i < c->g->nodes.len; i++) {
            Node *r = c->g->nodes.items[i];
            for (int q = 0; q < r->nin; q++)
                if (r->in[q] == cv && r != n && (r->seg == SEG_FORWARD || r->seg == SEG_LOSS)) early = true;
        }
        LLVMValueRef keep = early || cv->pinned ? LLVMConstInt(c->i32, 1, 0)
            : LLVMBuildZExt(c->b, LLVMBuildICmp(c->b, LLVMIntSGE, ctx_field(c, f->ctx, 6, c->i64, "entry"),
                                                i64c(c, ENTRY_GRAD), ""), c->i32, "keep");
        if (!early && fuse_pool_codes(c->g, cv))   /* its window codes only (fuse.c) */
            keep = LLVMBuildMul(c->b, keep, LLVMConstInt(c->i32, NNL_KEEP_CODES, 0), "keep");
        LLVMTypeRef pt[8] = {c->ptr, c->ptr, c->i64, c->ptr, c->ptr, c->ptr, c->i32, c->ptr};
        LLVMValueRef args[8] = {conv_struct(c, cv), pool_struct(c, n), f->batch, node_ptr(c, f, cv->in[0]),
                                node_ptr(c, f, cv->in[1]), node_ptr(c, f, cv), keep, node_ptr(c, f, n)};
        call(c, extern_fn(c, "nnl_conv2d_maxpool", c->vd, pt, 8), args, 8);
        return;
    }
    const char *fn = n->op == OP_MAXPOOL2D ? "nnl_maxpool2d" : n->op == OP_AVGPOOL2D ? "nnl_avgpool2d"
                   : n->op == OP_MAXPOOL2D_DX ? "nnl_maxpool2d_dx" : "nnl_avgpool2d_dx";
    LLVMValueRef args[5] = {pool_struct(c, n), f->batch};
    LLVMTypeRef pt[5] = {c->ptr, c->i64, c->ptr, c->ptr, c->ptr};
    int k = 2;
    for (int i = 0; i < n->nin; i++) args[k++] = node_ptr(c, f, n->in[i]);
    args[k++] = node_ptr(c, f, n);
    call(c, extern_fn(c, fn, c->vd, pt, k), args, k);
}

/* STACK: y[o, t, r] = x_t[o, r] for o < outer (the operands' axes before ax0, the batch
 * among them), r < inner (their axes from ax0 on): one nnl_stack call over an array of
 * the operands' addresses on the launcher's stack, so the code is linear in the number
 * of operands and the copy one parallel region. Stacked and joined outputs have this
 * one layout. */
static void gen_stack(Cg *c, Frame *f, Node *n)
{
    Shape xs = n->in[0]->shape;
    int64_t inner = 1;
    for (int q = n->ax0; q < xs.rank; q++) inner *= xs.d[q];
    LLVMValueRef outer = dims_prod(c, f, xs, 0, n->ax0);
    LLVMValueRef arr = LLVMBuildAlloca(c->b, LLVMArrayType2(c->ptr, (unsigned)n->nin), "stacked");
    for (int t = 0; t < n->nin; t++) {
        LLVMValueRef i = i64c(c, t);
        LLVMBuildStore(c->b, node_ptr(c, f, n->in[t]), LLVMBuildGEP2(c->b, c->ptr, arr, &i, 1, ""));
    }
    LLVMTypeRef pt[5] = {c->ptr, c->ptr, c->i64, c->i64, c->i64};
    LLVMValueRef a[5] = {node_ptr(c, f, n), arr, i64c(c, n->nin), outer, i64c(c, inner)};
    call(c, extern_fn(c, "nnl_stack", c->vd, pt, 5), a, 5);
}

static bool operands_in_memory(Node *n)
{
    for (int k = 0; k < n->nin; k++)
        if (n->in[k]->op == OP_CONST) {
            diag(DIAG_ERROR, n->span, "internal error in codegen: constant operand of %s", ir_op_names[n->op]);
            return false;
        }
    return true;
}

/* A row kernel and its launcher: the loops it runs first (making a function moves the
 * builder): its epilogue (fuse.c's mark_epilogues) and, for layer norm's adjoint, the
 * reshapes of its sums into the gradients, run after it (mark_norm_sums). */
static void gen_row_kernel(Cg *c, int index, Kernel *k, Frame *f)
{
    Node *n = k->nodes.items[0];
    bool ok = operands_in_memory(n);
    LoopFn l = {0}, cp[2] = {{0}};
    if (ok && k->epilogue >= 0) l = loop_fn(c, k->epilogue, c->g->kernels.items[k->epilogue]);
    for (int q = 0; q < 2; q++)
        if (ok && k->sum_copy[q] >= 0) cp[q] = loop_fn(c, k->sum_copy[q], c->g->kernels.items[k->sum_copy[q]]);
    c->launch[index] = new_launcher(c, index, f);
    if (!ok) return;
    gen_rows(c, f, n, l.fn, l.fn ? loop_kargs(c, f, &l) : NULL);
    for (int q = 0; q < 2; q++)
        if (cp[q].fn) {
            const Kernel *kc = c->g->kernels.items[k->sum_copy[q]];
            Frame kf = *f;
            kf.ctx = loop_kargs(c, f, &cp[q]);
            launch_loop(c, &kf, cp[q].fn, numel(c, f, kc->shape), loop_weight(kc));
        }
}

static void gen_kernel(Cg *c, int index, Kernel *k)
{
    Frame f;
    Node *n = k->nodes.items[0];
    c->at = n->span;
    if (k->host >= 0) return;   /* an epilogue, a sum or copy: made with its host */
    if (k->kind == K_ELEM) {
        gen_loop_kernel(c, index, k);
    } else if (k->kind == K_UPDATE) {
        LLVMValueRef body = gen_update_kernel(c, index, k);
        LLVMValueRef split = gen_update_split_kernel(c, index, body);
        c->launch[index] = new_launcher(c, index, &f);
        LLVMValueRef foff = i64c(c, c->g->finite_off);   /* the kernels set it where not finite */
        LLVMBuildStore(c->b, i32c(c, 0), LLVMBuildGEP2(c->b, c->f32, f.arena, &foff, 1, ""));
        if (c->g->train.clip_norm > 0) gen_clip(c, &f);
        launch_update(c, &f, body, split);
        /* packed copies of parameters (nnl_sgemm_kept) are stale from here */
        call(c, extern_fn(c, "nnl_params_changed", c->vd, NULL, 0), NULL, 0);
    } else if (k->kind == K_ROW) {
        gen_row_kernel(c, index, k, &f);
    } else if (k->kind == K_GEMM && k->epilogue >= 0 && operands_in_memory(n)) {
        /* the epilogue's loop first (it may make a function), then the launcher */
        LoopFn l = loop_fn(c, k->epilogue, c->g->kernels.items[k->epilogue]);
        c->launch[index] = new_launcher(c, index, &f);
        LLVMValueRef kargs = loop_kargs(c, &f, &l);
        if (n->op == OP_BMM) gen_bmm(c, &f, n, l.fn, kargs);
        else gen_gemm(c, &f, n, l.fn, kargs);
    } else if (k->kind == K_REDUCE && k->prologue >= 0 && operands_in_memory(n)) {
        LoopFn l = loop_fn(c, k->prologue, c->g->kernels.items[k->prologue]);
        c->launch[index] = new_launcher(c, index, &f);
        gen_reduce(c, &f, n, l.fn, loop_kargs(c, &f, &l));
    } else if (k->kind == K_CALL && k->epilogue >= 0 && operands_in_memory(n)) {   /* a convolution's, a lookup's */
        LoopFn l = loop_fn(c, k->epilogue, c->g->kernels.items[k->epilogue]);
        c->launch[index] = new_launcher(c, index, &f);
        if (n->op == OP_EMBED_MM) gen_embed_mm(c, &f, n, l.fn, loop_kargs(c, &f, &l));
        else gen_conv(c, &f, n, l.fn, loop_kargs(c, &f, &l));
    } else {
        c->launch[index] = new_launcher(c, index, &f);
        if (operands_in_memory(n)) {
            switch (k->kind) {
            case K_GEMM: if (n->op == OP_BMM) gen_bmm(c, &f, n, NULL, NULL); else gen_gemm(c, &f, n, NULL, NULL); break;
            case K_REDUCE: gen_reduce(c, &f, n, NULL, NULL); break;
            case K_CALL:
                if (n->op == OP_PICK || n->op == OP_UNPICK) gen_pick(c, &f, n);
                else if (n->op == OP_EMBED_DW || n->op == OP_EMBED_DW_MM) gen_embed_dw(c, &f, n);
                else if (n->op == OP_EMBED_MM || n->op == OP_EMBED_WT) gen_embed_mm(c, &f, n, NULL, NULL);
                else if (n->op == OP_EMBED_SUMS) gen_embed_sums(c, &f, n);
                else if (n->op == OP_CONV2D || n->op == OP_CONV2D_DX || n->op == OP_CONV2D_DW)
                    gen_conv(c, &f, n, NULL, NULL);
                else if (n->op == OP_STACK) {
                    if (!n->filled) gen_stack(c, &f, n);   /* filled: its operands wrote it (views.c) */
                }
                else gen_pool(c, &f, n);
                break;
            default: break;
            }
        }
    }
    LLVMBuildRetVoid(c->b);
    cg_dbg_clear(c->dbg, c->b);
}

/* Entry point s runs the kernels of its segments (ir_entry_segments) in schedule order. */
static void gen_entry(Cg *c, int s, const char *name)
{
    LLVMValueRef fn = LLVMAddFunction(c->m, sym(c, arena_printf(c->g->arena, "run_%s", name)), c->step_fn_t);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->cx, fn, "entry"));
    LLVMValueRef ctx = LLVMGetParam(fn, 0);
    /* ctx->entry = s: which kernels may skip what only later entry points read */
    LLVMBuildStore(c->b, i64c(c, s), LLVMBuildStructGEP2(c->b, c->ctx_t, ctx, 6, ""));
    for (int i = 0; i < c->g->kernels.len; i++) {
        Kernel *k = c->g->kernels.items[i];
        if ((ir_entry_segments(c->g, s) & 1u << k->seg) && c->launch[i])
            LLVMBuildCall2(c->b, c->step_fn_t, c->launch[i], &ctx, 1, "");
    }
    LLVMBuildRetVoid(c->b);
    c->entry[s] = fn;
}

/* ----- the descriptor: constants laid out as runtime/nnlrt.h's structs ----- */

static LLVMValueRef cstr(Cg *c, const char *s)
{
    if (!s) return LLVMConstNull(c->ptr);
    LLVMValueRef init = LLVMConstStringInContext(c->cx, s, strlen(s), 0);
    LLVMValueRef gv = LLVMAddGlobal(c->m, LLVMTypeOf(init), "str");
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
    return gv;
}

static LLVMValueRef dims8(Cg *c, Shape s, int skip)
{
    LLVMValueRef v[NNL_MAX_RANK];
    for (int k = 0; k < NNL_MAX_RANK; k++) {
        int j = k + skip;
        v[k] = i64c(c, j < s.rank ? s.d[j] : 0);
    }
    return LLVMConstArray2(c->i64, v, NNL_MAX_RANK);
}


/* struct NnlParam { const char *name; int rank; int64_t shape[8], offset, size; int init;
 *                   float a, b; int64_t fan_in, fan_out; } */
static LLVMValueRef param_const(Cg *c, ParamInfo *p)
{
    LLVMValueRef v[] = {cstr(c, p->name), i32c(c, p->shape.rank), dims8(c, p->shape, 0),
                        i64c(c, p->offset), i64c(c, shape_numel_static(p->shape)), i32c(c, p->init),
                        f32c(c, p->a), f32c(c, p->b), i64c(c, p->fan_in), i64c(c, p->fan_out)};
    return cstruct(c, v, sizeof v / sizeof *v);
}

/* struct NnlOptim { int kind; float lr, momentum, beta1, beta2, eps, weight_decay; } */
static LLVMValueRef optim_const(Cg *c, const NnlOptim *o)
{
    LLVMValueRef v[] = {i32c(c, o->kind), f32c(c, o->lr), f32c(c, o->momentum), f32c(c, o->beta1),
                        f32c(c, o->beta2), f32c(c, o->eps), f32c(c, o->weight_decay)};
    return cstruct(c, v, sizeof v / sizeof *v);
}

/* struct NnlDataSpec { int kind; const char *name, *path, *path2, *base_dir, *target;
 *                      float scale; int64_t n; int classes; float spread; uint64_t seed;
 *                      float from, to; int normalize; int tokens, labelled;
 *                      int64_t vocab, window, stride, length; const char *labels; } */
static LLVMValueRef data_const(Cg *c, const NnlDataSpec *d)
{
    LLVMValueRef v[] = {i32c(c, d->kind), cstr(c, d->name), cstr(c, d->path), cstr(c, d->path2),
                        cstr(c, d->base_dir), cstr(c, d->target), f32c(c, d->scale), i64c(c, d->n),
                        i32c(c, d->classes), f32c(c, d->spread), i64c(c, (int64_t)d->seed),
                        f32c(c, d->from), f32c(c, d->to), i32c(c, d->normalize),
                        i32c(c, d->tokens), i32c(c, d->labelled), i64c(c, d->vocab),
                        i64c(c, d->window), i64c(c, d->stride), i64c(c, d->length),
                        cstr(c, d->labels)};
    return cstruct(c, v, sizeof v / sizeof *v);
}

/* struct NnlSchedule { int kind; int64_t warmup, every; float gamma, min_lr; } */
static LLVMValueRef sched_const(Cg *c, const NnlSchedule *s)
{
    LLVMValueRef v[] = {i32c(c, s->kind), i64c(c, s->warmup), i64c(c, s->every), f32c(c, s->gamma), f32c(c, s->min_lr)};
    return cstruct(c, v, sizeof v / sizeof *v);
}

/* struct NnlTrain { int64_t epochs, batch; int shuffle; uint64_t seed; NnlOptim optim;
 *                   int task; float threshold; unsigned metrics; NnlDataSpec data, eval;
 *                   int eval_every_epoch; } */
static LLVMValueRef train_const(Cg *c, const NnlTrain *t)
{
    LLVMValueRef v[] = {i64c(c, t->epochs), i64c(c, t->batch), i32c(c, t->shuffle), i64c(c, (int64_t)t->seed),
                        optim_const(c, &t->optim), i32c(c, t->task), f32c(c, t->threshold),
                        i32c(c, (int)t->metrics), data_const(c, &t->data), data_const(c, &t->eval),
                        i32c(c, t->eval_every_epoch), sched_const(c, &t->schedule), f32c(c, t->clip_norm),
                        cstr(c, t->checkpoint)};
    return cstruct(c, v, sizeof v / sizeof *v);
}

/* The descriptor's kernels, kernel_desc and kernel_entries (bench --profile). */
static void kernel_table(Cg *c, LLVMValueRef out[3])
{
    Graph *g = c->g;
    int n = g->kernels.len;
    LLVMValueRef *fns = malloc((n + 1) * sizeof *fns), *descs = malloc((n + 1) * sizeof *descs);
    LLVMValueRef *ents = malloc((n + 1) * sizeof *ents);
    if (!fns || !descs || !ents) abort();
    for (int i = 0; i < n; i++) {
        Kernel *k = g->kernels.items[i];
        fns[i] = c->launch[i] ? c->launch[i] : LLVMConstNull(c->ptr);
        char *d = fuse_kernel_desc(g, i, 8, true);
        descs[i] = cstr(c, d ? d : "?");
        free(d);
        unsigned bits = 0;
        for (int e = 0; e < ENTRY_COUNT; e++)
            if (c->entry[e] && (ir_entry_segments(g, e) & 1u << k->seg)) bits |= 1u << e;
        ents[i] = LLVMConstInt(LLVMInt8TypeInContext(c->cx), bits, 0);
    }
    out[0] = const_array(c, "kernels", c->ptr, fns, n);
    out[1] = const_array(c, "kernel_desc", c->ptr, descs, n);
    out[2] = const_array(c, "kernel_entries", LLVMInt8TypeInContext(c->cx), ents, n);
    free(fns);
    free(descs);
    free(ents);
}

static void gen_desc(Cg *c)
{
    Graph *g = c->g;
    int np = g->params.len;
    LLVMValueRef params = LLVMConstNull(c->ptr);
    if (np) {
        LLVMValueRef *pv = malloc(np * sizeof *pv);
        for (int i = 0; i < np; i++) pv[i] = param_const(c, g->params.items[i]);
        LLVMValueRef arr = LLVMConstArray2(LLVMTypeOf(pv[0]), pv, np);
        params = LLVMAddGlobal(c->m, LLVMTypeOf(arr), sym(c, "params"));
        LLVMSetInitializer(params, arr);
        LLVMSetGlobalConstant(params, 1);
        LLVMSetLinkage(params, LLVMPrivateLinkage);
        free(pv);
    }
    Shape in = g->input->shape, out = g->output->shape;
    int64_t label_size = g->label ? shape_numel_static(g->label->shape) : 0;
    bool tr = g->has_train, trains = ir_trains(g);
    LLVMValueRef none = LLVMConstNull(c->ptr);
    LLVMValueRef v[] = {
        i32c(c, NNL_ABI_VERSION), cstr(c, g->model_name), cstr(c, g->source),
        i32c(c, in.rank - 1), dims8(c, in, 1), i64c(c, shape_numel_static(in)),
        i32c(c, out.rank - 1), dims8(c, out, 1), i64c(c, shape_numel_static(out)),
        i64c(c, label_size),
        i64c(c, g->fixed_floats), i64c(c, g->per_sample_floats),
        i64c(c, g->input->off), i64c(c, g->label ? g->label->off : 0), i64c(c, g->output->off),
        i64c(c, g->loss_off), i64c(c, g->param_off), i64c(c, g->grad_off), i64c(c, g->nparam_floats),
        i32c(c, np), params,
        c->entry[ENTRY_FORWARD], tr ? c->entry[ENTRY_LOSS] : none, trains ? c->entry[ENTRY_GRAD] : none,
        trains ? c->entry[ENTRY_TRAIN] : none,
        i64c(c, g->state_off), i64c(c, g->state_floats),
        train_const(c, &g->train),
        i32c(c, g->kernels.len), NULL, NULL, NULL,
        i64c(c, trains ? g->finite_off : 0), i64c(c, trains ? g->ntrain_floats : 0),
    };
    kernel_table(c, &v[sizeof v / sizeof *v - 5]);
    LLVMValueRef init = cstruct(c, v, sizeof v / sizeof *v);
    c->desc = LLVMAddGlobal(c->m, LLVMTypeOf(init), sym(c, "desc"));
    LLVMSetInitializer(c->desc, init);
    LLVMSetGlobalConstant(c->desc, 1);
}

/* ----- the C API of the header: wrappers that pass the descriptor ----- */

/* Defines `ret P_name(args)` whose body calls `target` with the same arguments; when
 * with_desc, the descriptor comes first. */
static void wrapper(Cg *c, const char *name, const char *target, LLVMTypeRef ret,
                    LLVMTypeRef *args, int n, bool with_desc)
{
    LLVMValueRef fn = LLVMAddFunction(c->m, sym(c, name), LLVMFunctionType(ret, args, n, 0));
    LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->cx, fn, "entry"));
    LLVMTypeRef targs[8];
    LLVMValueRef vals[8];
    int k = 0;
    if (with_desc) { targs[k] = c->ptr; vals[k++] = c->desc; }
    for (int i = 0; i < n; i++) { targs[k] = args[i]; vals[k++] = LLVMGetParam(fn, i); }
    LLVMValueRef t = extern_fn(c, target, ret, targs, k);
    LLVMValueRef r = call(c, t, vals, k);
    if (LLVMGetTypeKind(ret) == LLVMVoidTypeKind) LLVMBuildRetVoid(c->b);
    else LLVMBuildRet(c->b, r);
}

/* P_create(max_batch): nnl_create + parameters initialized from the declared seed. */
static void gen_create(Cg *c)
{
    LLVMValueRef fn = LLVMAddFunction(c->m, sym(c, "create"), LLVMFunctionType(c->ptr, &c->i64, 1, 0));
    LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->cx, fn, "entry"));
    LLVMTypeRef ct[3] = {c->ptr, c->i64, c->ptr};
    LLVMValueRef a[3] = {c->desc, LLVMGetParam(fn, 0), LLVMConstNull(c->ptr)};
    LLVMValueRef m = call(c, extern_fn(c, "nnl_create", c->ptr, ct, 3), a, 3);
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(c->cx, fn, "ok");
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(c->cx, fn, "fail");
    LLVMBuildCondBr(c->b, LLVMBuildIsNull(c->b, m, ""), fail, ok);
    LLVMPositionBuilderAtEnd(c->b, ok);
    LLVMTypeRef it[2] = {c->ptr, c->i64};
    LLVMValueRef ia[2] = {m, i64c(c, (int64_t)c->g->train.seed)};
    call(c, extern_fn(c, "nnl_init_params", c->vd, it, 2), ia, 2);
    LLVMBuildRet(c->b, m);
    LLVMPositionBuilderAtEnd(c->b, fail);
    LLVMBuildRet(c->b, m);
}

/* P_param_name(m, i) and P_param_size(m, i): fields of nnl_param_info, or NULL / -1. */
static void gen_param_field(Cg *c, const char *name, int field, LLVMTypeRef ret, LLVMValueRef dflt)
{
    LLVMTypeRef at[2] = {c->ptr, c->i32};
    LLVMValueRef fn = LLVMAddFunction(c->m, sym(c, name), LLVMFunctionType(ret, at, 2, 0));
    LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->cx, fn, "entry"));
    LLVMValueRef a[2] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1)};
    LLVMValueRef info = call(c, extern_fn(c, "nnl_param_info", c->ptr, at, 2), a, 2);
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(c->cx, fn, "ok");
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(c->cx, fn, "fail");
    LLVMBuildCondBr(c->b, LLVMBuildIsNull(c->b, info, ""), fail, ok);
    LLVMPositionBuilderAtEnd(c->b, ok);
    LLVMValueRef fp = LLVMBuildStructGEP2(c->b, c->param_t, info, field, "");
    LLVMBuildRet(c->b, LLVMBuildLoad2(c->b, ret, fp, ""));
    LLVMPositionBuilderAtEnd(c->b, fail);
    LLVMBuildRet(c->b, dflt);
}

static void gen_api(Cg *c)
{
    LLVMTypeRef P = c->ptr, I64 = c->i64, I32 = c->i32, F = c->f32;
    gen_create(c);
    wrapper(c, "destroy", "nnl_destroy", c->vd, (LLVMTypeRef[]){P}, 1, false);
    wrapper(c, "init_params", "nnl_init_params", c->vd, (LLVMTypeRef[]){P, I64}, 2, false);
    wrapper(c, "set_threads", "nnl_set_threads", c->vd, (LLVMTypeRef[]){P, I32}, 2, false);
    wrapper(c, "max_batch", "nnl_max_batch", I64, (LLVMTypeRef[]){P}, 1, false);
    wrapper(c, "forward", "nnl_forward", I32, (LLVMTypeRef[]){P, P, I64, P}, 4, false);
    wrapper(c, "load", "nnl_load", I32, (LLVMTypeRef[]){P, P}, 2, false);
    wrapper(c, "save", "nnl_save", I32, (LLVMTypeRef[]){P, P}, 2, false);
    if (c->g->has_train) {
        wrapper(c, "loss", "nnl_loss", I32, (LLVMTypeRef[]){P, P, P, I64, P}, 5, false);
        wrapper(c, "evaluate", "nnl_evaluate", I32, (LLVMTypeRef[]){P, P, P, I64, P, P}, 6, false);
        wrapper(c, "epoch_order", "nnl_epoch_order", c->vd, (LLVMTypeRef[]){P, I64, I64, I64}, 4, false);
    }
    if (ir_trains(c->g)) {
        wrapper(c, "grad", "nnl_grad", I32, (LLVMTypeRef[]){P, P, P, I64, P}, 5, false);
        wrapper(c, "train_step", "nnl_train_step", I32, (LLVMTypeRef[]){P, P, P, I64, P}, 5, false);
        wrapper(c, "set_lr", "nnl_set_lr", c->vd, (LLVMTypeRef[]){P, F}, 2, false);
        wrapper(c, "step_count", "nnl_step_count", I64, (LLVMTypeRef[]){P}, 1, false);
        wrapper(c, "grad_data", "nnl_grad_data", P, (LLVMTypeRef[]){P, I32}, 2, false);
    }
    wrapper(c, "param_count", "nnl_param_count", I32, (LLVMTypeRef[]){P}, 1, false);
    wrapper(c, "param_index", "nnl_param_index", I32, (LLVMTypeRef[]){P, P}, 2, false);
    wrapper(c, "param_data", "nnl_param_data", P, (LLVMTypeRef[]){P, I32}, 2, false);
    wrapper(c, "last_error", "nnl_last_error", P, (LLVMTypeRef[]){P}, 1, false);
    gen_param_field(c, "param_name", 0, P, LLVMConstNull(P));
    gen_param_field(c, "param_size", 4, I64, i64c(c, -1));
    if (c->opt->main) {
        LLVMTypeRef mt[2] = {I32, P};
        LLVMValueRef fn = LLVMAddFunction(c->m, "main", LLVMFunctionType(I32, mt, 2, 0));
        LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->cx, fn, "entry"));
        LLVMTypeRef ct[3] = {P, I32, P};
        LLVMValueRef a[3] = {c->desc, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1)};
        LLVMBuildRet(c->b, call(c, extern_fn(c, "nnl_cli_main", I32, ct, 3), a, 3));
    }
}

/* ----- the module, optimized and written ----- */

/* LLVM's own options, set once for the process before any thread compiles: ours below,
 * then NNLC_LLVM_ARGS (words, as llc takes them: -time-passes, -debug-pass=Structure,
 * -disable-lsr=false ...), which replace ours where they name the same option.
 *
 * Loop strength reduction was a fifth of the code generator's time on resnet_small (its
 * loops read up to 30 arrays, and LSR's search grows with the uses of the induction
 * variable) and the loops, which already index every array from one counter, ran no
 * slower without it. The SLP vectorizer was a fifth of the optimizer's and changed no
 * instruction of resnet_small or char_gpt (our loops are vectorized as loops; it only
 * touched an RNN's first-step cell loops); LLVM 19's C API ignores
 * LLVMPassBuilderOptionsSetSLPVectorization(0), so it is turned off here
 * (docs/PERFORMANCE.md, "Compile time"). LLVM ignores an option it does not know (the
 * errors go to a null stream), so another LLVM version costs at most the saving. */
static void llvm_options(void)
{
    static const char *const ours[][2] = {{"-disable-lsr", "-disable-lsr"},
                                          {"-vectorize-slp", "-vectorize-slp=false"}};
    static int done;
    static char *words;   /* kept for the process: LLVM may refer to the words it parsed */
    if (done) return;
    done = 1;
    const char *argv[32] = {"nnlc"};
    int argc = 1;
    const char *user = getenv("NNLC_LLVM_ARGS");
    words = user ? strdup(user) : NULL;
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (!words || !strstr(words, ours[i][0])) argv[argc++] = ours[i][1];
    for (char *w = words ? strtok(words, " \t") : NULL; w && argc < 32; w = strtok(NULL, " \t")) argv[argc++] = w;
    LLVMParseCommandLineOptions(argc, argv, "");
}

void cg_target_init(void)
{
    LLVMInitializeAllTargetInfos();
    LLVMInitializeAllTargets();
    LLVMInitializeAllTargetMCs();
    LLVMInitializeAllAsmPrinters();
    llvm_options();
}

/* The host's CPU and features by default; --target names a triple (nnlc's driver maps
 * x86-64 and aarch64 to one), --cpu a CPU of that target without host features. */
LLVMTargetMachineRef cg_target_machine(const CgOptions *o, char **err)
{
    bool host = !o->triple && (!o->cpu || !strcmp(o->cpu, "native"));
    char *triple = o->triple ? LLVMNormalizeTargetTriple(o->triple) : LLVMGetDefaultTargetTriple();
    LLVMTargetRef t;
    if (LLVMGetTargetFromTriple(triple, &t, err)) {
        LLVMDisposeMessage(triple);
        return NULL;
    }
    char *cpu = host || (o->cpu && !strcmp(o->cpu, "native")) ? LLVMGetHostCPUName() : NULL;
    char *features = host ? LLVMGetHostCPUFeatures() : NULL;
    const char *cpu_name = cpu ? cpu : o->cpu ? o->cpu : "generic";
    int opt_level = o->opt_level;
    LLVMCodeGenOptLevel lvl = opt_level <= 0 ? LLVMCodeGenLevelNone : opt_level == 1 ? LLVMCodeGenLevelLess
                            : opt_level == 2 ? LLVMCodeGenLevelDefault : LLVMCodeGenLevelAggressive;
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(t, triple, cpu_name, features ? features : "", lvl,
                                                      LLVMRelocPIC, LLVMCodeModelDefault);
    LLVMDisposeMessage(triple);
    if (cpu) LLVMDisposeMessage(cpu);
    if (features) LLVMDisposeMessage(features);
    return tm;
}

int cg_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int opt_level)
{
    if (opt_level <= 0) return 0;
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(po, 1);   /* (SLP: llvm_options) */
    char passes[32];
    snprintf(passes, sizeof passes, "default<O%d>", opt_level > 3 ? 3 : opt_level);
    LLVMErrorRef e = LLVMRunPasses(m, passes, tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (!e) return 0;
    char *msg = LLVMGetErrorMessage(e);
    fprintf(stderr, "nnlc: internal error in codegen: %s\n", msg);
    LLVMDisposeErrorMessage(msg);
    return 1;
}

/* How many objects to write the module as: one per thread asked for, while each part
 * gets at least 8 loop functions (below that the threads cost more than they save).
 * Only for objects that nnlc links itself, optimized and without debug info. */
static int parts_for(Cg *c)
{
    const CgOptions *o = c->opt;
    if (o->nparts <= 1 || !o->part_paths || o->emit || o->obj_buf || o->debug || o->opt_level <= 0) return 1;
    int n = c->loop_fns.len / 8;
    return n < 1 ? 1 : n < o->nparts ? n : o->nparts;
}

static int write_module(Cg *c)
{
    char *err = NULL;
    cg_target_init();
    LLVMTargetMachineRef tm = cg_target_machine(c->opt, &err);
    if (!tm) {
        fprintf(stderr, "nnlc: error: no LLVM target for %s: %s\n", c->opt->triple ? c->opt->triple : "this machine",
                err ? err : "?");
        LLVMDisposeMessage(err);
        return 1;
    }
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMSetTarget(c->m, triple);
    LLVMDisposeMessage(triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    char *layout = LLVMCopyStringRepOfTargetData(td);
    LLVMSetDataLayout(c->m, layout);
    LLVMDisposeMessage(layout);
    LLVMDisposeTargetData(td);
    if (c->opt->parts_written) *c->opt->parts_written = 1;
    int parts = parts_for(c);
    if (parts > 1) {
        LLVMDisposeTargetMachine(tm);
        return cg_emit_parts(c->m, c->opt, parts);
    }
    int rc = cg_optimize(c->m, tm, c->opt->opt_level);
    const char *emit = c->opt->emit, *out = c->opt->out_path;
    if (!rc && emit && !strcmp(emit, "llvm")) {
        if (!out || !strcmp(out, "-")) {
            char *s = LLVMPrintModuleToString(c->m);
            fputs(s, stdout);
            LLVMDisposeMessage(s);
        } else if (LLVMPrintModuleToFile(c->m, out, &err)) {
            fprintf(stderr, "nnlc: error: cannot write %s: %s\n", out, err);
            LLVMDisposeMessage(err);
            rc = 1;
        }
    } else if (!rc) {
        LLVMCodeGenFileType ft = emit && !strcmp(emit, "asm") ? LLVMAssemblyFile : LLVMObjectFile;
        if (c->opt->obj_buf) {   /* the JIT's: the object in memory */
            LLVMMemoryBufferRef buf;
            if (LLVMTargetMachineEmitToMemoryBuffer(tm, c->m, LLVMObjectFile, &err, &buf)) {
                fprintf(stderr, "nnlc: internal error in codegen: %s\n", err);
                LLVMDisposeMessage(err);
                rc = 1;
            } else {
                *c->opt->obj_len = LLVMGetBufferSize(buf);
                *c->opt->obj_buf = malloc(*c->opt->obj_len ? *c->opt->obj_len : 1);
                if (*c->opt->obj_buf) memcpy(*c->opt->obj_buf, LLVMGetBufferStart(buf), *c->opt->obj_len);
                else rc = 1;
                LLVMDisposeMemoryBuffer(buf);
            }
        } else if (ft == LLVMAssemblyFile && (!out || !strcmp(out, "-"))) {
            LLVMMemoryBufferRef buf;
            if (LLVMTargetMachineEmitToMemoryBuffer(tm, c->m, ft, &err, &buf)) {
                fprintf(stderr, "nnlc: internal error in codegen: %s\n", err);
                LLVMDisposeMessage(err);
                rc = 1;
            } else {
                fwrite(LLVMGetBufferStart(buf), 1, LLVMGetBufferSize(buf), stdout);
                LLVMDisposeMemoryBuffer(buf);
            }
        } else if (LLVMTargetMachineEmitToFile(tm, c->m, (char *)out, ft, &err)) {
            fprintf(stderr, "nnlc: error: cannot write %s: %s\n", out, err);
            LLVMDisposeMessage(err);
            rc = 1;
        }
    }
    LLVMDisposeTargetMachine(tm);
    return rc;
}

int cg_emit(Graph *g, const CgOptions *opt)
{
    Cg c = {.g = g, .opt = opt};
    c.cx = LLVMContextCreate();
    c.m = LLVMModuleCreateWithNameInContext(g->model_name ? g->model_name : "model", c.cx);
    c.b = LLVMCreateBuilderInContext(c.cx);
    c.i1 = LLVMInt1TypeInContext(c.cx);
    c.i32 = LLVMInt32TypeInContext(c.cx);
    c.i64 = LLVMInt64TypeInContext(c.cx);
    c.f32 = LLVMFloatTypeInContext(c.cx);
    c.f64 = LLVMDoubleTypeInContext(c.cx);
    c.ptr = LLVMPointerTypeInContext(c.cx, 0);
    c.vd = LLVMVoidTypeInContext(c.cx);
    /* struct NnlCtx { float *arena; int64_t batch, max_batch; float lr; int64_t step;
     *                 uint64_t seed; int64_t entry; } */
    LLVMTypeRef ctx_fields[] = {c.ptr, c.i64, c.i64, c.f32, c.i64, c.i64, c.i64};
    c.ctx_t = LLVMStructTypeInContext(c.cx, ctx_fields, 7, 0);
    /* struct NnlParam, as param_const builds it */
    LLVMTypeRef param_fields[] = {c.ptr, c.i32, LLVMArrayType2(c.i64, NNL_MAX_RANK), c.i64, c.i64,
                                  c.i32, c.f32, c.f32, c.i64, c.i64};
    c.param_t = LLVMStructTypeInContext(c.cx, param_fields, 10, 0);
    LLVMTypeRef kargs[3] = {c.ptr, c.i64, c.i64};
    c.kernel_fn_t = LLVMFunctionType(c.vd, kargs, 3, 0);
    c.step_fn_t = LLVMFunctionType(c.vd, &c.ptr, 1, 0);
    c.launch = calloc(g->kernels.len + 1, sizeof *c.launch);

    if (opt->debug) c.dbg = cg_dbg_begin(c.m, g->model_span.file, opt->opt_level > 0);
    for (int i = 0; i < g->kernels.len; i++) gen_kernel(&c, i, g->kernels.items[i]);
    static const char *names[ENTRY_COUNT] = {"forward", "loss", "grad", "train_step"};
    for (int s = 0; s < ENTRY_COUNT; s++)
        if (s == ENTRY_FORWARD || (s == ENTRY_LOSS && g->has_train) || ir_trains(g)) gen_entry(&c, s, names[s]);
    gen_desc(&c);
    gen_api(&c);
    cg_dbg_end(c.dbg);

    int rc = diag_error_count() ? 1 : 0;
    char *err = NULL;
    if (!rc && LLVMVerifyModule(c.m, LLVMReturnStatusAction, &err)) {
        fprintf(stderr, "nnlc: internal error in codegen: the LLVM module does not verify:\n%s\n", err);
        rc = 1;
    }
    LLVMDisposeMessage(err);
    if (!rc) rc = write_module(&c);
    free(c.launch);
    LLVMDisposeBuilder(c.b);
    LLVMDisposeModule(c.m);
    LLVMContextDispose(c.cx);
    return rc;
}
