"""float32 matrix products: timings, plus achieved GFLOP/s as a tracked value."""

from .common import W, mx

# name -> (workload, params, flops per call)
_CASES = {
    "matmul_256": (W.matmul, {"n": 256}, W.matmul_flops(256)),
    "matmul_1024": (W.matmul, {"n": 1024}, W.matmul_flops(1024)),
    "batched_64x128": (W.matmul, {"n": 128, "batch": 64}, W.matmul_flops(128, 64)),
    "matvec_4096": (W.matvec, {"n": 4096}, 2.0 * 4096 * 4096),
}


class Matmul:
    params = [list(_CASES)]
    param_names = ["case"]
    timeout = 180

    def setup(self, case):
        wl, params, self.flops = _CASES[case]
        self.run = wl(mx, **params)

    def time_matmul(self, case):
        self.run()

    def track_gflops(self, case):
        # asv only tracks what we return, so time it here with the same
        # median-of-runs helper compare.py uses.
        median, _, _ = W.measure(self.run, repeat=5, min_time=0.05)
        return self.flops / median / 1e9

    track_gflops.unit = "GFLOP/s"
