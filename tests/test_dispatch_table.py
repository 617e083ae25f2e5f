"""Every primitive of the engine answers all three transform rules.

The transforms (vjp, jvp, grad, value_and_grad, vmap) dispatch through each graph
node's Primitive.  A primitive that inherits the base class's vjp/jvp/vmap raises
NotImplementedError the first time a user differentiates or vectorizes through it, so
this test enumerates the whole dispatch table and names every class that lacks a rule.
"""
import importlib
import inspect
import pkgutil

import pytest

pytestmark = pytest.mark.mlxc_only  # inspects the engine's internals

RULES = ("vjp", "jvp", "vmap")


def _primitive_classes():
    import mlxc._core
    import mlxc._core.primitive as primitive_mod

    base = primitive_mod.Primitive
    modules = [mlxc._core]
    for info in pkgutil.walk_packages(mlxc._core.__path__, prefix="mlxc._core."):
        modules.append(importlib.import_module(info.name))
    found = {}
    for mod in modules:
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if obj is not base and issubclass(obj, base):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return base, found


def test_dispatch_table_is_nontrivial():
    _, found = _primitive_classes()
    names = {cls.__name__ for cls in found.values()}
    for expected in ("Unary", "Binary", "Reduce", "Matmul", "AddMM", "Reshape", "Transpose",
                     "Concatenate", "Gather", "Scan", "Sort", "CustomTransforms"):
        assert expected in names, f"{expected} missing from the dispatch table: {sorted(names)}"
    assert len(found) >= 20


def test_every_primitive_overrides_every_rule():
    base, found = _primitive_classes()
    missing = []
    for qualname, cls in sorted(found.items()):
        for rule in RULES:
            if getattr(cls, rule) is getattr(base, rule):
                missing.append(f"{qualname}.{rule}")
    assert not missing, "primitives without a transform rule:\n  " + "\n  ".join(missing)


@pytest.mark.parametrize("rule", RULES)
def test_base_rule_raises_not_implemented(rule):
    """The base class's rule is the sentinel the test above looks for: it must raise."""
    import mlxc._core.primitive as primitive_mod

    prim = primitive_mod.Primitive()
    args = ([], [], []) if rule == "vmap" else ([], [], [], [])
    with pytest.raises(NotImplementedError):
        getattr(prim, rule)(*args)
