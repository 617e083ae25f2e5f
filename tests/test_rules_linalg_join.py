"""Transform rules of the linalg and join primitives (Matmul, Concatenate) and of the
composite ops built on them.

Oracles: central finite differences in float64 for vjp and jvp, the identity
<v, J u> = <J^T v, u>, and a Python loop over the mapped axis for vmap.
"""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import internal

Primitive = internal("mlxc._core.primitive", "Primitive")
Concatenate = internal("mlxc._core.prims.join", "Concatenate")
Matmul = internal("mlxc._core.prims.linalg", "Matmul")

EPS = 1e-6


def rnd(shape, seed):
    return mx.array(np.random.default_rng(seed).standard_normal(shape), dtype=mx.float64)


def npy(x):
    return np.array(x)


def dot(a, b):
    return float(np.sum(npy(a) * npy(b)))


def fd_jvp(f, xs, us):
    """Central difference of f along the direction us."""
    plus = f(*[x + EPS * u for x, u in zip(xs, us)])
    minus = f(*[x - EPS * u for x, u in zip(xs, us)])
    return (npy(plus) - npy(minus)) / (2 * EPS)


def fd_vjp(f, xs, v, i):
    """Gradient of <v, f(xs)> with respect to xs[i], element by element."""
    base = npy(xs[i])
    g = np.zeros(base.shape)
    for k in np.ndindex(*base.shape):
        e = np.zeros(base.shape)
        e[k] = 1.0
        d = fd_jvp(f, xs, [mx.array(e, dtype=mx.float64) if j == i else mx.zeros(x.shape, x.dtype)
                           for j, x in enumerate(xs)])
        g[k] = np.sum(npy(v) * d)
    return g


def check_transforms(f, xs, seed=0, rules=None):
    """vjp and jvp of f at xs against finite differences and each other.

    rules, when given, is (vjp, jvp) computing the products directly (a primitive's
    rules called by hand); otherwise mx.vjp / mx.jvp are used."""
    out = f(*xs)
    v = rnd(out.shape, seed + 100)
    us = [rnd(x.shape, seed + 200 + i) for i, x in enumerate(xs)]
    if rules is None:
        _, cts = mx.vjp(f, list(xs), [v])
        _, tans = mx.jvp(f, list(xs), us)
        tan = tans[0]
    else:
        cts = rules[0](xs, v)
        tan = rules[1](xs, us)[0]
    assert tan.shape == out.shape and tan.dtype == out.dtype
    np.testing.assert_allclose(npy(tan), fd_jvp(f, xs, us), rtol=1e-6, atol=1e-7)
    for i, x in enumerate(xs):
        assert cts[i].shape == x.shape and cts[i].dtype == x.dtype
        np.testing.assert_allclose(npy(cts[i]), fd_vjp(f, xs, v, i), rtol=1e-6, atol=1e-7)
    lhs = dot(v, tan)
    rhs = sum(dot(c, u) for c, u in zip(cts, us))
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs))


def loop_vmap(f, args, in_axes, out_axis):
    """The oracle of vmap: f on each slice, stacked along out_axis."""
    n = next(a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = []
    for k in range(n):
        sl = [a if ax is None else mx.take(a, k, axis=ax) for a, ax in zip(args, in_axes)]
        outs.append(npy(f(*sl)))
    return np.stack(outs, axis=out_axis)


def check_vmap(f, args, in_axes, out_axes=0, rtol=1e-10):
    got = mx.vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    np.testing.assert_allclose(npy(got), loop_vmap(f, args, in_axes, out_axes),
                               rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------- the dispatch table

@pytest.mark.mlxc_only
@pytest.mark.parametrize("cls", [Matmul, Concatenate])
def test_every_rule_overridden(cls):
    for rule in ("vjp", "jvp", "vmap"):
        assert getattr(cls, rule) is not getattr(Primitive, rule), (cls, rule)


# ---------------------------------------------------------------- rules called directly
# These exercise the primitives' own rules on the shapes the nodes see, independently of
# the rules of the view/elementwise nodes around them.

def _matmul_rules():
    p = Matmul()

    def vjp(xs, v):
        return p.vjp(list(xs), [v], [0, 1], [mx.matmul(*xs)])

    def jvp(xs, us):
        return p.jvp(list(xs), list(us), [0, 1], [mx.matmul(*xs)])
    return vjp, jvp


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((2, 3, 4), (2, 4, 5)),
                                   ((2, 1, 2, 3), (2, 1, 3, 2)), ((1, 3), (3, 1))])
@pytest.mark.mlxc_only
def test_matmul_rules_direct(sa, sb):
    a, b = rnd(sa, 1), rnd(sb, 2)
    check_transforms(mx.matmul, [a, b], rules=_matmul_rules())


