/* test_api.c — the functions C applications call beyond the generated entry points
 * (api.c) and their status codes, on a hand-made descriptor:
 *   create: every failing allocation gives NULL and a reason
 *   load/save: round trip; a missing file is NNL_ERR_IO; every proper prefix of a
 *              checkpoint and a flipped data byte are NNL_ERR_FORMAT and leave the instance
 *              as it was; failing allocations fail cleanly
 *   inference: a descriptor without train_step or optimizer state reads a training
 *              checkpoint (skipping its optimizer tensors, checking the CRC of all), and
 *              refuses train_step with NNL_ERR_UNSUPPORTED
 *   evaluate: the row-weighted mean loss and the accuracy over batches of max_batch
 *   epoch order: a permutation, fixed by (seed, epoch)
 *   the NaN guard (nancheck.c): finite values pass; a NaN, Inf or -Inf anywhere in a
 *              gradient or a parameter (each word and tail position of its blocks of 8,
 *              parameters of sizes that are no multiple of 8) is caught and named, on 1
 *              and 2 threads */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

/* fixed: W (2, 3) | b (3) | grads (9) | Adam's 2 x 9 | loss; batch rows: x (2) y (1) out (3) */
enum { G_OFF = 9, S_OFF = 18, LOSS_OFF = 36, FIXED = 37, PER = 6 };

static const NnlParam params[] = {
    {.name = "dense.W", .rank = 2, .shape = {2, 3}, .offset = 0, .size = 6,
     .init = NNL_INIT_GLOROT_UNIFORM, .fan_in = 2, .fan_out = 3},
    {.name = "dense.b", .rank = 1, .shape = {3}, .offset = 6, .size = 3, .init = NNL_INIT_ZEROS},
};

static void nop(NnlCtx *c) { (void)c; }

/* out row i: one-hot of label i, but class 0 where the label is 2 (a wrong answer);
 * loss: the batch size, so that the evaluation's mean shows its row weighting. */
static void fake_loss(NnlCtx *c)
{
    float *rows = c->arena + FIXED;
    const float *y = rows + 2 * c->max_batch;
    float *out = rows + 3 * c->max_batch;
    for (int64_t i = 0; i < c->batch; i++)
        for (int j = 0; j < 3; j++) out[i * 3 + j] = j == ((int)y[i] == 2 ? 0 : (int)y[i]);
    c->arena[LOSS_OFF] = (float)c->batch;
}

static NnlModelDesc make_desc(int training)
{
    NnlModelDesc d = {
        .abi_version = NNL_ABI_VERSION, .name = "TinyNet", .source = "tiny.nnl",
        .in_rank = 1, .in_shape = {2}, .in_size = 2, .out_rank = 1, .out_shape = {3},
        .out_size = 3, .label_size = 1, .fixed_floats = FIXED, .per_sample_floats = PER,
        .input_off = 0, .label_off = 2, .output_off = 3, .loss_off = LOSS_OFF,
        .param_off = 0, .grad_off = G_OFF, .nparam_floats = 9, .nparams = 2, .params = params,
        .forward = nop, .loss = fake_loss, .grad = nop, .train_step = nop,
        .state_off = S_OFF, .state_floats = 18,
        .train = {.optim = {.kind = NNL_OPT_ADAM, .lr = 0.01f}, .seed = 5, .task = NNL_TASK_MULTICLASS},
    };
    if (!training) {
        d.grad = d.train_step = NULL;
        d.grad_off = 0;
        d.state_off = 9;
        d.state_floats = 0;
    }
    return d;
}

static char dir[] = "/tmp/nnl_test_api.XXXXXX";

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void copy_prefix(const char *from, const char *to, long n, long flip)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    for (long i = 0; i < n; i++) {
        int c = fgetc(a);
        fputc(i == flip ? c ^ 0x10 : c, b);
    }
    fclose(a);
    fclose(b);
}

/* rt_nan_after on parameters of 140,003 and 37 values (and their gradients: enough for
 * two threads to split them): every bad value it must name, at positions covering the
 * 64-bit words, the blocks of 8 and the tails of any_bad and the threads' halves. */
