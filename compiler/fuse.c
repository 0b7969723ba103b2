/* fuse.c — kernels. In: the scheduled graph (forward, loss, gradients, update). Out:
 * Graph.kernels, each node's kernel and whether it needs memory. Runs of elementwise
 * nodes of one shape within one entry-point segment become one loop; every other op is
 * a kernel of its own (a GEMM, a reduction, a row softmax, a runtime call, the update);
 * a reshape is no kernel at all but a view of its operand's memory. A value used only
 * inside its loop never touches memory. Needs: nothing. Leaves the
 * plan stale. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static void mark_epilogues(Graph *g);
static void mark_norm_sums(Graph *g);
static void mark_prologues(Graph *g);

static int seg_of(const Graph *g, int id)
{
    int s = 0;
    while (s < SEG_COUNT - 1 && id >= g->seg_end[s]) s++;
    return s;
}

/* May n join the elementwise kernel k? Same iteration space and segment, and an EXPAND
 * whose operand is in k must not move it (the loop reads k's values at one index). */
static bool joins(Node *n, Kernel *k)
{
    if (k->kind != K_ELEM || k->seg != n->seg || !shape_eq(k->shape, n->shape)) return false;
    if (n->op == OP_EXPAND && n->in[0]->kernel >= 0 && !shape_eq(n->from, n->shape)) {
        Node *x = n->in[0];
        if (x->kernel == n->kernel) return false;
    }
    /* ops that read their operands at other indices need them in memory */
    bool moves = n->op == OP_GATHER || n->op == OP_PERMUTE || n->op == OP_SLICE ||
                 n->op == OP_UNSLICE || n->op == OP_CONCAT;
    for (int q = 0; moves && q < n->nin; q++) {
        Node *x = n->in[q];
        while (x->alias) x = x->in[0];   /* a reshape view reads its operand's memory */
        if (x->kernel == n->kernel && ir_op_kind[x->op] != K_LEAF) return false;
    }
    return true;
}

/* The first node after node i that reads it (its index, or -1), and at which operand. */
static int first_reader(const Graph *g, int i, int *q)
{
    Node *x = g->nodes.items[i];
    for (int j = i + 1; j < g->nodes.len; j++) {
        Node *n = g->nodes.items[j];
        for (*q = 0; *q < n->nin; (*q)++)
            if (n->in[*q] == x) return j;
    }
    return -1;
}

/* A max pooling's adjoint whose one use is the weight gradient of a convolution (as its
 * output gradient) joins that kernel: nnl_conv2d_dw_maxpool makes each image's gradient
 * in cache, and the convolution-sized gradient never reaches memory. The consumer, or
 * NULL. */
static Node *pool_dx_consumer(const Graph *g, int i)
{
    Node *p = g->nodes.items[i];
    if (p->op != OP_MAXPOOL2D_DX || p->nuses != 1 || p->pinned) return NULL;
    int q, j = first_reader(g, i, &q);
    Node *n = j >= 0 ? g->nodes.items[j] : NULL;
    return n && n->op == OP_CONV2D_DW && q == 1 && seg_of(g, j) == seg_of(g, i) ? n : NULL;
}

/* A convolution whose first reader is a max pooling (every other reader, such as the
 * pooling's adjoint, comes after it) joins the pooling's kernel: nnl_conv2d_maxpool takes
 * each window's maximum from the convolution's registers (thin filters, 2x2 windows), so
 * the pooling does not read the convolution's output back. That output is still stored,
 * for the other readers. The pooling, or NULL. */
static Node *conv_pool_consumer(const Graph *g, int i)
{
    Node *c = g->nodes.items[i];
    if (c->op != OP_CONV2D) return NULL;
    int q, j = first_reader(g, i, &q);
    Node *n = j >= 0 ? g->nodes.items[j] : NULL;
    return n && n->op == OP_MAXPOOL2D && q == 0 && seg_of(g, j) == seg_of(g, i) ? n : NULL;
}

bool fuse_folded(const Graph *g, const Node *n)
{
    return n->kernel >= 0 && ((Kernel *)g->kernels.items[n->kernel])->nodes.items[0] != n &&
           ir_op_kind[n->op] != K_ELEM;
}

