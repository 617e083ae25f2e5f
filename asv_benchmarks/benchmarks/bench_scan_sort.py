"""Prefix sums and sorting of float32 vectors."""

from .common import W, _MemoryBound


class Cumsum(_MemoryBound):
    params = [[1 << 12, 1 << 16, 1 << 20, 1 << 22]]
    param_names = ["n"]

    def case(self, n):
        return W.cumsum, {"n": n}


class Sort(_MemoryBound):
    # GB/s of a read + a write: a yardstick, sorting is not bandwidth-bound.
    # Up to 2^20 only: 2^22 (compare.py --set issue3) takes seconds per call
    # at the scalar level, and the suite runs once per level.
    params = [[1 << 12, 1 << 16, 1 << 20]]
    param_names = ["n"]
    timeout = 120

    def case(self, n):
        return W.sort, {"n": n}


class SortRows(_MemoryBound):
    # many short float32 rows: the bitonic networks (64) and the vector quicksort (4096)
    params = [[16, 64, 256, 4096]]
    param_names = ["n"]
    timeout = 120

    def case(self, n):
        return W.sort, {"n": n, "rows": (1 << 20) // n}
