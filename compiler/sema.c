/* sema.c — names, layer instances and shapes. In: the AST of one file (plus stdlib
 * files it `use`s). Out: a Graph holding the model's forward nodes, the loss, the
 * parameters with their initializers, and the training configuration. Every error is
 * reported at the source span that caused it; after one, a poisoned value (V_ERROR)
 * flows on silently so that one mistake gives one message. Layers are not special: a
 * layer's `forward` is evaluated like any expression, its params become PARAM nodes. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef enum {
    V_ERROR, V_NUM, V_STR, V_TENSOR, V_LAYERDEF, V_LAYER, V_BUILTIN, V_INIT, V_LABEL,
    V_OPTIM, V_DATA,
} VKind;

typedef struct LayerInst LayerInst;
typedef struct Value {
    VKind kind;
    double num;
    bool is_int;
    const char *str;         /* STR; BUILTIN name */
    Node *t;                 /* TENSOR */
    Ast *def;                /* LAYERDEF */
    LayerInst *inst;         /* LAYER */
    int init; float a, b;    /* INIT */
    NnlOptim optim;          /* OPTIM */
    NnlDataSpec data;        /* DATA */
} Value;

typedef struct Env Env;
struct Env {
    const char *name;
    Value v;
    Span span;
    Env *next;
};

struct LayerInst {
    Ast *def;
    const char *name;        /* dense_1, or the `let` name it was bound to */
    Env *args;               /* arguments bound to the layer's parameters */
    Env *dims;               /* dimension names bound at the first application */
    Node **params;           /* one per `param` of the definition, made at first use */
    int nparams;
    Value *lets;             /* one per layer-level `let` (sub-layers), made at first use */
    bool applied;
    Span span;
};

typedef struct Sema {
    Arena *a;
    Graph *g;
    PtrVec layer_defs;       /* AST_LAYER_DEF visible to the program */
    PtrVec std_defs;         /* stdlib layers, visible after `use std.nn` */
    PtrVec datas;            /* AST_DATA */
    bool used_std;
    int depth;               /* layer application nesting, against recursion */
    struct { const char *name; int count; } counters[64];
    int ncounters;
    bool training;           /* building the training graph: batch statistics, dropout */
    bool mode_dependent;     /* the model has layers that train differently */
    int ndropout;            /* dropout streams handed out */
    Ast *loss_ast;           /* the train block's `loss = ...` */
} Sema;

static const Value verror = {.kind = V_ERROR};

/* ----- names ----- */

static const char *const unary_builtins[] = {
    "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "softplus", "softmax",
    "log_softmax", NULL,
};
static const Op unary_ops[] = {   /* the op of each unary_builtins name */
    OP_RELU, OP_SIGMOID, OP_TANH, OP_EXP, OP_LOG, OP_SQRT, OP_ABS, OP_SOFTPLUS, OP_SOFTMAX,
    OP_LOG_SOFTMAX,
};
static const char *const other_builtins[] = {
    "sum", "mean", "max", "reshape", "flatten", "mse", "mae", "bce", "bce_logits",
    "binary_cross_entropy", "cross_entropy", "sgd", "adam", "idx", "csv", "blobs",
    "normal", "uniform", "constant", "conv2d", "max_pool2d", "avg_pool2d",
    "global_avg_pool2d", "dropout", "batch_norm", "adamw", "rmsprop", "l1", "l2", "npy",
    "subset", "concat", NULL,
};
static const char *const optimizer_names[] = {"sgd", "adam", "adamw", "rmsprop", NULL};   /* NnlOptKind */
static const char *const init_names[] = {
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", NULL,
};
static const int init_kinds[] = {
    NNL_INIT_ZEROS, NNL_INIT_ONES, NNL_INIT_GLOROT_UNIFORM, NNL_INIT_GLOROT_NORMAL,
    NNL_INIT_HE_UNIFORM, NNL_INIT_HE_NORMAL,
};

static int in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s)) return i;
    return -1;
}

static int edit_distance(const char *a, const char *b)
{
    int la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40) return 99;
    int d[41][41];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

typedef struct Suggest { const char *best; int dist; const char *target; } Suggest;

static void suggest(Suggest *s, const char *cand)
{
    int d = edit_distance(s->target, cand);
    int limit = strlen(s->target) <= 3 ? 1 : 2;
    if (d <= limit && d < s->dist) { s->dist = d; s->best = cand; }
}

static Ast *find_def(PtrVec *defs, const char *name)
{
    for (int i = 0; i < defs->len; i++) {
        Ast *d = defs->items[i];
        if (!strcmp(d->name, name)) return d;
    }
    return NULL;
}

static Env *env_bind(Sema *S, Env *env, const char *name, Value v, Span at)
{
    Env *e = arena_alloc(S->a, sizeof *e);
    e->name = name;
    e->v = v;
    e->span = at;
    e->next = env;
    return e;
}

static Env *env_find(Env *env, const char *name)
{
    for (; env; env = env->next)
        if (!strcmp(env->name, name)) return env;
    return NULL;
}

static void unknown_name(Sema *S, Env *env, const char *name, Span at)
{
    diag(DIAG_ERROR, at, "unknown name '%s'", name);
    Suggest s = {.dist = 99, .target = name};
    for (Env *e = env; e; e = e->next) suggest(&s, e->name);
    for (int i = 0; i < S->layer_defs.len; i++) suggest(&s, ((Ast *)S->layer_defs.items[i])->name);
    if (S->used_std)
        for (int i = 0; i < S->std_defs.len; i++) suggest(&s, ((Ast *)S->std_defs.items[i])->name);
    for (int i = 0; unary_builtins[i]; i++) suggest(&s, unary_builtins[i]);
    for (int i = 0; other_builtins[i]; i++) suggest(&s, other_builtins[i]);
    for (int i = 0; init_names[i]; i++) suggest(&s, init_names[i]);
    if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
    else if (!S->used_std && find_def(&S->std_defs, name))
        diag(DIAG_HINT, NNL_NO_SPAN, "'%s' is in the standard library: add `use std.nn`", name);
}

/* ----- values ----- */

static Value vnum(double x, bool is_int) { return (Value){.kind = V_NUM, .num = x, .is_int = is_int}; }
static Value vtensor(Node *n) { return n ? (Value){.kind = V_TENSOR, .t = n} : verror; }

static const char *vkind_name(VKind k)
{
    switch (k) {
    case V_ERROR: return "an error";
    case V_NUM: return "a number";
    case V_STR: return "a string";
    case V_TENSOR: return "a tensor";
    case V_LAYERDEF: return "a layer definition";
    case V_LAYER: return "a layer";
    case V_BUILTIN: return "a function";
    case V_INIT: return "an initializer";
    case V_LABEL: return "the label";
    case V_OPTIM: return "an optimizer";
    case V_DATA: return "a data set";
    }
    return "?";
}

/* A number used where a tensor is expected becomes a scalar CONST. */
static Node *as_tensor(Sema *S, Value v, Span at, const char *what)
{
    if (v.kind == V_TENSOR) return v.t;
    if (v.kind == V_NUM) return ir_const(S->g, v.num, at);
    if (v.kind != V_ERROR)
        diag(DIAG_ERROR, at, "%s must be a tensor, not %s", what, vkind_name(v.kind));
    return NULL;
}

/* ----- expressions ----- */

typedef struct Ctx {
    Env *env;
    bool loss;               /* inside a train block's loss: `label` is visible */
} Ctx;

static Value eval(Sema *S, Ctx *c, Ast *e);
static Value apply_layer(Sema *S, LayerInst *li, Node *x, Span at);
static Value instantiate(Sema *S, Ctx *c, Ast *def, PtrVec *args, Span at, const char *bind_name);

