"""export_function, import_function and exporter: a function saved as graphs of primitives.

Exporting runs the function on placeholder arrays (shape and dtype, no data) and records
the graph between them and its outputs: every node as its primitive's class, the
primitive's parameters (the state Cython's pickling support reads out of every cdef
class, stored as plain values, never as pickles), its input ids and output shapes and
dtypes; arrays that already hold data (closure constants) as raw bytes.  Importing
rebuilds each primitive from that state and replays the graph on the caller's arrays, so
the result is an ordinary lazy graph: eval, grad and vmap treat it like any other.
A file holds several traces (one per input signature); the file format is in
export_format.py, shapes of shapeless replays come from export_shapes.py.
"""
import importlib
import os

import numpy as np

from mlxc._core.array cimport array, new_node, new_nodes, node_outputs
from mlxc._core.dtype cimport Dtype
from mlxc._core.primitive cimport Primitive

from mlxc._core.array import _py_hooks
from mlxc._core.dtype import DTYPES
from mlxc._core.transforms import Placeholder
from mlxc._core import export_format, export_shapes

_DTYPE_BY_NAME = {(<Dtype>d).name: d for d in DTYPES}
_INPUTS_MSG = ("Inputs can either be a variable number of positional and keyword arrays or "
               "a single tuple and/or dictionary of arrays.")


def _mx():
    return _py_hooks["ops"]


# ------------------------------------------------------------------ arguments

def _split_inputs(args, kwargs, str where):
    """(positional arrays, keyword arrays) from MLX's two calling conventions: arrays as
    *args/**kwargs, or one tuple/list of arrays and/or one dict of arrays."""
    if not kwargs and 1 <= len(args) <= 2 and isinstance(args[-1], dict) and \
            (len(args) == 1 or isinstance(args[0], (list, tuple))):
        pos, kw = (list(args[0]) if len(args) == 2 else []), dict(args[-1])
    elif not kwargs and len(args) == 1 and isinstance(args[0], (list, tuple)):
        pos, kw = list(args[0]), {}
    else:
        pos, kw = list(args), dict(kwargs)
    if not all(isinstance(a, array) for a in pos) or \
            not all(isinstance(k, str) and isinstance(v, array) for k, v in kw.items()):
        raise ValueError(f"[{where}] {_INPUTS_MSG}")
    return pos, kw


