"""mx.compile: traces per signature, captured state, random state, transforms both ways,
disable/enable and MLX_DISABLE_COMPILE, errors and pass-through, the trace cache.
Behaviour checked against MLX 0.32.4 (run by hand with /work/mlxref/bin/python);
values against the uncompiled function and numpy."""
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx
from mlxc._core import compile as _compile_mod


def counted(body):
    calls = [0]

    def f(*a, **k):
        calls[0] += 1
        return body(*a, **k)
    return f, calls


def test_one_trace_per_signature():
    f, calls = counted(lambda x, y: x * y + 1)
    cf = mx.compile(f)
    a, b = mx.array([1.0, 2.0]), mx.array([3.0, 4.0])
    for _ in range(3):
        assert cf(a, b).tolist() == [4.0, 9.0]
    assert calls[0] == 1
    cf(mx.array([1, 2]), b)                       # new dtype
    assert calls[0] == 2
    cf(mx.array([1.0, 2.0, 3.0]), mx.array(2.0))  # new shapes
    assert calls[0] == 3
    cf(a[::1], mx.broadcast_to(mx.array(3.0), (2,)))   # layouts are not part of it
    assert calls[0] == 3
    cf(a, b)
    assert calls[0] == 3


def test_constants_and_structure_in_signature():
    f, calls = counted(lambda x, s: x * s)
    cf = mx.compile(f)
    a = mx.array([1.0, 2.0])
    seq = [(a, 1.0), (a, 1.0), (a, 2.0), (a, 1), (a, True), (a, 1.0)]
    counts = []
    for args in seq:
        cf(*args)
        counts.append(calls[0])
    assert counts == [1, 1, 2, 3, 3, 3]          # as MLX: True is the constant 1
    g, gcalls = counted(lambda t: t["a"] * t["b"][0])
    cg = mx.compile(g)
    counts = []
    for t in [{"a": a, "b": [a]}, {"a": a, "b": (a,)}, {"b": [a], "a": a}]:
        cg(t)
        counts.append(gcalls[0])
    assert counts == [1, 1, 2]                   # lists = tuples; dict order matters
    h, hcalls = counted(lambda x, y=None: x if y is None else x * y)
    ch = mx.compile(h)
    ch(x=a)
    ch(x=a, y=a)
    ch(x=a, y=a)
    assert hcalls[0] == 2
    s, scalls = counted(lambda x, name: x)
    cs = mx.compile(s)
    cs(a, "a"), cs(a, "a"), cs(a, "b"), cs(a, None), cs(a, None)
    assert scalls[0] == 3


def test_shapeless_retraces_on_rank_and_dtype_only():
    f, calls = counted(lambda x, y: mx.exp(x) * y)
    cf = mx.compile(f, shapeless=True)
    counts = []
    for n in (3, 4, 7):
        x = mx.array(np.linspace(-1, 1, n).astype(np.float32))
        xn = np.array(x)
        np.testing.assert_allclose(np.array(cf(x, x)), np.exp(xn) * xn, rtol=1e-6)
        counts.append(calls[0])
    cf(mx.zeros((2, 2)), mx.zeros((2, 2)))
    counts.append(calls[0])
    cf(mx.zeros((5,), mx.float16), mx.zeros((5,), mx.float16))
    counts.append(calls[0])
    assert counts == [1, 1, 1, 2, 3]
    # broadcasting that changes with the shapes: (3,) * (1,) traced, then (4,) * (4,)
    g = mx.compile(lambda x, y: x * y, shapeless=True)
    assert g(mx.array([1.0, 2.0, 3.0]), mx.array([2.0])).tolist() == [2.0, 4.0, 6.0]
    assert g(mx.array([1.0, 2.0, 3.0, 4.0]), mx.array([1.0, 2.0, 3.0, 4.0])).tolist() == \
        [1.0, 4.0, 9.0, 16.0]
    r = mx.compile(lambda x: x.reshape(2, -1), shapeless=True)
    assert r(mx.zeros((4,))).shape == (2, 2)
    assert r(mx.zeros((6,))).shape == (2, 3)


