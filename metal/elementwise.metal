// Elementwise kernels: copy/cast, unary, binary and select over collapsed layouts.
//
// One thread per output element (dispatchThreads over n; the output is row-major, so
// element gid of the output is gid).  Inputs are strided: `meta` holds the collapsed
// shape (ndim values), then each operand's element strides (ndim values each, 0 where
// broadcast), then each operand's element offset into its buffer (inputs are bound as
// their whole buffer: a negative stride may reach below element 0).  Ops are a runtime code (uniform per dispatch) with the numbering of
// kernels/include/mlxc_kernels.h, so one template instance per dtype serves every op.
// Semantics follow the CPU kernels (kernels/unary.c, binary.c, copy.c): half types load
// as float, compute in float, round once on store; integer arithmetic wraps; integer
// division by zero gives 0 and remainder by zero gives a; no double anywhere.
#include "mlxc_types.h"

// ------------------------------------------------------------------ casts

// Float to integer as the CPU kernels do it: truncate through int (narrow types) or long
// (32-bit unsigned and 64-bit types), so -1.0 -> uint8 is 255 as on the CPU.
// Values outside int/long range are unspecified (the CPU gives x86's values).
template <typename Out> struct FromFloat {
    static Out conv(float x) { return Out(int(x)); }
};
template <> struct FromFloat<uint> { static uint conv(float x) { return uint(long(x)); } };
template <> struct FromFloat<long> { static long conv(float x) { return long(x); } };
template <> struct FromFloat<ulong> {
    static ulong conv(float x) { return x >= 9223372036854775808.0f ? ulong(x) : ulong(long(x)); }
};
template <> struct FromFloat<float> { static float conv(float x) { return x; } };
template <> struct FromFloat<half> { static half conv(float x) { return half(x); } };
template <> struct FromFloat<bf16> { static bf16 conv(float x) { return Num<bf16>::put(x); } };
template <> struct FromFloat<bool> { static bool conv(float x) { return x != 0.0f; } };

// From integer or bool sources: C conversions; to half types through float.
template <typename Out> struct FromInt {
    template <typename In> static Out conv(In x) { return Out(x); }
};
template <> struct FromInt<bool> {
    template <typename In> static bool conv(In x) { return x != In(0); }
};
template <> struct FromInt<half> {
    template <typename In> static half conv(In x) { return half(float(x)); }
};
template <> struct FromInt<bf16> {
    template <typename In> static bf16 conv(In x) { return Num<bf16>::put(float(x)); }
};

template <typename In, typename Out, bool F = Kind<In>::is_float> struct Cast;
template <typename In, typename Out> struct Cast<In, Out, true> {
    static Out conv(In x) { return FromFloat<Out>::conv(float(Num<In>::get(x))); }
};
template <typename In, typename Out> struct Cast<In, Out, false> {
    static Out conv(In x) { return FromInt<Out>::template conv<In>(x); }
};

template <typename In, typename Out>
inline void store_cast(device uchar* out, long o, In x) {
    reinterpret_cast<device Out*>(out)[o] = Cast<In, Out>::conv(x);
}

// out[o] = (dtype out_code) in[i]; both sides strided (operand 0 in, operand 1 out).
template <typename In>
kernel void copy_g(device const In* in [[buffer(0)]],
                   device uchar* out [[buffer(1)]],
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
    switch (out_code) {
        case 0: store_cast<In, bool>(out, o, x); break;
        case 1: store_cast<In, uchar>(out, o, x); break;
        case 2: store_cast<In, ushort>(out, o, x); break;
        case 3: store_cast<In, uint>(out, o, x); break;
        case 4: store_cast<In, ulong>(out, o, x); break;
        case 5: store_cast<In, char>(out, o, x); break;
        case 6: store_cast<In, short>(out, o, x); break;
        case 7: store_cast<In, int>(out, o, x); break;
        case 8: store_cast<In, long>(out, o, x); break;
        case 9: store_cast<In, half>(out, o, x); break;
        case 10: store_cast<In, bf16>(out, o, x); break;
        case 11: store_cast<In, float>(out, o, x); break;
        default: break;
    }
}

