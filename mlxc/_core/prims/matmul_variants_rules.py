"""Transform rules of GatherMM and SegmentedMM, written with mlxc ops on their canonical
forms (GatherMM: a (Ba, M, K), b (Bb, K, N), lhs/rhs int64 (P,), out (P, M, N);
SegmentedMM: a (M, K), b (K, N), segments int64 (S, 2), out (S, M, N))."""
import mlxc.core as mx
from mlxc._core.prims.matmul_variants import gather_mm_node, segmented_mm_node
from mlxc._core.prims.rulekit import move_batch_to_front


def _mT(x):
    return mx.swapaxes(x, -1, -2)


def _arange(n):
    return mx.arange(n, dtype=mx.int64)


def gather_mm_vjp(primals, g, argnums):
    """da[i] = sum over p with lhs[p] = i of g[p] @ b[rhs[p]]^T (a scatter-add of a
    gather_mm), db likewise with a[lhs[p]]^T @ g[p]; the indices get zeros."""
    a, b, lhs, rhs = primals
    P = g.shape[0]
    out = []
    for i in argnums:
        if i == 0:
            d = gather_mm_node(g, _mT(b), _arange(P), rhs, False)
            out.append(mx.zeros(a.shape, a.dtype).at[lhs].add(d))
        elif i == 1:
            out.append(_gather_mm_grad_b(a, b, lhs, rhs, g))
        else:
            out.append(mx.zeros(primals[i].shape, primals[i].dtype))
    return out


def _gather_mm_grad_b(a, b, lhs, rhs, g):
    """db[e] = sum over p with rhs[p] = e of a[lhs[p]]^T @ g[p]: with the pairs ordered by
    rhs, the rows of each matrix e are one contiguous segment, so this is a segmented_mm
    of the gathered rows of a (transposed) with g - exact flops, no (P, K, N) temporary."""
    P, M, K = g.shape[0], g.shape[1], a.shape[2]
    Bb, N = b.shape[0], b.shape[2]
    r = mx.where(rhs < 0, rhs + Bb, rhs)
    order = mx.argsort(r)
    r, lhs, g = r[order], lhs[order], g[order]
    rows = mx.reshape(mx.take(a, lhs, axis=0), (P * M, K))               # (P*M, K)
    counts = mx.zeros((Bb,), mx.int64).at[r].add(mx.ones((P,), mx.int64))
    ends = mx.cumsum(counts) * M
    segs = mx.stack([ends - counts * M, ends], axis=-1)                   # (Bb, 2)
    return segmented_mm_node(_mT(rows), mx.reshape(g, (P * M, N)), segs)


def gather_mm_jvp(primals, tangents, argnums, out):
    """d out = gather_mm(da, b) + gather_mm(a, db) on the same indices."""
    a, b, lhs, rhs = primals
    res = None
    for k, i in enumerate(argnums):
        if i == 0:
            t = gather_mm_node(tangents[k], b, lhs, rhs, False)
        elif i == 1:
            t = gather_mm_node(a, tangents[k], lhs, rhs, False)
        else:
            continue
        res = t if res is None else res + t
    return mx.zeros(out.shape, out.dtype) if res is None else res


def gather_mm_vmap(inputs, axes, sorted_indices):
    """A batch of V problems is one problem over V*Ba (V*Bb) matrices: a batched a (b)
    is flattened and each problem's indices are offset into its own block; the index
    vectors become (V, P) and are flattened."""
    a, b, lhs, rhs = inputs
    ax, bx, lx, rx = axes
    if max(axes) < 0:
        return [gather_mm_node(a, b, lhs, rhs, sorted_indices)], [-1]
    V = next(x.shape[d] for x, d in zip(inputs, axes) if d >= 0)
    lhs = move_batch_to_front(lhs, lx) if lx >= 0 else mx.broadcast_to(lhs, (V,) + lhs.shape)
    rhs = move_batch_to_front(rhs, rx) if rx >= 0 else mx.broadcast_to(rhs, (V,) + rhs.shape)
    if ax >= 0:
        a = move_batch_to_front(a, ax)
        Ba = a.shape[1]
        lhs = mx.where(lhs < 0, lhs + Ba, lhs) + _arange(V)[:, None] * Ba
        a = mx.reshape(a, (V * Ba,) + a.shape[2:])
    if bx >= 0:
        b = move_batch_to_front(b, bx)
        Bb = b.shape[1]
        rhs = mx.where(rhs < 0, rhs + Bb, rhs) + _arange(V)[:, None] * Bb
        b = mx.reshape(b, (V * Bb,) + b.shape[2:])
    P = lhs.shape[1]
    out = gather_mm_node(a, b, mx.reshape(lhs, (V * P,)), mx.reshape(rhs, (V * P,)),
                         sorted_indices)
    return [mx.reshape(out, (V, P) + out.shape[1:])], [0]


def _segment_mask(segments, K, dtype):
    """(S, K): 1 where column k lies in segment s."""
    k = _arange(K)
    inside = (k >= segments[..., :1]) & (k < segments[..., 1:])
    return inside.astype(dtype)


def segmented_mm_vjp(primals, g, argnums):
    """out[s] = a D_s b with D_s the diagonal 0/1 mask of segment s:
    da = sum_s (g[s] @ b^T) D_s,  db = sum_s D_s (a^T @ g[s])."""
    a, b, seg = primals
    out = []
    for i in argnums:
        if i == 0:
            m = _segment_mask(seg, a.shape[1], a.dtype)                  # (S, K)
            out.append(mx.sum((g @ _mT(b)) * mx.expand_dims(m, 1), axis=0))
        elif i == 1:
            m = _segment_mask(seg, a.shape[1], b.dtype)
            out.append(mx.sum((_mT(a) @ g) * mx.expand_dims(m, 2), axis=0))
        else:
            out.append(mx.zeros(seg.shape, seg.dtype))
    return out


def segmented_mm_jvp(primals, tangents, argnums, out):
    a, b, seg = primals
    res = None
    for k, i in enumerate(argnums):
        if i == 0:
            t = segmented_mm_node(tangents[k], b, seg)
        elif i == 1:
            t = segmented_mm_node(a, tangents[k], seg)
        else:
            continue
        res = t if res is None else res + t
    return mx.zeros(out.shape, out.dtype) if res is None else res


def segmented_mm_vmap(inputs, axes):
    """A batch of problems: the masked product over the whole K range (a batched matmul
    of a with each segment's columns masked), batch first."""
    a, b, seg = inputs
    if max(axes) < 0:
        return [segmented_mm_node(a, b, seg)], [-1]
    V = next(x.shape[d] for x, d in zip(inputs, axes) if d >= 0)
    a = move_batch_to_front(a, axes[0]) if axes[0] >= 0 else mx.expand_dims(a, 0)
    b = move_batch_to_front(b, axes[1]) if axes[1] >= 0 else mx.expand_dims(b, 0)
    seg = move_batch_to_front(seg, axes[2]) if axes[2] >= 0 else mx.expand_dims(seg, 0)
    m = _segment_mask(seg, a.shape[-1], a.dtype)                         # (V|1, S, K)
    am = mx.expand_dims(a, 1) * mx.expand_dims(m, 2)                     # (V, S, M, K)
    res = am @ mx.expand_dims(b, 1)                                      # (V, S, M, N)
    return [mx.broadcast_to(res, (V,) + res.shape[1:])], [0]
