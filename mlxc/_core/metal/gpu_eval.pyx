"""eval_gpu of the primitives that have Metal kernels (see metal/README.md's table).

Each function allocates its outputs from mlxc's allocator (memory is unified: the GPU
reads and writes the same buffers, no copies between devices), builds the collapsed
layout the kernels take, and dispatches through mlxc._core.metal.dispatch.  View
primitives move no data: their eval is the CPU's (it only sets strides and offsets).
register() fills the primitive table; primitives not in it raise on the GPU.
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from cpython.bytes cimport PyBytes_FromStringAndSize

from mlxc._core.array cimport (ROW_CONTIG, alloc_output, alloc_output_donate, array,
                               new_empty)
from mlxc._core.dtype cimport itemsize
from mlxc._core.layout cimport MAX_OPERANDS, broadcast_strides, collapse
from mlxc._core.primitive cimport Primitive
from mlxc._core.prims.elementwise cimport Binary, Copy, Select, Unary
from mlxc._core.prims.reduce cimport ArgReduce, Reduce
from mlxc._core.prims cimport views

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch, threads_1d

# Kernel-name suffix of each dtype code (float64 and complex64 have no GPU kernels).
_DTYPE_NAMES = ("bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
                "int64", "float16", "bfloat16", "float32", None, None)
_DTYPE_FULL = ("bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
               "int64", "float16", "bfloat16", "float32", "float64", "complex64")

cdef enum:
    FIRST_PRED_UNARY = 31       # MLXC_ISNAN .. MLXC_ISNEGINF give bool
    LAST_PRED_UNARY = 35
    FIRST_PRED_BINARY = 9       # MLXC_EQ .. MLXC_LOGICAL_XOR give bool
    LAST_PRED_BINARY = 17
    MAX_GRID = 0xFFFFFFFF       # thread_position_in_grid is a uint
    UINT64 = 4
    COMPLEX64 = 13
    RALL = 4                    # enum mlxc_reduce_op: ALL, ANY give bool

_KERNELS = "elementwise.metal"


cdef str dtype_suffix(int code, str op, bint complex_ok=False):
    """The kernel-name suffix of dtype `code`; complex64 ("complex64") only where the
    family's kernels are templated over it too (complex_ok)."""
    if complex_ok and code == COMPLEX64:
        return "complex64"
    cdef str name = _DTYPE_NAMES[code] if 0 <= code < len(_DTYPE_NAMES) else None
    if name is None:
        if code == COMPLEX64:
            raise TypeError(f"[{op}] complex64 has no Metal kernel for this op yet: run it "
                            f"on the CPU (stream=mx.cpu).")
        raise TypeError(f"[{op}] {_DTYPE_FULL[code]} is not supported on the GPU (Metal has "
                        f"no float64, as in MLX).")
    return name


cdef tuple input_binding(array a):
    """An input bound as its whole buffer, and its element offset into it."""
    cdef int64_t isz = itemsize(a.dtype)
    if a.offset % isz:
        raise ValueError("[metal] an input's byte offset is not a multiple of its item size.")
    return (<size_t>a.buf.ptr, a.buf.nbytes), a.offset // isz


cdef tuple output_binding(array out):
    return (<size_t>out.data(), <size_t>(out.size * itemsize(out.dtype)))


cdef bytes layout_meta(array out, list ops, list offsets, int *ndim):
    """The kernels' meta buffer: collapsed shape, each operand's strides over out's shape,
    then each operand's element offset (all int64)."""
    cdef int nops = len(ops), nd = max(out.ndim, 1), k, i, n
    cdef int64_t *strides[MAX_OPERANDS]
    cdef int64_t *mem = <int64_t *>malloc(((nops + 1) * nd + nops) * sizeof(int64_t))
    if mem == NULL:
        raise MemoryError()
    try:
        for i in range(out.ndim):
            mem[i] = out.dims[i]
        for k in range(nops):
            strides[k] = mem + (k + 1) * nd
            broadcast_strides(<array>ops[k], out, strides[k])
        n = collapse(out.ndim, mem, strides, nops)
        # Pack: shape[n], strides[k][n] for each k, offsets[nops].
        for k in range(nops):
            for i in range(n):
                mem[n * (k + 1) + i] = strides[k][i]
        for k in range(nops):
            mem[n * (nops + 1) + k] = offsets[k]
        ndim[0] = n
        return PyBytes_FromStringAndSize(<char *>mem, ((nops + 1) * n + nops) * sizeof(int64_t))
    finally:
        free(mem)


