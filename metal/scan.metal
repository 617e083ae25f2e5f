// Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) along the last dim of a permuted
// layout, forward or reverse, inclusive or exclusive.
//
// One threadgroup per row (dispatchThreadgroups over the rows; the group size is a
// multiple of 32).  The row is walked in scan order in chunks of K * tsize elements:
// each thread scans its K consecutive elements serially, the simdgroup scans the
// threads' totals (simd_prefix_exclusive_sum for float sums, a simd_shuffle_up tree for
// the other ops), the first simdgroup scans the simdgroups' totals from threadgroup
// memory, and a carry (every thread holds the same one) moves the running value from
// chunk to chunk.  `meta`: shape (ndim values, the scanned dim last), the input's
// strides, the input's element offset.  Output rows are contiguous, in row-major order
// of the kept dims.  Semantics as the CPU kernels: integer sums/products wrap, bool
// sum/max = or, prod/min = and, half types accumulate in float, max/min keep the first
// NaN (else the first extreme: -0/+0 as the CPU), logcumsumexp adds from the larger
// operand.  Float sums, products and logcumsumexp associate differently from the CPU's
// fixed order (tests use a tolerance).
//
// complex64: cumsum, cumprod (the plain product) and logcumsumexp (from the larger
// operand in the real-then-imaginary order: hi + log(1 + exp(lo - hi)), NaN -> NaN + NaN i)
// run the same parallel scan (tolerance).  cummax/cummin order by real part, then
// imaginary part, and keep the CPU's NaN rule (a running max is kept only while above the
// new value, so a NaN is taken and then replaced), which is not associative: their rows
// run serially in thread 0 of the group, in the CPU's order (bit-identical).
#include "mlxc_complex.h"

enum { S_SUM = 0, S_PROD, S_MAX, S_MIN, S_LAE };
constant constexpr int SCAN_K = 4;           // elements per thread per chunk

// combine(a, b): a is the earlier (in scan order) partial, b the later one.
template <typename A, bool F = Kind<A>::is_float> struct SFold;
template <typename A> struct SFold<A, true> {
    static A identity(int op) {
        return op == S_PROD ? A(1) : op == S_MAX || op == S_LAE ? A(-INFINITY)
             : op == S_MIN ? A(INFINITY) : A(0);
    }
    static A combine(int op, A a, A b) {
        switch (op) {
            case S_SUM: return a + b;
            case S_PROD: return a * b;
            case S_MAX: return isnan(a) ? a : (b > a || isnan(b)) ? b : a;
            case S_MIN: return isnan(a) ? a : (b < a || isnan(b)) ? b : a;
            default: {
                if (isnan(a) || isnan(b)) {
                    return a + b;
                }
                if (a == b) {
                    return a + A(0.6931471805599453f);
                }
                return a > b ? a + log1p_f(exp(b - a)) : b + log1p_f(exp(a - b));
            }
        }
    }
};
template <typename A> struct SFold<A, false> {         // integers wrap
    static A identity(int op) {
        return op == S_PROD ? A(1) : op == S_MAX ? numeric_limits<A>::lowest()
             : op == S_MIN ? numeric_limits<A>::max() : A(0);
    }
    static A combine(int op, A a, A b) {
        typedef typename Wrap<A>::W W;
        switch (op) {
            case S_SUM: return A(W(a) + W(b));
            case S_PROD: return A(W(a) * W(b));
            case S_MAX: return b > a ? b : a;
            default: return b < a ? b : a;
        }
    }
};
template <> struct SFold<bool, false> {                // sum/max = or, prod/min = and
    static bool identity(int op) { return op == S_PROD || op == S_MIN; }
    static bool combine(int op, bool a, bool b) {
        return (op == S_PROD || op == S_MIN) ? (a && b) : (a || b);
    }
};

