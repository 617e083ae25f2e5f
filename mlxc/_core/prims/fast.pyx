"""mx.fast primitives: one Fast class parameterized by op code and a params tuple.

  RMS_NORM    inputs (x[, w]);           params (eps, has_w)
  LAYER_NORM  inputs (x[, w][, b]);      params (eps, has_w, has_b)
  ROPE        inputs (x[, offset][, freqs]); params (dims, traditional, base, scale,
              offset_int, has_offset_array, has_freqs)
  SDPA        inputs (q, k, v[, mask][, sinks]); params (scale, mask_kind, has_sinks)

SdpaVjp (a primitive of its own, CPU only) is attention's fused vjp; see its docstring.

The op constructors (ops/fast.pyx) give every float input the output's dtype (float32,
float16 or bfloat16), except that attention reads its inputs as float32 copies when they
are not float32 already.  Non-contiguous inputs are copied to row-major first.  The
transform rules (prims/fast_rules.py) are mlxc ops.
"""
import math

from libc.math cimport pow as cpow
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.allocator cimport Buffer, new_buffer
from mlxc._core.array cimport alloc_output, array, new_nodes
from mlxc._core.kernels cimport (MLXC_BOOL, MLXC_FLOAT32, MLXC_INT64, MLXC_UINT8,
                                 mlxc_copy)
from mlxc._core.primitive cimport Primitive, check_status
from mlxc._core.prims.index cimport contig_or_none

cdef extern from "mlxc_kernels.h" nogil:
    enum:
        MLXC_SDPA_MASK_NONE, MLXC_SDPA_MASK_CAUSAL, MLXC_SDPA_MASK_ADD, MLXC_SDPA_MASK_BOOL
    struct mlxc_sdpa_args:
        int64_t B, Hq, Hk, Lq, Lk, D, Dv
        const float *q
        const float *k
        const float *v
        float *out
        float scale
        int mask_kind
        const void *mask
        int64_t m_sb, m_sh, m_sq, m_sk
        const float *sinks
    int mlxc_rms_norm(int dtype, void *out, const void *x, const void *w, int64_t nrows,
                      int64_t n, float eps)
    int mlxc_layer_norm(int dtype, void *out, const void *x, const void *w, const void *b,
                        int64_t nrows, int64_t n, float eps)
    int mlxc_rope(int dtype, void *out, const void *x, int64_t nb, int64_t nmid, int64_t T,
                  int64_t D, int64_t dims, int traditional, const float *inv_freq,
                  float scale, const int64_t *offset, int64_t noff)
    int mlxc_sdpa(const mlxc_sdpa_args *a)
    struct mlxc_sdpa_vjp_args:
        mlxc_sdpa_args f
        const float *dout
        float *dq
        float *dk
        float *dv
        float *dsinks
        float *ds
    int mlxc_sdpa_vjp(const mlxc_sdpa_vjp_args *a)

RMS_NORM, LAYER_NORM, ROPE, SDPA = 0, 1, 2, 3
MASK_NONE, MASK_CAUSAL, MASK_ADD, MASK_BOOL = (MLXC_SDPA_MASK_NONE, MLXC_SDPA_MASK_CAUSAL,
                                               MLXC_SDPA_MASK_ADD, MLXC_SDPA_MASK_BOOL)
_NAMES = ("RMSNorm", "LayerNorm", "RoPE", "ScaledDotProductAttention")
_PUBLIC = ("rms_norm", "layer_norm", "rope", "scaled_dot_product_attention")


cdef inline void *ptr_of(array x, Buffer b) noexcept:
    return x.data() if b is None else b.ptr


cdef int64_t rows_of(array x) noexcept:
    cdef int64_t n = 1
    cdef int i
    for i in range(x.ndim - 1):
        n *= x.dims[i]
    return n


