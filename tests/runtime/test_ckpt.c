/* test_ckpt.c — rt_ckpt_save and rt_ckpt_load on a hand-made descriptor (two parameters,
 * two optimizer blocks), checking:
 *   round trip: parameters, optimizer state, step and every metadata field come back
 *   default path: "<model name lowercased>.safetensors"
 *   truncation: every proper prefix of a checkpoint fails with a message naming the
 *               file, and leaves the instance as it was
 *   failing allocations: the n-th allocation of a save or a load fails cleanly, and a
 *               failed save leaves the previous file intact
 *   optimizer state that is not whole blocks of the parameter block: one flat tensor
 *   atomic save: no temporary file remains, a directory in the way fails the save
 *   input statistics: "data.mean" and "data.std" come back; a file without them loads
 *               with none; every prefix of a file with them fails */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

/* fixed region: W (2, 3) | b (3) | grads (9) | state 2 x 9 | loss = 37 floats */
enum { P_OFF = 0, G_OFF = 9, S_OFF = 18, LOSS_OFF = 36, FIXED = 37 };

static void nop(NnlCtx *c) { (void)c; }

static const NnlParam params[] = {
    {.name = "dense.W", .rank = 2, .shape = {2, 3}, .offset = 0, .size = 6,
     .init = NNL_INIT_GLOROT_UNIFORM, .fan_in = 2, .fan_out = 3},
    {.name = "dense.b", .rank = 1, .shape = {3}, .offset = 6, .size = 3, .init = NNL_INIT_ZEROS},
};

static NnlModelDesc make_desc(void)
{
    return (NnlModelDesc){
        .abi_version = NNL_ABI_VERSION, .name = "TinyNet", .source = "tiny.nnl",
        .in_rank = 1, .in_shape = {2}, .in_size = 2, .out_rank = 1, .out_shape = {3},
        .out_size = 3, .label_size = 1, .fixed_floats = FIXED, .per_sample_floats = 6,
        .input_off = 0, .label_off = 2, .output_off = 3, .loss_off = LOSS_OFF,
        .param_off = P_OFF, .grad_off = G_OFF, .nparam_floats = 9, .nparams = 2, .params = params,
        .forward = nop, .loss = nop, .grad = nop, .train_step = nop,
        .state_off = S_OFF, .state_floats = 18,
        .train = {.optim = {.kind = NNL_OPT_ADAM, .lr = 0.01f}, .seed = 5},
    };
}

static char dir[] = "/tmp/nnl_test_ckpt.XXXXXX";

static void fill(NnlModel *m, float base)
{
    for (int64_t i = 0; i < FIXED; i++) m->arena[i] = base + (float)i;
}

