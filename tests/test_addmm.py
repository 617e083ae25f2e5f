"""mx.addmm(c, a, b, alpha, beta) = alpha * (a @ b) + beta * c, one fused GEMM.

Oracles: numpy float64 on the exact stored values; central finite differences in
float64 for the transforms' derivatives; a Python loop for vmap.
"""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import assert_close, dt, rand, to_np

# |error| allowed on results of magnitude ~K * 9 (inputs in [-3, 3])
TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-12, atol=1e-12),
       "float16": dict(rtol=2e-3, atol=2e-3), "bfloat16": dict(rtol=1.6e-2, atol=1.6e-2),
       "complex64": dict(rtol=2e-5, atol=2e-5)}
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def _ref(nc, na, nb, alpha, beta):
    return alpha * (na @ nb) + beta * nc


# c broadcast every way against a (3, 4) @ (4, 5) product, batched products
@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("cshape,ashape,bshape", [
    ((), (3, 4), (4, 5)),                  # scalar
    ((5,), (3, 4), (4, 5)),                # bias row
    ((1, 5), (3, 4), (4, 5)),
    ((3, 1), (3, 4), (4, 5)),              # column
    ((3, 5), (3, 4), (4, 5)),              # full
    ((2, 3, 5), (2, 3, 4), (2, 4, 5)),     # batch, everything batched
    ((2, 1, 5), (1, 3, 4), (2, 4, 5)),     # batch dims broadcast in a and c
    ((3, 5), (2, 3, 4), (4, 5)),           # c and b shared by the batch
    ((2, 1, 1), (2, 3, 4), (4, 5)),        # one scalar per batch matrix
    ((40,), (70, 33), (33, 40)),           # packed GEMM path with edge tiles
    ((70, 1), (3, 70, 33), (3, 33, 40)),
])
def test_values(name, cshape, ashape, bshape):
    c, nc = rand(cshape, name, seed=1)
    a, na = rand(ashape, name, seed=2)
    b, nb = rand(bshape, name, seed=3)
    for alpha, beta in [(1.0, 1.0), (0.5, -2.0), (-1.5, 0.25)]:
        assert_close(mx.addmm(c, a, b, alpha, beta), _ref(nc, na, nb, alpha, beta),
                     dtype=name, **TOL[name])


@pytest.mark.parametrize("cshape,ashape,bshape,out", [
    ((5,), (4,), (4, 5), (5,)),            # 1-d a: M dropped
    ((), (4,), (4, 5), (5,)),
    ((3,), (3, 4), (4,), (3,)),            # 1-d b: N dropped
    ((2, 3), (2, 3, 4), (4,), (2, 3)),
    ((), (4,), (4,), ()),                  # both: a dot product
    ((2,), (4,), (2, 4, 6), None),         # c (2,) cannot broadcast to (2, 6): error below
    ((6,), (4,), (2, 4, 6), (2, 6)),
    ((1, 300), (300,), (300, 300), None),
])
def test_vector_operands(cshape, ashape, bshape, out):
    c, nc = rand(cshape, seed=4)
    a, na = rand(ashape, seed=5)
    b, nb = rand(bshape, seed=6)
    if out is None:
        with pytest.raises(ValueError, match="broadcast"):
            mx.addmm(c, a, b)
        return
    assert np.shape(na @ nb) == out
    assert_close(mx.addmm(c, a, b, 2.0, 0.5), _ref(nc, na, nb, 2.0, 0.5), dtype="float32",
                 **TOL["float32"])


