"""mlxc.core.array: a lazily evaluated n-dimensional array."""
cimport cython
from cpython.buffer cimport PyBUF_FORMAT, PyBUF_ND, PyBUF_STRIDES, PyBUF_WRITABLE
from cpython.ref cimport Py_INCREF
from libc.stdint cimport INT64_MAX, int64_t, int32_t, uint16_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy as np

from mlxc._core.allocator cimport Buffer, new_buffer
from mlxc._core.dtype cimport Dtype, dtype_of, itemsize, kind_of, to_dtype
from mlxc._core.kernels cimport *
from mlxc._core.primitive cimport Primitive, check_status

cdef Hooks _hooks
cdef Hooks *hooks() noexcept:
    return &_hooks

# Cold-path calls into higher layers (indexing, astype, printing ...): name -> callable.
_py_hooks = {}

# numpy dtype for each code (bfloat16 has none: its values travel as float32).
_NP_DTYPES = (np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16,
              np.int32, np.int64, np.float16, None, np.float32, np.float64, np.complex64)
_NP_TO_CODE = {np.dtype(t): i for i, t in enumerate(_NP_DTYPES) if t is not None}
cdef const char *BUFFER_FORMATS[14]
# bfloat16 has no PEP 3118 code: MLX names it "bfloat16" (memoryview accepts any format;
# numpy refuses it).
BUFFER_FORMATS[:] = [b"?", b"B", b"H", b"I", b"Q", b"b", b"h", b"i", b"q", b"e", b"bfloat16",
                     b"f", b"d", b"Zf"]


# ---------------------------------------------------------------- building arrays

# The device new nodes are created on (0 cpu, 1 gpu): the op's stream= argument or this
# thread's stream context while one is active (-1: none; ops/common.pyx's StreamScope and
# device.py's StreamContext set it), else the process-wide default device
# (set_default_device).  new_node reads them, nothing else.
cdef extern from *:
    """
    #if defined(_MSC_VER)
    static __declspec(thread) int mlxc_thread_device = -1;
    #else
    static _Thread_local int mlxc_thread_device = -1;
    #endif
    static int mlxc_default_device = 0;
    """
    int mlxc_thread_device
    int mlxc_default_device


cdef int set_node_device(int thread_device, int default_device) noexcept:
    """thread_device: -2 leaves this thread's choice unchanged; default_device: -1 leaves
    the process-wide default unchanged.  Returns this thread's previous choice (op stream
    scopes restore it)."""
    global mlxc_thread_device, mlxc_default_device
    cdef int before = mlxc_thread_device
    if thread_device != -2:
        mlxc_thread_device = thread_device
    if default_device != -1:
        mlxc_default_device = default_device
    return before


cdef int current_node_device() noexcept:
    return mlxc_thread_device if mlxc_thread_device >= 0 else mlxc_default_device


def _set_node_device(int thread_device, int default_device):
    """device.py's hook into set_node_device (private)."""
    return set_node_device(thread_device, default_device)


def _node_device(array a):
    """The device code (0 cpu, 1 gpu) of a's node (private; tests and printing)."""
    return a.device


def _node_inputs(array a):
    """The inputs of a's node, None once evaluated (private; tests walk graphs with it)."""
    return a.inputs if a.primitive is not None else None

cdef int set_shape(array a, tuple shape) except -1:
    cdef int n = len(shape)
    cdef int i
    cdef int64_t size = 1, d
    a._shape = shape
    a.ndim = n
    if n <= INLINE_DIMS:
        a.dims = a._inline
        a.strides = a._inline + INLINE_DIMS
    else:
        a._heap = <int64_t *>malloc(2 * n * sizeof(int64_t))
        if a._heap == NULL:
            raise MemoryError()
        a.dims = a._heap
        a.strides = a._heap + n
    cdef bint overflow = False, empty = False
    for i in range(n):
        d = shape[i]
        if d < 0:
            raise ValueError(f"Negative dimensions are not allowed, got {shape}.")
        a.dims[i] = d
        if d == 0:
            empty = True
        elif size > INT64_MAX // d:
            overflow = True          # the last line of defence: ops check their shapes first
        else:
            size *= d
    if overflow and not empty:
        raise OverflowError(f"Shape {shape} has more than 2**63 - 1 elements.")
    a.size = 0 if empty else size
    return 0


cdef void update_flags(array a) noexcept:
    cdef int i
    cdef int64_t expect = 1
    cdef int flags = ROW_CONTIG | COL_CONTIG
    for i in range(a.ndim - 1, -1, -1):
        if a.dims[i] != 1 and a.strides[i] != expect:
            flags &= ~ROW_CONTIG
            break
        expect *= a.dims[i]
    expect = 1
    for i in range(a.ndim):
        if a.dims[i] != 1 and a.strides[i] != expect:
            flags &= ~COL_CONTIG
            break
        expect *= a.dims[i]
    if a.size == 0:
        flags = ROW_CONTIG | COL_CONTIG
    a.flags = flags


cdef void set_row_strides(array a) noexcept:
    cdef int i
    cdef int64_t s = 1
    for i in range(a.ndim - 1, -1, -1):
        a.strides[i] = s
        s *= a.dims[i]
    a.flags = ROW_CONTIG | COL_CONTIG if a.ndim <= 1 else ROW_CONTIG
    if a.ndim > 1:
        update_flags(a)


