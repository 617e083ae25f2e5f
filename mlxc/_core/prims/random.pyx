"""Random primitives: RandomBits (MLX's threefry bits of a key, optionally turned into
MLX's float32 uniform / normal / randint values in the same pass) and MLXMath (MLX's
own log, log1p, erf, erfinv and exp, which the random transforms must use to give
MLX's bits; mlxc's vector math differs from them by an ulp here and there).

RandomBits' input is a uint32 key array (..., 2): its leading dims hold several keys
(vmap over keys), and the output's elements are split into one block per key, in
order, as MLX's RandomBits does.  The bits have no derivative: the key gets a zero
cotangent and the output a zero tangent, as the other integer-valued primitives.
"""
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport ROW_CONTIG, alloc_output, alloc_output_donate, array, new_node
from mlxc._core.kernels cimport *
from mlxc._core.primitive cimport Primitive, check_status

_MODE_NAMES = ("RandomBits", "RandomUniform", "RandomErfinv", "RandomNormal", "RandomRandint")
_MATH_NAMES = ("MLXLog", "MLXLog1p", "MLXErf", "MLXErfInv", "MLXExp")


cdef int mode_dtype(int mode) noexcept:
    if mode == MLXC_RANDOM_BITS:
        return MLXC_UINT32
    if mode == MLXC_RANDOM_RANDINT:
        return MLXC_INT32
    return MLXC_FLOAT32


cdef class RandomBits(Primitive):
    """Output `shape` of mode's dtype from the keys of its one input (..., 2)."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array key = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int64_t nkeys = key.size // 2, per_key, n = key.size
        cdef int st = 0, i
        cdef uint32_t *kbuf = NULL
        cdef const uint32_t *kp
        alloc_output(out)
        if nkeys == 0 or out.size == 0:
            return 0
        per_key = out.size // nkeys
        if key.flags & ROW_CONTIG:
            kp = <const uint32_t *>key.data()
        else:
            # a strided key (a transposed batch of keys under vmap): gather it first
            kbuf = <uint32_t *>malloc(n * sizeof(uint32_t))
            if kbuf == NULL:
                raise MemoryError()
            st = mlxc_copy(MLXC_UINT32, MLXC_UINT32, kbuf, NULL, key.data(), key.strides,
                           key.ndim, key.dims)
            kp = kbuf
        if st == 0:
            with nogil:
                st = mlxc_random(self.mode, out.data(), kp, nkeys, per_key, self.low,
                                 self.range, self.ilow, self.ihigh)
        free(kbuf)
        return check_status(st, self.name())

    cpdef list output_shapes(self, list inputs):
        return [self.shape]

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not RandomBits:
            return False
        cdef RandomBits o = <RandomBits>other
        return (o.shape == self.shape and o.mode == self.mode and o.low == self.low
                and o.range == self.range and o.ilow == self.ilow and o.ihigh == self.ihigh)

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import zeros_cotangent
        return [zeros_cotangent(primals[0]) for _ in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import zeros_cotangent
        return [zeros_cotangent(outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        """Batched keys give one block per key (MLX's rule): the key pair axis stays
        last, and the batch axis kax of the keys becomes axis kax of the output."""
        import mlxc.core as mx
        key = inputs[0]
        cdef int kax = axes[0]
        if kax < 0:
            return [random_node(key, self.shape, self.mode, self.low, self.range,
                                 self.ilow, self.ihigh)], [-1]
        if kax == key.ndim - 1:
            key = mx.swapaxes(key, kax, kax - 1)
            kax -= 1
        shape = self.shape[:kax] + (key.shape[kax],) + self.shape[kax:]
        return [random_node(key, shape, self.mode, self.low, self.range, self.ilow,
                            self.ihigh)], [kax]

    cpdef str name(self):
        return _MODE_NAMES[self.mode]


cpdef array random_node(array key, tuple shape, int mode, float low=0.0, float range=1.0,
                        int ilow=0, int ihigh=0):
    """A RandomBits node (no argument checks: the callers validated key and shape)."""
    cdef RandomBits p = RandomBits.__new__(RandomBits)
    p.shape = shape
    p.mode = mode
    p.low = low
    p.range = range
    p.ilow = ilow
    p.ihigh = ihigh
    return new_node(mode_dtype(mode), shape, p, (key,))


cdef class MLXMath(Primitive):
    """float32 -> float32 elementwise, MLX's formula for `func` (enum mlxc_mlxmath_func)."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array x = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st = 0
        cdef int64_t n = out.size
        alloc_output_donate(out, inputs)
        cdef const float *src = <const float *>x.data()
        if not (x.flags & ROW_CONTIG and x.size == n):
            # strided or broadcast input: lay it out in out first, then work in place
            st = mlxc_copy(MLXC_FLOAT32, MLXC_FLOAT32, out.data(), NULL, x.data(), x.strides,
                           x.ndim, x.dims)
            src = <const float *>out.data()
        if st == 0:
            with nogil:
                st = mlxc_mlx_math(self.func, <float *>out.data(), src, n)
        return check_status(st, self.name())

    cpdef list output_shapes(self, list inputs):
        return [inputs[0].shape]

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is MLXMath and (<MLXMath>other).func == self.func

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return [_mlx_math_deriv(self.func, primals[0], outputs[0], cotangents[0])]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_mlx_math_deriv(self.func, primals[0], outputs[0], tangents[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return [mlx_math(inputs[0], self.func)], [axes[0]]

    cpdef str name(self):
        return _MATH_NAMES[self.func]


cpdef array mlx_math(array x, int func):
    """MLX's `func` of float32 x (the caller casts)."""
    cdef MLXMath p = MLXMath.__new__(MLXMath)
    p.func = func
    return new_node(MLXC_FLOAT32, x._shape, p, (x,))


def _mlx_math_deriv(int func, x, y, g):
    """g times the derivative of func at x (y = func(x)), in mlxc ops."""
    import mlxc.core as mx
    if func == MLXC_MLXMATH_LOG:
        return g / x
    if func == MLXC_MLXMATH_LOG1P:
        return g / (1.0 + x)
    if func == MLXC_MLXMATH_ERF:
        return g * (1.1283791670955126 * mx.exp(-mx.square(x)))      # 2 / sqrt(pi)
    if func == MLXC_MLXMATH_ERFINV:
        return g * (0.886226925452758 * mx.exp(mx.square(y)))        # sqrt(pi) / 2
    return g * y
