/* Internal helpers shared by the kernel files (not part of the ABI).
 *
 * Per-dtype macros are keyed by a short type name:
 *   b u8 u16 u32 u64 i8 i16 i32 i64 f16 bf16 f32 f64 c64
 * For each name N:
 *   STY_N   storage type          CTY_N  compute type (half -> float)
 *   UTY_N   unsigned type of the same width (bit tricks)
 *   WTY_N   unsigned type >= unsigned int used for wrapping integer arithmetic
 *   CL_N    class: B (bool) U (unsigned) S (signed) F (real float) C (complex)
 *   LD_N(x) storage -> compute    SV_N(v) compute -> storage
 *   CV_N(v) any compute value (of any dtype) -> storage of N (the cast rules of
 *           mlxc_copy), dispatched on the C type of v with _Generic.
 *   CODE_N  the enum mlxc_dtype value.
 * Type lists TL_*(M, ...) expand M(N, ...) for every name in the list.
 */
#ifndef MLXC_INTERNAL_H
#define MLXC_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <complex.h>
#include "mlxc_kernels.h"

typedef float _Complex mlxc_c64;

/* ------------------------------------------------------------------ bits */
static inline uint32_t mlxc_f2u(float f) { union { float f; uint32_t u; } c; c.f = f; return c.u; }
static inline float mlxc_u2f(uint32_t u) { union { float f; uint32_t u; } c; c.u = u; return c.f; }

/* ------------------------------------------------------------------ half */
/* binary16 -> binary32, exact.  Subnormals go through an int->float conversion
 * (not a subnormal float multiply) so the result is right even when the process
 * runs with denormals-are-zero. */
static inline float mlxc_h2f(uint16_t h)
{
    uint32_t e = h & 0x7c00u;
    uint32_t norm = ((uint32_t)(h & 0x7fffu) << 13) + ((uint32_t)(127 - 15) << 23);
    uint32_t sub = mlxc_f2u((float)(int32_t)(h & 0x3ffu) * 0x1p-24f);
    /* selects written as masks: gcc will not if-convert the float multiply */
    uint32_t is_sub = 0u - (uint32_t)(e == 0), is_inf = 0u - (uint32_t)(e == 0x7c00u);
    uint32_t r = (sub & is_sub) | (norm & ~is_sub) | (is_inf & 0x7f800000u);
    return mlxc_u2f(r | ((uint32_t)(h & 0x8000u) << 16));
}

/* binary32 -> binary16, round to nearest even; NaN stays NaN (quieted, sign and
 * top payload bits kept); overflow -> inf.  Branch-free so loops vectorize. */
