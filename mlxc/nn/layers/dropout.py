"""Dropout, Dropout2d (whole channels of 2-D maps) and Dropout3d."""

import mlxc.core as mx
from mlxc.nn.layers.base import Module


class _DropoutBase(Module):
    """Keeps each element (or channel) with probability ``1 - p`` during
    training and scales the kept ones by ``1 / (1 - p)``. The mask is one
    ``mx.random.bernoulli`` draw, the same draw MLX makes."""

    # Number of trailing spatial axes sharing one mask entry, and the
    # accepted input ranks.
    _shared_axes = 0
    _ranks = None

    def __init__(self, p: float = 0.5):
        super().__init__()
        if p < 0 or p >= 1:
            raise ValueError(f"The dropout probability {p} is not in [0, 1)")
        self._p_1 = 1 - p

    def _extra_repr(self):
        return f"p={1 - self._p_1}"

    def __call__(self, x: mx.array) -> mx.array:
        if self._ranks is not None and x.ndim not in self._ranks:
            lo, hi = self._ranks
            raise ValueError(
                f"Received input with {x.ndim} dimensions. "
                f"Expected {lo} or {hi} dimensions."
            )
        if self._p_1 == 1 or not self.training:
            return x
        shape = list(x.shape)
        # Channels-last: the spatial axes sit just before the channel axis.
        for k in range(2, 2 + self._shared_axes):
            shape[-k] = 1
        mask = mx.random.bernoulli(p=self._p_1, shape=shape)
        return mask * x * (1 / self._p_1)


class Dropout(_DropoutBase):
    """Element-wise dropout."""


class Dropout2d(_DropoutBase):
    """Channel dropout for (N, H, W, C) or (H, W, C) inputs."""

    _shared_axes = 2
    _ranks = (3, 4)


class Dropout3d(_DropoutBase):
    """Channel dropout for (N, D, H, W, C) or (D, H, W, C) inputs."""

    _shared_axes = 3
    _ranks = (4, 5)
