/* Sorting of int32 keys (sort_simd_impl.h) at the AVX2 level. */
#include <stdint.h>
#include <string.h>
#include "sort_isa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define VW 8
#define LVW 3        /* log2 VW */
#define TGT __attribute__((target("avx2,popcnt")))
#define FN static inline __attribute__((always_inline)) TGT
#define KFN TGT
#define SFX(name) name##_avx2
typedef __m256i V;

FN V vld(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
FN void vst(int32_t *p, V v) { _mm256_storeu_si256((__m256i *)p, v); }
FN V vset1(int32_t x) { return _mm256_set1_epi32(x); }
FN V viota(void) { return _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0); }
FN V vmin(V a, V b) { return _mm256_min_epi32(a, b); }
FN V vmax(V a, V b) { return _mm256_max_epi32(a, b); }
FN V vxor(V a, V b) { return _mm256_xor_si256(a, b); }
FN V vand(V a, V b) { return _mm256_and_si256(a, b); }
FN V vsrai31(V a) { return _mm256_srai_epi32(a, 31); }
FN V vxperm(V v, int c)
{
    switch (c) {         /* in-lane shuffles with immediates where they reach */
    case 1: return _mm256_shuffle_epi32(v, 0xb1);
    case 2: return _mm256_shuffle_epi32(v, 0x4e);
    case 3: return _mm256_shuffle_epi32(v, 0x1b);
    case 4: return _mm256_permute4x64_epi64(v, 0x4e);
    default: return _mm256_permutevar8x32_epi32(v, vxor(viota(), vset1(c)));
    }
}
FN V vcmpx(V v, V p, int s)
{
    V lo = _mm256_min_epi32(v, p), hi = _mm256_max_epi32(v, p);
    switch (s) {
    case 1: return _mm256_blend_epi32(lo, hi, 0xaa);
    case 2: return _mm256_blend_epi32(lo, hi, 0xcc);
    default: return _mm256_blend_epi32(lo, hi, 0xf0);
    }
}
FN V vrev(V v) { return vxperm(v, 7); }
FN V vlanes(int cnt) { return _mm256_cmpgt_epi32(vset1(cnt), viota()); }
FN V vld_fill(const int32_t *p, int cnt, int32_t fill)
{
    V m = vlanes(cnt);
    return _mm256_blendv_epi8(vset1(fill), _mm256_maskload_epi32(p, m), m);
}
FN void vst_part(int32_t *p, V v, int cnt) { _mm256_maskstore_epi32(p, vlanes(cnt), v); }
/* in each 128-bit lane: the 4 x 4 matrix of r[0, 4) transposed */
FN void vtranspose4(V *r)
{
    V t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    V t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    r[0] = _mm256_unpacklo_epi64(t0, t2);
    r[1] = _mm256_unpackhi_epi64(t0, t2);
    r[2] = _mm256_unpacklo_epi64(t1, t3);
    r[3] = _mm256_unpackhi_epi64(t1, t3);
}
/* r[0, 8) transposed (lane j of r[i] to lane i of r[j]) */
FN void vtranspose(V *r)
{
    /* then r[4g + c], 128-bit lane L: rows 4g .. 4g+3 of column 4L + c */
#pragma GCC unroll 4
    for (int g = 0; g < 8; g += 4) vtranspose4(r + g);
#pragma GCC unroll 16
    for (int c = 0; c < 4; c++) {
        V lo = _mm256_permute2x128_si256(r[c], r[4 + c], 0x20);
        r[4 + c] = _mm256_permute2x128_si256(r[c], r[4 + c], 0x31);
        r[c] = lo;
    }
}
/* NaN or zero: 2|x| - 2 * 0x7f800001 (mod 2^32) is below 2^24 - 1 unsigned for
 * exactly those; the bias 2^31 makes the compare a signed one */
FN unsigned vspecial(V x)
{
    V t = _mm256_add_epi32(_mm256_slli_epi32(x, 1), vset1((int32_t)0x80fffffeu));
    V m = _mm256_cmpgt_epi32(vset1((int32_t)0x80ffffffu), t);
    return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(m));
}

/* per lane mask m (bit i: lane i goes left): the permutation putting the left
 * lanes first and the right ones after, both in order, as 8 nibbles */
static uint32_t part_perm[256];
static void part_perm_init(void)
{
    /* mask 255 (the identity, 0x76543210) is written last: set means all are */
    if (__atomic_load_n(&part_perm[255], __ATOMIC_ACQUIRE)) return;
    for (int m = 0; m < 256; m++) {
        uint32_t p = 0;
        int at = 0;
        for (int side = 1; side >= 0; side--)
            for (int i = 0; i < 8; i++)
                if (((m >> i) & 1) == side) p |= (uint32_t)i << (4 * at++);
        __atomic_store_n(&part_perm[m], p, __ATOMIC_RELEASE);
    }
}
/* v's lanes below the pivot (or not above it, le) first, the rest after, into *w;
 * returns how many are below */
FN int vsplit(V v, V pivot, int le, V *w)
{
    V lt = le ? _mm256_xor_si256(_mm256_cmpgt_epi32(v, pivot), vset1(-1))
              : _mm256_cmpgt_epi32(pivot, v);
    unsigned m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(lt));
    int nl = __builtin_popcount(m);
    V idx = _mm256_and_si256(_mm256_srlv_epi32(vset1((int32_t)part_perm[m]),
                                               _mm256_set_epi32(28, 24, 20, 16, 12, 8, 4, 0)),
                             vset1(7));
    *w = _mm256_permutevar8x32_epi32(v, idx);
    return nl;
}
/* partition step: the low lanes at left, the high ones ending at right_end (a full
 * vector store on the left: the caller has room past it) */
FN int vpart(V v, V pivot, int le, int32_t *left, int32_t *right_end)
{
    V w;
    int nl = vsplit(v, pivot, le, &w);
    _mm256_storeu_si256((__m256i *)left, w);
    _mm256_maskstore_epi32(right_end - VW, _mm256_cmpgt_epi32(viota(), vset1(nl - 1)), w);
    return nl;
}
/* the same writing exactly nl lanes on the left (no room past it) */
FN int vpart_exact(V v, V pivot, int le, int32_t *left, int32_t *right_end)
{
    V w;
    int nl = vsplit(v, pivot, le, &w);
    _mm256_maskstore_epi32(left, _mm256_cmpgt_epi32(vset1(nl), viota()), w);
    _mm256_maskstore_epi32(right_end - VW, _mm256_cmpgt_epi32(viota(), vset1(nl - 1)), w);
    return nl;
}
FN void vflags_acc(V k, V *nan, V *nz, V *pz)
{
    V hi = _mm256_cmpgt_epi32(k, vset1(0x7f800000));
    V lo = _mm256_cmpgt_epi32(vset1((int32_t)0x807fffffu), k);
    *nan = _mm256_or_si256(*nan, _mm256_or_si256(hi, lo));
    *nz = _mm256_or_si256(*nz, _mm256_cmpeq_epi32(k, vset1(-1)));
    *pz = _mm256_or_si256(*pz, _mm256_cmpeq_epi32(k, vset1(0)));
}
FN int vflags_done(V nan, V nz, V pz)
{
    return (_mm256_testz_si256(nan, nan) ? 0 : SK_NAN) |
           (_mm256_testz_si256(nz, nz) ? 0 : SK_NZERO) |
           (_mm256_testz_si256(pz, pz) ? 0 : SK_PZERO);
}
#define SORT_SIMD_INIT part_perm_init

#include "sort_simd_impl.h"

#endif
