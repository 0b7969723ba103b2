/* bench.c — `./model bench`: the speed of a generated model on synthetic data, for
 * `make bench` (bench/run.sh) to set beside PyTorch's. In: the model descriptor and
 * flags. Out: one line of `key value` pairs on stdout: training samples/s (the median of
 * --repeat timed runs of --steps optimizer steps each, after --warmup steps), batch-1
 * forward latency (the median of as many runs of --calls forwards), the runtime
 * allocations and minor page faults of the timed training steps (0 and 0: a step
 * allocates nothing and touches no new memory) and the peak resident memory. Inputs and
 * labels sit in the instance's arena before timing starts, so data loading is not
 * measured: only what the generated code and the runtime's kernels do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "rt_internal.h"

typedef struct BenchOpts {
    int64_t batch, steps, repeat, warmup, calls, profile;
    int threads;
} BenchOpts;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

/* Inputs uniform in [0, 1), or token ids uniform over the vocabulary when the model reads
 * text; labels valid for the task: class indices below the output's last dimension, 0/1,
 * or reals. */
static void fill_batch(NnlModel *m, int64_t batch)
{
    const NnlModelDesc *d = m->d;
    RtRng r;
    rt_rng_seed(&r, 1);
    float *x = rt_input(m), *y = rt_label(m);
    int64_t vocab = d->train.data.kind == NNL_DATA_TEXT ? d->train.data.vocab : 0;
    for (int64_t i = 0; i < batch * d->in_size; i++)
        x[i] = vocab > 0 ? (float)rt_rng_below(&r, (uint64_t)vocab) : rt_rng_uniform(&r);
    int64_t classes = d->out_rank ? d->out_shape[d->out_rank - 1] : 1;
    for (int64_t i = 0; i < batch * d->label_size; i++) {
        switch (d->train.task) {
        case NNL_TASK_MULTICLASS: y[i] = (float)rt_rng_below(&r, (uint64_t)(classes > 1 ? classes : 2)); break;
        case NNL_TASK_BINARY: y[i] = (float)rt_rng_below(&r, 2); break;
        default: y[i] = rt_rng_uniform(&r); break;
        }
    }
}

static int usage(const char *prog, const char *why)
{
    if (why) fprintf(stderr, "%s bench: %s\n", prog, why);
    fprintf(why ? stderr : stdout,
            "usage: %s bench [--batch B] [--threads T] [--steps N] [--repeat R] [--warmup W] [--calls C]\n"
            "                [--profile P]\n"
            "  times R runs of N training steps on synthetic data (after W warm-up steps) and\n"
            "  R runs of C batch-1 forwards; prints medians: train_samples_per_s, forward_b1_us\n"
            "  --profile P: then P more training steps and P*C batch-1 forwards timed kernel\n"
            "  by kernel, the kernels (as nnlc --emit=fused names them) listed by their share\n",
            prog);
    return why ? 2 : 0;
}

static int parse(BenchOpts *o, const NnlModelDesc *d, const char *prog, int argc, char **argv)
{
    *o = (BenchOpts){.batch = d->train.batch > 0 ? d->train.batch : 32, .steps = 50,
                     .repeat = 7, .warmup = 10, .calls = 200, .profile = 0};
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) return usage(prog, NULL) - 1;
        int64_t *slot = !strcmp(f, "--batch") ? &o->batch : !strcmp(f, "--steps") ? &o->steps
                      : !strcmp(f, "--repeat") ? &o->repeat : !strcmp(f, "--warmup") ? &o->warmup
                      : !strcmp(f, "--calls") ? &o->calls : !strcmp(f, "--profile") ? &o->profile : NULL;
        int64_t threads = -1;
        if (!slot && !strcmp(f, "--threads")) slot = &threads;
        if (!slot) {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown flag '%s'", f);
            return usage(prog, msg);
        }
        char *end = NULL;
        long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : -1;
        if (i + 1 >= argc || *end || v < (slot == &o->warmup || slot == &threads || slot == &o->profile ? 0 : 1) || v > 1000000000) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s needs a %s number", f,
                     slot == &o->warmup || slot == &threads || slot == &o->profile ? "non-negative" : "positive");
            return usage(prog, msg);
        }
        *slot = v;
        if (slot == &threads) o->threads = (int)v;
        i++;
    }
    return 0;
}

typedef struct KernelTime { double s; int i; } KernelTime;

static int cmp_time(const void *a, const void *b)
{
    const KernelTime *x = a, *y = b;
    return x->s > y->s ? -1 : x->s < y->s ? 1 : x->i - y->i;
}

/* `runs` runs of entry point `which` (RT_TRAIN or RT_FORWARD) kernel by kernel, as the
 * entry point runs them (in its order), each kernel timed; a table of the kernels by their
 * share of the run. */
