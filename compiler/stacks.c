/* stacks.c — STACKs that copy nothing. In: the kernels (fuse.c). Out: the operands of a
 * STACK along axis 1 of batched tensors (a sample's operands then lie one after another
 * in the sample's row of the STACK) written where the STACK puts them, when each operand
 * is a value an elementwise loop stores, or such a STACK in turn, and nothing reads it
 * but the STACK, its own loop at the element it writes, and products that take it as
 * their A (read by rows, lda apart): Node.place_in (the outermost STACK), place_off,
 * place_ld; the STACK is `filled` and its kernel copies nothing. plan.c gives the
 * outermost STACK memory live from the first of its writers; codegen's loops store a
 * placed value a row at a time and the products read it with lda = place_ld.
 *
 * The LSTM's backward stacks its four gate gradients into each step's [B, 4 units] and
 * those into [B, T, 4 units] for the weight gradients, and its forward the hidden states
 * into [B, T, units]: 2 T + 1 copies a step of text_lstm's 6 MB. NNLC_NO_STACK_PLACE=1
 * in nnlc's environment leaves them copies (tests/e2e/stack_place.sh compares). Needs:
 * fuse_graph; before plan_graph. */
#include <stdlib.h>

#include "ir.h"

/* Floats of a sample of batched shape s. */
static int64_t row_size(Shape s)
{
    int64_t n = 1;
    for (int k = 1; k < s.rank; k++) n *= s.d[k];
    return n;
}

/* Whether r, in x's own loop, reads x at the element r writes (from the loop's value,
 * never from memory at another index). */
static bool own_index(const Node *r, const Node *x)
{
    return r->kernel == x->kernel && ir_same_index(r) && shape_eq(r->shape, x->shape);
}

/* Whether n's memory is its own to lay out: not the output, the loss, a gradient, the
 * input or the label, which the runtime or the plan put elsewhere. */
static bool own_memory(const Graph *g, const Node *n)
{
    if (n->pinned || n == g->output || n == g->loss || n == g->t_output || n == g->t_loss || n == g->input ||
        n == g->label)
        return false;
    for (int k = 0; k < g->params.len; k++)
        if (((ParamInfo *)g->params.items[k])->grad == n) return false;
    return true;
}

/* Whether x may live inside STACK s: stored by an elementwise loop over its own shape (or
 * a STACK this pass filled), with memory the plan would give it, and read only by s, its
 * own loop at its own element and products as their A. */
static bool movable(const Graph *g, const Node *x, const Node *s, Node ***readers, const int *nreaders,
                    const bool *mine)
{
    if (!x->stored || !x->shape.batched || x->alias || x->place_in || x->shape.rank < 2 || !own_memory(g, x))
        return false;
    if (x->op == OP_PARAM || x->op == OP_INPUT || x->op == OP_LABEL || x->op == OP_EMA || x->op == OP_CONST)
        return false;
    if (x->op == OP_STACK) {
        if (!mine[x->id]) return false;
    } else {
        const Kernel *k = g->kernels.items[x->kernel];
        if (k->kind != K_ELEM || !shape_eq(k->shape, x->shape)) return false;
    }
    int in_s = 0;
    for (int j = 0; j < nreaders[x->id]; j++) {
        const Node *r = readers[x->id][j];
        if (r == s) {
            in_s++;
            continue;
        }
        if (r->op == OP_MATMUL && r->in[0] == x && r->in[1] != x && !r->trans_a && x->shape.rank == 2) continue;
        if (x->op != OP_STACK && own_index(r, x)) continue;
        return false;
    }
    return in_s == 1;
}

void stacks_graph(Graph *g)
{
    int nn = g->nodes.len;
    /* each node's readers */
    int *nreaders = calloc(nn + 1, sizeof *nreaders);
    Node ***readers = calloc(nn + 1, sizeof *readers);
    bool *mine = calloc(nn + 1, sizeof *mine);
    if (!nreaders || !readers || !mine) abort();
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.items[i];
        for (int q = 0; q < n->nin; q++) nreaders[n->in[q]->id]++;
    }
    for (int i = 0; i < nn; i++) {
        readers[i] = calloc(nreaders[i] + 1, sizeof **readers);
        if (!readers[i]) abort();
        nreaders[i] = 0;
    }
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.items[i];
        for (int q = 0; q < n->nin; q++) {
            Node *x = n->in[q];
            bool seen = false;   /* each reader once */
            for (int j = 0; j < nreaders[x->id]; j++) seen |= readers[x->id][j] == n;
            if (!seen) readers[x->id][nreaders[x->id]++] = n;
        }
    }
    /* in the order of the graph: an inner STACK is filled before the one that takes it */
    for (int i = 0; i < nn; i++) {
        Node *s = g->nodes.items[i];
        if (s->op != OP_STACK || s->filled || s->ax0 != 1 || !s->stored || !s->shape.batched || s->alias ||
            s->nin < 1 || !own_memory(g, s))
            continue;
        int64_t rs = row_size(s->shape), sum = 0;
        bool ok = true;
        for (int q = 0; q < s->nin && ok; q++) {
            Node *x = s->in[q];
            ok = movable(g, x, s, readers, nreaders, mine);
            for (int p = 0; p < q && ok; p++) ok = s->in[p] != x;
            if (ok) sum += row_size(x->shape);
        }
        if (!ok || sum != rs) continue;
        int64_t off = 0;
        for (int q = 0; q < s->nin; q++) {
            Node *x = s->in[q];
            x->place_in = s;
            x->place_off = off;
            x->place_ld = rs;
            off += row_size(x->shape);
        }
        s->filled = true;
        mine[s->id] = true;
    }
    /* each placed node at its outermost STACK: a row of an inner STACK is contiguous in
     * the outer one's row, so offsets add and the outer row stride holds */
    for (int i = 0; i < nn; i++) {
        Node *x = g->nodes.items[i];
        while (x->place_in && x->place_in->place_in) {
            Node *s = x->place_in;
            x->place_off += s->place_off;
            x->place_ld = s->place_ld;
            x->place_in = s->place_in;
        }
    }
    for (int i = 0; i < nn; i++) free(readers[i]);
    free(readers);
    free(nreaders);
    free(mine);
}
