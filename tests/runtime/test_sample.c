/* test_sample.c — text models through nnl_cli_main, on a hand-written language model:
 * T = 4 token ids in, scores (4, 8) out, the score of id x[t] + 1 (wrapping to 2) high
 * at each position, so that greedy sampling counts up through the vocabulary; its loss
 * is the mean input id, so eval shows which ids the data was read with. Checks:
 *   sample: the prompt and then the greedy continuation through the checkpoint's
 *           vocabulary; a hot temperature draws the same text for the same seed and
 *           another for another seed; rt_sample_token on probabilities and scores
 *   eval: the checkpoint's vocabulary reads the data (not one built from the file);
 *         without a checkpoint, the file's
 *   train: the checkpoint keeps the vocabulary built from the training file
 *   errors (exit 1, one line, nothing on stdout): a prompt character outside the
 *   vocabulary, a checkpoint without a vocabulary, a model that is no language model,
 *   a checkpoint whose vocabulary exceeds vocab:, is of words for a character model or
 *   is no JSON array;
 *   --temperature -1 exits 2
 *   words: the prompt as given, then the words drawn, one space apart */
#define _GNU_SOURCE   /* memmem */
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

/* fixed: w (1) | dw (1) | loss (1); per sample: x (4) | y (4) | scores (32) */
enum { T = 4, V = 8, FIXED = 3, X_OFF = 0, Y_OFF = 4, S_OFF = 8, PER = 40 };

static float *rows(NnlCtx *c, int64_t off) { return c->arena + FIXED + off * c->max_batch; }

static void lm_forward(NnlCtx *c)
{
    float *x = rows(c, X_OFF), *s = rows(c, S_OFF);
    for (int64_t i = 0; i < c->batch * T; i++) {
        int64_t next = (int64_t)x[i] + 1 >= V ? 2 : (int64_t)x[i] + 1;
        for (int v = 0; v < V; v++) s[i * V + v] = v == next ? 10.0f : 0.0f;
    }
}

static void lm_loss(NnlCtx *c)
{
    lm_forward(c);
    double sum = 0;
    for (int64_t i = 0; i < c->batch * T; i++) sum += rows(c, X_OFF)[i];
    c->arena[2] = (float)(sum / (double)(c->batch * T));
}

static void lm_grad(NnlCtx *c) { lm_loss(c); c->arena[1] = 0; }
static void lm_step(NnlCtx *c) { lm_grad(c); }

static const NnlParam lm_params[] = {
    {.name = "w", .rank = 1, .shape = {1}, .offset = 0, .size = 1, .init = NNL_INIT_ZEROS},
};

static char tmpdir[] = "/tmp/nnl_test_sample.XXXXXX";

static NnlModelDesc make_desc(void)
{
    NnlModelDesc d = {
        .abi_version = NNL_ABI_VERSION, .name = "Lm", .source = "lm.nnl",
        .in_rank = 1, .in_shape = {T}, .in_size = T,
        .out_rank = 2, .out_shape = {T, V}, .out_size = T * V, .label_size = T,
        .fixed_floats = FIXED, .per_sample_floats = PER,
        .input_off = X_OFF, .label_off = Y_OFF, .output_off = S_OFF, .loss_off = 2,
        .param_off = 0, .grad_off = 1, .nparam_floats = 1, .nparams = 1, .params = lm_params,
        .forward = lm_forward, .loss = lm_loss, .grad = lm_grad, .train_step = lm_step,
        .state_off = FIXED, .state_floats = 0,
        .train = {
            .epochs = 1, .batch = 2, .seed = 3, .optim = {.kind = NNL_OPT_SGD, .lr = 0.1f},
            .task = NNL_TASK_REGRESSION, .metrics = NNL_METRIC_MSE,
            .data = {.kind = NNL_DATA_TEXT, .name = "corpus.train", .path = "lm.txt",
                     .base_dir = tmpdir, .tokens = NNL_TOK_CHAR, .vocab = V, .window = T,
                     .stride = T, .from = 0, .to = 1},
            .eval_every_epoch = 1,
        },
    };
    return d;
}

/* ---- running the CLI in a child (as test_cli.c does) ---- */

static char out_text[1 << 16], err_text[1 << 16];

static void slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

