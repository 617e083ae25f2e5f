"""Op constructors of the mx.fast primitives: MLX's argument checks and messages,
output dtypes, node creation.  The public functions are in mlxc/core/fast.py.

float32, float16 and bfloat16 run the fused kernels; float64 (which the kernels do not
cover) runs the same maths composed of mlxc ops (prims/fast_rules.py)."""
import mlxc.core as mx
from mlxc._core.array cimport array, as_array, new_node
from mlxc._core.dtype cimport dtype_of
from mlxc._core.ops.common cimport on_stream
from mlxc._core.prims.fast cimport fast_prim

from mlxc._core.prims.fast import (LAYER_NORM, MASK_ADD, MASK_BOOL, MASK_CAUSAL, MASK_NONE,
                                   RMS_NORM, ROPE, SDPA)

def shape_str(shape):
    """A shape as MLX prints it in messages: (1,4,3,8)."""
    return "(" + ",".join(str(d) for d in shape) + ")"


def _is_float(dt):
    return mx.issubdtype(dt, mx.floating)


def _kernel_ok(dt):
    return dt == mx.float32 or dt == mx.float16 or dt == mx.bfloat16


def _vector(w, str name, str op, n, wname):
    a = <object>as_array(w)
    if a.ndim != 1:
        raise ValueError(f"[{op}] {wname} must have 1 dimension but has {a.ndim} "
                         f"dimensions.")
    if a.shape[0] != n:
        raise ValueError(f"[{op}] {wname} must have the same size as the last dimension "
                         f"of x but has {a.shape[0]} elements.")
    return a


def norm(int op, x, weight, bias, eps, stream=None):
    """rms_norm (bias None) or layer_norm."""
    name = "rms_norm" if op == RMS_NORM else "layer_norm"
    scope = on_stream(stream, name)
    a = <object>as_array(x)
    if a.ndim == 0:
        raise ValueError(f"[{name}] Input must have at least 1 dimension but got input "
                         f"with 0 dimensions.")
    n = a.shape[-1]
    wname = "(*weight)" if op == RMS_NORM else "weight"
    w = None if weight is None else _vector(weight, "weight", name, n, wname)
    b = None if bias is None else _vector(bias, "bias", name, n, "bias")
    dt = a.dtype
    for t in (w, b):
        if t is not None:
            dt = mx.promote_types(dt, t.dtype)
    if not _is_float(dt):
        raise ValueError(f"[{name}] Received unsupported type {str(dt).split('.')[-1]}.")
    eps = float(eps)
    a = a.astype(dt)
    w = None if w is None else w.astype(dt)
    b = None if b is None else b.astype(dt)
    if not _kernel_ok(dt):
        from mlxc._core.prims.fast_rules import ref_norm
        return ref_norm(op, a, w, b, eps)
    inputs = (a,) + tuple(t for t in (w, b) if t is not None)
    params = (eps, w is not None) if op == RMS_NORM else (eps, w is not None, b is not None)
    return new_node((<array>a).dtype, a.shape, fast_prim(op, params), inputs)


def rope(a, dims, traditional, base, scale, offset, freqs=None, stream=None):
    scope = on_stream(stream, "rope")
    x = <object>as_array(a)
    if x.ndim < 3:
        raise ValueError(f"[rope] Input must have at least 3 dimensions but got input "
                         f"with {x.ndim} dimensions.")
    if not _is_float(x.dtype):
        raise ValueError(f"[rope] Input must be a floating type but got "
                         f"{str(x.dtype).split('.')[-1]}.")
    dims = int(dims)
    if dims % 2 != 0:
        raise ValueError(f"[rope] dims must be even but got {dims}.")
    if dims > x.shape[-1]:
        raise ValueError(f"[rope] dims must not exceed the input's last dimension "
                         f"({x.shape[-1]}) but got {dims}.")
    if dims < 0:
        raise ValueError(f"[rope] dims must be non-negative but got {dims}.")
    if base is not None and freqs is not None:
        raise ValueError("[rope] Only one of base or freqs can have a value.")
    if base is None and freqs is None:
        raise ValueError("[rope] Neither base nor freqs has a value.")
    f = None
    if freqs is not None:
        f = <object>as_array(freqs)
        if f.ndim != 1 or f.shape[0] != dims // 2:
            raise ValueError(f"[rope] freqs must be one dimensional with size {dims // 2} "
                             f"but got shape {shape_str(f.shape)}.")
    off_int, off = 0, None
    if isinstance(offset, array):
        off = offset
        if not mx.issubdtype(off.dtype, mx.integer):
            raise ValueError(f"[rope] offset must be an integer but got type "
                             f"{str(off.dtype).split('.')[-1]}.")
        if off.ndim > 1 or (off.ndim == 1 and off.shape[0] != 1 and off.shape[0] != x.shape[0]):
            raise ValueError(f"[rope] offset must be a scalar or vector with {x.shape[0]} "
                             f"elements but has shape {shape_str(off.shape)}.")
    else:
        if isinstance(offset, bool) or not isinstance(offset, int):
            try:
                import operator
                offset = operator.index(offset)
            except TypeError:
                raise TypeError(f"[rope] offset must be an int or an array, got "
                                f"{type(offset).__name__}.") from None
        off_int = int(offset)
    params = (dims, bool(traditional), None if base is None else float(base), float(scale),
              off_int, off is not None, f is not None)
    if not _kernel_ok(x.dtype):
        from mlxc._core.prims.fast_rules import ref_rope
        return ref_rope(params, x, off, f)
    inputs = (x,) + tuple(t for t in (off, f) if t is not None)
    return new_node((<array>x).dtype, x.shape, fast_prim(ROPE, params), inputs)


