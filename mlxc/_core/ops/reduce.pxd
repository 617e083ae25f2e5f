# Reduction op constructors used by the other op modules.
from mlxc._core.array cimport array

cdef tuple reduce_axes(object axis, int ndim, str op)       # None/int/sequence -> sorted axes
cdef int scan_axis(object axis, int ndim, str op) except? -1  # one axis, IndexError if bad
cpdef array reduce_op(array x, tuple axes, bint keepdims, int op)  # axes from reduce_axes
cpdef array sum_op(array x, tuple axes, bint keepdims)      # MLX's accumulation dtypes
