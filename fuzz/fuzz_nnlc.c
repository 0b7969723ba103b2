/* fuzz_nnlc.c — libFuzzer target over the whole compiler. In: any bytes, taken as a .nnl
 * file. Out: nothing; the sanitizers and libFuzzer's leak and timeout checks judge.
 * Runs lexer, parser, sema, autodiff, fusion, the memory plan and codegen (LLVM IR,
 * verified, -O0, written to /dev/null) as nnlc does, stopping where nnlc would. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#ifndef FUZZ_STDLIB_DIR
#define FUZZ_STDLIB_DIR "stdlib"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {   /* diagnostics are not what is judged; keep the terminal readable */
        quiet = true;
        if (!getenv("FUZZ_VERBOSE")) diag_stream = fopen("/dev/null", "w");
    }
    diag_reset();
    Arena *a = arena_new();
    SrcFile *f = arena_alloc(a, sizeof *f);
    f->path = "fuzz.nnl";
    f->text = arena_strndup(a, (const char *)data, size);
    f->len = size;
    Ast *prog = parse_file(a, f);
    if (!diag_error_count()) {
        SemaOptions so = {.stdlib_dir = FUZZ_STDLIB_DIR};
        Graph *g = sema_program(a, prog, &so);
        if (g && !diag_error_count()) {
            if (g->has_train) ad_differentiate(g);
            if (!diag_error_count()) {
                fuse_graph(g, true);   /* (remat_loops too: exact at any level) */
                plan_graph(g);
                CgOptions cg = {.prefix = "fuzz", .opt_level = 0, .emit = "llvm", .out_path = "/dev/null"};
                cg_emit(g, &cg);
            }
        }
    }
    arena_free(a);
    return 0;
}
