/* The AVX2 level's float32 vector operations (types and wrappers) used by the
 * per-level kernels: vmath_impl.h's algorithms (vmath_avx2.c) and the mx.fast
 * kernels (fast_avx2.c).  Include inside an x86-64 gcc/clang guard. */
#ifndef MLXC_SIMD_AVX2_H
#define MLXC_SIMD_AVX2_H

#include <immintrin.h>

#define VW 8
#define TGT __attribute__((target("avx2,fma,f16c")))
#define FN static inline __attribute__((always_inline)) TGT
#define KFN TGT
#define SFX(name) name##_avx2
typedef __m256 VF;
typedef __m256i VI;
typedef __m256 VM;      /* all-ones / all-zeros lanes */
typedef __m256d VD;     /* 4 float64 lanes (also read as int64 by vdi_*) */

FN VF vset(float a) { return _mm256_set1_ps(a); }
FN VF vadd(VF a, VF b) { return _mm256_add_ps(a, b); }
FN VF vsub(VF a, VF b) { return _mm256_sub_ps(a, b); }
FN VF vmul(VF a, VF b) { return _mm256_mul_ps(a, b); }
FN VF vdiv(VF a, VF b) { return _mm256_div_ps(a, b); }
FN VF vsqrt(VF a) { return _mm256_sqrt_ps(a); }
FN VF vfma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
FN VF vfnma(VF a, VF b, VF c) { return _mm256_fnmadd_ps(a, b, c); }
FN VF vmin(VF a, VF b) { return _mm256_min_ps(a, b); }
FN VF vmax(VF a, VF b) { return _mm256_max_ps(a, b); }
FN VF vrint(VF a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
FN VF vand(VF a, VF b) { return _mm256_and_ps(a, b); }
FN VF vor(VF a, VF b) { return _mm256_or_ps(a, b); }
FN VF vxor(VF a, VF b) { return _mm256_xor_ps(a, b); }
FN VF vabs(VF a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
FN VF vload(const float *p) { return _mm256_loadu_ps(p); }
FN void vstore(float *p, VF v) { _mm256_storeu_ps(p, v); }
FN VI tail_mask(int64_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
FN VF vload_n(const float *p, int64_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
FN void vstore_n(float *p, VF v, int64_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }

FN VI viset(int a) { return _mm256_set1_epi32(a); }
FN VI viadd(VI a, VI b) { return _mm256_add_epi32(a, b); }
FN VI visub(VI a, VI b) { return _mm256_sub_epi32(a, b); }
FN VI viand(VI a, VI b) { return _mm256_and_si256(a, b); }
FN VI vimin(VI a, VI b) { return _mm256_min_epi32(a, b); }
FN VI vimax(VI a, VI b) { return _mm256_max_epi32(a, b); }
#define vislli(a, k) _mm256_slli_epi32(a, k)
#define visrai(a, k) _mm256_srai_epi32(a, k)
FN VF vcvt_if(VI a) { return _mm256_cvtepi32_ps(a); }
FN VI vcvtt_fi(VF a) { return _mm256_cvttps_epi32(a); }
FN VI vbits_fi(VF a) { return _mm256_castps_si256(a); }
FN VF vbits_if(VI a) { return _mm256_castsi256_ps(a); }

FN VM vlt(VF a, VF b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
FN VM vle(VF a, VF b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
FN VM veq(VF a, VF b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
FN VM vunord(VF a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
FN VM vmor(VM a, VM b) { return _mm256_or_ps(a, b); }
FN VM vmand(VM a, VM b) { return _mm256_and_ps(a, b); }
FN VF vsel(VM m, VF t, VF f) { return _mm256_blendv_ps(f, t, m); }
FN unsigned vmbits(VM m) { return (unsigned)_mm256_movemask_ps(m); }

/* 7 per-piece constants (lane 7 unused), picked per lane by index */
#define vtab8(c0, c1, c2, c3, c4, c5, c6) _mm256_setr_ps(c0, c1, c2, c3, c4, c5, c6, 0.0f)
FN VF vperm(VF t, VI i) { return _mm256_permutevar8x32_ps(t, i); }

FN VD vdset(double a) { return _mm256_set1_pd(a); }
FN VD vdadd(VD a, VD b) { return _mm256_add_pd(a, b); }
FN VD vdsub(VD a, VD b) { return _mm256_sub_pd(a, b); }
FN VD vdmul(VD a, VD b) { return _mm256_mul_pd(a, b); }
FN VD vddiv(VD a, VD b) { return _mm256_div_pd(a, b); }
FN VD vdfma(VD a, VD b, VD c) { return _mm256_fmadd_pd(a, b, c); }
FN VD vdmin(VD a, VD b) { return _mm256_min_pd(a, b); }
FN VD vdmax(VD a, VD b) { return _mm256_max_pd(a, b); }
FN VD vdrint(VD a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
FN VD vd_lo(VF a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
FN VD vd_hi(VF a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
FN VF vf_join(VD lo, VD hi)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}
FN VD vdiset(long long a) { return _mm256_castsi256_pd(_mm256_set1_epi64x(a)); }
FN VD vdi_add(VD a, VD b)
{
    return _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(a), _mm256_castpd_si256(b)));
}
FN VD vdi_sub(VD a, VD b)
{
    return _mm256_castsi256_pd(_mm256_sub_epi64(_mm256_castpd_si256(a), _mm256_castpd_si256(b)));
}
#define vdi_slli(a, k) _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(a), k))
#define vdi_srli(a, k) _mm256_castsi256_pd(_mm256_srli_epi64(_mm256_castpd_si256(a), k))

/* horizontal sum / max of the lanes (fixed order: same bits on every call) */
FN float vhsum(VF a)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
FN float vhmax(VF a)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
