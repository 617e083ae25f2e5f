"""mx.compile: trace a function once per input signature, simplify the graph, fuse its
elementwise chains, and replay the result on every later call.

A call flattens the arguments (arrays, and lists/tuples/dicts of them; ints, floats,
strings and None are constants) into the arrays and a signature: every array's shape
(its rank when shapeless) and dtype, the tree structure and the constants.  The
signature is a tuple: the trace cache is a dict keyed by it (lookups do not grow with
the number of traces), bounded, least recently used out first.

Tracing runs the function on placeholder arrays (shape and dtype, no data: evaluating
one is MLX's error) and keeps the nodes that depend on them, in order, as a tape.
Arrays the function reads without depending on its inputs (closures, constants it
builds) are the trace's constants: small ones are evaluated once, at trace time.
graph.pyx simplifies the tape (compile_graph) and fuses it (prims/compiled.pyx); a
call replays the tape on the real arrays, giving an ordinary lazy graph, so eval, grad,
vmap and the rest treat a compiled function's results like any other.

`inputs` / `outputs` (MLX's captured state): the arrays in those trees are extra inputs
(placeholders while tracing) and extra outputs, written back into the trees after each
call, so a training step can update a model and optimizer state, and
`inputs=mx.random.state, outputs=mx.random.state` gives new random numbers every call.
"""
import os
from collections import OrderedDict

from mlxc._core.array cimport array, new_node, new_nodes, node_outputs
from mlxc._core.compile_graph cimport Step
from mlxc._core.primitive cimport Primitive

from mlxc._core.array import _py_hooks
from mlxc._core.transforms import Placeholder
from mlxc._core import compile_graph, export_shapes

# How many traces one compiled function keeps (least recently used out first).
CACHE_SIZE = 4096

# Constants the function builds without its inputs are evaluated at trace time up to
# this many elements; larger ones stay lazy and are computed by the first call.
FOLD_SIZE = 4096

cdef object _enabled = None       # None: MLX_DISABLE_COMPILE not read yet
cdef int _suspended = 0           # > 0 while export traces a function (see uncompiled)


cdef bint compile_enabled():
    global _enabled
    if _suspended:
        return False
    if _enabled is None:
        _enabled = "MLX_DISABLE_COMPILE" not in os.environ   # any value disables, as MLX
    return _enabled


def disable_compile():
    """disable_compile() -> None

    Globally disable compilation. Setting the environment variable
    ``MLX_DISABLE_COMPILE`` can also be used to disable compilation."""
    global _enabled
    _enabled = False


def enable_compile():
    """enable_compile() -> None

    Globally enable compilation. This will override the environment
    variable ``MLX_DISABLE_COMPILE`` if set."""
    global _enabled
    _enabled = True


def uncompiled(fun, *args, **kwargs):
    """fun(*args, **kwargs) with compiled functions running their Python function, so the
    caller (export_function's trace) records ordinary primitives, not Compiled nodes."""
    global _suspended
    _suspended += 1
    try:
        return fun(*args, **kwargs)
    finally:
        _suspended -= 1


# ------------------------------------------------------------------ arguments

# Markers in a signature (never equal to a constant's entry, which is a tuple).
cdef object _LIST = object()
cdef object _DICT = object()
cdef object _KW = object()
cdef object _NONE = object()


cdef int flatten_args(object obj, list arrays, list key, bint shapeless) except -1:
    """Append obj's arrays to arrays and its signature entries to key."""
    cdef array a
    if isinstance(obj, array):
        a = <array>obj
        arrays.append(a)
        key.append(a.dtype)
        key.append(a.ndim if shapeless else a._shape)
    elif isinstance(obj, (list, tuple)):     # lists and tuples are the same tree, as MLX
        key.append(_LIST)
        key.append(len(obj))
        for v in obj:
            flatten_args(v, arrays, key, shapeless)
    elif isinstance(obj, dict):
        key.append(_DICT)
        key.append(len(obj))
        for k, v in obj.items():
            key.append(("k", k))
            flatten_args(v, arrays, key, shapeless)
    elif isinstance(obj, int):               # bool too: True is the constant 1, as MLX
        key.append(("i", int(obj)))
    elif isinstance(obj, float):
        key.append(("f", obj) if obj == obj else ("nan",))
    elif isinstance(obj, str):
        key.append(("s", obj))
    elif obj is None:
        key.append(_NONE)
    else:
        raise ValueError(f"[compile] Function arguments must be trees of arrays or constants "
                         f"(floats, ints, strings, or None), but received type "
                         f"{type(obj).__name__}.")
    return 0


def _state_arrays(tree, list out):
    """The arrays of a captured-state tree, in order (other leaves are ignored)."""
    if isinstance(tree, array):
        out.append(tree)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            _state_arrays(v, out)
    elif isinstance(tree, dict):
        for v in tree.values():
            _state_arrays(v, out)