// ------------------------------------------------------------------ unary

// Op codes (enum mlxc_unary_op).
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

// erf (MSL has none): the Taylor series below 0.5, else 1 - erfc with the published
// Chebyshev-fitted erfc of Numerical Recipes (erfcc, fractional error < 1.2e-7).
inline float erf_f(float x) {
    float z = fabs(x);
    if (z < 0.5f) {
        float z2 = z * z;
        float s = z * (1.0f + z2 * (-1.0f / 3.0f + z2 * (0.1f + z2 * (-1.0f / 42.0f +
                  z2 * (1.0f / 216.0f + z2 * (-1.0f / 1320.0f))))));
        s *= 1.1283791670955126f;
        return x < 0.0f ? -s : s;
    }
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
              t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
              t * (-0.82215223f + t * 0.17087277f))))))));
    float r = 1.0f - t * exp(p);
    return x < 0.0f ? -r : r;
}

// erfinv: Giles' single-precision approximation ("Approximating the erfinv function",
// GPU Computing Gems, 2011), then one Newton step on erf_f.
inline float erfinv_f(float x) {
    if (fabs(x) >= 1.0f) {
        return x == 1.0f ? INFINITY : x == -1.0f ? -INFINITY : NAN;
    }
    float w = -log((1.0f - x) * (1.0f + x));
    float p;
    if (w < 5.0f) {
        w = w - 2.5f;
        p = 2.81022636e-08f;
        p = 3.43273939e-07f + p * w;
        p = -3.5233877e-06f + p * w;
        p = -4.39150654e-06f + p * w;
        p = 0.00021858087f + p * w;
        p = -0.00125372503f + p * w;
        p = -0.00417768164f + p * w;
        p = 0.246640727f + p * w;
        p = 1.50140941f + p * w;
    } else {
        w = sqrt(w) - 3.0f;
        p = -0.000200214257f;
        p = 0.000100950558f + p * w;
        p = 0.00134934322f + p * w;
        p = -0.00367342844f + p * w;
        p = 0.00573950773f + p * w;
        p = -0.0076224613f + p * w;
        p = 0.00943887047f + p * w;
        p = 1.00167406f + p * w;
        p = 2.83297682f + p * w;
    }
    float y = p * x;
    float e = erf_f(y) - x;
    return y - e / (1.1283791670955126f * exp(-y * y));
}

// expm1 and log1p (MSL has neither) by Kahan's correction of the rounded 1 + x
// (log1p_f: mlxc_types.h).
inline float expm1_f(float x) {
    float u = exp(x);
    if (u == 1.0f) return x;
    float d = u - 1.0f;
    if (d == -1.0f || isinf(u)) return d;
    return d * (x / log(u));
}

inline float unary_float(int op, float x) {
    switch (op) {
        case U_ABS: return fabs(x);
        case U_NEG: return -x;
        case U_SIGN: return float(int(x > 0.0f) - int(x < 0.0f));
        case U_SQRT: return sqrt(x);
        case U_RSQRT: return 1.0f / sqrt(x);
        case U_SQUARE: return x * x;
        case U_RECIPROCAL: return 1.0f / x;
        case U_EXP: return exp(x);
        case U_EXPM1: return expm1_f(x);
        case U_LOG: return log(x);
        case U_LOG1P: return log1p_f(x);
        case U_LOG2: return log2(x);
        case U_LOG10: return log10(x);
        case U_SIN: return sin(x);
        case U_COS: return cos(x);
        case U_TAN: return tan(x);
        case U_ARCSIN: return asin(x);
        case U_ARCCOS: return acos(x);
        case U_ARCTAN: return atan(x);
        case U_SINH: return sinh(x);
        case U_COSH: return cosh(x);
        case U_TANH: return tanh(x);
        case U_ARCSINH: return asinh(x);
        case U_ARCCOSH: return acosh(x);
        case U_ARCTANH: return atanh(x);
        case U_SIGMOID: return 1.0f / (1.0f + exp(-x));
        case U_ERF: return erf_f(x);
        case U_ERFINV: return erfinv_f(x);
        case U_FLOOR: return floor(x);
        case U_CEIL: return ceil(x);
        case U_ROUND: return rint(x);
        case U_CONJ: return x;
        case U_REAL: return x;
        case U_IMAG: return 0.0f;
        default: return x;
    }
}

