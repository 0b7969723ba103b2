/* parser.y — the grammar of NNL. In: tokens from lexer.l (with automatic semicolons
 * already inserted). Out: an AST_PROGRAM whose nodes carry spans, built in the caller's
 * arena. Syntax errors are reported through diag() and parsing resumes at the next
 * statement or item, so one mistake gives one message. Names and shapes: sema. */

%code requires {
#include "ast.h"

/* An open bracket the lexer has seen but not yet matched, for "to close ... opened
 * here" notes and the nesting limit. `word` is the statement's first word (model,
 * layers, forward...) and `name` the name after it, when there is one. */
typedef struct Opener {
    char ch;
    Span at;
    const char *word, *name;
    int word_len;
} Opener;

/* State shared by the lexer and the parser of one file; lives on parse_file's stack. */
typedef struct ParseCtx {
    Arena *arena;
    const SrcFile *file;
    void *scanner;          /* flex's yyscan_t */
    void *lval;             /* where the lexer writes the token's value (YYSTYPE *) */
    Ast *program;

    /* lexer position, all 1-based; pos is the byte offset of the next token */
    int line, col;
    size_t pos;
    Span loc;               /* of the token just scanned */
    Span last;              /* of the last real token (not an automatic ';') */
    bool can_end;           /* the last token may end a statement */
    bool eof_done;          /* end of file reached (and its automatic ';' emitted) */
    bool fatal;             /* nesting limit hit or not a text file: stop, report nothing more */
    int nbad;               /* unexpected characters reported so far */
    bool close_brackets;    /* an unterminated string ate the line: close open ( and [ */
    bool stmt_lex_error;    /* the lexer reported an error in this statement: the parser
                             * stays quiet until the next one */
    Opener open[NNL_MAX_NESTING];
    int nopen, depth;       /* depth: '(' and '[' in open[] (braces do not count) */
    /* A token's effect on open[] and on the statement words is applied when the next
     * token is fetched, so a syntax error at a bracket still sees what it closes. */
    int pend_tok;
    Span pend_at;

    /* the last token handed to the parser, which syntax errors name */
    int tok, prev_tok;
    const char *tok_text;
    int tok_len;
    bool tok_inserted;      /* an automatic ';' */
    bool tok_unmatched;     /* a closer with no opener */

    /* the statement being scanned: its first word and the name after it */
    const char *stmt_word, *stmt_name;
    int stmt_word_len, stmt_ntoks, stmt_tok;
    int stmt_ops;           /* binary operators so far: bounds the depth of the tree */

    /* after a syntax error, the rest of the broken statement is dropped (lex_recover) */
    bool skipping;
    int skip_base;          /* open[] entries that belong to the enclosing blocks */
} ParseCtx;
}

%code provides {
int yylex(YYSTYPE *lval, Span *lloc, ParseCtx *ctx);
void lex_begin(ParseCtx *ctx, Arena *a, const SrcFile *f);
void lex_end(ParseCtx *ctx);
Span lex_eof_span(const ParseCtx *ctx);
/* After a syntax error: forget the '(' and '[' of the broken statement and drop its
 * remaining tokens, brackets balanced, up to the newline, ';' or '}' that ends it. */
void lex_recover(ParseCtx *ctx);
}

%code top {
#include <string.h>
}

%code {
/* A node's span runs from its first child's first byte to its last child's last;
 * an empty rule sits just after what precedes it. */
#define YYLLOC_DEFAULT(cur, rhs, n)                                         \
    do {                                                                    \
        if (n) {                                                            \
            (cur) = span_join(YYRHSLOC(rhs, 1), YYRHSLOC(rhs, n));          \
        } else {                                                            \
            (cur) = YYRHSLOC(rhs, 0);                                       \
            (cur).first_line = (cur).last_line;                             \
            (cur).first_col = (cur).last_col + 1;                           \
            (cur).last_col = (cur).first_col;                               \
        }                                                                   \
    } while (0)

/* Bison's own stack limit: deep expressions (`- - - ... x`, long chains of
 * parentheses) become "nested too deeply", never a crash. */
#define YYMAXDEPTH (NNL_MAX_NESTING * 10)

static void yyerror(Span *loc, ParseCtx *ctx, const char *msg);

static Ast *node(ParseCtx *ctx, AstKind k, Span at)
{
    return ast_new(ctx->arena, k, at);
}

static Ast *named(ParseCtx *ctx, AstKind k, Span at, const char *name)
{
    Ast *n = ast_new(ctx->arena, k, at);
    n->name = name;
    return n;
}

static Ast *binary(ParseCtx *ctx, Span at, int op, Ast *lhs, Ast *rhs)
{
    Ast *n = ast_new(ctx->arena, AST_BINARY, at);
    n->op = op;
    n->lhs = lhs;
    n->rhs = rhs;
    return n;
}

static void push(ParseCtx *ctx, PtrVec *v, Ast *n)
{
    if (n)
        vec_push(ctx->arena, v, n);
}
}

