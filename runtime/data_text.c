/* data_text.c — text as data. In: a TEXT spec (a file of plain text, or of `label<TAB>text`
 * lines) and the run's vocabulary. Out: tokens (characters or lower-cased words), the
 * vocabulary of a training file (0 pads, 1 is unknown, then tokens by frequency), and data
 * sets of token ids held as floats: language-modelling windows of plain text, or one
 * fixed-length example per labelled line. Errors are one line naming the file (and the
 * line). Where the vocabulary comes from is cli.c's choice; ckpt.c stores it as JSON. */
#define _GNU_SOURCE   /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rt_internal.h"

/* ---- tokens ---- */

/* The character at p as UTF-8 into out[4]: *used bytes consumed, returns its length in
 * out; a byte that starts no valid sequence is the Latin-1 character of that value. */
static int next_char(const unsigned char *p, const unsigned char *end, unsigned char *out,
                     int *used, unsigned *cp)
{
    unsigned c = p[0];
    int n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
          : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n > 1 && end - p >= n) {
        unsigned v = c & (0xFF >> (n + 1));
        for (int i = 1; i < n && v != ~0u; i++)
            v = (p[i] & 0xC0) == 0x80 ? v << 6 | (p[i] & 0x3F) : ~0u;
        /* overlong forms, surrogates and code points past U+10FFFF are not UTF-8 */
        int ok = v != ~0u && !(n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) &&
                 !(n == 4 && (v < 0x10000 || v > 0x10FFFF));
        if (ok) {
            memcpy(out, p, (size_t)n);
            *used = n;
            *cp = v;
            return n;
        }
    }
    *used = 1;
    *cp = c;
    if (c < 0x80) {
        out[0] = (unsigned char)c;
        return 1;
    }
    out[0] = (unsigned char)(0xC0 | c >> 6);
    out[1] = (unsigned char)(0x80 | (c & 0x3F));
    return 2;
}

/* Word characters: ASCII letters and digits, and letters beyond Latin-1's punctuation
 * and symbols (U+00C0 on), except the general punctuation block (dashes, quotes). */
static int word_char(unsigned cp)
{
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    return cp >= 0xC0 && !(cp >= 0x2000 && cp <= 0x206F) && cp != 0xFEFF;
}

int64_t rt_tokenize(int tokens, const char *text, size_t len,
                    void (*fn)(const char *tok, size_t n, void *arg), void *arg)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    unsigned char ch[4];
    char word[RT_TOK_MAXLEN + 4];
    size_t wlen = 0;
    int64_t count = 0;
    int apos = 0;                    /* an apostrophe waits for a word character */
    while (p < end) {
        int used;
        unsigned cp;
        int n = next_char(p, end, ch, &used, &cp);
        p += used;
        if (tokens == NNL_TOK_CHAR) {
            fn((const char *)ch, (size_t)n, arg);
            count++;
            continue;
        }
        if (word_char(cp)) {
            if (apos && wlen + 1 <= RT_TOK_MAXLEN) word[wlen++] = '\'';
            apos = 0;
            if (cp >= 'A' && cp <= 'Z') ch[0] = (unsigned char)(cp - 'A' + 'a');
            if (wlen + (size_t)n <= RT_TOK_MAXLEN) {
                memcpy(word + wlen, ch, (size_t)n);
                wlen += (size_t)n;
            }
            continue;
        }
        if (cp == '\'' && wlen && !apos) {
            apos = 1;
            continue;
        }
        apos = 0;
        if (wlen) {
            fn(word, wlen, arg);
            count++;
            wlen = 0;
        }
    }
    if (wlen) {
        fn(word, wlen, arg);
        count++;
    }
    return count;
}

/* ---- a table of tokens: the vocabulary, and the counts it is built from ---- */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Growable: the pool, the offsets and the slots double when full. */
typedef struct TokTable {
    RtVocab v;
    int64_t pool_len, pool_cap, off_cap;
    int64_t *count;          /* (off_cap) while counting, else NULL */
    int oom;
} TokTable;