static int same_fixed(const NnlModel *a, const NnlModel *b, int64_t lo, int64_t hi)
{
    return !memcmp(a->arena + lo, b->arena + lo, sizeof(float) * (size_t)(hi - lo));
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_round_trip(const NnlModelDesc *d, const char *path)
{
    NnlModel *a = nnl_create(d, 4, NULL), *b = nnl_create(d, 4, NULL);
    fill(a, 1.5f);
    a->ctx.step = 42;
    RtCkptMeta mt = {.step = 42, .epoch = 3, .epoch_step = 7, .batch = 4, .seed = 12345678901234ull,
                     .threads = 3}, got = {0};
    char err[RT_ERRLEN] = "";
    CHECK(rt_ckpt_save(a, path, &mt, err, sizeof err) == 0, "save: %s", err);
    CHECK(rt_ckpt_load(b, path, &got, err, sizeof err) == 0, "load: %s", err);
    CHECK(same_fixed(a, b, P_OFF, G_OFF) && same_fixed(a, b, S_OFF, LOSS_OFF),
          "round trip: parameters or state differ");
    CHECK(b->ctx.step == 42 && got.step == 42 && got.epoch == 3 && got.epoch_step == 7 &&
          got.batch == 4 && got.seed == 12345678901234ull && got.threads == 3,
          "round trip: meta %lld %lld %lld %lld %llu %d", (long long)got.step, (long long)got.epoch,
          (long long)got.epoch_step, (long long)got.batch, (unsigned long long)got.seed, got.threads);
    nnl_destroy(a);
    nnl_destroy(b);

    char def[64];
    rt_ckpt_default_path(d, def, sizeof def);
    CHECK(!strcmp(def, "tinynet.safetensors"), "default path '%s'", def);
}

/* Every proper prefix of the file fails, names the file, and changes nothing. */
static void test_truncation(const NnlModelDesc *d, const char *path)
{
    FILE *f = fopen(path, "rb");
    long size = file_size(path);
    char *bytes = malloc((size_t)size), cut[600], err[RT_ERRLEN];
    CHECK(f && fread(bytes, 1, (size_t)size, f) == (size_t)size, "cannot read %s", path);
    fclose(f);
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    NnlModel *m = nnl_create(d, 1, NULL), *ref = nnl_create(d, 1, NULL);
    fill(m, -7);
    fill(ref, -7);
    int bad = 0;
    for (long len = 0; len < size; len++) {
        f = fopen(cut, "wb");
        fwrite(bytes, 1, (size_t)len, f);
        fclose(f);
        err[0] = 0;
        if (rt_ckpt_load(m, cut, NULL, err, sizeof err) == 0 || strncmp(err, cut, strlen(cut)) ||
            strchr(err, '\n') || !same_fixed(m, ref, 0, FIXED)) {
            if (!bad++) CHECK(0, "prefix of %ld bytes: '%s'", len, err);
        }
    }
    CHECK(!bad, "%d of %ld prefixes misbehaved", bad, size);
    nnl_destroy(m);
    nnl_destroy(ref);
    free(bytes);
}

static void test_alloc_failures(const NnlModelDesc *d, const char *path)
{
    NnlModel *m = nnl_create(d, 1, NULL), *ref = nnl_create(d, 1, NULL);
    char err[RT_ERRLEN], other[600];
    snprintf(other, sizeof other, "%s/other.safetensors", dir);
    fill(m, 100);
    fill(ref, 100);
    RtCkptMeta mt = {.step = 1};
    int ok_at = 0;
    for (int n = 1; n < 20 && !ok_at; n++) {
        rt_alloc_fail_after(n);
        int rc = rt_ckpt_load(m, path, NULL, err, sizeof err);
        rt_alloc_fail_after(0);
        if (rc == 0) ok_at = n;
        else CHECK(strstr(err, "out of memory") && same_fixed(m, ref, 0, FIXED),
                   "load, allocation %d failing: '%s'", n, err);
    }
    CHECK(ok_at > 1, "load never allocated, or never succeeded (%d)", ok_at);

    long before = file_size(path);
    fill(m, 200);
    ok_at = 0;
    for (int n = 1; n < 20 && !ok_at; n++) {
        rt_alloc_fail_after(n);
        int rc = rt_ckpt_save(m, path, &mt, err, sizeof err);
        rt_alloc_fail_after(0);
        if (rc == 0) ok_at = n;
        else CHECK(strstr(err, "out of memory") && file_size(path) == before &&
                   rt_ckpt_load(ref, path, NULL, err, sizeof err) == 0 && ref->arena[0] == 1.5f,
                   "save, allocation %d failing: previous file not intact", n);
    }
    CHECK(ok_at > 1, "save never allocated, or never succeeded (%d)", ok_at);
    nnl_destroy(m);
    nnl_destroy(ref);
}

/* state_floats not a multiple of nparam_floats: one flat "optimizer.state". */
static void test_flat_state(NnlModelDesc d, const char *path)
{
    d.state_floats = 10;
    NnlModel *a = nnl_create(&d, 1, NULL), *b = nnl_create(&d, 1, NULL);
    fill(a, 3);
    char err[RT_ERRLEN];
    RtCkptMeta mt = {0};
    CHECK(rt_ckpt_save(a, path, &mt, err, sizeof err) == 0, "flat save: %s", err);
    CHECK(rt_ckpt_load(b, path, NULL, err, sizeof err) == 0 && same_fixed(a, b, S_OFF, S_OFF + 10) &&
          same_fixed(a, b, P_OFF, G_OFF), "flat load: %s", err);
    FILE *f = fopen(path, "rb");
    char head[2048] = "";
    size_t n = fread(head, 1, sizeof head - 1, f);
    head[n] = 0;
    fclose(f);
    CHECK(strstr(head + 8, "\"optimizer.state\":{") && !strstr(head + 8, "optimizer.0."),
          "flat header: %s", head + 8);
    /* and a model with blocks refuses it */
    NnlModelDesc blocks = make_desc();
    NnlModel *c = nnl_create(&blocks, 1, NULL);
    CHECK(rt_ckpt_load(c, path, NULL, err, sizeof err) < 0 && strstr(err, "no tensor 'optimizer.0.dense.W'"),
          "blocks from flat: '%s'", err);
    nnl_destroy(a);
    nnl_destroy(b);
    nnl_destroy(c);
}

static void test_atomic(const NnlModelDesc *d)
{
    NnlModel *m = nnl_create(d, 1, NULL);
    char path[600], err[RT_ERRLEN], cmd[700];
    RtCkptMeta mt = {0};
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0755);
    CHECK(rt_ckpt_save(m, path, &mt, err, sizeof err) < 0 && strstr(err, "cannot rename"),
          "save over a directory: '%s'", err);
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", dir);
    CHECK(system(cmd) != 0, "a temporary file was left in %s", dir);
    snprintf(path, sizeof path, "%s/none/x.safetensors", dir);
    CHECK(rt_ckpt_save(m, path, &mt, err, sizeof err) < 0 && strstr(err, "cannot open for writing"),
          "save into a missing directory: '%s'", err);
    nnl_destroy(m);
}