/* A convolution folded into its 2x2 stride-2 max pooling whose every other reader is a
 * pooling adjoint folded into its weight gradient: the adjoint needs only which cell of
 * each window won, so nnl_conv2d_maxpool keeps one byte a window (NNL_KEEP_CODES) in the
 * convolution's memory instead of the output itself, 4 floats a window, and
 * nnl_conv2d_dw_maxpool_codes reads those. The MNIST CNN's 5.5 MB a step at batch 64 were
 * written in its forward and read back in its backward. Only for filters thin enough for
 * conv.c's tiles (THIN_TAPS = 32 weights, stride 1), which make the codes as they pool;
 * others would be convolved image by image. NNLC_NO_POOL_CODES=1 in nnlc's environment
 * keeps the output itself (tests/e2e/pool_codes.sh compares both). */
enum { THIN_TAPS = 32 };
bool fuse_pool_codes(const Graph *g, const Node *cv)
{
    if (cv->op != OP_CONV2D || cv->pinned || !fuse_folded(g, cv) || getenv("NNLC_NO_POOL_CODES")) return false;
    const Node *p = ((Kernel *)g->kernels.items[cv->kernel])->nodes.items[0];
    const int64_t *a = p->attr, *t = cv->attr;
    const Node *w = cv->in[1];
    if (p->op != OP_MAXPOOL2D || p->in[0] != cv || a[A_KH] != 2 || a[A_KW] != 2 || a[A_SH] != 2 || a[A_SW] != 2 ||
        a[A_PT] || a[A_PL] || a[A_PB] || a[A_PR])
        return false;
    int64_t taps = w->shape.d[1] * w->shape.d[2] * w->shape.d[3];
    bool identity = w->shape.d[2] == 1 && w->shape.d[3] == 1 && !t[A_PT] && !t[A_PL] && !t[A_PB] && !t[A_PR];
    if (t[A_SH] != 1 || t[A_SW] != 1 || taps > THIN_TAPS || identity) return false;
    int adjoints = 0;
    for (int i = cv->id + 1; i < g->nodes.len; i++) {
        const Node *r = g->nodes.items[i];
        for (int q = 0; q < r->nin; q++) {
            if (r->in[q] != cv || r == p) continue;
            if (r->op != OP_MAXPOOL2D_DX || q != 0 || !fuse_folded(g, r)) return false;
            adjoints++;
        }
    }
    return adjoints > 0;
}

static bool reads(const Node *n, const Node *y)
{
    for (int q = 0; q < n->nin; q++)
        if (n->in[q] == y) return true;
    return false;
}

/* Would x be in the loop of elementwise node e, were it just before it? */
static bool in_loop_of(const Node *x, const Node *e)
{
    int kind = ir_op_kind[x->op];
    return kind == K_LEAF || x->op == OP_CONST || (kind == K_ELEM && shape_eq(x->shape, e->shape));
}

bool fuse_epilogue_host(const Node *n)
{
    switch (n->op) {
    case OP_MATMUL: case OP_BMM: case OP_EMBED_MM:
        return true;
    case OP_SOFTMAX: case OP_LOG_SOFTMAX: case OP_SOFTMAX_DX: case OP_NORMALIZE: case OP_NORMALIZE_DX:
        return !getenv("NNLC_NO_ROW_EPILOGUES");   /* (tests/e2e/row_epilogues.sh) */
    case OP_CONV2D: case OP_CONV2D_DX:   /* (nnl_conv2d_ep: a unit at a time) */
        return !getenv("NNLC_NO_CONV_EPILOGUES");   /* (tests/e2e/conv_epilogues.sh) */
    default:
        return false;
    }
}