/* Arguments of a builtin call, by position and by name. */
typedef struct Args {
    int n;
    Ast *ast[16];
    Value v[16];
    const char *name[16];
} Args;

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
        out->v[out->n] = eval(S, c, arg->value);
        if (out->v[out->n].kind == V_ERROR) ok = false;
        out->n++;
    }
    return ok;
}

/* The argument at `pos` or named `name`; NULL when absent. Checks that positional
 * arguments come first and that names are known. */
static Value *arg_get(Args *a, int pos, const char *name, Ast **where)
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

static bool args_check_names(Args *a, const char *fn, const char *const *names, int maxpos)
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

static bool get_num(Value *v, Ast *where, const char *what, double *out)
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

static Node *need_tensor_arg(Sema *S, Args *a, int pos, const char *fn, Span at)
{
    Ast *w = NULL;
    Value *v = arg_get(a, pos, NULL, &w);
    if (!v) {
        diag(DIAG_ERROR, at, "'%s' needs %s argument", fn, pos == 0 ? "a tensor" : "a second");
        return NULL;
    }
    return as_tensor(S, *v, w->span, "the argument");
}

static int norm_axis(Sema *S, Node *x, double ax, Ast *where, const char *fn)
{
    int r = x->shape.rank;
    int k = (int)ax;
    if (k != ax || k < -r || k >= r) {
        diag(DIAG_ERROR, where->span, "axis %g is out of range for %s in '%s'", ax,
             shape_str(S->a, x->shape), fn);
        return -1;
    }
    return k < 0 ? k + r : k;
}

/* mean over all axes of x, dividing by the run-time batch when x is batched. */
static Node *mean_all(Sema *S, Node *x, Span at)
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
        if (classes) {
            int64_t d[1] = {-1};
            return make_label(S, shape_make(true, 1, d), where->span);
        }
        return make_label(S, pred->shape, where->span);
    }
    return as_tensor(S, v, where->span, "the target");
}

/* A whole-number argument >= lo, or dflt when absent; -1 after a diagnostic. */
static int64_t int_arg(Args *a, int pos, const char *name, const char *fn, int64_t lo, int64_t dflt)
{
    Ast *w;
    Value *v = arg_get(a, pos, name, &w);
    if (!v) return dflt;
    if (v->kind != V_NUM || v->num != (double)(int64_t)v->num || v->num < lo || v->num > 1e9) {
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
    if (v->kind == V_NUM && v->num == (double)(int64_t)v->num && v->num >= 0 && v->num < 1e6) {
        t[A_PT] = t[A_PL] = t[A_PB] = t[A_PR] = (int64_t)v->num;
        return true;
    }
    if (v->kind != V_ERROR)
        diag(DIAG_ERROR, w->span, "padding of %s is a number of cells, \"same\" or \"valid\"", fn);
    return false;
}

static bool num_arg(Args *a, int pos, const char *name, const char *fn, double lo, double hi, double *out)
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
    Node *eps_c = ir_const(g, eps, at);
    if (!S->training) {   /* (x - mean) / sqrt(var + eps) gamma + beta */
        Node *d = ir_binary(g, OP_SUB, x, t[3], at);
        Node *sd = ir_unary(g, OP_SQRT, ir_binary(g, OP_ADD, t[4], eps_c, at), at);
        return vtensor(ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, ir_binary(g, OP_DIV, d, sd, at), t[1], at), t[2], at));
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
    return vtensor(ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, ir_binary(g, OP_DIV, d, sd, at), t[1], at), t[2], at));
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

static Value call_builtin(Sema *S, Ctx *c, const char *fn, Ast *call)
{
    Graph *g = S->g;
    Span at = call->span;
    Args a;
    if (!eval_args(S, c, &call->list, &a, fn, at)) return verror;

    if (in_list(unary_builtins, fn) >= 0) {
        static const char *const none[] = {NULL};
        if (!args_check_names(&a, fn, none, 1)) return verror;
        Node *x = need_tensor_arg(S, &a, 0, fn, at);
        if (!x) return verror;
        Op op = unary_ops[in_list(unary_builtins, fn)];
        if ((op == OP_SOFTMAX || op == OP_LOG_SOFTMAX) && x->shape.rank == 0) {
            diag(DIAG_ERROR, at, "'%s' needs at least one axis, not a scalar", fn);
            return verror;
        }
        return vtensor(ir_unary(g, op, x, at));
    }
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
                if (v != (int64_t)v || v < 1 || rank >= NNL_MAX_RANK) {
                    diag(DIAG_ERROR, a.ast[i]->span, "a dimension must be a positive integer");
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
        if (ce && p->shape.rank != 2) {
            diag(DIAG_ERROR, a.ast[0]->span,
                 "cross_entropy takes class scores of shape f32[B, classes], not %s",
                 shape_str(S->a, p->shape));
            return verror;
        }
        Node *t = loss_target(S, *tv, tw, p, ce);
        if (!t) return verror;
        if (ce) {
            /* Softmax then cross-entropy is computed from the scores: log_softmax is
             * exact where log(softmax) underflows. */
            Node *z = p->op == OP_SOFTMAX ? p->in[0] : p;
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
            if (x < 1 || x != (int64_t)x) { diag(DIAG_ERROR, w->span, "n must be a positive integer"); return verror; }
            r.data.n = x;
        }
        if ((v = arg_get(&a, 99, "classes", &w))) {
            if (!get_num(v, w, "classes", &x)) return verror;
            if (x < 2 || x > 1000 || x != (int)x) { diag(DIAG_ERROR, w->span, "classes must be an integer from 2 to 1000"); return verror; }
            r.data.classes = x;
        }
        if ((v = arg_get(&a, 99, "spread", &w))) { if (!get_num(v, w, "spread", &x)) return verror; r.data.spread = x; }
        if ((v = arg_get(&a, 99, "seed", &w))) { if (!get_num(v, w, "seed", &x)) return verror; r.data.seed = x; }
        return r;
    }
    diag(DIAG_ERROR, at, "'%s' cannot be called here", fn);
    return verror;
}

