"""eval_gpu of FFT (prims/fft.pyx): one 1-d transform along one axis, metal/fft.metal.

Lines (the transforms of one node) are read through the input's strides; the path is
chosen by length (see fft.metal): Stockham passes for powers of two, Bluestein's chirp-z
transform otherwise, in threadgroup memory (one dispatch) when a line fits (n <= 1024 /
n <= 512), else pass by pass over device scratch buffers.
"""
from libc.stdint cimport int64_t

from mlxc._core.array cimport alloc_output, array, new_empty
from mlxc._core.kernels cimport (MLXC_COMPLEX64, MLXC_FFT_C2C_INV, MLXC_FFT_C2R,
                                 MLXC_FLOAT32)
from mlxc._core.prims.fft cimport FFT
from mlxc._core.metal.gpu_eval cimport dtype_suffix, input_binding, output_binding, u32

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch

cdef enum:
    STOCKHAM_MAX = 1024        # threadgroup memory: 2 n (16 KiB) or 3 m (24 KiB) values
    MAX_INT = 0x7FFFFFFF


cdef bint pow2(int64_t n) noexcept:
    return n > 0 and (n & (n - 1)) == 0


def fft_gpu(FFT prim, list inputs, list outputs):
    cdef array x = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int ax = prim.axis, d, cplx
    cdef int64_t n = prim.n, nlines = 1, inner = 1, m = 1, in_len = x.dims[ax]
    cdef int64_t out_len = out.dims[ax]
    if x.dtype == MLXC_COMPLEX64:
        cplx = 1
    elif x.dtype == MLXC_FLOAT32:
        cplx = 0
    else:
        dtype_suffix(x.dtype, prim.name())          # float64: Metal has none (raises)
        raise TypeError(f"[{prim.name()}] no Metal kernel for input dtype code {x.dtype}.")
    alloc_output(out)
    if out.size == 0:
        return
    for d in range(x.ndim):
        if d != ax:
            nlines *= x.dims[d]
        if d > ax:
            inner *= x.dims[d]
    for v in (n, in_len, out_len, inner):
        if v > MAX_INT:
            raise ValueError(f"[{prim.name()}] length {v} exceeds the GPU kernel's int32 "
                             f"indexing.")
    u32(nlines)
    src, off = input_binding(x)       # element offset; complex elements are float pairs
    dims = [x.dims[d] for d in range(x.ndim) if d != ax]
    strides = [x.strides[d] for d in range(x.ndim) if d != ax]
    meta = _pack(f"<{2 * len(dims) + 2}q", *(dims + strides + [x.strides[ax], off]))
    if pow2(n):
        m = n
    else:
        while m < 2 * n - 1:
            m *= 2
    if m > MAX_INT:
        raise ValueError(f"[{prim.name()}] length {n} is too long for the GPU kernels.")
    params = _pack("<9i", prim.kind, n, in_len, out_len, cplx, 0 if m == n else 1, m,
                   len(dims), inner)
    bufs = {0: src, 1: output_binding(out), 2: meta, 3: params, 4: _pack("<f", prim.scale)}
    if m <= STOCKHAM_MAX:
        # one threadgroup a line: 2 n values (Stockham) or 3 m values (Bluestein)
        tmem = 2 * n * 8 if m == n else 3 * m * 8
        tg = min(256, max(32, (m // 2 + 31) // 32 * 32))
        dispatch("fft.metal", "fft_g", bufs, (nlines, 1, 1), (tg, 1, 1), {0: tmem},
                 groups=True)
        return
    _long_lines(prim, src, meta, params, out, n, m, nlines, out_len)


cdef tuple scratch(int64_t lines, int64_t m):
    cdef array a = new_empty(MLXC_COMPLEX64, (lines, m))
    return (a, output_binding(a))


cdef tuple passes(tuple x, tuple t, int64_t lines, int64_t m, int sign):
    """The Stockham passes of length m over lines of buffer x (t the other buffer);
    returns (the buffer holding the result, the other one)."""
    cdef int64_t ns = 1, R
    while ns < m:
        R = 4 if (m // ns) % 4 == 0 else 2
        dispatch("fft.metal", "fft_pass_g", {0: x[1], 1: t[1], 2: _pack("<3i", m, ns, sign)},
                 (m // R, lines, 1), (min(m // R, 256), 1, 1))
        x, t = t, x
        ns *= R
    return x, t


cdef _long_lines(FFT prim, src, meta, params, array out, int64_t n, int64_t m,
                 int64_t nlines, int64_t out_len):
    """Lines longer than threadgroup memory holds, pass by pass over device buffers."""
    cdef int sign = 1 if prim.kind == MLXC_FFT_C2C_INV or prim.kind == MLXC_FFT_C2R else -1
    cdef int mode = 0 if m == n else 1
    x = scratch(nlines, m)
    t = scratch(nlines, m)
    tg = (min(m, 256), 1, 1)
    dispatch("fft.metal", "fft_load_g", {0: src, 1: x[1], 2: meta, 3: params,
                                         4: _pack("<2i", mode, m)}, (m, nlines, 1), tg)
    x, t = passes(x, t, nlines, m, sign if mode == 0 else -1)
    if mode == 1:
        # the chirp filter's transform (one line), times each line's, then back
        f = scratch(1, m)
        ft = scratch(1, m)
        dispatch("fft.metal", "fft_load_g", {0: src, 1: f[1], 2: meta, 3: params,
                                             4: _pack("<2i", 2, m)}, (m, 1, 1), tg)
        f, ft = passes(f, ft, 1, m, -1)
        dispatch("fft.metal", "fft_mul_g", {0: x[1], 1: f[1], 2: _pack("<i", m)},
                 (m, nlines, 1), tg)
        x, t = passes(x, t, nlines, m, 1)
    dispatch("fft.metal", "fft_store_g", {0: x[1], 1: output_binding(out), 2: meta,
                                          3: params, 4: _pack("<2i", mode, m),
                                          5: _pack("<f", prim.scale)},
             (out_len, nlines, 1), (min(out_len, 256), 1, 1))


def register(dict table):
    table[FFT] = fft_gpu
