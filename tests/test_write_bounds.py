"""Bounds on the write side: every update that indexes with values raises
IndexError for an out-of-range index, with a message naming the op, the index
and the axis size -- for eager index arrays, for lazy ones (computed in the
same graph, only known when it runs), inside transforms, and for negative
indices (in range: counted from the end; out of range: an error)."""
import re

import numpy as np
import pytest

import mlxc.core as mx

pytestmark = pytest.mark.mlxc_only     # MLX 0.32.4 leaves these unchecked


def lazy(v):
    """An index array whose values exist only once the graph runs."""
    return mx.array(v) * 1


def eager(v):
    a = mx.array(v)
    mx.eval(a)
    return a


def setitem(x, idx, v):
    y = x * 1
    y[idx] = v
    return y


X = mx.zeros((4, 3))

# (name, op name in the message, update with index i, axis size)
WRITES = [
    ("setitem", "scatter", lambda mk, i: setitem(X, mk([i]), 1.0), 4),
    ("setitem_axis1", "scatter", lambda mk, i: setitem(X, (0, mk([i])), 1.0), 3),
    ("at_add", "scatter_add", lambda mk, i: X.at[mk([i])].add(1.0), 4),
    ("at_subtract", "scatter_add", lambda mk, i: X.at[mk([i])].subtract(1.0), 4),
    ("at_multiply", "scatter_prod", lambda mk, i: X.at[mk([i])].multiply(2.0), 4),
    ("at_divide", "scatter_prod", lambda mk, i: X.at[mk([i])].divide(2.0), 4),
    ("at_maximum", "scatter_max", lambda mk, i: X.at[mk([i])].maximum(1.0), 4),
    ("at_minimum", "scatter_min", lambda mk, i: X.at[mk([i])].minimum(-1.0), 4),
    ("put_along_axis", "put_along_axis",
     lambda mk, i: mx.put_along_axis(X, mk([[i], [0], [0], [0]]), mx.array(1.0), axis=1), 3),
    ("slice_update", "slice_update",
     lambda mk, i: mx.slice_update(X, mx.ones((1, 3)), mk([i]), [0]), 4),
    ("dynamic_slice", "slice", lambda mk, i: mx.slice(X, mk([i]), [0], [1, 3]), 4),
]
IDS = [w[0] for w in WRITES]


def expect_index_error(f, op, i, size):
    with pytest.raises(IndexError) as e:
        mx.eval(f())
    msg = str(e.value)
    assert msg.startswith(f"[{op}]"), msg
    assert re.search(rf"(Index|index) {i}\b", msg), msg
    assert f"size {size}" in msg, msg


@pytest.mark.parametrize("mk", [eager, lazy], ids=["eager", "lazy"])
@pytest.mark.parametrize("name,op,f,size", WRITES, ids=IDS)
def test_out_of_range_raises(name, op, f, size, mk):
    for i in (size, size + 7, -size - 1, 2**31 + 5):
        expect_index_error(lambda: f(mk, i), op, i, size)


@pytest.mark.parametrize("name,op,f,size", WRITES, ids=IDS)
def test_in_range_negative_counts_from_the_end(name, op, f, size):
    got = np.array(f(eager, -1))
    want = np.array(f(eager, size - 1))
    np.testing.assert_array_equal(got, want)


def test_scalar_int_indices():
    """A Python int index out of range is an error too (MLX ignores the write)."""
    y = X * 1
    with pytest.raises(IndexError, match=r"\[scatter\] Index 4 is out of bounds for axis 0 with size 4"):
        y[4] = 1.0
    with pytest.raises(IndexError, match=r"Index -5 is out of bounds for axis 0 with size 4"):
        X.at[-5].add(1.0)
    with pytest.raises(IndexError, match=r"Index 3 is out of bounds for axis 1 with size 3"):
        y[..., 3] = 1.0
    np.testing.assert_array_equal(np.array(y), np.zeros((4, 3)))   # untouched


def test_inside_transforms():
    idx = mx.array([0, 5])
    with pytest.raises(IndexError, match=r"\[scatter_add\] Index 5 .* size 4"):
        mx.eval(mx.vmap(lambda x: x.at[idx].add(1.0))(mx.zeros((2, 4))))
    with pytest.raises(IndexError, match=r"\[scatter\] Index 5 .* size 4"):
        mx.eval(mx.grad(lambda x: mx.sum(setitem(x, idx, 2.0)))(mx.zeros((4,))))
    with pytest.raises(IndexError, match=r"\[put_along_axis\] Index -4 .* size 3"):
        mx.eval(mx.vmap(lambda x, i: mx.put_along_axis(x, i, mx.array(1.0), axis=0))(
            mx.zeros((2, 3)), mx.array([[1], [-4]])))
