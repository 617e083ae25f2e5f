// Elementwise binary ops, contiguous and strided (broadcast), instantiated per type.
#include <metal_stdlib>
using namespace metal;

struct Add { template <typename T> T operator()(T a, T b) { return a + b; } };
struct Mul { template <typename T> T operator()(T a, T b) { return a * b; } };
struct Maximum { template <typename T> T operator()(T a, T b) { return max(a, b); } };

template <typename T, typename Op>
[[kernel]] void binary_vv(device const T* a [[buffer(0)]],
                          device const T* b [[buffer(1)]],
                          device T* out [[buffer(2)]],
                          constant uint& n [[buffer(3)]],
                          uint index [[thread_position_in_grid]]) {
  if (index < n) {
    out[index] = Op()(a[index], b[index]);
  }
}

// 2-D strided: out[i, j] = a[i*as0 + j*as1] op b[i*bs0 + j*bs1] (a zero stride broadcasts)
template <typename T, typename Op>
[[kernel]] void binary_g2(device const T* a [[buffer(0)]],
                          device const T* b [[buffer(1)]],
                          device T* out [[buffer(2)]],
                          constant int2& a_strides [[buffer(3)]],
                          constant int2& b_strides [[buffer(4)]],
                          uint2 gid [[thread_position_in_grid]],
                          uint2 size [[threads_per_grid]]) {
  long ai = long(gid.y) * a_strides.x + long(gid.x) * a_strides.y;
  long bi = long(gid.y) * b_strides.x + long(gid.x) * b_strides.y;
  out[gid.y * size.x + gid.x] = Op()(a[ai], b[bi]);
}

#define instantiate_binary(opname, Op, tname, T)                                       \
  template [[host_name("vv_" #opname "_" #tname)]] [[kernel]] decltype(binary_vv<T, Op>) \
      binary_vv<T, Op>;                                                                \
  template [[host_name("g2_" #opname "_" #tname)]] [[kernel]] void binary_g2<T, Op>(   \
      device const T* a [[buffer(0)]], device const T* b [[buffer(1)]],                \
      device T* out [[buffer(2)]], constant int2& a_strides [[buffer(3)]],             \
      constant int2& b_strides [[buffer(4)]], uint2 gid [[thread_position_in_grid]],   \
      uint2 size [[threads_per_grid]]);

#define instantiate_types(opname, Op)             \
  instantiate_binary(opname, Op, float32, float)  \
  instantiate_binary(opname, Op, float16, half)   \
  instantiate_binary(opname, Op, int32, int)      \
  instantiate_binary(opname, Op, uint8, uchar)

instantiate_types(add, Add)
instantiate_types(mul, Mul)
instantiate_types(maximum, Maximum)

// A plain (non-template) kernel: its host name is its own name.
kernel void axpy_half(device const half* x [[buffer(0)]],
                      device half* y [[buffer(1)]],
                      constant float& alpha [[buffer(2)]],
                      uint i [[thread_position_in_grid]]) {
  y[i] = half(alpha) * x[i] + y[i] * 1.0h;
}
