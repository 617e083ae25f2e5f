"""DLPack: array.__dlpack__ (export) and mx.from_dlpack (import), both zero-copy.

Export: the capsule holds a reference to the array's Buffer (not to the array object,
which in-place operators may rebind), so the memory outlives every mlxc array until the
consumer calls the deleter, or until the capsule dies unused.  Import: the consumed
tensor is wrapped in a Buffer whose owner runs the producer's deleter when the last
mlxc array over that memory dies; such memory is never donated to an output.
"""
from cpython.pycapsule cimport (PyCapsule_GetPointer, PyCapsule_IsValid, PyCapsule_New,
                                PyCapsule_SetName)
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject
from libc.stdint cimport int64_t, uint8_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from mlxc._core.allocator cimport Buffer, wrap_external
from mlxc._core.array cimport array, ensure_evaluated, new_empty, set_shape, update_flags
from mlxc._core.dtype cimport dtype_of, itemsize, to_dtype
from mlxc._core.kernels cimport *
from mlxc._core.primitive cimport check_status

import numpy as np

from mlxc._core.array import _py_hooks

cdef extern from "Python.h":
    int Py_IsInitialized() nogil

# DLPack (code, bits) of each mlxc dtype code, in the order of enum mlxc_dtype.
cdef uint8_t DL_CODE[14]
cdef uint8_t DL_BITS[14]
DL_CODE[:] = [kDLBool, kDLUInt, kDLUInt, kDLUInt, kDLUInt, kDLInt, kDLInt, kDLInt, kDLInt,
              kDLFloat, kDLBfloat, kDLFloat, kDLFloat, kDLComplex]
DL_BITS[:] = [8, 8, 16, 32, 64, 8, 16, 32, 64, 16, 16, 32, 64, 64]

cdef enum:
    SRC_COMPLEX128 = -2      # importable (cast to complex64) though mlxc has no such dtype
    SRC_UNSUPPORTED = -1


# ---------------------------------------------------------------- export

cdef void _release_ctx(void *ctx) noexcept nogil:
    # Deleters may run on any thread, with or without the GIL; after interpreter
    # shutdown the Buffer is gone with it, so there is nothing left to release.
    if ctx != NULL and Py_IsInitialized():
        with gil:
            Py_XDECREF(<PyObject *>ctx)


cdef void _delete_versioned(DLManagedTensorVersioned *m) noexcept nogil:
    if m != NULL:
        _release_ctx(m.manager_ctx)
        free(m)


cdef void _delete_legacy(DLManagedTensor *m) noexcept nogil:
    if m != NULL:
        _release_ctx(m.manager_ctx)
        free(m)


# Capsule destructors: a capsule that still has its original name was never consumed,
# so its tensor is still ours to delete (a consumer renames it to "used_...").
cdef void _capsule_versioned(object cap) noexcept:
    cdef DLManagedTensorVersioned *m
    if PyCapsule_IsValid(cap, b"dltensor_versioned"):
        m = <DLManagedTensorVersioned *>PyCapsule_GetPointer(cap, b"dltensor_versioned")
        if m.deleter != NULL:
            m.deleter(m)


cdef void _capsule_legacy(object cap) noexcept:
    cdef DLManagedTensor *m
    if PyCapsule_IsValid(cap, b"dltensor"):
        m = <DLManagedTensor *>PyCapsule_GetPointer(cap, b"dltensor")
        if m.deleter != NULL:
            m.deleter(m)


cdef array contiguous_copy(array a, int dst):
    cdef array out = new_empty(dst, a._shape)
    cdef int st
    if a.size:
        with nogil:
            st = mlxc_copy(a.dtype, dst, out.data(), out.strides, a.data(), a.strides,
                           a.ndim, a.dims)
        check_status(st, "copy")
    return out


cdef tuple _version_pair(object v, str what):
    try:
        major, minor = v
        return (int(major), int(minor))
    except (TypeError, ValueError):
        raise TypeError(f"[__dlpack__] {what} must be a pair of ints, got {v!r}.") from None


