/* ir.c — the tensor graph: shapes and their broadcasting rule, node constructors with
 * their shape rules, and the --emit=ir text. Nodes are appended in topological order;
 * a constructor that finds a shape error reports it at the node's span and returns NULL. */
#include <string.h>

#include "ir.h"

const char *const ir_op_names[] = {
#define X(name, arity, kind) #name,
    IR_OPS(X)
#undef X
};
const int ir_op_arity[] = {
#define X(name, arity, kind) arity,
    IR_OPS(X)
#undef X
};
const int ir_op_kind[] = {
#define X(name, arity, kind) kind,
    IR_OPS(X)
#undef X
};

/* ----- shapes ----- */

Shape shape_make(bool batched, int rank, const int64_t *d)
{
    Shape s = {.rank = rank, .batched = batched};
    for (int i = 0; i < rank; i++) s.d[i] = d[i];
    if (batched) s.d[0] = -1;
    return s;
}

Shape shape_scalar(void) { return (Shape){0}; }

int64_t shape_numel_static(Shape s)
{
    int64_t n = 1;
    for (int i = s.batched ? 1 : 0; i < s.rank; i++) n *= s.d[i];
    return n;
}

bool shape_eq(Shape a, Shape b)
{
    if (a.rank != b.rank || a.batched != b.batched) return false;
    for (int i = a.batched ? 1 : 0; i < a.rank; i++)
        if (a.d[i] != b.d[i]) return false;
    return true;
}

/* Numpy broadcasting, aligned at the last axis. The batch dimension B only meets B, 1
 * or nothing; a batched operand makes the result batched. */
bool shape_broadcast(Shape a, Shape b, Shape *out)
{
    Shape r = {.rank = a.rank > b.rank ? a.rank : b.rank};
    for (int i = 0; i < r.rank; i++) {
        int ia = a.rank - r.rank + i, ib = b.rank - r.rank + i;
        bool ba = ia >= 0 && a.batched && ia == 0, bb = ib >= 0 && b.batched && ib == 0;
        int64_t da = ia >= 0 ? a.d[ia] : 1, db = ib >= 0 ? b.d[ib] : 1;
        if (ba || bb) {
            if ((ba && !bb && db != 1) || (bb && !ba && da != 1)) return false;
            if (i != 0) return false;   /* B must stay the leading axis */
            r.batched = true;
            r.d[i] = -1;
        } else if (da == db || db == 1) {
            r.d[i] = da;
        } else if (da == 1) {
            r.d[i] = db;
        } else {
            return false;
        }
    }
    *out = r;
    return true;
}

const char *shape_str(Arena *a, Shape s)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "f32[");
    for (int i = 0; i < s.rank; i++) {
        if (i == 0 && s.batched) n += snprintf(buf + n, sizeof buf - n, "B");
        else n += snprintf(buf + n, sizeof buf - n, "%lld", (long long)s.d[i]);
        if (i + 1 < s.rank) n += snprintf(buf + n, sizeof buf - n, ", ");
    }
    snprintf(buf + n, sizeof buf - n, "]");
    return arena_strdup(a, buf);
}

/* ----- nodes ----- */

Graph *ir_new_graph(Arena *a)
{
    Graph *g = arena_alloc(a, sizeof *g);
    g->arena = a;
    return g;
}

Node *ir_node(Graph *g, Op op, Span at, Shape shape)
{
    Node *n = arena_alloc(g->arena, sizeof *n);
    n->id = g->nodes.len;
    n->op = op;
    n->span = at;
    n->shape = shape;
    n->param = -1;
    n->fval = 1;
    n->in = n->in2;
    vec_push(g->arena, &g->nodes, n);
    return n;
}

static void use(Node *n, Node *x)
{
    n->in[n->nin++] = x;
    x->nuses++;
}

Node *ir_unary(Graph *g, Op op, Node *x, Span at)
{
    Node *n = ir_node(g, op, at, x->shape);
    use(n, x);
    return n;
}

