"""eval_gpu of the mx.fast primitive (prims/fast.pyx): rms_norm, layer_norm and rope
(metal/fast.metal), scaled_dot_product_attention (metal/attention.metal).

The kernels compute what the CPU's Fast.eval_cpu computes (see that module's docstring
for each op's inputs and params).  Inputs in layouts the row kernels do not take, and
masks / sinks / offsets in other dtypes, are first copied or cast on the GPU
(gpu_eval.gpu_copy_into): nothing here runs on the CPU.
"""
from libc.math cimport pow as cpow
from libc.stdint cimport int64_t

from mlxc._core.array cimport ROW_CONTIG, alloc_output, array, new_empty
from mlxc._core.kernels cimport MLXC_BOOL, MLXC_FLOAT32, MLXC_INT64
from mlxc._core.prims.fast cimport Fast, SdpaVjp
from mlxc._core.metal.gpu_eval cimport (dtype_suffix, gpu_copy_into, i32, input_binding,
                                        output_binding, u32)

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch
from mlxc._core.prims.fast import (LAYER_NORM, MASK_ADD, MASK_BOOL, RMS_NORM, ROPE, SDPA,
                                   _NAMES)

cdef enum:
    SIMD = 32
    TG_MEMORY = 32768          # bytes of threadgroup memory a kernel may use
    SDPA_MAX_ROWS = 4          # query rows (simdgroups) per attention threadgroup


cdef array as_layout(array a, int dtype, str op):
    """a itself when it is row-contiguous in dtype, else a row-major copy cast to dtype,
    made on the GPU."""
    cdef array c
    if a.dtype == dtype and (a.flags & ROW_CONTIG):
        return a
    dtype_suffix(a.dtype, op)
    c = new_empty(dtype, a._shape)
    gpu_copy_into(a, c, op)
    return c


cdef int64_t rows_of(array x) noexcept:
    cdef int64_t n = 1
    cdef int i
    for i in range(x.ndim - 1):
        n *= x.dims[i]
    return n


def fast_gpu(Fast prim, list inputs, list outputs):
    cdef array out = <array>outputs[0]
    cdef str sfx = dtype_suffix(out.dtype, prim.name())
    alloc_output(out)
    if out.size == 0:
        return
    if prim.op == RMS_NORM or prim.op == LAYER_NORM:
        _norm(prim, inputs, out, sfx)
    elif prim.op == ROPE:
        _rope(prim, inputs, out, sfx)
    else:
        _sdpa(prim, inputs, out, sfx)


