"""mx.compile's fusion: elementwise chains become one Compiled node whose results are
bit-identical to the uncompiled ops (the same row kernels run over tiles), whose
transforms are those of the original graph, and which falls back to the original nodes
when a shapeless call breaks the fused plan."""
import math

import numpy as np
import pytest

import mlxc.core as mx


def bits(a):
    return np.array(a.astype(mx.float32) if a.dtype == mx.bfloat16 else a).tobytes()


def fused_steps(cf):
    t = cf._traces()[-1]
    return [s for s in t.steps if type(s.prim).__name__ == "Compiled"]


def gelu(x):
    return 0.5 * x * (1 + mx.erf(x / math.sqrt(2)))


def twelve(x, y):
    a = x * y + 1.0
    b = mx.exp(-a * a)
    c = mx.maximum(b, 0.1) - mx.sin(x)
    d = mx.where(c > 0, c, y * 0.5)
    return mx.sqrt(mx.abs(d)) + mx.tanh(a)


def rng(shape, dtype=mx.float32, seed=0):
    r = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return mx.array(r).astype(dtype)


@pytest.mark.parametrize("n", [1, 7, 2048, 2049, 70001])
def test_gelu_bit_identical(n):
    x = rng((n,))
    cf = mx.compile(gelu)
    assert bits(cf(x)) == bits(gelu(x))
    assert len(fused_steps(cf)) == 1


@pytest.mark.parametrize("dtype", [mx.float32, mx.float16, mx.bfloat16, mx.float64])
def test_twelve_ops_bit_identical(dtype):
    if dtype == mx.float64:
        pytest.importorskip("numpy")
    x, y = rng((333, 129), dtype, 1), rng((333, 129), dtype, 2)
    cf = mx.compile(twelve)
    assert bits(cf(x, y)) == bits(twelve(x, y))
    assert len(fused_steps(cf)) == 1


def test_broadcast_rows_scalars_and_strided_inputs():
    x = rng((64, 300))
    b = rng((300,), seed=3)
    s = mx.array(1.5)
    f = lambda x, b, s: mx.exp(x * b + s) / (1 + mx.abs(b)) - s
    cf = mx.compile(f)
    assert bits(cf(x, b, s)) == bits(f(x, b, s))
    xt = mx.transpose(rng((300, 64), seed=4))          # strided: gathered per tile
    assert bits(cf(xt, b, s)) == bits(f(xt, b, s))
    col = rng((64, 1), seed=5)                          # column broadcast
    g = lambda x, c: mx.log1p(x * x) * c + c
    assert bits(mx.compile(g)(x, col)) == bits(g(x, col))


def test_ints_bools_casts_and_select():
    i = mx.array(np.arange(-500, 500, dtype=np.int32))
    f = lambda i: mx.where((i % 7) == 3, (i * 3) // 2, -i).astype(mx.float32) * 0.25 + \
        (i > 10).astype(mx.float32)
    cf = mx.compile(f)
    assert bits(cf(i)) == bits(f(i))
    assert len(fused_steps(cf)) == 1
    g = lambda x: mx.logical_not(mx.isnan(x)) & (x < 1)
    x = mx.array([0.5, float("nan"), 2.0, -1.0])
    assert mx.compile(g)(x).tolist() == g(x).tolist()
    c = lambda z: mx.abs(z * z + 1j)
    z = mx.array(np.array([1 + 2j, -3j, 0.5], np.complex64))
    assert bits(mx.compile(c)(z)) == bits(c(z))


def test_scalar_chain_and_multiple_outputs():
    def chain(x):
        for k in range(100):
            x = x * 1.001 + 0.0001 * (k % 5) if k % 2 else mx.sin(x) + 0.5
        return x
    x = rng((16,))
    cf = mx.compile(chain)
    assert bits(cf(x)) == bits(chain(x))
    assert len(fused_steps(cf)) == 1
    two = lambda x: (mx.exp(x), mx.exp(x) * 2 + 1, x * 3)
    outs = mx.compile(two)(x)
    for a, b in zip(outs, two(x)):
        assert bits(a) == bits(b)


def test_intermediate_read_outside_stays_correct():
    def f(x):
        a = mx.exp(x) + 1
        s = mx.sum(a)                 # not elementwise: a leaves the group
        return a * 2 - s, s
    x = rng((1000,))
    o1, o2 = mx.compile(f)(x)
    r1, r2 = f(x)
    assert bits(o1) == bits(r1) and bits(o2) == bits(r2)


def _close(a, b):
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6)


def test_transforms_through_fused_node():
    x, y = rng((5, 6), seed=7), rng((5, 6), seed=8)
    cf = mx.compile(twelve)
    loss_c = lambda a, b: cf(a, b).sum()
    loss = lambda a, b: twelve(a, b).sum()
    _close(mx.grad(loss_c, argnums=(0, 1))(x, y)[1], mx.grad(loss, argnums=(0, 1))(x, y)[1])
    _close(mx.jvp(cf, [x, y], [y, x])[1][0], mx.jvp(twelve, [x, y], [y, x])[1][0])
    _close(mx.vmap(cf, in_axes=(0, None))(x, y[0]), mx.vmap(twelve, in_axes=(0, None))(x, y[0]))
    _close(mx.grad(lambda a: mx.grad(lambda b: mx.compile(gelu)(b).sum())(a).sum())(x),
           mx.grad(lambda a: mx.grad(lambda b: gelu(b).sum())(a).sum())(x))


def test_shapeless_fused_falls_back_when_shapes_diverge():
    f = lambda x, y: (mx.exp(x) + 1, mx.exp(x) * y)
    cf = mx.compile(f, shapeless=True)
    x, y = rng((4,)), rng((4,), seed=1)
    for a, b in zip(cf(x, y), f(x, y)):
        assert bits(a) == bits(b)
    x2, y2 = rng((1,), seed=2), rng((5,), seed=3)     # outputs (1,) and (5,) now
    for a, b in zip(cf(x2, y2), f(x2, y2)):
        assert a.shape == b.shape and bits(a) == bits(b)
    x3 = rng((9,), seed=4)
    for a, b in zip(cf(x3, x3), f(x3, x3)):
        assert bits(a) == bits(b)


def test_same_bits_at_any_thread_count_and_isa():
    import subprocess
    import sys
    from helpers import CHILD_CWD, child_env
    code = ("import hashlib, math, numpy as np, mlxc.core as mx\n"
            "x = mx.array(np.random.default_rng(0).standard_normal(300001).astype(np.float32))\n"
            "f = lambda x: 0.5 * x * (1 + mx.erf(x / math.sqrt(2))) + mx.where(x > 0, mx.exp(-x), x)\n"
            "a, b = np.array(mx.compile(f)(x)), np.array(f(x))\n"
            "assert a.tobytes() == b.tobytes()\n"
            "print(hashlib.sha1(a.tobytes()).hexdigest())\n")
    digests = set()
    for env in ({"MLXC_NUM_THREADS": "1"}, {"MLXC_NUM_THREADS": "3"},
                {"MLXC_CPU_ISA": "scalar", "MLXC_NUM_THREADS": "2"}):
        out = subprocess.run([sys.executable, "-c", code], env=child_env(**env), cwd=CHILD_CWD,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        if "MLXC_CPU_ISA" not in env:
            digests.add(out.stdout.strip())
    assert len(digests) == 1
