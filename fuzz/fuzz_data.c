/* fuzz_data.c — libFuzzer target over the runtime's data readers. In: any bytes. The
 * first byte picks the reader (IDX, CSV, NPY; text as character windows or as labelled
 * word lines, the vocabulary built from the file first; a checkpoint's vocabulary JSON),
 * the next two the length of the first file; the rest is the second file (labels, or
 * the JSON). Out: nothing; a reader must either load
 * or fail with a message, never read past a buffer or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n) fwrite(p, 1, n, f);
    fclose(f);
}

static char dir[64];

static void remove_dir(void)   /* each fuzzing process leaves nothing in /tmp */
{
    char p[128];
    snprintf(p, sizeof p, "%s/a", dir), unlink(p);
    snprintf(p, sizeof p, "%s/b", dir), unlink(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/nnl-fuzz-data.%d", (int)getpid());
        mkdir(dir, 0700);
        atexit(remove_dir);
    }
    if (size < 3) return 0;
    int kind = data[0] % 7, flag = data[0] & 8;   /* flag: word tokens (JSON), class names */
    size_t n1 = (size_t)(data[1] | data[2] << 8);
    data += 3, size -= 3;
    if (n1 > size) n1 = size;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    put(a, data, n1);
    put(b, data + n1, size - n1);

    static const int64_t shape[2] = {2, 2};
    RtDataNeeds need = {.in_rank = 2, .in_shape = shape, .in_size = 4, .label_size = 1,
                        .task = kind == 3 ? NNL_TASK_REGRESSION : NNL_TASK_MULTICLASS, .classes = 10};
    NnlDataSpec spec = {.name = "fuzz.train", .path = a, .path2 = b, .scale = 1, .target = "label",
                        .from = 0, .to = 1};
    RtDataset ds = {0};
    char err[512];
    int rc;
    if (kind >= 4) {   /* text */
        RtVocab v = {0};
        spec.kind = NNL_DATA_TEXT;
        spec.vocab = 40;
        if (kind == 6) {   /* a checkpoint's vocabulary, as JSON */
            char *json = malloc(size - n1 + 1);
            if (!json) abort();
            memcpy(json, data + n1, size - n1);
            json[size - n1] = 0;
            rc = rt_vocab_from_json(json, flag ? NNL_TOK_WORD : NNL_TOK_CHAR, &v, err, sizeof err);
            free(json);
        } else {
            spec.tokens = kind == 4 ? NNL_TOK_CHAR : NNL_TOK_WORD;
            spec.labelled = kind == 5;
            spec.window = kind == 4 ? 3 : 0;
            spec.length = kind == 5 ? 3 : 0;
            spec.labels = flag ? "ham,spam" : NULL;
            static const int64_t tshape[1] = {3};
            RtDataNeeds tneed = {.in_rank = 1, .in_shape = tshape, .in_size = 3,
                                 .label_size = kind == 4 ? 3 : 1, .task = NNL_TASK_MULTICLASS,
                                 .classes = kind == 4 ? 40 : 2, .vocab = &v};
            rc = rt_vocab_build(&spec, NULL, &v, err, sizeof err);
            if (rc == 0) {
                rc = rt_data_load(&spec, NULL, &tneed, &ds, err, sizeof err);
                if (rc == 0) rt_data_free(&ds);
            }
        }
        if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_data: %s\n", rc ? err : "loaded");
        if (rc && (!memchr(err, 0, sizeof err) || !err[0])) abort();
        rt_vocab_free(&v);
        return 0;
    }
    switch (kind) {
    case 0: spec.kind = NNL_DATA_IDX; rc = rt_data_load(&spec, NULL, &need, &ds, err, sizeof err); break;
    case 1: spec.kind = NNL_DATA_CSV; rc = rt_data_load(&spec, NULL, &need, &ds, err, sizeof err); break;
    default: spec.kind = NNL_DATA_NPY; rc = rt_data_load(&spec, NULL, &need, &ds, err, sizeof err); break;
    }
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_data: %s\n", rc ? err : "loaded");
    if (rc == 0) rt_data_free(&ds);
    else if (!memchr(err, 0, sizeof err) || !err[0]) abort();   /* a failure always says why */
    return 0;
}
