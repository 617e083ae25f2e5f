"""Quantization (quantize, dequantize, quantized_matmul, gather_qmm, qqmm, gather_qqmm,
hadamard_transform) against outputs recorded from MLX 0.32.4 (tests/data/quant_mlx.npz,
written by tests/data/gen_quant.py): packed words, scales and biases bit for bit for
every mode / bits / group size / input dtype, dequantize bit for bit, quantized_matmul
within float32 rounding; transforms against numpy oracles and Python loops; the kernels
give the same bits at 1, 2 and 3 threads at every SIMD level (child interpreters)."""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx
from helpers import CHILD_CWD, child_env

HERE = os.path.dirname(__file__)
DATA = np.load(os.path.join(HERE, "data", "quant_mlx.npz"))

DTS = {"f32": mx.float32, "f16": mx.float16, "bf16": mx.bfloat16}
AFFINE = [("affine", b, g) for b in (1, 2, 3, 4, 5, 6, 8) for g in (32, 64, 128)]
FP = [("mxfp4", 4, 32), ("mxfp8", 8, 32), ("nvfp4", 4, 16)]


def _w(dname):
    w = mx.array(DATA[f"w_{dname}"]).astype(DTS[dname])
    np.testing.assert_array_equal(np.array(w.astype(mx.float32)), DATA[f"w_{dname}"])
    return w


def _bits(a):
    return np.array(a.view(mx.uint32 if a.dtype == mx.float32 else mx.uint16))


# ------------------------------------------------------------------ bit identity

@pytest.mark.parametrize("dname", list(DTS))
@pytest.mark.parametrize("mode,bits,gs", AFFINE + FP)
def test_quantize_matches_mlx_bit_for_bit(mode, bits, gs, dname):
    key = f"{mode}_{bits}_{gs}_{dname}"
    r = mx.quantize(_w(dname), gs, bits, mode)
    assert len(r) == (3 if mode == "affine" else 2)
    assert r[0].dtype == mx.uint32
    np.testing.assert_array_equal(np.array(r[0]), DATA[key + "_wq"])
    if mode == "affine":
        assert r[1].dtype == DTS[dname] and r[2].dtype == DTS[dname]
        np.testing.assert_array_equal(np.array(r[1].astype(mx.float32)), DATA[key + "_s"])
        np.testing.assert_array_equal(np.array(r[2].astype(mx.float32)), DATA[key + "_b"])
    else:
        assert r[1].dtype == mx.uint8
        np.testing.assert_array_equal(np.array(r[1]), DATA[key + "_s"])


@pytest.mark.parametrize("dname", list(DTS))
@pytest.mark.parametrize("mode,bits,gs", AFFINE + FP)
def test_dequantize_matches_mlx_bit_for_bit(mode, bits, gs, dname):
    key = f"{mode}_{bits}_{gs}_{dname}"
    wq = mx.array(DATA[key + "_wq"])
    if mode == "affine":
        s = mx.array(DATA[key + "_s"]).astype(DTS[dname])
        b = mx.array(DATA[key + "_b"]).astype(DTS[dname])
        d = mx.dequantize(wq, s, b, gs, bits, mode)
        assert d.dtype == DTS[dname]
        np.testing.assert_array_equal(_bits(d), DATA[key + "_dq"])
    else:
        s = mx.array(DATA[key + "_s"])
        d = mx.dequantize(wq, s, None, gs, bits, mode)
        assert d.dtype == mx.bfloat16
        np.testing.assert_array_equal(_bits(d), DATA[key + "_dq"])
        d32 = mx.dequantize(wq, s, None, gs, bits, mode, dtype=mx.float32)
        np.testing.assert_array_equal(_bits(d32), DATA[key + "_dq32"])


