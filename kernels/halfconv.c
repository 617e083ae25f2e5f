/* Block conversions between float32 and the half types, for kernels that run
 * float16 / bfloat16 through float32 buffers (vector math, casts).
 *
 * float16 uses the F16C instructions at the AVX2 level and above (exact both
 * ways, round to nearest even, NaN quieted with sign and top payload bits kept:
 * the same bits as mlxc_h2f / mlxc_f2h in internal.h, which the scalar level
 * and the tails use).  bfloat16 is a shift and a rounding add that gcc
 * vectorizes from the scalar helpers. */
#include "internal.h"
#include "mlxc_cpu.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HC_X86 1
#define TGT_F16C __attribute__((target("avx2,f16c")))

TGT_F16C static void h2f_f16c(float *dst, const uint16_t *src, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = mlxc_h2f(src[i]);
}

TGT_F16C static void f2h_f16c(uint16_t *dst, const float *src, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = mlxc_f2h(src[i]);
}
#endif

void mlxc_h2f_n(float *dst, const uint16_t *src, int64_t n)
{
#ifdef HC_X86
    if (mlxc_isa_pick(mlxc_levels_cast) >= MLXC_ISA_AVX2) {
        h2f_f16c(dst, src, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = mlxc_h2f(src[i]);
}

void mlxc_f2h_n(uint16_t *dst, const float *src, int64_t n)
{
#ifdef HC_X86
    if (mlxc_isa_pick(mlxc_levels_cast) >= MLXC_ISA_AVX2) {
        f2h_f16c(dst, src, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = mlxc_f2h(src[i]);
}

void mlxc_bf2f_n(float *dst, const uint16_t *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = mlxc_bf2f(src[i]);
}

void mlxc_f2bf_n(uint16_t *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = mlxc_f2bf(src[i]);
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef HC_X86
const unsigned mlxc_levels_cast = MLXC_LEVELS_AVX2;
#else
const unsigned mlxc_levels_cast = MLXC_LEVELS_SCALAR;
#endif