template <typename T>
inline T unary_int(int op, T x) {
    typedef typename Wrap<T>::W W;
    switch (op) {
        case U_ABS: return (Kind<T>::is_signed && x < T(0)) ? T(W(0) - W(x)) : x;
        case U_NEG: return T(W(0) - W(x));
        case U_SIGN: return Kind<T>::is_signed ? T(int(x > T(0)) - int(x < T(0))) : T(x != T(0));
        case U_SQUARE: return T(W(x) * W(x));
        case U_BITWISE_INVERT: return T(~x);
        case U_IMAG: return T(0);
        default: return x;          // floor, ceil, round, conj, real: identity
    }
}

inline bool unary_bool(int op, bool x) {
    switch (op) {
        case U_LOGICAL_NOT: return !x;
        case U_BITWISE_INVERT: return !x;
        case U_IMAG: return false;
        default: return x;          // abs, sign, square, floor, ceil, round, conj, real
    }
}

template <typename T, bool F = Kind<T>::is_float> struct UnaryOf;
template <typename T> struct UnaryOf<T, true> {
    static T apply(int op, T x) { return Num<T>::put(unary_float(op, Num<T>::get(x))); }
    static bool pred(int op, T x) {
        float v = Num<T>::get(x);
        switch (op) {
            case U_ISNAN: return isnan(v);
            case U_ISINF: return isinf(v);
            case U_ISFINITE: return isfinite(v);
            case U_ISPOSINF: return v == INFINITY;
            case U_ISNEGINF: return v == -INFINITY;
            default: return false;
        }
    }
};
template <typename T> struct UnaryOf<T, false> {
    static T apply(int op, T x) { return unary_int<T>(op, x); }
    static bool pred(int op, T) { return op == U_ISFINITE; }   // integers are finite
};
template <> struct UnaryOf<bool, false> {
    static bool apply(int op, bool x) { return unary_bool(op, x); }
    static bool pred(int op, bool) { return op == U_ISFINITE; }
};

// out[i] = f(in[...]) with out of the input's dtype (meta: shape, in strides).
template <typename T>
kernel void unary_g(device const T* in [[buffer(0)]],
                    device T* out [[buffer(1)]],
                    constant long* meta [[buffer(2)]],
                    constant int& ndim [[buffer(3)]],
                    constant int& op [[buffer(4)]],
                    constant uint& n [[buffer(5)]],
                    uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    out[gid] = UnaryOf<T>::apply(op, in[meta[2 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)]);
}

// The predicates isnan .. isneginf: bool output.
template <typename T>
kernel void unary_pred_g(device const T* in [[buffer(0)]],
                         device bool* out [[buffer(1)]],
                         constant long* meta [[buffer(2)]],
                         constant int& ndim [[buffer(3)]],
                         constant int& op [[buffer(4)]],
                         constant uint& n [[buffer(5)]],
                         uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    out[gid] = UnaryOf<T>::pred(op, in[meta[2 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)]);
}

// ------------------------------------------------------------------ binary

// Op codes (enum mlxc_binary_op).
enum {
    B_ADD = 0, B_SUB, B_MUL, B_DIV, B_FLOOR_DIV, B_REMAINDER, B_POWER,
    B_MAXIMUM, B_MINIMUM,
    B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
    B_LOGICAL_AND, B_LOGICAL_OR, B_LOGICAL_XOR,
    B_BITWISE_AND, B_BITWISE_OR, B_BITWISE_XOR, B_LEFT_SHIFT, B_RIGHT_SHIFT,
    B_ARCTAN2, B_LOGADDEXP
};

