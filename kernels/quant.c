/* Quantization as MLX 0.32 defines it: mlxc_quantize, mlxc_dequantize, mlxc_qmm.
 *
 * Layout: a row of K values is cut in groups of gs; each value becomes a bits-wide code
 * and the codes of a row form one little-endian bit stream (code i at bit i*bits), read
 * as uint32 words, so 3/5/6-bit codes straddle bytes and words.  Modes:
 *   affine  w = scale * q + bias, scale/bias per group in the input's dtype.  Per group
 *           (float32, no fused multiply-add, round half to even):
 *             bits 1: scale = max(max - min, 1e-7), bias = min
 *             else:   scale = max((max - min) / (2^bits - 1), 1e-7), negated unless
 *                     |min| > |max|; edge = min or max (the larger magnitude);
 *                     q0 = rint(edge / scale); q0 != 0: scale = edge / q0, bias = edge
 *                     (so the edge is exact), else bias = 0
 *             q = min(rint((w - bias) / scale), 2^bits - 1), a NaN quotient 0
 *           with the unrounded float scale; then scale and bias round to the dtype
 *           (MLX's NaN bits: float16 sign | 0x7d00, bfloat16 0x7fc0).
 *   floating modes: amax = max |w| of the group, a NaN winning; a = amax / m rounded to
 *           the input's dtype (m = 6, 448 for mxfp8); each w / scale also rounds to it.
 *   mxfp4 / mxfp8  e2m1 / e4m3 codes, groups of 32, scale 2^n as an e8m0 byte n + 127:
 *           n = ceil(log2(a)) (a = 0 gives n = 0), q = code(w / 2^n).  A NaN / inf a:
 *           byte 128 (float32 input) or 0 (half input) and q = code(w / 0).
 *   nvfp4   e2m1 codes, groups of 16, scale an e4m3 byte s = e4m3(a * enc) (NaN and
 *           inf saturate to 448), enc = 448 * 6 / global_scale (1 without one),
 *           q = code((w / s) * enc).
 * e2m1 rounding is MLX's CPU search for the nearest code value (e2m1_code): below 2^22
 * the magnitude thresholds 0.25 0.75 1.25 1.75 2.5 3.5 5 with ties going down, no sign
 * on a zero code; NaN, +-inf and far larger values as the search finds them.
 *
 * Dequantize: affine computes q * scale, rounds to the output dtype, adds the bias
 * and rounds again (MLX's arithmetic in the dtype); fp modes multiply the element's
 * value by the scale rounded to the output dtype (with nvfp4's global scale: by the
 * scale times global_scale / 2688 in float32, the output being float32), rounding once.
 *
 * mlxc_qmm: out = x @ dequant(w)^T (transpose) or x @ dequant(w), float32.  The
 * floating modes follow MLX's CPU order exactly (qmm_fp below).  Affine: many rows
 * go through the GEMM of kernels/matmul.c with the weights dequantized while its B
 * panels are packed (the float weight matrix never exists); few rows (decoding) go
 * through a matrix-vector kernel that reads the packed words once: for 2/4/8-bit
 * affine weights each SIMD lane takes one word, the word's codes are shifted out one
 * position at a time against a copy of x permuted to match, the lane sums are scaled
 * per group and the bias term is sum_g bias_g * sum(x in g).  Both paths give the same
 * bits at any thread count (fixed cuts of the output columns, fixed summation order).
 */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"
#include "e4m3.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define Q_X86 1
#include <immintrin.h>
#define TGT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TGT_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")))
#endif

static int64_t qmin64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ----------------------------------------------------------------- codes */
static inline uint32_t get_code(const uint8_t *row, int64_t i, int bits)
{
    int64_t bit = i * bits;
    const uint8_t *p = row + (bit >> 3);
    uint32_t sh = (uint32_t)(bit & 7), v = p[0];
    if (sh + (uint32_t)bits > 8u) v |= (uint32_t)p[1] << 8;
    return (v >> sh) & ((1u << bits) - 1u);
}

