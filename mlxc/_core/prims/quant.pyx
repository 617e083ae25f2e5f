"""Quantization primitives: Quantize, Dequantize, QuantizedMatmul over kernels/quant.c.

The op constructors (ops/quant.pyx) check every argument with MLX's messages, so these
see valid shapes: a packed matrix of uint32 words whose rows hold K * bits / 32 words,
one scale (and bias) per group of a row.  QuantizedMatmul computes in float32 (the op
casts x, scales and biases and rounds the result to the promoted dtype).

Transform rules (mlxc ops, so they compose):
  * Quantize: its outputs are integer codes and rounded statistics, constant almost
    everywhere: zero cotangents and tangents (as MLX).
  * Dequantize: w = scale * q + bias is linear in scale and bias; q is recovered with
    dequantize(w, 1, 0).  No derivative wrt the packed codes.
  * QuantizedMatmul: d/dx is a quantized_matmul of the cotangent with the other
    transpose; scales and biases get their sums over each group of the weight's
    gradient (as MLX); the packed codes have none.  jvp only wrt x (MLX's error for
    the others).  vmap: batched x goes to the front (the product takes any leading
    dims); a batched weight makes it a batched product (GatherQMM).
  * GatherQMM: the same, per gathered product, with the gradients summed back into the
    matrices the indices picked; vmap folds the vmapped axis into the gathered batch.
"""
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t

from mlxc._core.allocator cimport Buffer
from mlxc._core.array cimport alloc_output, array, new_node
from mlxc._core.dtype cimport dtype_of, itemsize
from mlxc._core.kernels cimport (MLXC_FLOAT32, MLXC_QUANT_AFFINE, MLXC_UINT32, mlxc_dequantize, mlxc_qmm,
                                 mlxc_qmm_fp_half,
                                 mlxc_quantize)
from mlxc._core.prims.index cimport contig_or_none
from mlxc._core.primitive cimport Primitive, check_status

MODES = ("affine", "mxfp4", "mxfp8", "nvfp4")


cdef inline const void *_ptr(array x, Buffer b) noexcept:
    return <const void *>(x.data() if b is None else b.ptr)


