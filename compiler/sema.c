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
#include <unistd.h>

#include "sema.h"

/* ----- names ----- */


int in_list(const char *const *list, const char *s)
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


void suggest(Suggest *s, const char *cand)
{
    int d = edit_distance(s->target, cand);
    int limit = strlen(s->target) <= 3 ? 1 : 2;
    if (d <= limit && d < s->dist) { s->dist = d; s->best = cand; }
}

Ast *find_def(PtrVec *defs, const char *name)
{
    for (int i = 0; i < defs->len; i++) {
        Ast *d = defs->items[i];
        if (!strcmp(d->name, name)) return d;
    }
    return NULL;
}

Env *env_bind(Sema *S, Env *env, const char *name, Value v, Span at)
{
    Env *e = arena_alloc(S->a, sizeof *e);
    e->name = name;
    e->v = v;
    e->span = at;
    e->next = env;
    return e;
}

Env *env_find(Env *env, const char *name)
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
    for (int i = 0; seq_builtins[i]; i++) suggest(&s, seq_builtins[i]);
    for (int i = 0; init_names[i]; i++) suggest(&s, init_names[i]);
    if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
    else if (!S->used_std && find_def(&S->std_defs, name))
        diag(DIAG_HINT, NNL_NO_SPAN, "'%s' is in the standard library: add `use std.nn`", name);
}

/* ----- values ----- */

static Value apply_layer(Sema *S, LayerInst *li, Node *x, Span at);
static Value instantiate(Sema *S, Ctx *c, Ast *def, PtrVec *args, Span at, const char *bind_name);

Value vnum(double x, bool is_int) { return (Value){.kind = V_NUM, .num = x, .is_int = is_int}; }
bool is_whole(double x) { return x >= -0x1p53 && x <= 0x1p53 && x == floor(x); }
Value vtensor(Node *n) { return n ? (Value){.kind = V_TENSOR, .t = n} : verror; }

const char *vkind_name(VKind k)
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
Node *as_tensor(Sema *S, Value v, Span at, const char *what)
{
    if (v.kind == V_TENSOR) return v.t;
    if (v.kind == V_NUM) return ir_const(S->g, v.num, at);
    if (v.kind != V_ERROR)
        diag(DIAG_ERROR, at, "%s must be a tensor, not %s", what, vkind_name(v.kind));
    return NULL;
}

