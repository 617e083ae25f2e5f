"""Elementwise primitives: Unary, Binary, Select, Copy (cast / materialize) and Arange.

Inputs may have fewer dims or size-1 dims: they broadcast against the output shape
here, in eval, so op construction adds no Broadcast nodes.
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport (ROW_CONTIG, alloc_output, alloc_output_donate, array)
from mlxc._core.kernels cimport *
from mlxc._core.layout cimport broadcast_strides, collapse
from mlxc._core.primitive cimport Primitive, check_status

# Work below this many elements runs without releasing the GIL (releasing costs more).
cdef enum:
    NOGIL_SIZE = 16384

_UNARY_NAMES = ("Abs", "Negative", "Sign", "Sqrt", "Rsqrt", "Square", "Reciprocal", "Exp",
                "Expm1", "Log", "Log1p", "Log2", "Log10", "Sin", "Cos", "Tan", "ArcSin",
                "ArcCos", "ArcTan", "Sinh", "Cosh", "Tanh", "ArcSinh", "ArcCosh", "ArcTanh",
                "Sigmoid", "Erf", "ErfInv", "Floor", "Ceil", "Round", "IsNaN", "IsInf",
                "IsFinite", "IsPosInf", "IsNegInf", "LogicalNot", "BitwiseInvert", "Conjugate",
                "Real", "Imag")
_BINARY_NAMES = ("Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Remainder", "Power",
                 "Maximum", "Minimum", "Equal", "NotEqual", "Less", "LessEqual", "Greater",
                 "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalXor", "BitwiseAnd",
                 "BitwiseOr", "BitwiseXor", "LeftShift", "RightShift", "ArcTan2", "LogAddExp")


cdef class Layout:
    """Collapsed shape and per-operand strides of an elementwise call over out's shape."""
    cdef int ndim
    cdef int64_t *shape
    cdef int64_t *strides[4]
    cdef int64_t *mem

    def __dealloc__(self):
        free(self.mem)


cdef Layout make_layout(array out, list inputs):
    cdef Layout L = Layout.__new__(Layout)
    cdef int nops = len(inputs), k, nd = max(out.ndim, 1)
    L.mem = <int64_t *>malloc((nops + 1) * nd * sizeof(int64_t))
    if L.mem == NULL:
        raise MemoryError()
    L.shape = L.mem
    for k in range(out.ndim):
        L.shape[k] = out.dims[k]
    for k in range(nops):
        L.strides[k] = L.mem + (k + 1) * nd
        broadcast_strides(<array>inputs[k], out, L.strides[k])
    L.ndim = collapse(out.ndim, L.shape, L.strides, nops)
    return L


cdef inline bint full_contig(array x, array out) noexcept:
    return x.size == out.size and (x.flags & ROW_CONTIG) != 0


cdef class Unary(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st, op = self.op, dt = a.dtype
        cdef int64_t n = out.size, one = 1
        cdef Layout L
        alloc_output_donate(out, inputs)
        if full_contig(a, out):
            if n < NOGIL_SIZE:
                st = mlxc_unary(op, dt, out.data(), a.data(), 1, &n, &one)
            else:
                with nogil:
                    st = mlxc_unary(op, dt, out.data(), a.data(), 1, &n, &one)
        else:
            L = make_layout(out, inputs)
            with nogil:
                st = mlxc_unary(op, dt, out.data(), a.data(), L.ndim, L.shape, L.strides[0])
        return check_status(st, self.name())

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Unary and (<Unary>other).op == self.op

    cpdef str name(self):
        return _UNARY_NAMES[self.op]


cdef class Binary(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array b = <array>inputs[1]
        cdef array out = <array>outputs[0]
        cdef int st, op = self.op, dt = a.dtype
        cdef int64_t n = out.size, one = 1, zero = 0
        cdef Layout L
        alloc_output_donate(out, inputs)
        if full_contig(a, out) and (full_contig(b, out) or b.size == 1):
            if n < NOGIL_SIZE:
                st = mlxc_binary(op, dt, out.data(), a.data(), &one, b.data(),
                                 &one if b.size == n else &zero, 1, &n)
            else:
                with nogil:
                    st = mlxc_binary(op, dt, out.data(), a.data(), &one, b.data(),
                                     &one if b.size == n else &zero, 1, &n)
        elif a.size == 1 and full_contig(b, out):
            with nogil:
                st = mlxc_binary(op, dt, out.data(), a.data(), &zero, b.data(), &one, 1, &n)
        else:
            L = make_layout(out, inputs)
            with nogil:
                st = mlxc_binary(op, dt, out.data(), a.data(), L.strides[0], b.data(),
                                 L.strides[1], L.ndim, L.shape)
        return check_status(st, self.name())

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Binary and (<Binary>other).op == self.op

    cpdef str name(self):
        return _BINARY_NAMES[self.op]


cdef class Select(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array c = <array>inputs[0]
        cdef array a = <array>inputs[1]
        cdef array b = <array>inputs[2]
        cdef array out = <array>outputs[0]
        cdef int st
        alloc_output_donate(out, inputs[1:])
        cdef Layout L = make_layout(out, inputs)
        with nogil:
            st = mlxc_select(out.dtype, out.data(), c.data(), L.strides[0], a.data(),
                             L.strides[1], b.data(), L.strides[2], L.ndim, L.shape)
        return check_status(st, "Select")

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Select


cdef class Copy(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st
        cdef int64_t n = out.size, one = 1
        alloc_output_donate(out, inputs)
        if full_contig(a, out):
            with nogil:
                st = mlxc_copy(a.dtype, out.dtype, out.data(), &one, a.data(), &one, 1, &n)
        else:
            L = make_layout(out, [a, out])
            with nogil:
                st = mlxc_copy(a.dtype, out.dtype, out.data(), L.strides[1], a.data(),
                               L.strides[0], L.ndim, L.shape)
        return check_status(st, "AsType")

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Copy

    cpdef str name(self):
        return "AsType"


cdef class Arange(Primitive):
    def __init__(self, double start, double step):
        self.start = start
        self.step = step

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array out = <array>outputs[0]
        cdef int st
        alloc_output(out)
        with nogil:
            st = mlxc_arange(out.dtype, out.data(), out.size, self.start, self.step)
        return check_status(st, "Arange")

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Arange and (<Arange>other).start == self.start
                and (<Arange>other).step == self.step)


cdef list _UNARY = []
cdef list _BINARY = []
cdef Unary _u
cdef Binary _b
for _i in range(MLXC_NUM_UNARY):
    _u = Unary.__new__(Unary)
    _u.op = _i
    _UNARY.append(_u)
for _i in range(MLXC_NUM_BINARY):
    _b = Binary.__new__(Binary)
    _b.op = _i
    _BINARY.append(_b)
cdef Select _SELECT = Select.__new__(Select)
cdef Copy _COPY = Copy.__new__(Copy)

cdef Unary unary_prim(int op):
    return <Unary>_UNARY[op]

cdef Binary binary_prim(int op):
    return <Binary>_BINARY[op]

cdef Select select_prim():
    return _SELECT

cdef Copy copy_prim():
    return _COPY
