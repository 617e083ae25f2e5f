// complex64 elementwise kernels: unary, binary, casts to and from complex64, select.
//
// A complex64 is two float32s (real, imaginary), as MLX and C store it.  Same layout
// conventions as elementwise.metal (one thread per output element, strided inputs
// through `meta`, op codes of kernels/include/mlxc_kernels.h).  Semantics as the CPU
// kernels (kernels/unary.c, binary.c, copy.c): products are the plain formula, division
// is Smith's algorithm (x / 0 component-wise), power is exp(b log a), sign is z / |z|;
// casts from complex take the real part (bool: either part nonzero), casts to complex
// give a zero imaginary part.  Add, sub, mul, div, neg, conj, square, reciprocal, real,
// imag, comparisons, casts and select are bit-identical to the CPU; |z| and the
// transcendentals go through metal:: float math (the CPU: the C library's complex
// functions), so the tests allow a few ulps of |result|.  The inverse trigonometric and
// hyperbolic functions have no kernel here (the host raises).
#include "mlxc_complex.h"

// sin, cos, tan and their hyperbolic forms from real sin/cos/sinh/cosh
inline c64 csinh_(c64 z) { return cx(sinh(z.re) * cos(z.im), cosh(z.re) * sin(z.im)); }
inline c64 ccosh_(c64 z) { return cx(cosh(z.re) * cos(z.im), sinh(z.re) * sin(z.im)); }
inline c64 ctanh_(c64 z) {                     // Kahan's formulation (no cancellation)
    if (fabs(z.re) > 20.0f) {                   // tanh(x + iy) -> +-1 + 0i (no inf / inf)
        return cx(copysign(1.0f, z.re), copysign(0.0f, z.im) * exp(-2.0f * fabs(z.re)));
    }
    float t = tan(z.im);
    float beta = 1.0f + t * t;
    float s = sinh(z.re);
    float rho = sqrt(1.0f + s * s);
    float den = 1.0f + beta * s * s;
    return cx(beta * rho * s / den, t / den);
}
inline c64 times_i(c64 z) { return cx(-z.im, z.re); }       // i z
inline c64 times_minus_i(c64 z) { return cx(z.im, -z.re); } // -i z

// Op codes (enum mlxc_unary_op; the same numbering as elementwise.metal).
enum {
    U_ABS = 0, U_NEG, U_SIGN, U_SQRT, U_RSQRT, U_SQUARE, U_RECIPROCAL,
    U_EXP, U_EXPM1, U_LOG, U_LOG1P, U_LOG2, U_LOG10,
    U_SIN, U_COS, U_TAN, U_ARCSIN, U_ARCCOS, U_ARCTAN,
    U_SINH, U_COSH, U_TANH, U_ARCSINH, U_ARCCOSH, U_ARCTANH,
    U_SIGMOID, U_ERF, U_ERFINV,
    U_FLOOR, U_CEIL, U_ROUND,
    U_ISNAN, U_ISINF, U_ISFINITE, U_ISPOSINF, U_ISNEGINF,
    U_LOGICAL_NOT, U_BITWISE_INVERT,
    U_CONJ, U_REAL, U_IMAG
};

inline c64 unary_c(int op, c64 z) {
    switch (op) {
        case U_NEG: return cx(-z.re, -z.im);
        case U_SIGN:
            return (z.re != 0.0f || z.im != 0.0f) ? cdiv(z, cx(cabs_(z), 0.0f)) : cx(0.0f, 0.0f);
        case U_SQRT: return csqrt_(z);
        case U_RSQRT: return cdiv(cx(1.0f, 0.0f), csqrt_(z));
        case U_SQUARE: return cmul(z, z);
        case U_RECIPROCAL: return cdiv(cx(1.0f, 0.0f), z);
        case U_EXP: return cexp_(z);
        case U_LOG: return clog_(z);
        case U_LOG2: return cscale(clog_(z), 1.4426950408889634f);
        case U_LOG10: return cscale(clog_(z), 0.43429448190325176f);
        case U_SIN: return times_minus_i(csinh_(times_i(z)));    // sin z = -i sinh(i z)
        case U_COS: return ccosh_(times_i(z));                   // cos z = cosh(i z)
        case U_TAN: return times_minus_i(ctanh_(times_i(z)));    // tan z = -i tanh(i z)
        case U_SINH: return csinh_(z);
        case U_COSH: return ccosh_(z);
        case U_TANH: return ctanh_(z);
        case U_CONJ: return cx(z.re, -z.im);
        default: return z;
    }
}

