"""Output shapes of a replayed node when a shapeless import gets new input shapes.

Each rule takes the primitive, the new input shapes, and the input and output shapes the
node had when it was traced, and returns the new output shapes.  A node whose input
shapes did not change keeps its traced output shapes (the caller checks that first); a
primitive with no rule here can only be replayed that way, as in MLX, where such a
primitive "cannot infer output shapes".
"""
from math import prod


def _cannot(prim):
    raise ValueError(f"[Primitive::output_shapes] {prim.name()} cannot infer output shapes.")


def _broadcast(shapes):
    nd = max(len(s) for s in shapes)
    out = []
    for i in range(nd):
        d = 1
        for s in shapes:
            k = i - (nd - len(s))
            if k < 0 or s[k] == 1:
                continue
            if d != 1 and s[k] != d:
                raise ValueError("[broadcast_shapes] Shapes " + " and ".join(
                    "(" + ",".join(str(x) for x in s) + ")" for s in shapes) +
                    " cannot be broadcast.")
            d = s[k]
        out.append(d)
    return tuple(out)


def broadcast_shapes(shapes):
    return _broadcast([tuple(s) for s in shapes])


def weak_shape(s, r, o):
    """The shape a Broadcast (traced r -> o) of a new input s demands of its readers: the
    dims it took from the input, 1 where it repeated the input."""
    lead = len(o) - len(r)
    return (1,) * lead + tuple(s[i] if r[i] == o[lead + i] else 1 for i in range(len(r)))


def _elementwise(prim, ins, rec_ins, rec_outs):
    return [_broadcast(ins)] * len(rec_outs)


def _same_as_first(prim, ins, rec_ins, rec_outs):
    return [tuple(ins[0])] * len(rec_outs)


def _broadcast_to(prim, ins, rec_ins, rec_outs):
    # Broadcast, and Copy (a cast, or full/zeros materializing a value at a shape).
    # Output dims that came from the input follow it; dims the input was repeated along
    # (it had 1 or no dim there) keep their traced size.
    (s,), (r,), (o,) = ins, rec_ins, rec_outs
    out = list(o)
    lead = len(o) - len(r)
    for i in range(len(r)):
        if r[i] == o[lead + i]:
            out[lead + i] = s[i]
    return [_broadcast([s, tuple(out)])]