static void test_nan_guard(void)
{
    enum { P0 = 140003, P1 = 37, NP = P0 + P1, NFIX = 2 * NP + 1 };
    static const NnlParam ps[] = {
        {.name = "big.W", .rank = 2, .shape = {7, 20001}, .offset = 0, .size = P0, .init = NNL_INIT_ZEROS},
        {.name = "small.b", .rank = 1, .shape = {P1}, .offset = P0, .size = P1, .init = NNL_INIT_ZEROS},
    };
    NnlModelDesc d = make_desc(1);
    d.params = ps;
    d.nparams = 2;
    d.nparam_floats = NP;
    d.grad_off = NP;
    d.state_off = 2 * NP;
    d.state_floats = 0;
    d.loss_off = 2 * NP;
    d.fixed_floats = NFIX;
    d.input_off = 0;   /* batch rows after the fixed block */
    d.label_off = 2;
    d.output_off = 3;
    const char *why = NULL;
    NnlModel *m = nnl_create(&d, 2, &why);
    if (!m) {
        CHECK(0, "nan guard: create: %s", why);
        return;
    }
    RtNanGuard g;
    char err[200], msg[400];
    CHECK(rt_nan_guard_init(&g, m, RT_NAN_STOP, err, sizeof err) == 0, "nan guard init");
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    const int64_t at[] = {0, 1, 6, 7, 8, 9, 15, 16, 70000, 70001, 70002, 70003, 139999, 140000, 140001,
                          140002, 140003, 140004, 140010, 140038, 140039};
    int missed = 0, named = 0, cases = 0;
    for (int t = 1; t <= 2; t++) {
        rt_set_threads(t);
        for (int i = 0; i < 2 * NP; i++) m->arena[i] = 0.5f + (float)(i % 13);   /* params, then grads */
        m->arena[2 * NP] = 1.0f;   /* the loss */
        CHECK(rt_nan_after(&g, m, msg, sizeof msg) == 0, "finite values flagged (%d threads): %s", t, msg);
        for (int blk = 0; blk < 2; blk++)
            for (size_t q = 0; q < sizeof at / sizeof *at; q++)
                for (int v = 0; v < 3; v++) {
                    float *x = m->arena + (blk ? NP : 0) + at[q], keep = *x;
                    *x = bad[v];
                    msg[0] = 0;
                    cases++;
                    if (!rt_nan_after(&g, m, msg, sizeof msg)) missed++;
                    else named += strstr(msg, at[q] < P0 ? "big.W[" : "small.b[") != NULL &&
                                  strstr(msg, blk ? "the gradient of" : "the parameter") != NULL;
                    *x = keep;
                }
    }
    CHECK(missed == 0 && named == cases, "nan guard: %d of %d bad values missed, %d named", missed, cases, named);
    rt_set_threads(0);
    rt_nan_guard_free(&g);
    nnl_destroy(m);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    test_nan_guard();
    char path[256], cut[256];
    snprintf(path, sizeof path, "%s/tiny.safetensors", dir);
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    NnlModelDesc train = make_desc(1), inf = make_desc(0);
    const char *why = NULL;

    for (int n = 1; n <= 2; n++) {
        rt_alloc_fail_after(n);
        NnlModel *m = nnl_create(&train, 4, &why);
        rt_alloc_fail_after(0);
        CHECK(!m && why && strstr(why, "memory"), "allocation %d of create fails cleanly", n);
        nnl_destroy(m);
    }

    NnlModel *a = nnl_create(&train, 2, &why), *b = nnl_create(&train, 2, &why), *c = nnl_create(&inf, 2, &why);
    if (!a || !b || !c) return 1;
    nnl_init_params(a, 11);
    for (int i = 0; i < 18; i++) a->arena[S_OFF + i] = (float)i;   /* optimizer state */
    a->ctx.step = 7;
    CHECK(nnl_save(a, path) == NNL_OK, "save: %s", nnl_last_error(a));
    CHECK(nnl_load(b, path) == NNL_OK, "load: %s", nnl_last_error(b));
    CHECK(!memcmp(a->arena, b->arena, sizeof(float) * G_OFF), "parameters round-trip");
    CHECK(!memcmp(a->arena + S_OFF, b->arena + S_OFF, sizeof(float) * 18), "optimizer state round-trips");
    CHECK(nnl_step_count(b) == 7 && nnl_seed(b) == 11, "step %lld seed %llu", (long long)nnl_step_count(b),
          (unsigned long long)nnl_seed(b));
    CHECK(nnl_load(b, "/nonexistent/tiny.safetensors") == NNL_ERR_IO, "missing file: IO");
    CHECK(strstr(nnl_last_error(b), "/nonexistent/tiny.safetensors") != NULL, "message names the file");
    CHECK(nnl_save(b, "/nonexistent/dir/x.safetensors") == NNL_ERR_IO, "unwritable: IO");
    CHECK(nnl_load(NULL, path) == NNL_ERR_ARG && nnl_load(b, NULL) == NNL_ERR_ARG, "NULL: ARG");

    /* the inference descriptor reads the training checkpoint's parameters */
    CHECK(nnl_load(c, path) == NNL_OK, "inference load: %s", nnl_last_error(c));
    CHECK(!memcmp(a->arena, c->arena, sizeof(float) * 9), "inference parameters");
    float x[4] = {1, 2, 3, 4}, y[2] = {0, 1}, loss;
    CHECK(nnl_train_step(c, x, y, 2, &loss) == NNL_ERR_UNSUPPORTED, "no train_step: UNSUPPORTED");
    CHECK(strstr(nnl_last_error(c), "--inference") != NULL, "the message suggests why");

    /* truncation and corruption: FORMAT, instance unchanged */
    long size = file_size(path);
    nnl_init_params(b, 99);
    float before[FIXED];
    memcpy(before, b->arena, sizeof before);
    int bad = 0;
    for (long n = 0; n < size; n++) {
        copy_prefix(path, cut, n, -1);
        bad += nnl_load(b, cut) != NNL_ERR_FORMAT || nnl_load(c, cut) != NNL_ERR_FORMAT;
    }
    CHECK(bad == 0, "%d of %ld prefixes were not FORMAT errors", bad, size);
    copy_prefix(path, cut, size, size - 5);   /* a data byte */
    CHECK(nnl_load(b, cut) == NNL_ERR_FORMAT && strstr(nnl_last_error(b), "checksum"), "corrupt: %s",
          nnl_last_error(b));
    CHECK(nnl_load(c, cut) == NNL_ERR_FORMAT && strstr(nnl_last_error(c), "checksum"), "corrupt (inference): %s",
          nnl_last_error(c));
    CHECK(!memcmp(before, b->arena, sizeof before), "failed loads changed nothing");
    for (int n = 1; n <= 6; n++) {
        rt_alloc_fail_after(n);
        int rc = nnl_load(b, path);
        rt_alloc_fail_after(0);
        CHECK(rc == NNL_OK || (rc < 0 && nnl_last_error(b)[0]), "allocation %d of a load: %d", n, rc);
        rt_alloc_fail_after(n);
        rc = nnl_save(b, cut);
        rt_alloc_fail_after(0);
        CHECK(rc == NNL_OK || (rc == NNL_ERR_IO && nnl_last_error(b)[0]), "allocation %d of a save: %d", n, rc);
    }

    /* evaluate: 5 rows in batches of 2, 2, 1: loss (2*2 + 2*2 + 1*1) / 5; label 2 is wrong */
    float ex[10] = {0}, ey[5] = {0, 1, 2, 1, 0}, acc = 0;
    CHECK(nnl_evaluate(a, ex, ey, 5, &loss, &acc) == NNL_OK, "evaluate: %s", nnl_last_error(a));
    CHECK(fabsf(loss - 1.8f) < 1e-6f && fabsf(acc - 0.8f) < 1e-6f, "loss %g accuracy %g", (double)loss, (double)acc);
    CHECK(nnl_evaluate(c, ex, ey, 5, NULL, &acc) == NNL_OK && fabsf(acc - 0.8f) < 1e-6f, "inference evaluate");
    CHECK(nnl_evaluate(a, ex, ey, 0, &loss, &acc) == NNL_ERR_ARG, "0 rows: ARG");
    CHECK(nnl_evaluate(a, NULL, ey, 5, &loss, &acc) == NNL_ERR_ARG, "NULL: ARG");
    CHECK(nnl_forward(a, ex, 3, ex) == NNL_ERR_BATCH, "batch over max: BATCH");

    /* the epoch order */
    int64_t o1[100], o2[100], o3[100];
    nnl_epoch_order(o1, 100, 42, 1);
    nnl_epoch_order(o2, 100, 42, 1);
    nnl_epoch_order(o3, 100, 42, 2);
    int seen[100] = {0}, moved = 0;
    for (int i = 0; i < 100; i++) {
        if (o1[i] >= 0 && o1[i] < 100) seen[o1[i]]++;
        moved += o1[i] != i;
    }
    int perm = 1;
    for (int i = 0; i < 100; i++) perm &= seen[i] == 1;
    CHECK(perm && moved > 50, "a shuffled permutation");
    CHECK(!memcmp(o1, o2, sizeof o1) && memcmp(o1, o3, sizeof o1), "fixed by (seed, epoch)");

    nnl_destroy(a);
    nnl_destroy(b);
    nnl_destroy(c);
    unlink(path);
    unlink(cut);
    rmdir(dir);
    if (failures) return 1;
    printf("api: create, load/save with status codes, truncation, corruption, failing allocations, "
           "inference loads, evaluate, epoch order: all passed\n");
    return 0;
}
