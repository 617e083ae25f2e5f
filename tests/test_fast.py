"""mx.fast: rms_norm, layer_norm, rope, scaled_dot_product_attention, cross_entropy,
gated_delta_update and the GPU-kernel entry points.

Oracles: results and vjps recorded from MLX 0.32.4 (tests/data/fast_mlx.npz, written by
tests/data/gen_fast.py from the cases of tests/data/fast_cases.py); float64 numpy
references written here; finite differences for jvp; a Python loop for vmap; child
interpreters for thread-count invariance (bit for bit) and every SIMD level."""
import os
import sys

import numpy as np
import pytest

import mlxc.core as mx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "data"))
from fast_cases import all_cases  # noqa: E402

REF = np.load(os.path.join(HERE, "data", "fast_mlx.npz"))
CASES = all_cases()
sd = mx.fast.scaled_dot_product_attention


def _np(a):
    """An array as float64 numpy (half types through float32)."""
    if a.dtype in (mx.float16, mx.bfloat16):
        a = a.astype(mx.float32)
    return np.array(a).astype(np.float64)


def _rand(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------- recorded MLX
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_recorded_mlx(name):
    got = CASES[name](mx)
    for key, val in got.items():
        np.testing.assert_allclose(val, REF[f"{name}/{key}"], rtol=2e-5, atol=2e-5,
                                   err_msg=f"{name}/{key}")


# ------------------------------------------------------- float64 references
def np_rms(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * (1 if w is None else w)


def np_ln(x, w, b, eps):
    d = x - x.mean(-1, keepdims=True)
    y = d / np.sqrt((d * d).mean(-1, keepdims=True) + eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


def np_rope(x, dims, traditional, base, scale, offset, freqs=None):
    half = dims // 2
    inv = 1.0 / freqs if freqs is not None else base ** (-np.arange(half) / half)
    T = x.shape[-2]
    off = np.asarray(offset, dtype=np.float64).reshape(-1)
    pos = (off.reshape((-1,) + (1,) * (x.ndim - 2)) if off.size > 1 else off[0]) + np.arange(T)
    th = (pos * scale)[..., None] * inv
    c, s = np.cos(th), np.sin(th)
    y = x.copy()
    if traditional:
        a, b = x[..., 0:dims:2], x[..., 1:dims:2]
        y[..., 0:dims:2], y[..., 1:dims:2] = a * c - b * s, a * s + b * c
    else:
        a, b = x[..., :half], x[..., half:dims]
        y[..., :half], y[..., half:dims] = a * c - b * s, a * s + b * c
    return y


def np_sdpa(q, k, v, scale, mask=None, sinks=None):
    B, Hq, Lq, D = q.shape
    Hk, Lk = k.shape[1], k.shape[2]
    k, v = np.repeat(k, Hq // Hk, 1), np.repeat(v, Hq // Hk, 1)
    s = scale * q @ k.transpose(0, 1, 3, 2)
    if isinstance(mask, str):
        keep = np.arange(Lq)[:, None] + Lk - Lq >= np.arange(Lk)
        s = np.where(keep, s, np.finfo(np.float32).min)
    elif mask is not None and mask.dtype == bool:
        s = np.where(mask, s, np.finfo(np.float32).min)
    elif mask is not None:
        s = s + mask
    if sinks is not None:
        s = np.concatenate([np.broadcast_to(sinks[None, :, None, None], (B, Hq, Lq, 1)), s], -1)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    if sinks is not None:
        p = p[..., 1:]
    return p @ v


@pytest.mark.parametrize("shape", [(5, 64), (3, 7, 37), (2, 4096), (1, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_norms_vs_float64(shape, dtype):
    x = _rand(shape, 1) * 3 + 0.5
    w, b = _rand(shape[-1:], 2), _rand(shape[-1:], 3)
    tol = {"float32": 2e-5, "float64": 1e-12, "float16": 4e-3, "bfloat16": 3e-2}[dtype]
    dt = getattr(mx, dtype)
    X, W, Bb = (mx.array(a).astype(dt) for a in (x, w, b))
    xr, wr, br = (_np(A) for A in (X, W, Bb))
    y = mx.fast.rms_norm(X, W, 1e-5)
    assert y.dtype == dt
    np.testing.assert_allclose(_np(y), np_rms(xr, wr, 1e-5),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(_np(mx.fast.rms_norm(X, None, 1e-5)),
                               np_rms(xr, None, 1e-5), rtol=tol, atol=tol)
    np.testing.assert_allclose(_np(mx.fast.layer_norm(X, W, Bb, 1e-5)),
                               np_ln(xr, wr, br, 1e-5), rtol=tol, atol=tol * 4)
    np.testing.assert_allclose(_np(mx.fast.layer_norm(X, None, None, 1e-5)),
                               np_ln(xr, None, None, 1e-5), rtol=tol, atol=tol * 4)


def test_norm_promotes_and_reads_strided_input():
    x = _rand((6, 10), 4)
    X = mx.array(x).T                                    # non-contiguous rows
    y = mx.fast.rms_norm(X.astype(mx.float16), mx.ones((6,)), 1e-6)
    assert y.dtype == mx.float32                        # float16 x, float32 weight
    np.testing.assert_allclose(np.array(mx.fast.layer_norm(X, None, None, 1e-6)),
                               np_ln(x.T.astype(np.float64), None, None, 1e-6), atol=2e-5)


@pytest.mark.parametrize("traditional", [False, True])
@pytest.mark.parametrize("dims,offset", [(32, 0), (16, 7), (10, "vec"), (32, "scalar"),
                                         (0, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_rope_vs_float64(traditional, dims, offset, dtype):
    x = _rand((3, 2, 9, 32), 5)
    dt = getattr(mx, dtype)
    X = mx.array(x).astype(dt)
    xr = _np(X)
    off = {"vec": mx.array([0, 5, 1000]), "scalar": mx.array(11)}.get(offset, offset)
    offn = np.array(off) if isinstance(off, mx.array) else off
    y = mx.fast.rope(X, dims, traditional=traditional, base=500.0, scale=0.7, offset=off)
    assert y.dtype == dt and y.shape == X.shape
    tol = {"float32": 3e-4, "float64": 1e-6, "float16": 5e-3}[dtype]
    np.testing.assert_allclose(_np(y),
                               np_rope(xr, dims, traditional, 500.0, 0.7, offn),
                               rtol=tol, atol=tol)


def test_rope_freqs_and_4d_middle_axes():
    x = _rand((2, 3, 4, 5, 12), 6)
    f = np.linspace(1, 20, 6).astype(np.float32)
    y = mx.fast.rope(mx.array(x), 12, traditional=False, base=None, scale=1.0,
                     offset=mx.array([2, 9]), freqs=mx.array(f))
    np.testing.assert_allclose(np.array(y), np_rope(x.astype(np.float64), 12, False, None,
                                                    1.0, np.array([2, 9]), f), atol=2e-5)


SDPA_SHAPES = [(1, 4, 2, 3, 5, 8, 6), (2, 4, 1, 70, 130, 16, 16), (1, 2, 2, 1, 200, 32, 32),
               (1, 3, 3, 33, 33, 64, 64), (1, 2, 1, 100, 40, 8, 8)]


@pytest.mark.parametrize("shape", SDPA_SHAPES)
@pytest.mark.parametrize("mask", ["none", "causal", "additive", "bool"])
@pytest.mark.parametrize("sinks", [False, True])
def test_sdpa_vs_float64(shape, mask, sinks):
    B, Hq, Hk, Lq, Lk, D, Dv = shape
    rng = np.random.default_rng(sum(shape))
    q = rng.standard_normal((B, Hq, Lq, D)).astype(np.float32)
    k = rng.standard_normal((B, Hk, Lk, D)).astype(np.float32)
    v = rng.standard_normal((B, Hk, Lk, Dv)).astype(np.float32)
    m = {"none": None, "causal": "causal",
         "additive": rng.standard_normal((Hq, 1, Lk)).astype(np.float32),
         "bool": rng.random((B, 1, Lq, Lk)) > 0.3}[mask]
    s = rng.standard_normal(Hq).astype(np.float32) if sinks else None
    o = sd(mx.array(q), mx.array(k), mx.array(v), scale=D ** -0.5,
           mask=m if m is None or isinstance(m, str) else mx.array(m),
           sinks=None if s is None else mx.array(s))
    ref = np_sdpa(*(a.astype(np.float64) for a in (q, k, v)), D ** -0.5, m,
                  None if s is None else s.astype(np.float64))
    np.testing.assert_allclose(np.array(o), ref, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_sdpa_half_types(dtype):
    q, k, v = _rand((1, 2, 40, 16), 7), _rand((1, 2, 50, 16), 8), _rand((1, 2, 50, 16), 9)
    dt = getattr(mx, dtype)
    Q, K, V = (mx.array(a).astype(dt) for a in (q, k, v))
    o = sd(Q, K, V, scale=0.25, mask="causal")
    assert o.dtype == dt
    ref = np_sdpa(*(np.array(A.astype(mx.float32)).astype(np.float64) for A in (Q, K, V)),
                  0.25, "causal")
    np.testing.assert_allclose(np.array(o.astype(mx.float32)), ref, atol=2e-2)


def test_sdpa_strided_inputs_and_broadcast_mask():
    q = _rand((1, 5, 2, 8), 10)                          # (B, L, H, D) -> transposed view
    k, v = _rand((1, 7, 2, 8), 11), _rand((1, 7, 2, 8), 12)
    m = np.random.default_rng(3).standard_normal((7,)).astype(np.float32)
    o = sd(*(mx.array(a).transpose(0, 2, 1, 3) for a in (q, k, v)), scale=0.5,
           mask=mx.array(m))
    ref = np_sdpa(*(a.transpose(0, 2, 1, 3).astype(np.float64) for a in (q, k, v)), 0.5, m)
    np.testing.assert_allclose(np.array(o), ref, atol=2e-6)


def test_sdpa_empty_shapes():
    """No keys gives zeros (as MLX); no queries gives an empty result."""
    o = sd(mx.ones((1, 2, 3, 8)), mx.ones((1, 1, 0, 8)), mx.ones((1, 1, 0, 4)), scale=1.0)
    assert o.shape == (1, 2, 3, 4)
    np.testing.assert_array_equal(np.array(o), 0)
    assert sd(mx.ones((1, 1, 0, 8)), mx.ones((1, 1, 3, 8)), mx.ones((1, 1, 3, 8)),
              scale=1.0).shape == (1, 1, 0, 8)
    assert mx.fast.rms_norm(mx.ones((0, 8)), None, 1e-5).shape == (0, 8)


def test_sdpa_float64():
    q, k, v = _rand((1, 2, 4, 8), 13, np.float64), _rand((1, 1, 6, 8), 14, np.float64), \
        _rand((1, 1, 6, 8), 15, np.float64)
    o = sd(mx.array(q, dtype=mx.float64), mx.array(k, dtype=mx.float64),
           mx.array(v, dtype=mx.float64), scale=0.3, mask="causal")
    assert o.dtype == mx.float64
    np.testing.assert_allclose(np.array(o), np_sdpa(q, k, v, 0.3, "causal"), atol=1e-12)


def test_cross_entropy_vs_float64():
    x = _rand((5, 7), 16)
    t = np.random.default_rng(1).integers(0, 7, 5)
    y = mx.fast.cross_entropy(mx.array(x).astype(mx.float16), mx.array(t))
    assert y.dtype == mx.float32 and y.shape == (5,)
    xd = x.astype(np.float64)
    ref = np.log(np.exp(xd).sum(-1)) - xd[np.arange(5), t]
    np.testing.assert_allclose(np.array(mx.fast.cross_entropy(mx.array(x), mx.array(t))), ref,
                               rtol=1e-5)


# ------------------------------------------------------------ memory (flash)
def test_sdpa_causal_16k_memory_is_linear():
    """A 16k-token causal attention never holds the L x L scores (1 GiB here)."""
    L, D = 16384, 8
    q, k, v = (mx.array(_rand((1, 1, L, D), s)) for s in (20, 21, 22))
    mx.eval(q, k, v)
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    o = sd(q, k, v, scale=D ** -0.5, mask="causal")
    mx.eval(o)
    extra = mx.get_peak_memory() - base
    assert extra < 16 * L * D * 4, extra               # output plus small scratch
    # spot-check a few rows against float64
    qn, kn, vn = (np.array(a)[0, 0].astype(np.float64) for a in (q, k, v))
    for i in (0, 5000, L - 1):
        s = qn[i] @ kn[:i + 1].T * D ** -0.5
        p = np.exp(s - s.max())
        np.testing.assert_allclose(np.array(o[0, 0, i]), (p / p.sum()) @ vn[:i + 1],
                                   atol=2e-5)


# ---------------------------------------------------------- transforms
def _fd_check(f, args, seed=0, eps=1e-3, tol=3e-2):
    """jvp against central differences and vjp against jvp (<g, J t> = <J^T g, t>)."""
    rng = np.random.default_rng(seed)
    ts = [mx.array(rng.standard_normal(a.shape).astype(np.float32)) for a in args]
    out, jt = mx.jvp(f, args, ts)
    plus = f(*[a + eps * t for a, t in zip(args, ts)])
    minus = f(*[a - eps * t for a, t in zip(args, ts)])
    fd = (np.array(plus, dtype=np.float64) - np.array(minus, dtype=np.float64)) / (2 * eps)
    np.testing.assert_allclose(np.array(jt[0]), fd, rtol=tol, atol=tol)
    g = mx.array(rng.standard_normal(out[0].shape).astype(np.float32))
    _, gs = mx.vjp(f, args, [g])
    lhs = float((g * jt[0]).sum())
    rhs = sum(float((a * t).sum()) for a, t in zip(gs, ts))
    assert abs(lhs - rhs) <= 1e-3 * (1 + abs(lhs)), (lhs, rhs)


def test_norm_derivatives():
    x, w, b = mx.array(_rand((3, 9), 30)), mx.array(_rand((9,), 31)), mx.array(_rand((9,), 32))
    _fd_check(lambda x, w: mx.fast.rms_norm(x, w, 1e-5), [x, w])
    _fd_check(lambda x, w, b: mx.fast.layer_norm(x, w, b, 1e-5), [x, w, b])
    _fd_check(lambda x: mx.fast.layer_norm(x, None, None, 1e-5), [x])


def test_rope_derivatives():
    x = mx.array(_rand((2, 2, 5, 8), 33))
    _fd_check(lambda x: mx.fast.rope(x, 6, traditional=True, base=100.0, scale=1.0,
                                     offset=mx.array([1, 3])), [x])


@pytest.mark.parametrize("mask", [None, "causal", "additive"])
def test_sdpa_derivatives(mask):
    q, k, v = (mx.array(_rand(s, i)) for i, s in enumerate([(1, 4, 5, 8), (1, 2, 6, 8),
                                                           (1, 2, 6, 8)]))
    m = mx.array(_rand((5, 6), 40)) if mask == "additive" else mask
    s = mx.array(_rand((4,), 41))
    _fd_check(lambda q, k, v, s: sd(q, k, v, scale=0.4, mask=m, sinks=s), [q, k, v, s])


def test_sdpa_grad_of_grad():
    q, k, v = (mx.array(_rand((1, 1, 4, 4), i)) for i in range(3))
    f = lambda q: mx.grad(lambda q: (sd(q, k, v, scale=0.5) ** 2).sum())(q).sum()
    g = mx.grad(f)(q)
    eps, t = 1e-3, mx.array(_rand((1, 1, 4, 4), 9))
    fd = (f(q + eps * t) - f(q - eps * t)) / (2 * eps)
    assert abs(float((g * t).sum()) - float(fd)) < 2e-2 * (1 + abs(float(fd)))


def _loop(f, xs, axes):
    n = next(x.shape[a] for x, a in zip(xs, axes) if a is not None)
    return mx.stack([f(*[x if a is None else mx.take(x, i, axis=a) for x, a in zip(xs, axes)])
                     for i in range(n)])


@pytest.mark.parametrize("which", ["rms_w", "ln_batched_w", "rope", "rope_vec_off",
                                   "rope_batched_off", "sdpa", "sdpa_mask", "sdpa_sinks"])
def test_vmap_matches_loop(which):
    rng = np.random.default_rng(50)
    r = lambda *s: mx.array(rng.standard_normal(s).astype(np.float32))
    if which == "rms_w":
        f, xs, axes = (lambda x, w: mx.fast.rms_norm(x, w, 1e-5)), [r(3, 4, 6), r(6)], (1, None)
    elif which == "ln_batched_w":
        f, xs, axes = (lambda x, w, b: mx.fast.layer_norm(x, w, b, 1e-5)), \
            [r(4, 6), r(6, 3), r(3, 6)], (None, 1, 0)
    elif which == "rope":
        f = lambda x: mx.fast.rope(x, 4, traditional=False, base=10.0, scale=1.0, offset=2)
        xs, axes = [r(2, 3, 5, 4, 6)], (2,)
    elif which == "rope_vec_off":
        off = mx.array([3, 8])
        f = lambda x: mx.fast.rope(x, 6, traditional=True, base=10.0, scale=1.0, offset=off)
        xs, axes = [r(3, 2, 5, 6)], (0,)
    elif which == "rope_batched_off":
        f = lambda x, o: mx.fast.rope(x, 6, traditional=False, base=10.0, scale=1.0, offset=o)
        xs, axes = [r(2, 5, 6), mx.array([[1, 4], [7, 2], [0, 9]])], (None, 0)
    elif which == "sdpa":
        f = lambda q, k, v: sd(q, k, v, scale=0.5, mask="causal")
        xs, axes = [r(3, 1, 2, 4, 8), r(1, 1, 6, 8), r(1, 1, 6, 8)], (0, None, None)
    elif which == "sdpa_mask":
        f = lambda q, k, v, m: sd(q, k, v, scale=0.5, mask=m)
        xs, axes = [r(1, 2, 4, 8), r(1, 2, 6, 8), r(1, 2, 6, 8, 3), r(4, 6, 3)], \
            (None, None, 4, 2)
    else:
        f = lambda q, s: sd(q, q, q, scale=0.5, sinks=s)
        xs, axes = [r(1, 2, 4, 8), r(3, 2)], (None, 0)
    got = mx.vmap(f, in_axes=axes)(*xs)
    np.testing.assert_allclose(np.array(got), np.array(_loop(f, xs, axes)), rtol=1e-5,
                               atol=1e-5)


# ------------------------------------------------ threads and SIMD levels
_CHILD = r"""
import hashlib, json, numpy as np, mlxc.core as mx
rng = np.random.default_rng(0)
r = lambda *s: mx.array(rng.standard_normal(s).astype(np.float32))
q, k, v = r(2, 4, 150, 32), r(2, 2, 150, 32), r(2, 2, 150, 24)
x = r(300, 333)
outs = {
  "sdpa": mx.fast.scaled_dot_product_attention(q, k, v, scale=0.2, mask="causal"),
  "sdpa_dec": mx.fast.scaled_dot_product_attention(q[:, :, :1], k, v, scale=0.2),
  "sdpa_bool": mx.fast.scaled_dot_product_attention(q, k, v, scale=0.2, mask=r(150, 150) > 0),
  "rms": mx.fast.rms_norm(x, r(333), 1e-5),
  "ln": mx.fast.layer_norm(x.astype(mx.bfloat16), None, None, 1e-5).astype(mx.float32),
  "rope": mx.fast.rope(r(2, 8, 100, 64), 48, traditional=False, base=1e4, scale=1.0,
                       offset=mx.array([3, 70000])),
}
print(json.dumps({"isa": mx.cpu_info()["isa"],
                  **{n: np.array(a).tolist() for n, a in outs.items()}}))
"""


def _child(**env):
    from helpers import child_json
    return child_json(_CHILD, timeout=300, **env)


@pytest.mark.mlxc_only
def test_thread_count_invariance():
    from helpers import assert_same_at_thread_counts
    assert_same_at_thread_counts(_CHILD, timeout=300)


_ORDER = ["scalar", "avx2", "avx512"]


@pytest.mark.mlxc_only
def test_simd_levels_agree():
    det = mx.cpu_info()["isa"]
    levels = _ORDER[:_ORDER.index(det) + 1] if det in _ORDER else [det]
    outs = {lv: _child(MLXC_CPU_ISA=lv) for lv in levels}
    base = outs[levels[-1]]
    for lv, out in outs.items():
        assert out["isa"] == lv
        for key in base:
            if key != "isa":
                tol = 1e-2 if key == "ln" else 1e-4    # ln: bfloat16 output, 1 ulp
                np.testing.assert_allclose(np.array(out[key]), np.array(base[key]), rtol=tol,
                                           atol=tol, err_msg=f"{lv} {key}")


# --------------------------------------------------------------- errors
def _err(exc, match, f):
    with pytest.raises(exc, match=match):
        f()


def test_errors():
    x = mx.ones((1, 2, 3, 8))
    _err(ValueError, r"\[rms_norm\] \(\*weight\) must have the same size .* 7 elements",
         lambda: mx.fast.rms_norm(x, mx.ones(7), 1e-5))
    _err(ValueError, r"\[rms_norm\] \(\*weight\) must have 1 dimension but has 2",
         lambda: mx.fast.rms_norm(x, mx.ones((1, 8)), 1e-5))
    _err(ValueError, r"\[rms_norm\] Input must have at least 1 dimension",
         lambda: mx.fast.rms_norm(mx.ones(()), None, 1e-5))
    _err(ValueError, r"\[rms_norm\] Received unsupported type int32",
         lambda: mx.fast.rms_norm(mx.ones((2, 8), dtype=mx.int32), None, 1e-5))
    _err(ValueError, r"\[layer_norm\] bias must have the same size .* 7 elements",
         lambda: mx.fast.layer_norm(x, mx.ones(8), mx.ones(7), 1e-5))
    rope = lambda **kw: mx.fast.rope(**dict(dict(a=x, dims=8, traditional=False, base=1e4,
                                                 scale=1.0, offset=0), **kw))
    _err(ValueError, r"\[rope\] dims must be even but got 7", lambda: rope(dims=7))
    _err(ValueError, r"\[rope\] dims must not exceed .* \(8\) but got 10", lambda: rope(dims=10))
    _err(ValueError, r"\[rope\] Only one of base or freqs", lambda: rope(freqs=mx.ones(4)))
    _err(ValueError, r"\[rope\] Neither base nor freqs", lambda: rope(base=None))
    _err(ValueError, r"\[rope\] freqs must be one dimensional with size 4 but got shape \(3\)",
         lambda: rope(base=None, freqs=mx.ones(3)))
    _err(ValueError, r"\[rope\] Input must have at least 3 dimensions",
         lambda: rope(a=mx.ones((3, 8))))
    _err(ValueError, r"\[rope\] offset must be a scalar or vector with 1 elements but has shape \(2\)",
         lambda: rope(offset=mx.array([1, 2])))
    _err(ValueError, r"\[rope\] offset must be an integer but got type float32",
         lambda: rope(offset=mx.array([1.5])))
    _err(ValueError, r"\[rope\] Input must be a floating type but got int32",
         lambda: rope(a=mx.ones((1, 3, 8), dtype=mx.int32)))
    q, k, v = mx.ones((1, 4, 3, 8)), mx.ones((1, 2, 5, 8)), mx.ones((1, 2, 5, 6))
    _err(ValueError, r"\[scaled_dot_product_attention\] Shapes \(3,4\) and \(1,4,3,5\) cannot be broadcast",
         lambda: sd(q, k, v, scale=1.0, mask=mx.ones((3, 4))))
    _err(ValueError, r"at most rank 4", lambda: sd(q, k, v, scale=1.0, mask=mx.ones((1, 1, 1, 1, 5))))
    _err(ValueError, r"invalid mask option 'foo'", lambda: sd(q, k, v, scale=1.0, mask="foo"))
    _err(ValueError, r"invalid shape for sinks \(3\)", lambda: sd(q, k, v, scale=1.0, sinks=mx.ones(3)))
    _err(ValueError, r"expected to be rank 4", lambda: sd(q[0], k[0], v[0], scale=1.0))
    _err(ValueError, r"matching last dimension",
         lambda: sd(q, mx.ones((1, 2, 5, 7)), v, scale=1.0))
    _err(ValueError, r"n_heads must be a multiple of n_kv_heads, found n_heads 3 for n_kv_heads 2",
         lambda: sd(mx.ones((1, 3, 3, 8)), k, v, scale=1.0))
    _err(ValueError, r"keys with n_heads 2 for values with n_heads 3",
         lambda: sd(q, k, mx.ones((1, 3, 5, 6)), scale=1.0))
    _err(ValueError, r"mismatching batch dimension",
         lambda: sd(mx.ones((2, 4, 3, 8)), k, v, scale=1.0))
    _err(ValueError, r"Mask type must promote to output type float16",
         lambda: sd(q.astype(mx.float16), k.astype(mx.float16), v.astype(mx.float16),
                    scale=1.0, mask=mx.ones((3, 5))))
    _err(ValueError, r"\[cross_entropy\] targets shape \(2\) does not match logits shape \(3,5\)",
         lambda: mx.fast.cross_entropy(mx.ones((3, 5)), mx.array([0, 1])))
    _err(ValueError, r"\[cross_entropy\] targets must be integer",
         lambda: mx.fast.cross_entropy(mx.ones((3, 5)), mx.array([0.0, 1, 2])))
    _err(ValueError, r"\[gated_delta_update\] v with shape",
         lambda: mx.fast.gated_delta_update(mx.ones((1, 2, 2, 4)), mx.ones((1, 2, 2, 4)),
                                            mx.ones((1, 2, 3, 4)), mx.ones((1, 2, 3)),
                                            mx.ones((1, 2, 3))))


def test_gpu_kernels_say_which_backend_is_missing():
    k = mx.fast.metal_kernel("k", ["a"], ["b"], "b[0] = a[0];")
    _err(RuntimeError, r"\[metal_kernel\] No Metal back-end",
         lambda: k(inputs=[mx.ones(3)], output_shapes=[(3,)], output_dtypes=[mx.float32],
                   grid=(3, 1, 1), threadgroup=(3, 1, 1)))
    _err(RuntimeError, r"\[cuda_kernel\] No CUDA back-end",
         lambda: mx.fast.cuda_kernel("k", ["a"], ["b"], "x"))
    _err(RuntimeError, r"No CUDA back-end",
         lambda: mx.fast.precompiled_cuda_kernel(
             name="k", compiled_source=b"", inputs=[], output_shapes=[], output_dtypes=[],
             scalars=[], grid=(1, 1, 1), threadgroup=(1, 1, 1)))
