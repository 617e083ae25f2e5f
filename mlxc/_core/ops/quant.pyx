"""Quantization op constructors: quantize, dequantize, quantized_matmul (Quantize,
Dequantize and QuantizedMatmul nodes) and the ops MLX builds around them: gather_qmm,
qqmm, gather_qqmm (dequantize + matmul compositions) and hadamard_transform.

Arguments are checked here with MLX's messages (and its error types); MLX 0.32's
behaviour where it crashes (group_size 0, a 0-d x) is a ValueError naming the value.
"""
import math

from mlxc._core.array cimport array, as_array, new_node, new_nodes
from mlxc._core.dtype cimport Dtype, dtype_of, is_float, promote, to_dtype
from mlxc._core.kernels cimport (MLXC_BFLOAT16, MLXC_COMPLEX64, MLXC_FLOAT16, MLXC_FLOAT32,
                                 MLXC_FLOAT64, MLXC_UINT8, MLXC_UINT32)
from mlxc._core.ops.common cimport on_stream, int_arg
from mlxc._core.ops.elementwise cimport astype_op
from mlxc._core.prims.quant cimport Dequantize, GatherQMM, QuantizedMatmul, Quantize
from mlxc._core.prims.quant import gather_qmm_node

__all__ = ["quantize", "dequantize", "quantized_matmul", "gather_qmm", "qqmm", "gather_qqmm",
           "hadamard_transform"]

_MODES = ("affine", "mxfp4", "mxfp8", "nvfp4")
_DEFAULT_GS = (64, 32, 32, 16)
_DEFAULT_BITS = (4, 4, 8, 4)


def _fmt(shape):
    return "(" + ",".join([str(d) for d in shape]) + ")"


cdef int _mode(object mode, str op) except -1:
    if not isinstance(mode, str):
        raise TypeError(f"[{op}] mode must be a string, got {mode!r}.")
    try:
        return _MODES.index(mode)
    except ValueError:
        raise ValueError(f"[{op}] Invalid quantization mode '{mode}'.") from None


cdef tuple _params(object group_size, object bits, int mode, str op):
    """(group_size, bits) with the mode's defaults, checked as MLX checks them."""
    cdef str name = _MODES[mode]
    gs = _DEFAULT_GS[mode] if group_size is None else int_arg(group_size, op, "group_size")
    b = _DEFAULT_BITS[mode] if bits is None else int_arg(bits, op, "bits")
    if mode == 0:
        if gs not in (32, 64, 128):
            raise ValueError(f"[{op}] The requested group size {gs} is not supported. The "
                             f"supported group sizes are 32, 64, and 128.")
        if b not in (1, 2, 3, 4, 5, 6, 8):
            raise ValueError(f"[{op}] The requested number of bits {b} is not supported. The "
                             f"supported bits are 1, 2, 3, 4, 5, 6 and 8.")
    else:
        if gs != _DEFAULT_GS[mode]:
            raise ValueError(f"[{op}] {name} quantization requires group size "
                             f"{_DEFAULT_GS[mode]} but got {gs}.")
        if b != _DEFAULT_BITS[mode]:
            raise ValueError(f"[{op}] {name} quantization requires bits to be "
                             f"{_DEFAULT_BITS[mode]} but got {b}.")
    return gs, b


cdef array _global(object global_scale, int mode, str op):
    if global_scale is None:
        return None
    if mode != 3:
        raise ValueError(f"[{op}] Global scale is only supported for 'nvfp4' quantization "
                         f"mode.")
    if not isinstance(global_scale, array):
        raise TypeError(f"[{op}] global_scale must be an array, got "
                        f"{type(global_scale).__name__}.")
    cdef array g = <array>global_scale
    if g.size != 1 or g.ndim != 0:
        raise ValueError(f"[{op}] Global scale must be a scalar but got shape {_fmt(g._shape)}.")
    if g.dtype != MLXC_FLOAT32:
        raise ValueError(f"[{op}] Global scale must have dtype float32 but got "
                         f"{dtype_of(g.dtype).name}.")
    return g


