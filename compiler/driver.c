/* driver.c — nnlc's main: reads options, runs the stages in order, dumps after any of
 * them on request (--emit=STAGE), and writes an executable, an object + header, or text.
 * (Skeleton: the front-end stages only; the rest of the pipeline lands next.) */
#include <stdlib.h>
#include <string.h>

#include "ast.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: nnlc [options] FILE.nnl\n"
        "  --emit=tokens|ast   print a stage and stop\n"
        "  --check             parse and check only\n"
        "  -h, --help          this text\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL, *emit = NULL;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--emit=", 7)) emit = argv[i] + 7;
        else if (!strcmp(argv[i], "--check")) check = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        else if (argv[i][0] == '-') { fprintf(stderr, "nnlc: unknown option '%s'\n", argv[i]); usage(stderr); return 2; }
        else path = argv[i];
    }
    if (!path) { usage(stderr); return 2; }
    Arena *a = arena_new();
    SrcFile *f = src_read(a, path);
    if (!f) return 1;
    if (emit && !strcmp(emit, "tokens")) { lex_dump(stdout, f); return diag_error_count() ? 1 : 0; }
    Ast *prog = parse_file(a, f);
    if (diag_error_count()) return 1;
    if (emit && !strcmp(emit, "ast")) { ast_print(stdout, prog); return 0; }
    (void)check;
    arena_free(a);
    return 0;
}
