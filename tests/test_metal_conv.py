"""The GPU convolution (metal/conv.metal: the body of metal/gemm.metal as an implicit GEMM) vs the CPU
primitive: 1-3 spatial dims, strides, padding (incl. asymmetric), kernel and input
dilation, groups (incl. depthwise), flip, transposed convolutions (input dilation and
negative padding through their rules), strided inputs, every GPU float dtype.

The unfold copies elements, so the only difference from the CPU is the GEMM's summation
order: the bound is test_metal_gemm's, with K = taps * C_in / groups and |x| (*) |w|
computed in float64 by the CPU primitive on the absolute values.  Every case runs at
every lane order of the emulated device.
"""
import numpy as np
import pytest

import mlxc.core as mx
from test_metal_gemm import FLOATS, assert_gemm_close, f64, rand
from test_metal_kernels import lanes  # noqa: F401  (a fixture)


def _check(dt, x, w, **kw):
    with mx.stream(mx.gpu):
        g = mx.conv_general(x, w, **kw)
    c = mx.conv_general(x, w, **kw)
    mx.eval(g, c)
    # |x| (*) |w| in float64: the bound's sum of magnitudes
    ax = mx.array(np.abs(f64(x)).astype(np.float32))
    aw = mx.array(np.abs(f64(w)).astype(np.float32))
    absprod = f64(mx.conv_general(ax, aw, **kw))
    K = int(np.prod(w.shape[1:]))
    assert_gemm_close(g, c, absprod * (1 + 1e-6), K, dt)
    return g


@pytest.mark.parametrize("dt", FLOATS)
def test_conv1d(lanes, dt):
    x = rand((2, 23, 6), dt, 1)
    _check(dt, x, rand((5, 3, 6), dt, 2))
    _check(dt, x, rand((8, 4, 3), dt, 3), stride=2, padding=([3], [1]), kernel_dilation=2,
           groups=2)
    _check(dt, x, rand((6, 3, 1), dt, 4), padding=1, groups=6)                  # depthwise
    _check(dt, x, rand((4, 3, 6), dt, 5), input_dilation=3, padding=2, flip=True)


@pytest.mark.parametrize("dt", FLOATS)
def test_conv2d(lanes, dt):
    x = rand((2, 9, 11, 4), dt, 1)
    _check(dt, x, rand((7, 3, 2, 4), dt, 2), stride=(2, 1), padding=(1, 2))
    _check(dt, x, rand((6, 2, 3, 2), dt, 3), kernel_dilation=(2, 1), input_dilation=(1, 2),
           groups=2, flip=True)
    # a strided (non-contiguous) input and a transposed (non-contiguous) kernel
    xs = rand((2, 18, 11, 4), dt, 4)[:, ::2]
    ws = rand((3, 2, 4, 5), dt, 5).transpose(3, 0, 1, 2)
    _check(dt, xs, ws, padding=1)


def test_conv3d(lanes):
    x = rand((1, 5, 6, 7, 4), "float32", 1)
    _check("float32", x, rand((4, 2, 3, 2, 4), "float32", 2), stride=(1, 2, 1),
           padding=([1, 0, 2], [0, 1, 1]), kernel_dilation=(1, 1, 2))
    _check("float32", x, rand((2, 2, 2, 2, 2), "float32", 3), groups=2, input_dilation=2,
           flip=True)


def test_conv_transpose_and_grads(lanes):
    """conv_transpose (input dilation, flip) and the conv's gradients (negative padding
    crops) run as Convolution nodes on the GPU too."""
    x = rand((2, 8, 8, 4), "float32", 1)
    w = rand((6, 3, 3, 4), "float32", 2)
    wt = rand((6, 3, 3, 4), "float32", 5)
    with mx.stream(mx.gpu):
        g = mx.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1)
    c = mx.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1)
    ax = mx.array(np.abs(f64(x)).astype(np.float32))
    awt = mx.array(np.abs(f64(wt)).astype(np.float32))
    absprod = f64(mx.conv_transpose2d(ax, awt, stride=2, padding=1, output_padding=1))
    assert_gemm_close(g, c, absprod * (1 + 1e-6), 9 * 4, "float32")

    def loss(x, w):
        return (mx.conv2d(x, w, stride=2, padding=1) ** 2).sum()

    with mx.stream(mx.gpu):
        gx, gw = mx.grad(loss, argnums=(0, 1))(x, w)
        mx.eval(gx, gw)
    cx, cw = mx.grad(loss, argnums=(0, 1))(x, w)
    for a, b in ((gx, cx), (gw, cw)):
        np.testing.assert_allclose(f64(a), f64(b), rtol=1e-4, atol=1e-4 * np.abs(f64(b)).max())


def test_conv_bad_input(gpu):
    x64 = mx.ones((1, 5, 2), mx.float64)
    with pytest.raises(TypeError, match="float64"):
        mx.eval(mx.conv1d(x64, mx.ones((1, 2, 2), mx.float64), stream=mx.gpu))
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises(ValueError):
            mx.conv1d(mx.ones((1, 5, 2)), mx.ones((1, 2, 3)), stream=stream)
