// Quantize, Dequantize and the quantized matmuls (MLX 0.32's formats, as kernels/quant.c
// documents them).  qmm_g is gemm.metal's tiled GEMM (gemm_body.h) whose B tiles are
// decoded from the packed weights as they are staged: QuantizedMatmul and GatherQMM never
// hold the float weights.
//
// Layout: the codes of a row of groups form one little-endian bit stream (code i at bit
// i * bits), so 3/5/6-bit codes straddle bytes; a group of gs codes is gs * bits / 8
// bytes, a whole number of 32-bit words (gs >= 32, or 16 with 4 bits), so one thread per
// group owns the words it writes.  Modes: 0 affine (scale, bias per group in the input's
// dtype), 1 mxfp4 (e2m1 codes, e8m0 scale bytes), 2 mxfp8 (e4m3 codes, e8m0 scales),
// 3 nvfp4 (e2m1 codes, e4m3 scales, optional global scale).
//
// Numerics are the CPU's step by step, in float32 without fused multiply-adds, with
// correctly rounded divisions (precise::divide) and rint (half to even), so both kernels
// give the CPU's bits.
#include "gemm_body.h"

enum { Q_AFFINE = 0, Q_MXFP4, Q_MXFP8, Q_NVFP4 };
enum { S_F16 = 9, S_BF16 = 10, S_F32 = 11 };     // scale dtype codes (mlxc_dtype)

inline uint get_code(device const uchar* row, long i, int bits) {
    const long bit = i * bits;
    device const uchar* q = row + (bit >> 3);
    const uint sh = uint(bit & 7);
    uint v = q[0];
    if (sh + uint(bits) > 8u) {
        v |= uint(q[1]) << 8;
    }
    return (v >> sh) & ((1u << bits) - 1u);
}

inline float load_scale(device const uchar* s, long g, int code) {
    if (code == S_F16) {
        return float(reinterpret_cast<device const half*>(s)[g]);
    }
    if (code == S_BF16) {
        return Num<bf16>::get(reinterpret_cast<device const bf16*>(s)[g]);
    }
    return reinterpret_cast<device const float*>(s)[g];
}

// float8 e4m3 (bias 7, no infinities, 0x7f NaN, largest 448) to float32 bits, exactly.
inline uint e4m3_bits(uint c) {
    const uint sign = (c & 0x80u) << 24;
    const uint e = (c >> 3) & 15u, m = c & 7u;
    if ((c & 0x7fu) == 0x7fu) {
        return sign | 0x7ff00000u;
    }
    if (e == 0u) {                                   // subnormal: m * 2^-9
        return sign | as_type<uint>(float(m) * as_type<float>(0x3b000000u));
    }
    return sign | ((e + 120u) << 23) | (m << 20);
}

// float32 bits to e4m3: saturating at 448, round half to even, subnormals by hand.
inline uint e4m3_code(uint u) {
    const uint sign = (u >> 24) & 0x80u, a = u & 0x7fffffffu;
    uint r;
    if (a > 0x43e00000u) {                           // above 448, inf, NaN
        r = 0x7eu;
    } else if (a < 0x3c800000u) {                    // below 2^-6: multiples of 2^-9
        const uint e = a >> 23;
        const uint m = (a & 0x7fffffu) | (e != 0u ? 0x800000u : 0u);
        const uint shift = 141u - (e != 0u ? e : 1u);
        if (shift > 31u) {
            r = 0u;
        } else {
            const uint q = m >> shift, rem = m & ((1u << shift) - 1u), hf = 1u << (shift - 1u);
            r = q + ((rem > hf || (rem == hf && (q & 1u) != 0u)) ? 1u : 0u);
        }
    } else {                                         // normal: 3 mantissa bits, ties even
        r = ((a + 0x7ffffu + ((a >> 20) & 1u)) >> 20) - (120u << 3);
    }
    return sign | r;
}

inline float e2m1_value(uint c) {
    const float mag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    return (c & 8u) != 0u ? -mag[c & 7u] : mag[c & 7u];
}

