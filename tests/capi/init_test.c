/* init_test.c — every initializer through the compiler and runtime: mean, standard
 * deviation and range of each parameter of tests/capi/inits.nnl against its definition
 * (Glorot & Bengio 2010, He et al. 2015; fan_in 200, fan_out 100). */
#include <math.h>
#include <stdio.h>

#include "inits.h"

static int fails;

static void expect(struct NnlModel *m, const char *name, double mean, double sd, double lo, double hi)
{
    int i = inits_param_index(m, name);
    if (i < 0) { fprintf(stderr, "no parameter %s\n", name); fails++; return; }
    const float *w = inits_param_data(m, i);
    int64_t n = inits_param_size(m, i);
    double s = 0, s2 = 0, mn = INFINITY, mx = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        s += w[k];
        s2 += (double)w[k] * w[k];
        mn = w[k] < mn ? w[k] : mn;
        mx = w[k] > mx ? w[k] : mx;
    }
    double mu = s / n, sigma = sqrt(s2 / n - mu * mu);
    double tol = 0.03 * (sd > 0 ? sd : 1) + 1e-6;
    int ok = fabs(mu - mean) <= tol && fabs(sigma - sd) <= tol && mn >= lo - 1e-6 && mx <= hi + 1e-6;
    printf("%-3s mean %8.5f (want %8.5f)  sd %8.5f (want %8.5f)  range [%.4f, %.4f]%s\n", name, mu, mean,
           sigma, sd, mn, mx, ok ? "" : "  WRONG");
    fails += !ok;
}

int main(void)
{
    struct NnlModel *m = inits_create(1);
    if (!m) return 1;
    double g = sqrt(6.0 / 300), h = sqrt(6.0 / 200);
    expect(m, "z", 0, 0, 0, 0);
    expect(m, "o", 1, 0, 1, 1);
    expect(m, "c", 0.25, 0, 0.25, 0.25);
    expect(m, "u", 0.5, 2 / sqrt(12.0), -0.5, 1.5);
    expect(m, "n", 2, 0.5, -INFINITY, INFINITY);
    expect(m, "gu", 0, g / sqrt(3.0), -g, g);
    expect(m, "gn", 0, sqrt(2.0 / 300), -INFINITY, INFINITY);
    expect(m, "hu", 0, h / sqrt(3.0), -h, h);
    expect(m, "hn", 0, sqrt(2.0 / 200), -INFINITY, INFINITY);
    /* forward of a model without a train block: y = x (sum of all nine parameters) */
    float x[200], y[100];
    for (int k = 0; k < 200; k++) x[k] = (float)(k % 7) - 3;
    if (inits_forward(m, x, 1, y)) { fprintf(stderr, "forward: %s\n", inits_last_error(m)); return 1; }
    for (int j = 0; j < 100; j += 33) {
        double want = 0;
        for (int k = 0; k < 200; k++) {
            double w = 0;
            for (int p = 0; p < inits_param_count(m); p++) w += inits_param_data(m, p)[k * 100 + j];
            want += x[k] * w;
        }
        if (fabs(y[j] - want) > 1e-3 * (1 + fabs(want))) { fprintf(stderr, "y[%d] = %g, want %g\n", j, y[j], want); fails++; }
    }
    inits_destroy(m);
    return fails != 0;
}