static int64_t *find_slot(const RtVocab *v, const char *tok, size_t n)
{
    uint64_t mask = (uint64_t)v->cap - 1, i = fnv1a(tok, n) & mask;
    for (;; i = (i + 1) & mask) {
        int64_t id = v->slot[i] - 1;
        if (id < 0) return &v->slot[i];
        const char *t = rt_vocab_token(v, id);
        if ((size_t)(v->off[id + 1] - v->off[id] - 1) == n && !memcmp(t, tok, n)) return &v->slot[i];
    }
}

int64_t rt_vocab_find(const RtVocab *v, const char *tok, size_t n)
{
    if (v->n == 0 || v->cap == 0) return -1;
    return *find_slot(v, tok, n) - 1;
}

static int table_grow(TokTable *t, size_t n)
{
    RtVocab *v = &t->v;
    if (t->pool_len + (int64_t)n + 1 > t->pool_cap) {
        int64_t cap = t->pool_cap ? t->pool_cap : 4096;
        while (cap < t->pool_len + (int64_t)n + 1) cap *= 2;
        char *p = rt_alloc((size_t)cap);
        if (!p) return -1;
        if (t->pool_len) memcpy(p, v->pool, (size_t)t->pool_len);
        rt_free(v->pool);
        v->pool = p;
        t->pool_cap = cap;
    }
    if (v->n + 2 > t->off_cap) {
        int64_t cap = t->off_cap ? t->off_cap * 2 : 256;
        int64_t *o = rt_alloc(sizeof *o * (size_t)cap), *c = t->count ? rt_calloc((size_t)cap, sizeof *c) : NULL;
        if (!o || (t->count && !c)) {
            rt_free(o);
            rt_free(c);
            return -1;
        }
        if (v->off) memcpy(o, v->off, sizeof *o * (size_t)(v->n + 1));
        rt_free(v->off);
        v->off = o;
        if (c) {
            if (v->n) memcpy(c, t->count, sizeof *c * (size_t)v->n);
            rt_free(t->count);
            t->count = c;
        }
        t->off_cap = cap;
    }
    if (2 * (v->n + 1) > v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 512;
        int64_t *s = rt_calloc((size_t)cap, sizeof *s);
        if (!s) return -1;
        rt_free(v->slot);
        v->slot = s;
        v->cap = cap;
        for (int64_t id = 0; id < v->n; id++) {
            const char *tok = rt_vocab_token(v, id);
            *find_slot(v, tok, (size_t)(v->off[id + 1] - v->off[id] - 1)) = id + 1;
        }
    }
    return 0;
}

/* The id of tok, added when new (counting it when the table counts). -1: out of memory. */
static int64_t table_add(TokTable *t, const char *tok, size_t n)
{
    RtVocab *v = &t->v;
    int64_t id = v->cap ? *find_slot(v, tok, n) - 1 : -1;
    if (id < 0) {
        if (table_grow(t, n) < 0) {
            t->oom = 1;
            return -1;
        }
        if (v->n == 0) v->off[0] = 0;
        memcpy(v->pool + t->pool_len, tok, n);
        v->pool[t->pool_len + (int64_t)n] = 0;
        t->pool_len += (int64_t)n + 1;
        id = v->n++;
        v->off[v->n] = t->pool_len;
        *find_slot(v, tok, n) = id + 1;
    }
    if (t->count) t->count[id]++;
    return id;
}

void rt_vocab_free(RtVocab *v)
{
    rt_free(v->off);
    rt_free(v->pool);
    rt_free(v->slot);
    memset(v, 0, sizeof *v);
}

/* A vocabulary that starts with "<pad>" and "<unk>". */
static int vocab_start(TokTable *t, int tokens)
{
    memset(t, 0, sizeof *t);
    t->v.tokens = tokens;
    return table_add(t, "<pad>", 5) < 0 || table_add(t, "<unk>", 5) < 0 ? -1 : 0;
}