def test_shapeless_error_where_mlx_raises():
    s = mx.compile(lambda x: x[:2], shapeless=True)
    s(mx.zeros((4,)))
    with pytest.raises(ValueError, match="Slice cannot infer output shapes"):
        s(mx.zeros((6,)))


def test_closure_constants_are_captured_at_trace_time():
    c = mx.array([10.0, 20.0])
    cf = mx.compile(lambda x: x + c)
    a = mx.array([1.0, 2.0])
    assert cf(a).tolist() == [11.0, 22.0]
    c = mx.array([100.0, 200.0])                 # as MLX: the trace keeps the old value
    assert cf(a).tolist() == [11.0, 22.0]


def test_captured_state_list_and_dict():
    state = [mx.array([0.0, 0.0])]

    def step(x):
        state[0] = state[0] + x
        return state[0] * 2
    cs = mx.compile(step, inputs=state, outputs=state)
    a = mx.array([1.0, 2.0])
    assert cs(a).tolist() == [2.0, 4.0] and state[0].tolist() == [1.0, 2.0]
    assert cs(a).tolist() == [4.0, 8.0] and state[0].tolist() == [2.0, 4.0]
    st = {"w": mx.array(1.0), "opt": {"m": [mx.array(0.0)], "step": 3, "name": "x"}}

    def upd(x):
        st["w"] = st["w"] * x
        st["opt"]["m"][0] = st["opt"]["m"][0] + 1
        return st["w"]
    cu = mx.compile(upd, inputs=st, outputs=st)
    for k in range(1, 4):
        assert cu(mx.array(2.0)).item() == 2.0 ** k
        assert st["w"].item() == 2.0 ** k and st["opt"]["m"][0].item() == k
    assert st["opt"]["step"] == 3 and st["opt"]["name"] == "x"


def test_outputs_only_state_reads_trace_constant():
    # As MLX: without inputs=, the state read inside is a constant of the trace.
    state = [mx.array([0.0, 0.0])]

    def step(x):
        state[0] = state[0] + x
        return state[0]
    cs = mx.compile(step, outputs=state)
    a = mx.array([1.0, 2.0])
    assert cs(a).tolist() == [1.0, 2.0]
    assert cs(a).tolist() == [1.0, 2.0] and state[0].tolist() == [1.0, 2.0]


def test_random_inside_compile():
    a = mx.array([1.0, 2.0])
    r = lambda x: x + mx.random.uniform(shape=(2,))
    fixed = mx.compile(r)
    assert fixed(a).tolist() == fixed(a).tolist()          # key split at trace time
    live = mx.compile(r, inputs=mx.random.state, outputs=mx.random.state)
    assert live(a).tolist() != live(a).tolist()
    mx.random.seed(0)
    first = live(a).tolist()
    mx.random.seed(0)
    assert live(a).tolist() == first
    mx.random.seed(0)
    assert r(a).tolist() == first                          # same numbers as uncompiled
    # values recorded from MLX 0.32.4 (seed 0, uniform of shape (2,) + [1, 2])
    np.testing.assert_allclose(first, [1.57655, 2.29917], atol=1e-5)


def test_pass_through_outputs_and_distinct_objects():
    a = mx.array([1.0, 2.0])
    out = mx.compile(lambda x: (x, None, 1.5, "str", [x * 2, {"k": 3}]))(a)
    assert out[1:4] == (None, 1.5, "str") and out[4][1] == {"k": 3}
    assert out[0] is not a and out[0].tolist() == [1.0, 2.0]
    assert mx.compile(lambda x: None)(a) is None
    assert mx.compile(lambda x: ())(a) == ()
    assert mx.compile(lambda x: x.size)(a) == 2
    r = mx.compile(lambda x: (x + 1, x + 1))(a)
    assert r[0] is not r[1]
    r0 = r[0]
    r0 += 1                                      # in-place on one output leaves the other
    assert r[1].tolist() == [2.0, 3.0] and r0.tolist() == [3.0, 4.0]
    c = mx.array(3.0)
    assert mx.compile(lambda x: x * c.item())(a).tolist() == [3.0, 6.0]   # constant: fine


