# Search primitives.
from mlxc._core.primitive cimport Primitive

cdef class SearchSorted(Primitive):   # inputs (sorted 1-D seq, values), one dtype; out uint32
    cdef readonly bint right          # side='right'
