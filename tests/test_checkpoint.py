"""mx.checkpoint: the gradient of a checkpointed function equals the plain one
and central finite differences (float64), it composes with vmap and higher
order grads, and it really lowers peak memory (intermediates are recomputed in
the backward pass instead of being kept)."""
import numpy as np
import pytest

import mlxc.core as mx


def block(x, w):
    return mx.tanh(x @ w) * mx.sin(x) + x


def model(x, w, ck):
    b = mx.checkpoint(block) if ck else block
    for _ in range(3):
        x = b(x, w)
    return mx.sum(x * x)


def _data(seed):
    rng = np.random.default_rng(seed)
    x = mx.array(rng.standard_normal((4, 5)), dtype=mx.float64)
    w = mx.array(rng.standard_normal((5, 5)) * 0.3, dtype=mx.float64)
    return rng, x, w


def test_grad_equals_plain():
    _, x, w = _data(0)
    gx, gw = mx.grad(lambda x, w: model(x, w, True), argnums=(0, 1))(x, w)
    px, pw = mx.grad(lambda x, w: model(x, w, False), argnums=(0, 1))(x, w)
    np.testing.assert_allclose(np.array(gx), np.array(px), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.array(gw), np.array(pw), rtol=1e-13, atol=1e-13)


# MLX 0.32.4's float64 gradient here is off by ~2e-3 relative (float32-accurate paths).
@pytest.mark.mlxc_only
def test_grad_matches_finite_differences():
    rng, x, w = _data(0)
    gx, gw = mx.grad(lambda x, w: model(x, w, True), argnums=(0, 1))(x, w)
    # central differences along a random direction
    for g, which in ((gx, 0), (gw, 1)):
        base = [np.array(x), np.array(w)]
        d = rng.standard_normal(base[which].shape)
        eps = 1e-6
        vals = []
        for s in (1, -1):
            args = [mx.array(b, dtype=mx.float64) for b in base]
            args[which] = mx.array(base[which] + s * eps * d, dtype=mx.float64)
            vals.append(model(*args, False).item())
        fd = (vals[0] - vals[1]) / (2 * eps)
        assert abs(float(np.sum(np.array(g) * d)) - fd) < 1e-6 * max(1.0, abs(fd))


# MLX 0.32.4: "[Primitive::jvp] Not implemented for Depends" (the checkpoint node).
@pytest.mark.mlxc_only
def test_value_and_second_order_and_vmap():
    rng = np.random.default_rng(1)
    x = mx.array(rng.standard_normal((3, 4)), dtype=mx.float64)
    w = mx.array(rng.standard_normal((4, 4)) * 0.3, dtype=mx.float64)
    assert model(x, w, True).item() == pytest.approx(model(x, w, False).item(), rel=1e-14)
    # Hessian-vector product through the checkpoint equals the plain one
    v = mx.array(rng.standard_normal((3, 4)), dtype=mx.float64)
    hv = [mx.jvp(mx.grad(lambda x: model(x, w, ck)), [x], [v])[1][0] for ck in (True, False)]
    np.testing.assert_allclose(np.array(hv[0]), np.array(hv[1]), rtol=1e-12, atol=1e-12)
    # per-example gradients under vmap against a Python loop
    g = mx.vmap(mx.grad(lambda xi: model(xi[None], w, True)))(x)
    ref = np.stack([np.array(mx.grad(lambda xi: model(xi[None], w, False))(x[i])) for i in range(3)])
    np.testing.assert_allclose(np.array(g), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.mlxc_only
def test_checkpoint_lowers_peak_memory():
    def chain(x):
        for _ in range(8):
            x = mx.sin(x) * 1.01
        return x

    def loss(x, ck):
        f = mx.checkpoint(chain) if ck else chain
        for _ in range(6):
            x = f(x)
        return mx.sum(x)

    x = mx.random.normal((1 << 18,), key=mx.random.key(0))
    peaks, grads = {}, {}
    for ck in (False, True):
        mx.eval(x)
        mx.clear_cache()
        mx.reset_peak_memory()
        g = mx.grad(lambda x: loss(x, ck))(x)
        mx.eval(g)
        peaks[ck] = mx.get_peak_memory()
        grads[ck] = np.array(g)
    np.testing.assert_array_equal(grads[True], grads[False])
    # 48 kept intermediates of 1 MiB without, about one block's worth with
    assert peaks[True] < 0.5 * peaks[False], peaks
