"""What every benchmark module shares: the array module and the workloads.

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
