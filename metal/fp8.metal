// float8 e4m3 ("fn": bias 7, no infinities, 0x7f/0xff NaN, largest finite +-448) codes
// in uint8 from and to float16 / bfloat16 / float32 (the FP8 primitive: MLX's to_fp8 /
// from_fp8), bit for bit as mlxc's CPU kernels (kernels/fp8.c, kernels/e4m3.h).
//
// to_fp8 rounds to nearest, ties to even, by integer arithmetic on float32 bits (half
// types widen exactly first); every |x| > 448, +-inf and NaN saturate to +-448 (0x7e with
// x's sign bit).  from_fp8 is exact; NaN codes give MLX's NaN bits (float32 sign |
// 0x7ff00000, float16 sign | 0x7d00, bfloat16 0x7fc0).  Inputs strided (meta: shape,
// strides, offset of the input as the unary kernels), outputs contiguous.
#include "mlxc_types.h"

inline uchar e4m3_from_bits(uint u) {
    uint sign = (u >> 24) & 0x80u;
    uint a = u & 0x7fffffffu;
    uint r;
    if (a > 0x43e00000u) {                       // above 448 (inf, NaN too): saturate
        r = 0x7eu;
    } else if (a < 0x3c800000u) {                // below 2^-6: multiples of 2^-9
        uint e = a >> 23;
        uint m = (a & 0x7fffffu) | (e != 0 ? 0x800000u : 0u);
        uint shift = 23u + 127u - 9u - (e != 0 ? e : 1u);   // value = m 2^-shift 2^-9
        if (shift > 31u) {
            r = 0u;
        } else {
            uint q = m >> shift, rem = m & ((1u << shift) - 1u), half_ = 1u << (shift - 1u);
            r = q + ((rem > half_ || (rem == half_ && (q & 1u) != 0)) ? 1u : 0u);
        }
    } else {                                     // normal: 3 mantissa bits, ties to even
        r = ((a + 0x7ffffu + ((a >> 20) & 1u)) >> 20) - ((127u - 7u) << 3);
    }
    return uchar(sign | r);
}

inline bool e4m3_nan(uchar c) {
    return (c & 0x7fu) == 0x7fu;
}

inline uint e4m3_to_bits(uchar c) {              // the value as float32 bits (exact)
    uint sign = uint(c & 0x80u) << 24;
    uint e = (c >> 3) & 15u, m = c & 7u;
    if (e4m3_nan(c)) {
        return sign | 0x7ff00000u;
    }
    if (e == 0u) {
        return sign | as_type<uint>(float(m) * 0x1p-9f);
    }
    return sign | ((e + 127u - 7u) << 23) | (m << 20);
}

template <typename T> struct Fp8Io;
template <> struct Fp8Io<float> {
    static uint bits(float x) { return as_type<uint>(x); }
    static float decode(uchar c) { return as_type<float>(e4m3_to_bits(c)); }
};
template <> struct Fp8Io<half> {
    static uint bits(half x) { return as_type<uint>(float(x)); }
    static half decode(uchar c) {
        if (e4m3_nan(c)) {
            return as_type<half>(ushort((uint(c & 0x80u) << 8) | 0x7d00u));
        }
        return half(as_type<float>(e4m3_to_bits(c)));   // exact: e4m3 fits in float16
    }
};
template <> struct Fp8Io<bf16> {
    static uint bits(bf16 x) { return uint(x.bits) << 16; }
    static bf16 decode(uchar c) {
        bf16 r;
        r.bits = e4m3_nan(c) ? ushort(0x7fc0u) : ushort(e4m3_to_bits(c) >> 16);
        return r;
    }
};

template <typename T>
kernel void to_fp8_g(device const T* in [[buffer(0)]],
                     device uchar* out [[buffer(1)]],
                     constant long* meta [[buffer(2)]],
                     constant int& ndim [[buffer(3)]],
                     constant uint& n [[buffer(4)]],
                     uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    T x = in[meta[2 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    out[gid] = e4m3_from_bits(Fp8Io<T>::bits(x));
}

template <typename T>
kernel void from_fp8_g(device const uchar* in [[buffer(0)]],
                       device T* out [[buffer(1)]],
                       constant long* meta [[buffer(2)]],
                       constant int& ndim [[buffer(3)]],
                       constant uint& n [[buffer(4)]],
                       uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    out[gid] = Fp8Io<T>::decode(in[meta[2 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)]);
}

template [[host_name("to_fp8_g_float16")]] [[kernel]] decltype(to_fp8_g<half>) to_fp8_g<half>;
template [[host_name("to_fp8_g_bfloat16")]] [[kernel]] decltype(to_fp8_g<bf16>) to_fp8_g<bf16>;
template [[host_name("to_fp8_g_float32")]] [[kernel]] decltype(to_fp8_g<float>) to_fp8_g<float>;
template [[host_name("from_fp8_g_float16")]] [[kernel]] decltype(from_fp8_g<half>) from_fp8_g<half>;
template [[host_name("from_fp8_g_bfloat16")]] [[kernel]] decltype(from_fp8_g<bf16>) from_fp8_g<bf16>;
template [[host_name("from_fp8_g_float32")]] [[kernel]] decltype(from_fp8_g<float>) from_fp8_g<float>;
