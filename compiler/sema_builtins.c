/* sema_builtins.c — the builtin functions of NNL: primitives (relu, sum, conv2d, ...),
 * losses, optimizers, initializers with arguments and data sources. Each checks its
 * arguments by position and name and its operands' shapes, and builds IR nodes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

const char *const unary_builtins[] = {
    "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "softplus", "softmax",
    "log_softmax", NULL,
};
const Op unary_ops[] = {   /* the op of each unary_builtins name */
    OP_RELU, OP_SIGMOID, OP_TANH, OP_EXP, OP_LOG, OP_SQRT, OP_ABS, OP_SOFTPLUS, OP_SOFTMAX,
    OP_LOG_SOFTMAX,
};
const char *const other_builtins[] = {
    "sum", "mean", "max", "reshape", "flatten", "mse", "mae", "bce", "bce_logits",
    "binary_cross_entropy", "cross_entropy", "sgd", "adam", "idx", "csv", "blobs",
    "normal", "uniform", "constant", "conv2d", "max_pool2d", "avg_pool2d",
    "global_avg_pool2d", "dropout", "batch_norm", "adamw", "rmsprop", "l1", "l2", "npy",
    "subset", "concat", "text", NULL,
};
const char *const optimizer_names[] = {"sgd", "adam", "adamw", "rmsprop", NULL};   /* NnlOptKind */
const char *const init_names[] = {
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", NULL,
};
const int init_kinds[] = {
    NNL_INIT_ZEROS, NNL_INIT_ONES, NNL_INIT_GLOROT_UNIFORM, NNL_INIT_GLOROT_NORMAL,
    NNL_INIT_HE_UNIFORM, NNL_INIT_HE_NORMAL,
};

static bool eval_args(Sema *S, Ctx *c, PtrVec *list, Args *out, const char *fn, Span at)
{
    out->n = 0;
    if (list->len > 16) {
        diag(DIAG_ERROR, at, "too many arguments to '%s'", fn);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < list->len; i++) {
        Ast *arg = list->items[i];
        out->ast[out->n] = arg;
        out->name[out->n] = arg->name;
        out->v[out->n] = sema_eval(S, c, arg->value);
        if (out->v[out->n].kind == V_ERROR) ok = false;
        out->n++;
    }
    return ok;
}

/* The argument at `pos` or named `name`; NULL when absent. Checks that positional
 * arguments come first and that names are known. */
Value *arg_get(Args *a, int pos, const char *name, Ast **where)
{
    int npos = 0;
    for (int i = 0; i < a->n; i++) {
        if (!a->name[i]) {
            if (npos++ == pos) { if (where) *where = a->ast[i]; return &a->v[i]; }
        } else if (name && !strcmp(a->name[i], name)) {
            if (where) *where = a->ast[i];
            return &a->v[i];
        }
    }
    return NULL;
}

bool args_check_names(Args *a, const char *fn, const char *const *names, int maxpos)
{
    int npos = 0;
    bool ok = true;
    for (int i = 0; i < a->n; i++) {
        if (!a->name[i]) {
            if (++npos > maxpos) {
                diag(DIAG_ERROR, a->ast[i]->span, "'%s' takes at most %d positional argument%s",
                     fn, maxpos, maxpos == 1 ? "" : "s");
                ok = false;
            }
            continue;
        }
        if (in_list(names, a->name[i]) < 0) {
            diag(DIAG_ERROR, a->ast[i]->span, "'%s' has no argument named '%s'", fn, a->name[i]);
            Suggest s = {.dist = 99, .target = a->name[i]};
            for (int k = 0; names[k]; k++) suggest(&s, names[k]);
            if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
            ok = false;
        }
    }
    return ok;
}

bool get_num(Value *v, Ast *where, const char *what, double *out)
{
    if (!v) return false;
    if (v->kind != V_NUM) {
        if (v->kind != V_ERROR)
            diag(DIAG_ERROR, where->span, "%s must be a number, not %s", what, vkind_name(v->kind));
        return false;
    }
    *out = v->num;
    return true;
}

Node *need_tensor_arg(Sema *S, Args *a, int pos, const char *fn, Span at)
{
    Ast *w = NULL;
    Value *v = arg_get(a, pos, NULL, &w);
    if (!v) {
        diag(DIAG_ERROR, at, "'%s' needs %s argument", fn, pos == 0 ? "a tensor" : "a second");
        return NULL;
    }
    return as_tensor(S, *v, w->span, "the argument");
}

int norm_axis(Sema *S, Node *x, double ax, Ast *where, const char *fn)
{
    int r = x->shape.rank;
    if (!is_whole(ax) || ax < -r || ax >= r) {
        diag(DIAG_ERROR, where->span, "axis %g is out of range for %s in '%s'", ax,
             shape_str(S->a, x->shape), fn);
        return -1;
    }
    int k = (int)ax;
    return k < 0 ? k + r : k;
}

/* mean over all axes of x, dividing by the run-time batch when x is batched. */
Node *mean_all(Sema *S, Node *x, Span at)
{
    if (!x) return NULL;
    int64_t n = shape_numel_static(x->shape);
    return ir_sum(S->g, x, 0, x->shape.rank, false, 1.0 / n, x->shape.batched, at);
}