%define api.pure full
%define api.location.type {Span}
%define parse.error custom
%define parse.lac full
%locations
%param {ParseCtx *ctx}
%expect 0

%initial-action {
    @$ = (Span){ctx->file, 1, 1, 1, 0};
}

%union {
    Ast *ast;
    const char *s;
    PtrVec list;
}

%token END 0 "end of file"
%token <s> IDENT "identifier"
%token <ast> NUM "number"
%token <ast> STR "string"
%token USE "use" LAYER "layer" MODEL "model" DATA "data" TRAIN "train"
%token PARAM "param" INPUT "input" OUTPUT "output" FORWARD "forward" LET "let"
%token RETURN "return" LAYERS "layers" EVALUATE "evaluate" ON "on" EVERY "every"
%token ELLIPSIS "..." ARROW "=>"

%precedence ARROW
%left '+' '-'
%left '*' '/' '@'
%precedence UMINUS

%type <ast> item use dotted layer_def paramdef layer_stmt block_stmt type dim
%type <ast> model_def model_stmt entry data_def data_stmt train_def train_stmt
%type <ast> expr postfix primary arg opt_init opt_on opt_arg index_item
%type <ast> opt_layer_stmt opt_block_stmt opt_model_stmt opt_entry opt_data_stmt opt_train_stmt
%type <s> opt_every opt_type_name
%type <list> paramdefs paramdef_list layer_body block_body dims dim_list model_body
%type <list> entries acts data_body train_body args arg_list opt_metrics name_list expr_list index_list

%%

/* program := item*   (separated by ';', empty items fine) */
program
    : item_seq
    ;

item_seq
    : opt_item
    | item_seq ';' opt_item
    ;

/* Items go straight into the program so a parse cut short keeps what it had. */
opt_item
    : %empty
    | item          { push(ctx, &ctx->program->body, $1); }
    | error
    ;

/* item := use | layer_def | model_def | data_def | train_def */
item
    : use
    | layer_def
    | model_def
    | data_def
    | train_def
    ;

/* use := 'use' IDENT ('.' IDENT)* */
use
    : USE dotted    { $$ = $2; $$->span = @$; }
    ;

dotted
    : IDENT             { $$ = named(ctx, AST_USE, @$, $1); }
    | dotted '.' IDENT  { $$ = $1; $$->name = arena_printf(ctx->arena, "%s.%s", $1->name, $3); }
    ;

/* layer_def := 'layer' IDENT '(' [paramdef (',' paramdef)*] ')' '{' layer_stmt* '}' */
layer_def
    : LAYER IDENT '(' paramdefs ')' '{' layer_body '}' {
        $$ = named(ctx, AST_LAYER_DEF, @$, $2);
        $$->list = $4;
        $$->body = $7;
    }
    ;

paramdefs
    : %empty            { $$ = (PtrVec){0}; }
    | paramdef_list
    ;

