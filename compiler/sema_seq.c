/* sema_seq.c — the builtins of sequence models and the indexing syntax: embedding,
 * transpose / permute, chunk, where, layer_norm, gelu, divide, the causal mask of
 * softmax, and x[i, a:b, ...]. In: evaluated arguments (sema_builtins.c's Args) or an
 * AST_INDEX. Out: IR nodes; composite builtins (layer_norm, gelu) are built from
 * primitives, so autodiff sees only primitives. */
#include <math.h>
#include <string.h>

#include "sema.h"

const char *const seq_builtins[] = {
    "embedding", "transpose", "permute", "chunk", "where", "layer_norm", "gelu", "divide", NULL,
};

/* The mask of causal attention for x (..., T, T): 1 where key <= query. */
bool causal_scores(Sema *S, Node *x, Span at)
{
    int r = x->shape.rank;
    if (r < 2 || x->shape.d[r - 1] != x->shape.d[r - 2] || (r == 2 && x->shape.batched)) {
        diag(DIAG_ERROR, at, "a causal softmax needs scores of f32[..., T, T], not %s",
             shape_str(S->a, x->shape));
        return false;
    }
    return true;
}

Node *causal_mask(Sema *S, Node *x, Span at)
{
    if (!causal_scores(S, x, at)) return NULL;
    int r = x->shape.rank;
    int64_t d[2] = {x->shape.d[r - 1], x->shape.d[r - 1]};
    return ir_node(S->g, OP_CAUSAL, at, shape_make(false, 2, d));
}

/* The source text of an argument when it is a name ("width"), else NULL. */
static const char *arg_name(Args *a, int i)
{
    Ast *v = a->ast[i]->value;
    return v && v->kind == AST_NAME ? v->name : NULL;
}

/* divide(a, b): a / b, a whole number, or an error naming both (a layer's requirement,
 * e.g. that the heads divide the width), with a note at the layer's application. */
static Value call_divide(Sema *S, Args *a, Span at)
{
    static const char *const none[] = {NULL};
    if (!args_check_names(a, "divide", none, 2)) return verror;
    double x[2];
    for (int i = 0; i < 2; i++) {
        Ast *w;
        Value *v = arg_get(a, i, NULL, &w);
        if (!v) { diag(DIAG_ERROR, at, "'divide' needs two whole numbers: divide(a, b)"); return verror; }
        if (!get_num(v, w, "an argument of 'divide'", &x[i])) return verror;
        if (x[i] != floor(x[i]) || x[i] < 1) {
            diag(DIAG_ERROR, w->span, "'divide' takes positive whole numbers, not %g", x[i]);
            return verror;
        }
    }
    if (fmod(x[0], x[1]) != 0) {
        const char *na = arg_name(a, 0), *nb = arg_name(a, 1);
        Applying *outer = S->applying;
        while (outer && outer->up) outer = outer->up;
        Span where = outer ? outer->at : at;   /* the user's line, not the layer's */
        if (na && nb)
            diag(DIAG_ERROR, where, "%s %g is not a multiple of %s %g", na, x[0], nb, x[1]);
        else
            diag(DIAG_ERROR, where, "%g is not a multiple of %g", x[0], x[1]);
        Applying *chain[32];
        int n = 0;
        for (Applying *p = S->applying; p && n < 32; p = p->up) chain[n++] = p;
        for (int i = n - 1; i > 0; i--)
            diag(DIAG_NOTE, chain[i - 1]->at, "%s (%s) applies %s (%s) here", chain[i]->li->def->name,
                 chain[i]->li->name, chain[i - 1]->li->def->name, chain[i - 1]->li->name);
        if (n) diag(DIAG_NOTE, at, "%s (%s) requires it here", chain[0]->li->def->name, chain[0]->li->name);
        return verror;
    }
    return vnum(x[0] / x[1], true);
}

