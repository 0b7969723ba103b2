/* cgsplit.h — what codegen.c and cgsplit.c share: the target machine, the optimization
 * pipeline, and the module written as several objects at once. */
#ifndef NNL_CGSPLIT_H
#define NNL_CGSPLIT_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "ir.h"

/* Registers LLVM's targets; once, before any thread makes a target machine. */
void cg_target_init(void);
/* The host's CPU and features by default, else --target / --cpu's. NULL and *err on failure. */
LLVMTargetMachineRef cg_target_machine(const CgOptions *o, char **err);
/* default<O1..3> with loop and SLP vectorization; prints and returns 1 on failure. */
int cg_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int opt_level);

/* Writes module m (its triple and data layout set) as up to o->nparts object files
 * o->part_paths[0..], each optimized and compiled on its own thread in its own LLVM
 * context; *o->parts_written says how many. Every function is defined in exactly one
 * part; part 0 also holds every global variable; internal symbols become hidden ones
 * under the model's prefix so the parts link into one program. 0 on success. */
int cg_emit_parts(LLVMModuleRef m, const CgOptions *o, int nparts);

#endif
