"""Argument validation shared by the op constructors (shapes, axes, integer arguments,
the stream argument)."""
from cpython.long cimport PyLong_Check
from operator import index as _index

from mlxc._core.array cimport set_node_device
from mlxc._core.dtype cimport dtype_of, itemsize

import numpy as np

# Integer arguments become int64 inside the engine; Python ints past that range are
# refused here, with the op's name, instead of failing (or wrapping) in a C conversion.
INT64_MIN = -2**63
INT64_MAX = 2**63 - 1


cdef object check_int_range(object v, str op, str name):
    if not INT64_MIN <= v <= INT64_MAX:
        raise OverflowError(f"[{op}] {name} {v} is outside the supported range "
                            f"[-2**63, 2**63 - 1].")
    return v


cdef object int_arg(object v, str op, str name):
    """v as a Python int (ints, bools, numpy integers, integer 0-d arrays) within int64."""
    try:
        i = _index(v)
    except TypeError:
        raise TypeError(f"[{op}] {name} must be an integer, got {v!r}.") from None
    return check_int_range(i, op, name)


def integer_argument(v, op, name):
    """int_arg for ops written in Python (ops/composite.py)."""
    return int_arg(v, op, name)


cdef object shape_size(tuple shape, str op):
    """The number of elements of shape; OverflowError when it does not fit in int64."""
    n = 1
    for d in shape:
        n *= d
    if n > INT64_MAX:
        raise OverflowError(f"[{op}] Shape {shape} has {n} elements, more than 2**63 - 1.")
    return n


cdef tuple broadcast_shapes2(tuple a, tuple b, str op):
    cdef Py_ssize_t na = len(a), nb = len(b), n = max(na, nb), i
    if a == b:
        return a
    out = [0] * n
    for i in range(n):
        da = a[na - n + i] if na - n + i >= 0 else 1
        db = b[nb - n + i] if nb - n + i >= 0 else 1
        if da == db or db == 1:
            out[i] = da
        elif da == 1:
            out[i] = db
        else:
            raise ValueError(f"[{op}] Shapes {a} and {b} cannot be broadcast.")
    return tuple(out)


cdef int normalize_axis(object axis, int ndim, str op) except? -1:
    if not ((PyLong_Check(axis) and not isinstance(axis, bool)) or isinstance(axis, np.integer)):
        raise TypeError(f"[{op}] Expected an integer axis, got {axis!r}.")
    ax = int(axis)                # compared as a Python int: any size is just out of bounds
    if ax < -ndim or ax >= ndim:
        raise IndexError(f"[{op}] Axis {axis} is out of bounds for array with {ndim} "
                         f"dimensions.")
    return <int>(ax + ndim if ax < 0 else ax)


cdef tuple normalize_axes(object axes, int ndim, str op):
    if axes is None:
        return tuple(range(ndim))
    if PyLong_Check(axes):
        return (normalize_axis(axes, ndim, op),)
    try:
        axes = tuple(axes)
    except TypeError:
        raise TypeError(f"[{op}] Expected an int or a sequence of ints for axis, "
                        f"got {axes!r}.") from None
    out = tuple(normalize_axis(a, ndim, op) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"[{op}] Received duplicate axes {axes}.")
    return out


cdef object check_nbytes(tuple shape, int dtype, str op):
    """The byte size of an array of shape and dtype; OverflowError when it does not fit in
    int64 (the allocator would otherwise be asked for a wrapped-around size)."""
    n = shape_size(shape, op) * itemsize(dtype)
    if n > INT64_MAX:
        raise OverflowError(f"[{op}] An array of shape {shape} and type {dtype_of(dtype).name} "
                            f"would take {n} bytes, more than 2**63 - 1.")
    return n


cdef tuple check_shape(object shape, str op):
    if PyLong_Check(shape):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"[{op}] Expected a shape (int or sequence of ints), "
                        f"got {shape!r}.") from None
    for d in shape:
        if not PyLong_Check(d) or isinstance(d, bool):
            raise TypeError(f"[{op}] Shape entries must be integers, got {d!r}.")
        if d < 0:
            raise ValueError(f"[{op}] Negative dimensions are not allowed, got {shape}.")
        if d > INT64_MAX:
            raise OverflowError(f"[{op}] Shape dimension {d} is outside the supported range "
                                f"[0, 2**63 - 1].")
    shape = tuple(int(d) for d in shape)
    shape_size(shape, op)
    return shape


# ---------------------------------------------------------------- streams
# An op's stream= argument is resolved once, at the op's entry: the StreamScope it makes
# sets this thread's node device (array.pyx) for the rest of the call, so every node the
# op creates, directly or through the ops it is built from, records that device, and
# eval runs it with eval_cpu or eval_gpu.  stream=None costs one comparison.

cdef object _DEVICE_TYPES = None      # (Device, DeviceType, Stream, ThreadLocalStream, cpu)
cdef object _gpu_available = None     # mlxc._core.metal.backend.available


cdef int stream_device(object stream, str op) except -1:
    """The device code (0 cpu, 1 gpu) that an op's stream argument names; TypeError for
    anything but a Stream, ThreadLocalStream, Device or DeviceType, ValueError for the GPU
    without a GPU backend."""
    global _DEVICE_TYPES, _gpu_available
    if _DEVICE_TYPES is None:
        from mlxc._core.device import Device, DeviceType, Stream, ThreadLocalStream
        from mlxc._core.metal.backend import available
        _DEVICE_TYPES = (Device, DeviceType, Stream, ThreadLocalStream, DeviceType.cpu)
        _gpu_available = available
    Device, DeviceType, Stream, ThreadLocalStream, cpu = _DEVICE_TYPES
    if isinstance(stream, (Stream, ThreadLocalStream)):
        kind = stream.device.type
    elif isinstance(stream, Device):
        kind = stream.type
    elif isinstance(stream, DeviceType):
        kind = stream
    else:
        raise TypeError(f"[{op}] stream must be a Stream, ThreadLocalStream, Device or "
                        f"DeviceType, got {stream!r}.")
    if kind is cpu:
        return 0
    if not _gpu_available():
        raise ValueError(f"[{op}] Cannot run on the gpu: there is no gpu backend in this "
                         f"build.")
    return 1


cdef class StreamScope:
    """While it lives (or inside its with block), this thread's new nodes record its
    device; then the previous choice comes back.  Cython ops hold one in a local for the
    duration of the call (released when the op returns or raises); Python ops use it in a
    with statement (a frame kept by a traceback must not keep it active)."""

    def __dealloc__(self):
        self.close()

    cdef void close(self) noexcept:
        if self.active:
            self.active = False
            set_node_device(self.saved, -1)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        self.close()
        return False


cdef StreamScope enter_stream(object stream, str op):
    cdef int device = stream_device(stream, op)
    cdef StreamScope s = StreamScope.__new__(StreamScope)
    s.saved = set_node_device(device, -1)
    s.active = True
    return s


cdef StreamScope _NO_SCOPE = StreamScope.__new__(StreamScope)     # never active


def stream_scope(stream, str op):
    """on_stream for ops written in Python: `with stream_scope(stream, "op"):` around the
    body (a no-op scope for stream=None)."""
    if stream is None:
        return _NO_SCOPE
    return enter_stream(stream, op)
