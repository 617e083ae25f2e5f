"""Integer arguments past the int64 range, and shapes whose size overflows, raise a clear
Python exception naming the op; they never crash or hang the interpreter.

Every case runs in one child interpreter (a crash there cannot take pytest down); the
child prints the case it starts and its outcome, so a crash or hang is pinned to the case
that was running.  Cases whose result is defined (a huge diagonal offset, roll shift or
split index) are compared with numpy.

MLX itself crashes or raises RuntimeError (std::bad_cast) for several of these inputs, so
the checks are mlxc's own.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import CHILD_CWD, child_env

pytestmark = pytest.mark.mlxc_only

# Past int64: every integer argument refuses these.
BEYOND = [2**63, 2**64, 2**100, -2**63 - 1, -2**64]
# Inside int64 but huge: shapes refuse them only when the size overflows; offsets clamp.
HUGE = [2**31 - 1, 2**31, 2**62, 2**63 - 1, -2**31 - 1, -2**63]

# (template, values, expected): V is the value; x a (2, 3) float32 array, x1 a (3,) one.
# expected: an exception class (or tuple), or "np:<expr>" evaluated with numpy (x, x1, V).
ERR = (OverflowError, ValueError, IndexError)
CASES = [
    # shapes and sizes
    ("mx.zeros((V,))", BEYOND, ERR),
    ("mx.zeros(V)", BEYOND, ERR),
    ("mx.ones((2, V))", BEYOND + [2**63 - 1], ERR),
    ("mx.full((V, 3), 1.0)", BEYOND + [2**62], ERR),
    ("mx.zeros((2**40, 2**40))", [0], OverflowError),
    ("mx.zeros((2**31, 2**31, 4))", [0], OverflowError),
    ("mx.ones((2**30, 2**30, 16), mx.float64)", [0], OverflowError),
    ("mx.eye(V)", BEYOND + [2**63 - 1, 2**32], ERR),
    ("mx.eye(2, V)", BEYOND, ERR),
    ("mx.identity(V)", BEYOND + [2**40], ERR),
    ("mx.tri(V)", BEYOND + [2**63 - 1], ERR),
    ("mx.tri(2, V)", BEYOND, ERR),
    ("mx.broadcast_to(x, (V, 2, 3))", BEYOND + [2**63 - 1], ERR),
    ("mx.reshape(x, (V, -1))", BEYOND + HUGE, ERR),
    ("x.reshape(V, 0)", BEYOND + HUGE, ERR),
    ("mx.unflatten(x, 0, (V, -1))", BEYOND + HUGE, ERR),
    ("mx.arange(V)", [2**63, 2**64], ERR),
    ("mx.arange(-V, V)", [2**62, 2**63 - 1], ERR),
    ("mx.arange(0.0, 1e30)", [0], ValueError),
    ("mx.linspace(0, 1, V)", BEYOND, ERR),
    ("mx.repeat(x, V)", BEYOND + [2**62, 2**63 - 1], ERR),
    ("mx.repeat(x, V, axis=0)", BEYOND + [2**63 - 1], ERR),
    ("mx.tile(x, V)", BEYOND + [2**62, 2**63 - 1], ERR),
    ("mx.tile(x, (V, 1))", BEYOND + [2**63 - 1], ERR),
    ("mx.pad(x, (V, 0))", BEYOND + [2**62, 2**63 - 1], ERR),
    ("mx.pad(x, ((0, V), (0, 0)))", BEYOND + [2**63 - 1], ERR),
    ("mx.pad(x, V)", BEYOND + [2**62], ERR),
    ("mx.pad(x, (V, 0), mode='edge')", BEYOND + [2**31, 2**62], ERR),
    ("mx.pad(x, (V, 0), mode='reflect')", BEYOND + [2**31, 2**62], ERR),
    ("mx.pad(x, (V, 0), mode='symmetric')", BEYOND + [2**31, 2**62], ERR),
    ("mx.diag(x1, k=V)", BEYOND + [2**31 - 1, 2**62, -2**62], ERR),
    ("mx.as_strided(x, (V,), (1,))", BEYOND + HUGE, ERR),
    ("mx.as_strided(x, (2,), (V,))", BEYOND + HUGE, ERR),
    # offsets: past int64 refused, huge ones clamp (an empty diagonal, a full/empty mask)
    ("mx.diag(x, k=V)", BEYOND, ERR),
    ("mx.diag(x, k=V)", HUGE, "np:np.diag(x, k=max(min(V, 5), -5))"),
    ("mx.diagonal(x, offset=V)", BEYOND, ERR),
    ("mx.diagonal(x, offset=V)", HUGE, "np:np.diagonal(x, offset=max(min(V, 5), -5))"),
    ("mx.diagonal(x, 0, V, 1)", BEYOND + HUGE, IndexError),
    ("mx.trace(x, V)", BEYOND, ERR),
    ("mx.trace(x, V)", HUGE, "np:np.array(0, np.float32)"),
    ("mx.eye(2, 3, V)", BEYOND, ERR),
    ("mx.eye(2, 3, V)", HUGE, "np:np.eye(2, 3, max(min(V, 5), -5), dtype=np.float32)"),
    ("mx.tri(2, 3, V)", BEYOND, ERR),
    ("mx.tri(2, 3, V)", HUGE, "np:np.tri(2, 3, max(min(V, 5), -5), dtype=np.float32)"),
    ("mx.tril(x, V)", BEYOND, ERR),
    ("mx.tril(x, V)", HUGE, "np:np.tril(x, max(min(V, 5), -5))"),
    ("mx.triu(x, V)", BEYOND, ERR),
    ("mx.triu(x, V)", HUGE, "np:np.triu(x, max(min(V, 5), -5))"),
    # counts, shifts, split points: defined results for any size
    ("mx.roll(x, V)", BEYOND + HUGE, "np:np.roll(x, V)"),
    ("mx.roll(x, V, axis=1)", BEYOND + HUGE, "np:np.roll(x, V, axis=1)"),
    ("mx.split(x, [V], axis=1)[0]", BEYOND + HUGE, "np:np.split(x, [max(min(V, 9), -9)], axis=1)[0]"),
    ("mx.split(x, [1, V], axis=1)[1]", BEYOND + HUGE, "np:np.split(x, [1, max(min(V, 9), -9)], axis=1)[1]"),
    ("mx.split(x, V)", BEYOND + HUGE, ValueError),
    ("mx.topk(x1, V)", BEYOND + HUGE, ValueError),
    ("mx.partition(x1, V)", BEYOND + HUGE, ValueError),
    ("mx.argpartition(x1, V)", BEYOND + HUGE, ValueError),
    ("mx.var(x, ddof=V)", BEYOND + HUGE, "np:np.array(17.5 / (6 - V) if V < 6 else np.inf)"),
    ("mx.round(x, V)", [400, 2**31 - 1, 2**64], "np:x"),
    ("mx.round(x, V)", [-400, -2**31, -2**64], "np:np.zeros_like(x)"),
    # axes: any int out of range is an IndexError
    ("mx.sum(x, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.argmax(x, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.cumsum(x, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.sort(x, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.softmax(x, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.expand_dims(x, V)", BEYOND + HUGE, IndexError),
    ("mx.squeeze(x, V)", BEYOND + HUGE, IndexError),
    ("mx.moveaxis(x, V, 0)", BEYOND + HUGE, IndexError),
    ("mx.swapaxes(x, V, 0)", BEYOND + HUGE, IndexError),
    ("mx.transpose(x, (V, 0))", BEYOND + HUGE, IndexError),
    ("mx.flatten(x, V)", BEYOND + HUGE, (IndexError, ValueError)),
    ("mx.concatenate([x, x], axis=V)", BEYOND + HUGE, IndexError),
    ("mx.stack([x, x], axis=V)", BEYOND + HUGE, IndexError),
    ("mx.take(x, 0, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.flip(x, V)", BEYOND + HUGE, IndexError),
    ("mx.repeat(x, 2, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.split(x, 2, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.roll(x, 1, axis=V)", BEYOND + HUGE, IndexError),
    # indexing
    ("mx.take(x, V)", BEYOND + HUGE, IndexError),
    ("x[V]", BEYOND + HUGE, IndexError),
    ("x[:, V]", BEYOND + HUGE, IndexError),
    ("x[V:]", BEYOND + HUGE, "np:x[V:]"),
    ("x[::V]", [v for v in BEYOND + HUGE if v > 0], "np:x[::V]"),
    ("x[::V]", [v for v in BEYOND + HUGE if v < 0], "np:x[::V]"),
    ("mx.take(x, mx.array([V]))", [2**40, -2**40, 2**63 - 1, -2**63], IndexError),
    ("mx.slice_update(x, x[:1], mx.array([V]), (0,))", [2**40, 2**63 - 1, -2**63], IndexError),
    # the newer ops
    ("mx.diff(x, V)", BEYOND, ERR),
    ("mx.diff(x, V)", [2**31, 2**63 - 1], "np:np.zeros((2, 0), np.float32)"),
    ("mx.vecdot(x, x, axis=V)", BEYOND + HUGE, IndexError),
    ("mx.hanning(V)", BEYOND + [2**62], OverflowError),
    ("mx.bartlett(V)", [-2**63, -2**31], "np:np.zeros(0, np.float32)"),
    ("mx.kron(mx.broadcast_to(x1[:1], (V,)), mx.broadcast_to(x1[:1], (V,)))", [2**40, 2**62],
     OverflowError),
    ("mx.outer(mx.broadcast_to(x1[:1], (V,)), mx.broadcast_to(x1[:1], (V,)))", [2**40, 2**62],
     OverflowError),
    # values: MLX's conversion error
    ("mx.array(V)", BEYOND, ValueError),
    ("mx.full((2,), V)", BEYOND, ValueError),
]

CHILD = r"""
import json, sys
import numpy as np
import mlxc.core as mx
cases = json.loads(sys.stdin.read())
x = mx.arange(6, dtype=mx.float32).reshape(2, 3)
x1 = mx.arange(3, dtype=mx.float32)
mx.eval(x, x1)
for i, (tmpl, V) in enumerate(cases):
    print(json.dumps({"start": i}), flush=True)
    try:
        r = eval(tmpl)
        if isinstance(r, mx.array):
            if r.size > 10**6:
                out = {"ok": None, "shape": list(r.shape)}
            else:
                out = {"ok": np.array(r).tolist(), "shape": list(r.shape)}
        else:
            out = {"ok": repr(r)}
    except Exception as e:
        out = {"exc": type(e).__name__, "msg": str(e)}
    out["case"] = i
    print(json.dumps(out), flush=True)
