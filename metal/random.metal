// mx.random's bits and transforms (RandomBits) and MLX's own float32 math (MLXMath),
// bit for bit as mlxc's CPU kernels (kernels/random.c) compute them.
//
// RandomBits: each key fills a block of n 32-bit words; with h = n / 2 (nhalf) and off = h + n % 2,
// words j < h and j + off are the two outputs of threefry-2x32 (20 rounds) of the key and
// the counter (j, j + off); for odd n the middle word h is the first output of counter
// (h, 0).  One thread per counter: every word depends only on its key and position.
//
// The CPU's erfinv goes through the C library's logf (glibc's table-driven algorithm:
// 16 entries, a degree-4 polynomial evaluated in double with fused multiply-adds).
// Metal has no double, so that double arithmetic runs here in software (IEEE binary64
// fma with round-to-nearest-even on 64-bit integers: `SoftD` below), which gives the
// same bits for every input the algorithm sees (finite, normal intermediates).
#include "mlxc_types.h"

// ------------------------------------------------------------------ 128-bit integers

struct U128 {
    ulong hi, lo;
};

inline U128 u128(ulong hi, ulong lo) {
    U128 r;
    r.hi = hi;
    r.lo = lo;
    return r;
}

inline U128 mul64(ulong a, ulong b) {          // the full 128-bit product
    ulong a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    ulong p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    ulong mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    return u128(p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32), (mid << 32) | (p00 & 0xffffffffu));
}

inline U128 shl128(U128 x, int s) {            // 0 <= s < 128
    if (s == 0) {
        return x;
    }
    if (s >= 64) {
        return u128(x.lo << (s - 64), 0);
    }
    return u128((x.hi << s) | (x.lo >> (64 - s)), x.lo << s);
}

inline U128 shr128(U128 x, int s) {            // 0 <= s < 128
    if (s == 0) {
        return x;
    }
    if (s >= 64) {
        return u128(0, x.hi >> (s - 64));
    }
    return u128(x.hi >> s, (x.lo >> s) | (x.hi << (64 - s)));
}

// x >> s, with the bits shifted out or-ed into bit 0 (sticky); any s >= 0
inline U128 shr128_sticky(U128 x, int s) {
    if (s == 0) {
        return x;
    }
    if (s >= 128) {
        return u128(0, (x.hi | x.lo) != 0 ? 1 : 0);
    }
    U128 r = shr128(x, s);
    U128 back = shl128(r, s);
    if (back.hi != x.hi || back.lo != x.lo) {
        r.lo |= 1;
    }
    return r;
}

inline int msb128(U128 x) {                     // position of the highest set bit (x != 0)
    return x.hi != 0 ? 127 - int(clz(x.hi)) : 63 - int(clz(x.lo));
}

