/* instance.c — NnlModel: one arena per instance, parameter initialization, and the
 * wrappers the C API of a generated object exports. In: a model descriptor and batches
 * of rows. Out: outputs, losses, gradients and updated parameters in the arena. Also
 * home of rt_alloc, the one allocation function of the runtime (with a failure hook for
 * tests). What the entry points compute is the generated code's business. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rt_internal.h"

/* ---- allocation ---- */

static int64_t fail_countdown;
static int64_t alloc_calls;   /* every rt_alloc, from any thread */

int64_t rt_alloc_count(void)
{
    return __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED);
}

void rt_alloc_fail_after(int64_t n)
{
    fail_countdown = n > 0 ? n : 0;
}

void *rt_alloc(size_t bytes)
{
    __atomic_fetch_add(&alloc_calls, 1, __ATOMIC_RELAXED);
    if (fail_countdown > 0 && --fail_countdown == 0) return NULL;
    void *p = NULL;
    if (bytes == 0) bytes = 1;
    bytes = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}

void *rt_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = rt_alloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

/* rt_alloc on 2 MB pages where the block is 1 MB or more: 2 MB aligned, whole 2 MB
 * pages, and madvise(MADV_HUGEPAGE), which this kernel setting (transparent huge pages
 * on madvise) waits for. For the memory a step sweeps: a model's arena (char GPT reads
 * and writes ~100 MB a step, far beyond what the TLB maps in 4 KB pages: 4-7% more
 * samples/s on one and two threads, alternated runs, Intel; text LSTM 1-5%). The GEMM's
 * packing buffers (2.2 MB a thread) gained nothing so. Counted and failed as rt_alloc is. */
void *rt_alloc_huge(size_t bytes)
{
    size_t huge = (size_t)2 << 20;
    if (bytes < huge / 2) return rt_alloc(bytes);
    if (bytes > SIZE_MAX - huge) return NULL;
    __atomic_fetch_add(&alloc_calls, 1, __ATOMIC_RELAXED);
    if (fail_countdown > 0 && --fail_countdown == 0) return NULL;
    bytes = (bytes + huge - 1) & ~(huge - 1);
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);   /* advice only: 4 KB pages if the kernel says no */
#endif
    return p;
}

void rt_free(void *p)
{
    free(p);
}

/* ---- instances ---- */

int rt_fail(NnlModel *m, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    return status;
}

/* A region [off, off + size) must lie in [0, limit). */
static int inside(int64_t off, int64_t size, int64_t limit)
{
    return size <= 0 || (off >= 0 && off <= limit && size <= limit - off);
}

static const char *check_desc(const NnlModelDesc *d)
{
    if (d->fixed_floats < 0 || d->per_sample_floats < 0 || d->in_size < 0 ||
        d->out_size < 0 || d->label_size < 0 || d->nparams < 0 || d->nparam_floats < 0)
        return "model descriptor has negative sizes";
    if (!inside(d->input_off, d->in_size, d->per_sample_floats) ||
        !inside(d->label_off, d->label_size, d->per_sample_floats) ||
        !inside(d->output_off, d->out_size, d->per_sample_floats))
        return "model descriptor: input, label or output outside the batch region";
    if (!inside(d->param_off, d->nparam_floats, d->fixed_floats) ||
        !inside(d->grad_off, d->nparam_floats, d->fixed_floats) ||
        !inside(d->state_off, d->state_floats, d->fixed_floats) ||
        !inside(d->loss_off, d->loss ? 1 : 0, d->fixed_floats))
        return "model descriptor: parameters, gradients, state or loss outside the fixed region";
    if (d->nparams > 0 && !d->params) return "model descriptor: parameter table missing";
    for (int i = 0; i < d->nparams; i++)
        if (!inside(d->params[i].offset, d->params[i].size, d->nparam_floats))
            return "model descriptor: a parameter lies outside the parameter block";
    return NULL;
}

/* An arena larger than the machine's memory (or the address-space limit) is refused
 * up front with the size it needs: calloc may well succeed on an overcommitting system
 * and the first training step be killed for it. The message lives per thread. */
static const char *fmt_bytes(char *out, double n)   /* out: 32 bytes */
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (n >= 1024 && u < 6) n /= 1024, u++;
    snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", n, units[u]);
    return out;
}

static const char *check_memory(const NnlModelDesc *d, int64_t floats, int64_t max_batch)
{
    static _Thread_local char msg[512];
    double need = (double)floats * sizeof(float), have = 0;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0) have = (double)pages * (double)psize;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (have == 0 || (double)rl.rlim_cur < have))
        have = (double)rl.rlim_cur;
    const char *env = getenv("NNL_MEMORY_LIMIT");   /* bytes; tests use it */
    if (env && *env) have = strtod(env, NULL);
    if (have <= 0 || need <= have) return NULL;
    char a[32], b[32], c[32];
    double fixed = (double)d->fixed_floats * sizeof(float);
    snprintf(msg, sizeof msg, "nnl_create: the model needs %s of memory (%lld floats with batch "
             "%lld) but this machine has %s; %s%s%s", fmt_bytes(a, need), (long long)floats,
             (long long)max_batch, fmt_bytes(b, have),
             fixed > have ? "its parameters, gradients and optimizer state alone need " : "try a smaller --batch",
             fixed > have ? fmt_bytes(c, fixed) : "", fixed > have ? ": make it smaller" : "");
    return msg;
}

