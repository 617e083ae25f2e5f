/* mlxc_matmul: GEMM in the BLIS structure.
 *
 * Five loops around a register-tiled micro-kernel: NC columns of B are split
 * in KC-deep slabs packed into NR-wide panels (the slab stays in L3, a panel
 * in L1); MC rows of A are packed into MR-row panels (in L2); the micro-kernel
 * multiplies one MR x KC panel by one KC x NR panel into an MR x NR tile of C
 * held in registers.  Packing reads any strides (transposes are free) and
 * converts float16/bfloat16 to float32; padding the panels with zeros means
 * the micro-kernel never sees an edge (edge tiles go through a scratch tile).
 *
 * Threads: C is cut into rectangles; each is computed by one thread running
 * the loops above with its own packing buffers.  Every element of C is
 * summed in the same order whatever the cut (KC slabs in order, k in order
 * inside the micro-kernel), so results do not depend on the thread count.
 *
 * Other paths: matrix-vector (M == 1 or N == 1) as 4-row dot products or
 * column axpys, tiny products without packing, complex64 as four real GEMMs.
 * Kernels and blocking sizes per SIMD level live in the table `kerns`.
 *
 * addmm epilogue (out = alpha * A@B + beta * C): every path applies it to a
 * block of finished sums while the block is still in cache: the packed path
 * to each MC x NC block of C right after its last KC slab, row by row (per
 * register tile, C's rows N apart cost three times as much), matvec to each
 * row chunk, the no-packing path to each matrix, half types to the float
 * accumulator of a thread's tile before the single rounding, complex64 while
 * interleaving the planes.  It is elementwise, so thread cuts cannot change it.
 */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GEMM_X86 1
#include <immintrin.h>
#define TGT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TGT_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")))
#endif
#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define GEMM_NEON 1             /* Advanced SIMD is part of the arm64 baseline */
#include <arm_neon.h>
#endif
#define TGT_NONE

#define MAX_MR 16
#define MAX_NR 32

typedef void (*ukr_f32_t)(int64_t kc, const float *restrict a, const float *restrict b,
                          float *restrict c, int64_t ldc, int beta);
typedef void (*ukr_f64_t)(int64_t kc, const double *restrict a, const double *restrict b,
                          double *restrict c, int64_t ldc, int beta);
/* out[r] = sum_p a_r[p] * x[p] for four rows */
typedef void (*dot4_f32_t)(const float *const *a, const float *x, int64_t k, float *out);
typedef void (*dot4_f64_t)(const double *const *a, const double *x, int64_t k, double *out);
/* y[0:m] = sum_p a[p*lda : p*lda+m] * x[p]  (columns of A contiguous) */
typedef void (*colmv_f32_t)(int64_t m, int64_t k, const float *a, int64_t lda, const float *x, float *y);
typedef void (*colmv_f64_t)(int64_t m, int64_t k, const double *a, int64_t lda, const double *x, double *y);
/* C (M x N contiguous) = A @ B without packing */
typedef void (*small_f32_t)(int64_t M, int64_t N, int64_t K, const float *A, int64_t ars, int64_t acs,
                            const float *B, int64_t brs, int64_t bcs, float *C);
typedef void (*small_f64_t)(int64_t M, int64_t N, int64_t K, const double *A, int64_t ars, int64_t acs,
                            const double *B, int64_t brs, int64_t bcs, double *C);

struct blk { int mr, nr, kc, mc, nc; };

/* The addmm epilogue.  C == NULL (beta == 0): C is never read, so its NaN/inf
 * cannot leak into the result. */
struct epi {
    double alpha, beta;
    const char *C;              /* addend, storage of the output dtype, or NULL */
    int64_t bs, rs, cs;         /* its batch / row / column strides (elements, may be 0) */
};

/* o = alpha * o + beta * C over an m x n block (row stride ldo) that sits at
 * rows i0.., columns j0.. of matrix bi; arithmetic in T (float for half types,
 * rounded once by the caller).  No FMA contraction (ISO C, baseline target),
 * so every element rounds the same way wherever the block boundaries fall. */
#define GEN_EPI(T, N)                                                               \
static void epi_##N(const struct epi *e, T *o, int64_t ldo, int64_t bi,             \
                    int64_t i0, int64_t j0, int64_t m, int64_t n)                   \
{                                                                                   \
    const T al = (T)e->alpha, be = (T)e->beta;                                      \
    if (!e->C) {                                                                    \
        if (e->alpha != 1)                                                          \
            for (int64_t r = 0; r < m; r++)                                         \
                for (int64_t q = 0; q < n; q++) o[r * ldo + q] = al * o[r * ldo + q]; \
        return;                                                                     \
    }                                                                               \
    const STY_##N *c = (const STY_##N *)e->C + bi * e->bs + i0 * e->rs + j0 * e->cs; \
    for (int64_t r = 0; r < m; r++) {                                               \
        T *restrict orow = o + r * ldo;                                             \
        const STY_##N *crow = c + r * e->rs;                                        \
        if (e->cs == 1) {                                                           \
            for (int64_t q = 0; q < n; q++) orow[q] = al * orow[q] + be * LD_##N(crow[q]); \
        } else if (e->cs == 0) {        /* C broadcast along the row */             \
            const T v = be * LD_##N(crow[0]);                                       \
            for (int64_t q = 0; q < n; q++) orow[q] = al * orow[q] + v;             \
        } else {                                                                    \
            for (int64_t q = 0; q < n; q++)                                         \
                orow[q] = al * orow[q] + be * LD_##N(crow[q * e->cs]);              \
        }                                                                           \
    }                                                                               \
}
GEN_EPI(float, f32)
GEN_EPI(double, f64)
GEN_EPI(float, f16)
GEN_EPI(float, bf16)

#define REP4(X, ...) X(0, __VA_ARGS__) X(1, __VA_ARGS__) X(2, __VA_ARGS__) X(3, __VA_ARGS__)
#define REP6(X, ...) REP4(X, __VA_ARGS__) X(4, __VA_ARGS__) X(5, __VA_ARGS__)
#define REP8(X, ...) REP6(X, __VA_ARGS__) X(6, __VA_ARGS__) X(7, __VA_ARGS__)
#define REP12(X, ...) REP8(X, __VA_ARGS__) X(8, __VA_ARGS__) X(9, __VA_ARGS__) \
    X(10, __VA_ARGS__) X(11, __VA_ARGS__)
#define REP14(X, ...) REP12(X, __VA_ARGS__) X(12, __VA_ARGS__) X(13, __VA_ARGS__)

/* ------------------------------------------------------------ micro-kernels */

/* Portable: MR x NR accumulators in an array gcc keeps in (SSE) registers. */
#define GEN_UKR_SCALAR(NAME, T, MR, NR)                                             \
static void NAME(int64_t kc, const T *restrict a, const T *restrict b,              \
                 T *restrict c, int64_t ldc, int beta)                              \
{                                                                                   \
    T acc[MR][NR];                                                                  \
    for (int r = 0; r < MR; r++)                                                    \
        for (int q = 0; q < NR; q++) acc[r][q] = 0;                                 \
    for (int64_t p = 0; p < kc; p++, a += MR, b += NR)                              \
        for (int r = 0; r < MR; r++)                                                \
            for (int q = 0; q < NR; q++) acc[r][q] += a[r] * b[q];                  \
    for (int r = 0; r < MR; r++)                                                    \
        for (int q = 0; q < NR; q++)                                                \
            c[r * ldc + q] = beta ? c[r * ldc + q] + acc[r][q] : acc[r][q];         \
}
GEN_UKR_SCALAR(ukr_f32_scalar, float, 4, 8)
GEN_UKR_SCALAR(ukr_f64_scalar, double, 4, 4)

#ifdef GEMM_X86
/* x86: MR rows x two vectors.  Per k: two loads of B, MR broadcasts of A,
 * 2*MR FMAs into named accumulators (named, so they stay in registers). */
