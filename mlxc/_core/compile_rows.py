"""Row programs for mx.compile: reductions over trailing axes fused with the elementwise
work around them (a hand-written softmax, layer norm, logsumexp, mse) into one
Compiled node that runs kernels/fused.c's mlxc_fused_rows block of rows by block of
rows, reading its inputs once and writing only what leaves the group.

A group has one domain: the input shape S of its reductions, all over the trailing axes
S[a0:] (L = their product elements per row).  Every value in it has a level (mlxc_fused.h):
FULL (shape S), ROW (S[:a0], or with the reduced axes kept as 1s), COL (S[a0:] aligned at
the right: a broadcast weight), SCALAR (one element).  A step joins when its output and
each operand have a level, each operand as the step reads it (numpy broadcasting) agrees
with the level of the value, and the group stays convex (no path leaves it and comes
back), so groups can be ordered.  Values read outside the group become its outputs.
Results are bit-identical to the unfused graph: the same elementwise row kernels (or
chains doing the same IEEE ops in registers), and each row reduced in mlxc_reduce's
order over a contiguous block, as the unfused Reduce sees its contiguous elementwise
input.
"""
from mlxc._core import compile_graph as _cg
from mlxc._core.prims import compiled as _compiled
from mlxc._core.prims.reduce import Reduce
from mlxc._core.prims.views import Reshape

SCALAR, ROW, COL, FULL = (_compiled.FL_SCALAR, _compiled.FL_ROW, _compiled.FL_COL,
                          _compiled.FL_FULL)


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


class _Domain:
    def __init__(self, shape, a0):
        self.S = shape
        self.a0 = a0
        self.nd = len(shape)
        self.rows = shape[:a0]
        self.keep = shape[:a0] + (1,) * (self.nd - a0)
        self.nrows = _size(self.rows)

    def _padded(self, shape):
        k = self.nd - len(shape)
        return None if k < 0 else (1,) * k + tuple(shape)

    def level(self, shape):
        """The level of a value of this shape, or None."""
        if shape == self.S:
            return FULL
        if _size(shape) == 1:
            return SCALAR
        if shape == self.rows or shape == self.keep:
            return ROW
        p = self._padded(shape)
        if p is not None and all(d == 1 for d in p[:self.a0]) and p[self.a0:] == self.S[self.a0:]:
            return COL
        return None

    def operand(self, shape, out_shape, out_level):
        """The level of an operand of this shape read by a step making out_shape."""
        if _size(shape) == 1:
            return SCALAR
        if shape == out_shape:
            return out_level
        if out_level != FULL:
            return None
        p = self._padded(shape)
        if p is None:
            return None
        a0 = self.a0
        if p[:a0] == self.S[:a0] and all(d == 1 for d in p[a0:]):
            return ROW
        if all(d == 1 for d in p[:a0]) and p[a0:] == self.S[a0:]:
            return COL
        return None

    def agree(self, a, b):
        """Two levels of one value agree (one row makes ROW and SCALAR the same)."""
        return a == b or (self.nrows == 1 and {a, b} <= {SCALAR, ROW})


def _analyse(st, dom, dtype_of):
    """(what, out level, operand levels, instr) of a step in dom, or None.  what: "move"
    (a register alias), "reduce" or "instr"."""
    if len(st.dtypes) != 1:
        return None
    prim = st.prim
    if type(prim) is Reduce:
        if st.in_shapes[0] != dom.S or prim.axes != tuple(range(dom.a0, dom.nd)):
            return None
        return ("reduce", ROW, [FULL],
                (_compiled.FK_REDUCE, prim.op, dtype_of.get(st.refs[0])))
    if type(prim) is Reshape:
        ok = (st.in_shapes[0] in (dom.rows, dom.keep) and st.shapes[0] in (dom.rows, dom.keep)
              and dtype_of.get(st.refs[0]) == st.dtypes[0])
        return ("move", ROW, [ROW], None) if ok else None
    ins = _cg.fusable(st, dtype_of)
    if ins is None:
        return None
    out = dom.level(st.shapes[0])
    if out is None:
        return None
    uses = [dom.operand(s, st.shapes[0], out) for s in st.in_shapes]
    if any(u is None for u in uses):
        return None
    if ins == "move":
        return ("move", out, uses, None)
    return ("instr", out, uses, ins)


def fuse_rows(items, out_refs, dtype_of):
    """items (Step, output ids) in order -> items with row groups fused (reordered
    topologically where groups moved)."""
    n = len(items)
    reduces = [i for i in range(n) if type(items[i][0].prim) is Reduce]
    if not reduces:
        return items
    producer, readers = {}, {}
    for i, (st, outs) in enumerate(items):
        for o in outs:
            producer[o] = i
        for r in st.refs:
            readers.setdefault(r, []).append(i)
    outset = set(out_refs)
    taken = [False] * n
    groups = []
    for root in reversed(reduces):
        if taken[root]:
            continue
        g = _grow(items, root, producer, readers, taken, dtype_of)
        if g is not None:
            groups.append(g)
            for m in g[0]:
                taken[m] = True
    if not groups:
        return items
    fused = [_row_step(items, g, readers, outset, dtype_of) for g in groups]
    return _reorder(items, groups, fused, producer)


