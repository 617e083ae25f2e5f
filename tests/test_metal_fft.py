"""The FFT Metal kernels (metal/fft.metal) against the CPU's FFT on the same inputs, at
every lane order of the emulated device.

Oracle: the CPU transform (tested against numpy in test_fft.py).  The GPU's association
differs (radix-4/2 Stockham passes, Bluestein's convolution through them), so the
comparison allows |gpu - cpu| <= 4 * log2(n) * eps32 * max|cpu|: both errors grow as
log n (measured: at most 1.3 * log2(n) * eps32 * max|cpu| over the sizes below and
n = 4096, 8192, 3000).
"""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import internal
from test_metal_kernels import lanes  # noqa: F401  (the lane-order fixture)

_node_device = internal("mlxc._core.array", "_node_device")
EPS32 = 2.0 ** -23

# In threadgroup memory: Stockham radix 4 only (16, 64), radix 4 + 2 (2, 8, 32), the
# largest (1024); Bluestein (3, 6, 7, 12, 100, 511).  Pass by pass over device buffers:
# Stockham (2048: radix 4 passes and a radix 2 one), Bluestein (513, 1000; m = 2048).
SIZES = [1, 2, 8, 16, 32, 64, 1024, 3, 6, 7, 12, 100, 511, 513, 1000, 2048]


def crand(shape, seed):
    r = np.random.default_rng(seed)
    z = (r.standard_normal(shape) + 1j * r.standard_normal(shape)).astype(np.complex64)
    return mx.array(z)


def rrand(shape, seed):
    return mx.array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def both(f, n):
    with mx.stream(mx.gpu):
        g = f()
    assert _node_device(g) == 1
    c = f()
    mx.eval(g, c)
    assert g.dtype == c.dtype and g.shape == c.shape
    a, b = np.array(g), np.array(c)
    tol = 4 * max(np.log2(n), 1.0) * EPS32 * max(np.abs(b).max(), 1e-30)
    err = np.abs(a - b).max() if a.size else 0.0
    assert err <= tol, (n, err / (EPS32 * max(np.abs(b).max(), 1e-30)))


@pytest.mark.parametrize("n", SIZES)
def test_fft_kinds(n, lanes):
    rows = 1 if n > 512 else 3                     # big lines: one (the emulator is slow)
    xc = crand((rows, n), n)
    xr = rrand((rows, n), n + 1)
    both(lambda: mx.fft.fft(xc), n)
    both(lambda: mx.fft.ifft(xc), n)
    both(lambda: mx.fft.fft(xr), n)                # real input, complex transform
    both(lambda: mx.fft.rfft(xr), n)
    half = xc[:, : n // 2 + 1]
    both(lambda: mx.fft.irfft(half, n=n), n)


def test_fft_layouts_axes_and_norms(lanes):
    x = crand((6, 8, 5), 1)
    both(lambda: mx.fft.fft(x, axis=1), 8)                     # inner lines (stride 5)
    both(lambda: mx.fft.fft(x, axis=0, norm="ortho"), 6)        # Bluestein, outer axis
    both(lambda: mx.fft.ifft(mx.swapaxes(x, 0, 2), axis=1, norm="forward"), 8)
    both(lambda: mx.fft.fft(x[1:5, ::2, 1:4], axis=1), 4)       # offset + strided view
    xr = rrand((4, 12, 16), 2)
    both(lambda: mx.fft.rfft2(xr), 16)                          # R2C then C2C
    both(lambda: mx.fft.irfftn(mx.fft.rfftn(xr)), 16)           # C2C_INV then C2R
    both(lambda: mx.fft.rfft(mx.transpose(xr), axis=0), 16)     # column lines
    both(lambda: mx.fft.irfft(x, n=7, axis=1), 7)               # odd C2R output length
    # long lines (device passes), several of them, strided
    y = crand((3, 2048, 2), 3)
    both(lambda: mx.fft.fft(y, axis=1), 2048)
    both(lambda: mx.fft.ifft(y[:, :600], axis=1), 600)
    yr = rrand((2, 1100), 4)
    both(lambda: mx.fft.rfft(yr), 1100)
    both(lambda: mx.fft.irfft(mx.fft.rfft(yr), n=1100), 1100)


def test_fft_gpu_errors(gpu):
    d = mx.array(np.arange(4.0), dtype=mx.float64)
    with pytest.raises(TypeError, match="float64 is not supported on the GPU"):
        mx.eval(mx.fft.fft(d, stream=mx.gpu))
    x = crand((4,), 3)
    with pytest.raises(ValueError, match=r"Invalid FFT output size requested \(0\)"):
        mx.fft.fft(x, n=0, stream=mx.gpu)
    with pytest.raises(IndexError, match="Invalid axis 3"):
        mx.fft.fft(x, axis=3, stream=mx.gpu)
    e = mx.zeros((0, 4), dtype=mx.complex64)
    with mx.stream(mx.gpu):
        r = mx.fft.fft(e)
    mx.eval(r)
    assert r.shape == (0, 4)
