"""The indexing and data-movement Metal kernels (metal/indexing.metal, metal/scatter.metal,
eval_gpu in mlxc/_core/metal/gpu_index.pyx) against the CPU kernels on the same inputs, at
every lane order of the emulated device.

Oracle: the CPU kernels (tested against numpy elsewhere; a few cases here also check
numpy directly).  Gathers, copies, integer/bool scatters, 64-bit scatters (applied in
index order on the GPU too), searchsorted and integral aranges are bit-for-bit.  Float
scatter-add/prod with colliding indices round in the hardware's order: checked exactly on
integer-valued data (every partial sum/product is exact) and within a stated tolerance on
random data.  Assign with duplicate indices: MLX leaves the winner unspecified, so only
"one of the colliding updates" is checked.
"""
import numpy as np
import pytest

import mlxc.core as mx
from conftest import METAL_REAL
from test_metal_kernels import GPU_DTYPES, FLOATS, INTS, as_np, assert_same, dt, lanes, run, values  # noqa: F401

SCATTER_DTYPES = GPU_DTYPES                 # 8/16/32-bit: atomics; 64-bit: column kernel


@pytest.fixture
def atomics(lanes):
    """lanes, with the emulator stopping each thread before every atomic operation so the
    group's other threads interleave there (a non-atomic read-modify-write loses updates)."""
    if METAL_REAL:
        yield lanes
        return
    from mlxc._core.metal import executor_emu
    before = executor_emu.set_interleave_atomics(True)
    try:
        yield lanes
    finally:
        executor_emu.set_interleave_atomics(before)


def both(f, *args):
    """(GPU result, CPU result) of f(*args)."""
    return run(f, mx.gpu, *args), run(f, mx.cpu, *args)


def same(f, *args, **tol):
    g, c = both(f, *args)
    gs = g if isinstance(g, (list, tuple)) else [g]
    cs = c if isinstance(c, (list, tuple)) else [c]
    for a, b in zip(gs, cs):
        assert_same(a, b, **tol)


# ---------------------------------------------------------------- gathers


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_take_every_dtype_and_index_type(lanes, name):
    x = values(name, (3, 7, 4), seed=1)
    i32 = mx.array([[6, -1], [0, 3], [-7, 2]], dtype=mx.int32)
    i64 = mx.array([5, 0, -2, 1, 1], dtype=mx.int64)
    u8 = mx.array([0, 6, 2], dtype=mx.uint8)               # widened to int64, as the CPU
    same(lambda a: [mx.take(a, i32, axis=1), mx.take(a, i64, axis=1), mx.take(a, i64 % 4, axis=2), mx.take(a, u8, axis=1),
                    mx.take(a, mx.array([2, -3, 0]), axis=0), mx.take(a, i64)], x)


def test_take_layouts_and_edges(lanes):
    x = values("float32", (5, 6, 3), seed=2)
    idx = mx.array(np.random.default_rng(0).integers(-6, 6, (40,)), dtype=mx.int32)
    t = mx.transpose(x, (2, 0, 1))                          # strided source
    sl = x[::2, 1:]                                         # offset + steps
    bi = mx.broadcast_to(mx.array([1, -1], dtype=mx.int64), (3, 2))   # broadcast indices
    same(lambda a: [mx.take(t, idx, axis=2), mx.take(sl, bi, axis=1), mx.take(a, idx, axis=1),
                    mx.take(a, mx.array([], dtype=mx.int32), axis=1),
                    mx.take(a[:0], idx, axis=1), mx.take(a, mx.array(3), axis=0)], x)
    # a large-ish gather: several threadgroups, a partial last one
    big = values("int32", (2, 1000), seed=3)
    bidx = mx.array(np.random.default_rng(1).integers(-1000, 1000, (777,)), dtype=mx.int64)
    g, c = both(lambda a: mx.take(a, bidx, axis=1), big)
    assert_same(g, c)
    np.testing.assert_array_equal(as_np(g), np.take(as_np(big), np.array(bidx), axis=1))