def to_dlpack(array a, stream=None, max_version=None, dl_device=None, copy=None):
    """The DLPack capsule of a (array.__dlpack__): "dltensor_versioned" holding a
    DLManagedTensorVersioned when max_version asks for DLPack 1.x, else the legacy
    "dltensor".  The data is shared unless copy is True."""
    cdef bint versioned = False
    cdef uint64_t flags = 0
    if max_version is not None:
        versioned = _version_pair(max_version, "max_version")[0] >= DLPACK_MAJOR
    if dl_device is not None:
        dev = _version_pair(dl_device, "dl_device")
        if dev != (kDLCPU, 0):
            raise BufferError(f"[__dlpack__] Cannot export to device {dev}: mlxc arrays "
                              f"live on the CPU, device (1, 0).")
    ensure_evaluated(a)
    if copy:
        a = contiguous_copy(a, a.dtype)
        flags |= DLPACK_FLAG_IS_COPIED
    elif a.buf.readonly:
        # Memory lent read-only (a zero-copy import): only a versioned capsule can say so.
        if versioned:
            flags |= DLPACK_FLAG_READ_ONLY
        elif copy is None:
            a = contiguous_copy(a, a.dtype)
        else:
            raise BufferError("[__dlpack__] This array's memory is read-only, which a legacy "
                              "DLPack capsule cannot mark; ask with max_version=(1, 0) or "
                              "allow a copy.")
    cdef int n = a.ndim, i
    # One block: the managed tensor, then shape and strides.
    cdef size_t head = sizeof(DLManagedTensorVersioned) if versioned else sizeof(DLManagedTensor)
    head = (head + 7) & ~(<size_t>7)
    cdef char *block = <char *>malloc(head + 2 * (n if n > 0 else 1) * sizeof(int64_t))
    if block == NULL:
        raise MemoryError()
    memset(block, 0, head)
    cdef int64_t *shape = <int64_t *>(block + head)
    cdef int64_t *strides = shape + n
    cdef DLTensor *t
    cdef DLManagedTensorVersioned *mv
    cdef DLManagedTensor *ml
    if versioned:
        mv = <DLManagedTensorVersioned *>block
        mv.version.major = DLPACK_MAJOR
        mv.version.minor = DLPACK_MINOR
        mv.flags = flags
        mv.deleter = _delete_versioned
        t = &mv.dl_tensor
    else:
        ml = <DLManagedTensor *>block
        ml.deleter = _delete_legacy
        t = &ml.dl_tensor
    for i in range(n):
        shape[i] = a.dims[i]
        strides[i] = a.strides[i]
    t.data = a.data()          # element 0; byte_offset stays 0, which every consumer reads
    t.device.device_type = kDLCPU
    t.device.device_id = 0
    t.ndim = n
    t.dtype.code = DL_CODE[a.dtype]
    t.dtype.bits = DL_BITS[a.dtype]
    t.dtype.lanes = 1
    t.shape = shape
    t.strides = strides
    t.byte_offset = 0
    try:
        if versioned:
            cap = PyCapsule_New(block, b"dltensor_versioned", _capsule_versioned)
        else:
            cap = PyCapsule_New(block, b"dltensor", _capsule_legacy)
    except BaseException:
        free(block)
        raise
    # Only now does the block own a reference (the capsule's destructor may release it).
    Py_INCREF(a.buf)
    if versioned:
        mv.manager_ctx = <void *>a.buf
    else:
        ml.manager_ctx = <void *>a.buf
    return cap


# ---------------------------------------------------------------- import

cdef class _Lender:
    """A consumed DLPack tensor: the producer's deleter runs when this object dies, that
    is when the last mlxc Buffer over the memory is gone."""
    cdef void *managed
    cdef bint versioned

    def __dealloc__(self):
        cdef DLManagedTensorVersioned *mv
        cdef DLManagedTensor *ml
        if self.managed == NULL:
            return
        if self.versioned:
            mv = <DLManagedTensorVersioned *>self.managed
            if mv.deleter != NULL:
                mv.deleter(mv)
        else:
            ml = <DLManagedTensor *>self.managed
            if ml.deleter != NULL:
                ml.deleter(ml)
        self.managed = NULL


cdef int _source_code(DLDataType t) noexcept:
    cdef int c
    if t.lanes != 1:
        return SRC_UNSUPPORTED
    for c in range(14):
        if DL_CODE[c] == t.code and DL_BITS[c] == t.bits:
            return c
    if t.code == kDLComplex and t.bits == 128:
        return SRC_COMPLEX128
    return SRC_UNSUPPORTED


