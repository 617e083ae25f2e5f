"""mx.random.multivariate_normal: MLX's construction (mean + z @ U diag(sqrt(S)) Vt with z
the normal draws of the same key) checked against numpy's SVD, the sample covariance,
batching, and MLX's errors."""
import numpy as np
import pytest

import mlxc.core as mx


def _cov(n, seed):
    a = np.random.RandomState(seed).randn(n, n)
    return (a @ a.T + np.eye(n)).astype(np.float32)


def _reference(mean, cov, z):
    u, s, vt = np.linalg.svd(cov.astype(np.float64))
    return mean + z.astype(np.float64) @ ((u * np.sqrt(s)) @ vt)


@pytest.mark.parametrize("shape", [(), (4,), (2, 5)])
def test_matches_svd_construction(shape):
    k = mx.random.key(3)
    mean = np.array([1.0, 2.0, 3.0], np.float32)
    cov = _cov(3, 0)
    got = mx.random.multivariate_normal(mx.array(mean), mx.array(cov), shape=shape, key=k)
    assert got.dtype == mx.float32 and got.shape == shape + (3,)
    z = np.array(mx.random.normal(shape + (3,), key=k))
    np.testing.assert_allclose(np.array(got), _reference(mean, cov, z), rtol=2e-5, atol=2e-5)


def test_recorded_mlx_values():
    # MLX 0.32.4: multivariate_normal([1,2,3], A A^T + I (A = RandomState(0).randn(3,3)),
    # shape=(4,), key=key(3)), printed to 7 digits.
    mlx = np.array([[4.3787746, 4.443567, 6.5417833], [1.5756149, 4.128483, 4.970495],
                    [2.0912752, 0.3015164, 2.5952272], [0.18460399, -1.9499116, 2.5136073]])
    got = mx.random.multivariate_normal(mx.array([1.0, 2.0, 3.0]), mx.array(_cov(3, 0)),
                                        shape=(4,), key=mx.random.key(3))
    np.testing.assert_allclose(np.array(got), mlx, rtol=1e-5, atol=1e-5)


def test_sample_covariance():
    cov = _cov(4, 1) / 4
    mean = np.arange(4, dtype=np.float32)
    x = np.array(mx.random.multivariate_normal(mx.array(mean), mx.array(cov), shape=(40000,),
                                               key=mx.random.key(7)), np.float64)
    np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06 * np.abs(cov).max())


def test_batched_mean_and_cov():
    k = mx.random.key(5)
    means = np.random.RandomState(2).randn(2, 3).astype(np.float32)
    covs = np.stack([_cov(3, 3), _cov(3, 4)])
    got = np.array(mx.random.multivariate_normal(mx.array(means), mx.array(covs), key=k))
    z = np.array(mx.random.normal((2, 3), key=k))
    for b in range(2):
        np.testing.assert_allclose(got[b], _reference(means[b], covs[b], z[b]),
                                   rtol=2e-5, atol=2e-5)


def test_global_state_and_float64_cov():
    mx.random.seed(11)
    a = mx.random.multivariate_normal(mx.zeros((3,)), mx.array(_cov(3, 0), mx.float64))
    mx.random.seed(11)
    b = mx.random.multivariate_normal(mx.zeros((3,)), mx.array(_cov(3, 0)))
    assert a.dtype == mx.float32
    assert np.array_equal(np.array(a), np.array(b))


@pytest.mark.parametrize("kwargs, match", [
    (dict(mean=mx.zeros((3,)), cov=mx.eye(3)[0]), "cov must have at least two"),
    (dict(mean=mx.array(1.0), cov=mx.eye(3)), "mean must have at least one"),
    (dict(mean=mx.zeros((2,)), cov=mx.eye(3)), "compatible shapes"),
    (dict(mean=mx.zeros((3,)), cov=mx.zeros((3, 2))), "must be equal"),
    (dict(mean=mx.zeros((3,)), cov=mx.eye(3), dtype=mx.float16), "dtype must be float32"),
    (dict(mean=mx.zeros((2, 3)), cov=mx.eye(3), shape=(4,)), "broadcast"),
])
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mx.random.multivariate_normal(**kwargs, key=mx.random.key(0))
