/* ckpt.c — checkpoints in the safetensors format (huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON (cJSON writes and reads it), then the
 * tensor bytes. In: an instance and where training stands (RtCkptMeta). Out: a file with
 * every parameter by name, the optimizer state as "optimizer.<k>.<name>", the input
 * standardization as "data.mean" and "data.std" (when the model normalizes) and a
 * "__metadata__" string map with a CRC-32 of the tensor bytes and, for text models, the
 * vocabulary ("vocab": a JSON array of the tokens in id order, "tokens": char or word); or, loading, the same
 * copied back after every check passed. Also the atomic file writes (temporary file,
 * fsync, rename) that the CLI's other outputs use. When to save is cli.c's business. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "rt_internal.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ckpt.c writes tensors in host byte order: safetensors wants little-endian"
#endif

/* A header larger than this is not one we wrote (ours are about 100 bytes a tensor). */
#define CKPT_MAX_HEADER (64u << 20)

static int ckpt_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- atomic writes: readers see the old file or the new one, never a part ---- */

/* Removes PATH.tmpPID files that a killed writer left behind: those whose process is
 * gone (a live PID may be another run writing the same path; it is left alone). */
static void remove_stale_tmps(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
    else snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d) return;
    size_t nb = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strncmp(n, base, nb) || strncmp(n + nb, ".tmp", 4)) continue;
        char *end;
        long pid = strtol(n + nb + 4, &end, 10);
        if (*end || end == n + nb + 4 || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, n);
        unlink(full);
    }
    closedir(d);
}

FILE *rt_atomic_open(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen)
{
    remove_stale_tmps(path);
    snprintf(tmp, tmplen, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) ckpt_fail(err, errlen, "%s: cannot open for writing: %s", tmp, strerror(errno));
    return f;
}

void rt_atomic_abort(FILE *f, const char *tmp)
{
    if (f) fclose(f);
    unlink(tmp);
}

/* Flushes f to the disk, closes it and renames tmp over path, then syncs the directory
 * so that the rename itself survives a crash. */