NnlModel *nnl_create(const NnlModelDesc *d, int64_t max_batch, const char **err)
{
    const char *why = NULL;
    if (!d) why = "nnl_create: no model descriptor";
    else if (d->abi_version != NNL_ABI_VERSION)
        why = "nnl_create: model built for a different runtime ABI version; recompile it";
    else if (max_batch < 1) why = "nnl_create: max_batch must be at least 1";
    else why = check_desc(d);
    int64_t floats = 0;
    if (!why && (d->per_sample_floats > 0 && max_batch > (INT64_MAX - d->fixed_floats) / d->per_sample_floats))
        why = "nnl_create: arena size overflows";
    if (!why) {
        floats = d->fixed_floats + d->per_sample_floats * max_batch;
        if ((uint64_t)floats > SIZE_MAX / sizeof(float) - 64) why = "nnl_create: arena size overflows";
    }
    if (!why) why = check_memory(d, floats, max_batch);
    if (why) {
        if (err) *err = why;
        return NULL;
    }
    NnlModel *m = rt_calloc(1, sizeof *m);
    float *arena = m ? rt_alloc_huge((size_t)floats * sizeof(float)) : NULL;
    if (arena) memset(arena, 0, (size_t)floats * sizeof(float));
    if (!arena) {
        rt_free(m);
        if (err) *err = "nnl_create: out of memory for the model's arena";
        return NULL;
    }
    m->d = d;
    m->arena = arena;
    m->arena_floats = floats;
    m->ctx.arena = arena;
    m->ctx.max_batch = max_batch;
    m->ctx.batch = max_batch;
    m->ctx.lr = d->train.optim.lr;
    m->ctx.seed = d->train.seed;
    if (err) *err = NULL;
    return m;
}

void nnl_destroy(NnlModel *m)
{
    if (!m) return;
    rt_free(m->arena);
    rt_free(m);
}

/* Glorot & Bengio 2010: U(-l, l), l = sqrt(6 / (fan_in + fan_out)), or N(0, 2/(in+out)).
 * He et al. 2015: N(0, 2 / fan_in), or U(-l, l), l = sqrt(6 / fan_in). */
static void init_one(const NnlParam *p, float *w, RtRng *r)
{
    double fin = p->fan_in > 0 ? (double)p->fan_in : 1.0;
    double fout = p->fan_out > 0 ? (double)p->fan_out : 1.0;
    double lo = 0, hi = 0, mean = 0, sd = 0;
    int normal = 0;
    switch (p->init) {
    case NNL_INIT_ZEROS: for (int64_t i = 0; i < p->size; i++) w[i] = 0.0f; return;
    case NNL_INIT_ONES:  for (int64_t i = 0; i < p->size; i++) w[i] = 1.0f; return;
    case NNL_INIT_CONST: for (int64_t i = 0; i < p->size; i++) w[i] = p->a; return;
    case NNL_INIT_UNIFORM: lo = p->a; hi = p->b; break;
    case NNL_INIT_NORMAL: normal = 1; mean = p->a; sd = p->b; break;
    case NNL_INIT_GLOROT_UNIFORM: hi = sqrt(6.0 / (fin + fout)); lo = -hi; break;
    case NNL_INIT_GLOROT_NORMAL: normal = 1; sd = sqrt(2.0 / (fin + fout)); break;
    case NNL_INIT_HE_UNIFORM: hi = sqrt(6.0 / fin); lo = -hi; break;
    case NNL_INIT_HE_NORMAL: normal = 1; sd = sqrt(2.0 / fin); break;
    default: for (int64_t i = 0; i < p->size; i++) w[i] = 0.0f; return;
    }
    for (int64_t i = 0; i < p->size; i++)
        w[i] = normal ? (float)(mean + sd * rt_rng_normal(r))
                      : (float)(lo + (hi - lo) * rt_rng_uniform_double(r));
}

void nnl_init_params(NnlModel *m, uint64_t seed)
{
    const NnlModelDesc *d = m->d;
    RtRng r;
    rt_rng_seed(&r, seed);
    float *block = m->arena + d->param_off;
    for (int i = 0; i < d->nparams; i++) init_one(&d->params[i], block + d->params[i].offset, &r);
    if (d->state_floats > 0) memset(m->arena + d->state_off, 0, sizeof(float) * d->state_floats);
    m->ctx.step = 0;
    m->ctx.seed = seed;
    rt_params_written(m);
}

void nnl_set_threads(NnlModel *m, int threads)
{
    m->threads = threads > 0 ? threads : 0;
}