cdef class Quantize(Primitive):
    def __init__(self, int mode, int group_size, int bits, bint has_global):
        self.mode = mode
        self.group_size = group_size
        self.bits = bits
        self.has_global = has_global

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array w = <array>inputs[0]
        cdef array wq = <array>outputs[0], sc = <array>outputs[1]
        cdef array bi = <array>outputs[2] if self.mode == MLXC_QUANT_AFFINE else None
        cdef Buffer wb = contig_or_none(w, w.dtype)
        cdef Buffer gb = None
        cdef const float *gp = NULL
        cdef void *bp = NULL
        cdef int st
        if self.has_global:
            gb = contig_or_none(<array>inputs[1], MLXC_FLOAT32)
            gp = <const float *>_ptr(<array>inputs[1], gb)
        alloc_output(wq)
        alloc_output(sc)
        if bi is not None:
            alloc_output(bi)
            bp = bi.data()
        cdef const void *wp = _ptr(w, wb)
        with nogil:
            st = mlxc_quantize(self.mode, w.dtype, wp, w.size, self.group_size, self.bits,
                               <uint32_t *>wq.data(), sc.data(), bp, gp)
        return check_status(st, "quantize")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import zeros_cotangent
        return [zeros_cotangent(primals[a]) for a in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import zeros_cotangent
        return [zeros_cotangent(o) for o in outputs]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _quantize_vmap(self, inputs, axes)

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not Quantize:
            return False
        cdef Quantize o = <Quantize>other
        return (o.mode == self.mode and o.group_size == self.group_size
                and o.bits == self.bits and o.has_global == self.has_global)

    cpdef str name(self):
        return "Quantize"


cdef class Dequantize(Primitive):
    def __init__(self, int mode, int group_size, int bits, int out_dtype, bint has_global):
        self.mode = mode
        self.group_size = group_size
        self.bits = bits
        self.out_dtype = out_dtype
        self.has_global = has_global

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array w = <array>inputs[0], sc = <array>inputs[1]
        cdef array out = <array>outputs[0]
        cdef bint affine = self.mode == MLXC_QUANT_AFFINE
        cdef array bi = <array>inputs[2] if affine else None
        cdef Buffer wb = contig_or_none(w, w.dtype)
        cdef Buffer sb = contig_or_none(sc, sc.dtype)
        cdef Buffer bb = contig_or_none(bi, sc.dtype) if affine else None
        cdef Buffer gb = None
        cdef const float *gp = NULL
        cdef const void *bp = _ptr(bi, bb) if affine else NULL
        cdef int st
        if self.has_global:
            g = <array>inputs[len(inputs) - 1]
            gb = contig_or_none(g, MLXC_FLOAT32)
            gp = <const float *>_ptr(g, gb)
        alloc_output(out)
        cdef const void *wp = _ptr(w, wb)
        cdef const void *sp = _ptr(sc, sb)
        with nogil:
            st = mlxc_dequantize(self.mode, sc.dtype, <const uint32_t *>wp, sp, bp, out.size,
                                 self.group_size, self.bits, gp, out.dtype, out.data())
        return check_status(st, "dequantize")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _dequantize_vjp(self, primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_dequantize_jvp(self, primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _dequantize_vmap(self, inputs, axes, dtype_of(self.out_dtype))

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not Dequantize:
            return False
        cdef Dequantize o = <Dequantize>other
        return (o.mode == self.mode and o.group_size == self.group_size
                and o.bits == self.bits and o.out_dtype == self.out_dtype
                and o.has_global == self.has_global)

    cpdef str name(self):
        return "Dequantize"


cdef class QuantizedMatmul(Primitive):
    def __init__(self, int mode, int group_size, int bits, bint transpose):
        self.mode = mode
        self.group_size = group_size
        self.bits = bits
        self.transpose = transpose

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array x = <array>inputs[0], w = <array>inputs[1], sc = <array>inputs[2]
        cdef array out = <array>outputs[0]
        cdef bint affine = self.mode == MLXC_QUANT_AFFINE
        cdef array bi = <array>inputs[3] if affine else None
        # float32 x, or (floating modes) float16 / bfloat16 x computed in its dtype
        cdef Buffer xb = contig_or_none(x, x.dtype)
        cdef Buffer wb = contig_or_none(w, w.dtype)
        cdef Buffer sb = contig_or_none(sc, sc.dtype)
        cdef Buffer bb = contig_or_none(bi, MLXC_FLOAT32) if affine else None
        cdef int64_t wr = w.dims[w.ndim - 2], wc = w.dims[w.ndim - 1] * 32 // self.bits
        cdef int64_t N = wr if self.transpose else wc
        cdef int64_t K = wc if self.transpose else wr
        cdef int64_t M = x.size // K if K > 0 else 0
        cdef const void *bp = _ptr(bi, bb) if affine else NULL
        cdef int st
        alloc_output(out)
        cdef const void *xp = _ptr(x, xb)
        cdef const void *wp = _ptr(w, wb)
        cdef const void *sp = _ptr(sc, sb)
        cdef int xdt = x.dtype
        with nogil:
            if xdt == MLXC_FLOAT32:
                st = mlxc_qmm(self.mode, M, N, K, <const float *>xp, <const uint32_t *>wp, sp,
                              <const float *>bp, self.transpose, self.group_size, self.bits,
                              NULL, <float *>out.data())
            else:
                st = mlxc_qmm_fp_half(self.mode, xdt, M, N, K, <const uint16_t *>xp,
                                      <const uint32_t *>wp, <const uint8_t *>sp, self.transpose,
                                      self.group_size, self.bits, <uint16_t *>out.data())
        return check_status(st, "quantized_matmul")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _qmm_vjp(self, primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_qmm_jvp(self, primals, tangents, argnums)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _qmm_vmap(self, inputs, axes)

    cpdef list output_shapes(self, list inputs):
        x, w = inputs[0], inputs[1]
        n = w.shape[-2] if self.transpose else w.shape[-1] * 32 // self.bits
        return [tuple(x.shape[:-1]) + (n,)]

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not type(self):       # (GatherQMM inherits this)
            return False
        cdef QuantizedMatmul o = <QuantizedMatmul>other
        return (o.mode == self.mode and o.group_size == self.group_size
                and o.bits == self.bits and o.transpose == self.transpose)

    cpdef str name(self):
        return "QuantizedMatmul"


cdef class GatherQMM(QuantizedMatmul):
    """Batched quantized matmul with MLX's gather semantics: output matrix t is
    x[lhs[t]] @ dequantize(w[rhs[t]]) (transposed when `transpose`), each one product
    of mlxc_qmm, so the weights are never dequantized as a whole.  quantized_matmul
    with batched weights is this with the indices of the broadcast batch.  Parameters
    and is_equivalent are QuantizedMatmul's."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef bint affine = self.mode == MLXC_QUANT_AFFINE
        cdef int nq = 4 if affine else 3
        cdef array x = <array>inputs[0], w = <array>inputs[1], sc = <array>inputs[2]
        cdef array bi = <array>inputs[3] if affine else None
        cdef array li = <array>inputs[nq], ri = <array>inputs[nq + 1]
        cdef array out = <array>outputs[0]
        cdef Buffer xb = contig_or_none(x, x.dtype)      # float32, or a half (fp modes)
        cdef Buffer wb = contig_or_none(w, w.dtype)
        cdef Buffer sb = contig_or_none(sc, sc.dtype)
        cdef Buffer bb = contig_or_none(bi, MLXC_FLOAT32) if affine else None
        cdef Buffer lb = contig_or_none(li, MLXC_UINT32)
        cdef Buffer rb = contig_or_none(ri, MLXC_UINT32)
        cdef int64_t X = x.dims[0], M = x.dims[1], K = x.dims[2], W = w.dims[0]
        cdef int64_t N = out.dims[out.ndim - 1], nb = li.size, t, xi, wi
        cdef int64_t wstep = w.dims[1] * w.dims[2]
        cdef int64_t sstep = sc.dims[1] * sc.dims[2] * itemsize(sc.dtype)
        cdef int st = 0
        alloc_output(out)
        if nb == 0 or M == 0 or N == 0:
            return 0
        cdef const char *xp = <const char *>_ptr(x, xb)
        cdef int xdt = x.dtype, xs = itemsize(x.dtype)
        cdef const uint32_t *wp = <const uint32_t *>_ptr(w, wb)
        cdef const char *sp = <const char *>_ptr(sc, sb)
        cdef const float *bp = <const float *>_ptr(bi, bb) if affine else NULL
        cdef const uint32_t *lp = <const uint32_t *>_ptr(li, lb)
        cdef const uint32_t *rp = <const uint32_t *>_ptr(ri, rb)
        cdef char *op = <char *>out.data()
        for t in range(nb):
            xi = lp[t]
            wi = rp[t]
            if xi >= X or wi >= W:
                raise IndexError(f"[gather_qmm] index out of range: lhs_indices holds {xi} "
                                 f"(x has {X} matrices), rhs_indices {wi} (w has {W}).")
            with nogil:
                if xdt == MLXC_FLOAT32:
                    st = mlxc_qmm(self.mode, M, N, K, <const float *>(xp + xi * M * K * xs),
                                  wp + wi * wstep, <const void *>(sp + wi * sstep),
                                  bp + wi * (sstep // 4) if affine else NULL, self.transpose,
                                  self.group_size, self.bits, NULL,
                                  <float *>(op + t * M * N * xs))
                else:
                    st = mlxc_qmm_fp_half(self.mode, xdt, M, N, K,
                                          <const uint16_t *>(xp + xi * M * K * xs),
                                          wp + wi * wstep, <const uint8_t *>(sp + wi * sstep),
                                          self.transpose, self.group_size, self.bits,
                                          <uint16_t *>(op + t * M * N * xs))
            if st != 0:
                break
        return check_status(st, "gather_qmm")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _gqmm_vjp(self, primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        for a in argnums:
            if a != 0 and a < len(primals) - 2:
                raise RuntimeError("[GatherQMM::jvp] No JVP wrt the quantized matrix yet.")
        k = list(argnums).index(0) if 0 in argnums else -1
        import mlxc.core as mx
        dt = primals[0].dtype                  # float32, or a floating mode's half x
        if k < 0:
            return [mx.zeros(outputs[0].shape, dt)]
        return [gather_qmm_node(self, tangents[k].astype(dt), primals[1:])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _gqmm_vmap(self, inputs, axes)

    cpdef list output_shapes(self, list inputs):
        x, w = inputs[0], inputs[1]
        n = w.shape[-2] if self.transpose else w.shape[-1] * 32 // self.bits
        return [tuple(inputs[len(inputs) - 2].shape) + (x.shape[1], n)]

    cpdef str name(self):
        return "GatherQMM"


def gather_qmm_node(GatherQMM p, x, list rest):
    """A GatherQMM node of p's kind: x (X, M, K) float32 (floating modes: or float16 /
    bfloat16, the output then in that type), rest = [w, scales, (biases,) lhs, rhs] as
    the primitive takes them."""
    n = rest[0].shape[-2] if p.transpose else rest[0].shape[-1] * 32 // p.bits
    return new_node((<array>x).dtype, tuple(rest[-2].shape) + (x.shape[1], n), p,
                    (x,) + tuple(rest))


# ---------------------------------------------------------------- rules (mlxc ops)

def _kw(p):
    return dict(group_size=p.group_size, bits=p.bits, mode=MODES[p.mode])


def _codes(p, w, scales, dtype):
    """The codes q of w as floats of dtype (affine: dequantize with scale 1, bias 0)."""
    import mlxc.core as mx
    one = mx.ones(scales.shape, dtype)
    return mx.dequantize(w, one, mx.zeros(scales.shape, dtype), p.group_size, p.bits,
                         dtype=dtype)


def _group_sum(g, group_size):
    """g (..., K) summed over each group of its last axis: (..., K / group_size)."""
    import mlxc.core as mx
    shape = tuple(g.shape[:-1]) + (g.shape[-1] // group_size, group_size)
    return mx.sum(mx.reshape(g, shape), axis=-1)


def _expand_groups(s, group_size):
    """s (..., G) repeated group_size times along its last axis: (..., G * group_size)."""
    import mlxc.core as mx
    e = mx.expand_dims(s, -1)
    e = mx.broadcast_to(e, tuple(s.shape) + (group_size,))
    return mx.reshape(e, tuple(s.shape[:-1]) + (s.shape[-1] * group_size,))


def _move_front(x, ax, size):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import move_batch_to_front
    if ax >= 0:
        return move_batch_to_front(x, ax)
    return mx.broadcast_to(mx.expand_dims(x, 0), (size,) + tuple(x.shape))


def _quantize_vmap(p, list inputs, list axes):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import move_batch_to_front
    if len(inputs) > 1 and axes[1] >= 0:
        raise ValueError("[quantize] Cannot vmap over the global scale.")
    w = move_batch_to_front(inputs[0], axes[0])
    kw = {} if not p.has_global else {"global_scale": inputs[1]}
    outs = mx.quantize(w, p.group_size, p.bits, MODES[p.mode], **kw)
    return list(outs), [0] * len(outs)


def _dequantize_vmap(p, list inputs, list axes, out_dtype):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import batch_size
    nq = 3 if p.mode == 0 else 2
    if p.has_global and axes[len(inputs) - 1] >= 0:
        raise ValueError("[dequantize] Cannot vmap over the global scale.")
    size = batch_size(inputs[:nq], axes[:nq])
    args = [_move_front(inputs[i], axes[i], size) for i in range(nq)]
    kw = _kw(p)
    if p.has_global:
        kw["global_scale"] = inputs[len(inputs) - 1]
    kw["dtype"] = out_dtype
    if p.mode == 0:
        out = mx.dequantize(args[0], args[1], args[2], **kw)
    else:
        out = mx.dequantize(args[0], args[1], None, **kw)
    return [out], [0]


def _dequantize_vjp(p, list primals, g, list argnums):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, zeros_cotangent
    out = []
    for a in argnums:
        if a == 0 or p.mode != 0 or a > 2:
            out.append(zeros_cotangent(primals[a]))
            continue
        s = primals[1]
        gf = g.astype(mx.float32)
        if a == 1:
            q = _codes(p, primals[0], s, mx.float32)
            out.append(cast_like(_group_sum(gf * q, p.group_size), s))
        else:
            out.append(cast_like(_group_sum(gf, p.group_size), primals[2]))
    return out


def _dequantize_jvp(p, list primals, list tangents, list argnums, out):
    import mlxc.core as mx
    res = None
    for k, a in enumerate(argnums):
        if a == 0 or p.mode != 0 or a > 2:
            continue
        t = _expand_groups(tangents[k], p.group_size).astype(mx.float32)
        if a == 1:
            t = t * _codes(p, primals[0], primals[1], mx.float32)
        res = t if res is None else res + t
    if res is None:
        return mx.zeros(out.shape, out.dtype)
    return res.astype(out.dtype)


def _qmm_vjp(p, list primals, g, list argnums):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, unbroadcast, zeros_cotangent
    x, w, s = primals[0], primals[1], primals[2]
    b = primals[3] if p.mode == 0 else None
    out = []
    for a in argnums:
        if a == 0:
            d = mx.quantized_matmul(g, w, s, b, transpose=not p.transpose, **_kw(p))
            out.append(cast_like(d, x))
        elif a == 1:
            raise RuntimeError("[QuantizedMatmul::vjp] no gradient wrt the quantized weights.")
        elif p.mode != 0:
            raise ValueError("[QuantizedMatmul::vjp] no gradient wrt the scales of a "
                             "floating point quantization mode.")
        else:
            # The weight's gradient in its own (rows, K) layout, then summed per group.
            x2 = mx.reshape(x, (-1, x.shape[-1]))
            g2 = mx.reshape(g, (-1, g.shape[-1]))
            dw = mx.matmul(mx.swapaxes(g2, 0, 1), x2) if p.transpose \
                else mx.matmul(mx.swapaxes(x2, 0, 1), g2)
            if a == 2:
                dw = dw * _codes(p, w, s, mx.float32)
            out.append(cast_like(_group_sum(dw, p.group_size), primals[a]))
    return out


def _qmm_jvp(p, list primals, list tangents, list argnums):
    import mlxc.core as mx
    res = None
    for k, a in enumerate(argnums):
        if a != 0:
            raise RuntimeError("[QuantizedMatmul::jvp] No JVP wrt the quantized matrix yet.")
        b = primals[3] if p.mode == 0 else None
        t = mx.quantized_matmul(tangents[k], primals[1], primals[2], b,
                                transpose=p.transpose, **_kw(p))
        res = t if res is None else res + t
    return res


def _qmm_vmap(p, list inputs, list axes):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import batch_size, move_batch_to_front
    nq = len(inputs)
    x = inputs[0]
    b = inputs[3] if p.mode == 0 else None
    if all(ax < 0 for ax in axes[1:]):
        if axes[0] == x.ndim - 1:
            raise ValueError("[quantized_matmul] vmap over the contracted axis of x is not "
                             "supported.")
        x = move_batch_to_front(x, axes[0])
        return [mx.quantized_matmul(x, inputs[1], inputs[2], b, transpose=p.transpose,
                                    **_kw(p))], [0]
    # A batched weight: a batched quantized_matmul (GatherQMM), the vmapped axis first.
    size = batch_size(inputs, axes)
    w = _move_front(inputs[1], axes[1], size)
    s = _move_front(inputs[2], axes[2], size)
    bb = _move_front(b, axes[3], size) if b is not None else None
    xb = _move_front(x, axes[0], size)
    if xb.ndim == 2:                    # (B, K): one row per weight
        r = mx.quantized_matmul(mx.expand_dims(xb, 1), w, s, bb, transpose=p.transpose,
                                **_kw(p))
        return [mx.squeeze(r, 1)], [0]
    # x (B, ..., M, K) against w (B, rows, words): give w unit dims for x's middle dims
    extra = (1,) * (xb.ndim - 3)
    w, s = (mx.reshape(v, (size,) + extra + tuple(v.shape[1:])) for v in (w, s))
    if bb is not None:
        bb = mx.reshape(bb, (size,) + extra + tuple(bb.shape[1:]))
    return [mx.quantized_matmul(xb, w, s, bb, transpose=p.transpose, **_kw(p))], [0]


def _gqmm_vjp(GatherQMM p, list primals, g, list argnums):
    """x: each output's cotangent through the other transpose, summed into the x matrix
    it was gathered from; scales/biases (affine): each product's weight gradient summed
    into the weight it came from, then per group (as quantized_matmul's)."""
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, zeros_cotangent
    nq = len(primals) - 2
    x, w, s = primals[0], primals[1], primals[2]
    lhs, rhs = primals[nq], primals[nq + 1]
    M, K = x.shape[1], x.shape[2]
    nb = lhs.size
    N = g.shape[-1]
    g3 = mx.reshape(g.astype(mx.float32), (nb, M, N))
    lf = mx.reshape(lhs, (-1,))
    rf = mx.reshape(rhs, (-1,))
    out = []
    for a in argnums:
        if a == 0:
            flip = GatherQMM(p.mode, p.group_size, p.bits, not p.transpose)
            own = mx.arange(nb, dtype=mx.uint32)
            d = gather_qmm_node(flip, g3, [w, s] + list(primals[3:nq]) + [own, rf])
            out.append(mx.zeros((x.shape[0], M, K), mx.float32).at[lf].add(d))
        elif a == 1:
            raise RuntimeError("[GatherQMM::vjp] no gradient wrt the quantized weights.")
        elif a >= nq:
            out.append(zeros_cotangent(primals[a]))
        elif p.mode != 0:
            raise ValueError("[GatherQMM::vjp] no gradient wrt the scales of a floating "
                             "point quantization mode.")
        else:
            xg = mx.take(x, lf, axis=0)
            dw = mx.matmul(mx.swapaxes(g3, -1, -2), xg) if p.transpose \
                else mx.matmul(mx.swapaxes(xg, -1, -2), g3)
            dw = mx.zeros((w.shape[0],) + tuple(dw.shape[1:]), mx.float32).at[rf].add(dw)
            if a == 2:
                dw = dw * _codes(p, w, s, mx.float32)
            out.append(cast_like(_group_sum(dw, p.group_size), primals[a]))
    return out


def _gqmm_vmap(GatherQMM p, list inputs, list axes):
    """The vmapped axis becomes part of the gathered batch: inputs batched along it are
    flattened into their matrix axis and the indices offset by v * (matrices per v)."""
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import batch_size, move_batch_to_front
    nq = len(inputs) - 2
    size = batch_size(inputs, axes)
    x = inputs[0]
    if axes[0] >= 0:
        x = move_batch_to_front(x, axes[0])
        if x.ndim != 4:
            raise ValueError("[gather_qmm] vmap over a matrix axis of x is not supported.")
        xoff = x.shape[1]
        x = mx.reshape(x, (-1,) + tuple(x.shape[2:]))
    else:
        xoff = 0
    wq = list(inputs[1:nq])
    if any(ax >= 0 for ax in axes[1:nq]):
        wq = [_move_front(v, ax, size) for v, ax in zip(wq, axes[1:nq])]
        if wq[0].ndim != 4:
            raise ValueError("[gather_qmm] vmap over a matrix axis of w is not supported.")
        woff = wq[0].shape[1]
        wq = [mx.reshape(v, (-1,) + tuple(v.shape[2:])) for v in wq]
    else:
        woff = 0
    lhs = _move_front(inputs[nq], axes[nq], size).astype(mx.uint32)
    rhs = _move_front(inputs[nq + 1], axes[nq + 1], size).astype(mx.uint32)
    v = mx.reshape(mx.arange(size, dtype=mx.uint32), (size,) + (1,) * (lhs.ndim - 1))
    if xoff:
        lhs = lhs + v * xoff
    if woff:
        rhs = rhs + v * woff
    lhs, rhs = mx.broadcast_arrays(lhs, rhs)
    return [gather_qmm_node(p, x, wq + [lhs, rhs])], [0]
