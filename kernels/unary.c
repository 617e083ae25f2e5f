/* mlxc_unary: out[i] = f(in[i]).  One kernel per (op, dtype); the scalar
 * semantics per dtype class are the UOP_<op>_<class> macros below.
 *
 * Fast paths: the vector-math functions (exp, log, sin, ..., see vmath.h) of
 * float32 / float16 / bfloat16 contiguous inputs run the SIMD kernels of the
 * current level (half types through float32 blocks); other inputs and the
 * scalar level use the libm loops here.  Contiguous work past a size
 * threshold is cut into fixed chunks run by the thread pool; every element is
 * computed by the same code whatever the chunk, so results do not depend on
 * the thread count. */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"
#include "vmath.h"
#include <tgmath.h>   /* exp(x) picks expf for float x: one macro per op and class */

/* ------------------------------------------------------------- erfinv */
/* M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011),
 * single-precision polynomials, evaluated in double. */
static double erfinv_giles(double x)
{
    double w = -log((1.0 - x) * (1.0 + x)), p;
    if (w < 5.0) {
        w -= 2.5;
        p = 2.81022636e-08;
        p = 3.43273939e-07 + p * w;
        p = -3.5233877e-06 + p * w;
        p = -4.39150654e-06 + p * w;
        p = 0.00021858087 + p * w;
        p = -0.00125372503 + p * w;
        p = -0.00417768164 + p * w;
        p = 0.246640727 + p * w;
        p = 1.50140941 + p * w;
    } else {
        w = sqrt(w) - 3.0;
        p = -0.000200214257;
        p = 0.000100950558 + p * w;
        p = 0.00134934322 + p * w;
        p = -0.00367342844 + p * w;
        p = 0.00573950773 + p * w;
        p = -0.0076224613 + p * w;
        p = 0.00943887047 + p * w;
        p = 1.00167406 + p * w;
        p = 2.83297682 + p * w;
    }
    return p * x;
}

/* Newton steps on erf(y) = x; for |x| > 0.5 the residual is formed with erfc
 * and 1-|x| (exact there) so it keeps its accuracy near +-1. */
static double erfinv_d(double x, int steps)
{
    if (isnan(x)) return x;
    double a = fabs(x);
    if (a > 1.0) return NAN;
    if (a == 1.0) return copysign(INFINITY, x);
    if (a == 0.0) return x;
    double y = erfinv_giles(a);
    const double k = 1.1283791670955126;  /* 2/sqrt(pi) */
    for (int i = 0; i < steps; i++) {
        double d = k * exp(-y * y);
        if (d == 0.0) break;
        double r = a > 0.5 ? (1.0 - a) - erfc(y) : erf(y) - a;
        y -= r / d;
    }
    return copysign(y, x);
}
static float erfinv_f(float x) { return (float)erfinv_d(x, 1); }
static double erfinv_dd(double x) { return erfinv_d(x, 2); }

