/* data_idx.c — IDX files (LeCun's MNIST format), plain or gzipped: zlib's gzread reads
 * both. In: an images file (u8, count x any per-sample shape) and a labels file (u8,
 * count). Out: float features (value * scale) and class indices as floats. Header,
 * sizes and counts are checked against the model and the file's size before anything is
 * trusted or allocated. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

enum { IDX_MAX_DIMS = 8 };

typedef struct IdxFile {
    gzFile gz;
    int ndims;
    int64_t dims[IDX_MAX_DIMS];
    int64_t count, per_sample;   /* dims[0], product of the rest */
} IdxFile;

/* Reads exactly len bytes unless the file ends or fails; returns the bytes read or -1. */
static int64_t read_full(gzFile gz, unsigned char *buf, int64_t len)
{
    int64_t got = 0;
    while (got < len) {
        int64_t want = len - got > (1 << 30) ? (1 << 30) : len - got;
        int r = gzread(gz, buf + got, (unsigned)want);
        if (r < 0) return -1;
        if (r == 0) break;
        got += r;
    }
    return got;
}

static int gz_fail(gzFile gz, const char *file, char *err, size_t errlen)
{
    int code = 0;
    const char *msg = gzerror(gz, &code);
    snprintf(err, errlen, "%s: read error: %s", file, code == Z_ERRNO ? strerror(errno) : msg);
    return -1;
}

static int idx_open(IdxFile *f, const char *file, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    int fd = open(file, O_RDONLY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
        return -1;
    }
    struct stat st;
    int64_t file_bytes = fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        snprintf(err, errlen, "%s: cannot open: out of memory", file);
        return -1;
    }
    unsigned char head[4 + 4 * IDX_MAX_DIMS];
    int64_t got = read_full(f->gz, head, 4);
    if (got < 0) return gz_fail(f->gz, file, err, errlen);
    if (got < 4) {
        snprintf(err, errlen, "%s: truncated: %lld bytes, too short for an IDX header", file, (long long)got);
        return -1;
    }
    if (head[0] != 0 || head[1] != 0 || head[3] < 1 || head[3] > IDX_MAX_DIMS) {
        snprintf(err, errlen, "%s: not an IDX file (magic 0x%02x%02x%02x%02x)", file,
                 head[0], head[1], head[2], head[3]);
        return -1;
    }
    if (head[2] != 0x08) {
        snprintf(err, errlen, "%s: IDX element type 0x%02x is not supported (only unsigned bytes, 0x08)",
                 file, head[2]);
        return -1;
    }
    f->ndims = head[3];
    got = read_full(f->gz, head + 4, 4 * f->ndims);
    if (got < 0) return gz_fail(f->gz, file, err, errlen);
    if (got < 4 * f->ndims) {
        snprintf(err, errlen, "%s: truncated in the IDX header", file);
        return -1;
    }
    f->per_sample = 1;
    for (int i = 0; i < f->ndims; i++) {
        const unsigned char *p = head + 4 + 4 * i;
        f->dims[i] = (int64_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
        if (i > 0) {
            if (f->dims[i] != 0 && f->per_sample > ((int64_t)1 << 40) / f->dims[i]) {
                snprintf(err, errlen, "%s: IDX dimensions too large", file);
                return -1;
            }
            f->per_sample *= f->dims[i];
        }
    }
    f->count = f->dims[0];
    /* A header that declares more data than the file can hold is refused here, before
     * anything is allocated for it (a few bytes claiming 2^28 samples asked for 4 GB):
     * a plain file must hold it all, a gzipped one cannot inflate more than deflate's
     * 1032:1. */
    int64_t head_bytes = 4 + 4 * f->ndims;
    if (f->per_sample && f->count > (INT64_MAX / 2) / f->per_sample) {
        snprintf(err, errlen, "%s: IDX dimensions too large", file);
        return -1;
    }
    int64_t data_bytes = f->count * f->per_sample;
    if (file_bytes >= 0 && gzdirect(f->gz) && file_bytes - head_bytes < data_bytes) {
        snprintf(err, errlen, "%s: truncated: %lld of %lld data bytes (%lld samples declared)", file,
                 (long long)(file_bytes - head_bytes), (long long)data_bytes, (long long)f->count);
        return -1;
    }
    if (file_bytes >= 0 && !gzdirect(f->gz) && data_bytes / 1032 > file_bytes) {
        snprintf(err, errlen, "%s: the header declares %lld samples (%lld bytes), more than a "
                 "%lld-byte gzip file can hold", file, (long long)f->count, (long long)data_bytes,
                 (long long)file_bytes);
        return -1;
    }
    return 0;
}

