# The LAPACK library must be in the process before prims/lapack's extension loads.
from mlxc._core.openblas import load as _load_openblas

_load_openblas()
