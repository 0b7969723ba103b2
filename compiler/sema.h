/* sema.h — what the parts of sema share: values, environments, layer instances and the
 * checker's state. sema.c: names, expressions, layers, the model and the program;
 * sema_builtins.c: the builtin functions (primitives, losses, optimizers,
 * initializers, data sources); sema_scan.c: the recurrence; sema_train.c: data blocks and
 * the train block. */
#ifndef NNL_SEMA_H
#define NNL_SEMA_H

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

/* A layer application in progress: errors inside stdlib layers point back at the
 * user's line through this chain. */
typedef struct Applying {
    LayerInst *li;
    Span at;
    struct Applying *up;
} Applying;

typedef struct Sema {
    Arena *a;
    Graph *g;
    PtrVec layer_defs;       /* AST_LAYER_DEF visible to the program */
    PtrVec std_defs;         /* stdlib layers, visible after `use std.nn` */
    PtrVec datas;            /* AST_DATA */
    bool used_std;
    int depth;               /* layer application nesting, against recursion */
    const char *out_name;    /* the model's output, as declared: `output logits: ...` */
    PtrVec used_defs;        /* AST_LAYER_DEFs instantiated at least once */
    LayerInst *layer;        /* the layer whose forward is being evaluated, or NULL */
    struct { const char *name; int count; } counters[64];
    int ncounters;
    bool training;           /* building the training graph: batch statistics, dropout */
    bool mode_dependent;     /* the model has layers that train differently, or whose
                                training forward computes more (gelu: its derivative,
                                compiler/remat.c precompute_derivatives) */
    int ndropout;            /* dropout streams handed out */
    Ast *loss_ast;           /* the train block's `loss = ...` */
    struct Applying *applying;   /* the layers being applied, innermost first */
} Sema;

static const Value verror = {.kind = V_ERROR};

typedef struct Ctx {
    Env *env;
    bool loss;               /* inside a train block's loss: `label` is visible */
} Ctx;

typedef struct Args {
    int n;
    Ast *ast[16];
    Value v[16];
    const char *name[16];
} Args;


typedef struct Suggest { const char *best; int dist; const char *target; } Suggest;

/* sema.c */
int in_list(const char *const *list, const char *s);   /* index of s in a NULL-ended list, or -1 */
void suggest(Suggest *s, const char *cand);
Ast *find_def(PtrVec *defs, const char *name);
Env *env_bind(Sema *S, Env *env, const char *name, Value v, Span at);
Env *env_find(Env *env, const char *name);
Value vnum(double x, bool is_int);
bool is_whole(double x);   /* a finite integer within +-2^53, so casting it is defined */
Value vtensor(Node *n);
const char *vkind_name(VKind k);
Node *as_tensor(Sema *S, Value v, Span at, const char *what);
Value sema_eval(Sema *S, Ctx *c, Ast *e);

/* sema_builtins.c */
extern const char *const unary_builtins[], *const other_builtins[], *const optimizer_names[],
                  *const init_names[];
extern const Op unary_ops[];
extern const int init_kinds[];
Value call_builtin(Sema *S, Ctx *c, const char *fn, Ast *call);
Node *mean_all(Sema *S, Node *x, Span at);
/* argument helpers, shared with sema_seq.c */
Value *arg_get(Args *a, int pos, const char *name, Ast **where);
bool args_check_names(Args *a, const char *fn, const char *const *names, int maxpos);
bool get_num(Value *v, Ast *where, const char *what, double *out);
Node *need_tensor_arg(Sema *S, Args *a, int pos, const char *fn, Span at);
int norm_axis(Sema *S, Node *x, double ax, Ast *where, const char *fn);
int64_t int_arg(Args *a, int pos, const char *name, const char *fn, int64_t lo, int64_t dflt);
bool num_arg(Args *a, int pos, const char *name, const char *fn, double lo, double hi, double *out);

/* sema_seq.c */
extern const char *const seq_builtins[];
Value call_seq_builtin(Sema *S, Args *a, const char *fn, Span at);
Node *causal_mask(Sema *S, Node *x, Span at);
bool causal_scores(Sema *S, Node *x, Span at);   /* x is f32[..., T, T], else a diagnostic */
Value sema_index(Sema *S, Ctx *c, Ast *e);

/* sema_scan.c */
Value sema_scan(Sema *S, Ctx *c, Ast *lam);

/* sema_train.c */
bool build_train(Sema *S, Ast *t, Env *env, const char *base_dir);
Node *eval_loss(Sema *S, Ast *loss, Env *env);

#endif
