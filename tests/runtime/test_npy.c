/* test_npy.c — rt_npy_write and rt_npy_read, checking:
 *   round trip: f4 (3, 2) and i8 (3,) written and read back; the header is padded so
 *               that data starts at a multiple of 64 and ends in '\n'; (3,) and (3, 2)
 *               spelled as Python does
 *   reading: version 2 headers, f8, u1, i4 converted to floats, `integer` set for ints
 *   errors: Fortran order, big-endian, an unknown dtype, bad magic, a bad shape; every
 *           proper prefix of a file; failing allocations: -1 and a message naming
 *           the file, never a crash */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static char dir[] = "/tmp/nnl_test_npy.XXXXXX";
static char path[600];

/* A .npy file with the given header dict (version 1 or 2) and raw data bytes. */
static void write_raw(int version, const char *dict, const void *data, size_t bytes)
{
    char h[512];
    int pre = version == 1 ? 10 : 12, n = snprintf(h, sizeof h, "%s", dict);
    while ((pre + n + 1) % 64) h[n++] = ' ';
    h[n++] = '\n';
    FILE *f = fopen(path, "wb");
    fwrite("\x93NUMPY", 1, 6, f);
    unsigned char v[6] = {(unsigned char)version, 0, (unsigned char)(n & 255), (unsigned char)(n >> 8), 0, 0};
    fwrite(v, 1, (size_t)pre - 6, f);
    fwrite(h, 1, (size_t)n, f);
    fwrite(data, 1, bytes, f);
    fclose(f);
}

static void test_round_trip(void)
{
    float x[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
    int64_t c[3] = {2, 0, 9}, s2[2] = {3, 2}, s1[1] = {3};
    FILE *f = fopen(path, "wb");
    CHECK(rt_npy_write(f, "<f4", 2, s2, x, sizeof *x) == 0, "write f4");
    fclose(f);
    char head[256] = "";
    f = fopen(path, "rb");
    size_t got = fread(head, 1, 255, f);
    fclose(f);
    int hlen = (unsigned char)head[8] | (unsigned char)head[9] << 8;
    CHECK(got == (size_t)10 + hlen + sizeof x && (10 + hlen) % 64 == 0 && head[9 + hlen] == '\n' &&
          !strncmp(head + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 59),
          "f4 header: '%.64s'", head + 10);
    RtNpy a;
    char err[RT_ERRLEN];
    CHECK(rt_npy_read(path, &a, err, sizeof err) == 0 && a.rank == 2 && a.shape[0] == 3 &&
          a.shape[1] == 2 && a.count == 6 && !a.integer && !memcmp(a.data, x, sizeof x),
          "read f4: %s", err);
    rt_npy_free(&a);

    f = fopen(path, "wb");
    CHECK(rt_npy_write(f, "<i8", 1, s1, c, sizeof *c) == 0, "write i8");
    fclose(f);
    f = fopen(path, "rb");
    got = fread(head, 1, 255, f);
    fclose(f);
    CHECK(strstr(head + 10, "'shape': (3,), }"), "i8 header: '%.64s'", head + 10);
    CHECK(rt_npy_read(path, &a, err, sizeof err) == 0 && a.rank == 1 && a.count == 3 && a.integer &&
          a.data[0] == 2 && a.data[1] == 0 && a.data[2] == 9, "read i8: %s", err);
    rt_npy_free(&a);
}

static void test_dtypes(void)
{
    double f8[2] = {0.25, -4};
    unsigned char u1[4] = {0, 1, 128, 255};
    int32_t i4[2] = {-5, 70000};
    RtNpy a;
    char err[RT_ERRLEN];
    write_raw(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8, sizeof f8);
    CHECK(rt_npy_read(path, &a, err, sizeof err) == 0 && a.data[0] == 0.25f && a.data[1] == -4 && !a.integer,
          "v2 f8: %s", err);
    rt_npy_free(&a);
    write_raw(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", u1, sizeof u1);
    CHECK(rt_npy_read(path, &a, err, sizeof err) == 0 && a.data[3] == 255 && a.data[2] == 128 && a.integer,
          "u1: %s", err);
    rt_npy_free(&a);
    write_raw(1, "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (1, 2)}", i4, sizeof i4);
    CHECK(rt_npy_read(path, &a, err, sizeof err) == 0 && a.data[0] == -5 && a.data[1] == 70000,
          "i4, double quotes: %s", err);
    rt_npy_free(&a);
    write_raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f8, 4);
    CHECK(rt_npy_read(path, &a, err, sizeof err) == 0 && a.rank == 0 && a.count == 1, "0-d: %s", err);
    rt_npy_free(&a);
}

static void test_errors(void)
{
    struct { const char *dict, *want; } cases[] = {
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", "Fortran order"},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", "dtype '>f4' is not read"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }", "dtype '<c8' is not read"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", "bad 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }", "bad 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False}", "no 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1), }", "more than 9"},
    };
    float z[16] = {0};
    RtNpy a;
    char err[RT_ERRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_raw(1, cases[i].dict, z, sizeof z);
        err[0] = 0;
        CHECK(rt_npy_read(path, &a, err, sizeof err) < 0 && strstr(err, cases[i].want) &&
              !strncmp(err, path, strlen(path)) && !a.data, "%s: '%s'", cases[i].dict, err);
    }
    /* a shape of 1.4 GB in a 64-byte file fails before anything is allocated for it
     * (found by fuzz_data, which ran out of memory) */
    write_raw(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 233333333), }", z, 7);
    rt_alloc_fail_after(1);   /* the data buffer would be the next allocation */
    CHECK(rt_npy_read(path, &a, err, sizeof err) < 0 &&
          strstr(err, "truncated: the array needs 1399999998 bytes of data, the file has 7"),
          "huge shape: '%s'", err);
    rt_alloc_fail_after(0);
    FILE *f = fopen(path, "wb");
    fputs("PK\x03\x04 not numpy", f);
    fclose(f);
    CHECK(rt_npy_read(path, &a, err, sizeof err) < 0 && strstr(err, "not a .npy file"), "magic: '%s'", err);
    CHECK(rt_npy_read("/nonexistent.npy", &a, err, sizeof err) < 0 &&
          !strcmp(err, "/nonexistent.npy: cannot open: No such file or directory"), "missing: '%s'", err);

    /* every proper prefix of a valid file fails */
    write_raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", z, 16);
    char bytes[256];
    f = fopen(path, "rb");
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    int bad = 0;
    for (size_t len = 0; len < size; len++) {
        f = fopen(path, "wb");
        fwrite(bytes, 1, len, f);
        fclose(f);
        if (rt_npy_read(path, &a, err, sizeof err) == 0 || strncmp(err, path, strlen(path))) bad++;
        else CHECK(!a.data, "prefix %zu: data left allocated", len);
    }
    CHECK(bad == 0 && size == 144, "%d of %zu prefixes were accepted", bad, size);
    f = fopen(path, "wb");
    fwrite(bytes, 1, size, f);
    fclose(f);
    for (int n = 1; n <= 2; n++) {
        rt_alloc_fail_after(n);
        int rc = rt_npy_read(path, &a, err, sizeof err);
        rt_alloc_fail_after(0);
        CHECK(rc < 0 && strstr(err, "out of memory") && !a.data, "allocation %d failing: '%s'", n, err);
    }
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/a.npy", dir);
    test_round_trip();
    test_dtypes();
    test_errors();
    unlink(path);
    rmdir(dir);
    printf("test_npy: %d failures\n", failures);
    return failures != 0;
}
