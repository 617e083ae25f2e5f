"""mx.metal: MLX's Metal namespace.

Metal is available on macOS with pyobjc-framework-metal, or emulated on Linux with
MLXC_METAL_EMULATE=1 (the test suite's emulated device); otherwise it is as in MLX's
CPU-only build.  Memory is unified: the GPU uses mlxc's allocator, so the memory
functions are MLX's deprecated aliases of the top-level ones (the same numbers), printing
MLX's deprecation notice once each.  Capture (a .gputrace) is not implemented: it does
nothing, as in MLX's CPU build.
"""
import sys as _sys

from mlxc._core import allocator as _allocator

__all__ = ["is_available", "device_info", "get_active_memory", "get_peak_memory",
           "reset_peak_memory", "get_cache_memory", "set_memory_limit", "set_cache_limit",
           "set_wired_limit", "clear_cache", "start_capture", "stop_capture"]

_warned = set()


def _deprecated(name):
    if name not in _warned:
        _warned.add(name)
        print(f"mx.metal.{name} is deprecated and will be removed in a future version. "
              f"Use mx.{name} instead.", file=_sys.stderr)


def is_available():
    """is_available() -> bool

    Check if the Metal back-end is available (Metal on macOS, or the emulated device)."""
    from mlxc._core.metal import backend
    return backend.available()


def device_info():
    """device_info() -> dict[str, str | int]

    Metal's device information (the emulated device says so: "emulated": True); empty
    without Metal."""
    from mlxc._core.metal import backend
    _deprecated("device_info")
    return backend.device_info() if backend.available() else {}


def _alias(name):
    target = getattr(_allocator, name)

    def f(*args, **kwargs):
        _deprecated(name)
        return target(*args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = target.__doc__
    return f


get_active_memory = _alias("get_active_memory")
get_peak_memory = _alias("get_peak_memory")
reset_peak_memory = _alias("reset_peak_memory")
get_cache_memory = _alias("get_cache_memory")
set_memory_limit = _alias("set_memory_limit")
set_cache_limit = _alias("set_cache_limit")
set_wired_limit = _alias("set_wired_limit")
clear_cache = _alias("clear_cache")


def start_capture(path):
    """start_capture(path: str) -> None

    Start a Metal capture into path (a .gputrace).  Without Metal there is nothing to
    capture: as in MLX's CPU build, this does nothing."""
    if not isinstance(path, str):
        raise TypeError(f"[start_capture] path must be a str, got {type(path).__name__}.")


def stop_capture():
    """stop_capture() -> None

    Stop a Metal capture (nothing to stop without Metal)."""
