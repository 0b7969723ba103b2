/* test_data.c — the data loaders. IDX: a gzipped and a plain pair written here with zlib
 * (values, scale, shape), then broken files (missing, bad magic, truncated header and
 * data, count mismatch, label out of range, wrong per-sample size). CSV: header and a
 * named target column in the middle, quotes, CRLF, blank lines, scale; errors name
 * file:line and the column. Blobs: same seed same data, labels in range, classes
 * separable. NPY: f32/f64/u8 features with i8 labels, (N) and (N, 1) labels, scale; errors
 * for a shape that misses the input, a sample-count mismatch, a label out of range.
 * Subsets: the row ranges of from/to (float rounding forgiven, 0 and 0 meaning all), a
 * split's two halves covering the source, an empty one named. Normalization statistics
 * against hand-computed means and standard deviations (a constant feature keeps std 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static char dir[64];
static char errbuf[RT_ERRLEN];

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* An IDX file: magic 0 0 8 ndims, big-endian dims, then `len` of the bytes. */
static void write_idx(const char *name, int gz, int ndims, const uint32_t *dims,
                      const unsigned char *data, size_t len)
{
    char path[256];
    unsigned char head[4 + 4 * 8] = {0, 0, 8, (unsigned char)ndims};
    for (int i = 0; i < ndims; i++) put_be32(head + 4 + 4 * i, dims[i]);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, head, 4 + 4 * ndims);
        if (len) gzwrite(f, data, (unsigned)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(head, 1, 4 + 4 * ndims, f);
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static void write_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static const int64_t shape_2x3[] = {2, 3};

static RtDataNeeds needs(int64_t in_size, int64_t classes)
{
    RtDataNeeds n = {.in_rank = 2, .in_shape = shape_2x3, .in_size = in_size, .label_size = 1,
                     .task = NNL_TASK_MULTICLASS, .classes = classes};
    return n;
}

static int load(int kind, const char *p1, const char *p2, const char *target, float scale,
                const RtDataNeeds *need, RtDataset *ds)
{
    NnlDataSpec s = {.kind = kind, .name = "t.train", .path = p1, .path2 = p2,
                     .base_dir = dir, .target = target, .scale = scale};
    errbuf[0] = 0;
    return rt_data_load(&s, NULL, need, ds, errbuf, sizeof errbuf);
}

static void expect_error(int rc, const char *part1, const char *part2)
{
    CHECK(rc == -1, "expected failure mentioning '%s'", part1);
    CHECK(strstr(errbuf, part1) != NULL, "error '%s' lacks '%s'", errbuf, part1);
    if (part2) CHECK(strstr(errbuf, part2) != NULL, "error '%s' lacks '%s'", errbuf, part2);
}

static void test_idx_good(void)
{
    unsigned char img[3 * 6], lab[3] = {2, 0, 9};
    for (int i = 0; i < 18; i++) img[i] = (unsigned char)(i * 14);
    uint32_t idims[] = {3, 2, 3}, ldims[] = {3};
    RtDataNeeds n = needs(6, 10);
    for (int gz = 0; gz <= 1; gz++) {
        write_idx("img", gz, 3, idims, img, sizeof img);
        write_idx("lab", gz, 1, ldims, lab, sizeof lab);
        RtDataset ds;
        int rc = load(NNL_DATA_IDX, "img", "lab", NULL, 0.5f, &n, &ds);
        CHECK(rc == 0, "idx (gz %d): %s", gz, errbuf);
        if (rc) continue;
        CHECK(ds.n == 3 && ds.in_size == 6 && ds.label_size == 1, "idx shape %lld %lld",
              (long long)ds.n, (long long)ds.in_size);
        int bad = 0;
        for (int i = 0; i < 18; i++) bad += ds.x[i] != img[i] * 0.5f;
        CHECK(bad == 0, "idx (gz %d): %d pixel values differ (x[5] = %g)", gz, bad, ds.x[5]);
        CHECK(ds.y[0] == 2 && ds.y[1] == 0 && ds.y[2] == 9, "idx labels %g %g %g",
              ds.y[0], ds.y[1], ds.y[2]);
        rt_data_free(&ds);
    }
}

static void test_idx_bad(void)
{
    unsigned char img[3 * 6] = {0}, lab[3] = {1, 2, 3};
    uint32_t idims[] = {3, 2, 3}, ldims[] = {3}, two[] = {2}, other[] = {3, 6, 1};
    RtDataNeeds n = needs(6, 10);
    RtDataset ds;
    write_idx("img", 1, 3, idims, img, sizeof img);
    write_idx("lab", 1, 1, ldims, lab, sizeof lab);
    expect_error(load(NNL_DATA_IDX, "nope.gz", "lab", NULL, 1, &n, &ds), "nope.gz", "cannot open");
    expect_error(load(NNL_DATA_IDX, "img", "nope2", NULL, 1, &n, &ds), "nope2", "cannot open");

    write_text("junk", "hello world, not idx");
    expect_error(load(NNL_DATA_IDX, "junk", "lab", NULL, 1, &n, &ds), "junk", "not an IDX");
    write_text("short", "\0\0");
    expect_error(load(NNL_DATA_IDX, "short", "lab", NULL, 1, &n, &ds), "short", "truncated");

    write_idx("trunc", 1, 3, idims, img, 10);            /* 10 of 18 data bytes */
    expect_error(load(NNL_DATA_IDX, "trunc", "lab", NULL, 1, &n, &ds), "trunc", "10 of 18");
    write_idx("trunc0", 0, 3, idims, img, 10);           /* plain: refused from its size */
    expect_error(load(NNL_DATA_IDX, "trunc0", "lab", NULL, 1, &n, &ds), "trunc0", "10 of 18");
    /* a header declaring 2^28 samples over a few bytes (what the fuzzer found asking for
     * 4 GB): refused before allocating, plain or gzipped */
    uint32_t huge[] = {1u << 28, 2, 3}, huge_lab[] = {1u << 28};
    write_idx("lab_huge", 0, 1, huge_lab, lab, sizeof lab);
    for (int gz = 0; gz <= 1; gz++) {
        write_idx("huge", gz, 3, huge, img, sizeof img);
        expect_error(load(NNL_DATA_IDX, "huge", "lab_huge", NULL, 1, &n, &ds), "huge",
                     gz ? "more than a" : "18 of 1610612736");
    }

    write_idx("lab2", 1, 1, two, lab, 2);
    expect_error(load(NNL_DATA_IDX, "img", "lab2", NULL, 1, &n, &ds), "lab2", "count 2 != image count 3");

    write_idx("img61", 0, 3, other, img, sizeof img);   /* 6x1: same size, accepted */
    CHECK(load(NNL_DATA_IDX, "img61", "lab", NULL, 1, &n, &ds) == 0, "6x1 images: %s", errbuf);
    rt_data_free(&ds);
    RtDataNeeds n7 = needs(7, 10);
    expect_error(load(NNL_DATA_IDX, "img", "lab", NULL, 1, &n7, &ds), "expected 7", "file has 2x3");

    RtDataNeeds n3 = needs(6, 3);                         /* label 3 is not in [0, 3) */
    expect_error(load(NNL_DATA_IDX, "img", "lab", NULL, 1, &n3, &ds), "lab", "label 3 of sample 2");
    CHECK(ds.x == NULL && ds.n == 0, "a failed load leaves an empty data set");
}

static void test_csv_good(void)
{
    write_text("a.csv", "f1, label ,\"f 2\"\r\n"
                        "1.5,2,-3\r\n"
                        "\r\n"
                        "  4 , 0 ,\"5\"\n"
                        "   \n"
                        "7,1,8e-1");
    RtDataNeeds n = needs(2, 3);
    RtDataset ds;
    int rc = load(NNL_DATA_CSV, "a.csv", NULL, "label", 2.0f, &n, &ds);
    CHECK(rc == 0, "csv: %s", errbuf);
    if (rc) return;
    float wx[] = {3, -6, 8, 10, 14, 1.6f}, wy[] = {2, 0, 1};
    CHECK(ds.n == 3, "csv rows %lld", (long long)ds.n);
    for (int i = 0; i < 6 && ds.n == 3; i++) CHECK(fabsf(ds.x[i] - wx[i]) < 1e-6f, "x[%d] = %g, want %g", i, ds.x[i], wx[i]);
    for (int i = 0; i < 3 && ds.n == 3; i++) CHECK(ds.y[i] == wy[i], "y[%d] = %g, want %g", i, ds.y[i], wy[i]);
    rt_data_free(&ds);

    /* No target named: the last column is the label. */
    write_text("b.csv", "x,y,c\n1,2,1\n3,4,0\n");
    rc = load(NNL_DATA_CSV, "b.csv", NULL, NULL, 1, &n, &ds);
    CHECK(rc == 0 && ds.n == 2 && ds.x[2] == 3 && ds.y[0] == 1, "csv without target: %s", errbuf);
    if (rc == 0) rt_data_free(&ds);
}

static void test_csv_bad(void)
{
    RtDataNeeds n = needs(2, 3);
    RtDataset ds;
    expect_error(load(NNL_DATA_CSV, "missing.csv", NULL, "y", 1, &n, &ds), "missing.csv", "cannot open");
    write_text("e.csv", "");
    expect_error(load(NNL_DATA_CSV, "e.csv", NULL, "y", 1, &n, &ds), "e.csv:1:", "header");
    write_text("c.csv", "a,b,y\n1,2,0\n1,x,1\n");
    expect_error(load(NNL_DATA_CSV, "c.csv", NULL, "y", 1, &n, &ds), "c.csv:3:", "column 'b': 'x'");
    write_text("d.csv", "a,b,y\n1,2,0\n\n1,2\n");
    expect_error(load(NNL_DATA_CSV, "d.csv", NULL, "y", 1, &n, &ds), "d.csv:4:", "2 fields, expected 3");
    expect_error(load(NNL_DATA_CSV, "d.csv", NULL, "label", 1, &n, &ds), "d.csv:1:", "'label'");
    write_text("f.csv", "a,y\n1,0\n");
    expect_error(load(NNL_DATA_CSV, "f.csv", NULL, "y", 1, &n, &ds), "f.csv:1:", "1 feature columns");
    write_text("g.csv", "a,b,y\n1,2,0\n1,2,1.5\n");
    expect_error(load(NNL_DATA_CSV, "g.csv", NULL, "y", 1, &n, &ds), "g.csv", "label 1.5 of sample 1");
    write_text("q.csv", "a,b,y\n1,\"2,0\n1,2,1\n");     /* was read as 2 fields */
    expect_error(load(NNL_DATA_CSV, "q.csv", NULL, "y", 1, &n, &ds), "q.csv:2:", "no closing quote");
    write_text("qh.csv", "a,\"b,y\n1,2,0\n");
    expect_error(load(NNL_DATA_CSV, "qh.csv", NULL, "y", 1, &n, &ds), "qh.csv:1:", "no closing quote");
    write_text("qq.csv", "\"a \"\"x\"\"\",b,y\n\"1\",2,0\n");   /* "" inside quotes is a quote */
    CHECK(load(NNL_DATA_CSV, "qq.csv", NULL, "y", 1, &n, &ds) == 0 && ds.n == 1, "qq.csv: %s", errbuf);
    rt_data_free(&ds);
    write_text("h.csv", "a,b,y\n \r \n1,2,0\n");        /* a blank line with an inner \r */
    CHECK(load(NNL_DATA_CSV, "h.csv", NULL, "y", 1, &n, &ds) == 0 && ds.n == 1, "h.csv: %s", errbuf);
    rt_data_free(&ds);
}

static void test_blobs(void)
{
    int64_t shape[] = {2};
    RtDataNeeds n = {.in_rank = 1, .in_shape = shape, .in_size = 2, .label_size = 1,
                     .task = NNL_TASK_MULTICLASS, .classes = 3};
    NnlDataSpec s = {.kind = NNL_DATA_BLOBS, .name = "b", .n = 600, .classes = 3,
                     .spread = 0.5f, .seed = 7};
    RtDataset a, b;
    CHECK(rt_data_load(&s, NULL, &n, &a, errbuf, sizeof errbuf) == 0, "blobs: %s", errbuf);
    CHECK(rt_data_load(&s, NULL, &n, &b, errbuf, sizeof errbuf) == 0, "blobs: %s", errbuf);
    CHECK(a.n == 600 && !memcmp(a.x, b.x, 600 * 2 * sizeof(float)) &&
          !memcmp(a.y, b.y, 600 * sizeof(float)), "same seed, same blobs");
    /* Nearest class mean classifies nearly all: the blobs are 4 apart at spread 0.5. */
    double mean[3][2] = {{0}}, cnt[3] = {0};
    for (int i = 0; i < 600; i++) {
        int k = (int)a.y[i];
        CHECK(k >= 0 && k < 3, "blob label %g", a.y[i]);
        if (k < 0 || k > 2) return;
        mean[k][0] += a.x[2 * i]; mean[k][1] += a.x[2 * i + 1]; cnt[k]++;
    }
    int right = 0;
    for (int k = 0; k < 3; k++) {
        CHECK(cnt[k] > 150, "blob %d has %g samples of 600", k, cnt[k]);
        mean[k][0] /= cnt[k]; mean[k][1] /= cnt[k];
    }
    for (int i = 0; i < 600; i++) {
        int best = 0;
        double bd = 1e30;
        for (int k = 0; k < 3; k++) {
            double dx = a.x[2 * i] - mean[k][0], dy = a.x[2 * i + 1] - mean[k][1];
            if (dx * dx + dy * dy < bd) { bd = dx * dx + dy * dy; best = k; }
        }
        right += best == (int)a.y[i];
    }
    CHECK(right >= 594, "nearest mean classifies %d of 600", right);
    rt_data_free(&b);
    s.seed = 8;
    CHECK(rt_data_load(&s, NULL, &n, &b, errbuf, sizeof errbuf) == 0 &&
          memcmp(a.x, b.x, 600 * 2 * sizeof(float)), "another seed, other blobs");
    rt_data_free(&a);
    rt_data_free(&b);
    n.classes = 2;
    expect_error(rt_data_load(&s, NULL, &n, &a, errbuf, sizeof errbuf), "3 blobs", "only 2 classes");
}

static void test_paths(void)
{
    char out[256];
    rt_data_path("x.gz", "/d", "/base", out, sizeof out);
    CHECK(!strcmp(out, "/d/x.gz"), "--data wins: %s", out);
    rt_data_path("x.gz", NULL, "/base/", out, sizeof out);
    CHECK(!strcmp(out, "/base/x.gz"), "base dir: %s", out);
    rt_data_path("/abs/x.gz", "/d", "/base", out, sizeof out);
    CHECK(!strcmp(out, "/abs/x.gz"), "absolute: %s", out);
    rt_data_path("x.gz", "", NULL, out, sizeof out);
    CHECK(!strcmp(out, "x.gz"), "no dir: %s", out);
}


/* A .npy file of count values of elsize bytes in dtype descr. */
static void write_npy(const char *name, const char *descr, int rank, const int64_t *shape,
                      const void *data, size_t elsize)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    rt_npy_write(f, descr, rank, shape, data, elsize);
    fclose(f);
}

