"""x[mask] = v (MaskedScatter): values against numpy's boolean assignment, transforms
against a Python loop / analytic derivatives, and bad input.

MLX 0.32.4's rules: the mask matches the leading dims of x; a value with one more dim
than the unmasked trailing dims is a run of rows taken in order by the masked positions
(it may hold more rows than needed; too few is a RuntimeError at evaluation); a smaller
value is broadcast to every masked position.  Reading x[mask] is not supported (ValueError).
"""
import numpy as np
import pytest

import mlxc.core as mx

DTYPES = [mx.bool_, mx.uint8, mx.int16, mx.int32, mx.int64, mx.float16, mx.bfloat16,
          mx.float32, mx.float64, mx.complex64]


def _np(a):
    return np.array(a.astype(mx.float32)) if a.dtype == mx.bfloat16 else np.array(a)


def setm(a, idx, v):
    a[idx] = v
    return a


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_full_mask_source_run_matches_numpy(dt):
    rng = np.random.default_rng(1)
    x = mx.array(rng.integers(0, 5, (4, 5, 3))).astype(dt)
    m = rng.integers(0, 2, (4, 5, 3)).astype(bool)
    src = mx.array(rng.integers(5, 9, 70)).astype(dt)     # more elements than needed
    got = setm(mx.array(x), mx.array(m), src)
    want = _np(x).copy()
    want[m] = _np(src)[:m.sum()]
    np.testing.assert_array_equal(_np(got), want)
    # a scalar goes to every masked position
    got = setm(mx.array(x), mx.array(m), 1)
    want = _np(x).copy()
    want[m] = 1
    np.testing.assert_array_equal(_np(got), want)


def test_leading_mask_rows_and_broadcast_values():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    m = np.array([True, False, True, True, False])
    rows = rng.standard_normal((6, 3, 4)).astype(np.float32)
    want = x.copy()
    want[m] = rows[:3]
    np.testing.assert_array_equal(np.array(setm(mx.array(x), mx.array(m), mx.array(rows))), want)
    # trailing-shaped value: every masked row gets it
    v = rng.standard_normal((3, 4)).astype(np.float32)
    want = x.copy()
    want[m] = v
    np.testing.assert_array_equal(np.array(setm(mx.array(x), mx.array(m), mx.array(v))), want)
    # (rows, 1, 4): each row's value broadcast over the middle axis
    v = rng.standard_normal((3, 1, 4)).astype(np.float32)
    want = x.copy()
    want[m] = v
    np.testing.assert_array_equal(np.array(setm(mx.array(x), mx.array(m), mx.array(v))), want)