// complex64 (see above).  `serial`: the op's combine is not associative.
template <> struct SFold<c64, false> {
    static bool serial(int op) { return op == S_MAX || op == S_MIN; }
    static c64 identity(int op) {
        return op == S_PROD ? cx(1.0f, 0.0f) : op == S_MAX ? cx(-INFINITY, -INFINITY)
             : op == S_MIN ? cx(INFINITY, INFINITY) : op == S_LAE ? cx(-INFINITY, 0.0f)
             : cx(0.0f, 0.0f);
    }
    static c64 combine(int op, c64 a, c64 b) {
        switch (op) {
            case S_SUM: return cadd(a, b);
            case S_PROD: return cmul(a, b);
            case S_MAX: return clex_less(b, a) ? a : b;
            case S_MIN: return clex_less(b, a) ? b : a;
            default: {
                if (isnan(a.re) || isnan(a.im) || isnan(b.re) || isnan(b.im)) {
                    return cx(NAN, NAN);
                }
                if (a == b) {
                    return cx(a.re + 0.6931471805599453f, a.im);
                }
                c64 hi = clex_less(b, a) ? a : b, lo = clex_less(b, a) ? b : a;
                c64 e = cexp_(cx(lo.re - hi.re, lo.im - hi.im));
                return cadd(hi, clog_(cx(1.0f + e.re, e.im)));
            }
        }
    }
};
template <typename A> inline bool scan_serial(int op) { return false; }
template <> inline bool scan_serial<c64>(int op) { return SFold<c64>::serial(op); }

// Exclusive scan of v over the simdgroup's lanes (lane 0 gets the identity): a
// simd_shuffle_up (Hillis-Steele) tree, or simd_prefix_exclusive_sum for float sums.
template <typename A>
inline A shuffle_exclusive(int op, A v, uint lane) {
    for (ushort d = 1; d < 32; d <<= 1) {
        A w = simd_shuffle_up(v, d);
        if (lane >= d) {
            v = SFold<A>::combine(op, w, v);
        }
    }
    A e = simd_shuffle_up(v, 1);
    if (lane == 0) {
        e = SFold<A>::identity(op);
    }
    return e;
}
template <typename A, bool F = Kind<A>::is_float> struct SimdScan {
    static A exclusive(int op, A v, uint lane) { return shuffle_exclusive(op, v, lane); }
};
template <typename A> struct SimdScan<A, true> {
    static A exclusive(int op, A v, uint lane) {
        return op == S_SUM ? simd_prefix_exclusive_sum(v) : shuffle_exclusive(op, v, lane);
    }
};

