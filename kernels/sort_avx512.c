/* Sorting of int32 keys (sort_simd_impl.h) at the AVX512 level. */
#include <stdint.h>
#include <string.h>
#include "sort_isa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define VW 16
#define LVW 4        /* log2 VW */
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,popcnt")))
#define FN static inline __attribute__((always_inline)) TGT
#define KFN TGT
#define SFX(name) name##_avx512
typedef __m512i V;
typedef __mmask16 VMK;

FN V vld(const int32_t *p) { return _mm512_loadu_si512((const void *)p); }
FN void vst(int32_t *p, V v) { _mm512_storeu_si512((void *)p, v); }
FN V vset1(int32_t x) { return _mm512_set1_epi32(x); }
FN V viota(void) { return _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0); }
FN V vmin(V a, V b) { return _mm512_min_epi32(a, b); }
FN V vmax(V a, V b) { return _mm512_max_epi32(a, b); }
FN V vxor(V a, V b) { return _mm512_xor_si512(a, b); }
FN V vand(V a, V b) { return _mm512_and_si512(a, b); }
FN V vsrai31(V a) { return _mm512_srai_epi32(a, 31); }
FN V vxperm(V v, int c)
{
    switch (c) {         /* in-lane shuffles with immediates where they reach */
    case 1: return _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0xb1);
    case 2: return _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0x4e);
    case 3: return _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0x1b);
    case 4: return _mm512_shuffle_i32x4(v, v, 0xb1);
    case 8: return _mm512_shuffle_i32x4(v, v, 0x4e);
    default: return _mm512_permutexvar_epi32(vxor(viota(), vset1(c)), v);
    }
}
FN V vcmpx(V v, V p, int s)
{
    __mmask16 m = s == 1 ? 0xaaaa : s == 2 ? 0xcccc : s == 4 ? 0xf0f0 : 0xff00;
    return _mm512_mask_max_epi32(_mm512_min_epi32(v, p), m, v, p);
}
FN V vrev(V v) { return vxperm(v, 15); }
FN V vld_fill(const int32_t *p, int cnt, int32_t fill)
{
    return _mm512_mask_loadu_epi32(vset1(fill), (__mmask16)((1u << cnt) - 1), (const void *)p);
}
FN void vst_part(int32_t *p, V v, int cnt)
{
    _mm512_mask_storeu_epi32((void *)p, (__mmask16)((1u << cnt) - 1), v);
}
/* in each 128-bit lane: the 4 x 4 matrix of r[0, 4) transposed */
FN void vtranspose4(V *r)
{
    V t0 = _mm512_unpacklo_epi32(r[0], r[1]), t1 = _mm512_unpackhi_epi32(r[0], r[1]);
    V t2 = _mm512_unpacklo_epi32(r[2], r[3]), t3 = _mm512_unpackhi_epi32(r[2], r[3]);
    r[0] = _mm512_unpacklo_epi64(t0, t2);
    r[1] = _mm512_unpackhi_epi64(t0, t2);
    r[2] = _mm512_unpacklo_epi64(t1, t3);
    r[3] = _mm512_unpackhi_epi64(t1, t3);
}
/* r[0, 16) transposed (lane j of r[i] to lane i of r[j]) */
FN void vtranspose(V *r)
{
    /* then r[4g + c], 128-bit lane L: rows 4g .. 4g+3 of column 4L + c */
#pragma GCC unroll 4
    for (int g = 0; g < 16; g += 4) vtranspose4(r + g);
    /* for each c a 4 x 4 transpose of 128-bit lanes over r[c], r[4+c], r[8+c], r[12+c] */
#pragma GCC unroll 16
    for (int c = 0; c < 4; c++) {
        V s0 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x44), s1 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xee);
        V s2 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x44);
        V s3 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xee);
        r[c] = _mm512_shuffle_i32x4(s0, s2, 0x88);
        r[4 + c] = _mm512_shuffle_i32x4(s0, s2, 0xdd);
        r[8 + c] = _mm512_shuffle_i32x4(s1, s3, 0x88);
        r[12 + c] = _mm512_shuffle_i32x4(s1, s3, 0xdd);
    }
}
FN unsigned vspecial(V x)
{
    __m512 f = _mm512_castsi512_ps(x);
    return (unsigned)(_mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q) |
                      _mm512_testn_epi32_mask(x, vset1(0x7fffffff)));
}
/* register compresses and plain / masked stores: a compressing store to memory
 * is several times slower (measured: it was a third of the sort) */
FN int vpart(V v, V pivot, int le, int32_t *left, int32_t *right_end)
{
    VMK m = le ? _mm512_cmple_epi32_mask(v, pivot) : _mm512_cmplt_epi32_mask(v, pivot);
    int nl = __builtin_popcount((unsigned)m), nr = VW - nl;
    _mm512_storeu_si512((void *)left, _mm512_maskz_compress_epi32(m, v));
    _mm512_mask_storeu_epi32((void *)(right_end - nr), (VMK)((1u << nr) - 1),
                             _mm512_maskz_compress_epi32((VMK)~m, v));
    return nl;
}
FN int vpart_exact(V v, V pivot, int le, int32_t *left, int32_t *right_end)
{
    VMK m = le ? _mm512_cmple_epi32_mask(v, pivot) : _mm512_cmplt_epi32_mask(v, pivot);
    int nl = __builtin_popcount((unsigned)m), nr = VW - nl;
    _mm512_mask_storeu_epi32((void *)left, (VMK)((1u << nl) - 1), _mm512_maskz_compress_epi32(m, v));
    _mm512_mask_storeu_epi32((void *)(right_end - nr), (VMK)((1u << nr) - 1),
                             _mm512_maskz_compress_epi32((VMK)~m, v));
    return nl;
}
/* SK_* flags of float keys, gathered over registers then reduced */
FN void vflags_acc(V k, V *nan, V *nz, V *pz)
{
    VMK m = _mm512_cmpgt_epi32_mask(k, vset1(0x7f800000)) |
            _mm512_cmplt_epi32_mask(k, vset1((int32_t)0x807fffffu));
    *nan = _mm512_mask_mov_epi32(*nan, m, vset1(-1));
    *nz = _mm512_mask_mov_epi32(*nz, _mm512_cmpeq_epi32_mask(k, vset1(-1)), vset1(-1));
    *pz = _mm512_mask_mov_epi32(*pz, _mm512_cmpeq_epi32_mask(k, vset1(0)), vset1(-1));
}
FN int vflags_done(V nan, V nz, V pz)
{
    return (_mm512_test_epi32_mask(nan, nan) ? SK_NAN : 0) |
           (_mm512_test_epi32_mask(nz, nz) ? SK_NZERO : 0) |
           (_mm512_test_epi32_mask(pz, pz) ? SK_PZERO : 0);
}

#include "sort_simd_impl.h"

#endif