static void test_npy_data(void)
{
    RtDataNeeds need = needs(6, 3);   /* input (2, 3), 3 classes */
    RtDataset ds;
    float xf[3][6];
    double xd[3][6];
    int64_t y[3] = {2, 0, 1}, ybad[3] = {2, 3, 1}, s3[] = {3, 2, 3}, s31[] = {3, 1}, s2[] = {2},
            s36[] = {3, 6}, s323[] = {3, 2, 3};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 6; j++) xf[i][j] = (float)(xd[i][j] = i * 10 + j);
    write_npy("x.npy", "<f4", 3, s3, xf, 4);
    write_npy("xd.npy", "<f8", 3, s323, xd, 8);
    write_npy("y.npy", "<i8", 1, s3, y, 8);
    write_npy("y31.npy", "<i8", 2, s31, y, 8);
    write_npy("y2.npy", "<i8", 1, s2, y, 8);
    write_npy("ybad.npy", "<i8", 1, s3, ybad, 8);
    write_npy("xflat.npy", "<f4", 2, s36, xf, 4);
    CHECK(load(NNL_DATA_NPY, "x.npy", "y.npy", NULL, 0.5f, &need, &ds) == 0, "npy: %s", errbuf);
    CHECK(ds.n == 3 && ds.in_size == 6 && ds.x[7] == 5.5f && ds.x[17] == 12.5f && ds.y[0] == 2 && ds.y[2] == 1,
          "npy values: n %lld x[7] %g y %g %g", (long long)ds.n, ds.x[7], ds.y[0], ds.y[2]);
    rt_data_free(&ds);
    CHECK(load(NNL_DATA_NPY, "xd.npy", "y31.npy", NULL, 1, &need, &ds) == 0, "npy f8, (N, 1): %s", errbuf);
    CHECK(ds.n == 3 && ds.x[13] == 21 && ds.y[1] == 0, "npy f8 values");
    rt_data_free(&ds);
    expect_error(load(NNL_DATA_NPY, "xflat.npy", "y.npy", NULL, 1, &need, &ds), "xflat.npy: features of shape (3, 6)",
                 "want (N, 2, 3)");
    expect_error(load(NNL_DATA_NPY, "x.npy", "y2.npy", NULL, 1, &need, &ds), "y2.npy: 2 labels", "x.npy has 3 samples");
    expect_error(load(NNL_DATA_NPY, "x.npy", "ybad.npy", NULL, 1, &need, &ds), "ybad.npy: label 3 of sample 1", "[0, 3)");
    expect_error(load(NNL_DATA_NPY, "x.npy", "xflat.npy", NULL, 1, &need, &ds), "xflat.npy: labels of shape (3, 6)",
                 "want (N,)");
    expect_error(load(NNL_DATA_NPY, "none.npy", "y.npy", NULL, 1, &need, &ds), "none.npy: cannot open", NULL);
}

