"""Arrays built, evaluated and transformed from several Python threads at once.

Each test runs worker threads that start together (a barrier) and are joined with a
timeout, so a deadlock fails the test instead of hanging it.  Results are checked
against numpy, or bit for bit against the same computation done by one thread first
(results must not depend on which thread, or how many pool threads, computed them).
The light variants always run; MLXC_THREAD_STRESS=1 turns on the heavy ones.
"""
import os
import threading

import numpy as np
import pytest

import mlxc.core as mx

STRESS = os.environ.get("MLXC_THREAD_STRESS", "") not in ("", "0")
N_THREADS = 8 if STRESS else 4
ITERS = 200 if STRESS else 12
TIMEOUT = 600 if STRESS else 120


def run_threads(work, n=N_THREADS, timeout=TIMEOUT):
    """work(tid, barrier) in n threads at once; re-raise the first failure; fail on a hang."""
    barrier = threading.Barrier(n)
    errors = []

    def body(tid):
        try:
            work(tid, barrier)
        except BaseException as e:       # noqa: BLE001 - reported below
            errors.append((tid, e))
            barrier.abort()

    threads = [threading.Thread(target=body, args=(t,), daemon=True) for t in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    alive = [i for i, t in enumerate(threads) if t.is_alive()]
    assert not alive, f"threads {alive} did not finish within {timeout} s (deadlock?)"
    if errors:
        errors = [e for e in errors if not isinstance(e[1], threading.BrokenBarrierError)] \
            or errors
        raise errors[0][1]


def _graph(x, w):
    """A mix of elementwise, matmul (pooled), reductions and views."""
    h = mx.tanh(x @ w) * 0.5 + mx.exp(-mx.abs(x))
    return mx.sum(h * h, axis=1) + mx.max(h.T, axis=0)


def _graph_np(x, w):
    h = np.tanh(x @ w) * 0.5 + np.exp(-np.abs(x))
    return np.sum(h * h, axis=1) + np.max(h.T, axis=0)


def test_independent_graphs():
    rng = np.random.default_rng(0)
    n = 192
    inputs = [(rng.standard_normal((n, n)).astype(np.float32) / 8,
               rng.standard_normal((n, n)).astype(np.float32) / 8) for _ in range(N_THREADS)]
    # One thread's answer first: every thread must reproduce it bit for bit.
    ref = [np.array(_graph(mx.array(x), mx.array(w))) for x, w in inputs]

    def work(tid, barrier):
        x, w = inputs[tid]
        barrier.wait()
        for it in range(ITERS):
            y = _graph(mx.array(x), mx.array(w))
            mx.eval(y)
            got = np.array(y)
            np.testing.assert_array_equal(got, ref[tid])
            np.testing.assert_allclose(got, _graph_np(x.astype(np.float64), w), rtol=2e-5,
                                       atol=2e-5)

    run_threads(work)


def test_shared_graph_evaluated_by_all():
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((256, 256)).astype(np.float32) / 16
    expect = _graph_np(x_np.astype(np.float64), x_np)
    shared = {}
    lock = threading.Lock()

    def work(tid, barrier):
        for it in range(ITERS):
            if tid == 0:                 # a fresh unevaluated graph each round
                x = mx.array(x_np)
                with lock:
                    shared["y"] = _graph(x, x)
            barrier.wait()
            with lock:
                y = shared["y"]
            z = y * (tid + 1)            # private nodes reading the shared graph
            if tid % 2:
                mx.eval(z)
                got = np.array(y)
            else:
                got = np.array(y)        # conversion must wait for an eval in progress
                mx.eval(z)
            np.testing.assert_allclose(got, expect, rtol=2e-5, atol=2e-5)
            np.testing.assert_allclose(np.array(z), expect * (tid + 1), rtol=2e-5,
                                       atol=2e-5 * (tid + 1))
            barrier.wait()

    run_threads(work)


def test_shared_evaluated_input_private_graphs():
    """Threads read one evaluated array: donation must never hand its buffer to a thread."""
    x_np = np.linspace(-2, 2, 1 << 16, dtype=np.float32)
    x = mx.array(x_np)
    mx.eval(x)

    def work(tid, barrier):
        barrier.wait()
        for it in range(ITERS):
            y = mx.exp(mx.sin(x * (tid + 1)) + 1)
            np.testing.assert_allclose(np.array(y), np.exp(np.sin(x_np * (tid + 1)) + 1),
                                       rtol=1e-5)
        np.testing.assert_array_equal(np.array(x), x_np)

    run_threads(work)


def test_concurrent_transforms():
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((64, 32)).astype(np.float32)
    w_np = rng.standard_normal((32, 16)).astype(np.float32) / 4
    w_shared = mx.array(w_np)

    def loss(w, x):
        return mx.sum(mx.tanh(x @ w) ** 2)

    def loss_with_eval(w, x):
        h = mx.sin(x @ w + 1)
        mx.eval(h)                       # an eval inside grad keeps the graph (per thread)
        return mx.sum(h)

    def grad_np(w, x):
        z = np.tanh(x @ w)
        return x.T @ (2 * z * (1 - z * z))

    def work(tid, barrier):
        x_priv = mx.array(x_np * (tid + 1) / 4)
        xp = x_np.astype(np.float64) * (tid + 1) / 4
        barrier.wait()
        for it in range(ITERS):
            kind = (tid + it) % 4
            if kind == 0:
                g = mx.grad(loss)(w_shared, x_priv)
                np.testing.assert_allclose(np.array(g), grad_np(w_np, xp), rtol=2e-4,
                                           atol=2e-4)
            elif kind == 1:
                g = mx.grad(loss_with_eval)(w_shared, x_priv)
                want = xp.T @ np.cos(xp @ w_np + 1)
                np.testing.assert_allclose(np.array(g), want, rtol=2e-4, atol=2e-4)
            elif kind == 2:
                (out,), (vjp_x,) = mx.vjp(lambda a: mx.exp(a) * a, [x_priv],
                                          [mx.ones(x_priv.shape)])
                np.testing.assert_allclose(np.array(vjp_x), np.exp(xp) * (xp + 1),
                                           rtol=1e-4)
            else:
                rows = mx.vmap(lambda r: mx.sum(r * r) + mx.max(r))(x_priv)
                want = np.sum(xp * xp, axis=1) + np.max(xp, axis=1)
                np.testing.assert_allclose(np.array(rows), want, rtol=1e-5)
                gv = mx.vmap(mx.grad(lambda r: mx.sum(mx.sin(r))))(x_priv)
                np.testing.assert_allclose(np.array(gv), np.cos(xp), rtol=1e-5, atol=1e-6)

    run_threads(work)


def test_stream_per_thread():
    main_default = mx.default_stream(mx.cpu)
    seen = {}

    def work(tid, barrier):
        d = mx.default_stream(mx.cpu)
        s = mx.new_stream(mx.cpu)
        barrier.wait()
        with mx.stream(s):
            assert mx.default_stream(mx.cpu) == s
            barrier.wait()               # every thread is inside its own context now
            y = mx.arange(1000, stream=s) * tid
            assert mx.default_stream(mx.cpu) == s
        assert mx.default_stream(mx.cpu) == d
        np.testing.assert_array_equal(np.array(y), np.arange(1000) * tid)
        seen[tid] = (d, s)

    run_threads(work)
    assert mx.default_stream(mx.cpu) == main_default
    defaults = [d for d, _ in seen.values()]
    news = [s for _, s in seen.values()]
    # each thread has its own default stream, none is the main thread's
    assert len(set(defaults)) == len(defaults) and main_default not in defaults
    assert len(set(news)) == len(news) and not set(news) & set(defaults)


def test_error_in_shared_graph_reaches_every_thread():
    """A node that fails in one thread's eval is given up, not left claimed: the other
    threads then run it themselves and get the same error; nobody hangs."""
    x = mx.arange(10)

    def work(tid, barrier):
        for it in range(max(2, ITERS // 4)):
            if tid == 0:
                shared["bad"] = mx.take(x * 2, mx.array([1, 50])) + 1
            barrier.wait()
            bad = shared["bad"]
            with pytest.raises(IndexError):
                mx.eval(bad * (tid + 1))
            with pytest.raises(IndexError):
                bad.tolist()
            barrier.wait()

    shared = {}
    run_threads(work)


def test_pool_concurrent_callers_thread_count_independent():
    """Two or more threads submit pooled work (reductions, matmul) at once: the pool
    serves one and the others run alone, with the same bits either way."""
    rng = np.random.default_rng(3)
    a_np = rng.standard_normal((1 << 20,)).astype(np.float32)
    m_np = rng.standard_normal((256, 256)).astype(np.float32)
    a, m = mx.array(a_np), mx.array(m_np)
    ref_sum = np.array(mx.sum(a))
    ref_mm = np.array(m @ m)
    ref_cs = np.array(mx.cumsum(a[: 1 << 16]))

    def work(tid, barrier):
        barrier.wait()
        for it in range(ITERS):
            s, p, c = mx.sum(a), m @ m, mx.cumsum(a[: 1 << 16])
            mx.eval(s, p, c)
            assert np.array(s).tobytes() == ref_sum.tobytes()
            np.testing.assert_array_equal(np.array(p), ref_mm)
            np.testing.assert_array_equal(np.array(c), ref_cs)

    run_threads(work)


def test_inplace_update_while_other_thread_evaluates():
    """x[...] = v in one thread while others evaluate graphs reading x: readers keep
    x's old value (MLX semantics) and nothing reads a half-written buffer."""
    base = np.arange(4096, dtype=np.float32)

    def work(tid, barrier):
        for it in range(ITERS):
            if tid == 0:
                shared["x"] = mx.array(base) * 1.0      # unevaluated
                shared["y"] = mx.exp(shared["x"] / 4096)
            barrier.wait()
            x, y = shared["x"], shared["y"]
            if tid == 1:
                x[0] = -1.0                               # rebinds x for everybody
            else:
                np.testing.assert_allclose(np.array(y), np.exp(base / 4096), rtol=1e-6)
            barrier.wait()
            got = np.array(x)
            want = base.copy()
            if N_THREADS > 1:
                want[0] = -1.0
            np.testing.assert_array_equal(got, want)
            barrier.wait()

    shared = {}
    run_threads(work)


def test_memory_statistics_consistent_after_threads():
    import gc
    gc.collect()
    mx.eval(mx.zeros(1))
    before = mx.get_active_memory()

    def work(tid, barrier):
        barrier.wait()
        for it in range(ITERS):
            ys = [mx.ones((1000 + 17 * tid,)) * i for i in range(8)]
            mx.eval(ys)
            del ys

    run_threads(work)
    gc.collect()
    assert mx.get_active_memory() == before


def test_eval_inside_grad_keeps_input_values():
    """An eval inside grad must not let a node take over its input's buffer: the vjp
    rules read that input afterwards (sin's vjp reads cos(x + 1))."""
    def f(x):
        b = mx.sin(x + 1)
        mx.eval(b)
        return b.sum()

    x_np = np.array([0.5, 1.0, 2.0], np.float32)
    g = mx.grad(f)(mx.array(x_np))
    np.testing.assert_allclose(np.array(g), np.cos(x_np.astype(np.float64) + 1), rtol=1e-6)


def test_failed_node_is_left_unevaluated():
    """A kernel error leaves no half-written result that looks evaluated."""
    y = mx.take(mx.arange(4), mx.array([0, 9])) + 1
    for _ in range(2):
        with pytest.raises(IndexError):
            mx.eval(y)
        with pytest.raises(IndexError):
            y.tolist()
