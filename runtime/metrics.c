/* metrics.c — loss and metrics over a whole data set. In: an instance and a data set.
 * Out: the mean loss (weighted by rows, so a short last batch counts for its rows) and,
 * from the outputs, accuracy (MULTICLASS: argmax == label; BINARY: output > threshold
 * == label) or mse/mae (REGRESSION). Accumulated in double in row order: deterministic. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

const char *const rt_metric_names[RT_M_COUNT] = {"accuracy", "mse", "mae", "loss"};

void rt_load_rows(NnlModel *m, const RtDataset *ds, const int64_t *idx, int64_t lo,
                  int64_t batch)
{
    float *x = rt_input(m), *y = rt_label(m);
    int64_t in = ds->in_size, ls = ds->label_size;
    for (int64_t i = 0; i < batch; i++) {
        int64_t r = idx ? idx[lo + i] : lo + i;
        memcpy(x + i * in, ds->x + r * in, sizeof(float) * in);
        if (ls) memcpy(y + i * ls, ds->y + r * ls, sizeof(float) * ls);
    }
}

unsigned rt_metric_mask(const NnlModelDesc *d)
{
    unsigned want = d->train.metrics, have = 1u << RT_M_LOSS;
    if (d->train.task == NNL_TASK_REGRESSION) {
        if (want & NNL_METRIC_MSE) have |= 1u << RT_M_MSE;
        if (want & NNL_METRIC_MAE) have |= 1u << RT_M_MAE;
    } else if (want & NNL_METRIC_ACCURACY) {
        have |= 1u << RT_M_ACCURACY;
    }
    return have;
}

void rt_score_rows(const NnlModelDesc *d, const float *o, const float *y, int64_t b, RtScore *acc)
{
    const NnlTrain *t = &d->train;
    int64_t os = d->out_size, ls = d->label_size, n = os < ls ? os : ls;
    for (int64_t i = 0; i < b; i++, o += os, y += ls) {
        if (t->task == NNL_TASK_MULTICLASS) {
            int64_t best = 0;
            for (int64_t j = 1; j < os; j++) best = o[j] > o[best] ? j : best;
            acc->correct += (float)best == y[0];
        } else if (t->task == NNL_TASK_BINARY) {
            acc->correct += (o[0] > t->threshold) == (y[0] > 0.5f);
        } else {
            for (int64_t j = 0; j < n; j++) {
                double e = (double)o[j] - y[j];
                acc->se += e * e;
                acc->ae += fabs(e);
            }
        }
    }
    acc->rows += b;
}

void rt_score_metrics(const NnlModelDesc *d, const RtScore *acc, RtMetrics *out)
{
    int64_t os = d->out_size, ls = d->label_size;
    double cells = (double)acc->rows * (os < ls ? os : ls);
    double rows = acc->rows ? (double)acc->rows : 1;
    out->v[RT_M_LOSS] = acc->loss / rows;
    out->v[RT_M_ACCURACY] = acc->correct / rows;
    out->v[RT_M_MSE] = cells ? acc->se / cells : 0;
    out->v[RT_M_MAE] = cells ? acc->ae / cells : 0;
    out->have = rt_metric_mask(d);
}

int rt_evaluate(NnlModel *m, const RtDataset *ds, RtMetrics *out, char *err, size_t errlen)
{
    const NnlModelDesc *d = m->d;
    int64_t bs = nnl_max_batch(m);
    RtScore acc = {0};
    memset(out, 0, sizeof *out);
    if (ds->n < 1) {
        snprintf(err, errlen, "evaluation set is empty");
        return -1;
    }
    for (int64_t lo = 0; lo < ds->n; lo += bs) {
        int64_t b = ds->n - lo < bs ? ds->n - lo : bs;
        rt_load_rows(m, ds, NULL, lo, b);
        if (rt_run(m, RT_LOSS, b) < 0) {
            snprintf(err, errlen, "%s", nnl_last_error(m));
            return -1;
        }
        acc.loss += (double)m->arena[d->loss_off] * b;
        rt_score_rows(d, rt_output(m), rt_label(m), b, &acc);
    }
    rt_score_metrics(d, &acc, out);
    return 0;
}
