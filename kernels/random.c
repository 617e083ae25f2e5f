/* Random numbers: MLX's counter-based threefry-2x32 generator and the
 * float transforms of mx.random, bit for bit as MLX 0.32.4 computes them on
 * the CPU, plus MLX's own versions of log, log1p, erf, erfinv and exp (which
 * mx.random's transforms go through, and which differ from mlxc's vector math).
 *
 * Layout of mlxc_random (MLX's RandomBits): each key fills a block of n
 * 32-bit words; with h = n / 2 and off = h + n % 2, word j < h and word j + off
 * are the two outputs of threefry(key, counter (j, j + off)); for odd n the
 * middle word h is the first output of threefry(key, (h, 0)).  Every word
 * depends only on its key and position, so any split over threads or SIMD
 * lanes gives the same bits.
 *
 * MLX's float math on this platform is the C library's logf / log1pf, and its
 * own polynomial erfinv (over logf), erf and exp with fused multiply-adds.  The
 * scalar code calls logf itself; the vector code reproduces the C library's
 * logf algorithm (glibc >= 2.27 on an FMA machine: a 16-entry table and a
 * degree-4 polynomial in double) and is checked against logf once at first
 * use: where it differs (another C library), the scalar code runs instead. */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

#define TF_PARITY 0x1BD11BDAu
#define U01_MAX 0x1.fffffep-1f      /* nextafter(1, 0): MLX's upper clamp */
#define NORMAL_LO (-0x1.fffffep-1f)  /* nextafter(-1, 0): normal's lower bound */
#define SQRT2F 0x1.6a09e6p+0f        /* (float)sqrt(2.0) */

/* MLX's erfinv: x * P(log(1 - x^2)), one of two polynomials by |log| > 6.125 */
static const float ERFINV_L[9] = {
    3.03697567e-10f, 2.93243101e-8f, 1.22150334e-6f, 2.84108955e-5f, 3.93552968e-4f,
    3.02698812e-3f, 4.83185798e-3f, -2.64646143e-1f, 8.40016484e-1f};
static const float ERFINV_R[10] = {
    5.43877832e-9f, 1.43285448e-7f, 1.22774793e-6f, 1.12963626e-7f, -5.61530760e-5f,
    -1.47697632e-4f, 2.31468678e-3f, 1.15392581e-2f, -2.32015476e-1f, 8.86226892e-1f};

typedef struct {
    int mode;
    float low, range;        /* MLXC_RANDOM_RANDINT: the float affine map */
    int32_t ilow, ihigh;     /* and the integer clamp */
    char *out;
    const uint32_t *keys;
    int64_t per_key, half, off, nchunk;
    int simd;                /* the vector block may run */
} rand_job;

/* ------------------------------------------------------------------ scalar */
static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/* threefry-2x32 with 20 rounds: key (k0, k1), counter (c0, c1) -> (c0, c1) */
static void tf2x32(uint32_t k0, uint32_t k1, uint32_t *c0, uint32_t *c1)
{
    static const int rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
    uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ TF_PARITY};
    uint32_t x0 = *c0 + ks[0], x1 = *c1 + ks[1];
    for (int i = 0; i < 5; i++) {
        for (int r = 0; r < 4; r++) {
            x0 += x1;
            x1 = rotl32(x1, rot[i & 1][r]);
            x1 ^= x0;
        }
        x0 += ks[(i + 1) % 3];
        x1 += ks[(i + 2) % 3] + (uint32_t)(i + 1);
    }
    *c0 = x0;
    *c1 = x1;
}

static inline float u01_s(uint32_t w)
{
    float f = (float)w * 0x1p-32f;
    return f < U01_MAX ? f : U01_MAX;
}

static inline float poly_s(float t, const float *c, int n)
{
    float p = c[0];
    for (int i = 1; i < n; i++) p = fmaf(p, t, c[i]);
    return p;
}

static inline float erfinv_s(float a)
{
    float t = logf(fmaf(a, 0.0f - a, 1.0f));
    return a * (fabsf(t) > 6.125f ? poly_s(t, ERFINV_L, 9) : poly_s(t, ERFINV_R, 10));
}

