"""eval_gpu of the GEMM family: Matmul, AddMM, GatherMM, SegmentedMM (metal/gemm.metal),
Convolution (an unfold in metal/conv.metal, then the GEMM) and the quantized ops
(metal/quantized.metal; QuantizedMatmul and GatherQMM run the same tiled GEMM with the
weights decoded as its B tiles are staged).

Every product goes through one tiled GEMM kernel whose operands are read through their
strides (transposed and broadcast operands are not copied); the batch is either a
strided multi-index, index buffers (GatherMM) or K ranges (SegmentedMM).
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport ROW_CONTIG, alloc_output, array, new_empty
from mlxc._core.dtype cimport itemsize
from mlxc._core.layout cimport broadcast_strides, collapse
from mlxc._core.metal.gpu_eval cimport (dtype_suffix, gpu_copy_into, input_binding,
                                        output_binding, u32)
from mlxc._core.prims.conv cimport Convolution
from mlxc._core.prims.linalg cimport AddMM, Matmul
from mlxc._core.prims.quant cimport Dequantize, GatherQMM, Quantize, QuantizedMatmul
from mlxc._core.prims.matmul_variants import (GatherMM, SegmentedMM, check_gather_indices,
                                              check_segments)

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch, threads_1d

cdef enum:
    BM = 32                    # gemm.metal's tile (rows x columns) and group size
    BN = 32
    GEMM_THREADS = 64
    COMPLEX64 = 13

# Indices of gemm.metal's parameter block (enum G_*).
cdef enum:
    G_M, G_N, G_K, G_MODE, G_BND, G_HAS_C, G_A_OFF, G_A_RS, G_A_CS, G_B_OFF, G_B_RS, G_B_CS
    G_C_OFF, G_C_RS, G_C_CS, G_O_OFF, G_O_RS, G_O_BS, G_A_BS, G_B_BS, G_NA, G_NB, G_LS, G_RS
    G_L_OFF, G_R_OFF
    G_COUNT

_FLOATS = (9, 10, 11)          # float16, bfloat16, float32 codes: the GEMM's dtypes
_NOTHING = bytes(16)           # a bound but unread buffer


cdef str float_suffix(int code, str op, bint complex_ok=False):
    """The GEMM's kernel suffix (complex64 for Matmul and AddMM, as the CPU)."""
    cdef str sfx = dtype_suffix(code, op, complex_ok)
    if code not in _FLOATS and not (complex_ok and code == COMPLEX64):
        raise TypeError(f"[{op}] the GPU kernel takes float16, bfloat16 or float32, "
                        f"not {sfx}.")
    return sfx


cdef bint gemm_output(array out, str op, bint complex_ok=False) except -1:
    """The GEMM's output: its dtype checked (complex64 too where complex_ok), its buffer
    allocated; False when it is empty (nothing to run)."""
    float_suffix(out.dtype, op, complex_ok)
    alloc_output(out)
    return out.size != 0


def gemm_params():
    """A zeroed parameter block for gemm.metal (a list indexed by G_*)."""
    return [0] * G_COUNT


def run_gemm_kernel(str op, int dt, list p, int64_t nbatch, meta, a, b, c, out,
                    idx0=_NOTHING, idx1=_NOTHING, double alpha=1.0, double beta=0.0,
                    tuple kernel=None, dict extra=None):
    """One dispatch of gemm_g: a, b, c bindings (c may be _NOTHING when p[G_HAS_C] is 0),
    out the output binding, p the parameter block.  kernel: (file, name) of another
    kernel on the same body (gemm_body.h) and buffers 0-8, extra: its further buffers
    (conv.metal's conv_g reads A through the unfold, quantized.metal's qmm_g decodes B;
    p's offsets and strides then count elements of the unfolded input / the dequantized
    weights)."""
    cdef int64_t gx = (p[G_N] + BN - 1) // BN, gy = (p[G_M] + BM - 1) // BM
    if nbatch <= 0 or gx <= 0 or gy <= 0:
        return
    u32(gx * gy * nbatch * GEMM_THREADS)       # thread positions are 32-bit
    bindings = {0: a, 1: b, 2: c, 3: out, 4: _pack(f"<{G_COUNT}q", *p),
                5: meta if meta else _NOTHING, 6: idx0, 7: idx1, 8: _pack("<2f", alpha, beta)}
    if kernel is None:
        kernel = ("gemm.metal", "gemm_g_" + float_suffix(dt, op, True))
    if extra:
        bindings.update(extra)
    dispatch(kernel[0], kernel[1], bindings, (gx, gy, nbatch), (GEMM_THREADS, 1, 1),
             groups=True)


