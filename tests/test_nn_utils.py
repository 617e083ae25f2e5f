"""nn.value_and_grad against finite differences, nn.average_gradients and the sharded
layers on the single-process group, nn.quantize's module selection, a short training
loop, and BatchNorm's running statistics against numpy."""
import numpy as np
import pytest

import mlxc.core as mx
import mlxc.nn as nn
from mlxc.nn.layers.distributed import shard_inplace, shard_linear
from mlxc.utils import tree_flatten, tree_map


def _mlp(seed=0):
    mx.random.seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))


def test_value_and_grad_matches_finite_differences():
    model = _mlp()
    x = mx.array(np.random.RandomState(0).standard_normal((4, 3)).astype(np.float32))

    def loss(inp):
        return (model(inp) ** 2).sum()

    value, grads = nn.value_and_grad(model, loss)(x)
    base = {k: np.array(v, dtype=np.float64) for k, v in tree_flatten(model.parameters())}

    def loss64(params):
        h = np.tanh(np.array(x, np.float64) @ params["layers.0.weight"].T + params["layers.0.bias"])
        y = h @ params["layers.2.weight"].T + params["layers.2.bias"]
        return (y**2).sum()

    assert abs(value.item() - loss64(base)) < 1e-4
    eps = 1e-6
    for name, g in tree_flatten(grads):
        fd = np.zeros_like(base[name])
        for idx in np.ndindex(*fd.shape):
            up = {k: v.copy() for k, v in base.items()}
            down = {k: v.copy() for k, v in base.items()}
            up[name][idx] += eps
            down[name][idx] -= eps
            fd[idx] = (loss64(up) - loss64(down)) / (2 * eps)
        np.testing.assert_allclose(np.array(g), fd, rtol=1e-3, atol=1e-4, err_msg=name)


def test_value_and_grad_skips_frozen_parameters():
    model = _mlp()
    model.layers[0].freeze()
    _, grads = nn.value_and_grad(model, lambda x: model(x).sum())(mx.ones((2, 3)))
    assert sorted(k for k, _ in tree_flatten(grads)) == ["layers.2.bias", "layers.2.weight"]


def test_training_loop_reduces_loss():
    model = _mlp(1)
    rs = np.random.RandomState(1)
    x = mx.array(rs.standard_normal((32, 3)).astype(np.float32))
    y = mx.array(rs.standard_normal((32, 2)).astype(np.float32))
    step = nn.value_and_grad(model, lambda a, b: ((model(a) - b) ** 2).mean())
    first = None
    for _ in range(30):
        value, grads = step(x, y)
        first = value.item() if first is None else first
        model.update(tree_map(lambda p, g: p - 0.1 * g, model.trainable_parameters(), grads))
    assert value.item() < 0.8 * first


def test_average_gradients_single_process_is_identity():
    grads = {"a": mx.ones((3,)), "b": [mx.zeros((2, 2))]}
    assert nn.average_gradients(grads) is grads
    assert nn.average_gradients(grads, all_reduce_size=0) is grads


def test_sharded_linears_on_one_process_match_linear():
    mx.random.seed(3)
    lin = nn.Linear(6, 4)
    x = mx.array(np.random.RandomState(2).standard_normal((3, 6)).astype(np.float32))
    want = np.array(lin(x))
    for sharding in ("all-to-sharded", "sharded-to-all"):
        sl = shard_linear(lin, sharding)
        np.testing.assert_allclose(np.array(sl(x)), want, rtol=1e-6, atol=1e-6)
        g = mx.grad(lambda v: sl(v).sum())(x)
        np.testing.assert_allclose(np.array(g), np.array(lin.weight).sum(0)[None].repeat(3, 0),
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Sharding type sharding='rows' not supported"):
        shard_linear(lin, "rows")
    # Fractional segments: a fused weight split per segment (one process keeps it all).
    m = nn.Linear(4, 6)
    before = np.array(m.weight)
    shard_inplace(m, "all-to-sharded", segments=[0.5])
    np.testing.assert_array_equal(np.array(m.weight), before)


def test_fully_shard_single_process():
    model = _mlp()
    assert nn.fully_shard(model) is model
    x = mx.ones((2, 3))
    want = np.array(model(x))
    wrapped = nn.FullyShardedModule(_mlp())
    np.testing.assert_allclose(np.array(wrapped(x)), want, rtol=1e-6)
    names = sorted(k for k, _ in tree_flatten(wrapped.parameters()))
    assert names == ["module.layers.0.bias", "module.layers.0.weight",
                     "module.layers.2.bias", "module.layers.2.weight"]
    _, grads = nn.value_and_grad(wrapped, lambda v: wrapped(v).sum())(x)
    _, plain = nn.value_and_grad(model, lambda v: model(v).sum())(x)
    for (k, g), (_, p) in zip(tree_flatten(grads), tree_flatten(plain)):
        np.testing.assert_allclose(np.array(g), np.array(p), rtol=1e-5, err_msg=k)


def test_quantize_selects_modules_by_predicate():
    if not hasattr(mx, "quantize"):
        pytest.skip("mlxc.core lacks quantize (built on another branch)")
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.Embedding(8, 64))
    nn.quantize(model, class_predicate=lambda path, m: path != "layers.2" and
                hasattr(m, "to_quantized"))
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["QuantizedLinear", "ReLU", "Linear", "QuantizedEmbedding"]
    # Quantized weights are frozen; the bias stays trainable after unfreeze.
    model.unfreeze()
    q = model.layers[0]
    assert q.weight.dtype == mx.uint32 and q.group_size == 64 and q.bits == 4
    nn.quantize(model, class_predicate=lambda p, m: {"group_size": 32, "bits": 8}
                if isinstance(m, nn.Linear) else False)
    assert model.layers[2].bits == 8 and model.layers[2].group_size == 32


def test_batchnorm_running_statistics_match_numpy():
    rs = np.random.RandomState(4)
    xs = [rs.standard_normal((6, 3)).astype(np.float32) * s + s for s in (1.0, 2.0, 3.0)]
    bn = nn.BatchNorm(3, momentum=0.2)
    mean, var = np.zeros(3), np.ones(3)
    for x in xs:
        y = bn(mx.array(x))
        ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
        np.testing.assert_allclose(np.array(y), ref, rtol=1e-4, atol=1e-5)
        mean = 0.8 * mean + 0.2 * x.mean(0)
        var = 0.8 * var + 0.2 * x.var(0, ddof=1)
    np.testing.assert_allclose(np.array(bn.running_mean), mean, rtol=1e-5)
    np.testing.assert_allclose(np.array(bn.running_var), var, rtol=1e-5)
    assert sorted(k for k, _ in tree_flatten(bn.trainable_parameters())) == ["bias", "weight"]
    bn.eval()
    x = xs[0]
    np.testing.assert_allclose(np.array(bn(mx.array(x))), (x - mean) / np.sqrt(var + 1e-5),
                               rtol=1e-4, atol=1e-5)
