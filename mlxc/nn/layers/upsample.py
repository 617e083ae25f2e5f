"""Upsample: nearest, (multi-)linear and cubic interpolation of channels-last
inputs (N, *spatial, C), with align_corners and antialiasing as MLX."""

import math
import operator
from functools import reduce
from itertools import product
from typing import Callable, Literal, Tuple, Union

import mlxc.core as mx
from mlxc.nn.layers.base import Module


def _along(values, dim, ndims):
    """Reshape a 1-D index/weight vector to broadcast along spatial ``dim``."""
    shape = [1] * ndims
    shape[dim] = -1
    return values.reshape(shape)


def _source_coords(N, scale, align_corners, dim, ndims):
    """Source coordinate (float) of every output position."""
    M = int(scale * N)
    pos = mx.arange(M, dtype=mx.float32)
    if align_corners:
        coords = pos * ((N - 1) / max(M - 1, 1))
    else:
        step = 1 / scale
        # Output pixel centres mapped onto input pixel centres.
        shift = ((M - 1) * step - N + 1) / 2
        coords = pos * step - shift
    return _along(coords, dim, ndims)


def _nearest_indices(N, scale, dim, ndims):
    M = int(scale * N)
    pos = mx.arange(M, dtype=mx.float32)
    if M > N:
        pos = ((pos + 0.5) * (N / M) - 0.5).round()
    else:
        pos = pos * (N / M)
    return _along(pos.astype(mx.uint32), dim, ndims)


def _linear_indices(N, scale, align_corners, dim, ndims):
    coords = mx.clip(_source_coords(N, scale, align_corners, dim, ndims), 0, N - 1)
    left = mx.floor(coords)
    right = mx.ceil(coords)
    w = mx.expand_dims(coords - left, -1)
    return ((left.astype(mx.uint32), 1 - w), (right.astype(mx.uint32), w))


def _cubic_weight(t, far):
    """Keys' cubic convolution kernel (a = -0.75) at distance t; ``far``
    selects the 1 < t < 2 piece."""
    a = -0.75
    if far:
        return (((t - 5) * t + 8) * t - 4) * a
    return ((a + 2.0) * t - (a + 3.0)) * t * t + 1


def _cubic_indices(N, scale, align_corners, dim, ndims):
    coords = _source_coords(N, scale, align_corners, dim, ndims)
    l1 = mx.floor(coords)
    r1 = mx.floor(coords + 1)
    taps = ((l1, False), (r1, False), (l1 - 1, True), (r1 + 1, True))
    out = []
    for idx, far in taps:
        w = _cubic_weight(mx.abs(coords - idx), far)[..., None]
        out.append((mx.clip(idx, 0, N - 1).astype(mx.uint32), w))
    return tuple(out)


def _triangle_kernel(x):
    return mx.maximum(1.0 - x, 0.0)


def _cubic_kernel(x):
    # Antialiased cubic uses a = -0.5.
    a = -0.5
    inner = ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    outer = (((x - 5) * x + 8) * x - 4) * a
    return mx.where(x <= 1.0, inner, mx.where(x <= 2.0, outer, 0.0))


def _aa_indices(N, scale, align_corners, dim, ndims, kernel_fn, radius):
    """Taps of a kernel widened by 1/scale when downsampling, weights
    normalized over the taps that fall inside the input."""
    coords = _source_coords(N, scale, align_corners, dim, ndims)
    stretch = 1.0 / scale if scale < 1 else 1.0
    taps = math.ceil(radius * stretch) + 1
    idxs, ws = [], []
    for k in range(-taps + 1, taps):
        idx = mx.floor(coords) + k
        w = kernel_fn(mx.abs(coords - idx) / stretch)
        ws.append(mx.where((idx >= 0) & (idx < N), w, 0.0))
        idxs.append(idx)
    total = sum(ws)
    total = mx.where(total > 0, total, 1.0)
    return tuple(
        (mx.clip(i, 0, N - 1).astype(mx.uint32), mx.expand_dims(w / total, -1))
        for i, w in zip(idxs, ws)
    )


def _linear_aa_indices(N, scale, align_corners, dim, ndims):
    return _aa_indices(N, scale, align_corners, dim, ndims, _triangle_kernel, 1.0)


def _cubic_aa_indices(N, scale, align_corners, dim, ndims):
    return _aa_indices(N, scale, align_corners, dim, ndims, _cubic_kernel, 2.0)


def _check_scales(x, scale_factor):
    if x.ndim - 2 != len(scale_factor):
        raise ValueError("A scale needs to be provided for each spatial dimension")


