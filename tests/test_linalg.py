"""mx.linalg: values against numpy.linalg in float64 (tight) and float32, batches,
the transform rules (finite differences in float64, the transpose identity, vmap
against a Python loop, Hessian-vector products) and bad input (NaN/Inf, singular,
non-positive-definite, non-square, 0x0, mismatched batches, wrong dtypes)."""
import math

import numpy as np
import pytest

import mlxc.core as mx
from mlxc.core import linalg
from transform_oracles import (A, assert_close, check_jvp, check_transpose, check_vjp,
                               fd_jacobian, vmap_reference)

pytestmark = pytest.mark.mlxc_only   # float64 LAPACK, gradients and errors beyond MLX

LA = mx.linalg
R = np.random.default_rng(7)


def rand(*shape):
    return R.standard_normal(shape)


def spd(*shape):
    """Symmetric positive definite matrices (batched over leading dims)."""
    x = R.standard_normal(shape)
    n = shape[-1]
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def well(*shape):
    """Well-conditioned general matrices (diagonally shifted)."""
    return R.standard_normal(shape) + 3 * np.eye(shape[-1])


def npy(x):
    return np.array(x)


def close(got, want, tol=1e-12):
    got, want = np.asarray(got, dtype=np.complex128), np.asarray(want, dtype=np.complex128)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    err = float(np.abs(got - want).max()) if want.size else 0.0
    assert err <= tol * scale, f"max error {err:.3e} > {tol:.1e} * {scale:.3g}"


def test_namespace():
    assert mx.linalg is linalg
    for name in ("norm", "cross", "cholesky", "cholesky_inv", "inv", "tri_inv", "solve",
                 "solve_triangular", "qr", "svd", "eigh", "eigvalsh", "eig", "eigvals",
                 "det", "slogdet", "lu", "lu_factor", "pinv"):
        assert callable(getattr(linalg, name)), name


# ------------------------------------------------------------------ values (float64, tight)

@pytest.mark.parametrize("batch", [(), (2, 3)])
def test_values_float64(batch):
    a, s, b = well(*batch, 5, 5), spd(*batch, 5, 5), rand(*batch, 5, 2)
    ma, ms, mb = A(a), A(s), A(b)
    close(LA.inv(ma), np.linalg.inv(a))
    close(LA.solve(ma, mb), np.linalg.solve(a, b))
    close(LA.cholesky(ms), np.linalg.cholesky(s))
    close(LA.cholesky(ms, upper=True), np.swapaxes(np.linalg.cholesky(s), -1, -2))
    close(LA.cholesky_inv(LA.cholesky(ms)), np.linalg.inv(s))
    close(LA.cholesky_inv(LA.cholesky(ms, upper=True), upper=True), np.linalg.inv(s))
    close(LA.tri_inv(ma), np.linalg.inv(np.tril(a)))
    close(LA.tri_inv(ma, upper=True), np.linalg.inv(np.triu(a)))
    close(LA.solve_triangular(ma, mb), np.linalg.solve(np.tril(a), b))
    close(LA.solve_triangular(ma, mb, upper=True), np.linalg.solve(np.triu(a), b))
    close(LA.det(ma), np.linalg.det(a))
    sign, logabs = LA.slogdet(ma)
    close(sign, np.linalg.slogdet(a)[0])
    close(logabs, np.linalg.slogdet(a)[1])
    w, v = LA.eigh(ms)
    close(w, np.linalg.eigh(s)[0])
    close(npy(v) @ (npy(w)[..., None] * np.swapaxes(npy(v), -1, -2)), s)
    close(LA.eigvalsh(ms, UPLO="U"), np.linalg.eigvalsh(s, UPLO="U"))
    u, sv, vt = LA.svd(ma)
    close(sv, np.linalg.svd(a)[1])
    close((npy(u) * npy(sv)[..., None, :]) @ npy(vt), a)
    close(LA.svd(ma, compute_uv=False), np.linalg.svd(a, compute_uv=False))
    q, r = LA.qr(ma)
    close(npy(q) @ npy(r), a)
    close(np.swapaxes(npy(q), -1, -2) @ npy(q), np.broadcast_to(np.eye(5), q.shape))
    assert np.allclose(np.tril(npy(r), -1), 0)
    close(LA.pinv(ma), np.linalg.pinv(a), 1e-11)
    p, l, uu = LA.lu(ma)
    lu_prod = npy(l) @ npy(uu)
    close(np.take_along_axis(lu_prod, npy(p).astype(np.int64)[..., None], axis=-2), a)
    lu_, piv = LA.lu_factor(ma)
    assert piv.dtype == mx.uint32 and p.dtype == mx.uint32
    close(np.triu(npy(lu_)), npy(uu))
    w, v = LA.eig(ma)
    assert w.dtype == mx.complex64 and v.dtype == mx.complex64
    close(np.sort_complex(npy(w).ravel()), np.sort_complex(np.linalg.eigvals(a).ravel()), 1e-5)
    close(a.astype(complex) @ npy(v), npy(v) * npy(w)[..., None, :], 1e-5)
    close(LA.eigvals(ma), npy(w), 1e-6)


