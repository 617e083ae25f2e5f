"""Convolution op constructors: conv1d, conv2d, conv3d, conv_transpose1d/2d/3d,
conv_general and convolve.  Every form is one Convolution node (MLX's conv_general):
the transposed convolutions are convs of the input dilated by the stride with the
kernel flipped, convolve a 1-d conv with the kernel flipped."""
from cpython.long cimport PyLong_Check

from mlxc._core.array cimport array, as_array, new_node
from mlxc._core.dtype cimport dtype_of, promote
from mlxc._core.ops.common cimport on_stream
from mlxc._core.ops.elementwise cimport astype_op
from mlxc._core.ops.shape cimport reshape_op
from mlxc._core.prims.conv cimport conv_prim

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "conv_general", "convolve"]

# float16, bfloat16, float32, float64
cdef set _FLOATS = {9, 10, 11, 12}


def _fmt(seq):
    return "(" + ",".join([str(d) for d in seq]) + ")"


def _is_int(v):
    return PyLong_Check(v) or (hasattr(v, "__index__") and not isinstance(v, float)
                               and not hasattr(v, "shape"))


def _ints(v, str what):
    """A sequence of Python ints (TypeError otherwise)."""
    try:
        out = tuple([int(e.__index__()) for e in v])
    except (AttributeError, TypeError):
        raise TypeError(f"[conv] {what} must be an int or a sequence of ints, got {v!r}.") \
            from None
    return out


def _per_dim(v, int nsp, str what, str label):
    """int or sequence -> a tuple of nsp ints (a length-1 sequence is repeated)."""
    if _is_int(v):
        return (int(v.__index__()),) * nsp
    t = _ints(v, what)
    if len(t) == 1:
        return t * nsp
    if len(t) != nsp:
        raise ValueError(f"[conv] Invalid {label} {_fmt(t)} for {nsp}D convolution.")
    return t


def _padding(v, int nsp):
    """int, sequence, or a pair (low sequence, high sequence) -> (lo, hi)."""
    if (isinstance(v, (tuple, list)) and len(v) == 2 and not _is_int(v[0])
            and not _is_int(v[1])):
        lo, hi = _ints(v[0], "padding"), _ints(v[1], "padding")
    else:
        lo = hi = (_ints((v,), "padding") if _is_int(v) else _ints(v, "padding"))
    if len(lo) == 1:
        lo = lo * nsp
    if len(hi) == 1:
        hi = hi * nsp
    if len(lo) != nsp or len(hi) != nsp:
        raise ValueError(f"[conv] Invalid padding {_fmt(lo)} | {_fmt(hi)} for {nsp}D "
                         f"convolution.")
    return lo, hi


cdef int _conv_dtype(array x, array w) except -1:
    """The input must be floating (as MLX checks it); the weight is promoted with it."""
    cdef int dt = promote(x.dtype, w.dtype)
    for a in (x, w):
        if (<array>a).dtype not in _FLOATS and (a is x or dt not in _FLOATS):
            raise ValueError(f"[conv] Invalid input array with type "
                             f"{dtype_of((<array>a).dtype).name}. Convolution currently only "
                             f"supports floating point types")
    return dt


