"""The graph side of mx.compile: a traced graph becomes a tape of steps, simplified.

build() walks from a trace's outputs to its placeholders and keeps, in order, the nodes
that depend on a placeholder.  Everything else those nodes read is a constant: closure
arrays, and what the function computed without its inputs (evaluated here when small,
so scalar arithmetic on constants is folded).  Then:
  - equal scalar constants become one (so their readers can merge),
  - no-op nodes go: casts to the same dtype, reshapes/broadcasts to the same shape,
    Identity (StopGradient stays: transforms of the compiled function need it),
  - common sub-expressions merge (same primitive by is_equivalent, same inputs),
  - nodes no output needs are dropped,
and compile_rows.py fuses reductions over trailing axes with the elementwise work
around them, and fuse() below the elementwise chains of what is left.
"""
from libc.stdint cimport int64_t
from mlxc._core.array cimport array, new_node, node_outputs
from mlxc._core.primitive cimport Primitive
from mlxc._core.prims.elementwise cimport Binary, Copy, Select, Unary
from mlxc._core.prims.views cimport Broadcast, Identity, Reshape, StopGradient

from mlxc._core.array import _py_hooks
from mlxc._core import export_shapes
from mlxc._core.prims import compiled as _compiled

cdef Identity _IDENTITY = Identity.__new__(Identity)


def identity(array x):
    """A new node with x's value (a distinct array object for a repeated output)."""
    return new_node(x.dtype, x._shape, _IDENTITY, (x,))


cdef class Step:
    """One node of a tape: primitive, input refs, output dtypes and shapes as traced."""

    def new_shapes(self, tuple ins):
        """Output shapes for the inputs ins (shapeless calls with new shapes)."""
        return self.shapes_for([x.shape for x in ins])

    def shapes_for(self, list shapes):
        if shapes == self.in_shapes:
            return self.shapes
        rule = getattr(self.prim, "infer_shapes", None)
        if rule is not None:
            return rule(shapes)
        return [tuple(s) for s in
                export_shapes.output_shapes(self.prim, shapes, self.in_shapes, self.shapes)]


cdef list post_order(list outputs, dict holders):
    """Nodes with a primitive reachable from outputs, each after its inputs, without
    descending into placeholders (primitive ids in holders).  One entry per node (the
    first of its outputs met)."""
    cdef list order = []
    cdef set seen = set()
    cdef array node
    for o in outputs:
        if id(o) in seen:
            continue
        seen.add(id(o))
        stack = [[o, 0]]
        while stack:
            top = stack[-1]
            node = <array>top[0]
            inner = node.primitive is not None and id(node.primitive) not in holders
            ins = node.inputs if inner else ()
            if top[1] < len(ins):
                x = ins[top[1]]
                top[1] += 1
                if id(x) not in seen:
                    seen.add(id(x))
                    stack.append([x, 0])
                continue
            stack.pop()
            if inner:
                order.append(node)
                for s in node_outputs(node):
                    seen.add(id(s))
    return order


cdef object scalar_key(array a):
    """(dtype, shape, bytes) of an evaluated one-element array, or None."""
    try:
        return (a.dtype, a._shape, bytes(memoryview(a)))
    except Exception:
        return None


def build(list outputs, dict holders, int fold_size):
    """(steps, constants, output refs) of the traced graph behind outputs; holders maps
    id(placeholder primitive) -> input index."""
    cdef list order = post_order(outputs, holders)
    cdef set dep = set()
    cdef array node, x
    cdef list nodes = []
    for n in order:
        node = <array>n
        for x in node.inputs:
            if id(x) in dep or (x.primitive is not None and id(x.primitive) in holders):
                nodes.append(node)
                for s in node_outputs(node):
                    dep.add(id(s))
                break
    # Constants: what dependent nodes and outputs read that depends on no input.
    cdef dict consts = {}            # id -> array
    cdef list fold = []
    for o in outputs:
        x = <array>o
        if id(x) not in dep and not (x.primitive is not None and id(x.primitive) in holders):
            consts[id(x)] = x
    for n in nodes:
        for x in (<array>n).inputs:
            if id(x) not in dep and not (x.primitive is not None and id(x.primitive) in holders):
                consts[id(x)] = x
    for c in consts.values():
        x = <array>c
        if x.primitive is not None and x.size <= fold_size:
            fold.append(x)
    if fold:
        try:
            _py_hooks["ops"].eval(*fold)
        except Exception:
            pass                     # (e.g. a closure over a vmap placeholder): left lazy
    # Value ids: inputs 0..n-1, constants < 0, node outputs from n on.
    cdef int nin = len(set(holders.values())) if holders else 0
    cdef dict vid = {}
    cdef list const_list = []
    cdef dict scalars = {}
    for c in consts.values():
        x = <array>c
        k = scalar_key(x) if (x.primitive is None and x.size == 1) else None
        if k is not None and k in scalars:
            vid[id(x)] = scalars[k]
            continue
        const_list.append(x)
        vid[id(x)] = -len(const_list)
        if k is not None:
            scalars[k] = vid[id(x)]

    cdef dict dtype_of = {}

    def ref(array x):
        if x.primitive is not None and id(x.primitive) in holders:
            r = holders[id(x.primitive)]
        else:
            r = vid[id(x)]
        dtype_of[r] = x.dtype
        return r

    cdef int nxt = max(nin, max(holders.values()) + 1 if holders else 0)
    cdef list steps = []
    cdef Step st
    for n in nodes:
        node = <array>n
        st = Step.__new__(Step)
        st.prim = node.primitive
        st.refs = [ref(x) for x in node.inputs]
        outs = node_outputs(node)
        st.dtypes = [(<array>s).dtype for s in outs]
        st.shapes = [(<array>s)._shape for s in outs]
        st.in_shapes = [(<array>x)._shape for x in node.inputs]
        for s in outs:
            vid[id(s)] = nxt
            nxt += 1
        steps.append((st, [vid[id(s)] for s in outs]))
    out_refs = [ref(<array>o) for o in outputs]
    for item in steps:
        for r, d in zip(item[1], (<Step>item[0]).dtypes):
            dtype_of[r] = d
    items, out_refs = simplify(steps, out_refs, dtype_of)
    plain = [item[0] for item in items]
    from mlxc._core import compile_rows
    items = compile_rows.fuse_rows(items, out_refs, dtype_of)
    items = fuse(items, out_refs, dtype_of)
    steps, const_list, out_refs = finish(items, const_list, out_refs, nin)
    return plain, steps, const_list, out_refs