// e2m1 rounding as the CPU's (MLX's): the first code 0..15 whose value is nearest to x,
// |x - value| in float32 compared with <; below 2^22 that is the thresholds 0.25 0.75
// 1.25 1.75 2.5 3.5 5 (ties down) with no sign on a zero code; NaN and +-inf give 0.
inline uint e2m1_code(float x) {
    const float a = fabs(x);
    if (a < 4194304.0f) {
        const uint c = a > 5.0f ? 7u : a > 3.5f ? 6u : a > 2.5f ? 5u : a > 1.75f ? 4u
                     : a > 1.25f ? 3u : a > 0.75f ? 2u : a > 0.25f ? 1u : 0u;
        return c | ((x < 0.0f && c != 0u) ? 8u : 0u);
    }
    uint c = 0u;
    float best = fabs(x - e2m1_value(0u));
    for (uint k = 1u; k < 16u; ++k) {
        const float d = fabs(x - e2m1_value(k));
        if (d < best) {
            best = d;
            c = k;
        }
    }
    return c;
}

// float32 to T as the CPU (MLX) converts: NaN becomes sign | 0x7d00 in float16 and 0x7fc0
// in bfloat16 (the hardware's own NaN bits differ).
template <typename T> inline T mlx_put(float x) {
    return Num<T>::put(x);
}
template <> inline half mlx_put<half>(float x) {
    if (isnan(x)) {
        return as_type<half>(ushort(((as_type<uint>(x) >> 16) & 0x8000u) | 0x7d00u));
    }
    return half(x);
}
template <> inline bf16 mlx_put<bf16>(float x) {
    if (isnan(x)) {
        bf16 r;
        r.bits = ushort(0x7fc0u);
        return r;
    }
    return Num<bf16>::put(x);
}

// x rounded to T and back: MLX's arithmetic in a half type.
template <typename T> inline float rnd(float x) {
    return Num<T>::get(mlx_put<T>(x));
}

// w / 0 in T (the elements of a NaN / inf mx group): +-inf by w's sign, w if NaN, x86's
// negative default NaN for 0 / 0 (bfloat16 then drops the NaN's sign).
template <typename T> inline float over_zero(float w) {
    const float x = w == 0.0f ? as_type<float>(0xffc00000u) : isnan(w) ? w : copysign(INFINITY, w);
    return rnd<T>(x);
}

// ------------------------------------------------------------------- dequantize
// Element e of the packed weights (groups of gs codes one after another, whatever the
// matrix shape) as dequant_g computes it for output dtype O: affine (code * scale rounded
// to O) and the bias; fp modes value * scale, the scale first rounded to O (with a global
// scale: times global / 2688 in float32), and no bias.
struct Deq {
    float v, b;
};

template <typename O>
inline Deq dequant_parts(device const uchar* w, device const uchar* scales,
                         device const uchar* biases, device const float* global_scale,
                         constant int* q, long e) {   // q: mode, gs, bits, scale dtype, global?
    const int mode = q[0], gs = q[1], bits = q[2];
    const long g = e / gs, i = e % gs;
    const uint c = get_code(w + g * gs * bits / 8, i, bits);
    Deq d;
    d.b = 0.0f;
    if (mode == Q_AFFINE) {
        d.v = rnd<O>(float(c) * load_scale(scales, g, q[3]));
        d.b = load_scale(biases, g, q[3]);
        return d;
    }
    float s;
    if (mode == Q_NVFP4) {
        s = as_type<float>(e4m3_bits(scales[g]));
    } else {
        const uint sb = scales[g];
        s = as_type<float>(sb == 0u ? 0x400000u : sb << 23);
    }
    s = q[4] != 0 ? s * precise::divide(global_scale[0], 2688.0f) : rnd<O>(s);
    d.v = (mode == Q_MXFP8 ? as_type<float>(e4m3_bits(c)) : e2m1_value(c)) * s;
    return d;
}