/* A product (or a row kernel: fuse_epilogue_host) whose first use, further down its
 * segment, is an elementwise node of its shape moves to just before the loop of that
 * use: what lies between does not read it,
 * and the loop can then become its epilogue (mark_epilogues) instead of a pass of its
 * own. Before the loop, not before the use, which would split the loop in two (a value
 * stored that was not). An LSTM's input projection x Wx + b, with b's pieces computed
 * between the two, is one: its [B, 64, 512] add went from a 561 us pass to the product's
 * epilogue. Another is a layer's input gradient followed by its weight gradient and
 * then the activation's adjoint (GPT's GELU: the adjoint's loop starts by recomputing
 * the forward, nodes that do not read the product). Only the order of independent nodes
 * changes, so the values do not. */
static void sink_products(Graph *g)
{
    bool moved = false;
    bool *done = calloc((size_t)g->nodes.len + 1, sizeof *done);   /* per id: moved once */
    if (!done) abort();
    for (int i = 0; i < g->nodes.len; i++) {
        Node *m = g->nodes.items[i];
        if (!fuse_epilogue_host(m) || done[m->id]) continue;
        int hi = g->seg_end[seg_of(g, i)], j = i + 1;
        while (j < hi && !reads(g->nodes.items[j], m)) j++;
        if (j >= hi || j == i + 1) continue;
        Node *e = g->nodes.items[j];
        if (ir_op_kind[e->op] != K_ELEM || !shape_eq(e->shape, m->shape)) continue;
        /* the product goes before the run of nodes that make e's loop with it (elementwise
         * of its shape, and the leaves and constants that no loop takes) */
        int at = j;
        while (at - 1 > i && in_loop_of(g->nodes.items[at - 1], e)) at--;
        if (at == i + 1) continue;   /* only leaves between: nothing to gain */
        memmove(&g->nodes.items[i], &g->nodes.items[i + 1], sizeof(void *) * (size_t)(at - 1 - i));
        g->nodes.items[at - 1] = m;
        done[m->id] = moved = true;   /* (two products of one add would trade places forever) */
        i--;   /* the node now at i has not been looked at */
    }
    free(done);
    if (moved)
        for (int i = 0; i < g->nodes.len; i++) ((Node *)g->nodes.items[i])->id = i;
}

/* The other way: a product (or row kernel) whose first use starts the loop right after it
 * moves up above the nodes just before it that it does not read and that would join that
 * loop, which then computes them in its epilogue instead of a pass of their own storing
 * them. An LSTM step's slice of the input projection (a TAKE, which the schedule puts
 * before the step's product h Wh) is one: [B, 4 units] stored and read back each step.
 * Only the order of independent nodes changes, so the values do not. */
static void hoist_products(Graph *g)
{
    bool moved = false;
    for (int i = 1; i < g->nodes.len; i++) {
        Node *m = g->nodes.items[i];
        if (!fuse_epilogue_host(m)) continue;
        int s = seg_of(g, i), lo = s > 0 ? g->seg_end[s - 1] : 0, hi = g->seg_end[s], j = i + 1;
        while (j < hi && !reads(g->nodes.items[j], m)) j++;
        if (j >= hi) continue;
        Node *e = g->nodes.items[j];
        if (ir_op_kind[e->op] != K_ELEM || !shape_eq(e->shape, m->shape)) continue;
        bool run = true;   /* e's loop starts right after m */
        for (int t = i + 1; t < j && run; t++) run = in_loop_of(g->nodes.items[t], e);
        if (!run) continue;
        int at = i;
        while (at - 1 >= lo && in_loop_of(g->nodes.items[at - 1], e) && !reads(m, g->nodes.items[at - 1])) at--;
        bool elem = false;   /* (leaves alone: no loop to gain) */
        for (int t = at; t < i; t++) elem |= ir_op_kind[((Node *)g->nodes.items[t])->op] == K_ELEM;
        if (!elem) continue;
        memmove(&g->nodes.items[at + 1], &g->nodes.items[at], sizeof(void *) * (size_t)(i - at));
        g->nodes.items[at] = m;
        moved = true;
    }
    if (moved)
        for (int i = 0; i < g->nodes.len; i++) ((Node *)g->nodes.items[i])->id = i;
}

/* A causal mask depends on nothing but indices: it moves to the start of its segment,
 * where it cannot split a chain of loops. Computed where sema put it (between the
 * scaled scores q k^T / sqrt(d) and the masking WHERE), its loop of another shape ended
 * the scores' epilogue, and the WHERE took a pass of its own over [B, heads, T, T]. */