def upsample_nearest(x: mx.array, scale_factor: Tuple):
    _check_scales(x, scale_factor)
    dims = x.ndim - 2
    if tuple(map(int, scale_factor)) == scale_factor:
        # Integer factors: repeat every element by broadcasting a new axis
        # after each spatial axis and folding it back in.
        shape = list(x.shape)
        for d in range(dims):
            shape.insert(2 + 2 * d, 1)
        x = x.reshape(shape)
        for d in range(dims):
            shape[2 + 2 * d] = int(scale_factor[d])
        x = mx.broadcast_to(x, shape)
        for d in range(dims):
            shape[d + 1] *= shape[d + 2]
            shape.pop(d + 2)
        return x.reshape(shape)
    index = [slice(None)]
    for i, (n, s) in enumerate(zip(x.shape[1:-1], scale_factor)):
        index.append(_nearest_indices(n, s, i, dims))
    return x[tuple(index)]


def _interpolate(x, scale_factor, indices_fn, align_corners=False):
    """Sum over every combination of taps of all axes at once."""
    _check_scales(x, scale_factor)
    dims = x.ndim - 2
    per_axis = [
        indices_fn(n, s, align_corners, i, dims)
        for i, (n, s) in enumerate(zip(x.shape[1:-1], scale_factor))
    ]
    total = 0
    for combo in product(*per_axis):
        idx, w = zip(*combo)
        total = total + reduce(operator.mul, w) * x[(slice(None),) + idx]
    return total


def _interpolate_separable(x, scale_factor, indices_fn, align_corners=False):
    """One axis at a time: gather the taps along it and sum them weighted."""
    _check_scales(x, scale_factor)
    dims = x.ndim - 2
    out = x
    for i, (n, s) in enumerate(zip(x.shape[1:-1], scale_factor)):
        total = 0
        for idx, w in indices_fn(n, s, align_corners, i, dims):
            total = total + mx.take(out, idx.reshape(-1), axis=i + 1) * w
        out = total
    return out


def _check_aa_corners(align_corners, antialias):
    if antialias and align_corners:
        raise ValueError(
            "[Upsample] antialias=True with align_corners=True is not supported. "
            "Use align_corners=False for antialiased interpolation."
        )


def upsample_linear(x: mx.array, scale_factor: Tuple, align_corners: bool = False,
                    antialias: bool = False):
    _check_aa_corners(align_corners, antialias)
    if antialias:
        return _interpolate_separable(x, scale_factor, _linear_aa_indices, align_corners)
    if not align_corners:
        return _interpolate_separable(x, scale_factor, _linear_indices, align_corners)
    return _interpolate(x, scale_factor, _linear_indices, align_corners)


def upsample_cubic(x: mx.array, scale_factor: Tuple, align_corners: bool = False,
                   antialias: bool = False):
    _check_aa_corners(align_corners, antialias)
    if antialias:
        return _interpolate_separable(x, scale_factor, _cubic_aa_indices, align_corners)
    return _interpolate(x, scale_factor, _cubic_indices, align_corners)


class Upsample(Module):
    """Upsample the spatial axes of (N, *spatial, C) by ``scale_factor``
    (one number for every axis, or one per axis)."""

    def __init__(self, scale_factor: Union[float, Tuple],
                 mode: Literal["nearest", "linear", "cubic"] = "nearest",
                 align_corners: bool = False, antialias: bool = False):
        super().__init__()
        if mode not in ("nearest", "linear", "cubic"):
            raise ValueError(f"[Upsample] Got unsupported upsampling algorithm: {mode}")
        if antialias and mode == "nearest":
            raise ValueError(
                "[Upsample] Antialiasing is not supported for nearest neighbor upsampling"
            )
        if isinstance(scale_factor, (list, tuple)):
            scale_factor = tuple(float(s) for s in scale_factor)
        else:
            scale_factor = float(scale_factor)
        _check_aa_corners(align_corners, antialias)
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.antialias = antialias

    def _extra_repr(self):
        text = (
            f"scale_factor={self.scale_factor}, mode={self.mode!r}, "
            f"align_corners={self.align_corners}"
        )
        return text + (", antialias=True" if self.antialias else "")

    def __call__(self, x: mx.array) -> mx.array:
        dims = x.ndim - 2
        if dims <= 0:
            raise ValueError(
                "[Upsample] The input should have at least 1 spatial dimension which "
                f"means it should be at least 3D but {x.ndim}D was provided"
            )
        scale = self.scale_factor
        if isinstance(scale, tuple):
            if len(scale) != dims:
                raise ValueError(
                    "[Upsample] One scale per spatial dimension is required but "
                    f"scale_factor={scale} and the number of spatial dimensions "
                    f"were {dims}"
                )
        else:
            scale = (scale,) * dims
        if self.mode == "nearest":
            return upsample_nearest(x, scale)
        if self.mode == "linear":
            return upsample_linear(x, scale, self.align_corners, self.antialias)
        return upsample_cubic(x, scale, self.align_corners, self.antialias)