cdef int matmul_into(array a, array b, array c, array out, double alpha, double beta,
                     str op) except -1:
    """out = alpha * a @ b + beta * c over the batch dims (c None or beta 0: not read), as
    the CPU's run_gemm: a (*batch, M, K), b (*batch, K, N), c broadcast to out."""
    cdef int nb = out.ndim - 2, i, nd
    cdef int64_t M = out.dims[nb], N = out.dims[nb + 1], K = a.dims[nb + 1], nbatch = 1
    cdef int64_t *bst[4]
    if not gemm_output(out, op, True):
        return 0
    cdef int w = max(out.ndim, 1)
    cdef int64_t *mem = <int64_t *>malloc(5 * w * sizeof(int64_t))
    if mem == NULL:
        raise MemoryError()
    cdef int64_t *shape = mem
    p = gemm_params()
    try:
        for i in range(4):
            bst[i] = mem + (i + 1) * w
        for i in range(out.ndim):
            bst[2][i] = 0
        sa, p[G_A_OFF] = input_binding(a)
        sb, p[G_B_OFF] = input_binding(b)
        sc = _NOTHING
        if c is not None and beta != 0.0:
            broadcast_strides(c, out, bst[2])      # c seen through out's shape
            sc, p[G_C_OFF] = input_binding(c)
            p[G_C_RS] = bst[2][nb]
            p[G_C_CS] = bst[2][nb + 1]
            p[G_HAS_C] = 1
        for i in range(nb):
            shape[i] = out.dims[i]
            nbatch *= out.dims[i]
            bst[0][i] = a.strides[i]
            bst[1][i] = b.strides[i]
            bst[3][i] = out.strides[i]
        nd = collapse(nb, shape, bst, 4)
        meta = _pack(f"<{5 * nd}q", *([shape[i] for i in range(nd)] +
                                      [bst[0][i] for i in range(nd)] +
                                      [bst[1][i] for i in range(nd)] +
                                      [bst[2][i] for i in range(nd)] +
                                      [bst[3][i] for i in range(nd)]))
    finally:
        free(mem)
    p[G_M] = M
    p[G_N] = N
    p[G_K] = K
    p[G_BND] = nd
    p[G_A_RS] = a.strides[nb]
    p[G_A_CS] = a.strides[nb + 1]
    p[G_B_RS] = b.strides[nb]
    p[G_B_CS] = b.strides[nb + 1]
    p[G_O_RS] = out.strides[nb]
    run_gemm_kernel(op, out.dtype, p, nbatch, meta, sa, sb, sc, output_binding(out),
                    alpha=alpha, beta=beta)
    return 0


def matmul_gpu(Matmul prim, list inputs, list outputs):
    matmul_into(<array>inputs[0], <array>inputs[1], None, <array>outputs[0], 1.0, 0.0,
                "Matmul")


def addmm_gpu(AddMM prim, list inputs, list outputs):
    matmul_into(<array>inputs[0], <array>inputs[1], <array>inputs[2], <array>outputs[0],
                prim.alpha, prim.beta, "AddMM")


