/* The AVX512 level's float32 vector operations (types and wrappers) used by the
 * per-level kernels: vmath_impl.h's algorithms (vmath_avx512.c) and the mx.fast
 * kernels (fast_avx512.c).  Include inside an x86-64 gcc/clang guard. */
#ifndef MLXC_SIMD_AVX512_H
#define MLXC_SIMD_AVX512_H

#include <immintrin.h>

#define VW 16
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")))
#define FN static inline __attribute__((always_inline)) TGT
#define KFN TGT
#define SFX(name) name##_avx512
typedef __m512 VF;
typedef __m512i VI;
typedef __mmask16 VM;
typedef __m512d VD;     /* 8 float64 lanes (also read as int64 by vdi_*) */

FN VF vset(float a) { return _mm512_set1_ps(a); }
FN VF vadd(VF a, VF b) { return _mm512_add_ps(a, b); }
FN VF vsub(VF a, VF b) { return _mm512_sub_ps(a, b); }
FN VF vmul(VF a, VF b) { return _mm512_mul_ps(a, b); }
FN VF vdiv(VF a, VF b) { return _mm512_div_ps(a, b); }
FN VF vsqrt(VF a) { return _mm512_sqrt_ps(a); }
FN VF vfma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
FN VF vfnma(VF a, VF b, VF c) { return _mm512_fnmadd_ps(a, b, c); }
FN VF vmin(VF a, VF b) { return _mm512_min_ps(a, b); }
FN VF vmax(VF a, VF b) { return _mm512_max_ps(a, b); }
FN VF vrint(VF a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
FN VF vand(VF a, VF b) { return _mm512_and_ps(a, b); }
FN VF vor(VF a, VF b) { return _mm512_or_ps(a, b); }
FN VF vxor(VF a, VF b) { return _mm512_xor_ps(a, b); }
FN VF vabs(VF a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
FN VF vload(const float *p) { return _mm512_loadu_ps(p); }
FN void vstore(float *p, VF v) { _mm512_storeu_ps(p, v); }
FN VF vload_n(const float *p, int64_t n) { return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p); }
FN void vstore_n(float *p, VF v, int64_t n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v); }

FN VI viset(int a) { return _mm512_set1_epi32(a); }
FN VI viadd(VI a, VI b) { return _mm512_add_epi32(a, b); }
FN VI visub(VI a, VI b) { return _mm512_sub_epi32(a, b); }
FN VI viand(VI a, VI b) { return _mm512_and_si512(a, b); }
FN VI vimin(VI a, VI b) { return _mm512_min_epi32(a, b); }
FN VI vimax(VI a, VI b) { return _mm512_max_epi32(a, b); }
#define vislli(a, k) _mm512_slli_epi32(a, k)
#define visrai(a, k) _mm512_srai_epi32(a, k)
FN VF vcvt_if(VI a) { return _mm512_cvtepi32_ps(a); }
FN VI vcvtt_fi(VF a) { return _mm512_cvttps_epi32(a); }
FN VI vbits_fi(VF a) { return _mm512_castps_si512(a); }
FN VF vbits_if(VI a) { return _mm512_castsi512_ps(a); }

FN VM vlt(VF a, VF b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
FN VM vle(VF a, VF b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
FN VM veq(VF a, VF b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
FN VM vunord(VF a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
FN VM vmor(VM a, VM b) { return (VM)(a | b); }
FN VM vmand(VM a, VM b) { return (VM)(a & b); }
FN VF vsel(VM m, VF t, VF f) { return _mm512_mask_blend_ps(m, f, t); }
FN unsigned vmbits(VM m) { return (unsigned)m; }

#define vtab8(c0, c1, c2, c3, c4, c5, c6) \
    _mm512_setr_ps(c0, c1, c2, c3, c4, c5, c6, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f)
FN VF vperm(VF t, VI i) { return _mm512_permutexvar_ps(i, t); }

FN VD vdset(double a) { return _mm512_set1_pd(a); }
FN VD vdadd(VD a, VD b) { return _mm512_add_pd(a, b); }
FN VD vdsub(VD a, VD b) { return _mm512_sub_pd(a, b); }
FN VD vdmul(VD a, VD b) { return _mm512_mul_pd(a, b); }
FN VD vddiv(VD a, VD b) { return _mm512_div_pd(a, b); }
FN VD vdfma(VD a, VD b, VD c) { return _mm512_fmadd_pd(a, b, c); }
FN VD vdmin(VD a, VD b) { return _mm512_min_pd(a, b); }
FN VD vdmax(VD a, VD b) { return _mm512_max_pd(a, b); }
FN VD vdrint(VD a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
FN VD vd_lo(VF a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
FN VD vd_hi(VF a) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)); }
FN VF vf_join(VD lo, VD hi)
{
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}
FN VD vdiset(long long a) { return _mm512_castsi512_pd(_mm512_set1_epi64(a)); }
FN VD vdi_add(VD a, VD b)
{
    return _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(a), _mm512_castpd_si512(b)));
}
FN VD vdi_sub(VD a, VD b)
{
    return _mm512_castsi512_pd(_mm512_sub_epi64(_mm512_castpd_si512(a), _mm512_castpd_si512(b)));
}
#define vdi_slli(a, k) _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_castpd_si512(a), k))
#define vdi_srli(a, k) _mm512_castsi512_pd(_mm512_srli_epi64(_mm512_castpd_si512(a), k))

/* horizontal sum / max of the lanes (fixed order: same bits on every call) */
FN float vhsum(VF a)
{
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
FN float vhmax(VF a)
{
    __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
