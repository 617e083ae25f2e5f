"""Join and rearrange op constructors: concatenate, stack, split, unstack, pad, tile, repeat,
flip, roll.  Only concatenate builds a copying node; the others compose views with it."""
from cpython.long cimport PyLong_Check

from mlxc._core.array cimport array, as_array, new_node
from mlxc._core.dtype cimport promote
from mlxc._core.ops.common cimport (broadcast_shapes2, check_int_range, check_nbytes,
                                     normalize_axes, normalize_axis, on_stream)
from mlxc._core.ops.elementwise cimport astype_op
from mlxc._core.ops.shape cimport broadcast_to_op, reshape_op, slice_op
from mlxc._core.prims.join cimport Concatenate

from mlxc._core.array import _py_hooks

__all__ = ["concatenate", "concat", "stack", "split", "unstack", "pad", "tile", "repeat",
           "flip", "roll"]




cdef int _count(object n, str what, str op) except -1:
    # (the caller keeps using n itself: a Python int)
    """A non-negative Python int argument (a repeat count, a pad width...)."""
    if not PyLong_Check(n) or isinstance(n, bool):
        raise TypeError(f"[{op}] {what} must be an integer, got {n!r}.")
    if n < 0:
        raise ValueError(f"[{op}] {what} must be non-negative, got {n}.")
    check_int_range(n, op, what)
    return 0


cdef list _arrays(object arrays, str op):
    """The list of input arrays; MLX accepts only mlx arrays here."""
    try:
        xs = list(arrays)
    except TypeError:
        raise TypeError(f"[{op}] Expected a list of arrays, got {type(arrays).__name__}.") \
            from None
    for x in xs:
        if not isinstance(x, array):
            raise TypeError(f"[{op}] Expected a list of arrays, got an element of type "
                            f"{type(x).__name__}.")
    return xs


cdef array concat_op(list xs, int axis):
    """Concatenate arrays of equal ndim along a normalized axis (shapes already checked).
    Inputs keep their dtypes: the copy casts them to the promoted dtype."""
    cdef array x
    cdef int dt = (<array>xs[0]).dtype
    if len(xs) == 1:
        return <array>xs[0]
    cdef long long n = 0
    for o in xs:
        x = <array>o
        dt = promote(dt, x.dtype)
        n += x._shape[axis]
    shape = (<array>xs[0])._shape
    return new_node(dt, shape[:axis] + (n,) + shape[axis + 1:], Concatenate(axis), tuple(xs))


def _fmt(tuple shape):
    return "(" + ",".join([str(d) for d in shape]) + ")"


def concatenate(arrays, axis=0, *, stream=None):
    """concatenate(arrays: list[array], axis: int | None = 0, *, stream=None) -> array."""
    scope = on_stream(stream, "concatenate")
    cdef list xs = _arrays(arrays, "concatenate")
    cdef array x0, x
    if not xs:
        raise ValueError("[concatenate] No arrays provided for concatenation.")
    if axis is None:
        xs = [reshape_op(<array>x, ((<array>x).size,)) for x in xs]
        axis = 0
    x0 = <array>xs[0]
    ax = normalize_axis(axis, x0.ndim, "concatenate")
    for o in xs[1:]:
        x = <array>o
        if x.ndim != x0.ndim:
            raise ValueError(f"[concatenate] All the input arrays must have the same number of "
                             f"dimensions, got {x0.ndim} and {x.ndim}.")
        for i in range(x0.ndim):
            if i != ax and x._shape[i] != x0._shape[i]:
                raise ValueError(
                    f"[concatenate] All the input array dimensions must match exactly except "
                    f"for the concatenation axis. However, the provided shapes are "
                    f"{', '.join([_fmt((<array>y)._shape) for y in xs])}, and the "
                    f"concatenation axis is {axis}.")
    return concat_op(xs, ax)