@pytest.mark.parametrize("dname", list(DTS))
@pytest.mark.parametrize("gname,gval", [("g1", 0.37), ("g2", 1e-3)])
def test_nvfp4_global_scale_matches_mlx(dname, gname, gval):
    key = f"nvfp4_{gname}_{dname}"
    g = mx.array(gval, mx.float32)
    wq, s = mx.quantize(_w(dname), mode="nvfp4", global_scale=g)
    if dname == "f32":   # half inputs: MLX rounds some ties differently (see the report)
        np.testing.assert_array_equal(np.array(wq), DATA[key + "_wq"])
    np.testing.assert_array_equal(np.array(s), DATA[key + "_s"])
    d = mx.dequantize(mx.array(DATA[key + "_wq"]), mx.array(DATA[key + "_s"]), mode="nvfp4",
                      global_scale=g, dtype=mx.float32)
    np.testing.assert_array_equal(_bits(d), DATA[key + "_dq32"])


def _close_to(out, ref, x, wd):
    """out within float32 rounding of ref: relative to sum |x| |w| per element, where for
    affine weights |w| is |scale| q + |bias| (the terms the products really sum)."""
    bound = (np.abs(x) @ np.abs(wd)) * 1e-5 + 1e-30
    assert np.all(np.abs(np.asarray(out, np.float64) - ref) <= bound), \
        np.max(np.abs(np.asarray(out, np.float64) - ref) / bound)


@pytest.mark.parametrize("mode,bits,gs", AFFINE + FP)
def test_quantized_matmul_matches_mlx(mode, bits, gs):
    key = f"{mode}_{bits}_{gs}_f32"
    wq = mx.array(DATA[key + "_wq"])
    if mode == "affine":
        s, b = mx.array(DATA[key + "_s"]), mx.array(DATA[key + "_b"])
        wd = np.array(mx.dequantize(wq, mx.abs(s), mx.abs(b), gs, bits, mode), np.float64)
    else:
        s, b = mx.array(DATA[key + "_s"]), None
        wd = np.array(mx.dequantize(wq, s, None, gs, bits, mode, dtype=mx.float32), np.float64)
    x, xt = DATA["x"], DATA["xt"]
    y = mx.quantized_matmul(mx.array(x), wq, s, b, True, gs, bits, mode)
    assert y.dtype == mx.float32 and y.shape == (3, 8)
    _close_to(np.array(y), DATA[key + "_mm"], x, wd.T)
    yt = mx.quantized_matmul(mx.array(xt), wq, s, b, False, gs, bits, mode)
    assert yt.shape == (3, 128)
    _close_to(np.array(yt), DATA[key + "_mmT"], xt, wd)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("M", [1, 2, 5, 33])
@pytest.mark.parametrize("transpose", [True, False])
def test_quantized_matmul_paths_against_float64(bits, M, transpose):
    """matvec (M <= 4, transpose) and GEMM paths, edge panels (N not a multiple of the
    register tile), batch dims of x, half inputs."""
    rng = np.random.default_rng(bits * 100 + M)
    N, K = 37, 320
    if not transpose:
        N = 64                       # transpose=False groups run along N
    w = mx.array(rng.standard_normal((N, K) if transpose else (K, N)).astype(np.float32))
    gs = 32
    wq, s, b = mx.quantize(w, gs, bits)
    wd = np.array(mx.dequantize(wq, s, b, gs, bits), np.float64)
    mag = np.array(mx.dequantize(wq, mx.abs(s), mx.abs(b), gs, bits), np.float64)
    wd, mag = (wd.T, mag.T) if transpose else (wd, mag)
    x = rng.standard_normal((2, M, K)).astype(np.float32)
    y = mx.quantized_matmul(mx.array(x), wq, s, b, transpose, gs, bits)
    assert y.shape == (2, M, N)
    _close_to(np.array(y), x @ wd, x, mag)
    yh = mx.quantized_matmul(mx.array(x).astype(mx.bfloat16), wq, s.astype(mx.bfloat16),
                             b.astype(mx.bfloat16), transpose, gs, bits)
    assert yh.dtype == mx.bfloat16


