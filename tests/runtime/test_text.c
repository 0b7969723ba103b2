/* test_text.c — text data (data_text.c) on small files written here. Tokens: characters
 * (UTF-8, invalid bytes read as Latin-1), words (lower-cased, apostrophes inside words,
 * dashes and punctuation separate, long words cut). Vocabularies: padding and unknown
 * first, then by frequency with ties in byte order; a character cap too small fails
 * naming the file, a word cap keeps the most frequent; JSON round trip (newlines,
 * quotes, duplicates refused). Windows: ids and next-token labels, non-overlapping and
 * strided, a subset, too short a text. Labelled lines: left padding, truncation after
 * `length`, named and integer labels, blank lines; errors name file:line (no tab,
 * unknown label, label out of range), an empty and a missing file, a vocabulary of the
 * other kind or larger than the cap. Predict's text rows: a window's last tokens, a
 * labelled text's first, the part after a tab. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static char dir[64];
static char errbuf[RT_ERRLEN];

static void write_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static void expect_error(int rc, const char *part1, const char *part2)
{
    CHECK(rc == -1, "expected failure mentioning '%s'", part1);
    CHECK(strstr(errbuf, part1) != NULL, "error '%s' lacks '%s'", errbuf, part1);
    if (part2) CHECK(strstr(errbuf, part2) != NULL, "error '%s' lacks '%s'", errbuf, part2);
}

/* The tokens joined by '|'. */
static char joined[4096];
static void join(const char *tok, size_t n, void *arg)
{
    size_t at = strlen(joined);
    snprintf(joined + at, sizeof joined - at, "%s%.*s", at ? "|" : "", (int)n, tok);
}
static const char *tokens(int kind, const char *text)
{
    joined[0] = 0;
    rt_tokenize(kind, text, strlen(text), join, NULL);
    return joined;
}

static void test_tokenize(void)
{
    CHECK(!strcmp(tokens(NNL_TOK_CHAR, "h\xc3\xa9y\xff\n"), "h|\xc3\xa9|y|\xc3\xbf|\n"), "chars: %s", joined);
    CHECK(!strcmp(tokens(NNL_TOK_CHAR, "\xe2\x80\x94\xed\xa0\x80"),
                  "\xe2\x80\x94|\xc3\xad|\xc2\xa0|\xc2\x80"), "em dash; a surrogate is 3 Latin-1 bytes: %s", joined);
    CHECK(!strcmp(tokens(NNL_TOK_WORD, "Don't stop\xe2\x80\x94the Whale's 2 eyes, CAF\xc3\xa9! dogs' 'tis"),
                  "don't|stop|the|whale's|2|eyes|caf\xc3\xa9|dogs|tis"), "words: %s", joined);
    char longw[200];
    memset(longw, 'a', 150);
    strcpy(longw + 150, " b");
    tokens(NNL_TOK_WORD, longw);
    CHECK(strlen(joined) == RT_TOK_MAXLEN + 2 && !strcmp(joined + RT_TOK_MAXLEN, "|b"), "long word cut: %zu", strlen(joined));
    CHECK(!strcmp(tokens(NNL_TOK_WORD, " ,;  "), ""), "no words: %s", joined);
}

static NnlDataSpec text_spec(const char *file, int kind, int64_t vocab)
{
    NnlDataSpec s = {.kind = NNL_DATA_TEXT, .name = "t.train", .path = file, .base_dir = dir,
                     .tokens = kind, .vocab = vocab, .from = 0, .to = 1};
    return s;
}

