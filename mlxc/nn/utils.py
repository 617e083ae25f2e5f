"""Helpers tying Modules to the transforms, as ``mlx.nn.utils``."""

from functools import wraps
from typing import Any, Callable, Optional

import mlxc.core as mx
from mlxc.utils import tree_flatten, tree_map, tree_reduce, tree_unflatten
from mlxc.nn.layers.base import Module


def _with_params(model, fn):
    """``fn`` as a function of the model's parameters first: they are
    written into the model before ``fn`` runs, so the transform sees them."""

    def inner(params, *args, **kwargs):
        model.update(params)
        return fn(*args, **kwargs)

    return inner


def value_and_grad(model: Module, fn: Callable):
    """Transform ``fn`` into one returning ``(value, grads)`` where the
    gradients are taken with respect to ``model.trainable_parameters()``."""
    vg = mx.value_and_grad(_with_params(model, fn))

    @wraps(fn)
    def wrapped(*args, **kwargs):
        return vg(model.trainable_parameters(), *args, **kwargs)

    return wrapped


def checkpoint(module: Module, fn: Optional[Callable] = None):
    """Run ``fn`` (the module's call by default) under ``mx.checkpoint`` with
    the module's trainable parameters as inputs."""
    if fn is None:
        fn = module
    run = mx.checkpoint(_with_params(module, fn))

    @wraps(fn)
    def wrapped(*args, **kwargs):
        return run(module.trainable_parameters(), *args, **kwargs)

    return wrapped


def _batches(sizes, itemsize, limit):
    """Consecutive index groups whose byte size just reaches ``limit``."""
    groups, current, nbytes = [], [], 0
    for i, n in enumerate(sizes):
        current.append(i)
        nbytes += n * itemsize
        if nbytes >= limit:
            groups.append(current)
            current, nbytes = [], 0
    if current:
        groups.append(current)
    return groups


def average_gradients(
    gradients: Any,
    group: Optional[mx.distributed.Group] = None,
    all_reduce_size: int = 32 * 1024**2,
    communication_stream: Optional[mx.Stream] = None,
):
    """Average a gradient tree over the processes of ``group``.

    Small arrays are concatenated into buffers of about ``all_reduce_size``
    bytes before the all-sum (``all_reduce_size <= 0`` sums array by array).
    In a single process the gradients come back unchanged.
    """
    group = group or mx.distributed.init()
    n = group.size()
    if n == 1:
        return gradients

    def one_by_one(x):
        return mx.distributed.all_sum(x, group=group, stream=communication_stream) / n

    if all_reduce_size <= 0:
        return tree_map(one_by_one, gradients)
    flat = tree_flatten(gradients)
    if not flat:
        return gradients
    dtypes = {g.dtype for _, g in flat}
    if len(dtypes) > 1:
        return average_gradients(gradients, group, 0)
    sizes = [g.size for _, g in flat]
    out = []
    for idx in _batches(sizes, flat[0][1].dtype.size, all_reduce_size):
        big = mx.concatenate([flat[i][1].reshape(-1) for i in idx])
        big = mx.distributed.all_sum(big, stream=communication_stream, group=group) / n
        cuts, acc = [], 0
        for i in idx[:-1]:
            acc += sizes[i]
            cuts.append(acc)
        for part, i in zip(mx.split(big, cuts), idx):
            out.append((flat[i][0], part.reshape(flat[i][1].shape)))
    return tree_unflatten(out)


def clip_grad_norm_sharded(
    gradients: Any, max_norm: float, group: Optional[mx.distributed.Group] = None
):
    """Clip gradients sharded over ``group`` by their global L2 norm."""
    local = tree_reduce(lambda acc, g: acc + g.square().sum(), gradients, 0.0)
    norm = mx.sqrt(mx.distributed.all_sum(local, group=group))
    factor = mx.minimum(max_norm / (norm + 1e-6), 1.0)
    return tree_map(lambda g: g * factor, gradients), norm
