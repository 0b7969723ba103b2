/* test_schedule.c — nnl_schedule_lr against the formulas, and nnl_sum_squares. */
#include <math.h>
#include <stdio.h>

#include "nnlrt.h"

static int fails;
static void near(double got, double want, const char *what)
{
    if (fabs(got - want) > 1e-6 * (1 + fabs(want))) { printf("%s: %.8g, want %.8g\n", what, got, want); fails++; }
}

int main(void)
{
    NnlTrain t = {0};
    near(nnl_schedule_lr(&t, 0.1f, 50, 3, 100), 0.1, "constant");
    t.schedule = (NnlSchedule){.kind = NNL_SCHED_STEP, .every = 2, .gamma = 0.5f};
    near(nnl_schedule_lr(&t, 0.1f, 0, 1, 100), 0.1, "step, epoch 1");
    near(nnl_schedule_lr(&t, 0.1f, 0, 2, 100), 0.05, "step, epoch 2");
    near(nnl_schedule_lr(&t, 0.1f, 0, 5, 100), 0.025, "step, epoch 5");
    t.schedule = (NnlSchedule){.kind = NNL_SCHED_EXPONENTIAL, .gamma = 0.9f};
    near(nnl_schedule_lr(&t, 0.1f, 0, 3, 100), 0.1 * pow(0.9f, 3), "exponential");
    t.schedule = (NnlSchedule){.kind = NNL_SCHED_COSINE, .min_lr = 0.01f};
    near(nnl_schedule_lr(&t, 0.1f, 0, 0, 100), 0.1, "cosine start");
    near(nnl_schedule_lr(&t, 0.1f, 50, 0, 100), 0.055, "cosine middle");
    near(nnl_schedule_lr(&t, 0.1f, 100, 0, 100), 0.01, "cosine end");
    t.schedule = (NnlSchedule){.kind = NNL_SCHED_COSINE, .warmup = 10};
    near(nnl_schedule_lr(&t, 0.1f, 0, 0, 110), 0.01, "warm-up step 0");
    near(nnl_schedule_lr(&t, 0.1f, 4, 0, 110), 0.05, "warm-up step 4");
    near(nnl_schedule_lr(&t, 0.1f, 10, 0, 110), 0.1, "after warm-up");
    near(nnl_schedule_lr(&t, 0.1f, 60, 0, 110), 0.05, "cosine after warm-up");
    float x[7] = {1, 2, 3, 4, 5, 6, -7};
    near(nnl_sum_squares(x, 7), 140, "sum of squares");
    near(nnl_sum_squares(x, 0), 0, "empty sum");
    if (!fails) printf("schedules: all checks passed\n");
    return fails != 0;
}
