"""Runs the standalone C kernel test (tests/c/run.sh: ASan/UBSan build -- a plain build
where the compiler has no sanitizer runtime -- every dtype and layout checked against
scalar double references at every SIMD level of this CPU), independent of Python."""
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "c", "run.sh")

pytestmark = pytest.mark.mlxc_only


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "gcc")) is None,
                    reason="no C compiler to build the kernel test")
def test_c_kernels_pass():
    r = subprocess.run(["sh", RUN], capture_output=True, text=True, timeout=1500)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    # every family ran at every SIMD level this CPU has (at least scalar and one more)
    assert out.count("-- level ") >= 2, out[-4000:]
    assert "OK:" in out, out[-4000:]
