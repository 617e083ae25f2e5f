"""eval_gpu of FFT (prims/fft.pyx): one 1-d transform along one axis, metal/fft.metal.

Lines (the transforms of one node) are read through the input's strides; the path is
chosen by length (see fft.metal): Stockham in threadgroup memory for powers of two up to
1024, Bluestein in threadgroup memory for other lengths up to 512, the direct DFT beyond.
"""
from libc.stdint cimport int64_t

from mlxc._core.array cimport alloc_output, array
from mlxc._core.kernels cimport MLXC_COMPLEX64, MLXC_FFT_C2R, MLXC_FLOAT32
from mlxc._core.prims.fft cimport FFT
from mlxc._core.metal.gpu_eval cimport dtype_suffix, input_binding, output_binding, u32

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch

cdef enum:
    STOCKHAM_MAX = 1024        # 2 n complex values in threadgroup memory (16 KiB)
    BLUESTEIN_MAX = 512        # 3 m values, m <= 1024 (24 KiB)
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
    if pow2(n) and n <= STOCKHAM_MAX:
        mode = 0
        tmem = 2 * n * 8
        work = n // 2
    elif n <= BLUESTEIN_MAX:
        mode = 1
        while m < 2 * n - 1:
            m *= 2
        tmem = 3 * m * 8
        work = m // 2
    else:
        mode = 2
    params = _pack("<9i", prim.kind, n, in_len, out_len, cplx, 0 if mode == 2 else mode, m,
                   len(dims), inner)
    bufs = {0: src, 1: output_binding(out), 2: meta, 3: params, 4: _pack("<f", prim.scale)}
    if mode == 2:
        dispatch("fft.metal", "dft_g", bufs, (out_len, nlines, 1), (min(out_len, 64), 1, 1))
    else:
        tg = min(256, max(32, (work + 31) // 32 * 32))
        dispatch("fft.metal", "fft_g", bufs, (nlines, 1, 1), (tg, 1, 1), {0: tmem},
                 groups=True)


def register(dict table):
    table[FFT] = fft_gpu