/* --------------------------------------------------- scalar op semantics */
/* real floats (half types arrive here as float) */
#define UOP_ABS_F(x, T, W) fabs(x)
#define UOP_NEG_F(x, T, W) (-(x))
#define UOP_SIGN_F(x, T, W) ((T)(((x) > 0) - ((x) < 0)))   /* NaN -> 0 like MLX */
#define UOP_SQRT_F(x, T, W) sqrt(x)
#define UOP_RSQRT_F(x, T, W) ((T)1 / sqrt(x))
#define UOP_SQUARE_F(x, T, W) ((x) * (x))
#define UOP_RECIPROCAL_F(x, T, W) ((T)1 / (x))
#define UOP_EXP_F(x, T, W) exp(x)
#define UOP_EXPM1_F(x, T, W) expm1(x)
#define UOP_LOG_F(x, T, W) log(x)
#define UOP_LOG1P_F(x, T, W) log1p(x)
#define UOP_LOG2_F(x, T, W) log2(x)
#define UOP_LOG10_F(x, T, W) log10(x)
#define UOP_SIN_F(x, T, W) sin(x)
#define UOP_COS_F(x, T, W) cos(x)
#define UOP_TAN_F(x, T, W) tan(x)
#define UOP_ARCSIN_F(x, T, W) asin(x)
#define UOP_ARCCOS_F(x, T, W) acos(x)
#define UOP_ARCTAN_F(x, T, W) atan(x)
#define UOP_SINH_F(x, T, W) sinh(x)
#define UOP_COSH_F(x, T, W) cosh(x)
#define UOP_TANH_F(x, T, W) tanh(x)
#define UOP_ARCSINH_F(x, T, W) asinh(x)
#define UOP_ARCCOSH_F(x, T, W) acosh(x)
#define UOP_ARCTANH_F(x, T, W) atanh(x)
#define UOP_SIGMOID_F(x, T, W) ((T)1 / ((T)1 + exp(-(x))))
#define UOP_ERF_F(x, T, W) erf(x)
#define UOP_ERFINV_F(x, T, W) _Generic((x), float: erfinv_f, default: erfinv_dd)(x)
#define UOP_FLOOR_F(x, T, W) floor(x)
#define UOP_CEIL_F(x, T, W) ceil(x)
#define UOP_ROUND_F(x, T, W) rint(x)    /* default rounding mode: half to even */
#define UOP_ISNAN_F(x, T, W) (isnan(x) != 0)
#define UOP_ISINF_F(x, T, W) (isinf(x) != 0)
#define UOP_ISFINITE_F(x, T, W) (isfinite(x) != 0)
#define UOP_ISPOSINF_F(x, T, W) ((x) == (T)INFINITY)
#define UOP_ISNEGINF_F(x, T, W) ((x) == -(T)INFINITY)
#define UOP_CONJ_F(x, T, W) (x)
#define UOP_REAL_F(x, T, W) (x)
#define UOP_IMAG_F(x, T, W) ((void)(x), (T)0)

/* signed integers: wrap through the unsigned type W */
#define UOP_ABS_S(x, T, W) ((T)((x) < 0 ? (W)0 - (W)(x) : (W)(x)))
#define UOP_NEG_S(x, T, W) ((T)((W)0 - (W)(x)))
#define UOP_SIGN_S(x, T, W) ((T)(((x) > 0) - ((x) < 0)))
#define UOP_SQUARE_S(x, T, W) ((T)((W)(x) * (W)(x)))
#define UOP_IDENT(x, T, W) (x)
#define UOP_ZERO(x, T, W) ((void)(x), 0)
#define UOP_ONE(x, T, W) ((void)(x), 1)
#define UOP_BITWISE_INVERT_S(x, T, W) ((T)~(x))

/* unsigned integers */
#define UOP_ABS_U(x, T, W) (x)
#define UOP_NEG_U(x, T, W) ((T)((W)0 - (W)(x)))
#define UOP_SIGN_U(x, T, W) ((T)((x) != 0))
#define UOP_SQUARE_U UOP_SQUARE_S
#define UOP_BITWISE_INVERT_U UOP_BITWISE_INVERT_S

/* bool */
#define UOP_NOT_B(x, T, W) ((uint8_t)!(x))

