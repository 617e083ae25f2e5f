"""Which GPU backend this process has: none, Metal (macOS + pyobjc), or the emulator.

Decided once, at first use.  MLXC_METAL_EMULATE=1 selects the emulated Metal device (a
test tool that lives in mlxc's test suite, not in the package); on macOS the Metal
executor is used when pyobjc-framework-metal is installed and a device exists.
"""
import os
import sys

# The modules holding primitives' eval_gpu, one per kernel family; each has register(table).
# gpu_complex wraps gpu_eval's elementwise handlers: it stays after gpu_eval.
_KERNEL_MODULES = ("gpu_eval", "gpu_index", "gpu_scan", "gpu_random", "gpu_linalg", "gpu_fast",
                   "gpu_fft", "gpu_compiled", "gpu_linalg_collective", "gpu_complex")

_executor = None
_decided = False
_forced = None           # the test suite's switch (set_emulated_for_tests), else None


def emulated():
    if _forced is not None:
        return _forced
    return os.environ.get("MLXC_METAL_EMULATE", "0") not in ("", "0")


def requested():
    """Whether a GPU backend may be present, without importing anything heavy."""
    return emulated() or sys.platform == "darwin"


def executor():
    """The executor, or None without a GPU backend.  With MLXC_METAL_EMULATE=1 and no
    emulator importable this raises (a silent CPU-only run would hide the request)."""
    global _executor, _decided
    if not _decided:
        if emulated():
            from mlxc._core.metal.executor_emu import EmulatedExecutor
            _executor = EmulatedExecutor()
        elif sys.platform == "darwin":
            from mlxc._core.metal.executor_metal import MetalExecutor, metal_present
            _executor = MetalExecutor() if metal_present() else None
        if _executor is not None:
            from importlib import import_module
            from mlxc._core.primitive import _gpu_table
            for name in _KERNEL_MODULES:
                import_module("mlxc._core.metal." + name).register(_gpu_table)
        _decided = True
    return _executor


def available():
    """Whether mx.gpu can run work in this process."""
    if not _decided and not requested():
        return False
    return executor() is not None


def set_emulated_for_tests(on):
    """Switch the emulated device on or off in this process (the test suite's GPU
    fixtures; MLXC_METAL_EMULATE=1 does it for a whole process).  Returns the previous
    state."""
    global _forced, _decided, _executor
    from mlxc._core.primitive import _gpu_table
    before = emulated()
    _forced = bool(on)
    _decided = False
    _executor = None
    _gpu_table.clear()
    if on:
        executor()
    return before


def device_info():
    ex = executor()
    return ex.device_info() if ex is not None else {}
