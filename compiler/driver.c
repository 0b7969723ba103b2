/* driver.c — nnlc's main. In: options and one .nnl file. Out: an executable (default), an
 * object file and its C header (-c), a shared library and its header (--shared), the text
 * of one stage (--emit=STAGE), or, for `nnlc run`, the model's CLI run in this process
 * (jit.c). Runs the stages in order from compile() and stops after the one asked for;
 * the linker is the system C compiler, with the runtime library found beside nnlc (or in
 * ../lib/ once installed). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "ir.h"

#define NNLC_VERSION "0.1"

typedef struct Options {
    const char *path, *out, *emit, *prefix, *model, *stdlib_dir;
    const char *triple, *cpu;    /* --target, --cpu: NULL for the host's */
    int opt_level;
    int jobs;                    /* -j: code generation threads (0: the CPUs, at most 8) */
    bool object, shared, inference, debug, check;
    bool run;                    /* nnlc run: prog_argv go to the model's CLI */
    int prog_argc;
    char **prog_argv;
} Options;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: nnlc [options] FILE.nnl\n"
        "       nnlc run [options] FILE.nnl [train|eval|predict ...]\n"
        "Compiles a model written in NNL to a native executable that trains, evaluates and\n"
        "predicts (default), to an object file or a shared library and a C header, or\n"
        "(run) compiles it in memory and runs it at once with the arguments after FILE.\n"
        "\n"
        "  -o PATH          output file (default: FILE without .nnl; with -c, FILE.o;\n"
        "                   with --shared, libFILE.so)\n"
        "  -c               write an object file PATH and its C header (PATH with .h)\n"
        "  --shared         write a shared library PATH (runtime included) and its header\n"
        "                   (libNAME.so -> NAME.h)\n"
        "  --inference      leave out the backward pass and the optimizer: forward, loss\n"
        "                   and evaluate only (a smaller object for deployment)\n"
        "  --prefix NAME    C symbol prefix of the object's API (default: the output's name)\n"
        "  --model NAME     which model to compile when the file has several\n"
        "  -O0 .. -O3       optimization level (default -O2; -O0: the graph as written)\n"
        "  -g               debug info: gdb breaks and steps in the .nnl lines of the loops\n"
        "  -j N             compile an executable or library on N threads (default: one a\n"
        "                   CPU, at most 8; -j1 for one object)\n"
        "  --target T       native (default), x86-64, x86-64-v2, x86-64-v3, x86-64-v4,\n"
        "                   aarch64, or an LLVM triple; other than native: -c or --shared\n"
        "  --cpu CPU        an LLVM CPU name of the target (x86-64-v3, skylake, native, ...)\n"
        "  --emit=STAGE     print a stage to stdout and stop: tokens, ast, ir, grad, fused,\n"
        "                   plan, llvm, asm\n"
        "  --check          parse and check only\n"
        "  --stdlib DIR     where `use std.nn` finds nn.nnl (default: beside nnlc)\n"
        "  -Werror          treat warnings as errors\n"
        "  -h, --help       this text\n"
        "  --version        nnlc's version\n");
}

static const char *stages[] = {"tokens", "ast", "ir", "grad", "fused", "plan", "llvm", "asm", NULL};

/* --target's short names: the triple and the CPU they mean. */
static int set_target(Options *o, const char *t)
{
    static const char *const x86[] = {"x86-64", "x86_64", "x86-64-v2", "x86-64-v3", "x86-64-v4", NULL};
    if (!strcmp(t, "native")) { o->triple = NULL; return 0; }
    for (int k = 0; x86[k]; k++)
        if (!strcmp(t, x86[k])) {
            o->triple = "x86_64-pc-linux-gnu";
            if (!o->cpu) o->cpu = k < 2 ? "x86-64" : x86[k];
            return 0;
        }
    if (!strcmp(t, "aarch64") || !strcmp(t, "arm64")) { o->triple = "aarch64-unknown-linux-gnu"; return 0; }
    if (!strchr(t, '-')) {
        fprintf(stderr, "nnlc: error: unknown target '%s' (native, x86-64, x86-64-v2, x86-64-v3, "
                        "x86-64-v4, aarch64, or a triple such as riscv64-unknown-linux-gnu)\n", t);
        return 2;
    }
    o->triple = t;
    return 0;
}