static Value eval(Sema *S, Ctx *c, Ast *e)
{
    Graph *g = S->g;
    switch (e->kind) {
    case AST_NUM: return vnum(e->num, e->is_int);
    case AST_STR: return (Value){.kind = V_STR, .str = e->str};
    case AST_NAME: {
        Env *b = env_find(c->env, e->name);
        if (b) return b->v;
        if (c->loss && !strcmp(e->name, "label")) return (Value){.kind = V_LABEL};
        Ast *d = find_def(&S->layer_defs, e->name);
        if (!d && S->used_std) d = find_def(&S->std_defs, e->name);
        if (d) return (Value){.kind = V_LAYERDEF, .def = d};
        if (in_list(unary_builtins, e->name) >= 0 || in_list(other_builtins, e->name) >= 0)
            return (Value){.kind = V_BUILTIN, .str = e->name};
        int k = in_list(init_names, e->name);
        if (k >= 0) return (Value){.kind = V_INIT, .init = init_kinds[k]};
        unknown_name(S, c->env, e->name, e->span);
        return verror;
    }
    case AST_CALL: {
        Value f = eval(S, c, e->lhs);
        switch (f.kind) {
        case V_ERROR: return verror;
        case V_BUILTIN: return call_builtin(S, c, f.str, e);
        case V_LAYERDEF: return instantiate(S, c, f.def, &e->list, e->span, NULL);
        case V_LAYER: {
            if (e->list.len != 1 || ((Ast *)e->list.items[0])->name) {
                diag(DIAG_ERROR, e->span, "a layer is applied to exactly one tensor, e.g. %s(x)",
                     f.inst->name);
                return verror;
            }
            Ast *arg = ((Ast *)e->list.items[0])->value;
            Node *x = as_tensor(S, eval(S, c, arg), arg->span, "a layer's input");
            return x ? apply_layer(S, f.inst, x, e->span) : verror;
        }
        default:
            diag(DIAG_ERROR, e->lhs->span, "%s cannot be called", vkind_name(f.kind));
            return verror;
        }
    }
    case AST_BINARY: {
        Value l = eval(S, c, e->lhs), r = eval(S, c, e->rhs);
        if (l.kind == V_ERROR || r.kind == V_ERROR) return verror;
        if (l.kind == V_NUM && r.kind == V_NUM) {
            double x = l.num, y = r.num;
            switch (e->op) {
            case '+': return vnum(x + y, l.is_int && r.is_int);
            case '-': return vnum(x - y, l.is_int && r.is_int);
            case '*': return vnum(x * y, l.is_int && r.is_int);
            case '/':
                if (y == 0) { diag(DIAG_ERROR, e->rhs->span, "division by zero"); return verror; }
                return vnum(x / y, false);
            default:
                diag(DIAG_ERROR, e->span, "'@' multiplies matrices, not numbers");
                return verror;
            }
        }
        Node *a = as_tensor(S, l, e->lhs->span, "an operand"), *b = as_tensor(S, r, e->rhs->span, "an operand");
        if (!a || !b) return verror;
        if (e->op == '@') {
            /* x: (..., k) @ w: (k, n) -> (..., n) */
            if (a->shape.rank < 1 || b->shape.rank != 2 || b->shape.batched) {
                diag(DIAG_ERROR, e->span, "'@' needs x of f32[..., k] and a matrix f32[k, n]; got %s @ %s",
                     shape_str(S->a, a->shape), shape_str(S->a, b->shape));
                return verror;
            }
            if (a->shape.d[a->shape.rank - 1] != b->shape.d[0] || (a->shape.batched && a->shape.rank == 1)) {
                diag(DIAG_ERROR, e->span, "'@' cannot multiply %s by %s: %lld != %lld",
                     shape_str(S->a, a->shape), shape_str(S->a, b->shape),
                     (long long)a->shape.d[a->shape.rank - 1], (long long)b->shape.d[0]);
                diag(DIAG_NOTE, e->lhs->span, "the left operand is %s", shape_str(S->a, a->shape));
                diag(DIAG_NOTE, e->rhs->span, "the right operand is %s", shape_str(S->a, b->shape));
                return verror;
            }
            Shape out = a->shape;
            out.d[out.rank - 1] = b->shape.d[1];
            return vtensor(ir_matmul(g, a, b, 0, 0, out, e->span));
        }
        Op op = e->op == '+' ? OP_ADD : e->op == '-' ? OP_SUB : e->op == '*' ? OP_MUL : OP_DIV;
        return vtensor(ir_binary(g, op, a, b, e->span));
    }
    case AST_UNARY: {
        Value v = eval(S, c, e->lhs ? e->lhs : e->value);
        if (v.kind == V_ERROR) return verror;
        if (v.kind == V_NUM) return vnum(-v.num, v.is_int);
        Node *x = as_tensor(S, v, e->span, "the operand of '-'");
        return x ? vtensor(ir_unary(g, OP_NEG, x, e->span)) : verror;
    }
    case AST_FIELD: {   /* layer.param: a parameter of an applied layer instance */
        Value l = eval(S, c, e->lhs);
        if (l.kind == V_ERROR) return verror;
        if (l.kind != V_LAYER) {
            diag(DIAG_ERROR, e->span, "'%s' is not a value here", e->name);
            return verror;
        }
        LayerInst *li = l.inst;
        int k = 0;
        for (int i = 0; i < li->def->body.len; i++) {
            Ast *st = li->def->body.items[i];
            if (st->kind != AST_PARAM) continue;
            if (!strcmp(st->name, e->name)) {
                if (!li->applied || !li->params || !li->params[k]) {
                    diag(DIAG_ERROR, e->span, "layer '%s' has no parameters until it is applied", li->name);
                    return verror;
                }
                return vtensor(li->params[k]);
            }
            k++;
        }
        diag(DIAG_ERROR, e->span, "layer '%s' (%s) has no parameter '%s'", li->name, li->def->name, e->name);
        return verror;
    }
    case AST_INDEX:
        diag(DIAG_ERROR, e->span, "indexing and slicing are not supported yet");
        return verror;
    default:
        diag(DIAG_ERROR, e->span, "internal error in sema: unexpected %s", ast_kind_name(e->kind));
        return verror;
    }
}

/* ----- layers ----- */

static const char *instance_name(Sema *S, const char *def)
{
    char base[128];
    int n = 0;
    for (int i = 0; def[i] && n < 120; i++) {
        unsigned char ch = def[i];
        if (isupper(ch) && i > 0 && islower((unsigned char)def[i - 1])) base[n++] = '_';   /* MaxPool2D -> max_pool2d */
        base[n++] = tolower(ch);
    }
    base[n] = 0;
    int k;
    for (k = 0; k < S->ncounters; k++)
        if (!strcmp(S->counters[k].name, base)) break;
    if (k == S->ncounters && k < 64) {
        S->counters[k].name = arena_strdup(S->a, base);
        S->counters[k].count = 0;
        S->ncounters++;
    }
    int count = k < 64 ? ++S->counters[k].count : 1;
    return arena_printf(S->a, "%s_%d", base, count);
}

/* layer Name(p1: int, p2 = default) — binds call arguments to the definition's params. */
static Value instantiate(Sema *S, Ctx *c, Ast *def, PtrVec *args, Span at, const char *bind_name)
{
    LayerInst *li = arena_alloc(S->a, sizeof *li);
    li->def = def;
    li->span = at;
    li->name = bind_name ? bind_name : instance_name(S, def->name);
    int npd = def->list.len;
    Value bound[64] = {0};
    bool have[64] = {0};
    Span where[64] = {0};
    if (npd > 64) { diag(DIAG_ERROR, def->span, "too many layer parameters"); return verror; }
    int npos = 0;
    bool ok = true;
    for (int i = 0; args && i < args->len; i++) {
        Ast *arg = args->items[i];
        int k = -1;
        if (!arg->name) {
            k = npos++;
            if (k >= npd) {
                diag(DIAG_ERROR, arg->span, "%s takes %d argument%s, but more were given", def->name,
                     npd, npd == 1 ? "" : "s");
                ok = false;
                continue;
            }
        } else {
            for (int j = 0; j < npd; j++)
                if (!strcmp(((Ast *)def->list.items[j])->name, arg->name)) k = j;
            if (k < 0) {
                diag(DIAG_ERROR, arg->span, "%s has no parameter named '%s'", def->name, arg->name);
                Suggest s = {.dist = 99, .target = arg->name};
                for (int j = 0; j < npd; j++) suggest(&s, ((Ast *)def->list.items[j])->name);
                if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
                ok = false;
                continue;
            }
            if (have[k]) {
                diag(DIAG_ERROR, arg->span, "argument '%s' of %s is given twice", arg->name, def->name);
                ok = false;
                continue;
            }
        }
        Value v = eval(S, c, arg->value);
        if (v.kind == V_ERROR) { ok = false; continue; }
        bound[k] = v;
        have[k] = true;
        where[k] = arg->span;
    }
    if (!ok) return verror;
    Env *env = NULL;
    for (int j = 0; j < npd; j++) {
        Ast *pd = def->list.items[j];
        if (!have[j]) {
            if (!pd->value) {
                diag(DIAG_ERROR, at, "%s needs the argument '%s'", def->name, pd->name);
                diag(DIAG_NOTE, pd->span, "'%s' is declared here", pd->name);
                ok = false;
                continue;
            }
            Ctx dc = {0};
            bound[j] = eval(S, &dc, pd->value);
            where[j] = pd->value->span;
            if (bound[j].kind == V_ERROR) { ok = false; continue; }
        }
        const char *ty = pd->type_name;
        if (ty) {
            Value v = bound[j];
            bool good = !strcmp(ty, "int") ? v.kind == V_NUM && v.num == (double)(int64_t)v.num
                      : !strcmp(ty, "float") ? v.kind == V_NUM
                      : !strcmp(ty, "str") ? v.kind == V_STR : true;
            if (strcmp(ty, "int") && strcmp(ty, "float") && strcmp(ty, "str")) {
                diag(DIAG_ERROR, pd->span, "unknown parameter type '%s' (int, float or str)", ty);
                ok = false;
            } else if (!good) {
                diag(DIAG_ERROR, where[j], "argument '%s' of %s must be %s, not %s", pd->name,
                     def->name, !strcmp(ty, "int") ? "an integer" : !strcmp(ty, "float") ? "a number" : "a string",
                     vkind_name(v.kind));
                ok = false;
            } else if (!strcmp(ty, "int") && v.num < 1) {
                diag(DIAG_ERROR, where[j], "argument '%s' of %s must be positive", pd->name, def->name);
                ok = false;
            }
        }
        env = env_bind(S, env, pd->name, bound[j], pd->span);
    }
    if (!ok) return verror;
    li->args = env;
    int np = 0;
    for (int i = 0; i < def->body.len; i++)
        if (((Ast *)def->body.items[i])->kind == AST_PARAM) np++;
    li->params = arena_alloc(S->a, sizeof(Node *) * (np + 1));
    li->nparams = np;
    return (Value){.kind = V_LAYER, .inst = li};
}