static void test_norm(const NnlModelDesc *d, const char *path)
{
    NnlModel *a = nnl_create(d, 2, NULL), *b = nnl_create(d, 2, NULL);
    fill(a, 3);
    float block[4] = {1.5f, -2, 0.25f, 4};
    RtCkptMeta mt = {.step = 1, .norm = {.size = 2, .mean = block, .std = block + 2}}, got = {0};
    char err[RT_ERRLEN] = "";
    CHECK(rt_ckpt_save(a, path, &mt, err, sizeof err) == 0, "save with stats: %s", err);
    CHECK(rt_ckpt_load(b, path, &got, err, sizeof err) == 0, "load with stats: %s", err);
    CHECK(got.norm.size == 2 && got.norm.mean[0] == 1.5f && got.norm.mean[1] == -2 && got.norm.std[0] == 0.25f &&
          got.norm.std[1] == 4 && same_fixed(a, b, P_OFF, G_OFF), "stats round trip");
    rt_norm_free(&got.norm);
    CHECK(rt_ckpt_load(b, path, NULL, err, sizeof err) == 0, "load with stats, no meta: %s", err);
    test_truncation(d, path);
    mt.norm.size = 0;
    CHECK(rt_ckpt_save(a, path, &mt, err, sizeof err) == 0, "save without stats: %s", err);
    got.norm.size = 7;
    CHECK(rt_ckpt_load(b, path, &got, err, sizeof err) == 0 && got.norm.size == 0 && !got.norm.mean,
          "load without stats: %s", err);
    nnl_destroy(a);
    nnl_destroy(b);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    NnlModelDesc d = make_desc();
    char path[600];
    snprintf(path, sizeof path, "%s/tiny.safetensors", dir);
    test_round_trip(&d, path);
    test_truncation(&d, path);
    test_alloc_failures(&d, path);
    test_atomic(&d);
    snprintf(path, sizeof path, "%s/norm.safetensors", dir);
    test_norm(&d, path);
    snprintf(path, sizeof path, "%s/flat.safetensors", dir);
    test_flat_state(d, path);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
    printf("test_ckpt: %d failures\n", failures);
    return failures != 0;
}