def gather_mm_gpu(prim, list inputs, list outputs):
    """Canonical inputs a (Ba, M, K), b (Bb, K, N), lhs/rhs int64 (P,); out (P, M, N).
    The indices are checked first, by the CPU's check (the host reads the index buffers in
    unified memory)."""
    cdef array a = <array>inputs[0], b = <array>inputs[1]
    cdef array l = <array>inputs[2], r = <array>inputs[3], out = <array>outputs[0]
    if not gemm_output(out, "GatherMM"):
        return
    check_gather_indices(a, b, l, r)
    p = gemm_params()
    sa, p[G_A_OFF] = input_binding(a)
    sb, p[G_B_OFF] = input_binding(b)
    sl, p[G_L_OFF] = input_binding(l)
    sr, p[G_R_OFF] = input_binding(r)
    p[G_MODE] = 1
    p[G_M], p[G_N], p[G_K] = out.dims[1], out.dims[2], a.dims[2]
    p[G_A_BS], p[G_A_RS], p[G_A_CS] = a.strides[0], a.strides[1], a.strides[2]
    p[G_B_BS], p[G_B_RS], p[G_B_CS] = b.strides[0], b.strides[1], b.strides[2]
    p[G_O_BS], p[G_O_RS] = out.strides[0], out.strides[1]
    p[G_NA], p[G_NB] = a.dims[0], b.dims[0]
    p[G_LS], p[G_RS] = l.strides[0], r.strides[0]
    run_gemm_kernel("GatherMM", out.dtype, p, out.dims[0], None, sa, sb, _NOTHING,
                    output_binding(out), sl, sr)


def segmented_mm_gpu(prim, list inputs, list outputs):
    """Canonical inputs a (M, K), b (K, N), segments int64 (S, 2); out (S, M, N).  The
    segment bounds are checked first, by the CPU's check."""
    cdef array a = <array>inputs[0], b = <array>inputs[1], sg = <array>inputs[2]
    cdef array out = <array>outputs[0]
    cdef int64_t K = a.dims[1]
    if not gemm_output(out, "SegmentedMM"):
        return
    check_segments(sg, K)
    p = gemm_params()
    sa, p[G_A_OFF] = input_binding(a)
    sb, p[G_B_OFF] = input_binding(b)
    ss, p[G_L_OFF] = input_binding(sg)
    p[G_MODE] = 2
    p[G_M], p[G_N], p[G_K] = out.dims[1], out.dims[2], K
    p[G_A_RS], p[G_A_CS] = a.strides[0], a.strides[1]
    p[G_B_RS], p[G_B_CS] = b.strides[0], b.strides[1]
    p[G_O_BS], p[G_O_RS] = out.strides[0], out.strides[1]
    p[G_LS], p[G_RS] = sg.strides[0], sg.strides[1]
    run_gemm_kernel("SegmentedMM", out.dtype, p, out.dims[0], None, sa, sb, _NOTHING,
                    output_binding(out), ss)


