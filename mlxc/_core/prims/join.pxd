# Join primitives: outputs assembled from several inputs.
from mlxc._core.primitive cimport Primitive

cdef class Concatenate(Primitive):   # inputs laid end to end along axis (cast to the out dtype)
    cdef readonly int axis           # normalized axis
