/* metrics.c — loss and metrics over a whole data set. In: an instance and a data set, or
 * rows of outputs and labels. Out: the mean loss (weighted by rows, so a short last batch
 * counts for its rows) and, from the outputs, accuracy (MULTICLASS: argmax == label;
 * BINARY: output > threshold == label), macro-averaged precision, recall and F1 and the
 * confusion matrix behind them, ROC-AUC of binary scores, or mse/mae (REGRESSION).
 * Accumulated in double in row order: deterministic. Printing is cli.c's business. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

const char *const rt_metric_names[RT_M_COUNT] = {
    "accuracy", "mse", "mae", "precision", "recall", "f1", "auc", "loss",
};

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

/* Classes of the confusion matrix: the outputs of MULTICLASS, 2 for BINARY, else 0. */
static int64_t class_count(const NnlModelDesc *d)
{
    if (d->train.task == NNL_TASK_MULTICLASS) return d->out_size / d->label_size;   /* per position */
    return d->train.task == NNL_TASK_BINARY ? 2 : 0;
}

/* AUC needs one score per row that ranks the positive class: a binary output (the
 * first, as accuracy reads it), or the difference of two logits (softmax's order of
 * class 1's probability). */
static int has_auc_score(const NnlModelDesc *d)
{
    return d->train.task == NNL_TASK_BINARY ||
           (d->train.task == NNL_TASK_MULTICLASS && d->out_size == 2);
}

unsigned rt_metric_mask(const NnlModelDesc *d)
{
    unsigned want = d->train.metrics, have = 1u << RT_M_LOSS;
    if (d->train.task == NNL_TASK_REGRESSION) {
        if (want & NNL_METRIC_MSE) have |= 1u << RT_M_MSE;
        if (want & NNL_METRIC_MAE) have |= 1u << RT_M_MAE;
        return have;
    }
    if (want & NNL_METRIC_ACCURACY) have |= 1u << RT_M_ACCURACY;
    if (want & NNL_METRIC_PRECISION) have |= 1u << RT_M_PRECISION;
    if (want & NNL_METRIC_RECALL) have |= 1u << RT_M_RECALL;
    if (want & NNL_METRIC_F1) have |= 1u << RT_M_F1;
    if (want & NNL_METRIC_AUC && has_auc_score(d)) have |= 1u << RT_M_AUC;
    return have;
}

int rt_score_init(RtScore *sc, const NnlModelDesc *d, int64_t n, char *err, size_t errlen)
{
    unsigned mask = rt_metric_mask(d);
    int64_t k = class_count(d);
    memset(sc, 0, sizeof *sc);
    int counts = k > 0 && ((mask & (1u << RT_M_PRECISION | 1u << RT_M_RECALL | 1u << RT_M_F1)) ||
                           d->train.metrics & NNL_METRIC_CONFUSION);
    if (counts && k > 46340) counts = 0;   /* k * k would not fit; no matrix for such a model */
    if (counts && !(sc->confusion = rt_calloc((size_t)(k * k), sizeof(int64_t)))) goto oom;
    if (counts) sc->classes = k;
    if (mask & 1u << RT_M_AUC && n > 0) {
        if (!(sc->pairs = rt_alloc(sizeof *sc->pairs * (size_t)n))) goto oom;
        sc->cap = n;
    }
    return 0;
oom:
    rt_score_free(sc);
    snprintf(err, errlen, "out of memory for the metrics of %lld samples", (long long)n);
    return -1;
}

void rt_score_reset(RtScore *sc)
{
    sc->loss = sc->correct = sc->se = sc->ae = 0;
    sc->rows = 0;
    if (sc->confusion) memset(sc->confusion, 0, sizeof(int64_t) * (size_t)(sc->classes * sc->classes));
}

void rt_score_free(RtScore *sc)
{
    rt_free(sc->confusion);
    rt_free(sc->pairs);
    memset(sc, 0, sizeof *sc);
}

void rt_score_rows(const NnlModelDesc *d, const float *o, const float *y, int64_t b, RtScore *acc)
{
    const NnlTrain *t = &d->train;
    int64_t os = d->out_size, ls = d->label_size, n = os < ls ? os : ls;
    if (t->task == NNL_TASK_MULTICLASS && ls > 1) {   /* a sequence: a class per position */
        int64_t k = os / ls;
        for (int64_t i = 0; i < b * ls; i++, o += k) {   /* accuracy: the fraction per row */
            int64_t guess = 0, truth = (int64_t)y[i];
            for (int64_t j = 1; j < k; j++) guess = o[j] > o[guess] ? j : guess;
            acc->correct += (guess == truth) / (double)ls;
            if (acc->confusion && truth >= 0 && truth < acc->classes)
                acc->confusion[truth * acc->classes + guess]++;
        }
        acc->rows += b;
        return;
    }
    for (int64_t i = 0; i < b; i++, o += os, y += ls) {
        int64_t truth = -1, guess = 0;
        float score = 0;
        if (t->task == NNL_TASK_MULTICLASS) {
            for (int64_t j = 1; j < os; j++) guess = o[j] > o[guess] ? j : guess;
            truth = (int64_t)y[0];
            score = os == 2 ? o[1] - o[0] : 0;
        } else if (t->task == NNL_TASK_BINARY) {
            guess = o[0] > t->threshold;
            truth = y[0] > 0.5f;
            score = o[0];
        } else {
            for (int64_t j = 0; j < n; j++) {
                double e = (double)o[j] - y[j];
                acc->se += e * e;
                acc->ae += fabs(e);
            }
            continue;
        }
        acc->correct += guess == truth;
        if (acc->confusion && truth >= 0 && truth < acc->classes)
            acc->confusion[truth * acc->classes + guess]++;
        int64_t at = acc->rows + i;
        if (at < acc->cap) acc->pairs[at] = (struct RtScorePair){score, (float)truth};
    }
    acc->rows += b;
}

