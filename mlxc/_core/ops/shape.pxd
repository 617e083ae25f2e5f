# Shape and view op constructors used by the other op modules.
from mlxc._core.array cimport array

cpdef array reshape_op(array a, tuple shape)          # shape already validated (no -1)
cpdef array transpose_op(array a, tuple perm)         # perm already validated
cpdef array broadcast_to_op(array a, tuple shape)     # shape already validated
cpdef array slice_op(array a, tuple start, tuple stop, tuple step)  # normalized per axis