/* f32[..., in] as written, with names already bound shown as `in=128`. */
static const char *type_text(Sema *S, Ast *type, Env *env)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s[", type->name ? type->name : "f32");
    for (int i = 0; i < type->list.len && n < 400; i++) {
        Ast *d = type->list.items[i];
        if (i) n += snprintf(buf + n, sizeof buf - n, ", ");
        if (d->is_ellipsis) n += snprintf(buf + n, sizeof buf - n, "...");
        else if (d->name) {
            Env *b = env_find(env, d->name);
            if (b && b->v.kind == V_NUM) n += snprintf(buf + n, sizeof buf - n, "%s=%g", d->name, b->v.num);
            else n += snprintf(buf + n, sizeof buf - n, "%s", d->name);
        } else n += snprintf(buf + n, sizeof buf - n, "%g", d->num);
    }
    snprintf(buf + n, sizeof buf - n, "]");
    return arena_strdup(S->a, buf);
}

/* Matches a declared type f32[dims] (full shape, `...` absorbing leading axes, the batch
 * among them) against x's shape, binding dimension names into *env. */
static bool match_type(Sema *S, Ast *type, Node *x, Env **env, const char *what, Span at)
{
    Shape s = x->shape;
    int nd = type->list.len, ell = -1;
    for (int i = 0; i < nd; i++)
        if (((Ast *)type->list.items[i])->is_ellipsis) {
            if (ell >= 0 || i != 0) {
                diag(DIAG_ERROR, ((Ast *)type->list.items[i])->span, "'...' may only open a shape");
                return false;
            }
            ell = i;
        }
    int fixed = nd - (ell >= 0);
    bool fits = ell >= 0 ? s.rank >= fixed : s.rank == fixed;
    int first = s.rank - fixed;
    if (fits && ell < 0 && s.batched) fits = false;   /* B can only hide under ... */
    if (fits && ell >= 0 && s.batched && first < 1) fits = false;
    for (int i = 0; fits && i < fixed; i++) {
        Ast *d = type->list.items[i + (ell >= 0)];
        int64_t actual = s.d[first + i];
        if (d->name) {
            Env *b = env_find(*env, d->name);
            if (b && b->v.kind == V_NUM) {
                if (b->v.num != actual) fits = false;
            } else if (b) {
                diag(DIAG_ERROR, d->span, "'%s' is %s, not a dimension", d->name, vkind_name(b->v.kind));
                return false;
            } else {
                *env = env_bind(S, *env, d->name, vnum(actual, true), d->span);
            }
        } else if (d->num != actual) {
            fits = false;
        }
    }
    if (!fits) {
        diag(DIAG_ERROR, at, "%s expects %s but gets %s", what, type_text(S, type, *env),
             shape_str(S->a, s));
        diag(DIAG_NOTE, type->span, "declared here");
        return false;
    }
    return true;
}

/* Evaluates a parameter's declared shape: integers, or names bound to integers. */
static bool eval_dims(Sema *S, Ast *type, Env *env, Shape *out)
{
    Shape s = {0};
    if (type->list.len > NNL_MAX_RANK) {
        diag(DIAG_ERROR, type->span, "a tensor has at most %d axes", NNL_MAX_RANK);
        return false;
    }
    int64_t total = 1;
    for (int i = 0; i < type->list.len; i++) {
        Ast *d = type->list.items[i];
        int64_t v;
        if (d->is_ellipsis) {
            diag(DIAG_ERROR, d->span, "a parameter's shape must be fully known: no '...'");
            return false;
        } else if (d->name) {
            Env *b = env_find(env, d->name);
            if (!b) {
                unknown_name(S, env, d->name, d->span);
                return false;
            }
            if (b->v.kind != V_NUM || b->v.num != (double)(int64_t)b->v.num || b->v.num < 1) {
                diag(DIAG_ERROR, d->span, "dimension '%s' must be a positive integer, not %s",
                     d->name, b->v.kind == V_NUM ? "a fraction" : vkind_name(b->v.kind));
                return false;
            }
            v = b->v.num;
        } else {
            v = d->num;
            if (v < 1 || d->num != (double)v) {
                diag(DIAG_ERROR, d->span, "a dimension must be a positive integer");
                return false;
            }
        }
        if (v > ((int64_t)1 << 40) / total) {
            diag(DIAG_ERROR, type->span, "this shape has too many elements");
            return false;
        }
        total *= v;
        s.d[s.rank++] = v;
    }
    *out = s;
    return true;
}

static Node *make_param(Sema *S, const char *name, Shape shape, Value init, Span at)
{
    Graph *g = S->g;
    if (init.kind != V_INIT) {
        if (init.kind != V_ERROR)
            diag(DIAG_ERROR, at, "parameter '%s' needs an initializer (zeros, glorot_uniform, normal(std: 0.1), ...), not %s",
                 name, vkind_name(init.kind));
        return NULL;
    }
    if (S->training)   /* the second build of the model: the same parameters */
        for (int i = 0; i < g->params.len; i++) {
            ParamInfo *q = g->params.items[i];
            if (!strcmp(q->name, name)) return q->node;
        }
    ParamInfo *p = arena_alloc(S->a, sizeof *p);
    p->name = name;
    p->shape = shape;
    p->init = init.init;
    p->a = init.a;
    p->b = init.b;
    p->span = at;
    int r = shape.rank;
    int64_t rf = 1;
    for (int i = 2; i < r; i++) rf *= shape.d[i];
    /* Dense keeps W as (in, out), Keras's convention: fan_in is the first axis. A conv
     * kernel is (out, in, r, s), PyTorch's: fans are the channels times r s. */
    p->fan_in = r == 0 ? 1 : r == 1 ? shape.d[0] : r == 2 ? shape.d[0] : shape.d[1] * rf;
    p->fan_out = r == 0 ? 1 : r == 1 ? shape.d[0] : r == 2 ? shape.d[1] : shape.d[0] * rf;
    Node *n = ir_node(g, OP_PARAM, at, shape);
    n->name = name;
    n->param = g->params.len;
    p->node = n;
    vec_push(S->a, &g->params, p);
    return n;
}

/* Evaluates `let`s and the result of a forward body in env. */
static Value eval_body(Sema *S, Ctx *c, Ast *fwd)
{
    if (fwd->value) return eval(S, c, fwd->value);
    for (int i = 0; i < fwd->list.len; i++) {
        Ast *st = fwd->list.items[i];
        if (st->kind == AST_LET) {
            Value v = eval(S, c, st->value);
            if (v.kind == V_ERROR) return verror;
            c->env = env_bind(S, c->env, st->name, v, st->span);
        } else if (st->kind == AST_RETURN) {
            return eval(S, c, st->value);
        }
    }
    diag(DIAG_ERROR, fwd->span, "this forward block has no `return`");
    return verror;
}