@pytest.mark.mlxc_only
def test_matmul_rules_direct_partial_argnums():
    p = Matmul()
    a, b = rnd((3, 4), 1), rnd((4, 2), 2)
    out = a @ b
    g = rnd((3, 2), 3)
    (db,) = p.vjp([a, b], [g], [1], [out])
    np.testing.assert_allclose(npy(db), npy(a).T @ npy(g), rtol=1e-12)
    (t,) = p.jvp([a, b], [rnd((3, 4), 4)], [0], [out])
    np.testing.assert_allclose(npy(t), npy(rnd((3, 4), 4)) @ npy(b), rtol=1e-12)


@pytest.mark.mlxc_only
@pytest.mark.parametrize("sa,sb,ax,bx", [
    ((4, 3, 5), (5, 2), 0, -1),        # rows batched, shared B
    ((3, 4, 5), (5, 2), 1, -1),
    ((3, 5, 4), (5, 2), 2, -1),        # batch in the contracted axis
    ((3, 5), (4, 5, 2), -1, 0),        # shared A, batched B
    ((3, 5), (5, 4, 2), -1, 1),
    ((3, 5), (5, 2, 4), -1, 2),
    ((4, 3, 5), (5, 2, 4), 0, 2),      # both batched
    ((2, 4, 3, 5), (2, 5, 2), 1, -1),  # with a batch dim of the node itself
    ((2, 3, 5), (4, 2, 5, 2), -1, 0),
])
def test_matmul_vmap_direct(sa, sb, ax, bx):
    a, b = rnd(sa, 1), rnd(sb, 2)
    (y,), (oy,) = Matmul().vmap([a, b], [ax, bx], [None])
    y = npy(mx.moveaxis(y, oy, 0))
    an, bn = npy(a), npy(b)
    n = sa[ax] if ax >= 0 else sb[bx]
    ref = np.stack([(np.take(an, k, ax) if ax >= 0 else an)
                    @ (np.take(bn, k, bx) if bx >= 0 else bn) for k in range(n)])
    np.testing.assert_allclose(y, ref, rtol=1e-12)


def _concat_rules(axis, n):
    p = Concatenate(axis)

    def vjp(xs, v):
        return p.vjp(list(xs), [v], list(range(n)), [mx.concatenate(xs, axis)])

    def jvp(xs, us):
        return p.jvp(list(xs), list(us), list(range(n)), [mx.concatenate(xs, axis)])
    return vjp, jvp


@pytest.mark.parametrize("shapes,axis", [([(2, 3), (4, 3)], 0), ([(2, 1), (2, 3), (2, 2)], 1),
                                         ([(2, 2, 1), (2, 2, 3)], 2)])
@pytest.mark.mlxc_only
def test_concat_rules_direct(shapes, axis):
    xs = [rnd(s, i) for i, s in enumerate(shapes)]
    check_transforms(lambda *a: mx.concatenate(a, axis), xs, rules=_concat_rules(axis, len(xs)))


@pytest.mark.mlxc_only
def test_concat_rules_direct_mixed_dtypes_and_missing_tangents():
    p = Concatenate(0)
    a, b = rnd((2, 3), 1).astype(mx.float32), rnd((1, 3), 2)
    out = mx.concatenate([a, b])
    assert out.dtype == mx.float64
    g = rnd((3, 3), 3)
    ga, gb = p.vjp([a, b], [g], [0, 1], [out])
    assert ga.dtype == mx.float32 and gb.dtype == mx.float64
    np.testing.assert_allclose(npy(ga), npy(g)[:2], rtol=1e-6)
    np.testing.assert_allclose(npy(gb), npy(g)[2:], rtol=0)
    (t,) = p.jvp([a, b], [rnd((1, 3), 4)], [1], [out])
    assert t.dtype == mx.float64 and t.shape == (3, 3)
    np.testing.assert_allclose(npy(t), np.concatenate([np.zeros((2, 3)), npy(rnd((1, 3), 4))]))


@pytest.mark.mlxc_only
@pytest.mark.parametrize("axes", [[0, 0], [1, -1], [-1, 2], [2, 1]])
def test_concat_vmap_direct(axes):
    base = [(2, 3), (2, 1)]
    xs = []
    for i, (s, ax) in enumerate(zip(base, axes)):
        shape = list(s)
        if ax >= 0:
            shape.insert(ax, 4)
        xs.append(rnd(tuple(shape), i))
    (y,), (oy,) = Concatenate(1).vmap(xs, axes, [None])
    y = npy(mx.moveaxis(y, oy, 0))
    ref = np.stack([np.concatenate([np.take(npy(x), k, ax) if ax >= 0 else npy(x)
                                    for x, ax in zip(xs, axes)], 1) for k in range(4)])
    np.testing.assert_array_equal(y, ref)