Node *ir_const(Graph *g, double v, Span at)
{
    Node *n = ir_node(g, OP_CONST, at, shape_scalar());
    n->fval = v;
    return n;
}

Node *ir_binary(Graph *g, Op op, Node *a, Node *b, Span at)
{
    Shape s;
    if (!shape_broadcast(a->shape, b->shape, &s)) {
        diag(DIAG_ERROR, at, "cannot broadcast %s and %s for '%s'",
             shape_str(g->arena, a->shape), shape_str(g->arena, b->shape),
             op == OP_ADD ? "+" : op == OP_SUB ? "-" : op == OP_MUL ? "*" :
             op == OP_DIV ? "/" : ir_op_names[op]);
        diag(DIAG_NOTE, a->span, "the left operand is %s", shape_str(g->arena, a->shape));
        diag(DIAG_NOTE, b->span, "the right operand is %s", shape_str(g->arena, b->shape));
        return NULL;
    }
    Node *n = ir_node(g, op, at, s);
    use(n, a);
    use(n, b);
    return n;
}

Node *ir_reshape(Graph *g, Node *x, Shape to, Span at)
{
    if (shape_eq(x->shape, to)) return x;
    Node *n = ir_node(g, OP_RESHAPE, at, to);
    use(n, x);
    return n;
}

Node *ir_sum(Graph *g, Node *x, int ax0, int ax1, bool keepdims, double scale,
             bool div_batch, Span at)
{
    Shape s = {0};
    for (int i = 0; i < x->shape.rank; i++) {
        bool red = i >= ax0 && i < ax1;
        if (red && !keepdims) continue;
        s.d[s.rank++] = red ? 1 : x->shape.d[i];
    }
    s.batched = x->shape.batched && ax0 > 0;
    Node *n = ir_node(g, OP_SUM, at, s);
    n->ax0 = ax0;
    n->ax1 = ax1;
    n->fval = scale;
    n->div_batch = div_batch;
    use(n, x);
    return n;
}

Node *ir_expand(Graph *g, Node *x, Shape from, Shape to, double scale, bool div_batch,
                Span at)
{
    Node *n = ir_node(g, OP_EXPAND, at, to);
    n->from = from;
    n->fval = scale;
    n->div_batch = div_batch;
    use(n, x);
    return n;
}

Node *ir_matmul(Graph *g, Node *a, Node *b, int ta, int tb, Shape out, Span at)
{
    Node *n = ir_node(g, OP_MATMUL, at, out);
    n->trans_a = ta;
    n->trans_b = tb;
    use(n, a);
    use(n, b);
    return n;
}

Node *ir_op2(Graph *g, Op op, Node *a, Node *b, Shape shape, const int64_t *attr, Span at)
{
    Node *n = ir_node(g, op, at, shape);
    use(n, a);
    if (b) use(n, b);
    if (attr) memcpy(n->attr, attr, sizeof n->attr);
    return n;
}

/* Output size of a window over n cells: (n + pads - dil (k - 1) - 1) / stride + 1. */
static int64_t window_out(int64_t n, int64_t pad, int64_t k, int64_t dil, int64_t stride)
{
    int64_t span = dil * (k - 1) + 1;
    return n + pad < span ? 0 : (n + pad - span) / stride + 1;
}

