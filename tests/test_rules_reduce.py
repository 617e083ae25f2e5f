"""vjp / jvp / vmap rules of the reduction primitives (Reduce, ArgReduce, Scan, Sort,
ArgSort).

Oracles: central finite differences in float64 for the jvp, the identity
<v, J u> = <J^T v, u> (J u by finite differences) for the vjp, a Python loop over the
mapped axis for vmap, and values printed by MLX 0.32.4 where MLX makes a choice
(ties of max/min, cummax, zeros of prod/cumprod, sort).
"""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import internal

ArgReduce, ArgSort, Reduce, Scan, Sort = internal(
    "mlxc._core.prims.reduce", "ArgReduce", "ArgSort", "Reduce", "Scan", "Sort")

RNG = np.random.default_rng(0)


def arr(a):
    return mx.array(np.asarray(a, dtype=np.float64), dtype=mx.float64)


def npy(a):
    return np.array(a)


def rand(shape):
    return arr(RNG.standard_normal(shape))


def check_rules(f, x, n=2, eps=1e-6, tol=1e-6):
    """jvp against central differences; vjp against <v, J u> = <J^T v, u>."""
    for _ in range(n):
        u = rand(x.shape)
        (y,), (ju,) = mx.jvp(f, [x], [u])
        yn = npy(y)
        live = np.isfinite(yn)                      # exclusive scans start at +-inf
        with np.errstate(invalid="ignore"):
            fd = (npy(f(x + eps * u)) - npy(f(x - eps * u))) / (2 * eps)
        fd = np.where(live, fd, 0.0)
        assert ju.shape == y.shape and ju.dtype == y.dtype
        np.testing.assert_allclose(np.where(live, npy(ju), 0.0), fd, rtol=1e-5, atol=tol)
        v = np.where(live, RNG.standard_normal(yn.shape), 0.0)
        _, (vj,) = mx.vjp(f, [x], [arr(v)])
        assert vj.shape == x.shape and vj.dtype == x.dtype
        lhs = float(np.sum(v * fd))
        rhs = float(np.sum(npy(vj) * npy(u)))
        assert abs(lhs - rhs) <= 1e-5 * (1 + abs(lhs)), (lhs, rhs)


# ---------------------------------------------------------------- Reduce

