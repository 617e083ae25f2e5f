"""mx.custom_function and mx.checkpoint.

Following MLX's construction: the wrapped function runs forward; its outputs pass
through stop_gradient; a CustomTransforms node takes the array arguments plus those
outputs as inputs and hands the outputs on unchanged.  Its transform rules call the
user's vjp/jvp/vmap where given and transform the wrapped function where not.  Arrays
the function captures are not inputs of the node, so they are constants.
"""
from mlxc._core.array cimport array, new_nodes, share_buffer, update_flags
from mlxc._core.primitive cimport Primitive
from mlxc._core.array cimport new_node
from mlxc._core.prims.views cimport StopGradient

from mlxc._core.array import _py_hooks


cdef StopGradient _STOP = StopGradient.__new__(StopGradient)


cdef array stop_gradient_op(array x):
    return new_node(x.dtype, x._shape, _STOP, (x,))


def _tree_leaves(tree):
    from mlxc.utils import tree_flatten
    return [v for _, v in tree_flatten(tree)]


def _rebuild(tree, values):
    """tree with its array leaves replaced, in order, by values."""
    from mlxc.utils import tree_map
    it = iter(values)
    return tree_map(lambda v: next(it) if isinstance(v, array) else v, tree)


def _rule_args(tree, values):
    """The arguments as the user's rules see them: a lone argument is passed by itself
    (MLX passes f_vjp(x, dx, fx) the array, not a 1-tuple)."""
    r = _rebuild(tree, values)
    return r[0] if isinstance(r, tuple) and len(r) == 1 else r


cdef class CustomTransforms(Primitive):
    cdef object owner        # the custom_function
    cdef object args         # the positional arguments of the call (a tree)
    cdef object kwargs       # keyword arguments of the call (constants)
    cdef object out_tree     # the structure of the outputs
    cdef int n_in            # array leaves of args (the first inputs of the node)

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef int i
        cdef array src, out
        for i in range(len(outputs)):
            src = <array>inputs[self.n_in + i]
            out = <array>outputs[i]
            share_buffer(out, src, src.offset)
            for k in range(out.ndim):
                out.strides[k] = src.strides[k]
            update_flags(out)
        return 0

    cpdef str name(self):
        return "CustomTransforms"

    def _call_with(self, list arrays):
        """The wrapped function's flat outputs for the given array arguments."""
        args = _rebuild(self.args, arrays)
        return _tree_leaves(self.owner.fun(*args, **self.kwargs))

    def _structured(self, list flat):
        return flat[0] if isinstance(self.out_tree, array) else _rebuild(self.out_tree, flat)

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _custom_vjp(self, primals, cotangents, argnums, outputs)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _custom_jvp(self, primals, tangents, argnums)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _custom_vmap(self, inputs, axes)


# The rules live in plain functions: Cython allows no closures inside cpdef methods.

def _custom_vjp(CustomTransforms prim, list primals, list cotangents, list argnums,
                list outputs):
    from mlxc._core.transforms import vjp as vjp_
    cdef int n = prim.n_in
    zeros = _py_hooks["ops"].zeros
    if all(i >= n for i in argnums):     # only the stop_gradient'ed outputs are asked for
        return [zeros(primals[i].shape, primals[i].dtype) for i in argnums]
    arrays = primals[:n]
    fn = prim.owner._vjp
    if fn is None:
        _, grads = vjp_(lambda *a: prim._call_with(list(a)), arrays, cotangents)
    else:
        res = fn(_rule_args(prim.args, arrays), prim._structured(cotangents),
                 prim._structured(outputs))
        grads = [res] if isinstance(res, array) else _tree_leaves(res)
        if len(grads) != n:
            raise ValueError(f"[custom_function] The custom vjp returned {len(grads)} "
                             f"cotangents but the function has {n} array inputs.")
        for g, p in zip(grads, arrays):
            if not isinstance(g, array) or g.shape != p.shape:
                raise ValueError(f"[custom_function] The custom vjp returned a cotangent "
                                 f"of shape {getattr(g, 'shape', None)} for an input of "
                                 f"shape {p.shape}.")
    return [grads[i] if i < n else zeros(primals[i].shape, primals[i].dtype)
            for i in argnums]