cdef bytes i32(int v):
    return _pack("<i", v)


cdef bytes u32(int64_t v):
    if v > MAX_GRID:
        raise ValueError(f"[metal] {v} elements exceed one dispatch's grid (2**32 - 1 threads).")
    return _pack("<I", v)


cdef str move_suffix(int code, str op):
    """dtype_suffix for kernels that only move elements (copies, select): complex64 moves
    as a 64-bit word (uint64)."""
    return "uint64" if code == COMPLEX64 else dtype_suffix(code, op)


cdef str copy_kernel(int src, int dst, str op, int *out_code):
    """elementwise.metal's copy_g_<src dtype> and its out-dtype code.  A complex64 ->
    complex64 copy (reshape, concatenate, ...) moves 64-bit words: copy_g_uint64 (casts
    to or from complex64 are complex.metal's)."""
    if src == COMPLEX64 and dst == COMPLEX64:
        out_code[0] = UINT64
        return "copy_g_uint64"
    dtype_suffix(dst, op)
    out_code[0] = dst
    return "copy_g_" + dtype_suffix(src, op)


cdef int dispatch_elementwise(str kernels, str name, list ins, array out, tuple consts,
                              bint out_operand=False) except -1:
    """The elementwise kernels' binding, one thread per element of out (allocated):
    buffers 0.. the inputs, then out, the layout meta, ndim, each of `consts` as an int32,
    the element count.  out_operand: out is a strided operand of the meta too (copies)."""
    cdef int nd, k
    cdef int64_t n = out.size
    cdef dict bind = {}
    cdef list ops = list(ins), offs = []
    if n == 0:
        return 0
    for k in range(len(ins)):
        bind[k], off = input_binding(<array>ins[k])
        offs.append(off)
    if out_operand:
        ops.append(out)
        offs.append(0)
    k = len(ins)
    bind[k] = output_binding(out)
    bind[k + 1] = layout_meta(out, ops, offs, &nd)
    bind[k + 2] = i32(nd)
    k += 3
    for c in consts:
        bind[k] = i32(c)
        k += 1
    bind[k] = u32(n)
    grid, tg = threads_1d(n)
    dispatch(kernels, name, bind, grid, tg)
    return 0


cdef int gpu_copy_into(array a, array out, str op) except -1:
    """out (allocated) = a cast to out's dtype, a seen through out's shape."""
    cdef int code
    name = copy_kernel(a.dtype, out.dtype, op, &code)
    return dispatch_elementwise(_KERNELS, name, [a], out, (code,), True)