static inline float load_f(int dtype, const void *p, int64_t i)
{
    switch (dtype) {
    case MLXC_FLOAT16: return mlxc_h2f(((const uint16_t *)p)[i]);
    case MLXC_BFLOAT16: return mlxc_bf2f(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

/* v rounded to dtype at p[i], NaN with MLX's bit patterns */
static inline void store_f(int dtype, void *p, int64_t i, float v)
{
    switch (dtype) {
    case MLXC_FLOAT16: ((uint16_t *)p)[i] = mlxc_f2h_mlx(v); break;
    case MLXC_BFLOAT16: ((uint16_t *)p)[i] = mlxc_f2bf_mlx(v); break;
    default: ((float *)p)[i] = v;
    }
}

/* v rounded to dtype and back (MLX's arithmetic in a half type), NaN as MLX's
 * conversion writes it */
static inline float round_to(int dtype, float v)
{
    switch (dtype) {
    case MLXC_FLOAT16: return mlxc_h2f(mlxc_f2h_mlx(v));
    case MLXC_BFLOAT16: return mlxc_bf2f(mlxc_f2bf_mlx(v));
    default: return v;
    }
}

/* w / 0 in dtype, as x86 and MLX give it: +-inf by w's sign, w itself if NaN, the
 * negative default NaN for 0 / 0 (bfloat16 then drops the NaN's sign) */
static inline float over_zero(int dtype, float w)
{
    float x = w == 0.0f ? mlxc_u2f(0xffc00000u) : isnan(w) ? w : copysignf(INFINITY, w);
    return round_to(dtype, x);
}

static const float e2m1_val[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                   -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

/* e2m1 code of x as MLX's CPU picks it: the first code (in code order 0..15, so +0
 * before -0) whose value is nearest to x, the distances |x - value| computed in float32
 * and compared with <.  So ties go to the smaller magnitude, a zero code has no sign,
 * NaN and +-inf give 0, and far above 6 the rounded distances decide (x in [2^25,
 * 2^27) gives codes 4..7 by its low bits, 2^27 and up 0).  Below 2^22 every distance
 * that matters is exact and the thresholds 0.25 0.75 1.25 1.75 2.5 3.5 5 (ties down)
 * give the same codes faster. */
static inline uint32_t e2m1_code(float x)
{
    float a = fabsf(x);
    if (a < 0x1p22f) {
        uint32_t c = a > 5.0f ? 7u : a > 3.5f ? 6u : a > 2.5f ? 5u : a > 1.75f ? 4u
                   : a > 1.25f ? 3u : a > 0.75f ? 2u : a > 0.25f ? 1u : 0u;
        return c | (x < 0.0f && c ? 8u : 0u);
    }
    uint32_t c = 0;
    float best = fabsf(x - e2m1_val[0]);
    for (uint32_t k = 1; k < 16; k++) {
        float d = fabsf(x - e2m1_val[k]);
        if (d < best) { best = d; c = k; }
    }
    return c;
}

/* ceil(log2(a)) for a >= 0 from its bits (a == 0: 0) */
static inline int mx_exp(float a)
{
    uint32_t u = mlxc_f2u(a);
    if (u == 0) return 0;
    uint32_t e = u >> 23;
    if (e == 0) {                           /* subnormal: -149 + ceil(log2(u)) */
        int n = 0;
        while ((1u << n) < u) n++;
        return -149 + n;
    }
    return (int)e - 127 + ((u & 0x7fffffu) != 0);
}

static inline float e8m0_value(uint8_t b)
{
    return mlxc_u2f(b == 0 ? 0x400000u : (uint32_t)b << 23);
}

#define MODE_AFFINE 0
#define MODE_MXFP4 1
#define MODE_MXFP8 2
#define MODE_NVFP4 3

/* ------------------------------------------------------------- quantize */
typedef struct {
    int mode, dtype, gs, bits;
    const void *w;
    int64_t ngroups;
    uint8_t *out;               /* gs * bits / 8 bytes per group */
    void *scales, *biases;      /* one per group */
    float enc;                  /* nvfp4: 448 * 6 / global_scale, or 1 */
    int64_t chunk;
} qjob;

static void quant_group(const qjob *j, int64_t g)
{
    const int gs = j->gs, bits = j->bits;   /* gs: 32, 64 or 128 (checked by the op) */
    float v[256] = {0};                       /* (initialized: gcc cannot see gs >= 1) */
    for (int i = 0; i < gs; i++) v[i] = load_f(j->dtype, j->w, g * gs + i);
    uint8_t *o = j->out + g * gs * bits / 8;
    memset(o, 0, (size_t)(gs * bits / 8));
    uint32_t q[256];
    if (j->mode == MODE_AFFINE) {
        float wmin = INFINITY, wmax = -INFINITY;
        for (int i = 0; i < gs; i++) {
            wmin = v[i] < wmin ? v[i] : wmin;
            wmax = v[i] > wmax ? v[i] : wmax;
        }
        const float nb = (float)((1 << bits) - 1), eps = 1e-7f;
        float scale, bias;
        if (bits == 1) {
            scale = fmaxf(wmax - wmin, eps);
            bias = wmin;
        } else {
            scale = fmaxf((wmax - wmin) / nb, eps);
            int side = fabsf(wmin) > fabsf(wmax);
            if (!side) scale = -scale;
            float edge = side ? wmin : wmax;
            float q0 = rintf(edge / scale);
            if (q0 != 0.0f) { scale = edge / q0; bias = edge; }
            else bias = 0.0f;
        }
        for (int i = 0; i < gs; i++) {
            float r = rintf((v[i] - bias) / scale);     /* NaN (a NaN or inf group): 0 */
            q[i] = r > 0.0f ? (uint32_t)fminf(r, nb) : 0u;
        }
        store_f(j->dtype, j->scales, g, scale);
        store_f(j->dtype, j->biases, g, bias);
    } else {
        /* MLX: the group's max |w| (a NaN wins), divided by the largest element (6
         * or 448) and each w divided by the scale in the input's dtype (rounded to
         * it), the rest in float32 */
        float amax = 0.0f;
        for (int i = 0; i < gs; i++) {
            float a = fabsf(v[i]);
            amax = a > amax || isnan(a) ? a : amax;
        }
        float a = round_to(j->dtype, amax / (j->mode == MODE_MXFP8 ? 448.0f : 6.0f));
        uint8_t sb;
        if (j->mode == MODE_NVFP4) {
            /* scale e4m3(a * enc) (NaN / inf saturate to 448); x = (w / scale) * enc */
            sb = e4m3_from_f32(mlxc_f2u(a * j->enc));
            float sf = mlxc_u2f(e4m3_to_f32(sb));
            for (int i = 0; i < gs; i++)
                q[i] = e2m1_code(round_to(j->dtype, v[i] / sf) * j->enc);
        } else {
            /* scale 2^n, n = ceil(log2(a)); a NaN / inf group: MLX's byte is 128 (2.0)
             * for float32 input, 0 for the half types, and the elements are w / 0 */
            int fin = isfinite(a), n = fin ? mx_exp(a) : 0;
            sb = fin ? (uint8_t)((n + 127) & 0xff) : j->dtype == MLXC_FLOAT32 ? 128 : 0;
            float d = ldexpf(1.0f, n);
            for (int i = 0; i < gs; i++) {
                float x = fin ? round_to(j->dtype, v[i] / d) : over_zero(j->dtype, v[i]);
                q[i] = j->mode == MODE_MXFP8 ? e4m3_from_f32(mlxc_f2u(x)) : e2m1_code(x);
            }
        }
        ((uint8_t *)j->scales)[g] = sb;
    }
    for (int i = 0; i < gs; i++) {          /* LSB-first bit stream */
        int64_t bit = (int64_t)i * bits;
        uint32_t sh = (uint32_t)(bit & 7), val = q[i] << sh;
        o[bit >> 3] |= (uint8_t)val;
        if (sh + (uint32_t)bits > 8u) o[(bit >> 3) + 1] |= (uint8_t)(val >> 8);
    }
}

static void quant_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const qjob *j = ctx;
    int64_t g1 = qmin64((t + 1) * j->chunk, j->ngroups);
    for (int64_t g = t * j->chunk; g < g1; g++) quant_group(j, g);
}

static int valid_mode(int mode, int gs, int bits)
{
    switch (mode) {
    case MODE_AFFINE: return (gs == 32 || gs == 64 || gs == 128) && bits >= 1 && bits <= 8 && bits != 7;
    case MODE_MXFP4: return gs == 32 && bits == 4;
    case MODE_MXFP8: return gs == 32 && bits == 8;
    case MODE_NVFP4: return gs == 16 && bits == 4;
    default: return 0;
    }
}

int mlxc_quantize(int mode, int dtype, const void *w, int64_t n, int group_size, int bits,
                  uint32_t *out, void *scales, void *biases, const float *global_scale)
{
    if (!valid_mode(mode, group_size, bits) || n % group_size) return MLXC_ERR_UNSUPPORTED;
    if (dtype != MLXC_FLOAT32 && dtype != MLXC_FLOAT16 && dtype != MLXC_BFLOAT16)
        return MLXC_ERR_UNSUPPORTED;
    qjob j = {mode, dtype, group_size, bits, w, n / group_size, (uint8_t *)out, scales, biases,
              1.0f, 0};
    if (mode == MODE_NVFP4 && global_scale) j.enc = (448.0f * 6.0f) / *global_scale;
    if (j.ngroups == 0) return MLXC_OK;
    j.chunk = (1 << 14) / group_size;       /* fixed: groups are independent anyway */
    int64_t tasks = (j.ngroups + j.chunk - 1) / j.chunk;
    mlxc_parallel_for(tasks, tasks > 1 ? mlxc_num_threads() : 1, quant_task, &j);
    return MLXC_OK;
}

/* ----------------------------------------------------------- dequantize */
typedef struct {
    int mode, sdtype, gs, bits, odtype;
    const uint8_t *w;
    const void *scales, *biases;
    float gmul;                 /* nvfp4: global_scale / 2688, else 1 */
    int has_global;
    void *out;
    int64_t ngroups, chunk;
} djob;

/* The value of code c of group g in float32 (before rounding to the output). */
static inline float fp_value(int mode, uint32_t c)
{
    return mode == MODE_MXFP8 ? mlxc_u2f(e4m3_to_f32((uint8_t)c)) : e2m1_val[c];
}

static inline float fp_scale(int mode, uint8_t s)
{
    return mode == MODE_NVFP4 ? mlxc_u2f(e4m3_to_f32(s)) : e8m0_value(s);
}

static void deq_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const djob *j = ctx;
    const int gs = j->gs, bits = j->bits;
    int64_t g1 = qmin64((t + 1) * j->chunk, j->ngroups);
    for (int64_t g = t * j->chunk; g < g1; g++) {
        const uint8_t *row = j->w + g * gs * bits / 8;
        if (j->mode == MODE_AFFINE) {
            float s = load_f(j->sdtype, j->scales, g), b = load_f(j->sdtype, j->biases, g);
            for (int i = 0; i < gs; i++) {
                float v = round_to(j->odtype, (float)get_code(row, i, bits) * s);
                store_f(j->odtype, j->out, g * gs + i, v + b);
            }
        } else {
            float s = fp_scale(j->mode, ((const uint8_t *)j->scales)[g]);
            /* MLX folds the global factor into the scale; without one it rounds the
             * scale to the output dtype first (2^16 and up are inf in float16) */
            s = j->has_global ? s * j->gmul : round_to(j->odtype, s);
            for (int i = 0; i < gs; i++)
                store_f(j->odtype, j->out, g * gs + i, fp_value(j->mode, get_code(row, i, bits)) * s);
        }
    }
}

int mlxc_dequantize(int mode, int sdtype, const uint32_t *w, const void *scales,
                    const void *biases, int64_t n, int group_size, int bits,
                    const float *global_scale, int out_dtype, void *out)
{
    if (!valid_mode(mode, group_size, bits) || n % group_size) return MLXC_ERR_UNSUPPORTED;
    if (out_dtype != MLXC_FLOAT32 && out_dtype != MLXC_FLOAT16 && out_dtype != MLXC_BFLOAT16)
        return MLXC_ERR_UNSUPPORTED;
    djob j = {mode, sdtype, group_size, bits, out_dtype, (const uint8_t *)w, scales, biases,
              1.0f, 0, out, n / group_size, 0};
    if (mode == MODE_NVFP4 && global_scale) {
        j.gmul = *global_scale / (448.0f * 6.0f);
        j.has_global = 1;
    }
    if (j.ngroups == 0) return MLXC_OK;
    j.chunk = (1 << 14) / group_size;
    int64_t tasks = (j.ngroups + j.chunk - 1) / j.chunk;
    mlxc_parallel_for(tasks, tasks > 1 ? mlxc_num_threads() : 1, deq_task, &j);
    return MLXC_OK;
}

/* ---------------------------------------------------- quantized matmul */
typedef struct {
    int mode, gs, bits, transpose;
    int64_t M, N, K;
    const float *x;
    const uint8_t *w;
    int64_t row_bytes, row_words, srow;   /* per packed row; scales per row */
    const float *s, *b;         /* affine: float32 scales / biases */
    const uint8_t *s8;          /* fp modes: scale bytes */
    float gmul;                 /* nvfp4 global factor (1 without) */
    float *out;
    /* matrix-vector path */
    const float *xp, *xsum;     /* permuted x rows, group sums of x */
    int64_t xp_len, chunk;
    int isa, lanes;
    int oom;                    /* set by a task whose buffer allocation failed */
    int xdt;                    /* fp modes: x's and out's dtype (float32 / a half type) */
    const void *xv;             /* fp modes: x, out in that dtype */
    void *outv;
} qmm_job;

/* n values of packed row r starting at column c0, dequantized in float32, to
 * out[i * os]. */
static void decode_seg(const qmm_job *j, int64_t r, int64_t c0, int64_t n, float *out,
                       int64_t os)
{
    const uint8_t *row = j->w + r * j->row_bytes;
    const int gs = j->gs, bits = j->bits;
    for (int64_t i = 0; i < n;) {
        int64_t c = c0 + i, g = c / gs, end = qmin64(n, i + (g + 1) * gs - c);
        if (j->mode == MODE_AFFINE) {
            float s = j->s[r * j->srow + g], b = j->b[r * j->srow + g];
            for (; i < end; i++) out[i * os] = (float)get_code(row, c0 + i, bits) * s + b;
        } else {
            float s = fp_scale(j->mode, j->s8[r * j->srow + g]) * j->gmul;
            for (; i < end; i++) out[i * os] = fp_value(j->mode, get_code(row, c0 + i, bits)) * s;
        }
    }
}

#ifdef Q_X86
/* B panel from transposed 2/4/8-bit affine weights: B[p][q] = W[j0+q][pc+p].  Eight
 * (AVX2) / sixteen (AVX-512) columns at once, one vector of words per k-word: word t of
 * each column.  The words come from plain loads of eight consecutive words of each
 * column's row, transposed in registers (a gather per word is slow); each word's
 * 32/bits codes are then shifted out one k at a time.  The scales and biases of the
 * columns are gathered once per group.  A slab's last kc/E mod 8 words are gathered. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* the same words of the panel after next (columns j0 + 2 NR ...), one cache line per
 * row: they come from memory while the panels before them are multiplied
 * (prefetches do not fault) */
#define PK_PREFETCH(ROWS)                                                           \
    for (int i = 0; i < ROWS; i++)                                                  \
        _mm_prefetch((const char *)(wb + (2 * NR + i) * rw + t), _MM_HINT_T1);

/* the E codes of word vector v, dequantized, to rows d, d + NR, ...: v copied to a
 * local (an element of an array indexed in a loop lives in memory, and shifting it
 * in place would chain stores and reloads) and shifted by e * bits, independently */
#define PK_EMIT(V, CVT, AND, FMA, ST, SRL, v, d) {                                  \
    const V v_ = v;                                                                 \
    for (int e_ = 0; e_ < E; e_++)                                                  \
        ST(d + e_ * NR, FMA(CVT(AND(SRL(v_, (unsigned)(e_ * bits)), mask)), s, b));  \
    }

TGT_AVX2 static ALWAYS_INLINE void packb_t_avx2_b(const qmm_job *j, float *dst, int64_t pc,
                                                  int64_t kc, int64_t j0, int NR, const int bits)
{
    const int E = 32 / bits;
    const int64_t W0 = pc / E, nw = kc / E, rw = j->row_words;
    const int64_t wm = j->gs / E - 1;                /* words per group - 1 (2^n - 1) */
    const int wsh = __builtin_ctzll((unsigned long long)(j->gs / E));
    const __m256i mask = _mm256_set1_epi32((1 << bits) - 1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i widx = _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)rw));
    const __m256i sidx = _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)j->srow));
    for (int qb = 0; qb < NR; qb += 8) {
        const int *wb = (const int *)(const void *)(j->w + (j0 + qb) * j->row_bytes) + W0;
        const float *sb = j->s + (j0 + qb) * j->srow, *bb = j->b + (j0 + qb) * j->srow;
        __m256 s = _mm256_setzero_ps(), b = s;
        int64_t t = 0;
        for (; t + 8 <= nw; t += 8) {
            __m256i r[8], u[8];
            if ((t & 15) == 0) PK_PREFETCH(8)
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_si256((const __m256i *)(wb + i * rw + t));
            /* 8 x 8 transpose: u[w] = word t + w of the eight rows */
            for (int i = 0; i < 8; i += 2) {
                u[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
                u[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
            }
            for (int i = 0; i < 8; i += 4) {
                r[i] = _mm256_unpacklo_epi64(u[i], u[i + 2]);
                r[i + 1] = _mm256_unpackhi_epi64(u[i], u[i + 2]);
                r[i + 2] = _mm256_unpacklo_epi64(u[i + 1], u[i + 3]);
                r[i + 3] = _mm256_unpackhi_epi64(u[i + 1], u[i + 3]);
            }
            for (int i = 0; i < 4; i++) {
                u[i] = _mm256_permute2x128_si256(r[i], r[i + 4], 0x20);
                u[i + 4] = _mm256_permute2x128_si256(r[i], r[i + 4], 0x31);
            }
            for (int w = 0; w < 8; w++) {
                int64_t tw = W0 + t + w;
                if ((tw & wm) == 0) {
                    s = _mm256_i32gather_ps(sb + (tw >> wsh), sidx, 4);
                    b = _mm256_i32gather_ps(bb + (tw >> wsh), sidx, 4);
                }
                float *d = dst + (t + w) * E * NR + qb;
                PK_EMIT(__m256i, _mm256_cvtepi32_ps, _mm256_and_si256, _mm256_fmadd_ps,
                        _mm256_storeu_ps, _mm256_srli_epi32, u[w], d)
            }
        }
        for (; t < nw; t++) {
            int64_t tw = W0 + t;
            if ((tw & wm) == 0) {
                s = _mm256_i32gather_ps(sb + (tw >> wsh), sidx, 4);
                b = _mm256_i32gather_ps(bb + (tw >> wsh), sidx, 4);
            }
            __m256i v = _mm256_i32gather_epi32(wb + t, widx, 4);
            float *d = dst + t * E * NR + qb;
            PK_EMIT(__m256i, _mm256_cvtepi32_ps, _mm256_and_si256, _mm256_fmadd_ps,
                    _mm256_storeu_ps, _mm256_srli_epi32, v, d)
        }
    }
}

TGT_AVX512 static ALWAYS_INLINE void packb_t_avx512_b(const qmm_job *j, float *dst, int64_t pc,
                                                      int64_t kc, int64_t j0, int NR,
                                                      const int bits)
{
    const int E = 32 / bits;
    const int64_t W0 = pc / E, nw = kc / E, rw = j->row_words;
    const int64_t wm = j->gs / E - 1;                /* words per group - 1 (2^n - 1) */
    const int wsh = __builtin_ctzll((unsigned long long)(j->gs / E));
    const __m512i mask = _mm512_set1_epi32((1 << bits) - 1);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i widx = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)rw));
    const __m512i sidx = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)j->srow));
    /* 128-bit quarters [a0 b0 a2 b2] and [a1 b1 a3 b3], as 64-bit indices */
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    for (int qb = 0; qb < NR; qb += 16) {
        const int *wb = (const int *)(const void *)(j->w + (j0 + qb) * j->row_bytes) + W0;
        const float *sb = j->s + (j0 + qb) * j->srow, *bb = j->b + (j0 + qb) * j->srow;
        __m512 s = _mm512_setzero_ps(), b = s;
        int64_t t = 0;
        for (; t + 8 <= nw; t += 8) {
            /* rows i and i + 8 in the halves of r[i]; an 8 x 8 transpose in each half
             * (unpacks within 128-bit quarters, then the quarters regrouped) leaves
             * u[w] = word t + w of the sixteen rows */
            __m512i r[8], u[8];
            if ((t & 15) == 0) PK_PREFETCH(16)
            for (int i = 0; i < 8; i++)
                r[i] = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(wb + i * rw + t))),
                    _mm256_loadu_si256((const __m256i *)(wb + (i + 8) * rw + t)), 1);
            for (int i = 0; i < 8; i += 2) {
                u[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
                u[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
            }
            for (int i = 0; i < 8; i += 4) {
                r[i] = _mm512_unpacklo_epi64(u[i], u[i + 2]);
                r[i + 1] = _mm512_unpackhi_epi64(u[i], u[i + 2]);
                r[i + 2] = _mm512_unpacklo_epi64(u[i + 1], u[i + 3]);
                r[i + 3] = _mm512_unpackhi_epi64(u[i + 1], u[i + 3]);
            }
            for (int i = 0; i < 4; i++) {
                u[i] = _mm512_permutex2var_epi64(r[i], lo, r[i + 4]);
                u[i + 4] = _mm512_permutex2var_epi64(r[i], hi, r[i + 4]);
            }
            for (int w = 0; w < 8; w++) {
                int64_t tw = W0 + t + w;
                if ((tw & wm) == 0) {
                    s = _mm512_i32gather_ps(sidx, sb + (tw >> wsh), 4);
                    b = _mm512_i32gather_ps(sidx, bb + (tw >> wsh), 4);
                }
                float *d = dst + (t + w) * E * NR + qb;
                PK_EMIT(__m512i, _mm512_cvtepi32_ps, _mm512_and_si512, _mm512_fmadd_ps,
                        _mm512_storeu_ps, _mm512_srli_epi32, u[w], d)
            }
        }
        for (; t < nw; t++) {
            int64_t tw = W0 + t;
            if ((tw & wm) == 0) {
                s = _mm512_i32gather_ps(sidx, sb + (tw >> wsh), 4);
                b = _mm512_i32gather_ps(sidx, bb + (tw >> wsh), 4);
            }
            __m512i v = _mm512_i32gather_epi32(widx, wb + t, 4);
            float *d = dst + t * E * NR + qb;
            PK_EMIT(__m512i, _mm512_cvtepi32_ps, _mm512_and_si512, _mm512_fmadd_ps,
                    _mm512_storeu_ps, _mm512_srli_epi32, v, d)
        }
    }
}

