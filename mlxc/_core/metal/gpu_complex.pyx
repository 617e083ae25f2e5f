"""complex64 on the GPU for the elementwise family (metal/complex.metal): Unary, Binary,
Copy (AsType to and from complex64) and Select.

register() runs after gpu_eval's (backend._KERNEL_MODULES order) and wraps its handlers:
a node with a complex64 operand runs here, every other node goes to gpu_eval unchanged.
(This keeps gpu_eval.pyx and elementwise.metal untouched.)
"""
from libc.stdint cimport int64_t

from mlxc._core.array cimport alloc_output, alloc_output_donate, array
from mlxc._core.prims.elementwise cimport Binary, Copy, Select, Unary
from mlxc._core.metal.gpu_eval cimport (dtype_suffix, i32, input_binding, layout_meta,
                                        output_binding, u32)

from mlxc._core.metal.dispatch import dispatch, threads_1d

cdef enum:
    COMPLEX64 = 13
    FLOAT32 = 11

_KERNELS = "complex.metal"
# Unary ops with a complex64 kernel (enum mlxc_unary_op): abs .. log10 but expm1/log1p,
# sin, cos, tan, sinh, cosh, tanh, isnan, isinf, isfinite, conj, real, imag.
_UNARY_OK = frozenset([0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 15, 19, 20, 21, 31, 32, 33,
                       38, 39, 40])
_BINARY_OK = frozenset([0, 1, 2, 3, 6, 9, 10])      # add sub mul div power eq ne


cdef int no_kernel(str op) except -1:
    raise TypeError(f"[{op}] complex64 has no Metal kernel for this op yet: run it on the "
                    f"CPU (stream=mx.cpu).")


def unary_c64(Unary prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int nd
    cdef int64_t n = out.size
    if prim.op not in _UNARY_OK:
        no_kernel(prim.name())
    if out.dtype == COMPLEX64:
        alloc_output_donate(out, inputs)
    else:
        alloc_output(out)
    if n == 0:
        return
    src, off = input_binding(a)
    meta = layout_meta(out, [a], [off], &nd)
    grid, tg = threads_1d(n)
    dispatch(_KERNELS, "unary_c64_g", {0: src, 1: output_binding(out), 2: meta, 3: i32(nd),
                                       4: i32(prim.op), 5: u32(n)}, grid, tg)


def binary_c64(Binary prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array b = <array>inputs[1]
    cdef array out = <array>outputs[0]
    cdef int nd
    cdef int64_t n = out.size
    if prim.op not in _BINARY_OK or b.dtype != COMPLEX64:
        no_kernel(prim.name())
    if out.dtype == COMPLEX64:
        alloc_output_donate(out, inputs)
    else:
        alloc_output(out)
    if n == 0:
        return
    sa, oa = input_binding(a)
    sb, ob = input_binding(b)
    meta = layout_meta(out, [a, b], [oa, ob], &nd)
    grid, tg = threads_1d(n)
    dispatch(_KERNELS, "binary_c64_g", {0: sa, 1: sb, 2: output_binding(out), 3: meta,
                                        4: i32(nd), 5: i32(prim.op), 6: u32(n)}, grid, tg)


def copy_c64(Copy prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int nd
    cdef int64_t n = out.size, zero = 0
    if a.dtype == COMPLEX64:
        name = "copy_from_c64_g"
        if out.dtype != COMPLEX64:
            dtype_suffix(out.dtype, "AsType")       # float64: not on the GPU
    else:
        name = "copy_to_c64_g_" + dtype_suffix(a.dtype, "AsType")
    alloc_output_donate(out, inputs)
    if n == 0:
        return
    src, off = input_binding(a)
    meta = layout_meta(out, [a, out], [off, zero], &nd)
    grid, tg = threads_1d(n)
    dispatch(_KERNELS, name, {0: src, 1: output_binding(out), 2: meta, 3: i32(nd),
                              4: i32(out.dtype), 5: u32(n)}, grid, tg)


def select_c64(Select prim, list inputs, list outputs):
    cdef array c = <array>inputs[0]
    cdef array a = <array>inputs[1]
    cdef array b = <array>inputs[2]
    cdef array out = <array>outputs[0]
    cdef int nd
    cdef int64_t n = out.size
    alloc_output_donate(out, inputs[1:])
    if n == 0:
        return
    sc, oc = input_binding(c)
    sa, oa = input_binding(a)
    sb, ob = input_binding(b)
    meta = layout_meta(out, [c, a, b], [oc, oa, ob], &nd)
    grid, tg = threads_1d(n)
    dispatch(_KERNELS, "select_c64_g", {0: sc, 1: sa, 2: sb, 3: output_binding(out),
                                        4: meta, 5: i32(nd), 6: u32(n)}, grid, tg)


def _route(fn, base, int which):
    """fn for nodes whose operand `which` (or output, -1) is complex64, else base."""
    def handler(prim, list inputs, list outputs):
        cdef array x = <array>(outputs[0] if which < 0 else inputs[which])
        if x.dtype == COMPLEX64 or (<array>inputs[0]).dtype == COMPLEX64:
            return fn(prim, inputs, outputs)
        return base(prim, inputs, outputs)
    return handler


def register(dict table):
    table[Unary] = _route(unary_c64, table[Unary], 0)
    table[Binary] = _route(binary_c64, table[Binary], 0)
    table[Copy] = _route(copy_c64, table[Copy], -1)
    table[Select] = _route(select_c64, table[Select], -1)