"""


def _flat_cases():
    out = []
    for tmpl, values, expected in CASES:
        for v in values:
            out.append((tmpl, v, expected))
    return out


FLAT = _flat_cases()


@pytest.fixture(scope="module")
def outcomes():
    """Run every case in one child; restart after a crash/hang, recording it."""
    todo = [[t, v] for t, v, _ in FLAT]
    results = {}
    start = 0
    env = child_env()
    while start < len(todo):
        try:
            p = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(todo[start:]),
                               capture_output=True, text=True, timeout=120, env=env,
                               cwd=CHILD_CWD)
            out, failure = p.stdout, f"exit status {p.returncode}: {p.stderr[-300:]}"
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            failure = "hang (killed after 120 s)"
        last = None
        for line in out.splitlines():
            d = json.loads(line)
            if "start" in d:
                last = start + d["start"]
            else:
                results[start + d["case"]] = d
        if last is None:
            pytest.fail(f"the child interpreter failed before any case: {failure}")
        if last not in results:           # the case that was running crashed or hung
            results[last] = {"crash": failure}
        start = last + 1
    return results


@pytest.mark.parametrize("i", range(len(FLAT)),
                         ids=[f"{t}|V={v}" for t, v, _ in FLAT])
def test_bad_int_argument(outcomes, i):
    tmpl, V, expected = FLAT[i]
    got = outcomes[i]
    assert "crash" not in got, f"{tmpl} with V={V} crashed: {got['crash']}"
    if isinstance(expected, str):
        assert "ok" in got, f"{tmpl} with V={V} raised {got.get('exc')}: {got.get('msg')}"
        x = np.arange(6, dtype=np.float32).reshape(2, 3)
        x1 = np.arange(3, dtype=np.float32)
        want = np.asarray(eval(expected[3:], {"np": np, "x": x, "x1": x1, "V": V}))
        assert tuple(got["shape"]) == want.shape
        np.testing.assert_allclose(np.array(got["ok"], dtype=np.float64).reshape(want.shape),
                                   want.astype(np.float64), rtol=1e-6)
        return
    names = {e.__name__ for e in (expected if isinstance(expected, tuple) else (expected,))}
    assert "exc" in got, f"{tmpl} with V={V} returned {got} instead of raising {names}"
    assert got["exc"] in names, f"{tmpl} with V={V}: {got['exc']}: {got['msg']}"
    msg = got["msg"]
    # The message names the op (or, for indexing, the offending index).
    op = tmpl.split("(")[0].replace("mx.", "").replace("x.", "")
    assert (f"[{op}" in msg or str(V) in msg or "Index" in msg or "index" in msg
            or "Converting" in msg), msg


def test_a_failed_eval_leaves_the_array_unevaluated():
    """A kernel that refuses its input (an index past the axis) must not leave a
    half-written buffer behind: every later read raises again, numpy conversion included
    (numpy retries through __array__ after the buffer protocol fails)."""
    import mlxc.core as mx
    x = mx.arange(6.0).reshape(2, 3)
    r = mx.take(x, mx.array([2**40]))
    for read in (lambda: mx.eval(r), lambda: r.tolist(), lambda: np.array(r),
                 lambda: r.item()):
        with pytest.raises(IndexError, match=r"\[take\] Index 1099511627776"):
            read()