def concat(arrays, axis=0, *, stream=None):
    """concat(arrays: list[array], axis: int | None = 0, *, stream=None) -> array."""
    scope = on_stream(stream, "concat")
    return concatenate(arrays, axis)


def stack(arrays, axis=0, *, stream=None):
    """stack(arrays: list[array], axis: int | None = 0, *, stream=None) -> array."""
    scope = on_stream(stream, "stack")
    cdef list xs = _arrays(arrays, "stack")
    cdef array x0
    if not xs:
        raise ValueError("[stack] No arrays provided for stacking.")
    x0 = <array>xs[0]
    for o in xs[1:]:
        if (<array>o)._shape != x0._shape:
            raise ValueError(f"[stack] All arrays must have the same shape, got "
                             f"{_fmt(x0._shape)} and {_fmt((<array>o)._shape)}.")
    if axis is None:
        # As MLX: flatten every input, then stack along a new first axis.
        xs = [reshape_op(<array>x, ((<array>x).size,)) for x in xs]
        axis = 0
        x0 = <array>xs[0]
    ax = normalize_axis(axis, x0.ndim + 1, "stack")
    shape = x0._shape[:ax] + (1,) + x0._shape[ax:]
    return concat_op([reshape_op(<array>x, shape) for x in xs], ax)