cdef inline void hold_inputs(tuple inputs) noexcept:
    for x in inputs:
        (<array>x).readers += 1


cdef void release_inputs(tuple inputs) noexcept:
    if inputs is None:
        return
    for x in inputs:
        (<array>x).readers -= 1


cdef array new_node(int dtype, tuple shape, Primitive prim, tuple inputs):
    cdef array a = array.__new__(array)
    a.dtype = dtype
    try:
        set_shape(a, shape)
    except OverflowError as e:       # name the primitive (ops check their own shapes first)
        raise OverflowError(f"[{prim.name()}] {e}") from None
    if a.size > INT64_MAX // itemsize(dtype):
        raise OverflowError(f"[{prim.name()}] An array of shape {shape} and type "
                            f"{dtype_of(dtype).name} would take more than 2**63 - 1 bytes.")
    a.primitive = prim
    a.inputs = inputs
    a.device = mlxc_thread_device if mlxc_thread_device >= 0 else mlxc_default_device
    hold_inputs(inputs)
    return a


cdef list new_nodes(list dtypes, list shapes, Primitive prim, tuple inputs):
    """The outputs of one node with several outputs (siblings share primitive and inputs)."""
    cdef list outs = [new_node(dtypes[i], shapes[i], prim, inputs) for i in range(len(dtypes))]
    cdef tuple sib = tuple(outs)
    cdef int i
    for i in range(len(outs)):
        (<array>outs[i]).siblings = sib
        (<array>outs[i]).position = i
    return outs


cdef extern from *:
    """
    /* Per OS thread (each Python thread is one): a transform in one thread must not
       change how another thread's eval treats its graphs. */
    #if defined(_MSC_VER)
    static __declspec(thread) int mlxc_transform_depth;
    #else
    static _Thread_local int mlxc_transform_depth;
    #endif
    """
    int mlxc_transform_depth


cdef int transform_depth_add(int delta) noexcept:
    global mlxc_transform_depth
    mlxc_transform_depth += delta
    return mlxc_transform_depth


cdef tuple node_outputs(array a):
    return a.siblings if a.siblings is not None else (a,)


cdef array new_empty(int dtype, tuple shape):
    cdef array a = array.__new__(array)
    a.dtype = dtype
    set_shape(a, shape)
    alloc_output(a)
    return a


cdef int alloc_output(array out) except -1:
    out.buf = new_buffer(<size_t>(out.size * itemsize(out.dtype)))
    out.offset = 0
    set_row_strides(out)
    return 0


cdef int alloc_output_donate(array out, list inputs) except -1:
    """Reuse the buffer of an input that nothing else will read (marked by eval)."""
    cdef array x
    cdef size_t need = <size_t>(out.size * itemsize(out.dtype))
    for o in inputs:
        x = <array>o
        # Borrowed memory (a zero-copy import) is never written: its owner may still read it.
        if (x.donatable and x.buf is not None and x.buf.owner is None
                and x.offset == 0 and (x.flags & ROW_CONTIG)
                and x.buf.nbytes == need and itemsize(x.dtype) == itemsize(out.dtype)):
            x.donatable = False
            out.buf = x.buf
            out.offset = 0
            set_row_strides(out)
            return 0
    return alloc_output(out)


cdef int share_buffer(array out, array src, int64_t offset) except -1:
    out.buf = src.buf
    out.offset = offset
    return 0


cdef int ensure_evaluated(array a) except -1:
    # owner != 0: another thread's eval may still be writing the buffer; eval waits for it
    if a.buf is None or a.owner != 0:
        _hooks.eval([a])
    return 0


# Range of each integer dtype, for MLX's overflow check on Python ints.
_INT_RANGES = {MLXC_UINT8: (0, 255), MLXC_UINT16: (0, 65535), MLXC_UINT32: (0, 2**32 - 1),
               MLXC_UINT64: (0, 2**64 - 1), MLXC_INT8: (-128, 127),
               MLXC_INT16: (-32768, 32767), MLXC_INT32: (-2**31, 2**31 - 1),
               MLXC_INT64: (-2**63, 2**63 - 1)}


cdef array scalar_array(object value, int dtype):
    """A 0-d evaluated array of `dtype` holding the Python scalar `value`."""
    cdef array a = array.__new__(array)
    cdef double d
    cdef long long i
    cdef unsigned long long u
    cdef char k = kind_of(dtype)
    cdef float *cf
    a.dtype = dtype
    set_shape(a, ())
    alloc_output(a)
    if k == b'f':
        d = value
        check_status(mlxc_copy(MLXC_FLOAT64, dtype, a.buf.ptr, NULL, &d, NULL, 0, NULL), "array")
    elif k == b'c':
        c = complex(value)
        cf = <float *>a.buf.ptr
        cf[0] = c.real
        cf[1] = c.imag
    elif k == b'b':
        (<char *>a.buf.ptr)[0] = 1 if value else 0
    else:
        if type(value) is float:
            value = int(value)
        if type(value) is not bool:
            lo, hi = _INT_RANGES[dtype]
            if not lo <= value <= hi:
                raise ValueError(f"Converting {value} to {dtype_of(dtype).name} would result "
                                 f"in overflow.")
        if dtype == MLXC_UINT64:
            u = value
            check_status(mlxc_copy(MLXC_UINT64, dtype, a.buf.ptr, NULL, &u, NULL, 0, NULL), "array")
        else:
            i = value
            check_status(mlxc_copy(MLXC_INT64, dtype, a.buf.ptr, NULL, &i, NULL, 0, NULL), "array")
    return a


