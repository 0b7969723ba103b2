/* debuginfo.h — the interface of debuginfo.c (DWARF line tables for `nnlc -g`) to
 * codegen.c. Kept apart from ir.h because it speaks LLVM's C types. Every function
 * accepts a NULL CgDebug (no -g) and then does nothing. */
#ifndef NNL_DEBUGINFO_H
#define NNL_DEBUGINFO_H

#include <llvm-c/Core.h>

#include "ir.h"

typedef struct CgDebug CgDebug;
CgDebug *cg_dbg_begin(LLVMModuleRef m, const SrcFile *main_file, bool optimized);
/* fn gets a subprogram at `at`; the builder's location moves there. */
void cg_dbg_function(CgDebug *d, LLVMValueRef fn, LLVMBuilderRef b, Span at);
/* The instructions built next belong to the source at `at`. */
void cg_dbg_at(CgDebug *d, LLVMBuilderRef b, Span at);
/* The instructions built next have no location (a function without a subprogram). */
void cg_dbg_clear(CgDebug *d, LLVMBuilderRef b);
/* Finalizes the debug info; before the module is verified. */
void cg_dbg_end(CgDebug *d);

#endif