int rt_atomic_commit(FILE *f, const char *tmp, const char *path, char *err, size_t errlen)
{
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !bad) bad = 1, saved = errno;
    if (bad) {
        unlink(tmp);
        return ckpt_fail(err, errlen, "%s: write failed: %s", path, strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        return ckpt_fail(err, errlen, "%s: cannot rename %s over it: %s", path, tmp, strerror(saved));
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

/* ---- the tensors a model's checkpoint holds ---- */

/* Optimizer state is nstate blocks laid out like the parameter block (Adam: m and v; SGD
 * with momentum: the velocity). Returns the block count, or -1 when state_floats is not
 * a whole number of blocks; then the state is saved as one flat "optimizer.state". */
static int64_t state_blocks(const NnlModelDesc *d)
{
    if (d->state_floats <= 0) return 0;
    if (d->nparam_floats <= 0 || d->state_floats % d->nparam_floats) return -1;
    return d->state_floats / d->nparam_floats;
}

/* One tensor of the checkpoint: its name, shape and where its floats live in the arena. */
typedef struct CkptTensor {
    char name[256];
    int rank;
    int64_t shape[NNL_MAX_RANK];
    int64_t arena_off, size;
} CkptTensor;

/* Every tensor in file order: the parameters, then optimizer block 0, block 1, ...
 * Returns the count (*out allocated) or -1 when out of memory. There are two more
 * entries after the count, "data.mean" and "data.std" (arena_off -1): in_shape each. */
static int ckpt_tensors(const NnlModelDesc *d, CkptTensor **out)
{
    int64_t nb = state_blocks(d);
    int64_t n = d->nparams + (nb < 0 ? 1 : nb * d->nparams);
    CkptTensor *t = rt_calloc((size_t)n + 3, sizeof *t);
    if (!t) return -1;
    int k = 0;
    for (int64_t b = -1; b < (nb < 0 ? 0 : nb); b++)
        for (int i = 0; i < d->nparams; i++, k++) {
            const NnlParam *p = &d->params[i];
            if (b < 0) snprintf(t[k].name, sizeof t[k].name, "%s", p->name);
            else snprintf(t[k].name, sizeof t[k].name, "optimizer.%lld.%s", (long long)b, p->name);
            t[k].rank = p->rank;
            memcpy(t[k].shape, p->shape, sizeof p->shape);
            t[k].size = p->size;
            t[k].arena_off = (b < 0 ? d->param_off : d->state_off + b * d->nparam_floats) + p->offset;
        }
    if (nb < 0) {
        snprintf(t[k].name, sizeof t[k].name, "optimizer.state");
        t[k].rank = 1;
        t[k].shape[0] = t[k].size = d->state_floats;
        t[k].arena_off = d->state_off;
        k++;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(t[k + i].name, sizeof t[k + i].name, i ? "data.std" : "data.mean");
        t[k + i].rank = d->in_rank;
        memcpy(t[k + i].shape, d->in_shape, sizeof d->in_shape);
        t[k + i].size = d->in_size;
        t[k + i].arena_off = -1;
    }
    *out = t;
    return k;
}

/* Where tensor i's floats are: the arena, or the standardization statistics. */
static const float *tensor_data(const NnlModel *m, const CkptTensor *t, const RtNorm *nm)
{
    if (t->arena_off >= 0) return m->arena + t->arena_off;
    return strcmp(t->name, "data.std") ? nm->mean : nm->std;
}

void rt_ckpt_default_path(const NnlModelDesc *d, char *out, size_t len)
{
    const char *name = d->name && *d->name ? d->name : "model";
    size_t i = 0;
    for (; name[i] && i + 13 < len; i++)
        out[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    snprintf(out + i, len - i, ".safetensors");
}

/* ---- saving ---- */

static void meta_int(cJSON *meta, const char *key, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    cJSON_AddStringToObject(meta, key, buf);
}

/* The header: "__metadata__" first, then the tensors in file order. */
static char *ckpt_header(const NnlModel *m, const RtCkptMeta *mt, const CkptTensor *t, int n,
                         uint32_t crc)
{
    const NnlModelDesc *d = m->d;
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(root, "__metadata__");
    char buf[32];
    cJSON_AddStringToObject(meta, "format", "nnl");
    cJSON_AddStringToObject(meta, "model", d->name ? d->name : "");
    cJSON_AddStringToObject(meta, "source", d->source ? d->source : "");
    meta_int(meta, "abi", d->abi_version);
    static const char *const optim_names[] = {[NNL_OPT_SGD] = "sgd", [NNL_OPT_ADAM] = "adam",
                                              [NNL_OPT_ADAMW] = "adamw", [NNL_OPT_RMSPROP] = "rmsprop"};
    int ok = (unsigned)d->train.optim.kind < sizeof optim_names / sizeof optim_names[0];
    cJSON_AddStringToObject(meta, "optimizer", ok ? optim_names[d->train.optim.kind] : "");
    meta_int(meta, "step", mt->step);
    meta_int(meta, "epoch", mt->epoch);
    meta_int(meta, "epoch_step", mt->epoch_step);
    meta_int(meta, "batch", mt->batch);
    snprintf(buf, sizeof buf, "%" PRIu64, mt->seed);
    cJSON_AddStringToObject(meta, "seed", buf);
    meta_int(meta, "threads", mt->threads);
    snprintf(buf, sizeof buf, "%08" PRIx32, crc);
    cJSON_AddStringToObject(meta, "crc32", buf);
    if (mt->vocab.n > 0) {
        char *json = rt_vocab_to_json(&mt->vocab);
        if (!json) {
            cJSON_Delete(root);
            return NULL;
        }
        cJSON_AddStringToObject(meta, "tokens", mt->vocab.tokens == NNL_TOK_WORD ? "word" : "char");
        cJSON_AddStringToObject(meta, "vocab", json);
        free(json);
    }
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name), *shape = cJSON_AddArrayToObject(e, "shape");
        cJSON_AddStringToObject(e, "dtype", "F32");
        for (int r = 0; r < t[i].rank; r++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[r]));
        cJSON *offs = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)at));
        at += t[i].size * 4;
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)at));
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

int rt_ckpt_save(const NnlModel *m, const char *path, const RtCkptMeta *mt, char *err, size_t errlen)
{
    CkptTensor *t;
    int n = ckpt_tensors(m->d, &t);
    if (n < 0) return ckpt_fail(err, errlen, "%s: out of memory", path);
    if (mt->norm.size > 0 && mt->norm.size == m->d->in_size) n += 2;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int i = 0; i < n; i++)
        crc = crc32_z(crc, (const Bytef *)tensor_data(m, &t[i], &mt->norm), (size_t)t[i].size * 4);
    char *text = ckpt_header(m, mt, t, n, (uint32_t)crc);
    if (!text) {
        rt_free(t);
        return ckpt_fail(err, errlen, "%s: out of memory", path);
    }
    /* pad with spaces so that the tensor data starts 8-byte aligned, as safetensors does */
    size_t len = strlen(text), padded = (len + 7) & ~(size_t)7;
    unsigned char lenbytes[8];
    for (int i = 0; i < 8; i++) lenbytes[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    char tmp[4200];
    FILE *f = rt_atomic_open(path, tmp, sizeof tmp, err, errlen);
    int rc = -1;
    if (f) {
        fwrite(lenbytes, 1, 8, f);
        fwrite(text, 1, len, f);
        for (size_t i = len; i < padded; i++) fputc(' ', f);
        for (int i = 0; i < n; i++) fwrite(tensor_data(m, &t[i], &mt->norm), 4, (size_t)t[i].size, f);
        rc = rt_atomic_commit(f, tmp, path, err, errlen);
    }
    free(text);
    rt_free(t);
    return rc;
}

