"""The GPU quantization kernels (metal/quantized.metal) against the CPU primitives.

Quantize and Dequantize follow the CPU's arithmetic step by step (float32 without fused
multiply-adds, correctly rounded divisions, rint half to even, the same bit tricks for
e4m3/e8m0/e2m1), so they must give the CPU's bits for every mode, bit width and group
size the CPU supports, from float32, float16 and bfloat16.  QuantizedMatmul dequantizes
the weights into float32 and runs the GEMM: compared with the bound of test_metal_gemm
(summation order), with K + 3 for the CPU's fused q * s + b while packing.
"""
import numpy as np
import pytest

import mlxc.core as mx
from test_metal_gemm import assert_gemm_close, f64, rand
from test_metal_kernels import as_np, lanes  # noqa: F401  (lanes: a fixture)

AFFINE = [(gs, bits) for bits in (1, 2, 3, 4, 5, 6, 8) for gs in (32, 64, 128)]
FP = [("mxfp4", 32, 4), ("mxfp8", 32, 8), ("nvfp4", 16, 4)]


def bits_of(x):
    """The stored bits of x (bfloat16 through its exact float32 widening)."""
    a = as_np(x)
    return a.view(np.uint32) if a.dtype == np.float32 else a.view(np.uint16) \
        if a.dtype == np.float16 else a


def weights(dt, shape=(3, 128), seed=0, specials=False):
    rng = np.random.default_rng(seed)
    v = (rng.standard_normal(shape) * rng.choice([0.01, 1.0, 30.0], shape[0])[:, None])
    v = v.astype(np.float32)
    v[0, :5] = [0.0, -0.0, 0.25, 0.75, 5.0]             # e2m1 thresholds and zeros
    if specials:
        v[1, 7] = np.inf                                 # an inf group (fp modes)
    x = mx.array(v).astype(getattr(mx, dt))
    mx.eval(x)
    return x


def both(f):
    with mx.stream(mx.gpu):
        g = f()
    c = f()
    mx.eval(g, c)
    listed = (lambda r: list(r) if isinstance(r, (list, tuple)) else [r])
    return listed(g), listed(c)


def assert_bits(gs, cs):
    for g, c in zip(gs, cs):
        assert g.dtype == c.dtype and g.shape == c.shape
        np.testing.assert_array_equal(bits_of(g), bits_of(c))


@pytest.mark.parametrize("dt", ["float32", "float16", "bfloat16"])
def test_quantize_dequantize_affine(gpu, dt):
    w = weights(dt, seed=1)
    for gs, b in AFFINE:
        g, c = both(lambda: mx.quantize(w, gs, b))
        assert_bits(g, c)
        wq, s, bi = c
        for odt in (None, mx.float32):
            g, c = both(lambda: mx.dequantize(wq, s, bi, gs, b, dtype=odt))
            assert_bits(g, c)


@pytest.mark.parametrize("dt", ["float32", "bfloat16"])
def test_quantize_dequantize_fp(gpu, dt):
    w = weights(dt, seed=2, specials=True)
    gscale = mx.array(3.5)
    for mode, gs, b in FP:
        g, c = both(lambda: mx.quantize(w, gs, b, mode=mode))
        assert_bits(g, c)
        wq, s = c[0], c[1]
        for odt in (mx.float32, mx.float16, mx.bfloat16):
            g, c = both(lambda: mx.dequantize(wq, s, None, gs, b, mode=mode, dtype=odt))
            assert_bits(g, c)
    w2 = weights(dt, seed=3)
    g, c = both(lambda: mx.quantize(w2, mode="nvfp4", global_scale=gscale))
    assert_bits(g, c)
    g, c = both(lambda: mx.dequantize(c[0], c[1], mode="nvfp4", global_scale=gscale,
                                      dtype=mx.float32))
    assert_bits(g, c)