// One thread per output element.
template <typename O>
kernel void dequant_g(device const uchar* w [[buffer(0)]],
                      device const uchar* scales [[buffer(1)]],
                      device const uchar* biases [[buffer(2)]],
                      device const float* global_scale [[buffer(3)]],
                      device O* out [[buffer(4)]],
                      constant int* q [[buffer(5)]],
                      constant ulong& n [[buffer(6)]],
                      uint gid [[thread_position_in_grid]]) {
    if (gid >= n) {
        return;
    }
    const Deq d = dequant_parts<O>(w, scales, biases, global_scale, q, long(gid));
    out[gid] = mlx_put<O>(q[0] == Q_AFFINE ? d.v + d.b : d.v);
}

// ------------------------------------------------------------ quantized matmul
// B decoded from packed weights: logical element e of the dequantized weights (stacked
// matrices, row-major) is dequant_parts' element e, as dequant_g would write it in float32.
struct QuantB {
    device const uchar* w;
    device const uchar* scales;
    device const uchar* biases;
    device const float* global_scale;
    constant int* q;
    float get(long e) const {
        const Deq d = dequant_parts<float>(w, scales, biases, global_scale, q, e);
        return q[0] == Q_AFFINE ? d.v + d.b : d.v;
    }
};

// out = x @ B with B the dequantized weights (transposed or not through p's B strides),
// batched (mode 0) or gathered (mode 1) as gemm_g; float32 only.  Buffers 0 and 2-8 as
// gemm_g's (C unread), the packed weights in 1, then scales, biases, global scale, q.
kernel void qmm_g(device const float* a [[buffer(0)]],
                  device const uchar* w [[buffer(1)]],
                  device const float* C [[buffer(2)]],
                  device float* out [[buffer(3)]],
                  constant long* p [[buffer(4)]],
                  constant long* meta [[buffer(5)]],
                  device const long* idx0 [[buffer(6)]],
                  device const long* idx1 [[buffer(7)]],
                  constant float* alpha_beta [[buffer(8)]],
                  device const uchar* scales [[buffer(9)]],
                  device const uchar* biases [[buffer(10)]],
                  device const float* global_scale [[buffer(11)]],
                  constant int* q [[buffer(12)]],
                  uint3 group [[threadgroup_position_in_grid]],
                  uint tid [[thread_index_in_threadgroup]]) {
    threadgroup float As[A_TILE];
    threadgroup float Bs[B_TILE];
    QuantB bsrc;
    bsrc.w = w;
    bsrc.scales = scales;
    bsrc.biases = biases;
    bsrc.global_scale = global_scale;
    bsrc.q = q;
    Strided<float> asrc;
    asrc.b = a;
    gemm_body<float, Strided<float>, QuantB>(asrc, bsrc, C, out, p, meta, idx0, idx1,
                                             alpha_beta, group, tid, As, Bs);
}

