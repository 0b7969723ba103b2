/* test_cli.c — nnl_cli_main on a hand-written model: logistic regression 2 -> 1 with
 * binary cross-entropy on logits, trained by SGD on two Gaussian blobs. Each case runs
 * the CLI in a forked child with stdout and stderr in files, then checks:
 *   train: exit 0, 5 epoch lines then `final: test_accuracy A test_loss L`, A >= 0.9
 *   --log: header `epoch,step,loss,lr,train_accuracy,test_accuracy,test_loss`, one row per
 *          step (`1,1,<loss>,<lr>,,,`) and per evaluation (`1,32,,,<acc>,<acc>,<loss>`)
 *   determinism: same seed and threads -> byte-identical logs; another seed differs
 *   --steps 10: 10 step rows and one evaluation row at step 10
 *   progress on a non-terminal: plain lines, at most 10 per epoch plus the last
 *   eval: `train_accuracy A  train_loss L` then `test_accuracy A  test_loss L`
 *   --help, -h, help: exit 0, every flag on its own line
 *   usage errors (bad flag, bad value, no or unknown command, a train-only flag given
 *   to eval): exit 2, one line
 *   `model: error: ...` on stderr
 *   CSV data: a missing file exits 1 naming the file; --data DIR finds a relative one */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

/* ---- the model: z = x @ W + b, loss = mean(softplus(z) - y z) ----
 * fixed region: W (2) | b (1) | dW (2) | db (1) | loss      = 7 floats
 * per sample:   x (2) | y (1) | z (1)                       = 4 floats */
enum { P_OFF = 0, G_OFF = 3, LOSS_OFF = 6, FIXED = 7, X_OFF = 0, Y_OFF = 2, Z_OFF = 3, PER = 4 };

static float *rows(NnlCtx *c, int64_t off) { return c->arena + FIXED + off * c->max_batch; }

static void lr_forward(NnlCtx *c)
{
    float *x = rows(c, X_OFF), *z = rows(c, Z_OFF), *w = c->arena + P_OFF;
    for (int64_t i = 0; i < c->batch; i++) z[i] = x[2 * i] * w[0] + x[2 * i + 1] * w[1] + w[2];
}

/* softplus(z) - y z, computed stably as max(z, 0) - y z + log1p(exp(-|z|)). */
static void lr_loss(NnlCtx *c)
{
    lr_forward(c);
    float *z = rows(c, Z_OFF), *y = rows(c, Y_OFF);
    double s = 0;
    for (int64_t i = 0; i < c->batch; i++)
        s += fmaxf(z[i], 0) - y[i] * z[i] + log1pf(expf(-fabsf(z[i])));
    c->arena[LOSS_OFF] = (float)(s / c->batch);
}

/* dL/dz = (sigmoid(z) - y) / B; dW = x^T dz; db = sum dz. */
static void lr_grad(NnlCtx *c)
{
    lr_loss(c);
    float *x = rows(c, X_OFF), *z = rows(c, Z_OFF), *y = rows(c, Y_OFF), *g = c->arena + G_OFF;
    g[0] = g[1] = g[2] = 0;
    for (int64_t i = 0; i < c->batch; i++) {
        float dz = (1 / (1 + expf(-z[i])) - y[i]) / c->batch;
        g[0] += x[2 * i] * dz;
        g[1] += x[2 * i + 1] * dz;
        g[2] += dz;
    }
}

static void lr_train_step(NnlCtx *c)
{
    lr_grad(c);
    for (int i = 0; i < 3; i++) c->arena[P_OFF + i] -= c->lr * c->arena[G_OFF + i];
}

static const NnlParam lr_params[] = {
    {.name = "dense.W", .rank = 2, .shape = {2, 1}, .offset = 0, .size = 2,
     .init = NNL_INIT_GLOROT_UNIFORM, .fan_in = 2, .fan_out = 1},
    {.name = "dense.b", .rank = 1, .shape = {1}, .offset = 2, .size = 1, .init = NNL_INIT_ZEROS},
};

