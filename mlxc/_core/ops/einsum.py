"""einsum and einsum_path.

Parsing follows MLX: spaces are ignored, subscripts are ASCII letters, one ellipsis per
operand (its dims broadcast right-aligned and lead the implicit output), a subscript's
sizes broadcast where one of them is 1, repeated subscripts in an operand take its
diagonal.  The contraction order is MLX's greedy path (the path einsum_path reports):
pairs that share a subscript first, the pair whose result shrinks the working set most
(ties: fewer flops), results no larger than the largest operand or the output.

Each step runs on existing ops, so every transform comes from theirs: a pair with
contracted subscripts is one (batched) matmul of views - batch dims stay separate dims
of the GEMM, so only the free/contracted groups may need a reshape - and a pair without
(outer, Hadamard) or an integer pair is a broadcast multiply; a single operand is
diagonal/sum/transpose.  The ops of a call are recorded; a later call with the same
subscripts, shapes and dtypes replays them (the parsing and planning cost is paid once).
"""
import math

import mlxc.core as mx
from mlxc._core.ops.common import stream_scope

__all__ = ["einsum", "einsum_path"]

_ELL = 0x100      # ellipsis dims are the characters chr(_ELL + k), k counted from the right


def _parse(subscripts, operands, op):
    """(input subscripts as lists of chars, output list, size of each char, the raw
    subscripts).  Checks everything MLX checks, with MLX's messages."""
    if not isinstance(subscripts, str):
        raise TypeError(f"[{op}] subscripts must be a str, got {type(subscripts).__name__}.")
    if len(operands) == 0:
        raise ValueError(f"[{op}] At least one operand is required.")
    s = subscripts.replace(" ", "")
    lhs, arrow, rhs = s.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"[{op}] Number of operands, {len(operands)}, does not match number "
                         f"of input subscripts, {len(terms)}")
    # MLX's order: the text first (letters, ellipses, the output's repeats), then the
    # operands' ranks, then their sizes.
    parts = [_split_ellipsis(t, op) for t in terms]
    out_part = _split_ellipsis(rhs, op) if arrow else None
    if out_part is not None:
        letters = out_part[0] + out_part[2]
        if len(set(letters)) != len(letters):
            raise ValueError(f"[{op}] Repeat indices not allowed in output.")
    ins = []
    n_ell = 0
    for i, ((pre, ell, post), x) in enumerate(zip(parts, operands)):
        nl = len(pre) + len(post)
        if (not ell and nl != x.ndim) or (ell and nl > x.ndim):
            raise ValueError(f"[{op}] Invalid number of subscripts {nl} for input {i} with "
                             f"{x.ndim} dimensions.")
        k = x.ndim - nl if ell else 0
        n_ell = max(n_ell, k)
        ins.append(list(pre) + [chr(_ELL + j) for j in range(k - 1, -1, -1)] + list(post))
    sizes = {}
    for i, (t, x) in enumerate(zip(ins, operands)):
        own = {}
        for c, d in zip(t, x.shape):
            if c in own and own[c] != d:
                raise ValueError(f"[{op}] Dimensions of repeated subscripts do not have the "
                                 f"same size ({own[c]} != {d}).")
            own[c] = d
    for i, (t, x) in enumerate(zip(ins, operands)):
        for ax, (c, d) in enumerate(zip(t, x.shape)):
            n = sizes.get(c, 1)
            if d != 1 and n != 1 and d != n:
                raise ValueError(f"[{op}] Cannot broadcast dimension {ax} of input {i} with "
                                 f"shape {_fmt(x.shape)} to size {n}.")
            sizes[c] = max(n, d) if d != 1 and n != 1 else (d if n == 1 else n)
    ell_chars = [chr(_ELL + j) for j in range(n_ell - 1, -1, -1)]
    if arrow:
        pre, ell, post = out_part
        out = list(pre) + (ell_chars if ell else []) + list(post)
        for c in out:
            if c not in sizes:
                raise ValueError(f"[{op}] Output subscript '{c}' does not appear in the input "
                                 f"subscripts.")
    else:
        # Implicit output: the ellipsis dims, then the letters seen once, sorted.
        count = {}
        for t in ins:
            for c in t:
                count[c] = count.get(c, 0) + 1
        out = ell_chars + sorted(c for c, k in count.items() if k == 1 and ord(c) < _ELL)
    return ins, out, sizes


