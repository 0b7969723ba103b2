/* parallel.c — nnl_parallel_for and the thread count of every parallel region the
 * runtime runs. In: a generated loop body and an iteration count. Out: the body run on
 * one contiguous chunk per thread, split the same way for a given thread count so that
 * results never depend on scheduling. Whether a loop is worth splitting at all is the
 * compiler's cost rule; here we only refuse splits that cannot help. */
#include <omp.h>
#include <time.h>

#include "rt_internal.h"

/* Per application thread, so that instances driven from different threads keep their
 * own counts; 0: OpenMP's default. */
static __thread int rt_nthreads;

void rt_set_threads(int threads)
{
    rt_nthreads = threads > 0 ? threads : 0;
}

int rt_threads(void)
{
    int t = rt_nthreads > 0 ? rt_nthreads : omp_get_max_threads();
    return t > 0 ? t : 1;
}

void rt_chunk(int64_t n, int parts, int t, int64_t *lo, int64_t *hi)
{
    int64_t q = n / parts, r = n % parts;
    *lo = t * q + (t < r ? t : r);
    *hi = *lo + q + (t < r);
}

double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Serial when there is at most one iteration per thread's worth of work to hand out
 * (n < 2), one thread, or when already inside a parallel region (no nesting: the outer
 * region owns the cores). Otherwise min(threads, n) chunks, static. */
void nnl_parallel_for(NnlKernelFn fn, const NnlCtx *ctx, int64_t n)
{
    if (n <= 0) return;
    int nt = rt_threads();
    if (nt > n) nt = (int)n;
    if (nt <= 1 || omp_in_parallel()) {
        fn(ctx, 0, n);
        return;
    }
    #pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), parts = omp_get_num_threads();
        int64_t lo, hi;
        rt_chunk(n, parts, t, &lo, &hi);
        if (lo < hi) fn(ctx, lo, hi);
    }
}

void nnl_parallel_for_segments(NnlKernelFn fn, const NnlCtx *ctx, const int64_t *bounds, int nseg)
{
    if (nseg <= 0 || bounds[nseg] <= bounds[0]) return;
    int nt = rt_threads();
    if (nt <= 1 || omp_in_parallel()) {
        fn(ctx, bounds[0], bounds[nseg]);
        return;
    }
    #pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), parts = omp_get_num_threads();
        for (int s = 0; s < nseg; s++) {
            int64_t lo, hi;
            rt_chunk(bounds[s + 1] - bounds[s], parts, t, &lo, &hi);
            if (lo < hi) fn(ctx, bounds[s] + lo, bounds[s] + hi);
        }
    }
}
