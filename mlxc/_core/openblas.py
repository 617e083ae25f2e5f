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
        _lib = ctypes.CDLL(os.path.join(ob.get_lib_dir(), ob.get_library(fullname=True)))
    return _lib
