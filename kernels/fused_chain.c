/* Chains of float arithmetic for mlxc_fused (fused.c): a run of binary add / sub /
 * mul / div / maximum / minimum and unary neg / abs / sqrt / square instructions,
 * each reading the previous one's result, computed in one pass with the running
 * value in SIMD registers.  Separate row kernels would store
 * and reload every intermediate (a pass over L1 per instruction, bound by the store
 * port); here each element is loaded once per operand and stored once.
 *
 * A step may also store its running value (tee: an intermediate read again later).
 * The final value is stored, streamed past the caches (non-temporal stores, for
 * outputs too large to stay cached), or summed (a row sum ending the chain: the sum
 * of a softmax / layer norm, in the order of mlxc_reduce's leaf, so without storing
 * the values first).
 *
 * Every step is one IEEE operation of the element type, in the instruction's operand
 * order (the order decides which NaN payload survives), so the results are the bits
 * the unfused binary kernels give.  No step is contracted into an fma: each is its
 * own statement in its own switch case, and the file is built with fp-contract off. */
#include "internal.h"
#include "mlxc_cpu.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>
#include <string.h>

#define FMAX(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))     /* as binary.c's */
#define FMIN(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))

/* |x| by clearing the sign bit (fabs on the bits: a signalling NaN stays one) */
static inline float abs_float(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    u &= 0x7fffffffu;
    memcpy(&x, &u, 4);
    return x;
}
static inline double abs_double(double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    u &= 0x7fffffffffffffffull;
    memcpy(&x, &u, 8);
    return x;
}
static inline float sqrt_float(float x) { return sqrtf(x); }
static inline double sqrt_double(double x) { return sqrt(x); }

#define SCALAR_STEP(T, acc, w, s)                                                 \
    if (s->unary) {                                                               \
        switch (s->op) {                                                          \
        case MLXC_NEG: acc = -acc; break;                                         \
        case MLXC_ABS: acc = abs_##T(acc); break;                                 \
        case MLXC_SQRT: acc = sqrt_##T(acc); break;                               \
        default: acc = acc * acc; break;                                          \
        }                                                                         \
    } else {                                                                      \
        switch (s->op) {                                                          \
        case MLXC_ADD: acc = s->swap ? (T)(w + acc) : (T)(acc + w); break;        \
        case MLXC_SUB: acc = s->swap ? (T)(w - acc) : (T)(acc - w); break;        \
        case MLXC_MUL: acc = s->swap ? (T)(w * acc) : (T)(acc * w); break;        \
        case MLXC_DIV: acc = s->swap ? (T)(w / acc) : (T)(acc / w); break;        \
        case MLXC_MAXIMUM: acc = s->swap ? FMAX(w, acc) : FMAX(acc, w); break;    \
        default: acc = s->swap ? FMIN(w, acc) : FMIN(acc, w); break;              \
        }                                                                         \
    }

/* element i's final value (its tees stored); elements [i0, n) stored into out, or
 * added into the sum lanes (lane[i % MLXC_SUM_LANES]); the lanes folded into one sum
 * as mlxc_reduce's leaf folds them */
#define GEN_SCALAR(T)                                                                 \
static inline T one_##T(const T *a, int64_t sa, const mlxc_chain_step *st, int nst,   \
                        int64_t i)                                                    \
{                                                                                     \
    T acc = a[i * sa];                                                                \
    for (int k = 0; k < nst; k++) {                                                   \
        const mlxc_chain_step *s = &st[k];                                            \
        T w = s->p ? ((const T *)s->p)[i * s->s] : acc;                               \
        SCALAR_STEP(T, acc, w, s)                                                     \
        if (s->tee) ((T *)s->tee)[i] = acc;                                           \
    }                                                                                 \
    return acc;                                                                       \
}                                                                                     \
static void tail_##T(T *out, const T *a, int64_t sa, const mlxc_chain_step *st,      \
                     int nst, int64_t i0, int64_t n)                                  \
{                                                                                     \
    for (int64_t i = i0; i < n; i++) out[i] = one_##T(a, sa, st, nst, i);             \
}                                                                                     \
static T lanes_##T(T *lane, const T *a, int64_t sa, const mlxc_chain_step *st,       \
                   int nst, int64_t i0, int64_t n)                                    \
{                                                                                     \
    for (int64_t i = i0; i < n; i++)                                                  \
        lane[i % MLXC_SUM_LANES] += one_##T(a, sa, st, nst, i);                       \
    for (int w = MLXC_SUM_LANES / 2; w >= 1; w >>= 1)                                 \
        for (int k = 0; k < w; k++) lane[k] += lane[k + w];                           \
    return lane[0];                                                                   \
}
GEN_SCALAR(float)
GEN_SCALAR(double)