@pytest.mark.parametrize("name", ["float32", "float64"])
def test_transposed_and_strided_operands(name):
    """Operands as views: transposed a and b, a transposed full c, a sliced c."""
    a, na = rand((40, 30), name, seed=7)
    b, nb = rand((50, 40), name, seed=8)
    c, nc = rand((50, 30), name, seed=9)
    got = mx.addmm(mx.transpose(c), mx.transpose(a), mx.transpose(b), 0.75, 1.5)
    assert_close(got, _ref(nc.T, na.T, nb.T, 0.75, 1.5), dtype=name, **TOL[name])
    big, nbig = rand((60, 100), name, seed=10)
    # c with strides (2*100, 2), a transposed with a column step, b with reversed columns
    got = mx.addmm(big[::2, 1:81:2], mx.transpose(a)[:, ::2], b[::2, ::-1][:20], -1.0, 2.0)
    want = _ref(nbig[::2, 1:81:2], na.T[:, ::2], nb[::2, ::-1][:20], -1.0, 2.0)
    assert_close(got, want, dtype=name, **TOL[name])


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("cshape", [(), (5,), (3, 1), (2, 3, 5)])
def test_beta_zero_ignores_nan_and_inf_in_c(name, cshape):
    a, na = rand((2, 3, 4), name, seed=11)
    b, nb = rand((4, 5), name, seed=12)
    for bad in (np.nan, np.inf, -np.inf):
        c = mx.full(cshape, bad, dtype=dt(name))
        got = mx.addmm(c, a, b, 1.25, 0.0)
        assert_close(got, 1.25 * (na @ nb), dtype=name, **TOL[name])
    # beta != 0 does read c: its NaN propagates
    got = to_np(mx.addmm(mx.full((5,), np.nan, dtype=dt(name)), a, b, 1.0, 1e-3))
    assert np.isnan(got).all()


@pytest.mark.parametrize("alpha,beta", [(0.0, 2.0), (1.0, 0.0), (2.5, 1.0), (-0.5, -3.0)])
def test_alpha_beta_variants(alpha, beta):
    c, nc = rand((6,), "float64", seed=13)
    a, na = rand((5, 7), "float64", seed=14)
    b, nb = rand((7, 6), "float64", seed=15)
    assert_close(mx.addmm(c, a, b, alpha=alpha, beta=beta), _ref(nc, na, nb, alpha, beta),
                 dtype="float64", **TOL["float64"])
    # ints and bools are accepted for alpha and beta (as MLX)
    assert_close(mx.addmm(c, a, b, 2, True), _ref(nc, na, nb, 2.0, 1.0), **TOL["float64"])


def test_empty_inner_dim_gives_beta_c():
    c, nc = rand((3, 2), seed=16)
    got = mx.addmm(c, mx.zeros((3, 0)), mx.zeros((0, 2)), 2.0, 3.0)
    # 0 * 2 + 3 * c, each step rounded to float32
    assert_close(got, (np.float32(3.0) * nc.astype(np.float32)).astype(np.float64),
                 dtype="float32", rtol=0, atol=0)
    assert mx.addmm(mx.zeros((0, 2)), mx.zeros((0, 4)), mx.zeros((4, 2))).shape == (0, 2)


@pytest.mark.parametrize("cd,ad,bd,out", [
    ("float16", "float16", "float16", "float16"),
    ("float32", "float16", "float16", "float32"),    # c's dtype takes part in promotion
    ("float16", "bfloat16", "bfloat16", "float32"),
    ("int32", "float32", "float32", "float32"),
    ("float32", "int32", "int32", "float32"),
    ("bool_", "float16", "float16", "float16"),
    ("float64", "float32", "float16", "float64"),
    ("complex64", "float32", "float32", "complex64"),
])
def test_dtype_promotion(cd, ad, bd, out):
    c, nc = rand((3, 2), cd, seed=17)
    a, na = rand((3, 4), ad, seed=18)
    b, nb = rand((4, 2), bd, seed=19)
    got = mx.addmm(c, a, b, 0.5, 2.0)
    assert_close(got, _ref(nc, na, nb, 0.5, 2.0), dtype=out, **TOL[out])


def test_complex64():
    c, nc = rand((2, 3), "complex64", seed=20)
    a, na = rand((2, 5), "complex64", seed=21)
    b, nb = rand((5, 3), "complex64", seed=22)
    for alpha, beta in [(1.0, 1.0), (-0.5, 2.0), (2.0, 0.0)]:
        assert_close(mx.addmm(c, a, b, alpha, beta), _ref(nc, na, nb, alpha, beta),
                     dtype="complex64", **TOL["complex64"])