#define UK_DECL(r, V, Z) V c##r##0 = Z(), c##r##1 = Z();
#define UK_FMA(r, V, BC, FMA)                                                       \
    { V t_ = BC(a + r); c##r##0 = FMA(t_, b0, c##r##0); c##r##1 = FMA(t_, b1, c##r##1); }
#define UK_PF(r, W) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);         \
    _mm_prefetch((const char *)(c + r * ldc + 2 * W - 1), _MM_HINT_T0);
#define UK_ST(r, W, LDU, STU, ADD)                                                  \
    if (beta) {                                                                     \
        c##r##0 = ADD(LDU(c + r * ldc), c##r##0);                                   \
        c##r##1 = ADD(LDU(c + r * ldc + W), c##r##1);                               \
    }                                                                               \
    STU(c + r * ldc, c##r##0); STU(c + r * ldc + W, c##r##1);

#define GEN_UKR_X86(NAME, TGT, T, V, W, MR, REP, Z, BC, FMA, LDU, STU, ADD)          \
TGT static void NAME(int64_t kc, const T *restrict a, const T *restrict b,          \
                     T *restrict c, int64_t ldc, int beta)                          \
{                                                                                   \
    REP(UK_DECL, V, Z)                                                              \
    REP(UK_PF, W)                                                                   \
    for (int64_t p = 0; p < kc; p++) {                                              \
        V b0 = LDU(b), b1 = LDU(b + W);                                             \
        REP(UK_FMA, V, BC, FMA)                                                     \
        a += MR;                                                                    \
        b += 2 * W;                                                                 \
    }                                                                               \
    REP(UK_ST, W, LDU, STU, ADD)                                                    \
}

#define BC256S(p) _mm256_broadcast_ss(p)
#define BC256D(p) _mm256_broadcast_sd(p)
#define BC512S(p) _mm512_set1_ps(*(p))
#define BC512D(p) _mm512_set1_pd(*(p))
GEN_UKR_X86(ukr_f32_avx2, TGT_AVX2, float, __m256, 8, 6, REP6, _mm256_setzero_ps, BC256S,
            _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps)
GEN_UKR_X86(ukr_f64_avx2, TGT_AVX2, double, __m256d, 4, 6, REP6, _mm256_setzero_pd, BC256D,
            _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_add_pd)
GEN_UKR_X86(ukr_f32_avx512, TGT_AVX512, float, __m512, 16, 12, REP12, _mm512_setzero_ps, BC512S,
            _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps)
/* 8 rows: for row counts that 12 would pad (32 = 4 x 8, not 3 x 12) */
GEN_UKR_X86(ukr_f32_avx512_8, TGT_AVX512, float, __m512, 16, 8, REP8, _mm512_setzero_ps, BC512S,
            _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps)
GEN_UKR_X86(ukr_f64_avx512, TGT_AVX512, double, __m512d, 8, 12, REP12, _mm512_setzero_pd, BC512D,
            _mm512_fmadd_pd, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_add_pd)
#endif

#ifdef GEMM_NEON
/* arm64: 32 vector registers.  float32 8 x 12: per k two loads of A (rows
 * 0-3, 4-7), three of B, 24 FMAs taking A's element from a register lane
 * (vfmaq_laneq), so no broadcasts; 24 accumulators + 5 operands = 29.
 * float64 6 x 8: three loads of A, four of B, 24 FMAs; 31 registers. */
#define NF_ACC3(r) float32x4_t c##r##0 = vdupq_n_f32(0), c##r##1 = c##r##0, c##r##2 = c##r##0;
#define NF_FMA3(r, A, L) c##r##0 = vfmaq_laneq_f32(c##r##0, b0, A, L);                 \
    c##r##1 = vfmaq_laneq_f32(c##r##1, b1, A, L); c##r##2 = vfmaq_laneq_f32(c##r##2, b2, A, L);
#define NF_ST3(r) {                                                                 \
    float *o_ = c + r * ldc;                                                        \
    if (beta) {                                                                     \
        c##r##0 = vaddq_f32(vld1q_f32(o_), c##r##0);                                \
        c##r##1 = vaddq_f32(vld1q_f32(o_ + 4), c##r##1);                            \
        c##r##2 = vaddq_f32(vld1q_f32(o_ + 8), c##r##2);                            \
    }                                                                               \
    vst1q_f32(o_, c##r##0); vst1q_f32(o_ + 4, c##r##1); vst1q_f32(o_ + 8, c##r##2); }

static void ukr_f32_neon(int64_t kc, const float *restrict a, const float *restrict b,
                         float *restrict c, int64_t ldc, int beta)
{
    NF_ACC3(0) NF_ACC3(1) NF_ACC3(2) NF_ACC3(3) NF_ACC3(4) NF_ACC3(5) NF_ACC3(6) NF_ACC3(7)
    for (int r = 0; r < 8; r++) __builtin_prefetch(c + r * ldc, 1);
    for (int64_t p = 0; p < kc; p++, a += 8, b += 12) {
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        NF_FMA3(0, a0, 0) NF_FMA3(1, a0, 1) NF_FMA3(2, a0, 2) NF_FMA3(3, a0, 3)
        NF_FMA3(4, a1, 0) NF_FMA3(5, a1, 1) NF_FMA3(6, a1, 2) NF_FMA3(7, a1, 3)
    }
    NF_ST3(0) NF_ST3(1) NF_ST3(2) NF_ST3(3) NF_ST3(4) NF_ST3(5) NF_ST3(6) NF_ST3(7)
}

#define ND_ACC4(r) float64x2_t c##r##0 = vdupq_n_f64(0), c##r##1 = c##r##0,           \
    c##r##2 = c##r##0, c##r##3 = c##r##0;
#define ND_FMA4(r, A, L) c##r##0 = vfmaq_laneq_f64(c##r##0, b0, A, L);                 \
    c##r##1 = vfmaq_laneq_f64(c##r##1, b1, A, L); c##r##2 = vfmaq_laneq_f64(c##r##2, b2, A, L); \
    c##r##3 = vfmaq_laneq_f64(c##r##3, b3, A, L);
#define ND_ST4(r) {                                                                 \
    double *o_ = c + r * ldc;                                                       \
    if (beta) {                                                                     \
        c##r##0 = vaddq_f64(vld1q_f64(o_), c##r##0);                                \
        c##r##1 = vaddq_f64(vld1q_f64(o_ + 2), c##r##1);                            \
        c##r##2 = vaddq_f64(vld1q_f64(o_ + 4), c##r##2);                            \
        c##r##3 = vaddq_f64(vld1q_f64(o_ + 6), c##r##3);                            \
    }                                                                               \
    vst1q_f64(o_, c##r##0); vst1q_f64(o_ + 2, c##r##1);                             \
    vst1q_f64(o_ + 4, c##r##2); vst1q_f64(o_ + 6, c##r##3); }

static void ukr_f64_neon(int64_t kc, const double *restrict a, const double *restrict b,
                         double *restrict c, int64_t ldc, int beta)
{
    ND_ACC4(0) ND_ACC4(1) ND_ACC4(2) ND_ACC4(3) ND_ACC4(4) ND_ACC4(5)
    for (int r = 0; r < 6; r++) __builtin_prefetch(c + r * ldc, 1);
    for (int64_t p = 0; p < kc; p++, a += 6, b += 8) {
        float64x2_t a0 = vld1q_f64(a), a1 = vld1q_f64(a + 2), a2 = vld1q_f64(a + 4);
        float64x2_t b0 = vld1q_f64(b), b1 = vld1q_f64(b + 2), b2 = vld1q_f64(b + 4),
                    b3 = vld1q_f64(b + 6);
        ND_FMA4(0, a0, 0) ND_FMA4(1, a0, 1) ND_FMA4(2, a1, 0)
        ND_FMA4(3, a1, 1) ND_FMA4(4, a2, 0) ND_FMA4(5, a2, 1)
    }
    ND_ST4(0) ND_ST4(1) ND_ST4(2) ND_ST4(3) ND_ST4(4) ND_ST4(5)
}
#endif

/* ---------------------------------------------------------------- packing */
#define PACK_ROWS(N, W)                                                             \
    for (int64_t p = 0; p < k; p++)                                                 \
        for (int q = 0; q < W; q++) dst[p * W + q] = LD_##N(src[p * rs + q])
/* A panel: m <= MR rows, k columns -> dst[p*MR + r], rows m..MR-1 zero. */
#define GEN_PACK(N, T)                                                              \
static void pack_a_##N(void *dst_, const void *src_, int64_t rs, int64_t cs,        \
                       int64_t m, int64_t k, int MR)                                \
{                                                                                   \
    T *restrict dst = dst_;                                                         \
    const STY_##N *src = src_;                                                      \
    if (rs == 1 && m == MR) {                     /* columns contiguous */          \
        for (int64_t p = 0; p < k; p++)                                             \
            for (int r = 0; r < MR; r++) dst[p * MR + r] = LD_##N(src[p * cs + r]); \
        return;                                                                     \
    }                                                                               \
    for (int64_t p = 0; p < k; p++) {             /* MR read streams, one write */  \
        int64_t r = 0;                                                              \
        for (; r < m; r++) dst[p * MR + r] = LD_##N(src[r * rs + p * cs]);          \
        for (; r < MR; r++) dst[p * MR + r] = 0;                                    \
    }                                                                               \
}                                                                                   \
/* B panel: k rows, n <= NR columns -> dst[p*NR + q], columns n..NR-1 zero. */      \
static void pack_b_##N(void *dst_, const void *src_, int64_t rs, int64_t cs,        \
                       int64_t k, int64_t n, int NR)                                \
{                                                                                   \
    T *restrict dst = dst_;                                                         \
    const STY_##N *src = src_;                                                      \
    if (cs == 1 && n == NR) {                     /* rows contiguous: copies */     \
        switch (NR) {                             /* constant widths unroll */      \
        case 8: PACK_ROWS(N, 8); return;                                            \
        case 12: PACK_ROWS(N, 12); return;                                          \
        case 16: PACK_ROWS(N, 16); return;                                          \
        case 32: PACK_ROWS(N, 32); return;                                          \
        default: PACK_ROWS(N, NR); return;                                          \
        }                                                                           \
    }                                                                               \
    if (rs == 1) {                                /* columns contiguous */          \
        for (int64_t q = 0; q < n; q++)                                             \
            for (int64_t p = 0; p < k; p++) dst[p * NR + q] = LD_##N(src[q * cs + p]); \
        for (int64_t p = 0; p < k; p++)                                             \
            for (int64_t q = n; q < NR; q++) dst[p * NR + q] = 0;                   \
        return;                                                                     \
    }                                                                               \
    for (int64_t p = 0; p < k; p++) {                                               \
        int64_t q = 0;                                                              \
        for (; q < n; q++) dst[p * NR + q] = LD_##N(src[p * rs + q * cs]);          \
        for (; q < NR; q++) dst[p * NR + q] = 0;                                    \
    }                                                                               \
}
GEN_PACK(f32, float)
GEN_PACK(f64, double)
GEN_PACK(f16, float)
GEN_PACK(bf16, float)

typedef void (*pack_a_t)(void *, const void *, int64_t, int64_t, int64_t, int64_t, int);
typedef void (*pack_b_t)(void *, const void *, int64_t, int64_t, int64_t, int64_t, int);

#ifdef GEMM_X86
/* Row-major float32 A is the common case and its packing is a transpose:
 * 8 x 8 blocks in registers instead of one element at a time (the scalar
 * loop cost a third of a 128^3 product). */
TGT_AVX2 static void transpose8(__m256 r[8])
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

TGT_AVX2 static void pack_a_f32_avx2(void *dst_, const void *src_, int64_t rs, int64_t cs,
                                     int64_t m, int64_t k, int MR)
{
    float *dst = dst_;
    const float *src = src_;
    if (rs == 1 && m == MR && MR == 12) {   /* columns contiguous (A transposed): copies */
        for (int64_t p = 0; p < k; p++) {
            _mm256_storeu_ps(dst + p * 12, _mm256_loadu_ps(src + p * cs));
            _mm_storeu_ps(dst + p * 12 + 8, _mm_loadu_ps(src + p * cs + 8));
        }
        return;
    }
    if (cs != 1 || m != MR || (MR != 6 && MR != 12)) {
        pack_a_f32(dst_, src_, rs, cs, m, k, MR);
        return;
    }
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
        for (int g = 0; g < MR; g += 8) {   /* rows g .. g+7, the missing ones zero */
            int valid = MR - g < 8 ? MR - g : 8;
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = i < valid ? _mm256_loadu_ps(src + (g + i) * rs + p) : _mm256_setzero_ps();
            transpose8(r);
            float *d = dst + p * MR + g;
            for (int l = 0; l < 8; l++, d += MR) {
                if (valid == 8) {
                    _mm256_storeu_ps(d, r[l]);
                } else {                    /* 4 (MR 12) or 6 (MR 6) */
                    _mm_storeu_ps(d, _mm256_castps256_ps128(r[l]));
                    if (valid == 6) _mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(r[l], 1));
                }
            }
        }
    }
    for (; p < k; p++)
        for (int r = 0; r < MR; r++) dst[p * MR + r] = src[r * rs + p];
}
/* B with contiguous columns (rs 1: the transpose of a row-major matrix, nn.Linear's
 * x @ W.T) is the same transpose: 8 columns x 8 rows per register block, columns
 * n .. NR-1 zero; other layouts and widths go to the scalar loops. */
TGT_AVX2 static void pack_b_f32_avx2(void *dst_, const void *src_, int64_t rs, int64_t cs,
                                     int64_t k, int64_t n, int NR)
{
    if (rs != 1 || NR % 8 != 0 || cs == 1) {
        pack_b_f32(dst_, src_, rs, cs, k, n, NR);
        return;
    }
    float *dst = dst_;
    const float *src = src_;
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
        for (int g = 0; g < NR; g += 8) {   /* columns g .. g+7 */
            int64_t valid = n - g < 0 ? 0 : n - g > 8 ? 8 : n - g;
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = i < valid ? _mm256_loadu_ps(src + (g + i) * cs + p) : _mm256_setzero_ps();
            transpose8(r);
            float *d = dst + p * NR + g;
            for (int l = 0; l < 8; l++) _mm256_storeu_ps(d + l * NR, r[l]);
        }
    }
    for (; p < k; p++)
        for (int q = 0; q < NR; q++) dst[p * NR + q] = q < n ? src[q * cs + p] : 0.0f;
}

