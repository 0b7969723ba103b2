/* npy.c — NumPy's .npy format (numpy.lib.format, versions 1 to 3): the magic "\x93NUMPY",
 * a version, a header length, a Python dict literal {'descr', 'fortran_order', 'shape'}
 * padded to 64 bytes, then the array in C order. In: a file of little-endian f4, f8, u1,
 * i4 or i8. Out: its shape and its values as floats; or an f4 or i8 array written to a
 * stream. Whether the shape fits a model, and atomic writes, are the caller's business. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static int npy_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

enum { NPY_F4, NPY_F8, NPY_U1, NPY_I4, NPY_I8 };
typedef struct NpyType { const char *descr; int kind; size_t size; int integer; } NpyType;
static const NpyType npy_types[] = {
    {"<f4", NPY_F4, 4, 0}, {"<f8", NPY_F8, 8, 0}, {"|u1", NPY_U1, 1, 1}, {"<u1", NPY_U1, 1, 1},
    {"<i4", NPY_I4, 4, 1}, {"<i8", NPY_I8, 8, 1},
};

/* The value after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
    char q1[64], q2[64];
    snprintf(q1, sizeof q1, "'%s'", key);
    snprintf(q2, sizeof q2, "\"%s\"", key);
    const char *p = strstr(h, q1);
    if (!p) p = strstr(h, q2);
    if (!p) return NULL;
    p += strlen(q1);
    while (*p == ' ') p++;
    if (*p++ != ':') return NULL;
    while (*p == ' ') p++;
    return p;
}

/* header ::= '{' 'descr' ':' STRING ',' 'fortran_order' ':' BOOL ',' 'shape' ':' TUPLE ','? '}' */
static int parse_header(const char *h, const char *path, char *descr, size_t dlen, RtNpy *a,
                        char *err, size_t errlen)
{
    const char *p = dict_value(h, "descr");
    if (!p || (*p != '\'' && *p != '"'))
        return npy_fail(err, errlen, "%s: .npy header has no 'descr' string", path);
    const char *e = strchr(p + 1, *p);
    if (!e || (size_t)(e - p - 1) >= dlen) return npy_fail(err, errlen, "%s: .npy header: bad 'descr'", path);
    snprintf(descr, dlen, "%.*s", (int)(e - p - 1), p + 1);
    p = dict_value(h, "fortran_order");
    if (!p || (strncmp(p, "False", 5) && strncmp(p, "True", 4)))
        return npy_fail(err, errlen, "%s: .npy header has no 'fortran_order'", path);
    if (*p == 'T')
        return npy_fail(err, errlen, "%s: array is in Fortran order; save it in C order "
                        "(numpy.ascontiguousarray)", path);
    p = dict_value(h, "shape");
    if (!p || *p != '(') return npy_fail(err, errlen, "%s: .npy header has no 'shape' tuple", path);
    a->rank = 0;
    a->count = 1;
    for (p++;;) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0) return npy_fail(err, errlen, "%s: .npy header: bad 'shape'", path);
        if (a->rank == NNL_MAX_RANK + 1)
            return npy_fail(err, errlen, "%s: array has more than %d dimensions", path, NNL_MAX_RANK + 1);
        if (v > 0 && a->count > INT64_MAX / 8 / v) return npy_fail(err, errlen, "%s: array too large", path);
        a->shape[a->rank++] = v;
        a->count *= v;
        for (p = end; *p == ' '; p++) {}
        if (*p == ',') p++;
        else if (*p != ')') return npy_fail(err, errlen, "%s: .npy header: bad 'shape'", path);
    }
    return 0;
}

