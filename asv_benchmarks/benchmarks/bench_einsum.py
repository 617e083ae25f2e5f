"""einsum (batched matmul, a three-matrix chain, trace, outer product), complex64
matmul and gather_mm on a sorted mixture-of-experts routing."""

from .common import W, _ComputeBound


class Einsum(_ComputeBound):
    params = [[c for c in W.EINSUM_CASES if not c.endswith("_tiny")]]
    param_names = ["case"]

    def case(self, case):
        return W.einsum_op, {"case": case}


class MatmulComplex64(_ComputeBound):
    params = [[256, 512]]
    param_names = ["n"]

    def case(self, n):
        return W.matmul_c64, {"n": n}


class GatherMM(_ComputeBound):
    params = [[8, 32]]
    param_names = ["experts"]

    def case(self, experts):
        return W.gather_mm, {"experts": experts}