static NnlModelDesc make_desc(void)
{
    NnlModelDesc d = {
        .abi_version = NNL_ABI_VERSION, .name = "LogReg", .source = "logreg.nnl",
        .in_rank = 1, .in_shape = {2}, .in_size = 2,
        .out_rank = 1, .out_shape = {1}, .out_size = 1, .label_size = 1,
        .fixed_floats = FIXED, .per_sample_floats = PER,
        .input_off = X_OFF, .label_off = Y_OFF, .output_off = Z_OFF, .loss_off = LOSS_OFF,
        .param_off = P_OFF, .grad_off = G_OFF, .nparam_floats = 3,
        .nparams = 2, .params = lr_params,
        .forward = lr_forward, .loss = lr_loss, .grad = lr_grad, .train_step = lr_train_step,
        .state_off = FIXED, .state_floats = 0,
        .train = {
            .epochs = 5, .batch = 32, .shuffle = 1, .seed = 7,
            .optim = {.kind = NNL_OPT_SGD, .lr = 0.5f},
            .task = NNL_TASK_BINARY, .threshold = 0, .metrics = NNL_METRIC_ACCURACY,
            .data = {.kind = NNL_DATA_BLOBS, .name = "blobs.train", .n = 1000, .classes = 2,
                     .spread = 1, .seed = 1},
            .eval = {.kind = NNL_DATA_BLOBS, .name = "blobs.test", .n = 300, .classes = 2,
                     .spread = 1, .seed = 2},
            .eval_every_epoch = 1,
        },
    };
    return d;
}

/* ---- running the CLI in a child ---- */

static char tmpdir[] = "/tmp/nnl_test_cli.XXXXXX";
static char out_text[1 << 20], err_text[1 << 16];

static void slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

/* Runs nnl_cli_main(d, "model" + args) and returns its exit status; its stdout and
 * stderr land in out_text and err_text. */
static int run(const NnlModelDesc *d, const char *const *args)
{
    char out[512], err[512];
    snprintf(out, sizeof out, "%s/stdout", tmpdir);
    snprintf(err, sizeof err, "%s/stderr", tmpdir);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[64];
        int argc = 0;
        argv[argc++] = "./model";
        while (args[argc - 1] && argc < 63) { argv[argc] = (char *)args[argc - 1]; argc++; }
        argv[argc] = NULL;
        /* train saves logreg.safetensors in the working directory: keep it out of the tree */
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr) || chdir(tmpdir)) _exit(99);
        int rc = nnl_cli_main(d, argc, argv);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    slurp(out, out_text, sizeof out_text);
    slurp(err, err_text, sizeof err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int count_lines(const char *s, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *p = s; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
        n += !strncmp(p, prefix, len);
    return n;
}

static const char *last_line(const char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '\n') n--;
    while (n && s[n - 1] != '\n') n--;
    return s + n;
}