inline float logaddexp_f(float a, float b) {
    if (isnan(a) || isnan(b)) {
        return a + b;
    }
    float hi = a > b ? a : b;
    float lo = a > b ? b : a;
    if (lo == -INFINITY || hi == INFINITY) {
        return hi;
    }
    float d = exp(lo - hi);             // in (0, 1]: log1p through the compensated form
    float u = 1.0f + d;
    return hi + (u == 1.0f ? d : log(u) * (d / (u - 1.0f)));
}

inline float binary_float(int op, float a, float b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_FLOOR_DIV: return floor(a / b);
        case B_REMAINDER: {
            float r = fmod(a, b);
            if (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) {
                r += b;
            }
            return r;
        }
        case B_POWER: return pow(a, b);
        case B_MAXIMUM: return (a > b || isnan(a)) ? a : b;
        case B_MINIMUM: return (a < b || isnan(a)) ? a : b;
        case B_ARCTAN2: return atan2(a, b);
        case B_LOGADDEXP: return logaddexp_f(a, b);
        default: return 0.0f;
    }
}

template <typename T>
inline T binary_int(int op, T a, T b) {
    typedef typename Wrap<T>::W W;
    const bool sgn = Kind<T>::is_signed;
    const int bits = Kind<T>::bits;
    switch (op) {
        case B_ADD: return T(W(a) + W(b));
        case B_SUB: return T(W(a) - W(b));
        case B_MUL: return T(W(a) * W(b));
        case B_DIV:
            if (b == T(0)) return T(0);
            if (sgn && b == T(-1)) return T(W(0) - W(a));
            return T(a / b);
        case B_FLOOR_DIV: {
            if (b == T(0)) return T(0);
            if (sgn && b == T(-1)) return T(W(0) - W(a));
            T q = T(a / b);
            if (sgn && T(a % b) != T(0) && ((a < T(0)) != (b < T(0)))) q = T(q - T(1));
            return q;
        }
        case B_REMAINDER: {
            if (b == T(0)) return a;
            if (sgn && b == T(-1)) return T(0);
            T r = T(a % b);
            if (sgn && r != T(0) && ((r < T(0)) != (b < T(0)))) r = T(r + b);
            return r;
        }
        case B_POWER: {
            if (sgn && b < T(0)) {
                return a == T(1) ? T(1) : a == T(-1) ? ((b & T(1)) ? T(-1) : T(1)) : T(0);
            }
            ulong x = ulong(W(a)), e = ulong(b), r = 1;
            for (; e != 0; e >>= 1) {
                if (e & 1) r *= x;
                x *= x;
            }
            return T(r);
        }
        case B_MAXIMUM: return a > b ? a : b;
        case B_MINIMUM: return a < b ? a : b;
        case B_BITWISE_AND: return T(a & b);
        case B_BITWISE_OR: return T(a | b);
        case B_BITWISE_XOR: return T(a ^ b);
        case B_LEFT_SHIFT:
            if ((sgn && b < T(0)) || ulong(b) >= ulong(bits)) return T(0);
            return T(W(a) << W(b));
        case B_RIGHT_SHIFT:
            if ((sgn && b < T(0)) || ulong(b) >= ulong(bits)) return T((sgn && a < T(0)) ? -1 : 0);
            return (sgn && a < T(0)) ? T(~(T(~a) >> b)) : T(a >> b);
        default: return T(0);
    }
}

inline bool binary_bool(int op, bool a, bool b) {
    switch (op) {
        case B_ADD: case B_MAXIMUM: case B_LOGICAL_OR: case B_BITWISE_OR: return a || b;
        case B_MUL: case B_MINIMUM: case B_LOGICAL_AND: case B_BITWISE_AND: return a && b;
        case B_SUB: case B_LOGICAL_XOR: case B_BITWISE_XOR: return a != b;
        default: return false;
    }
}

