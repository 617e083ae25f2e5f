"""Engine properties: laziness, detaching, freeing, buffer donation, in-place rebinding."""
import gc

import numpy as np
import pytest

import mlxc.core as mx

pytestmark = pytest.mark.mlxc_only


def test_ops_are_lazy_until_eval():
    a = mx.array(np.linspace(0, 1, 4096, dtype=np.float32))
    mx.eval(a)
    before = mx.get_active_memory()
    b = mx.exp(a) * 3 + 1          # builds nodes only (the scalars are tiny 0-d arrays)
    assert mx.get_active_memory() - before < 4 * 4096
    mx.eval(b)
    assert mx.get_active_memory() - before >= 4 * 4096
    np.testing.assert_allclose(np.array(b), np.exp(np.linspace(0, 1, 4096)) * 3 + 1, rtol=1e-6)


def test_intermediates_freed_after_eval():
    n = 1 << 18                      # 1 MiB of float32 per intermediate
    x = mx.ones((n,))
    mx.eval(x)
    mx.clear_cache()
    base = mx.get_active_memory()
    y = x
    for _ in range(20):
        y = y * 1.5 + 1.0
    mx.eval(y)
    # Only y (and x) stay alive: the 40 intermediates are gone.
    assert mx.get_active_memory() - base <= 2 * 4 * n


def test_donation_never_clobbers_a_held_input():
    x = mx.array(np.arange(1000, dtype=np.float32))
    mx.eval(x)
    y = x + 1                        # x is held by the user: must not be reused
    mx.eval(y)
    np.testing.assert_array_equal(np.array(x), np.arange(1000, dtype=np.float32))
    np.testing.assert_array_equal(np.array(y), np.arange(1000, dtype=np.float32) + 1)


def test_donation_reuses_a_dead_intermediate():
    x = mx.array(np.arange(1 << 16, dtype=np.float32))
    mx.eval(x)
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    y = ((x + 1) * 2 - 3) / 4        # each step may take over the previous buffer
    mx.eval(y)
    assert mx.get_peak_memory() - base <= 2 * 4 * (1 << 16)
    np.testing.assert_allclose(np.array(y), ((np.arange(1 << 16) + 1) * 2 - 3) / 4)


def test_view_input_is_not_donated():
    x = mx.array(np.arange(12, dtype=np.float32).reshape(3, 4))
    mx.eval(x)
    t = x.T
    y = mx.exp(t * 0)                # t shares x's buffer
    mx.eval(y)
    np.testing.assert_array_equal(np.array(x), np.arange(12).reshape(3, 4))


def test_nodes_detached_after_eval():
    a = mx.array([1.0])
    b = a + 1
    mx.eval(b)
    # After eval b holds data only; deleting a keeps b's value.
    del a
    gc.collect()
    assert b.item() == 2.0


def test_deep_chain_unevaluated_delete():
    x = mx.array(0.0)
    for _ in range(100_000):
        x = x + 1
    del x                            # freeing a 100k-deep graph must not recurse
    gc.collect()


def test_readers_see_value_before_inplace_update():
    x = mx.array([1, 2, 3])
    y = x * 10
    z = x + 0
    x += 1
    x *= 2
    assert y.tolist() == [10, 20, 30]
    assert z.tolist() == [1, 2, 3]
    assert x.tolist() == [4, 6, 8]


def test_async_eval_then_values():
    a = mx.arange(10)
    b = a * a
    mx.async_eval(b)
    assert b.tolist() == [i * i for i in range(10)]


def test_eval_trees_and_ignores_non_arrays():
    a, b = mx.array([1]) + 1, mx.array([2]) * 2
    mx.eval({"x": [a, (b, None)], "y": 3, "z": "s"})
    assert a.tolist() == [2] and b.tolist() == [4]


def test_memory_limits_roundtrip():
    prev = mx.set_cache_limit(0)
    mx.eval(mx.ones((1000,)) + 1)
    assert mx.get_cache_memory() == 0
    mx.set_cache_limit(prev)
    old = mx.set_memory_limit(1 << 30)
    assert mx.set_memory_limit(old) == 1 << 30