def conv_gpu(Convolution prim, list inputs, list outputs):
    """Per group out[:, g * cog:(g + 1) * cog] = col_g @ w_g^T (batch = groups) by
    conv.metal's conv_g: the GEMM reading col, x unfolded (N * O rows, G * taps * cig
    columns), straight from x."""
    cdef array x = <array>inputs[0], w = <array>inputs[1], out = <array>outputs[0]
    cdef int nsp = x.ndim - 2, d
    cdef int64_t G = prim.groups, cin = x.dims[x.ndim - 1], cout = w.dims[0]
    cdef int64_t cig = cin // G, cog = cout // G, ntaps = 1, nout = 1, rows
    cdef array wc
    cdef str sfx = float_suffix(out.dtype, "Convolution")
    if x.dtype != out.dtype or w.dtype != out.dtype:
        raise TypeError("[Convolution] the GPU kernel takes x and w in the output's dtype.")
    alloc_output(out)
    if out.size == 0:
        return
    for d in range(nsp):
        ntaps *= w.dims[d + 1]
        nout *= out.dims[d + 1]
    rows = x.dims[0] * nout
    sx, xoff = input_binding(x)
    um = [nsp, x.dims[0], G, cig, 1 if prim.flip else 0, xoff, x.strides[0],
          x.strides[x.ndim - 1]]
    for d in range(nsp):
        um += [x.dims[d + 1], w.dims[d + 1], out.dims[d + 1], prim.stride[d],
               prim.pad_lo[d], prim.kdil[d], prim.idil[d], x.strides[d + 1]]
    # The kernel as a (C_out, taps * cig) matrix: row-contiguous (copied on the GPU if not).
    wc = w
    if not (w.flags & ROW_CONTIG):
        wc = new_empty(w.dtype, w._shape)
        gpu_copy_into(w, wc, "Convolution")
    sw, woff = input_binding(wc)
    p = gemm_params()
    kk = ntaps * cig
    p[G_M], p[G_N], p[G_K] = rows, cog, kk
    p[G_BND] = 1
    p[G_A_RS], p[G_A_CS] = G * kk, 1
    p[G_B_OFF], p[G_B_RS], p[G_B_CS] = woff, 1, kk
    p[G_O_RS] = cout
    meta = _pack("<5q", G, kk, cog * kk, 0, cog)     # batch = groups: A, B, C, out strides
    run_gemm_kernel("Convolution", out.dtype, p, G, meta, sx, sw, _NOTHING,
                    output_binding(out), kernel=("conv.metal", "conv_g_" + sfx),
                    extra={9: _pack(f"<{len(um)}q", *um)})


cdef tuple contig_binding(array a, str op, list keep):
    """a's elements as one row-major run: (address, nbytes) from a's first element (a
    GPU copy first when a is not row-contiguous; the copy is appended to keep, which
    must outlive the dispatch)."""
    cdef array c = a
    if not (a.flags & ROW_CONTIG):
        c = new_empty(a.dtype, a._shape)
        gpu_copy_into(a, c, op)
        keep.append(c)
    return (<size_t>c.data(), <size_t>(c.size * itemsize(c.dtype)))


cdef tuple quant_bindings(int mode, int gs, int bits, array w, array sc, array bi,
                          array glob, str op, list keep):
    """The packed weights' bindings for dequant_g / qmm_g: w, scales, biases, global scale
    (row-major; copies appended to keep), and the q parameter block."""
    # (qmm_g takes w as B, buffer 1, and the rest as buffers 9-12: _qmm_extra)
    return (contig_binding(w, op, keep), contig_binding(sc, op, keep),
            contig_binding(bi, op, keep) if bi is not None else _NOTHING,
            contig_binding(glob, op, keep) if glob is not None else _NOTHING,
            _pack("<5i", mode, gs, bits, sc.dtype, 1 if glob is not None else 0))


cdef int dequant_into(int mode, int gs, int bits, array w, array sc, array bi, array glob,
                      array out, str op) except -1:
    """out (allocated, row-major) = dequantize(w, sc, bi[, glob]) over out's elements."""
    cdef int64_t n = out.size
    cdef list keep = []
    if n == 0:
        return 0
    u32(n)
    grid, tg = threads_1d(n)
    qb = quant_bindings(mode, gs, bits, w, sc, bi, glob, op, keep)
    dispatch("quantized.metal", "dequant_g_" + float_suffix(out.dtype, op),
             {0: qb[0], 1: qb[1], 2: qb[2], 3: qb[3], 4: output_binding(out), 5: qb[4],
              6: _pack("<Q", n)}, grid, tg)
    return 0


_QMM = ("quantized.metal", "qmm_g")


cdef dict _qmm_extra(tuple qb):
    return {9: qb[1], 10: qb[2], 11: qb[3], 12: qb[4]}


