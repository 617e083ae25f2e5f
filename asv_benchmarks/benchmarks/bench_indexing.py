"""Gathers, transposing copies, slices and in-place updates."""

from .common import W, _MemoryBound, mx


class Take(_MemoryBound):
    # k random int32 indices into an n-element float32 vector
    params = [[1 << 20, 1 << 22], [1 << 10, 1 << 16, 1 << 20]]
    param_names = ["n", "k"]

    def case(self, n, k):
        return W.take, {"n": n, "k": k}


class TransposeCopy(_MemoryBound):
    # mx.contiguous(x.T): a real row-major copy of the transposed matrix
    params = [[256, 1024, 4096]]
    param_names = ["n"]

    def case(self, n):
        return W.transpose_copy, {"n": n}


class Slice:
    params = [[1024, 4096]]
    param_names = ["n"]

    def setup(self, n):
        self.run = W.slice_(mx, n=n)

    def time_strided_slice(self, n):
        self.run()


class SetItem:
    params = [["slice", "int_array"], [1024]]
    param_names = ["kind", "n"]

    def setup(self, kind, n):
        self.run = W.setitem(mx, kind=kind, n=n)

    def time_setitem(self, kind, n):
        self.run()


class SliceSetItem:
    # x[0::2, c0:c1] = -x[1::2, c0:c1]: compare.py's slice_setitem workload
    params = [[1024]]
    param_names = ["n"]

    def setup(self, n):
        self.run = W.slice_setitem(mx, n=n)

    def time_slice_setitem(self, n):
        self.run()


class TakeAlongAxis:
    params = [[1024], [1, 64]]
    param_names = ["n", "k"]

    def setup(self, n, k):
        self.run = W.take_along_axis(mx, n=n, k=k)

    def time_take_along_axis(self, n, k):
        self.run()