cdef _norm(Fast prim, list inputs, array out, str sfx):
    cdef str name = prim.name()
    cdef array x = as_layout(<array>inputs[0], out.dtype, name), w = x, b = x
    cdef int i = 1, mode = 1 if prim.op == LAYER_NORM else 0
    cdef int64_t n = x.dims[x.ndim - 1], nrows = rows_of(x)
    if prim.params[1]:
        w = as_layout(<array>inputs[i], out.dtype, name)
        mode |= 2
        i += 1
    if prim.op == LAYER_NORM and prim.params[2]:
        b = as_layout(<array>inputs[i], out.dtype, name)
        mode |= 4
    bx, ox = input_binding(x)
    bw, ow = input_binding(w)
    bb, ob = input_binding(b)
    u32(n)
    u32(nrows)
    # about 8 elements a thread, whole simdgroups, at most 1024 threads
    cdef int64_t tg = min(1024, max(SIMD, (n + 8 * SIMD - 1) // (8 * SIMD) * SIMD))
    dispatch("fast.metal", "norm_g_" + sfx,
             {0: bx, 1: bw, 2: bb, 3: output_binding(out), 4: _pack("<3q", ox, ow, ob),
              5: _pack("<I", n), 6: _pack("<f", prim.params[0]), 7: i32(mode)},
             (nrows, 1, 1), (tg, 1, 1), groups=True)


cdef _rope(Fast prim, list inputs, array out, str sfx):
    dims, traditional, base, scale, offset_int, has_off, has_freqs = prim.params
    cdef array x = as_layout(<array>inputs[0], out.dtype, "RoPE"), off, fr
    cdef int i = 1, j
    cdef float *tab
    cdef int64_t half = dims // 2, nmid = 1, D = x.dims[x.ndim - 1], T = x.dims[x.ndim - 2]
    cdef int64_t nrows = rows_of(x), kcount
    if has_off:
        off = as_layout(<array>inputs[i], MLXC_INT64, "RoPE")
        i += 1
        boff, ooff = input_binding(off)
        boff = (boff[0] + ooff * 8, off.size * 8)
        noff = off.size
    else:
        boff = _pack("<q", offset_int)
        noff = 1
    if has_freqs:
        fr = as_layout(<array>inputs[i], MLXC_FLOAT32, "RoPE")
        bfr, ofr = input_binding(fr)
        bfr = (bfr[0] + ofr * 4, fr.size * 4)
    else:
        # the inverse frequencies as the CPU forms them: base ** (-j / half) in double,
        # rounded once to float32 (a constant table of the node's parameters)
        fr = new_empty(MLXC_FLOAT32, (max(half, 1),))
        tab = <float *>fr.data()
        for j in range(half):
            tab[j] = cpow(<double>base, -<double>j / <double>half)
        bfr = output_binding(fr)
    for j in range(1, x.ndim - 2):
        nmid *= x.dims[j]
    bx, ox = input_binding(x)
    kcount = half + (D - 2 * half)
    if kcount == 0:
        return
    u32(kcount)
    u32(nrows)
    dispatch("fast.metal", "rope_g_" + sfx,
             {0: bx, 1: output_binding(out), 2: bfr, 3: boff,
              4: _pack("<8q", T, D, half, nmid, noff, 1 if traditional else 0, ox,
                       1 if has_freqs else 0),
              5: _pack("<f", scale)},
             (kcount, nrows, 1), (min(kcount, 256), 1, 1))


cdef list strides4(array a):
    """a's element strides as (b, h, l, d) with 0 on broadcast (size-1) dims, aligned at
    the right (a mask may have fewer dims)."""
    cdef list s = [0, 0, 0, 0]
    cdef int d
    for d in range(a.ndim):
        if a.dims[d] != 1:
            s[4 - a.ndim + d] = a.strides[d]
    return s


cdef _sdpa(Fast prim, list inputs, array out, str sfx):
    scale, mask_kind, has_sinks = prim.params
    cdef array q = <array>inputs[0], k = <array>inputs[1], v = <array>inputs[2]
    cdef array m = q, s = q
    cdef int i = 3
    cdef int64_t B = q.dims[0], Hq = q.dims[1], Lq = q.dims[2], D = q.dims[3]
    cdef int64_t Hk = k.dims[1], Lk = k.dims[2], Dv = v.dims[3]
    for t in (q, k, v):
        if (<array>t).dtype != out.dtype:
            raise TypeError("[ScaledDotProductAttention] q, k and v must share the output's "
                            "dtype on the GPU.")
    if mask_kind == MASK_ADD or mask_kind == MASK_BOOL:
        m = <array>inputs[i]
        i += 1
        want = MLXC_FLOAT32 if mask_kind == MASK_ADD else MLXC_BOOL
        if m.dtype != want:
            m = as_layout(m, want, "ScaledDotProductAttention")
    if has_sinks:
        s = as_layout(<array>inputs[i], MLXC_FLOAT32, "ScaledDotProductAttention")
    # per simdgroup: the scaled query, the output row, the block's probabilities
    cdef int64_t row = (D + Dv + SIMD + 3) // 4 * 4
    cdef int64_t nsg = min(SDPA_MAX_ROWS, Lq, TG_MEMORY // (row * 4))
    if nsg < 1:
        raise ValueError(f"[scaled_dot_product_attention] head dimensions {D} and {Dv} are "
                         f"too large for the GPU kernel (query and value rows must fit "
                         f"32 KiB of threadgroup memory).")
    cdef int64_t nqb = (Lq + nsg - 1) // nsg
    for val in (B, Hq, Hk, Lq, Lk, D, Dv, B * Hq * nqb):
        if val > 0x7FFFFFFF:
            raise ValueError(f"[scaled_dot_product_attention] size {val} exceeds the GPU "
                             f"kernel's int32 indexing.")
    bq, oq = input_binding(q)
    bk, ok = input_binding(k)
    bv, ov = input_binding(v)
    bm, om = input_binding(m)
    bs, os_ = input_binding(s)
    if has_sinks:
        bs = (bs[0] + os_ * 4, s.size * 4)
    meta = _pack("<20q", *(strides4(q) + strides4(k) + strides4(v)
                           + (strides4(m) if m is not q else [0, 0, 0, 0])
                           + [oq, ok, ov, om if m is not q else 0]))
    dims = _pack("<11i", B, Hq, Hk, Lq, Lk, D, Dv, mask_kind, 1 if has_sinks else 0, nqb, row)
    dispatch("attention.metal", "sdpa_g_" + sfx,
             {0: bq, 1: bk, 2: bv, 3: bm, 4: bs, 5: output_binding(out), 6: meta, 7: dims,
              8: _pack("<f", scale)},
             (B * Hq * nqb, 1, 1), (nsg * SIMD, 1, 1), {0: nsg * row * 4}, groups=True)


def sdpa_vjp_gpu(SdpaVjp prim, list inputs, list outputs):
    """Attention's fused vjp has no Metal kernel of its own: its composition (the tiled
    C kernel's maths as mlxc ops, fast_rules._vjp_parts) built on the GPU and run there,
    its results copied into the node's outputs."""
    import mlxc.core as mx
    from mlxc._core.ops.common import stream_scope
    from mlxc._core.prims.fast_rules import _vjp_node_inputs, _vjp_parts
    params = prim.params
    with stream_scope(mx.gpu, "scaled_dot_product_attention"):
        res = _vjp_parts(params[:3], *_vjp_node_inputs(params, inputs), params[3])
        mx.eval(res)
    cdef array o
    for o, r in zip(outputs, res):
        alloc_output(o)
        gpu_copy_into(<array>r, o, "scaled_dot_product_attention")


def register(dict table):
    table[Fast] = fast_gpu
    table[SdpaVjp] = sdpa_vjp_gpu
