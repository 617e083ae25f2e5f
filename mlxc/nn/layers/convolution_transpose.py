"""ConvTranspose1d/2d/3d on channels-last inputs, as MLX."""

import math
from typing import Union

import mlxc.core as mx
from mlxc.nn.layers.base import Module


def _tuple(value, n):
    return (value,) * n if isinstance(value, int) else value


class _ConvTransposeNd(Module):
    """Weight (out, *kernel, in) drawn from U(-s, s), s = 1/sqrt(in * prod(kernel));
    bias zeros. Calls ``mx.conv_transpose{n}d``."""

    _nd = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, dilation=1, output_padding=0, bias=True):
        super().__init__()
        n = self._nd
        if n > 1:
            kernel_size, stride, padding, output_padding = (
                _tuple(v, n) for v in (kernel_size, stride, padding, output_padding)
            )
        ks = (kernel_size,) if n == 1 else tuple(kernel_size)
        scale = math.sqrt(1 / (in_channels * math.prod(ks)))
        self.weight = mx.random.uniform(
            low=-scale, high=scale, shape=(out_channels, *ks, in_channels)
        )
        if bias:
            self.bias = mx.zeros((out_channels,))
        self.padding = padding
        self.stride = stride
        self.dilation = dilation
        self.output_padding = output_padding

    def _extra_repr(self):
        ks = self.weight.shape[1] if self._nd == 1 else self.weight.shape[1 : 1 + self._nd]
        return (
            f"{self.weight.shape[-1]}, {self.weight.shape[0]}, kernel_size={ks}, "
            f"stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, output_padding={self.output_padding}, "
            f"bias={'bias' in self}"
        )

    def __call__(self, x):
        conv = getattr(mx, f"conv_transpose{self._nd}d")
        y = conv(x, self.weight, self.stride, self.padding, self.dilation,
                 self.output_padding)
        if "bias" in self:
            y = y + self.bias
        return y


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, L, C_in)."""

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, dilation: int = 1,
                 output_padding: int = 0, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, output_padding, bias)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, H, W, C_in)."""

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: Union[int, tuple], stride: Union[int, tuple] = 1,
                 padding: Union[int, tuple] = 0, dilation: Union[int, tuple] = 1,
                 output_padding: Union[int, tuple] = 0, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, output_padding, bias)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, D, H, W, C_in)."""

    _nd = 3

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: Union[int, tuple], stride: Union[int, tuple] = 1,
                 padding: Union[int, tuple] = 0, dilation: Union[int, tuple] = 1,
                 output_padding: Union[int, tuple] = 0, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, output_padding, bias)
