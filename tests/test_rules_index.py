"""Transform rules (vjp, jvp, vmap) of the index primitives: gather/take, take_along,
scatter (plain/add/max/min/prod), slice updates (static and dynamic), dynamic slices,
diagonals and the linear-index node of multi-axis indexing.

Oracles: central finite differences in float64 for jvp, the identity <v, J u> = <J^T v, u>
for vjp, explicit numpy results for a few cases, and a Python loop over the mapped axis for
vmap."""
import numpy as np
import pytest

import mlxc.core as mx

F64 = mx.float64
I64 = mx.int64


def _rand(rng, shape):
    return mx.array(rng.standard_normal(shape), dtype=F64)


def _setitem(x, idx, u):
    """x[idx] = u as a function of x (the caller's array is left alone), through the
    public API so that the file also runs against MLX."""
    y = x * 1
    y[idx] = u
    return y


def _idx(v):
    return mx.array(np.array(v), dtype=I64)


def check_diff(f, primals, rng, eps=1e-6, tol=1e-7):
    """jvp against central differences, vjp against jvp through <v, J u> = <J^T v, u>."""
    tangents = [_rand(rng, p.shape) for p in primals]
    out, jv = mx.jvp(f, primals, tangents)
    out, jv = out[0], jv[0]
    plus = f(*[p + eps * t for p, t in zip(primals, tangents)])
    minus = f(*[p - eps * t for p, t in zip(primals, tangents)])
    fd = (np.array(plus) - np.array(minus)) / (2 * eps)
    np.testing.assert_allclose(np.array(jv), fd, rtol=1e-6, atol=1e-6)
    v = _rand(rng, out.shape)
    _, vj = mx.vjp(f, primals, [v])
    assert len(vj) == len(primals)
    for p, g in zip(primals, vj):
        assert g.shape == p.shape and g.dtype == p.dtype
    lhs = float(np.sum(np.array(v) * np.array(jv)))
    rhs = sum(float(np.sum(np.array(g) * np.array(t))) for g, t in zip(vj, tangents))
    assert abs(lhs - rhs) <= tol * max(1.0, abs(lhs))


def _slice_np(a, b, ax):
    return mx.array(np.take(np.array(a), b, axis=ax), dtype=a.dtype)


def check_vmap(f, args, in_axes, out_axes=0):
    """vmap(f) against stacking f over slices of the mapped axis."""
    # a tuple: MLX reads in_axes as a prefix of the args tuple (a list is not one)
    got = mx.vmap(f, in_axes=tuple(in_axes), out_axes=out_axes)(*args)
    n = next(a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None)
    res = []
    for b in range(n):
        sl = [a if ax is None else _slice_np(a, b, ax) for a, ax in zip(args, in_axes)]
        res.append(np.array(f(*sl)))
    want = np.moveaxis(np.stack(res), 0, out_axes)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(np.array(got), want)


def _batched(a, ax, n):
    """a with a new batch axis of size n at ax (distinct values per batch element)."""
    st = np.stack([np.array(a) + (b if np.issubdtype(np.array(a).dtype, np.floating) else 0)
                   for b in range(n)])
    return mx.array(np.moveaxis(st, 0, ax), dtype=a.dtype)


# ---------------------------------------------------------------- gather family

def test_take_vjp_matches_add_at():
    x = mx.array(np.arange(12.).reshape(3, 4))
    idx = _idx([0, 2, 0, 0])
    cot = mx.array(np.arange(12.).reshape(3, 4) + 1)
    _, (g,) = mx.vjp(lambda x: mx.take(x, idx, axis=1), [x], [cot])
    want = np.zeros((3, 4))
    np.add.at(want, (slice(None), [0, 2, 0, 0]), np.array(cot))
    np.testing.assert_array_equal(np.array(g), want)


