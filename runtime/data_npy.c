/* data_npy.c — NumPy arrays as a data set: features (N, input...) and labels (N) of class
 * indices or (N, label_size) values, each .npy in any dtype npy.c reads. In: the two
 * paths and the model's shapes. Out: the features times scale and the labels; errors
 * name the file and say what does not fit (the shape against the model's input, the
 * sample counts of the two files, a label that is no class). */
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

/* "(N, 28, 28)": the shape as NumPy prints it, a 1-tuple with its comma. */
static void npy_dims(char *out, size_t len, const char *lead, int rank, const int64_t *shape)
{
    size_t at = (size_t)snprintf(out, len, "(%s%s", lead, lead[0] && rank ? ", " : "");
    for (int k = 0; k < rank && at < len; k++)
        at += (size_t)snprintf(out + at, len - at, "%s%lld", k ? ", " : "", (long long)shape[k]);
    if (at < len) snprintf(out + at, len - at, "%s)", rank + (lead[0] != 0) == 1 ? "," : "");
}

static int fits_input(const RtNpy *a, const RtDataNeeds *need)
{
    if (a->rank != need->in_rank + 1) return 0;
    for (int k = 0; k < need->in_rank; k++)
        if (a->shape[k + 1] != need->in_shape[k]) return 0;
    return 1;
}

/* (N) when label_size is 1, else (N, label_size); (N, 1) is one label too. */
static int fits_label(const RtNpy *a, const RtDataNeeds *need)
{
    if (a->rank == 1) return need->label_size == 1;
    return a->rank == 2 && a->shape[1] == need->label_size;
}

int rt_load_npy(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                RtDataset *ds, char *err, size_t errlen)
{
    char xfile[4096], yfile[4096], got[160], want[160];
    rt_data_path(spec->path, data_dir, spec->base_dir, xfile, sizeof xfile);
    rt_data_path(spec->path2, data_dir, spec->base_dir, yfile, sizeof yfile);
    RtNpy x = {0}, y = {0};
    int rc = -1;
    if (rt_npy_read(xfile, &x, err, errlen) < 0) return -1;
    if (!fits_input(&x, need)) {
        npy_dims(got, sizeof got, "", x.rank, x.shape);
        npy_dims(want, sizeof want, "N", need->in_rank, need->in_shape);
        snprintf(err, errlen, "%s: features of shape %s do not fit the model's input: want %s",
                 xfile, got, want);
        goto out;
    }
    if (rt_npy_read(yfile, &y, err, errlen) < 0) goto out;
    if (!fits_label(&y, need)) {
        int64_t ls = need->label_size;
        npy_dims(got, sizeof got, "", y.rank, y.shape);
        npy_dims(want, sizeof want, "N", ls == 1 ? 0 : 1, &ls);
        snprintf(err, errlen, "%s: labels of shape %s do not fit the model's label: want %s%s",
                 yfile, got, want, ls == 1 ? " class indices or values" : "");
        goto out;
    }
    if (y.shape[0] != x.shape[0]) {
        snprintf(err, errlen, "%s: %lld labels, but %s has %lld samples", yfile,
                 (long long)y.shape[0], xfile, (long long)x.shape[0]);
        goto out;
    }
    /* the arrays become the data set's rows: no second copy of a large file */
    float scale = spec->scale != 0.0f ? spec->scale : 1.0f;
    if (scale != 1.0f)
        for (int64_t i = 0; i < x.count; i++) x.data[i] *= scale;
    *ds = (RtDataset){.n = x.shape[0], .in_size = need->in_size, .label_size = need->label_size,
                      .x = x.data, .y = y.data};
    x.data = y.data = NULL;
    if ((rc = rt_check_labels(ds, need, yfile, err, errlen)) < 0) rt_data_free(ds);
out:
    rt_npy_free(&x);
    rt_npy_free(&y);
    return rc;
}
