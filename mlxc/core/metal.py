"""mx.metal: MLX's Metal namespace as its CPU-only build has it.

Metal is not available.  The memory functions are MLX's deprecated aliases of the
top-level ones: they answer from mlxc's allocator (the same functions), printing MLX's
deprecation notice once each.  Capture has nothing to record without Metal and, as in
MLX's CPU build, does nothing.
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

    Check if the Metal back-end is available (never, in mlxc's CPU build)."""
    return False


def device_info():
    """device_info() -> dict[str, str | int]

    Metal's device information: empty without Metal (mx.device_info describes the CPU)."""
    _deprecated("device_info")
    return {}


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
