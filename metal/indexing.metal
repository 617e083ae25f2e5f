// Indexing and data movement: gathers (take, take_along_axis), the linear index of a
// multi-axis gather (IndexLinear), masked scatter, arange and searchsorted.
// (Scatters are in scatter.metal; concatenate and slice updates reuse copy_g of
// elementwise.metal: they are strided copies.)
//
// Gathers move bits, so they are instantiated per element size (uchar/ushort/uint/ulong)
// and index type (int32 as it comes, anything else widened to int64 by the host, as the
// CPU).  Operands are row-contiguous with an element offset; the block of gathered axes is
// one axis of length L between `outer` and `inner` dims (see prims/index.pxd).  A bad index
// (outside [-L, L)) sets *err and skips its element; the host then reruns the CPU kernel,
// which raises the CPU's exact error (the output is discarded).  complex64 moves as u64;
// searchsorted orders it as the CPU's sort (real part, then imaginary part).
#include "mlxc_complex.h"

inline bool wrap_index(thread long& i, long L) {
    if (i < 0) {
        i += L;
    }
    return i >= 0 && i < L;
}

// out[(o, j, k)] = src[(o, wrap(idx[j]), k)].  p: src offset, idx offset, L, inner, nidx.
template <typename T, typename I>
kernel void gather_g(device const T* src [[buffer(0)]],
                     device const I* idx [[buffer(1)]],
                     device T* out [[buffer(2)]],
                     constant long* p [[buffer(3)]],
                     device atomic_uint* err [[buffer(4)]],
                     constant uint& n [[buffer(5)]],
                     uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    long L = p[2], inner = p[3], nidx = p[4];
    long k = long(gid) % inner, r = long(gid) / inner;
    long j = r % nidx, o = r / nidx;
    long i = long(idx[p[1] + j]);
    if (!wrap_index(i, L)) {
        atomic_store_explicit(err, 1u, memory_order_relaxed);
        return;
    }
    out[gid] = src[p[0] + (o * L + i) * inner + k];
}

// take_along_axis: out[(o, j, k)] = src[(o, wrap(idx[(o, j, k)]), k)]; idx has out's shape.
template <typename T, typename I>
kernel void take_along_g(device const T* src [[buffer(0)]],
                         device const I* idx [[buffer(1)]],
                         device T* out [[buffer(2)]],
                         constant long* p [[buffer(3)]],
                         device atomic_uint* err [[buffer(4)]],
                         constant uint& n [[buffer(5)]],
                         uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    long L = p[2], inner = p[3], nidx = p[4];
    long k = long(gid) % inner, o = (long(gid) / inner) / nidx;
    long i = long(idx[p[1] + gid]);
    if (!wrap_index(i, L)) {
        atomic_store_explicit(err, 1u, memory_order_relaxed);
        return;
    }
    out[gid] = src[p[0] + (o * L + i) * inner + k];
}

// One block axis of IndexLinear: out (int64) = or += (its index) * stride.  The index is
// t[gid] (an int64 index array broadcast to out's shape by the host) for an array axis, or
// start + step * c for a range axis, c being the coordinate of out's dim `pos` (ln long,
// post elements after it).  p: kind (0 array, 1 range), size, stride, start, step, post,
// ln, first (1: store instead of add).
kernel void index_linear_g(device const long* t [[buffer(0)]],
                           device long* out [[buffer(1)]],
                           constant long* p [[buffer(2)]],
                           device atomic_uint* err [[buffer(3)]],
                           constant uint& n [[buffer(4)]],
                           uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    long v;
    if (p[0] == 0) {
        v = t[gid];
        if (!wrap_index(v, p[1])) {
            atomic_store_explicit(err, 1u, memory_order_relaxed);
            return;
        }
    } else {
        long c = (long(gid) / p[5]) % p[6];
        v = p[3] + p[4] * c;
    }
    long add = v * p[2];
    out[gid] = p[7] != 0 ? add : out[gid] + add;
}

