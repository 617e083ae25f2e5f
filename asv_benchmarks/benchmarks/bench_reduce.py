"""Reductions and the row-wise softmax family on square float32 matrices."""

from .common import W, _MemoryBound


class Reduce(_MemoryBound):
    params = (W.REDUCE_OPS, [256, 1024, 4096])
    param_names = ["op", "n"]
    timeout = 120  # 4096^2 setup (64 MiB of normals) plus slow ops at the scalar level

    def case(self, op, n):
        return W.reduce, {"op": op, "n": n}