/* dst[p * mr + r] = src[r][p] for r < mr, p < n, a NULL row giving zeros: the
 * implicit GEMM's A panels (conv.c), where each row is a run of contiguous input
 * channels.  8 x 8 blocks transposed in registers, as pack_a_f32_avx2. */
TGT_AVX2 static void pack_rows_f32_avx2(float *dst, const float *const *src, int mr, int64_t n)
{
    int64_t p = 0;
    for (; p + 8 <= n; p += 8) {
        for (int g = 0; g < mr; g += 8) {
            int valid = mr - g < 8 ? mr - g : 8;
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = i < valid && src[g + i] ? _mm256_loadu_ps(src[g + i] + p)
                                               : _mm256_setzero_ps();
            transpose8(r);
            float *d = dst + p * mr + g;
            for (int l = 0; l < 8; l++, d += mr) {
                if (valid == 8) {
                    _mm256_storeu_ps(d, r[l]);
                } else {
                    float t[8];
                    _mm256_storeu_ps(t, r[l]);
                    for (int i = 0; i < valid; i++) d[i] = t[i];
                }
            }
        }
    }
    for (; p < n; p++)
        for (int r = 0; r < mr; r++) dst[p * mr + r] = src[r] ? src[r][p] : 0.0f;
}
#endif

void mlxc_pack_rows_f32(float *dst, const float *const *src, int mr, int64_t n)
{
#ifdef GEMM_X86
    if (mlxc_isa_pick(mlxc_levels_matmul) >= MLXC_ISA_AVX2) {
        pack_rows_f32_avx2(dst, src, mr, n);
        return;
    }
#endif
    for (int r = 0; r < mr; r++)
        for (int64_t p = 0; p < n; p++) dst[p * mr + r] = src[r] ? src[r][p] : 0.0f;
}

#ifdef GEMM_NEON
/* Row-major float32 A into 8-row panels: 4 x 4 blocks transposed in
 * registers (trn1/trn2 on 32-bit, then on 64-bit lanes). */
static void pack_a_f32_neon(void *dst_, const void *src_, int64_t rs, int64_t cs,
                            int64_t m, int64_t k, int MR)
{
    if (cs != 1 || m != MR || MR != 8) {
        pack_a_f32(dst_, src_, rs, cs, m, k, MR);
        return;
    }
    float *dst = dst_;
    const float *src = src_;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4)
        for (int g = 0; g < 8; g += 4) {
            const float *s = src + g * rs + p;
            float32x4_t r0 = vld1q_f32(s), r1 = vld1q_f32(s + rs);
            float32x4_t r2 = vld1q_f32(s + 2 * rs), r3 = vld1q_f32(s + 3 * rs);
            float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1));  /* 00 10 02 12 */
            float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));  /* 01 11 03 13 */
            float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3));
            float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
            float *d = dst + p * 8 + g;
            vst1q_f32(d, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));       /* column p */
            vst1q_f32(d + 8, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));   /* p + 1 */
            vst1q_f32(d + 16, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));  /* p + 2 */
            vst1q_f32(d + 24, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));  /* p + 3 */
        }
    for (; p < k; p++)
        for (int r = 0; r < 8; r++) dst[p * 8 + r] = src[r * rs + p];
}
#endif

/* -------------------------------------------------- matrix-vector kernels */
/* Dot products, four rows at a time so each load of x serves four rows.  A
 * row's sum does not depend on which rows it is grouped with. */
