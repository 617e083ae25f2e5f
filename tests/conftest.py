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