/* bits as a constant: the code loop unrolls */
TGT_AVX2 static void packb_t_avx2(const qmm_job *j, float *dst, int64_t pc, int64_t kc,
                                  int64_t j0, int NR)
{
    if (j->bits == 4) packb_t_avx2_b(j, dst, pc, kc, j0, NR, 4);
    else if (j->bits == 8) packb_t_avx2_b(j, dst, pc, kc, j0, NR, 8);
    else packb_t_avx2_b(j, dst, pc, kc, j0, NR, 2);
}

TGT_AVX512 static void packb_t_avx512(const qmm_job *j, float *dst, int64_t pc, int64_t kc,
                                      int64_t j0, int NR)
{
    if (j->bits == 4) packb_t_avx512_b(j, dst, pc, kc, j0, NR, 4);
    else if (j->bits == 8) packb_t_avx512_b(j, dst, pc, kc, j0, NR, 8);
    else packb_t_avx512_b(j, dst, pc, kc, j0, NR, 2);
}
#endif

static int simd_affine(const qmm_job *j)
{
    return j->mode == MODE_AFFINE && (j->bits == 2 || j->bits == 4 || j->bits == 8);
}

static void qmm_packb(const void *ctx, float *dst, int64_t pc, int64_t kc, int64_t j0,
                      int64_t n, int NR)
{
    const qmm_job *j = ctx;
#ifdef Q_X86
    if (j->transpose && n == NR && simd_affine(j) && j->isa >= MLXC_ISA_AVX2
        && NR % 8 == 0 && j->row_words * 16 < INT32_MAX && j->srow * 16 < INT32_MAX) {
        if (j->isa >= MLXC_ISA_AVX512 && NR % 16 == 0) packb_t_avx512(j, dst, pc, kc, j0, NR);
        else packb_t_avx2(j, dst, pc, kc, j0, NR);
        return;
    }
#endif
    if (j->transpose) {
        for (int64_t q = 0; q < n; q++) decode_seg(j, j0 + q, pc, kc, dst + q, NR);
    } else {
        for (int64_t p = 0; p < kc; p++) decode_seg(j, pc + p, j0, n, dst + p * NR, 1);
    }
    if (n < NR)
        for (int64_t p = 0; p < kc; p++)
            for (int64_t q = n; q < NR; q++) dst[p * NR + q] = 0.0f;
}