@pytest.mark.parametrize("name", ["bool_", "uint8", "int16", "float16", "bfloat16", "int64"])
def test_take_along_axis(lanes, name):
    x = values(name, (4, 5, 3), seed=4)
    rng = np.random.default_rng(5)
    i1 = mx.array(rng.integers(-5, 5, (4, 7, 3)), dtype=mx.int32)
    i0 = mx.array(rng.integers(-4, 4, (2, 5, 3)), dtype=mx.int64)
    i2 = mx.array(rng.integers(0, 3, (4, 5, 1)), dtype=mx.uint16)
    t = mx.transpose(x, (1, 0, 2))
    same(lambda a: [mx.take_along_axis(a, i1, axis=1), mx.take_along_axis(a, i0, axis=0),
                    mx.take_along_axis(a, i2, axis=2), mx.take_along_axis(t, mx.transpose(i0, (1, 0, 2))[:, :, :], axis=1),
                    mx.take_along_axis(a, mx.broadcast_to(i2[:1], (4, 5, 1)), axis=2)], x)


def test_multi_axis_indexing(lanes):
    """Advanced indices over several axes: IndexLinear (arrays and ranges) + Gather."""
    x = values("float32", (4, 6, 5, 3), seed=6)
    a = mx.array([[0, -1, 2]], dtype=mx.int32)
    b = mx.array([[5], [1]], dtype=mx.int64)
    c = mx.array([4, 0, -5], dtype=mx.int16)
    xn = np.array(x)
    g, cpu = both(lambda v: [v[a, b], v[:, a, c], v[a, 1:5:2], v[mx.transpose(a), :, c], v[1, a, ::-2],
                             v[a, b, c]], x)
    for r, s in zip(g, cpu):
        assert_same(r, s)
    np.testing.assert_array_equal(as_np(g[0]), xn[np.array(a), np.array(b)])
    np.testing.assert_array_equal(as_np(g[1]), xn[:, np.array(a), np.array(c)])
    np.testing.assert_array_equal(as_np(g[2]), xn[np.array(a), 1:5:2])
    np.testing.assert_array_equal(as_np(g[5]), xn[np.array(a), np.array(b), np.array(c)])


def test_bad_index_raises_like_cpu(gpu):
    x = mx.array(np.arange(12, dtype=np.float32).reshape(3, 4))
    cases = [lambda: mx.take(x, mx.array([0, 4, 9]), axis=1),
             lambda: mx.take(x, mx.array([-4], dtype=mx.int32), axis=0),
             lambda: mx.take_along_axis(x, mx.array([[0], [1], [7]]), axis=1),
             lambda: x[mx.array([0, 1]), mx.array([2, 5])],
             lambda: x.at[mx.array([3])].add(1.0),
             lambda: x.at[mx.array([0, -9])].maximum(1.0),
             lambda: mx.put_along_axis(x, mx.array([[4]]), mx.array([[1.0]]), axis=1)]
    for f in cases:
        msgs = []
        for dev in (mx.cpu, mx.gpu):
            with pytest.raises(IndexError) as e:
                with mx.stream(dev):
                    r = f()
                mx.eval(r)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1] and "out of bounds" in msgs[0], msgs
    d = mx.array(np.arange(3), dtype=mx.float64)
    with pytest.raises(TypeError, match=r"float64 is not supported on the GPU"):
        mx.eval(mx.take(d, mx.array([0]), stream=mx.gpu))


# ---------------------------------------------------------------- concatenate, slices


def test_concatenate(lanes):
    a = values("float32", (2, 3, 4), seed=7)
    b = values("int16", (2, 5, 4), seed=8)
    c = values("float16", (4, 2, 3), seed=9)
    e = values("float32", (2, 0, 4), seed=1)
    same(lambda x, y: [mx.concatenate([x, y], axis=1), mx.concatenate([x, e, x[:, ::-1]], axis=1),
                       mx.concatenate([mx.transpose(c, (1, 2, 0)), x], axis=0),
                       mx.concatenate([x, x * 2], axis=2), mx.concatenate([y, y[:1]], axis=0)],
         a, b)
    bo = values("bool_", (3, 2), seed=2)
    u = values("uint64", (3, 1), seed=3)
    same(lambda p, q: mx.concatenate([p, q], axis=1), bo, u)


