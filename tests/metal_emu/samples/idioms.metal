// Common MSL idioms the stand-in header must accept (and the lint too); test_metal_emu checks the value.
#include <metal_stdlib>
#include <metal_simdgroup>
using namespace metal;
#define METAL_FUNC inline __attribute__((always_inline))
static constant constexpr const int N_READS = 4;
constant float kScale = 0.5f;

template <typename T> METAL_FUNC T softplus(T x) { return metal::log(T(1) + metal::exp(x)); }

struct Pair { float a; int b; };

template <typename T, int N = N_READS>
[[kernel]] void idioms(device const T* in [[buffer(0)]],
                       device float* out [[buffer(1)]],
                       constant Pair& pr [[buffer(2)]],
                       device half4* h4 [[buffer(3)]],
                       device bfloat* bf [[buffer(4)]],
                       uint3 gid [[thread_position_in_grid]],
                       ushort lane [[thread_index_in_simdgroup]],
                       ushort3 lid3 [[thread_position_in_threadgroup]]) {
  threadgroup float scratch[N][8];
  metal::vec<float, 4> v = float4(in[0], 1.0f, 2, 3);
  float4 w = v * 2 + 1.0f;
  w = select(w, float4(0), w > 5.0f);
  float s = dot(w, float4(1)) + metal::fast::exp(0.0f) + metal::precise::sqrt(4.0f);
  s += metal::numeric_limits<float>::infinity() > 0 ? 1.0f : 0.0f;
  s += float(metal::isnan(metal::numeric_limits<float>::quiet_NaN()));
  s += metal::abs(-3) + metal::max(2u, 3u) + metal::clamp(5, 0, 4) + fma(1.0f, 2.0f, 3.0f);
  half hh = 1.5h * half(2) + static_cast<half>(s);
  half4 hv = half4(hh, 0.25h, -1.0h, hh);
  h4[0] = hv * half4(2.0h);
  bf[0] = bfloat(s) + bfloat(1.0f);
  uint u = as_type<uint>(1.0f);
  s += float(popcount(u)) + float(clz(1u)) + softplus(0.0f) + kScale + pr.a + float(pr.b);
  scratch[lid3.x % N][lane % 8] = s;
  threadgroup_barrier(mem_flags::mem_none);
  s = simd_max(s) + float(simd_is_first()) + metal::simd_sum(1.0f);
  metal::array<int, 3> arr = {{1, 2, 3}};
  s += float(arr[2]) + float(gid.y) + float(INT_MAX > 0) + M_PI_F * 0 + HALF_MAX * 0.0h;
  s += float(all(uint2(1, 2) > uint2(0))) + float(any(bool2(false, true)));
  long big = long(gid.x) * 3000000000L;
  s += float(big > 0);
  out[gid.x] = s;
}
template [[host_name("idioms_f32")]] [[kernel]] decltype(idioms<float>) idioms<float>;
template [[host_name("idioms_f16")]] [[kernel]] decltype(idioms<half, 2>) idioms<half, 2>;
