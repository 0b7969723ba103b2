/* data.c — data sets for training and evaluation: dispatch on the spec's kind to the
 * loaders (data_idx.c, data_csv.c, data_blobs.c, data_npy.c, data_text.c), the spec's
 * subset, path resolution, reading a whole file, the checks all loaders share, and
 * per-feature standardization. In: an NnlDataSpec and what the model expects. Out: an
 * RtDataset of float rows, or an error naming the file and the problem. Which set's
 * statistics normalize which is cli.c's. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

RtDataNeeds rt_data_needs(const NnlModelDesc *d)
{
    RtDataNeeds n = {
        .in_rank = d->in_rank, .in_shape = d->in_shape, .in_size = d->in_size,
        .label_size = d->label_size, .task = d->train.task,
        .classes = d->train.task == NNL_TASK_MULTICLASS ? d->out_size / (d->label_size > 0 ? d->label_size : 1) : 0,
    };
    return n;
}

void rt_data_path(const char *path, const char *data_dir, const char *base_dir,
                  char *out, size_t outlen)
{
    const char *dir = data_dir && *data_dir ? data_dir : base_dir;
    if (!path) path = "";
    if (path[0] == '/' || !dir || !*dir) snprintf(out, outlen, "%s", path);
    else snprintf(out, outlen, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path);
    /* x.gz when only x exists, and x when only x.gz does: one .nnl reads MNIST as
     * distributed (plain) and Debian's Fashion-MNIST (gzipped) through --data DIR */
    size_t n = strlen(out);
    if (access(out, F_OK) == 0 || n + 4 > outlen) return;
    char alt[4096];
    if (n > 3 && !strcmp(out + n - 3, ".gz")) snprintf(alt, sizeof alt, "%.*s", (int)(n - 3), out);
    else snprintf(alt, sizeof alt, "%s.gz", out);
    if (access(alt, F_OK) == 0) snprintf(out, outlen, "%s", alt);
}

char *rt_slurp(const char *file, int64_t *len, char *err, size_t errlen)
{
    int fd = open(file, O_RDONLY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
        return NULL;
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        snprintf(err, errlen, "%s: cannot open: out of memory", file);
        return NULL;
    }
    int64_t cap = 1 << 16, n = 0;
    char *buf = rt_alloc(cap + 1);
    for (;;) {
        if (!buf) {
            snprintf(err, errlen, "%s: out of memory", file);
            break;
        }
        if (n == cap) {
            char *bigger = rt_alloc(2 * cap + 1);
            if (bigger) memcpy(bigger, buf, n);
            rt_free(buf);
            buf = bigger;
            cap *= 2;
            continue;
        }
        int r = gzread(gz, buf + n, (unsigned)(cap - n > (1 << 30) ? (1 << 30) : cap - n));
        if (r < 0) {
            int code;
            const char *msg = gzerror(gz, &code);
            snprintf(err, errlen, "%s: read error: %s", file, code == Z_ERRNO ? strerror(errno) : msg);
            rt_free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) {
            buf[n] = 0;
            *len = n;
            break;
        }
        n += r;
    }
    gzclose(gz);
    return buf;
}

int rt_data_alloc(RtDataset *ds, int64_t n, int64_t in_size, int64_t label_size,
                  const char *what, char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    if (n < 0 || in_size < 0 || label_size < 0 ||
        (in_size && n > INT64_MAX / 4 / in_size) || (label_size && n > INT64_MAX / 4 / label_size)) {
        snprintf(err, errlen, "%s: data set too large (%lld samples)", what, (long long)n);
        return -1;
    }
    ds->x = rt_alloc(sizeof(float) * (size_t)(n * in_size));
    ds->y = rt_alloc(sizeof(float) * (size_t)(n * label_size));
    if (!ds->x || !ds->y) {
        rt_data_free(ds);
        snprintf(err, errlen, "%s: out of memory for %lld samples", what, (long long)n);
        return -1;
    }
    ds->n = n;
    ds->in_size = in_size;
    ds->label_size = label_size;
    return 0;
}

void rt_data_free(RtDataset *ds)
{
    rt_free(ds->x);
    rt_free(ds->y);
    memset(ds, 0, sizeof *ds);
}

int rt_check_labels(const RtDataset *ds, const RtDataNeeds *need, const char *file,
                    char *err, size_t errlen)
{
    if (need->task != NNL_TASK_MULTICLASS) return 0;
    for (int64_t i = 0; i < ds->n * ds->label_size; i++) {   /* sequences: one per position */
        float l = ds->y[i];
        if (!(l >= 0.0f && l < (float)need->classes) || l != (float)(int64_t)l) {
            snprintf(err, errlen, "%s: label %g of sample %lld is not a class index in [0, %lld)",
                     file, l, (long long)(i / ds->label_size), (long long)need->classes);
            return -1;
        }
    }
    return 0;
}