@pytest.mark.parametrize("shape", [(6, 3), (3, 6)])
def test_rectangular(shape):
    a = rand(*shape)
    ma = A(a)
    q, r = LA.qr(ma)
    k = min(shape)
    assert q.shape == (shape[0], k) and r.shape == (k, shape[1])
    close(npy(q) @ npy(r), a)
    u, s, vt = LA.svd(ma)
    assert u.shape == (shape[0],) * 2 and vt.shape == (shape[1],) * 2
    close(s, np.linalg.svd(a)[1])
    close(npy(u)[:, :k] * npy(s) @ npy(vt)[:k], a)
    close(LA.pinv(ma), np.linalg.pinv(a), 1e-11)
    p, l, uu = LA.lu(ma)
    assert l.shape == (shape[0], k) and uu.shape == (k, shape[1])
    close((npy(l) @ npy(uu))[npy(p)], a)


def test_float32_and_views():
    a = well(4, 4).astype(np.float32)
    ma = mx.array(a)
    assert LA.inv(ma).dtype == mx.float32
    close(LA.inv(ma), np.linalg.inv(a.astype(np.float64)), 1e-5)
    # non-contiguous input (a transposed view) is read through its strides
    close(LA.inv(A(a).T), np.linalg.inv(a.T.astype(np.float64)))
    close(LA.solve(A(a)[::2, ::2], A(np.ones(2))), np.linalg.solve(a[::2, ::2], np.ones(2)), 1e-6)
    b = rand(2, 4, 3)
    close(LA.svd(mx.swapaxes(A(b), 0, 1), compute_uv=False),
          np.linalg.svd(np.swapaxes(b, 0, 1), compute_uv=False))


def test_solve_broadcasting_and_vectors():
    a, b = well(2, 1, 3, 3), rand(4, 3, 2)
    close(LA.solve(A(a), A(b)), np.linalg.solve(a, b))
    v = rand(3)
    close(LA.solve(A(a[0, 0]), A(v)), np.linalg.solve(a[0, 0], v))
    close(LA.solve(A(a), A(v)), np.linalg.solve(a, v[:, None])[..., 0])   # batched a, 1-d b


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norms(ord):
    a = rand(3, 4, 5)
    close(LA.norm(A(a), ord=ord, axis=(1, 2)), np.linalg.norm(a, ord=ord, axis=(1, 2)))
    close(LA.norm(A(a), ord=ord, axis=(2, 0), keepdims=True),
          np.linalg.norm(a, ord=ord, axis=(2, 0), keepdims=True))
    close(LA.norm(A(a[0]), ord=ord), np.linalg.norm(a[0], ord=ord))


@pytest.mark.parametrize("ord", [None, 0, 1, 2, 3, 0.5, math.inf, -math.inf, -1])
def test_vector_norms(ord):
    a = rand(3, 4)
    close(LA.norm(A(a), ord=ord, axis=1), np.linalg.norm(a, ord=ord, axis=1))
    close(LA.norm(A(a), ord=ord, axis=0, keepdims=True),
          np.linalg.norm(a, ord=ord, axis=0, keepdims=True))
    close(LA.norm(A(a[0]), ord=ord), np.linalg.norm(a[0], ord=ord))


