"""mx.eval: schedule the unevaluated nodes behind some arrays and run their primitives.

Nodes are run in a topological order found by an iterative depth-first walk (no
recursion, so chains of any depth work).  Each node is detached (primitive and inputs
dropped) right after it runs, so an intermediate is freed as soon as its last reader
has run, and an input that nothing else references may donate its buffer.

Threads: the graph is only read and changed with the GIL held, but kernels run with
it released, so another thread may meet a node whose buffer is being written.  Every
node an eval schedules is claimed first (array.owner = the thread); other threads
neither schedule a claimed node nor read it: they wait until its owner has run it
(or given it up after an error, and then run it themselves).  A thread only waits on
nodes claimed before its own, so waits cannot form a cycle.
"""
import threading

from cpython.object cimport PyObject
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.ref cimport Py_REFCNT

from mlxc._core.array cimport array, hooks, release_inputs, transform_depth_add
from mlxc._core.primitive cimport Primitive

cdef unsigned long long epoch = 0

# Threads waiting for another thread's node sleep on this condition; an eval that
# finishes (or gives up) nodes notifies it only while someone waits.
cdef object _ready = threading.Condition()
cdef int _waiters = 0

# References an input has at the donation check when nothing outside this eval holds it:
# the reader's inputs tuple, the `inputs` list handed to eval_cpu, and the loop variable.
cdef enum:
    DONATE_REFS = 3


cdef inline bint foreign(array x, unsigned long me) noexcept:
    """x is scheduled by another thread's eval and not finished."""
    return x.owner != 0 and x.owner != me


cdef int wait_ready(array x, unsigned long me) except -1:
    """Block (GIL released) until no other thread's eval holds x."""
    global _waiters
    if not foreign(x, me):
        return 0
    _waiters += 1
    try:
        while foreign(x, me):
            with _ready:
                if foreign(x, me):     # checked under the lock: no wakeup is lost
                    _ready.wait(0.05)
    finally:
        _waiters -= 1
    return 0


cdef inline void notify_ready():
    if _waiters:
        with _ready:
            _ready.notify_all()


cdef list topo_order(list roots, unsigned long me):
    """Unevaluated nodes reachable from roots, every node after its inputs, each claimed
    for thread me.  Nodes claimed by other threads are left to them."""
    global epoch
    epoch += 1
    cdef list tape = []
    cdef list stack = []
    cdef array root, node, inp, s
    cdef tuple ins
    cdef int n
    for r in roots:
        root = <array>r
        if root.buf is not None or root.visit == epoch or foreign(root, me):
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
                if inp.buf is None and inp.visit != epoch and not foreign(inp, me):
                    inp.visit = epoch
                    inp.dfs_next = 0
                    stack.append(inp)
                    break
            else:
                stack.pop()
                if node.siblings is not None:
                    for o in node.siblings:
                        (<array>o).visit = epoch
                        (<array>o).owner = me
                node.owner = me
                tape.append(node)
    return tape


cdef int inputs_ready(list inputs, unsigned long me) except -1:
    """Wait for inputs another thread is computing; evaluate any input that has no value
    (its owner failed, or a concurrent in-place update redirected this node)."""
    cdef array inp
    for x in inputs:
        inp = <array>x
        if foreign(inp, me):
            wait_ready(inp, me)
        if inp.buf is None:
            eval_list([inp])
    return 0


cdef void give_up(list tape, Py_ssize_t start) noexcept:
    """After an error: unclaim the nodes not run, so other threads can run them."""
    cdef array node
    for i in range(start, len(tape)):
        if tape[i] is None:
            continue
        node = <array>tape[i]
        for x in (node.siblings if node.siblings is not None else (node,)):
            (<array>x).owner = 0
    notify_ready()


cdef int run_tape(list tape, unsigned long me) except -1:
    cdef Py_ssize_t i = 0, j, n = len(tape)
    cdef array node, inp, o
    cdef list inputs, outputs = None
    # Inside grad/vjp/jvp the graph is still needed: no detaching, and no donation (the
    # transform's rules read the inputs' values after their readers ran).
    cdef bint keep_graph = transform_depth_add(0) > 0
    try:
        while i < n:
            node = <array>tape[i]
            if node.buf is not None:        # a sibling already ran this node
                tape[i] = None
                i += 1
                continue
            inputs = list(node.inputs)
            outputs = list(node.siblings) if node.siblings is not None else [node]
            inputs_ready(inputs, me)
            for j in range(len(inputs)):
                inp = <array>inputs[j]
                # The buffer's count is read through a borrowed pointer: 1 means only inp
                # owns it.
                inp.donatable = (not keep_graph and Py_REFCNT(inp) == DONATE_REFS
                                 and inp.buf is not None
                                 and (<PyObject *>inp.buf).ob_refcnt == 1)
            inp = None
            try:
                if node.device:
                    node.primitive.eval_gpu(inputs, outputs)
                else:
                    node.primitive.eval_cpu(inputs, outputs)
            except BaseException:
                for x in outputs:            # no partial result is left looking evaluated
                    (<array>x).buf = None
                raise
            finally:
                for j in range(len(inputs)):
                    (<array>inputs[j]).donatable = False
            for x in outputs:
                o = <array>x
                o.owner = 0
                if not keep_graph:
                    o.primitive = None
                    release_inputs(o.inputs)
                    o.inputs = None
                    o.siblings = None
            notify_ready()
            tape[i] = None
            i += 1
            node = None
            o = None                     # drop loop references so the donation count holds
            x = None
    except BaseException:
        give_up(tape, i)
        raise
    return 0


cdef int eval_list(list arrays) except -1:
    cdef unsigned long me = PyThread_get_thread_ident()
    cdef list tape = topo_order(arrays, me)
    cdef array a
    if tape:
        run_tape(tape, me)
    for x in arrays:                     # roots that other threads were computing
        a = <array>x
        if foreign(a, me):
            wait_ready(a, me)
            if a.buf is None:
                eval_list([a])
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
