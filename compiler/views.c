/* views.c — batched products read and write their operands where they lie. In: the
 * differentiated graph (-O1 and up, after remat and hoist). Out: BMMs whose operands were
 * slices, reshapes and permutes of a stored tensor read that tensor in place, through
 * strides (Node.view, runtime nnl_sgemm_batched_v); a BMM read only by a permute becomes
 * that permute, writing its rows where the permute puts them; a STACK joining such
 * products (through reshapes) has them write into its memory at their places and copies
 * nothing (Node.filled, plan.c places it with the first of them); the layout nodes and
 * products nothing reads then go.
 *
 * Attention splits its q, k, v out of one product [B, T, 3 C] and into heads [B, H, T,
 * D], a slice, a reshape and a permute each, merges the heads back with a permute, and
 * its backward does all of it the other way round with a STACK at the end: loops that
 * only copy (char GPT: 5.8 ms of its 104 ms step; 7 of 18 kernels of a batch-1 layer).
 * Head h of sample b of q is rows t of qkv[b, t, h D : h D + D], a matrix whose rows are
 * 3 C apart at b T 3 C + h D, which the GEMM reads as it reads a contiguous one (it packs
 * or streams 128-byte rows either way). Exact: the products compute the same sums.
 * NNLC_NO_VIEWS=1 in nnlc's environment leaves the graph as it is (tests/e2e/views.sh
 * compares). Needs: remat_graph, hoist_transposes; before fuse_graph. */
#include <stdlib.h>

#include "ir.h"

static bool layout_op(const Node *n)
{
    return n->op == OP_PERMUTE || n->op == OP_SLICE || n->op == OP_RESHAPE;
}

/* The strides of `to`'s axes when `from`, with strides st_from, is viewed as `to` (the
 * same elements in the same order), or false when that needs a copy: each run of axes
 * merged must be contiguous. The batch axis stays axis 0, its stride as it was. */
static bool reshape_strides(Shape from, const int64_t *st_from, Shape to, int64_t *st_to)
{
    int lead = from.batched ? 1 : 0;
    if (from.batched != to.batched) return false;
    if (lead) st_to[0] = st_from[0];
    int i = lead, j = lead;
    while (i < from.rank || j < to.rank) {
        /* the smallest groups of old axes [i, i2) and new axes [j, j2) of one size */
        int i2 = i, j2 = j;
        int64_t ni = 1, nj = 1;
        if (i2 < from.rank) ni *= from.d[i2++];
        if (j2 < to.rank) nj *= to.d[j2++];
        while (ni != nj) {
            if (ni < nj && i2 < from.rank) ni *= from.d[i2++];
            else if (nj < ni && j2 < to.rank) nj *= to.d[j2++];
            else return false;
        }
        for (int k = i; k + 1 < i2; k++)   /* the old group must be contiguous */
            if (from.d[k + 1] != 1 && st_from[k] != st_from[k + 1] * from.d[k + 1]) return false;
        int64_t s = i2 > i ? st_from[i2 - 1] : 1;
        for (int k = j2 - 1; k >= j; k--) {
            st_to[k] = s;
            s *= to.d[k];
        }
        i = i2;
        j = j2;
    }
    return true;
}

/* The strides of a tensor of shape s as it lies (row-major; the batch axis's a sample's
 * floats). */
static void contiguous(Shape s, int64_t *st)
{
    int64_t x = 1;
    for (int k = s.rank - 1; k >= 0; k--) {
        st[k] = x;
        x *= s.d[k];
    }
}

/* Strides of x's axes as the elements lie in `base` (the first operand down the chain of
 * layout nodes that is none), and the offset of x's first element; false when x is not a
 * strided view of base (a reshape that would need a copy). The batch axis stays axis 0
 * throughout, its stride a sample's floats of base. */