/* The label of a loss: class indices for cross_entropy, else the prediction's shape. */
static Node *make_label(Sema *S, Shape s, Span at)
{
    Graph *g = S->g;
    if (g->label) {
        if (!shape_eq(g->label->shape, s)) {
            diag(DIAG_ERROR, at, "the label is used as %s here but as %s before",
                 shape_str(S->a, s), shape_str(S->a, g->label->shape));
            return NULL;
        }
        return g->label;
    }
    g->label = ir_node(g, OP_LABEL, at, s);
    g->label->name = "label";
    return g->label;
}

static Node *loss_target(Sema *S, Value v, Ast *where, Node *pred, bool classes)
{
    if (v.kind == V_LABEL) {
        if (!pred->shape.batched) {
            diag(DIAG_ERROR, where->span, "the prediction must have a batch dimension");
            return NULL;
        }
        if (classes) {   /* one class index per row of scores: the scores' shape less its last axis */
            Shape l = pred->shape;
            l.rank--;
            return make_label(S, l, where->span);
        }
        return make_label(S, pred->shape, where->span);
    }
    return as_tensor(S, v, where->span, "the target");
}

/* A whole-number argument >= lo, or dflt when absent; -1 after a diagnostic. */
int64_t int_arg(Args *a, int pos, const char *name, const char *fn, int64_t lo, int64_t dflt)
{
    Ast *w;
    Value *v = arg_get(a, pos, name, &w);
    if (!v) return dflt;
    if (v->kind != V_NUM || !is_whole(v->num) || v->num < lo || v->num > 1e9) {
        if (v->kind != V_ERROR)
            diag(DIAG_ERROR, w->span, "'%s' of %s must be a whole number of at least %lld", name, fn, (long long)lo);
        return -1;
    }
    return (int64_t)v->num;
}

/* padding: a number of cells on every side, "valid" (0) or "same" (output = ceil(in /
 * stride), the extra cell at the bottom/right as TensorFlow pads). Sets t[A_PT..A_PR]. */
static bool padding_arg(Args *a, const char *fn, Shape x, int64_t kh, int64_t kw, int64_t *t)
{
    Ast *w;
    Value *v = arg_get(a, 99, "padding", &w);
    if (!v) return true;
    if (v->kind == V_STR && (!strcmp(v->str, "same") || !strcmp(v->str, "valid"))) {
        if (v->str[0] == 'v') return true;
        int64_t k[2] = {kh, kw}, st[2] = {t[A_SH], t[A_SW]};
        for (int i = 0; i < 2; i++) {
            int64_t n = x.d[2 + i], out = (n + st[i] - 1) / st[i];
            int64_t total = (out - 1) * st[i] + k[i] - n;
            if (total < 0) total = 0;
            t[i ? A_PL : A_PT] = total / 2;
            t[i ? A_PR : A_PB] = total - total / 2;
        }
        return true;
    }
    if (v->kind == V_NUM && is_whole(v->num) && v->num >= 0 && v->num < 1e6) {
        t[A_PT] = t[A_PL] = t[A_PB] = t[A_PR] = (int64_t)v->num;
        return true;
    }
    if (v->kind != V_ERROR)
        diag(DIAG_ERROR, w->span, "padding of %s is a number of cells, \"same\" or \"valid\"", fn);
    return false;
}

bool num_arg(Args *a, int pos, const char *name, const char *fn, double lo, double hi, double *out)
{
    Ast *w;
    Value *v = arg_get(a, pos, name, &w);
    if (!v) return true;
    if (v->kind != V_NUM || !(v->num >= lo && v->num < hi)) {
        if (v->kind != V_ERROR)
            diag(DIAG_ERROR, w->span, "'%s' of %s must be a number in [%g, %g)", name, fn, lo, hi);
        return false;
    }
    *out = v->num;
    return true;
}

/* Mean of x over every axis but the channels (axis 1): (B, C, ...) -> (1, C, 1, ...). */
static Node *channel_mean(Graph *g, Node *x, Span at)
{
    int r = x->shape.rank;
    Node *m = x;
    if (r > 2) {
        int64_t hw = 1;
        for (int i = 2; i < r; i++) hw *= x->shape.d[i];
        m = ir_sum(g, m, 2, r, true, 1.0 / hw, false, at);
    }
    return ir_sum(g, m, 0, 1, true, 1, true, at);
}

/* dropout(x, rate): training zeroes each value with probability rate and scales the rest
 * by 1/(1 - rate) (Srivastava et al. 2014, inverted); inference passes x through.
 * batch_norm(x, gamma, beta, running_mean, running_var, momentum:, eps:) normalizes
 * over every axis but the channels (axis 1) (Ioffe & Szegedy 2015): training uses the
 * batch's statistics and updates the running ones (PyTorch's momentum 0.1, unbiased
 * variance), inference uses the running ones. */
