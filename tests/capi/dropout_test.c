/* dropout_test.c — inference passes values through; training keeps about 70% of them,
 * scaled by 1/0.7, a mask that is the same for the same step and changes with the step;
 * the gradient is zero exactly where the value was dropped. */
#include <math.h>
#include <stdio.h>

#include "dropout.h"

int main(void)
{
    enum { N = 1000, B = 2 };
    static float x[B * N], y[B * N], t[B * N], g1[N];
    struct NnlModel *m = dropout_create(B);
    for (int i = 0; i < B * N; i++) { x[i] = 1; t[i] = 0; }
    dropout_forward(m, x, B, y);
    for (int i = 0; i < B * N; i++) if (y[i] != 1) { fprintf(stderr, "inference changed x\n"); return 1; }
    float l1, l2;
    dropout_grad(m, x, t, B, &l1);
    for (int i = 0; i < N; i++) g1[i] = dropout_grad_data(m, 0)[i];
    dropout_grad(m, x, t, B, &l2);
    if (l1 != l2) { fprintf(stderr, "same step, different masks\n"); return 1; }
    /* loss = mean(y^2): kept values are 1/0.7, so loss = kept fraction / 0.49 */
    double kept = l1 * 0.49;
    printf("kept %.3f (want 0.7), loss %g\n", kept, l1);
    if (fabs(kept - 0.7) > 0.03) return 1;
    int zeros = 0;
    for (int i = 0; i < N; i++) zeros += g1[i] == 0;
    if (zeros < 20 || zeros > 200) { fprintf(stderr, "%d gradients zero\n", zeros); return 1; }   /* ~0.09 N */
    dropout_train_step(m, x, t, B, &l2);
    dropout_param_data(m, 0)[0] += 0;   /* keep the API honest */
    float l3;
    dropout_grad(m, x, t, B, &l3);
    if (l3 == l1) { fprintf(stderr, "the mask did not change with the step\n"); return 1; }
    dropout_destroy(m);
    return 0;
}
