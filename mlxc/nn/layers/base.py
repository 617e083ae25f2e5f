"""``Module``: the base class of every layer, as ``mlx.nn.Module``.

A module *is* a dict: its entries are its parameters (arrays), its
submodules, and lists/dicts of either. Attributes set to an array, dict, list
or tuple become entries; everything else (hyper-parameters, callables) stays a
plain Python attribute. Keys starting with ``_`` are never parameters. The
flattened entry names ("layers.0.weight") are the names weights are saved
under, so files written by MLX load here and the other way round.
"""

from __future__ import annotations

import textwrap
from typing import Any, Callable, List, Optional, Tuple, Union

import mlxc.core as mx
from mlxc.utils import tree_flatten, tree_unflatten

__all__ = ["Module"]

# What an attribute assignment stores in the dict rather than in __dict__.
_TREE_TYPES = (mx.array, dict, list, tuple)


class Module(dict):
    """Base class for building neural networks with MLX's semantics.

    Parameters and submodules are dict entries; ``parameters()`` returns them
    as a nested dict of arrays, ``update()`` writes such a dict back.
    """

    __call__: Callable

    def __init__(self):
        # Names of the entries excluded from trainable_parameters().
        self._no_grad = set()
        self._training = True

    # ------------------------------------------------------------------ basics
    @property
    def training(self):
        """Whether the module is in training mode (see ``train``/``eval``)."""
        return self._training

    @property
    def state(self):
        """The module's state dict: the module itself (it is a dict)."""
        return self

    def _extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self._extra_repr()}"]
        kids = tree_flatten(self.children(), is_leaf=self.is_module)
        for name, child in kids:
            lines.append(textwrap.indent(f"({name}): {child!r}", "  "))
        if kids:
            lines.append("")
        return "\n".join(lines) + ")"

    def __getattr__(self, key: str):
        # Only called when normal lookup fails: fall back to the dict entries.
        value = self.get(key, None)
        if value is not None:
            return value
        # Raises the usual AttributeError naming the attribute.
        return super().__getattribute__(key)

    def __setattr__(self, key: str, val: Any):
        if isinstance(val, _TREE_TYPES):
            # A plain attribute of that name would shadow the entry.
            if key in self.__dict__:
                object.__delattr__(self, key)
            self[key] = val
        else:
            super().__setattr__(key, val)
            self.pop(key, None)

    def __delattr__(self, name):
        if self.get(name, None) is not None:
            del self[name]
        else:
            super().__delattr__(name)

    # ----------------------------------------------------------------- weights
    def load_weights(
        self,
        file_or_weights: Union[str, List[Tuple[str, mx.array]]],
        strict: bool = True,
    ) -> Module:
        """Update the parameters from a ``.npz``/``.safetensors`` file or a
        list of ``(name, array)`` pairs.

        With ``strict=True`` every parameter of the model must be given, with
        its shape, and no other name; otherwise only the given names are set.
        """
        weights = file_or_weights
        if isinstance(weights, str):
            weights = list(mx.load(weights).items())

        if strict:
            given = dict(weights)
            current = tree_flatten(self.parameters(), destination={})
            extra = given.keys() - current.keys()
            if extra:
                names = ",\n".join(sorted(extra))
                raise ValueError(
                    f"Received {len(extra)} parameters not in model: \n{names}."
                )
            missing = current.keys() - given.keys()
            if missing:
                names = ",\n".join(sorted(missing))
                raise ValueError(f"Missing {len(missing)} parameters: \n{names}.")
            for name, old in current.items():
                new = given[name]
                if not isinstance(new, mx.array):
                    raise ValueError(
                        f"Expected mx.array but received {type(new)} for parameter {name}"
                    )
                if new.shape != old.shape:
                    raise ValueError(
                        f"Expected shape {old.shape} but received shape "
                        f"{new.shape} for parameter {name}"
                    )

        if len(weights) != 0:
            self.update(tree_unflatten(weights), strict=False)
        return self

    def save_weights(self, file: str):
        """Save the parameters to ``file`` (``.npz`` or ``.safetensors``)."""
        flat = tree_flatten(self.parameters(), destination={})
        if file.endswith(".npz"):
            mx.savez(file, **flat)
        elif file.endswith(".safetensors"):
            mx.save_safetensors(file, flat)
        else:
            raise ValueError(
                f"Unsupported file extension for {file}. Use '.npz' or '.safetensors'."
            )

    # ----------------------------------------------------------------- filters
    @staticmethod
    def is_module(value):
        return isinstance(value, Module)

    @staticmethod
    def valid_child_filter(module, key, value):
        return isinstance(value, (dict, list))

    @staticmethod
    def valid_parameter_filter(module, key, value):
        return isinstance(value, (dict, list, mx.array)) and not key.startswith("_")

    @staticmethod
    def trainable_parameter_filter(module, key, value):
        return (
            Module.valid_parameter_filter(module, key, value)
            and key not in module._no_grad
        )

    def filter_and_map(
        self,
        filter_fn: Callable[[Module, str, Any], bool],
        map_fn: Optional[Callable] = None,
        is_leaf_fn: Optional[Callable[[Module, str, Any], bool]] = None,
    ):
        """The nested dict of the entries that ``filter_fn(module, key, value)``
        keeps, recursing into submodules, dicts and lists, with ``map_fn``
        applied to the leaves (``is_leaf_fn`` says what a leaf is)."""
        if map_fn is None:
            map_fn = _identity
        if is_leaf_fn is None:
            is_leaf_fn = _not_a_container
        return {
            k: _walk(self, k, v, filter_fn, map_fn, is_leaf_fn)
            for k, v in self.items()
            if filter_fn(self, k, v)
        }

    def parameters(self):
        """Every array entry of this module and its submodules, as a nested dict."""
        return self.filter_and_map(self.valid_parameter_filter)

    def trainable_parameters(self):
        """The parameters that are not frozen."""
        return self.filter_and_map(self.trainable_parameter_filter)

    def children(self):
        """The direct submodules (inside their dicts and lists)."""
        return self.filter_and_map(
            self.valid_child_filter, is_leaf_fn=lambda m, k, v: isinstance(v, Module)
        )

    def leaf_modules(self):
        """The submodules that have no submodules themselves."""

        def is_leaf_module(m, k, v):
            return isinstance(v, Module) and not tree_flatten(v.children())

        return self.filter_and_map(self.valid_child_filter, is_leaf_fn=is_leaf_module)

    # ----------------------------------------------------------------- updates
    def update(self, parameters: dict, strict: bool = True) -> Module:
        """Replace parameters with the arrays of the nested dict/list
        ``parameters``; with ``strict`` an unknown name or a non-array value
        for an array entry is a ValueError."""
        _update_params(self, parameters, strict)
        return self

    def apply(
        self,
        map_fn: Callable[[mx.array], mx.array],
        filter_fn: Optional[Callable[[Module, str, Any], bool]] = None,
    ) -> Module:
        """Replace every parameter (kept by ``filter_fn``) with ``map_fn(p)``."""
        if filter_fn is None:
            filter_fn = Module.valid_parameter_filter
        self.update(self.filter_and_map(filter_fn, map_fn))
        return self

    def update_modules(self, modules: dict, strict: bool = True) -> Module:
        """Replace submodules with those of the nested dict/list ``modules``."""
        _update_modules(self, modules, strict)
        return self

    def apply_to_modules(self, apply_fn: Callable[[str, Module], Any]) -> Module:
        """Call ``apply_fn(name, module)`` on this module and every submodule."""
        stack = [("", self)]
        while stack:
            name, module = stack.pop()
            apply_fn(name, module)
            prefix = "." + name if name else ""
            stack.extend(
                tree_flatten(module.children(), prefix=prefix, is_leaf=self.is_module)
            )
        return self

    def modules(self):
        """This module and all its submodules, as a list."""
        found = []
        self.apply_to_modules(lambda _, m: found.append(m))
        return found

    def named_modules(self):
        """``(name, module)`` for this module and all its submodules."""
        found = []
        self.apply_to_modules(lambda k, m: found.append((k, m)))
        return found

    # ---------------------------------------------------------- freeze/unfreeze
    def _validate_keys(self, keys, strict):
        keys = keys if isinstance(keys, list) else [keys]
        if strict:
            for k in keys:
                if k not in self:
                    raise KeyError(f"Module doesn't contain member {k}.")
        return keys

    def _validate_keys_recursive(self, keys):
        keys = keys if isinstance(keys, list) else [keys]
        every = self.modules()
        for k in keys:
            if not any(k in m for m in every):
                raise KeyError(f"Module doesn't contain member {k}.")

    def freeze(
        self,
        *,
        recurse: bool = True,
        keys: Optional[Union[str, List[str]]] = None,
        strict: bool = False,
    ) -> Module:
        """Exclude parameters from ``trainable_parameters()`` (all of them, or
        the entries named by ``keys``), in submodules too when ``recurse``."""

        def freeze_one(_, m):
            names = keys
            if names is None:
                # Own parameters only: submodules are visited on their own.
                own = m.filter_and_map(
                    lambda mm, k, v: not isinstance(v, Module)
                    and mm.valid_parameter_filter(mm, k, v)
                )
                names = [k for k, _ in tree_flatten(own)]
            m._no_grad.update(m._validate_keys(names, strict_here))

        strict_here = strict
        if recurse:
            if strict and keys is not None:
                # Strict means "some module has it" when recursing.
                self._validate_keys_recursive(keys)
                strict_here = False
            self.apply_to_modules(freeze_one)
        else:
            freeze_one("", self)
        return self

    def unfreeze(
        self,
        *,
        recurse: bool = True,
        keys: Optional[Union[str, List[str]]] = None,
        strict: bool = False,
    ) -> Module:
        """Undo ``freeze``: all parameters, or the entries named by ``keys``."""

        def unfreeze_one(_, m):
            if keys is None:
                m._no_grad.clear()
            else:
                m._no_grad.difference_update(m._validate_keys(keys, strict_here))

        strict_here = strict
        if recurse:
            if strict and keys is not None:
                self._validate_keys_recursive(keys)
                strict_here = False
            self.apply_to_modules(unfreeze_one)
        else:
            unfreeze_one("", self)
        return self

    # ------------------------------------------------------------------- modes
    def _set_training_mode(self, mode: bool) -> None:
        self._training = mode

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all submodules."""
        self.apply_to_modules(lambda _, m: m._set_training_mode(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``)."""
        return self.train(False)

    def set_dtype(
        self,
        dtype: mx.Dtype,
        predicate: Optional[Callable[[mx.Dtype], bool]] = lambda x: mx.issubdtype(
            x, mx.floating
        ),
    ):
        """Cast the parameters whose dtype satisfies ``predicate`` (floating
        ones by default; every one when ``predicate`` is None) to ``dtype``."""
        if predicate is None:
            predicate = _always
        self.apply(lambda x: x.astype(dtype) if predicate(x.dtype) else x)


