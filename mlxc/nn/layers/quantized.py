"""Quantized layers and ``nn.quantize``, on mx.quantize / quantized_matmul."""

import math
from typing import Callable, Optional, Union

import mlxc.core as mx
from mlxc.nn.layers.base import Module
from mlxc.utils import tree_map_with_path

# (group_size, bits) used when the caller leaves them as None.
_MODE_DEFAULTS = {"affine": (64, 4), "mxfp4": (32, 4), "nvfp4": (16, 4), "mxfp8": (32, 8)}


def _defaults_for_mode(mode, group_size, bits):
    if mode not in _MODE_DEFAULTS:
        raise ValueError(
            f"Invalid quantization mode '{mode}'. Valid modes are: "
            f"{', '.join(_MODE_DEFAULTS)}."
        )
    g, b = _MODE_DEFAULTS[mode]
    return group_size or g, bits or b


def _store_quantized(layer, w, group_size, bits, mode):
    """Set ``weight``, ``scales`` and (affine only) ``biases`` from ``w``."""
    packed, scales, *rest = mx.quantize(w, group_size, bits, mode=mode)
    layer.weight = packed
    layer.scales = scales
    layer.biases = rest[0] if rest else None


def quantize(model: Module, group_size: int = None, bits: int = None, *,
             mode: str = "affine", quantize_input: bool = False,
             class_predicate: Optional[Callable[[str, Module], Union[bool, dict]]] = None):
    """Replace, in place, the leaf modules of ``model`` that have
    ``to_quantized`` (or that ``class_predicate(path, module)`` selects) with
    their quantized versions. The predicate may return a dict of arguments
    for ``to_quantized`` instead of True."""
    if class_predicate is None:
        class_predicate = lambda _, m: hasattr(m, "to_quantized")  # noqa: E731

    def convert(path, m):
        choice = class_predicate(path, m)
        if not choice:
            return m
        if not hasattr(m, "to_quantized"):
            raise ValueError(f"Unable to quantize model of type {type(m)}")
        if isinstance(choice, bool):
            kwargs = {"group_size": group_size, "bits": bits, "mode": mode}
            if quantize_input:
                kwargs["quantize_input"] = quantize_input
            return m.to_quantized(**kwargs)
        if isinstance(choice, dict):
            if "quantize_input" in choice and not choice["quantize_input"]:
                choice.pop("quantize_input")
            return m.to_quantized(**choice)
        raise ValueError(
            "``class_predicate`` must return a bool or a dict of parameters to "
            "pass to ``to_quantized``"
        )

    leaves = tree_map_with_path(convert, model.leaf_modules(), is_leaf=Module.is_module)
    model.update_modules(leaves)


class QuantizedEmbedding(Module):
    """Embedding whose table is stored quantized; frozen by default."""

    def __init__(self, num_embeddings: int, dims: int, group_size: int = None,
                 bits: int = None, mode: str = "affine"):
        super().__init__()
        self.group_size, self.bits = _defaults_for_mode(mode, group_size, bits)
        self.mode = mode
        scale = math.sqrt(1 / dims)
        w = mx.random.normal(shape=(num_embeddings, dims), scale=scale)
        _store_quantized(self, w, group_size, bits, mode)
        self.num_embeddings = num_embeddings
        self.dims = dims
        self.freeze()

    def __call__(self, x):
        biases = self.get("biases")
        return mx.dequantize(
            self["weight"][x], scales=self["scales"][x],
            biases=biases[x] if biases is not None else None,
            group_size=self.group_size, bits=self.bits, mode=self.mode,
        )

    def as_linear(self, x):
        """Use the quantized table as a linear layer."""
        return mx.quantized_matmul(
            x, self["weight"], scales=self["scales"], biases=self.get("biases"),
            transpose=True, group_size=self.group_size, bits=self.bits, mode=self.mode,
        )

    def _extra_repr(self):
        return (
            f"{self.num_embeddings}, {self.dims}, group_size={self.group_size}, "
            f"bits={self.bits}, mode={self.mode}"
        )

    @classmethod
    def from_embedding(cls, embedding_layer: Module, group_size: int = None,
                       bits: int = None, mode: str = "affine"):
        """Quantize an ``Embedding``."""
        n, dims = embedding_layer.weight.shape
        ql = cls(n, dims, group_size, bits, mode=mode)
        _store_quantized(ql, embedding_layer.weight, group_size, bits, mode)
        return ql


