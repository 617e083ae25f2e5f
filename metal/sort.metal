// Stable ascending sort (NaN last) of rows along the last dim of a permuted layout:
// values and argsort indices.
//
// Elements are sorted as (value, index in the row) pairs under a total order: NaN
// above every number, equal values (also -0 and +0, and any two NaNs) by index.  With
// the index as tie-break every pair is distinct, so any correct sort gives exactly the
// stable order the CPU gives, and the values move with their bits (NaN payloads, -0).
//
// sort_block_g: one threadgroup per block of `blk` (a power of two, 2 elements per
// thread) consecutive row elements: a bitonic sort in threadgroup memory, padding
// pairs (index PAD) above everything.  sort_merge_g: one thread per element merges
// sorted runs of `width` pairwise: an element's place in the merged run is its place in
// its own run plus the number of the partner run's pairs below it (a binary search).
//
// complex64 sorts lexicographically, as the CPU (a stable argsort by the imaginary part,
// then by the real part): by real part, then imaginary part, each in the float order
// above (NaN last, NaNs equal, -0 == +0), then by index.
#include "mlxc_complex.h"

constant constexpr uint PAD = 0xFFFFFFFFu;     // index of a padding pair

// (a, ia) < (b, ib) in the total order.
template <typename T>
inline bool pair_less(T a, uint ia, T b, uint ib) {
    if (ia == PAD || ib == PAD) {
        return ia != PAD && ib == PAD;
    }
    typedef typename Num<T>::C A;
    A x = Num<T>::get(a);
    A y = Num<T>::get(b);
    bool nx = Kind<A>::is_float && x != x;
    bool ny = Kind<A>::is_float && y != y;
    if (nx || ny) {
        return ny && (!nx || ia < ib);
    }
    return x < y || (x == y && ia < ib);
}

inline bool pair_less(c64 a, uint ia, c64 b, uint ib) {
    if (ia == PAD || ib == PAD) {
        return ia != PAD && ib == PAD;
    }
    int c = csort_order(a, b);
    return c < 0 || (c == 0 && ia < ib);
}

