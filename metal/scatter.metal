// Scatters: out[(o, idx, k)] op= upd[(o, j, k)] for op in assign, add, prod, max, min
// (mode codes: enum mlxc_scatter_mode), plain (idx[j]) or along an axis (idx[(o, j, k)],
// idx of upd's shape).  out is the destination's copy, row-major from its buffer's start;
// upd and idx (int64) are row-contiguous with element offsets.
//
// Semantics as the CPU kernels: integers wrap, float16/bfloat16 combine in float and round
// per update, max/min propagate NaN, bool add/max are or and prod/min are and.  Where
// indices collide the updates of one element are applied atomically, in an order the
// hardware picks:
//   - 8/16/32-bit types: a compare-and-swap loop on the aligned 32-bit word holding the
//     element (sub-word elements keep their neighbours' bytes); int32/uint32 add uses
//     atomic_fetch_add.  Integer and bool results are exact; float sums and products of
//     colliding updates round in the hardware's order, not the CPU's index order.
//   - 64-bit types (Metal has no 64-bit atomic add/CAS), complex64 among them (add, the
//     plain product, max/min by real part then imaginary part): one thread per (o, k)
//     column walks the updates in index order, so results equal the CPU's bit for bit.
//   - assign: plain stores; with duplicate indices one of the updates wins (which one is
//     unspecified, as in MLX).
// A bad index (outside [-L, L)) sets *err and is skipped; the host then reruns the CPU
// kernel, which raises the CPU's exact error.
#include "mlxc_complex.h"

enum { S_ASSIGN = 0, S_ADD, S_PROD, S_MAX, S_MIN };

// Storage <-> raw bits (low bits of a uint).
template <int N> struct RawOf;
template <> struct RawOf<1> { typedef uchar U; };
template <> struct RawOf<2> { typedef ushort U; };
template <> struct RawOf<4> { typedef uint U; };
template <typename T> struct Raw { typedef typename RawOf<int(sizeof(T))>::U U; };
template <typename T> struct Bits {
    static uint to(T x) { return uint(as_type<typename Raw<T>::U>(x)); }
    static T from(uint b) { return as_type<T>(typename Raw<T>::U(b)); }
};
template <> struct Bits<bf16> {
    static uint to(bf16 x) { return uint(x.bits); }
    static bf16 from(uint b) { bf16 r; r.bits = ushort(b); return r; }
};
template <> struct Bits<bool> {
    static uint to(bool x) { return x ? 1u : 0u; }
    static bool from(uint b) { return b != 0u; }
};

// a op b in the compute type, as the CPU's scatter kernels.
template <typename T, bool F = Kind<T>::is_float> struct Combine;
template <typename T> struct Combine<T, true> {
    static T apply(T a_, T b_, int mode) {
        float a = float(Num<T>::get(a_)), b = float(Num<T>::get(b_)), r;
        switch (mode) {
            case S_ADD: r = a + b; break;
            case S_PROD: r = a * b; break;
            case S_MAX: r = (b > a || isnan(b)) ? b : a; break;
            case S_MIN: r = (b < a || isnan(b)) ? b : a; break;
            default: r = b; break;
        }
        return Num<T>::put(typename Num<T>::C(r));
    }
};
template <typename T> struct Combine<T, false> {           // integers: wrap in 64 bits
    static T apply(T a, T b, int mode) {
        switch (mode) {
            case S_ADD: return T(ulong(a) + ulong(b));
            case S_PROD: return T(ulong(a) * ulong(b));
            case S_MAX: return b > a ? b : a;
            case S_MIN: return b < a ? b : a;
            default: return b;
        }
    }
};
template <> struct Combine<bool, false> {
    static bool apply(bool a, bool b, int mode) {
        return (mode == S_ADD || mode == S_MAX) ? (a || b) : (a && b);
    }
};

template <> struct Combine<c64, false> {
    static c64 apply(c64 a, c64 b, int mode) {
        switch (mode) {
            case S_ADD: return cadd(a, b);
            case S_PROD: return cmul(a, b);
            case S_MAX: return clex_less(a, b) ? b : a;
            case S_MIN: return clex_less(b, a) ? b : a;
            default: return b;
        }
    }
};

// A single-instruction atomic for the mode where Metal has one (int32/uint32 add).
template <typename T> inline bool atomic_direct(device atomic_uint*, T, int) { return false; }
template <> inline bool atomic_direct<int>(device atomic_uint* w, int u, int mode) {
    if (mode != S_ADD) {
        return false;
    }
    atomic_fetch_add_explicit(w, uint(u), memory_order_relaxed);
    return true;
}
template <> inline bool atomic_direct<uint>(device atomic_uint* w, uint u, int mode) {
    if (mode != S_ADD) {
        return false;
    }
    atomic_fetch_add_explicit(w, u, memory_order_relaxed);
    return true;
}

