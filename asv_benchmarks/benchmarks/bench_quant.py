"""Quantized matrix products (4-bit affine, group 64): the batched product and the
one-row decoding step."""

from .common import W, _Case


class QuantizedMatmul(_Case):
    params = [[1, 32]]
    param_names = ["m"]

    def case(self, m):
        return W.quantized_matmul, {"m": m, "n": 4096, "k": 4096, "bits": 4, "group": 64}
