// FFT along one axis (the FFT primitive: complex forward / inverse, real-to-complex,
// complex-to-real), complex64 / float32, computed in float32.
//
// A "line" is one 1-d transform: the input elements at line_base + t * axis_stride
// (line_base from the line index through the other dims' shape and strides, so any input
// layout is read in place); the output is row-major (outer, out_len, inner).
//   n a power of two: Stockham autosort passes of radix 4 (and one of radix 2 when
//     log2 n is odd);
//   other n: Bluestein's chirp-z transform, its circular convolution of length m (a
//     power of two >= 2n - 1) through the same passes.
// fft_g runs a whole line in threadgroup memory, one threadgroup a line (n <= 1024 for
// powers of two, n <= 512 for Bluestein); longer lines run pass by pass over device
// buffers (fft_load_g, fft_pass_g, fft_mul_g, fft_store_g, below).
// Twiddles e^{+-2 pi i f} come from cospi / sinpi of an exact fraction (power-of-two
// denominators); chirps use (j^2 mod 2n) / n, the index reduced in exact integers.
// Complex-to-real input holds bins 0 .. n/2; the others are the conjugates
// (X[n - k] = conj X[k]); the output is the real part (the imaginary parts of bin 0 and
// of the Nyquist bin drop out, as in the CPU's transform).
#include "mlxc_types.h"

enum { FFT_C2C = 0, FFT_C2C_INV, FFT_R2C, FFT_C2R };

// p (int): kind, n, in_len, out_len, in_complex, mode, m (Bluestein length), ndl (dims
//          of the line index), inner
// meta (long): line shape[ndl], line strides[ndl], axis stride, input element offset
struct Line {
    int kind, n, in_len, out_len, cplx, inner;
    long base, stride;
};

inline Line line_of(constant int* p, constant long* meta, uint line) {
    Line L;
    L.kind = p[0];
    L.n = p[1];
    L.in_len = p[2];
    L.out_len = p[3];
    L.cplx = p[4];
    L.inner = p[8];
    int ndl = p[7];
    L.base = meta[2 * ndl + 1] + elem_offset(line, meta, meta + ndl, ndl);
    L.stride = meta[2 * ndl];
    return L;
}

