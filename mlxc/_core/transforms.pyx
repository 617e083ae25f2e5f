"""Function transforms as graph walks over the primitive dispatch table:
vjp, jvp, grad, value_and_grad, vmap.  No tracer types: the user's function runs on
ordinary lazy arrays and the resulting graph is walked, calling each primitive's rule.
"""
from mlxc._core.array cimport array, new_node, node_outputs, transform_depth_add
from mlxc._core.primitive cimport Primitive
from mlxc._core.prims.views cimport Identity, StopGradient

from mlxc._core.array import _py_hooks

cdef Identity _IDENTITY = Identity.__new__(Identity)


cdef class Placeholder(Primitive):
    """The stand-in for a batched input while vmap traces a function: it has a shape but
    no data, so evaluating it (or anything built on it) is an error, as in MLX."""
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        raise ValueError("[eval] Attempting to eval an array during function transformations "
                         "like compile or vmap is not allowed.")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return []

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return []

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        raise ValueError("[vmap] a placeholder is replaced before its rule runs.")


cdef Placeholder _PLACEHOLDER = Placeholder.__new__(Placeholder)


cdef array identity_copy(array x):
    """A new node with x's value whose graph the transforms can tell apart from x."""
    return new_node(x.dtype, x._shape, _IDENTITY, (x,))


cdef list fresh_args(list leaves):
    """What the traced function receives in place of the leaves: a new node over each, so
    that `x[idx] = v` inside the function (which rebinds the object it is given) leaves
    the leaf object -- the one the graph walks look for -- untouched."""
    return [identity_copy(<array>x) if isinstance(x, array) else x for x in leaves]


cdef list graph_order(list outputs, set leaves):
    """Nodes with a primitive reachable from outputs, every node after its inputs.
    Leaves (ids) are not descended into; evaluated nodes kept attached are."""
    cdef list order = []
    cdef list stack = []
    cdef set seen = set()
    cdef array node, inp
    cdef tuple ins
    for o in outputs:
        if id(o) in seen:
            continue
        seen.add(id(o))
        stack.append([o, 0])
        while stack:
            top = stack[-1]
            node = <array>top[0]
            ins = node.inputs if (node.primitive is not None and id(node) not in leaves) else ()
            if ins is None:
                ins = ()
            pushed = False
            while top[1] < len(ins):
                inp = <array>ins[top[1]]
                top[1] += 1
                if id(inp) not in seen:
                    seen.add(id(inp))
                    stack.append([inp, 0])
                    pushed = True
                    break
            if not pushed:
                stack.pop()
                if node.primitive is not None and id(node) not in leaves:
                    order.append(node)
                    if node.siblings is not None:
                        for s in node.siblings:
                            seen.add(id(s))
    return order


cdef set active_nodes(list order, set leaves, bint differentiating):
    """ids of nodes in order that depend on a leaf.  When differentiating, stop_gradient
    cuts the dependence (vmap must still batch through it)."""
    cdef set active = set(leaves)
    cdef array node
    for n in order:
        node = <array>n
        if differentiating and type(node.primitive) is StopGradient:
            continue
        for x in node.inputs:
            if id(x) in active:
                for o in node_outputs(node):
                    active.add(id(o))
                break
    return active


def _as_list(x, what):
    if isinstance(x, array):
        return [x], True
    if isinstance(x, (list, tuple)) and all(isinstance(v, array) for v in x):
        return list(x), False
    raise ValueError(f"[{what}] Expected an array or a list of arrays, got {type(x).__name__}.")


def _zeros_like(x):
    return _py_hooks["ops"].zeros(x.shape, x.dtype)


def _add(a, b):
    return b if a is None else a + b


cdef list backprop(list outputs, list cotangents, list primals):
    """Cotangents of primals for the given output cotangents (reverse graph walk)."""
    cdef set leaves = set(id(p) for p in primals)
    cdef list order = graph_order(outputs, leaves)
    cdef set active = active_nodes(order, leaves, True)
    cdef dict cot = {}
    cdef array node
    for o, c in zip(outputs, cotangents):
        cot[id(o)] = _add(cot.get(id(o)), c)
    for n in reversed(order):
        node = <array>n
        if id(node) not in active:
            continue
        outs = list(node_outputs(node))
        cots = [cot.pop(id(o), None) for o in outs]
        if all(c is None for c in cots):
            continue
        cots = [(_zeros_like(o) if c is None else c) for o, c in zip(outs, cots)]
        inputs = list(node.inputs)
        argnums = [i for i, x in enumerate(inputs) if id(x) in active]
        grads = node.primitive.vjp(inputs, cots, argnums, outs)
        if len(grads) != len(argnums):
            raise ValueError(f"[vjp] {node.primitive.name()} returned {len(grads)} cotangents "
                             f"for {len(argnums)} inputs.")
        for i, g in zip(argnums, grads):
            if g is not None:
                cot[id(inputs[i])] = _add(cot.get(id(inputs[i])), g)
    return [cot.get(id(p)) if cot.get(id(p)) is not None else _zeros_like(p) for p in primals]