static void hoist_masks(Graph *g)
{
    bool moved = false;
    for (int i = 0; i < g->nodes.len; i++) {
        Node *m = g->nodes.items[i];
        if (m->op != OP_CAUSAL) continue;
        int s = seg_of(g, i), lo = s > 0 ? g->seg_end[s - 1] : 0;
        while (lo < i && ((Node *)g->nodes.items[lo])->op == OP_CAUSAL) lo++;
        if (lo == i) continue;
        memmove(&g->nodes.items[lo + 1], &g->nodes.items[lo], sizeof(void *) * (size_t)(i - lo));
        g->nodes.items[lo] = m;
        moved = true;
    }
    if (moved)
        for (int i = 0; i < g->nodes.len; i++) ((Node *)g->nodes.items[i])->id = i;
}

void fuse_graph(Graph *g, bool remat)
{
    hoist_masks(g);
    sink_products(g);
    hoist_products(g);
    if (remat) {   /* then again: a product or convolution whose first reader is now a clone */
        remat_loops(g);
        sink_products(g);
        hoist_products(g);
    }
    Arena *a = g->arena;
    g->kernels = (PtrVec){0};
    Kernel *cur = NULL;
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.items[i];
        n->seg = seg_of(g, i);
        n->kernel = -1;
        n->stored = false;
        int kind = ir_op_kind[n->op];
        n->alias = false;
        if (kind == K_LEAF || n->op == OP_CONST) continue;
        if (pool_dx_consumer(g, i) || conv_pool_consumer(g, i)) {
            n->kernel = -2;   /* joins its consumer's kernel below */
            continue;
        }
        /* A reshape is the same floats in the same order: it reads its operand's memory
         * (unless it must live at a place of its own, as an output or a gradient). */
        if (n->op == OP_RESHAPE && !n->pinned && n->in[0]->op != OP_CONST &&
            n->in[0]->shape.batched == n->shape.batched) {
            n->alias = true;
            continue;
        }
        if (kind == K_ELEM && cur && (n->kernel = g->kernels.len - 1, joins(n, cur))) {
            vec_push(a, &cur->nodes, n);
            continue;
        }
        Kernel *k = arena_alloc(a, sizeof *k);
        k->kind = kind;
        k->epilogue = k->host = k->sum_copy[0] = k->sum_copy[1] = k->prologue = -1;
        k->seg = n->seg;
        k->shape = n->shape;
        vec_push(a, &k->nodes, n);
        n->kernel = g->kernels.len;
        int q = n->op == OP_CONV2D_DW ? 1 : n->op == OP_MAXPOOL2D ? 0 : -1;
        if (q >= 0 && n->in[q]->kernel == -2) {   /* the folded node above */
            vec_push(a, &k->nodes, n->in[q]);
            n->in[q]->kernel = n->kernel;
        }
        vec_push(a, &g->kernels, k);
        cur = k;
    }
    mark_epilogues(g);
    /* Memory for whatever leaves its kernel, and for every non-loop result. */
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.items[i];
        int kind = ir_op_kind[n->op];
        /* (a folded pooling adjoint never reaches memory; a folded convolution does) */
        if (kind != K_ELEM && kind != K_LEAF && kind != K_UPDATE && (!fuse_folded(g, n) || n->op == OP_CONV2D))
            n->stored = true;
        if (n->pinned && n->op != OP_CONST) n->stored = true;
        for (int k = 0; k < n->nin; k++) {
            Node *x = n->in[k];
            if (x->op != OP_CONST && ir_op_kind[x->op] != K_LEAF && (x->kernel != n->kernel || kind != K_ELEM) &&
                !fuse_folded(g, x))
                x->stored = true;
        }
    }
    mark_norm_sums(g);
    mark_prologues(g);
}

/* Does elementwise kernel e read GEMM output y only at the index it writes (an add, an
 * activation: not a permute, slice, gather, broadcast or reshaped view of y)? */
