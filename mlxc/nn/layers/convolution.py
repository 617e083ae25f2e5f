"""Conv1d, Conv2d, Conv3d on channels-last inputs (N, ..., C), as MLX."""

import math
from typing import Union

import mlxc.core as mx
from mlxc.nn.layers.base import Module


def _tuple(value, n):
    return (value,) * n if isinstance(value, int) else value


class _ConvNd(Module):
    """Shared set-up: weight (out, *kernel, in // groups) drawn from
    U(-s, s) with s = 1/sqrt(fan_in), bias zeros."""

    _nd = 0

    def _setup(self, in_channels, out_channels, kernel_size, stride, padding,
               dilation, groups, bias):
        kernel_size = _tuple(kernel_size, self._nd) if self._nd > 1 else kernel_size
        ks = (kernel_size,) if self._nd == 1 else tuple(kernel_size)
        scale = math.sqrt(1 / (in_channels // groups * math.prod(ks)))
        self.weight = mx.random.uniform(
            low=-scale, high=scale, shape=(out_channels, *ks, in_channels // groups)
        )
        if bias:
            self.bias = mx.zeros((out_channels,))
        self.padding = padding
        self.stride = stride
        self.dilation = dilation

    def _bias(self, y):
        return y + self.bias if "bias" in self else y


def _check_groups(in_channels, groups):
    if in_channels % groups != 0:
        raise ValueError(
            f"The number of input channels ({in_channels}) must be divisible by "
            f"the number of groups ({groups})"
        )


class Conv1d(_ConvNd):
    """1-D convolution over inputs of shape (N, L, C_in)."""

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, dilation: int = 1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        _check_groups(in_channels, groups)
        self._setup(in_channels, out_channels, kernel_size, stride, padding,
                    dilation, groups, bias)
        self.groups = groups

    def _extra_repr(self):
        return (
            f"{self.weight.shape[-1] * self.groups}, {self.weight.shape[0]}, "
            f"kernel_size={self.weight.shape[1]}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, "
            f"groups={self.groups}, bias={'bias' in self}"
        )

    def __call__(self, x):
        return self._bias(mx.conv1d(x, self.weight, self.stride, self.padding,
                                    self.dilation, self.groups))


class Conv2d(_ConvNd):
    """2-D convolution over inputs of shape (N, H, W, C_in)."""

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: Union[int, tuple], stride: Union[int, tuple] = 1,
                 padding: Union[int, tuple] = 0, dilation: Union[int, tuple] = 1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        _check_groups(in_channels, groups)
        self._setup(in_channels, out_channels, kernel_size, _tuple(stride, 2),
                    _tuple(padding, 2), dilation, groups, bias)
        self.groups = groups

    def _extra_repr(self):
        return (
            f"{self.weight.shape[-1] * self.groups}, {self.weight.shape[0]}, "
            f"kernel_size={self.weight.shape[1:3]}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, "
            f"groups={self.groups}, bias={'bias' in self}"
        )

    def __call__(self, x):
        return self._bias(mx.conv2d(x, self.weight, self.stride, self.padding,
                                    self.dilation, self.groups))


class Conv3d(_ConvNd):
    """3-D convolution over inputs of shape (N, D, H, W, C_in)."""

    _nd = 3

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: Union[int, tuple], stride: Union[int, tuple] = 1,
                 padding: Union[int, tuple] = 0, dilation: Union[int, tuple] = 1,
                 bias: bool = True):
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, _tuple(stride, 3),
                    _tuple(padding, 3), dilation, 1, bias)

    def _extra_repr(self):
        return (
            f"{self.weight.shape[-1]}, {self.weight.shape[0]}, "
            f"kernel_size={self.weight.shape[1:4]}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, "
            f"bias={'bias' in self}"
        )

    def __call__(self, x):
        return self._bias(mx.conv3d(x, self.weight, self.stride, self.padding,
                                    self.dilation))