/* conv2d: x (B, C, H, W), w (K, C/groups, R, S) -> (B, K, P, Q) */
Node *ir_conv2d(Graph *g, Node *x, Node *w, const int64_t *at_, Span at)
{
    Arena *a = g->arena;
    const int64_t *t = at_;
    if (x->shape.rank != 4 || !x->shape.batched) {
        diag(DIAG_ERROR, at, "conv2d needs an input of f32[B, channels, height, width], not %s",
             shape_str(a, x->shape));
        return NULL;
    }
    if (w->shape.rank != 4 || w->shape.batched) {
        diag(DIAG_ERROR, at, "conv2d needs a kernel of f32[filters, channels, height, width], not %s",
             shape_str(a, w->shape));
        return NULL;
    }
    int64_t c = x->shape.d[1], k = w->shape.d[0], gr = t[A_GROUPS];
    if (gr < 1 || c % gr || k % gr || w->shape.d[1] * gr != c) {
        diag(DIAG_ERROR, at, "conv2d of %s with kernel %s: %lld input channels in %lld group%s need a kernel of f32[%lld, %lld, ...]",
             shape_str(a, x->shape), shape_str(a, w->shape), (long long)c, (long long)gr, gr == 1 ? "" : "s",
             (long long)k, gr > 0 && c % gr == 0 ? (long long)(c / gr) : -1LL);
        return NULL;
    }
    int64_t p = window_out(x->shape.d[2], t[A_PT] + t[A_PB], w->shape.d[2], t[A_DH], t[A_SH]);
    int64_t q = window_out(x->shape.d[3], t[A_PL] + t[A_PR], w->shape.d[3], t[A_DW], t[A_SW]);
    if (p < 1 || q < 1) {
        diag(DIAG_ERROR, at, "conv2d: a %lldx%lld kernel does not fit in the %lldx%lld input %s",
             (long long)w->shape.d[2], (long long)w->shape.d[3], (long long)x->shape.d[2],
             (long long)x->shape.d[3], shape_str(a, x->shape));
        return NULL;
    }
    int64_t d[4] = {-1, k, p, q};
    return ir_op2(g, OP_CONV2D, x, w, shape_make(true, 4, d), t, at);
}

Node *ir_pool2d(Graph *g, Op op, Node *x, const int64_t *t, Span at)
{
    const char *fn = op == OP_MAXPOOL2D ? "max_pool2d" : "avg_pool2d";
    if (x->shape.rank != 4 || !x->shape.batched) {
        diag(DIAG_ERROR, at, "%s needs an input of f32[B, channels, height, width], not %s", fn,
             shape_str(g->arena, x->shape));
        return NULL;
    }
    if (t[A_PT] >= t[A_KH] || t[A_PL] >= t[A_KW] || t[A_PB] >= t[A_KH] || t[A_PR] >= t[A_KW]) {
        diag(DIAG_ERROR, at, "%s: padding must be smaller than the window", fn);
        return NULL;
    }
    int64_t p = window_out(x->shape.d[2], t[A_PT] + t[A_PB], t[A_KH], 1, t[A_SH]);
    int64_t q = window_out(x->shape.d[3], t[A_PL] + t[A_PR], t[A_KW], 1, t[A_SW]);
    if (p < 1 || q < 1) {
        diag(DIAG_ERROR, at, "%s: a %lldx%lld window does not fit in %s", fn, (long long)t[A_KH],
             (long long)t[A_KW], shape_str(g->arena, x->shape));
        return NULL;
    }
    int64_t d[4] = {-1, x->shape.d[1], p, q};
    return ir_op2(g, op, x, NULL, shape_make(true, 4, d), t, at);
}

void ir_set_order(Graph *g, PtrVec out, const int *start)
{
    for (int s = 0; s < SEG_COUNT; s++) g->seg_end[s] = start[g->seg_end[s]];
    g->nodes = out;
    for (int i = 0; i < g->nodes.len; i++) ((Node *)g->nodes.items[i])->id = i;
}

unsigned ir_entry_segments(const Graph *g, int entry)
{
    bool two = g->t_loss && g->t_loss != g->loss;
    unsigned fwd = 1u << SEG_FORWARD, loss = fwd | 1u << SEG_LOSS;
    unsigned train = (two ? 1u << SEG_TFORWARD | 1u << SEG_TLOSS : loss) | 1u << SEG_GRAD;
    switch (entry) {
    case ENTRY_FORWARD: return fwd;
    case ENTRY_LOSS: return loss;
    case ENTRY_GRAD: return train;
    default: return train | 1u << SEG_UPDATE;
    }
}

void ir_drop_training(Graph *g)
{
    int end = g->seg_end[SEG_LOSS];
    g->nodes.len = end;
    for (int s = SEG_TFORWARD; s < SEG_COUNT; s++) g->seg_end[s] = end;
    g->t_output = g->output;
    g->t_loss = g->loss;
    g->emas.len = 0;
    g->inference = true;
}

