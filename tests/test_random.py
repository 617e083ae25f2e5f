"""mx.random against MLX's recorded outputs, bit for bit (tests/data/random_cases.py
lists the calls, make_random_reference.py recorded MLX's answers), plus thread-count
and SIMD-level invariance, transforms (grad, vmap) and argument errors."""
import builtins
import os
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "data"))
from random_cases import cases  # noqa: E402

REF = np.load(os.path.join(HERE, "data", "random_reference.npz"))
CASES = list(cases(mx))


def _raw(out):
    mx.eval(out)
    a = np.array(out.view(mx.uint16) if out.dtype == mx.bfloat16 else out)
    return np.frombuffer(a.tobytes(), dtype=np.uint8)


@pytest.mark.parametrize("name,thunk", CASES, ids=[c[0] for c in CASES])
def test_matches_mlx(name, thunk):
    if f"{name}/error" in REF:
        err = str(REF[f"{name}/error"])
        with pytest.raises(getattr(builtins, err)) as info:
            mx.eval(thunk())
        assert info.type.__name__ == err
        return
    out = thunk()
    assert str(out.dtype).split(".")[-1] == str(REF[f"{name}/dtype"])
    assert tuple(out.shape) == tuple(REF[f"{name}/shape"].tolist())
    got, want = _raw(out), REF[f"{name}/bytes"]
    assert got.size == want.size
    bad = np.nonzero(got != want)[0]
    assert bad.size == 0, f"{name}: {bad.size} bytes differ, first at byte {bad[:8]}"


def test_state_is_a_list_holding_the_key():
    s = mx.random.state
    assert len(s) == 1 and isinstance(s[0], mx.array)
    mx.random.seed(5)
    assert s[0].tolist() == [0, 5]
    k0 = s[0]
    a = mx.random.uniform(shape=(4,))
    # the call split the old key: state[0] is the first half, the draw used the second
    halves = mx.random.split(k0)
    assert s[0].tolist() == halves[0].tolist()
    assert mx.array_equal(a, mx.random.uniform(shape=(4,), key=halves[1]))
    assert mx.array_equal(list(s)[0], s[0])
    with pytest.raises(IndexError):
        s[1]


def test_key_seeds():
    assert mx.random.key(2 ** 40 + 5).tolist() == [256, 5]
    assert mx.random.key(2 ** 64 - 1).tolist() == [2 ** 32 - 1, 2 ** 32 - 1]
    with pytest.raises(TypeError):
        mx.random.key(2 ** 64)
    with pytest.raises(TypeError):
        mx.random.key(1.5)


def test_more_errors():
    k = mx.random.key(0)
    with pytest.raises(ValueError, match="uint32"):
        mx.random.normal(key=mx.array([1, 2], dtype=mx.uint64))
    with pytest.raises(RuntimeError, match="uniform"):
        mx.eval(mx.random.uniform(dtype=mx.float64, key=k))
    with pytest.raises(ValueError, match="uniform"):
        mx.random.uniform(dtype=mx.complex64, key=k)
    with pytest.raises(IndexError):
        mx.random.permutation(mx.array(3), key=k)
    with pytest.raises(TypeError):
        mx.random.permutation(3.0, key=k)
    with pytest.raises(ValueError, match="argmax|categorical"):
        mx.eval(mx.random.categorical(mx.zeros((3, 4)), num_samples=0, key=k))


@pytest.mark.mlxc_only
def test_errors_name_the_op():
    k = mx.random.key(0)
    with pytest.raises(IndexError, match="permutation"):
        mx.random.permutation(mx.array(3), key=k)
    with pytest.raises(IndexError, match="permutation"):
        mx.random.permutation(mx.zeros((3,)), axis=1, key=k)
    with pytest.raises(ValueError, match="gpu"):
        mx.random.uniform(shape=(2,), key=k, stream=mx.gpu)
    with pytest.raises(TypeError, match="key"):
        mx.random.key(-1)


def test_grad_through_random():
    k = mx.random.key(3)
    x = mx.array([1.0, -2.0, 3.0, 0.5])
    z = mx.random.normal(x.shape, key=k)
    g = mx.grad(lambda x: (x * mx.random.normal(x.shape, key=k)).sum())(x)
    assert np.array_equal(np.array(g), np.array(z))
    # uniform(low, high) = low + (high - low) u: d/dlow = 1 - u, d/dhigh = u
    u = mx.random.uniform(shape=(4,), key=k)
    gl, gh = mx.grad(lambda lo, hi: mx.random.uniform(lo, hi, (4,), key=k).sum(),
                     argnums=(0, 1))(mx.zeros((4,)), mx.ones((4,)))
    assert np.allclose(np.array(gl), 1 - np.array(u), atol=1e-6)
    assert np.allclose(np.array(gh), np.array(u), atol=1e-6)
    # loc/scale of normal, and the erf/erfinv of truncated_normal's bounds
    gs = mx.grad(lambda s: mx.random.normal((4,), scale=s, key=k).sum())(mx.array(2.0))
    assert np.isclose(gs.item(), float(np.array(z).sum()), rtol=1e-5)
    lo = mx.array(-0.5)
    f = lambda a: mx.random.truncated_normal(a, 1.0, (64,), key=k).sum()
    eps = 1e-2
    fd = (f(lo + eps).item() - f(lo - eps).item()) / (2 * eps)
    assert np.isclose(mx.grad(f)(lo).item(), fd, rtol=0.05, atol=0.05)
    # the key itself gets a zero cotangent
    _, vjps = mx.vjp(lambda kk: mx.random.uniform(shape=(3,), key=kk), [k], [mx.ones((3,))])
    assert vjps[0].tolist() == [0, 0]
    _, jvps = mx.jvp(lambda kk: mx.random.uniform(shape=(3,), key=kk), [k],
                     [mx.zeros((2,), dtype=mx.uint32)])
    assert jvps[0].shape == (3,)


