"""mx.einsum and mx.einsum_path: results against numpy.einsum in float64, paths and
reports against MLX 0.32.4's recorded output (tests/data/einsum_path_mlx.py), MLX's
errors, gradients by finite differences, jvp, and vmap against a Python loop."""
import json
import os

import numpy as np
import pytest

import mlxc.core as mx

DATA = os.path.join(os.path.dirname(__file__), "data", "einsum_path_mlx.json")

CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(4, 5, 6), (4, 6, 7)]),
    ("bij,bjk->bik", [(4, 5, 6), (1, 6, 7)]),
    ("ij,jk,kl->il", [(5, 6), (6, 7), (7, 8)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->ij", [(3, 3, 4)]),
    ("iji,jj->", [(3, 4, 3), (4, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ba", [(2, 3)]),
    ("ij->", [(3, 4)]),
    ("i,i", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->ij", [(3, 1), (1, 4)]),
    ("i,i", [(1,), (3,)]),
    ("ij,jk->ik", [(3, 1), (4, 6)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 6)]),
    ("i...,...->...i", [(2, 3, 4), (4,)]),
    ("ij...->...ji", [(2, 3, 4, 5)]),
    ("ijk,kji->", [(2, 3, 4), (4, 3, 2)]),
    ("abcd,dcba->ad", [(2, 3, 4, 5), (5, 4, 3, 2)]),
    ("abc,cd,dbe->ae", [(2, 3, 4), (4, 5), (5, 3, 6)]),
    ("Ab,bC", [(3, 4), (4, 5)]),
    ("ab,bc,cd,de,ef->af", [(2, 3), (3, 4), (4, 5), (5, 6), (6, 2)]),
    ("ij,kl->", [(2, 3), (3, 2)]),
    (" ij , jk -> ik", [(3, 4), (4, 5)]),
]


def _ops(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("sub,shapes", CASES)
def test_einsum_matches_numpy(sub, shapes):
    ops = _ops(shapes)
    want = np.einsum(sub, *ops)
    got = mx.einsum(sub, *[mx.array(o, mx.float64) for o in ops])
    assert got.dtype == mx.float64
    np.testing.assert_allclose(np.array(got), want, rtol=1e-12, atol=1e-12)
    got32 = mx.einsum(sub, *[mx.array(o, mx.float32) for o in ops])
    assert got32.dtype == mx.float32 and got32.shape == want.shape
    np.testing.assert_allclose(np.array(got32), want, rtol=2e-5, atol=2e-5)


def test_einsum_random_many_operands():
    """The greedy path over random multi-operand contractions (MLX's recorded cases)."""
    for sub, shapes, _, _ in json.load(open(DATA))[17:50]:
        ops = _ops(shapes, 1)
        got = mx.einsum(sub, *[mx.array(o, mx.float64) for o in ops])
        np.testing.assert_allclose(np.array(got), np.einsum(sub, *ops), rtol=1e-10,
                                   atol=1e-10)


def test_einsum_dtypes():
    x = mx.array([[1, 2], [3, 4]])
    assert mx.einsum("ii", x).item() == 5                    # integers: multiply and sum
    assert mx.einsum("i,i", mx.array([1, 2, 3]), mx.array([1, 2, 3])).item() == 14
    h = mx.einsum("ij,jk", mx.ones((2, 3), mx.float16), mx.ones((3, 2), mx.float32))
    assert h.dtype == mx.float32
    b = mx.einsum("ij,jk", mx.ones((2, 3), mx.bfloat16), mx.ones((3, 2), mx.bfloat16))
    assert b.dtype == mx.bfloat16 and np.array(b.astype(mx.float32)).tolist() == [[3, 3]] * 2
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    c = rng.standard_normal((4, 2)) + 1j * rng.standard_normal((4, 2))
    got = mx.einsum("ij,jk->ik", mx.array(a.astype(np.complex64)), mx.array(c.astype(np.complex64)))
    np.testing.assert_allclose(np.array(got), a @ c, rtol=1e-5, atol=1e-5)


def test_einsum_path_matches_mlx_recorded():
    for sub, shapes, path, report in json.load(open(DATA)):
        got_path, got_report = mx.einsum_path(sub, *[mx.ones(s) for s in shapes])
        assert [tuple(p) for p in path] == got_path, sub
        assert got_report == report, sub


@pytest.mark.parametrize("fn", [mx.einsum, mx.einsum_path])
def test_errors(fn):
    op = fn.__name__
    a = mx.ones((2, 3))
    with pytest.raises(ValueError, match=rf"\[{op}\] At least one operand"):
        fn("ij")
    with pytest.raises(ValueError, match=rf"\[{op}\] Number of operands, 1, does not match"):
        fn("ij,jk", a)
    with pytest.raises(ValueError, match=rf"\[{op}\] Subscripts must be letters, but got '!'"):
        fn("i!", a)
    with pytest.raises(ValueError, match=rf"\[{op}\] Subscripts must be letters, but got '-'"):
        fn("ij->i->j", a)
    with pytest.raises(ValueError, match=rf"\[{op}\] Invalid number of subscripts 3 for input "
                                         rf"0 with 2 dimensions"):
        fn("ijk", a)
    with pytest.raises(ValueError, match=rf"\[{op}\] Only one ellipsis"):
        fn("...i...", a)
    with pytest.raises(ValueError, match=rf"\[{op}\] Cannot broadcast dimension 0 of input 1 "
                                         rf"with shape \(5,5\) to size 3"):
        fn("ij,jk", a, mx.ones((5, 5)))
    with pytest.raises(ValueError, match=rf"\[{op}\] Dimensions of repeated subscripts"):
        fn("ii", a)
    with pytest.raises(ValueError, match=rf"\[{op}\] Repeat indices not allowed in output"):
        fn("ij->ii", a)
    with pytest.raises(ValueError, match=rf"\[{op}\] Output subscript 'k'"):
        fn("ij->k", a)
    with pytest.raises(TypeError):
        fn(3, a)


def test_error_order_as_mlx():
    """With several faults, the one MLX names: text before ranks before sizes."""
    a = mx.ones((2, 3))
    with pytest.raises(ValueError, match=r"Subscripts must be letters, but got '!'"):
        mx.einsum("ij,jk->i!", a, a)                        # also a size mismatch
    with pytest.raises(ValueError, match=r"Repeat indices not allowed in output"):
        mx.einsum("ij,jk->ii", a, mx.ones((5, 5)))
    with pytest.raises(ValueError, match=r"Subscripts must be letters, but got '!'"):
        mx.einsum("ijk,j!", a, a)                           # also a rank mismatch


def _fd_check(f, args, argnum, seed=0, n=4):
    """Directional finite differences (float64) against grad."""
    g = np.array(mx.grad(f, argnums=argnum)(*args))
    rng = np.random.default_rng(seed)
    x = np.array(args[argnum])
    for _ in range(n):
        d = rng.standard_normal(x.shape)
        eps = 1e-6
        hi = list(args)
        lo = list(args)
        hi[argnum] = mx.array(x + eps * d, mx.float64)
        lo[argnum] = mx.array(x - eps * d, mx.float64)
        fd = (f(*hi).item() - f(*lo).item()) / (2 * eps)
        assert abs(fd - (g * d).sum()) <= 1e-6 * max(1.0, abs(fd))


@pytest.mark.parametrize("sub,shapes", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("ii->i", [(4, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("ij,ij->ij", [(3, 1), (1, 4)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]),
])
def test_grad_finite_differences(sub, shapes):
    args = [mx.array(o, mx.float64) for o in _ops(shapes, 3)]
    w = mx.array(_ops([np.einsum(sub, *_ops(shapes)).shape], 4)[0], mx.float64)

    def f(*xs):
        return (mx.einsum(sub, *xs) * w).sum()
    for k in range(len(args)):
        _fd_check(f, args, k)


def test_jvp():
    a, b = [mx.array(o, mx.float64) for o in _ops([(3, 4), (4, 5)])]
    ta, tb = [mx.array(o, mx.float64) for o in _ops([(3, 4), (4, 5)], 9)]
    _, (t,) = mx.jvp(lambda x, y: mx.einsum("ij,jk->ik", x, y), [a, b], [ta, tb])
    want = np.array(ta) @ np.array(b) + np.array(a) @ np.array(tb)
    np.testing.assert_allclose(np.array(t), want, rtol=1e-12)


@pytest.mark.parametrize("sub,shapes,axes", [
    ("ij,jk->ik", [(3, 4), (4, 5)], (0, None)),
    ("ij,jk->ik", [(3, 4), (4, 5)], (1, 1)),
    ("ii->i", [(3, 3)], (2,)),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], (None, 0, 1)),
])
def test_vmap_matches_loop(sub, shapes, axes):
    V = 3
    rng = np.random.default_rng(5)
    xs = []
    for s, ax in zip(shapes, axes):
        x = rng.standard_normal(s if ax is None else s[:ax] + (V,) + s[ax:])
        xs.append(x)
    got = mx.vmap(lambda *a: mx.einsum(sub, *a), in_axes=axes)(*[mx.array(x, mx.float64) for x in xs])
    for v in range(V):
        one = [x if ax is None else np.take(x, v, axis=ax) for x, ax in zip(xs, axes)]
        np.testing.assert_allclose(np.array(got[v]), np.einsum(sub, *one), rtol=1e-12,
                                   atol=1e-12)


def test_recorded_programs_replay_correctly():
    """A second call with the same subscripts/shapes/dtypes replays the recorded ops: new
    values, the same array passed twice, then two different arrays."""
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    for _ in range(2):
        X, Y = mx.array(x, mx.float64), mx.array(y, mx.float64)
        np.testing.assert_allclose(np.array(mx.einsum("ij,jk->ik", X, X)), x @ x, rtol=1e-12)
        np.testing.assert_allclose(np.array(mx.einsum("ij,jk->ik", X, Y)), x @ y, rtol=1e-12)
        np.testing.assert_allclose(np.array(mx.einsum("ii,jj", X, Y)),
                                   np.trace(x) * np.trace(y), rtol=1e-12)
        x, y = y, x
