"""searchsorted and unique against numpy (numpy.searchsorted / numpy.unique) and MLX's rules.

MLX 0.32.4's behaviour these follow (checked against the reference build):
searchsorted(sorted_sequence, values, /, side) -> uint32, compares in the promoted dtype,
NaN sorts last; only the values may be vmapped.  unique(a, /, size, ...) has a fixed output
size: values padded with fill_value (default: the smallest element), index padded with
index[0], counts padded with 0, inverse of truncated elements clamped to size - 1; every
NaN is its own element.
"""
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx

REAL = [mx.bool_, mx.uint8, mx.uint16, mx.uint32, mx.uint64, mx.int8, mx.int16, mx.int32,
        mx.int64, mx.float16, mx.bfloat16, mx.float32, mx.float64]


def _np(a):
    if a.dtype == mx.bfloat16:
        return np.array(a.astype(mx.float32))
    return np.array(a)


def _sample(dt, n, rng):
    if dt == mx.bool_:
        return mx.array(rng.integers(0, 2, n).astype(bool))
    if dt in (mx.float16, mx.bfloat16, mx.float32, mx.float64):
        return mx.array(np.round(rng.standard_normal(n) * 4) / 2).astype(dt)
    lo = 0 if dt in (mx.uint8, mx.uint16, mx.uint32, mx.uint64) else -50
    return mx.array(rng.integers(lo, 50, n)).astype(dt)


# ------------------------------------------------------------------ searchsorted

@pytest.mark.parametrize("dt", REAL, ids=str)
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_matches_numpy_every_dtype(dt, side):
    rng = np.random.default_rng(3)
    seq = mx.sort(_sample(dt, 40, rng))
    vals = _sample(dt, (3, 7), rng)
    r = mx.searchsorted(seq, vals, side=side)
    assert r.dtype == mx.uint32 and r.shape == (3, 7)
    want = np.searchsorted(_np(seq), _np(vals), side=side)
    np.testing.assert_array_equal(np.array(r), want)


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_nan_inf_and_signed_zero(side):
    nan, inf = float("nan"), float("inf")
    seq = np.array([-inf, -1.0, -0.0, 0.0, 2.0, 2.0, inf, nan, nan], np.float32)
    vals = np.array([nan, inf, -inf, 0.0, -0.0, 2.0, 5.0, -7.0], np.float32)
    r = mx.searchsorted(mx.array(seq), mx.array(vals), side)
    np.testing.assert_array_equal(np.array(r), np.searchsorted(seq, vals, side=side))


def test_searchsorted_compares_in_the_promoted_dtype():
    # int32 sequence, float32 value: compared in float32, where 16777217 rounds to 2**24
    r = mx.searchsorted(mx.array([16777216, 16777217]), mx.array([16777217.0]))
    assert r.tolist() == [0]
    # uint32 vs int32 promote to int64: -1 is below every element
    r = mx.searchsorted(mx.array([0, 2**31 + 5], dtype=mx.uint32), mx.array([-1, 3]))
    assert r.tolist() == [0, 1]
    r = mx.searchsorted(mx.array([1, 2, 3]), mx.array([1.5, 2.0, -0.5]), side="right")
    assert r.tolist() == [1, 2, 0]


def test_searchsorted_complex_orders_by_real_then_imag():
    seq = mx.array([0j, 1 + 0j, 1 + 1j, 2 + 0j])
    vals = mx.array([1 + 0.5j, 1 + 1j, -1 + 5j, 3j])
    assert mx.searchsorted(seq, vals).tolist() == [2, 2, 0, 1]
    assert mx.searchsorted(seq, vals, side="right").tolist() == [2, 3, 0, 1]


def test_searchsorted_empty_and_scalar_shapes():
    assert mx.searchsorted(mx.array([], mx.float32), mx.array([2.0, 3.0])).tolist() == [0, 0]
    r = mx.searchsorted(mx.array([1.0, 2.0]), mx.zeros((0, 3)))
    assert r.shape == (0, 3) and r.dtype == mx.uint32
    assert mx.searchsorted(mx.array([1, 2, 3]), mx.array(2)).item() == 1


def test_searchsorted_bad_inputs():
    a = mx.array([1, 2, 3])
    with pytest.raises(ValueError, match=r"\[searchsorted\] The sorted sequence must be 1-D"):
        mx.searchsorted(mx.array([[1, 2], [3, 4]]), a)
    with pytest.raises(ValueError, match="0 dimensions"):
        mx.searchsorted(mx.array(1), a)
    with pytest.raises(ValueError, match="Invalid side 'middle'"):
        mx.searchsorted(a, a, side="middle")
    with pytest.raises(TypeError):
        mx.searchsorted(a, a, side=1)
    with pytest.raises(TypeError):
        mx.searchsorted(a, 2)            # MLX takes arrays only
    with pytest.raises(TypeError):
        mx.searchsorted([1, 2, 3], a)