cdef int infer_scalar_dtype(object v) except -2:
    """The dtype code MLX gives a Python scalar, or -1 when v is not one."""
    t = type(v)
    if t is bool:
        return MLXC_BOOL
    if t is int:
        return MLXC_INT32 if -2**31 <= v < 2**31 else MLXC_INT64
    if t is float:
        return MLXC_FLOAT32
    if t is complex:
        return MLXC_COMPLEX64
    return -1


cdef array from_numpy(object x, object dtype):
    """Copy a numpy array into a new evaluated array, MLX's dtype mapping applied."""
    cdef int src_code, dst_code
    cdef array a, out
    x = np.asarray(x)
    nd = x.dtype
    if nd == np.float64 and dtype is None:
        nd = np.dtype(np.float32)     # MLX maps float64 input to float32 unless asked
    elif nd == np.complex128:
        nd = np.dtype(np.complex64)
    elif nd.kind not in "biufc" or (nd.itemsize > 8 and nd.kind != "c"):
        raise ValueError(f"Invalid type {x.dtype} received in array initialization.")
    nd = nd.newbyteorder("=")
    src_code = _NP_TO_CODE[nd]
    x = np.asarray(x, dtype=nd, order="C")   # (ascontiguousarray would make 0-d 1-d)
    a = array.__new__(array)
    a.dtype = src_code
    set_shape(a, tuple(x.shape))
    alloc_output(a)
    if x.nbytes:
        memcpy(a.buf.ptr, <void *><size_t>x.ctypes.data, x.nbytes)
    if dtype is None:
        return a
    dst_code = to_dtype(dtype).code
    if dst_code == src_code:
        return a
    return cast_now(a, dst_code)


cdef array cast_now(array a, int dst_code):
    """An evaluated copy of the evaluated contiguous array a in dtype dst_code."""
    cdef array out = array.__new__(array)
    out.dtype = dst_code
    set_shape(out, a._shape)
    alloc_output(out)
    cdef int64_t n = a.size
    cdef int64_t one = 1
    check_status(mlxc_copy(a.dtype, dst_code, out.buf.ptr, &one, a.buf.ptr, &one,
                           1, &n), "astype")
    return out


cdef object _infer_list_numpy(object val, bint keep_float64=False):
    """numpy array for a nested list/tuple, with MLX's inference (ints int32, floats float32;
    keep_float64: float64 was asked for, so Python floats are not rounded through float32)."""
    # Arrays inside lists are converted through numpy (evaluating them).
    try:
        x = np.array(val)
    except ValueError as e:
        raise ValueError("Initialization encountered non-uniform length.") from e
    if x.dtype == object:
        kinds = {type(v) for v in _flatten(val)}
        if kinds <= {bool, int, float, complex}:
            x = np.array(val, dtype=complex if complex in kinds else float)
        else:
            bad = next(iter(kinds - {bool, int, float, complex}))
            raise ValueError(f"Invalid type {bad.__name__} received in array initialization.")
    if x.dtype.kind in "US":
        raise ValueError(f"Invalid type str received in array initialization.")
    if x.dtype == np.int64 and x.size and not _contains_arrays(val):
        if -2**31 <= x.min() and x.max() < 2**31:
            x = x.astype(np.int32)
    elif x.dtype == np.int64 and x.size == 0:
        x = x.astype(np.int32)
    elif x.dtype == np.float64 and not keep_float64 and (x.size == 0 or not _contains_arrays(val)):
        x = x.astype(np.float32)
    return x


cdef bint _contains_arrays(object val):
    if isinstance(val, array):
        return True
    if isinstance(val, (list, tuple)):
        for v in val:
            if _contains_arrays(v):
                return True
    return False


def _flatten(val):
    if isinstance(val, (list, tuple)):
        for v in val:
            yield from _flatten(v)
    else:
        yield val


cdef int redirect_in_graph(array root, array self, array old) except -1:
    """Point the unevaluated nodes of root's graph that read self at old instead."""
    cdef list stack = [root]
    cdef set seen = {id(root)}
    cdef array node
    while stack and self.readers > 0:
        node = <array>stack.pop()
        if node.inputs is None:
            continue
        if any(x is self for x in node.inputs):
            new_inputs = tuple([old if x is self else x for x in node.inputs])
            release_inputs(node.inputs)
            node.inputs = new_inputs
            hold_inputs(new_inputs)
        for x in node.inputs:
            if id(x) not in seen and (<array>x).inputs is not None:
                seen.add(id(x))
                stack.append(x)
    return 0


