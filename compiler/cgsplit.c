/* cgsplit.c — one module compiled on several threads. In: codegen.c's finished module
 * (target and data layout set) and a number of parts. Out: that many object files which
 * link into the same program the single object would.
 *
 * LLVM's optimizer and code generator work function by function, and a model's loop
 * functions never call one another (kernels are noinline, launchers reach them through
 * the runtime's parallel-for), so nothing is lost by compiling them apart. The module is
 * written to bitcode once; each thread reads it into a context of its own (an LLVM
 * context is not shared between threads), keeps the bodies of the functions it owns and
 * turns the others into declarations, optimizes and writes its object. Functions are
 * dealt out greedily by size (instructions before optimization) to balance the parts.
 * Symbols that were internal become hidden globals named under the model's prefix, so
 * that the parts see one another and two models in one program still do not collide. */
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cgsplit.h"

typedef struct Part {
    int index;
    const CgOptions *o;
    const char *bitcode;
    size_t bitcode_len;
    char **names;           /* every defined function, in module order */
    const int *owner;       /* the part that keeps each one's body */
    int nfns;
    int rc;
    char *err;              /* malloc'd message when rc != 0 */
} Part;

static char *dup_msg(const char *what, const char *detail)
{
    size_t n = strlen(what) + (detail ? strlen(detail) : 0) + 3;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return s;
}

/* Replaces function fn by a declaration of the same name, type and visibility. */
static void drop_body(LLVMModuleRef m, LLVMValueRef fn)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    char *keep = strndup(name, len);
    LLVMSetValueName2(fn, "", 0);
    LLVMValueRef decl = LLVMAddFunction(m, keep, LLVMGlobalGetValueType(fn));
    LLVMSetLinkage(decl, LLVMExternalLinkage);
    LLVMSetVisibility(decl, LLVMGetVisibility(fn));
    LLVMReplaceAllUsesWith(fn, decl);
    LLVMDeleteFunction(fn);
    free(keep);
}

static void *compile_part(void *arg)
{
    Part *p = arg;
    LLVMContextRef cx = LLVMContextCreate();
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(p->bitcode, p->bitcode_len, "model", 0);
    LLVMModuleRef m = NULL;
    if (LLVMParseBitcodeInContext2(cx, buf, &m)) {
        p->rc = 1;
        p->err = dup_msg("cannot read back the module's bitcode", NULL);
        LLVMDisposeMemoryBuffer(buf);
        LLVMContextDispose(cx);
        return NULL;
    }
    LLVMDisposeMemoryBuffer(buf);
    /* Collected first: dropping a body adds a function at the end of the list. */
    LLVMValueRef *drop = malloc(sizeof *drop * (size_t)(p->nfns + 1));
    int ndrop = 0, at = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn && drop; fn = LLVMGetNextFunction(fn)) {
        if (LLVMIsDeclaration(fn)) continue;
        size_t len;
        const char *name = LLVMGetValueName2(fn, &len);
        int k = -1;
        for (int t = 0; t < p->nfns && k < 0; t++) {   /* in order, so this finds it at once */
            int j = (at + t) % p->nfns;
            if (!strcmp(p->names[j], name)) k = j;
        }
        if (k < 0) continue;   /* not in the list: cannot happen; keeping it is safe */
        at = k + 1;
        if (p->owner[k] != p->index) drop[ndrop++] = fn;
    }
    for (int i = 0; i < ndrop; i++) drop_body(m, drop[i]);
    free(drop);
    if (p->index != 0)   /* globals live in part 0 */
        for (LLVMValueRef gv = LLVMGetFirstGlobal(m); gv; gv = LLVMGetNextGlobal(gv))
            if (!LLVMIsDeclaration(gv)) {
                LLVMSetInitializer(gv, NULL);
                LLVMSetLinkage(gv, LLVMExternalLinkage);
            }
    char *err = NULL;
    LLVMTargetMachineRef tm = cg_target_machine(p->o, &err);
    if (!tm) {
        p->rc = 1;
        p->err = dup_msg("no LLVM target", err);
        LLVMDisposeMessage(err);
    } else {
        if (cg_optimize(m, tm, p->o->opt_level)) {
            p->rc = 1;
            p->err = dup_msg("optimizing a part of the module failed", NULL);
        } else if (LLVMTargetMachineEmitToFile(tm, m, (char *)p->o->part_paths[p->index], LLVMObjectFile, &err)) {
            p->rc = 1;
            p->err = dup_msg(p->o->part_paths[p->index], err);
            LLVMDisposeMessage(err);
        }
        LLVMDisposeTargetMachine(tm);
    }
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    return NULL;
}

