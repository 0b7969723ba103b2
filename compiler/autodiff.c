/* autodiff.c — reverse mode. In: a graph with forward nodes and a scalar loss. Out: the
 * same graph with the backward pass appended (one VJP rule per primitive, adjoints of
 * nodes used twice summed) and one optimizer update node over the whole parameter block.
 * Needs: g->t_loss (the training graph's loss). Leaves stale: kernels and the plan. The rules read like a table:
 * `g` is the adjoint of the node `y`, its operands are `a` and `b`. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* The adjoints of a node's pieces (its TAKEs, or its SLICEs of one length at multiples
 * of that length: chunk), gathered by index until the node's turn, then joined by one
 * STACK (pieces_adjoint). */
typedef struct Pieces {
    Node **slot;
    int n;           /* pieces along the axis */
    int axis;
    int64_t len;     /* SLICE: each piece's length; 0: TAKEs */
} Pieces;

/* The terms a_t^T g_t of a weight's gradient from products a_t @ W, gathered until the
 * weight's turn (weight_terms), then summed by one product of the stacked a_t and g_t. */
typedef struct Terms {
    Node **a, **g;
    int n, cap;
} Terms;

typedef struct Ad {
    Graph *g;
    Node **adj;      /* adjoint per forward node id */
    bool *needs;     /* depends on a parameter */
    Pieces *pieces;  /* per forward node id */
    Terms *terms;    /* per forward node id */
    int *products;   /* per forward node id: forward products of a [B, k] by it */
} Ad;

/* Sums dy over the axes that broadcasting added or stretched, so the result has shape
 * t: the adjoint of broadcasting. The first reduction carries scale (and / batch). */
static Node *sum_to(Graph *g, Node *dy, Shape t, double scale, bool div_batch, Span at)
{
    Shape s = dy->shape;
    if (shape_eq(s, t)) {
        if (scale == 1 && !div_batch) return dy;
        return ir_expand(g, dy, s, s, scale, div_batch, at);
    }
    int lead = s.rank - t.rank;
    bool red[NNL_MAX_RANK] = {0};
    for (int k = 0; k < s.rank; k++) {
        bool sb = s.batched && k == 0;
        if (k < lead) { red[k] = true; continue; }
        int j = k - lead;
        bool tb = t.batched && j == 0;
        if (sb && !tb) red[k] = true;
        else if (!sb && !tb && t.d[j] == 1 && s.d[k] != 1) red[k] = true;
    }
    Node *cur = dy;
    for (int k = 0; k < s.rank;) {
        if (!red[k]) { k++; continue; }
        int e = k;
        while (e < s.rank && red[e]) e++;
        cur = ir_sum(g, cur, k, e, true, scale, div_batch, at);
        scale = 1;
        div_batch = false;
        k = e;
    }
    if (scale != 1 || div_batch) cur = ir_expand(g, cur, cur->shape, cur->shape, scale, div_batch, at);
    return ir_reshape(g, cur, t, at);
}

static Node *mul(Graph *g, Node *a, Node *b, Span at) { return ir_binary(g, OP_MUL, a, b, at); }
static Node *un(Graph *g, Op op, Node *a, Span at) { return ir_unary(g, op, a, at); }

static void accumulate(Ad *ad, Node *x, Node *c)
{
    if (!c || !ad->needs[x->id]) return;
    Node **slot = &ad->adj[x->id];
    *slot = *slot ? ir_binary(ad->g, OP_ADD, *slot, c, c->span) : c;
}

static Node *zeros_like(Graph *g, Shape s, Span at)
{
    return ir_expand(g, ir_const(g, 0, at), shape_scalar(), s, 1, false, at);
}

/* The adjoints of x's pieces joined into one STACK, zeros for the missing ones: the
 * backward pass of a scan's per-step slices (or of an LSTM's four gates) costs what the
 * forward's did, not one full-size scatter per piece. */
static void pieces_adjoint(Ad *ad, Node *x)
{
    Pieces *p = &ad->pieces[x->id];
    if (!p->slot) return;
    Shape piece = x->shape;
    if (p->len) {
        piece.d[p->axis] = p->len;
    } else {
        piece.rank--;
        for (int k = p->axis; k < piece.rank; k++) piece.d[k] = x->shape.d[k + 1];
    }
    for (int t = 0; t < p->n; t++)
        if (!p->slot[t]) p->slot[t] = zeros_like(ad->g, piece, x->span);
    accumulate(ad, x, ir_stack(ad->g, p->slot, p->n, p->axis, p->len != 0, x->span));
    free(p->slot);
    *p = (Pieces){0};
}

