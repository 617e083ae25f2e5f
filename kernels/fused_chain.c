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

/* the scalar kernels' own functions (fabs clears the sign bit: no NaN is quieted) */
#define abs_float fabsf
#define abs_double fabs
#define sqrt_float sqrtf
#define sqrt_double sqrt

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
        case MLXC_MAXIMUM: acc = s->swap ? MLXC_FMAX(w, acc) : MLXC_FMAX(acc, w); break;    \
        default: acc = s->swap ? MLXC_FMIN(w, acc) : MLXC_FMIN(acc, w); break;              \
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
/* One SIMD level: VB bytes per vector.  A block of K vectors runs each step over
 * all K before the next step, the running values in registers, so a step's
 * dispatch is paid once per block: blocks of NB vectors (16 with AVX-512's 32
 * registers, the operands read straight from memory), then of 4, then single
 * vectors, then the scalar tail.  A broadcast operand is x - (+0) in every lane: x
 * itself, -0 and NaN included.  BLOCK(.., i, K) leaves elements i .. i + K * W - 1's
 * final values in v[0 .. K-1].  Sums: lane j of acc[m] sums elements
 * k * 64 + m * W + j, whole 64-lane rounds first, the rest through the lanes. */
#define GEN_SIMD(T, IT, VB, NB, SFX, TGT, NTSTORE, VSQRT)                            \
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
    V v[NB];                                                                          \
    int64_t i = 0;                                                                    \
    if (how == MLXC_CHAIN_SUM) {                                                      \
        V acc[NA];                                                                    \
        for (int m = 0; m < NA; m++) acc[m] = (V){0};                                 \
        if (NB * W >= MLXC_SUM_LANES)                                                 \
            for (; i + NB * W <= n; i += NB * W) {                                    \
                BLOCK(VSQRT, T, i, NB)                                                \
                for (int j = 0; j < NB; j++) acc[j % NA] += v[j];                     \
            }                                                                         \
        for (; i + MLXC_SUM_LANES <= n; i += MLXC_SUM_LANES)                          \
            for (int b = 0; b < NA; b += 4) {                                         \
                BLOCK(VSQRT, T, i + b * W, 4)                                         \
                for (int j = 0; j < 4; j++) acc[b + j] += v[j];                       \
            }                                                                         \
        T lane[MLXC_SUM_LANES];                                                       \
        if (i < n) {                  /* the rest into its lanes */                   \
            for (int m = 0; m < NA; m++) *(U *)(lane + m * W) = acc[m];               \
            for (; i + W <= n; i += W) {                                              \
                BLOCK(VSQRT, T, i, 1)                                                 \
                *(U *)(lane + i % MLXC_SUM_LANES) += v[0];                            \
            }                                                                         \
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
    int nt = how == MLXC_CHAIN_STREAM && (uintptr_t)out % sizeof(T) == 0;            \
    if (nt) {                                                                         \
        int64_t h = (int64_t)((VB - (uintptr_t)out % VB) % VB / sizeof(T));           \
        if (h > n) h = n;                                                             \
        tail_##T(out, a, sa, st, nst, 0, h);                                          \
        for (i = h; i + NB * W <= n; i += NB * W) {                                   \
            BLOCK(VSQRT, T, i, NB)                                                    \
            for (int j = 0; j < NB; j++) NTSTORE(out + i + j * W, v[j]);              \
        }                                                                             \
    }                                                                                 \
    for (; i + NB * W <= n; i += NB * W) {                                            \
        BLOCK(VSQRT, T, i, NB)                                                        \
        for (int j = 0; j < NB; j++) *(U *)(out + i + j * W) = v[j];                  \
    }                                                                                 \
    for (; i + 4 * W <= n; i += 4 * W) {                                              \
        BLOCK(VSQRT, T, i, 4)                                                         \
        for (int j = 0; j < 4; j++) *(U *)(out + i + j * W) = v[j];                   \
    }                                                                                 \
    for (; i + W <= n; i += W) {                                                      \
        BLOCK(VSQRT, T, i, 1)                                                         \
        *(U *)(out + i) = v[0];                                                       \
    }                                                                                 \
    tail_##T(out, a, sa, st, nst, i, n);                                              \
}

/* one binary step over the block: v[j] = v[j] OP w or w OP v[j] (swap), w the
 * running value itself (p NULL), a contiguous operand or a broadcast one */
#define BSTEP(K, F)                                                                   \
    if (!p) {                                                                         \
        for (int j = 0; j < K; j++) v[j] = F(v[j], v[j]);                             \
    } else if (s->s) {                                                                \
        if (s->swap) for (int j = 0; j < K; j++) v[j] = F(*(const U *)(p + e + j * W), v[j]); \
        else for (int j = 0; j < K; j++) v[j] = F(v[j], *(const U *)(p + e + j * W)); \
    } else {                                                                          \
        V bc = p[0] - (V){0};                                                         \
        if (s->swap) for (int j = 0; j < K; j++) v[j] = F(bc, v[j]);                  \
        else for (int j = 0; j < K; j++) v[j] = F(v[j], bc);                          \
    }
#define VADD_(x, y) ((x) + (y))
#define VSUB_(x, y) ((x) - (y))
#define VMUL_(x, y) ((x) * (y))
#define VDIV_(x, y) ((x) / (y))
#define VMAX_(x, y) VPICK(((x) > (y)) | ((x) != (x)), x, y)
#define VMIN_(x, y) VPICK(((x) < (y)) | ((x) != (x)), x, y)

#define BLOCK(VSQRT, T, i0, K)                                                        \
    {                                                                                 \
        int64_t e = (i0);                                                             \
        if (sa) {                                                                     \
            for (int j = 0; j < K; j++) v[j] = *(const U *)(a + e + j * W);           \
        } else {                                                                      \
            V bc = a[0] - (V){0};                                                     \
            for (int j = 0; j < K; j++) v[j] = bc;                                    \
        }                                                                             \
        for (int k = 0; k < nst; k++) {                                               \
            const mlxc_chain_step *s = &st[k];                                        \
            const T *p = s->p;                                                        \
            if (s->unary) {                                                           \
                switch (s->op) {                                                      \
                case MLXC_NEG: for (int j = 0; j < K; j++) v[j] = -v[j]; break;       \
                case MLXC_ABS:                                                        \
                    for (int j = 0; j < K; j++) v[j] = (V)((VI)v[j] & ~sign);         \
                    break;                                                            \
                case MLXC_SQRT: for (int j = 0; j < K; j++) v[j] = (V)VSQRT(v[j]); break; \
                default: for (int j = 0; j < K; j++) v[j] = v[j] * v[j]; break;       \
                }                                                                     \
            } else {                                                                  \
                switch (s->op) {                                                      \
                case MLXC_ADD: BSTEP(K, VADD_) break;                                 \
                case MLXC_SUB: BSTEP(K, VSUB_) break;                                 \
                case MLXC_MUL: BSTEP(K, VMUL_) break;                                 \
                case MLXC_DIV: BSTEP(K, VDIV_) break;                                 \
                case MLXC_MAXIMUM: BSTEP(K, VMAX_) break;                             \
                default: BSTEP(K, VMIN_) break;                                       \
                }                                                                     \
            }                                                                         \
            if (s->tee) {                                                             \
                T *t = (T *)s->tee + e;                                               \
                for (int j = 0; j < K; j++) *(U *)(t + j * W) = v[j];                 \
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
/* blocks: 4 vectors with AVX2's 16 registers, 16 with AVX-512's 32 */
GEN_SIMD(float, int32_t, 32, 4, avx2, TGT2, NT_F2, SQ_F2)
GEN_SIMD(double, int64_t, 32, 4, avx2, TGT2, NT_D2, SQ_D2)
GEN_SIMD(float, int32_t, 64, 16, avx512, TGT5, NT_F5, SQ_F5)
GEN_SIMD(double, int64_t, 64, 16, avx512, TGT5, NT_D5, SQ_D5)
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