static bool reads_in_place(const Kernel *e, const Node *y)
{
    for (int j = 0; j < e->nodes.len; j++) {
        Node *n = e->nodes.items[j];
        for (int q = 0; q < n->nin; q++) {
            Node *x = n->in[q];
            if (x->alias) {
                while (x->alias) x = x->in[0];
                if (x == y) return false;
                continue;
            }
            if (x != y) continue;
            bool moves = n->op == OP_GATHER || n->op == OP_PERMUTE || n->op == OP_SLICE ||
                         n->op == OP_UNSLICE || n->op == OP_CONCAT || n->op == OP_TAKE ||
                         n->op == OP_EXPAND || n->op == OP_RESHAPE;
            if (moves || !shape_eq(x->shape, n->shape)) return false;
        }
    }
    return true;
}

/* An elementwise kernel right after a GEMM, in its segment and over its output's shape,
 * that reads the output only in place (bias, activation, residual add) becomes the
 * GEMM's epilogue: nnl_sgemm_ep runs it on each block of the product as soon as the
 * block is final, while it is in cache, instead of in a pass of its own. So for a row
 * kernel (softmax, layer norm and their adjoints) and the loop after it (layer norm's
 * scale and shift, a residual add of its gradient): runtime/kernels.c runs it on each
 * few rows the kernel has just written; and for a convolution or its input gradient
 * (the bias, its activation; a residual's gradient added), runtime/conv.c on each
 * image's output. A convolution folded into its pooling's kernel is not one (the
 * kernel's first node is the pooling). */
static void mark_epilogues(Graph *g)
{
    for (int i = 0; i + 1 < g->kernels.len; i++) {
        Kernel *k = g->kernels.items[i], *e = g->kernels.items[i + 1];
        if ((k->kind != K_GEMM && k->kind != K_ROW && k->kind != K_CALL) || e->kind != K_ELEM || e->seg != k->seg)
            continue;
        Node *y = k->nodes.items[0];
        if (!fuse_epilogue_host(y) || !shape_eq(e->shape, y->shape) || !reads_in_place(e, y) ||
            (y->view && y->view->out))   /* C laid out as a permute (views.c): not flat */
            continue;
        k->epilogue = i + 1;
        e->host = i;
    }
}

/* Whether every reader of n (through views of it) runs in a kernel after kernel k. */
static bool read_after(const Graph *g, const Node *n, int k)
{
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *u = g->nodes.items[i];
        for (int q = 0; q < u->nin; q++)
            if (u->in[q] == n && (u->alias ? !read_after(g, u, k) : u->kernel <= k)) return false;
    }
    return true;
}

/* A sum over all rows (every axis but the last) of x, in a reduction kernel of its own
 * that nothing runs yet, that a row kernel at k can make: read after k, or by a reshape
 * into the parameter's gradient (a loop kernel of its own, *copy, which k then runs after
 * the sum; -1 if none). */
static Node *row_sum_of(const Graph *g, const Node *x, int k, int *copy)
{
    for (int i = 0; i < g->nodes.len; i++) {
        Node *s = g->nodes.items[i];
        if (s->op != OP_SUM || s->in[0] != x || s->ax0 != 0 || s->ax1 != x->shape.rank - 1 || s->kernel < 0)
            continue;
        const Kernel *ks = g->kernels.items[s->kernel];
        if (ks->host >= 0 || ks->seg != ((Kernel *)g->kernels.items[k])->seg) continue;
        bool ok = true;
        *copy = -1;
        for (int j = 0; j < g->nodes.len && ok; j++) {
            const Node *u = g->nodes.items[j];
            bool reads = false;
            for (int q = 0; q < u->nin; q++) reads |= u->in[q] == s;
            if (!reads) continue;
            const Kernel *ku = u->kernel >= 0 ? g->kernels.items[u->kernel] : NULL;
            if (u->alias) ok = read_after(g, u, k);
            else if (u->kernel > k) ok = true;
            else ok = u->op == OP_RESHAPE && ku && ku->kind == K_ELEM && ku->nodes.len == 1 && ku->host < 0 &&
                      ku->epilogue < 0 && ku->seg == ks->seg && *copy < 0 && read_after(g, u, k) &&
                      (*copy = u->kernel) >= 0;
        }
        if (ok) return s;
    }
    return NULL;
}

