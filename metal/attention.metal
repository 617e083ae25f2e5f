// mx.fast.scaled_dot_product_attention: flash attention with an online softmax.
//
// One threadgroup per (batch, query head, block of nsg queries); simdgroup s of the group
// owns query row q0 + s.  Keys are streamed in blocks of 32, one key per lane: lane j
// scores key k0 + j against the scaled query (held in threadgroup memory), the block's
// maximum updates the row's running maximum m, the lane's probability exp(s - m) goes to
// threadgroup memory, and every lane folds the block's probabilities into the output
// columns it owns (c = lane, lane + 32, ...), rescaled when m grows.  Each lane keeps its
// own share of the running sum; the shares are added once at the end.  Nothing of size
// Lq x Lk exists; everything accumulates in float32.
//
// Semantics as the CPU kernel (kernels/fast_impl.h): scores of masked keys are -FLT_MAX
// (a row that sees no key averages every key), an additive mask is added to the scaled
// scores, a sink starts the row at m = sink with sum 1, no keys and no sink gives zeros.
// Causal rows skip the keys past their diagonal (their weight would be exactly 0).
//
// q, k, v are read through 4-d element strides (b, h, l, d), so transposed or broadcast
// inputs need no copy; the mask (bool or float32) likewise, with stride 0 on broadcast dims.
#include "mlxc_types.h"

enum { MASK_NONE = 0, MASK_CAUSAL, MASK_ADD, MASK_BOOL };

// meta (long): q strides[4], k strides[4], v strides[4], mask strides[4],
//              q, k, v, mask element offsets
// dims (int):  B, Hq, Hk, Lq, Lk, D, Dv, mask_kind, has_sinks, nqb (query blocks), row
//              stride of the threadgroup memory (floats per simdgroup)
template <typename T>
kernel void sdpa_g(device const T* q [[buffer(0)]],
                   device const T* k [[buffer(1)]],
                   device const T* v [[buffer(2)]],
                   device const uchar* mask [[buffer(3)]],
                   device const float* sinks [[buffer(4)]],
                   device T* out [[buffer(5)]],
                   constant long* meta [[buffer(6)]],
                   constant int* dims [[buffer(7)]],
                   constant float& scale [[buffer(8)]],
                   threadgroup float* smem [[threadgroup(0)]],
                   uint group [[threadgroup_position_in_grid]],
                   uint lane [[thread_index_in_simdgroup]],
                   uint sg [[simdgroup_index_in_threadgroup]],
                   uint nsg [[simdgroups_per_threadgroup]]) {
    const int Hq = dims[1], Hk = dims[2], Lq = dims[3], Lk = dims[4], D = dims[5],
              Dv = dims[6], mask_kind = dims[7], has_sinks = dims[8], nqb = dims[9];
    constant long* qs = meta;
    constant long* ks = meta + 4;
    constant long* vs = meta + 8;
    constant long* ms = meta + 12;
    const int qb = int(group) % nqb, bh = int(group) / nqb;
    const int h = bh % Hq, b = bh / Hq, hk = h / (Hq / Hk);
    const int qi = qb * int(nsg) + int(sg);
    const bool active = qi < Lq;                       // uniform per simdgroup
    threadgroup float* Qs = smem + sg * uint(dims[10]);
    threadgroup float* Os = Qs + D;
    threadgroup float* Ps = Os + Dv;

    long qbase = meta[16] + b * qs[0] + h * qs[1] + long(active ? qi : 0) * qs[2];
    for (int d = int(lane); d < D; d += 32) {
        Qs[d] = active ? Num<T>::get(q[qbase + d * qs[3]]) * scale : 0.0f;
    }
    for (int c = int(lane); c < Dv; c += 32) {
        Os[c] = 0.0f;
    }
    simdgroup_barrier(mem_flags::mem_threadgroup);
    if (!active) {
        return;
    }

    long kbase = meta[17] + b * ks[0] + hk * ks[1];
    long vbase = meta[18] + b * vs[0] + hk * vs[1];
    long mbase = meta[19] + b * ms[0] + h * ms[1] + qi * ms[2];
    const int coff = Lk - Lq;                           // causal: key j sees query j - coff
    int kend = Lk;
    if (mask_kind == MASK_CAUSAL && qi + coff >= 0) {
        kend = min(Lk, qi + coff + 1);
    }
    float m = has_sinks ? sinks[h] : -INFINITY;
    float l = (has_sinks && lane == 0) ? 1.0f : 0.0f;   // this lane's share of the sum
    for (int k0 = 0; k0 < kend; k0 += 32) {
        const int j = k0 + int(lane);
        const bool live = j < kend;
        float s = -INFINITY;
        if (live) {
            device const T* kr = k + kbase + long(j) * ks[2];
            s = 0.0f;
            for (int d = 0; d < D; ++d) {
                s = fma(Qs[d], Num<T>::get(kr[d * ks[3]]), s);
            }
            long mi = mbase + long(j) * ms[3];
            if (mask_kind == MASK_CAUSAL) {
                if (j > qi + coff) {
                    s = -FLT_MAX;
                }
            } else if (mask_kind == MASK_BOOL) {
                if (!mask[mi]) {
                    s = -FLT_MAX;
                }
            } else if (mask_kind == MASK_ADD) {
                s += reinterpret_cast<device const float*>(mask)[mi];
            }
        }
        const float bmax = simd_max(s);
        const float mnew = m > bmax ? m : bmax;
        const float corr = exp(m - mnew);
        const float pj = live ? exp(s - mnew) : 0.0f;
        l = l * corr + pj;
        m = mnew;
        Ps[lane] = pj;
        simdgroup_barrier(mem_flags::mem_threadgroup);
        const int kn = min(32, kend - k0);
        for (int c = int(lane); c < Dv; c += 32) {
            device const T* vc = v + vbase + long(k0) * vs[2] + c * vs[3];
            float o = Os[c] * corr;
            for (int jj = 0; jj < kn; ++jj) {
                o = fma(Ps[jj], Num<T>::get(vc[long(jj) * vs[2]]), o);
            }
            Os[c] = o;
        }
        simdgroup_barrier(mem_flags::mem_threadgroup);  // Ps is rewritten next block
    }
    const float total = simd_sum(l);
    const float inv = total == 0.0f ? 0.0f : 1.0f / total;
    device T* orow = out + (long(b * Hq + h) * Lq + qi) * long(Dv);
    for (int c = int(lane); c < Dv; c += 32) {
        orow[c] = Num<T>::put(Os[c] * inv);
    }
}

template [[host_name("sdpa_g_float32")]] [[kernel]] decltype(sdpa_g<float>) sdpa_g<float>;
template [[host_name("sdpa_g_float16")]] [[kernel]] decltype(sdpa_g<half>) sdpa_g<half>;
template [[host_name("sdpa_g_bfloat16")]] [[kernel]] decltype(sdpa_g<bf16>) sdpa_g<bf16>;
