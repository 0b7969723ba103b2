/* diag.c — source files and diagnostics. In: a kind, a span and a message from any
 * stage. Out: `file:line:col: error: msg`, the source line and `^~~~` under the span,
 * on diag_stream, and an error count the driver reads. Never exits: deciding to stop
 * is the caller's job. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

FILE *diag_stream;      /* stderr unless a caller (a test) redirects it */
bool diag_werror;
static int error_count;

static const char *const kind_words[] = {
    [DIAG_ERROR] = "error", [DIAG_WARNING] = "warning",
    [DIAG_NOTE] = "note", [DIAG_HINT] = "hint",
};

/* Prints line `line` of f and a caret line under columns [first, last] of it. Tabs in
 * the source are copied into the caret line so carets stay aligned; other control
 * bytes print as '?'. */
static void show_source(FILE *out, const SrcFile *f, int line, int first, int last)
{
    const char *p = f->text, *end = f->text + f->len;
    for (int l = 1; l < line && p < end; p++)
        if (*p == '\n')
            l++;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    int n = (int)(eol - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    fprintf(out, "%5d | ", line);
    for (int i = 0; i < n; i++) {   /* a NUL or escape byte must not reach the terminal */
        unsigned char c = (unsigned char)p[i];
        fputc((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c, out);
    }
    fputs("\n      | ", out);
    for (int c = 1; c < first; c++)
        fputc(c - 1 < n && p[c - 1] == '\t' ? '\t' : ' ', out);
    fputc('^', out);
    for (int c = first + 1; c <= last; c++)
        fputc('~', out);
    fputc('\n', out);
}

void vdiag(DiagKind kind, Span at, const char *fmt, va_list ap)
{
    if (!diag_stream)
        diag_stream = stderr;
    FILE *out = diag_stream;
    if (kind == DIAG_WARNING && diag_werror)
        kind = DIAG_ERROR;
    if (kind == DIAG_ERROR)
        error_count++;
    bool located = at.file && at.first_line > 0;
    if (located)
        fprintf(out, "%s:%d:%d: ", at.file->path, at.first_line, at.first_col);
    fprintf(out, "%s: ", kind_words[kind]);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    if (located) {
        /* A span over several lines is underlined to the end of its first line. */
        int last = at.last_line == at.first_line ? at.last_col : 0;
        if (at.last_line != at.first_line) {
            const char *p = at.file->text, *end = p + at.file->len;
            for (int l = 1; l < at.first_line && p < end; p++)
                if (*p == '\n')
                    l++;
            const char *eol = memchr(p, '\n', (size_t)(end - p));
            last = (int)((eol ? eol : end) - p);
            if (last > 0 && p[last - 1] == '\r')
                last--;
        }
        show_source(out, at.file, at.first_line, at.first_col, last);
    }
    fflush(out);
}

void diag(DiagKind kind, Span at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(kind, at, fmt, ap);
    va_end(ap);
}

int diag_error_count(void)
{
    return error_count;
}

void diag_reset(void)
{
    error_count = 0;
}

Span span_join(Span a, Span b)
{
    if (!a.file || a.first_line == 0)
        return b;
    if (!b.file || b.first_line == 0)
        return a;
    a.last_line = b.last_line;
    a.last_col = b.last_col;
    return a;
}

SrcFile *src_read(Arena *a, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        diag(DIAG_ERROR, NNL_NO_SPAN, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len, fp)) > 0;) {
        len += n;
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    bool bad = !buf || ferror(fp);
    int err = errno;
    fclose(fp);
    if (bad) {
        free(buf);
        diag(DIAG_ERROR, NNL_NO_SPAN, "cannot read '%s': %s", path, strerror(err));
        return NULL;
    }
    SrcFile *f = arena_alloc(a, sizeof *f);
    f->path = arena_strdup(a, path);
    f->text = arena_strndup(a, buf, len);
    f->len = len;
    free(buf);
    return f;
}

SrcFile *src_from_string(Arena *a, const char *name, const char *text)
{
    SrcFile *f = arena_alloc(a, sizeof *f);
    f->path = arena_strdup(a, name);
    f->len = strlen(text);
    f->text = arena_strndup(a, text, f->len);
    return f;
}
