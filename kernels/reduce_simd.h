/* The float32 row kernels of kernels/reduce.c, written once over a few
 * vector operations and compiled per SIMD level: reduce.c sets RS_AVX512 to
 * 0 (AVX2, 8 lanes) or 1 (AVX-512, 16 lanes) and includes this file once per
 * level; every kernel gets the level's suffix (SFX).  Used by reduce.c:
 * imin, the scalar fallbacks *_f32_scalar / arg_*_f32, first_nan_f32,
 * arg_merge_f32, COLW, INIT_max / INIT_min.
 *
 *   SFX(sum_f32)        (AVX2 only, see there) a leaf of the float sum
 *                       (n <= PS_LEAF): element i in
 *                       lane i % 64, lanes folded by halving (reduce.c's
 *                       header): the scalar leaf's additions, bit for bit
 *   SFX(max_f32/min_f32)  4 vectors of running extremes plus a NaN flag
 *   SFX(colsum_f32)     column sums in double, 4 rows per pass
 *   SFX(ARGMAX_f32/ARGMIN_f32)  per-lane best value and first index */

#if RS_AVX512
#define VW 16
#define TGT TGT_AVX512
#define SFX(f) f##_avx512
#define VF __m512
#define VI __m512i
#define VD __m512d                /* VW/2 float64 lanes */
#define VM __mmask16              /* one bit per lane */
#define VZERO() _mm512_setzero_ps()
#define VSET _mm512_set1_ps
#define VADD _mm512_add_ps
#define VMAX _mm512_max_ps
#define VMIN _mm512_min_ps
#define VLOAD _mm512_loadu_ps
#define VLOAD_N(p, c) _mm512_maskz_loadu_ps((__mmask16)((1u << (c)) - 1u), p)
#define VSTORE _mm512_storeu_ps
#define VCMP(a, b, P) _mm512_cmp_ps_mask(a, b, P)
#define VM_NONE ((__mmask16)0)
#define VM_OR(a, b) ((__mmask16)((a) | (b)))
#define VM_ANY(m) ((m) != 0)
#define VSEL(m, t, f) _mm512_mask_mov_ps(f, m, t)
#define VIOTA() _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define VISET _mm512_set1_epi32
#define VIADD _mm512_add_epi32
#define VISEL(m, t, f) _mm512_mask_mov_epi32(f, m, t)
#define VISTORE(p, v) _mm512_storeu_si512((void *)(p), v)
/* lanes k and k + 8 added: 8 lanes left */
#define VFOLD8(v) _mm256_add_ps(_mm512_castps512_ps256(v), \
                                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))
#define VD_LOAD _mm512_loadu_pd
#define VD_STORE _mm512_storeu_pd
#define VD_ADD _mm512_add_pd
#define VD_WIDEN(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))       /* VW/2 floats at p */
#else
#define VW 8
#define TGT TGT_AVX2
#define SFX(f) f##_avx2
#define VF __m256
#define VI __m256i
#define VD __m256d
#define VM __m256                 /* all-ones / all-zeros lanes */
#define VZERO() _mm256_setzero_ps()
#define VSET _mm256_set1_ps
#define VADD _mm256_add_ps
#define VMAX _mm256_max_ps
#define VMIN _mm256_min_ps
#define VLOAD _mm256_loadu_ps
#define VLOAD_N(p, c) _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(c), \
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))
#define VSTORE _mm256_storeu_ps
#define VCMP(a, b, P) _mm256_cmp_ps(a, b, P)
#define VM_NONE _mm256_setzero_ps()
#define VM_OR _mm256_or_ps
#define VM_ANY(m) (_mm256_movemask_ps(m) != 0)
#define VSEL(m, t, f) _mm256_blendv_ps(f, t, m)
#define VIOTA() _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
#define VISET _mm256_set1_epi32
#define VIADD _mm256_add_epi32
#define VISEL(m, t, f) _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(f), \
                                           _mm256_castsi256_ps(t), m))