@pytest.mark.parametrize("name", ["bool_", "uint8", "int32", "uint64", "bfloat16", "float32"])
def test_slice_update_dynamic_slice_diagonal(lanes, name):
    x = values(name, (5, 6, 4), seed=10)
    u = values(name, (2, 3, 4), seed=11)
    uf = values("float32", (5, 2, 4), seed=12)               # cast to x's dtype
    start = mx.array([3, 1], dtype=mx.int32)

    def f(a, v):
        s = mx.array(a)
        s[1:3, 0:6:2] = v                                   # static, stepped
        t = mx.array(a)
        t[::-2, 4:2:-1] = uf[:3]                            # negative steps, cast
        return [s, t, mx.slice_update(a, v, start, [0, 1]),
                mx.slice(a, start, [0, 1], [2, 3, 4]), mx.diagonal(a, 1, 0, 1),
                mx.diagonal(a, -2, 2, 0)]
    g, c = both(f, x, u)
    for r, s in zip(g, c):
        assert_same(r, s)
    with pytest.raises(IndexError) as eg:
        mx.eval(mx.slice_update(x, u, mx.array([4, 0]), [0, 1], stream=mx.gpu))
    with pytest.raises(IndexError) as ec:
        mx.eval(mx.slice_update(x, u, mx.array([4, 0]), [0, 1], stream=mx.cpu))
    assert str(eg.value) == str(ec.value)


# ---------------------------------------------------------------- arange, searchsorted


def test_arange(lanes):
    for name in GPU_DTYPES[1:]:                            # (arange refuses bool)
        lo = 0 if name[0] == "u" else -3
        same(lambda: mx.arange(lo, 40, 3, dtype=dt(name)))
    same(lambda: mx.arange(1000, dtype=mx.int64))
    # Fractional start/step: float32 arithmetic on the GPU, double on the CPU (Metal has no
    # double): |error| <= 1 ulp of the largest magnitude involved, plus the final rounding.
    for name in FLOATS:
        g, c = both(lambda: mx.arange(-2.3, 7.1, 0.37, dtype=dt(name)))
        a, b = as_np(g).astype(np.float64), as_np(c).astype(np.float64)
        eps = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23}[name]
        assert np.all(np.abs(a - b) <= 2 * eps * 7.1), (a, b)


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_searchsorted(lanes, name):
    rng = np.random.default_rng(13)
    seq = mx.sort(values(name, (37,), seed=14))
    v = values(name, (3, 50), seed=15)
    v = mx.concatenate([v.reshape(-1), seq[::5]])          # exact hits: left and right differ
    if name in FLOATS:
        nan = mx.array([np.nan, -0.0, 0.0, np.inf]).astype(dt(name))
        seq = mx.sort(mx.concatenate([seq, nan]))
        v = mx.concatenate([v, nan])
    g, c = both(lambda s, w: [mx.searchsorted(s, w), mx.searchsorted(s, w, side="right"),
                              mx.searchsorted(s[::2], w[::-3])], seq, v)
    for r, s in zip(g, c):
        assert_same(r, s)
    del rng


def test_empty_and_degenerate(gpu):
    """Zero-size operands dispatch nothing (or a search over an empty sequence)."""
    x = mx.zeros((3, 0, 2))
    e = mx.array([], dtype=mx.int32)
    same(lambda a: [mx.take(a, mx.array([0]), axis=0), a.at[mx.array([1, 1])].add(1.0),
                    mx.concatenate([a, a], axis=1), mx.take(mx.zeros((4,)), e),
                    mx.zeros((4,)).at[e].add(mx.zeros((0,))),
                    mx.searchsorted(mx.array([], dtype=mx.float32), mx.array([1.0, -1.0])),
                    mx.searchsorted(mx.array([1.0]), mx.array([], dtype=mx.float32)),
                    mx.arange(0)], x)


# ---------------------------------------------------------------- scatters