/* complex64 */
#define UOP_ABS_C(x, T, W) cabsf(x)
#define UOP_NEG_C(x, T, W) (-(x))
#define UOP_SIGN_C(x, T, W) (mlxc_cnz(x) ? mlxc_cdiv((x), CMPLXF(cabsf(x), 0.0f)) : CMPLXF(0.0f, 0.0f))
#define UOP_SQRT_C(x, T, W) csqrtf(x)
#define UOP_RSQRT_C(x, T, W) mlxc_cdiv(CMPLXF(1.0f, 0.0f), csqrtf(x))
#define UOP_SQUARE_C(x, T, W) mlxc_cmul((x), (x))
#define UOP_RECIPROCAL_C(x, T, W) mlxc_cdiv(CMPLXF(1.0f, 0.0f), (x))
#define UOP_EXP_C(x, T, W) cexpf(x)
#define UOP_LOG_C(x, T, W) clogf(x)
#define UOP_LOG2_C(x, T, W) cscale(clogf(x), 1.4426950408889634f)
#define UOP_LOG10_C(x, T, W) cscale(clogf(x), 0.43429448190325176f)
#define UOP_SIN_C(x, T, W) csinf(x)
#define UOP_COS_C(x, T, W) ccosf(x)
#define UOP_TAN_C(x, T, W) ctanf(x)
#define UOP_ARCSIN_C(x, T, W) casinf(x)
#define UOP_ARCCOS_C(x, T, W) cacosf(x)
#define UOP_ARCTAN_C(x, T, W) catanf(x)
#define UOP_SINH_C(x, T, W) csinhf(x)
#define UOP_COSH_C(x, T, W) ccoshf(x)
#define UOP_TANH_C(x, T, W) ctanhf(x)
#define UOP_ARCSINH_C(x, T, W) casinhf(x)
#define UOP_ARCCOSH_C(x, T, W) cacoshf(x)
#define UOP_ARCTANH_C(x, T, W) catanhf(x)
#define UOP_ISNAN_C(x, T, W) (isnan(crealf(x)) || isnan(cimagf(x)))
#define UOP_ISINF_C(x, T, W) (isinf(crealf(x)) || isinf(cimagf(x)))
#define UOP_ISFINITE_C(x, T, W) (isfinite(crealf(x)) && isfinite(cimagf(x)))
#define UOP_CONJ_C(x, T, W) conjf(x)
#define UOP_REAL_C(x, T, W) crealf(x)
#define UOP_IMAG_C(x, T, W) cimagf(x)

static inline mlxc_c64 cscale(mlxc_c64 z, float s) { return CMPLXF(crealf(z) * s, cimagf(z) * s); }

/* ------------------------------------------------------------- kernels */
typedef void (*un_fn)(void *out, const void *in, int64_t s, int64_t n);

/* F: the scalar macro; N: input type name; ON: output type name */
#define GEN_UN(op, F, N, ON)                                                        \
static void un_##op##_##N(void *o_, const void *i_, int64_t s, int64_t n)           \
{                                                                                   \
    STY_##ON *restrict o = o_;                                                      \
    const STY_##N *restrict x = i_;                                                 \
    if (s == 1) {                                                                   \
        for (int64_t i = 0; i < n; i++) {                                           \
            CTY_##N v = LD_##N(x[i]);                                               \
            o[i] = SV_##ON(F(v, CTY_##N, WTY_##N));                                 \
        }                                                                           \
    } else if (s == 0) {                                                            \
        CTY_##N v = LD_##N(x[0]);                                                   \
        STY_##ON r = SV_##ON(F(v, CTY_##N, WTY_##N));                               \
        for (int64_t i = 0; i < n; i++) o[i] = r;                                   \
    } else {                                                                        \
        for (int64_t i = 0; i < n; i++) {                                           \
            CTY_##N v = LD_##N(x[i * s]);                                           \
            o[i] = SV_##ON(F(v, CTY_##N, WTY_##N));                                 \
        }                                                                           \
    }                                                                               \
}
#define ENT_UN(op, F, N, ON) [MLXC_##op][CODE_##N] = un_##op##_##N,

/* Each row: X(op, type list, scalar macro or CLASS (= UOP_<op>_<class of N>),
 * output: SAME / BOOL / F32) */
