"""Every nn.* name of MLX 0.32.4's surface (/work/shared/api/mlx_nn_optim_surface.txt,
losses excepted: another module) exists in mlxc.nn with MLX's parameter names, kinds and
defaults."""
import inspect
import os
import re

import pytest

import mlxc.nn as nn

SURFACE = "/work/shared/api/mlx_nn_optim_surface.txt"
if not os.path.exists(SURFACE):
    pytest.skip("the MLX surface listing is not available", allow_module_level=True)


def _entries():
    for line in open(SURFACE):
        line = line.strip()
        body = line[6:] if line.startswith("class nn.") else line
        if body.startswith("nn.") and not body.startswith("nn.losses."):
            name, sig = body.split("(", 1)
            yield name, "(" + sig


def _params(sig_text):
    """[(name, kind marker, default)] from a signature's text, annotations dropped."""
    inner = sig_text[1 : sig_text.rindex(")")]
    inner = re.sub(r"<[^<>]*>", "<obj>", inner)
    out, depth, cur = [], 0, ""
    for ch in inner + ",":
        if ch == "," and depth == 0:
            if cur.strip():
                out.append(cur.strip())
            cur = ""
            continue
        depth += ch in "[(" and 1 or 0
        depth -= ch in "])" and 1 or 0
        cur += ch
    params = []
    for p in out:
        default = p.split("=", 1)[1].strip() if "=" in p else None
        head = p.split("=", 1)[0]
        name = head.split(":", 1)[0].strip()
        params.append((name, default))
    return params


def _mine(obj):
    sig = inspect.signature(obj)
    out = []
    seen_kwonly = False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not seen_kwonly:
            out.append(("*", None))
            seen_kwonly = True
        name = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        default = None if p.default is p.empty else re.sub(r"<[^<>]*>", "<obj>", repr(p.default))
        out.append((name, default))
    return out


@pytest.mark.parametrize("name,sig", list(_entries()), ids=lambda v: v if "(" not in v else "")
def test_signature_matches_mlx(name, sig):
    obj = nn
    for part in name.split(".")[1:]:
        obj = getattr(obj, part)
    assert _mine(obj) == _params(sig)