REDUCE_AXES = [0, 2, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("axes", REDUCE_AXES)
def test_reduce_rules_fd(name, axes):
    x = rand((2, 3, 4))
    if name == "prod":
        xn = npy(x).copy()
        xn[0, 1, 2] = 0.0                # one zero in some groups, two in others
        xn[1, 1, 2] = 0.0
        xn[0, 2, 0] = 0.0
        x = arr(xn)
    fn = getattr(mx, name)
    check_rules(lambda a: fn(a, axis=axes), x)


def test_reduce_keepdims_and_int():
    x = rand((3, 4))
    check_rules(lambda a: mx.prod(a, axis=1, keepdims=True), x)
    _, (g,) = mx.vjp(lambda a: mx.sum(a), [mx.array([1, 2], mx.int32)], [mx.array(1)])
    assert g.dtype == mx.int32 and g.tolist() == [1, 1]


def test_reduce_matches_mlx_choices():
    # max/min: the cotangent is split between ties; the jvp takes the first tie.
    x = mx.array([1.0, 3.0, 3.0, 2.0])
    _, (g,) = mx.vjp(lambda a: mx.max(a), [x], [mx.array(1.0)])
    assert g.tolist() == [0, 0.5, 0.5, 0]
    _, (g,) = mx.vjp(lambda a: mx.min(a), [mx.array([1.0, 1.0, 3.0])], [mx.array(1.0)])
    assert g.tolist() == [0.5, 0.5, 0]
    _, (t,) = mx.jvp(lambda a: mx.max(a), [x], [mx.array([1.0, 10.0, 100.0, 1000.0])])
    assert t.item() == 10
    x2 = mx.array([[1.0, 3.0], [3.0, 3.0]])
    _, (t,) = mx.jvp(lambda a: mx.max(a, axis=0), [x2], [mx.array([[1.0, 10.0], [100.0, 1000.0]])])
    assert t.tolist() == [100, 10]
    x3 = mx.array([[1.0, 3.0], [3.0, 2.0]])
    _, (g,) = mx.vjp(lambda a: mx.max(a, axis=(0, 1)), [x3], [mx.array(1.0)])
    assert g.tolist() == [[0, 0.5], [0.5, 0]]
    # prod with zeros (products of the others, no division).
    _, (g,) = mx.vjp(lambda a: mx.prod(a), [mx.array([2.0, 0.0, 3.0, 4.0])], [mx.array(1.0)])
    assert g.tolist() == [0, 24, 0, 0]
    _, (g,) = mx.vjp(lambda a: mx.prod(a), [mx.array([2.0, 0.0, 3.0, 0.0])], [mx.array(1.0)])
    assert g.tolist() == [0, 0, 0, 0]
    _, (t,) = mx.jvp(lambda a: mx.prod(a), [mx.array([2.0, 0.0, 3.0, 4.0])], [mx.ones((4,))])
    assert t.item() == 24


# MLX 0.32.4 returns a nonzero float tangent for all/any (the input's tangent reduced):
# mlxc gives zeros, as for any boolean output.
@pytest.mark.mlxc_only
@pytest.mark.parametrize("name", ["all", "any"])
def test_bool_reduce_zero_rules(name):
    x = rand((2, 3))
    fn = getattr(mx, name)
    (y,), (t,) = mx.jvp(lambda a: fn(a, axis=1), [x], [rand((2, 3))])
    # zeros in the tangent's dtype (a bool tangent would give int32).
    assert t.dtype == x.dtype and t.shape == y.shape and not np.any(npy(t))
    _, (g,) = mx.vjp(lambda a: fn(a, axis=1), [x], [mx.ones((2,), mx.bool_)])
    assert g.dtype == x.dtype and g.shape == x.shape and not np.any(npy(g))


# ---------------------------------------------------------------- ArgReduce / ArgSort

@pytest.mark.parametrize("name", ["argmax", "argmin", "argsort"])
def test_index_outputs_zero_rules(name):
    x = rand((3, 4))
    fn = getattr(mx, name)
    (y,), (t,) = mx.jvp(lambda a: fn(a, axis=1), [x], [rand((3, 4))])
    assert t.dtype == mx.uint32 and t.shape == y.shape and not np.any(npy(t))
    _, (g,) = mx.vjp(lambda a: fn(a, axis=1), [x], [mx.ones(y.shape, mx.uint32)])
    assert g.dtype == x.dtype and g.shape == x.shape and not np.any(npy(g))


# ---------------------------------------------------------------- Scan

SCANS = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]


# MLX 0.32.4: "JVP is not implemented for cumulative prod/min/max" (and its
# logcumsumexp jvp disagrees with finite differences): mlxc's own rules.
@pytest.mark.parametrize("name", [n if n == "cumsum" else pytest.param(n, marks=pytest.mark.mlxc_only)
                                  for n in SCANS])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("axis", [0, 1])
def test_scan_rules_fd(name, reverse, inclusive, axis):
    x = rand((3, 5))
    if name == "cumprod":
        xn = npy(x).copy()
        xn[1, 2] = 0.0                   # rows / columns with one and with two zeros
        xn[1, 4] = 0.0
        xn[0, 3] = 0.0
        x = arr(xn)
    fn = getattr(mx, name)
    check_rules(lambda a: fn(a, axis=axis, reverse=reverse, inclusive=inclusive), x)