static void dot4_f32_scalar(const float *const *a, const float *x, int64_t k, float *out)
{
    for (int r = 0; r < 4; r++) {
        float s[8] = {0};
        int64_t p = 0;
        for (; p + 8 <= k; p += 8)
            for (int l = 0; l < 8; l++) s[l] += a[r][p + l] * x[p + l];
        for (; p < k; p++) s[p & 7] += a[r][p] * x[p];
        out[r] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
}
static void dot4_f64_scalar(const double *const *a, const double *x, int64_t k, double *out)
{
    for (int r = 0; r < 4; r++) {
        double s[4] = {0};
        int64_t p = 0;
        for (; p + 4 <= k; p += 4)
            for (int l = 0; l < 4; l++) s[l] += a[r][p + l] * x[p + l];
        for (; p < k; p++) s[p & 3] += a[r][p] * x[p];
        out[r] = (s[0] + s[1]) + (s[2] + s[3]);
    }
}

#ifdef GEMM_X86
/* Two accumulators per row; the last partial vectors are masked loads, so
 * every element goes through the same FMA lanes. */
#define DOT_ACC(r, V, Z) V s##r##0 = Z(), s##r##1 = Z();
#define DOT_STEP(r, FMA, LD, W) s##r##0 = FMA(LD(a[r] + p), x0, s##r##0);                 \
    s##r##1 = FMA(LD(a[r] + p + W), x1, s##r##1);

TGT_AVX2 static float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}
TGT_AVX2 static double hsum256d(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static const int32_t mask_tab32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t mask_tab64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

#define GEN_DOT4_AVX2(NAME, T, V, W, Z, FMA, LD, MLD, MASK, ADD, HSUM)                \
TGT_AVX2 static void NAME(const T *const *a, const T *x, int64_t k, T *out)          \
{                                                                                   \
    REP4(DOT_ACC, V, Z)                                                             \
    int64_t p = 0;                                                                  \
    for (; p + 2 * W <= k; p += 2 * W) {                                            \
        V x0 = LD(x + p), x1 = LD(x + p + W);                                       \
        REP4(DOT_STEP, FMA, LD, W)                                                  \
    }                                                                               \
    int64_t rem = k - p;                                                            \
    if (rem > 0) {                                                                  \
        int64_t n0 = rem < W ? rem : W, n1 = rem - n0;                              \
        __m256i m0 = MASK(W - n0), m1 = MASK(W - n1);                               \
        V x0 = MLD(x + p, m0), x1 = MLD(x + p + W, m1);                             \
        REP4(DOT_TAIL, FMA, MLD, W)                                                 \
    }                                                                               \
    out[0] = HSUM(ADD(s00, s01)); out[1] = HSUM(ADD(s10, s11));                     \
    out[2] = HSUM(ADD(s20, s21)); out[3] = HSUM(ADD(s30, s31));                     \
}
#define DOT_TAIL(r, FMA, MLD, W) s##r##0 = FMA(MLD(a[r] + p, m0), x0, s##r##0);      \
    s##r##1 = FMA(MLD(a[r] + p + W, m1), x1, s##r##1);
#define MASK32(off) _mm256_loadu_si256((const __m256i *)(mask_tab32 + (off)))
#define MASK64(off) _mm256_loadu_si256((const __m256i *)(mask_tab64 + (off)))
GEN_DOT4_AVX2(dot4_f32_avx2, float, __m256, 8, _mm256_setzero_ps, _mm256_fmadd_ps, _mm256_loadu_ps,
              _mm256_maskload_ps, MASK32, _mm256_add_ps, hsum256)
GEN_DOT4_AVX2(dot4_f64_avx2, double, __m256d, 4, _mm256_setzero_pd, _mm256_fmadd_pd, _mm256_loadu_pd,
              _mm256_maskload_pd, MASK64, _mm256_add_pd, hsum256d)

#define GEN_DOT4_AVX512(NAME, T, V, W, Z, FMA, LD, MLD, MT, ADD, HSUM)                \
TGT_AVX512 static void NAME(const T *const *a, const T *x, int64_t k, T *out)        \
{                                                                                   \
    REP4(DOT_ACC, V, Z)                                                             \
    int64_t p = 0;                                                                  \
    for (; p + 2 * W <= k; p += 2 * W) {                                            \
        V x0 = LD(x + p), x1 = LD(x + p + W);                                       \
        REP4(DOT_STEP, FMA, LD, W)                                                  \
    }                                                                               \
    int64_t rem = k - p;                                                            \
    if (rem > 0) {                                                                  \
        int64_t n0 = rem < W ? rem : W, n1 = rem - n0;                              \
        MT m0 = (MT)((1u << n0) - 1), m1 = (MT)((1u << n1) - 1);                    \
        V x0 = MLD(m0, x + p), x1 = MLD(m1, x + p + W);                             \
        REP4(DOT_TAIL512, FMA, MLD, W)                                              \
    }                                                                               \
    out[0] = HSUM(ADD(s00, s01)); out[1] = HSUM(ADD(s10, s11));                     \
    out[2] = HSUM(ADD(s20, s21)); out[3] = HSUM(ADD(s30, s31));                     \
}
#define DOT_TAIL512(r, FMA, MLD, W) s##r##0 = FMA(MLD(m0, a[r] + p), x0, s##r##0);   \
    s##r##1 = FMA(MLD(m1, a[r] + p + W), x1, s##r##1);
GEN_DOT4_AVX512(dot4_f32_avx512, float, __m512, 16, _mm512_setzero_ps, _mm512_fmadd_ps,
                _mm512_loadu_ps, _mm512_maskz_loadu_ps, __mmask16, _mm512_add_ps, _mm512_reduce_add_ps)
GEN_DOT4_AVX512(dot4_f64_avx512, double, __m512d, 8, _mm512_setzero_pd, _mm512_fmadd_pd,
                _mm512_loadu_pd, _mm512_maskz_loadu_pd, __mmask8, _mm512_add_pd, _mm512_reduce_add_pd)
#endif

#ifdef GEMM_NEON
/* Two accumulators per row (eight float32 / four float64 partial sums, as
 * the scalar kernel); the tail goes through the same lanes from zero-padded
 * copies, so every product is one FMA. */
#define GEN_DOT4_NEON(NAME, T, V, W, DUP, LD, FMA, ADD, ADDV)                       \
static void NAME(const T *const *a, const T *x, int64_t k, T *out)                   \
{                                                                                   \
    V s[4][2];                                                                      \
    for (int r = 0; r < 4; r++) s[r][0] = s[r][1] = DUP(0);                         \
    int64_t p = 0;                                                                  \
    for (; p + 2 * W <= k; p += 2 * W) {                                            \
        V x0 = LD(x + p), x1 = LD(x + p + W);                                       \
        for (int r = 0; r < 4; r++) {                                               \
            s[r][0] = FMA(s[r][0], LD(a[r] + p), x0);                               \
            s[r][1] = FMA(s[r][1], LD(a[r] + p + W), x1);                           \
        }                                                                           \
    }                                                                               \
    if (p < k) {                                                                    \
        T xt[2 * W] = {0}, at[2 * W];                                               \
        memcpy(xt, x + p, (size_t)(k - p) * sizeof *x);                             \
        V x0 = LD(xt), x1 = LD(xt + W);                                             \
        for (int r = 0; r < 4; r++) {                                               \
            memset(at, 0, sizeof at);                                               \
            memcpy(at, a[r] + p, (size_t)(k - p) * sizeof *x);                      \
            s[r][0] = FMA(s[r][0], LD(at), x0);                                     \
            s[r][1] = FMA(s[r][1], LD(at + W), x1);                                 \
        }                                                                           \
    }                                                                               \
    for (int r = 0; r < 4; r++) out[r] = ADDV(ADD(s[r][0], s[r][1]));               \
}
GEN_DOT4_NEON(dot4_f32_neon, float, float32x4_t, 4, vdupq_n_f32, vld1q_f32, vfmaq_f32,
              vaddq_f32, vaddvq_f32)
GEN_DOT4_NEON(dot4_f64_neon, double, float64x2_t, 2, vdupq_n_f64, vld1q_f64, vfmaq_f64,
              vaddq_f64, vaddvq_f64)
#endif

/* Column form and the no-packing path, plain C compiled once per level so gcc
 * vectorizes them with that level's registers.  No FMA contraction in ISO C
 * mode, so vector body and scalar tail round alike. */
#define GEN_PLAIN(SFX, TGT, T, N)                                                   \
TGT static void colmv_##N##_##SFX(int64_t m, int64_t k, const T *a, int64_t lda,    \
                                  const T *x, T *restrict y)                        \
{                                                                                   \
    for (int64_t i = 0; i < m; i++) y[i] = 0;                                       \
    int64_t p = 0;                                                                  \
    for (; p + 4 <= k; p += 4) {  /* four columns per pass over y */                \
        const T *a0 = a + p * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;  \
        T x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];                   \
        for (int64_t i = 0; i < m; i++)                                             \
            y[i] = (((y[i] + a0[i] * x0) + a1[i] * x1) + a2[i] * x2) + a3[i] * x3;  \
    }                                                                               \
    for (; p < k; p++) {                                                            \
        const T *a0 = a + p * lda;                                                  \
        T x0 = x[p];                                                                \
        for (int64_t i = 0; i < m; i++) y[i] = y[i] + a0[i] * x0;                   \
    }                                                                               \
}                                                                                   \
TGT static void small_##N##_##SFX(int64_t M, int64_t Nn, int64_t K,                 \
                                  const T *A, int64_t ars, int64_t acs,             \
                                  const T *B, int64_t brs, int64_t bcs, T *C)       \
{                                                                                   \
    for (int64_t i = 0; i < M; i++) {                                               \
        T *restrict c = C + i * Nn;                                                 \
        for (int64_t j = 0; j < Nn; j++) c[j] = 0;                                  \
        for (int64_t p = 0; p < K; p++) {                                           \
            T av = A[i * ars + p * acs];                                            \
            const T *b = B + p * brs;                                               \
            if (bcs == 1)                                                           \
                for (int64_t j = 0; j < Nn; j++) c[j] = c[j] + av * b[j];           \
            else                                                                    \
                for (int64_t j = 0; j < Nn; j++) c[j] = c[j] + av * b[j * bcs];     \
        }                                                                           \
    }                                                                               \
}
GEN_PLAIN(scalar, TGT_NONE, float, f32)
GEN_PLAIN(scalar, TGT_NONE, double, f64)
#ifdef GEMM_X86
GEN_PLAIN(avx2, TGT_AVX2, float, f32)
GEN_PLAIN(avx2, TGT_AVX2, double, f64)
GEN_PLAIN(avx512, TGT_AVX512, float, f32)
GEN_PLAIN(avx512, TGT_AVX512, double, f64)
#endif

/* ------------------------------------------------------------- the table */
struct kern {
    struct blk bs, bd;          /* blocking for float32 / float64 */
    ukr_f32_t uks; ukr_f64_t ukd;
    dot4_f32_t dots; dot4_f64_t dotd;
    colmv_f32_t cols; colmv_f64_t cold;
    small_f32_t sms; small_f64_t smd;
};

#define KERN_SCALAR {{4, 8, 256, 64, 1024}, {4, 4, 256, 64, 1024},                 \
    ukr_f32_scalar, ukr_f64_scalar, dot4_f32_scalar, dot4_f64_scalar,               \
    colmv_f32_scalar, colmv_f64_scalar, small_f32_scalar, small_f64_scalar}
