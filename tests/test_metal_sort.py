"""metal/sort.metal (Sort, ArgSort) against the CPU kernels on the same inputs, at every
lane order of the emulated device: bit-for-bit values (NaN payloads, -0/+0 in their
stable order) and identical argsort indices (the stable order: ties by index, NaN last).

The block size is lowered to 64 for most tests (gpu_scan._SORT_BLOCK), so that short
rows reach the merge passes: rows of 300 sort as 5 blocks merged in 3 passes with a
partial last run; one test keeps the default block (2048) with a 3000-element row.
"""
import numpy as np
import pytest

import mlxc.core as mx
from test_metal_kernels import FLOATS, GPU_DTYPES, INTS, as_np, dt, lanes  # noqa: F401
from test_metal_scan import shuffled  # noqa: F401



@pytest.fixture
def small_blocks():
    from mlxc._core.metal import gpu_scan
    before = gpu_scan._SORT_BLOCK
    gpu_scan._SORT_BLOCK = 64
    yield
    gpu_scan._SORT_BLOCK = before


def sort_input(name, shape, seed):
    """Many ties (stability), and for floats NaNs of both signs, -0 and +0, infinities."""
    rng = np.random.default_rng(seed)
    if name == "bool_":
        return mx.array(rng.integers(0, 2, shape).astype(np.bool_))
    if name in INTS:
        info = np.iinfo(np.dtype(name))
        v = rng.integers(max(info.min, -20), 20, shape).astype(np.dtype(name))
        v.flat[::13] = info.max
        v.flat[5::13] = info.min
        return mx.array(v)
    v = np.round(rng.standard_normal(shape) * 3).astype(np.float32)
    flat = v.reshape(-1)
    flat[::7] = np.nan
    flat[3::11] = -np.nan
    flat[1::5] = -0.0
    flat[2::5] = 0.0
    flat[4::17] = np.inf
    flat[6::17] = -np.inf
    return mx.array(v).astype(dt(name))


def bits(x):
    a = np.array(x.view(mx.uint16)) if x.dtype in (mx.bfloat16, mx.float16) else np.array(x)
    return a.view(np.uint32) if a.dtype == np.float32 else a


def both(f, x, **kw):
    with mx.stream(mx.gpu):
        g = f(x, **kw)
    c = f(x, **kw)
    mx.eval(g, c)
    return g, c


def check_sorts(x, axis):
    g, c = both(mx.argsort, x, axis=axis)
    assert g.dtype == c.dtype == mx.uint32
    np.testing.assert_array_equal(np.array(g), np.array(c))
    g, c = both(mx.sort, x, axis=axis)
    assert g.dtype == c.dtype
    np.testing.assert_array_equal(bits(g), bits(c))
    np.testing.assert_array_equal(bits(g + 0) if g.dtype != mx.bool_ else np.array(g),
                                  bits(c + 0) if c.dtype != mx.bool_ else np.array(c))


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_sort_every_dtype_with_merges(shuffled, small_blocks, name):
    for shape, axis in [((3, 300), 1), ((70, 2), 0), ((5,), 0), ((1,), 0)]:
        check_sorts(sort_input(name, shape, seed=len(shape) + shape[0]), axis)


def test_sort_lane_orders(lanes, small_blocks):
    for name in ("float32", "int64", "bfloat16"):
        check_sorts(sort_input(name, (3, 300), seed=2), 1)


def test_sort_default_block_long_row(lanes):
    check_sorts(sort_input("float32", (2, 3000), seed=1), 1)   # two 2048 blocks, one merge


def test_sort_strided_inputs(lanes, small_blocks):
    base = sort_input("float32", (8, 130, 3), seed=5)
    for x, axis in [(base, 1), (base, 0), (base, 2),
                    (mx.transpose(base, (1, 2, 0)), 0),
                    (base[1::3, ::-2, 1:], 1),
                    (mx.broadcast_to(base[:1, :, :1], (4, 130, 2)), 1),
                    (mx.array(np.zeros((0, 4), np.float32)), 1),
                    (mx.array(np.zeros((4, 0), np.float32)), 1)]:
        check_sorts(x, axis)


def test_sort_matches_numpy_stable(gpu, small_blocks):
    """An oracle besides the CPU kernel: numpy's stable argsort (NaN last)."""
    v = np.random.default_rng(9).integers(0, 6, (4, 200)).astype(np.float32)
    v[:, ::9] = np.nan
    with mx.stream(mx.gpu):
        g = mx.argsort(mx.array(v), axis=1)
    np.testing.assert_array_equal(np.array(g), np.argsort(v, axis=1, kind="stable"))


def test_sort_bad_input_same_error(gpu):
    x = mx.array(np.arange(4, dtype=np.float32))
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises(IndexError, match=r"Axis 3 is out of bounds"):
            mx.eval(mx.sort(x, axis=3, stream=stream))
    d = mx.array(np.arange(3), dtype=mx.float64)
    with pytest.raises(TypeError, match=r"\[ArgSort\] float64 is not supported on the GPU"):
        mx.eval(mx.argsort(d, stream=mx.gpu))
