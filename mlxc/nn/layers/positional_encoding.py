"""RoPE, sinusoidal positional encodings and ALiBi."""

import math
from typing import Optional

import mlxc.core as mx
from mlxc.nn.layers.base import Module


class RoPE(Module):
    """Rotary positional encoding of the first ``dims`` features
    (``mx.fast.rope``); ``offset`` is the position of the first row."""

    def __init__(self, dims: int, traditional: bool = False, base: float = 10000,
                 scale: float = 1.0):
        super().__init__()
        self.dims = dims
        self.traditional = traditional
        self.base = base
        self.scale = scale

    def _extra_repr(self):
        return f"{self.dims}, traditional={self.traditional}"

    def __call__(self, x, offset: int = 0):
        return mx.fast.rope(x, self.dims, traditional=self.traditional,
                            base=self.base, scale=self.scale, offset=offset)


class SinusoidalPositionalEncoding(Module):
    """``[sin(x * f), cos(x * f)]`` (or cos first) for ``dims // 2``
    frequencies ``f`` spaced geometrically from ``max_freq`` down to
    ``min_freq``, times ``scale`` (default ``sqrt(2 / dims)``)."""

    def __init__(self, dims: int, min_freq: float = 0.0001, max_freq: float = 1,
                 scale: Optional[float] = None, cos_first: bool = False,
                 full_turns: bool = False):
        super().__init__()
        if dims <= 0 or dims % 2 != 0:
            raise ValueError(
                "[SinusoidalPositionalEncoding] dims must be positive and even "
                f"but got {dims}."
            )
        half = dims // 2
        if half == 1:
            frac = mx.array([1.0])
        else:
            frac = 1 - mx.arange(0, half) / (half - 1)
        lo, hi = math.log(min_freq), math.log(max_freq)
        self._sigmas = mx.exp(frac * (hi - lo) + lo)
        if full_turns:
            self._sigmas = self._sigmas * (2 * math.pi)
        self.scale = scale if scale is not None else (2 / dims) ** 0.5
        self.cos_first = cos_first

    def __call__(self, x):
        y = x[..., None] * self._sigmas
        parts = [mx.cos(y), mx.sin(y)] if self.cos_first else [mx.sin(y), mx.cos(y)]
        y = mx.concatenate(parts, axis=-1)
        if self.scale != 1:
            y = y * self.scale
        return y


def _alibi_slopes(n: int):
    """The geometric head slopes of the ALiBi paper; for a head count that
    is not a power of two, those of the power below plus every other slope
    of the power above."""
    if math.log2(n).is_integer():
        first = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [first * first**i for i in range(n)]
    below = 2 ** math.floor(math.log2(n))
    return _alibi_slopes(below) + _alibi_slopes(2 * below)[0::2][: n - below]


class ALiBi(Module):
    """Adds the attention linear bias ``-slope_h * |i - j|`` to attention scores
    of shape (B, heads, queries, keys)."""

    @staticmethod
    def create_alibi_matrix(q_sequence_length: int, k_sequence_length: int,
                            num_heads: int, offset: int = 0,
                            dtype: mx.Dtype = mx.float32) -> mx.array:
        q = mx.arange(offset, q_sequence_length)
        k = mx.arange(0, k_sequence_length)
        dist = -mx.abs(mx.expand_dims(q[:, None] - k[None, :], axis=(0, 1)))
        slope = ALiBi.create_alibi_slope(num_heads=num_heads, dtype=dtype)
        return (dist * slope).astype(dtype)

    @staticmethod
    def create_alibi_slope(num_heads: int, dtype: mx.Dtype = mx.float32) -> mx.array:
        slopes = mx.array(_alibi_slopes(num_heads), dtype=dtype)
        return mx.expand_dims(slopes, axis=(-1, -2))

    def __call__(self, attention_scores: mx.array, offset: int = 0,
                 mask: Optional[mx.array] = None) -> mx.array:
        bias = ALiBi.create_alibi_matrix(
            q_sequence_length=attention_scores.shape[-2] + offset,
            k_sequence_length=attention_scores.shape[-1],
            num_heads=attention_scores.shape[1],
            offset=offset,
            dtype=attention_scores.dtype,
        )
        if mask is not None:
            bias = bias + mask
        return attention_scores + bias
