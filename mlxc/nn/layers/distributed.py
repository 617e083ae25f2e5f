"""Tensor-parallel linear layers and fully sharded modules, as MLX.

In a single process (the group of size 1 that ``mx.distributed.init()``
returns here) sharding is the identity: the layers hold the whole weight and
the collectives return their input.
"""

import math
from functools import lru_cache
from typing import Callable, Optional, Union

import mlxc.core as mx
from mlxc.nn.layers.base import Module
from mlxc.nn.layers.linear import Linear
from mlxc.utils import tree_flatten, tree_map_with_path, tree_unflatten


@lru_cache
def sum_gradients(group):
    """Identity forward, all-sum of the cotangent backward."""
    if group.size() == 1:
        return lambda x: x

    @mx.custom_function
    def f(x):
        return x

    @f.vjp
    def f(x, dx, _):
        return mx.distributed.all_sum(dx, group=group)

    return f


def _split(weight, segments, axis):
    """``segments`` equal parts, or cut at the given fractions of the axis."""
    if isinstance(segments, int) or isinstance(segments[0], int):
        return mx.split(weight, segments, axis=axis)
    n = weight.shape[axis]
    return mx.split(weight, [int(s * n) for s in segments], axis=axis)


def _shard(parameters: dict, sharding_predicate: Callable,
           group: Optional[mx.distributed.Group] = None):
    """This rank's part of every parameter the predicate names an axis for
    (``axis`` or ``(axis, segments)``); each segment is split separately so
    fused weights (q, k, v together) shard per segment."""
    group = group or mx.distributed.init()
    n, rank = group.size(), group.rank()

    def shard_one(path, weight):
        if not isinstance(weight, mx.array):
            return weight
        spec = sharding_predicate(path, weight)
        if spec is None:
            return weight
        if isinstance(spec, int):
            axis, segments = spec, 1
        elif isinstance(spec, tuple):
            axis, segments = spec
        else:
            raise ValueError("The sharding function should return int or tuple[int, list]")
        parts = [_split(seg, n, axis)[rank] for seg in _split(weight, segments, axis)]
        return mx.contiguous(mx.concatenate(parts, axis=axis))

    return tree_map_with_path(shard_one, parameters)


def _all_to_sharded(segments):
    def spec(path, weight):
        if path.endswith("bias"):
            return -1, segments
        return max(weight.ndim - 2, 0), segments

    return spec


def _sharded_to_all(segments):
    def spec(path, weight):
        if path.endswith("bias"):
            return None
        return -1, segments

    return spec


def _check_sharding(sharding):
    if sharding not in ("all-to-sharded", "sharded-to-all"):
        raise ValueError(
            f"Sharding type sharding={sharding!r} not supported, choose one of "
            "'all-to-sharded' or 'sharded-to-all'"
        )


def shard_inplace(module: Module, sharding: Union[str, Callable], *,
                  segments: Union[int, list] = 1,
                  group: Optional[mx.distributed.Group] = None):
    """Replace the module's parameters with this rank's shards."""
    if isinstance(sharding, str):
        _check_sharding(sharding)
        sharding = (_all_to_sharded if sharding == "all-to-sharded"
                    else _sharded_to_all)(segments)
    module.update(_shard(module.parameters(), sharding, group))


def shard_linear(module: Module, sharding: str, *, segments: Union[int, list] = 1,
                 group: Optional[mx.distributed.Group] = None):
    """The sharded counterpart of a Linear or QuantizedLinear."""
    _check_sharding(sharding)
    dense = isinstance(module, Linear)
    if sharding == "all-to-sharded":
        make = (AllToShardedLinear.from_linear if dense
                else QuantizedAllToShardedLinear.from_quantized_linear)
    else:
        make = (ShardedToAllLinear.from_linear if dense
                else QuantizedShardedToAllLinear.from_quantized_linear)
    return make(module, segments=segments, group=group)


def _check_divisible(size, n, all_to_sharded):
    if size % n != 0:
        if all_to_sharded:
            raise ValueError(f"Cannot shard the output of size {size} across {n} devices.")
        raise ValueError(f"The input of size {size} cannot be sharded across {n} devices.")


