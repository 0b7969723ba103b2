/* api.c — what a C application adds to an instance beyond the generated entry points:
 * checkpoints by path, evaluation over a whole array of rows, and the epoch order of the
 * executable's shuffle so that an application's own data loop can replay it. In: an
 * instance and plain float arrays. Out: a status (NnlStatus) and the instance's last
 * error. The formats are ckpt.c's; the training loop of executables is cli.c's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

int nnl_load(NnlModel *m, const char *path)
{
    if (!m) return NNL_ERR_ARG;
    if (!path) return rt_fail(m, NNL_ERR_ARG, "nnl_load: NULL path");
    FILE *f = fopen(path, "rb");
    if (!f) return rt_fail(m, NNL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(f);
    RtCkptMeta at = {0};
    if (rt_ckpt_load(m, path, &at, m->err, sizeof m->err) < 0) return NNL_ERR_FORMAT;
    rt_norm_free(&at.norm);
    rt_vocab_free(&at.vocab);   /* text models: C applications tokenize themselves */
    m->ctx.seed = at.seed;
    return NNL_OK;
}

int nnl_save(NnlModel *m, const char *path)
{
    if (!m) return NNL_ERR_ARG;
    if (!path) return rt_fail(m, NNL_ERR_ARG, "nnl_save: NULL path");
    RtCkptMeta at = {.step = m->ctx.step, .seed = m->ctx.seed, .threads = m->threads,
                     .batch = m->ctx.max_batch};
    if (rt_ckpt_save(m, path, &at, m->err, sizeof m->err) < 0) return NNL_ERR_IO;
    return NNL_OK;
}

int nnl_evaluate(NnlModel *m, const float *x, const float *y, int64_t n, float *loss,
                 float *accuracy)
{
    if (!m) return NNL_ERR_ARG;
    const NnlModelDesc *d = m->d;
    if (!x || (!y && d->label_size > 0)) return rt_fail(m, NNL_ERR_ARG, "nnl_evaluate: NULL argument");
    if (n < 1) return rt_fail(m, NNL_ERR_ARG, "nnl_evaluate: %lld rows", (long long)n);
    RtScore sc = {0};
    for (int64_t lo = 0; lo < n; lo += m->ctx.max_batch) {
        int64_t b = n - lo < m->ctx.max_batch ? n - lo : m->ctx.max_batch;
        memcpy(rt_input(m), x + lo * d->in_size, sizeof(float) * b * d->in_size);
        if (d->label_size > 0) memcpy(rt_label(m), y + lo * d->label_size, sizeof(float) * b * d->label_size);
        int rc = rt_run(m, RT_LOSS, b);
        if (rc < 0) return rc;
        sc.loss += (double)m->arena[d->loss_off] * b;
        rt_score_rows(d, rt_output(m), rt_label(m), b, &sc);
    }
    if (loss) *loss = (float)(sc.loss / sc.rows);
    if (accuracy) *accuracy = d->train.task == NNL_TASK_REGRESSION ? NAN : (float)(sc.correct / sc.rows);
    return NNL_OK;
}

/* Fisher & Yates (Knuth's Algorithm P) from a stream seeded by (seed, epoch) alone, so
 * that a resumed run can regenerate the order of the epoch it stopped in. */
void nnl_epoch_order(int64_t *idx, int64_t n, uint64_t seed, int64_t epoch)
{
    RtRng rng;
    rt_rng_seed(&rng, rt_mix_seed(seed, 1000 + (uint64_t)epoch));
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)rt_rng_below(&rng, (uint64_t)i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

uint64_t nnl_seed(const NnlModel *m) { return m ? m->ctx.seed : 0; }
