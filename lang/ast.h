/* ast.h — the front end's one header: source files and spans (diag.c), the token
 * stream (lexer.l), the syntax tree (ast.c, parser.y). In: .nnl text. Out: an AST whose
 * every node carries the span of the source it came from. Names, types and shapes are
 * left to the compiler's sema. */
#ifndef NNL_AST_H
#define NNL_AST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ===== arena.c: bump allocation, freed whole ===== */

typedef struct Arena Arena;
Arena *arena_new(void);
void arena_free(Arena *a);
void *arena_alloc(Arena *a, size_t n);          /* zeroed, 16-byte aligned; aborts on OOM */
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_strdup(Arena *a, const char *s);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable array of pointers, storage in an arena. */
typedef struct PtrVec {
    void **items;
    int len, cap;
} PtrVec;
void vec_push(Arena *a, PtrVec *v, void *item);

/* ===== diag.c: source files, spans, diagnostics ===== */

typedef struct SrcFile {
    const char *path;   /* as given on the command line or resolved by `use` */
    const char *text;   /* whole file, NUL-terminated */
    size_t len;
} SrcFile;

/* A span covers [first, last] inclusive, lines and columns 1-based, columns in bytes. */
typedef struct Span {
    const SrcFile *file;
    int first_line, first_col, last_line, last_col;
} Span;

/* Bison location type: the parser uses Span directly (%define api.location.type). */
#define NNL_NO_SPAN ((Span){0, 0, 0, 0, 0})

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE, DIAG_HINT } DiagKind;

/* `file:line:col: error: msg`, then the source line and `^~~~` under the whole span
 * (first line only when the span covers several). Notes and hints follow the error they
 * explain. Counts errors; never exits. Output goes to diag_stream (stderr by default). */
