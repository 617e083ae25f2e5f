/* The float fast paths of kernels/binary.c, written once and compiled per
 * SIMD level: binary.c sets BS_AVX512 to 0 (AVX2) or 1 (AVX-512) and
 * includes this file once per level.  Vectors are GCC vector types of VBYTES
 * bytes, so the ops' C expressions (FOP_*) apply lane by lane, IEEE like the
 * scalar ones.  Makes fast_<op>_<T>_<level> (plain loops that gcc vectorizes
 * at the level's width), cmp_<op>_<T>_<level> (comparisons into bool, the same)
 * and stream_<op>_<T>_<level> (non-temporal stores). */

#if BS_AVX512
#define VBYTES 64
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c,prefer-vector-width=512")))
#define SFX(f) f##_avx512
#define VSTREAM_float(p, v) _mm512_stream_ps(p, (__m512)(v))
#define VSTREAM_double(p, v) _mm512_stream_pd(p, (__m512d)(v))
#else
#define VBYTES 32
#define TGT __attribute__((target("avx2,fma,f16c")))
#define SFX(f) f##_avx2
#define VSTREAM_float(p, v) _mm256_stream_ps(p, (__m256)(v))
#define VSTREAM_double(p, v) _mm256_stream_pd(p, (__m256d)(v))
#endif

#define GEN_FAST(op, T)                                                             \
TGT static void SFX(fast_##op##_##T)(void *o_, const void *a_, int64_t sa,          \
                                     const void *b_, int64_t sb, int64_t n)         \
{                                                                                   \
    T *restrict o = o_;                                                             \
    const T *restrict a = a_;                                                       \
    const T *restrict b = b_;                                                       \
    if (sa == 1 && sb == 1) {                                                       \
        for (int64_t i = 0; i < n; i++) o[i] = FOP_##op(a[i], b[i]);                \
    } else if (sa == 0 && sb == 1) {                                                \
        T x = a[0];                                                                 \
        for (int64_t i = 0; i < n; i++) o[i] = FOP_##op(x, b[i]);                   \
    } else if (sa == 1 && sb == 0) {                                                \
        T y = b[0];                                                                 \
        for (int64_t i = 0; i < n; i++) o[i] = FOP_##op(a[i], y);                   \
    } else {                                                                        \
        for (int64_t i = 0; i < n; i++) o[i] = FOP_##op(a[i * sa], b[i * sb]);      \
    }                                                                               \
}

/* Elements before the first 64-byte boundary of o and after the last full
 * vector use the scalar op (IEEE: same result).  uv: an unaligned vector
 * that may alias T. */
#define GEN_STREAM(op, T)                                                           \
TGT static void SFX(stream_##op##_##T)(void *o_, const void *a_, int64_t sa,        \
                                       const void *b_, int64_t sb, int64_t n)       \
{                                                                                   \
    typedef T uv __attribute__((vector_size(VBYTES), aligned(sizeof(T)), may_alias)); \
    enum { W = VBYTES / sizeof(T) };                                                \
    T *o = o_;                                                                      \
    const T *a = a_, *b = b_;                                                       \
    int64_t i = 0;                                                                  \
    for (; i < n && ((uintptr_t)(o + i) & 63); i++) o[i] = FOP_##op(a[i * sa], b[i * sb]); \
    if (sa == 1 && sb == 1) {                                                       \
        for (; i + W <= n; i += W)                                                  \
            VSTREAM_##T(o + i, FOP_##op(*(const uv *)(a + i), *(const uv *)(b + i))); \
    } else if (sa == 0 && sb == 1) {                                                \
        uv x = a[0] - (uv){0};        /* broadcast; x - +0 is x, -0 and NaN too */ \
        for (; i + W <= n; i += W) VSTREAM_##T(o + i, FOP_##op(x, *(const uv *)(b + i))); \
    } else if (sa == 1 && sb == 0) {                                                \
        uv y = b[0] - (uv){0};                                                      \
        for (; i + W <= n; i += W) VSTREAM_##T(o + i, FOP_##op(*(const uv *)(a + i), y)); \
    }                                                                               \
    for (; i < n; i++) o[i] = FOP_##op(a[i * sa], b[i * sb]);                       \
    _mm_sfence();     /* order the streamed lines before the pool's handoff */      \
}

/* comparisons into bool (uint8_t 0 / 1): the C predicate lane by lane (ordered for
 * < <= > >= ==, unordered-true for !=, as the scalar code) */
#define GEN_CMP(op, T)                                                              \
TGT static void SFX(cmp_##op##_##T)(void *o_, const void *a_, int64_t sa,           \
                                    const void *b_, int64_t sb, int64_t n)          \
{                                                                                   \
    uint8_t *restrict o = o_;                                                       \
    const T *restrict a = a_;                                                       \
    const T *restrict b = b_;                                                       \
    if (sa == 1 && sb == 1) {                                                       \
        for (int64_t i = 0; i < n; i++) o[i] = (uint8_t)COP_##op(a[i], b[i]);       \
    } else if (sa == 0 && sb == 1) {                                                \
        T x = a[0];                                                                 \
        for (int64_t i = 0; i < n; i++) o[i] = (uint8_t)COP_##op(x, b[i]);          \
    } else if (sa == 1 && sb == 0) {                                                \
        T y = b[0];                                                                 \
        for (int64_t i = 0; i < n; i++) o[i] = (uint8_t)COP_##op(a[i], y);          \
    } else {                                                                        \
        for (int64_t i = 0; i < n; i++) o[i] = (uint8_t)COP_##op(a[i * sa], b[i * sb]); \
    }                                                                               \
}

#define GEN_LEVEL(T) GEN_CMP(EQ, T) GEN_CMP(NE, T) GEN_CMP(LT, T) GEN_CMP(LE, T)     \
    GEN_CMP(GT, T) GEN_CMP(GE, T) GEN_FAST(ADD, T) GEN_FAST(SUB, T) GEN_FAST(MUL, T) GEN_FAST(DIV, T) \
    GEN_FAST(MAXIMUM, T) GEN_FAST(MINIMUM, T)                                       \
    GEN_STREAM(ADD, T) GEN_STREAM(SUB, T) GEN_STREAM(MUL, T) GEN_STREAM(DIV, T)
GEN_LEVEL(float)
GEN_LEVEL(double)

#undef GEN_LEVEL
#undef GEN_STREAM
#undef GEN_FAST
#undef GEN_CMP
#undef VSTREAM_double
#undef VSTREAM_float
#undef SFX
#undef TGT
#undef VBYTES