static inline uint16_t mlxc_f2h(float f)
{
    uint32_t x = mlxc_f2u(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t a = x & 0x7fffffffu;
    uint32_t nan = 0x7e00u | ((a >> 13) & 0x3ffu);
    /* below 2^-14 the result is subnormal: adding 0.5f puts the half ulp (2^-24)
     * at the float ulp, so the FPU does the round-to-nearest-even for us */
    uint32_t sub = mlxc_f2u(mlxc_u2f(a) + 0.5f) - 0x3f000000u;
    /* normal: rebias, add half an ulp minus one plus the lsb (ties to even);
     * a carry out of the mantissa correctly bumps the exponent */
    uint32_t norm = (a - ((uint32_t)(127 - 15) << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
    uint32_t m_sub = 0u - (uint32_t)(a < 0x38800000u);
    uint32_t m_inf = 0u - (uint32_t)(a >= 0x477ff000u);   /* >= 65520 rounds to inf */
    uint32_t m_nan = 0u - (uint32_t)(a > 0x7f800000u);
    uint32_t r = (sub & m_sub) | (norm & ~m_sub);
    r = (0x7c00u & m_inf) | (r & ~m_inf);
    r = (nan & m_nan) | (r & ~m_nan);
    return (uint16_t)(r | sign);
}

static inline float mlxc_bf2f(uint16_t h) { return mlxc_u2f((uint32_t)h << 16); }

static inline uint16_t mlxc_f2bf(float f)
{
    uint32_t x = mlxc_f2u(f);
    uint32_t r = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    uint32_t q = (x >> 16) | 0x40u;                /* quiet NaN, sign kept */
    return (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? q : r);
}

/* float32 -> float16 / bfloat16 as MLX's CPU build converts (quantize's scales,
 * dequantize's outputs, fp8 decoding): as mlxc_f2h / mlxc_f2bf except that every NaN
 * becomes sign | 0x7d00 (float16) or 0x7fc0 (bfloat16, sign dropped). */
static inline uint16_t mlxc_f2h_mlx(float f)
{
    uint32_t x = mlxc_f2u(f);
    return (x & 0x7fffffffu) > 0x7f800000u ? (uint16_t)(((x >> 16) & 0x8000u) | 0x7d00u)
                                           : mlxc_f2h(f);
}

static inline uint16_t mlxc_f2bf_mlx(float f)
{
    return (mlxc_f2u(f) & 0x7fffffffu) > 0x7f800000u ? (uint16_t)0x7fc0u : mlxc_f2bf(f);
}

/* ------------------------------------------------ safe float -> int casts */
/* Out of range / NaN give what x86-64 hardware gives (the "integer
 * indefinite" value, truncated for narrow types), which is what MLX produces on
 * x86; never undefined behaviour. */
static inline int32_t mlxc_d2i32(double x)
{
    return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}
static inline int64_t mlxc_d2i64(double x)
{
    return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x : INT64_MIN;
}
static inline uint64_t mlxc_d2u64(double x)
{
    if (!(x >= 9223372036854775808.0)) return (uint64_t)mlxc_d2i64(x);
    return x < 18446744073709551616.0 ? (uint64_t)x : 0;
}

/* ---------------------------------------------------------------- complex */
static inline mlxc_c64 mlxc_cmake(float re, float im) { return CMPLXF(re, im); }
/* plain (a+bi)(c+di): like MLX, no inf/NaN recovery, vectorizes */
static inline mlxc_c64 mlxc_cmul(mlxc_c64 a, mlxc_c64 b)
{
    float ar = crealf(a), ai = cimagf(a), br = crealf(b), bi = cimagf(b);
    return CMPLXF(ar * br - ai * bi, ar * bi + ai * br);
}
/* Smith's algorithm: avoids the overflow of the textbook formula */
static inline mlxc_c64 mlxc_cdiv(mlxc_c64 a, mlxc_c64 b)
{
    float ar = crealf(a), ai = cimagf(a), br = crealf(b), bi = cimagf(b);
    if (fabsf(br) >= fabsf(bi)) {
        if (br == 0.0f && bi == 0.0f)   /* x/0: component-wise, gives inf or NaN */
            return CMPLXF(ar / br, ai / br);
        float r = bi / br, d = br + bi * r;
        return CMPLXF((ar + ai * r) / d, (ai - ar * r) / d);
    } else {
        float r = br / bi, d = bi + br * r;
        return CMPLXF((ar * r + ai) / d, (ai * r - ar) / d);
    }
}
static inline int mlxc_cnz(mlxc_c64 v) { return crealf(v) != 0.0f || cimagf(v) != 0.0f; }

/* ------------------------------------------------------- per-dtype macros */
#define CODE_b   MLXC_BOOL
#define CODE_u8  MLXC_UINT8
#define CODE_u16 MLXC_UINT16
#define CODE_u32 MLXC_UINT32
#define CODE_u64 MLXC_UINT64
#define CODE_i8  MLXC_INT8
#define CODE_i16 MLXC_INT16
#define CODE_i32 MLXC_INT32
#define CODE_i64 MLXC_INT64
#define CODE_f16 MLXC_FLOAT16
#define CODE_bf16 MLXC_BFLOAT16
#define CODE_f32 MLXC_FLOAT32
#define CODE_f64 MLXC_FLOAT64
#define CODE_c64 MLXC_COMPLEX64

#define STY_b   uint8_t
#define STY_u8  uint8_t
#define STY_u16 uint16_t
#define STY_u32 uint32_t
#define STY_u64 uint64_t
#define STY_i8  int8_t
#define STY_i16 int16_t
#define STY_i32 int32_t
#define STY_i64 int64_t
#define STY_f16 uint16_t
#define STY_bf16 uint16_t
#define STY_f32 float
#define STY_f64 double
#define STY_c64 mlxc_c64

#define CTY_b   uint8_t
#define CTY_u8  uint8_t
#define CTY_u16 uint16_t
#define CTY_u32 uint32_t
#define CTY_u64 uint64_t
#define CTY_i8  int8_t
#define CTY_i16 int16_t
#define CTY_i32 int32_t
#define CTY_i64 int64_t
#define CTY_f16 float
#define CTY_bf16 float
#define CTY_f32 float
#define CTY_f64 double
#define CTY_c64 mlxc_c64

#define UTY_b   uint8_t
#define UTY_u8  uint8_t
#define UTY_u16 uint16_t
#define UTY_u32 uint32_t
#define UTY_u64 uint64_t
#define UTY_i8  uint8_t
#define UTY_i16 uint16_t
#define UTY_i32 uint32_t
#define UTY_i64 uint64_t
#define UTY_f16 float
#define UTY_bf16 float
#define UTY_f32 float
#define UTY_f64 double
#define UTY_c64 mlxc_c64

/* wrapping arithmetic type: unsigned and at least as wide as unsigned int, so
 * that integer promotion never turns a wrap into signed overflow */
#define WTY_b   uint32_t
#define WTY_u8  uint32_t
#define WTY_u16 uint32_t
#define WTY_u32 uint32_t
#define WTY_u64 uint64_t
#define WTY_i8  uint32_t
#define WTY_i16 uint32_t
#define WTY_i32 uint32_t
#define WTY_i64 uint64_t
#define WTY_f16 float
#define WTY_bf16 float
#define WTY_f32 float
#define WTY_f64 double
#define WTY_c64 mlxc_c64

#define CL_b   B
#define CL_u8  U
#define CL_u16 U
#define CL_u32 U
#define CL_u64 U
#define CL_i8  S
#define CL_i16 S
#define CL_i32 S
#define CL_i64 S
#define CL_f16 F
#define CL_bf16 F
#define CL_f32 F
#define CL_f64 F
#define CL_c64 C

/* value range of integer and bool names */
#define MINV_b 0
#define MAXV_b 1
#define MINV_u8 0
#define MAXV_u8 UINT8_MAX
#define MINV_u16 0
#define MAXV_u16 UINT16_MAX
#define MINV_u32 0
#define MAXV_u32 UINT32_MAX
#define MINV_u64 0
#define MAXV_u64 UINT64_MAX
#define MINV_i8 INT8_MIN
#define MAXV_i8 INT8_MAX
#define MINV_i16 INT16_MIN
#define MAXV_i16 INT16_MAX
#define MINV_i32 INT32_MIN
#define MAXV_i32 INT32_MAX
#define MINV_i64 INT64_MIN
#define MAXV_i64 INT64_MAX

/* bit width of integer names (shifts) */
#define BITS_u8 8
#define BITS_u16 16
#define BITS_u32 32
#define BITS_u64 64
#define BITS_i8 8
#define BITS_i16 16
#define BITS_i32 32
#define BITS_i64 64

#define LD_b(x) (x)
#define LD_u8(x) (x)
#define LD_u16(x) (x)
#define LD_u32(x) (x)
#define LD_u64(x) (x)
#define LD_i8(x) (x)
#define LD_i16(x) (x)
#define LD_i32(x) (x)
#define LD_i64(x) (x)
#define LD_f16(x) mlxc_h2f(x)
#define LD_bf16(x) mlxc_bf2f(x)
#define LD_f32(x) (x)
#define LD_f64(x) (x)
#define LD_c64(x) (x)

#define SV_b(v) ((uint8_t)(v))
#define SV_u8(v) ((uint8_t)(v))
#define SV_u16(v) ((uint16_t)(v))
#define SV_u32(v) ((uint32_t)(v))
#define SV_u64(v) ((uint64_t)(v))
#define SV_i8(v) ((int8_t)(v))
#define SV_i16(v) ((int16_t)(v))
#define SV_i32(v) ((int32_t)(v))
#define SV_i64(v) ((int64_t)(v))
#define SV_f16(v) mlxc_f2h(v)
#define SV_bf16(v) mlxc_f2bf(v)
#define SV_f32(v) ((float)(v))
#define SV_f64(v) ((double)(v))
#define SV_c64(v) (v)

/* Casts from any compute value.  In _Generic every branch must compile for
 * every operand type; implicit complex->real conversions take the real part. */
#define MLXC_RE(v) _Generic((v), mlxc_c64: crealf(v), default: (v))
#define MLXC_ISFLT(v) _Generic((v), float: 1, double: 1, mlxc_c64: 1, default: 0)
#define CV_b(v) ((uint8_t)_Generic((v), mlxc_c64: mlxc_cnz(v), default: (v) != 0))
#define MLXC_CV_NARROW(T, v) _Generic((v), float: (T)mlxc_d2i32(v), double: (T)mlxc_d2i32(v), \
        mlxc_c64: (T)mlxc_d2i32(crealf(v)), default: (T)(v))
#define CV_u8(v) MLXC_CV_NARROW(uint8_t, v)
#define CV_u16(v) MLXC_CV_NARROW(uint16_t, v)
#define CV_i8(v) MLXC_CV_NARROW(int8_t, v)
#define CV_i16(v) MLXC_CV_NARROW(int16_t, v)
#define CV_i32(v) MLXC_CV_NARROW(int32_t, v)
#define CV_u32(v) _Generic((v), float: (uint32_t)mlxc_d2i64(v), double: (uint32_t)mlxc_d2i64(v), \
        mlxc_c64: (uint32_t)mlxc_d2i64(crealf(v)), default: (uint32_t)(v))
#define CV_i64(v) _Generic((v), float: mlxc_d2i64(v), double: mlxc_d2i64(v), \
        mlxc_c64: mlxc_d2i64(crealf(v)), default: (int64_t)(v))
