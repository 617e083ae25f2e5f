"""Independent oracles for the function transforms.

Everything here uses only the public ``mlxc.core`` surface (so the tests that use it
also run against real MLX with MLXC_TEST_REFERENCE=mlx) plus numpy:

- ``fd_jacobian``: the Jacobian of a function of float64 arrays by central finite
  differences, evaluating the function itself (forward only) through np.array(...);
- ``check_vjp_jvp``: vjp and jvp against that Jacobian, and <v, J u> = <J^T v, u>;
- ``vmap_reference``: the result vmap must give, from a Python loop over the mapped
  axis whose per-slice results are stacked with mx.stack.
"""
import os

import numpy as np

import mlxc.core as mx

F64 = mx.float64
FD_STEP = 1e-6
RTOL = 1e-5
ATOL = 1e-7
# Real MLX computes some float64 transcendentals (exp, ...) to about float32 accuracy on
# the CPU, which a 1e-6 step cannot difference.  Under MLXC_TEST_REFERENCE=mlx (used to
# validate these tests) the finite differences use a coarser step and tolerance.
REFERENCE = bool(os.environ.get("MLXC_TEST_REFERENCE", "").strip())
if REFERENCE:
    FD_STEP = 1e-3
    RTOL = 2e-3
    ATOL = 1e-5


def A(x, dtype=F64):
    """A float64 mlxc array from numpy data."""
    return mx.array(np.asarray(x), dtype=dtype)


def to_mx(x):
    """numpy -> mlxc keeping the kind: floats become float64, ints int32, bools bool."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        return mx.array(x, dtype=F64)
    if x.dtype.kind in "iu":
        return mx.array(x.astype(np.int32))
    return mx.array(x)


def as_list(out):
    """A function's output(s) as a list of arrays."""
    if isinstance(out, (list, tuple)):
        return list(out)
    return [out]


def to_np(x):
    return np.array(x)


def evaluate(fn, xs):
    """fn on numpy float64 inputs, outputs as a list of float64 numpy arrays."""
    return [np.array(o).astype(np.float64) for o in as_list(fn(*[A(x) for x in xs]))]


def fd_jacobian(fn, xs, h=None):
    """Central-difference Jacobian of the flattened outputs w.r.t. the flattened inputs.

    Returns (J, out_shapes), J of shape (sum of output sizes, sum of input sizes)."""
    h = FD_STEP if h is None else h
    xs = [np.array(x, dtype=np.float64) for x in xs]
    outs0 = evaluate(fn, xs)
    m = sum(o.size for o in outs0)
    n = sum(x.size for x in xs)
    J = np.zeros((m, n))
    col = 0
    for i, x in enumerate(xs):
        for j in range(x.size):
            plus = [v.copy() for v in xs]
            minus = [v.copy() for v in xs]
            plus[i].reshape(-1)[j] += h
            minus[i].reshape(-1)[j] -= h
            fp = np.concatenate([o.ravel() for o in evaluate(fn, plus)])
            fm = np.concatenate([o.ravel() for o in evaluate(fn, minus)])
            J[:, col] = (fp - fm) / (2 * h)
            col += 1
    return J, [o.shape for o in outs0]


def flat(arrays):
    arrays = [np.array(a).astype(np.float64).ravel() for a in arrays]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def assert_close(actual, expected, rtol=None, atol=None, what=""):
    rtol, atol = (RTOL if rtol is None else rtol), (ATOL if atol is None else atol)
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what)


def random_like(rng, shapes):
    return [rng.standard_normal(s) for s in shapes]


def check_vjp(fn, xs, rng, rtol=None, atol=None):
    """mx.vjp against J^T v from finite differences."""
    rtol, atol = (RTOL if rtol is None else rtol), (ATOL if atol is None else atol)
    J, out_shapes = fd_jacobian(fn, xs)
    vs = random_like(rng, out_shapes)
    outs, grads = mx.vjp(fn, [A(x) for x in xs], [A(v) for v in vs])
    assert isinstance(outs, list) and isinstance(grads, list)
    assert len(grads) == len(xs)
    for g, x in zip(grads, xs):
        assert tuple(g.shape) == tuple(x.shape), (g.shape, x.shape)
        assert g.dtype == F64, g.dtype
    for o, e in zip(outs, evaluate(fn, xs)):
        assert_close(np.array(o), e, what="vjp's outputs")
    assert_close(flat(grads), J.T @ flat(vs), rtol, atol, "vjp vs finite differences")


def check_jvp(fn, xs, rng, rtol=None, atol=None):
    """mx.jvp against J u from finite differences."""
    rtol, atol = (RTOL if rtol is None else rtol), (ATOL if atol is None else atol)
    J, out_shapes = fd_jacobian(fn, xs)
    us = random_like(rng, [x.shape for x in xs])
    outs, tans = mx.jvp(fn, [A(x) for x in xs], [A(u) for u in us])
    assert isinstance(outs, list) and isinstance(tans, list)
    assert len(tans) == len(out_shapes)
    for t, s in zip(tans, out_shapes):
        assert tuple(t.shape) == tuple(s), (t.shape, s)
    assert_close(flat(tans), J @ flat(us), rtol, atol, "jvp vs finite differences")


def check_transpose(fn, xs, rng, rtol=1e-9):
    """<v, J u> = <J^T v, u> with J u from mx.jvp and J^T v from mx.vjp."""
    prim = [A(x) for x in xs]
    outs = as_list(fn(*prim))
    vs = random_like(rng, [o.shape for o in outs])
    us = random_like(rng, [x.shape for x in xs])
    _, tans = mx.jvp(fn, prim, [A(u) for u in us])
    _, grads = mx.vjp(fn, prim, [A(v) for v in vs])
    lhs = float(flat(vs) @ flat(tans))
    rhs = float(flat(grads) @ flat(us))
    assert abs(lhs - rhs) <= rtol * max(1.0, abs(lhs), abs(rhs)), (lhs, rhs)


def take_slice(x, axis, b):
    """x[..., b, ...] at axis."""
    idx = [slice(None)] * x.ndim
    idx[axis] = b
    return x[tuple(idx)]


def vmap_reference(fn, args, in_axes, out_axes, size):
    """What vmap(fn, in_axes, out_axes)(*args) must be: a loop over the batch."""
    per = []
    for b in range(size):
        sl = [a if ax is None else take_slice(a, ax, b) for a, ax in zip(args, in_axes)]
        per.append(as_list(fn(*sl)))
    n_out = len(per[0])
    oa = out_axes if isinstance(out_axes, (list, tuple)) else [out_axes] * n_out
    return [mx.stack([p[k] for p in per], axis=oa[k]) for k in range(n_out)]


def insert_batch(rng, x, axis, size, integer=False):
    """Stack `size` variants of numpy x along axis (variants keep x's domain)."""
    variants = []
    for b in range(size):
        if integer or x.dtype == np.bool_:
            variants.append(np.roll(x.ravel(), b).reshape(x.shape))
        else:
            # the same values permuted: stays in the op's safe domain and keeps values
            # distinct where the case needs it
            perm = rng.permutation(x.size)
            variants.append(x.ravel()[perm].reshape(x.shape))
    return np.stack(variants, axis=axis)
