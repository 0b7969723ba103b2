/* remat.c — recompute instead of store. In: the differentiated graph (-O1 and up). Out:
 * the same values, the gradient pass recomputing cheap elementwise forward values from
 * what is in memory anyway instead of reading them back.
 *
 * A forward value the backward pass reads must reach memory: the forward kernel writes
 * it, the gradient kernel reads it. For GELU's x^2, 0.5 x and 1 + tanh(...) over a
 * transformer's [B, T, 4 width] that is three extra tensors written and read each step,
 * when the gradient's loop could compute them again from x (a GEMM's output, in memory
 * anyway) in a few instructions. So each such value gets a clone in the gradient segment,
 * just before its first gradient use, built from operands that are in memory regardless:
 * leaves, constants, results of GEMMs, reductions, row and call kernels, pinned nodes,
 * values of another shape (their own kernel stores them), or other cheap clones of the
 * same shape. The clones compute exactly what the originals did (same operations, same
 * operands): training gives the same bits as at -O0.
 *
 * precompute_derivatives, at the end, goes the other way for a derivative that costs as
 * much as its value (GELU's). */
#include <stdlib.h>

#include "ir.h"

enum { MAX_COST = 16, MAX_DEPTH = 8 };

/* The cost of recomputing n per element, or -1 when it must not be (reads operands at
 * other indices, random, or a running statistic). */
static int op_cost(Op op)
{
    switch (op) {
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_NEG: case OP_MAX: case OP_RELU:
    case OP_STEP: case OP_GE: case OP_ABS: case OP_SIGN: case OP_EXPAND:
        return 1;
    case OP_DIV: case OP_SQRT: return 2;
    case OP_EXP: case OP_TANH: case OP_SIGMOID: case OP_GELU: return 4;
    default: return -1;
    }
}

/* In memory whatever happens, as seen from a clone of shape s; kept: per node id, stored
 * whatever the gradients do, because a forward or loss use outside its loop needs it (a
 * GEMM, reduction or call reads it, or a loop of another shape or segment). */
static bool resident(const bool *kept, const Node *x, Shape s)
{
    int kind = ir_op_kind[x->op];
    return x->op == OP_CONST || kind == K_LEAF || (kind != K_ELEM && kind != K_UPDATE) || x->pinned ||
           !shape_eq(x->shape, s) || kept[x->id];
}

/* The cost of cloning n and the operands it needs cloned too, or -1. */
static int clone_cost(const bool *kept, const Node *n, Shape s, int depth)
{
    int c = op_cost(n->op);
    if (c < 0 || depth > MAX_DEPTH || !shape_eq(n->shape, s)) return -1;
    for (int q = 0; q < n->nin; q++) {
        if (resident(kept, n->in[q], s)) continue;
        int k = clone_cost(kept, n->in[q], s, depth + 1);
        if (k < 0) return -1;
        c += k;
        if (c > MAX_COST) return -1;
    }
    return c;
}

typedef struct Remat {
    Graph *g;
    Node **clone;        /* per original id: its clone, or NULL */
    bool *kept;          /* per original id: see resident() */
    PtrVec out;          /* the new order */
} Remat;

static Node *make_clone(Remat *r, Node *n, Shape s)
{
    if (r->clone[n->id]) return r->clone[n->id];
    Node *c = arena_alloc(r->g->arena, sizeof *c);
    *c = *n;
    c->in = c->in2;
    c->nin = 0;
    c->nuses = 0;
    c->pinned = false;
    c->name = NULL;
    for (int q = 0; q < n->nin; q++) {
        Node *x = n->in[q];
        Node *y = resident(r->kept, x, s) ? x : make_clone(r, x, s);
        c->in[c->nin++] = y;
        y->nuses++;
    }
    r->clone[n->id] = c;
    vec_push(r->g->arena, &r->out, c);
    return c;
}

void remat_graph(Graph *g)
{
    int n0 = g->nodes.len, grad0 = g->seg_end[SEG_GRAD - 1], grad1 = g->seg_end[SEG_GRAD];
    if (grad0 >= grad1) return;
    Remat r = {.g = g, .clone = calloc(n0 + 1, sizeof(Node *)), .kept = calloc(n0 + 1, sizeof(bool))};
    int *start = malloc((n0 + 1) * sizeof *start);
    if (!r.clone || !r.kept || !start) abort();
    for (int i = 0; i < grad0; i++) {
        Node *n = g->nodes.items[i];
        for (int q = 0; q < n->nin; q++) {
            Node *x = n->in[q];
            if (ir_op_kind[n->op] != K_ELEM || !shape_eq(n->shape, x->shape) || n->op == OP_RESHAPE)
                r.kept[x->id] = true;
        }
    }
    for (int i = 0; i < n0; i++) {
        Node *b = g->nodes.items[i];
        start[i] = r.out.len;
        if (i >= grad0 && i < grad1 && ir_op_kind[b->op] == K_ELEM)
            for (int q = 0; q < b->nin; q++) {
                Node *x = b->in[q];
                if (x->id >= grad0 || resident(r.kept, x, b->shape) || clone_cost(r.kept, x, b->shape, 0) < 0)
                    continue;
                Node *c = make_clone(&r, x, b->shape);
                b->in[q] = c;
                c->nuses++;
                x->nuses--;
            }
        vec_push(g->arena, &r.out, b);
    }
    start[n0] = r.out.len;
    ir_set_order(g, r.out, start);
    free(r.clone);
    free(r.kept);
    free(start);
}

/* The other way round: GELU's derivative at x costs a tanh, as GELU's value does; the
 * gradient pass computing it again from x reads x (the product before the bias, 4 MB a
 * char GPT layer) from memory and redoes the tanh, ~1 ms a layer on one thread. The
 * training forward's loop, which has x in registers and t = tanh(...) at hand, computes
 * it beside the value instead and stores it (codegen.c gelu: the two share x^2, u, t),
 * and the gradient multiplies. The memory is the same: x's product is no longer read
 * after the forward, so the derivative, or the value, takes its place (plan.c
 * epilogue_in_place). Only into a training forward of its own (the model built twice,
 * sema.c): the inference forward, a batch-1 call's, must not pay for it. */
void precompute_derivatives(Graph *g)
{
    int tf0 = g->seg_end[SEG_LOSS], tf1 = g->seg_end[SEG_TFORWARD];
    int grad0 = g->seg_end[SEG_GRAD - 1], grad1 = g->seg_end[SEG_GRAD], n0 = g->nodes.len;
    if (tf0 >= tf1 || grad0 >= grad1) return;
    bool *moved = calloc(n0 + 1, sizeof *moved);
    int *start = malloc((n0 + 1) * sizeof *start);
    PtrVec *after = calloc(n0 + 1, sizeof *after);   /* per forward id: the nodes moved after it */
    if (!moved || !start || !after) abort();
    bool any = false;
    for (int i = grad0; i < grad1; i++) {
        Node *d = g->nodes.items[i];
        if (d->op != OP_GELU_DX || d->in[0]->id < tf0 || d->in[0]->id >= tf1) continue;
        moved[i] = any = true;
        vec_push(g->arena, &after[d->in[0]->id], d);
    }
    if (any) {
        PtrVec out = {0};
        for (int i = 0; i < n0; i++) {
            Node *n = g->nodes.items[i];
            start[i] = out.len;
            if (moved[i]) continue;
            vec_push(g->arena, &out, n);
            for (int j = 0; j < after[i].len; j++) vec_push(g->arena, &out, after[i].items[j]);
        }
        start[n0] = out.len;
        ir_set_order(g, out, start);
    }
    free(moved);
    free(start);
    free(after);
}
