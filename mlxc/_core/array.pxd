# The array: dtype, shape, strides, buffer, and its graph node.
from libc.stdint cimport int64_t
from mlxc._core.allocator cimport Buffer
from mlxc._core.primitive cimport Primitive

cdef enum:
    ROW_CONTIG = 1
    COL_CONTIG = 2
    INLINE_DIMS = 4      # shape+strides of up to this many dims live inside the object

cdef class array:
    cdef int dtype               # dtype code (enum mlxc_dtype); from Python, .dtype is the Dtype
    cdef int ndim                # number of dimensions
    cdef int64_t size            # number of elements
    cdef tuple _shape            # shape as a Python tuple (shared by arrays of equal shape)
    cdef int64_t *dims           # shape as C array (points into _inline or _heap)
    cdef int64_t *strides        # element strides; valid once evaluated
    cdef int64_t _inline[2 * INLINE_DIMS]
    cdef int64_t *_heap          # malloc'd shape+strides when ndim > INLINE_DIMS
    cdef Buffer buf              # data, None until evaluated
    cdef int64_t offset          # byte offset of element 0 in buf
    cdef int flags               # ROW_CONTIG | COL_CONTIG, valid once evaluated
    cdef bint donatable          # set by eval: this input's buffer may be reused by its reader
    cdef unsigned long long visit  # eval's traversal epoch that last reached this node
    cdef int dfs_next            # eval's traversal: next input to visit
    cdef int readers             # unevaluated nodes holding this array as an input
    cdef unsigned long owner     # thread (ident) that has scheduled this node in an eval and
                                 # not yet finished it; 0 otherwise (its buf may be partial)
    cdef Primitive primitive     # the operation that produces it; None once evaluated
    cdef tuple inputs            # the operation's inputs; None once evaluated
    cdef tuple siblings          # every output of a multi-output node, in order, or None
    cdef int position            # index of this array in siblings
    cdef char device             # the node's device: 0 cpu, 1 gpu (eval calls eval_gpu)
    cdef object __weakref__

    cdef _take_state(self, array o)   # become o's node/data (construction, __setitem__)
    cdef _rebind(self, array old, array new)  # in-place update: readers keep old, self is new
    cdef array _clone(self)           # a new object with self's node/data
    cdef object _numpy(self)          # evaluated numpy view (bfloat16: float32 copy)
    cdef _inplace(self, object other, int op)  # in-place operator (op -1: matmul)
    cdef _compare(self, object other, int op)  # == and != with MLX's rules for odd types

    cdef inline char *data(self) noexcept nogil:
        return <char *>self.buf.ptr + self.offset

# Building arrays
cdef array new_node(int dtype, tuple shape, Primitive prim, tuple inputs)
cdef list new_nodes(list dtypes, list shapes, Primitive prim, tuple inputs)  # multi-output node
cdef array new_empty(int dtype, tuple shape)            # evaluated, contiguous, uninitialised
cdef int set_shape(array a, tuple shape) except -1
cdef void set_row_strides(array a) noexcept             # row-major strides, flags
cdef void update_flags(array a) noexcept                # recompute contiguity flags from strides
cdef int alloc_output(array out) except -1              # fresh contiguous buffer (or donated input)
cdef int alloc_output_donate(array out, list inputs) except -1
cdef int share_buffer(array out, array src, int64_t offset) except -1  # views
cdef array scalar_array(object value, int dtype)        # a 0-d evaluated array holding value
cdef array as_array(object x)                           # array, or a Python value converted
cdef int ensure_evaluated(array a) except -1         # evaluated and not being written by a thread
cdef int transform_depth_add(int delta) noexcept  # >0 inside grad/vjp/jvp (this thread): eval keeps graphs
cdef int set_node_device(int thread_device, int default_device) noexcept  # -> the previous
cdef int current_node_device() noexcept   # the device (0 cpu, 1 gpu) a node made now records
cdef tuple node_outputs(array a)          # (a,) or a's siblings
cdef void release_inputs(tuple inputs) noexcept     # readers -= 1 for each input

# Calls up into the engine's higher layers, filled in once at import (one-way data flow).
ctypedef object (*binary_hook_t)(object a, object b, int op)
ctypedef object (*unary_hook_t)(object a, int op)
ctypedef int (*eval_hook_t)(list arrays) except -1
cdef struct Hooks:
    binary_hook_t binary
    unary_hook_t unary
    eval_hook_t eval
cdef Hooks *hooks() noexcept

