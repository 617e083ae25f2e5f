"""The GPU GEMM (metal/gemm.metal) against the CPU's: Matmul, AddMM, GatherMM, SegmentedMM.

Oracle: the CPU primitives on the same inputs (themselves tested against numpy/float64).
Both accumulate in float32 but in different orders (the CPU's blocked micro-kernels, the
GPU's one fma per k in k order), so results are compared within a stated bound:
    |gpu - cpu| <= 2 (K + 2) eps32 (|alpha| |A| @ |B| + |beta| |C|) + ulp_out |cpu|
(each side's float32 sum is within (K + 2) eps32 of the exact one, relative to the sum
of magnitudes; float16/bfloat16 outputs are rounded once from float32 on each side, so
they may differ by one ulp of the output dtype).  The GPU result itself does not depend
on the order lanes or groups run in: every test runs at every lane order of the emulated
device, and test_lane_order_invariance checks bit-identical results across them.
"""
import itertools
import os

import numpy as np
import pytest

import mlxc.core as mx
from conftest import METAL_REAL
from test_metal_kernels import as_np, lanes  # noqa: F401  (lanes: a fixture)

FLOATS = ["float32", "float16", "bfloat16"]
EPS = {"float32": 2.0 ** -23, "float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


def rand(shape, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    x = mx.array(rng.standard_normal(shape).astype(np.float32))
    x = x.astype(getattr(mx, dtype))
    mx.eval(x)
    return x


def f64(x):
    return as_np(x).astype(np.float64)


def assert_gemm_close(g, c, absprod, K, dtype):
    """g (GPU) against c (CPU) within the bound of the module's docstring; absprod is
    |alpha| |A| @ |B| + |beta| |C| in float64."""
    assert g.dtype == c.dtype and g.shape == c.shape
    a, b = f64(g), f64(c)
    tol = 2 * (K + 2) * 2.0 ** -23 * absprod + EPS[dtype] * np.abs(b)
    bad = ~(np.abs(a - b) <= tol)
    assert not np.any(bad), (a[bad][:5], b[bad][:5], tol[bad][:5])


def on_both(f, *args):
    with mx.stream(mx.gpu):
        g = f(*args)
    c = f(*args)
    mx.eval(g, c)
    return g, c


def absmm(a, b):
    return np.abs(f64(a)) @ np.abs(f64(b))


# (A, B) pairs: multiple 32x32 tiles and partial ones, K over several 16-deep slabs and a
# partial one, batches (broadcast, strided), transposed and sliced operands, vectors.
def _cases(dt):
    a = rand((37, 45), dt, 1)
    b = rand((45, 70), dt, 2)
    yield "plain", a, b
    yield "a_T", rand((45, 37), dt, 3).T, b
    yield "b_T", a, rand((70, 45), dt, 4).T
    yield "both_T", rand((45, 37), dt, 3).T, rand((70, 45), dt, 4).T
    yield "batch_bcast", rand((2, 3, 9, 20), dt, 5), rand((3, 20, 33), dt, 6)
    yield ("batch_strided", rand((4, 9, 40), dt, 7)[::2, :, ::2],
           rand((20, 2, 11), dt, 8).transpose(1, 0, 2))
    yield "vec_mat", rand((45,), dt, 9), b
    yield "mat_vec", a, rand((45,), dt, 10)
    yield "k1", rand((33, 1), dt, 11), rand((1, 5), dt, 12)


@pytest.mark.parametrize("dt", FLOATS)
def test_matmul(lanes, dt):
    for name, a, b in _cases(dt):
        g, c = on_both(mx.matmul, a, b)
        K = a.shape[-1]
        assert_gemm_close(g, c, absmm(a, b), K, dt)


@pytest.mark.parametrize("dt", FLOATS)
def test_addmm(lanes, dt):
    a, b = rand((2, 37, 21), dt, 1), rand((21, 40), dt, 2)
    for c_shape, alpha, beta in [((40,), 0.5, 2.0), ((2, 37, 40), -1.5, 1.0),
                                 ((37, 1), 1.0, 0.0), ((), 2.0, -0.25)]:
        cc = rand(c_shape, dt, 3)
        g, c = on_both(lambda: mx.addmm(cc, a, b, alpha, beta))
        absprod = abs(alpha) * absmm(a, b) + abs(beta) * np.abs(f64(cc))
        assert_gemm_close(g, c, absprod, 21, dt)
    # beta 0: C is never read, so its NaN cannot leak (as the CPU)
    nan_c = mx.full((37, 40), float("nan"), getattr(mx, dt))
    g, c = on_both(lambda: mx.addmm(nan_c, a, b, 3.0, 0.0))
    assert not np.any(np.isnan(f64(g)))
    assert_gemm_close(g, c, 3 * absmm(a, b), 21, dt)


def test_empty_and_k0(gpu):
    a, b = rand((0, 5)), rand((5, 7))
    g, c = on_both(mx.matmul, a, b)
    assert g.shape == (0, 7)
    a, b = rand((4, 0)), rand((0, 7))
    g, c = on_both(mx.matmul, a, b)
    np.testing.assert_array_equal(as_np(g), np.zeros((4, 7), np.float32))
    cc = rand((4, 7), seed=5)
    g, c = on_both(lambda: mx.addmm(cc, a, b, 2.0, 0.5))     # K 0: beta * C
    np.testing.assert_array_equal(as_np(g), as_np(c))


def test_lane_order_invariance(gpu):
    """The GPU result is bit-identical at every lane order (one fixed sum order)."""
    if METAL_REAL:
        pytest.skip("lane orders are the emulator's")
    from mlxc._core.metal import executor_emu
    a, b = rand((2, 40, 50), seed=1), rand((50, 36), seed=2)
    cc = rand((36,), seed=3)
    outs = []
    try:
        for order, seed in [("forward", 0), ("reverse", 0), ("shuffle", 1), ("shuffle", 9)]:
            executor_emu.set_lane_order(order, seed)
            with mx.stream(mx.gpu):
                r = mx.addmm(cc, a, b, 0.75, 1.5)
            mx.eval(r)
            outs.append(as_np(r).view(np.uint32))
    finally:
        executor_emu.set_lane_order("forward", 0)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_against_float64(gpu):
    """An independent check of the GPU product: float64 numpy within the same bound."""
    a, b = rand((3, 35, 50), seed=4), rand((50, 33), seed=5)
    with mx.stream(mx.gpu):
        g = a @ b
    ref = f64(a) @ f64(b)
    tol = (50 + 2) * 2.0 ** -23 * absmm(a, b)
    assert np.all(np.abs(f64(g) - ref) <= tol)


def test_bad_input(gpu):
    a64 = mx.ones((3, 4), mx.float64)
    with pytest.raises(TypeError, match="float64"):
        with mx.stream(mx.gpu):
            r = a64 @ a64.T
        mx.eval(r)
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises(ValueError):
            mx.matmul(mx.ones((3, 4)), mx.ones((5, 6)), stream=stream)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MLXC_SLOW_TESTS") != "1",
                    reason="opt-in sweep: MLXC_SLOW_TESTS=1")
@pytest.mark.parametrize("dt", FLOATS)
def test_matmul_shape_sweep(gpu, dt):
    """Every M, N, K around the tile sizes (1, 15..17, 31..33, 63..65) x transposes."""
    sizes = [1, 15, 16, 17, 31, 32, 33, 63, 64, 65]
    for M, N, K in itertools.product(sizes, sizes, sizes):
        for ta, tb in itertools.product((False, True), repeat=2):
            a = rand((K, M), dt, M).T if ta else rand((M, K), dt, M)
            b = rand((N, K), dt, N).T if tb else rand((K, N), dt, N)
            g, c = on_both(mx.matmul, a, b)
            assert_gemm_close(g, c, absmm(a, b), K, dt)


# ---------------------------------------------------------------- GatherMM, SegmentedMM

@pytest.mark.parametrize("dt", FLOATS)
def test_gather_mm(lanes, dt):
    a = rand((4, 33, 20), dt, 1)
    b = rand((3, 20, 35), dt, 2)
    lhs = mx.array(np.array([0, 3, -1, 1, 1, 2], np.int64))
    rhs = mx.array(np.array([2, 0, 1, 1, -3, 0], np.int64))
    g, c = on_both(lambda: mx.gather_mm(a, b, lhs, rhs))
    ab = np.abs(f64(a))[np.array(lhs)] @ np.abs(f64(b))[np.array(rhs)]
    assert_gemm_close(g, c, ab, 20, dt)
    # sorted indices with the batch broadcast against a (P, 1, 1) layout, b transposed
    bt = rand((3, 35, 20), dt, 4).transpose(0, 2, 1)
    lhs2 = mx.array(np.array([[0], [1], [1], [3]], np.int64))
    rhs2 = mx.array(np.array([[0], [0], [2], [2]], np.int64))
    g, c = on_both(lambda: mx.gather_mm(a, bt, lhs2, rhs2, sorted_indices=True))
    assert_gemm_close(g, c, np.abs(f64(a))[np.array(lhs2)] @ np.abs(f64(bt))[np.array(rhs2)],
                      20, dt)


def test_gather_mm_bad_index(gpu):
    a, b = rand((2, 3, 4)), rand((2, 4, 5))
    bad = mx.array(np.array([0, 2], np.int64))
    ok = mx.array(np.array([0, 1], np.int64))
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises(IndexError, match="lhs_indices"):
            mx.eval(mx.gather_mm(a, b, bad, ok, stream=stream))


@pytest.mark.parametrize("dt", FLOATS)
def test_segmented_mm(lanes, dt):
    a = rand((35, 50), dt, 1)
    b = rand((50, 40), dt, 2)
    seg = mx.array(np.array([[0, 17], [17, 50], [5, 5], [40, 3], [0, 50]], np.int64))
    g, c = on_both(lambda: mx.segmented_mm(a, b, seg))
    A, B = np.abs(f64(a)), np.abs(f64(b))
    ab = np.stack([A[:, s:e] @ B[s:e] if e > s else np.zeros((35, 40))
                   for s, e in np.array(seg)])
    assert_gemm_close(g, c, ab, 50, dt)
    assert not np.any(f64(g)[2:4])            # empty segments are zeros
    # a transposed b and a column-sliced a
    a2 = rand((35, 100), dt, 5)[:, ::2]
    b2 = rand((40, 50), dt, 6).T
    g, c = on_both(lambda: mx.segmented_mm(a2, b2, seg))
    A, B = np.abs(f64(a2)), np.abs(f64(b2))
    ab = np.stack([A[:, s:e] @ B[s:e] if e > s else np.zeros((35, 40))
                   for s, e in np.array(seg)])
    assert_gemm_close(g, c, ab, 50, dt)


def test_segmented_mm_bad_segment(gpu):
    a, b = rand((3, 4)), rand((4, 5))
    seg = mx.array(np.array([[0, 5]], np.int64))
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises(IndexError, match="Segment bound 5"):
            mx.eval(mx.segmented_mm(a, b, seg, stream=stream))
