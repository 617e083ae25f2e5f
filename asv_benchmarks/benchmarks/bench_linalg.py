"""Linear algebra on the scipy-openblas32 LAPACK: solves and decompositions (float32)
and the gradient of a solve."""

from .common import W, _Case

# name -> params of the linalg workload
_LINALG = {
    "solve_1024_rhs64": {"op": "solve", "n": 1024, "k": 64},
    "cholesky_1024": {"op": "cholesky", "n": 1024},
    "inv_1024": {"op": "inv", "n": 1024},
    "qr_512": {"op": "qr", "n": 512},
    "svd_512": {"op": "svd", "n": 512},
    "eigh_512": {"op": "eigh", "n": 512},
}


class Linalg(_Case):
    params = [list(_LINALG)]
    param_names = ["case"]
    timeout = 120

    def case(self, case):
        return W.linalg_op, _LINALG[case]


class LinalgGradSolve(_Case):
    params = [[256]]
    param_names = ["n"]

    def case(self, n):
        return W.linalg_grad_solve, {"n": n}
