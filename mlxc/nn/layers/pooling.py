"""Max and average pooling over 1, 2 or 3 spatial axes (channels last).

Windows are a strided view of the (padded) input: non-overlapping windows
that tile the input exactly are a reshape, anything else an ``as_strided``
view; the reduction then runs over the window axes.
"""

import math
from typing import Optional, Tuple, Union

import mlxc.core as mx
from mlxc.nn.layers.base import Module


def _value_or_list(x, n, msg):
    if isinstance(x, (list, tuple)):
        if len(x) != n:
            raise ValueError(msg)
        return list(x)
    if not isinstance(x, int):
        raise ValueError(msg)
    return [x] * n


def _tiled_windows(x, window):
    """(N, S1/w1, ..., w1, ..., C) by a reshape and a transpose."""
    shape = [x.shape[0]]
    for size, w in zip(x.shape[1:-1], window):
        shape += [size // w, w]
    shape.append(x.shape[-1])
    last = len(shape) - 1
    order = [0, *range(1, last, 2), *range(2, last, 2), last]
    return x.reshape(shape).transpose(order)


def _sliding_windows(x, window, strides):
    if x.ndim < 3:
        raise ValueError(
            "To extract sliding windows at least 1 spatial dimension (3 total) is "
            f"needed but the input only has {x.ndim} dimensions."
        )
    spatial = x.shape[1:-1]
    if not len(spatial) == len(window) == len(strides):
        raise ValueError(
            "To extract sliding windows the window shapes and strides must have "
            "the same number of spatial dimensions as the signal but the signal "
            f"has {len(spatial)} dims and the window shape has {len(window)} and "
            f"strides have {len(strides)}."
        )
    if all(w == s and n % w == 0 for n, w, s in zip(spatial, window, strides)):
        return _tiled_windows(x, window)
    # Element strides of the contiguous input, innermost last.
    elem = [math.prod(x.shape[i + 1 :]) for i in range(x.ndim)]
    out_shape = [x.shape[0]]
    out_shape += [(n - w) // s + 1 for n, w, s in zip(spatial, window, strides)]
    out_shape += list(window) + [x.shape[-1]]
    out_strides = [elem[0]]
    out_strides += [e * s for e, s in zip(elem[1:-1], strides)]
    out_strides += elem[1:-1] + [elem[-1]]
    return mx.as_strided(x, out_shape, out_strides)


class _Pool(Module):
    def __init__(self, reduce_fn, kernel_size, stride, padding, padding_value):
        super().__init__()
        name = type(self).__name__
        for what, values in (("kernel_size", kernel_size), ("stride", stride)):
            if any(v <= 0 for v in values):
                raise ValueError(
                    f"[{name}] '{what}' must be positive but got {tuple(values)}."
                )
        if any(p[0] < 0 for p in padding):
            raise ValueError(
                f"[{name}] 'padding' must be non-negative but got "
                f"{tuple(p[0] for p in padding)}."
            )
        self._pooling_function = reduce_fn
        self._kernel_size = kernel_size
        self._stride = stride
        self._padding = padding
        self._padding_value = padding_value
        self._axes = tuple(range(-len(kernel_size) - 1, -1))

    def _extra_repr(self):
        pad = tuple(p[0] for p in self._padding)
        return (
            f"kernel_size={tuple(self._kernel_size)}, stride={tuple(self._stride)}, "
            f"padding={pad}"
        )

    def __call__(self, x):
        if any(p[0] > 0 for p in self._padding):
            x = mx.pad(x, [(0, 0)] + self._padding + [(0, 0)],
                       constant_values=self._padding_value)
        x = _sliding_windows(x, self._kernel_size, self._stride)
        # The window axes are strided (not adjacent in memory); one copy makes the
        # reduction run over contiguous rows, 15-25x faster than reducing the view.
        return self._pooling_function(mx.contiguous(x), self._axes)


class _PoolNd(_Pool):
    _nd = 0

    def __init__(self, reduce_fn, padding_value, kernel_size, stride, padding):
        n = self._nd
        count = "1 integer" if n == 1 else f"{n} integers"
        msg = "[{}] '{}' must be an integer or a tuple containing " + count
        name = type(self).__name__
        kernel_size = _value_or_list(kernel_size, n, msg.format(name, "kernel_size"))
        if stride is None:
            stride = kernel_size
        else:
            stride = _value_or_list(stride, n, msg.format(name, "stride"))
        padding = _value_or_list(padding, n, msg.format(name, "padding"))
        super().__init__(reduce_fn, kernel_size, stride,
                         [(p, p) for p in padding], padding_value)


def _max(x, axes):
    return mx.max(x, axes)


def _mean(x, axes):
    return mx.mean(x, axes)


class MaxPool1d(_PoolNd):
    """Max over windows of (N, L, C); padding uses -inf."""

    _nd = 1

    def __init__(self, kernel_size: Union[int, Tuple[int]],
                 stride: Optional[Union[int, Tuple[int]]] = None,
                 padding: Union[int, Tuple[int]] = 0):
        super().__init__(_max, -float("inf"), kernel_size, stride, padding)


class AvgPool1d(_PoolNd):
    """Mean over windows of (N, L, C); padding counts as zeros."""

    _nd = 1

    def __init__(self, kernel_size: Union[int, Tuple[int]],
                 stride: Optional[Union[int, Tuple[int]]] = None,
                 padding: Union[int, Tuple[int]] = 0):
        super().__init__(_mean, 0, kernel_size, stride, padding)


class MaxPool2d(_PoolNd):
    """Max over windows of (N, H, W, C); padding uses -inf."""

    _nd = 2

    def __init__(self, kernel_size: Union[int, Tuple[int, int]],
                 stride: Optional[Union[int, Tuple[int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int]]] = 0):
        super().__init__(_max, -float("inf"), kernel_size, stride, padding)


class AvgPool2d(_PoolNd):
    """Mean over windows of (N, H, W, C); padding counts as zeros."""

    _nd = 2

    def __init__(self, kernel_size: Union[int, Tuple[int, int]],
                 stride: Optional[Union[int, Tuple[int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int]]] = 0):
        super().__init__(_mean, 0, kernel_size, stride, padding)


class MaxPool3d(_PoolNd):
    """Max over windows of (N, D, H, W, C); padding uses -inf."""

    _nd = 3

    def __init__(self, kernel_size: Union[int, Tuple[int, int, int]],
                 stride: Optional[Union[int, Tuple[int, int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int, int]]] = 0):
        super().__init__(_max, -float("inf"), kernel_size, stride, padding)


class AvgPool3d(_PoolNd):
    """Mean over windows of (N, D, H, W, C); padding counts as zeros."""

    _nd = 3

    def __init__(self, kernel_size: Union[int, Tuple[int, int, int]],
                 stride: Optional[Union[int, Tuple[int, int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int, int]]] = 0):
        super().__init__(_mean, 0, kernel_size, stride, padding)