# ---------------------------------------------------------------- through the transforms

@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)),
                                   ((4,), (4,)), ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 2)),
                                   ((2, 1, 3, 4), (3, 4, 2))])
def test_matmul_grad_jvp(sa, sb):
    check_transforms(lambda a, b: a @ b, [rnd(sa, 1), rnd(sb, 2)])


def test_matmul_float32_grad_dtype():
    a, b = rnd((3, 4), 1).astype(mx.float32), rnd((4, 2), 2).astype(mx.float32)
    ga, gb = mx.grad(lambda a, b: mx.sum(a @ b), argnums=(0, 1))(a, b)
    assert ga.dtype == mx.float32 and gb.dtype == mx.float32
    np.testing.assert_allclose(npy(ga), np.ones((3, 2)) @ npy(b).T, rtol=1e-5)
    np.testing.assert_allclose(npy(gb), npy(a).T @ np.ones((3, 2)), rtol=1e-5)


def test_matmul_second_order():
    # grad of grad: d/dA sum((A @ B)^2) = 2 (A B) B^T; its jvp along U is 2 U B B^T.
    a, b, u = rnd((3, 4), 1), rnd((4, 2), 2), rnd((3, 4), 3)
    g = mx.grad(lambda a: mx.sum(mx.square(a @ b)))
    _, (h,) = mx.jvp(g, [a], [u])
    bn = npy(b)
    np.testing.assert_allclose(npy(h), 2 * npy(u) @ bn @ bn.T, rtol=1e-10)
    check_transforms(lambda a: g(a), [a])


@pytest.mark.parametrize("in_axis,out_axis", [(0, 0), (1, 0), (0, 1), (1, -1)])
def test_vmap_matvec(in_axis, out_axis):
    w = rnd((3, 5), 1)
    x = rnd((4, 5) if in_axis == 0 else (5, 4), 2)
    check_vmap(lambda x: w @ x, [x], (in_axis,), out_axis)


@pytest.mark.parametrize("in_axes", [(0, 0), (1, 0), (None, 0), (0, None), (2, 1)])
def test_vmap_matmul(in_axes):
    shapes = {None: (3, 4), 0: (5, 3, 4), 1: (3, 5, 4), 2: (3, 4, 5)}
    shapes_b = {None: (4, 2), 0: (5, 4, 2), 1: (4, 5, 2), 2: (4, 2, 5)}
    a, b = rnd(shapes[in_axes[0]], 1), rnd(shapes_b[in_axes[1]], 2)
    for oa in (0, 1, 2):
        check_vmap(lambda a, b: a @ b, [a, b], in_axes, oa)


@pytest.mark.parametrize("in_axes", [(0, 0), (1, 0), (None, 1)])
def test_vmap_vector_dot(in_axes):
    x = rnd((4, 5) if in_axes[0] == 0 else (5, 4), 1)
    y = rnd((4, 5) if in_axes[1] == 0 else (5, 4), 2)
    if in_axes[0] is None:
        x = rnd((5,), 1)
    check_vmap(lambda x, y: x @ y, [x, y], in_axes)


def test_vmap_of_grad_per_example():
    # Per-example gradients of a linear model: 2 (x.w - y) x for each example.
    w, x, y = rnd((5,), 1), rnd((6, 5), 2), rnd((6,), 3)
    g = mx.vmap(mx.grad(lambda w, x, y: mx.square(x @ w - y)), in_axes=(None, 0, 0))(w, x, y)
    ref = (2 * (npy(x) @ npy(w) - npy(y)))[:, None] * npy(x)
    np.testing.assert_allclose(npy(g), ref, rtol=1e-10)


def test_grad_of_vmap_matmul():
    w, x = rnd((3, 5), 1), rnd((4, 5), 2)
    f = lambda w: mx.sum(mx.square(mx.vmap(lambda x: w @ x)(x)))
    g = mx.grad(f)(w)
    wn, xn = npy(w), npy(x)
    np.testing.assert_allclose(npy(g), 2 * (xn @ wn.T).T @ xn, rtol=1e-10)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_grad_jvp(axis):
    xs = [rnd((2, 3), 1), rnd((2, 3), 2), rnd((2, 3), 3)]
    check_transforms(lambda *a: mx.concatenate(a, axis), xs)


