"""What every benchmark module shares: the array module and the workloads.

The workloads live one folder up (asv_benchmarks/workloads.py) so that
compare.py times exactly the same code.

MLXC_BENCH_MODULE picks the module under test (default mlxc.core); setting it
to mlx.core runs this same suite on MLX, for reference numbers or to check the
suite itself before mlxc builds.
"""

import importlib
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(_here) not in sys.path:
    sys.path.insert(0, os.path.dirname(_here))

import workloads as W  # noqa: E402

mx = importlib.import_module(os.environ.get("MLXC_BENCH_MODULE", "mlxc.core"))
