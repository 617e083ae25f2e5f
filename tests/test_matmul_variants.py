"""gather_mm, block_masked_mm, segmented_mm (numpy loops in float64 as the oracle, MLX's
errors, finite-difference gradients, jvp, vmap against a Python loop) and complex64 /
float64 matmul accuracy."""
import numpy as np
import pytest

import mlxc.core as mx

F64 = mx.float64


def _rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _gmm_ref(a, b, lhs, rhs):
    a3 = a.reshape((-1,) + a.shape[-2:])
    b3 = b.reshape((-1,) + b.shape[-2:])
    shape = np.broadcast_shapes(lhs.shape, rhs.shape)
    pairs = zip(np.broadcast_to(lhs, shape).ravel(), np.broadcast_to(rhs, shape).ravel())
    out = np.stack([a3[i] @ b3[j] for i, j in pairs])
    return out.reshape(shape + (a.shape[-2], b.shape[-1]))


@pytest.mark.parametrize("ashape,bshape,lhs,rhs", [
    ((4, 3, 5), (6, 5, 7), [[0, 1, 3], [2, 2, 1]], [5, 0, 1]),
    ((8, 1, 5), (6, 5, 7), list(range(8)), [0, 0, 0, 1, 1, 4, 4, 4]),   # sorted runs
    ((8, 2, 5), (6, 5, 7), list(range(8)), [0, 0, 0, 1, 1, 4, 4, 4]),
    ((2, 4, 3, 5), (6, 5, 7), [7], None),
    ((4, 3, 5), (6, 5, 7), [-1, 0], [-2, 5]),                            # negative: wrap
    ((4, 3, 5), (5, 7), [0, 3, 3], None),
])
def test_gather_mm_matches_loop(ashape, bshape, lhs, rhs):
    a, b = _rand(ashape, 0), _rand(bshape, 1)
    nb = int(np.prod(bshape[:-2]))
    l = np.array(lhs)
    r = np.arange(nb).reshape(bshape[:-2]) if rhs is None else np.array(rhs)
    got = mx.gather_mm(mx.array(a, F64), mx.array(b, F64), mx.array(l),
                       None if rhs is None else mx.array(r), sorted_indices=True)
    np.testing.assert_allclose(np.array(got), _gmm_ref(a, b, l, r), rtol=1e-12, atol=1e-12)
    got32 = mx.gather_mm(mx.array(a, mx.float32), mx.array(b, mx.float32), mx.array(l),
                         None if rhs is None else mx.array(r))
    np.testing.assert_allclose(np.array(got32), _gmm_ref(a, b, l, r), rtol=1e-4, atol=1e-4)


def test_gather_mm_vectors_and_defaults():
    b = _rand((5, 3, 6), 2)
    got = mx.gather_mm(mx.array(np.ones(3), F64), mx.array(b, F64), None, mx.array([0, 4]))
    np.testing.assert_allclose(np.array(got), b[[0, 4]].sum(axis=1), rtol=1e-12)
    a = _rand((5, 2, 3), 3)
    got = mx.gather_mm(mx.array(a, F64), mx.array(b, F64))         # arange on both sides
    np.testing.assert_allclose(np.array(got), a @ b, rtol=1e-12)
    h = mx.gather_mm(mx.ones((2, 2, 3), mx.float16), mx.ones((2, 3, 4), mx.float16))
    assert h.dtype == mx.float16 and np.array(h).tolist() == [[[3.0] * 4] * 2] * 2


