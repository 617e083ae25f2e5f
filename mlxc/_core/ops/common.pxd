# Argument checks shared by every op constructor.
cdef tuple broadcast_shapes2(tuple a, tuple b, str op)     # numpy broadcasting or ValueError
cdef int normalize_axis(object axis, int ndim, str op) except? -1   # int in range or an error
cdef tuple normalize_axes(object axes, int ndim, str op)   # None -> all; tuple of unique axes
cdef tuple check_shape(object shape, str op)               # tuple of non-negative ints, size in int64
cdef object int_arg(object v, str op, str name)            # an integer argument within int64
cdef object check_int_range(object v, str op, str name)    # v (a Python int) within int64
cdef object shape_size(tuple shape, str op)                # element count; OverflowError past int64
cdef object check_nbytes(tuple shape, int dtype, str op)   # byte size; OverflowError past int64

# An op's stream= argument: `scope = on_stream(stream, "op")` first thing in the op (see
# common.pyx); the scope sets the device of the nodes made until the op returns.
cdef class StreamScope:
    cdef int saved               # the thread's node device before the scope
    cdef bint active             # close() still has to restore saved
    cdef void close(self) noexcept
cdef int stream_device(object stream, str op) except -1   # 0 cpu / 1 gpu, or an error
cdef StreamScope enter_stream(object stream, str op)

cdef inline StreamScope on_stream(object stream, str op):
    if stream is None:
        return None
    return enter_stream(stream, op)