static Value apply_layer(Sema *S, LayerInst *li, Node *x, Span at)
{
    Ast *def = li->def, *fwd = NULL;
    for (int i = 0; i < def->body.len; i++) {
        Ast *st = def->body.items[i];
        if (st->kind == AST_FORWARD) fwd = st;
    }
    if (!fwd) {
        diag(DIAG_ERROR, def->span, "layer %s has no forward", def->name);
        return verror;
    }
    if (S->depth >= 32) {
        diag(DIAG_ERROR, at, "layer %s applies itself, directly or through other layers", def->name);
        return verror;
    }
    Env *env = li->args;
    if (!match_type(S, fwd->type, x, &env, arena_printf(S->a, "%s (%s)", def->name, li->name), at))
        return verror;
    /* Parameters: made at the first application, shared by later ones. */
    int k = 0;
    for (int i = 0; i < def->body.len; i++) {
        Ast *st = def->body.items[i];
        if (st->kind != AST_PARAM) continue;
        Shape s;
        if (!eval_dims(S, st->type, env, &s)) return verror;
        if (!li->applied) {
            Ctx ic = {.env = env};
            Value init = eval(S, &ic, st->value);
            li->params[k] = make_param(S, arena_printf(S->a, "%s.%s", li->name, st->name), s, init, st->span);
            if (!li->params[k]) return verror;
        } else if (!shape_eq(li->params[k]->shape, s)) {
            diag(DIAG_ERROR, at, "%s is applied again to an input that needs %s of %s, but it has %s",
                 li->name, st->name, shape_str(S->a, s), shape_str(S->a, li->params[k]->shape));
            diag(DIAG_NOTE, li->span, "%s was made here", li->name);
            return verror;
        }
        env = env_bind(S, env, st->name, vtensor(li->params[k]), st->span);
        k++;
    }
    /* Layer-level lets: sub-layers (`let conv = Conv2D(16, 3)`), made at the first
     * application and named inside this instance (residual_1.conv.W), shared later. */
    int nlets = 0;
    for (int i = 0; i < def->body.len; i++) nlets += ((Ast *)def->body.items[i])->kind == AST_LET;
    if (nlets && !li->lets) li->lets = arena_alloc(S->a, nlets * sizeof *li->lets);
    for (int i = 0, j = 0; i < def->body.len; i++) {
        Ast *st = def->body.items[i];
        if (st->kind != AST_LET) continue;
        if (!li->applied) {
            Ctx lc = {.env = env};
            Ast *e = st->value;
            Value f = e->kind == AST_CALL && e->lhs->kind == AST_NAME ? eval(S, &lc, e->lhs) : verror;
            li->lets[j] = f.kind == V_LAYERDEF
                ? instantiate(S, &lc, f.def, &e->list, e->span, arena_printf(S->a, "%s.%s", li->name, st->name))
                : eval(S, &lc, e);
            if (li->lets[j].kind == V_ERROR) return verror;
        }
        env = env_bind(S, env, st->name, li->lets[j++], st->span);
    }
    li->applied = true;
    env = env_bind(S, env, fwd->name, vtensor(x), fwd->span);
    Ctx c = {.env = env};
    S->depth++;
    Value r = eval_body(S, &c, fwd);
    S->depth--;
    if (r.kind != V_ERROR && r.kind != V_TENSOR) {
        diag(DIAG_ERROR, fwd->span, "the forward of %s must give a tensor, not %s", def->name,
             vkind_name(r.kind));
        return verror;
    }
    return r;
}

/* ----- model ----- */

static Ast *find_item(Ast *prog, AstKind kind, const char *name)
{
    for (int i = 0; i < prog->body.len; i++) {
        Ast *it = prog->body.items[i];
        if (it->kind == kind && (!name || !strcmp(it->name, name))) return it;
    }
    return NULL;
}

static Node *model_input(Sema *S, Ast *st)
{
    Shape s = {.rank = 1, .batched = true, .d = {-1}};
    if (st->type->list.len + 1 > NNL_MAX_RANK) {
        diag(DIAG_ERROR, st->type->span, "a tensor has at most %d axes (the batch included)", NNL_MAX_RANK);
        return NULL;
    }
    Shape per;
    if (!eval_dims(S, st->type, NULL, &per)) return NULL;
    for (int i = 0; i < per.rank; i++) s.d[s.rank++] = per.d[i];
    return ir_node(S->g, OP_INPUT, st->span, s);
}

/* One entry of `layers { ... }`: a layer (instantiated, then applied) or a function,
 * then activations. */
static Value layer_entry(Sema *S, Ctx *c, Ast *en, Value cur)
{
    Ast *lv = en->value;
    Node *x = cur.t;
    Value f = eval(S, c, lv->kind == AST_CALL ? lv->lhs : lv);
    Value r = verror;
    if (f.kind == V_ERROR) return verror;
    if (f.kind == V_LAYERDEF) {
        Value li = instantiate(S, c, f.def, lv->kind == AST_CALL ? &lv->list : NULL, lv->span, NULL);
        if (li.kind == V_ERROR) return verror;
        r = apply_layer(S, li.inst, x, lv->span);
    } else if (f.kind == V_LAYER && lv->kind == AST_NAME) {
        r = apply_layer(S, f.inst, x, lv->span);
    } else if (f.kind == V_BUILTIN && lv->kind == AST_NAME && in_list(unary_builtins, f.str) >= 0) {
        r = vtensor(ir_unary(S->g, unary_ops[in_list(unary_builtins, f.str)], x, lv->span));
    } else if (f.kind == V_BUILTIN && !strcmp(f.str, "flatten") && lv->kind == AST_NAME) {
        Ctx fc = *c;
        fc.env = env_bind(S, fc.env, "$x", cur, lv->span);
        Ast call = {.kind = AST_CALL, .span = lv->span};
        Ast arg = {.kind = AST_ARG, .span = lv->span};
        Ast nm = {.kind = AST_NAME, .span = lv->span, .name = "$x"};
        arg.value = &nm;
        vec_push(S->a, &call.list, &arg);
        r = call_builtin(S, &fc, "flatten", &call);
    } else {
        diag(DIAG_ERROR, lv->span, "a `layers` entry must be a layer or an activation, not %s",
             vkind_name(f.kind));
        return verror;
    }
    for (int i = 0; r.kind == V_TENSOR && i < en->list.len; i++) {
        Ast *act = en->list.items[i];
        int k = in_list(unary_builtins, act->name);
        if (k < 0) {
            diag(DIAG_ERROR, act->span, "unknown activation '%s'", act->name);
            Suggest s = {.dist = 99, .target = act->name};
            for (int j = 0; unary_builtins[j]; j++) suggest(&s, unary_builtins[j]);
            if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
            return verror;
        }
        r = vtensor(ir_unary(S->g, unary_ops[k], r.t, act->span));
    }
    return r;
}

