# Reduction, arg-reduction, scan and sort primitive families.
from mlxc._core.primitive cimport Primitive

cdef class Reduce(Primitive):     # output: the kept axes, in order (keepdims is a reshape)
    cdef readonly int op          # enum mlxc_reduce_op
    cdef readonly tuple axes      # reduced axes, normalized, ascending, unique

cdef class ArgReduce(Primitive):  # uint32 output: the input's shape without axis
    cdef readonly int op          # enum mlxc_argreduce_op
    cdef readonly int axis

cdef class Scan(Primitive):       # output: input's shape and dtype
    cdef readonly int op          # enum mlxc_scan_op
    cdef readonly int axis
    cdef readonly bint reverse
    cdef readonly bint inclusive

cdef class Sort(Primitive):       # ascending, stable, NaN last, along axis
    cdef readonly int axis

cdef class ArgSort(Primitive):    # uint32 indices of a stable ascending sort along axis
    cdef readonly int axis
