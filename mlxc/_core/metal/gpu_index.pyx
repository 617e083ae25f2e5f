"""eval_gpu of the indexing and data-movement primitives (metal/indexing.metal,
metal/scatter.metal; concatenate and slice updates are strided copies through copy_g of
metal/elementwise.metal).

Operands the kernels want row-contiguous (gather sources, indices, updates) are gathered
into contiguous GPU buffers first when they are views, as the CPU evals do.  An out-of-
range index makes a kernel set an error word; the CPU eval of the same node is then run
only to raise the CPU's exact error (its output is discarded), so messages cannot drift.
DynamicSlice and Diagonal are views on both devices (strides and an offset over the same
unified-memory buffer; DynamicSlice reads its few start indices on the host).
"""
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset
from cpython.bytes cimport PyBytes_FromStringAndSize

from mlxc._core.allocator cimport Buffer, new_buffer
from mlxc._core.array cimport ROW_CONTIG, alloc_output, array, new_empty
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport MLXC_BOOL, MLXC_INT32, MLXC_INT64, MLXC_SCATTER_PLAIN
from mlxc._core.layout cimport collapse
from mlxc._core.primitive cimport Primitive
from mlxc._core.prims.elementwise cimport Arange
from mlxc._core.prims.index cimport (DynamicSlice, Diagonal, Gather, IndexLinear,
                                     MaskedScatter, Scatter, SliceUpdate, TakeAlong,
                                     read_starts, alloc_for_update, index_strides)
from mlxc._core.prims.join cimport Concatenate
from mlxc._core.prims.search cimport SearchSorted
from mlxc._core.metal.gpu_eval cimport (copy_kernel, dtype_suffix, gpu_copy_into, i32,
                                        input_binding, output_binding, u32)

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch, threads_1d

_INDEXING = "indexing.metal"
_SCATTER = "scatter.metal"
_RAW = {1: "u8", 2: "u16", 4: "u32", 8: "u64"}


# ---------------------------------------------------------------- helpers

cdef Buffer error_word():
    """A zeroed 4-byte word the kernels set to 1 on a bad index."""
    cdef Buffer b = new_buffer(4)
    memset(b.ptr, 0, 4)
    return b


cdef inline tuple word_binding(Buffer b):
    return (<size_t>b.ptr, 4)


cdef inline bint failed(Buffer b):
    return (<uint32_t *>b.ptr)[0] != 0


cdef int raise_as_cpu(Primitive prim, list inputs, list outputs, str op) except -1:
    """A kernel found a bad index: the CPU eval raises the CPU's error for it."""
    prim.eval_cpu(inputs, outputs)
    raise RuntimeError(f"[{op}] the GPU kernel reported a bad index that the CPU did not find.")


cdef tuple contiguous(array x, int dtype, str op):
    """((address, nbytes), element offset, keep-alive) of x as a row-contiguous dtype
    operand: x itself when it is one, else a GPU copy."""
    if (x.flags & ROW_CONTIG) and x.dtype == dtype:
        b, off = input_binding(x)
        return b, off, x
    cdef array c = new_empty(dtype, x._shape)
    gpu_copy_into(x, c, op)
    return output_binding(c), 0, c


cdef str raw_suffix(array x, str op):
    dtype_suffix(x.dtype, op, True)      # float64 raises; complex64 moves as 64-bit words
    return _RAW[itemsize(x.dtype)]


cdef bytes longs(tuple vals):
    return _pack(f"<{len(vals)}q", *vals)


cdef inline int64_t prod(array x, int lo, int hi) noexcept:
    cdef int64_t n = 1
    cdef int i
    for i in range(lo, hi):
        n *= x.dims[i]
    return n


cdef int copy_region(array x, array dst, int ndim, const int64_t *shape, const int64_t *xs,
                     const int64_t *ds, int64_t doff, str op) except -1:
    """dst's buffer at element offset doff, strides ds, over shape = x seen through shape
    and strides xs (cast to dst's dtype): copy_g of elementwise.metal."""
    cdef int64_t n = 1
    cdef int i, nd
    for i in range(ndim):
        n *= shape[i]
    if n == 0:
        return 0
    cdef int64_t *mem = <int64_t *>malloc((3 * max(ndim, 1) + 2) * sizeof(int64_t))
    cdef int64_t *strides[2]
    if mem == NULL:
        raise MemoryError()
    try:
        strides[0] = mem + max(ndim, 1)
        strides[1] = mem + 2 * max(ndim, 1)
        for i in range(ndim):
            mem[i] = shape[i]
            strides[0][i] = xs[i]
            strides[1][i] = ds[i]
        nd = collapse(ndim, mem, strides, 2)
        for i in range(nd):
            mem[nd + i] = strides[0][i]
        for i in range(nd):
            mem[2 * nd + i] = strides[1][i]
        src, xoff = input_binding(x)
        mem[3 * nd] = xoff
        mem[3 * nd + 1] = doff + dst.offset // itemsize(dst.dtype)
        meta = PyBytes_FromStringAndSize(<char *>mem, (3 * nd + 2) * sizeof(int64_t))
    finally:
        free(mem)
    cdef int code
    name = copy_kernel(x.dtype, dst.dtype, op, &code)
    grid, tg = threads_1d(n)
    dispatch("elementwise.metal", name,
             {0: src, 1: (<size_t>dst.buf.ptr, dst.buf.nbytes), 2: meta, 3: i32(nd),
              4: i32(code), 5: u32(n)}, grid, tg)
    return 0