static bool build_model(Sema *S, Ast *m, Env **out_env)
{
    Graph *g = S->g;
    Ast *in = NULL, *outd = NULL, *layers = NULL;
    for (int i = 0; i < m->body.len; i++) {
        Ast *st = m->body.items[i];
        if (st->kind == AST_INPUT) {
            if (in) { diag(DIAG_ERROR, st->span, "a model has one input (for now)"); return false; }
            in = st;
        } else if (st->kind == AST_OUTPUT) {
            if (outd) { diag(DIAG_ERROR, st->span, "a model has one output (for now)"); return false; }
            outd = st;
        } else if (st->kind == AST_LAYERS) {
            if (layers) { diag(DIAG_ERROR, st->span, "a model has one `layers` block"); return false; }
            layers = st;
        }
    }
    if (!in) { diag(DIAG_ERROR, m->span, "model %s declares no input", m->name); return false; }
    if (!outd) { diag(DIAG_ERROR, m->span, "model %s declares no output", m->name); return false; }
    if (!g->input) g->input = model_input(S, in);
    if (!g->input) return false;
    g->input->name = in->name;
    Ctx c = {0};
    c.env = env_bind(S, NULL, in->name, vtensor(g->input), in->span);
    Value cur = vtensor(g->input);
    bool have_out = false;
    Span out_span = outd->span;
    for (int i = 0; i < m->body.len; i++) {
        Ast *st = m->body.items[i];
        switch (st->kind) {
        case AST_LAYERS:
            for (int k = 0; k < st->list.len && cur.kind == V_TENSOR; k++) {
                Ast *en = st->list.items[k];
                cur = layer_entry(S, &c, en, cur);
                out_span = en->span;
            }
            if (cur.kind != V_TENSOR) return false;
            have_out = true;
            break;
        case AST_PARAM: {
            Shape s;
            if (!eval_dims(S, st->type, c.env, &s)) return false;
            Value init = eval(S, &c, st->value);
            Node *p = make_param(S, st->name, s, init, st->span);
            if (!p) return false;
            c.env = env_bind(S, c.env, st->name, vtensor(p), st->span);
            break;
        }
        case AST_LET: {
            Value v;
            Ast *e = st->value;
            /* let enc = Dense(10): the instance takes the name it is bound to */
            if (e->kind == AST_CALL && e->lhs->kind == AST_NAME) {
                Value f = eval(S, &c, e->lhs);
                if (f.kind == V_LAYERDEF) v = instantiate(S, &c, f.def, &e->list, e->span, st->name);
                else v = eval(S, &c, e);
            } else {
                v = eval(S, &c, e);
            }
            if (v.kind == V_ERROR) return false;
            c.env = env_bind(S, c.env, st->name, v, st->span);
            break;
        }
        case AST_ASSIGN:
        case AST_OUTPUT:
            if (st->kind == AST_ASSIGN && strcmp(st->name, outd->name)) {
                diag(DIAG_ERROR, st->span, "'%s' is not this model's output ('%s'); use `let` for intermediate values",
                     st->name, outd->name);
                return false;
            }
            if (!st->value) break;
            if (layers || have_out) {
                diag(DIAG_ERROR, st->span, "the output '%s' is given twice", outd->name);
                return false;
            }
            cur = eval(S, &c, st->value);
            if (cur.kind == V_NUM) cur = vtensor(ir_const(g, cur.num, st->span));
            if (cur.kind != V_TENSOR) {
                if (cur.kind != V_ERROR)
                    diag(DIAG_ERROR, st->value->span, "the output must be a tensor, not %s", vkind_name(cur.kind));
                return false;
            }
            have_out = true;
            out_span = st->value->span;
            break;
        default: break;
        }
    }
    if (!have_out) {
        diag(DIAG_ERROR, outd->span, "nothing computes the output '%s'", outd->name);
        diag(DIAG_HINT, NNL_NO_SPAN, "add a `layers { ... }` block or `%s = <expression>`", outd->name);
        return false;
    }
    Shape want;
    if (!eval_dims(S, outd->type, NULL, &want)) return false;
    Shape full = {.rank = want.rank + 1, .batched = true, .d = {-1}};
    for (int i = 0; i < want.rank; i++) full.d[i + 1] = want.d[i];
    Node *o = cur.t;
    if (!shape_eq(o->shape, full)) {
        diag(DIAG_ERROR, out_span, "the model computes %s but its output '%s' is declared %s",
             shape_str(S->a, o->shape), outd->name, shape_str(S->a, full));
        diag(DIAG_NOTE, outd->span, "declared here");
        return false;
    }
    if (o->op == OP_INPUT) {   /* the output must own its memory */
        o = ir_expand(g, o, o->shape, o->shape, 1, false, outd->span);
    }
    o->pinned = true;
    if (S->training) {
        g->t_output = o;
        g->seg_end[SEG_TFORWARD] = g->nodes.len;
    } else {
        g->output = o;
        g->seg_end[SEG_FORWARD] = g->nodes.len;
    }
    c.env = env_bind(S, c.env, outd->name, vtensor(o), outd->span);
    *out_env = c.env;
    return true;
}

/* ----- data and training ----- */