def scatter_data(name, seed, shape):
    """Values small enough that sums and products of a few colliding updates are exact."""
    rng = np.random.default_rng(seed)
    if name == "bool_":
        v = rng.integers(0, 2, shape).astype(np.bool_)
        return mx.array(v)
    lo = 0 if name.startswith("u") else -3
    return mx.array(rng.integers(lo, 4, shape)).astype(dt(name))


@pytest.mark.parametrize("name", SCATTER_DTYPES)
def test_scatter_modes_with_collisions_exact(atomics, name):
    x = scatter_data(name, 20, (6, 5))
    idx = mx.array([1, 4, 1, 1, -2, 0, 4], dtype=mx.int32)    # 1 three times, 4 twice (and -2)
    upd = scatter_data(name, 21, (7, 5))
    idx3 = mx.array([2, 2, 0], dtype=mx.int64)
    upd3 = scatter_data(name, 22, (6, 3))
    mx.eval(x, upd, upd3)
    same(lambda a: [a.at[idx].add(upd), a.at[idx].multiply(upd), a.at[idx].maximum(upd),
                    a.at[idx].minimum(upd), a.at[:, idx3].add(upd3),
                    a.at[:, idx3].maximum(upd3)], x)


@pytest.mark.parametrize("name", ["float32", "float16", "bfloat16"])
def test_scatter_float_collisions_random(atomics, name):
    """Random floats: the colliding updates' order differs from the CPU's index order, so
    sums agree within (number of updates + 1) roundings of the largest partial sum; max/min
    are exact (no signed zeros here)."""
    rng = np.random.default_rng(23)
    x = mx.array(rng.standard_normal((4, 3)).astype(np.float32)).astype(dt(name))
    idx = mx.array(rng.integers(-4, 4, (60,)), dtype=mx.int64)
    upd = mx.array(rng.standard_normal((60, 3)).astype(np.float32)).astype(dt(name))
    mx.eval(x, idx, upd)
    g, c = both(lambda a: [a.at[idx].add(upd), a.at[idx].maximum(upd), a.at[idx].minimum(upd)], x)
    assert_same(g[1], c[1])
    assert_same(g[2], c[2])
    eps = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8, "float32": 2.0 ** -24}[name]
    bound = 61 * eps * np.abs(as_np(upd)).astype(np.float64).sum()
    assert np.all(np.abs(as_np(g[0]).astype(np.float64) - as_np(c[0])) <= bound)


def test_scatter_nan_and_large(atomics):
    x = mx.array([1.0, np.nan, 3.0, -2.0])
    upd = mx.array([np.nan, 5.0, 2.0, 7.0, -1.0])
    idx = mx.array([0, 1, 2, 2, 3])
    same(lambda a: [a.at[idx].maximum(upd), a.at[idx].minimum(upd)], x)
    # many updates over few targets: several threadgroups contend for the same words
    rng = np.random.default_rng(24)
    big_i = mx.array(rng.integers(0, 6, (3000,)), dtype=mx.int32)
    for name in ("int32", "uint8", "int16", "int64", "float32"):
        y = mx.zeros((6,), dtype=dt(name))
        u = mx.ones((3000,), dtype=dt(name))
        g, c = both(lambda a: [a.at[big_i].add(u), a.at[big_i].maximum(u)], y)
        assert_same(g[0], c[0])
        assert_same(g[1], c[1])
        if name != "uint8" and name != "int16":
            np.testing.assert_array_equal(as_np(g[0]), np.bincount(np.array(big_i), minlength=6))