#define CV_u64(v) _Generic((v), float: mlxc_d2u64(v), double: mlxc_d2u64(v), \
        mlxc_c64: mlxc_d2u64(crealf(v)), default: (uint64_t)(v))
#define CV_f32(v) ((float)MLXC_RE(v))
#define CV_f64(v) ((double)MLXC_RE(v))
#define CV_f16(v) mlxc_f2h((float)MLXC_RE(v))
#define CV_bf16(v) mlxc_f2bf((float)MLXC_RE(v))
#define CV_c64(v) _Generic((v), mlxc_c64: (v), default: CMPLXF((float)MLXC_RE(v), 0.0f))

/* ------------------------------------------------------------ type lists */
#define TL_UINT(M, ...) M(u8, __VA_ARGS__) M(u16, __VA_ARGS__) M(u32, __VA_ARGS__) M(u64, __VA_ARGS__)
#define TL_SINT(M, ...) M(i8, __VA_ARGS__) M(i16, __VA_ARGS__) M(i32, __VA_ARGS__) M(i64, __VA_ARGS__)
#define TL_INT(M, ...) TL_UINT(M, __VA_ARGS__) TL_SINT(M, __VA_ARGS__)
#define TL_BOOL(M, ...) M(b, __VA_ARGS__)
#define TL_FLT(M, ...) M(f16, __VA_ARGS__) M(bf16, __VA_ARGS__) M(f32, __VA_ARGS__) M(f64, __VA_ARGS__)
#define TL_CPLX(M, ...) M(c64, __VA_ARGS__)
#define TL_REAL(M, ...) TL_BOOL(M, __VA_ARGS__) TL_INT(M, __VA_ARGS__) TL_FLT(M, __VA_ARGS__)
#define TL_NUM(M, ...) TL_INT(M, __VA_ARGS__) TL_FLT(M, __VA_ARGS__) TL_CPLX(M, __VA_ARGS__)
#define TL_ALL(M, ...) TL_REAL(M, __VA_ARGS__) TL_CPLX(M, __VA_ARGS__)
/* a second copy so a list can be expanded inside another list's expansion */
#define TL_ALL2(M, ...) M(b, __VA_ARGS__) M(u8, __VA_ARGS__) M(u16, __VA_ARGS__) M(u32, __VA_ARGS__) \
    M(u64, __VA_ARGS__) M(i8, __VA_ARGS__) M(i16, __VA_ARGS__) M(i32, __VA_ARGS__) M(i64, __VA_ARGS__) \
    M(f16, __VA_ARGS__) M(bf16, __VA_ARGS__) M(f32, __VA_ARGS__) M(f64, __VA_ARGS__) M(c64, __VA_ARGS__)