def test_gather_mm_errors():
    a, b = mx.ones((4, 3, 5)), mx.ones((6, 5, 7))
    with pytest.raises(ValueError, match=r"\[gather_mm\] Got indices with invalid dtype"):
        mx.gather_mm(a, b, mx.array([0.0, 1.0]), None)
    with pytest.raises(ValueError, match=r"\[gather_mm\] Last dimension of first input"):
        mx.gather_mm(a, mx.ones((5, 4, 6)), mx.array([0, 1]), None)
    with pytest.raises(ValueError, match=r"\[gather_mm\] Only real floating point types"):
        mx.gather_mm(a.astype(mx.int32), b.astype(mx.int32))
    with pytest.raises(ValueError, match=r"broadcast"):
        mx.gather_mm(a, b, None, mx.array([[4, 0], [1, 1]]))
    with pytest.raises(ValueError, match=r"\[gather_mm\] Got 0 dimension input"):
        mx.gather_mm(mx.array(1.0), b)
    with pytest.raises(IndexError, match=r"\[gather_mm\] Index 9 in lhs_indices"):
        mx.eval(mx.gather_mm(a, b, mx.array([9]), mx.array([0])))
    with pytest.raises(IndexError, match=r"\[gather_mm\] Index 6 in rhs_indices"):
        mx.eval(mx.gather_mm(a, b, mx.array([0]), mx.array([6])))


def _fd(f, args, k, seed=0):
    g = np.array(mx.grad(f, argnums=k)(*args))
    x = np.array(args[k])
    d = _rand(x.shape, seed)
    hi, lo = list(args), list(args)
    hi[k] = mx.array(x + 1e-6 * d, F64)
    lo[k] = mx.array(x - 1e-6 * d, F64)
    fd = (f(*hi).item() - f(*lo).item()) / 2e-6
    assert abs(fd - (g * d).sum()) <= 1e-6 * max(1.0, abs(fd))


