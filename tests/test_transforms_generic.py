"""Cross-cutting checks of the transform rules of every op family.

For each differentiable op of the table: vjp and jvp against central finite differences
in float64 and the transpose identity <v, J u> = <J^T v, u>; jvp of the vjp (the rules
must themselves be differentiable) and vmap of the vjp (and batchable).  For every op,
differentiable or not: vmap against a Python loop over the mapped axis for in_axes on
each axis, None for some arguments, and several out_axes.  Then a few compositions
(grad of grad, vmap of vmap, grad of vmap, vmap of grad, forward-over-reverse
Hessian-vector products).

Only the public mx API is used: MLXC_TEST_REFERENCE=mlx runs this file on real MLX.
"""
import numpy as np
import pytest

import mlxc.core as mx
from transform_oracles import (A, F64, REFERENCE, as_list, assert_close, check_jvp,
                               check_transpose, check_vjp, flat, insert_batch, to_mx,
                               vmap_reference)


def tight(rtol):
    """A tolerance for analytic comparisons; real MLX (MLXC_TEST_REFERENCE=mlx) computes
    float64 transcendentals to about float32 accuracy, so it gets a looser one."""
    return 1e-5 if REFERENCE else rtol


FD_H = 1e-3 if REFERENCE else 1e-5      # step for finite differences of derivatives
FD_RTOL = 5e-3 if REFERENCE else 1e-4

# Where real MLX 0.32.4 itself lacks a rule or has a wrong one (seen when validating this
# file with MLXC_TEST_REFERENCE=mlx).  mlxc must pass these; only the reference run skips.
_NO_SCATTER_JVP = "MLX: [scatter] JVP not yet implemented"
_NO_CUM_JVP = "MLX: JVP is not implemented for cumulative prod/min/max"
MLX_GAPS = {
    **{(k, c): _NO_CUM_JVP for k in ("jvp", "transpose", "jvp_of_vjp")
       for c in ("cumprod_axis1", "cummax_axis1", "cummin_axis0")},
    ("jvp_of_vjp", "prod_axis0"): "MLX: prod's vjp uses cumprod, which has no JVP",
    ("jvp_of_vjp", "prod_all"): "MLX: prod's vjp uses cumprod, which has no JVP",
    **{(k, c): _NO_SCATTER_JVP for k in ("jvp", "transpose")
       for c in ("setitem_fancy", "at_add")},
    ("jvp", "addmm"): "MLX: addmm's jvp is wrong",
    ("transpose", "addmm"): "MLX: addmm's jvp is wrong",
    ("transpose", "logcumsumexp"): "MLX: logcumsumexp's jvp and vjp disagree",
    ("vmap_of_vjp", "setitem_slice"): "MLX: slice_update vmap with an unbatched update",
    ("vmap_of_vjp", "slice_update"): "MLX: slice_update vmap with an unbatched update",
    ("vmap", "setitem_slice-none1"): "MLX: slice_update vmap with an unbatched update",
    ("vmap", "slice_update-none1"): "MLX: slice_update vmap with an unbatched update",
    ("vmap", "expand_dims_multi-axlast"): "MLX: expand_dims vmap with the batch axis last",
    ("hvp", "softmax_ce"): _NO_SCATTER_JVP,
}


def mlx_gap(kind, name):
    if REFERENCE and (kind, name) in MLX_GAPS:
        pytest.xfail(MLX_GAPS[(kind, name)])


# ------------------------------------------------------------------ input domains

def _rng(name):
    return np.random.default_rng(sum(map(ord, name)) * 7919 + len(name))


def anyv(*shape):
    return lambda r: r.uniform(-1.5, 1.5, shape)


def pos(*shape):
    return lambda r: r.uniform(0.5, 2.0, shape)


def unit(*shape):
    return lambda r: r.uniform(-0.8, 0.8, shape)


def away0(*shape):
    return lambda r: r.choice([-1.0, 1.0], shape) * r.uniform(0.3, 1.5, shape)


def distinct(*shape, lo=-2.0, hi=2.0):
    """Values at least (hi-lo)/(n+1) apart: no ties for max/min/sort under an FD step."""
    def gen(r):
        n = int(np.prod(shape)) if shape else 1
        v = np.linspace(lo, hi, n) + r.uniform(-0.1, 0.1, n) * (hi - lo) / (n + 1)
        return r.permutation(v).reshape(shape)
    return gen


def rng_range(lo, hi, *shape):
    return lambda r: r.uniform(lo, hi, shape)