static void test_train(const NnlModelDesc *d)
{
    char log1[512], log2[512], log3[512];
    snprintf(log1, sizeof log1, "%s/a.csv", tmpdir);
    snprintf(log2, sizeof log2, "%s/b.csv", tmpdir);
    snprintf(log3, sizeof log3, "%s/c.csv", tmpdir);
    const char *a1[] = {"train", "--threads", "2", "--log", log1, NULL};
    int rc = run(d, a1);
    CHECK(rc == 0, "train: exit %d, stderr: %s", rc, err_text);
    CHECK(count_lines(out_text, "epoch ") == 5, "train: want 5 epoch lines:\n%s", out_text);
    CHECK(strstr(out_text, "epoch 1/5  loss ") && strstr(out_text, "  train_accuracy ") &&
          strstr(out_text, "  test_accuracy ") && strstr(out_text, " s)\n"),
          "train: epoch line format:\n%s", out_text);
    double acc = 0, loss = 0;
    const char *fin = last_line(out_text);
    CHECK(sscanf(fin, "final: test_accuracy %lf test_loss %lf", &acc, &loss) == 2,
          "train: last line '%s'", fin);
    CHECK(acc >= 0.9 && loss < 0.3, "train: test accuracy %g, loss %g after 5 epochs", acc, loss);

    /* progress: stderr is a file here, so plain lines, about one per tenth of an epoch */
    int prog = count_lines(err_text, "epoch ");
    CHECK(prog >= 5 && prog <= 5 * 11 && !strchr(err_text, '\r') &&
          strstr(err_text, "epoch 1/5  step 32/32  loss ") && strstr(err_text, " samples/s  ETA 0:00\n"),
          "train: %d progress lines:\n%s", prog, err_text);

    char text[1 << 16], again[1 << 16];
    slurp(log1, text, sizeof text);
    const char *header = "epoch,step,loss,lr,train_accuracy,test_accuracy,test_loss\n";
    CHECK(!strncmp(text, header, strlen(header)), "log: header:\n%.200s", text);
    CHECK(count_lines(text, "") == 1 + 5 * 32 + 5, "log: %d lines, want 166", count_lines(text, ""));
    CHECK(count_lines(text, "1,1,") == 1 && count_lines(text, "5,160,") == 2,
          "log: step numbering:\n%.400s", text);
    const char *row = strstr(text, "\n1,1,");
    float l0 = 0, lr0 = 0;
    char tail[16] = "";
    CHECK(row && sscanf(row, "\n1,1,%f,%f%15s", &l0, &lr0, tail) == 3 && !strcmp(tail, ",,,") && lr0 > 0,
          "log: step row '%.40s'", row ? row + 1 : "");
    const char *ev = strstr(text, "\n1,32,,,");
    double a = 0, b = 0, c = 0;
    CHECK(ev && sscanf(ev, "\n1,32,,,%lf,%lf,%lf", &a, &b, &c) == 3 && b > 0.5,
          "log: evaluation row '%.60s'", ev ? ev + 1 : "");

    /* the same seed and thread count reproduce every number; another seed does not */
    const char *a2[] = {"train", "--threads", "2", "--quiet", "--log", log2, NULL};
    rc = run(d, a2);
    slurp(log2, again, sizeof again);
    CHECK(rc == 0 && !strcmp(text, again), "determinism: logs of two runs differ");
    CHECK(!strstr(err_text, "epoch"), "--quiet: progress printed:\n%s", err_text);
    const char *a3[] = {"train", "--threads", "2", "--seed", "8", "--log", log3, NULL};
    rc = run(d, a3);
    slurp(log3, again, sizeof again);
    CHECK(rc == 0 && strcmp(text, again), "--seed 8: log identical to seed 7's");
}

static void test_steps(const NnlModelDesc *d)
{
    char log[512], text[1 << 16];
    snprintf(log, sizeof log, "%s/steps.csv", tmpdir);
    const char *args[] = {"train", "--steps", "10", "--batch", "50", "--lr=0.1", "--log", log, NULL};
    int rc = run(d, args);
    slurp(log, text, sizeof text);
    CHECK(rc == 0, "--steps: exit %d: %s", rc, err_text);
    CHECK(count_lines(text, "1,") == 11 && count_lines(text, "1,10,,") == 1 && count_lines(text, "2,") == 0,
          "--steps 10: log:\n%s", text);
    CHECK(count_lines(out_text, "epoch 1/1  loss") == 1 && !strncmp(last_line(out_text), "final: ", 7),
          "--steps 10: stdout:\n%s", out_text);
}

static void test_eval(const NnlModelDesc *d)
{
    const char *args[] = {"eval", "--seed", "3", NULL};
    int rc = run(d, args);
    double a, l;
    CHECK(rc == 0, "eval: exit %d: %s", rc, err_text);
    CHECK(!strncmp(out_text, "train_accuracy ", 15) && count_lines(out_text, "") == 2 &&
          sscanf(last_line(out_text), "test_accuracy %lf  test_loss %lf", &a, &l) == 2,
          "eval: output:\n%s", out_text);
}