cdef class Fast(Primitive):
    """A fused mx.fast op (op code, params); see the module docstring."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array out = <array>outputs[0]
        alloc_output(out)
        if out.size == 0:
            return 0
        if self.op == RMS_NORM or self.op == LAYER_NORM:
            return _norm(self, inputs, out)
        if self.op == ROPE:
            return _rope(self, inputs, out)
        return _sdpa(self, inputs, out)

    cpdef list output_shapes(self, list inputs):
        if self.op == SDPA:
            q, v = inputs[0], inputs[2]
            return [tuple(q.shape[:3]) + (v.shape[3],)]
        return [tuple(inputs[0].shape)]

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Fast and (<Fast>other).op == self.op
                and (<Fast>other).params == self.params)

    cpdef str name(self):
        return _NAMES[self.op]

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.fast_rules import vjp
        return vjp(self.op, self.params, primals, cotangents, argnums, outputs)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.fast_rules import jvp
        return jvp(self.op, self.params, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        from mlxc._core.prims.fast_rules import vmap
        return vmap(self.op, self.params, inputs, axes)


cdef int _norm(Fast self, list inputs, array out) except -1:
    cdef array x = <array>inputs[0]
    cdef Buffer bx = contig_or_none(x, x.dtype), bw = None, bb = None
    cdef void *w = NULL
    cdef void *b = NULL
    cdef int i = 1, st, opc = self.op
    cdef float eps = self.params[0]
    cdef int64_t n = x.dims[x.ndim - 1], nrows = rows_of(x)
    if self.params[1]:
        bw = contig_or_none(<array>inputs[i], x.dtype)
        w = ptr_of(<array>inputs[i], bw)
        i += 1
    if self.op == LAYER_NORM and self.params[2]:
        bb = contig_or_none(<array>inputs[i], x.dtype)
        b = ptr_of(<array>inputs[i], bb)
    cdef void *xp = ptr_of(x, bx)
    cdef void *op = out.data()
    with nogil:
        if opc == 0:
            st = mlxc_rms_norm(x.dtype, op, xp, w, nrows, n, eps)
        else:
            st = mlxc_layer_norm(x.dtype, op, xp, w, b, nrows, n, eps)
    return check_status(st, _PUBLIC[self.op])

cdef int _rope(Fast self, list inputs, array out) except -1:
    cdef array x = <array>inputs[0], off, fr
    dims, traditional, base, scale, offset_int, has_off, has_freqs = self.params
    cdef int64_t half = dims // 2, noff = 1, j, nmid = 1
    cdef int i = 1, st, trad = traditional
    cdef int64_t cdims = dims
    cdef Buffer bx = contig_or_none(x, x.dtype), boff = None, bfr = None
    cdef void *xp = ptr_of(x, bx)
    cdef int64_t off0 = offset_int
    cdef int64_t *offp = &off0
    cdef float fscale = scale
    cdef float *inv = <float *>malloc(sizeof(float) * (half + 1))
    cdef float *frp
    if inv == NULL:
        raise MemoryError()
    try:
        if has_off:
            off = <array>inputs[i]
            i += 1
            boff = contig_or_none(off, MLXC_INT64)
            offp = <int64_t *>ptr_of(off, boff)
            noff = off.size
        if has_freqs:
            fr = <array>inputs[i]
            bfr = contig_or_none(fr, MLXC_FLOAT32)
            frp = <float *>ptr_of(fr, bfr)
            for j in range(half):
                inv[j] = 1.0 / frp[j]
        else:
            for j in range(half):
                # base ** (-j / half), rounded once to float32
                inv[j] = cpow(<double>base, -<double>j / <double>half)
        for j in range(1, x.ndim - 2):
            nmid *= x.dims[j]
        with nogil:
            st = mlxc_rope(x.dtype, out.data(), xp, x.dims[0], nmid,
                           x.dims[x.ndim - 2], x.dims[x.ndim - 1], cdims, trad, inv,
                           fscale, offp, noff)
    finally:
        free(inv)
    return check_status(st, "rope")

cdef float _dummy = 0.0     # where an empty array's data points


cdef int _sdpa_args(tuple params, list inputs, mlxc_sdpa_args *a, list keep) except -1:
    """a's shapes, q / k / v, scale, mask and sinks from the SDPA inputs (q, k, v[, mask]
    [, sinks]) as float32 (the mask as float32 or bool, in place through its strides);
    the copies made go to keep.  Returns the number of inputs read."""
    cdef array q = <array>inputs[0], k = <array>inputs[1], v = <array>inputs[2], m
    cdef Buffer bm = None, bs
    cdef int64_t ms[4]
    cdef int i, d
    scale, mask_kind, has_sinks = params[:3]
    a.B, a.Hq, a.Lq, a.D = q.dims[0], q.dims[1], q.dims[2], q.dims[3]
    a.Hk, a.Lk, a.Dv = k.dims[1], k.dims[2], v.dims[3]
    a.q = <float *>_f32(q, keep)
    a.k = <float *>_f32(k, keep)
    a.v = <float *>_f32(v, keep)
    a.scale = scale
    a.mask_kind = mask_kind
    a.mask = NULL
    a.m_sb = a.m_sh = a.m_sq = a.m_sk = 0
    a.sinks = NULL
    i = 3
    if mask_kind == MASK_ADD or mask_kind == MASK_BOOL:
        m = <array>inputs[i]
        i += 1
        # read in place through its strides (a broadcast mask is never expanded);
        # only a dtype change copies
        if (mask_kind == MASK_ADD and m.dtype != MLXC_FLOAT32) or \
           (mask_kind == MASK_BOOL and m.dtype != MLXC_BOOL):
            bm = contig_or_none(m, MLXC_FLOAT32 if mask_kind == MASK_ADD else MLXC_BOOL)
            keep.append(bm)
            a.mask = bm.ptr
        else:
            a.mask = m.data()
        for d in range(4):
            ms[d] = 0
        for d in range(m.ndim):
            if m.dims[d] != 1:
                ms[4 - m.ndim + d] = (m.strides[d] if bm is None
                                      else _row_stride(m, d))
        a.m_sb, a.m_sh, a.m_sq, a.m_sk = ms[0], ms[1], ms[2], ms[3]
    if has_sinks:
        a.sinks = <float *>_f32(<array>inputs[i], keep)
        i += 1
    return i


cdef void *_f32(array x, list keep) except NULL:
    """x's data as row-major float32: in place, or a copy kept alive by keep."""
    cdef Buffer b = contig_or_none(x, MLXC_FLOAT32)
    if b is None:
        return x.data() if x.size else <void *>&_dummy
    keep.append(b)
    return b.ptr if x.size else <void *>&_dummy