def ints(hi, *shape):
    return lambda r: r.integers(0, hi, shape).astype(np.int32)


def const(value):
    return lambda r: np.asarray(value)


def pair_distinct(*shape):
    """(x, y) with |x - y| >= 0.2 everywhere (maximum/minimum without ties)."""
    def gen(r):
        x = r.uniform(-1.5, 1.5, shape)
        y = x + r.choice([-1.0, 1.0], shape) * r.uniform(0.2, 1.0, shape)
        return [x, y]
    return gen


class Case:
    def __init__(self, name, fn, gens, diff=True, vmap=True):
        self.name = name
        self.fn = fn
        self.gens = gens          # list of per-input generators, or one generator of a list
        self.diff = diff
        self.vmap = vmap

    def inputs(self):
        r = _rng(self.name)
        if callable(self.gens):
            return [np.asarray(v) for v in self.gens(r)]
        return [np.asarray(g(r)) for g in self.gens]

    def __repr__(self):
        return self.name


IDX3 = np.array([2, 0, 2], dtype=np.int32)          # with a repeat: cotangents accumulate
COND = np.array([[True, False, True], [False, False, True]])


def _set_slice(x, u):
    y = x * 1.0
    y[1:, :2] = u
    return y


def _set_fancy(x, u):
    y = x * 1.0
    y[mx.array([0, 2])] = u
    return y


UNARY = [
    ("abs", mx.abs, away0), ("negative", mx.negative, anyv), ("square", mx.square, anyv),
    ("sqrt", mx.sqrt, pos), ("rsqrt", mx.rsqrt, pos), ("reciprocal", mx.reciprocal, pos),
    ("exp", mx.exp, anyv), ("expm1", mx.expm1, anyv), ("log", mx.log, pos),
    ("log1p", mx.log1p, pos), ("log2", mx.log2, pos), ("log10", mx.log10, pos),
    ("sin", mx.sin, anyv), ("cos", mx.cos, anyv), ("tan", mx.tan, unit),
    ("arcsin", mx.arcsin, unit), ("arccos", mx.arccos, unit), ("arctan", mx.arctan, anyv),
    ("sinh", mx.sinh, anyv), ("cosh", mx.cosh, anyv), ("tanh", mx.tanh, anyv),
    ("arcsinh", mx.arcsinh, anyv), ("arccosh", mx.arccosh, lambda *s: rng_range(1.2, 3.0, *s)),
    ("arctanh", mx.arctanh, unit), ("sigmoid", mx.sigmoid, anyv), ("erf", mx.erf, anyv),
    ("erfinv", mx.erfinv, unit), ("degrees", mx.degrees, anyv), ("radians", mx.radians, anyv),
    ("softmax", lambda x: mx.softmax(x, axis=-1), anyv),
    ("clip", lambda x: mx.clip(x, -0.2, 0.2), lambda *s: lambda r: (
        r.choice([0.3, 1.0], s) * away0(*s)(r) * r.choice([0.1, 1.0], s))),
    ("pow_scalar", lambda x: x ** 3.0, anyv),
    ("scalar_arith", lambda x: 2.5 * x - 1.0 + x / 4.0, anyv),
    ("rdiv_scalar", lambda x: 3.0 / x, pos),
    ("rpow_scalar", lambda x: 2.0 ** x, anyv),
    ("relu_where", lambda x: mx.where(x > 0, x, 0.0), away0),
]

CASES = [Case(n, f, [g(2, 3)]) for n, f, g in UNARY]