def test_quantized_matmul_vector_and_dtypes():
    w = mx.random.normal((16, 64), key=mx.random.key(3))
    wq, s, b = mx.quantize(w)
    v = mx.random.normal((64,), key=mx.random.key(4))
    y = mx.quantized_matmul(v, wq, s, b)
    assert y.shape == (16,)
    ref = np.array(mx.dequantize(wq, s, b)) @ np.array(v)
    np.testing.assert_allclose(np.array(y), ref, rtol=1e-4, atol=1e-4)
    assert mx.quantized_matmul(v.astype(mx.float16), wq, s, b).dtype == mx.float32
    assert mx.quantized_matmul(v.astype(mx.float16), wq, s.astype(mx.float16),
                               b.astype(mx.float16)).dtype == mx.float16
    assert mx.quantized_matmul(v.astype(mx.int32), wq, s, b).dtype == mx.float32
    q4 = mx.quantize(w, mode="mxfp4")
    assert mx.quantized_matmul(v.astype(mx.bfloat16), *q4, mode="mxfp4").dtype == mx.bfloat16


def test_edge_groups():
    w = mx.zeros((2, 64))
    wq, s, b = mx.quantize(w)
    assert np.all(np.array(wq) == 0)
    np.testing.assert_array_equal(np.array(mx.dequantize(wq, s, b)), np.zeros((2, 64)))
    e = mx.full((2, 64), 2.5)
    np.testing.assert_array_equal(np.array(mx.dequantize(*mx.quantize(e))), np.full((2, 64), 2.5))
    for mode in ("mxfp4", "mxfp8", "nvfp4"):
        q = mx.quantize(w, mode=mode)
        np.testing.assert_array_equal(np.array(mx.dequantize(*q, mode=mode).astype(mx.float32)),
                                      0)
    assert mx.quantize(mx.zeros((0, 64)))[0].shape == (0, 8)
    assert mx.dequantize(mx.zeros((2, 0), mx.uint32), mx.zeros((2, 0)), mx.zeros((2, 0))).shape \
        == (2, 0)
    assert mx.dequantize(*mx.quantize(e), dtype=mx.float64).dtype == mx.float64
    # leading dims
    w3 = mx.random.normal((3, 2, 64), key=mx.random.key(0))
    r = mx.quantize(w3)
    assert [a.shape for a in r] == [(3, 2, 8), (3, 2, 1), (3, 2, 1)]
    np.testing.assert_array_equal(np.array(r[0][1]), np.array(mx.quantize(w3[1])[0]))


# ------------------------------------------------------------------ errors

W = mx.random.normal((8, 64), key=mx.random.key(1))
WQ, S, B = mx.quantize(W)
Q4 = mx.quantize(W, mode="mxfp4")
X = mx.random.normal((2, 64), key=mx.random.key(2))

