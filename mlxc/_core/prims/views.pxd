# View primitives: outputs share the input's buffer with new shape, strides and offset.
from mlxc._core.primitive cimport Primitive

cdef class Reshape(Primitive):        # copies only when the input's strides do not allow a view
    cdef readonly tuple spec          # the user's shape when it had a -1 (shapeless export), or None

cdef class Transpose(Primitive):
    cdef readonly tuple perm          # output axis i is input axis perm[i]

cdef class Slice(Primitive):
    cdef readonly tuple start         # per-axis first index (already normalized)
    cdef readonly tuple step          # per-axis step (may be negative)

cdef class Broadcast(Primitive):      # output shape is the array's shape; strides 0 where repeated
    pass

cdef class AsStrided(Primitive):
    cdef readonly tuple strides       # element strides of the output
    cdef readonly long long offset    # element offset from the input's element 0

cdef class View(Primitive):           # reinterpret the bytes as another dtype (last axis rescaled)
    pass

cdef class PassThrough(Primitive):    # output = input's data (shared eval of the two below)
    pass

cdef class StopGradient(PassThrough): # identity that blocks gradients
    pass

cdef class Identity(PassThrough):     # marks a transform's copy of a primal; rules pass through
    pass

cdef class Depends(Primitive):        # outputs: views of the first n inputs; the rest are deps
    cdef readonly int n