CASES += [
    Case("add", mx.add, [anyv(2, 3), anyv(2, 3)]),
    Case("subtract", mx.subtract, [anyv(2, 3), anyv(2, 3)]),
    Case("multiply", mx.multiply, [anyv(2, 3), anyv(2, 3)]),
    Case("divide", mx.divide, [anyv(2, 3), away0(2, 3)]),
    Case("power", mx.power, [pos(2, 3), anyv(2, 3)]),
    Case("maximum", mx.maximum, pair_distinct(2, 3)),
    Case("minimum", mx.minimum, pair_distinct(2, 3)),
    Case("arctan2", mx.arctan2, [anyv(2, 3), away0(2, 3)]),
    Case("logaddexp", mx.logaddexp, [anyv(2, 3), anyv(2, 3)]),
    Case("remainder", mx.remainder, [rng_range(1.2, 1.8, 2, 3), rng_range(0.95, 1.05, 2, 3)]),
    Case("add_bcast_row", mx.add, [anyv(2, 3), anyv(3)]),
    Case("multiply_bcast_outer", mx.multiply, [anyv(2, 1), anyv(1, 3)]),
    Case("divide_bcast_col", mx.divide, [anyv(2, 3), away0(2, 1)]),
    Case("subtract_0d", mx.subtract, [anyv(2, 3), anyv()]),
    Case("where", lambda x, y: mx.where(mx.array(COND), x, y), [anyv(2, 3), anyv(2, 3)]),
    Case("where_bcast", lambda x, y: mx.where(mx.array(COND), x, y), [anyv(2, 3), anyv(3)]),
    # reductions and scans
    Case("sum_all", mx.sum, [anyv(3, 4)]),
    Case("sum_axis1", lambda x: mx.sum(x, axis=1), [anyv(3, 4)]),
    Case("sum_keepdims", lambda x: mx.sum(x, axis=(0, 2), keepdims=True), [anyv(2, 3, 2)]),
    Case("prod_axis0", lambda x: mx.prod(x, axis=0), [away0(3, 4)]),
    Case("prod_all", mx.prod, [away0(2, 3)]),
    Case("max_axis1", lambda x: mx.max(x, axis=1), [distinct(3, 4)]),
    Case("max_all", mx.max, [distinct(3, 4)]),
    Case("min_axis0", lambda x: mx.min(x, axis=0), [distinct(3, 4)]),
    Case("mean_axis0", lambda x: mx.mean(x, axis=0), [anyv(3, 4)]),
    Case("mean_all", mx.mean, [anyv(3, 4)]),
    Case("var_axis1", lambda x: mx.var(x, axis=1), [anyv(3, 4)]),
    Case("var_ddof1", lambda x: mx.var(x, axis=0, ddof=1), [anyv(3, 4)]),
    Case("std_all", mx.std, [anyv(3, 4)]),
    Case("logsumexp_axis1", lambda x: mx.logsumexp(x, axis=1), [anyv(3, 4)]),
    Case("logsumexp_all", mx.logsumexp, [anyv(3, 4)]),
    Case("softmax_axis0", lambda x: mx.softmax(x, axis=0), [anyv(3, 4)]),
    Case("cumsum_axis1", lambda x: mx.cumsum(x, axis=1), [anyv(3, 4)]),
    Case("cumsum_reverse", lambda x: mx.cumsum(x, axis=0, reverse=True), [anyv(3, 4)]),
    Case("cumsum_exclusive", lambda x: mx.cumsum(x, axis=1, inclusive=False), [anyv(3, 4)]),
    Case("cumprod_axis1", lambda x: mx.cumprod(x, axis=1), [away0(3, 4)]),
    Case("cummax_axis1", lambda x: mx.cummax(x, axis=1), [distinct(3, 4)]),
    Case("cummin_axis0", lambda x: mx.cummin(x, axis=0), [distinct(3, 4)]),
    Case("logcumsumexp", lambda x: mx.logcumsumexp(x, axis=1), [anyv(3, 4)]),
    Case("sort_last", lambda x: mx.sort(x, axis=-1), [distinct(3, 4)]),
    Case("sort_axis0", lambda x: mx.sort(x, axis=0), [distinct(3, 4)]),
    Case("topk", lambda x: mx.topk(x, 2, axis=-1), [distinct(3, 4)]),
    Case("trace", mx.trace, [anyv(3, 3)]),
    # shapes and views
    Case("reshape", lambda x: mx.reshape(x, (3, 4)), [anyv(2, 3, 2)]),
    Case("reshape_flat", lambda x: x.reshape(-1), [anyv(2, 3)]),
    Case("transpose_perm", lambda x: mx.transpose(x, (2, 0, 1)), [anyv(2, 3, 2)]),
    Case("transpose_T", lambda x: x.T, [anyv(2, 3)]),
    Case("swapaxes", lambda x: mx.swapaxes(x, 0, 2), [anyv(2, 3, 2)]),
    Case("moveaxis", lambda x: mx.moveaxis(x, 0, -1), [anyv(2, 3, 2)]),
    Case("broadcast_to", lambda x: mx.broadcast_to(x, (2, 3, 4)), [anyv(3, 1)]),
    Case("expand_dims", lambda x: mx.expand_dims(x, 1), [anyv(2, 3)]),
    Case("expand_dims_multi", lambda x: mx.expand_dims(x, (0, 2)), [anyv(2, 3)]),
    Case("squeeze", lambda x: mx.squeeze(x), [anyv(1, 3, 1)]),
    Case("squeeze_axis", lambda x: mx.squeeze(x, axis=0), [anyv(1, 3, 2)]),
    Case("flatten", lambda x: mx.flatten(x, start_axis=1), [anyv(2, 3, 2)]),
    Case("unflatten", lambda x: mx.unflatten(x, 1, (2, 2)), [anyv(3, 4)]),
    Case("concatenate_axis1", lambda x, y: mx.concatenate([x, y], axis=1),
         [anyv(2, 3), anyv(2, 2)]),
    Case("concatenate_axis0", lambda x, y: mx.concatenate([x, y, x]), [anyv(1, 3), anyv(2, 3)]),
    Case("stack", lambda x, y: mx.stack([x, y], axis=1), [anyv(2, 3), anyv(2, 3)]),
    Case("split_sections", lambda x: mx.split(x, 2, axis=1), [anyv(2, 4)]),
    Case("split_indices", lambda x: mx.split(x, [1, 3], axis=1), [anyv(2, 4)]),
    Case("pad", lambda x: mx.pad(x, ((1, 0), (0, 2))), [anyv(2, 3)]),
    Case("pad_value", lambda x: mx.pad(x, 1, constant_values=1.5), [anyv(2, 3)]),
    Case("tile", lambda x: mx.tile(x, (2, 1)), [anyv(2, 3)]),
    Case("repeat_axis", lambda x: mx.repeat(x, 2, axis=1), [anyv(2, 3)]),
    Case("repeat_flat", lambda x: mx.repeat(x, 2), [anyv(2, 3)]),
    Case("roll_axis", lambda x: mx.roll(x, 1, axis=1), [anyv(2, 3)]),
    Case("roll_flat", lambda x: mx.roll(x, 2), [anyv(2, 3)]),
    Case("slice_basic", lambda x: x[1:, ::2], [anyv(3, 4)]),
    Case("slice_negative_step", lambda x: x[::-1, 1], [anyv(3, 4)]),
    Case("slice_newaxis", lambda x: x[..., None, 0], [anyv(2, 3, 2)]),
    Case("index_array", lambda x: x[mx.array(IDX3)], [anyv(3, 2)]),
    Case("index_array_axis1", lambda x: x[:, mx.array(IDX3)], [anyv(2, 3)]),
    Case("index_two_arrays", lambda x: x[mx.array([0, 1, 1]), mx.array([2, 0, 2])],
         [anyv(2, 3)]),
    Case("take_axis1", lambda x: mx.take(x, mx.array(IDX3), axis=1), [anyv(2, 3)]),
    Case("take_flat", lambda x: mx.take(x, mx.array(IDX3)), [anyv(2, 3)]),
    Case("take_along_axis", lambda x: mx.take_along_axis(
        x, mx.array(np.array([[0, 2], [1, 1]], dtype=np.int32)), axis=1), [anyv(2, 3)]),
    Case("diagonal", lambda x: mx.diagonal(x), [anyv(3, 3)]),
    Case("diagonal_offset", lambda x: mx.diagonal(x, 1), [anyv(3, 4)]),
    Case("triu", lambda x: mx.triu(x), [anyv(3, 3)]),
    Case("setitem_slice", _set_slice, [anyv(3, 3), anyv(2, 2)]),
    Case("setitem_fancy", _set_fancy, [anyv(3, 2), anyv(2, 2)]),
    Case("at_add", lambda x, u: x.at[mx.array(IDX3)].add(u), [anyv(3, 2), anyv(3, 2)]),
    Case("slice_update", lambda x, u: mx.slice_update(x, u, mx.array([1]), axes=(1,)),
         [anyv(2, 4), anyv(2, 2)]),
    Case("put_along_axis", lambda x, u: mx.put_along_axis(
        x, mx.array(np.array([[0], [2]], dtype=np.int32)), u, axis=1),
        [anyv(2, 3), anyv(2, 1)]),
    # linear algebra
    Case("matmul", mx.matmul, [anyv(2, 3), anyv(3, 2)]),
    Case("matmul_batched_bcast", mx.matmul, [anyv(2, 2, 3), anyv(3, 2)]),
    Case("matmul_vec_mat", mx.matmul, [anyv(3), anyv(3, 2)]),
    Case("matmul_mat_vec", lambda a, b: a @ b, [anyv(2, 3), anyv(3)]),
    Case("addmm", lambda c, a, b: mx.addmm(c, a, b, alpha=0.5, beta=2.0),
         [anyv(2, 2), anyv(2, 3), anyv(3, 2)]),
    Case("tensordot_2", lambda a, b: mx.tensordot(a, b, axes=2), [anyv(2, 3, 2), anyv(3, 2, 2)]),
    Case("tensordot_lists", lambda a, b: mx.tensordot(a, b, axes=([0], [1])),
         [anyv(2, 3), anyv(3, 2)]),
    Case("outer", mx.outer, [anyv(3), anyv(2)]),
    Case("inner", mx.inner, [anyv(2, 3), anyv(2, 3)]),
]

