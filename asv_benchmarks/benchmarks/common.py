"""What every benchmark module shares: the array module, the workloads, and
the base classes giving each benchmark a time_ and a track_ (rate) method.

The workloads live one folder up (asv_benchmarks/workloads.py) so that
compare.py times exactly the same code.

MLXC_BENCH_MODULE picks the module under test (default mlxc.core); setting it
to mlx.core runs this same suite on MLX, for reference numbers.
"""

import importlib
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(_here) not in sys.path:
    sys.path.insert(0, os.path.dirname(_here))

import workloads as W  # noqa: E402

MODULE = os.environ.get("MLXC_BENCH_MODULE", "mlxc.core")


class _Missing:
    """Stands in for a module that failed to import.

    Discovery (`asv check`) then still sees every benchmark, since names and
    params never touch the module, while each benchmark's setup fails loudly
    with the original import error instead of being skipped quietly.
    """

    def __init__(self, err):
        self._err = err

    def __getattr__(self, name):
        raise ImportError("cannot import %s: %s" % (MODULE, self._err))


try:
    mx = importlib.import_module(MODULE)
except Exception as e:  # ImportError, or a half-built extension raising anything
    mx = _Missing(e)


# ------------------------------------------------------------ base classes
# Underscore names: asv discovers the public subclasses in the family
# modules (and their inherited methods), never these bases themselves.

class _Case:
    """A workload at asv's params.  Subclasses set `params`/`param_names`
    and define case(self, *params) -> (workload, its keyword params)."""

    def setup(self, *params):
        self.workload, self.kwargs = self.case(*params)
        self.run = self.workload(mx, **self.kwargs)

    def time_run(self, *params):
        self.run()

    def _rate(self):
        # asv tracks only what a track_ returns, so time it here with the
        # median-of-runs helper compare.py uses (few runs: the whole suite
        # runs once per ISA level); the byte/flop count is the workload's own
        # (workloads.py), as in compare.py's share column.
        median, _, _ = W.measure(self.run, repeat=3, min_time=0.02, warmup=1)
        value, _ = self.workload.rate(median, **self.kwargs)
        return value


class _MemoryBound(_Case):
    def track_gbs(self, *params):
        return self._rate()

    track_gbs.unit = "GB/s"


class _ComputeBound(_Case):
    def track_gflops(self, *params):
        return self._rate()

    track_gflops.unit = "GFLOP/s"