def _state_fill(tree, it):
    """Put next(it) in place of each array leaf of tree: lists and dicts in place,
    tuples rebuilt.  Returns the tree (a new one for a tuple or a bare array)."""
    if isinstance(tree, array):
        return next(it)
    if isinstance(tree, list):
        for i in range(len(tree)):
            v = tree[i]
            if isinstance(v, (array, list, tuple, dict)):
                tree[i] = _state_fill(v, it)
        return tree
    if isinstance(tree, dict):
        for k in list(tree):
            v = tree[k]
            if isinstance(v, (array, list, tuple, dict)):
                tree[k] = _state_fill(v, it)
        return tree
    if isinstance(tree, tuple):
        items = [_state_fill(v, it) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return tree


def _state_restore(tree, dict back):
    """Undo _state_fill where the function left a placeholder in place."""
    if isinstance(tree, array):
        return back.get(id(tree), tree)
    if isinstance(tree, list):
        for i in range(len(tree)):
            tree[i] = _state_restore(tree[i], back)
        return tree
    if isinstance(tree, dict):
        for k in list(tree):
            tree[k] = _state_restore(tree[k], back)
        return tree
    if isinstance(tree, tuple):
        items = [_state_restore(v, back) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return tree


def _fill_args(obj, it):
    """obj with each array leaf replaced by next(it) (new containers)."""
    if isinstance(obj, array):
        return next(it)
    if isinstance(obj, list):
        return [_fill_args(v, it) for v in obj]
    if isinstance(obj, tuple):
        items = [_fill_args(v, it) for v in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, dict):
        return {k: _fill_args(v, it) for k, v in obj.items()}
    return obj


# ------------------------------------------------------------------ outputs

cdef class _Slot:
    """Where output array k goes in the output tree."""
    cdef readonly int index

    def __init__(self, int index):
        self.index = index


def _out_structure(tree, list arrays):
    """tree with its arrays replaced by _Slots (appending them to arrays); every other
    leaf is kept as it is, as MLX passes it through."""
    if isinstance(tree, array):
        arrays.append(tree)
        return _Slot(len(arrays) - 1)
    if isinstance(tree, list):
        return [_out_structure(v, arrays) for v in tree]
    if isinstance(tree, tuple):
        items = [_out_structure(v, arrays) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    if isinstance(tree, dict):
        return {k: _out_structure(v, arrays) for k, v in tree.items()}
    return tree


def _out_build(tree, list values):
    if type(tree) is _Slot:
        return values[(<_Slot>tree).index]
    if isinstance(tree, list):
        return [_out_build(v, values) for v in tree]
    if isinstance(tree, tuple):
        items = [_out_build(v, values) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    if isinstance(tree, dict):
        return {k: _out_build(v, values) for k, v in tree.items()}
    return tree


# ------------------------------------------------------------------ traces

cdef class Trace:
    """One signature's simplified (and fused) tape.  Value refs: >= 0 the inputs then
    the outputs of the steps in order, < 0 the constants (-1 - index)."""
    cdef public int ninputs
    cdef public list steps        # compile_graph.Step
    cdef public list plain_steps  # the steps before fusion (tests, transforms)
    cdef public list consts       # arrays
    cdef public list outputs      # refs of the flat outputs (function's, then state's)
    cdef public int nfun          # how many of them are the function's
    cdef public object structure  # the function's output tree, arrays as _Slots
    cdef public list in_shapes    # traced input shapes (shapeless replays)

    cdef list replay(self, list inputs, bint shapeless):
        cdef list vals = list(inputs)
        cdef list consts = self.consts
        cdef bint same = True
        cdef Step step
        cdef int i
        if shapeless:
            for i in range(self.ninputs):
                if (<array>inputs[i])._shape != self.in_shapes[i]:
                    same = False
                    break
        for s in self.steps:
            step = <Step>s
            ins = tuple([vals[r] if r >= 0 else consts[-1 - r] for r in step.refs])
            shapes = step.shapes if same else step.new_shapes(ins)
            if len(step.dtypes) == 1:
                vals.append(new_node(step.dtypes[0], shapes[0], <Primitive>step.prim, ins))
            else:
                vals.extend(new_nodes(step.dtypes, list(shapes), <Primitive>step.prim, ins))
        cdef list outs = []
        cdef set seen = None
        cdef array x
        cdef bint many = len(self.outputs) > 1
        if many:
            seen = set()
        for r in self.outputs:
            x = <array>(vals[r] if r >= 0 else consts[-1 - r])
            # Every output is a new array object: the caller may update it in place.
            if r < self.ninputs or (many and id(x) in seen):
                x = x._clone() if x.primitive is None else compile_graph.identity(x)
            if many:
                seen.add(id(x))
            outs.append(x)
        return outs


cdef Trace trace_function(object fun, tuple args, dict kwargs, list arrays, int nstate,
                          object state_in, object state_out):
    """Run fun on placeholders shaped like arrays (the last nstate of them stand for the
    captured state) and record its tape."""
    cdef list holders = []
    cdef dict holder_index = {}
    cdef array a, h
    cdef int i
    for i in range(len(arrays)):
        a = <array>arrays[i]
        ph = Placeholder.__new__(Placeholder)
        h = new_node(a.dtype, a._shape, <Primitive>ph, ())
        holders.append(h)
        holder_index[id(ph)] = i
    nargs = len(arrays) - nstate
    it = iter(holders[:nargs])
    targs = _fill_args(args, it)
    tkw = _fill_args(kwargs, it)
    back = {}
    if nstate:
        back = {id(h): x for h, x in zip(holders[nargs:], arrays[nargs:])}
        _state_fill(state_in, iter(holders[nargs:]))
    try:
        out = fun(*targs, **tkw)
        flat = []
        structure = _out_structure(out, flat)
        nfun = len(flat)
        if state_out is not None:
            _state_arrays(state_out, flat)
    except BaseException:
        if nstate:                   # no trace node is left in the caller's state
            try:
                _state_fill(state_in, iter(arrays[nargs:]))
            except (StopIteration, TypeError):
                _state_restore(state_in, back)
        raise
    if nstate:
        _state_restore(state_in, back)
    cdef Trace t = Trace.__new__(Trace)
    t.ninputs = len(arrays)
    t.nfun = nfun
    t.structure = structure
    t.in_shapes = [a._shape for a in arrays]
    t.plain_steps, t.steps, t.consts, t.outputs = compile_graph.build(flat, holder_index,
                                                                      FOLD_SIZE)
    return t


# ------------------------------------------------------------------ compiled functions

cdef class CompiledFunction:
    """A function compiled by mx.compile: call it like the function."""
    cdef object fun
    cdef object state_in
    cdef object state_out
    cdef bint shapeless
    cdef object cache            # OrderedDict: signature -> Trace
    cdef dict __dict__           # __name__, __doc__ of the function
    cdef object __weakref__

    def __call__(self, *args, **kwargs):
        cdef list arrays = []
        cdef list key = []
        cdef Trace t
        cdef int nstate = 0
        flatten_args(args, arrays, key, self.shapeless)
        if kwargs:
            key.append(_KW)
            flatten_args(kwargs, arrays, key, self.shapeless)
        if not compile_enabled():
            return self.fun(*args, **kwargs)
        if self.state_in is not None:
            n0 = len(arrays)
            _state_arrays(self.state_in, arrays)
            nstate = len(arrays) - n0
            for i in range(n0, len(arrays)):
                a = <array>arrays[i]
                key.append(a.dtype)
                key.append(a.ndim if self.shapeless else a._shape)
        sig = tuple(key)
        cache = self.cache
        t = cache.get(sig)
        if t is None:
            t = trace_function(self.fun, args, kwargs, arrays, nstate, self.state_in,
                               self.state_out)
            cache[sig] = t
            if len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(sig)
        outs = t.replay(arrays, self.shapeless)
        if self.state_out is not None:
            _state_fill(self.state_out, iter(outs[t.nfun:]))
        if type(t.structure) is _Slot:
            return outs[(<_Slot>t.structure).index]
        return _out_build(t.structure, outs)

    def _traces(self):
        """The cached traces, least recently used first (tests)."""
        return list(self.cache.values())

    def __repr__(self):
        return f"<compiled function {getattr(self.fun, '__name__', repr(self.fun))}>"


def compile(fun, inputs=None, outputs=None, shapeless=False):
    """compile(fun: Callable[P, R], inputs: object | None = None, outputs: object | None = None, shapeless: bool = False) -> Callable[P, R]

    Returns a compiled function which produces the same output as ``fun``.

    Args:
        fun (Callable): A function which takes a variable number of
          :class:`array` or trees of :class:`array` and returns
          a variable number of :class:`array` or trees of :class:`array`.
        inputs (list or dict, optional): These inputs will be captured during
          the function compilation along with the inputs to ``fun``. The ``inputs``
          can be a :obj:`list` or a :obj:`dict` containing arbitrarily nested
          lists, dictionaries, or arrays. Leaf nodes that are not
          :obj:`array` are ignored. Default: ``None``
        outputs (list or dict, optional): These outputs will be captured and
          updated in a compiled function. The ``outputs`` can be a
          :obj:`list` or a :obj:`dict` containing arbitrarily nested lists,
          dictionaries, or arrays. Leaf nodes that are not :obj:`array` are ignored.
          Default: ``None``
        shapeless (bool, optional): A function compiled with the ``shapeless``
          option enabled will not be recompiled when the input shape changes. Not all
          functions can be compiled with ``shapeless`` enabled. Attempting to compile
          such functions with shapeless enabled will throw. Note, changing the number
          of dimensions or type of any input will result in a recompilation even with
          ``shapeless`` set to ``True``. Default: ``False``

    Returns:
        Callable: A compiled function which has the same input arguments
        as ``fun`` and returns the same output(s)."""
    if not callable(fun):
        raise TypeError(f"compile(): incompatible function arguments. Expected a callable "
                        f"for fun, got {type(fun).__name__}.")
    cdef CompiledFunction cf = CompiledFunction.__new__(CompiledFunction)
    cf.fun = fun
    cf.state_in = inputs
    cf.state_out = outputs
    cf.shapeless = bool(shapeless)
    cf.cache = OrderedDict()
    cf.__doc__ = getattr(fun, "__doc__", None)
    cf.__name__ = getattr(fun, "__name__", "compiled")
    return cf