# Ops whose derivative is zero (or undefined) or whose output is not float: vmap only.
NONDIFF = [
    Case("argmax", lambda x: mx.argmax(x, axis=1), [distinct(3, 4)], diff=False),
    Case("argmin_all", lambda x: mx.argmin(x), [distinct(3, 4)], diff=False),
    Case("argsort", lambda x: mx.argsort(x, axis=-1), [distinct(3, 4)], diff=False),
    Case("greater", mx.greater, [anyv(2, 3), anyv(2, 3)], diff=False),
    Case("equal", lambda x, y: x == y, [ints(3, 2, 3), ints(3, 2, 3)], diff=False),
    Case("less_scalar", lambda x: x < 0.1, [anyv(2, 3)], diff=False),
    Case("logical_not", lambda x: mx.logical_not(x > 0), [anyv(2, 3)], diff=False),
    Case("astype_int", lambda x: (x * 4).astype(mx.int32), [anyv(2, 3)], diff=False),
    Case("floor", mx.floor, [anyv(2, 3)], diff=False),
    Case("round", mx.round, [anyv(2, 3)], diff=False),
    Case("sign", mx.sign, [away0(2, 3)], diff=False),
    Case("isnan", mx.isnan, [anyv(2, 3)], diff=False),
    Case("stop_gradient", mx.stop_gradient, [anyv(2, 3)], diff=False),
    Case("int_arith", lambda a, b: a * b + 3 - a // (b + 1), [ints(5, 2, 3), ints(5, 2, 3)],
         diff=False),
    Case("int_sum", lambda a: mx.sum(a, axis=0), [ints(5, 3, 4)], diff=False),
    Case("take_batched_idx", lambda x, i: mx.take(x, i, axis=1), [anyv(2, 3), ints(3, 4)],
         diff=False),
    Case("index_batched_idx", lambda x, i: x[i], [anyv(3, 2), ints(3, 2)], diff=False),
    Case("take_along_batched", lambda x, i: mx.take_along_axis(x, i, axis=0),
         [anyv(3, 2), ints(3, 2, 2)], diff=False),
    Case("at_add_batched_idx", lambda x, i, u: x.at[i].add(u),
         [anyv(3, 2), ints(3, 2), anyv(2, 2)], diff=False),
    Case("arange_plus", lambda x: x + mx.arange(3), [anyv(2, 3)], diff=False),
    Case("zeros_like_ones", lambda x: mx.zeros_like(x) + mx.ones(x.shape), [anyv(2, 3)],
         diff=False),
]

