// Reductions and scans: a threadgroup-memory tree, simdgroup collectives, device atomics.
#include <metal_stdlib>
using namespace metal;

// One partial sum per threadgroup: a binary tree in threadgroup memory (power-of-two groups).
template <typename T>
[[kernel]] void tree_sum(device const T* in [[buffer(0)]],
                         device T* partial [[buffer(1)]],
                         constant uint& n [[buffer(2)]],
                         uint gid [[thread_position_in_grid]],
                         uint lid [[thread_position_in_threadgroup]],
                         uint group [[threadgroup_position_in_grid]],
                         uint tsize [[threads_per_threadgroup]]) {
  threadgroup T shared[1024];
  shared[lid] = gid < n ? in[gid] : T(0);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (uint s = tsize / 2; s > 0; s >>= 1) {
    if (lid < s) {
      shared[lid] += shared[lid + s];
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  if (lid == 0) {
    partial[group] = shared[0];
  }
}
template [[host_name("tree_sum_float32")]] [[kernel]] decltype(tree_sum<float>) tree_sum<float>;
template [[host_name("tree_sum_int32")]] [[kernel]] decltype(tree_sum<int>) tree_sum<int>;

// simd_sum per simdgroup, then the simdgroup sums through dynamic threadgroup memory.
kernel void simd_row_sum(device const float* in [[buffer(0)]],
                         device float* out [[buffer(1)]],
                         constant uint& row_len [[buffer(2)]],
                         threadgroup float* partials [[threadgroup(0)]],
                         uint row [[threadgroup_position_in_grid]],
                         uint lid [[thread_index_in_threadgroup]],
                         uint tsize [[threads_per_threadgroup]],
                         uint lane [[thread_index_in_simdgroup]],
                         uint sg [[simdgroup_index_in_threadgroup]],
                         uint nsg [[simdgroups_per_threadgroup]]) {
  float acc = 0.0f;
  for (uint i = lid; i < row_len; i += tsize) {
    acc += in[row * row_len + i];
  }
  acc = simd_sum(acc);
  if (lane == 0) {
    partials[sg] = acc;
  }
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (sg == 0) {
    float v = lane < nsg ? partials[lane] : 0.0f;
    v = simd_sum(v);
    if (lane == 0) {
      out[row] = v;
    }
  }
}

// A shuffle-down tree inside each simdgroup (lane 0 ends with the simdgroup's max).
kernel void shuffle_max(device const int* in [[buffer(0)]],
                        device int* out [[buffer(1)]],
                        uint gid [[thread_position_in_grid]],
                        uint lane [[thread_index_in_simdgroup]]) {
  int v = in[gid];
  for (ushort d = 16; d > 0; d /= 2) {
    v = max(v, simd_shuffle_down(v, d));
  }
  if (lane == 0) {
    out[gid / 32] = v;
  }
}

// Exclusive and inclusive prefix sums of each simdgroup, ballot of positive values,
// shuffle_xor butterfly, broadcast of lane 3.
kernel void simd_scans(device const uint* in [[buffer(0)]],
                       device uint* excl [[buffer(1)]],
                       device uint* incl [[buffer(2)]],
                       device ulong* ballot [[buffer(3)]],
                       device uint* xor_sum [[buffer(4)]],
                       device uint* bcast [[buffer(5)]],
                       uint gid [[thread_position_in_grid]],
                       uint lane [[thread_index_in_simdgroup]]) {
  uint v = in[gid];
  excl[gid] = simd_prefix_exclusive_sum(v);
  incl[gid] = simd_prefix_inclusive_sum(v);
  simd_vote vote = simd_ballot((v & 1u) != 0);
  if (lane == 0) {
    ballot[gid / 32] = static_cast<simd_vote::vote_t>(vote);
  }
  uint s = v;
  for (ushort m = 1; m < 32; m <<= 1) {
    s += simd_shuffle_xor(s, m);
  }
  xor_sum[gid] = s;
  bcast[gid] = simd_broadcast(v, 3);
}

// A histogram with device atomics (colliding increments), and an atomic float sum.
kernel void histogram(device const uint* in [[buffer(0)]],
                      device atomic_uint* bins [[buffer(1)]],
                      device atomic_float* total [[buffer(2)]],
                      device const float* w [[buffer(3)]],
                      constant uint& nbins [[buffer(4)]],
                      uint gid [[thread_position_in_grid]]) {
  atomic_fetch_add_explicit(&bins[in[gid] % nbins], 1u, memory_order_relaxed);
  atomic_fetch_add_explicit(total, w[gid], memory_order_relaxed);
}

// atomic max through compare-exchange (the pattern float atomics without fetch_max use)
kernel void cas_max(device const int* in [[buffer(0)]],
                    device atomic_int* best [[buffer(1)]],
                    uint gid [[thread_position_in_grid]]) {
  int v = in[gid];
  int cur = atomic_load_explicit(best, memory_order_relaxed);
  while (v > cur && !atomic_compare_exchange_weak_explicit(best, &cur, v, memory_order_relaxed,
                                                           memory_order_relaxed)) {
  }
}