static int parse_args(int argc, char **argv, Options *o)
{
    *o = (Options){.opt_level = 2};
    int first = 1;
    if (argc > 1 && !strcmp(argv[1], "run")) {
        o->run = true;
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--version")) { printf("nnlc %s (LLVM C API)\n", NNLC_VERSION); exit(0); }
        else if (!strcmp(a, "-c")) o->object = true;
        else if (!strcmp(a, "--shared")) o->shared = true;
        else if (!strcmp(a, "--inference")) o->inference = true;
        else if (!strcmp(a, "-g")) o->debug = true;
        else if (!strcmp(a, "--check")) o->check = true;
        else if (!strcmp(a, "-Werror")) diag_werror = true;
        else if (!strncmp(a, "-O", 2) && a[2] >= '0' && a[2] <= '3' && !a[3]) o->opt_level = a[2] - '0';
        else if (!strcmp(a, "-j") || (!strncmp(a, "-j", 2) && a[2])) {
            const char *v = a[2] ? a + 2 : i + 1 < argc ? argv[++i] : NULL;
            char *end = NULL;
            long n = v ? strtol(v, &end, 10) : 0;
            if (!v || !*v || *end || n < 1 || n > 64) {
                fprintf(stderr, "nnlc: error: -j needs a number of threads from 1 to 64\n");
                return 2;
            }
            o->jobs = (int)n;
        }
        else if (!strncmp(a, "--emit=", 7)) {
            o->emit = a + 7;
            bool known = false;
            for (int k = 0; stages[k]; k++) known |= !strcmp(o->emit, stages[k]);
            if (!known) {
                fprintf(stderr, "nnlc: error: unknown stage '%s' for --emit (tokens, ast, ir, grad, fused, plan, llvm, asm)\n", o->emit);
                return 2;
            }
        } else if (!strcmp(a, "-o") || !strcmp(a, "--prefix") || !strcmp(a, "--model") || !strcmp(a, "--stdlib") ||
                   !strcmp(a, "--target") || !strcmp(a, "--cpu")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nnlc: error: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "-o")) o->out = v;
            else if (!strcmp(a, "--prefix")) o->prefix = v;
            else if (!strcmp(a, "--model")) o->model = v;
            else if (!strcmp(a, "--cpu")) o->cpu = v;
            else if (!strcmp(a, "--target")) {
                if (set_target(o, v)) return 2;
            } else o->stdlib_dir = v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nnlc: error: unknown option '%s' (see nnlc --help)\n", a);
            return 2;
        } else if (o->path) {
            fprintf(stderr, "nnlc: error: one input file at a time ('%s' and '%s')\n", o->path, a);
            return 2;
        } else {
            o->path = a;
            if (o->run) {   /* the rest is the model's command line */
                o->prog_argc = argc - i;
                o->prog_argv = argv + i;
                break;
            }
        }
    }
    if (!o->path) {
        fprintf(stderr, "nnlc: error: no input file\n");
        usage(stderr);
        return 2;
    }
    if (o->object + o->shared + o->run + (o->emit != NULL) > 1) {
        fprintf(stderr, "nnlc: error: -c, --shared, --emit and run exclude one another\n");
        return 2;
    }
    if (o->cpu) {
        char *host = LLVMGetDefaultTargetTriple();
        const char *triple = o->triple ? o->triple : host;
        bool known = target_cpu_known(triple, o->cpu);
        if (!known) {
            fprintf(stderr, "nnlc: error: unknown CPU '%s' for %s; these are known:\n", o->cpu, triple);
            target_print_cpus(stderr, triple);
        }
        LLVMDisposeMessage(host);
        if (!known) return 2;
    }
    if (o->prefix) {
        bool ok = (o->prefix[0] < '0' || o->prefix[0] > '9') && o->prefix[0];
        for (const char *p = o->prefix; *p; p++)
            ok &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (!ok) {
            fprintf(stderr, "nnlc: error: --prefix '%s' is not a C identifier\n", o->prefix);
            return 2;
        }
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

/* cc [-shared] OBJ... libnnlrt.a -fopenmp -lcjson -lz -lm -o OUT */
static int link_exe(Arena *a, const char *const *objs, int nobjs, const char *out, bool shared)
{
    const char *dir = exe_dir(a);
    const char *rt = first_existing(a, dir, (const char *[]){"libnnlrt.a", "../lib/libnnlrt.a", NULL});
    if (!rt) {
        fprintf(stderr, "nnlc: error: cannot find the runtime libnnlrt.a beside %s (run `make`)\n", dir);
        return 1;
    }
    const char *cc = getenv("CC");
    if (!cc || !*cc) cc = "cc";
    const char **argv = arena_alloc(a, sizeof *argv * (size_t)(nobjs + 12));
    int n = 0;
    argv[n++] = cc;
    if (shared) argv[n++] = "-shared";
    for (int i = 0; i < nobjs; i++) argv[n++] = objs[i];
    const char *tail[] = {rt, "-fopenmp", "-lcjson", "-lz", "-lm", "-o", out, NULL};
    for (int i = 0; tail[i]; i++) argv[n++] = tail[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "nnlc: error: cannot start the linker: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(cc, (char *const *)argv);
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

/* model.o -> model.h; anything else gets .h appended. */
static const char *header_path(Arena *a, const char *obj)
{
    size_t n = strlen(obj);
    if (n > 2 && !strcmp(obj + n - 2, ".o")) return arena_printf(a, "%.*s.h", (int)n - 2, obj);
    return arena_printf(a, "%s.h", obj);
}

/* dir/libmodel.so -> dir/model.o: the stem a shared library's header and prefix take. */
static const char *lib_stem(Arena *a, const char *lib)
{
    const char *base = strrchr(lib, '/');
    base = base ? base + 1 : lib;
    int dir = (int)(base - lib);
    if (!strncmp(base, "lib", 3) && base[3]) base += 3;
    size_t n = strlen(base);
    const char *so = strstr(base, ".so");
    if (so) n = (size_t)(so - base);
    return arena_printf(a, "%.*s%.*s.o", dir, lib, (int)n, base);
}

/* Whether a triple names the architecture nnlc runs on (so its executables run here). */
static bool same_arch_as_host(const char *triple)
{
    char *host = LLVMGetDefaultTargetTriple();
    size_t n = strcspn(host, "-");
    bool same = !strncmp(host, triple, n) && (triple[n] == '-' || !triple[n]);
    LLVMDisposeMessage(host);
    return same;
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
    if (o->inference && g->has_train) ir_drop_training(g);
    if (o->opt_level > 0) rewrite_graph(g);   /* -O0: the graph as written */
    if (ir_trains(g)) ad_differentiate(g);
    if (ir_trains(g) && o->opt_level > 0) precompute_derivatives(g);
    if (ir_trains(g) && o->opt_level > 0) remat_graph(g);
    if (o->opt_level > 0) hoist_transposes(g);
    if (o->opt_level > 0 && !getenv("NNLC_NO_VIEWS")) views_graph(g);   /* (tests/e2e/views.sh) */
    if (diag_error_count()) return 1;
    if (is(o, "grad")) { ir_print(stdout, g, g->nodes.len); return 0; }
    if (o->check) return 0;
    fuse_graph(g, o->opt_level > 0 && !getenv("NNLC_NO_LOOP_REMAT"));   /* (tests/e2e/loop_remat.sh) */
    if (o->opt_level > 0 && !getenv("NNLC_NO_STACK_PLACE")) stacks_graph(g);   /* (tests/e2e/stack_place.sh) */
    if (is(o, "fused")) { fuse_print(stdout, g); return 0; }
    plan_graph(g);
    if (is(o, "plan")) { plan_print(stdout, g); return 0; }

    CgOptions cg = {.opt_level = o->opt_level, .emit = o->emit, .debug = o->debug, .triple = o->triple,
                    .cpu = o->cpu};
    if (o->emit) {   /* llvm or asm, to stdout unless -o */
        cg.prefix = o->prefix ? o->prefix : default_prefix(a, o->out ? o->out : default_out(a, o->path, ""));
        cg.out_path = o->out;
        return cg_emit(g, &cg);
    }
    if (o->run) {
        void *obj = NULL;
        size_t len = 0;
        cg.prefix = o->prefix ? o->prefix : "nnl_jit";
        cg.obj_buf = &obj;
        cg.obj_len = &len;
        int rc = cg_emit(g, &cg);
        if (!rc) {
            char *argv0 = arena_printf(a, "nnlc run %s", o->path);
            char **argv = arena_alloc(a, sizeof *argv * (o->prog_argc + 2));
            argv[0] = argv0;
            for (int i = 1; i < o->prog_argc; i++) argv[i] = o->prog_argv[i];
            argv[o->prog_argc > 0 ? o->prog_argc : 1] = NULL;
            rc = jit_run(obj, len, cg.prefix, o->prog_argc > 0 ? o->prog_argc : 1, argv);
        }
        free(obj);
        return rc;
    }
    if (o->object) {
        const char *obj = o->out ? o->out : default_out(a, o->path, ".o");
        cg.prefix = o->prefix ? o->prefix : default_prefix(a, obj);
        cg.out_path = obj;
        if (cg_emit(g, &cg)) return 1;
        return cg_write_header(g, cg.prefix, header_path(a, obj));
    }
    if (o->triple && !same_arch_as_host(o->triple)) {
        fprintf(stderr, "nnlc: error: --target %s: this machine cannot run the executable; use -c or "
                        "--shared to write an object or a library for it\n", o->triple);
        return 2;
    }
    const char *exe = o->out ? o->out : o->shared ? arena_printf(a, "lib%s", default_out(a, o->path, ".so"))
                                                  : default_out(a, o->path, "");
    /* the object, or its parts compiled on -j threads (cgsplit.c), in temporary files */
    int jobs = o->jobs;
    if (jobs <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    }
    char **tmp = arena_alloc(a, sizeof *tmp * (size_t)jobs);
    int made = 0, rc = 0;
    for (; made < jobs && !rc; made++) {
        tmp[made] = arena_printf(a, "/tmp/nnlc.XXXXXX.o");
        int fd = mkstemps(tmp[made], 2);
        if (fd < 0) {
            fprintf(stderr, "nnlc: error: cannot create a temporary file: %s\n", strerror(errno));
            rc = 1;
            break;
        }
        close(fd);
    }
    int written = 1;
    if (!rc) {
        cg.prefix = o->prefix ? o->prefix : default_prefix(a, o->shared ? lib_stem(a, exe) : exe);
        cg.out_path = tmp[0];
        cg.main = !o->shared;
        cg.nparts = jobs;
        cg.part_paths = (const char *const *)tmp;
        cg.parts_written = &written;
        rc = cg_emit(g, &cg);
    }
    if (!rc) rc = link_exe(a, (const char *const *)tmp, written, exe, o->shared);
    for (int i = 0; i < made; i++) unlink(tmp[i]);
    if (!rc && o->shared) rc = cg_write_header(g, cg.prefix, header_path(a, lib_stem(a, exe)));
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