/* ---- matrix-vector: y[m][jj] for a few rows m, transposed 2/4/8-bit affine weights.
 * The row's words are read L at a time (one per lane); x is permuted so that lane i,
 * code position e of chunk c meets x[(c*L + i)*E + e] at xp[c*L*E + e*L + i]. */
#define MV_COLS 32              /* output columns per task: a fixed cut */
#define MV_MAXM 4

static void mv_cols_scalar(const qmm_job *j, int64_t j0, int64_t j1)
{
    const int bits = j->bits, E = 32 / bits, L = 8;
    const int64_t W = j->row_words, G = j->K / j->gs, nch = (W + L - 1) / L;
    const uint32_t mask = (1u << bits) - 1u;
    for (int64_t jj = j0; jj < j1; jj++) {
        const uint32_t *wr = (const uint32_t *)(const void *)(j->w + jj * j->row_bytes);
        const float *sr = j->s + jj * j->srow, *br = j->b + jj * j->srow;
        for (int64_t m = 0; m < j->M; m++) {
            const float *xp = j->xp + m * j->xp_len;
            float tot[8] = {0};
            for (int64_t c = 0; c < nch; c++) {
                for (int i = 0; i < L; i++) {
                    int64_t wi = c * L + i;
                    if (wi >= W) break;
                    uint32_t v = wr[wi];
                    float acc = 0.0f;
                    for (int e = 0; e < E; e++, v >>= bits)
                        acc += (float)(v & mask) * xp[c * L * E + e * L + i];
                    tot[i] += acc * sr[wi * E / j->gs];
                }
            }
            float y = ((tot[0] + tot[1]) + (tot[2] + tot[3])) + ((tot[4] + tot[5]) + (tot[6] + tot[7]));
            const float *xs = j->xsum + m * G;
            float bs = 0.0f;
            for (int64_t g = 0; g < G; g++) bs += br[g] * xs[g];
            j->out[m * j->N + jj] = y + bs;
        }
    }
}

