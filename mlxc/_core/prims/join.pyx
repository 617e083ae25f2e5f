"""Join primitives: Concatenate copies each input into its region of a fresh output.

Transform rules: the vjp hands each input its slice of the cotangent (a view), the jvp
concatenates the tangents (zeros where an input has none), vmap concatenates along the
shifted axis with every input's batch axis first."""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport alloc_output, array
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport mlxc_copy
from mlxc._core.layout cimport collapse
from mlxc._core.primitive cimport Primitive, check_status

# Copies below this many elements run without releasing the GIL (releasing costs more).
cdef enum:
    NOGIL_SIZE = 16384


cdef class Concatenate(Primitive):
    def __init__(self, int axis):
        self.axis = axis

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array out = <array>outputs[0]
        cdef array x
        cdef int i, nd, st = 0, ax = self.axis
        cdef int64_t pos = 0
        cdef char *dst
        cdef int64_t *strides[2]
        cdef int64_t *mem = <int64_t *>malloc(3 * max(out.ndim, 1) * sizeof(int64_t))
        if mem == NULL:
            raise MemoryError()
        cdef int64_t *shape = mem
        strides[0] = mem + max(out.ndim, 1)
        strides[1] = mem + 2 * max(out.ndim, 1)
        try:
            alloc_output(out)
            for o in inputs:
                x = <array>o
                if x.size == 0:
                    pos += x.dims[ax]
                    continue
                # The input's region starts pos elements into the output along axis;
                # the copy sees out's strides over x's shape there.
                dst = out.data() + pos * out.strides[ax] * itemsize(out.dtype)
                for i in range(x.ndim):
                    shape[i] = x.dims[i]
                    strides[0][i] = x.strides[i]
                    strides[1][i] = out.strides[i]
                nd = collapse(x.ndim, shape, strides, 2)
                if x.size < NOGIL_SIZE:
                    st = mlxc_copy(x.dtype, out.dtype, dst, strides[1], x.data(), strides[0],
                                   nd, shape)
                else:
                    with nogil:
                        st = mlxc_copy(x.dtype, out.dtype, dst, strides[1], x.data(),
                                       strides[0], nd, shape)
                check_status(st, "Concatenate")
                pos += x.dims[ax]
        finally:
            free(mem)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Concatenate and (<Concatenate>other).axis == self.axis

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _concat_vjp(self.axis, primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_concat_jvp(self.axis, primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _concat_vmap(self.axis, inputs, axes)


# Rules as plain functions: mlxc ops imported lazily (mlxc.core imports this module).

def _concat_vjp(int axis, list primals, g, list argnums):
    """Input i's cotangent is g[..., off_i:off_i + n_i, ...] along axis, in its dtype."""
    from mlxc._core.prims.rulekit import cast_like
    offsets = [0]
    for x in primals:
        offsets.append(offsets[-1] + x.shape[axis])
    lead = (slice(None),) * axis
    out = []
    for i in argnums:
        piece = g[lead + (slice(offsets[i], offsets[i + 1]),)]
        out.append(cast_like(piece, primals[i]))
    return out


def _concat_jvp(int axis, list primals, list tangents, list argnums, out):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like
    pieces = []
    for x in primals:
        pieces.append(None)
    for k in range(len(argnums)):
        pieces[argnums[k]] = cast_like(tangents[k], out)
    for i in range(len(primals)):
        if pieces[i] is None:
            pieces[i] = mx.zeros(primals[i].shape, out.dtype)
    return mx.concatenate(pieces, axis)


def _concat_vmap(int axis, list inputs, list axes):
    """Every input gets its batch axis first (unbatched ones broadcast to the batch), then
    one concatenate along axis + 1."""
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import batch_size, materialize_batch
    n = batch_size(inputs, axes)
    if n is None:
        return [mx.concatenate(inputs, axis)], [-1]
    xs = []
    for x, ax in zip(inputs, axes):
        xs.append(materialize_batch(x, ax, n))
    return [mx.concatenate(xs, axis + 1)], [0]