bool ir_trains(const Graph *g)
{
    return g->has_train && !g->inference;
}

bool ir_same_index(const Node *r)
{
    switch (r->op) {
    case OP_PERMUTE: case OP_SLICE: case OP_UNSLICE: case OP_CONCAT: case OP_TAKE:
    case OP_GATHER: case OP_EXPAND: case OP_CAUSAL: case OP_EMA:
        return false;
    default:
        return ir_op_kind[r->op] == K_ELEM;
    }
}

Node *ir_concat(Graph *g, Node *a, Node *b, int axis, Span at)
{
    Shape s = a->shape;
    bool ok = a->shape.rank == b->shape.rank && a->shape.batched == b->shape.batched && axis >= 0 &&
              axis < s.rank && !(axis == 0 && s.batched);
    for (int k = 0; ok && k < s.rank; k++)
        if (k != axis && !(k == 0 && s.batched) && a->shape.d[k] != b->shape.d[k]) ok = false;
    if (!ok) {
        diag(DIAG_ERROR, at, "cannot concatenate %s and %s along axis %d", shape_str(g->arena, a->shape),
             shape_str(g->arena, b->shape), axis);
        return NULL;
    }
    s.d[axis] += b->shape.d[axis];
    Node *n = ir_op2(g, OP_CONCAT, a, b, s, NULL, at);
    n->ax0 = axis;
    return n;
}

Node *ir_slice(Graph *g, Op op, Node *x, int axis, int64_t start, int64_t len, Span at)
{
    Shape s = x->shape;
    s.d[axis] = len;   /* UNSLICE: len is the full size */
    Node *n = ir_op2(g, op, x, NULL, s, NULL, at);
    n->ax0 = axis;
    n->ax1 = (int)start;
    return n;
}

Node *ir_take(Graph *g, Node *x, int axis, int64_t at, Span where)
{
    Shape s = {.rank = x->shape.rank - 1, .batched = x->shape.batched};
    for (int k = 0, j = 0; k < x->shape.rank; k++)
        if (k != axis) s.d[j++] = x->shape.d[k];
    Node *n = ir_op2(g, OP_TAKE, x, NULL, s, NULL, where);
    n->ax0 = axis;
    n->ax1 = (int)at;
    return n;
}

Node *ir_stack(Graph *g, Node **xs, int n, int axis, bool join, Span at)
{
    Node **in = arena_alloc(g->arena, n * sizeof *in);
    for (int i = 0; i < n; i++)   /* a call reads its operands from memory */
        in[i] = xs[i]->op == OP_CONST ? ir_expand(g, xs[i], shape_scalar(), xs[0]->shape, 1, false, at) : xs[i];
    Shape s = xs[0]->shape;
    if (join) {
        s.d[axis] *= n;
    } else {
        s.rank++;
        for (int k = 0, j = 0; k < s.rank; k++) s.d[k] = k == axis ? n : xs[0]->shape.d[j++];
    }
    Node *y = ir_node(g, OP_STACK, at, s);
    y->ax0 = axis;
    y->in = in;
    for (int i = 0; i < n; i++) use(y, in[i]);
    return y;
}

Node *ir_permute(Graph *g, Node *x, const int *perm, Span at)
{
    Shape s = x->shape;
    bool ident = true;
    for (int k = 0; k < s.rank; k++) {
        s.d[k] = x->shape.d[perm[k]];
        if (perm[k] != k) ident = false;
    }
    if (ident) return x;
    Node *n = ir_op2(g, OP_PERMUTE, x, NULL, s, NULL, at);
    for (int k = 0; k < s.rank; k++) n->attr[k] = perm[k];
    return n;
}