def test_mask_value_errors():
    x = mx.arange(12).reshape(3, 4)
    with pytest.raises(ValueError, match="same shape as the beginning"):
        setm(mx.array(x), mx.array([True, False]), 0)
    with pytest.raises(ValueError, match="same shape as the beginning"):
        setm(mx.array(x), mx.array([[True], [False], [True]]), 0)
    with pytest.raises(ValueError, match="cannot have more dimensions"):
        setm(mx.array(x), mx.zeros((1, 3, 4), mx.bool_), 0)
    with pytest.raises(ValueError, match="broadcastable with the last 1 dimensions"):
        setm(mx.array(x), mx.array([True, False, True]), mx.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        setm(mx.array(x), mx.array([True, False, True]), mx.arange(8))
    y = setm(mx.array(x), x > 5, mx.array([1, 2, 3]))   # 6 masked entries, 3 values
    with pytest.raises(RuntimeError, match="Source does not have enough elements"):
        mx.eval(y)



@pytest.mark.mlxc_only   # MLX 0.32 refuses boolean reads ("not yet supported")
@pytest.mark.parametrize("shape, mshape", [((3, 4), (3, 4)), ((3, 4), (3,)), ((2, 3, 4), (2, 3)),
                                           ((5,), (5,)), ((0, 2), (0,))])
def test_mask_read_matches_numpy(shape, mshape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    m = rng.random(mshape) > 0.5
    for mask in (mx.array(m), m, m.tolist() if m.size else None):
        if mask is None:
            continue
        np.testing.assert_array_equal(np.array(mx.array(x)[mask]), x[m])


@pytest.mark.mlxc_only
def test_mask_read_transforms_and_errors():
    x = mx.array([1.0, 3.0, 4.0])
    # grad: the selected rows are a gather of x (mask evaluated eagerly, a constant)
    g = mx.grad(lambda v: (v[v > 2] ** 2).sum())(x)
    np.testing.assert_array_equal(np.array(g), [0.0, 6.0, 8.0])
    # vmap: the length would depend on each row's values -- evaluating is refused
    with pytest.raises(ValueError, match="during function transformations"):
        mx.vmap(lambda v: v[v > 0])(mx.ones((2, 3)))
    with pytest.raises(IndexError, match="boolean mask should have the same shape"):
        mx.ones((3, 4))[mx.array([True, False])]


@pytest.mark.mlxc_only
def test_mask_mixed_with_other_indices_is_a_clear_error():
    # MLX raises an untranslated SystemError here
    x = mx.arange(12).reshape(3, 4)
    with pytest.raises(ValueError, match="cannot be combined with other indices"):
        setm(mx.array(x), (mx.array([True, False, True]), 0), 9)
    with pytest.raises(ValueError, match="cannot be combined with other indices"):
        setm(mx.array(x), (slice(None), mx.array([True, False, True, False])), 9)


@pytest.mark.mlxc_only
def test_empty_mask_with_empty_source():
    # MLX dies with SIGFPE here; nothing is masked, so nothing changes
    x = mx.arange(6)
    y = setm(mx.array(x), mx.zeros((6,), mx.bool_), mx.array([], mx.int32))
    assert y.tolist() == list(range(6))


def _assign(a, m, v):
    a[m] = v
    return a


def test_vmap_matches_loop():
    rng = np.random.default_rng(4)
    x = mx.array(rng.standard_normal((5, 3, 4)).astype(np.float32))
    m = mx.array(rng.integers(0, 2, (5, 3, 4)).astype(bool))
    src = mx.array(rng.standard_normal((5, 12)).astype(np.float32))
    shared = mx.array(rng.standard_normal(12).astype(np.float32))
    for f, args, axes in (
            (_assign, (x, m, src), (0, 0, 0)),
            (_assign, (x, m, shared), (0, 0, None)),
            (_assign, (x[0], m, src), (None, 0, 0)),
            (_assign, (x, m[0], mx.array(0.5)), (0, None, None)),
            (_assign, (mx.moveaxis(x, 0, 2), m, src), (2, 0, 0))):
        got = mx.vmap(f, in_axes=axes)(*args)
        for b in range(5):
            one = [a if ax is None else mx.take(a, b, axis=ax) for a, ax in zip(args, axes)]
            np.testing.assert_array_equal(np.array(got[b]), np.array(f(mx.array(one[0]), *one[1:])))


def test_grad_and_jvp():
    rng = np.random.default_rng(6)
    x = mx.array(rng.standard_normal((3, 4)).astype(np.float32))
    v = mx.array(rng.standard_normal(10).astype(np.float32))
    w = mx.array(rng.standard_normal((3, 4)).astype(np.float32))
    m = np.array(x) > 0
    k = int(m.sum())

    def f(a, s):
        a[mx.stop_gradient(a > 0)] = s
        return (a * w).sum()

    ga, gv = mx.grad(f, argnums=(0, 1))(x, v)
    np.testing.assert_allclose(np.array(ga), np.where(m, 0, np.array(w)), rtol=1e-6)
    want_v = np.zeros(10, np.float32)
    want_v[:k] = np.array(w)[m]
    np.testing.assert_allclose(np.array(gv), want_v, rtol=1e-6)
    # a scalar value gets the sum over the masked positions
    gs = mx.grad(f, argnums=1)(x, mx.array(2.0))
    np.testing.assert_allclose(gs.item(), np.array(w)[m].sum(), rtol=1e-5)
    tx = mx.array(rng.standard_normal((3, 4)).astype(np.float32))
    tv = mx.array(rng.standard_normal(10).astype(np.float32))
    _, (t,) = mx.jvp(lambda a, s: _assign(a, mx.stop_gradient(a > 0), s), [x, v], [tx, tv])
    want = np.array(tx).copy()
    want[m] = np.array(tv)[:k]
    np.testing.assert_allclose(np.array(t), want, rtol=1e-6)


def test_mask_that_depends_on_the_input_cannot_be_differentiated():
    x = mx.arange(12).reshape(3, 4).astype(mx.float32)
    with pytest.raises(ValueError, match="Cannot calculate VJP with respect to mask"):
        mx.grad(lambda a: _assign(a, a > 5, 0.0).sum())(x)
    with pytest.raises(ValueError):
        mx.jvp(lambda a: _assign(a, a > 5, 0.0), [x], [mx.ones_like(x)])
    # differentiating only the value is fine
    g = mx.grad(lambda s, a: _assign(a, a > 5, s).sum())(mx.arange(10).astype(mx.float32), x)
    assert g.tolist() == [1.0] * 6 + [0.0] * 4


def test_setitem_on_a_transformed_argument():
    # The argument object is rebound by x[...] = v; the transforms still see the input.
    g = mx.grad(lambda a, v: (setm(a, 1, v) * mx.arange(4)).sum(), argnums=(0, 1))(
        mx.arange(4).astype(mx.float32), mx.array(2.0))
    assert g[0].tolist() == [0.0, 0.0, 2.0, 3.0] and g[1].item() == 1.0
    r = mx.vmap(lambda a: setm(a, a > 1, 0.0))(mx.arange(6).reshape(2, 3).astype(mx.float32))
    assert r.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