/* Layer norm's adjoint makes its parameters' gradients as it goes (runtime
 * nnl_layer_norm_rows_dx_ep): beta's, the sum of dy over the rows, and gamma's, the sum
 * of dy xhat, whose product (a loop of its own, xhat the forward's normalization of the
 * same x) is then never stored. The kernel has x and dy in cache row by row; the loop
 * and the two reductions each read them from memory again (char GPT, two threads: 133
 * us a layer norm). Its blocks of rows add into the partial sums the reduction's blocks
 * do, so the sums are the same bits. */
static void mark_norm_sums(Graph *g)
{
    if (getenv("NNLC_NO_ROW_EPILOGUES")) return;
    for (int k = 0; k < g->kernels.len; k++) {
        Kernel *h = g->kernels.items[k];
        Node *d = h->nodes.items[0];
        if (h->kind != K_ROW || d->op != OP_NORMALIZE_DX || d->shape.d[d->shape.rank - 1] < 2) continue;
        int copy_b = -1, copy_g = -1;
        Node *x = d->in[0], *dy = d->in[1], *sb = row_sum_of(g, dy, k, &copy_b), *sg = NULL, *mul = NULL;
        for (int i = 0; i < g->nodes.len && sb && !sg; i++) {
            Node *m = g->nodes.items[i];
            if (m->op != OP_MUL || m->kernel < 0 || !shape_eq(m->shape, dy->shape)) continue;
            Node *xh = m->in[0] == dy ? m->in[1] : m->in[1] == dy ? m->in[0] : NULL;
            const Kernel *km = g->kernels.items[m->kernel];
            if (!xh || xh->op != OP_NORMALIZE || xh->in[0] != x || xh->fval != d->fval || km->nodes.len != 1 ||
                (km->host >= 0 && km->host != k) || km->epilogue >= 0 || m->pinned)
                continue;   /* (the product may have become k's epilogue: then it is no more) */
            Node *s = row_sum_of(g, m, k, &copy_g);
            bool only = true;   /* the sum is the product's only reader */
            for (int j = 0; j < g->nodes.len && s; j++) {
                const Node *u = g->nodes.items[j];
                for (int q = 0; q < u->nin; q++) only &= u->in[q] != m || u == s;
            }
            if (s && only) sg = s, mul = m;
        }
        if (!sg) continue;
        h->sum_g = sg;
        h->sum_b = sb;
        if (h->epilogue == mul->kernel) h->epilogue = -1;
        ((Kernel *)g->kernels.items[sg->kernel])->host = k;
        ((Kernel *)g->kernels.items[sb->kernel])->host = k;
        ((Kernel *)g->kernels.items[mul->kernel])->host = k;
        mul->stored = false;
        h->sum_copy[0] = copy_g;
        h->sum_copy[1] = copy_b;
        for (int q = 0; q < 2; q++)
            if (h->sum_copy[q] >= 0) ((Kernel *)g->kernels.items[h->sum_copy[q]])->host = k;
    }
}

int fuse_step(const Graph *g, int i)
{
    if (i < 0) return i;
    Kernel *k = g->kernels.items[i];
    return k->host >= 0 ? k->host : i;
}

/* A reduction over the trailing axes of a value (batch norm's sums over each image's
 * plane, a global average pooling) or over its leading ones (a bias's gradient, summed
 * over the batch) that the loop right before it stores: the reduction runs that loop
 * itself, a block of rows at a time, and sums each block while it is in cache
 * (nnl_reduce_sum_pro), instead of reading the whole value back from memory after the
 * loop. The loop's values and the sums are the same. NNLC_NO_REDUCE_PROLOGUES=1: none
 * (tests/e2e/reduce_prologues.sh). */
