/* ast.c — syntax tree nodes and their printed form. In: nodes built by parser.y.
 * Out: --emit=ast, an indented tree, one node a line: the kind, its facts (name,
 * operator, number, string, type name, `every`), then `@line:col`. Children follow,
 * two spaces deeper, in a fixed order: lhs, rhs, type, value, on, list, body. */
#include <stdlib.h>
#include <string.h>

#include "ast.h"

Ast *ast_new(Arena *a, AstKind kind, Span span)
{
    Ast *n = arena_alloc(a, sizeof *n);
    n->kind = kind;
    n->span = span;
    return n;
}

static const char *const kind_names[] = {
    [AST_NUM] = "num",          [AST_STR] = "str",
    [AST_NAME] = "name",        [AST_FIELD] = "field",
    [AST_CALL] = "call",        [AST_BINARY] = "binary",
    [AST_UNARY] = "unary",      [AST_INDEX] = "index",
    [AST_LAMBDA] = "lambda",
    [AST_ARG] = "arg",          [AST_TYPE] = "type",
    [AST_DIM] = "dim",          [AST_PARAMDEF] = "paramdef",
    [AST_LET] = "let",          [AST_ASSIGN] = "assign",
    [AST_PARAM] = "param",      [AST_INPUT] = "input",
    [AST_OUTPUT] = "output",    [AST_FORWARD] = "forward",
    [AST_RETURN] = "return",    [AST_LAYERS] = "layers",
    [AST_LAYER_ENTRY] = "layer_entry", [AST_SETTING] = "setting",
    [AST_EVALUATE] = "evaluate", [AST_USE] = "use",
    [AST_LAYER_DEF] = "layer_def", [AST_MODEL] = "model",
    [AST_DATA] = "data",        [AST_TRAIN] = "train",
    [AST_PROGRAM] = "program",
};

const char *ast_kind_name(AstKind k)
{
    if ((unsigned)k < sizeof kind_names / sizeof kind_names[0] && kind_names[k])
        return kind_names[k];
    return "?";
}

/* The shortest text that reads back as the same double; a number written as a
 * float keeps a '.' or an exponent so `1.0` and `1` print differently. */
static void print_num(FILE *out, double v, bool is_int)
{
    char buf[64];
    if (v == (double)(long long)v && v > -1e16 && v < 1e16) {   /* 10, not 1e+01 */
        snprintf(buf, sizeof buf, "%.0f", v);
        fputs(buf, out);
        if (!is_int)
            fputs(".0", out);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
    if (!is_int && !strpbrk(buf, ".eni"))   /* not already 1.5, 1e+20, inf, nan */
        fputs(".0", out);
}

static void print_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\x%02X", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void print_list(FILE *out, const PtrVec *v, int depth);

static void print_node(FILE *out, const Ast *n, int depth)
{
    if (!n)
        return;
    fprintf(out, "%*s%s", depth * 2, "", ast_kind_name(n->kind));
    switch (n->kind) {
    case AST_NUM:
        fputc(' ', out);
        print_num(out, n->num, n->is_int);
        break;
    case AST_STR:
        fputc(' ', out);
        print_str(out, n->str ? n->str : "");
        break;
    case AST_BINARY:
    case AST_UNARY:
        fprintf(out, " %c", n->op);
        break;
    case AST_ARG:   /* in an index: a range `a:b` or `...` */
        if (n->is_ellipsis)
            fputs(" ...", out);
        else if (n->op == ':')   /* which ends are given: lo:hi, lo:, :hi, : */
            fprintf(out, " %s:%s", n->lhs ? "lo" : "", n->rhs ? "hi" : "");
        else if (n->name)
            fprintf(out, " %s", n->name);
        break;
    case AST_DIM:
        if (n->is_ellipsis)
            fputs(" ...", out);
        else if (n->name && n->num)
            fprintf(out, " %.0f * %s", n->num, n->name);
        else if (n->name)
            fprintf(out, " %s", n->name);
        else
            fprintf(out, " %.0f", n->num);
        break;
    default:
        if (n->name)
            fprintf(out, " %s", n->name);
        break;
    }
    if (n->type_name)
        fprintf(out, ": %s", n->type_name);
    if (n->every)
        fprintf(out, " every %s", n->every);
    fprintf(out, " @%d:%d\n", n->span.first_line, n->span.first_col);
    print_node(out, n->lhs, depth + 1);
    print_node(out, n->rhs, depth + 1);
    print_node(out, n->type, depth + 1);
    print_node(out, n->value, depth + 1);
    print_node(out, n->on, depth + 1);
    print_list(out, &n->list, depth + 1);
    print_list(out, &n->body, depth + 1);
}

static void print_list(FILE *out, const PtrVec *v, int depth)
{
    for (int i = 0; i < v->len; i++)
        print_node(out, v->items[i], depth);
}

void ast_print(FILE *out, const Ast *n)
{
    print_node(out, n, 0);
}
