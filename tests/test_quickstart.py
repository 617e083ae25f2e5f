"""The README's quick-start example runs as a user runs it (a fresh interpreter
in the repository) and learns: its loss goes down and it prints its progress."""
import os
import re
import subprocess
import sys

from helpers import CHILD_CWD, child_env

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "examples", "quickstart.py")


def test_quickstart_runs_and_learns():
    r = subprocess.run([sys.executable, EXAMPLE], env=child_env(), cwd=CHILD_CWD,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    losses = [float(v) for v in re.findall(r"loss[ =:]+([0-9.eE+-]+)", r.stdout)]
    assert len(losses) >= 2, r.stdout
    assert losses[-1] < 0.1 * losses[0], r.stdout