/* permute(x, axes...) / transpose(x, a, b): the batch axis stays axis 0. */
static Value call_permute(Sema *S, Args *a, const char *fn, Span at)
{
    static const char *const none[] = {NULL};
    bool tr = fn[0] == 't';
    Node *x = need_tensor_arg(S, a, 0, fn, at);
    if (!x || !args_check_names(a, fn, none, tr ? 3 : 1 + x->shape.rank)) return verror;
    int r = x->shape.rank, perm[NNL_MAX_RANK];
    bool seen[NNL_MAX_RANK] = {0};
    for (int k = 0; k < r; k++) perm[k] = k;
    int want = tr ? 2 : r;
    int ax[NNL_MAX_RANK];
    for (int i = 0; i < want; i++) {
        Ast *w;
        Value *v = arg_get(a, i + 1, NULL, &w);
        double d;
        if (!v) {
            diag(DIAG_ERROR, at, tr ? "'transpose' needs two axes: transpose(x, -2, -1)"
                                    : "'permute' needs every axis of %s once", shape_str(S->a, x->shape));
            return verror;
        }
        if (!get_num(v, w, "an axis", &d)) return verror;
        if ((ax[i] = norm_axis(S, x, d, w, fn)) < 0) return verror;
        if (!tr && seen[ax[i]]) {
            diag(DIAG_ERROR, w->span, "'permute' names axis %d twice", ax[i]);
            return verror;
        }
        seen[ax[i]] = true;
        /* transpose may not name axis 0; permute must name it first */
        if (x->shape.batched && (ax[i] == 0) != (tr ? false : i == 0)) {
            diag(DIAG_ERROR, w->span, "'%s' cannot move the batch axis (axis 0 of %s)", fn,
                 shape_str(S->a, x->shape));
            return verror;
        }
    }
    if (tr) { perm[ax[0]] = ax[1]; perm[ax[1]] = ax[0]; }
    else for (int k = 0; k < r; k++) perm[k] = ax[k];
    return vtensor(ir_permute(S->g, x, perm, at));
}

/* layer_norm(x, gamma, beta, eps:) over the last axis (Ba et al. 2016):
 * (x - mean) / sqrt(var + eps) gamma + beta, the variance biased as PyTorch's. */
static Value call_layer_norm(Sema *S, Args *a, Span at)
{
    static const char *const names[] = {"eps", NULL};
    Graph *g = S->g;
    if (!args_check_names(a, "layer_norm", names, 3)) return verror;
    Node *t[3];
    for (int i = 0; i < 3; i++)
        if (!(t[i] = need_tensor_arg(S, a, i, "layer_norm", at))) return verror;
    double eps = 1e-5;
    if (!num_arg(a, 99, "eps", "layer_norm", 0, 1, &eps)) return verror;
    Node *x = t[0];
    int r = x->shape.rank;
    if (r < 1 || (r == 1 && x->shape.batched)) {
        diag(DIAG_ERROR, at, "layer_norm needs f32[..., features], not %s", shape_str(S->a, x->shape));
        return verror;
    }
    int64_t n = x->shape.d[r - 1];
    for (int i = 1; i < 3; i++)
        if (t[i]->shape.rank != 1 || t[i]->shape.batched || t[i]->shape.d[0] != n) {
            diag(DIAG_ERROR, at, "layer_norm's %s must be f32[%lld] for %s, not %s", i == 1 ? "gamma" : "beta",
                 (long long)n, shape_str(S->a, x->shape), shape_str(S->a, t[i]->shape));
            return verror;
        }
    /* the normalization is one row kernel (runtime nnl_layer_norm_rows), forward and
     * backward: built from sums and elementwise loops it was 16 kernels a layer norm,
     * 10% of char GPT's step */
    Node *xh = ir_unary(g, OP_NORMALIZE, x, at);
    xh->fval = eps;
    Node *y = ir_binary(g, OP_MUL, xh, t[1], at);
    return vtensor(ir_binary(g, OP_ADD, y, t[2], at));
}

/* gelu(x), the tanh form (Hendrycks & Gimpel 2016; PyTorch's approximate="tanh"):
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static Value call_gelu(Sema *S, Args *a, Span at)
{
    static const char *const none[] = {NULL};
    Graph *g = S->g;
    if (!args_check_names(a, "gelu", none, 1)) return verror;
    Node *x = need_tensor_arg(S, a, 0, "gelu", at);
    if (!x) return verror;
    S->mode_dependent = true;   /* a training forward of its own: precompute_derivatives */
    return vtensor(ir_unary(g, OP_GELU, x, at));
}

