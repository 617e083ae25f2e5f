"""The fused vjp of mx.fast.scaled_dot_product_attention (kernels/attention_vjp.c).

Oracles: an attention backward written here in float64 numpy (every mask kind,
broadcast masks, grouped heads, sinks, Lq != Lk, sizes off the 32 x 64 tiles, the half
types); central differences of a float64 numpy forward; child interpreters for
thread-count invariance (bit for bit at 1, 2, 3 threads) and every SIMD level; a Python
loop for vmap; peak-memory counters and the child's resident size for a long causal
backward (which must not hold an L x L array)."""
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx

sd = mx.fast.scaled_dot_product_attention
NEG = float(np.finfo(np.float32).min)     # what a hidden score counts as


def _rand(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _np(a):
    if a.dtype in (mx.float16, mx.bfloat16):
        a = a.astype(mx.float32)
    return np.array(a).astype(np.float64)


def _unbroadcast(x, shape):
    """x summed down to shape (leading axes dropped, size-1 axes kept)."""
    x = x.sum(axis=tuple(range(x.ndim - len(shape))))
    return x.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def np_attention(q, k, v, scale, mask, sinks):
    """Forward in float64: (o, p, the sink's probability or None, keep-mask or None)."""
    B, Hq, Lq, _ = q.shape
    Hk, Lk = k.shape[1], k.shape[2]
    k, v = np.repeat(k, Hq // Hk, 1), np.repeat(v, Hq // Hk, 1)
    s = scale * q @ k.transpose(0, 1, 3, 2)
    keep = None
    if isinstance(mask, str):
        keep = np.broadcast_to(np.arange(Lq)[:, None] + Lk - Lq >= np.arange(Lk), s.shape)
    elif mask is not None and mask.dtype == bool:
        keep = np.broadcast_to(mask, s.shape)
    elif mask is not None:
        s = s + mask
    if keep is not None:
        s = np.where(keep, s, NEG)
    if sinks is not None:
        s = np.concatenate([np.broadcast_to(sinks[None, :, None, None], (B, Hq, Lq, 1)), s], -1)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ps = None
    if sinks is not None:
        ps, p = p[..., :1], p[..., 1:]
    return p @ v, p, ps, keep


def np_attention_vjp(q, k, v, scale, mask, sinks, g):
    """The backward by hand in float64: dq, dk, dv, dmask (additive) or None, dsinks or
    None."""
    Hq, Hk = q.shape[1], k.shape[1]
    G = Hq // Hk
    o, p, ps, keep = np_attention(q, k, v, scale, mask, sinks)
    kr, vr = np.repeat(k, G, 1), np.repeat(v, G, 1)
    dv = p.transpose(0, 1, 3, 2) @ g
    dp = g @ vr.transpose(0, 1, 3, 2)
    dd = (g * o).sum(-1, keepdims=True)
    ds = p * (dp - dd)
    if keep is not None:
        ds = np.where(keep, ds, 0.0)
    dq = scale * ds @ kr
    dk = scale * ds.transpose(0, 1, 3, 2) @ q
    fold = lambda x: x.reshape(x.shape[0], Hk, G, *x.shape[2:]).sum(2)
    dmask = None
    if mask is not None and not isinstance(mask, str) and mask.dtype != bool:
        dmask = _unbroadcast(ds, mask.shape)
    dsinks = None if sinks is None else -(ps * dd).sum(axis=(0, 2, 3))
    return dq, fold(dk), fold(dv), dmask, dsinks


def _case(B, Hq, Hk, Lq, Lk, D, Dv, mask, sinks, seed=0, dtype=mx.float32):
    """Inputs as mlxc arrays of dtype, and the mask as passed to mlxc."""
    q = mx.array(_rand((B, Hq, Lq, D), seed)).astype(dtype)
    k = mx.array(_rand((B, Hk, Lk, D), seed + 1)).astype(dtype)
    v = mx.array(_rand((B, Hk, Lk, Dv), seed + 2)).astype(dtype)
    g = mx.array(_rand((B, Hq, Lq, Dv), seed + 3)).astype(dtype)
    s = mx.array(_rand((Hq,), seed + 4)).astype(dtype) if sinks else None
    if mask is None or mask == "causal":
        m = mask
    elif mask[0] == "bool":
        m = mx.array(np.random.default_rng(seed + 5).random(mask[1]) > 0.3)
    else:
        m = mx.array(_rand(mask[1], seed + 5)).astype(dtype)
    return q, k, v, g, m, s


def _fused_grads(q, k, v, g, m, s, scale):
    """vjp of attention wrt q, k, v (and an additive mask, and the sinks)."""
    args = [q, k, v]
    add = m is not None and not isinstance(m, str) and m.dtype != mx.bool_
    if add:
        args.append(m)
    if s is not None:
        args.append(s)

    def f(*xs):
        xs = list(xs)
        mm = xs.pop(3) if add else m
        return sd(xs[0], xs[1], xs[2], scale=scale, mask=mm, sinks=xs[3] if s is not None else None)
    _, gs = mx.vjp(f, args, [g])
    gs = list(gs)
    dq, dk, dv = gs[:3]
    dm = gs[3] if add else None
    dsk = gs[-1] if s is not None else None
    return dq, dk, dv, dm, dsk


def _check(q, k, v, g, m, s, scale, tol):
    got = _fused_grads(q, k, v, g, m, s, scale)
    mm = m if m is None or isinstance(m, str) else (np.array(m) if m.dtype == mx.bool_ else _np(m))
    want = np_attention_vjp(_np(q), _np(k), _np(v), scale, mm,
                            None if s is None else _np(s), _np(g))
    for name, a, b, x in zip(("dq", "dk", "dv", "dmask", "dsinks"), got, want, (q, k, v, m, s)):
        if b is None:
            assert a is None, name
            continue
        assert a.shape == b.shape and a.dtype == x.dtype, (name, a.shape, b.shape, a.dtype)
        np.testing.assert_allclose(_np(a), b, rtol=tol, atol=tol * max(1.0, np.abs(b).max()),
                                   err_msg=name)


# ------------------------------------------------------- float64 reference
SHAPES = {   # (B, Hq, Hk, Lq, Lk, D, Dv): off the 32 x 64 tiles, GQA, MQA, Lq != Lk
    "square": (2, 2, 2, 37, 37, 16, 16),
    "gqa_odd": (2, 4, 2, 45, 130, 24, 20),
    "mqa_long_q": (1, 6, 1, 100, 33, 8, 40),
    "decode": (1, 4, 2, 1, 70, 64, 64),
    "tiles": (1, 2, 1, 64, 128, 32, 32),
}
MASKS = {
    "none": None,
    "causal": "causal",
    "add_full": ("add", "full"),
    "add_2d": ("add", "2d"),
    "add_row": ("add", "row"),
    "add_head": ("add", "head"),
    "bool_full": ("bool", "full"),
    "bool_2d": ("bool", "2d"),
    "bool_batch": ("bool", "batch"),
}


def _mask_shape(kind, B, Hq, Lq, Lk):
    return {"full": (B, Hq, Lq, Lk), "2d": (Lq, Lk), "row": (Lk,), "head": (1, Hq, 1, Lk),
            "batch": (B, 1, Lq, Lk)}[kind]


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("mask", sorted(MASKS))
@pytest.mark.parametrize("sinks", [False, True])
def test_vjp_vs_float64(shape, mask, sinks):
    B, Hq, Hk, Lq, Lk, D, Dv = SHAPES[shape]
    mk = MASKS[mask]
    if isinstance(mk, tuple):
        mk = (mk[0], _mask_shape(mk[1], B, Hq, Lq, Lk))
    q, k, v, g, m, s = _case(B, Hq, Hk, Lq, Lk, D, Dv, mk, sinks, seed=len(shape + mask))
    _check(q, k, v, g, m, s, D ** -0.5, 2e-5)


@pytest.mark.parametrize("dtype,tol", [(mx.float16, 2e-2), (mx.bfloat16, 6e-2)])
@pytest.mark.parametrize("mask", ["causal", "add", "bool"])
def test_vjp_half_types(dtype, tol, mask):
    mk = {"causal": "causal", "add": ("add", (40, 70)), "bool": ("bool", (40, 70))}[mask]
    q, k, v, g, m, s = _case(1, 4, 2, 40, 70, 24, 24, mk, True, seed=7, dtype=dtype)
    _check(q, k, v, g, m, s, 0.2, tol)


def test_vjp_large_scores_and_hidden_rows():
    """Scores of size ~50 (the running max matters) and, causal with Lq > Lk, rows that
    see no key (their probabilities are uniform over the hidden keys, no gradient flows
    to q or k from them)."""
    q, k, v, g, _, s = _case(1, 2, 1, 90, 40, 16, 16, None, False, seed=3)
    _check(q * 12, k, v, g, None, None, 0.7, 2e-5)
    _check(q, k, v, g, "causal", None, 0.5, 2e-5)
    _check(q, k, v, g, "causal", mx.array(_rand((2,), 9)), 0.5, 2e-5)


def test_vjp_empty():
    for Lq, Lk in ((0, 5), (5, 0)):
        q, k, v, g, _, s = _case(1, 2, 1, Lq, Lk, 8, 8, None, True, seed=1)
        dq, dk, dv, _, dsk = _fused_grads(q, k, v, g, None, s, 0.5)
        for a, x in ((dq, q), (dk, k), (dv, v)):
            assert a.shape == x.shape
            assert not np.any(np.array(a))
        np.testing.assert_array_equal(np.array(dsk), 0.0)


def test_vjp_masked_argnums_and_bool_mask_cotangent():
    """Only the asked-for cotangents; a boolean mask's is zeros (the existing rule's
    behaviour), an additive one's is the score cotangents summed to its shape."""
    q, k, v, g, m, _ = _case(1, 2, 2, 9, 11, 8, 8, ("add", (1, 11)), False, seed=4)
    f = lambda m, k: sd(q, k, v, scale=0.5, mask=m)
    _, (dm, dk) = mx.vjp(f, [m, k], [g])
    want = np_attention_vjp(_np(q), _np(k), _np(v), 0.5, _np(m), None, _np(g))
    np.testing.assert_allclose(np.array(dm), want[3], rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(np.array(dk), want[1], rtol=2e-5, atol=2e-5)
    mb = mx.array(np.random.default_rng(0).random((9, 11)) > 0.5)
    gb = mx.grad(lambda m: sd(q, k, v, scale=0.5, mask=m).sum())(mb)
    assert gb.shape == (9, 11) and not np.any(np.array(gb))


# ------------------------------------------------------- finite differences
def test_vjp_vs_central_differences():
    """<g, (f(x + e t) - f(x - e t)) / 2e> of a float64 numpy forward against
    <vjp(g), t> of the fused kernel, for q, k, v, an additive mask and the sinks."""
    B, Hq, Hk, Lq, Lk, D = 1, 4, 2, 7, 9, 6
    q, k, v, g, m, s = _case(B, Hq, Hk, Lq, Lk, D, D, ("add", (Lq, Lk)), True, seed=11)
    scale, eps = 0.6, 1e-5
    dq, dk, dv, dm, dsk = _fused_grads(q, k, v, g, m, s, scale)
    xs = [_np(x) for x in (q, k, v, m, s)]
    rng = np.random.default_rng(12)
    for i, grad in enumerate((dq, dk, dv, dm, dsk)):
        t = rng.standard_normal(xs[i].shape)
        plus, minus = list(xs), list(xs)
        plus[i], minus[i] = xs[i] + eps * t, xs[i] - eps * t
        fp = np_attention(plus[0], plus[1], plus[2], scale, plus[3], plus[4])[0]
        fm = np_attention(minus[0], minus[1], minus[2], scale, minus[3], minus[4])[0]
        fd = float((_np(g) * (fp - fm)).sum() / (2 * eps))
        an = float((_np(grad) * t).sum())
        assert abs(fd - an) <= 1e-4 * (1 + abs(fd)), (i, fd, an)


# ------------------------------------------------------- transforms
def test_jvp_and_second_order_still_right():
    """jvp (the composed rule) against central differences, and the vjp of the fused
    vjp (its composition) against differences of the fused gradient."""
    q, k, v, _, _, s = _case(1, 2, 1, 6, 8, 4, 4, None, True, seed=21)
    f = lambda q, k: sd(q, k, v, scale=0.5, mask="causal", sinks=s)
    t = [mx.array(_rand(x.shape, 22 + i)) for i, x in enumerate((q, k))]
    _, (jt,) = mx.jvp(f, [q, k], t)
    eps = 1e-3
    fd = (np.array(f(q + eps * t[0], k + eps * t[1]), np.float64)
          - np.array(f(q - eps * t[0], k - eps * t[1]), np.float64)) / (2 * eps)
    np.testing.assert_allclose(np.array(jt), fd, rtol=2e-2, atol=2e-3)
    h = lambda q: (mx.grad(lambda q, k: (f(q, k) ** 2).sum(), argnums=1)(q, k) ** 2).sum()
    gq = mx.grad(h)(q)
    d = mx.array(_rand(q.shape, 30))
    fd = (float(h(q + eps * d)) - float(h(q - eps * d))) / (2 * eps)
    assert abs(float((gq * d).sum()) - fd) < 2e-2 * (1 + abs(fd)), (float((gq * d).sum()), fd)


@pytest.mark.parametrize("which", ["qkv", "mask", "sinks"])
def test_vmap_of_grad_matches_loop(which):
    q, k, v, _, _, s = _case(3, 2, 1, 10, 12, 8, 8, None, True, seed=31)
    q, k, v = (mx.expand_dims(x, 1) for x in (q, k, v))     # vmapped axis 0, batch 1
    m = mx.array(_rand((3, 10, 12), 32))
    if which == "qkv":
        f = lambda q, k, v: sd(q, k, v, scale=0.4, mask="causal", sinks=s[:2]).sum()
        xs, axes, argnums = [q, k, v], (0, 0, 0), (0, 1, 2)
    elif which == "mask":
        f = lambda q, m: (sd(q, k[0], v[0], scale=0.4, mask=m) ** 2).sum()
        xs, axes, argnums = [q, m], (0, 0), (0, 1)
    else:
        ss = mx.array(_rand((3, 2), 33))
        f = lambda q, s: (sd(q, k[0], v[0], scale=0.4, sinks=s) ** 2).sum()
        xs, axes, argnums = [q, ss], (0, 0), (0, 1)
    gf = mx.grad(f, argnums=argnums)
    got = mx.vmap(gf, in_axes=axes)(*xs)
    for j in range(len(argnums)):
        want = mx.stack([gf(*[x if a is None else x[i] for x, a in zip(xs, axes)])[j]
                         for i in range(3)])
        np.testing.assert_allclose(np.array(got[j]), np.array(want), rtol=1e-5, atol=1e-5)


# ------------------------------------------------ threads and SIMD levels
_CHILD = r"""
import json, numpy as np, mlxc.core as mx
sd = mx.fast.scaled_dot_product_attention
rng = np.random.default_rng(0)
r = lambda *s: mx.array(rng.standard_normal(s).astype(np.float32))
q, k, v, g = r(2, 4, 150, 40), r(2, 2, 150, 40), r(2, 2, 150, 24), r(2, 4, 150, 24)
m, mb, s = r(2, 1, 150, 150), mx.array(rng.random((150, 150)) > 0.3), r(4)
cases = {
  "causal": (lambda q, k, v: sd(q, k, v, scale=0.2, mask="causal"), [q, k, v]),
  "bool_sinks": (lambda q, k, v, s: sd(q, k, v, scale=0.2, mask=mb, sinks=s), [q, k, v, s]),
  "add": (lambda q, k, v, m: sd(q, k, v, scale=0.2, mask=m), [q, k, v, m]),
  "cross": (lambda q, k, v: sd(q[:, :, :70], k, v, scale=0.2, mask="causal"), [q, k, v]),
}
out = {"isa": mx.cpu_info()["isa"]}
for name, (f, xs) in cases.items():
    gg = g[:, :, :70] if name == "cross" else g
    _, gs = mx.vjp(f, xs, [gg])
    out[name] = [np.array(a).tolist() for a in gs]
print(json.dumps(out))
"""


def _child(**env):
    from helpers import child_json
    return child_json(_CHILD, timeout=600, **env)


@pytest.mark.mlxc_only
def test_thread_count_invariance():
    from helpers import assert_same_at_thread_counts
    assert_same_at_thread_counts(_CHILD, timeout=600)


def _child_reference():
    """The child's cases' cotangents in float64 (numpy backward)."""
    rng = np.random.default_rng(0)
    r = lambda *s: rng.standard_normal(s).astype(np.float32).astype(np.float64)
    q, k, v, g = r(2, 4, 150, 40), r(2, 2, 150, 40), r(2, 2, 150, 24), r(2, 4, 150, 24)
    m, mb, s = r(2, 1, 150, 150), rng.random((150, 150)) > 0.3, r(4)
    want = {
        "causal": np_attention_vjp(q, k, v, 0.2, "causal", None, g)[:3],
        "bool_sinks": [x for i, x in enumerate(np_attention_vjp(q, k, v, 0.2, mb, s, g))
                       if i != 3],
        "add": np_attention_vjp(q, k, v, 0.2, m, None, g)[:4],
    }
    dq, dk, dv = np_attention_vjp(q[:, :, :70], k, v, 0.2, "causal", None, g[:, :, :70])[:3]
    want["cross"] = [np.concatenate([dq, np.zeros_like(q[:, :, 70:])], 2), dk, dv]
    return want


_ORDER = ["scalar", "avx2", "avx512"]


@pytest.mark.mlxc_only
def test_every_simd_level_vs_float64():
    det = mx.cpu_info()["isa"]
    levels = _ORDER[:_ORDER.index(det) + 1] if det in _ORDER else [det]
    want = _child_reference()
    for lv in levels:
        out = _child(MLXC_CPU_ISA=lv)
        assert out["isa"] == lv
        for key, ws in want.items():
            assert len(out[key]) == len(ws), key
            for i, (a, b) in enumerate(zip(out[key], ws)):
                np.testing.assert_allclose(np.array(a), b, rtol=3e-5,
                                           atol=3e-5 * max(1.0, np.abs(b).max()),
                                           err_msg=f"{lv} {key} {i}")


# --------------------------------------------------------------- memory
def test_long_causal_backward_memory_is_linear():
    """L = 8192, D = 64, one head: the backward's arrays are the inputs' size (an L x L
    float32 array would be 256 MiB, 128 times q), and a few rows of dq and dv agree with
    float64."""
    L, D = 8192, 64
    q, k, v, g = (mx.array(_rand((1, 1, L, D), 40 + i, 0.5)) for i in range(4))
    mx.eval(q, k, v, g)
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    _, (dq, dk, dv) = mx.vjp(lambda q, k, v: sd(q, k, v, scale=D ** -0.5, mask="causal"),
                             [q, k, v], [g])
    mx.eval(dq, dk, dv)
    extra = mx.get_peak_memory() - base
    assert extra < 8 * L * D * 4, extra          # out, dq, dk, dv and small change
    qn, kn, vn, gn = (_np(a)[0, 0] for a in (q, k, v, g))
    sc = D ** -0.5

    def row(i):
        s = qn[i] @ kn[:i + 1].T * sc
        p = np.exp(s - s.max())
        return p / p.sum()
    for i in (0, 4000, L - 1):
        p = row(i)
        o = p @ vn[:i + 1]
        ds = p * (vn[:i + 1] @ gn[i] - gn[i] @ o)
        np.testing.assert_allclose(np.array(dq[0, 0, i]), sc * ds @ kn[:i + 1], atol=3e-5)
    j = L - 50                                    # dv of a late key: rows j .. L - 1
    dvj = sum(row(i)[j] * gn[i] for i in range(j, L))
    np.testing.assert_allclose(np.array(dv[0, 0, j]), dvj, atol=3e-5)


_RSS_CHILD = r"""
import resource, numpy as np, mlxc.core as mx
L, D = 8192, 64
q, k, v, g = (mx.array(np.random.default_rng(i).standard_normal((1, 1, L, D)).astype(np.float32))
              for i in range(4))
mx.eval(q, k, v, g)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
_, gs = mx.vjp(lambda q, k, v: mx.fast.scaled_dot_product_attention(q, k, v, scale=0.125,
               mask="causal"), [q, k, v], [g])
mx.eval(*gs)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


@pytest.mark.mlxc_only
def test_long_causal_backward_resident_size():
    """The same in a fresh process by its peak resident size, which also counts the
    kernel's own memory outside the array counters (statistics, scratch, up to 8 partial
    dq: 16 MiB here): far below the 256 MiB of one L x L float32 array."""
    from helpers import CHILD_CWD, child_env
    r = subprocess.run([sys.executable, "-c", _RSS_CHILD], env=child_env(), capture_output=True,
                       text=True, timeout=600, cwd=CHILD_CWD)
    assert r.returncode == 0, r.stderr[-3000:]
    grown_kib = int(r.stdout.split()[-1])
    assert grown_kib < 48 * 1024, grown_kib


# ------------------------------------------------ other dtypes, compile, export
def test_float64_grads_vs_reference():
    """float64 runs the composition (no fused kernel takes it): same cotangents."""
    q, k, v, g, m, s = _case(1, 4, 2, 20, 30, 8, 8, ("add", (20, 30)), True, seed=50,
                             dtype=mx.float64)
    _check(q, k, v, g, m, s, 0.3, 1e-10)


def test_compiled_and_exported_grad(tmp_path):
    """mx.compile and export_function / import_function of a gradient whose graph holds
    the fused vjp node give the eager numbers."""
    q, k, v, _, _, _ = _case(1, 2, 1, 40, 40, 16, 16, None, False, seed=60)
    gf = mx.grad(lambda q, k, v: (sd(q, k, v, scale=0.25, mask="causal") ** 2).sum(),
                 argnums=(0, 1, 2))
    want = [np.array(a) for a in gf(q, k, v)]
    for got in (mx.compile(gf)(q, k, v), None):
        if got is None:
            path = str(tmp_path / "grad.mlxfn")
            mx.export_function(path, lambda q, k, v: gf(q, k, v), q, k, v)
            got = mx.import_function(path)(q, k, v)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(np.array(a), b)


def test_gpu_nodes_take_the_composition():
    """A vjp built for the GPU (the fused kernel is CPU only) gets no SdpaVjp node but
    the composed rule (its graph is only built here: no GPU to run it)."""
    from mlxc._core import device
    from mlxc._core.array import _node_device, _set_node_device
    from mlxc._core.prims import fast_rules
    from mlxc._core.prims.fast import MASK_CAUSAL, _sdpa_vjp_node
    q, k, v, g, _, _ = _case(1, 2, 1, 5, 6, 4, 4, None, False, seed=70)
    o = sd(q, k, v, scale=0.5, mask="causal")
    params = (0.5, MASK_CAUSAL, False)
    assert _sdpa_vjp_node(params + (False,), (q, k, v, o, g)) is not None
    _set_node_device(1, -1)
    try:
        assert _sdpa_vjp_node(params + (False,), (q, k, v, o, g)) is None
        cots = fast_rules.vjp(3, params, [q, k, v], [g], [0, 1, 2], [o])
    finally:
        _set_node_device(getattr(device._state, "node_device", -1), -1)
    assert [c.shape for c in cots] == [q.shape, k.shape, v.shape]
    assert all(_node_device(c) == 1 for c in cots)