def test_quant_lane_orders(lanes):
    """Barrier-free, one owner per output word: any order gives the same bits."""
    w = weights("float16", shape=(4, 96), seed=4)
    g, c = both(lambda: mx.quantize(w, 32, 3))
    assert_bits(g, c)
    g2, c2 = both(lambda: mx.dequantize(c[0], c[1], c[2], 32, 3))
    assert_bits(g2, c2)
    g, c = both(lambda: mx.quantize(w, mode="mxfp4"))
    assert_bits(g, c)


def test_dequantize_strided_inputs(gpu):
    w = weights("float32", shape=(6, 64), seed=5)
    wq, s, bi = mx.quantize(w, 32, 4)
    wq2, s2, bi2 = wq[::2], s[::2], bi[::2]            # row-strided views: copied on the GPU
    g, c = both(lambda: mx.dequantize(wq2, s2, bi2, 32, 4))
    assert_bits(g, c)


@pytest.mark.parametrize("transpose", [True, False])
def test_quantized_matmul(lanes, transpose):
    cases = [("affine", 64, 4), ("affine", 32, 3), ("affine", 128, 8), ("mxfp4", 32, 4),
             ("nvfp4", 16, 4), ("mxfp8", 32, 8)]
    x = rand((2, 3, 128), seed=6)
    for mode, gs, b in cases:
        wshape = (40, 128) if transpose else (128, 128)
        w = weights("float32", shape=wshape, seed=7)
        qs = mx.quantize(w, gs, b, mode=mode)
        wq, s = qs[0], qs[1]
        bi = qs[2] if mode == "affine" else None
        g, c = both(lambda: mx.quantized_matmul(x, wq, s, bi, transpose, gs, b, mode=mode))
        wd = f64(mx.dequantize(wq, s, bi, gs, b, mode=mode, dtype=mx.float32))
        absprod = np.abs(f64(x)) @ np.abs(wd.T if transpose else wd)
        assert_gemm_close(g[0], c[0], absprod * (1 + 2.0 ** -22), 128 + 1, "float32")


def test_quant_bad_input(gpu):
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises(ValueError):
            mx.quantize(mx.ones((2, 48)), 32, 4, stream=stream)
        with pytest.raises(RuntimeError, match="float64"):
            mx.eval(mx.quantize(mx.ones((2, 64), mx.float64), 32, 4, stream=stream))
    wq, s, b = mx.quantize(mx.ones((2, 64)), 32, 4)
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises(ValueError):
            mx.dequantize(wq, s[:, :1], b, 32, 4, stream=stream)


@pytest.mark.parametrize("transpose", [True, False])
def test_gather_qmm(lanes, transpose):
    """GatherQMM (gather_qmm, batched quantized_matmul): the GEMM over the gathered pairs
    with each weight matrix decoded into its B tiles; against the CPU's per-pair quantized
    products."""
    x = rand((3, 2, 128), seed=8)
    wshape = (4, 40, 128) if transpose else (4, 128, 64)
    for mode, gs, b in (("affine", 64, 4), ("mxfp4", 32, 4)):
        w = mx.reshape(weights("float32", shape=(4 * wshape[1], wshape[2]), seed=9), wshape)
        qs = mx.quantize(w, gs, b, mode=mode)
        wq, s = qs[0], qs[1]
        bi = qs[2] if mode == "affine" else None
        lhs, rhs = mx.array([[0, 2], [1, 1]]), mx.array([[3, 0], [0, 2]])
        g, c = both(lambda: mx.gather_qmm(x, wq, s, bi, lhs, rhs, transpose, gs, b, mode=mode))
        wd = f64(mx.dequantize(wq, s, bi, gs, b, mode=mode, dtype=mx.float32))
        wd = np.swapaxes(wd, -1, -2) if transpose else wd
        xa = np.abs(f64(x))
        absprod = np.stack([np.stack([xa[int(lhs[i, j])] @ np.abs(wd[int(rhs[i, j])])
                                      for j in range(2)]) for i in range(2)])
        assert_gemm_close(g[0], c[0], absprod * (1 + 2.0 ** -22), 128 + 1, "float32")
    with pytest.raises(IndexError, match="gather_qmm"):
        mx.eval(mx.gather_qmm(x, wq, s, bi, mx.array([0]), mx.array([9]), transpose, gs, b,
                              mode=mode, stream=mx.gpu))