def copy_gpu(Copy prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    dtype_suffix(a.dtype, "AsType")
    dtype_suffix(out.dtype, "AsType")
    alloc_output_donate(out, inputs)
    gpu_copy_into(a, out, "AsType")


def unary_gpu(Unary prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int op = prim.op
    cdef str sfx = dtype_suffix(a.dtype, prim.name())
    if out.dtype != a.dtype and not (FIRST_PRED_UNARY <= op <= LAST_PRED_UNARY):
        raise TypeError(f"[{prim.name()}] no Metal kernel for this dtype change.")
    alloc_output_donate(out, inputs)
    name = ("unary_pred_g_" if FIRST_PRED_UNARY <= op <= LAST_PRED_UNARY else "unary_g_") + sfx
    dispatch_elementwise(_KERNELS, name, inputs, out, (op,))


def binary_gpu(Binary prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int op = prim.op
    cdef str sfx = dtype_suffix(a.dtype, prim.name())
    alloc_output_donate(out, inputs)
    name = ("binary_pred_g_" if FIRST_PRED_BINARY <= op <= LAST_PRED_BINARY
            else "binary_g_") + sfx
    dispatch_elementwise(_KERNELS, name, inputs, out, (op,))


def select_gpu(Select prim, list inputs, list outputs):
    cdef array out = <array>outputs[0]
    cdef str sfx = move_suffix(out.dtype, "Select")
    alloc_output_donate(out, inputs[1:])
    dispatch_elementwise(_KERNELS, "select_g_" + sfx, inputs, out, ())


def reduce_gpu(Reduce prim, list inputs, list outputs):
    """One threadgroup per output element over the reduced axes (moved last)."""
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int op = prim.op, nred = len(prim.axes), i
    cdef int64_t nreduce = 1
    # complex64: sum, prod, all, any (the CPU's set)
    cdef str sfx = dtype_suffix(a.dtype, prim.name(), op <= 1 or op >= RALL)
    if op < RALL and out.dtype != a.dtype:           # sum/prod/max/min keep the dtype
        raise TypeError(f"[{prim.name()}] no Metal kernel for this dtype change.")
    alloc_output(out)
    if out.size == 0:
        return
    u32(out.size)
    order = [i for i in range(a.ndim) if i not in prim.axes] + list(prim.axes)
    for i in prim.axes:
        nreduce *= a.dims[i]
    src, off = input_binding(a)
    meta = _pack(f"<{2 * a.ndim + 1}q", *([a.dims[i] for i in order] +
                                         [a.strides[i] for i in order] + [off]))
    tg = 256 if nreduce > 128 else 32
    dispatch("reduce.metal", "reduce_g_" + sfx,
             {0: src, 1: output_binding(out), 2: meta, 3: i32(a.ndim), 4: i32(nred),
              5: i32(op), 6: _pack("<Q", nreduce)},
             (out.size, 1, 1), (tg, 1, 1), groups=True)


def argreduce_gpu(ArgReduce prim, list inputs, list outputs):
    """One threadgroup per output element over the axis (moved last)."""
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int ax = prim.axis, i
    cdef str sfx = dtype_suffix(a.dtype, prim.name())
    alloc_output(out)
    if out.size == 0:
        return
    u32(out.size)
    u32(a.dims[ax])
    order = [i for i in range(a.ndim) if i != ax] + [ax]
    src, off = input_binding(a)
    meta = _pack(f"<{2 * a.ndim + 1}q", *([a.dims[i] for i in order] +
                                         [a.strides[i] for i in order] + [off]))
    tg = 256 if a.dims[ax] > 128 else 32
    dispatch("reduce.metal", "argreduce_g_" + sfx,
             {0: src, 1: output_binding(out), 2: meta, 3: i32(a.ndim), 4: i32(prim.op)},
             (out.size, 1, 1), (tg, 1, 1), groups=True)


def view_gpu(Primitive prim, list inputs, list outputs):
    """Views set strides and offsets over the input's buffer: no kernel, no data moved."""
    prim.eval_cpu(inputs, outputs)


def reshape_gpu(Primitive prim, list inputs, list outputs):
    """A view when the input is row-contiguous; otherwise the GPU gathers the input into a
    row-major buffer first (the CPU's eval then views that)."""
    cdef array a = <array>inputs[0]
    cdef array c
    if a.size == 0 or (a.flags & ROW_CONTIG):
        prim.eval_cpu(inputs, outputs)
        return
    c = new_empty(a.dtype, a._shape)
    gpu_copy_into(a, c, "Reshape")
    prim.eval_cpu([c], outputs)


def register(dict table):
    table[Copy] = copy_gpu
    table[Unary] = unary_gpu
    table[Binary] = binary_gpu
    table[Select] = select_gpu
    table[Reduce] = reduce_gpu
    table[ArgReduce] = argreduce_gpu
    table[views.Reshape] = reshape_gpu
    for t in (views.Transpose, views.Slice, views.Broadcast, views.AsStrided, views.View,
              views.PassThrough, views.StopGradient, views.Identity, views.Depends):
        table[t] = view_gpu