template <typename C>
inline bool compare(int op, C a, C b) {
    switch (op) {
        case B_EQ: return a == b;
        case B_NE: return a != b;
        case B_LT: return a < b;
        case B_LE: return a <= b;
        case B_GT: return a > b;
        case B_GE: return a >= b;
        case B_LOGICAL_AND: return a != C(0) && b != C(0);
        case B_LOGICAL_OR: return a != C(0) || b != C(0);
        case B_LOGICAL_XOR: return (a != C(0)) != (b != C(0));
        default: return false;
    }
}

template <typename T, bool F = Kind<T>::is_float> struct BinaryOf;
template <typename T> struct BinaryOf<T, true> {
    static T apply(int op, T a, T b) {
        return Num<T>::put(binary_float(op, Num<T>::get(a), Num<T>::get(b)));
    }
    static bool pred(int op, T a, T b) { return compare<float>(op, Num<T>::get(a), Num<T>::get(b)); }
};
template <typename T> struct BinaryOf<T, false> {
    static T apply(int op, T a, T b) { return binary_int<T>(op, a, b); }
    static bool pred(int op, T a, T b) { return compare<T>(op, a, b); }
};
template <> struct BinaryOf<bool, false> {
    static bool apply(int op, bool a, bool b) { return binary_bool(op, a, b); }
    static bool pred(int op, bool a, bool b) { return compare<int>(op, int(a), int(b)); }
};