static int run(const NnlModelDesc *d, const char *const *args)
{
    char out[512], err[512];
    snprintf(out, sizeof out, "%s/stdout", tmpdir);
    snprintf(err, sizeof err, "%s/stderr", tmpdir);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[32];
        int argc = 0;
        argv[argc++] = "./lm";
        while (args[argc - 1] && argc < 31) { argv[argc] = (char *)args[argc - 1]; argc++; }
        argv[argc] = NULL;
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

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* A checkpoint of d with the vocabulary json (none when NULL). */
static void save_ckpt_of(const NnlModelDesc *d, const char *name, const char *json, int tokens)
{
    char path[512], err[RT_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    NnlModel *m = nnl_create(d, 1, NULL);
    RtCkptMeta mt = {.batch = 1, .seed = 3};
    if (json && rt_vocab_from_json(json, tokens, &mt.vocab, err, sizeof err) < 0)
        printf("vocab: %s\n", err);
    CHECK(rt_ckpt_save(m, path, &mt, err, sizeof err) == 0, "save %s: %s", name, err);
    rt_vocab_free(&mt.vocab);
    nnl_destroy(m);
}

static void save_ckpt(const NnlModelDesc *d, const char *name, const char *json)
{
    save_ckpt_of(d, name, json, NNL_TOK_CHAR);
}

static const char *vocab_json = "[\"<pad>\",\"<unk>\",\"x\",\"y\",\"c\",\"b\",\"a\",\"z\"]";

static void expect_fail(const NnlModelDesc *d, const char *const *args, int code, const char *part)
{
    int rc = run(d, args);
    CHECK(rc == code, "%s %s: exit %d, want %d", args[0], args[1] ? args[1] : "", rc, code);
    CHECK(strstr(err_text, part) && strchr(err_text, '\n') == err_text + strlen(err_text) - 1,
          "stderr lacks '%s' or is not one line: %s", part, err_text);
    CHECK(out_text[0] == 0, "no output on stdout: %s", out_text);
}

static const char *const *any_ckpt(const char *ckpt)
{
    static const char *args[] = {"sample", "--checkpoint", NULL, NULL};
    args[2] = ckpt;
    return args;
}

static void test_sample(const NnlModelDesc *d)
{
    save_ckpt(d, "lm.safetensors", vocab_json);
    /* a = 6 -> z = 7 -> wraps to x = 2 -> y -> c -> b -> a */
    const char *greedy[] = {"sample", "--checkpoint", "lm.safetensors", "--prompt", "cb",
                            "--tokens", "6", "--temperature", "0", NULL};
    int rc = run(d, greedy);
    CHECK(rc == 0 && !strcmp(out_text, "cbazxycb\n"), "greedy: exit %d, '%s' %s", rc, out_text, err_text);
    const char *empty[] = {"sample", "--checkpoint", "lm.safetensors", "--tokens", "3",
                           "--temperature", "0", NULL};
    rc = run(d, empty);   /* all padding: id 0 scores id 1, which is no token; the best of the rest */
    CHECK(rc == 0 && strlen(out_text) == 4, "no prompt: exit %d, '%s' %s", rc, out_text, err_text);

    char first[256];
    const char *hot[] = {"sample", "--checkpoint", "lm.safetensors", "--prompt", "a", "--tokens", "40",
                         "--temperature", "50", "--seed", "11", NULL};
    CHECK(run(d, hot) == 0 && strlen(out_text) == 42, "hot: '%s' %s", out_text, err_text);
    snprintf(first, sizeof first, "%.200s", out_text);
    CHECK(run(d, hot) == 0 && !strcmp(first, out_text), "same seed, same text: '%s' '%s'", first, out_text);
    const char *hot2[] = {"sample", "--checkpoint", "lm.safetensors", "--prompt", "a", "--tokens", "40",
                          "--temperature", "50", "--seed", "12", NULL};
    CHECK(run(d, hot2) == 0 && strcmp(first, out_text), "another seed, another text: '%s'", out_text);
    int other = 0;
    for (const char *p = first + 1; *p && *p != '\n'; p++) other += !strchr("xyzabc", *p);
    CHECK(other == 0, "only vocabulary tokens (never padding or unknown): '%s'", first);

    const char *bad[] = {"sample", "--checkpoint", "lm.safetensors", "--prompt", "abq", NULL};
    expect_fail(d, bad, 1, "character 'q' is not in the vocabulary");
    save_ckpt(d, "novocab.safetensors", NULL);
    const char *nov[] = {"sample", "--checkpoint", "novocab.safetensors", NULL};
    expect_fail(d, nov, 1, "novocab.safetensors: no vocabulary");
    /* a vocabulary that is no JSON array: the header is not covered by the checksum */
    char path[512], buf[4096];
    snprintf(path, sizeof path, "%s/lm.safetensors", tmpdir);
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    char *at = memmem(buf, len, "\"vocab\":\"[", 10);
    CHECK(at, "the header has a vocab");
    if (at) {
        at[9] = '{';
        snprintf(path, sizeof path, "%s/badvocab.safetensors", tmpdir);
        f = fopen(path, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
        expect_fail(d, any_ckpt("badvocab.safetensors"), 1,
                    "badvocab.safetensors: metadata 'vocab': the vocabulary is not a JSON array");
    }
    const char *temp[] = {"sample", "--temperature", "-1", NULL};
    expect_fail(d, temp, 2, "--temperature: '-1' is not a number >= 0");
    const char *flag[] = {"sample", "--epochs", "2", NULL};
    expect_fail(d, flag, 2, "--epochs is not a flag of 'sample'");

    /* words: the prompt's words, then the continuation's, one space apart */
    NnlModelDesc wd = *d;
    wd.train.data.tokens = NNL_TOK_WORD;
    save_ckpt_of(&wd, "words.safetensors",
                 "[\"<pad>\",\"<unk>\",\"one\",\"two\",\"three\",\"four\",\"five\",\"six\"]", NNL_TOK_WORD);
    const char *words[] = {"sample", "--checkpoint", "words.safetensors", "--prompt", "Three, four!",
                           "--tokens", "4", "--temperature", "0", NULL};
    rc = run(&wd, words);
    CHECK(rc == 0 && !strcmp(out_text, "Three, four! five six one two\n"), "words: '%s' %s", out_text, err_text);
    const char *badw[] = {"sample", "--checkpoint", "words.safetensors", "--prompt", "one seven", NULL};
    expect_fail(&wd, badw, 1, "the prompt's word 'seven' is not in the vocabulary");
    expect_fail(d, any_ckpt("words.safetensors"), 1, "a vocabulary of words, but the model reads characters");

    NnlModelDesc cls = *d;   /* labelled text: a classifier, no language model */
    cls.train.data.labelled = 1;
    const char *any[] = {"sample", "--checkpoint", "lm.safetensors", NULL};
    expect_fail(&cls, any, 1, "is no language model");
    NnlModelDesc small = *d;
    small.train.data.vocab = 6;
    expect_fail(&small, any, 1, "a vocabulary of 8 tokens, but the model takes vocab: 6");
}

static void test_vocab_source(const NnlModelDesc *d)
{
    write_file("lm.txt", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    const char *own[] = {"eval", NULL};
    double loss = 0;
    int rc = run(d, own);
    CHECK(rc == 0 && sscanf(out_text, "train_mse %*f  train_loss %lf", &loss) == 1 && loss == 2,
          "the file's vocabulary: a is id 2, loss %g: %s %s", loss, out_text, err_text);
    const char *ck[] = {"eval", "--checkpoint", "lm.safetensors", NULL};
    rc = run(d, ck);
    CHECK(rc == 0 && sscanf(out_text, "train_mse %*f  train_loss %lf", &loss) == 1 && loss == 6,
          "the checkpoint's vocabulary: a is id 6, loss %g: %s %s", loss, out_text, err_text);

    write_file("lm.txt", "abcabcabcabcabcabcabcabcbbbb");
    const char *tr[] = {"train", "--quiet", "--checkpoint", "trained.safetensors", NULL};
    CHECK(run(d, tr) == 0, "train: %s", err_text);
    char path[512], err[RT_ERRLEN];
    snprintf(path, sizeof path, "%s/trained.safetensors", tmpdir);
    RtVocab v;
    CHECK(rt_ckpt_vocab(path, &v, err, sizeof err) == 0 && v.n == 5 && rt_vocab_find(&v, "b", 1) == 2 &&
          rt_vocab_find(&v, "a", 1) == 3, "the trained checkpoint's vocabulary: %lld tokens %s",
          (long long)v.n, err);
    rt_vocab_free(&v);

    write_file("lm.txt", "abcdefghijk");   /* 11 characters need 13 ids */
    const char *big[] = {"train", NULL};
    expect_fail(d, big, 1, "lm.txt: 11 different characters need 13 token ids");
}

static void test_pick(void)
{
    RtRng rng;
    rt_rng_seed(&rng, 1);
    float probs[4] = {0.1f, 0.2f, 0.6f, 0.1f}, scores[4] = {-3, 5, 1, 2};
    CHECK(rt_sample_token(probs, 4, 0, 4, 0, &rng) == 2 && rt_sample_token(scores, 4, 0, 4, 0, &rng) == 1 &&
          rt_sample_token(scores, 4, 2, 4, 0, &rng) == 3, "greedy");
    int count[4] = {0};
    for (int i = 0; i < 20000; i++) count[rt_sample_token(probs, 4, 0, 4, 1, &rng)]++;
    CHECK(fabs(count[2] / 20000.0 - 0.6) < 0.02 && fabs(count[1] / 20000.0 - 0.2) < 0.02,
          "probabilities at temperature 1: %d %d %d %d", count[0], count[1], count[2], count[3]);
    memset(count, 0, sizeof count);
    for (int i = 0; i < 20000; i++) count[rt_sample_token(probs, 4, 2, 4, 0.5, &rng)]++;
    /* 0.6^2 : 0.1^2 = 36 : 1 */
    CHECK(count[0] == 0 && count[1] == 0 && fabs(count[3] / 20000.0 - 1 / 37.0) < 0.01,
          "temperature 0.5 on [2, 4): %d %d", count[2], count[3]);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    NnlModelDesc d = make_desc();
    write_file("lm.txt", "abcabcabcabcabcabc");
    test_sample(&d);
    test_vocab_source(&d);
    test_pick();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) printf("could not remove %s\n", tmpdir);
    printf("%s: %d failures\n", __FILE__, failures);
    return failures != 0;
}
