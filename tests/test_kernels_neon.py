"""Runs the C kernel tests built for aarch64 under qemu-user (tests/c/run_neon.sh):
the NEON kernels against the scalar ones and the double references, independent of
Python.  Skipped, with the script's reason, where the cross-compiler or qemu is
missing (.ci/run tries to install both)."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "c", "run_neon.sh")
SKIP = 77  # run_neon.sh: the tools are missing

pytestmark = pytest.mark.mlxc_only


def test_c_kernels_neon_pass():
    r = subprocess.run(["sh", RUN], capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    if r.returncode == SKIP:
        lines = [l for l in out.splitlines() if l.startswith("skipped:")]
        pytest.skip(lines[0] if lines else out.strip()[-300:])
    assert r.returncode == 0, out[-4000:]
