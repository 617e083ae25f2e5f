/* mlxc_scan: cumulative op over the last dim.  The accumulator keeps the
 * compute type (float for half types) and is rounded only when stored.
 *
 * float32 cumsum runs in groups of 8 elements (in scan order): each group's
 * prefix sums p[0..7] are formed in 3 steps (p[j] += p[j - w], w = 1, 2, 4, a
 * zero where j < w), the outputs are c + p[j] and the running value moves on
 * as c + p[7].  The scalar code does the same additions as the AVX2 code
 * (used at the AVX-512 level too), so results do not depend on the SIMD
 * level.  Rows of >= SC_LONG elements are cut into SC_BLK blocks: the blocks'
 * totals (the same group scan from 0), then the blocks scanned from the
 * running sum of the totals before them; the blocks run on the thread pool
 * (or one after another, with the same additions).  Many rows: rows split
 * over the pool.  Nothing depends on the thread count.
 *
 * LOGCUMSUMEXP keeps the running log(sum(exp)) in the compute type (float for
 * half types, double for float64), one element at a time. */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SCAN_X86 1
#define TGT_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

#define PAR_MIN ((int64_t)1 << 18)   /* elements below which the caller runs alone */
#define SC_BLK ((int64_t)1 << 15)    /* block of a long float32 cumsum (multiple of 8) */
#define SC_LONG (4 * SC_BLK)
#define TASK_WORK ((int64_t)1 << 15)

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

typedef void (*scan_fn)(void *out, const void *in, int64_t s, int64_t n, int reverse, int inclusive);

#define SC_ADDI(a, v, W) ((a) + (W)(v))
#define SC_MULI(a, v, W) ((a) * (W)(v))
#define SC_ADD(a, v, W) ((a) + (v))
#define SC_MUL(a, v, W) ((a) * (v))
#define SC_CMUL(a, v, W) mlxc_cmul(a, v)
#define SC_MAX(a, v, W) (((v) > (a) || (v) != (v)) ? (v) : (a))   /* NaN sticks */
#define SC_MIN(a, v, W) (((v) < (a) || (v) != (v)) ? (v) : (a))
#define SC_OR(a, v, W) ((uint8_t)((a) | (v)))
#define SC_AND(a, v, W) ((uint8_t)((a) & (v)))
#define SC_LAE(a, v, W) _Generic((a), double: lae_f64, default: lae_f32)(a, v)

/* log(exp(a) + exp(x)) from the larger operand, so nothing overflows; equal
 * operands (also both +inf or both -inf, where x - a is NaN) add log 2 */
#define GEN_LAE(T, SFX, LOG1P, EXP)                                                 \
static inline T lae_##SFX(T a, T x)                                                 \
{                                                                                   \
    if (a != a || x != x) return a + x;                                             \
    if (a == x) return a + (T)0.6931471805599453;                                   \
    return a > x ? a + LOG1P(EXP(x - a)) : x + LOG1P(EXP(a - x));                   \
}
GEN_LAE(float, f32, log1pf, expf)
GEN_LAE(double, f64, log1p, exp)

/* complex64, as MLX: ordered by real part, then imaginary part; the running extreme
 * running max is kept only while it is above the new value (a NaN is taken, and then
 * replaced), the running min is replaced only by a value below it (a NaN never is); log-add-exp of
 * the larger plus log(1 + exp(smaller - larger)), NaN giving NaN + NaN i */
static inline int c64_lt(mlxc_c64 a, mlxc_c64 b)
{
    return crealf(a) < crealf(b) || (crealf(a) == crealf(b) && cimagf(a) < cimagf(b));
}
static inline mlxc_c64 lae_c64(mlxc_c64 a, mlxc_c64 x)
{
    if (crealf(a) != crealf(a) || cimagf(a) != cimagf(a) || crealf(x) != crealf(x) ||
        cimagf(x) != cimagf(x))
        return CMPLXF(NAN, NAN);
    if (crealf(a) == crealf(x) && cimagf(a) == cimagf(x))
        return CMPLXF(crealf(a) + 0.6931471805599453f, cimagf(a));
    mlxc_c64 hi = c64_lt(x, a) ? a : x, lo = c64_lt(x, a) ? x : a;
    return hi + clogf(1.0f + cexpf(lo - hi));
}
#define SC_CMAX(a, v, W) (c64_lt(v, a) ? (a) : (v))
#define SC_CMIN(a, v, W) (c64_lt(v, a) ? (v) : (a))
#define SC_CLAE(a, v, W) lae_c64(a, v)