/* ---- the text of a file: all of it, or the text parts of labelled lines ---- */

/* The next line of [*cur, end) without its \n (and \r): [*line, *line_end). 0 at the end. */
static int next_line(const char **cur, const char *end, const char **line, const char **line_end)
{
    if (*cur >= end) return 0;
    const char *nl = memchr(*cur, '\n', (size_t)(end - *cur)), *e = nl ? nl : end;
    *line = *cur;
    *cur = nl ? nl + 1 : end;
    if (e > *line && e[-1] == '\r') e--;
    *line_end = e;
    return 1;
}

static int blank(const char *s, const char *e)
{
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t') return 0;
    return 1;
}

static void count_token(const char *tok, size_t n, void *arg) { table_add(arg, tok, n); }

/* Orders ids by count (most first), then by the token's bytes (qsort_r with the table). */
static int by_count(const void *a, const void *b, void *table)
{
    const TokTable *t = table;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if (t->count[x] != t->count[y]) return t->count[x] > t->count[y] ? -1 : 1;
    return strcmp(rt_vocab_token(&t->v, x), rt_vocab_token(&t->v, y));
}

/* Counts the tokens of text (the text parts of its lines when labelled); then keeps the
 * most frequent ones that fit in cap ids beside padding and unknown. */
static int build_from_text(const NnlDataSpec *spec, const char *file, const char *text, int64_t len,
                           RtVocab *out, char *err, size_t errlen)
{
    TokTable counts = {0}, voc = {0};
    int64_t *order = NULL;
    int rc = -1;
    counts.v.tokens = spec->tokens;
    counts.count = rt_calloc(1, sizeof *counts.count);   /* non-NULL: count; table_grow sizes it */
    if (!counts.count || vocab_start(&voc, spec->tokens) < 0) goto oom;
    if (spec->labelled) {
        const char *cur = text, *end = text + len, *l, *le;
        while (next_line(&cur, end, &l, &le)) {
            const char *tab = memchr(l, '\t', (size_t)(le - l));
            if (tab) rt_tokenize(spec->tokens, tab + 1, (size_t)(le - tab - 1), count_token, &counts);
        }
    } else {
        rt_tokenize(spec->tokens, text, (size_t)len, count_token, &counts);
    }
    if (counts.oom) goto oom;
    int64_t n = counts.v.n, room = spec->vocab - 2;
    if (spec->tokens == NNL_TOK_CHAR && n > room) {
        snprintf(err, errlen, "%s: %lld different characters need %lld token ids with padding and "
                 "unknown, but vocab: is %lld; raise it to at least %lld", file, (long long)n,
                 (long long)n + 2, (long long)spec->vocab, (long long)n + 2);
        goto out;
    }
    if (!(order = rt_alloc(sizeof *order * (size_t)(n + 1)))) goto oom;
    for (int64_t i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, by_count, &counts);
    for (int64_t i = 0; i < n && i < room; i++) {
        int64_t id = order[i];
        if (table_add(&voc, rt_vocab_token(&counts.v, id), (size_t)(counts.v.off[id + 1] - counts.v.off[id] - 1)) < 0)
            goto oom;
    }
    *out = voc.v;
    voc.v = (RtVocab){0};
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory for the vocabulary", file);
out:
    rt_free(order);
    rt_free(counts.count);
    rt_vocab_free(&counts.v);
    rt_vocab_free(&voc.v);
    return rc;
}

static int check_spec(const NnlDataSpec *spec, const char *file, char *err, size_t errlen)
{
    if (spec->vocab < 3) {
        snprintf(err, errlen, "%s: vocab: %lld leaves no id for a token beside padding and unknown",
                 file, (long long)spec->vocab);
        return -1;
    }
    return 0;
}