#define MLXC_CAT(a, b) MLXC_CAT_(a, b)
#define MLXC_CAT_(a, b) a##b
#define MLXC_CAT3(a, b, c) MLXC_CAT3_(a, b, c)
#define MLXC_CAT3_(a, b, c) a##b##c

static inline size_t mlxc_itemsize(int dtype)
{
    static const unsigned char sz[MLXC_NUM_DTYPES] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, 8};
    return (dtype >= 0 && dtype < MLXC_NUM_DTYPES) ? sz[dtype] : 0;
}

/* ------------------------------------------------ strided N-d iteration */
/* After dropping size-1 dims and merging dims that are contiguous for every
 * operand, at most 63 dims remain (each is >= 2 and the product fits int64). */
#define MLXC_MAXD 64
#define MLXC_MAXOPS 4

/* n half values <-> float32, F16C where the SIMD level has it (kernels/halfconv.c);
 * the same bits as mlxc_h2f / mlxc_f2h / mlxc_bf2f / mlxc_f2bf element by element. */
void mlxc_h2f_n(float *dst, const uint16_t *src, int64_t n);
void mlxc_f2h_n(uint16_t *dst, const float *src, int64_t n);
void mlxc_bf2f_n(float *dst, const uint16_t *src, int64_t n);
void mlxc_f2bf_n(uint16_t *dst, const float *src, int64_t n);