void diag(DiagKind kind, Span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vdiag(DiagKind kind, Span at, const char *fmt, va_list ap);
int diag_error_count(void);
void diag_reset(void);
extern FILE *diag_stream;
extern bool diag_werror;        /* -Werror: warnings count as errors */
Span span_join(Span a, Span b);  /* from a's first to b's last */

/* Reads a whole file; NULL and a message on stderr when it cannot (the caller decides). */
SrcFile *src_read(Arena *a, const char *path);
SrcFile *src_from_string(Arena *a, const char *name, const char *text);

/* ===== ast.c: the syntax tree ===== */

typedef enum {
    /* expressions */
    AST_NUM,        /* num: 1, 2.5, 1e-3 (is_int says whether written as an integer) */
    AST_STR,        /* str: "train.gz" (escapes decoded) */
    AST_NAME,       /* name: x, relu */
    AST_FIELD,      /* lhs.name: fashion.train, std.nn */
    AST_CALL,       /* callee(args): Dense(10), adam(lr: 1e-3), Dense(10)(x) */
    AST_BINARY,     /* lhs op rhs, op one of + - * / @ */
    AST_UNARY,      /* -operand */
    AST_INDEX,      /* lhs[items]: ARGs, each an expr, a range (op ':', ends in lhs and
                     * rhs, either NULL) or '...' (is_ellipsis) */
    AST_LAMBDA,     /* lhs => value | lhs => { list }: a scan's step; lhs is the call
                     * scan(xs, states...)(params...) */

    /* pieces */
    AST_ARG,        /* name: value, or a positional value (name NULL) */
    AST_TYPE,       /* f32[dims]: elem "f32", dims are AST_DIM */
    AST_DIM,        /* 28 | in | 4 * units (name, num the factor) | ... (is_ellipsis) */
    AST_PARAMDEF,   /* layer argument: name (: type_name)? (= default)? */

    /* statements inside blocks */
    AST_LET,        /* let name = value */
    AST_ASSIGN,     /* name = value   (model output, data set, train loss/optimizer) */
    AST_PARAM,      /* param name: type = init */
    AST_INPUT,      /* input name: type */
    AST_OUTPUT,     /* output name: type (= value)? */
    AST_FORWARD,    /* forward(arg: type) = value | forward(arg: type) { stmts; return value } */
    AST_RETURN,     /* return value | return v1, v2, ... (list: a scan step's states) */
    AST_LAYERS,     /* layers { entries } */
    AST_LAYER_ENTRY,/* Dense(10) relu: value is the layer (NAME or CALL), acts are NAMEs */
    AST_SETTING,    /* batch 64 | shuffle | seed 42 | checkpoint "x" every epoch */
    AST_EVALUATE,   /* evaluate on fashion.test every epoch: accuracy, f1 */

    /* top-level items */
    AST_USE,        /* use std.nn */
    AST_LAYER_DEF,  /* layer Name(params) { param...; forward ... } */
    AST_MODEL,      /* model Name { input; output; layers | let/assign; param } */
    AST_DATA,       /* data name { assign* } */
    AST_TRAIN,      /* train Model (on data.set)? { ... } */
    AST_PROGRAM,    /* the whole file: items */
} AstKind;

typedef struct Ast Ast;
struct Ast {
    AstKind kind;
    Span span;
    const char *name;   /* NAME, FIELD (the field), ARG, DIM, PARAMDEF (its name), LET, ASSIGN,
                         * PARAM, INPUT, OUTPUT, FORWARD (argument name), SETTING (keyword),
                         * USE (dotted path as one string), LAYER_DEF, MODEL, DATA, TRAIN (model
                         * name), TYPE (element type, "f32") */
    const char *type_name; /* PARAMDEF: "int", "float", "str" or NULL when untyped */
    double num;         /* NUM */
    bool is_int;        /* NUM written without '.', 'e' */
    bool is_ellipsis;   /* DIM written as ... */
    const char *str;    /* STR */
    int op;             /* BINARY: '+', '-', '*', '/', '@'; UNARY: '-'; ARG: ':' (a range) */
    Ast *lhs, *rhs;     /* BINARY; FIELD/CALL/INDEX use lhs as the object/callee */
    Ast *value;         /* ARG, PARAMDEF default, LET, ASSIGN, PARAM init, OUTPUT (optional),
                         * FORWARD (expression form), RETURN, LAYER_ENTRY (the layer),
                         * SETTING (optional argument), EVALUATE (the data set, a FIELD) */
    Ast *type;          /* PARAM, INPUT, OUTPUT, FORWARD: an AST_TYPE */
    const char *every;  /* SETTING / EVALUATE: the word after `every` (e.g. "epoch"), or NULL */
    PtrVec list;        /* CALL/INDEX: ARGs; TYPE: DIMs; LAYER_DEF: PARAMDEFs;
                         * LAMBDA (block form): statements; RETURN of several values: them;
                         * LAYER_ENTRY: activation NAMEs; EVALUATE: metric NAMEs;
                         * FORWARD (block form): statements; LAYERS: LAYER_ENTRYs */
    PtrVec body;        /* LAYER_DEF, MODEL, DATA, TRAIN, PROGRAM: statements / items */
    Ast *on;            /* TRAIN: the data set (FIELD or NAME), NULL when absent */
};

Ast *ast_new(Arena *a, AstKind kind, Span span);
const char *ast_kind_name(AstKind k);
/* --emit=ast: an indented tree, one node a line, `kind name/value @line:col`. Stable text. */
void ast_print(FILE *out, const Ast *n);

/* ===== lexer.l / parser.y ===== */

/* Parses one file. Returns the AST_PROGRAM (possibly partial) and reports every syntax
 * error through diag(); the caller checks diag_error_count(). Never NULL. */
Ast *parse_file(Arena *a, const SrcFile *f);
/* --emit=tokens: one token a line, `line:col KIND text`. */
void lex_dump(FILE *out, const SrcFile *f);

/* Nesting deeper than this is a diagnostic, not a stack overflow. */
#define NNL_MAX_NESTING 200

#endif
