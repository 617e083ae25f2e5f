// Reductions (sum, prod, max, min, all, any) over the last nred dims of a permuted layout.
//
// One threadgroup per output element (dispatchThreadgroups over the outputs; the group
// size is a multiple of 32, so every simdgroup is full).  Each thread folds a strided
// share of the reduced elements, each simdgroup combines its lanes (simd_sum for float
// sums, a shuffle-down tree otherwise), and the first simdgroup combines the simdgroups'
// partials from threadgroup memory.  `meta`: shape (ndim values, kept dims first), the
// input's strides (ndim values), the input's element offset.  Op codes are enum
// mlxc_reduce_op.  Semantics as the CPU kernels: integer sums/products wrap, max/min
// propagate NaN, all/any give bool, float16/bfloat16 accumulate in float; float sums and
// products associate differently from the CPU's fixed order (tests use a tolerance).
// complex64: sum, prod (the plain product; a tree here, so a tolerance), all, any (either
// part nonzero); its lanes shuffle as two float32s (mlxc_complex.h).
#include "mlxc_complex.h"

enum { R_SUM = 0, R_PROD, R_MAX, R_MIN, R_ALL, R_ANY };

template <typename A, bool F = Kind<A>::is_float> struct Fold;
template <typename A> struct Fold<A, true> {          // float accumulators
    static A identity(int op) {
        return op == R_PROD || op == R_ALL ? A(1) : op == R_MAX ? -INFINITY
             : op == R_MIN ? INFINITY : A(0);
    }
    static A combine(int op, A a, A b) {
        switch (op) {
            case R_SUM: return a + b;
            case R_PROD: return a * b;
            case R_MAX: return (a > b || isnan(a)) ? a : b;
            case R_MIN: return (a < b || isnan(a)) ? a : b;
            case R_ALL: return a != A(0) && b != A(0) ? A(1) : A(0);
            default: return a != A(0) || b != A(0) ? A(1) : A(0);
        }
    }
};
template <typename A> struct Fold<A, false> {         // integers wrap; bool is its own
    static A identity(int op) {
        return op == R_PROD || op == R_ALL ? A(1) : op == R_MAX ? numeric_limits<A>::lowest()
             : op == R_MIN ? numeric_limits<A>::max() : A(0);
    }
    static A combine(int op, A a, A b) {
        typedef typename Wrap<A>::W W;
        switch (op) {
            case R_SUM: return A(W(a) + W(b));
            case R_PROD: return A(W(a) * W(b));
            case R_MAX: return a > b ? a : b;
            case R_MIN: return a < b ? a : b;
            case R_ALL: return a != A(0) && b != A(0) ? A(1) : A(0);
            default: return a != A(0) || b != A(0) ? A(1) : A(0);
        }
    }
};
template <> struct Fold<bool, false> {                 // sum/max = any, prod/min = all
    static bool identity(int op) { return op == R_PROD || op == R_MIN || op == R_ALL; }
    static bool combine(int op, bool a, bool b) {
        return (op == R_PROD || op == R_MIN || op == R_ALL) ? (a && b) : (a || b);
    }
};

template <> struct Fold<c64, false> {                  // sum, prod, all, any
    static c64 identity(int op) {
        return op == R_PROD || op == R_ALL ? cx(1.0f, 0.0f) : cx(0.0f, 0.0f);
    }
    static c64 combine(int op, c64 a, c64 b) {
        switch (op) {
            case R_SUM: return cadd(a, b);
            case R_PROD: return cmul(a, b);
            case R_ALL: return cnonzero(a) && cnonzero(b) ? cx(1.0f, 0.0f) : cx(0.0f, 0.0f);
            default: return cnonzero(a) || cnonzero(b) ? cx(1.0f, 0.0f) : cx(0.0f, 0.0f);
        }
    }
};

// x != 0, as all/any (and a cast to bool) see it
template <typename A> inline bool nonzero(A x) { return x != A(0); }
inline bool nonzero(c64 z) { return cnonzero(z); }

