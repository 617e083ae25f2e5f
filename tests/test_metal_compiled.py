"""The GPU side of Compiled (mx.compile's fused node), Lapack and Collective.

Compiled runs the subgraph it fused on the GPU, step by step through each step's Metal
kernel: its results equal the same function uncompiled on the GPU bit for bit (same
kernels, same inputs), and the CPU's within the kernels' own tolerances (transcendentals:
4 float32 ulps, sums: (n + 2) eps, as in test_metal_kernels.py).  Lapack raises MLX's
"not yet supported on the GPU" error; a Collective of one process is the identity.
"""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import internal

_node_device = internal("mlxc._core.array", "_node_device")
_node_inputs = internal("mlxc._core.array", "_node_inputs")


def rand(shape, seed, dtype=mx.float32):
    a = mx.array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))
    a = a.astype(dtype)
    mx.eval(a)
    return a


@pytest.fixture
def compiled_calls(gpu):
    """Counts the Compiled nodes evaluated on the GPU."""
    from mlxc._core.primitive import _gpu_table
    from mlxc._core.prims.compiled import Compiled
    calls = []
    real = _gpu_table[Compiled]
    _gpu_table[Compiled] = lambda *a: (calls.append(a[0]), real(*a))[1]
    try:
        yield calls
    finally:
        _gpu_table[Compiled] = real


def elementwise(x, y):
    return mx.exp(x) * y + mx.sin(y) / (1 + x * x), mx.maximum(x, y) - 3


def rows(x, y):
    # a row program: reduction with prologue and epilogue (softmax-like)
    m = mx.max(x, axis=-1, keepdims=True)
    e = mx.exp(x - m) * y
    return e / mx.sum(e, axis=-1, keepdims=True)


@pytest.mark.parametrize("fn", [elementwise, rows])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_compiled_on_gpu_matches(fn, dtype, compiled_calls):
    dt = getattr(mx, dtype)
    x = rand((5, 37), 1, dt)
    y = rand((37,), 2, dt)                         # broadcast against x
    cf = mx.compile(fn)
    with mx.stream(mx.gpu):
        g = cf(x, y)
        u = fn(x, y)                               # uncompiled, on the GPU
    c = cf(x, y)                                   # compiled, on the CPU
    g, u, c = [list(t) if isinstance(t, tuple) else [t] for t in (g, u, c)]
    assert all(_node_device(t) == 1 for t in g)
    mx.eval(g, u, c)
    assert len(compiled_calls) >= 1                # the fused node ran on the GPU
    eps = 2.0 ** -23 if dtype == "float32" else 2.0 ** -10
    for a, b, cc in zip(g, u, c):
        np.testing.assert_array_equal(np.array(a), np.array(b))
        fa = np.array(a).astype(np.float64)
        fc = np.array(cc).astype(np.float64)
        np.testing.assert_allclose(fa, fc, rtol=64 * eps, atol=64 * eps)


def test_compiled_gpu_grad_and_shapeless(compiled_calls):
    x = rand((3, 8), 3)
    f = mx.compile(lambda a: mx.sum(mx.tanh(a) * a), shapeless=True)
    with mx.stream(mx.gpu):
        g = mx.grad(f)(x)
        r2 = f(rand((2, 5), 4))                    # a new shape, same compiled function
    mx.eval(g, r2)
    gc = mx.grad(f)(x)
    np.testing.assert_allclose(np.array(g), np.array(gc), rtol=1e-5, atol=1e-6)
    x2 = np.array(rand((2, 5), 4)).astype(np.float64)
    np.testing.assert_allclose(float(r2.item()), np.sum(np.tanh(x2) * x2), rtol=1e-5)


def test_compiled_step_without_kernel_raises(compiled_calls):
    # a fused function whose subgraph holds a primitive with no Metal kernel raises as
    # uncompiled would (no CPU fallback)
    # (every primitive has a kernel now: Scan's is taken out of the table for the test)
    from mlxc._core.primitive import _gpu_table
    from mlxc._core.prims.reduce import Scan
    f = mx.compile(lambda a: mx.cumsum(mx.exp(a), axis=0) + 1)
    x = rand((4,), 5)
    saved = _gpu_table.pop(Scan)
    try:
        with mx.stream(mx.gpu):
            r = f(x)
        with pytest.raises(RuntimeError, match="has no Metal kernel yet"):
            mx.eval(r)
    finally:
        _gpu_table[Scan] = saved