def finish(list items, list consts, list out_refs, int nin):
    """Renumber the values: inputs first, then each step's outputs in order."""
    cdef dict num = {}
    cdef list steps = []
    cdef Step st
    cdef int nxt = nin
    for item in items:
        st, outs = item
        st.refs = [num.get(r, r) if r >= nin else r for r in st.refs]
        for o in outs:
            num[o] = nxt
            nxt += 1
        steps.append(st)
    return steps, consts, [num.get(r, r) if r >= nin else r for r in out_refs]


def simplify(list steps, list out_refs, dict dtype_of):
    """No-op removal, common sub-expressions, dead nodes.  steps: (Step, output ids)."""
    cdef dict alias = {}
    cdef dict seen = {}              # (type, refs) -> list of (Step, outs)
    cdef list kept = []
    cdef Step st, other
    for item in steps:
        st, outs = item
        st.refs = [alias.get(r, r) for r in st.refs]
        t = type(st.prim)
        if len(outs) == 1 and st.refs and (t is Identity or
                ((t is Copy or t is Reshape or t is Broadcast) and
                 st.in_shapes[0] == st.shapes[0] and
                 dtype_of.get(st.refs[0]) == st.dtypes[0])):
            alias[outs[0]] = st.refs[0]
            continue
        k = (t, tuple(st.refs))
        merged = False
        for cand in seen.get(k, ()):
            other, oouts = cand
            if other.dtypes == st.dtypes and other.shapes == st.shapes and \
                    (other.prim is st.prim or (<Primitive>other.prim).is_equivalent(
                        <Primitive>st.prim)):
                for a, b in zip(outs, oouts):
                    alias[a] = b
                merged = True
                break
        if merged:
            continue
        seen.setdefault(k, []).append(item)
        kept.append(item)
    out_refs = [alias.get(r, r) for r in out_refs]
    # Dead nodes: walk back from the outputs.
    cdef set live = set(out_refs)
    cdef list alive = []
    for item in reversed(kept):
        st, outs = item
        if any(o in live for o in outs):
            alive.append(item)
            live.update(st.refs)
    alive.reverse()
    return alive, out_refs



# ------------------------------------------------------------------ fusion

cdef int64_t _size(tuple shape):
    cdef int64_t n = 1
    for d in shape:
        n *= d
    return n


cdef object instr_of(Step st, dict dtype_of):
    """(kind, op, operand dtype) of a fusable step, "move" for an alias, or None."""
    t = type(st.prim)
    if len(st.dtypes) != 1:
        return None
    out = st.dtypes[0]
    if t is Broadcast or t is StopGradient:
        return "move" if dtype_of.get(st.refs[0]) == out else None
    if t is Unary:
        kind, op, dt = _compiled.FK_UNARY, (<Unary>st.prim).op, dtype_of.get(st.refs[0])
    elif t is Binary:
        dt = dtype_of.get(st.refs[0])
        if dtype_of.get(st.refs[1]) != dt:
            return None
        kind, op = _compiled.FK_BINARY, (<Binary>st.prim).op
    elif t is Select:
        if dtype_of.get(st.refs[0]) != 0 or dtype_of.get(st.refs[1]) != out or \
                dtype_of.get(st.refs[2]) != out:
            return None
        kind, op, dt = _compiled.FK_SELECT, 0, out
    elif t is Copy:
        kind, op, dt = _compiled.FK_CAST, 0, dtype_of.get(st.refs[0])
    else:
        return None
    if dt is None or not _compiled.supported(kind, op, dt, out):
        return None
    return (kind, op, dt)


