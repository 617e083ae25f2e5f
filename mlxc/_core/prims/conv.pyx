"""Convolution: one primitive for every form (conv1d/2d/3d, the transposed ones and
convolve are conv_general with particular parameters).  Inputs (x, w) in the output's
dtype, x (N, *spatial, C_in), w (C_out, *kernel, C_in / groups).

Transform rules, written with the conv op itself so they are differentiable again:
  - input grad: a conv of the output grad (dilated by the stride) with the kernel's
    channel axes swapped and its taps reversed, stepping by the input dilation;
  - weight grad: a conv of the input (batch and channel axes swapped) with the output
    grad as the kernel, stepping by the kernel dilation;
  - jvp: conv(dx, w) + conv(x, dw);
  - vmap: a batched input folds into the batch, a batched kernel into the output
    channels, both batched into the groups.
Paddings in the rules may be negative (they crop); only the public ops refuse that.
"""
from libc.stdint cimport int64_t

from mlxc._core.allocator cimport Buffer
from mlxc._core.array cimport alloc_output, array
from mlxc._core.kernels cimport mlxc_conv
from mlxc._core.primitive cimport Primitive, check_status
from mlxc._core.prims.index cimport contig_or_none


cdef class Convolution(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array x = <array>inputs[0], w = <array>inputs[1], out = <array>outputs[0]
        cdef int nsp = x.ndim - 2, d, st
        cdef int64_t ins[3]
        cdef int64_t ks[3]
        cdef int64_t os[3]
        cdef int64_t s[3]
        cdef int64_t lo[3]
        cdef int64_t kd[3]
        cdef int64_t idl[3]
        cdef int64_t groups = self.groups
        cdef int flip = self.flip
        alloc_output(out)
        if out.size == 0:
            return 0
        for d in range(nsp):
            ins[d] = x.dims[d + 1]
            ks[d] = w.dims[d + 1]
            os[d] = out.dims[d + 1]
            s[d] = self.stride[d]
            lo[d] = self.pad_lo[d]
            kd[d] = self.kdil[d]
            idl[d] = self.idil[d]
        cdef Buffer xb = contig_or_none(x, out.dtype), wb = contig_or_none(w, out.dtype)
        cdef const void *xp = x.data() if xb is None else xb.ptr
        cdef const void *wp = w.data() if wb is None else wb.ptr
        cdef int64_t batch = x.dims[0], cin = x.dims[x.ndim - 1], cout = w.dims[0]
        with nogil:
            st = mlxc_conv(out.dtype, nsp, batch, ins, cin, ks, cout, os, s, lo, kd, idl,
                           groups, flip, xp, wp, out.data())
        return check_status(st, "Convolution")

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not Convolution:
            return False
        cdef Convolution o = <Convolution>other
        return (o.stride == self.stride and o.pad_lo == self.pad_lo and o.pad_hi == self.pad_hi
                and o.kdil == self.kdil and o.idil == self.idil and o.groups == self.groups
                and o.flip == self.flip)

    cpdef str name(self):
        return "Convolution"

    cpdef list output_shapes(self, list inputs):
        x, w = inputs[0], inputs[1]
        return [_out_shape(self, x.shape, w.shape)]

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _conv_vjp(self, primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_conv_jvp(self, primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _conv_vmap(self, inputs, axes)


cdef Convolution conv_prim(tuple stride, tuple pad_lo, tuple pad_hi, tuple kdil, tuple idil,
                           long long groups, bint flip):
    cdef Convolution p = Convolution.__new__(Convolution)
    p.stride = stride
    p.pad_lo = pad_lo
    p.pad_hi = pad_hi
    p.kdil = kdil
    p.idil = idil
    p.groups = groups
    p.flip = flip
    return p


def _out_shape(Convolution p, tuple xs, tuple ws):
    """(N, *spatial out, C_out)."""
    sp = []
    for d in range(len(xs) - 2):
        span = (xs[d + 1] - 1) * p.idil[d] + 1 + p.pad_lo[d] + p.pad_hi[d]
        sp.append((span - (ws[d + 1] - 1) * p.kdil[d] - 1) // p.stride[d] + 1)
    return (xs[0],) + tuple(sp) + (ws[0],)


# Rules as plain functions: mlxc ops imported lazily (mlxc.core imports this module).

def _conv(x, w, stride, lo, hi, kdil, idil, groups, flip):
    from mlxc._core.ops.conv import conv_node
    return conv_node(x, w, tuple(stride), tuple(lo), tuple(hi), tuple(kdil), tuple(idil),
                     groups, flip)


def _input_grad(Convolution p, x, w, g):
    """dx[i] = sum over (o, k) with o*s + k*kd = lo + i*id of g[o] w[k]: a conv of g
    dilated by s, channels swapped in w, taps reversed, stepping by id."""
    import mlxc.core as mx
    nsp = x.ndim - 2
    G = p.groups
    cout, cig = w.shape[0], w.shape[-1]
    ks = w.shape[1:-1]
    # w'[(g, ci), k, co] = w[(g, co), k, ci]
    wg = mx.reshape(w, (G, cout // G) + ks + (cig,))
    perm = (0, nsp + 2) + tuple(range(2, nsp + 2)) + (1,)
    wt = mx.reshape(mx.transpose(wg, perm), (G * cig,) + ks + (cout // G,))
    lo, hi = [], []
    for d in range(nsp):
        k_span = (ks[d] - 1) * p.kdil[d]
        g_len = (g.shape[d + 1] - 1) * p.stride[d] + 1
        l = k_span - p.pad_lo[d]
        lo.append(l)
        hi.append((x.shape[d + 1] - 1) * p.idil[d] + 1 + k_span - g_len - l)
    return _conv(g, wt, p.idil, lo, hi, p.kdil, p.stride, G, not p.flip)


def _weight_grad(Convolution p, x, w, g):
    """dw[(g, co), k, ci] = sum over n, o of g[n, o, (g, co)] xp[n, o*s + k*kd, (g, ci)]:
    a conv whose batch is C_in / groups and channels (group, N), with g as the kernel."""
    import mlxc.core as mx
    nsp = x.ndim - 2
    G = p.groups
    N, cin = x.shape[0], x.shape[-1]
    cout, cig = w.shape[0], w.shape[-1]
    sp, osp, ks = x.shape[1:-1], g.shape[1:-1], w.shape[1:-1]
    # x'[ci, q, (g, n)] = x[n, q, (g, ci)]
    xr = mx.reshape(x, (N,) + sp + (G, cig))
    xt = mx.transpose(xr, (nsp + 2,) + tuple(range(1, nsp + 1)) + (nsp + 1, 0))
    xt = mx.reshape(xt, (cig,) + sp + (G * N,))
    # g'[(g, co), o, n] = g[n, o, (g, co)]
    gr = mx.reshape(g, (N,) + osp + (G, cout // G))
    gt = mx.transpose(gr, (nsp + 1, nsp + 2) + tuple(range(1, nsp + 1)) + (0,))
    gt = mx.reshape(gt, (cout,) + osp + (N,))
    lo, hi = [], []
    for d in range(nsp):
        x_len = (sp[d] - 1) * p.idil[d] + 1
        lo.append(p.pad_lo[d])
        hi.append((ks[d] - 1) * p.kdil[d] + 1 + (osp[d] - 1) * p.stride[d] - x_len
                  - p.pad_lo[d])
    r = _conv(xt, gt, p.kdil, lo, hi, p.stride, p.idil, G, False)   # (cig, *ks, cout)
    r = mx.transpose(r, (nsp + 1,) + tuple(range(1, nsp + 1)) + (0,))
    if p.flip:
        r = r[(slice(None),) + (slice(None, None, -1),) * nsp]
    return r


def _conv_vjp(Convolution p, list primals, g, list argnums):
    from mlxc._core.prims.rulekit import cast_like
    x, w = primals[0], primals[1]
    out = []
    for i in argnums:
        if i == 0:
            out.append(cast_like(_input_grad(p, x, w, g), x))
        else:
            out.append(cast_like(_weight_grad(p, x, w, g), w))
    return out


def _same(Convolution p, x, w):
    return _conv(x, w, p.stride, p.pad_lo, p.pad_hi, p.kdil, p.idil, p.groups, p.flip)


def _conv_jvp(Convolution p, list primals, list tangents, list argnums, out):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like
    x, w = primals[0], primals[1]
    res = None
    for k in range(len(argnums)):
        t = cast_like(tangents[k], out)
        term = _same(p, t, w) if argnums[k] == 0 else _same(p, x, t)
        res = term if res is None else res + term
    if res is None:
        return mx.zeros(out.shape, out.dtype)
    return res


def _conv_vmap(Convolution p, list inputs, list axes):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import move_batch_to_front
    x, w = inputs[0], inputs[1]
    ax, wx = axes[0], axes[1]
    nsp = x.ndim - 2 - (1 if ax >= 0 else 0)
    if ax < 0 and wx < 0:
        return [_same(p, x, w)], [-1]
    x = move_batch_to_front(x, ax)
    w = move_batch_to_front(w, wx)
    G = p.groups
    if wx < 0:
        # the batch joins N
        B, N = x.shape[0], x.shape[1]
        y = _same(p, mx.reshape(x, (B * N,) + x.shape[2:]), w)
        return [mx.reshape(y, (B, N) + y.shape[1:])], [0]
    B, cout = w.shape[0], w.shape[1]
    ks, cig = w.shape[2:-1], w.shape[-1]
    if ax < 0:
        # the batch joins the output channels, inside each group: (g, b, co)
        wg = mx.reshape(w, (B, G, cout // G) + ks + (cig,))
        wg = mx.reshape(mx.swapaxes(wg, 0, 1), (G * B * (cout // G),) + ks + (cig,))
        y = _same(p, x, wg)
        y = mx.reshape(y, y.shape[:-1] + (G, B, cout // G))
        y = mx.reshape(mx.swapaxes(y, -3, -2), y.shape[:-3] + (B, cout))
        return [y], [nsp + 1]
    # both batched: B * G groups, channels (b, g, c)
    N, cin = x.shape[1], x.shape[-1]
    xs = mx.moveaxis(x, 0, -2)                               # (N, *sp, B, C_in)
    xs = mx.reshape(xs, xs.shape[:-2] + (B * cin,))
    ws = mx.reshape(w, (B * cout,) + ks + (cig,))
    y = _conv(xs, ws, p.stride, p.pad_lo, p.pad_hi, p.kdil, p.idil, B * G, p.flip)
    y = mx.reshape(y, y.shape[:-1] + (B, cout))
    return [y], [nsp + 1]
