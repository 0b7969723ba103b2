/* sema_scan.c — the recurrence. In: `scan(xs, s1, ..., sk) (x, h1, ..., hk) => step`
 * (an AST_LAMBDA) and the caller's environment. Out: forward nodes: the step evaluated
 * once per time step with the same parameters, x the step's slice of xs (TAKE), the
 * sequence of the first state stacked (one STACK node, linear in T) or only its final
 * value. Autodiff then sees plain primitives, so backpropagation through time is its
 * ordinary reverse sweep and the memory plan keeps each step's activations alive until
 * the backward step that reads them. The construct hides the unrolling: a region op
 * with a loop in generated code can replace it here without changing the language. */
#include <string.h>

#include "sema.h"

#define MAX_STATES 8

/* A step parameter: `h` or `h: f32[B, units]`. */
typedef struct StepParam {
    const char *name;
    Span span;
    Ast *type;               /* the AST_INDEX f32[...], or NULL */
} StepParam;

static bool step_params(Ast *call, StepParam *out, int *n)
{
    *n = 0;
    for (int i = 0; i < call->list.len; i++) {
        Ast *arg = call->list.items[i];
        Ast *v = arg->value;
        if (*n == MAX_STATES + 1) {
            diag(DIAG_ERROR, arg->span, "a scan carries at most %d states", MAX_STATES);
            return false;
        }
        StepParam *p = &out[(*n)++];
        p->span = arg->span;
        p->type = NULL;
        if (!arg->name && v->kind == AST_NAME) {
            p->name = v->name;
        } else if (arg->name && v->kind == AST_INDEX && v->lhs->kind == AST_NAME &&
                   !strcmp(v->lhs->name, "f32")) {
            p->name = arg->name;
            p->type = v;
        } else {
            diag(DIAG_ERROR, arg->span, "a step's parameter is a name, or a name and a type: h: f32[B, units]");
            return false;
        }
    }
    return true;
}

/* The declared shape of a typed state, f32[B, d1, ...]: B first, then numbers or names
 * bound to integers. Its text, with names shown as `units=128`, goes to *text. */
static bool state_shape(Sema *S, Env *env, Ast *type, Shape *out, const char **text)
{
    char buf[256];
    int len = snprintf(buf, sizeof buf, "f32[");
    Shape s = {.batched = true, .rank = 1, .d = {-1}};
    bool ok = type->list.len >= 1 && type->list.len <= NNL_MAX_RANK;
    for (int i = 0; ok && i < type->list.len; i++) {
        Ast *arg = type->list.items[i], *d = arg->value;
        int64_t v = -1;
        if (arg->name || !d) ok = false;   /* (no value: a slice such as f32[:, 5]) */
        else if (i == 0) ok = d->kind == AST_NAME && !strcmp(d->name, "B");
        else if (d->kind == AST_NUM && d->is_int && d->num >= 1 && d->num <= 0x1p40) v = (int64_t)d->num;
        else if (d->kind == AST_NAME) {
            Env *b = env_find(env, d->name);
            if (!b || b->v.kind != V_NUM || !is_whole(b->v.num) || b->v.num < 1 || b->v.num > 0x1p40) {
                if (!b) diag(DIAG_ERROR, d->span, "unknown dimension '%s'", d->name);
                else diag(DIAG_ERROR, d->span, "dimension '%s' must be a positive integer, not %s",
                          d->name, b->v.kind == V_NUM ? "a fraction" : vkind_name(b->v.kind));
                return false;
            }
            v = (int64_t)b->v.num;
        } else ok = false;
        if (!ok) break;
        if (i == 0) len += snprintf(buf + len, sizeof buf - len, "B");
        else if (d->kind == AST_NAME) len += snprintf(buf + len, sizeof buf - len, ", %s=%lld", d->name, (long long)v);
        else len += snprintf(buf + len, sizeof buf - len, ", %lld", (long long)v);
        if (i > 0) s.d[s.rank++] = v;
        if (len > 200) break;
    }
    if (!ok) {
        diag(DIAG_ERROR, type->span, "a state's type is f32[B, ...]: the batch B, then sizes");
        return false;
    }
    snprintf(buf + len, sizeof buf - len, "]");
    *out = s;
    *text = arena_strdup(S->a, buf);
    return true;
}