def fusable(Step st, dict dtype_of):
    """instr_of for compile_rows: (kind, op, dtype), "move" or None."""
    return instr_of(st, dtype_of)


def fuse(list items, list out_refs, dict dtype_of):
    """Replace each connected group of fusable steps of one output shape (plus one-element
    steps feeding them) by one Compiled step.  A step joins its reader's group only when
    every reader of its output is in the group, so no value leaves a group except its
    last step's and the function's outputs, and groups form no cycles."""
    cdef int n = len(items), i, j, p
    cdef Step st, ps
    cdef dict producer = {}
    cdef dict readers = {}
    cdef list ins_of = [None] * n
    for i in range(n):
        st = <Step>items[i][0]
        ins_of[i] = instr_of(st, dtype_of)
        for o in items[i][1]:
            producer[o] = i
        for r in st.refs:
            readers.setdefault(r, set()).add(i)
    cdef set outset = set(out_refs)
    cdef list group_of = [None] * n
    cdef list groups = []
    for i in range(n - 1, -1, -1):
        if group_of[i] is not None or ins_of[i] is None or ins_of[i] == "move":
            continue
        st = <Step>items[i][0]
        domain = st.shapes[0]
        gid = len(groups)
        group_of[i] = gid
        members = [i]
        stack = [i]
        while stack:
            j = stack.pop()
            for r in (<Step>items[j][0]).refs:
                p = producer.get(r, -1)
                if p < 0 or group_of[p] is not None or ins_of[p] is None:
                    continue
                ps = <Step>items[p][0]
                if ps.shapes[0] != domain and (_size(ps.shapes[0]) != 1 or r in outset):
                    continue
                if not all(group_of[c] == gid for c in readers.get(r, ())):
                    continue
                group_of[p] = gid
                members.append(p)
                stack.append(p)
        groups.append(members)
    cdef list out = []
    cdef dict root_of = {}
    for gid, members in enumerate(groups):
        if sum(1 for m in members if ins_of[m] != "move") >= 2:
            root_of[max(members)] = gid
        else:
            for m in members:
                group_of[m] = None
    for i in range(n):
        if group_of[i] is None:
            out.append(items[i])
        elif i in root_of:
            out.append(_fused_step(items, sorted(groups[root_of[i]]), ins_of, readers,
                                   outset, dtype_of))
    return out


def _fused_step(list items, list members, list ins_of, dict readers, set outset,
                dict dtype_of):
    """The Compiled step of one group (members in order)."""
    cdef Step st, local, fused
    mset = set(members)
    produced = {}
    for m in members:
        for o in items[m][1]:
            produced[o] = m
    ext = []                          # the group's inputs: values made outside it
    for m in members:
        for r in (<Step>items[m][0]).refs:
            if r not in produced and r not in ext:
                ext.append(r)
    reg = {r: k for k, r in enumerate(ext)}
    reg_dtypes = [dtype_of[r] for r in ext]
    local_ref = {r: k for k, r in enumerate(ext)}
    instrs, sub, labels = [], [], []
    for m in members:
        st = <Step>items[m][0]
        o = items[m][1][0]
        local = Step.__new__(Step)
        local.prim, local.dtypes, local.shapes, local.in_shapes = \
            st.prim, st.dtypes, st.shapes, st.in_shapes
        local.refs = [local_ref[r] for r in st.refs]
        local_ref[o] = len(local_ref)
        sub.append(local)
        if ins_of[m] == "move":
            reg[o] = reg[st.refs[0]]
            continue
        kind, op, dt = ins_of[m]
        reg[o] = len(reg_dtypes)
        reg_dtypes.append(st.dtypes[0])
        instrs.append((kind, op, dt, reg[o], [reg[r] for r in st.refs]))
        labels.append(st.prim.name())
    outs = []
    for m in members:
        o = items[m][1][0]
        if o in outset or any(c not in mset for c in readers.get(o, ())):
            outs.append(o)
    prim = _compiled.Compiled.create(instrs, reg_dtypes, len(ext), [reg[o] for o in outs],
                                     sub, [local_ref[o] for o in outs], ",".join(labels))
    fused = Step.__new__(Step)
    fused.prim = prim
    fused.refs = list(ext)
    fused.dtypes = [dtype_of[o] for o in outs]
    fused.shapes = [(<Step>items[produced[o]][0]).shapes[0] for o in outs]
    fused.in_shapes = []
    for r in ext:
        m = next(m for m in members if r in (<Step>items[m][0]).refs)
        st = <Step>items[m][0]
        fused.in_shapes.append(st.in_shapes[st.refs.index(r)])
    return (fused, outs)