/* ---- loading: every check before the first byte reaches the instance ---- */

static int read_file(const char *path, unsigned char **buf, int64_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ckpt_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return ckpt_fail(err, errlen, "%s: cannot read: not a regular file", path);
    }
    *buf = rt_alloc((size_t)size + 1);
    if (!*buf) {
        fclose(f);
        return ckpt_fail(err, errlen, "%s: out of memory reading %ld bytes", path, size);
    }
    size_t got = fread(*buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        rt_free(*buf);
        return ckpt_fail(err, errlen, "%s: read error", path);
    }
    *len = size;
    return 0;
}

/* A metadata value that must be a decimal integer. */
static int meta_get(const cJSON *meta, const char *key, long long min, long long *out,
                    const char *path, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    if (!cJSON_IsString(v)) return ckpt_fail(err, errlen, "%s: metadata has no '%s'; not an NNL checkpoint", path, key);
    char *end;
    errno = 0;
    long long x = strtoll(v->valuestring, &end, 10);
    if (end == v->valuestring || *end || errno || x < min)
        return ckpt_fail(err, errlen, "%s: metadata '%s' is '%s', not an integer >= %lld", path, key,
                         v->valuestring, min);
    *out = x;
    return 0;
}

static void fmt_shape(char *out, size_t len, int rank, const int64_t *shape)
{
    size_t at = (size_t)snprintf(out, len, "[");
    for (int r = 0; r < rank && at < len; r++)
        at += (size_t)snprintf(out + at, len - at, "%s%lld", r ? ", " : "", (long long)shape[r]);
    if (at < len) snprintf(out + at, len - at, "]");
}

/* Checks one header entry against the tensor the model expects, and its bytes against
 * the data region of dlen bytes. Returns the entry's start in the region, or -1. */
static int64_t check_entry(const cJSON *e, const CkptTensor *t, int64_t dlen, const char *path,
                           char *err, size_t errlen)
{
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsObject(e) || !cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) ||
        cJSON_GetArraySize(offs) != 2)
        return ckpt_fail(err, errlen, "%s: header entry '%s' lacks dtype, shape or data_offsets", path, t->name);
    if (strcmp(dtype->valuestring, "F32"))
        return ckpt_fail(err, errlen, "%s: tensor '%s' is %s; NNL reads F32 only", path, t->name, dtype->valuestring);
    int64_t got[NNL_MAX_RANK] = {0};
    int rank = cJSON_GetArraySize(shape), ok = rank == t->rank;
    for (int r = 0; r < rank && r < NNL_MAX_RANK; r++) {
        const cJSON *s = cJSON_GetArrayItem(shape, r);
        if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 9e15)
            return ckpt_fail(err, errlen, "%s: tensor '%s' has a bad shape", path, t->name);
        got[r] = (int64_t)s->valuedouble;
        ok = ok && got[r] == t->shape[r];
    }
    if (!ok) {
        char a[128], b[128];
        fmt_shape(a, sizeof a, rank < NNL_MAX_RANK ? rank : NNL_MAX_RANK, got);
        fmt_shape(b, sizeof b, t->rank, t->shape);
        return ckpt_fail(err, errlen, "%s: tensor '%s' has shape %s, the model's is %s; "
                         "a checkpoint of another model?", path, t->name, a, b);
    }
    const cJSON *lo = cJSON_GetArrayItem(offs, 0), *hi = cJSON_GetArrayItem(offs, 1);
    if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) || lo->valuedouble < 0 ||
        hi->valuedouble - lo->valuedouble != (double)(t->size * 4))
        return ckpt_fail(err, errlen, "%s: tensor '%s': data_offsets do not match its shape", path, t->name);
    if (hi->valuedouble > (double)dlen)
        return ckpt_fail(err, errlen, "%s: truncated: tensor '%s' ends at data byte %.0f, the file "
                         "holds %lld", path, t->name, hi->valuedouble, (long long)dlen);
    return (int64_t)lo->valuedouble;
}

