"""The mx.fast ops composed of mlxc ops, and the vjp / jvp / vmap rules of the Fast
primitive (prims/fast.pyx), by op code.

The compositions compute what the kernels compute (float64, which the kernels do not
cover, runs them directly) and serve the rules where a fused form would not pay.
Attention's vjp is a fused node (SdpaVjp, kernels/attention_vjp.c: tiled, no L x L
array); its composition (_vjp_parts, an L x L array per head) remains only where that
kernel cannot run -- a GPU node (the kernel has no Metal version) -- and as the fused
node's own vjp / jvp (second derivatives).  Attention's jvp recomputes the
probabilities with matmuls.  Rules are mlxc ops, so they are differentiable again.
"""
import mlxc.core as mx
from mlxc._core.prims.fast import (LAYER_NORM, MASK_ADD, MASK_BOOL, MASK_CAUSAL, RMS_NORM,
                                   ROPE, SDPA)
from mlxc._core.prims.rulekit import materialize_batch, move_batch_to_front, unbroadcast


def _f32(x):
    """x in the dtype its statistics are computed in (half types: float32)."""
    return x.astype(mx.float32) if x.dtype in (mx.float16, mx.bfloat16) else x


def _lead_sum(g, n):
    """g summed down to its last axis (a weight's cotangent), n its size."""
    return mx.reshape(g, (-1, n)).sum(axis=0) if g.ndim > 1 else g


# ------------------------------------------------------------------- norms
def _norm_stats(op, x, eps):
    """(xhat, r) of a row-normalization: xhat = (x - mean) * r (rms: x * r)."""
    xf = _f32(x)
    if op == RMS_NORM:
        r = mx.rsqrt(mx.mean(xf * xf, axis=-1, keepdims=True) + eps)
        return xf * r, r
    d = xf - mx.mean(xf, axis=-1, keepdims=True)
    r = mx.rsqrt(mx.mean(d * d, axis=-1, keepdims=True) + eps)
    return d * r, r


def ref_norm(op, x, w, b, eps):
    xhat, _ = _norm_stats(op, x, eps)
    y = xhat
    if w is not None:
        y = y * _f32(w)
    if b is not None:
        y = y + _f32(b)
    return y.astype(x.dtype)


def _norm_inputs(op, params, primals):
    x, rest = primals[0], list(primals[1:])
    w = rest.pop(0) if params[1] else None
    b = rest.pop(0) if op == LAYER_NORM and params[2] else None
    return x, w, b


def _norm_vjp(op, params, primals, g, argnums):
    eps = params[0]
    x, w, b = _norm_inputs(op, params, primals)
    n = x.shape[-1]
    xhat, r = _norm_stats(op, x, eps)
    g = _f32(g)
    gw = g * _f32(w) if w is not None else g
    if op == RMS_NORM:
        gx = r * (gw - xhat * mx.mean(gw * xhat, axis=-1, keepdims=True))
    else:
        gx = r * (gw - mx.mean(gw, axis=-1, keepdims=True)
                  - xhat * mx.mean(gw * xhat, axis=-1, keepdims=True))
    cots = {0: gx.astype(x.dtype)}
    i = 1
    if w is not None:
        cots[i] = _lead_sum(g * xhat, n).astype(w.dtype)
        i += 1
    if b is not None:
        cots[i] = _lead_sum(g, n).astype(b.dtype)
    return [cots[a] for a in argnums]


def _norm_jvp(op, params, primals, tangents, argnums):
    eps = params[0]
    x, w, b = _norm_inputs(op, params, primals)
    t = dict(zip(argnums, tangents))
    xhat, r = _norm_stats(op, x, eps)
    out = None
    if 0 in t:
        dx = _f32(t[0])
        if op == RMS_NORM:
            dxh = r * (dx - xhat * mx.mean(xhat * dx, axis=-1, keepdims=True))
        else:
            dxh = r * (dx - mx.mean(dx, axis=-1, keepdims=True)
                       - xhat * mx.mean(xhat * dx, axis=-1, keepdims=True))
        out = dxh * _f32(w) if w is not None else dxh
    i = 1
    if w is not None:
        if i in t:
            term = xhat * _f32(t[i])
            out = term if out is None else out + term
        i += 1
    if b is not None and i in t:
        term = mx.broadcast_to(_f32(t[i]), x.shape)
        out = term if out is None else out + term
    if out is None:
        out = mx.zeros(x.shape, x.dtype)
    return [out.astype(x.dtype)]