cdef int update_copy(array out, array dst, list others, str op) except -1:
    """out = dst's values, row-major from its buffer's start: dst's own buffer when eval
    allows and no other input reads it, else a GPU copy (as the CPU's copy_for_update)."""
    if not alloc_for_update(out, dst, others) and out.size:
        gpu_copy_into(dst, out, op)
    return 0


# ---------------------------------------------------------------- gathers

def gather_gpu(Gather prim, list inputs, list outputs):
    cdef array src = <array>inputs[0]
    cdef array idx = <array>inputs[1]
    cdef array out = <array>outputs[0]
    cdef str sfx = raw_suffix(src, prim.op)
    cdef int it = MLXC_INT32 if idx.dtype == MLXC_INT32 else MLXC_INT64
    alloc_output(out)
    if out.size == 0:
        return
    sb, soff, keep_s = contiguous(src, src.dtype, prim.op)
    ib, ioff, keep_i = contiguous(idx, it, prim.op)
    cdef Buffer err = error_word()
    p = longs((soff, ioff, prod(src, prim.axis, prim.axis + prim.naxes),
               prod(src, prim.axis + prim.naxes, src.ndim), idx.size))
    grid, tg = threads_1d(out.size)
    dispatch(_INDEXING, f"gather_g_{sfx}_{'i32' if it == MLXC_INT32 else 'i64'}",
             {0: sb, 1: ib, 2: output_binding(out), 3: p, 4: word_binding(err),
              5: u32(out.size)}, grid, tg)
    if failed(err):
        raise_as_cpu(prim, inputs, outputs, prim.op)


def take_along_gpu(TakeAlong prim, list inputs, list outputs):
    cdef array src = <array>inputs[0]
    cdef array idx = <array>inputs[1]
    cdef array out = <array>outputs[0]
    cdef int ax = prim.axis
    cdef str sfx = raw_suffix(src, prim.op)
    cdef int it = MLXC_INT32 if idx.dtype == MLXC_INT32 else MLXC_INT64
    alloc_output(out)
    if out.size == 0:
        return
    sb, soff, keep_s = contiguous(src, src.dtype, prim.op)
    ib, ioff, keep_i = contiguous(idx, it, prim.op)
    cdef Buffer err = error_word()
    p = longs((soff, ioff, src.dims[ax], prod(out, ax + 1, out.ndim), out.dims[ax]))
    grid, tg = threads_1d(out.size)
    dispatch(_INDEXING, f"take_along_g_{sfx}_{'i32' if it == MLXC_INT32 else 'i64'}",
             {0: sb, 1: ib, 2: output_binding(out), 3: p, 4: word_binding(err),
              5: u32(out.size)}, grid, tg)
    if failed(err):
        raise_as_cpu(prim, inputs, outputs, prim.op)


def index_linear_gpu(IndexLinear prim, list inputs, list outputs):
    """One pass per block axis; an index array is first broadcast to out's shape as int64
    (a strided GPU copy, as the CPU's copy_strided)."""
    cdef array out = <array>outputs[0]
    cdef array x, t
    cdef int j, d, rel, n = out.ndim
    cdef int64_t N = out.size
    alloc_output(out)
    if N == 0:
        return
    cdef Buffer err = error_word()
    cdef int64_t *bs = <int64_t *>malloc(max(n, 1) * sizeof(int64_t))
    if bs == NULL:
        raise MemoryError()
    try:
        for j in range(len(prim.kinds)):
            first = 1 if j == 0 else 0
            if prim.kinds[j] >= 0:
                x = <array>inputs[<int>prim.kinds[j]]
                dtype_suffix(x.dtype, prim.op)
                index_strides(prim, x, out, n, bs)
                t = new_empty(MLXC_INT64, out._shape)
                copy_region(x, t, n, out.dims, bs, t.strides, 0, prim.op)
                tb = output_binding(t)
                p = longs((0, prim.sizes[j], prim.strides[j], 0, 0, 1, 1, first))
            else:
                d = prim.pos[j]
                tb = output_binding(out)            # bound, never read
                p = longs((1, prim.sizes[j], prim.strides[j], prim.starts[j], prim.steps[j],
                           prod(out, d + 1, n), out.dims[d], first))
            grid, tg = threads_1d(N)
            dispatch(_INDEXING, "index_linear_g",
                     {0: tb, 1: output_binding(out), 2: p, 3: word_binding(err), 4: u32(N)},
                     grid, tg)
            if failed(err):
                raise_as_cpu(prim, inputs, outputs, prim.op)
    finally:
        free(bs)


