"""Function transforms as graph walks over the primitive dispatch table:
vjp, jvp, grad, value_and_grad, vmap.  No tracer types: the user's function runs on
ordinary lazy arrays and the resulting graph is walked, calling each primitive's rule.
A rule builds its nodes on the device of the node it transforms (as MLX builds them on
the primitive's stream): set_node_device around each rule call.
"""
from mlxc._core.array cimport (array, new_node, node_outputs, set_node_device,
                               transform_depth_add)
from mlxc._core.primitive cimport Primitive
from mlxc._core.prims.views cimport Identity, StopGradient

from mlxc._core.array import _py_hooks

cdef Identity _IDENTITY = Identity.__new__(Identity)


cdef class Placeholder(Primitive):
    """The stand-in for a batched input while vmap traces a function: it has a shape but
    no data, so evaluating it (or anything built on it) is an error, as in MLX.  Each
    input has its own instance, which knows the batched value it stands for: the
    function may rebind the placeholder array in place (x[i] = v), and the clone that
    then holds the input's old state still shares this primitive."""
    cdef object value        # the batched array
    cdef int axis            # its batch axis
    cdef object call         # the vmap call it belongs to (nested vmaps have their own)
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        raise ValueError("[eval] Attempting to eval an array during function transformations "
                         "like compile or vmap is not allowed.")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return []

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return []

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        raise ValueError("[vmap] a placeholder is replaced before its rule runs.")


cdef array identity_copy(array x):
    """A new node with x's value whose graph the transforms can tell apart from x."""
    return new_node(x.dtype, x._shape, _IDENTITY, (x,))


cdef tuple trace_leaves(list primals):
    """(leaves, passed): the nodes a transform differentiates with respect to, and the
    arrays handed to the function, one identity node above each leaf.  The function may
    rebind what it is given in place (x[i] = v, x += 1); the leaf stays put."""
    cdef list leaves = [identity_copy(<array>p) for p in primals]
    return leaves, [identity_copy(<array>l) for l in leaves]


cdef bint untouched(array passed, array leaf):
    """The function did not rebind `passed` in place."""
    return passed.primitive is _IDENTITY and passed.inputs is not None \
        and passed.inputs[0] is leaf


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
        saved = set_node_device(node.device, -1)
        try:
            grads = node.primitive.vjp(inputs, cots, argnums, outs)
        finally:
            set_node_device(saved, -1)
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
        saved = set_node_device(node.device, -1)
        try:
            ts = node.primitive.jvp(inputs, [tan[id(inputs[i])] for i in argnums], argnums,
                                    outs)
        finally:
            set_node_device(saved, -1)
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
    leaves, copies = trace_leaves(prim_list)
    outs = _run_traced(fun, copies)
    out_list, _ = _as_list(outs, "vjp")
    if len(out_list) > len(cot_list):    # (extra cotangents are ignored, as in MLX)
        raise ValueError(f"[vjp] Number of outputs to compute gradients for ({len(out_list)}) "
                         f"does not match number of cotangents ({len(cot_list)}).")
    for o, c in zip(out_list, cot_list):
        if o.shape != c.shape:
            raise ValueError(f"[vjp] Output shape {_shape_str(o.shape)} does not match "
                             f"cotangent shape {_shape_str(c.shape)}.")
    grads = backprop(out_list, [c.astype(o.dtype) for o, c in zip(out_list, cot_list)], leaves)
    return out_list, grads