def test_errors():
    a = mx.array([1.0, 2.0])
    with pytest.raises(ValueError, match="Function arguments must be trees"):
        mx.compile(lambda x, o: x)(a, object())
    with pytest.raises(ValueError, match="received type complex"):
        mx.compile(lambda x, o: x)(a, 1j)
    with pytest.raises(TypeError):
        mx.compile(5)
    for body in (lambda x: x * x[0].item(), lambda x: x if x[0] > 0 else -x,
                 lambda x: x.tolist(), lambda x: np.array(x)):
        with pytest.raises(ValueError, match="Attempting to eval an array during"):
            mx.compile(body)(a)


def test_exception_during_trace_leaves_function_usable():
    f, calls = counted(lambda x, flag: (_ for _ in ()).throw(RuntimeError("boom"))
                       if flag else x + 1)
    cf = mx.compile(f)
    a = mx.array([1.0, 2.0])
    with pytest.raises(RuntimeError, match="boom"):
        cf(a, True)
    assert cf(a, False).tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="boom"):
        cf(a, True)
    assert cf(a, False).tolist() == [2.0, 3.0] and calls[0] == 3
    state = [mx.array(1.0)]

    def bad(x):
        state[0] = state[0] + x
        raise KeyError("k")
    cb = mx.compile(bad, inputs=state, outputs=state)
    with pytest.raises(KeyError):
        cb(mx.array(1.0))
    assert state[0].item() == 1.0               # the caller's array is back


def test_disable_enable():
    f, calls = counted(lambda x: x + 1)
    cf = mx.compile(f)
    a = mx.array([1.0, 2.0])
    cf(a), cf(a)
    assert calls[0] == 1
    try:
        assert mx.disable_compile() is None
        calls[0] = 0
        assert cf(a).tolist() == [2.0, 3.0] and cf(a).tolist() == [2.0, 3.0]
        assert calls[0] == 2
        with pytest.raises(ValueError, match="Function arguments"):
            cf(a, object())
    finally:
        mx.enable_compile()
    calls[0] = 0
    cf(a)
    assert calls[0] == 0                         # the old trace is used again


@pytest.mark.parametrize("value", ["1", "0", ""])
def test_env_var_disables(value):
    from helpers import CHILD_CWD, child_env
    code = ("import mlxc.core as mx\n"
            "n = [0]\n"
            "def f(x):\n    n[0] += 1\n    return x + 1\n"
            "cf = mx.compile(f)\n"
            "a = mx.array([1.0])\ncf(a); cf(a); first = n[0]\n"
            "mx.enable_compile(); n[0] = 0; cf(a); cf(a)\n"
            "print(first, n[0])\n")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(MLX_DISABLE_COMPILE=value),
                         cwd=CHILD_CWD, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["2", "1"]


def test_bound_methods_and_decorator():
    class Scale:
        def __init__(self):
            self.k = mx.array(3.0)

        def __call__(self, x):
            return x * self.k

        def twice(self, x):
            return x * 2

    s = Scale()
    a = mx.array([1.0, 2.0])
    assert mx.compile(s.twice)(a).tolist() == [2.0, 4.0]
    assert mx.compile(s)(a).tolist() == [3.0, 6.0]

    @mx.compile
    def g(x):
        return mx.exp(x)
    np.testing.assert_allclose(np.array(g(a)), np.exp([1.0, 2.0]), rtol=1e-6)


def _f(x, y):
    return mx.sin(x) * y + mx.exp(x * 0.5) - y * y


def _close(a, b):
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6)