static const struct kern kerns[MLXC_ISA_COUNT] = {
    [MLXC_ISA_SCALAR] = KERN_SCALAR,
#ifdef GEMM_NEON
    /* colmv / small: the portable C, which gcc and clang vectorize with NEON
     * (the arm64 baseline) already */
    [MLXC_ISA_NEON] = {{8, 12, 256, 128, 3072}, {6, 8, 256, 72, 3072},
        ukr_f32_neon, ukr_f64_neon, dot4_f32_neon, dot4_f64_neon,
        colmv_f32_scalar, colmv_f64_scalar, small_f32_scalar, small_f64_scalar},
#else
    [MLXC_ISA_NEON] = KERN_SCALAR,
#endif
#ifdef GEMM_X86
    [MLXC_ISA_AVX2] = {{6, 16, 256, 144, 3072}, {6, 8, 256, 72, 3072},
        ukr_f32_avx2, ukr_f64_avx2, dot4_f32_avx2, dot4_f64_avx2,
        colmv_f32_avx2, colmv_f64_avx2, small_f32_avx2, small_f64_avx2},
    [MLXC_ISA_AVX512] = {{12, 32, 256, 144, 3072}, {12, 16, 256, 72, 3072},
        ukr_f32_avx512, ukr_f64_avx512, dot4_f32_avx512, dot4_f64_avx512,
        colmv_f32_avx512, colmv_f64_avx512, small_f32_avx512, small_f64_avx512},
#else
    [MLXC_ISA_AVX2] = KERN_SCALAR,
    [MLXC_ISA_AVX512] = KERN_SCALAR,
#endif
};

/* ------------------------------------------------------------ GEMM driver */
struct gjob {
    int64_t M, N, K;
    const char *A, *B;          /* storage elements of size z */
    int64_t z, a_bs, ars, acs, b_bs, brs, bcs;
    void *C;                    /* compute type, (batch, M, N) contiguous */
    uint16_t *H;                /* half output, or NULL */
    int half_bf16;              /* H is bfloat16 (else float16) */
    int accumulate;             /* add to C instead of overwriting (complex) */
    int negate_a;
    const struct epi *ep;       /* addmm epilogue, or NULL: on C's blocks, or on the
                                   float accumulator before rounding to H */
    int dbl;                    /* compute type double (else float) */
    struct blk bk;
    void *ukr;
    pack_a_t pa;
    pack_b_t pb;
    mlxc_pack_hook pah;         /* packs A panels from (matrix, row, column) instead
                                   of pa (implicit GEMM: conv.c), or NULL */
    const void *pctx;           /* its context */
    int64_t ldc, c_bs;          /* C's row stride and matrix stride (0: N and M*N) */
    mlxc_packb_fn pbx;          /* caller's B packer (mlxc_gemm_f32_packb), or NULL */
    const void *pbx_ctx;
    int64_t tm, tn, gm, gn;     /* C of each matrix cut in gm x gn tiles of tm x tn */
    char *buf;
    size_t per_thread;          /* bytes of packing buffer per thread */
    size_t a_off;               /* offset of the A buffer inside it */
};

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

/* The caller's B packer (dequantizing) and all rows in one MC block: B is used by
 * that block only, so each NR panel is packed into the same small buffer and
 * multiplied at once, while it is in L1, instead of packing the whole KC x NC slab
 * (megabytes for a wide C) first.  Same sums in the same order as the loop below. */
static int panel_at_once(const struct gjob *j, int64_t rows)
{
    return j->pbx && !j->pah && !j->negate_a && rows <= j->bk.mc;
}
/* One MR x NR block of C at c (row stride N; mr x nr of it inside the matrix): the
 * micro-kernel writes C directly, or an edge block through a full-size temporary. */
#define UK_BLOCK(T, uk, kc, a, b, c, N, beta, mr, nr, MR, NR)                        \
    do {                                                                            \
        T *c_ = (c);                                                                \
        if ((mr) == (MR) && (nr) == (NR)) {                                         \
            uk(kc, a, b, c_, N, beta);                                              \
        } else {                                                                    \
            T t_[MAX_MR * MAX_NR];                                                  \
            uk(kc, a, b, t_, NR, 0);                                                \
            for (int64_t r_ = 0; r_ < (mr); r_++)                                   \
                for (int64_t q_ = 0; q_ < (nr); q_++)                               \
                    c_[r_ * (N) + q_] = (beta) ? c_[r_ * (N) + q_] + t_[r_ * (NR) + q_] \
                                               : t_[r_ * (NR) + q_];                \
        }                                                                           \
    } while (0)

#define TILE_PANELS(T, EPI)                                                             \
    int64_t mc = i1 - i0;                                                           \
    for (int64_t ir = 0; ir < mc; ir += MR)                                         \
        j->pa(Ap + ir * kc, A + ((i0 + ir) * j->ars + pc * j->acs) * z,             \
              j->ars, j->acs, min64(MR, mc - ir), kc, MR);                          \
    for (int64_t jr = 0; jr < nc; jr += NR) {                                       \
        int64_t nr = min64(NR, nc - jr);                                            \
        j->pbx(j->pbx_ctx, (float *)(void *)Bp, pc, kc, jc + jr, nr, NR);           \
        for (int64_t ir = 0; ir < mc; ir += MR) {                                   \
            int64_t mr = min64(MR, mc - ir);                                        \
            UK_BLOCK(T, uk, kc, Ap + ir * kc, Bp, C + (i0 + ir) * N + jc + jr, N, beta, \
                     mr, nr, MR, NR);                                               \
        }                                                                           \
    }                                                                               \
    if (ep) EPI(ep, C + i0 * N + jc, N, bi, i0, jc, mc, nc);

