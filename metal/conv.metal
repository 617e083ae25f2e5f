// Convolution as an implicit GEMM: conv_g is gemm.metal's tiled GEMM (gemm_body.h) whose
// A tiles are read straight from the input through the unfold (im2col) mapping, one batch
// entry per group (mlxc/_core/metal/gpu_linalg.pyx); the unfolded matrix never exists.
//
// The unfolded matrix col has one row per (image n, output position o) and, per row, the
// columns (group g, tap k, channel ci): col[((row * G + g) * ntaps + k) * cig + ci] is the
// input element that kernel tap k of group g meets at o, or 0 where it falls in the
// padding (negative padding crops) or in a hole of the input dilation.  Along spatial dim
// d, tap k reads position o*s + kt*kd - lo of the dilated input, kt = ks-1-k when the
// kernel is flipped, else k; a position p is a real element p / id when p % id == 0.
// Values are the input's, converted to float32 as any GEMM operand.
//
// meta (long): ndim (spatial dims, 1..3), N, G, cig, flip, x's element offset, x's batch
// and channel strides, then per spatial dim: in, ks, os, stride, lo, kdil, idil, x stride.
#include "gemm_body.h"

enum { U_NSP = 0, U_N, U_G, U_CIG, U_FLIP, U_XOFF, U_XSN, U_XSC, U_DIMS, U_PER_DIM = 8 };
enum { D_IN = 0, D_KS, D_OS, D_S, D_LO, D_KD, D_ID, D_XS };

// Element e of col (row-major) from the input x.
template <typename T>
inline T unfold_value(device const T* x, constant long* m, ulong e) {
    const int nsp = int(m[U_NSP]);
    const long G = m[U_G], cig = m[U_CIG];
    ulong rest = e;
    const long ci = long(rest % ulong(cig));
    rest /= ulong(cig);
    long taps[3];
    for (int d = nsp - 1; d >= 0; --d) {            // tap index, last dim fastest
        const ulong ks = ulong(m[U_DIMS + d * U_PER_DIM + D_KS]);
        taps[d] = long(rest % ks);
        rest /= ks;
    }
    const long g = long(rest % ulong(G));
    rest /= ulong(G);
    long outs[3];
    for (int d = nsp - 1; d >= 0; --d) {            // output position
        const ulong os = ulong(m[U_DIMS + d * U_PER_DIM + D_OS]);
        outs[d] = long(rest % os);
        rest /= os;
    }
    const long n = long(rest);
    long off = m[U_XOFF] + n * m[U_XSN] + (g * cig + ci) * m[U_XSC];
    bool inside = true;
    for (int d = 0; d < nsp; ++d) {
        constant long* dm = m + U_DIMS + d * U_PER_DIM;
        const long kt = m[U_FLIP] != 0 ? dm[D_KS] - 1 - taps[d] : taps[d];
        const long pos = outs[d] * dm[D_S] + kt * dm[D_KD] - dm[D_LO];
        const long q = pos >= 0 ? pos / dm[D_ID] : 0;
        inside = inside && pos >= 0 && q * dm[D_ID] == pos && q < dm[D_IN];
        off += q * dm[D_XS];
    }
    T v;
    if (inside) {
        v = x[off];
    } else {
        v = Num<T>::put(0.0f);
    }
    return v;
}

// A of the convolution's GEMM: the unfolded input, element by element.
template <typename T> struct UnfoldA {
    device const T* x;
    constant long* m;
    float get(long e) const { return Num<T>::get(unfold_value<T>(x, m, ulong(e))); }
};

// out = col @ w^T per group: gemm_g's parameters (buffers 1-8 as gemm_g's 1-8), the
// unfold's meta in buffer 9.
template <typename T>
kernel void conv_g(device const T* x [[buffer(0)]],
                   device const T* b [[buffer(1)]],
                   device const T* C [[buffer(2)]],
                   device T* out [[buffer(3)]],
                   constant long* p [[buffer(4)]],
                   constant long* meta [[buffer(5)]],
                   device const long* idx0 [[buffer(6)]],
                   device const long* idx1 [[buffer(7)]],
                   constant float* alpha_beta [[buffer(8)]],
                   constant long* m [[buffer(9)]],
                   uint3 group [[threadgroup_position_in_grid]],
                   uint tid [[thread_index_in_threadgroup]]) {
    threadgroup float As[A_TILE];
    threadgroup float Bs[B_TILE];
    UnfoldA<T> asrc;
    asrc.x = x;
    asrc.m = m;
    Strided<T> bsrc;
    bsrc.b = b;
    gemm_body<T, UnfoldA<T>, Strided<T>>(asrc, bsrc, C, out, p, meta, idx0, idx1, alpha_beta,
                                         group, tid, As, Bs);
}

template [[host_name("conv_g_float32")]] [[kernel]] decltype(conv_g<float>) conv_g<float>;
template [[host_name("conv_g_float16")]] [[kernel]] decltype(conv_g<half>) conv_g<half>;
template [[host_name("conv_g_bfloat16")]] [[kernel]] decltype(conv_g<bf16>) conv_g<bf16>;