def test_transforms_of_compiled_and_compiled_transforms():
    x = mx.array(np.linspace(-1, 1, 6).astype(np.float32))
    y = mx.array(np.linspace(0.5, 2, 6).astype(np.float32))
    cf = mx.compile(_f)
    loss = lambda f: (lambda a, b: f(a, b).sum())
    _close(mx.grad(loss(cf))(x, y), mx.grad(loss(_f))(x, y))
    _close(mx.grad(loss(cf), argnums=1)(x, y), mx.grad(loss(_f), argnums=1)(x, y))
    _close(mx.compile(mx.grad(loss(_f)))(x, y), mx.grad(loss(_f))(x, y))
    v1, g1 = mx.value_and_grad(loss(cf))(x, y)
    v0, g0 = mx.value_and_grad(loss(_f))(x, y)
    _close(v1, v0), _close(g1, g0)
    _close(mx.jvp(cf, [x, y], [y, x])[1][0], mx.jvp(_f, [x, y], [y, x])[1][0])
    _close(mx.vjp(cf, [x, y], [y])[1][1], mx.vjp(_f, [x, y], [y])[1][1])
    X = mx.reshape(mx.concatenate([x, y]), (2, 6))
    _close(mx.vmap(cf)(X, X), mx.vmap(_f)(X, X))
    _close(mx.compile(mx.vmap(_f))(X, X), mx.vmap(_f)(X, X))
    _close(mx.vmap(mx.grad(loss(cf)))(X, X), mx.vmap(mx.grad(loss(_f)))(X, X))
    _close(mx.grad(lambda a: mx.grad(loss(cf))(a, y).sum())(x),
           mx.grad(lambda a: mx.grad(loss(_f))(a, y).sum())(x))


def test_custom_function_inside_compile():
    @mx.custom_function
    def f(x):
        return mx.sin(x)

    @f.vjp
    def f_vjp(primals, cotangent, output):
        return 2.0 * cotangent

    x = mx.array([0.1, 0.2])
    cf = mx.compile(lambda a: f(a) * 3.0)
    _close(cf(x), np.sin([0.1, 0.2]) * 3.0)
    _close(mx.grad(lambda a: cf(a).sum())(x), [6.0, 6.0])


def test_nested_compile_and_stop_gradient():
    inner = mx.compile(lambda a: mx.stop_gradient(a * a) + a)
    outer = mx.compile(lambda a: inner(a) * 2)
    x = mx.array([1.0, 3.0])
    _close(outer(x), [4.0, 24.0])
    _close(mx.grad(lambda a: outer(a).sum())(x), [2.0, 2.0])


def test_cache_is_bounded_lru(monkeypatch):
    monkeypatch.setattr(_compile_mod, "CACHE_SIZE", 3)
    f, calls = counted(lambda x: x + 1)
    cf = mx.compile(f)
    for n in (1, 2, 3):
        cf(mx.zeros((n,)))
    cf(mx.zeros((1,)))                           # refreshes (1,)
    cf(mx.zeros((4,)))                           # evicts (2,), the least recently used
    assert calls[0] == 4
    cf(mx.zeros((1,))), cf(mx.zeros((3,))), cf(mx.zeros((4,)))
    assert calls[0] == 4
    cf(mx.zeros((2,)))
    assert calls[0] == 5


def test_simplification_cse_and_dead_nodes():
    from mlxc._core.compile import CompiledFunction  # noqa: F401
    f = lambda x: (mx.exp(x) + mx.exp(x)) * x.astype(mx.float32) + (mx.sin(x) * 0) * 0 + \
        mx.reshape(x, x.shape) * (2.0 * 3.0)
    cf = mx.compile(f)
    x = mx.array([0.5, 1.5])
    _close(cf(x), f(x))
    t = next(iter(cf._traces()))
    names = [s.prim.name() if hasattr(s.prim, "name") else "" for s in t.plain_steps]
    assert names.count("Exp") == 1               # common sub-expression merged
    assert "AsType" not in names and "Reshape" not in names   # no-ops removed


def test_export_a_compiled_function(tmp_path):
    f = mx.compile(lambda x: mx.exp(x) * 2 + 1)
    x = mx.array([1.0, 2.0])
    f(x)
    path = str(tmp_path / "f.mlxfn")
    mx.export_function(path, f, x)
    g = mx.import_function(path)
    _close(g(x)[0], np.exp([1.0, 2.0]) * 2 + 1)
    _close(f(x), np.exp([1.0, 2.0]) * 2 + 1)      # still usable compiled afterwards