/* chunk(x, n, i, axis: -1): the i-th of n equal parts along the axis. */
static Value call_chunk(Sema *S, Args *a, Span at)
{
    static const char *const names[] = {"axis", NULL};
    if (!args_check_names(a, "chunk", names, 3)) return verror;
    Node *x = need_tensor_arg(S, a, 0, "chunk", at);
    if (!x) return verror;
    int64_t n = int_arg(a, 1, "parts", "chunk", 1, -1), i = int_arg(a, 2, "index", "chunk", 0, -1);
    if (n < 0 || i < 0) {
        if (!arg_get(a, 1, NULL, NULL) || !arg_get(a, 2, NULL, NULL))
            diag(DIAG_ERROR, at, "'chunk' needs a tensor, a number of parts and an index: chunk(x, 3, 0)");
        return verror;
    }
    Ast *w = NULL;
    Value *av = arg_get(a, 99, "axis", &w);
    double axv = -1;
    if (av && !get_num(av, w, "the axis", &axv)) return verror;
    int k = norm_axis(S, x, axv, w ? w : a->ast[0], "chunk");
    if (k < 0) return verror;
    if (k == 0 && x->shape.batched) {
        diag(DIAG_ERROR, w ? w->span : at, "chunk cannot split the batch axis");
        return verror;
    }
    int64_t len = x->shape.d[k];
    if (i >= n) {
        diag(DIAG_ERROR, at, "chunk %lld of %lld does not exist (they count from 0)", (long long)i, (long long)n);
        return verror;
    }
    if (len % n) {
        diag(DIAG_ERROR, at, "axis %d of %s (%lld) does not split into %lld equal chunks", k,
             shape_str(S->a, x->shape), (long long)len, (long long)n);
        return verror;
    }
    if (n == 1) return vtensor(x);
    return vtensor(ir_slice(S->g, OP_SLICE, x, k, i * (len / n), len / n, at));
}

Value call_seq_builtin(Sema *S, Args *a, const char *fn, Span at)
{
    static const char *const none[] = {NULL};
    Graph *g = S->g;
    if (!strcmp(fn, "divide")) return call_divide(S, a, at);
    if (!strcmp(fn, "transpose") || !strcmp(fn, "permute")) return call_permute(S, a, fn, at);
    if (!strcmp(fn, "layer_norm")) return call_layer_norm(S, a, at);
    if (!strcmp(fn, "gelu")) return call_gelu(S, a, at);
    if (!strcmp(fn, "chunk")) return call_chunk(S, a, at);
    if (!strcmp(fn, "where")) {
        if (!args_check_names(a, fn, none, 3)) return verror;
        if (!arg_get(a, 2, NULL, NULL)) {
            diag(DIAG_ERROR, at, "'where' needs a condition and two values: where(c, a, b)");
            return verror;
        }
        Node *t[3];
        for (int i = 0; i < 3; i++)
            if (!(t[i] = need_tensor_arg(S, a, i, fn, at))) return verror;
        return vtensor(ir_where(g, t[0], t[1], t[2], at));
    }
    /* embedding(ids, table): ids are whole numbers stored as f32 */
    if (!args_check_names(a, fn, none, 2)) return verror;
    Node *ids = need_tensor_arg(S, a, 0, fn, at), *table = ids ? need_tensor_arg(S, a, 1, fn, at) : NULL;
    if (!ids || !table) return verror;
    return vtensor(ir_gather(g, table, ids, at));
}

/* One whole number of an index; false after a diagnostic. */
static bool index_num(Sema *S, Ctx *c, Ast *e, int64_t *out)
{
    Value v = sema_eval(S, c, e);
    if (v.kind == V_ERROR) return false;
    if (v.kind != V_NUM || v.num != floor(v.num) || fabs(v.num) > 1e12) {
        diag(DIAG_ERROR, e->span, "an index must be a whole number, not %s",
             v.kind == V_NUM ? "a fraction" : vkind_name(v.kind));
        return false;
    }
    *out = (int64_t)v.num;
    return true;
}