def dequantize_gpu(Dequantize prim, list inputs, list outputs):
    cdef bint affine = prim.mode == 0
    cdef array out = <array>outputs[0]
    float_suffix(out.dtype, "Dequantize")
    alloc_output(out)
    dequant_into(prim.mode, prim.group_size, prim.bits, <array>inputs[0], <array>inputs[1],
                 <array>inputs[2] if affine else None,
                 <array>inputs[len(inputs) - 1] if prim.has_global else None, out,
                 "Dequantize")


def quantize_gpu(Quantize prim, list inputs, list outputs):
    """One thread per group (quantized.metal's quant_g)."""
    cdef array w = <array>inputs[0]
    cdef array wq = <array>outputs[0], sc = <array>outputs[1]
    cdef array bi = <array>outputs[2] if prim.mode == 0 else None
    cdef str sfx = float_suffix(w.dtype, "Quantize")
    cdef int64_t ngroups = w.size // prim.group_size
    alloc_output(wq)
    alloc_output(sc)
    if bi is not None:
        alloc_output(bi)
    if ngroups == 0:
        return
    u32(ngroups)
    keep = []
    grid, tg = threads_1d(ngroups, 64)
    dispatch("quantized.metal", "quant_g_" + sfx,
             {0: contig_binding(w, "Quantize", keep), 1: output_binding(wq),
              2: output_binding(sc), 3: output_binding(bi) if bi is not None else _NOTHING,
              4: (contig_binding(<array>inputs[1], "Quantize", keep) if prim.has_global
                  else _NOTHING),
              5: _pack("<5i", prim.mode, prim.group_size, prim.bits, 0,
                       1 if prim.has_global else 0),
              6: _pack("<Q", ngroups)}, grid, tg)


cdef tuple qmm_float32(array x, array out, bint affine, str op):
    """The float32 operands of qmm_g: (x, result) — x and out themselves, or for a floating
    mode's half x (the CPU computes in x's dtype, as MLX) a float32 copy of x and a float32
    result the caller casts into out; None when out is empty."""
    cdef array res = out
    if out.dtype != 11 or x.dtype != 11:
        if affine or x.dtype != out.dtype or out.dtype not in (9, 10):
            raise TypeError(f"[{op}] the GPU kernel computes in float32.")
        alloc_output(out)
        if out.size == 0:
            return None
        xf = new_empty(11, x._shape)
        gpu_copy_into(x, xf, op)
        x = xf
        res = new_empty(11, out._shape)
    alloc_output(res)
    return (x, res) if res.size != 0 else None


def quantized_matmul_gpu(QuantizedMatmul prim, list inputs, list outputs):
    """out (float32) = x @ dequantize(w)^T (transpose) or x @ dequantize(w): qmm_g, the
    tiled GEMM decoding the weights into its B tiles (a half x of a floating mode through
    float32, the result cast back)."""
    cdef array x = <array>inputs[0], w = <array>inputs[1], sc = <array>inputs[2]
    cdef array out = <array>outputs[0]
    cdef bint affine = prim.mode == 0
    cdef int64_t wr = w.dims[w.ndim - 2], wc = w.dims[w.ndim - 1] * 32 // prim.bits
    cdef int64_t N = wr if prim.transpose else wc
    cdef int64_t K = wc if prim.transpose else wr
    cdef int64_t M = x.size // K if K > 0 else 0
    ops = qmm_float32(x, out, affine, "QuantizedMatmul")
    if ops is None:
        return
    x, res = ops
    keep = []
    qb = quant_bindings(prim.mode, prim.group_size, prim.bits, w, sc,
                        <array>inputs[3] if affine else None, None, "QuantizedMatmul", keep)
    p = gemm_params()
    p[G_M], p[G_N], p[G_K] = M, N, K
    p[G_A_RS], p[G_A_CS] = K, 1
    if prim.transpose:
        p[G_B_RS], p[G_B_CS] = 1, K
    else:
        p[G_B_RS], p[G_B_CS] = N, 1
    p[G_O_RS] = N
    run_gemm_kernel("QuantizedMatmul", 11, p, 1, None,
                    contig_binding(x, "QuantizedMatmul", keep), qb[0], _NOTHING,
                    output_binding(res), kernel=_QMM, extra=_qmm_extra(qb))
    if res is not out:
        gpu_copy_into(res, out, "QuantizedMatmul")


