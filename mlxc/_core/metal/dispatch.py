"""The one dispatch interface of the GPU half.

A kernel is named by its .metal file (under metal/, installed as mlxc/_metal) and its
host name (the template instance); a dispatch binds buffers ({index: (address, nbytes)}
for memory from mlxc's allocator, or bytes for small constants, as setBytes), a grid and a
threadgroup size, and optional threadgroup memory ({index: nbytes}).  groups=False is
dispatchThreads (grid counts threads; the last group may be partial), groups=True is
dispatchThreadgroups (grid counts groups).  The executor (Metal or the emulated device)
compiles each file once and caches pipelines.
"""
import os

from mlxc._core.metal import backend

_here = os.path.dirname(os.path.abspath(__file__))
# Installed: mlxc/_metal; in a source tree: the top-level metal/ beside mlxc/.
_CANDIDATES = (os.path.join(_here, "..", "..", "_metal"),
               os.path.join(_here, "..", "..", "..", "metal"))
_kernel_dir = None
_functions = {}


def kernel_dir():
    global _kernel_dir
    if _kernel_dir is None:
        for d in _CANDIDATES:
            if os.path.isfile(os.path.join(d, "elementwise.metal")):
                _kernel_dir = os.path.normpath(d)
                break
        else:
            raise RuntimeError("[metal] the Metal kernel sources (mlxc/_metal) are missing from "
                               "this installation.")
    return _kernel_dir


def function(file, host_name):
    """The compiled function (pipeline) host_name of metal/<file>, cached."""
    key = (file, host_name)
    fn = _functions.get(key)
    if fn is None:
        ex = backend.executor()
        if ex is None:
            raise RuntimeError("[metal] no GPU backend in this process.")
        fn = _functions[key] = ex.function(os.path.join(kernel_dir(), file), host_name)
    return fn


def dispatch(file, host_name, buffers, grid, threadgroup, threadgroup_memory=None,
             groups=False):
    """Run one kernel to completion (the executors finish each dispatch before returning:
    eval's nodes run in order on one queue)."""
    fn = function(file, host_name)
    backend.executor().dispatch(fn, buffers, tuple(grid), tuple(threadgroup),
                                threadgroup_memory, groups)


def threads_1d(n, width=256):
    """Grid and threadgroup for n threads in one dimension (n >= 1)."""
    return (n, 1, 1), (min(width, n), 1, 1)
