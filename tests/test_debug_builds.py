"""The debug and sanitizer builds, in the suite: the extension is built from a copy
of this source tree with MLXC_DEBUG=1 (Cython bounds checks, -O0 -g) and
MLXC_SANITIZE=1 (AddressSanitizer + UndefinedBehaviorSanitizer, the runtime loaded
with LD_PRELOAD) together, and runs a fast subset of the Python suite.

The build takes minutes: the tests run in CI (the CI environment variable is set
there) or with MLXC_BUILD_TESTS=1, and are skipped otherwise."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CC = os.environ.get("CC", "gcc")
ENABLED = bool(os.environ.get("MLXC_BUILD_TESTS") or os.environ.get("CI"))

pytestmark = [
    pytest.mark.mlxc_only,
    pytest.mark.skipif(not ENABLED, reason="builds take minutes: set MLXC_BUILD_TESTS=1 (CI does)"),
    pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "setup.py")),
                       reason="needs the source tree"),
    pytest.mark.skipif(shutil.which(CC) is None, reason="needs a C compiler"),
]

# Fast files that reach every engine part and kernel family (about a minute at -O0).
SUBSET = ["test_array.py", "test_binary.py", "test_unary.py", "test_reduce.py",
          "test_indexing.py", "test_gather_scatter.py", "test_write_bounds.py",
          "test_sort_kernels.py", "test_random.py", "test_custom_function.py",
          "test_rules_linalg_join.py", "test_linalg.py", "test_partition.py",
          "test_checkpoint.py", "test_io.py"]


def _copy_tree(dst):
    """The sources only: no built extensions, generated C or build directories, so the
    flags of this build cannot mix with an in-place one."""
    ignore = shutil.ignore_patterns("*.so", "*.pyd", "build", "__pycache__", ".git")
    for name in ("kernels", "metal", "mlxc", "tests", "examples"):
        shutil.copytree(os.path.join(ROOT, name), os.path.join(dst, name), ignore=ignore)
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), dst)
    for dirpath, _, files in os.walk(os.path.join(dst, "mlxc")):
        for f in files:                      # Cython output: regenerated with this build's flags
            if f.endswith(".c") and os.path.exists(os.path.join(dirpath, f[:-2] + ".pyx")):
                os.remove(os.path.join(dirpath, f))


def _build_and_test(tmp_path, build_env, run_env):
    src = str(tmp_path / "src")
    _copy_tree(src)
    env = dict(os.environ, **build_env)
    env.pop("PYTHONPATH", None)
    b = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-j", "2"],
                       cwd=src, env=env, capture_output=True, text=True, timeout=1800)
    assert b.returncode == 0, (b.stdout + b.stderr)[-4000:]
    env = dict(os.environ, **run_env, PYTHONPATH=src)
    files = [os.path.join(src, "tests", f) for f in SUBSET]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *files],
                       cwd=src, env=env, capture_output=True, text=True, timeout=1800)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    return out


def _runtime(name):
    p = subprocess.run([CC, f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
    return p if os.path.isabs(p) and os.path.exists(p) else None


def test_debug_sanitizer_build_runs_the_subset(tmp_path):
    """One build with both: Cython bounds checks at -O0 -g, and AddressSanitizer +
    UndefinedBehaviorSanitizer.  (Two separate builds cost CI a second full compile and
    subset run and find nothing this one does not.)  Without an ASan runtime the
    debug build still runs, unsanitized."""
    asan = _runtime("libasan.so")
    if asan is None:
        out = _build_and_test(tmp_path, {"MLXC_DEBUG": "1"}, {})
        assert " passed" in out
        pytest.skip(f"debug build passed; {CC} has no AddressSanitizer runtime")
    out = _build_and_test(
        tmp_path, {"MLXC_DEBUG": "1", "MLXC_SANITIZE": "1"},
        {"LD_PRELOAD": asan,
         # CPython and numpy keep allocations to exit: leaks are not what this checks
         "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
         "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"})
    assert " passed" in out
    assert "runtime error" not in out        # UBSan reports, in case one did not halt
