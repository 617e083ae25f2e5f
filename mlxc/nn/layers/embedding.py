"""Embedding: a lookup table of learned vectors."""

import math
from typing import Optional

import mlxc.core as mx
from mlxc.nn.layers.base import Module


class Embedding(Module):
    """``num_embeddings`` vectors of size ``dims`` drawn from N(0, 1/dims)."""

    def __init__(self, num_embeddings: int, dims: int):
        super().__init__()
        scale = math.sqrt(1 / dims)
        self.weight = mx.random.normal(shape=(num_embeddings, dims), scale=scale)

    def _extra_repr(self):
        return f"{self.weight.shape[0]}, {self.weight.shape[1]}"

    def __call__(self, x):
        return self.weight[x]

    def as_linear(self, x):
        """Use the table as a linear layer (tied output projection)."""
        return x @ self.weight.T

    def to_quantized(
        self,
        group_size: Optional[int] = None,
        bits: Optional[int] = None,
        mode: str = "affine",
        quantize_input: bool = False,
    ):
        """The quantized equivalent of this layer."""
        from mlxc.nn.layers.quantized import QuantizedEmbedding

        if quantize_input:
            raise ValueError("Quantized input is not supported.")
        return QuantizedEmbedding.from_embedding(self, group_size, bits, mode)