#ifdef Q_X86
TGT_AVX2 static float q_hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

/* The kernels' bodies take M (rows of x) and bits as constants: dispatched below, so
 * the accumulators live in registers and the code loops unroll. */
TGT_AVX2 static ALWAYS_INLINE void mv_body_avx2(const qmm_job *j, int64_t j0, int64_t j1,
                                                const int M, const int bits)
{
    const int E = 32 / bits, L = 8;
    const int64_t W = j->row_words, G = j->K / j->gs, nch = (W + L - 1) / L;
    const __m256i mask = _mm256_set1_epi32((1 << bits) - 1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int gsh = __builtin_ctz((unsigned)j->gs);
    for (int64_t jj = j0; jj < j1; jj++) {
        const int *wr = (const int *)(const void *)(j->w + jj * j->row_bytes);
        const float *sr = j->s + jj * j->srow, *br = j->b + jj * j->srow;
        __m256 tot[MV_MAXM];
        for (int m = 0; m < M; m++) tot[m] = _mm256_setzero_ps();
        for (int64_t c = 0; c < nch; c++) {
            __m256i v, gi = _mm256_add_epi32(lane, _mm256_set1_epi32((int)(c * L)));
            if ((c + 1) * L <= W) {
                v = _mm256_loadu_si256((const __m256i *)(wr + c * L));
            } else {        /* tail: missing words read as 0 (x is zero there too) */
                __m256i lm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)W), gi);
                v = _mm256_maskload_epi32(wr + c * L, lm);
                gi = _mm256_min_epi32(gi, _mm256_set1_epi32((int)(W - 1)));
            }
            /* lane i's group, word (c*L + i) * E / gs, relative to the chunk's first
             * group g0: the (at most 4) scales are loaded once and permuted */
            __m256i sg = _mm256_srli_epi32(_mm256_mullo_epi32(gi, _mm256_set1_epi32(E)), gsh);
            int64_t g0 = (c * L * E) >> gsh;
            __m256i sm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(G - g0)), lane);
            __m256 s = _mm256_permutevar8x32_ps(_mm256_maskload_ps(sr + g0, sm),
                                                _mm256_sub_epi32(sg, _mm256_set1_epi32((int)g0)));
            const float *xc = j->xp + c * L * E;
            __m256 acc[MV_MAXM];
            for (int m = 0; m < M; m++) acc[m] = _mm256_setzero_ps();
            for (int e = 0; e < E; e++) {
                __m256 q = _mm256_cvtepi32_ps(_mm256_and_si256(v, mask));
                v = _mm256_srli_epi32(v, bits);
                for (int m = 0; m < M; m++)
                    acc[m] = _mm256_fmadd_ps(q, _mm256_loadu_ps(xc + m * j->xp_len + e * L), acc[m]);
            }
            for (int m = 0; m < M; m++) tot[m] = _mm256_fmadd_ps(acc[m], s, tot[m]);
        }
        for (int m = 0; m < M; m++) {      /* bias term: 8 lanes, then their sum */
            const float *xs = j->xsum + m * G;
            __m256 bs = _mm256_setzero_ps();
            int64_t g = 0;
            for (; g + 8 <= G; g += 8)
                bs = _mm256_fmadd_ps(_mm256_loadu_ps(br + g), _mm256_loadu_ps(xs + g), bs);
            if (g < G) {
                __m256i gm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(G - g)), lane);
                bs = _mm256_fmadd_ps(_mm256_maskload_ps(br + g, gm), _mm256_maskload_ps(xs + g, gm), bs);
            }
            j->out[m * j->N + jj] = q_hsum256(tot[m]) + q_hsum256(bs);
        }
    }
}