#define GEN_TILE(T, SFX, UKT, EPI)                                                  \
static void tile_##SFX(const struct gjob *j, int64_t bi, int64_t i0, int64_t i1,    \
                       int64_t j0, int64_t j1, T *Ap, T *Bp)                        \
{                                                                                   \
    const int MR = j->bk.mr, NR = j->bk.nr;                                         \
    const int64_t KC = j->bk.kc, MC = j->bk.mc, NC = j->bk.nc;                      \
    const int64_t N = j->ldc, K = j->K, z = j->z;   /* N: C's row stride here */    \
    UKT uk = (UKT)j->ukr;                                                           \
    const char *A = j->A + bi * j->a_bs * z, *B = j->B + bi * j->b_bs * z;          \
    T *C = (T *)j->C + bi * j->c_bs;                                                \
    for (int64_t jc = j0; jc < j1; jc += NC) {                                      \
        int64_t nc = min64(NC, j1 - jc);                                            \
        for (int64_t pc = 0; pc < K; pc += KC) {                                    \
            int64_t kc = min64(KC, K - pc);                                         \
            int beta = pc > 0 || j->accumulate;                                     \
            const struct epi *ep = pc + kc >= K && !j->H ? j->ep : NULL; /* last slab */ \
            if (panel_at_once(j, i1 - i0)) {                                        \
                TILE_PANELS(T, EPI)                                                 \
                continue;                                                           \
            }                                                                       \
            for (int64_t jr = 0; jr < nc; jr += NR) {                               \
                if (j->pbx)                                                         \
                    j->pbx(j->pbx_ctx, (float *)(void *)(Bp + jr * kc), pc, kc,     \
                           jc + jr, min64(NR, nc - jr), NR);                        \
                else                                                                \
                    j->pb(Bp + jr * kc, B + (pc * j->brs + (jc + jr) * j->bcs) * z, \
                          j->brs, j->bcs, kc, min64(NR, nc - jr), NR);              \
            }                                                                       \
            for (int64_t ic = i0; ic < i1; ic += MC) {                              \
                int64_t mc = min64(MC, i1 - ic);                                    \
                for (int64_t ir = 0; ir < mc; ir += MR) {                           \
                    if (j->pah)                                                     \
                        j->pah(j->pctx, Ap + ir * kc, bi, ic + ir, pc,              \
                               min64(MR, mc - ir), kc, MR);                         \
                    else                                                            \
                        j->pa(Ap + ir * kc, A + ((ic + ir) * j->ars + pc * j->acs) * z, \
                              j->ars, j->acs, min64(MR, mc - ir), kc, MR);          \
                }                                                                   \
                if (j->negate_a)                                                    \
                    for (int64_t e = 0; e < round_up(mc, MR) * kc; e++) Ap[e] = -Ap[e]; \
                for (int64_t jr = 0; jr < nc; jr += NR) {                           \
                    int64_t nr = min64(NR, nc - jr);                                \
                    for (int64_t ir = 0; ir < mc; ir += MR) {                       \
                        int64_t mr = min64(MR, mc - ir);                            \
                        UK_BLOCK(T, uk, kc, Ap + ir * kc, Bp + jr * kc,             \
                                 C + (ic + ir) * N + jc + jr, N, beta, mr, nr, MR, NR); \
                    }                                                               \
                }                                                                   \
                if (ep)         /* the block is final and still in L2 */            \
                    EPI(ep, C + ic * N + jc, N, bi, ic, jc, mc, nc);                \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}
GEN_TILE(float, f32, ukr_f32_t, epi_f32)
GEN_TILE(double, f64, ukr_f64_t, epi_f64)

static void gemm_task(void *ctx, int64_t task, int tid)
{
    const struct gjob *j = ctx;
    int64_t per = j->gm * j->gn, bi = task / per, t = task % per;
    int64_t i0 = t / j->gn * j->tm, j0 = t % j->gn * j->tn;
    int64_t i1 = min64(i0 + j->tm, j->M), j1 = min64(j0 + j->tn, j->N);
    char *buf = j->buf + (size_t)tid * j->per_thread;
    if (j->dbl)
        tile_f64(j, bi, i0, i1, j0, j1, (double *)(buf + j->a_off), (double *)buf);
    else
        tile_f32(j, bi, i0, i1, j0, j1, (float *)(buf + j->a_off), (float *)buf);
    if (j->H) {  /* round this tile of the float accumulator to the half output */
        float *c = (float *)j->C + bi * j->M * j->N;   /* H: C is (batch, M, N) */
        uint16_t *h = j->H + bi * j->M * j->N;
        if (j->ep)
            (j->half_bf16 ? epi_bf16 : epi_f16)(j->ep, c + i0 * j->N + j0, j->N, bi, i0, j0,
                                                 i1 - i0, j1 - j0);
        for (int64_t i = i0; i < i1; i++)
            for (int64_t q = j0; q < j1; q++) {
                float v = c[i * j->N + q];
                h[i * j->N + q] = j->half_bf16 ? mlxc_f2bf(v) : mlxc_f2h(v);
            }
    }
}

/* Cut C into tiles and run them on the pool.  batch matrices, C/H of each at
 * (batch index) * M * N.  Returns MLXC_OK or MLXC_ERR_NOMEM. */
static int run_gemm(struct gjob *j, int64_t batch, size_t tsz)
{
    const struct blk *b = &j->bk;
    int64_t M = j->M, N = j->N, K = j->K;
    if (!j->ldc) { j->ldc = N; j->c_bs = M * N; }
    int nt = mlxc_num_threads();
    double flops = 2.0 * (double)M * (double)N * (double)K;
    /* tiles per matrix: enough for every thread unless the batch already is,
     * none when the product is too small to pay for waking threads */
    int64_t want = batch >= nt || flops < 2.0 * 64 * 64 * 64 ? 1 : (nt + batch - 1) / batch;
    int64_t gm = 1, gn = 1;
    double best = -1;
    for (int64_t m = 1; m <= want; m++) {
        if (want % m) continue;
        int64_t n = want / m;
        if (m > 1 && (M + m - 1) / m < b->mr) continue;
        if (n > 1 && (N + n - 1) / n < b->nr) continue;
        /* A is packed n times, B m times */
        double cost = (double)n * (double)M + (double)m * (double)N;
        if (best < 0 || cost < best) { best = cost; gm = m; gn = n; }
    }
    j->gm = gm;
    j->gn = gn;
    j->tm = gm == 1 ? M : round_up((M + gm - 1) / gm, b->mr);
    j->tn = gn == 1 ? N : round_up((N + gn - 1) / gn, b->nr);
    j->gm = (M + j->tm - 1) / j->tm;
    j->gn = (N + j->tn - 1) / j->tn;
    int64_t ntask = batch * j->gm * j->gn;
    int nthr = nt < ntask ? nt : (int)ntask;
    /* packing buffers sized by what a tile can use */
    int64_t kc = min64(b->kc, K);
    int64_t nc = min64(b->nc, round_up(j->tn, b->nr));
    if (panel_at_once(j, j->tm)) nc = b->nr;    /* one B panel at a time */
    int64_t mc = min64(b->mc, round_up(j->tm, b->mr));
    size_t bsz = ((size_t)(kc * nc) * tsz + 63) & ~(size_t)63;
    size_t asz = ((size_t)(kc * mc) * tsz + 63) & ~(size_t)63;
    j->a_off = bsz;
    j->per_thread = bsz + asz;
    char *raw = malloc(j->per_thread * (size_t)nthr + 64);
    if (!raw) return MLXC_ERR_NOMEM;
    j->buf = (char *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    mlxc_parallel_for(ntask, nthr, gemm_task, j);
    free(raw);
    return MLXC_OK;
}

/* ------------------------------------------------------- matrix-vector path */
struct mvjob {
    int dbl;
    const struct kern *kn;
    int64_t M, K;               /* y (M) = A (M x K) @ x (K) */
    const char *A, *X;          /* X: contiguous copies or the original when stride 1 */
    int64_t a_bs, ars, acs, x_bs;
    char *Y;                    /* contiguous (batch, M) */
    int64_t chunks;             /* row chunks per batch */
    const struct epi *ep;       /* with rs the stride of C along y, or NULL */
};
#define MV_CHUNK 256            /* fixed, so results do not depend on the thread count */

#define GEN_MV(T, SFX, DOTF, COLF)                                                  \
static void mv_##SFX(const struct mvjob *j, int64_t bi, int64_t r0, int64_t r1)     \
{                                                                                   \
    const T *A = (const T *)j->A + bi * j->a_bs, *x = (const T *)j->X + bi * j->x_bs; \
    T *y = (T *)j->Y + bi * j->M;                                                   \
    if (j->acs == 1) {                                                              \
        for (int64_t i = r0; i < r1; i += 4) {                                      \
            const T *rows[4];                                                       \
            T out[4];                                                               \
            for (int r = 0; r < 4; r++)  /* past the end: repeat row i */           \
                rows[r] = A + (i + r < r1 ? i + r : i) * j->ars;                    \
            j->kn->DOTF(rows, x, j->K, out);                                        \
            for (int r = 0; r < 4 && i + r < r1; r++) y[i + r] = out[r];            \
        }                                                                           \
    } else if (j->ars == 1) {                                                       \
        j->kn->COLF(r1 - r0, j->K, A + r0, j->acs, x, y + r0);                      \
    } else {                                                                        \
        for (int64_t i = r0; i < r1; i++) {                                         \
            T s = 0;                                                                \
            for (int64_t p = 0; p < j->K; p++) s += A[i * j->ars + p * j->acs] * x[p]; \
            y[i] = s;                                                               \
        }                                                                           \
    }                                                                               \
    if (j->ep) epi_##SFX(j->ep, y + r0, 1, bi, r0, 0, r1 - r0, 1);                   \
}
GEN_MV(float, f32, dots, cols)
GEN_MV(double, f64, dotd, cold)

static void mv_task(void *ctx, int64_t task, int tid)
{
    (void)tid;
    const struct mvjob *j = ctx;
    int64_t bi = task / j->chunks, r0 = task % j->chunks * MV_CHUNK;
    int64_t r1 = min64(r0 + MV_CHUNK, j->M);
    if (j->dbl) mv_f64(j, bi, r0, r1);
    else mv_f32(j, bi, r0, r1);
}

/* y = A @ x for float32/float64; x with element stride xs, batch stride x_bs;
 * ep: the epilogue with C's stride along y as its row stride, or NULL */
static int matvec(int dbl, const struct kern *kn, int64_t batch, int64_t M, int64_t K,
                  const void *A, int64_t a_bs, int64_t ars, int64_t acs,
                  const void *X, int64_t x_bs, int64_t xs, void *Y, const struct epi *ep)
{
    size_t z = dbl ? 8 : 4;
    void *tmp = NULL;
    if (xs != 1) {              /* gather x so the kernels read it contiguously */
        tmp = malloc((size_t)(batch * K) * z);
        if (!tmp) return MLXC_ERR_NOMEM;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t p = 0; p < K; p++) {
                if (dbl) ((double *)tmp)[b * K + p] = ((const double *)X)[b * x_bs + p * xs];
                else ((float *)tmp)[b * K + p] = ((const float *)X)[b * x_bs + p * xs];
            }
        X = tmp;
        x_bs = K;
    }
    struct mvjob j = {dbl, kn, M, K, A, X, a_bs, ars, acs, x_bs, Y, (M + MV_CHUNK - 1) / MV_CHUNK,
                      ep};
    int64_t ntask = batch * j.chunks;
    /* threads only when there is enough to share */
    int nthr = (double)batch * (double)M * (double)K < 65536.0 ? 1 : mlxc_num_threads();
    mlxc_parallel_for(ntask, nthr, mv_task, &j);
    free(tmp);
    return MLXC_OK;
}

/* --------------------------------------------------------- no-packing path */
struct smjob {
    int dbl;
    const struct kern *kn;
    int64_t M, N, K, per;       /* per: matrices per task */
    const char *A, *B;
    int64_t a_bs, ars, acs, b_bs, brs, bcs, batch;
    char *C;
    const struct epi *ep;       /* or NULL */
};

static void small_task(void *ctx, int64_t task, int tid)
{
    (void)tid;
    const struct smjob *j = ctx;
    int64_t b1 = min64((task + 1) * j->per, j->batch);
    for (int64_t b = task * j->per; b < b1; b++) {
        if (j->dbl) {
            double *c = (double *)j->C + b * j->M * j->N;
            j->kn->smd(j->M, j->N, j->K, (const double *)j->A + b * j->a_bs, j->ars, j->acs,
                       (const double *)j->B + b * j->b_bs, j->brs, j->bcs, c);
            if (j->ep) epi_f64(j->ep, c, j->N, b, 0, 0, j->M, j->N);
        } else {
            float *c = (float *)j->C + b * j->M * j->N;
            j->kn->sms(j->M, j->N, j->K, (const float *)j->A + b * j->a_bs, j->ars, j->acs,
                       (const float *)j->B + b * j->b_bs, j->brs, j->bcs, c);
            if (j->ep) epi_f32(j->ep, c, j->N, b, 0, 0, j->M, j->N);
        }
    }
}

#define SMALL_FLOPS (2 * 32 * 32 * 32)

/* ---------------------------------------------------------------- entry */
/* K == 0: the product is zero, out = alpha * 0 + beta * C (IEEE: an infinite
 * alpha still gives NaN, as alpha * zeros would). */
static void empty_k(int dtype, int64_t batch, int64_t M, int64_t N, void *out,
                    const struct epi *ep)
{
    size_t mn = (size_t)(M * N);
    memset(out, 0, (size_t)batch * mn * mlxc_itemsize(dtype));
    if (!ep) return;
    if (dtype == MLXC_FLOAT64) {
        for (int64_t b = 0; b < batch; b++) epi_f64(ep, (double *)out + b * mn, N, b, 0, 0, M, N);
        return;
    }
    if (dtype == MLXC_FLOAT32) {
        for (int64_t b = 0; b < batch; b++) epi_f32(ep, (float *)out + b * mn, N, b, 0, 0, M, N);
        return;
    }
    float row[64];              /* half and complex: a float row at a time */
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j0 = 0; j0 < N; j0 += 64) {
                int64_t n = min64(64, N - j0), e0 = (b * M + i) * N + j0;
                if (dtype == MLXC_COMPLEX64) {
                    float *o = (float *)out + 2 * e0;
                    for (int64_t q = 0; q < n; q++) {
                        const float *c = ep->C ? (const float *)ep->C
                            + 2 * (b * ep->bs + i * ep->rs + (j0 + q) * ep->cs) : NULL;
                        o[2 * q] = (float)ep->alpha * 0.0f + (c ? (float)ep->beta * c[0] : 0.0f);
                        o[2 * q + 1] = (float)ep->alpha * 0.0f + (c ? (float)ep->beta * c[1] : 0.0f);
                    }
                    continue;
                }
                for (int64_t q = 0; q < n; q++) row[q] = 0;
                uint16_t *h = (uint16_t *)out + e0;
                if (dtype == MLXC_BFLOAT16) {
                    epi_bf16(ep, row, 64, b, i, j0, 1, n);
                    for (int64_t q = 0; q < n; q++) h[q] = mlxc_f2bf(row[q]);
                } else {
                    epi_f16(ep, row, 64, b, i, j0, 1, n);
                    for (int64_t q = 0; q < n; q++) h[q] = mlxc_f2h(row[q]);
                }
            }
}

/* Complex matrix-vector products on the float32 matvec kernels, one pass over A
 * per real product (memory-bound, so two passes instead of the GEMM path's
 * four strided ones).  y = A x, A (M x K) with element (i, p) at
 * A + b*a_bs + i*ars + p*acs and x element p at X + b*x_bs + p*xs (complex
 * elements); the planes re/im are (batch, M).  Rows of A contiguous (acs 1):
 * A is a real (M x 2K) matrix, re = A2 u and im = A2 w with u = (xr, -xi)
 * and w = (xi, xr) interleaved.  Columns contiguous (ars 1): A is a real
 * (2M x K) matrix, P = A2 xr and Q = A2 xi interleave (Ar x, Ai x), so
 * re = Pr - Qi and im = Pi + Qr.  Returns 1 (not handled) for other layouts. */
static int complex_matvec(const struct kern *kn, int64_t batch, int64_t M, int64_t K,
                          const float *A, int64_t a_bs, int64_t ars, int64_t acs,
                          const float *X, int64_t x_bs, int64_t xs, float *re, float *im)
{
    int rows = acs == 1;
    if (!rows && ars != 1) return 1;
    int64_t len = rows ? 2 * K : K;
    float *v = malloc((size_t)(2 * batch * len) * sizeof(float));
    float *pq = rows ? NULL : malloc((size_t)(4 * batch * M) * sizeof(float));
    if (!v || (!rows && !pq)) { free(v); free(pq); return MLXC_ERR_NOMEM; }
    float *v0 = v, *v1 = v + batch * len;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t p = 0; p < K; p++) {
            const float *x = X + 2 * (b * x_bs + p * xs);
            if (rows) {
                v0[b * len + 2 * p] = x[0];
                v0[b * len + 2 * p + 1] = -x[1];
                v1[b * len + 2 * p] = x[1];
                v1[b * len + 2 * p + 1] = x[0];
            } else {
                v0[b * len + p] = x[0];
                v1[b * len + p] = x[1];
            }
        }
    int st;
    if (rows) {
        st = matvec(0, kn, batch, M, 2 * K, A, 2 * a_bs, 2 * ars, 1, v0, len, 1, re, NULL);
        if (st == MLXC_OK)
            st = matvec(0, kn, batch, M, 2 * K, A, 2 * a_bs, 2 * ars, 1, v1, len, 1, im, NULL);
    } else {
        float *P = pq, *Q = pq + 2 * batch * M;
        st = matvec(0, kn, batch, 2 * M, K, A, 2 * a_bs, 1, 2 * acs, v0, len, 1, P, NULL);
        if (st == MLXC_OK)
            st = matvec(0, kn, batch, 2 * M, K, A, 2 * a_bs, 1, 2 * acs, v1, len, 1, Q, NULL);
        if (st == MLXC_OK)
            for (int64_t e = 0; e < batch * M; e++) {
                re[e] = P[2 * e] - Q[2 * e + 1];
                im[e] = P[2 * e + 1] + Q[2 * e];
            }
    }
    free(v);
    free(pq);
    return st;
}

/* complex64 on the real and imaginary planes (float views with doubled
 * strides): re = Ar Br - Ai Bi, im = Ar Bi + Ai Br; the epilogue is applied
 * while the planes are interleaved into out.  Matrix-vector shapes go through
 * complex_matvec. */
static int complex_gemm(const struct kern *kn, int64_t batch, int64_t M, int64_t N, int64_t K,
                        const float *af, int64_t a_bs, int64_t a_rs, int64_t a_cs,
                        const float *bf, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                        float *out, const struct epi *ep)
{
    size_t mn = (size_t)(M * N);
    float *planes = malloc((size_t)batch * mn * 2 * sizeof(float));
    if (!planes) return MLXC_ERR_NOMEM;
    float *re = planes, *im = planes + (size_t)batch * mn;
    int st = 1;
    if (N == 1)          /* y = A x */
        st = complex_matvec(kn, batch, M, K, af, a_bs, a_rs, a_cs, bf, b_bs, b_rs, re, im);
    else if (M == 1)     /* y = x B = B^T x */
        st = complex_matvec(kn, batch, N, K, bf, b_bs, b_cs, b_rs, af, a_bs, a_cs, re, im);
    if (st == 1) st = MLXC_OK;
    else goto interleave;
    struct { const float *a, *b; float *c; int acc, neg; } parts[4] = {
        {af, bf, re, 0, 0}, {af + 1, bf + 1, re, 1, 1},
        {af, bf + 1, im, 0, 0}, {af + 1, bf, im, 1, 0}};
    for (int q = 0; q < 4 && st == MLXC_OK; q++) {
        struct gjob j = {0};
        j.M = M; j.N = N; j.K = K;
        j.A = (const char *)parts[q].a; j.B = (const char *)parts[q].b; j.z = 4;
        j.a_bs = 2 * a_bs; j.ars = 2 * a_rs; j.acs = 2 * a_cs;
        j.b_bs = 2 * b_bs; j.brs = 2 * b_rs; j.bcs = 2 * b_cs;
        j.C = parts[q].c;
        j.accumulate = parts[q].acc;
        j.negate_a = parts[q].neg;
        j.bk = kn->bs;
        j.ukr = (void *)kn->uks;
        j.pa = pack_a_f32;
        j.pb = pack_b_f32;
        st = run_gemm(&j, batch, 4);
    }
interleave:
    if (st == MLXC_OK && !ep) {
        for (size_t i = 0; i < (size_t)batch * mn; i++) { out[2 * i] = re[i]; out[2 * i + 1] = im[i]; }
    } else if (st == MLXC_OK) {
        const float al = (float)ep->alpha, be = (float)ep->beta, *C = (const float *)ep->C;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t i = 0; i < M; i++)
                for (int64_t q = 0; q < N; q++) {
                    size_t e = (size_t)((b * M + i) * N + q);
                    float r = al * re[e], m = al * im[e];
                    if (C) {
                        const float *c = C + 2 * (b * ep->bs + i * ep->rs + q * ep->cs);
                        r = r + be * c[0];
                        m = m + be * c[1];
                    }
                    out[2 * e] = r;
                    out[2 * e + 1] = m;
                }
    }
    free(planes);
    return st;
}

