"""Reductions and the row-wise softmax family on square float32 matrices."""

from .common import W, mx


class Reduce:
    params = (W.REDUCE_OPS, [1024, 4096])
    param_names = ["op", "n"]
    timeout = 120  # 4096^2 setup (64 MiB of normals) plus slow ops

    def setup(self, op, n):
        self.run = W.reduce(mx, op=op, n=n)

    def time_op(self, op, n):
        self.run()