static Value call_modal(Sema *S, Args *a, const char *fn, Span at)
{
    Graph *g = S->g;
    S->mode_dependent = true;
    if (!strcmp(fn, "dropout")) {
        static const char *const names[] = {"rate", NULL};
        if (!args_check_names(a, fn, names, 2)) return verror;
        Node *x = need_tensor_arg(S, a, 0, fn, at);
        double rate = 0.5;
        if (!x || !num_arg(a, 1, "rate", fn, 0, 1, &rate)) return verror;
        if (!S->training || rate == 0) return vtensor(x);
        Node *mask = ir_node(g, OP_DROPOUT, at, x->shape);
        mask->fval = rate;
        mask->attr[0] = ++S->ndropout;
        return vtensor(ir_binary(g, OP_MUL, x, mask, at));
    }
    static const char *const names[] = {"momentum", "eps", NULL};
    if (!args_check_names(a, fn, names, 5)) return verror;
    Node *t[5];
    for (int i = 0; i < 5; i++)
        if (!(t[i] = need_tensor_arg(S, a, i, fn, at))) return verror;
    double momentum = 0.1, eps = 1e-5;
    if (!num_arg(a, 99, "momentum", fn, 0, 1.0000001, &momentum) || !num_arg(a, 99, "eps", fn, 0, 1, &eps))
        return verror;
    Node *x = t[0];
    if (x->shape.rank < 2 || !x->shape.batched) {
        diag(DIAG_ERROR, at, "batch_norm needs f32[B, channels, ...], not %s", shape_str(S->a, x->shape));
        return verror;
    }
    /* gamma, beta and the statistics: one value per channel, broadcast over the rest */
    Shape per = {.rank = x->shape.rank - 1};
    per.d[0] = x->shape.d[1];
    for (int i = 1; i < per.rank; i++) per.d[i] = 1;
    static const char *const what[] = {"gamma", "beta", "running_mean", "running_var"};
    for (int i = 1; i < 5; i++)
        if (!shape_eq(t[i]->shape, per) || (i >= 3 && t[i]->op != OP_PARAM)) {
            diag(DIAG_ERROR, at, "batch_norm's %s must be a parameter of %s for %s, not %s", what[i - 1],
                 shape_str(S->a, per), shape_str(S->a, x->shape), shape_str(S->a, t[i]->shape));
            return verror;
        }
    for (int i = 3; i < 5; i++) ((ParamInfo *)g->params.items[t[i]->param])->buffer = true;
    /* (x - mean) scale + beta, scale = gamma / sqrt(var + eps): one value a channel, so
     * that the big tensors see one subtraction, one product and one sum each way, and
     * the adjoint's per-channel work (through the square root) stays on [channels]
     * values rather than on every element (the division of the whole tensor by the
     * deviation made its adjoint 4 more passes over it a layer) */
    Node *eps_c = ir_const(g, eps, at);
    if (!S->training) {
        Node *d = ir_binary(g, OP_SUB, x, t[3], at);
        Node *sd = ir_unary(g, OP_SQRT, ir_binary(g, OP_ADD, t[4], eps_c, at), at);
        return vtensor(ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, d, ir_binary(g, OP_DIV, t[1], sd, at), at), t[2], at));
    }
    Node *mean = channel_mean(g, x, at);
    Node *d = ir_binary(g, OP_SUB, x, mean, at);
    Node *var = channel_mean(g, ir_binary(g, OP_MUL, d, d, at), at);
    Node *sd = ir_unary(g, OP_SQRT, ir_binary(g, OP_ADD, var, eps_c, at), at);
    int64_t count = 1;
    for (int i = 2; i < x->shape.rank; i++) count *= x->shape.d[i];
    for (int i = 0; i < 2; i++) {
        EmaUpdate *e = arena_alloc(S->a, sizeof *e);
        *e = (EmaUpdate){.buffer = t[3 + i], .stat = ir_reshape(g, i ? var : mean, per, at),
                         .momentum = momentum, .unbiased = i == 1, .count = count, .span = at};
        vec_push(S->a, &g->emas, e);
    }
    Node *scale = ir_binary(g, OP_DIV, ir_reshape(g, t[1], mean->shape, at), sd, at);
    return vtensor(ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, d, scale, at), t[2], at));
}

/* conv2d(x, w, stride:, padding:, dilation:, groups:), max_pool2d / avg_pool2d(x, size,
 * stride:, padding:), global_avg_pool2d(x); NCHW. */
