"""Pieces shared by the primitives' transform rules (vjp, jvp, vmap).

Rules are written with mlxc ops, so the gradients they build are themselves
differentiable and batchable.  Batch axes are ints, -1 meaning "not batched".
"""
import mlxc.core as mx


def unbroadcast(g, shape):
    """Sum g down to `shape` (undoing numpy broadcasting of an input of that shape)."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    axes = list(range(extra))
    for i, d in enumerate(shape):
        if d == 1 and g.shape[extra + i] != 1:
            axes.append(extra + i)
    if axes:
        g = mx.sum(g, axis=axes, keepdims=True)
    return mx.reshape(g, shape)


def conj_factor(x):
    """x conjugated when complex.  MLX's complex convention: the vjp of a holomorphic op
    is g * conj(f'(x)) (the gradient of a real loss is dL/dRe + i dL/dIm), so a rule's
    derivative factors are built from conjugated primals (they are holomorphic with real
    coefficients: conj(f'(x)) = f'(conj(x)))."""
    return mx.conj(x) if x.dtype == mx.complex64 else x


def cast_like(g, x):
    """g in x's dtype (cotangents of an input carry that input's dtype)."""
    return g if g.dtype == x.dtype else g.astype(x.dtype)


def move_batch_to_front(x, ax):
    """x with its batch axis first (ax >= 0), or x itself when unbatched."""
    return x if ax <= 0 else mx.moveaxis(x, ax, 0)


def batch_size(inputs, axes):
    for x, ax in zip(inputs, axes):
        if ax >= 0:
            return x.shape[ax]
    return None


def align_elementwise(inputs, axes):
    """Batched inputs moved to axis 0 and padded with size-1 dims so that numpy
    broadcasting lines every input up as in the unbatched op; unbatched inputs stay."""
    rank = max(x.ndim - (1 if ax >= 0 else 0) for x, ax in zip(inputs, axes))
    out = []
    for x, ax in zip(inputs, axes):
        if ax < 0:
            out.append(x)
            continue
        x = move_batch_to_front(x, ax)
        missing = rank - (x.ndim - 1)
        if missing:
            x = mx.reshape(x, (x.shape[0],) + (1,) * missing + x.shape[1:])
        out.append(x)
    return out


def materialize_batch(x, ax, size):
    """x with a batch axis at 0: moved there, or broadcast when x is unbatched."""
    if ax >= 0:
        return move_batch_to_front(x, ax)
    return mx.broadcast_to(mx.expand_dims(x, 0), (size,) + x.shape)


def zeros_cotangent(x):
    return mx.zeros(x.shape, x.dtype)


def conj_vjp(rule, g, *inputs):
    """MLX's complex vjp convention, g * conj(f'(x)), from a rule written as g * f'(x)
    that is linear in g: conj(rule(conj(g))).  Real cotangents pass straight through."""
    if g.dtype != mx.complex64 and all(x.dtype != mx.complex64 for x in inputs):
        return rule(g)
    r = rule(mx.conj(g) if g.dtype == mx.complex64 else g)
    if isinstance(r, tuple):
        return tuple(None if v is None else _conj(v) for v in r)
    return _conj(r)


def _conj(v):
    return mx.conj(v) if isinstance(v, mx.array) and v.dtype == mx.complex64 else v
