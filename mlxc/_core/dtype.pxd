# Dtype objects, categories and the promotion table.
cdef enum:
    NUM_DTYPES = 14

cdef class Dtype:
    cdef readonly int code        # enum mlxc_dtype
    cdef readonly int size        # bytes per element
    cdef readonly str name        # MLX's name, e.g. "float32"
    cdef readonly str kind        # 'b' bool, 'u' unsigned, 'i' signed, 'f' float, 'c' complex

cdef Dtype dtype_of(int code)                     # the Dtype object of a code
cdef int itemsize(int code) noexcept nogil        # bytes per element of a code
cdef char kind_of(int code) noexcept nogil        # kind letter of a code

cdef int promote(int a, int b) noexcept nogil
cdef bint is_float(int code) noexcept nogil       # floating or complex
cdef bint is_integral(int code) noexcept nogil    # bool or integer
cdef Dtype to_dtype(object d)                     # accept Dtype; raise TypeError otherwise
