/* jit.c — `nnlc run model.nnl [train|eval|predict ...]`: the object codegen.c wrote into
 * memory is linked into nnlc's own process by LLVM's ORC LLJIT and its CLI runs at once.
 * In: the object's bytes and its symbol prefix. Out: nnl_cli_main's exit status. The
 * runtime is linked into nnlc itself (whole archive, symbols exported with -rdynamic), so
 * a process symbol generator resolves every nnl_* call of the generated code, and libm's
 * and OpenMP's alike. */
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <stdlib.h>

#include "ir.h"

static int jit_fail(LLVMErrorRef e, const char *what)
{
    char *msg = LLVMGetErrorMessage(e);
    fprintf(stderr, "nnlc: error: %s: %s\n", what, msg);
    LLVMDisposeErrorMessage(msg);
    return 1;
}

int jit_run(const void *obj, size_t len, const char *prefix, int argc, char **argv)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    LLVMOrcLLJITRef jit;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&jit, LLVMOrcCreateLLJITBuilder());
    if (e) return jit_fail(e, "cannot start the JIT");
    int rc = 1;
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jit);
    LLVMOrcDefinitionGeneratorRef gen;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit), NULL, NULL);
    if (e) {
        rc = jit_fail(e, "cannot search nnlc's own symbols");
        goto out;
    }
    LLVMOrcJITDylibAddGenerator(jd, gen);
    LLVMMemoryBufferRef mb = LLVMCreateMemoryBufferWithMemoryRangeCopy(obj, len, "model.o");
    if ((e = LLVMOrcLLJITAddObjectFile(jit, jd, mb))) {
        rc = jit_fail(e, "cannot add the model's code to the JIT");
        goto out;
    }
    char name[256];
    snprintf(name, sizeof name, "%s_desc", prefix);
    LLVMOrcExecutorAddress addr = 0;
    if ((e = LLVMOrcLLJITLookup(jit, &addr, name))) {
        rc = jit_fail(e, "cannot link the model's code");
        goto out;
    }
    fflush(stdout);
    rc = nnl_cli_main((const NnlModelDesc *)(uintptr_t)addr, argc, argv);
out:
    LLVMOrcDisposeLLJIT(jit);
    return rc;
}