template <typename T>
kernel void scan_g(device const T* in [[buffer(0)]],
                   device T* out [[buffer(1)]],
                   constant long* meta [[buffer(2)]],
                   constant int& ndim [[buffer(3)]],
                   constant int& op [[buffer(4)]],
                   constant int& reverse [[buffer(5)]],
                   constant int& inclusive [[buffer(6)]],
                   uint row [[threadgroup_position_in_grid]],
                   uint tid [[thread_position_in_threadgroup]],
                   uint tsize [[threads_per_threadgroup]],
                   uint lane [[thread_index_in_simdgroup]],
                   uint sg [[simdgroup_index_in_threadgroup]],
                   uint nsg [[simdgroups_per_threadgroup]]) {
    typedef typename Num<T>::C A;
    // sg_total alternates halves between chunks: a chunk's writes then never meet the
    // previous chunk's carry reads (two barriers lie between a half's reuses)
    threadgroup A sg_total[64];
    threadgroup A sg_prefix[32];
    if (scan_serial<A>(op)) {                  // uniform per group: no barrier below runs
        if (tid == 0) {
            int nk = ndim - 1;
            long n = meta[nk], stride = meta[ndim + nk];
            long base = meta[2 * ndim] + elem_offset(row, meta, meta + ndim, nk);
            device T* orow = out + long(row) * n;
            A acc = SFold<A>::identity(op);
            for (long k = 0; k < n; ++k) {
                long i = reverse ? n - 1 - k : k;
                A v = Num<T>::get(in[base + i * stride]);
                if (!inclusive) {
                    orow[i] = Num<T>::put(acc);
                }
                acc = SFold<A>::combine(op, acc, v);
                if (inclusive) {
                    orow[i] = Num<T>::put(acc);
                }
            }
        }
        return;
    }
    int nk = ndim - 1;
    long n = meta[nk];
    long stride = meta[ndim + nk];
    long base = meta[2 * ndim] + elem_offset(row, meta, meta + ndim, nk);
    device T* orow = out + long(row) * n;
    A carry = SFold<A>::identity(op);
    uint side = 0;
    for (long c0 = 0; c0 < n; c0 += long(SCAN_K) * tsize, side ^= 32u) {
        long k0 = c0 + long(tid) * SCAN_K;    // this thread's first scan position
        A loc[SCAN_K];
        A acc = SFold<A>::identity(op);
        for (int j = 0; j < SCAN_K; ++j) {
            long k = k0 + j;
            if (k < n) {
                long i = reverse ? n - 1 - k : k;
                acc = SFold<A>::combine(op, acc, Num<T>::get(in[base + i * stride]));
            }
            loc[j] = acc;
        }
        A before = SimdScan<A>::exclusive(op, acc, lane);
        if (lane == 31) {
            sg_total[side + sg] = SFold<A>::combine(op, before, acc);
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        if (sg == 0) {
            A t = SFold<A>::identity(op);       // (no ?: of a threadgroup struct)
            if (lane < nsg) {
                t = sg_total[side + lane];
            }
            sg_prefix[lane] = SimdScan<A>::exclusive(op, t, lane);
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        A prefix = SFold<A>::combine(op, carry, SFold<A>::combine(op, sg_prefix[sg], before));
        for (int j = 0; j < SCAN_K; ++j) {
            long k = k0 + j;
            if (inclusive) {
                if (k < n) {
                    orow[reverse ? n - 1 - k : k] = Num<T>::put(SFold<A>::combine(op, prefix, loc[j]));
                }
            } else if (k + 1 < n) {
                // the inclusive value at k is the exclusive value at k + 1
                long i = reverse ? n - 2 - k : k + 1;
                orow[i] = Num<T>::put(SFold<A>::combine(op, prefix, loc[j]));
            }
        }
        if (!inclusive && c0 == 0 && tid == 0) {
            orow[reverse ? n - 1 : 0] = Num<T>::put(SFold<A>::identity(op));
        }
        carry = SFold<A>::combine(op, carry, SFold<A>::combine(op, sg_prefix[nsg - 1],
                                                               sg_total[side + nsg - 1]));
    }
}

template [[host_name("scan_g_bool_")]] [[kernel]] decltype(scan_g<bool>) scan_g<bool>;
template [[host_name("scan_g_uint8")]] [[kernel]] decltype(scan_g<uchar>) scan_g<uchar>;
template [[host_name("scan_g_uint16")]] [[kernel]] decltype(scan_g<ushort>) scan_g<ushort>;
template [[host_name("scan_g_uint32")]] [[kernel]] decltype(scan_g<uint>) scan_g<uint>;
template [[host_name("scan_g_uint64")]] [[kernel]] decltype(scan_g<ulong>) scan_g<ulong>;
template [[host_name("scan_g_int8")]] [[kernel]] decltype(scan_g<char>) scan_g<char>;
template [[host_name("scan_g_int16")]] [[kernel]] decltype(scan_g<short>) scan_g<short>;
template [[host_name("scan_g_int32")]] [[kernel]] decltype(scan_g<int>) scan_g<int>;
template [[host_name("scan_g_int64")]] [[kernel]] decltype(scan_g<long>) scan_g<long>;
template [[host_name("scan_g_float16")]] [[kernel]] decltype(scan_g<half>) scan_g<half>;
template [[host_name("scan_g_bfloat16")]] [[kernel]] decltype(scan_g<bf16>) scan_g<bf16>;
template [[host_name("scan_g_float32")]] [[kernel]] decltype(scan_g<float>) scan_g<float>;
template [[host_name("scan_g_complex64")]] [[kernel]] decltype(scan_g<c64>) scan_g<c64>;