def test_gather_mm_grad_jvp():
    a, b = mx.array(_rand((4, 3, 5), 0), F64), mx.array(_rand((6, 5, 7), 1), F64)
    lhs, rhs = mx.array([0, 1, 3, 0, 0]), mx.array([5, 0, 1, 5, 2])
    w = mx.array(_rand((5, 3, 7), 2), F64)

    def f(x, y):
        return (mx.gather_mm(x, y, lhs, rhs) * w).sum()
    _fd(f, [a, b], 0)
    _fd(f, [a, b], 1)
    rhs2 = mx.array([-1, 0, 3, 3, -6])          # negative indices wrap, one matrix unused

    def f2(x, y):
        return (mx.gather_mm(x, y, lhs, rhs2, sorted_indices=False) * w).sum()
    _fd(f2, [a, b], 1)
    ta, tb = mx.array(_rand((4, 3, 5), 3), F64), mx.array(_rand((6, 5, 7), 4), F64)
    _, (t,) = mx.jvp(lambda x, y: mx.gather_mm(x, y, lhs, rhs), [a, b], [ta, tb])
    want = (_gmm_ref(np.array(ta), np.array(b), np.array(lhs), np.array(rhs))
            + _gmm_ref(np.array(a), np.array(tb), np.array(lhs), np.array(rhs)))
    np.testing.assert_allclose(np.array(t), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("in_axes", [(0, None, None), (None, 1, None), (0, 0, 0), (None, None, 0),
                                     (1, None, 0)])
def test_gather_mm_vmap_matches_loop(in_axes):
    V = 3
    shapes = [(4, 3, 5), (6, 5, 7), (2,)]
    arrs = []
    for k, (s, ax) in enumerate(zip(shapes, in_axes)):
        full = s if ax is None else s[:ax] + (V,) + s[ax:]
        arrs.append(np.random.default_rng(k).integers(-4, 4, full) if k == 2 else _rand(full, k))
    rhs = mx.array([5, -1])

    def f(x, y, l):
        return mx.gather_mm(x, y, l, rhs)
    got = mx.vmap(f, in_axes=in_axes)(mx.array(arrs[0], F64), mx.array(arrs[1], F64),
                                      mx.array(arrs[2]))
    for v in range(V):
        one = [x if ax is None else np.take(x, v, axis=ax) for x, ax in zip(arrs, in_axes)]
        np.testing.assert_allclose(np.array(got[v]), _gmm_ref(one[0], one[1], one[2] % 4,
                                                               np.array([5, 5])), rtol=1e-12)


def _expand(m, bs, rows, cols):
    return np.repeat(np.repeat(m, bs, -2), bs, -1)[..., :rows, :cols]


def _bmm_ref(a, b, bs, mo, ml, mr):
    if ml is not None:
        a = a * _expand(ml, bs, a.shape[-2], a.shape[-1])
    if mr is not None:
        b = b * _expand(mr, bs, b.shape[-2], b.shape[-1])
    out = a @ b
    if mo is not None:
        out = out * _expand(mo, bs, out.shape[-2], out.shape[-1])
    return out


@pytest.mark.parametrize("M,K,N,bs,batch", [(64, 64, 64, 32, ()), (40, 50, 70, 32, (2,)),
                                            (70, 40, 100, 32, ()), (130, 65, 9, 64, ())])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_block_masked_mm_matches_numpy(M, K, N, bs, batch, kind):
    rng = np.random.default_rng(0)
    a, b = _rand(batch + (M, K), 1), _rand((K, N), 2)
    t = [-(-M // bs), -(-K // bs), -(-N // bs)]
    shp = [(t[0], t[2]), (t[0], t[1]), (t[1], t[2])]
    if kind == "bool":
        ms = [rng.random(batch + s) > 0.4 for s in shp]
    else:
        ms = [rng.standard_normal(batch + s) for s in shp]
    got = mx.block_masked_mm(mx.array(a, F64), mx.array(b, F64), bs,
                             *[mx.array(m, F64) if kind == "float" else mx.array(m) for m in ms])
    np.testing.assert_allclose(np.array(got), _bmm_ref(a, b, bs, *ms), rtol=1e-12, atol=1e-12)
    only_out = mx.block_masked_mm(mx.array(a, F64), mx.array(b, F64), bs,
                                  mx.array(ms[0], F64) if kind == "float" else mx.array(ms[0]))
    np.testing.assert_allclose(np.array(only_out), _bmm_ref(a, b, bs, ms[0], None, None),
                               rtol=1e-12, atol=1e-12)


def test_block_masked_mm_bool_mask_hides_nan_and_grad():
    a = np.ones((40, 40))
    a[0, 0] = np.nan
    got = mx.block_masked_mm(mx.array(a, F64), mx.array(np.ones((40, 40)), F64), 32, None,
                             mx.array([[False, True], [True, True]]))
    assert np.isfinite(np.array(got)).all()
    ml = mx.array(_rand((2, 1), 5), F64)
    mo = mx.array(_rand((2, 2), 8), F64)
    f = lambda x, y: mx.block_masked_mm(x, y, 32, mo, ml).sum()   # noqa: E731
    _fd(f, [mx.array(_rand((40, 20), 6), F64), mx.array(_rand((20, 40), 7), F64)], 0)
    _fd(f, [mx.array(_rand((40, 20), 6), F64), mx.array(_rand((20, 40), 7), F64)], 1)


def test_block_masked_mm_errors():
    A = mx.ones((64, 64))
    with pytest.raises(ValueError, match="broadcast"):
        mx.block_masked_mm(A, A, 32, None, mx.ones((3, 2), mx.bool_))
    with pytest.raises(ValueError, match=r"\[block_masked_mm\] Only inexact types"):
        mx.block_masked_mm(A.astype(mx.int32), A.astype(mx.int32), 32)
    with pytest.raises(ValueError, match=r"\[block_masked_mm\] Only block_sizes 32, 64"):
        mx.block_masked_mm(A, A, 16, mx.ones((4, 4), mx.bool_))
    # without masks any block size is a plain matmul (as MLX)
    np.testing.assert_allclose(np.array(mx.block_masked_mm(A, A, 16)), np.full((64, 64), 64.0))


def _seg_ref(a, b, segs):
    segs = np.asarray(segs)
    flat = segs.reshape(-1, 2)
    out = [a[:, s:e] @ b[s:e, :] if e > s else np.zeros((a.shape[0], b.shape[1]))
           for s, e in flat]
    return np.stack(out).reshape(segs.shape[:-1] + (a.shape[0], b.shape[1]))


@pytest.mark.parametrize("segs", [[[0, 1], [1, 3], [0, 3], [2, 2], [2, 1]], [0, 2],
                                  [[[0, 1]], [[1, 3]]]])
def test_segmented_mm_matches_numpy(segs):
    a, b = _rand((2, 3), 0), _rand((3, 4), 1)
    got = mx.segmented_mm(mx.array(a, F64), mx.array(b, F64), mx.array(segs, mx.uint32))
    np.testing.assert_allclose(np.array(got), _seg_ref(a, b, segs), rtol=1e-12, atol=1e-12)


def test_segmented_mm_grad_errors():
    segs = mx.array([[0, 2], [2, 5], [1, 4]])
    f = lambda x, y: (mx.segmented_mm(x, y, segs) ** 2).sum()   # noqa: E731
    args = [mx.array(_rand((3, 5), 2), F64), mx.array(_rand((5, 4), 3), F64)]
    _fd(f, args, 0)
    _fd(f, args, 1)
    a, b = mx.ones((2, 3)), mx.ones((3, 4))
    with pytest.raises(ValueError, match=r"\[segmented_mm\] Batched matmul not supported"):
        mx.segmented_mm(mx.ones((2, 2, 3)), b, segs)
    with pytest.raises(ValueError, match=r"\[segmented_mm\] The segments should have shape"):
        mx.segmented_mm(a, b, mx.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"\[segmented_mm\] Got segments with invalid dtype"):
        mx.segmented_mm(a, b, mx.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\[segmented_mm\] Last dimension"):
        mx.segmented_mm(a, mx.ones((4, 4)), mx.array([[0, 1]]))


@pytest.mark.parametrize("M,K,N", [(64, 48, 80), (1, 70, 33), (33, 70, 1), (130, 129, 131)])
def test_complex64_matmul_addmm(M, K, N):
    a = (_rand((M, K), 0) + 1j * _rand((M, K), 1)).astype(np.complex64)
    b = (_rand((K, N), 2) + 1j * _rand((K, N), 3)).astype(np.complex64)
    c = (_rand((M, N), 4) + 1j * _rand((M, N), 5)).astype(np.complex64)
    want = a.astype(np.complex128) @ b.astype(np.complex128)
    scale = np.abs(want).max()
    got = mx.array(a) @ mx.array(b)
    assert got.dtype == mx.complex64
    np.testing.assert_allclose(np.array(got), want, atol=1e-5 * scale)
    got = mx.addmm(mx.array(c), mx.array(a), mx.array(b), 0.5, 2.0)
    np.testing.assert_allclose(np.array(got), 0.5 * want + 2.0 * c, atol=2e-5 * scale)


@pytest.mark.parametrize("layout", ["rows", "cols", "strided"])
@pytest.mark.parametrize("side", ["Ax", "xB"])
def test_complex64_matvec_layouts(layout, side):
    """The matrix-vector paths (rows or columns of the matrix contiguous) and the GEMM
    fallback (neither), batched, with addmm's epilogue."""
    rng = np.random.default_rng(0)
    base = (rng.standard_normal((3, 40, 66)) + 1j * rng.standard_normal((3, 40, 66)))
    base = base.astype(np.complex64)
    v = (rng.standard_normal((3, 40)) + 1j * rng.standard_normal((3, 40))).astype(np.complex64)
    m = mx.array(base)
    if layout == "cols":
        m = mx.swapaxes(mx.array(np.ascontiguousarray(np.swapaxes(base, 1, 2))), 1, 2)
    elif layout == "strided":
        m = mx.array(np.stack([base, base], axis=-1).reshape(3, 40, 132))[:, :, ::2]
    mT = mx.swapaxes(m, 1, 2)                                  # (3, 66, 40)
    vm = mx.array(v)
    if side == "Ax":
        got = mT @ vm[..., None]
        want = np.swapaxes(base, 1, 2).astype(np.complex128) @ v[..., None]
    else:
        got = vm[:, None, :] @ m
        want = v[:, None, :].astype(np.complex128) @ base
    np.testing.assert_allclose(np.array(got), want, atol=1e-4 * np.abs(want).max())
    c = (rng.standard_normal(want.shape) + 1j * rng.standard_normal(want.shape)).astype(np.complex64)
    if side == "Ax":
        got = mx.addmm(mx.array(c), mT, vm[..., None], 2.0, -1.0)
    else:
        got = mx.addmm(mx.array(c), vm[:, None, :], m, 2.0, -1.0)
    np.testing.assert_allclose(np.array(got), 2.0 * want - c, atol=2e-4 * np.abs(want).max())


def test_complex64_matmul_grad_conj_rule():
    """MLX's convention: the cotangent of a is G @ conj(b)^T."""
    a = mx.array((_rand((3, 4), 0) + 1j * _rand((3, 4), 1)).astype(np.complex64))
    b = mx.array((_rand((4, 2), 2) + 1j * _rand((4, 2), 3)).astype(np.complex64))
    g = mx.array((_rand((3, 2), 4) + 1j * _rand((3, 2), 5)).astype(np.complex64))
    _, (da, db) = mx.vjp(lambda x, y: x @ y, [a, b], [g])
    np.testing.assert_allclose(np.array(da), np.array(g) @ np.conj(np.array(b)).T, atol=1e-5)
    np.testing.assert_allclose(np.array(db), np.conj(np.array(a)).T @ np.array(g), atol=1e-5)


def test_float64_matmul_is_float64_accurate():
    a, b = _rand((300, 200), 0), _rand((200, 100), 1)
    got = np.array(mx.array(a, F64) @ mx.array(b, F64))
    np.testing.assert_allclose(got, a @ b, rtol=0, atol=1e-12)
    v = np.array(mx.array(a, F64) @ mx.array(b[:, 0], F64))
    np.testing.assert_allclose(v, a @ b[:, 0], rtol=0, atol=1e-12)


def test_segmented_mm_out_of_range_jvp_vmap():
    a, b = mx.array(_rand((3, 5), 0), F64), mx.array(_rand((5, 4), 1), F64)
    with pytest.raises(IndexError, match=r"\[segmented_mm\] Segment bound 6"):
        mx.eval(mx.segmented_mm(a, b, mx.array([[0, 6]])))
    segs = mx.array([[0, 2], [2, 5], [1, 4], [3, 3]])
    ta, tb = mx.array(_rand((3, 5), 2), F64), mx.array(_rand((5, 4), 3), F64)
    _, (t,) = mx.jvp(lambda x, y: mx.segmented_mm(x, y, segs), [a, b], [ta, tb])
    s = np.array(segs)
    want = _seg_ref(np.array(ta), np.array(b), s) + _seg_ref(np.array(a), np.array(tb), s)
    np.testing.assert_allclose(np.array(t), want, rtol=1e-12, atol=1e-12)
    A = _rand((2, 3, 5), 4)
    S = np.array([[[0, 2], [2, 5]], [[1, 4], [0, 5]]])
    got = mx.vmap(lambda x, sg: mx.segmented_mm(x, b, sg))(mx.array(A, F64), mx.array(S))
    for v in range(2):
        np.testing.assert_allclose(np.array(got[v]), _seg_ref(A[v], np.array(b), S[v]),
                                   rtol=1e-12, atol=1e-12)
    got = mx.vmap(lambda y: mx.segmented_mm(a, y, segs), in_axes=1)(mx.array(_rand((5, 2, 4), 5), F64))
    B = _rand((5, 2, 4), 5)
    for v in range(2):
        np.testing.assert_allclose(np.array(got[v]), _seg_ref(np.array(a), B[:, v], s),
                                   rtol=1e-12, atol=1e-12)
