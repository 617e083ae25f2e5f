/* Chains of float arithmetic for mlxc_fused (fused.c): a run of binary add / sub /
 * mul / div instructions, each reading the previous one's result, computed in one
 * pass with the running value in SIMD registers.  Separate row kernels would store
 * and reload every intermediate (a pass over L1 per instruction, bound by the store
 * port); here each element is loaded once per operand and stored once.
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

#define SCALAR_STEP(T, acc, w, op, swap)                                  \
    switch (op) {                                                         \
    case MLXC_ADD: acc = swap ? (T)(w + acc) : (T)(acc + w); break;       \
    case MLXC_SUB: acc = swap ? (T)(w - acc) : (T)(acc - w); break;       \
    case MLXC_MUL: acc = swap ? (T)(w * acc) : (T)(acc * w); break;       \
    default: acc = swap ? (T)(w / acc) : (T)(acc / w); break;             \
    }

/* elements [i0, n) one by one */
#define GEN_TAIL(T)                                                                   \
static void tail_##T(T *out, const T *a, int64_t sa, const mlxc_chain_step *st,      \
                     int nst, int64_t i0, int64_t n)                                  \
{                                                                                     \
    for (int64_t i = i0; i < n; i++) {                                                \
        T acc = a[i * sa];                                                            \
        for (int k = 0; k < nst; k++) {                                               \
            const mlxc_chain_step *s = &st[k];                                        \
            T w = s->p ? ((const T *)s->p)[i * s->s] : acc;                           \
            SCALAR_STEP(T, acc, w, s->op, s->swap)                                    \
        }                                                                             \
        out[i] = acc;                                                                 \
    }                                                                                 \
}
GEN_TAIL(float)
GEN_TAIL(double)

static void chain_scalar_float(void *out, const void *a, int64_t sa, const mlxc_chain_step *st,
                               int nst, int64_t n)
{
    tail_float(out, a, sa, st, nst, 0, n);
}
static void chain_scalar_double(void *out, const void *a, int64_t sa, const mlxc_chain_step *st,
                                int nst, int64_t n)
{
    tail_double(out, a, sa, st, nst, 0, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CHAIN_X86 1
/* One SIMD level: VB bytes per vector, four vectors per block held in registers.
 * A broadcast operand is x - (+0) in every lane: x itself, -0 and NaN included. */
#define GEN_SIMD(T, VB, SFX, TGT)                                                     \
TGT static void chain_##T##_##SFX(void *out_, const void *a_, int64_t sa,             \
                                  const mlxc_chain_step *st, int nst, int64_t n)      \
{                                                                                     \
    typedef T V __attribute__((vector_size(VB)));                                     \
    typedef T U __attribute__((vector_size(VB), aligned(sizeof(T)), may_alias));      \
    enum { W = VB / (int)sizeof(T) };                                                 \
    T *out = out_;                                                                    \
    const T *a = a_;                                                                  \
    int64_t i = 0;                                                                    \
    for (; i + 4 * W <= n; i += 4 * W) {                                              \
        V v0, v1, v2, v3;                                                             \
        if (sa) {                                                                     \
            v0 = *(const U *)(a + i); v1 = *(const U *)(a + i + W);                   \
            v2 = *(const U *)(a + i + 2 * W); v3 = *(const U *)(a + i + 3 * W);       \
        } else {                                                                      \
            v0 = a[0] - (V){0}; v1 = v0; v2 = v0; v3 = v0;                            \
        }                                                                             \
        for (int k = 0; k < nst; k++) {                                               \
            const mlxc_chain_step *s = &st[k];                                        \
            const T *p = s->p;                                                        \
            V w0, w1, w2, w3;                                                         \
            if (!p) {                                                                 \
                w0 = v0; w1 = v1; w2 = v2; w3 = v3;                                   \
            } else if (s->s) {                                                        \
                w0 = *(const U *)(p + i); w1 = *(const U *)(p + i + W);               \
                w2 = *(const U *)(p + i + 2 * W); w3 = *(const U *)(p + i + 3 * W);   \
            } else {                                                                  \
                w0 = p[0] - (V){0}; w1 = w0; w2 = w0; w3 = w0;                        \
            }                                                                         \
            if (s->swap) {                                                            \
                switch (s->op) {                                                      \
                case MLXC_ADD: v0 = w0 + v0; v1 = w1 + v1; v2 = w2 + v2; v3 = w3 + v3; break; \
                case MLXC_SUB: v0 = w0 - v0; v1 = w1 - v1; v2 = w2 - v2; v3 = w3 - v3; break; \
                case MLXC_MUL: v0 = w0 * v0; v1 = w1 * v1; v2 = w2 * v2; v3 = w3 * v3; break; \
                default: v0 = w0 / v0; v1 = w1 / v1; v2 = w2 / v2; v3 = w3 / v3; break;      \
                }                                                                     \
            } else {                                                                  \
                switch (s->op) {                                                      \
                case MLXC_ADD: v0 = v0 + w0; v1 = v1 + w1; v2 = v2 + w2; v3 = v3 + w3; break; \
                case MLXC_SUB: v0 = v0 - w0; v1 = v1 - w1; v2 = v2 - w2; v3 = v3 - w3; break; \
                case MLXC_MUL: v0 = v0 * w0; v1 = v1 * w1; v2 = v2 * w2; v3 = v3 * w3; break; \
                default: v0 = v0 / w0; v1 = v1 / w1; v2 = v2 / w2; v3 = v3 / w3; break;      \
                }                                                                     \
            }                                                                         \
        }                                                                             \
        *(U *)(out + i) = v0; *(U *)(out + i + W) = v1;                               \
        *(U *)(out + i + 2 * W) = v2; *(U *)(out + i + 3 * W) = v3;                   \
    }                                                                                 \
    tail_##T(out, a, sa, st, nst, i, n);                                              \
}

#define TGT2 __attribute__((target("avx2")))
#define TGT5 __attribute__((target("avx512f,prefer-vector-width=512")))
GEN_SIMD(float, 32, avx2, TGT2)
GEN_SIMD(double, 32, avx2, TGT2)
GEN_SIMD(float, 64, avx512, TGT5)
GEN_SIMD(double, 64, avx512, TGT5)
#endif

int mlxc_chain_op_ok(int op, int dtype)
{
    return (op == MLXC_ADD || op == MLXC_SUB || op == MLXC_MUL || op == MLXC_DIV) &&
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