TGT_AVX512 static ALWAYS_INLINE void mv_body_avx512(const qmm_job *j, int64_t j0, int64_t j1,
                                                    const int M, const int bits)
{
    const int E = 32 / bits, L = 16;
    const int64_t W = j->row_words, G = j->K / j->gs, nch = (W + L - 1) / L;
    const __m512i mask = _mm512_set1_epi32((1 << bits) - 1);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int gsh = __builtin_ctz((unsigned)j->gs);
    /* 2/4-bit: the code's float from a 16-entry table indexed by the lane's low four
     * bits (one permute instead of a mask and a conversion) */
    const __m512 tab = bits == 2 ? _mm512_setr_ps(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)
                                 : _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int64_t jj = j0; jj < j1; jj++) {
        const int *wr = (const int *)(const void *)(j->w + jj * j->row_bytes);
        const float *sr = j->s + jj * j->srow, *br = j->b + jj * j->srow;
        __m512 tot[MV_MAXM];
        for (int m = 0; m < M; m++) tot[m] = _mm512_setzero_ps();
        for (int64_t c = 0; c < nch; c++) {
            __m512i v, gi = _mm512_add_epi32(lane, _mm512_set1_epi32((int)(c * L)));
            if ((c + 1) * L <= W) {
                v = _mm512_loadu_si512((const void *)(wr + c * L));
            } else {
                __mmask16 lm = (__mmask16)((1u << (W - c * L)) - 1u);
                v = _mm512_maskz_loadu_epi32(lm, wr + c * L);
                gi = _mm512_min_epi32(gi, _mm512_set1_epi32((int)(W - 1)));
            }
            __m512i sg = _mm512_srli_epi32(_mm512_mullo_epi32(gi, _mm512_set1_epi32(E)),
                                           (unsigned)gsh);
            int64_t g0 = (c * L * E) >> gsh, ng = G - g0;
            __mmask16 sm = (__mmask16)(ng >= 16 ? 0xffffu : (1u << ng) - 1u);
            __m512 s = _mm512_permutexvar_ps(_mm512_sub_epi32(sg, _mm512_set1_epi32((int)g0)),
                                             _mm512_maskz_loadu_ps(sm, sr + g0));
            const float *xc = j->xp + c * L * E;
            __m512 acc[MV_MAXM];
            for (int m = 0; m < M; m++) acc[m] = _mm512_setzero_ps();
            for (int e = 0; e < E; e++) {
                __m512i ve = _mm512_srli_epi32(v, (unsigned)(e * bits));
                __m512 q = bits == 8 ? _mm512_cvtepi32_ps(_mm512_and_si512(ve, mask))
                                     : _mm512_permutexvar_ps(ve, tab);
                for (int m = 0; m < M; m++)
                    acc[m] = _mm512_fmadd_ps(q, _mm512_loadu_ps(xc + m * j->xp_len + e * L), acc[m]);
            }
            for (int m = 0; m < M; m++) tot[m] = _mm512_fmadd_ps(acc[m], s, tot[m]);
        }
        for (int m = 0; m < M; m++) {      /* bias term: 16 lanes, then their sum */
            const float *xs = j->xsum + m * G;
            __m512 bs = _mm512_setzero_ps();
            int64_t g = 0;
            for (; g + 16 <= G; g += 16)
                bs = _mm512_fmadd_ps(_mm512_loadu_ps(br + g), _mm512_loadu_ps(xs + g), bs);
            if (g < G) {
                __mmask16 gm = (__mmask16)((1u << (G - g)) - 1u);
                bs = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(gm, br + g),
                                     _mm512_maskz_loadu_ps(gm, xs + g), bs);
            }
            j->out[m * j->N + jj] = _mm512_reduce_add_ps(tot[m]) + _mm512_reduce_add_ps(bs);
        }
    }
}

#define MV_DISPATCH(BODY, j, j0, j1)                                                \
    switch ((int)(j)->M * 16 + (j)->bits) {                                        \
    case 18: BODY(j, j0, j1, 1, 2); break;  case 20: BODY(j, j0, j1, 1, 4); break;  \
    case 24: BODY(j, j0, j1, 1, 8); break;  case 34: BODY(j, j0, j1, 2, 2); break;  \
    case 36: BODY(j, j0, j1, 2, 4); break;  case 40: BODY(j, j0, j1, 2, 8); break;  \
    case 50: BODY(j, j0, j1, 3, 2); break;  case 52: BODY(j, j0, j1, 3, 4); break;  \
    case 56: BODY(j, j0, j1, 3, 8); break;  case 66: BODY(j, j0, j1, 4, 2); break;  \
    case 68: BODY(j, j0, j1, 4, 4); break;  default: BODY(j, j0, j1, 4, 8); break;  \
    }
TGT_AVX2 static void mv_cols_avx2(const qmm_job *j, int64_t j0, int64_t j1)
{
    MV_DISPATCH(mv_body_avx2, j, j0, j1)
}
TGT_AVX512 static void mv_cols_avx512(const qmm_job *j, int64_t j0, int64_t j1)
{
    MV_DISPATCH(mv_body_avx512, j, j0, j1)
}
#endif

static void mv_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const qmm_job *j = ctx;
    int64_t j0 = t * j->chunk, j1 = qmin64(j0 + j->chunk, j->N);
#ifdef Q_X86
    if (j->isa >= MLXC_ISA_AVX512) { mv_cols_avx512(j, j0, j1); return; }
    if (j->isa >= MLXC_ISA_AVX2) { mv_cols_avx2(j, j0, j1); return; }
#endif
    mv_cols_scalar(j, j0, j1);
}

static int qmm_matvec(qmm_job *j)
{
    const int E = 32 / j->bits;
    const int L = j->isa >= MLXC_ISA_AVX512 ? 16 : 8;
    const int64_t W = j->row_words, G = j->K / j->gs, nch = (W + L - 1) / L;
    j->lanes = L;
    j->xp_len = nch * L * E;
    float *buf = malloc((size_t)(j->M * (j->xp_len + G)) * sizeof(float));
    if (!buf) return MLXC_ERR_NOMEM;
    float *xp = buf, *xs = buf + j->M * j->xp_len;
    for (int64_t m = 0; m < j->M; m++) {
        const float *x = j->x + m * j->K;
        float *d = xp + m * j->xp_len;
        for (int64_t c = 0; c < nch; c++)
            for (int e = 0; e < E; e++)
                for (int i = 0; i < L; i++) {
                    int64_t k = (c * L + i) * E + e;
                    d[c * L * E + e * L + i] = k < j->K ? x[k] : 0.0f;
                }
        for (int64_t g = 0; g < G; g++) {
            float s = 0.0f;
            for (int i = 0; i < j->gs; i++) s += x[g * j->gs + i];
            xs[m * G + g] = s;
        }
    }
    j->xp = xp;
    j->xsum = xs;
    j->chunk = MV_COLS;
    int64_t tasks = (j->N + MV_COLS - 1) / MV_COLS;
    int nthr = (double)j->N * (double)j->K < 65536.0 ? 1 : mlxc_num_threads();
    mlxc_parallel_for(tasks, nthr, mv_task, j);
    free(buf);
    return MLXC_OK;
}