static void test_vocab(void)
{
    RtVocab v;
    write_text("abc.txt", "abbccc\n");
    NnlDataSpec s = text_spec("abc.txt", NNL_TOK_CHAR, 8);
    CHECK(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    static const char *const want[] = {"<pad>", "<unk>", "c", "b", "\n", "a"};
    CHECK(v.n == 6, "6 ids, got %lld", (long long)v.n);
    for (int i = 0; i < 6 && i < v.n; i++)
        CHECK(!strcmp(rt_vocab_token(&v, i), want[i]), "id %d is '%s', want '%s'", i, rt_vocab_token(&v, i), want[i]);
    CHECK(rt_vocab_find(&v, "b", 1) == 3 && rt_vocab_find(&v, "z", 1) == -1, "find");

    /* JSON and back */
    char *json = rt_vocab_to_json(&v);
    CHECK(json && !strcmp(json, "[\"<pad>\",\"<unk>\",\"c\",\"b\",\"\\n\",\"a\"]"), "json %s", json);
    RtVocab w;
    CHECK(rt_vocab_from_json(json, NNL_TOK_CHAR, &w, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    CHECK(w.n == 6 && rt_vocab_find(&w, "\n", 1) == 4 && w.tokens == NNL_TOK_CHAR, "round trip");
    rt_vocab_free(&w);
    free(json);
    CHECK(rt_vocab_from_json("[\"<pad>\",\"<unk>\",\"a\",\"a\"]", NNL_TOK_CHAR, &w, errbuf, sizeof errbuf) < 0 &&
          strstr(errbuf, "twice"), "duplicates: %s", errbuf);
    CHECK(rt_vocab_from_json("{}", NNL_TOK_CHAR, &w, errbuf, sizeof errbuf) < 0, "an object");
    rt_vocab_free(&v);
    CHECK(v.n == 0 && !v.pool, "freed");

    s.vocab = 5;   /* 4 characters need 6 ids */
    expect_error(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf), "abc.txt", "raise it to at least 6");

    write_text("words.txt", "The cat, the dog; THE cat.\n");
    s = text_spec("words.txt", NNL_TOK_WORD, 4);
    CHECK(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    CHECK(v.n == 4 && !strcmp(rt_vocab_token(&v, 2), "the") && !strcmp(rt_vocab_token(&v, 3), "cat") &&
          rt_vocab_find(&v, "dog", 3) == -1, "word cap: %lld ids", (long long)v.n);
    rt_vocab_free(&v);

    /* many tokens: the table grows */
    char big[20000] = "";
    for (int i = 0; i < 2000; i++) snprintf(big + strlen(big), sizeof big - strlen(big), "w%d ", i % 1500);
    write_text("big.txt", big);
    s = text_spec("big.txt", NNL_TOK_WORD, 100000);
    CHECK(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf) == 0 && v.n == 1502, "%lld ids: %s", (long long)v.n, errbuf);
    CHECK(rt_vocab_find(&v, "w1499", 5) > 1 && rt_vocab_find(&v, "w0", 2) > 1, "all there");
    /* w0..w499 twice, the rest once: the twice ones first, in byte order */
    CHECK(!strcmp(rt_vocab_token(&v, 2), "w0") && !strcmp(rt_vocab_token(&v, 3), "w1") &&
          !strcmp(rt_vocab_token(&v, 4), "w10"), "order: %s %s %s", rt_vocab_token(&v, 2),
          rt_vocab_token(&v, 3), rt_vocab_token(&v, 4));
    rt_vocab_free(&v);

    s = text_spec("nope.txt", NNL_TOK_CHAR, 10);
    expect_error(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf), "nope.txt", "cannot open");
}

static int load_with(NnlDataSpec *s, RtVocab *v, int64_t in_size, int64_t label_size,
                     int64_t classes, RtDataset *ds)
{
    int64_t shape[1] = {in_size};
    RtDataNeeds need = {.in_rank = 1, .in_shape = shape, .in_size = in_size, .label_size = label_size,
                        .task = classes ? NNL_TASK_MULTICLASS : NNL_TASK_REGRESSION,
                        .classes = classes, .vocab = v};
    errbuf[0] = 0;
    return rt_data_load(s, NULL, &need, ds, errbuf, sizeof errbuf);
}

/* The window's ids as characters, through the vocabulary. */
static const char *chars(const RtVocab *v, const float *ids, int n)
{
    static char out[64];
    out[0] = 0;
    for (int i = 0; i < n; i++) strcat(out, rt_vocab_token(v, (int64_t)ids[i]));
    return out;
}

static void test_windows(void)
{
    write_text("az.txt", "abcdefghij");
    NnlDataSpec s = text_spec("az.txt", NNL_TOK_CHAR, 16);
    s.window = 3;
    RtVocab v;
    RtDataset ds;
    CHECK(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    CHECK(load_with(&s, &v, 3, 3, 0, &ds) == 0, "%s", errbuf);
    CHECK(ds.n == 3, "(10 - 1 - 3) / 3 + 1 = 3 windows, got %lld", (long long)ds.n);
    if (ds.n == 3) {
        CHECK(!strcmp(chars(&v, ds.x, 3), "abc") && !strcmp(chars(&v, ds.y, 3), "bcd"), "window 0");
        CHECK(!strcmp(chars(&v, ds.x + 6, 3), "ghi") && !strcmp(chars(&v, ds.y + 6, 3), "hij"), "window 2");
    }
    rt_data_free(&ds);
    s.stride = 1;
    CHECK(load_with(&s, &v, 3, 3, 0, &ds) == 0 && ds.n == 7, "stride 1: 7 windows, got %lld", (long long)ds.n);
    if (ds.n == 7) CHECK(!strcmp(chars(&v, ds.x + 3, 3), "bcd"), "window 1 starts at b");
    rt_data_free(&ds);
    s.from = 0.5f;   /* the last half of the windows, in file order */
    CHECK(load_with(&s, &v, 3, 3, 0, &ds) == 0 && ds.n == 4 && !strcmp(chars(&v, ds.x, 3), "def"),
          "subset: %lld windows", (long long)ds.n);
    rt_data_free(&ds);
    s.from = 0;
    expect_error(load_with(&s, &v, 4, 3, 0, &ds), "az.txt", "input has 4 values");

    write_text("ab.txt", "abc");
    s.path = "ab.txt";
    expect_error(load_with(&s, &v, 3, 3, 0, &ds), "ab.txt", "3 tokens, too few");
    write_text("empty.txt", "");
    s.path = "empty.txt";
    expect_error(load_with(&s, &v, 3, 3, 0, &ds), "empty.txt", "empty file");
    write_text("other.txt", "abz");   /* z is unknown */
    s.path = "other.txt";
    s.window = 1;
    CHECK(load_with(&s, &v, 1, 1, 0, &ds) == 0 && ds.n == 2 && ds.y[1] == RT_TOK_UNK, "unknown z");
    rt_data_free(&ds);
    s.vocab = 5;
    expect_error(load_with(&s, &v, 1, 1, 0, &ds), "other.txt", "more than vocab: 5");
    s.vocab = 16;
    s.tokens = NNL_TOK_WORD;
    expect_error(load_with(&s, &v, 1, 1, 0, &ds), "other.txt", "vocabulary is of characters");
    rt_vocab_free(&v);
}

static void test_labelled(void)
{
    write_text("mail.tsv", "spam\tBuy NOW, buy!\r\nham\thello there friend of mine\n\n  \nham\t\n");
    NnlDataSpec s = text_spec("mail.tsv", NNL_TOK_WORD, 100);
    s.labelled = 1;
    s.length = 4;
    s.labels = "ham,spam";
    RtVocab v;
    RtDataset ds;
    CHECK(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    CHECK(rt_vocab_find(&v, "ham", 3) < 0 && rt_vocab_find(&v, "buy", 3) == 2, "labels are no tokens; buy first");
    CHECK(load_with(&s, &v, 4, 1, 2, &ds) == 0, "%s", errbuf);
    CHECK(ds.n == 3, "3 examples, got %lld", (long long)ds.n);
    if (ds.n == 3) {
        float now = (float)rt_vocab_find(&v, "now", 3), hello = (float)rt_vocab_find(&v, "hello", 5),
              of = (float)rt_vocab_find(&v, "of", 2);
        CHECK(ds.x[0] == RT_TOK_PAD && ds.x[1] == 2 && ds.x[2] == now && ds.x[3] == 2, "left padded");
        CHECK(ds.x[4] == hello && ds.x[7] == of, "cut after 4 tokens");
        CHECK(ds.x[8] == 0 && ds.x[11] == 0, "no text: all padding");
        CHECK(ds.y[0] == 1 && ds.y[1] == 0 && ds.y[2] == 0, "labels %g %g %g", ds.y[0], ds.y[1], ds.y[2]);
    }
    rt_data_free(&ds);
    expect_error(load_with(&s, &v, 5, 1, 2, &ds), "mail.tsv", "input has 5 values");

    write_text("empty_first.tsv", "ham\t\nspam\tbuy\n");   /* found by fuzz_data (UBSan: memcpy from NULL) */
    s.path = "empty_first.tsv";
    CHECK(load_with(&s, &v, 4, 1, 2, &ds) == 0 && ds.n == 2 && ds.x[3] == 0 && ds.x[7] == 2,
          "an empty first text is all padding: %s", errbuf);
    rt_data_free(&ds);

    write_text("notab.tsv", "ham\tfine\nspam no tab here\n");
    s.path = "notab.tsv";
    expect_error(load_with(&s, &v, 4, 1, 2, &ds), "notab.tsv:2:", "no tab");
    write_text("eggs.tsv", "eggs\tfine\n");
    s.path = "eggs.tsv";
    expect_error(load_with(&s, &v, 4, 1, 2, &ds), "eggs.tsv:1:", "'eggs' is not one of ham,spam");
    write_text("ints.tsv", "1\tfine\n0\tbuy\n");
    s.path = "ints.tsv";
    s.labels = NULL;
    CHECK(load_with(&s, &v, 4, 1, 2, &ds) == 0 && ds.y[0] == 1 && ds.y[1] == 0, "integer labels: %s", errbuf);
    rt_data_free(&ds);
    write_text("five.tsv", "1\tfine\n5\tbuy\n");
    s.path = "five.tsv";
    expect_error(load_with(&s, &v, 4, 1, 2, &ds), "five.tsv", "label 5 of sample 1");
    write_text("word.tsv", "x\tfine\n");
    s.path = "word.tsv";
    expect_error(load_with(&s, &v, 4, 1, 2, &ds), "word.tsv:1:", "not a class index");
    write_text("blank.tsv", "\n\n");
    s.path = "blank.tsv";
    expect_error(load_with(&s, &v, 4, 1, 2, &ds), "blank.tsv", "no examples");
    s.path = "missing.tsv";
    expect_error(load_with(&s, &v, 4, 1, 2, &ds), "missing.tsv", "cannot open");
    rt_vocab_free(&v);

    /* characters for classification */
    write_text("c.tsv", "0\tab\n1\tba\n");
    s = text_spec("c.tsv", NNL_TOK_CHAR, 10);
    s.labelled = 1;
    s.length = 3;
    CHECK(rt_vocab_build(&s, NULL, &v, errbuf, sizeof errbuf) == 0 && v.n == 4, "chars of c.tsv");
    CHECK(load_with(&s, &v, 3, 1, 2, &ds) == 0 && ds.x[0] == 0 && ds.x[1] == 2 && ds.x[2] == 3 &&
          ds.x[4] == 3, "char classification: %s", errbuf);
    rt_data_free(&ds);
    rt_vocab_free(&v);
}

/* predict's text input: rows read as the data set reads its samples */
static void test_rows(void)
{
    RtVocab v;
    char path[256];
    CHECK(rt_vocab_from_json("[\"<pad>\",\"<unk>\",\"a\",\"b\",\"c\"]", NNL_TOK_CHAR, &v, errbuf,
                             sizeof errbuf) == 0, "%s", errbuf);
    write_text("in.txt", "abcab\n\nham\tcz\n");
    snprintf(path, sizeof path, "%s/in.txt", dir);
    NnlDataSpec lm = text_spec("in.txt", NNL_TOK_CHAR, 8), cls = lm;
    lm.window = 3;
    cls.labelled = 1;
    cls.length = 3;
    float *x = NULL;
    int64_t n = 0;
    CHECK(rt_text_rows(&lm, &v, path, &x, &n, errbuf, sizeof errbuf) == 0 && n == 2, "%s", errbuf);
    if (n == 2) {
        CHECK(x[0] == 4 && x[1] == 2 && x[2] == 3, "a window keeps the last tokens: %g %g %g", x[0], x[1], x[2]);
        CHECK(x[3] == 0 && x[4] == 4 && x[5] == 1, "after the tab, padded, z unknown: %g %g %g", x[3], x[4], x[5]);
    }
    rt_free(x);
    CHECK(rt_text_rows(&cls, &v, path, &x, &n, errbuf, sizeof errbuf) == 0 && n == 2 && x[0] == 2 &&
          x[1] == 3 && x[2] == 4, "a labelled text keeps the first tokens");
    rt_free(x);
    write_text("none.txt", "\n \n");
    snprintf(path, sizeof path, "%s/none.txt", dir);
    expect_error(rt_text_rows(&cls, &v, path, &x, &n, errbuf, sizeof errbuf), "none.txt", "no text");
    rt_vocab_free(&v);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nnl_test_text.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_tokenize();
    test_vocab();
    test_windows();
    test_labelled();
    test_rows();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
    printf("%s: %d failures\n", __FILE__, failures);
    return failures != 0;
}
