"""mx.fast: MLX 0.32.4's fused operations.

rms_norm, layer_norm, rope and scaled_dot_product_attention are Fast primitives
(mlxc/_core/prims/fast.pyx) running single-pass SIMD kernels (kernels/fast_norm.c,
rope.c, attention.c; AVX-512 / AVX2 / scalar chosen at run time) threaded over rows or
(batch, head, query block); their vjp, jvp and vmap rules are mlxc ops
(prims/fast_rules.py).  Attention is a flash-attention kernel: an online softmax over
key blocks, so no Lq x Lk score matrix is formed in the forward pass; its vjp is a
tiled FlashAttention-2 style backward (kernels/attention_vjp.c), no Lq x Lk array either
(its jvp recomputes the probabilities with matmuls).  float64 inputs run the same maths
composed of mlxc ops.

cross_entropy and gated_delta_update are composed of mlxc ops (MLX's CPU build does the
same).  metal_kernel, cuda_kernel and precompiled_cuda_kernel exist and raise, as in
MLX's CPU-only build, since there is no Metal or CUDA back-end.
"""
import mlxc.core as mx
from mlxc._core.ops import fast as _ops
from mlxc._core.ops.common import stream_scope as _stream_scope
from mlxc._core.ops.fast import shape_str as _shape_str
from mlxc._core.prims.fast import LAYER_NORM as _LN, RMS_NORM as _RMS

__all__ = ["rms_norm", "layer_norm", "rope", "scaled_dot_product_attention",
           "cross_entropy", "gated_delta_update", "metal_kernel", "cuda_kernel",
           "precompiled_cuda_kernel"]


def rms_norm(x, weight, eps, *, stream=None):
    """rms_norm(x: array, weight: array | None, eps: float, *, stream=None) -> array.
    x * rsqrt(mean(x ** 2, axis=-1) + eps) * weight, statistics in float32."""
    return _ops.norm(_RMS, x, weight, None, eps, stream)


def layer_norm(x, weight, bias, eps, *, stream=None):
    """layer_norm(x: array, weight: array | None, bias: array | None, eps: float, *,
    stream=None) -> array.  (x - mean) * rsqrt(var + eps) * weight + bias over the last
    axis, statistics in float32."""
    return _ops.norm(_LN, x, weight, bias, eps, stream)


def rope(a, dims, *, traditional, base, scale, offset, freqs=None, stream=None):
    """rope(a: array, dims: int, *, traditional: bool, base: float | None, scale: float,
    offset: int | array, freqs: array | None = None, stream=None) -> array.
    Rotary positional encoding of the first `dims` features of an input (B, *, T, D);
    position t of example b turns by (offset[b] + t) * scale / freqs[j] (freqs[j] =
    base ** (2j / dims) when base is given)."""
    return _ops.rope(a, dims, traditional, base, scale, offset, freqs, stream)


def scaled_dot_product_attention(q, k, v, *, scale, mask=None, sinks=None,
                                 force_fused=False, stream=None):
    """scaled_dot_product_attention(q: array, k: array, v: array, *, scale: float,
    mask: None | str | array = None, sinks: array | None = None, force_fused: bool =
    False, stream=None) -> array.  softmax(scale * q @ k.T + mask) @ v for q (B, N_q,
    T_q, D), k and v (B, N_kv, T_kv, D); N_q a multiple of N_kv (grouped / multi-query
    heads); mask "causal" (lower-right aligned), boolean or additive (broadcast to
    (B, N_q, T_q, T_kv)); sinks (N_q,) extra logits.  The softmax is in float32."""
    return _ops.sdpa(q, k, v, scale, mask, sinks, stream)


def cross_entropy(logits, targets, *, stream=None):
    """cross_entropy(logits: array, targets: array, *, stream=None) -> array.
    logsumexp(logits, axis=-1) - logits[..., targets], float32, shaped like targets."""
    with _stream_scope(stream, "cross_entropy"):
        logits = logits if isinstance(logits, mx.array) else mx.array(logits)
        targets = targets if isinstance(targets, mx.array) else mx.array(targets)
        if not mx.issubdtype(logits.dtype, mx.floating):
            raise ValueError(f"[cross_entropy] Received unsupported logits type "
                             f"{str(logits.dtype).split('.')[-1]}.")
        if not mx.issubdtype(targets.dtype, mx.integer):
            raise ValueError(f"[cross_entropy] targets must be integer class indices but got "
                             f"{str(targets.dtype).split('.')[-1]}.")
        if logits.ndim == 0 or targets.shape != logits.shape[:-1]:
            raise ValueError(f"[cross_entropy] targets shape {_shape_str(targets.shape)} does "
                             f"not match logits shape {_shape_str(logits.shape)} with the last "
                             f"axis removed.")
        picked = mx.take_along_axis(logits, mx.expand_dims(targets, -1), axis=-1)
        loss = mx.logsumexp(logits, axis=-1) - mx.squeeze(picked, -1)
        return loss.astype(mx.float32)