def _split_ellipsis(t, op):
    """A term's letters before and after its ellipsis, and whether it has one."""
    if t.count("...") > 1:
        raise ValueError(f"[{op}] Only one ellipsis per subscript is allowed but found more "
                         f"in '{t}'.")
    pre, ell, post = t.partition("...")
    for c in pre + post:
        if not (c.isascii() and c.isalpha()):
            raise ValueError(f"[{op}] Subscripts must be letters, but got '{c}'.")
    return pre, bool(ell), post


def _fmt(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def _size(sizes, chars):
    return math.prod(sizes[c] for c in chars)


def _flops(sizes, chars, removed, nterms):
    """MLX's (and numpy's) flop estimate of one contraction of nterms operands."""
    return _size(sizes, chars) * (max(1, nterms - 1) + (1 if removed else 0))


def _greedy_path(ins, out, sizes):
    """[(positions, result chars, flops, number of chars)] - the result of each step is
    appended to the operand list, the step's operands are removed."""
    sets = [set(t) for t in ins]
    outs = set(out)
    limit = max([_size(sizes, s) for s in sets] + [_size(sizes, outs)])
    n = len(sets)
    if n <= 2:
        u = set().union(*sets)
        return [(tuple(range(n)), outs, _flops(sizes, u, u - outs, n), len(u))]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    cands, path = [], []

    def candidate(p, q):
        others = set(outs)
        for k, s in enumerate(sets):
            if k != p and k != q:
                others |= s
        u = sets[p] | sets[q]
        keep = u & others
        new = _size(sizes, keep)
        if new > limit:
            return None
        return [new - _size(sizes, sets[p]) - _size(sizes, sets[q]),
                _flops(sizes, u, u - keep, 2), keep, p, q, len(u)]

    while len(sets) > 1:
        for outer in (False, True):
            for p, q in pairs:
                if outer or not sets[p].isdisjoint(sets[q]):
                    c = candidate(p, q)
                    if c is not None:
                        cands.append(c)
            if cands:
                break
        if not cands:
            # Nothing fits the size limit: the rest in one step.
            u = set().union(*sets)
            path.append((tuple(range(len(sets))), outs, _flops(sizes, u, u - outs, len(sets)),
                         len(u)))
            break
        best = min(cands, key=lambda c: (c[0], c[1]))       # the first of equals
        x, y = best[3], best[4]
        path.append(((x, y), best[2], best[1], best[5]))
        kept = []
        for c in cands:
            if c[3] in (x, y) or c[4] in (x, y):
                continue
            c[3] -= (c[3] > x) + (c[3] > y)
            c[4] -= (c[4] > x) + (c[4] > y)
            kept.append(c)
        cands = kept
        sets = [s for k, s in enumerate(sets) if k != x and k != y] + [best[2]]
        pairs = [(i, len(sets) - 1) for i in range(len(sets) - 1)]
    return path


def _plan(subscripts, operands, op):
    """Parse and path, cached by subscripts and shapes."""
    key = (subscripts, tuple(x.shape for x in operands))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    ins, out, sizes = _parse(subscripts, operands, op)
    path = _greedy_path(ins, out, sizes)
    if len(_CACHE) >= 256:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = res = (ins, out, sizes, path)
    return res


_CACHE = {}


def einsum_path(subscripts, *operands):
    """einsum_path(subscripts: str, *operands) -> tuple[list[tuple[int, ...]], str]

    The contraction order einsum uses, and MLX's report of its cost."""
    operands = [mx.asarray(x) for x in operands]
    ins, out, sizes, path = _plan(subscripts, operands, "einsum_path")
    u = set().union(*[set(t) for t in ins])
    naive = _flops(sizes, u, u - set(out), len(ins))
    report = (f"  Complete contraction:  {subscripts}\n"
              f"         Naive scaling:  {len(u)}\n"
              f"     Optimized scaling:  {max(p[3] for p in path)}\n"
              f"      Naive FLOP count:  {naive}\n"
              f"  Optimized FLOP count:  {sum(p[2] for p in path)}\n")
    return [p[0] for p in path], report


def einsum(subscripts, *operands, stream=None):
    """einsum(subscripts: str, *operands, stream: StreamOrDevice = None) -> array

    Einstein summation over the operands' subscripts."""
    with stream_scope(stream, "einsum"):
        operands = [mx.asarray(x) for x in operands]
        # The pattern of repeated operand objects is part of the key: a program recorded with
        # one array passed twice reads it from one slot.
        ids = [id(x) for x in operands]
        key = (subscripts, tuple(x.shape for x in operands), tuple(x.dtype for x in operands),
               tuple(ids.index(i) for i in ids))
        prog = _PROGRAMS.get(key)
        if prog is not None:
            return _replay(prog, operands)
        ins, out, sizes, path = _plan(subscripts, operands, "einsum")
        rec = _Recorder(operands)
        terms = [(x, list(t)) for x, t in zip(operands, ins)]
        for i, (pos, keep, _, _) in enumerate(path):
            last = i == len(path) - 1
            want = out if last else [c for c in _union([terms[p][1] for p in pos]) if c in keep]
            group = [terms[p] for p in pos]
            terms = [t for k, t in enumerate(terms) if k not in pos]
            if len(group) == 2:
                res = _pair(rec, group[0], group[1], set(want))
            else:
                res = _many(rec, group, set(want))
            terms.append(res)
        x, t = terms[0]
        res = _finish(rec, x, t, out)
        prog = rec.program(res)
        if prog is not None:
            if len(_PROGRAMS) >= 256:
                _PROGRAMS.pop(next(iter(_PROGRAMS)))
            _PROGRAMS[key] = prog
        return res


_PROGRAMS = {}


class _Slot:
    """An array argument of a recorded op: the k-th value (operands first, then each
    op's result in order)."""
    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


class _Recorder:
    """Runs the executor's ops and writes each call down, so the next einsum with the
    same subscripts, shapes and dtypes replays the calls without re-deriving them."""

    def __init__(self, operands):
        self.values = list(operands)            # kept alive: their ids stay unique
        self.slot = {}
        for k, x in enumerate(operands):
            self.slot.setdefault(id(x), k)
        self.ok = True
        self.steps = []

    def __call__(self, fn, *args):
        spec = []
        for a in args:
            if isinstance(a, mx.array):
                k = self.slot.get(id(a))
                if k is None:
                    self.ok = False
                spec.append(_Slot(k))
            else:
                spec.append(a)
        out = fn(*args)
        self.steps.append((fn, tuple(spec)))
        self.slot[id(out)] = len(self.values)
        self.values.append(out)
        return out

    def program(self, result):
        k = self.slot.get(id(result))
        if not self.ok or k is None:
            return None
        return (tuple(self.steps), k)


def _replay(prog, operands):
    steps, final = prog
    vals = operands
    for fn, spec in steps:
        vals.append(fn(*[vals[a.k] if type(a) is _Slot else a for a in spec]))
    return vals[final]


def _union(lists):
    """The chars of the lists in order of first appearance."""
    seen, res = set(), []
    for t in lists:
        for c in t:
            if c not in seen:
                seen.add(c)
                res.append(c)
    return res


def _prep(rec, x, t, need):
    """x's repeated subscripts reduced to their diagonal, and the subscripts not in need
    summed away: (x, its subscripts, each distinct)."""
    while len(set(t)) != len(t):
        for i, c in enumerate(t):
            j = t.index(c, i + 1) if c in t[i + 1:] else -1
            if j >= 0:
                x = rec(mx.diagonal, x, 0, i, j)     # the diagonal becomes the last axis
                t = [d for k, d in enumerate(t) if k != i and k != j] + [c]
                break
    drop = [i for i, c in enumerate(t) if c not in need]
    if drop:
        x = rec(mx.sum, x, drop)
        t = [c for c in t if c in need]
    return x, t


def _arrange(rec, x, t, order):
    """x transposed (a view) so its subscripts follow order (a permutation of t)."""
    if t == order:
        return x
    return rec(mx.transpose, x, [t.index(c) for c in order])


def _pair(rec, a, b, want):
    """Contract two operands into the subscripts want (a set); the result's order is
    (batch, a's free, b's free)."""
    x, ta = a
    y, tb = b
    x, ta = _prep(rec, x, ta, want | set(tb))
    y, tb = _prep(rec, y, tb, want | set(ta))
    # A contracted subscript of size 1 on one side only: that side's factor is constant
    # along it, so the other side sums over it first.
    for c in [c for c in ta if c in tb and c not in want]:
        dx, dy = x.shape[ta.index(c)], y.shape[tb.index(c)]
        if dx != dy:
            if dx == 1:
                x, ta = rec(mx.squeeze, x, ta.index(c)), [d for d in ta if d != c]
                y, tb = rec(mx.sum, y, tb.index(c)), [d for d in tb if d != c]
            else:
                y, tb = rec(mx.squeeze, y, tb.index(c)), [d for d in tb if d != c]
                x, ta = rec(mx.sum, x, ta.index(c)), [d for d in ta if d != c]
    sb = set(tb)
    sa = set(ta)
    batch = [c for c in ta if c in sb and c in want]
    con = [c for c in ta if c in sb and c not in want]
    left = [c for c in ta if c not in sb]
    right = [c for c in tb if c not in sa]
    if not con or not (_inexact(x.dtype) or _inexact(y.dtype)):
        # Outer/Hadamard products, and integers (the GEMM is floating point only):
        # a broadcast multiply, then the contracted subscripts summed.
        full = batch + left + right + con
        z = rec(mx.multiply, _expand(rec, x, ta, full), _expand(rec, y, tb, full))
        if con:
            z = rec(mx.sum, z, list(range(z.ndim - len(con), z.ndim)))
        return z, batch + left + right
    xs = [x.shape[ta.index(c)] for c in batch]
    ys = [y.shape[tb.index(c)] for c in batch]
    lsh = tuple(x.shape[ta.index(c)] for c in left)
    rsh = tuple(y.shape[tb.index(c)] for c in right)
    K = math.prod(x.shape[ta.index(c)] for c in con)
    xa = _arrange(rec, x, ta, batch + left + con)
    ya = _arrange(rec, y, tb, batch + con + right)
    if len(left) != 1 or len(con) != 1:
        xa = rec(mx.reshape, xa, tuple(xs) + (math.prod(lsh), K))
    if len(right) != 1 or len(con) != 1:
        ya = rec(mx.reshape, ya, tuple(ys) + (K, math.prod(rsh)))
    z = rec(mx.matmul, xa, ya)
    bsh = tuple(max(p, q) if p != 1 else q for p, q in zip(xs, ys))
    if len(left) != 1 or len(right) != 1:
        z = rec(mx.reshape, z, bsh + lsh + rsh)
    return z, batch + left + right


def _expand(rec, x, t, full):
    """x (subscripts t, a subset of full) as a view over full's order, size 1 where absent."""
    order = [c for c in full if c in t]
    x = _arrange(rec, x, t, order)
    return rec(mx.reshape, x, tuple(x.shape[order.index(c)] if c in t else 1 for c in full))


def _inexact(dt):
    return mx.issubdtype(dt, mx.inexact)


def _many(rec, group, want):
    """One operand (diagonal, sum, nothing else), or several that the size limit kept
    apart: a broadcast product of all, then the sum."""
    if len(group) == 1:
        x, t = group[0]
        return _prep(rec, x, t, want)
    allc = _union([t for _, t in group])
    prod = None
    for x, t in group:
        x, t = _prep(rec, x, t, want | _others(group, t))
        z = _expand(rec, x, t, allc)
        prod = z if prod is None else rec(mx.multiply, prod, z)
    drop = [i for i, c in enumerate(allc) if c not in want]
    if drop:
        prod = rec(mx.sum, prod, drop)
    return prod, [c for c in allc if c in want]


def _others(group, t):
    """The chars of the group's other operands."""
    res = set()
    for _, u in group:
        if u is not t:
            res |= set(u)
    return res


def _finish(rec, x, t, out):
    """The last operand in the output's order (its chars are exactly out's, or a
    superset when a single operand still needs its diagonal/sum)."""
    if sorted(t) != sorted(out) or len(set(t)) != len(t):
        x, t = _prep(rec, x, t, set(out))
    return _arrange(rec, x, t, out)