/* g, the adjoint of piece `index` of x (len 0: a TAKE). Pieces of another kind or
 * axis flush what was gathered first. */
static void add_piece(Ad *ad, Node *x, int axis, int64_t len, int64_t index, Node *g)
{
    Pieces *p = &ad->pieces[x->id];
    if (p->slot && (p->axis != axis || p->len != len)) pieces_adjoint(ad, x);
    if (!p->slot) {
        p->n = (int)(len ? x->shape.d[axis] / len : x->shape.d[axis]);
        p->slot = calloc(p->n, sizeof *p->slot);
        p->axis = axis;
        p->len = len;
    }
    p->slot[index] = p->slot[index] ? ir_binary(ad->g, OP_ADD, p->slot[index], g, g->span) : g;
}

/* The adjoint of y = a / c or a * c, c a constant scalar, when y's adjoint gy is a
 * softmax's adjoint that nothing else reads: the scale folded into that row kernel (no
 * pass of its own over attention's scores), gy then a's adjoint. */
static bool scaled_softmax_dx(Node *gy, Node *c, Node *a, bool divide)
{
    if (gy->op != OP_SOFTMAX_DX || gy->nuses || gy->pinned || c->op != OP_CONST ||
        c->shape.rank != 0 || !shape_eq(gy->shape, a->shape) || (divide && c->fval == 0))
        return false;
    gy->fval = (float)(divide ? gy->fval / c->fval : gy->fval * c->fval);
    return true;
}

/* gy = dy * gamma, gamma (n) broadcast along the last axis of x (..., n), when nothing else
 * reads gy: gy with dy first and gamma second (swapped in place if need be), else NULL.
 * NORMALIZE's adjoint then takes the product over (no tensor of it stored). */
static Node *gamma_product(Node *gy, const Node *x)
{
    if (gy->op != OP_MUL || gy->nin != 2 || gy->nuses || gy->pinned) return NULL;
    int64_t n = x->shape.d[x->shape.rank - 1];
    for (int side = 0; side < 2; side++) {
        Node *d = gy->in[side], *v = gy->in[1 - side];
        if (shape_eq(d->shape, x->shape) && v->shape.rank == 1 && !v->shape.batched && v->shape.d[0] == n &&
            v->shape.d[0] != 1) {
            gy->in[0] = d;
            gy->in[1] = v;
            return gy;
        }
    }
    return NULL;
}

/* A recurrence unrolled over T steps multiplies each step's state by one weight: its
 * gradient is the sum over steps of h_t^T g_t, T products with k = the batch (an LSTM's
 * 32 rows) and T additions of the whole gradient. At least STACKED_MIN such terms of
 * equal shapes are summed as one product instead, [h_1 .. h_T]^T [g_1 .. g_T] with
 * k = batch * T. The g_t are also the pieces of the input projection's gradient, whose
 * STACK (pieces_adjoint, made earlier in the sweep) serves again when it is the same. */
enum { STACKED_MIN = 4 };

static void add_term(Ad *ad, Node *w, Node *a, Node *g)
{
    Terms *t = &ad->terms[w->id];
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->a = realloc(t->a, t->cap * sizeof *t->a);
        t->g = realloc(t->g, t->cap * sizeof *t->g);
        if (!t->a || !t->g) abort();
    }
    t->a[t->n] = a;
    t->g[t->n] = g;
    t->n++;
}

/* An existing STACK of exactly xs along a new axis `axis`, or a new one. */
static Node *stack_of(Graph *g, Node **xs, int n, int axis, Span at)
{
    for (int i = 0; i < g->nodes.len; i++) {
        Node *y = g->nodes.items[i];
        if (y->op != OP_STACK || y->nin != n || y->ax0 != axis || y->shape.rank != xs[0]->shape.rank + 1) continue;
        int k = 0;
        while (k < n && y->in[k] == xs[k]) k++;
        if (k == n) return y;
    }
    return ir_stack(g, xs, n, axis, false, at);
}

