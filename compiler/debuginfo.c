/* debuginfo.c — DWARF for `nnlc -g`, through llvm-c/DebugInfo.h. In: the module codegen.c
 * builds and the source span every IR node carries. Out: a compile unit, one subprogram
 * per generated kernel and launcher, and a line location on the instructions of each
 * node, so that gdb breaks on and steps through the .nnl lines (stdlib layers included)
 * of the loops that compute them. Functions without a subprogram (the C API wrappers,
 * the descriptor) get no locations: cg_dbg_clear leaves the builder without one. */
#include <llvm-c/DebugInfo.h>
#include <stdlib.h>
#include <string.h>

#include "debuginfo.h"

#define MAX_FILES 32

struct CgDebug {
    LLVMContextRef cx;
    LLVMModuleRef m;
    LLVMDIBuilderRef di;
    LLVMMetadataRef cu, fn_type;
    LLVMMetadataRef scope;          /* the subprogram being generated, or NULL */
    const SrcFile *files[MAX_FILES];
    LLVMMetadataRef difiles[MAX_FILES];
    int nfiles;
};

/* The DIFile of a source, made once: directory and base name of its path. */
static LLVMMetadataRef file_of(CgDebug *d, const SrcFile *f)
{
    for (int i = 0; i < d->nfiles; i++)
        if (d->files[i] == f) return d->difiles[i];
    const char *path = f && f->path ? f->path : "<unknown>";
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dirlen = slash ? (size_t)(slash - path) : 1;
    LLVMMetadataRef df = LLVMDIBuilderCreateFile(d->di, base, strlen(base), slash ? path : ".", dirlen);
    if (d->nfiles < MAX_FILES) {
        d->files[d->nfiles] = f;
        d->difiles[d->nfiles++] = df;
    }
    return df;
}

CgDebug *cg_dbg_begin(LLVMModuleRef m, const SrcFile *main_file, bool optimized)
{
    CgDebug *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->m = m;
    d->cx = LLVMGetModuleContext(m);
    d->di = LLVMCreateDIBuilder(m);
    LLVMMetadataRef file = file_of(d, main_file);
    const char *producer = "nnlc";
    /* NNL has no DWARF language code of its own; C is what gdb handles best. */
    d->cu = LLVMDIBuilderCreateCompileUnit(d->di, LLVMDWARFSourceLanguageC, file, producer, strlen(producer),
                                           optimized, "", 0, 0, "", 0, LLVMDWARFEmissionFull, 0, 0, 0,
                                           "", 0, "", 0);
    d->fn_type = LLVMDIBuilderCreateSubroutineType(d->di, file, NULL, 0, LLVMDIFlagZero);
    LLVMAddModuleFlag(m, LLVMModuleFlagBehaviorWarning, "Debug Info Version", 18,
                      LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(d->cx), LLVMDebugMetadataVersion(), 0)));
    /* DWARF 4: gdb 13 misreads the runtime's (gcc's) aranges beside a DWARF 5 unit */
    LLVMAddModuleFlag(m, LLVMModuleFlagBehaviorWarning, "Dwarf Version", 13,
                      LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(d->cx), 4, 0)));
    return d;
}

void cg_dbg_function(CgDebug *d, LLVMValueRef fn, LLVMBuilderRef b, Span at)
{
    if (!d) return;
    size_t len = 0;
    const char *name = LLVMGetValueName2(fn, &len);
    LLVMMetadataRef file = file_of(d, at.file);
    unsigned line = at.first_line > 0 ? (unsigned)at.first_line : 1;
    d->scope = LLVMDIBuilderCreateFunction(d->di, file, name, len, name, len, file, line, d->fn_type,
                                           1, 1, line, LLVMDIFlagPrototyped, 0);
    LLVMSetSubprogram(fn, d->scope);
    cg_dbg_at(d, b, at);
}

void cg_dbg_at(CgDebug *d, LLVMBuilderRef b, Span at)
{
    if (!d || !d->scope) return;
    unsigned line = at.first_line > 0 ? (unsigned)at.first_line : 1;
    unsigned col = at.first_col > 0 ? (unsigned)at.first_col : 0;
    /* a span from another file (a stdlib layer) is a lexical block of that file */
    LLVMMetadataRef scope = d->scope;
    if (at.file && at.file != d->files[0])
        scope = LLVMDIBuilderCreateLexicalBlockFile(d->di, d->scope, file_of(d, at.file), 0);
    LLVMSetCurrentDebugLocation2(b, LLVMDIBuilderCreateDebugLocation(d->cx, line, col, scope, NULL));
}

void cg_dbg_clear(CgDebug *d, LLVMBuilderRef b)
{
    if (!d) return;
    d->scope = NULL;
    LLVMSetCurrentDebugLocation2(b, NULL);
}

void cg_dbg_end(CgDebug *d)
{
    if (!d) return;
    LLVMDIBuilderFinalize(d->di);
    LLVMDisposeDIBuilder(d->di);
    free(d);
}
