# Linear algebra op constructors used by the other op modules.
from mlxc._core.array cimport array

cdef array matmul_op(array a, array b, int dt, str op)   # dt inexact (checked by the caller)
cdef array tensordot_op(array x, array y, list ax_a, list ax_b)  # axes normalized, same length