cdef list forward_tangents(list outputs, list primals, list tangents):
    cdef set leaves = set(id(p) for p in primals)
    cdef list order = graph_order(outputs, leaves)
    cdef set active = active_nodes(order, leaves, True)
    cdef dict tan = {id(p): t for p, t in zip(primals, tangents)}
    cdef array node
    for n in order:
        node = <array>n
        if id(node) not in active:
            continue
        inputs = list(node.inputs)
        argnums = [i for i, x in enumerate(inputs) if id(x) in tan]
        if not argnums:
            continue
        outs = list(node_outputs(node))
        ts = node.primitive.jvp(inputs, [tan[id(inputs[i])] for i in argnums], argnums, outs)
        for o, t in zip(outs, ts):
            tan[id(o)] = t
    return [tan[id(o)] if id(o) in tan else _zeros_like(o) for o in outputs]


def _run_traced(fun, list args):
    """fun(*args) with eval keeping graphs (values may be needed mid-trace)."""
    transform_depth_add(1)
    try:
        return fun(*args)
    finally:
        transform_depth_add(-1)


def vjp(fun, primals, cotangents):
    """vjp(fun: Callable, primals: list[array], cotangents: list[array]) -> tuple[list[array], list[array]]

    The outputs of fun(*primals) and the vector-Jacobian products of the cotangents."""
    prim_list, _ = _as_list(primals, "vjp")
    cot_list, _ = _as_list(cotangents, "vjp")
    copies = [identity_copy(<array>p) for p in prim_list]
    outs = _run_traced(fun, fresh_args(copies))
    out_list, _ = _as_list(outs, "vjp")
    if len(out_list) != len(cot_list):
        raise ValueError(f"[vjp] Number of outputs to compute gradients for ({len(out_list)}) "
                         f"does not match number of cotangents ({len(cot_list)}).")
    for o, c in zip(out_list, cot_list):
        if o.shape != c.shape:
            raise ValueError(f"[vjp] Output shape {o.shape} does not match cotangent shape "
                             f"{c.shape}.")
    grads = backprop(out_list, [c.astype(o.dtype) for o, c in zip(out_list, cot_list)], copies)
    return out_list, grads


def jvp(fun, primals, tangents):
    """jvp(fun: Callable, primals: list[array], tangents: list[array]) -> tuple[list[array], list[array]]

    The outputs of fun(*primals) and the Jacobian-vector products of the tangents."""
    prim_list, _ = _as_list(primals, "jvp")
    tan_list, _ = _as_list(tangents, "jvp")
    if len(prim_list) != len(tan_list):
        raise ValueError(f"[jvp] Number of inputs ({len(prim_list)}) does not match number of "
                         f"tangents ({len(tan_list)}).")
    for p, t in zip(prim_list, tan_list):
        if p.shape != t.shape:
            raise ValueError(f"[jvp] Input shape {p.shape} does not match tangent shape "
                             f"{t.shape}.")
    copies = [identity_copy(<array>p) for p in prim_list]
    outs = _run_traced(fun, fresh_args(copies))
    out_list, _ = _as_list(outs, "jvp")
    tans = forward_tangents(out_list, copies,
                            [t.astype(p.dtype) for p, t in zip(prim_list, tan_list)])
    return out_list, tans


# ------------------------------------------------------------------ grad

def _flatten_arrays(tree, what):
    """Leaves of a tree of lists/tuples/dicts, all of which must be arrays."""
    from mlxc.utils import tree_flatten
    leaves = [v for _, v in tree_flatten(tree)]
    for v in leaves:
        if not isinstance(v, array):
            raise ValueError(f"[tree_flatten] The argument should contain only arrays")
    return leaves


def _replace_leaves(tree, it):
    """tree with each array leaf replaced by next(it)."""
    from mlxc.utils import tree_map
    return tree_map(lambda _: next(it), tree)


def value_and_grad(fun, argnums=None, argnames=()):
    """value_and_grad(fun: Callable, argnums: int | Sequence[int] | None = None, argnames: str | Sequence[str] = []) -> Callable

    A function returning fun's value and its gradient with respect to the arguments at
    argnums (default 0) and the keyword arguments named in argnames."""
    return _make_grad(fun, argnums, argnames, "value_and_grad", True)


