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
and prims/compiled.py fuses the elementwise chains of what is left.
"""
from mlxc._core.array cimport array, new_node, node_outputs
from mlxc._core.primitive cimport Primitive
from mlxc._core.prims.elementwise cimport Copy
from mlxc._core.prims.views cimport Broadcast, Identity, Reshape

from mlxc._core.array import _py_hooks
from mlxc._core import export_shapes

cdef Identity _IDENTITY = Identity.__new__(Identity)


def identity(array x):
    """A new node with x's value (a distinct array object for a repeated output)."""
    return new_node(x.dtype, x._shape, _IDENTITY, (x,))


cdef class Step:
    """One node of a tape: primitive, input refs, output dtypes and shapes as traced."""
    cdef public object prim
    cdef public list refs
    cdef public list dtypes
    cdef public list shapes
    cdef public list in_shapes

    def new_shapes(self, tuple ins):
        """Output shapes for the inputs ins (shapeless calls with new shapes)."""
        shapes = [x.shape for x in ins]
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