static void test_subsets(void)
{
    int64_t lo, hi;
    NnlDataSpec s = {.from = 0, .to = 0};
    rt_subset_range(&s, 10, &lo, &hi);
    CHECK(lo == 0 && hi == 10, "0 and 0 mean all: [%lld, %lld)", (long long)lo, (long long)hi);
    s = (NnlDataSpec){.from = 0, .to = 0.9f};
    rt_subset_range(&s, 10, &lo, &hi);
    CHECK(lo == 0 && hi == 9, "to 0.9 of 10: [%lld, %lld)", (long long)lo, (long long)hi);
    s = (NnlDataSpec){.from = 0.9f, .to = 1};
    rt_subset_range(&s, 10, &lo, &hi);
    CHECK(lo == 9 && hi == 10, "from 0.9 of 10: [%lld, %lld)", (long long)lo, (long long)hi);
    s = (NnlDataSpec){.from = 0.29f, .to = 1};   /* 0.29f * 100 = 28.99999... */
    rt_subset_range(&s, 100, &lo, &hi);
    CHECK(lo == 29, "from 0.29 of 100 starts at %lld, want 29", (long long)lo);
    s = (NnlDataSpec){.from = 0.25f, .to = 0.5f};   /* floor: 2.5 -> 2, 5 -> 5 */
    rt_subset_range(&s, 11, &lo, &hi);
    CHECK(lo == 2 && hi == 5, "[0.25, 0.5) of 11: [%lld, %lld)", (long long)lo, (long long)hi);

    /* the two halves of a split of blobs are the source's rows, in order */
    RtDataNeeds need = {.in_rank = 1, .in_shape = (int64_t[]){2}, .in_size = 2, .label_size = 1,
                        .task = NNL_TASK_MULTICLASS, .classes = 2};
    NnlDataSpec all = {.kind = NNL_DATA_BLOBS, .name = "b.all", .n = 50, .classes = 2, .seed = 4, .scale = 1,
                       .from = 0, .to = 1};
    NnlDataSpec tr = all, va = all;
    tr.to = 0.8f;
    va.from = 0.8f;
    va.name = "b.val";
    RtDataset a, t, v;
    CHECK(rt_data_load(&all, NULL, &need, &a, errbuf, sizeof errbuf) == 0, "blobs: %s", errbuf);
    CHECK(rt_data_load(&tr, NULL, &need, &t, errbuf, sizeof errbuf) == 0, "train subset: %s", errbuf);
    CHECK(rt_data_load(&va, NULL, &need, &v, errbuf, sizeof errbuf) == 0, "val subset: %s", errbuf);
    CHECK(t.n == 40 && v.n == 10, "split sizes %lld %lld", (long long)t.n, (long long)v.n);
    CHECK(!memcmp(t.x, a.x, sizeof(float) * 80) && !memcmp(v.x, a.x + 80, sizeof(float) * 20) &&
          !memcmp(v.y, a.y + 40, sizeof(float) * 10), "split rows are the source's, in order");
    rt_data_free(&a);
    rt_data_free(&t);
    rt_data_free(&v);
    va.from = 0.99f;   /* floor(49.5) = 49: one row */
    CHECK(rt_data_load(&va, NULL, &need, &v, errbuf, sizeof errbuf) == 0 && v.n == 1, "one-row subset");
    rt_data_free(&v);
    va.from = 0.5f;    /* floor(25.5) = 25 to floor(25.75) = 25: none */
    va.to = 0.515f;
    expect_error(rt_data_load(&va, NULL, &need, &v, errbuf, sizeof errbuf), "b.val: subset [0.5, 0.515) of 50",
                 "empty");
}