/* index := '[' item (',' item)* ']', item := expr | [expr] ':' [expr] | '...'
 * x[i] picks one position and drops the axis; x[a:b] keeps [a, b); negative numbers
 * count from the end; '...' stands for as many ':' as needed. The batch axis only
 * takes ':'. Lowered to SLICE per axis, then a reshape that drops the picked axes. */
Value sema_index(Sema *S, Ctx *c, Ast *e)
{
    Value base = sema_eval(S, c, e->lhs);
    if (base.kind == V_ERROR) return verror;
    Node *x = as_tensor(S, base, e->lhs->span, "what is indexed");
    if (!x) return verror;
    Shape s = x->shape;
    int n = e->list.len, ell = -1;
    for (int i = 0; i < n; i++) {
        Ast *it = e->list.items[i];
        if (it->name) {
            diag(DIAG_ERROR, it->span, "an index has no names; write x[a:b]");
            return verror;
        }
        if (it->is_ellipsis) {
            if (ell >= 0) { diag(DIAG_ERROR, it->span, "an index has at most one '...'"); return verror; }
            ell = i;
        }
    }
    int given = n - (ell >= 0);
    if (given > s.rank) {
        diag(DIAG_ERROR, e->span, "%d %s for %s, which has %d ax%s", given, given == 1 ? "index" : "indices",
             shape_str(S->a, s), s.rank, s.rank == 1 ? "is" : "es");
        return verror;
    }
    int64_t lo[NNL_MAX_RANK], len[NNL_MAX_RANK];
    bool drop[NNL_MAX_RANK] = {0};
    for (int k = 0; k < s.rank; k++) { lo[k] = 0; len[k] = s.d[k]; }
    for (int i = 0, k = 0; i < n; i++) {
        Ast *it = e->list.items[i];
        if (it->is_ellipsis) { k += s.rank - given; continue; }
        bool range = it->op == ':';
        bool batch = k == 0 && s.batched;
        if (batch && !(range && !it->lhs && !it->rhs)) {
            diag(DIAG_ERROR, it->span, "the batch axis of %s can only be indexed with ':'", shape_str(S->a, s));
            return verror;
        }
        if (batch) { k++; continue; }
        int64_t d = s.d[k], a = 0, b = d;
        if (!range) {
            if (!index_num(S, c, it->value, &a)) return verror;
            if (a < -d || a >= d) {
                diag(DIAG_ERROR, it->span, "index %lld is out of range for axis %d of %s (size %lld)",
                     (long long)a, k, shape_str(S->a, s), (long long)d);
                return verror;
            }
            lo[k] = a < 0 ? a + d : a;
            len[k] = 1;
            drop[k] = true;
        } else {
            if (it->lhs && !index_num(S, c, it->lhs, &a)) return verror;
            if (it->rhs && !index_num(S, c, it->rhs, &b)) return verror;
            int64_t a0 = a < 0 ? a + d : a, b0 = b < 0 ? b + d : b;
            if (a0 < 0 || b0 > d || a0 >= b0) {
                diag(DIAG_ERROR, it->span, "slice %lld:%lld is %s for axis %d of %s (size %lld)",
                     (long long)a, (long long)b, a0 >= b0 && a0 >= 0 && b0 <= d ? "empty" : "out of range",
                     k, shape_str(S->a, s), (long long)d);
                return verror;
            }
            lo[k] = a0;
            len[k] = b0 - a0;
        }
        k++;
    }
    for (int k = 0; k < s.rank; k++)
        if (len[k] != s.d[k] && !(k == 0 && s.batched))
            x = ir_slice(S->g, OP_SLICE, x, k, lo[k], len[k], e->span);
    Shape out = {.batched = s.batched};
    for (int k = 0; k < s.rank; k++)
        if (!drop[k]) out.d[out.rank++] = k == 0 && s.batched ? -1 : len[k];
    return vtensor(ir_reshape(S->g, x, out, e->span));
}