/* out[j * ldo + i] = in[i * ldi + j] for i < ni, j < nj: a cache-friendly,
 * threaded transposing copy of z-byte elements (kernels/transpose.c). */
int mlxc_transpose_copy(size_t z, void *out, int64_t ldo, const void *in, int64_t ldi,
                        int64_t ni, int64_t nj);

/* GEMM with A's panels written by a hook (kernels/matmul.c; implicit GEMM in
 * conv.c).  The hook fills dst[p * mr + r] (compute type: float, or double for
 * float64) with A[i0 + r][p0 + p] of matrix bi for r < m, p < k, and zeros for
 * rows m..mr-1.  C (compute type) gets A @ B, matrix b at C + b * c_bs, rows ldc
 * apart; B (storage dtype b_dtype) through its strides. */
typedef void (*mlxc_pack_hook)(const void *ctx, void *dst, int64_t bi, int64_t i0, int64_t p0,
                               int64_t m, int64_t k, int mr);
int mlxc_gemm_hooked(int dbl, int b_dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
                     mlxc_pack_hook pa, const void *pctx,
                     const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                     void *C, int64_t c_bs, int64_t ldc);

/* dst[p * mr + r] = src[r][p] for r < mr, p < n; a NULL src[r] gives zeros
 * (float32 panel packing from row pointers, kernels/matmul.c) */
void mlxc_pack_rows_f32(float *dst, const float *const *src, int mr, int64_t n);

typedef struct {
    int ndim;                          /* >= 1; index 0 is the INNERMOST dim */
    int nops;
    int64_t shape[MLXC_MAXD];
    int64_t st[MLXC_MAXOPS][MLXC_MAXD];
} mlxc_nd;

/* strides[k] == NULL means "row-major contiguous over shape".  Returns the
 * element count (0: nothing to do). */
static inline int64_t mlxc_nd_init(mlxc_nd *L, int nops, int ndim, const int64_t *shape,
                                   const int64_t *const *strides)
{
    int64_t cst = 1, total = 1;
    int m = 0;
    L->nops = nops;
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t n = shape[d];
        if (n == 0) {
            L->ndim = 1;
            L->shape[0] = 0;
            for (int k = 0; k < nops; k++) L->st[k][0] = 0;
            return 0;
        }
        if (n == 1) continue;
        int64_t s[MLXC_MAXOPS];
        for (int k = 0; k < nops; k++) s[k] = strides[k] ? strides[k][d] : cst;
        int merge = m > 0;
        for (int k = 0; k < nops && merge; k++)
            if (s[k] != L->st[k][m - 1] * L->shape[m - 1]) merge = 0;
        if (merge) {
            L->shape[m - 1] *= n;
        } else {
            L->shape[m] = n;
            for (int k = 0; k < nops; k++) L->st[k][m] = s[k];
            m++;
        }
        cst *= n;
        total *= n;
    }
    if (m == 0) {
        L->shape[0] = 1;
        for (int k = 0; k < nops; k++) L->st[k][0] = 0;
        m = 1;
    }
    L->ndim = m;
    return total;
}

/* Advance the element offsets off[] to the next row (dims 1..ndim-1).
 * Returns 0 after the last row. */
static inline int mlxc_nd_next(const mlxc_nd *L, int64_t *ctr, int64_t *off)
{
    for (int d = 1; d < L->ndim; d++) {
        for (int k = 0; k < L->nops; k++) off[k] += L->st[k][d];
        if (++ctr[d] < L->shape[d]) return 1;
        for (int k = 0; k < L->nops; k++) off[k] -= L->st[k][d] * L->shape[d];
        ctr[d] = 0;
    }
    return 0;
}