GATHERS = [
    ("take_ax1", (3, 4), lambda x: mx.take(x, _idx([[0, 3], [3, 3]]), axis=1)),
    ("take_flat", (3, 4), lambda x: mx.take(x, _idx([11, 0, -1]))),
    ("adv_inplace", (3, 4, 5), lambda x: x[:, _idx([0, 2, 2]), _idx([1, 1, -2])]),
    ("adv_front", (3, 4, 5), lambda x: x[_idx([0, 1]), :, _idx([2, 2])]),
    ("adv_range_mid", (3, 4, 5), lambda x: x[_idx([[0], [2]]), 1:4:2, _idx([1, 4, 4])]),
    ("take_along", (3, 4), lambda x: mx.take_along_axis(x, _idx([[0, 0, 3]]), axis=1)),
    ("take_along0", (3, 4), lambda x: mx.take_along_axis(x, _idx([[2], [2]]), axis=0)),
    ("diag", (3, 4), lambda x: mx.diagonal(x)),
    ("diag_off", (3, 4), lambda x: mx.diagonal(x, 1)),
    ("diag_neg", (4, 3, 2), lambda x: mx.diagonal(x, -1, 2, 0)),
    ("dyn_slice", (4, 5), lambda x: mx.slice(x, _idx([1, 2]), [0, 1], [2, 3])),
    ("dyn_slice_neg", (4, 5), lambda x: mx.slice(x, _idx(-2), [1], [4, 2])),
]
# MLX 0.32.4 aborts the interpreter on a negative dynamic start: mlxc's own behaviour.
MLX_ABORTS = {"dyn_slice_neg"}
GATHER_PARAMS = [pytest.param(*g, id=g[0], marks=[pytest.mark.mlxc_only] if g[0] in MLX_ABORTS else [])
                 for g in GATHERS]


@pytest.mark.parametrize("name,shape,f", GATHER_PARAMS)
def test_gather_like_diff(name, shape, f):
    rng = np.random.default_rng(0)
    check_diff(f, [_rand(rng, shape)], rng)