def _fmt_shape(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def _fmt_signature(pos, kw, str indent):
    """MLX's listing of a signature: positional inputs numbered from 1, keywords quoted."""
    lines = [f"{indent}{i + 1}: {_fmt_shape(s)} {d}" for i, (s, d) in enumerate(pos)]
    lines += [f'{indent}"{k}": {_fmt_shape(s)} {d}' for k, s, d in kw]
    return "".join(line + "\n" for line in lines)


# ------------------------------------------------------------------ primitives as values

def _plain(v):
    """A primitive's state with Dtype objects replaced by a tagged name."""
    if isinstance(v, Dtype):
        return {"\0dtype": (<Dtype>v).name}
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _unplain(v):
    if isinstance(v, dict) and len(v) == 1 and "\0dtype" in v:
        name = v["\0dtype"]
        if name not in _DTYPE_BY_NAME:
            raise ValueError(f"unknown dtype {name!r}")
        return _DTYPE_BY_NAME[name]
    if isinstance(v, tuple):
        return tuple(_unplain(x) for x in v)
    if isinstance(v, list):
        return [_unplain(x) for x in v]
    return v


def primitive_record(Primitive prim):
    """[module, class, layout checksum, mode, state] of a primitive, or ValueError naming
    it when its parameters are not plain values (Python callables, C pointers)."""
    cls = type(prim)
    fail = ValueError(f"[export_function] Unable to serialize primitive {prim.name()}.")
    reduce = getattr(prim, "__reduce_cython__", None)
    if reduce is None or not cls.__module__.startswith("mlxc._core."):
        raise fail
    try:
        r = reduce()
    except Exception:
        raise fail from None
    fn, args = r[0], r[1]
    if getattr(fn, "__name__", "") != "__pyx_unpickle_" + cls.__name__ or args[0] is not cls:
        raise fail
    mode = 0 if len(r) == 2 else 1
    state = _plain(args[2] if mode == 0 else r[2])
    if not export_format.is_storable(state):
        raise fail
    return [cls.__module__, cls.__name__, args[1], mode, state]


# Op-code fields that index a family's tables (kernels, rules, names): checked on load so
# that a file with a code out of range fails here instead of in a kernel.
_OP_TABLES = {"Unary": ("op", "_UNARY_NAMES"), "Binary": ("op", "_BINARY_NAMES"),
              "Reduce": ("op", "_REDUCE_NAMES"), "Scan": ("op", "_SCAN_NAMES"),
              "Scatter": ("mode", "_SCATTER_NAMES")}


def _check_op_code(prim, mod, str name):
    spec = _OP_TABLES.get(name)
    if spec is None:
        return
    table = getattr(mod, spec[1], None)
    code = getattr(prim, spec[0])
    if table is not None and not 0 <= code < len(table):
        raise ValueError(f"{spec[0]} code {code} out of range")


def primitive_from_record(rec):
    """The primitive a record describes; ValueError when it names no mlxc primitive or
    its state does not fit the class (another build's layout)."""
    if not (isinstance(rec, list) and len(rec) == 5 and isinstance(rec[0], str) and
            isinstance(rec[1], str) and isinstance(rec[2], int) and rec[3] in (0, 1)):
        raise ValueError("malformed primitive record")
    module, name, checksum, mode, state = rec
    if not module.startswith("mlxc._core.") or not name.isidentifier():
        raise ValueError(f"{module}.{name} is not an mlxc primitive")
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise ValueError(f"Unable to deserialize primitive {name}: no module {module}") \
            from None
    cls = getattr(mod, name, None)
    fn = getattr(mod, "__pyx_unpickle_" + name, None)
    if not (isinstance(cls, type) and issubclass(cls, Primitive)) or fn is None:
        raise ValueError(f"Unable to deserialize primitive {name}")
    try:
        state = _unplain(state)
        if mode == 0:
            prim = fn(cls, checksum, state)
        else:
            prim = fn(cls, checksum, None)
            prim.__setstate_cython__(state)
        _check_op_code(prim, mod, name)
    except Exception as e:
        raise ValueError(f"Unable to deserialize primitive {name} ({e})") from None
    if type(prim) is not cls:
        raise ValueError(f"Unable to deserialize primitive {name}")
    return prim


# ------------------------------------------------------------------ constants

def _raw_bytes(a):
    mx = _mx()
    if a.size == 0:
        return b""
    flat = mx.reshape(a, (-1,))
    return np.asarray(mx.view(flat, mx.uint8)).tobytes()


def _constant_from_bytes(shape, Dtype dt, raw):
    mx = _mx()
    n = 1
    for d in shape:
        n *= d
    if len(raw) != n * dt.size:
        raise ValueError(f"a constant of shape {_fmt_shape(shape)} and type {dt.name} has "
                         f"{len(raw)} bytes")
    if n == 0:
        return mx.zeros(shape, dt)
    a = mx.reshape(mx.view(array(np.frombuffer(raw, dtype=np.uint8)), dt), shape)
    mx.eval(a)
    return a


# ------------------------------------------------------------------ tracing

_HOLDER = Placeholder.__new__(Placeholder)


def post_order(list outputs, set holders, bint with_leaves=False):
    """Nodes with a primitive between the placeholders (ids in holders) and outputs, every
    node after its inputs; with_leaves also lists the arrays without one (export_to_dot's
    sources).  Of the outputs of one multi-output node only the first met is listed."""
    cdef list order = []
    cdef set seen = set()
    cdef array node
    cdef bint inner
    for o in outputs:
        if id(o) in seen:
            continue
        seen.add(id(o))
        stack = [[o, 0]]
        while stack:
            top = stack[-1]
            node = <array>top[0]
            inner = node.primitive is not None and id(node) not in holders
            ins = node.inputs if inner else ()
            if top[1] < len(ins):
                x = ins[top[1]]
                top[1] += 1
                if id(x) not in seen:
                    seen.add(id(x))
                    stack.append([x, 0])
                continue
            stack.pop()
            if inner or with_leaves:
                order.append(node)
                for s in node_outputs(node):
                    seen.add(id(s))
    return order


cdef list _fold_unserializable(list order, set holders):
    """Input-independent nodes whose primitive cannot be stored: they are evaluated and
    stored as constants instead.  Returns the arrays to evaluate."""
    cdef set dependent = set(holders)
    cdef list fold = []
    cdef array node
    for n in order:
        node = <array>n
        if any(id(x) in dependent for x in node.inputs):
            for s in node_outputs(node):
                dependent.add(id(s))
            continue
        try:
            primitive_record(node.primitive)
        except ValueError:
            fold.extend(node_outputs(node))
    return fold


def trace_function(fun, pos, kw, constants):
    """Run fun on placeholders shaped like pos/kw and record its graph.  constants is the
    exporter's shared list of [array, record] (arrays that hold data), extended in place.
    Returns the trace record (a dict of plain values) and the live graph (for callbacks)."""
    cdef array node
    names = sorted(kw)
    holders = [new_node((<array>a).dtype, a.shape, _HOLDER, ()) for a in pos]
    kw_holders = {k: new_node((<array>kw[k]).dtype, kw[k].shape, _HOLDER, ()) for k in names}
    # Compiled functions inside run as plain Python: their fused nodes are not storable.
    from mlxc._core.compile import uncompiled
    out = uncompiled(fun, *holders, **kw_holders)
    if isinstance(out, array):
        outs = [out]
    elif isinstance(out, (list, tuple)) and all(isinstance(o, array) for o in out):
        outs = list(out)
    else:
        raise ValueError("[export_function] Outputs can be either a single array, a tuple, "
                         "or a list of arrays.")
    inputs = holders + [kw_holders[k] for k in names]
    hold_ids = set(id(h) for h in inputs)
    order = post_order(outs, hold_ids)
    fold = _fold_unserializable(order, hold_ids)
    if fold:
        _mx().eval(*fold)
        order = post_order(outs, hold_ids)
    refs = {id(h): i for i, h in enumerate(inputs)}
    const_index = {id(c[0]): i for i, c in enumerate(constants)}

    def ref(x):
        r = refs.get(id(x))
        if r is not None:
            return r
        if (<array>x).primitive is not None:
            raise ValueError("[export_function] internal error: an input is not in the graph.")
        k = const_index.get(id(x))
        if k is None:
            k = len(constants)
            const_index[id(x)] = k
            constants.append([x, [list(x.shape), x.dtype.name, _raw_bytes(x)]])
        return -1 - k

    nodes = []
    for n in order:
        node = <array>n
        outs_n = node_outputs(node)
        rec = primitive_record(node.primitive)
        in_refs = [ref(x) for x in node.inputs]
        for s in outs_n:
            refs[id(s)] = len(refs)
        nodes.append([rec, in_refs, [[list(s.shape), s.dtype.name] for s in outs_n]])
    record = {
        "args": [[list(a.shape), a.dtype.name] for a in pos],
        "kwargs": [[k, list(kw[k].shape), kw[k].dtype.name] for k in names],
        "nodes": nodes,
        "outputs": [ref(o) for o in outs],
    }
    return record, (inputs, names, outs, order, refs, const_index)


def _signature(record, bint shapeless):
    """What a call must match: per input its shape (its rank when shapeless) and dtype."""
    def key(shape, dt):
        return (len(shape) if shapeless else tuple(shape), dt)
    return (tuple(key(s, d) for s, d in record["args"]),
            tuple((k,) + key(s, d) for k, s, d in record["kwargs"]))


# ------------------------------------------------------------------ export

def _check_path(file, str where):
    if isinstance(file, os.PathLike):
        file = os.fspath(file)
    if not isinstance(file, str):
        raise TypeError(f"[{where}] Expected a file path (str), got {type(file).__name__}.")
    return file


class FunctionExporter:
    """A context managing class for exporting multiple traces of the same
    function to a file.

    Make an instance of this class by calling :func:`mx.exporter`."""

    def __init__(self, *args, **kwargs):
        raise TypeError("FunctionExporter has no public constructor; use mx.exporter().")

    @classmethod
    def _create(cls, path, fun, shapeless, metadata):
        self = object.__new__(cls)
        self._path = path
        self._fun = fun
        self._shapeless = bool(shapeless)
        self._metadata = "" if metadata is None else metadata
        self._traces = []
        self._signatures = set()
        self._constants = []
        self._closed = False
        self._write()
        return self

    def _write(self):
        payload = {
            "metadata": self._metadata,
            "shapeless": self._shapeless,
            "constants": [c[1] for c in self._constants],
            "traces": self._traces,
        }
        data = export_format.dumps(payload)
        try:
            with open(self._path, "wb") as f:
                f.write(data)
        except OSError as e:
            raise RuntimeError(f"[export_function] Failed to open {self._path} ({e}).") from None

    def __call__(self, *args, **kwargs):
        """__call__(self, *args, **kwargs) -> None"""
        if self._closed:
            raise RuntimeError("[export_function] Attempting to write after exporting is "
                               "closed.")
        pos, kw = _split_inputs(args, kwargs, "export_function")
        n_const = len(self._constants)
        try:
            record, _ = trace_function(self._fun, pos, kw, self._constants)
        except BaseException:
            del self._constants[n_const:]
            raise
        sig = _signature(record, self._shapeless)
        if sig in self._signatures:
            del self._constants[n_const:]
            raise RuntimeError("[export_function] Attempting to export a function twice with "
                               "the same signature is not allowed.")
        self._signatures.add(sig)
        self._traces.append(record)
        self._write()

    def close(self):
        """close(self) -> None"""
        self._closed = True

    def __enter__(self):
        """__enter__(self) -> mlx.core.FunctionExporter"""
        return self

    def __exit__(self, exc_type=None, exc_value=None, traceback=None):
        """__exit__(self, exc_type: object | None = None, exc_value: object | None = None, traceback: object | None = None) -> None"""
        self.close()


def exporter(file, fun, *, shapeless=False, metadata=None):
    """exporter(file: str, fun: collections.abc.Callable, *, shapeless: bool = False, metadata: str | None = None) -> mlx.core.FunctionExporter

    Make a callable object to export multiple traces of a function to a file.

    Args:
        file (str): File path to export the function to.
        shapeless (bool, optional): Whether or not the function allows
          inputs with variable shapes. Default: ``False``.
        metadata (str, optional): A string to save alongside the
          function, for example a JSON encoded model configuration. Read
          it back with :func:`import_function`. Default: ``None``.

    Example:

      .. code-block:: python

        def fun(*args):
            return sum(args)

        with mx.exporter("fun.mlxfn", fun) as exporter:
            exporter(mx.array(1))
            exporter(mx.array(1), mx.array(2))
            exporter(mx.array(1), mx.array(2), mx.array(3))
    """
    path = _check_path(file, "exporter")
    if not callable(fun):
        raise TypeError(f"[exporter] Expected a callable, got {type(fun).__name__}.")
    if metadata is not None and not isinstance(metadata, str):
        raise TypeError(f"[exporter] metadata must be a str or None, got "
                        f"{type(metadata).__name__}.")
    return FunctionExporter._create(path, fun, shapeless, metadata)


def export_function(file_or_callback, fun, *args, shapeless=False, metadata=None, **kwargs):
    """export_function(file_or_callback: str | Callable, fun: Callable, *args, shapeless: bool = False, metadata: str | None = None, **kwargs) -> None

    Export an MLX function.

    Example input arrays must be provided to export a function. The example
    inputs can be variable ``*args`` and ``**kwargs`` or a tuple of arrays
    and/or dictionary of string keys with array values.

    Args:
        file_or_callback (str or Callable): Either a file path to export
          the function to or a callback.
        fun (Callable): A function which takes as input zero or more
          :class:`array` and returns one or more :class:`array`.
        *args (array): Example array inputs to the function.
        shapeless (bool, optional): Whether or not the function allows
          inputs with variable shapes. Default: ``False``.
        metadata (str, optional): A string to save alongside the
          function, for example a JSON encoded model configuration. Only
          supported when exporting to a file. Read it back with
          :func:`import_function`. Default: ``None``.
        **kwargs (array): Additional example keyword array inputs to the
          function.

    Raises:
        ValueError: If ``metadata`` is given when exporting with a callback.

    Example:

      .. code-block:: python

        def fun(x, y):
            return x + y

        x = mx.array(1)
        y = mx.array([1, 2, 3])
        mx.export_function("fun.mlxfn", fun, x, y=y)
    """
    if not callable(fun):
        raise TypeError(f"[export_function] Expected a callable, got {type(fun).__name__}.")
    if callable(file_or_callback) and not isinstance(file_or_callback, (str, os.PathLike)):
        if metadata is not None:
            raise ValueError("[export_function] The metadata argument is only supported when "
                             "exporting to a file, not when using a callback.")
        pos, kw = _split_inputs(args, kwargs, "export_function")
        _export_to_callback(file_or_callback, fun, pos, kw)
        return None
    path = _check_path(file_or_callback, "export_function")
    pos, kw = _split_inputs(args, kwargs, "export_function")
    if metadata is not None and not isinstance(metadata, str):
        raise TypeError(f"[export_function] metadata must be a str or None, got "
                        f"{type(metadata).__name__}.")
    constants = []
    record, _ = trace_function(fun, pos, kw, constants)
    ex = object.__new__(FunctionExporter)
    ex._path = path
    ex._shapeless = bool(shapeless)
    ex._metadata = "" if metadata is None else metadata
    ex._traces = [record]
    ex._constants = constants
    ex._write()


def _letters(int n):
    """MLX's node names: A..Z, AA, AB, ..."""
    s = ""
    n += 1
    while n > 0:
        n -= 1
        s = chr(ord("A") + n % 26) + s
        n //= 26
    return s


def _export_to_callback(callback, fun, pos, kw):
    """The traced graph handed to callback one record at a time, as MLX does."""
    constants = []
    record, live = trace_function(fun, pos, kw, constants)
    inputs, names, outs, order, refs, const_index = live
    name_of = {}

    def name(x):
        if id(x) not in name_of:
            name_of[id(x)] = _letters(len(name_of))
        return name_of[id(x)]

    def desc(x):
        return (name(x), tuple(x.shape), x.dtype)

    callback({"type": "inputs", "inputs": [desc(x) for x in inputs]})
    callback({"type": "keyword_inputs",
              "keywords": [(k, name(inputs[len(pos) + i])) for i, k in enumerate(names)]})
    callback({"type": "outputs", "outputs": [desc(o) for o in outs]})
    callback({"type": "constants", "constants": [(name(c[0]), c[0]) for c in constants]})
    for n in order:
        node = <array>n
        rec = primitive_record(node.primitive)
        state = rec[4]
        callback({"type": "primitive", "name": node.primitive.name(),
                  "arguments": list(state) if isinstance(state, tuple) else [state],
                  "inputs": [desc(x) for x in node.inputs],
                  "outputs": [desc(s) for s in node_outputs(node)]})


# ------------------------------------------------------------------ import

def _bad(path, what):
    raise ValueError(f"[import_function] {path} is not a valid exported function: {what}.")


def _shape_dtype(path, v):
    if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], list) and
            all(isinstance(d, int) and 0 <= d < 2 ** 62 for d in v[0]) and
            isinstance(v[1], str) and v[1] in _DTYPE_BY_NAME):
        _bad(path, f"malformed shape/dtype {v!r}")
    return tuple(v[0]), _DTYPE_BY_NAME[v[1]]