int mlxc_addmm(int dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
               const void *A, int64_t a_bs, int64_t a_rs, int64_t a_cs,
               const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
               void *out, double alpha, double beta,
               const void *C, int64_t c_bs, int64_t c_rs, int64_t c_cs)
{
    if (dtype != MLXC_FLOAT32 && dtype != MLXC_FLOAT64 && dtype != MLXC_FLOAT16
        && dtype != MLXC_BFLOAT16 && dtype != MLXC_COMPLEX64)
        return MLXC_ERR_UNSUPPORTED;
    if (batch <= 0 || M <= 0 || N <= 0) return MLXC_OK;
    /* the plain product (alpha 1, beta 0) runs no epilogue at all */
    struct epi e = {alpha, beta, beta != 0 ? (const char *)C : NULL, c_bs, c_rs, c_cs};
    const struct epi *ep = alpha == 1 && !e.C ? NULL : &e;
    size_t z = mlxc_itemsize(dtype), mn = (size_t)(M * N);
    if (K <= 0) { empty_k(dtype, batch, M, N, out, ep); return MLXC_OK; }
    const struct kern *kn = &kerns[mlxc_isa_pick(mlxc_levels_matmul)];

    if (dtype == MLXC_FLOAT32 || dtype == MLXC_FLOAT64) {
        int dbl = dtype == MLXC_FLOAT64;
        struct epi ev = e;      /* matvec: C's stride along y as its row stride */
        if (N == 1) {   /* y = A @ x */
            ev.cs = 0;
            return matvec(dbl, kn, batch, M, K, A, a_bs, a_rs, a_cs, B, b_bs, b_rs, out,
                          ep ? &ev : NULL);
        }
        if (M == 1) {   /* y = x @ B = B^T @ x */
            ev.rs = c_cs;
            ev.cs = 0;
            return matvec(dbl, kn, batch, N, K, B, b_bs, b_cs, b_rs, A, a_bs, a_cs, out,
                          ep ? &ev : NULL);
        }
        if (2.0 * (double)M * (double)N * (double)K <= SMALL_FLOPS) {
            struct smjob s = {dbl, kn, M, N, K, 1, A, B, a_bs, a_rs, a_cs, b_bs, b_rs, b_cs,
                              batch, out, ep};
            /* a task is a group of matrices worth at least one small product */
            s.per = SMALL_FLOPS / (2 * M * N * K) + 1;
            int64_t ntask = (batch + s.per - 1) / s.per;
            mlxc_parallel_for(ntask, ntask > 1 ? mlxc_num_threads() : 1, small_task, &s);
            return MLXC_OK;
        }
        struct gjob j = {0};
        j.M = M; j.N = N; j.K = K;
        j.A = A; j.B = B; j.z = (int64_t)z;
        j.a_bs = a_bs; j.ars = a_rs; j.acs = a_cs; j.b_bs = b_bs; j.brs = b_rs; j.bcs = b_cs;
        j.C = out;
        j.ep = ep;
        j.dbl = dbl;
        j.bk = dbl ? kn->bd : kn->bs;
        j.ukr = dbl ? (void *)kn->ukd : (void *)kn->uks;
        j.pa = dbl ? pack_a_f64 : pack_a_f32;
#ifdef GEMM_X86
        if (!dbl && mlxc_isa_pick(mlxc_levels_matmul) >= MLXC_ISA_AVX2) j.pa = pack_a_f32_avx2;
#endif
#ifdef GEMM_NEON
        if (!dbl && kn == &kerns[MLXC_ISA_NEON]) j.pa = pack_a_f32_neon;
#endif
        j.pb = dbl ? pack_b_f64 : pack_b_f32;
#ifdef GEMM_X86
        if (!dbl && mlxc_isa_pick(mlxc_levels_matmul) >= MLXC_ISA_AVX2) j.pb = pack_b_f32_avx2;
#endif
        return run_gemm(&j, batch, dbl ? 8 : 4);
    }

    if (dtype == MLXC_FLOAT16 || dtype == MLXC_BFLOAT16) {
        int bf = dtype == MLXC_BFLOAT16;
        /* float accumulator for a group of matrices, about 8 MiB at most */
        int64_t group = (int64_t)((8u << 20) / (mn * sizeof(float)));
        group = group < 1 ? 1 : group > batch ? batch : group;
        float *acc = malloc((size_t)group * mn * sizeof(float));
        if (!acc) return MLXC_ERR_NOMEM;
        int st = MLXC_OK;
        for (int64_t b0 = 0; b0 < batch && st == MLXC_OK; b0 += group) {
            int64_t nb = min64(group, batch - b0);
            struct epi eg = e;  /* the group's matrices count from 0 */
            if (eg.C) eg.C += b0 * c_bs * 2;
            struct gjob j = {0};
            j.M = M; j.N = N; j.K = K;
            j.A = (const char *)A + b0 * a_bs * 2;
            j.B = (const char *)B + b0 * b_bs * 2;
            j.z = 2;
            j.a_bs = a_bs; j.ars = a_rs; j.acs = a_cs; j.b_bs = b_bs; j.brs = b_rs; j.bcs = b_cs;
            j.C = acc;
            j.H = (uint16_t *)out + b0 * (int64_t)mn;
            j.ep = ep ? &eg : NULL;
            j.half_bf16 = bf;
            j.bk = kn->bs;
            j.ukr = (void *)kn->uks;
            j.pa = bf ? pack_a_bf16 : pack_a_f16;
            j.pb = bf ? pack_b_bf16 : pack_b_f16;
            st = run_gemm(&j, nb, 4);
        }
        free(acc);
        return st;
    }

    return complex_gemm(kn, batch, M, N, K, A, a_bs, a_rs, a_cs, B, b_bs, b_rs, b_cs, out, ep);
}