/* MLX's exp: 2^i * P(f) with x log2(e) = i + f, |f| <= 1/2 */
static inline float exp_s(float x0)
{
    if (x0 != x0) return x0;
    if (x0 > 88.0f) return INFINITY;
    if (x0 < -88.0f) return 0.0f;
    float x = x0 * 1.442695f;
    float ip = floorf(x + 0.5f), fp = x - ip;
    static const float c[7] = {1.535336188319500e-4f, 1.339887440266574e-3f,
                               9.618437357674640e-3f, 5.550332471162809e-2f,
                               2.402264791363012e-1f, 6.931472028550421e-1f, 1.0f};
    x = poly_s(fp, c, 7);
    return mlxc_u2f((uint32_t)((int32_t)ip + 127) << 23) * x;   /* 2^ip, ip in [-127, 127] */
}

/* MLX's erf: Abramowitz-Stegun 7.1.26 with MLX's exp */
static inline float erf_s(float v)
{
    float t = 1.0f / fmaf(0.3275911f, fabsf(v), 1.0f);
    float r = fmaf(1.061405429f, t, -1.453152027f);
    r = fmaf(r, t, 1.421413741f);
    r = fmaf(r, t, -0.284496736f);
    r = fmaf(r, t, 0.254829592f);
    float e = -exp_s(-v * v);
    float res = fmaf(e * t, r, 1.0f);
    return v > 0 ? res : -res;
}

static inline int32_t f2i32(float x)
{
    return (x > -2147483649.0f && x < 2147483648.0f) ? (int32_t)x : INT32_MIN;
}

static inline void emit_s(const rand_job *J, uint32_t *o, uint32_t w)
{
    switch (J->mode) {
    case MLXC_RANDOM_BITS: *o = w; return;
    case MLXC_RANDOM_UNIFORM: *(float *)o = u01_s(w); return;
    case MLXC_RANDOM_RANDINT: {
        int32_t v = f2i32(floorf(J->range * u01_s(w) + J->low));
        v = v < J->ihigh ? v : J->ihigh;
        *(int32_t *)o = v > J->ilow ? v : J->ilow;
        return;
    }
    default: {
        float e = erfinv_s(2.0f * u01_s(w) + NORMAL_LO);
        *(float *)o = J->mode == MLXC_RANDOM_NORMAL ? SQRT2F * e : e;
        return;
    }
    }
}

static void rand_block_scalar(const rand_job *J, uint32_t *o, uint32_t k0, uint32_t k1,
                              int64_t a, int64_t b, int64_t off)
{
    for (int64_t j = a; j < b; j++) {
        uint32_t c0 = (uint32_t)j, c1 = (uint32_t)(j + off);
        tf2x32(k0, k1, &c0, &c1);
        emit_s(J, o + j, c0);
        emit_s(J, o + j + off, c1);
    }
}

/* ------------------------------------------------------------------ vector */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RAND_X86 1
#include <immintrin.h>

/* The C library's logf (see the header comment): for x = 2^k z, z in
 * [0x3f330000, 2 * 0x3f330000) as bits, i = 4 bits of z's mantissa,
 * log x = k ln2 + log(c_i) + log1p(z/c_i - 1), the last by a polynomial. */
static const double LOGF_INVC[16] = {
    0x1.661ec79f8f3bep+0, 0x1.571ed4aaf883dp+0, 0x1.49539f0f010b0p+0, 0x1.3c995b0b80385p+0,
    0x1.30d190c8864a5p+0, 0x1.25e227b0b8ea0p+0, 0x1.1bb4a4a1a343fp+0, 0x1.12358f08ae5bap+0,
    0x1.0953f419900a7p+0, 0x1.0000000000000p+0, 0x1.e608cfd9a47acp-1, 0x1.ca4b31f026aa0p-1,
    0x1.b2036576afce6p-1, 0x1.9c2d163a1aa2dp-1, 0x1.886e6037841edp-1, 0x1.767dcf5534862p-1};
static const double LOGF_LOGC[16] = {
    -0x1.57bf7808caadep-2, -0x1.2bef0a7c06ddbp-2, -0x1.01eae7f513a67p-2, -0x1.b31d8a68224e9p-3,
    -0x1.6574f0ac07758p-3, -0x1.1aa2bc79c8100p-3, -0x1.a4e76ce8c0e5ep-4, -0x1.1973c5a611cccp-4,
    -0x1.252f438e10c1ep-5, 0x0.0p+0, 0x1.aa5aa5df25984p-5, 0x1.c5e53aa362eb4p-4,
    0x1.526e57720db08p-3, 0x1.bc2860d224770p-3, 0x1.1058bc8a07ee1p-2, 0x1.4043057b6ee09p-2};
