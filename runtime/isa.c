/* isa.c — which copy of the arithmetic runs. In: the CPU's features. Out: each function
 * of isa_list.h bound, once, when the program is loaded, to its copy for the highest
 * x86-64 level this CPU runs (v4: AVX-512, v3: AVX2 and FMA, v1: any x86-64), so that a
 * program built for a generic x86-64 (`nnlc --target x86-64`) still multiplies with
 * AVX-512 on a machine that has it and never executes an instruction its CPU lacks. */
#include "rt_internal.h"

/* The resolvers run while the dynamic loader relocates the program, before a sanitizer
 * runtime has set itself up: nothing in them may be instrumented. */
#define RT_RESOLVER __attribute__((no_sanitize_address, no_sanitize("undefined")))

RT_RESOLVER static int isa_level(void)
{
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
             __builtin_cpu_supports("bmi2");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512cd");
    return v4 ? 4 : v3 ? 3 : 1;
}

const char *rt_isa_name(void)
{
    switch (isa_level()) {
    case 4: return "x86-64-v4";
    case 3: return "x86-64-v3";
    default: return "x86-64";
    }
}

#define RT_ISA_FN(f)                                                                    \
    extern __typeof__(f) f##_v4, f##_v3, f##_v1;                                        \
    RT_RESOLVER static __typeof__(f) *resolve_##f(void)                                 \
    {                                                                                   \
        int level = isa_level();                                                        \
        return level == 4 ? f##_v4 : level == 3 ? f##_v3 : f##_v1;                     \
    }                                                                                   \
    __typeof__(f) f __attribute__((ifunc("resolve_" #f)));
#include "isa_list.h"