def test_norm_defaults_and_dtypes():
    a = rand(2, 3, 4)
    close(LA.norm(A(a)), np.sqrt((a * a).sum()))
    assert LA.norm(mx.ones((2, 2), dtype=mx.int32)).dtype == mx.float32
    assert LA.norm(mx.ones((2, 2), dtype=mx.float16)).dtype == mx.float16
    c = np.array([[1 + 2j, 3], [4, 5j]], dtype=np.complex64)
    n = LA.norm(mx.array(c))
    assert n.dtype == mx.float32
    close(n, np.linalg.norm(c), 1e-6)
    close(LA.norm(mx.array(c), axis=0), np.linalg.norm(c, axis=0), 1e-6)


def test_cross():
    a, b = rand(4, 3), rand(4, 3)
    close(LA.cross(A(a), A(b)), np.cross(a, b))
    close(LA.cross(A(a.T), A(b.T), axis=0), np.cross(a, b).T)
    a2 = rand(4, 2)
    close(LA.cross(A(a2), A(b)), np.cross(np.pad(a2, ((0, 0), (0, 1))), b))


# ------------------------------------------------------------------ transform rules

def _sq_cols(fn):
    """Eigen/singular vectors have a free sign per column: compare their squares."""
    def g(*xs):
        outs = list(fn(*xs))
        return [o * o if o.ndim >= 2 else o for o in outs]
    return g


RULE_CASES = [
    ("solve", LA.solve, [well(3, 3), rand(3, 2)]),
    ("solve_vec", LA.solve, [well(3, 3), rand(3)]),
    ("solve_bcast", LA.solve, [well(2, 3, 3), rand(3, 2)]),
    ("solve_triangular", LA.solve_triangular, [well(3, 3), rand(3, 2)]),
    ("solve_triangular_upper", lambda a, b: LA.solve_triangular(a, b, upper=True),
     [well(3, 3), rand(3, 2)]),
    ("inv", LA.inv, [well(3, 3)]),
    ("inv_batched", LA.inv, [well(2, 3, 3)]),
    ("cholesky", LA.cholesky, [spd(3, 3)]),
    ("cholesky_upper", lambda a: LA.cholesky(a, upper=True), [spd(3, 3)]),
    ("cholesky_inv", LA.cholesky_inv, [np.linalg.cholesky(spd(3, 3))]),
    ("tri_inv", LA.tri_inv, [well(3, 3)]),
    ("tri_inv_upper", lambda a: LA.tri_inv(a, upper=True), [well(3, 3)]),
    ("det", LA.det, [well(3, 3)]),
    ("slogdet", LA.slogdet, [well(3, 3)]),
    ("eigh", _sq_cols(LA.eigh), [spd(3, 3)]),
    ("eigh_upper", _sq_cols(lambda a: LA.eigh(a, UPLO="U")), [spd(3, 3)]),
    ("eigvalsh", LA.eigvalsh, [spd(3, 3)]),
    ("svd", _sq_cols(LA.svd), [rand(3, 3)]),
    ("svd_values", lambda a: LA.svd(a, compute_uv=False), [rand(4, 3)]),
    ("qr", LA.qr, [rand(3, 3)]),
    ("qr_tall", LA.qr, [rand(4, 2)]),
    ("qr_wide", LA.qr, [rand(2, 4)]),
    ("lu_factor", lambda a: LA.lu_factor(a)[0], [rand(3, 3)]),
    ("lu", lambda a: LA.lu(a)[1:], [rand(3, 3)]),
    ("lu_factor_tall", lambda a: LA.lu_factor(a)[0], [rand(5, 3)]),
    ("lu_factor_wide", lambda a: LA.lu_factor(a)[0], [rand(3, 5)]),
    ("lu_wide", lambda a: LA.lu(a)[1:], [rand(2, 4)]),
    ("pinv_tall", LA.pinv, [rand(4, 3)]),
    ("pinv_wide", LA.pinv, [rand(2, 4)]),
    ("norm_2", lambda a: LA.norm(a, ord=2), [rand(3, 4)]),
    ("norm_nuc", lambda a: LA.norm(a, ord="nuc"), [rand(3, 4)]),
    ("norm_-2", lambda a: LA.norm(a, ord=-2), [rand(3, 3)]),
    ("norm_fro", lambda a: LA.norm(a, ord="fro"), [rand(3, 4)]),
    ("norm_inf", lambda a: LA.norm(a, ord=math.inf), [rand(3, 4)]),
    ("norm_1", lambda a: LA.norm(a, ord=1), [rand(3, 4)]),
    ("norm_vec_3", lambda a: LA.norm(a, ord=3, axis=1), [rand(3, 4)]),
    ("cross", LA.cross, [rand(2, 3), rand(2, 3)]),
]
IDS = [c[0] for c in RULE_CASES]