#define VISTORE(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define VFOLD8(v) (v)
#define VD_LOAD _mm256_loadu_pd
#define VD_STORE _mm256_storeu_pd
#define VD_ADD _mm256_add_pd
#define VD_WIDEN(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#endif

#define NV (PS_LANES / VW)        /* vectors holding the 64 lanes of a sum leaf */

/* vector j holds lanes VW*j .. VW*j + VW-1.  Only the AVX2 width is compiled:
 * long float32 sums stream memory, and with 256-bit loads they ran ~12%
 * faster (single thread, DRAM-resident 64 MiB, AMD Zen 4) than with 512-bit
 * ones, at equal in-cache speed; the AVX-512 level uses this leaf (same bits). */
#if !RS_AVX512
TGT static float SFX(sum_f32)(const float *x, int64_t n)
{
    VF a[NV];
    for (int j = 0; j < NV; j++) a[j] = VZERO();
    int64_t i = 0;
    for (; i + PS_LANES <= n; i += PS_LANES)
        for (int j = 0; j < NV; j++) a[j] = VADD(a[j], VLOAD(x + i + VW * j));
    if (i < n) {
        int r = (int)(n - i);
        for (int j = 0; j < NV && VW * j < r; j++)
            a[j] = VADD(a[j], VLOAD_N(x + i + VW * j, (int)imin(VW, r - VW * j)));
    }
    for (int k = NV / 2; k >= 1; k >>= 1)          /* w = 32 .. VW */
        for (int j = 0; j < k; j++) a[j] = VADD(a[j], a[j + k]);
    __m256 v = VFOLD8(a[0]);                      /* w = 8 (AVX-512) */
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
    return _mm_cvtss_f32(q);
}
#endif

/* max/min with a NaN flag; m = v OP m ? v : m per lane (what max_ps(v, m)
 * does), NaN -> NaN.  The lanes are then folded as in the scalar code. */
