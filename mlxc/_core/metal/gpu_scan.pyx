"""eval_gpu of the scan and sort primitives (Scan, Sort, ArgSort): metal/scan.metal and
metal/sort.metal.

Like their CPU evals, these work on rows along the primitive's axis: the input is read
through its own strides (the axis moved last), the output is written as contiguous rows
in that permuted order and gets the strides that read it back (no copy back).
"""
from libc.stdint cimport int64_t

from mlxc._core.array cimport alloc_output, array, new_empty, update_flags
from mlxc._core.dtype cimport itemsize
from mlxc._core.prims.reduce cimport ArgSort, Scan, Sort
from mlxc._core.metal.gpu_eval cimport dtype_suffix, i32, input_binding, output_binding, u32

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch

cdef enum:
    SCAN_K = 4                  # elements per thread per chunk (scan.metal's SCAN_K)
    CUMMAX = 2                  # enum mlxc_scan_op
    CUMMIN = 3
    LOGCUMSUMEXP = 4
    COMPLEX64 = 13

_FLOAT_CODES = (9, 10, 11, 13)  # float16, bfloat16, float32, complex64


cdef list axis_last_order(array a, int axis):
    return [i for i in range(a.ndim) if i != axis] + [axis]


cdef bytes rows_meta(array a, list order):
    """The kernels' meta: shape and strides in `order` (the worked axis last), then the
    input's element offset (all int64)."""
    src, off = input_binding(a)
    return _pack(f"<{2 * a.ndim + 1}q", *([a.dims[i] for i in order] +
                                         [a.strides[i] for i in order] + [off]))


cdef void set_rows_strides(array out, list order) noexcept:
    """out's buffer holds contiguous rows in `order`: give out the strides that read it."""
    cdef int i
    cdef int64_t s = 1
    for i in range(out.ndim - 1, -1, -1):
        out.strides[<int>order[i]] = s
        s *= out.dims[<int>order[i]]
    update_flags(out)


def scan_gpu(Scan prim, list inputs, list outputs):
    """One threadgroup per row: K * tsize elements per chunk, a carry across chunks."""
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int64_t n, nrows
    cdef str sfx = dtype_suffix(a.dtype, prim.name(), True)
    if prim.op == LOGCUMSUMEXP and a.dtype not in _FLOAT_CODES:
        raise TypeError(f"[{prim.name()}] not supported for this dtype.")
    if out.dtype != a.dtype:
        raise TypeError(f"[{prim.name()}] no Metal kernel for this dtype change.")
    alloc_output(out)
    if out.size == 0:
        return
    order = axis_last_order(a, prim.axis)
    n = a.dims[prim.axis]
    nrows = out.size // n
    u32(nrows)
    src, off = input_binding(a)
    # complex64 cummax/cummin run each row serially in one thread (scan.metal)
    serial = a.dtype == COMPLEX64 and prim.op in (CUMMAX, CUMMIN)
    tg = 32 if serial or n <= 32 * SCAN_K else 256
    dispatch("scan.metal", "scan_g_" + sfx,
             {0: src, 1: output_binding(out), 2: rows_meta(a, order), 3: i32(a.ndim),
              4: i32(prim.op), 5: i32(prim.reverse), 6: i32(prim.inclusive)},
             (nrows, 1, 1), (tg, 1, 1), groups=True)
    set_rows_strides(out, order)


# The largest block one threadgroup sorts (a power of two, two elements per thread);
# longer rows are merged.  A module variable so that tests reach the merges with short rows.
_SORT_BLOCK = 2048


cdef int sort_rows(array a, int axis, array out, bint want_indices, str op) except -1:
    """Sort a's rows along axis into out (values, or uint32 argsort indices)."""
    cdef int64_t n = a.dims[axis], nrows = a.size // a.dims[axis], blk = 64, width
    cdef str sfx = dtype_suffix(a.dtype, op, True)
    cdef int64_t itm = itemsize(a.dtype)
    order = axis_last_order(a, axis)
    u32(n)
    total = u32(nrows * n)
    while blk < n and blk < _SORT_BLOCK:
        blk *= 2
    nblocks = (n + blk - 1) // blk
    u32(nrows * nblocks)
    # Pass 0 sorts blocks, passes 1.. merge runs of blk, 2 blk, ...; the last pass writes
    # out (its other half into scratch), the others alternate between two scratch pairs.
    cdef int npass = 1
    width = blk
    while width < n:
        width *= 2
        npass += 1
    scratch = []
    for _ in range(min(npass - 1, 2)):
        scratch.append((new_empty(a.dtype, (nrows * n,)), new_empty(3, (nrows * n,))))
    extra = new_empty(3 if not want_indices else a.dtype, (nrows * n,))
    dests = []
    for i in range(npass):
        if i == npass - 1:
            v, ix = (extra, out) if want_indices else (out, extra)
        else:
            v, ix = scratch[i % 2]
        dests.append((output_binding(v), output_binding(ix)))
    src, off = input_binding(a)
    tgmem = {0: -(-blk * itm // 16) * 16, 1: blk * 4}
    dispatch("sort.metal", "sort_block_g_" + sfx,
             {0: src, 1: dests[0][0], 2: dests[0][1], 3: rows_meta(a, order), 4: i32(a.ndim),
              5: u32(nblocks)}, (nrows * nblocks, 1, 1), (blk // 2, 1, 1), tgmem, groups=True)
    width = blk
    for i in range(1, npass):
        dispatch("sort.metal", "sort_merge_g_" + sfx,
                 {0: dests[i - 1][0], 1: dests[i - 1][1], 2: dests[i][0], 3: dests[i][1],
                  4: u32(n), 5: u32(width), 6: total},
                 (nrows * n, 1, 1), (min(256, nrows * n), 1, 1))
        width *= 2
    set_rows_strides(out, order)
    return 0


def sort_gpu(Sort prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    dtype_suffix(a.dtype, "Sort", True)
    alloc_output(out)
    if out.size:
        sort_rows(a, prim.axis, out, False, "Sort")


def argsort_gpu(ArgSort prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    dtype_suffix(a.dtype, "ArgSort", True)
    alloc_output(out)
    if out.size:
        sort_rows(a, prim.axis, out, True, "ArgSort")


def register(dict table):
    table[Scan] = scan_gpu
    table[Sort] = sort_gpu
    table[ArgSort] = argsort_gpu