# -------------------------------------------------------------------- rope
def _rope_inputs(params, primals):
    rest = list(primals[1:])
    off = rest.pop(0) if params[5] else None
    freqs = rest.pop(0) if params[6] else None
    return primals[0], off, freqs


def ref_rope(params, x, off, freqs):
    dims, traditional, base, scale, off_int, _, _ = params
    half = dims // 2
    ct = mx.float64 if x.dtype == mx.float64 else mx.float32
    if freqs is not None:
        inv = 1.0 / freqs.astype(ct)
    else:
        inv = mx.power(mx.array(base, dtype=mx.float64), -mx.arange(half, dtype=mx.float64) / half).astype(ct)
    T = x.shape[-2]
    pos = mx.arange(T, dtype=ct)
    if off is not None:
        o = off.astype(ct)
        if o.size == 1:
            pos = pos + mx.reshape(o, ())
        else:
            pos = mx.reshape(o, (-1,) + (1,) * (x.ndim - 2)) + pos
    else:
        pos = pos + off_int
    theta = mx.expand_dims(pos * scale, -1) * inv
    c, s = mx.cos(theta), mx.sin(theta)
    xf = x.astype(ct)
    if traditional:
        pairs = mx.reshape(xf[..., :dims], x.shape[:-1] + (half, 2))
        x1, x2 = pairs[..., 0], pairs[..., 1]
        rot = mx.stack([x1 * c - x2 * s, x1 * s + x2 * c], axis=-1)
        rot = mx.reshape(rot, rot.shape[:-2] + (dims,))
    else:
        x1, x2 = xf[..., :half], xf[..., half:dims]
        rot = mx.concatenate([x1 * c - x2 * s, x1 * s + x2 * c], axis=-1)
    if dims < x.shape[-1]:
        rot = mx.concatenate([rot, xf[..., dims:]], axis=-1)
    return rot.astype(x.dtype)


def _rope_call(params, x, off, freqs):
    from mlxc._core.ops.fast import rope
    dims, traditional, base, scale, off_int, _, _ = params
    return rope(x, dims, traditional, base, scale, off if off is not None else off_int, freqs)


def _rope_inverse(params, g, off, freqs):
    """The transpose of a rotation is the rotation by the opposite angles."""
    p = list(params)
    p[3] = -p[3]
    return _rope_call(tuple(p), g, off, freqs)


# --------------------------------------------------------------- attention
def _sdpa_inputs(params, primals):
    q, k, v = primals[:3]
    rest = list(primals[3:])
    m = rest.pop(0) if params[1] in (MASK_ADD, MASK_BOOL) else None
    s = rest.pop(0) if params[2] else None
    return q, k, v, m, s


def _probs(params, q, k, m, sinks):
    """Probabilities, float32 (float64 inputs: float64), grouped as (B, Hk, G, Lq, Lk);
    the sink's probability (B, Hk, G, Lq, 1) or None; the boolean keep-mask of a causal
    or boolean mask (masked scores are constants: no derivative flows to them) or None."""
    scale, kind, _ = params
    B, Hq, Lq, D = q.shape
    Hk, Lk = k.shape[1], k.shape[2]
    G = Hq // Hk
    ct = mx.float64 if q.dtype == mx.float64 else mx.float32
    qg = mx.reshape(q.astype(ct), (B, Hk, G, Lq, D))
    kg = mx.expand_dims(k.astype(ct), 2)
    s = (qg * scale) @ mx.swapaxes(kg, -1, -2)
    keep = None
    if kind == MASK_CAUSAL:
        keep = mx.expand_dims(mx.arange(Lq), 1) + (Lk - Lq) >= mx.arange(Lk)
        s = mx.where(keep, s, mx.finfo(ct).min)
    elif kind == MASK_BOOL:
        keep = mx.reshape(mx.broadcast_to(m, (B, Hq, Lq, Lk)), (B, Hk, G, Lq, Lk))
        s = mx.where(keep, s, mx.finfo(ct).min)
    elif kind == MASK_ADD:
        mm = mx.reshape(mx.broadcast_to(m.astype(ct), (B, Hq, Lq, Lk)), (B, Hk, G, Lq, Lk))
        s = s + mm
    if sinks is not None:
        sk = mx.broadcast_to(mx.reshape(sinks.astype(ct), (1, Hk, G, 1, 1)), (B, Hk, G, Lq, 1))
        p = mx.softmax(mx.concatenate([sk, s], axis=-1), axis=-1, precise=True)
        return p[..., 1:], p[..., :1], keep
    return mx.softmax(s, axis=-1, precise=True), None, keep


