/* driver.c — nnlc's main. In: options and one .nnl file. Out: an executable (default), an
 * object file and its C header (-c), or the text of one stage (--emit=STAGE). Runs the
 * stages in order from compile() and stops after the one asked for; the linker is the
 * system C compiler, with the runtime library found beside nnlc. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ir.h"

#define NNLC_VERSION "0.1"

typedef struct Options {
    const char *path, *out, *emit, *prefix, *model, *stdlib_dir;
    int opt_level;
    bool object, check;
} Options;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: nnlc [options] FILE.nnl\n"
        "Compiles a model written in NNL to a native executable that trains, evaluates and\n"
        "predicts (default), or to an object file and a C header (-c).\n"
        "\n"
        "  -o PATH          output file (default: FILE without .nnl; with -c, FILE.o)\n"
        "  -c               write an object file PATH and its C header (PATH with .h)\n"
        "  --prefix NAME    C symbol prefix of the object's API (default: the output's name)\n"
        "  --model NAME     which model to compile when the file has several\n"
        "  -O0 .. -O3       LLVM optimization level (default -O2)\n"
        "  --emit=STAGE     print a stage to stdout and stop: tokens, ast, ir, grad, fused,\n"
        "                   plan, llvm, asm\n"
        "  --check          parse and check only\n"
        "  --stdlib DIR     where `use std.nn` finds nn.nnl (default: beside nnlc)\n"
        "  -Werror          treat warnings as errors\n"
        "  -h, --help       this text\n"
        "  --version        nnlc's version\n");
}

static const char *stages[] = {"tokens", "ast", "ir", "grad", "fused", "plan", "llvm", "asm", NULL};

static int parse_args(int argc, char **argv, Options *o)
{
    *o = (Options){.opt_level = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--version")) { printf("nnlc %s (LLVM C API)\n", NNLC_VERSION); exit(0); }
        else if (!strcmp(a, "-c")) o->object = true;
        else if (!strcmp(a, "--check")) o->check = true;
        else if (!strcmp(a, "-Werror")) diag_werror = true;
        else if (!strncmp(a, "-O", 2) && a[2] >= '0' && a[2] <= '3' && !a[3]) o->opt_level = a[2] - '0';
        else if (!strncmp(a, "--emit=", 7)) {
            o->emit = a + 7;
            bool known = false;
            for (int k = 0; stages[k]; k++) known |= !strcmp(o->emit, stages[k]);
            if (!known) {
                fprintf(stderr, "nnlc: error: unknown stage '%s' for --emit (tokens, ast, ir, grad, fused, plan, llvm, asm)\n", o->emit);
                return 2;
            }
        } else if (!strcmp(a, "-o") || !strcmp(a, "--prefix") || !strcmp(a, "--model") || !strcmp(a, "--stdlib")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nnlc: error: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "-o")) o->out = v;
            else if (!strcmp(a, "--prefix")) o->prefix = v;
            else if (!strcmp(a, "--model")) o->model = v;
            else o->stdlib_dir = v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nnlc: error: unknown option '%s' (see nnlc --help)\n", a);
            return 2;
        } else if (o->path) {
            fprintf(stderr, "nnlc: error: one input file at a time ('%s' and '%s')\n", o->path, a);
            return 2;
        } else {
            o->path = a;
        }
    }
    if (!o->path) {
        fprintf(stderr, "nnlc: error: no input file\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

/* The directory nnlc lives in, from /proc/self/exe. */
static const char *exe_dir(Arena *a)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    return arena_strdup(a, buf);
}

static const char *first_existing(Arena *a, const char *dir, const char **rel)
{
    for (int i = 0; rel[i]; i++) {
        const char *p = arena_printf(a, "%s/%s", dir, rel[i]);
        if (access(p, R_OK) == 0) return p;
    }
    return NULL;
}

/* FILE.nnl -> FILE (basename, directory dropped), then `ext` appended. */
static const char *default_out(Arena *a, const char *path, const char *ext)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".nnl")) n -= 4;
    return arena_printf(a, "%.*s%s", (int)n, base, ext);
}

/* A C identifier from a file name: model.o -> model, my-net -> my_net. */
static const char *default_prefix(Arena *a, const char *out)
{
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    char *p = arena_strdup(a, base);
    char *dot = strchr(p, '.');
    if (dot) *dot = 0;
    for (char *q = p; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))) *q = '_';
    if (!*p || (*p >= '0' && *p <= '9')) p = arena_printf(a, "m_%s", p);
    return p;
}

