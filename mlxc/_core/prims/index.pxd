# Index primitives: gather/scatter over a block of axes, slice updates, dynamic slices and
# the diagonal view.  A "block" is axes [axis, axis + naxes) of the source, merged into one
# axis that a linear int64 index addresses (outer dims before it, inner dims after it).
from libc.stdint cimport int64_t
from mlxc._core.allocator cimport Buffer
from mlxc._core.array cimport array
from mlxc._core.primitive cimport Primitive

# None when x is row-contiguous of dtype (read x.data()), else a contiguous copy as dtype.
cdef Buffer contig_or_none(array x, int dtype)
# Per-axis starts (0 for unlisted axes) read from a start-index array, wrapped and checked.
cdef bint alloc_for_update(array out, array dst, list others) except -1
cdef int read_starts(array start, tuple axes, array a, const int64_t *region,
                     int64_t *out, str op) except -1

cdef class IndexLinear(Primitive):    # per-axis index arrays/ranges -> one int64 index array
    cdef readonly tuple kinds         # per block axis: input number, or -1 for a range
    cdef readonly tuple sizes         # per block axis: its length (bounds check, wrap)
    cdef readonly tuple strides       # per block axis: row-major stride inside the block
    cdef readonly tuple starts        # per block axis: range start (ranges only)
    cdef readonly tuple steps         # per block axis: range step (ranges only)
    cdef readonly tuple pos           # per block axis: output dim of a range
    cdef readonly int bpos            # output dim where the broadcast index shape starts
    cdef readonly int bndim           # number of dims of the broadcast index shape
    cdef readonly tuple axes          # per block axis: the user's axis number (messages)
    cdef readonly str op              # op name for messages

cdef class Gather(Primitive):         # out = src[..outer, idx, ..inner]; inputs (src, idx)
    cdef readonly int axis            # first axis of the block
    cdef readonly int naxes           # number of axes in the block
    cdef readonly object msg_axis     # the user's axis (messages)
    cdef readonly str op

cdef class TakeAlong(Primitive):      # inputs (src, idx) of equal ndim; idx int64
    cdef readonly int axis
    cdef readonly str op

cdef class Scatter(Primitive):        # out = dst with upd written at idx; inputs (dst, upd, idx)
    cdef readonly int mode            # enum mlxc_scatter_mode
    cdef readonly int axis
    cdef readonly int naxes
    cdef readonly bint along          # idx has upd's shape (put_along_axis)
    cdef readonly object msg_axis
    cdef readonly str op

cdef class MaskedScatter(Primitive):  # inputs (dst, mask of dst's shape, src); the k-th set
    cdef readonly int nbatch          # mask entry of each batch row takes src[..., k]; the
                                      # first nbatch dims of dst (and src) are batch rows

cdef class SliceUpdate(Primitive):    # out = dst with a strided region replaced by upd
    cdef readonly tuple start         # static: per-axis start (None when dynamic)
    cdef readonly tuple step          # static: per-axis step
    cdef readonly tuple dyn_axes      # dynamic: axes whose starts come from inputs[2]

cdef class DynamicSlice(Primitive):   # view at starts read from inputs[1]; inputs (a, start)
    cdef readonly tuple dyn_axes

cdef class Diagonal(Primitive):       # view of a diagonal: other axes, then the diagonal
    cdef readonly long long offset
    cdef readonly int axis1
    cdef readonly int axis2

cdef void index_strides(IndexLinear p, array x, array out, int n, int64_t *bs) noexcept