static void profile(NnlModel *m, int which, int64_t batch, int64_t runs, double run_s)
{
    const NnlModelDesc *d = m->d;
    if (!d->kernels || !d->kernel_entries || d->nkernels <= 0) {
        printf("profile: this model has no kernel table\n");
        return;
    }
    KernelTime *kt = rt_alloc(sizeof *kt * (size_t)d->nkernels);
    if (!kt) return;
    for (int i = 0; i < d->nkernels; i++) kt[i] = (KernelTime){0, i};
    m->ctx.batch = batch;
    m->ctx.entry = which;   /* (as the entry point would set it) */
    rt_set_threads(m->threads);
    double total = 0;
    for (int64_t s = 0; s < runs; s++) {
        for (int i = 0; i < d->nkernels; i++) {
            if (!(d->kernel_entries[i] & 1u << which) || !d->kernels[i]) continue;
            double t0 = rt_now();
            d->kernels[i](&m->ctx);
            double t = rt_now() - t0;
            kt[i].s += t;
            total += t;
        }
        if (which == RT_TRAIN) m->ctx.step++;
    }
    qsort(kt, (size_t)d->nkernels, sizeof *kt, cmp_time);
    printf("profile: %lld %s kernel by kernel: %.1f us each (%.1f us run whole)\n", (long long)runs,
           which == RT_TRAIN ? "training steps" : "batch-1 forwards", 1e6 * total / (double)runs,
           1e6 * run_s);
    printf("  share   us/run   kernel\n");
    for (int i = 0; i < d->nkernels && kt[i].s > 0; i++)
        printf("  %5.1f%% %9.2f  %s\n", 100 * kt[i].s / total, 1e6 * kt[i].s / (double)runs,
               d->kernel_desc ? d->kernel_desc[kt[i].i] : "?");
    rt_free(kt);
}

int rt_bench_main(const NnlModelDesc *d, const char *prog, int argc, char **argv)
{
    BenchOpts o;
    int rc = parse(&o, d, prog, argc, argv);
    if (rc) return rc < 0 ? 0 : rc;
    const char *err = NULL;
    NnlModel *m = nnl_create(d, o.batch, &err);
    if (!m) {
        fprintf(stderr, "%s bench: %s\n", prog, err ? err : "out of memory");
        return 1;
    }
    nnl_set_threads(m, o.threads);
    nnl_init_params(m, 1);
    fill_batch(m, o.batch);
    double *t = rt_alloc(sizeof(double) * (size_t)o.repeat);
    if (!t) { nnl_destroy(m); fprintf(stderr, "%s bench: out of memory\n", prog); return 1; }
    memset(t, 0, sizeof(double) * (size_t)o.repeat);   /* its pages touched before timing */
    for (int64_t i = 0; i < o.warmup; i++) rt_run(m, RT_TRAIN, o.batch);
    (void)rt_now();   /* its first call faults in the vDSO's pages */
    long faults = minor_faults();
    int64_t allocs = rt_alloc_count();
    for (int64_t r = 0; r < o.repeat; r++) {
        double t0 = rt_now();
        for (int64_t i = 0; i < o.steps; i++) rt_run(m, RT_TRAIN, o.batch);
        t[r] = (double)(o.steps * o.batch) / (rt_now() - t0);
    }
    faults = minor_faults() - faults;
    allocs = rt_alloc_count() - allocs;
    double train = median(t, o.repeat);
    float loss = m->arena[d->loss_off];   /* before the forwards below reuse its memory */
    for (int64_t i = 0; i < o.warmup; i++) rt_run(m, RT_FORWARD, 1);
    for (int64_t r = 0; r < o.repeat; r++) {
        double t0 = rt_now();
        for (int64_t i = 0; i < o.calls; i++) rt_run(m, RT_FORWARD, 1);
        t[r] = (rt_now() - t0) * 1e6 / (double)o.calls;
    }
    double fwd = median(t, o.repeat);
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    printf("model %s batch %lld threads %d train_samples_per_s %.1f forward_b1_us %.2f "
           "train_page_faults %ld train_allocs %lld max_rss_kb %ld loss %.6g isa %s\n",
           d->name, (long long)o.batch, rt_threads(), train, fwd, faults, (long long)allocs, u.ru_maxrss,
           (double)loss, rt_isa_name());
    if (o.profile > 0) {
        profile(m, RT_TRAIN, o.batch, o.profile, (double)o.batch / train);
        profile(m, RT_FORWARD, 1, o.profile * o.calls, fwd * 1e-6);
    }
    rt_free(t);
    nnl_destroy(m);
    return 0;
}
