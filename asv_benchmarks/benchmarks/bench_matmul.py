"""float32 matrix products (GFLOP/s) and matrix-vector products (GB/s: they
read each matrix element once for 2 flops, so bandwidth is their limit)."""

from .common import W, _ComputeBound, _MemoryBound

# name -> params of the matmul workload
_MATMUL = {
    "256": {"n": 256},
    "512": {"n": 512},
    "1024": {"n": 1024},
    "2048": {"n": 2048},
    "batched_64x128": {"n": 128, "batch": 64},
}


class Matmul(_ComputeBound):
    params = [list(_MATMUL)]
    param_names = ["case"]
    timeout = 180  # 2048^2 at the scalar level takes seconds per call

    def case(self, case):
        return W.matmul, _MATMUL[case]


class Matvec(_MemoryBound):
    params = [[256, 1024, 4096]]
    param_names = ["n"]

    def case(self, n):
        return W.matvec, {"n": n}
