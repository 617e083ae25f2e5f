"""MLXC_CPU_ISA / MLXC_NUM_THREADS as the README documents them: a level the CPU has is
used, one above it is clamped to the detected level, a name that is not a level (or a
thread count that is not a positive integer) falls back to the default with a
RuntimeWarning; the default thread count follows the process's CPU affinity."""
import json
import os
import subprocess
import sys

import pytest

import mlxc.core as mx
from helpers import CHILD_CWD, child_env

pytestmark = pytest.mark.mlxc_only

DETECTED = mx.cpu_info()["isa"]
_CHILD = ("import json, warnings, sys\n"
          "with warnings.catch_warnings(record=True) as w:\n"
          "    warnings.simplefilter('always')\n"
          "    import mlxc.core as mx\n"
          "print(json.dumps({'info': mx.cpu_info(), 'warnings': [str(x.message) for x in w]}))\n")


def child(**env):
    r = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(**env),
                       cwd=CHILD_CWD, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def test_valid_level_is_used_without_warning():
    out = child(MLXC_CPU_ISA="scalar")
    assert out["info"]["isa"] == "scalar" and out["warnings"] == []
    assert set(out["info"]["kernels"].values()) == {"scalar"}


# The levels each family has code for on x86-64 (hand-written or per-level compiled);
# a family runs the highest of them that the level in force allows.
_X86_FAMILY_LEVELS = {
    "matmul": ("scalar", "avx2", "avx512"), "unary": ("scalar", "avx2", "avx512"),
    "binary": ("scalar", "avx2", "avx512"), "reduce": ("scalar", "avx2", "avx512"),
    "argreduce": ("scalar", "avx2", "avx512"), "scan": ("scalar", "avx2"),
    "copy": ("scalar", "avx2"), "cast": ("scalar", "avx2"), "select": ("scalar", "avx2", "avx512"),
    "sort": ("scalar", "avx2", "avx512"), "gather": ("scalar",), "fft": ("scalar", "avx2", "avx512"),
    "conv": ("scalar", "avx2", "avx512"), "random": ("scalar", "avx2", "avx512"),
    "fast": ("scalar", "avx2", "avx512"), "quant": ("scalar", "avx2", "avx512"),
}
_ORDER = ("scalar", "avx2", "avx512")


@pytest.mark.skipif(DETECTED not in _ORDER, reason="the table is x86-64's")
@pytest.mark.parametrize("level", [lv for lv in _ORDER
                                   if DETECTED in _ORDER and
                                   _ORDER.index(lv) <= _ORDER.index(DETECTED)])
def test_each_family_reports_its_own_dispatch(level):
    """cpu_info()['kernels'] is each family's own pick, not the global level repeated:
    scan/copy/cast have no AVX-512 code and run their AVX2 code at level avx512."""
    out = child(MLXC_CPU_ISA=level)
    assert out["info"]["isa"] == level
    want = {f: max((lv for lv in have if _ORDER.index(lv) <= _ORDER.index(level)),
                   key=_ORDER.index) for f, have in _X86_FAMILY_LEVELS.items()}
    assert out["info"]["kernels"] == want


@pytest.mark.skipif(DETECTED == "avx512", reason="needs a CPU without AVX-512")
def test_level_above_the_cpu_is_clamped():
    out = child(MLXC_CPU_ISA="avx512")
    assert out["info"]["isa"] == DETECTED and out["warnings"] == []


@pytest.mark.parametrize("value", ["AVX2", "sse4", "avx-512", ""])
def test_invalid_level_warns_and_uses_detected(value):
    out = child(MLXC_CPU_ISA=value)
    assert out["info"]["isa"] == DETECTED
    if value:
        assert any("MLXC_CPU_ISA" in w and repr(value) in w for w in out["warnings"]), out
    else:
        assert out["warnings"] == []


@pytest.mark.parametrize("value", ["0", "-3", "two", "1.5"])
def test_invalid_thread_count_warns_and_uses_default(value):
    default = len(os.sched_getaffinity(0))
    out = child(MLXC_NUM_THREADS=value)
    assert out["info"]["num_threads"] == default
    assert any("MLXC_NUM_THREADS" in w for w in out["warnings"]), out


def test_thread_count_env():
    assert child(MLXC_NUM_THREADS="3")["info"]["num_threads"] == 3


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs two usable CPUs")
def test_default_thread_count_follows_affinity():
    # the child pins itself to one CPU before importing mlxc: the pool then has 1 thread
    cpu = min(os.sched_getaffinity(0))
    code = "import os\nos.sched_setaffinity(0, {%d})\n%s" % (cpu, _CHILD)
    r = subprocess.run([sys.executable, "-c", code], env=child_env(MLXC_NUM_THREADS=""),
                       cwd=CHILD_CWD, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["info"]["num_threads"] == 1