DIFF_CASES = [c for c in CASES if c.diff]
ALL_CASES = CASES + NONDIFF


def _ids(cases):
    return [c.name for c in cases]


# ------------------------------------------------------------------ first derivatives

@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_vjp_matches_finite_differences(case):
    mlx_gap("vjp", case.name)
    check_vjp(case.fn, case.inputs(), np.random.default_rng(1))


@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_jvp_matches_finite_differences(case):
    mlx_gap("jvp", case.name)
    check_jvp(case.fn, case.inputs(), np.random.default_rng(2))


@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_transpose_identity(case):
    mlx_gap("transpose", case.name)
    check_transpose(case.fn, case.inputs(), np.random.default_rng(3), rtol=tight(1e-9))


# ------------------------------------------------------------------ rules are differentiable

@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_jvp_of_vjp_matches_finite_differences(case):
    """The vjp's graph is built from differentiable ops: its derivative w.r.t. the primals
    (forward over reverse) matches finite differences of the vjp itself."""
    mlx_gap("jvp_of_vjp", case.name)
    xs = case.inputs()
    rng = np.random.default_rng(4)
    outs = as_list(case.fn(*[A(x) for x in xs]))
    vs = [A(rng.standard_normal(o.shape)) for o in outs]
    us = [rng.standard_normal(x.shape) for x in xs]

    def g(*p):
        return mx.vjp(case.fn, list(p), vs)[1]

    _, tans = mx.jvp(g, [A(x) for x in xs], [A(u) for u in us])
    h = FD_H
    gp = g(*[A(x + h * u) for x, u in zip(xs, us)])
    gm = g(*[A(x - h * u) for x, u in zip(xs, us)])
    expected = (flat(gp) - flat(gm)) / (2 * h)
    assert_close(flat(tans), expected, rtol=FD_RTOL, atol=1e-6, what="jvp of vjp")


