"""gather_mm, block_masked_mm and segmented_mm with MLX's shapes, broadcasting, dtypes and
errors.

gather_mm is a GatherMM node (one GEMM per index pair) and segmented_mm a SegmentedMM
node (one GEMM per segment), both in prims/matmul_variants.pyx.
block_masked_mm is a composition: the block masks expand to element
masks applied to the operands and the product (a where for boolean masks, so NaN/inf in
masked-out blocks do not leak; a product for float masks); its transforms come from the
ops it is made of.
"""
import math

import mlxc.core as mx
from mlxc._core.ops.common import stream_scope
from mlxc._core.prims.matmul_variants import gather_mm_node, segmented_mm_node

__all__ = ["gather_mm", "block_masked_mm", "segmented_mm"]


def _fmt(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def _broadcast(s1, s2):
    """Broadcast shape of two shapes; MLX's error (and its shape format) when none."""
    try:
        return tuple(mx.broadcast_shapes(tuple(s1), tuple(s2)))
    except ValueError:
        raise ValueError(f"[broadcast_shapes] Shapes {_fmt(s1)} and {_fmt(s2)} cannot be "
                         f"broadcast.") from None


def _real_float(a, b, op):
    dt = mx.promote_types(a.dtype, b.dtype)
    if not mx.issubdtype(dt, mx.floating):
        raise ValueError(f"[{op}] Only real floating point types are supported but "
                         f"{_name(a.dtype)} and {_name(b.dtype)} were provided which results "
                         f"in {_name(dt)}, which is not a real floating point type.")
    return dt


def _name(dt):
    return str(dt).rsplit(".", 1)[-1]


def _matrices(a, b, op):
    """a, b as (..., M, K), (..., K, N) (1-d operands gain a unit dim) and whether each
    was a vector."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"[{op}] Got 0 dimension input. Inputs must have at least one "
                         f"dimension.")
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = mx.reshape(a, (1, a.shape[0]))
    if vb:
        b = mx.reshape(b, (b.shape[0], 1))
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"[{op}] Last dimension of first input with shape {_fmt(a.shape)} "
                         f"must match second to last dimension of second input with shape "
                         f"{_fmt(b.shape)}.")
    return a, b, va, vb


def _drop_vec(out, va, vb):
    if va and vb:
        return mx.reshape(out, out.shape[:-2])
    if va:
        return mx.squeeze(out, -2)
    if vb:
        return mx.squeeze(out, -1)
    return out


def _indices(x, op, what):
    x = mx.asarray(x)
    if not mx.issubdtype(x.dtype, mx.integer):
        raise ValueError(f"[{op}] Got {what} with invalid dtype. {what.capitalize()} must be "
                         f"integral.")
    return x


def gather_mm(a, b, /, lhs_indices=None, rhs_indices=None, *, sorted_indices=False,
              stream=None):
    """gather_mm(a: array, b: array, /, lhs_indices: array | None = None, rhs_indices: array | None = None, *, sorted_indices: bool = False, stream: StreamOrDevice = None) -> array

    Matrix products of the batch entries of a and b picked by the index arrays: out[i] =
    a[lhs_indices[i]] @ b[rhs_indices[i]] over the indices' broadcast shape."""
    with stream_scope(stream, "gather_mm"):
        a, b = mx.asarray(a), mx.asarray(b)
        a, b, va, vb = _matrices(a, b, "gather_mm")
        dt = _real_float(a, b, "gather_mm")
        ba, bb = a.shape[:-2], b.shape[:-2]
        na, nb = math.prod(ba), math.prod(bb)
        if lhs_indices is None:
            lhs = mx.reshape(mx.arange(na, dtype=mx.int64), ba)
        else:
            lhs = _indices(lhs_indices, "gather_mm", "indices")
        if rhs_indices is None:
            rhs = mx.reshape(mx.arange(nb, dtype=mx.int64), bb)
        else:
            rhs = _indices(rhs_indices, "gather_mm", "indices")
        shape = _broadcast(lhs.shape, rhs.shape)
        P = math.prod(shape)
        M, K, N = a.shape[-2], a.shape[-1], b.shape[-1]
        a3 = mx.reshape(a.astype(dt), (na, M, K))
        b3 = mx.reshape(b.astype(dt), (nb, K, N))
        lhs = mx.reshape(mx.broadcast_to(lhs.astype(mx.int64), shape), (P,))
        rhs = mx.reshape(mx.broadcast_to(rhs.astype(mx.int64), shape), (P,))
        out = gather_mm_node(a3, b3, lhs, rhs, bool(sorted_indices))
        return _drop_vec(mx.reshape(out, tuple(shape) + (M, N)), va, vb)


def _expand_mask(m, bs, rows, cols):
    """A block mask (..., R, C) as an element mask (..., rows, cols): each entry repeated
    over its bs x bs block, the last partial blocks cut to size."""
    R, C = m.shape[-2], m.shape[-1]
    lead = m.shape[:-2]
    m = mx.broadcast_to(mx.reshape(m, lead + (R, 1, C, 1)), lead + (R, bs, C, bs))
    m = mx.reshape(m, lead + (R * bs, C * bs))
    return m[..., :rows, :cols]


def _apply(x, m, dt):
    if m.dtype == mx.bool_:
        return mx.where(m, x, mx.zeros((), dt))
    return x * m.astype(dt)


def block_masked_mm(a, b, /, block_size=64, mask_out=None, mask_lhs=None, mask_rhs=None, *,
                    stream=None):
    """block_masked_mm(a: array, b: array, /, block_size: int = 64, mask_out: array | None = None, mask_lhs: array | None = None, mask_rhs: array | None = None, *, stream: StreamOrDevice = None) -> array

    a @ b with block masks: mask_lhs (..., ceil(M/bs), ceil(K/bs)) on a, mask_rhs
    (..., ceil(K/bs), ceil(N/bs)) on b and mask_out (..., ceil(M/bs), ceil(N/bs)) on the
    product; boolean masks zero blocks out, float masks scale them."""
    with stream_scope(stream, "block_masked_mm"):
        a, b = mx.asarray(a), mx.asarray(b)
        a, b, va, vb = _matrices(a, b, "block_masked_mm")
        dt = mx.promote_types(a.dtype, b.dtype)
        if not mx.issubdtype(dt, mx.inexact):
            raise ValueError(f"[block_masked_mm] Only inexact types are supported but "
                             f"{_name(a.dtype)} and {_name(b.dtype)} were provided which results "
                             f"in {_name(dt)}, which is not a floating point type.")
        bs = int(block_size)
        if (mask_out is not None or mask_lhs is not None or mask_rhs is not None) and \
                bs not in (32, 64):
            # MLX's rule (its kernels' tile sizes); without masks this is a plain matmul.
            raise ValueError(f"[block_masked_mm] Only block_sizes 32, 64 are supported.Got block "
                             f"size {bs}.")
        M, K, N = a.shape[-2], a.shape[-1], b.shape[-1]
        tm, tk, tn = -(-M // bs), -(-K // bs), -(-N // bs)
        a = a.astype(dt)
        b = b.astype(dt)
        masks = []
        for m, want in ((mask_out, (tm, tn)), (mask_lhs, (tm, tk)), (mask_rhs, (tk, tn))):
            if m is not None:
                m = mx.asarray(m)
                if m.ndim < 2:
                    m = mx.broadcast_to(m, want)
                _broadcast(m.shape[-2:], want)
                if tuple(m.shape[-2:]) != want:
                    m = mx.broadcast_to(m, m.shape[:-2] + want)
            masks.append(m)
        if masks[1] is not None:
            a = _apply(a, _expand_mask(masks[1], bs, M, K), dt)
        if masks[2] is not None:
            b = _apply(b, _expand_mask(masks[2], bs, K, N), dt)
        out = mx.matmul(a, b)
        if masks[0] is not None:
            out = _apply(out, _expand_mask(masks[0], bs, M, N), dt)
        return _drop_vec(out, va, vb)


def segmented_mm(a, b, /, segments, *, stream=None):
    """segmented_mm(a: array, b: array, /, segments: array, *, stream: StreamOrDevice = None) -> array

    For each [start, end) pair on the last axis of segments, a[:, start:end] @
    b[start:end, :]; the result has shape segments.shape[:-1] + (M, N)."""
    with stream_scope(stream, "segmented_mm"):
        a, b = mx.asarray(a), mx.asarray(b)
        if a.ndim != 2 or b.ndim != 2:
            raise ValueError("[segmented_mm] Batched matmul not supported")
        # MLX's order: the dtypes, the segments' shape, their dtype (then the inner sizes,
        # which MLX leaves unchecked).
        dt = _real_float(a, b, "segmented_mm")
        seg = mx.asarray(segments)
        if seg.ndim == 0 or seg.shape[-1] != 2:
            raise ValueError(f"[segmented_mm] The segments should have shape (..., 2) but "
                             f"{_fmt(seg.shape)} was provided.")
        seg = _indices(seg, "segmented_mm", "segments")
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"[segmented_mm] Last dimension of first input with shape "
                             f"{_fmt(a.shape)} must match second to last dimension of second "
                             f"input with shape {_fmt(b.shape)}.")
        lead = seg.shape[:-1]
        S = math.prod(lead)
        seg2 = mx.reshape(seg.astype(mx.int64), (S, 2))
        out = segmented_mm_node(a.astype(dt), b.astype(dt), seg2)
        return mx.reshape(out, tuple(lead) + out.shape[1:])
