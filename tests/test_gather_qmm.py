"""Batched quantized products (quantized_matmul with batched weights, gather_qmm): one
GatherQMM node that runs the quantized kernel per gathered matrix pair, never
dequantizing the weights.  Oracle: float64 numpy products of the dequantized weights
(dequantize is checked bit for bit against MLX in test_quant.py), Python loops over the
gathered pairs, autograd through the dequantize composition, finite differences."""
import numpy as np
import pytest

import mlxc.core as mx

MODES = [("affine", 64, 4), ("affine", 32, 8), ("mxfp4", 32, 4), ("nvfp4", 16, 4)]


def _quant(shape, mode, gs, bits, seed, transpose=True):
    w = mx.random.normal(shape, key=mx.random.key(seed))
    q = mx.quantize(w, gs, bits, mode)
    wq, s = q[0], q[1]
    b = q[2] if mode == "affine" else None
    wd = np.array(mx.dequantize(wq, s, b, gs, bits, mode, dtype=mx.float32), np.float64)
    if transpose:
        wd = np.swapaxes(wd, -1, -2)
    return wq, s, b, wd


def _close(a, ref, k):
    np.testing.assert_allclose(np.array(a, np.float64), ref, rtol=1e-5, atol=1e-5 * np.sqrt(k))


@pytest.mark.parametrize("mode,gs,bits", MODES)
@pytest.mark.parametrize("xshape", [(3, 5, 128), (2, 3, 5, 128), (1, 5, 128), (2, 1, 5, 128),
                                    (5, 128), (128,)])
def test_batched_weights_broadcast_like_matmul(mode, gs, bits, xshape):
    wq, s, b, wd = _quant((3, 24, 128), mode, gs, bits, 1)
    x = np.random.default_rng(0).standard_normal(xshape).astype(np.float32)
    y = mx.quantized_matmul(mx.array(x), wq, s, b, group_size=gs, bits=bits, mode=mode)
    ref = np.matmul(x.astype(np.float64), wd)
    assert y.shape == ref.shape and y.dtype == mx.float32
    _close(y, ref, 128)


@pytest.mark.parametrize("mode,gs,bits", MODES[:2])
def test_batched_weights_untransposed_and_half_inputs(mode, gs, bits):
    wq, s, b, wd = _quant((2, 64, 128), mode, gs, bits, 2, transpose=False)
    x = np.random.default_rng(1).standard_normal((2, 3, 64)).astype(np.float32)
    y = mx.quantized_matmul(mx.array(x), wq, s, b, transpose=False, group_size=gs, bits=bits)
    _close(y, x.astype(np.float64) @ wd, 64)
    yh = mx.quantized_matmul(mx.array(x).astype(mx.float16), wq, s.astype(mx.float16),
                             b.astype(mx.float16), transpose=False, group_size=gs, bits=bits)
    assert yh.dtype == mx.float16


@pytest.mark.parametrize("mode,gs,bits", MODES)
def test_gather_qmm_is_the_loop_over_index_pairs(mode, gs, bits):
    wq, s, b, wd = _quant((4, 16, 64), mode, gs, bits, 3)
    x = np.random.default_rng(2).standard_normal((3, 2, 64)).astype(np.float32)
    lhs = np.array([[0, 2], [1, 1], [2, 0]], np.uint32)
    rhs = np.array([[3, 0], [0, 2], [1, 1]], np.int32)
    y = mx.gather_qmm(mx.array(x), wq, s, b, mx.array(lhs), mx.array(rhs), group_size=gs,
                      bits=bits, mode=mode)
    assert y.shape == (3, 2, 2, 16)
    ref = np.stack([np.stack([x[lhs[i, j]].astype(np.float64) @ wd[rhs[i, j]] for j in range(2)])
                    for i in range(3)])
    _close(y, ref, 64)
    # one index array broadcast against the default (every matrix of x)
    y1 = mx.gather_qmm(mx.array(x), wq, s, b, rhs_indices=mx.array([3, 1, 0]), group_size=gs,
                       bits=bits, mode=mode)
    _close(y1, np.stack([x[i].astype(np.float64) @ wd[r] for i, r in enumerate([3, 1, 0])]), 64)


def test_gather_qmm_bad_indices():
    wq, s, b, _ = _quant((4, 16, 64), "affine", 64, 4, 4)
    x = mx.ones((3, 2, 64))
    with pytest.raises(IndexError, match=r"gather_qmm.*rhs_indices.*7"):
        mx.eval(mx.gather_qmm(x, wq, s, b, mx.array([0]), mx.array([7])))
    with pytest.raises(IndexError, match=r"gather_qmm.*lhs_indices"):
        mx.eval(mx.gather_qmm(x, wq, s, b, mx.array([-1]), mx.array([0])))
    with pytest.raises(ValueError, match=r"gather_qmm.*integral"):
        mx.gather_qmm(x, wq, s, b, mx.array([0.0]), mx.array([0]))
    with pytest.raises(ValueError, match=r"gather_qmm.*at least 2"):
        mx.gather_qmm(mx.ones((64,)), wq, s, b, mx.array([0]), mx.array([0]))
    with pytest.raises(ValueError, match=r"gather_qmm.*does not match"):
        mx.gather_qmm(mx.ones((3, 2, 32)), wq, s, b, mx.array([0]), mx.array([0]))


def _composite(x, wq, s, b, lhs, rhs, gs=64, bits=4):
    """The same product through dequantize + take + matmul (autograd's oracle)."""
    wd = mx.swapaxes(mx.dequantize(wq, s, b, gs, bits, dtype=mx.float32), -1, -2)
    return mx.matmul(mx.take(x, lhs, axis=0), mx.take(wd, rhs, axis=0))