static bool data_set(Sema *S, Ast *ref, NnlDataSpec *out, const char *base_dir)
{
    if (ref->kind != AST_FIELD || ref->lhs->kind != AST_NAME) {
        diag(DIAG_ERROR, ref->span, "expected a data set as data_block.set, e.g. fashion.train");
        return false;
    }
    Ast *d = NULL;
    for (int i = 0; i < S->datas.len; i++)
        if (!strcmp(((Ast *)S->datas.items[i])->name, ref->lhs->name)) d = S->datas.items[i];
    if (!d) {
        diag(DIAG_ERROR, ref->lhs->span, "no data block named '%s'", ref->lhs->name);
        Suggest s = {.dist = 99, .target = ref->lhs->name};
        for (int i = 0; i < S->datas.len; i++) suggest(&s, ((Ast *)S->datas.items[i])->name);
        if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
        return false;
    }
    Ctx c = {0};   /* the block's earlier sets are names: val = subset(all, from: 0.9) */
    for (int i = 0; i < d->body.len; i++) {
        Ast *st = d->body.items[i];
        if (st->kind != AST_ASSIGN) continue;
        if (!strcmp(st->name, "dir")) {   /* dir = "path": where relative files are, from the .nnl */
            if (st->value->kind != AST_STR || !st->value->str[0]) {
                diag(DIAG_ERROR, st->value->span, "`dir` takes a directory name in quotes");
                return false;
            }
            const char *p = st->value->str;
            base_dir = p[0] == '/' ? p : arena_printf(S->a, "%s/%s", base_dir, p);
            continue;
        }
        bool want = !strcmp(st->name, ref->name);
        Value v = eval(S, &c, st->value);
        if (v.kind == V_ERROR) return false;
        if (v.kind != V_DATA) {
            diag(DIAG_ERROR, st->value->span, "a data set is idx(...), csv(...), npy(...), blobs(...) or subset(...), not %s",
                 vkind_name(v.kind));
            return false;
        }
        if (!want) {
            c.env = env_bind(S, c.env, st->name, v, st->span);
            continue;
        }
        *out = v.data;
        out->name = arena_printf(S->a, "%s.%s", d->name, st->name);
        out->base_dir = base_dir;
        return true;
    }
    diag(DIAG_ERROR, ref->span, "data block '%s' has no set '%s'", d->name, ref->name);
    Suggest sg = {.dist = 99, .target = ref->name};
    for (int i = 0; i < d->body.len; i++) {
        Ast *st = d->body.items[i];
        if (st->kind == AST_ASSIGN) suggest(&sg, st->name);
    }
    if (sg.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s.%s'?", d->name, sg.best);
    return false;
}

static bool setting_int(Ast *st, int64_t lo, int64_t *out)
{
    if (!st->value || st->value->kind != AST_NUM || !st->value->is_int || st->value->num < lo ||
        st->value->num > 1e12) {
        diag(DIAG_ERROR, st->value ? st->value->span : st->span, "`%s` takes an integer of at least %lld",
             st->name, (long long)lo);
        return false;
    }
    *out = st->value->num;
    return true;
}

/* schedule = step(epochs: N, gamma: G) | exponential(gamma: G) | cosine(min_lr: X) */
static bool schedule_setting(Ast *e, NnlSchedule *out)
{
    static const char *const kinds[] = {"constant", "step", "exponential", "cosine", NULL};
    int kind = e->kind == AST_CALL && e->lhs->kind == AST_NAME ? in_list(kinds, e->lhs->name) : -1;
    if (kind < 0) {
        diag(DIAG_ERROR, e->span, "a schedule is step(epochs: N, gamma: G), exponential(gamma: G) or cosine(min_lr: X)");
        return false;
    }
    out->kind = kind;
    out->gamma = kind == NNL_SCHED_STEP ? 0.1f : 0.95f;
    out->every = 1;
    for (int i = 0; i < e->list.len; i++) {
        Ast *arg = e->list.items[i];
        const char *n = arg->name ? arg->name : "";
        bool num = arg->value->kind == AST_NUM || (arg->value->kind == AST_UNARY && arg->value->lhs && arg->value->lhs->kind == AST_NUM);
        double v = !num ? 0 : arg->value->kind == AST_NUM ? arg->value->num : -arg->value->lhs->num;
        if (!strcmp(n, "gamma") && num && v > 0 && v <= 1 && kind != NNL_SCHED_COSINE) out->gamma = v;
        else if (!strcmp(n, "epochs") && num && v >= 1 && v == (int64_t)v && kind == NNL_SCHED_STEP) out->every = v;
        else if (!strcmp(n, "min_lr") && num && v >= 0 && kind == NNL_SCHED_COSINE) out->min_lr = v;
        else {
            diag(DIAG_ERROR, arg->span, "%s() takes %s", kinds[kind],
                 kind == NNL_SCHED_STEP ? "epochs: N (>= 1) and gamma: G (0 < G <= 1)"
                 : kind == NNL_SCHED_EXPONENTIAL ? "gamma: G (0 < G <= 1)" : kind == NNL_SCHED_COSINE ? "min_lr: X (>= 0)" : "no arguments");
            return false;
        }
    }
    return true;
}

static bool loss_uses_bce(Ast *e)
{
    if (!e) return false;
    if (e->kind == AST_CALL && e->lhs->kind == AST_NAME &&
        (!strcmp(e->lhs->name, "bce") || !strcmp(e->lhs->name, "bce_logits") ||
         !strcmp(e->lhs->name, "binary_cross_entropy")))
        return true;
    if (loss_uses_bce(e->lhs) || loss_uses_bce(e->rhs) || loss_uses_bce(e->value)) return true;
    for (int i = 0; i < e->list.len; i++)
        if (loss_uses_bce(e->list.items[i])) return true;
    return false;
}

/* `loss = expr` in the environment of one build of the model: a pinned scalar. */
static Node *eval_loss(Sema *S, Ast *loss, Env *env)
{
    Graph *g = S->g;
    Ctx c = {.env = env, .loss = true};
    Value v = eval(S, &c, loss->value);
    if (v.kind == V_ERROR) return NULL;
    if (v.kind != V_TENSOR || v.t->shape.rank != 0) {
        diag(DIAG_ERROR, loss->value->span, "the loss must be a scalar tensor, not %s",
             v.kind == V_TENSOR ? shape_str(S->a, v.t->shape) : vkind_name(v.kind));
        return NULL;
    }
    if (!g->label) {
        diag(DIAG_ERROR, loss->value->span, "the loss does not use the label");
        return NULL;
    }
    Node *l = v.t;
    if (l->op == OP_CONST || l->op == OP_PARAM) l = ir_expand(g, l, l->shape, l->shape, 1, false, loss->span);
    l->pinned = true;
    return l;
}

static bool build_train(Sema *S, Ast *t, Env *env, const char *base_dir)
{
    Graph *g = S->g;
    NnlTrain *tr = &g->train;
    *tr = (NnlTrain){.epochs = 1, .batch = 32, .seed = 42, .eval_every_epoch = 1};
    tr->optim = (NnlOptim){.kind = NNL_OPT_ADAM, .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-7f};
    Ast *loss = NULL;
    bool ok = !t->on || data_set(S, t->on, &tr->data, base_dir);   /* and go on: more errors */
    for (int i = 0; i < t->body.len; i++) {
        Ast *st = t->body.items[i];
        if (st->kind == AST_ASSIGN && !strcmp(st->name, "loss")) {
            loss = st;
        } else if (st->kind == AST_ASSIGN && !strcmp(st->name, "optimizer")) {
            Ctx c = {.env = env};
            Value v = eval(S, &c, st->value);
            if (v.kind == V_OPTIM) tr->optim = v.optim;
            else if (v.kind != V_ERROR) {
                diag(DIAG_ERROR, st->value->span, "optimizer must be sgd(...) or adam(...), not %s", vkind_name(v.kind));
                ok = false;
            } else ok = false;
        } else if (st->kind == AST_SETTING || st->kind == AST_ASSIGN) {   /* batch = 64, or `shuffle` */
            int64_t v;
            if (!strcmp(st->name, "batch")) { if (setting_int(st, 1, &v)) tr->batch = v; else ok = false; }
            else if (!strcmp(st->name, "epochs")) { if (setting_int(st, 1, &v)) tr->epochs = v; else ok = false; }
            else if (!strcmp(st->name, "seed")) { if (setting_int(st, 0, &v)) tr->seed = v; else ok = false; }
            else if (!strcmp(st->name, "checkpoint")) {
                if (st->value && st->value->kind == AST_STR && st->value->str[0]) tr->checkpoint = st->value->str;
                else { diag(DIAG_ERROR, st->value ? st->value->span : st->span, "`checkpoint` takes a file name in quotes"); ok = false; }
            }
            else if (!strcmp(st->name, "warmup")) { if (setting_int(st, 0, &v)) tr->schedule.warmup = v; else ok = false; }
            else if (!strcmp(st->name, "clip_norm")) {
                if (st->value && st->value->kind == AST_NUM && st->value->num > 0) tr->clip_norm = st->value->num;
                else { diag(DIAG_ERROR, st->value ? st->value->span : st->span, "`clip_norm` takes a positive number"); ok = false; }
            } else if (!strcmp(st->name, "schedule")) ok &= schedule_setting(st->value ? st->value : st, &tr->schedule);
            else if (!strcmp(st->name, "shuffle")) {
                if (st->value) { diag(DIAG_ERROR, st->value->span, "`shuffle` takes no value"); ok = false; }
                tr->shuffle = 1;
            } else {
                static const char *const known[] = {"batch", "epochs", "seed", "shuffle", "loss", "optimizer",
                                                    "warmup", "clip_norm", "schedule", "checkpoint", NULL};
                diag(DIAG_ERROR, st->span, "unknown training setting '%s'", st->name);
                Suggest s = {.dist = 99, .target = st->name};
                for (int k = 0; known[k]; k++) suggest(&s, known[k]);
                if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
                ok = false;
            }
        } else if (st->kind == AST_EVALUATE) {
            if (!data_set(S, st->value, &tr->eval, base_dir)) { ok = false; continue; }
            tr->eval_every_epoch = !st->every || !strcmp(st->every, "epoch");
            if (st->every && strcmp(st->every, "epoch")) {
                diag(DIAG_ERROR, st->span, "evaluation runs `every epoch` (for now), not every %s", st->every);
                ok = false;
            }
            for (int k = 0; k < st->list.len; k++) {
                Ast *mn = st->list.items[k];
                static const char *const metrics[] = {"accuracy", "mse", "mae", "loss", "precision", "recall",
                                                      "f1", "auc", "confusion", NULL};
                static const unsigned bits[] = {NNL_METRIC_ACCURACY, NNL_METRIC_MSE, NNL_METRIC_MAE, 0,
                                                NNL_METRIC_PRECISION, NNL_METRIC_RECALL, NNL_METRIC_F1,
                                                NNL_METRIC_AUC, NNL_METRIC_CONFUSION};
                int j = in_list(metrics, mn->name);
                if (j < 0) {
                    diag(DIAG_ERROR, mn->span, "unknown metric '%s' (accuracy, precision, recall, f1, auc, confusion, mse, mae, loss)", mn->name);
                    Suggest sg = {.dist = 99, .target = mn->name};
                    for (int q = 0; metrics[q]; q++) suggest(&sg, metrics[q]);
                    if (sg.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", sg.best);
                    ok = false;
                } else {
                    tr->metrics |= bits[j];
                }
            }
        } else {
            diag(DIAG_ERROR, st->span, "unexpected statement in a train block");
            ok = false;
        }
    }
    if (!ok) return false;
    if (!loss) {
        diag(DIAG_ERROR, t->span, "train block has no loss");
        diag(DIAG_HINT, NNL_NO_SPAN, "e.g. loss = cross_entropy(%s, label)", g->output->name ? g->output->name : "logits");
        return false;
    }
    Node *l = eval_loss(S, loss, env);
    if (!l) return false;
    g->loss = l;
    S->loss_ast = loss;
    /* What the metrics read, from the loss's shape of computation. */
    bool classes = g->label->shape.rank == 1;
    if (classes) tr->task = NNL_TASK_MULTICLASS;
    else if (g->output->shape.rank == 2 && g->output->shape.d[1] == 1 && loss_uses_bce(loss->value)) {
        tr->task = NNL_TASK_BINARY;
        tr->threshold = g->output->op == OP_SIGMOID ? 0.5f : 0.0f;
    } else tr->task = NNL_TASK_REGRESSION;
    if (!tr->metrics) tr->metrics = tr->task == NNL_TASK_REGRESSION ? NNL_METRIC_MSE : NNL_METRIC_ACCURACY;
    unsigned classify = NNL_METRIC_ACCURACY | NNL_METRIC_PRECISION | NNL_METRIC_RECALL | NNL_METRIC_F1 |
                        NNL_METRIC_AUC | NNL_METRIC_CONFUSION;
    if (tr->task == NNL_TASK_REGRESSION && (tr->metrics & classify)) {
        diag(DIAG_ERROR, loss->value->span, "accuracy, precision, recall, f1, auc and confusion need a classification loss (cross_entropy, bce, bce_logits)");
        return false;
    }
    if (tr->task != NNL_TASK_REGRESSION && (tr->metrics & (NNL_METRIC_MSE | NNL_METRIC_MAE))) {
        diag(DIAG_ERROR, loss->value->span, "mse and mae are regression metrics; this loss classifies");
        return false;
    }
    if (tr->task == NNL_TASK_MULTICLASS && (tr->metrics & NNL_METRIC_AUC)) {
        diag(DIAG_ERROR, loss->value->span, "auc is for binary outputs (bce, bce_logits)");
        return false;
    }
    g->seg_end[SEG_LOSS] = g->nodes.len;
    g->has_train = true;
    return true;
}

/* ----- the program ----- */

static void collect(Sema *S, Ast *prog, PtrVec *defs)
{
    for (int i = 0; i < prog->body.len; i++) {
        Ast *it = prog->body.items[i];
        if (it->kind == AST_LAYER_DEF) {
            Ast *prev = find_def(defs, it->name);
            if (prev) {
                diag(DIAG_ERROR, it->span, "layer %s is defined twice", it->name);
                diag(DIAG_NOTE, prev->span, "first defined here");
                continue;
            }
            vec_push(S->a, defs, it);
        } else if (it->kind == AST_DATA && defs == &S->layer_defs) {
            vec_push(S->a, &S->datas, it);
        }
    }
}

/* The model again in training mode (batch statistics, dropout), with the same
 * parameters, and the loss on its output: what the gradients differentiate. */
static bool build_training_graph(Sema *S, Ast *model)
{
    Graph *g = S->g;
    S->training = true;
    S->ncounters = 0;   /* the same instance names, so the same parameters */
    Env *env = NULL;
    if (!build_model(S, model, &env)) return false;
    g->t_loss = eval_loss(S, S->loss_ast, env);
    if (!g->t_loss) return false;
    g->seg_end[SEG_TLOSS] = g->nodes.len;
    return true;
}

Graph *sema_program(Arena *a, Ast *prog, const SemaOptions *opt)
{
    Sema S0 = {.a = a}, *S = &S0;
    S->g = ir_new_graph(a);
    Graph *g = S->g;
    const char *src = prog->span.file ? prog->span.file->path : "model.nnl";
    g->source = src;
    for (int i = 0; i < prog->body.len; i++) {
        Ast *it = prog->body.items[i];
        if (it->kind != AST_USE) continue;
        if (strcmp(it->name, "std.nn")) {
            diag(DIAG_ERROR, it->span, "unknown module '%s' (the standard library is std.nn)", it->name);
            continue;
        }
        if (S->used_std) continue;
        S->used_std = true;
    }
    /* stdlib layers: loaded always, visible after `use std.nn` (hints otherwise) */
    if (opt->stdlib_dir) {
        const char *path = arena_printf(a, "%s/nn.nnl", opt->stdlib_dir);
        FILE *probe = fopen(path, "r");
        if (probe) {
            fclose(probe);
            SrcFile *f = src_read(a, path);
            if (f) collect(S, parse_file(a, f), &S->std_defs);
        } else if (S->used_std) {
            diag(DIAG_ERROR, NNL_NO_SPAN, "cannot find the standard library at %s (set NNL_STDLIB)", path);
        }
    }
    collect(S, prog, &S->layer_defs);
    if (diag_error_count()) return NULL;

    Ast *model = NULL;
    if (opt->model) {
        model = find_item(prog, AST_MODEL, opt->model);
        if (!model) {
            diag(DIAG_ERROR, NNL_NO_SPAN, "%s has no model named '%s'", src, opt->model);
            return NULL;
        }
    } else {
        Ast *t = find_item(prog, AST_TRAIN, NULL);
        if (t) {
            model = find_item(prog, AST_MODEL, t->name);
            if (!model) {
                diag(DIAG_ERROR, t->span, "unknown model '%s'", t->name);
                Suggest s = {.dist = 99, .target = t->name};
                for (int i = 0; i < prog->body.len; i++) {
                    Ast *it = prog->body.items[i];
                    if (it->kind == AST_MODEL) suggest(&s, it->name);
                }
                if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
                return NULL;
            }
        } else {
            int nmodels = 0;
            for (int i = 0; i < prog->body.len; i++) {
                Ast *it = prog->body.items[i];
                if (it->kind == AST_MODEL) { model = it; nmodels++; }
            }
            if (nmodels == 0) { diag(DIAG_ERROR, prog->span, "%s defines no model", src); return NULL; }
            if (nmodels > 1) {
                diag(DIAG_ERROR, model->span, "%s defines several models; choose one with --model NAME", src);
                return NULL;
            }
        }
    }
    g->model_name = model->name;
    g->model_span = model->span;
    Env *env = NULL;
    if (!build_model(S, model, &env)) return NULL;
    g->seg_end[SEG_LOSS] = g->nodes.len;
    /* the directory of the .nnl file: relative data paths resolve against it */
    char *dir = arena_strdup(a, src);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0; else dir = ".";
    char *real = realpath(dir, NULL);
    const char *base_dir = real ? arena_strdup(a, real) : dir;
    free(real);
    for (int i = 0; i < prog->body.len; i++) {
        Ast *t = prog->body.items[i];
        if (t->kind != AST_TRAIN || strcmp(t->name, model->name)) continue;
        if (g->has_train) {
            diag(DIAG_ERROR, t->span, "model %s has two train blocks", model->name);
            return NULL;
        }
        if (!build_train(S, t, env, base_dir)) return NULL;
    }
    if (diag_error_count()) return NULL;
    g->t_output = g->output;
    g->t_loss = g->loss;
    if (g->has_train && S->mode_dependent && !build_training_graph(S, model)) return NULL;
    for (int s = SEG_LOSS; s < SEG_COUNT; s++)   /* empty segments end where the last did */
        if (g->seg_end[s] < g->seg_end[s - 1]) g->seg_end[s] = g->seg_end[s - 1];
    return g;
}