def split(a, /, indices_or_sections, axis=0, *, stream=None):
    """split(a: array, /, indices_or_sections: int | Sequence[int], axis: int = 0, *, stream=None) -> list[array]."""
    scope = on_stream(stream, "split")
    cdef array x = as_array(a)
    ax = normalize_axis(axis, x.ndim, "split")
    n = x._shape[ax]
    if PyLong_Check(indices_or_sections) and not isinstance(indices_or_sections, bool):
        k = indices_or_sections
        if k <= 0:
            raise ValueError(f"[split] num_splits must be positive and non-zero but got {k}.")
        if n % k:
            raise ValueError(f"[split] Array split does not result in sub arrays with equal "
                             f"size: axis {ax} of size {n} into {k} parts.")
        bounds = list(range(0, n + 1, n // k)) if n else [0] * (k + 1)
        pairs = list(zip(bounds[:-1], bounds[1:]))
    else:
        try:
            idx = list(indices_or_sections)
        except TypeError:
            raise TypeError(f"[split] indices_or_sections must be an int or a sequence of "
                            f"ints, got {indices_or_sections!r}.") from None
        for i in idx:
            if not PyLong_Check(i) or isinstance(i, bool):
                raise TypeError(f"[split] Split indices must be integers, got {i!r}.")
        # Python slice semantics per piece (negative indices count from the end, clamped).
        cuts = [None] + idx + [None]
        pairs = []
        for j in range(len(cuts) - 1):
            s, e, _ = slice(cuts[j], cuts[j + 1]).indices(n)
            pairs.append((s, max(s, e)))
    start = [0] * x.ndim
    stop = list(x._shape)
    step = (1,) * x.ndim
    out = []
    for s, e in pairs:
        start[ax] = s
        stop[ax] = e
        out.append(slice_op(x, tuple(start), tuple(stop), step))
    return out


def unstack(x, /, *, axis=0, stream=None):
    """unstack(x: array, /, *, axis: int = 0, stream=None) -> tuple[array, ...]."""
    scope = on_stream(stream, "unstack")
    cdef array a = as_array(x)
    ax = normalize_axis(axis, a.ndim, "unstack")
    shape = a._shape[:ax] + a._shape[ax + 1:]
    start = [0] * a.ndim
    stop = list(a._shape)
    step = (1,) * a.ndim
    out = []
    for i in range(a._shape[ax]):
        start[ax] = i
        stop[ax] = i + 1
        out.append(reshape_op(slice_op(a, tuple(start), tuple(stop), step), shape))
    return tuple(out)


cdef array _take_runs(array x, int ax, list idx):
    """x indexed along ax by the Python list idx, built from slices: idx is split into
    runs of step +1, -1 or 0 (each a view; step 0 a broadcast) joined by one concatenate."""
    cdef list pieces = []
    cdef int nd = x.ndim
    cdef Py_ssize_t i = 0, j, m = len(idx)
    start = [0] * nd
    stop = list(x._shape)
    step = [1] * nd
    while i < m:
        j = i + 1
        d = idx[j] - idx[i] if j < m else 0
        if d not in (-1, 0, 1):
            d = 0
        while j < m and idx[j] - idx[j - 1] == d:
            j += 1
        if j == i + 1:
            d = 1                      # a single index: a length-1 slice
        if d == 0:
            start[ax], stop[ax], step[ax] = idx[i], idx[i] + 1, 1
            v = slice_op(x, tuple(start), tuple(stop), tuple(step))
            shape = x._shape[:ax] + (j - i,) + x._shape[ax + 1:]
            v = broadcast_to_op(v, shape)
        else:
            start[ax], step[ax] = idx[i], d
            stop[ax] = idx[j - 1] + d          # range() semantics: -1 ends a run at 0
            v = slice_op(x, tuple(start), tuple(stop), tuple(step))
        pieces.append(v)
        i = j
    return concat_op(pieces, ax)


cdef list _pad_pairs(object pad_width, int ndim):
    """pad_width in any of MLX's forms -> one (low, high) pair per axis."""
    if PyLong_Check(pad_width):
        pairs = [(pad_width, pad_width)] * ndim
    elif isinstance(pad_width, tuple) and len(pad_width) == 1 and PyLong_Check(pad_width[0]):
        pairs = [(pad_width[0], pad_width[0])] * ndim
    elif (isinstance(pad_width, (tuple, list)) and len(pad_width) == 2
          and PyLong_Check(pad_width[0]) and PyLong_Check(pad_width[1])):
        pairs = [(pad_width[0], pad_width[1])] * ndim
    elif isinstance(pad_width, (tuple, list)) and all(
            [isinstance(p, (tuple, list)) and len(p) in (1, 2) for p in pad_width]):
        pairs = [(p[0], p[-1]) for p in pad_width]
        if len(pairs) == 1:
            pairs = pairs * ndim
    else:
        raise TypeError(f"[pad] pad_width must be an int, a (low, high) pair or a list of "
                        f"(low, high) pairs, got {pad_width!r}.")
    if len(pairs) != ndim:
        raise ValueError(f"[pad] Invalid number of padding sizes ({len(pairs)}) passed to pad "
                         f"for an array with {ndim} dimensions.")
    for i in range(ndim):
        lo, hi = pairs[i]
        if not PyLong_Check(lo) or not PyLong_Check(hi):
            raise TypeError(f"[pad] Padding sizes must be integers, got {pairs[i]!r}.")
        if lo < 0 or hi < 0:
            raise ValueError(f"[pad] Invalid padding size {pairs[i]} passed to pad for axis "
                             f"{i}. Padding sizes must be non-negative.")
        check_int_range(lo, "pad", "Padding size")
        check_int_range(hi, "pad", "Padding size")
    return pairs


def pad(a, pad_width, mode="constant", constant_values=0, *, stream=None):
    """pad(a: array, pad_width: int | tuple[int] | tuple[int, int] | list[tuple[int, int]], mode: Literal['constant', 'edge', 'reflect', 'symmetric'] = 'constant', constant_values: scalar | array = 0, *, stream=None) -> array."""
    scope = on_stream(stream, "pad")
    cdef array x = as_array(a)
    cdef array c
    if mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"[pad] Invalid padding mode ({mode}) passed to pad; expected "
                         f"'constant', 'edge', 'reflect' or 'symmetric'.")
    pairs = _pad_pairs(pad_width, x.ndim)
    check_nbytes(tuple([x._shape[i] + pairs[i][0] + pairs[i][1] for i in range(x.ndim)]),
                 x.dtype, "pad")
    if mode == "constant":
        c = astype_op(as_array(constant_values), x.dtype)
        if c.size != 1:
            raise ValueError(f"[pad] constant_values must be a scalar, got an array of shape "
                             f"{c.shape}.")
        c = reshape_op(c, ())
    for ax in range(x.ndim):
        lo, hi = pairs[ax]
        if lo == 0 and hi == 0:
            continue
        n = x._shape[ax]
        if mode == "constant":
            pieces = []
            if lo:
                pieces.append(broadcast_to_op(c, x._shape[:ax] + (lo,) + x._shape[ax + 1:]))
            pieces.append(x)
            if hi:
                pieces.append(broadcast_to_op(c, x._shape[:ax] + (hi,) + x._shape[ax + 1:]))
            x = concat_op(pieces, ax)
            continue
        if n == 0:
            raise ValueError(f"[pad] Cannot pad empty axis {ax} using mode '{mode}'.")
        if n + lo + hi > _PAD_LIST_MAX:
            # Long pads: the source index of each output position as an array (no
            # Python loop over the output).
            x = _py_hooks["ops"].take(x, _pad_index_array(mode, n, lo, hi), axis=ax)
            continue
        if mode == "edge":
            idx = [min(max(j, 0), n - 1) for j in range(-lo, n + hi)]
        elif mode == "reflect":
            p = 2 * n - 2
            idx = [0 if p == 0 else (j % p if j % p < n else p - j % p)
                   for j in range(-lo, n + hi)]
        else:
            p = 2 * n
            idx = [j % p if j % p < n else p - 1 - j % p for j in range(-lo, n + hi)]
        x = _take_runs(x, ax, idx)
    return x


# Pads up to this long are built from slices of runs (views); longer ones gather.
cdef Py_ssize_t _PAD_LIST_MAX = 4096


cdef array _pad_index_array(str mode, object n, object lo, object hi):
    """The source position of each output position of an edge/reflect/symmetric pad."""
    ops = _py_hooks["ops"]
    j = ops.arange(-lo, n + hi, dtype=ops.int64)
    if mode == "edge":
        return ops.clip(j, 0, n - 1)
    if mode == "reflect":
        p = 2 * n - 2
        if p == 0:
            return ops.zeros_like(j)
        m = ops.remainder(j, p)
        return ops.where(m < n, m, p - m)
    p = 2 * n
    m = ops.remainder(j, p)
    return ops.where(m < n, m, p - 1 - m)


def tile(a, reps, /, *, stream=None):
    """tile(a: array, reps: int | Sequence[int], /, *, stream=None) -> array."""
    scope = on_stream(stream, "tile")
    cdef array x = as_array(a)
    if PyLong_Check(reps):
        reps = (reps,)
    try:
        reps = list(reps)
    except TypeError:
        raise TypeError(f"[tile] reps must be an int or a sequence of ints, got "
                        f"{reps!r}.") from None
    for r in reps:
        _count(r, "Repetition counts", "tile")
    nd = max(x.ndim, len(reps))
    shape = (1,) * (nd - x.ndim) + x._shape
    reps = [1] * (nd - len(reps)) + reps
    # View x as (1, s0, 1, s1, ...), broadcast to (r0, s0, r1, s1, ...), then merge pairs.
    inter, big, final = [], [], []
    for i in range(nd):
        inter += [1, shape[i]]
        big += [reps[i], shape[i]]
        final.append(reps[i] * shape[i])
    check_nbytes(tuple(final), x.dtype, "tile")
    return reshape_op(broadcast_to_op(reshape_op(x, tuple(inter)), tuple(big)), tuple(final))


def repeat(array, repeats, axis=None, *, stream=None):
    """repeat(array: array, repeats: int, axis: int | None = None, *, stream=None) -> array."""
    scope = on_stream(stream, "repeat")
    x = as_array(array)
    _count(repeats, "Repeats", "repeat")
    r = repeats
    if axis is None:
        x = reshape_op(x, (x.size,))
        axis = 0
    ax = normalize_axis(axis, x.ndim, "repeat")
    shape = x.shape
    check_nbytes(shape[:ax] + (shape[ax] * r,) + shape[ax + 1:], x.dtype, "repeat")
    # Each element along ax gets a new axis of length r right after it.
    v = reshape_op(x, shape[:ax + 1] + (1,) + shape[ax + 1:])
    v = broadcast_to_op(v, shape[:ax + 1] + (r,) + shape[ax + 1:])
    return reshape_op(v, shape[:ax] + (shape[ax] * r,) + shape[ax + 1:])


def flip(a, /, axis=None, *, stream=None):
    """flip(a: array, /, axis: None | int | Sequence[int] = None, *, stream=None) -> array."""
    scope = on_stream(stream, "flip")
    cdef array x = as_array(a)
    if axis is None:
        axes = range(x.ndim)
    elif PyLong_Check(axis):
        axes = (normalize_axis(axis, x.ndim, "flip"),)
    else:
        axes = [normalize_axis(ax, x.ndim, "flip") for ax in axis]
    start = [0] * x.ndim
    stop = list(x._shape)
    step = [1] * x.ndim
    for ax in axes:
        # Reversed view: from the last element, step -1, stop one before element 0.
        step[ax] = -step[ax]
        start[ax], stop[ax] = (x._shape[ax] - 1, -1) if step[ax] < 0 else (0, x._shape[ax])
    return slice_op(x, tuple(start), tuple(stop), tuple(step))


def roll(a, shift, axis=None, *, stream=None):
    """roll(a: array, shift: int | tuple[int], axis: None | int | tuple[int] = None, *, stream=None) -> array."""
    scope = on_stream(stream, "roll")
    cdef array x = as_array(a)
    shifts = [shift] if PyLong_Check(shift) else list(shift)
    for s in shifts:
        if not PyLong_Check(s) or isinstance(s, bool):
            raise TypeError(f"[roll] Shifts must be integers, got {s!r}.")
    if axis is None:
        shape = x._shape
        return reshape_op(_roll_axis(reshape_op(x, (x.size,)), 0, sum(shifts)), shape)
    axes = [axis] if PyLong_Check(axis) else list(axis)
    for i in range(len(axes)):
        if not PyLong_Check(axes[i]) or isinstance(axes[i], bool):
            raise TypeError(f"[roll] Expected integer axes, got {axes[i]!r}.")
        if axes[i] < -x.ndim or axes[i] >= x.ndim:
            raise IndexError(f"[roll] Invalid axis {axes[i]} for array with {x.ndim} "
                             f"dimensions.")
        axes[i] %= x.ndim
    if len(axes) == 1:
        shifts = [sum(shifts)]
    elif len(shifts) == 1:
        shifts = shifts * len(axes)
    elif len(shifts) != len(axes):
        raise ValueError(f"[roll] At least one shift value per axis is required, "
                         f"{len(shifts)} provided for {len(axes)} axes.")
    for ax, s in zip(axes, shifts):
        x = _roll_axis(x, ax, s)
    return x


cdef array _roll_axis(array x, int ax, object shift):
    """x rolled by shift along ax: the last shift elements move to the front."""
    n = x._shape[ax]
    if n == 0 or shift % n == 0:
        return x
    k = n - shift % n
    start = [0] * x.ndim
    stop = list(x._shape)
    step = (1,) * x.ndim
    start[ax] = k
    tail = slice_op(x, tuple(start), tuple(stop), step)
    start[ax], stop[ax] = 0, k
    head = slice_op(x, tuple(start), tuple(stop), step)
    return concat_op([tail, head], ax)
