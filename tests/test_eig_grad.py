"""vjp/jvp of mx.linalg.eig and eigvals (MLX has none): finite differences of real
losses of the eigenvalues and of gauge-invariant functions of the eigenvectors, for
real and complex-conjugate spectra; jvp against numpy's eigvals."""
import numpy as np
import pytest

import mlxc.core as mx

MATS = [np.array([[2.0, 1.0, 0.3], [0.5, 3.0, 0.2], [0.1, 0.4, -1.0]]),    # real spectrum
        np.array([[0.0, -2.0, 0.3], [1.5, 0.2, 0.1], [0.2, 0.1, 1.0]])]    # a complex pair


def _fd(f, A, d, eps=1e-3):
    return (f(mx.array(A + eps * d)).item() - f(mx.array(A - eps * d)).item()) / (2 * eps)


@pytest.mark.parametrize("A", MATS)
def test_eig_grads_finite_differences(A):
    rng = np.random.default_rng(0)
    c1, c2 = mx.array(rng.standard_normal(3)), mx.array(rng.standard_normal(3))
    W = mx.array(rng.standard_normal((3, 3)))

    def f_vals(X):
        w = mx.linalg.eigvals(X)
        return (mx.real(w) * c1 + mx.imag(w) * c2).sum()

    def f_vecs(X):
        w, V = mx.linalg.eig(X)
        return ((mx.abs(V) ** 2) * W).sum() + (mx.real(w) * c1).sum()

    for f in (f_vals, f_vecs):
        g = np.array(mx.grad(f)(mx.array(A)))
        for _ in range(3):
            d = rng.standard_normal((3, 3))
            assert abs(_fd(f, A, d) - (g * d).sum()) < 2e-3 * max(1.0, abs(_fd(f, A, d)))
        # jvp of the same loss: its tangent is the directional derivative
        d = rng.standard_normal((3, 3))
        _, (t,) = mx.jvp(f, [mx.array(A)], [mx.array(d, mx.float32)])
        assert abs(t.item() - _fd(f, A, d)) < 2e-3 * max(1.0, abs(t.item()))


@pytest.mark.parametrize("A", MATS)
def test_eigvals_jvp_matches_numpy(A):
    d = np.random.default_rng(1).standard_normal((3, 3))
    _, (t,) = mx.jvp(mx.linalg.eigvals, [mx.array(A)], [mx.array(d, mx.float32)])
    want = (np.linalg.eigvals(A + 1e-6 * d) - np.linalg.eigvals(A - 1e-6 * d)) / 2e-6
    np.testing.assert_allclose(np.sort_complex(np.array(t)), np.sort_complex(want), atol=1e-4)