def jvp(fun, primals, tangents):
    """jvp(fun: Callable, primals: list[array], tangents: list[array]) -> tuple[list[array], list[array]]

    The outputs of fun(*primals) and the Jacobian-vector products of the tangents."""
    prim_list, _ = _as_list(primals, "jvp")
    tan_list, _ = _as_list(tangents, "jvp")
    if len(prim_list) != len(tan_list):
        raise ValueError("[jvp] Number of inputs does not match number of tangents.")
    for p, t in zip(prim_list, tan_list):
        if p.shape != t.shape:
            raise ValueError("[jvp] Input shape does not match shape of tangent.")
    leaves, copies = trace_leaves(prim_list)
    outs = _run_traced(fun, copies)
    out_list, _ = _as_list(outs, "jvp")
    tans = forward_tangents(out_list, leaves,
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


def _swap_in(tree, it, list made):
    """Put next(it) in place of each array leaf of tree, as MLX does: lists and dicts
    are changed in place (the function sees the caller's containers, so what it writes
    into them stays visible), tuples are rebuilt (made records (new, old))."""
    if isinstance(tree, array):
        return next(it)
    if isinstance(tree, list):
        for i in range(len(tree)):
            tree[i] = _swap_in(tree[i], it, made)
        return tree
    if isinstance(tree, dict):
        for k in list(tree):
            tree[k] = _swap_in(tree[k], it, made)
        return tree
    if isinstance(tree, tuple):
        items = [_swap_in(v, it, made) for v in tree]
        new = type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
        made.append((new, tree))
        return new
    return tree


def _swap_out(tree, dict back, dict made, set seen):
    """Undo _swap_in where the function left a slot as it was given: the caller's array
    comes back; slots the function rebound keep the new value."""
    if isinstance(tree, array):
        return back.get(id(tree), tree)
    if isinstance(tree, (list, dict, tuple)):
        if id(tree) in seen:
            return tree
        seen.add(id(tree))
    if isinstance(tree, list):
        for i in range(len(tree)):
            tree[i] = _swap_out(tree[i], back, made, seen)
        return tree
    if isinstance(tree, dict):
        for k in list(tree):
            tree[k] = _swap_out(tree[k], back, made, seen)
        return tree
    if isinstance(tree, tuple):
        items = [_swap_out(v, back, made, seen) for v in tree]
        old = made.get(id(tree))
        if old is not None and len(old) == len(items) and \
                all(a is b for a, b in zip(items, old)):
            return old
        if all(a is b for a, b in zip(items, tree)):
            return tree
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return tree


_RETURN = "The return value of the function whose gradient we want to compute should be"


def _check_loss(out, str name, bint with_value):
    """The scalar to differentiate: out, or out[0] for value_and_grad (the rest is
    auxiliary); MLX's errors otherwise."""
    if with_value:
        if isinstance(out, tuple):
            if not out:
                raise ValueError(f"[{name}] {_RETURN} either a scalar array or a non-empty "
                                 f"tuple. The first value should be a scalar array and the "
                                 f"rest can be anything. Instead, we got an empty tuple.")
            if not isinstance(out[0], array):
                raise ValueError(f"[{name}] {_RETURN} either a scalar array or a tuple with "
                                 f"the first value being a scalar array (Union[array, "
                                 f"tuple[array, Any, ...]]); but it was a tuple with the first "
                                 f"value being of type {type(out[0]).__name__} .")
            out = out[0]
        elif not isinstance(out, array):
            raise ValueError(f"[{name}] {_RETURN} either a scalar array or a tuple with the "
                             f"first value being a scalar array (Union[array, tuple[array, "
                             f"Any, ...]]); but {type(out).__name__} was returned.")
    elif not isinstance(out, array):
        raise ValueError(f"[{name}] {_RETURN} a scalar array; but {type(out).__name__} was "
                         f"returned.")
    if out.ndim != 0:
        hint = " If you are using grad your function must return a scalar." \
            if out.size == 1 else ""
        raise ValueError(f"[vjp] Output shape {_shape_str(out.shape)} does not match "
                         f"cotangent shape ().{hint}")
    return out


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
                             f"index {n}")
    for i, n in enumerate(nums):
        if n in nums[:i]:
            raise ValueError(f"[{name}] Duplicate argument index {n} is not allowed.")
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
                                 f"keyword arguments {{{''.join(k + ',' for k in kwargs)}}}")
        targets = [args[n] for n in nums] + [kwargs[k] for k in argnames]
        leaves = []
        for t in targets:
            leaves.extend(_flatten_arrays(t, name))
        # The gradients take the arguments' structure as it is now: the function may
        # change the containers it is given.
        lit = iter(leaves)
        targets = [_replace_leaves(t, lit) for t in targets]
        tleaves, copies = trace_leaves(leaves)
        it = iter(copies)
        made = []
        new_args = list(args)
        new_kwargs = dict(kwargs)
        try:
            for n in nums:
                new_args[n] = _swap_in(args[n], it, made)
            for k in argnames:
                new_kwargs[k] = _swap_in(kwargs[k], it, made)
            out = _run_traced(lambda *a: fun(*new_args, **new_kwargs), [])
        finally:
            # The caller's containers get their arrays back, except where the function
            # put new ones (MLX semantics: in-place updates stay visible).
            back = {id(c): x for c, x, l in zip(copies, leaves, tleaves)
                    if untouched(<array>c, <array>l)}
            made_ids = {id(m[0]): m[1] for m in made}
            seen = set()
            for n in nums:
                _swap_out(new_args[n], back, made_ids, seen)
            for k in argnames:
                _swap_out(new_kwargs[k], back, made_ids, seen)
        value = out
        loss = _check_loss(out, name, with_value)
        one = _py_hooks["ops"].ones(loss.shape, loss.dtype)
        grads = backprop([loss], [one], tleaves) if tleaves else []
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

    def wrapped(*args, **kwargs):
        from mlxc.utils import tree_flatten, tree_unflatten, tree_map
        cdef Placeholder ph
        if kwargs:
            raise TypeError("[vmap] Keyword arguments are not supported.")
        ins_axes = in_axes
        if isinstance(in_axes, list):
            ins_axes = tuple(in_axes)
        if isinstance(ins_axes, tuple) and len(ins_axes) != len(args):
            raise ValueError(f"[vmap] The number of in axes ({len(ins_axes)}) must match the "
                             f"number of arguments ({len(args)}).")
        axes = _axes_tree(ins_axes if not isinstance(ins_axes, int) and ins_axes is not None
                          else ins_axes, args, "in_axes")
        leaves = [v for _, v in tree_flatten(list(args))]
        if not all(isinstance(v, array) for v in leaves):
            raise ValueError("[tree_flatten] The argument should contain only arrays")
        size = None
        holders = []
        call = object()
        for x, ax in zip(leaves, axes):
            if ax is None:
                # A node of its own: x[i] = v inside the function rebinds the copy, not
                # the caller's array (as in MLX).
                holders.append(identity_copy(<array>x))
                continue
            if ax < -x.ndim or ax >= x.ndim:
                raise IndexError(f"[vmap] Invalid vectorization axis {ax} for array with shape "
                                 f"{_shape_str(x.shape)}")
            ax = ax % x.ndim
            if size is None:
                size = x.shape[ax]
            elif x.shape[ax] != size:
                raise ValueError(f"[vmap] Inconsistent axis sizes: {size} and {x.shape[ax]}.")
            shape = x.shape[:ax] + x.shape[ax + 1:]
            ph = Placeholder.__new__(Placeholder)
            ph.value = x
            ph.axis = ax
            ph.call = call
            holders.append(new_node((<array>x).dtype, shape, ph, ()))
        if size is None:
            raise ValueError("At least one of in_axes must be non-None.")
        it = iter(holders)
        traced_args = tree_map(lambda _: next(it), list(args))
        outs = fun(*traced_args)
        out_leaves = [v for _, v in tree_flatten(outs)]
        if not out_leaves or not all(isinstance(v, array) for v in out_leaves):
            raise ValueError("[tree_flatten] The argument should contain only arrays")
        results = replay(out_leaves, call, size)
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
        unbatched = y.shape[:ax] + y.shape[ax + 1:]
        raise IndexError(f"[vmap] Invalid output vectorization axis {oa} for array with "
                         f"shape {_shape_str(unbatched)}")
    return ops.moveaxis(y, ax, oa % y.ndim)