#define GEN_SCALAR_CHAIN(T)                                                           \
static void chain_scalar_##T(void *out, const void *a, int64_t sa,                   \
                             const mlxc_chain_step *st, int nst, int64_t n, int how)  \
{                                                                                     \
    if (how == MLXC_CHAIN_SUM) {                                                      \
        T lane[MLXC_SUM_LANES] = {0};                                                 \
        *(T *)out = lanes_##T(lane, a, sa, st, nst, 0, n);                            \
    } else {                                                                          \
        tail_##T(out, a, sa, st, nst, 0, n);                                          \
    }                                                                                 \
}
GEN_SCALAR_CHAIN(float)
GEN_SCALAR_CHAIN(double)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CHAIN_X86 1
/* One SIMD level: VB bytes per vector, four vectors (a block) per step held in
 * registers.  A broadcast operand is x - (+0) in every lane: x itself, -0 and NaN
 * included.  BLOCK(i) leaves elements i .. i + 4W - 1's final values in v0 .. v3. */
#define GEN_SIMD(T, IT, VB, SFX, TGT, NTSTORE, VSQRT)                                \
TGT static void chain_##T##_##SFX(void *out_, const void *a_, int64_t sa,             \
                                  const mlxc_chain_step *st, int nst, int64_t n,      \
                                  int how)                                            \
{                                                                                     \
    typedef T V __attribute__((vector_size(VB)));                                     \
    typedef T U __attribute__((vector_size(VB), aligned(sizeof(T)), may_alias));      \
    typedef IT VI __attribute__((vector_size(VB)));                                   \
    enum { W = VB / (int)sizeof(T), NA = MLXC_SUM_LANES / W };                        \
    const VI sign = (VI){0} + (IT)((uint64_t)1 << (8 * sizeof(T) - 1));               \
    T *out = out_;                                                                    \
    const T *a = a_;                                                                  \
    V v0, v1, v2, v3;                                                                 \
    int64_t i = 0;                                                                    \
    if (how == MLXC_CHAIN_SUM) {                                                      \
        /* lane j of vector m sums elements k * 64 + m * W + j */                     \
        V acc[NA];                                                                    \
        for (int m = 0; m < NA; m++) acc[m] = (V){0};                                 \
        for (; i + MLXC_SUM_LANES <= n; i += MLXC_SUM_LANES)                          \
            for (int b = 0; b < NA; b += 4) {                                         \
                BLOCK(VSQRT, T, i + b * W)                                                   \
                acc[b] += v0; acc[b + 1] += v1; acc[b + 2] += v2; acc[b + 3] += v3;   \
            }                                                                         \
        T lane[MLXC_SUM_LANES];                                                       \
        if (i < n) {                  /* the rest into its lanes, one by one */        \
            for (int m = 0; m < NA; m++) *(U *)(lane + m * W) = acc[m];               \
            for (; i < n; i++) lane[i % MLXC_SUM_LANES] += one_##T(a, sa, st, nst, i); \
            for (int m = 0; m < NA; m++) acc[m] = *(const U *)(lane + m * W);         \
        }                                                                             \
        /* the fold: lane k += lane k + w, whole vectors while w >= W */              \
        for (int m = NA / 2; m >= 1; m /= 2)                                          \
            for (int j = 0; j < m; j++) acc[j] += acc[j + m];                         \
        *(U *)lane = acc[0];                                                          \
        for (int w = W / 2; w >= 1; w >>= 1)                                          \
            for (int k = 0; k < w; k++) lane[k] += lane[k + w];                       \
        *out = lane[0];                                                               \
        return;                                                                       \
    }                                                                                 \
    if (how == MLXC_CHAIN_STREAM && (uintptr_t)out % sizeof(T) == 0) {               \
        int64_t h = (int64_t)((VB - (uintptr_t)out % VB) % VB / sizeof(T));           \
        if (h > n) h = n;                                                             \
        tail_##T(out, a, sa, st, nst, 0, h);                                          \
        for (i = h; i + 4 * W <= n; i += 4 * W) {                                     \
            BLOCK(VSQRT, T, i)                                                               \
            NTSTORE(out + i, v0); NTSTORE(out + i + W, v1);                           \
            NTSTORE(out + i + 2 * W, v2); NTSTORE(out + i + 3 * W, v3);               \
        }                                                                             \
    } else {                                                                          \
        for (; i + 4 * W <= n; i += 4 * W) {                                          \
            BLOCK(VSQRT, T, i)                                                               \
            *(U *)(out + i) = v0; *(U *)(out + i + W) = v1;                           \
            *(U *)(out + i + 2 * W) = v2; *(U *)(out + i + 3 * W) = v3;               \
        }                                                                             \
    }                                                                                 \
    tail_##T(out, a, sa, st, nst, i, n);                                              \
}