// ------------------------------------------------------------------ masked scatter
// One threadgroup (a multiple of 32 threads) per batch row of n elements: the k-th set mask
// entry of the row takes src[row, k].  The row is walked in chunks of the group's size; a
// chunk's ranks are each thread's simdgroup prefix plus the totals of the simdgroups
// before it (threadgroup memory) plus the carry of the earlier chunks.  More set entries
// than src_n sets *err (the host reruns the CPU kernel for its error).
// p: n, src_n, mask offset, src offset.
template <typename T>
kernel void masked_scatter_g(device T* dst [[buffer(0)]],
                             device const bool* mask [[buffer(1)]],
                             device const T* src [[buffer(2)]],
                             constant long* p [[buffer(3)]],
                             device atomic_uint* err [[buffer(4)]],
                             uint row [[threadgroup_position_in_grid]],
                             uint tid [[thread_position_in_threadgroup]],
                             uint tsize [[threads_per_threadgroup]],
                             uint lane [[thread_index_in_simdgroup]],
                             uint sg [[simdgroup_index_in_threadgroup]],
                             uint nsg [[simdgroups_per_threadgroup]]) {
    threadgroup uint totals[32];
    long n = p[0], src_n = p[1];
    long carry = 0;
    for (long base = 0; base < n; base += long(tsize)) {
        long i = base + long(tid);
        uint m = (i < n && mask[p[2] + long(row) * n + i]) ? 1u : 0u;
        uint before = simd_prefix_exclusive_sum(m);
        uint total = simd_sum(m);
        if (lane == 0) {
            totals[sg] = total;
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        long earlier = 0, chunk = 0;
        for (uint s = 0; s < nsg; ++s) {
            uint v = totals[s];
            earlier += s < sg ? long(v) : 0;
            chunk += long(v);
        }
        if (m != 0u) {
            long rank = carry + earlier + long(before);
            if (rank < src_n) {
                dst[long(row) * n + i] = src[p[3] + long(row) * src_n + rank];
            } else {
                atomic_store_explicit(err, 1u, memory_order_relaxed);
            }
        }
        carry += chunk;
        threadgroup_barrier(mem_flags::mem_threadgroup);   // totals is rewritten next chunk
    }
}

// ------------------------------------------------------------------ arange
// out[i] = start + i * step.  exact != 0: start and step are integers (the common case),
// computed in int64 exactly as the CPU's double arithmetic (|values| < 2**53); otherwise in
// float32 (Metal has no double: within a few ulps of the CPU's double result).
template <typename T> inline T from_long(long v) { return T(v); }
template <> inline bf16 from_long<bf16>(long v) { return Num<bf16>::put(float(v)); }
template <> inline half from_long<half>(long v) { return half(float(v)); }
template <> inline bool from_long<bool>(long v) { return v != 0; }
template <typename T> inline T from_float(float v) { return T(v); }
template <> inline bf16 from_float<bf16>(float v) { return Num<bf16>::put(v); }
template <> inline bool from_float<bool>(float v) { return v != 0.0f; }

template <typename T>
kernel void arange_g(device T* out [[buffer(0)]],
                     constant long* pi [[buffer(1)]],
                     constant float* pf [[buffer(2)]],
                     constant int& exact [[buffer(3)]],
                     constant uint& n [[buffer(4)]],
                     uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    if (exact != 0) {
        out[gid] = from_long<T>(pi[0] + long(gid) * pi[1]);
    } else {
        out[gid] = from_float<T>(pf[0] + float(gid) * pf[1]);
    }
}

// ------------------------------------------------------------------ searchsorted
// out[v] = the first position in the sorted seq (nseq long) where values[v] could go: left,
// the first element not below it; right, the first element above it.  The order is the
// CPU sort's: NaN above every number and equal to any NaN, -0 == +0.
template <typename T, bool F = Kind<T>::is_float> struct Order {
    static bool below(T a, T b) { return a < b; }
};
template <typename T> struct Order<T, true> {
    static bool below(T a, T b) {
        float x = float(Num<T>::get(a)), y = float(Num<T>::get(b));
        return (!isnan(x) && isnan(y)) || x < y;
    }
};

template <> struct Order<c64, false> {
    static bool below(c64 a, c64 b) { return csort_order(a, b) < 0; }
};

template <typename T>
kernel void searchsorted_g(device const T* seq [[buffer(0)]],
                           device const T* values [[buffer(1)]],
                           device uint* out [[buffer(2)]],
                           constant long* p [[buffer(3)]],      // seq offset, values offset, nseq
                           constant int& right [[buffer(4)]],
                           constant uint& n [[buffer(5)]],
                           uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    T v = values[p[1] + gid];
    ulong lo = 0, hi = ulong(p[2]);
    while (lo < hi) {
        ulong mid = lo + (hi - lo) / 2;
        T s = seq[p[0] + long(mid)];
        bool after = right != 0 ? !Order<T>::below(v, s) : Order<T>::below(s, v);
        if (after) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    out[gid] = uint(lo);
}

// ------------------------------------------------------------------ instances
// Gathers and masked scatter: by element size (u8, u16, u32, u64) and index type (i32, i64).
#define GATHER(k, T, I, s, is) \
    template [[host_name(#k "_" #s "_" #is)]] [[kernel]] decltype(k<T, I>) k<T, I>;
GATHER(gather_g, uchar, int, u8, i32)
GATHER(gather_g, uchar, long, u8, i64)
GATHER(gather_g, ushort, int, u16, i32)
GATHER(gather_g, ushort, long, u16, i64)
GATHER(gather_g, uint, int, u32, i32)
GATHER(gather_g, uint, long, u32, i64)
GATHER(gather_g, ulong, int, u64, i32)
GATHER(gather_g, ulong, long, u64, i64)
GATHER(take_along_g, uchar, int, u8, i32)
GATHER(take_along_g, uchar, long, u8, i64)
GATHER(take_along_g, ushort, int, u16, i32)
GATHER(take_along_g, ushort, long, u16, i64)
GATHER(take_along_g, uint, int, u32, i32)
GATHER(take_along_g, uint, long, u32, i64)
GATHER(take_along_g, ulong, int, u64, i32)
GATHER(take_along_g, ulong, long, u64, i64)

template [[host_name("masked_scatter_g_u8")]] [[kernel]] decltype(masked_scatter_g<uchar>) masked_scatter_g<uchar>;
template [[host_name("masked_scatter_g_u16")]] [[kernel]] decltype(masked_scatter_g<ushort>) masked_scatter_g<ushort>;
template [[host_name("masked_scatter_g_u32")]] [[kernel]] decltype(masked_scatter_g<uint>) masked_scatter_g<uint>;
template [[host_name("masked_scatter_g_u64")]] [[kernel]] decltype(masked_scatter_g<ulong>) masked_scatter_g<ulong>;

// Arange and searchsorted: by dtype (mlxc's names).
#define BY_DTYPE(k, T, name) \
    template [[host_name(#k "_" #name)]] [[kernel]] decltype(k<T>) k<T>;
#define ALL_DTYPES(k) \
    BY_DTYPE(k, bool, bool_) BY_DTYPE(k, uchar, uint8) BY_DTYPE(k, ushort, uint16) \
    BY_DTYPE(k, uint, uint32) BY_DTYPE(k, ulong, uint64) BY_DTYPE(k, char, int8) \
    BY_DTYPE(k, short, int16) BY_DTYPE(k, int, int32) BY_DTYPE(k, long, int64) \
    BY_DTYPE(k, half, float16) BY_DTYPE(k, bf16, bfloat16) BY_DTYPE(k, float, float32)
ALL_DTYPES(arange_g)
ALL_DTYPES(searchsorted_g)
BY_DTYPE(searchsorted_g, c64, complex64)