/* bmm: a (..., m, k) @ b (..., k, n) -> (..., m, n), the leading axes equal */
Node *ir_bmm(Graph *g, Node *a, Node *b, int ta, int tb, Span at)
{
    Shape x = a->shape, y = b->shape;
    int r = x.rank;
    bool ok = r >= 3 && y.rank == r && x.batched == y.batched;
    for (int k = 0; ok && k < r - 2; k++)
        if (!(k == 0 && x.batched) && x.d[k] != y.d[k]) ok = false;
    int64_t m = ok ? x.d[ta ? r - 1 : r - 2] : 0, ka = ok ? x.d[ta ? r - 2 : r - 1] : 0;
    int64_t kb = ok ? y.d[tb ? r - 1 : r - 2] : 0, nn = ok ? y.d[tb ? r - 2 : r - 1] : 0;
    if (!ok || ka != kb) {
        diag(DIAG_ERROR, at, "'@' cannot multiply %s by %s: a batch of matrices needs "
             "f32[..., m, k] @ f32[..., k, n] with the same leading axes",
             shape_str(g->arena, x), shape_str(g->arena, y));
        diag(DIAG_NOTE, a->span, "the left operand is %s", shape_str(g->arena, x));
        diag(DIAG_NOTE, b->span, "the right operand is %s", shape_str(g->arena, y));
        return NULL;
    }
    Shape s = x;
    s.d[r - 2] = m;
    s.d[r - 1] = nn;
    Node *n = ir_op2(g, OP_BMM, a, b, s, NULL, at);
    n->trans_a = ta;
    n->trans_b = tb;
    return n;
}

Node *ir_where(Graph *g, Node *c, Node *a, Node *b, Span at)
{
    Shape s, t;
    if (!shape_broadcast(c->shape, a->shape, &s) || !shape_broadcast(s, b->shape, &t)) {
        diag(DIAG_ERROR, at, "cannot broadcast %s, %s and %s for 'where'", shape_str(g->arena, c->shape),
             shape_str(g->arena, a->shape), shape_str(g->arena, b->shape));
        return NULL;
    }
    Node *n = ir_op2(g, OP_WHERE, c, a, t, NULL, at);
    use(n, b);
    return n;
}

/* gather: table (V, D), ids (...) -> (..., D) */
Node *ir_gather(Graph *g, Node *table, Node *ids, Span at)
{
    Shape s = ids->shape;
    if (table->shape.rank != 2 || table->shape.batched || s.rank + 1 > NNL_MAX_RANK) {
        diag(DIAG_ERROR, at, "embedding needs a table of f32[vocabulary, width], not %s",
             shape_str(g->arena, table->shape));
        return NULL;
    }
    s.d[s.rank++] = table->shape.d[1];
    return ir_op2(g, OP_GATHER, table, ids, s, NULL, at);
}

Node *ir_op3(Graph *g, Op op, Node *a, Node *b, Node *c, Shape shape, Span at)
{
    Node *n = ir_op2(g, op, a, b, shape, NULL, at);
    use(n, c);
    return n;
}

/* ----- --emit=ir -----
 *   %3 = MATMUL %0, %2 : f32[B, 128]        @ 12:9
 * Attributes in braces after the operands; stable across runs. */
