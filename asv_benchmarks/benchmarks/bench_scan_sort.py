"""Prefix sums and sorting of float32 vectors."""

from .common import W, _MemoryBound

_SIZES = [1 << 12, 1 << 16, 1 << 20, 1 << 22]


class Cumsum(_MemoryBound):
    params = [_SIZES]
    param_names = ["n"]

    def case(self, n):
        return W.cumsum, {"n": n}


class Sort(_MemoryBound):
    # GB/s of a read + a write: a yardstick, sorting is not bandwidth-bound.
    params = [_SIZES]
    param_names = ["n"]
    timeout = 120

    def case(self, n):
        return W.sort, {"n": n}