def conv_node(array x, array w, tuple stride, tuple lo, tuple hi, tuple kdil, tuple idil,
              long long groups, bint flip):
    """The Convolution node for checked parameters (paddings may be negative here: the
    transform rules crop with them); x and w are cast to their common dtype."""
    cdef int dt = promote(x.dtype, w.dtype)
    cdef int nsp = x.ndim - 2
    sp = []
    for d in range(nsp):
        span = (x._shape[d + 1] - 1) * idil[d] + 1 + lo[d] + hi[d]
        k_span = (w._shape[d + 1] - 1) * kdil[d] + 1
        if x._shape[d + 1] == 0 or span < k_span:
            raise ValueError(
                f"[conv] Spatial dimensions of input after padding cannot be smaller than "
                f"weight spatial dimensions. Got error at axis {d + 1} for input with shape "
                f"{_fmt(x._shape)}, padding low {_fmt(lo)}, padding high {_fmt(hi)}, and "
                f"weight of shape {_fmt(w._shape)}.")
        sp.append((span - k_span) // stride[d] + 1)
    shape = (x._shape[0],) + tuple(sp) + (w._shape[0],)
    return new_node(dt, shape, conv_prim(stride, lo, hi, kdil, idil, groups, flip),
                    (astype_op(x, dt), astype_op(w, dt)))


cdef tuple _check(array x, array w, long long groups):
    """Ranks, dtypes, channels and groups; returns (nsp, dtype)."""
    cdef int nsp = x.ndim - 2
    if x.ndim < 3 or x.ndim > 5:
        raise ValueError(f"[conv] Only works for inputs with 1-3 spatial dimensions. The "
                         f"inputs must be in the format [N, ..., C_in]; got input with shape "
                         f"{_fmt(x._shape)}.")
    if w.ndim != x.ndim:
        raise ValueError(f"[conv] Invalid weight array with {w.ndim} dimensions for {nsp}D "
                         f"convolution. Expected an array with {x.ndim} dimensions following "
                         f"the format [C_out, ..., C_in].")
    dt = _conv_dtype(x, w)
    if groups < 1:
        raise ValueError(f"[conv] The number of groups must be positive. Got {groups} "
                         f"groups.")
    cin, cout = x._shape[-1], w._shape[0]
    if cin % groups:
        raise ValueError(f"[conv] The input channels must be divisible by the number of "
                         f"groups. Got input with shape {_fmt(x._shape)} and {groups} groups.")
    if groups > 1 and cout % groups:
        raise ValueError(f"[conv] If groups > 1, the output channels must be divisible by "
                         f"the number of groups. Got {cout} output channels and {groups} "
                         f"groups.")
    if w._shape[-1] * groups != cin:
        if groups == 1:
            raise ValueError(f"[conv] Expect the input channels in the input and weight array "
                             f"to match but got shapes - input: {_fmt(x._shape)} and weight: "
                             f"{_fmt(w._shape)}")
        raise ValueError(f"[conv] Given groups={groups} and weights of shape "
                         f"{_fmt(w._shape)}, expected to have {w._shape[-1] * groups} input "
                         f"channels but got {cin} input channels instead.")
    return nsp, dt


def _positive(t, str label, str plural):
    for v in t:
        if v <= 0:
            raise ValueError(f"[conv] {label} sizes must be positive. Got {plural} {_fmt(t)}.")


def _general(x, w, stride, padding, kernel_dilation, input_dilation, groups, flip,
             bint allow_negative=False):
    cdef array xa = as_array(x), wa = as_array(w)
    if not _is_int(groups):
        raise TypeError(f"[conv] groups must be an int, got {groups!r}.")
    g = int(groups.__index__())
    nsp, dt = _check(xa, wa, g)
    st = _per_dim(stride, nsp, "stride", "strides")
    lo, hi = _padding(padding, nsp)
    kd = _per_dim(kernel_dilation, nsp, "kernel_dilation", "kernel dilation")
    idl = _per_dim(input_dilation, nsp, "input_dilation", "input dilation")
    _positive(st, "Stride", "strides")
    _positive(kd, "Kernel dilation", "kernel dilation")
    _positive(idl, "Input dilation", "input dilation")
    if not allow_negative and (min(lo) < 0 or min(hi) < 0):
        raise ValueError(f"[conv] Padding sizes must be non-negative. Got padding low "
                         f"{_fmt(lo)} and padding high {_fmt(hi)}.")
    return conv_node(xa, wa, st, lo, hi, kd, idl, g, bool(flip))


def conv_general(input, weight, /, stride=1, padding=0, kernel_dilation=1,
                 input_dilation=1, groups=1, flip=False, *, stream=None):
    """conv_general(input: array, weight: array, /, stride: int | Sequence[int] = 1, padding: int | Sequence[int] | tuple[Sequence[int], Sequence[int]] = 0, kernel_dilation: int | Sequence[int] = 1, input_dilation: int | Sequence[int] = 1, groups: int = 1, flip: bool = False, *, stream: StreamOrDevice = None) -> array

    General convolution over channels-last input (N, ..., C_in) with weight
    (C_out, ..., C_in / groups): strides, low/high padding, kernel and input dilation,
    groups, and flip (a true convolution instead of a cross-correlation)."""
    scope = on_stream(stream, "conv_general")
    return _general(input, weight, stride, padding, kernel_dilation, input_dilation, groups,
                    flip)


def _fixed(v, int n, str op, str name):
    """conv1d's ints, conv2d/3d's int or n-tuple (MLX's signatures)."""
    if _is_int(v):
        return v
    if n > 1 and isinstance(v, tuple) and len(v) == n and all([_is_int(e) for e in v]):
        return v
    kind = "int" if n == 1 else f"int or a tuple of {n} ints"
    raise TypeError(f"{op}(): {name} must be an {kind}, got {v!r}.")


def _convnd(str op, int n, input, weight, stride, padding, dilation, groups):
    stride = _fixed(stride, n, op, "stride")
    padding = _fixed(padding, n, op, "padding")
    dilation = _fixed(dilation, n, op, "dilation")
    return _general(input, weight, stride, padding, dilation, 1, groups, False)


def conv1d(input, weight, /, stride=1, padding=0, dilation=1, groups=1, *, stream=None):
    """conv1d(input: array, weight: array, /, stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1, *, stream: StreamOrDevice = None) -> array

    1-d convolution: input (N, L, C_in), weight (C_out, K, C_in / groups)."""
    scope = on_stream(stream, "conv1d")
    return _convnd("conv1d", 1, input, weight, stride, padding, dilation, groups)


def conv2d(input, weight, /, stride=1, padding=0, dilation=1, groups=1, *, stream=None):
    """conv2d(input: array, weight: array, /, stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1, groups: int = 1, *, stream: StreamOrDevice = None) -> array

    2-d convolution: input (N, H, W, C_in), weight (C_out, KH, KW, C_in / groups)."""
    scope = on_stream(stream, "conv2d")
    return _convnd("conv2d", 2, input, weight, stride, padding, dilation, groups)


def conv3d(input, weight, /, stride=1, padding=0, dilation=1, groups=1, *, stream=None):
    """conv3d(input: array, weight: array, /, stride: int | tuple[int, int, int] = 1, padding: int | tuple[int, int, int] = 0, dilation: int | tuple[int, int, int] = 1, groups: int = 1, *, stream: StreamOrDevice = None) -> array

    3-d convolution: input (N, D, H, W, C_in), weight (C_out, KD, KH, KW, C_in / groups)."""
    scope = on_stream(stream, "conv3d")
    return _convnd("conv3d", 3, input, weight, stride, padding, dilation, groups)


def _transpose(str op, int n, input, weight, stride, padding, dilation, output_padding,
               groups):
    """The gradient of a conv with these parameters wrt its input: the input dilated by
    stride, padded by dilation * (K - 1) - padding (plus output_padding at the end), the
    kernel flipped."""
    stride = _fixed(stride, n, op, "stride")
    padding = _fixed(padding, n, op, "padding")
    dilation = _fixed(dilation, n, op, "dilation")
    output_padding = _fixed(output_padding, n, op, "output_padding")
    cdef array wa = as_array(weight)
    nsp = wa.ndim - 2
    if nsp < 1:
        nsp = 1
    pad = _per_dim(padding, nsp, "padding", "padding")
    opad = _per_dim(output_padding, nsp, "output_padding", "output padding")
    dil = _per_dim(dilation, nsp, "dilation", "kernel dilation")
    if min(pad) < 0 or min(opad) < 0:
        raise ValueError(f"[{op}] Padding and output padding must be non-negative. Got "
                         f"padding {_fmt(pad)} and output padding {_fmt(opad)}.")
    lo, hi = [], []
    if wa.ndim >= 3:
        for d in range(nsp):
            lo.append(dil[d] * (wa._shape[d + 1] - 1) - pad[d])
            hi.append(lo[d] + opad[d])
    else:
        lo = hi = [0]
    return _general(input, wa, 1, (lo, hi), dil, stride, groups, True, True)


def conv_transpose1d(input, weight, /, stride=1, padding=0, dilation=1, output_padding=0,
                     groups=1, *, stream=None):
    """conv_transpose1d(input: array, weight: array, /, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0, groups: int = 1, *, stream: StreamOrDevice = None) -> array

    1-d transposed convolution: input (N, L, C_in), weight (C_out, K, C_in / groups)."""
    scope = on_stream(stream, "conv_transpose1d")
    return _transpose("conv_transpose1d", 1, input, weight, stride, padding, dilation,
                      output_padding, groups)


def conv_transpose2d(input, weight, /, stride=1, padding=0, dilation=1, output_padding=0,
                     groups=1, *, stream=None):
    """conv_transpose2d(input: array, weight: array, /, stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1, output_padding: int | tuple[int, int] = 0, groups: int = 1, *, stream: StreamOrDevice = None) -> array

    2-d transposed convolution: input (N, H, W, C_in), weight (C_out, KH, KW, C_in / groups)."""
    scope = on_stream(stream, "conv_transpose2d")
    return _transpose("conv_transpose2d", 2, input, weight, stride, padding, dilation,
                      output_padding, groups)


def conv_transpose3d(input, weight, /, stride=1, padding=0, dilation=1, output_padding=0,
                     groups=1, *, stream=None):
    """conv_transpose3d(input: array, weight: array, /, stride: int | tuple[int, int, int] = 1, padding: int | tuple[int, int, int] = 0, dilation: int | tuple[int, int, int] = 1, output_padding: int | tuple[int, int, int] = 0, groups: int = 1, *, stream: StreamOrDevice = None) -> array

    3-d transposed convolution: input (N, D, H, W, C_in), weight (C_out, KD, KH, KW, C_in / groups)."""
    scope = on_stream(stream, "conv_transpose3d")
    return _transpose("conv_transpose3d", 3, input, weight, stride, padding, dilation,
                      output_padding, groups)


def convolve(a, v, /, mode="full", *, stream=None):
    """convolve(a: array, v: array, /, mode: str = "full", *, stream: StreamOrDevice = None) -> array

    NumPy's 1-d discrete convolution; mode "full", "same" or "valid"."""
    scope = on_stream(stream, "convolve")
    if not isinstance(a, array) or not isinstance(v, array):
        raise TypeError(f"convolve(): a and v must be arrays, got {type(a).__name__} and "
                        f"{type(v).__name__}.")
    cdef array x = <array>a, k = <array>v
    if x.ndim != 1 or k.ndim != 1:
        raise ValueError("[convolve] Inputs must be 1D.")
    if x.size == 0 or k.size == 0:
        raise ValueError("[convolve] Inputs cannot be empty.")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"[convolve] Invalid mode {mode!r}: expected 'full', 'same' or "
                         f"'valid'.")
    if k.size > x.size:
        x, k = k, x
    n, m = x.size, k.size
    if mode == "full":
        lo = hi = m - 1
    elif mode == "same":
        hi = (m - 1) // 2
        lo = m - 1 - hi
    else:
        lo = hi = 0
    out = _general(reshape_op(x, (1, n, 1)), reshape_op(k, (1, m, 1)), 1, ((lo,), (hi,)),
                   1, 1, 1, True)
    return reshape_op(out, (out.shape[1],))