class QuantizedLinear(Module):
    """Linear layer with a quantized weight; frozen by default (the bias is
    unfrozen by ``unfreeze``)."""

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True,
                 group_size: int = None, bits: int = None, mode: str = "affine"):
        super().__init__()
        self.group_size, self.bits = _defaults_for_mode(mode, group_size, bits)
        self.mode = mode
        scale = math.sqrt(1 / input_dims)
        w = mx.random.uniform(low=-scale, high=scale, shape=(output_dims, input_dims))
        _store_quantized(self, w, group_size, bits, mode)
        if bias:
            self.bias = mx.zeros((output_dims,))
        self.freeze()

    def _extra_repr(self):
        out_dims, packed = self.weight.shape
        return (
            f"input_dims={packed * 32 // self.bits}, output_dims={out_dims}, "
            f"bias={'bias' in self}, group_size={self.group_size}, "
            f"bits={self.bits}, mode={self.mode}"
        )

    def __call__(self, x):
        y = mx.quantized_matmul(
            x, self["weight"], scales=self["scales"], biases=self.get("biases"),
            transpose=True, group_size=self.group_size, bits=self.bits, mode=self.mode,
        )
        if "bias" in self:
            y = y + self["bias"]
        return y

    @classmethod
    def from_linear(cls, linear_layer: Module, group_size: int = None,
                    bits: int = None, mode: str = "affine"):
        """Quantize a ``Linear``."""
        out_dims, in_dims = linear_layer.weight.shape
        ql = cls(in_dims, out_dims, False, group_size, bits, mode=mode)
        _store_quantized(ql, linear_layer.weight, group_size, bits, mode)
        if "bias" in linear_layer:
            ql.bias = linear_layer.bias
        return ql


class QQLinear(Module):
    """Linear layer quantizing both weights and activations (``mx.qqmm``):
    the weight is kept in float while training and quantized in eval mode."""

    def __init__(self, input_dims: int, output_dims: int, group_size: int = None,
                 bits: int = None, mode: str = "nvfp4"):
        super().__init__()
        self.group_size, self.bits = _defaults_for_mode(mode, group_size, bits)
        self.mode = mode
        scale = math.sqrt(1 / input_dims)
        self.weight = mx.random.uniform(low=-scale, high=scale,
                                        shape=(output_dims, input_dims))
        self._quantized = False

    def _extra_repr(self):
        out_dims, in_dims = self.weight.shape
        if self.weight.dtype == mx.uint32:
            in_dims = in_dims * 32 // self.bits
        return (
            f"input_dims={in_dims}, output_dims={out_dims}, "
            f"group_size={self.group_size}, bits={self.bits}, mode={self.mode}"
        )

    def quantize(self):
        if not self._quantized:
            self.weight, self.scales = mx.quantize(
                self.weight, self.group_size, self.bits, mode=self.mode
            )
            self._quantized = True

    def dequantize(self):
        if self._quantized:
            self.weight = mx.dequantize(
                self.weight, scales=self.scales, group_size=self.group_size,
                bits=self.bits, mode=self.mode,
            )
            del self.scales
            self._quantized = False

    def _set_training_mode(self, mode: bool):
        super()._set_training_mode(mode)
        if self._training:
            self.dequantize()
        else:
            self.quantize()

    def __call__(self, x):
        return mx.qqmm(x, self["weight"], scales=self.get("scales"),
                       group_size=self.group_size, bits=self.bits, mode=self.mode)

    @classmethod
    def from_linear(cls, linear_layer: Module, group_size: int = None,
                    bits: int = None, mode: str = "nvfp4"):
        out_dims, in_dims = linear_layer.weight.shape
        if linear_layer.get("bias") is not None:
            raise NotImplementedError("QQLinear does not support bias yet.")
        ql = cls(in_dims, out_dims, group_size, bits, mode=mode)
        ql.weight = linear_layer.weight
        ql.train(linear_layer.training)
        return ql