static Value call_spatial(Sema *S, Args *a, const char *fn, Span at)
{
    Graph *g = S->g;
    int64_t t[10] = {0};
    if (!strcmp(fn, "conv2d")) {
        static const char *const names[] = {"stride", "padding", "dilation", "groups", NULL};
        if (!args_check_names(a, fn, names, 2)) return verror;
        Node *x = need_tensor_arg(S, a, 0, fn, at), *w = x ? need_tensor_arg(S, a, 1, fn, at) : NULL;
        if (!x || !w) return verror;
        t[A_SH] = t[A_SW] = int_arg(a, 99, "stride", fn, 1, 1);
        t[A_DH] = t[A_DW] = int_arg(a, 99, "dilation", fn, 1, 1);
        t[A_GROUPS] = int_arg(a, 99, "groups", fn, 1, 1);
        if (t[A_SH] < 0 || t[A_DH] < 0 || t[A_GROUPS] < 0) return verror;
        if (x->shape.rank == 4 && w->shape.rank == 4 &&
            !padding_arg(a, fn, x->shape, t[A_DH] * (w->shape.d[2] - 1) + 1, t[A_DW] * (w->shape.d[3] - 1) + 1, t))
            return verror;
        Node *y = ir_conv2d(g, x, w, t, at);
        return y ? vtensor(y) : verror;
    }
    if (!strcmp(fn, "global_avg_pool2d")) {   /* (B, C, H, W) -> (B, C) */
        static const char *const none[] = {NULL};
        if (!args_check_names(a, fn, none, 1)) return verror;
        Node *x = need_tensor_arg(S, a, 0, fn, at);
        if (!x) return verror;
        if (x->shape.rank != 4 || !x->shape.batched) {
            diag(DIAG_ERROR, at, "%s needs an input of f32[B, channels, height, width], not %s", fn,
                 shape_str(S->a, x->shape));
            return verror;
        }
        return vtensor(ir_sum(g, x, 2, 4, false, 1.0 / (x->shape.d[2] * x->shape.d[3]), false, at));
    }
    static const char *const names[] = {"size", "stride", "padding", NULL};
    if (!args_check_names(a, fn, names, 2)) return verror;
    Node *x = need_tensor_arg(S, a, 0, fn, at);
    if (!x) return verror;
    t[A_KH] = t[A_KW] = int_arg(a, 1, "size", fn, 1, 2);
    t[A_SH] = t[A_SW] = int_arg(a, 99, "stride", fn, 0, 0);   /* 0: the window's size */
    if (t[A_KH] < 0 || t[A_SH] < 0) return verror;
    if (t[A_SH] == 0) t[A_SH] = t[A_SW] = t[A_KH];
    if (x->shape.rank == 4 && !padding_arg(a, fn, x->shape, t[A_KH], t[A_KW], t)) return verror;
    Node *y = ir_pool2d(g, fn[0] == 'm' ? OP_MAXPOOL2D : OP_AVGPOOL2D, x, t, at);
    return y ? vtensor(y) : verror;
}

/* A string argument that must be one of `choices`; dflt when absent, -1 after a diagnostic. */
static int choice_arg(Args *a, const char *name, const char *fn, const char *const *choices, int dflt)
{
    Ast *w;
    Value *v = arg_get(a, 99, name, &w);
    if (!v) return dflt;
    int k = v->kind == V_STR ? in_list(choices, v->str) : -1;
    if (k < 0 && v->kind == V_STR)
        diag(DIAG_ERROR, w->span, "%s's %s: is \"%s\" or \"%s\", not \"%s\"", fn, name, choices[0], choices[1], v->str);
    else if (k < 0 && v->kind != V_ERROR)
        diag(DIAG_ERROR, w->span, "%s's %s: is \"%s\" or \"%s\"", fn, name, choices[0], choices[1]);
    return k;
}

/* text(path, tokens: "char" | "word", vocab: V, window: T, stride: S)
 * text(path, format: "labelled", tokens:, vocab: V, length: L, labels: "a,b,...") */
static Value text_source(Args *a, Span at)
{
    static const char *const names[] = {"tokens", "vocab", "window", "stride", "format", "length",
                                        "labels", NULL};
    static const char *const tokens[] = {"char", "word", NULL}, *const formats[] = {"plain", "labelled", NULL};
    if (!args_check_names(a, "text", names, 1)) return verror;
    Ast *w;
    Value *path = arg_get(a, 0, NULL, &w);
    if (!path || path->kind != V_STR) {
        if (!path || path->kind != V_ERROR)
            diag(DIAG_ERROR, path ? w->span : at, "'text' needs a file name as a string");
        return verror;
    }
    Value r = {.kind = V_DATA};
    r.data = (NnlDataSpec){.kind = NNL_DATA_TEXT, .path = path->str, .scale = 1, .to = 1};
    int tok = choice_arg(a, "tokens", "text", tokens, NNL_TOK_CHAR);
    int fmt = choice_arg(a, "format", "text", formats, 0);
    int64_t vocab = int_arg(a, 99, "vocab", "text", 3, 0), window = int_arg(a, 99, "window", "text", 1, 0);
    int64_t stride = int_arg(a, 99, "stride", "text", 1, 0), length = int_arg(a, 99, "length", "text", 1, 0);
    if (tok < 0 || fmt < 0 || vocab < 0 || window < 0 || stride < 0 || length < 0) return verror;
    if (!vocab) {
        diag(DIAG_ERROR, at, "text needs vocab: N, the most token ids the model takes (padding and unknown included)");
        return verror;
    }
    Value *labels = arg_get(a, 99, "labels", &w);
    if (labels && (labels->kind != V_STR || !labels->str[0] || strstr(labels->str, ",,") ||
                   labels->str[0] == ',' || labels->str[strlen(labels->str) - 1] == ',')) {
        if (labels->kind != V_ERROR)
            diag(DIAG_ERROR, w->span, "labels are class names in quotes, separated by commas: \"ham,spam\"");
        return verror;
    }
    if (fmt == 0 && (!window || length || labels)) {
        diag(DIAG_ERROR, at, !window ? "plain text needs window: T, the tokens of a sample"
                                     : "length: and labels: are for format: \"labelled\"");
        return verror;
    }
    if (fmt == 1 && (!length || window || stride)) {
        diag(DIAG_ERROR, at, !length ? "labelled text needs length: L, the tokens of an example"
                                     : "window: and stride: are for plain text");
        return verror;
    }
    r.data.tokens = tok;
    r.data.labelled = fmt;
    r.data.vocab = vocab;
    r.data.window = window;
    r.data.stride = stride ? stride : window;
    r.data.length = length;
    r.data.labels = labels ? labels->str : NULL;
    return r;
}