def grad(fun, argnums=None, argnames=()):
    """grad(fun: Callable, argnums: int | Sequence[int] | None = None, argnames: str | Sequence[str] = []) -> Callable

    A function returning the gradient of fun (a scalar) with respect to the arguments at
    argnums (default 0) and the keyword arguments named in argnames."""
    return _make_grad(fun, argnums, argnames, "grad", False)


def _make_grad(fun, argnums, argnames, str name, bint with_value):
    if not callable(fun):
        raise TypeError(f"[{name}] Expected a callable, got {type(fun).__name__}.")
    if isinstance(argnames, str):
        argnames = (argnames,)
    argnames = tuple(argnames)
    if argnums is None:
        argnums = () if argnames else 0
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums and not argnames:
        raise ValueError(f"[{name}] Gradient wrt no argument requested")
    single = len(nums) == 1       # MLX returns the gradient itself for one argnum
    for n in nums:
        if not isinstance(n, int):
            raise TypeError(f"[{name}] argnums must be integers, got {n!r}.")
        if n < 0:
            raise ValueError(f"[{name}] Can't compute the gradient of negative argument "
                             f"index {n}.")
    if len(set(nums)) != len(nums):
        raise ValueError(f"[{name}] Duplicate argument index in argnums {argnums}.")
    nums = tuple(sorted(nums))    # gradients come back in argument order, as in MLX

    def wrapped(*args, **kwargs):
        for n in nums:
            if n >= len(args):
                raise ValueError(f"[{name}] Can't compute the gradient of argument index {n} "
                                 f"because the function is called with only {len(args)} "
                                 f"positional arguments.")
        for k in argnames:
            if k not in kwargs:
                raise ValueError(f"[{name}] Can't compute the gradient of keyword argument "
                                 f"'{k}' because the function is called with the following "
                                 f"keyword arguments {list(kwargs)}.")
        targets = [args[n] for n in nums] + [kwargs[k] for k in argnames]
        leaves = []
        counts = []
        for t in targets:
            lv = _flatten_arrays(t, name)
            leaves.extend(lv)
            counts.append(len(lv))
        copies = [identity_copy(<array>x) for x in leaves]
        it = iter(fresh_args(copies))
        new_args = list(args)
        for n in nums:
            new_args[n] = _replace_leaves(args[n], it)
        new_kwargs = dict(kwargs)
        for k in argnames:
            new_kwargs[k] = _replace_leaves(kwargs[k], it)
        out = _run_traced(lambda *a: fun(*new_args, **new_kwargs), [])
        value = out
        loss = out[0] if (with_value and isinstance(out, tuple) and out) else out
        if not isinstance(loss, array):
            raise ValueError(f"[{name}] The return value of the function whose gradient we "
                             f"want to compute should be either a scalar array or a tuple with "
                             f"the first value being a scalar array (Union[array, Tuple[array, "
                             f"Any, ...]]); but {type(loss).__name__} was returned.")
        if loss.ndim != 0:
            raise ValueError(f"[{name}] The return value of the function whose gradient we "
                             f"want to compute should be a scalar array; but an array of "
                             f"shape {loss.shape} was returned.")
        one = _py_hooks["ops"].ones(loss.shape, loss.dtype)
        grads = backprop([loss], [one], copies) if copies else []
        git = iter(grads)
        per_target = [_replace_leaves(t, git) for t in targets]
        pos = per_target[:len(nums)]
        kw = {k: g for k, g in zip(argnames, per_target[len(nums):])}
        if single:
            g = pos[0]
        elif nums:
            g = tuple(pos)
        else:
            g = None
        if argnames:
            g = (g, kw)
        return (value, g) if with_value else g

    wrapped.__name__ = getattr(fun, "__name__", name)
    wrapped.__doc__ = getattr(fun, "__doc__", None)
    return wrapped


# ------------------------------------------------------------------ vmap

def _axes_tree(axes, tree, what):
    """in_axes/out_axes broadcast to the leaves of tree: a list (one per array leaf)."""
    from mlxc.utils import tree_flatten
    leaves = [v for _, v in tree_flatten(tree)]
    if axes is None or isinstance(axes, int):
        return [axes] * len(leaves)
    if isinstance(axes, (list, tuple, dict)) and isinstance(tree, (list, tuple, dict)):
        out = []
        items = axes.items() if isinstance(axes, dict) else enumerate(axes)
        if len(axes) != len(tree):
            raise ValueError(f"[vmap] {what} has {len(axes)} entries for {len(tree)} inputs.")
        for k, ax in items:
            out.extend(_axes_tree(ax, tree[k], what))
        return out
    raise ValueError(f"[vmap] Invalid {what} {axes!r}.")


