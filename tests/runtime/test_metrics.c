/* test_metrics.c — rt_evaluate and rt_metric_mask on a hand-written "identity" model:
 * output = input, loss = mean over the batch of input[:, 0]. With 7 rows and a max batch
 * of 3 the last batch is short, so the mean loss checks row weighting; accuracy (argmax
 * and binary threshold) and mse/mae are checked against values worked out by hand. */
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

int main(void)
{
    test_multiclass();
    test_binary();
    test_regression();
    test_load_rows();
    printf("%s: %d failures\n", __FILE__, failures);
    return failures != 0;
}
