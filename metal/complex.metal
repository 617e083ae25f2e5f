// complex64 elementwise kernels: unary, binary, casts to and from complex64 (select and
// copies between complex64 arrays are elementwise.metal's uint64 kernels: 64-bit moves).
//
// A complex64 is two float32s (real, imaginary), as MLX and C store it.  Same layout
// conventions as elementwise.metal (one thread per output element, strided inputs
// through `meta`, op codes of kernels/include/mlxc_kernels.h).  Semantics as the CPU
// kernels (kernels/unary.c, binary.c, copy.c): products are the plain formula, division
// is Smith's algorithm (x / 0 component-wise), power is exp(b log a), sign is z / |z|;
// casts from complex take the real part (bool: either part nonzero), casts to complex
// give a zero imaginary part.  Add, sub, mul, div, neg, conj, square, reciprocal, real,
// imag, comparisons, and casts are bit-identical to the CPU; |z| and the
// transcendentals go through metal:: float math (the CPU: the C library's complex
// functions), so the tests allow a few ulps of |result|; so do the inverse trigonometric
// and hyperbolic functions (Hull et al.'s algorithm, below).
#include "mlxc_complex.h"

// sin, cos, tan and their hyperbolic forms from real sin/cos/sinh/cosh; infinite and NaN
// parts give C99 Annex G's values (the signs the CPU's C library picks where it leaves
// them open)
inline c64 csinh_(c64 z) {
    float x = z.re, y = z.im;
    if (isfinite(x) && isfinite(y)) {           // y == 0: no inf * 0 once sinh overflows
        return y == 0.0f ? cx(sinh(x), y) : cx(sinh(x) * cos(y), cosh(x) * sin(y));
    }
    if (x == 0.0f) {
        return cx(x, NAN);                      // +-0 + i NaN
    }
    if (isinf(x)) {
        if (y == 0.0f) {
            return z;
        }
        return isfinite(y) ? cx(x * cos(y), INFINITY * sin(y)) : cx(INFINITY, NAN);
    }
    return cx(NAN, isnan(x) && y == 0.0f ? y : NAN);
}
inline c64 ccosh_(c64 z) {
    float x = z.re, y = z.im;
    if (isfinite(x) && isfinite(y)) {
        return y == 0.0f ? cx(cosh(x), signbit(x) != signbit(y) ? -0.0f : 0.0f)
                         : cx(cosh(x) * cos(y), sinh(x) * sin(y));
    }
    if (x == 0.0f) {
        return cx(NAN, 0.0f);
    }
    if (isinf(x)) {
        if (y == 0.0f) {
            return cx(INFINITY, signbit(x) != signbit(y) ? -0.0f : 0.0f);
        }
        return isfinite(y) ? cx(INFINITY * cos(y), x * sin(y)) : cx(INFINITY, NAN);
    }
    return cx(NAN, isnan(x) && y == 0.0f ? y : NAN);
}
inline c64 ctanh_(c64 z) {                     // Kahan's formulation (no cancellation)
    float x = z.re, y = z.im;
    if (isinf(x)) {
        return cx(copysign(1.0f, x), copysign(0.0f, isfinite(y) ? sin(2.0f * y) : y));
    }
    if (!isfinite(y)) {
        return cx(x == 0.0f ? x : NAN, NAN);
    }
    if (isnan(x)) {
        return cx(NAN, y == 0.0f ? y : NAN);
    }
    if (fabs(x) > 20.0f) {                      // tanh(x + iy) -> +-1 + 0i (no inf / inf)
        return cx(copysign(1.0f, x), 2.0f * sin(2.0f * y) * exp(-2.0f * fabs(x)));
    }
    float t = tan(y);
    float beta = 1.0f + t * t;
    float s = sinh(x);
    float rho = sqrt(1.0f + s * s);
    float den = 1.0f + beta * s * s;
    return cx(beta * rho * s / den, t / den);
}
inline c64 times_i(c64 z) { return cx(-z.im, z.re); }       // i z
inline c64 times_minus_i(c64 z) { return cx(z.im, -z.re); } // -i z

// ------------------------------------------------ inverse trigonometric / hyperbolic
// The CPU runs the C library's casinf .. catanhf.  Here: the algorithm of Hull, Fairgrieve
// and Tang (1997) for asin/acos on the first quadrant (no cancellation near the branch
// points), the rest by symmetry: asinh z = -i asin(i z), acosh from acos, atan z =
// -i atanh(i z).  Infinities and NaNs give C99 Annex G's values.

constant constexpr float PI_F = 3.14159265358979f;
constant constexpr float HALF_PI_F = 1.57079632679490f;
constant constexpr float LN2_F = 0.693147180559945f;

struct AsinQ {
    float s;        // Re asin(x + iy)
    float c;        // Re acos(x + iy)
    float v;        // |Im asin(x + iy)| = |Im acos(x + iy)|
};