cdef float *_f32_out(array out, list keep) except NULL:
    """Where a kernel writes out as float32: out itself, or a buffer (keep) that
    _from_f32 converts."""
    cdef Buffer b
    if out.dtype == MLXC_FLOAT32:
        return <float *>out.data() if out.size else &_dummy
    b = new_buffer(<size_t>out.size * 4 + 4)
    keep.append(b)
    return <float *>b.ptr


cdef int _from_f32(array out, const float *src, str op) except -1:
    cdef int64_t sh[1]
    cdef int st
    if out.dtype == MLXC_FLOAT32 or out.size == 0:
        return 0
    sh[0] = out.size
    with nogil:
        st = mlxc_copy(MLXC_FLOAT32, out.dtype, out.data(), NULL, src, NULL, 1, sh)
    return check_status(st, op)


cdef int _sdpa(Fast self, list inputs, array out) except -1:
    cdef mlxc_sdpa_args a
    cdef list keep = []
    cdef int st
    _sdpa_args(self.params, inputs, &a, keep)
    a.out = _f32_out(out, keep)
    with nogil:
        st = mlxc_sdpa(&a)
    check_status(st, "scaled_dot_product_attention")
    return _from_f32(out, a.out, "scaled_dot_product_attention")


cdef int64_t _row_stride(array m, int d) noexcept:
    """Element stride of dim d in a row-major copy of m."""
    cdef int64_t s = 1
    cdef int i
    for i in range(d + 1, m.ndim):
        s *= m.dims[i]
    return s


