// Shared by mlxc's kernel files: storage types, their compute types, and strided offsets.
// (Included with #include "mlxc_types.h"; the Metal executor inlines it before compiling.)
#pragma once
#include <metal_stdlib>
using namespace metal;

// ------------------------------------------------------------------ storage types

struct bf16 {            // bfloat16: the upper half of a float32's bits
    ushort bits;
};

// Num<T>: the compute type C of a storage type T and the conversions between them.
template <typename T> struct Num {
    typedef T C;
    static C get(T x) { return x; }
    static T put(C x) { return x; }
};
template <> struct Num<half> {
    typedef float C;
    static float get(half x) { return float(x); }
    static half put(float x) { return half(x); }
};
template <> struct Num<bf16> {
    typedef float C;
    static float get(bf16 x) { return as_type<float>(uint(x.bits) << 16); }
    static bf16 put(float f) {           // round to nearest even; NaN stays a quiet NaN
        uint x = as_type<uint>(f);
        bf16 r;
        if ((x & 0x7fffffffu) > 0x7f800000u) {
            r.bits = ushort((x >> 16) | 0x40u);
        } else {
            r.bits = ushort((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
        }
        return r;
    }
};

// Wrap<T>: the unsigned type integer arithmetic wraps in (no signed overflow).
template <typename T> struct Wrap { typedef T W; };
template <> struct Wrap<char> { typedef uchar W; };
template <> struct Wrap<short> { typedef ushort W; };
template <> struct Wrap<int> { typedef uint W; };
template <> struct Wrap<long> { typedef ulong W; };

template <typename T> struct Kind { enum { is_float = 0, is_signed = 1, bits = 8 * sizeof(T) }; };
template <> struct Kind<bool> { enum { is_float = 0, is_signed = 0, bits = 8 }; };
template <> struct Kind<uchar> { enum { is_float = 0, is_signed = 0, bits = 8 }; };
template <> struct Kind<ushort> { enum { is_float = 0, is_signed = 0, bits = 16 }; };
template <> struct Kind<uint> { enum { is_float = 0, is_signed = 0, bits = 32 }; };
template <> struct Kind<ulong> { enum { is_float = 0, is_signed = 0, bits = 64 }; };
template <> struct Kind<half> { enum { is_float = 1, is_signed = 1, bits = 16 }; };
template <> struct Kind<bf16> { enum { is_float = 1, is_signed = 1, bits = 16 }; };
template <> struct Kind<float> { enum { is_float = 1, is_signed = 1, bits = 32 }; };

// Element offset of row-major index i in an operand with the given strides.
inline long elem_offset(ulong i, constant long* shape, constant long* strides, int ndim) {
    long off = 0;
    ulong rest = i;
    for (int d = ndim - 1; d >= 0; --d) {
        ulong n = ulong(shape[d]);
        off += long(rest % n) * strides[d];
        rest /= n;
    }
    return off;
}


// log1p (MSL has none) by Kahan's correction of the rounded 1 + x.
inline float log1p_f(float x) {
    float u = 1.0f + x;
    if (u == 1.0f) return x;
    if (isinf(u) || u <= 0.0f) return log(u);
    return log(u) * (x / (u - 1.0f));
}