cdef array _lent_view(char *data, int code, int split, tuple shape, list strides,
                      _Lender lender, bint readonly):
    """An evaluated array over lent memory.  split > 1 views each source element as
    `split` consecutive elements of `code` (a new last axis): complex128 as float64
    pairs, unaligned elements as their bytes."""
    cdef array v = array.__new__(array)
    cdef int n = len(shape), i
    cdef int64_t lo = 0, hi = 0, d, s
    cdef int isz = itemsize(code)
    v.dtype = code
    set_shape(v, shape + ((split,) if split > 1 else ()))
    for i in range(n):
        d = shape[i]
        s = <int64_t>strides[i] * split
        v.strides[i] = s
        if s < 0:
            lo += (d - 1) * s
        else:
            hi += (d - 1) * s
    if split > 1:
        v.strides[n] = 1
        hi += split - 1
    # The Buffer spans exactly the elements the strides reach; element 0 sits at offset.
    v.buf = wrap_external(data + lo * isz, <size_t>((hi - lo + 1) * isz), lender, readonly)
    v.offset = -lo * isz
    update_flags(v)
    return v


cdef int _copy_into(void *dst, int dst_code, tuple dst_strides, array src) except -1:
    """mlxc_copy of src (any strides) into dst laid out by dst_strides (src.ndim of them)."""
    cdef int st, i, n = src.ndim
    cdef int64_t *ds = <int64_t *>malloc((n if n > 0 else 1) * sizeof(int64_t))
    if ds == NULL:
        raise MemoryError()
    for i in range(n):
        ds[i] = dst_strides[i]
    with nogil:
        st = mlxc_copy(src.dtype, dst_code, dst, ds, src.data(), src.strides, n, src.dims)
    free(ds)
    return check_status(st, "from_dlpack")


cdef tuple _row_strides(array out, int split):
    """out's row-major strides counted in 1/split elements, plus a unit last axis when split."""
    cdef tuple s = tuple([out.strides[i] * split for i in range(out.ndim)])
    return s + (1,) if split > 1 else s


cdef object _capsule_of(object x, object copy):
    """Call x.__dlpack__ as the DLPack 2023.12 consumer protocol says."""
    kwargs = {"max_version": (DLPACK_MAJOR, DLPACK_MINOR)}
    devfn = getattr(x, "__dlpack_device__", None)
    if devfn is not None:
        dev = tuple(devfn())
        if int(dev[0]) not in (kDLCPU, kDLCUDAHost, kDLROCMHost):
            if copy is False:
                raise ValueError(f"[from_dlpack] The data is on device {dev}, not the CPU; "
                                 f"importing it needs a copy (copy=False).")
            kwargs["dl_device"] = (kDLCPU, 0)
            kwargs["copy"] = True
    try:
        return x.__dlpack__(**kwargs)
    except TypeError:
        if "dl_device" in kwargs:
            raise
        return x.__dlpack__()       # a producer from before max_version existed