def test_vmap_over_keys_matches_loop():
    keys = mx.random.split(mx.random.key(9), 5)
    for fn in (lambda kk: mx.random.uniform(shape=(3, 2), key=kk),
               lambda kk: mx.random.normal((7,), key=kk),
               lambda kk: mx.random.randint(0, 50, (4,), key=kk),
               lambda kk: mx.random.gumbel((3,), key=kk),
               lambda kk: mx.random.split(kk, 3)):
        out = mx.vmap(fn)(keys)
        loop = mx.stack([fn(keys[i]) for i in range(5)])
        assert np.array_equal(np.array(out), np.array(loop))
    # batch axis 1 (the pair axis last after the rule's swap), and nested vmap
    kt = mx.transpose(keys)
    out = mx.vmap(lambda kk: mx.random.uniform(shape=(2,), key=kk), in_axes=1)(kt)
    loop = mx.stack([mx.random.uniform(shape=(2,), key=keys[i]) for i in range(5)])
    assert np.array_equal(np.array(out), np.array(loop))
    kk = mx.reshape(mx.random.split(mx.random.key(1), 6), (2, 3, 2))
    out = mx.vmap(mx.vmap(lambda k: mx.random.normal((4,), key=k)))(kk)
    for i in range(2):
        for j in range(3):
            assert np.array_equal(np.array(out[i, j]),
                                  np.array(mx.random.normal((4,), key=kk[i, j])))
    # vmap over the scale with a fixed key
    sc = mx.array([1.0, 2.0, 3.0])
    out = mx.vmap(lambda s: mx.random.normal((4,), scale=s, key=keys[0]))(sc)
    loop = mx.stack([mx.random.normal((4,), scale=sc[i], key=keys[0]) for i in range(3)])
    assert np.array_equal(np.array(out), np.array(loop))


def test_statistics():
    k = mx.random.key(123)
    n = 1 << 18
    u = np.array(mx.random.uniform(shape=(n,), key=k), dtype=np.float64)
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert u.min() >= 0 and u.max() < 1
    z = np.array(mx.random.normal((n,), key=k), dtype=np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    r = np.array(mx.random.randint(-3, 7, (n,), key=k))
    assert r.min() == -3 and r.max() == 6
    assert np.all(np.abs(np.bincount(r + 3) / n - 0.1) < 0.005)
    b = np.array(mx.random.bernoulli(0.3, (n,), key=k))
    assert abs(b.mean() - 0.3) < 0.005


_CHILD = r"""
import sys, numpy as np, mlxc.core as mx
k = mx.random.key(77)
n = 1 << 20
outs = [mx.random.split(k, n // 2), mx.random.uniform(shape=(n,), key=k),
        mx.random.normal((n,), key=k), mx.random.normal((n + 1,), mx.float16, key=k),
        mx.random.randint(-5, 1000, (n,), key=k),
        mx.vmap(lambda kk: mx.random.normal((n // 4 + 1,), key=kk))(mx.random.split(k, 4))]
mx.eval(outs)
sys.stdout.buffer.write(mx.cpu_info()["isa"].encode() + b"\n")
for o in outs:
    sys.stdout.buffer.write(np.array(o.view(mx.uint8) if o.dtype != mx.bfloat16 else o).tobytes())
"""


def _child(**env):
    from helpers import CHILD_CWD, child_env
    res = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(**env),
                         capture_output=True, cwd=CHILD_CWD, timeout=300)
    assert res.returncode == 0, res.stderr.decode()
    isa, _, data = res.stdout.partition(b"\n")
    return isa.decode(), data


_ORDER = ["scalar", "avx2", "avx512"]
_DETECTED = mx.cpu_info()["isa"]
LEVELS = _ORDER[:_ORDER.index(_DETECTED) + 1] if _DETECTED in _ORDER else [_DETECTED]


@pytest.mark.mlxc_only
def test_same_bits_at_any_thread_count_and_level():
    _, base = _child(MLXC_NUM_THREADS="1")
    for t in ("2", "3"):
        assert _child(MLXC_NUM_THREADS=t)[1] == base, f"MLXC_NUM_THREADS={t}"
    for level in LEVELS:
        isa, data = _child(MLXC_CPU_ISA=level, MLXC_NUM_THREADS="2")
        assert isa == level
        assert data == base, f"MLXC_CPU_ISA={level}"
