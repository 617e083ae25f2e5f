"""Builds and runs tests/c/test_reduce_threads.c: reductions, arg-reductions and
scans with 1, 2 and 3 threads at every SIMD level this CPU has give bit-identical
results (fixed reduction trees) that match double / integer references.  Linked with the
package's kernel library (compiling every kernel again cost CI over a minute)."""
import glob
import os
import shutil
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CC = os.environ.get("CC", "gcc")


@pytest.mark.mlxc_only
@pytest.mark.skipif(shutil.which(CC) is None, reason="no C compiler to build the test")
def test_reduce_threads_deterministic():
    # the installed package's kernel library (the code that ships), else the sources
    import mlxc._core
    libdir = os.path.join(os.path.dirname(os.path.abspath(mlxc._core.__file__)), "lib")
    if glob.glob(os.path.join(libdir, "libmlxc_kernels.*")):
        kernels = [f"-L{libdir}", "-lmlxc_kernels", f"-Wl,-rpath,{libdir}"]
    else:
        kernels = sorted(glob.glob(os.path.join(ROOT, "kernels", "*.c")))
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "test_reduce_threads")
        cmd = [CC, "-O2", "-std=c11", "-pthread", "-I", os.path.join(ROOT, "kernels", "include"),
               os.path.join(ROOT, "tests", "c", "test_reduce_threads.c"), *kernels, "-lm", "-o",
               exe]
        b = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert b.returncode == 0, (b.stdout + b.stderr)[-4000:]
        r = subprocess.run([exe], capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
        assert "0 failed" in r.stdout