static int64_t fn_size(LLVMValueRef fn)
{
    int64_t n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) n++;
    /* optnone functions (the launchers) go through the fast instruction selector */
    unsigned optnone = LLVMGetEnumAttributeKindForName("optnone", 7);
    if (LLVMGetEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, optnone)) n /= 8;
    return n + 1;
}

/* Internal symbols become hidden globals, named under the prefix where they were not. */
static void expose(LLVMValueRef v, const char *prefix, int serial)
{
    LLVMLinkage l = LLVMGetLinkage(v);
    if (l != LLVMInternalLinkage && l != LLVMPrivateLinkage) return;
    size_t len, plen = strlen(prefix);
    const char *name = LLVMGetValueName2(v, &len);
    if (len <= plen || strncmp(name, prefix, plen) || name[plen] != '_') {
        char fresh[256];
        int n = snprintf(fresh, sizeof fresh, "%s.part.%d.%.*s", prefix, serial, (int)(len > 64 ? 64 : len), name);
        LLVMSetValueName2(v, fresh, (size_t)(n < (int)sizeof fresh ? n : (int)sizeof fresh - 1));
    }
    LLVMSetLinkage(v, LLVMExternalLinkage);
    LLVMSetVisibility(v, LLVMHiddenVisibility);
    if (LLVMIsAGlobalVariable(v) || LLVMIsAFunction(v)) LLVMSetUnnamedAddress(v, LLVMNoUnnamedAddr);
}

int cg_emit_parts(LLVMModuleRef m, const CgOptions *o, int nparts)
{
    int serial = 0, nfns = 0;
    for (LLVMValueRef gv = LLVMGetFirstGlobal(m); gv; gv = LLVMGetNextGlobal(gv)) expose(gv, o->prefix, serial++);
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn))
        if (!LLVMIsDeclaration(fn)) {
            expose(fn, o->prefix, serial++);
            nfns++;
        }
    char **names = calloc((size_t)nfns + 1, sizeof *names);
    int *owner = calloc((size_t)nfns + 1, sizeof *owner);
    int64_t *size = calloc((size_t)nfns + 1, sizeof *size);
    int64_t load[16] = {0};
    Part parts[16];
    pthread_t th[16];
    if (nparts > 16) nparts = 16;
    int rc = !names || !owner || !size;
    int i = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn && !rc; fn = LLVMGetNextFunction(fn)) {
        if (LLVMIsDeclaration(fn)) continue;
        size_t len;
        names[i] = strdup(LLVMGetValueName2(fn, &len));
        size[i] = fn_size(fn);
        if (!names[i]) rc = 1;
        i++;
    }
    /* largest first, each to the lightest part so far */
    for (int done = 0; done < nfns && !rc; done++) {
        int big = -1;
        for (int j = 0; j < nfns; j++)
            if (size[j] >= 0 && (big < 0 || size[j] > size[big])) big = j;
        int lightest = 0;
        for (int p = 1; p < nparts; p++)
            if (load[p] < load[lightest]) lightest = p;
        owner[big] = lightest;
        load[lightest] += size[big];
        size[big] = -1;
    }
    LLVMMemoryBufferRef bc = rc ? NULL : LLVMWriteBitcodeToMemoryBuffer(m);
    if (!bc) rc = 1;
    if (!rc) {
        for (int p = 0; p < nparts; p++)
            parts[p] = (Part){.index = p, .o = o, .bitcode = LLVMGetBufferStart(bc),
                              .bitcode_len = LLVMGetBufferSize(bc), .names = names, .owner = owner, .nfns = nfns};
        int started = 1;
        for (int p = 1; p < nparts; p++, started++)
            if (pthread_create(&th[p], NULL, compile_part, &parts[p])) break;
        compile_part(&parts[0]);
        for (int p = started; p < nparts; p++) compile_part(&parts[p]);   /* no thread: here */
        for (int p = 1; p < started; p++) pthread_join(th[p], NULL);
        for (int p = 0; p < nparts; p++) {
            if (parts[p].rc) {
                fprintf(stderr, "nnlc: internal error in codegen: %s\n", parts[p].err ? parts[p].err : "?");
                rc = 1;
            }
            free(parts[p].err);
        }
        LLVMDisposeMemoryBuffer(bc);
    } else {
        fprintf(stderr, "nnlc: error: out of memory splitting the module\n");
    }
    for (int j = 0; j < nfns && names; j++) free(names[j]);
    free(names);
    free(owner);
    free(size);
    if (!rc && o->parts_written) *o->parts_written = nparts;
    return rc;
}
