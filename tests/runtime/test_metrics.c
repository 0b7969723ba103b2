/* test_metrics.c — rt_evaluate and rt_metric_mask on a hand-written "identity" model:
 * output = input, loss = mean over the batch of input[:, 0]. With 7 rows and a max batch
 * of 3 the last batch is short, so the mean loss checks row weighting; accuracy (argmax
 * and binary threshold) and mse/mae are checked against values worked out by hand, and
 * so are macro precision, recall and F1 and the confusion counts of the same rows, the
 * per-class scores, and ROC-AUC with tied scores against a brute-force count of pairs. */
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

enum { IN = 3 };

/* Arena: fixed [loss]; per sample [input 0..3) [label 3] [output 4..7). */
static void id_loss(NnlCtx *c)
{
    float *x = c->arena + 1, *o = c->arena + 1 + 4 * c->max_batch;
    double s = 0;
    for (int64_t i = 0; i < c->batch; i++) {
        memcpy(o + i * IN, x + i * IN, sizeof(float) * IN);
        s += x[i * IN];
    }
    c->arena[0] = (float)(s / c->batch);
}

static NnlModelDesc desc(int task, unsigned metrics)
{
    NnlModelDesc d = {
        .abi_version = NNL_ABI_VERSION, .name = "Identity",
        .in_rank = 1, .in_shape = {IN}, .in_size = IN,
        .out_rank = 1, .out_shape = {IN}, .out_size = IN, .label_size = 1,
        .fixed_floats = 1, .per_sample_floats = 7,
        .input_off = 0, .label_off = 3, .output_off = 4, .loss_off = 0,
        .loss = id_loss, .forward = id_loss,
        .train = {.task = task, .metrics = metrics},
    };
    return d;
}

/* Rows: x = (a, b, c), label. Argmax of x: 2 0 1 0 2 1 0; labels 2 0 0 0 1 1 0. */
static float X[7][IN] = {{1, 2, 3}, {5, 1, 0}, {0, 9, 1}, {4, 3, 3}, {-1, 0, 2}, {0, 1, 0.5f}, {2, 1, 0}};
static float Y[7] = {2, 0, 0, 0, 1, 1, 0};

static RtDataset dataset(void)
{
    RtDataset ds = {.n = 7, .in_size = IN, .label_size = 1, .x = &X[0][0], .y = Y};
    return ds;
}

static void test_multiclass(void)
{
    NnlModelDesc d = desc(NNL_TASK_MULTICLASS, NNL_METRIC_ACCURACY);
    NnlModel *m = nnl_create(&d, 3, NULL);
    RtDataset ds = dataset();
    RtMetrics r;
    char err[RT_ERRLEN];
    CHECK(rt_evaluate(m, &ds, &r, err, sizeof err) == 0, "evaluate: %s", err);
    CHECK(fabs(r.v[RT_M_LOSS] - 11.0 / 7) < 1e-9, "loss %.9g, want 11/7 (rows weighted)", r.v[RT_M_LOSS]);
    CHECK(fabs(r.v[RT_M_ACCURACY] - 5.0 / 7) < 1e-12, "accuracy %g, want 5/7", r.v[RT_M_ACCURACY]);
    CHECK(r.have == (1u << RT_M_LOSS | 1u << RT_M_ACCURACY), "have %#x", r.have);
    RtDataset empty = {.in_size = IN, .label_size = 1};
    CHECK(rt_evaluate(m, &empty, &r, err, sizeof err) == -1 && strstr(err, "empty"), "empty set: %s", err);
    nnl_destroy(m);
}

static void test_binary(void)
{
    NnlModelDesc d = desc(NNL_TASK_BINARY, NNL_METRIC_ACCURACY);
    d.train.threshold = 0.5f;
    NnlModel *m = nnl_create(&d, 4, NULL);
    RtDataset ds = dataset();   /* x0 > 0.5: 1 1 0 1 0 0 1; label > 0.5: 1 0 0 0 1 1 0 */
    RtMetrics r;
    char err[RT_ERRLEN];
    CHECK(rt_evaluate(m, &ds, &r, err, sizeof err) == 0, "evaluate: %s", err);
    CHECK(fabs(r.v[RT_M_ACCURACY] - 2.0 / 7) < 1e-12, "binary accuracy %g, want 2/7", r.v[RT_M_ACCURACY]);
    nnl_destroy(m);
}