# ---------------------------------------------------------------- scatters

def scatter_gpu(Scatter prim, list inputs, list outputs):
    cdef array dst = <array>inputs[0]
    cdef array upd = <array>inputs[1]
    cdef array idx = <array>inputs[2]
    cdef array out = <array>outputs[0]
    cdef int mode = prim.mode
    cdef str name = prim.name()
    cdef str sfx = dtype_suffix(dst.dtype, name, True)   # complex64: a 64-bit type
    cdef int64_t outer = prod(dst, 0, prim.axis)
    cdef int64_t L = prod(dst, prim.axis, prim.axis + prim.naxes)
    cdef int64_t inner = prod(dst, prim.axis + prim.naxes, dst.ndim)
    cdef int64_t nidx = idx.dims[prim.axis] if prim.along else idx.size
    cdef int64_t nupd = outer * nidx * inner
    cdef size_t words
    update_copy(out, dst, inputs[1:], name)
    if nupd == 0:
        return
    ub, uoff, keep_u = contiguous(upd, out.dtype, name)
    ib, ioff, keep_i = contiguous(idx, MLXC_INT64, name)
    cdef Buffer err = error_word()
    p = longs((uoff, ioff, L, inner, nidx, 1 if prim.along else 0))
    cdef bint wide = itemsize(out.dtype) == 8
    if mode == MLXC_SCATTER_PLAIN:
        grid, tg = threads_1d(nupd)
        dispatch(_SCATTER, "scatter_assign_g_" + _RAW[itemsize(out.dtype)],
                 {0: output_binding(out), 1: ub, 2: ib, 3: p, 5: word_binding(err),
                  6: u32(nupd)}, grid, tg)
    elif wide:
        # int64/uint64/complex64: no 64-bit atomics in Metal; one thread per column,
        # updates in order.
        grid, tg = threads_1d(outer * inner)
        dispatch(_SCATTER, "scatter_column_g_" + sfx,
                 {0: output_binding(out), 1: ub, 2: ib, 3: p, 4: i32(mode),
                  5: word_binding(err), 6: u32(outer * inner)}, grid, tg)
    else:
        # Compare-and-swap on whole 32-bit words: bind the buffer up to the word holding the
        # last element (the allocator's capacity is a multiple of 64 bytes; offset 0).
        words = (out.size * itemsize(out.dtype) + 3) // 4 * 4
        if out.offset != 0 or out.buf.capacity < words:
            raise RuntimeError(f"[{name}] the destination buffer is not word-aligned.")
        grid, tg = threads_1d(nupd)
        dispatch(_SCATTER, "scatter_g_" + sfx,
                 {0: (<size_t>out.buf.ptr, words), 1: ub, 2: ib, 3: p, 4: i32(mode),
                  5: word_binding(err), 6: u32(nupd)}, grid, tg)
    if failed(err):
        raise_as_cpu(prim, inputs, outputs, name)


def masked_scatter_gpu(MaskedScatter prim, list inputs, list outputs):
    """One threadgroup per batch row."""
    cdef array dst = <array>inputs[0]
    cdef array mask = <array>inputs[1]
    cdef array src = <array>inputs[2]
    cdef array out = <array>outputs[0]
    cdef str sfx = raw_suffix(dst, "masked_scatter")
    cdef int64_t outer = prod(dst, 0, prim.nbatch)
    cdef int64_t n = prod(dst, prim.nbatch, dst.ndim)
    cdef int64_t m = src.dims[src.ndim - 1]
    update_copy(out, dst, inputs[1:], "masked_scatter")
    if outer == 0 or n == 0:
        return
    u32(outer)
    mb, moff, keep_m = contiguous(mask, MLXC_BOOL, "masked_scatter")
    sb, soff, keep_s = contiguous(src, out.dtype, "masked_scatter")
    cdef Buffer err = error_word()
    tg = 256 if n > 128 else 32
    dispatch(_INDEXING, "masked_scatter_g_" + sfx,
             {0: output_binding(out), 1: mb, 2: sb, 3: longs((n, m, moff, soff)),
              4: word_binding(err)}, (outer, 1, 1), (tg, 1, 1), groups=True)
    if failed(err):
        raise_as_cpu(prim, inputs, outputs, "masked_scatter")


