/* schedule.c — learning-rate schedules and the gradient norm. In: the train block's
 * schedule, the step and epoch. Out: the learning rate of the next step, which the CLI
 * sets before each step; the sum of squares the generated update clips by. */
#include <math.h>

#include "nnlrt.h"

float nnl_schedule_lr(const NnlTrain *t, float base_lr, int64_t step, int64_t epoch, int64_t total)
{
    const NnlSchedule *s = &t->schedule;
    double lr = base_lr;
    switch (s->kind) {
    case NNL_SCHED_STEP:
        lr *= pow(s->gamma, (double)(epoch / (s->every > 0 ? s->every : 1)));
        break;
    case NNL_SCHED_EXPONENTIAL:
        lr *= pow(s->gamma, (double)epoch);
        break;
    case NNL_SCHED_COSINE: {
        int64_t span = total - s->warmup;
        double f = span > 0 ? (double)(step - s->warmup) / span : 1;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        lr = s->min_lr + (base_lr - s->min_lr) * 0.5 * (1 + cos(M_PI * f));
        break;
    }
    default: break;
    }
    if (s->warmup > 0 && step < s->warmup) lr *= (double)(step + 1) / s->warmup;
    return (float)lr;
}

double nnl_sum_squares(const float *x, int64_t n)
{
    /* four partial sums: vectorizable, and the same order on every thread count */
    double s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) s[k] += (double)x[i + k] * x[i + k];
    for (; i < n; i++) s[0] += (double)x[i] * x[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}