#define BLOCK(VSQRT, T, i0)                                                                  \
    {                                                                                 \
        int64_t e = (i0);                                                             \
        if (sa) {                                                                     \
            v0 = *(const U *)(a + e); v1 = *(const U *)(a + e + W);                   \
            v2 = *(const U *)(a + e + 2 * W); v3 = *(const U *)(a + e + 3 * W);       \
        } else {                                                                      \
            v0 = a[0] - (V){0}; v1 = v0; v2 = v0; v3 = v0;                            \
        }                                                                             \
        for (int k = 0; k < nst; k++) {                                               \
            const mlxc_chain_step *s = &st[k];                                        \
            const T *p = s->p;                                                        \
            V w0, w1, w2, w3;                                                         \
            if (s->unary) {                                                           \
                switch (s->op) {                                                      \
                case MLXC_NEG: v0 = -v0; v1 = -v1; v2 = -v2; v3 = -v3; break;         \
                case MLXC_ABS:                                                        \
                    v0 = (V)((VI)v0 & ~sign); v1 = (V)((VI)v1 & ~sign);               \
                    v2 = (V)((VI)v2 & ~sign); v3 = (V)((VI)v3 & ~sign); break;        \
                case MLXC_SQRT:                                                       \
                    v0 = (V)VSQRT(v0); v1 = (V)VSQRT(v1);                             \
                    v2 = (V)VSQRT(v2); v3 = (V)VSQRT(v3); break;                      \
                default: v0 = v0 * v0; v1 = v1 * v1; v2 = v2 * v2; v3 = v3 * v3; break; \
                }                                                                     \
            } else {                                                                  \
            if (!p) {                                                                 \
                w0 = v0; w1 = v1; w2 = v2; w3 = v3;                                   \
            } else if (s->s) {                                                        \
                w0 = *(const U *)(p + e); w1 = *(const U *)(p + e + W);               \
                w2 = *(const U *)(p + e + 2 * W); w3 = *(const U *)(p + e + 3 * W);   \
            } else {                                                                  \
                w0 = p[0] - (V){0}; w1 = w0; w2 = w0; w3 = w0;                        \
            }                                                                         \
            if (s->swap) {                                                            \
                switch (s->op) {                                                      \
                case MLXC_ADD: v0 = w0 + v0; v1 = w1 + v1; v2 = w2 + v2; v3 = w3 + v3; break; \
                case MLXC_SUB: v0 = w0 - v0; v1 = w1 - v1; v2 = w2 - v2; v3 = w3 - v3; break; \
                case MLXC_MUL: v0 = w0 * v0; v1 = w1 * v1; v2 = w2 * v2; v3 = w3 * v3; break; \
                case MLXC_DIV: v0 = w0 / v0; v1 = w1 / v1; v2 = w2 / v2; v3 = w3 / v3; break; \
                case MLXC_MAXIMUM:                                                    \
                    v0 = VPICK((w0 > v0) | (w0 != w0), w0, v0);                       \
                    v1 = VPICK((w1 > v1) | (w1 != w1), w1, v1);                       \
                    v2 = VPICK((w2 > v2) | (w2 != w2), w2, v2);                       \
                    v3 = VPICK((w3 > v3) | (w3 != w3), w3, v3); break;                \
                default:                                                              \
                    v0 = VPICK((w0 < v0) | (w0 != w0), w0, v0);                       \
                    v1 = VPICK((w1 < v1) | (w1 != w1), w1, v1);                       \
                    v2 = VPICK((w2 < v2) | (w2 != w2), w2, v2);                       \
                    v3 = VPICK((w3 < v3) | (w3 != w3), w3, v3); break;                \
                }                                                                     \
            } else {                                                                  \
                switch (s->op) {                                                      \
                case MLXC_ADD: v0 = v0 + w0; v1 = v1 + w1; v2 = v2 + w2; v3 = v3 + w3; break; \
                case MLXC_SUB: v0 = v0 - w0; v1 = v1 - w1; v2 = v2 - w2; v3 = v3 - w3; break; \
                case MLXC_MUL: v0 = v0 * w0; v1 = v1 * w1; v2 = v2 * w2; v3 = v3 * w3; break; \
                case MLXC_DIV: v0 = v0 / w0; v1 = v1 / w1; v2 = v2 / w2; v3 = v3 / w3; break; \
                case MLXC_MAXIMUM:                                                    \
                    v0 = VPICK((v0 > w0) | (v0 != v0), v0, w0);                       \
                    v1 = VPICK((v1 > w1) | (v1 != v1), v1, w1);                       \
                    v2 = VPICK((v2 > w2) | (v2 != v2), v2, w2);                       \
                    v3 = VPICK((v3 > w3) | (v3 != v3), v3, w3); break;                \
                default:                                                              \
                    v0 = VPICK((v0 < w0) | (v0 != v0), v0, w0);                       \
                    v1 = VPICK((v1 < w1) | (v1 != v1), v1, w1);                       \
                    v2 = VPICK((v2 < w2) | (v2 != v2), v2, w2);                       \
                    v3 = VPICK((v3 < w3) | (v3 != v3), v3, w3); break;                \
                }                                                                     \
            }                                                                         \
            }                                                                         \
            if (s->tee) {                                                             \
                T *t = (T *)s->tee + e;                                               \
                *(U *)t = v0; *(U *)(t + W) = v1; *(U *)(t + 2 * W) = v2;             \
                *(U *)(t + 3 * W) = v3;                                               \
            }                                                                         \
        }                                                                             \
    }