cdef array import_dlpack(object x, int want, object copy):
    if not hasattr(x, "__dlpack__"):
        # Buffer-protocol objects (bytes, numpy scalars, array.array ...) through numpy's
        # view of their buffer, as MLX accepts them.
        try:
            x = np.asarray(memoryview(x))
        except TypeError:
            raise TypeError(f"[from_dlpack] Expected an object with __dlpack__ or the buffer "
                            f"protocol (a numpy, PyTorch or JAX array ...), got "
                            f"{type(x).__name__}.") from None
    cap = _capsule_of(x, copy)
    cdef _Lender lender = _Lender.__new__(_Lender)
    cdef DLTensor *t
    cdef DLManagedTensorVersioned *mv
    cdef DLManagedTensor *ml
    cdef bint readonly = False
    if PyCapsule_IsValid(cap, b"dltensor_versioned"):
        mv = <DLManagedTensorVersioned *>PyCapsule_GetPointer(cap, b"dltensor_versioned")
        if mv.version.major != DLPACK_MAJOR:
            # Left unconsumed: the capsule's own destructor frees it.
            raise BufferError(f"[from_dlpack] DLPack version {mv.version.major}."
                              f"{mv.version.minor} is not supported (mlxc reads 1.x).")
        PyCapsule_SetName(cap, b"used_dltensor_versioned")
        lender.managed = mv
        lender.versioned = True
        t = &mv.dl_tensor
        readonly = (mv.flags & DLPACK_FLAG_READ_ONLY) != 0
    elif PyCapsule_IsValid(cap, b"dltensor"):
        ml = <DLManagedTensor *>PyCapsule_GetPointer(cap, b"dltensor")
        PyCapsule_SetName(cap, b"used_dltensor")
        lender.managed = ml
        t = &ml.dl_tensor
    else:
        raise TypeError(f"[from_dlpack] __dlpack__() returned {cap!r}, not an unused DLPack "
                        f"capsule.")
    # From here on the lender owns the tensor: any exception below releases it.
    if t.device.device_type not in (kDLCPU, kDLCUDAHost, kDLROCMHost):
        raise BufferError(f"[from_dlpack] The tensor is on device ({t.device.device_type}, "
                          f"{t.device.device_id}); mlxc reads host memory only.")
    cdef int src = _source_code(t.dtype)
    if src == SRC_UNSUPPORTED:
        raise ValueError(f"[from_dlpack] Unsupported DLPack dtype (code {t.dtype.code}, "
                         f"{t.dtype.bits} bits, {t.dtype.lanes} lanes).")
    if t.ndim < 0:
        raise BufferError(f"[from_dlpack] Invalid ndim {t.ndim}.")
    cdef int n = t.ndim, i
    shape = tuple([t.shape[i] for i in range(n)])
    if any(d < 0 for d in shape):
        raise BufferError(f"[from_dlpack] Invalid shape {shape}.")
    cdef list strides
    cdef int64_t acc = 1
    if t.strides != NULL:
        strides = [t.strides[i] for i in range(n)]
    else:
        strides = [0] * n           # compact row-major
        for i in range(n - 1, -1, -1):
            strides[i] = acc
            acc *= shape[i]
    # MLX's mapping (as for mx.array(ndarray)): float64 -> float32, complex128 -> complex64.
    cdef int natural = src
    if src == SRC_COMPLEX128:
        natural = MLXC_COMPLEX64
    elif src == MLXC_FLOAT64 and want < 0:
        natural = MLXC_FLOAT32
    cdef int target = want if want >= 0 else natural
    cdef int64_t size = 1
    for d in shape:
        size *= d
    cdef int src_size = 16 if src == SRC_COMPLEX128 else itemsize(src)
    cdef char *data = <char *>t.data + t.byte_offset
    cdef bint aligned = (<uintptr_t>data) % (src_size if src_size < 8 else 8) == 0
    cdef bint share = src == target and aligned and size > 0
    if copy is False and not share and size > 0:
        why = (f"converting {'complex128' if src < 0 else dtype_of(src).name} to "
               f"{dtype_of(target).name}" if src != target else "the data is not aligned")
        raise ValueError(f"[from_dlpack] Cannot import without a copy ({why}).")
    if share and not copy:
        return _lent_view(data, src, 1, shape, strides, lender, readonly)
    # A copy: out is row-major in the target dtype (complex128 goes to complex64 first).
    cdef array out = new_empty(target if src >= 0 else MLXC_COMPLEX64, shape)
    if size == 0:
        return out
    cdef array v, tmp
    if not aligned:
        # The bytes first, into an aligned row-major array of the source's element layout.
        v = _lent_view(data, MLXC_UINT8, src_size, shape, strides, lender, readonly)
        tmp = new_empty(src if src >= 0 else MLXC_FLOAT64, shape + ((2,) if src < 0 else ()))
        _copy_into(tmp.data(), MLXC_UINT8, _row_strides(out, src_size), v)
        v = tmp
    elif src < 0:
        v = _lent_view(data, MLXC_FLOAT64, 2, shape, strides, lender, readonly)
    else:
        v = _lent_view(data, src, 1, shape, strides, lender, readonly)
    if src < 0:
        # complex128 as float64 pairs into complex64 as float32 pairs.
        _copy_into(out.data(), MLXC_FLOAT32, _row_strides(out, 2), v)
        return out if target == MLXC_COMPLEX64 else contiguous_copy(out, target)
    _copy_into(out.data(), target, _row_strides(out, 1), v)
    return out


def from_dlpack(x, /, *, copy=None):
    """from_dlpack(x: DLPackCompatible, /, *, copy: bool | None = None) -> array

    An array over the data of x, an object implementing __dlpack__ (numpy, PyTorch, JAX
    ... arrays on the CPU).  copy=None shares the memory when possible (same dtype,
    aligned; any strides, negative ones included) and copies otherwise; copy=True always
    copies; copy=False never copies and raises ValueError when a copy is needed.  As
    mx.array does, float64 data becomes float32 and complex128 complex64 (a copy)."""
    cdef array a
    if isinstance(x, array):
        a = <array>x
        ensure_evaluated(a)
        if copy:
            return contiguous_copy(a, a.dtype)
        return a._clone()
    return import_dlpack(x, -1, copy)


def _import_copy(x, dtype):
    """mx.array(x) for a DLPack producer: always a copy."""
    return import_dlpack(x, -1 if dtype is None else to_dtype(dtype).code, True)


_py_hooks.update(dlpack_export=to_dlpack, dlpack_import_copy=_import_copy)