/* GEMM with a caller-supplied B packer (kernels/matmul.c): C (M x N, contiguous) =
 * A @ B for float32 A (element (i, p) at A + i*a_rs + p*a_cs), where B (K x N) is
 * never stored: pack(ctx, dst, pc, kc, j0, n, NR) writes rows pc..pc+kc-1, columns
 * j0..j0+n-1 of B as dst[p*NR + q] (columns n..NR-1 zero).  kc is a multiple of 32
 * whenever K is; every pc is a multiple of 256.  Same blocking, micro-kernels and
 * thread cuts as mlxc_matmul, so results do not depend on the thread count.
 * mlxc_gemm_nr: the NR that pack will be called with at the current ISA. */
typedef void (*mlxc_packb_fn)(const void *ctx, float *dst, int64_t pc, int64_t kc,
                              int64_t j0, int64_t n, int NR);
int mlxc_gemm_f32_packb(int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs,
                        int64_t a_cs, mlxc_packb_fn pack, const void *ctx, float *C);
int mlxc_gemm_nr(void);
/* ------------------------------------------------ row kernels (fused.c) */
/* One elementwise kernel resolved for runs of elements, exactly as the family's
 * entry point (mlxc_unary, mlxc_binary, mlxc_select, mlxc_copy) picks it for a
 * single run at the current SIMD level, so a fused program computes every
 * element with the same code as the unfused ops.  run(): out[i] = f(src[k][i *
 * s[k]]...), each s[k] 0 (a broadcast scalar) or 1 (contiguous). */
typedef void (*mlxc_anyfn)(void);
typedef struct mlxc_rowop mlxc_rowop;
struct mlxc_rowop {
    void (*run)(const mlxc_rowop *r, void *out, const void *const *src, const int64_t *s,
                int64_t n);
    mlxc_anyfn fn;     /* the family's table kernel */
    mlxc_anyfn vfn;    /* its SIMD vector-math kernel (unary math, pow), or NULL */
    int dtype;
};
/* each returns MLXC_OK, or MLXC_ERR_UNSUPPORTED where the entry point would */
int mlxc_unary_rowop(int op, int dtype, mlxc_rowop *r);
int mlxc_binary_rowop(int op, int dtype, mlxc_rowop *r);
int mlxc_select_rowop(int dtype, mlxc_rowop *r);
int mlxc_cast_rowop(int dtype_in, int dtype_out, mlxc_rowop *r);

/* Float maximum / minimum as MLX has them: NaN wins (the first operand's when both
 * are NaN); binary.c's kernels and the chains (fused_chain.c) share them. */
#define MLXC_FMAX(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define MLXC_FMIN(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))

/* Float sums (reduce.c): a row of <= MLXC_SUM_LEAF elements is one leaf, element i
 * added into lane i % MLXC_SUM_LANES, the lanes folded by halving; the chains' sums
 * (fused_chain.c) add in the same order. */
#define MLXC_SUM_LANES 64
#define MLXC_SUM_LEAF 2048

/* Chains (fused_chain.c): acc = a[i * sa], then for each step
 * acc = swap ? op(w, acc) : op(acc, w) with w = p[i * s] (s 0 or 1; p NULL: w is
 * acc itself), or acc = op(acc) for a unary step; one IEEE op per step, as the
 * binary / unary kernels.  Steps' ops: add, sub, mul, div, maximum, minimum
 * (mlxc_chain_op_ok) and neg, abs, sqrt, square (mlxc_chain_unary_ok) of float32 /
 * float64.  The final acc goes by `how`:
 * STORE out[i] = acc; STREAM the same with non-temporal stores where aligned (the
 * caller fences); SUM out[0] = the sum of the n <= MLXC_SUM_LEAF values, bit for bit
 * mlxc_reduce's sum of them. */
typedef struct { int op, swap; const void *p; int64_t s; void *tee; int unary; } mlxc_chain_step;
/* (tee: where the step's running value is also stored, contiguous, or NULL; unary: op
 * is a unary op code) */
enum { MLXC_CHAIN_STORE = 0, MLXC_CHAIN_STREAM, MLXC_CHAIN_SUM };
typedef void (*mlxc_chain_fn)(void *out, const void *a, int64_t sa, const mlxc_chain_step *st,
                              int nst, int64_t n, int how);
int mlxc_chain_op_ok(int op, int dtype);
int mlxc_chain_unary_ok(int op, int dtype);
mlxc_chain_fn mlxc_chain_kernel(int dtype, int isa);   /* NULL: no chain for the dtype */

#endif