# ---------------------------------------------------------------- copies into regions

def concatenate_gpu(Concatenate prim, list inputs, list outputs):
    cdef array out = <array>outputs[0]
    cdef array x
    cdef int64_t pos = 0
    cdef int ax = prim.axis
    dtype_suffix(out.dtype, "Concatenate", True)
    alloc_output(out)
    for o in inputs:
        x = <array>o
        if x.size:
            copy_region(x, out, x.ndim, x.dims, x.strides, out.strides, pos * out.strides[ax],
                        "Concatenate")
        pos += x.dims[ax]


def slice_update_gpu(SliceUpdate prim, list inputs, list outputs):
    cdef array dst = <array>inputs[0]
    cdef array upd = <array>inputs[1]
    cdef array out = <array>outputs[0]
    cdef int i, n = dst.ndim
    cdef int64_t off = 0
    dtype_suffix(dst.dtype, "SliceUpdate", True)
    dtype_suffix(upd.dtype, "SliceUpdate", True)
    update_copy(out, dst, inputs[1:], "SliceUpdate")
    if upd.size == 0:
        return
    cdef int64_t *rs = <int64_t *>malloc(2 * max(n, 1) * sizeof(int64_t))
    if rs == NULL:
        raise MemoryError()
    cdef int64_t *starts = rs + max(n, 1)
    try:
        if prim.dyn_axes is not None:
            read_starts(<array>inputs[2], prim.dyn_axes, dst, upd.dims, starts, "slice_update")
            for i in range(n):
                rs[i] = out.strides[i]
                off += starts[i] * out.strides[i]
        else:
            for i in range(n):
                rs[i] = out.strides[i] * <int64_t>prim.step[i]
                off += <int64_t>prim.start[i] * out.strides[i]
        copy_region(upd, out, n, upd.dims, upd.strides, rs, off, "SliceUpdate")
    finally:
        free(rs)


def view_gpu(Primitive prim, list inputs, list outputs):
    """Views set strides and an offset over the input's buffer: no kernel, no data moved."""
    prim.eval_cpu(inputs, outputs)


# ---------------------------------------------------------------- arange, searchsorted

def arange_gpu(Arange prim, list inputs, list outputs):
    cdef array out = <array>outputs[0]
    cdef str sfx = dtype_suffix(out.dtype, "Arange")
    start, step = float(prim.start), float(prim.step)
    alloc_output(out)
    if out.size == 0:
        return
    last = start + (out.size - 1) * step
    exact = (max(abs(start), abs(step), abs(last)) < 2.0 ** 53 and start.is_integer()
             and step.is_integer())
    pi = longs((int(start), int(step)) if exact else (0, 0))
    grid, tg = threads_1d(out.size)
    dispatch(_INDEXING, "arange_g_" + sfx,
             {0: output_binding(out), 1: pi, 2: _pack("<2f", start, step),
              3: i32(1 if exact else 0), 4: u32(out.size)}, grid, tg)


def searchsorted_gpu(SearchSorted prim, list inputs, list outputs):
    cdef array seq = <array>inputs[0]
    cdef array val = <array>inputs[1]
    cdef array out = <array>outputs[0]
    cdef str sfx = dtype_suffix(seq.dtype, "searchsorted", True)
    alloc_output(out)
    if val.size == 0:
        return
    sb, soff, keep_s = contiguous(seq, seq.dtype, "searchsorted")
    vb, voff, keep_v = contiguous(val, val.dtype, "searchsorted")
    grid, tg = threads_1d(val.size)
    dispatch(_INDEXING, "searchsorted_g_" + sfx,
             {0: sb, 1: vb, 2: output_binding(out), 3: longs((soff, voff, seq.size)),
              4: i32(1 if prim.right else 0), 5: u32(val.size)}, grid, tg)


def register(dict table):
    table[Gather] = gather_gpu
    table[TakeAlong] = take_along_gpu
    table[IndexLinear] = index_linear_gpu
    table[Scatter] = scatter_gpu
    table[MaskedScatter] = masked_scatter_gpu
    table[Concatenate] = concatenate_gpu
    table[SliceUpdate] = slice_update_gpu
    table[DynamicSlice] = view_gpu
    table[Diagonal] = view_gpu
    table[Arange] = arange_gpu
    table[SearchSorted] = searchsorted_gpu