def sdpa(q, k, v, scale, mask=None, sinks=None, stream=None):
    op = "scaled_dot_product_attention"
    scope = on_stream(stream, op)
    q, k, v = as_array(q), as_array(k), as_array(v)
    for t in (q, k, v):
        if t.ndim != 4:
            raise ValueError(f"[{op}] input with shape {shape_str(t.shape)} expected to "
                             f"be rank 4")
    B, Hq, Lq, D = q.shape
    _, Hk, Lk, _ = k.shape
    if k.shape[-1] != D:
        raise ValueError(f"[{op}] query, keys expected to have matching last dimension; "
                         f"found query shape {shape_str(q.shape)} for keys shape "
                         f"{shape_str(k.shape)}.")
    if v.shape[1] != Hk:
        raise ValueError(f"[{op}] keys, values expected to have matching n_kv_heads; found "
                         f"keys with n_heads {Hk} for values with n_heads {v.shape[1]}.")
    if Hk == 0 or Hq % Hk != 0:
        raise ValueError(f"[{op}] n_heads must be a multiple of n_kv_heads, found n_heads "
                         f"{Hq} for n_kv_heads {Hk}.")
    for t in (k, v):
        if t.shape[0] != B:
            raise ValueError(f"[{op}] mismatching batch dimension for input with shape "
                             f"{shape_str(t.shape)}.")
    if v.shape[2] != Lk:
        raise ValueError(f"[{op}] keys, values expected to have matching sequence length; "
                         f"found keys shape {shape_str(k.shape)} for values shape "
                         f"{shape_str(v.shape)}.")
    dt = mx.promote_types(mx.promote_types(q.dtype, k.dtype), v.dtype)
    if not _is_float(dt):
        raise ValueError(f"[{op}] Received unsupported type {str(dt).split('.')[-1]}.")
    kind, m = MASK_NONE, None
    if isinstance(mask, str):
        if mask != "causal":
            raise ValueError(f"[{op}] invalid mask option '{mask}'. Must be 'causal', or an "
                             f"array.")
        kind = MASK_CAUSAL
    elif mask is not None:
        m = <object>as_array(mask)
        if m.ndim > 4:
            raise ValueError(f"[{op}] the mask with shape {shape_str(m.shape)} expected to "
                             f"have at most rank 4.")
        full = (B, Hq, Lq, Lk)
        ok = all(a == b or a == 1 for a, b in zip(m.shape[::-1], full[::-1]))
        if not ok:
            raise ValueError(f"[{op}] Shapes {shape_str(m.shape)} and {shape_str(full)} "
                             f"cannot be broadcast.")
        if m.dtype == mx.bool_:
            kind = MASK_BOOL
        else:
            if mx.promote_types(m.dtype, dt) != dt:
                raise ValueError(f"[{op}] Mask type must promote to output type "
                                 f"{str(dt).split('.')[-1]}.")
            kind = MASK_ADD
    s = None
    if sinks is not None:
        s = <object>as_array(sinks)
        if s.shape != (Hq,):
            raise ValueError(f"[{op}] Received invalid shape for sinks "
                             f"{shape_str(s.shape)}.")
    q, k, v = q.astype(dt), k.astype(dt), v.astype(dt)
    params = (float(scale), kind, s is not None)
    if not _kernel_ok(dt):
        from mlxc._core.prims.fast_rules import ref_sdpa
        return ref_sdpa(params, q, k, v, m, s)
    inputs = (q, k, v) + tuple(t for t in (m, s) if t is not None)
    return new_node((<array>q).dtype, (B, Hq, Lq, v.shape[3]), fast_prim(SDPA, params),
                    inputs)