static void test_regression(void)
{
    NnlModelDesc d = desc(NNL_TASK_REGRESSION, NNL_METRIC_MSE | NNL_METRIC_MAE | NNL_METRIC_ACCURACY);
    NnlModel *m = nnl_create(&d, 2, NULL);
    RtDataset ds = dataset();   /* one label per row: compares output[:, 0] with it */
    double se = 0, ae = 0;
    for (int i = 0; i < 7; i++) { se += (X[i][0] - Y[i]) * (X[i][0] - Y[i]); ae += fabs(X[i][0] - Y[i]); }
    RtMetrics r;
    char err[RT_ERRLEN];
    CHECK(rt_evaluate(m, &ds, &r, err, sizeof err) == 0, "evaluate: %s", err);
    CHECK(fabs(r.v[RT_M_MSE] - se / 7) < 1e-9, "mse %g, want %g", r.v[RT_M_MSE], se / 7);
    CHECK(fabs(r.v[RT_M_MAE] - ae / 7) < 1e-9, "mae %g, want %g", r.v[RT_M_MAE], ae / 7);
    CHECK(r.have == (1u << RT_M_LOSS | 1u << RT_M_MSE | 1u << RT_M_MAE),
          "regression reports loss, mse, mae, not accuracy: have %#x", r.have);
    nnl_destroy(m);
}

static void test_load_rows(void)
{
    NnlModelDesc d = desc(NNL_TASK_MULTICLASS, 0);
    NnlModel *m = nnl_create(&d, 3, NULL);
    RtDataset ds = dataset();
    int64_t idx[] = {6, 2, 4, 0};
    rt_load_rows(m, &ds, idx, 1, 3);   /* rows 2, 4, 0 */
    CHECK(rt_input(m)[0] == 0 && rt_input(m)[3] == -1 && rt_input(m)[8] == 3, "rows by index");
    CHECK(rt_label(m)[0] == 0 && rt_label(m)[1] == 1 && rt_label(m)[2] == 2, "labels by index");
    rt_load_rows(m, &ds, NULL, 5, 2);  /* rows 5, 6 */
    CHECK(rt_input(m)[1] == 1 && rt_input(m)[3] == 2 && rt_label(m)[1] == 0, "rows in order");
    CHECK(rt_metric_mask(&d) == 1u << RT_M_LOSS, "no metrics declared: loss only");
    CHECK(!strcmp(rt_metric_names[RT_M_ACCURACY], "accuracy") && !strcmp(rt_metric_names[RT_M_LOSS], "loss"),
          "metric names");
    nnl_destroy(m);
}


/* Confusion of the 7 rows (true, predicted): (2,2) (0,0) (0,1) (0,0) (1,2) (1,1) (0,0).
 * Precision 3/3, 1/2, 1/2: macro 2/3. Recall 3/4, 1/2, 1/1: macro 3/4.
 * F1 6/7, 1/2, 2/3. A fourth class that never occurs is left out of the averages. */
static void test_prf(void)
{
    NnlModelDesc d = desc(NNL_TASK_MULTICLASS, NNL_METRIC_ACCURACY | NNL_METRIC_PRECISION |
                          NNL_METRIC_RECALL | NNL_METRIC_F1 | NNL_METRIC_CONFUSION);
    NnlModel *m = nnl_create(&d, 3, NULL);
    RtDataset ds = dataset();
    RtScore sc;
    RtMetrics r;
    char err[RT_ERRLEN];
    CHECK(rt_score_init(&sc, &d, ds.n, err, sizeof err) == 0 && sc.classes == 3 && !sc.pairs,
          "score init: %s", err);
    CHECK(rt_evaluate_score(m, &ds, &sc, &r, err, sizeof err) == 0, "evaluate: %s", err);
    int64_t want[9] = {3, 1, 0, 0, 1, 1, 0, 0, 1};
    CHECK(!memcmp(sc.confusion, want, sizeof want), "confusion %lld %lld %lld / %lld %lld %lld / %lld %lld %lld",
          (long long)sc.confusion[0], (long long)sc.confusion[1], (long long)sc.confusion[2],
          (long long)sc.confusion[3], (long long)sc.confusion[4], (long long)sc.confusion[5],
          (long long)sc.confusion[6], (long long)sc.confusion[7], (long long)sc.confusion[8]);
    CHECK(fabs(r.v[RT_M_PRECISION] - 2.0 / 3) < 1e-12, "precision %.9g, want 2/3", r.v[RT_M_PRECISION]);
    CHECK(fabs(r.v[RT_M_RECALL] - 0.75) < 1e-12, "recall %.9g, want 3/4", r.v[RT_M_RECALL]);
    double f1 = (6.0 / 7 + 0.5 + 2.0 / 3) / 3;
    CHECK(fabs(r.v[RT_M_F1] - f1) < 1e-12, "f1 %.9g, want %.9g", r.v[RT_M_F1], f1);
    CHECK(r.have == (1u << RT_M_LOSS | 1u << RT_M_ACCURACY | 1u << RT_M_PRECISION | 1u << RT_M_RECALL |
                     1u << RT_M_F1), "have %#x (no auc for 3 classes)", r.have);
    double p, rc, f;
    int64_t support;
    rt_class_scores(&sc, 0, &p, &rc, &f, &support);
    CHECK(p == 1 && rc == 0.75 && fabs(f - 6.0 / 7) < 1e-12 && support == 4, "class 0: %g %g %g %lld", p, rc, f,
          (long long)support);
    /* a second evaluation starts from zero counts */
    CHECK(rt_evaluate_score(m, &ds, &sc, &r, err, sizeof err) == 0 && sc.confusion[0] == 3, "reset");
    rt_score_free(&sc);
    nnl_destroy(m);

    /* four outputs, class 3 never a label nor a prediction: the same averages */
    float x4[7][4], out[7][4];
    for (int i = 0; i < 7; i++) {
        memcpy(x4[i], X[i], sizeof X[i]);
        x4[i][3] = -100;
        memcpy(out[i], x4[i], sizeof x4[i]);
    }
    NnlModelDesc d4 = d;
    d4.out_size = d4.out_shape[0] = 4;
    RtScore s4;
    CHECK(rt_score_init(&s4, &d4, 7, err, sizeof err) == 0 && s4.classes == 4, "init 4");
    rt_score_rows(&d4, &out[0][0], Y, 7, &s4);
    rt_score_metrics(&d4, &s4, &r);
    CHECK(fabs(r.v[RT_M_PRECISION] - 2.0 / 3) < 1e-12 && fabs(r.v[RT_M_F1] - f1) < 1e-12,
          "absent class counted: precision %g f1 %g", r.v[RT_M_PRECISION], r.v[RT_M_F1]);
    rt_score_free(&s4);
}

