"""Elementwise primitives: Unary, Binary, Select, Copy (cast / materialize) and Arange.

Inputs may have fewer dims or size-1 dims: they broadcast against the output shape
here, in eval, so op construction adds no Broadcast nodes.
"""
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport (ROW_CONTIG, alloc_output, alloc_output_donate, array,
                               new_empty)
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

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return [_unary_vjp(self.op, primals[0], cotangents[0], outputs[0])]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_unary_jvp(self.op, primals[0], tangents[0], outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        from mlxc._core.ops.elementwise import unary_op
        return [unary_op(inputs[0], self.op)], [axes[0]]

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

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _binary_vjp(self.op, primals, cotangents, argnums, outputs)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_binary_jvp(self.op, primals, tangents, argnums, outputs)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _binary_vmap(self.op, inputs, axes)

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

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _select_vjp(primals, cotangents, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_select_jvp(primals, tangents, argnums, outputs)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _select_vmap(inputs, axes)


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

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _copy_vjp(primals, cotangents)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _copy_jvp(tangents, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _copy_vmap(inputs, axes, outputs)

    cpdef str name(self):
        return "AsType"


cdef class FP8(Primitive):
    """Conversion between floating types and float8 e4m3 codes held in uint8.  The codes
    are integers, so no gradient flows through either direction (zero cotangents and
    tangents); batching maps it elementwise."""

    def __init__(self, bint to):
        self.to = to

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st
        cdef int64_t n = out.size, one = 1
        cdef Layout L
        if not full_contig(a, out):       # strided or broadcast input: gather it first
            c = new_empty(a.dtype, out._shape)
            L = make_layout(out, [a, c])
            with nogil:
                st = mlxc_copy(a.dtype, a.dtype, (<array>c).data(), L.strides[1], a.data(),
                               L.strides[0], L.ndim, L.shape)
            check_status(st, self.name())
            a = <array>c
        alloc_output(out)
        with nogil:
            if self.to:
                st = mlxc_to_fp8(a.dtype, <uint8_t *>out.data(), a.data(), n)
            else:
                st = mlxc_from_fp8(out.dtype, out.data(), <const uint8_t *>a.data(), n)
        return check_status(st, self.name())

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is FP8 and (<FP8>other).to == self.to

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.zeros_like(primals[0])]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.zeros_like(outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        import mlxc.core as mx
        x = inputs[0]
        return [mx.to_fp8(x) if self.to else mx.from_fp8(x, outputs[0].dtype)], [axes[0]]

    cpdef list output_shapes(self, list inputs):
        return [inputs[0].shape]

    cpdef str name(self):
        return "ToFP8" if self.to else "FromFP8"


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

    # Arange has no inputs: nothing to differentiate or batch.
    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return []

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.zeros(outputs[0].shape, outputs[0].dtype)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return list(outputs), [-1]


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


# ---------------------------------------------------------------- transform rules
# Rules are plain functions (Cython allows no closures in cpdef methods) built from mlxc
# ops, so derivatives are themselves differentiable and batchable.

_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046
_TWO_OVER_SQRT_PI = 1.1283791670955126
_SQRT_PI_OVER_TWO = 0.8862269254527580


def _unary_factor(int op, x, y):
    """d f(x) / dx for the unary op (y = f(x)), or None where the derivative is zero."""
    import mlxc.core as mx
    if op == MLXC_ABS:
        return mx.sign(x)
    if op == MLXC_NEG:
        return -1.0
    if op == MLXC_SQRT:
        return 0.5 / y
    if op == MLXC_RSQRT:
        return -0.5 * y / x
    if op == MLXC_SQUARE:
        return 2.0 * x
    if op == MLXC_RECIPROCAL:
        return -(y * y)
    if op == MLXC_EXP:
        return y
    if op == MLXC_EXPM1:
        return y + 1.0
    if op == MLXC_LOG:
        return 1.0 / x
    if op == MLXC_LOG1P:
        return 1.0 / (x + 1.0)
    if op == MLXC_LOG2:
        return 1.0 / (x * _LN2)
    if op == MLXC_LOG10:
        return 1.0 / (x * _LN10)
    if op == MLXC_SIN:
        return mx.cos(x)
    if op == MLXC_COS:
        return -mx.sin(x)
    if op == MLXC_TAN:
        return 1.0 + y * y
    if op == MLXC_ARCSIN:
        return mx.rsqrt(1.0 - x * x)
    if op == MLXC_ARCCOS:
        return -mx.rsqrt(1.0 - x * x)
    if op == MLXC_ARCTAN:
        return 1.0 / (1.0 + x * x)
    if op == MLXC_SINH:
        return mx.cosh(x)
    if op == MLXC_COSH:
        return mx.sinh(x)
    if op == MLXC_TANH:
        return 1.0 - y * y
    if op == MLXC_ARCSINH:
        return mx.rsqrt(x * x + 1.0)
    if op == MLXC_ARCCOSH:
        if x.dtype == mx.complex64:
            # 1/sqrt(x*x - 1) is on the wrong branch where Re x < 0.
            return 1.0 / (mx.sqrt(x - 1.0) * mx.sqrt(x + 1.0))
        return mx.rsqrt(x * x - 1.0)
    if op == MLXC_ARCTANH:
        return 1.0 / (1.0 - x * x)
    if op == MLXC_SIGMOID:
        return y * (1.0 - y)
    if op == MLXC_ERF:
        return _TWO_OVER_SQRT_PI * mx.exp(-(x * x))
    if op == MLXC_ERFINV:
        return _SQRT_PI_OVER_TWO * mx.exp(y * y)
    return None          # sign, floor, ceil, round, predicates, bitwise: zero derivative


def _unary_linear(int op, v):
    """The linear unary ops applied to a (co)tangent."""
    import mlxc.core as mx
    if op == MLXC_CONJ:
        return mx.conj(v)
    if op == MLXC_REAL:
        return mx.real(v)
    if op == MLXC_IMAG:
        return mx.imag(v)
    return None


def _unary_vjp(int op, x, g, y):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like
    if op == MLXC_CONJ:
        return mx.conj(g)
    if op == MLXC_REAL or op == MLXC_IMAG:
        g = g.astype(mx.complex64)
        return g if op == MLXC_REAL else g * 1j
    f = _unary_factor(op, x, y)
    if f is None:
        return mx.zeros(x.shape, x.dtype)
    if x.dtype == mx.complex64 and op != MLXC_ABS:
        f = mx.conj(f)       # MLX's convention for complex inputs: g * conj(f'(x))
    return cast_like(g * f, x)


def _unary_jvp(int op, x, t, y):
    import mlxc.core as mx
    if op == MLXC_ABS and x.dtype == mx.complex64:
        # d|x| = Re(conj(x) t) / |x| (0 at x = 0)
        nz = y != 0
        return mx.where(nz, mx.real(mx.conj(x) * t) / mx.where(nz, y, 1.0), 0.0).astype(y.dtype)
    lin = _unary_linear(op, t)
    if lin is not None:
        return lin
    f = _unary_factor(op, x, y)
    if f is None:
        return mx.zeros(y.shape, _flat_tangent_dtype(op, x, t, y))
    if op == MLXC_ABS and x.dtype == mx.complex64:
        f = mx.conj(f)                   # d|x| = Re(conj(x) dx) / |x|
    r = t * f
    return r if r.dtype == y.dtype else r.astype(y.dtype)


def _flat_tangent_dtype(int op, x, t, y):
    """The dtype of a zero-derivative unary op's tangent, as MLX gives it: the tangent's
    own for the predicates MLX computes as one primitive on the input (isnan, isposinf,
    isneginf) and for logical_not of a bool input; bool where MLX first casts the input
    to bool or builds the predicate from logical ops (isinf, isfinite)."""
    if op == MLXC_ISNAN or op == MLXC_ISPOSINF or op == MLXC_ISNEGINF:
        return t.dtype
    if op == MLXC_LOGICAL_NOT:
        return t.dtype if x.dtype == y.dtype else y.dtype
    return y.dtype


def _binary_grads(int op, a, b, g, y):
    """Cotangents for both inputs (before unbroadcasting), None meaning zero."""
    import mlxc.core as mx
    if op == MLXC_ADD:
        return g, g
    if op == MLXC_SUB:
        return g, -g
    if op == MLXC_MUL:
        return g * b, g * a
    if op == MLXC_DIV:
        return g / b, -g * y / b
    if op == MLXC_REMAINDER:
        return g, -g * mx.floor_divide(a, b)
    if op == MLXC_POWER:
        pos = (a != 0) if a.dtype == mx.complex64 else (a > 0)
        safe_log = mx.log(mx.where(pos, a, 1.0))
        return g * b * mx.power(a, b - 1.0), g * y * safe_log
    if op == MLXC_MAXIMUM or op == MLXC_MINIMUM:
        # As MLX: a tie sends the gradient to b; a NaN on either side to neither.
        if op == MLXC_MAXIMUM:
            to_a, to_b = a > b, b >= a
        else:
            to_a, to_b = a < b, b <= a
        return mx.where(to_a, g, 0.0), mx.where(to_b, g, 0.0)
    if op == MLXC_ARCTAN2:
        d = a * a + b * b
        return g * b / d, -g * a / d
    if op == MLXC_LOGADDEXP:
        return g * mx.exp(a - y), g * mx.exp(b - y)
    return None, None     # floor_divide, comparisons, logical and bitwise ops


def _binary_vjp(int op, list primals, list cotangents, list argnums, list outputs):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, unbroadcast
    from mlxc._core.prims.rulekit import conj_vjp
    a, b = primals
    y = outputs[0]
    if op == MLXC_POWER:
        # MLX conjugates the complex vjps of the other ops, not power's (nor cumprod's).
        ga, gb = _binary_grads(op, a, b, cotangents[0], y)
    else:
        ga, gb = conj_vjp(lambda g: _binary_grads(op, a, b, g, y), cotangents[0], a, b)
    out = []
    for i in argnums:
        x = primals[i]
        gi = ga if i == 0 else gb
        if gi is None:
            out.append(mx.zeros(x.shape, x.dtype))
        else:
            out.append(cast_like(unbroadcast(gi, x.shape), x))
    return out


def _binary_jvp(int op, list primals, list tangents, list argnums, list outputs):
    import mlxc.core as mx
    y = outputs[0]
    a, b = primals
    ta = tb = None
    for i, t in zip(argnums, tangents):
        if i == 0:
            ta = t
        else:
            tb = t
    za = ta if ta is not None else mx.zeros(a.shape, a.dtype)
    zb = tb if tb is not None else mx.zeros(b.shape, b.dtype)
    fa, fb = _binary_grads(op, a, b, mx.ones(y.shape, y.dtype), y)
    r = None
    if fa is not None and ta is not None:
        r = fa * za
    if fb is not None and tb is not None:
        r = fb * zb if r is None else r + fb * zb
    if r is None:
        if MLXC_EQ <= op <= MLXC_GE:
            # As MLX: a comparison's tangent is zeros in its operands' (promoted) dtype.
            return mx.zeros(y.shape, mx.promote_types(a.dtype, b.dtype))
        return mx.zeros(y.shape, y.dtype)
    r = mx.broadcast_to(r, y.shape)
    return r if r.dtype == y.dtype else r.astype(y.dtype)


def _binary_vmap(int op, list inputs, list axes):
    from mlxc._core.ops.elementwise import binary_op
    from mlxc._core.prims.rulekit import align_elementwise
    a, b = align_elementwise(inputs, axes)
    return [binary_op(a, b, op)], [0]


def _select_vmap(list inputs, list axes):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import align_elementwise
    c, a, b = align_elementwise(inputs, axes)
    return [mx.where(c, a, b)], [0]


def _select_vjp(list primals, list cotangents, list argnums):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, unbroadcast
    c, a, b = primals
    g = cotangents[0]
    zero = mx.zeros((), g.dtype)
    out = []
    for i in argnums:
        x = primals[i]
        if i == 0:
            out.append(mx.zeros(x.shape, x.dtype))
        else:
            gi = mx.where(c, g, zero) if i == 1 else mx.where(c, zero, g)
            out.append(cast_like(unbroadcast(gi, x.shape), x))
    return out


def _select_jvp(list primals, list tangents, list argnums, list outputs):
    import mlxc.core as mx
    y = outputs[0]
    t = {i: v for i, v in zip(argnums, tangents)}
    ta = t.get(1, mx.zeros((), y.dtype))
    tb = t.get(2, mx.zeros((), y.dtype))
    return mx.broadcast_to(mx.where(primals[0], ta, tb), y.shape).astype(y.dtype)


def _copy_vjp(list primals, list cotangents):
    from mlxc._core.prims.rulekit import unbroadcast
    x = primals[0]
    g = cotangents[0]
    g = g if g.dtype == x.dtype else g.astype(x.dtype)
    return [unbroadcast(g, x.shape)]


def _copy_jvp(list tangents, list outputs):
    import mlxc.core as mx
    y = outputs[0]
    t = tangents[0]
    return [mx.broadcast_to(t, y.shape).astype(y.dtype)]


def _copy_vmap(list inputs, list axes, list outputs):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import move_batch_to_front
    x, ax = inputs[0], axes[0]
    y = outputs[0]
    x = move_batch_to_front(x, ax)
    missing = y.ndim - (x.ndim - 1)
    if missing > 0:
        x = mx.reshape(x, (x.shape[0],) + (1,) * missing + x.shape[1:])
    out = mx.copy(mx.broadcast_to(x, (x.shape[0],) + y.shape)).astype(y.dtype)
    return [out], [0]
