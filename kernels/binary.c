/* mlxc_binary: out[i] = f(a[i], b[i]).  One kernel per (op, dtype), with
 * separate contiguous / a-scalar / b-scalar / strided inner loops.
 *
 * Fast paths when the operands collapse to one run of elements: float32 /
 * float64 ADD SUB MUL DIV MAXIMUM MINIMUM through copies of the same loops
 * compiled for the AVX2 / AVX-512 level (gcc vectorizes them at full width);
 * float32 / float16 / bfloat16 POWER through the SIMD pow of vmath.h (half
 * types in float32 blocks); past a size threshold the run is cut into fixed
 * chunks for the thread pool.  Every element is computed by the same code
 * whatever the chunk, so results do not depend on the thread count. */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"
#include "vmath.h"
#include <tgmath.h>

/* ----------------------------------------------------- integer helpers */
/* Division-like ops branch on 0 and -1 so that nothing ever traps
 * (x/0, x%0, INT_MIN/-1, INT_MIN%-1). */
/* x^e by squaring, wrapping: the low bits of a product do not depend on the
 * bits above them, so every integer width takes the low bits of this one */
static inline uint64_t upow(uint64_t x, uint64_t e)
{
    uint64_t r = 1;
    for (; e; e >>= 1) {
        if (e & 1) r *= x;
        x *= x;
    }
    return r;
}
#define GEN_IHELP_S(N, unused)                                                      \
static inline STY_##N ineg_##N(STY_##N a) { return (STY_##N)((WTY_##N)0 - (WTY_##N)a); } \
static inline STY_##N idiv_##N(STY_##N a, STY_##N b)                                \
{                                                                                   \
    if (b == 0) return 0;                                                           \
    if (b == -1) return ineg_##N(a);                                                \
    return (STY_##N)(a / b);                                                        \
}                                                                                   \
static inline STY_##N ifdiv_##N(STY_##N a, STY_##N b)                               \
{                                                                                   \
    if (b == 0) return 0;                                                           \
    if (b == -1) return ineg_##N(a);                                                \
    STY_##N q = (STY_##N)(a / b);                                                   \
    if ((STY_##N)(a % b) != 0 && ((a < 0) != (b < 0))) q = (STY_##N)(q - 1);        \
    return q;                                                                       \
}                                                                                   \
static inline STY_##N irem_##N(STY_##N a, STY_##N b)                                \
{                                                                                   \
    if (b == 0) return a;            /* MLX: x % 0 is x, never a trap */            \
    if (b == -1) return 0;                                                          \
    STY_##N r = (STY_##N)(a % b);                                                   \
    if (r != 0 && ((r < 0) != (b < 0))) r = (STY_##N)(r + b);                       \
    return r;                                                                       \
}                                                                                   \
static inline STY_##N ipow_##N(STY_##N a, STY_##N b)                                \
{                                                                                   \
    if (b < 0) return (STY_##N)(a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0);     \
    return (STY_##N)upow((uint64_t)(WTY_##N)a, (uint64_t)b);                        \
}                                                                                   \
static inline STY_##N ishl_##N(STY_##N a, STY_##N b)                                \
{                                                                                   \
    return (b < 0 || b >= BITS_##N) ? 0 : (STY_##N)((WTY_##N)a << b);               \
}                                                                                   \
/* arithmetic shift written without relying on >> of negative values */           \
static inline STY_##N ishr_##N(STY_##N a, STY_##N b)                                \
{                                                                                   \
    if (b < 0 || b >= BITS_##N) return (STY_##N)(a < 0 ? -1 : 0);                  \
    return a < 0 ? (STY_##N)~(~a >> b) : (STY_##N)(a >> b);                         \
}
#define GEN_IHELP_U(N, unused)                                                      \
static inline STY_##N idiv_##N(STY_##N a, STY_##N b) { return b == 0 ? 0 : (STY_##N)(a / b); } \
static inline STY_##N ifdiv_##N(STY_##N a, STY_##N b) { return b == 0 ? 0 : (STY_##N)(a / b); } \
static inline STY_##N irem_##N(STY_##N a, STY_##N b) { return b == 0 ? a : (STY_##N)(a % b); } \
static inline STY_##N ipow_##N(STY_##N a, STY_##N b) { return (STY_##N)upow(a, b); } \
static inline STY_##N ishl_##N(STY_##N a, STY_##N b)                                \
{                                                                                   \
    return b >= BITS_##N ? 0 : (STY_##N)((WTY_##N)a << b);                          \
}                                                                                   \
static inline STY_##N ishr_##N(STY_##N a, STY_##N b)                                \
{                                                                                   \
    return b >= BITS_##N ? 0 : (STY_##N)(a >> b);                                   \
}
TL_SINT(GEN_IHELP_S, 0)
TL_UINT(GEN_IHELP_U, 0)

/* ------------------------------------------------------- float helpers */
/* MLX's remainder: fmod, then moved into b's sign (so 5 % inf = 5,
 * -5 % inf = inf, x % 0 = NaN). */
static inline float frem_f(float a, float b)
{
    float r = fmodf(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline double frem_d(double a, double b)
{
    double r = fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
/* log(exp(a) + exp(b)) without overflow; equal infinities give that infinity.
 * float goes through double: lo - hi rounded in float would cost a few ulps */
static inline double lae_d(double a, double b);
static inline float lae_f(float a, float b) { return (float)lae_d(a, b); }
static inline double lae_d(double a, double b)
{
    if (isnan(a) || isnan(b)) return a + b;
    double hi = a > b ? a : b, lo = a > b ? b : a;
    if (lo == -INFINITY || hi == INFINITY) return hi;
    return hi + log1p(exp(lo - hi));
}
/* MLX's complex power: exp(b * log(a)) with the plain product */
static inline mlxc_c64 cpow_m(mlxc_c64 a, mlxc_c64 b) { return cexpf(mlxc_cmul(b, clogf(a))); }

/* --------------------------------------------------- scalar semantics */
/* BOP_<op>_<class>(a, b, T, W, N): T compute type, W wrap type, N type name */
#define BOP_ADD_INT(a, b, T, W, N) ((T)((W)(a) + (W)(b)))
#define BOP_SUB_INT(a, b, T, W, N) ((T)((W)(a) - (W)(b)))
#define BOP_MUL_INT(a, b, T, W, N) ((T)((W)(a) * (W)(b)))
#define BOP_DIV_INT(a, b, T, W, N) idiv_##N(a, b)
#define BOP_FLOOR_DIV_INT(a, b, T, W, N) ifdiv_##N(a, b)
#define BOP_REMAINDER_INT(a, b, T, W, N) irem_##N(a, b)
#define BOP_POWER_INT(a, b, T, W, N) ipow_##N(a, b)
#define BOP_MAXIMUM_INT(a, b, T, W, N) ((a) > (b) ? (a) : (b))
#define BOP_MINIMUM_INT(a, b, T, W, N) ((a) < (b) ? (a) : (b))
#define BOP_LEFT_SHIFT_INT(a, b, T, W, N) ishl_##N(a, b)
#define BOP_RIGHT_SHIFT_INT(a, b, T, W, N) ishr_##N(a, b)

#define BOP_ADD_F(a, b, T, W, N) ((a) + (b))
#define BOP_SUB_F(a, b, T, W, N) ((a) - (b))
#define BOP_MUL_F(a, b, T, W, N) ((a) * (b))
#define BOP_DIV_F(a, b, T, W, N) ((a) / (b))
#define BOP_FLOOR_DIV_F(a, b, T, W, N) floor((a) / (b))
#define BOP_REMAINDER_F(a, b, T, W, N) _Generic((a), float: frem_f, default: frem_d)(a, b)
#define BOP_POWER_F(a, b, T, W, N) pow(a, b)
#define BOP_MAXIMUM_F(a, b, T, W, N) MLXC_FMAX(a, b)
#define BOP_MINIMUM_F(a, b, T, W, N) MLXC_FMIN(a, b)
#define BOP_ARCTAN2_F(a, b, T, W, N) atan2(a, b)
#define BOP_LOGADDEXP_F(a, b, T, W, N) _Generic((a), float: lae_f, default: lae_d)(a, b)

#define BOP_ADD_C(a, b, T, W, N) ((a) + (b))
#define BOP_SUB_C(a, b, T, W, N) ((a) - (b))
#define BOP_MUL_C(a, b, T, W, N) mlxc_cmul(a, b)
#define BOP_DIV_C(a, b, T, W, N) mlxc_cdiv(a, b)
#define BOP_POWER_C(a, b, T, W, N) cpow_m(a, b)

/* bool arithmetic is integer arithmetic cast back to bool */
#define BOP_ADD_B(a, b, T, W, N) ((uint8_t)((a) | (b)))
#define BOP_SUB_B(a, b, T, W, N) ((uint8_t)((a) != (b)))
#define BOP_MUL_B(a, b, T, W, N) ((uint8_t)((a) & (b)))
#define BOP_MAXIMUM_B BOP_ADD_B
#define BOP_MINIMUM_B BOP_MUL_B

/* any class */
#define BOP_EQ(a, b, T, W, N) ((a) == (b))
#define BOP_NE(a, b, T, W, N) ((a) != (b))
#define BOP_LT(a, b, T, W, N) ((a) < (b))
#define BOP_LE(a, b, T, W, N) ((a) <= (b))
#define BOP_GT(a, b, T, W, N) ((a) > (b))
#define BOP_GE(a, b, T, W, N) ((a) >= (b))
#define BOP_LOGICAL_AND(a, b, T, W, N) ((uint8_t)((a) && (b)))
#define BOP_LOGICAL_OR(a, b, T, W, N) ((uint8_t)((a) || (b)))
#define BOP_LOGICAL_XOR(a, b, T, W, N) ((uint8_t)(!(a) != !(b)))
#define BOP_BITWISE_AND(a, b, T, W, N) ((T)((a) & (b)))
#define BOP_BITWISE_OR(a, b, T, W, N) ((T)((a) | (b)))
#define BOP_BITWISE_XOR(a, b, T, W, N) ((T)((a) ^ (b)))

/* ------------------------------------------------------------- kernels */
typedef void (*bi_fn)(void *out, const void *a, int64_t sa, const void *b, int64_t sb, int64_t n);

#define BI_APPLY(F, N, ON, x, y) SV_##ON(F(x, y, CTY_##N, WTY_##N, N))
#define GEN_BI(op, F, N, ON)                                                        \
static void bi_##op##_##N(void *o_, const void *a_, int64_t sa, const void *b_,     \
                          int64_t sb, int64_t n)                                    \
{                                                                                   \
    STY_##ON *restrict o = o_;                                                      \
    const STY_##N *restrict a = a_;                                                 \
    const STY_##N *restrict b = b_;                                                 \
    if (sa == 1 && sb == 1) {                                                       \
        for (int64_t i = 0; i < n; i++) {                                           \
            CTY_##N x = LD_##N(a[i]), y = LD_##N(b[i]);                             \
            o[i] = BI_APPLY(F, N, ON, x, y);                                        \
        }                                                                           \
    } else if (sa == 0 && sb == 1) {                                                \
        CTY_##N x = LD_##N(a[0]);                                                   \
        for (int64_t i = 0; i < n; i++) {                                           \
            CTY_##N y = LD_##N(b[i]);                                               \
            o[i] = BI_APPLY(F, N, ON, x, y);                                        \
        }                                                                           \
    } else if (sa == 1 && sb == 0) {                                                \
        CTY_##N y = LD_##N(b[0]);                                                   \
        for (int64_t i = 0; i < n; i++) {                                           \
            CTY_##N x = LD_##N(a[i]);                                               \
            o[i] = BI_APPLY(F, N, ON, x, y);                                        \
        }                                                                           \
    } else {                                                                        \
        for (int64_t i = 0; i < n; i++) {                                           \
            CTY_##N x = LD_##N(a[i * sa]), y = LD_##N(b[i * sb]);                   \
            o[i] = BI_APPLY(F, N, ON, x, y);                                        \
        }                                                                           \
    }                                                                               \
}

/* X(op, type list, scalar macro, output) ; CLS picks BOP_<op>_<I|F|C|B> */
#define CLI_U INT
#define CLI_S INT
#define CLI_F F
#define CLI_C C
#define CLI_B B
#define BI_CLI(N) MLXC_CAT3(CLI_, CL_##N, )
#define BI_CLASS_MACRO(op, N) MLXC_CAT(BOP_##op##_, BI_CLI(N))
#define ARITH(X, op) X(op, TL_INT, CLS, SAME) X(op, TL_FLT, CLS, SAME)
#define CMP_ALL(X, op) X(op, TL_BOOL, BOP_##op, BOOL) X(op, TL_INT, BOP_##op, BOOL) \
    X(op, TL_FLT, BOP_##op, BOOL)
#define BITW(X, op) X(op, TL_BOOL, BOP_##op, SAME) X(op, TL_INT, BOP_##op, SAME)
#define BINARY_LIST(X)                                                              \
    ARITH(X, ADD) X(ADD, TL_BOOL, CLS, SAME) X(ADD, TL_CPLX, CLS, SAME)             \
    ARITH(X, SUB) X(SUB, TL_BOOL, CLS, SAME) X(SUB, TL_CPLX, CLS, SAME)             \
    ARITH(X, MUL) X(MUL, TL_BOOL, CLS, SAME) X(MUL, TL_CPLX, CLS, SAME)             \
    ARITH(X, DIV) X(DIV, TL_CPLX, CLS, SAME)                                        \
    ARITH(X, FLOOR_DIV) ARITH(X, REMAINDER)                                         \
    ARITH(X, POWER) X(POWER, TL_CPLX, CLS, SAME)                                    \
    ARITH(X, MAXIMUM) X(MAXIMUM, TL_BOOL, CLS, SAME)                                \
    ARITH(X, MINIMUM) X(MINIMUM, TL_BOOL, CLS, SAME)                                \
    CMP_ALL(X, EQ) X(EQ, TL_CPLX, BOP_EQ, BOOL)                                     \
    CMP_ALL(X, NE) X(NE, TL_CPLX, BOP_NE, BOOL)                                     \
    CMP_ALL(X, LT) CMP_ALL(X, LE) CMP_ALL(X, GT) CMP_ALL(X, GE)                     \
    X(LOGICAL_AND, TL_BOOL, BOP_LOGICAL_AND, SAME)                                  \
    X(LOGICAL_OR, TL_BOOL, BOP_LOGICAL_OR, SAME)                                    \
    X(LOGICAL_XOR, TL_BOOL, BOP_LOGICAL_XOR, SAME)                                  \
    BITW(X, BITWISE_AND) BITW(X, BITWISE_OR) BITW(X, BITWISE_XOR)                   \
    X(LEFT_SHIFT, TL_INT, CLS, SAME) X(RIGHT_SHIFT, TL_INT, CLS, SAME)              \
    X(ARCTAN2, TL_FLT, CLS, SAME) X(LOGADDEXP, TL_FLT, CLS, SAME)

#define PICK_O_SAME(N) N
#define PICK_O_BOOL(N) b
#define GEN_ONE(N, op, f, o) GEN_BI_(op, PICK_FX_##f(op, N, f), N, PICK_O_##o(N))
#define PICK_FX_CLS(op, N, f) BI_CLASS_MACRO(op, N)
#define PICK_FX_BOP_EQ(op, N, f) BOP_EQ
#define PICK_FX_BOP_NE(op, N, f) BOP_NE
#define PICK_FX_BOP_LT(op, N, f) BOP_LT
#define PICK_FX_BOP_LE(op, N, f) BOP_LE
#define PICK_FX_BOP_GT(op, N, f) BOP_GT
#define PICK_FX_BOP_GE(op, N, f) BOP_GE
#define PICK_FX_BOP_LOGICAL_AND(op, N, f) BOP_LOGICAL_AND
#define PICK_FX_BOP_LOGICAL_OR(op, N, f) BOP_LOGICAL_OR
#define PICK_FX_BOP_LOGICAL_XOR(op, N, f) BOP_LOGICAL_XOR
#define PICK_FX_BOP_BITWISE_AND(op, N, f) BOP_BITWISE_AND
#define PICK_FX_BOP_BITWISE_OR(op, N, f) BOP_BITWISE_OR
#define PICK_FX_BOP_BITWISE_XOR(op, N, f) BOP_BITWISE_XOR
#define GEN_BI_(op, F, N, ON) GEN_BI(op, F, N, ON)
#define ENT_ONE(N, op, f, o) [MLXC_##op][CODE_##N] = bi_##op##_##N,
#define DO_GEN(op, list, f, o) list(GEN_ONE, op, f, o)
#define DO_ENT(op, list, f, o) list(ENT_ONE, op, f, o)

BINARY_LIST(DO_GEN)

static const bi_fn bi_tab[MLXC_NUM_BINARY][MLXC_NUM_DTYPES] = { BINARY_LIST(DO_ENT) };

/* ------------------------------------------- per-level float arithmetic */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FAST_X86 1
#define FOP_ADD(x, y) ((x) + (y))
#define FOP_SUB(x, y) ((x) - (y))
#define FOP_MUL(x, y) ((x) * (y))
#define FOP_DIV(x, y) ((x) / (y))
#define FOP_MAXIMUM(x, y) MLXC_FMAX(x, y)
#define FOP_MINIMUM(x, y) MLXC_FMIN(x, y)
#define COP_EQ(x, y) ((x) == (y))
#define COP_NE(x, y) ((x) != (y))
#define COP_LT(x, y) ((x) < (y))
#define COP_LE(x, y) ((x) <= (y))
#define COP_GT(x, y) ((x) > (y))
#define COP_GE(x, y) ((x) >= (y))
#include <immintrin.h>
#define BS_AVX512 0
#include "binary_simd.h"
#undef BS_AVX512
#define BS_AVX512 1
#include "binary_simd.h"
#undef BS_AVX512
#define FAST_ENT(op, lvl) [MLXC_##op][MLXC_FLOAT32] = fast_##op##_float_##lvl,         \
                          [MLXC_##op][MLXC_FLOAT64] = fast_##op##_double_##lvl,
#define CMP_ENT(op, lvl) [MLXC_##op][MLXC_FLOAT32] = cmp_##op##_float_##lvl,           \
                         [MLXC_##op][MLXC_FLOAT64] = cmp_##op##_double_##lvl,
#define FAST_ROW(lvl) { FAST_ENT(ADD, lvl) FAST_ENT(SUB, lvl) FAST_ENT(MUL, lvl)          \
                        FAST_ENT(DIV, lvl) FAST_ENT(MAXIMUM, lvl) FAST_ENT(MINIMUM, lvl)  \
                        CMP_ENT(EQ, lvl) CMP_ENT(NE, lvl) CMP_ENT(LT, lvl) CMP_ENT(LE, lvl) \
                        CMP_ENT(GT, lvl) CMP_ENT(GE, lvl) }
static const bi_fn fast_tab[2][MLXC_NUM_BINARY][MLXC_NUM_DTYPES] = { FAST_ROW(avx2), FAST_ROW(avx512) };

/* The same four ops with non-temporal stores, for outputs far larger than the
 * caches: the store skips the read-for-ownership of the line, a quarter of
 * the memory traffic of a + b. */
#define STREAM_ENT(op, lvl) [MLXC_##op][MLXC_FLOAT32] = stream_##op##_float_##lvl,     \
                            [MLXC_##op][MLXC_FLOAT64] = stream_##op##_double_##lvl,
#define STREAM_ROW(lvl) { STREAM_ENT(ADD, lvl) STREAM_ENT(SUB, lvl) STREAM_ENT(MUL, lvl) \
                          STREAM_ENT(DIV, lvl) }
static const bi_fn stream_tab[2][MLXC_NUM_BINARY][MLXC_NUM_DTYPES] = {
    STREAM_ROW(avx2), STREAM_ROW(avx512) };

/* output size from which stores bypass the caches (well past any L2, and a
 * good part of a desktop L3: such an output is not read back from cache) */
#ifndef STREAM_MIN_BYTES     /* -D to tune */
#define STREAM_MIN_BYTES (16 << 20)
#endif
#endif

/* ------------------------------------------------------- pow, threads */
/* half types: float32 blocks through the SIMD pow, rounded back */
#define POW_BLOCK 512
static void pow_apply(mlxc_vm_pow_fn pw, int dtype, void *out, const void *a, int64_t sa,
                      const void *b, int64_t sb, int64_t n)
{
    if (dtype == MLXC_FLOAT32) {
        pw(out, a, sa, b, sb, n);
        return;
    }
    float fa[POW_BLOCK], fb[POW_BLOCK], fo[POW_BLOCK];
    const uint16_t *x = a, *y = b;
    uint16_t *o = out;
    int h = dtype == MLXC_FLOAT16;
    for (int64_t i = 0; i < n; i += POW_BLOCK) {
        int64_t m = n - i < POW_BLOCK ? n - i : POW_BLOCK;
        int64_t ma = sa ? m : 1, mb = sb ? m : 1;
        const uint16_t *xi = x + i * sa, *yi = y + i * sb;
        if (h) {
            for (int64_t j = 0; j < ma; j++) fa[j] = mlxc_h2f(xi[j]);
            for (int64_t j = 0; j < mb; j++) fb[j] = mlxc_h2f(yi[j]);
        } else {
            for (int64_t j = 0; j < ma; j++) fa[j] = mlxc_bf2f(xi[j]);
            for (int64_t j = 0; j < mb; j++) fb[j] = mlxc_bf2f(yi[j]);
        }
        pw(fo, fa, sa, fb, sb, m);
        if (h) for (int64_t j = 0; j < m; j++) o[i + j] = mlxc_f2h(fo[j]);
        else for (int64_t j = 0; j < m; j++) o[i + j] = mlxc_f2bf(fo[j]);
    }
}

/* below PAR_MIN elements one thread does it all; above, CHUNK-element tasks */
#define PAR_MIN (1 << 16)
#define CHUNK (1 << 15)

typedef struct {
    bi_fn fn;
    mlxc_vm_pow_fn pw;
    int dtype;
    char *out;
    const char *a, *b;
    int64_t zi, zo, sa, sb, n, chunk;
} bi_job;

static void bi_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const bi_job *J = ctx;
    int64_t s = t * J->chunk, len = J->n - s < J->chunk ? J->n - s : J->chunk;
    const char *a = J->a + s * J->sa * J->zi, *b = J->b + s * J->sb * J->zi;
    if (J->pw) pow_apply(J->pw, J->dtype, J->out + s * J->zo, a, J->sa, b, J->sb, len);
    else J->fn(J->out + s * J->zo, a, J->sa, b, J->sb, len);
}

int mlxc_binary(int op, int dtype, void *out,
                const void *a, const int64_t *a_strides,
                const void *b, const int64_t *b_strides,
                int ndim, const int64_t *shape)
{
    if (op < 0 || op >= MLXC_NUM_BINARY || dtype < 0 || dtype >= MLXC_NUM_DTYPES)
        return MLXC_ERR_UNSUPPORTED;
    bi_fn fn = bi_tab[op][dtype];
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    int64_t zi = (int64_t)mlxc_itemsize(dtype);
    int64_t zo = (op >= MLXC_EQ && op <= MLXC_GE) ? 1 : zi;
    const int64_t *st[3] = {NULL, a_strides, b_strides};
    mlxc_nd L;
    int64_t total = mlxc_nd_init(&L, 3, ndim, shape, st);
    if (total == 0) return MLXC_OK;
    if (L.ndim == 1) {
        /* one run of elements: SIMD paths and / or threads */
        bi_job J = {fn, NULL, dtype, out, a, b, zi, zo, L.st[1][0], L.st[2][0], total, CHUNK};
        int isa = mlxc_isa_pick(mlxc_levels_binary);
#ifdef FAST_X86
        if (isa == MLXC_ISA_AVX2 || isa == MLXC_ISA_AVX512) {
            int w = isa == MLXC_ISA_AVX512;
            if (fast_tab[w][op][dtype]) J.fn = fast_tab[w][op][dtype];
            if (stream_tab[w][op][dtype] && total * zo >= STREAM_MIN_BYTES &&
                (J.sa == 0 || J.sa == 1) && (J.sb == 0 || J.sb == 1))
                J.fn = stream_tab[w][op][dtype];
        }
#endif
        if (op == MLXC_POWER && (J.sa == 0 || J.sa == 1) && (J.sb == 0 || J.sb == 1) &&
            (dtype == MLXC_FLOAT32 || dtype == MLXC_FLOAT16 || dtype == MLXC_BFLOAT16))
            J.pw = mlxc_vm_pow_f32(isa);
        if (total < (J.pw ? PAR_MIN / 8 : PAR_MIN)) {
            J.chunk = total;
            bi_task(&J, 0, 0);
        } else {
            if (J.pw) J.chunk = CHUNK / 8;
            mlxc_parallel_for((total + J.chunk - 1) / J.chunk, mlxc_num_threads(), bi_task, &J);
        }
        return MLXC_OK;
    }
    int64_t ctr[MLXC_MAXD] = {0}, off[3] = {0, 0, 0};
    do {
        fn((char *)out + off[0] * zo, (const char *)a + off[1] * zi, L.st[1][0],
           (const char *)b + off[2] * zi, L.st[2][0], L.shape[0]);
    } while (mlxc_nd_next(&L, ctr, off));
    return MLXC_OK;
}

/* ------------------------------------------------- row kernel (fused.c) */
static void bi_row(const mlxc_rowop *r, void *out, const void *const *src, const int64_t *s,
                   int64_t n)
{
    if (r->vfn) pow_apply((mlxc_vm_pow_fn)r->vfn, r->dtype, out, src[0], s[0], src[1], s[1], n);
    else ((bi_fn)r->fn)(out, src[0], s[0], src[1], s[1], n);
}

int mlxc_binary_rowop(int op, int dtype, mlxc_rowop *r)
{
    if (op < 0 || op >= MLXC_NUM_BINARY || dtype < 0 || dtype >= MLXC_NUM_DTYPES)
        return MLXC_ERR_UNSUPPORTED;
    bi_fn fn = bi_tab[op][dtype];
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    int isa = mlxc_isa_pick(mlxc_levels_binary);
#ifdef FAST_X86
    if (isa == MLXC_ISA_AVX2 || isa == MLXC_ISA_AVX512) {
        int w = isa == MLXC_ISA_AVX512;
        if (fast_tab[w][op][dtype]) fn = fast_tab[w][op][dtype];
    }
#endif
    r->run = bi_row;
    r->fn = (mlxc_anyfn)fn;
    r->vfn = NULL;
    r->dtype = dtype;
    if (op == MLXC_POWER &&
        (dtype == MLXC_FLOAT32 || dtype == MLXC_FLOAT16 || dtype == MLXC_BFLOAT16))
        r->vfn = (mlxc_anyfn)mlxc_vm_pow_f32(isa);
    return MLXC_OK;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef FAST_X86
const unsigned mlxc_levels_binary = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_binary = MLXC_LEVELS_SCALAR;
#endif