def gated_delta_update(q, k, v, gamma, beta, initial_state=None, mask=None, stream=None):
    """gated_delta_update(q, k, v, gamma, beta, initial_state=None, mask=None,
    stream=None) -> list[array].  The gated delta rule, step by step over T:
    state = state * gamma; state += outer(beta * (v - state @ k), k); y = state @ q, with
    q, k (B, T, Hk, Dk) shared by Hv / Hk value heads, v (B, T, Hv, Dv), gamma (B, T, Hv)
    or (B, T, Hv, Dk), beta (B, T, Hv), state (B, Hv, Dv, Dk) (zeros by default), mask
    (B, T) (a masked step leaves the state and gives y = 0).  Returns [y, final state]."""
    with _stream_scope(stream, "gated_delta_update"):
        op = "gated_delta_update"
        q, k, v, gamma, beta = [x if isinstance(x, mx.array) else mx.array(x)
                                for x in (q, k, v, gamma, beta)]
        for name, x, nd in (("q", q, 4), ("k", k, 4), ("v", v, 4), ("beta", beta, 3)):
            if x.ndim != nd:
                raise ValueError(f"[{op}] {name} must have {nd} dimensions but has shape "
                                 f"{_shape_str(x.shape)}.")
        B, T, Hk, Dk = q.shape
        Hv, Dv = v.shape[2], v.shape[3]
        if k.shape != q.shape:
            raise ValueError(f"[{op}] q and k must have the same shape but got "
                             f"{_shape_str(q.shape)} and {_shape_str(k.shape)}.")
        if v.shape[:2] != (B, T) or Hk == 0 or Hv % Hk != 0:
            raise ValueError(f"[{op}] v with shape {_shape_str(v.shape)} must be (B, T, Hv, Dv) "
                             f"with Hv a multiple of Hk = {Hk} (q shape {_shape_str(q.shape)}).")
        if beta.shape != (B, T, Hv):
            raise ValueError(f"[{op}] beta must have shape {_shape_str((B, T, Hv))} but has "
                             f"shape {_shape_str(beta.shape)}.")
        if gamma.shape not in ((B, T, Hv), (B, T, Hv, Dk)):
            raise ValueError(f"[{op}] gamma must have shape {_shape_str((B, T, Hv))} or "
                             f"{_shape_str((B, T, Hv, Dk))} but has shape "
                             f"{_shape_str(gamma.shape)}.")
        dt = q.dtype
        ct = mx.float64 if dt == mx.float64 else mx.float32
        state = (mx.zeros((B, Hv, Dv, Dk), ct) if initial_state is None
                 else mx.array(initial_state).astype(ct))
        if state.shape != (B, Hv, Dv, Dk):
            raise ValueError(f"[{op}] initial_state must have shape "
                             f"{_shape_str((B, Hv, Dv, Dk))} but has shape "
                             f"{_shape_str(state.shape)}.")
        if mask is not None:
            mask = mask if isinstance(mask, mx.array) else mx.array(mask)
            if mask.shape != (B, T):
                raise ValueError(f"[{op}] mask must have shape {_shape_str((B, T))} but has "
                                 f"shape {_shape_str(mask.shape)}.")
        rep = Hv // Hk
        qf, kf = q.astype(ct), k.astype(ct)
        if rep > 1:
            qf, kf = mx.repeat(qf, rep, axis=2), mx.repeat(kf, rep, axis=2)
        vf, gf, bf = v.astype(ct), gamma.astype(ct), beta.astype(ct)
        ys = []
        for t in range(T):
            kt = mx.expand_dims(kf[:, t], 2)                      # (B, Hv, 1, Dk)
            g = gf[:, t]
            g = g[..., None, None] if g.ndim == 2 else mx.expand_dims(g, 2)
            new = state * g
            kv = mx.sum(new * kt, axis=-1)                        # (B, Hv, Dv)
            delta = (vf[:, t] - kv) * bf[:, t][..., None]
            new = new + kt * mx.expand_dims(delta, -1)
            y = mx.sum(new * mx.expand_dims(qf[:, t], 2), axis=-1)
            if mask is not None:
                keep = mask[:, t].astype(mx.bool_)
                state = mx.where(keep[:, None, None, None], new, state)
                y = mx.where(keep[:, None, None], y, mx.zeros_like(y))
            else:
                state = new
            ys.append(y)
        out = mx.stack(ys, axis=1) if ys else mx.zeros((B, 0, Hv, Dv), ct)
        return [out.astype(dt), state]


class _NoBackendKernel:
    """What metal_kernel returns on a machine without Metal: calling it raises."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *, inputs, output_shapes, output_dtypes, grid, threadgroup,
                 template=None, init_value=None, verbose=False, stream=None):
        raise RuntimeError("[metal_kernel] No Metal back-end.")


def metal_kernel(name, input_names, output_names, source, header="",
                 ensure_row_contiguous=True, atomic_outputs=False, compile_options=None):
    """metal_kernel(name, input_names, output_names, source, header='',
    ensure_row_contiguous=True, atomic_outputs=False, compile_options=None) -> object.
    As in MLX's CPU-only build: the kernel object is made, and calling it raises
    RuntimeError("[metal_kernel] No Metal back-end.")."""
    return _NoBackendKernel(name)


def cuda_kernel(name, input_names, output_names, source, header="",
                ensure_row_contiguous=True, shared_memory=0):
    """cuda_kernel(...) -> object.  Raises RuntimeError: there is no CUDA back-end."""
    raise RuntimeError("[cuda_kernel] No CUDA back-end.")


def precompiled_cuda_kernel(*, name, compiled_source, inputs, output_shapes, output_dtypes,
                            scalars, grid, threadgroup, shared_memory=0, init_value=None,
                            ensure_row_contiguous=False, stream=None):
    """precompiled_cuda_kernel(...) -> list[array].  Raises RuntimeError: there is no
    CUDA back-end."""
    raise RuntimeError("[cuda_kernel] No CUDA back-end.")