/* 0 or 1 for the flags sequences: and reverse: */
static bool flag(Ast *arg, Value v, bool *out)
{
    if (v.kind != V_NUM || (v.num != 0 && v.num != 1)) {
        diag(DIAG_ERROR, arg->span, "scan's '%s' is 0 or 1", arg->name);
        return false;
    }
    *out = v.num != 0;
    return true;
}

/* One evaluation of the step; the new states in next[]. */
static bool run_step(Sema *S, Env *env, Ast *lam, int nstates, Value *next, Span *where)
{
    Ctx c = {.env = env};
    if (lam->value) {
        if (nstates != 1) {
            diag(DIAG_ERROR, lam->value->span, "a step with %d states returns them all: => { ...; return h, c }", nstates);
            return false;
        }
        next[0] = sema_eval(S, &c, lam->value);
        where[0] = lam->value->span;
        return next[0].kind != V_ERROR;
    }
    for (int i = 0; i < lam->list.len; i++) {
        Ast *st = lam->list.items[i];
        if (st->kind == AST_LET) {
            Value v = sema_eval(S, &c, st->value);
            if (v.kind == V_ERROR) return false;
            c.env = env_bind(S, c.env, st->name, v, st->span);
            continue;
        }
        int n = st->list.len ? st->list.len : 1;
        if (n != nstates) {
            diag(DIAG_ERROR, st->span, "the step returns %d value%s, but the scan carries %d state%s", n,
                 n == 1 ? "" : "s", nstates, nstates == 1 ? "" : "s");
            return false;
        }
        for (int k = 0; k < n; k++) {
            Ast *e = st->list.len ? st->list.items[k] : st->value;
            next[k] = sema_eval(S, &c, e);
            where[k] = e->span;
            if (next[k].kind == V_ERROR) return false;
        }
        return true;
    }
    diag(DIAG_ERROR, lam->span, "this step has no `return`");
    return false;
}

