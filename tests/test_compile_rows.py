"""mx.compile's row programs: a reduction over trailing axes fused with the elementwise
work before and after it (softmax, layer norm, logsumexp, mse written by hand) runs as
one Compiled node whose results are bit-identical to the uncompiled graph (each row is
reduced by the same kernel over a contiguous block, as the unfused Reduce reads its
contiguous elementwise input), close to float64 numpy, independent of the thread count,
and whose transforms are those of the original graph."""
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx
from helpers import CHILD_CWD, child_env


def bits(a):
    a = a.astype(mx.float32) if a.dtype == mx.bfloat16 else a
    return np.array(a).tobytes()


def row_programs(cf):
    t = cf._traces()[-1]
    return [s.prim for s in t.steps
            if type(s.prim).__name__ == "Compiled" and s.prim.rows]


def rng(shape, seed=0, dtype=mx.float32):
    return mx.array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32)).astype(dtype)


def layer_norm(x, w, b):
    mu = mx.mean(x, axis=-1, keepdims=True)
    xc = x - mu
    var = mx.mean(xc * xc, axis=-1, keepdims=True)
    return xc * mx.rsqrt(var + 1e-5) * w + b


def softmax(x):
    e = mx.exp(x - mx.max(x, axis=-1, keepdims=True))
    return e / mx.sum(e, axis=-1, keepdims=True)


def logsumexp(x):
    m = mx.max(x, axis=-1, keepdims=True)
    return mx.log(mx.sum(mx.exp(x - m), axis=-1)) + mx.squeeze(m, -1)


