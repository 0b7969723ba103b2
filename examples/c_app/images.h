/* images.h — the image files the example applications read, with nothing but zlib:
 * IDX (the MNIST family; gzip or not) and NumPy .npy (u1 or little-endian f4, C order).
 * Images become floats, bytes multiplied by `scale` (the model's DATA_SCALE, as
 * `./model predict` scales integer arrays); float arrays are taken as they are. Labels
 * (IDX idx1) become class indices stored as floats, as the model's API expects them.
 * A header-only helper of examples/c_app; include it in one .c file. */
#ifndef C_APP_IMAGES_H
#define C_APP_IMAGES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* x: (n, per_sample) floats; NULL and a message in err on failure. */
typedef struct Images {
    int64_t n, per_sample;
    float *x;
} Images;

static inline int img_fail(char *err, size_t len, const char *path, const char *why)
{
    snprintf(err, len, "%s: %s", path, why);
    return -1;
}

static inline int gz_all(gzFile f, void *buf, size_t n)
{
    unsigned char *p = (unsigned char *)buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* IDX: magic 0 0 type rank, rank big-endian u32 dims, then the data (type 0x08: u8).
 * Reads at most `limit` samples (0: all). */
static inline int read_idx(const char *path, int labels, float scale, int64_t limit, Images *im, char *err, size_t len)
{
    gzFile f = gzopen(path, "rb");
    if (!f) return img_fail(err, len, path, "cannot open");
    unsigned char h[4], d[4];
    int64_t dims[4] = {0}, per = 1;
    int rc = -1;
    if (gz_all(f, h, 4) || h[0] || h[1] || h[2] != 0x08 || h[3] < 1 || h[3] > 4) {
        img_fail(err, len, path, "not an IDX file of bytes");
        goto out;
    }
    for (int k = 0; k < h[3]; k++) {
        if (gz_all(f, d, 4)) { img_fail(err, len, path, "truncated header"); goto out; }
        dims[k] = (int64_t)d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
        if (k) per *= dims[k];
    }
    if ((labels && h[3] != 1) || (!labels && h[3] < 2)) {
        img_fail(err, len, path, labels ? "labels must be one byte per sample" : "no image dimensions");
        goto out;
    }
    im->n = limit > 0 && limit < dims[0] ? limit : dims[0];
    im->per_sample = per;
    unsigned char *raw = (unsigned char *)malloc((size_t)(im->n * per));
    im->x = (float *)malloc(sizeof(float) * (size_t)(im->n * per));
    if (!raw || !im->x) {
        free(raw);
        img_fail(err, len, path, "out of memory");
        goto out;
    }
    if (gz_all(f, raw, (size_t)(im->n * per))) {
        free(raw);
        img_fail(err, len, path, "truncated data");
        goto out;
    }
    for (int64_t i = 0; i < im->n * per; i++) im->x[i] = labels ? (float)raw[i] : raw[i] * scale;
    free(raw);
    rc = 0;
out:
    gzclose(f);
    if (rc) {
        free(im->x);
        im->x = NULL;
    }
    return rc;
}

/* .npy version 1 or 2: magic, version, header length, a Python dict with 'descr' ('|u1'
 * or '<f4'), 'fortran_order': False and 'shape' (N, ...), then the data. */
static inline int read_npy(const char *path, float scale, Images *im, char *err, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return img_fail(err, len, path, "cannot open");
    unsigned char pre[12];
    char hdr[4096];
    int rc = -1;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) || (pre[6] != 1 && pre[6] != 2)) {
        img_fail(err, len, path, "not a .npy file");
        goto out;
    }
    size_t hl = pre[8] | (size_t)pre[9] << 8;
    if (pre[6] == 2) {
        if (fread(pre + 10, 1, 2, f) != 2) { img_fail(err, len, path, "truncated"); goto out; }
        hl |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hl >= sizeof hdr || fread(hdr, 1, hl, f) != hl) { img_fail(err, len, path, "bad header"); goto out; }
    hdr[hl] = 0;
    int u8 = strstr(hdr, "'|u1'") != NULL, f4 = strstr(hdr, "'<f4'") != NULL;
    const char *sh = strstr(hdr, "'shape': (");
    if ((!u8 && !f4) || strstr(hdr, "True") || !sh) {
        img_fail(err, len, path, "want dtype |u1 or <f4, C order");
        goto out;
    }
    int64_t n = 0, per = 1, v;
    int k = 0;
    for (const char *p = sh + 10; *p && *p != ')'; k++) {
        v = strtoll(p, (char **)&p, 10);
        if (k == 0) n = v; else per *= v;
        while (*p == ',' || *p == ' ') p++;
    }
    if (k < 2 || n < 1) { img_fail(err, len, path, "want shape (N, ...)"); goto out; }
    im->n = n;
    im->per_sample = per;
    im->x = (float *)malloc(sizeof(float) * (size_t)(n * per));
    if (!im->x) { img_fail(err, len, path, "out of memory"); goto out; }
    if (f4) {
        if (fread(im->x, 4, (size_t)(n * per), f) != (size_t)(n * per)) { img_fail(err, len, path, "truncated data"); goto out; }
    } else {
        for (int64_t i = 0; i < n * per; i++) {
            int c = fgetc(f);
            if (c == EOF) { img_fail(err, len, path, "truncated data"); goto out; }
            im->x[i] = (unsigned char)c * scale;
        }
    }
    rc = 0;
out:
    fclose(f);
    if (rc) {
        free(im->x);
        im->x = NULL;
    }
    return rc;
}

/* By the name: *.npy is NumPy, anything else IDX. */
static inline int read_images(const char *path, float scale, int64_t limit, Images *im, char *err, size_t len)
{
    size_t n = strlen(path);
    if (n > 4 && !strcmp(path + n - 4, ".npy")) {
        if (read_npy(path, scale, im, err, len)) return -1;
        if (limit > 0 && limit < im->n) im->n = limit;
        return 0;
    }
    return read_idx(path, 0, scale, limit, im, err, len);
}

#endif
