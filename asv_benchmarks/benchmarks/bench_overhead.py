"""Per-op overhead: graph building + eval on arrays too small to compute."""

from .common import W, mx


class Overhead:
    def setup(self):
        self.chain = W.overhead_chain(mx, steps=100, n=16)
        self.add = W.overhead_add(mx, n=16)

    def time_chain_100(self):
        # 200 ops (x * 1.0001 + 0.5, 100 times) then one eval.
        self.chain()

    def time_add(self):
        self.add()