static void test_normalize(void)
{
    /* feature 0: 1 2 3 4 (mean 2.5, population std sqrt(1.25)); feature 1: constant 5 */
    float x[8] = {1, 5, 2, 5, 3, 5, 4, 5}, y[4] = {0};
    RtDataset ds = {.n = 4, .in_size = 2, .label_size = 1, .x = x, .y = y};
    RtNorm nm;
    CHECK(rt_norm_fit(&ds, &nm, errbuf, sizeof errbuf) == 0, "fit: %s", errbuf);
    CHECK(nm.size == 2 && nm.mean[0] == 2.5f && fabsf(nm.std[0] - sqrtf(1.25f)) < 1e-6f &&
          nm.mean[1] == 5 && nm.std[1] == 1, "stats: mean %g %g std %g %g", nm.mean[0], nm.mean[1],
          nm.std[0], nm.std[1]);
    rt_norm_apply(&nm, x, 4);
    CHECK(fabsf(x[0] + 1.5f / sqrtf(1.25f)) < 1e-6f && fabsf(x[6] - 1.5f / sqrtf(1.25f)) < 1e-6f &&
          x[1] == 0 && x[7] == 0, "applied: %g %g %g", x[0], x[6], x[1]);
    rt_norm_free(&nm);
    CHECK(nm.size == 0 && !nm.mean, "freed");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nnl_test_data.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_idx_good();
    test_idx_bad();
    test_csv_good();
    test_csv_bad();
    test_blobs();
    test_paths();
    test_npy_data();
    test_subsets();
    test_normalize();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
    printf("%s: %d failures\n", __FILE__, failures);
    return failures != 0;
}