cdef class _Node:
    cdef Primitive prim
    cdef list refs          # input refs: >= 0 a value of the trace, < 0 a constant
    cdef list in_shapes     # traced input shapes (shapeless replay)
    cdef list shapes        # traced output shapes
    cdef list codes         # output dtype codes


class _ImportedTrace:
    def __init__(self, path, rec, list consts, bint shapeless):
        if not isinstance(rec, dict) or not {"args", "kwargs", "nodes", "outputs"} <= set(rec):
            _bad(path, "malformed trace")
        self.args = [_shape_dtype(path, v) for v in rec["args"]]
        self.kwargs = []
        for v in rec["kwargs"]:
            if not (isinstance(v, list) and len(v) == 3 and isinstance(v[0], str)):
                _bad(path, "malformed keyword input")
            self.kwargs.append((v[0],) + _shape_dtype(path, v[1:]))
        shapes = [s for s, _ in self.args] + [s for _, s, _ in self.kwargs]
        self.nodes = []
        for v in rec["nodes"]:
            if not (isinstance(v, list) and len(v) == 3 and isinstance(v[1], list) and
                    isinstance(v[2], list) and v[2]):
                _bad(path, "malformed node")
            try:
                prim = primitive_from_record(v[0])
            except ValueError as e:
                _bad(path, str(e))
            node = _Node()
            node.prim = prim
            node.refs = list(v[1])
            node.in_shapes = [self._shape_of(path, r, shapes, consts) for r in node.refs]
            outs = [_shape_dtype(path, o) for o in v[2]]
            node.shapes = [s for s, _ in outs]
            node.codes = [(<Dtype>d).code for _, d in outs]
            if not export_shapes.consistent(prim, node.in_shapes, node.shapes):
                _bad(path, f"a {prim.name()} node's parameters or shapes do not fit its "
                          f"inputs")
            shapes.extend(node.shapes)
            self.nodes.append(node)
        if not isinstance(rec["outputs"], list):
            _bad(path, "malformed outputs")
        for r in rec["outputs"]:
            self._shape_of(path, r, shapes, consts)
        self.outputs = rec["outputs"]
        self.consts = consts
        self.shapeless = shapeless

    @staticmethod
    def _shape_of(path, r, shapes, consts):
        if not isinstance(r, int) or r >= len(shapes) or -r - 1 >= len(consts):
            _bad(path, f"a node refers to value {r!r}, which is not defined before it")
        return shapes[r] if r >= 0 else tuple(consts[-r - 1].shape)

    def matches(self, pos, kw):
        if len(pos) != len(self.args) or set(kw) != set(k for k, _, _ in self.kwargs):
            return False
        pairs = list(zip(pos, self.args)) + [(kw[k], (s, d)) for k, s, d in self.kwargs]
        for x, (s, d) in pairs:
            if x.dtype != d:
                return False
            if (x.ndim != len(s)) if self.shapeless else (tuple(x.shape) != s):
                return False
        return True

    def describe(self):
        return _fmt_signature([(s, d.name) for s, d in self.args],
                              [(k, s, d.name) for k, s, d in self.kwargs], "   ")

    def run(self, pos, kw):
        cdef _Node node
        cdef list vals = list(pos) + [kw[k] for k, _, _ in self.kwargs]
        cdef list consts = self.consts
        cdef dict broadcasts = {}       # shapeless: id(value) -> (prim, source, weak shape)
        for n in self.nodes:
            node = <_Node>n
            ins = tuple(vals[r] if r >= 0 else consts[-r - 1] for r in node.refs)
            shapes = node.shapes
            if self.shapeless:
                if type(node.prim).__name__ in ("Matmul", "AddMM"):
                    ins = _align_batch(ins, broadcasts)
                shapes = export_shapes.output_shapes(node.prim, [x.shape for x in ins],
                                                     node.in_shapes, node.shapes)
            if len(node.codes) == 1:
                vals.append(new_node(node.codes[0], tuple(shapes[0]), node.prim, ins))
                if self.shapeless and type(node.prim).__name__ == "Broadcast":
                    broadcasts[id(vals[-1])] = (node.prim, ins[0], export_shapes.weak_shape(
                        ins[0].shape, node.in_shapes[0], node.shapes[0]))
            else:
                vals.extend(new_nodes(node.codes, [tuple(s) for s in shapes], node.prim, ins))
        # A constant returned as is gets a copy: the caller may update it in place
        # (__setitem__), which must not change the function.
        copy = _mx().copy
        return tuple(vals[r] if r >= 0 else copy(consts[-r - 1]) for r in self.outputs)