static bool strides_of(const Node *x, const Node **base, int64_t *st, int64_t *off)
{
    if (!layout_op(x) || x->pinned) {
        *base = x;
        *off = 0;
        contiguous(x->shape, st);
        return true;
    }
    const Node *a = x->in[0];
    int64_t in[NNL_MAX_RANK];
    if (!strides_of(a, base, in, off)) return false;
    Shape sa = a->shape, sx = x->shape;
    if (sa.batched != sx.batched) return false;
    switch (x->op) {
    case OP_SLICE:
        *off += (int64_t)x->ax1 * in[x->ax0];
        for (int k = 0; k < sx.rank; k++) st[k] = in[k];
        return true;
    case OP_PERMUTE:
        if (sx.batched && x->attr[0] != 0) return false;
        for (int k = 0; k < sx.rank; k++) st[k] = in[x->attr[k]];
        return true;
    default:
        return reshape_strides(sa, in, sx, st);
    }
}

/* The view of BMM operand q (0: A, 1: B) as the runtime reads it, or false. */
static bool operand_view(Node *n, int q, BmmView *v, const Node **base)
{
    const Node *x = n->in[q];
    int r = x->shape.rank;
    int64_t st[NNL_MAX_RANK], off;
    if (!layout_op(x) || (r != 3 && r != 4) || !strides_of(x, base, st, &off) || st[r - 1] != 1) return false;
    if (layout_op(*base)) return false;
    v->on[q] = true;
    v->off[q] = off;
    v->ld[q] = st[r - 2];
    v->s[q] = st[0];
    v->s_i[q] = r == 4 ? st[1] : 0;
    return true;
}

/* The single reader of n, or NULL. */
static Node *reader(Node **user, const Node *n)
{
    return n->nuses == 1 && !n->pinned ? user[n->id] : NULL;
}

/* Sets p's output strides from those of its own axes where they are stored (st_p, from
 * c_off on): the product's axis attr[k] is p's axis k. False when C's rows would not be
 * contiguous. */
static bool out_strides(Node *p, const int64_t *st_p, int64_t c_off)
{
    int r = p->shape.rank;
    int64_t st[NNL_MAX_RANK];
    for (int k = 0; k < r; k++) st[p->attr[k]] = st_p[k];
    if (st[r - 1] != 1) return false;
    BmmView *v = p->view;
    v->c_off = c_off;
    v->ldc = st[r - 2];
    v->sc = st[0];
    v->sc_i = r == 4 ? st[1] : 0;
    return true;
}

/* A product whose one reader is a permute that keeps its batch and last axes: the
 * permute becomes the product, writing its rows where the permute would have put them
 * (attention's heads merged back, [B, H, T, D] -> [B, T, H, D]). */
static bool into_permute(Graph *g, Node **user, Node *y)
{
    Node *p = reader(user, y);
    int r = y->shape.rank;
    if (!p || p->op != OP_PERMUTE || (r != 3 && r != 4) || p->attr[0] != 0 || p->attr[r - 1] != r - 1 ||
        (y->view && y->view->out))
        return false;
    BmmView *v = arena_alloc(g->arena, sizeof *v);
    if (y->view) *v = *y->view;
    else {
        *v = (BmmView){0};
        const Node *a = y->in[0];
        v->k = y->trans_a ? a->shape.d[r - 2] : a->shape.d[r - 1];
    }
    v->out = true;
    v->m = y->shape.d[r - 2];
    v->n = y->shape.d[r - 1];
    v->inner = r == 4 ? y->shape.d[1] : 1;
    p->view = v;
    int64_t st[NNL_MAX_RANK];
    contiguous(p->shape, st);
    if (!out_strides(p, st, 0)) {
        p->view = NULL;
        return false;
    }
    p->op = OP_BMM;
    p->in[0] = y->in[0];
    p->in[1] = y->in[1];
    p->nin = 2;
    p->trans_a = y->trans_a;
    p->trans_b = y->trans_b;
    y->nuses = 0;   /* its operands' uses are now p's */
    y->in[0] = y->in[1] = NULL;
    y->nin = 0;
    return true;
}

/* A STACK joining along an axis values that are all products written through a permute
 * (into_permute), each read by it alone (maybe through a reshape): the products write
 * into its memory at their places and it copies nothing (the input gradients of q, k and
 * v into the gradient of the qkv product). */
