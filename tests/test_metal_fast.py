"""The mx.fast Metal kernels (metal/fast.metal, metal/attention.metal) against the CPU
kernels on the same inputs, at every lane order of the emulated device.

Oracle: the CPU's Fast primitive (tested against float64 references in test_fast.py).
Not bit for bit: the GPU sums rows as a simd_sum tree (the CPU: its own vector order),
uses metal:: exp/sin/cos (the CPU: its vector polynomials), and attention adds each
lane's share of the softmax sum at the end.  Tolerances, in float32 eps (2**-23) of the
result's scale, with one extra rounding step of the output dtype for float16/bfloat16
(a float32 value a few eps apart can round to the neighbouring half value):
  norms 16 eps of max|y| (sums of up to a few thousand terms in another order),
  rope 8 eps of max|x| (sin/cos within a few ulps of the angle),
  attention 16 eps of max|v| (a convex combination of v rows; exp within a few ulps).
"""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import internal
from test_metal_kernels import FLOATS, lanes  # noqa: F401  (the lane-order fixture)

_node_device = internal("mlxc._core.array", "_node_device")

EPS32 = 2.0 ** -23
ULP = {"float32": 0.0, "float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


def rand(shape, dtype="float32", seed=0, scale=1.0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * scale
    a = mx.array(x).astype(getattr(mx, dtype))
    mx.eval(a)
    return a


def on(device, f):
    """f() built on device and evaluated; the result's node is on that device."""
    with mx.stream(device):
        r = f()
    assert _node_device(r) == (1 if device == mx.gpu else 0)
    mx.eval(r)
    return r


def assert_close(g, c, eps_of):
    """|g - c| <= eps_of * 2**-23 + one ulp of the output dtype at |c|."""
    assert g.dtype == c.dtype and g.shape == c.shape
    a = np.array(g.astype(mx.float32)).astype(np.float64)
    b = np.array(c.astype(mx.float32)).astype(np.float64)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ulp = ULP[str(g.dtype).split(".")[-1]]
    tol = eps_of * EPS32 + ulp * np.abs(b)
    bad = ~(np.abs(a - b) <= tol) & ~np.isnan(b)
    assert not np.any(bad), (a[bad][:5], b[bad][:5], np.abs(a - b).max())


def both(f, eps_of):
    g = on(mx.gpu, f)
    c = on(mx.cpu, f)
    assert_close(g, c, eps_of)
    return g


# ---------------------------------------------------------------- norms


@pytest.mark.parametrize("dtype", FLOATS)
def test_rms_and_layer_norm(dtype, lanes):
    # n = 1, one simdgroup with a tail, several simdgroups (n = 2100: 288 threads)
    for rows, n in [(3, 1), (5, 77), (2, 2100)]:
        x = rand((rows, n), dtype, seed=n)
        w = rand((n,), dtype, seed=n + 1)
        b = rand((n,), dtype, seed=n + 2)
        ymax = float(np.abs(np.array((x * 4).astype(mx.float32))).max())
        s = 16 * max(ymax, 1.0)
        both(lambda: mx.fast.rms_norm(x, w, 1e-5), s)
        both(lambda: mx.fast.rms_norm(x, None, 1e-3), s)
        both(lambda: mx.fast.layer_norm(x, w, b, 1e-5), s)
        both(lambda: mx.fast.layer_norm(x, None, b, 1e-5), s)
        both(lambda: mx.fast.layer_norm(x, w, None, 0.0), s)


def test_norms_strided_offset_and_empty(lanes):
    x = rand((6, 40), seed=3)
    w = rand((80,), seed=4)[::2]                              # strided weight
    both(lambda: mx.fast.rms_norm(x.T, None, 1e-5), 64)      # transposed input
    both(lambda: mx.fast.layer_norm(x[1:4, 3:], None, None, 1e-5), 64)   # offset view
    both(lambda: mx.fast.rms_norm(x, w[:40], 1e-5), 64)
    z = mx.zeros((0, 5))
    e = on(mx.gpu, lambda: mx.fast.rms_norm(z, None, 1e-5))
    assert e.shape == (0, 5)
    # a constant row: variance 0, the output is b exactly
    full, ar = mx.full((2, 33), 3.0), mx.arange(33, dtype=mx.float32)
    c = on(mx.gpu, lambda: mx.fast.layer_norm(full, None, ar, 1e-5))
    np.testing.assert_array_equal(np.array(c), np.tile(np.arange(33, dtype=np.float32), (2, 1)))


# ---------------------------------------------------------------- rope


@pytest.mark.parametrize("dtype", FLOATS)
def test_rope(dtype, lanes):
    x = rand((2, 3, 7, 12), dtype, seed=5)
    s = 8 * 4.5
    for trad in (False, True):
        both(lambda: mx.fast.rope(x, 12, traditional=trad, base=10000.0, scale=1.0,
                                  offset=0), s)
        # dims < D (the tail is copied), offset and scale
        both(lambda: mx.fast.rope(x, 6, traditional=trad, base=500.0, scale=0.25,
                                  offset=9), s)
        # a per-batch offset array (int32: cast on the GPU) and custom frequencies
        both(lambda: mx.fast.rope(x, 8, traditional=trad, base=None, scale=1.0,
                                  offset=mx.array([2, 40]),
                                  freqs=mx.array([1.0, 3.0, 10.0, 300.0])), s)
    # 3-d input, a scalar offset array, a transposed input
    x3 = rand((4, 9, 16), dtype, seed=6)
    both(lambda: mx.fast.rope(x3, 16, traditional=False, base=10000.0, scale=1.0,
                              offset=mx.array(5)), s)
    both(lambda: mx.fast.rope(mx.swapaxes(x3, 0, 1), 10, traditional=True, base=10000.0,
                              scale=2.0, offset=1), s)


def test_rope_dims_zero_is_a_copy(gpu):
    x = rand((1, 2, 3, 4), seed=7)
    r = on(mx.gpu, lambda: mx.fast.rope(x, 0, traditional=False, base=10000.0, scale=1.0,
                                        offset=0))
    np.testing.assert_array_equal(np.array(r), np.array(x))


# ---------------------------------------------------------------- attention


def sdpa_cases():
    """(B, Hq, Hk, Lq, Lk, D, Dv): partial query blocks (Lq = 5 with 4 rows a group),
    several key blocks with a partial last one (Lk = 40, 70), GQA, decoding (Lq = 1),
    Lq > Lk (causal rows that see no key)."""
    return [(2, 4, 2, 5, 40, 8, 6), (1, 3, 1, 1, 70, 16, 16), (1, 2, 2, 9, 4, 5, 3)]


@pytest.mark.parametrize("dtype", FLOATS)
def test_sdpa_masks(dtype, lanes):
    for (B, Hq, Hk, Lq, Lk, D, Dv) in sdpa_cases():
        q = rand((B, Hq, Lq, D), dtype, seed=1)
        k = rand((B, Hk, Lk, D), dtype, seed=2)
        v = rand((B, Hk, Lk, Dv), dtype, seed=3)
        s = 16 * 5.0
        sc = 1.0 / np.sqrt(D)
        sdpa = mx.fast.scaled_dot_product_attention
        both(lambda: sdpa(q, k, v, scale=sc), s)
        both(lambda: sdpa(q, k, v, scale=sc, mask="causal"), s)
        bm = mx.array(np.random.default_rng(4).random((Lq, Lk)) > 0.4)
        bm4 = mx.array(np.random.default_rng(5).random((B, 1, Lq, Lk)) > 0.6)
        both(lambda: sdpa(q, k, v, scale=sc, mask=bm), s)
        both(lambda: sdpa(q, k, v, scale=sc, mask=bm4), s)
        am = rand((Hq, 1, Lk), dtype, seed=6, scale=2.0)        # broadcast over queries
        both(lambda: sdpa(q, k, v, scale=sc, mask=am), s)
        sinks = rand((Hq,), "float32", seed=7)
        both(lambda: sdpa(q, k, v, scale=sc, mask="causal", sinks=sinks), s)


def test_sdpa_layouts_and_mask_dtypes(lanes):
    sdpa = mx.fast.scaled_dot_product_attention
    q = rand((2, 6, 3, 8), seed=1).transpose(0, 2, 1, 3)       # (2, 3, 6, 8), strided
    k = rand((2, 3, 6, 8), seed=2)
    k = mx.broadcast_to(k[:, :1], (2, 3, 6, 8))               # a broadcast head axis
    v = rand((2, 3, 8, 6), seed=3).transpose(0, 1, 3, 2)      # (2, 3, 6, 8)
    both(lambda: sdpa(q, k, v, scale=0.4), 80)
    m16 = rand((6, 6), "float16", seed=4)                     # additive float16 mask
    both(lambda: sdpa(q, k, v, scale=0.4, mask=m16), 80)
    mi = mx.array(np.random.default_rng(5).integers(-3, 3, (3, 6, 6)).astype(np.int32))
    both(lambda: sdpa(q, k, v, scale=0.4, mask=mi), 80)       # an integer additive mask
    # -inf additive entries, and a whole row of -inf (NaN on both devices)
    mneg = np.zeros((6, 6), np.float32)
    mneg[:, 2] = -np.inf
    mneg[4] = -np.inf
    both(lambda: sdpa(q, k, v, scale=0.4, mask=mx.array(mneg)), 80)


def test_sdpa_no_keys_and_bad_input(gpu):
    sdpa = mx.fast.scaled_dot_product_attention
    q = rand((1, 2, 3, 4), seed=1)
    k = mx.zeros((1, 2, 0, 4))
    r = on(mx.gpu, lambda: sdpa(q, k, k, scale=1.0))
    np.testing.assert_array_equal(np.array(r), np.zeros((1, 2, 3, 4), np.float32))
    # the same checks as on the CPU
    with pytest.raises(ValueError, match="n_heads must be a multiple of n_kv_heads"):
        sdpa(q, rand((1, 3, 5, 4)), rand((1, 3, 5, 4)), scale=1.0, stream=mx.gpu)
    with pytest.raises(ValueError, match="invalid mask option"):
        sdpa(q, q, q, scale=1.0, mask="diagonal", stream=mx.gpu)
    with pytest.raises(ValueError, match="must have the same size as the last dimension"):
        mx.fast.rms_norm(q, mx.ones((3,)), 1e-5, stream=mx.gpu)
    with pytest.raises(ValueError, match="dims must be even"):
        mx.fast.rope(q, 3, traditional=False, base=1.0, scale=1.0, offset=0, stream=mx.gpu)
    # a head too large for the kernel's threadgroup memory: a clear error, no CPU fallback
    big = mx.zeros((1, 1, 1, 8200))
    with pytest.raises(ValueError, match=r"head dimensions 8200 and 8200 are too large"):
        mx.eval(sdpa(big, big, big, scale=1.0, stream=mx.gpu))


def test_fast_runs_the_fast_kernels(dispatched):
    x = rand((1, 1, 2, 4))
    mx.eval(mx.fast.rms_norm(x, None, 1e-5, stream=mx.gpu),
            mx.fast.rope(x, 4, traditional=False, base=1e4, scale=1.0, offset=0,
                         stream=mx.gpu),
            mx.fast.scaled_dot_product_attention(x, x, x, scale=1.0, stream=mx.gpu))
    assert sorted(dispatched) == ["norm_g_float32", "rope_g_float32", "sdpa_g_float32"]


@pytest.mark.parametrize("mask", [None, "causal"])
def test_sdpa_vjp_node_on_gpu(gpu, monkeypatch, tmp_path, mask):
    """SdpaVjp (attention's fused vjp) has no Metal kernel: on the GPU it runs its
    composition there.  A graph holding the node (exported on the CPU) imported and run
    on the GPU stream: the node's eval_gpu runs and matches the CPU's tiled kernel."""
    from mlxc._core.primitive import _gpu_table
    from mlxc._core.prims.fast import SdpaVjp
    r = np.random.default_rng(3)
    q, k, v = (mx.array(r.standard_normal(s).astype(np.float32))
               for s in ((1, 2, 5, 8), (1, 2, 7, 8), (1, 2, 7, 8)))

    def loss(q, k, v):
        o = mx.fast.scaled_dot_product_attention(q, k, v, scale=0.3, mask=mask)
        return (o * mx.arange(8)).sum()

    g = mx.grad(loss, argnums=(0, 1, 2))
    want = g(q, k, v)
    path = str(tmp_path / "g.mlxfn")
    mx.export_function(path, g, q, k, v)
    h = mx.import_function(path)
    calls = []
    real = _gpu_table[SdpaVjp]
    monkeypatch.setitem(_gpu_table, SdpaVjp, lambda *a: (calls.append(1), real(*a))[1])
    with mx.stream(mx.gpu):
        got = h(q, k, v)
        mx.eval(got)
    assert calls == [1]
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-5)
