"""Shape and view op constructors: reshape, transpose, broadcasting, squeeze, slicing views."""
from cpython.long cimport PyLong_Check

from mlxc._core.array cimport array, as_array, new_node, new_nodes
from mlxc._core.dtype cimport dtype_of, itemsize, to_dtype
from mlxc._core.ops.common cimport broadcast_shapes2, check_shape, normalize_axes, normalize_axis
from mlxc._core.ops.common cimport on_stream
from mlxc._core.ops.elementwise cimport contiguous_op
from mlxc._core.prims.views cimport (AsStrided, Broadcast, Depends, Reshape, Slice, Transpose,
                                     View)

from mlxc._core.array import _py_hooks

cdef Reshape _RESHAPE = Reshape.__new__(Reshape)
cdef Broadcast _BROADCAST = Broadcast.__new__(Broadcast)


cpdef array reshape_op(array a, tuple shape):
    if shape == a._shape:
        return a
    return new_node(a.dtype, shape, _RESHAPE, (a,))


cpdef array transpose_op(array a, tuple perm):
    cdef int i
    for i in range(len(perm)):
        if perm[i] != i:
            break
    else:
        return a
    return new_node(a.dtype, tuple([a._shape[p] for p in perm]), Transpose(perm), (a,))


cpdef array broadcast_to_op(array a, tuple shape):
    if shape == a._shape:
        return a
    return new_node(a.dtype, shape, _BROADCAST, (a,))


cpdef array slice_op(array a, tuple start, tuple stop, tuple step):
    cdef list dims = []
    cdef bint unit = True
    for i in range(a.ndim):
        dims.append(len(range(start[i], stop[i], step[i])))
        unit = unit and step[i] == 1
    shape = tuple(dims)
    if unit and shape == a._shape:
        return a
    return new_node(a.dtype, shape, Slice(start, step), (a,))