template <typename T>
kernel void sort_block_g(device const T* in [[buffer(0)]],
                         device T* out_vals [[buffer(1)]],
                         device uint* out_idx [[buffer(2)]],
                         constant long* meta [[buffer(3)]],
                         constant int& ndim [[buffer(4)]],
                         constant uint& nblocks [[buffer(5)]],
                         threadgroup T* keys [[threadgroup(0)]],
                         threadgroup uint* idx [[threadgroup(1)]],
                         uint group [[threadgroup_position_in_grid]],
                         uint tid [[thread_position_in_threadgroup]],
                         uint tsize [[threads_per_threadgroup]]) {
    int nk = ndim - 1;
    uint n = uint(meta[nk]);
    long stride = meta[ndim + nk];
    uint row = group / nblocks;
    uint blk = 2 * tsize;
    uint first = (group % nblocks) * blk;       // the block's first position in the row
    long base = meta[2 * ndim] + elem_offset(row, meta, meta + ndim, nk);
    for (uint h = 0; h < 2; ++h) {
        uint p = tid + h * tsize;
        uint r = first + p;
        if (r < n) {
            keys[p] = in[base + long(r) * stride];
            idx[p] = r;
        } else {
            keys[p] = in[base];                 // any value: PAD sorts above it
            idx[p] = PAD;
        }
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    for (uint k = 2; k <= blk; k <<= 1) {
        for (uint j = k >> 1; j > 0; j >>= 1) {
            uint lo = ((tid & ~(j - 1)) << 1) | (tid & (j - 1));
            uint hi = lo + j;
            bool up = (lo & k) == 0;            // this pair's run sorts ascending
            T a = keys[lo];
            T b = keys[hi];
            uint ia = idx[lo];
            uint ib = idx[hi];
            if (pair_less(b, ib, a, ia) == up) {
                keys[lo] = b;
                keys[hi] = a;
                idx[lo] = ib;
                idx[hi] = ia;
            }
            threadgroup_barrier(mem_flags::mem_threadgroup);
        }
    }
    for (uint h = 0; h < 2; ++h) {
        uint p = tid + h * tsize;
        if (first + p < n) {
            ulong o = ulong(row) * n + first + p;
            out_vals[o] = keys[p];
            out_idx[o] = idx[p];
        }
    }
}

template <typename T>
kernel void sort_merge_g(device const T* vals [[buffer(0)]],
                         device const uint* idx [[buffer(1)]],
                         device T* out_vals [[buffer(2)]],
                         device uint* out_idx [[buffer(3)]],
                         constant uint& n [[buffer(4)]],
                         constant uint& width [[buffer(5)]],
                         constant uint& total [[buffer(6)]],
                         uint gid [[thread_position_in_grid]]) {
    if (gid >= total) {
        return;
    }
    uint row = gid / n;
    uint p = gid % n;
    ulong base = ulong(row) * n;
    uint run = p / width;
    uint start = run * width;
    uint pstart = (run ^ 1u) * width;           // the partner run
    uint dest = p;
    if (pstart < n) {
        uint plen = min(width, n - pstart);
        T v = vals[base + p];
        uint iv = idx[base + p];
        uint lo = 0, hi = plen;                 // count partner pairs below (v, iv)
        while (lo < hi) {
            uint mid = (lo + hi) >> 1;
            if (pair_less(vals[base + pstart + mid], idx[base + pstart + mid], v, iv)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        dest = min(start, pstart) + (p - start) + lo;
    }
    out_vals[base + dest] = vals[base + p];
    out_idx[base + dest] = idx[base + p];
}

template [[host_name("sort_block_g_bool_")]] [[kernel]] decltype(sort_block_g<bool>) sort_block_g<bool>;
template [[host_name("sort_block_g_uint8")]] [[kernel]] decltype(sort_block_g<uchar>) sort_block_g<uchar>;
template [[host_name("sort_block_g_uint16")]] [[kernel]] decltype(sort_block_g<ushort>) sort_block_g<ushort>;
template [[host_name("sort_block_g_uint32")]] [[kernel]] decltype(sort_block_g<uint>) sort_block_g<uint>;
template [[host_name("sort_block_g_uint64")]] [[kernel]] decltype(sort_block_g<ulong>) sort_block_g<ulong>;
template [[host_name("sort_block_g_int8")]] [[kernel]] decltype(sort_block_g<char>) sort_block_g<char>;
template [[host_name("sort_block_g_int16")]] [[kernel]] decltype(sort_block_g<short>) sort_block_g<short>;
template [[host_name("sort_block_g_int32")]] [[kernel]] decltype(sort_block_g<int>) sort_block_g<int>;
template [[host_name("sort_block_g_int64")]] [[kernel]] decltype(sort_block_g<long>) sort_block_g<long>;
template [[host_name("sort_block_g_float16")]] [[kernel]] decltype(sort_block_g<half>) sort_block_g<half>;
template [[host_name("sort_block_g_bfloat16")]] [[kernel]] decltype(sort_block_g<bf16>) sort_block_g<bf16>;
template [[host_name("sort_block_g_float32")]] [[kernel]] decltype(sort_block_g<float>) sort_block_g<float>;
template [[host_name("sort_block_g_complex64")]] [[kernel]] decltype(sort_block_g<c64>) sort_block_g<c64>;

template [[host_name("sort_merge_g_bool_")]] [[kernel]] decltype(sort_merge_g<bool>) sort_merge_g<bool>;
template [[host_name("sort_merge_g_uint8")]] [[kernel]] decltype(sort_merge_g<uchar>) sort_merge_g<uchar>;
template [[host_name("sort_merge_g_uint16")]] [[kernel]] decltype(sort_merge_g<ushort>) sort_merge_g<ushort>;
template [[host_name("sort_merge_g_uint32")]] [[kernel]] decltype(sort_merge_g<uint>) sort_merge_g<uint>;
template [[host_name("sort_merge_g_uint64")]] [[kernel]] decltype(sort_merge_g<ulong>) sort_merge_g<ulong>;
template [[host_name("sort_merge_g_int8")]] [[kernel]] decltype(sort_merge_g<char>) sort_merge_g<char>;
template [[host_name("sort_merge_g_int16")]] [[kernel]] decltype(sort_merge_g<short>) sort_merge_g<short>;
template [[host_name("sort_merge_g_int32")]] [[kernel]] decltype(sort_merge_g<int>) sort_merge_g<int>;
template [[host_name("sort_merge_g_int64")]] [[kernel]] decltype(sort_merge_g<long>) sort_merge_g<long>;
template [[host_name("sort_merge_g_float16")]] [[kernel]] decltype(sort_merge_g<half>) sort_merge_g<half>;
template [[host_name("sort_merge_g_bfloat16")]] [[kernel]] decltype(sort_merge_g<bf16>) sort_merge_g<bf16>;
template [[host_name("sort_merge_g_float32")]] [[kernel]] decltype(sort_merge_g<float>) sort_merge_g<float>;
template [[host_name("sort_merge_g_complex64")]] [[kernel]] decltype(sort_merge_g<c64>) sort_merge_g<c64>;