/* The metadata's "vocab" and "tokens", when it has them (else v->n is 0). */
static int meta_vocab(const cJSON *meta, RtVocab *v, const char *path, char *err, size_t errlen)
{
    const cJSON *json = cJSON_GetObjectItemCaseSensitive(meta, "vocab");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(meta, "tokens");
    char why[RT_ERRLEN];
    memset(v, 0, sizeof *v);
    if (!json) return 0;
    if (!cJSON_IsString(json) || !cJSON_IsString(tok) ||
        (strcmp(tok->valuestring, "char") && strcmp(tok->valuestring, "word")))
        return ckpt_fail(err, errlen, "%s: metadata 'vocab' needs 'tokens' (char or word) beside it", path);
    int kind = strcmp(tok->valuestring, "word") ? NNL_TOK_CHAR : NNL_TOK_WORD;
    if (rt_vocab_from_json(json->valuestring, kind, v, why, sizeof why) < 0)
        return ckpt_fail(err, errlen, "%s: metadata 'vocab': %s", path, why);
    return 0;
}

int rt_ckpt_vocab(const char *path, RtVocab *v, char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    int64_t len = 0;
    memset(v, 0, sizeof *v);
    if (read_file(path, &buf, &len, err, errlen) < 0) return -1;
    uint64_t hlen = 0;
    for (int i = 0; i < 8 && i < len; i++) hlen |= (uint64_t)buf[i] << (8 * i);
    cJSON *root = len >= 8 && hlen <= (uint64_t)(len - 8) && hlen <= CKPT_MAX_HEADER
                ? cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen) : NULL;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    int rc = cJSON_IsObject(meta) ? meta_vocab(meta, v, path, err, errlen)
           : ckpt_fail(err, errlen, "%s: no NNL __metadata__ in a safetensors header; not an NNL checkpoint", path);
    cJSON_Delete(root);
    rt_free(buf);
    return rc;
}

