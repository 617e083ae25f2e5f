"""Search op constructors: searchsorted (a SearchSorted node) and unique.

unique has MLX 0.32's fixed output size, so it is lazy and works under every transform.
It is built from other ops: a stable argsort, group ids from a cumulative sum of "differs
from the previous sorted element", per-group counts by a scatter-add (groups past `size`
land in one extra slot that is dropped), first occurrences from the counts' exclusive
prefix sum.  The values are a gather of the input at those first occurrences, so
gradients flow to the elements the output shows (padding shows the first one), as in MLX.
"""
import numpy as np

from mlxc._core.array cimport array, new_node
from mlxc._core.dtype cimport dtype_of, promote
from mlxc._core.kernels cimport MLXC_BOOL, MLXC_UINT32
from mlxc._core.ops.common cimport on_stream
from mlxc._core.ops.elementwise cimport astype_op
from mlxc._core.prims.search cimport SearchSorted

__all__ = ["searchsorted", "unique"]


cdef str _shape_str(tuple s):
    """A shape as MLX prints it in messages: (2) or (3,4)."""
    return "(" + ",".join(str(d) for d in s) + ")"


def searchsorted(sorted_sequence, values, /, side="left", *, stream=None):
    """searchsorted(sorted_sequence: array, values: array, /, side: str = 'left', *, stream: StreamOrDevice = None) -> array."""
    if not isinstance(sorted_sequence, array) or not isinstance(values, array):
        raise TypeError(f"searchsorted(): sorted_sequence and values must be arrays, got "
                        f"{type(sorted_sequence).__name__} and {type(values).__name__}.")
    if not isinstance(side, str):
        raise TypeError(f"searchsorted(): side must be a str, got {type(side).__name__}.")
    if side != "left" and side != "right":
        raise ValueError(f"[searchsorted] Invalid side '{side}'. Expected 'left' or 'right'.")
    scope = on_stream(stream, "searchsorted")
    cdef array seq = <array>sorted_sequence
    cdef array val = <array>values
    if seq.ndim != 1:
        raise ValueError(f"[searchsorted] The sorted sequence must be 1-D but has {seq.ndim} "
                         f"dimensions.")
    if seq.size > 0xFFFFFFFF:
        raise ValueError(f"[searchsorted] The sorted sequence has {seq.size} elements; the "
                         f"uint32 result holds at most 4294967295.")
    # Compare in the promoted dtype, as MLX does (int32 vs float32 compares in float32).
    cdef int dt = promote(seq.dtype, val.dtype)
    return new_node(MLXC_UINT32, val._shape, SearchSorted(side == "right"),
                    (astype_op(seq, dt), astype_op(val, dt)))


cdef object _fill_array(object fill_value, int dt):
    """fill_value as a 0-d array of dtype dt, or None."""
    import mlxc.core as mx
    if fill_value is None:
        return None
    cdef array f
    if isinstance(fill_value, array):
        f = <array>fill_value
        if f.size != 1:
            raise ValueError(f"[unique] Fill value must have one element, but got shape "
                             f"{_shape_str(f._shape)}.")
        f = mx.reshape(f, ())
    else:
        f = mx.array(fill_value)
    return astype_op(f, dt)


def unique(a, /, size, return_index=False, return_inverse=False, return_counts=False,
           fill_value=None, *, stream=None):
    """unique(a: array, /, size: int, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False, fill_value: scalar | array | None = None, *, stream: StreamOrDevice = None) -> array | tuple[array, ...]."""
    import mlxc.core as mx
    if not isinstance(a, array):
        raise TypeError(f"unique(): a must be an array, got {type(a).__name__}.")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"unique(): size must be an int, got {type(size).__name__}.")
    size = int(size)
    if size < 0:
        raise ValueError(f"[unique] Received negative size {size}.")
    scope = on_stream(stream, "unique")
    cdef array x = <array>a
    cdef int dt = x.dtype
    fill = _fill_array(fill_value, dt)
    cdef long long n = x.size
    if n == 0:
        if size > 0 and fill is None:
            raise ValueError("[unique] A fill value is required for an empty input with a "
                             "non-zero size.")
        vals = mx.zeros((size,), dtype_of(dt)) if fill is None else mx.broadcast_to(fill, (size,))
        index = mx.zeros((size,), mx.uint32)
        inverse = mx.zeros(x._shape, mx.uint32)
        counts = mx.zeros((size,), mx.int32)
    else:
        flat = mx.reshape(x, (n,))
        # The grouping (sort order, group ids, counts) is built from constant values:
        # gradients reach the unique values only, never an index.
        key = mx.stop_gradient(flat)
        perm = mx.argsort(key)
        srt = mx.take(key, perm)
        # A new group starts at 0 and wherever an element differs from the one before it
        # (every NaN differs, -0 equals 0).
        new = mx.concatenate([mx.ones((1,), mx.bool_),
                              mx.not_equal(srt[1:], srt[:-1])]) if n > 1 else \
            mx.ones((1,), mx.bool_)
        group = mx.cumsum(new.astype(mx.int32)) - 1
        counts = mx.zeros((size + 1,), mx.int32).at[mx.minimum(group, size)].add(1)[:size]
        has = counts > 0
        first = mx.cumsum(counts) - counts
        index = mx.where(has, mx.take(perm, mx.minimum(first, n - 1)), perm[0])
        vals = mx.take(flat, index)
        if fill is not None:
            vals = mx.where(has, vals, fill)
        inverse = mx.zeros((n,), mx.uint32)
        inverse[perm] = mx.minimum(group, max(size - 1, 0)).astype(mx.uint32)
        inverse = mx.reshape(inverse, x._shape)
    out = [vals]
    if return_index:
        out.append(index)
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)