@pytest.mark.mlxc_only
@pytest.mark.parametrize("name,mant", [("float16", 11), ("bfloat16", 8)])
def test_half_rounds_once(name, mant):
    """Half results are alpha * sum + beta * c in float32, rounded once: within half an
    ulp of the exact value (plus the float32 sum's own tiny error)."""
    c, nc = rand((8, 48), name, seed=23)
    a, na = rand((3, 8, 64), name, seed=24)
    b, nb = rand((64, 48), name, seed=25)
    want = _ref(nc, na, nb, 0.3, -1.7)
    got = to_np(mx.addmm(c, a, b, 0.3, -1.7))
    ulp = 2.0 ** (np.floor(np.log2(np.maximum(np.abs(want), 2.0 ** -14))) - (mant - 1))
    slack = 64 * 2.0 ** -23 * (0.3 * (np.abs(na) @ np.abs(nb)) + 1.7 * np.abs(nc))
    assert (np.abs(got - want) <= 0.5 * ulp + slack).all()


# ----------------------------------------------------------------- errors

def test_errors_keep_mlx_messages():
    with pytest.raises(ValueError, match=r"\[addmm\] Only real floating point types are "
                       r"supported but int8, int16 and uint8 were provided which results in "
                       r"int16, which is not a real floating point type"):
        mx.addmm(mx.ones((3, 2), mx.int8), mx.ones((3, 4), mx.int16), mx.ones((4, 2), mx.uint8))
    with pytest.raises(ValueError, match=r"\[addmm\] Last dimension of first input with shape "
                       r"\(3,4\) must match second to last dimension of second input with "
                       r"shape \(5,2\)"):
        mx.addmm(mx.ones((3, 2)), mx.ones((3, 4)), mx.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\[addmm\] input c must broadcast to the output shape"):
        mx.addmm(mx.ones((2, 3, 2)), mx.ones((3, 4)), mx.ones((4, 2)))
    with pytest.raises(ValueError, match=r"\[addmm\] Got 0 dimension input"):
        mx.addmm(mx.ones((3,)), mx.array(1.0), mx.ones((4, 3)))
    with pytest.raises(ValueError, match="broadcast"):
        mx.addmm(mx.ones((3, 3)), mx.ones((2, 3)), mx.ones((3, 2)))
    with pytest.raises(ValueError, match="broadcast"):
        mx.addmm(mx.ones((4, 2)), mx.ones((2, 3, 4)), mx.ones((3, 4, 2)))


# ------------------------------------------------------------- transforms

ALPHA, BETA = 0.75, -1.25
SHAPES = [((3,), (2, 4), (4, 3)), ((2, 1, 3), (2, 2, 4), (4, 3)), ((2, 3), (2, 2, 4), (2, 4, 3))]


def _f(c, a, b):
    return mx.addmm(c, a, b, ALPHA, BETA)


def _args(shapes, seed):
    return [rand(s, "float64", seed=seed + i) for i, s in enumerate(shapes)]


def _fd(fn, nps, i, h=1e-6):
    """d sum(fn(...) * w) / d nps[i] by central differences (float64)."""
    g = np.zeros_like(nps[i])
    for idx in np.ndindex(nps[i].shape):
        vals = []
        for s in (h, -h):
            xs = [x.copy() for x in nps]
            xs[i][idx] += s
            vals.append(to_np(fn(*[mx.array(x, dtype=mx.float64) for x in xs])))
        g[idx] = (vals[0] - vals[1]) / (2 * h)
    return g


@pytest.mark.parametrize("shapes", SHAPES)
def test_grad_matches_finite_differences(shapes):
    arrs = _args(shapes, 30)
    xs = [x for x, _ in arrs]
    nps = [n for _, n in arrs]
    w, nw = rand(np.broadcast_shapes(np.shape(nps[1] @ nps[2]), np.shape(nps[0])),
                 "float64", seed=40)

    def loss(c, a, b):
        return mx.sum(_f(c, a, b) * w)

    grads = mx.grad(loss, argnums=(0, 1, 2))(*xs)
    for i in range(3):
        assert grads[i].shape == xs[i].shape and grads[i].dtype == mx.float64
        assert_close(grads[i], _fd(loss, nps, i), rtol=1e-6, atol=1e-6)


def test_grad_keeps_each_input_dtype():
    c, _ = rand((3,), "float16", seed=41)
    a, _ = rand((2, 4), "float32", seed=42)
    b, _ = rand((4, 3), "float32", seed=43)
    gc, ga, gb = mx.grad(lambda c, a, b: mx.sum(_f(c, a, b)), argnums=(0, 1, 2))(c, a, b)
    assert (gc.dtype, ga.dtype, gb.dtype) == (mx.float16, mx.float32, mx.float32)
    assert_close(gc, np.full((3,), 2 * BETA), rtol=1e-3, atol=1e-3)


@pytest.mark.mlxc_only  # MLX 0.32's addmm jvp is wrong (see test_transforms_generic)
@pytest.mark.parametrize("shapes", SHAPES)
def test_jvp_matches_finite_differences(shapes):
    arrs = _args(shapes, 50)
    tans = _args(shapes, 60)
    xs, nps = [x for x, _ in arrs], [n for _, n in arrs]
    ts, nts = [t for t, _ in tans], [n for _, n in tans]
    h = 1e-6
    plus = to_np(_f(*[mx.array(x + h * t, dtype=mx.float64) for x, t in zip(nps, nts)]))
    minus = to_np(_f(*[mx.array(x - h * t, dtype=mx.float64) for x, t in zip(nps, nts)]))
    _, (tout,) = mx.jvp(_f, xs, ts)
    assert_close(tout, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-6)
    # tangents of a subset of the inputs (the others held fixed)
    for k in range(3):
        fk = lambda x, k=k: _f(*[x if i == k else xs[i] for i in range(3)])
        plus = to_np(fk(mx.array(nps[k] + h * nts[k], dtype=mx.float64)))
        minus = to_np(fk(mx.array(nps[k] - h * nts[k], dtype=mx.float64)))
        _, (tk,) = mx.jvp(fk, [xs[k]], [ts[k]])
        assert_close(tk, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("in_axes,shapes", [
    ((0, 0, 0), [(5, 3), (5, 2, 4), (5, 4, 3)]),
    ((None, 0, None), [(3,), (5, 2, 4), (4, 3)]),
    ((None, None, 1), [(2, 3), (2, 4), (4, 5, 3)]),
    pytest.param((0, None, None), [(5, 2, 3), (2, 4), (4, 3)],  # only c batched
                 marks=pytest.mark.mlxc_only),                  # (MLX 0.32 raises)
    ((1, 2, 0), [(3, 5), (2, 4, 5), (5, 4, 3)]),
    ((None, 1, None), [(1, 3), (2, 5, 4), (4, 3)]),        # a batched on its M axis
])
def test_vmap_matches_loop(in_axes, shapes):
    arrs = [rand(s, seed=70 + i) for i, s in enumerate(shapes)]
    xs = [x for x, _ in arrs]
    n = next(x.shape[ax] for x, ax in zip(xs, in_axes) if ax is not None)
    got = mx.vmap(_f, in_axes=in_axes)(*xs)
    want = []
    for k in range(n):
        sl = [x if ax is None else mx.take(x, k, axis=ax) for x, ax in zip(xs, in_axes)]
        want.append(to_np(_f(*sl)))
    assert_close(got, np.stack(want), dtype="float32", **TOL["float32"])


def test_vmap_of_grad():
    """Per-example gradients: vmap over grad (nested transforms through AddMM)."""
    c, nc = rand((3,), "float64", seed=80)
    a, na = rand((4, 2, 5), "float64", seed=81)
    b, nb = rand((5, 3), "float64", seed=82)
    g = mx.vmap(mx.grad(lambda a: mx.sum(_f(c, a, b) ** 2)), in_axes=(0,))(a)
    want = [ALPHA * (2 * _ref(nc, na[k], nb, ALPHA, BETA)) @ nb.T for k in range(4)]
    assert_close(g, np.stack(want), rtol=1e-10, atol=1e-10)
