"""mx.random: normal, uniform (float32) and randint (int32) vectors from a key."""

from .common import W, _MemoryBound


class Random(_MemoryBound):
    # GB/s of the output written: a yardstick, the generator is compute-bound.
    params = [["normal", "uniform", "randint"], [1 << 12, 1 << 16, 1 << 20, 1 << 22]]
    param_names = ["op", "n"]

    def case(self, op, n):
        return W.random, {"op": op, "n": n}
