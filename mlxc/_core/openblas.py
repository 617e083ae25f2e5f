"""Loads the LAPACK that mlxc/_core/prims/lapack links: the scipy-openblas32 wheel's
OpenBLAS, found through the wheel's own helpers.  Loading it before the extension lets
the dynamic linker resolve the extension's dependency by its soname from anywhere
(an in-place build, site-packages, a virtualenv)."""
import ctypes
import os

_lib = None


def load():
    global _lib
    if _lib is None:
        import scipy_openblas32 as ob
        # OpenBLAS starts its worker threads when it loads, and they spin for a while
        # after every call even when told to use one thread: start only as many as
        # mlxc lets it use (MLXC_LAPACK_THREADS, default 1; see kernels/lapack/batched.c).
        saved = os.environ.get("OPENBLAS_NUM_THREADS")
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("MLXC_LAPACK_THREADS") or "1"
        try:
            _lib = ctypes.CDLL(os.path.join(ob.get_lib_dir(), ob.get_library(fullname=True)))
        finally:
            if saved is None:
                del os.environ["OPENBLAS_NUM_THREADS"]
            else:
                os.environ["OPENBLAS_NUM_THREADS"] = saved
    return _lib