paramdef_list
    : paramdef                      { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | paramdef_list ',' paramdef    { $$ = $1; push(ctx, &$$, $3); }
    ;

/* paramdef := IDENT [':' IDENT] ['=' expr] */
paramdef
    : IDENT opt_type_name opt_init {
        $$ = named(ctx, AST_PARAMDEF, @$, $1);
        $$->type_name = $2;
        $$->value = $3;
    }
    ;

opt_type_name
    : %empty        { $$ = NULL; }
    | ':' IDENT     { $$ = $2; }
    ;

opt_init
    : %empty        { $$ = NULL; }
    | '=' expr      { $$ = $2; }
    ;

layer_body
    : opt_layer_stmt                { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | layer_body ';' opt_layer_stmt { $$ = $1; push(ctx, &$$, $3); }
    ;

/* An empty statement or one lost to a syntax error is NULL, which push() skips;
 * `error` here resyncs at the next ';' or '}'. */
opt_layer_stmt
    : %empty        { $$ = NULL; }
    | layer_stmt
    | error         { $$ = NULL; }
    ;

/* layer_stmt := 'param' IDENT ':' type '=' expr
 *             | 'forward' '(' IDENT ':' type ')' '=' expr
 *             | 'forward' '(' IDENT ':' type ')' '{' block_stmt* '}'
 *             | 'let' IDENT '=' expr */
layer_stmt
    : PARAM IDENT ':' type '=' expr {
        $$ = named(ctx, AST_PARAM, @$, $2);
        $$->type = $4;
        $$->value = $6;
    }
    | FORWARD '(' IDENT ':' type ')' '=' expr {
        $$ = named(ctx, AST_FORWARD, @$, $3);
        $$->type = $5;
        $$->value = $8;
    }
    | FORWARD '(' IDENT ':' type ')' '{' block_body '}' {
        $$ = named(ctx, AST_FORWARD, @$, $3);
        $$->type = $5;
        $$->list = $8;
    }
    | LET IDENT '=' expr {
        $$ = named(ctx, AST_LET, @$, $2);
        $$->value = $4;
    }
    ;

block_body
    : opt_block_stmt                { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | block_body ';' opt_block_stmt { $$ = $1; push(ctx, &$$, $3); }
    ;

opt_block_stmt
    : %empty        { $$ = NULL; }
    | block_stmt
    | error         { $$ = NULL; }
    ;

/* block_stmt := 'let' IDENT '=' expr | 'return' expr (',' expr)*
 * (several values: the new states of a scan's step) */
block_stmt
    : LET IDENT '=' expr {
        $$ = named(ctx, AST_LET, @$, $2);
        $$->value = $4;
    }
    | RETURN expr_list {
        $$ = node(ctx, AST_RETURN, @$);
        if ($2.len > 1)
            $$->list = $2;
        else
            $$->value = $2.items[0];
    }
    ;

expr_list
    : expr                  { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | expr_list ',' expr    { $$ = $1; push(ctx, &$$, $3); }
    ;

/* type := IDENT '[' [dim (',' dim)*] ']' */
type
    : IDENT '[' dims ']' {
        $$ = named(ctx, AST_TYPE, @$, $1);
        $$->list = $3;
    }
    ;

dims
    : %empty        { $$ = (PtrVec){0}; }
    | dim_list
    ;

dim_list
    : dim               { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | dim_list ',' dim  { $$ = $1; push(ctx, &$$, $3); }
    ;

/* dim := INT | IDENT | INT '*' IDENT | '...'   (4 * units: an LSTM's four gates) */
dim
    : NUM {
        $$ = $1;
        $$->kind = AST_DIM;
        if (!$1->is_int)
            diag(DIAG_ERROR, @1, "a dimension must be a whole number");
    }
    | IDENT         { $$ = named(ctx, AST_DIM, @$, $1); }
    | NUM '*' IDENT {
        $$ = named(ctx, AST_DIM, @$, $3);
        $$->num = $1->num;
        if (!$1->is_int || $1->num < 1)
            diag(DIAG_ERROR, @1, "a dimension's factor must be a positive whole number");
    }
    | ELLIPSIS      { $$ = node(ctx, AST_DIM, @$); $$->is_ellipsis = true; }
    ;

/* model_def := 'model' IDENT '{' model_stmt* '}' */
model_def
    : MODEL IDENT '{' model_body '}' {
        $$ = named(ctx, AST_MODEL, @$, $2);
        $$->body = $4;
    }
    ;

model_body
    : opt_model_stmt                { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | model_body ';' opt_model_stmt { $$ = $1; push(ctx, &$$, $3); }
    ;

opt_model_stmt
    : %empty        { $$ = NULL; }
    | model_stmt
    | error         { $$ = NULL; }
    ;

/* model_stmt := 'input' IDENT ':' type | 'output' IDENT ':' type ['=' expr]
 *             | 'param' IDENT ':' type '=' expr | 'layers' '{' entry* '}'
 *             | 'let' IDENT '=' expr | IDENT '=' expr */
model_stmt
    : INPUT IDENT ':' type {
        $$ = named(ctx, AST_INPUT, @$, $2);
        $$->type = $4;
    }
    | OUTPUT IDENT ':' type opt_init {
        $$ = named(ctx, AST_OUTPUT, @$, $2);
        $$->type = $4;
        $$->value = $5;
    }
    | PARAM IDENT ':' type '=' expr {
        $$ = named(ctx, AST_PARAM, @$, $2);
        $$->type = $4;
        $$->value = $6;
    }
    | LAYERS '{' entries '}' {
        $$ = node(ctx, AST_LAYERS, @$);
        $$->list = $3;
    }
    | LET IDENT '=' expr {
        $$ = named(ctx, AST_LET, @$, $2);
        $$->value = $4;
    }
    | IDENT '=' expr {
        $$ = named(ctx, AST_ASSIGN, @$, $1);
        $$->value = $3;
    }
    ;

entries
    : opt_entry             { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | entries ';' opt_entry { $$ = $1; push(ctx, &$$, $3); }
    ;

opt_entry
    : %empty        { $$ = NULL; }
    | entry
    | error         { $$ = NULL; }
    ;

/* entry := IDENT ['(' args ')'] IDENT*     e.g. `Dense(128) relu`, `Flatten` */
entry
    : IDENT acts {
        $$ = node(ctx, AST_LAYER_ENTRY, @$);
        $$->value = named(ctx, AST_NAME, @1, $1);
        $$->list = $2;
    }
    | IDENT '(' args ')' acts {
        $$ = node(ctx, AST_LAYER_ENTRY, @$);
        $$->value = node(ctx, AST_CALL, span_join(@1, @4));
        $$->value->lhs = named(ctx, AST_NAME, @1, $1);
        $$->value->list = $3;
        $$->list = $5;
    }
    ;

acts
    : %empty        { $$ = (PtrVec){0}; }
    | acts IDENT    { $$ = $1; push(ctx, &$$, named(ctx, AST_NAME, @2, $2)); }
    ;

/* data_def := 'data' IDENT '{' (IDENT '=' expr)* '}' */
data_def
    : DATA IDENT '{' data_body '}' {
        $$ = named(ctx, AST_DATA, @$, $2);
        $$->body = $4;
    }
    ;

data_body
    : opt_data_stmt                 { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | data_body ';' opt_data_stmt   { $$ = $1; push(ctx, &$$, $3); }
    ;

opt_data_stmt
    : %empty        { $$ = NULL; }
    | data_stmt
    | error         { $$ = NULL; }
    ;

data_stmt
    : IDENT '=' expr {
        $$ = named(ctx, AST_ASSIGN, @$, $1);
        $$->value = $3;
    }
    ;

/* train_def := 'train' IDENT ['on' expr] '{' train_stmt* '}' */
train_def
    : TRAIN IDENT opt_on '{' train_body '}' {
        $$ = named(ctx, AST_TRAIN, @$, $2);
        $$->on = $3;
        $$->body = $5;
    }
    ;

opt_on
    : %empty        { $$ = NULL; }
    | ON expr       { $$ = $2; }
    ;

train_body
    : opt_train_stmt                { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | train_body ';' opt_train_stmt { $$ = $1; push(ctx, &$$, $3); }
    ;

opt_train_stmt
    : %empty        { $$ = NULL; }
    | train_stmt
    | error         { $$ = NULL; }
    ;

/* train_stmt := IDENT '=' expr
 *             | IDENT [expr] ['every' IDENT]
 *             | 'evaluate' 'on' expr ['every' IDENT] [':' IDENT (',' IDENT)*] */
train_stmt
    : IDENT '=' expr {
        $$ = named(ctx, AST_ASSIGN, @$, $1);
        $$->value = $3;
    }
    | IDENT opt_arg opt_every {
        $$ = named(ctx, AST_SETTING, @$, $1);
        $$->value = $2;
        $$->every = $3;
    }
    | EVALUATE ON expr opt_every opt_metrics {
        $$ = node(ctx, AST_EVALUATE, @$);
        $$->value = $3;
        $$->every = $4;
        $$->list = $5;
    }
    ;

opt_arg
    : %empty        { $$ = NULL; }
    | expr
    ;

opt_every
    : %empty        { $$ = NULL; }
    | EVERY IDENT   { $$ = $2; }
    ;

opt_metrics
    : %empty        { $$ = (PtrVec){0}; }
    | ':' name_list { $$ = $2; }
    ;

name_list
    : IDENT                 { $$ = (PtrVec){0}; push(ctx, &$$, named(ctx, AST_NAME, @1, $1)); }
    | name_list ',' IDENT   { $$ = $1; push(ctx, &$$, named(ctx, AST_NAME, @3, $3)); }
    ;

/* expr := expr ('+'|'-') expr | expr ('*'|'/'|'@') expr | '-' expr | postfix
 *       | postfix '=>' expr | postfix '=>' '{' block_stmt* '}'
 * The arrow forms are a scan's step: `scan(xs, h0) (x, h) => tanh(x + h @ W)`; the
 * postfix before '=>' is parsed as a call (scan(...) applied to the parameter names)
 * and sema checks that it is one. */
expr
    : postfix ARROW expr {
        $$ = node(ctx, AST_LAMBDA, @$);
        $$->lhs = $1;
        $$->value = $3;
    }
    | postfix ARROW '{' block_body '}' {
        $$ = node(ctx, AST_LAMBDA, @$);
        $$->lhs = $1;
        $$->list = $4;
    }
    | expr '+' expr             { $$ = binary(ctx, @$, '+', $1, $3); }
    | expr '-' expr             { $$ = binary(ctx, @$, '-', $1, $3); }
    | expr '*' expr             { $$ = binary(ctx, @$, '*', $1, $3); }
    | expr '/' expr             { $$ = binary(ctx, @$, '/', $1, $3); }
    | expr '@' expr             { $$ = binary(ctx, @$, '@', $1, $3); }
    | '-' expr %prec UMINUS     { $$ = node(ctx, AST_UNARY, @$); $$->op = '-'; $$->lhs = $2; }
    | postfix
    ;

/* postfix := primary | postfix '(' [arg (',' arg)*] ')' | postfix '.' IDENT
 *          | postfix '[' index_item (',' index_item)* ']' */
postfix
    : primary
    | postfix '(' args ')'  { $$ = node(ctx, AST_CALL, @$); $$->lhs = $1; $$->list = $3; }
    | postfix '.' IDENT     { $$ = named(ctx, AST_FIELD, @$, $3); $$->lhs = $1; }
    | postfix '[' index_list ']' { $$ = node(ctx, AST_INDEX, @$); $$->lhs = $1; $$->list = $3; }
    ;

index_list
    : index_item                { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | index_list ',' index_item { $$ = $1; push(ctx, &$$, $3); }
    ;

/* index_item := expr | [expr] ':' [expr] | '...'   (an ARG; a range has op ':', its
 * ends in lhs and rhs) */
index_item
    : expr              { $$ = node(ctx, AST_ARG, @$); $$->value = $1; }
    | ELLIPSIS          { $$ = node(ctx, AST_ARG, @$); $$->is_ellipsis = true; }
    | ':'               { $$ = node(ctx, AST_ARG, @$); $$->op = ':'; }
    | expr ':'          { $$ = node(ctx, AST_ARG, @$); $$->op = ':'; $$->lhs = $1; }
    | ':' expr          { $$ = node(ctx, AST_ARG, @$); $$->op = ':'; $$->rhs = $2; }
    | expr ':' expr     { $$ = node(ctx, AST_ARG, @$); $$->op = ':'; $$->lhs = $1; $$->rhs = $3; }
    ;

/* primary := NUM | STR | IDENT | '(' expr ')' */
primary
    : NUM
    | STR
    | IDENT                 { $$ = named(ctx, AST_NAME, @$, $1); }
    | '(' expr ')'          { $$ = $2; }
    ;

args
    : %empty        { $$ = (PtrVec){0}; }
    | arg_list
    ;

arg_list
    : arg               { $$ = (PtrVec){0}; push(ctx, &$$, $1); }
    | arg_list ',' arg  { $$ = $1; push(ctx, &$$, $3); }
    ;

/* arg := expr | IDENT ':' expr */
arg
    : expr              { $$ = node(ctx, AST_ARG, @$); $$->value = $1; }
    | IDENT ':' expr    { $$ = named(ctx, AST_ARG, @$, $1); $$->value = $3; }
    ;

%%

/* ---- syntax errors: name tokens the way the user wrote them ---- */

static bool is_keyword(int tok)
{
    return tok >= USE && tok <= EVERY;
}

/* What the parser found: "';'", "identifier 'foo'", "number 12", "end of file". */
static void describe_found(const ParseCtx *ctx, char *buf, size_t n)
{
    int len = ctx->tok_len > 40 ? 40 : ctx->tok_len;
    if (ctx->tok == END || (ctx->tok_inserted && ctx->eof_done))
        snprintf(buf, n, "end of file");
    else if (ctx->tok_inserted)
        snprintf(buf, n, "end of line");
    else if (ctx->tok == IDENT)
        snprintf(buf, n, "identifier '%.*s'", len, ctx->tok_text);
    else if (ctx->tok == NUM)
        snprintf(buf, n, "number %.*s", len, ctx->tok_text);
    else if (ctx->tok == STR)
        snprintf(buf, n, "string");
    else
        snprintf(buf, n, "'%.*s'", len, ctx->tok_text);
}

/* What the parser wanted, by symbol: "identifier", "'use'", "')'". */
static void describe_symbol(yysymbol_kind_t k, char *buf, size_t n)
{
    const char *name = yysymbol_name(k);   /* unquoted, except 'c' for characters */
    if (k == YYSYMBOL_IDENT || k == YYSYMBOL_NUM || k == YYSYMBOL_STR || k == YYSYMBOL_YYEOF ||
        name[0] == '\'')
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "'%s'", name);
}

static void note_opener(const Opener *o)
{
    if (o->ch == '{' && o->word && o->name)
        diag(DIAG_NOTE, o->at, "to close '{' of %.*s '%s' opened here", o->word_len, o->word, o->name);
    else if (o->ch == '{' && o->word)
        diag(DIAG_NOTE, o->at, "to close '{' of '%.*s' opened here", o->word_len, o->word);
    else
        diag(DIAG_NOTE, o->at, "to close '%c' opened here", o->ch);
}

/* One message per mistake, from the lookahead and the tokens that could have come
 * instead (exact, thanks to LAC): an expression, a dimension, a closing bracket, the
 * words that start a statement, or the end of the statement. */
static void report_syntax_error(const yypcontext_t *yc, ParseCtx *ctx);

/* Reports (unless the lexer already did for this statement), then has the lexer drop
 * the rest of the statement so the parser's `error` rules resync at its end and one
 * mistake gives one message. */
static int yyreport_syntax_error(const yypcontext_t *yc, ParseCtx *ctx)
{
    if (ctx->fatal)
        return 0;
    if (!ctx->stmt_lex_error)
        report_syntax_error(yc, ctx);
    lex_recover(ctx);
    return 0;
}

static void report_syntax_error(const yypcontext_t *yc, ParseCtx *ctx)
{
    Span at = *yypcontext_location(yc);
    char found[96];
    describe_found(ctx, found, sizeof found);
    bool at_eof = ctx->tok == END || (ctx->tok_inserted && ctx->eof_done);
    if (at_eof && ctx->nopen > 0) {
        diag(DIAG_ERROR, at, "unexpected end of file");
        note_opener(&ctx->open[ctx->nopen - 1]);
        return;
    }
    if (ctx->tok_unmatched) {
        char c = ctx->tok_text[0], o = c == ')' ? '(' : c == ']' ? '[' : '{';
        diag(DIAG_ERROR, at, "unexpected '%c' with no matching '%c'", c, o);
        return;
    }

    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(yc, exp, YYNTOKENS);
    bool has[YYNTOKENS] = {0};
    for (int i = 0; i < n; i++)
        has[exp[i]] = true;
    if (has[YYSYMBOL_NUM] && has[YYSYMBOL_STR]) {
        diag(DIAG_ERROR, at, "expected an expression but found %s", found);
        return;
    }
    if (has[YYSYMBOL_ELLIPSIS]) {
        diag(DIAG_ERROR, at, "expected a dimension (a number, a name or '...') but found %s", found);
        return;
    }
    if (has[YYTRANSLATE(')')] || has[YYTRANSLATE(']')]) {
        diag(DIAG_ERROR, at, "expected '%c' but found %s", has[YYTRANSLATE(')')] ? ')' : ']', found);
        /* The lookahead's own bracket is not on the stack yet (see pend_tok). */
        if (ctx->nopen > 0 && ctx->open[ctx->nopen - 1].ch != '{')
            note_opener(&ctx->open[ctx->nopen - 1]);
        return;
    }

    /* What is left once operators and statement ends are set aside. */
    static const char skip[] = "+-*/@(.[;}";
    yysymbol_kind_t want[YYNTOKENS];
    int nwant = 0;
    bool starts = false, name_ok = false;
    for (int i = 0; i < n; i++) {
        bool drop = exp[i] == YYSYMBOL_YYEOF;
        for (const char *s = skip; *s; s++)
            drop |= exp[i] == YYTRANSLATE((int)(unsigned char)*s);
        if (drop)
            continue;
        want[nwant++] = exp[i];
        starts |= exp[i] >= YYSYMBOL_USE && exp[i] <= YYSYMBOL_EVALUATE && exp[i] != YYSYMBOL_ON;
        name_ok |= exp[i] == YYSYMBOL_IDENT;
    }
    bool kw = is_keyword(ctx->tok);
    bool item_word = ctx->tok >= USE && ctx->tok <= TRAIN;
    if (starts && kw) {
        diag(DIAG_ERROR, at, "unexpected %s here", found);
        /* `model` or `train` at the start of a line inside a block: most likely the
         * block above was never closed. */
        if (item_word && ctx->nopen > 0 && ctx->open[ctx->nopen - 1].ch == '{')
            note_opener(&ctx->open[ctx->nopen - 1]);
        return;
    }
    if (!starts && has[YYTRANSLATE(';')]) {
        diag(DIAG_ERROR, at, "expected ';' or newline but found %s", found);
    } else if (nwant == 1 && want[0] == YYSYMBOL_IDENT && ctx->prev_tok == ':' &&
               (ctx->stmt_tok == PARAM || ctx->stmt_tok == INPUT ||
                ctx->stmt_tok == OUTPUT || ctx->stmt_tok == FORWARD)) {
        diag(DIAG_ERROR, at, "expected a type such as f32[10] but found %s", found);
        return;
    } else if (nwant >= 1 && nwant <= 6) {
        char list[256] = "", word[40];
        for (int i = 0; i < nwant; i++) {
            describe_symbol(want[i], word, sizeof word);
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", i == 0 ? "" : i == nwant - 1 ? " or " : ", ", word);
        }
        diag(DIAG_ERROR, at, "expected %s but found %s", list, found);
    } else {
        diag(DIAG_ERROR, at, "unexpected %s here", found);
    }
    if (kw && name_ok)
        diag(DIAG_HINT, at, "'%.*s' is a keyword and cannot be used as a name", ctx->tok_len, ctx->tok_text);
    if (ctx->tok_inserted && !ctx->eof_done && has[YYTRANSLATE('{')])
        diag(DIAG_HINT, at, "a newline here ends the statement; put the '{' on this line");
    return;
}

/* Called by bison only when its stack is full: input nested deeper than YYMAXDEPTH. */
static void yyerror(Span *loc, ParseCtx *ctx, const char *msg)
{
    if (ctx->fatal)
        return;
    ctx->fatal = true;
    diag(DIAG_ERROR, *loc, "expression nested too deeply");
}

Ast *parse_file(Arena *a, const SrcFile *f)
{
    ParseCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    lex_begin(&ctx, a, f);
    ctx.program = ast_new(a, AST_PROGRAM, (Span){f, 1, 1, 1, 1});
    yyparse(&ctx);
    ctx.program->span = span_join(ctx.program->span, lex_eof_span(&ctx));
    lex_end(&ctx);
    return ctx.program;
}