ERRORS = [
    (lambda: mx.quantize(W, 16), ValueError, "group size 16"),
    (lambda: mx.quantize(W, 0), ValueError, "group size 0"),
    (lambda: mx.quantize(W, 64, 7), ValueError, "number of bits 7"),
    (lambda: mx.quantize(W, mode="foo"), ValueError, "Invalid quantization mode 'foo'"),
    (lambda: mx.quantize(W, 64, mode="mxfp4"), ValueError, "requires group size 32 but got 64"),
    (lambda: mx.quantize(W, mode="mxfp4", bits=8), ValueError, "requires bits to be 4 but got 8"),
    (lambda: mx.quantize(W[0]), ValueError, "at least 2 dimension"),
    (lambda: mx.quantize(mx.ones((4, 48))), ValueError, "divisible by the quantization group size 64"),
    (lambda: mx.quantize(mx.ones((4, 64), mx.int32)), ValueError, "w has type int32"),
    (lambda: mx.quantize(W, global_scale=mx.array(1.0)), ValueError, "only supported for 'nvfp4'"),
    (lambda: mx.quantize(W, mode="nvfp4", global_scale=mx.array([1.0, 2.0])), ValueError, "scalar"),
    (lambda: mx.quantize(W, mode="nvfp4", global_scale=mx.array(1.0, mx.float16)), ValueError,
     "float32 but got float16"),
    (lambda: mx.quantize(W, 64.5), TypeError, "group_size"),
    (lambda: mx.dequantize(WQ, S), ValueError, "Biases must be provided"),
    (lambda: mx.dequantize(WQ, S, B, 32), ValueError, "group_size=32 and bits=4"),
    (lambda: mx.dequantize(WQ.astype(mx.int32), S, B), ValueError, "uint32"),
    (lambda: mx.dequantize(WQ, S, B, dtype=mx.int32), ValueError, "output dtype == int32"),
    (lambda: mx.dequantize(WQ, S, B, mode="mxfp4"), ValueError, "Biases must be null"),
    (lambda: mx.dequantize(Q4[0], Q4[1].astype(mx.float32), mode="mxfp4"), ValueError,
     "Scale type must be uint8"),
    (lambda: mx.dequantize(WQ[0], S[0], B[0]), ValueError, "at least 2 dimension"),
    (lambda: mx.quantized_matmul(X, WQ, S), ValueError, "Biases must be provided"),
    (lambda: mx.quantized_matmul(X[:, :32], WQ, S, B), ValueError, "(..., 32)"),
    (lambda: mx.quantized_matmul(X, WQ, S, B, transpose=False), ValueError, "transpose=false"),
    (lambda: mx.quantized_matmul(X, WQ.astype(mx.int32), S, B), ValueError, "uint32"),
    (lambda: mx.quantized_matmul(X, WQ, S, B[:, :0]), ValueError, "same shape"),
    (lambda: mx.quantized_matmul(X, WQ, S, B, group_size=32), ValueError, "incompatible"),
    (lambda: mx.quantized_matmul(X, Q4[0], Q4[1], B, mode="mxfp4"), ValueError,
     "Biases must be null"),
    (lambda: mx.quantized_matmul(mx.array(1.0), WQ, S, B), ValueError, "0-d"),
    (lambda: mx.hadamard_transform(mx.ones((2, 6))), ValueError, "6"),
    (lambda: mx.qqmm(X, W, mode="affine"), ValueError, "affine"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    f, exc, msg = ERRORS[i]
    with pytest.raises(exc) as e:
        mx.eval(f())
    assert msg in str(e.value)


# ------------------------------------------------------------------ transforms

def _np_deq(wq, s, b, gs=64, bits=4):
    return np.array(mx.dequantize(wq, s, b, gs, bits), np.float64)


@pytest.mark.parametrize("transpose", [True, False])
def test_vjp_jvp_wrt_x(transpose):
    w = mx.random.normal((48, 64), key=mx.random.key(5))   # (N, K) or (K, N)
    wq, s, b = mx.quantize(w, 32)
    wd = _np_deq(wq, s, b, 32)
    wd = wd.T if transpose else wd            # (K, N)
    K = wd.shape[0]
    x = mx.random.normal((3, K), key=mx.random.key(6))
    g = mx.random.normal((3, wd.shape[1]), key=mx.random.key(7))
    f = lambda a: mx.quantized_matmul(a, wq, s, b, transpose, 32)  # noqa: E731
    _, (dx,) = mx.vjp(f, [x], [g])
    np.testing.assert_allclose(np.array(dx), np.array(g) @ wd.T, rtol=1e-4, atol=1e-4)
    _, (tout,) = mx.jvp(f, [x], [g @ mx.array(wd.T.astype(np.float32))])
    assert tout.shape == (3, wd.shape[1])
    t = np.array(g) @ wd.T
    np.testing.assert_allclose(np.array(tout), t @ wd, rtol=1e-3, atol=1e-3)
    gr = mx.grad(lambda a: f(a).sum())(x)
    np.testing.assert_allclose(np.array(gr), np.ones((3, wd.shape[1])) @ wd.T, rtol=1e-4,
                               atol=1e-4)


def test_vjp_wrt_scales_and_biases():
    w = mx.random.normal((8, 64), key=mx.random.key(8))
    wq, s, b = mx.quantize(w, 32)
    x = mx.random.normal((3, 64), key=mx.random.key(9))
    q = _np_deq(wq, mx.ones_like(s), mx.zeros_like(b), 32)      # the codes
    ds, db = mx.grad(lambda s_, b_: mx.quantized_matmul(x, wq, s_, b_, group_size=32).sum(),
                     argnums=(0, 1))(s, b)
    dw = np.ones((3, 8)).T @ np.array(x, np.float64)            # dL/dW, (8, 64)
    np.testing.assert_allclose(np.array(ds), (dw * q).reshape(8, 2, 32).sum(-1), rtol=1e-4)
    np.testing.assert_allclose(np.array(db), dw.reshape(8, 2, 32).sum(-1), rtol=1e-4)
    with pytest.raises(RuntimeError, match="quantized weights"):
        mx.grad(lambda w_: mx.quantized_matmul(x, w_, s, b, group_size=32).sum())(wq)
    with pytest.raises(RuntimeError, match="No JVP"):
        mx.jvp(lambda s_: mx.quantized_matmul(x, wq, s_, b, group_size=32), [s], [s])
    # dequantize: linear in scales and biases
    g = mx.random.normal((8, 64), key=mx.random.key(10))
    _, (gs_, gb_) = mx.vjp(lambda s_, b_: mx.dequantize(wq, s_, b_, 32), [s, b], [g])
    gn = np.array(g, np.float64)
    np.testing.assert_allclose(np.array(gs_), (gn * q).reshape(8, 2, 32).sum(-1), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(np.array(gb_), gn.reshape(8, 2, 32).sum(-1), rtol=1e-4, atol=1e-5)
    _, (t,) = mx.jvp(lambda s_, b_: mx.dequantize(wq, s_, b_, 32), [s, b], [s, b])
    np.testing.assert_allclose(np.array(t), _np_deq(wq, s, b, 32) * 1.0, rtol=1e-5, atol=1e-6)
    # quantize: zero derivatives
    gq = mx.grad(lambda w_: mx.quantize(w_)[1].sum())(w)
    np.testing.assert_array_equal(np.array(gq), 0)


def test_vmap_matches_loop():
    w = mx.random.normal((3, 16, 64), key=mx.random.key(11))
    x = mx.random.normal((4, 2, 64), key=mx.random.key(12))
    r = mx.vmap(lambda a: mx.quantize(a))(w)
    for i in range(3):
        ri = mx.quantize(w[i])
        for k in range(3):
            np.testing.assert_array_equal(np.array(r[k][i]), np.array(ri[k]))
    wq, s, b = mx.quantize(w[0])
    y = mx.vmap(lambda a: mx.quantized_matmul(a, wq, s, b))(x)
    for i in range(4):
        np.testing.assert_allclose(np.array(y[i]), np.array(mx.quantized_matmul(x[i], wq, s, b)),
                                   rtol=1e-5, atol=1e-5)
    y = mx.vmap(lambda a: mx.quantized_matmul(a, wq, s, b), in_axes=1)(x)
    for i in range(2):
        np.testing.assert_allclose(np.array(y[i]), np.array(mx.quantized_matmul(x[:, i], wq, s, b)),
                                   rtol=1e-5, atol=1e-5)
    # batched weights: one product per batch element
    ws, ss, bs = mx.quantize(w)
    y = mx.vmap(lambda a, q, sc, bi: mx.quantized_matmul(a, q, sc, bi))(x[:3], ws, ss, bs)
    for i in range(3):
        np.testing.assert_allclose(np.array(y[i]),
                                   np.array(mx.quantized_matmul(x[i], ws[i], ss[i], bs[i])),
                                   rtol=1e-4, atol=1e-4)
    d = mx.vmap(lambda q, sc, bi: mx.dequantize(q, sc, bi))(ws, ss, bs)
    np.testing.assert_array_equal(np.array(d), np.array(mx.dequantize(ws, ss, bs)))


# ------------------------------------------------------------------ compositions

def test_gather_qmm_matches_loop():
    w = mx.random.normal((4, 16, 64), key=mx.random.key(13))
    wq, s, b = mx.quantize(w)
    x = mx.random.normal((3, 2, 64), key=mx.random.key(14))
    lhs = mx.array([0, 2, 1, 1], mx.uint32)
    rhs = mx.array([3, 0, 0, 2], mx.uint32)
    y = mx.gather_qmm(x, wq, s, b, lhs, rhs)
    assert y.shape == (4, 2, 16)
    for i in range(4):
        ref = mx.quantized_matmul(x[int(lhs[i])], wq[int(rhs[i])], s[int(rhs[i])], b[int(rhs[i])])
        np.testing.assert_allclose(np.array(y[i]), np.array(ref), rtol=1e-4, atol=1e-4)
    y0 = mx.gather_qmm(x[0], wq[0], s[0], b[0])
    np.testing.assert_allclose(np.array(y0), np.array(mx.quantized_matmul(x[0], wq[0], s[0], b[0])))


@pytest.mark.parametrize("mode", ["nvfp4", "mxfp8", "mxfp4"])
def test_qqmm_is_the_product_of_the_quantized_operands(mode):
    x = mx.random.normal((3, 64), key=mx.random.key(15))
    w = mx.random.normal((8, 64), key=mx.random.key(16))
    xd = np.array(mx.dequantize(*mx.quantize(x, mode=mode), mode=mode, dtype=mx.float32),
                  np.float64)
    qw = mx.quantize(w, mode=mode)
    wd = np.array(mx.dequantize(*qw, mode=mode, dtype=mx.float32), np.float64)
    np.testing.assert_allclose(np.array(mx.qqmm(x, w, mode=mode)), xd @ wd.T, rtol=1e-5,
                               atol=1e-4)
    np.testing.assert_allclose(np.array(mx.qqmm(x, qw[0], qw[1], mode=mode)), xd @ wd.T,
                               rtol=1e-5, atol=1e-4)
    g = mx.gather_qqmm(mx.stack([x, x]), w, lhs_indices=mx.array([1, 0]), mode=mode)
    np.testing.assert_allclose(np.array(g[0]), xd @ wd.T, rtol=1e-5, atol=1e-4)


def _sylvester(n):
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


@pytest.mark.parametrize("n", [1, 2, 8, 64])
def test_hadamard_transform(n):
    a = mx.random.normal((3, n), key=mx.random.key(n))
    ref = np.array(a, np.float64) @ _sylvester(n).T / np.sqrt(n)
    np.testing.assert_allclose(np.array(mx.hadamard_transform(a)), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.array(mx.hadamard_transform(a, scale=2.0)),
                               ref * np.sqrt(n) * 2.0, rtol=1e-5, atol=1e-4)
    assert mx.hadamard_transform(a.astype(mx.float16)).dtype == mx.float16
    g = mx.grad(lambda v: (mx.hadamard_transform(v) * a).sum())(a)
    np.testing.assert_allclose(np.array(g), np.array(a, np.float64) @ _sylvester(n) / np.sqrt(n),
                               rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------ threads and ISA levels

_CHILD = r"""
import hashlib, numpy as np, mlxc.core as mx
h = hashlib.sha256()
w = mx.random.normal((300, 512), key=mx.random.key(1))
for bits, gs in ((4, 64), (2, 32), (8, 128), (3, 32)):
    r = mx.quantize(w, gs, bits)
    for a in r: h.update(np.array(a).tobytes())
    h.update(np.array(mx.dequantize(*r, gs, bits)).tobytes())
    for M in (1, 3, 40):
        x = mx.random.normal((M, 512), key=mx.random.key(M))
        h.update(np.array(mx.quantized_matmul(x, *r, True, gs, bits)).tobytes())
        xt = mx.random.normal((M, 300), key=mx.random.key(M))
        h.update(np.array(mx.quantized_matmul(xt, *r, False, gs, bits)).tobytes())
for mode in ("mxfp4", "nvfp4"):
    r = mx.quantize(w, mode=mode)
    h.update(np.array(mx.quantized_matmul(mx.ones((2, 512)), *r, mode=mode)).tobytes())
print(h.hexdigest())
"""


def _isas():
    out = ["scalar"]
    info = mx.cpu_info() if hasattr(mx, "cpu_info") else {}
    flags = str(info)
    if "avx2" in flags or os.path.exists("/proc/cpuinfo") and "avx2" in open("/proc/cpuinfo").read():
        out.append("avx2")
    if os.path.exists("/proc/cpuinfo") and "avx512f" in open("/proc/cpuinfo").read():
        out.append("avx512")
    return out


@pytest.mark.mlxc_only
@pytest.mark.parametrize("isa", _isas())
def test_same_bits_at_any_thread_count(isa):
    digests = set()
    for n in ("1", "2", "3"):
        r = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                           cwd=CHILD_CWD, env=child_env(MLXC_NUM_THREADS=n, MLXC_CPU_ISA=isa),
                           timeout=300)
        assert r.returncode == 0, r.stderr
        digests.add(r.stdout.strip())
    assert len(digests) == 1, digests


_LEVEL_CHILD = r"""
import sys, numpy as np, mlxc.core as mx
out = {}
for (N, K, cases) in ((96, 1056, ((2, 32), (4, 32), (8, 32))),
                      (64, 1152, ((2, 64), (4, 64), (4, 128), (8, 128)))):
    for bits, gs in cases:
        rng = np.random.default_rng(bits * 1000 + gs + K)
        w = rng.standard_normal((N, K)).astype(np.float32)
        r = mx.quantize(mx.array(w), gs, bits)
        out[f"wd_{N}_{K}_{bits}_{gs}"] = np.array(mx.dequantize(*r, gs, bits))
        out[f"mag_{N}_{K}_{bits}_{gs}"] = np.array(
            mx.dequantize(r[0], mx.abs(r[1]), mx.abs(r[2]), gs, bits))
        for M in (1, 3, 8, 32):
            x = rng.standard_normal((M, K)).astype(np.float32)
            out[f"x_{N}_{K}_{bits}_{gs}_{M}"] = x
            out[f"y_{N}_{K}_{bits}_{gs}_{M}"] = np.array(
                mx.quantized_matmul(mx.array(x), *r, True, gs, bits))
np.savez(sys.argv[1], **out)
"""


@pytest.mark.mlxc_only
@pytest.mark.parametrize("isa", _isas())
def test_quantized_matmul_at_each_simd_level(isa, tmp_path):
    """The SIMD paths of quantized_matmul (transposed 2/4/8-bit affine weights) at every
    level against float64: whole 16- and 8-column weight blocks, K slabs whose word count
    is not a multiple of 8 (1056 = 4 x 256 + 32), groups of 32/64/128, matrix-vector
    rows (1, 3) and GEMM rows (8, 32: one or several register tiles)."""
    f = str(tmp_path / "out.npz")
    r = subprocess.run([sys.executable, "-c", _LEVEL_CHILD, f], capture_output=True, text=True,
                       cwd=CHILD_CWD, env=child_env(MLXC_CPU_ISA=isa), timeout=300)
    assert r.returncode == 0, r.stderr
    d = np.load(f)
    n = 0
    for key in d.files:
        if not key.startswith("y_"):
            continue
        cfg = key[2:].rsplit("_", 1)[0]
        x = d["x_" + key[2:]].astype(np.float64)
        _close_to(d[key], x @ d["wd_" + cfg].astype(np.float64).T, x,
                  d["mag_" + cfg].astype(np.float64).T)
        n += 1
    assert n == 28


_HAD = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "hadamard_mlx.npz"))


@pytest.mark.parametrize("n", [12, 24, 40, 56, 96, 160, 224, 12 * 64, 28 * 32])
def test_hadamard_transform_m_times_power_of_two(n):
    """n = m * 2^k, m in (12, 20, 28): MLX's recorded transforms (tests/data/gen_hadamard.py),
    and a float64 oracle built from the recorded m x m matrices and Sylvester's."""
    x = _HAD[f"x{n}"]
    a = mx.array(x)
    np.testing.assert_allclose(np.array(mx.hadamard_transform(a)), _HAD[f"y{n}"], rtol=1e-5,
                               atol=2e-6 * np.sqrt(n))
    np.testing.assert_allclose(np.array(mx.hadamard_transform(a, scale=2.0)), _HAD[f"y{n}_s2"],
                               rtol=1e-5, atol=2e-5 * np.sqrt(n))
    np.testing.assert_allclose(np.array(mx.hadamard_transform(a.astype(mx.float16))
                                        .astype(mx.float32)), _HAD[f"y{n}_f16"], rtol=2e-2, atol=2e-2)
    m = next(m for m in (12, 20, 28) if n % m == 0 and (n // m) & (n // m - 1) == 0)
    k = np.kron(_HAD[f"T{m}"].astype(np.float64), _sylvester(n // m))
    assert np.array_equal(k @ k.T, n * np.eye(n))            # a Hadamard matrix
    ref = x.astype(np.float64) @ k / np.sqrt(n)
    np.testing.assert_allclose(np.array(mx.hadamard_transform(a)), ref, rtol=1e-5,
                               atol=2e-6 * np.sqrt(n))
    y64 = mx.hadamard_transform(mx.array(x, dtype=mx.float64), stream=mx.cpu)
    assert y64.dtype == mx.float64
    np.testing.assert_allclose(np.array(y64), ref, rtol=1e-12, atol=1e-12)
    g = mx.grad(lambda v: (mx.hadamard_transform(v) * a).sum())(a)
    np.testing.assert_allclose(np.array(g), x.astype(np.float64) @ k.T / np.sqrt(n), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize("n", [3, 6, 9, 10, 14, 36, 44, 72])
def test_hadamard_transform_rejects_other_sizes(n):
    with pytest.raises(ValueError, match=rf"hadamard_transform.*m in \(1, 12, 20, 28\).*{n}"):
        mx.hadamard_transform(mx.ones((2, n)))


def test_dequantize_with_global_scale_defaults_to_float32():
    """MLX: with a (float32) global scale, nvfp4's dequantize gives float32 by default
    (bfloat16 without one), so the global factor is not rounded away."""
    w = mx.random.normal((4, 64), key=mx.random.key(21)) * 3
    g = mx.array(float(np.abs(np.array(w)).max()) / (448 * 6))
    q = mx.quantize(w, mode="nvfp4", global_scale=g)
    d = mx.dequantize(*q, mode="nvfp4", global_scale=g)
    assert d.dtype == mx.float32
    assert mx.dequantize(*q, mode="nvfp4").dtype == mx.bfloat16
    ref = mx.dequantize(*q, mode="nvfp4", global_scale=g, dtype=mx.float32)
    assert np.array_equal(np.array(d), np.array(ref))
    codes = np.array(mx.dequantize(*q, mode="nvfp4", dtype=mx.float32), np.float64)
    np.testing.assert_allclose(np.array(d), codes * float(g.item()) / 2688, rtol=1e-6)
