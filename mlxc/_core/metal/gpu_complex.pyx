"""complex64 on the GPU for the elementwise family (metal/complex.metal): Unary, Binary and
Copy (AsType to and from complex64).

register() runs after gpu_eval's (backend._KERNEL_MODULES order) and wraps its handlers:
a node with a complex64 operand runs here, every other node goes to gpu_eval unchanged.
(Select, copies between complex64 arrays, reductions, scans and sorts of complex64 are the
families' own handlers: their kernels move complex64 as 64-bit words or are templated over
it.)
"""
from mlxc._core.array cimport alloc_output_donate, array
from mlxc._core.prims.elementwise cimport Binary, Copy, Unary
from mlxc._core.metal.gpu_eval cimport dispatch_elementwise, dtype_suffix

cdef enum:
    COMPLEX64 = 13

_KERNELS = "complex.metal"
# Unary ops with a complex64 kernel (enum mlxc_unary_op), the CPU's set: abs .. log10 but
# expm1/log1p, sin .. arctanh, isnan, isinf, isfinite, conj, real, imag.
_UNARY_OK = frozenset([0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                       22, 23, 24, 31, 32, 33, 38, 39, 40])
_BINARY_OK = frozenset([0, 1, 2, 3, 6, 9, 10])      # add sub mul div power eq ne


cdef int no_kernel(str op) except -1:
    raise TypeError(f"[{op}] complex64 has no Metal kernel for this op yet: run it on the "
                    f"CPU (stream=mx.cpu).")


def unary_c64(Unary prim, list inputs, list outputs):
    if prim.op not in _UNARY_OK:
        no_kernel(prim.name())
    alloc_output_donate(<array>outputs[0], inputs)
    dispatch_elementwise(_KERNELS, "unary_c64_g", inputs, <array>outputs[0], (prim.op,))


def binary_c64(Binary prim, list inputs, list outputs):
    if prim.op not in _BINARY_OK or (<array>inputs[1]).dtype != COMPLEX64:
        no_kernel(prim.name())
    alloc_output_donate(<array>outputs[0], inputs)
    dispatch_elementwise(_KERNELS, "binary_c64_g", inputs, <array>outputs[0], (prim.op,))


def copy_c64(Copy prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    if a.dtype == COMPLEX64:
        name = "copy_from_c64_g"
        if out.dtype != COMPLEX64:
            dtype_suffix(out.dtype, "AsType")       # float64: not on the GPU
    else:
        name = "copy_to_c64_g_" + dtype_suffix(a.dtype, "AsType")
    alloc_output_donate(out, inputs)
    dispatch_elementwise(_KERNELS, name, inputs, out, (out.dtype,), True)


def _route(fn, base):
    """fn for nodes with a complex64 input or output, else base."""
    def handler(prim, list inputs, list outputs):
        if (<array>outputs[0]).dtype == COMPLEX64:
            return fn(prim, inputs, outputs)
        for x in inputs:
            if (<array>x).dtype == COMPLEX64:
                return fn(prim, inputs, outputs)
        return base(prim, inputs, outputs)
    return handler


def register(dict table):
    for prim, fn in ((Unary, unary_c64), (Binary, binary_c64), (Copy, copy_c64)):
        table[prim] = _route(fn, table[prim])