def test_gather_qmm_gradients_match_the_dequantized_composition():
    wq, s, b, _ = _quant((3, 16, 64), "affine", 64, 4, 5)
    x = mx.random.normal((2, 4, 64), key=mx.random.key(6))
    lhs, rhs = mx.array([1, 0, 1, 1], mx.uint32), mx.array([2, 2, 0, 1], mx.uint32)
    cot = mx.random.normal((4, 4, 16), key=mx.random.key(7))
    f = lambda x, s, b: (mx.gather_qmm(x, wq, s, b, lhs, rhs) * cot).sum()
    g = lambda x, s, b: (_composite(x, wq, s, b, lhs, rhs) * cot).sum()
    got = mx.grad(f, argnums=(0, 1, 2))(x, s, b)
    want = mx.grad(g, argnums=(0, 1, 2))(x, s, b)
    for a, r in zip(got, want):
        np.testing.assert_allclose(np.array(a), np.array(r), rtol=1e-4, atol=1e-4)
    # finite differences along one direction of x
    d = mx.random.normal(x.shape, key=mx.random.key(8))
    eps = 1e-2
    fd = (f(x + eps * d, s, b) - f(x - eps * d, s, b)).item() / (2 * eps)
    assert abs(fd - (got[0] * d).sum().item()) < 1e-2 * max(1.0, abs(fd))
    # jvp wrt x is the product of the tangent
    _, jv = mx.jvp(lambda x: mx.gather_qmm(x, wq, s, b, lhs, rhs), [x], [d])
    np.testing.assert_allclose(np.array(jv[0]), np.array(_composite(d, wq, s, b, lhs, rhs)),
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(RuntimeError, match="quantized"):
        mx.grad(lambda w: mx.gather_qmm(x, w, s, b, lhs, rhs).sum())(wq)


def test_batched_quantized_matmul_gradients():
    wq, s, b, _ = _quant((3, 16, 64), "affine", 64, 4, 9)
    x = mx.random.normal((3, 5, 64), key=mx.random.key(10))
    f = lambda x, s, b: (mx.quantized_matmul(x, wq, s, b) ** 2).sum()
    idx = mx.arange(3, dtype=mx.uint32)
    g = lambda x, s, b: (_composite(x, wq, s, b, idx, idx) ** 2).sum()
    for a, r in zip(mx.grad(f, argnums=(0, 1, 2))(x, s, b), mx.grad(g, argnums=(0, 1, 2))(x, s, b)):
        np.testing.assert_allclose(np.array(a), np.array(r), rtol=1e-4, atol=1e-3)


def test_vmap_matches_a_python_loop():
    wq, s, b, _ = _quant((2, 3, 16, 64), "affine", 64, 4, 11)     # vmapped axis 0 of w
    x = mx.random.normal((2, 3, 4, 64), key=mx.random.key(12))
    lhs, rhs = mx.array([2, 0], mx.uint32), mx.array([[1, 2], [0, 0]], mx.uint32)
    fn = lambda x, wq, s, b, r: mx.gather_qmm(x, wq, s, b, lhs, r)
    got = mx.vmap(fn)(x, wq, s, b, rhs)
    for v in range(2):
        np.testing.assert_allclose(np.array(got[v]), np.array(fn(x[v], wq[v], s[v], b[v], rhs[v])),
                                   rtol=1e-5, atol=1e-5)
    # only x batched (w shared); only w batched (x shared)
    got = mx.vmap(fn, in_axes=(0, None, None, None, None))(x, wq[0], s[0], b[0], rhs[0])
    for v in range(2):
        np.testing.assert_allclose(np.array(got[v]),
                                   np.array(fn(x[v], wq[0], s[0], b[0], rhs[0])), rtol=1e-5, atol=1e-5)
    got = mx.vmap(fn, in_axes=(None, 0, 0, 0, None))(x[1], wq, s, b, rhs[1])
    for v in range(2):
        np.testing.assert_allclose(np.array(got[v]),
                                   np.array(fn(x[1], wq[v], s[v], b[v], rhs[1])), rtol=1e-5, atol=1e-5)
    # quantized_matmul vmapped over a batched weight
    q = lambda x, wq, s, b: mx.quantized_matmul(x, wq, s, b)
    got = mx.vmap(q)(x[:, 0], wq[:, 0], s[:, 0], b[:, 0])
    for v in range(2):
        np.testing.assert_allclose(np.array(got[v]), np.array(q(x[v, 0], wq[v, 0], s[v, 0], b[v, 0])),
                                   rtol=1e-5, atol=1e-5)


def test_thread_count_does_not_change_bits():
    import subprocess
    import sys
    from helpers import CHILD_CWD, child_env
    code = ("import hashlib, numpy as np, mlxc.core as mx\n"
            "w = mx.random.normal((4, 96, 256), key=mx.random.key(1))\n"
            "wq, s, b = mx.quantize(w)\n"
            "x = mx.random.normal((3, 7, 256), key=mx.random.key(2))\n"
            "y = mx.gather_qmm(x, wq, s, b, mx.array([0, 2, 1, 1]), mx.array([3, 3, 0, 1]))\n"
            "print(hashlib.sha256(np.array(y).tobytes()).hexdigest())\n")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=CHILD_CWD, env=child_env(MLXC_NUM_THREADS=str(n))).stdout
            for n in (1, 2, 3)}
    assert len(outs) == 1