#define UN_CLASS_MACRO(op, N) MLXC_CAT3(UOP_##op##_, CL_##N, )
#define UNARY_LIST(X)                                                               \
    X(ABS, TL_INT, CLS, SAME) X(ABS, TL_BOOL, UOP_IDENT, SAME) X(ABS, TL_FLT, CLS, SAME) \
    X(ABS, TL_CPLX, CLS, F32)                                                       \
    X(NEG, TL_INT, CLS, SAME) X(NEG, TL_FLT, CLS, SAME) X(NEG, TL_CPLX, CLS, SAME)  \
    X(SIGN, TL_INT, CLS, SAME) X(SIGN, TL_BOOL, UOP_IDENT, SAME) X(SIGN, TL_FLT, CLS, SAME) \
    X(SIGN, TL_CPLX, CLS, SAME)                                                     \
    X(SQUARE, TL_INT, CLS, SAME) X(SQUARE, TL_BOOL, UOP_IDENT, SAME)                \
    X(SQUARE, TL_FLT, CLS, SAME) X(SQUARE, TL_CPLX, CLS, SAME)                      \
    FLOAT_OP(X, SQRT) FLOAT_OP(X, RSQRT) FLOAT_OP(X, RECIPROCAL)                     \
    FLOAT_OP(X, EXP) X(EXPM1, TL_FLT, CLS, SAME) FLOAT_OP(X, LOG)                    \
    X(LOG1P, TL_FLT, CLS, SAME) FLOAT_OP(X, LOG2) FLOAT_OP(X, LOG10)                  \
    FLOAT_OP(X, SIN) FLOAT_OP(X, COS) FLOAT_OP(X, TAN)                               \
    FLOAT_OP(X, ARCSIN) FLOAT_OP(X, ARCCOS) FLOAT_OP(X, ARCTAN)                      \
    FLOAT_OP(X, SINH) FLOAT_OP(X, COSH) FLOAT_OP(X, TANH)                            \
    FLOAT_OP(X, ARCSINH) FLOAT_OP(X, ARCCOSH) FLOAT_OP(X, ARCTANH)                   \
    X(SIGMOID, TL_FLT, CLS, SAME) X(ERF, TL_FLT, CLS, SAME) X(ERFINV, TL_FLT, CLS, SAME) \
    ROUND_OP(X, FLOOR) ROUND_OP(X, CEIL) ROUND_OP(X, ROUND)                          \
    X(ISNAN, TL_INT, UOP_ZERO, BOOL) X(ISNAN, TL_BOOL, UOP_ZERO, BOOL)              \
    X(ISNAN, TL_FLT, CLS, BOOL) X(ISNAN, TL_CPLX, CLS, BOOL)                        \
    X(ISINF, TL_INT, UOP_ZERO, BOOL) X(ISINF, TL_BOOL, UOP_ZERO, BOOL)              \
    X(ISINF, TL_FLT, CLS, BOOL) X(ISINF, TL_CPLX, CLS, BOOL)                        \
    X(ISFINITE, TL_INT, UOP_ONE, BOOL) X(ISFINITE, TL_BOOL, UOP_ONE, BOOL)          \
    X(ISFINITE, TL_FLT, CLS, BOOL) X(ISFINITE, TL_CPLX, CLS, BOOL)                  \
    X(ISPOSINF, TL_INT, UOP_ZERO, BOOL) X(ISPOSINF, TL_BOOL, UOP_ZERO, BOOL)        \
    X(ISPOSINF, TL_FLT, CLS, BOOL)                                                  \
    X(ISNEGINF, TL_INT, UOP_ZERO, BOOL) X(ISNEGINF, TL_BOOL, UOP_ZERO, BOOL)        \
    X(ISNEGINF, TL_FLT, CLS, BOOL)                                                  \
    X(LOGICAL_NOT, TL_BOOL, UOP_NOT_B, SAME)                                        \
    X(BITWISE_INVERT, TL_INT, CLS, SAME) X(BITWISE_INVERT, TL_BOOL, UOP_NOT_B, SAME) \
    X(CONJ, TL_INT, UOP_IDENT, SAME) X(CONJ, TL_BOOL, UOP_IDENT, SAME)              \
    X(CONJ, TL_FLT, CLS, SAME) X(CONJ, TL_CPLX, CLS, SAME)                          \
    X(REAL, TL_INT, UOP_IDENT, SAME) X(REAL, TL_BOOL, UOP_IDENT, SAME)              \
    X(REAL, TL_FLT, CLS, SAME) X(REAL, TL_CPLX, CLS, F32)                           \
    X(IMAG, TL_INT, UOP_ZERO, SAME) X(IMAG, TL_BOOL, UOP_ZERO, SAME)                \
    X(IMAG, TL_FLT, CLS, SAME) X(IMAG, TL_CPLX, CLS, F32)
#define FLOAT_OP(X, op) X(op, TL_FLT, CLS, SAME) X(op, TL_CPLX, CLS, SAME)
#define ROUND_OP(X, op) X(op, TL_INT, UOP_IDENT, SAME) X(op, TL_BOOL, UOP_IDENT, SAME) \
    X(op, TL_FLT, CLS, SAME)