/* floor(f n), unless f n is within float rounding of the integer above it. */
static int64_t subset_bound(float f, int64_t n)
{
    double x = (double)f * (double)n, r = floor(x + 0.5);
    if (fabs(x - r) <= 1e-6 * (x > 1 ? x : 1)) return (int64_t)r;
    return (int64_t)floor(x);
}

void rt_subset_range(const NnlDataSpec *spec, int64_t n, int64_t *lo, int64_t *hi)
{
    *lo = 0;
    *hi = n;
    if (spec->from == 0.0f && spec->to == 0.0f) return;   /* a hand-written descriptor */
    *lo = spec->from > 0 ? subset_bound(spec->from, n) : 0;
    *hi = spec->to < 1 ? subset_bound(spec->to, n) : n;
    if (*lo > n) *lo = n;
    if (*hi < *lo) *hi = *lo;
}

/* Keeps the rows [lo, hi) of what the loader read, in file order. */
static int take_subset(const NnlDataSpec *spec, RtDataset *ds, char *err, size_t errlen)
{
    int64_t lo, hi, n = ds->n;
    rt_subset_range(spec, n, &lo, &hi);
    if (hi <= lo) {
        snprintf(err, errlen, "%s: subset [%g, %g) of %lld samples is empty", spec->name ? spec->name : "data",
                 (double)spec->from, (double)spec->to, (long long)n);
        rt_data_free(ds);
        return -1;
    }
    if (lo > 0) {
        memmove(ds->x, ds->x + lo * ds->in_size, sizeof(float) * (size_t)((hi - lo) * ds->in_size));
        memmove(ds->y, ds->y + lo * ds->label_size, sizeof(float) * (size_t)((hi - lo) * ds->label_size));
    }
    ds->n = hi - lo;
    return 0;
}

static int load_kind(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                     RtDataset *ds, char *err, size_t errlen)
{
    switch (spec->kind) {
    case NNL_DATA_IDX: return rt_load_idx(spec, data_dir, need, ds, err, errlen);
    case NNL_DATA_CSV: return rt_load_csv(spec, data_dir, need, ds, err, errlen);
    case NNL_DATA_BLOBS: return rt_load_blobs(spec, need, ds, err, errlen);
    case NNL_DATA_NPY: return rt_load_npy(spec, data_dir, need, ds, err, errlen);
    case NNL_DATA_TEXT: return rt_load_text(spec, data_dir, need, ds, err, errlen);
    case NNL_DATA_NONE:
        snprintf(err, errlen, "%s: no data declared", spec->name ? spec->name : "data");
        return -1;
    default:
        snprintf(err, errlen, "%s: unknown data kind %d", spec->name ? spec->name : "data", spec->kind);
        return -1;
    }
}

int rt_data_load(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                 RtDataset *ds, char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    if (load_kind(spec, data_dir, need, ds, err, errlen) < 0) return -1;
    return ds->n > 0 ? take_subset(spec, ds, err, errlen) : 0;
}

/* ---- standardization ---- */

/* Two passes in double, in row order: deterministic, and no cancellation in the variance. */
int rt_norm_fit(const RtDataset *ds, RtNorm *nm, char *err, size_t errlen)
{
    int64_t f = ds->in_size, n = ds->n;
    memset(nm, 0, sizeof *nm);
    double *acc = rt_calloc((size_t)f * 2 + 1, sizeof(double));
    float *block = rt_alloc(sizeof(float) * (size_t)f * 2 + 1);
    if (!acc || !block) {
        rt_free(acc);
        rt_free(block);
        snprintf(err, errlen, "out of memory for the statistics of %lld features", (long long)f);
        return -1;
    }
    double *mean = acc, *var = acc + f;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++) mean[j] += ds->x[i * f + j];
    for (int64_t j = 0; j < f; j++) mean[j] /= n > 0 ? (double)n : 1.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++) {
            double e = ds->x[i * f + j] - mean[j];
            var[j] += e * e;
        }
    nm->size = f;
    nm->mean = block;
    nm->std = block + f;
    for (int64_t j = 0; j < f; j++) {
        double sd = n > 0 ? sqrt(var[j] / (double)n) : 0.0;
        nm->mean[j] = (float)mean[j];
        nm->std[j] = sd > 0 && (float)sd > 0 ? (float)sd : 1.0f;
    }
    rt_free(acc);
    return 0;
}

void rt_norm_apply(const RtNorm *nm, float *x, int64_t rows)
{
    int64_t f = nm->size;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < f; j++) x[i * f + j] = (x[i * f + j] - nm->mean[j]) / nm->std[j];
}

void rt_norm_free(RtNorm *nm)
{
    rt_free(nm->mean);
    memset(nm, 0, sizeof *nm);
}