def test_quantized_matmuls_never_dequantize_whole_weights(gpu, monkeypatch):
    """QuantizedMatmul and GatherQMM run qmm_g alone: no dequant_g pass writes the float
    weights first."""
    import mlxc._core.metal.gpu_linalg as gl
    names = []
    real = gl.dispatch
    monkeypatch.setattr(gl, "dispatch", lambda f, k, *a, **kw: (names.append(k),
                                                                 real(f, k, *a, **kw))[1])
    x = rand((3, 64), seed=10)
    wq, s, bi = mx.quantize(weights("float32", shape=(2 * 40, 64), seed=11), 32, 4)
    mx.eval(mx.quantized_matmul(x, wq, s, bi, True, 32, 4, stream=mx.gpu))
    w3 = [mx.reshape(a, (2, 40, a.shape[-1])) for a in (wq, s, bi)]
    mx.eval(mx.gather_qmm(x, *w3, rhs_indices=mx.array([1]), transpose=True, group_size=32,
                          bits=4, stream=mx.gpu))
    assert names == ["qmm_g", "qmm_g"]


@pytest.mark.parametrize("dt,eps", [("float16", 2.0 ** -11), ("bfloat16", 2.0 ** -8)])
def test_quantized_matmul_half_x_fp_modes(gpu, dt, eps):
    """A half x of a floating mode: the CPU computes in x's type step by step (MLX's
    arithmetic), the GPU in float32 and casts: both in x's dtype, within the half type's
    accumulated rounding (every one of the K steps rounds on the CPU)."""
    x = rand((3, 128), seed=10).astype(getattr(mx, dt))
    for mode, gs, b in FP:
        for transpose in (True, False):
            w = weights("float32", shape=(40, 128) if transpose else (128, 64), seed=11)
            wq, s = mx.quantize(w, gs, b, mode=mode)
            xx = x if transpose else rand((3, 128), seed=12).astype(getattr(mx, dt))
            g, c = both(lambda: mx.quantized_matmul(xx, wq, s, None, transpose, gs, b, mode=mode))
            assert g[0].dtype == c[0].dtype == getattr(mx, dt)
            wd = f64(mx.dequantize(wq, s, None, gs, b, mode=mode, dtype=mx.float32))
            absprod = np.abs(f64(xx)) @ np.abs(wd.T if transpose else wd)
            a, r = f64(g[0]), f64(c[0])
            assert np.all(np.abs(a - r) <= (128 + 2) * eps * absprod + eps * np.abs(r))


def test_gather_qmm_half_x_fp_mode(gpu):
    """GatherQMM with a bfloat16 x (mxfp4): GPU (float32, cast) against the CPU (in
    bfloat16 step by step), as test_quantized_matmul_half_x_fp_modes."""
    eps = 2.0 ** -8
    x = rand((3, 2, 128), seed=8).astype(mx.bfloat16)
    w = mx.reshape(weights("float32", shape=(4 * 40, 128), seed=9), (4, 40, 128))
    wq, s = mx.quantize(w, mode="mxfp4")
    lhs, rhs = mx.array([[0, 2], [1, 1]]), mx.array([[3, 0], [0, 2]])
    g, c = both(lambda: mx.gather_qmm(x, wq, s, None, lhs, rhs, True, mode="mxfp4"))
    assert g[0].dtype == c[0].dtype == mx.bfloat16
    wd = np.swapaxes(f64(mx.dequantize(wq, s, None, mode="mxfp4", dtype=mx.float32)), -1, -2)
    xa = np.abs(f64(x))
    absprod = np.stack([np.stack([xa[int(lhs[i, j])] @ np.abs(wd[int(rhs[i, j])])
                                  for j in range(2)]) for i in range(2)])
    a, r = f64(g[0]), f64(c[0])
    assert np.all(np.abs(a - r) <= (128 + 2) * eps * absprod + eps * np.abs(r))