def test_concatenate_repeated_input_and_partial():
    x, y = rnd((2, 2), 1), rnd((1, 2), 2)
    g = mx.grad(lambda x: mx.sum(mx.concatenate([x, y, x * 2]) * mx.arange(10.0).reshape(5, 2)))
    ref = np.arange(10.0).reshape(5, 2)
    np.testing.assert_allclose(npy(g(x)), ref[:2] + 2 * ref[3:])


@pytest.mark.parametrize("in_axes", [(0, 0), (1, None), (None, 2), (2, 1)])
def test_vmap_concatenate(in_axes):
    shape = {None: (2, 3), 0: (4, 2, 3), 1: (2, 4, 3), 2: (2, 3, 4)}
    a, b = rnd(shape[in_axes[0]], 1), rnd(shape[in_axes[1]], 2)
    for axis in (0, 1):
        for oa in (0, 2):
            check_vmap(lambda a, b: mx.concatenate([a, b], axis), [a, b], in_axes, oa)


# ---------------------------------------------------------------- composite ops

COMPOSITES = {
    "addmm": (lambda c, a, b: mx.addmm(c, a, b, alpha=0.5, beta=2.0), [(3,), (2, 4), (4, 3)]),
    "inner": (lambda a, b: mx.inner(a, b), [(2, 4), (3, 4)]),
    "outer": (lambda a, b: mx.outer(a, b), [(3,), (2, 2)]),
    "tensordot": (lambda a, b: mx.tensordot(a, b, axes=([0, 2], [1, 0])),
                  [(2, 3, 4), (4, 2, 3)]),
    "tensordot_int": (lambda a, b: mx.tensordot(a, b, axes=1), [(2, 3), (3, 2)]),
    "stack": (lambda a, b: mx.stack([a, b], axis=1), [(2, 3), (2, 3)]),
    "split": (lambda a: mx.split(a, [1, 3], axis=1)[1][:2] * 2 + mx.split(a, 2, axis=0)[0][:, :2],
              [(4, 4)]),
    "pad_constant": (lambda a: mx.pad(a, [(1, 2), (0, 1)]), [(2, 3)]),
    "pad_edge": (lambda a: mx.pad(a, 2, mode="edge"), [(2, 3)]),
    "pad_reflect": (lambda a: mx.pad(a, [(2, 1), (1, 0)], mode="reflect"), [(3, 3)]),
    "pad_symmetric": (lambda a: mx.pad(a, 1, mode="symmetric"), [(2, 3)]),
    "tile": (lambda a: mx.tile(a, (2, 1, 3)), [(2, 3)]),
    "repeat": (lambda a: mx.repeat(a, 3, axis=1), [(2, 3)]),
    "repeat_flat": (lambda a: mx.repeat(a, 2), [(2, 3)]),
    "roll": (lambda a: mx.roll(a, 2, axis=1), [(2, 4)]),
    "roll_multi": (lambda a: mx.roll(a, (1, -1), axis=(0, 1)), [(3, 4)]),
    "roll_flat": (lambda a: mx.roll(a, 5), [(2, 4)]),
}

# MLX 0.32.4: addmm's vmap rejects a batched c, and its rules fail this check.
COMPOSITE_PARAMS = [pytest.param(n, marks=pytest.mark.mlxc_only) if n == "addmm" else n
                    for n in COMPOSITES]


@pytest.mark.parametrize("name", COMPOSITE_PARAMS)
def test_composite_grad_jvp(name):
    f, shapes = COMPOSITES[name]
    check_transforms(f, [rnd(s, i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("name", COMPOSITE_PARAMS)
def test_composite_vmap(name):
    f, shapes = COMPOSITES[name]
    n = 3
    # Batch every input on axis 0, then the first input on its last axis and the rest
    # unbatched.
    args0 = [rnd((n,) + s, i) for i, s in enumerate(shapes)]
    check_vmap(f, args0, tuple([0] * len(shapes)))
    args1 = [rnd(shapes[0] + (n,), 7)] + [rnd(s, 8 + i) for i, s in enumerate(shapes[1:])]
    check_vmap(f, args1, (len(shapes[0]),) + (None,) * (len(shapes) - 1), -1)


def test_composite_vmap_of_grad():
    # vmap(grad) through tensordot, stack and pad: per-example gradients against a loop.
    w = rnd((3, 4), 1)

    def loss(w, x):
        y = mx.tensordot(w, mx.stack([x, 2 * x]), axes=([1], [2]))
        return mx.sum(mx.square(mx.pad(y, 1)))

    xs = rnd((5, 2, 4), 2)
    got = mx.vmap(mx.grad(loss), in_axes=(None, 0))(w, xs)
    ref = np.stack([npy(mx.grad(loss)(w, xs[k])) for k in range(5)])
    np.testing.assert_allclose(npy(got), ref, rtol=1e-10)