/* lanes of a where the mask m (a comparison's all-ones / zero lanes) is set, else b */
#define VPICK(m, a, b) ((V)(((VI)(a) & (VI)(m)) | ((VI)(b) & ~(VI)(m))))

#define TGT2 __attribute__((target("avx2")))
#define TGT5 __attribute__((target("avx512f,prefer-vector-width=512")))
#define NT_F2(p, v) _mm256_stream_ps(p, (__m256)(v))
#define NT_D2(p, v) _mm256_stream_pd(p, (__m256d)(v))
#define NT_F5(p, v) _mm512_stream_ps(p, (__m512)(v))
#define NT_D5(p, v) _mm512_stream_pd(p, (__m512d)(v))
#define SQ_F2(v) _mm256_sqrt_ps((__m256)(v))
#define SQ_D2(v) _mm256_sqrt_pd((__m256d)(v))
#define SQ_F5(v) _mm512_sqrt_ps((__m512)(v))
#define SQ_D5(v) _mm512_sqrt_pd((__m512d)(v))
GEN_SIMD(float, int32_t, 32, avx2, TGT2, NT_F2, SQ_F2)
GEN_SIMD(double, int64_t, 32, avx2, TGT2, NT_D2, SQ_D2)
GEN_SIMD(float, int32_t, 64, avx512, TGT5, NT_F5, SQ_F5)
GEN_SIMD(double, int64_t, 64, avx512, TGT5, NT_D5, SQ_D5)
#endif

int mlxc_chain_op_ok(int op, int dtype)
{
    return (op == MLXC_ADD || op == MLXC_SUB || op == MLXC_MUL || op == MLXC_DIV ||
            op == MLXC_MAXIMUM || op == MLXC_MINIMUM) &&
           (dtype == MLXC_FLOAT32 || dtype == MLXC_FLOAT64);
}

int mlxc_chain_unary_ok(int op, int dtype)
{
    return (op == MLXC_NEG || op == MLXC_ABS || op == MLXC_SQRT || op == MLXC_SQUARE) &&
           (dtype == MLXC_FLOAT32 || dtype == MLXC_FLOAT64);
}

mlxc_chain_fn mlxc_chain_kernel(int dtype, int isa)
{
    int f = dtype == MLXC_FLOAT32;
    if (!f && dtype != MLXC_FLOAT64) return NULL;
#ifdef CHAIN_X86
    if (isa == MLXC_ISA_AVX512) return f ? chain_float_avx512 : chain_double_avx512;
    if (isa == MLXC_ISA_AVX2) return f ? chain_float_avx2 : chain_double_avx2;
#endif
    (void)isa;
    return f ? chain_scalar_float : chain_scalar_double;
}