def _reshape(prim, ins, rec_ins, rec_outs):
    # A reshape given a -1 infers it again.  Otherwise pair runs of input dims with runs
    # of output dims of equal product (the traced reshape) and let each run follow its
    # input: a merged run (flatten, keepdims, expand/squeeze) takes the product of its new
    # dims; a split run whose input changed is ambiguous unless it has one dim other than 1.
    (s,), (r,), (o,) = ins, rec_ins, rec_outs
    if prim.spec is not None:                # the user's shape had a -1: infer it again
        size, known = prod(s), prod(d for d in prim.spec if d != -1)
        if known == 0 or size % known:
            raise ValueError(f"[reshape] Cannot reshape array of size {size} into shape "
                             f"{tuple(prim.spec)}.")
        return [tuple(size // known if d == -1 else d for d in prim.spec)]
    out = []
    i = j = 0
    while i < len(r) or j < len(o):
        i0, j0 = i, j
        pi = pj = 1
        if i < len(r):
            pi *= r[i]
            i += 1
        if j < len(o):
            pj *= o[j]
            j += 1
        while pi != pj or (i < len(r) and r[i] == 1 and (j >= len(o) or o[j] != 1)) \
                or (j < len(o) and o[j] == 1 and (i >= len(r) or r[i] != 1)):
            if (pi <= pj or j >= len(o)) and i < len(r):
                pi *= r[i]
                i += 1
            elif j < len(o):
                pj *= o[j]
                j += 1
            else:
                _cannot(prim)
        new_in = prod(s[i0:i])
        group = list(o[j0:j])
        if new_in != pi:
            # Only a run with one dim other than 1 can follow its input unambiguously.
            big = [k for k, d in enumerate(group) if d != 1]
            if len(big) != 1:
                _cannot(prim)
            group[big[0]] = new_in
        out.extend(group)
    return [tuple(out)]


def _transpose(prim, ins, rec_ins, rec_outs):
    return [tuple(ins[0][p] for p in prim.perm)]


def _slice(prim, ins, rec_ins, rec_outs):
    # Only dims the slice left whole may change.
    (s,), (r,), (o,) = ins, rec_ins, rec_outs
    out = list(o)
    for k in range(len(s)):
        if s[k] != r[k]:
            if prim.start[k] != 0 or prim.step[k] != 1 or o[k] != r[k]:
                _cannot(prim)
            out[k] = s[k]
    return [tuple(out)]


def _reduce(prim, ins, rec_ins, rec_outs):
    return [tuple(d for k, d in enumerate(ins[0]) if k not in prim.axes)]


def _arg_reduce(prim, ins, rec_ins, rec_outs):
    return [tuple(d for k, d in enumerate(ins[0]) if k != prim.axis)]


def _matmul(prim, ins, rec_ins, rec_outs):
    a, b = ins[0], ins[1]
    if a[-1] != b[-2]:
        raise ValueError(f"[matmul] Last dimension of first input with shape {a} must match "
                         f"second to last dimension of second input with shape {b}.")
    # The ops broadcast batch dims (and AddMM's c) beforehand; the kernel relies on it.
    out = tuple(a[:-2]) + (a[-2], b[-1])
    if len(a) < 2 or len(b) != len(a) or tuple(b[:-2]) != tuple(a[:-2]) or \
            (len(ins) == 3 and tuple(ins[2]) != out):
        _cannot(prim)
    return [out]


def _concatenate(prim, ins, rec_ins, rec_outs):
    ax = prim.axis
    out = list(ins[0])
    for s in ins[1:]:
        if len(s) != len(out) or any(s[k] != out[k] for k in range(len(s)) if k != ax):
            raise ValueError(f"[concatenate] All the input array dimensions must match exactly "
                             f"except for the concatenation axis, got {ins}.")
    out[ax] = sum(s[ax] for s in ins)
    return [tuple(out)]


def _gather(prim, ins, rec_ins, rec_outs):
    # The linear index addresses the block's traced layout: the block must not change.
    src, idx = ins[0], ins[1]
    blk = slice(prim.axis, prim.axis + prim.naxes)
    if tuple(src[blk]) != tuple(rec_ins[0][blk]):
        _cannot(prim)
    return [tuple(src[:prim.axis]) + tuple(idx) + tuple(src[prim.axis + prim.naxes:])]


def _take_along(prim, ins, rec_ins, rec_outs):
    # The op broadcast source and indices against each other (but along the axis): the
    # kernel relies on that.
    src, idx = ins[0], ins[1]
    if len(src) != len(idx) or any(src[k] != idx[k] for k in range(len(src))
                                   if k != prim.axis):
        _cannot(prim)
    return [tuple(idx)]


RULES = {
    "Unary": _elementwise, "Binary": _elementwise, "Select": _elementwise,
    "Copy": _broadcast_to, "PassThrough": _same_as_first, "StopGradient": _same_as_first,
    "Identity": _same_as_first, "Scan": _same_as_first, "Sort": _same_as_first,
    "ArgSort": _same_as_first,
    "Broadcast": _broadcast_to, "Reshape": _reshape, "Transpose": _transpose,
    "Slice": _slice, "Reduce": _reduce, "ArgReduce": _arg_reduce, "Matmul": _matmul,
    "AddMM": _matmul, "Concatenate": _concatenate, "Gather": _gather,
    "TakeAlong": _take_along,
}


def output_shapes(prim, ins, rec_ins, rec_outs):
    """The node's output shapes for input shapes ins (traced: rec_ins -> rec_outs)."""
    ins = [tuple(s) for s in ins]
    if ins == [tuple(s) for s in rec_ins]:
        return [tuple(s) for s in rec_outs]
    if any(len(a) != len(b) for a, b in zip(ins, rec_ins)):
        _cannot(prim)
    rule = RULES.get(type(prim).__name__)
    if rule is None:
        _cannot(prim)
    return rule(prim, ins, rec_ins, rec_outs)


# Rules that derive every output dim from the inputs and the primitive's parameters (the
# others keep traced dims, so they cannot check a node against itself).
_DERIVING = {"Unary", "Binary", "Select", "PassThrough", "StopGradient", "Identity",
             "Scan", "Sort", "ArgSort", "Transpose", "Reduce", "ArgReduce", "Matmul",
             "AddMM", "Concatenate", "Gather", "TakeAlong"}


def _in_range(v, n):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n


def _strided_ok(ins_dims, out_dims, start, step):
    """A static strided region (start/step per dim, out_dims long) lies inside ins_dims."""
    if not (len(start) == len(step) == len(ins_dims) == len(out_dims)):
        return False
    for n, d, b, k in zip(ins_dims, out_dims, start, step):
        if d == 0:
            continue
        if not (isinstance(b, int) and isinstance(k, int) and k != 0):
            return False
        if not (_in_range(b, n) and _in_range(b + (d - 1) * k, n)):
            return False
    return True


def _params_ok(prim, ins, outs):
    """The primitive's axes, offsets and strides fit the shapes it is given (a kernel
    trusts them)."""
    name = type(prim).__name__
    nd = len(ins[0]) if ins else 0
    for attr in ("axis", "axis1", "axis2"):
        v = getattr(prim, attr, None)
        if v is not None and not _in_range(v, nd):
            return False
    if name in ("Gather", "Scatter"):
        if not (isinstance(prim.naxes, int) and 0 <= prim.naxes and
                prim.axis + prim.naxes <= nd):
            return False
    if name == "Diagonal" and prim.axis1 == prim.axis2:
        return False
    if name == "Reduce" and not all(_in_range(a, nd) for a in prim.axes):
        return False
    if name == "Transpose" and sorted(prim.perm) != list(range(nd)):
        return False
    if name in ("DynamicSlice", "SliceUpdate") and prim.dyn_axes is not None and \
            not all(_in_range(a, nd) for a in prim.dyn_axes):
        return False
    if name == "Slice" and not _strided_ok(ins[0], outs[0], prim.start, prim.step):
        return False
    if name == "SliceUpdate" and prim.start is not None and (
            len(ins) < 2 or tuple(outs[0]) != tuple(ins[0]) or
            not _strided_ok(ins[0], ins[1], prim.start, prim.step)):
        return False
    if name == "AsStrided":
        out, st = outs[0], prim.strides
        if len(st) != len(out) or not all(isinstance(k, int) for k in st):
            return False
        if prod(out) > 0:
            hi = prim.offset + sum((d - 1) * k for d, k in zip(out, st) if k > 0)
            lo = prim.offset + sum((d - 1) * k for d, k in zip(out, st) if k < 0)
            if lo < 0 or hi >= prod(ins[0]):
                return False
    if name in ("Broadcast", "Copy") and _broadcast([ins[0], outs[0]]) != tuple(outs[0]):
        return False
    if name == "Reshape" and prod(ins[0]) != prod(outs[0]):
        return False
    return True


def consistent(prim, in_shapes, out_shapes):
    """Whether a node read from a file fits its inputs: parameters within their shapes, and
    the output shapes they give where the primitive's rule derives them."""
    in_shapes = [tuple(s) for s in in_shapes]
    out_shapes = [tuple(s) for s in out_shapes]
    try:
        if not _params_ok(prim, in_shapes, out_shapes):
            return False
        name = type(prim).__name__
        if name not in _DERIVING:
            return True
        want = RULES[name](prim, in_shapes, in_shapes, out_shapes)
    except Exception:
        return False
    return [tuple(s) for s in want] == out_shapes