static void mark_prologues(Graph *g)
{
    if (getenv("NNLC_NO_REDUCE_PROLOGUES")) return;
    for (int i = 0; i + 1 < g->kernels.len; i++) {
        Kernel *l = g->kernels.items[i], *r = g->kernels.items[i + 1];
        if (l->kind != K_ELEM || r->kind != K_REDUCE || l->seg != r->seg || l->host >= 0 || r->host >= 0 ||
            r->epilogue >= 0 || r->nodes.len != 1)
            continue;
        Node *n = r->nodes.items[0], *x = n->in[0];
        if (x->kernel != i || x->alias || !x->stored || !shape_eq(x->shape, l->shape) ||
            (n->ax1 != x->shape.rank && n->ax0 != 0))
            continue;
        bool placed = false;   /* (a value stored inside a STACK: its loop's rows are not flat) */
        for (int j = 0; j < l->nodes.len; j++) placed |= ((Node *)l->nodes.items[j])->place_in != NULL;
        if (placed) continue;
        r->prologue = i;
        l->host = i + 1;
    }
}

/* Kernel i as --emit=fused shows it: "k3 gemm: %10=MATMUL*", the loop's shape after its
 * kind; at most `max_nodes` nodes (then "..."), and " (line L)" of its first node when
 * with_line. */
char *fuse_kernel_desc(const Graph *g, int i, int max_nodes, bool with_line)
{
    static const char *kinds[] = {"leaf", "loop", "gemm", "reduce", "rows", "call", "update"};
    Kernel *k = g->kernels.items[i];
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) return NULL;
    fprintf(out, "k%d %s", i, kinds[k->kind]);
    if (k->kind == K_ELEM) fprintf(out, " %s", shape_str(g->arena, k->shape));
    fprintf(out, ":");
    for (int j = 0; j < k->nodes.len; j++) {
        Node *n = k->nodes.items[j];
        if (j == max_nodes) {
            fprintf(out, " ...");
            break;
        }
        fprintf(out, " %%%d=%s%s", n->id, ir_op_names[n->op], n->stored ? "*" : "");
    }
    const Node *y = k->nodes.len ? k->nodes.items[0] : NULL;
    if (k->kind == K_GEMM && y->view) {   /* views.c */
        const BmmView *v = y->view;
        fprintf(out, " (");
        const char *sep = "";
        if (v->on[0]) { fprintf(out, "A"); sep = ", "; }
        if (v->on[1]) { fprintf(out, "%sB", sep); sep = ", "; }
        if (v->out && !v->into) fprintf(out, "%sC", sep);
        fprintf(out, " in place");
        if (v->into) fprintf(out, "%sC into %%%d", v->on[0] || v->on[1] ? ", " : "", v->into->id);
        fprintf(out, ")");
    }
    if (k->kind == K_CALL && y->op == OP_STACK && y->filled) fprintf(out, " (filled by its operands)");
    if (k->kind == K_CALL && k->nodes.len > 1 && fuse_pool_codes(g, k->nodes.items[1]))
        fprintf(out, " (%%%d as window codes)", ((Node *)k->nodes.items[1])->id);
    if (k->epilogue >= 0) fprintf(out, " -> epilogue k%d", k->epilogue);
    if (k->sum_g) fprintf(out, " -> sums k%d k%d", k->sum_g->kernel, k->sum_b->kernel);
    if (k->prologue >= 0) fprintf(out, " (runs k%d first)", k->prologue);
    if (k->host >= 0) fprintf(out, " (run by k%d)", k->host);
    Node *first = k->nodes.len ? k->nodes.items[0] : NULL;
    if (with_line && first && first->span.first_line > 0) fprintf(out, " (line %d)", first->span.first_line);
    fclose(out);
    return buf;
}

/* --emit=fused: one kernel a line, its nodes, and which of them reach memory. */
void fuse_print(FILE *out, const Graph *g)
{
    static const char *segs[] = {"forward", "loss", "training forward", "training loss",
                                 "gradients", "update"};
    int seg = -1;
    for (int i = 0; i < g->kernels.len; i++) {
        Kernel *k = g->kernels.items[i];
        if (k->seg != seg) fprintf(out, "# %s\n", segs[seg = k->seg]);
        char *d = fuse_kernel_desc(g, i, INT_MAX, false);
        fprintf(out, "%s\n", d ? d : "?");
        free(d);
    }
}