@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_vmap_of_vjp(case):
    """The vjp's graph is batchable: vmap over a batch of primals and cotangents."""
    mlx_gap("vmap_of_vjp", case.name)
    xs = case.inputs()
    rng = np.random.default_rng(5)
    outs = as_list(case.fn(*[A(x) for x in xs]))
    B = 2
    bx = [A(insert_batch(rng, x, 0, B)) for x in xs]
    bv = [A(rng.standard_normal((B,) + tuple(o.shape))) for o in outs]
    n = len(xs)

    def g(*args):
        return mx.vjp(case.fn, list(args[:n]), list(args[n:]))[1]

    got = as_list(mx.vmap(g)(*bx, *bv))
    want = vmap_reference(g, bx + bv, [0] * (n + len(bv)), 0, B)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        assert_close(np.array(a), np.array(b), rtol=tight(1e-10), atol=1e-12)


# ------------------------------------------------------------------ zero derivatives

ZERO_DERIV = [
    ("argmax", lambda x: mx.argmax(x, axis=1)),
    ("argsort", lambda x: mx.argsort(x, axis=1)),
    ("greater", lambda x: x > 0.1),
    ("floor", mx.floor),
    ("round", mx.round),
    ("sign", mx.sign),
    ("isnan", mx.isnan),
    ("stop_gradient", mx.stop_gradient),
]


@pytest.mark.parametrize("name,fn", ZERO_DERIV, ids=[n for n, _ in ZERO_DERIV])
def test_zero_derivatives(name, fn):
    x = A(distinct(3, 4)(_rng(name)))
    out = fn(x)
    cot = mx.ones(out.shape, out.dtype)
    outs, grads = mx.vjp(fn, [x], [cot])
    assert grads[0].shape == x.shape and grads[0].dtype == x.dtype
    assert np.all(np.array(grads[0]) == 0)
    _, tans = mx.jvp(fn, [x], [mx.ones_like(x)])
    assert tans[0].shape == out.shape
    assert np.all(np.array(tans[0]) == 0)
    assert np.all(np.array(mx.grad(lambda a: fn(a).astype(F64).sum())(x)) == 0)


def test_astype_passes_gradient_through():
    """As in MLX: a cast is differentiated as the identity (even to an integer type)."""
    x = A([[0.3, 1.7], [2.2, -0.4]])
    for dt in (mx.float32, mx.int32):
        _, g = mx.vjp(lambda a: a.astype(dt), [x], [mx.full((2, 2), 3, dt)])
        assert g[0].dtype == F64
        np.testing.assert_array_equal(np.array(g[0]), np.full((2, 2), 3.0))
    g = mx.grad(lambda a: (a.astype(mx.float32) ** 2).sum())(x)
    assert g.dtype == F64
    np.testing.assert_allclose(np.array(g), 2 * np.array(x), rtol=1e-6)


# ------------------------------------------------------------------ vmap

def _vmap_configs(n_args):
    cfgs = [("ax0", "first", 0), ("axlast", "last", -1), ("ax1", "one", 1)]
    if n_args > 1:
        cfgs += [(f"none{i}", i, 0) for i in range(n_args)]
    return cfgs


VMAP_PARAMS = []
for _c in ALL_CASES:
    if not _c.vmap:
        continue
    for _label, _mode, _oa in _vmap_configs(len(_c.inputs())):
        VMAP_PARAMS.append(pytest.param(_c, _mode, _oa, id=f"{_c.name}-{_label}"))