def ref_sdpa(params, q, k, v, m, sinks):
    B, Hq, Lq, _ = q.shape
    p, _, _ = _probs(params, q, k, m, sinks)
    o = p @ mx.expand_dims(v.astype(p.dtype), 2)
    return mx.reshape(o, (B, Hq, Lq, v.shape[-1])).astype(q.dtype)


def _vjp_parts(params, q, k, v, m, sinks, out, g, want_ds):
    """What the fused vjp node (SdpaVjp) outputs, composed of mlxc ops (an L x L array
    per head): [dq, dk, dv (q's dtype)] + [the sinks' cotangents per batch item (B, Hq),
    float32] + [the score cotangents (B, Hq, Lq, Lk), float32, when want_ds]."""
    scale, kind, _ = params[:3]
    B, Hq, Lq, D = q.shape
    Hk, Lk, Dv = k.shape[1], k.shape[2], v.shape[3]
    G = Hq // Hk
    p, ps, keep = _probs(params, q, k, m, sinks)
    ct = p.dtype
    go = mx.reshape(g.astype(ct), (B, Hk, G, Lq, Dv))
    og = mx.reshape(out.astype(ct), (B, Hk, G, Lq, Dv))
    vg = mx.expand_dims(v.astype(ct), 2)
    dv = (mx.swapaxes(p, -1, -2) @ go).sum(axis=2)
    dp = go @ mx.swapaxes(vg, -1, -2)
    delta = mx.sum(go * og, axis=-1, keepdims=True)
    ds = p * (dp - delta)
    if keep is not None:
        ds = mx.where(keep, ds, 0.0)
    qg = mx.reshape(q.astype(ct), (B, Hk, G, Lq, D))
    dq = scale * (ds @ mx.expand_dims(k.astype(ct), 2))
    dk = scale * (mx.swapaxes(ds, -1, -2) @ qg).sum(axis=2)
    res = [mx.reshape(dq, q.shape).astype(q.dtype), dk.astype(q.dtype), dv.astype(q.dtype)]
    if sinks is not None:
        dsink = -(ps * delta)           # d(out)/d(sink) through the normalization only
        res.append(mx.reshape(dsink.sum(axis=(3, 4)), (B, Hq)).astype(mx.float32))
    if want_ds:
        res.append(mx.reshape(ds, (B, Hq, Lq, Lk)).astype(mx.float32))
    return res


def _sdpa_vjp(params, primals, g, argnums, out):
    from mlxc._core.prims.fast import _sdpa_vjp_node
    kind = params[1]
    q, k, v, m, sinks = _sdpa_inputs(params, primals)
    want_ds = kind == MASK_ADD and 3 in argnums
    # the fused kernel (CPU, the Fast primitive's dtypes: float64 never reaches it)
    parts = _sdpa_vjp_node(tuple(params) + (want_ds,), tuple(primals) + (out, g))
    if parts is None:
        # the L x L composition: only for a GPU node (the kernel has no Metal version)
        parts = _vjp_parts(params, q, k, v, m, sinks, out, g, want_ds)
    cots = {0: parts[0], 1: parts[1], 2: parts[2]}
    i = 3
    if m is not None:
        cots[3] = (unbroadcast(parts[-1], m.shape).astype(m.dtype) if want_ds
                   else mx.zeros(m.shape, m.dtype))
        i = 4
    if sinks is not None:
        cots[i] = parts[3].sum(axis=0).astype(sinks.dtype)
    return [cots[a] for a in argnums]


def _vjp_node_inputs(params, primals):
    """(q, k, v, m, sinks, out, g) of an SdpaVjp node's inputs."""
    q, k, v, m, s = _sdpa_inputs(params, primals[:-2])
    return q, k, v, m, s, primals[-2], primals[-1]


def _vjp_node_fn(params, primals, argnums):
    """The node's outputs as a function of the primals at argnums (the composition)."""
    def f(*xs):
        full = list(primals)
        for a, x in zip(argnums, xs):
            full[a] = x
        return _vjp_parts(params[:3], *_vjp_node_inputs(params, full), params[3])
    return f


def vjp_of_vjp(params, primals, cotangents, argnums, outputs):
    """The fused vjp's own vjp: that of its composition (second derivatives)."""
    cots = [c if c is not None else mx.zeros(o.shape, o.dtype)
            for c, o in zip(cotangents, outputs)]
    _, res = mx.vjp(_vjp_node_fn(params, primals, argnums), [primals[a] for a in argnums],
                    cots)
    return list(res)


def jvp_of_vjp(params, primals, tangents, argnums, outputs):
    _, res = mx.jvp(_vjp_node_fn(params, primals, argnums), [primals[a] for a in argnums],
                    list(tangents))
    return list(res)