static void test_help(const NnlModelDesc *d)
{
    const char *forms[][2] = {{"--help", NULL}, {"-h", NULL}, {"help", NULL}};
    for (int i = 0; i < 3; i++) {
        int rc = run(d, forms[i]);
        CHECK(rc == 0, "%s: exit %d", forms[i][0], rc);
        const char *flags[] = {"--epochs N", "--steps N", "--batch B", "--lr X", "--threads T",
                               "--seed S", "--data DIR", "--log FILE", "--quiet", "--help"};
        for (int f = 0; f < 10; f++)
            CHECK(strstr(out_text, flags[f]), "%s: '%s' not listed:\n%s", forms[i][0], flags[f], out_text);
        CHECK(strstr(out_text, "  train ") && strstr(out_text, "  eval "), "%s: commands:\n%s",
              forms[i][0], out_text);
    }
}

static void test_usage_errors(const NnlModelDesc *d)
{
    const char *cases[][4] = {
        {"train", "--bogus", NULL},   {"train", "--epochs", "x", NULL}, {"train", "--epochs", "0", NULL},
        {"train", "--lr", "-1", NULL}, {"train", "--batch", NULL},      {"fly", NULL},
        {"--quiet", NULL},            {"train", "eval", NULL},          {"train", "--quiet=1", NULL},
        {"train", "--seed", "-3", NULL}, {"eval", "--epochs", "3", NULL}, {"--log=x", "eval", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run(d, cases[i]);
        CHECK(rc == 2 && !strncmp(err_text, "model: error: ", 14) && count_lines(err_text, "") == 1 &&
              !out_text[0], "%s %s: exit %d, stderr '%s'", cases[i][0], cases[i][1] ? cases[i][1] : "",
              rc, err_text);
    }
}

static void test_csv(NnlModelDesc d)
{
    d.train.data = (NnlDataSpec){.kind = NNL_DATA_CSV, .name = "pts.train", .path = "pts.csv",
                                 .base_dir = "/nonexistent", .target = "y"};
    d.train.eval.kind = NNL_DATA_NONE;
    const char *args[] = {"train", "--epochs", "1", NULL};
    int rc = run(&d, args);
    CHECK(rc == 1 && !strcmp(err_text, "model: error: /nonexistent/pts.csv: cannot open: "
                             "No such file or directory\n"), "missing CSV: exit %d, '%s'", rc, err_text);

    char path[512];
    snprintf(path, sizeof path, "%s/pts.csv", tmpdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "a,y,b\n");
    for (int i = 0; i < 40; i++) fprintf(f, "%d,%d,%d\n", i % 2 ? 2 : -2, i % 2, i % 3);
    fclose(f);
    const char *with_dir[] = {"train", "--epochs", "3", "--data", tmpdir, NULL};
    rc = run(&d, with_dir);
    double loss = 9, acc = 0;
    CHECK(rc == 0 && sscanf(last_line(out_text), "final: loss %lf train_accuracy %lf", &loss, &acc) == 2 &&
          acc == 1.0, "--data DIR: exit %d, stdout '%s', stderr '%s'", rc, out_text, err_text);

    f = fopen(path, "w");
    fprintf(f, "a,y,b\n1,0,2\n1,zero,2\n");
    fclose(f);
    rc = run(&d, with_dir);
    CHECK(rc == 1 && strstr(err_text, "pts.csv:3: column 'y': 'zero' is not a number") &&
          count_lines(err_text, "") == 1, "bad CSV: exit %d, '%s'", rc, err_text);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    NnlModelDesc d = make_desc();
    test_train(&d);
    test_steps(&d);
    test_eval(&d);
    test_help(&d);
    test_usage_errors(&d);
    test_csv(d);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) printf("note: could not remove %s\n", tmpdir);
    printf("test_cli: %d failures\n", failures);
    return failures != 0;
}
