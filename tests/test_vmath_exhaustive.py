"""Exhaustive accuracy of the float32 vector math (kernels/vmath*): every one of
the 2^32 float32 inputs of each function, at each SIMD level this CPU has, against
a float64 reference; the max error in ulp is printed (run with -s to see it) and
must stay within the bound stated in kernels/vmath.c.

Opt-in (minutes per function and level): MLXC_SLOW_TESTS=1 pytest -s -m slow
tests/test_vmath_exhaustive.py; MLXC_SLOW_FUNCS=exp,log picks functions.  The
C driver is tests/c/test_vmath.c --exhaustive NAME LEVEL (threads: MLXC_NUM_THREADS)."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CC = os.environ.get("CC", "gcc")

FUNCS = ["exp", "expm1", "log", "log1p", "log2", "sin", "cos", "tan", "tanh", "sigmoid",
         "erf", "erfinv"]
if os.environ.get("MLXC_SLOW_FUNCS"):
    FUNCS = [f for f in os.environ["MLXC_SLOW_FUNCS"].split(",") if f]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.mlxc_only,
    pytest.mark.skipif(os.environ.get("MLXC_SLOW_TESTS") != "1",
                       reason="exhaustive 2^32-input sweeps: set MLXC_SLOW_TESTS=1"),
    pytest.mark.skipif(shutil.which(CC) is None, reason="no C compiler for the driver"),
]


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    exe = str(tmp_path_factory.mktemp("vmath") / "test_vmath")
    kernels = sorted(os.path.join(ROOT, "kernels", f)
                     for f in os.listdir(os.path.join(ROOT, "kernels")) if f.endswith(".c"))
    cmd = [CC, "-O2", "-std=c11", "-fno-math-errno", "-pthread",
           "-I", os.path.join(ROOT, "kernels", "include"), *kernels,
           os.path.join(HERE, "c", "test_vmath.c"), "-lm", "-o", exe]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return exe


@pytest.mark.parametrize("level", ["avx2", "avx512"])
@pytest.mark.parametrize("func", FUNCS)
def test_exhaustive(driver, func, level):
    r = subprocess.run([driver, "--exhaustive", func, level], capture_output=True, text=True,
                       timeout=4 * 3600)
    if r.returncode == 2 and "not available" in r.stderr:
        pytest.skip(f"{level} not available on this CPU")
    sys.stdout.write(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