/* ---- floating modes: MLX's CPU order, so the products are bit-identical to its.
 *   transpose:     out[m][n] = sum over groups g in order of
 *                  (sum over i in g in order of x[m][i] * v[n][i]) * scale[n][g]
 *   not transpose: out[m][n] = sum over k in order of (x[m][k] * scale[k][n / gs]) * v[k][n]
 * (v the e2m1 / e4m3 code values), every operation rounded to float32 (a half x: to
 * its type, scales included, as MLX computes in it), none fused.  Each output is one
 * sequential chain; tasks own fixed blocks of output columns and run FPB chains side
 * by side (independent, so the order inside each stays MLX's). */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define NO_CONTRACT
#endif
#define FPB 8                   /* transpose: output columns per chain block */
typedef float fpv __attribute__((vector_size(FPB * sizeof(float))));   /* FPB chains */
#define FPV_ZERO ((fpv){0})
#define FPM 4                   /* transpose: rows of x per pass */
#define FP_COLS 64              /* output columns per task: a fixed cut */
#define FP_INLINE static inline __attribute__((always_inline))

/* The lanes of *v rounded to dt and back, lane by lane as round_to (float32: kept).  The
 * half types by their bits: bfloat16 keeps the top 16 (nearest even), NaN 0x7fc0;
 * float16 keeps 10 mantissa bits (nearest even), below 2^-14 multiples of 2^-24 (the
 * FPU rounds a + 0.5), from 65520 inf, NaN sign | 0x7d00 (float32 sign | 0x7fa00000). */
typedef uint32_t fpu __attribute__((vector_size(FPB * sizeof(uint32_t))));
FP_INLINE void fpv_round(fpv *v, const int dt)
{
    if (dt == MLXC_FLOAT32) return;
    fpu u, r;
    memcpy(&u, v, sizeof u);
    const fpu a = u & 0x7fffffffu, nan = (fpu)(a > 0x7f800000u);
    if (dt == MLXC_BFLOAT16) {
        r = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
        r = (r & ~nan) | (nan & 0x7fc00000u);
    } else {
        fpv af, sf;
        fpu sub;
        memcpy(&af, &a, sizeof af);
        sf = (af + 0.5f) - 0.5f;
        memcpy(&sub, &sf, sizeof sub);
        const fpu norm = (a + 0xfffu + ((a >> 13) & 1u)) & 0xffffe000u;
        const fpu m_sub = (fpu)(a < 0x38800000u), m_inf = (fpu)(a >= 0x477ff000u);
        r = (sub & m_sub) | (norm & ~m_sub);
        r = (m_inf & 0x7f800000u) | (r & ~m_inf);
        r = ((nan & 0x7fa00000u) | (r & ~nan)) | (u & 0x80000000u);
    }
    memcpy(v, &r, sizeof r);
}

/* Blocks of FPB rows of w (their code values transposed into vt, missing rows 0) meet
 * FPM rows of x at a time (missing rows read row 0 and are not stored): FPM * FPB
 * independent chains, fixed trip counts, so the compiler vectorizes across chains.
 * dt: x's and out's dtype (a constant at each call), every step rounded to it. */
FP_INLINE void fp_cols_t(const qmm_job *j, int64_t n0, int64_t n1, float *restrict vt,
                         const int dt)
{
    const int gs = j->gs;
    const int64_t K = j->K, G = K / gs, M = j->M;
    for (int64_t b0 = n0; b0 < n1; b0 += FPB) {
        const int nb = (int)qmin64(FPB, n1 - b0);
        for (int r = 0; r < FPB; r++) {
            const uint8_t *row = j->w + (b0 + (r < nb ? r : 0)) * j->row_bytes;
            for (int64_t i = 0; i < K; i++)
                vt[i * FPB + r] = r < nb ? fp_value(j->mode, get_code(row, i, j->bits)) : 0.0f;
        }
        for (int64_t m0 = 0; m0 < M; m0 += FPM) {
            int64_t xr[FPM];
            for (int mm = 0; mm < FPM; mm++) xr[mm] = (m0 + mm < M ? m0 + mm : 0) * K;
            fpv acc[FPM];
            for (int mm = 0; mm < FPM; mm++) acc[mm] = FPV_ZERO;
            for (int64_t g = 0; g < G; g++) {
                fpv ga[FPM], sc;
                for (int mm = 0; mm < FPM; mm++) ga[mm] = FPV_ZERO;
                for (int64_t i = g * gs; i < (g + 1) * gs; i++) {
                    fpv v;
                    memcpy(&v, vt + i * FPB, sizeof v);
                    for (int mm = 0; mm < FPM; mm++) {
                        fpv p = load_f(dt, j->xv, xr[mm] + i) * v;
                        fpv_round(&p, dt);
                        ga[mm] = ga[mm] + p;
                        fpv_round(&ga[mm], dt);
                    }
                }
                for (int r = 0; r < FPB; r++)
                    sc[r] = r < nb ? round_to(dt, fp_scale(j->mode, j->s8[(b0 + r) * j->srow + g])
                                                  * j->gmul)
                                   : 1.0f;
                for (int mm = 0; mm < FPM; mm++) {
                    fpv p = ga[mm] * sc;
                    fpv_round(&p, dt);
                    acc[mm] = acc[mm] + p;
                    fpv_round(&acc[mm], dt);
                }
            }
            for (int mm = 0; mm < FPM && m0 + mm < M; mm++)
                for (int r = 0; r < nb; r++) store_f(dt, j->outv, (m0 + mm) * j->N + b0 + r, acc[mm][r]);
        }
    }
}

/* Columns n0..n1 (a multiple of gs wide, at most FP_COLS): their code values in vb
 * (k-major), then per row of x one pass over k, each column its own chain. */