def test_compiled_runs_metal_kernels(compiled_calls, dispatched):
    f = mx.compile(lambda a, b: mx.exp(a) + b * 2)
    with mx.stream(mx.gpu):
        r = f(rand((4,), 6), rand((4,), 7))
    mx.eval(r)
    assert len(compiled_calls) == 1
    assert dispatched.count("unary_g_float32") == 1
    assert dispatched.count("binary_g_float32") == 2


# ---------------------------------------------------------------- linalg, collectives


LINALG = [("inv", lambda a, s: mx.linalg.inv(a, stream=s)),
          ("cholesky", lambda a, s: mx.linalg.cholesky(a, stream=s)),
          ("qr", lambda a, s: mx.linalg.qr(a, stream=s)),
          ("svd", lambda a, s: mx.linalg.svd(a, stream=s)),
          ("eigh", lambda a, s: mx.linalg.eigh(a, stream=s)),
          ("lu", lambda a, s: mx.linalg.lu(a, stream=s)),
          ("solve", lambda a, s: mx.linalg.solve(a, a, stream=s)),
          ("pinv", lambda a, s: mx.linalg.pinv(a, stream=s))]


@pytest.mark.parametrize("name,f", LINALG, ids=[n for n, _ in LINALG])
def test_linalg_on_gpu_raises_as_mlx(name, f, gpu):
    a = mx.array([[4.0, 1.0], [1.0, 3.0]])
    msg = (rf"\[linalg::{name}\] This op is not yet supported on the GPU\. Explicitly pass "
           r"a CPU stream to run it\.")
    with pytest.raises(ValueError, match=msg):
        f(a, mx.gpu)
    with mx.stream(mx.gpu):                        # the GPU as the context's device
        with pytest.raises(ValueError, match=msg):
            f(a, None)
    mx.eval(f(a, mx.cpu))                          # the CPU still runs it


def test_lapack_node_on_gpu_raises(gpu):
    # a Lapack node made on the GPU without the op's check (the node builder the ops
    # and rules share) raises at eval
    INV = internal("mlxc._core.prims.lapack", "INV")
    lapack = internal("mlxc._core.ops.lapack", "lapack")
    a = mx.array([[2.0, 0.0], [0.0, 4.0]])
    with mx.stream(mx.gpu):
        r = lapack(INV, 0, a)[0]
    assert _node_device(r) == 1
    with pytest.raises(ValueError, match=r"\[linalg::inv\] This op is not yet supported "
                                         r"on the GPU"):
        mx.eval(r)


def test_collective_on_gpu_is_the_identity(gpu):
    x = rand((3, 4), 8)
    with mx.stream(mx.gpu):
        rs = [mx.distributed.all_sum(x), mx.distributed.all_max(x),
              mx.distributed.all_gather(x)]
    for r in rs:
        assert _node_device(r) == 1
    mx.eval(rs)
    for r in rs:
        np.testing.assert_array_equal(np.array(r), np.array(x))


def test_cpu_fallback_stays_on_the_cpu_in_a_gpu_context(dispatched):
    # A CPU Compiled node that falls back to its original nodes (a shapeless call at new
    # shapes) replays them on the CPU, whatever stream context the eval runs in.
    cf = mx.compile(rows, shapeless=True)
    mx.eval(cf(rand((2, 8), 1), rand((8,), 2)))            # traced at (2, 8)
    x, y = rand((3, 8), 3), rand((8,), 4)
    r = cf(x, y)
    assert _node_device(r) == 0
    assert all(_node_inputs(t) is None for t in _node_inputs(r))   # one fused node
    with mx.stream(mx.gpu):
        mx.eval(r)
    assert dispatched == []
    np.testing.assert_allclose(np.array(r), np.array(rows(x, y)), rtol=1e-6)