def _align_batch(tuple ins, dict broadcasts):
    """Shapeless matmul: operands the op broadcast to a common batch at trace time are
    broadcast again to the batch of the new shapes (a batched x @ w with another batch)."""
    cdef array src
    shapes = [tuple(x.shape) for x in ins]
    if any(len(s) < 2 for s in shapes[:2]):
        return ins
    weak = [broadcasts[id(x)][2] if id(x) in broadcasts else shapes[k]
            for k, x in enumerate(ins[:2])]
    try:
        batch = export_shapes.broadcast_shapes([w[:-2] for w in weak])
    except ValueError:
        return ins                     # the shape rule reports the mismatch
    want = [batch + shapes[0][-2:], batch + shapes[1][-2:]]
    if len(ins) == 3:
        want.append(batch + (shapes[0][-2], shapes[1][-1]))
    out = list(ins)
    for k in range(len(ins)):
        if shapes[k] != want[k] and id(ins[k]) in broadcasts:
            prim, src, _ = broadcasts[id(ins[k])]
            try:
                fits = export_shapes.broadcast_shapes([src.shape, want[k]]) == want[k]
            except ValueError:
                fits = False
            if fits:
                out[k] = new_node((<array>src).dtype, want[k], prim, (src,))
    return tuple(out)


class ImportedFunction:
    """A function read back by import_function: call it with arrays matching one of the
    recorded traces; it returns a tuple of arrays."""

    def __init__(self, path, traces):
        self._path = path
        self._traces = traces

    def __call__(self, *args, **kwargs):
        pos, kw = _split_inputs(args, kwargs, "import_function::call")
        for t in self._traces:
            if t.matches(pos, kw):
                return t.run(pos, kw)
        msg = ("[import_function::call] No imported function found which matches the given "
               "positional and keyword arguments. Possible functions include:\n")
        for i, t in enumerate(self._traces):
            msg += (f" {i + 1}. Function with {len(t.args)} positional inputs and "
                    f"{len(t.kwargs)} keyword inputs:\n" + t.describe())
        msg += (f"\nCalled with {len(pos)} positional inputs and {len(kw)} keyword inputs:\n" +
                _fmt_signature([(x.shape, x.dtype.name) for x in pos],
                               [(k, x.shape, x.dtype.name) for k, x in kw.items()], "  "))
        raise ValueError(msg)

    def __repr__(self):
        return f"<imported function from {self._path!r} ({len(self._traces)} traces)>"