def quantize(w, /, group_size=None, bits=None, mode="affine", *, global_scale=None,
             stream=None):
    """quantize(w: array, /, group_size: int | None = None, bits: int | None = None, mode: str = 'affine', *, global_scale: array | None = None, stream: StreamOrDevice = None) -> tuple[array, array, array]

    Quantize the array ``w`` in groups of ``group_size`` consecutive elements of its last
    axis (modes ``affine``, ``mxfp4``, ``mxfp8``, ``nvfp4``).  Returns ``(w_q, scales,
    biases)`` for ``affine`` and ``(w_q, scales)`` otherwise; the packed words, scales
    and biases are bit-identical to MLX's."""
    scope = on_stream(stream, "quantize")
    if not isinstance(w, array):
        raise TypeError(f"quantize(): w must be an array, got {type(w).__name__}.")
    cdef array x = <array>w
    cdef int m = _mode(mode, "quantize")
    gs, b = _params(group_size, bits, m, "quantize")
    cdef array g = _global(global_scale, m, "quantize")
    if x.ndim < 2:
        raise ValueError(f"[quantize] The matrix to be quantized must have at least 2 "
                         f"dimension but it has only {x.ndim}.")
    if x._shape[-1] % gs != 0:
        raise ValueError(f"[quantize] The last dimension of the matrix needs to be divisible "
                         f"by the quantization group size {gs}. However the provided  matrix "
                         f"has shape {_fmt(x._shape)}")
    if not is_float(x.dtype) or x.dtype == MLXC_COMPLEX64:
        raise ValueError(f"[quantize] Only real floating types can be quantized but w has "
                         f"type {dtype_of(x.dtype).name}.")
    if x.dtype == MLXC_FLOAT64:
        raise RuntimeError("[quantize] Only float32, float16 and bfloat16 inputs can be "
                           "quantized, got float64.")
    lead = x._shape[:-1]
    K = x._shape[-1]
    wshape = lead + (K * b // 32,)
    sshape = lead + (K // gs,)
    inputs = (x,) if g is None else (x, g)
    prim = Quantize(m, gs, b, g is not None)
    if m == 0:
        return tuple(new_nodes([MLXC_UINT32, x.dtype, x.dtype], [wshape, sshape, sshape],
                               prim, inputs))
    return tuple(new_nodes([MLXC_UINT32, MLXC_UINT8], [wshape, sshape], prim, inputs))


cdef tuple _check_packed(array w, array s, object biases, int m, int gs, int b, str op):
    """Checks shared by dequantize and quantized_matmul: w uint32, the scale dtype of
    the mode, biases present exactly for affine, scales/biases shapes.  Returns
    (scales, biases) with biases None for the fp modes."""
    cdef array bi = None
    if m == 0:
        if biases is None:
            raise ValueError(f"[{op}] Biases must be provided for affine quantization.")
        bi = as_array(biases)
        if bi._shape != s._shape:
            raise ValueError(f"[{op}] Scales and biases should have the same shape. Received "
                             f"scales with shape {_fmt(s._shape)} and biases with "
                             f"{_fmt(bi._shape)}")
        if not is_float(s.dtype) or s.dtype == MLXC_COMPLEX64 or not is_float(bi.dtype):
            raise ValueError(f"[{op}] Scales and biases must be floating point, got "
                             f"{dtype_of(s.dtype).name} and {dtype_of(bi.dtype).name}.")
    else:
        if biases is not None:
            raise ValueError(f"[{op}] Biases must be null for quantization mode "
                             f"'{_MODES[m]}'.")
        if s.dtype != MLXC_UINT8:
            raise ValueError(f"[{op}] Scale type must be uint8 but received type "
                             f"{dtype_of(s.dtype).name}.")
    return s, bi


def dequantize(w, /, scales, biases=None, group_size=None, bits=None, mode="affine",
               global_scale=None, dtype=None, *, stream=None):
    """dequantize(w: array, /, scales: array, biases: array | None = None, group_size: int | None = None, bits: int | None = None, mode: str = 'affine', global_scale: array | None = None, dtype: Dtype | None = None, *, stream: StreamOrDevice = None) -> array

    Dequantize ``w`` given its ``scales`` (and ``biases`` for ``affine``): each group of
    ``group_size`` codes becomes ``scale * q + bias`` (``affine``) or the code's float
    value times the group's scale (the floating modes)."""
    scope = on_stream(stream, "dequantize")
    cdef array x = as_array(w), s = as_array(scales), bi
    cdef int m = _mode(mode, "dequantize")
    gs, b = _params(group_size, bits, m, "dequantize")
    cdef array g = _global(global_scale, m, "dequantize")
    s, bi = _check_packed(x, s, biases, m, gs, b, "dequantize")
    if x.dtype != MLXC_UINT32:
        raise ValueError("[dequantize] The matrix should be given as a uint32")
    if x.ndim < 2:
        raise ValueError(f"[dequantize] The matrix to be dequantized must have at least 2 "
                         f"dimension but it has only {x.ndim}.")
    K = x._shape[-1] * 32 // b
    if (s._shape[:-1] != x._shape[:-1] or s.ndim != x.ndim or x._shape[-1] * 32 % b
            or s._shape[-1] * gs != K):
        raise ValueError(f"[dequantize] Shape of scales and biases does not match the matrix "
                         f"given the quantization parameters. Provided matrix of shape "
                         f"{_fmt(x._shape)} and scales/biases of shape {_fmt(s._shape)} with "
                         f"group_size={gs} and bits={b}.")
    cdef int out_dt
    if dtype is None:
        # MLX: the scales' dtype (affine), bfloat16 (floating modes), float32 with a
        # (float32) global scale
        out_dt = s.dtype if m == 0 else (MLXC_FLOAT32 if g is not None else MLXC_BFLOAT16)
    else:
        out_dt = (<Dtype>to_dtype(dtype)).code
        if not is_float(out_dt) or out_dt == MLXC_COMPLEX64:
            raise ValueError(f"[dequantize] Only real floating types are supported but output "
                             f"dtype == {dtype_of(out_dt).name}.")
        if g is not None:
            # MLX: the output promotes with the float32 global scale (float16 / bfloat16
            # requests give float32 values, not rounded to the half type)
            out_dt = promote(out_dt, MLXC_FLOAT32)
    # float64 output: the float32 result widened (exact).
    cdef int node_dt = MLXC_FLOAT32 if out_dt == MLXC_FLOAT64 else out_dt
    inputs = [x, s]
    if m == 0:
        if s.dtype == MLXC_FLOAT64:
            s = astype_op(s, MLXC_FLOAT32)
            inputs[1] = s
        inputs.append(astype_op(bi, s.dtype))
    if g is not None:
        inputs.append(g)
    cdef array out = new_node(node_dt, x._shape[:-1] + (K,),
                              Dequantize(m, gs, b, node_dt, g is not None), tuple(inputs))
    return out if node_dt == out_dt else astype_op(out, out_dt)


cdef tuple _qmm_check(array a, array wq, array s, biases, int m, int gs, int b, bint transpose,
                      str op):
    """quantized_matmul's argument checks (MLX's messages): (scales, biases, N, out dtype)."""
    s, bi = _check_packed(wq, s, biases, m, gs, b, op)
    if wq.dtype != MLXC_UINT32:
        raise ValueError(f"[{op}] The weight matrix should be uint32 but received "
                         f"{dtype_of(wq.dtype).name}")
    if wq.ndim < 2 or s.ndim != wq.ndim:
        raise ValueError(f"[{op}] Weight and scales should have the same batch "
                         f"shape. Received weight with shape {_fmt(wq._shape)}, scales with "
                         f"{_fmt(s._shape)}.")
    if a.ndim < 1:
        raise ValueError(f"[{op}] x must have at least 1 dimension, got a 0-d array.")
    rows, wcols = wq._shape[-2], wq._shape[-1]
    K_packed = wcols * 32 // b
    if s._shape[-2] != rows or s._shape[-1] * gs != K_packed or wcols * 32 % b:
        raise ValueError(f"[{op}] The shapes of the weight and scales are "
                         f"incompatible based on bits and group_size. w.shape() == "
                         f"{_fmt(wq._shape)} and scales.shape() == {_fmt(s._shape)} with "
                         f"group_size={gs} and bits={b}")
    K = K_packed if transpose else rows
    N = rows if transpose else K_packed
    if a._shape[-1] != K:
        ex = (N, K) if transpose else (K, N)
        raise ValueError(f"[{op}] Last dimension of first input with shape "
                         f"(..., {a._shape[-1]}) does not match the expanded quantized matrix "
                         f"{_fmt(ex)} computed from shape {_fmt(wq._shape)} with "
                         f"group_size={gs}, bits={b} and transpose="
                         f"{'true' if transpose else 'false'}")
    if a.dtype == MLXC_FLOAT64 or a.dtype == MLXC_COMPLEX64:
        raise RuntimeError(f"[{op}] only floating types are supported, got "
                           f"{dtype_of(a.dtype).name}.")
    cdef int out_dt = promote(a.dtype, s.dtype) if m == 0 else a.dtype
    if not is_float(out_dt) or out_dt == MLXC_FLOAT64:
        out_dt = MLXC_FLOAT32
    return s, bi, N, out_dt


def _batch_indices(shape):
    """The indices of every matrix of a batch shape, in that shape (uint32)."""
    import mlxc.core as mx
    return mx.reshape(mx.arange(math.prod(shape), dtype=mx.uint32), tuple(shape))


cdef array _gqmm(array a, array wq, array s, bi, lhs, rhs, int m, int gs, int b,
                 bint transpose):
    """A GatherQMM node: x (..., M, K) and the packed weights flattened to their matrices,
    output matrix t = x[lhs[t]] @ w[rhs[t]] (indices broadcast together)."""
    import mlxc.core as mx
    # float32, or (floating modes, as MLX) a half x computed in its type
    xt = a if m != 0 and a.dtype in (MLXC_FLOAT16, MLXC_BFLOAT16) else astype_op(a, MLXC_FLOAT32)
    xf = mx.reshape(xt, (-1,) + tuple(a._shape[-2:]))
    rest = [mx.reshape(v, (-1,) + tuple(v.shape[-2:]))
            for v in ([wq, astype_op(s, MLXC_FLOAT32), astype_op(bi, MLXC_FLOAT32)]
                      if m == 0 else [wq, s])]
    rest += list(mx.broadcast_arrays(lhs.astype(mx.uint32), rhs.astype(mx.uint32)))
    return gather_qmm_node(GatherQMM(m, gs, b, transpose), xf, rest)


def quantized_matmul(x, w, /, scales, biases=None, transpose=True, group_size=None,
                     bits=None, mode="affine", *, stream=None):
    """quantized_matmul(x: array, w: array, /, scales: array, biases: array | None = None, transpose: bool = True, group_size: int | None = None, bits: int | None = None, mode: str = 'affine', *, stream: StreamOrDevice = None) -> array

    ``x @ dequantize(w).T`` (``transpose=True``) or ``x @ dequantize(w)``, with the
    weights dequantized inside the matrix product (never materialized)."""
    scope = on_stream(stream, "quantized_matmul")
    cdef array a = as_array(x), wq = as_array(w), s = as_array(scales), bi
    cdef int m = _mode(mode, "quantized_matmul")
    gs, b = _params(group_size, bits, m, "quantized_matmul")
    s, bi, N, out_dt = _qmm_check(a, wq, s, biases, m, gs, b, transpose, "quantized_matmul")
    cdef array out
    if wq.ndim > 2:
        # Batched weights: one quantized product per matrix of the broadcast batch (x
        # broadcasts as numpy's matmul would; a 1-D x is one row).
        import mlxc.core as mx
        x2 = a if a.ndim >= 2 else mx.reshape(a, (1, a._shape[0]))
        xb, wb = tuple(x2.shape[:-2]), tuple(wq._shape[:-2])
        batch = tuple(mx.broadcast_shapes(xb, wb))
        out = _gqmm(x2, wq, s, bi, mx.broadcast_to(_batch_indices(xb), batch),
                    mx.broadcast_to(_batch_indices(wb), batch), m, gs, b, transpose)
        if a.ndim == 1:
            out = mx.reshape(out, tuple(out.shape[:-2]) + (N,))
        if out.dtype == out_dt:
            return out
    elif m != 0 and out_dt in (MLXC_FLOAT16, MLXC_BFLOAT16) and a.dtype == out_dt:
        # MLX computes the floating modes in x's half type (every step rounded to it)
        return new_node(out_dt, a._shape[:-1] + (N,), QuantizedMatmul(m, gs, b, bool(transpose)),
                        (a, wq, s))
    else:
        inputs = [astype_op(a, MLXC_FLOAT32), wq, astype_op(s, MLXC_FLOAT32) if m == 0 else s]
        if m == 0:
            inputs.append(astype_op(bi, MLXC_FLOAT32))
        out = new_node(MLXC_FLOAT32, a._shape[:-1] + (N,),
                       QuantizedMatmul(m, gs, b, bool(transpose)), tuple(inputs))
    return out if out_dt == MLXC_FLOAT32 else astype_op(out, out_dt)


# ------------------------------------------------------------- compositions

def _gather_mm(x, wd, lhs_indices, rhs_indices, op):
    """x (..., M, K) @ wd (..., K, N) with MLX's gather semantics: lhs/rhs indices pick
    matrices of the flattened batch dims of x and wd; the result has the indices'
    broadcast shape followed by (M, N)."""
    import mlxc.core as mx
    if lhs_indices is None and rhs_indices is None:
        return mx.matmul(x, wd)
    xb = x.shape[:-2]
    wb = wd.shape[:-2]
    if lhs_indices is None:
        lhs_indices = mx.reshape(mx.arange(math.prod(xb), dtype=mx.uint32), xb)
    if rhs_indices is None:
        rhs_indices = mx.reshape(mx.arange(math.prod(wb), dtype=mx.uint32), wb)
    for name, idx in (("lhs_indices", lhs_indices), ("rhs_indices", rhs_indices)):
        if not isinstance(idx, array) or dtype_of((<array>idx).dtype).kind not in "ui":
            raise ValueError(f"[{op}] Got {name} with invalid dtype. Indices must be integral.")
    lhs, rhs = mx.broadcast_arrays(lhs_indices, rhs_indices)
    xf = mx.reshape(x, (-1,) + tuple(x.shape[-2:]))
    wf = mx.reshape(wd, (-1,) + tuple(wd.shape[-2:]))
    return mx.matmul(mx.take(xf, lhs, axis=0), mx.take(wf, rhs, axis=0))


def gather_qmm(x, w, /, scales, biases=None, lhs_indices=None, rhs_indices=None,
               transpose=True, group_size=None, bits=None, mode="affine", global_scale=None,
               *, sorted_indices=False, stream=None):
    """gather_qmm(x: array, w: array, /, scales: array, biases: array | None = None, lhs_indices: array | None = None, rhs_indices: array | None = None, transpose: bool = True, group_size: int | None = None, bits: int | None = None, mode: str = 'affine', global_scale: array | None = None, *, sorted_indices: bool = False, stream: StreamOrDevice = None) -> array

    quantized_matmul with matrix-level gather on the batch dims of x (``lhs_indices``)
    and of the quantized weights (``rhs_indices``)."""
    import mlxc.core as mx
    scope = on_stream(stream, "gather_qmm")
    cdef array a = as_array(x)
    if lhs_indices is None and rhs_indices is None and global_scale is None:
        return quantized_matmul(a, w, scales, biases, transpose, group_size, bits, mode)
    cdef int m = _mode(mode, "gather_qmm")
    if a.ndim < 2:
        raise ValueError(f"[gather_qmm] x must have at least 2 dimensions, got {a.ndim}.")
    cdef array wq = as_array(w), sc = as_array(scales)
    if global_scale is not None:
        # nvfp4 with a global scale: dequantize, then gather matmul (rare).
        out_dt = a.dtype if m != 0 else promote(a.dtype, sc.dtype)
        wd = dequantize(w, scales, biases, group_size, bits, mode, global_scale,
                        dtype=mx.float32)
        if transpose:
            wd = mx.swapaxes(wd, -1, -2)
        r = _gather_mm(astype_op(a, MLXC_FLOAT32), wd, lhs_indices, rhs_indices, "gather_qmm")
        return r.astype(dtype_of(out_dt if is_float(out_dt) else MLXC_FLOAT32))
    gs, b = _params(group_size, bits, m, "gather_qmm")
    sc, bi, N, out_dt = _qmm_check(a, wq, sc, biases, m, gs, b, transpose, "gather_qmm")
    xb, wb = tuple(a._shape[:-2]), tuple(wq._shape[:-2])
    lhs = _batch_indices(xb) if lhs_indices is None else lhs_indices
    rhs = _batch_indices(wb) if rhs_indices is None else rhs_indices
    for name, idx in (("lhs_indices", lhs), ("rhs_indices", rhs)):
        if not isinstance(idx, array) or dtype_of((<array>idx).dtype).kind not in "ui":
            raise ValueError(f"[gather_qmm] Got {name} with invalid dtype. Indices must be "
                             f"integral.")
    r = _gqmm(a, wq, sc, bi, lhs, rhs, m, gs, b, transpose)
    return r if r.dtype == out_dt else astype_op(r, out_dt)


def _qq_operand(v, scales, group_size, bits, mode, global_scale, op):
    """v dequantized from (v, scales), or v float quantized and dequantized (qqmm's
    operands go through the quantized format either way)."""
    import mlxc.core as mx
    cdef array va = as_array(v)
    if scales is None:
        kw = {} if global_scale is None else {"global_scale": global_scale}
        q = quantize(va, group_size, bits, mode, **kw)
        return dequantize(q[0], q[1], None, group_size, bits, mode, global_scale,
                          dtype=mx.float32)
    return dequantize(va, scales, None, group_size, bits, mode, global_scale, dtype=mx.float32)


def qqmm(x, w, scales=None, group_size=None, bits=None, mode="nvfp4", global_scale_x=None,
         global_scale_w=None, *, stream=None):
    """qqmm(x: array, w: array, scales: array | None = None, group_size: int | None = None, bits: int | None = None, mode: str = 'nvfp4', global_scale_x: array | None = None, global_scale_w: array | None = None, *, stream: StreamOrDevice = None) -> array

    ``x @ w.T`` with both operands in a floating quantized format (``x`` is quantized
    here; ``w`` is either quantized here or given packed with its ``scales``)."""
    import mlxc.core as mx
    scope = on_stream(stream, "qqmm")
    cdef int m = _mode(mode, "qqmm")
    if m == 0:
        raise ValueError("[qqmm] Only 'mxfp4', 'mxfp8' and 'nvfp4' modes are supported, got "
                         "'affine'.")
    cdef array a = as_array(x)
    xd = _qq_operand(a, None, group_size, bits, mode, global_scale_x, "qqmm")
    wd = _qq_operand(w, scales, group_size, bits, mode, global_scale_w, "qqmm")
    out_dt = a.dtype
    r = mx.matmul(xd, mx.swapaxes(wd, -1, -2))
    return r.astype(dtype_of(out_dt))


def gather_qqmm(x, w, /, scales=None, lhs_indices=None, rhs_indices=None, group_size=None,
                bits=None, mode="nvfp4", global_scale_x=None, global_scale_w=None, *,
                sorted_indices=False, stream=None):
    """gather_qqmm(x: array, w: array, /, scales: array | None = None, lhs_indices: array | None = None, rhs_indices: array | None = None, group_size: int | None = None, bits: int | None = None, mode: str = 'nvfp4', global_scale_x: array | None = None, global_scale_w: array | None = None, *, sorted_indices: bool = False, stream: StreamOrDevice = None) -> array

    qqmm with matrix-level gather on the batch dims of x and w."""
    import mlxc.core as mx
    scope = on_stream(stream, "gather_qqmm")
    cdef int m = _mode(mode, "gather_qqmm")
    if m == 0:
        raise ValueError("[gather_qqmm] Only 'mxfp4', 'mxfp8' and 'nvfp4' modes are "
                         "supported, got 'affine'.")
    cdef array a = as_array(x)
    xd = _qq_operand(a, None, group_size, bits, mode, global_scale_x, "gather_qqmm")
    wd = _qq_operand(w, scales, group_size, bits, mode, global_scale_w, "gather_qqmm")
    r = _gather_mm(xd, mx.swapaxes(wd, -1, -2), lhs_indices, rhs_indices, "gather_qqmm")
    return r.astype(dtype_of(a.dtype))


# The m x m matrices MLX composes with Sylvester's for n = m * 2^k (the rows its transform
# gives for the identity; recorded by tests/data/gen_hadamard.py), '+' = 1, '-' = -1.
_HADAMARD_ROWS = {
    12: (
        "+-++++++++++", "--+-+-+-+-+-",
        "+++-++----++", "+---+--+-++-",
        "+++++-++----", "+-+---+--+-+",
        "++--+++-++--", "+--++---+--+",
        "++----+++-++", "+--+-++---+-",
        "++++----+++-", "+-+--+-++---",
    ),
    20: (
        "+-----++++--++--+--+", "-+---+-+++---+++-+--",
        "--+--++-+++---+-+-+-", "---+-+++-+++-----+-+",
        "----+++++--++--+--+-", "+----+----+-++---++-",
        "-+----+----+-++---++", "--+----+--+-+-++---+",
        "---+----+-++-+-++---", "----+----+-++-+-++--",
        "++--+-+--++----+----", "+++--+-+---+----+---",
        "-+++--+-+---+----+--", "--+++--+-+---+----+-",
        "+--+++--+-----+----+", "+-++-++--+-+++++----",
        "-+-+++++--+-+++-+---", "+-+-+-+++-++-++--+--",
        "++-+---++++++-+---+-", "-++-++--++++++-----+",
    ),
    28: (
        "+--------++++--+-++-+-++--++", "-+--------+++++-+-++-+-++--+",
        "--+----+---+++-+-+-++++-++--", "---+---++---+++-+-+-+-++-++-",
        "----+--+++---+++-+-+---++-++", "-----+-++++----++-+-++--++-+",
        "------+-++++--+-++-+-++--++-", "++----++------+--++---+-++-+",
        "+++-----+------+--++-+-+-++-", "-+++-----+------+--++-+-+-++",
        "--+++-----+---+--+--++-+-+-+", "---+++-----+--++--+--++-+-+-",
        "----+++-----+--++--+--++-+-+", "+----++------+--++--++-++-+-",
        "+-+--+--++--+++------++----+", "-+-+--++-++--+-+-----+++----",
        "+-+-+--++-++----+-----+++---", "-+-+-+--++-++----+-----+++--",
        "--+-+-+--++-++----+-----+++-", "+--+-+-+--++-+-----+-----+++",
        "-+--+-+++--++-------++----++", "+--++--+-+--+---++++-+------",
        "-+--++--+-+--+---++++-+-----", "--+--+++-+-+--+---+++--+----",
        "+--+--+-+-+-+-++---++---+---", "++--+----+-+-++++---+----+--",
        "-++--+-+--+-+-++++--------+-", "--++--+-+--+-+-++++--------+",
    ),
}


def _hadamard_split(n):
    """n = m * p with m in (1, 12, 20, 28) and p a power of two, as (m, p); else None."""
    if n <= 0:
        return None
    p = n & -n                       # the largest power of two dividing n
    odd = n // p
    if odd == 1:
        return 1, n
    if odd in (3, 5, 7) and p >= 4:
        return 4 * odd, p // 4
    return None


def hadamard_transform(a, scale=None, stream=None):
    """hadamard_transform(a: array, scale: float | None = None, stream: StreamOrDevice = None) -> array

    The Hadamard transform along the last axis, times ``scale`` (default ``1/sqrt(n)``).
    n = m * 2^k with m in (1, 12, 20, 28): the matrix is MLX's m x m Hadamard matrix
    Kronecker Sylvester's 2^k one (the transform of x is x @ kron(H_m, H_2^k))."""
    import mlxc.core as mx
    scope = on_stream(stream, "hadamard_transform")
    cdef array x = as_array(a)
    if x.ndim < 1:
        raise ValueError("[hadamard_transform] Input must have at least 1 dimension, got a "
                         "0-d array.")
    n = x._shape[-1]
    split = _hadamard_split(n)
    if split is None:
        raise ValueError(f"[hadamard_transform] Only supports n = m*2^k where m in (1, 12, 20, "
                         f"28), got a last dimension of {n}.")
    m, p = split
    dt = x.dtype if is_float(x.dtype) and x.dtype != MLXC_COMPLEX64 else MLXC_FLOAT32
    if scale is None:
        scale = 1.0 / math.sqrt(n)
    wide = MLXC_FLOAT32 if dt != MLXC_FLOAT64 else MLXC_FLOAT64
    y = astype_op(x, wide)
    lead = tuple(x._shape[:-1])
    # log2(p) butterfly stages over the last factor: pair element i with i + h for every
    # block of 2h (Sylvester's matrix).
    h = 1
    while h < p:
        y = mx.reshape(y, lead + (m * p // (2 * h), 2, h))
        u = y[..., 0, :]
        v = y[..., 1, :]
        y = mx.stack([u + v, u - v], axis=-2)
        h *= 2
    if m > 1:
        # out[i, q] = sum_j H_m[j, i] y[j, q]: H_m's transpose from the left
        hm = mx.array([[1.0 if c == "+" else -1.0 for c in row] for row in _HADAMARD_ROWS[m]],
                      dtype=dtype_of(wide))
        y = mx.matmul(mx.transpose(hm), mx.reshape(y, lead + (m, p)))
    y = mx.reshape(y, lead + (n,)) * float(scale)
    return y.astype(dtype_of(dt))
