"""Elementwise float32 ops over sizes from overhead-bound to bandwidth-bound."""

from .common import W, mx


class Elementwise:
    params = (W.ELEMENTWISE_OPS, [1 << 10, 1 << 16, 1 << 20])
    param_names = ["op", "n"]

    def setup(self, op, n):
        self.run = W.elementwise(mx, op=op, n=n)

    def time_op(self, op, n):
        self.run()