static void weight_terms(Ad *ad, Node *w)
{
    Terms *t = &ad->terms[w->id];
    if (!t->n) return;
    bool stacked = t->n >= STACKED_MIN;
    for (int k = 0; k < t->n && stacked; k++)
        stacked = t->a[k]->shape.rank == 2 && t->a[k]->shape.batched && shape_eq(t->a[k]->shape, t->a[0]->shape) &&
                  shape_eq(t->g[k]->shape, t->g[0]->shape);
    if (stacked) {
        /* gathered last step first: stacked in the steps' order */
        for (int k = 0; k < t->n / 2; k++) {
            Node *x = t->a[k]; t->a[k] = t->a[t->n - 1 - k]; t->a[t->n - 1 - k] = x;
            x = t->g[k]; t->g[k] = t->g[t->n - 1 - k]; t->g[t->n - 1 - k] = x;
        }
        Node *as = stack_of(ad->g, t->a, t->n, 1, w->span), *gs = stack_of(ad->g, t->g, t->n, 1, w->span);
        accumulate(ad, w, ir_matmul(ad->g, as, gs, 1, 0, w->shape, w->span));
    } else {
        for (int k = 0; k < t->n; k++) accumulate(ad, w, ir_matmul(ad->g, t->a[k], t->g[k], 1, 0, w->shape, w->span));
    }
    free(t->a);
    free(t->g);
    *t = (Terms){0};
}