cdef int redirect_readers(array self, array old) except -1:
    """Point every node that has self among its inputs at old instead.  Readers are
    found through the garbage collector (only when the reader count says some exist)."""
    import gc
    cdef array node
    for t in gc.get_referrers(self):
        if type(t) is not tuple:
            continue
        for owner in gc.get_referrers(t):
            if isinstance(owner, array) and (<array>owner).inputs is t:
                node = <array>owner
                new_inputs = tuple([old if x is self else x for x in t])
                release_inputs(node.inputs)
                node.inputs = new_inputs
                hold_inputs(new_inputs)
                if node.siblings is not None:
                    for sib in node.siblings:
                        if (<array>sib).inputs is t:
                            (<array>sib).inputs = new_inputs
                            hold_inputs(new_inputs)
                            release_inputs(t)
    return 0


cdef array as_array(object x):
    """x if it is an array, else x converted as mx.array(x) would."""
    if isinstance(x, array):
        return <array>x
    return array(x)


# ---------------------------------------------------------------- the class

@cython.final
@cython.trashcan(True)
@cython.auto_pickle(False)
cdef class array:
    """array(val: scalar | list | tuple | ndarray | array, dtype: Dtype | None = None)

    An N-dimensional array object, lazily evaluated."""

    def __init__(self, val, dtype=None):
        cdef array src
        cdef int code
        if isinstance(val, array):
            src = <array>val
            if dtype is not None and to_dtype(dtype).code != src.dtype:
                src = <array>_py_hooks["astype"](src, dtype)
            else:
                src = <array>_py_hooks["copy"](src)
            self._take_state(src)
            return
        code = infer_scalar_dtype(val)
        if code >= 0:
            if dtype is not None:
                code = to_dtype(dtype).code
            self._take_state(scalar_array(val, code))
            return
        if isinstance(val, np.generic):
            self._take_state(from_numpy(np.asarray(val), dtype))
            return
        if isinstance(val, (list, tuple)):
            self._take_state(from_numpy(_infer_list_numpy(
                val, dtype is not None and to_dtype(dtype).code == MLXC_FLOAT64), dtype))
            return
        if isinstance(val, np.ndarray):
            self._take_state(from_numpy(val, dtype))
            return
        if hasattr(type(val), "__mlx_array__"):      # MLX's ArrayLike protocol
            src = <array>_check_mlx_array(val)
            if dtype is not None and to_dtype(dtype).code != src.dtype:
                src = <array>_py_hooks["astype"](src, dtype)
            else:
                src = <array>_py_hooks["copy"](src)
            self._take_state(src)
            return
        if val is None:
            raise TypeError("array(): None is not a valid value to initialize an array.")
        if hasattr(val, "__dlpack__"):        # PyTorch, JAX ... arrays: copied, as MLX does
            self._take_state(<array>_py_hooks["dlpack_import_copy"](val, dtype))
            return
        try:
            mv = memoryview(val)
        except TypeError:
            raise ValueError(f"Invalid type {type(val).__name__} received in array "
                             f"initialization.") from None
        self._take_state(from_numpy(np.asarray(mv), dtype))

    def __dealloc__(self):
        release_inputs(self.inputs)
        if self._heap != NULL:
            free(self._heap)
            self._heap = NULL

    cdef _take_state(self, array o):
        """Make self the node/data of o (used by __init__ and __setitem__'s rebinding)."""
        cdef int i
        if o.owner != 0:
            ensure_evaluated(o)   # another thread is still writing o's buffer: wait for it
        if self._heap != NULL:
            free(self._heap)
            self._heap = NULL
        self.dtype = o.dtype
        set_shape(self, o._shape)
        for i in range(o.ndim):
            self.strides[i] = o.strides[i]
        self.buf = o.buf
        self.offset = o.offset
        self.flags = o.flags
        self.primitive = o.primitive
        self.device = o.device
        release_inputs(self.inputs)
        self.inputs = o.inputs
        if self.inputs is not None:
            hold_inputs(self.inputs)
        self.siblings = None
        self.position = 0

    cdef _rebind(self, array old, array new):
        """self (an array the user updates in place) becomes `new`; unevaluated nodes that
        read self are redirected to `old`, a clone of its previous state, so results
        derived before the update keep their values (MLX semantics)."""
        if self.readers > 0:
            redirect_in_graph(new, self, old)     # the usual case: x[i] = f(x)
        if self.readers > 0:
            redirect_readers(self, old)           # readers elsewhere: find them via gc
        self._take_state(new)

    cdef array _clone(self):
        """A new array object with the same node or data as self."""
        cdef array c = array.__new__(array)
        c._take_state(self)
        c.siblings = self.siblings
        c.position = self.position
        return c

    # -------------------------------------------------------- metadata
    @property
    def shape(self):
        """The array's dimension sizes as a tuple."""
        return self._shape

    @property
    def dtype(self):
        """The array's Dtype."""
        return dtype_of(self.dtype)

    @property
    def ndim(self):
        """The number of dimensions."""
        return self.ndim

    @property
    def size(self):
        """The number of elements."""
        return self.size

    @property
    def itemsize(self):
        """The size of one element in bytes."""
        return itemsize(self.dtype)

    @property
    def nbytes(self):
        """The number of bytes of the elements."""
        return self.size * itemsize(self.dtype)

    @property
    def T(self):
        """Equivalent to calling self.transpose() with no axes."""
        return _py_hooks["transpose"](self)

    @property
    def mT(self):
        """The last two axes swapped (matrix transpose)."""
        return _py_hooks["mT"](self)

    @property
    def real(self):
        return _py_hooks["real"](self)

    @property
    def imag(self):
        return _py_hooks["imag"](self)

    @property
    def at(self):
        """Indexed updates that accumulate: a.at[idx].add(v) and friends."""
        return _py_hooks["at"](self)

    # -------------------------------------------------------- values
    def item(self):
        """Return the single element as a Python scalar."""
        if self.size != 1:
            raise ValueError("[convert] Only length-1 arrays can be converted to Python scalars.")
        return self._numpy().reshape(-1)[0].item()

    def tolist(self):
        """The array as (nested) Python lists; a 0-d array gives a scalar."""
        return self._numpy().tolist()

    cdef object _numpy(self):
        """An evaluated numpy view (copy for bfloat16, as float32) of the data."""
        ensure_evaluated(self)
        cdef array a = self
        if self.dtype == MLXC_BFLOAT16:
            a = <array>_py_hooks["contiguous_cast"](self, MLXC_FLOAT32)
        return np.asarray(memoryview(a))

    def _numpy_values(self):
        """The values as a numpy array (bfloat16 as float32), for printing."""
        return self._numpy()

    def __array__(self, dtype=None, copy=None):
        """numpy's conversion protocol (numpy 2): a view of the data unless copy is True or
        dtype needs a cast; copy=False raises ValueError when a copy cannot be avoided."""
        if self.dtype == MLXC_BFLOAT16:      # numpy has no bfloat16 (MLX raises the same)
            raise ValueError("'bfloat16' is not a valid PEP 3118 buffer format string")
        x = self._numpy()
        if dtype is not None and np.dtype(dtype) != x.dtype:
            if copy is False:
                raise ValueError(f"Unable to avoid copy while creating an array as requested "
                                 f"(casting {x.dtype} to {np.dtype(dtype)}).")
            return x.astype(dtype)
        return x.copy() if copy else x

    def __array_namespace__(self, api_version=None):
        """__array_namespace__(self, api_version: str | None = None) -> module

        The module with the array API functions (mlxc.core), as MLX's array has."""
        if api_version is not None:
            raise ValueError("Explicitly specifying api_version is not yet implemented.")
        return _py_hooks["ops"]

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """__dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None)

        A DLPack capsule over the array's data (no copy unless copy=True): the versioned
        "dltensor_versioned" when max_version >= (1, 0), else the legacy "dltensor"."""
        return _py_hooks["dlpack_export"](self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        """__dlpack_device__(self) -> tuple: (1, 0), DLPack's CPU device."""
        return (1, 0)

    def astype(self, dtype, stream=None):
        """astype(self, dtype: Dtype, stream=None) -> array: a copy cast to dtype."""
        return _py_hooks["astype"](self, dtype, stream)

    def __repr__(self):
        return _py_hooks["format"](self, True)

    def __str__(self):
        return _py_hooks["format"](self, False)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() 0-dimensional array.")
        return self.dims[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array.")
        cdef ArrayIterator it = ArrayIterator.__new__(ArrayIterator)
        it.a = self
        it.i = 0
        it.n = self.dims[0]
        return it

    def __bool__(self):
        if self.size != 1:
            raise ValueError("[convert] Only length-1 arrays can be converted to Python scalars.")
        return bool(self.item())

    def __int__(self):
        return int(self.item())

    def __float__(self):
        return float(self.item())

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if kind_of(self.dtype) not in (b'u', b'i', b'b'):
            raise TypeError("Only integer arrays can be used as an index.")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __getbuffer__(self, Py_buffer *view, int flags):
        ensure_evaluated(self)
        if (flags & PyBUF_WRITABLE) and self.buf.readonly:
            raise BufferError("This array's memory was lent read-only (zero-copy import).")
        cdef int isz = itemsize(self.dtype)
        cdef Py_ssize_t *meta = <Py_ssize_t *>malloc(2 * max(self.ndim, 1) * sizeof(Py_ssize_t))
        if meta == NULL:
            raise MemoryError()
        cdef int i
        for i in range(self.ndim):
            meta[i] = self.dims[i]
            meta[self.ndim + i] = self.strides[i] * isz
        view.buf = self.data()
        view.obj = self
        view.len = self.size * isz
        view.readonly = self.buf.readonly
        view.itemsize = isz
        view.format = <char *>BUFFER_FORMATS[self.dtype] if (flags & PyBUF_FORMAT) else NULL
        view.ndim = self.ndim
        view.shape = meta
        view.strides = meta + self.ndim
        view.suboffsets = NULL
        view.internal = meta

    def __releasebuffer__(self, Py_buffer *view):
        free(view.internal)

    # Pickling as MLX does it: object.__reduce_ex__ (protocol 2 and up) makes a bare array
    # and hands it this state, (numpy values, MLX's dtype number); bfloat16 travels as its
    # uint16 bits.  Protocols 0 and 1 cannot pickle arrays, as in MLX.
    def __getstate__(self):
        cdef array a = self
        if self.dtype == MLXC_BFLOAT16:
            a = <array>_py_hooks["ops"].view(self, dtype_of(MLXC_UINT16))
        ensure_evaluated(a)
        return (np.array(a._numpy()), _MLX_DTYPE_NUMBER[self.dtype])

    def __setstate__(self, state, /):
        if self._shape is not None:
            raise TypeError("__setstate__: the array is already initialized (only a bare "
                            "array from array.__new__, as pickle makes, takes a state).")
        if (not isinstance(state, tuple) or len(state) != 2
                or not isinstance(state[0], np.ndarray) or type(state[1]) is not int
                or not 0 <= state[1] < 14):
            raise ValueError("Invalid pickle state: expected (ndarray, Dtype::Val), got "
                             f"{state!r:.80}.")
        values, number = state
        cdef int code = _MLX_DTYPE_NUMBER.index(number)
        cdef array src
        if code == MLXC_BFLOAT16:
            src = from_numpy(np.asarray(values, dtype=np.uint16), None)
            src.dtype = MLXC_BFLOAT16         # the same bits, read as bfloat16
        else:
            src = from_numpy(values, dtype_of(code))
        self._take_state(src)

    def __copy__(self):
        return _py_hooks["copy"](self)

    def __deepcopy__(self, memo):
        return _py_hooks["copy"](self)

    # -------------------------------------------------------- operators
    def __add__(self, other): return _hooks.binary(self, other, MLXC_ADD)
    def __radd__(self, other): return _hooks.binary(other, self, MLXC_ADD)
    def __sub__(self, other): return _hooks.binary(self, other, MLXC_SUB)
    def __rsub__(self, other): return _hooks.binary(other, self, MLXC_SUB)
    def __mul__(self, other): return _hooks.binary(self, other, MLXC_MUL)
    def __rmul__(self, other): return _hooks.binary(other, self, MLXC_MUL)
    def __truediv__(self, other): return _hooks.binary(self, other, MLXC_DIV)
    def __rtruediv__(self, other): return _hooks.binary(other, self, MLXC_DIV)
    def __floordiv__(self, other): return _hooks.binary(self, other, MLXC_FLOOR_DIV)
    def __rfloordiv__(self, other): return _hooks.binary(other, self, MLXC_FLOOR_DIV)
    def __mod__(self, other): return _hooks.binary(self, other, MLXC_REMAINDER)
    def __rmod__(self, other): return _hooks.binary(other, self, MLXC_REMAINDER)
    def __pow__(self, other, mod):
        if mod is not None:
            return NotImplemented
        return _hooks.binary(self, other, MLXC_POWER)
    def __rpow__(self, other, mod):
        if mod is not None:
            return NotImplemented
        return _hooks.binary(other, self, MLXC_POWER)
    def __matmul__(self, other): return _py_hooks["matmul"](self, other)
    def __and__(self, other): return _hooks.binary(self, other, MLXC_BITWISE_AND)
    def __or__(self, other): return _hooks.binary(self, other, MLXC_BITWISE_OR)
    def __xor__(self, other): return _hooks.binary(self, other, MLXC_BITWISE_XOR)
    def __lshift__(self, other): return _hooks.binary(self, other, MLXC_LEFT_SHIFT)
    def __rshift__(self, other): return _hooks.binary(self, other, MLXC_RIGHT_SHIFT)
    def __eq__(self, other): return self._compare(other, MLXC_EQ)
    def __ne__(self, other): return self._compare(other, MLXC_NE)

    cdef _compare(self, object other, int op):
        # MLX: == None raises TypeError; other unsupported types compare unequal.
        if other is None:
            raise TypeError(f"Cannot compare an array with None.")
        try:
            return _hooks.binary(self, other, op)
        except ValueError:
            if isinstance(other, (array, bool, int, float, complex)):
                raise
            return op == MLXC_NE
    def __lt__(self, other): return _hooks.binary(self, other, MLXC_LT)
    def __le__(self, other): return _hooks.binary(self, other, MLXC_LE)
    def __gt__(self, other): return _hooks.binary(self, other, MLXC_GT)
    def __ge__(self, other): return _hooks.binary(self, other, MLXC_GE)
    def __neg__(self): return _hooks.unary(self, MLXC_NEG)
    def __pos__(self): return self
    def __abs__(self): return _hooks.unary(self, MLXC_ABS)
    def __invert__(self): return _hooks.unary(self, MLXC_BITWISE_INVERT)

    # In-place forms keep the Python object and rebind it to the new node, as in MLX,
    # so aliases see the result (arrays themselves stay immutable).
    cdef _inplace(self, object other, int op):
        # The node must read a copy of the old state, or self would become its own input.
        cdef array old = self._clone()
        result = _py_hooks["matmul"](old, other) if op < 0 else _hooks.binary(old, other, op)
        if result is NotImplemented:
            return result
        self._rebind(old, <array>result)
        return self

    def __iadd__(self, other): return self._inplace(other, MLXC_ADD)
    def __isub__(self, other): return self._inplace(other, MLXC_SUB)
    def __imul__(self, other): return self._inplace(other, MLXC_MUL)
    def __itruediv__(self, other):
        if kind_of(self.dtype) != b'f' and kind_of(self.dtype) != b'c':
            raise ValueError("[itruediv] In place true division of an integer array would "
                             "change its type; use a / b instead.")
        return self._inplace(other, MLXC_DIV)
    def __ifloordiv__(self, other):
        return self._inplace(other, MLXC_FLOOR_DIV)
    def __imod__(self, other): return self._inplace(other, MLXC_REMAINDER)
    def __ipow__(self, other): return self._inplace(other, MLXC_POWER)
    def __imatmul__(self, other): return self._inplace(other, -1)
    def __iand__(self, other): return self._inplace(other, MLXC_BITWISE_AND)
    def __ior__(self, other): return self._inplace(other, MLXC_BITWISE_OR)
    def __ixor__(self, other): return self._inplace(other, MLXC_BITWISE_XOR)
    def __ilshift__(self, other):
        return self._inplace(other, MLXC_LEFT_SHIFT)
    def __irshift__(self, other):
        return self._inplace(other, MLXC_RIGHT_SHIFT)

    # -------------------------------------------------------- indexing
    def __getitem__(self, idx):
        return _py_hooks["getitem"](self, idx)

    def __setitem__(self, idx, val):
        # MLX semantics: the array object is rebound to a slice_update/scatter node
        # whose input is the array's previous value.
        cdef array old = self._clone()
        self._rebind(old, <array>_py_hooks["setitem"](old, idx, val))

    # -------------------------------------------------------- methods (see the functions)
    def reshape(self, *shape, stream=None):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return _py_hooks["ops"].reshape(self, shape, stream=stream)
    def transpose(self, *axes, stream=None):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return _py_hooks["ops"].transpose(self, axes if axes else None, stream=stream)
    # MLX's method signatures; each forwards to the function of the same name.
    def abs(self, *, stream=None):
        return _py_hooks["ops"].abs(self, stream=stream)
    def all(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].all(self, axis, keepdims, stream=stream)
    def any(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].any(self, axis, keepdims, stream=stream)
    def argmax(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].argmax(self, axis, keepdims, stream=stream)
    def argmin(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].argmin(self, axis, keepdims, stream=stream)
    def conj(self, *, stream=None):
        return _py_hooks["ops"].conj(self, stream=stream)
    def cos(self, *, stream=None):
        return _py_hooks["ops"].cos(self, stream=stream)
    def cummax(self, axis=None, *, reverse=False, inclusive=True, stream=None):
        return _py_hooks["ops"].cummax(self, axis, reverse=reverse, inclusive=inclusive,
                                       stream=stream)
    def cummin(self, axis=None, *, reverse=False, inclusive=True, stream=None):
        return _py_hooks["ops"].cummin(self, axis, reverse=reverse, inclusive=inclusive,
                                       stream=stream)
    def cumprod(self, axis=None, *, reverse=False, inclusive=True, stream=None):
        return _py_hooks["ops"].cumprod(self, axis, reverse=reverse, inclusive=inclusive,
                                        stream=stream)
    def cumsum(self, axis=None, *, reverse=False, inclusive=True, stream=None):
        return _py_hooks["ops"].cumsum(self, axis, reverse=reverse, inclusive=inclusive,
                                       stream=stream)
    def diag(self, k=0, *, stream=None):
        return _py_hooks["ops"].diag(self, k, stream=stream)
    def diagonal(self, offset=0, axis1=0, axis2=1, stream=None):
        return _py_hooks["ops"].diagonal(self, offset, axis1, axis2, stream=stream)
    def exp(self, *, stream=None):
        return _py_hooks["ops"].exp(self, stream=stream)
    def flatten(self, start_axis=0, end_axis=-1, *, stream=None):
        return _py_hooks["ops"].flatten(self, start_axis, end_axis, stream=stream)
    def log(self, *, stream=None):
        return _py_hooks["ops"].log(self, stream=stream)
    def log10(self, *, stream=None):
        return _py_hooks["ops"].log10(self, stream=stream)
    def log1p(self, *, stream=None):
        return _py_hooks["ops"].log1p(self, stream=stream)
    def log2(self, *, stream=None):
        return _py_hooks["ops"].log2(self, stream=stream)
    def logcumsumexp(self, axis=None, *, reverse=False, inclusive=True, stream=None):
        return _py_hooks["ops"].logcumsumexp(self, axis, reverse=reverse, inclusive=inclusive,
                                             stream=stream)
    def logsumexp(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].logsumexp(self, axis, keepdims, stream=stream)
    def max(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].max(self, axis, keepdims, stream=stream)
    def mean(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].mean(self, axis, keepdims, stream=stream)
    def min(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].min(self, axis, keepdims, stream=stream)
    def moveaxis(self, source, destination, *, stream=None):
        return _py_hooks["ops"].moveaxis(self, source, destination, stream=stream)
    def prod(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].prod(self, axis, keepdims, stream=stream)
    def reciprocal(self, *, stream=None):
        return _py_hooks["ops"].reciprocal(self, stream=stream)
    def round(self, decimals=0, *, stream=None):
        return _py_hooks["ops"].round(self, decimals, stream=stream)
    def rsqrt(self, *, stream=None):
        return _py_hooks["ops"].rsqrt(self, stream=stream)
    def sin(self, *, stream=None):
        return _py_hooks["ops"].sin(self, stream=stream)
    def split(self, indices_or_sections, axis=0, *, stream=None):
        return _py_hooks["ops"].split(self, indices_or_sections, axis, stream=stream)
    def sqrt(self, *, stream=None):
        return _py_hooks["ops"].sqrt(self, stream=stream)
    def square(self, *, stream=None):
        return _py_hooks["ops"].square(self, stream=stream)
    def squeeze(self, axis=None, *, stream=None):
        return _py_hooks["ops"].squeeze(self, axis, stream=stream)
    def std(self, axis=None, keepdims=False, ddof=0, *, correction=None, stream=None):
        # MLX: correction, when given, replaces ddof.
        return _py_hooks["ops"].std(self, axis, keepdims,
                                    ddof if correction is None else correction, stream=stream)
    def sum(self, axis=None, keepdims=False, *, stream=None):
        return _py_hooks["ops"].sum(self, axis, keepdims, stream=stream)
    def swapaxes(self, axis1, axis2, *, stream=None):
        return _py_hooks["ops"].swapaxes(self, axis1, axis2, stream=stream)
    def var(self, axis=None, keepdims=False, ddof=0, *, correction=None, stream=None):
        return _py_hooks["ops"].var(self, axis, keepdims,
                                    ddof if correction is None else correction, stream=stream)
    def view(self, dtype, *, stream=None):
        return _py_hooks["ops"].view(self, dtype, stream=stream)


# MLX's number for each dtype code (its enum order puts bfloat16 after float64).
_MLX_DTYPE_NUMBER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11, 13]


def _unpickle(values, name):
    # Reads pickles written before arrays pickled through __getstate__.
    from mlxc._core.dtype import DTYPES
    d = [x for x in DTYPES if x.name == name][0]
    return array(values, d)


cdef object _check_mlx_array(object val):
    out = val.__mlx_array__()
    if not isinstance(out, array):
        raise TypeError(f"{type(val).__name__}.__mlx_array__() must return an array, got "
                        f"{type(out).__name__}.")
    return out


@cython.final
@cython.auto_pickle(False)
cdef class ArrayIterator:
    """A helper object to iterate over the 1st dimension of an array."""
    cdef array a
    cdef Py_ssize_t i, n

    def __init__(self, *args, **kwargs):
        raise TypeError("mlxc.core.ArrayIterator: no constructor defined!")

    def __iter__(self):
        # MLX hands out an iterator at the same position (iterating it leaves self as is).
        cdef ArrayIterator it = ArrayIterator.__new__(ArrayIterator)
        it.a, it.i, it.n = self.a, self.i, self.n
        return it

    def __next__(self):
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return self.a[self.i - 1]


class ArrayLike:
    """Any Python object which has an ``__mlx_array__`` method that returns an array.

    (A name for type annotations, as in MLX: ``array(obj)`` and the operators accept such
    objects; an ArrayLike instance itself is not one.)"""
    __slots__ = ("_obj",)

    def __init__(self, arg, /):
        self._obj = arg


def get_array_buffer_size(*args):
    """get_array_buffer_size(*args) -> int

    The bytes of the buffers backing the arrays in args (arrays or trees of arrays; other
    leaves are ignored), each buffer counted once at its full allocator size.  The arrays
    must be evaluated."""
    seen = set()
    total = 0
    stack = list(args)
    cdef array a
    while stack:
        x = stack.pop()
        if isinstance(x, array):
            a = <array>x
            if a.buf is None:
                raise ValueError("[get_array_buffer_size] Arrays must be evaluated before "
                                 "querying buffer size.")
            if id(a.buf) not in seen:
                seen.add(id(a.buf))
                total += a.buf.capacity
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    return total


# ---------------------------------------------------------------- raw bytes (io)

def _empty(dtype, shape):
    """An evaluated, row-contiguous, uninitialised array: io reads file bytes straight
    into it (through _raw_bytes), so loading copies the data once."""
    return new_empty(to_dtype(dtype).code, tuple(shape))


def _layout(array a):
    """(row_contiguous, col_contiguous) of a, evaluating it first."""
    ensure_evaluated(a)
    return bool(a.flags & ROW_CONTIG), bool(a.flags & COL_CONTIG)


cdef const char *BYTE_FORMAT = b"B"


@cython.final
cdef class _RawBytes:
    """A flat, writable byte buffer over an evaluated contiguous array's memory, for
    every dtype (bfloat16 too, which has no PEP 3118 format)."""
    cdef array a

    def __getbuffer__(self, Py_buffer *view, int flags):
        view.buf = self.a.data()
        view.obj = self
        view.len = self.a.size * itemsize(self.a.dtype)
        view.readonly = 0
        view.itemsize = 1
        view.format = <char *>BYTE_FORMAT if (flags & PyBUF_FORMAT) else NULL
        view.ndim = 1
        view.shape = &view.len
        view.strides = &view.itemsize
        view.suboffsets = NULL
        view.internal = NULL

    def __releasebuffer__(self, Py_buffer *view):
        pass


def _raw_bytes(array a):
    """memoryview of a's bytes in memory order; a must be row- or column-contiguous."""
    ensure_evaluated(a)
    if not (a.flags & (ROW_CONTIG | COL_CONTIG)):
        raise ValueError("_raw_bytes: the array is not contiguous")
    cdef _RawBytes r = _RawBytes.__new__(_RawBytes)
    r.a = a
    return memoryview(r)
