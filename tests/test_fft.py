"""mx.fft against numpy.fft in float64 (the oracle), MLX's recorded stft/istft outputs,
the transpose identity and finite differences (vjp), a Python loop (vmap), and child
interpreters for thread-count and SIMD-level independence."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx
from helpers import CHILD_CWD, child_env

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
sys.path.insert(0, DATA)
from fft_cases import STFT_CASES, signal  # noqa: E402

LENGTHS = [1, 2, 3, 5, 7, 8, 11, 13, 16, 60, 97, 128, 1000, 1024, 4096, 60060, 65521]


def bound(n):
    """the accuracy target for complex64: relative L2 error <= 1e-6 log2(n)"""
    return 1e-6 * max(np.log2(n), 1.0)


def rel(a, ref):
    a = np.asarray(a)
    return np.linalg.norm(a.astype(np.complex128) - ref) / max(np.linalg.norm(ref), 1e-300)


def crand(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def rrand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------ accuracy by length
@pytest.mark.parametrize("n", LENGTHS)
def test_lengths_against_float64(n):
    x, xr = crand(n, n), rrand(n, n + 1)
    h = crand(n // 2 + 1, n + 2)
    xd = x.astype(np.complex128)
    cases = [
        (mx.fft.fft(mx.array(x)), np.fft.fft(xd)),
        (mx.fft.ifft(mx.array(x)), np.fft.ifft(xd)),
        (mx.fft.rfft(mx.array(xr)), np.fft.rfft(xr.astype(np.float64))),
        (mx.fft.irfft(mx.array(h), n=n), np.fft.irfft(h.astype(np.complex128), n=n)),
    ]
    for got, ref in cases:
        assert got.shape == ref.shape
        assert rel(got, ref) <= bound(n), (n, rel(got, ref))


@pytest.mark.parametrize("n", [1, 7, 1000, 4096, 65521])
def test_float64_input_is_computed_in_double(n):
    """float64 input: the result is the float64 transform rounded once (complex64 out)."""
    x = np.random.default_rng(n).standard_normal(n)
    a = mx.array(x, dtype=mx.float64)
    for got, ref in [(mx.fft.fft(a), np.fft.fft(x)), (mx.fft.rfft(a), np.fft.rfft(x)),
                     (mx.fft.ifft(a), np.fft.ifft(x))]:
        assert got.dtype == mx.complex64
        rounding = rel(ref.astype(np.complex64), ref)
        assert rel(got, ref) <= rounding * 1.01 + 1e-12
    got = mx.fft.irfft(a, n=2 * n - 2 if n > 1 else 1)
    ref = np.fft.irfft(x, n=2 * n - 2 if n > 1 else 1)
    assert got.dtype == mx.float32
    assert rel(got, ref) <= rel(ref.astype(np.float32), ref) * 1.01 + 1e-12


def test_dtypes():
    assert mx.fft.fft(mx.array([1, 2, 3])).dtype == mx.complex64
    assert mx.fft.fft(mx.array([True, False])).dtype == mx.complex64
    assert mx.fft.rfft(mx.array([1.0, 2.0], mx.float16)).dtype == mx.complex64
    assert mx.fft.irfft(mx.array([1.0, 2.0, 3.0])).dtype == mx.float32
    got = mx.fft.fft(mx.array(np.arange(6).reshape(2, 3)))
    np.testing.assert_allclose(np.array(got), np.fft.fft(np.arange(6).reshape(2, 3)),
                               atol=1e-5)
    # complex input to rfft: its real part, as MLX
    z = crand(8, 3)
    assert rel(mx.fft.rfft(mx.array(z)), np.fft.rfft(z.real.astype(np.float64))) < 1e-6


# ------------------------------------------------------------------ norms, axes, sizes
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_norm_modes(norm):
    x = crand((3, 12), 1)
    xr = rrand((3, 10), 2)
    xd = x.astype(np.complex128)
    for f, g, a in [("fft", np.fft.fft, x), ("ifft", np.fft.ifft, x),
                    ("fftn", np.fft.fftn, x), ("ifftn", np.fft.ifftn, x),
                    ("rfft", np.fft.rfft, xr), ("rfftn", np.fft.rfftn, xr),
                    ("irfft", np.fft.irfft, x), ("irfftn", np.fft.irfftn, x),
                    ("fft2", np.fft.fft2, x), ("irfft2", np.fft.irfft2, x)]:
        got = getattr(mx.fft, f)(mx.array(a), norm=norm)
        ref = g(a.astype(np.complex128) if a.dtype == np.complex64 else a.astype(np.float64),
                norm=norm)
        assert got.shape == ref.shape, f
        assert rel(got, ref) < 1e-6, (f, norm)
    del xd


ND_CASES = [
    ("fftn", dict()), ("ifftn", dict(s=[5, 13], axes=[0, 2])), ("fft2", dict(s=[7, 9])),
    ("fft2", dict(axes=[0, 2])), ("ifft2", dict(s=[3, 4], axes=[2, 0])),
    ("fftn", dict(s=[4, 8, 16], axes=[0, 1, 2])), ("rfftn", dict()),
    ("rfft2", dict(s=[4, 9], axes=[0, 1])), ("rfftn", dict(s=[3, 7], axes=[2, 0])),
    ("irfftn", dict()), ("irfftn", dict(s=[5, 7], axes=[1, 0])), ("irfft2", dict(s=[4, 9])),
    ("irfft2", dict(axes=[0, 1])),
]


@pytest.mark.parametrize("name,kw", ND_CASES)
def test_axes_and_sizes(name, kw):
    real_in = name.startswith("rfft")
    x = rrand((6, 10, 12), 3) if real_in else crand((6, 10, 12), 3)
    got = getattr(mx.fft, name)(mx.array(x), **kw)
    ref = getattr(np.fft, name)(x.astype(np.float64 if real_in else np.complex128), **kw)
    assert got.shape == ref.shape
    assert rel(got, ref) < 2e-6


def test_one_axis_forms():
    x = crand((4, 9, 5), 4)
    xd = x.astype(np.complex128)
    for axis in (0, 1, 2, -1, -2):
        for n in (None, 3, 9, 14):
            assert rel(mx.fft.fft(mx.array(x), n=n, axis=axis),
                       np.fft.fft(xd, n=n, axis=axis)) < 1e-6
            assert rel(mx.fft.rfft(mx.array(x.real), n=n, axis=axis),
                       np.fft.rfft(xd.real, n=n, axis=axis)) < 1e-6
            assert rel(mx.fft.irfft(mx.array(x), n=n, axis=axis),
                       np.fft.irfft(xd, n=n, axis=axis)) < 1e-6
    # strided / transposed views as input
    v = mx.array(x)[:, ::2, 1:4].T
    assert rel(mx.fft.fft(v, axis=1), np.fft.fft(xd[:, ::2, 1:4].T, axis=1)) < 1e-6
    # an empty batch
    assert mx.fft.fft(mx.zeros((3, 0)), axis=0).shape == (3, 0)
    # empty axes: the input unchanged, as MLX
    a = mx.ones((2, 2))
    assert mx.fft.fftn(a, axes=[]) is a


def test_batched_rows_large():
    """many rows: grouped lanes; and single rows long enough for the four-step plan"""
    x = rrand((33, 4096), 5)
    assert rel(mx.fft.rfft(mx.array(x)), np.fft.rfft(x.astype(np.float64))) < bound(4096)
    z = crand((3, 1 << 15), 6)
    assert rel(mx.fft.fft(mx.array(z)), np.fft.fft(z.astype(np.complex128), axis=-1)) \
        < bound(1 << 15)
    z = crand((257, 64), 7)
    assert rel(mx.fft.fft(mx.array(z), axis=0), np.fft.fft(z.astype(np.complex128), axis=0)) \
        < bound(257)


def test_four_step_inputs():
    """long lines (four-step plan) read straight from strided / real / float64 inputs"""
    z = crand((20000, 3), 8)
    assert rel(mx.fft.fft(mx.array(z), axis=0), np.fft.fft(z.astype(np.complex128), axis=0)) \
        < bound(20000)
    assert rel(mx.fft.ifft(mx.array(z), axis=0, norm="ortho"),
               np.fft.ifft(z.astype(np.complex128), axis=0, norm="ortho")) < bound(20000)
    r = rrand((2, 20000), 9)
    assert rel(mx.fft.ifft(mx.array(r)), np.fft.ifft(r.astype(np.float64))) < bound(20000)
    d = np.random.default_rng(10).standard_normal((20000, 2))
    got = mx.fft.fft(mx.array(d, dtype=mx.float64), axis=0)
    ref = np.fft.fft(d, axis=0)
    assert rel(got, ref) <= rel(ref.astype(np.complex64), ref) * 1.01


def test_shift_and_freq():
    a = np.arange(24).reshape(4, 6)
    for axes in (None, 0, 1, [0, 1], (1,)):
        np.testing.assert_array_equal(np.array(mx.fft.fftshift(mx.array(a), axes=axes)),
                                      np.fft.fftshift(a, axes=axes))
        np.testing.assert_array_equal(np.array(mx.fft.ifftshift(mx.array(a), axes=axes)),
                                      np.fft.ifftshift(a, axes=axes))
    for n in (1, 4, 7):
        for d in (1.0, 0.3):
            f = mx.fft.fftfreq(n, d)
            assert f.dtype == mx.float32
            np.testing.assert_allclose(np.array(f), np.fft.fftfreq(n, d), rtol=1e-6)
            np.testing.assert_allclose(np.array(mx.fft.rfftfreq(n, d)), np.fft.rfftfreq(n, d),
                                       rtol=1e-6)


# ------------------------------------------------------------------ errors
def test_bad_input():
    a = mx.ones((2, 3))
    with pytest.raises(ValueError, match=r"Invalid FFT output size requested \(0\)"):
        mx.fft.fft(a, n=0)
    with pytest.raises(ValueError, match=r"Invalid FFT output size requested \(-1\)"):
        mx.fft.rfft(a, n=-1)
    with pytest.raises(ValueError, match=r"Invalid FFT output size requested \(0\)"):
        mx.fft.irfft(mx.ones((1,)))          # default n = 2 * (1 - 1)
    with pytest.raises(ValueError, match=r"Invalid FFT output size requested \(0\)"):
        mx.fft.fft(mx.ones((0,)))
    with pytest.raises(IndexError, match="Invalid axis 2"):
        mx.fft.fft(a, axis=2)
    with pytest.raises(IndexError, match="Invalid axis -3"):
        mx.fft.fft2(a, axes=[-3, 0])
    with pytest.raises(IndexError, match="Invalid axis"):
        mx.fft.fft(mx.array(1.0))
    with pytest.raises(ValueError, match=r"Duplicated axis received \(0,0\)"):
        mx.fft.fft2(a, axes=[0, 0])
    with pytest.raises(ValueError, match=r"Duplicated axis"):
        mx.fft.fftn(a, axes=[1, -1])
    with pytest.raises(ValueError, match="Shape and axes have different sizes"):
        mx.fft.fftn(a, s=[2], axes=[0, 1])
    with pytest.raises(ValueError, match="`axes` should not be `None` if `s` is not `None`"):
        mx.fft.fftn(a, s=[2, 2])
    with pytest.raises(ValueError, match="Invalid norm"):
        mx.fft.fft(a, norm="bad")
    with pytest.raises(TypeError):
        mx.fft.fft(a, n=2.5)
    with pytest.raises(TypeError):
        mx.fft.fft([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[fftfreq\] `n` must be greater than 0"):
        mx.fft.fftfreq(0)
    with pytest.raises(ValueError, match=r"\[rfftfreq\] `n` must be greater than 0"):
        mx.fft.rfftfreq(-2)
    with pytest.raises(IndexError, match=r"\[fftshift\] Invalid axis 3"):
        mx.fft.fftshift(mx.arange(6), axes=[3])
    with pytest.raises(ValueError, match="pad_mode"):
        mx.fft.stft(mx.ones((20,)), n_fft=8, pad_mode="wrap")
    with pytest.raises(ValueError, match="win_length"):
        mx.fft.stft(mx.ones((20,)), n_fft=8, win_length=9)
    with pytest.raises(ValueError, match="window"):
        mx.fft.stft(mx.ones((20,)), n_fft=8, window=mx.ones((5,)))


# ------------------------------------------------------------------ transforms
def _inner(a, b):
    """the real inner product Re(sum(conj(a) b)) under which vjp is the adjoint"""
    return float(np.real(np.vdot(np.asarray(a).astype(np.complex128).ravel(),
                                  np.asarray(b).astype(np.complex128).ravel())))


TRANSFORMS = [
    ("fft", lambda a: mx.fft.fft(a, n=10), crand((3, 8), 10), (3, 10)),
    ("ifft_ortho", lambda a: mx.fft.ifft(a, norm="ortho", axis=0), crand((5, 4), 11), None),
    ("fft_real_in", lambda a: mx.fft.fft(a), rrand((7,), 12), None),
    ("rfft", lambda a: mx.fft.rfft(a), rrand((2, 9), 13), None),
    ("rfft_even_fwd", lambda a: mx.fft.rfft(a, norm="forward"), rrand((10,), 14), None),
    ("irfft_even", lambda a: mx.fft.irfft(a), crand((4, 6), 15), None),
    ("irfft_odd", lambda a: mx.fft.irfft(a, n=9, norm="ortho"), crand((5,), 16), None),
    ("fft2", lambda a: mx.fft.fft2(a, s=[3, 5]), crand((4, 4), 17), None),
    ("rfftn", lambda a: mx.fft.rfftn(a), rrand((4, 6), 18), None),
    ("irfftn", lambda a: mx.fft.irfftn(a, s=[3, 6], axes=[0, 1]), crand((3, 4), 19), None),
]


@pytest.mark.parametrize("name,f,x,_", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_vjp_is_the_adjoint_and_jvp_the_map(name, f, x, _):
    """<g, J t> = <vjp(g), t> for random t and g; jvp(t) = f(t) (the maps are linear)."""
    xa = mx.array(x)
    y = f(xa)
    rng = np.random.default_rng(1)
    t = crand(x.shape, 2) if x.dtype == np.complex64 else rrand(x.shape, 2)
    g = (rng.standard_normal(y.shape) + 1j * rng.standard_normal(y.shape)).astype(np.complex64)
    if y.dtype == mx.float32:
        g = g.real.copy()
    _, (ct,) = mx.vjp(f, [xa], [mx.array(g)])
    _, (jt,) = mx.jvp(f, [xa], [mx.array(t)])
    assert ct.dtype == xa.dtype and ct.shape == xa.shape
    assert rel(jt, np.asarray(f(mx.array(t))).astype(np.complex128)) < 1e-6
    lhs, rhs = _inner(g, jt), _inner(ct, t)
    assert abs(lhs - rhs) <= 1e-5 * (abs(lhs) + np.linalg.norm(g) * np.linalg.norm(t))


def test_grad_finite_differences():
    x = rrand((6, 5), 20).astype(np.float64)

    def loss_np(v):
        return float(np.sum(np.abs(np.fft.rfft(v, axis=0)) ** 2 * np.arange(1, 5)[:, None])
                     + np.sum(np.fft.irfft(np.fft.fft(v, axis=1), n=7) ** 3))

    def loss_mx(v):
        w = mx.array(np.arange(1, 5, dtype=np.float32))[:, None]
        return (mx.sum(mx.abs(mx.fft.rfft(v, axis=0)) ** 2 * w)
                + mx.sum(mx.fft.irfft(mx.fft.fft(v, axis=1), n=7) ** 3))

    g = np.array(mx.grad(loss_mx)(mx.array(x, dtype=mx.float64)))
    eps = 1e-5
    for idx in [(0, 0), (2, 3), (5, 4), (3, 1)]:
        d = np.zeros_like(x)
        d[idx] = eps
        fd = (loss_np(x + d) - loss_np(x - d)) / (2 * eps)
        assert abs(g[idx] - fd) <= 1e-4 * max(1.0, abs(fd)), (idx, g[idx], fd)


def test_vmap_matches_loop():
    x = crand((4, 6, 8), 21)
    xr = rrand((4, 6, 8), 22)
    for f, a in [(lambda v: mx.fft.fft(v, n=5), x), (lambda v: mx.fft.rfft2(v), xr),
                 (lambda v: mx.fft.irfft(v, axis=0), x), (lambda v: mx.fft.ifftn(v), x)]:
        for ax in (0, 1, 2):
            got = np.array(mx.vmap(f, in_axes=ax)(mx.array(a)))
            ref = np.stack([np.array(f(mx.array(np.take(a, i, axis=ax))))
                            for i in range(a.shape[ax])])
            np.testing.assert_array_equal(got, ref)


# ------------------------------------------------------------------ stft / istft
def _kw(kw, hann):
    kw = dict(kw)
    if kw.get("window") == "hann":
        kw["window"] = mx.array(hann)
    return kw


@pytest.mark.parametrize("name,kw", STFT_CASES, ids=[c[0] for c in STFT_CASES])
def test_stft_matches_mlx(name, kw):
    ref = np.load(os.path.join(DATA, "fft_reference.npz"))
    x, _, hann = signal()
    kw = _kw(kw, hann)
    s = mx.fft.stft(mx.array(x), **kw)
    np.testing.assert_allclose(np.array(s), ref["stft_" + name], rtol=1e-5, atol=2e-5)
    if "istft_" + name in ref:
        ikw = {k: v for k, v in kw.items() if k != "pad_mode"}
        y = mx.fft.istft(s, **ikw)
        np.testing.assert_allclose(np.array(y), ref["istft_" + name], rtol=1e-5, atol=2e-5)


def test_stft_complex_and_length():
    ref = np.load(os.path.join(DATA, "fft_reference.npz"))
    x, xc, _ = signal()
    s = mx.fft.stft(mx.array(xc), n_fft=8)
    np.testing.assert_allclose(np.array(s), ref["stft_complex"], rtol=1e-5, atol=2e-5)
    y = mx.fft.istft(s, n_fft=8, onesided=False)
    np.testing.assert_allclose(np.array(y), ref["istft_complex"], rtol=1e-5, atol=2e-5)
    y = mx.fft.istft(mx.fft.stft(mx.array(x), n_fft=16), length=45)
    np.testing.assert_allclose(np.array(y), ref["istft_length"], rtol=1e-5, atol=2e-5)
    # a length past the signal keeps the overlap-added tail, then zeros (as MLX)
    y = mx.fft.istft(mx.fft.stft(mx.array(x), n_fft=16), length=70)
    np.testing.assert_allclose(np.array(y), ref["istft_long"], rtol=1e-5, atol=2e-5)
    y = mx.fft.istft(mx.fft.stft(mx.array(x), n_fft=16, center=False), center=False, length=70)
    np.testing.assert_allclose(np.array(y), ref["istft_long_nocenter"], rtol=1e-5, atol=2e-5)


def test_stft_round_trip():
    x = rrand((3, 200), 23)
    w = mx.array(np.hanning(64).astype(np.float32))
    s = mx.fft.stft(mx.array(x), n_fft=64, hop_length=16, window=w)
    y = mx.fft.istft(s, n_fft=64, hop_length=16, window=w, length=200)
    np.testing.assert_allclose(np.array(y), x, atol=1e-5)


# ------------------------------------------------------------------ thread count, ISA
_CHILD = r"""
import hashlib, numpy as np, mlxc.core as mx
rng = np.random.default_rng(0)
def c(*s): return mx.array((rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(np.complex64))
def r(*s): return mx.array(rng.standard_normal(s).astype(np.float32))
outs = [mx.fft.fft(c(1 << 16)), mx.fft.fft(c(65521)), mx.fft.ifft(c(60060)),
        mx.fft.rfft(r(37, 1000)), mx.fft.irfft(c(5, 2049)), mx.fft.fft(c(300, 40), axis=0),
        mx.fft.rfft2(r(64, 96)), mx.fft.fft(c(4, 20000)), mx.fft.rfft(mx.array(
        rng.standard_normal(4097), dtype=mx.float64))]
mx.eval(outs)
h = hashlib.sha256()
for o in outs: h.update(np.asarray(o).tobytes())
print(h.hexdigest())
"""


def _child(**env):
    return subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, cwd=CHILD_CWD,
                          env=child_env(**env), timeout=300, check=True).stdout.strip()


def test_thread_count_invariance():
    one = _child(MLXC_NUM_THREADS="1")
    assert len(one) == 64
    assert _child(MLXC_NUM_THREADS="2") == one
    assert _child(MLXC_NUM_THREADS="3") == one


_ISA_CHILD = r"""
import numpy as np, mlxc.core as mx
rng = np.random.default_rng(1)
worst = 0.0
for n in (7, 60, 97, 1024, 4096, 60060, 65521):
    x = (rng.standard_normal((2, n)) + 1j * rng.standard_normal((2, n))).astype(np.complex64)
    for got, ref in [(mx.fft.fft(mx.array(x)), np.fft.fft(x.astype(np.complex128))),
                     (mx.fft.rfft(mx.array(x.real)), np.fft.rfft(x.real.astype(np.float64))),
                     (mx.fft.irfft(mx.array(x)), np.fft.irfft(x.astype(np.complex128)))]:
        e = np.linalg.norm(np.asarray(got) - ref) / np.linalg.norm(ref)
        worst = max(worst, e / (1e-6 * np.log2(n)))
print(worst)
"""


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512"])
def test_simd_levels(isa):
    out = subprocess.run([sys.executable, "-c", _ISA_CHILD], capture_output=True,
                         cwd=CHILD_CWD, env=child_env(MLXC_CPU_ISA=isa), timeout=300,
                         check=True).stdout
    assert float(out) <= 1.0
