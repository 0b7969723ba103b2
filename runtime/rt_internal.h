/* rt_internal.h — the runtime's one internal header, shared by the runtime .c files and the
 * runtime tests (never by generated code, which sees only nnlrt.h). Sections follow the
 * files that implement them, from the kernels up to the CLI. Every function returns a
 * status and fills an error buffer; nothing here exits. */
#ifndef NNL_RT_INTERNAL_H
#define NNL_RT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nnlrt.h"

#if defined(__AVX2__)
#include <immintrin.h>
/* The first n of 8 lanes as an AVX2 mask (maskload, maskstore), n clipped to [0, 8]. */
static inline __m256i rt_lanes8(int64_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n > 8 ? 8 : n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif
#if defined(__AVX512F__)
/* The first n of 16 lanes, n clipped to [0, 16]: a row's last, partial vector. */
static inline __mmask16 rt_lanes16(int64_t n)
{
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}
#endif

/* One vector of floats, for loops written once for AVX-512 (16 lanes, mask registers) and
 * AVX2 (8 lanes, masks as integer vectors; a masked store through a buffer, as
 * vmaskmovps stores are slow on AMD: ~10x a plain store on Zen 3). Masked lanes are
 * neither read nor written; loaded, they are 0. RT_VEC where there is one. */
#if defined(__AVX512F__)
#define RT_VEC 1
typedef __m512 Vf;
typedef __mmask16 Vm;
typedef __m512i Vi;
enum { VL = 16 };
static inline Vi vi_loadu(const int *p) { return _mm512_loadu_si512(p); }
static inline Vf vf_permute(Vi idx, Vf v) { return _mm512_permutexvar_ps(idx, v); }   /* lane l: v[idx[l]] */
static inline Vm vm_lanes(int64_t n) { return rt_lanes16(n); }
static inline Vf vf_load(Vm m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
static inline Vf vf_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf_store(float *p, Vm m, Vf v) { _mm512_mask_storeu_ps(p, m, v); }
static inline void vf_storeu(float *p, Vf v) { _mm512_storeu_ps(p, v); }
static inline Vf vf_set1(float x) { return _mm512_set1_ps(x); }
static inline Vf vf_zero(void) { return _mm512_setzero_ps(); }
static inline Vf vf_add(Vf a, Vf b) { return _mm512_add_ps(a, b); }
static inline Vf vf_sub(Vf a, Vf b) { return _mm512_sub_ps(a, b); }
static inline Vf vf_mul(Vf a, Vf b) { return _mm512_mul_ps(a, b); }
static inline Vf vf_max(Vf a, Vf b) { return _mm512_max_ps(a, b); }   /* a > b ? a : b */
static inline Vf vf_fma(Vf a, Vf b, Vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline float vf_sum(Vf v) { return _mm512_reduce_add_ps(v); }
static inline float vf_hmax(Vf v) { return _mm512_reduce_max_ps(v); }
/* the lanes of m loaded, fill in the others; acc + v in the lanes of m */
static inline Vf vf_load_fill(Vm m, const float *p, float fill) { return _mm512_mask_loadu_ps(vf_set1(fill), m, p); }
static inline Vf vf_add_lanes(Vf acc, Vm m, Vf v) { return _mm512_mask_add_ps(acc, m, acc, v); }
/* r[i][j] -> r[j][i] for a 16 x 16 block in registers: 32-bit, 64-bit and two rounds of
 * 128-bit interleaves. */
static inline void vf_transpose(Vf r[VL])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
        t[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xdd);
        t[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
        t[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
        r[4 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0x88);
        r[12 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0xdd);
    }
}
#elif defined(__AVX2__) && defined(__FMA__)
#define RT_VEC 1
typedef __m256 Vf;
typedef __m256i Vm;
typedef __m256i Vi;
enum { VL = 8 };
static inline Vi vi_loadu(const int *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline Vf vf_permute(Vi idx, Vf v) { return _mm256_permutevar8x32_ps(v, idx); }
static inline Vm vm_lanes(int64_t n) { return rt_lanes8(n); }
static inline Vf vf_load(Vm m, const float *p) { return _mm256_maskload_ps(p, m); }
static inline Vf vf_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void vf_store(float *p, Vm m, Vf v)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    int n = _mm256_movemask_ps(_mm256_castsi256_ps(m));
    for (int j = 0; j < 8 && (n >> j & 1); j++) p[j] = t[j];
}
static inline void vf_storeu(float *p, Vf v) { _mm256_storeu_ps(p, v); }
static inline Vf vf_set1(float x) { return _mm256_set1_ps(x); }
static inline Vf vf_zero(void) { return _mm256_setzero_ps(); }
static inline Vf vf_add(Vf a, Vf b) { return _mm256_add_ps(a, b); }
static inline Vf vf_sub(Vf a, Vf b) { return _mm256_sub_ps(a, b); }
static inline Vf vf_mul(Vf a, Vf b) { return _mm256_mul_ps(a, b); }
static inline Vf vf_max(Vf a, Vf b) { return _mm256_max_ps(a, b); }
static inline Vf vf_fma(Vf a, Vf b, Vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline float vf_hmax(Vf v)   /* (of lanes that are not NaN) */
{
    float l[8], m;
    _mm256_storeu_ps(l, v);
    m = l[0];
    for (int i = 1; i < 8; i++) m = l[i] > m ? l[i] : m;
    return m;
}
static inline Vf vf_load_fill(Vm m, const float *p, float fill)
{
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
static inline Vf vf_add_lanes(Vf acc, Vm m, Vf v) { return _mm256_add_ps(acc, _mm256_and_ps(v, _mm256_castsi256_ps(m))); }
static inline float vf_sum(Vf v)   /* halves, then pairs, then the last two */
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}
/* r[i][j] -> r[j][i] for an 8 x 8 block in registers: 32-bit and 64-bit interleaves,
 * then the 128-bit halves exchanged */
static inline void vf_transpose(Vf r[VL])
{
    __m256 t[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        __m256d a = _mm256_castps_pd(t[4 * i]), b = _mm256_castps_pd(t[4 * i + 2]);
        __m256d c = _mm256_castps_pd(t[4 * i + 1]), d = _mm256_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(c, d));
    }
    for (int i = 0; i < 4; i++) {
        __m256 lo = r[i], hi = r[4 + i];
        r[i] = _mm256_permute2f128_ps(lo, hi, 0x20);
        r[4 + i] = _mm256_permute2f128_ps(lo, hi, 0x31);
    }
}
#endif

#define RT_ERRLEN 512

/* ===== gemm.c ===== */

/* nnl_sgemm_ep (C contiguous, an epilogue where ep is not NULL) whose A is read through
 * a row map: A's row r (as stored: op(A)'s row r, or where trans_a its column r, a row
 * of k) is a + arow[r] lda, so a lookup's rows are packed straight from the table
 * (runtime/embedding.c), not gathered into a copy first. The same sums as nnl_sgemm on
 * the gathered copy. */
void nnl_sgemm_rows(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const int32_t *arow, const float *b, int64_t ldb,
                    float beta, float *c, NnlKernelFn ep, const NnlCtx *ep_ctx);

/* ===== parallel.c: the thread count every parallel region uses ===== */

/* 0 means OpenMP's default. Set by the instance wrappers and the CLI before they call
 * generated code; read by nnl_parallel_for, nnl_sgemm and the kernels. */
void rt_set_threads(int threads);
int rt_threads(void);              /* the effective count: >= 1 */
/* The threads a region of `work` (in the caller's units) pays for, `pair` of which are
 * worth a region of two threads: 1 below that or inside a parallel region, else one
 * thread per pair / 2 of work, at most rt_threads() and `units`. */
int rt_threads_for(double work, double pair, int64_t units);
/* Thread t's share of [0, n) split into `parts` contiguous chunks (sizes differ by <= 1). */
void rt_chunk(int64_t n, int parts, int t, int64_t *lo, int64_t *hi);
/* Every region runs the whole team, num_threads(rt_threads()): libgomp ends the surplus
 * threads when a team is smaller than the one before and starts new ones for a larger
 * (tests/e2e/bench.sh: a step at 5 threads allocates nothing). Inside one, this
 * thread's share of [0, n) split between the first nt threads (or the whole team, if
 * OpenMP gave fewer): empty for the rest. */
void rt_share(int64_t n, int nt, int64_t *lo, int64_t *hi);
double rt_now(void);               /* monotonic seconds */
/* A buffer of at least `floats` floats kept in *s (a __thread variable of the caller's)
 * for the whole run and grown when too small: a buffer freed every call costs page faults
 * every call. Freed when the thread ends. NULL when out of memory. */
typedef struct RtScratch { float *p; size_t cap; } RtScratch;
float *rt_scratch(RtScratch *s, size_t floats);

/* ===== isa.c: the instruction-set level the arithmetic (isa_list.h) runs at ===== */

const char *rt_isa_name(void);     /* "x86-64-v4" (AVX-512), "x86-64-v3" (AVX2), "x86-64" */

/* ===== kernels.c: e^x the way generated code computes it ===== */

/* compiler/codegen.c's fast_exp in C: x = n ln2 + r, |r| <= ln2 / 2, Cephes' polynomial
 * for e^r, times 2^n as two powers of two (each a normal float, so that results down to
 * the subnormals come out right). No branches and no libm call, so loops over it
 * vectorize. Within 2 ulp of expf; +inf above 88.72, NaN stays NaN. */
static inline float rt_expf(float x)
{
    const float hi = 88.72283935546875f, lo = -104.0f, magic = 12582912.0f;   /* 1.5 * 2^23 */
    float xc = x < hi ? x : hi;   /* NaN -> hi: no conversion of NaN to int below */
    xc = xc > lo ? xc : lo;
    float n = (xc * 1.44269504088896341f + magic) - magic;   /* round to nearest */
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t n1 = (int32_t)n >> 1, n2 = (int32_t)n - n1;
    union { uint32_t i; float f; } s1 = {.i = (uint32_t)(n1 + 127) << 23}, s2 = {.i = (uint32_t)(n2 + 127) << 23};
    float y = p * s1.f * s2.f;
    y = x > hi ? __builtin_inff() : y;
    return x != x ? x : y;
}

/* ===== pool.c: pieces of max pooling's adjoint for conv.c ===== */

/* nnl_maxpool2d_dx on `planes` consecutive planes, serially (dx overwritten). */
void rt_maxpool2d_dx_planes(const NnlPool *pl, int64_t planes, const float *x, const float *dy, float *dx);
/* A 2x2 window's maximum, its cells a, b (top row), c, d taken in nnl_maxpool2d's order,
 * and its code: the cell 0..3 that nnl_maxpool2d_dx gives the gradient, the first equal
 * to the maximum, the first cell when none is (a NaN first cell). */
static inline float rt_win_max_code(float a, float b, float c, float d, uint8_t *code)
{
    float m = a;
    m = b > m ? b : m;
    m = c > m ? c : m;
    m = d > m ? d : m;
    *code = (uint8_t)(a == m ? 0 : b == m ? 1 : c == m ? 2 : d == m ? 3 : 0);
    return m;
}
/* 2x2 stride-2 pooling of `planes` planes of x into y with each window's code (the cell
 * 0..3 nnl_maxpool2d_dx gives the gradient), one byte a window, serially. */
void rt_maxpool2d_codes_planes(const NnlPool *pl, int64_t planes, const float *x, float *y, uint8_t *codes);
/* rt_maxpool2d_dx_planes of a 2x2 stride-2 pooling from its window codes */
void rt_maxpool2d_dx_codes_planes(const NnlPool *pl, int64_t planes, const uint8_t *codes, const float *dy,
                                  float *dx);
/* The plane index of the first maximum of window (i, j) of plane x, -1 for an empty one
 * (nnl_maxpool2d_dx's choice, one window at a time). */
int64_t rt_maxpool2d_argmax(const NnlPool *pl, const float *x, int64_t i, int64_t j);

/* ===== rng.c: xoshiro256** seeded by splitmix64 ===== */

typedef struct RtRng { uint64_t s[4]; } RtRng;
void rt_rng_seed(RtRng *r, uint64_t seed);
uint64_t rt_rng_next(RtRng *r);
float rt_rng_uniform(RtRng *r);                  /* [0, 1), 24 random bits */
double rt_rng_uniform_double(RtRng *r);          /* [0, 1), 53 random bits */
float rt_rng_normal(RtRng *r);                   /* N(0, 1) by Box-Muller */
uint64_t rt_rng_below(RtRng *r, uint64_t n);     /* uniform in [0, n), unbiased */
uint64_t rt_mix_seed(uint64_t seed, uint64_t stream);   /* an independent seed per stream */

/* ===== instance.c: allocation and instances ===== */

/* Every runtime allocation: 64-byte aligned. Returns NULL on failure. */
void *rt_alloc(size_t bytes);
void *rt_calloc(size_t count, size_t size);      /* zeroed; NULL on overflow too */
void *rt_alloc_huge(size_t bytes);               /* not zeroed; on 2 MB pages from 1 MB */
void rt_free(void *p);
/* Test hook: the n-th allocation from now fails (1 = the next one); 0 turns it off. */
void rt_alloc_fail_after(int64_t n);
int64_t rt_alloc_count(void);   /* rt_alloc calls so far: `bench` checks steps make none */

struct NnlModel {
    const NnlModelDesc *d;
    float *arena;            /* fixed_floats + per_sample_floats * max_batch */
    int64_t arena_floats;
    NnlCtx ctx;
    int threads;
    /* packed copies of the parameters (nnl_sgemm_kept) hold from one run to the next
     * while nothing may have written them: settled after a forward or loss run, not
     * after a training run or any write below (rt_params_written); never once the
     * caller was handed them to write (nnl_param_data) */
    int params_settled, params_exposed;
    char err[RT_ERRLEN];
};
static inline void rt_params_written(NnlModel *m) { m->params_settled = 0; }
float *rt_input(NnlModel *m);    /* (max_batch, in_size) */
float *rt_label(NnlModel *m);    /* (max_batch, label_size) */
float *rt_output(NnlModel *m);   /* (max_batch, out_size) */
/* Runs one entry point on rows already in the arena; train_step counts the step. */
enum { RT_FORWARD, RT_LOSS, RT_GRAD, RT_TRAIN };
int rt_run(NnlModel *m, int which, int64_t batch);
/* Sets m's last error and returns status (a negative NnlStatus). */
int rt_fail(NnlModel *m, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ===== data.c, data_idx.c, data_csv.c, data_blobs.c, data_npy.c: datasets ===== */

typedef struct RtDataset {
    int64_t n;
    int64_t in_size, label_size;
    float *x;    /* (n, in_size) */
    float *y;    /* (n, label_size) */
} RtDataset;

typedef struct RtVocab RtVocab;

/* What the model expects of a data set: shapes and how labels are checked. */
typedef struct RtDataNeeds {
    int in_rank;
    const int64_t *in_shape;
    int64_t in_size, label_size;
    int task;                /* NnlTask */
    int64_t classes;         /* MULTICLASS: labels must lie in [0, classes) */
    const RtVocab *vocab;    /* TEXT data: the token ids (the CLI builds or loads it) */
} RtDataNeeds;

/* data.c: dispatch on spec->kind, then the spec's subset [from n, to n); helpers.
 * data_dir: --data DIR or NULL. 0 or -1 + err. */
int rt_data_load(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                 RtDataset *ds, char *err, size_t errlen);
void rt_data_free(RtDataset *ds);
RtDataNeeds rt_data_needs(const NnlModelDesc *d);
/* The path a spec names, resolved against data_dir or spec->base_dir. */
void rt_data_path(const char *path, const char *data_dir, const char *base_dir,
                  char *out, size_t outlen);
/* The whole file (gunzipped when it is gzip), NUL-terminated, its length in *len; NULL
 * and err naming the file when it cannot be read. rt_free it. */
char *rt_slurp(const char *file, int64_t *len, char *err, size_t errlen);
int rt_data_alloc(RtDataset *ds, int64_t n, int64_t in_size, int64_t label_size,
                  const char *what, char *err, size_t errlen);
int rt_check_labels(const RtDataset *ds, const RtDataNeeds *need, const char *file,
                    char *err, size_t errlen);
int rt_load_idx(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                RtDataset *ds, char *err, size_t errlen);
int rt_load_csv(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                RtDataset *ds, char *err, size_t errlen);
int rt_load_blobs(const NnlDataSpec *spec, const RtDataNeeds *need, RtDataset *ds,
                  char *err, size_t errlen);
int rt_load_npy(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                RtDataset *ds, char *err, size_t errlen);
int rt_load_text(const NnlDataSpec *spec, const char *data_dir, const RtDataNeeds *need,
                 RtDataset *ds, char *err, size_t errlen);
/* The rows [lo, hi) of n that a spec's from and to select: floor(from n), floor(to n),
 * forgiving the float rounding of a decimal (0.29f n is 29 for n = 100); 0 and 0: all. */
void rt_subset_range(const NnlDataSpec *spec, int64_t n, int64_t *lo, int64_t *hi);

/* Per-feature standardization (spec->normalize): x = (x - mean) / std, with the mean and
 * the population standard deviation of the training set (std 0 becomes 1). */
typedef struct RtNorm {
    int64_t size;            /* features (in_size); 0: no normalization */
    float *mean, *std;       /* (size) each; one rt_alloc block starting at mean */
} RtNorm;
int rt_norm_fit(const RtDataset *ds, RtNorm *nm, char *err, size_t errlen);
void rt_norm_apply(const RtNorm *nm, float *x, int64_t rows);   /* x: (rows, size) */
void rt_norm_free(RtNorm *nm);

/* ===== data_text.c: tokens, vocabularies and text data sets ===== */

/* A vocabulary: id -> token and token -> id. Ids 0 and 1 are "<pad>" and "<unk>"; the
 * others are tokens of the training file, most frequent first (ties in byte order). */
struct RtVocab {
    int tokens;              /* NnlTokens */
    int64_t n;               /* ids in use: [0, n); 0 when there is no vocabulary */
    int64_t *off;            /* (n + 1): token i is pool[off[i], off[i + 1] - 1), NUL-ended */
    char *pool;
    int64_t *slot;           /* (cap) open addressing by FNV-1a: id + 1, 0 empty */
    int64_t cap;             /* a power of two >= 2 n */
};
enum { RT_TOK_PAD = 0, RT_TOK_UNK = 1, RT_TOK_MAXLEN = 63 };   /* longer words are cut */
static inline const char *rt_vocab_token(const RtVocab *v, int64_t id) { return v->pool + v->off[id]; }
/* Splits text[0, len) into tokens and calls fn(token, bytes, arg) for each in order.
 * CHAR: every Unicode character (UTF-8; a byte that starts no valid sequence is read as
 * Latin-1). WORD: runs of ASCII letters and digits, apostrophes between them, and
 * letters beyond U+00BF, lower-cased (ASCII), cut to RT_TOK_MAXLEN bytes; everything else
 * separates words. Tokens are always valid UTF-8. Returns the token count. */
int64_t rt_tokenize(int tokens, const char *text, size_t len,
                    void (*fn)(const char *tok, size_t n, void *arg), void *arg);
/* The vocabulary of the file a TEXT spec names (its text parts when labelled), capped
 * at spec->vocab ids: WORD keeps the most frequent words, CHAR fails when the file has
 * more characters than fit. 0 or -1 + err naming the file. */
int rt_vocab_build(const NnlDataSpec *spec, const char *data_dir, RtVocab *v, char *err,
                   size_t errlen);
int64_t rt_vocab_find(const RtVocab *v, const char *tok, size_t n);   /* -1 when absent */
/* The non-blank lines of file (the part after the first tab, when there is one) as rows
 * of token ids, read as spec's samples are: a labelled text's first `length` tokens, or
 * the last `window`, padded on the left; unknown tokens are RT_TOK_UNK. *x: (*n, width),
 * rt_free it. */
int rt_text_rows(const NnlDataSpec *spec, const RtVocab *v, const char *file, float **x, int64_t *n,
                 char *err, size_t errlen);
/* A JSON array of the tokens in id order (free() it), and back. */
char *rt_vocab_to_json(const RtVocab *v);
int rt_vocab_from_json(const char *json, int tokens, RtVocab *v, char *err, size_t errlen);
void rt_vocab_free(RtVocab *v);

/* ===== sample.c: prompts and the next token of a language model ===== */

/* The ids of text's tokens in (*ids)[0, *n), with room for `extra` more (rt_free it); -1
 * and err naming the first token that is not in v. */
int rt_encode_prompt(const RtVocab *v, const char *text, int64_t extra, float **ids, int64_t *n,
                     char *err, size_t errlen);
/* An id in [lo, hi) drawn from one position's outputs row[0, width): scores, or probabilities
 * when they are all >= 0 and sum to 1 (then their logarithms are the scores), with
 * probability softmax(score / temperature); temperature 0 takes the largest. */
int64_t rt_sample_token(const float *row, int64_t width, int64_t lo, int64_t hi, double temperature,
                        RtRng *rng);

/* ===== metrics.c: loss and metrics over a data set ===== */

enum { RT_M_ACCURACY, RT_M_MSE, RT_M_MAE, RT_M_PRECISION, RT_M_RECALL, RT_M_F1, RT_M_AUC,
       RT_M_LOSS, RT_M_COUNT };
typedef struct RtMetrics {
    double v[RT_M_COUNT];
    unsigned have;           /* bit i set when v[i] was computed */
} RtMetrics;
extern const char *const rt_metric_names[RT_M_COUNT];
/* The RT_M_* bits rt_evaluate reports for this model's task and metric set. */
unsigned rt_metric_mask(const NnlModelDesc *d);
/* Sums behind the metrics: rt_score_rows adds b rows of outputs o (b, out_size) and
 * labels y (b, label_size); the caller adds loss * rows to .loss. A score set up by
 * rt_score_init also keeps the confusion counts (precision, recall, F1, the matrix) and
 * every row's score and truth (AUC); one zeroed by `= {0}` keeps only the sums. */
typedef struct RtScore {
    double loss, correct, se, ae;
    int64_t rows;
    int64_t classes;         /* > 0: confusion holds (classes, classes) counts */
    int64_t *confusion;      /* [true class][predicted class] */
    int64_t cap;             /* > 0: pairs holds room for cap rows */
    struct RtScorePair { float score, truth; } *pairs;   /* (cap): AUC's input */
} RtScore;
/* Buffers for what rt_metric_mask(d) asks of up to n rows. 0 or -1 + err. */
int rt_score_init(RtScore *sc, const NnlModelDesc *d, int64_t n, char *err, size_t errlen);
void rt_score_reset(RtScore *sc);     /* zero the sums and counts, keep the buffers */
void rt_score_free(RtScore *sc);
void rt_score_rows(const NnlModelDesc *d, const float *o, const float *y, int64_t b, RtScore *acc);
/* Reorders acc->pairs (AUC sorts them). */
void rt_score_metrics(const NnlModelDesc *d, RtScore *acc, RtMetrics *out);
/* Per class k of the confusion counts: precision, recall, F1 and support (true rows);
 * a ratio with a zero denominator is 0, as scikit-learn reports it. */
void rt_class_scores(const RtScore *sc, int64_t k, double *precision, double *recall,
                     double *f1, int64_t *support);
/* ROC-AUC of n (score, truth > 0.5) pairs by the rank-sum (Mann-Whitney U) statistic with
 * tied scores given their average rank (Hanley & McNeil 1982); NaN without both classes.
 * Sorts p. */
double rt_auc(struct RtScorePair *p, int64_t n);
/* Runs the desc's loss entry over ds in batches of at most nnl_max_batch(m) rows. */
int rt_evaluate(NnlModel *m, const RtDataset *ds, RtMetrics *out, char *err, size_t errlen);
/* The same into sc (set up by rt_score_init for ds->n rows), which keeps the counts. */
int rt_evaluate_score(NnlModel *m, const RtDataset *ds, RtScore *sc, RtMetrics *out, char *err,
                      size_t errlen);
/* Copies rows idx[0..batch) (or lo..lo+batch when idx is NULL) into the arena. */
void rt_load_rows(NnlModel *m, const RtDataset *ds, const int64_t *idx, int64_t lo,
                  int64_t batch);

/* ===== ckpt.c: checkpoints (safetensors) and atomic file writes ===== */

/* Where training stands. epoch: epochs completed; epoch_step: steps done in the next one
 * (with `batch` rows each); step: optimizer steps in all. The shuffle of epoch e derives
 * from (seed, e) alone, so these numbers are enough to continue exactly. */
typedef struct RtCkptMeta {
    int64_t step, epoch, epoch_step, batch;
    uint64_t seed;
    int threads;
    RtNorm norm;             /* saved as "data.mean" and "data.std" when size > 0; loading
                              * allocates it when the file has them (rt_norm_free it) */
    RtVocab vocab;           /* text models: saved when n > 0; loading fills it when the
                              * file has one (rt_vocab_free it) */
} RtCkptMeta;
/* "<model name lowercased>.safetensors": where train saves when told nothing else. */
void rt_ckpt_default_path(const NnlModelDesc *d, char *out, size_t len);
/* Writes parameters, optimizer state and meta to path atomically. 0 or -1 + err. */
int rt_ckpt_save(const NnlModel *m, const char *path, const RtCkptMeta *meta, char *err,
                 size_t errlen);
/* Checks everything (header, names, shapes, checksum), then fills the parameters, the
 * optimizer state and the step count of m and *meta (if given). On error, m is unchanged
 * and err is one line naming the file and the problem. */
int rt_ckpt_load(NnlModel *m, const char *path, RtCkptMeta *meta, char *err, size_t errlen);
/* Only the vocabulary of the checkpoint at path (v->n is 0 when it has none). */
int rt_ckpt_vocab(const char *path, RtVocab *v, char *err, size_t errlen);
/* Open "path.tmpPID" for writing; commit flushes, fsyncs and renames it over path (or
 * removes it and fails); abort closes and removes it. */
FILE *rt_atomic_open(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen);
int rt_atomic_commit(FILE *f, const char *tmp, const char *path, char *err, size_t errlen);
void rt_atomic_abort(FILE *f, const char *tmp);

/* ===== nancheck.c: --nan=stop|skip|ignore ===== */

enum { RT_NAN_STOP, RT_NAN_SKIP, RT_NAN_IGNORE };
typedef struct RtNanGuard {
    int mode;                /* RT_NAN_* */
    float *saved;            /* skip: parameters then optimizer state, before the step */
    int64_t step;            /* skip: the step count before the step */
    int64_t skipped;         /* steps put back so far */
} RtNanGuard;
int rt_nan_guard_init(RtNanGuard *g, const NnlModel *m, int mode, char *err, size_t errlen);
void rt_nan_guard_free(RtNanGuard *g);
void rt_nan_before(RtNanGuard *g, const NnlModel *m);   /* skip: takes the copy */
/* After a train step: 0 when the loss, every gradient and every parameter are finite (or
 * the mode is ignore); else 1 and why names the loss and the first bad element, and in
 * skip mode the step is undone. */
int rt_nan_after(RtNanGuard *g, NnlModel *m, char *why, size_t len);

/* ===== signals.c: Ctrl-C finishes the step, saves, exits ===== */

void rt_signals_catch(void);     /* SIGINT and SIGTERM set a flag; a second one kills */
void rt_signals_release(void);   /* back to the default actions */
int rt_signal_pending(void);     /* the signal caught, or 0 */

/* ===== npy.c: NumPy .npy arrays for predict and data_npy.c ===== */

typedef struct RtNpy {
    int rank;
    int64_t shape[NNL_MAX_RANK + 1];
    int64_t count;           /* product of shape */
    int integer;             /* the file held integers (u1, i4, i8) rather than floats */
    float *data;             /* (count) converted to f32, C order */
} RtNpy;
/* Reads format version 1, 2 or 3, little-endian <f4 <f8 |u1 <i4 <i8, C order. */
int rt_npy_read(const char *path, RtNpy *a, char *err, size_t errlen);
void rt_npy_free(RtNpy *a);
/* Writes one array; descr is "<f4" or "<i8" and data holds count * elsize bytes.
 * Returns 0, or -1 when a write failed. */
int rt_npy_write(FILE *f, const char *descr, int rank, const int64_t *shape, const void *data,
                 size_t elsize);

/* ===== bench.c: `./model bench` ===== */

/* Times training steps and batch-1 forwards on synthetic data; argv[1] is "bench". */
int rt_bench_main(const NnlModelDesc *d, const char *prog, int argc, char **argv);

#endif