cdef array host_indices(array idx, int64_t bound, str name):
    """idx (uint32, any layout) read on the host (unified memory) into a new row-major int64
    array, each checked against bound (the CPU's IndexError otherwise)."""
    cdef int64_t n = idx.size, t, off, rem, v
    cdef int d
    cdef array out = new_empty(8, (n,))                  # int64
    alloc_output(out)
    cdef int64_t *dst = <int64_t *>out.data()
    cdef const unsigned int *src = <const unsigned int *>idx.data()
    for t in range(n):
        off = 0
        rem = t
        for d in range(idx.ndim - 1, -1, -1):
            off += (rem % idx.dims[d]) * idx.strides[d]
            rem //= idx.dims[d]
        v = src[off]
        if v >= bound:
            raise IndexError(f"[gather_qmm] index out of range: {name} holds {v} ({bound} "
                             f"matrices).")
        dst[t] = v
    return out


def gather_qmm_gpu(GatherQMM prim, list inputs, list outputs):
    """out (float32, (batch..., M, N)): qmm_g in the GEMM's gather mode over the (lhs, rhs)
    pairs, each weight matrix decoded into the B tiles."""
    cdef bint affine = prim.mode == 0
    cdef int nq = 4 if affine else 3
    cdef array x = <array>inputs[0], w = <array>inputs[1], sc = <array>inputs[2]
    cdef array out = <array>outputs[0], li, ri
    cdef int64_t W = w.dims[0], wr = w.dims[1], wc = w.dims[2] * 32 // prim.bits
    cdef int64_t M = x.dims[1], K = x.dims[2], N = out.dims[out.ndim - 1]
    cdef int64_t P = (<array>inputs[nq]).size
    ops = qmm_float32(x, out, affine, "GatherQMM")
    if ops is None:
        return
    x, res = ops
    li = host_indices(<array>inputs[nq], x.dims[0], "lhs_indices")
    ri = host_indices(<array>inputs[nq + 1], W, "rhs_indices")
    keep = []
    qb = quant_bindings(prim.mode, prim.group_size, prim.bits, w, sc,
                        <array>inputs[3] if affine else None, None, "GatherQMM", keep)
    p = gemm_params()
    p[G_MODE] = 1
    p[G_M], p[G_N], p[G_K] = M, N, K
    p[G_A_BS], p[G_A_RS], p[G_A_CS] = M * K, K, 1
    p[G_B_BS] = wr * wc
    if prim.transpose:
        p[G_B_RS], p[G_B_CS] = 1, K
    else:
        p[G_B_RS], p[G_B_CS] = N, 1
    p[G_O_BS], p[G_O_RS] = M * N, N
    p[G_NA], p[G_NB] = x.dims[0], W
    p[G_LS], p[G_RS] = 1, 1
    run_gemm_kernel("GatherQMM", 11, p, P, None, contig_binding(x, "GatherQMM", keep),
                    qb[0], _NOTHING, output_binding(res), output_binding(li),
                    output_binding(ri), kernel=_QMM, extra=_qmm_extra(qb))
    if res is not out:
        gpu_copy_into(res, out, "GatherQMM")


def register(dict table):
    table[Dequantize] = dequantize_gpu
    table[Quantize] = quantize_gpu
    table[QuantizedMatmul] = quantized_matmul_gpu
    table[GatherQMM] = gather_qmm_gpu
    table[Convolution] = conv_gpu
    table[GatherMM] = gather_mm_gpu
    table[SegmentedMM] = segmented_mm_gpu
    table[Matmul] = matmul_gpu
    table[AddMM] = addmm_gpu