int rt_vocab_build(const NnlDataSpec *spec, const char *data_dir, RtVocab *v, char *err,
                   size_t errlen)
{
    char file[4096];
    rt_data_path(spec->path, data_dir, spec->base_dir, file, sizeof file);
    memset(v, 0, sizeof *v);
    if (check_spec(spec, file, err, errlen) < 0) return -1;
    int64_t len = 0;
    char *text = rt_slurp(file, &len, err, errlen);
    if (!text) return -1;
    int rc = build_from_text(spec, file, text, len, v, err, errlen);
    rt_free(text);
    return rc;
}

/* ---- JSON: how checkpoints carry a vocabulary ---- */

char *rt_vocab_to_json(const RtVocab *v)
{
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < v->n; i++) {
        cJSON *s = cJSON_CreateString(rt_vocab_token(v, i));
        if (!s) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, s);
    }
    char *text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

int rt_vocab_from_json(const char *json, int tokens, RtVocab *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    cJSON *a = cJSON_Parse(json);
    int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1, rc = -1;
    TokTable t;
    if (n < 2) {
        snprintf(err, errlen, "the vocabulary is not a JSON array of at least 2 tokens");
        cJSON_Delete(a);
        return -1;
    }
    memset(&t, 0, sizeof t);
    t.v.tokens = tokens;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e)) {
            snprintf(err, errlen, "vocabulary entry %d is not a string", i);
            goto out;
        }
        size_t len = strlen(e->valuestring);
        if (t.v.cap && rt_vocab_find(&t.v, e->valuestring, len) >= 0) {
            snprintf(err, errlen, "vocabulary entry %d ('%.40s') is there twice", i, e->valuestring);
            goto out;
        }
        if (table_add(&t, e->valuestring, len) < 0) {
            snprintf(err, errlen, "out of memory for the vocabulary");
            goto out;
        }
    }
    *v = t.v;
    t.v = (RtVocab){0};
    rc = 0;
out:
    rt_vocab_free(&t.v);
    cJSON_Delete(a);
    return rc;
}

/* ---- data sets ---- */

/* Token ids appended to a growable array; unknown tokens become RT_TOK_UNK. */
typedef struct IdBuf {
    const RtVocab *v;
    float *ids;
    int64_t n, cap;
    int oom;
} IdBuf;

