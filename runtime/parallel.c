/* parallel.c — nnl_parallel_for and the thread count of every parallel region the
 * runtime runs. In: a generated loop body and an iteration count. Out: the body run on
 * one contiguous chunk per working thread, split the same way for a given thread count
 * so that results never depend on scheduling. Whether a loop is worth splitting at all
 * is the compiler's cost rule (NNL_PAR_MIN_ELEMS); how many threads it pays for is
 * rt_threads_for's. Every region is the whole team (see rt_share). */
#include <omp.h>
#include <pthread.h>
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

/* A region's start and barrier cost ~0.7-3 us for two threads on these VMs (0.7 with
 * the team still spinning from the kernel before: 2026-12-06, Intel) and grow with the
 * thread count; a machine of 16 threads splitting 6 us of work 16 ways spent longer
 * waiting than working (the LSTM's step ran at 0.6x its one-thread speed on 16 threads).
 * So each thread beyond the first must bring half a pair's work. */
int rt_threads_for(double work, double pair, int64_t units)
{
    if (work < pair || omp_in_parallel()) return 1;
    int nt = rt_threads();
    double by_work = 2.0 * work / pair;
    if (nt > by_work) nt = (int)by_work;
    if (nt > units) nt = (int)units;
    return nt > 1 ? nt : 1;
}

void rt_chunk(int64_t n, int parts, int t, int64_t *lo, int64_t *hi)
{
    int64_t q = n / parts, r = n % parts;
    *lo = t * q + (t < r ? t : r);
    *hi = *lo + q + (t < r);
}

void rt_share(int64_t n, int nt, int64_t *lo, int64_t *hi)
{
    int parts = omp_get_num_threads(), t = omp_get_thread_num();
    if (parts > nt) parts = nt;
    if (t >= parts) {
        *lo = *hi = n;
        return;
    }
    rt_chunk(n, parts, t, lo, hi);
}

/* ---- per-thread scratch ---- */

enum { SCRATCH_MAX = 64 };                   /* buffers a thread may hold */
static __thread RtScratch *scratch_held[SCRATCH_MAX];
static __thread int scratch_n;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

/* The key's destructor runs in the ending thread, its TLS still in place. */
static void free_scratch(void *unused)
{
    for (int i = 0; i < scratch_n; i++) {
        rt_free(scratch_held[i]->p);
        *scratch_held[i] = (RtScratch){0};
    }
    scratch_n = 0;
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch); }

float *rt_scratch(RtScratch *s, size_t floats)
{
    if (floats <= s->cap) return s->p;
    int held = 0;
    for (int i = 0; i < scratch_n; i++) held |= scratch_held[i] == s;
    if (!held) {
        if (scratch_n == SCRATCH_MAX) return NULL;
        pthread_once(&scratch_once, make_scratch_key);
        pthread_setspecific(scratch_key, &scratch_n);
        scratch_held[scratch_n++] = s;
    }
    rt_free(s->p);
    s->p = rt_alloc(floats * sizeof(float));
    s->cap = s->p ? floats : 0;
    return s->p;
}

double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Serial for one thread or when already inside a parallel region (no nesting: the outer
 * region owns the cores). Otherwise one chunk per NNL_PAR_MIN_ELEMS / 2 elements of work
 * (n * weight; the compiler calls these from NNL_PAR_MIN_ELEMS of work up), at most one
 * per thread, static. */
void nnl_parallel_for(NnlKernelFn fn, const NnlCtx *ctx, int64_t n)
{
    nnl_parallel_for_work(fn, ctx, n, 1);
}

void nnl_parallel_for_work(NnlKernelFn fn, const NnlCtx *ctx, int64_t n, int weight)
{
    if (n <= 0) return;
    int nt = rt_threads_for((double)n * (weight > 1 ? weight : 1), NNL_PAR_MIN_ELEMS, n);
    if (nt <= 1) {
        fn(ctx, 0, n);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        int64_t lo, hi;
        rt_share(n, nt, &lo, &hi);
        if (lo < hi) fn(ctx, lo, hi);
    }
}

void nnl_update_segments(NnlKernelFn fn, NnlKernelFn split_fn, const NnlCtx *ctx, const int64_t *bounds,
                         int nseg)
{
    if (nseg <= 0 || bounds[nseg] <= bounds[0]) return;
    int nt = rt_threads_for((double)(bounds[nseg] - bounds[0]), NNL_PAR_MIN_ELEMS, INT64_MAX);
    if (nt <= 1) {
        fn(ctx, bounds[0], bounds[nseg]);
        return;
    }
    #pragma omp parallel num_threads(rt_threads())
    {
        for (int s = 0; s < nseg; s++) {
            int64_t lo, hi;
            rt_share(bounds[s + 1] - bounds[s], nt, &lo, &hi);
            if (lo < hi) split_fn(ctx, bounds[s] + lo, bounds[s] + hi);
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_sfence();   /* the non-temporal stores seen before the region ends */
#endif
    }
}

void nnl_parallel_for_segments(NnlKernelFn fn, const NnlCtx *ctx, const int64_t *bounds, int nseg)
{
    nnl_update_segments(fn, fn, ctx, bounds, nseg);
}