def np_layer_norm(x, w, b):
    x = x.astype(np.float64)
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5) * w + b


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("shape", [(64, 1024), (3, 5, 7), (1, 2), (130, 33), (2, 70000)])
def test_layer_norm_fused_and_bit_identical(shape):
    x, w, b = rng(shape), rng(shape[-1:], 1), rng(shape[-1:], 2)
    cf = mx.compile(layer_norm)
    got = cf(x, w, b)
    assert bits(got) == bits(layer_norm(x, w, b))
    # one row program reads x and writes y: the statistics never reach memory
    progs = row_programs(cf)
    if shape[-1] <= 65536:
        assert len(progs) == 1 and len(cf._traces()[-1].steps) == 1
    ref = np_layer_norm(np.array(x, np.float64), np.array(w, np.float64), np.array(b, np.float64))
    # float32 statistics of rows of n: mean/var errors O(log n) ulp; rsqrt 1 ulp
    np.testing.assert_allclose(np.array(got), ref, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("dtype", [mx.float32, mx.float16, mx.bfloat16, mx.float64])
def test_softmax_and_logsumexp(dtype):
    x = rng((37, 300), 3, dtype)
    for f in (softmax, logsumexp):
        cf = mx.compile(f)
        got = cf(x)
        assert bits(got) == bits(f(x)), f.__name__
        assert len(row_programs(cf)) >= 1
    wide = mx.float64 if dtype == mx.float64 else mx.float32
    xs = np.array(x.astype(wide), np.float64)
    tol = {mx.float32: 1e-5, mx.float64: 1e-12}.get(dtype, 2e-2)
    np.testing.assert_allclose(np.array(mx.compile(softmax)(x).astype(wide)),
                               np_softmax(xs), rtol=tol, atol=tol)
    ref = np.log(np.exp(xs - xs.max(-1, keepdims=True)).sum(-1)) + xs.max(-1)
    np.testing.assert_allclose(np.array(mx.compile(logsumexp)(x).astype(wide)), ref,
                               rtol=tol, atol=tol)


def test_every_reduction_kind_and_axis_sets():
    x = rng((6, 5, 40), 4)
    cases = {
        "sum_last": lambda x: mx.sum(mx.exp(x) * 2.0, axis=-1),
        "prod": lambda x: mx.prod(1.0 + 0.01 * x, axis=-1),
        "max": lambda x: mx.max(mx.abs(x) - 1.0, axis=-1, keepdims=True) * 3.0,
        "min": lambda x: mx.min(mx.sin(x), axis=(1, 2)),
        "all": lambda x: mx.all(x * x < 9.0, axis=-1),
        "mse_all": lambda x: mx.mean(mx.square(x - 0.5)),
        "int_sum": lambda x: mx.sum((x > 0).astype(mx.int32) * 3, axis=-1),
    }
    npx = np.array(x, np.float64)
    refs = {
        "sum_last": (np.exp(npx) * 2).sum(-1), "prod": (1 + 0.01 * npx).prod(-1),
        "max": (np.abs(npx) - 1).max(-1, keepdims=True) * 3, "min": np.sin(npx).min((1, 2)),
        "all": (npx * npx < 9).all(-1), "mse_all": ((npx - 0.5) ** 2).mean(),
        "int_sum": ((npx > 0) * 3).sum(-1),
    }
    for name, f in cases.items():
        cf = mx.compile(f)
        got = cf(x)
        assert bits(got) == bits(f(x)), name
        assert len(row_programs(cf)) == 1, name
        np.testing.assert_allclose(np.array(got), refs[name], rtol=1e-5, atol=1e-5,
                                   err_msg=name)


def test_middle_axes_are_left_to_the_unfused_reduction():
    f = lambda x: mx.sum(mx.exp(x), axis=1)
    x = rng((4, 6, 8), 5)
    cf = mx.compile(f)
    assert bits(cf(x)) == bits(f(x))
    assert row_programs(cf) == []


def test_intermediate_with_other_readers_is_an_output():
    def f(x):
        e = mx.exp(x - 1.0)
        s = mx.sum(e, axis=-1, keepdims=True)
        return e / s, e                    # e leaves the group and is written once
    x = rng((50, 200), 6)
    cf = mx.compile(f)
    for a, b in zip(cf(x), f(x)):
        assert bits(a) == bits(b)
    assert len(row_programs(cf)) == 1


def test_strided_and_broadcast_inputs():
    x = rng((300, 64), 7).T                # non-contiguous rows: gathered per block
    w = rng((300,), 8)
    b = mx.broadcast_to(rng((1, 300), 9), (64, 300))
    cf = mx.compile(layer_norm)
    assert bits(cf(x, w, b)) == bits(layer_norm(x, w, b))
    # a reduction straight of a transposed input: the unfused kernel sums its columns in
    # another order, so the original nodes run (same bits)
    g = lambda x: mx.sum(x, axis=-1) + mx.sum(x * x, axis=-1)
    assert bits(mx.compile(g)(x)) == bits(g(x))


def test_grad_through_fused_layer_norm_matches_finite_differences():
    x, w, b = rng((4, 16), 10), rng((16,), 11), rng((16,), 12)
    cf = mx.compile(layer_norm)
    loss_c = lambda x, w, b: mx.sum(cf(x, w, b) * mx.arange(16, dtype=mx.float32))
    loss = lambda x, w, b: mx.sum(layer_norm(x, w, b) * mx.arange(16, dtype=mx.float32))
    gc = mx.grad(loss_c, argnums=(0, 1, 2))(x, w, b)
    gu = mx.grad(loss, argnums=(0, 1, 2))(x, w, b)
    for a, c in zip(gc, gu):
        np.testing.assert_allclose(np.array(a), np.array(c), rtol=1e-5, atol=1e-5)
    # central differences in float64 of the same function
    x64, w64, b64 = (np.array(v, np.float64) for v in (x, w, b))
    ramp = np.arange(16.0)
    fd = np.zeros_like(x64)
    h = 1e-6
    for idx in np.ndindex(*x64.shape):
        p, m = x64.copy(), x64.copy()
        p[idx] += h
        m[idx] -= h
        fd[idx] = ((np_layer_norm(p, w64, b64) * ramp).sum()
                   - (np_layer_norm(m, w64, b64) * ramp).sum()) / (2 * h)
    np.testing.assert_allclose(np.array(gc[0]), fd, rtol=2e-3, atol=2e-3)
    # grad of a compiled softmax-loss, jvp and vmap go through the original nodes too
    cs = mx.compile(softmax)
    np.testing.assert_allclose(np.array(mx.grad(lambda v: cs(v)[:, 0].sum())(x)),
                               np.array(mx.grad(lambda v: softmax(v)[:, 0].sum())(x)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.array(mx.jvp(cs, [x], [w * x])[1][0]),
                               np.array(mx.jvp(softmax, [x], [w * x])[1][0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.array(mx.vmap(cs)(x)), np.array(softmax(x)), rtol=1e-6)


def test_shapeless_new_shapes_run_the_original_nodes():
    cf = mx.compile(softmax, shapeless=True)
    for shape in [(8, 32), (5, 7), (2, 3, 100)]:
        x = rng(shape, 13)
        assert bits(cf(x)) == bits(softmax(x))


_CHILD = (
    "import hashlib, numpy as np, mlxc.core as mx\n"
    "r = np.random.default_rng(0)\n"
    "x = mx.array(r.standard_normal((4096, 1024)).astype(np.float32))\n"
    "w = mx.array(r.standard_normal(1024).astype(np.float32))\n"
    "def ln(x, w):\n"
    "    mu = mx.mean(x, axis=-1, keepdims=True)\n"
    "    xc = x - mu\n"
    "    return xc * mx.rsqrt(mx.mean(xc * xc, axis=-1, keepdims=True) + 1e-5) * w\n"
    "def sm(x):\n"
    "    e = mx.exp(x - mx.max(x, axis=-1, keepdims=True))\n"
    "    return e / mx.sum(e, axis=-1, keepdims=True)\n"
    "out = []\n"
    "for f, a in ((ln, (x, w)), (sm, (x,))):\n"
    "    c, u = np.array(mx.compile(f)(*a)), np.array(f(*a))\n"
    "    assert c.tobytes() == u.tobytes(), f.__name__\n"
    "    out.append(hashlib.sha1(c.tobytes()).hexdigest())\n"
    "print(' '.join(out))\n")


def test_same_bits_at_any_thread_count_and_isa():
    seen = set()
    for env in ({"MLXC_NUM_THREADS": "1"}, {"MLXC_NUM_THREADS": "3"},
                {"MLXC_NUM_THREADS": "2", "MLXC_CPU_ISA": "scalar"},
                {"MLXC_NUM_THREADS": "2", "MLXC_CPU_ISA": "avx2"}):
        r = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(**env), cwd=CHILD_CWD,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        if "MLXC_CPU_ISA" not in env:
            seen.add(r.stdout.strip())
    assert len(seen) == 1