/* The VJP rules. */
static void vjp(Ad *ad, Node *y, Node *gy)
{
    Graph *g = ad->g;
    Span at = y->span;
    Node *a = y->nin > 0 ? y->in[0] : NULL, *b = y->nin > 1 ? y->in[1] : NULL;
    bool na = a && ad->needs[a->id], nb = b && ad->needs[b->id];
    switch (y->op) {
    case OP_INPUT: case OP_LABEL: case OP_PARAM: case OP_CONST:
    case OP_STEP: case OP_SIGN: case OP_GE: case OP_GELU_DX:
    case OP_SGD: case OP_ADAM: case OP_UNPICK: case OP_DROPOUT: case OP_EMA:
    case OP_EMBED_DW: case OP_EMBED_SUMS: case OP_EMBED_DW_MM: case OP_EMBED_WT: case OP_CAUSAL:
    case OP_NORMALIZE_DX: case OP_SOFTMAX_DX:
        break;
    case OP_ADD:     /* da = g, db = g (summed over broadcast axes) */
        if (na) accumulate(ad, a, sum_to(g, gy, a->shape, 1, false, at));
        if (nb) accumulate(ad, b, sum_to(g, gy, b->shape, 1, false, at));
        break;
    case OP_SUB:     /* da = g, db = -g */
        if (na) accumulate(ad, a, sum_to(g, gy, a->shape, 1, false, at));
        if (nb) accumulate(ad, b, sum_to(g, gy, b->shape, -1, false, at));
        break;
    case OP_MUL:     /* da = g b, db = g a */
        if (na && !nb && scaled_softmax_dx(gy, b, a, false)) {
            accumulate(ad, a, gy);
            break;
        }
        if (na) accumulate(ad, a, sum_to(g, mul(g, gy, b, at), a->shape, 1, false, at));
        if (nb) accumulate(ad, b, sum_to(g, mul(g, gy, a, at), b->shape, 1, false, at));
        break;
    case OP_DIV:     /* da = g / b, db = -g y / b */
        if (na && !nb && scaled_softmax_dx(gy, b, a, true)) {   /* attention's scores / sqrt(d) */
            accumulate(ad, a, gy);
            break;
        }
        if (na) accumulate(ad, a, sum_to(g, ir_binary(g, OP_DIV, gy, b, at), a->shape, 1, false, at));
        if (nb) accumulate(ad, b, sum_to(g, ir_binary(g, OP_DIV, mul(g, gy, y, at), b, at), b->shape, -1, false, at));
        break;
    case OP_MAX: {   /* da = g [a >= b], db = g [a < b] */
        Node *ge = ir_binary(g, OP_GE, a, b, at);
        if (na) accumulate(ad, a, sum_to(g, mul(g, gy, ge, at), a->shape, 1, false, at));
        if (nb) accumulate(ad, b, sum_to(g, mul(g, gy, ir_binary(g, OP_SUB, ir_const(g, 1, at), ge, at), at),
                                          b->shape, 1, false, at));
        break;
    }
    case OP_NEG:     accumulate(ad, a, un(g, OP_NEG, gy, at)); break;             /* -g */
    case OP_EXP:     accumulate(ad, a, mul(g, gy, y, at)); break;                 /* g y */
    case OP_LOG:     accumulate(ad, a, ir_binary(g, OP_DIV, gy, a, at)); break;   /* g / a */
    case OP_SQRT:    /* g / (2 y) */
        accumulate(ad, a, ir_binary(g, OP_DIV, mul(g, gy, ir_const(g, 0.5, at), at), y, at));
        break;
    case OP_RELU:    accumulate(ad, a, mul(g, gy, un(g, OP_STEP, a, at), at)); break;      /* g [a > 0] */
    case OP_SIGMOID: /* g y (1 - y) */
        accumulate(ad, a, mul(g, mul(g, gy, y, at),
                              ir_binary(g, OP_SUB, ir_const(g, 1, at), y, at), at));
        break;
    case OP_TANH:    /* g (1 - y^2) */
        accumulate(ad, a, mul(g, gy, ir_binary(g, OP_SUB, ir_const(g, 1, at), mul(g, y, y, at), at), at));
        break;
    case OP_GELU:    accumulate(ad, a, mul(g, gy, un(g, OP_GELU_DX, a, at), at)); break;   /* g gelu'(a) */
    case OP_SOFTPLUS: accumulate(ad, a, mul(g, gy, un(g, OP_SIGMOID, a, at), at)); break;  /* g s(a) */
    case OP_ABS:     accumulate(ad, a, mul(g, gy, un(g, OP_SIGN, a, at), at)); break;      /* g sign(a) */
    case OP_RESHAPE: accumulate(ad, a, ir_reshape(g, gy, a->shape, at)); break;
    case OP_EXPAND:  /* the adjoint of broadcasting is summing */
        accumulate(ad, a, ir_reshape(g, sum_to(g, gy, y->from, y->fval, y->div_batch, at), a->shape, at));
        break;
    case OP_SUM: {   /* da = g broadcast back over the reduced axes, same scale */
        Shape from = a->shape;
        for (int k = y->ax0; k < y->ax1; k++) from.d[k] = 1;
        if (y->ax0 == 0) from.batched = false;
        accumulate(ad, a, ir_expand(g, gy, from, a->shape, y->fval, y->div_batch, at));
        break;
    }
    case OP_MATMUL:  /* y = a b: da = g b^T, db = a^T g (leading axes of a flattened) */
        if (y->trans_a || y->trans_b) {
            diag(DIAG_ERROR, at, "internal error in autodiff: transposed matmul in the forward pass");
            break;
        }
        if (na) accumulate(ad, a, ir_matmul(g, gy, b, 0, 1, a->shape, at));
        if (nb && ad->products[b->id] >= STACKED_MIN) add_term(ad, b, a, gy);   /* see weight_terms */
        else if (nb) accumulate(ad, b, ir_matmul(g, a, gy, 1, 0, b->shape, at));
        break;
    case OP_SOFTMAX:   /* da = y (g - sum(g y)) along the last axis: one row kernel */
        if (na) {
            Node *d = ir_op2(g, OP_SOFTMAX_DX, y, gy, a->shape, NULL, at);
            d->fval = 1;
            d->attr[0] = y->attr[0];
            accumulate(ad, a, d);
        }
        break;
    case OP_NORMALIZE:   /* da = r (g - mean(g) - y mean(g y)), r = 1 / sqrt(var + eps) */
        if (na) {
            Node *d = gamma_product(gy, a);
            if (d) {   /* g = dy gamma (layer norm's scale): the row kernel forms it */
                d->op = OP_NORMALIZE_DX;
                d->in[2] = d->in[1];
                d->in[1] = d->in[0];
                d->in[0] = a;
                d->nin = 3;
                a->nuses++;
            } else d = ir_op2(g, OP_NORMALIZE_DX, a, gy, a->shape, NULL, at);
            d->fval = y->fval;
            accumulate(ad, a, d);
        }
        break;
    case OP_LOG_SOFTMAX: { /* da = g - exp(y) sum(g) along the last axis */
        int r = y->shape.rank;
        Node *s = ir_sum(g, gy, r - 1, r, true, 1, false, at);
        accumulate(ad, a, ir_binary(g, OP_SUB, gy, mul(g, un(g, OP_EXP, y, at), s, at), at));
        break;
    }
    case OP_PICK: {  /* da = g scattered back to the picked entries */
        if (!na) break;
        Node *u = ir_node(g, OP_UNPICK, at, a->shape);
        u->in[0] = gy; u->in[1] = b; u->nin = 2;
        gy->nuses++; b->nuses++;
        accumulate(ad, a, u);
        break;
    }
    case OP_CONV2D:  /* dx = conv2d^T(g, w), dw = correlation of x with g */
        if (na) accumulate(ad, a, ir_op2(g, OP_CONV2D_DX, gy, b, a->shape, y->attr, at));
        if (nb) accumulate(ad, b, ir_op2(g, OP_CONV2D_DW, a, gy, b->shape, y->attr, at));
        break;
    case OP_MAXPOOL2D: /* g to the first maximum of each window */
        accumulate(ad, a, ir_op2(g, OP_MAXPOOL2D_DX, a, gy, a->shape, y->attr, at));
        break;
    case OP_AVGPOOL2D: /* g spread evenly over each window */
        accumulate(ad, a, ir_op2(g, OP_AVGPOOL2D_DX, gy, NULL, a->shape, y->attr, at));
        break;
    case OP_CONCAT: { /* each operand gets its part of g */
        int k = y->ax0;
        if (na) accumulate(ad, a, ir_slice(g, OP_SLICE, gy, k, 0, a->shape.d[k], at));
        if (nb) accumulate(ad, b, ir_slice(g, OP_SLICE, gy, k, a->shape.d[k], b->shape.d[k], at));
        break;
    }
    case OP_SLICE: { /* g back in place, zeros elsewhere; equal pieces are gathered */
        int64_t len = y->shape.d[y->ax0];
        if (a->shape.d[y->ax0] % len == 0 && y->ax1 % len == 0)
            add_piece(ad, a, y->ax0, len, y->ax1 / len, gy);
        else
            accumulate(ad, a, ir_slice(g, OP_UNSLICE, gy, y->ax0, y->ax1, a->shape.d[y->ax0], at));
        break;
    }
    case OP_UNSLICE: accumulate(ad, a, ir_slice(g, OP_SLICE, gy, y->ax0, y->ax1, a->shape.d[y->ax0], at)); break;
    case OP_STACK: { /* each operand gets its piece of g */
        bool joined = y->shape.rank == a->shape.rank;   /* equal parts along an existing axis */
        int64_t len = joined ? a->shape.d[y->ax0] : 0;
        for (int t = 0; t < y->nin; t++)
            if (ad->needs[y->in[t]->id])
                accumulate(ad, y->in[t], joined ? ir_slice(g, OP_SLICE, gy, y->ax0, t * len, len, at)
                                                : ir_take(g, gy, y->ax0, t, at));
        break;
    }
    case OP_TAKE:    /* g to its step, zeros elsewhere: gathered, see pieces_adjoint */
        add_piece(ad, a, y->ax0, 0, y->ax1, gy);
        break;
    case OP_GATHER:  /* dtable[ids[i]] += g[i], rows summed in a fixed order */
        if (na) accumulate(ad, a, ir_op2(g, OP_EMBED_DW, gy, b, a->shape, NULL, at));
        break;
    case OP_EMBED_MM: { /* y = table[ids] w: dtable = EMBED_DW(g w^T), dw = table[ids]^T g,
                         * both from g's rows summed per distinct id (computed once) */
        Node *w = y->in[2];
        bool nw = ad->needs[w->id];
        if (!na && !nw) break;
        int64_t attr[10] = {a->shape.d[0]};
        Node *s = ir_op2(g, OP_EMBED_SUMS, gy, b, gy->shape, attr, at);
        if (na) accumulate(ad, a, ir_op3(g, OP_EMBED_DW_MM, s, b, w, a->shape, at));
        if (nw) accumulate(ad, w, ir_op3(g, OP_EMBED_WT, a, b, s, w->shape, at));
        break;
    }
    case OP_PERMUTE: { /* g permuted back: the inverse permutation */
        int inv[NNL_MAX_RANK];
        for (int k = 0; k < y->shape.rank; k++) inv[y->attr[k]] = k;
        accumulate(ad, a, ir_permute(g, gy, inv, at));
        break;
    }
    case OP_BMM: {   /* y = op(a) op(b), per matrix: the four transposition cases */
        int ta = y->trans_a, tb = y->trans_b;
        if (na)      /* a b: g b^T;  a b^T: g b;  a^T b: b g^T;  a^T b^T: b^T g^T */
            accumulate(ad, a, ta ? ir_bmm(g, b, gy, tb, 1, at) : ir_bmm(g, gy, b, 0, !tb, at));
        if (nb)      /* a b: a^T g;  a b^T: g^T a;  a^T b: a g;  a^T b^T: g^T a^T */
            accumulate(ad, b, tb ? ir_bmm(g, gy, a, 1, ta, at) : ir_bmm(g, a, gy, !ta, 0, at));
        break;
    }
    case OP_WHERE: { /* da = where(c, g, 0), db = where(c, 0, g) */
        Node *c = a, *x = b, *z = y->in[2], *zero = ir_const(g, 0, at);
        if (ad->needs[x->id]) accumulate(ad, x, sum_to(g, ir_where(g, c, gy, zero, at), x->shape, 1, false, at));
        if (ad->needs[z->id]) accumulate(ad, z, sum_to(g, ir_where(g, c, zero, gy, at), z->shape, 1, false, at));
        break;
    }
    case OP_CONV2D_DX: case OP_CONV2D_DW: case OP_MAXPOOL2D_DX: case OP_AVGPOOL2D_DX:
        break;   /* second derivatives are not needed */
    case OP_COUNT: break;
    }
}

