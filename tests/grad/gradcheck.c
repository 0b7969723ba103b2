/* gradcheck.c — finite-difference gradient check through the real compiler. In: an
 * object compiled from tests/grad/NAME.nnl with `nnlc -c --prefix gc` and the path of
 * that .nnl (argv[1]), whose `# gradcheck:` line may set batch=N, xlo=X, xhi=X, tol=X.
 * Out: exit 0 when every parameter's analytic gradient (the generated backward pass)
 * matches central differences of the generated loss, element by element. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnlrt.h"

extern const NnlModelDesc gc_desc;

typedef struct Opts { int batch; double xlo, xhi, tol, h; } Opts;

static Opts read_opts(const char *path)
{
    Opts o = {.batch = 3, .xlo = -1, .xhi = 1, .tol = 2e-2, .h = 1e-3};
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "# gradcheck:");
        if (!p) continue;
        for (char *t = strtok(p + 12, " \t\n"); t; t = strtok(NULL, " \t\n")) {
            if (!strncmp(t, "batch=", 6)) o.batch = atoi(t + 6);
            else if (!strncmp(t, "xlo=", 4)) o.xlo = atof(t + 4);
            else if (!strncmp(t, "xhi=", 4)) o.xhi = atof(t + 4);
            else if (!strncmp(t, "tol=", 4)) o.tol = atof(t + 4);
            else if (!strncmp(t, "h=", 2)) o.h = atof(t + 2);
        }
    }
    if (f) fclose(f);
    return o;
}

static unsigned long long state = 0x9E3779B97F4A7C15ull;
static double uniform(void)
{
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (state >> 11) * (1.0 / 9007199254740992.0);
}

/* The training graph's loss (batch statistics, dropout masks), which the gradients
 * are of; nnl_grad changes no parameter and no running statistic. */
static double loss_at(NnlModel *m, const float *x, const float *y, int64_t b)
{
    float l = 0;
    if (nnl_grad(m, x, y, b, &l)) {
        fprintf(stderr, "nnl_grad: %s\n", nnl_last_error(m));
        exit(1);
    }
    return l;
}

int main(int argc, char **argv)
{
    const NnlModelDesc *d = &gc_desc;
    Opts o = read_opts(argc > 1 ? argv[1] : "");
    int64_t B = o.batch;
    const char *err = NULL;
    NnlModel *m = nnl_create(d, B, &err);
    if (!m) { fprintf(stderr, "nnl_create: %s\n", err); return 1; }
    nnl_set_threads(m, 1);
    nnl_init_params(m, 5);
    float *x = malloc(sizeof(float) * B * d->in_size), *y = malloc(sizeof(float) * B * d->label_size);
    for (int64_t i = 0; i < B * d->in_size; i++) x[i] = (float)(o.xlo + (o.xhi - o.xlo) * uniform());
    for (int64_t i = 0; i < B * d->label_size; i++) {
        switch (d->train.task) {
        case NNL_TASK_MULTICLASS: y[i] = (float)(int)(uniform() * (d->out_size / d->label_size)); break;
        case NNL_TASK_BINARY: y[i] = uniform() < 0.5 ? 0.0f : 1.0f; break;
        default: y[i] = (float)(2 * uniform() - 1); break;
        }
    }
    float l0;
    if (nnl_grad(m, x, y, B, &l0)) { fprintf(stderr, "nnl_grad: %s\n", nnl_last_error(m)); return 1; }
    if (!isfinite(l0)) { fprintf(stderr, "loss is %g\n", l0); return 1; }
    int nbad = 0, nchecked = 0;
    double maxabs = 0;
    for (int p = 0; p < nnl_param_count(m); p++) {
        const NnlParam *info = nnl_param_info(m, p);
        float *w = nnl_param_data(m, p);
        int64_t n = info->size;
        float *g = malloc(sizeof(float) * n);
        memcpy(g, nnl_grad_data(m, p), sizeof(float) * n);
        for (int64_t i = 0; i < n; i++) {
            float keep = w[i];
            double h = o.h * fmax(1.0, fabs(keep));
            w[i] = (float)(keep + h);
            double up = loss_at(m, x, y, B);
            w[i] = (float)(keep - h);
            double down = loss_at(m, x, y, B);
            w[i] = keep;
            double num = (up - down) / (2 * h), ana = g[i];
            double tol = o.tol * fmax(fabs(num), fabs(ana)) + o.tol * 0.05;
            nchecked++;
            if (fabs(ana) > maxabs) maxabs = fabs(ana);
            if (!(fabs(num - ana) <= tol)) {
                if (nbad++ < 10)
                    fprintf(stderr, "%s[%lld]: analytic %.6g, numeric %.6g\n", info->name, (long long)i, ana, num);
            }
        }
        free(g);
    }
    printf("%d gradients checked, %d off, loss %.6g\n", nchecked, nbad, l0);
    if (maxabs == 0) { fprintf(stderr, "every gradient is zero: the check proves nothing\n"); return 1; }
    nnl_destroy(m);
    free(x);
    free(y);
    return nbad ? 1 : 0;
}
