"""LayerNorm, RMSNorm, GroupNorm, BatchNorm and InstanceNorm (channels last)."""

from typing import Tuple

import mlxc.core as mx
from mlxc.nn.layers.base import Module


def _check_eps(name, eps):
    if eps <= 0.0:
        raise ValueError(f"[{name}] 'eps' must be positive but got {eps}.")


def _affine(module, x):
    return module.weight * x + module.bias if "weight" in module else x


class InstanceNorm(Module):
    """Normalizes every channel of every sample over its spatial axes
    (input (N, ..., C)); optional per-channel scale and shift."""

    def __init__(self, dims: int, eps: float = 1e-5, affine: bool = False):
        super().__init__()
        _check_eps("InstanceNorm", eps)
        if affine:
            self.weight = mx.ones((dims,))
            self.bias = mx.zeros((dims,))
        self.dims = dims
        self.eps = eps

    def _extra_repr(self):
        return f"{self.dims}, eps={self.eps}, affine={'weight' in self}"

    def __call__(self, x: mx.array) -> mx.array:
        if x.ndim < 3:
            raise ValueError(
                "InstanceNorm expects inputs with at least 3 dimensions (N, ..., C) "
                f"but the input has {x.ndim} dimensions."
            )
        n, c = x.shape[0], x.shape[-1]
        spatial = x.shape[1:-1]
        # Move channels next to the batch so each (sample, channel) row is one
        # contiguous vector for layer_norm, then move them back.
        rows = mx.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))
        y = mx.fast.layer_norm(rows.reshape(n, c, -1), None, None, self.eps)
        y = mx.transpose(
            y.reshape(n, c, *spatial), (0, *range(2, len(spatial) + 2), 1)
        )
        return _affine(self, y)


class LayerNorm(Module):
    """Normalizes over the last axis; learned ``weight``/``bias`` when
    ``affine`` (``bias`` only when ``bias=True``)."""

    def __init__(self, dims: int, eps: float = 1e-5, affine: bool = True,
                 bias: bool = True):
        super().__init__()
        _check_eps("LayerNorm", eps)
        if affine:
            self.weight = mx.ones((dims,))
            if bias:
                self.bias = mx.zeros((dims,))
        self.eps = eps
        self.dims = dims

    def _extra_repr(self):
        return f"{self.dims}, eps={self.eps}, affine={'weight' in self}"

    def __call__(self, x):
        return mx.fast.layer_norm(x, self.get("weight"), self.get("bias"), self.eps)


class RMSNorm(Module):
    """Root-mean-square normalization over the last axis with a learned scale."""

    def __init__(self, dims: int, eps: float = 1e-5):
        super().__init__()
        _check_eps("RMSNorm", eps)
        self.weight = mx.ones((dims,))
        self.eps = eps

    def _extra_repr(self):
        return f"{self.weight.shape[0]}, eps={self.eps}"

    def __call__(self, x):
        return mx.fast.rms_norm(x, self["weight"], self.eps)


class GroupNorm(Module):
    """Normalizes groups of channels over the spatial axes and the group.

    MLX's default groups channel ``c`` with ``c % num_groups``; with
    ``pytorch_compatible=True`` groups are consecutive channel blocks.
    """

    def __init__(self, num_groups: int, dims: int, eps: float = 1e-5,
                 affine: bool = True, pytorch_compatible: bool = False):
        super().__init__()
        _check_eps("GroupNorm", eps)
        if num_groups <= 0:
            raise ValueError(
                f"The number of groups ({num_groups}) must be a positive integer."
            )
        if dims <= 0:
            raise ValueError(
                f"The number of features ({dims}) must be a positive integer."
            )
        if dims % num_groups != 0:
            raise ValueError(
                f"The number of features ({dims}) must be evenly divisible by the "
                f"number of groups ({num_groups})."
            )
        if affine:
            self.bias = mx.zeros((dims,))
            self.weight = mx.ones((dims,))
        self.num_groups = num_groups
        self.dims = dims
        self.eps = eps
        self.pytorch_compatible = pytorch_compatible

    def _extra_repr(self):
        return (
            f"{self.num_groups}, {self.dims}, eps={self.eps}, "
            f"affine={'weight' in self}, pytorch_compatible={self.pytorch_compatible}"
        )

    def _blocks(self, x):
        g = self.num_groups
        batch, *rest, dims = x.shape
        size = dims // g
        y = x.reshape(batch, -1, g, size).transpose(0, 2, 1, 3).reshape(batch, g, -1)
        y = mx.fast.layer_norm(y, eps=self.eps, weight=None, bias=None)
        y = y.reshape(batch, g, -1, size).transpose(0, 2, 1, 3)
        return y.reshape(batch, *rest, dims)

    def _strided(self, x):
        batch, *rest, dims = x.shape
        y = x.reshape(batch, -1, self.num_groups)
        mean = mx.mean(y, axis=1, keepdims=True)
        var = mx.var(y, axis=1, keepdims=True)
        y = (y - mean) * mx.rsqrt(var + self.eps)
        return y.reshape(batch, *rest, dims)

    def __call__(self, x):
        y = self._blocks(x) if self.pytorch_compatible else self._strided(x)
        return _affine(self, y)


class BatchNorm(Module):
    """Batch normalization over every axis but the last (inputs of rank 2-4).

    In training the batch statistics normalize and update ``running_mean``
    and ``running_var`` (unbiased variance) with ``momentum``; in eval mode
    the running statistics normalize. The running statistics are parameters
    (saved with the weights) but are never trainable.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        _check_eps("BatchNorm", eps)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = mx.ones((num_features,))
            self.bias = mx.zeros((num_features,))
        if track_running_stats:
            self.running_mean = mx.zeros((num_features,))
            self.running_var = mx.ones((num_features,))
            self.freeze(keys=["running_mean", "running_var"], recurse=False)

    def unfreeze(self, *args, **kwargs):
        """Unfreeze as Module does, but the running statistics stay frozen."""
        super().unfreeze(*args, **kwargs)
        self.freeze(keys=["running_mean", "running_var"], recurse=False)
        return self

    def _extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={'weight' in self}, track_running_stats={self.track_running_stats}"
        )

    def _calc_stats(self, x: mx.array, ddof: int = 0) -> Tuple[mx.array, mx.array]:
        axes = tuple(range(x.ndim - 1))
        return mx.mean(x, axis=axes), mx.var(x, axis=axes, ddof=ddof)

    def __call__(self, x: mx.array) -> mx.array:
        if x.ndim < 2 or x.ndim > 4:
            raise ValueError(
                f"Expected input tensor to have 2, 3 or 4 dimensions, but got {x.ndim}"
            )
        if self.training:
            per_channel = 1
            for n in x.shape[:-1]:
                per_channel *= n
            if per_channel == 1:
                raise ValueError(
                    "BatchNorm training requires more than one value per channel."
                )
        mean, var = self._calc_stats(x)
        if self.training and self.track_running_stats:
            mu = self.momentum
            _, unbiased = self._calc_stats(x, ddof=1)
            self.running_mean = (1 - mu) * self.running_mean + mu * mean
            self.running_var = (1 - mu) * self.running_var + mu * unbiased
        elif self.track_running_stats:
            mean, var = self.running_mean, self.running_var
        y = (x - mean) * mx.rsqrt(var + self.eps)
        return _affine(self, y)
