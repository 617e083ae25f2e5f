"""Lazy evaluation (eval, async_eval, implicit eval) and memory APIs."""
import gc

import numpy as np
import pytest

import mlxc.core as mx


def test_eval_returns_none_and_values_are_right():
    a = mx.array([1, 2])
    b = a + 1
    assert mx.eval(b) is None
    assert b.tolist() == [2, 3]
    assert mx.eval() is None


def test_eval_pytrees():
    a = mx.array([1.0, 2.0])
    tree = [a * 2, {"k": (a + 1, [a - 1, {"deep": a ** 2}])}, (a / 2,)]
    assert mx.eval(tree) is None
    assert tree[0].tolist() == [2.0, 4.0]
    assert tree[1]["k"][0].tolist() == [2.0, 3.0]
    assert tree[1]["k"][1][0].tolist() == [0.0, 1.0]
    assert tree[1]["k"][1][1]["deep"].tolist() == [1.0, 4.0]
    assert tree[2][0].tolist() == [0.5, 1.0]


def test_eval_multiple_args_and_non_array_leaves():
    a = mx.array([1, 2])
    b = a * 3
    mx.eval(a, b, [a])
    assert b.tolist() == [3, 6]
    # non-array leaves are ignored, not errors
    mx.eval(None)
    mx.eval({"a": None, "b": b, "c": 3, "d": "text"})
    mx.eval([1, b])


def test_async_eval():
    a = mx.array([1, 2])
    c = (a + 1) * 3
    assert mx.async_eval(c) is None
    assert c.tolist() == [6, 9]
    d = {"x": a + 5, "y": [a * 0]}
    mx.async_eval(d)
    assert d["x"].tolist() == [6, 7] and d["y"][0].tolist() == [0, 0]
    e = a - 1
    f = a + 10
    mx.async_eval(e, f)
    mx.eval(e, f)
    assert e.tolist() == [0, 1] and f.tolist() == [11, 12]


def test_implicit_eval():
    a = mx.arange(5) * 2
    assert a.tolist() == [0, 2, 4, 6, 8]
    b = mx.sum(a)
    assert b.item() == 20
    assert int(b) == 20 and float(b) == 20.0 and bool(b)
    c = mx.array([1.5]) + 1
    assert np.array(c).tolist() == [2.5]
    assert repr(mx.array([1, 2]) + 1) == "array([2, 3], dtype=int32)"


def test_deep_chain_evaluates():
    x = mx.array(0)
    for _ in range(100000):
        x = x + 1
    mx.eval(x)
    assert x.item() == 100000


def test_deep_chain_freed_without_eval():
    x = mx.array(0.0)
    for _ in range(100000):
        x = x + 1
    del x  # destroying an un-evaluated deep graph must not overflow the stack
    gc.collect()


def test_deep_chain_implicit_eval():
    x = mx.zeros((3,))
    for _ in range(20000):
        x = x * 1.0 + 1.0
    assert x.tolist() == [20000.0, 20000.0, 20000.0]


# ---------------------------------------------------------------- memory --
def test_memory_functions_exist_and_return_ints():
    for f in (mx.get_active_memory, mx.get_peak_memory, mx.get_cache_memory):
        v = f()
        assert isinstance(v, int) and v >= 0
    assert mx.reset_peak_memory() is None
    assert mx.clear_cache() is None


def test_active_memory_tracks_allocation():
    mx.synchronize()
    before = mx.get_active_memory()
    y = mx.zeros((1000, 1000))
    mx.eval(y)
    during = mx.get_active_memory()
    assert during - before >= 4_000_000
    del y
    after = mx.get_active_memory()
    assert after < during - 3_000_000


def test_peak_memory_and_reset():
    mx.reset_peak_memory()
    y = mx.ones((2000, 1000))
    mx.eval(y)
    assert mx.get_peak_memory() >= 8_000_000
    assert mx.get_peak_memory() >= mx.get_active_memory()
    del y
    mx.reset_peak_memory()
    assert mx.get_peak_memory() < 8_000_000


def test_cache_and_clear_cache():
    old = mx.set_cache_limit(1 << 30)
    try:
        y = mx.zeros((1000, 1000))
        mx.eval(y)
        del y
        assert mx.get_cache_memory() >= 4_000_000  # freed buffer kept for reuse
        mx.clear_cache()
        assert mx.get_cache_memory() == 0
    finally:
        mx.set_cache_limit(old)


def test_set_cache_limit_returns_previous():
    old = mx.set_cache_limit(12345678)
    try:
        assert isinstance(old, int)
        assert mx.set_cache_limit(0) == 12345678
        y = mx.zeros((1000, 1000))
        mx.eval(y)
        del y
        assert mx.get_cache_memory() < 4_000_000  # limit 0: nothing cached
    finally:
        mx.set_cache_limit(old)


def test_set_memory_limit_returns_previous():
    old = mx.set_memory_limit(1 << 34)
    try:
        assert isinstance(old, int) and old > 0
        assert mx.set_memory_limit(1 << 33) == 1 << 34
    finally:
        mx.set_memory_limit(old)


def test_loop_keeps_active_memory_flat():
    x = mx.zeros((100,))
    m100 = None
    for i in range(10000):
        x = x * 0.999 + 0.001
        mx.eval(x)
        if i == 100:
            m100 = mx.get_active_memory()
    m_end = mx.get_active_memory()
    assert m_end <= m100 + 16 * 1024
    # and the value is right: x_n = 1 - 0.999**n
    np.testing.assert_allclose(np.array(x.tolist()), 1 - 0.999 ** 10000, rtol=1e-3)