int rt_npy_read(const char *path, RtNpy *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f) return npy_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    unsigned char pre[12];
    char *h = NULL, descr[16];
    void *raw = NULL;
    int rc = -1;
    size_t got = fread(pre, 1, 10, f);
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6)) {
        npy_fail(err, errlen, "%s: not a .npy file (no \\x93NUMPY magic)", path);
        goto out;
    }
    int major = pre[6];
    uint32_t hlen = pre[8] | (uint32_t)pre[9] << 8;
    if (major == 2 || major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            npy_fail(err, errlen, "%s: truncated .npy header", path);
            goto out;
        }
        hlen |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    } else if (major != 1) {
        npy_fail(err, errlen, "%s: .npy format version %d.%d; versions 1 to 3 are read", path, major, pre[7]);
        goto out;
    }
    if (hlen > (1u << 20) || !(h = malloc(hlen + 1)) || fread(h, 1, hlen, f) != hlen) {
        npy_fail(err, errlen, "%s: truncated .npy header (%u bytes announced)", path, hlen);
        goto out;
    }
    h[hlen] = 0;
    if (parse_header(h, path, descr, sizeof descr, a, err, errlen) < 0) goto out;
    const NpyType *t = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (!strcmp(descr, npy_types[i].descr)) t = &npy_types[i];
    if (!t) {
        npy_fail(err, errlen, "%s: dtype '%s' is not read; use float32, float64, uint8, int32 or "
                 "int64, little-endian", path, descr);
        goto out;
    }
    a->integer = t->integer;
    size_t bytes = (size_t)a->count * t->size;
    /* the data must be in the file before we allocate for it: a header may announce any
     * shape (found by fuzz_data: 5.6 GB asked for by a 120-byte file) */
    long here = ftell(f);
    if (here >= 0 && fseek(f, 0, SEEK_END) == 0) {
        long total = ftell(f);
        size_t avail = total > here ? (size_t)(total - here) : 0;
        if (fseek(f, here, SEEK_SET) != 0 || avail < bytes) {
            npy_fail(err, errlen, "%s: truncated: the array needs %zu bytes of data, the file has %zu",
                     path, bytes, avail);
            goto out;
        }
    }
    if (!(raw = rt_alloc(bytes)) || !(a->data = rt_alloc((size_t)a->count * sizeof(float)))) {
        npy_fail(err, errlen, "%s: out of memory for %lld values", path, (long long)a->count);
        goto out;
    }
    if ((got = fread(raw, 1, bytes, f)) != bytes) {
        npy_fail(err, errlen, "%s: truncated: the array needs %zu bytes of data, the file has %zu",
                 path, bytes, got);
        goto out;
    }
    for (int64_t i = 0; i < a->count; i++) {
        const unsigned char *s = (const unsigned char *)raw + i * t->size;
        float v;
        double dv;
        int32_t i4;
        int64_t i8;
        switch (t->kind) {
        case NPY_F4: memcpy(&v, s, 4); break;
        case NPY_F8: memcpy(&dv, s, 8); v = (float)dv; break;
        case NPY_I4: memcpy(&i4, s, 4); v = (float)i4; break;
        case NPY_I8: memcpy(&i8, s, 8); v = (float)i8; break;
        default: v = s[0]; break;
        }
        a->data[i] = v;
    }
    rc = 0;
out:
    if (rc) rt_npy_free(a);
    free(h);
    rt_free(raw);
    fclose(f);
    return rc;
}

void rt_npy_free(RtNpy *a)
{
    rt_free(a->data);
    a->data = NULL;
}

int rt_npy_write(FILE *f, const char *descr, int rank, const int64_t *shape, const void *data,
                 size_t elsize)
{
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    int64_t count = 1;
    for (int r = 0; r < rank; r++) {
        n += snprintf(h + n, sizeof h - n, "%lld,%s", (long long)shape[r], r + 1 < rank ? " " : "");
        count *= shape[r];
    }
    if (rank > 1) n--;   /* (3, 2) but (3,) */
    n += snprintf(h + n, sizeof h - n, "), }");
    /* magic, version 1.0, u16 length, then the header padded so that data starts at a
     * multiple of 64 bytes, ending in '\n' */
    int total = (10 + n + 1 + 63) / 64 * 64;
    while (10 + n + 1 < total) h[n++] = ' ';
    h[n++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 255),
                             (unsigned char)(n >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(h, 1, (size_t)n, f);
    if (count > 0) fwrite(data, elsize, (size_t)count, f);
    return ferror(f) ? -1 : 0;
}