def import_function(file, return_metadata=False):
    """import_function(file: str, return_metadata: bool = False) -> Callable | tuple[Callable, str]

    Import a function from a file.

    The imported function can be called either with ``*args`` and
    ``**kwargs`` or with a tuple of arrays and/or dictionary of string
    keys with array values. Imported functions always return a tuple of
    arrays.

    Args:
        file (str): The file path to import the function from.
        return_metadata (bool, optional): If ``True`` also return the
          metadata string saved with the function. Default: ``False``.

    Returns:
        Callable or tuple:
            The imported function. If ``return_metadata`` is ``True`` a
            tuple of the imported function and the metadata string is
            returned instead.

    Example:
      >>> fn = mx.import_function("function.mlxfn")
      >>> out = fn(a, b, x=x, y=y)[0]
      >>>
      >>> out = fn((a, b), {"x": x, "y": y})[0]
    """
    path = _check_path(file, "import_function")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RuntimeError(f"[import_function] Failed to open {path} ({e.strerror}).") from None
    payload = export_format.loads(data, path)
    if not (isinstance(payload, dict) and
            {"metadata", "shapeless", "constants", "traces"} <= set(payload) and
            isinstance(payload["metadata"], str) and isinstance(payload["shapeless"], bool) and
            isinstance(payload["constants"], list) and isinstance(payload["traces"], list)):
        _bad(path, "malformed contents")
    consts = []
    for c in payload["constants"]:
        if not (isinstance(c, list) and len(c) == 3 and isinstance(c[2], bytes)):
            _bad(path, "malformed constant")
        shape, dt = _shape_dtype(path, c[:2])
        try:
            consts.append(_constant_from_bytes(shape, dt, c[2]))
        except ValueError as e:
            _bad(path, str(e))
    try:
        traces = [_ImportedTrace(path, t, consts, payload["shapeless"])
                  for t in payload["traces"]]
    except (TypeError, KeyError, IndexError, AttributeError) as e:
        _bad(path, f"malformed trace ({type(e).__name__}: {e})")
    fn = ImportedFunction(path, traces)
    return (fn, payload["metadata"]) if return_metadata else fn
