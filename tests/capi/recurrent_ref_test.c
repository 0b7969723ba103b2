/* recurrent_ref_test.c — a recurrent model's forward values against numbers computed
 * independently (PyTorch, see the .nnl). In: the object of argv[1] compiled with
 * `nnlc -c --prefix rec -o rec.o`, and that .nnl, whose `# want:` lines hold the
 * expected output, flat. Parameter i, element k = 0.4 sin(0.37 k + 1.3 i + 0.1); input
 * element j = sin(0.23 j); batch 2. Exit 0 when every value is within 1e-5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

int main(int argc, char **argv)
{
    enum { B = 2 };
    double want[4096];
    int nwant = 0;
    char line[1024];
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "# want:", 7)) continue;
        char *p = line + 7, *end;
        for (double v = strtod(p, &end); end != p && nwant < 4096; v = strtod(p, &end)) {
            want[nwant++] = v;
            p = end;
        }
    }
    if (f) fclose(f);
    if (nwant != B * REC_OUT_SIZE) {
        fprintf(stderr, "%s: %d wanted values, the model gives %d\n", argc > 1 ? argv[1] : "?", nwant, B * REC_OUT_SIZE);
        return 1;
    }
    struct NnlModel *m = rec_create(B);
    for (int i = 0; i < rec_param_count(m); i++) {
        float *p = rec_param_data(m, i);
        for (int64_t k = 0; k < rec_param_size(m, i); k++) p[k] = (float)(0.4 * sin(0.37 * k + 1.3 * i + 0.1));
    }
    static float x[B * REC_IN_SIZE], y[B * REC_OUT_SIZE];
    for (int j = 0; j < B * REC_IN_SIZE; j++) x[j] = (float)sin(0.23 * j);
    if (rec_forward(m, x, B, y)) {
        fprintf(stderr, "forward: %s\n", rec_last_error(m));
        return 1;
    }
    int bad = 0;
    for (int j = 0; j < nwant; j++)
        if (!(fabs(y[j] - want[j]) <= 1e-5) && bad++ < 5) fprintf(stderr, "y[%d] = %.7f, want %.7f\n", j, y[j], want[j]);
    rec_destroy(m);
    printf("%s: %d values, %d off\n", argv[1], nwant, bad);
    return bad != 0;
}