/* GEMM whose A panels come from a packing hook (implicit GEMM): C (compute type:
 * double when dbl, else float) = A @ B for each of batch matrices; B read through
 * the packing of its storage dtype (float16/bfloat16 converted). */
int mlxc_gemm_hooked(int dbl, int b_dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
                     mlxc_pack_hook pa, const void *pctx,
                     const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                     void *C, int64_t c_bs, int64_t ldc)
{
    if (batch <= 0 || M <= 0 || N <= 0) return MLXC_OK;
    const struct kern *kn = &kerns[mlxc_isa_pick(mlxc_levels_matmul)];
    struct gjob j = {0};
    j.M = M; j.N = N; j.K = K;
    j.B = B; j.z = (int64_t)mlxc_itemsize(b_dtype);
    j.b_bs = b_bs; j.brs = b_rs; j.bcs = b_cs;
    j.C = C; j.c_bs = c_bs; j.ldc = ldc;
    j.dbl = dbl;
    j.bk = dbl ? kn->bd : kn->bs;
    j.ukr = dbl ? (void *)kn->ukd : (void *)kn->uks;
    j.pah = pa;
    j.pctx = pctx;
    j.pb = b_dtype == MLXC_FLOAT64 ? pack_b_f64 : b_dtype == MLXC_FLOAT16 ? pack_b_f16
         : b_dtype == MLXC_BFLOAT16 ? pack_b_bf16 : pack_b_f32;
    return run_gemm(&j, batch, dbl ? 8 : 4);
}

int mlxc_matmul(int dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
                const void *A, int64_t a_bs, int64_t a_rs, int64_t a_cs,
                const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                void *C)
{
    return mlxc_addmm(dtype, batch, M, N, K, A, a_bs, a_rs, a_cs, B, b_bs, b_rs, b_cs,
                      C, 1.0, 0.0, NULL, 0, 0, 0);
}

/* GEMM whose B panels come from the caller (quantized weights dequantized while
 * packing, kernels/quant.c): the packed path of mlxc_addmm with A float32. */
int mlxc_gemm_f32_packb(int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs,
                        int64_t a_cs, mlxc_packb_fn pack, const void *ctx, float *C)
{
    if (M <= 0 || N <= 0) return MLXC_OK;
    if (K <= 0) { memset(C, 0, (size_t)(M * N) * sizeof(float)); return MLXC_OK; }
    const struct kern *kn = &kerns[mlxc_isa_pick(mlxc_levels_matmul)];
    struct gjob j = {0};
    j.M = M; j.N = N; j.K = K;
    j.A = (const char *)A; j.B = NULL; j.z = 4;
    j.ars = a_rs; j.acs = a_cs;
    j.C = C;
    j.bk = kn->bs;
    j.ukr = (void *)kn->uks;
    j.pa = pack_a_f32;
#ifdef GEMM_X86
    if (mlxc_isa_pick(mlxc_levels_matmul) >= MLXC_ISA_AVX2) j.pa = pack_a_f32_avx2;
    /* few rows (the B panels are used by them only): a register tile of 8 rows when
     * 12 would compute padding rows (MR does not change any sum) */
    if (kn == &kerns[MLXC_ISA_AVX512] && M <= j.bk.mc && round_up(M, 8) < round_up(M, 12)) {
        j.bk.mr = 8;
        j.ukr = (void *)ukr_f32_avx512_8;
    }
#endif
#ifdef GEMM_NEON
    if (kn == &kerns[MLXC_ISA_NEON]) j.pa = pack_a_f32_neon;
#endif
    j.pb = pack_b_f32;
    j.pbx = pack;
    j.pbx_ctx = ctx;
    return run_gemm(&j, 1, 4);
}

int mlxc_gemm_nr(void) { return kerns[mlxc_isa_pick(mlxc_levels_matmul)].bs.nr; }

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#if defined(GEMM_X86)
const unsigned mlxc_levels_matmul = MLXC_LEVELS_X86;
#elif defined(GEMM_NEON)
const unsigned mlxc_levels_matmul = MLXC_LEVELS_SCALAR | MLXC_LEVEL(MLXC_ISA_NEON);
#else
const unsigned mlxc_levels_matmul = MLXC_LEVELS_SCALAR;
#endif