#define LOGF_LN2 0x1.62e42fefa39efp-1
#define LOGF_A0 (-0x1.00ea348b88334p-2)
#define LOGF_A1 0x1.5575b0be00b6ap-2
#define LOGF_A2 (-0x1.ffffef20a4123p-2)
#define LOGF_OFF 0x3f330000


/* ---- AVX2 + FMA: 8 lanes ---- */
#define W 8
#define TGT __attribute__((target("avx2,fma")))
#define FN static inline __attribute__((always_inline)) TGT
#define KFN static TGT
#define SFX(name) name##_avx2
typedef __m256i VU;
typedef __m256 VF;
FN VU vu_set(uint32_t a) { return _mm256_set1_epi32((int)a); }
FN VU vu_add(VU a, VU b) { return _mm256_add_epi32(a, b); }
FN VU vu_xor(VU a, VU b) { return _mm256_xor_si256(a, b); }
#define vu_rotl(x, r) _mm256_or_si256(_mm256_slli_epi32(x, r), _mm256_srli_epi32(x, 32 - (r)))
FN VU vu_iota(uint32_t j) { return _mm256_add_epi32(vu_set(j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
FN void vu_store(uint32_t *p, VU v) { _mm256_storeu_si256((__m256i *)p, v); }
FN VF vf_set(float a) { return _mm256_set1_ps(a); }
FN VF vf_add(VF a, VF b) { return _mm256_add_ps(a, b); }
FN VF vf_sub(VF a, VF b) { return _mm256_sub_ps(a, b); }
FN VF vf_mul(VF a, VF b) { return _mm256_mul_ps(a, b); }
FN VF vf_fma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
/* min with the constant second: no NaN can reach it */
FN VF vf_min(VF a, VF b) { return _mm256_min_ps(a, b); }
FN VF vf_abs(VF a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
FN VF vf_gt_sel(VF a, VF b, VF x, VF y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
FN void vf_store(float *p, VF v) { _mm256_storeu_ps(p, v); }
FN VU vf_floor_i32(VF v) { return _mm256_cvttps_epi32(_mm256_floor_ps(v)); }
FN VU vi_min(VU a, VU b) { return _mm256_min_epi32(a, b); }
FN VU vi_max(VU a, VU b) { return _mm256_max_epi32(a, b); }
/* unsigned -> float: both 16-bit halves convert exactly, one fused rounding */
FN VF vu_to_vf(VU w)
{
    VF hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(w, 16));
    VF lo = _mm256_cvtepi32_ps(_mm256_and_si256(w, _mm256_set1_epi32(0xffff)));
    return _mm256_fmadd_ps(hi, _mm256_set1_ps(65536.0f), lo);
}
FN __m128 logf_half_avx2(__m128 z, __m128i i, __m128i k)
{
    __m256d invc = _mm256_i32gather_pd(LOGF_INVC, i, 8);
    __m256d logc = _mm256_i32gather_pd(LOGF_LOGC, i, 8);
    __m256d y0 = _mm256_fmadd_pd(_mm256_cvtepi32_pd(k), _mm256_set1_pd(LOGF_LN2), logc);
    __m256d r = _mm256_fmadd_pd(_mm256_cvtps_pd(z), invc, _mm256_set1_pd(-1.0));
    __m256d y = _mm256_fmadd_pd(r, _mm256_set1_pd(LOGF_A1), _mm256_set1_pd(LOGF_A2));
    __m256d r2 = _mm256_mul_pd(r, r);
    y = _mm256_fmadd_pd(r2, _mm256_set1_pd(LOGF_A0), y);
    y = _mm256_fmadd_pd(r2, y, _mm256_add_pd(r, y0));
    return _mm256_cvtpd_ps(y);
}
#define v_logf v_logf_avx2
FN VF v_logf(VF x)
{
    VU ix = _mm256_castps_si256(x);
    VU tmp = _mm256_sub_epi32(ix, _mm256_set1_epi32(LOGF_OFF));
    VU i = _mm256_and_si256(_mm256_srli_epi32(tmp, 19), _mm256_set1_epi32(15));
    VU k = _mm256_srai_epi32(tmp, 23);
    VF z = _mm256_castsi256_ps(_mm256_sub_epi32(ix, _mm256_and_si256(tmp, _mm256_set1_epi32((int)0xff800000u))));
    __m128 lo = logf_half_avx2(_mm256_castps256_ps128(z), _mm256_castsi256_si128(i), _mm256_castsi256_si128(k));
    __m128 hi = logf_half_avx2(_mm256_extractf128_ps(z, 1), _mm256_extracti128_si256(i, 1), _mm256_extracti128_si256(k, 1));
    return _mm256_set_m128(hi, lo);
}
#include "random_simd.h"

/* Does the vector logf give the C library's bits?  Checked once on inputs
 * covering every table entry, exponents across the range and the region near 1
 * (where the polynomial's error is largest relative to the result). */
static inline float logf_probe(uint32_t m)
{
    uint32_t ix = m < 4096 ? 0x00800000u + m * 0x0003f7c1u   /* spread over (0, inf) */
                           : 0x3f800000u - 2048u + (m - 4096u);  /* around 1 */
    return mlxc_u2f(ix);
}
#define LOGF_PROBES 8192

TGT static int logf_matches_avx2(void)
{
    float x[8], y[8];
    for (uint32_t n = 0; n < LOGF_PROBES; n += 8) {
        for (int l = 0; l < 8; l++) x[l] = logf_probe(n + (uint32_t)l);
        _mm256_storeu_ps(y, v_logf(_mm256_loadu_ps(x)));
        for (int l = 0; l < 8; l++)
            if (mlxc_f2u(y[l]) != mlxc_f2u(logf(x[l]))) return 0;
    }
    return 1;
}
#undef v_logf
#undef W
#undef TGT
#undef FN
#undef KFN
#undef SFX
#undef vu_rotl

/* ---- AVX-512: 16 lanes ---- */
#define W 16
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define FN static inline __attribute__((always_inline)) TGT
#define KFN static TGT
#define SFX(name) name##_avx512
#define VU VU512
#define VF VF512
typedef __m512i VU512;
typedef __m512 VF512;
#define vu_set vu_set512
#define vu_add vu_add512
#define vu_xor vu_xor512
#define vu_iota vu_iota512
#define vu_store vu_store512
#define vf_set vf_set512
#define vf_add vf_add512
#define vf_sub vf_sub512
#define vf_mul vf_mul512
#define vf_fma vf_fma512
#define vf_min vf_min512
#define vf_abs vf_abs512
#define vf_gt_sel vf_gt_sel512
#define vf_store vf_store512
#define vf_floor_i32 vf_floor_i32_512
#define vi_min vi_min512
#define vi_max vi_max512
#define vu_to_vf vu_to_vf512
#define v_logf v_logf512
FN VU vu_set(uint32_t a) { return _mm512_set1_epi32((int)a); }
FN VU vu_add(VU a, VU b) { return _mm512_add_epi32(a, b); }
FN VU vu_xor(VU a, VU b) { return _mm512_xor_si512(a, b); }
#define vu_rotl(x, r) _mm512_rol_epi32(x, r)
FN VU vu_iota(uint32_t j)
{
    return _mm512_add_epi32(vu_set(j), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}
FN void vu_store(uint32_t *p, VU v) { _mm512_storeu_si512(p, v); }
FN VF vf_set(float a) { return _mm512_set1_ps(a); }
FN VF vf_add(VF a, VF b) { return _mm512_add_ps(a, b); }
FN VF vf_sub(VF a, VF b) { return _mm512_sub_ps(a, b); }
FN VF vf_mul(VF a, VF b) { return _mm512_mul_ps(a, b); }
FN VF vf_fma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
FN VF vf_min(VF a, VF b) { return _mm512_min_ps(a, b); }
FN VF vf_abs(VF a) { return _mm512_abs_ps(a); }
FN VF vf_gt_sel(VF a, VF b, VF x, VF y) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x); }
FN void vf_store(float *p, VF v) { _mm512_storeu_ps(p, v); }
FN VU vf_floor_i32(VF v)
{
    return _mm512_cvttps_epi32(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
}
FN VU vi_min(VU a, VU b) { return _mm512_min_epi32(a, b); }
FN VU vi_max(VU a, VU b) { return _mm512_max_epi32(a, b); }
FN VF vu_to_vf(VU w) { return _mm512_cvtepu32_ps(w); }
FN __m256 logf_half_avx512(__m256 z, __m256i i, __m256i k, __m512d tinv0, __m512d tinv1,
                           __m512d tlog0, __m512d tlog1)
{
    __m512i ii = _mm512_cvtepu32_epi64(i);
    __m512d invc = _mm512_permutex2var_pd(tinv0, ii, tinv1);
    __m512d logc = _mm512_permutex2var_pd(tlog0, ii, tlog1);
    __m512d y0 = _mm512_fmadd_pd(_mm512_cvtepi32_pd(k), _mm512_set1_pd(LOGF_LN2), logc);
    __m512d r = _mm512_fmadd_pd(_mm512_cvtps_pd(z), invc, _mm512_set1_pd(-1.0));
    __m512d y = _mm512_fmadd_pd(r, _mm512_set1_pd(LOGF_A1), _mm512_set1_pd(LOGF_A2));
    __m512d r2 = _mm512_mul_pd(r, r);
    y = _mm512_fmadd_pd(r2, _mm512_set1_pd(LOGF_A0), y);
    y = _mm512_fmadd_pd(r2, y, _mm512_add_pd(r, y0));
    return _mm512_cvtpd_ps(y);
}
FN VF v_logf(VF x)
{
    VU ix = _mm512_castps_si512(x);
    VU tmp = _mm512_sub_epi32(ix, _mm512_set1_epi32(LOGF_OFF));
    VU i = _mm512_and_si512(_mm512_srli_epi32(tmp, 19), _mm512_set1_epi32(15));
    VU k = _mm512_srai_epi32(tmp, 23);
    VF z = _mm512_castsi512_ps(_mm512_sub_epi32(ix, _mm512_and_si512(tmp, _mm512_set1_epi32((int)0xff800000u))));
    __m512d ti0 = _mm512_loadu_pd(LOGF_INVC), ti1 = _mm512_loadu_pd(LOGF_INVC + 8);
    __m512d tl0 = _mm512_loadu_pd(LOGF_LOGC), tl1 = _mm512_loadu_pd(LOGF_LOGC + 8);
    __m256 lo = logf_half_avx512(_mm512_castps512_ps256(z), _mm512_castsi512_si256(i),
                                 _mm512_castsi512_si256(k), ti0, ti1, tl0, tl1);
    __m256 hi = logf_half_avx512(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z), 1)),
                                 _mm512_extracti64x4_epi64(i, 1), _mm512_extracti64x4_epi64(k, 1),
                                 ti0, ti1, tl0, tl1);
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
#include "random_simd.h"

TGT static int logf_matches_avx512(void)
{
    float x[16], y[16];
    for (uint32_t n = 0; n < LOGF_PROBES; n += 16) {
        for (int l = 0; l < 16; l++) x[l] = logf_probe(n + (uint32_t)l);
        _mm512_storeu_ps(y, v_logf(_mm512_loadu_ps(x)));
        for (int l = 0; l < 16; l++)
            if (mlxc_f2u(y[l]) != mlxc_f2u(logf(x[l]))) return 0;
    }
    return 1;
}
#endif

/* ------------------------------------------------------------------ driver */
#ifdef RAND_X86
static int logf_ok[MLXC_ISA_COUNT] = {-1, -1, -1, -1};  /* per level; -1: not checked */
#endif

static int vector_logf_ok(int isa)
{
#ifdef RAND_X86
    int ok = __atomic_load_n(&logf_ok[isa], __ATOMIC_RELAXED);
    if (ok < 0) {
        ok = isa >= MLXC_ISA_AVX512 ? logf_matches_avx512() : logf_matches_avx2();
        __atomic_store_n(&logf_ok[isa], ok, __ATOMIC_RELAXED);
    }
    return ok;
#else
    (void)isa;
    return 0;
#endif
}

#define RAND_CHUNK 4096             /* counter pairs per task */
#define RAND_PAR_MIN (1 << 15)      /* words below which one thread does it all */

static void rand_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const rand_job *J = ctx;
    int64_t key = t / J->nchunk, c = t % J->nchunk;
    uint32_t k0 = J->keys[2 * key], k1 = J->keys[2 * key + 1];
    uint32_t *o = (uint32_t *)(J->out + 4 * key * J->per_key);
    int64_t a = c * RAND_CHUNK, b = a + RAND_CHUNK < J->half ? a + RAND_CHUNK : J->half;
    if (c == 0 && J->off != J->half) {          /* odd block: the middle word */
        uint32_t c0 = (uint32_t)J->half, c1 = 0;
        tf2x32(k0, k1, &c0, &c1);
        emit_s(J, o + J->half, c0);
    }
#ifdef RAND_X86
    if (J->simd == MLXC_ISA_AVX512) { rand_block_avx512(J, o, k0, k1, a, b, J->off); return; }
    if (J->simd == MLXC_ISA_AVX2) { rand_block_avx2(J, o, k0, k1, a, b, J->off); return; }
#endif
    rand_block_scalar(J, o, k0, k1, a, b, J->off);
}

int mlxc_random(int mode, void *out, const uint32_t *keys, int64_t nkeys, int64_t per_key,
                float low, float range, int32_t ilow, int32_t ihigh)
{
    if (mode < 0 || mode >= MLXC_NUM_RANDOM || nkeys < 0 || per_key < 0)
        return MLXC_ERR_UNSUPPORTED;
    if (nkeys == 0 || per_key == 0) return MLXC_OK;
    rand_job J = {mode, low, range, ilow, ihigh, out, keys, per_key, per_key / 2, per_key - per_key / 2, 0, 0};
    J.nchunk = J.half > 0 ? (J.half + RAND_CHUNK - 1) / RAND_CHUNK : 1;
    int isa = mlxc_isa_pick(mlxc_levels_random);
    if (isa == MLXC_ISA_AVX2 || isa == MLXC_ISA_AVX512) {
        int needs_log = mode == MLXC_RANDOM_NORMAL || mode == MLXC_RANDOM_ERFINV;
        J.simd = !needs_log || vector_logf_ok(isa) ? isa : 0;
    }
    int64_t ntask = nkeys * J.nchunk;
    if (nkeys * per_key < RAND_PAR_MIN || ntask == 1) {
        for (int64_t t = 0; t < ntask; t++) rand_task(&J, t, 0);
    } else {
        mlxc_parallel_for(ntask, mlxc_num_threads(), rand_task, &J);
    }
    return MLXC_OK;
}

/* ---------------------------------------------------------- MLX's math */
typedef struct {
    int func;
    float *out;
    const float *in;
    int64_t n;
} math_job;

#define MATH_CHUNK 8192

static void math_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const math_job *M = ctx;
    int64_t a = t * MATH_CHUNK, b = a + MATH_CHUNK < M->n ? a + MATH_CHUNK : M->n;
    float *o = M->out;
    const float *x = M->in;
    switch (M->func) {
    case MLXC_MLXMATH_LOG: for (int64_t i = a; i < b; i++) o[i] = logf(x[i]); break;
    case MLXC_MLXMATH_LOG1P: for (int64_t i = a; i < b; i++) o[i] = log1pf(x[i]); break;
    case MLXC_MLXMATH_ERF: for (int64_t i = a; i < b; i++) o[i] = erf_s(x[i]); break;
    case MLXC_MLXMATH_ERFINV: for (int64_t i = a; i < b; i++) o[i] = erfinv_s(x[i]); break;
    default: for (int64_t i = a; i < b; i++) o[i] = exp_s(x[i]); break;
    }
}

int mlxc_mlx_math(int func, float *out, const float *in, int64_t n)
{
    if (func < 0 || func >= MLXC_NUM_MLXMATH || n < 0) return MLXC_ERR_UNSUPPORTED;
    math_job M = {func, out, in, n};
    int64_t ntask = (n + MATH_CHUNK - 1) / MATH_CHUNK;
    if (ntask <= 1) {
        if (n > 0) math_task(&M, 0, 0);
    } else {
        mlxc_parallel_for(ntask, mlxc_num_threads(), math_task, &M);
    }
    return MLXC_OK;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef RAND_X86
const unsigned mlxc_levels_random = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_random = MLXC_LEVELS_SCALAR;
#endif