int rt_ckpt_load(NnlModel *m, const char *path, RtCkptMeta *mt, char *err, size_t errlen)
{
    const NnlModelDesc *d = m->d;
    unsigned char *buf = NULL;
    int64_t len = 0;
    if (read_file(path, &buf, &len, err, errlen) < 0) return -1;
    CkptTensor *t = NULL;
    cJSON *root = NULL;
    int64_t *start = NULL;
    int n = -1, rc = -1;
    uint64_t hlen = 0;
    for (int i = 0; i < 8 && i < len; i++) hlen |= (uint64_t)buf[i] << (8 * i);
    if (len < 8) {
        ckpt_fail(err, errlen, "%s: truncated: %lld bytes, not even the 8-byte header length", path, (long long)len);
        goto out;
    }
    if (hlen > (uint64_t)(len - 8) || hlen > CKPT_MAX_HEADER) {
        ckpt_fail(err, errlen, "%s: header length %llu runs past the end of the file (%lld bytes); "
                  "truncated or not a safetensors file", path, (unsigned long long)hlen, (long long)len);
        goto out;
    }
    root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    if (!root || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        long off = root || !at ? 0 : (long)(at - (const char *)buf);
        ckpt_fail(err, errlen, "%s: header is not a JSON object (error near byte %ld)", path, off);
        goto out;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    const cJSON *crcv = cJSON_GetObjectItemCaseSensitive(meta, "crc32");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(meta, "model");
    if (!cJSON_IsObject(meta) || !cJSON_IsString(crcv) || !cJSON_IsString(model)) {
        ckpt_fail(err, errlen, "%s: no NNL __metadata__ (model, crc32) in the header; not an NNL checkpoint", path);
        goto out;
    }
    long long step, epoch, estep, batch, threads;
    if (meta_get(meta, "step", 0, &step, path, err, errlen) || meta_get(meta, "epoch", 0, &epoch, path, err, errlen) ||
        meta_get(meta, "epoch_step", 0, &estep, path, err, errlen) ||
        meta_get(meta, "batch", 0, &batch, path, err, errlen) ||
        meta_get(meta, "threads", 0, &threads, path, err, errlen))
        goto out;
    const cJSON *seedv = cJSON_GetObjectItemCaseSensitive(meta, "seed");
    char *end = NULL;
    uint64_t seed = 0;
    errno = 0;
    if (cJSON_IsString(seedv)) seed = strtoull(seedv->valuestring, &end, 10);
    if (!end || end == seedv->valuestring || *end || errno || seedv->valuestring[0] == '-') {
        ckpt_fail(err, errlen, "%s: metadata has no decimal 'seed'", path);
        goto out;
    }
    if ((n = ckpt_tensors(d, &t)) < 0 || !(start = rt_calloc((size_t)n + 3, sizeof *start))) {
        ckpt_fail(err, errlen, "%s: out of memory", path);
        goto out;
    }
    /* names, then shapes: they say "another model" more clearly than anything else */
    for (int i = 0; i < n; i++)
        if (!cJSON_GetObjectItemCaseSensitive(root, t[i].name)) {
            ckpt_fail(err, errlen, "%s: no tensor '%s', which model '%s' has; a checkpoint of "
                      "another model?", path, t[i].name, d->name);
            goto out;
        }
    /* the standardization statistics: both or neither (older checkpoints have neither) */
    int stats = !!cJSON_GetObjectItemCaseSensitive(root, "data.mean");
    if (stats != !!cJSON_GetObjectItemCaseSensitive(root, "data.std")) {
        ckpt_fail(err, errlen, "%s: has one of 'data.mean' and 'data.std' but not the other", path);
        goto out;
    }
    int nall = n + (stats ? 2 : 0), skipped = 0;
    for (const cJSON *e = root->child; e && cJSON_GetArraySize(root) != nall + 1; e = e->next) {
        int known = !strcmp(e->string, "__metadata__");
        for (int i = 0; i < nall && !known; i++) known = !strcmp(e->string, t[i].name);
        /* an object without training (nnlc --inference) reads the parameters of a training
         * checkpoint and leaves its optimizer state */
        if (!known && !d->train_step && !strncmp(e->string, "optimizer.", 10)) {
            skipped++;
            continue;
        }
        if (!known) {
            ckpt_fail(err, errlen, "%s: tensor '%s' is not in model '%s'; a checkpoint of another "
                      "model?", path, e->string, d->name);
            goto out;
        }
    }
    int64_t dlen = len - 8 - (int64_t)hlen;
    for (int i = 0; i < nall; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, t[i].name);
        if ((start[i] = check_entry(e, &t[i], dlen, path, err, errlen)) < 0) goto out;
    }
    if (strcmp(model->valuestring, d->name ? d->name : "")) {
        ckpt_fail(err, errlen, "%s: a checkpoint of model '%s', not of '%s'", path, model->valuestring, d->name);
        goto out;
    }
    const unsigned char *data = buf + 8 + hlen;
    uLong crc = crc32(0L, Z_NULL, 0);
    if (skipped) crc = crc32_z(crc, data, (size_t)dlen);   /* every tensor, as saved: back to back */
    else
        for (int i = 0; i < nall; i++) crc = crc32_z(crc, data + start[i], (size_t)t[i].size * 4);
    char want[16];
    snprintf(want, sizeof want, "%08" PRIx32, (uint32_t)crc);
    if (strcmp(want, crcv->valuestring)) {
        ckpt_fail(err, errlen, "%s: checksum mismatch (header says crc32 %s, the tensors give %s); "
                  "the file is corrupt", path, crcv->valuestring, want);
        goto out;
    }
    RtVocab voc = {0};
    if (mt && meta_vocab(meta, &voc, path, err, errlen) < 0) goto out;
    RtNorm nm = {0};
    if (mt && stats) {
        float *block = rt_alloc(sizeof(float) * (size_t)d->in_size * 2 + 1);
        if (!block) {
            rt_vocab_free(&voc);
            ckpt_fail(err, errlen, "%s: out of memory", path);
            goto out;
        }
        nm = (RtNorm){.size = d->in_size, .mean = block, .std = block + d->in_size};
        memcpy(nm.mean, data + start[n], (size_t)d->in_size * 4);
        memcpy(nm.std, data + start[n + 1], (size_t)d->in_size * 4);
    }
    for (int i = 0; i < n; i++) memcpy(m->arena + t[i].arena_off, data + start[i], (size_t)t[i].size * 4);
    rt_params_written(m);
    m->ctx.step = step;
    m->ctx.seed = seed;
    if (mt)
        *mt = (RtCkptMeta){.step = step, .epoch = epoch, .epoch_step = estep, .batch = batch,
                           .seed = seed, .threads = (int)threads, .norm = nm, .vocab = voc};
    rc = 0;
out:
    cJSON_Delete(root);
    rt_free(start);
    rt_free(t);
    rt_free(buf);
    return rc;
}