def test_scatter_along_and_assign(atomics):
    rng = np.random.default_rng(25)
    for name in ("float32", "int8", "uint64", "bfloat16"):
        src = scatter_data(name, 26, (4, 6, 3))
        idx = mx.array(rng.integers(-6, 6, (4, 9, 3)), dtype=mx.int64)
        cot = scatter_data(name, 27, (4, 9, 3))
        uidx = mx.array(np.stack([rng.permutation(6)[:4] for _ in range(12)]).reshape(4, 3, 4)
                        .transpose(0, 2, 1), dtype=mx.int32)   # no duplicates per column
        vals = scatter_data(name, 28, (4, 4, 3))
        mx.eval(src, idx, cot, uidx, vals)

        def f(s):
            # the vjp of take_along_axis: a scatter-add along the axis (ScatterAddAxis)
            _, (grad,) = mx.vjp(lambda a: mx.take_along_axis(a, idx, axis=1), [s], [cot])
            return [grad, mx.put_along_axis(s, uidx, vals, axis=1),
                    s.at[mx.array([3, 0, 2])].add(s[:3])]
        g, c = both(f, src)
        for r, s in zip(g, c):
            assert_same(r, s)
    # assign with duplicate indices: MLX does not say which update wins; check that each
    # element holds that element of one of the colliding updates (elements are written by
    # separate threads, so a row may mix updates).
    x = mx.zeros((4, 2))
    idx = mx.array([1, 3, 1, 1, 3])
    upd = mx.array(np.arange(10, dtype=np.float32).reshape(5, 2) + 1)
    g = run(lambda a: _assign(a, idx, upd), mx.gpu, x)
    gn, un = as_np(g), np.array(upd)
    for row, cands in ((1, [0, 2, 3]), (3, [1, 4])):
        for col in range(2):
            assert gn[row, col] in un[cands, col], gn
    np.testing.assert_array_equal(gn[[0, 2]], 0)


def _assign(a, idx, upd):
    b = mx.array(a)
    b[idx] = upd
    return b


def test_masked_scatter(lanes):
    rng = np.random.default_rng(30)
    for name in ("bool_", "uint16", "float32", "int64"):
        x = values(name, (3, 300), seed=31)                  # rows of 300: two chunks of 256
        m = mx.array(rng.random((3, 300)) < 0.6)
        v = values(name, (900,), seed=32)
        mask_t = mx.array(rng.random((300, 3)) < 0.5).T        # strided mask
        mx.eval(x, m, v, mask_t)

        def f(a):
            b = mx.array(a)
            b[m] = v
            c = mx.array(a)
            c[mask_t] = v[::-1]
            return [b, c]
        g, c = both(f, x)
        for r, s in zip(g, c):
            assert_same(r, s)
        xn, mn = as_np(x).copy(), np.array(m)
        xn[mn] = as_np(v)[:mn.sum()]
        np.testing.assert_array_equal(as_np(g[0]), xn)
    # batched (nbatch = 1) through vmap
    xs = values("float32", (4, 40), seed=33)
    ms = mx.array(rng.random((4, 40)) < 0.5)
    vs = values("float32", (4, 40), seed=34)

    def one(a, mm, vv):
        b = mx.array(a)
        b[mm] = vv
        return b
    same(lambda a: mx.vmap(one)(a, ms, vs), xs)


def test_emulator_interleaves_atomics():
    """The emulator's interleave_atomics mode (used by the scatter tests above) exposes a
    read-modify-write split into an atomic load and an atomic store, and keeps a real
    compare-and-swap loop exact."""
    if METAL_REAL:
        pytest.skip("emulator feature")
    import metal_emu
    src = """#include <metal_stdlib>
using namespace metal;
kernel void split_rmw(device atomic_uint* c [[buffer(0)]], uint i [[thread_position_in_grid]]) {
    uint v = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, v + 1u, memory_order_relaxed);
}
kernel void cas_rmw(device atomic_uint* c [[buffer(0)]], uint i [[thread_position_in_grid]]) {
    uint v = atomic_load_explicit(c, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(c, &v, v + 1u, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}
"""
    lib = metal_emu.compile_library(text=src, name="interleave_test.metal")
    for name, interleave, want_exact in (("split_rmw", False, True), ("split_rmw", True, False),
                                          ("cas_rmw", True, True)):
        for order in ("forward", "shuffle"):
            c = np.zeros(1, np.uint32)
            lib.function(name).dispatch({0: c}, grid=(256,), threadgroup=(64,),
                                        lane_order=order, seed=5,
                                        interleave_atomics=interleave)
            assert (int(c[0]) == 256) == want_exact, (name, interleave, order, int(c[0]))