static void add_id(const char *tok, size_t n, void *arg)
{
    IdBuf *b = arg;
    if (b->n == b->cap) {
        int64_t cap = b->cap ? b->cap * 2 : 1024;
        float *p = b->oom ? NULL : rt_alloc(sizeof *p * (size_t)cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        if (b->n) memcpy(p, b->ids, sizeof *p * (size_t)b->n);
        rt_free(b->ids);
        b->ids = p;
        b->cap = cap;
    }
    int64_t id = rt_vocab_find(b->v, tok, n);
    b->ids[b->n++] = (float)(id < 0 ? RT_TOK_UNK : id);
}

/* Plain text: sample i is the window of tokens [i stride, i stride + window), its label the
 * window one token further on. */
static int load_windows(const NnlDataSpec *spec, const char *file, const char *text, int64_t len,
                        const RtDataNeeds *need, RtDataset *ds, char *err, size_t errlen)
{
    int64_t w = spec->window, st = spec->stride > 0 ? spec->stride : w;
    if (need->in_size != w || need->label_size != w) {
        snprintf(err, errlen, "%s: text windows of %lld tokens, but the model's input has %lld values "
                 "and its label %lld", file, (long long)w, (long long)need->in_size,
                 (long long)need->label_size);
        return -1;
    }
    IdBuf b = {.v = need->vocab};
    rt_tokenize(spec->tokens, text, (size_t)len, add_id, &b);
    int rc = -1;
    if (b.oom) {
        snprintf(err, errlen, "%s: out of memory for %lld tokens", file, (long long)b.n);
    } else if (b.n < w + 1) {
        snprintf(err, errlen, "%s: %lld tokens, too few for one window of %lld and the token after it",
                 file, (long long)b.n, (long long)w);
    } else if (rt_data_alloc(ds, (b.n - 1 - w) / st + 1, w, w, file, err, errlen) == 0) {
        for (int64_t i = 0; i < ds->n; i++) {
            memcpy(ds->x + i * w, b.ids + i * st, sizeof(float) * (size_t)w);
            memcpy(ds->y + i * w, b.ids + i * st + 1, sizeof(float) * (size_t)w);
        }
        rc = 0;
    }
    rt_free(b.ids);
    return rc;
}

/* The class of a label: its index in spec->labels ("ham,spam"), or the integer it is. */
static int parse_label(const NnlDataSpec *spec, const char *s, const char *e, const char *file,
                       int64_t lineno, float *out, char *err, size_t errlen)
{
    while (s < e && *s == ' ') s++;
    while (e > s && e[-1] == ' ') e--;
    if (spec->labels) {
        int64_t k = 0;
        for (const char *p = spec->labels;; k++) {
            const char *c = strchr(p, ','), *q = c ? c : p + strlen(p);
            if (q - p == e - s && !memcmp(p, s, (size_t)(e - s))) {
                *out = (float)k;
                return 0;
            }
            if (!c) break;
            p = c + 1;
        }
        snprintf(err, errlen, "%s:%lld: label '%.*s' is not one of %s", file, (long long)lineno,
                 (int)(e - s > 40 ? 40 : e - s), s, spec->labels);
        return -1;
    }
    char buf[32], *end;
    snprintf(buf, sizeof buf, "%.*s", (int)(e - s > 30 ? 30 : e - s), s);
    long long v = strtoll(buf, &end, 10);
    if (s == e || *end || e - s > 30 || v < 0 || v > 1000000) {
        snprintf(err, errlen, "%s:%lld: label '%.*s' is not a class index (a whole number >= 0)",
                 file, (long long)lineno, (int)(e - s > 40 ? 40 : e - s), s);
        return -1;
    }
    *out = (float)v;
    return 0;
}

/* Labelled text: each non-blank line `label<TAB>text` is a sample of `length` ids, cut
 * after `length` tokens and padded on the left. */
static int load_labelled(const NnlDataSpec *spec, const char *file, const char *text, int64_t len,
                         const RtDataNeeds *need, RtDataset *ds, char *err, size_t errlen)
{
    int64_t L = spec->length, rows = 0, lineno = 0;
    if (need->in_size != L || need->label_size != 1) {
        snprintf(err, errlen, "%s: labelled examples of %lld tokens and one label, but the model's "
                 "input has %lld values and its label %lld", file, (long long)L,
                 (long long)need->in_size, (long long)need->label_size);
        return -1;
    }
    const char *cur = text, *end = text + len, *l, *le;
    while (next_line(&cur, end, &l, &le)) {
        lineno++;
        if (blank(l, le)) continue;
        if (!memchr(l, '\t', (size_t)(le - l))) {
            snprintf(err, errlen, "%s:%lld: no tab; a labelled line is `label<TAB>text`", file,
                     (long long)lineno);
            return -1;
        }
        rows++;
    }
    if (rows == 0) {
        snprintf(err, errlen, "%s: no examples; a labelled text file has lines `label<TAB>text`", file);
        return -1;
    }
    if (rt_data_alloc(ds, rows, L, 1, file, err, errlen) < 0) return -1;
    IdBuf b = {.v = need->vocab};
    int64_t r = 0;
    cur = text;
    lineno = 0;
    while (next_line(&cur, end, &l, &le)) {
        lineno++;
        if (blank(l, le)) continue;
        const char *tab = memchr(l, '\t', (size_t)(le - l));
        if (parse_label(spec, l, tab, file, lineno, &ds->y[r], err, errlen) < 0) goto fail;
        b.n = 0;
        rt_tokenize(spec->tokens, tab + 1, (size_t)(le - tab - 1), add_id, &b);
        if (b.oom) {
            snprintf(err, errlen, "%s:%lld: out of memory", file, (long long)lineno);
            goto fail;
        }
        int64_t k = b.n < L ? b.n : L;
        float *x = ds->x + r * L;
        for (int64_t i = 0; i < L - k; i++) x[i] = RT_TOK_PAD;
        if (k) memcpy(x + L - k, b.ids, sizeof(float) * (size_t)k);   /* ids is NULL when the text is empty */
        r++;
    }
    rt_free(b.ids);
    if (rt_check_labels(ds, need, file, err, errlen) < 0) {
        rt_data_free(ds);
        return -1;
    }
    return 0;
fail:
    rt_free(b.ids);
    rt_data_free(ds);
    return -1;
}

int rt_load_text(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                 RtDataset *ds, char *err, size_t errlen)
{
    char file[4096];
    rt_data_path(spec->path, data_dir, spec->base_dir, file, sizeof file);
    if (check_spec(spec, file, err, errlen) < 0) return -1;
    if (!need->vocab || need->vocab->n < 2) {
        snprintf(err, errlen, "%s: no vocabulary to read text with", file);
        return -1;
    }
    if (need->vocab->n > spec->vocab) {
        snprintf(err, errlen, "%s: the vocabulary has %lld tokens, more than vocab: %lld", file,
                 (long long)need->vocab->n, (long long)spec->vocab);
        return -1;
    }
    if (need->vocab->tokens != spec->tokens) {
        snprintf(err, errlen, "%s: the vocabulary is of %s, the data set's tokens are %s", file,
                 need->vocab->tokens == NNL_TOK_WORD ? "words" : "characters",
                 spec->tokens == NNL_TOK_WORD ? "words" : "characters");
        return -1;
    }
    int64_t len = 0;
    char *text = rt_slurp(file, &len, err, errlen);
    if (!text) return -1;
    int rc;
    if (len == 0) {
        snprintf(err, errlen, "%s: empty file; a text data set needs text", file);
        rc = -1;
    } else {
        rc = spec->labelled ? load_labelled(spec, file, text, len, need, ds, err, errlen)
                            : load_windows(spec, file, text, len, need, ds, err, errlen);
    }
    rt_free(text);
    return rc;
}

int rt_text_rows(const NnlDataSpec *spec, const RtVocab *v, const char *file, float **x, int64_t *n,
                 char *err, size_t errlen)
{
    int64_t w = spec->labelled ? spec->length : spec->window, len = 0, rows = 0, r = 0;
    char *text = rt_slurp(file, &len, err, errlen);
    if (!text) return -1;
    const char *cur = text, *end = text + len, *l, *le;
    while (next_line(&cur, end, &l, &le)) rows += !blank(l, le);
    float *out = rows ? rt_alloc(sizeof *out * (size_t)(rows * w)) : NULL;
    IdBuf b = {.v = v};
    int rc = -1;
    if (!rows) {
        snprintf(err, errlen, "%s: no text; predict reads one text a line", file);
        goto out;
    }
    if (!out) {
        snprintf(err, errlen, "%s: out of memory for %lld texts", file, (long long)rows);
        goto out;
    }
    for (cur = text; next_line(&cur, end, &l, &le);) {
        if (blank(l, le)) continue;
        const char *tab = memchr(l, '\t', (size_t)(le - l)), *t = tab ? tab + 1 : l;
        b.n = 0;
        rt_tokenize(v->tokens, t, (size_t)(le - t), add_id, &b);
        if (b.oom) {
            snprintf(err, errlen, "%s: out of memory", file);
            goto out;
        }
        /* as the data set reads it: a labelled text's first tokens, a window's last */
        int64_t k = b.n < w ? b.n : w, from = spec->labelled ? 0 : b.n - k;
        float *row = out + r++ * w;
        for (int64_t i = 0; i < w - k; i++) row[i] = RT_TOK_PAD;
        memcpy(row + w - k, b.ids + from, sizeof(float) * (size_t)k);
    }
    *x = out;
    *n = rows;
    out = NULL;
    rc = 0;
out:
    rt_free(out);
    rt_free(b.ids);
    rt_free(text);
    return rc;
}