cdef class SdpaVjp(Primitive):
    """The fused vjp of attention (kernels/attention_vjp.c).  Inputs (q, k, v[, mask]
    [, sinks], out, cotangent of out); params (scale, mask_kind, has_sinks, want_ds).
    Outputs dq, dk, dv (q's dtype), then float32: the sinks' cotangents per batch item
    (B, Hq) when has_sinks, the score cotangents (B, Hq, Lq, Lk) when want_ds (an
    additive mask's, before unbroadcasting).  Its own rules (prims/fast_rules.py)
    differentiate the composed vjp."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef mlxc_sdpa_vjp_args a
        cdef list keep = []
        cdef int i, st
        for x in outputs:
            alloc_output(<array>x)
        i = _sdpa_args(self.params, inputs, &a.f, keep)
        a.f.out = <float *>_f32(<array>inputs[i], keep)
        a.dout = <float *>_f32(<array>inputs[i + 1], keep)
        a.dq = _f32_out(<array>outputs[0], keep)
        a.dk = _f32_out(<array>outputs[1], keep)
        a.dv = _f32_out(<array>outputs[2], keep)
        a.dsinks = _f32_out(<array>outputs[3], keep) if self.params[2] else NULL
        a.ds = _f32_out(<array>outputs[len(outputs) - 1], keep) if self.params[3] else NULL
        with nogil:
            st = mlxc_sdpa_vjp(&a)
        check_status(st, "scaled_dot_product_attention")
        _from_f32(<array>outputs[0], a.dq, "scaled_dot_product_attention")
        _from_f32(<array>outputs[1], a.dk, "scaled_dot_product_attention")
        _from_f32(<array>outputs[2], a.dv, "scaled_dot_product_attention")
        return 0

    cpdef list output_shapes(self, list inputs):
        q, k, v = inputs[0], inputs[1], inputs[2]
        shapes = [tuple(q.shape), tuple(k.shape), tuple(v.shape)]
        if self.params[2]:
            shapes.append(tuple(q.shape[:2]))
        if self.params[3]:
            shapes.append(tuple(q.shape[:3]) + (k.shape[2],))
        return shapes

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is SdpaVjp and (<SdpaVjp>other).params == self.params

    cpdef str name(self):
        return "ScaledDotProductAttentionVJP"

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.fast_rules import vjp_of_vjp
        return vjp_of_vjp(self.params, primals, cotangents, argnums, outputs)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.fast_rules import jvp_of_vjp
        return jvp_of_vjp(self.params, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        from mlxc._core.prims.fast_rules import vmap_of_vjp
        return vmap_of_vjp(self.params, inputs, axes)


def _sdpa_vjp_node(tuple params, tuple inputs):
    """The outputs of a fused attention vjp node (SdpaVjp) on inputs; None when the
    node would run on the GPU (the kernel is CPU only)."""
    cdef SdpaVjp p = SdpaVjp.__new__(SdpaVjp)
    p.params = params
    shapes = p.output_shapes(list(inputs))
    dt = (<array>inputs[0]).dtype
    dtypes = [dt, dt, dt] + [MLXC_FLOAT32] * (len(shapes) - 3)
    outs = new_nodes(dtypes, shapes, p, inputs)
    return None if (<array>outs[0]).device != 0 else outs


cdef Fast fast_prim(int op, tuple params):
    cdef Fast p = Fast.__new__(Fast)
    p.op = op
    p.params = params
    return p


def _fast_prim(int op, tuple params):
    """fast_prim for Python callers (the rules)."""
    return fast_prim(op, params)