def test_scan_matches_mlx_choices():
    c = mx.array([1.0, 10.0, 100.0, 1000.0])
    p = mx.array([2.0, 0.0, 3.0, 4.0])
    expect = {(False, True): [1, 24620, 0, 0], (False, False): [10, 6200, 0, 0],
              (True, True): [0, 144, 400, 1300], (True, False): [0, 12, 40, 130]}
    for (rev, inc), e in expect.items():
        _, (g,) = mx.vjp(lambda a: mx.cumprod(a, reverse=rev, inclusive=inc), [p], [c])
        assert g.tolist() == e
    _, (g,) = mx.vjp(lambda a: mx.cumprod(a), [mx.array([2.0, 0.0, 3.0, 0.0])], [c])
    assert g.tolist() == [1, 620, 0, 0]
    # cummax / cummin: the latest position equal to the running extreme takes it.
    y = mx.array([1.0, 3.0, 2.0, 3.0, 5.0, 0.0])
    g6 = mx.array([1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0])
    expect = {("cummax", False, True): [1, 110, 0, 1000, 110000, 0],
              ("cummax", False, False): [10, 1100, 0, 10000, 100000, 0],
              ("cummax", True, True): [0, 0, 0, 0, 11111, 100000],
              ("cummax", True, False): [0, 0, 0, 0, 1111, 10000],
              ("cummin", False, True): [11111, 0, 0, 0, 0, 100000],
              ("cummin", False, False): [111110, 0, 0, 0, 0, 0],
              ("cummin", True, True): [0, 0, 0, 0, 0, 111111],
              ("cummin", True, False): [0, 0, 0, 0, 0, 11111]}
    for (name, rev, inc), e in expect.items():
        fn = getattr(mx, name)
        _, (g,) = mx.vjp(lambda a: fn(a, reverse=rev, inclusive=inc), [y], [g6])
        assert g.tolist() == e, (name, rev, inc)
    # logcumsumexp stays finite for large magnitudes.
    _, (g,) = mx.vjp(lambda a: mx.logcumsumexp(a), [mx.array([0.0, -1000.0, -1000.0])],
                     [mx.ones((3,))])
    np.testing.assert_allclose(npy(g), [3, 0, 0], atol=1e-6)
    _, (g,) = mx.vjp(lambda a: mx.logcumsumexp(a), [mx.array([-1000.0, 0.0, 0.0])],
                     [mx.ones((3,))])
    np.testing.assert_allclose(npy(g), [1, 1.5, 0.5], atol=1e-6)
    _, (t,) = mx.jvp(lambda a: mx.logcumsumexp(a), [mx.array([0.0, -1000.0, -1000.0])],
                     [mx.ones((3,))])
    np.testing.assert_allclose(npy(t), [1, 1, 1], atol=1e-6)


# ---------------------------------------------------------------- Sort

@pytest.mark.parametrize("axis", [0, 1])
def test_sort_rules_fd(axis):
    check_rules(lambda a: mx.sort(a, axis=axis), rand((4, 5)))


def test_sort_matches_mlx():
    s = mx.array([3.0, 1.0, 2.0, 1.0])
    c = mx.array([1.0, 10.0, 100.0, 1000.0])
    _, (g,) = mx.vjp(lambda a: mx.sort(a), [s], [c])
    assert g.tolist() == [1000, 1, 100, 10]
    _, (t,) = mx.jvp(lambda a: mx.sort(a), [s], [c])
    assert t.tolist() == [10, 1000, 100, 1]


# ---------------------------------------------------------------- vmap

VMAP_FUNS = [
    ("sum0", lambda a: mx.sum(a, axis=0)),
    ("sum01", lambda a: mx.sum(a, axis=(0, 1))),
    ("prod1", lambda a: mx.prod(a, axis=1)),
    ("max1", lambda a: mx.max(a, axis=1)),
    ("min0", lambda a: mx.min(a, axis=0)),
    ("all1", lambda a: mx.all(a, axis=1)),          # bool inputs (see below)
    ("any0", lambda a: mx.any(a, axis=0)),
    ("argmax0", lambda a: mx.argmax(a, axis=0)),
    ("argmin1", lambda a: mx.argmin(a, axis=1)),
    ("cumsum0", lambda a: mx.cumsum(a, axis=0)),
    ("cumprod1r", lambda a: mx.cumprod(a, axis=1, reverse=True)),
    ("cummax1x", lambda a: mx.cummax(a, axis=1, inclusive=False)),
    ("cummin0", lambda a: mx.cummin(a, axis=0)),
    ("lcse1", lambda a: mx.logcumsumexp(a, axis=1)),
    ("sort0", lambda a: mx.sort(a, axis=0)),
    ("sort1", lambda a: mx.sort(a, axis=1)),
    ("argsort0", lambda a: mx.argsort(a, axis=0)),
]