def _custom_jvp(CustomTransforms prim, list primals, list tangents, list argnums):
    from mlxc._core.transforms import jvp as jvp_
    cdef int n = prim.n_in
    zeros = _py_hooks["ops"].zeros
    arrays = primals[:n]
    full = [zeros(p.shape, p.dtype) for p in arrays]
    for i, t in zip(argnums, tangents):
        if i < n:
            full[i] = t
    fn = prim.owner._jvp
    if fn is None:
        _, tans = jvp_(lambda *a: prim._call_with(list(a)), arrays, full)
        return tans
    res = fn(_rule_args(prim.args, arrays), _rule_args(prim.args, full))
    return [res] if isinstance(res, array) else _tree_leaves(res)


def _custom_vmap(CustomTransforms prim, list inputs, list axes):
    from mlxc._core.transforms import vmap as vmap_
    cdef int n = prim.n_in
    arrays = inputs[:n]
    in_axes = [None if a < 0 else a for a in axes[:n]]
    fn = prim.owner._vmap
    if fn is None:
        outs = vmap_(lambda *a: prim._call_with(list(a)), in_axes=tuple(in_axes))(*arrays)
        return list(outs), [0] * len(outs)
    res, res_axes = fn(_rule_args(prim.args, arrays), _rule_args(prim.args, in_axes))
    outs = [res] if isinstance(res, array) else _tree_leaves(res)
    oaxes = [res_axes] if not isinstance(res_axes, (list, tuple)) else list(res_axes)
    return outs, [-1 if a is None else a for a in oaxes]


class custom_function:
    """custom_function(f: Callable)

    Set up a function for custom gradient and vmap definitions.  Instances behave like f;
    the functions given to .vjp, .jvp and .vmap replace the default transforms, and an
    undefined one falls back to transforming f.  Captured arrays are constants."""

    def __init__(self, f):
        if not callable(f):
            raise TypeError(f"[custom_function] Expected a callable, got {type(f).__name__}.")
        self.fun = f
        self._vjp = self._jvp = self._vmap = None
        self.__name__ = getattr(f, "__name__", "custom_function")
        self.__doc__ = getattr(f, "__doc__", None)

    def vjp(self, f):
        """Define a custom vjp: f(primals, cotangents, outputs) -> cotangents of primals."""
        self._vjp = f
        return f

    def jvp(self, f):
        """Define a custom jvp: f(primals, tangents) -> tangents of the outputs."""
        self._jvp = f
        return f

    def vmap(self, f):
        """Define a custom vmap: f(inputs, axes) -> (outputs, output axes)."""
        self._vmap = f
        return f

    def __call__(self, *args, **kwargs):
        outs = self.fun(*args, **kwargs)
        cdef list flat_outs, in_arrays
        # Fast paths for the common shapes (array arguments, one array result) keep the
        # wrapper cheap; trees go through the tree utilities.
        if isinstance(outs, array):
            flat_outs = [outs]
        else:
            flat_outs = _tree_leaves(outs)
            for o in flat_outs:
                if not isinstance(o, array):
                    raise ValueError("[custom_function] The function must return arrays "
                                     f"(or trees of arrays), got {type(o).__name__}.")
        in_arrays = []
        for a in args:
            if isinstance(a, array):
                in_arrays.append(a)
            elif isinstance(a, (list, tuple, dict)):
                in_arrays.extend(v for v in _tree_leaves(a) if isinstance(v, array))
        cdef CustomTransforms prim = CustomTransforms.__new__(CustomTransforms)
        prim.owner = self
        prim.args = args
        prim.kwargs = kwargs
        prim.out_tree = outs
        prim.n_in = len(in_arrays)
        cdef list dts = []
        cdef list shapes = []
        for o in flat_outs:
            dts.append((<array>o).dtype)
            shapes.append((<array>o)._shape)
            in_arrays.append(stop_gradient_op(<array>o))
        nodes = new_nodes(dts, shapes, prim, tuple(in_arrays))
        if isinstance(outs, array):
            return nodes[0]
        return _rebuild(outs, nodes)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        import functools
        return functools.partial(self, obj)


def checkpoint(fun):
    """checkpoint(fun: Callable) -> Callable

    fun, but its intermediate values are not kept for the backward pass: the vjp
    recomputes them from the inputs."""
    cf = custom_function(fun)

    def wrapped(*args, **kwargs):
        return cf(*args, **kwargs)

    wrapped.__name__ = getattr(fun, "__name__", "checkpoint")
    wrapped.__doc__ = getattr(fun, "__doc__", None)
    return wrapped