// Element e of a T array laid over `words` from its start: e op= u, atomically.
template <typename T>
inline void atomic_combine(device atomic_uint* words, ulong e, T u, int mode) {
    const uint size = uint(sizeof(T));
    ulong byte = e * size;
    device atomic_uint* w = words + (byte >> 2);
    uint shift = uint(byte & 3ul) * 8u;
    uint mask = (0xffffffffu >> (32u - 8u * size)) << shift;
    if (atomic_direct<T>(w, u, mode)) {
        return;
    }
    uint old = atomic_load_explicit(w, memory_order_relaxed);
    while (true) {
        T cur = Bits<T>::from((old & mask) >> shift);
        uint next = (old & ~mask) | ((Bits<T>::to(Combine<T>::apply(cur, u, mode)) << shift) & mask);
        if (next == old) {
            return;                          // nothing changes (max/min that lost, ...)
        }
        if (atomic_compare_exchange_weak_explicit(w, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return;
        }
    }
}

// p: upd offset, idx offset, L, inner, nidx, along.  One thread per update element.
inline bool scatter_target(constant long* p, device const long* idx, uint gid, thread ulong& e) {
    long L = p[2], inner = p[3], nidx = p[4];
    long k = long(gid) % inner, r = long(gid) / inner;
    long j = r % nidx, o = r / nidx;
    long i = idx[p[1] + (p[5] != 0 ? long(gid) : j)];
    if (i < 0) {
        i += L;
    }
    if (i < 0 || i >= L) {
        return false;
    }
    e = ulong((o * L + i) * inner + k);
    return true;
}

template <typename T>
kernel void scatter_g(device atomic_uint* out [[buffer(0)]],
                      device const T* upd [[buffer(1)]],
                      device const long* idx [[buffer(2)]],
                      constant long* p [[buffer(3)]],
                      constant int& mode [[buffer(4)]],
                      device atomic_uint* err [[buffer(5)]],
                      constant uint& n [[buffer(6)]],
                      uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    ulong e;
    if (!scatter_target(p, idx, gid, e)) {
        atomic_store_explicit(err, 1u, memory_order_relaxed);
        return;
    }
    atomic_combine<T>(out, e, upd[p[0] + gid], mode);
}

// assign: plain stores of raw elements.
template <typename T>
kernel void scatter_assign_g(device T* out [[buffer(0)]],
                             device const T* upd [[buffer(1)]],
                             device const long* idx [[buffer(2)]],
                             constant long* p [[buffer(3)]],
                             device atomic_uint* err [[buffer(5)]],
                             constant uint& n [[buffer(6)]],
                             uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    ulong e;
    if (!scatter_target(p, idx, gid, e)) {
        atomic_store_explicit(err, 1u, memory_order_relaxed);
        return;
    }
    out[e] = upd[p[0] + gid];
}

// 64-bit combining modes: one thread per (o, k) column (n = outer * inner) applies that
// column's updates in index order j = 0 .. nidx - 1 (columns never share an element).
template <typename T>
kernel void scatter_column_g(device T* out [[buffer(0)]],
                             device const T* upd [[buffer(1)]],
                             device const long* idx [[buffer(2)]],
                             constant long* p [[buffer(3)]],
                             constant int& mode [[buffer(4)]],
                             device atomic_uint* err [[buffer(5)]],
                             constant uint& n [[buffer(6)]],
                             uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    long L = p[2], inner = p[3], nidx = p[4];
    long o = long(gid) / inner, k = long(gid) % inner;
    for (long j = 0; j < nidx; ++j) {
        long u = (o * nidx + j) * inner + k;
        long i = idx[p[1] + (p[5] != 0 ? u : j)];
        if (i < 0) {
            i += L;
        }
        if (i < 0 || i >= L) {
            atomic_store_explicit(err, 1u, memory_order_relaxed);
            continue;
        }
        long at = (o * L + i) * inner + k;
        out[at] = Combine<T>::apply(out[at], upd[p[0] + u], mode);
    }
}

#define SCATTER(T, name) \
    template [[host_name("scatter_g_" #name)]] [[kernel]] decltype(scatter_g<T>) scatter_g<T>;
SCATTER(bool, bool_)
SCATTER(uchar, uint8)
SCATTER(ushort, uint16)
SCATTER(uint, uint32)
SCATTER(char, int8)
SCATTER(short, int16)
SCATTER(int, int32)
SCATTER(half, float16)
SCATTER(bf16, bfloat16)
SCATTER(float, float32)
template [[host_name("scatter_column_g_uint64")]] [[kernel]] decltype(scatter_column_g<ulong>) scatter_column_g<ulong>;
template [[host_name("scatter_column_g_int64")]] [[kernel]] decltype(scatter_column_g<long>) scatter_column_g<long>;
template [[host_name("scatter_column_g_complex64")]] [[kernel]] decltype(scatter_column_g<c64>) scatter_column_g<c64>;
template [[host_name("scatter_assign_g_u8")]] [[kernel]] decltype(scatter_assign_g<uchar>) scatter_assign_g<uchar>;
template [[host_name("scatter_assign_g_u16")]] [[kernel]] decltype(scatter_assign_g<ushort>) scatter_assign_g<ushort>;
template [[host_name("scatter_assign_g_u32")]] [[kernel]] decltype(scatter_assign_g<uint>) scatter_assign_g<uint>;
template [[host_name("scatter_assign_g_u64")]] [[kernel]] decltype(scatter_assign_g<ulong>) scatter_assign_g<ulong>;