// --------------------------------------------------------------------- quantize
// One thread per group of gs (<= 128) values; it writes the group's packed bytes, its
// scale (and bias).
template <typename T>
kernel void quant_g(device const T* w [[buffer(0)]],
                    device uchar* wq [[buffer(1)]],
                    device T* scales [[buffer(2)]],
                    device T* biases [[buffer(3)]],
                    device const float* global_scale [[buffer(4)]],
                    constant int* q [[buffer(5)]],     // mode, gs, bits, -, global?
                    constant ulong& ngroups [[buffer(6)]],
                    uint gid [[thread_position_in_grid]]) {
    if (gid >= ngroups) {
        return;
    }
    const int mode = q[0], gs = q[1], bits = q[2];
    const long g = long(gid);
    device const T* v = w + g * gs;
    device uchar* o = wq + g * gs * bits / 8;
    for (int b = 0; b < gs * bits / 8; ++b) {
        o[b] = 0;
    }
    float scale = 0.0f, bias = 0.0f, d = 1.0f, enc = 1.0f;
    bool fin = true;
    const float nb = float((1 << bits) - 1);
    if (mode == Q_AFFINE) {
        float wmin = INFINITY, wmax = -INFINITY;
        for (int i = 0; i < gs; ++i) {
            const float x = Num<T>::get(v[i]);
            wmin = x < wmin ? x : wmin;
            wmax = x > wmax ? x : wmax;
        }
        if (bits == 1) {
            scale = fmax(wmax - wmin, 1e-7f);
            bias = wmin;
        } else {
            scale = fmax(precise::divide(wmax - wmin, nb), 1e-7f);
            const bool side = fabs(wmin) > fabs(wmax);
            if (!side) {
                scale = -scale;
            }
            const float edge = side ? wmin : wmax;
            const float q0 = rint(precise::divide(edge, scale));
            if (q0 != 0.0f) {
                scale = precise::divide(edge, q0);
                bias = edge;
            }
        }
        scales[g] = mlx_put<T>(scale);
        biases[g] = mlx_put<T>(bias);
    } else {
        // a NaN wins the max; amax / 6 (448) rounds to T
        float amax = 0.0f;
        for (int i = 0; i < gs; ++i) {
            const float a = fabs(Num<T>::get(v[i]));
            amax = (a > amax || isnan(a)) ? a : amax;
        }
        const float a = rnd<T>(precise::divide(amax, mode == Q_MXFP8 ? 448.0f : 6.0f));
        uint sb;
        if (mode == Q_NVFP4) {                        // x = rnd(w / scale) * enc
            enc = q[4] != 0 ? precise::divide(2688.0f, global_scale[0]) : 1.0f;
            sb = e4m3_code(as_type<uint>(a * enc));
            d = as_type<float>(e4m3_bits(sb));
        } else if (!isfinite(a)) {                    // byte 128 (float32) / 0, x = w / 0
            sb = sizeof(T) == 4 ? 128u : 0u;
            fin = false;
        } else {                                      // n = ceil(log2(a)) from the bits
            const uint u = as_type<uint>(a);
            int e = 0;
            if (u != 0u) {
                const uint ex = u >> 23;
                if (ex == 0u) {
                    int k = 0;
                    while ((1u << k) < u) {
                        ++k;
                    }
                    e = -149 + k;
                } else {
                    e = int(ex) - 127 + ((u & 0x7fffffu) != 0u ? 1 : 0);
                }
            }
            sb = uint((e + 127) & 0xff);
            d = e >= -126 ? as_type<float>(uint(e + 127) << 23) : as_type<float>(1u << (e + 149));
        }
        reinterpret_cast<device uchar*>(scales)[g] = uchar(sb);
    }
    for (int i = 0; i < gs; ++i) {
        const float x = Num<T>::get(v[i]);
        uint c;
        if (mode == Q_AFFINE) {
            const float r = rint(precise::divide(x - bias, scale));   // NaN: 0
            c = r > 0.0f ? uint(fmin(r, nb)) : 0u;
        } else {
            const float y = fin ? rnd<T>(precise::divide(x, d)) * enc : over_zero<T>(x);
            c = mode == Q_MXFP8 ? e4m3_code(as_type<uint>(y)) : e2m1_code(y);
        }
        const long bit = long(i) * bits;
        const uint sh = uint(bit & 7), val = c << sh;
        o[bit >> 3] |= uchar(val & 0xffu);
        if (sh + uint(bits) > 8u) {
            o[(bit >> 3) + 1] |= uchar(val >> 8);
        }
    }
}

template [[host_name("dequant_g_float32")]] [[kernel]] decltype(dequant_g<float>) dequant_g<float>;
template [[host_name("dequant_g_float16")]] [[kernel]] decltype(dequant_g<half>) dequant_g<half>;
template [[host_name("dequant_g_bfloat16")]] [[kernel]] decltype(dequant_g<bf16>) dequant_g<bf16>;
template [[host_name("quant_g_float32")]] [[kernel]] decltype(quant_g<float>) quant_g<float>;
template [[host_name("quant_g_float16")]] [[kernel]] decltype(quant_g<half>) quant_g<half>;
template [[host_name("quant_g_bfloat16")]] [[kernel]] decltype(quant_g<bf16>) quant_g<bf16>;