FP_INLINE void fp_cols_n(const qmm_job *j, int64_t n0, int64_t n1, float *restrict vb,
                         const int dt)
{
    const int gs = j->gs;
    const int64_t K = j->K, N = j->N, w = n1 - n0, ng = w / gs;
    for (int64_t k = 0; k < K; k++) {
        const uint8_t *row = j->w + k * j->row_bytes;
        for (int64_t c = 0; c < w; c++)
            vb[k * w + c] = fp_value(j->mode, get_code(row, n0 + c, j->bits));
    }
    for (int64_t m = 0; m < j->M; m++) {
        fpv o[FP_COLS / FPB];
        for (int c = 0; c < FP_COLS / FPB; c++) o[c] = FPV_ZERO;
        for (int64_t k = 0; k < K; k++) {
            const float xk = load_f(dt, j->xv, m * K + k);
            for (int64_t q = 0; q < ng; q++) {
                const int64_t g = n0 / gs + q;
                const float t = round_to(dt, xk * round_to(dt, fp_scale(j->mode,
                                                                        j->s8[k * j->srow + g])
                                                                * j->gmul));
                for (int c = (int)(q * gs); c < (q + 1) * gs; c += FPB) {
                    fpv v;
                    memcpy(&v, vb + k * w + c, sizeof v);
                    fpv p = t * v;
                    fpv_round(&p, dt);
                    o[c / FPB] = o[c / FPB] + p;
                    fpv_round(&o[c / FPB], dt);
                }
            }
        }
        for (int64_t c = 0; c < w; c++) store_f(dt, j->outv, m * N + n0 + c, o[c / FPB][c % FPB]);
    }
}

#define FP_BODY(j, n0, n1, vb)                                                        \
    switch ((j)->xdt * 2 + (j)->transpose) {                                          \
    case MLXC_FLOAT16 * 2 + 1: fp_cols_t(j, n0, n1, vb, MLXC_FLOAT16); break;         \
    case MLXC_FLOAT16 * 2: fp_cols_n(j, n0, n1, vb, MLXC_FLOAT16); break;             \
    case MLXC_BFLOAT16 * 2 + 1: fp_cols_t(j, n0, n1, vb, MLXC_BFLOAT16); break;       \
    case MLXC_BFLOAT16 * 2: fp_cols_n(j, n0, n1, vb, MLXC_BFLOAT16); break;           \
    case MLXC_FLOAT32 * 2 + 1: fp_cols_t(j, n0, n1, vb, MLXC_FLOAT32); break;         \
    default: fp_cols_n(j, n0, n1, vb, MLXC_FLOAT32); break;                           \
    }

/* The bodies compiled for each SIMD level, none with fma (so no fused multiply-add can
 * be formed): the same IEEE operations per chain, so every level gives the same bits. */
NO_CONTRACT static void fp_cols_scalar(const qmm_job *j, int64_t n0, int64_t n1, float *vb)
{
    FP_BODY(j, n0, n1, vb)
}
#ifdef Q_X86
NO_CONTRACT __attribute__((target("avx2"))) static void fp_cols_avx2(const qmm_job *j, int64_t n0,
                                                                      int64_t n1, float *vb)
{
    FP_BODY(j, n0, n1, vb)
}
NO_CONTRACT __attribute__((target("avx512f,avx512vl,avx2"))) static void fp_cols_avx512(
    const qmm_job *j, int64_t n0, int64_t n1, float *vb)
{
    FP_BODY(j, n0, n1, vb)
}
#endif

static void fp_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const qmm_job *j = ctx;
    int64_t n0 = t * FP_COLS, n1 = qmin64(n0 + FP_COLS, j->N);
    float *vb = malloc((size_t)(j->K * (j->transpose ? FPB : FP_COLS) + 1) * sizeof(float));
    if (!vb) { __atomic_store_n(&((qmm_job *)ctx)->oom, 1, __ATOMIC_RELAXED); return; }
#ifdef Q_X86
    if (j->isa >= MLXC_ISA_AVX512) fp_cols_avx512(j, n0, n1, vb);
    else if (j->isa >= MLXC_ISA_AVX2) fp_cols_avx2(j, n0, n1, vb);
    else
#endif
    fp_cols_scalar(j, n0, n1, vb);
    free(vb);
}

static int qmm_fp(qmm_job *j)
{
    int64_t tasks = (j->N + FP_COLS - 1) / FP_COLS;
    int nthr = (double)j->N * (double)j->K * (double)j->M < 65536.0 ? 1 : mlxc_num_threads();
    mlxc_parallel_for(tasks, nthr, fp_task, j);
    return j->oom ? MLXC_ERR_NOMEM : MLXC_OK;
}

int mlxc_qmm(int mode, int64_t M, int64_t N, int64_t K, const float *x, const uint32_t *w,
             const void *scales, const float *biases, int transpose, int group_size, int bits,
             const float *global_scale, float *out)
{
    if (!valid_mode(mode, group_size, bits)) return MLXC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0) return MLXC_OK;
    qmm_job j;
    memset(&j, 0, sizeof j);
    j.mode = mode; j.gs = group_size; j.bits = bits; j.transpose = transpose;
    j.M = M; j.N = N; j.K = K;
    j.x = x;
    j.w = (const uint8_t *)w;
    int64_t inner = transpose ? K : N;     /* the packed (grouped) dimension */
    j.row_bytes = inner * bits / 8;
    j.row_words = inner * bits / 32;
    j.srow = inner / group_size;
    if (mode == MODE_AFFINE) { j.s = scales; j.b = biases; }
    else j.s8 = scales;
    j.gmul = mode == MODE_NVFP4 && global_scale ? *global_scale / (448.0f * 6.0f) : 1.0f;
    j.out = out;
    j.isa = mlxc_isa_pick(mlxc_levels_quant);
    if (K <= 0) { memset(out, 0, (size_t)(M * N) * sizeof(float)); return MLXC_OK; }
    if (mode != MODE_AFFINE) {
        j.xdt = MLXC_FLOAT32; j.xv = x; j.outv = out;
        return qmm_fp(&j);
    }
    if (transpose && M <= MV_MAXM && simd_affine(&j)) return qmm_matvec(&j);
    return mlxc_gemm_f32_packb(M, N, K, x, K, 1, qmm_packb, &j, out);
}

/* The floating modes with a float16 / bfloat16 x (qmm_fp with every step rounded to
 * that dtype, as MLX computes). */
int mlxc_qmm_fp_half(int mode, int dtype, int64_t M, int64_t N, int64_t K, const uint16_t *x,
                     const uint32_t *w, const uint8_t *scales, int transpose, int group_size,
                     int bits, uint16_t *out)
{
    if (mode == MODE_AFFINE || !valid_mode(mode, group_size, bits)) return MLXC_ERR_UNSUPPORTED;
    if (dtype != MLXC_FLOAT16 && dtype != MLXC_BFLOAT16) return MLXC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0) return MLXC_OK;
    qmm_job j;
    memset(&j, 0, sizeof j);
    j.mode = mode; j.gs = group_size; j.bits = bits; j.transpose = transpose;
    j.M = M; j.N = N; j.K = K;
    j.w = (const uint8_t *)w;
    int64_t inner = transpose ? K : N;
    j.row_bytes = inner * bits / 8;
    j.srow = inner / group_size;
    j.s8 = scales;
    j.gmul = 1.0f;
    j.xdt = dtype; j.xv = x; j.outv = out;
    j.isa = mlxc_isa_pick(mlxc_levels_quant);
    return qmm_fp(&j);
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef Q_X86
const unsigned mlxc_levels_quant = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_quant = MLXC_LEVELS_SCALAR;
#endif