def _identity(x):
    return x


def _always(_):
    return True


def _not_a_container(m, k, v):
    return not isinstance(v, (Module, dict, list))


def _walk(owner, key, value, filter_fn, map_fn, is_leaf_fn):
    """One entry of ``filter_and_map``. Inside plain dicts and lists the
    filter sees the owning module and the dotted key ("layers.0")."""
    if is_leaf_fn(owner, key, value):
        return map_fn(value)
    if isinstance(value, Module):
        return {
            k: _walk(value, k, v, filter_fn, map_fn, is_leaf_fn)
            for k, v in value.items()
            if filter_fn(value, k, v)
        }
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            sub = f"{key}.{k}"
            out[k] = (
                _walk(owner, sub, v, filter_fn, map_fn, is_leaf_fn)
                if filter_fn(owner, sub, v)
                else {}
            )
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            sub = f"{key}.{i}"
            out.append(
                _walk(owner, sub, v, filter_fn, map_fn, is_leaf_fn)
                if filter_fn(owner, sub, v)
                else {}
            )
        return out
    raise RuntimeError("Unexpected leaf found while traversing the module")


def _invalid_type(value):
    return ValueError(f"Received invalid type: {type(value).__name__}.")


def _entries(dst, src, strict, missing_message):
    """(index-or-key, current, new) for each entry of ``src`` found in
    ``dst``; missing ones raise under ``strict`` and are skipped otherwise."""
    if isinstance(src, dict):
        for k, new in src.items():
            if k in dst:
                yield dst, k, dst[k], new
            elif strict:
                raise ValueError(missing_message.format(k))
    elif isinstance(src, list):
        for i, new in enumerate(src):
            if i >= len(dst):
                if strict:
                    raise ValueError(
                        f"List index {i} is out of bounds for destination of "
                        f"length {len(dst)}."
                    )
                continue
            yield dst, i, dst[i], new
    elif strict:
        raise _invalid_type(src)


def _update_params(dst, src, strict):
    for holder, k, cur, new in _entries(
        dst, src, strict, 'Module does not have parameter named "{}".'
    ):
        if isinstance(cur, mx.array):
            if strict and not isinstance(new, mx.array):
                raise _invalid_type(new)
            holder[k] = new
        else:
            _update_params(cur, new, strict)


def _update_modules(dst, src, strict):
    for holder, k, cur, new in _entries(
        dst, src, strict, 'Module does not have sub-module named "{}".'
    ):
        if isinstance(cur, Module) and isinstance(new, Module):
            holder[k] = new
        elif isinstance(cur, (dict, list)):
            _update_modules(cur, new, strict)
        elif strict and new != {}:
            raise _invalid_type(new)