static bool fill_stack(Node **user, Node *s)
{
    if (s->op != OP_STACK || s->nin < 1 || s->in[0]->shape.rank != s->shape.rank) return false;
    Node *prod[64];
    if (s->nin > 64) return false;
    for (int j = 0; j < s->nin; j++) {
        Node *x = s->in[j];
        if (reader(user, x) != s) return false;
        Node *p = x->op == OP_RESHAPE ? x->in[0] : x;
        if (p->op != OP_BMM || !p->view || !p->view->out || p->view->into ||
            (p != x && reader(user, p) != x))
            return false;
        prod[j] = p;
    }
    int64_t st_s[NNL_MAX_RANK], st_p[NNL_MAX_RANK];
    contiguous(s->shape, st_s);
    for (int j = 0; j < s->nin; j++) {   /* check every one first: all or none */
        const Node *x = s->in[j];
        if (x != prod[j] && !reshape_strides(x->shape, st_s, prod[j]->shape, st_p)) return false;
    }
    int64_t off = 0;
    for (int j = 0; j < s->nin; j++) {
        Node *x = s->in[j], *p = prod[j];
        if (x != p) reshape_strides(x->shape, st_s, p->shape, st_p);
        else for (int k = 0; k < s->shape.rank; k++) st_p[k] = st_s[k];
        BmmView keep = *p->view;
        if (!out_strides(p, st_p, off)) {   /* (no: contiguous rows stay so) */
            *p->view = keep;
            return false;
        }
        p->view->into = s;
        off += x->shape.d[s->ax0] * st_s[s->ax0];
        if (x != p) {
            x->nuses = 0;   /* the reshape goes; s reads p */
            x->in[0] = NULL;
            x->nin = 0;
        }
        s->in[j] = p;
    }
    s->filled = true;
    return true;
}

void views_graph(Graph *g)

{
    int n0 = g->nodes.len;
    bool any = false;
    for (int i = 0; i < n0; i++) {
        Node *n = g->nodes.items[i];
        if (n->op != OP_BMM) continue;
        BmmView v = {0};
        const Node *base[2] = {NULL, NULL};
        bool a = operand_view(n, 0, &v, &base[0]), b = operand_view(n, 1, &v, &base[1]);
        if (!a && !b) continue;
        BmmView *keep = arena_alloc(g->arena, sizeof *keep);
        *keep = v;
        Node *x0 = n->in[0];
        int r = x0->shape.rank;
        keep->k = n->trans_a ? x0->shape.d[r - 2] : x0->shape.d[r - 1];
        for (int q = 0; q < 2; q++) {
            if (!keep->on[q]) continue;
            n->in[q]->nuses--;
            n->in[q] = (Node *)base[q];
            n->in[q]->nuses++;
        }
        n->view = keep;
        any = true;
    }
    Node **user = calloc(n0 + 1, sizeof *user);
    if (!user) abort();
    for (int i = 0; i < n0; i++) {
        Node *n = g->nodes.items[i];
        for (int q = 0; q < n->nin; q++) user[n->in[q]->id] = n;
    }
    for (int i = 0; i < n0; i++) {
        Node *n = g->nodes.items[i];
        if (n->op == OP_BMM && into_permute(g, user, n)) any = true;
    }
    for (int i = 0; i < n0; i++) fill_stack(user, g->nodes.items[i]);
    free(user);
    if (!any) return;
    /* the nodes nothing reads now (layout nodes, products moved into their permutes),
     * last first so that chains go whole */
    bool *gone = calloc(n0 + 1, sizeof *gone);
    int *start = malloc((n0 + 1) * sizeof *start);
    if (!gone || !start) abort();
    for (int i = n0 - 1; i >= 0; i--) {
        Node *n = g->nodes.items[i];
        if ((!layout_op(n) && n->op != OP_BMM) || n->nuses > 0 || n->pinned) continue;
        gone[i] = true;
        for (int q = 0; q < n->nin; q++) n->in[q]->nuses--;
    }
    PtrVec out = {0};
    for (int i = 0; i < n0; i++) {
        start[i] = out.len;
        if (!gone[i]) vec_push(g->arena, &out, g->nodes.items[i]);
    }
    start[n0] = out.len;
    ir_set_order(g, out, start);
    free(gone);
    free(start);
}
