"""mx.eval: schedule the unevaluated nodes behind some arrays and run their primitives.

Nodes are run in a topological order found by an iterative depth-first walk (no
recursion, so chains of any depth work).  Each node is detached (primitive and inputs
dropped) right after it runs, so an intermediate is freed as soon as its last reader
has run, and an input that nothing else references may donate its buffer.
"""
from cpython.object cimport PyObject
from cpython.ref cimport Py_REFCNT

from mlxc._core.array cimport array, hooks, release_inputs, transform_depth_add
from mlxc._core.primitive cimport Primitive

cdef unsigned long long epoch = 0

# References an input has at the donation check when nothing outside this eval holds it:
# the reader's inputs tuple, the `inputs` list handed to eval_cpu, and the loop variable.
cdef enum:
    DONATE_REFS = 3


cdef list topo_order(list roots):
    """Unevaluated nodes reachable from roots, every node after its inputs."""
    global epoch
    epoch += 1
    cdef list tape = []
    cdef list stack = []
    cdef array root, node, inp, s
    cdef tuple ins
    cdef int n
    for r in roots:
        root = <array>r
        if root.buf is not None or root.visit == epoch:
            continue
        root.visit = epoch
        root.dfs_next = 0
        stack.append(root)
        while stack:
            node = <array>stack[-1]
            ins = node.inputs
            n = len(ins)
            while node.dfs_next < n:
                inp = <array>ins[node.dfs_next]
                node.dfs_next += 1
                if inp.buf is None and inp.visit != epoch:
                    inp.visit = epoch
                    inp.dfs_next = 0
                    stack.append(inp)
                    break
            else:
                stack.pop()
                if node.siblings is not None:
                    for o in node.siblings:
                        (<array>o).visit = epoch
                tape.append(node)
    return tape


cdef int run_tape(list tape) except -1:
    cdef Py_ssize_t i, j, n = len(tape)
    cdef array node, inp, o
    cdef list inputs, outputs
    cdef bint keep_graph = transform_depth_add(0) > 0
    for i in range(n):
        node = <array>tape[i]
        tape[i] = None
        if node.buf is not None:        # a sibling already ran this node
            continue
        inputs = list(node.inputs)
        outputs = list(node.siblings) if node.siblings is not None else [node]
        for j in range(len(inputs)):
            inp = <array>inputs[j]
            # The buffer's count is read through a borrowed pointer: 1 means only inp owns it.
            inp.donatable = (Py_REFCNT(inp) == DONATE_REFS and inp.buf is not None
                             and (<PyObject *>inp.buf).ob_refcnt == 1)
        inp = None
        try:
            node.primitive.eval_cpu(inputs, outputs)
        except BaseException:
            # A node whose kernel refused its input (an index out of range ...) stays
            # unevaluated: no output keeps a half-written buffer that a later read (or
            # numpy's buffer-protocol retry) would take for the result.
            for x in outputs:
                (<array>x).buf = None
            for j in range(len(inputs)):
                (<array>inputs[j]).donatable = False
            raise
        for j in range(len(inputs)):
            (<array>inputs[j]).donatable = False
        if keep_graph:
            continue                     # inside grad/vjp/jvp the graph is still needed
        for x in outputs:
            o = <array>x
            o.primitive = None
            release_inputs(o.inputs)
            o.inputs = None
            o.siblings = None
        o = None                         # drop loop references so the donation count holds
        x = None
    return 0


cdef int eval_list(list arrays) except -1:
    cdef list tape = topo_order(arrays)
    if tape:
        run_tape(tape)
    return 0

hooks().eval = eval_list


def _collect(tree, list out):
    if isinstance(tree, array):
        out.append(tree)
    elif isinstance(tree, (list, tuple)):
        for t in tree:
            _collect(t, out)
    elif isinstance(tree, dict):
        for t in tree.values():
            _collect(t, out)


def eval(*args):
    """eval(*args) -> None

    Evaluate each array in args (arrays or trees of lists, tuples and dicts of arrays)."""
    cdef list arrays = []
    for a in args:
        _collect(a, arrays)
    eval_list(arrays)


def async_eval(*args):
    """async_eval(*args) -> None

    Start evaluating arrays; on the CPU this completes before returning."""
    cdef list arrays = []
    for a in args:
        _collect(a, arrays)
    eval_list(arrays)