def _grow(items, root, producer, readers, taken, dtype_of):
    st = items[root][0]
    shape = tuple(st.in_shapes[0])
    axes = st.prim.axes
    if not axes or axes != tuple(range(axes[0], len(shape))):
        return None
    dom = _Domain(shape, axes[0])
    L = _size(shape[dom.a0:])
    if L < 2 or L > _compiled.ROW_MAX or _size(shape) == 0:
        return None
    info = {}
    a = _analyse(st, dom, dtype_of)
    if a is None:
        return None
    info[root] = a
    members = {root}
    ext_use = {}                      # value -> level, for values made outside the group
    for r, u in zip(st.refs, a[2]):
        ext_use[r] = u
    frontier = [root]
    while frontier:
        j = frontier.pop()
        sj = items[j][0]
        near = [producer[r] for r in sj.refs if r in producer]
        for o in items[j][1]:
            near.extend(readers.get(o, ()))
        for c in near:
            if c in members or taken[c]:
                continue
            ac = _analyse(items[c][0], dom, dtype_of)
            if ac is None or not _agrees(items, c, ac, members, info, ext_use, dom):
                continue
            members.add(c)
            if not _convex(items, members, producer):
                members.discard(c)
                continue
            info[c] = ac
            _record(items, c, ac, members, ext_use)
            frontier.append(c)
    if not any(info[m][0] == "instr" and info[m][1] == FULL for m in members):
        return None
    return (sorted(members), info, dom, ext_use)


def _agrees(items, c, ac, members, info, ext_use, dom):
    """Step c's view of its operands and the members' view of c's output agree."""
    st = items[c][0]
    out = items[c][1][0]
    for r, u in zip(st.refs, ac[2]):
        lv = ext_use.get(r)
        if lv is None:
            for m in members:          # a member's output
                if r in items[m][1]:
                    lv = info[m][1]
                    break
        if lv is not None and not dom.agree(u, lv):
            return False
    if out in ext_use and not dom.agree(ext_use[out], ac[1]):
        return False
    return True


def _record(items, c, ac, members, ext_use):
    st = items[c][0]
    ext_use.pop(items[c][1][0], None)     # made inside now
    for r, u in zip(st.refs, ac[2]):
        if not any(r in items[m][1] for m in members):
            ext_use.setdefault(r, u)


def _convex(items, members, producer):
    """No path from a member through a non-member back to a member."""
    lo, hi = min(members), max(members)
    tainted = set()
    for i in range(lo, hi + 1):
        refs = items[i][0].refs
        src = [producer.get(r, -1) for r in refs]
        reach = any(p in members or p in tainted for p in src)
        if i in members:
            if any(p in tainted for p in src):
                return False
        elif reach:
            tainted.add(i)
    return True


def _row_step(items, g, readers, outset, dtype_of):
    members, info, dom, ext_use = g
    mset = set(members)
    produced = {}
    for m in members:
        produced[items[m][1][0]] = m
    ext = []
    for m in members:
        for r in items[m][0].refs:
            if r not in produced and r not in ext:
                ext.append(r)
    reg = {r: k for k, r in enumerate(ext)}
    reg_dtypes = [dtype_of[r] for r in ext]
    reg_levels = [ext_use[r] for r in ext]
    logical = {}
    local_ref = {r: k for k, r in enumerate(ext)}
    instrs, sub, labels = [], [], []
    for m in members:
        st = items[m][0]
        o = items[m][1][0]
        what, lv, _, ins = info[m]
        logical[o] = lv
        local = _cg.Step.__new__(_cg.Step)
        local.prim, local.dtypes, local.shapes, local.in_shapes = \
            st.prim, st.dtypes, st.shapes, st.in_shapes
        local.refs = [local_ref[r] for r in st.refs]
        local_ref[o] = len(local_ref)
        sub.append(local)
        if what == "move":
            reg[o] = reg[st.refs[0]]
            continue
        kind, op, dt = ins
        reg[o] = len(reg_dtypes)
        reg_dtypes.append(st.dtypes[0])
        reg_levels.append(lv)
        if what == "reduce" and reg_levels[reg[st.refs[0]]] != FULL:
            return None
        instrs.append((kind, op, dt, reg[o], [reg[r] for r in st.refs]))
        labels.append(st.prim.name())
    outs = [items[m][1][0] for m in members
            if items[m][1][0] in outset or
            any(c not in mset for c in readers.get(items[m][1][0], ()))]
    traced_in = []
    for r in ext:
        m = next(m for m in members if r in items[m][0].refs)
        st = items[m][0]
        traced_in.append(tuple(st.in_shapes[st.refs.index(r)]))
    prim = _compiled.Compiled.create_rows(
        instrs, reg_dtypes, reg_levels, len(ext), [reg[o] for o in outs],
        [logical[o] for o in outs], sub, [local_ref[o] for o in outs], ",".join(labels),
        dom.S, dom.a0, traced_in)
    fused = _cg.Step.__new__(_cg.Step)
    fused.prim = prim
    fused.refs = list(ext)
    fused.dtypes = [dtype_of[o] for o in outs]
    fused.shapes = [items[produced[o]][0].shapes[0] for o in outs]
    fused.in_shapes = traced_in
    return (fused, outs)


def _reorder(items, groups, fused, producer):
    """The items with each group replaced by its fused step, in a dependency order."""
    unit = list(range(len(items)))                # item -> unit id (groups: n + k)
    n = len(items)
    keep = {}
    for k, (g, f) in enumerate(zip(groups, fused)):
        if f is None:                             # could not be built: left unfused
            continue
        for m in g[0]:
            unit[m] = n + k
        keep[n + k] = (g[0], f)
    order, done = [], set()

    def visit(u):
        stack = [(u, False)]
        while stack:
            v, expanded = stack.pop()
            if v in done:
                continue
            if expanded:
                done.add(v)
                order.append(v)
                continue
            stack.append((v, True))
            idx = keep[v][0] if v in keep else [v]
            for i in idx:
                for r in items[i][0].refs:
                    p = producer.get(r)
                    if p is not None and unit[p] != v and unit[p] not in done:
                        stack.append((unit[p], False))

    for i in range(n):
        visit(unit[i])
    return [keep[u][1] if u in keep else items[u] for u in order]