void ad_differentiate(Graph *g)
{
    int n = g->nodes.len;
    Ad ad = {.g = g};
    ad.adj = calloc(n, sizeof *ad.adj);
    ad.needs = calloc(n, sizeof *ad.needs);
    ad.pieces = calloc(n, sizeof *ad.pieces);
    ad.terms = calloc(n, sizeof *ad.terms);
    ad.products = calloc(n, sizeof *ad.products);
    if (!ad.adj || !ad.needs || !ad.pieces || !ad.terms || !ad.products) abort();
    for (int i = 0; i < n; i++) {
        Node *y = g->nodes.items[i];
        if (y->op == OP_MATMUL && y->in[0]->shape.rank == 2 && y->in[0]->shape.batched) ad.products[y->in[1]->id]++;
    }
    for (int i = 0; i < n; i++) {
        Node *x = g->nodes.items[i];
        ad.needs[i] = x->op == OP_PARAM && !((ParamInfo *)g->params.items[x->param])->buffer;
        for (int k = 0; k < x->nin; k++) ad.needs[i] |= ad.needs[x->in[k]->id];
    }
    ad.adj[g->t_loss->id] = ir_const(g, 1, g->t_loss->span);
    for (int i = n - 1; i >= 0; i--) {
        Node *y = g->nodes.items[i];
        pieces_adjoint(&ad, y);
        weight_terms(&ad, y);
        if (ad.adj[i] && ad.needs[i]) vjp(&ad, y, ad.adj[i]);
    }
    /* Each parameter's gradient gets its own node, which the plan pins in the gradient
     * block: copy when the adjoint is shared, a constant, or missing. */
    for (int i = 0; i < g->params.len; i++) {
        ParamInfo *p = g->params.items[i];
        if (p->buffer) continue;
        Node *gr = ad.adj[p->node->id];
        bool shared = false;
        for (int k = 0; k < i && gr; k++)
            if (((ParamInfo *)g->params.items[k])->grad == gr) shared = true;
        if (!gr) {
            diag(DIAG_WARNING, p->span, "parameter '%s' does not affect the loss", p->name);
            gr = ir_expand(g, ir_const(g, 0, p->span), shape_scalar(), p->shape, 1, false, p->span);
        } else if (shared || gr->op == OP_CONST || gr->pinned || ir_op_kind[gr->op] == K_LEAF ||
                   gr->id < n) {
            gr = ir_expand(g, gr, gr->shape, gr->shape, 1, false, p->span);
        }
        gr->pinned = true;
        p->grad = gr;
    }
    g->seg_end[SEG_GRAD] = g->nodes.len;
    for (int i = 0; i < g->emas.len; i++) {   /* running statistics: after the gradients */
        EmaUpdate *e = g->emas.items[i];
        Node *u = ir_op2(g, OP_EMA, e->buffer, e->stat, e->buffer->shape, NULL, e->span);
        u->fval = e->momentum;
        u->div_batch = e->unbiased;
        u->ax0 = (int)e->count;
        u->pinned = true;
    }
    Node *u = ir_node(g, g->train.optim.kind == NNL_OPT_SGD ? OP_SGD : OP_ADAM,
                      g->model_span, shape_scalar());
    (void)u;
    g->seg_end[SEG_UPDATE] = g->nodes.len;
    free(ad.adj);
    free(ad.needs);
    free(ad.pieces);
    free(ad.terms);
    free(ad.products);
}
