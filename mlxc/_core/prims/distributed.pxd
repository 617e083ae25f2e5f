# Collective communication over a distributed Group (mx.distributed).
from mlxc._core.primitive cimport Primitive

cdef enum:
    ALL_SUM = 0
    ALL_MAX = 1
    ALL_MIN = 2
    ALL_GATHER = 3      # concatenate along axis 0 over the ranks
    SUM_SCATTER = 4     # sum over the ranks, then rank r keeps block r of axis 0

cdef class Collective(Primitive):
    cdef readonly int op
    cdef readonly object group        # mlxc.core.distributed.Group