@pytest.mark.parametrize("name,fn,xs", RULE_CASES, ids=IDS)
def test_vjp_finite_differences(name, fn, xs):
    check_vjp(fn, xs, np.random.default_rng(1), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,fn,xs", RULE_CASES, ids=IDS)
def test_jvp_finite_differences(name, fn, xs):
    check_jvp(fn, xs, np.random.default_rng(2), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,fn,xs", RULE_CASES, ids=IDS)
def test_transpose_identity(name, fn, xs):
    check_transpose(fn, xs, np.random.default_rng(3), rtol=1e-10)


VMAP_CASES = [
    ("solve", LA.solve, [well(3, 3, 3), rand(3, 3, 2)], (0, 0)),
    ("solve_shared_a", LA.solve, [well(3, 3), rand(3, 2, 3)], (None, 2)),
    ("solve_shared_b", LA.solve, [np.moveaxis(well(3, 3, 3), 0, 2), rand(3, 2)], (2, None)),
    ("solve_triangular", lambda a, b: LA.solve_triangular(a, b, upper=True),
     [well(3, 3, 3), rand(3, 3)], (0, 1)),
    ("inv", LA.inv, [well(3, 3, 3)], (1,)),
    ("cholesky", LA.cholesky, [spd(3, 3, 3)], (0,)),
    ("tri_inv", LA.tri_inv, [well(3, 3, 3)], (0,)),
    ("eigh", LA.eigh, [spd(3, 3, 3)], (0,)),
    ("eigvalsh", LA.eigvalsh, [spd(3, 3, 3)], (0,)),
    ("eig", LA.eig, [rand(3, 3, 3)], (0,)),
    ("svd", LA.svd, [rand(3, 4, 3)], (0,)),
    ("qr", LA.qr, [rand(3, 4, 3)], (2,)),
    ("lu", LA.lu, [rand(3, 3, 3)], (0,)),
    ("lu_factor", LA.lu_factor, [rand(3, 3, 3)], (0,)),
    ("slogdet", LA.slogdet, [rand(3, 3, 3)], (0,)),
    ("det", LA.det, [rand(3, 3, 3)], (0,)),
    ("pinv", LA.pinv, [rand(3, 4, 2)], (0,)),
    ("norm_nuc", lambda a: LA.norm(a, ord="nuc"), [rand(3, 4, 2)], (0,)),
    ("cross", LA.cross, [rand(2, 3), rand(2, 3, 3)], (None, 1)),
    ("grad_solve", mx.grad(lambda a, b: mx.sum(LA.solve(a, b))),
     [well(3, 3, 3), rand(3, 2)], (0, None)),
    ("grad_cholesky", mx.grad(lambda a: mx.sum(mx.sin(LA.cholesky(a)))), [spd(3, 3, 3)], (0,)),
]


@pytest.mark.parametrize("name,fn,xs,axes", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_matches_loop(name, fn, xs, axes):
    args = [A(x) for x in xs]
    got = mx.vmap(fn, in_axes=axes)(*args)
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    want = vmap_reference(fn, args, list(axes), 0, 3)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        close(g, w, 1e-13)


@pytest.mark.parametrize("which", ["solve", "cholesky"])
def test_hessian_vector_product(which):
    a, v, b = A(spd(4, 4)), A(rand(4, 4)), A(rand(4))
    if which == "solve":
        def f(x):
            return mx.sum(LA.solve(x, b) ** 2)
    else:
        def f(x):
            return mx.sum(mx.sin(LA.cholesky(x)))
    hvp = mx.jvp(mx.grad(f), [a], [v])[1][0]            # forward over reverse
    h = 1e-5
    fd = (npy(mx.grad(f)(a + h * v)) - npy(mx.grad(f)(a - h * v))) / (2 * h)
    assert_close(npy(hvp), fd, rtol=1e-6, atol=1e-8, what="hvp")
    rev = mx.vjp(mx.grad(f), [a], [v])[1][0]           # reverse over reverse (H symmetric)
    assert_close(npy(rev), fd, rtol=1e-6, atol=1e-8, what="hvp (reverse)")


def test_grad_of_solve_workload():
    """The benchmark's gradient: d/dA sum(solve(A A^T + n I, b))."""
    n = 6
    a, b = A(rand(n, n)), A(rand(n, 2))

    def f(x):
        return mx.sum(LA.solve(x @ x.T + n * mx.eye(n, dtype=mx.float64), b))
    g = mx.grad(f)(a)
    J, _ = fd_jacobian(f, [npy(a)])
    assert_close(npy(g).ravel(), J.ravel(), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ bad input

NAN = np.array([[1.0, 2.0], [np.nan, 1.0]])
INF = np.array([[np.inf, 2.0], [0.5, 1.0]])


@pytest.mark.parametrize("bad", [NAN, INF], ids=["nan", "inf"])
@pytest.mark.parametrize("fn", ["inv", "cholesky", "svd", "eigh", "eig", "eigvals",
                                "eigvalsh", "qr", "lu_factor", "det", "slogdet", "pinv",
                                "tri_inv"])
def test_non_finite_input_gives_nan(fn, bad):
    outs = getattr(LA, fn)(mx.array(bad))
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    floats = [npy(o) for o in outs if o.dtype != mx.uint32]
    assert any(np.isnan(f).any() for f in floats)


def test_non_finite_in_unread_triangle_is_ignored():
    x = np.array([[4.0, np.nan], [2.0, 3.0]])
    close(LA.cholesky(mx.array(x)), np.linalg.cholesky(np.tril(x) + np.tril(x, -1).T), 1e-6)
    close(LA.eigvalsh(mx.array(x)), np.linalg.eigvalsh(np.tril(x) + np.tril(x, -1).T), 1e-6)


def test_batch_with_one_nan_matrix():
    a = well(3, 3, 3)
    a[1, 0, 0] = np.nan
    out = npy(LA.inv(A(a)))
    assert np.isnan(out[1]).all()
    close(out[[0, 2]], np.linalg.inv(a[[0, 2]]))


@pytest.mark.parametrize("call,msg", [
    (lambda: LA.inv(mx.zeros((3, 3))), r"\[linalg::inv\] Matrix is singular"),
    (lambda: LA.inv(mx.stack([mx.eye(3), mx.zeros((3, 3))])), r"matrix 1 of the batch"),
    (lambda: LA.solve(mx.zeros((3, 3)), mx.ones((3,))), r"\[linalg::solve\] Matrix is singular"),
    (lambda: LA.solve_triangular(mx.zeros((2, 2)), mx.ones((2,))), r"solve_triangular"),
    (lambda: LA.tri_inv(mx.zeros((2, 2))), r"\[linalg::tri_inv\] Matrix is singular"),
    (lambda: LA.cholesky(-mx.eye(3)), r"not positive definite"),
])
def test_failures_raise(call, msg):
    with pytest.raises(RuntimeError, match=msg):
        mx.eval(call())


def test_singular_without_error():
    sign, logabs = LA.slogdet(mx.zeros((3, 3)))
    assert float(sign) == 0 and float(logabs) == -math.inf
    assert float(LA.det(mx.zeros((3, 3)))) == 0
    close(LA.pinv(A(np.ones((3, 3)))), np.linalg.pinv(np.ones((3, 3))))
    close(LA.svd(mx.zeros((3, 3)), compute_uv=False), np.zeros(3))


@pytest.mark.parametrize("fn", ["inv", "cholesky", "svd", "eigh", "eig", "eigvals", "qr",
                                "lu", "lu_factor", "det", "slogdet", "pinv", "tri_inv",
                                "cholesky_inv", "eigvalsh"])
def test_empty_matrices(fn):
    outs = getattr(LA, fn)(mx.zeros((0, 0)))
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    mx.eval(*outs)
    if fn == "det":
        assert float(outs[0]) == 1.0
    elif fn == "slogdet":
        assert float(outs[0]) == 1.0 and float(outs[1]) == 0.0
    else:
        assert all(o.size == 0 for o in outs)
    assert LA.inv(mx.zeros((0, 3, 3))).shape == (0, 3, 3)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: LA.inv(mx.ones((2, 3))), ValueError, "square"),
    (lambda: LA.cholesky(mx.ones((2, 3))), ValueError, "square"),
    (lambda: LA.eigh(mx.ones((2, 3))), ValueError, "square"),
    (lambda: LA.det(mx.ones((2, 3))), ValueError, r"\[linalg::det\]"),
    (lambda: LA.inv(mx.ones((3,))), ValueError, ">= 2 dimensions"),
    (lambda: LA.inv(mx.eye(3).astype(mx.int32)), ValueError, "float32 or float64"),
    (lambda: LA.svd(mx.eye(3).astype(mx.float16)), ValueError, "float32 or float64"),
    (lambda: LA.solve(mx.ones((2, 3, 3)), mx.ones((4, 3, 1))), ValueError, "broadcast"),
    (lambda: LA.solve(mx.ones((3, 3)), mx.ones((2,))), ValueError, "must match"),
    (lambda: LA.eigh(mx.eye(3), UPLO="X"), ValueError, "UPLO"),
    (lambda: LA.cross(mx.ones((4,)), mx.ones((4,))), ValueError, "size 2 or 3"),
    (lambda: LA.norm(mx.ones((2, 2)), ord="x"), ValueError, "Invalid ord"),
    (lambda: LA.norm(mx.ones((2, 2)), ord=3), ValueError, "Invalid ord"),
    (lambda: LA.norm(mx.ones((2, 2, 2)), ord=2), ValueError, "too many axes"),
    (lambda: LA.norm(mx.ones((2,)), ord="fro"), ValueError, "only supported for matrices"),
    (lambda: LA.inv(mx.eye(2), stream=mx.gpu), ValueError, "gpu"),
])
def test_argument_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_results_independent_of_thread_count(tmp_path):
    """A batch is spread over the pool, one LAPACK call per matrix: same bits at any
    thread count."""
    import subprocess
    import sys
    script = (
        "import sys, numpy as np, mlxc.core as mx\n"
        "a = np.random.default_rng(0).standard_normal((8, 40, 40)) + 5 * np.eye(40)\n"
        "x = mx.array(a, dtype=mx.float64)\n"
        "outs = [mx.linalg.inv(x), mx.linalg.svd(x)[1], mx.linalg.eigh(x @ mx.swapaxes(x, 1, 2))[0],\n"
        "        mx.linalg.qr(x)[1], mx.linalg.solve(x, x[:, :, :3])]\n"
        "np.savez(sys.argv[1], *[np.array(o) for o in outs])\n")
    from helpers import CHILD_CWD, child_env
    res = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}.npz"
        subprocess.run([sys.executable, "-c", script, str(out)],
                       env=child_env(MLXC_NUM_THREADS=threads), cwd=CHILD_CWD, check=True)
        res.append(np.load(out))
    for k in res[0].files:
        np.testing.assert_array_equal(res[0][k], res[1][k])