Value call_builtin(Sema *S, Ctx *c, const char *fn, Ast *call)
{
    Graph *g = S->g;
    Span at = call->span;
    Args a;
    if (!strcmp(fn, "scan")) {   /* the step makes it an AST_LAMBDA (sema_scan.c) */
        diag(DIAG_ERROR, at, "scan needs a step after it: scan(xs, h0) (x, h) => tanh(x + h @ W)");
        return verror;
    }
    if (!eval_args(S, c, &call->list, &a, fn, at)) return verror;

    if (in_list(unary_builtins, fn) >= 0) {
        static const char *const none[] = {NULL}, *const causal[] = {"causal", NULL};
        Op op = unary_ops[in_list(unary_builtins, fn)];
        bool rows = op == OP_SOFTMAX || op == OP_LOG_SOFTMAX;
        if (!args_check_names(&a, fn, rows ? causal : none, 1)) return verror;
        if (a.n == 1 && a.v[0].kind == V_NUM && !rows) {   /* sqrt(64): a number */
            double v = a.v[0].num, r = op == OP_EXP ? exp(v) : op == OP_LOG ? log(v) : op == OP_SQRT ? sqrt(v)
                     : op == OP_ABS ? fabs(v) : op == OP_TANH ? tanh(v) : op == OP_RELU ? fmax(v, 0)
                     : op == OP_SIGMOID ? 1 / (1 + exp(-v)) : log1p(exp(v));
            if (isfinite(r)) return vnum(r, false);
        }
        Node *x = need_tensor_arg(S, &a, 0, fn, at);
        if (!x) return verror;
        if (rows && x->shape.rank == 0) {
            diag(DIAG_ERROR, at, "'%s' needs at least one axis, not a scalar", fn);
            return verror;
        }
        double causal_on = 0;
        if (rows && (!num_arg(&a, 99, "causal", fn, 0, 2, &causal_on) || (causal_on != 0 && causal_on != 1))) {
            if (causal_on != 0 && causal_on != 1) diag(DIAG_ERROR, at, "causal is 1 (mask later positions) or 0");
            return verror;
        }
        if (causal_on && op == OP_SOFTMAX) {   /* the row kernel skips later keys (column > row) */
            if (!causal_scores(S, x, at)) return verror;
            Node *y = ir_unary(g, op, x, at);
            y->attr[0] = 1;
            return vtensor(y);
        }
        if (causal_on) {   /* scores of later keys (column > row) become -1e30 before the softmax */
            Node *m = causal_mask(S, x, at);
            if (!m) return verror;
            x = ir_where(g, m, x, ir_const(g, -1e30, at), at);
        }
        return vtensor(ir_unary(g, op, x, at));
    }
    if (in_list(seq_builtins, fn) >= 0) return call_seq_builtin(S, &a, fn, at);
    if (strstr(fn, "conv2d") || strstr(fn, "pool2d")) return call_spatial(S, &a, fn, at);
    if (!strcmp(fn, "dropout") || !strcmp(fn, "batch_norm")) return call_modal(S, &a, fn, at);
    if (!strcmp(fn, "sum") || !strcmp(fn, "mean")) {
        static const char *const names[] = {"axis", NULL};
        if (!args_check_names(&a, fn, names, 1)) return verror;
        Node *x = need_tensor_arg(S, &a, 0, fn, at);
        if (!x) return verror;
        Ast *w;
        Value *ax = arg_get(&a, 99, "axis", &w);
        bool mean = fn[0] == 'm';
        if (!ax) {
            if (mean) return vtensor(mean_all(S, x, at));
            return vtensor(ir_sum(g, x, 0, x->shape.rank, false, 1, false, at));
        }
        double axv;
        if (!get_num(ax, w, "the axis", &axv)) return verror;
        int k = norm_axis(S, x, axv, w, fn);
        if (k < 0) return verror;
        bool batch_axis = k == 0 && x->shape.batched;
        double scale = mean && !batch_axis ? 1.0 / x->shape.d[k] : 1;
        return vtensor(ir_sum(g, x, k, k + 1, false, scale, mean && batch_axis, at));
    }
    if (!strcmp(fn, "max")) {
        static const char *const none[] = {NULL};
        if (!args_check_names(&a, fn, none, 2)) return verror;
        Node *x = need_tensor_arg(S, &a, 0, fn, at), *y = x ? need_tensor_arg(S, &a, 1, fn, at) : NULL;
        return x && y ? vtensor(ir_binary(g, OP_MAX, x, y, at)) : verror;
    }
    if (!strcmp(fn, "flatten") || !strcmp(fn, "reshape")) {
        Node *x = need_tensor_arg(S, &a, 0, fn, at);
        if (!x) return verror;
        if (!x->shape.batched) {
            diag(DIAG_ERROR, at, "'%s' keeps the batch dimension, but %s has none", fn,
                 shape_str(S->a, x->shape));
            return verror;
        }
        int64_t d[NNL_MAX_RANK] = {-1, shape_numel_static(x->shape)};
        int rank = 2;
        if (fn[0] == 'r') {
            rank = 1;
            int64_t prod = 1;
            for (int i = 1; i < a.n; i++) {
                double v;
                if (a.name[i] || !get_num(&a.v[i], a.ast[i], "a dimension", &v)) return verror;
                if (!(v >= 1) || (v < 0x1p40 && !is_whole(v))) {
                    diag(DIAG_ERROR, a.ast[i]->span, "a dimension must be a positive integer");
                    return verror;
                }
                if (v > (double)((int64_t)1 << 40) / (double)prod) {   /* before the product overflows */
                    diag(DIAG_ERROR, a.ast[i]->span, "this shape has too many elements (more than 2^40)");
                    return verror;
                }
                if (rank >= NNL_MAX_RANK) {
                    diag(DIAG_ERROR, a.ast[i]->span, "a tensor has at most %d axes, the batch included", NNL_MAX_RANK);
                    return verror;
                }
                d[rank++] = (int64_t)v;
                prod *= (int64_t)v;
            }
            if (prod != shape_numel_static(x->shape)) {
                diag(DIAG_ERROR, at, "cannot reshape %s (%lld values per sample) into %lld values",
                     shape_str(S->a, x->shape), (long long)shape_numel_static(x->shape),
                     (long long)prod);
                return verror;
            }
        }
        return vtensor(ir_reshape(g, x, shape_make(true, rank, d), at));
    }

    /* losses */
    if (!strcmp(fn, "mse") || !strcmp(fn, "mae") || !strcmp(fn, "bce") ||
        !strcmp(fn, "binary_cross_entropy") || !strcmp(fn, "bce_logits") ||
        !strcmp(fn, "cross_entropy")) {
        static const char *const none[] = {NULL};
        if (!args_check_names(&a, fn, none, 2)) return verror;
        Node *p = need_tensor_arg(S, &a, 0, fn, at);
        Ast *tw;
        Value *tv = arg_get(&a, 1, NULL, &tw);
        if (!p) return verror;
        if (!tv) {
            diag(DIAG_ERROR, at, "'%s' needs a prediction and a target, e.g. %s(%s, label)", fn,
                 fn, p->name ? p->name : "y");
            return verror;
        }
        bool ce = !strcmp(fn, "cross_entropy");
        if (ce && (p->shape.rank < 2 || !p->shape.batched)) {
            diag(DIAG_ERROR, a.ast[0]->span,
                 "cross_entropy takes class scores of shape f32[B, classes] or f32[B, ..., classes], not %s",
                 shape_str(S->a, p->shape));
            return verror;
        }
        Node *t = loss_target(S, *tv, tw, p, ce);
        if (!t) return verror;
        if (ce) {
            /* Softmax then cross-entropy is computed from the scores: log_softmax is
             * exact where log(softmax) underflows. */
            Node *z = p->op == OP_SOFTMAX ? p->in[0] : p;
            if (p->op == OP_SOFTMAX && p->attr[0])   /* a causal softmax: its mask as a WHERE */
                z = ir_where(g, causal_mask(S, z, at), z, ir_const(g, -1e30, at), at);
            Node *ls = ir_unary(g, OP_LOG_SOFTMAX, z, at);
            Node *pk = ir_node(g, OP_PICK, at, t->shape);
            pk->in[0] = ls; pk->in[1] = t; pk->nin = 2; ls->nuses++; t->nuses++;
            Node *m = mean_all(S, pk, at);
            return vtensor(ir_unary(g, OP_NEG, m, at));
        }
        if (!shape_eq(p->shape, t->shape)) {
            diag(DIAG_ERROR, at, "'%s' compares %s with a target of %s", fn,
                 shape_str(S->a, p->shape), shape_str(S->a, t->shape));
            return verror;
        }
        if (!strcmp(fn, "mse")) {
            Node *d = ir_binary(g, OP_SUB, p, t, at);
            return vtensor(mean_all(S, ir_binary(g, OP_MUL, d, d, at), at));
        }
        if (!strcmp(fn, "mae"))
            return vtensor(mean_all(S, ir_unary(g, OP_ABS, ir_binary(g, OP_SUB, p, t, at), at), at));
        bool logits = !strcmp(fn, "bce_logits");
        if (!logits && p->op == OP_SIGMOID) { p = p->in[0]; logits = true; }
        if (logits) {
            /* softplus(z) - z t = -(t log s(z) + (1-t) log(1-s(z))), stable for any z */
            Node *l = ir_binary(g, OP_SUB, ir_unary(g, OP_SOFTPLUS, p, at),
                                ir_binary(g, OP_MUL, p, t, at), at);
            return vtensor(mean_all(S, l, at));
        }
        Node *eps = ir_const(g, 1e-7, at), *one = ir_const(g, 1, at);
        Node *lp = ir_unary(g, OP_LOG, ir_binary(g, OP_MAX, p, eps, at), at);
        Node *lq = ir_unary(g, OP_LOG, ir_binary(g, OP_MAX, ir_binary(g, OP_SUB, one, p, at), eps, at), at);
        Node *s = ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, t, lp, at),
                            ir_binary(g, OP_MUL, ir_binary(g, OP_SUB, one, t, at), lq, at), at);
        return vtensor(ir_unary(g, OP_NEG, mean_all(S, s, at), at));
    }

    /* optimizers */
    if (in_list(optimizer_names, fn) >= 0) {
        /* sgd(lr, momentum, weight_decay); adam / adamw(lr, beta1, beta2, eps,
         * weight_decay); rmsprop(lr, rho, eps, momentum, weight_decay). Adam's and SGD's
         * weight decay is L2 added to the gradient, AdamW's is decoupled (Loshchilov &
         * Hutter 2019); RMSprop keeps rho in beta2. */
        static const char *const sgd_names[] = {"lr", "momentum", "weight_decay", NULL};
        static const char *const adam_names[] = {"lr", "beta1", "beta2", "eps", "weight_decay", NULL};
        static const char *const rms_names[] = {"lr", "rho", "eps", "momentum", "weight_decay", NULL};
        int kind = in_list(optimizer_names, fn);   /* NnlOptKind order */
        const char *const *names = kind == NNL_OPT_SGD ? sgd_names : kind == NNL_OPT_RMSPROP ? rms_names : adam_names;
        if (!args_check_names(&a, fn, names, 1)) return verror;
        Value r = {.kind = V_OPTIM};
        r.optim = (NnlOptim){.kind = kind, .lr = kind == NNL_OPT_SGD ? 1e-2f : 1e-3f, .beta1 = 0.9f,
                             .beta2 = kind == NNL_OPT_RMSPROP ? 0.9f : 0.999f, .eps = 1e-7f,
                             .weight_decay = kind == NNL_OPT_ADAMW ? 0.01f : 0};
        for (int k = 0; names[k]; k++) {
            Ast *w;
            Value *v = arg_get(&a, k == 0 ? 0 : 99, names[k], &w);
            double x;
            if (!v) continue;
            if (!get_num(v, w, names[k], &x)) return verror;
            bool fraction = !strncmp(names[k], "beta", 4) || !strcmp(names[k], "rho") || !strcmp(names[k], "momentum");
            if (x < 0 || (k == 0 && x == 0) || (fraction && x >= 1)) {
                diag(DIAG_ERROR, w->span, "%s must be %s", names[k], k == 0 ? "positive" : fraction ? "in [0, 1)" : "non-negative");
                return verror;
            }
            if (!strcmp(names[k], "lr")) r.optim.lr = x;
            else if (!strcmp(names[k], "momentum")) r.optim.momentum = x;
            else if (!strcmp(names[k], "beta1")) r.optim.beta1 = x;
            else if (!strcmp(names[k], "beta2") || !strcmp(names[k], "rho")) r.optim.beta2 = x;
            else if (!strcmp(names[k], "eps")) r.optim.eps = x;
            else if (!strcmp(names[k], "weight_decay")) r.optim.weight_decay = x;
        }
        return r;
    }
    if (!strcmp(fn, "concat")) {   /* concat(a, b, ..., axis: k): k counts the batch as 0 */
        static const char *const names[] = {"axis", NULL};
        if (!args_check_names(&a, fn, names, 16)) return verror;
        double axv = -1;
        Ast *w = NULL;
        Value *axval = arg_get(&a, 99, "axis", &w);
        if (axval && !get_num(axval, w, "the axis", &axv)) return verror;
        Node *acc = need_tensor_arg(S, &a, 0, fn, at);
        if (!acc) return verror;
        int k = axval ? norm_axis(S, acc, axv, w, fn) : acc->shape.rank - 1;
        if (k < 0) return verror;
        if (k == 0 && acc->shape.batched) {
            diag(DIAG_ERROR, w ? w->span : at, "concat cannot join along the batch axis");
            return verror;
        }
        for (int i = 1; arg_get(&a, i, NULL, NULL); i++) {
            Node *x = need_tensor_arg(S, &a, i, fn, at);
            if (!x || !(acc = ir_concat(g, acc, x, k, at))) return verror;
        }
        return vtensor(acc);
    }
    if (!strcmp(fn, "l1") || !strcmp(fn, "l2")) {   /* sum |x|, sum x^2: penalties */
        static const char *const none[] = {NULL};
        if (!args_check_names(&a, fn, none, 1)) return verror;
        Node *x = need_tensor_arg(S, &a, 0, fn, at);
        if (!x) return verror;
        Node *v = fn[1] == '1' ? ir_unary(g, OP_ABS, x, at) : ir_binary(g, OP_MUL, x, x, at);
        return vtensor(ir_sum(g, v, 0, v->shape.rank, false, 1, false, at));
    }

    /* initializers with arguments */
    if (!strcmp(fn, "normal") || !strcmp(fn, "uniform") || !strcmp(fn, "constant")) {
        static const char *const nn[] = {"mean", "std", NULL}, *const un[] = {"low", "high", NULL},
                                 *const cn[] = {"value", NULL};
        const char *const *names = fn[0] == 'n' ? nn : fn[0] == 'u' ? un : cn;
        if (!args_check_names(&a, fn, names, fn[0] == 'c' ? 1 : 2)) return verror;
        Value r = {.kind = V_INIT};
        double x[2] = {fn[0] == 'n' ? 0 : fn[0] == 'u' ? -0.05 : 0, fn[0] == 'n' ? 0.05 : 0.05};
        for (int k = 0; names[k]; k++) {
            Ast *w;
            Value *v = arg_get(&a, k, names[k], &w);
            if (v && !get_num(v, w, names[k], &x[k])) return verror;
        }
        r.init = fn[0] == 'n' ? NNL_INIT_NORMAL : fn[0] == 'u' ? NNL_INIT_UNIFORM : NNL_INIT_CONST;
        r.a = x[0];
        r.b = x[1];
        return r;
    }

    /* data sources */
    if (!strcmp(fn, "subset")) {   /* subset(set, from: F, to: T): samples [F n, T n) */
        static const char *const names[] = {"from", "to", NULL};
        if (!args_check_names(&a, fn, names, 1)) return verror;
        Ast *w;
        Value *src = arg_get(&a, 0, NULL, &w);
        if (!src || src->kind != V_DATA) {
            if (!src || src->kind != V_ERROR)
                diag(DIAG_ERROR, src ? w->span : at, "subset needs a data set first: subset(all, from: 0.9)");
            return verror;
        }
        Value r = *src;
        double lo = 0, hi = 1;
        if (!num_arg(&a, 99, "from", fn, 0, 1, &lo) || !num_arg(&a, 99, "to", fn, 0, 1.0000001, &hi)) return verror;
        if (lo >= hi) {
            diag(DIAG_ERROR, at, "subset: from (%g) must be below to (%g)", lo, hi);
            return verror;
        }
        /* a subset of a subset narrows it */
        double span = r.data.to - r.data.from;
        r.data.to = r.data.from + span * hi;
        r.data.from = r.data.from + span * lo;
        return r;
    }
    if (!strcmp(fn, "text")) return text_source(&a, at);
    if (!strcmp(fn, "idx") || !strcmp(fn, "csv") || !strcmp(fn, "blobs") || !strcmp(fn, "npy")) {
        static const char *const idx_names[] = {"scale", "normalize", NULL},
                                 *const csv_names[] = {"target", "scale", "normalize", NULL},
                                 *const blob_names[] = {"n", "classes", "spread", "seed", "normalize", NULL};
        int kind = fn[0] == 'i' ? NNL_DATA_IDX : fn[0] == 'c' ? NNL_DATA_CSV : fn[0] == 'n' ? NNL_DATA_NPY : NNL_DATA_BLOBS;
        const char *const *names = kind == NNL_DATA_CSV ? csv_names : kind == NNL_DATA_BLOBS ? blob_names : idx_names;
        int npaths = kind == NNL_DATA_IDX || kind == NNL_DATA_NPY ? 2 : kind == NNL_DATA_CSV ? 1 : 0;
        if (!args_check_names(&a, fn, names, npaths)) return verror;
        Value r = {.kind = V_DATA};
        r.data = (NnlDataSpec){.kind = kind, .scale = 1, .n = 100, .classes = 2, .spread = 1, .seed = 1, .to = 1};
        double nz = 0;
        if (!num_arg(&a, 99, "normalize", fn, 0, 2, &nz) || (nz != 0 && nz != 1)) {
            if (nz != 0 && nz != 1) diag(DIAG_ERROR, at, "normalize is 1 (standardize each feature) or 0");
            return verror;
        }
        r.data.normalize = nz == 1;
        for (int k = 0; k < npaths; k++) {
            Ast *w;
            Value *v = arg_get(&a, k, NULL, &w);
            if (!v || v->kind != V_STR) {
                diag(DIAG_ERROR, v ? w->span : at, "'%s' needs %s file name as a string", fn,
                     kind == NNL_DATA_IDX ? (k ? "the labels'" : "the images'")
                     : kind == NNL_DATA_NPY ? (k ? "the labels'" : "the features'") : "a");
                return verror;
            }
            if (k == 0) r.data.path = v->str; else r.data.path2 = v->str;
        }
        Ast *w;
        Value *v;
        double x;
        if ((v = arg_get(&a, 99, "scale", &w))) { if (!get_num(v, w, "scale", &x)) return verror; r.data.scale = x; }
        if ((v = arg_get(&a, 99, "target", &w))) {
            if (v->kind != V_STR) { diag(DIAG_ERROR, w->span, "target must be a column name in quotes"); return verror; }
            r.data.target = v->str;
        } else if (kind == NNL_DATA_CSV) {
            diag(DIAG_ERROR, at, "csv needs the label column: csv(\"file.csv\", target: \"y\")");
            return verror;
        }
        if ((v = arg_get(&a, 99, "n", &w))) {
            if (!get_num(v, w, "n", &x)) return verror;
            if (x < 1 || !is_whole(x)) { diag(DIAG_ERROR, w->span, "n must be a positive integer"); return verror; }
            r.data.n = x;
        }
        if ((v = arg_get(&a, 99, "classes", &w))) {
            if (!get_num(v, w, "classes", &x)) return verror;
            if (x < 2 || x > 1000 || !is_whole(x)) { diag(DIAG_ERROR, w->span, "classes must be an integer from 2 to 1000"); return verror; }
            r.data.classes = x;
        }
        if ((v = arg_get(&a, 99, "spread", &w))) { if (!get_num(v, w, "spread", &x)) return verror; r.data.spread = x; }
        if ((v = arg_get(&a, 99, "seed", &w))) { if (!get_num(v, w, "seed", &x)) return verror; r.data.seed = x; }
        return r;
    }
    diag(DIAG_ERROR, at, "'%s' cannot be called here", fn);
    return verror;
}