@pytest.mark.parametrize("name,f", VMAP_FUNS, ids=[n for n, _ in VMAP_FUNS])
@pytest.mark.parametrize("in_axis", [0, 1, 2])
def test_vmap_against_loop(name, f, in_axis):
    xb = RNG.standard_normal((3, 4, 5))            # batch of 3 (or 4 or 5) slices
    if name[:3] in ("all", "any"):
        xb = xb > 0.3
    x = arr(xb) if xb.dtype != np.bool_ else mx.array(xb)
    n = xb.shape[in_axis]
    ref = [npy(f(mx.array(np.take(npy(x), i, axis=in_axis), dtype=x.dtype))) for i in range(n)]
    out_rank = ref[0].ndim + 1
    for out_axis in sorted({0, out_rank - 1}):
        got = npy(mx.vmap(f, in_axes=in_axis, out_axes=out_axis)(x))
        np.testing.assert_allclose(got, np.stack(ref, axis=out_axis), rtol=1e-10, atol=1e-12)


@pytest.mark.mlxc_only
@pytest.mark.parametrize("prim,ref", [
    (Reduce(0, (1,)), lambda x: mx.sum(x, axis=1)),
    (Reduce(2, (0, 1)), lambda x: mx.max(x, axis=(0, 1))),
    (ArgReduce(0, 1), lambda x: mx.argmax(x, axis=1)),
    (Scan(1, 0, False, True), lambda x: mx.cumprod(x, axis=0)),
    (Scan(4, 1, True, False), lambda x: mx.logcumsumexp(x, axis=1, reverse=True, inclusive=False)),
    (Sort(1), lambda x: mx.sort(x, axis=1)), (ArgSort(0), lambda x: mx.argsort(x, axis=0)),
])
def test_vmap_unbatched_input(prim, ref):
    # axis -1: the rule runs the op unbatched and reports -1.
    x = rand((3, 4))
    outs, axes = prim.vmap([x], [-1], [ref(x)])   # (the node's own output)
    assert axes == [-1]
    # the op applied to the unbatched input, as the public op computes it
    np.testing.assert_array_equal(npy(outs[0]), npy(ref(x)))


# ---------------------------------------------------------------- composites and nesting

@pytest.mark.mlxc_only
def test_composites_fd():  # MLX 0.32.4's rules fail these differences
    x = rand((3, 4))
    check_rules(lambda a: mx.logsumexp(a, axis=1), x)
    check_rules(lambda a: mx.logsumexp(a), x)
    check_rules(lambda a: mx.softmax(a, axis=1), x)
    check_rules(lambda a: mx.var(a, axis=0), x)
    check_rules(lambda a: mx.std(a, axis=(0, 1), ddof=1), x)
    check_rules(lambda a: mx.mean(a, axis=1), x)


@pytest.mark.mlxc_only
def test_grad_of_grad():  # MLX 0.32.4: no jvp of cumprod
    x = mx.array([2.0, 0.0, 3.0, 4.0])
    gg = mx.grad(lambda a: mx.sum(mx.grad(lambda z: mx.prod(z))(a)))(x)
    assert gg.tolist() == [12, 26, 8, 6]                       # MLX 0.32.4
    gg = mx.grad(lambda a: mx.sum(mx.grad(lambda z: mx.sum(z * z))(a)))(x)
    assert gg.tolist() == [2, 2, 2, 2]
    # Second derivative of cumprod / logcumsumexp against differences of the gradient.
    for f in (lambda z: mx.sum(mx.cumprod(z, axis=1) * mx.arange(1.0, 5.0)),
              lambda z: mx.sum(mx.logcumsumexp(z, axis=1, reverse=True) * mx.arange(1.0, 5.0))):
        g = mx.grad(f)
        check_rules(g, rand((2, 4)), n=1, eps=1e-5, tol=1e-5)


def test_vmap_of_grad():
    xb = rand((3, 4))
    for f in (lambda z: mx.prod(z), lambda z: mx.logsumexp(z),
              lambda z: mx.max(z), lambda z: mx.sum(mx.sort(z) * mx.arange(4.0))):
        got = mx.vmap(mx.grad(f))(xb)
        ref = mx.stack([mx.grad(f)(xb[i]) for i in range(3)])
        np.testing.assert_allclose(npy(got), npy(ref), rtol=1e-12)


def test_topk_and_median_grads():
    s = mx.array([3.0, 1.0, 2.0, 1.0])
    _, (g,) = mx.vjp(lambda a: mx.topk(a, 2), [s], [mx.array([1.0, 10.0])])
    assert g.tolist() == [10, 0, 1, 0]                         # MLX 0.32.4
    check_rules(lambda a: mx.median(a, axis=1), rand((3, 5)))