/* resolve CLS to the class macro of each type; pick the output name */
#define PICK_F_CLS(op, N) UN_CLASS_MACRO(op, N)
#define PICK_F_UOP_IDENT(op, N) UOP_IDENT
#define PICK_F_UOP_ZERO(op, N) UOP_ZERO
#define PICK_F_UOP_ONE(op, N) UOP_ONE
#define PICK_F_UOP_NOT_B(op, N) UOP_NOT_B
#define PICK_O_SAME(N) N
#define PICK_O_BOOL(N) b
#define PICK_O_F32(N) f32
#define GEN_ONE(N, op, f, o) GEN_UN_(op, PICK_F_##f(op, N), N, PICK_O_##o(N))
#define GEN_UN_(op, F, N, ON) GEN_UN(op, F, N, ON)
#define ENT_ONE(N, op, f, o) ENT_UN(op, f, N, o)
#define DO_GEN(op, list, f, o) list(GEN_ONE, op, f, o)
#define DO_ENT(op, list, f, o) list(ENT_ONE, op, f, o)

UNARY_LIST(DO_GEN)

static const un_fn un_tab[MLXC_NUM_UNARY][MLXC_NUM_DTYPES] = { UNARY_LIST(DO_ENT) };

/* ------------------------------------------- per-level float arithmetic */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define UFAST_X86 1
#define US_AVX512 0
#include "unary_simd.h"
#undef US_AVX512
#define US_AVX512 1
#include "unary_simd.h"
#undef US_AVX512
#define UFAST_ENT(op, lvl) [MLXC_##op][MLXC_FLOAT32] = ufast_##op##_float_##lvl,       \
                           [MLXC_##op][MLXC_FLOAT64] = ufast_##op##_double_##lvl,
#define UFAST_ROW(lvl) { UFAST_ENT(NEG, lvl) UFAST_ENT(ABS, lvl) UFAST_ENT(SQRT, lvl)     \
                         UFAST_ENT(SQUARE, lvl) UFAST_ENT(RSQRT, lvl)                    \
                         UFAST_ENT(RECIPROCAL, lvl) }
static const un_fn ufast_tab[2][MLXC_NUM_UNARY][MLXC_NUM_DTYPES] = {
    UFAST_ROW(avx2), UFAST_ROW(avx512) };
#endif

/* the kernel of (op, dtype) at the current SIMD level */
static un_fn un_pick(int op, int dtype)
{
#ifdef UFAST_X86
    int isa = mlxc_isa_pick(mlxc_levels_unary);
    if (isa == MLXC_ISA_AVX2 || isa == MLXC_ISA_AVX512) {
        un_fn f = ufast_tab[isa == MLXC_ISA_AVX512][op][dtype];
        if (f) return f;
    }
#endif
    return un_tab[op][dtype];
}

/* ------------------------------------------------- vector math, threads */
/* half types: convert a block to float32, run the kernel in place, round back */
#define VM_BLOCK 512
static void vm_apply(mlxc_vm_fn vm, int dtype, void *out, const void *in, int64_t n)
{
    if (dtype == MLXC_FLOAT32) {
        vm(out, in, n);
        return;
    }
    float buf[VM_BLOCK];
    const uint16_t *x = in;
    uint16_t *o = out;
    for (int64_t i = 0; i < n; i += VM_BLOCK) {
        int64_t m = n - i < VM_BLOCK ? n - i : VM_BLOCK;
        if (dtype == MLXC_FLOAT16) {
            mlxc_h2f_n(buf, x + i, m);
            vm(buf, buf, m);
            mlxc_f2h_n(o + i, buf, m);
        } else {
            mlxc_bf2f_n(buf, x + i, m);
            vm(buf, buf, m);
            mlxc_f2bf_n(o + i, buf, m);
        }
    }
}

/* Element counts: below PAR_MIN one thread does it all (waking the pool costs
 * more than it saves); above, tasks of CHUNK elements.  Vector math is ~10x
 * the work per element of a copy-like op, so it splits earlier. */
#define PAR_MIN (1 << 16)
#define PAR_MIN_VM (1 << 14)
#define CHUNK (1 << 15)
#define CHUNK_VM (1 << 13)

