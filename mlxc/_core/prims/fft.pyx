"""FFT: a 1-D discrete Fourier transform along one axis (kernels/fft.c), parameterized by
kind (complex forward / inverse, real-to-complex, complex-to-real), length and scale.

Multi-axis transforms are chains of these nodes (ops/fft.pyx).  Every transform is linear,
so jvp applies the same node to the tangent and vjp applies the adjoint (conjugate
transpose, MLX's convention): the opposite complex transform for C2C; for R2C the inverse
transform of the zero-extended cotangent, real part; for C2R the R2C transform of the
cotangent with the bins that stand for two conjugate bins weighted 2.  vmap moves the
axis past the batch axis.
"""
from mlxc._core.array cimport alloc_output, array, new_node
from mlxc._core.kernels cimport (MLXC_COMPLEX64, MLXC_FFT_C2C, MLXC_FFT_C2C_INV, MLXC_FFT_C2R,
                                 MLXC_FFT_R2C, MLXC_FLOAT32, MLXC_FLOAT64, mlxc_fft)
from mlxc._core.allocator cimport Buffer
from mlxc._core.dtype cimport dtype_of
from mlxc._core.prims.index cimport contig_or_none
from mlxc._core.primitive cimport Primitive, check_status
from libc.stdint cimport int64_t

C2C, C2C_INV, R2C, C2R = MLXC_FFT_C2C, MLXC_FFT_C2C_INV, MLXC_FFT_R2C, MLXC_FFT_C2R
_NAMES = {MLXC_FFT_C2C: "FFT", MLXC_FFT_C2C_INV: "IFFT", MLXC_FFT_R2C: "RFFT",
          MLXC_FFT_C2R: "IRFFT"}


cpdef tuple out_shape(tuple shape, int axis, int kind, long long n):
    """The node's output shape for an input of this shape."""
    cdef long long m = n // 2 + 1 if kind == MLXC_FFT_R2C else n
    return shape[:axis] + (m,) + shape[axis + 1:]


cpdef array fft_node(array x, int axis, int kind, long long n, double scale):
    """The FFT node on x (dtype and length along axis already right for kind)."""
    return new_node(MLXC_FLOAT32 if kind == MLXC_FFT_C2R else MLXC_COMPLEX64,
                    out_shape(x._shape, axis, kind, n), FFT(axis, kind, n, scale), (x,))


cdef class FFT(Primitive):
    def __init__(self, int axis, int kind, long long n, double scale):
        self.axis = axis
        self.kind = kind
        self.n = n
        self.scale = scale

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array x = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef Buffer xb = contig_or_none(x, x.dtype)
        cdef void *xp = x.data() if xb is None else xb.ptr
        cdef int64_t outer = 1, inner = 1
        cdef int i, st
        for i in range(self.axis):
            outer *= x.dims[i]
        for i in range(self.axis + 1, x.ndim):
            inner *= x.dims[i]
        alloc_output(out)
        with nogil:
            st = mlxc_fft(self.kind, x.dtype, xp, out.data(), self.n, outer, inner, self.scale)
        return check_status(st, "fft")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        import mlxc.core as mx
        cdef array x = <array>primals[0]
        g = cotangents[0]
        ax = self.axis
        if self.kind == MLXC_FFT_C2C or self.kind == MLXC_FFT_C2C_INV:
            r = fft_node(mx.astype(g, mx.complex64), ax,
                         MLXC_FFT_C2C_INV if self.kind == MLXC_FFT_C2C else MLXC_FFT_C2C,
                         self.n, self.scale)
        elif self.kind == MLXC_FFT_R2C:
            g = mx.astype(g, mx.complex64)
            extra = self.n - g.shape[ax]
            if extra > 0:
                zshape = g.shape[:ax] + (extra,) + g.shape[ax + 1:]
                g = mx.concatenate([g, mx.zeros(zshape, mx.complex64)], axis=ax)
            r = fft_node(g, ax, MLXC_FFT_C2C_INV, self.n, self.scale)
        else:
            r = fft_node(mx.astype(g, mx.float32), ax, MLXC_FFT_R2C, self.n, self.scale)
            m = self.n // 2 + 1
            w = [1.0] + [2.0] * (m - 1)
            if self.n % 2 == 0:
                w[-1] = 1.0
            wa = mx.reshape(mx.array(w, mx.float32), (m,) + (1,) * (x.ndim - ax - 1))
            r = r * wa
        if x.dtype != MLXC_COMPLEX64:
            r = mx.real(r)
        return [mx.astype(r, dtype_of(x.dtype))]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        cdef array x = <array>primals[0]
        t = tangents[0]
        if x.dtype != MLXC_COMPLEX64 and mx.issubdtype(t.dtype, mx.complexfloating):
            t = mx.real(t)
        return [fft_node(mx.astype(t, dtype_of(x.dtype)), self.axis, self.kind, self.n, self.scale)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        cdef int b = axes[0]
        cdef array x = <array>inputs[0]
        cdef int ax = self.axis + 1 if b <= self.axis else self.axis
        return [fft_node(x, ax, self.kind, self.n, self.scale)], [b]

    cpdef list output_shapes(self, list inputs):
        return [out_shape((<array>inputs[0])._shape, self.axis, self.kind, self.n)]

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not FFT:
            return False
        cdef FFT o = <FFT>other
        return (o.axis == self.axis and o.kind == self.kind and o.n == self.n
                and o.scale == self.scale)

    cpdef str name(self):
        return _NAMES[self.kind]