// out[i] = f(z) with a complex64, float32 (abs, real, imag) or bool (isnan..) output.
kernel void unary_c64_g(device const c64* in [[buffer(0)]],
                        device uchar* out [[buffer(1)]],
                        constant long* meta [[buffer(2)]],
                        constant int& ndim [[buffer(3)]],
                        constant int& op [[buffer(4)]],
                        constant uint& n [[buffer(5)]],
                        uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    c64 z = in[meta[2 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    switch (op) {
        case U_ABS: reinterpret_cast<device float*>(out)[gid] = cabs_(z); break;
        case U_REAL: reinterpret_cast<device float*>(out)[gid] = z.re; break;
        case U_IMAG: reinterpret_cast<device float*>(out)[gid] = z.im; break;
        case U_ISNAN: reinterpret_cast<device bool*>(out)[gid] = isnan(z.re) || isnan(z.im); break;
        case U_ISINF: reinterpret_cast<device bool*>(out)[gid] = isinf(z.re) || isinf(z.im); break;
        case U_ISFINITE:
            reinterpret_cast<device bool*>(out)[gid] = isfinite(z.re) && isfinite(z.im);
            break;
        default: reinterpret_cast<device c64*>(out)[gid] = unary_c(op, z); break;
    }
}

// Op codes (enum mlxc_binary_op).
enum { B_ADD = 0, B_SUB, B_MUL, B_DIV, B_FLOOR_DIV, B_REMAINDER, B_POWER,
       B_MAXIMUM, B_MINIMUM, B_EQ, B_NE };

kernel void binary_c64_g(device const c64* a [[buffer(0)]],
                         device const c64* b [[buffer(1)]],
                         device uchar* out [[buffer(2)]],
                         constant long* meta [[buffer(3)]],
                         constant int& ndim [[buffer(4)]],
                         constant int& op [[buffer(5)]],
                         constant uint& n [[buffer(6)]],
                         uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    c64 x = a[meta[3 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    c64 y = b[meta[3 * ndim + 1] + elem_offset(gid, meta, meta + 2 * ndim, ndim)];
    device c64* o = reinterpret_cast<device c64*>(out);
    switch (op) {
        case B_ADD: o[gid] = cx(x.re + y.re, x.im + y.im); break;
        case B_SUB: o[gid] = cx(x.re - y.re, x.im - y.im); break;
        case B_MUL: o[gid] = cmul(x, y); break;
        case B_DIV: o[gid] = cdiv(x, y); break;
        case B_POWER: o[gid] = cexp_(cmul(y, clog_(x))); break;
        case B_EQ: reinterpret_cast<device bool*>(out)[gid] = x.re == y.re && x.im == y.im; break;
        default: reinterpret_cast<device bool*>(out)[gid] = x.re != y.re || x.im != y.im; break;
    }
}

// Casts: complex64 -> out_code (the real part; bool: either part nonzero), and any real
// dtype -> complex64 (imaginary part 0).  Output strided (operand 1), as copy_g.
kernel void copy_from_c64_g(device const c64* in [[buffer(0)]],
                            device uchar* out [[buffer(1)]],
                            constant long* meta [[buffer(2)]],
                            constant int& ndim [[buffer(3)]],
                            constant int& out_code [[buffer(4)]],
                            constant uint& n [[buffer(5)]],
                            uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    c64 z = in[meta[3 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    long o = meta[3 * ndim + 1] + elem_offset(gid, meta, meta + 2 * ndim, ndim);
    float x = z.re;
    switch (out_code) {
        case 0: reinterpret_cast<device bool*>(out)[o] = z.re != 0.0f || z.im != 0.0f; break;
        case 1: reinterpret_cast<device uchar*>(out)[o] = uchar(int(x)); break;
        case 2: reinterpret_cast<device ushort*>(out)[o] = ushort(int(x)); break;
        case 3: reinterpret_cast<device uint*>(out)[o] = uint(long(x)); break;
        case 4:
            reinterpret_cast<device ulong*>(out)[o] =
                x >= 9223372036854775808.0f ? ulong(x) : ulong(long(x));
            break;
        case 5: reinterpret_cast<device char*>(out)[o] = char(int(x)); break;
        case 6: reinterpret_cast<device short*>(out)[o] = short(int(x)); break;
        case 7: reinterpret_cast<device int*>(out)[o] = int(x); break;
        case 8: reinterpret_cast<device long*>(out)[o] = long(x); break;
        case 9: reinterpret_cast<device half*>(out)[o] = half(x); break;
        case 10: reinterpret_cast<device bf16*>(out)[o] = Num<bf16>::put(x); break;
        case 11: reinterpret_cast<device float*>(out)[o] = x; break;
        default: reinterpret_cast<device c64*>(out)[o] = z; break;
    }
}

template <typename In>
kernel void copy_to_c64_g(device const In* in [[buffer(0)]],
                          device c64* out [[buffer(1)]],
                          constant long* meta [[buffer(2)]],
                          constant int& ndim [[buffer(3)]],
                          constant int& out_code [[buffer(4)]],
                          constant uint& n [[buffer(5)]],
                          uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    In x = in[meta[3 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    long o = meta[3 * ndim + 1] + elem_offset(gid, meta, meta + 2 * ndim, ndim);
    out[o] = cx(float(Num<In>::get(x)), 0.0f);
}

kernel void select_c64_g(device const bool* cond [[buffer(0)]],
                         device const c64* a [[buffer(1)]],
                         device const c64* b [[buffer(2)]],
                         device c64* out [[buffer(3)]],
                         constant long* meta [[buffer(4)]],
                         constant int& ndim [[buffer(5)]],
                         constant uint& n [[buffer(6)]],
                         uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    bool c = cond[meta[4 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    out[gid] = c ? a[meta[4 * ndim + 1] + elem_offset(gid, meta, meta + 2 * ndim, ndim)]
                 : b[meta[4 * ndim + 2] + elem_offset(gid, meta, meta + 3 * ndim, ndim)];
}

template [[host_name("copy_to_c64_g_bool_")]] [[kernel]] decltype(copy_to_c64_g<bool>) copy_to_c64_g<bool>;
template [[host_name("copy_to_c64_g_uint8")]] [[kernel]] decltype(copy_to_c64_g<uchar>) copy_to_c64_g<uchar>;
template [[host_name("copy_to_c64_g_uint16")]] [[kernel]] decltype(copy_to_c64_g<ushort>) copy_to_c64_g<ushort>;
template [[host_name("copy_to_c64_g_uint32")]] [[kernel]] decltype(copy_to_c64_g<uint>) copy_to_c64_g<uint>;
template [[host_name("copy_to_c64_g_uint64")]] [[kernel]] decltype(copy_to_c64_g<ulong>) copy_to_c64_g<ulong>;
template [[host_name("copy_to_c64_g_int8")]] [[kernel]] decltype(copy_to_c64_g<char>) copy_to_c64_g<char>;
template [[host_name("copy_to_c64_g_int16")]] [[kernel]] decltype(copy_to_c64_g<short>) copy_to_c64_g<short>;
template [[host_name("copy_to_c64_g_int32")]] [[kernel]] decltype(copy_to_c64_g<int>) copy_to_c64_g<int>;
template [[host_name("copy_to_c64_g_int64")]] [[kernel]] decltype(copy_to_c64_g<long>) copy_to_c64_g<long>;
template [[host_name("copy_to_c64_g_float16")]] [[kernel]] decltype(copy_to_c64_g<half>) copy_to_c64_g<half>;
template [[host_name("copy_to_c64_g_bfloat16")]] [[kernel]] decltype(copy_to_c64_g<bf16>) copy_to_c64_g<bf16>;
template [[host_name("copy_to_c64_g_float32")]] [[kernel]] decltype(copy_to_c64_g<float>) copy_to_c64_g<float>;