Value sema_scan(Sema *S, Ctx *c, Ast *lam)
{
    Graph *g = S->g;
    Ast *pcall = lam->lhs, *scall = pcall->kind == AST_CALL ? pcall->lhs : NULL;
    if (!scall || scall->kind != AST_CALL || scall->lhs->kind != AST_NAME || strcmp(scall->lhs->name, "scan")) {
        diag(DIAG_ERROR, lam->span, "'=>' gives a scan its step, as in scan(xs, h0) (x, h) => tanh(x + h @ W)");
        return verror;
    }
    StepParam params[MAX_STATES + 1];
    int nparams;
    if (!step_params(pcall, params, &nparams)) return verror;

    /* scan(xs, s1, ..., sequences: 1, reverse: 0) */
    Node *xs = NULL;
    Value init[MAX_STATES];
    Ast *init_ast[MAX_STATES];
    int nstates = 0;
    bool sequences = true, reverse = false, ok = true;
    for (int i = 0; i < scall->list.len; i++) {
        Ast *arg = scall->list.items[i];
        Value v = sema_eval(S, c, arg->value);
        if (v.kind == V_ERROR) { ok = false; continue; }
        if (arg->name) {
            if (!strcmp(arg->name, "sequences")) ok &= flag(arg, v, &sequences);
            else if (!strcmp(arg->name, "reverse")) ok &= flag(arg, v, &reverse);
            else {
                diag(DIAG_ERROR, arg->span, "scan has no argument '%s' (sequences, reverse)", arg->name);
                ok = false;
            }
        } else if (!xs && i == 0) {
            xs = as_tensor(S, v, arg->span, "scan's sequence");
            if (!xs) { ok = false; continue; }
            if (!xs->shape.batched || xs->shape.rank < 3) {
                diag(DIAG_ERROR, arg->span, "scan runs over a sequence f32[B, T, ...] (batch, time, features), not %s",
                     shape_str(S->a, xs->shape));
                ok = false;
            }
        } else if (nstates == MAX_STATES) {
            diag(DIAG_ERROR, arg->span, "a scan carries at most %d states", MAX_STATES);
            return verror;
        } else {
            init[nstates] = v;
            init_ast[nstates++] = arg;
        }
    }
    if (!ok) return verror;
    if (!xs || nstates == 0) {
        diag(DIAG_ERROR, scall->span, "scan needs a sequence and at least one initial state: scan(xs, h0)");
        return verror;
    }
    if (nparams != nstates + 1) {
        diag(DIAG_ERROR, pcall->span, "the step takes the sequence's step and %d state%s, so %d parameters, not %d",
             nstates, nstates == 1 ? "" : "s", nstates + 1, nparams);
        return verror;
    }
    if (params[0].type) {
        diag(DIAG_ERROR, params[0].span, "the step's first parameter is the sequence's step; it takes no type");
        return verror;
    }

    /* The initial states, checked against the declared types. */
    Node *state[MAX_STATES];
    for (int k = 0; k < nstates; k++) {
        StepParam *p = &params[k + 1];
        Shape decl;
        const char *text = NULL;
        if (p->type && !state_shape(S, c->env, p->type, &decl, &text)) return verror;
        Value v = init[k];
        if (v.kind == V_NUM) {
            if (!p->type) {
                diag(DIAG_ERROR, init_ast[k]->span, "a number as the initial state needs the state's type, as in (x, %s: f32[B, 64])",
                     p->name);
                return verror;
            }
            state[k] = ir_expand(g, ir_const(g, v.num, init_ast[k]->span), shape_scalar(), decl, 1, false,
                                 init_ast[k]->span);
            continue;
        }
        state[k] = as_tensor(S, v, init_ast[k]->span, "an initial state");
        if (!state[k]) return verror;
        if (p->type && !shape_eq(state[k]->shape, decl)) {
            /* A layer's argument (LSTM(128, h0: enc)): the caller's mistake, said there. */
            Ast *iv = init_ast[k]->value;
            Env *b = iv->kind == AST_NAME ? env_find(c->env, iv->name) : NULL;
            if (S->layer && b && b->span.file && b->span.file != init_ast[k]->span.file) {
                diag(DIAG_ERROR, b->span, "%s (%s) carries a state '%s' of %s, but its initial value '%s' is %s",
                     S->layer->def->name, S->layer->name, p->name, text, iv->name,
                     shape_str(S->a, state[k]->shape));
                return verror;
            }
            diag(DIAG_ERROR, init_ast[k]->span, "the initial state '%s' is %s, but the step declares %s",
                 p->name, shape_str(S->a, state[k]->shape), text);
            diag(DIAG_NOTE, p->type->span, "'%s' declared here", p->name);
            return verror;
        }
        if (state[k]->op == OP_CONST)
            state[k] = ir_expand(g, state[k], shape_scalar(), state[k]->shape, 1, false, init_ast[k]->span);
    }

    /* The steps, in time order (or reversed); the first state's values are the output. */
    int64_t T = xs->shape.d[1];
    Node **outs = arena_alloc(S->a, (T + 1) * sizeof *outs);
    for (int64_t i = 0; i < T; i++) {
        int64_t t = reverse ? T - 1 - i : i;
        Env *env = env_bind(S, c->env, params[0].name, vtensor(ir_take(g, xs, 1, t, lam->span)), params[0].span);
        for (int k = 0; k < nstates; k++)
            env = env_bind(S, env, params[k + 1].name, vtensor(state[k]), params[k + 1].span);
        Value next[MAX_STATES];
        Span where[MAX_STATES];
        if (!run_step(S, env, lam, nstates, next, where)) return verror;
        for (int k = 0; k < nstates; k++) {
            Node *n = as_tensor(S, next[k], where[k], "a state");
            if (!n) return verror;
            if (!shape_eq(n->shape, state[k]->shape)) {
                diag(DIAG_ERROR, where[k], "the step returns %s for the state '%s', which is %s",
                     shape_str(S->a, n->shape), params[k + 1].name, shape_str(S->a, state[k]->shape));
                diag(DIAG_NOTE, init_ast[k]->span, "the initial state is %s", shape_str(S->a, state[k]->shape));
                return verror;
            }
            state[k] = n;
        }
        outs[t] = state[0];
    }
    if (!sequences) return vtensor(state[0]);
    return vtensor(ir_stack(g, outs, (int)T, 1, false, lam->span));
}
