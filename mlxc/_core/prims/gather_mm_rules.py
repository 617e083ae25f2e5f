"""GatherMM's transform rules, written with mlxc ops on the canonical form (a (Ba, M, K),
b (Bb, K, N), lhs/rhs int64 (P,), out (P, M, N))."""
import mlxc.core as mx
from mlxc._core.prims.gather_mm import gather_mm_node
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
            d = gather_mm_node(_mT(a), g, lhs, _arange(P), False)
            out.append(mx.zeros(b.shape, b.dtype).at[rhs].add(d))
        else:
            out.append(mx.zeros(primals[i].shape, primals[i].dtype))
    return out


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