#define GEN_MM_SIMD(NAME, INS, CMPOP)                                                    \
TGT static float SFX(NAME##_f32)(const float *x, int64_t n)                         \
{                                                                                   \
    if (n < 8 * VW) return NAME##_f32_scalar(x, n);                                 \
    VF a[4];                                                                        \
    VM nan = VM_NONE;                                                               \
    for (int j = 0; j < 4; j++) a[j] = VSET(INIT_##NAME);                           \
    int64_t i = 0;                                                                  \
    for (; i + 4 * VW <= n; i += 4 * VW)                                            \
        for (int j = 0; j < 4; j++) {                                               \
            VF v = VLOAD(x + i + VW * j);                                           \
            a[j] = INS(v, a[j]);                                                    \
            nan = VM_OR(nan, VCMP(v, v, _CMP_UNORD_Q));                             \
        }                                                                           \
    if (VM_ANY(nan)) return NAN;                                                    \
    float l[4 * VW], m = INIT_##NAME;                                               \
    for (int j = 0; j < 4; j++) VSTORE(l + VW * j, a[j]);                           \
    for (int k = 0; k < 4 * VW; k++) m = l[k] CMPOP m ? l[k] : m;                   \
    for (; i < n; i++) { float v = x[i]; m = (v CMPOP m || v != v) ? v : m; }       \
    return m;                                                                       \
}
GEN_MM_SIMD(max, VMAX, >)
GEN_MM_SIMD(min, VMIN, <)
#undef GEN_MM_SIMD

/* column sums: acc[j] = (((acc[j] + r0[j]) + r1[j]) + r2[j]) + r3[j] in
 * double, the same additions as one row at a time; VW columns per step */
TGT static void SFX(colsum_f32)(float *o, const float *x, int64_t rs, int64_t nr, int64_t w)
{
    enum { H = VW / 2 };
    double acc[COLW];
    for (int64_t j0 = 0; j0 < w; j0 += COLW) {
        int64_t jn = imin(COLW, w - j0), r = 0;
        for (int64_t j = 0; j < jn; j++) acc[j] = 0.0;
        for (; r + 4 <= nr; r += 4) {
            const float *p[4] = {x + r * rs + j0};
            for (int k = 1; k < 4; k++) p[k] = p[k - 1] + rs;
            int64_t j = 0;
            for (; j + VW <= jn; j += VW) {
                VD a = VD_LOAD(acc + j), b = VD_LOAD(acc + j + H);
                for (int k = 0; k < 4; k++) {
                    a = VD_ADD(a, VD_WIDEN(p[k] + j));
                    b = VD_ADD(b, VD_WIDEN(p[k] + j + H));
                }
                VD_STORE(acc + j, a);
                VD_STORE(acc + j + H, b);
            }
            for (; j < jn; j++)
                acc[j] = (((acc[j] + (double)p[0][j]) + (double)p[1][j]) + (double)p[2][j])
                         + (double)p[3][j];
        }
        for (; r < nr; r++) {
            const float *p0 = x + r * rs + j0;
            for (int64_t j = 0; j < jn; j++) acc[j] += (double)p0[j];
        }
        for (int64_t j = 0; j < jn; j++) o[j0 + j] = (float)acc[j];
    }
}

/* argmax / argmin of a contiguous row (reduce.c: "Contiguous float32 rows") */
#define GEN_ARG_SIMD(NAME, PRED, ISMAX)                                                  \
TGT static uint32_t SFX(NAME##_f32)(const float *x, int64_t n)                      \
{                                                                                   \
    if (n < 8 * VW || n > INT32_MAX) return arg_##NAME##_f32(x, 1, n);              \
    VF b[4];                                                                        \
    VI bi[4], ci[4];                                                                \
    const VI step = VISET(4 * VW);                                                  \
    VM nan = VM_NONE;                                                               \
    for (int j = 0; j < 4; j++) {                                                   \
        b[j] = VLOAD(x + VW * j);                                                   \
        ci[j] = bi[j] = VIADD(VIOTA(), VISET(VW * j));                              \
        nan = VM_OR(nan, VCMP(b[j], b[j], _CMP_UNORD_Q));                           \
    }                                                                               \
    if (VM_ANY(nan)) return first_nan_f32(x, 0, n);                                 \
    int64_t i = 4 * VW;                                                             \
    for (; i + 4 * VW <= n; i += 4 * VW) {                                          \
        for (int j = 0; j < 4; j++) {                                               \
            VF v = VLOAD(x + i + VW * j);                                           \
            ci[j] = VIADD(ci[j], step);                                             \
            VM m = VCMP(v, b[j], PRED);                                             \
            b[j] = VSEL(m, v, b[j]);                                                \
            bi[j] = VISEL(m, ci[j], bi[j]);                                         \
            nan = VM_OR(nan, VCMP(v, v, _CMP_UNORD_Q));                             \
        }                                                                           \
        if (VM_ANY(nan)) return first_nan_f32(x, i, n);                             \
    }                                                                               \
    float lv[4 * VW];                                                               \
    int32_t li[4 * VW];                                                             \
    for (int j = 0; j < 4; j++) {                                                   \
        VSTORE(lv + VW * j, b[j]);                                                  \
        VISTORE(li + VW * j, bi[j]);                                                \
    }                                                                               \
    return arg_merge_f32(lv, li, 4 * VW, x, i, n, ISMAX);                           \
}
GEN_ARG_SIMD(ARGMAX, _CMP_GT_OQ, 1)
GEN_ARG_SIMD(ARGMIN, _CMP_LT_OQ, 0)
#undef GEN_ARG_SIMD

#undef NV
#undef VW
#undef TGT
#undef SFX
#undef VF
#undef VI
#undef VD
#undef VM
#undef VZERO
#undef VSET
#undef VADD
#undef VMAX
#undef VMIN
#undef VLOAD
#undef VLOAD_N
#undef VSTORE
#undef VCMP
#undef VM_NONE
#undef VM_OR
#undef VM_ANY
#undef VSEL
#undef VIOTA
#undef VISET
#undef VIADD
#undef VISEL
#undef VISTORE
#undef VFOLD8
#undef VD_LOAD
#undef VD_STORE
#undef VD_ADD
#undef VD_WIDEN
