"""Elementwise float32 ops from overhead-bound (2^12) to bandwidth-bound (2^24)."""

from .common import W, _MemoryBound


class Elementwise(_MemoryBound):
    params = (W.ELEMENTWISE_OPS, [1 << 12, 1 << 16, 1 << 20, 1 << 24])
    param_names = ["op", "n"]
    timeout = 120

    def case(self, op, n):
        return W.elementwise, {"op": op, "n": n}
