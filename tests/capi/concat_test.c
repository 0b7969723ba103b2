/* concat_test.c — concat's forward values: y[b] = [[x; 2x] | 10] for x (2, 3). */
#include <stdio.h>

#include "concat.h"

int main(void)
{
    struct NnlModel *m = concat_create(2);
    float x[2 * 6], y[2 * 16];
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    if (concat_forward(m, x, 2, y)) return 1;
    int bad = 0;
    for (int b = 0; b < 2; b++)
        for (int r = 0; r < 4; r++)
            for (int k = 0; k < 4; k++) {
                float want = k == 3 ? 10 : (r < 2 ? 1 : 2) * x[b * 6 + (r % 2) * 3 + k];
                if (y[b * 16 + r * 4 + k] != want) {
                    if (bad++ < 5) fprintf(stderr, "y[%d][%d][%d] = %g, want %g\n", b, r, k, y[b * 16 + r * 4 + k], want);
                }
            }
    concat_destroy(m);
    if (!bad) printf("concat: all values right\n");
    return bad != 0;
}
