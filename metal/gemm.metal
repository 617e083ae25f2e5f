// GEMM: out = alpha * A @ B + beta * C over a batch, for Matmul, AddMM, GatherMM,
// SegmentedMM.  The body lives in gemm_body.h (shared with quantized.metal's qmm_g and
// conv.metal's conv_g).
//
// Threadgroup tiling: a group of 64 threads owns a BM x BN tile of one output matrix
// (grid groups: (tiles along N, tiles along M, batch)).  For each BK-deep slab of K it
// stages the A and B tiles in threadgroup memory (converted to float32), barriers, and
// every thread accumulates a TM x TN register block (rows ty + 8 i, columns tx + 8 j);
// a second barrier keeps the next slab's loads from overwriting a tile still in use.
// Operands are read through their strides (transposes and broadcast batches are free);
// edge tiles load zeros and skip stores outside the matrix.
//
// Numerics: float32 accumulation for every dtype, one fma per k in increasing k order,
// so each output's sum has one fixed order whatever order lanes or groups run in.  The
// epilogue is the CPU's: alpha * acc + beta * C (C read only when beta != 0), alpha *
// acc when alpha != 1, rounded once to the output dtype.  complex64 (Matmul, AddMM):
// complex tiles and accumulators, re += a.re b.re - a.im b.im and im += a.re b.im +
// a.im b.re as two fmas each per k; the real alpha and beta scale both parts (the CPU
// combines four real GEMMs: a tolerance).
//
// Batch modes (p[G_MODE]):
//   0 strided: the batch index walks meta's collapsed batch shape; meta holds shape[bnd]
//     then the batch strides of A, B, C and out (bnd values each).
//   1 gather: out matrix z = A[lhs[z]] @ B[rhs[z]], indices from idx0/idx1 (int64,
//     element offsets p[G_L_OFF], p[G_R_OFF], strides p[G_LS], p[G_RS]; negative ones
//     count from the end; the host has checked the bounds); matrix strides p[G_A_BS],
//     p[G_B_BS], out's p[G_O_BS].
//   2 segmented: out matrix z = A[:, k0:k1] @ B[k0:k1, :], (k0, k1) = idx0[s] and
//     idx0[s + p[G_RS]], s = p[G_L_OFF] + z * p[G_LS]; an empty segment gives zeros.
#include "gemm_body.h"

template <typename T>
kernel void gemm_g(device const T* a [[buffer(0)]],
                   device const T* b [[buffer(1)]],
                   device const T* C [[buffer(2)]],
                   device T* out [[buffer(3)]],
                   constant long* p [[buffer(4)]],
                   constant long* meta [[buffer(5)]],
                   device const long* idx0 [[buffer(6)]],
                   device const long* idx1 [[buffer(7)]],
                   constant float* alpha_beta [[buffer(8)]],
                   uint3 group [[threadgroup_position_in_grid]],
                   uint tid [[thread_index_in_threadgroup]]) {
    typedef typename Num<T>::C A;
    threadgroup A As[A_TILE];
    threadgroup A Bs[B_TILE];
    Strided<T> asrc, bsrc;
    asrc.b = a;
    bsrc.b = b;
    gemm_body<T, Strided<T>, Strided<T>>(asrc, bsrc, C, out, p, meta, idx0, idx1, alpha_beta,
                                         group, tid, As, Bs);
}

template [[host_name("gemm_g_float32")]] [[kernel]] decltype(gemm_g<float>) gemm_g<float>;
template [[host_name("gemm_g_float16")]] [[kernel]] decltype(gemm_g<half>) gemm_g<half>;
template [[host_name("gemm_g_bfloat16")]] [[kernel]] decltype(gemm_g<bf16>) gemm_g<bf16>;
template [[host_name("gemm_g_complex64")]] [[kernel]] decltype(gemm_g<c64>) gemm_g<c64>;