/* op, type name, accumulator type, identity, step */
#define GEN_SCAN(op, N, AT, INIT, STEP)                                             \
static void scan_##op##_##N(void *o_, const void *i_, int64_t s, int64_t n,         \
                            int reverse, int inclusive)                             \
{                                                                                   \
    STY_##N *restrict o = o_;                                                       \
    const STY_##N *restrict x = i_;                                                 \
    AT a = INIT;                                                                    \
    int64_t i0 = reverse ? n - 1 : 0, d = reverse ? -1 : 1;                         \
    if (inclusive) {                                                                \
        for (int64_t k = 0, i = i0; k < n; k++, i += d) {                           \
            CTY_##N v = LD_##N(x[i * s]);                                           \
            a = STEP(a, v, AT);                                                     \
            o[i] = SV_##N(a);                                                       \
        }                                                                           \
    } else {                                                                        \
        for (int64_t k = 0, i = i0; k < n; k++, i += d) {                           \
            CTY_##N v = LD_##N(x[i * s]);                                           \
            o[i] = SV_##N(a);                                                       \
            a = STEP(a, v, AT);                                                     \
        }                                                                           \
    }                                                                               \
}
#define GEN_SCAN_INT(N, u)                                                          \
    GEN_SCAN(CUMSUM, N, WTY_##N, 0, SC_ADDI) GEN_SCAN(CUMPROD, N, WTY_##N, 1, SC_MULI) \
    GEN_SCAN(CUMMAX, N, STY_##N, MINV_##N, SC_MAX) GEN_SCAN(CUMMIN, N, STY_##N, MAXV_##N, SC_MIN)
#define GEN_SCAN_FLT(N, u)                                                          \
    GEN_SCAN(CUMSUM, N, CTY_##N, 0, SC_ADD) GEN_SCAN(CUMPROD, N, CTY_##N, 1, SC_MUL) \
    GEN_SCAN(CUMMAX, N, CTY_##N, -(CTY_##N)INFINITY, SC_MAX)                        \
    GEN_SCAN(CUMMIN, N, CTY_##N, (CTY_##N)INFINITY, SC_MIN)                        \
    GEN_SCAN(LOGCUMSUMEXP, N, CTY_##N, -(CTY_##N)INFINITY, SC_LAE)
TL_INT(GEN_SCAN_INT, 0)
TL_FLT(GEN_SCAN_FLT, 0)
GEN_SCAN(CUMSUM, b, uint8_t, 0, SC_OR)
GEN_SCAN(CUMMAX, b, uint8_t, 0, SC_OR)
GEN_SCAN(CUMPROD, b, uint8_t, 1, SC_AND)
GEN_SCAN(CUMMIN, b, uint8_t, 1, SC_AND)
GEN_SCAN(CUMSUM, c64, mlxc_c64, CMPLXF(0.0f, 0.0f), SC_ADD)
GEN_SCAN(CUMPROD, c64, mlxc_c64, CMPLXF(1.0f, 0.0f), SC_CMUL)
GEN_SCAN(CUMMAX, c64, mlxc_c64, CMPLXF(-INFINITY, -INFINITY), SC_CMAX)
GEN_SCAN(CUMMIN, c64, mlxc_c64, CMPLXF(INFINITY, INFINITY), SC_CMIN)
GEN_SCAN(LOGCUMSUMEXP, c64, mlxc_c64, CMPLXF(-INFINITY, 0.0f), SC_CLAE)

/* ------------------------------------------------------ float32 cumsum */
/* y[k] = x[k] (forward) or x[n-1-k] (reverse); the inclusive value of y-index
 * k goes to y-position k (inclusive) or k + 1 (exclusive, dropped past n-1) */
static inline float ld_y(const float *x, int64_t s, int64_t n, int64_t k, int rev)
{
    return x[(rev ? n - 1 - k : k) * s];
}
static inline void st_y(float *out, int64_t n, int64_t k, int rev, int excl, float v)
{
    int64_t kk = k + excl;
    if (kk < n) out[rev ? n - 1 - kk : kk] = v;
}

/* group scan of y-indices [k0, k1) (k0 a multiple of 8) from the running
 * value c; out NULL: only the running value at k1 (what the last full group
 * leaves) is returned */
static float gscan_scalar(float *out, const float *x, int64_t s, int64_t n, int64_t k0,
                          int64_t k1, float c, int rev, int excl)
{
    for (int64_t k = k0; k < k1; k += 8) {
        int m = (int)imin(8, k1 - k);
        float p[8], q[8];
        for (int j = 0; j < 8; j++) p[j] = j < m ? ld_y(x, s, n, k + j, rev) : 0.0f;
        for (int w = 1; w < 8; w <<= 1) {
            for (int j = 0; j < 8; j++) q[j] = p[j] + (j >= w ? p[j - w] : 0.0f);
            memcpy(p, q, sizeof p);
        }
        if (out)
            for (int j = 0; j < m; j++) st_y(out, n, k + j, rev, excl, c + p[j]);
        c = c + p[7];
    }
    return c;
}

typedef float (*gscan_fn)(float *, const float *, int64_t, int64_t, int64_t, float, int, int);
static float gscan_c_scalar(float *out, const float *x, int64_t n, int64_t k0, int64_t k1,
                            float c, int rev, int excl)
{
    return gscan_scalar(out, x, 1, n, k0, k1, c, rev, excl);
}

#ifdef SCAN_X86
TGT_AVX2 static float gscan_avx2(float *out, const float *x, int64_t n, int64_t k0, int64_t k1,
                                 float c0, int rev, int excl)
{
    const __m256i sh1 = _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6);
    const __m256i sh2 = _mm256_setr_epi32(0, 0, 0, 1, 2, 3, 4, 5);
    const __m256i sh4 = _mm256_setr_epi32(0, 0, 0, 0, 0, 1, 2, 3);
    const __m256i b7 = _mm256_set1_epi32(7), rv = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    const __m256 z = _mm256_setzero_ps();
    __m256 c = _mm256_set1_ps(c0);
    int64_t k = k0;
    for (; k + 8 <= k1; k += 8) {
        __m256 p = rev ? _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + n - 8 - k), rv)
                       : _mm256_loadu_ps(x + k);
        p = _mm256_add_ps(p, _mm256_blend_ps(_mm256_permutevar8x32_ps(p, sh1), z, 0x01));
        p = _mm256_add_ps(p, _mm256_blend_ps(_mm256_permutevar8x32_ps(p, sh2), z, 0x03));
        p = _mm256_add_ps(p, _mm256_blend_ps(_mm256_permutevar8x32_ps(p, sh4), z, 0x0F));
        if (out) {
            __m256 v = _mm256_add_ps(c, p);
            if (!rev) {
                if (!excl) _mm256_storeu_ps(out + k, v);
                else if (k + 9 <= n) _mm256_storeu_ps(out + k + 1, v);
                else {
                    float t[8];
                    _mm256_storeu_ps(t, v);
                    for (int j = 0; j < 8; j++) st_y(out, n, k + j, 0, 1, t[j]);
                }
            } else {
                v = _mm256_permutevar8x32_ps(v, rv);
                if (!excl) _mm256_storeu_ps(out + n - 8 - k, v);
                else if (n - 9 - k >= 0) _mm256_storeu_ps(out + n - 9 - k, v);
                else {
                    float t[8];
                    _mm256_storeu_ps(t, v);     /* t[7 - j]: y-index k + j */
                    for (int j = 0; j < 8; j++) st_y(out, n, k + j, 1, 1, t[7 - j]);
                }
            }
        }
        c = _mm256_add_ps(c, _mm256_permutevar8x32_ps(p, b7));
    }
    return gscan_scalar(out, x, 1, n, k, k1, _mm256_cvtss_f32(c), rev, excl);
}
#endif

typedef struct {
    gscan_fn g;                  /* contiguous rows */
    int nthr, inner;
} sctx;

static float gscan(const sctx *S, float *out, const float *x, int64_t s, int64_t n, int64_t k0,
                   int64_t k1, float c, int rev, int excl)
{
    if (s == 1) return S->g(out, x, n, k0, k1, c, rev, excl);
    return gscan_scalar(out, x, s, n, k0, k1, c, rev, excl);
}

typedef struct {
    const sctx *S;
    float *out, *tot;
    const float *x;
    int64_t s, n;
    int rev, excl, pass;
} csjob;
static void cs_task(void *ctx, int64_t b, int tid)
{
    const csjob *J = ctx;
    (void)tid;
    int64_t k0 = b * SC_BLK, k1 = imin(J->n, k0 + SC_BLK);
    if (J->pass == 0) J->tot[b] = gscan(J->S, NULL, J->x, J->s, J->n, k0, k1, 0.0f, J->rev, 0);
    else gscan(J->S, J->out, J->x, J->s, J->n, k0, k1, J->tot[b], J->rev, J->excl);
}

static void cs_f32_row(const sctx *S, float *out, const float *x, int64_t s, int64_t n,
                       int rev, int excl)
{
    if (excl) out[rev ? n - 1 : 0] = 0.0f;
    if (n < SC_LONG) { gscan(S, out, x, s, n, 0, n, 0.0f, rev, excl); return; }
    int64_t nb = (n + SC_BLK - 1) / SC_BLK;
    float *tot = (S->inner && S->nthr > 1) ? malloc((size_t)nb * sizeof(float)) : NULL;
    if (!tot) {
        /* the same additions, one block after another */
        float c = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            int64_t k0 = b * SC_BLK, k1 = imin(n, k0 + SC_BLK);
            float t = b + 1 < nb ? gscan(S, NULL, x, s, n, k0, k1, 0.0f, rev, 0) : 0.0f;
            gscan(S, out, x, s, n, k0, k1, c, rev, excl);
            c = c + t;
        }
        return;
    }
    csjob J = {S, out, tot, x, s, n, rev, excl, 0};
    mlxc_parallel_for(nb - 1, S->nthr, cs_task, &J);
    float c = 0.0f;
    for (int64_t b = 0; b < nb; b++) {     /* block totals -> running values */
        float t = b + 1 < nb ? tot[b] : 0.0f;
        tot[b] = c;
        c = c + t;
    }
    J.pass = 1;
    mlxc_parallel_for(nb, S->nthr, cs_task, &J);
    free(tot);
}

#define ENT_SCAN(N, u) [MLXC_CUMSUM][CODE_##N] = scan_CUMSUM_##N, \
    [MLXC_CUMPROD][CODE_##N] = scan_CUMPROD_##N, [MLXC_CUMMAX][CODE_##N] = scan_CUMMAX_##N, \
    [MLXC_CUMMIN][CODE_##N] = scan_CUMMIN_##N,
#define ENT_LCSE(N, u) [MLXC_LOGCUMSUMEXP][CODE_##N] = scan_LOGCUMSUMEXP_##N,
static const scan_fn scan_tab[MLXC_NUM_SCAN][MLXC_NUM_DTYPES] = {
    TL_REAL(ENT_SCAN, 0) TL_FLT(ENT_LCSE, 0)
    [MLXC_CUMSUM][MLXC_COMPLEX64] = scan_CUMSUM_c64, [MLXC_CUMPROD][MLXC_COMPLEX64] = scan_CUMPROD_c64,
    [MLXC_CUMMAX][MLXC_COMPLEX64] = scan_CUMMAX_c64, [MLXC_CUMMIN][MLXC_COMPLEX64] = scan_CUMMIN_c64,
    [MLXC_LOGCUMSUMEXP][MLXC_COMPLEX64] = scan_LOGCUMSUMEXP_c64,
};

typedef struct {
    sctx S;
    scan_fn fn;
    int f32sum, reverse, inclusive;
    void *out;
    const void *in;
    mlxc_nd O;
    int64_t z, s, n, chunk, nrows;
} sjob;

static void scan_task(void *ctx, int64_t t, int tid)
{
    const sjob *J = ctx;
    const mlxc_nd *O = &J->O;
    (void)tid;
    int64_t lo = t * J->chunk, hi = imin(lo + J->chunk, J->nrows);
    int64_t ctr[MLXC_MAXD], off[2] = {0, 0}, idx = lo;
    for (int d = 0; d < O->ndim; d++) {
        ctr[d] = idx % O->shape[d];
        idx /= O->shape[d];
        if (d > 0) off[1] += ctr[d] * O->st[1][d];
    }
    int64_t j = ctr[0];
    /* out rows are contiguous of length n, visited in row-major order */
    for (int64_t i = lo; i < hi;) {
        int64_t e = imin(O->shape[0] - j, hi - i);
        for (int64_t k = 0; k < e; k++) {
            char *o = (char *)J->out + (i + k) * J->n * J->z;
            const char *x = (const char *)J->in + (off[1] + (j + k) * O->st[1][0]) * J->z;
            if (J->f32sum) cs_f32_row(&J->S, (float *)o, (const float *)x, J->s, J->n,
                                      J->reverse, !J->inclusive);
            else J->fn(o, x, J->s, J->n, J->reverse, J->inclusive);
        }
        i += e;
        j = 0;
        if (i < hi) mlxc_nd_next(O, ctr, off);
    }
}

int mlxc_scan(int op, int dtype, void *out, const void *in,
              int ndim, const int64_t *shape, const int64_t *strides,
              int reverse, int inclusive)
{
    if (op < 0 || op >= MLXC_NUM_SCAN || dtype < 0 || dtype >= MLXC_NUM_DTYPES || ndim < 1)
        return MLXC_ERR_UNSUPPORTED;
    scan_fn fn = scan_tab[op][dtype];
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    sjob J;
    J.n = shape[ndim - 1];
    if (J.n == 0) return MLXC_OK;
    const int64_t *so[2] = {NULL, strides};
    J.nrows = mlxc_nd_init(&J.O, 2, ndim - 1, shape, so);
    if (J.nrows == 0) return MLXC_OK;
    J.fn = fn;
    J.f32sum = op == MLXC_CUMSUM && dtype == MLXC_FLOAT32;
    J.reverse = reverse;
    J.inclusive = inclusive;
    J.out = out;
    J.in = in;
    J.z = (int64_t)mlxc_itemsize(dtype);
    J.s = strides[ndim - 1];
    J.S.g = gscan_c_scalar;
#ifdef SCAN_X86
    if (mlxc_isa_pick(mlxc_levels_scan) >= MLXC_ISA_AVX2) J.S.g = gscan_avx2;
#endif
    J.S.nthr = J.nrows * J.n < PAR_MIN ? 1 : mlxc_num_threads();
    J.S.inner = 0;
    J.chunk = imax(1, TASK_WORK / J.n);
    int64_t ntask = (J.nrows + J.chunk - 1) / J.chunk;
    if (J.S.nthr > 1 && J.nrows < 2 * J.S.nthr) {
        /* few long rows: one at a time, a float32 cumsum split inside */
        J.S.inner = 1;
        J.chunk = 1;
        ntask = J.nrows;
        for (int64_t t = 0; t < ntask; t++) scan_task(&J, t, 0);
    } else if (J.S.nthr == 1 || ntask == 1) {
        for (int64_t t = 0; t < ntask; t++) scan_task(&J, t, 0);
    } else {
        mlxc_parallel_for(ntask, J.S.nthr, scan_task, &J);
    }
    return MLXC_OK;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef SCAN_X86
const unsigned mlxc_levels_scan = MLXC_LEVELS_AVX2;
#else
const unsigned mlxc_levels_scan = MLXC_LEVELS_SCALAR;
#endif