// out[i] = f(a[...], b[...]) (meta: shape, a strides, b strides).
template <typename T>
kernel void binary_g(device const T* a [[buffer(0)]],
                     device const T* b [[buffer(1)]],
                     device T* out [[buffer(2)]],
                     constant long* meta [[buffer(3)]],
                     constant int& ndim [[buffer(4)]],
                     constant int& op [[buffer(5)]],
                     constant uint& n [[buffer(6)]],
                     uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    T x = a[meta[3 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    T y = b[meta[3 * ndim + 1] + elem_offset(gid, meta, meta + 2 * ndim, ndim)];
    out[gid] = BinaryOf<T>::apply(op, x, y);
}

// Comparisons and logical ops: bool output.
template <typename T>
kernel void binary_pred_g(device const T* a [[buffer(0)]],
                          device const T* b [[buffer(1)]],
                          device bool* out [[buffer(2)]],
                          constant long* meta [[buffer(3)]],
                          constant int& ndim [[buffer(4)]],
                          constant int& op [[buffer(5)]],
                          constant uint& n [[buffer(6)]],
                          uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    T x = a[meta[3 * ndim] + elem_offset(gid, meta, meta + ndim, ndim)];
    T y = b[meta[3 * ndim + 1] + elem_offset(gid, meta, meta + 2 * ndim, ndim)];
    out[gid] = BinaryOf<T>::pred(op, x, y);
}

// ------------------------------------------------------------------ select

// out[i] = cond[...] ? a[...] : b[...] (meta: shape, cond, a, b strides).
template <typename T>
kernel void select_g(device const bool* cond [[buffer(0)]],
                     device const T* a [[buffer(1)]],
                     device const T* b [[buffer(2)]],
                     device T* out [[buffer(3)]],
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

// ------------------------------------------------------------------ instances
// Host names: <kernel>_<dtype name>, dtype names as mlxc's.

template [[host_name("copy_g_bool_")]] [[kernel]] decltype(copy_g<bool>) copy_g<bool>;
template [[host_name("copy_g_uint8")]] [[kernel]] decltype(copy_g<uchar>) copy_g<uchar>;
template [[host_name("copy_g_uint16")]] [[kernel]] decltype(copy_g<ushort>) copy_g<ushort>;
template [[host_name("copy_g_uint32")]] [[kernel]] decltype(copy_g<uint>) copy_g<uint>;
template [[host_name("copy_g_uint64")]] [[kernel]] decltype(copy_g<ulong>) copy_g<ulong>;
template [[host_name("copy_g_int8")]] [[kernel]] decltype(copy_g<char>) copy_g<char>;
template [[host_name("copy_g_int16")]] [[kernel]] decltype(copy_g<short>) copy_g<short>;
template [[host_name("copy_g_int32")]] [[kernel]] decltype(copy_g<int>) copy_g<int>;
template [[host_name("copy_g_int64")]] [[kernel]] decltype(copy_g<long>) copy_g<long>;
template [[host_name("copy_g_float16")]] [[kernel]] decltype(copy_g<half>) copy_g<half>;
template [[host_name("copy_g_bfloat16")]] [[kernel]] decltype(copy_g<bf16>) copy_g<bf16>;
template [[host_name("copy_g_float32")]] [[kernel]] decltype(copy_g<float>) copy_g<float>;

template [[host_name("unary_g_bool_")]] [[kernel]] decltype(unary_g<bool>) unary_g<bool>;
template [[host_name("unary_g_uint8")]] [[kernel]] decltype(unary_g<uchar>) unary_g<uchar>;
template [[host_name("unary_g_uint16")]] [[kernel]] decltype(unary_g<ushort>) unary_g<ushort>;
template [[host_name("unary_g_uint32")]] [[kernel]] decltype(unary_g<uint>) unary_g<uint>;
template [[host_name("unary_g_uint64")]] [[kernel]] decltype(unary_g<ulong>) unary_g<ulong>;
template [[host_name("unary_g_int8")]] [[kernel]] decltype(unary_g<char>) unary_g<char>;
template [[host_name("unary_g_int16")]] [[kernel]] decltype(unary_g<short>) unary_g<short>;
template [[host_name("unary_g_int32")]] [[kernel]] decltype(unary_g<int>) unary_g<int>;
template [[host_name("unary_g_int64")]] [[kernel]] decltype(unary_g<long>) unary_g<long>;
template [[host_name("unary_g_float16")]] [[kernel]] decltype(unary_g<half>) unary_g<half>;
template [[host_name("unary_g_bfloat16")]] [[kernel]] decltype(unary_g<bf16>) unary_g<bf16>;
template [[host_name("unary_g_float32")]] [[kernel]] decltype(unary_g<float>) unary_g<float>;

template [[host_name("unary_pred_g_bool_")]] [[kernel]] decltype(unary_pred_g<bool>) unary_pred_g<bool>;
template [[host_name("unary_pred_g_uint8")]] [[kernel]] decltype(unary_pred_g<uchar>) unary_pred_g<uchar>;
template [[host_name("unary_pred_g_uint16")]] [[kernel]] decltype(unary_pred_g<ushort>) unary_pred_g<ushort>;
template [[host_name("unary_pred_g_uint32")]] [[kernel]] decltype(unary_pred_g<uint>) unary_pred_g<uint>;
template [[host_name("unary_pred_g_uint64")]] [[kernel]] decltype(unary_pred_g<ulong>) unary_pred_g<ulong>;
template [[host_name("unary_pred_g_int8")]] [[kernel]] decltype(unary_pred_g<char>) unary_pred_g<char>;
template [[host_name("unary_pred_g_int16")]] [[kernel]] decltype(unary_pred_g<short>) unary_pred_g<short>;
template [[host_name("unary_pred_g_int32")]] [[kernel]] decltype(unary_pred_g<int>) unary_pred_g<int>;
template [[host_name("unary_pred_g_int64")]] [[kernel]] decltype(unary_pred_g<long>) unary_pred_g<long>;
template [[host_name("unary_pred_g_float16")]] [[kernel]] decltype(unary_pred_g<half>) unary_pred_g<half>;
template [[host_name("unary_pred_g_bfloat16")]] [[kernel]] decltype(unary_pred_g<bf16>) unary_pred_g<bf16>;
template [[host_name("unary_pred_g_float32")]] [[kernel]] decltype(unary_pred_g<float>) unary_pred_g<float>;

template [[host_name("binary_g_bool_")]] [[kernel]] decltype(binary_g<bool>) binary_g<bool>;
template [[host_name("binary_g_uint8")]] [[kernel]] decltype(binary_g<uchar>) binary_g<uchar>;
template [[host_name("binary_g_uint16")]] [[kernel]] decltype(binary_g<ushort>) binary_g<ushort>;
template [[host_name("binary_g_uint32")]] [[kernel]] decltype(binary_g<uint>) binary_g<uint>;
template [[host_name("binary_g_uint64")]] [[kernel]] decltype(binary_g<ulong>) binary_g<ulong>;
template [[host_name("binary_g_int8")]] [[kernel]] decltype(binary_g<char>) binary_g<char>;
template [[host_name("binary_g_int16")]] [[kernel]] decltype(binary_g<short>) binary_g<short>;
template [[host_name("binary_g_int32")]] [[kernel]] decltype(binary_g<int>) binary_g<int>;
template [[host_name("binary_g_int64")]] [[kernel]] decltype(binary_g<long>) binary_g<long>;
template [[host_name("binary_g_float16")]] [[kernel]] decltype(binary_g<half>) binary_g<half>;
template [[host_name("binary_g_bfloat16")]] [[kernel]] decltype(binary_g<bf16>) binary_g<bf16>;
template [[host_name("binary_g_float32")]] [[kernel]] decltype(binary_g<float>) binary_g<float>;

template [[host_name("binary_pred_g_bool_")]] [[kernel]] decltype(binary_pred_g<bool>) binary_pred_g<bool>;
template [[host_name("binary_pred_g_uint8")]] [[kernel]] decltype(binary_pred_g<uchar>) binary_pred_g<uchar>;
template [[host_name("binary_pred_g_uint16")]] [[kernel]] decltype(binary_pred_g<ushort>) binary_pred_g<ushort>;
template [[host_name("binary_pred_g_uint32")]] [[kernel]] decltype(binary_pred_g<uint>) binary_pred_g<uint>;
template [[host_name("binary_pred_g_uint64")]] [[kernel]] decltype(binary_pred_g<ulong>) binary_pred_g<ulong>;
template [[host_name("binary_pred_g_int8")]] [[kernel]] decltype(binary_pred_g<char>) binary_pred_g<char>;
template [[host_name("binary_pred_g_int16")]] [[kernel]] decltype(binary_pred_g<short>) binary_pred_g<short>;
template [[host_name("binary_pred_g_int32")]] [[kernel]] decltype(binary_pred_g<int>) binary_pred_g<int>;
template [[host_name("binary_pred_g_int64")]] [[kernel]] decltype(binary_pred_g<long>) binary_pred_g<long>;
template [[host_name("binary_pred_g_float16")]] [[kernel]] decltype(binary_pred_g<half>) binary_pred_g<half>;
template [[host_name("binary_pred_g_bfloat16")]] [[kernel]] decltype(binary_pred_g<bf16>) binary_pred_g<bf16>;
template [[host_name("binary_pred_g_float32")]] [[kernel]] decltype(binary_pred_g<float>) binary_pred_g<float>;

template [[host_name("select_g_bool_")]] [[kernel]] decltype(select_g<bool>) select_g<bool>;
template [[host_name("select_g_uint8")]] [[kernel]] decltype(select_g<uchar>) select_g<uchar>;
template [[host_name("select_g_uint16")]] [[kernel]] decltype(select_g<ushort>) select_g<ushort>;
template [[host_name("select_g_uint32")]] [[kernel]] decltype(select_g<uint>) select_g<uint>;
template [[host_name("select_g_uint64")]] [[kernel]] decltype(select_g<ulong>) select_g<ulong>;
template [[host_name("select_g_int8")]] [[kernel]] decltype(select_g<char>) select_g<char>;
template [[host_name("select_g_int16")]] [[kernel]] decltype(select_g<short>) select_g<short>;
template [[host_name("select_g_int32")]] [[kernel]] decltype(select_g<int>) select_g<int>;
template [[host_name("select_g_int64")]] [[kernel]] decltype(select_g<long>) select_g<long>;
template [[host_name("select_g_float16")]] [[kernel]] decltype(select_g<half>) select_g<half>;
template [[host_name("select_g_bfloat16")]] [[kernel]] decltype(select_g<bf16>) select_g<bf16>;
template [[host_name("select_g_float32")]] [[kernel]] decltype(select_g<float>) select_g<float>;