def test_searchsorted_transforms():
    seq = mx.array([1.0, 2.0, 3.0])
    v = mx.array([[1.5, 2.5], [0.0, 3.0]])
    r = mx.vmap(lambda x: mx.searchsorted(seq, x))(v)
    np.testing.assert_array_equal(np.array(r), np.searchsorted(np.array(seq), np.array(v)))
    r = mx.vmap(lambda x: mx.searchsorted(seq, x), in_axes=1, out_axes=1)(v)
    np.testing.assert_array_equal(np.array(r), np.searchsorted(np.array(seq), np.array(v)))
    with pytest.raises(ValueError, match="Cannot vmap over the sorted sequence"):
        mx.vmap(lambda s: mx.searchsorted(s, mx.array([2.5])))(mx.array([[1.0, 2], [0, 5]]))
    g = mx.grad(lambda x: mx.searchsorted(seq, x).astype(mx.float32).sum())(mx.array([1.5, 2.5]))
    assert g.tolist() == [0.0, 0.0]
    g = mx.grad(lambda s: mx.searchsorted(s, mx.array([2.5])).astype(mx.float32).sum())(seq)
    assert g.tolist() == [0.0, 0.0, 0.0]
    _, t = mx.jvp(lambda x: mx.searchsorted(seq, x), [mx.array([1.5])], [mx.array([1.0])])
    assert t[0].dtype == mx.uint32 and t[0].tolist() == [0]


_CHILD = r"""
import hashlib, numpy as np, mlxc.core as mx
rng = np.random.default_rng(5)
seq = mx.array(np.sort(rng.standard_normal(5000)).astype(np.float32))
vals = mx.array(rng.standard_normal(200000).astype(np.float32))
r = mx.searchsorted(seq, vals, side="right")
print(hashlib.sha256(np.array(r).tobytes()).hexdigest())
"""


@pytest.mark.mlxc_only
def test_searchsorted_thread_count_does_not_change_results():
    from helpers import CHILD_CWD, child_env
    out = []
    for threads in ("1", "3"):
        r = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(MLXC_NUM_THREADS=threads),
                           capture_output=True, text=True, timeout=300, cwd=CHILD_CWD)
        assert r.returncode == 0, r.stderr[-3000:]
        out.append(r.stdout.strip())
    assert out[0] == out[1]


# ------------------------------------------------------------------ unique

def _np_unique_padded(x, size, fill=None):
    """numpy.unique of the flattened x in MLX's fixed-size layout (NaNs kept apart)."""
    flat = x.reshape(-1)
    u, idx, inv, cnt = np.unique(flat, return_index=True, return_inverse=True,
                                 return_counts=True, equal_nan=False)
    k = len(u)
    vals = np.empty(size, flat.dtype)
    index = np.empty(size, np.uint32)
    counts = np.zeros(size, np.int32)
    m = min(k, size)
    vals[:m], index[:m], counts[:m] = u[:m], idx[:m], cnt[:m]
    if size > m:
        vals[m:] = u[0] if fill is None else fill
        index[m:] = idx[0]
    inverse = np.minimum(inv.reshape(-1), max(size - 1, 0)).astype(np.uint32).reshape(x.shape)
    return vals, index, inverse, counts


@pytest.mark.parametrize("dt", REAL, ids=str)
@pytest.mark.parametrize("size", [0, 3, 40])
def test_unique_matches_numpy_every_dtype(dt, size):
    rng = np.random.default_rng(7)
    a = _sample(dt, (4, 6), rng)
    vals, index, inverse, counts = mx.unique(a, size, True, True, True)
    assert vals.dtype == dt and index.dtype == mx.uint32 and inverse.dtype == mx.uint32
    assert counts.dtype == mx.int32
    assert vals.shape == (size,) and inverse.shape == a.shape
    wv, wi, winv, wc = _np_unique_padded(_np(a), size)
    np.testing.assert_array_equal(_np(vals), wv)
    np.testing.assert_array_equal(np.array(index), wi)
    np.testing.assert_array_equal(np.array(counts), wc)
    if size > 0:
        np.testing.assert_array_equal(np.array(inverse), winv)
    else:
        assert np.array(inverse).tolist() == [[0] * 6] * 4