static void idx_close(IdxFile *f)
{
    if (f->gz) gzclose(f->gz);
    f->gz = NULL;
}

/* Reads count * per_sample bytes into dst[i * stride + j] = byte * scale. */
static int idx_read(IdxFile *f, const char *file, float *dst, int64_t stride, float scale,
                    char *err, size_t errlen)
{
    enum { CHUNK = 1 << 16 };
    unsigned char buf[CHUNK];
    int64_t total = f->count * f->per_sample, done = 0;
    while (done < total) {
        int64_t want = total - done < CHUNK ? total - done : CHUNK;
        int64_t got = read_full(f->gz, buf, want);
        if (got < 0) return gz_fail(f->gz, file, err, errlen);
        if (stride == f->per_sample)          /* rows are contiguous: no index arithmetic */
            for (int64_t i = 0; i < got; i++) dst[done + i] = buf[i] * scale;
        else
            for (int64_t i = 0; i < got; i++) {
                int64_t at = done + i;
                dst[(at / f->per_sample) * stride + at % f->per_sample] = buf[i] * scale;
            }
        done += got;
        if (got < want) {
            snprintf(err, errlen, "%s: truncated: %lld of %lld data bytes (%lld samples declared)",
                     file, (long long)done, (long long)total, (long long)f->count);
            return -1;
        }
    }
    return 0;
}

static void shape_text(char *out, size_t len, const int64_t *dims, int n)
{
    size_t at = 0;
    out[0] = 0;
    for (int i = 0; i < n && at < len; i++)
        at += snprintf(out + at, len - at, "%s%lld", i ? "x" : "", (long long)dims[i]);
    if (n == 0) snprintf(out, len, "1");
}

int rt_load_idx(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                RtDataset *ds, char *err, size_t errlen)
{
    char ipath[4096], lpath[4096], a[256], b[256];
    rt_data_path(spec->path, data_dir, spec->base_dir, ipath, sizeof ipath);
    rt_data_path(spec->path2, data_dir, spec->base_dir, lpath, sizeof lpath);
    float scale = spec->scale != 0.0f ? spec->scale : 1.0f;
    IdxFile img, lab;
    memset(&lab, 0, sizeof lab);
    int rc = -1;
    if (idx_open(&img, ipath, err, errlen) < 0) goto out;
    if (img.per_sample != need->in_size) {
        shape_text(a, sizeof a, need->in_shape, need->in_rank);
        shape_text(b, sizeof b, img.dims + 1, img.ndims - 1);
        snprintf(err, errlen, "%s: per-sample size does not match the model's input "
                 "(expected %lld = %s, file has %s)", ipath, (long long)need->in_size, a, b);
        goto out;
    }
    if (need->label_size != 1) {
        snprintf(err, errlen, "%s: IDX labels are one class index per sample, but the model's "
                 "label has %lld values", lpath, (long long)need->label_size);
        goto out;
    }
    if (idx_open(&lab, lpath, err, errlen) < 0) goto out;
    if (lab.per_sample != 1) {
        snprintf(err, errlen, "%s: a labels file has one dimension, this one has %d", lpath, lab.ndims);
        goto out;
    }
    if (lab.count != img.count) {
        snprintf(err, errlen, "%s: label count %lld != image count %lld in %s", lpath,
                 (long long)lab.count, (long long)img.count, ipath);
        goto out;
    }
    if (rt_data_alloc(ds, img.count, need->in_size, 1, ipath, err, errlen) < 0) goto out;
    if (idx_read(&img, ipath, ds->x, need->in_size, scale, err, errlen) < 0 ||
        idx_read(&lab, lpath, ds->y, 1, 1.0f, err, errlen) < 0 ||
        rt_check_labels(ds, need, lpath, err, errlen) < 0) {
        rt_data_free(ds);
        goto out;
    }
    rc = 0;
out:
    idx_close(&img);
    idx_close(&lab);
    return rc;
}