/* AUC: the share of (positive, negative) pairs ranked right, ties counting one half. */
static double auc_pairs(const struct RtScorePair *p, int n)
{
    double good = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (p[i].truth > 0.5f && p[j].truth <= 0.5f) {
                pairs++;
                good += p[i].score > p[j].score ? 1 : p[i].score == p[j].score ? 0.5 : 0;
            }
    return good / pairs;
}

static void test_auc(void)
{
    /* by hand: positives 0.8 0.4 0.4, negatives 0.4 0.1: pairs (0.8,0.4) 1, (0.8,0.1) 1,
     * (0.4,0.4) 1/2 twice, (0.4,0.1) 1 twice: 5/6 */
    struct RtScorePair p[5] = {{0.4f, 1}, {0.1f, 0}, {0.8f, 1}, {0.4f, 0}, {0.4f, 1}};
    CHECK(fabs(rt_auc(p, 5) - 5.0 / 6) < 1e-12, "auc %.9g, want 5/6", rt_auc(p, 5));
    srand(7);
    for (int trial = 0; trial < 50; trial++) {
        struct RtScorePair q[40], copy[40];
        int n = 2 + rand() % 39;
        for (int i = 0; i < n; i++) q[i] = (struct RtScorePair){(float)(rand() % 5), (float)(rand() % 2)};
        q[0].truth = 1;
        q[1].truth = 0;
        memcpy(copy, q, sizeof q);
        double want = auc_pairs(copy, n), got = rt_auc(q, n);
        CHECK(fabs(got - want) < 1e-12, "trial %d (n %d): auc %.9g, pairs give %.9g", trial, n, got, want);
    }
    struct RtScorePair one[2] = {{1, 1}, {2, 1}};
    CHECK(isnan(rt_auc(one, 2)), "one class: no auc");

    /* through evaluation: binary outputs x[:, 0], labels > 0.5; a set of one class leaves
     * the auc out */
    NnlModelDesc d = desc(NNL_TASK_BINARY, NNL_METRIC_AUC | NNL_METRIC_F1);
    d.train.threshold = 0.5f;
    NnlModel *m = nnl_create(&d, 3, NULL);
    RtDataset ds = dataset();
    struct RtScorePair all[7];
    for (int i = 0; i < 7; i++) all[i] = (struct RtScorePair){X[i][0], Y[i] > 0.5f};
    RtMetrics r;
    char err[RT_ERRLEN];
    CHECK(rt_evaluate(m, &ds, &r, err, sizeof err) == 0, "evaluate: %s", err);
    CHECK(r.have & 1u << RT_M_AUC && fabs(r.v[RT_M_AUC] - auc_pairs(all, 7)) < 1e-12, "binary auc %g, want %g",
          r.v[RT_M_AUC], auc_pairs(all, 7));
    ds.n = 2;   /* labels 2 0: positive, negative */
    ds.x += 3 * 5;
    ds.y += 5;  /* rows 5, 6: labels 1 0 */
    CHECK(rt_evaluate(m, &ds, &r, err, sizeof err) == 0 && (r.have & 1u << RT_M_AUC), "two classes");
    ds.n = 1;
    CHECK(rt_evaluate(m, &ds, &r, err, sizeof err) == 0 && !(r.have & 1u << RT_M_AUC), "one class: auc left out");
    nnl_destroy(m);
}

int main(void)
{
    test_multiclass();
    test_binary();
    test_regression();
    test_load_rows();
    test_prf();
    test_auc();
    printf("%s: %d failures\n", __FILE__, failures);
    return failures != 0;
}
