/* rewrite.c — algebraic rewrites of the forward graph that give the same values with
 * less work. In: the graph sema built (before autodiff, so the backward pass follows the
 * cheaper form). Out: the same graph, some nodes changed in place.
 *
 * Max pooling commutes with every non-decreasing elementwise function and with adding a
 * value that is constant over each window: max(relu(z + b)) = relu(max(z) + b), exactly
 * in floating point (rounding is monotonic). So conv -> + bias -> relu -> max_pool2d, the
 * classic CNN layer, becomes conv -> max_pool2d -> + bias -> relu: the add and the relu,
 * their gradients and the bias gradient's reduction run on the pooled tensor, a quarter
 * of the size for 2x2 windows. Gradients stay valid subgradients; only where rounding
 * makes two different z + b equal can the max's gradient go to another cell.
 * And a batched product reads a transposed operand through its trans flag, and a
 * product of an embedding lookup becomes one node, EMBED_MM, whose kernels multiply each
 * distinct id's row once (runtime/embedding.c). */
#include <stdlib.h>

#include "ir.h"

/* x + b where b is constant over axes 2 and up of x (a per-channel bias of f32[B, C, H,
 * W]): returns x, or NULL. */
static Node *per_channel_add(Node *t)
{
    if (t->op != OP_ADD || t->nin != 2) return NULL;
    for (int side = 0; side < 2; side++) {
        Node *x = t->in[side], *b = t->in[1 - side];
        if (!shape_eq(x->shape, t->shape) || b->op == OP_CONST) continue;
        int off = t->shape.rank - b->shape.rank;   /* b's axes, right-aligned */
        bool constant = off >= 0;
        for (int a = 2; a < t->shape.rank && constant; a++)
            if (a - off >= 0 && b->shape.d[a - off] != 1) constant = false;
        if (constant) return x;
    }
    return NULL;
}

static bool private(const Node *n) { return n->nuses == 1 && !n->pinned; }

/* PERMUTE that swaps the last two axes and keeps the others. */
static bool swaps_last_two(const Node *t)
{
    int r = t->shape.rank;
    if (t->op != OP_PERMUTE || r < 2 || t->attr[r - 2] != r - 1 || t->attr[r - 1] != r - 2) return false;
    for (int k = 0; k < r - 2; k++)
        if (t->attr[k] != k) return false;
    return true;
}

/* a @ transpose(b, -1, -2) (attention's q k^T): the batched product reads b transposed
 * itself (its trans flag), so the transpose is not written out. A transpose left without
 * uses becomes a reshape, which fuse.c makes a view of its operand: no kernel, no memory. */
static void fold_bmm_transposes(Graph *g)
{
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.items[i];
        if (n->op != OP_BMM) continue;
        for (int side = 0; side < 2; side++) {
            Node *t = n->in[side];
            if (!swaps_last_two(t)) continue;
            n->in[side] = t->in[0];
            t->in[0]->nuses++;
            t->nuses--;
            if (side == 0) n->trans_a = !n->trans_a;
            else n->trans_b = !n->trans_b;
            if (t->nuses == 0 && !t->pinned) t->op = OP_RESHAPE;
        }
    }
}

/* table[ids] w, the lookup read by nothing else (an Embedding before a Dense or a
 * recurrent layer's input projection) -> EMBED_MM(table, ids, w): the lookup's rows are
 * not stored, and the product and its two adjoints run over the distinct ids of the batch
 * instead of its positions (text repeats its words: the text LSTM's batches of spam
 * emails hold ~780 distinct ids in 2,048). The same values up to the order of the sums of
 * the adjoints. NNLC_NO_EMBED_MM=1 in nnlc's environment keeps the lookup and the product
 * (tests/e2e/embed_mm.sh compares). */
static void fold_lookup_products(Graph *g)
{
    if (getenv("NNLC_NO_EMBED_MM")) return;
    int n0 = g->nodes.len;
    bool *dead = calloc((size_t)n0 + 1, sizeof *dead);
    int *start = malloc(((size_t)n0 + 1) * sizeof *start);
    if (!dead || !start) abort();
    bool any = false;
    for (int i = 0; i < n0; i++) {
        Node *n = g->nodes.items[i];
        if (n->op != OP_MATMUL || n->nin != 2 || n->trans_a || n->trans_b) continue;
        Node *a = n->in[0], *w = n->in[1];
        if (a->op != OP_GATHER || a->nuses != 1 || a->pinned || a == g->output || a == g->t_output ||
            w->shape.rank != 2 || w->shape.batched)
            continue;
        n->op = OP_EMBED_MM;
        n->nin = 3;
        n->in[0] = a->in[0];   /* the table and the ids pass from the lookup to n */
        n->in[1] = a->in[1];
        n->in[2] = w;
        a->nuses = 0;
        dead[a->id] = any = true;
    }
    PtrVec out = {0};
    for (int i = 0; i < n0; i++) {
        start[i] = out.len;
        Node *n = g->nodes.items[i];
        if (!dead[i]) vec_push(g->arena, &out, n);
    }
    start[n0] = out.len;
    if (any) ir_set_order(g, out, start);
    free(dead);
    free(start);
}

void rewrite_graph(Graph *g)
{
    fold_bmm_transposes(g);
    fold_lookup_products(g);
    for (int i = 0; i < g->nodes.len; i++) {
        Node *p = g->nodes.items[i];
        if (p->op != OP_MAXPOOL2D) continue;
        Node *r = p->in[0];
        if (r->op != OP_RELU || !private(r)) continue;
        Node *t = r->in[0], *z = private(t) ? per_channel_add(t) : NULL;
        Shape small = p->shape;
        if (z) {
            /* t = z + b, r = relu(t), p = pool(r)  ->  t = pool(z), r = t + b, p = relu(r):
             * every node keeps its place in the order and p its uses */
            Node *b = t->in[0] == z ? t->in[1] : t->in[0];
            t->op = OP_MAXPOOL2D;
            t->nin = 1;
            t->in[0] = z;
            t->in[1] = NULL;
            t->shape = small;
            for (int k = 0; k < 10; k++) t->attr[k] = p->attr[k];
            r->op = OP_ADD;
            r->nin = 2;
            r->in[0] = t;
            r->in[1] = b;
            r->shape = small;
            p->op = OP_RELU;
            p->in[0] = r;
        } else {
            /* r = relu(t), p = pool(r)  ->  r = pool(t), p = relu(r) */
            r->op = OP_MAXPOOL2D;
            r->shape = small;
            for (int k = 0; k < 10; k++) r->attr[k] = p->attr[k];
            p->op = OP_RELU;
        }
    }
}