def _resolve_shape(tuple shape, long long size, str op):
    """Replace a single -1 with the inferred dimension; check the element count."""
    cdef int neg = -1, i
    known = 1                    # a Python int: a product of huge entries cannot wrap
    for i in range(len(shape)):
        d = shape[i]
        if not PyLong_Check(d) or isinstance(d, bool):
            raise TypeError(f"[{op}] Shape entries must be integers, got {d!r}.")
        if d == -1:
            if neg >= 0:
                raise ValueError(f"[{op}] Can only infer one dimension.")
            neg = i
        elif d < 0:
            raise ValueError(f"[{op}] Invalid dimension {d} in shape {shape}.")
        else:
            known *= d
    if neg >= 0:
        if known == 0 or size % known != 0:
            raise ValueError(f"[{op}] Cannot infer the shape of an empty array or the size "
                             f"{size} is not divisible by {known} (shape {shape}).")
        shape = shape[:neg] + (size // known,) + shape[neg + 1:]
    elif known != size:
        raise ValueError(f"[{op}] Cannot reshape array of size {size} into shape {shape}.")
    return check_shape(shape, op)


def reshape(a, /, shape, *, stream=None):
    """reshape(a: array, /, shape: Sequence[int], *, stream=None) -> array."""
    scope = on_stream(stream, "reshape")
    cdef array x = as_array(a)
    cdef Reshape prim
    if PyLong_Check(shape):
        shape = (shape,)
    shape = tuple(shape)
    resolved = _resolve_shape(shape, x.size, "reshape")
    if -1 in shape and resolved != x._shape:
        prim = Reshape.__new__(Reshape)
        prim.spec = shape          # which dim was inferred: replays at other sizes need it
        return new_node(x.dtype, resolved, prim, (x,))
    return reshape_op(x, resolved)


def flatten(a, /, start_axis=0, end_axis=-1, *, stream=None):
    """flatten(a: array, /, start_axis: int = 0, end_axis: int = -1, *, stream=None) -> array."""
    scope = on_stream(stream, "flatten")
    cdef array x = as_array(a)
    if x.ndim == 0:
        return reshape_op(x, (1,))
    s = normalize_axis(start_axis, x.ndim, "flatten")
    e = normalize_axis(end_axis, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"[flatten] start_axis {start_axis} must be <= end_axis {end_axis}.")
    n = 1
    for d in x._shape[s:e + 1]:
        n *= d
    return reshape_op(x, x._shape[:s] + (n,) + x._shape[e + 1:])


def unflatten(a, /, axis, shape, *, stream=None):
    """unflatten(a: array, /, axis: int, shape: Sequence[int], *, stream=None) -> array."""
    scope = on_stream(stream, "unflatten")
    cdef array x = as_array(a)
    ax = normalize_axis(axis, x.ndim, "unflatten")
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError("[unflatten] The shape must not be empty.")
    shape = _resolve_shape(shape, x._shape[ax], "unflatten")
    return reshape_op(x, x._shape[:ax] + shape + x._shape[ax + 1:])


def squeeze(a, /, axis=None, *, stream=None):
    """squeeze(a: array, /, axis: None | int | Sequence[int] = None, *, stream=None) -> array."""
    scope = on_stream(stream, "squeeze")
    cdef array x = as_array(a)
    if axis is None:
        return reshape_op(x, tuple([d for d in x._shape if d != 1]))
    axes = normalize_axes(axis, x.ndim, "squeeze")
    for ax in axes:
        if x._shape[ax] != 1:
            raise ValueError(f"[squeeze] Cannot squeeze axis {ax} with size {x._shape[ax]} "
                             f"which is not equal to 1.")
    return reshape_op(x, tuple([d for i, d in enumerate(x._shape) if i not in axes]))


def expand_dims(a, /, axis, *, stream=None):
    """expand_dims(a: array, /, axis: int | Sequence[int], *, stream=None) -> array."""
    scope = on_stream(stream, "expand_dims")
    cdef array x = as_array(a)
    axes = (axis,) if PyLong_Check(axis) else tuple(axis)
    n = x.ndim + len(axes)
    norm = normalize_axes(axes, n, "expand_dims")
    shape = list(x._shape)
    for ax in sorted(norm):
        shape.insert(ax, 1)
    return reshape_op(x, tuple(shape))


def transpose(a, /, axes=None, *, stream=None):
    """transpose(a: array, /, axes: Sequence[int] | None = None, *, stream=None) -> array."""
    scope = on_stream(stream, "transpose")
    cdef array x = as_array(a)
    if axes is None:
        perm = tuple(range(x.ndim - 1, -1, -1))
    else:
        axes = tuple(axes)
        if len(axes) != x.ndim:
            raise ValueError(f"[transpose] Received {len(axes)} axes for array with {x.ndim} "
                             f"dimensions.")
        perm = tuple(normalize_axis(ax, x.ndim, "transpose") for ax in axes)
        if len(set(perm)) != len(perm):
            raise ValueError(f"[transpose] Repeated axes in {axes}.")
    return transpose_op(x, perm)


def permute_dims(a, /, axes=None, *, stream=None):
    """permute_dims(a: array, /, axes: Sequence[int] | None = None, *, stream=None) -> array."""
    scope = on_stream(stream, "permute_dims")
    return transpose(a, axes)


def swapaxes(a, /, axis1, axis2, *, stream=None):
    """swapaxes(a: array, /, axis1: int, axis2: int, *, stream=None) -> array."""
    scope = on_stream(stream, "swapaxes")
    cdef array x = as_array(a)
    i = normalize_axis(axis1, x.ndim, "swapaxes")
    j = normalize_axis(axis2, x.ndim, "swapaxes")
    perm = list(range(x.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return transpose_op(x, tuple(perm))


def moveaxis(a, /, source, destination, *, stream=None):
    """moveaxis(a: array, /, source: int, destination: int, *, stream=None) -> array."""
    scope = on_stream(stream, "moveaxis")
    cdef array x = as_array(a)
    s = normalize_axis(source, x.ndim, "moveaxis")
    d = normalize_axis(destination, x.ndim, "moveaxis")
    perm = list(range(x.ndim))
    perm.pop(s)
    perm.insert(d, s)
    return transpose_op(x, tuple(perm))


def _mT(a):
    cdef array x = as_array(a)
    if x.ndim < 2:
        raise ValueError(f"[mT] The array must have at least 2 dimensions, got {x.ndim}.")
    return swapaxes(x, -1, -2)


def broadcast_shapes(*shapes):
    """broadcast_shapes(*shapes: Sequence[int]) -> tuple[int]."""
    if not shapes:
        raise ValueError("[broadcast_shapes] No input shapes provided.")
    out = check_shape(shapes[0], "broadcast_shapes")
    for s in shapes[1:]:
        out = broadcast_shapes2(out, check_shape(s, "broadcast_shapes"), "broadcast_shapes")
    return out


def broadcast_to(a, /, shape, *, stream=None):
    """broadcast_to(a: scalar | array, /, shape: Sequence[int], *, stream=None) -> array."""
    scope = on_stream(stream, "broadcast_to")
    cdef array x = as_array(a)
    shape = check_shape(shape, "broadcast_to")
    if len(shape) < x.ndim or broadcast_shapes2(x._shape, shape, "broadcast_to") != shape:
        raise ValueError(f"[broadcast_to] Cannot broadcast array of shape {x.shape} to shape "
                         f"{shape}.")
    return broadcast_to_op(x, shape)


def broadcast_arrays(*arrays, stream=None):
    """broadcast_arrays(*arrays: array, stream=None) -> list[array] (a list, as MLX returns)."""
    scope = on_stream(stream, "broadcast_arrays")
    xs = [as_array(a) for a in arrays]
    shape = broadcast_shapes(*[x.shape for x in xs]) if xs else ()
    return [broadcast_to_op(x, shape) for x in xs]


def _atleast(arys, int n):
    out = []
    for a in arys:
        x = as_array(a)
        if x.ndim < n:
            if n == 3 and x.ndim == 2:
                shape = x.shape + (1,)
            elif n == 3 and x.ndim == 1:
                shape = (1,) + x.shape + (1,)
            else:
                shape = (1,) * (n - x.ndim) + x.shape
            x = reshape_op(x, shape)
        out.append(x)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys, stream=None):
    """View inputs with at least one dimension."""
    scope = on_stream(stream, "atleast_1d")
    return _atleast(arys, 1)


def atleast_2d(*arys, stream=None):
    """View inputs with at least two dimensions."""
    scope = on_stream(stream, "atleast_2d")
    return _atleast(arys, 2)


def atleast_3d(*arys, stream=None):
    """View inputs with at least three dimensions."""
    scope = on_stream(stream, "atleast_3d")
    return _atleast(arys, 3)


def as_strided(a, /, shape=None, strides=None, offset=0, *, stream=None):
    """as_strided(a: array, /, shape=None, strides=None, offset: int = 0, *, stream=None)

    A view of a's row-major data with the given shape and element strides.  Unlike MLX,
    a view reaching outside a's data raises ValueError instead of reading stray memory."""
    scope = on_stream(stream, "as_strided")
    cdef array x = contiguous_op(as_array(a))
    shape = x.shape if shape is None else check_shape(shape, "as_strided")
    if strides is None:
        st, s = [], 1
        for d in reversed(shape):
            st.insert(0, s)
            s *= d
        strides = tuple(st)
    strides = tuple(int(s) for s in strides)
    if len(strides) != len(shape):
        raise ValueError(f"[as_strided] shape {shape} and strides {strides} differ in length.")
    offset = int(offset)
    lo = hi = offset
    for d, s in zip(shape, strides):
        if d == 0:
            lo, hi = 0, -1
            break
        if s > 0:
            hi += (d - 1) * s
        else:
            lo += (d - 1) * s
    if hi >= lo and (lo < 0 or hi >= x.size):
        raise ValueError(f"[as_strided] The view (shape {shape}, strides {strides}, offset "
                         f"{offset}) reaches outside the array's {x.size} elements.")
    return new_node(x.dtype, shape, AsStrided(strides, offset), (x,))


def contiguous(a, /, allow_col_major=False, *, stream=None):
    """contiguous(a: array, /, allow_col_major: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "contiguous")
    return contiguous_op(as_array(a))


def view(a, dtype, *, stream=None):
    """view(a: array, dtype: Dtype, *, stream=None) -> array: the same bytes as another dtype."""
    scope = on_stream(stream, "view")
    cdef array x = as_array(a)
    d = to_dtype(dtype)
    cdef int ibytes = itemsize(x.dtype), obytes = d.size
    if ibytes == obytes:
        shape = x._shape
    else:
        if x.ndim == 0:
            raise ValueError(f"[view] Changing the type of a scalar is only allowed for types "
                             f"with the same size, got {dtype_of(x.dtype)} and {d}.")
        last = x._shape[-1] * ibytes
        if last % obytes:
            raise ValueError(f"[view] The last dimension ({x._shape[-1]} x {ibytes} bytes) is "
                             f"not divisible by the new itemsize {obytes}.")
        shape = x._shape[:-1] + (last // obytes,)
    return new_node(d.code, shape, View.__new__(View), (contiguous_op(x),))


_py_hooks["transpose"] = transpose
_py_hooks["mT"] = _mT


cdef list _array_list(object xs, str op, str what):
    if isinstance(xs, array):
        return [xs]
    try:
        out = list(xs)
    except TypeError:
        raise TypeError(f"[{op}] {what} must be an array or a sequence of arrays, got "
                        f"{type(xs).__name__}.") from None
    for x in out:
        if not isinstance(x, array):
            raise TypeError(f"[{op}] {what} must be arrays, got an element of type "
                            f"{type(x).__name__}.")
    return out


def depends(inputs, dependencies):
    """depends(inputs: array | Sequence[array], dependencies: array | Sequence[array])

    Arrays with the values of inputs that depend on dependencies: evaluating them
    evaluates the dependencies first.  An array in gives an array out; a sequence gives a
    list."""
    cdef list xs = _array_list(inputs, "depends", "inputs")
    cdef list deps = _array_list(dependencies, "depends", "dependencies")
    if not xs:
        return []
    outs = new_nodes([(<array>x).dtype for x in xs], [(<array>x)._shape for x in xs],
                     Depends(len(xs)), tuple(xs + deps))
    return outs[0] if isinstance(inputs, array) else outs