@pytest.mark.parametrize("name,shape,f", GATHER_PARAMS)
def test_gather_like_vmap(name, shape, f):
    x = mx.array(np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    for ax in range(len(shape) + 1):
        xb = _batched(x, ax, 2)
        check_vmap(f, [xb], [ax])
    check_vmap(f, [_batched(x, 1, 3)], [1], out_axes=-1)


def test_take_vmap_batched_indices():
    x = mx.array(np.arange(12.).reshape(3, 4))
    ib = _idx([[0, 2, 2], [1, 1, -1]])
    for ax in (0, 1):
        check_vmap(lambda i: mx.take(x, i, axis=ax), [ib], [0])
        check_vmap(lambda i: mx.take(x, i, axis=ax), [_idx(np.array(ib).T)], [1], out_axes=1)
    xb = _batched(x, 0, 2)
    for ax in (0, 1):
        check_vmap(lambda x, i: mx.take(x, i, axis=ax), [xb, ib], [0, 0])
        check_vmap(lambda x, i: mx.take(x, i, axis=ax), [_batched(x, 2, 2), ib], [2, 0],
                   out_axes=-1)


def test_take_along_vmap_batched_indices():
    x = mx.array(np.arange(12.).reshape(3, 4))
    ib = _idx([[[0, 3]], [[2, 2]]])     # (2, 1, 2)
    check_vmap(lambda i: mx.take_along_axis(x, i, axis=1), [ib], [0])
    check_vmap(lambda x, i: mx.take_along_axis(x, i, axis=1), [_batched(x, 1, 2), ib], [1, 0])


def test_advanced_index_vmap_batched_indices():
    x = mx.array(np.arange(60.).reshape(3, 4, 5))
    i = _idx([[0, 2], [1, 1]])
    j = _idx([4, 0])
    check_vmap(lambda i: x[:, i, j], [i], [0])
    check_vmap(lambda i: x[i, :, j], [i], [0])
    check_vmap(lambda i: x[i, 1:3, j], [i], [1], out_axes=1)
    check_vmap(lambda x, i: x[i, 2:0:-1, j], [_batched(x, 3, 2), i], [3, 0])
    check_vmap(lambda x, i: x[:, i, j], [_batched(x, 0, 2), i], [0, 1])


# ---------------------------------------------------------------- scatter family

def _put(x, u):
    return mx.put_along_axis(x, _idx([[0, 2, 1]]), u, axis=1)


SCATTERS = [
    ("set", lambda x, u: _setitem(x, _idx([0, 2, -1]), u), (4, 3), (3, 3)),
    ("set_2axes", lambda x, u: _setitem(x, (_idx([0, 2]), slice(None), _idx([1, 1])), u),
     (3, 2, 2), (2, 2)),
    ("add", lambda x, u: x.at[_idx([0, 2, 0])].add(u), (4, 3), (3, 3)),
    ("add_inner", lambda x, u: x.at[:, _idx([1, 1])].add(u), (2, 3), (2, 2)),
    ("max", lambda x, u: x.at[_idx([0, 2, 0])].maximum(u), (4, 3), (3, 3)),
    ("min", lambda x, u: x.at[:, _idx([1, 0, 1])].minimum(u), (2, 3), (2, 3)),
    ("put_along", _put, (2, 3), (2, 3)),
    ("slice_set", lambda x, u: _setitem(x, (slice(1, 3), slice(None, None, -2)), u),
     (4, 3), (2, 2)),
    ("slice_update", lambda x, u: mx.slice_update(x, u, _idx([2]), [1]), (3, 5), (3, 2)),
    ("slice_update2", lambda x, u: mx.slice_update(x, u, _idx([1, -2]), [0, 1]),
     (3, 5), (2, 2)),
]


# MLX 0.32.4 has no jvp for scatters ("[scatter] JVP not yet implemented"), and its vmap
# of static/dynamic slice updates writes the wrong elements: mlxc's own rules.
MLX_NO_SCATTER_JVP = {"set", "set_2axes", "add", "add_inner", "max", "min"}
MLX_WRONG_VMAP = {"slice_set", "slice_update", "slice_update2"}


def _scatter_params(mlx_fails):
    return [pytest.param(*s, id=s[0], marks=[pytest.mark.mlxc_only] if s[0] in mlx_fails else [])
            for s in SCATTERS]


@pytest.mark.parametrize("name,f,xs,us", _scatter_params(MLX_NO_SCATTER_JVP))
def test_scatter_like_diff(name, f, xs, us):
    rng = np.random.default_rng(1)
    check_diff(f, [_rand(rng, xs), _rand(rng, us)], rng)
    x = _rand(rng, xs)
    check_diff(lambda u: f(x, u), [_rand(rng, us)], rng)
    u = _rand(rng, us)
    check_diff(lambda x: f(x, u), [_rand(rng, xs)], rng)


@pytest.mark.parametrize("name,f,xs,us", _scatter_params(MLX_WRONG_VMAP))
def test_scatter_like_vmap(name, f, xs, us):
    x = mx.array(np.arange(np.prod(xs), dtype=np.float32).reshape(xs) * 0.5)
    u = mx.array(np.arange(np.prod(us), dtype=np.float32).reshape(us) * 3 - 4)
    for ax in range(len(xs) + 1):
        check_vmap(f, [_batched(x, ax, 2), u], [ax, None])
    for ax in range(len(us) + 1):
        check_vmap(f, [x, _batched(u, ax, 2)], [None, ax], out_axes=-1)
    check_vmap(f, [_batched(x, 1, 2), _batched(u, 0, 2)], [1, 0], out_axes=1)


def test_scatter_plain_repeats_vmap_last_write_wins():
    x = mx.array(np.arange(8.).reshape(2, 4))
    u = mx.array([[10., 20., 30.], [1., 2., 3.]])
    got = mx.vmap(lambda x, u: _setitem(x, _idx([0, 2, 0]), u))(x, u)
    np.testing.assert_array_equal(np.array(got), [[30, 1, 20, 3], [3, 5, 2, 7]])
    got = mx.vmap(lambda x, u: mx.put_along_axis(x, _idx([0, 0]), u[:2], axis=0))(x, u)
    np.testing.assert_array_equal(np.array(got), [[20, 1, 2, 3], [2, 5, 6, 7]])


def test_scatter_plain_grads_match_mlx():
    # mlx 0.32.4: x grad zero at written positions; every duplicate update gets the cotangent.
    x = mx.array([1., 2., 3., 4.])
    u = mx.array([10., 20., 30.])
    w = mx.array([1., 2., 3., 4.])
    _, (gx, gu) = mx.vjp(lambda x, u: _setitem(x, _idx([0, 2, 0]), u), [x, u], [w])
    np.testing.assert_array_equal(np.array(gx), [0, 2, 0, 4])
    np.testing.assert_array_equal(np.array(gu), [1, 3, 1])


def test_scatter_max_min_ties_match_mlx():
    x = mx.array([30., 2., 3., 4.])
    u = mx.array([30., 20., 30.])
    w = mx.array([1., 2., 3., 4.])
    _, (gx, gu) = mx.vjp(lambda x, u: x.at[_idx([0, 2, 0])].maximum(u), [x, u], [w])
    np.testing.assert_array_equal(np.array(gx), [1, 2, 0, 4])
    np.testing.assert_array_equal(np.array(gu), [1, 3, 1])
    x = mx.array([1., 2., 3., 4.])
    _, (gx, gu) = mx.vjp(lambda x, u: x.at[_idx([0, 2, 0])].minimum(u), [x, mx.array([10., 20., 30.])], [w])
    np.testing.assert_array_equal(np.array(gx), [1, 2, 3, 4])
    np.testing.assert_array_equal(np.array(gu), [0, 0, 0])


def test_scatter_prod_refuses_like_mlx():
    x = mx.array([1., 2., 3.])
    u = mx.array([2., 3.])
    with pytest.raises(RuntimeError, match="scatter_prod"):
        mx.vjp(lambda x: x.at[_idx([0, 0])].multiply(u), [x], [x])
    with pytest.raises(RuntimeError, match="scatter"):  # MLX: "[scatter] JVP not yet..."
        mx.jvp(lambda x: x.at[_idx([0, 0])].multiply(u), [x], [x])
    got = mx.vmap(lambda x: x.at[_idx([0, 0])].multiply(u))(mx.stack([x, x + 1]))
    np.testing.assert_array_equal(np.array(got), [[6, 2, 3], [12, 3, 4]])


def test_scatter_vmap_batched_indices():
    x = mx.array(np.arange(12.).reshape(4, 3))
    u = mx.array(np.arange(9.).reshape(3, 3) + 100)
    ib = _idx([[0, 2, 0], [3, 3, 1]])
    for fn in (lambda x, u, i: _setitem(x, i, u), lambda x, u, i: x.at[i].add(u),
               lambda x, u, i: x.at[i].maximum(u),
               lambda x, u, i: mx.put_along_axis(x, i[:, None], u[:1], axis=0)):
        check_vmap(fn, [x, u, ib], [None, None, 0])
        check_vmap(fn, [_batched(x, 1, 2), u, ib], [1, None, 0], out_axes=-1)
        check_vmap(fn, [_batched(x, 0, 2), _batched(u, 2, 2), _idx(np.array(ib).T)],
                   [0, 2, 1])


# MLX 0.32.4: "vmap over start indices not yet supported".
@pytest.mark.mlxc_only
def test_dynamic_slices_vmap_batched_starts():
    x = mx.array(np.arange(20.).reshape(4, 5))
    s = _idx([[1, 2], [0, -3], [2, 0]])
    check_vmap(lambda s: mx.slice(x, s, [0, 1], [2, 3]), [s], [0])
    check_vmap(lambda x, s: mx.slice(x, s, [0, 1], [2, 3]), [_batched(x, 2, 3), s], [2, 0])
    u = mx.array(-np.arange(6.).reshape(2, 3))
    check_vmap(lambda s: mx.slice_update(x, u, s, [0, 1]), [s], [0])
    check_vmap(lambda x, u, s: mx.slice_update(x, u, s, [0, 1]),
               [_batched(x, 1, 3), _batched(u, 0, 3), _idx(np.array(s).T)], [1, 0, 1],
               out_axes=2)
    s1 = _idx([1, 3])
    check_vmap(lambda s: mx.slice(x, s, [1], [4, 2]), [s1], [0])
    check_vmap(lambda s: mx.slice_update(x, u[:, :2], s, [1]), [s1], [0])


def test_index_inputs_are_not_differentiable():
    # As MLX: asking for a derivative with respect to indices or dynamic starts raises
    # and points to stop_gradient; the data input still differentiates.
    x = mx.array(np.arange(6.).reshape(2, 3))
    i = _idx([2, 0])
    with pytest.raises(ValueError, match=r"\[gather\] Cannot calculate VJP with respect to "
                                         r"indices. Use stop_gradient"):
        mx.vjp(lambda x, i: mx.take(x, i, axis=1), [x, i], [mx.ones((2, 2))])
    with pytest.raises(ValueError, match=r"\[DynamicSlice::vjp\] Not supported for start"):
        mx.vjp(lambda x, s: mx.slice(x, s, [1], [2, 2]), [x, _idx([1])], [mx.ones((2, 2))])
    gx = mx.grad(lambda x, s: mx.slice(x, s, [1], [2, 2]).sum())(x, _idx([1]))
    np.testing.assert_array_equal(np.array(gx), [[0, 1, 1], [0, 1, 1]])


@pytest.mark.mlxc_only
def test_every_index_primitive_has_rules():
    from mlxc._core.prims import index as P
    from mlxc._core.primitive import Primitive
    classes = [c for c in vars(P).values()
               if isinstance(c, type) and issubclass(c, Primitive) and c is not Primitive]
    assert len(classes) >= 7
    for c in classes:
        for m in ("vjp", "jvp", "vmap"):
            assert m in c.__dict__, (c.__name__, m)


@pytest.mark.mlxc_only
def test_rules_compose():  # MLX 0.32.4 has no scatter jvp
    # The rules build index nodes, so they are transformable again.
    x = mx.array(np.arange(12.).reshape(3, 4))
    idx = _idx([0, 2, 0])

    def vjp_take(c):
        return mx.vjp(lambda x: mx.take(x, idx, axis=1), [x], [c])[1][0]

    cots = mx.array(np.arange(18.).reshape(2, 3, 3))
    check_vmap(vjp_take, [cots], [0])
    _, (t,) = mx.jvp(vjp_take, [cots[0]], [cots[1]])
    np.testing.assert_array_equal(np.array(t), np.array(vjp_take(cots[1])))
    # vjp of a vjp: the transpose of scatter-add is the gather again.
    _, (g,) = mx.vjp(vjp_take, [cots[0]], [x])
    np.testing.assert_array_equal(np.array(g), np.array(mx.take(x, idx, axis=1)))

    def vjp_diag(c):
        return mx.vjp(lambda x: mx.diagonal(x, 1), [x], [c])[1][0]

    check_vmap(vjp_diag, [mx.array(np.arange(6.).reshape(2, 3))], [0])
    _, (g,) = mx.vjp(vjp_diag, [mx.ones(3)], [x])
    np.testing.assert_array_equal(np.array(g), np.array(mx.diagonal(x, 1)))


# ---------------------------------------------------------------- through __getitem__ etc.
# (these go through reshape/broadcast/elementwise/reduce rules too)

def test_grad_of_getitem():
    x = mx.array(np.arange(12.).reshape(3, 4))
    w = mx.array(np.arange(8.).reshape(2, 4) + 1)
    idx = mx.array([2, 2])                     # int32: an astype node in the graph
    g = mx.grad(lambda x: (x[idx] * w).sum())(x)
    want = np.zeros((3, 4))
    np.add.at(want, [2, 2], np.array(w))
    np.testing.assert_array_equal(np.array(g), want)
    g = mx.grad(lambda x: (x[1:, None, ::2] ** 2).sum())(x)
    want = np.zeros((3, 4))
    want[1:, ::2] = 2 * np.array(x)[1:, ::2]
    np.testing.assert_array_equal(np.array(g), want)
    g = mx.grad(lambda x: x[mx.array([0, 0]), mx.array([1, 3])].sum())(x)
    want = np.zeros((3, 4))
    want[0, 1] = want[0, 3] = 1
    np.testing.assert_array_equal(np.array(g), want)


def test_grad_of_setitem_and_at():
    x = mx.array([1., 2., 3., 4.])
    u = mx.array([10., 20.])
    w = mx.array([1., 2., 3., 4.])

    def f(x, u):
        y = x * 1
        y[mx.array([3, 1])] = u * 2
        return (y * w).sum()

    gx, gu = mx.grad(f, argnums=(0, 1))(x, u)
    np.testing.assert_array_equal(np.array(gx), [1, 0, 3, 0])
    np.testing.assert_array_equal(np.array(gu), [8, 4])

    def h(x, u):
        y = x * 1
        y[1:3] = u
        return (y * w).sum()

    gx, gu = mx.grad(h, argnums=(0, 1))(x, u)
    np.testing.assert_array_equal(np.array(gx), [1, 0, 0, 4])
    np.testing.assert_array_equal(np.array(gu), [2, 3])
    gx, gu = mx.grad(lambda x, u: (x.at[mx.array([0, 0])].add(u) * w).sum(),
                     argnums=(0, 1))(x, u)
    np.testing.assert_array_equal(np.array(gx), [1, 2, 3, 4])
    np.testing.assert_array_equal(np.array(gu), [1, 1])
    g = mx.grad(lambda x: (mx.diag(x, 1) * mx.arange(25.).reshape(5, 5)).sum())(x)
    np.testing.assert_array_equal(np.array(g), [1, 7, 13, 19])


def test_vmap_of_getitem():
    x = mx.array(np.arange(36.).reshape(3, 3, 4))
    check_vmap(lambda x: x[1:3], [x], [2])
    check_vmap(lambda x: x[1:3], [x], [1], out_axes=-1)
    check_vmap(lambda x: x[[0, 2]], [x], [0])
    check_vmap(lambda x: x[[0, 2]], [x], [2])
    check_vmap(lambda x: x[..., mx.array([1, 0])], [x], [1])
    check_vmap(lambda i: mx.take(x, i, axis=2), [mx.array([[0, 1], [3, 3]])], [0])
    check_vmap(lambda x, i: mx.take(x, i, axis=1), [x, mx.array([[0, 1, 2], [2, 2, 0]])], [0, 1])


def test_vmap_of_grad_and_grad_of_grad():
    x = mx.array(np.arange(12.).reshape(3, 4))
    idx = mx.array([2, 0, 2])
    gf = mx.grad(lambda x: (x[idx] ** 2).sum())
    check_vmap(gf, [mx.stack([x, x + 1])], [0])
    gg = mx.grad(lambda x: (gf(x) * x).sum())
    want = np.zeros((3, 4))
    want[[0, 2]] = 4 * np.array(x)[[0, 2]] * np.array([[1], [2]])
    np.testing.assert_allclose(np.array(gg(x)), want)