class AllToShardedLinear(Module):
    """Linear layer whose output features are split across the group."""

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True,
                 group: Optional[mx.distributed.Group] = None):
        super().__init__()
        scale = math.sqrt(1.0 / input_dims)
        self.group = group or mx.distributed.init()
        n = self.group.size()
        _check_divisible(output_dims, n, True)
        self.weight = mx.random.uniform(low=-scale, high=scale,
                                        shape=(output_dims // n, input_dims))
        if bias:
            self.bias = mx.random.uniform(low=-scale, high=scale,
                                          shape=(output_dims // n,))

    def _extra_repr(self):
        out_dims, in_dims = self.weight.shape
        return (f"input_dims={in_dims}, output_dims={out_dims * self.group.size()}, "
                f"bias={'bias' in self}")

    def __call__(self, x: mx.array) -> mx.array:
        x = sum_gradients(self.group)(x)
        if "bias" in self:
            return mx.addmm(self["bias"], x, self["weight"].T)
        return x @ self["weight"].T

    @classmethod
    def from_linear(cls, linear_layer: Module, *, segments: Union[int, list] = 1,
                    group: Optional[mx.distributed.Group] = None):
        group = group or mx.distributed.init()
        out_dims, in_dims = linear_layer.weight.shape
        sl = cls(in_dims, out_dims, hasattr(linear_layer, "bias"), group)
        sl.update(_shard(linear_layer.parameters(), _all_to_sharded(segments), group))
        return sl


class ShardedToAllLinear(Module):
    """Linear layer whose input features are split across the group; the
    partial products are all-summed."""

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True,
                 group: Optional[mx.distributed.Group] = None):
        super().__init__()
        scale = math.sqrt(1.0 / input_dims)
        self.group = group or mx.distributed.init()
        n = self.group.size()
        _check_divisible(input_dims, n, False)
        self.weight = mx.random.uniform(low=-scale, high=scale,
                                        shape=(output_dims, input_dims // n))
        if bias:
            self.bias = mx.random.uniform(low=-scale, high=scale, shape=(output_dims,))

    def _extra_repr(self):
        out_dims, in_dims = self.weight.shape
        return (f"input_dims={in_dims * self.group.size()}, output_dims={out_dims}, "
                f"bias={'bias' in self}")

    def __call__(self, x: mx.array) -> mx.array:
        x = mx.distributed.all_sum(x @ self["weight"].T, group=self.group)
        if "bias" in self:
            x = x + self["bias"]
        return x

    @classmethod
    def from_linear(cls, linear_layer: Module, *, segments: Union[int, list] = 1,
                    group: Optional[mx.distributed.Group] = None):
        group = group or mx.distributed.init()
        out_dims, in_dims = linear_layer.weight.shape
        sl = cls(in_dims, out_dims, hasattr(linear_layer, "bias"), group)
        sl.update(_shard(linear_layer.parameters(), _sharded_to_all(segments), group))
        return sl


class _QuantizedSharded(Module):
    """Common parts of the quantized sharded layers."""

    def _setup(self, input_dims, output_dims, bias, group_size, bits, mode, group,
               all_to_sharded):
        self.group_size = group_size
        self.bits = bits
        self.mode = mode
        scale = math.sqrt(1.0 / input_dims)
        self.group = group or mx.distributed.init()
        n = self.group.size()
        if all_to_sharded:
            _check_divisible(output_dims, n, True)
            shape = (output_dims // n, input_dims)
        else:
            _check_divisible(input_dims, n, False)
            shape = (output_dims, input_dims // n)
        w = mx.random.uniform(low=-scale, high=scale, shape=shape)
        self.weight, self.scales, *rest = mx.quantize(w, group_size, bits, mode=mode)
        self.biases = rest[0] if rest else None
        if bias:
            self.bias = mx.zeros((shape[0],))
        self.freeze()

    def unfreeze(self, *args, **kwargs):
        """The quantized weights stay frozen; only the bias unfreezes."""
        super().unfreeze(*args, **kwargs)
        self.freeze(recurse=False)
        return self

    def _qmm(self, x):
        return mx.quantized_matmul(
            x, self["weight"], scales=self["scales"], biases=self.get("biases"),
            transpose=True, group_size=self.group_size, bits=self.bits, mode=self.mode,
        )

    @classmethod
    def _from(cls, layer, segments, group, spec):
        group = group or mx.distributed.init()
        out_dims, packed = layer.weight.shape
        in_dims = packed * 32 // layer.bits
        sl = cls(in_dims, out_dims, hasattr(layer, "bias"),
                 group_size=layer.group_size, bits=layer.bits,
                 mode=getattr(layer, "mode", "affine"), group=group)
        sl.update(_shard(layer.parameters(), spec(segments), group))
        return sl


class QuantizedAllToShardedLinear(_QuantizedSharded):
    """Quantized ``AllToShardedLinear``."""

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True,
                 group_size: int = 64, bits: int = 4, mode: str = "affine",
                 group: Optional[mx.distributed.Group] = None):
        super().__init__()
        self._setup(input_dims, output_dims, bias, group_size, bits, mode, group, True)

    def _extra_repr(self):
        out_dims, packed = self.weight.shape
        return (
            f"input_dims={packed * 32 // self.bits}, "
            f"output_dims={out_dims * self.group.size()}, bias={'bias' in self}, "
            f"group_size={self.group_size}, bits={self.bits}, mode={self.mode}"
        )

    def __call__(self, x: mx.array) -> mx.array:
        x = self._qmm(sum_gradients(self.group)(x))
        if "bias" in self:
            x = x + self["bias"]
        return x

    @classmethod
    def from_quantized_linear(cls, quantized_linear_layer: Module, *,
                              segments: Union[int, list] = 1,
                              group: Optional[mx.distributed.Group] = None):
        return cls._from(quantized_linear_layer, segments, group, _all_to_sharded)


class QuantizedShardedToAllLinear(_QuantizedSharded):
    """Quantized ``ShardedToAllLinear``."""

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True,
                 group_size: int = 64, bits: int = 4, mode: str = "affine",
                 group: Optional[mx.distributed.Group] = None):
        super().__init__()
        self._setup(input_dims, output_dims, bias, group_size, bits, mode, group, False)

    def _extra_repr(self):
        out_dims, packed = self.weight.shape
        return (
            f"input_dims={packed * 32 // self.bits * self.group.size()}, "
            f"output_dims={out_dims}, bias={'bias' in self}, "
            f"group_size={self.group_size}, bits={self.bits}, mode={self.mode}"
        )

    def __call__(self, x: mx.array) -> mx.array:
        x = mx.distributed.all_sum(self._qmm(x), group=self.group)
        if "bias" in self:
            x = x + self["bias"]
        return x

    @classmethod
    def from_quantized_linear(cls, quantized_linear_layer: Module, *,
                              segments: Union[int, list] = 1,
                              group: Optional[mx.distributed.Group] = None):
        return cls._from(quantized_linear_layer, segments, group, _sharded_to_all)


def _make_gather_fn(group, full_shapes, shard_sizes, compute_dtype):
    """All-gather of a list of parameter shards (one collective for all),
    whose vjp is a sum-scatter of the cotangents divided by the group size."""
    n = group.size()
    cuts, acc = [], 0
    for s in shard_sizes[:-1]:
        acc += s
        cuts.append(acc)
    shard_shapes = [(s[0] // n,) + tuple(s[1:]) for s in full_shapes]

    def cast(x, dtype):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)

    @mx.custom_function
    def gather(shards):
        flat = mx.concatenate([cast(s.reshape(1, -1), compute_dtype) for s in shards],
                              axis=1)
        full = mx.distributed.all_gather(flat, group=group)
        parts = mx.split(full, cuts, axis=1)
        return [p.reshape(shape) for p, shape in zip(parts, full_shapes)]

    @gather.vjp
    def gather_vjp(shards, cotangents, _):
        joined = mx.concatenate([c.reshape(n, -1) for c in cotangents], axis=1)
        mine = mx.distributed.sum_scatter(joined, group=group) / n
        parts = mx.split(mine, cuts, axis=1)
        return [cast(p.reshape(shape), s.dtype)
                for p, shape, s in zip(parts, shard_shapes, shards)]

    return gather


def _maybe_shard(m, k, v):
    if isinstance(v, FullyShardedModule):
        return False
    return Module.valid_parameter_filter(m, k, v)


class FullyShardedModule(Module):
    """Keeps only this rank's slice (along axis 0) of every parameter of
    ``module`` and gathers the full parameters around each call."""

    def __init__(self, module: Module, group: Optional[mx.distributed.Group] = None,
                 compute_dtype: Optional[mx.Dtype] = None):
        super().__init__()
        group = group or mx.distributed.init()
        n = group.size()
        params = module.filter_and_map(_maybe_shard)
        flat = tree_flatten(params)
        for path, a in flat:
            if a.ndim == 0:
                raise ValueError(f"Cannot shard parameter '{path}' because it is a scalar.")
            if a.shape[0] % n != 0:
                raise ValueError(
                    f"Cannot shard parameter '{path}' with shape {a.shape} across "
                    f"{n} devices: axis 0 must be divisible by {n}."
                )
        # A list attribute would become a dict entry; keep it a plain attribute.
        object.__setattr__(self, "_paths", [k for k, _ in flat])
        full_shapes = [a.shape for _, a in flat]
        shard_sizes = [a.size // n for _, a in flat]
        module.update(_shard(params, lambda p, w: 0, group))
        self.module = module
        self._gather_fn = _make_gather_fn(group, full_shapes, shard_sizes, compute_dtype)

    def _gathered_call(self, fn, *args, **kwargs):
        shards_tree = self.module.filter_and_map(_maybe_shard)
        shards = [a for _, a in tree_flatten(shards_tree)]
        full = self._gather_fn(shards)
        self.module.update(tree_unflatten(list(zip(self._paths, full))))
        try:
            return fn(*args, **kwargs)
        finally:
            self.module.update(shards_tree)

    def __call__(self, *args, **kwargs):
        return self._gathered_call(self.module, *args, **kwargs)

    def as_linear(self, *args, **kwargs):
        return self._gathered_call(self.module.as_linear, *args, **kwargs)


def fully_shard(module: Module, *, group: Optional[mx.distributed.Group] = None,
                compute_dtype: Optional[mx.Dtype] = None) -> Module:
    """Wrap ``module`` in a FullyShardedModule (unchanged in one process)."""
    group = group or mx.distributed.init()
    if group.size() == 1 or isinstance(module, FullyShardedModule):
        return module
    wrapped = FullyShardedModule(module, group=group, compute_dtype=compute_dtype)
    return wrapped if wrapped._paths else module
