/* data_csv.c — CSV files with a header row (plain or gzipped). In: the target column's
 * name. Out: every other column, in file order, as the features (times scale) and the
 * target as the label. Errors name file:line and the column. Fields may be quoted;
 * blank lines are skipped; CRLF is accepted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Splits one line (NUL-terminated, modified in place) into at most max fields;
 * returns the field count, or -1 when a quoted field has no closing quote (quotes do
 * not span lines). Surrounding blanks go; "quoted, fields" keep commas. */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        char *start = p, *end;
        if (*p == '"') {
            char *w = ++start;
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"') p++;   /* "" is a quote */
                *w++ = *p++;
            }
            if (*p != '"') return -1;
            p++;
            end = w;
            while (*p && *p != ',') p++;
        } else {
            while (*p && *p != ',') p++;
            end = p;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
        }
        char sep = *p;
        *end = 0;
        if (n < max) fields[n] = start;
        n++;
        if (sep != ',') break;
        p++;
    }
    return n;
}

/* Blank: only spaces, tabs and carriage returns. count_rows and the parser agree on it. */
static int blank_span(const char *s, const char *end)
{
    for (; s < end && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r') return 0;
    return 1;
}

/* The next line from *cur, NUL-terminated without its \r\n; NULL at the end. */
static char *next_line(char **cur, char *end)
{
    if (*cur >= end) return NULL;
    char *line = *cur, *nl = memchr(line, '\n', end - line);
    if (!nl) nl = end;
    *cur = nl < end ? nl + 1 : end;
    *nl = 0;
    if (nl > line && nl[-1] == '\r') nl[-1] = 0;
    return line;
}

static int64_t count_rows(const char *p, const char *end)
{
    int64_t rows = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', end - p), *e = nl ? nl : end;
        rows += !blank_span(p, e);
        p = e + 1;
    }
    return rows;
}

typedef struct CsvHeader {
    char **names;            /* the header's fields, pointing into the text */
    int ncols, target;       /* target: index of the label column */
} CsvHeader;

/* header ::= field (',' field)* ; finds the target column (the last one when unnamed)
 * and checks the column count against the model. */
static int parse_header(char *line, const NnlDataSpec *spec, const RtDataNeeds *need,
                        const char *file, CsvHeader *h, char *err, size_t errlen)
{
    if (!line || blank_span(line, line + strlen(line))) {
        snprintf(err, errlen, "%s:1: empty file; a CSV data set needs a header row", file);
        return -1;
    }
    int most = 1;                              /* fields <= commas + 1 */
    for (char *p = line; *p; p++) most += *p == ',';
    h->names = rt_alloc(sizeof(char *) * most);
    if (!h->names) {
        snprintf(err, errlen, "%s: out of memory", file);
        return -1;
    }
    h->ncols = split(line, h->names, most);
    if (h->ncols < 0) {
        snprintf(err, errlen, "%s:1: a quoted field has no closing quote", file);
        return -1;
    }
    h->target = -1;
    for (int i = 0; i < h->ncols; i++)
        if (spec->target ? !strcmp(h->names[i], spec->target) : i == h->ncols - 1) h->target = i;
    if (h->target < 0) {
        snprintf(err, errlen, "%s:1: no column named '%s' for the target", file, spec->target);
        return -1;
    }
    if (need->label_size != 1) {
        snprintf(err, errlen, "%s: the target column gives one label per row, but the model's "
                 "label has %lld values", file, (long long)need->label_size);
        return -1;
    }
    if (h->ncols - 1 != need->in_size) {
        snprintf(err, errlen, "%s:1: %d feature columns (every column but '%s'), but the model's "
                 "input has %lld values", file, h->ncols - 1, h->names[h->target],
                 (long long)need->in_size);
        return -1;
    }
    return 0;
}

/* row ::= number (',' number)* with as many fields as the header; ds is sized already. */
static int parse_rows(char *cur, char *end, const CsvHeader *h, float scale, const char *file,
                      RtDataset *ds, char *err, size_t errlen)
{
    char **row = rt_alloc(sizeof(char *) * h->ncols), *line;
    if (!row) {
        snprintf(err, errlen, "%s: out of memory", file);
        return -1;
    }
    int64_t r = 0;
    int lineno = 1, rc = 0;
    while (rc == 0 && r < ds->n && (line = next_line(&cur, end))) {
        lineno++;
        if (blank_span(line, line + strlen(line))) continue;
        int n = split(line, row, h->ncols);
        if (n < 0) {
            snprintf(err, errlen, "%s:%d: a quoted field has no closing quote (quotes do not span lines)",
                     file, lineno);
            rc = -1;
            break;
        }
        if (n != h->ncols) {
            snprintf(err, errlen, "%s:%d: %d fields, expected %d as in the header", file, lineno,
                     n, h->ncols);
            rc = -1;
            break;
        }
        float *x = ds->x + r * ds->in_size;
        for (int i = 0, f = 0; i < h->ncols && rc == 0; i++) {
            char *e;
            float v = strtof(row[i], &e);
            if (e == row[i] || *e) {
                snprintf(err, errlen, "%s:%d: column '%s': '%s' is not a number", file, lineno,
                         h->names[i], row[i]);
                rc = -1;
            } else if (i == h->target) ds->y[r] = v;
            else x[f++] = v * scale;
        }
        r++;
    }
    rt_free(row);
    return rc;
}

int rt_load_csv(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                RtDataset *ds, char *err, size_t errlen)
{
    char file[4096];
    rt_data_path(spec->path, data_dir, spec->base_dir, file, sizeof file);
    float scale = spec->scale != 0.0f ? spec->scale : 1.0f;
    int64_t len = 0;
    char *text = rt_slurp(file, &len, err, errlen);
    if (!text) return -1;
    char *end = text + len, *cur = text;
    CsvHeader h = {0};
    int rc = -1;
    /* The header's fields stay valid: next_line only writes past them. */
    if (parse_header(next_line(&cur, end), spec, need, file, &h, err, errlen) == 0 &&
        rt_data_alloc(ds, count_rows(cur, end), need->in_size, 1, file, err, errlen) == 0) {
        rc = parse_rows(cur, end, &h, scale, file, ds, err, errlen);
        if (rc == 0) rc = rt_check_labels(ds, need, file, err, errlen);
        if (rc < 0) rt_data_free(ds);
    }
    rt_free(h.names);
    rt_free(text);
    return rc;
}
