"""Seeded fuzzing of the public API (tests/fuzz_child.py): every public function of
mlxc.core and its submodules, with random valid and invalid arguments (shapes, dtypes,
axes, extreme integers, empty and 0-d arrays, NaN/Inf), in child interpreters. Each
call must give a result or a Python exception: never a crash, never a hang, and never
a silently accepted invalid argument (an axis outside every operand's rank, a negative
dimension). 10,000 calls by default (4 seeds); MLXC_FUZZ_CALLS=N (per seed) and
MLXC_FUZZ_SEEDS=K run more."""
import json
import os
import subprocess
import sys

import pytest

from helpers import CHILD_CWD, child_env

pytestmark = pytest.mark.mlxc_only

HERE = os.path.dirname(os.path.abspath(__file__))
CALLS = int(os.environ.get("MLXC_FUZZ_CALLS", "2500"))
SEEDS = list(range(1, 1 + int(os.environ.get("MLXC_FUZZ_SEEDS", "4"))))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_calls_raise_or_return(seed, tmp_path):
    log = str(tmp_path / "calls.log")
    try:
        r = subprocess.run([sys.executable, os.path.join(HERE, "fuzz_child.py"), str(seed),
                            str(CALLS), log], env=child_env(MLXC_NUM_THREADS="2"), cwd=CHILD_CWD,
                           capture_output=True, text=True, timeout=60 + CALLS // 10)
    except subprocess.TimeoutExpired:
        last = open(log).read().splitlines()[-1:]
        pytest.fail(f"hang (seed {seed}) at: {last}")
    if r.returncode != 0:
        last = open(log).read().splitlines()[-1:]
        pytest.fail(f"crash rc={r.returncode} (seed {seed}) at: {last}\n{r.stderr[-3000:]}")
    stats = json.loads(r.stdout)
    assert stats["functions"] >= 150
    assert stats["ok"] > CALLS // 5                      # most calls are valid ones
    assert sum(stats["exceptions"].values()) > CALLS // 10
    assert not stats["accepted_invalid"], stats["accepted_invalid"][:20]
