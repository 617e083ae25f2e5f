# Elementwise op constructors used by the other op modules.
from mlxc._core.array cimport array

cpdef array binary_op(object a, object b, int op)      # promotion, weak scalars, broadcasting
cpdef array unary_op(object a, int op)
cpdef array astype_op(object a, int dtype)             # cast node (a itself if already dtype)
cpdef array contiguous_op(array a)                     # row-major copy node
cdef array to_array_like(object x, array like)         # Python scalar -> weak-typed array