Value sema_eval(Sema *S, Ctx *c, Ast *e)
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
        /* scan is not suggested for misspelt names: it only makes sense before a step */
        if (in_list(unary_builtins, e->name) >= 0 || in_list(other_builtins, e->name) >= 0 ||
            in_list(seq_builtins, e->name) >= 0 || !strcmp(e->name, "scan"))
            return (Value){.kind = V_BUILTIN, .str = e->name};
        int k = in_list(init_names, e->name);
        if (k >= 0) return (Value){.kind = V_INIT, .init = init_kinds[k]};
        unknown_name(S, c->env, e->name, e->span);
        return verror;
    }
    case AST_CALL: {
        Value f = sema_eval(S, c, e->lhs);
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
            Node *x = as_tensor(S, sema_eval(S, c, arg), arg->span, "a layer's input");
            return x ? apply_layer(S, f.inst, x, e->span) : verror;
        }
        default:
            diag(DIAG_ERROR, e->lhs->span, "%s cannot be called", vkind_name(f.kind));
            return verror;
        }
    }
    case AST_BINARY: {
        Value l = sema_eval(S, c, e->lhs), r = sema_eval(S, c, e->rhs);
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
        if (e->op == '@' && a->shape.rank >= 3 && b->shape.rank >= 3)   /* batches of matrices */
            return vtensor(ir_bmm(g, a, b, 0, 0, e->span));
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
        Value v = sema_eval(S, c, e->lhs ? e->lhs : e->value);
        if (v.kind == V_ERROR) return verror;
        if (v.kind == V_NUM) return vnum(-v.num, v.is_int);
        Node *x = as_tensor(S, v, e->span, "the operand of '-'");
        return x ? vtensor(ir_unary(g, OP_NEG, x, e->span)) : verror;
    }
    case AST_FIELD: {   /* layer.param: a parameter of an applied layer instance */
        Value l = sema_eval(S, c, e->lhs);
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
    case AST_LAMBDA: return sema_scan(S, c, e);
    case AST_INDEX: return sema_index(S, c, e);
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
    bool seen = false;
    for (int i = 0; i < S->used_defs.len && !seen; i++) seen = S->used_defs.items[i] == def;
    if (!seen) vec_push(S->a, &S->used_defs, def);
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
        Value v = sema_eval(S, c, arg->value);
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
            bound[j] = sema_eval(S, &dc, pd->value);
            where[j] = pd->value->span;
            if (bound[j].kind == V_ERROR) { ok = false; continue; }
        }
        const char *ty = pd->type_name;
        if (!ty && have[j] && pd->value && bound[j].kind != V_INIT) {
            /* untyped, with an initializer as default (init = glorot_uniform): the
             * argument must be one too, said here rather than at the param it reaches */
            Ctx dc = {0};
            if (sema_eval(S, &dc, pd->value).kind == V_INIT) {
                diag(DIAG_ERROR, where[j], "argument '%s' of %s must be an initializer (zeros, glorot_uniform, "
                     "normal(std: 0.1), ...), not %s", pd->name, def->name, vkind_name(bound[j].kind));
                diag(DIAG_NOTE, pd->span, "'%s' is declared here", pd->name);
                ok = false;
            }
        }
        if (ty) {
            Value v = bound[j];
            bool good = !strcmp(ty, "int") ? v.kind == V_NUM && is_whole(v.num)
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
        /* a given argument's span is where the caller wrote it: errors about its value
         * inside the layer (a scan's initial state) point there */
        env = env_bind(S, env, pd->name, bound[j], have[j] ? where[j] : pd->span);
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
            if (d->num) n += snprintf(buf + n, sizeof buf - n, "%g * ", d->num);
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
            if (d->num && (!is_whole(d->num) || d->num < 1 || d->num > 0x1p40)) {   /* 4 * units */
                diag(DIAG_ERROR, d->span, "a dimension must be a positive integer");
                return false;
            }
            int64_t factor = d->num ? (int64_t)d->num : 1;
            if (b && b->v.kind == V_NUM) {
                if (b->v.num * factor != actual) fits = false;
            } else if (b) {
                diag(DIAG_ERROR, d->span, "'%s' is %s, not a dimension", d->name, vkind_name(b->v.kind));
                return false;
            } else if (actual % factor) {
                fits = false;
            } else {
                *env = env_bind(S, *env, d->name, vnum(actual / factor, true), d->span);
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
            if (b->v.kind != V_NUM || !is_whole(b->v.num) || b->v.num < 1 || b->v.num > 0x1p40) {
                diag(DIAG_ERROR, d->span, "dimension '%s' must be a positive integer, not %s",
                     d->name, b->v.kind == V_NUM ? "a fraction" : vkind_name(b->v.kind));
                return false;
            }
            v = b->v.num * (d->num ? d->num : 1);   /* 4 * units */
        } else {
            if (!is_whole(d->num) || d->num < 1 || d->num > 0x1p40) {
                diag(DIAG_ERROR, d->span, "a dimension must be a positive integer");
                return false;
            }
            v = (int64_t)d->num;
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
    if (fwd->value) return sema_eval(S, c, fwd->value);
    for (int i = 0; i < fwd->list.len; i++) {
        Ast *st = fwd->list.items[i];
        if (st->kind == AST_LET) {
            Value v = sema_eval(S, c, st->value);
            if (v.kind == V_ERROR) return verror;
            c->env = env_bind(S, c->env, st->name, v, st->span);
        } else if (st->kind == AST_RETURN) {
            if (!st->value) {
                diag(DIAG_ERROR, st->span, "a forward returns one tensor; several values are the states of a scan's step");
                return verror;
            }
            return sema_eval(S, c, st->value);
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
            Value init = sema_eval(S, &ic, st->value);
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
            bool named_call = e->kind == AST_CALL && e->lhs->kind == AST_NAME;
            Value f = named_call ? sema_eval(S, &lc, e->lhs) : verror;
            li->lets[j] = f.kind == V_LAYERDEF
                ? instantiate(S, &lc, f.def, &e->list, e->span, arena_printf(S->a, "%s.%s", li->name, st->name))
                : named_call && f.kind == V_ERROR ? f   /* reported once */
                : sema_eval(S, &lc, e);
            if (li->lets[j].kind == V_ERROR) return verror;
        }
        env = env_bind(S, env, st->name, li->lets[j++], st->span);
    }
    li->applied = true;
    env = env_bind(S, env, fwd->name, vtensor(x), fwd->span);
    Ctx c = {.env = env};
    Applying app = {.li = li, .at = at, .up = S->applying};
    S->applying = &app;
    S->depth++;
    LayerInst *outer = S->layer;
    S->layer = li;
    Value r = eval_body(S, &c, fwd);
    S->layer = outer;
    S->depth--;
    S->applying = app.up;
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

/* fn(x) for a builtin named bare in `layers` (flatten, gelu): x bound to a hidden name. */
static Value call_on(Sema *S, Ctx *c, const char *fn, Value x, Span at)
{
    Ctx fc = *c;
    fc.env = env_bind(S, fc.env, "$x", x, at);
    Ast call = {.kind = AST_CALL, .span = at};
    Ast arg = {.kind = AST_ARG, .span = at};
    Ast nm = {.kind = AST_NAME, .span = at, .name = "$x"};
    arg.value = &nm;
    vec_push(S->a, &call.list, &arg);
    return call_builtin(S, &fc, fn, &call);
}

/* One entry of `layers { ... }`: a layer (instantiated, then applied) or a function,
 * then activations. */
static Value layer_entry(Sema *S, Ctx *c, Ast *en, Value cur)
{
    Ast *lv = en->value;
    Node *x = cur.t;
    Value f = sema_eval(S, c, lv->kind == AST_CALL ? lv->lhs : lv);
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
    } else if (f.kind == V_BUILTIN && lv->kind == AST_NAME && (!strcmp(f.str, "flatten") || !strcmp(f.str, "gelu"))) {
        r = call_on(S, c, f.str, cur, lv->span);
    } else {
        diag(DIAG_ERROR, lv->span, "a `layers` entry must be a layer or an activation, not %s",
             vkind_name(f.kind));
        return verror;
    }
    for (int i = 0; r.kind == V_TENSOR && i < en->list.len; i++) {
        Ast *act = en->list.items[i];
        int k = in_list(unary_builtins, act->name);
        if (k < 0 && !strcmp(act->name, "gelu")) {
            r = call_on(S, c, "gelu", r, act->span);
            continue;
        }
        if (k < 0) {
            diag(DIAG_ERROR, act->span, "unknown activation '%s'", act->name);
            Suggest s = {.dist = 99, .target = act->name};
            for (int j = 0; unary_builtins[j]; j++) suggest(&s, unary_builtins[j]);
            suggest(&s, "gelu");
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
    S->out_name = outd->name;
    if (!g->input) g->input = model_input(S, in);
    if (!g->input) return false;
    g->input->name = in->name;
    Ctx c = {0};
    c.env = env_bind(S, NULL, in->name, vtensor(g->input), in->span);
    Value cur = vtensor(g->input);
    bool have_out = false, failed = false;   /* after an error, go on to find the next one */
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
        case AST_PARAM: {   /* a bad parameter is bound to an error: its uses stay quiet */
            Shape s;
            Node *p = NULL;
            if (eval_dims(S, st->type, c.env, &s)) {
                Value init = sema_eval(S, &c, st->value);
                p = make_param(S, st->name, s, init, st->span);
            }
            failed |= !p;
            c.env = env_bind(S, c.env, st->name, p ? vtensor(p) : verror, st->span);
            break;
        }
        case AST_LET: {
            Value v;
            Ast *e = st->value;
            /* let enc = Dense(10): the instance takes the name it is bound to */
            if (e->kind == AST_CALL && e->lhs->kind == AST_NAME) {
                Value f = sema_eval(S, &c, e->lhs);
                if (f.kind == V_LAYERDEF) v = instantiate(S, &c, f.def, &e->list, e->span, st->name);
                else if (f.kind == V_ERROR) v = f;   /* reported once, not again by the call */
                else v = sema_eval(S, &c, e);
            } else {
                v = sema_eval(S, &c, e);
            }
            failed |= v.kind == V_ERROR;
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
            cur = sema_eval(S, &c, st->value);
            if (cur.kind == V_NUM) cur = vtensor(ir_const(g, cur.num, st->span));
            if (cur.kind != V_TENSOR) {
                if (cur.kind != V_ERROR)
                    diag(DIAG_ERROR, st->value->span, "the output must be a tensor, not %s", vkind_name(cur.kind));
                return false;
            }
            if (failed) return false;
            have_out = true;
            out_span = st->value->span;
            break;
        default: break;
        }
    }
    if (failed) return false;
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

/* path without `..` and, under the working directory, relative to it: messages that
 * point into the stdlib read stdlib/nn.nnl:6:13, not /usr/.../bin/../stdlib/nn.nnl. */
static const char *short_path(Arena *a, const char *path)
{
    char *real = realpath(path, NULL), cwd[4096];
    if (!real) return path;
    const char *p = arena_strdup(a, real);
    free(real);
    size_t n = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (n > 1 && !strncmp(p, cwd, n) && p[n] == '/') p += n + 1;
    return p;
}

/* A layer the file defines and nothing applies is likely a mistake: a warning
 * (-Werror: an error). Other models of the same file may use it, so only layers that no
 * model of the file names are reported. */
static void warn_unused_layers(Sema *S)
{
    for (int i = 0; i < S->layer_defs.len; i++) {
        Ast *def = S->layer_defs.items[i];
        bool used = false;
        for (int k = 0; k < S->used_defs.len && !used; k++) used = S->used_defs.items[k] == def;
        if (!used) diag(DIAG_WARNING, def->span, "layer '%s' is defined but never used", def->name);
    }
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
        const char *path = short_path(a, arena_printf(a, "%s/nn.nnl", opt->stdlib_dir));
        FILE *probe = fopen(path, "r");
        if (probe) {
            fclose(probe);
            SrcFile *f = src_read(a, path);
            if (f) f->path = "stdlib/nn.nnl";   /* diagnostics: the same on every machine */
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
    warn_unused_layers(S);
    g->t_output = g->output;
    g->t_loss = g->loss;
    if (g->has_train && S->mode_dependent && !build_training_graph(S, model)) return NULL;
    for (int s = SEG_LOSS; s < SEG_COUNT; s++)   /* empty segments end where the last did */
        if (g->seg_end[s] < g->seg_end[s - 1]) g->seg_end[s] = g->seg_end[s - 1];
    return g;
}