int64_t nnl_max_batch(const NnlModel *m) { return m->ctx.max_batch; }
void nnl_set_lr(NnlModel *m, float lr) { m->ctx.lr = lr; }
int64_t nnl_step_count(const NnlModel *m) { return m->ctx.step; }
const char *nnl_last_error(const NnlModel *m) { return m ? m->err : "no model"; }

float *rt_input(NnlModel *m)
{
    return m->arena + m->d->fixed_floats + m->d->input_off * m->ctx.max_batch;
}

float *rt_label(NnlModel *m)
{
    return m->arena + m->d->fixed_floats + m->d->label_off * m->ctx.max_batch;
}

float *rt_output(NnlModel *m)
{
    return m->arena + m->d->fixed_floats + m->d->output_off * m->ctx.max_batch;
}

int rt_run(NnlModel *m, int which, int64_t batch)
{
    static const char *const names[] = {"forward", "loss", "grad", "train_step"};
    const NnlModelDesc *d = m->d;
    NnlStepFn fn = which == RT_FORWARD ? d->forward : which == RT_LOSS ? d->loss
                 : which == RT_GRAD ? d->grad : d->train_step;
    if (!fn)
        return rt_fail(m, NNL_ERR_UNSUPPORTED, "model '%s' has no %s entry point%s", d->name ? d->name : "?",
                       names[which], which != RT_FORWARD ? " (compiled with --inference?)" : "");
    if (batch < 1 || batch > m->ctx.max_batch)
        return rt_fail(m, NNL_ERR_BATCH, "batch %lld out of range [1, %lld]", (long long)batch,
                    (long long)m->ctx.max_batch);
    m->ctx.batch = batch;
    rt_set_threads(m->threads);
    if (!m->params_settled || m->params_exposed) nnl_params_changed();
    m->params_settled = (which == RT_FORWARD || which == RT_LOSS) && !m->params_exposed;
    fn(&m->ctx);
    if (which == RT_TRAIN) m->ctx.step++;
    return 0;
}

/* The wrappers: copy rows in, run, copy results out. */
static int call(NnlModel *m, int which, const float *x, const float *y, int64_t batch,
                float *out, float *loss)
{
    if (!m) return NNL_ERR_ARG;
    const NnlModelDesc *d = m->d;
    if (!x || (which != RT_FORWARD && d->label_size > 0 && !y) || (which == RT_FORWARD && !out))
        return rt_fail(m, NNL_ERR_ARG, "NULL argument");
    if (batch < 1 || batch > m->ctx.max_batch)
        return rt_fail(m, NNL_ERR_BATCH, "batch %lld out of range [1, %lld]", (long long)batch,
                    (long long)m->ctx.max_batch);
    memcpy(rt_input(m), x, sizeof(float) * batch * d->in_size);
    if (which != RT_FORWARD && d->label_size > 0)
        memcpy(rt_label(m), y, sizeof(float) * batch * d->label_size);
    int rc = rt_run(m, which, batch);
    if (rc < 0) return rc;
    if (out) memcpy(out, rt_output(m), sizeof(float) * batch * d->out_size);
    if (loss) *loss = m->arena[d->loss_off];
    return 0;
}

int nnl_forward(NnlModel *m, const float *x, int64_t batch, float *out)
{
    return call(m, RT_FORWARD, x, NULL, batch, out, NULL);
}

int nnl_loss(NnlModel *m, const float *x, const float *y, int64_t batch, float *loss)
{
    return call(m, RT_LOSS, x, y, batch, NULL, loss);
}

int nnl_grad(NnlModel *m, const float *x, const float *y, int64_t batch, float *loss)
{
    return call(m, RT_GRAD, x, y, batch, NULL, loss);
}

int nnl_train_step(NnlModel *m, const float *x, const float *y, int64_t batch, float *loss)
{
    return call(m, RT_TRAIN, x, y, batch, NULL, loss);
}

int nnl_param_count(const NnlModel *m) { return m->d->nparams; }

const NnlParam *nnl_param_info(const NnlModel *m, int i)
{
    return i >= 0 && i < m->d->nparams ? &m->d->params[i] : NULL;
}

int nnl_param_index(const NnlModel *m, const char *name)
{
    for (int i = 0; name && i < m->d->nparams; i++)
        if (m->d->params[i].name && !strcmp(m->d->params[i].name, name)) return i;
    return -1;
}

float *nnl_param_data(NnlModel *m, int i)
{
    if (i < 0 || i >= m->d->nparams) return NULL;
    m->params_exposed = 1;   /* the caller may write them from now on, at any time */
    return m->arena + m->d->param_off + m->d->params[i].offset;
}

float *nnl_grad_data(NnlModel *m, int i)
{
    if (i < 0 || i >= m->d->nparams) return NULL;
    m->ctx.grad_gen++;   /* the caller may write them: see nnl_embedding_dw_rows */
    return m->arena + m->d->grad_off + m->d->params[i].offset;
}