def _sdpa_jvp(params, primals, tangents, argnums, out):
    scale, kind, _ = params
    q, k, v, m, sinks = _sdpa_inputs(params, primals)
    t = dict(zip(argnums, tangents))
    B, Hq, Lq, D = q.shape
    Hk, Lk, Dv = k.shape[1], k.shape[2], v.shape[3]
    G = Hq // Hk
    p, ps, keep = _probs(params, q, k, m, sinks)
    ct = p.dtype
    ds = mx.zeros(p.shape, ct)
    if 0 in t:
        dqg = mx.reshape(t[0].astype(ct), (B, Hk, G, Lq, D))
        ds = ds + scale * (dqg @ mx.swapaxes(mx.expand_dims(k.astype(ct), 2), -1, -2))
    if 1 in t:
        qg = mx.reshape(q.astype(ct), (B, Hk, G, Lq, D))
        ds = ds + scale * (qg @ mx.swapaxes(mx.expand_dims(t[1].astype(ct), 2), -1, -2))
    i = 3
    if m is not None:
        if kind == MASK_ADD and i in t:
            dm = mx.broadcast_to(t[i].astype(ct), (B, Hq, Lq, Lk))
            ds = ds + mx.reshape(dm, (B, Hk, G, Lq, Lk))
        i += 1
    dsink = None
    if sinks is not None and i in t:
        dsink = mx.reshape(t[i].astype(ct), (1, Hk, G, 1, 1))
    if keep is not None:
        ds = mx.where(keep, ds, 0.0)
    mean = mx.sum(p * ds, axis=-1, keepdims=True)
    if dsink is not None:
        mean = mean + ps * dsink
    dp = p * (ds - mean)
    vg = mx.expand_dims(v.astype(ct), 2)
    do = dp @ vg
    if 2 in t:
        do = do + p @ mx.expand_dims(t[2].astype(ct), 2)
    return [mx.reshape(do, (B, Hq, Lq, Dv)).astype(out.dtype)]


# ---------------------------------------------------------------- dispatch
def vjp(op, params, primals, cotangents, argnums, outputs):
    g = cotangents[0]
    if op in (RMS_NORM, LAYER_NORM):
        return _norm_vjp(op, params, primals, g, argnums)
    if op == ROPE:
        x, off, freqs = _rope_inputs(params, primals)
        res = []
        for a in argnums:
            res.append(_rope_inverse(params, g, off, freqs) if a == 0
                       else mx.zeros(primals[a].shape, primals[a].dtype))
        return res
    return _sdpa_vjp(params, primals, g, argnums, outputs[0])


def jvp(op, params, primals, tangents, argnums, outputs):
    if op in (RMS_NORM, LAYER_NORM):
        return _norm_jvp(op, params, primals, tangents, argnums)
    if op == ROPE:
        x, off, freqs = _rope_inputs(params, primals)
        t = dict(zip(argnums, tangents))
        if 0 not in t:
            return [mx.zeros(x.shape, x.dtype)]
        return [_rope_call(params, t[0], off, freqs)]
    return _sdpa_jvp(params, primals, tangents, argnums, outputs[0])


def _size(inputs, axes):
    for x, ax in zip(inputs, axes):
        if ax >= 0:
            return x.shape[ax]
    return 1


def _loop(fn, inputs, axes):
    """The batched op as a stack of unbatched calls (rare layouts)."""
    n = _size(inputs, axes)
    outs = []
    for i in range(n):
        args = [x if ax < 0 else mx.take(x, i, axis=ax) for x, ax in zip(inputs, axes)]
        outs.append(fn(*args))
    return ([mx.stack(outs)], [0])