def _shape_str(shape):
    """A shape as MLX's messages print it: (2,3), (2), ()."""
    return "(" + ",".join(str(d) for d in shape) + ")"


cdef list replay(list outputs, object call, size):
    """Re-run the graph between call's placeholders and outputs with batched values."""
    cdef list order = graph_order(outputs, set())
    cdef dict mapping = {}
    cdef array node
    cdef Placeholder ph
    for n in order:         # every array holding one of call's placeholders (clones too)
        node = <array>n
        if type(node.primitive) is Placeholder and (<Placeholder>node.primitive).call is call:
            ph = <Placeholder>node.primitive
            mapping[id(node)] = (ph.value, ph.axis)
    cdef set leaves = set(mapping)
    cdef set active = active_nodes(order, leaves, False)
    for n in order:
        node = <array>n
        if id(node) not in active or id(node) in leaves:
            continue
        inputs, axes = [], []
        for x in node.inputs:
            v, ax = mapping.get(id(x), (x, -1))
            inputs.append(v)
            axes.append(ax)
        outs = list(node_outputs(node))
        saved = set_node_device(node.device, -1)
        try:
            new_outs, new_axes = node.primitive.vmap(inputs, axes, outs)
        finally:
            set_node_device(saved, -1)
        for o, v, ax in zip(outs, new_outs, new_axes):
            mapping[id(o)] = (v, -1 if ax is None else ax)
    return [mapping.get(id(o), (o, -1)) for o in outputs]