// A simdgroup's combined value (valid in lane 0; every lane of the simdgroup calls it).
template <typename A, bool F = Kind<A>::is_float> struct SimdFold {
    static A run(int op, A v) {
        for (ushort d = 16; d > 0; d >>= 1) {
            v = Fold<A>::combine(op, v, simd_shuffle_down(v, d));
        }
        return v;
    }
};
template <typename A> struct SimdFold<A, true> {
    static A run(int op, A v) {
        if (op == R_SUM) {
            return simd_sum(v);
        }
        for (ushort d = 16; d > 0; d >>= 1) {
            v = Fold<A>::combine(op, v, simd_shuffle_down(v, d));
        }
        return v;
    }
};
template <> struct SimdFold<c64, false> {
    static c64 run(int op, c64 v) {
        if (op == R_SUM) {
            return cx(simd_sum(v.re), simd_sum(v.im));
        }
        for (ushort d = 16; d > 0; d >>= 1) {
            v = Fold<c64>::combine(op, v, simd_shuffle_down(v, d));
        }
        return v;
    }
};

template <typename T>
kernel void reduce_g(device const T* in [[buffer(0)]],
                     device uchar* out [[buffer(1)]],
                     constant long* meta [[buffer(2)]],
                     constant int& ndim [[buffer(3)]],
                     constant int& nred [[buffer(4)]],
                     constant int& op [[buffer(5)]],
                     constant ulong& nreduce [[buffer(6)]],
                     uint group [[threadgroup_position_in_grid]],
                     uint tid [[thread_position_in_threadgroup]],
                     uint tsize [[threads_per_threadgroup]],
                     uint lane [[thread_index_in_simdgroup]],
                     uint sg [[simdgroup_index_in_threadgroup]],
                     uint nsg [[simdgroups_per_threadgroup]]) {
    typedef typename Num<T>::C A;
    threadgroup A partial[32];
    const bool logical = op == R_ALL || op == R_ANY;
    int nk = ndim - nred;
    long base = meta[2 * ndim] + elem_offset(group, meta, meta + ndim, nk);
    A acc = Fold<A>::identity(op);
    for (ulong r = tid; r < nreduce; r += tsize) {
        A x = Num<T>::get(in[base + elem_offset(r, meta + nk, meta + ndim + nk, nred)]);
        if (logical) {                  // 1 or 0: the identities of all and any
            x = nonzero(x) ? Fold<A>::identity(R_ALL) : Fold<A>::identity(R_ANY);
        }
        acc = Fold<A>::combine(op, acc, x);
    }
    acc = SimdFold<A>::run(op, acc);
    if (lane == 0) {
        partial[sg] = acc;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (sg == 0) {
        A v = Fold<A>::identity(op);            // (no ?: of a threadgroup struct)
        if (lane < nsg) {
            v = partial[lane];
        }
        v = SimdFold<A>::run(op, v);
        if (lane == 0) {
            if (logical) {
                reinterpret_cast<device bool*>(out)[group] = nonzero(v);
            } else {
                reinterpret_cast<device T*>(out)[group] = Num<T>::put(v);
            }
        }
    }
}

template [[host_name("reduce_g_bool_")]] [[kernel]] decltype(reduce_g<bool>) reduce_g<bool>;
template [[host_name("reduce_g_uint8")]] [[kernel]] decltype(reduce_g<uchar>) reduce_g<uchar>;
template [[host_name("reduce_g_uint16")]] [[kernel]] decltype(reduce_g<ushort>) reduce_g<ushort>;
template [[host_name("reduce_g_uint32")]] [[kernel]] decltype(reduce_g<uint>) reduce_g<uint>;
template [[host_name("reduce_g_uint64")]] [[kernel]] decltype(reduce_g<ulong>) reduce_g<ulong>;
template [[host_name("reduce_g_int8")]] [[kernel]] decltype(reduce_g<char>) reduce_g<char>;
template [[host_name("reduce_g_int16")]] [[kernel]] decltype(reduce_g<short>) reduce_g<short>;
template [[host_name("reduce_g_int32")]] [[kernel]] decltype(reduce_g<int>) reduce_g<int>;
template [[host_name("reduce_g_int64")]] [[kernel]] decltype(reduce_g<long>) reduce_g<long>;
template [[host_name("reduce_g_float16")]] [[kernel]] decltype(reduce_g<half>) reduce_g<half>;
template [[host_name("reduce_g_bfloat16")]] [[kernel]] decltype(reduce_g<bf16>) reduce_g<bf16>;
template [[host_name("reduce_g_float32")]] [[kernel]] decltype(reduce_g<float>) reduce_g<float>;
template [[host_name("reduce_g_complex64")]] [[kernel]] decltype(reduce_g<c64>) reduce_g<c64>;

// ------------------------------------------------------------------ arg-reductions

// argmax (op 0) / argmin (op 1) along the last dim of the permuted layout: uint32 index
// of the first extreme; NaN counts as the extreme (the first NaN wins).  A candidate is
// (value, index); `better` orders candidates so the combine is associative and
// commutative, hence independent of the order lanes run in.
template <typename A>
inline bool better(int op, A a, uint ia, A b, uint ib) {
    bool na = Kind<A>::is_float && a != a;
    bool nb = Kind<A>::is_float && b != b;
    if (na || nb) {
        return na && (!nb || ia < ib);
    }
    if (a == b) {
        return ia < ib;
    }
    return op == 0 ? a > b : a < b;
}

template <typename T>
kernel void argreduce_g(device const T* in [[buffer(0)]],
                        device uint* out [[buffer(1)]],
                        constant long* meta [[buffer(2)]],
                        constant int& ndim [[buffer(3)]],
                        constant int& op [[buffer(4)]],
                        uint group [[threadgroup_position_in_grid]],
                        uint tid [[thread_position_in_threadgroup]],
                        uint tsize [[threads_per_threadgroup]],
                        uint lane [[thread_index_in_simdgroup]],
                        uint sg [[simdgroup_index_in_threadgroup]],
                        uint nsg [[simdgroups_per_threadgroup]]) {
    typedef typename Num<T>::C A;
    threadgroup A best_value[32];
    threadgroup uint best_index[32];
    int nk = ndim - 1;
    uint len = uint(meta[nk]);
    long stride = meta[ndim + nk];
    long base = meta[2 * ndim] + elem_offset(group, meta, meta + ndim, nk);
    // Threads without an element hold index len, which any real candidate beats.
    A v = A(0);
    uint iv = len;
    for (uint r = tid; r < len; r += tsize) {
        A x = Num<T>::get(in[base + long(r) * stride]);
        if (iv == len || better<A>(op, x, r, v, iv)) {
            v = x;
            iv = r;
        }
    }
    for (ushort d = 16; d > 0; d >>= 1) {
        A w = simd_shuffle_down(v, d);
        uint iw = simd_shuffle_down(iv, d);
        if (iw != len && (iv == len || better<A>(op, w, iw, v, iv))) {
            v = w;
            iv = iw;
        }
    }
    if (lane == 0) {
        best_value[sg] = v;
        best_index[sg] = iv;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (sg == 0) {
        v = lane < nsg ? best_value[lane] : A(0);
        iv = lane < nsg ? best_index[lane] : len;
        for (ushort d = 16; d > 0; d >>= 1) {
            A w = simd_shuffle_down(v, d);
            uint iw = simd_shuffle_down(iv, d);
            if (iw != len && (iv == len || better<A>(op, w, iw, v, iv))) {
                v = w;
                iv = iw;
            }
        }
        if (lane == 0) {
            out[group] = iv == len ? 0u : iv;
        }
    }
}

template [[host_name("argreduce_g_bool_")]] [[kernel]] decltype(argreduce_g<bool>) argreduce_g<bool>;
template [[host_name("argreduce_g_uint8")]] [[kernel]] decltype(argreduce_g<uchar>) argreduce_g<uchar>;
template [[host_name("argreduce_g_uint16")]] [[kernel]] decltype(argreduce_g<ushort>) argreduce_g<ushort>;
template [[host_name("argreduce_g_uint32")]] [[kernel]] decltype(argreduce_g<uint>) argreduce_g<uint>;
template [[host_name("argreduce_g_uint64")]] [[kernel]] decltype(argreduce_g<ulong>) argreduce_g<ulong>;
template [[host_name("argreduce_g_int8")]] [[kernel]] decltype(argreduce_g<char>) argreduce_g<char>;
template [[host_name("argreduce_g_int16")]] [[kernel]] decltype(argreduce_g<short>) argreduce_g<short>;
template [[host_name("argreduce_g_int32")]] [[kernel]] decltype(argreduce_g<int>) argreduce_g<int>;
template [[host_name("argreduce_g_int64")]] [[kernel]] decltype(argreduce_g<long>) argreduce_g<long>;
template [[host_name("argreduce_g_float16")]] [[kernel]] decltype(argreduce_g<half>) argreduce_g<half>;
template [[host_name("argreduce_g_bfloat16")]] [[kernel]] decltype(argreduce_g<bf16>) argreduce_g<bf16>;
template [[host_name("argreduce_g_float32")]] [[kernel]] decltype(argreduce_g<float>) argreduce_g<float>;
