"""quantize / dequantize on adversarial inputs (NaN, +-inf, subnormals, signed zeros,
all-zero / all-NaN groups, group maxima on the scale boundaries, values on the e2m1 /
e4m3 rounding boundaries, huge and tiny magnitudes) in float32 / float16 / bfloat16,
bit for bit against MLX 0.32.4's recorded outputs (tests/data/quant_edge_mlx.npz,
written by tests/data/gen_quant_edge.py): packed words, scales, biases and the
dequantized values of every mode, with and without nvfp4's global scale, and
quantized_matmul / gather_qmm in the floating modes (MLX's order of summation; half
activations in their type, as MLX computes them).  Quantize and dequantize run on the
CPU and on the GPU (metal/quantized.metal, emulated: it claims the CPU's bits)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx
from helpers import CHILD_CWD, child_env
from test_quant import _isas

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = np.load(os.path.join(HERE, "data", "quant_edge_mlx.npz"))

DTS = {"f32": mx.float32, "f16": mx.float16, "bf16": mx.bfloat16}
GLOBALS = (0.37, 1e-3, 1.0, 448.0 * 6.0, 3e-7, 7e5, 1e-30, 6.0, 1e30)  # gen_quant_edge.py's
AFFINE = [(b, g) for b in (2, 3, 4, 5, 6, 8) for g in (32, 64, 128)]
FP = [("mxfp4", 4, 32, None), ("mxfp8", 8, 32, None), ("nvfp4", 4, 16, None)]
FP += [("nvfp4", 4, 16, i) for i in range(len(GLOBALS))]


@pytest.fixture(params=["cpu", "gpu"])
def dev(request):
    """the stream the ops run on (the GPU through conftest's gpu fixture)"""
    if request.param == "gpu":
        return request.getfixturevalue("gpu")
    return mx.cpu


def _bits(a):
    return np.array(a.view(mx.uint32 if a.dtype == mx.float32 else mx.uint16))


def _from_bits(b, dname):
    return mx.array(b).view(DTS[dname])


def _w(dname):
    return _from_bits(DATA[f"w_{dname}"], dname)


def _activations(rows):
    """gen_quant_edge.activations: x (3, 128) and xt (3, rows), float32"""
    rng = np.random.default_rng(2)
    return (rng.standard_normal((3, 128)).astype(np.float32),
            rng.standard_normal((3, rows)).astype(np.float32))


def _diff(got, want, what):
    """assert equal, naming the first differing positions."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    bad = np.argwhere(got != want)
    assert bad.size == 0, f"{what}: {len(bad)} differ, first at {bad[:5].tolist()}: " \
        f"got {[got[tuple(i)] for i in bad[:5]]}, want {[want[tuple(i)] for i in bad[:5]]}"


def test_inputs_are_adversarial():
    """the recorded inputs hold what the file promises (so the test cannot pass on tame data)"""
    w = np.array(_w("f32"))
    assert np.isnan(w).any() and np.isposinf(w).any() and np.isneginf(w).any()
    assert (np.abs(w[np.isfinite(w)]) < np.finfo(np.float32).tiny).sum() > 50
    assert (np.abs(w) == np.finfo(np.float32).max).any()
    assert np.isnan(w.reshape(-1, 16)).all(axis=1).any()
    assert np.isinf(np.array(_w("f16").astype(mx.float32))).sum() > np.isinf(w).sum()


@pytest.mark.parametrize("dname", list(DTS))
@pytest.mark.parametrize("bits,gs", AFFINE)
def test_affine(bits, gs, dname, dev):
    key = f"affine_{bits}_{gs}_{dname}"
    wq, s, b = mx.quantize(_w(dname), gs, bits, "affine", stream=dev)
    _diff(np.array(wq), DATA[key + "_wq"], key + " w_q")
    _diff(_bits(s), DATA[key + "_s"], key + " scales")
    _diff(_bits(b), DATA[key + "_b"], key + " biases")
    # dequantize MLX's own packing (not ours), so each half is tested alone
    d = mx.dequantize(mx.array(DATA[key + "_wq"]), _from_bits(DATA[key + "_s"], dname),
                      _from_bits(DATA[key + "_b"], dname), gs, bits, "affine", stream=dev)
    assert d.dtype == DTS[dname]
    _diff(_bits(d), DATA[key + "_dq"], key + " dequantize")


def _fp_case(mode, gi, dname):
    if gi is None:
        return f"{mode}_{4 if mode != 'mxfp8' else 8}_{32 if mode != 'nvfp4' else 16}_{dname}", None
    return f"nvfp4_g{gi}_{dname}", mx.array(GLOBALS[gi], mx.float32)


@pytest.mark.parametrize("dname", list(DTS))
@pytest.mark.parametrize("mode,bits,gs,gi", FP)
def test_fp_quantize(mode, bits, gs, gi, dname, dev):
    key, g = _fp_case(mode, gi, dname)
    wq, s = mx.quantize(_w(dname), gs, bits, mode, global_scale=g, stream=dev)
    assert s.dtype == mx.uint8
    _diff(np.array(s), DATA[key + "_s"], key + " scales")
    _diff(np.array(wq), DATA[key + "_wq"], key + " w_q")


@pytest.mark.parametrize("odt", [("_dq", mx.bfloat16), ("_dq16", mx.float16),
                                 ("_dq32", mx.float32)], ids=["bf16", "f16", "f32"])
@pytest.mark.parametrize("dname", list(DTS))
@pytest.mark.parametrize("mode,bits,gs,gi", FP)
def test_fp_dequantize(mode, bits, gs, gi, dname, odt, dev):
    key, g = _fp_case(mode, gi, dname)
    suf, dt = odt
    d = mx.dequantize(mx.array(DATA[key + "_wq"]), mx.array(DATA[key + "_s"]), None, gs, bits,
                      mode, global_scale=g, dtype=dt, stream=dev)
    # MLX: a (float32) global scale promotes the output to float32
    assert d.dtype == (dt if g is None else mx.float32)
    _diff(_bits(d), DATA[key + suf], key + suf)


@pytest.mark.parametrize("xname", list(DTS))
@pytest.mark.parametrize("dname", list(DTS))
@pytest.mark.parametrize("mode,bits,gs,gi", FP[:3])
def test_fp_quantized_matmul(mode, bits, gs, gi, dname, xname):
    """products bit for bit, inf and NaN weights included: float32 x in float32, half x in
    its type (CPU: the GPU sums in another order)"""
    key, _ = _fp_case(mode, gi, dname)
    sfx = "" if xname == "f32" else "_" + xname
    wq, s = mx.array(DATA[key + "_wq"]), mx.array(DATA[key + "_s"])
    x, xt = (mx.array(a).astype(DTS[xname]) for a in _activations(wq.shape[0]))
    y = mx.quantized_matmul(x, wq, s, None, True, gs, bits, mode)
    assert y.dtype == DTS[xname]
    _diff(_bits(y), DATA[key + "_mm" + sfx], key + " quantized_matmul " + xname)
    yt = mx.quantized_matmul(xt, wq, s, None, False, gs, bits, mode)
    _diff(_bits(yt), DATA[key + "_mmT" + sfx], key + " quantized_matmul transpose=False " + xname)


_FP_CHILD = r"""
import hashlib, numpy as np, mlxc.core as mx
h = hashlib.sha256()
w = mx.random.normal((300, 512), key=mx.random.key(3)) * 4
for mode in ("mxfp4", "mxfp8", "nvfp4"):
    r = mx.quantize(w, mode=mode)
    for M in (1, 3, 9):
        for dt in (mx.float32, mx.bfloat16):
            x = mx.random.normal((M, 512), key=mx.random.key(M)).astype(dt)
            y = mx.quantized_matmul(x, *r, None, True, mode=mode).astype(mx.float32)
            h.update(np.array(y).tobytes())
            xt = mx.random.normal((M, 300), key=mx.random.key(M + 9)).astype(dt)
            y = mx.quantized_matmul(xt, *r, None, False, mode=mode).astype(mx.float32)
            h.update(np.array(y).tobytes())
print(h.hexdigest())
"""


@pytest.mark.mlxc_only
def test_fp_quantized_matmul_same_bits_at_every_level():
    """the floating modes' products are one fixed chain per output: the same bits at
    every SIMD level and thread count (the affine matvec's lanes differ by level)"""
    digests = set()
    for isa in _isas():
        for n in ("1", "2"):
            r = subprocess.run([sys.executable, "-c", _FP_CHILD], capture_output=True, text=True,
                               cwd=CHILD_CWD, env=child_env(MLXC_NUM_THREADS=n, MLXC_CPU_ISA=isa),
                               timeout=300)
            assert r.returncode == 0, r.stderr
            digests.add(r.stdout.strip())
    assert len(digests) == 1, digests


@pytest.mark.parametrize("xname", list(DTS))
@pytest.mark.parametrize("mode,bits,gs,gi", FP[:3])
def test_fp_gather_qmm(mode, bits, gs, gi, xname):
    """gather_qmm over edge weights: MLX's bits (half x in its type)"""
    w3 = _w("f32")[:15].reshape(3, 5, 128)
    wq, s = mx.quantize(w3, gs, bits, mode)
    x = _activations(1)[0]
    xg = (mx.array(x[:2, None].repeat(3, 1)).astype(DTS[xname])
          * mx.array([1.0, -2.0, 0.5])[:, None]).astype(DTS[xname])
    lhs = mx.array(np.array([[0, 1], [1, 0]], np.uint32))      # gen_quant_edge.LHS / RHS
    rhs = mx.array(np.array([[2, 0], [1, 1]], np.uint32))
    y = mx.gather_qmm(xg, wq, s, None, lhs, rhs, True, gs, bits, mode)
    assert y.dtype == DTS[xname]
    _diff(_bits(y), DATA[f"gq_{mode}_{xname}"], f"gather_qmm {mode} {xname}")
