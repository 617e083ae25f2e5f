"""pytest configuration for the mlxc test suite.

Set MLXC_TEST_REFERENCE=mlx to run the whole suite against Apple's real MLX
(``mlx.core``) instead of mlxc: a shim in ``sys.modules`` makes
``import mlxc`` / ``import mlxc.core`` resolve to ``mlx`` / ``mlx.core``.
Tests marked ``mlxc_only`` check behaviour where mlxc deliberately goes beyond
MLX (e.g. bounds-checked indexing); they are skipped under the reference.
"""
import os
import sys

import pytest

REFERENCE = os.environ.get("MLXC_TEST_REFERENCE", "").strip().lower()

if REFERENCE:
    if REFERENCE != "mlx":
        raise RuntimeError(
            f"MLXC_TEST_REFERENCE={REFERENCE!r} is not supported (only 'mlx')"
        )
    import mlx  # noqa: E402
    import mlx.core  # noqa: E402

    sys.modules["mlxc"] = mlx
    sys.modules["mlxc.core"] = mlx.core

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: opt-in long tests (run with MLXC_SLOW_TESTS=1)")
    config.addinivalue_line(
        "markers",
        "mlxc_only: behaviour where mlxc deliberately goes beyond MLX "
        "(skipped when MLXC_TEST_REFERENCE=mlx)",
    )


def pytest_collection_modifyitems(config, items):
    if not REFERENCE:
        return
    skip = pytest.mark.skip(reason="mlxc_only: not MLX behaviour")
    for item in items:
        if "mlxc_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _restore_default_device():
    """Tests that change the default device/stream must not leak it."""
    import mlxc.core as mx

    dev = mx.default_device()
    yield
    if mx.default_device() != dev:
        mx.set_default_device(dev)


# ---------------------------------------------------------------- the GPU (Metal) tests
# GPU tests run on the emulated Metal device (tests/metal_emu, imported as metal_emu; this
# directory is on sys.path above) switched on for the test only, or with
# MLXC_TEST_METAL=real on a Mac, on Metal itself.  Without either they are skipped.
METAL_REAL = os.environ.get("MLXC_TEST_METAL", "").strip().lower() == "real"


def gpu_skip_reason():
    if REFERENCE:
        return "GPU tests run against mlxc only"
    if METAL_REAL:
        return None if sys.platform == "darwin" else "MLXC_TEST_METAL=real needs macOS"
    try:
        import metal_emu  # noqa: F401
    except ImportError as e:
        return f"the emulated Metal device (tests/metal_emu) is not importable: {e}"
    return None


@pytest.fixture
def gpu():
    """The GPU device, on (emulated or real Metal) for this test; the CPU stays the
    default device."""
    reason = gpu_skip_reason()
    if reason:
        pytest.skip(reason)
    import mlxc.core as mx
    from mlxc._core.metal import backend
    before = backend.set_emulated_for_tests(not METAL_REAL)
    try:
        yield mx.gpu
    finally:
        mx.set_default_device(mx.cpu)
        backend.set_emulated_for_tests(before)


@pytest.fixture
def dispatched(gpu):
    """The GPU on, and the names of the kernels the emulated executor dispatches during the
    test, in order (the oracle of which nodes ran on the GPU; skipped on real Metal)."""
    if METAL_REAL:
        pytest.skip("counts the emulated executor's dispatches")
    from mlxc._core.metal import backend
    ex = backend.executor()
    names = []
    real = ex.dispatch
    ex.dispatch = lambda fn, *a: (names.append(fn.name), real(fn, *a))[1]
    try:
        yield names
    finally:
        ex.dispatch = real


# Existing op-test modules run a second time with the default device set to the GPU.
# Tests listed with a reason use primitives that have no Metal kernel yet (or types the
# GPU lacks) and are skipped in the GPU run only.
GPU_SUBSET = {
    "test_binary.py": {},
    "test_unary.py": {},
    "test_gather_scatter.py": {},
    "test_indexing.py": {},
}


def pytest_generate_tests(metafunc):
    skips = GPU_SUBSET.get(os.path.basename(str(metafunc.module.__file__)))
    if skips is None or REFERENCE:
        return
    metafunc.fixturenames.append("op_device")
    metafunc.parametrize("op_device", ["cpu", "gpu"])


@pytest.fixture(autouse=True)
def _op_device_switch(request):
    """In the GPU_SUBSET modules' gpu runs: the GPU on and the default device."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or callspec.params.get("op_device") != "gpu":
        yield
        return
    skips = GPU_SUBSET[os.path.basename(str(request.module.__file__))]
    name = request.node.originalname
    if name in skips:
        pytest.skip(f"GPU run: {skips[name]}")
    reason = gpu_skip_reason()
    if reason:
        pytest.skip(reason)
    import mlxc.core as mx
    from mlxc._core.metal import backend
    before = backend.set_emulated_for_tests(not METAL_REAL)
    mx.set_default_device(mx.gpu)
    try:
        yield
    finally:
        mx.set_default_device(mx.cpu)
        backend.set_emulated_for_tests(before)