inline bool less128(U128 a, U128 b) {
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

inline U128 add128(U128 a, U128 b) {
    ulong lo = a.lo + b.lo;
    return u128(a.hi + b.hi + (lo < a.lo ? 1 : 0), lo);
}

inline U128 sub128(U128 a, U128 b) {            // a >= b
    return u128(a.hi - b.hi - (a.lo < b.lo ? 1 : 0), a.lo - b.lo);
}

// ------------------------------------------------------------------ software binary64

// A double as its bits.  Only what logf needs: zeros and normal numbers (no subnormal,
// infinite or NaN operand or result: logf's intermediates stay within 2^-60 .. 2^8).
struct SoftD {
    static ulong from_float(float f) {          // exact (f normal or zero)
        uint b = as_type<uint>(f);
        ulong s = ulong(b >> 31) << 63;
        if ((b & 0x7fffffffu) == 0) {
            return s;
        }
        ulong e = ulong((b >> 23) & 0xffu) - 127 + 1023;
        return s | (e << 52) | (ulong(b & 0x7fffffu) << 29);
    }
    static ulong from_int(int k) {              // exact
        if (k == 0) {
            return 0;
        }
        ulong s = k < 0 ? (ulong(1) << 63) : 0;
        ulong m = ulong(k < 0 ? -long(k) : long(k));
        int p = 63 - int(clz(m));
        return s | (ulong(p + 1023) << 52) | ((m << (52 - p)) & 0xfffffffffffffull);
    }
    static float to_float(ulong d) {            // round to nearest even (normal result)
        uint s = uint(d >> 63) << 31;
        if ((d & 0x7fffffffffffffffull) == 0) {
            return as_type<float>(s);
        }
        int e = int((d >> 52) & 0x7ff) - 1023;
        ulong m = (d & 0xfffffffffffffull) | (ulong(1) << 52);
        ulong q = m >> 29, rem = m & 0x1fffffffu, tie = 0x10000000u;
        if (rem > tie || (rem == tie && (q & 1) != 0)) {
            q += 1;
        }
        if (q == (ulong(1) << 24)) {
            q >>= 1;
            e += 1;
        }
        return as_type<float>(s | (uint(e + 127) << 23) | uint(q & 0x7fffffu));
    }
    // a * b + c with one rounding (to nearest even)
    static ulong fma(ulong a, ulong b, ulong c) {
        ulong sp = (a ^ b) >> 63, sc = c >> 63;
        bool pz = (a & 0x7fffffffffffffffull) == 0 || (b & 0x7fffffffffffffffull) == 0;
        bool cz = (c & 0x7fffffffffffffffull) == 0;
        if (pz) {
            return cz ? ((sp & sc) << 63) : c;
        }
        // value = M * 2^E, M normalised so its top bit is bit 125 (room for a carry)
        U128 mp = mul64((a & 0xfffffffffffffull) | (ulong(1) << 52),
                        (b & 0xfffffffffffffull) | (ulong(1) << 52));
        int ep = int((a >> 52) & 0x7ff) + int((b >> 52) & 0x7ff) - 2 * 1075;
        int sh = 125 - msb128(mp);
        mp = shl128(mp, sh);
        ep -= sh;
        U128 m = mp;
        int e = ep;
        ulong s = sp;
        if (!cz) {
            U128 mc = shl128(u128(0, (c & 0xfffffffffffffull) | (ulong(1) << 52)), 73);
            int ec = int((c >> 52) & 0x7ff) - 1075 - 73;
            if (ep >= ec) {
                mc = shr128_sticky(mc, ep - ec);
            } else {
                mp = shr128_sticky(mp, ec - ep);
                e = ec;
            }
            if (sp == sc) {
                m = add128(mp, mc);
            } else if (less128(mp, mc)) {
                m = sub128(mc, mp);
                s = sc;
            } else {
                m = sub128(mp, mc);
            }
            if (m.hi == 0 && m.lo == 0) {
                return 0;                       // exact cancellation: +0
            }
        }
        int top = msb128(m);
        if (top < 52) {                         // exact: widen
            m = shl128(m, 52 - top);
            e -= 52 - top;
            top = 52;
        }
        int drop = top - 52;
        U128 q = shr128(m, drop);
        if (drop > 0) {
            U128 rem = sub128(m, shl128(q, drop));
            U128 tie = shl128(u128(0, 1), drop - 1);
            if (less128(tie, rem) || (rem.hi == tie.hi && rem.lo == tie.lo && (q.lo & 1) != 0)) {
                q = add128(q, u128(0, 1));
            }
        }
        e += drop;
        if (q.lo == (ulong(1) << 53)) {
            q.lo >>= 1;
            e += 1;
        }
        return (s << 63) | (ulong(e + 52 + 1023) << 52) | (q.lo & 0xfffffffffffffull);
    }
};

// ------------------------------------------------------------------ the C library's logf

constant ulong LOGF_INVC[16] = {
    0x3ff661ec79f8f3beul, 0x3ff571ed4aaf883dul, 0x3ff49539f0f010b0ul, 0x3ff3c995b0b80385ul,
    0x3ff30d190c8864a5ul, 0x3ff25e227b0b8ea0ul, 0x3ff1bb4a4a1a343ful, 0x3ff12358f08ae5baul,
    0x3ff0953f419900a7ul, 0x3ff0000000000000ul, 0x3fee608cfd9a47acul, 0x3feca4b31f026aa0ul,
    0x3feb2036576afce6ul, 0x3fe9c2d163a1aa2dul, 0x3fe886e6037841edul, 0x3fe767dcf5534862ul};
constant ulong LOGF_LOGC[16] = {
    0xbfd57bf7808caadeul, 0xbfd2bef0a7c06ddbul, 0xbfd01eae7f513a67ul, 0xbfcb31d8a68224e9ul,
    0xbfc6574f0ac07758ul, 0xbfc1aa2bc79c8100ul, 0xbfba4e76ce8c0e5eul, 0xbfb1973c5a611cccul,
    0xbfa252f438e10c1eul, 0x0ul, 0x3faaa5aa5df25984ul, 0x3fbc5e53aa362eb4ul,
    0x3fc526e57720db08ul, 0x3fcbc2860d224770ul, 0x3fd1058bc8a07ee1ul, 0x3fd4043057b6ee09ul};
constant ulong LOGF_LN2 = 0x3fe62e42fefa39eful;
constant ulong LOGF_A0 = 0xbfd00ea348b88334ul;
constant ulong LOGF_A1 = 0x3fd5575b0be00b6aul;
constant ulong LOGF_A2 = 0xbfdffffef20a4123ul;
constant ulong D_ONE = 0x3ff0000000000000ul;
constant ulong D_MINUS_ONE = 0xbff0000000000000ul;

// x = 2^k z with z's bits in [0x3f330000, 2 * 0x3f330000); i = 4 bits of z's mantissa;
// log x = k ln2 + log(c_i) + log1p(z / c_i - 1), the last by a polynomial in r.
inline float logf_libc(float x) {
    uint ix = as_type<uint>(x);
    if (ix - 0x00800000u >= 0x7f800000u - 0x00800000u) {
        if ((ix << 1) == 0) {
            return -INFINITY;
        }
        if (ix == 0x7f800000u) {
            return x;
        }
        if ((ix & 0x80000000u) != 0 || (ix << 1) >= 0xff000000u) {
            return NAN;
        }
        ix = as_type<uint>(x * 0x1p23f) - (23u << 23);      // subnormal: normalise
    }
    uint tmp = ix - 0x3f330000u;
    uint i = (tmp >> 19) & 15u;
    int k = int(tmp) >> 23;
    ulong z = SoftD::from_float(as_type<float>(ix - (tmp & 0xff800000u)));
    ulong y0 = SoftD::fma(SoftD::from_int(k), LOGF_LN2, LOGF_LOGC[i]);
    ulong r = SoftD::fma(z, LOGF_INVC[i], D_MINUS_ONE);
    ulong y = SoftD::fma(r, LOGF_A1, LOGF_A2);
    ulong r2 = SoftD::fma(r, r, 0);
    y = SoftD::fma(r2, LOGF_A0, y);
    y = SoftD::fma(r2, y, SoftD::fma(r, D_ONE, y0));
    return SoftD::to_float(y);
}

// ------------------------------------------------------------------ MLX's float math

constant float ERFINV_L[9] = {
    3.03697567e-10f, 2.93243101e-8f, 1.22150334e-6f, 2.84108955e-5f, 3.93552968e-4f,
    3.02698812e-3f, 4.83185798e-3f, -2.64646143e-1f, 8.40016484e-1f};
constant float ERFINV_R[10] = {
    5.43877832e-9f, 1.43285448e-7f, 1.22774793e-6f, 1.12963626e-7f, -5.61530760e-5f,
    -1.47697632e-4f, 2.31468678e-3f, 1.15392581e-2f, -2.32015476e-1f, 8.86226892e-1f};
constant float EXP_P[7] = {1.535336188319500e-4f, 1.339887440266574e-3f,
                           9.618437357674640e-3f, 5.550332471162809e-2f,
                           2.402264791363012e-1f, 6.931472028550421e-1f, 1.0f};

inline float poly(float t, constant float* c, int n) {
    float p = c[0];
    for (int i = 1; i < n; ++i) {
        p = fma(p, t, c[i]);
    }
    return p;
}

inline float mlx_erfinv(float a) {              // a * P(log(1 - a^2))
    float t = logf_libc(fma(a, 0.0f - a, 1.0f));
    return a * (fabs(t) > 6.125f ? poly(t, ERFINV_L, 9) : poly(t, ERFINV_R, 10));
}

inline float mlx_exp(float x0) {                // 2^i * P(f), x log2(e) = i + f
    if (isnan(x0)) {
        return x0;
    }
    if (x0 > 88.0f) {
        return INFINITY;
    }
    if (x0 < -88.0f) {
        return 0.0f;
    }
    float x = x0 * 1.442695f;
    float ip = floor(x + 0.5f);
    float p = poly(x - ip, EXP_P, 7);
    return as_type<float>(uint(int(ip) + 127) << 23) * p;
}

inline float mlx_erf(float v) {                 // Abramowitz-Stegun 7.1.26 with mlx_exp
    float t = 1.0f / fma(0.3275911f, fabs(v), 1.0f);
    float r = fma(1.061405429f, t, -1.453152027f);
    r = fma(r, t, 1.421413741f);
    r = fma(r, t, -0.284496736f);
    r = fma(r, t, 0.254829592f);
    float e = -mlx_exp(-v * v);
    float res = fma(e * t, r, 1.0f);
    return v > 0 ? res : -res;
}

// The C library's log1pf (glibc 2.36, the CPU's: fdlibm's float algorithm, all in float32
// with no fused multiply-add): log1p x = k ln2 + log(1 + f), 1 + f = (1 + x) / 2^k in
// [sqrt(2)/2, sqrt(2)), c corrects the rounding of 1 + x, log(1 + f) = f - (hfsq -
// s (hfsq + R)) with s = f / (2 + f), R a polynomial in s^2.  Bit-identical to it over
// every float32 (checked exhaustively in C; the tests compare a sweep on the GPU).
constant float L1P_LP[7] = {0x1.555556p-1f, 0x1.99999ap-2f, 0x1.24924ap-2f, 0x1.c71c52p-3f,
                            0x1.74664ap-3f, 0x1.39a09ep-3f, 0x1.2f112ep-3f};
constant float L1P_LN2_HI = 0x1.62e3p-1f;
constant float L1P_LN2_LO = 0x1.2fefa2p-17f;

inline float log1p_libc(float x) {
    int hx = as_type<int>(x);
    uint ax = uint(hx) & 0x7fffffffu;
    int k = 1, hu = 0;
    float f = 0.0f, c = 0.0f;
    if (hx < 0x3ed413d7) {                      // x < 0.41422 (or negative)
        if (ax >= 0x3f800000u) {                // x <= -1
            return x == -1.0f ? -INFINITY : NAN;
        }
        if (ax < 0x31000000u) {                 // |x| < 2^-29
            return ax < 0x24800000u ? x : x - x * x * 0.5f;
        }
        if (hx > 0 || hx <= int(0xbe95f61fu)) { // -0.2929 < x < 0.41422: k = 0
            k = 0;
            f = x;
            hu = 1;
        }
    }
    if (hx >= 0x7f800000) {
        return x + x;
    }
    if (k != 0) {
        float u;
        if (hx < 0x5a000000) {
            u = 1.0f + x;
            hu = as_type<int>(u);
            k = (hu >> 23) - 127;
            c = k > 0 ? 1.0f - (u - x) : x - (u - 1.0f);
            c /= u;
        } else {
            u = x;
            hu = as_type<int>(u);
            k = (hu >> 23) - 127;
            c = 0.0f;
        }
        hu &= 0x007fffff;
        if (hu < 0x3504f7) {
            u = as_type<float>(uint(hu) | 0x3f800000u);
        } else {
            k += 1;
            u = as_type<float>(uint(hu) | 0x3f000000u);
            hu = (0x00800000 - hu) >> 2;
        }
        f = u - 1.0f;
    }
    float hfsq = 0.5f * f * f;
    float fk = float(k);
    if (hu == 0) {                              // |f| < 2^-20
        if (f == 0.0f) {
            if (k == 0) {
                return 0.0f;
            }
            c += fk * L1P_LN2_LO;
            return fk * L1P_LN2_HI + c;
        }
        float r = hfsq * (1.0f - 0.66666666666666666f * f);
        return k == 0 ? f - r : fk * L1P_LN2_HI - ((r - (fk * L1P_LN2_LO + c)) - f);
    }
    float s = f / (2.0f + f);
    float z = s * s;
    float r = L1P_LP[6];
    for (int i = 5; i >= 0; --i) {
        r = L1P_LP[i] + z * r;
    }
    r = z * r;
    if (k == 0) {
        return f - (hfsq - s * (hfsq + r));
    }
    return fk * L1P_LN2_HI - ((hfsq - (s * (hfsq + r) + (fk * L1P_LN2_LO + c))) - f);
}

// ------------------------------------------------------------------ threefry-2x32

inline uint rotl(uint x, uint r) {
    return (x << r) | (x >> (32u - r));
}

inline uint2 threefry2x32(uint k0, uint k1, uint c0, uint c1) {
    const uint rot0[4] = {13, 15, 26, 6};
    const uint rot1[4] = {17, 29, 16, 24};
    uint ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
    uint x0 = c0 + ks[0], x1 = c1 + ks[1];
    for (uint i = 0; i < 5; ++i) {
        for (uint r = 0; r < 4; ++r) {
            x0 += x1;
            x1 = rotl(x1, (i & 1) != 0 ? rot1[r] : rot0[r]);
            x1 ^= x0;
        }
        x0 += ks[(i + 1) % 3];
        x1 += ks[(i + 2) % 3] + (i + 1);
    }
    return uint2(x0, x1);
}

enum { RB_BITS = 0, RB_UNIFORM, RB_ERFINV, RB_NORMAL, RB_RANDINT };

struct RandParams {                             // RandomBits' constants (setBytes)
    float low, range;                           // RB_RANDINT: floor(range * u + low),
    int ilow, ihigh;                            // clamped to [ilow, ihigh]
    uint per_key, nhalf, off, key_off;          // key_off: the keys' element offset
    int mode;
};

inline float u01(uint w) {                      // [0, 1): nextafter(1, 0) at most
    float f = float(w) * 0x1p-32f;
    return f < 0x1.fffffep-1f ? f : 0x1.fffffep-1f;
}

inline uint emit(constant RandParams& P, uint w) {
    switch (P.mode) {
        case RB_BITS: return w;
        case RB_UNIFORM: return as_type<uint>(u01(w));
        case RB_RANDINT: {
            float x = floor(P.range * u01(w) + P.low);
            int v = (x > -2147483649.0f && x < 2147483648.0f) ? int(x) : int(0x80000000u);
            v = v < P.ihigh ? v : P.ihigh;
            return as_type<uint>(v > P.ilow ? v : P.ilow);
        }
        default: {
            float e = mlx_erfinv(2.0f * u01(w) + (-0x1.fffffep-1f));
            return as_type<uint>(P.mode == RB_NORMAL ? 0x1.6a09e6p+0f * e : e);
        }
    }
}

// One thread per (key, counter): counters j < half give words j and j + off; for odd
// per_key the counter j = half gives the middle word.
kernel void random_bits_g(device const uint* keys [[buffer(0)]],
                          device uint* out [[buffer(1)]],
                          constant RandParams& P [[buffer(2)]],
                          constant ulong& total [[buffer(3)]],
                          uint gid [[thread_position_in_grid]]) {
    if (gid >= total) {
        return;
    }
    uint ncount = P.per_key - P.nhalf;           // half counters, plus one for odd blocks
    uint key = gid / ncount;
    uint j = gid % ncount;
    device uint* o = out + ulong(key) * P.per_key;
    uint k0 = keys[P.key_off + 2 * key], k1 = keys[P.key_off + 2 * key + 1];
    if (j < P.nhalf) {
        uint2 c = threefry2x32(k0, k1, j, j + P.off);
        o[j] = emit(P, c.x);
        o[j + P.off] = emit(P, c.y);
    } else {
        o[P.nhalf] = emit(P, threefry2x32(k0, k1, P.nhalf, 0).x);
    }
}

enum { MM_LOG = 0, MM_LOG1P, MM_ERF, MM_ERFINV, MM_EXP };

// MLXMath: out = func(x), x strided (meta: shape, strides, offset as the unary kernels).
kernel void mlx_math_g(device const float* in [[buffer(0)]],
                       device float* out [[buffer(1)]],
                       constant long* meta [[buffer(2)]],
                       constant int& ndim [[buffer(3)]],
                       constant int& func [[buffer(4)]],
                       constant uint& n [[buffer(5)]],
                       uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    float x = in[meta[2 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    float y;
    switch (func) {
        case MM_LOG: y = logf_libc(x); break;
        case MM_LOG1P: y = log1p_libc(x); break;
        case MM_ERF: y = mlx_erf(x); break;
        case MM_ERFINV: y = mlx_erfinv(x); break;
        default: y = mlx_exp(x); break;
    }
    out[gid] = y;
}

// The software binary64 alone, for the tests (tests/test_metal_random.py compares it
// with exact rational arithmetic): out[i] = fma(a, b, c) and to_float of it.
kernel void soft_fma_check_g(device const ulong* abc [[buffer(0)]],
                             device ulong* out [[buffer(1)]],
                             device float* out_f [[buffer(2)]],
                             constant uint& n [[buffer(3)]],
                             uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    ulong r = SoftD::fma(abc[3 * gid], abc[3 * gid + 1], abc[3 * gid + 2]);
    out[gid] = r;
    out_f[gid] = SoftD::to_float(r);
}
