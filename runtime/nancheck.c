/* nancheck.c — training's guard against NaN and Inf (--nan=stop|skip|ignore). In: an
 * instance before and after a train step (whose update flags a value that was not finite:
 * NnlModelDesc.finite_off). Out: whether the loss, the gradients and the
 * parameters are finite and, when not, a message naming the first parameter (in the
 * descriptor's order, gradients before values) and the element that went bad; in skip
 * mode the parameters, optimizer state and step count put back as they were before the
 * step. What to do about it (stop, warn, count) is cli.c's business. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "rt_internal.h"

int rt_nan_guard_init(RtNanGuard *g, const NnlModel *m, int mode, char *err, size_t errlen)
{
    *g = (RtNanGuard){.mode = mode};
    if (mode != RT_NAN_SKIP) return 0;
    const NnlModelDesc *d = m->d;
    g->saved = rt_alloc(sizeof(float) * (size_t)(d->nparam_floats + d->state_floats + 1));
    if (!g->saved) {
        snprintf(err, errlen, "out of memory for --nan=skip's copy of %lld parameters",
                 (long long)d->nparam_floats);
        return -1;
    }
    return 0;
}

void rt_nan_guard_free(RtNanGuard *g)
{
    rt_free(g->saved);
    g->saved = NULL;
}

void rt_nan_before(RtNanGuard *g, const NnlModel *m)
{
    if (g->mode != RT_NAN_SKIP) return;
    const NnlModelDesc *d = m->d;
    memcpy(g->saved, m->arena + d->param_off, sizeof(float) * (size_t)d->nparam_floats);
    memcpy(g->saved + d->nparam_floats, m->arena + d->state_off, sizeof(float) * (size_t)d->state_floats);
    g->step = m->ctx.step;
}

/* The index of the first non-finite value of x[0..n), or -1. */
static int64_t first_bad(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

/* Whether x[0..n) holds a NaN or an Inf (all exponent bits set): the exponent field plus
 * one carries into the sign bit exactly then. Two floats a 64-bit word (the low one's
 * carry stops at bit 31), four words a round, no branch: the check of every step reads
 * the gradients and the parameters at memory speed, where a test and a branch a value
 * took 10% of the text LSTM's training run (2.7 M parameters, `perf record`). */
static int any_bad(const float *x, int64_t n)
{
    const uint64_t exp = 0x7f8000007f800000ull, one = 0x0080000000800000ull;
    uint64_t acc[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int q = 0; q < 4; q++) {
            uint64_t w;
            memcpy(&w, x + i + 2 * q, sizeof w);
            acc[q] |= (w & exp) + one;
        }
    uint64_t all = acc[0] | acc[1] | acc[2] | acc[3];
    for (; i < n; i++) all |= !isfinite(x[i]) ? 0x80000000ull : 0;
    return (all & 0x8000000080000000ull) != 0;
}

/* Whether a parameter's values lie in the trained block that the update's flag covers. */
static int flagged(const NnlModelDesc *d, const NnlParam *p)
{
    return d->finite_off > 0 && p->offset + p->size <= d->ntrain_floats;
}

/* Whether every gradient and parameter value is finite after a training step: the
 * update's flag for the trained parameters (it saw every gradient and new value go by),
 * the others (batch norm's running statistics) read, threads splitting each block. */
static int all_finite(const NnlModel *m)
{
    const NnlModelDesc *d = m->d;
    if (d->finite_off > 0) {
        int32_t flag;
        memcpy(&flag, m->arena + d->finite_off, sizeof flag);
        if (flag) return 0;
    }
    int64_t total = 0;
    for (int k = 0; k < d->nparams; k++) total += flagged(d, &d->params[k]) ? 0 : 2 * d->params[k].size;
    if (!total) return 1;
    int nt = rt_threads_for((double)total, 1 << 18, INT64_MAX), bad = 0;
    #pragma omp parallel num_threads(rt_threads()) reduction(|: bad) if (nt > 1)
    {
        for (int pass = 0; pass < 2; pass++) {
            const float *block = m->arena + (pass == 0 ? d->grad_off : d->param_off);
            for (int k = 0; k < d->nparams; k++) {
                int64_t lo = 0, hi = d->params[k].size;
                if (flagged(d, &d->params[k])) continue;
                if (nt > 1) rt_share(d->params[k].size, nt, &lo, &hi);
                if (lo < hi) bad |= any_bad(block + d->params[k].offset + lo, hi - lo);
            }
        }
    }
    return !bad;
}

/* "dense_1.W[3, 7] is nan" */
static void describe(const NnlParam *p, const float *base, int64_t i, char *out, size_t len)
{
    int64_t idx[NNL_MAX_RANK], rest = i;
    for (int k = p->rank - 1; k >= 0; k--) {
        int64_t dim = p->shape[k] > 0 ? p->shape[k] : 1;
        idx[k] = rest % dim;
        rest /= dim;
    }
    size_t at = (size_t)snprintf(out, len, "%s[", p->name ? p->name : "?");
    for (int k = 0; k < p->rank && at < len; k++)
        at += (size_t)snprintf(out + at, len - at, "%s%lld", k ? ", " : "", (long long)idx[k]);
    if (at < len) snprintf(out + at, len - at, "] is %s", isnan(base[i]) ? "nan" : base[i] > 0 ? "inf" : "-inf");
}

int rt_nan_after(RtNanGuard *g, NnlModel *m, char *why, size_t len)
{
    if (g->mode == RT_NAN_IGNORE) return 0;
    const NnlModelDesc *d = m->d;
    float loss = m->arena[d->loss_off];
    if (isfinite(loss) && all_finite(m)) return 0;   /* the common case, at memory speed */
    char what[256] = "";
    /* gradients first: a bad value follows from a bad gradient, not the other way */
    for (int pass = 0; pass < 2 && !what[0]; pass++) {
        const float *block = m->arena + (pass == 0 ? d->grad_off : d->param_off);
        for (int k = 0; k < d->nparams && !what[0]; k++) {
            const NnlParam *p = &d->params[k];
            int64_t i = first_bad(block + p->offset, p->size);
            if (i < 0) continue;
            char el[200];
            describe(p, block + p->offset, i, el, sizeof el);
            snprintf(what, sizeof what, "%s %s", pass == 0 ? "the gradient of" : "the parameter", el);
        }
    }
    if (isfinite(loss) && !what[0]) return 0;
    if (isfinite(loss)) snprintf(why, len, "%s (the loss is %g)", what, loss);
    else if (what[0]) snprintf(why, len, "the loss is %g; first bad: %s", loss, what);
    else snprintf(why, len, "the loss is %g", loss);
    if (g->mode == RT_NAN_SKIP) {
        memcpy(m->arena + d->param_off, g->saved, sizeof(float) * (size_t)d->nparam_floats);
        rt_params_written(m);
        memcpy(m->arena + d->state_off, g->saved + d->nparam_floats, sizeof(float) * (size_t)d->state_floats);
        m->ctx.step = g->step;
        g->skipped++;
    }
    return 1;
}