def vmap(fun, in_axes=0, out_axes=0):
    """vmap(fun: Callable, in_axes: object = 0, out_axes: object = 0) -> Callable

    Vectorize fun over the given axes of its inputs and outputs."""
    if not callable(fun):
        raise TypeError(f"[vmap] Expected a callable, got {type(fun).__name__}.")

    def wrapped(*args):
        from mlxc.utils import tree_flatten, tree_unflatten, tree_map
        ins_axes = in_axes
        if isinstance(in_axes, list):
            ins_axes = tuple(in_axes)
        if isinstance(ins_axes, tuple) and len(ins_axes) != len(args):
            raise ValueError(f"[vmap] The number of in axes ({len(ins_axes)}) must match the "
                             f"number of arguments ({len(args)}).")
        axes = _axes_tree(ins_axes if not isinstance(ins_axes, int) and ins_axes is not None
                          else ins_axes, args, "in_axes")
        leaves = [v for _, v in tree_flatten(list(args))]
        size = None
        holders = []
        for x, ax in zip(leaves, axes):
            if not isinstance(x, array) or ax is None:
                holders.append(x)
                continue
            if ax < -x.ndim or ax >= x.ndim:
                raise IndexError(f"[vmap] Invalid vectorization axis {ax} for array with shape "
                                 f"{x.shape}")
            ax = ax % x.ndim
            if size is None:
                size = x.shape[ax]
            elif x.shape[ax] != size:
                raise ValueError(f"[vmap] Inconsistent axis sizes: {size} and {x.shape[ax]}.")
            shape = x.shape[:ax] + x.shape[ax + 1:]
            holders.append(new_node((<array>x).dtype, shape, _PLACEHOLDER, ()))
        if size is None:
            raise ValueError("[vmap] At least one of in_axes must be non-None.")
        it = iter(fresh_args(holders))
        traced_args = tree_map(lambda _: next(it), list(args))
        outs = fun(*traced_args)
        out_leaves = [v for _, v in tree_flatten(outs)]
        if not out_leaves or not all(isinstance(v, array) for v in out_leaves):
            raise ValueError("[vmap] The return value of the function must be an array or a "
                             f"tree of arrays, got {type(outs).__name__}.")
        mapping = {}
        for h, x, ax in zip(holders, leaves, axes):
            if isinstance(h, array) and (<array>h).primitive is _PLACEHOLDER:
                mapping[id(h)] = (x, ax % x.ndim)
        results = replay(out_leaves, mapping, size)
        oaxes = _axes_tree(out_axes, outs, "out_axes") if not isinstance(out_axes, int) \
            else [out_axes] * len(out_leaves)
        final = []
        for (y, ax), oa in zip(results, oaxes):
            final.append(_place_batch(y, ax, oa, size))
        fit = iter(final)
        if isinstance(outs, array):
            return final[0]
        return tree_map(lambda _: next(fit), outs)

    return wrapped


def _place_batch(y, int ax, oa, size):
    ops = _py_hooks["ops"]
    if oa is None:
        if ax >= 0:
            raise ValueError("[vmap] An output with out_axes None must not be batched.")
        return y
    if ax < 0:
        y = ops.broadcast_to(ops.expand_dims(y, 0), (size,) + y.shape)
        ax = 0
    if oa < -y.ndim or oa >= y.ndim:
        raise IndexError(f"[vmap] Invalid out axis {oa} for output with {y.ndim} dimensions.")
    return ops.moveaxis(y, ax, oa % y.ndim)


cdef list replay(list outputs, dict mapping, size):
    """Re-run the graph between placeholders and outputs with batched values."""
    cdef set leaves = set(mapping)
    cdef list order = graph_order(outputs, leaves)
    cdef set active = active_nodes(order, leaves, False)
    cdef array node
    for n in order:
        node = <array>n
        if id(node) not in active:
            continue
        inputs, axes = [], []
        for x in node.inputs:
            v, ax = mapping.get(id(x), (x, -1))
            inputs.append(v)
            axes.append(ax)
        outs = list(node_outputs(node))
        new_outs, new_axes = node.primitive.vmap(inputs, axes, outs)
        for o, v, ax in zip(outs, new_outs, new_axes):
            mapping[id(o)] = (v, -1 if ax is None else ax)
    return [mapping.get(id(o), (o, -1)) for o in outputs]