def vmap(op, params, inputs, axes):
    from mlxc._core.ops import fast as F
    if op in (RMS_NORM, LAYER_NORM):
        def call(*xs):
            x, w, b = _norm_inputs(op, params, list(xs))
            return F.norm(op, x, w, b, params[0])
        if any(ax >= 0 for ax in axes[1:]):
            # a batched weight / bias: the composition, the weights broadcast per item
            n = _size(inputs, axes)
            xs = [materialize_batch(inputs[0], axes[0], n)]
            for x, ax in zip(inputs[1:], axes[1:]):
                x = materialize_batch(x, ax, n)
                xs.append(mx.reshape(x, (n,) + (1,) * (xs[0].ndim - 2) + x.shape[-1:]))
            x, w, b = _norm_inputs(op, params, xs)
            return ([ref_norm(op, x, w, b, params[0])], [0])
        return ([call(move_batch_to_front(inputs[0], axes[0]), *inputs[1:])], [0])
    if op == ROPE:
        x, off, freqs = _rope_inputs(params, inputs)
        ax = dict(zip(range(len(inputs)), axes))
        fax = axes[len(inputs) - 1] if params[6] else -1
        if fax >= 0:
            return _loop(lambda *xs: _rope_call(params, *_rope_inputs(params, list(xs))),
                         inputs, axes)
        n = _size(inputs, axes)
        if off is None or (ax.get(1, -1) < 0 and off.size == 1):
            return ([_rope_call(params, move_batch_to_front(x, axes[0]), off, freqs)], [0])
        # per-example offsets: the vmapped axis and the batch axis merge into one
        xb = materialize_batch(x, axes[0], n)
        B = xb.shape[1]
        if ax[1] >= 0:
            o = mx.reshape(move_batch_to_front(off, ax[1]), (n, -1))
        else:
            o = materialize_batch(mx.reshape(off, (-1,)), -1, n)
        o = mx.reshape(mx.broadcast_to(o, (n, B)), (n * B,))
        y = _rope_call(params, mx.reshape(xb, (n * B,) + xb.shape[2:]), o, freqs)
        return ([mx.reshape(y, xb.shape)], [0])
    # attention: merge the vmapped axis into the batch axis
    q, k, v, m, s = _sdpa_inputs(params, inputs)
    sax = axes[-1] if params[2] else -1
    if sax >= 0:
        return _loop(lambda *xs: F.sdpa(*_sdpa_call_args(params, xs)), inputs, axes)
    n = _size(inputs, axes)
    qkv, B = _merge_batch(inputs[:3], axes[:3], n)
    mask = "causal" if params[1] == MASK_CAUSAL else _merge_mask(m, axes, n, B)
    y = F.sdpa(*qkv, params[0], mask, s)
    return ([mx.reshape(y, (n, B) + y.shape[1:])], [0])


def _merge_batch(xs, axes, n):
    """Attention operands (batch, ...) with the vmapped axis merged into the batch
    axis, and the batch size."""
    xs = [materialize_batch(x, a, n) for x, a in zip(xs, axes)]
    B = xs[0].shape[1]
    return [mx.reshape(x, (n * B,) + x.shape[2:]) for x in xs], B


def _merge_mask(m, axes, n, B):
    """The mask (input 3) for the merged batch: itself when it is not batched and
    broadcasts over the batch, else materialized (n * B, ...); None stays None."""
    if m is None:
        return None
    mb = axes[3]
    if mb < 0 and (m.ndim < 4 or m.shape[0] == 1):
        return m
    mm = materialize_batch(m, mb, n)
    mm = mx.reshape(mm, (n,) + (1,) * (5 - mm.ndim) + mm.shape[1:])
    full = (n, B) + mm.shape[2:]
    return mx.reshape(mx.broadcast_to(mm, full), (n * B,) + mm.shape[2:])


def _vjp_node_call(params, inputs):
    """An SdpaVjp node's outputs: the fused node, or its composition on the GPU."""
    from mlxc._core.prims.fast import _sdpa_vjp_node
    res = _sdpa_vjp_node(params, tuple(inputs))
    return res if res is not None else _vjp_parts(params[:3],
                                                  *_vjp_node_inputs(params, inputs), params[3])


def vmap_of_vjp(params, inputs, axes):
    """The fused vjp node batched: the vmapped axis merged into the batch axis (the
    sinks' per-item cotangents come out per merged batch item); batched sinks: a loop."""
    q, k, v, m, s, out, g = _vjp_node_inputs(params, inputs)
    n = _size(inputs, axes)
    if params[2] and axes[-3] >= 0:
        items = [_vjp_node_call(params, [x if a < 0 else mx.take(x, i, axis=a)
                                         for x, a in zip(inputs, axes)])
                 for i in range(n)]
        return ([mx.stack(list(o)) for o in zip(*items)], [0] * len(items[0]))
    arrs, B = _merge_batch([q, k, v, out, g], list(axes[:3]) + list(axes[-2:]), n)
    mask = _merge_mask(m, axes, n, B)
    ins = arrs[:3] + [t for t in (mask, s) if t is not None] + arrs[3:]
    res = _vjp_node_call(params, ins)
    return ([mx.reshape(r, (n, B) + r.shape[1:]) for r in res], [0] * len(res))


def _sdpa_call_args(params, xs):
    q, k, v, m, s = _sdpa_inputs(params, list(xs))
    mask = "causal" if params[1] == MASK_CAUSAL else m
    return q, k, v, params[0], mask, s
