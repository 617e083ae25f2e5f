"""The shipped .pyi stubs describe the live package: every public name of mlxc.core and of
its submodules is in the stubs and nothing else is, every array member is there, and each
function's stub parameters are ones the runtime function accepts (so a call a type checker
accepts by keyword does not fail with a TypeError)."""
import ast
import inspect
import os
import types

import pytest

import mlxc.core as mx

CORE_DIR = os.path.dirname(mx.__file__)
SUBMODULES = [n for n in ("random", "linalg", "fft", "fast", "metal", "cuda", "distributed")
              if isinstance(getattr(mx, n, None), types.ModuleType)]


def stub_path(name):
    if name == "core":
        return os.path.join(CORE_DIR, "__init__.pyi")
    mod = getattr(mx, name)
    base = os.path.splitext(mod.__file__)[0]
    return base + ".pyi" if not base.endswith("__init__") else base + ".pyi"


def parse(name):
    with open(stub_path(name)) as f:
        return ast.parse(f.read())


def top_level(tree):
    """{name: node} of what a stub defines or re-exports at module level."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node
        elif isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == "mlxc.core"):
            for a in node.names:
                out[a.asname or a.name] = node
    return out


# Helper names the stubs define for annotations, not part of the API.
STUB_HELPERS = {"P", "R", "scalar", "StreamOrDevice", "DLPackCompatible"}


def live_names(mod):
    return {n for n in dir(mod) if not n.startswith("_") and
            not (mod is not mx and isinstance(getattr(mod, n), types.ModuleType))}


@pytest.mark.parametrize("name", ["core"] + SUBMODULES)
def test_stub_lists_every_public_name(name):
    mod = mx if name == "core" else getattr(mx, name)
    stub = set(top_level(parse(name))) - STUB_HELPERS
    if name != "core":
        # Submodule stubs import the core names they annotate with.
        stub -= {"Device", "DeviceType", "Dtype", "Stream", "ThreadLocalStream", "array",
                 "bfloat16", "float32", "int32"} - live_names(mod)
    live = live_names(mod)
    live = {n for n in live if not isinstance(getattr(mod, n), types.ModuleType)
            or n in SUBMODULES}
    assert sorted(live - stub) == [], "public names missing from the stubs"
    assert sorted(stub - live) == [], "stub names that mlxc does not have"


def test_array_members_in_stub():
    cls = top_level(parse("core"))["array"]
    stub = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    stub |= {n.target.id for n in cls.body if isinstance(n, ast.AnnAssign)}
    live = {n for n in dir(mx.array) if not n.startswith("_")}
    assert sorted(live - stub) == []
    for dunder in ("__getitem__", "__setitem__", "__add__", "__matmul__", "__iter__", "__len__"):
        assert dunder in stub


def _accepts(sig, pname, kind):
    params = sig.parameters
    if pname in params:
        return True
    kinds = {p.kind for p in params.values()}
    if kind == "kw" and inspect.Parameter.VAR_KEYWORD in kinds:
        return True
    if kind == "pos" and inspect.Parameter.VAR_POSITIONAL in kinds:
        return True
    return False


@pytest.mark.parametrize("name", ["core"] + SUBMODULES)
def test_stub_parameters_accepted_at_runtime(name):
    mod = mx if name == "core" else getattr(mx, name)
    bad = []
    for fname, node in top_level(parse(name)).items():
        if not isinstance(node, ast.FunctionDef) or not hasattr(mod, fname):
            continue
        try:
            sig = inspect.signature(getattr(mod, fname))
        except (TypeError, ValueError):
            continue
        a = node.args
        # Parameters a caller may pass by name must exist by that name at run time.
        for p in a.kwonlyargs + a.args:
            if not _accepts(sig, p.arg, "kw"):
                bad.append(f"{fname}({p.arg})")
    assert bad == [], "stub parameters the runtime function does not take"
