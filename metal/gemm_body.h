// The tiled GEMM of gemm.metal as a function over A and B sources, so QuantizedMatmul
// (quantized.metal) and Convolution (conv.metal) run the same tiles, order and epilogue
// with their weights decoded / their input unfolded as the tiles are staged (neither the
// float weights nor the unfolded input exist in memory).  See gemm.metal for the tiling,
// numerics, parameter block and batch modes.
#pragma once
#include "mlxc_complex.h"

enum { BM = 32, BN = 32, BK = 16, TM = 4, TN = 4, TX = BN / TN, TY = BM / TM, NT = TX * TY,
       A_TILE = BK * BM, B_TILE = BK * BN };

enum { G_M = 0, G_N, G_K, G_MODE, G_BND, G_HAS_C,
       G_A_OFF, G_A_RS, G_A_CS, G_B_OFF, G_B_RS, G_B_CS,
       G_C_OFF, G_C_RS, G_C_CS, G_O_OFF, G_O_RS, G_O_BS,
       G_A_BS, G_B_BS, G_NA, G_NB, G_LS, G_RS, G_L_OFF, G_R_OFF };

// The accumulator arithmetic of compute type A: zero, acc + a b, the epilogue's real scale.
template <typename A> struct Mac {
    static A zero() { return 0.0f; }
    static A mac(A a, A b, A acc) { return fma(a, b, acc); }
    static A scale(float s, A v) { return s * v; }
    static A add(A a, A b) { return a + b; }
};
template <> struct Mac<c64> {
    static c64 zero() { return cx(0.0f, 0.0f); }
    static c64 mac(c64 a, c64 b, c64 acc) {
        return cx(fma(a.re, b.re, fma(-a.im, b.im, acc.re)),
                  fma(a.re, b.im, fma(a.im, b.re, acc.im)));
    }
    static c64 scale(float s, c64 v) { return cx(s * v.re, s * v.im); }
    static c64 add(c64 a, c64 b) { return cadd(a, b); }
};

// An operand read through its strides: element e of the buffer.
template <typename T> struct Strided {
    device const T* b;
    typename Num<T>::C get(long e) const { return Num<T>::get(b[e]); }
};

// The kernel body for one output tile.  asrc.get(e) / bsrc.get(e) give A's and B's
// elements at logical offsets e = a_off + m * a_rs + k * a_cs and b_off + k * b_rs +
// n * b_cs: a strided buffer, or values made on the fly (decoded weights, a convolution's
// unfolded input); As / Bs: the kernel's threadgroup tiles (A_TILE, B_TILE elements).
template <typename T, typename ASrc, typename BSrc>
inline void gemm_body(ASrc asrc, BSrc bsrc, device const T* C, device T* out,
                      constant long* p, constant long* meta, device const long* idx0,
                      device const long* idx1, constant float* alpha_beta, uint3 group,
                      uint tid, threadgroup typename Num<T>::C* As,
                      threadgroup typename Num<T>::C* Bs) {
    typedef typename Num<T>::C A;       // float, or c64; As[kk * BM + r], Bs[kk * BN + c]
    const long M = p[G_M], N = p[G_N];
    long K = p[G_K];
    long a_off = p[G_A_OFF], b_off = p[G_B_OFF], c_off = p[G_C_OFF], o_off = p[G_O_OFF];
    const long a_rs = p[G_A_RS], a_cs = p[G_A_CS], b_rs = p[G_B_RS], b_cs = p[G_B_CS];
    const long z = long(group.z);
    const long mode = p[G_MODE];
    if (mode == 0) {
        const int bnd = int(p[G_BND]);
        a_off += elem_offset(ulong(z), meta, meta + bnd, bnd);
        b_off += elem_offset(ulong(z), meta, meta + 2 * bnd, bnd);
        c_off += elem_offset(ulong(z), meta, meta + 3 * bnd, bnd);
        o_off += elem_offset(ulong(z), meta, meta + 4 * bnd, bnd);
    } else if (mode == 1) {
        long ia = idx0[p[G_L_OFF] + z * p[G_LS]], ib = idx1[p[G_R_OFF] + z * p[G_RS]];
        ia += ia < 0 ? p[G_NA] : 0;
        ib += ib < 0 ? p[G_NB] : 0;
        a_off += ia * p[G_A_BS];
        b_off += ib * p[G_B_BS];
        o_off += z * p[G_O_BS];
    } else {
        const long s0 = p[G_L_OFF] + z * p[G_LS];
        const long k0 = idx0[s0], k1 = idx0[s0 + p[G_RS]];
        K = k1 > k0 ? k1 - k0 : 0;
        a_off += K > 0 ? k0 * a_cs : 0;
        b_off += K > 0 ? k0 * b_rs : 0;
        o_off += z * p[G_O_BS];
    }
    const long row0 = long(group.y) * BM, col0 = long(group.x) * BN;
    const uint tx = tid % TX, ty = tid / TX;
    A acc[TM][TN];
    for (int i = 0; i < TM; ++i) {
        for (int j = 0; j < TN; ++j) {
            acc[i][j] = Mac<A>::zero();
        }
    }
    for (long k0 = 0; k0 < K; k0 += BK) {
        const long kend = K - k0 < long(BK) ? K - k0 : long(BK);    // uniform per group
        for (uint e = tid; e < uint(BM * BK); e += NT) {
            const uint r = e / BK, kk = e % BK;
            const long gr = row0 + r, gk = k0 + kk;
            As[kk * BM + r] = (gr < M && gk < K) ? asrc.get(a_off + gr * a_rs + gk * a_cs)
                                                 : Mac<A>::zero();
        }
        for (uint e = tid; e < uint(BK * BN); e += NT) {
            const uint kk = e / BN, c = e % BN;
            const long gc = col0 + c, gk = k0 + kk;
            Bs[kk * BN + c] = (gc < N && gk < K) ? bsrc.get(b_off + gk * b_rs + gc * b_cs)
                                                 : Mac<A>::zero();
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        for (int kk = 0; kk < int(kend); ++kk) {
            A av[TM], bv[TN];
            for (int i = 0; i < TM; ++i) {
                av[i] = As[kk * BM + ty + TY * i];
            }
            for (int j = 0; j < TN; ++j) {
                bv[j] = Bs[kk * BN + tx + TX * j];
            }
            for (int i = 0; i < TM; ++i) {
                for (int j = 0; j < TN; ++j) {
                    acc[i][j] = Mac<A>::mac(av[i], bv[j], acc[i][j]);
                }
            }
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
    }
    const float al = alpha_beta[0], be = alpha_beta[1];
    const bool has_c = p[G_HAS_C] != 0;
    const long c_rs = p[G_C_RS], c_cs = p[G_C_CS], o_rs = p[G_O_RS];
    for (int i = 0; i < TM; ++i) {
        const long gr = row0 + ty + TY * i;
        for (int j = 0; j < TN; ++j) {
            const long gc = col0 + tx + TX * j;
            if (gr < M && gc < N) {
                A v = acc[i][j];
                if (has_c) {
                    const A s = Mac<A>::scale(al, v);
                    const A t = Mac<A>::scale(be, Num<T>::get(C[c_off + gr * c_rs + gc * c_cs]));
                    v = Mac<A>::add(s, t);
                } else if (al != 1.0f) {
                    v = Mac<A>::scale(al, v);
                }
                out[o_off + gr * o_rs + gc] = Num<T>::put(v);
            }
        }
    }
}