inline float2 cmul(float2 a, float2 b) {
    return float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// e^{sign * 2 pi i * num / den}
inline float2 twiddle(float sign, long num, long den) {
    float f = 2.0f * float(num) / float(den);
    return float2(cospi(f), sign * sinpi(f));
}

// Element j (0 <= j < n) of the line as a complex value; for complex-to-real the
// Hermitian extension of the stored half spectrum.
inline float2 load(device const float* in, thread const Line& L, int j) {
    bool conj_ = false;
    if (L.kind == FFT_C2R && j >= L.in_len) {
        j = L.n - j;
        conj_ = true;
    }
    if (j >= L.in_len) {
        return float2(0.0f, 0.0f);
    }
    long e = L.base + long(j) * L.stride;
    float2 v = L.cplx ? float2(in[2 * e], in[2 * e + 1]) : float2(in[e], 0.0f);
    return conj_ ? float2(v.x, -v.y) : v;
}

inline void store(device float* out, thread const Line& L, uint line, int k, float2 v) {
    long o = long(line) / L.inner, i = long(line) % L.inner;
    long e = (o * L.out_len + k) * L.inner + i;
    if (L.kind == FFT_C2R) {
        out[e] = v.x;
    } else {
        out[2 * e] = v.x;
        out[2 * e + 1] = v.y;
    }
}

// One radix-R butterfly of a Stockham pass (R = 4 or 2): v[r] = src[j + r * n / R] on
// entry; on return v[r] goes to dst[(j / ns) * ns * R + j % ns + r * ns].  k = j % ns.
inline void butterfly(thread float2* v, int R, int k, int ns, float sign) {
    if (ns > 1) {
        v[1] = cmul(v[1], twiddle(sign, k, ns * R));
        if (R == 4) {
            v[2] = cmul(v[2], twiddle(sign, 2 * k, ns * R));
            v[3] = cmul(v[3], twiddle(sign, 3 * k, ns * R));
        }
    }
    if (R == 4) {
        float2 s02 = v[0] + v[2], d02 = v[0] - v[2], s13 = v[1] + v[3], d13 = v[1] - v[3];
        float2 wd = float2(-sign * d13.y, sign * d13.x);         // (sign i) * d13
        v[0] = s02 + s13;
        v[1] = d02 + wd;
        v[2] = s02 - s13;
        v[3] = d02 - wd;
    } else {
        float2 a = v[0];
        v[0] = a + v[1];
        v[1] = a - v[1];
    }
}

inline int radix_of(int n, int ns) {
    return (n / ns) % 4 == 0 ? 4 : 2;
}

// The DFT of the n values in a (a power of two), with b as the other buffer of the
// passes; returns the buffer that holds the result (a or b).  Every thread of the
// group calls it (barriers inside).
inline threadgroup float2* stockham(threadgroup float2* a, threadgroup float2* b, int n,
                                    float sign, uint tid, uint tsize) {
    threadgroup float2* src = a;
    threadgroup float2* dst = b;
    for (int ns = 1; ns < n;) {
        const int R = radix_of(n, ns);
        const int q = n / R;
        for (int j = int(tid); j < q; j += int(tsize)) {
            float2 v[4];
            for (int r = 0; r < R; ++r) {
                v[r] = src[j + r * q];
            }
            butterfly(v, R, j % ns, ns, sign);
            const int d = (j / ns) * ns * R + j % ns;
            for (int r = 0; r < R; ++r) {
                dst[d + r * ns] = v[r];
            }
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        threadgroup float2* t = src;
        src = dst;
        dst = t;
        ns *= R;
    }
    return src;
}

// e^{sign * pi i * j^2 / n}, j^2 reduced mod 2n exactly
inline float2 chirp(float sign, long j, int n) {
    long r = (j * j) % (2 * long(n));
    float f = float(r) / float(n);
    return float2(cospi(f), sign * sinpi(f));
}

// One threadgroup per line.  smem: 2 n values (mode 0) or 3 m values (mode 1).
kernel void fft_g(device const float* in [[buffer(0)]],
                  device float* out [[buffer(1)]],
                  constant long* meta [[buffer(2)]],
                  constant int* p [[buffer(3)]],
                  constant float& scale [[buffer(4)]],
                  threadgroup float2* smem [[threadgroup(0)]],
                  uint line [[threadgroup_position_in_grid]],
                  uint tid [[thread_position_in_threadgroup]],
                  uint tsize [[threads_per_threadgroup]]) {
    Line L = line_of(p, meta, line);
    const int n = L.n;
    const float sign = (L.kind == FFT_C2C_INV || L.kind == FFT_C2R) ? 1.0f : -1.0f;
    if (p[5] == 0) {
        for (int t = int(tid); t < n; t += int(tsize)) {
            smem[t] = load(in, L, t);
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        threadgroup float2* r = stockham(smem, smem + n, n, sign, tid, tsize);
        for (int k = int(tid); k < L.out_len; k += int(tsize)) {
            store(out, L, line, k, r[k] * scale);
        }
        return;
    }
    // Bluestein: X[k] = c[k] * sum_j (x[j] c[j]) conj(c[k - j]), c[j] = e^{sign pi i j^2/n}
    const int m = p[6];
    threadgroup float2* A = smem;
    threadgroup float2* B = smem + m;
    threadgroup float2* S = smem + 2 * m;
    for (int t = int(tid); t < m; t += int(tsize)) {
        A[t] = t < n ? cmul(load(in, L, t), chirp(sign, t, n)) : float2(0.0f);
        int u = t < n ? t : (m - t < n ? m - t : -1);
        float2 c = u >= 0 ? chirp(sign, u, n) : float2(0.0f);
        B[t] = float2(c.x, -c.y);
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    threadgroup float2* fa = stockham(A, S, m, -1.0f, tid, tsize);
    threadgroup float2* free1 = fa == A ? S : A;
    threadgroup float2* fb = stockham(B, free1, m, -1.0f, tid, tsize);
    threadgroup float2* free2 = fb == B ? free1 : B;
    for (int t = int(tid); t < m; t += int(tsize)) {
        fa[t] = cmul(fa[t], fb[t]);
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    threadgroup float2* y = stockham(fa, free2, m, 1.0f, tid, tsize);
    const float inv_m = 1.0f / float(m);
    for (int k = int(tid); k < L.out_len; k += int(tsize)) {
        store(out, L, line, k, cmul(y[k], chirp(sign, k, n)) * (inv_m * scale));
    }
}

// ------------------------------------------------------------------ long lines
// Lines too long for threadgroup memory run as a sequence of dispatches over device
// buffers of nlines * len complex values (len = n, or m for Bluestein): a load, one
// dispatch per Stockham pass (thread (j, line) does one butterfly), for Bluestein a
// pointwise product with the transformed chirp filter and the inverse passes, and a
// store.  Same butterflies, twiddles and chirps as above.

// lp (int): mode (0 plain, 1 Bluestein data, 2 Bluestein filter), len
kernel void fft_load_g(device const float* in [[buffer(0)]],
                       device float2* X [[buffer(1)]],
                       constant long* meta [[buffer(2)]],
                       constant int* p [[buffer(3)]],
                       constant int* lp [[buffer(4)]],
                       uint2 gid [[thread_position_in_grid]]) {
    const int t = int(gid.x), len = lp[1];
    if (t >= len) {
        return;
    }
    Line L = line_of(p, meta, lp[0] == 2 ? 0 : gid.y);
    const int n = L.n;
    const float sign = (L.kind == FFT_C2C_INV || L.kind == FFT_C2R) ? 1.0f : -1.0f;
    float2 v;
    if (lp[0] == 0) {
        v = load(in, L, t);
    } else if (lp[0] == 1) {
        v = t < n ? cmul(load(in, L, t), chirp(sign, t, n)) : float2(0.0f);
    } else {
        int u = t < n ? t : (len - t < n ? len - t : -1);
        float2 c = u >= 0 ? chirp(sign, u, n) : float2(0.0f);
        v = float2(c.x, -c.y);
    }
    X[long(gid.y) * len + t] = v;
}

// pp (int): len (a power of two), ns, sign (+-1)
kernel void fft_pass_g(device const float2* src [[buffer(0)]],
                       device float2* dst [[buffer(1)]],
                       constant int* pp [[buffer(2)]],
                       uint2 gid [[thread_position_in_grid]]) {
    const int len = pp[0], ns = pp[1], R = radix_of(len, ns), q = len / R, j = int(gid.x);
    if (j >= q) {
        return;
    }
    device const float2* s = src + long(gid.y) * len;
    device float2* d = dst + long(gid.y) * len;
    float2 v[4];
    for (int r = 0; r < R; ++r) {
        v[r] = s[j + r * q];
    }
    butterfly(v, R, j % ns, ns, float(pp[2]));
    const int o = (j / ns) * ns * R + j % ns;
    for (int r = 0; r < R; ++r) {
        d[o + r * ns] = v[r];
    }
}

// X[line][t] *= F[t]
kernel void fft_mul_g(device float2* X [[buffer(0)]],
                      device const float2* F [[buffer(1)]],
                      constant int& len [[buffer(2)]],
                      uint2 gid [[thread_position_in_grid]]) {
    if (int(gid.x) >= len) {
        return;
    }
    long i = long(gid.y) * len + gid.x;
    X[i] = cmul(X[i], F[gid.x]);
}

// lp as fft_load_g (mode 0 or 1)
kernel void fft_store_g(device const float2* X [[buffer(0)]],
                        device float* out [[buffer(1)]],
                        constant long* meta [[buffer(2)]],
                        constant int* p [[buffer(3)]],
                        constant int* lp [[buffer(4)]],
                        constant float& scale [[buffer(5)]],
                        uint2 gid [[thread_position_in_grid]]) {
    Line L = line_of(p, meta, gid.y);
    const int k = int(gid.x), len = lp[1];
    if (k >= L.out_len) {
        return;
    }
    float2 v = X[long(gid.y) * len + k];
    if (lp[0] == 1) {
        const float sign = (L.kind == FFT_C2C_INV || L.kind == FFT_C2R) ? 1.0f : -1.0f;
        v = cmul(v, chirp(sign, k, L.n)) * ((1.0f / float(len)) * scale);
    } else {
        v = v * scale;
    }
    store(out, L, gid.y, k, v);
}