def test_unique_nan_each_distinct_and_signed_zero_equal():
    nan = float("nan")
    x = np.array([nan, 1.0, nan, 0.0, -0.0], np.float32)
    vals, index, inverse, counts = mx.unique(mx.array(x), 5, True, True, True)
    v = np.array(vals)
    assert v[0] == 0 and v[1] == 1 and np.isnan(v[2]) and np.isnan(v[3]) and v[4] == 0
    assert index.tolist() == [3, 1, 0, 2, 3]
    assert inverse.tolist() == [2, 1, 3, 0, 0]
    assert counts.tolist() == [2, 1, 1, 1, 0]


def test_unique_fill_value_and_return_selection():
    a = mx.array([2, 1, 2, 3, 1])
    assert mx.unique(a, 5, fill_value=-7).tolist() == [1, 2, 3, -7, -7]
    assert mx.unique(a, 5, fill_value=2.7).tolist() == [1, 2, 3, 2, 2]   # cast to int32
    assert mx.unique(a, 4, fill_value=mx.array([9])).tolist() == [1, 2, 3, 9]
    assert mx.unique(a, 4).tolist() == [1, 2, 3, 1]
    v, c = mx.unique(a, 3, return_counts=True)
    assert v.tolist() == [1, 2, 3] and c.tolist() == [2, 2, 1]
    v, inv = mx.unique(a, 3, return_inverse=True)
    assert inv.tolist() == [1, 0, 1, 2, 0]
    v, i = mx.unique(mx.array([[3, 1], [1, 2]]), 3, return_index=True)
    assert v.tolist() == [1, 2, 3] and i.tolist() == [1, 3, 0]
    # truncation keeps the smallest; dropped elements' inverse clamps to the last slot
    v, i, inv, c = mx.unique(a, 2, True, True, True)
    assert v.tolist() == [1, 2] and c.tolist() == [2, 2] and inv.tolist() == [1, 0, 1, 1, 0]


def test_unique_scalar_empty_complex():
    v, i, inv, c = mx.unique(mx.array(5), 2, True, True, True)
    assert v.tolist() == [5, 5] and inv.shape == () and c.tolist() == [1, 0]
    v, i, inv, c = mx.unique(mx.array([], mx.float32), 2, True, True, True, fill_value=3)
    assert v.tolist() == [3.0, 3.0] and i.tolist() == [0, 0] and inv.shape == (0,)
    assert c.tolist() == [0, 0]
    assert mx.unique(mx.array([], mx.float32), 0).shape == (0,)
    v, c = mx.unique(mx.array([1 + 1j, 1 + 0j, 1 + 1j, 0j]), 3, return_counts=True)
    assert v.tolist() == [0j, 1 + 0j, 1 + 1j] and c.tolist() == [1, 1, 2]


def test_unique_bad_inputs():
    a = mx.array([2, 1, 2])
    with pytest.raises(ValueError, match=r"\[unique\] Received negative size -1"):
        mx.unique(a, -1)
    with pytest.raises(TypeError):
        mx.unique(a)                       # MLX 0.32: size is required
    with pytest.raises(TypeError):
        mx.unique(a, 2.0)
    with pytest.raises(TypeError):
        mx.unique([1, 2, 2], 2)
    with pytest.raises(ValueError, match="Fill value must have one element"):
        mx.unique(a, 4, fill_value=mx.array([9, 8]))
    with pytest.raises(ValueError, match="A fill value is required for an empty input"):
        mx.unique(mx.array([], mx.int32), 2)
    with pytest.raises(ValueError):
        mx.unique(a, 4, fill_value="x")


def test_unique_under_transforms():
    x = mx.array([[1, 1, 2], [3, 2, 3]])
    outs = mx.vmap(lambda r: mx.unique(r, 3, True, True, True))(x)
    for row in range(2):
        want = _np_unique_padded(np.array(x[row]), 3)
        for got, w in zip(outs, want):
            np.testing.assert_array_equal(np.array(got[row]), w)
    # values are a gather of the input: the gradient lands on each shown element's first
    # occurrence (padding shows the first unique element), as in MLX
    g = mx.grad(lambda v: (mx.unique(v, 3) * mx.array([1.0, 10, 100])).sum())(
        mx.array([2.0, 1.0, 2.0]))
    assert g.tolist() == [10.0, 101.0, 0.0]


@pytest.mark.mlxc_only
def test_unique_jvp():
    # MLX 0.32.4 raises "[scatter] JVP not yet implemented" here
    _, t = mx.jvp(lambda v: mx.unique(v, 3), [mx.array([2.0, 1.0, 2.0])],
                  [mx.array([1.0, 10.0, 100.0])])
    assert t[0].tolist() == [10.0, 1.0, 10.0]
