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

/* A copy of n with no operands yet (clone_operand adds them), unnamed and unpinned. */
static Node *bare_copy(Graph *g, const Node *n)
{
    Node *c = arena_alloc(g->arena, sizeof *c);
    *c = *n;
    c->in = c->in2;
    c->nin = 0;
    c->nuses = 0;
    c->pinned = false;
    c->name = NULL;
    return c;
}

static void clone_operand(Node *c, Node *y)
{
    c->in[c->nin++] = y;
    y->nuses++;
}

static Node *make_clone(Remat *r, Node *n, Shape s)
{
    if (r->clone[n->id]) return r->clone[n->id];
    Node *c = bare_copy(r->g, n);
    for (int q = 0; q < n->nin; q++)
        clone_operand(c, resident(r->kept, n->in[q], s) ? n->in[q] : make_clone(r, n->in[q], s));
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

/* ---- across loops ---- */

/* Within a segment, an elementwise value read by a later loop of its shape (one that a
 * reduction in between keeps apart from its own: batch norm's centred values x - mean,
 * which the variance's loop computes and the normalization reads once the variance is
 * known; dy scale in its adjoint) is stored by its loop and read back. When every such
 * later loop can compute it again from values that are in memory anyway, reading at
 * most one array more than it already reads, each gets a clone (the same operations on
 * the same operands: the same bits) and the value never reaches memory. The loops are
 * predicted as fuse_graph makes them, runs of elementwise nodes of one shape and
 * segment; a wrong guess costs a store or an instruction, never a value. */

/* Does op read each operand at the index it writes (and is it a loop's)? */
static bool per_index(Op op)
{
    switch (op) {
    case OP_CONST: case OP_RESHAPE: case OP_EXPAND: case OP_CONCAT: case OP_SLICE: case OP_UNSLICE:
    case OP_TAKE: case OP_DROPOUT: case OP_GATHER: case OP_PERMUTE: case OP_EMA: case OP_CAUSAL:
        return false;
    default:
        return ir_op_kind[op] == K_ELEM;
    }
}

typedef struct Loops {
    Graph *g;
    int *run;            /* per id: its predicted loop, or -1 (clones: ids from n0 on) */
    int *seg;            /* per id: its segment */
    int *pos;            /* per id: 2 id for a node of the graph; 2 at - 1 for a clone placed before node at */
    PtrVec *users;       /* per id of the graph */
    Node **clone;        /* per id: its clone in the loop being served, or NULL */
    PtrVec touched;      /* nodes whose clone entry is set */
    PtrVec *before;      /* per id of the graph: clones to place just before that node */
    PtrVec made;         /* every clone */
    int *uses;           /* per id of the graph: the operand slots that read it (clones' too) */
    int n0, next, cap;   /* the graph's nodes; the next clone's id; ids allotted */
    int at;              /* the id the clones being made go before */
} Loops;

/* Does x reach memory whatever its readers in later loops do? (A clone is read only in
 * its own loop.) */
static bool stored_anyway(const Loops *L, const Node *x)
{
    if (x->pinned || !per_index(x->op)) return true;
    if (x->id >= L->n0) return false;
    const PtrVec *u = &L->users[x->id];
    for (int i = 0; i < u->len; i++) {
        const Node *n = u->items[i];
        if (!per_index(n->op) || !shape_eq(n->shape, x->shape) || L->seg[n->id] != L->seg[x->id]) return true;
    }
    return false;
}

/* What loop `run` (shape s) reads without computing it: an array in memory it can read
 * (1: of shape s, a full array; 2: a constant, a smaller array broadcast, or a value the
 * loop has computed by then), 0 when x must be cloned. */
static int readable(const Loops *L, const Node *x, Shape s, int run)
{
    int kind = ir_op_kind[x->op];
    if (x->op == OP_CONST || !shape_eq(x->shape, s)) return 2;
    if (kind == K_LEAF || kind != K_ELEM) return 1;
    if (L->run[x->id] == run && L->pos[x->id] < 2 * L->at) return 2;
    return stored_anyway(L, x) ? 1 : 0;
}

/* Can loop `run` compute n itself? Adds the arrays of shape s its clone would read to
 * reads (at most max); the cost in op_cost units, or -1. */
static int loop_clone_cost(const Loops *L, const Node *n, Shape s, int run, const Node **reads, int *nreads,
                           int max, int depth)
{
    int c = op_cost(n->op);
    if (c < 0 || depth > MAX_DEPTH || !shape_eq(n->shape, s)) return -1;
    for (int q = 0; q < n->nin; q++) {
        const Node *x = n->in[q];
        int r = readable(L, x, s, run);
        if (r == 2) continue;
        if (r == 1) {
            bool seen = false;
            for (int i = 0; i < *nreads; i++) seen |= reads[i] == x;
            if (!seen) {
                if (*nreads == max) return -1;
                reads[(*nreads)++] = x;
            }
            continue;
        }
        int k = loop_clone_cost(L, x, s, run, reads, nreads, max, depth + 1);
        if (k < 0) return -1;
        c += k;
        if (c > MAX_COST) return -1;
    }
    return c;
}

static Node *loop_clone(Loops *L, Node *n, Shape s, int run)
{
    if (L->clone[n->id]) return L->clone[n->id];
    Node *c = bare_copy(L->g, n);
    for (int q = 0; q < n->nin; q++) {
        Node *x = n->in[q];
        bool read = readable(L, x, s, run);
        if (read && x->id < L->n0) L->uses[x->id]++;
        clone_operand(c, read ? x : loop_clone(L, x, s, run));
    }
    c->id = L->next++;
    L->run[c->id] = run;
    L->seg[c->id] = L->seg[L->at];
    L->pos[c->id] = 2 * L->at - 1;
    L->clone[n->id] = c;
    vec_push(L->g->arena, &L->touched, n);
    vec_push(L->g->arena, &L->before[L->at], c);
    vec_push(L->g->arena, &L->made, c);
    return c;
}

/* The arrays of shape s that loop `run` reads from outside it, its clones' included (at
 * most max, else -1). */
static int loop_reads(const Loops *L, int run, Shape s, const Node **reads, int max)
{
    int nr = 0;
    for (int i = 0; i < L->n0 + L->made.len; i++) {
        const Node *n = i < L->n0 ? L->g->nodes.items[i] : L->made.items[i - L->n0];
        if (L->run[n->id] != run) continue;
        for (int q = 0; q < n->nin; q++) {
            const Node *x = n->in[q];
            if (x->op == OP_CONST || L->run[x->id] == run || !shape_eq(x->shape, s)) continue;
            bool seen = false;
            for (int k = 0; k < nr; k++) seen |= reads[k] == x;
            if (seen) continue;
            if (nr == max) return -1;
            reads[nr++] = x;
        }
    }
    return nr;
}

/* v, whose readers in later loops now read clones, when nothing reads it any more: out
 * of the graph, and so are the nodes of its loop (and clones) that only it read, so that
 * no loop is left computing what nothing reads. Never pinned (outputs, losses,
 * gradients) or a node that another part of the graph refers to (only cheap elementwise
 * nodes go). */
static void drop_dead(Loops *L, Node *v, bool *dead)
{
    bool clone = v->id >= L->n0;
    if ((clone ? v->nuses : L->uses[v->id]) > 0 || v->pinned || dead[v->id] || op_cost(v->op) < 0) return;
    dead[v->id] = true;
    for (int q = 0; q < v->nin; q++) {
        Node *x = v->in[q];
        x->nuses--;
        if (x->id < L->n0) L->uses[x->id]--;
        if (x->id >= L->n0 || L->run[x->id] == L->run[v->id]) drop_dead(L, x, dead);
    }
}

void remat_loops(Graph *g)
{
    int n0 = g->nodes.len, cap = 2 * n0 + 256;   /* (each candidate may take up to 8 (MAX_COST + 1)) */
    Loops L = {.g = g, .run = malloc(cap * sizeof(int)), .seg = malloc(cap * sizeof(int)),
               .pos = malloc(cap * sizeof(int)), .users = calloc(n0 + 1, sizeof(PtrVec)),
               .clone = calloc(cap, sizeof(Node *)), .before = calloc(n0 + 1, sizeof(PtrVec)), .n0 = n0,
               .next = n0, .cap = cap};
    if (!L.run || !L.seg || !L.pos || !L.users || !L.clone || !L.before) abort();
    for (int i = 0; i < n0; i++) ((Node *)g->nodes.items[i])->id = i;   /* (the arrays are by id) */
    int runs = 0, cur = -1, s = 0;
    for (int i = 0; i < n0; i++) {
        Node *n = g->nodes.items[i];
        while (s < SEG_COUNT - 1 && i >= g->seg_end[s]) s++;
        L.seg[i] = s;
        L.run[i] = -1;
        L.pos[i] = 2 * i;
        for (int q = 0; q < n->nin; q++) vec_push(g->arena, &L.users[n->in[q]->id], n);
        int kind = ir_op_kind[n->op];
        if (kind == K_LEAF || n->op == OP_CONST || n->op == OP_RESHAPE) continue;   /* no loop of their own */
        if (kind != K_ELEM) {
            cur = -1;
            continue;
        }
        Node *first = cur >= 0 ? g->nodes.items[cur] : NULL;
        if (!first || !shape_eq(first->shape, n->shape) || L.seg[cur] != s) {
            cur = i;
            runs++;
        }
        L.run[i] = runs;
    }
    bool *dead = calloc(cap, sizeof *dead);   /* per id, clones' too */
    L.uses = malloc((n0 + 1) * sizeof *L.uses);
    if (!L.uses || !dead) abort();
    for (int i = 0; i < n0; i++) L.uses[i] = L.users[i].len;
    enum { MAX_READS = 64, MAX_LATER = 8 };
    const Node *reads[MAX_READS];
    bool any = false;
    for (int i = 0; i < n0; i++) {
        Node *v = g->nodes.items[i];
        if (L.run[i] < 0 || op_cost(v->op) < 0 || stored_anyway(&L, v)) continue;
        if (L.next + MAX_LATER * (MAX_COST + 1) > L.cap) break;
        /* the later loops reading v, each with the first of its nodes that does */
        PtrVec *u = &L.users[i];
        int later[MAX_LATER], first[MAX_LATER], nl = 0;
        bool ok = true;
        for (int k = 0; k < u->len && ok; k++) {
            const Node *n = u->items[k];
            if (L.run[n->id] == L.run[i]) continue;
            int j = 0;
            while (j < nl && later[j] != L.run[n->id]) j++;
            if (j == nl && nl == MAX_LATER) ok = false;
            else if (j == nl) later[nl] = L.run[n->id], first[nl++] = n->id;
            else if (n->id < first[j]) first[j] = n->id;
        }
        for (int j = 0; j < nl && ok; j++) {   /* each may read one array more than it does */
            L.at = first[j];
            int base = loop_reads(&L, later[j], v->shape, reads, MAX_READS), nr = base;
            ok = base >= 0 && loop_clone_cost(&L, v, v->shape, later[j], reads, &nr, MAX_READS, 0) >= 0 &&
                 nr - base <= 1;
        }
        if (!ok || nl == 0) continue;
        for (int j = 0; j < nl; j++) {
            L.at = first[j];
            Node *c = loop_clone(&L, v, v->shape, later[j]);
            for (int k = 0; k < u->len; k++) {
                Node *n = u->items[k];
                if (L.run[n->id] != later[j]) continue;
                for (int q = 0; q < n->nin; q++)
                    if (n->in[q] == v) {
                        n->in[q] = c;
                        c->nuses++;
                        v->nuses--;
                        L.uses[i]--;
                    }
            }
            for (int k = 0; k < L.touched.len; k++) L.clone[((Node *)L.touched.items[k])->id] = NULL;
            L.touched.len = 0;
        }
        any = true;
        drop_dead(&L, v, dead);
    }
    if (any) {
        PtrVec out = {0};
        int *start = malloc((n0 + 1) * sizeof *start);
        if (!start) abort();
        for (int i = 0; i < n0; i++) {
            start[i] = out.len;
            for (int k = 0; k < L.before[i].len; k++) {
                Node *c = L.before[i].items[k];
                if (!dead[c->id]) vec_push(g->arena, &out, c);
            }
            if (!dead[i]) vec_push(g->arena, &out, g->nodes.items[i]);
        }
        start[n0] = out.len;
        ir_set_order(g, out, start);
        free(start);
    }
    free(L.uses);
    free(dead);
    free(L.run);
    free(L.seg);
    free(L.pos);
    free(L.users);
    free(L.clone);
    free(L.before);
}
