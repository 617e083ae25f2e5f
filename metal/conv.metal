// Convolution's unfold (im2col): the GEMM of gemm.metal then multiplies the unfolded
// input by the kernel, one batch entry per group (mlxc/_core/metal/gpu_linalg.pyx).
//
// col has one row per (image n, output position o) and, per row, the columns
// (group g, tap k, channel ci): col[((row * G + g) * ntaps + k) * cig + ci] is the input
// element that kernel tap k of group g meets at o, or 0 where it falls in the padding
// (negative padding crops) or in a hole of the input dilation.  Along spatial dim d, tap
// k reads position o*s + kt*kd - lo of the dilated input, kt = ks-1-k when the kernel is
// flipped, else k; a position p is a real element p / id when p % id == 0.  One thread
// per col element; values are copied, not converted, so the GEMM sees the input's bits.
//
// meta (long): ndim (spatial dims, 1..3), N, G, cig, flip, x's element offset, x's batch
// and channel strides, then per spatial dim: in, ks, os, stride, lo, kdil, idil, x stride.
#include "mlxc_types.h"

enum { U_NSP = 0, U_N, U_G, U_CIG, U_FLIP, U_XOFF, U_XSN, U_XSC, U_DIMS, U_PER_DIM = 8 };
enum { D_IN = 0, D_KS, D_OS, D_S, D_LO, D_KD, D_ID, D_XS };

template <typename T>
kernel void unfold_g(device const T* x [[buffer(0)]],
                     device T* col [[buffer(1)]],
                     constant long* m [[buffer(2)]],
                     constant ulong& total [[buffer(3)]],
                     uint gid [[thread_position_in_grid]]) {
    if (gid >= total) {
        return;
    }
    const int nsp = int(m[U_NSP]);
    const long G = m[U_G], cig = m[U_CIG];
    ulong rest = gid;
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
    col[gid] = v;
}

template [[host_name("unfold_g_float32")]] [[kernel]] decltype(unfold_g<float>) unfold_g<float>;
template [[host_name("unfold_g_float16")]] [[kernel]] decltype(unfold_g<half>) unfold_g<half>;
template [[host_name("unfold_g_bfloat16")]] [[kernel]] decltype(unfold_g<bf16>) unfold_g<bf16>;