void ir_print(FILE *out, const Graph *g, int upto)
{
    Arena *a = g->arena;
    static const char *seg_names[] = {"forward", "loss", "training forward", "training loss",
                                      "gradients", "update"};
    int seg = -1;
    for (int i = 0; i < upto && i < g->nodes.len; i++) {
        Node *n = g->nodes.items[i];
        while (seg < SEG_COUNT - 1 && i >= (seg < 0 ? 0 : g->seg_end[seg])) {
            seg++;
            if (i < g->seg_end[seg]) fprintf(out, "# %s\n", seg_names[seg]);
        }
        fprintf(out, "%%%d = %s", n->id, ir_op_names[n->op]);
        for (int k = 0; k < n->nin; k++) fprintf(out, "%s%%%d", k ? ", " : " ", n->in[k]->id);
        if (n->name) fprintf(out, " \"%s\"", n->name);
        switch (n->op) {
        case OP_CONST: fprintf(out, " %g", n->fval); break;
        case OP_NORMALIZE: case OP_NORMALIZE_DX: fprintf(out, " {eps %g}", n->fval); break;
        case OP_SOFTMAX: if (n->attr[0]) fprintf(out, " {causal}"); break;
        case OP_SOFTMAX_DX:
            if (n->attr[0] && n->fval != 1) fprintf(out, " {causal, scale %g}", n->fval);
            else if (n->attr[0]) fprintf(out, " {causal}");
            else if (n->fval != 1) fprintf(out, " {scale %g}", n->fval);
            break;
        case OP_SUM:
            fprintf(out, " {axes %d..%d", n->ax0, n->ax1);
            if (n->fval != 1) fprintf(out, ", scale %g", n->fval);
            if (n->div_batch) fprintf(out, ", /B");
            fprintf(out, "}");
            break;
        case OP_EXPAND:
            fprintf(out, " {from %s", shape_str(a, n->from));
            if (n->fval != 1) fprintf(out, ", scale %g", n->fval);
            if (n->div_batch) fprintf(out, ", /B");
            fprintf(out, "}");
            break;
        case OP_CONV2D: case OP_CONV2D_DX: case OP_CONV2D_DW:
            fprintf(out, " {stride %lldx%lld, pad %lld %lld %lld %lld, dilation %lldx%lld, groups %lld}",
                    (long long)n->attr[A_SH], (long long)n->attr[A_SW], (long long)n->attr[A_PT],
                    (long long)n->attr[A_PL], (long long)n->attr[A_PB], (long long)n->attr[A_PR],
                    (long long)n->attr[A_DH], (long long)n->attr[A_DW], (long long)n->attr[A_GROUPS]);
            break;
        case OP_MAXPOOL2D: case OP_MAXPOOL2D_DX: case OP_AVGPOOL2D: case OP_AVGPOOL2D_DX:
            fprintf(out, " {window %lldx%lld, stride %lldx%lld, pad %lld %lld %lld %lld}",
                    (long long)n->attr[A_KH], (long long)n->attr[A_KW], (long long)n->attr[A_SH],
                    (long long)n->attr[A_SW], (long long)n->attr[A_PT], (long long)n->attr[A_PL],
                    (long long)n->attr[A_PB], (long long)n->attr[A_PR]);
            break;
        case OP_CONCAT: fprintf(out, " {axis %d}", n->ax0); break;
        case OP_SLICE: case OP_UNSLICE: case OP_TAKE: fprintf(out, " {axis %d, at %d}", n->ax0, n->ax1); break;
        case OP_STACK: fprintf(out, " {axis %d}", n->ax0); break;
        case OP_PERMUTE:
            fprintf(out, " {axes");
            for (int k = 0; k < n->shape.rank; k++) fprintf(out, " %lld", (long long)n->attr[k]);
            fprintf(out, "}");
            break;
        case OP_MATMUL: case OP_BMM:
            if (n->trans_a || n->trans_b)
                fprintf(out, " {%s%s}", n->trans_a ? "Ta" : "", n->trans_b ? "Tb" : "");
            if (n->view) {   /* views.c: operands as strided views, C through a permute */
                const BmmView *v = n->view;
                for (int q = 0; q < 2; q++)
                    if (v->on[q])
                        fprintf(out, " {%c at +%lld, rows %lld apart}", q ? 'B' : 'A', (long long)v->off[q],
                                (long long)v->ld[q]);
                if (v->out) {
                    fprintf(out, " {C as permute axes");
                    for (int k = 0; k < n->shape.rank; k++) fprintf(out, " %lld", (long long)n->attr[k]);
                    if (v->into) fprintf(out, ", into %%%d at +%lld", v->into->id, (long long)v->c_off);
                    fprintf(out, "}");
                }
            }
            break;
        default: break;
        }
        if (n->op != OP_SGD && n->op != OP_ADAM) fprintf(out, " : %s", shape_str(a, n->shape));
        if (n->span.file) fprintf(out, "  @%d:%d", n->span.first_line, n->span.first_col);
        fputc('\n', out);
    }
}