typedef struct {
    un_fn fn;
    mlxc_vm_fn vm;
    int dtype;
    char *out;
    const char *in;
    int64_t zi, zo, s, n, chunk;
} un_job;

static void un_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const un_job *J = ctx;
    int64_t a = t * J->chunk, len = J->n - a < J->chunk ? J->n - a : J->chunk;
    if (J->vm) vm_apply(J->vm, J->dtype, J->out + a * J->zo, J->in + a * J->zi, len);
    else J->fn(J->out + a * J->zo, J->in + a * J->s * J->zi, J->s, len);
}

int mlxc_unary(int op, int dtype, void *out, const void *in,
               int ndim, const int64_t *shape, const int64_t *in_strides)
{
    if (op < 0 || op >= MLXC_NUM_UNARY || dtype < 0 || dtype >= MLXC_NUM_DTYPES)
        return MLXC_ERR_UNSUPPORTED;
    un_fn fn = un_pick(op, dtype);
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    int64_t zi = (int64_t)mlxc_itemsize(dtype), zo = zi;
    if (op >= MLXC_ISNAN && op <= MLXC_ISNEGINF) zo = 1;
    else if (dtype == MLXC_COMPLEX64 && (op == MLXC_ABS || op == MLXC_REAL || op == MLXC_IMAG)) zo = 4;
    const int64_t *st[2] = {NULL, in_strides};
    mlxc_nd L;
    int64_t total = mlxc_nd_init(&L, 2, ndim, shape, st);
    if (total == 0) return MLXC_OK;
    if (L.ndim == 1) {
        /* one run of elements: vector math and / or threads */
        un_job J = {fn, NULL, dtype, out, in, zi, zo, L.st[1][0], total, CHUNK};
        int vf = mlxc_vm_of_unary(op);
        if (vf >= 0 && (J.s == 1 || total == 1) &&
            (dtype == MLXC_FLOAT32 || dtype == MLXC_FLOAT16 || dtype == MLXC_BFLOAT16))
            J.vm = mlxc_vm_f32(vf, mlxc_isa_pick(mlxc_levels_unary));
        int64_t par_min = J.vm ? PAR_MIN_VM : PAR_MIN;
        if (J.vm) J.chunk = CHUNK_VM;
        if (total < par_min) {
            J.chunk = total;
            un_task(&J, 0, 0);
        } else {
            mlxc_parallel_for((total + J.chunk - 1) / J.chunk, mlxc_num_threads(), un_task, &J);
        }
        return MLXC_OK;
    }
    int64_t ctr[MLXC_MAXD] = {0}, off[2] = {0, 0};
    do {
        fn((char *)out + off[0] * zo, (const char *)in + off[1] * zi, L.st[1][0], L.shape[0]);
    } while (mlxc_nd_next(&L, ctr, off));
    return MLXC_OK;
}

/* ------------------------------------------------- row kernel (fused.c) */
static void un_row(const mlxc_rowop *r, void *out, const void *const *src, const int64_t *s,
                   int64_t n)
{
    if (r->vfn && (s[0] == 1 || n == 1)) vm_apply((mlxc_vm_fn)r->vfn, r->dtype, out, src[0], n);
    else ((un_fn)r->fn)(out, src[0], s[0], n);
}

int mlxc_unary_rowop(int op, int dtype, mlxc_rowop *r)
{
    if (op < 0 || op >= MLXC_NUM_UNARY || dtype < 0 || dtype >= MLXC_NUM_DTYPES)
        return MLXC_ERR_UNSUPPORTED;
    un_fn fn = un_pick(op, dtype);
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    r->run = un_row;
    r->fn = (mlxc_anyfn)fn;
    r->vfn = NULL;
    r->dtype = dtype;
    int vf = mlxc_vm_of_unary(op);
    if (vf >= 0 && (dtype == MLXC_FLOAT32 || dtype == MLXC_FLOAT16 || dtype == MLXC_BFLOAT16))
        r->vfn = (mlxc_anyfn)mlxc_vm_f32(vf, mlxc_isa_pick(mlxc_levels_unary));
    return MLXC_OK;
}
