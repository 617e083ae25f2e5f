// mx.fast row kernels: rms_norm, layer_norm (one threadgroup per row) and rope (one thread
// per rotated pair or copied tail element).
//
// Inputs are row-contiguous (the host copies other layouts on the GPU first) and read from
// an element offset; weights and biases are contiguous vectors of the row's length.
// Everything is computed in float32 and rounded once to the storage type, as the CPU
// kernels do; sums associate as a simd_sum tree plus threadgroup partials (the CPU: its
// own fixed vector order), so results match the CPU within a few ulps, not bit for bit.
#include "mlxc_types.h"

// The sum of v over the threadgroup, returned to every thread.  The group is whole
// simdgroups; `partial` holds one value per simdgroup and is free again on return.
inline float group_sum(float v, threadgroup float* partial, uint lane, uint sg, uint nsg) {
    v = simd_sum(v);
    if (lane == 0) {
        partial[sg] = v;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    float t = lane < nsg ? partial[lane] : 0.0f;
    t = simd_sum(t);
    threadgroup_barrier(mem_flags::mem_threadgroup);
    return t;
}

enum { NORM_LAYER = 1, NORM_HAS_W = 2, NORM_HAS_B = 4 };

// y = (x - mean) * rsqrt(var + eps) * w + b (layer) or x * rsqrt(mean(x^2) + eps) * w (rms).
// offs: element offsets of x, w, b in their buffers.  The variance is taken around the
// mean in a second pass over the row (no cancellation), as the CPU does.
template <typename T>
kernel void norm_g(device const T* x [[buffer(0)]],
                   device const T* w [[buffer(1)]],
                   device const T* b [[buffer(2)]],
                   device T* out [[buffer(3)]],
                   constant long* offs [[buffer(4)]],
                   constant uint& n [[buffer(5)]],
                   constant float& eps [[buffer(6)]],
                   constant int& mode [[buffer(7)]],
                   uint row [[threadgroup_position_in_grid]],
                   uint tid [[thread_position_in_threadgroup]],
                   uint tsize [[threads_per_threadgroup]],
                   uint lane [[thread_index_in_simdgroup]],
                   uint sg [[simdgroup_index_in_threadgroup]],
                   uint nsg [[simdgroups_per_threadgroup]]) {
    threadgroup float partial[32];
    device const T* xr = x + offs[0] + long(row) * long(n);
    device T* yr = out + long(row) * long(n);
    float mean = 0.0f;
    float acc = 0.0f;
    if (mode & NORM_LAYER) {
        for (uint i = tid; i < n; i += tsize) {
            acc += Num<T>::get(xr[i]);
        }
        mean = group_sum(acc, partial, lane, sg, nsg) / float(n);
        acc = 0.0f;
    }
    for (uint i = tid; i < n; i += tsize) {
        float d = Num<T>::get(xr[i]) - mean;
        acc = fma(d, d, acc);
    }
    float r = 1.0f / sqrt(group_sum(acc, partial, lane, sg, nsg) / float(n) + eps);
    for (uint i = tid; i < n; i += tsize) {
        float v = (Num<T>::get(xr[i]) - mean) * r;
        if (mode & NORM_HAS_W) {
            v *= Num<T>::get(w[offs[1] + i]);
        }
        if (mode & NORM_HAS_B) {
            v += Num<T>::get(b[offs[2] + i]);
        }
        yr[i] = Num<T>::put(v);
    }
}

template [[host_name("norm_g_float32")]] [[kernel]] decltype(norm_g<float>) norm_g<float>;
template [[host_name("norm_g_float16")]] [[kernel]] decltype(norm_g<half>) norm_g<half>;
template [[host_name("norm_g_bfloat16")]] [[kernel]] decltype(norm_g<bf16>) norm_g<bf16>;

// ------------------------------------------------------------------------------ rope

// Rows of length D (row r at position t = r % T of batch r / (nmid * T)); the first
// 2 * half features are rotated in pairs (j, j + half), or (2j, 2j + 1) when traditional,
// by the angle (offset + t) * scale * inv_freq[j]; the rest are copied.  Thread (k, r):
// k < half rotates pair k, k >= half copies feature 2 * half + (k - half).
// p: T, D, half, nmid, noff, traditional, x's element offset, freqs_given (long); offsets:
// noff int64 values (1 or one per batch); freq: the half inverse frequencies computed by the
// host as the CPU does from base, or (freqs_given) the user's frequencies, inverted here.
template <typename T>
kernel void rope_g(device const T* x [[buffer(0)]],
                   device T* out [[buffer(1)]],
                   device const float* freq [[buffer(2)]],
                   device const long* offsets [[buffer(3)]],
                   constant long* p [[buffer(4)]],
                   constant float& scale [[buffer(5)]],
                   uint2 gid [[thread_position_in_grid]]) {
    long T_ = p[0], D = p[1], half_ = p[2], nmid = p[3], noff = p[4], trad = p[5], x0 = p[6];
    bool invert = p[7] != 0;
    long k = long(gid.x), r = long(gid.y);
    if (k >= half_ + (D - 2 * half_)) {
        return;
    }
    device const T* xr = x + x0 + r * D;
    device T* yr = out + r * D;
    if (k < half_) {
        long t = r % T_, bi = r / (nmid * T_);
        float pos = float(offsets[noff > 1 ? bi : 0] + t) * scale;
        float th = pos * (invert ? 1.0f / freq[k] : freq[k]);
        float c = precise::cos(th), s = precise::sin(th);
        long ia = trad ? 2 * k : k, ib = trad ? 2 * k + 1 : k + half_;
        float a = Num<T>::get(xr[ia]), b = Num<T>::get(xr[ib]);
        yr[ia] = Num<T>::put(a * c - b * s);
        yr[ib] = Num<T>::put(a * s + b * c);
    } else {
        long i = 2 * half_ + (k - half_);
        yr[i] = xr[i];
    }
}

template [[host_name("rope_g_float32")]] [[kernel]] decltype(rope_g<float>) rope_g<float>;
template [[host_name("rope_g_float16")]] [[kernel]] decltype(rope_g<half>) rope_g<half>;
template [[host_name("rope_g_bfloat16")]] [[kernel]] decltype(rope_g<bf16>) rope_g<bf16>;