def _compare(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape, (a.shape, b.shape)
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        if np.issubdtype(np.array(b).dtype, np.floating):
            assert_close(np.array(a), np.array(b), rtol=tight(1e-12), atol=1e-13)
        else:
            np.testing.assert_array_equal(np.array(a), np.array(b))


@pytest.mark.parametrize("case,mode,out_axis", VMAP_PARAMS)
def test_vmap_matches_loop(case, mode, out_axis, request):
    mlx_gap("vmap", request.node.callspec.id)
    xs = case.inputs()
    rng = np.random.default_rng(6)
    B = 3
    in_axes, args = [], []
    for i, x in enumerate(xs):
        if mode == "first":
            ax = 0
        elif mode == "last":
            ax = x.ndim
        elif mode == "one":
            ax = min(1, x.ndim)
        else:
            ax = None if i == mode else 0
        in_axes.append(ax)
        args.append(to_mx(x) if ax is None else to_mx(insert_batch(rng, x, ax, B)))
    if all(a is None for a in in_axes):
        pytest.skip("nothing mapped")
    # pass -1 for the last axis (a negative in_axes) to exercise that spelling too
    spelled = tuple(-1 if (mode == "last" and ax is not None) else ax for ax in in_axes)
    unbatched_out = as_list(case.fn(*[to_mx(x) for x in xs]))
    if out_axis == 1 and any(o.ndim < 1 for o in unbatched_out):
        out_axis = 0
    got = as_list(mx.vmap(case.fn, in_axes=spelled, out_axes=out_axis)(*args))
    want = vmap_reference(case.fn, args, in_axes, out_axis, B)
    _compare(got, want)


def test_vmap_int_in_axes_and_outputs_tree():
    x = A(np.arange(6.0).reshape(2, 3))
    y = A(np.arange(6.0, 12.0).reshape(2, 3))
    out = mx.vmap(lambda a, b: (a * b, {"s": mx.sum(a)}), in_axes=1, out_axes=0)(x, y)
    assert isinstance(out, tuple) and isinstance(out[1], dict)
    np.testing.assert_allclose(np.array(out[0]), (np.array(x) * np.array(y)).T)
    np.testing.assert_allclose(np.array(out[1]["s"]), np.array(x).sum(0))


def test_vmap_unbatched_output_is_broadcast():
    """An output that does not depend on the mapped input is repeated along the batch."""
    c = A([1.0, 2.0])
    out = mx.vmap(lambda a: c * 2, in_axes=0)(A(np.zeros((3, 4))))
    np.testing.assert_array_equal(np.array(out), np.tile([2.0, 4.0], (3, 1)))


# ------------------------------------------------------------------ compositions

def _f_scalar(x):
    return mx.sum(mx.sin(x) * x)


def test_grad_of_grad():
    x = A([0.3, -1.2, 2.0])
    g2 = mx.grad(lambda a: mx.sum(mx.grad(_f_scalar)(a)))(x)
    xn = np.array(x)
    # d/dx (x cos x + sin x) = 2 cos x - x sin x
    assert_close(np.array(g2), 2 * np.cos(xn) - xn * np.sin(xn), rtol=tight(1e-12))
    g3 = mx.grad(lambda a: mx.sum(mx.grad(lambda b: mx.sum(mx.grad(_f_scalar)(b)))(a)))(x)
    assert_close(np.array(g3), -3 * np.sin(xn) - xn * np.cos(xn), rtol=tight(1e-12))


def test_grad_of_grad_scalar_mlp():
    w = A([[0.5, -0.3], [0.2, 0.8]])
    x = A([1.0, -2.0])

    def loss(w):
        return mx.sum(mx.tanh(w @ x) ** 2)

    # d/dw of sum(grad) against finite differences of sum(grad)
    def sg(w):
        return mx.sum(mx.grad(loss)(w))

    g2 = np.array(mx.grad(sg)(w))
    wn = np.array(w)
    fd = np.zeros_like(wn)
    h = FD_H
    for i in range(2):
        for j in range(2):
            e = np.zeros_like(wn)
            e[i, j] = h
            fd[i, j] = (sg(A(wn + e)).item() - sg(A(wn - e)).item()) / (2 * h)
    assert_close(g2, fd, rtol=FD_RTOL, atol=1e-8)


def test_vmap_of_vmap():
    x = A(np.random.default_rng(0).standard_normal((2, 3, 4)))
    y = A(np.random.default_rng(1).standard_normal((4, 3)))

    def f(a, b):            # a: (4,), b: (4,)
        return mx.sum(mx.exp(a) * b) + mx.max(a)

    got = mx.vmap(mx.vmap(f, in_axes=(0, 1)), in_axes=(0, None))(x, y)
    want = np.array([[np.sum(np.exp(np.array(x)[i, j]) * np.array(y)[:, j])
                      + np.max(np.array(x)[i, j]) for j in range(3)] for i in range(2)])
    assert got.shape == (2, 3)
    assert_close(np.array(got), want, rtol=tight(1e-12))
    got2 = mx.vmap(mx.vmap(lambda a: a * 2, in_axes=1, out_axes=1), in_axes=2, out_axes=0)(x)
    np.testing.assert_array_equal(np.array(got2), 2 * np.transpose(np.array(x), (2, 0, 1)))


def test_grad_of_vmap():
    x = A(np.random.default_rng(2).standard_normal((3, 4)))

    def row(a):
        return mx.sum(mx.sin(a) * a) + mx.logsumexp(a)

    g = mx.grad(lambda a: mx.sum(mx.vmap(row)(a) ** 2))(x)
    xn = np.array(x)
    r = np.array([np.sum(np.sin(v) * v) + np.log(np.sum(np.exp(v))) for v in xn])
    sm = np.exp(xn) / np.exp(xn).sum(1, keepdims=True)
    want = 2 * r[:, None] * (np.cos(xn) * xn + np.sin(xn) + sm)
    assert_close(np.array(g), want, rtol=tight(1e-10))


def test_vmap_of_grad():
    x = A(np.random.default_rng(3).standard_normal((3, 4)))
    w = A(np.random.default_rng(4).standard_normal(4))

    def f(a, b):
        return mx.sum(mx.tanh(a * b)) + mx.mean(a ** 3)

    got = mx.vmap(mx.grad(f), in_axes=(0, None))(x, w)
    want = mx.stack([mx.grad(f)(x[i], w) for i in range(3)])
    assert_close(np.array(got), np.array(want), rtol=tight(1e-12))
    got_b = mx.vmap(mx.grad(f, argnums=1), in_axes=(0, None), out_axes=1)(x, w)
    want_b = mx.stack([mx.grad(f, argnums=1)(x[i], w) for i in range(3)], axis=1)
    assert_close(np.array(got_b), np.array(want_b), rtol=tight(1e-12))


def _hvp_fd(f, x, v, h=FD_H):
    xn, vn = np.array(x), np.array(v)
    gp = np.array(mx.grad(f)(A(xn + h * vn)))
    gm = np.array(mx.grad(f)(A(xn - h * vn)))
    return (gp - gm) / (2 * h)


@pytest.mark.parametrize("fname", ["sin_x", "mlp", "softmax_ce", "norm"])
def test_hessian_vector_product_forward_over_reverse(fname):
    rng = np.random.default_rng(7)
    W = A(rng.standard_normal((3, 4)) * 0.5)
    fs = {
        "sin_x": lambda x: mx.sum(mx.sin(x) * x),
        "mlp": lambda x: mx.sum(mx.tanh(W @ x) ** 2) + mx.sum(x ** 4) / 4,
        "softmax_ce": lambda x: -mx.log(mx.softmax(W @ x)[1]),
        "norm": lambda x: mx.sqrt(mx.sum(x * x) + 1.0) * mx.max(x),
    }
    mlx_gap("hvp", fname)
    f = fs[fname]
    x = A(rng.standard_normal(4))
    v = A(rng.standard_normal(4))
    _, hv = mx.jvp(mx.grad(f), [x], [v])
    assert_close(np.array(hv[0]), _hvp_fd(f, x, v), rtol=FD_RTOL, atol=1e-8)
    # reverse over reverse gives the same product
    hv2 = mx.grad(lambda a: mx.sum(mx.grad(f)(a) * v))(x)
    assert_close(np.array(hv2), np.array(hv[0]), rtol=tight(1e-10), atol=1e-12)


def test_vmap_of_jvp_and_jvp_of_vmap():
    x = A(np.random.default_rng(8).standard_normal((3, 4)))
    t = A(np.random.default_rng(9).standard_normal((3, 4)))

    def f(a):
        return mx.exp(a) * mx.sum(a)

    got = mx.vmap(lambda a, b: mx.jvp(f, [a], [b])[1][0])(x, t)
    want = mx.stack([mx.jvp(f, [x[i]], [t[i]])[1][0] for i in range(3)])
    assert_close(np.array(got), np.array(want), rtol=tight(1e-12))
    _, tv = mx.jvp(mx.vmap(f), [x], [t])
    assert_close(np.array(tv[0]), np.array(want), rtol=tight(1e-12))
