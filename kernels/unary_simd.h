/* The float fast paths of kernels/unary.c, written once and compiled per SIMD
 * level: unary.c sets US_AVX512 to 0 (AVX2) or 1 (AVX-512) and includes this file
 * once per level.  Plain loops of the scalar expressions (UOP_<op>_F), which gcc
 * vectorizes at the level's width: sign flips, fabs, sqrt, division and x * x
 * are exact in every lane, so the bits are the scalar kernels'.  Makes ufast_<op>_<T>_<level>. */

#if US_AVX512
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c,prefer-vector-width=512")))
#define SFX(f) f##_avx512
#else
#define TGT __attribute__((target("avx2,fma,f16c")))
#define SFX(f) f##_avx2
#endif

#define GEN_UFAST(op, T)                                                            \
TGT static void SFX(ufast_##op##_##T)(void *o_, const void *i_, int64_t s, int64_t n) \
{                                                                                   \
    T *restrict o = o_;                                                             \
    const T *restrict x = i_;                                                       \
    if (s == 1) {                                                                   \
        for (int64_t i = 0; i < n; i++) o[i] = UOP_##op##_F(x[i], T, T);            \
    } else {                                                                        \
        for (int64_t i = 0; i < n; i++) o[i] = UOP_##op##_F(x[i * s], T, T);        \
    }                                                                               \
}
#define GEN_ULEVEL(T) GEN_UFAST(NEG, T) GEN_UFAST(ABS, T) GEN_UFAST(SQRT, T) GEN_UFAST(SQUARE, T) \
    GEN_UFAST(RSQRT, T) GEN_UFAST(RECIPROCAL, T)
GEN_ULEVEL(float)
GEN_ULEVEL(double)

#undef GEN_ULEVEL
#undef GEN_UFAST
#undef SFX
#undef TGT