void rt_class_scores(const RtScore *sc, int64_t k, double *precision, double *recall,
                     double *f1, int64_t *support)
{
    int64_t c = sc->classes, tp = sc->confusion[k * c + k], truths = 0, guesses = 0;
    for (int64_t j = 0; j < c; j++) {
        truths += sc->confusion[k * c + j];
        guesses += sc->confusion[j * c + k];
    }
    double p = guesses ? (double)tp / guesses : 0, r = truths ? (double)tp / truths : 0;
    if (precision) *precision = p;
    if (recall) *recall = r;
    if (f1) *f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
    if (support) *support = truths;
}

static int by_score(const void *a, const void *b)
{
    float x = ((const struct RtScorePair *)a)->score, y = ((const struct RtScorePair *)b)->score;
    return (x > y) - (x < y);
}

double rt_auc(struct RtScorePair *p, int64_t n)
{
    qsort(p, (size_t)n, sizeof *p, by_score);
    double pos = 0, rank_sum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && p[j].score == p[i].score) j++;
        double rank = (i + 1 + j) / 2.0;   /* the mean of ranks i+1 .. j */
        for (; i < j; i++)
            if (p[i].truth > 0.5f) {
                pos++;
                rank_sum += rank;
            }
    }
    double neg = (double)n - pos;
    if (pos == 0 || neg == 0) return NAN;
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

void rt_score_metrics(const NnlModelDesc *d, RtScore *acc, RtMetrics *out)
{
    int64_t os = d->out_size, ls = d->label_size;
    double cells = (double)acc->rows * (os < ls ? os : ls);
    double rows = acc->rows ? (double)acc->rows : 1;
    out->v[RT_M_LOSS] = acc->loss / rows;
    out->v[RT_M_ACCURACY] = acc->correct / rows;
    out->v[RT_M_MSE] = cells ? acc->se / cells : 0;
    out->v[RT_M_MAE] = cells ? acc->ae / cells : 0;
    out->have = rt_metric_mask(d);
    /* macro averages over the classes that occur as a label or a prediction, as
     * scikit-learn's average='macro' does when not given the labels */
    unsigned prf = 1u << RT_M_PRECISION | 1u << RT_M_RECALL | 1u << RT_M_F1;
    if (acc->confusion) {
        double sp = 0, sr = 0, sf = 0;
        int64_t used = 0, c = acc->classes;
        for (int64_t k = 0; k < c; k++) {
            int64_t support, guesses = 0;
            double p, r, f;
            rt_class_scores(acc, k, &p, &r, &f, &support);
            for (int64_t j = 0; j < c; j++) guesses += acc->confusion[j * c + k];
            if (!support && !guesses) continue;
            sp += p, sr += r, sf += f, used++;
        }
        out->v[RT_M_PRECISION] = used ? sp / used : 0;
        out->v[RT_M_RECALL] = used ? sr / used : 0;
        out->v[RT_M_F1] = used ? sf / used : 0;
    } else {
        out->have &= ~prf;
    }
    out->v[RT_M_AUC] = NAN;
    if (acc->pairs && acc->rows <= acc->cap) out->v[RT_M_AUC] = rt_auc(acc->pairs, acc->rows);
    if (isnan(out->v[RT_M_AUC])) out->have &= ~(1u << RT_M_AUC);   /* one class only */
}

int rt_evaluate_score(NnlModel *m, const RtDataset *ds, RtScore *sc, RtMetrics *out, char *err,
                      size_t errlen)
{
    const NnlModelDesc *d = m->d;
    int64_t bs = nnl_max_batch(m);
    memset(out, 0, sizeof *out);
    rt_score_reset(sc);
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
        sc->loss += (double)m->arena[d->loss_off] * b;
        rt_score_rows(d, rt_output(m), rt_label(m), b, sc);
    }
    rt_score_metrics(d, sc, out);
    return 0;
}

int rt_evaluate(NnlModel *m, const RtDataset *ds, RtMetrics *out, char *err, size_t errlen)
{
    RtScore sc;
    memset(out, 0, sizeof *out);
    if (rt_score_init(&sc, m->d, ds->n, err, errlen) < 0) return -1;
    int rc = rt_evaluate_score(m, ds, &sc, out, err, errlen);
    rt_score_free(&sc);
    return rc;
}