inline AsinQ asin_q(float x, float y) {        // x, y >= 0 (or NaN)
    AsinQ r;
    if (isnan(x) || isnan(y)) {
        bool inf = isinf(x) || isinf(y);
        r.s = x == 0.0f ? 0.0f : NAN;
        r.c = x == 0.0f ? HALF_PI_F : NAN;
        r.v = inf ? INFINITY : NAN;
        return r;
    }
    if (isinf(x) || isinf(y)) {
        r.s = isinf(y) ? (isinf(x) ? 0.25f * PI_F : 0.0f) : HALF_PI_F;
        r.c = isinf(y) ? (isinf(x) ? 0.25f * PI_F : HALF_PI_F) : 0.0f;
        r.v = INFINITY;
        return r;
    }
    if (max(x, y) > 1e18f) {                    // |z| so large that asin z = arg + i log 2|z|
        r.s = atan2(x, y);
        r.c = atan2(y, x);
        r.v = log(cabs_(cx(x, y))) + LN2_F;
        return r;
    }
    float xp1 = x + 1.0f;
    float R = cabs_(cx(xp1, y)), S = cabs_(cx(x - 1.0f, y));
    float A = 0.5f * (R + S);                   // >= 1
    float B = x / A;                            // in [0, 1]
    float yy = y * y;
    float am1;                                  // A - 1 without cancellation
    if (x < 1.0f) {
        am1 = 0.5f * (yy / (R + xp1) + yy / (S + (1.0f - x)));
    } else {
        am1 = 0.5f * (yy / (R + xp1) + (S + (x - 1.0f)));
    }
    if (B <= 0.6417f) {
        r.s = asin(B);
        r.c = acos(B);
    } else if (x <= 1.0f) {
        float d = sqrt(0.5f * (A + x) * (yy / (R + xp1) + (S + (1.0f - x))));
        r.s = atan(x / d);
        r.c = atan(d / x);
    } else {
        float d = y * sqrt(0.5f * ((A + x) / (R + xp1) + (A + x) / (S + (x - 1.0f))));
        r.s = atan(x / d);
        r.c = atan(d / x);
    }
    if (x < 1.0f && y < 0.0001220703125f * (1.0f - x)) {
        r.v = y / sqrt((1.0f - x) * xp1);       // y^2 negligible (and may underflow)
    } else if (A <= 1.5f) {
        r.v = log1p_f(am1 + sqrt(am1 * (A + 1.0f)));
    } else {
        r.v = log(A + sqrt(A * A - 1.0f));
    }
    return r;
}

inline c64 casin_(c64 z) {
    AsinQ q = asin_q(fabs(z.re), fabs(z.im));
    return cx(copysign(q.s, z.re), copysign(q.v, z.im));
}
inline c64 cacos_(c64 z) {
    AsinQ q = asin_q(fabs(z.re), fabs(z.im));
    return cx(signbit(z.re) ? PI_F - q.c : q.c, -copysign(q.v, z.im));
}
inline c64 casinh_(c64 z) {                     // asinh z = -i asin(i z)
    AsinQ q = asin_q(fabs(z.im), fabs(z.re));
    return cx(copysign(q.v, z.re), copysign(q.s, z.im));
}
inline c64 cacosh_(c64 z) {                     // +-i acos z, with a real part >= 0
    c64 a = cacos_(z);
    return cx(fabs(a.im), copysign(a.re, z.im));
}
inline c64 catanh_(c64 z) {
    float x = fabs(z.re), y = fabs(z.im), re, im;
    if (isnan(x) || isnan(y)) {
        re = isinf(x) || isinf(y) ? 0.0f : x == 0.0f ? 0.0f : NAN;
        im = isinf(y) ? HALF_PI_F : NAN;
    } else if (isinf(x) || isinf(y) || max(x, y) > 1e18f) {    // atanh z -> 1 / z + i pi/2
        float h = cabs_(cx(x, y));
        re = isinf(h) ? 0.0f : x / h / h;
        im = HALF_PI_F;
    } else {
        float omx = 1.0f - x, den = omx * omx + y * y;    // |1 - z|^2
        if (den < 1e-20f) {                     // near z = 1 (den may underflow): log form
            re = 0.25f * log(4.0f * x) - 0.5f * log(cabs_(cx(omx, y)));
        } else {
            re = 0.25f * log1p_f(4.0f * x / den);
        }
        im = 0.5f * atan2(2.0f * y, omx * (1.0f + x) - y * y);
    }
    return cx(copysign(re, z.re), copysign(im, z.im));
}

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
        case U_SIN: {                                            // sin z = -i sinh(i z)
            c64 r = times_minus_i(csinh_(times_i(z)));
            if (isinf(z.im) && !isfinite(z.re)) {
                r.im = INFINITY;                // Annex G leaves the sign open: the CPU's +
            }
            return r;
        }
        case U_COS: return ccosh_(times_i(z));                   // cos z = cosh(i z)
        case U_TAN: return times_minus_i(ctanh_(times_i(z)));    // tan z = -i tanh(i z)
        case U_SINH: return csinh_(z);
        case U_COSH: return ccosh_(z);
        case U_TANH: return ctanh_(z);
        case U_ARCSIN: return casin_(z);
        case U_ARCCOS: return cacos_(z);
        case U_ARCTAN: return times_minus_i(catanh_(times_i(z)));  // atan z = -i atanh(i z)
        case U_ARCSINH: return casinh_(z);
        case U_ARCCOSH: return cacosh_(z);
        case U_ARCTANH: return catanh_(z);
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