/* cc OBJ libnnlrt.a -fopenmp -lcjson -lz -lm -o OUT */
static int link_exe(Arena *a, const char *obj, const char *out)
{
    const char *dir = exe_dir(a);
    const char *rt = first_existing(a, dir, (const char *[]){"libnnlrt.a", "../lib/nnl/libnnlrt.a", NULL});
    if (!rt) {
        fprintf(stderr, "nnlc: error: cannot find the runtime libnnlrt.a beside %s (run `make`)\n", dir);
        return 1;
    }
    const char *cc = getenv("CC");
    if (!cc || !*cc) cc = "cc";
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "nnlc: error: cannot start the linker: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execlp(cc, cc, obj, rt, "-fopenmp", "-lcjson", "-lz", "-lm", "-o", out, (char *)NULL);
        fprintf(stderr, "nnlc: error: cannot run the linker '%s': %s\n", cc, strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "nnlc: error: linking %s failed\n", out);
        return 1;
    }
    return 0;
}

static bool is(const Options *o, const char *stage) { return o->emit && !strcmp(o->emit, stage); }

/* The pipeline: parse, check, differentiate, fuse, plan, generate; --emit stops early. */
static int compile(Arena *a, const Options *o)
{
    SrcFile *f = src_read(a, o->path);
    if (!f) return 1;
    if (is(o, "tokens")) { lex_dump(stdout, f); return diag_error_count() ? 1 : 0; }
    Ast *prog = parse_file(a, f);
    if (diag_error_count()) return 1;
    if (is(o, "ast")) { ast_print(stdout, prog); return 0; }

    SemaOptions so = {.model = o->model, .stdlib_dir = o->stdlib_dir};
    if (!so.stdlib_dir) {
        const char *dir = exe_dir(a);
        const char *lib = first_existing(a, dir, (const char *[]){"../stdlib/nn.nnl", "../share/nnl/stdlib/nn.nnl", NULL});
        so.stdlib_dir = lib ? arena_printf(a, "%.*s", (int)(strrchr(lib, '/') - lib), lib) : arena_printf(a, "%s/../stdlib", dir);
    }
    Graph *g = sema_program(a, prog, &so);
    if (!g || diag_error_count()) return 1;
    if (is(o, "ir")) { ir_print(stdout, g, g->nodes.len); return 0; }
    if (o->check && !g->has_train) return 0;
    if (o->opt_level > 0) rewrite_graph(g);   /* -O0: the graph as written */
    if (g->has_train) ad_differentiate(g);
    if (diag_error_count()) return 1;
    if (is(o, "grad")) { ir_print(stdout, g, g->nodes.len); return 0; }
    if (o->check) return 0;
    fuse_graph(g);
    if (is(o, "fused")) { fuse_print(stdout, g); return 0; }
    plan_graph(g);
    if (is(o, "plan")) { plan_print(stdout, g); return 0; }

    CgOptions cg = {.opt_level = o->opt_level, .emit = o->emit};
    if (o->emit) {   /* llvm or asm, to stdout unless -o */
        cg.prefix = o->prefix ? o->prefix : default_prefix(a, o->out ? o->out : default_out(a, o->path, ""));
        cg.out_path = o->out;
        return cg_emit(g, &cg);
    }
    if (o->object) {
        const char *obj = o->out ? o->out : default_out(a, o->path, ".o");
        cg.prefix = o->prefix ? o->prefix : default_prefix(a, obj);
        cg.out_path = obj;
        size_t n = strlen(obj);
        const char *hdr = n > 2 && !strcmp(obj + n - 2, ".o") ? arena_printf(a, "%.*s.h", (int)n - 2, obj)
                                                              : arena_printf(a, "%s.h", obj);
        if (cg_emit(g, &cg)) return 1;
        return cg_write_header(g, cg.prefix, hdr);
    }
    const char *exe = o->out ? o->out : default_out(a, o->path, "");
    char tmp[] = "/tmp/nnlc.XXXXXX.o";
    int fd = mkstemps(tmp, 2);
    if (fd < 0) {
        fprintf(stderr, "nnlc: error: cannot create a temporary file: %s\n", strerror(errno));
        return 1;
    }
    close(fd);
    cg.prefix = o->prefix ? o->prefix : default_prefix(a, exe);
    cg.out_path = tmp;
    cg.main = true;
    int rc = cg_emit(g, &cg);
    if (!rc) rc = link_exe(a, tmp, exe);
    unlink(tmp);
    return rc;
}

int main(int argc, char **argv)
{
    Options o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    Arena *a = arena_new();
    rc = compile(a, &o);
    if (!rc && diag_error_count()) rc = 1;
    arena_free(a);
    return rc;
}
