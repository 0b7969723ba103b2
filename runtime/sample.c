/* sample.c — what `./model sample` needs beside the model: a prompt turned into token ids
 * (every token must be in the vocabulary), and the next token drawn from one position's
 * outputs (scores, or probabilities when they already are) at a temperature. In: a
 * vocabulary, a row of outputs, a generator. Out: ids. Running the model and printing
 * are cli.c's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

typedef struct Prompt {
    const RtVocab *v;
    float *ids;
    int64_t n, cap;
    char bad[RT_TOK_MAXLEN + 1];      /* the first token not in the vocabulary */
    int oom;
} Prompt;

static void add_prompt_token(const char *tok, size_t n, void *arg)
{
    Prompt *p = arg;
    int64_t id = rt_vocab_find(p->v, tok, n);
    if (id < 0 && !p->bad[0]) snprintf(p->bad, sizeof p->bad, "%.*s", (int)n, tok);
    if (p->n == p->cap) {
        int64_t cap = p->cap ? 2 * p->cap : 256;
        float *ids = p->oom ? NULL : rt_alloc(sizeof *ids * (size_t)cap);
        if (!ids) {
            p->oom = 1;
            return;
        }
        if (p->n) memcpy(ids, p->ids, sizeof *ids * (size_t)p->n);
        rt_free(p->ids);
        p->ids = ids;
        p->cap = cap;
    }
    p->ids[p->n++] = (float)id;
}

int rt_encode_prompt(const RtVocab *v, const char *text, int64_t extra, float **ids, int64_t *n,
                     char *err, size_t errlen)
{
    Prompt p = {.v = v};
    rt_tokenize(v->tokens, text, strlen(text), add_prompt_token, &p);
    /* room for the tokens to come: one array for the whole text */
    float *all = p.oom ? NULL : rt_alloc(sizeof *all * (size_t)(p.n + extra + 1));
    if (!all) {
        rt_free(p.ids);
        snprintf(err, errlen, "out of memory for a prompt of %lld tokens", (long long)p.n);
        return -1;
    }
    if (p.bad[0]) {
        unsigned char c = (unsigned char)p.bad[0];
        if (v->tokens == NNL_TOK_CHAR && c < 0x20)
            snprintf(err, errlen, "the prompt's character U+%04X is not in the vocabulary", c);
        else
            snprintf(err, errlen, "the prompt's %s '%s' is not in the vocabulary",
                     v->tokens == NNL_TOK_CHAR ? "character" : "word", p.bad);
        rt_free(p.ids);
        rt_free(all);
        return -1;
    }
    if (p.n) memcpy(all, p.ids, sizeof *all * (size_t)p.n);
    rt_free(p.ids);
    *ids = all;
    *n = p.n;
    return 0;
}

int64_t rt_sample_token(const float *row, int64_t width, int64_t lo, int64_t hi, double temperature,
                        RtRng *rng)
{
    /* probabilities already (softmax in the model)? then their logs are the scores */
    double sum = 0;
    int probs = 1;
    for (int64_t j = 0; j < width; j++) {
        probs = probs && row[j] >= 0;
        sum += row[j];
    }
    probs = probs && fabs(sum - 1) < 1e-3;
    double best = -INFINITY;
    int64_t arg = lo;
    for (int64_t j = lo; j < hi; j++) {
        double s = probs ? log(row[j] > 1e-30f ? row[j] : 1e-30) : row[j];
        if (s > best) best = s, arg = j;
    }
    if (temperature <= 0 || !isfinite(best)) return arg;
    /* softmax(s / T) over [lo, hi), then the first id whose running sum passes u */
    double total = 0;
    for (int64_t j = lo; j < hi; j++) {
        double s = probs ? log(row[j] > 1e-30f ? row[j] : 1e-30) : row[j];
        total += exp((s - best) / temperature);
    }
    double u = rt_rng_uniform_double(rng) * total, run = 0;
    for (int64_t j = lo; j < hi; j++) {
        double s = probs ? log(row[j] > 1e-30f ? row[j] : 1e-30) : row[j];
        run += exp((s - best) / temperature);
        if (u < run) return j;
    }
    return arg;
}
